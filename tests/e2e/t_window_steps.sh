# deploy --window with run-once steps (--before/--after on --run-on's host)
# and an operator's freeze, against real agents: a failing `before` fails
# the deployment with no host touched; otherwise `before` runs once ahead
# of any host, `after` once behind the last one; a freeze set while the
# window is full holds its new starts (never more than N in flight, no host
# starting between the freeze and its end), and the window goes on by
# itself once the freeze ends. status and --plan say where the deployment
# is. Everything about order is read from the events table. The freeze
# ends when the wall clock of every process here moves on past it (the
# test hook RC_FAULT_WALL_OFFSET_FILE of FAULT=1 builds, as in t_freeze),
# so no timing of a loaded machine decides whether it held.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/window_lib.sh"
export RC_FAULT_WALL_OFFSET_FILE="$T/wall-offset"
echo 0 >"$RC_FAULT_WALL_OFFSET_FILE"
# once.sh NAME I: agent I's run_once_NAME; fails (exit 3) while $T/fail-NAME exists
cat >"$T/once.sh" <<SH
echo "\$1 \$ROLLCLONE_VERSION \$ROLLCLONE_DEPLOYMENT" >>"$T/agent-\$2/once.log"
if [ -f "$T/fail-\$1" ]; then echo "\$1: table locked" >&2; exit 3; fi
echo "\$1 done"
SH
RC_APP_EXTRA='run_once_migrate = sh $T/once.sh migrate $i
run_once_smoke = sh $T/once.sh smoke $i'
N=5
window_fleet $N
for v in v1 v2; do make_release $v; done
expect_exit 0 deploy v1 --batch 100% --soak 100ms --wait

# once_runs I NAME DEP: how often agent I ran run_once_NAME for DEP
once_runs () { cat "$T/agent-$1/once.log" 2>/dev/null | grep -c "^$2 .* $3\$"; }
frozen_is () { [ "$(dep_field "$1" frozen 2>/dev/null)" = "$2" ]; }
STEPS="--batch 1 --window 2 --before migrate --after smoke --run-on host-3"

say "the plan of a window with run-once steps, inside a freeze"
expect_exit 0 "$RC" freeze --until 1h
# shellcheck disable=SC2086
expect_exit 0 deploy v2 $STEPS --plan
cat "$T/last.out"
grep -q "run-once before: run_once_migrate on host-3" "$T/last.out" || fail "plan: no before"
grep -q "run-once after: run_once_smoke on host-3" "$T/last.out" || fail "plan: no after"
grep -q "keeps 2 hosts in flight" "$T/last.out" || fail "plan: no window"
grep -q "^frozen: .*nothing would start until it ends (the run-once before step, the batches, each host of the window)" "$T/last.out" \
    || fail "plan: the frozen line does not say what the freeze holds"
# the order an operator reads: before, the canary, the window, after
[ "$(grep "^  " "$T/last.out" | grep -o -e "run-once before" -e "batch [12] " -e "run-once after" | tr '\n' '/')" = "run-once before/batch 1 /batch 2 /run-once after/" ] \
    || fail "plan: not in the order it runs"
# the worst case counts each run-once step as a host: 5 + 2 progress deadlines
# shellcheck disable=SC2086
deploy v2 $STEPS --progress-deadline 1m --plan --json >"$T/plan.json" || fail "plan --json"
python3 -c "import json; p = json.load(open('$T/plan.json')); assert p['worst_case_ms'] == 7 * 60000 and p['frozen'], p" \
    || fail "plan --json: $(cat "$T/plan.json")"
expect_exit 0 "$RC" freeze --clear

say "a failing before fails the window's deployment and touches no host"
touch "$T/fail-migrate"
# shellcheck disable=SC2086
expect_exit 1 deploy v2 $STEPS --soak 100ms --wait
dep=$(grep -m1 '^d-' "$T/last.out")
"$RC" status "$dep" >"$T/status.out"; cat "$T/status.out"
grep -q "run-once after  run_once_smoke on host-3: not run, the deployment ended first" "$T/status.out" \
    || fail "status: the after step of an ended deployment"
[ "$(dep_field "$dep" state)" = failed ] || fail "state $(dep_field "$dep" state)"
dep_field "$dep" reason | grep -q "run-once before 'migrate' failed on host-3" || fail "reason: $(dep_field "$dep" reason)"
for i in $(seq 1 $N); do
    dh_is "$dep" host-$i pending || fail "host-$i is $(dep_host_field "$dep" host-$i state)"
    [ "$(hook_count $i install v2)$(hook_count $i drain v2)" = 00 ] || fail "host-$i was touched"
    current_is $i v1 || fail "host-$i serves $(current $i)"
