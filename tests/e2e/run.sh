#!/bin/sh
# Runs every end-to-end test (tests/e2e/t_*.sh, or those named as arguments
# or in $RC_TESTS: `sh tests/e2e/run.sh t_agent_fetch t_coord_lock`)
# against the binaries in $RC_BUILD. Each test is a shell script that starts
# the real processes it needs and stops them; exit 0 = pass, 77 = skip.
# Tests use their own free ports and temporary directories, so $RC_JOBS of
# them (default 3) run at once; a test that must have the machine to itself
# says so with a line `# rc-e2e: alone` and runs after the others.
# Closes with the "N passed, N failed" line CI reads.
set -u
here=$(cd "$(dirname "$0")" && pwd)
RC_BUILD=$(cd "${RC_BUILD:-build}" && pwd)
export RC_BUILD
jobs=${RC_JOBS:-3}
case $jobs in '' | *[!0-9]* | 0) echo "run.sh: RC_JOBS must be a positive number" >&2; exit 2 ;; esac
pass=0 fail=0 skip=0 failed=""
tests=${*:-${RC_TESTS:-$(ls "$here"/t_*.sh)}}
work=$(mktemp -d /tmp/rc_e2e_run.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# The longest tests start first, so the pool does not end with one long
# test running alone: tests/e2e/durations holds "NAME SECONDS" lines from a
# recent run (`RC_E2E_DURATIONS=FILE` writes this run's); a test not listed
# there counts as long.
durations=$here/durations
by_length () {
    for t; do
        name=$(basename "$t" .sh)
        secs=$(awk -v n="$name" '$1 == n { print $2; exit }' "$durations" 2>/dev/null)
        echo "${secs:-9999} $t"
    done | sort -rn -k1,1 | cut -d' ' -f2
}

shared="" alone=""
for t in $tests; do
    for c in "$t" "$here/$t" "$here/$t.sh"; do [ -f "$c" ] && t=$c && break; done
    if grep -q '^# rc-e2e: alone' "$t" 2>/dev/null; then alone="$alone $t"; else shared="$shared $t"; fi
done
# shellcheck disable=SC2086
shared=$(by_length $shared)

# RC_E2E_CPU=FILE: each test runs in a cgroup of its own (cgroup v1
# cpuacct, when this machine has it), and FILE gets "NAME CPU-SECONDS" of
# everything the test started, daemons included, to show where the suite's
# CPU goes.
cpuacct=/sys/fs/cgroup/cpuacct

# start TEST: runs it in the background; its output in $work/NAME.log, its
# exit code in $work/NAME.rc once it ended.
start () {
    name=$(basename "$1" .sh)
    (
        s=$(date +%s)
        cg=""
        if [ -n "${RC_E2E_CPU:-}" ] && mkdir "$cpuacct/rc_e2e.$$.$name" 2>/dev/null; then
            cg=$cpuacct/rc_e2e.$$.$name
        fi
        # the test's shell joins its cgroup before it starts anything
        # shellcheck disable=SC2016
        timeout -k 5 "${RC_TEST_TIMEOUT:-240}" sh -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs"; exec sh "$2"' \
            sh "$cg" "$1" >"$work/$name.log" 2>&1
        rc=$?
        echo $(( $(date +%s) - s )) >"$work/$name.secs"
        if [ -n "$cg" ]; then
            awk '{ printf "%.1f\n", $1 / 1e9 }' "$cg/cpuacct.usage" >"$work/$name.cpu"
            for p in $(cat "$cg/cgroup.procs"); do kill -9 "$p" 2>/dev/null; done
            sleep 0.2
            rmdir "$cg" 2>/dev/null
        fi
        echo $rc >"$work/$name.rc"
    ) &
    running="$running $name"
}

# reap: reports each test that ended and drops it from $running.
reap () {
    still=""
    for name in $running; do
        if [ ! -f "$work/$name.rc" ]; then still="$still $name"; continue; fi
        rc=$(cat "$work/$name.rc"); secs=$(cat "$work/$name.secs")
        if [ "$rc" = 0 ]; then
            pass=$((pass + 1)); echo "PASS $name (${secs}s)"
        elif [ "$rc" = 77 ]; then
            skip=$((skip + 1)); echo "SKIP $name: $(tail -1 "$work/$name.log")"
        else
            fail=$((fail + 1)); failed="$failed $name"
            echo "FAIL $name (exit $rc, ${secs}s); last lines:"
            tail -40 "$work/$name.log" | sed 's/^/    /'
        fi
    done
    running=$still
}

# run_pool N TESTS...: at most N at once.
run_pool () {
    n=$1; shift
    running=""
    for t in "$@"; do
        while [ "$(echo $running | wc -w)" -ge "$n" ]; do sleep 0.2; reap; done
        start "$t"
    done
    while [ -n "$running" ]; do sleep 0.2; reap; done
}

# shellcheck disable=SC2086
run_pool "$jobs" $shared
# shellcheck disable=SC2086
run_pool 1 $alone

if [ -n "${RC_E2E_DURATIONS:-}" ]; then
    for f in "$work"/*.secs; do
        [ -f "$f" ] && echo "$(basename "$f" .secs) $(cat "$f")"
    done | sort -k2,2rn >"$RC_E2E_DURATIONS"
fi
if [ -n "${RC_E2E_CPU:-}" ]; then
    for f in "$work"/*.cpu; do
        [ -f "$f" ] && echo "$(basename "$f" .cpu) $(cat "$f")"
    done | sort -k2,2rn >"$RC_E2E_CPU"
fi
[ -n "$failed" ] && echo "failed:$failed"
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
