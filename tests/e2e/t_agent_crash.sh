# t_agent_crash.sh - kill -9 the agent (rollclone-agent apply) while it waits
# for the new release to become healthy: current points at the new release
# and the step is in the journal. Starting the agent again (`recover`, and
# the same for `apply`) puts the host back on the previous release,
# restarted and undrained, and reports the interrupted step as FAILED.
RC_AGENT_SETUP_SOURCED=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t_agent_setup.sh"
agent_config
health_server
make_release v1
make_release v2 sick
make_release v3 sick

expect_exit 0 agent apply --app web --version v1 --artifact "file://$T/art/v1.tgz" --soak 100ms

in_health () { [ "$("$RC_BUILD/rc_steprec" "$T/state/steps/web.pb" phase 2>/dev/null)" = health ]; }

say "apply v2 (never healthy) and kill -9 the agent in its health phase"
rc_bg apply2 "$AGENT" --config "$T/agent.conf" apply --app web --version v2 \
    --artifact "file://$T/art/v2.tgz" --soak 100ms --health-timeout 60s
wait_for 20 in_health || { cat "$T/apply2.log"; fail "never reached the health phase"; }
kill -9 "$(rc_pid apply2)"
sleep 0.2
[ "$(current)" = releases/v2 ] || fail "expected to be caught on v2, current is $(current)"
healthy && fail "v2 should be unhealthy"
expect_exit 0 agent releases --app web
grep -q "interrupted" "$T/last.out" || fail "releases does not show the interrupted step"

say "start the agent again: back on v1"
expect_exit 0 agent recover
cat "$T/last.out"
grep -q "FAILED in phase health" "$T/last.out" || fail "interrupted step not reported"
grep -q "agent stopped during phase health" "$T/last.out" || fail "reason not reported"
[ "$(current)" = releases/v1 ] || fail "current is $(current) after recovery"
[ ! -e "$T/srv/releases/v2" ] || fail "interrupted release left behind"
[ ! -e "$T/state/steps/web.pb" ] || fail "journal not cleared"
healthy || fail "v1 not healthy after recovery"
tail -2 "$T/hooks.log" | grep -q "restart v1" || fail "v1 not restarted"
tail -1 "$T/hooks.log" | grep -q "undrain v1" || fail "not undrained"

say "the same through apply: a second apply waits for the lock of the first"
rc_bg apply3 "$AGENT" --config "$T/agent.conf" apply --app web --version v3 \
    --artifact "file://$T/art/v3.tgz" --soak 100ms --health-timeout 60s
wait_for 20 in_health || fail "never reached the health phase"
rc_bg waiter "$AGENT" --config "$T/agent.conf" apply --app web --version v1 \
    --artifact "file://$T/art/v1.tgz" --soak 100ms
wait_for 10 grep -q wait-lock "$T/waiter.log" || { cat "$T/waiter.log"; fail "second apply did not wait"; }
[ "$(current)" = releases/v3 ] || fail "the waiting apply changed current: $(current)"
say "kill -9 the first: the waiting one undoes its step, then applies"
kill -9 "$(rc_pid apply3)"
waiter=$(rc_pid waiter)
wait_for 20 sh -c "! kill -0 $waiter" || fail "waiting apply did not finish"
wait "$waiter"
rc=$?
cat "$T/waiter.log"
[ $rc = 0 ] || fail "waiting apply exited $rc"
grep -q "FAILED in phase health" "$T/waiter.log" || fail "interrupted v3 not reported"
[ "$(current)" = releases/v1 ] || fail "current is $(current)"
[ ! -e "$T/srv/releases/v3" ] || fail "interrupted release left behind"
healthy || fail "v1 not healthy"
say "ok"
