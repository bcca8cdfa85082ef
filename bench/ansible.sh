#!/bin/sh
# ansible.sh - make bench's side-by-side: the same 50-host rolling update by
# rollclone and by ansible-playbook, on one machine. The work per host is
# the same for both: unpack a .tgz release into releases/<version>, switch
# the `current` symlink, restart the app (a real process per host:
# bench/rc_benchweb on the host's own port, the old one killed, as in
# bench/zerodowntime.sh), then an HTTP health check until it answers 200;
# in batches of 5.
#   rollclone: a coordinator and 50 real agents on loopback (tests/e2e/
#     lib.sh: own keys, state dirs, configs), `rollclone deploy --batch 5
#     --soak 1ms --wait`, health_url polled every BENCH_HEALTH_INTERVAL
#     (200ms).
#   Ansible: 50 inventory hosts with ansible_connection=local, a play with
#     `serial: 5`, gather_facts off, the default 5 forks: file (release
#     dir), unarchive (remote_src), file (state=link), command (the same
#     restart script), uri until 200 (delay 1: Ansible's retry delay is
#     whole seconds).
# Both start from v1 installed; ANSIBLE_PAIRS (3) interleaved pairs (the
# order alternates) each update both fleets to the next version. Prints
# each run and the ratio of the medians. ansible-core is installed from
# Debian when missing (apt-get; not a build dependency); without it the
# part says why it is skipped. BENCH_ONLY=ansible runs it alone.
# ANSIBLE_SIDES=rollclone runs only rollclone's side (ANSIBLE_PAIRS runs,
# no Ansible, no ratio): for measuring rollclone's per-batch time alone;
# ANSIBLE_SIDES=ansible only Ansible's; both (the default) the side-by-side.
# RC_KEEP=1 keeps the files (agents' logs, the coordinator's database).
# Each rollclone run also prints the CPU its daemons used (coordinator,
# agents and their network sides; not the hooks or the web apps) and where
# its time went: per batch, each phase's median (the agents' timings), and
# per host the time outside its phases (instruction to agent, report back).
set -u
case ${BENCH_ONLY:-} in '' | ansible) ;; *) exit 0 ;; esac
SIDES=${ANSIBLE_SIDES:-both}
case $SIDES in both | rollclone | ansible) ;; *) echo "bench: ANSIBLE_SIDES=$SIDES: not both, rollclone or ansible" >&2; exit 2 ;; esac
side () { [ "$SIDES" = both ] || [ "$SIDES" = "$1" ]; }
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
if side ansible && ! command -v ansible-playbook >/dev/null 2>&1; then
    echo "bench: installing ansible-core (Debian) for the side-by-side"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ansible-core >/dev/null 2>&1 ||
        { echo "bench: ansible side-by-side skipped: ansible-core is not installed and apt-get could not install it"; exit 0; }
