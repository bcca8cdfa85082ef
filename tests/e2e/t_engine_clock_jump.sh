# The engine measures time on the monotonic clock: a wall clock stepped
# forward by 5 hours while a host is in its step fails nothing (the
# progress deadline used to count wall time), and stepped back by 8 hours
# during a timed pause does not stretch the pause. The coordinator's wall
# clock is moved by the FAULT=1 test hook RC_FAULT_WALL_OFFSET_FILE.
# rc-e2e: alone (it times a 4 s pause)
. "$(dirname "$0")/lib.sh"
rc_fleet 2
for i in 1 2; do rc_webapp $i; done
echo 0 >"$T/offset"
export RC_FAULT_WALL_OFFSET_FILE="$T/offset"
rc_coord_start
unset RC_FAULT_WALL_OFFSET_FILE
for i in 1 2; do rc_agent_start $i; done
wait_online 30 2 || fail "hosts not online"
make_release v1; make_release v2
not_dh () { ! dh_is "$@"; }
expect_exit 0 deploy v1 --batch 2 --soak 100ms --wait

# host-1's restart hook takes 2 s: the jump lands inside its step
echo 2 >"$T/agent-1/slow-restart-v2"
dep=$(deploy v2 --batch 1 --soak 1s --pause 10s --progress-deadline 1m) || fail "deploy v2"
wait_for 20 dh_is "$dep" host-1 updating || fail "host-1 never updating"
say "wall clock +5h during host-1's step"
echo $((5 * 3600 * 1000)) >"$T/offset"
wait_for 30 not_dh "$dep" host-1 updating || fail "host-1 stuck"
dh_is "$dep" host-1 succeeded || { "$RC" events "$dep"; fail "host-1 is $(dep_host_field "$dep" host-1 state) after the jump"; }
paused () { [ "$(sql "select count(*) from events where deployment_id = '$dep' and kind = 'pause'")" = 1 ]; }
wait_for 30 paused || fail "no timed pause"
say "wall clock -8h (3h before the real time) during the 10s pause"
echo $((-3 * 3600 * 1000)) >"$T/offset"
wait_for 30 not_dh "$dep" host-2 pending || fail "the pause was stretched: host-2 still pending"
# measured on the coordinator's own records, not on this loop's polls: the
# pause event was stamped at +5h, host-2's start at -3h
gap=$(sql "select (select ts from events where deployment_id = '$dep' and host_id = 'host-2'
                   and kind = 'host_updating') - (select ts from events where deployment_id = '$dep'
                   and kind = 'pause') + 8 * 3600 * 1000")
[ "$gap" -lt $((4 * 3600 * 1000)) ] || fail "host-2 started before the clock was stepped back: the test was too slow"
[ "$gap" -ge 9500 ] && [ "$gap" -le 14000 ] || fail "host-2 started ${gap} ms after the start of a 10s pause"
wait_ended 30 "$dep" || fail "deployment did not end"
"$RC" status "$dep"
dep_state_is "$dep" succeeded || fail "deployment $(dep_field "$dep" state)"
for i in 1 2; do current_is $i v2 || fail "host-$i serves $(current $i)"; done
say ok
