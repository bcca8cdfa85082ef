# A timed pause survives a coordinator killed (-9) in the middle of it: the
# pause is kept as time remaining (monotonic), so after the restart the next
# batch waits for what was left of it (time the coordinator was down does
# not count), neither skipping the pause nor ending it at a wall-clock
# instant that passed while the coordinator was down.
. "$(dirname "$0")/lib.sh"
rc_fleet 2
for i in 1 2; do rc_webapp $i; done
rc_coord_start
for i in 1 2; do rc_agent_start $i; done
wait_online 30 2 || fail "hosts not online"
make_release v1; make_release v2
expect_exit 0 deploy v1 --batch 100% --soak 100ms --wait

ms () { echo $(( $(date +%s%N) / 1000000 )); }
pause_ms=8000
dep=$(deploy v2 --batch 1 --soak 100ms --pause 8s)
wait_for 60 sh -c "'$RC' events '$dep' | grep -q 'next in 8s'" || fail "no pause after batch 1"
paused_at=$(ms)
sleep 2
rc_coord_kill9
killed_at=$(ms)
sleep 2
rc_coord_start
restarted_at=$(ms)
say "killed $((killed_at - paused_at)) ms into the pause, restarted $((restarted_at - killed_at)) ms later"
# the pause must still hold: what was left when the coordinator last saved
# it (at most everything it had left at the kill, at least that minus the
# 5 s between saves) is waited for after the restart
batch2 () { [ "$(dep_host_field "$dep" host-2 state 2>/dev/null)" != pending ]; }
wait_for 30 batch2 || fail "batch 2 never started"
started_at=$(ms)
after=$((started_at - restarted_at))
left=$((pause_ms - (killed_at - paused_at)))
say "batch 2 started $after ms after the restart ($left ms of the pause were left at the kill)"
# a wall-clock pause would end $((pause_ms)) ms after it began, about
# $((left - (restarted_at - killed_at))) ms after the restart
[ "$after" -ge $((left - 1000)) ] || fail "the pause was cut short by the restart ($after ms < $left ms left)"
[ "$after" -le $((pause_ms + 4000)) ] || fail "the pause lasted too long after the restart ($after ms)"
wait_ended 60 "$dep" || fail "deployment did not end"
dep_state_is "$dep" succeeded || fail "state $(dep_field "$dep" state)"
rc_webapp_cleanup
