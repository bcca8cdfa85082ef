# Surge clones ([app] slots = P1,P2) behind a real HAProxy with the
# built-in provider: each host runs its app on two slots, HAProxy has one
# server per slot (web/host-I-{slot}, declared `disabled`: a slot enters
# rotation only through the agent). (1) a rollout under a bounded stream of
# requests: none fails, and HAProxy's show stat, sampled all along, never
# shows a host with no UP server (the old slot serves until the new one is
# UP) nor fewer than N UP servers; (2) a rollback within keep_warm goes back
# to the warm slot: no restart, no install, the slot it leaves is stopped;
# (3) after keep_warm the warm slot is stopped by the stop hook, also
# across a restart of the agent; (4) a release that is never healthy leaves
# traffic on the old slot and its own slot stopped; (5) kill -9 of the
# agent with the new slot in rotation: the next start drains and stops it,
# traffic stays on the old slot; (6) `rollclone hosts` shows the serving
# slot and what is warm.
. "$(dirname "$0")/lib.sh"
command -v haproxy >/dev/null || { echo "haproxy is not installed"; exit 77; }
HERE="$(cd "$(dirname "$0")" && pwd)"
SOCK="$T/haproxy.sock"; LB=$(rc_port)
N=2
. "$HERE/lb_lib.sh"
slot_fleet $N
# a slot's server name, or a stop hook, without slots: refused
sed '/^slots = /d; /^stop = /d' "$T/agent-1.conf" >"$T/bad.conf"
expect_exit 2 "$RC_BUILD/rollclone-agent" --check --config "$T/bad.conf"
grep -qF "haproxy_server = 'web/host-1-{slot}' names a slot: needs slots" "$T/last.out" || fail "unclear: $(cat "$T/last.out")"
sed '/^slots = /d; /^stop = /d; /^haproxy_server = /d' "$T/agent-1.conf" >"$T/bad.conf"
echo "haproxy_server = web/host-1-1" >>"$T/bad.conf"
expect_exit 2 "$RC_BUILD/rollclone-agent" --check --config "$T/bad.conf"
grep -qF "health_url = 'http://127.0.0.1:{port}/health' names a slot's port: needs slots" "$T/last.out" || fail "unclear: $(cat "$T/last.out")"
sed '/^slots = /d' "$T/agent-1.conf" >"$T/bad.conf"
expect_exit 2 "$RC_BUILD/rollclone-agent" --check --config "$T/bad.conf"
grep -qF "[app web] stop needs slots" "$T/last.out" || fail "unclear: $(cat "$T/last.out")"


rc_coord_start
for i in $(seq 1 $N); do rc_agent_start $i; done
wait_online 10 $N || fail "hosts not online"
make_release v1; make_release v2; make_release v3; make_release v4 broken; make_release v5
expect_exit 0 deploy v1 --batch 100% --soak 300ms --wait
for i in $(seq 1 $N); do
    wait_for 10 serves $i 1 || fail "host-$i: slot 1 not serving after v1 ($(lbstat host-$i-1)/$(lbstat host-$i-2))"
done
wait_for 10 sh -c "curl -s --max-time 2 http://127.0.0.1:$LB/index.html | grep -q v1" || fail "no traffic through haproxy"
say "v1 on slot 1 of every host, slot 2 in maint"

# (1) v1 -> v2 under load, HAProxy's stats sampled all along
rm -f "$T/stop"
python3 "$HERE/loadgen.py" 127.0.0.1 "$LB" /index.html "$T/stop" "$T/load.json" &
python3 - "$SOCK" "$T/stop" "$T/samples.json" "$N" <<'PY' &
import csv, io, json, os, socket, sys, time
sock, stop, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
samples, per_host_min, total_min = 0, {}, None
while not os.path.exists(stop) and samples < 20000:
    s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sock)
    s.sendall(b"show stat\n"); data = b""
    while True:
        c = s.recv(65536)
        if not c: break
        data += c
    s.close()
    rows = list(csv.reader(io.StringIO(data.decode().lstrip("# "))))
    st = rows[0].index("status")
    up = {}
    for r in rows[1:]:
        if len(r) > st and r[0] == "web" and r[1].startswith("host-"):
            host = r[1].rsplit("-", 1)[0]
            up[host] = up.get(host, 0) + (r[st] == "UP")
    for h, c in up.items():
        per_host_min[h] = min(per_host_min.get(h, c), c)
    total = sum(up.values())
    total_min = total if total_min is None else min(total_min, total)
    samples += 1
    time.sleep(0.02)
