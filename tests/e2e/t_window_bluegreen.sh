# The manual gate (--pause manual) opens only once it is reached, on
# blue-green staged in a window as in fixed batches: a `resume` sent while
# the window's hosts are still staging is refused (exit 2, one line saying
# what is left) and does not open the switch's gate; a pause and resume
# while staging lifts the pause only; once every host is staged the
# deployment waits at the gate (no switch_started event, v1 still serving
# through HAProxy) until a resume sent there, and then switches once. A
# rolling deployment in batches keeps its gate the same way. Real agents
# with two slots behind a real HAProxy (lb_lib.sh's slot fleet).
. "$(dirname "$0")/lib.sh"
command -v haproxy >/dev/null || { echo "haproxy is not installed"; exit 77; }
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/window_lib.sh"
SOCK="$T/haproxy.sock"; LB=$(rc_port)
N=4
# the canary's staged slot waits through two gates and the window: kept
# warm longer than that on the slowest machine (60 s was seen to pass)
KEEP_WARM=10m
. "$HERE/lb_lib.sh"
slot_fleet $N
rc_coord_start
for i in $(seq 1 $N); do rc_agent_start $i; done
wait_online 10 $N || fail "hosts not online"
for v in v1 v2 v3; do make_release $v; done
expect_exit 0 deploy v1 --batch 100% --soak 200ms --wait
for i in $(seq 1 $N); do wait_for 10 serves $i 1 || fail "host-$i: slot 1 not serving v1"; done

events_count () { sql "select count(*) from events where deployment_id = '$1' and kind = '$2'"; }
waits_at_gate () { [ "$(dep_field "$1" waiting_for_resume 2>/dev/null)" = True ] && dep_state_is "$1" paused; }

say "blue-green in a window of 2 with a manual gate: the canary stages, then the gate"
# hosts 2 and 3 (the window's first two) hold their install: still staging
touch "$T/agent-2/hold-install-v2" "$T/agent-3/hold-install-v2"
dep=$(deploy v2 --strategy blue-green --batch 1 --window 2 --pause manual --soak 200ms) || fail "deploy v2"
wait_for 30 waits_at_gate "$dep" || fail "no gate after the canary: $("$RC" status "$dep")"
dh_is "$dep" host-1 staged || fail "host-1 is $(dep_host_field "$dep" host-1 state)"
expect_exit 0 "$RC" resume "$dep"
wait_for 20 dh_is "$dep" host-3 updating || fail "the window did not start staging host-3"
dh_is "$dep" host-2 updating || fail "host-2 is $(dep_host_field "$dep" host-2 state)"
[ "$(dep_field "$dep" waiting_for_resume)" = False ] || fail "status --json says it waits for a resume while it stages"

say "a resume while the window stages is refused and opens nothing"
expect_exit 2 "$RC" resume "$dep"
cat "$T/last.out"
[ "$(wc -l <"$T/last.out")" = 1 ] || fail "not one line: $(cat "$T/last.out")"
grep -q "has not reached its manual gate yet: 3 host(s) of its window still to stage" "$T/last.out" \
    || fail "unclear: $(cat "$T/last.out")"
say "a pause and a resume while it stages lift the pause, not the gate"
expect_exit 0 "$RC" pause "$dep"
expect_exit 0 "$RC" resume "$dep"
"$RC" events "$dep" >"$T/events.out"
grep -q "paused .*by the operator: no new host of the window starts" "$T/events.out" || fail "paused event: $(cat "$T/events.out")"
grep -q "resumed .*the manual gate holds until it is reached" "$T/events.out" || fail "resumed event: $(cat "$T/events.out")"
rm "$T/agent-2/hold-install-v2" "$T/agent-3/hold-install-v2"
wait_for 40 waits_at_gate "$dep" || fail "not at the switch's gate: $("$RC" status "$dep")"
sleep 1
for i in $(seq 1 $N); do dh_is "$dep" host-$i staged || fail "host-$i is $(dep_host_field "$dep" host-$i state)"; done
[ "$(events_count "$dep" switch_started)" = 0 ] || fail "the switch started before the resume at its gate"
for i in $(seq 1 $N); do serves $i 1 || fail "host-$i switched before the resume at the gate"; done
"$RC" status "$dep" | grep -q "waiting for \`rollclone resume\`" || fail "status: $("$RC" status "$dep")"
out=$(window_check "$dep" host_staging host_staged,host_failed) || fail "$out"
case $out in "max=2 starts=host-1,host-2,host-3,host-4") ;; *) fail "window: $out" ;; esac

say "the resume at the gate switches, once"
expect_exit 0 "$RC" resume "$dep"
wait_ended 40 "$dep" || fail "v2 did not end"
dep_state_is "$dep" succeeded || { "$RC" status "$dep"; fail "v2: $(dep_field "$dep" state)"; }
[ "$(events_count "$dep" switch_started)" = 1 ] || fail "switch_started $(events_count "$dep" switch_started) times"
for i in $(seq 1 $N); do
    wait_for 10 serves $i 2 || fail "host-$i: slot 2 not serving after the switch"
    [ "$(version_on $i 2)" = v2 ] || fail "host-$i: slot 2 is not v2"
done

say "rolling in fixed batches: a resume while a batch runs is refused as well"
touch "$T/agent-1/hold-install-v3"
dep=$(deploy v3 --batch 2 --pause manual --soak 200ms) || fail "deploy v3"
wait_for 20 dh_is "$dep" host-1 updating || fail "host-1 did not start"
expect_exit 2 "$RC" resume "$dep"
grep -q "has not reached its manual gate yet: [12] host(s) of batch 1 still to finish" "$T/last.out" \
    || fail "unclear: $(cat "$T/last.out")"
rm "$T/agent-1/hold-install-v3"
wait_for 30 waits_at_gate "$dep" || fail "no gate after batch 1: $("$RC" status "$dep")"
sleep 1
dh_is "$dep" host-3 pending || fail "batch 2 started without a resume at the gate"
expect_exit 0 "$RC" resume "$dep"
wait_ended 40 "$dep" || fail "v3 did not end"
dep_state_is "$dep" succeeded || fail "v3: $(dep_field "$dep" state)"
say ok
