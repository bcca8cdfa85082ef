# What the CLI prints against a real fleet: `deploy --json`, `pause --json`,
# `resume --json` print the deployment as JSON; `status ID --watch` follows
# it and exits like `deploy --wait` (0 succeeded, 1 failed or rolled back);
# text from an agent's hook output reaches `status` escaped (a tab shows as
# \t, no raw control character); colours only on a terminal and never with
# NO_COLOR or TERM=dumb; lines cut to COLUMNS.
. "$(dirname "$0")/lib.sh"
rc_fleet 2
rc_webapp 1
rc_webapp 2
# host-2's install prints colours, a tab and a carriage return, then fails
cat >"$T/noisy.sh" <<'SH'
printf 'noisy \033[31mred\033[0m\tTABBED\rEND\n'
exit 3
SH
sed -i "s|^install = .*|install = sh $T/noisy.sh|" "$T/agent-2.conf"
rc_coord_start
rc_agent_start 1
rc_agent_start 2
wait_online 30 2 || fail "hosts not online"
make_release v1; make_release v2; make_release v3 broken

json_field () { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d[sys.argv[2]])" "$@"; }

# deploy --json: the created deployment, nothing else on stdout
deploy v1 --select n=1 --batch 100% --soak 100ms --json >"$T/deploy.json" || fail "deploy --json failed"
dep=$(json_field "$T/deploy.json" id) || { cat "$T/deploy.json"; fail "deploy --json does not parse"; }
[ "$(json_field "$T/deploy.json" app)" = web ] || fail "deploy --json: app"
[ "$(json_field "$T/deploy.json" version)" = v1 ] || fail "deploy --json: version"
# status --watch follows it to the end: 0 when it succeeded
expect_exit 0 "$RC" status "$dep" --watch
grep -q "deployment $dep succeeded" "$T/last.out" || { cat "$T/last.out"; fail "watch did not tell the end"; }
grep -q "host_succeeded" "$T/last.out" || { cat "$T/last.out"; fail "watch printed no events"; }
say "deploy --json parses; status --watch exits 0 on success"

# pause --json / resume --json: the deployment after the operation
dep=$(deploy v2 --select n=1 --soak 3s) || fail "deploy v2"
expect_exit 0 "$RC" pause "$dep" --json
cp "$T/last.out" "$T/pause.json"
[ "$(json_field "$T/pause.json" id)" = "$dep" ] || { cat "$T/pause.json"; fail "pause --json does not parse"; }
[ "$(json_field "$T/pause.json" state)" = paused ] || fail "pause --json: state $(json_field "$T/pause.json" state)"
expect_exit 0 "$RC" resume "$dep" --json
case $(json_field "$T/last.out" state) in
running | succeeded) ;;
*) cat "$T/last.out"; fail "resume --json: not running" ;;
esac
"$RC" status "$dep" --watch --json >"$T/watch.json"
[ $? = 0 ] || fail "status --watch --json: not 0 on success"
[ "$(json_field "$T/watch.json" state)" = succeeded ] || fail "status --watch --json: last state"
say "pause --json and resume --json parse"

# a failed deployment: status --watch exits 1, as deploy --wait does
dep=$(deploy v3 --select n=1 --soak 100ms --health-timeout 2s) || fail "deploy v3"
expect_exit 1 "$RC" status "$dep" --watch
grep -q "deployment $dep rolled_back" "$T/last.out" || { cat "$T/last.out"; fail "watch: not rolled back"; }
expect_exit 1 "$RC" status "$dep" --watch
"$RC" status d-20000101-000000-0000 --watch >"$T/none.out" 2>&1
rc=$?
[ "$rc" = 1 ] || [ "$rc" = 2 ] || fail "status --watch of no deployment exited $rc"
[ "$(wc -l <"$T/none.out")" = 1 ] || { cat "$T/none.out"; fail "status --watch of no deployment: not one line"; }
say "status --watch exits 1 on a failed deployment"

# host-2's hook output in status: escaped, never raw
dep=$(deploy v2 --select n=2 --soak 100ms) || fail "deploy to host-2"
wait_ended 30 "$dep" || fail "host-2's deployment did not end"
expect_exit 0 "$RC" status "$dep"
cp "$T/last.out" "$T/status.txt"
grep -q 'TABBED' "$T/status.txt" || { cat "$T/status.txt"; fail "hook output not shown"; }
grep -qF 'red\tTABBED' "$T/status.txt" || { cat "$T/status.txt"; fail "tab not shown as \\t"; }
if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$T/status.txt" \
    || grep -q "$(printf '\t')" "$T/status.txt"; then
    cat -v "$T/status.txt"
    fail "status printed a control character"
fi
say "hook output escaped in status"

# colours: on a terminal only, not with NO_COLOR, not with TERM=dumb
pty_run () {
    python3 -c '
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    out += data
os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
' "$@"
}
esc=$(printf '\033')
TERM=xterm pty_run "$RC" status "$dep" >"$T/tty.out"
grep -q "${esc}\[3[0-9]m" "$T/tty.out" || { cat -v "$T/tty.out"; fail "no colour on a terminal"; }
TERM=xterm NO_COLOR=1 pty_run "$RC" status "$dep" >"$T/tty.out"
grep -q "host-2" "$T/tty.out" || fail "NO_COLOR: no output"
! grep -q "$esc" "$T/tty.out" || { cat -v "$T/tty.out"; fail "colour with NO_COLOR"; }
TERM=dumb pty_run "$RC" status "$dep" >"$T/tty.out"
! grep -q "$esc" "$T/tty.out" || { cat -v "$T/tty.out"; fail "colour with TERM=dumb"; }
TERM=xterm "$RC" status "$dep" >"$T/pipe.out"
! grep -q "$esc" "$T/pipe.out" || fail "colour into a pipe"
say "NO_COLOR and TERM=dumb respected"

# width: every line fits COLUMNS
for c in 50 80; do
    COLUMNS=$c "$RC" status "$dep" >"$T/narrow.out"
    COLUMNS=$c "$RC" status >>"$T/narrow.out"
    COLUMNS=$c "$RC" hosts >>"$T/narrow.out"
    long=$(python3 -c 'import sys; print(max(len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")))' "$T/narrow.out")
    [ "$long" -le "$c" ] || { cat "$T/narrow.out"; fail "a line of $long columns with COLUMNS=$c"; }
done
grep -q '\.\.\.$' "$T/narrow.out" || fail "nothing was cut at COLUMNS=80"
say ok
