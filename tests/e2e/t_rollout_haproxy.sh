# Zero downtime through a real HAProxy: four hosts behind it, drain/undrain
# hooks that take each host out of HAProxy (runtime API) while it updates,
# and a bounded stream of requests through HAProxy during a rolling update
# and during a broken release's failure and rollback: not one request fails.
. "$(dirname "$0")/lib.sh"
command -v haproxy >/dev/null || { echo "haproxy is not installed"; exit 77; }
RC_LB_SOCK="$T/haproxy.sock"
rc_fleet 4
for i in 1 2 3 4; do rc_webapp $i; done
LB=$(rc_port)
{
    printf 'global\n    stats socket %s mode 600 level admin\n' "$RC_LB_SOCK"
    printf 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n'
    printf 'frontend fe\n    bind 127.0.0.1:%s\n    default_backend web\n' "$LB"
    printf 'backend web\n    option httpchk GET /health\n    default-server inter 200ms fall 2 rise 2\n'
    for i in 1 2 3 4; do printf '    server host-%s 127.0.0.1:%s check\n' $i "$(cat "$T/agent-$i/port")"; done
} >"$T/haproxy.cfg"
haproxy -c -f "$T/haproxy.cfg" >/dev/null || fail "haproxy config"
rc_bg haproxy haproxy -db -f "$T/haproxy.cfg"
wait_for 5 test -S "$RC_LB_SOCK" || fail "haproxy did not start"
rc_coord_start
for i in 1 2 3 4; do rc_agent_start $i; done
wait_online 10 4 || fail "hosts not online"
make_release v1; make_release v2; make_release v3 broken
expect_exit 0 deploy v1 --batch 100% --soak 500ms --wait
# wait until HAProxy sees every server up
wait_for 10 sh -c "curl -s --max-time 2 http://127.0.0.1:$LB/index.html | grep -q v1" || fail "no traffic through haproxy"
sleep 1

load () {  # load NAME: start the load; stop_load NAME: stop it and check
    rm -f "$T/stop-$1"
    python3 "$(dirname "$0")/loadgen.py" 127.0.0.1 "$LB" /index.html "$T/stop-$1" "$T/load-$1.json" &
    echo $! >"$T/load-$1.pid"
    sleep 0.5
}
stop_load () {
    touch "$T/stop-$1"
    wait_for 10 test -f "$T/load-$1.json" || fail "load generator did not stop"
    cat "$T/load-$1.json"; echo
    python3 -c "import json,sys; d=json.load(open('$T/load-$1.json')); sys.exit(0 if d['failed'] == 0 and d['ok'] > 100 else 1)" \
        || fail "requests failed during $1"
}

load update
expect_exit 0 deploy v2 --batch 1 --soak 1s --wait
sleep 1
stop_load update
python3 -c "import json; d=json.load(open('$T/load-update.json')); assert 'v1' in d['versions'] and 'v2' in d['versions']" \
    || fail "the load did not see both versions"
say "v1 -> v2 with no failed request"

load broken
expect_exit 1 deploy v3 --batch 1 --soak 500ms --health-timeout 2s --wait
sleep 1
stop_load broken
python3 -c "import json; d=json.load(open('$T/load-broken.json')); assert 'v3' not in d['versions']" \
    || fail "a broken release served traffic"
for i in 1 2 3 4; do [ "$(current $i)" = v2 ] || fail "host-$i on '$(current $i)'"; done
say ok
