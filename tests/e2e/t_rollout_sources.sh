# t_rollout_sources.sh - which artifacts an agent accepts from a coordinator
# (issue 8): `deploy --artifact file:///etc/shadow` used to put the shadow
# file into releases/<v>/ on every host, world-readable, and report
# SUCCEEDED. Now sha256 is required (the CLI and the agent refuse without),
# and the agent takes only URLs under its app's artifact_sources: no file
# from outside an allowed source is ever placed, the step fails naming the
# URL and the allowlist, and `current` does not move.
. "$(dirname "$0")/lib.sh"
rc_fleet 1
rc_webapp 1
rc_coord_start
rc_agent_start 1
wait_for 10 host_is host-1 online || fail "host-1 not online"
make_release v1
expect_exit 0 deploy v1 --soak 100ms --wait
current_is 1 v1 || fail "v1 not live"
web="$T/agent-1/web"

# refused: deployment failed, the host's error names URL and allowlist,
# current still v1, no release directory for the version
refused () {
    v=$1; url=$2
    dep=$(grep -m1 '^d-' "$T/last.out")
    [ -n "$dep" ] || fail "no deployment id for $url"
    # one status read (python3 starts slowly on a loaded machine)
    "$RC" status "$dep" --json >"$T/status.json" || fail "status $dep"
    st=$(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
print(d['state']); print([h['error'] for h in d['hosts'] if h['host'] == 'host-1'][0])" "$T/status.json")
    state=$(echo "$st" | head -1); err=$(echo "$st" | tail -n +2)
    case "$state" in running|paused|rolling_back|succeeded) fail "$url: deployment $state" ;; esac
    case "$err" in *"$url"*) ;; *) fail "error does not name the URL: $err" ;; esac
    case "$err" in *"artifact_sources"*) ;; *) fail "error does not name the allowlist: $err" ;; esac
    [ ! -e "$web/releases/$v" ] || fail "releases/$v was created for $url"
    [ "$(readlink "$web/current")" = releases/v1 ] || fail "current moved: $(readlink "$web/current")"
}

say "the shadow copy: sha256 is required by deploy"
secret=/etc/shadow; [ -r "$secret" ] || secret=/etc/passwd
expect_exit 2 "$RC" deploy --app web --version s1 --artifact "file://$secret"
grep -q -- "--sha256" "$T/last.out" || fail "no reason given: $(cat "$T/last.out")"
[ "$(wc -l <"$T/last.out")" = 1 ] || fail "not one line: $(cat "$T/last.out")"

say "with its right sha256 the agent still refuses a file outside artifact_sources"
expect_exit 1 "$RC" deploy --app web --version s1 --artifact "file://$secret" \
    --sha256 "$(sha256sum "$secret" | cut -d' ' -f1)" --soak 100ms --health-timeout 5s --wait
refused s1 "file://$secret"
find "$web" -type f -exec cmp -s "$secret" {} \; -print | grep -q . && fail "the secret file was placed"

say "an http source that is not listed"
mkdir -p "$T/www"; cp "$T/art/v1.tgz" "$T/www/w1.tgz"
PW=$(rc_port)
rc_bg www python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$PW"
wait_for 10 curl -sf "http://127.0.0.1:$PW/w1.tgz" -o /dev/null || fail "http server did not start"
expect_exit 1 "$RC" deploy --app web --version w1 --artifact "http://127.0.0.1:$PW/w1.tgz" \
    --sha256 "$(cat "$T/art/v1.sha")" --soak 100ms --health-timeout 5s --wait
refused w1 "http://127.0.0.1:$PW/w1.tgz"

say "a symlink inside the allowed directory leads nowhere else"
mkdir -p "$T/outside"; cp "$T/art/v1.tgz" "$T/outside/x1.tgz"
ln -s "$T/outside" "$T/art/link"
expect_exit 1 "$RC" deploy --app web --version x1 --artifact "file://$T/art/link/x1.tgz" \
    --sha256 "$(cat "$T/art/v1.sha")" --soak 100ms --health-timeout 5s --wait
refused x1 "file://$T/art/link/x1.tgz"

say "URLs that spell their way out of the prefix are refused before any agent sees them"
sha=$(cat "$T/art/v1.sha")
for url in "file://$T/art/../outside/x1.tgz" "file://$T/art/%2e%2e/outside/x1.tgz" \
    "file://$T/art/%2E%2E/outside/x1.tgz" "file://$T/art//x1.tgz" "file://$T/art/.%2e/outside/x1.tgz" \
    "file://$T/art/%2f../outside/x1.tgz" "https://artifacts.example@127.0.0.1:$PW/w1.tgz" \
    "file://evil$T/art/v1.tgz" "file://$T/art/v1.tgz#x"; do
    expect_exit 2 "$RC" deploy --app web --version e1 --artifact "$url" --sha256 "$sha"
    [ "$(wc -l <"$T/last.out")" = 1 ] || fail "not one line for $url: $(cat "$T/last.out")"
done
[ "$(readlink "$web/current")" = releases/v1 ] || fail "current moved"

say "a sibling directory with the same name start is not under the prefix"
mkdir -p "$T/art-evil"; cp "$T/art/v1.tgz" "$T/art-evil/y1.tgz"
expect_exit 1 "$RC" deploy --app web --version y1 --artifact "file://$T/art-evil/y1.tgz" \
    --sha256 "$sha" --soak 100ms --health-timeout 5s --wait
refused y1 "file://$T/art-evil/y1.tgz"

rc_webapp_cleanup
echo PASS
