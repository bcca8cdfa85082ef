# lib.sh - helpers for end-to-end tests; sourced by each tests/e2e/t_*.sh.
# Every process a test starts is recorded and killed on exit; every file
# lives under $T (a fresh temporary directory), removed on exit.
set -u
# Debian's python3 (scripts/deps.sh installs it) ahead of any version
# manager's shims: a shim costs a shell script per call, seconds under load.
PATH=/usr/bin:/bin:$PATH; export PATH
RC_BUILD=${RC_BUILD:-$(pwd)/build}
T=$(mktemp -d /tmp/rc_e2e.XXXXXX)
RC_PIDS=""
export ROLLCLONE_CONFIG=""

rc_cleanup () {
    status=$?
    for f in "$T"/agent-*/server.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    for p in $RC_PIDS; do kill -TERM "$p" 2>/dev/null; done
    # let daemons finish their clean exit (and the sanitizers their report)
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        alive=""
        for p in $RC_PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ -z "$alive" ] && break
        sleep 0.1
    done
    for p in $RC_PIDS; do kill -KILL "$p" 2>/dev/null; done
    # again: an agent stopped in the middle of a step may have run a restart
    # hook after the first round, and a hook of an agent killed -9 lives on
    # and starts its web app later: whatever still runs with a path of this
    # test in its command line goes (a web app left running for ever)
    for f in "$T"/agent-*/server.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    pkill -TERM -f -- "$T/" 2>/dev/null && sleep 0.2 && pkill -KILL -f -- "$T/" 2>/dev/null
    # a sanitizer report in any process's log fails the test
    if grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log >/dev/null 2>&1; then
        for f in $(grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log); do
            echo "sanitizer report in $f:"; grep -A 30 -E "ERROR: |runtime error:" "$f" | head -60
        done
        status=1
    fi
    [ -f "$T/.ports" ] && xargs rmdir <"$T/.ports" 2>/dev/null
    [ -n "${RC_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
    exit $status
}
trap rc_cleanup EXIT
trap 'exit 130' INT TERM

# say MSG / fail MSG
say () { echo "--- $*"; }
fail () { echo "FAIL: $*" >&2; exit 1; }

# rc_bg NAME CMD...: runs CMD in the background, output in $T/NAME.log,
# pid in $T/NAME.pid and in $RC_PIDS.
rc_bg () {
    name=$1; shift
    "$@" >>"$T/$name.log" 2>&1 &
    echo $! >"$T/$name.pid"
    RC_PIDS="$RC_PIDS $!"
}
rc_pid () { cat "$T/$1.pid"; }

# rc_port: a free TCP port on 127.0.0.1.
# rc_port: a free port on loopback for a server of this test. Not one the
# kernel hands out itself (port 0): those come from ip_local_port_range, the
# same range every outgoing connection takes its source port from, and under
# load a port given back between the pick and the server's bind was taken
# by some curl or load generator ("address already in use"). So a port
# below that range, which only explicit binds use, reserved for this test in
# $RC_PORT_DIR (a directory per port: concurrent tests never pick the same)
# and given back at clean-up; a reservation left by a killed test expires
# after an hour.
RC_PORT_DIR=${RC_PORT_DIR:-/tmp/rc_e2e_ports}
# In shell, no python3: a test takes ten or more ports, and an interpreter
# start is ~60 ms of CPU. A port is in use when any TCP socket of this
# machine has it (listening, connected, TIME_WAIT: what would make a bind
# without SO_REUSEADDR fail); its reservation then stays, so nobody tries
# it for an hour.
rc_port () {
    mkdir -p "$RC_PORT_DIR"
    # (not `read <FILE`: dash reads a byte at a time, and a sysctl file
    # answers a read at an offset with end of file)
    eph=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
    [ "$eph" -lt 32768 ] || eph=32768
    hi=$((eph - 1)) lo=$((eph - 1 - 12000))
    [ "$lo" -ge 1025 ] || lo=1025
    tries=0
    while [ $tries -lt 2000 ]; do
        for r in $(od -An -N64 -tu2 /dev/urandom); do
            tries=$((tries + 1))
            port=$((lo + r % (hi - lo + 1)))
            slot=$RC_PORT_DIR/$port
            if ! mkdir "$slot" 2>/dev/null; then
                [ -n "$(find "$slot" -maxdepth 0 -mmin +60 2>/dev/null)" ] || continue
                touch "$slot" 2>/dev/null || continue
            fi
            grep -q "$(printf ':%04X ' "$port")" /proc/net/tcp /proc/net/tcp6 2>/dev/null && continue
            echo "$slot" >>"$T/.ports"
            echo "$port"
            return 0
        done
    done
    echo "rc_port: no free port in $lo-$hi" >&2
    return 1
}

