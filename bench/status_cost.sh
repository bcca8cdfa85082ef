#!/bin/sh
# bench/status_cost.sh - what one status answer of a deployment of N hosts
# costs the coordinator's CPU (issue 13): whole (what `status ID --json` and
# the live view of --wait ask for) and summary (what --wait polls for
# otherwise). A real coordinator, a simulated fleet of N hosts (fleet.sh)
# that rolls out one deployment and is then stopped (offline_after is an
# hour, so the hosts stay online and the coordinator idles), then Q status
# requests of each kind one after another (tests/tools rc_frame), and the
# coordinator's ticks from /proc/PID/stat around each, less its idle rate.
# Run from the top of the tree after make: BENCH_HOSTS=1000 sh bench/status_cost.sh
set -u
B=$(pwd)/build
RC="$B/rollclone"
N=${BENCH_HOSTS:-1000}
Q=${BENCH_QUERIES:-500}
CLI_Q=${BENCH_CLI_QUERIES:-20}
. "$(dirname "$0")/fleet.sh"
ticks () { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

fleet_start "$N" 3600s
up=$(( $(ms) + 30000 + N * 6 ))
until "$RC" --timeout 2s info >/dev/null 2>&1; do
    [ "$(ms)" -lt "$up" ] || { echo "status_cost: the coordinator did not start" >&2; exit 1; }
    sleep 0.5
done
fleet_sims "$N" 3600s --latencies
up=$(( $(ms) + 120000 ))
until [ "$("$RC" --timeout 10s info --json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["agents_online"])' 2>/dev/null)" = "$N" ]; do
    [ "$(ms)" -lt "$up" ] || { echo "status_cost: not all $N hosts online" >&2; exit 1; }
    sleep 1
done
timeout 300 "$RC" deploy --app web --version v2 --artifact file:///srv/web-v2.tgz \
    --sha256 "$(printf '%064d' 0)" --soak 1ms --batch 10% --wait --json >"$D/run/deploy.json" 2>/dev/null ||
    { echo "status_cost: the rollout did not succeed" >&2; exit 1; }
id=$(python3 -c "import json; print(json.load(open('$D/run/deploy.json'))['id'])")
for p in $SIMS; do kill -TERM "$p"; done
for p in $SIMS; do wait "$p" 2>/dev/null; done
sleep 2

F="$B/rc_frame --endpoint tcp://127.0.0.1:$P3 --server-key $D/run/coordinator --key $D/run/operator_secret --wait 30s"
# per_answer LABEL COUNT COMMAND...: the coordinator's CPU per answer, in
# ms, less what it spends idle over the same wall time
per_answer () {
    label=$1 count=$2; shift 2
    c0=$(ticks "$cpid"); t0=$(ms)
    "$@" >"$D/run/out" 2>&1 || { echo "status_cost: $label failed:" >&2; cat "$D/run/out" >&2; exit 1; }
    c1=$(ticks "$cpid"); t1=$(ms)
    python3 -c "
cpu = ($c1 - $c0) * 1000 / $hz - $idle * ($t1 - $t0) / 1000
print('%-34s %4d answers in %6d ms wall: %7.2f ms coordinator CPU each' % ('$label', $count, $t1 - $t0, cpu / $count))"
}
c0=$(ticks "$cpid"); t0=$(ms); sleep 5; c1=$(ticks "$cpid"); t1=$(ms)
idle=$(python3 -c "print(($c1 - $c0) * 1000 / $hz / ($t1 - $t0) * 1000)")
echo "$N hosts, deployment $id; coordinator idle: $idle ms CPU/s; load average before $load0"
$F --kind status --deployment "$id" --count 1 | head -1
$F --kind status --deployment "$id" --count 1 --summary | head -1
per_answer "whole (rc_frame)" "$Q" $F --kind status --deployment "$id" --count "$Q"
per_answer "summary (rc_frame --summary)" "$Q" $F --kind status --deployment "$id" --count "$Q" --summary
whole_cli () { i=0; while [ $i -lt "$CLI_Q" ]; do "$RC" status "$id" --json >/dev/null || return 1; i=$((i + 1)); done; }
per_answer "rollclone status ID --json" "$CLI_Q" whole_cli
echo "load average after $(cut -d' ' -f1-3 /proc/loadavg)"
