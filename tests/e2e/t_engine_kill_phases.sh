# Records match the disk. Each agent is killed (-9) in a different phase of
# its step and started again; the coordinator's record (`hosts --json`
# current release, the deployment's host state) must then match the
# agent's `current` symlink, every time:
#  1. update phases drain, fetch, unpack, install, switch, restart, health,
#     undrain (one host each, in parallel);
#  2. rollback phases drain, switch, restart, health, undrain.
# Hooks that sleep and a slow artifact server hold drain, fetch, install,
# restart and undrain open, the soak holds health; unpack and switch last
# milliseconds and are held open by the FAULT=1 test hook
# RC_FAULT_HOLD_DIR (the phase's work done, its end delayed: the kill
# lands after the release was placed, after current was switched). The
# agent's journal (read with rc_steprec) shows the phase.
# rc-e2e: alone (it holds each phase open for 5 s and must kill inside it)
. "$(dirname "$0")/lib.sh"
N=8
rc_fleet $N
rc_http_artifacts
for i in $(seq 1 $N); do rc_webapp $i; done
rc_coord_start
# agent_start I: agent I with its own hold directory (hold-PHASE-VERSION
# files hold that phase open for the milliseconds they hold)
agent_start () {
    mkdir -p "$T/agent-$1/hold"
    RC_FAULT_HOLD_DIR="$T/agent-$1/hold"; export RC_FAULT_HOLD_DIR
    rc_agent_start "$1"
    unset RC_FAULT_HOLD_DIR
}
for i in $(seq 1 $N); do agent_start $i; done
wait_online 30 $N || fail "hosts not online"
make_release v1; make_release v2; make_release v3; make_release v4
# artifacts over HTTP, each request held 2 s: the fetch phase is visible
rc_http_artifacts_serve 2
expect_exit 0 hdeploy v1 --batch 100% --soak 100ms --wait

# kill_at "I:PHASE ...": kill -9 agent I once its journal shows PHASE, all
# in parallel; then start them all again. One rc_steprec reads every
# journal per turn: under ASan each start of a tool costs.
kill_at () {
    left="$*"; end=$(( $(date +%s) + 90 ))
    while [ -n "$left" ] && [ "$(date +%s)" -le "$end" ]; do
        files=""
        for t in $left; do files="$files $T/agent-${t%%:*}/state/steps/web.pb"; done
        # shellcheck disable=SC2086
        "$RC_BUILD/rc_steprec" --phases $files >"$T/phases" 2>/dev/null
        next=""
        for t in $left; do
            i=${t%%:*}; p=${t#*:}
            if grep -qx "$T/agent-$i/state/steps/web.pb $p" "$T/phases"; then
                kill -9 "$(rc_pid agent-$i)"; echo "killed host-$i in $p"
            else next="$next $t"; fi
        done
        left=$next
        sleep 0.05
    done
    [ -z "$left" ] || fail "never saw:$left"
    sleep 1
    for t in $*; do agent_start "${t%%:*}"; done
}
# record == disk for every host of deployment $1
check () {
    "$RC" status "$1" --json >"$T/st.json"; "$RC" hosts --json >"$T/hosts.json"
    for i in $(seq 1 $N); do echo "host-$i $(basename "$(readlink "$T/agent-$i/web/current")")"; done >"$T/disk"
    python3 - "$T/st.json" "$T/hosts.json" "$T/disk" <<'PY'
import json, sys
st = json.load(open(sys.argv[1])); hosts = {h['id']: h for h in json.load(open(sys.argv[2]))}
disk = dict(l.split() for l in open(sys.argv[3]))
bad = []
for h in st['hosts']:
    d = disk[h['host']]
    rec = hosts[h['host']]['apps']['web']['current']
    frm, to, s = h['from'], h['to'], h['state']
    want = {'succeeded': to, 'failed': frm, 'rolled_back': frm, 'pending': frm, 'rollback_failed': to}.get(s)
    if st['kind'] == 'deploy' and s == 'rolled_back':
        want = frm
    if rec != d or want != d:
        bad.append('%s: state %s (%s -> %s), hosts says %s, disk %s' % (h['host'], s, frm, to, rec, d))
if bad:
    print('\n'.join(bad)); sys.exit(1)
PY
}

say "1: update, one agent killed in each phase"
echo 5 >"$T/agent-1/slow-drain-v2"; echo 5 >"$T/agent-3/slow-install-v2"
echo 5 >"$T/agent-4/slow-restart-v2"; echo 5 >"$T/agent-6/slow-undrain-v2"
echo 5000 >"$T/agent-7/hold/hold-unpack-v2"; echo 5000 >"$T/agent-8/hold/hold-switch-v2"
dep=$(hdeploy v2 --batch 100% --max-fail 100% --soak 3s --offline-grace 60s) || fail "deploy v2"
kill_at 1:drain 2:fetch 7:unpack 3:install 8:switch 4:restart 5:health 6:undrain
wait_ended 60 "$dep" || fail "1: deployment did not end"
rm -f "$T"/agent-*/slow-* "$T"/agent-*/hold/hold-*
wait_for 10 check "$dep" || { "$RC" status "$dep"; check "$dep"; fail "1: record differs from disk"; }
"$RC" status "$dep"

say "2: rollback, one agent killed in each phase"
# its rollback soaks 3 s too: the health phase is visible
expect_exit 0 hdeploy v3 --batch 100% --soak 3s --wait
dep=$(grep -m1 '^d-' "$T/last.out")
for i in 1 2 3 4 5; do wait_for 10 current_is $i v3 || fail "host-$i not on v3"; done
# hooks see the step's target: each host's release before v3 (v1 for
# hosts 1-5, which v2 left on v1; host 6 finished its undrain on v2)
echo 5 >"$T/agent-1/slow-drain-v1"; echo 5 >"$T/agent-2/slow-restart-v1"
echo 5 >"$T/agent-4/slow-undrain-v1"; echo 5000 >"$T/agent-5/hold/hold-switch-v1"
expect_exit 0 "$RC" rollback --deployment "$dep"
kill_at 1:drain 5:switch 2:restart 3:health 4:undrain
wait_ended 60 "$dep" || fail "2: rollback did not end"
rm -f "$T"/agent-*/slow-* "$T"/agent-*/hold/hold-*
wait_for 10 check "$dep" || { "$RC" status "$dep"; check "$dep"; fail "2: record differs from disk"; }
"$RC" status "$dep"

say ok
