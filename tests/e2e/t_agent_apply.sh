# t_agent_apply.sh - rollclone-agent apply/rollback/releases alone, with real
# tarballs and a real HTTP health check: v1, v2 (v1 becomes the rollback
# point), v3 that never gets healthy (exit 1, back on v2 and healthy), a
# wrong sha256 over http (nothing changed), input errors (exit 2),
# keep_releases pruning, rollback and rollback --to.
RC_AGENT_SETUP_SOURCED=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t_agent_setup.sh"
agent_config
health_server
for v in v1 v2 v4 v5 v6; do make_release $v; done
make_release v3 sick

say "apply v1, then v2"
expect_exit 0 agent apply --app web --version v1 --artifact "file://$T/art/v1.tgz" --soak 200ms
cat "$T/last.out"
grep -q "SUCCEEDED" "$T/last.out" || fail "no SUCCEEDED line"
grep -q "health [0-9]*ms" "$T/last.out" || fail "no per-phase timings"
[ "$(current)" = releases/v1 ] || fail "current is $(current)"
healthy || fail "v1 not healthy"
expect_exit 0 agent apply --app web --version v2 --artifact "file://$T/art/v2.tgz" \
    --sha256 "$(sha "$T/art/v2.tgz")" --soak 200ms
[ "$(current)" = releases/v2 ] || fail "current is $(current)"
grep -q "install v2 in $T/srv/releases/v2" "$T/hooks.log" || fail "install hook not run in the release dir"
expect_exit 0 agent releases --app web
cat "$T/last.out"
grep -q "^v2	current" "$T/last.out" || fail "v2 not current"
grep -q "^v1	rollback point" "$T/last.out" || fail "v1 not a rollback point"

say "v3 never becomes healthy: put back on v2"
expect_exit 1 agent apply --app web --version v3 --artifact "file://$T/art/v3.tgz" \
    --soak 200ms --health-timeout 1s
cat "$T/last.out"
grep -q "FAILED in phase health" "$T/last.out" || fail "failure not reported with its phase"
[ "$(current)" = releases/v2 ] || fail "current is $(current) after failed v3"
[ ! -e "$T/srv/releases/v3" ] || fail "failed release v3 left behind"
healthy || fail "v2 not healthy after the revert"
tail -3 "$T/hooks.log" | grep -q "restart v2 prev=v3" || fail "v2 not restarted after the revert"
tail -1 "$T/hooks.log" | grep -q "undrain v2" || fail "not undrained after the revert"

say "wrong sha256 over http: nothing changed"
rc_bg art python3 -m http.server --bind 127.0.0.1 --directory "$T/art" "$(rc_port >"$T/art.port"; cat "$T/art.port")"
ART="http://127.0.0.1:$(cat "$T/art.port")"
wait_for 10 curl -sf "$ART/v4.tgz" -o /dev/null || fail "artifact server did not start"
before=$(ls "$T/srv/releases")
expect_exit 1 agent apply --app web --version v4 --artifact "$ART/v4.tgz" \
    --sha256 0000000000000000000000000000000000000000000000000000000000000000
grep -q "sha256 mismatch" "$T/last.out" || { cat "$T/last.out"; fail "mismatch not reported"; }
[ "$(current)" = releases/v2 ] || fail "current changed"
[ "$(ls "$T/srv/releases")" = "$before" ] || fail "releases changed"
[ ! -e "$T/srv/.incoming" ] || fail "download left behind"
say "unreachable URL: nothing changed"
expect_exit 1 agent apply --app web --version v4 --artifact "http://127.0.0.1:1/v4.tgz" \
    --sha256 "$(sha "$T/art/v4.tgz")"
[ "$(current)" = releases/v2 ] || fail "current changed"

say "bad input: exit 2, one line naming the field"
expect_exit 2 agent apply --app web --version ../x --artifact "file://$T/art/v4.tgz"
grep -q "version '../x'" "$T/last.out" || fail "bad version not named"
[ "$(wc -l <"$T/last.out")" = 1 ] || fail "more than one line"
expect_exit 2 agent apply --app nope --version v4 --artifact "file://$T/art/v4.tgz"
expect_exit 2 agent apply --app web --version v4 --artifact "ftp://h/v4.tgz"
grep -q "scheme" "$T/last.out" || fail "bad scheme not named"
expect_exit 2 agent apply --app web --version v4 --artifact "$ART/v4.tgz"
grep -q "sha256" "$T/last.out" || fail "missing sha256 for http not named"
expect_exit 2 agent apply --app web --version v4 --artifact "$ART/v4.tgz" --sha256 xyz
expect_exit 2 agent apply --app web --version v4 --artifact "$ART/v4.tgz" --soak forever
expect_exit 2 agent rollback --app web --to v9
[ "$(current)" = releases/v2 ] || fail "current changed"

say "over http, then pruning to keep_releases = 2"
for v in v4 v5 v6; do
    expect_exit 0 agent apply --app web --version $v --artifact "$ART/$v.tgz" \
        --sha256 "$(sha "$T/art/$v.tgz")" --soak 100ms
done
[ "$(current)" = releases/v6 ] || fail "current is $(current)"
[ "$(ls "$T/srv/releases" | sort | tr '\n' ' ')" = "v4 v5 v6 " ] || fail "pruned to: $(ls "$T/srv/releases")"

say "rollback to the previous release, then --to a named one"
expect_exit 0 agent rollback --app web --soak 100ms
[ "$(current)" = releases/v5 ] || fail "rollback went to $(current)"
expect_exit 0 agent releases --app web --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["current"]=="v5" and d["rollback_points"]==["v6","v4"], d' "$T/last.out" ||
    fail "releases --json after rollback: $(cat "$T/last.out")"
expect_exit 0 agent rollback --app web --to v4 --soak 100ms
[ "$(current)" = releases/v4 ] || fail "rollback --to went to $(current)"
healthy || fail "v4 not healthy"
say "apply of the live version is a no-op"
expect_exit 0 agent apply --app web --version v4 --artifact "$ART/v4.tgz" --sha256 "$(sha "$T/art/v4.tgz")"
[ -z "$(ls "$T/state/steps")" ] || fail "journal not cleared"
say "ok"
