# The built-in NGINX provider ([app] lb = nginx): each agent owns an
# upstream include file of a real NGINX (its own prefix and config under
# $T, loopback ports), rewrites it, runs nginx -t and nginx -s reload, and
# waits for the old workers and the connections to its instance; no drain
# hooks. NGINX is told not to retry another server (proxy_next_upstream
# off), so an instance restarted while in rotation shows as failed
# requests. (1) a rolling update under a bounded stream of requests: none
# fails, and `nginx -t` passes at every moment of it; (2) a slow request
# in flight at drain time ends with 200 and the drain lasts until it
# ended; (3) the agent killed (-9) in its drain phase (held open by the
# FAULT=1 hook RC_FAULT_HOLD_DIR) leaves a file nginx -t accepts, and the
# restarted agent puts its server back; (4) an nginx_test that refuses
# fails the step in phase drain with its output, the file and the host as
# they were; (5) negative control: without the provider the same rollout
# loses requests; (6) --check refuses bad keys.
. "$(dirname "$0")/lib.sh"
command -v nginx >/dev/null || { echo "nginx is not installed"; exit 77; }
HERE="$(cd "$(dirname "$0")" && pwd)"
NX="$T/nginx"; mkdir -p "$NX/tmp" "$NX/logs"
LB=$(rc_port); LB1=$(rc_port)
NGINX="nginx -p $NX/ -c $NX/nginx.conf"
rc_fleet 2
. "$HERE/lb_lib.sh"
# the web app of agent I with the built-in provider (and no drain hooks);
# $2 replaces its lb lines, more lines in $3
webapp () {
    [ -f "$T/agent-$1/port" ] || rc_port >"$T/agent-$1/port"
    lb_webapp "$1" "${2-lb = nginx
nginx_upstream_file = $T/up-$1.conf
nginx_server = 127.0.0.1:$(cat "$T/agent-$1/port")
nginx_test = $NGINX -t -q
nginx_reload = $NGINX -s reload}" "${3:-}"
}
for i in 1 2; do
    webapp $i
    echo "server 127.0.0.1:$(cat "$T/agent-$i/port");" >"$T/up-$i.conf"
