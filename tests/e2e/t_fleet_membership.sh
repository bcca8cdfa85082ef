# Coordinator + 3 agents: all online; kill -9 one: offline within
# offline_after + 1 s; restart the coordinator: the others are online again
# without touching them, the killed one still offline; every transition is
# an event row.
# rc-e2e: alone (it times how fast a killed agent is seen offline)
. "$(dirname "$0")/lib.sh"
rc_fleet 3
rc_coord_start
for i in 1 2 3; do rc_agent_start $i; done
wait_online 10 3 || fail "hosts never came online"
say "3 agents online"
[ "$(host_field host-2 labels)" = '{"role": "web", "n": "2"}' ] || fail "labels: $(host_field host-2 labels)"
[ "$(info_field agents_online)" = 3 ] || fail "info agents_online"

# the agent's two processes: the root executor started here, and its
# unprivileged network side, which must go with it
a2=$(rc_pid agent-2)
kill -9 "$a2"
start=$(date +%s%N)
if ! wait_for 5 host_is host-2 offline; then
    # once seen in a full run, never alone: show what was still alive
    ps -eo pid,ppid,stat,etimes,args | grep -E "rollclone-agent.*agent-2.conf" | grep -v grep
    tail -n 20 "$T/agent-2.log"; grep -E "host-2" "$T/coordinator.log" | tail -n 10
    "$RC" hosts
    fail "host-2 not offline after kill -9"
fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
say "host-2 offline ${ms} ms after kill -9 (offline_after $RC_OFFLINE)"
[ "$ms" -le 2000 ] || fail "offline took ${ms} ms, more than offline_after + 1 s"
host_is host-1 online && host_is host-3 online || fail "others went offline"

rc_coord_stop
rc_coord_start
say "coordinator restarted"
[ "$(host_count)" = 3 ] || fail "fleet not kept across restart"
host_is host-2 offline || fail "killed host not listed offline after restart"
# the live agents were not touched: they are recognised within a few beats
sleep 1.5
host_is host-1 online && host_is host-3 online || fail "live agents not online after restart"
host_is host-2 offline || fail "host-2 came back without an agent"
[ "$(info_field agents_offline)" = 1 ] || fail "info agents_offline"

# restart the killed agent: back online, with a single registration event
rc_agent_start 2
wait_for 5 host_is host-2 online || fail "host-2 not back online"
[ "$(sql "select count(*) from events where host_id='host-2' and kind='registered'")" = 1 ] || fail "registered twice"
[ "$(sql "select count(*) from events where host_id='host-2' and kind='offline'")" = 1 ] || fail "offline event missing"
[ "$(sql "select count(*) from events where host_id='host-2' and kind='online'")" -ge 1 ] || fail "online event missing"
[ "$(sql "pragma journal_mode")" = wal ] || fail "database not in WAL mode"
[ "$(sql "pragma user_version")" -ge 1 ] || fail "schema not versioned"
# clean stop leaves a database that passes the integrity check
rc_coord_stop
[ "$(sql "pragma integrity_check")" = ok ] || fail "integrity check"
say "ok"
