# The agent daemon is two processes: the executor stays root, the network
# side (the one holding the TCP connections to the coordinator) runs as
# [agent] user with no capabilities, no_new_privs and no exec. Killing
# either makes the daemon exit non-zero; SIGTERM still stops it cleanly
# (exit 0); a user that does not exist is a config error (exit 2).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "no user 'nobody' on this machine"; exit 77; }
command -v ss >/dev/null || { echo "no ss"; exit 77; }
rc_fleet 1
rc_coord_start

# status_field PID FIELD: a line of /proc/PID/status, without its name
status_field () { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' ' | sed 's/ $//'; }
net_side () { pgrep -P "$1" -x rollclone-agent; }
# conn_pids: pids of processes holding a TCP connection to the coordinator
conn_pids () { ss -tnpH state established "( dport = :$P_AGENT )" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u; }

start_agent () {
    rc_agent_start 1
    wait_for 30 host_is host-1 online || { cat "$T/agent-1.log"; fail "agent never came online"; }
    parent=$(rc_pid agent-1)
    child=$(net_side "$parent")
    [ -n "$child" ] || fail "no network side process under $parent"
}

start_agent
say "executor $parent, network side $child"
# threads (issue 13): the executor's ZeroMQ context has no I/O thread (its
# only sockets are the actor's inproc pipes); the network side's has one
threads () { cat /proc/"$1"/task/*/comm 2>/dev/null | tr '\n' ' '; }
case " $(threads "$parent")" in *" ZMQbg/IO"*) fail "executor has a ZeroMQ I/O thread: $(threads "$parent")" ;; esac
case " $(threads "$child")" in *" ZMQbg/IO"*) ;; *) fail "network side without an I/O thread: $(threads "$child")" ;; esac
[ "$(status_field "$parent" Uid)" = "0 0 0 0" ] || fail "executor uid: $(status_field "$parent" Uid)"
nobody=$(id -u nobody)
[ "$(status_field "$child" Uid)" = "$nobody $nobody $nobody $nobody" ] || fail "network side uid: $(status_field "$child" Uid)"
[ "$(status_field "$child" Groups)" = "$(id -g nobody)" ] || fail "network side groups: $(status_field "$child" Groups)"
for cap in CapInh CapPrm CapEff CapBnd CapAmb; do
    [ "$(status_field "$child" $cap)" = 0000000000000000 ] || fail "network side $cap: $(status_field "$child" $cap)"
done
[ "$(status_field "$child" NoNewPrivs)" = 1 ] || fail "network side without no_new_privs"
[ "$(status_field "$child" Seccomp)" = 2 ] || fail "network side without its seccomp filter"
wait_for 5 sh -c "[ -n \"\$(ss -tnpH state established '( dport = :$P_AGENT )')\" ]" || fail "no connection to the coordinator"
[ "$(conn_pids)" = "$child" ] || fail "connection to the coordinator held by '$(conn_pids)', not by $child"
say "network side: uid $nobody, no capabilities, holds the coordinator connection; executor: root"

say "kill -9 the network side: the daemon exits non-zero"
kill -9 "$child"
wait_for 10 sh -c "! kill -0 $parent 2>/dev/null" || fail "executor still running after its network side died"
wait "$parent"; rc=$?
[ $rc != 0 ] || fail "daemon exited 0 after losing its network side"
grep -q "network side (pid $child) is gone" "$T/agent-1.log" || fail "not logged"
wait_for 15 host_is host-1 offline || fail "host still online"

say "kill -9 the executor: the network side notices and exits"
start_agent
kill -9 "$parent"
wait_for 10 sh -c "! kill -0 $child 2>/dev/null" || fail "network side still running after the executor died"
grep -q "executor process is gone" "$T/agent-1.log" || fail "network side did not say why it stopped"

say "SIGTERM: both stop, exit 0"
start_agent
kill -TERM "$parent"
wait_for 10 sh -c "! kill -0 $parent 2>/dev/null" || fail "did not stop on SIGTERM"
wait "$parent"; rc=$?
[ $rc = 0 ] || fail "SIGTERM: exit $rc"
kill -0 "$child" 2>/dev/null && fail "network side left running"

say "a user that does not exist: exit 2, named"
sed -i 's/^user = .*/user = no-such-user-rc/' "$T/agent-1.conf"
expect_exit 2 timeout 10 "$RC_BUILD/rollclone-agent" --config "$T/agent-1.conf"
grep -q "user = 'no-such-user-rc': no such user" "$T/last.out" || { cat "$T/last.out"; fail "reason not given"; }
say ok
