#!/bin/sh
# make bench, metrics part: the cost of a /metrics scrape of the coordinator
# with a simulated fleet (bench/rc_fleetsim.c: real CURVE connections, one
# heartbeat per host per second carrying host figures) of 1,000 and 10,000
# hosts (BENCH_METRICS_HOSTS). For each size: the median and p99 time of a
# scrape (curl, once a second, so every scrape makes the loop build a new
# snapshot: the most a scraper can cost it), the size of the text, and the
# heartbeat ack latency p99 over 20 s without scrapes and 20 s with them.
# A size whose fleet does not come online within BENCH_METRICS_REG_S
# (default 150 s) is reported as such (issue 13: very large fleets register
# slowly) and the next smaller one of 5000 2000 is tried in its place.
# Then the render and serve cost of 1,000 and 10,000 hosts in one process
# (BENCH_METRICS_INPROC_HOSTS), without agents: see the end.
# BENCH_ONLY=metrics runs this part alone.
set -u
case ${BENCH_ONLY:-} in '' | metrics) ;; *) exit 0 ;; esac
B=$(pwd)/build
RC="$B/rollclone"
SIZES=${BENCH_METRICS_HOSTS:-1000 10000}
REG_S=${BENCH_METRICS_REG_S:-150}
PHASE_S=${BENCH_METRICS_PHASE_S:-20}
. "$(dirname "$0")/fleet.sh"

# run N: prints one result line, or returns 1 when the fleet did not come online
run () {
    N=$1
    PM=$(port)
    fleet_start "$N" 10s "metrics_endpoint = 127.0.0.1:$PM"
    fleet_sims "$N" 3600s --stamped-latencies
    t0=$(ms); ok=1
    until [ "$("$RC" info --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["agents_online"])' 2>/dev/null)" = "$N" ]; do
        sleep 1
        [ $(( $(ms) - t0 )) -lt $((REG_S * 1000)) ] || { ok=0; break; }
    done
    online=$(( $(ms) - t0 ))
    if [ $ok = 1 ]; then
        sleep 5 # steady heartbeats
        a0=$(ms); sleep "$PHASE_S"; a1=$(ms)
        : >"$D/run/scrapes"
        end=$(( $(date +%s) + PHASE_S ))
        while [ "$(date +%s)" -lt "$end" ]; do
            curl -s -o "$D/run/m.txt" -w '%{time_total} %{size_download}' "http://127.0.0.1:$PM/metrics" >>"$D/run/scrapes"
            # the loop's share: the build time of the snapshot before
            echo " $(awk '/^rollclone_metrics_build_seconds / {print $2}' "$D/run/m.txt")" >>"$D/run/scrapes"
            sleep 1
        done
        b1=$(ms)
    fi
    for p in $SIMS; do kill -TERM "$p" 2>/dev/null; done
    for p in $SIMS; do wait "$p" 2>/dev/null; done
    kill -TERM "$cpid"; wait "$cpid" 2>/dev/null
    if [ $ok = 0 ]; then
        echo "$N hosts: not all online within ${REG_S}s (issue 13)"
        return 1
    fi
    cat "$D"/run/lat-* | python3 -c "
import sys
a0, a1, b1 = $a0, $a1, $b1
lat = [tuple(map(int, l.split())) for l in sys.stdin if l.strip()]
def p99(lo, hi):
    v = sorted(us for at, us in lat if lo <= at < hi)
    return v[int(len(v) * 0.99)] / 1000 if v else float('nan'), len(v)
rows = [l.split() for l in open('$D/run/scrapes') if len(l.split()) == 3]
s = sorted(float(r[0]) * 1000 for r in rows)
build = sorted(float(r[2]) * 1000 for r in rows[1:])
size = int(rows[-1][1])
(pa, na), (pb, nb) = p99(a0, a1), p99(a1, b1)
print('%6d hosts: scrape median %.1f ms, max %.1f ms (%d scrapes, %d KiB); loop build median %.1f ms; '
      'heartbeat ack p99 %.1f ms without scrapes, %.1f ms with (%d / %d acks)' % (
      $N, s[len(s) // 2], s[-1], len(s), size // 1024, build[len(build) // 2] if build else float('nan'),
      pa, pb, na, nb))
"
}

echo "bench: /metrics scrape cost, coordinator + simulated agents on loopback (one scrape a second for ${PHASE_S}s)"
for N in $SIZES; do
    if ! run "$N" && [ "$N" -gt 5000 ]; then
        for M in 5000 2000; do run "$M" && break; done
    fi
done

# The same code with no agents: build/rc_metricsbench fills the snapshot
# with N made-up hosts (the fleet the machine may not be able to simulate)
# and scrapes the coordinator's real endpoint over loopback. "cold": the
# snapshot is older than RC_METRICS_FRESH_MS, so the scrape waits for the
# loop to build one (as a Prometheus scraping every 15 s always does);
# "warm": a second scrape of the same snapshot.
echo "bench: /metrics render and serve cost in one process (simulated snapshot: no agents, no heartbeats)"
for N in ${BENCH_METRICS_INPROC_HOSTS:-1000 10000}; do
    "$B/rc_metricsbench" --hosts "$N" --scrapes "${BENCH_METRICS_INPROC_SCRAPES:-15}" \
        || echo "$N hosts: rc_metricsbench failed"
done
