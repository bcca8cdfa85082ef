# The success path: v1 then v2 rolled out in batches of 2 over 5 real agents
# with real hooks and HTTP health checks; every host ends on v2 with v1 as
# its rollback point, each install hook ran once per host and version, and
# batches went in order.
. "$(dirname "$0")/lib.sh"
rc_fleet 5
for i in 1 2 3 4 5; do rc_webapp $i; done
rc_coord_start
for i in 1 2 3 4 5; do rc_agent_start $i; done
wait_online 10 5 || fail "hosts not online"
make_release v1; make_release v2

id=$(deploy v1 --batch 2 --soak 300ms --wait </dev/null >"$T/wait1.out" 2>&1; echo $?)
cat "$T/wait1.out"
[ "$id" = 0 ] || fail "deploy v1 --wait exited $id"
dep=$(grep -m1 '^d-' "$T/wait1.out")
dep_state_is "$dep" succeeded || fail "v1 not succeeded"
for i in 1 2 3 4 5; do [ "$(current $i)" = v1 ] || fail "host-$i serves '$(current $i)', not v1"; done
# piped --wait prints one line per host transition
grep -q "host-3 *host_succeeded" "$T/wait1.out" || fail "--wait did not print host transitions"
grep -q "deployment $dep succeeded" "$T/wait1.out" || fail "--wait did not print the end"

expect_exit 0 deploy v2 --batch 2 --soak 300ms --wait
dep2=$(grep -m1 '^d-' "$T/last.out")
for i in 1 2 3 4 5; do
    [ "$(current $i)" = v2 ] || fail "host-$i serves '$(current $i)', not v2"
    [ "$(hook_count $i install v2)" = 1 ] || fail "host-$i ran install v2 $(hook_count $i install v2) times"
    [ "$(hook_count $i drain v2)" = 1 ] || fail "host-$i drained $(hook_count $i drain v2) times"
    [ "$(hook_count $i undrain v2)" = 1 ] || fail "host-$i undrained $(hook_count $i undrain v2) times"
done
wait_for 5 sh -c "\"$RC\" hosts --json | grep -q '\"v1\"'" || fail "rollback point v1 not reported"
"$RC" hosts
[ "$(host_field host-4 apps)" = '{"web": {"current": "v2", "rollback_points": ["v1"]}}' ] || fail "host-4 apps: $(host_field host-4 apps)"
# batches: 2, 2, 1 in host order; batch n+1 started after batch n ended
[ "$(dep_field "$dep2" batches)" = 3 ] || fail "3 batches expected"
[ "$(dep_host_field "$dep2" host-5 batch)" = 3 ] || fail "host-5 not in batch 3"
sql "select host_id, batch, started, finished from deployment_hosts where deployment_id='$dep2' order by ord" >"$T/rows"
python3 - "$T/rows" <<'PY' || fail "batches overlapped"
import sys
rows = [l.strip().split('|') for l in open(sys.argv[1])]
end = {}
for host, batch, started, finished in rows:
    end[int(batch)] = max(end.get(int(batch), 0), int(finished))
for host, batch, started, finished in rows:
    b = int(batch)
    if b > 1 and int(started) < end[b - 1]:
        sys.exit(1)
PY
"$RC" history host-1 >"$T/history" || fail "history"
grep -q "$dep2" "$T/history" || fail "history does not name the deployment"
"$RC" events "$dep2" | grep -q batch_started || fail "no batch events"
"$RC" status "$dep2"
# --watch on a deployment that has ended shows it once and exits
expect_exit 0 timeout 10 "$RC" status "$dep2" --watch
grep -q "deployment $dep2: deploy web v2, succeeded" "$T/last.out" || fail "status --watch: $(cat "$T/last.out")"
expect_exit 2 "$RC" status --watch --json
"$RC" status | grep -q "$dep2" || fail "status list"
say ok
