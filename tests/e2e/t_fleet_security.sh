# CURVE on by default: an agent whose key is not admitted never appears;
# SIGHUP admits it without restarting anything; a second agent claiming an
# existing id with another key is refused (logged, an event); an operator
# key not admitted or a wrong coordinator key is exit 3; a plain-text peer
# gets nothing.
. "$(dirname "$0")/lib.sh"
rc_fleet 2
rc_coord_start
rc_agent_start 1
wait_for 10 host_is host-1 online || fail "host-1 not online"

# agent 3: key made but not admitted
rc_agent_config 3
rm "$T/keys/agents/agent-3"
rc_agent_start 3
sleep 1.5
[ "$(host_count)" = 1 ] || fail "an agent with a key not admitted appeared"
grep -q "refused our key" "$T/agent-3.log" || fail "agent does not say its key was refused"
grep -q "refused agents key" "$T/coordinator.log" || fail "coordinator does not log the refused key"
say "unadmitted agent kept out"

# admit it: SIGHUP, no restart of either side
cp "$T/keys/agent-3" "$T/keys/agents/agent-3"
kill -HUP "$(rc_pid coordinator)"
wait_for 10 host_is host-3 online || fail "agent not admitted after SIGHUP"
say "SIGHUP admitted host-3"

# agent 2's key is admitted, but it claims host-1's id
rc_agent_config 2 host-1
rc_agent_start 2
sleep 1.5
[ "$(host_count)" = 2 ] || fail "impostor changed the fleet"
grep -q "coordinator refused host id 'host-1'" "$T/agent-2.log" || fail "impostor not told"
grep -q "refused host id 'host-1'" "$T/coordinator.log" || fail "refusal not logged"
[ "$(sql "select count(*) from events where host_id='host-1' and kind='refused'")" = 1 ] || fail "no refused event"
pubkey=$(sql "select pubkey from hosts where id='host-1'")
grep -qF "$pubkey" "$T/keys/agent-1" || fail "host-1 is no longer bound to its own key"
host_is host-1 online || fail "host-1 disturbed"
say "id conflict refused"

# operator key not admitted: exit 3, one line naming the reason
"$RC" keygen "$T/keys/stranger" >/dev/null
sed "s|keys/operator_secret|keys/stranger_secret|" "$T/client.conf" >"$T/stranger.conf"
expect_exit 3 "$RC" --config "$T/stranger.conf" hosts
grep -q "refused this operator key" "$T/last.out" || fail "unclear refusal: $(cat "$T/last.out")"
[ "$(wc -l <"$T/last.out")" = 1 ] || fail "refusal is not one line"
# wrong coordinator key
sed "s|coordinator_public_key = keys/coordinator|coordinator_public_key = keys/stranger|" "$T/client.conf" >"$T/wrong.conf"
expect_exit 3 "$RC" --config "$T/wrong.conf" --timeout 2s hosts
# nothing listening
sed "s|:$P_CTL|:$(rc_port)|" "$T/client.conf" >"$T/nobody.conf"
expect_exit 3 "$RC" --config "$T/nobody.conf" --timeout 500ms hosts
grep -q "no answer from the coordinator" "$T/last.out" || fail "unclear timeout: $(cat "$T/last.out")"

# plain text (no CURVE): gets no answer, and is not even a frame to count
before=$(info_field frames_dropped)
out=$("$RC_BUILD/rc_frame" --endpoint "tcp://127.0.0.1:$P_AGENT" --kind hello --sender host-9)
[ -z "$out" ] || fail "plain-text peer got an answer: $out"
"$RC_BUILD/rc_frame" --endpoint "tcp://127.0.0.1:$P_CTL" --kind garbage
[ "$(info_field frames_dropped)" = "$before" ] || fail "plain-text frames reached the server"
[ "$(host_count)" = 2 ] || fail "plain-text hello registered a host"
say "ok"
