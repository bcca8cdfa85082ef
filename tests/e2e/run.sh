#!/bin/sh
# Runs every end-to-end test (tests/e2e/t_*.sh, or those named in $RC_TESTS)
# against the binaries in $RC_BUILD. Each test is a shell script that starts
# the real processes it needs and stops them; exit 0 = pass, 77 = skip.
# Closes with the "N passed, N failed" line CI reads.
set -u
here=$(cd "$(dirname "$0")" && pwd)
RC_BUILD=$(cd "${RC_BUILD:-build}" && pwd)
export RC_BUILD
pass=0 fail=0 skip=0 failed=""
tests=${RC_TESTS:-$(ls "$here"/t_*.sh)}
for t in $tests; do
    [ -f "$t" ] || t="$here/$t"
    name=$(basename "$t" .sh)
    log=$(mktemp /tmp/rc_e2e_log.XXXXXX)
    start=$(date +%s)
    timeout -k 5 "${RC_TEST_TIMEOUT:-240}" sh "$t" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc = 0 ]; then
        pass=$((pass + 1)); echo "PASS $name (${secs}s)"
    elif [ $rc = 77 ]; then
        skip=$((skip + 1)); echo "SKIP $name: $(tail -1 "$log")"
    else
        fail=$((fail + 1)); failed="$failed $name"
        echo "FAIL $name (exit $rc, ${secs}s); last lines:"
        tail -40 "$log" | sed 's/^/    /'
    fi
    rm -f "$log"
done
[ -n "$failed" ] && echo "failed:$failed"
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
