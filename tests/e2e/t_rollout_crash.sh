# kill -9 of the coordinator at many points of a rollout (and of its
# automatic rollback), started again each time: the deployment finishes,
# each host's install hook ran exactly once, none was skipped, and the
# events tell each host's story once.
. "$(dirname "$0")/lib.sh"
rc_fleet 4
for i in 1 2 3 4; do rc_webapp $i; done
rc_coord_start
for i in 1 2 3 4; do rc_agent_start $i; done
wait_online 10 4 || fail "hosts not online"
for v in v1 v2 v3; do make_release $v; done
expect_exit 0 deploy v1 --batch 100% --soak 100ms --wait
# a little slowness widens the windows between transitions
for i in 1 2 3 4; do echo 0.4 >"$T/agent-$i/slow-install-v2"; done

crash_until_done () {
    dep=$1; kills=0; end=$(( $(date +%s) + 120 ))
    while ! dep_ended "$dep"; do
        # 0.2 to 1.0 s of life each time: the kills land at many points
        sleep "0.$(( (kills * 37 % 9) + 2 ))"
        rc_coord_kill9
        kills=$((kills + 1))
        rc_coord_start
        [ "$(date +%s)" -lt $end ] || fail "deployment $dep did not end in 2 minutes ($kills crashes)"
    done
    say "$dep ended $(dep_field "$dep" state) after $kills coordinator crashes"
}

dep=$(deploy v2 --batch 1 --soak 300ms)
crash_until_done "$dep"
dep_state_is "$dep" succeeded || fail "state $(dep_field "$dep" state)"
for i in 1 2 3 4; do
    [ "$(hook_count $i install v2)" = 1 ] || fail "host-$i ran install v2 $(hook_count $i install v2) times"
    [ "$(current $i)" = v2 ] || fail "host-$i on '$(current $i)'"
    n=$(sql "select count(*) from events where deployment_id='$dep' and host_id='host-$i' and kind='host_succeeded'")
    [ "$n" = 1 ] || fail "host-$i has $n host_succeeded events"
done
[ "$(sql "pragma integrity_check")" = ok ] || fail "integrity"

# and through an automatic rollback: host-3 refuses v3
touch "$T/agent-3/fail-install-v3"
for i in 1 2 3 4; do echo 0.4 >"$T/agent-$i/slow-restart-v3"; done
dep=$(deploy v3 --batch 1 --soak 300ms)
crash_until_done "$dep"
dep_state_is "$dep" rolled_back || fail "state $(dep_field "$dep" state): $(dep_field "$dep" reason)"
for i in 1 2 3; do [ "$(hook_count $i install v3)" = 1 ] || fail "host-$i ran install v3 $(hook_count $i install v3) times"; done
[ "$(hook_count 4 install v3)" = 0 ] || fail "host-4 touched"
for i in 1 2 3 4; do [ "$(current $i)" = v2 ] || fail "host-$i on '$(current $i)' after rollback"; done
for i in 1 2; do
    n=$(sql "select count(*) from events where deployment_id='$dep' and host_id='host-$i' and kind='host_rolled_back'")
    [ "$n" = 1 ] || fail "host-$i has $n host_rolled_back events"
done
say ok
