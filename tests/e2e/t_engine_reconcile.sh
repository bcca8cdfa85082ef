# Reconciliation: an agent killed in its undrain phase comes back only
# after its deployment gave it up (rollback_failed: offline); restarted, it
# finishes the step and runs the new release. Its hello is reconciled
# (event host_reconciled), the deployment reopens and rolls it back, and the
# record matches the disk.
. "$(dirname "$0")/lib.sh"
N=1
rc_fleet $N
rc_http_artifacts
for i in $(seq 1 $N); do rc_webapp $i; done
rc_coord_start
for i in $(seq 1 $N); do rc_agent_start $i; done
wait_online 30 $N || fail "hosts not online"
make_release v1; make_release v2; make_release v3; make_release v4
# artifacts over HTTP, each request held 2 s: the fetch phase is visible
rc_http_artifacts_serve 2
expect_exit 0 hdeploy v1 --batch 100% --soak 100ms --wait
expect_exit 0 hdeploy v3 --batch 100% --soak 100ms --wait

# the phase in the agent's step record (a StepRecord, read by rc_steprec)
in_phase () { [ "$("$RC_BUILD/rc_steprec" "$T/agent-$1/state/steps/web.pb" phase 2>/dev/null)" = "$2" ]; }
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

echo 3 >"$T/agent-1/slow-undrain-v4"
dep=$(hdeploy v4 --select n=1 --soak 100ms --offline-grace 1s --progress-deadline 3s) || fail "deploy v4"
wait_for 20 in_phase 1 undrain || fail "3: never in undrain"
kill -9 "$(rc_pid agent-1)"
wait_ended 30 "$dep" || fail "3: deployment did not end"
dep_state_is "$dep" rollback_failed || { "$RC" status "$dep"; fail "3: expected rollback_failed while away"; }
rm -f "$T"/agent-*/slow-*
rc_agent_start 1
wait_for 30 sh -c "\"$RC\" events $dep | grep -q host_reconciled" || { "$RC" events "$dep"; fail "3: not reconciled"; }
wait_for 30 dep_state_is "$dep" rolled_back || { "$RC" status "$dep"; fail "3: not rolled back again"; }
wait_for 10 check "$dep" || { check "$dep"; fail "3: record differs from disk"; }
say ok
