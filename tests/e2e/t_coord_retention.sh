# Retention: a coordinator started on a database with 60000 old events
# and release history and 1500 finished deployments prunes them to
# event_retention and deployment_retention in the background, answering
# the CLI meanwhile; a running deployment (the oldest of all) and its
# events are never pruned, and it finishes afterwards.
. "$(dirname "$0")/lib.sh"
RC_COORD_EXTRA="event_retention = 30d
deployment_retention = 50"
rc_fleet 2
for i in 1 2; do rc_webapp $i; done
rc_coord_start
for i in 1 2; do rc_agent_start $i; done
wait_online 10 2 || fail "hosts not online"
for v in v1 v2; do make_release $v; done
expect_exit 0 deploy v1 --batch 100% --soak 100ms --wait
dep=$(deploy v2 --batch 1 --pause manual --soak 100ms)
wait_for 20 dh_is "$dep" host-1 succeeded || fail "batch 1 of $dep did not finish"
wait_for 10 sh -c "\"$RC\" status $dep --json | grep -q '\"waiting_for_resume\": true'" || fail "$dep not waiting for resume"
history_web=$(sql "select count(*) from release_history where app = 'web'")
# how long `rollclone info` takes on this machine (process start, handshake)
idle=0
for _ in 1 2 3 4 5; do
    t0=$(date +%s%N); "$RC" info >/dev/null || fail "info"
    ms=$(( ($(date +%s%N) - t0) / 1000000 )); [ $ms -gt $idle ] && idle=$ms
done
rc_coord_stop

say "seeding 60-day-old rows into the stopped coordinator's database"
python3 - "$T/coord-data/coordinator.db" "$dep" <<'PY' || fail "seeding"
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1]); dep = sys.argv[2]
now = int(time.time() * 1000); old = now - 60 * 86400_000
db.executemany("INSERT INTO events (ts, host_id, kind, detail) VALUES (?, 'host-2', 'seeded', '')",
               [(old + i,) for i in range(60000)])
db.executemany("INSERT INTO events (ts, deployment_id, kind, detail) VALUES (?, ?, 'seeded-running', '')",
               [(old + i, dep) for i in range(10)])
db.executemany("INSERT INTO release_history (host_id, app, version, ts) VALUES ('host-2', 'old', ?, ?)",
               [("o%d" % i, old + i) for i in range(3000)])
cols = "(id, kind, app, version, batch_spec, max_fail_spec, max_fail, soak_ms, health_timeout_ms, progress_deadline_ms, auto_rollback, state, total_batches, created, updated, finished, progress)"
for i in range(1500):
    d = "d-seed-%04d" % i
    db.execute("INSERT INTO deployments " + cols + " VALUES (?, 'deploy', 'web', 'v0', '1', '0', 0, 0, 0, 0, 1, 'succeeded', 1, ?, ?, ?, ?)",
               (d, old + i, old + i, old + i, old + i))
    db.executemany("INSERT INTO deployment_hosts (deployment_id, host_id, ord, state) VALUES (?, ?, ?, 'succeeded')",
                   [(d, "host-%d" % h, h) for h in (1, 2)])
# recent events of a deployment that will be pruned stay readable
db.executemany("INSERT INTO events (ts, deployment_id, kind, detail) VALUES (?, 'd-seed-0000', 'recent', '')",
               [(now - i,) for i in range(3)])
# the running deployment is the oldest of all
db.execute("UPDATE deployments SET created = 1 WHERE id = ?", (dep,))
db.commit()
PY
rc_coord_start
start=$(date +%s%N)
# the CLI is answered while the coordinator prunes
worst=0; n=0
while [ "$(sql "select count(*) from events where kind = 'seeded'")" != 0 ]; do
    t0=$(date +%s%N)
    "$RC" info >/dev/null || fail "info failed while pruning"
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ $ms -gt $worst ] && worst=$ms
    n=$((n + 1))
    [ $(( ($(date +%s%N) - start) / 1000000000 )) -lt 60 ] || fail "60000 old events not pruned in 60 s"
done
seeded_left_is () { [ "$(sql "select count(*) from deployments where id like 'd-seed-%'")" = "$1" ]; }
wait_for 30 seeded_left_is 49 \
    || fail "deployments not pruned to 50 finished: $(sql "select count(*) from deployments where id like 'd-seed-%'") seeded left"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
say "pruned 60000 events and 1451 deployments in ${ms} ms; rollclone info took at most ${worst} ms ($n calls meanwhile; ${idle} ms idle)"
[ "$(sql "select count(*) from events where deployment_id = '$dep' and kind = 'seeded-running'")" = 10 ] || fail "events of the running deployment pruned"
[ "$(sql "select count(*) from release_history where app = 'old'")" = 1 ] || fail "old history not pruned to the newest row: $(sql "select count(*) from release_history where app = 'old'")"
[ "$(sql "select count(*) from release_history where app = 'web'")" = "$history_web" ] || fail "recent history pruned"
[ "$(sql "select count(*) from deployments where finished > 0")" = 50 ] || fail "$(sql "select count(*) from deployments where finished > 0") finished deployments kept, expected 50"
[ "$(sql "select count(*) from deployment_hosts where deployment_id like 'd-seed-%'")" = 98 ] || fail "host rows of pruned deployments left"
[ "$(sql "select count(*) from deployment_hosts where deployment_id not in (select id from deployments)")" = 0 ] || fail "orphan host rows"
[ "$(sql "pragma integrity_check")" = ok ] || fail "integrity"
"$RC" events --limit 5 >/dev/null || fail "events after pruning"
[ "$(sql "select count(*) from deployments where id = 'd-seed-0000'")" = 0 ] || fail "d-seed-0000 kept"
"$RC" events d-seed-0000 >"$T/pruned.txt" || fail "events of a pruned deployment refused"
[ "$(grep -c recent "$T/pruned.txt")" = 3 ] || fail "events of a pruned deployment: $(cat "$T/pruned.txt")"
expect_exit 2 "$RC" events d-nope

# the running deployment was left alone: it resumes and finishes
expect_exit 0 "$RC" resume "$dep"
wait_ended 30 "$dep" && [ "$(snap_field state)" = succeeded ] || fail "$dep did not finish: $(dep_field "$dep" state)"
for i in 1 2; do current_is $i v2 || fail "host-$i on $(current $i)"; done
say ok
