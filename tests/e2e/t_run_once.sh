# Run-once steps (deploy --before/--after NAME) against real agents: a NAME
# that is no name is exit 2 and creates nothing; a failing `before` stops
# the deployment before any host is touched; the success path runs both
# on --run-on's host, once each although the instruction is re-published,
# with their output in status and events; a failing `after` rolls every
# updated host back; a NAME the agent lacks fails clearly; an agent killed
# while one runs answers FAILED after its restart and never runs it again;
# a coordinator restarted while one runs resumes it.
. "$(dirname "$0")/lib.sh"
# once.sh NAME I: agent I's run_once_NAME; fails (exit 3) while
# $T/fail-NAME exists, takes 3 s while $T/slow-NAME exists
cat >"$T/once.sh" <<SH
name=\$1; i=\$2
echo "\$name \$ROLLCLONE_VERSION \$ROLLCLONE_DEPLOYMENT" >>"$T/agent-\$i/once.log"
echo "running \$name for \$ROLLCLONE_APP \$ROLLCLONE_VERSION on host-\$i"
[ -f "$T/slow-\$name" ] && sleep 3
if [ -f "$T/fail-\$name" ]; then echo "\$name: table locked" >&2; exit 3; fi
echo "\$name done"
SH
RC_APP_EXTRA='run_once_migrate = sh $T/once.sh migrate $i
run_once_smoke = sh $T/once.sh smoke $i'
rc_fleet 3
for i in 1 2 3; do rc_webapp $i; done
rc_coord_start
for i in 1 2 3; do rc_agent_start $i; done
wait_online 10 3 || fail "hosts not online"
for v in v1 v2 v3 v4; do make_release $v; done
expect_exit 0 deploy v1 --batch 100% --soak 100ms --wait

# once_field DEP WHEN FIELD: a field of a run-once step in status --json
once_field () {
    "$RC" status "$1" --json | python3 -c "
import json,sys
for o in json.load(sys.stdin)['run_once']:
    if o['when'] == '$2': print(o['$3'])"
}
# once_runs I NAME DEP: how often agent I ran run_once_NAME for DEP
once_runs () { cat "$T/agent-$1/once.log" 2>/dev/null | grep -c "^$2 .* $3\$"; }
deployments () { sql "select count(*) from deployments"; }
history_rows () { sql "select count(*) from release_history"; }

say "a NAME that is not a name is exit 2 and creates nothing"
n0=$(deployments)
expect_exit 2 deploy v2 --before 'rm -rf /'
[ "$(wc -l <"$T/last.out")" = 1 ] && grep -q -- "--before 'rm -rf /' must be a NAME" "$T/last.out" || fail "bad NAME: $(cat "$T/last.out")"
expect_exit 2 deploy v2 --after 'smoke;reboot'
expect_exit 2 deploy v2 --after "$(printf 'x%.0s' $(seq 65))"
expect_exit 2 deploy v2 --before migrate --run-on host-9
grep -q "run-on 'host-9' is not one of the 3 host(s)" "$T/last.out" || fail "--run-on outside: $(cat "$T/last.out")"
expect_exit 2 deploy v2 --run-on host-1
[ "$(deployments)" = "$n0" ] || fail "a refused deploy created a deployment"

say "--plan shows the run-once steps and their host"
expect_exit 0 deploy v2 --before migrate --after smoke --plan
grep -q "run-once before: run_once_migrate on host-1" "$T/last.out" || fail "plan: $(cat "$T/last.out")"
expect_exit 0 deploy v2 --before migrate --run-on host-3 --plan --json
python3 -c "
import json,sys
p = json.load(open('$T/last.out'))
assert [(o['when'], o['name'], o['host']) for o in p['run_once']] == [('before', 'migrate', 'host-3')], p['run_once']
" || fail "plan --json: $(cat "$T/last.out")"
[ "$(deployments)" = "$n0" ] || fail "a plan created a deployment"

