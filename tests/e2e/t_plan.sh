# t_plan.sh - deploy --plan and rollback --plan (issue 10): the batches host
# by host in the engine's order, the hosts skipped and why (offline, app
# missing, not selected), the failure budget and the worst case; a plan
# stores nothing (no deployment, no event) and the rollout that follows
# takes the hosts as planned.
. "$(dirname "$0")/lib.sh"
RC_OFFLINE=1s
rc_fleet 5
for i in 1 2 3 4; do rc_webapp $i; done   # host-5 runs no app web
rc_coord_start
for i in 1 2 3 4 5; do rc_agent_start $i; done
wait_online 10 5 || fail "hosts not online"
make_release v1; make_release v2
expect_exit 0 deploy v1 --soak 100ms --batch 100% --wait
# host-4 goes away: offline at planning time
kill "$(rc_pid agent-4)"
wait_for 15 host_is host-4 offline || fail "host-4 not offline"

# deployments, and the events of deployments and of requests (the fleet's
# own, a host going offline, may come at any time)
count () {
    echo "$(sql "select count(*) from deployments")/$(sql "select count(*) from events where deployment_id is not null or operator != ''")"
}
before=$(count)

say "deploy --plan: batches, skipped hosts with reasons, budget, worst case"
expect_exit 0 deploy v2 --plan --batch 1,50% --max-fail 1 --pause 2s --progress-deadline 1m
cat "$T/last.out"
grep -q "batch 1 (1 host): host-1" "$T/last.out" || fail "batch 1 is not host-1"
grep -q "host-4 *offline" "$T/last.out" || fail "host-4 not skipped as offline"
grep -q "host-5 *app_missing" "$T/last.out" || fail "host-5 not skipped for lacking the app"
grep -q "failure budget: 1 host" "$T/last.out" || fail "no failure budget"
deploy v2 --plan --json --batch 1,50% --max-fail 1 --pause 2s --progress-deadline 1m >"$T/plan.json" \
    || fail "plan --json"
python3 - "$T/plan.json" <<'PY' || { cat "$T/plan.json"; fail "plan JSON"; }
import json, sys
p = json.load(open(sys.argv[1]))
# ramp 1,50% of 4 hosts: [host-1], [host-2 host-3], [host-4: offline, fails at
# its turn, so the third batch updates nothing and is not listed]
assert [b["hosts"] for b in p["batches"]] == [["host-1"], ["host-2", "host-3"]], p["batches"]
assert [b["number"] for b in p["batches"]] == [1, 2], p["batches"]
skipped = {s["host"]: s["reason"] for s in p["skipped"]}
assert skipped == {"host-4": "offline", "host-5": "app_missing"}, skipped
assert p["hosts"] == 3 and p["max_fail_hosts"] == 1, p
# each host up to the progress deadline after the last progress, a pause
# after each of the engine's batches but the last
assert p["worst_case_ms"] == 3 * 60000 + 2 * 2000, p["worst_case_ms"]
assert p["kind"] == "deploy" and p["version"] == "v2" and not p["frozen"], p
PY
expect_exit 0 deploy v2 --plan --select n=2
grep -q "host-1 *not_selected" "$T/last.out" || fail "host-1 not skipped as not selected"
[ "$(count)" = "$before" ] || fail "a plan stored something: $before -> $(count)"
for i in 1 2 3; do [ "$(hook_count $i install v2)" = 0 ] || fail "a plan touched host-$i"; done
say "nothing stored, nothing touched"

say "bad input is refused the same with --plan"
expect_exit 2 deploy v2 --plan --batch 0
expect_exit 2 "$RC" deploy --app web --version v2 --artifact "file://$T/art/v2.tgz" --sha256 xyz --plan
[ "$(count)" = "$before" ] || fail "a refused plan stored something"

say "the rollout takes the hosts as planned"
dep=$(deploy v2 --batch 1,50% --max-fail 1 --soak 100ms) || fail "deploy v2"
wait_ended 60 "$dep" || fail "v2 did not end"
[ "$(dep_host_field "$dep" host-1 batch)" = 1 ] || fail "host-1 not in batch 1"
[ "$(dep_host_field "$dep" host-3 batch)" = 2 ] || fail "host-3 not in batch 2"
[ "$(dep_host_field "$dep" host-4 failure)" = offline ] || fail "host-4 not failed as offline"

say "rollback --deployment --plan: the hosts it would put back, nothing stored"
before=$(count)
expect_exit 0 "$RC" rollback --deployment "$dep" --plan --json
python3 - "$T/last.out" <<'PY' || { cat "$T/last.out"; fail "rollback plan JSON"; }
import json, sys
p = json.load(open(sys.argv[1]))
assert p["kind"] == "rollback", p
assert sorted(h for b in p["batches"] for h in b["hosts"]) == ["host-1", "host-2", "host-3"], p
assert {s["host"]: s["reason"] for s in p["skipped"]} == {"host-4": "not_changed"}, p
PY
[ "$(count)" = "$before" ] || fail "a rollback plan stored something"
[ "$(dep_field "$dep" state)" = succeeded ] || fail "the deployment changed"
expect_exit 0 "$RC" rollback --host host-1 --app web --plan
grep -q "host-1" "$T/last.out" || fail "one-host rollback plan"
expect_exit 2 "$RC" rollback --deployment d-nope --plan
[ "$(count)" = "$before" ] || fail "a one-host rollback plan stored something"
rc_webapp_cleanup
say "ok"
