# t_ci_docs.sh - the CI/CD examples of docs/ci.md work as written: the lines
# between `rc-ci: begin` and `rc-ci: end` are taken out of the GitHub
# Actions and the GitLab CI example (the two must be the same), and run as a
# job would run them: a real coordinator and agents with trusted_signers, an
# artifact store that takes PUT, the pipeline's own operator key. A good
# release passes the job (exit 0, JSON state succeeded), a broken one fails
# it (exit 1, rolled back), and the events name the pipeline's key.
. "$(dirname "$0")/lib.sh"
docs="$(cd "$(dirname "$0")/../.." && pwd)/docs/ci.md"

say "the documented lines, taken out of docs/ci.md"
# block N: the Nth block, its indentation removed
block () {
    awk -v want="$1" '
        /# rc-ci: begin/ { n++; if (n == want) { on = 1; match($0, /^ */); cut = RLENGTH }; next }
        /# rc-ci: end/ { on = 0; next }
        on { print substr($0, cut + 1) }' "$docs"
}
block 1 >"$T/github.sh"; block 2 >"$T/gitlab.sh"
[ "$(grep -c '# rc-ci: begin' "$docs")" = 2 ] || fail "docs/ci.md should hold two rc-ci blocks"
[ -s "$T/github.sh" ] || fail "no GitHub Actions block"
cmp -s "$T/github.sh" "$T/gitlab.sh" || { diff "$T/github.sh" "$T/gitlab.sh"; fail "the two examples drifted apart"; }
grep -q -- '--wait --json' "$T/github.sh" || fail "the block does not deploy --wait --json"

rc_fleet 2
P_ART=$(rc_port)
RC_ARTIFACT_SOURCES="http://127.0.0.1:$P_ART/"
mkdir -p "$T/signers" "$T/store"
for i in 1 2; do RC_APP_EXTRA="trusted_signers = $T/signers" rc_webapp "$i"; done
# the pipeline's operator key, named after its file
"$RC" keygen "$T/keys/ci-github.key" >/dev/null || fail "keygen"
cp "$T/keys/ci-github.key" "$T/keys/operators/ci-github.key"
"$RC" keygen --signing "$T/keys/release" >/dev/null || fail "keygen --signing"
cp "$T/keys/release" "$T/signers/release"
# an artifact store that takes PUT and serves GET (like Artifactory or Nexus raw)
rc_bg store python3 -c "
import functools, http.server, os
class H(http.server.SimpleHTTPRequestHandler):
    def do_PUT(self):
        name = os.path.basename(self.path)
        with open(os.path.join('$T/store', name), 'wb') as f:
            f.write(self.rfile.read(int(self.headers['Content-Length'])))
        self.send_response(201); self.end_headers()
http.server.ThreadingHTTPServer(('127.0.0.1', $P_ART), functools.partial(H, directory='$T/store')).serve_forever()"
rc_coord_start
rc_agent_start 1; rc_agent_start 2
wait_online 10 2 || fail "hosts not online"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$P_ART/" || fail "artifact store"

# job SCRIPT VERSION KIND: runs the block as the CI runner would, in a
# checkout whose build left release VERSION in dist/
job () {
    make_release "$2" "$3"
    rm -rf "$T/checkout"; mkdir -p "$T/checkout"; cp -r "$T/art/src-$2" "$T/checkout/dist"
    (
        cd "$T/checkout" || exit 99
        unset ROLLCLONE_CONFIG
        APP=web VERSION=$2 ARTIFACT_STORE="http://127.0.0.1:$P_ART" \
        ROLLCLONE_ENDPOINT="tcp://127.0.0.1:$P_CTL" \
        ROLLCLONE_COORDINATOR_KEY=$(sed -n 's/^ *public-key = "\(.*\)"/\1/p' "$T/keys/coordinator") \
        ROLLCLONE_OPERATOR_SECRET=$(cat "$T/keys/ci-github.key_secret") \
        ROLLCLONE_SIGNING_SECRET=$(cat "$T/keys/release_secret") \
        PATH="$RC_BUILD:$PATH" sh "$1"
    ) >"$T/job.out" 2>&1
}

# recorded STATE: the job's deployment.json says the deployment ended STATE
recorded () {
    python3 -c "import json, sys; sys.exit(json.load(open('$T/checkout/deployment.json'))['state'] != '$1')" \
        || { cat "$T/job.out"; fail "deployment.json does not say $1"; }
}

say "GitHub Actions block, a good release: the job passes"
job "$T/github.sh" v1 good; rc=$?
[ $rc = 0 ] || { cat "$T/job.out"; fail "the job of a good release exited $rc"; }
recorded succeeded
[ -f "$T/store/web-v1.tgz.sig" ] || fail "the signature was not published"
current_is 1 v1 && current_is 2 v1 || fail "v1 not live everywhere"
grep -q "host-1" "$T/job.out" || fail "the plan did not list the hosts"

say "GitLab CI block, a broken release (its install fails): the job fails with exit 1"
job "$T/gitlab.sh" v2 badinstall; rc=$?
[ $rc = 1 ] || { cat "$T/job.out"; fail "the job of a broken release exited $rc, not 1"; }
recorded rolled_back
current_is 1 v1 && current_is 2 v1 || fail "v1 not live again after the rollback"

say "the events name the pipeline's operator key"
"$RC" events --json --limit 1000 >"$T/events.json" || fail "events"
python3 -c "
import json, sys
ev = json.load(open('$T/events.json'))['events']
made = [e for e in ev if e['kind'] == 'deployment_created']
sys.exit(not made or any(e.get('operator') != 'ci-github' for e in made))" \
    || { cat "$T/events.json"; fail "deployment_created events do not name ci-github"; }
rc_webapp_cleanup
say "ok"
