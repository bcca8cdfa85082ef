# t_agent_setup.sh - the set-up shared by the t_agent_*.sh tests, which
# source it: an agent config for app "web" under $T, a health server
# (python3 http.server on 127.0.0.1 serving $T/srv, so GET /current/health
# is 200 exactly when the live release ships a "health" file), and release
# tarballs. Run alone (as the runner does), it checks the set-up itself:
# the config loads and an empty app has no releases.
if [ -z "${RC_AGENT_SETUP_SOURCED:-}" ]; then
    RC_AGENT_SETUP_SOURCED=1
    . "$(dirname "$0")/lib.sh"
fi
AGENT=$RC_BUILD/rollclone-agent

# agent_config [EXTRA_APP_LINES]: writes $T/agent.conf (keys made up: a
# local agent never connects, but the config requires them).
agent_config () {
    mkdir -p "$T/srv" "$T/state"
    cat >"$T/agent.key_secret" <<KEY
#   ZeroMQ CURVE **Secret** Certificate (test key, never used to connect)
metadata
curve
    public-key = "1111111111111111111111111111111111111111"
    secret-key = "2222222222222222222222222222222222222222"
KEY
    cat >"$T/agent.conf" <<CONF
[agent]
id = testhost
coordinator_endpoint = tcp://127.0.0.1:1
coordinator_publish_endpoint = tcp://127.0.0.1:2
coordinator_public_key = 3333333333333333333333333333333333333333
secret_key = agent.key_secret
state_dir = state

[app web]
releases_dir = srv
restart = echo "restart \$ROLLCLONE_VERSION prev=\$ROLLCLONE_PREVIOUS_VERSION" >> $T/hooks.log
drain = echo "drain \$ROLLCLONE_VERSION" >> $T/hooks.log
undrain = echo "undrain \$ROLLCLONE_VERSION" >> $T/hooks.log
install = echo "install \$ROLLCLONE_VERSION in \$PWD" >> $T/hooks.log
health_url = http://127.0.0.1:$HEALTH_PORT/current/health
health_interval = 100ms
hook_timeout = 10s
keep_releases = 2
${1:-}
CONF
}

# health_server: serves $T/srv on 127.0.0.1:$HEALTH_PORT until the test ends.
HEALTH_PORT=$(rc_port)
health_server () {
    rc_bg health python3 -m http.server --bind 127.0.0.1 --directory "$T/srv" "$HEALTH_PORT"
    wait_for 30 python3 -c "import socket; socket.create_connection(('127.0.0.1', $HEALTH_PORT))" ||
        fail "health server did not start"
}
healthy () { curl -sf "http://127.0.0.1:$HEALTH_PORT/current/health" >/dev/null; }

# make_release VERSION [sick]: $T/art/VERSION.tgz with an index file naming
# the version, and a health file unless "sick".
make_release () {
    mkdir -p "$T/art/$1"
    echo "$1" >"$T/art/$1/index.html"
    [ "${2:-}" = sick ] || echo ok >"$T/art/$1/health"
    tar -czf "$T/art/$1.tgz" -C "$T/art/$1" .
}
sha () { sha256sum "$1" | cut -d' ' -f1; }
current () { readlink "$T/srv/current"; }
agent () { "$AGENT" --config "$T/agent.conf" "$@"; }

if [ "${RC_AGENT_SETUP_SOURCED:-}" = 1 ] && [ "$(basename "$0")" = t_agent_setup.sh ]; then
    agent_config
    expect_exit 0 agent releases --app web
    grep -q "^-	current" "$T/last.out" || fail "empty app should have no current release"
    expect_exit 0 agent releases --app web --json
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["app"]=="web" and d["rollback_points"]==[]' "$T/last.out" ||
        fail "bad releases --json"
    expect_exit 2 agent releases --app nope
    grep -q "nope" "$T/last.out" || fail "unknown app not named"
    say "setup ok"
fi
