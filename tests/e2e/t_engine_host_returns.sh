# Hosts that come back. A host that goes offline during its step is
# `unknown`, not failed, until the deployment's offline grace passes; when
# it returns, its report decides (it used to be failed, and its rollback
# attempted and failed at once: rollback_failed, a mixed fleet).
#  A. a partition (SIGSTOP) during host-1's update, healed: it succeeds;
#  B. the agent killed (-9) during its update and restarted: it undoes the
#     step and says so; the deployment rolls back; no rollback_failed;
#  C. a host owed a rollback that is offline at its turn: the rollback
#     waits for it and runs when it returns.
. "$(dirname "$0")/lib.sh"
# recorded_on HOST V: hosts --json records HOST's app web on V
recorded_on () {
    [ "$("$RC" hosts --json | rc_jq 'first(.[] | select(.id == $id)).apps.web.current' --arg id "$1")" = "$2" ]
}
rc_fleet 3
for i in 1 2 3; do rc_webapp $i; done
rc_coord_start
for i in 1 2 3; do rc_agent_start $i; done
wait_online 30 3 || fail "hosts not online"
make_release v1; make_release v2; make_release v3; make_release v4
expect_exit 0 deploy v1 --batch 3 --soak 100ms --wait
not_dh () { ! dh_is "$@"; }
no_rollback_failed () {
    ! "$RC" status "$1" --json | grep -q '"state": "rollback_failed"' || { "$RC" status "$1"; fail "$2"; }
}

say "A: host-1 cut off (SIGSTOP) in its restart phase, back 2 s later"
echo 2 >"$T/agent-1/slow-restart-v2"
dep=$(deploy v2 --batch 1 --soak 300ms --offline-grace 30s) || fail "deploy v2"
wait_for 20 sh -c "[ \"\$(\"$RC\" status $dep --json | grep -c '\"phase\": \"restart\"')\" -ge 1 ]" || fail "host-1 never in restart"
kill -STOP "$(net_pid 1)"
wait_for 30 dh_is "$dep" host-1 unknown || { kill -CONT "$(net_pid 1)"; fail "host-1 not unknown: $(dep_host_field "$dep" host-1 state)"; }
sleep 1
kill -CONT "$(net_pid 1)"
wait_ended 40 "$dep" || fail "A: deployment did not end"
[ "$(sql "select count(*) from events where deployment_id = '$dep' and kind = 'host_returned'")" -ge 1 ] || fail "A: no host_returned event"
dep_state_is "$dep" succeeded || { "$RC" status "$dep"; fail "A: deployment $(dep_field "$dep" state)"; }
for i in 1 2 3; do current_is $i v2 || fail "A: host-$i serves $(current $i)"; done

say "B: host-2's agent killed -9 in its restart phase, started again"
echo 2 >"$T/agent-2/slow-restart-v3"
dep=$(deploy v3 --batch 3 --soak 300ms --offline-grace 30s) || fail "deploy v3"
wait_for 20 sh -c "[ \"\$('$RC_BUILD/rc_steprec' '$T/agent-2/state/steps/web.pb' phase 2>/dev/null)\" = restart ]" || fail "host-2 never in restart"
kill -9 "$(rc_pid agent-2)"
wait_for 30 dh_is "$dep" host-2 unknown || fail "host-2 not unknown: $(dep_host_field "$dep" host-2 state)"
rc_agent_start 2
wait_ended 40 "$dep" || fail "B: deployment did not end"
"$RC" status "$dep"
no_rollback_failed "$dep" "B: a host ended rollback_failed"
dh_is "$dep" host-2 failed || fail "B: host-2 is $(dep_host_field "$dep" host-2 state)"
dep_state_is "$dep" rolled_back || fail "B: deployment $(dep_field "$dep" state)"
for i in 1 2 3; do
    wait_for 10 current_is $i v2 || fail "B: host-$i serves $(current $i)"
    wait_for 5 recorded_on "host-$i" v2 || fail "B: host-$i recorded on another version"
done

say "C: host-1 owed a rollback while cut off: the rollback waits and runs when it is back"
dep=$(deploy v4 --batch 1 --soak 300ms --pause manual --offline-grace 30s) || fail "deploy v4"
wait_for 20 dh_is "$dep" host-1 succeeded || fail "C: host-1 not succeeded"
kill -STOP "$(net_pid 1)"
wait_for 30 host_is host-1 offline || { kill -CONT "$(net_pid 1)"; fail "C: host-1 not offline"; }
expect_exit 0 "$RC" abort "$dep"
sleep 2
dh_is "$dep" host-1 rollback_pending || { kill -CONT "$(net_pid 1)"; fail "C: host-1 is $(dep_host_field "$dep" host-1 state) while away"; }
kill -CONT "$(net_pid 1)"
wait_ended 40 "$dep" || fail "C: deployment did not end"
"$RC" status "$dep"
dh_is "$dep" host-1 rolled_back || fail "C: host-1 is $(dep_host_field "$dep" host-1 state)"
dep_state_is "$dep" aborted || fail "C: deployment $(dep_field "$dep" state)"
for i in 1 2 3; do current_is $i v2 || fail "C: host-$i serves $(current $i)"; done
say ok