fi
RC_BUILD=${RC_BUILD:-$top/build}
RC_HB=500ms
RC_OFFLINE=5s
export RC_BUILD RC_HB RC_OFFLINE
. "$top/tests/e2e/lib.sh"
N=${ANSIBLE_HOSTS:-50}
PAIRS=${ANSIBLE_PAIRS:-3}
WEB="$RC_BUILD/rc_benchweb"
[ -x "$WEB" ] || fail "no $WEB (make)"
ms () { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
median () { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# restart_script DIR PORT: DIR/restart.sh, the one restart of both sides.
# The old server is gone once it has exited: a zombie counts as gone (its
# port is free). The server is an orphan, reaped by PID 1; systemd reaps at
# once, but a container's init may take 1.5 s (measured here), and waiting
# for that made "restart" 1.7 s per host on both sides. The wait reads the
# state with the shell's own `read` and sleeps 10 ms a turn (the server exits
# in ~5 ms), not a `cut` and a `seq` in subshells and 50 ms a turn: the work
# is the kill, the exit and the start, not the script's own forks.
restart_script () {
    cat >"$1/restart.sh" <<SH
if [ -f "$1/server.pid" ]; then
    read -r old <"$1/server.pid"
    kill "\$old" 2>/dev/null
    n=0
    while [ \$n -lt 200 ] && read -r _ _ st _ 2>/dev/null <"/proc/\$old/stat" && [ "\$st" != Z ]; do
        sleep 0.01
        n=\$((n + 1))
    done
fi
"$WEB" --port $2 --dir "$1/web/current" --startup-delay 0s >>"$1/server.log" 2>&1 </dev/null &
echo \$! >"$1/server.pid"
SH
}

say "files in $T; releases v1..v$((PAIRS + 1))"
r=1 # (make_release sets v)
while [ $r -le $((PAIRS + 1)) ]; do make_release "v$r"; r=$((r + 1)); done

if side rollclone; then
    say "rollclone: a coordinator and $N agents"
    rc_fleet "$N"
    i=1
    while [ $i -le "$N" ]; do
        dir="$T/agent-$i"; port=$(rc_port)
        restart_script "$dir" "$port"
        cat >>"$T/agent-$i.conf" <<CONF

[app web]
releases_dir = $dir/web
restart = sh $dir/restart.sh
health_url = http://127.0.0.1:$port/health
health_interval = ${BENCH_HEALTH_INTERVAL:-200ms}
hook_timeout = 20s
artifact_sources = file://$T/art/
CONF
        i=$((i + 1))
    done
    rc_coord_start
    i=1
    while [ $i -le "$N" ]; do rc_agent_start $i; i=$((i + 1)); done
    wait_for 120 sh -c "[ \"\$('$RC' info --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"agents_online\"])')\" = $N ]" ||
        fail "$N agents not online"
    deploy v1 --batch 100% --soak 1ms --wait >"$T/v1.out" 2>&1 || { cat "$T/v1.out"; fail "rollclone v1"; }
    # the agents' network sides (the daemons' own CPU is both processes')
    NET_PIDS=""
    i=1
    while [ $i -le "$N" ]; do NET_PIDS="$NET_PIDS $(net_pid $i)"; i=$((i + 1)); done

fi

if side ansible; then
    say "ansible: $N inventory hosts, ansible_connection=local"
    mkdir -p "$T/ans"
    {
        echo "[fleet]"
        i=1
        while [ $i -le "$N" ]; do
            dir="$T/ans/host-$i"; port=$(rc_port)
            mkdir -p "$dir/web/releases/v1"
            restart_script "$dir" "$port"
            tar -xzf "$T/art/v1.tgz" -C "$dir/web/releases/v1"
            ln -s releases/v1 "$dir/web/current"
            sh "$dir/restart.sh"
            echo "host-$i dir=$dir port=$port"
            i=$((i + 1))
        done
        echo "[fleet:vars]"
        echo "ansible_connection=local"
        echo "ansible_python_interpreter=/usr/bin/python3"
    } >"$T/ans/inventory"
    cat >"$T/ans/rollout.yml" <<'YML'
- hosts: fleet
  serial: 5
  gather_facts: false
  tasks:
    - name: release directory
      file: {path: "{{ dir }}/web/releases/{{ version }}", state: directory}
    - name: unpack the release
      unarchive: {src: "{{ artifact }}", dest: "{{ dir }}/web/releases/{{ version }}", remote_src: true}
    - name: switch current
      file: {src: "releases/{{ version }}", dest: "{{ dir }}/web/current", state: link, force: true}
    - name: restart
      command: sh {{ dir }}/restart.sh
    - name: health check
      uri: {url: "http://127.0.0.1:{{ port }}/health"}
      register: health
      until: health.status == 200
      retries: 60
      delay: 1
YML
    ANSIBLE_LOCAL_TEMP=$T/ans/tmp ANSIBLE_REMOTE_TEMP=$T/ans/rtmp ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
    export ANSIBLE_LOCAL_TEMP ANSIBLE_REMOTE_TEMP ANSIBLE_NOCOLOR ANSIBLE_RETRY_FILES_ENABLED
    wait_for 30 curl -sf -o /dev/null "http://127.0.0.1:$(awk '/^host-1 / {sub("port=", "", $3); print $3}' "$T/ans/inventory")/health" ||
        fail "the ansible side's apps did not start"
fi

# cpu_ms PID...: user + system CPU of those processes so far, in ms
cpu_ms () { python3 -c '
import os, sys
hz = os.sysconf("SC_CLK_TCK"); t = 0
for p in sys.argv[1:]:
    try: f = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()
    except OSError: continue
    t += int(f[11]) + int(f[12])
print(t * 1000 // hz)' "$@"; }
# where one rollout's time went, from the coordinator's records: per batch
# (first start to last finish), each phase's median over the hosts (the
# agents' own timings), and per host what is outside its phases (the
# instruction's way to the agent and the report's back)
breakdown () { python3 -c '
import sqlite3, statistics as st, sys
db = sqlite3.connect("file:%s/coord-data/coordinator.db?mode=ro" % sys.argv[1], uri=True)
dep = db.execute("SELECT id FROM deployments WHERE version = ?", (sys.argv[2],)).fetchone()[0]
rows = db.execute("SELECT batch, started, finished, timings FROM deployment_hosts WHERE deployment_id = ?", (dep,)).fetchall()
batches, phases, outside = {}, {}, []
for b, s, f, t in rows:
    batches.setdefault(b, []).append((s, f))
    d = dict(x.split("=") for x in t.split(",") if "=" in x)
    for k, v in d.items(): phases.setdefault(k, []).append(int(v))
    outside.append(f - s - sum(int(v) for v in d.values()))
bt = [max(f for _, f in v) - min(s for s, _ in v) for v in batches.values()]
print("batch median %d ms; phase medians %s; outside the phases %d ms" % (st.median(bt),
      ", ".join("%s %g" % (k, st.median(v)) for k, v in phases.items()), st.median(outside)))' "$T" "$1"; }
run_rollclone () {
    c0=$(cpu_ms $RC_PIDS $NET_PIDS)
    t=$(ms)
    deploy "$1" --batch 5 --soak 1ms --wait >"$T/rc-$1.out" 2>&1 || { cat "$T/rc-$1.out"; fail "rollclone $1"; }
    took=$(( $(ms) - t ))
    cpu=$(( $(cpu_ms $RC_PIDS $NET_PIDS) - c0 ))
    own=$(sql "SELECT finished - created FROM deployments WHERE version = '$1'")
    echo "$took" >>"$T/rc_ms"
    say "rollclone $1: $took ms (coordinator's created -> finished $own ms; CPU of the coordinator and agents $cpu ms), load $(cut -d' ' -f1 /proc/loadavg)"
    say "rollclone $1: $(breakdown "$1")"
}
run_ansible () {
    t=$(ms)
    # in the background, so that an interrupt ends the bench (and its clean-up
    # the playbook) at once: sh runs a trap only once a foreground child ended
    ansible-playbook -i "$T/ans/inventory" "$T/ans/rollout.yml" -e "version=$1 artifact=$T/art/$1.tgz" \
        >"$T/ans-$1.out" 2>&1 &
    wait $! || { tail -30 "$T/ans-$1.out"; fail "ansible-playbook $1"; }
    took=$(( $(ms) - t ))
    echo "$took" >>"$T/ans_ms"
    say "ansible-playbook $1: $took ms, load $(cut -d' ' -f1 /proc/loadavg)"
}

if side ansible; then against="against $(ansible-playbook --version | head -1), $PAIRS interleaved pairs"; else against="alone (ANSIBLE_SIDES=$SIDES), $PAIRS runs"; fi
echo "bench: $N hosts in batches of 5 (unpack, symlink switch, restart, HTTP health), rollclone $(git -C "$top" rev-parse --short HEAD 2>/dev/null) $against, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$SIDES" = ansible ] && echo "bench: ANSIBLE_SIDES=ansible: rollclone's side skipped"
p=1
while [ $p -le "$PAIRS" ]; do
    v="v$((p + 1))"
    if [ "$SIDES" != both ]; then
        if side rollclone; then run_rollclone "$v"; else run_ansible "$v"; fi
    elif [ $((p % 2)) = 1 ]; then run_ansible "$v"; run_rollclone "$v"; else run_rollclone "$v"; run_ansible "$v"; fi
    p=$((p + 1))
done
# every host of both sides serves the last version
last="v$((PAIRS + 1))"
i=1
while [ $i -le "$N" ]; do
    ! side rollclone || [ "$(readlink "$T/agent-$i/web/current")" = "releases/$last" ] || fail "agent-$i is not at $last"
    ! side ansible || [ "$(readlink "$T/ans/host-$i/web/current")" = "releases/$last" ] || fail "ansible host-$i is not at $last"
    i=$((i + 1))
done
echo "| figure | measured | goal |"
echo "|---|---|---|"
! side rollclone || { rc=$(median <"$T/rc_ms"); echo "| rollclone, median of $PAIRS | $rc ms | |"; }
! side ansible || { an=$(median <"$T/ans_ms"); echo "| ansible-playbook, median of $PAIRS | $an ms | |"; }
[ "$SIDES" != both ] || echo "| ratio of the medians | $(python3 -c "print('%.0f×' % ($an / $rc))") | ≥ 100× |"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
