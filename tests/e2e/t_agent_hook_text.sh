# A hook printing 5000 bytes of invalid UTF-8, terminal escape sequences and
# carriage returns fails its step: the output tail that reaches the
# coordinator is valid UTF-8 without control characters, `rollclone status
# --json` and `hosts --json` still parse and still show the host, and the
# local `apply` prints no escape sequence to the operator's terminal.
. "$(dirname "$0")/lib.sh"
rc_fleet 1
rc_webapp 1
cat >"$T/noisy.py" <<'PY'
import os, sys
out = bytearray()
while len(out) < 5000:
    out += b"\xff\xfe\xc0\xaf\xed\xa0\x80 \x1b[31mred\x1b[0m \x1b]0;pwned\x07 \r\x08\x9b2J\xc2\x9b "
out += b"THE END\n"
os.write(1, bytes(out))
sys.exit(3)
PY
sed -i "s|^install = .*|install = python3 $T/noisy.py|" "$T/agent-1.conf"
rc_coord_start
rc_agent_start 1
wait_for 30 host_is host-1 online || fail "agent never came online"
make_release v1
dep=$(deploy v1)
wait_ended 30 "$dep" || fail "deployment did not end"

# clean: parses (strict: no raw control characters), no control character
# in any string, the hook's last words kept, invalid bytes shown as U+FFFD
check_json () {
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
def walk(v):
    if isinstance(v, str):
        bad = [c for c in v if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f]
        assert not bad, "control characters %r in %r" % (bad[:5], v[:80])
        yield v
    elif isinstance(v, dict):
        for x in v.values(): yield from walk(x)
    elif isinstance(v, list):
        for x in v: yield from walk(x)
strings = list(walk(doc))
if sys.argv[1:]:
    assert any(sys.argv[1] in s for s in strings), "%r not found" % sys.argv[1]
    assert any("\ufffd" in s for s in strings), "no replacement character"
' "$@"
}
"$RC" status "$dep" --json >"$T/status.json" || fail "status --json failed"
check_json "THE END" <"$T/status.json" || { head -c 600 "$T/status.json"; fail "status --json not clean"; }
[ "$(dep_host_field "$dep" host-1 exit_code)" = 3 ] || fail "exit code not reported"
"$RC" hosts --json >"$T/hosts.json" || fail "hosts --json failed"
check_json <"$T/hosts.json" || fail "hosts --json not clean"
[ "$(host_count)" = 1 ] && host_is host-1 online || fail "host missing from hosts --json"
"$RC" events --json >"$T/events.json" || fail "events --json failed"
check_json <"$T/events.json" || fail "events --json not clean"
say "coordinator's JSON clean, host present"

rc_webapp_cleanup
kill -TERM "$(rc_pid agent-1)"
wait_for 10 sh -c "! kill -0 $(rc_pid agent-1) 2>/dev/null" || fail "agent did not stop"
expect_exit 1 "$RC_BUILD/rollclone-agent" --config "$T/agent-1.conf" apply --app web --version v1 \
    --artifact "file://$T/art/v1.tgz" --sha256 "$(cat "$T/art/v1.sha")"
grep -q "THE END" "$T/last.out" || { cat "$T/last.out"; fail "tail not printed"; }
if grep -q "$(printf '\033')" "$T/last.out" || grep -q "$(printf '\r')" "$T/last.out"; then
    fail "apply printed terminal control characters"
fi
python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/last.out" || fail "apply output not UTF-8"
say ok