say "a failing before touches no host"
touch "$T/fail-migrate"
h0=$(history_rows)
expect_exit 1 deploy v2 --before migrate --soak 100ms --wait
dep=$(grep -m1 '^d-' "$T/last.out")
[ "$(dep_field "$dep" state)" = failed ] || fail "state $(dep_field "$dep" state)"
dep_field "$dep" reason | grep -q "run-once before 'migrate' failed on host-1: run_once_migrate exited with status 3" || fail "reason: $(dep_field "$dep" reason)"
for i in 1 2 3; do
    [ "$(current $i)" = v1 ] || fail "host-$i serves $(current $i)"
    [ "$(hook_count $i install v2)" = 0 ] || fail "host-$i installed v2"
    [ "$(hook_count $i drain v2)" = 0 ] || fail "host-$i drained"
    [ "$(dep_host_field "$dep" host-$i state)" = pending ] || fail "host-$i $(dep_host_field "$dep" host-$i state)"
done
[ "$(history_rows)" = "$h0" ] || fail "release history changed"
[ "$(once_field "$dep" before state)" = failed ] && [ "$(once_field "$dep" before exit_code)" = 3 ] || fail "run-once row: $("$RC" status "$dep" --json)"
once_field "$dep" before output_tail | grep -q "migrate: table locked" || fail "no output tail"
"$RC" status "$dep" >"$T/status" && cat "$T/status"
grep -q "run-once before run_once_migrate on host-1: failed, exit 3" "$T/status" || fail "status text"
grep -q "table locked" "$T/status" || fail "status text has no tail"
"$RC" events "$dep" | grep -q "run_once_failed.*before: run_once_migrate on host-1, exit 3.*output: .*table locked" || fail "event: $("$RC" events "$dep")"
[ "$(once_runs 1 migrate "$dep")" = 1 ] || fail "migrate ran $(once_runs 1 migrate "$dep") times"
rm "$T/fail-migrate"

say "success: before and after on --run-on's host, once each, output in status and events"
touch "$T/slow-migrate" # runs across re-publishes (every second)
expect_exit 0 deploy v2 --before migrate --after smoke --run-on host-2 --batch 1 --soak 100ms --wait
dep=$(grep -m1 '^d-' "$T/last.out")
rm "$T/slow-migrate"
for i in 1 2 3; do [ "$(current $i)" = v2 ] || fail "host-$i serves $(current $i)"; done
[ "$(once_runs 2 migrate "$dep")" = 1 ] && [ "$(once_runs 2 smoke "$dep")" = 1 ] || fail "host-2 once.log: $(cat "$T/agent-2/once.log")"
for i in 1 3; do [ "$(once_runs $i migrate "$dep")$(once_runs $i smoke "$dep")" = 00 ] || fail "host-$i ran a run-once"; done
grep -q "^migrate v2 $dep" "$T/agent-2/once.log" || fail "ROLLCLONE_VERSION not the target"
for w in before after; do
    [ "$(once_field "$dep" $w host)" = host-2 ] && [ "$(once_field "$dep" $w state)" = succeeded ] || fail "$w: $("$RC" status "$dep" --json)"
done
once_field "$dep" before output_tail | grep -q "migrate done" || fail "before tail"
once_field "$dep" after output_tail | grep -q "smoke done" || fail "after tail"
"$RC" status "$dep" | grep -q "run-once after  run_once_smoke on host-2: succeeded, exit 0" || fail "status: $("$RC" status "$dep")"
# order: before ahead of the first batch, after behind the last host
"$RC" events "$dep" --json >"$T/ev.json"
python3 - "$T/ev.json" <<'PY' || fail "run-once order: $("$RC" events "$dep")"
import json, sys
ev = json.load(open(sys.argv[1]))['events']
kinds = [e['kind'] for e in ev]
first_batch = kinds.index('batch_started')
assert kinds.index('run_once_succeeded') < first_batch, kinds
assert any(k == 'run_once_started' and 'after' in e['detail'] for k, e in zip(kinds, ev))
last_host = max(i for i, k in enumerate(kinds) if k == 'host_succeeded')
after = [i for i, e in enumerate(ev) if e['kind'] == 'run_once_succeeded' and e['detail'].startswith('after')]
assert after and after[0] > last_host, kinds
assert 'output: ' in ev[after[0]]['detail'] and 'smoke done' in ev[after[0]]['detail']
PY

