# One key, one host, and instructions only its host can read (issue 8):
# - host-1's agent does not even receive host-10's instructions ("host/host-1"
#   used to be a prefix of "host/host-10": topics end in a NUL now);
# - a SUB with an admitted agent key subscribed to everything receives the
#   frames but can read none of another host's instructions (sealed to the
#   host's key: artifact URLs may carry tokens), while the host's own key can;
# - the key that registered host-10 cannot say hello as host-7 (not yet
#   registered) nor as host-1: refused, logged, an event.
. "$(dirname "$0")/lib.sh"
rc_fleet 1
rc_agent_config 2 host-10
rc_webapp 1; rc_webapp 2
rc_coord_start
rc_agent_start 1; rc_agent_start 2
wait_for 10 hosts_are online host-1 host-10 || fail "$(hosts_are online host-1 host-10)"
make_release v1
K="--server-key $T/keys/coordinator"

# listeners on the PUB socket during a deployment to host-10 alone
"$RC_BUILD/rc_frame" --endpoint "tcp://127.0.0.1:$P_PUB" $K --key "$T/keys/agent-1_secret" \
    --kind subscribe --topic "" --listen 8s >"$T/sub-other.out" 2>&1 &
sub1=$!
"$RC_BUILD/rc_frame" --endpoint "tcp://127.0.0.1:$P_PUB" $K --key "$T/keys/agent-2_secret" \
    --kind subscribe --topic "host/host-10" --listen 8s >"$T/sub-own.out" 2>&1 &
sub2=$!
sleep 1
expect_exit 0 deploy v1 --select n=2 --soak 300ms --wait
wait $sub1; wait $sub2
say "host-1's key listening to everything: $(cat "$T/sub-other.out")"
say "host-10's key on its own topic: $(cat "$T/sub-own.out")"
grep -q "frames=[1-9]" "$T/sub-other.out" || fail "the listener got no frame at all: test is blind"
grep -q "readable=0" "$T/sub-other.out" || fail "another host's key read host-10's instructions"
grep -q "readable=[1-9]" "$T/sub-own.out" || fail "host-10's own key could not read its instructions"
[ "$(current 2)" = v1 ] || fail "host-10 not updated"
! grep -q "dropped a published frame" "$T/agent-1.log" || { grep "published" "$T/agent-1.log"; fail "host-1's agent received host-10's instructions"; }
say "instructions: host-10's alone, readable by host-10 alone"

# the key of host-10 claims other ids
A2="$K --key $T/keys/agent-2_secret"
out=$("$RC_BUILD/rc_frame" --wait 5s --endpoint "tcp://127.0.0.1:$P_AGENT" $A2 --kind hello --sender host-7)
echo "$out" | grep -q "status=2 reason=this key is registered as host 'host-10'" || fail "hello as host-7 not refused: $out"
out=$("$RC_BUILD/rc_frame" --wait 5s --endpoint "tcp://127.0.0.1:$P_AGENT" $A2 --kind hello --sender host-1)
echo "$out" | grep -q "status=2" || fail "hello as host-1 not refused: $out"
out=$("$RC_BUILD/rc_frame" --wait 5s --endpoint "tcp://127.0.0.1:$P_AGENT" $A2 --kind heartbeat --sender host-1)
echo "$out" | grep -q "status=2" || fail "heartbeat as host-1 not refused: $out"
[ "$(host_count)" = 2 ] || fail "a key registered a second host: $("$RC" hosts)"
grep -q "hello as 'host-7' refused: this key registered host 'host-10'" "$T/coordinator.log" || fail "refusal not logged"
[ "$(sql "select count(*) from events where host_id='host-10' and kind='refused' and detail like '%host-7%'")" = 1 ] || fail "no refused event"
host_is host-10 online && host_is host-1 online || fail "the real hosts were disturbed"
say "ok"