done
cat >"$NX/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $NX/nginx.pid;
error_log $NX/logs/error.log;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path $NX/tmp/body;
    proxy_temp_path $NX/tmp/proxy;
    fastcgi_temp_path $NX/tmp/fastcgi;
    uwsgi_temp_path $NX/tmp/uwsgi;
    scgi_temp_path $NX/tmp/scgi;
    proxy_next_upstream off;
    proxy_read_timeout 30s;
    upstream web { include $T/up-1.conf; include $T/up-2.conf; }
    upstream only1 { include $T/up-1.conf; }
    server { listen 127.0.0.1:$LB; location / { proxy_pass http://web; } }
    server { listen 127.0.0.1:$LB1; location / { proxy_pass http://only1; } }
}
CONF
$NGINX -t -q || fail "nginx config"
rc_bg nginx $NGINX
wait_for 5 test -s "$NX/nginx.pid" || { cat "$T/nginx.log"; fail "nginx did not start"; }
for i in 1 2; do "$RC_BUILD/rollclone-agent" --check --config "$T/agent-$i.conf" >/dev/null || fail "agent-$i config"; done

# nginx_ok: NGINX accepts its config with the agents' files as they are now
nginx_ok () { $NGINX -t -q >"$T/nginx-t.out" 2>&1 || { cat "$T/nginx-t.out"; return 1; }; }
# has_down I: agent I's file takes its server out
has_down () { grep -q "^server 127.0.0.1:$(cat "$T/agent-$1/port") down;$" "$T/up-$1.conf"; }
# serves_both: both instances get requests through NGINX (when on
# different versions)
serves_both () {
    for _ in 1 2 3 4 5 6; do curl -s --max-time 2 "http://127.0.0.1:$LB/index.html"; done >"$T/both.out"
    [ "$(grep -c "version" "$T/both.out")" = 6 ] || return 1
    # the hosts run different versions here: both answered
    for i in 1 2; do
        grep -q "version $(current $i)<" "$T/both.out" || return 1
    done
}

rc_coord_start
for i in 1 2; do rc_agent_start $i; done
wait_online 10 2 || fail "hosts not online"
make_release v1; make_release v2; make_release v3; make_release v4
expect_exit 0 deploy v1 --batch 100% --soak 300ms --wait
wait_for 10 sh -c "curl -s --max-time 2 http://127.0.0.1:$LB/index.html | grep -q v1" || fail "no traffic through nginx"
for i in 1 2; do has_down $i && fail "up-$i.conf left down after v1"; done
nginx_ok || fail "nginx -t after v1"
say "v1 everywhere, both servers up in NGINX's files"

# rollout_under_load V OUT [BATCH]: a rollout to V under a bounded stream
# of requests through NGINX, nginx -t run all along; the load's summary in
# OUT, the failed nginx -t runs in $T/t-failed
rollout_under_load () {
    rm -f "$T/stop" "$T/t-failed" "$2"
    python3 "$HERE/loadgen.py" 127.0.0.1 "$LB" /index.html "$T/stop" "$2" &
    (while [ ! -f "$T/stop" ]; do nginx_ok >/dev/null || cat "$T/nginx-t.out" >>"$T/t-failed"; sleep 0.1; done) &
    checker=$!
    sleep 0.5
    expect_exit 0 deploy "$1" --batch "${3:-1}" --soak 500ms --wait
    sleep 0.5
    touch "$T/stop"
    wait "$checker"
    wait_for 15 test -f "$2" || fail "load generator did not stop"
    cat "$2"; echo
}

# (1) a rolling update through NGINX under load: no failed request, and
# nginx -t never refused the files
rollout_under_load v2 "$T/load.json"
python3 -c "import json,sys; d=json.load(open('$T/load.json')); sys.exit(0 if d['failed'] == 0 and d['ok'] > 100 and 'v2' in d['versions'] else 1)" \
    || fail "requests failed (or too few) during the rolling update"
[ -f "$T/t-failed" ] && { cat "$T/t-failed"; fail "nginx -t failed during the rollout"; }
for i in 1 2; do has_down $i && fail "up-$i.conf left down after v2"; done
grep -q "^drain" "$T/agent-1/hooks.log" && fail "a drain hook ran"
say "(1) v1 -> v2 through NGINX with the built-in provider, no failed request, nginx -t passed throughout"

# (2) a slow request on host-1 in flight at drain time: it ends with 200
# and the drain phase held for it (slow_drain)
# in_flight1: a connection to host-1's instance is open
in_flight1 () { ss -Htn state established "( sport = :$(cat "$T/agent-1/port") )" | grep -q .; }
slow_drain "$LB1" in_flight1
has_down 1 && fail "up-1.conf left down after v3"
nginx_ok || fail "nginx -t after v3"
say "(2) the drain waited ${drain_ms}ms for the slow request, which ended with 200"

restart_agent2 () { restart_agent 2 "$@"; }

# (3) host-2 killed (-9) in its drain, held open after the file was
# written and NGINX reloaded: the file is whole (nginx -t), the server is
# down in it; the agent started again undoes the step and puts it back up
mkdir -p "$T/agent-2/hold"; echo 8000 >"$T/agent-2/hold/hold-drain-v3"
RC_FAULT_HOLD_DIR="$T/agent-2/hold"; export RC_FAULT_HOLD_DIR
restart_agent2
unset RC_FAULT_HOLD_DIR
dep=$(deploy v3 --select n=2 --soak 300ms --no-auto-rollback) || fail "deploy v3"
wait_for 20 grep -q "drain held open" "$T/agent-2.log" || fail "the drain was not held"
has_down 2 || { cat "$T/up-2.conf"; fail "host-2's server not down in its drain"; }
kill -9 "$(rc_pid agent-2)"; wait "$(rc_pid agent-2)" 2>/dev/null
nginx_ok || fail "nginx -t after the agent was killed in its drain"
has_down 2 || fail "the killed agent's server came back by itself"
rm -f "$T/agent-2/hold/hold-drain-v3"
restart_agent2
wait_for 20 sh -c "! grep -q ' down;' '$T/up-2.conf'" || { cat "$T/up-2.conf"; fail "the restarted agent did not put its server back"; }
nginx_ok || fail "nginx -t after the agent undid its drain"
[ "$(current 2)" = v2 ] || fail "host-2 on '$(current 2)'"
wait_for 10 serves_both || { cat "$T/both.out"; fail "NGINX does not send requests to both hosts"; }
wait_ended 20 "$dep" || "$RC" cancel "$dep" >/dev/null 2>&1
say "(3) killed in its drain: the file passed nginx -t, the restarted agent put host-2 back"

# (4) an nginx_test that refuses: the step fails in phase drain with the
# test's output, the file is as it was, host-2 on v2 and in rotation
wait_ended 30 "$dep" || fail "the deployment of (3) did not end"
restart_agent2 "lb = nginx
nginx_upstream_file = $T/up-2.conf
nginx_server = 127.0.0.1:$(cat "$T/agent-2/port")
nginx_test = echo 'nginx: [emerg] refused on purpose' >&2; exit 1
nginx_reload = $NGINX -s reload"
cp "$T/up-2.conf" "$T/up-2.before"
dep=$(deploy v3 --select n=2 --soak 300ms --no-auto-rollback) || fail "deploy v3"
wait_ended 20 "$dep" || fail "the deployment did not end"
"$RC" status "$dep" --json >"$T/st.json"
host2_failed drain "nginx_test 'echo 'nginx: [emerg] refused on purpose' >&2; exit 1' exited with status 1: nginx: [emerg] refused on purpose" ||
    { cat "$T/st.json"; fail "refused nginx_test: wrong failure"; }
cmp -s "$T/up-2.conf" "$T/up-2.before" || { cat "$T/up-2.conf"; fail "the refused file was not put back"; }
nginx_ok || fail "nginx -t after the refused drain"
[ "$(current 2)" = v2 ] || fail "host-2 on '$(current 2)'"
wait_for 10 serves_both || { cat "$T/both.out"; fail "host-2 not in rotation after the refused drain"; }
say "(4) refused nginx_test: failed in drain with its output, file and host-2 as they were"

# (5) negative control: the same rollout without the provider (nor drain
# hooks) loses requests, so (1) would have seen a lost one. The app gets a
# start-up time of 0.3 s (its port closed between the old server and the
# new): rc_testweb listens within milliseconds, and on a fast machine a
# load of a few hundred requests a second could miss so short a gap
restart_agent 2 ""
restart_agent 1 ""
for i in 1 2; do echo 0.3 >"$T/agent-$i/restart-gap"; done
rollout_under_load v4 "$T/load-off.json"
python3 -c "import json,sys; d=json.load(open('$T/load-off.json')); sys.exit(0 if d['failed'] > 0 else 1)" \
    || fail "without the provider no request failed: the load test would not catch a failure"
say "(5) without the provider: $(python3 -c "import json; d=json.load(open('$T/load-off.json')); print(d['failed'], 'failed of', d['ok'] + d['failed'])")"

# (6) --check refuses what the provider cannot use
C="$T/bad.conf"
for bad in "nginx_upstream_file = up.conf|nginx_upstream_file = 'up.conf' must be an absolute path" \
           "nginx_server = 127.0.0.1|nginx_server: '127.0.0.1' is not HOST:PORT" \
           "lb = haproxy|lb = haproxy needs haproxy_socket"; do
    line=${bad%%|*}; want=${bad#*|}
    webapp 1 "lb = nginx
nginx_upstream_file = $T/up-1.conf
nginx_server = 127.0.0.1:1"
    key=${line%% =*}
    sed "/^$key = /d" "$T/agent-1.conf" >"$C"; echo "$line" >>"$C"
    "$RC_BUILD/rollclone-agent" --check --config "$C" >"$T/check.out" 2>&1; rc=$?
    [ $rc = 2 ] && grep -qF "$want" "$T/check.out" || { cat "$T/check.out"; fail "--check with '$line' exited $rc"; }
done
webapp 1 "nginx_upstream_file = $T/up-1.conf"
"$RC_BUILD/rollclone-agent" --check --config "$T/agent-1.conf" >"$T/check.out" 2>&1; rc=$?
[ $rc = 2 ] && grep -qF "need lb = nginx" "$T/check.out" || { cat "$T/check.out"; fail "--check of nginx keys without lb exited $rc"; }
say "(6) --check refuses a relative nginx_upstream_file, a bad nginx_server, nginx keys without lb = nginx"
rc_webapp_cleanup
say ok
