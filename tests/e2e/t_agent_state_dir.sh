# An unusable state_dir (here a path under a regular file) is an error at
# once: `apply` exits 1 within 2 s naming the reason (it used to wait
# forever for an executor that never started), and the daemon exits
# non-zero instead of running without an executor.
RC_AGENT_SETUP_SOURCED=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t_agent_setup.sh"
agent_config
make_release v1
: >"$T/plainfile"
sed -i "s|^state_dir = .*|state_dir = $T/plainfile/state|" "$T/agent.conf"

start=$(date +%s%N)
expect_exit 1 timeout 10 "$AGENT" --config "$T/agent.conf" apply --app web --version v1 \
    --artifact "file://$T/art/v1.tgz" --soak 100ms
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cat "$T/last.out"
# it used to hang for good; 2 s is mostly process start on a loaded
# machine, which AddressSanitizer makes slower
limit=2000
ldd "$AGENT" 2>/dev/null | grep -q libasan && limit=6000
[ "$ms" -le "$limit" ] || fail "apply took ${ms} ms (limit $limit)"
grep -q "state_dir: cannot create $T/plainfile/state: Not a directory" "$T/last.out" || fail "reason not given"
[ ! -e "$T/srv/current" ] || fail "something was installed"
say "apply: exit 1 after ${ms} ms"

expect_exit 1 timeout 10 "$AGENT" --config "$T/agent.conf" recover
grep -q "cannot start the executor" "$T/last.out" || fail "recover: reason not given"

# the daemon as root needs its network side's user
sed -i 's/^\[agent\]$/[agent]\nuser = nobody/' "$T/agent.conf"
start=$(date +%s%N)
"$AGENT" --config "$T/agent.conf" >"$T/daemon.log" 2>&1 &
pid=$!
wait_for 5 sh -c "! kill -0 $pid 2>/dev/null" || { kill $pid; fail "daemon still running without an executor"; }
wait $pid; rc=$?
cat "$T/daemon.log"
[ $rc != 0 ] || fail "daemon exited 0"
grep -q "cannot start the executor: state_dir" "$T/daemon.log" || fail "daemon: reason not given"
say "daemon: exit $rc"
say ok
