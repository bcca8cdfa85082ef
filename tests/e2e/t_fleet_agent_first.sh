# Agents started before their coordinator (a machine booting, a coordinator
# restarted late) register as soon as they can connect, not a heartbeat
# interval later: the hello an agent says with no connection is dropped
# (its socket queues nothing for a peer not there), so it says it again
# when the CURVE handshake succeeds. With heartbeat_interval = 10s the old
# agent came online ~9 s after the coordinator started (its first
# heartbeat, 10 s after its own start); the bound here is 6 s: room for a
# reconnect backoff of up to 2 s and a slow start under ASan on a loaded
# machine, and still 3 s short of the old behaviour.
. "$(dirname "$0")/lib.sh"
RC_HB=10s
RC_OFFLINE=30s
rc_fleet 2
for i in 1 2; do rc_agent_start $i; done
sleep 1
t0=$(date +%s%N)
rc_coord_start
wait_online 15 2 || fail "hosts never came online"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
say "both agents online ${ms} ms after the coordinator started (heartbeat_interval 10s)"
[ "$ms" -le 6000 ] || { cat "$T/agent-1.log"; fail "registration took ${ms} ms: the agents waited for their heartbeat"; }
# exactly one registration each: the hello on connect is not said twice
for i in 1 2; do
    [ "$(sql "select count(*) from events where host_id='host-$i' and kind='registered'")" = 1 ] ||
        fail "host-$i registered more than once"
done
say "ok"
