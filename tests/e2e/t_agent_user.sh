# An app's `user`: its hooks run as that user (uid, gid and groups), while
# the agent itself stays root; an unknown user fails the step with nothing
# changed.
RC_AGENT_SETUP_SOURCED=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t_agent_setup.sh"
id nobody >/dev/null 2>&1 || { echo "no user 'nobody' on this machine"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root to switch users"; exit 77; }
chmod 755 "$T"
agent_config "user = nobody"
: >"$T/hooks.log"; chmod 666 "$T/hooks.log"
sed -i "s|^install = .*|install = echo \"\$(id -un):\$(id -gn) in \$PWD\" >> $T/hooks.log|" "$T/agent.conf"
health_server
make_release v1
expect_exit 0 agent apply --app web --version v1 --artifact "file://$T/art/v1.tgz" --soak 100ms
grep -q "^nobody:nogroup in $T/srv/releases/v1" "$T/hooks.log" || { cat "$T/hooks.log"; fail "install hook did not run as nobody"; }
[ "$(stat -c %U "$T/srv/releases/v1")" = root ] || fail "the agent's own files should stay root's"
say "hooks ran as nobody"

sed -i "s|^user = nobody|user = no-such-user-rc|" "$T/agent.conf"
make_release v2
expect_exit 1 agent apply --app web --version v2 --artifact "file://$T/art/v2.tgz" --soak 100ms
grep -q "no-such-user-rc" "$T/last.out" || { cat "$T/last.out"; fail "unknown user not named"; }
[ "$(current)" = releases/v1 ] || fail "current moved to $(current)"
say ok
