# A failed store read never advances a deployment: while every 3rd SQLite
# step of the coordinator fails (the test hook of FAULT=1 builds,
# RC_FAULT_SQLITE_STEP_FILE), a rollout over 4 hosts is never marked
# succeeded with hosts left undone (a read that failed half-way used to look
# like a deployment with no host pending); once the fault clears, it
# resumes and every host ends on the new release.
. "$(dirname "$0")/lib.sh"
rc_fleet 4
for i in 1 2 3 4; do rc_webapp $i; done
export RC_FAULT_SQLITE_STEP_FILE="$T/fault"
rc_coord_start
for i in 1 2 3 4; do rc_agent_start $i; done
wait_online 30 4 || fail "hosts not online"
make_release v1; make_release v2
expect_exit 0 deploy v1 --batch 4 --soak 100ms --wait

# the invariant, checked on the database itself (the CLI goes through the
# faulty store): succeeded means every host succeeded
check () {
    sql "select d.state, count(*), sum(h.state = 'succeeded') from deployments d
         join deployment_hosts h on h.deployment_id = d.id where d.id = '$1'" |
        awk -F'|' '$1 == "succeeded" && $2 != $3 { exit 1 }'
}

dep=$(deploy v2 --batch 1 --soak 1s --progress-deadline 10m) || fail "deploy v2"
wait_for 20 dh_is "$dep" host-1 succeeded || fail "host-1 never succeeded"
say "inject: every 3rd SQLite step fails"
echo 3 >"$T/fault"
end=$(( $(date +%s) + 8 ))
while [ "$(date +%s)" -lt "$end" ]; do
    check "$dep" || { sql "select host_id, state from deployment_hosts where deployment_id = '$dep'"; fail "deployment succeeded with hosts not done"; }
    sleep 0.1
done
grep -q "injected fault" "$T/coordinator.log" || fail "the fault was never injected (not a FAULT=1 build?)"
say "fault cleared: the rollout resumes"
rm -f "$T/fault"
wait_ended 40 "$dep" || fail "deployment did not end after the fault cleared"
check "$dep" || fail "deployment succeeded with hosts not done"
"$RC" status "$dep"
dep_state_is "$dep" succeeded || fail "deployment is $(dep_field "$dep" state), not succeeded"
for i in 1 2 3 4; do
    wait_for 10 current_is $i v2 || fail "host-$i serves '$(current $i)', not v2"
    dh_is "$dep" host-$i succeeded || fail "host-$i is $(dep_host_field "$dep" host-$i state)"
done
say ok
