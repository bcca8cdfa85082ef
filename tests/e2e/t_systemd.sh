# t_systemd.sh - the daemons as systemd sees them, with systemd's sides
# played by a datagram listener (systemd is not PID 1 on test machines):
# --check exits 0/2 and starts nothing; READY=1 comes once the
# coordinator's three ports accept connections (probed when READY arrives)
# and once the agent runs; WATCHDOG=1 repeats with WATCHDOG_USEC set and
# never without; STOPPING=1 on SIGTERM. With JOURNAL_STREAM naming stderr,
# log lines reach journald's socket natively (in a private mount namespace
# over /run/systemd): priority, identifier, no second timestamp, and a
# 2 KB line whole.
. "$(dirname "$0")/lib.sh"
LISTEN="$(cd "$(dirname "$0")" && pwd)/dgram_listen.py"
rc_fleet 1
COORD=$RC_BUILD/rollclone-coordinator
AGENT=$RC_BUILD/rollclone-agent
# records FILE KEY VALUE: how many datagrams in FILE have KEY=VALUE (the
# listener writes them as JSON lines: '"KEY": "VALUE"')
records () { grep -c "\"$2\": \"$3\"" "$1" 2>/dev/null || true; }
has_record () { [ "$(records "$@")" -ge 1 ]; }

say "--check: 0 on a good config, 2 with the reason, nothing created"
expect_exit 0 "$COORD" --check --config "$T/coordinator.conf"
grep -qx "rollclone-coordinator: $T/coordinator.conf: ok" "$T/last.out" || fail "$(cat "$T/last.out")"
[ ! -e "$T/coord-data" ] || fail "--check created data_dir"
expect_exit 0 "$AGENT" --check --config "$T/agent-1.conf"
grep -qx "rollclone-agent: $T/agent-1.conf: ok" "$T/last.out" || fail "$(cat "$T/last.out")"
[ ! -e "$T/agent-1/state" ] || fail "--check created state_dir"
sed 's|^agent_keys_dir = .*|agent_keys_dir = nowhere|' "$T/coordinator.conf" >"$T/bad.conf"
expect_exit 2 "$COORD" --check --config "$T/bad.conf"
grep -q "^rollclone-coordinator: $T/bad.conf: agent_keys_dir $T/nowhere: No such file" "$T/last.out" ||
    fail "$(cat "$T/last.out")"
printf '%s\n[app web]\nreleases_dir = /srv/web\nuser = no-such-user-rc\n' \
    "$(cat "$T/agent-1.conf")" >"$T/bad-agent.conf"
expect_exit 2 "$AGENT" --check --config "$T/bad-agent.conf"
grep -q "\[app web\] user = 'no-such-user-rc': no such user" "$T/last.out" || fail "$(cat "$T/last.out")"
sed 's|^secret_key = .*|secret_key = nothere|' "$T/agent-1.conf" >"$T/bad-agent.conf"
expect_exit 2 "$AGENT" --check --config "$T/bad-agent.conf"
expect_exit 2 "$AGENT" --check --config "$T/agent-1.conf" releases --app web

say "hooks do not inherit NOTIFY_SOCKET and WATCHDOG_*: only the agent speaks to systemd"
mkdir -p "$T/art/v1" && echo v1 >"$T/art/v1/index.html" && tar -czf "$T/art/v1.tgz" -C "$T/art/v1" .
printf '%s\n[app web]\nreleases_dir = %s\nhealth_command = true\nrestart = env > %s\n' \
    "$(cat "$T/agent-1.conf")" "$T/web" "$T/hook.env" >"$T/hooks.conf"
NOTIFY_SOCKET=$T/nobody.sock WATCHDOG_USEC=1000000 WATCHDOG_PID=$$ RC_MARK=1 \
    expect_exit 0 "$AGENT" --config "$T/hooks.conf" apply --app web --version v1 \
    --artifact "file://$T/art/v1.tgz" --soak 100ms
grep -q '^RC_MARK=1$' "$T/hook.env" || fail "hook environment not recorded"
if grep -E '^(NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID)=' "$T/hook.env"; then
    fail "a hook inherited systemd's variables for the agent"
fi

say "coordinator: READY=1 once its ports accept, WATCHDOG=1 every half WATCHDOG_USEC"
rc_bg notify python3 "$LISTEN" "$T/notify.sock" "$T/notify.rec" "$P_AGENT" "$P_PUB" "$P_CTL"
wait_for 10 test -S "$T/notify.sock" || fail "listener did not start"
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 rc_bg coordinator "$COORD" --config "$T/coordinator.conf"
wait_for 10 has_record "$T/notify.rec" READY 1 || { cat "$T/coordinator.log"; fail "no READY=1"; }
grep '"READY": "1"' "$T/notify.rec" | grep -q '"probe": "ok"' ||
    fail "READY=1 came before the ports accepted: $(cat "$T/notify.rec")"