say "a failing after rolls every updated host back"
touch "$T/fail-smoke"
expect_exit 1 deploy v3 --after smoke --batch 2 --soak 100ms --wait
dep=$(grep -m1 '^d-' "$T/last.out")
[ "$(dep_field "$dep" state)" = rolled_back ] || fail "state $(dep_field "$dep" state)"
dep_field "$dep" reason | grep -q "run-once after 'smoke' failed" || fail "reason: $(dep_field "$dep" reason)"
for i in 1 2 3; do
    [ "$(current $i)" = v2 ] || fail "host-$i serves $(current $i), not v2"
    [ "$(hook_count $i install v3)" = 1 ] || fail "host-$i was not updated first"
    [ "$(dep_host_field "$dep" host-$i state)" = rolled_back ] || fail "host-$i $(dep_host_field "$dep" host-$i state)"
done
# the smoke test goes to a host the deployment updated, the first of them
[ "$(once_field "$dep" after host)" = host-1 ] || fail "after ran on $(once_field "$dep" after host)"
rm "$T/fail-smoke"

say "a NAME the agent lacks fails clearly"
expect_exit 1 deploy v3 --before nosuch --soak 100ms --wait
dep=$(grep -m1 '^d-' "$T/last.out")
dep_field "$dep" reason | grep -q "no run_once_nosuch in \[app web\]" || fail "reason: $(dep_field "$dep" reason)"
for i in 1 2 3; do [ "$(hook_count $i install v3)" = 1 ] || fail "host-$i installed v3 again"; done

say "an agent killed while its run-once runs answers FAILED after restart, never reruns it"
touch "$T/slow-migrate"
dep=$(deploy v3 --before migrate --run-on host-3 --soak 100ms) || fail "deploy"
wait_for 10 sh -c "grep -q '^migrate v3 $dep' '$T/agent-3/once.log'" || fail "migrate did not start"
kill -9 "$(rc_pid agent-3)"
wait "$(rc_pid agent-3)" 2>/dev/null
rm "$T/slow-migrate"
rc_agent_start 3
wait_ended 20 "$dep" || fail "deployment did not end"
[ "$(dep_field "$dep" state)" = failed ] || fail "state $(dep_field "$dep" state)"
once_field "$dep" before error | grep -q "the agent stopped while run_once_migrate ran: not run again" || fail "error: $(once_field "$dep" before error)"
sleep 2 # re-published meanwhile: still once
[ "$(once_runs 3 migrate "$dep")" = 1 ] || fail "migrate ran $(once_runs 3 migrate "$dep") times"
for i in 1 2 3; do [ "$(hook_count $i install v3)" = 1 ] || fail "host-$i touched"; done
wait_for 10 host_is host-3 online || fail "host-3 not back"

say "a coordinator restarted while a run-once runs resumes it"
touch "$T/slow-migrate"
dep=$(deploy v4 --before migrate --soak 100ms) || fail "deploy"
wait_for 10 sh -c "grep -q '^migrate v4 $dep' '$T/agent-1/once.log'" || fail "migrate did not start"
rc_coord_kill9
rc_coord_start
rm "$T/slow-migrate"
wait_ended 30 "$dep" || fail "deployment did not end after the restart"
[ "$(dep_field "$dep" state)" = succeeded ] || fail "state $(dep_field "$dep" state): $(dep_field "$dep" reason)"
[ "$(once_runs 1 migrate "$dep")" = 1 ] || fail "migrate ran $(once_runs 1 migrate "$dep") times"
for i in 1 2 3; do [ "$(current $i)" = v4 ] || fail "host-$i serves $(current $i)"; done

say ok
