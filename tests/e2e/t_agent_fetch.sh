# t_agent_fetch.sh - downloads an attacker or a broken server can make hang
# or misdirect: a file:// artifact that is a fifo (or a directory, a
# device) fails at once and the agent still stops on SIGTERM; a server that
# drips one byte every 2 s fails at fetch_timeout; a redirect to file:// is
# refused; max_artifact_bytes bounds a download. Each time: FAILED in phase
# fetch, current unchanged, nothing left in .incoming.
RC_AGENT_SETUP_SOURCED=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t_agent_setup.sh"
agent_config "fetch_timeout = 3s
max_artifact_bytes = 64K"
health_server
make_release v1
expect_exit 0 agent apply --app web --version v1 --artifact "file://$T/art/v1.tgz" --soak 100ms

unchanged () {
    ! grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T/last.out" ||
        fail "sanitizer report from the agent"
    grep -q "FAILED in phase fetch" "$T/last.out" || { cat "$T/last.out"; fail "$1: not FAILED in fetch"; }
    [ "$(current)" = releases/v1 ] || fail "$1: current is $(current)"
    [ ! -e "$T/srv/releases/$2" ] || fail "$1: release dir left behind"
    [ ! -e "$T/srv/.incoming" ] || fail "$1: work files left behind"
}

say "a fifo artifact fails at once; the agent stops on SIGTERM"
mkfifo "$T/art/fifo.tgz"
"$AGENT" --config "$T/agent.conf" apply --app web --version fifo \
    --artifact "file://$T/art/fifo.tgz" --soak 100ms >"$T/last.out" 2>&1 &
pid=$!
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then
    kill -TERM $pid
    sleep 3
    kill -0 $pid 2>/dev/null && { kill -KILL $pid; fail "apply of a fifo hangs and ignores SIGTERM"; }
    fail "apply of a fifo still ran after 5 s"
fi
wait $pid
rc=$?
[ $rc = 1 ] || { cat "$T/last.out"; fail "apply of a fifo exited $rc, expected 1"; }
grep -q "not a regular file (a fifo)" "$T/last.out" || { cat "$T/last.out"; fail "fifo not named"; }
unchanged fifo fifo
for src in "$T/art" /dev/zero; do
    expect_exit 1 agent apply --app web --version notfile --artifact "file://$src" --soak 100ms
    grep -q "not a regular file" "$T/last.out" || { cat "$T/last.out"; fail "$src accepted"; }
    unchanged "$src" notfile
done

say "a server dripping a byte every 2 s fails at fetch_timeout (3s)"
DRIP_PORT=$(rc_port)
cat >"$T/drip.py" <<'PY'
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
            return
        if self.path.startswith("/big"):
            body = b"x" * (200 * 1024)
            self.send_response(200)
            self.end_headers()  # no length: the agent counts what arrives
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        for _ in range(30):  # bounded: 60 s at most
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(2)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
rc_bg drip python3 "$T/drip.py" "$DRIP_PORT"
wait_for 30 python3 -c "import socket; socket.create_connection(('127.0.0.1', $DRIP_PORT))" ||
    fail "drip server did not start"
SHA=0000000000000000000000000000000000000000000000000000000000000000
start=$(date +%s)
expect_exit 1 agent apply --app web --version drip --artifact "http://127.0.0.1:$DRIP_PORT/a.tgz" \
    --sha256 $SHA --soak 100ms
took=$(( $(date +%s) - start ))
cat "$T/last.out"
grep -q "fetch_timeout = 3" "$T/last.out" || fail "drip: fetch_timeout not named"
[ $took -lt 15 ] || fail "drip: took ${took}s with fetch_timeout = 3s"
unchanged drip drip

say "a redirect to file:// is refused"
expect_exit 1 agent apply --app web --version redir \
    --artifact "http://127.0.0.1:$DRIP_PORT/redirect" --sha256 "$(sha /etc/passwd)" --soak 100ms
cat "$T/last.out"
grep -q "redirect to another scheme is refused" "$T/last.out" ||
    fail "redirect to file:// not refused by scheme"
unchanged redirect redir
[ ! -e "$T/srv/releases/redir" ] || fail "redirect placed /etc/passwd"

say "max_artifact_bytes (64K) bounds a download of unknown length"
expect_exit 1 agent apply --app web --version big --artifact "http://127.0.0.1:$DRIP_PORT/big" \
    --sha256 $SHA --soak 100ms
grep -q "larger than max_artifact_bytes = 65536" "$T/last.out" || { cat "$T/last.out"; fail "size limit not named"; }
unchanged big big
say "ok"