done
[ "$(once_runs 3 migrate "$dep")" = 1 ] || fail "migrate ran $(once_runs 3 migrate "$dep") times"
[ "$(sql "select count(*) from events where deployment_id = '$dep' and kind in ('host_updating', 'window_started', 'batch_started')")" = 0 ] \
    || fail "a host or a batch started: $("$RC" events "$dep")"
rm "$T/fail-migrate"

say "before, a window of 2 held by a freeze, after"
# hosts 2 and 3, the window's first two, hold their install: the window is
# full when the freeze comes
touch "$T/agent-2/hold-install-v2" "$T/agent-3/hold-install-v2"
# shellcheck disable=SC2086
dep=$(deploy v2 $STEPS --soak 200ms) || fail "deploy v2"
wait_for 30 dh_is "$dep" host-3 updating || fail "the window did not reach host-3"
dh_is "$dep" host-2 updating || fail "host-2 is $(dep_host_field "$dep" host-2 state)"
expect_exit 0 "$RC" freeze --until 5m --reason "window test"
rm "$T/agent-2/hold-install-v2"
wait_for 20 dh_is "$dep" host-2 succeeded || fail "host-2 did not finish"
wait_for 10 frozen_is "$dep" True || fail "the window's next start is not frozen"
dh_is "$dep" host-4 pending || fail "host-4 started inside the freeze"
"$RC" status "$dep" >"$T/status.out"; cat "$T/status.out"
grep -q "frozen: waits for the freeze to end" "$T/status.out" || fail "status does not say frozen"
grep -q "window 2 of 5 hosts (2): 1 in flight, 2 to start$" "$T/status.out" || fail "status: window line"
grep -q "run-once before run_once_migrate on host-3: succeeded" "$T/status.out" || fail "status: before"
grep -q "run-once after  run_once_smoke on host-3: pending" "$T/status.out" || fail "status: after"
rm "$T/agent-3/hold-install-v2"
wait_for 20 dh_is "$dep" host-3 succeeded || fail "host-3 did not finish"
sleep 1
dh_is "$dep" host-4 pending || fail "host-4 started inside the freeze"
# the freeze ends: the wall clock moves on 6 minutes
echo 360000 >"$RC_FAULT_WALL_OFFSET_FILE"
wait_ended 40 "$dep" || fail "v2 did not go on after the freeze"
dep_state_is "$dep" succeeded || { "$RC" status "$dep"; fail "v2 ended $(dep_field "$dep" state)"; }
"$RC" status "$dep"
for i in $(seq 1 $N); do
    [ "$(hook_count $i install v2)" = 1 ] || fail "host-$i installed v2 $(hook_count $i install v2) times"
    current_is $i v2 || fail "host-$i serves $(current $i)"
done
[ "$(once_runs 3 migrate "$dep")$(once_runs 3 smoke "$dep")" = 11 ] || fail "host-3 once.log: $(cat "$T/agent-3/once.log")"
for i in 1 2 4 5; do [ "$(once_runs $i migrate "$dep")$(once_runs $i smoke "$dep")" = 00 ] || fail "host-$i ran a run-once"; done
out=$(window_check "$dep" host_updating host_succeeded,host_failed) || fail "$out"
case $out in "max=2 starts=host-1,host-2,host-3,host-4,host-5") ;; *) fail "window: $out" ;; esac
# the order, from the events: before ahead of every host, after behind the
# last, and no host started from the freeze to its end (until_ms)
python3 - "$T/coord-data/coordinator.db" "$dep" <<'PY' || fail "order: $("$RC" events "$dep")"
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
dep = sys.argv[2]
until = db.execute("SELECT until_ms FROM freeze WHERE id = 1").fetchone()[0]
set_id = db.execute("SELECT max(id) FROM events WHERE kind = 'freeze_set'").fetchone()[0]
ev = list(db.execute("SELECT id, ts, kind, detail FROM events WHERE deployment_id = ? ORDER BY id",
                     (dep,)))
ids = lambda kind, text="": [i for i, t, k, d in ev if k == kind and d.startswith(text)]
starts = [(i, t) for i, t, k, d in ev if k == "host_updating"]
before_ok, = ids("run_once_succeeded", "before")
after_go, = ids("run_once_started", "after")
assert ids("run_once_succeeded", "after"), "after did not succeed"
assert before_ok < min(i for i, t in starts), "a host started before the before step ended"
assert after_go > max(ids("host_succeeded")), "after started before the last host finished"
frozen, = ids("frozen")
unfrozen, = ids("unfrozen")
assert set_id < frozen < unfrozen
inside = [(i, t) for i, t in starts if set_id < i < unfrozen or (i > set_id and t < until)]
assert not inside, "hosts started inside the freeze: %s (until %d)" % (inside, until)
assert [i for i, t in starts if i > unfrozen], "nothing started after the freeze"
print("before ok at event %d, first start %d; freeze %d..%d (until %d); after at %d"
      % (before_ok, min(i for i, t in starts), frozen, unfrozen, until, after_go))
PY
say ok
