# deploy --window: after the canary, at most N hosts in flight and a new one
# started as soon as one finishes (a slow host holds no other); the failure
# budget stops new starts, the hosts in flight finish, then the rollback goes
# --rollback-batch hosts at a time, the last updated first; a coordinator
# killed -9 mid-window resumes it from SQLite without starting a host twice.
# Everything is checked from the events table, in the order it was written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/window_lib.sh"
N=6
window_fleet $N
for v in v2 v3 v4; do make_release $v; done

# canary_first DEP: host-1 started first and finished before any other started
canary_first () {
    python3 - "$T/coord-data/coordinator.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
rows = list(db.execute("SELECT host_id, kind FROM events WHERE deployment_id = ? ORDER BY id",
                       (sys.argv[2],)))
starts = [h for h, k in rows if k == "host_updating"]
done = [i for i, (h, k) in enumerate(rows) if h == starts[0] and k == "host_succeeded"][0]
others = [i for i, (h, k) in enumerate(rows) if k == "host_updating" and h != starts[0]]
sys.exit(0 if starts[0] == "host-1" and all(i > done for i in others) else 1)
PY
}

# --- bad input: one line, exit 2, nothing stored
before=$(sql "SELECT count(*) FROM deployments")
for bad in 0 0% 101% abc 1,10% -2; do
    expect_exit 2 deploy v2 --window "$bad"
    [ "$(wc -l <"$T/last.out")" = 1 ] || fail "--window $bad: not one line: $(cat "$T/last.out")"
    grep -q -- "--window '$bad'" "$T/last.out" || fail "--window $bad: unclear: $(cat "$T/last.out")"
done
expect_exit 2 deploy v2 --window 2 --rollback-batch 0
grep -q -- "--rollback-batch '0'" "$T/last.out" || fail "unclear: $(cat "$T/last.out")"
expect_exit 2 deploy v2 --window 2 --check errors
grep -q -- "--window cannot go with --check" "$T/last.out" || fail "unclear: $(cat "$T/last.out")"
[ "$(sql "SELECT count(*) FROM deployments")" = "$before" ] || fail "a bad deploy stored something"
# the plan shows the window: the canary, then the rest as the window's batch
expect_exit 0 deploy v2 --batch 1 --window 33% --plan
grep -q "batch 1 (1 host): host-1$" "$T/last.out" || fail "plan: no canary: $(cat "$T/last.out")"
grep -q "batch 2 (5 hosts)" "$T/last.out" || fail "plan: no window batch: $(cat "$T/last.out")"
grep -q "keeps 2 hosts in flight" "$T/last.out" || fail "plan: no window: $(cat "$T/last.out")"
say "bad windows refused, nothing stored; the plan shows the window"

# --- a window of 3 with a slow host: host-2 holds its install; the others
# go past it, never more than 3 in flight
touch "$T/agent-2/hold-install-v2"
dep=$(deploy v2 --window 3 --soak 200ms)
wait_for 30 dh_is "$dep" host-6 succeeded || fail "the window did not move past slow host-2"
dep_snap "$dep" || fail "status $dep"
[ "$(snap_host_field host-2 state)" = updating ] || fail "host-2 is $(snap_host_field host-2 state), not held"
"$RC" status "$dep" >"$T/status.out"
grep -q "window 3 of 6 hosts (3): 1 in flight" "$T/status.out" || fail "status: $(cat "$T/status.out")"
[ "$(snap_field window_hosts)" = 3 ] && [ "$(snap_field in_flight)" = 1 ] \
    || fail "status --json: window $(snap_field window_hosts) in flight $(snap_field in_flight)"
rm "$T/agent-2/hold-install-v2"
wait_ended 30 "$dep" && [ "$(snap_field state)" = succeeded ] || fail "v2: $(dep_field "$dep" state)"
out=$(window_check "$dep" host_updating host_succeeded,host_failed) || fail "$out"
case $out in "max=3 starts=host-1,host-2,host-3,host-4,"*) ;; *) fail "v2 window: $out" ;; esac
canary_first "$dep" || fail "the canary did not finish before the window started"
for i in $(seq 1 $N); do [ "$(hook_count $i install v2)" = 1 ] || fail "host-$i installed v2 $(hook_count $i install v2) times"; done
say "window of 3 after the canary: $out"

# --- the budget: host-4 fails v3 while host-5 is held in flight; no new host
# starts (host-6 untouched), host-5 finishes, then the rollback, 2 at a time,
# the last updated first
# (host-4 fails slowly, so host-5 is surely in flight beside it by then)
touch "$T/agent-4/fail-install-v3" "$T/agent-5/hold-install-v3"
echo 2 >"$T/agent-4/slow-install-v3"
dep=$(deploy v3 --window 2 --rollback-batch 2 --soak 200ms)
wait_for 30 dh_is "$dep" host-5 updating || fail "host-5 did not start"
wait_for 30 dh_is "$dep" host-4 failed || fail "host-4 did not fail"
sleep 1
dep_snap "$dep" || fail "status $dep"
[ "$(snap_host_field host-6 state)" = pending ] || fail "host-6 started after the budget was spent"
[ "$(snap_host_field host-5 state)" = updating ] || fail "host-5 is $(snap_host_field host-5 state)"
rm "$T/agent-5/hold-install-v3"
wait_ended 40 "$dep" || fail "v3 did not end"
# (the snapshot is the deployment as it ended)
[ "$(snap_field state)" = rolled_back ] || fail "v3: $(snap_field state)"
[ "$(snap_host_field host-6 state)" = pending ] || fail "host-6 touched"
for i in 1 2 3 4 5 6; do [ "$(current $i)" = v2 ] || fail "host-$i serves '$(current $i)', not v2"; done
out=$(window_check "$dep" host_rolling_back host_rolled_back,rollback_failed) || fail "$out"
# host-4 goes back too if its agent could not put it back itself
case $out in "max=2 starts=host-5,host-3,host-2,host-1" | \
    "max=2 starts=host-5,host-4,host-3,host-2,host-1") ;; *) fail "rollback: $out" ;; esac
say "budget stopped new starts; rollback 2 at a time, last updated first: $out"

# --- kill -9 mid-window: hosts 2 and 3 hold their install; the coordinator
# dies and comes back; the window resumes, no host starts twice
touch "$T/agent-2/hold-install-v4" "$T/agent-3/hold-install-v4"
dep=$(deploy v4 --batch 1 --window 2 --soak 200ms)
wait_for 30 dh_is "$dep" host-3 updating || fail "the window did not reach host-3"
rc_coord_kill9
rm "$T/agent-2/hold-install-v4"
rc_coord_start
wait_for 20 dh_in "$dep" host-4 updating,succeeded || fail "the window did not resume after kill -9"
rm "$T/agent-3/hold-install-v4"
wait_ended 40 "$dep" && [ "$(snap_field state)" = succeeded ] || fail "v4: $(dep_field "$dep" state)"
out=$(window_check "$dep" host_updating host_succeeded,host_failed) || fail "$out"
case $out in "max=2 starts=host-1,host-2,host-3,host-4,host-5,host-6") ;; *) fail "v4: $out" ;; esac
for i in $(seq 1 $N); do
    [ "$(hook_count $i install v4)" = 1 ] || fail "host-$i installed v4 $(hook_count $i install v4) times"
    [ "$(current $i)" = v4 ] || fail "host-$i serves '$(current $i)', not v4"
done
say "kill -9 mid-window resumed it: $out"
say ok
