# Reconciliation of a one-host rollback (rollback --host): the agent is
# killed in the undrain phase of its rollback step and comes back only after
# the deployment gave it up (rollback_failed: offline). Restarted, it finishes the
# step and runs the rollback point: its hello is reconciled (event
# host_reconciled), the host row and the deployment end as rolled_back, and
# the record matches the disk.
. "$(dirname "$0")/lib.sh"
RC_COORD_EXTRA="offline_grace = 1s"
rc_fleet 1
rc_webapp 1
rc_coord_start
rc_agent_start 1
wait_for 30 host_is host-1 online || fail "host-1 not online"
make_release v1; make_release v2
expect_exit 0 deploy v1 --soak 100ms --wait
expect_exit 0 deploy v2 --soak 100ms --wait
wait_for 10 current_is 1 v2 || fail "not on v2"

in_phase () { [ "$("$RC_BUILD/rc_steprec" "$T/agent-1/state/steps/web.pb" phase 2>/dev/null)" = "$1" ]; }
say "rollback --host, the agent killed in undrain"
echo 4 >"$T/agent-1/slow-undrain-v1"
rb=$("$RC" rollback --host host-1 --app web --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || fail "rollback --host"
wait_for 30 in_phase undrain || { "$RC" status "$rb"; fail "never in undrain"; }
kill -9 "$(rc_pid agent-1)"
wait_ended 30 "$rb" || fail "the rollback did not end while the agent was away"
dep_state_is "$rb" rollback_failed || { "$RC" status "$rb"; fail "expected rollback_failed while away"; }
rm -f "$T"/agent-1/slow-*

say "the agent comes back on v1: the record follows the disk"
rc_agent_start 1
wait_for 30 sh -c "\"$RC\" events $rb | grep -q host_reconciled" || { "$RC" events "$rb"; fail "not reconciled"; }
wait_for 10 dep_state_is "$rb" rolled_back || { "$RC" status "$rb"; fail "not rolled_back after reconciliation"; }
"$RC" events "$rb" | grep -q deployment_reconciled || fail "no deployment_reconciled event"
disk=$(basename "$(readlink "$T/agent-1/web/current")")
[ "$disk" = v1 ] || fail "disk runs $disk, want v1"
"$RC" status "$rb" --json | python3 -c '
import json, sys
d = json.load(sys.stdin); h = d["hosts"][0]
assert h["state"] == "rolled_back" and h["to"] == "v1", h
' || fail "host row not succeeded"
"$RC" hosts --json | python3 -c '
import json, sys
assert json.load(sys.stdin)[0]["apps"]["web"]["current"] == "v1"
' || fail "hosts does not say v1"
say ok
