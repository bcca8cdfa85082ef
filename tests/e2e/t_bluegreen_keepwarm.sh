# Blue-green held at its manual gate longer than keep_warm (issue 13's
# follow-up): the agents stop the staged slots at keep_warm while the
# deployment waits, and nothing is lost by waiting. Three hosts with two
# slots behind a real HAProxy; hosts 1 and 2 keep a staged slot warm for
# 20 s, host-3 for 10 min. Staged all at once with --pause manual: status
# says until when the staged slots stay warm, then that two of them are no
# longer warm; the resume stages those two again (and only those), the
# coordinator killed -9 in the middle of that restage goes on from its
# rows, and the switch then ends `succeeded` with every host serving v2
# through HAProxy: no switch failed, nothing rolled back. Then, with no
# gate at all, staging one host at a time with a slow last host: the first
# two go cold meanwhile (keep_warm 6 s) and are staged again before the
# switch, the last one is not.
. "$(dirname "$0")/lib.sh"
command -v haproxy >/dev/null || { echo "haproxy is not installed"; exit 77; }
HERE="$(cd "$(dirname "$0")" && pwd)"
SOCK="$T/haproxy.sock"; LB=$(rc_port)
N=3
# long enough that a restaged slot outlives the rest of its round (the
# switch needs it warm for 5 s more) on a loaded machine, short enough to
# wait for
KEEP_WARM=20s
. "$HERE/lb_lib.sh"
slot_fleet $N
sed -i 's/^keep_warm = .*/keep_warm = 10m/' "$T/agent-3.conf"
rc_coord_start
for i in $(seq 1 $N); do rc_agent_start $i; done
wait_online 10 $N || fail "hosts not online"
make_release v1; make_release v2
expect_exit 0 deploy v1 --batch 100% --soak 200ms --wait
for i in $(seq 1 $N); do wait_for 10 serves $i 1 || fail "host-$i: slot 1 not serving v1"; done

events_count () { sql "select count(*) from events where deployment_id = '$1' and kind = '$2'${3:+ and host_id = '$3'}"; }
waits_at_gate () { [ "$(dep_field "$1" waiting_for_resume 2>/dev/null)" = True ] && dep_state_is "$1" paused; }

say "v2 staged on every host, held at the manual gate: status says until when it stays warm"
dep=$(deploy v2 --strategy blue-green --batch 100% --soak 300ms --pause manual) || fail "deploy v2"
wait_for 60 waits_at_gate "$dep" || fail "v2 did not wait at its gate: $("$RC" status "$dep")"
"$RC" status "$dep" >"$T/st.out"
cat "$T/st.out"
grep -q "^  staged slots warm until 20[0-9-]*T[0-9:]*Z (keep_warm; a switch after that stages the hosts no longer warm again first)" "$T/st.out" ||
    fail "status does not say until when the staged slots stay warm"
[ "$(dep_field "$dep" staged)" = 3 ] || fail "status --json: staged $(dep_field "$dep" staged)"
[ "$(dep_field "$dep" staged_cold)" = 0 ] || fail "status --json: staged_cold $(dep_field "$dep" staged_cold)"
[ -n "$(dep_field "$dep" staged_warm_until)" ] || fail "status --json: no staged_warm_until"

say "keep_warm passes at the gate: hosts 1 and 2 stop their staged slot, status says so"
wait_for 60 sh -c "grep -q '^stop v2 ' '$T/agent-1/hooks.log' && grep -q '^stop v2 ' '$T/agent-2/hooks.log'" ||
    fail "the agents did not stop the staged slots at keep_warm"
wait_for 20 sh -c "[ \"\$(\"$RC\" status $dep --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"staged_cold\"])')\" = 2 ]" ||
    { "$RC" status "$dep"; fail "status --json does not count the two cold slots"; }
"$RC" status "$dep" >"$T/st.out"
cat "$T/st.out"
grep -q "^  staged slots: 2 of 3 no longer warm (staged again before the switch), the others warm until 20[0-9-]*T[0-9:]*Z" "$T/st.out" ||
    fail "status does not say that two staged slots are no longer warm"
grep -q '^stop v2 ' "$T/agent-3/hooks.log" && fail "host-3 stopped its slot within its keep_warm"
[ "$(events_count "$dep" switch_started)" = 0 ] || fail "switched before the resume"

say "resume: hosts 1 and 2 stage again (host-1's held), kill -9 of the coordinator then"
touch "$T/agent-1/hold-install-v2"
expect_exit 0 "$RC" resume "$dep"
wait_for 20 sh -c "grep -c '^install v2 ' '$T/agent-1/hooks.log' | grep -qx 2" || fail "host-1 was not staged again"
[ "$(dep_field "$dep" phase)" = restaging ] || fail "phase $(dep_field "$dep" phase)"
"$RC" status "$dep" | grep -q "running, blue-green: staging again before the switch ([0-9] of 3 staged)" ||
    { "$RC" status "$dep"; fail "status does not say it stages again"; }
"$RC" events "$dep" >"$T/events.out"
grep -q "host_restaging .*v2 again on the idle slot, no traffic: its staged slot is no longer warm" "$T/events.out" ||
    { cat "$T/events.out"; fail "no host_restaging event"; }
