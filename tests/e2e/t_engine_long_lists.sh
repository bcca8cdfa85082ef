# No list is cut at a fixed size: with 64-character versions (the longest
# a name may be) and keep_releases = 17, a deployment's report carries 17
# rollback points (1,104 characters joined, past the 1 KiB buffers the
# engine used to join them into): `hosts --json` and every `history` entry keep them all whole,
# and the oldest point is a valid `rollback --to` target.
. "$(dirname "$0")/lib.sh"
rc_fleet 1
cat >>"$T/agent-1.conf" <<CONF

[app big]
releases_dir = $T/agent-1/big
install = true
restart = true
health_command = true
health_interval = 100ms
keep_releases = 17
artifact_sources = file://$T/art/
CONF
ver () { printf 'v%02d-%060d' "$1" 0; }
mkdir -p "$T/art/src"
echo hello >"$T/art/src/index.html"
tar -czf "$T/art/a.tgz" -C "$T/art/src" .
sha=$(sha256sum "$T/art/a.tgz" | cut -d' ' -f1)
say "18 releases installed by the agent alone"
for i in $(seq 1 18); do
    "$RC_BUILD/rollclone-agent" --config "$T/agent-1.conf" apply --app big --version "$(ver "$i")" \
        --artifact "file://$T/art/a.tgz" --soak 100ms >>"$T/apply.log" 2>&1 || { tail "$T/apply.log"; fail "apply $i"; }
done
rc_coord_start
rc_agent_start 1
wait_for 30 host_is host-1 online || fail "host-1 not online"
# its first self health check passed: a host is never updated blind
healthy_1 () { [ "$(host_field host-1 healthy)" = true ]; }
wait_for 30 healthy_1 || fail "host-1 never healthy"
say "release 19 by a deployment: its report names 17 rollback points"
expect_exit 0 "$RC" deploy --app big --version "$(ver 19)" --artifact "file://$T/art/a.tgz" \
    --sha256 "$sha" --soak 100ms --wait
sleep 1 # a heartbeat or two after the report
"$RC" hosts --json >"$T/hosts.json"
"$RC" history host-1 --json >"$T/history.json"
python3 - "$T/hosts.json" "$T/history.json" <<'PY' || fail "rollback points cut"
import json, re, sys
want = ['v%02d-%060d' % (i, 0) for i in range(18, 1, -1)]
assert len(','.join(want)) > 1024
hosts = json.load(open(sys.argv[1]))
app = hosts[0]['apps']['big']
assert app['current'] == 'v19-%060d' % 0, app['current']
assert app['rollback_points'] == want, ('hosts', len(app['rollback_points']), app['rollback_points'][-2:])
hist = json.load(open(sys.argv[2]))
entries = hist['history']
assert hist['apps']['big']['rollback_points'] == want, ('history apps', len(hist['apps']['big']['rollback_points']))
assert entries, 'no history'
for e in entries:
    points = e['rollback_points']
    points = points.split(',') if isinstance(points, str) else points
    for p in points:
        assert p == '' or re.fullmatch(r'v\d\d-0{60}', p), ('history entry with a cut point', p)
last = [e for e in entries if e['version'] == 'v19-%060d' % 0][-1]
points = last['rollback_points']
points = points.split(',') if isinstance(points, str) else points
# written when the report or a heartbeat showed v19: before the agent pruned
# its 18th point, or after
assert points[:17] == want and len(points) in (17, 18), ('history', len(points), points[-2:])
print('17 points whole in hosts and history')
PY
say "the oldest of the 17 points is a rollback target"
expect_exit 0 "$RC" rollback --host host-1 --app big --to "$(ver 2)" --wait
wait_for 10 sh -c "\"$RC\" hosts --json | grep -q '\"current\": \"$(ver 2)\"'" || fail "host-1 not on $(ver 2)"
say ok
