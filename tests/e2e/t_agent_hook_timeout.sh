# t_agent_hook_timeout.sh - an install hook that forks a sleeping grandchild
# and outlives hook_timeout: the step fails in phase install with the hook's
# output tail, the hook's whole process group is gone (the grandchild too),
# and nothing changed on the host.
RC_AGENT_SETUP_SOURCED=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t_agent_setup.sh"
agent_config
health_server
make_release v1
make_release v2
expect_exit 0 agent apply --app web --version v1 --artifact "file://$T/art/v1.tgz" --soak 100ms

# the hook is part of the config: a second config differs only there
sed -e "s|^install = .*|install = sh -c 'sleep 300 \& echo \$! > $T/grandchild.pid; wait' \& echo \$! > $T/child.pid; echo started-hook; sleep 300|" \
    -e "s|^hook_timeout = .*|hook_timeout = 1s|" "$T/agent.conf" >"$T/slow.conf"
grep -q "^install = sh -c" "$T/slow.conf" || fail "sed did not rewrite the hook"
start=$(date +%s)
expect_exit 1 "$AGENT" --config "$T/slow.conf" apply --app web --version v2 \
    --artifact "file://$T/art/v2.tgz" --soak 100ms
took=$(( $(date +%s) - start ))
cat "$T/last.out"
grep -q "FAILED in phase install" "$T/last.out" || fail "not failed in install"
grep -q "timed out after 1.0s" "$T/last.out" || fail "timeout not reported"
grep -q "| started-hook" "$T/last.out" || fail "hook output tail not reported"
[ "$took" -le 8 ] || fail "took ${took}s for a 1s hook timeout"

gone () {
    # gone, or a zombie waiting for its reaper
    [ ! -e "/proc/$1" ] || grep -q '^State:.*[ZX]' "/proc/$1/status"
}
for f in child grandchild; do
    [ -s "$T/$f.pid" ] || fail "no $f pid written"
    pid=$(cat "$T/$f.pid")
    wait_for 5 gone "$pid" || fail "$f $pid of the hook survived its timeout"
done
[ "$(current)" = releases/v1 ] || fail "current is $(current)"
[ ! -e "$T/srv/releases/v2" ] || fail "half-installed release left behind"
[ ! -e "$T/srv/.incoming" ] || fail "work files left behind"
tail -1 "$T/hooks.log" | grep -q "undrain v1" || fail "not undrained (as v1, the live one) after the failure"
say "ok"
