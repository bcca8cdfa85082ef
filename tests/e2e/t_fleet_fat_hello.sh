# Bounded work per peer (issue 9): one admitted agent key sending 189 KB
# hellos of 20,000 apps in a loop used to freeze the coordinator for
# seconds, and honest hosts were declared offline. Now such a message is
# refused unread (bytes) or unstored (counts), counted, an event names the
# host, and 3 honest agents beating every second all stay online.
# rc-e2e: alone
. "$(dirname "$0")/lib.sh"
RC_HB=1s RC_OFFLINE=3s
rc_fleet 3
rc_agent_config 4 fat-1   # its key: admitted, and used by rc_frame only
rc_coord_start
for i in 1 2 3; do rc_agent_start $i; done
wait_online 10 3 || fail "hosts not online"
F="$RC_BUILD/rc_frame --wait 5s --endpoint tcp://127.0.0.1:$P_AGENT --server-key $T/keys/coordinator --key $T/keys/agent-4_secret --sender fat-1"
out=$($F --kind hello --current v1)
echo "$out" | grep -q "status=0" || fail "fat-1 not registered: $out"

# the 20,000-app hello, again and again, for 12 s
end=$(( $(date +%s) + 12 )); seq=10; slowest=0; senders=""
while [ "$(date +%s)" -lt "$end" ]; do
    $F --kind hello --apps 20000 --count 5 --seq $seq >/dev/null 2>&1 &
    senders="$senders $!"
    seq=$((seq + 5))
    t0=$(python3 -c 'import time; print(int(time.monotonic()*1000))')
    "$RC" --timeout 5s info >/dev/null || fail "info did not answer within 5 s"
    t=$(( $(python3 -c 'import time; print(int(time.monotonic()*1000))') - t0 ))
    [ "$t" -gt "$slowest" ] && slowest=$t
    for i in 1 2 3; do host_is host-$i online || fail "host-$i went offline under the fat hellos"; done
    sleep 0.5
done
for p in $senders; do wait $p; done
say "slowest info under the flood: $slowest ms"
off=$(sql "select count(*) from events where kind='offline' and host_id like 'host-%'")
[ "$off" = 0 ] || fail "$off offline event(s): $(sql "select host_id, detail from events where kind='offline' and host_id like 'host-%'")"
refused=$(info_field states_refused)
[ "$refused" -ge 10 ] || fail "only $refused oversized messages counted"
[ "$(sql "select count(*) from events where host_id='fat-1' and kind='refused' and detail like '%refused unread (limit 131072)%'")" = 1 ] \
    || fail "no event naming fat-1 for the oversized hello: $(sql "select * from events where kind='refused'")"
[ "$(sql "select count(*) from host_apps where host_id='fat-1'")" = 1 ] || fail "fat-1's apps were stored"
# 100 apps: small in bytes, over the count
out=$($F --kind hello --apps 100 --seq $seq)
echo "$out" | grep -q "status=2 reason=too many apps (100, limit 64)" || fail "100 apps not refused: $out"
say "ok"
