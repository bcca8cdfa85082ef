# Hellos and heartbeats carry a run id and a sequence number: an older one
# is ignored. A heartbeat sent before a newer one but arriving after it (a
# healed partition) used to record a downgrade v2 -> v1 -> v2 in history
# that never happened.
. "$(dirname "$0")/lib.sh"
rc_fleet 1
rc_coord_start
F="$RC_BUILD/rc_frame --wait 5s --endpoint tcp://127.0.0.1:$P_AGENT --server-key $T/keys/coordinator --key $T/keys/agent-1_secret --sender host-1"
now_on () { [ "$(sql "select current from host_apps where host_id='host-1'")" = "$1" ]; }
history () { sql "select group_concat(version, ' ') from (select version from release_history where host_id='host-1' order by id)"; }

out=$($F --kind hello --run 7 --seq 1 --current v1)
echo "$out" | grep -q "status=0" || fail "hello not acknowledged: $out"
$F --kind heartbeat --run 7 --seq 5 --current v2 >/dev/null
wait_for 5 now_on v2 || fail "heartbeat seq 5 not stored"
# the stale one: sent before seq 5, arrives after it
$F --kind heartbeat --run 7 --seq 3 --current v1 >/dev/null
$F --kind hello --run 7 --seq 4 --current v1 >/dev/null
sleep 0.5
[ "$(history)" = "v1 v2" ] || fail "history records what never happened: $(history)"
[ "$(sql "select current from host_apps where host_id='host-1'")" = v2 ] || fail "stale heartbeat stored"
[ "$(info_field messages_stale)" -ge 2 ] || fail "stale messages not counted"
say "older heartbeat and hello of the same run ignored"

# a new run (agent restarted) starts with its hello; the old run is over
$F --kind hello --run 9 --seq 1 --current v1 >/dev/null
wait_for 5 now_on v1 || fail "new run's hello not taken"
out=$($F --kind heartbeat --run 7 --seq 6 --current v2)
echo "$out" | grep -q "status=1" || fail "heartbeat of an ended run not asked for hello: $out"
$F --kind heartbeat --run 9 --seq 2 --current v1 >/dev/null
sleep 0.3
[ "$(history)" = "v1 v2 v1" ] || fail "history: $(history)"
say "ok"