# wait_for SECONDS CMD...: polls CMD until it succeeds; 1 when a try ends
# after the deadline. Every 100 ms; but when a try itself takes longer (a
# CLI call and its parse cost ~250 ms of CPU under ASan on a loaded
# machine) the pause is as long as the try, at most 0.5 s: a wait uses at
# most half a core instead of nearly a whole one, and it still tries until
# its deadline, as often as the machine can answer.
# Only the first try runs LeakSanitizer at the exit of what it starts: a
# later try runs the same code again, and the leak check was most of an
# ASan CLI call's CPU. Later tries get detect_leaks=0 added to whatever
# ASAN_OPTIONS this test has, restored when the wait ends. The pause takes
# at least as long as the first (leak-checked) try did, at most 0.5 s, so
# that cheaper tries do not just come more often.
wait_for () {
    _wf_end=$(($(date +%s) + $1)); shift
    _wf_asan=${ASAN_OPTIONS-} _wf_asan_set=${ASAN_OPTIONS+1}
    _wf_floor=100 _wf_rc=1
    _wf_t0=$(date +%s%N)
    while :; do
        "$@" >/dev/null 2>&1 && { _wf_rc=0; break; }
        _wf_t1=$(date +%s%N)
        [ $((_wf_t1 / 1000000000)) -le "$_wf_end" ] || break
        _wf_ms=$(((_wf_t1 - _wf_t0) / 1000000))
        if [ -z "${_wf_later:-}" ]; then
            _wf_later=1
            [ "$_wf_ms" -le "$_wf_floor" ] || _wf_floor=$_wf_ms
            ASAN_OPTIONS=${_wf_asan:+$_wf_asan:}detect_leaks=0; export ASAN_OPTIONS
        fi
        [ "$_wf_ms" -ge "$_wf_floor" ] || _wf_ms=$_wf_floor
        [ "$_wf_ms" -le 500 ] || _wf_ms=500
        sleep "$((_wf_ms / 1000)).$(printf %03d $((_wf_ms % 1000)))"
        _wf_t0=$(date +%s%N)
    done
    _wf_later=""
    if [ -n "$_wf_asan_set" ]; then ASAN_OPTIONS=$_wf_asan; else unset ASAN_OPTIONS; fi
    return $_wf_rc
}

# expect_exit CODE CMD...: runs CMD, fails the test unless it exits CODE.
# Its stdout+stderr are in $T/last.out.
expect_exit () {
    want=$1; shift
    "$@" >"$T/last.out" 2>&1
    got=$?
    [ "$got" = "$want" ] || { cat "$T/last.out"; fail "'$*' exited $got, expected $want"; }
}

# ---------------------------------------------------------------------------
# A fleet on loopback: rc_fleet N writes keys and configs for a coordinator
# and N agents (ids host-1..host-N) under $T, with free ports. Extra agent
# config lines come from $RC_AGENT_EXTRA (may use $i), extra coordinator
# lines from $RC_COORD_EXTRA. The agents' network side runs as
# $RC_AGENT_USER (default nobody; set it empty for no `user` line).
# Then rc_coord_start, rc_agent_start I.
RC="$RC_BUILD/rollclone"
RC_HB=${RC_HB:-200ms}
RC_OFFLINE=${RC_OFFLINE:-1s}

