#!/bin/sh
# make bench: the control plane's speed and size, on loopback. A real
# coordinator and a simulated fleet (bench/rc_fleetsim.c: real CURVE
# connections, one key per host, hello + a heartbeat a second, step reports
# sent the moment an instruction arrives; bench/fleet.sh starts one
# simulator process per BENCH_SIM_HOSTS (500) hosts). For each fleet size
# in BENCH_HOSTS (default 500; a list: BENCH_HOSTS=1000,5000,10000), the
# medians of BENCH_RUNS runs (default 3 up to 2,000 hosts, 1 above) of:
#   - registration: every simulated host acknowledged (first hellos), and
#     the fleet online in `rollclone info`, with the coordinator's and the
#     simulators' CPU over it and the connections the kernel dropped from
#     a full accept queue meanwhile (TcpExtListenOverflows in
#     /proc/net/netstat, machine-wide); a fleet not online within
#     BENCH_REG_S (default 30 s + 12 s per 1,000 hosts) is a figure ("3,412
#     of 5,000 online after 90 s"), that size's rollouts are skipped and
#     the bench goes on
#   - heartbeat ack latency p50/p99 and coordinator CPU per second in a
#     steady state of BENCH_STEADY_S (10) seconds with nothing else to do
#   - `rollclone hosts --json` time with the whole fleet (5 calls)
#   - a rollout in 10 batches (--batch 10% --soak 1ms: the agents answer
#     at once, so the time is the coordinator's own; one not ended within
#     BENCH_DEPLOY_S, default 60 s + 12 s per 1,000 hosts, is a figure
#     and is aborted), from the deployment's
#     created to its finished (the coordinator's clock), per batch, and the
#     coordinator's CPU per second during it; then the same with
#     --window 10% when `rollclone deploy --help` knows --window
#   - heartbeat ack p99 during the rollouts
#   - the coordinator's resident memory after the rollouts (VmRSS) and its
#     peak (VmHWM)
# Each size prints a Markdown table (the form of docs/benchmarks.md) with
# the date, the commit and the load average before and after.
# Also: artifact extraction (bench/rc_unpackbench.c against tar -xzf of the
# same ~200 MB .tgz) and an idle agent's RSS and CPU (bench/idle_cpu.sh).
# BENCH_ONLY=fleet, extract or idle runs one part (BENCH_ONLY=zerodowntime,
# metrics or ansible none of these: bench/zerodowntime.sh, bench/metrics.sh
# and bench/ansible.sh, which make bench runs after this one). Exit status 1
# only when the bench itself broke (a coordinator that did not start, a
# fleet of which no host came online, a deploy refused as bad input); a
# missed goal is a figure.
set -u
case ${BENCH_ONLY:-} in zerodowntime | metrics | ansible) exit 0 ;; esac
B=$(pwd)/build
RC="$B/rollclone"
RUNS=${BENCH_RUNS:-3}
SIZES=$(echo "${BENCH_HOSTS:-500}" | tr ',' ' ')
STEADY_S=${BENCH_STEADY_S:-10}
. "$(dirname "$0")/fleet.sh"
median () { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }
# 12345 -> 12,345
th () { echo "$1" | sed ':a;s/\([0-9]\)\([0-9]\{3\}\)\($\|[^0-9]\)/\1,\2\3/;ta'; }
ticks () { awk '{print $14 + $15}' "/proc/$1/stat"; }
# connections dropped because an accept queue was full, machine-wide
overflows () { awk '/^TcpExt:/ { if (!n) { for (i = 1; i <= NF; i++) if ($i == "ListenOverflows") c = i; n = 1 } else print $c }' /proc/net/netstat; }
hz=$(getconf CLK_TCK)
# hosts online as `rollclone info` says; the last answer when it gave none
# (a coordinator too busy to answer within 10 s is part of the figure)
online_now () {
    "$RC" --timeout 10s info --json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["agents_online"])' 2>/dev/null || echo "$on"
}
# the last deployment's created -> finished (ms, the coordinator's clock) and state
last_deployment () {
    python3 -c "
import sqlite3
db = sqlite3.connect('file:$D/run/data/coordinator.db?mode=ro', uri=True)
c, f, s = db.execute('SELECT created, finished, state FROM deployments ORDER BY created DESC LIMIT 1').fetchone()
print(f - c if f else -1, s)"
}
# latency p50 p99 in ms of the acks stamped within [FROM, TO) (monotonic ms)
lat_window () {
    cat "$D"/run/lat-* 2>/dev/null | awk -v a="$1" -v b="$2" '$1 >= a && $1 < b {print $2}' | sort -n |
        awk '{v[NR]=$1} END {q=int(NR*0.99); if (q < 1) q=1; if (NR) printf "%.1f %.1f %d\n", v[int((NR+1)/2)]/1000, v[q]/1000, NR; else print "- - 0"}'
}
WINDOW=""
"$RC" deploy --help 2>&1 | grep -q -- '--window' && WINDOW=1

