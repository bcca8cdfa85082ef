# Blue-green across the fleet (deploy --strategy blue-green) behind a real
# HAProxy with the built-in provider, three hosts with two slots each (one
# HAProxy server per slot, declared disabled). Under a bounded load whose
# every answer is logged with its time and version: (a) v1 -> v2 stages on
# the idle slots batch by batch and no request reaches v2 before the
# switch event, after the switch only v2 answers, none fails; (b) rollback
# --deployment within keep_warm switches back with no install or restart;
# (c) a release failing health while staging fails the deployment and
# traffic never leaves v1; (d) kill -9 of the coordinator between the stage
# and the switch, and in the middle of the switch: it resumes and switches
# once; (e) a switch to a warm slot whose process died fails its health
# check on the agent and traffic stays where it was.
. "$(dirname "$0")/lib.sh"
command -v haproxy >/dev/null || { echo "haproxy is not installed"; exit 77; }
HERE="$(cd "$(dirname "$0")" && pwd)"
SOCK="$T/haproxy.sock"; LB=$(rc_port)
N=3
. "$HERE/lb_lib.sh"
slot_fleet $N


rc_coord_start
mkdir -p "$T/hold"
for i in $(seq 1 $N); do
    # agent-1 may hold its switch's undrain open (RC_FAULT_HOLD_DIR, test builds)
    if [ $i = 1 ]; then RC_FAULT_HOLD_DIR="$T/hold"; export RC_FAULT_HOLD_DIR; fi
    rc_agent_start $i
    unset RC_FAULT_HOLD_DIR
done
wait_online 10 $N || fail "hosts not online"
make_release v1; make_release v2; make_release v3 broken; make_release v4; make_release v5
expect_exit 0 deploy v1 --batch 100% --soak 300ms --wait
for i in $(seq 1 $N); do
    wait_for 10 serves $i 1 || fail "host-$i: slot 1 not serving after v1"
done
wait_for 10 sh -c "curl -s --max-time 2 http://127.0.0.1:$LB/index.html | grep -q v1" || fail "no traffic through haproxy"
say "v1 on slot 1 of every host (a rolling deploy), slot 2 in maint"

# load LABEL: starts the bounded load through HAProxy, every answer's
# version and time in $T/LABEL.timeline; load_end LABEL stops it and
# checks that no request failed
load () {
    rm -f "$T/stop"
    python3 "$HERE/loadgen.py" 127.0.0.1 "$LB" /index.html "$T/stop" "$T/$1.json" "$T/$1.timeline" &
    sleep 0.5
}
load_end () {
    # enough answers to judge, however slow a loaded machine makes them
    wait_for 30 sh -c "[ \$(wc -l <'$T/$1.timeline') -gt 100 ]" || fail "$1: too few answers"
    touch "$T/stop"
    wait_for 15 test -f "$T/$1.json" || fail "load generator did not stop"
    cat "$T/$1.json"; echo
    python3 -c "import json,sys; d=json.load(open('$T/$1.json')); sys.exit(0 if d['failed'] == 0 and d['ok'] > 100 else 1)" \
        || fail "$1: requests failed (or too few)"
}
# event_ts DEP KIND: when the coordinator wrote the first event KIND of DEP (unix ms)
event_ts () { sql "select min(ts) from events where deployment_id = '$1' and kind = '$2'"; }
# versions_between FILE FROM TO: the versions that answered between two times
versions_between () {
    awk -v a="$2" -v b="$3" '$1 >= a && $1 <= b { print $2 }' "$1" | sort -u | tr '\n' ' '
}

# (a) v1 -> v2 blue-green under load: staged one host at a time with no
# request reaching v2, then one switch; after it only v2 answers
restarts=$(hook_count 1 restart)
load a
dep2=$(deploy v2 --strategy blue-green --batch 1 --soak 500ms) || fail "deploy v2"
wait_ended 60 "$dep2" || fail "v2 did not end"
sleep 1
load_end a
dep_snap "$dep2" || fail "status $dep2"
[ "$(snap_field state)" = succeeded ] || { "$RC" status "$dep2"; fail "v2: $(snap_field state)"; }
[ "$(snap_field strategy)" = blue-green ] || fail "status --json: strategy $(snap_field strategy)"
[ "$(snap_field phase)" = switched ] || fail "status --json: phase $(snap_field phase)"
"$RC" status "$dep2" | grep -q "succeeded, blue-green: switched" || { "$RC" status "$dep2"; fail "status does not show the phase"; }
[ "$(snap_host_field host-1 action)" = switch ] || fail "host-1's last step is not the switch"
sw=$(event_ts "$dep2" switch_started)
last=$(sql "select max(ts) from events where deployment_id = '$dep2' and kind = 'host_switched'")
first_staged=$(event_ts "$dep2" host_staging)
[ -n "$sw" ] && [ "$sw" != None ] || fail "no switch_started event"
# every host was staged before the switch, in three batches
[ "$(sql "select count(*) from events where deployment_id = '$dep2' and kind = 'host_staged' and ts <= $sw")" = $N ] ||
    fail "not every host was staged before the switch"
