# Analysis gates without Prometheus: a [check NAME] reading the 5xx share of
# each host's server from a real HAProxy's stats (show stat, hrsp_* deltas
# between two evaluations). Requests flow through HAProxy to two hosts
# whose drain/undrain take them out of it; a healthy release passes, one
# that fails half its requests is failed by the check after batch 1 and
# rolled back (check:lb-5xx, the share in the events). Half, not 20%: an
# evaluation sees ~20 responses, and at 20% one in seventeen runs drew at
# most one 5xx among 21 (0.048, under max 0.05) and passed the bad host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks_lib.sh"
command -v haproxy >/dev/null || { echo "haproxy is not installed"; exit 77; }
RC_LB_SOCK="$T/haproxy.sock"
RC_COORD_EXTRA="
[check lb-5xx]
haproxy_socket = $RC_LB_SOCK
haproxy_backend = web
haproxy_server = {host}
max = 0.05
interval = 1s
failures = 3
min_requests = 10"
rc_fleet 2
for i in 1 2; do rc_metricweb $i; done
LB=$(rc_port)
{
    printf 'global\n    stats socket %s mode 600 level admin\n' "$RC_LB_SOCK"
    printf 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n'
    printf 'frontend fe\n    bind 127.0.0.1:%s\n    default_backend web\n' "$LB"
    printf 'backend web\n    option httpchk GET /health\n    default-server inter 200ms fall 2 rise 2\n'
    for i in 1 2; do printf '    server host-%s 127.0.0.1:%s check\n' $i "$(cat "$T/agent-$i/port")"; done
} >"$T/haproxy.cfg"
haproxy -c -f "$T/haproxy.cfg" >/dev/null || fail "haproxy config"
rc_bg haproxy haproxy -db -f "$T/haproxy.cfg"
wait_for 5 test -S "$RC_LB_SOCK" || fail "haproxy did not start"
rc_coord_start
for i in 1 2; do rc_agent_start $i; done
wait_online 10 2 || fail "hosts not online"
make_release v1; make_release v2; make_rated_release v3 0.5
expect_exit 0 deploy v1 --batch 100% --soak 100ms --wait
wait_for 10 sh -c "curl -s --max-time 2 http://127.0.0.1:$LB/index.html | grep -q v1" || fail "no traffic through haproxy"
load_start "http://127.0.0.1:$LB/index.html"

expect_exit 0 deploy v2 --batch 1 --soak 500ms --check lb-5xx --wait
dep=$(grep -m1 '^d-' "$T/last.out")
[ "$(events_of "$dep" check_passed | grep -c "lb-5xx: value 0 within max 0.05")" = 2 ] \
    || fail "no check_passed for both hosts: $(events_of "$dep" check_passed)"
say "a healthy release passed the HAProxy check"

expect_exit 1 deploy v3 --batch 1 --soak 500ms --check lb-5xx --wait
dep=$(grep -m1 '^d-' "$T/last.out")
[ "$(dep_field "$dep" state)" = rolled_back ] || fail "state $(dep_field "$dep" state)"
[ "$(dep_host_field "$dep" host-1 failure)" = check:lb-5xx ] \
    || { "$RC" events "$dep" --limit 200; fail "host-1 failure '$(dep_host_field "$dep" host-1 failure)'"; }
[ "$(dep_host_field "$dep" host-2 state)" = pending ] || fail "host-2 was touched"
events_of "$dep" host_failed | grep -E "check:lb-5xx: value 0\.[0-9]+ above max 0.05" || fail "no host_failed with the value: $(events_of "$dep" host_failed)"
events_of "$dep" check_failed | grep -q "responses 5xx\|above max" || fail "no check_failed"
wait_for 10 current_is 1 v2 || fail "host-1 serves '$(current 1)'"
say "a release failing half its requests behind HAProxy was rolled back (check:lb-5xx)"
say ok
