# bench/fleet.sh - sourced by bench/run.sh and bench/metrics.sh: a real
# coordinator and a simulated fleet (bench/rc_fleetsim.c) under $D/run, a
# temporary directory removed at exit with every process in $PIDS. The
# directory stays when the bench failed (exit status not 0) or set
# BENCH_KEPT=1 (a size that did not come online), or with BENCH_KEEP=1; the
# bench then says where it is. Needs $B (build dir) and $RC.
D=$(mktemp -d /tmp/rollclone-bench.XXXXXX)
PIDS=""
BENCH_KEPT=${BENCH_KEEP:-}
cleanup () {
    status=$?
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    if [ "$status" != 0 ] || [ -n "$BENCH_KEPT" ]; then
        echo "bench: files kept in $D (coordinator log: $D/run*/c.log)" >&2
    else
        rm -rf "$D"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Thousands of CURVE connections take two descriptors each on both sides:
# as many as the hard limit allows (root may raise the hard limit too).
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -H -n)" 2>/dev/null
# Hosts per simulator process: one process polling thousands of sockets
# would measure itself, not the coordinator; a hundred processes would take
# the coordinator's share of two cores away (each runnable process gets an
# equal one). Keys and simulators use the same groups (prefix s<k>-).
SIM_PER=${BENCH_SIM_HOSTS:-500}
# Debian's python3 first (see tests/e2e/lib.sh)
PATH=/usr/bin:/bin:$PATH; export PATH
port () { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ms () { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }

# fleet_start N OFFLINE_AFTER [EXTRA_LINE]: keys (one per simulated host: a
# key registers one host id, written into agent_keys_dir before the
# coordinator reads it), config ($ROLLCLONE_CONFIG; ports P1 P2 P3) and the
# coordinator ($cpid), with EXTRA_LINE in its [coordinator] section.
fleet_start () {
    rm -rf "$D/run" && mkdir -p "$D/run/agents" "$D/run/operators"
    "$RC" keygen "$D/run/coordinator" >/dev/null
    "$RC" keygen "$D/run/operator" >/dev/null
    cp "$D/run/operator" "$D/run/operators/"
    k=0
    while [ $((k * SIM_PER)) -lt "$1" ]; do
        n=$(( $1 - k * SIM_PER )); [ $n -gt "$SIM_PER" ] && n=$SIM_PER
        "$B/rc_fleetsim" --keygen --keys-dir "$D/run/agents" --hosts $n --prefix "s$k-" || exit 1
        k=$((k + 1))
    done
    P1=$(port); P2=$(port); P3=$(port)
    cat >"$D/run/c.conf" <<CONF
[coordinator]
data_dir = $D/run/data
agent_endpoint = tcp://127.0.0.1:$P1
publish_endpoint = tcp://127.0.0.1:$P2
control_endpoint = tcp://127.0.0.1:$P3
secret_key = coordinator_secret
agent_keys_dir = agents
operator_keys_dir = operators
heartbeat_interval = 1s
offline_after = $2
${3:-}
[client]
control_endpoint = tcp://127.0.0.1:$P3
coordinator_public_key = coordinator
secret_key = operator_secret
CONF
    export ROLLCLONE_CONFIG="$D/run/c.conf"
    "$B/rollclone-coordinator" --config "$D/run/c.conf" >"$D/run/c.log" 2>&1 &
    cpid=$!; PIDS="$PIDS $cpid"
    sleep 0.3
}

# fleet_sims N DURATION LATENCY_OPTION: the simulators ($SIMS), $SIM_PER
# hosts per process; process k writes its latencies to
# $D/run/lat-k (LATENCY_OPTION: --latencies or --stamped-latencies) and its
# summary to $D/run/sim-k.json.
fleet_sims () {
    SIMS=""; k=0
    while [ $((k * SIM_PER)) -lt "$1" ]; do
        n=$(( $1 - k * SIM_PER )); [ $n -gt "$SIM_PER" ] && n=$SIM_PER
        "$B/rc_fleetsim" --agent-endpoint "tcp://127.0.0.1:$P1" --publish-endpoint "tcp://127.0.0.1:$P2" \
            --server-key "$D/run/coordinator" --keys-dir "$D/run/agents" --hosts $n --prefix "s$k-" \
            --interval 1s --duration "$2" "$3" "$D/run/lat-$k" >"$D/run/sim-$k.json" 2>>"$D/run/sim.log" &
        SIMS="$SIMS $!"; PIDS="$PIDS $!"; k=$((k + 1))
    done
}
