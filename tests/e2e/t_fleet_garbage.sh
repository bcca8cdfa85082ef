# Frames that do not decode, are truncated, oversized, of another protocol
# version, empty or of the wrong shape are dropped and counted on each
# socket; raw bytes on every port are refused by the handshake; the
# coordinator keeps serving and the agents stay online.
. "$(dirname "$0")/lib.sh"
rc_fleet 2
rc_coord_start
rc_agent_start 1; rc_agent_start 2
wait_for 10 host_is host-2 online || fail "agents not online"
A="--server-key $T/keys/coordinator --key $T/keys/agent-1_secret"
O="--server-key $T/keys/coordinator --key $T/keys/operator_secret"
n=0
for kind in garbage truncated oversized wrong-version no-body multipart; do
    "$RC_BUILD/rc_frame" --endpoint "tcp://127.0.0.1:$P_AGENT" $A --kind $kind --count 3 >/dev/null
    "$RC_BUILD/rc_frame" --endpoint "tcp://127.0.0.1:$P_CTL" $O --kind $kind --count 2 >/dev/null
    n=$((n + 1))
done
# a heartbeat from an id nobody registered is told to say hello, not stored
out=$("$RC_BUILD/rc_frame" --endpoint "tcp://127.0.0.1:$P_AGENT" $A --kind heartbeat --sender ghost)
echo "$out" | grep -q "status=1" || fail "unknown host not asked for hello: $out"
# raw bytes at every port (not even ZMTP)
python3 - "$P_AGENT" "$P_PUB" "$P_CTL" <<'PY'
import socket, sys
for port in sys.argv[1:]:
    for size in (1, 10, 4096):
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=2)
        s.sendall(bytes((i * 7) & 0xff for i in range(size)))
        s.close()
PY
sleep 0.3
agent=$(info_field frames_dropped_agent); control=$(info_field frames_dropped_control)
say "dropped: agent socket $agent, control socket $control"
[ "$agent" = $((n * 3)) ] || fail "agent socket counted $agent, expected $((n * 3))"
[ "$control" = $((n * 2)) ] || fail "control socket counted $control, expected $((n * 2))"
kill -0 "$(rc_pid coordinator)" || fail "coordinator died"
host_is host-1 online && host_is host-2 online || fail "agents dropped offline"
[ "$(host_count)" = 2 ] || fail "garbage registered a host"
grep -q "dropped a frame on the agent socket" "$T/coordinator.log" || fail "drops not logged"
say "ok"