# deploy_run KIND VERSION ARGS...: one rollout over the fleet; appends
# to $R/KIND_* (coordinator time, per batch, CPU/s) and returns 1 when the
# bench broke (deploy refused: exit 2 or 3)
deploy_run () {
    kind=$1 v=$2; shift 2
    c0=$(ticks "$cpid"); t=$(ms)
    # simulated hosts fetch nothing: any well-formed sha256 will do; a
    # coordinator that loses hosts mid-rollout waits minutes for them
    # (offline grace), so the rollout has a deadline too
    timeout "$DEPLOY_S" "$RC" deploy --app web --version "$v" --artifact "file:///srv/web-$v.tgz" \
        --sha256 "$(printf '%064d' 0)" --soak 1ms "$@" --wait >"$D/run/deploy-$kind.out" 2>&1
    rc=$?
    t1=$(ms); c1=$(ticks "$cpid")
    echo "$t $t1" >"$D/run/span-$kind"
    case $rc in
        0) ;;
        1) echo "bench: $N hosts: the $kind rollout ended $(last_deployment | cut -d' ' -f2)" >&2
           echo x >>"$R/${kind}_failed" ;;
        124)
            id=$(python3 -c "
import sqlite3
db = sqlite3.connect('file:$D/run/data/coordinator.db?mode=ro', uri=True)
print(db.execute('SELECT id FROM deployments ORDER BY created DESC LIMIT 1').fetchone()[0])")
            "$RC" --timeout 30s status "$id" --json 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin); hs = d['hosts']
print('not ended after $DEPLOY_S s: batch %d of %d, %d of %d hosts succeeded, %d offline or failed' % (
    d['batch'], d['batches'], sum(h['state'] == 'succeeded' for h in hs), len(hs),
    sum(h['state'] in ('unknown', 'failed') for h in hs)))" >>"$R/${kind}_unfinished" 2>/dev/null ||
                echo "not ended after $DEPLOY_S s" >>"$R/${kind}_unfinished"
            "$RC" --timeout 30s abort "$id" --no-rollback >/dev/null 2>&1
            BENCH_KEPT=1
            return 2 ;;
        *) echo "bench: deploy $* exited $rc:" >&2; cat "$D/run/deploy-$kind.out" >&2; return 1 ;;
    esac
    set -- $(last_deployment)
    echo "$1" >>"$R/${kind}_ms"
    echo $(( $1 / 10 )) >>"$R/${kind}_batch_ms"
    echo $(( (c1 - c0) * 1000 / hz * 1000 / ( t1 - t + 1 ) )) >>"$R/${kind}_cpu"
}

