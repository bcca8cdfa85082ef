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

# events: the newest page by default, clamped when asked for too much
"$RC" events --json >"$T/e.json" || fail "events --json"
python3 - "$T/e.json" <<'PY' || fail "default events page"
import json, sys
r = json.load(open(sys.argv[1]))
assert len(r["events"]) == r["limit"] == 50, r["limit"]
assert r["more"] is True and r["next_before"] == r["events"][0]["id"], r
assert r["events"][-1]["detail"] == "n=2499", r["events"][-1]
PY
"$RC" events --limit 100000 --json >"$T/e.json" || fail "events --limit 100000"
python3 -c "
import json, sys
r = json.load(open('$T/e.json'))
assert r['limit'] == 1000 and len(r['events']) == 1000 and r['more'], (r['limit'], len(r['events']))" || fail "events limit not clamped to 1000"

# page back through all of them with --before: each event once, oldest last
before=""; pages=0; : >"$T/seen"
while :; do
    "$RC" events --limit 700 ${before:+--before "$before"} --json >"$T/e.json" || fail "events page $pages"
    python3 -c "
import json
r = json.load(open('$T/e.json'))
ids = [e['id'] for e in r['events']]
assert ids == sorted(ids), 'a page is oldest first'
print('\n'.join(str(i) for i in ids))" >>"$T/seen" || fail "page $pages not in order"
    pages=$((pages + 1))
    [ "$pages" -le 10 ] || fail "paging does not end"
    before=$(python3 -c "import json; n = json.load(open('$T/e.json'))['next_before']; print('' if n is None else n)")
    [ -n "$before" ] || break
done
[ "$pages" = 4 ] || fail "$pages pages of 700 for 2500 events"
[ "$(wc -l <"$T/seen")" = 2500 ] || fail "$(wc -l <"$T/seen") events seen, expected 2500"
[ "$(sort -n "$T/seen" | uniq | wc -l)" = 2500 ] || fail "an event was shown twice"
# the text form names the next page on stderr
"$RC" events --limit 3 >"$T/e.txt" 2>"$T/e.err" || fail "events --limit 3"
[ "$(wc -l <"$T/e.txt")" = 3 ] || fail "3 lines expected: $(cat "$T/e.txt")"
grep -q "rollclone events --before [0-9]" "$T/e.err" || fail "no next-page hint: $(cat "$T/e.err")"
expect_exit 2 "$RC" events --before abc
expect_exit 2 "$RC" events --limit 0

# history: a default page, clamped, paged back to the first entry
"$RC" history host-1 --json >"$T/h.json" || fail "history --json"
python3 -c "
import json
r = json.load(open('$T/h.json'))
assert r['limit'] == 100 and len(r['history']) == 100 and r['more'], r['limit']
assert r['history'][-1]['version'] == 'v1499' and r['next_before'] == r['history'][0]['id']" || fail "default history page"
"$RC" history host-1 --limit 5000 --json >"$T/h.json" || fail "history --limit 5000"
python3 -c "
import json
r = json.load(open('$T/h.json'))
assert r['limit'] == 1000 and len(r['history']) == 1000 and r['more'], r['limit']" || fail "history limit not clamped"
nb=$(python3 -c "import json; print(json.load(open('$T/h.json'))['next_before'])")
"$RC" history host-1 --limit 5000 --before "$nb" --json >"$T/h.json" || fail "history --before"
python3 -c "
import json
r = json.load(open('$T/h.json'))
assert len(r['history']) == 500 and not r['more'] and r['next_before'] is None
assert r['history'][0]['version'] == 'v0'" || fail "last history page"
expect_exit 2 "$RC" history host-1 --before -3

# status: any limit asked for is clamped
"$RC" status --limit 100000 --json >"$T/s.json" || fail "status --limit"
[ "$(python3 -c "import json; print(len(json.load(open('$T/s.json'))))")" = 100 ] || fail "status not clamped to 100"
"$RC" status --limit 7 --json >"$T/s.json" || fail "status --limit 7"
[ "$(python3 -c "import json; print(len(json.load(open('$T/s.json'))))")" = 7 ] || fail "status --limit 7"
say ok