[ "$(snap_field batches)" = $N ] || fail "stage batches: $(snap_field batches)"
before=$(versions_between "$T/a.timeline" 0 "$sw")
[ "$before" = "v1 " ] || fail "(a) before the switch ($sw) the versions were: $before"
after=$(versions_between "$T/a.timeline" $((last + 300)) 99999999999999)
[ "$after" = "v2 " ] || fail "(a) after the switch ended ($last) the versions were: $after"
[ "$(awk '$2 == "v2"' "$T/a.timeline" | wc -l)" -gt 10 ] || fail "(a) too few v2 answers"
for i in $(seq 1 $N); do
    serves $i 2 || fail "host-$i: slot 2 does not serve after the switch"
    [ "$(version_on $i 1)" = v1 ] || fail "host-$i: slot 1 not warm with v1"
    grep -q "^restart v2 .* slot=2 " "$T/agent-$i/hooks.log" || fail "host-$i: v2 not started on slot 2"
done
[ "$(app_field 1 warm_version)" = v1 ] || fail "hosts: v1 not warm on host-1"
# history: the switch is host-1's one release change of the deployment (a
# stage changes no release)
"$RC" history host-1 --json | python3 -c "
import json, sys
e = [x for x in json.load(sys.stdin)['history'] if x['deployment'] == '$dep2']
sys.exit(0 if len(e) == 1 and e[0]['version'] == 'v2' else 1)" || { "$RC" history host-1; fail "history of the switch"; }
n_v1=$(awk '$2 == "v1"' "$T/a.timeline" | wc -l); n_v2=$(awk '$2 == "v2"' "$T/a.timeline" | wc -l)
say "(a) blue-green v1 -> v2: staged in $N batches, no v2 answer of $n_v1 before the switch, $n_v2 v2 after, 0 failed"

# (b) rollback --deployment within keep_warm: one switch back to the warm
# slots, no install, no restart; v2 stays warm on slot 2
restarts=$(hook_count 1 restart); installs=$(hook_count 1 install)
"$RC" rollback --deployment "$dep2" --plan >"$T/rbplan.out" || fail "rollback plan"
load b
expect_exit 0 "$RC" rollback --deployment "$dep2" --wait
sleep 1
load_end b
dep_snap "$dep2" || fail "status $dep2"
[ "$(snap_field state)" = rolled_back ] || fail "(b) state $(snap_field state)"
"$RC" status "$dep2" | grep -q "rolled_back, blue-green: switched back" || { "$RC" status "$dep2"; fail "(b) status phase"; }
for i in $(seq 1 $N); do
    wait_for 5 serves $i 1 || fail "host-$i: slot 1 not serving after the switch back"
    [ "$(snap_host_field host-$i action)" = switch ] || fail "host-$i: the way back was not a switch"
done
[ "$(hook_count 1 restart)" = "$restarts" ] || fail "the switch back restarted something"
[ "$(hook_count 1 install)" = "$installs" ] || fail "the switch back installed something"
[ "$(sql "select count(*) from events where deployment_id = '$dep2' and kind = 'host_switched_back'")" = $N ] ||
    fail "(b) not every host switched back"
[ "$(app_field 1 warm_version)" = v2 ] || fail "hosts: v2 not warm after the switch back"
back=$(sql "select max(ts) from events where deployment_id = '$dep2' and kind = 'host_switched_back'")
[ "$(versions_between "$T/b.timeline" $((back + 300)) 99999999999999)" = "v1 " ] || fail "(b) v2 still answers after the switch back"
say "(b) rollback --deployment within keep_warm: switched back to v1, no restart or install, v2 warm"

# (c) a release that fails its health check while staging: the deployment
# fails, traffic never leaves v1 on any host, nothing is switched
load c
dep3=$(deploy v3 --strategy blue-green --batch 1 --soak 300ms --health-timeout 2s) || fail "deploy v3"
wait_ended 60 "$dep3" || fail "v3 did not end"
sleep 0.5
load_end c
dep_snap "$dep3" || fail "status $dep3"
[ "$(snap_field state)" = failed ] || { "$RC" status "$dep3"; fail "(c) v3: $(snap_field state)"; }
snap_field reason | grep -q "traffic was not switched" || fail "(c) reason: $(snap_field reason)"
[ "$(event_ts "$dep3" switch_started)" = None ] || fail "(c) a switch started"
[ "$(versions_between "$T/c.timeline" 0 99999999999999)" = "v1 " ] || fail "(c) versions seen: $(versions_between "$T/c.timeline" 0 99999999999999)"
for i in $(seq 1 $N); do serves $i 1 || fail "host-$i: slot 1 not serving after the failed stage"; done
[ "$(snap_host_field host-1 state)" = failed ] || fail "(c) host-1: $(snap_host_field host-1 state)"
[ "$(snap_host_field host-2 state)" = pending ] || fail "(c) host-2 was staged after the failure"
say "(c) v3 fails health while staging: deployment failed, only v1 answered, nothing switched"

