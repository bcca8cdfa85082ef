# lb_lib.sh - what the load balancer tests (t_lb_haproxy, t_lb_nginx, and
# the slot fleets of t_surge and t_bluegreen) share; sourced after lib.sh,
# with HERE set to tests/e2e.

# lb_webapp I LINES [MORE]: agent I's [app web] (replacing the one it has):
# a web server (rc_testweb: current/, and /slow?s=SECONDS) on its own port (kept across calls, in
# $T/agent-I/port), no drain hooks, health GET $HEALTH_PATH (/health), then
# LINES (the lb keys) and MORE. A file $T/agent-I/restart-gap holds the
# seconds the restart leaves the port closed between the old server and the
# new (an app's start-up time; rc_testweb itself listens within ms).
lb_webapp () {
    i=$1; dir="$T/agent-$i"; port=$(rc_port)
    [ -f "$dir/port" ] && port=$(cat "$dir/port")
    echo "$port" >"$dir/port"
    cat >"$dir/restart.sh" <<SH
old=\$(cat "$dir/server.pid" 2>/dev/null)
if [ -n "\$old" ] && kill "\$old" 2>/dev/null; then
$(rc_gone_loop '$old')
fi
[ ! -f "$dir/restart-gap" ] || sleep "\$(cat "$dir/restart-gap")"
"$RC_TESTWEB" --port $port --dir "$dir/web/current" >>"$dir/server.log" 2>&1 </dev/null &
echo \$! >"$dir/server.pid"
SH
    sed -i '/^\[app web\]/,$d' "$T/agent-$i.conf"
    cat >>"$T/agent-$i.conf" <<CONF
[app web]
releases_dir = $dir/web
install = sh $HOOK install $dir
restart = sh $dir/restart.sh
health_url = http://127.0.0.1:$port${HEALTH_PATH:-/health}
health_interval = 100ms
hook_timeout = 20s
artifact_sources = file://$T/art/
$2
${3:-}
CONF
}

# host2_failed PHASE TEXT: in $T/st.json (status --json), host-2 failed in
# PHASE with TEXT in its error.
host2_failed () {
    python3 - "$T/st.json" "$1" "$2" <<'PY'
import json, sys
h = [h for h in json.load(open(sys.argv[1]))["hosts"] if h["host"] == "host-2"][0]
print(h["phase"], "|", h["error"])
assert h["state"] == "failed" and h["phase"] == sys.argv[2], h
assert sys.argv[3] in h["error"], h["error"]
PY
}

# restart_agent I [ARGS]: stops agent I (if it runs), gives it the [app web]
# of the test's `webapp I ARGS`, starts it and waits for its own new
# registration: the coordinator may still call the stopped agent online for
# a moment, so "online" alone is not enough. RC_FAULT_HOLD_DIR, when set,
# goes to the agent.
restart_agent () {
    n=$1; shift
    before=$(grep -c "registered with the coordinator" "$T/agent-$n.log" 2>/dev/null || true)
    kill -TERM "$(rc_pid agent-$n)" 2>/dev/null
    wait_for 10 sh -c "! kill -0 $(rc_pid agent-$n) 2>/dev/null"
    webapp "$n" "$@"
    rc_agent_start "$n"
    wait_for 15 sh -c "[ \"\$(grep -c 'registered with the coordinator' '$T/agent-$n.log')\" -gt $before ]" ||
        fail "host-$n did not register again"
    wait_for 10 host_is "host-$n" online || fail "host-$n not back online"
}

# slow_drain PORT CMD...: a 6 s request through the LB on PORT (served by
# host-1, on v2), in flight (CMD says so) when v3 is deployed to host-1: it
# ends with 200 from v2 (restart kills the old server with what it serves,
# so the restart came after it), the step succeeds, and its drain phase
# held for it (at least 2 s of the 6: the step reaches its drain phase
# within the first 4 even on a loaded machine, where 2 s was seen). Sets
# drain_ms.
slow_drain () {
    lbport=$1; shift
    curl -s -o "$T/slow.out" -w '%{http_code}' --max-time 20 "http://127.0.0.1:$lbport/slow?s=6" >"$T/slow.code" &
    slow=$!
    wait_for 5 "$@" || fail "the slow request is not in flight"
    dep=$(deploy v3 --select n=1 --soak 300ms) || fail "deploy v3"
    wait "$slow"
    [ "$(cat "$T/slow.code")" = 200 ] || fail "the slow request ended with '$(cat "$T/slow.code")'"
    grep -q "version v2" "$T/slow.out" || fail "the slow request was not answered by v2"
    wait_for 20 dep_state_is "$dep" succeeded || fail "v3 on host-1 did not succeed"
    "$RC" status "$dep" --json >"$T/status.out"
    drain_ms=$(python3 -c "import json; print(json.load(open('$T/status.out'))['hosts'][0]['timings_ms']['drain'])")
    [ -n "$drain_ms" ] && [ "$drain_ms" -ge 2000 ] || { cat "$T/status.out"; fail "the drain did not wait for the slow request"; }
    [ "$(current 1)" = v3 ] || fail "host-1 on '$(current 1)'"
}

