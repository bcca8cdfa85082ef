#!/bin/sh
# make bench: the control plane's speed and size, on loopback. A real
# coordinator and a simulated fleet (bench/rc_fleetsim.c: real CURVE
# connections, hello + heartbeats, instant step reports). Reports medians of
# several runs:
#   - registration of the whole fleet (each first hello is one transaction)
#   - heartbeat ack latency (median and p99) at one beat per host per second,
#     through a rollout and `hosts` queries
#   - `rollclone hosts --json` time with the whole fleet
#   - a rollout over the fleet in 10 batches: total time and time per batch
#     (the agents answer at once, so this is the coordinator's own overhead)
#   - the coordinator's resident memory and CPU time
#   - artifact extraction: the agent's unpacking (bench/rc_unpackbench.c,
#     polled like the executor) against tar -xzf of the same ~200 MB .tgz
# BENCH_HOSTS (default 500) and BENCH_RUNS (default 3) change the size;
# BENCH_ONLY=extract or BENCH_ONLY=fleet runs one part (BENCH_ONLY=
# zerodowntime or metrics none of these: bench/zerodowntime.sh and
# bench/metrics.sh, run after this one).
set -u
case ${BENCH_ONLY:-} in zerodowntime | metrics) exit 0 ;; esac
B=$(pwd)/build
RC="$B/rollclone"
N=${BENCH_HOSTS:-500}
RUNS=${BENCH_RUNS:-3}
. "$(dirname "$0")/fleet.sh"
median () { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

one_run () {
    r=$1
    fleet_start "$N" 5s
    fleet_sims "$N" 60s --latencies
    t0=$(ms)
    until [ "$("$RC" info --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["agents_online"])' 2>/dev/null)" = "$N" ]; do
        sleep 0.2
        [ $(( $(ms) - t0 )) -lt 60000 ] || { echo "bench: fleet did not come online" >&2; exit 1; }
    done
    echo "$(( $(ms) - t0 ))" >>"$D/online_ms"
    sleep 3   # steady heartbeats
    for _ in 1 2 3 4 5; do
        t=$(ms); "$RC" hosts --json >/dev/null; echo "$(( $(ms) - t ))" >>"$D/hosts_ms"
    done
    t=$(ms)
    # simulated hosts fetch nothing: any well-formed sha256 will do
    "$RC" deploy --app web --version "v$r" --artifact "file:///srv/web-v$r.tgz" --batch 10% \
        --sha256 "$(printf '%064d' 0)" \
        --soak 1s --wait >/dev/null 2>&1 || { echo "bench: rollout failed" >&2; exit 1; }
    took=$(( $(ms) - t ))
    echo "$took" >>"$D/deploy_ms"
    echo "$(( took / 10 ))" >>"$D/batch_ms"
    awk '/VmRSS/ {print $2}' "/proc/$cpid/status" >>"$D/rss_kb"
    awk '{print $14 + $15}' "/proc/$cpid/stat" >>"$D/cpu_ticks"
    for p in $SIMS; do kill -TERM "$p"; done
    for p in $SIMS; do wait "$p" 2>/dev/null; done
    cat "$D"/run/lat-* | sort -n >"$D/run/lat"
    awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' "$D/run/lat" >>"$D/ack_med"
    awk '{a[NR]=$1} END {print a[int(NR*0.99)]}' "$D/run/lat" >>"$D/ack_p99"
    python3 -c "import json,glob; print(max(json.load(open(f))['registered_all_ms'] for f in glob.glob('$D/run/sim-*.json')))" >>"$D/reg_ms"
    kill -TERM "$cpid"; wait "$cpid" 2>/dev/null
}

# A ~200 MB .tgz: 190 files of 1 MiB that do not compress (binaries,
# images) and 5000 small text files; then each run unpacks it with tar and
# with the agent's code into fresh directories.
extract_bench () {
    src=$D/x/src
    mkdir -p "$src/bin" "$src/static"
    i=0
    while [ $i -lt 190 ]; do head -c 1048576 /dev/urandom >"$src/bin/blob$i"; i=$((i + 1)); done
    python3 -c "
import os
for i in range(5000):
    with open(os.path.join('$src/static', 'f%d.txt' % i), 'w') as f:
        f.write(('line %d of a small text file\n' % i) * 40)"
    tar -czf "$D/x/app.tgz" -C "$src" .
    rm -rf "$src"
    size=$(( $(stat -c %s "$D/x/app.tgz") / 1048576 ))
    r=1
    while [ $r -le "$RUNS" ]; do
        rm -rf "$D/x/out" && mkdir "$D/x/out" && sync
        t=$(ms); tar -xzf "$D/x/app.tgz" -C "$D/x/out"; echo "$(( $(ms) - t ))" >>"$D/tar_ms"
        rm -rf "$D/x/out" && mkdir "$D/x/out" && sync
        "$B/rc_unpackbench" "$D/x/app.tgz" "$D/x/out" >>"$D/ours_ms" || exit 1
        rm -rf "$D/x/out" && mkdir "$D/x/out" && sync
        "$B/rc_unpackbench" "$D/x/app.tgz" "$D/x/out" --sync >>"$D/ours_sync_ms" || exit 1
        r=$((r + 1))
    done
    rm -rf "$D/x"
    echo "bench: extraction of a $size MB .tgz, $RUNS runs (medians)"
    printf '%-48s %s\n' "tar -xzf" "$(median <"$D/tar_ms") ms"
    printf '%-48s %s\n' "agent unpack (libarchive, worker thread)" "$(median <"$D/ours_ms") ms"
    printf '%-48s %s\n' "  the same, with syncfs before the switch" "$(median <"$D/ours_sync_ms") ms"
}
if [ "${BENCH_ONLY:-}" != fleet ]; then
    extract_bench
fi
[ "${BENCH_ONLY:-}" = extract ] && exit 0

echo "bench: coordinator + $N simulated agents on loopback, $RUNS runs (medians)"
r=1
while [ $r -le "$RUNS" ]; do one_run $r; r=$((r + 1)); done
hz=$(getconf CLK_TCK)
printf '%-48s %s\n' "every host registered (first hellos)" "$(median <"$D/reg_ms") ms"
printf '%-48s %s\n' "fleet online in rollclone info" "$(median <"$D/online_ms") ms"
printf '%-48s %s\n' "heartbeat ack latency, median" "$(median <"$D/ack_med") us"
printf '%-48s %s\n' "heartbeat ack latency, p99" "$(median <"$D/ack_p99") us"
printf '%-48s %s\n' "rollclone hosts --json ($N hosts)" "$(median <"$D/hosts_ms") ms"
printf '%-48s %s\n' "rollout to $N hosts in 10 batches" "$(median <"$D/deploy_ms") ms"
printf '%-48s %s\n' "  coordinator time per batch" "$(median <"$D/batch_ms") ms"
printf '%-48s %s\n' "coordinator resident memory" "$(( $(median <"$D/rss_kb") / 1024 )) MiB"
printf '%-48s %s\n' "coordinator CPU for a whole run" "$(( $(median <"$D/cpu_ticks") * 1000 / hz )) ms"
