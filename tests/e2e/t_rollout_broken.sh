# A broken release: the canary fails its health check, the deployment is
# rolled back on its own; only the first batch was ever touched (the hooks
# say what ran), and every host ends on the old version, healthy.
# Then max-fail: 1 tolerates one failure and not two.
. "$(dirname "$0")/lib.sh"
rc_fleet 5
for i in 1 2 3 4 5; do rc_webapp $i; done
rc_coord_start
for i in 1 2 3 4 5; do rc_agent_start $i; done
wait_online 10 5 || fail "hosts not online"
make_release v1; make_release v2; make_release v3 broken
expect_exit 0 deploy v1 --batch 100% --soak 200ms --wait

# default strategy: ramp 1,25% -> a canary host first
expect_exit 1 deploy v3 --soak 200ms --health-timeout 2s --wait
dep=$(grep -m1 '^d-' "$T/last.out")
grep -q "deployment $dep rolled_back" "$T/last.out" || { cat "$T/last.out"; fail "not rolled back"; }
[ "$(dep_host_field "$dep" host-1 state)" = failed ] || fail "canary not failed"
[ "$(dep_host_field "$dep" host-1 failure)" = health ] || fail "failure not health: $(dep_host_field "$dep" host-1 failure)"
for i in 2 3 4 5; do
    [ "$(dep_host_field "$dep" host-$i state)" = pending ] || fail "host-$i was touched"
    [ "$(hook_count $i drain v3)" = 0 ] || fail "host-$i ran a hook for v3"
done
for i in 1 2 3 4 5; do [ "$(current $i)" = v1 ] || fail "host-$i serves '$(current $i)', not v1"; done
[ "$(hook_count 1 install v3)" = 1 ] || fail "canary install ran $(hook_count 1 install v3) times"
wait_for 5 sh -c "[ \"\$(\"$RC\" hosts --json | grep -c '\"healthy\": true')\" = 5 ]" || fail "not all healthy"
"$RC" status "$dep" | grep -q "reason: 1 host(s) failed, more than max-fail 0" || fail "no reason shown"
say "broken canary rolled back; nothing else touched"

# max-fail 1 over batches of 1: a release whose install fails everywhere
make_release v5 badinstall
expect_exit 0 deploy v2 --batch 1 --max-fail 1 --soak 100ms --wait
# now: hosts on v2. Deploy v5 (install fails on every host) with max-fail 1:
expect_exit 1 deploy v5 --batch 1 --max-fail 1 --soak 100ms --wait
dep=$(grep -m1 '^d-' "$T/last.out")
[ "$(dep_host_field "$dep" host-1 state)" = failed ] || fail "host-1 should fail"
[ "$(dep_host_field "$dep" host-2 state)" = failed ] || fail "host-2 should have been tried after one failure"
[ "$(dep_host_field "$dep" host-3 state)" = pending ] || fail "host-3 tried after two failures"
[ "$(dep_field "$dep" state)" = rolled_back ] || fail "state $(dep_field "$dep" state)"
[ "$(dep_host_field "$dep" host-1 failure)" = install ] || fail "failure phase"
"$RC" status "$dep" --json | grep -q "install refused by the release" || fail "hook output not reported"
for i in 1 2 3 4 5; do [ "$(current $i)" = v2 ] || fail "host-$i serves '$(current $i)', not v2"; done
say "max-fail 1 tolerated one failure and stopped at two"

# never blind: host-5's service dies; its agent's idle health check says so,
# and at its turn host-5 is not updated but counted as failed
kill "$(cat "$T/agent-5/server.pid")"
unhealthy_5 () { [ "$(host_field host-5 healthy)" = false ]; }
wait_for 10 unhealthy_5 \
    || fail "host-5 never reported unhealthy"
[ "$(sql "select count(*) from events where host_id='host-5' and kind='unhealthy'")" -ge 1 ] || fail "no unhealthy event"
make_release v6
expect_exit 0 deploy v6 --batch 100% --max-fail 1 --soak 100ms --wait
dep=$(grep -m1 '^d-' "$T/last.out")
[ "$(dep_host_field "$dep" host-5 failure)" = unhealthy_before ] || fail "host-5: $(dep_host_field "$dep" host-5 failure)"
[ "$(hook_count 5 drain v6)" = 0 ] || fail "an unhealthy host was updated"
for i in 1 2 3 4; do [ "$(current $i)" = v6 ] || fail "host-$i on '$(current $i)'"; done
say "unhealthy host-5 was skipped and counted"
say ok