# one_run R: one coordinator and fleet of $N hosts; figures into $R/
one_run () {
    r=$1
    fleet_start "$N" "${BENCH_OFFLINE:-5s}"
    # it reads every agent key before it answers: 10,000 take a while
    up=$(( $(ms) + 30000 + N * 6 ))
    until "$RC" --timeout 2s info >/dev/null 2>&1; do
        kill -0 "$cpid" 2>/dev/null && [ "$(ms)" -lt "$up" ] ||
            { echo "bench: the coordinator did not start:" >&2; tail "$D/run/c.log" >&2; return 1; }
        sleep 0.5
    done
    lo0=$(overflows)
    fleet_sims "$N" 3600s --stamped-latencies
    t0=$(ms); c0=$(ticks "$cpid"); deadline=$(( t0 + REG_S * 1000 )); on=0
    step=0.2; [ "$N" -gt 1000 ] && step=1
    while :; do
        on=$(online_now)
        [ "$on" = "$N" ] && break
        [ "$(ms)" -lt "$deadline" ] || break
        sleep $step
    done
    reg_wall=$(( $(ms) - t0 ))
    echo $(( ($(ticks "$cpid") - c0) * 1000 / hz )) >>"$R/reg_cpu"
    sim_ticks=0; for p in $SIMS; do sim_ticks=$((sim_ticks + $(ticks "$p"))); done
    echo $(( sim_ticks * 1000 / hz )) >>"$R/reg_sim_cpu"
    echo $(( $(overflows) - lo0 )) >>"$R/reg_overflows"
    echo "$on" >>"$R/online"
    sleep 3 # steady heartbeats
    a0=$(ms); s0=$(ticks "$cpid"); sleep "$STEADY_S"; a1=$(ms); s1=$(ticks "$cpid")
    echo $(( (s1 - s0) * 1000 / hz * 1000 / (a1 - a0) )) >>"$R/idle_cpu"
    for _ in 1 2 3 4 5; do
        t=$(ms)
        if "$RC" --timeout 30s hosts --json >/dev/null; then
            echo "$(( $(ms) - t ))" >>"$R/hosts_ms"
        else
            echo "no answer in 30 s" >>"$R/hosts_failed"
        fi
    done
    broke=0
    if [ "$on" = "$N" ]; then
        echo "$reg_wall" >>"$R/online_ms"
        deploy_run batch "b$r" --batch 10%
        case $? in 1) broke=1 ;; 0) [ -n "$WINDOW" ] && { deploy_run window "w$r" --window 10%; [ $? = 1 ] && broke=1; } ;; esac
    else
        echo "$on of $N online after $(( reg_wall / 1000 )) s" >>"$R/not_online"
        BENCH_KEPT=1
    fi
    awk '/VmRSS/ {printf "%.0f\n", $2 / 1024}' "/proc/$cpid/status" >>"$R/rss_mib"
    awk '/VmHWM/ {printf "%.0f\n", $2 / 1024}' "/proc/$cpid/status" >>"$R/hwm_mib"
    echo $(( ($(ticks "$cpid") - c0) * 1000 / hz )) >>"$R/cpu_ms"
    for p in $SIMS; do kill -TERM "$p"; done
    for p in $SIMS; do wait "$p" 2>/dev/null; done
    # the simulators write their stamped latencies as they exit
    set -- $(lat_window "$a0" "$a1")
    echo "$1" >>"$R/ack_p50"; echo "$2" >>"$R/ack_p99"
    if [ -f "$D/run/span-batch" ]; then
        set -- $(cat "$D/run/span-batch") $(cat "$D/run/span-window" 2>/dev/null)
        set -- $(lat_window "$1" "${4:-$2}")
        echo "$2" >>"$R/roll_p99"
    fi
    python3 -c "
import json, glob
v = [json.load(open(f))['registered_all_ms'] for f in glob.glob('$D/run/sim-*.json')]
print(max(v) if v and min(v) >= 0 else -1)" >>"$R/reg_ms" 2>/dev/null
    kill -0 "$cpid" 2>/dev/null || { echo "bench: the coordinator died:" >&2; tail "$D/run/c.log" >&2; broke=1; }
    kill -TERM "$cpid"; wait "$cpid" 2>/dev/null
    mv "$D/run" "$D/run-$N-$r"
    [ $broke = 0 ]
}

# row FIGURE FILE UNIT GOAL: one table row, the median of the runs
row () {
    v=""
    [ -s "$R/$2" ] && v=$(median <"$R/$2")
    case $v in '' | - | -1) v="-" ;; *) v="$(th "$v") $3" ;; esac
    printf '| %s | %s | %s |\n' "$1" "$v" "$4"
}