# (d) kill -9 of the coordinator between the stage and the switch (held
# at a manual gate), and again in the middle of the switch (agent-1's
# undrain held open): each restart goes on where it was
dep4=$(deploy v4 --strategy blue-green --batch 100% --soak 300ms --pause manual) || fail "deploy v4"
wait_for 60 dep_state_is "$dep4" paused || fail "(d) v4 did not wait at the gate"
dep_snap "$dep4" || fail "status $dep4"
for i in $(seq 1 $N); do [ "$(snap_host_field host-$i state)" = staged ] || fail "(d) host-$i not staged"; done
"$RC" status "$dep4" | grep -q "blue-green: staging batch 1 of 1" || { "$RC" status "$dep4"; fail "(d) status phase"; }
rc_coord_kill9
rc_coord_start
sleep 1
[ "$(dep_field "$dep4" state)" = paused ] || fail "(d) after kill -9: $(dep_field "$dep4" state)"
for i in $(seq 1 $N); do serves $i 1 || fail "(d) host-$i switched before resume"; done
echo 4000 >"$T/hold/hold-undrain-v4"
"$RC" resume "$dep4" >/dev/null || fail "resume"
wait_for 20 sh -c "grep -q 'undrain held open' '$T/agent-1.log'" || fail "(d) agent-1's switch never reached the held undrain"
[ "$(dep_field "$dep4" phase)" = switching ] || fail "(d) phase $(dep_field "$dep4" phase)"
rc_coord_kill9
rc_coord_start
rm -f "$T/hold/hold-undrain-v4"
wait_ended 60 "$dep4" || fail "(d) v4 did not end after the restarts"
[ "$(dep_field "$dep4" state)" = succeeded ] || { "$RC" status "$dep4"; fail "(d) v4: $(dep_field "$dep4" state)"; }
[ "$(sql "select count(*) from events where deployment_id = '$dep4' and kind = 'switch_started'")" = 1 ] || fail "(d) the switch started twice"
for i in $(seq 1 $N); do
    wait_for 5 serves $i 2 || fail "(d) host-$i: slot 2 not serving v4"
    [ "$(version_on $i 2)" = v4 ] || fail "(d) host-$i: slot 2 not on v4"
    [ "$(grep -c "^restart v4 " "$T/agent-$i/hooks.log")" = 1 ] || fail "(d) host-$i: v4 started more than once"
done
say "(d) kill -9 at the gate before the switch and in the middle of it: resumed, switched once, v4 serves"

# (e) a switch back to a warm slot whose process died: the agent checks
# the slot first, the switch fails there, traffic stays on v4
dep5=$(deploy v5 --strategy blue-green --batch 100% --soak 300ms --no-auto-rollback) || fail "deploy v5"
wait_ended 60 "$dep5" || fail "v5 did not end"
[ "$(dep_field "$dep5" state)" = succeeded ] || fail "(e) v5: $(dep_field "$dep5" state)"
# v4 is warm on slot 2 now; kill host-1's slot 2 process and switch back
kill "$(cat "$T/agent-1-s2/server.pid")"
wait_for 5 sh -c "! curl -s --max-time 1 -o /dev/null http://127.0.0.1:$(cut -d' ' -f2 "$T/agent-1/ports")/" || fail "slot 2 still answers"
expect_exit 1 "$RC" rollback --deployment "$dep5" --wait
dep_snap "$dep5" || fail "status $dep5"
[ "$(snap_host_field host-1 state)" = rollback_failed ] || fail "(e) host-1: $(snap_host_field host-1 state)"
snap_host_field host-1 failure | grep -q health || fail "(e) host-1 failed in $(snap_host_field host-1 failure)"
serves 1 1 || fail "(e) host-1: traffic left the live slot 1 ($(lbstat host-1-1)/$(lbstat host-1-2))"
[ "$(version_on 1 1)" = v5 ] || fail "(e) host-1: slot 1 not on v5"
for i in 2 3; do wait_for 5 serves $i 2 || fail "(e) host-$i: not switched back"; done
say "(e) the warm slot of host-1 died: its switch back failed health there, v5 kept serving"
say ok
