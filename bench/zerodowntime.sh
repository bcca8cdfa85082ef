#!/bin/sh
# zerodowntime.sh - make bench's zero-downtime part: does a rollout drop
# requests? A real coordinator and $ZD_HOSTS (10) real agents on loopback,
# each agent's app a real HTTP server (bench/rc_benchweb.c, listening 2 s
# after a restart, killed by the next one) behind one HAProxy, and wrk
# (-t2 -c20) through HAProxy from before each rollout starts until after
# it ended. HAProxy runs with `retries 0` and no redispatch, so a request
# sent to a server that is restarting fails instead of being retried
# elsewhere: what wrk counts is what users would see. Modes, each on a
# fleet of its own (sh bench/zerodowntime.sh MODE runs one):
#   haproxy    (a) v1 -> v2 in batches of 2 with lb = haproxy;
#              (b) a broken v3 (/health answers 503) with --max-fail 2: two
#              batches fail, then every host it touched is rolled back
#   control    (a) with no provider (no lb, no drain hooks): must fail
#              requests, or the benchmark does not measure anything
#   surge      (c) v1 -> v2 with [app] slots (surge clones)
#   nginx      (a) behind NGINX with lb = nginx
#   bluegreen  (d) deploy --strategy blue-green, then rollback (switch back)
# A mode whose parts the binaries do not have yet says "skipped". Goal: 0
# failed of >= 100,000 requests in each rolling mode; a missed goal is a
# figure, the exit status is 1 only when the negative control failed no
# request (or a fleet could not be set up). ZD_MODES picks modes, FAST=1 is
# a short run (4 hosts), ZD_HOSTS / ZD_SOAK / ZD_STARTUP change the sizes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
GOAL=100000

if [ $# -eq 0 ]; then
    case ${BENCH_ONLY:-} in '' | zerodowntime) ;; *) exit 0 ;; esac
    for tool in wrk haproxy; do
        command -v $tool >/dev/null || { echo "bench: $tool is not installed (make deps)" >&2; exit 2; }
    done
    out=$(mktemp /tmp/rollclone-zd.XXXXXX)
    trap 'rm -f "$out" "$out.rc"' EXIT
    status=0
    echo "bench: zero downtime, $( [ -n "${FAST:-}" ] && echo 4 || echo "${ZD_HOSTS:-10}") agents behind one load balancer, wrk -t2 -c20 during each rollout"
    for m in ${ZD_MODES:-haproxy control surge nginx bluegreen}; do
        { sh "$0" "$m"; echo $? >"$out.rc"; } | tee -a "$out"
        [ "$(cat "$out.rc")" = 0 ] || status=1
    done
    echo "bench: zero downtime, summary (goal: 0 failed of >= $GOAL requests per rolling mode)"
    sed -n 's/^summary: /  /p' "$out"
    exit $status
fi

mode=$1
RC_BUILD=${RC_BUILD:-$top/build}
# heartbeats at a pace two busy cores keep: a host must not look offline
# because wrk has the CPU
RC_HB=500ms
RC_OFFLINE=5s
export RC_BUILD RC_HB RC_OFFLINE
. "$top/tests/e2e/lib.sh"
N=${ZD_HOSTS:-10}
[ -n "${FAST:-}" ] && N=4
SOAK=${ZD_SOAK:-1s}
STARTUP=${ZD_STARTUP:-2s}
WEB="$RC_BUILD/rc_benchweb"
SOCK="$T/haproxy.sock"
LB=$(rc_port)
# slot servers keep their pids beside lib.sh's server.pid
zd_cleanup () {
    st=$?
    for f in "$T"/agent-*/server-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    (exit $st)
    rc_cleanup
}
trap zd_cleanup EXIT