json.dump({"samples": samples, "per_host_min": per_host_min, "total_min": total_min}, open(out, "w"))
PY
sleep 0.5
dep2=$(deploy v2 --batch 1 --soak 500ms) || fail "deploy v2"
wait_ended 60 "$dep2" || fail "v2 did not end"
[ "$(dep_field "$dep2" state)" = succeeded ] || { "$RC" status "$dep2"; fail "v2: $(dep_field "$dep2" state)"; }
sleep 0.5
touch "$T/stop"
wait_for 15 test -f "$T/load.json" || fail "load generator did not stop"
wait_for 15 test -f "$T/samples.json" || fail "sampler did not stop"
cat "$T/load.json"; echo; cat "$T/samples.json"; echo
python3 -c "import json,sys; d=json.load(open('$T/load.json')); sys.exit(0 if d['failed'] == 0 and d['ok'] > 100 and 'v2' in d['versions'] else 1)" \
    || fail "requests failed (or too few) during the surge rollout"
python3 -c "
import json, sys
d = json.load(open('$T/samples.json'))
ok = d['samples'] > 20 and d['total_min'] >= $N and len(d['per_host_min']) == $N and min(d['per_host_min'].values()) >= 1
sys.exit(0 if ok else 1)" || fail "capacity dropped during the surge rollout (HAProxy's UP servers)"
for i in $(seq 1 $N); do
    serves $i 2 || fail "host-$i: slot 2 does not serve after v2"
    [ "$(version_on $i 1)" = v1 ] || fail "host-$i: slot 1 not warm with v1"
    [ "$(version_on $i 2)" = v2 ] || fail "host-$i: slot 2 not on v2"
    [ "$(hook_count $i stop)" = 0 ] || fail "host-$i: a stop hook ran within keep_warm"
done
# the new slot was healthy and in rotation before the old one was drained
grep "^restart v2" "$T/agent-1/hooks.log" | grep -q "slot=2 port=$(cut -d' ' -f2 "$T/agent-1/ports")" || fail "v2's restart not on slot 2"
say "(1) v1 -> v2 on the idle slots: no failed request, no host without an UP server, v1 warm"

# (6) rollclone hosts shows the serving slot and the warm release
[ "$(app_field 1 slot)" = 2 ] || { "$RC" hosts --json; fail "hosts: slot of host-1"; }
[ "$(app_field 1 warm_version)" = v1 ] || { "$RC" hosts --json; fail "hosts: warm release of host-1"; }
"$RC" hosts | grep -q "web=v2 (rollback: v1) \[slot 2, v1 warm until " || { "$RC" hosts; fail "hosts does not show the serving slot"; }
"$RC" history host-1 | grep -q "web: current v2, rollback points: v1 \[slot 2, v1 warm until " || { "$RC" history host-1; fail "history does not show the serving slot"; }
say "(6) rollclone hosts and history: host-1 serves on slot 2, v1 warm"

# (2) rollback within keep_warm: traffic back to the warm slot, nothing
# restarted or installed, the slot it leaves stopped
restarts=$(hook_count 1 restart); installs=$(hook_count 1 install)
expect_exit 0 "$RC" rollback --deployment "$dep2" --wait
for i in $(seq 1 $N); do
    wait_for 5 serves $i 1 || fail "host-$i: slot 1 not serving after the rollback"
    wait_for 5 sh -c "! curl -s --max-time 1 -o /dev/null http://127.0.0.1:$(cut -d' ' -f2 "$T/agent-$i/ports")/" || fail "host-$i: slot 2 still runs"
done
[ "$(hook_count 1 restart)" = "$restarts" ] || fail "the rollback restarted something"
[ "$(hook_count 1 install)" = "$installs" ] || fail "the rollback installed something"
grep -q "^stop v2 .* stop slot=2" "$T/agent-1/hooks.log" || { cat "$T/agent-1/hooks.log"; fail "the rollback did not stop slot 2"; }
[ "$(app_field 1 warm_version)" = "" ] || fail "hosts: something still warm after the rollback"
say "(2) rollback within keep_warm: back on slot 1 (v1), no restart, no install, slot 2 stopped"

# (3) after keep_warm the old slot is stopped by the stop hook. agent-2
# runs with keep_warm = 2s from before the rollout; agent-1 is restarted
# with it while v1 is warm: the release and its deadline come from its
# state dir (a lower keep_warm shortens what is left)
# restart_agent I KEEP_WARM: agent I again with that keep_warm, registered
registered () { grep -c "registered with the coordinator" "$T/agent-$1.log" 2>/dev/null || true; }
restart_agent () {
    before=$(registered $1)
    kill -TERM "$(rc_pid agent-$1)"; wait_for 10 sh -c "! kill -0 $(rc_pid agent-$1) 2>/dev/null" || fail "agent-$1 did not stop"
    sed -i "s/^keep_warm = .*/keep_warm = $2/" "$T/agent-$1.conf"
    rc_agent_start $1
    wait_for 15 sh -c "[ \"\$(grep -c 'registered with the coordinator' '$T/agent-$1.log')\" -gt $before ]" ||
        fail "host-$1 did not register again"
    wait_for 10 host_is host-$1 online || fail "host-$1 not back online"
}
restart_agent 2 2s
expect_exit 0 deploy v3 --batch 100% --soak 300ms --wait
for i in $(seq 1 $N); do serves $i 2 || fail "host-$i: slot 2 does not serve v3"; done
[ "$(version_on 1 1)" = v1 ] || fail "host-1: v1 not warm on slot 1"
restart_agent 1 2s
for i in $(seq 1 $N); do
    wait_for 20 sh -c "grep -q '^stop v1 .* slot=1' '$T/agent-$i/hooks.log'" || fail "host-$i: the warm slot was not stopped after keep_warm"
    wait_for 5 sh -c "! curl -s --max-time 1 -o /dev/null http://127.0.0.1:$(cut -d' ' -f1 "$T/agent-$i/ports")/" || fail "host-$i: slot 1 still runs"
    serves $i 2 || fail "host-$i: slot 2 stopped serving"
done
wait_for 10 sh -c "[ \"\$(app_field 1 warm_version)\" = '' ]" || fail "hosts: v1 still warm"
say "(3) after keep_warm the stop hook stopped slot 1, also across a restart of agent-1"

# (4) a release that never gets healthy: traffic stays on the old slot,
# the new one is stopped
dep=$(deploy v4 --batch 100% --soak 300ms --health-timeout 2s --no-auto-rollback) || fail "deploy v4"
wait_ended 30 "$dep" || fail "v4 did not end"
[ "$(dep_field "$dep" state)" = failed ] || fail "v4: $(dep_field "$dep" state)"
for i in $(seq 1 $N); do
    serves $i 2 || fail "host-$i: slot 2 (v3) not serving after the broken v4"
    [ "$(version_on $i 2)" = v3 ] || fail "host-$i: slot 2 not on v3"
    grep -q "^stop v4 $dep revert-stop slot=1" "$T/agent-$i/hooks.log" || fail "host-$i: v4's slot not stopped"
    [ "$(lbstat host-$i-1)" = MAINT ] || fail "host-$i: v4's slot is $(lbstat host-$i-1) in HAProxy"
done
say "(4) broken v4: never in rotation, its slot stopped, v3 serves on slot 2"

# (5) kill -9 of agent-1 with v5 healthy and in rotation on slot 1, before
# the old slot was drained: the next start drains slot 1 and stops it
before=$(registered 1)
kill -TERM "$(rc_pid agent-1)"; wait_for 10 sh -c "! kill -0 $(rc_pid agent-1) 2>/dev/null"
mkdir -p "$T/agent-1/hold"; echo 60000 >"$T/agent-1/hold/hold-undrain-v5"
RC_FAULT_HOLD_DIR="$T/agent-1/hold"; export RC_FAULT_HOLD_DIR
rc_agent_start 1
unset RC_FAULT_HOLD_DIR
wait_for 15 sh -c "[ \"\$(grep -c 'registered with the coordinator' '$T/agent-1.log')\" -gt $before ]" || fail "host-1 did not register again"
wait_for 10 host_is host-1 online || fail "host-1 not online"
dep=$(deploy v5 --select n=1 --soak 300ms --no-auto-rollback) || fail "deploy v5"
wait_for 30 sh -c "grep -q 'undrain held open' '$T/agent-1.log'" || fail "v5 never reached the held undrain"
lbstat_is host-1-1 UP || fail "v5's slot not UP while held"
kill -9 "$(rc_pid agent-1)"
wait "$(rc_pid agent-1)" 2>/dev/null
rm -f "$T/agent-1/hold/hold-undrain-v5"
rc_agent_start 1
wait_for 20 sh -c "grep -q '^stop v5 $dep revert-stop slot=1' '$T/agent-1/hooks.log'" || fail "v5's slot not stopped after the crash"
wait_for 10 serves 1 2 || fail "host-1: slot 2 (v3) not the only one serving after the crash ($(lbstat host-1-1))"
[ "$(version_on 1 2)" = v3 ] || fail "host-1: slot 2 not on v3"
wait_ended 20 "$dep" || fail "v5 did not end"
say "(5) kill -9 with v5 in rotation: undone at the next start, v3 serves on slot 2"
say ok