# rc_keygen_nolsan PATH: rollclone keygen without LeakSanitizer at its
# exit: a fleet's operator and agent keys are the same code again and again
# (the coordinator's key, t_cli_help, t_ci_docs and t_operators run keygen
# with the leak check)
rc_keygen_nolsan () {
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$RC" keygen "$@"
}

rc_fleet () {
    n=$1
    mkdir -p "$T/keys/agents" "$T/keys/operators"
    "$RC" keygen "$T/keys/coordinator" >/dev/null || fail "keygen"
    rc_keygen_nolsan "$T/keys/operator" >/dev/null || fail "keygen"
    cp "$T/keys/operator" "$T/keys/operators/operator"
    P_AGENT=$(rc_port); P_PUB=$(rc_port); P_CTL=$(rc_port)
    cat >"$T/coordinator.conf" <<CONF
[coordinator]
data_dir = $T/coord-data
agent_endpoint = tcp://127.0.0.1:$P_AGENT
publish_endpoint = tcp://127.0.0.1:$P_PUB
control_endpoint = tcp://127.0.0.1:$P_CTL
secret_key = keys/coordinator_secret
agent_keys_dir = keys/agents
operator_keys_dir = keys/operators
heartbeat_interval = $RC_HB
offline_after = $RC_OFFLINE
${RC_COORD_EXTRA:-}
CONF
    cat >"$T/client.conf" <<CONF
[client]
control_endpoint = tcp://127.0.0.1:$P_CTL
coordinator_public_key = keys/coordinator
secret_key = keys/operator_secret
CONF
    export ROLLCLONE_CONFIG="$T/client.conf"
    i=1
    while [ "$i" -le "$n" ]; do rc_agent_config "$i"; i=$((i + 1)); done
}

# rc_agent_config I [ID]: key (admitted) and config for agent I.
rc_agent_config () {
    i=$1; id=${2:-host-$1}
    mkdir -p "$T/agent-$i"
    [ -f "$T/keys/agent-$i" ] || rc_keygen_nolsan "$T/keys/agent-$i" >/dev/null || fail "keygen"
    cp "$T/keys/agent-$i" "$T/keys/agents/agent-$i"
    cat >"$T/agent-$i.conf" <<CONF
[agent]
id = $id
coordinator_endpoint = tcp://127.0.0.1:$P_AGENT
coordinator_publish_endpoint = tcp://127.0.0.1:$P_PUB
coordinator_public_key = keys/coordinator
secret_key = keys/agent-${i}_secret
state_dir = $T/agent-$i/state
labels = ${RC_LABELS:-role=web,n=$i}
heartbeat_interval = $RC_HB
$([ -z "${RC_AGENT_USER-nobody}" ] || echo "user = ${RC_AGENT_USER-nobody}")
$(eval "echo \"${RC_AGENT_EXTRA:-}\"")
CONF
}