ms () { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# zd_ports: a port for each host's app (port2: its second slot), chosen
# before the configs that name them are written
zd_ports () {
    i=1
    while [ $i -le "$N" ]; do
        rc_port >"$T/agent-$i/port"
        rc_port >"$T/agent-$i/port2"
        i=$((i + 1))
    done
}

# zd_app I SLOTS PROVIDER_LINES: agent I's [app web]: restart starts
# rc_benchweb on the app's port (or on the slot's, ROLLCLONE_PORT, when
# SLOTS is "slots"), after stopping what ran there.
zd_app () {
    i=$1; slotted=$2; dir="$T/agent-$i"
    port=$(cat "$dir/port")
    if [ "$slotted" = slots ]; then
        need='[ -n "${ROLLCLONE_PORT:-}" ] || { echo "no ROLLCLONE_PORT" | tee -a "'"$dir/hooks.log"'" >&2; exit 1; }'
        pidf="$dir/server-\$ROLLCLONE_SLOT.pid"
        listen='$ROLLCLONE_PORT'
        # the slot's own link to its release
        release='${ROLLCLONE_SLOT_DIR:-'"$dir/web/current"'}'
        health="http://127.0.0.1:{port}/health"
    else
        need="" pidf="$dir/server.pid" listen=$port release="$dir/web/current"
        health="http://127.0.0.1:$port/health"
    fi
    cat >"$dir/restart.sh" <<SH
$need
echo "restart \${ROLLCLONE_VERSION:-} slot=\${ROLLCLONE_SLOT:-} port=\${ROLLCLONE_PORT:-}" >>"$dir/hooks.log"
if [ -f "$pidf" ]; then
    kill "\$(cat "$pidf")" 2>/dev/null
    for _ in \$(seq 1 40); do kill -0 "\$(cat "$pidf")" 2>/dev/null || break; sleep 0.05; done
fi
"$WEB" --port $listen --dir "$release" --startup-delay $STARTUP >>"$dir/server.log" 2>&1 </dev/null &
echo \$! >"$pidf"
SH
    cat >"$dir/stop.sh" <<SH
echo "stop \${ROLLCLONE_VERSION:-} slot=\${ROLLCLONE_SLOT:-}" >>"$dir/hooks.log"
[ -f "$pidf" ] && kill "\$(cat "$pidf")" 2>/dev/null
exit 0
SH
    cat >>"$T/agent-$i.conf" <<CONF

[app web]
releases_dir = $dir/web
restart = sh $dir/restart.sh
health_url = $health
health_interval = 100ms
hook_timeout = 20s
artifact_sources = file://$T/art/
$3
CONF
}

# zd_haproxy SERVER_LINES: HAProxy on $LB in front of backend web, its
# admin socket at $SOCK. A refused connection is a failed request: no
# retry, no redispatch to another server.
zd_haproxy () {
    cat >"$T/haproxy.cfg" <<CFG
global
    stats socket $SOCK mode 600 level admin
    maxconn 2000
defaults
    mode http
    retries 0
    no option redispatch
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$LB
    default_backend web
backend web
    option httpchk GET /health
    default-server inter 200ms fall 2 rise 2
$1
CFG
    haproxy -c -f "$T/haproxy.cfg" >/dev/null || fail "haproxy config"
    rc_bg haproxy haproxy -db -f "$T/haproxy.cfg"
    wait_for 5 test -S "$SOCK" || fail "haproxy did not start"
}

# zd_start: coordinator and agents (configs written), releases v1..v3
# (v3 broken), v1 everywhere with everything UP in HAProxy (when $SOCK).
zd_start () {
    i=1
    while [ $i -le "$N" ]; do
        "$RC_BUILD/rollclone-agent" --check --config "$T/agent-$i.conf" >"$T/check.out" 2>&1 ||
            { cat "$T/check.out"; fail "agent-$i config"; }
        i=$((i + 1))
    done
    rc_coord_start
    i=1
    while [ $i -le "$N" ]; do rc_agent_start $i; i=$((i + 1)); done
    i=1
    while [ $i -le "$N" ]; do wait_for 20 host_is host-$i online || fail "host-$i not online"; i=$((i + 1)); done
    for v in v1 v2 v4; do make_release $v; done
    make_release v3 broken
    deploy v1 --batch 100% --soak 300ms --health-timeout 20s --wait >"$T/v1.out" 2>&1 || return 1
    [ -S "$SOCK" ] || return 0
    wait_for 20 sh -c "[ \$(python3 '$here/lbwatch.py' '$SOCK' web up) -ge $N ]" || fail "servers not UP after v1"
}

# zd_run RUN VERSION [DEPLOY ARGS]: a rollout of VERSION in batches of 2
# under wrk; prints one line of figures and sets FAILED, REQUESTS, DEP_RC.
# With ZD_RUN_CMD set, that command is the rollout instead.
zd_run () {
    run=$1 v=$2; shift 2
    rm -f "$T/stop-$run"
    rc_bg "wrk-$run" wrk -t2 -c20 -d600s -s "$here/wrk_report.lua" "http://127.0.0.1:$LB/"
    [ -S "$SOCK" ] && rc_bg "lbwatch-$run" python3 "$here/lbwatch.py" "$SOCK" web watch "$T/stop-$run"
    sleep 1
    t0=$(ms)
    # a rollout that hangs must not hang make bench: timeout's 124 is its exit
    if [ -n "${ZD_RUN_CMD:-}" ]; then
        # shellcheck disable=SC2086
        timeout 600 $ZD_RUN_CMD >"$T/deploy-$run.out" 2>"$T/deploy-$run.err"
    else
        timeout 600 "$RC" deploy --app web --version "$v" --artifact "file://$T/art/$v.tgz" \
            --sha256 "$(cat "$T/art/$v.sha")" --batch 2 --soak "$SOAK" \
            --health-timeout "${ZD_HEALTH_TIMEOUT:-20s}" "$@" --wait >"$T/deploy-$run.out" 2>"$T/deploy-$run.err"
    fi
    DEP_RC=$?
    took=$(( $(ms) - t0 ))
    sleep 1
    kill -INT "$(rc_pid "wrk-$run")"
    touch "$T/stop-$run"
    wait_for 15 grep -q '^WRK ' "$T/wrk-$run.log" || { cat "$T/wrk-$run.log"; fail "wrk did not report"; }
    requests=0 non2xx=0 connect=0 read=0 write=0 timeout=0 p99_us=0 secs=0
    eval "$(sed -n 's/^WRK //p' "$T/wrk-$run.log")"
    up=""
    if [ -S "$SOCK" ]; then
        wait_for 5 sh -c "[ -s '$T/lbwatch-$run.log' ]"
        up=$(awk -v n="$N" 'NR == 1 { printf "servers UP %d-%d (%d hosts), ", $1, $2, n }' "$T/lbwatch-$run.log")
    fi
    FAILED=$((non2xx + connect + read + write + timeout))
    REQUESTS=$requests
    printf '  %-40s %7d requests, %d failed: %d non-2xx, socket errors %d connect %d read %d write %d timeout\n' \
        "$ZD_LABEL" "$requests" "$FAILED" "$non2xx" "$connect" "$read" "$write" "$timeout"
    printf '  %-40s rollout %d.%d s (exit %d), wrk %s s, p99 %d ms, %sload %s\n' "" \
        $((took / 1000)) $((took % 1000 / 100)) "$DEP_RC" "$secs" $((p99_us / 1000)) "$up" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# zd_verdict: the summary line of a rolling mode
zd_verdict () {
    if [ "$FAILED" = 0 ] && [ "$REQUESTS" -ge $GOAL ]; then
        echo "summary: $ZD_LABEL: $FAILED failed of $REQUESTS requests: goal met"
    elif [ "$FAILED" = 0 ]; then
        echo "summary: $ZD_LABEL: $FAILED failed of $REQUESTS requests: goal missed (fewer than $GOAL requests)"
    else
        echo "summary: $ZD_LABEL: $FAILED failed of $REQUESTS requests: goal missed"
    fi
}
zd_skip () { echo "mode $1: skipped, $2"; echo "summary: mode $1: skipped, $2"; exit 0; }
# why --check refused agent-1's config, without the file name
check_reason () { "$RC_BUILD/rollclone-agent" --check --config "$T/agent-1.conf" 2>&1 | tail -1 | sed 's/^.*\.conf:[0-9]*: //'; }
# hosts_on V: the coordinator has every host on V
hosts_on () {
    [ "$("$RC" hosts --json | python3 -c "
import json, sys
print(sorted({h['apps']['web']['current'] for h in json.load(sys.stdin)}))")" = "['$1']" ]
}

# the servers of backend web, one per host (SLOTS: one per host and slot,
# disabled until the agent puts its slot in)
zd_servers () {
    i=1
    while [ $i -le "$N" ]; do
        if [ "${1:-}" = slots ]; then
            printf '    server host-%s-1 127.0.0.1:%s check disabled\n' $i "$(cat "$T/agent-$i/port")"
            printf '    server host-%s-2 127.0.0.1:%s check disabled\n' $i "$(cat "$T/agent-$i/port2")"
        else
            printf '    server host-%s 127.0.0.1:%s check\n' $i "$(cat "$T/agent-$i/port")"
        fi
        i=$((i + 1))
    done
}

mode_haproxy () {
    rc_fleet "$N"
    zd_ports
    i=1
    while [ $i -le "$N" ]; do
        zd_app $i one "lb = haproxy
haproxy_socket = $SOCK
haproxy_server = web/host-$i"
        i=$((i + 1))
    done
    zd_haproxy "$(zd_servers)"
    zd_start || { cat "$T/v1.out"; fail "v1 did not reach every host"; }
    echo "mode a/b: HAProxy, lb = haproxy"
    ZD_LABEL="(a) HAProxy v1->v2, batches of 2"
    zd_run a v2
    [ "$DEP_RC" = 0 ] || echo "  (a) the rollout did not succeed: $(tail -3 "$T/deploy-a.err")"
    zd_verdict
    # two failing batches before the budget is exceeded: four hosts go to
    # v3, fail their health check and are rolled back, all under load
    ZD_LABEL="(b) HAProxy broken v3, auto rollback"
    ZD_HEALTH_TIMEOUT=5s zd_run b v3 --max-fail 2
    [ "$DEP_RC" = 1 ] && wait_for 10 hosts_on v2 && state="rolled back, every host on v2" ||
        state="NOT rolled back as expected (exit $DEP_RC)"
    echo "  (b) $state"
    zd_verdict
}

mode_control () {
    rc_fleet "$N"
    zd_ports
    i=1
    while [ $i -le "$N" ]; do zd_app $i one ""; i=$((i + 1)); done
    zd_haproxy "$(zd_servers)"
    zd_start || { cat "$T/v1.out"; fail "v1 did not reach every host"; }
    echo "mode control: (a) with the provider off (no lb, no drain hooks)"
    ZD_LABEL="control: (a) with no provider"
    zd_run control v2
    if [ "$FAILED" -gt 0 ]; then
        echo "summary: $ZD_LABEL: $FAILED failed of $REQUESTS requests: the benchmark sees a restart in rotation"
        return 0
    fi
    echo "summary: $ZD_LABEL: NO FAILED REQUEST OF $REQUESTS WITHOUT A PROVIDER: THE BENCHMARK IS NOT MEASURING"
    echo "!!! the negative control failed no request: the other figures prove nothing !!!" >&2
    return 1
}

# the fleet for (c) and (d): two slots per host, a server per slot
zd_slot_fleet () {
    rc_fleet "$N"
    zd_ports
    i=1
    while [ $i -le "$N" ]; do
        zd_app $i slots "slots = $(cat "$T/agent-$i/port"),$(cat "$T/agent-$i/port2")
stop = sh $T/agent-$i/stop.sh
keep_warm = 30s
lb = haproxy
haproxy_socket = $SOCK
haproxy_server = web/host-$i-{slot}"
        i=$((i + 1))
    done
    "$RC_BUILD/rollclone-agent" --check --config "$T/agent-1.conf" >/dev/null 2>&1 ||
        zd_skip "$1" "slots not built (rollclone-agent --check: $(check_reason))"
    zd_haproxy "$(zd_servers slots)"
    if ! zd_start; then
        grep -q "no ROLLCLONE_PORT" "$T"/agent-*/hooks.log 2>/dev/null &&
            zd_skip "$1" "slots not built (the agent gave restart no ROLLCLONE_PORT)"
        cat "$T/v1.out"
        fail "v1 did not reach every host"
    fi
}

mode_surge () {
    zd_slot_fleet c
    echo "mode c: surge clones, slots and lb = haproxy"
    ZD_LABEL="(c) surge clones v1->v2, batches of 2"
    zd_run c v2
    [ "$DEP_RC" = 0 ] || echo "  (c) the rollout did not succeed: $(tail -3 "$T/deploy-c.err")"
    zd_verdict
}

mode_bluegreen () {
    "$RC" help deploy 2>&1 | grep -q 'blue-green' || zd_skip d "deploy --strategy blue-green not built"
    zd_slot_fleet d
    echo "mode d: blue-green, slots and lb = haproxy"
    ZD_LABEL="(d) blue-green switch v1->v2"
    zd_run d1 v2 --strategy blue-green
    dep=$(head -1 "$T/deploy-d1.out")
    zd_verdict
    ZD_LABEL="(d) blue-green switch back"
    ZD_RUN_CMD="$RC rollback --deployment $dep --wait" zd_run d2 -
    zd_verdict
    [ "$DEP_RC" = 0 ] && wait_for 10 hosts_on v1 || echo "  (d) the switch back did not end on v1 (exit $DEP_RC)"
}

mode_nginx () {
    command -v nginx >/dev/null || zd_skip nginx "nginx is not installed"
    rc_fleet "$N"
    zd_ports
    ng="$T/nginx"
    mkdir -p "$ng/upstream" "$ng/tmp" "$ng/logs"
    # its own prefix: nothing of it under /var or /etc
    NGINX="nginx -p $ng/ -c $ng/nginx.conf"
    i=1
    while [ $i -le "$N" ]; do
        zd_app $i one "lb = nginx
nginx_upstream_file = $ng/upstream/host-$i.conf
nginx_server = 127.0.0.1:$(cat "$T/agent-$i/port")
nginx_test = $NGINX -t -q
nginx_reload = $NGINX -s reload"
        echo "server 127.0.0.1:$(cat "$T/agent-$i/port");" >"$ng/upstream/host-$i.conf"
        i=$((i + 1))
    done
    "$RC_BUILD/rollclone-agent" --check --config "$T/agent-1.conf" >/dev/null 2>&1 ||
        zd_skip nginx "lb = nginx not built (rollclone-agent --check: $(check_reason))"
    # no retry on another server (proxy_next_upstream off), as HAProxy's
    # retries 0: a refused connection is a failed request
    cat >"$ng/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $ng/nginx.pid;
error_log $ng/logs/error.log notice;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $ng/tmp/body;
    proxy_temp_path $ng/tmp/proxy;
    fastcgi_temp_path $ng/tmp/fastcgi;
    uwsgi_temp_path $ng/tmp/uwsgi;
    scgi_temp_path $ng/tmp/scgi;
    upstream web {
        include $ng/upstream/*.conf;
        keepalive 32;
    }
    server {
        listen 127.0.0.1:$LB;
        location / {
            proxy_pass http://web;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream off;
        }
    }
}
CONF
    # shellcheck disable=SC2086
    $NGINX -t -q || fail "nginx config"
    # shellcheck disable=SC2086
    rc_bg nginx $NGINX
    wait_for 5 test -s "$ng/nginx.pid" || fail "nginx did not start"
    zd_start || { cat "$T/v1.out"; fail "v1 did not reach every host"; }
    echo "mode nginx: NGINX, lb = nginx"
    ZD_LABEL="(a) NGINX v1->v2, batches of 2"
    reloads0=$(grep -c "SIGHUP) received" "$ng/logs/error.log")
    zd_run nginx v2
    reloads=$(( $(grep -c "SIGHUP) received" "$ng/logs/error.log") - reloads0 ))
    [ "$DEP_RC" = 0 ] || echo "  (a) the rollout did not succeed: $(tail -3 "$T/deploy-nginx.err")"
    zd_verdict
    # A graceful reload closes the old workers' idle keep-alive client
    # connections, and a request the client sent on one just then is lost
    # (wrk does not retry). The same number of reloads with no rollout
    # tells what of the figure above is NGINX's reload itself.
    printf 'i=0\nwhile [ $i -lt %d ]; do %s -s reload 2>/dev/null; sleep 1; i=$((i + 1)); done\n' \
        "$reloads" "$NGINX" >"$T/reloads.sh"
    ZD_LABEL="NGINX: $reloads reloads alone, no rollout"
    ZD_RUN_CMD="sh $T/reloads.sh" zd_run nginx-reloads -
    echo "summary: $ZD_LABEL (reference for (a) NGINX): $FAILED failed of $REQUESTS requests"
}

case $mode in
haproxy | control | surge | nginx | bluegreen) "mode_$mode" ;;
*) echo "zerodowntime.sh: unknown mode '$mode' (haproxy, control, surge, nginx, bluegreen)" >&2; exit 2 ;;
esac
