#!/bin/sh
# Runs every end-to-end test (tests/e2e/t_*.sh, or those named as arguments
# or in $RC_TESTS: `sh tests/e2e/run.sh t_agent_fetch t_coord_lock`)
# against the binaries in $RC_BUILD, or in each build directory that
# $RC_BUILDS names (`RC_BUILDS="build build-asan"`: every test once per
# build, all in one pool, so that neither pass waits for the other's tail;
# make test does this). Each test is a shell script that starts
# the real processes it needs and stops them; exit 0 = pass, 77 = skip.
# Tests use their own free ports and temporary directories, so $RC_JOBS of
# them (default 3) run at once; a test that must have the machine to itself
# says so with a line `# rc-e2e: alone` and runs after the others.
# Closes with the "N passed, N failed" line CI reads.
set -u
here=$(cd "$(dirname "$0")" && pwd)
builds=""
for b in ${RC_BUILDS:-${RC_BUILD:-build}}; do
    d=$(cd "$b" 2>/dev/null && pwd) || { echo "run.sh: no build directory $b" >&2; exit 2; }
    builds="$builds $d"
done
jobs=${RC_JOBS:-3}
case $jobs in '' | *[!0-9]* | 0) echo "run.sh: RC_JOBS must be a positive number" >&2; exit 2 ;; esac
# a test's name in the output: NAME, or NAME@BUILD when several builds run
multi=""
[ "$(echo $builds | wc -w)" -gt 1 ] && multi=1
pass=0 fail=0 skip=0 failed=""
tests=${*:-${RC_TESTS:-$(ls "$here"/t_*.sh)}}
work=$(mktemp -d /tmp/rc_e2e_run.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# The longest tests start first, so the pool does not end with one long
# test running alone: tests/e2e/durations holds "NAME SECONDS" lines from a
# recent run under ASan+UBSan (`RC_E2E_DURATIONS=FILE` writes this run's),
# and "NAME@BUILD SECONDS" lines for the tests of another build; a test of
# a build without the sanitizers that has no line of its own takes 2/3 of
# its ASan time; a test not listed at all counts as long.
durations=$here/durations
# asan BUILD: true when BUILD's binaries carry AddressSanitizer
asan_builds=""
for b in $builds; do
    ! ldd "$b/rollclone-coordinator" 2>/dev/null | grep -q libasan || asan_builds="$asan_builds $b "
done
asan () { case "$asan_builds" in *" $1 "*) return 0 ;; esac; return 1; }
# by_length BUILD-AND-TEST...: the "BUILD|TEST" words, longest first
by_length () {
    for bt; do
        name=$(basename "${bt#*|}" .sh)
        secs=$(awk -v n="$name@$(basename "${bt%%|*}")" '$1 == n { print $2; exit }' "$durations" 2>/dev/null)
        if [ -z "$secs" ]; then
            secs=$(awk -v n="$name" '$1 == n { print $2; exit }' "$durations" 2>/dev/null)
            secs=${secs:-9999}
            asan "${bt%%|*}" || secs=$((secs * 2 / 3))
        fi
        echo "$secs $bt"
    done | sort -rn -k1,1 | cut -d' ' -f2
}

shared="" alone=""
for t in $tests; do
    for c in "$t" "$here/$t" "$here/$t.sh"; do [ -f "$c" ] && t=$c && break; done
    case $t in *' '* | *'|'*) echo "run.sh: test path '$t' has a blank or |" >&2; exit 2 ;; esac
    for b in $builds; do
        if grep -q '^# rc-e2e: alone' "$t" 2>/dev/null; then alone="$alone $b|$t"; else shared="$shared $b|$t"; fi
    done
done
# shellcheck disable=SC2086
shared=$(by_length $shared)

# RC_E2E_CPU=FILE: each test runs in a cgroup of its own (cgroup v1
# cpuacct, when this machine has it), and FILE gets "NAME CPU-SECONDS" of
# everything the test started, daemons included, to show where the suite's
# CPU goes.
cpuacct=/sys/fs/cgroup/cpuacct

# start BUILD|TEST: runs TEST against BUILD in the background; its output
# in $work/NAME.log, its exit code in $work/NAME.rc once it ended (NAME is
# the test's, @ and the build directory's when several builds run).
start () {
    RC_BUILD=${1%%|*}; export RC_BUILD
    name=$(basename "${1#*|}" .sh)
    [ -z "$multi" ] || name=$name@$(basename "$RC_BUILD")
    set -- "${1#*|}"
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

# run_pool N BUILD|TEST...: at most N at once.
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

# figures EXT: "NAME FIGURE" lines, largest first; with several builds the
# ASan build's tests are plain NAME (the form tests/e2e/durations has), the
# others' NAME@BUILD
figures () {
    strip=" "
    if [ -n "$multi" ]; then
        for b in $builds; do asan "$b" && strip="@$(basename "$b") " && break; done
    fi
    for f in "$work"/*."$1"; do
        [ -f "$f" ] && echo "$(basename "$f" ."$1") $(cat "$f")"
    done | sed "s|$strip| |" | sort -k2,2rn
}
[ -z "${RC_E2E_DURATIONS:-}" ] || figures secs >"$RC_E2E_DURATIONS"
[ -z "${RC_E2E_CPU:-}" ] || figures cpu >"$RC_E2E_CPU"
[ -n "$failed" ] && echo "failed:$failed"
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
