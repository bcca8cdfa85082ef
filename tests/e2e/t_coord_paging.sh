# history and events come in pages (--limit, --before ID) and every limit a
# request asks for is clamped by the coordinator (status too): a database
# with thousands of rows is read a page at a time, each row exactly once.
. "$(dirname "$0")/lib.sh"
rc_fleet 0
rc_coord_start
rc_coord_stop
# a week of records, written into the stopped coordinator's database
python3 - "$T/coord-data/coordinator.db" <<'PY' || fail "seeding the database"
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time() * 1000)
db.execute("INSERT INTO hosts (id, pubkey, state, first_seen, last_seen) VALUES ('host-1', 'K', 'offline', ?, ?)", (now, now))
db.executemany("INSERT INTO events (ts, host_id, kind, detail) VALUES (?, 'host-1', 'seeded', ?)",
               [(now - 3600_000 + i, "n=%d" % i) for i in range(2500)])
db.executemany("INSERT INTO release_history (host_id, app, version, previous, ts) VALUES ('host-1', 'web', ?, ?, ?)",
               [("v%d" % i, "v%d" % (i - 1), now - 3600_000 + i) for i in range(1500)])
cols = "(id, kind, app, version, batch_spec, max_fail_spec, max_fail, soak_ms, health_timeout_ms, progress_deadline_ms, auto_rollback, state, total_batches, created, updated, finished, progress)"
db.executemany("INSERT INTO deployments " + cols + " VALUES (?, 'deploy', 'web', 'v1', '1', '0', 0, 0, 0, 0, 1, 'succeeded', 1, ?, ?, ?, ?)",
               [("d-seed-%04d" % i, now - 1000 + i, now, now, now) for i in range(150)])
db.commit()
PY
rc_coord_start

# events and history, read as a script would: the default page, a clamped
# one, and every page back to the first, each row once (one python3 for
# all of it: this machine may be slow to start processes)
python3 - "$RC" <<'PY' || fail "paging"
import json, subprocess, sys
rc = sys.argv[1]
def get(*args):
    return json.loads(subprocess.run([rc] + list(args) + ["--json"], check=True,
                                     capture_output=True, text=True).stdout)
r = get("events")
assert len(r["events"]) == r["limit"] == 50, r["limit"]
assert r["more"] is True and r["next_before"] == r["events"][0]["id"], r
assert r["events"][-1]["detail"] == "n=2499", r["events"][-1]
r = get("events", "--limit", "100000")
assert r["limit"] == 1000 and len(r["events"]) == 1000 and r["more"], "events limit not clamped"
seen, before, pages = [], None, 0
while True:
    r = get("events", "--limit", "700", *(["--before", str(before)] if before else []))
    ids = [e["id"] for e in r["events"]]
    assert ids == sorted(ids), "a page is oldest first"
    assert not seen or ids[-1] < seen[0], "pages go back in time"
    seen = ids + seen
    pages += 1
    assert pages <= 10, "paging does not end"
    before = r["next_before"]
    if before is None:
        break
assert pages == 4, pages
assert len(seen) == len(set(seen)) == 2500, len(seen)

r = get("history", "host-1")
assert r["limit"] == 100 and len(r["history"]) == 100 and r["more"], r["limit"]
assert r["history"][-1]["version"] == "v1499" and r["next_before"] == r["history"][0]["id"]
r = get("history", "host-1", "--limit", "5000")
assert r["limit"] == 1000 and len(r["history"]) == 1000 and r["more"], "history not clamped"
r = get("history", "host-1", "--limit", "5000", "--before", str(r["next_before"]))
assert len(r["history"]) == 500 and not r["more"] and r["next_before"] is None
assert r["history"][0]["version"] == "v0"

assert len(get("status", "--limit", "100000")) == 100, "status not clamped to 100"
assert len(get("status", "--limit", "7")) == 7
PY
# the text form names the next page on stderr
"$RC" events --limit 3 >"$T/e.txt" 2>"$T/e.err" || fail "events --limit 3"
[ "$(wc -l <"$T/e.txt")" = 3 ] || fail "3 lines expected: $(cat "$T/e.txt")"
grep -q "rollclone events --before [0-9]" "$T/e.err" || fail "no next-page hint: $(cat "$T/e.err")"
expect_exit 2 "$RC" events --before abc
expect_exit 2 "$RC" events --limit 0

expect_exit 2 "$RC" history host-1 --before -3
say ok
