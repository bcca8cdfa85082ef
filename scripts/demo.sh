#!/bin/sh
# make demo: a coordinator and agents on this machine, with their own keys,
# directories and loopback ports, then `rollclone hosts`. Every process it
# starts is stopped on success, failure or Ctrl-C.
set -u
B=$(pwd)/build
D=$(mktemp -d /tmp/rollclone-demo.XXXXXX)
PIDS=""
cleanup () {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
port () { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
N=${DEMO_AGENTS:-5}
P1=$(port); P2=$(port); P3=$(port)
mkdir -p "$D/agents" "$D/operators"
"$B/rollclone" keygen "$D/coordinator.key" >/dev/null
"$B/rollclone" keygen "$D/operator.key" >/dev/null
cp "$D/operator.key" "$D/operators/"
cat >"$D/coordinator.conf" <<CONF
[coordinator]
data_dir = $D/data
agent_endpoint = tcp://127.0.0.1:$P1
publish_endpoint = tcp://127.0.0.1:$P2
control_endpoint = tcp://127.0.0.1:$P3
secret_key = coordinator.key_secret
agent_keys_dir = agents
operator_keys_dir = operators
heartbeat_interval = 1s
offline_after = 3s
[client]
control_endpoint = tcp://127.0.0.1:$P3
coordinator_public_key = coordinator.key
secret_key = operator.key_secret
CONF
export ROLLCLONE_CONFIG="$D/coordinator.conf"
i=1
while [ $i -le "$N" ]; do
    "$B/rollclone" keygen "$D/agent-$i.key" >/dev/null
    cp "$D/agent-$i.key" "$D/agents/"
    mkdir -p "$D/web-$i"
    cat >"$D/agent-$i.conf" <<CONF
[agent]
id = web-$i
coordinator_endpoint = tcp://127.0.0.1:$P1
coordinator_publish_endpoint = tcp://127.0.0.1:$P2
coordinator_public_key = coordinator.key
secret_key = agent-$i.key_secret
state_dir = web-$i/state
labels = role=web,rack=r$(( (i + 1) / 2 ))
heartbeat_interval = 1s
[app demo]
releases_dir = web-$i/demo
CONF
    i=$((i + 1))
done
echo "== coordinator on 127.0.0.1:$P1 (agents), :$P2 (publish), :$P3 (control)"
"$B/rollclone-coordinator" --config "$D/coordinator.conf" >"$D/coordinator.log" 2>&1 &
PIDS="$PIDS $!"
i=1
while [ $i -le "$N" ]; do
    "$B/rollclone-agent" --config "$D/agent-$i.conf" >"$D/agent-$i.log" 2>&1 &
    PIDS="$PIDS $!"
    i=$((i + 1))
done
echo "== $N agents started; waiting for them to register"
tries=0
while [ $tries -lt 50 ]; do
    online=$("$B/rollclone" hosts --json 2>/dev/null | grep -c '"state": "online"')
    [ "$online" = "$N" ] && break
    sleep 0.2; tries=$((tries + 1))
done
echo "== rollclone hosts"
"$B/rollclone" hosts || exit 1
echo
echo "== rollclone info"
"$B/rollclone" info || exit 1
[ "$online" = "$N" ] || { echo "demo: only $online of $N agents came online" >&2; exit 1; }
