# Webhooks from the outbox (issue 12): every event a webhook wants reaches a
# real HTTP receiver exactly once with a valid HMAC signature (checked by
# the receiver with Python's hmac), in event order; events committed while
# the receiver was down, and while the coordinator was killed -9 with rows
# undelivered, arrive once it is up again; a 500 is retried, a 400 dropped
# and logged; `events =` filters; format = slack posts {"text": ...};
# webhook_max_age drops what is too old; bad [webhook] keys exit 2 naming
# FILE:LINE.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

say "bad [webhook] sections: one line naming FILE:LINE, exit 2"
rc_fleet 2
C="$T/bad.conf"
printf 'hush\n' >"$T/keys/hook-secret"
chmod 600 "$T/keys/hook-secret"
printf 'wide open\n' >"$T/keys/open-secret"
chmod 644 "$T/keys/open-secret"
check () {
    printf '[coordinator]\nsecret_key = keys/coordinator_secret\n%s\n[webhook ops]\n%s\n' "$1" "$2" >"$C"
    expect_exit 2 timeout -k 2 20 "$RC_BUILD/rollclone-coordinator" --config "$C"
    [ "$(wc -l <"$T/last.out")" = 1 ] || { cat "$T/last.out"; fail "error is not one line"; }
    grep -qF -- "$3" "$T/last.out" || fail "got '$(cat "$T/last.out")', want '$3'"
}
check "" "url = ftp://127.0.0.1/x" "$C:5: [webhook ops] url = 'ftp://127.0.0.1/x' is not an http:// or https:// URL"
check "" "url = http://" "$C:5: [webhook ops] url = 'http://' is not an http:// or https:// URL"
check "" "events = host_failed,\$(reboot)" "$C:5: [webhook ops] events: '\$(reboot)' is not an event kind or glob"
check "" "format = xml" "$C:5: [webhook ops] format = 'xml' is not a format (json, slack)"
check "" "secret_file = keys/open-secret" "$C:5: [webhook ops] secret_file: $T/keys/open-secret is open to its group or others (mode 644): chmod 600 it"
check "" "secret_file = keys/none" "$C:5: [webhook ops] secret_file: cannot read $T/keys/none"
check "" "url = http://127.0.0.1:1/x" "$C:5: [webhook ops] needs secret or secret_file"
check "" "secret = a
secret_file = keys/hook-secret
url = http://127.0.0.1:1/x" "$C:5: [webhook ops] has secret and secret_file"
check "" "secret = a" "$C:5: [webhook ops] needs url"
check "" "bogus = 1" "$C:5: unknown key 'bogus' in [webhook ops]"
check "webhook_max_age = soon" "url = http://127.0.0.1:1/x" "$C:3: [coordinator] webhook_max_age = 'soon' is not a duration"
printf '[coordinator]\nsecret_key = keys/coordinator_secret\n[webhook a/b]\nurl = http://x/\n' >"$C"
expect_exit 2 "$RC_BUILD/rollclone-coordinator" --config "$C"
grep -qF "$C:4: [webhook a/b]: webhook name 'a/b' must be" "$T/last.out" || fail "bad name: $(cat "$T/last.out")"

say "five webhooks; the receiver is down while the first rollout commits its events"
P_HOOK=$(rc_port)
H="http://127.0.0.1:$P_HOOK"
cat >>"$T/coordinator.conf" <<CONF

[webhook all]
url = $H/all
secret = s3cret;with#marks

[webhook ops]
url = $H/ops
events = deployment_*, host_failed
secret_file = keys/hook-secret

[webhook chat]
url = $H/chat
events = deployment_finished
format = slack
secret = chat-key

[webhook flaky]
url = $H/flaky
events = deployment_created
secret = f

