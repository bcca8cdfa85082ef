# Idle health hysteresis (health_rise 2, health_fall 3 by default): a
# health endpoint that alternates between failing and passing never flips
# the host's health (it used to flip at every check, flooding the events);
# three failures in a row make it unhealthy, two passes healthy again, one
# event each.
. "$(dirname "$0")/lib.sh"
rc_fleet 1
port=$(rc_port)
echo ok >"$T/mode"
cat >"$T/health.py" <<'PY'
import http.server, sys
mode_file, count = sys.argv[2], [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        mode = open(mode_file).read().strip()
        count[0] += 1
        ok = mode == "ok" or (mode == "flap" and count[0] % 2 == 0)
        self.send_response(200 if ok else 500)
        self.end_headers()
        self.wfile.write(b"ok" if ok else b"no")
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
rc_bg health python3 "$T/health.py" "$port" "$T/mode"
cat >>"$T/agent-1.conf" <<CONF

[app web]
releases_dir = $T/agent-1/web
health_url = http://127.0.0.1:$port/health
health_interval = 400ms
artifact_sources = file://$T/art/
CONF
rc_coord_start
rc_agent_start 1
wait_for 30 host_is host-1 online || fail "agent never came online"
make_release v1
dep=$(deploy v1 --soak 200ms)
wait_ended 30 "$dep" || fail "deployment did not end"
[ "$(dep_field "$dep" state)" = succeeded ] || fail "deployment $(dep_field "$dep" state)"
healthy () { [ "$(host_field host-1 healthy)" = true ]; }
unhealthy () { [ "$(host_field host-1 healthy)" = false ]; }
unhealthy_events () { sql "select count(*) from events where host_id='host-1' and kind='unhealthy'"; }
healthy || fail "not healthy after the update"

say "endpoint alternates fail/pass for 4 s (about 10 checks)"
echo flap >"$T/mode"
end=$(( $(date +%s) + 4 ))
while [ "$(date +%s)" -lt "$end" ]; do
    healthy || fail "host flipped to unhealthy on alternating results"
    sleep 0.2
done
[ "$(unhealthy_events)" = 0 ] || fail "$(unhealthy_events) unhealthy events from alternating results"
grep -q "app web: unhealthy" "$T/agent-1.log" && fail "agent logged unhealthy"

say "three failures in a row: unhealthy, once"
echo fail >"$T/mode"
wait_for 20 unhealthy || fail "host never became unhealthy"
sleep 1
[ "$(unhealthy_events)" = 1 ] || fail "$(unhealthy_events) unhealthy events, expected 1"

say "passing again: healthy after health_rise passes"
echo ok >"$T/mode"
wait_for 20 healthy || fail "host never became healthy again"
say ok