size_bench () {
    N=$1
    R=$D/res-$N; mkdir -p "$R"
    RUNS=${BENCH_RUNS:-$([ "$N" -le 2000 ] && echo 3 || echo 1)}
    REG_S=${BENCH_REG_S:-$(( 30 + N * 12 / 1000 ))}
    DEPLOY_S=${BENCH_DEPLOY_S:-$(( 60 + N * 12 / 1000 ))}
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    r=1
    while [ $r -le "$RUNS" ]; do
        one_run $r || return 1
        r=$((r + 1))
    done
    g1=""; g10=""
    [ "$N" = 1000 ] && g1="≤ 10 ms"
    [ "$N" = 10000 ] && g10=1
    echo
    echo "#### $(th "$N") hosts"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores," \
        "load average before $load0, after $(cut -d' ' -f1-3 /proc/loadavg); median of $RUNS run(s):" \
        "\`BENCH_HOSTS=$N BENCH_RUNS=$RUNS BENCH_ONLY=fleet make bench\`"
    echo
    echo "| figure | measured | goal |"
    echo "|---|---|---|"
    if [ -s "$R/not_online" ]; then
        printf '| fleet online | **%s** (in %s of %s runs) | %s |\n' "$(th "$(tail -1 "$R/not_online")")" \
            "$(wc -l <"$R/not_online")" "$RUNS" "${g10:+≤ 10 s}"
    fi
    row "every host registered (first hellos, simulators' clocks)" reg_ms ms "${g10:+≤ 10 s}"
    [ -s "$R/online_ms" ] && row "fleet online in \`rollclone info\`" online_ms ms ""
    row "  coordinator CPU during it" reg_cpu ms ""
    row "  simulators' CPU during it" reg_sim_cpu ms ""
    row "  connections dropped by a full accept queue (TcpExtListenOverflows)" reg_overflows "" ""
    row "coordinator RSS at the end of the run (VmRSS)" rss_mib MiB "${g10:+≤ 200 MiB}"
    row "coordinator peak RSS (VmHWM)" hwm_mib MiB "${g10:+≤ 200 MiB}"
    row "\`rollclone hosts --json\` (CLI start to end)" hosts_ms ms "${g10:+≤ 100 ms}"
    [ -s "$R/hosts_failed" ] && printf '| `hosts --json` with no answer within 30 s | %s of %s | |\n' "$(wc -l <"$R/hosts_failed")" $((RUNS * 5))
    row "heartbeat ack p50, steady state (${STEADY_S} s)" ack_p50 ms ""
    row "heartbeat ack p99, steady state (${STEADY_S} s)" ack_p99 ms "${g10:+≤ 50 ms}"
    row "coordinator CPU, steady state" idle_cpu "ms/s" ""
    if [ -s "$R/batch_ms" ] || [ -s "$R/batch_unfinished" ]; then
        row "rollout in 10 batches (\`--batch 10% --soak 1ms\`), created → finished" batch_ms ms ""
        row "  per batch" batch_batch_ms ms "$g1"
        [ -s "$R/batch_unfinished" ] && printf '| rollout in 10 batches | **%s** (%s of %s runs) | |\n' "$(tail -1 "$R/batch_unfinished")" "$(wc -l <"$R/batch_unfinished")" "$RUNS"
        row "  coordinator CPU during it" batch_cpu "ms/s" ""
        [ -s "$R/batch_failed" ] && printf '| rollouts that did not succeed | %s of %s | |\n' "$(wc -l <"$R/batch_failed")" "$RUNS"
        if [ -n "$WINDOW" ]; then
            row "rollout with \`--window 10%\`, created → finished" window_ms ms ""
            row "  per 10 % of the fleet" window_batch_ms ms ""
            row "  coordinator CPU during it" window_cpu "ms/s" ""
            [ -s "$R/window_unfinished" ] && printf '| window rollout | **%s** (%s of %s runs) | |\n' "$(tail -1 "$R/window_unfinished")" "$(wc -l <"$R/window_unfinished")" "$RUNS"
            [ -s "$R/window_failed" ] && printf '| window rollouts that did not succeed | %s of %s | |\n' "$(wc -l <"$R/window_failed")" "$RUNS"
        else
            echo "| rollout with \`--window 10%\` | not measured: this \`rollclone deploy\` has no --window | |"
        fi
        row "heartbeat ack p99 during the rollouts" roll_p99 ms ""
    else
        echo "| rollouts | not run: the fleet was not online | $g1 |"
    fi
    row "coordinator CPU for the whole run" cpu_ms ms ""
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
if [ -z "${BENCH_ONLY:-}" ] || [ "${BENCH_ONLY:-}" = extract ]; then
    extract_bench
fi
if [ -z "${BENCH_ONLY:-}" ] || [ "${BENCH_ONLY:-}" = fleet ]; then
    echo "bench: coordinator + simulated agents on loopback, sizes: $SIZES ($SIM_PER hosts per simulator process, descriptors: $(ulimit -n))"
    for N in $SIZES; do
        size_bench "$N" || exit 1
    done
fi
if [ -z "${BENCH_ONLY:-}" ] || [ "${BENCH_ONLY:-}" = idle ]; then
    echo
    echo "bench: an idle agent (bench/idle_cpu.sh, ${IDLE_SECS:-60} s)"
    sh "$(dirname "$0")/idle_cpu.sh" || exit 1
fi
