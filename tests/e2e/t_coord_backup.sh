# rollclone backup PATH: an online copy of a coordinator's database (25 MB
# of records) taken during a running deployment, without the fleet going
# offline meanwhile; it never overwrites a file (exit 2). Then the restore
# procedure of the README, run as written: stop, copy the backup into a
# fresh data_dir, start: the deployment resumes and finishes.
. "$(dirname "$0")/lib.sh"
# agents reconnecting to the restored coordinator take a couple of seconds
# (their reconnect backoff): not a host going offline mid-step
RC_OFFLINE=5s
rc_fleet 3
for i in 1 2 3; do rc_webapp $i; done
# host-3's install will be held (below) longer than the usual hook timeout
sed -i 's/^hook_timeout = .*/hook_timeout = 10m/' "$T/agent-3.conf"
rc_coord_start
rc_coord_stop
# a database large enough that a copy takes many cron ticks
python3 - "$T/coord-data/coordinator.db" <<'PY' || fail "seeding"
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1]); now = int(time.time() * 1000)
db.executemany("INSERT INTO events (ts, kind, detail) VALUES (?, 'seeded', ?)",
               [(now - 1000, "x" * 100 + str(i)) for i in range(150000)])
db.commit()
PY
rc_coord_start
for i in 1 2 3; do rc_agent_start $i; done
wait_online 10 3 || fail "hosts not online"
for v in v1 v2; do make_release $v; done
expect_exit 0 deploy v1 --batch 100% --soak 100ms --wait
# host-3's install waits until we let it go: the deployment is running
# while the backup is made, however slow this machine is
touch "$T/agent-3/hold-install-v2"
dep=$(deploy v2 --batch 1 --soak 300ms)
wait_for 60 dh_is "$dep" host-2 succeeded || fail "host-2 did not finish"
wait_for 30 sh -c "grep -q '^install v2' '$T/agent-3/hooks.log'" || fail "host-3 not installing"

# refused: an existing file, a missing directory (exit 2, nothing written)
echo precious >"$T/taken.db"
expect_exit 2 "$RC" backup "$T/taken.db"
grep -q "exists" "$T/last.out" || fail "no 'exists' reason: $(cat "$T/last.out")"
[ "$(cat "$T/taken.db")" = precious ] || fail "an existing file was overwritten"
expect_exit 2 "$RC" backup "$T/nodir/x.db"
expect_exit 2 "$RC" backup

offline=$(sql "select count(*) from events where kind = 'offline'")
dep_state_is "$dep" running || fail "$dep not running any more: $(dep_field "$dep" state)"
# a relative path is the CLI's working directory
(cd "$T" && "$RC" backup --json backup.db) >"$T/backup.json" || fail "backup failed"
cat "$T/backup.json"
rc_coord_stop
rm "$T/agent-3/hold-install-v2"
python3 - "$T/backup.json" "$T/backup.db" "$dep" <<'PY' || fail "the backup is not a sound copy"
import json, os, sqlite3, sys
r = json.load(open(sys.argv[1]))
assert r["path"] == sys.argv[2] and r["bytes"] == os.path.getsize(sys.argv[2]) > 18e6, r
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
assert db.execute("select count(*) from events where kind = 'seeded'").fetchone()[0] == 150000
# taken during the rollout: the copy has it running
state = db.execute("select state from deployments where id = ?", (sys.argv[3],)).fetchone()[0]
assert state == "running", state
print("backup: %d bytes, %d pages in %d ms" % (r["bytes"], r["pages"], r["ms"]))
PY
ls "$T" | grep -q partial && fail "a partial copy was left behind"
[ "$(sql "select count(*) from events where kind = 'offline'")" = "$offline" ] || fail "a host went offline during the backup"

say "restore into a fresh data_dir, as the README says"
sed -i "s|^data_dir = .*|data_dir = $T/restored|" "$T/coordinator.conf"
mkdir -p "$T/restored"
rm -f "$T/restored/coordinator.db-wal" "$T/restored/coordinator.db-shm"
cp "$T/backup.db" "$T/restored/coordinator.db"
rc_coord_start
wait_ended 60 "$dep" || fail "$dep did not resume after the restore"
dep_state_is "$dep" succeeded || fail "$dep ended $(dep_field "$dep" state): $(dep_field "$dep" reason)"
for i in 1 2 3; do current_is $i v2 || fail "host-$i on $(current $i)"; done
for i in 1 2 3; do [ "$(hook_count $i install v2)" = 1 ] || fail "host-$i installed v2 $(hook_count $i install v2) times"; done
say ok
