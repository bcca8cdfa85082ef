# Automatic rollback of hosts the deployment changed: host-3 refuses v3, so
# hosts 1 and 2 (already on v3) are rolled back to v2 by the coordinator.
# Then abort with and without rollback, rollback --deployment of a finished
# deployment, and rollback --host --to a named rollback point.
. "$(dirname "$0")/lib.sh"
rc_fleet 4
for i in 1 2 3 4; do rc_webapp $i; done
rc_coord_start
for i in 1 2 3 4; do rc_agent_start $i; done
wait_online 10 4 || fail "hosts not online"
for v in v1 v2 v3 v4 v5; do make_release $v; done
expect_exit 0 deploy v1 --batch 100% --soak 100ms --wait
expect_exit 0 deploy v2 --batch 100% --soak 100ms --wait

touch "$T/agent-3/fail-install-v3"
expect_exit 1 deploy v3 --batch 1 --soak 100ms --wait
dep=$(grep -m1 '^d-' "$T/last.out")
dep_snap "$dep" || fail "status $dep"
[ "$(snap_field state)" = rolled_back ] || fail "state $(snap_field state)"
for i in 1 2; do
    [ "$(snap_host_field host-$i state)" = rolled_back ] || fail "host-$i not rolled back"
    [ "$(hook_count $i restart v2)" -ge 2 ] || fail "host-$i did not restart v2 again"
done
[ "$(snap_host_field host-3 state)" = failed ] || fail "host-3 not failed"
[ "$(snap_host_field host-4 state)" = pending ] || fail "host-4 touched"
for i in 1 2 3 4; do [ "$(current $i)" = v2 ] || fail "host-$i serves '$(current $i)', not v2"; done
"$RC" events "$dep" | grep -q "host-2 *host_rolled_back" || fail "no rollback event"
say "auto rollback returned the changed hosts to v2"

# abort with rollback, mid-rollout: a manual gate holds it after batch 1
rm "$T/agent-3/fail-install-v3"
dep=$(deploy v4 --batch 2 --pause manual --soak 100ms)
wait_for 15 dep_state_is "$dep" paused || fail "manual gate did not hold"
[ "$(current 1)" = v4 ] && [ "$(current 3)" = v2 ] || fail "batch 1 not as expected"
expect_exit 0 "$RC" abort "$dep"
wait_ended 15 "$dep" && [ "$(snap_field state)" = aborted ] || fail "abort did not end: $(dep_field "$dep" state)"
for i in 1 2 3 4; do [ "$(current $i)" = v2 ] || fail "host-$i on '$(current $i)' after abort"; done
[ "$(hook_count 3 drain v4)" = 0 ] || fail "host-3 touched after abort"
say "abort rolled back batch 1"

# abort --no-rollback leaves batch 1 where it is
dep=$(deploy v4 --batch 2 --pause manual --soak 100ms)
wait_for 15 dep_state_is "$dep" paused || fail "manual gate did not hold"
expect_exit 0 "$RC" abort "$dep" --no-rollback
wait_ended 15 "$dep" && [ "$(snap_field state)" = aborted ] || fail "abort --no-rollback did not end"
[ "$(current 1)" = v4 ] && [ "$(current 2)" = v4 ] && [ "$(current 3)" = v2 ] || fail "abort --no-rollback moved hosts"
say "abort --no-rollback left batch 1 on v4"

# rollback --deployment: everything it changed goes back
expect_exit 0 "$RC" rollback --deployment "$dep" --wait
for i in 1 2 3 4; do [ "$(current $i)" = v2 ] || fail "host-$i on '$(current $i)' after rollback --deployment"; done
expect_exit 2 "$RC" rollback --deployment "$dep"
say "rollback --deployment returned hosts to v2"

# rollback --host --to a named rollback point
wait_for 5 sh -c "\"$RC\" hosts --json | grep -q '\"v1\"'" || fail "v1 not a rollback point"
expect_exit 0 "$RC" rollback --host host-4 --app web --to v1 --wait
[ "$(current 4)" = v1 ] || fail "host-4 on '$(current 4)', not v1"
expect_exit 2 "$RC" rollback --host host-4 --app web --to v9
grep -q "'v9' is not a rollback point" "$T/last.out" || fail "unclear: $(cat "$T/last.out")"
expect_exit 2 "$RC" rollback --host nohost --app web
expect_exit 2 "$RC" abort "$dep"
expect_exit 2 "$RC" pause d-nope
say ok