[webhook refuse]
url = $H/refuse
events = deployment_created
secret = r
CONF
SECRETS="/all=s3cret;with#marks;/ops=hush;/chat=chat-key;/flaky=f;/refuse=r"
# the receiver's SECRETS splits on ';': the first secret holds one
SECRETS_ARG=$(printf '%s' "$SECRETS" | sed 's/s3cret;with/s3cret%3Bwith/')
receiver () {
    rc_bg receiver python3 "$HERE/webhook_receiver.py" "$P_HOOK" "$T/deliveries.jsonl" \
        "$SECRETS_ARG" "/flaky=500,500;/refuse=400*"
    wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $P_HOOK), 1)" \
        || fail "receiver did not start"
}
# the figures of the webhooks are on the coordinator's /metrics too
P_MET=$(rc_port)
sed -i "s/^offline_after = .*/&\nmetrics_endpoint = 127.0.0.1:$P_MET/" "$T/coordinator.conf"
for i in 1 2; do rc_webapp $i; done
rc_coord_start
for i in 1 2; do rc_agent_start $i; done
wait_online 10 2 || fail "hosts not online"
make_release v1; make_release v2
expect_exit 0 deploy v1 --batch 1 --soak 100ms --wait
outbox_count () { sql "select count(*) from webhook_outbox"; }
outbox_empty () { [ "$(outbox_count)" = 0 ]; }
[ "$(outbox_count)" -gt 5 ] || fail "outbox holds $(outbox_count) rows, expected the rollout's"
grep -q "webhook all: delivery [0-9]* ([a-z_]*) failed: .*try 2 again in" "$T/coordinator.log" \
    || fail "no retry logged while the receiver was down"

say "the receiver comes up: the rows go at their next try"
receiver
# the backoff doubles from 0.5 s: a receiver down for 20 s on a loaded
# machine puts the next try up to ~40 s away
wait_for 75 outbox_empty || fail "outbox not emptied: $(outbox_count) rows left"

say "receiver down again; a rollout that fails on host-2 and rolls back"
kill "$(rc_pid receiver)"
wait_for 10 sh -c "! kill -0 $(rc_pid receiver) 2>/dev/null" || fail "receiver did not stop"
touch "$T/agent-2/fail-install-v2"
expect_exit 1 deploy v2 --batch 1 --soak 100ms --wait
undelivered=$(outbox_count)
[ "$undelivered" -gt 5 ] || fail "outbox holds $undelivered rows, expected the rollout's"

say "kill -9 with $undelivered rows undelivered; the receiver comes up; the restart delivers them"
rc_coord_kill9
[ "$(outbox_count)" = "$undelivered" ] || fail "rows lost in the kill"
receiver
rc_coord_start
wait_for 75 outbox_empty || { sql "select o.id, o.webhook, e.kind from webhook_outbox o join events e on e.id = o.event_id"; fail "outbox not emptied"; }

say "each webhook got each of its events once, signed, in order"
sql "select id, kind from events order by id" >"$T/events"
python3 - "$T/events" "$T/deliveries.jsonl" <<'PY' || fail "deliveries do not match the events"
import fnmatch, json, sys
events = [l.strip().split('|') for l in open(sys.argv[1])]
events = [(int(i), k) for i, k in events]
log = [json.loads(l) for l in open(sys.argv[2])]
bad = [r for r in log if not r["sig_ok"]]
assert not bad, "bad signatures: %s" % bad[:2]
assert all(r["content_type"] == "application/json" for r in log)
def got(path):
    return [r for r in log if r["path"] == path]
def check(path, want_kinds):
    want = [i for i, k in events if any(fnmatch.fnmatchcase(k, g) for g in want_kinds)]
    rows = got(path)
    ok = [r for r in rows if r["status"] == 200]
    ids = [json.loads(r["body"])["event_id"] for r in ok] if path != "/chat" else None
    deliveries = [int(r["delivery"]) for r in ok]
    assert deliveries == sorted(deliveries), "%s out of order: %s" % (path, deliveries)
    assert len(set(deliveries)) == len(deliveries), "%s delivered twice: %s" % (path, deliveries)
    if ids is not None:
        assert ids == want, "%s: got events %s, want %s" % (path, ids, want)
        for r in ok:
            body = json.loads(r["body"])
            assert body["delivery"] == int(r["delivery"]) and body["event"] == r["event"], body
            assert body["webhook"] == path[1:] and body["time"].endswith("Z"), body
    else:
        assert len(ok) == len(want), "%s: %d deliveries, want %d" % (path, len(ok), len(want))
    return rows, ok, want
rows, ok, want = check("/all", ["*"])
assert len(rows) == len(ok) == len(events), "/all: %d requests for %d events" % (len(rows), len(events))
kinds = set(k for _, k in events)
assert {"deployment_created", "deployment_finished", "host_failed", "rollback_started"} <= kinds, kinds
rows, ok, want = check("/ops", ["deployment_*", "host_failed"])
assert len(rows) == len(want) and len(want) >= 5, "/ops: %d requests, want %d" % (len(rows), len(want))
assert "host_failed" in [r["event"] for r in ok]
rows, ok, want = check("/chat", ["deployment_finished"])
assert len(rows) == 2, rows
for r in ok:
    body = json.loads(r["body"])
    assert list(body) == ["text"] and "\n" not in body["text"], body
    assert body["text"].startswith("rollclone: deployment_finished, deployment d-"), body