grep -q "restage_started .*2 host(s) no longer warm, staged again before the switch: host-1 host-2" "$T/events.out" ||
    { cat "$T/events.out"; fail "no restage_started event"; }
rc_coord_kill9
rc_coord_start
rm -f "$T/agent-1/hold-install-v2"
wait_ended 90 "$dep" || { "$RC" status "$dep"; fail "v2 did not end"; }
"$RC" events "$dep" >"$T/events.out"
dep_state_is "$dep" succeeded || { "$RC" status "$dep"; cat "$T/events.out"; fail "v2: $(dep_field "$dep" state)"; }

say "every host switched to v2 and serves it; the cold ones were staged twice, once more each"
for i in 1 2; do
    [ "$(events_count "$dep" host_restaging host-$i)" = 1 ] || fail "host-$i staged again $(events_count "$dep" host_restaging host-$i) times"
    [ "$(grep -c "^restart v2 .* slot=2 " "$T/agent-$i/hooks.log")" = 2 ] || fail "host-$i: v2 not started twice on slot 2"
done
[ "$(events_count "$dep" host_restaging host-3)" = 0 ] || fail "host-3 (still warm) was staged again"
[ "$(grep -c "^restart v2 " "$T/agent-3/hooks.log")" = 1 ] || fail "host-3: v2 started more than once"
[ "$(events_count "$dep" restage_started)" = 1 ] || fail "restage_started $(events_count "$dep" restage_started) times"
[ "$(events_count "$dep" switch_started)" = 1 ] || fail "switch_started $(events_count "$dep" switch_started) times"
[ "$(events_count "$dep" host_switched)" = 3 ] || fail "host_switched $(events_count "$dep" host_switched) times"
[ "$(sql "select count(*) from events where deployment_id = '$dep' and (kind like '%back%' or kind = 'host_failed')")" = 0 ] ||
    { cat "$T/events.out"; fail "something failed or went back"; }
[ "$(dep_field "$dep" phase)" = switched ] || fail "phase $(dep_field "$dep" phase)"
for i in $(seq 1 $N); do
    [ "$(dep_host_field "$dep" host-$i state)" = succeeded ] || fail "host-$i: $(dep_host_field "$dep" host-$i state)"
    wait_for 10 serves $i 2 || fail "host-$i: slot 2 does not serve after the switch"
    [ "$(version_on $i 2)" = v2 ] || fail "host-$i: slot 2 answers $(version_on $i 2)"
done
# through the load balancer, every answer is v2 now
for _ in 1 2 3 4 5 6; do
    v=$(curl -s --max-time 2 "http://127.0.0.1:$LB/index.html" | sed 's/.*version \([^<]*\)<.*/\1/')
    [ "$v" = v2 ] || fail "HAProxy answered '$v'"
done

say "no gate, a slow last host: the first ones go cold while it stages (keep_warm 6 s on hosts 1 and 2)"
for i in 1 2; do
    before=$(grep -c "registered with the coordinator" "$T/agent-$i.log")
    kill -TERM "$(rc_pid agent-$i)"
    wait_for 10 sh -c "! kill -0 $(rc_pid agent-$i) 2>/dev/null" || fail "agent-$i did not stop"
    sed -i 's/^keep_warm = .*/keep_warm = 6s/' "$T/agent-$i.conf"
    rc_agent_start $i
    wait_for 15 sh -c "[ \"\$(grep -c 'registered with the coordinator' '$T/agent-$i.log')\" -gt $before ]" ||
        fail "agent-$i did not register again"
done
wait_online 10 $N || fail "hosts not online"
make_release v3
echo 10 >"$T/agent-3/slow-install-v3"
dep=$(deploy v3 --strategy blue-green --batch 1 --soak 300ms) || fail "deploy v3"
wait_ended 120 "$dep" || { "$RC" status "$dep"; fail "v3 did not end"; }
"$RC" events "$dep" >"$T/events.out"
dep_state_is "$dep" succeeded || { "$RC" status "$dep"; cat "$T/events.out"; fail "v3: $(dep_field "$dep" state)"; }
for i in 1 2; do
    grep -q '^stop v3 ' "$T/agent-$i/hooks.log" || fail "host-$i did not stop its staged slot at keep_warm"
    [ "$(events_count "$dep" host_restaging host-$i)" = 1 ] || { cat "$T/events.out"; fail "host-$i staged again $(events_count "$dep" host_restaging host-$i) times"; }
done
[ "$(events_count "$dep" host_restaging host-3)" = 0 ] || fail "host-3 (staged last) was staged again"
[ "$(events_count "$dep" switch_started)" = 1 ] || fail "switch_started $(events_count "$dep" switch_started) times"
[ "$(sql "select count(*) from events where deployment_id = '$dep' and (kind like '%back%' or kind = 'host_failed')")" = 0 ] ||
    { cat "$T/events.out"; fail "something failed or went back"; }
for i in $(seq 1 $N); do
    wait_for 10 serves $i 1 || fail "host-$i: slot 1 does not serve v3"
    [ "$(version_on $i 1)" = v3 ] || fail "host-$i: slot 1 answers $(version_on $i 1)"
done
v=$(curl -s --max-time 2 "http://127.0.0.1:$LB/index.html" | sed 's/.*version \([^<]*\)<.*/\1/')
[ "$v" = v3 ] || fail "HAProxy answered '$v'"
say ok
