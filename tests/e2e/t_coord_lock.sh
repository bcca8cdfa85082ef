# Two coordinators on one data_dir (different ports): the second exits 1
# naming the first's pid, and changes nothing; the lock goes with its
# holder, also after a kill -9 (no stale lock file to clean by hand).
. "$(dirname "$0")/lib.sh"
rc_fleet 1
rc_coord_start
pid1=$(rc_pid coordinator)
# the same config with other ports: only data_dir is shared
sed -e "s/:$P_AGENT\$/:$(rc_port)/" -e "s/:$P_PUB\$/:$(rc_port)/" -e "s/:$P_CTL\$/:$(rc_port)/" \
    "$T/coordinator.conf" >"$T/second.conf"
grep -q "$P_CTL" "$T/second.conf" && fail "second config still uses the first's ports"
before=$(sql "select count(*) from events")
# bounded: a second coordinator that does start is killed by timeout
timeout 10 "$RC_BUILD/rollclone-coordinator" --config "$T/second.conf" >"$T/second.log" 2>&1
rc=$?
cat "$T/second.log"
[ $rc = 1 ] || fail "second coordinator exited $rc, expected 1"
grep -q "data_dir $T/coord-data is in use by pid $pid1" "$T/second.log" || fail "no 'in use by pid $pid1' message"
[ "$(sql "select count(*) from events")" = "$before" ] || fail "the second coordinator wrote events"
"$RC" info >/dev/null || fail "first coordinator hurt"

# the lock dies with its holder, even a killed one
rc_coord_kill9
rc_bg second "$RC_BUILD/rollclone-coordinator" --config "$T/second.conf"
P_CTL2=$(sed -n 's/^control_endpoint = tcp:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$T/second.conf")
sed "s/:$P_CTL\$/:$P_CTL2/" "$T/client.conf" >"$T/client2.conf"
wait_for 10 "$RC" --config "$T/client2.conf" --timeout 1s info || { cat "$T/second.log"; fail "second coordinator did not start after the first was killed"; }
[ "$(cat "$T/coord-data/coordinator.lock")" = "$(rc_pid second)" ] || fail "lock file does not name the holder"
# and the first, started again, is now the one refused
expect_exit 1 "$RC_BUILD/rollclone-coordinator" --config "$T/coordinator.conf"
grep -q "in use by pid $(rc_pid second)" "$T/last.out" || fail "restart not refused: $(cat "$T/last.out")"
say ok