"$RC" --timeout 2s info >/dev/null || fail "coordinator not answering after READY"
wait_for 5 sh -c "[ \$(grep -c '\"WATCHDOG\": \"1\"' '$T/notify.rec') -ge 4 ]" ||
    fail "fewer than 4 WATCHDOG=1 in 5 s with WATCHDOG_USEC=400ms: $(cat "$T/notify.rec")"

say "agent: READY=1 once running; no WATCHDOG=1 without WATCHDOG_USEC"
rc_bg notify-agent python3 "$LISTEN" "$T/agent.sock" "$T/agent.rec"
wait_for 10 test -S "$T/agent.sock" || fail "listener did not start"
NOTIFY_SOCKET=$T/agent.sock rc_bg agent-1 "$AGENT" --config "$T/agent-1.conf"
wait_for 10 has_record "$T/agent.rec" READY 1 || { cat "$T/agent-1.log"; fail "agent: no READY=1"; }
wait_for 10 host_is host-1 online || fail "agent not online"
sleep 1
[ "$(records "$T/agent.rec" WATCHDOG 1)" = 0 ] || fail "WATCHDOG=1 without WATCHDOG_USEC"
kill -TERM "$(rc_pid agent-1)"
wait_for 10 has_record "$T/agent.rec" STOPPING 1 || fail "agent: no STOPPING=1"
rc_coord_stop
has_record "$T/notify.rec" STOPPING 1 || fail "no STOPPING=1"

say "journald: native lines with priority and identifier when JOURNAL_STREAM is stderr"
if ! unshare -m true 2>/dev/null; then
    say "no mount namespace here: journald part skipped"
    exit 0
fi
# a bind failure for an endpoint with a 2000-character host: an error line
# of over 2 KB (journald used to get it cut at 1024 bytes)
long=$(printf 'h%.0s' $(seq 1 2000))
sed "s|^agent_endpoint = .*|agent_endpoint = tcp://$long:$P_AGENT|" "$T/coordinator.conf" >"$T/long.conf"
unshare -m sh -c '
    T=$1; LISTEN=$2; COORD=$3
    mount -t tmpfs tmpfs /run/systemd || exit 1
    mkdir /run/systemd/journal
    python3 "$LISTEN" /run/systemd/journal/socket "$T/journal.rec" &
    listener=$!
    for _ in $(seq 1 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
    : >"$T/stderr.out"
    stream=$(stat -c "%d:%i" "$T/stderr.out")
    JOURNAL_STREAM=$stream "$COORD" --config "$T/long.conf" 2>>"$T/stderr.out"
    echo "exit $?" >"$T/long.exit"
    JOURNAL_STREAM=$stream "$COORD" --config "$T/coordinator.conf" 2>>"$T/stderr.out" &
    coord=$!
    for _ in $(seq 1 100); do grep -q "coordinator stopped" "$T/journal.rec" 2>/dev/null && break
        grep -q "PRIORITY\": \"6" "$T/journal.rec" 2>/dev/null && kill -TERM $coord; sleep 0.1; done
    wait $coord
    sleep 0.3
    kill $listener' sh "$T" "$LISTEN" "$COORD"
cat "$T/long.exit"
python3 - "$T/journal.rec" "$long" <<'EOF' || fail "journal records: $(cat "$T/journal.rec" | cut -c1-300)"
import json, sys
recs = [json.loads(l)["fields"] for l in open(sys.argv[1])]
err = [r for r in recs if r.get("PRIORITY") == "3" and sys.argv[2] in r.get("MESSAGE", "")]
assert err, "no whole 2 KB error line at priority 3"
assert all(r.get("SYSLOG_IDENTIFIER") == "rollclone-coordinator" for r in recs)
assert err[0]["MESSAGE"].startswith("cannot bind tcp://"), err[0]["MESSAGE"][:80]
assert len(err[0]["MESSAGE"]) > 2000
info = [r for r in recs if r.get("PRIORITY") == "6"]
assert any(r["MESSAGE"].startswith("coordinator 0") for r in info), "no start line at priority 6"
assert any(r["MESSAGE"] == "coordinator stopped" for r in info), "no stop line"
EOF
if grep -q "rollclone-coordinator" "$T/stderr.out"; then fail "logged to stderr too: $(cut -c1-200 "$T/stderr.out")"; fi
say "ok"