# flaky: each receiver's first request answered 500 twice, then 200: each
# deployment_created was tried three times
rows, ok, want = check("/flaky", ["deployment_created"])
assert [r["status"] for r in rows] == [500, 500, 200] * 2, [r["status"] for r in rows]
assert rows[0]["delivery"] == rows[1]["delivery"] == rows[2]["delivery"] != rows[3]["delivery"]
assert rows[3]["delivery"] == rows[4]["delivery"] == rows[5]["delivery"]
# refuse: each asked once, refused, never again
rows = got("/refuse")
assert [r["status"] for r in rows] == [400, 400], rows
assert rows[0]["delivery"] != rows[1]["delivery"]
print("events %d, requests %d" % (len(events), len(log)))
PY
grep -q "webhook flaky: delivery [0-9]* (deployment_created) failed: HTTP 500: no; try 2 again in" \
    "$T/coordinator.log" || fail "500 retry not logged"
[ "$(grep -c "webhook refuse: dropped delivery [0-9]* (deployment_created): refused with HTTP 400: no" \
    "$T/coordinator.log")" = 2 ] || fail "400 drops not logged"

say "/metrics: each webhook's deliveries and what waits"
curl -s --max-time 5 "http://127.0.0.1:$P_MET/metrics" >"$T/metrics.txt" || fail "no /metrics"
for want in 'rollclone_webhook_deliveries_total{webhook="refuse",result="dropped"} 1' \
    'rollclone_webhook_deliveries_total{webhook="refuse",result="delivered"} 0' \
    'rollclone_webhook_deliveries_total{webhook="flaky",result="delivered"} 1' \
    'rollclone_webhook_pending{webhook="all"} 0'; do
    grep -qxF "$want" "$T/metrics.txt" || { grep rollclone_webhook "$T/metrics.txt"; fail "no '$want'"; }
done
grep -qE '^rollclone_webhook_deliveries_total\{webhook="flaky",result="failed"\} [1-9]' "$T/metrics.txt" \
    || { grep rollclone_webhook "$T/metrics.txt"; fail "flaky's failed tries are not counted"; }

say "webhook_max_age: a row that could not go in time is dropped, never sent"
rc_coord_stop
# the counters of the run, said at the stop (rc_webhook_stats)
grep -q "webhook flaky: 1 delivered, [0-9]* failed tries, 0 dropped, 0 pending" "$T/coordinator.log" \
    || fail "flaky's counters: $(grep 'webhook flaky: [0-9]* delivered' "$T/coordinator.log")"
grep -q "webhook refuse: 0 delivered, 0 failed tries, 1 dropped, 0 pending" "$T/coordinator.log" \
    || fail "refuse's counters: $(grep 'webhook refuse: [0-9]* delivered' "$T/coordinator.log")"
P_LATE=$(rc_port)
sed -i "s/^offline_after = .*/&\nwebhook_max_age = 2s/" "$T/coordinator.conf"
cat >>"$T/coordinator.conf" <<CONF

[webhook late]
url = http://127.0.0.1:$P_LATE/late
events = freeze_set
secret = l
CONF
rc_coord_start
expect_exit 0 "$RC" freeze --until 1h --reason "webhook test"
wait_for 20 grep -q "webhook late: dropped delivery [0-9]* (event [0-9]* freeze_set): [0-9]*s old, older than webhook_max_age 2s" \
    "$T/coordinator.log" || fail "old row not dropped"
wait_for 10 outbox_empty || fail "dropped row still in the outbox"
# the receiver that comes up now gets nothing of it; /all got freeze_set in time
rc_bg late python3 "$HERE/webhook_receiver.py" "$P_LATE" "$T/late.jsonl" "/late=l" ""
sleep 2
[ ! -s "$T/late.jsonl" ] || fail "a dropped row was sent: $(cat "$T/late.jsonl")"
# an idle worker is woken by the commit: the event is there within a second
python3 - "$T/deliveries.jsonl" <<'PY' || fail "/all did not get freeze_set at once"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
got = [r for r in rows if r["path"] == "/all" and r["event"] == "freeze_set"]
assert len(got) == 1, got
latency = got[0]["received_ms"] - json.loads(got[0]["body"])["ts"]
print("freeze_set reached /all %d ms after its commit" % latency)
assert latency < 1000, latency
PY
say ok
