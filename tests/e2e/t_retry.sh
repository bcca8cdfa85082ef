# t_retry.sh - deploy --retry ID (issue 10): a finished deployment run again
# on only the hosts it did not leave on its version, with its artifact and
# strategy, as a new deployment that names the one it retries. Refused
# (exit 2, nothing stored) for a running deployment, one with nothing left
# to retry, a rollback, or an unknown id.
. "$(dirname "$0")/lib.sh"
rc_fleet 3
for i in 1 2 3; do rc_webapp $i; done
rc_coord_start
for i in 1 2 3; do rc_agent_start $i; done
wait_online 10 3 || fail "hosts not online"
make_release v1; make_release v2
expect_exit 0 deploy v1 --soak 100ms --batch 100% --wait

say "v2 fails on host-2 only (its install hook refuses v2)"
touch "$T/agent-2/fail-install-v2"
dep=$(deploy v2 --batch 1 --max-fail 1 --soak 100ms --pause 100ms) || fail "deploy v2"
wait_ended 60 "$dep" || fail "v2 did not end"
# (the snapshot is the deployment as it ended)
[ "$(snap_field state)" = succeeded ] || fail "v2 ended $(snap_field state)"
[ "$(snap_host_field host-2 state)" = failed ] || fail "host-2 did not fail"
current_is 1 v2 && current_is 3 v2 && current_is 2 v1 || fail "not v2/v1/v2"
installs1=$(hook_count 1 install v2); installs3=$(hook_count 3 install v2)
installs2=$(hook_count 2 install v2)

say "refused: unknown, running, nothing left, a rollback"
count () { sql "select count(*) from deployments"; }
before=$(count)
expect_exit 2 "$RC" deploy --retry d-nope
grep -q "no deployment 'd-nope'" "$T/last.out" || fail "unknown id: $(cat "$T/last.out")"
expect_exit 2 "$RC" deploy --retry "$dep" --app other
[ "$(count)" = "$before" ] || fail "a refused retry stored something"

say "the retry runs on host-2 alone, with v2's artifact and strategy"
rm "$T/agent-2/fail-install-v2"
expect_exit 0 "$RC" deploy --retry "$dep" --plan --json
python3 - "$T/last.out" <<'PY' || { cat "$T/last.out"; fail "retry plan"; }
import json, sys
p = json.load(open(sys.argv[1]))
assert [h for b in p["batches"] for h in b["hosts"]] == ["host-2"], p
assert p["version"] == "v2", p
PY
[ "$(count)" = "$before" ] || fail "the retry's plan stored something"
retry=$("$RC" deploy --retry "$dep" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') \
    || fail "deploy --retry"
wait_ended 60 "$retry" || fail "the retry did not end"
[ "$(snap_field state)" = succeeded ] || fail "the retry ended $(snap_field state)"
python3 - "$T/snap.json" "$dep" <<'PY' || { cat "$T/snap.json"; fail "the retry's record"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["retry_of"] == sys.argv[2], d["retry_of"]
assert [h["host"] for h in d["hosts"]] == ["host-2"], d["hosts"]
assert d["version"] == "v2" and d["batch_spec"] == "1" and d["max_fail_spec"] == "1", d
assert d["pause"] == "100ms" and d["soak_ms"] == 100, d
PY
current_is 2 v2 || fail "host-2 not on v2 after the retry"
[ "$(hook_count 1 install v2)" = "$installs1" ] || fail "the retry touched host-1"
[ "$(hook_count 3 install v2)" = "$installs3" ] || fail "the retry touched host-3"
[ "$(hook_count 2 install v2)" -gt "$installs2" ] || fail "the retry did not install on host-2"
"$RC" events "$retry" --json | grep -q "retry of $dep" || fail "no event says what it retries"

say "nothing left to retry, a running deployment, a rollback: refused"
before=$(count)
expect_exit 2 "$RC" deploy --retry "$retry"
grep -q "no failed or skipped host" "$T/last.out" || fail "nothing to retry: $(cat "$T/last.out")"
echo 30 >"$T/agent-1/slow-install-v1"
running=$(deploy v1 --batch 1 --soak 100ms) || fail "deploy v1"
expect_exit 2 "$RC" deploy --retry "$running"
grep -q "still" "$T/last.out" || fail "running: $(cat "$T/last.out")"
expect_exit 0 "$RC" abort "$running"
rm "$T/agent-1/slow-install-v1"
wait_ended 60 "$running" || fail "the aborted deployment did not end"
rb=$("$RC" rollback --host host-3 --app web --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') \
    || fail "rollback --host"
wait_ended 60 "$rb" || fail "the rollback did not end"
expect_exit 2 "$RC" deploy --retry "$rb"
grep -q "rollback" "$T/last.out" || fail "retry of a rollback: $(cat "$T/last.out")"
[ "$(count)" = "$((before + 2))" ] || fail "a refused retry stored something"
rc_webapp_cleanup
say "ok"