rc_coord_start () {
    rc_bg coordinator "$RC_BUILD/rollclone-coordinator" --config "$T/coordinator.conf"
    wait_for 10 "$RC" --timeout 1s info || { cat "$T/coordinator.log"; fail "coordinator did not start"; }
}
rc_coord_stop () {
    kill -TERM "$(rc_pid coordinator)" 2>/dev/null
    wait_for 10 sh -c "! kill -0 $(rc_pid coordinator) 2>/dev/null" || fail "coordinator did not stop on SIGTERM"
}
# rc_coord_kill9: SIGKILL, then reap it: its ports are free only once the
# kernel has torn the process down, and a restart must not race that.
rc_coord_kill9 () {
    pid=$(rc_pid coordinator)
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
# net_pid I: the pid of agent I's network side (the unprivileged process
# that talks to the coordinator): stopping it is a network partition.
net_pid () { sed -n 's/.*network side: pid \([0-9]*\),.*/\1/p' "$T/agent-$1.log" | tail -1; }
rc_agent_start () {
    rc_bg "agent-$1" "$RC_BUILD/rollclone-agent" --config "$T/agent-$1.conf"
}

# The helpers below read the CLI's JSON with jq, not python3: they run in
# wait loops, and an interpreter start (~60 ms of CPU) per poll was a large
# share of the suite's CPU. They print what they printed as python3: a
# field as python's str() (True, None) or, for host_field, json.dumps
# (", " and ": "), and fail (non-zero, nothing printed) when the JSON or
# the field is missing.
RC_JQ_DEFS='
def pyrepr: if type == "string" then "\u0027" + . + "\u0027"
    elif type == "array" then "[" + (map(pyrepr) | join(", ")) + "]"
    elif type == "object" then "{" + ([to_entries[] | "\u0027" + .key + "\u0027: " + (.value | pyrepr)] | join(", ")) + "}"
    elif . == true then "True" elif . == false then "False" elif . == null then "None"
    else tostring end;
def pystr: if type == "string" then . else pyrepr end;
def pyjson: if type == "array" then "[" + (map(pyjson) | join(", ")) + "]"
    elif type == "object" then "{" + ([to_entries[] | (.key | tojson) + ": " + (.value | pyjson)] | join(", ")) + "}"
    else tojson end;
def field($f): if type == "object" and has($f) then .[$f] else error("no field " + $f) end;
'
# rc_jq PROGRAM [JQ-ARGS]: jq -r PROGRAM on the one JSON document on
# stdin, with the definitions above
rc_jq () {
    prog=$1; shift
    jq -n -r "$@" "$RC_JQ_DEFS input | $prog"
}

# host_field ID FIELD: a field of one host from `rollclone hosts --json`.
host_field () {
    "$RC" hosts --json | rc_jq \
        '(first(.[] | select(.id == $id)) // error("no host")) | field($f) | if type == "string" then . else pyjson end' \
        --arg id "$1" --arg f "$2"
}
host_is () { [ "$(host_field "$1" state 2>/dev/null)" = "$2" ]; }
# hosts_are STATE HOST...: every HOST is in STATE, asked with one
# `rollclone hosts --json` (not one CLI call per host); otherwise non-zero
# and "not STATE: HOST..." on stdout
hosts_are () {
    _ha_st=$1; shift
    _ha_out=$("$RC" hosts --json 2>/dev/null | rc_jq '
        ($hs | split(" ") | map(select(. != ""))) as $want
        | [.[] | select(.state == $st) | .id] as $have
        | [$want[] | select(. as $w | any($have[]; . == $w) | not)] | join(" ")' \
        --arg st "$_ha_st" --arg hs "$*") || { echo "not $_ha_st: no answer"; return 1; }
    [ -z "$_ha_out" ] || { echo "not $_ha_st: $_ha_out"; return 1; }
}
# wait_online SECONDS N: waits until host-1..host-N are all online (one
# deadline for all: the agents start at once); non-zero after it, saying
# which hosts are not
wait_online () {
    _wo_hosts=$(seq -f 'host-%g' 1 "$2" | tr '\n' ' ')
    # shellcheck disable=SC2086
    wait_for "$1" hosts_are online $_wo_hosts && return 0
    # shellcheck disable=SC2086
    hosts_are online $_wo_hosts >&2
    return 1
}
host_count () { "$RC" hosts --json | rc_jq 'length'; }
info_field () { "$RC" info --json | rc_jq 'field($f) | pystr' --arg f "$1"; }
# sql QUERY: runs a query on the coordinator's database (read only), rows
# as python's sqlite3 printed them (NULL as None); waits up to 5 s for a
# lock, as python's did
sql () {
    sqlite3 -readonly -nullvalue None -cmd '.timeout 5000' "$T/coord-data/coordinator.db" "$1"
}

# ---------------------------------------------------------------------------
# The test web app: rc_webapp I adds an [app web] section to agent I's
# config: hooks log to $T/agent-I/hooks.log, restart starts a web server
# (rc_testweb) on its own port serving current/, health is an HTTP GET of
# /health (present in good releases). make_release V [broken|badinstall]
# builds $T/art/V.tgz; its sha256 is in $T/art/V.sha. The app accepts
# artifacts from the coordinator under file://$T/art/ only (artifact_sources,
# or $RC_ARTIFACT_SOURCES);
# more [app web] lines come from $RC_APP_EXTRA (may use $i).
HOOK="$(cd "$(dirname "$0")/../.." && pwd)/scripts/webapp-hook.sh"
# the hook's web server (tests/tools/rc_testweb.c), for the hooks the
# agents run (they inherit this environment)
RC_TESTWEB=$RC_BUILD/rc_testweb; export RC_TESTWEB
rc_webapp () {
    i=$1; dir="$T/agent-$i"; port=$(rc_port)
    echo "$port" >"$dir/port"
    # with RC_LB_SOCK, drain/undrain take the host out of / back into HAProxy
    lb=""
    [ -z "${RC_LB_SOCK:-}" ] || lb="$port $RC_LB_SOCK web/host-$i"
    cat >>"$T/agent-$i.conf" <<CONF

[app web]
releases_dir = $dir/web
install = sh $HOOK install $dir
restart = sh $HOOK restart $dir $port
drain = sh $HOOK drain $dir $lb
undrain = sh $HOOK undrain $dir $lb
health_url = http://127.0.0.1:$port/health
health_interval = ${RC_HEALTH_INTERVAL:-100ms}
hook_timeout = 20s
keep_releases = 3
artifact_sources = ${RC_ARTIFACT_SOURCES:-file://$T/art/}
$(eval "echo \"${RC_APP_EXTRA:-}\"")
CONF
}

make_release () {
    v=$1; kind=${2:-good}
    mkdir -p "$T/art/src-$v"
    echo "<h1>web version $v</h1>" >"$T/art/src-$v/index.html"
    [ "$kind" = broken ] || echo ok >"$T/art/src-$v/health"
    [ "$kind" = badinstall ] && touch "$T/art/src-$v/fail-install"
    tar -czf "$T/art/$v.tgz" -C "$T/art/src-$v" .
    sha256sum "$T/art/$v.tgz" | cut -d' ' -f1 >"$T/art/$v.sha"
}

# deploy V [ARGS]: rollclone deploy of release V; prints the deployment id.
deploy () {
    v=$1; shift
    "$RC" deploy --app web --version "$v" --artifact "file://$T/art/$v.tgz" \
        --sha256 "$(cat "$T/art/$v.sha")" "$@"
}
dep_field () { "$RC" status "$1" --json | rc_jq 'field($f) | pystr' --arg f "$2"; }
dep_host_field () {
    "$RC" status "$1" --json | rc_jq '.hosts[] | select(.host == $h) | field($f) | pystr' --arg h "$2" --arg f "$3"
}
dep_state_is () { [ "$(dep_field "$1" state 2>/dev/null)" = "$2" ]; }
# current I: the release agent I serves now, read over HTTP from its web app
current () { curl -s --max-time 2 "http://127.0.0.1:$(cat "$T/agent-$1/port")/index.html" | sed 's/.*version \([^<]*\)<.*/\1/'; }
# hook_count I ACTION [VERSION]: how often agent I ran a hook
hook_count () { grep -c "^$2 ${3:-}" "$T/agent-$1/hooks.log" 2>/dev/null || true; }
# rc_gone_loop PID-EXPR: shell text for a restart script that waits (at
# most 2 s) until the process PID-EXPR (expanded when the script runs) has
# exited. A zombie counts as gone: it holds no port, and the server is an
# orphan that this container's PID 1 reaps only after ~1.5 s.
rc_gone_loop () {
    cat <<SH
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40; do
    st=""; read -r st 2>/dev/null <"/proc/$1/stat"; st=\${st##*) }
    case \${st%% *} in '' | Z) break ;; esac
    sleep 0.05
done
SH
}
# stop every web server our hooks started
rc_webapp_cleanup () { for f in "$T"/agent-*/server.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; }
# dh_is DEP HOST STATE: the host's state in the deployment
dh_is () { [ "$(dep_host_field "$1" "$2" state 2>/dev/null)" = "$3" ]; }
# dep_ended DEP: the deployment reached an end state
dep_ended () { case "$(dep_field "$1" state 2>/dev/null)" in running|paused|rolling_back|"") return 1 ;; esac; }
current_is () { [ "$(current "$1")" = "$2" ]; }
# wait_ended SECONDS DEP: waits until the deployment reached an end state,
# like `wait_for SECONDS dep_ended DEP`, with one `rollclone status DEP
# --watch` (it follows the deployment and exits when it ended) instead of
# a CLI call per poll. Non-zero when it did not end in time. A watch that
# exits without an end (an error reply, a coordinator away for a minute)
# is started again until the deadline, as a poll would try again. Its
# final JSON (the deployment as it ended) is left as the snapshot that
# snap_field reads (below); its events and any sanitizer report go to
# $T/wait_ended.log (a report there fails the test).
wait_ended () {
    _we_end=$(($(date +%s) + $1))
    while :; do
        rm -f "$T/snap.json"
        timeout -k 5 $((_we_end - $(date +%s) + 1)) "$RC" status "$2" --watch --json \
            >"$T/snap.json" 2>>"$T/wait_ended.log"
        # the JSON is printed once the deployment ended, and only then
        [ -s "$T/snap.json" ] && return 0
        [ "$(date +%s)" -lt "$_we_end" ] || return 1
        sleep 0.5
    done
}
# dep_snap DEP: one `rollclone status DEP --json`, kept in $T/snap.json for
# snap_field FIELD and snap_host_field HOST FIELD (as dep_field and
# dep_host_field print them): several fields of the same moment, one call
dep_snap () { "$RC" status "$1" --json >"$T/snap.json"; }
snap_field () { rc_jq 'field($f) | pystr' --arg f "$1" <"$T/snap.json"; }
snap_host_field () {
    rc_jq '.hosts[] | select(.host == $h) | field($f) | pystr' --arg h "$1" --arg f "$2" <"$T/snap.json"
}

# lb_stat SOCKET BACKEND/SERVER FIELD: a field of a server's row in
# HAProxy's show stat, asked on its runtime API (a unix socket) with socat
# (a python3 start per poll cost ~60 ms of CPU); fails, printing nothing,
# when the row or the field is missing.
# (The CSV's names and these fields hold no commas or quotes.)
lb_stat () {
    printf 'show stat\n' | socat -t 6 -T 6 - "UNIX-CONNECT:$1" | awk -F, -v b="${2%%/*}" -v n="${2#*/}" -v f="$3" '
        NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) if ($i == f) c = i; next }
        c && $1 == b && $2 == n { print $c; found = 1; exit }
        END { exit !found }'
}

# Artifacts over HTTP, for tests that hold the fetch phase open:
# rc_http_artifacts picks the port (P_ART) and lets rc_webapp's agents take
# artifacts from it (call it before rc_webapp); rc_http_artifacts_serve
# SECONDS serves $T/art/ there, each GET held that long; hdeploy V [ARGS]
# deploys release V from it.
rc_http_artifacts () {
    P_ART=$(rc_port)
    RC_ARTIFACT_SOURCES="http://127.0.0.1:$P_ART/"
}
rc_http_artifacts_serve () {
    rc_bg artifacts python3 -c "
import functools, http.server, time
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        time.sleep($1)
        super().do_GET()
http.server.ThreadingHTTPServer(('127.0.0.1', $P_ART), functools.partial(H, directory='$T/art')).serve_forever()"
    wait_for 30 curl -sf -o /dev/null "http://127.0.0.1:$P_ART/v1.sha" || fail "artifact server"
}
hdeploy () {
    v=$1; shift
    "$RC" deploy --app web --version "$v" --artifact "http://127.0.0.1:$P_ART/$v.tgz" \
        --sha256 "$(cat "$T/art/$v.sha")" "$@"
}