# slot_fleet N: rc_fleet N whose agents' [app web] has two slots (free
# ports in $T/agent-I/ports), keep_warm $KEEP_WARM (60s), health on the
# slot's port, the HAProxy provider; HAProxy on $SOCK with frontend
# 127.0.0.1:$LB and one server per slot (web/host-I-1, web/host-I-2, both
# disabled until an agent puts one in). The slot hook logs every run to
# agent-I/hooks.log. Needs HERE, SOCK and LB set.
slot_fleet () {
    N=$1
    KEEP_WARM=${KEEP_WARM:-60s}
    rc_fleet $N

    # The slot app's hook: restart starts rc_testweb on the slot's port serving
    # the slot's link (ROLLCLONE_SLOT_DIR), stop stops it; every run is logged
    # with the slot to hooks.log. pid files are agent-I-sS/server.pid (lib.sh's
    # clean-up kills every agent-*/server.pid).
    cat >"$T/slot-hook.sh" <<'SH'
action=$1; dir=$2
echo "$action ${ROLLCLONE_VERSION:-} ${ROLLCLONE_DEPLOYMENT:-} ${ROLLCLONE_PHASE:-} slot=${ROLLCLONE_SLOT:-} port=${ROLLCLONE_PORT:-}" >>"$dir/hooks.log"
pidf="$dir-s${ROLLCLONE_SLOT}/server.pid"
mkdir -p "$dir-s${ROLLCLONE_SLOT}"
stop () {
    [ -f "$pidf" ] || return 0
    old=$(cat "$pidf")
    kill "$old" 2>/dev/null
    RC_GONE_LOOP
    rm -f "$pidf"
}
case $action in
restart)
    stop
    "$RC_TESTWEB" --port "$ROLLCLONE_PORT" --dir "$ROLLCLONE_SLOT_DIR" >>"$dir/server.log" 2>&1 </dev/null &
    echo $! >"$pidf"
    ;;
stop) stop ;;
esac
SH
    sed -i "s|\$RC_TESTWEB|$RC_TESTWEB|" "$T/slot-hook.sh"
    rc_gone_loop '$old' >"$T/gone.sh"
    sed -i -e "/RC_GONE_LOOP/r $T/gone.sh" -e "/RC_GONE_LOOP/d" "$T/slot-hook.sh"

    for i in $(seq 1 $N); do
        dir="$T/agent-$i"; p1=$(rc_port); p2=$(rc_port)
        echo "$p1 $p2" >"$dir/ports"
        cat >>"$T/agent-$i.conf" <<CONF
[app web]
releases_dir = $dir/web
install = sh $HOOK install $dir
restart = sh $T/slot-hook.sh restart $dir
stop = sh $T/slot-hook.sh stop $dir
slots = $p1,$p2
keep_warm = $KEEP_WARM
health_url = http://127.0.0.1:{port}/health
health_interval = 100ms
hook_timeout = 20s
artifact_sources = file://$T/art/
lb = haproxy
haproxy_socket = $SOCK
haproxy_server = web/host-$i-{slot}
CONF
    done
    {
        printf 'global\n    stats socket %s mode 600 level admin\n' "$SOCK"
        printf 'defaults\n    mode http\n    retries 0\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\n'
        printf 'frontend fe\n    bind 127.0.0.1:%s\n    default_backend web\n' "$LB"
        printf 'backend web\n    option httpchk GET /health\n    default-server inter 200ms fall 2 rise 2\n'
        for i in $(seq 1 $N); do
            set -- $(cat "$T/agent-$i/ports")
            printf '    server host-%s-1 127.0.0.1:%s check disabled\n' "$i" "$1"
            printf '    server host-%s-2 127.0.0.1:%s check disabled\n' "$i" "$2"
        done
    } >"$T/haproxy.cfg"
    haproxy -c -f "$T/haproxy.cfg" >/dev/null || fail "haproxy config"
    rc_bg haproxy haproxy -db -f "$T/haproxy.cfg"
    wait_for 5 test -S "$SOCK" || fail "haproxy did not start"
    for i in $(seq 1 $N); do "$RC_BUILD/rollclone-agent" --check --config "$T/agent-$i.conf" >/dev/null || fail "agent-$i config"; done
}

# lbstat SERVER: the status of web/SERVER in HAProxy's show stat
lbstat () { lb_stat "$SOCK" "web/$1" status; }
lbstat_is () { [ "$(lbstat "$1")" = "$2" ]; }
# serves I SLOT: host I's slot SLOT is UP and the other slot is not
serves () {
    other=$((3 - $2))
    lbstat_is "host-$1-$2" UP && ! lbstat_is "host-$1-$other" UP
}
# version_on I SLOT: the release the slot's instance answers with
version_on () {
    set -- "$1" "$2" $(cat "$T/agent-$1/ports")
    port=$3; [ "$2" = 2 ] && port=$4
    curl -s --max-time 2 "http://127.0.0.1:$port/index.html" | sed 's/.*version \([^<]*\)<.*/\1/'
}
# app_field I FIELD: a field of host I's app web in `rollclone hosts --json`
app_field () {
    "$RC" hosts --json | python3 -c "
import json, sys
for h in json.load(sys.stdin):
    if h['id'] == 'host-$1':
        v = h['apps'].get('web', {}).get('$2', '')
        print('' if v is None else v)"
}
