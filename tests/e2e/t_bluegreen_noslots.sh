# deploy --strategy blue-green to hosts whose app has no [app] slots: each
# agent refuses the stage step with a clear reason, the deployment fails
# in the stage phase and no host's release or traffic changes; a bad
# --strategy, and --check with blue-green, are refused before anything is
# stored.
. "$(dirname "$0")/lib.sh"
rc_fleet 2
for i in 1 2; do rc_webapp $i; done
rc_coord_start
for i in 1 2; do rc_agent_start $i; done
wait_online 10 2 || fail "hosts not online"
make_release v1; make_release v2
expect_exit 0 deploy v1 --batch 100% --soak 300ms --wait

expect_exit 2 deploy v2 --strategy green
grep -q "^rollclone deploy: --strategy 'green' must be rolling or blue-green" "$T/last.out" || fail "unclear: $(cat "$T/last.out")"
[ "$(sql "select count(*) from deployments")" = 1 ] || fail "a refused deploy stored something"
# an analysis gate judges live traffic: staged hosts have none before the switch
expect_exit 2 deploy v2 --strategy blue-green --check error-rate
grep -q "^rollclone: --check cannot gate a blue-green deployment" "$T/last.out" || fail "unclear: $(cat "$T/last.out")"
[ "$(sql "select count(*) from deployments")" = 1 ] || fail "a refused deploy stored something"

dep=$(deploy v2 --strategy blue-green --batch 100% --soak 300ms) || fail "deploy v2"
wait_ended 30 "$dep" || fail "v2 did not end"
[ "$(dep_field "$dep" state)" = failed ] || { "$RC" status "$dep"; fail "v2: $(dep_field "$dep" state)"; }
for i in 1 2; do
    dep_host_field "$dep" host-$i error | grep -q "app 'web' has no slots: blue-green needs \[app\] slots" ||
        fail "host-$i: $(dep_host_field "$dep" host-$i error)"
    [ "$(current $i)" = v1 ] || fail "host-$i serves $(current $i)"
    [ "$(hook_count $i install v2)" = 0 ] || fail "host-$i installed v2"
    [ "$(hook_count $i drain)" -le 1 ] || fail "host-$i was drained"
done
dep_field "$dep" reason | grep -q "traffic was not switched" || fail "reason: $(dep_field "$dep" reason)"
"$RC" status "$dep" | grep -q "failed, blue-green: staging batch 1 of 1" || { "$RC" status "$dep"; fail "status"; }
say ok
