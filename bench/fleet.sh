# bench/fleet.sh - sourced by bench/run.sh and bench/metrics.sh: a real
# coordinator and a simulated fleet (bench/rc_fleetsim.c) under $D/run, a
# temporary directory removed at exit with every process in $PIDS.
# Needs $B (build dir) and $RC.
D=$(mktemp -d /tmp/rollclone-bench.XXXXXX)
PIDS=""
cleanup () {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
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
    while [ $((k * 100)) -lt "$1" ]; do
        n=$(( $1 - k * 100 )); [ $n -gt 100 ] && n=100
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

# fleet_sims N DURATION LATENCY_OPTION: the simulators ($SIMS), 100 hosts
# per process (one process polling thousands of sockets would measure
# itself, not the coordinator); process k writes its latencies to
# $D/run/lat-k (LATENCY_OPTION: --latencies or --stamped-latencies) and its
# summary to $D/run/sim-k.json.
fleet_sims () {
    SIMS=""; k=0
    while [ $((k * 100)) -lt "$1" ]; do
        n=$(( $1 - k * 100 )); [ $n -gt 100 ] && n=100
        "$B/rc_fleetsim" --agent-endpoint "tcp://127.0.0.1:$P1" --publish-endpoint "tcp://127.0.0.1:$P2" \
            --server-key "$D/run/coordinator" --keys-dir "$D/run/agents" --hosts $n --prefix "s$k-" \
            --interval 1s --duration "$2" "$3" "$D/run/lat-$k" >"$D/run/sim-$k.json" 2>>"$D/run/sim.log" &
        SIMS="$SIMS $!"; PIDS="$PIDS $!"; k=$((k + 1))
    done
}
