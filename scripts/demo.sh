#!/bin/sh
# make demo: a real rolling update on this machine. A coordinator and five
# agents (own keys, directories and loopback ports), each serving a small
# web app whose page shows its version. Deploys v1, rolls to v2 in batches
# of 2, then rolls out a broken v3 that fails its health check in the first
# batch and is rolled back on its own. Every process it starts is stopped on
# success, failure or Ctrl-C.
set -u
B=$(pwd)/build
HOOK=$(pwd)/scripts/webapp-hook.sh
RC="$B/rollclone"
D=$(mktemp -d /tmp/rollclone-demo.XXXXXX)
N=${DEMO_AGENTS:-5}
PIDS=""
cleanup () {
    for f in "$D"/web-*/server.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    if [ -n "${DEMO_KEEP:-}" ]; then echo "demo files kept in $D"; else rm -rf "$D"; fi
}
trap cleanup EXIT
trap 'echo; echo "demo interrupted"; exit 130' INT TERM HUP
die () { echo "demo: $*" >&2; echo "logs: $D (kept)"; DEMO_KEEP=1; exit 1; }
# Debian's python3 first (see tests/e2e/lib.sh)
PATH=/usr/bin:/bin:$PATH; export PATH
port () { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
step () { printf '\n\033[1m== %s\033[0m\n' "$*"; }
page () { curl -s --max-time 2 "http://127.0.0.1:$(cat "$D/web-$1/port")/" | sed 's/<[^>]*>//g'; }

step "keys, configs and a coordinator on 127.0.0.1"
P1=$(port); P2=$(port); P3=$(port)
mkdir -p "$D/agents" "$D/operators" "$D/artifacts"
"$RC" keygen "$D/coordinator.key" >/dev/null || die "keygen"
"$RC" keygen "$D/operator.key" >/dev/null || die "keygen"
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
"$B/rollclone-coordinator" --config "$D/coordinator.conf" >"$D/coordinator.log" 2>&1 &
PIDS="$PIDS $!"
echo "coordinator: agents :$P1, publish :$P2, control :$P3 (CURVE on all three)"

step "$N agents, each with a web app on its own port"
i=1
while [ $i -le "$N" ]; do
    h="$D/web-$i"
    mkdir -p "$h"
    port >"$h/port"
    "$RC" keygen "$D/agent-$i.key" >/dev/null || die "keygen"
    cp "$D/agent-$i.key" "$D/agents/"
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

[app web]
releases_dir = web-$i/web
drain = sh $HOOK drain $h
install = sh $HOOK install $h
restart = sh $HOOK restart $h $(cat "$h/port")
undrain = sh $HOOK undrain $h
health_url = http://127.0.0.1:$(cat "$h/port")/health
health_interval = 200ms
hook_timeout = 30s
CONF
    "$B/rollclone-agent" --config "$D/agent-$i.conf" >"$D/agent-$i.log" 2>&1 &
    PIDS="$PIDS $!"
    i=$((i + 1))
done
tries=0
until [ "$("$RC" hosts --json 2>/dev/null | grep -c '"state": "online"')" = "$N" ]; do
    tries=$((tries + 1)); [ $tries -lt 50 ] || die "agents did not come online"
    sleep 0.2
done
"$RC" hosts

# three releases: v1 and v2 are good; v3 lacks /health, so it never passes
for v in v1 v2 v3; do
    mkdir -p "$D/artifacts/$v"
    echo "<html><body><h1>demo web app, version $v</h1></body></html>" >"$D/artifacts/$v/index.html"
    [ $v = v3 ] || echo ok >"$D/artifacts/$v/health"
    tar -czf "$D/artifacts/$v.tgz" -C "$D/artifacts/$v" .
done
sha () { sha256sum "$D/artifacts/$1.tgz" | cut -d' ' -f1; }
deploy () { v=$1; shift; "$RC" deploy --app web --version "$v" --artifact "file://$D/artifacts/$v.tgz" --sha256 "$(sha "$v")" "$@"; }

step "deploy v1 to all hosts at once"
deploy v1 --batch 100% --soak 1s --wait || die "v1 did not deploy"
echo "web-1 serves: $(page 1)"

step "rolling update to v2, batches of 2, each host healthy for 2s before the next batch"
deploy v2 --batch 2 --soak 2s --wait || die "v2 did not deploy"
echo "web-5 serves: $(page 5)"

step "a broken v3: its health check fails in the first batch"
if deploy v3 --batch 2 --soak 1s --health-timeout 3s --wait; then
    die "v3 should have failed"
fi
echo "v3 failed its health check and was rolled back automatically"

step "the fleet after the demo: every host back on v2, v1 kept as a rollback point"
"$RC" hosts
i=1
while [ $i -le "$N" ]; do
    v=$(page $i)
    echo "web-$i: $v"
    case "$v" in *"version v2"*) ;; *) die "web-$i does not serve v2" ;; esac
    i=$((i + 1))
done
step "what happened, as the coordinator recorded it"
"$RC" status
echo
echo "demo done: stopping the coordinator, $N agents and their web apps"
