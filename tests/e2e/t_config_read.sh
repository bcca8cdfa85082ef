# t_config_read.sh - the agent's config is read as written: a ';' or '#'
# inside a hook command is part of it (whole-line comments still work); a
# comment after any other value (a blank before its '#' or ';') is cut, in
# the agent's and the coordinator's sections alike (the issue's [check]
# example); a
# line of 250 characters is one line, so a key hidden in its tail is never
# read as a key; a line over the limit (4096) is refused with FILE:LINE and
# exit 2, also by --check; two apps sharing one releases_dir (written two
# ways) are refused; a section name libinih would cut is refused.
RC_AGENT_SETUP_SOURCED=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t_agent_setup.sh"
make_release v1
# conf APP_LINES: an agent config with the given [app web] body
conf () {
    agent_config
    # keep [agent] (up to the blank line), then our app
    sed -n '1,/^$/p' "$T/agent.conf" >"$T/a.conf"
    printf '%s\n' "$1" >>"$T/a.conf"
    mv "$T/a.conf" "$T/agent.conf"
}
apply () { agent apply --app web --version v1 --artifact "file://$T/art/v1.tgz" --soak 100ms; }

say "a ';' and a '#' inside a hook command are part of it"
conf "; a whole-line comment
# another one
[app web]
releases_dir = srv
   ; an indented comment line
health_command = true
restart = echo 'one;two#three' >> $T/r.log ; echo second >> $T/r.log"
expect_exit 0 apply
grep -qx 'one;two#three' "$T/r.log" || fail "r.log: $(cat "$T/r.log")"
grep -qx 'second' "$T/r.log" || fail "the command after ' ; ' was dropped: $(cat "$T/r.log")"

say "a comment after a value (a blank before its '#' or ';') is no part of it, but in a command"
rm -rf "$T/srv" "$T/state" "$T/r.log"
conf "[app web]
releases_dir = srv    # where the releases go
keep_releases = 2 ; two rollback points
hook_timeout = 20s	# a tab before it
health_command = true
restart = echo 'x' >> $T/r.log # a shell comment, the shell's to read"
expect_exit 0 apply
[ -L "$T/srv/current" ] || fail "releases_dir was not 'srv': $(ls "$T")"
grep -qx 'x' "$T/r.log" || fail "r.log: $(cat "$T/r.log")"
# the issue's [check] example, comments and all, in a coordinator's config
mkdir -p "$T/c/agents" "$T/c/operators"
"$RC_BUILD/rollclone" keygen "$T/c/coordinator" >/dev/null
cat >"$T/c/coordinator.conf" <<'CONF'
[coordinator]
data_dir = data           # relative to this file
agent_endpoint = tcp://127.0.0.1:1
publish_endpoint = tcp://127.0.0.1:2
control_endpoint = tcp://127.0.0.1:3
secret_key = coordinator_secret
agent_keys_dir = agents
operator_keys_dir = operators

[check error-rate]
prometheus = http://127.0.0.1:9090
query = sum(rate(http_requests_total{code=~"5..",host="$HOST"}[1m])) / sum(rate(http_requests_total{host="$HOST"}[1m]))
max = 0.01
interval = 10s
failures = 2          # consecutive failing evaluations before the host fails

[webhook ops]
url = https://hooks.example.org/rollclone#ops   ; a '#' with no blank before it is the URL's
secret = s3cr#t
CONF
expect_exit 0 "$RC_BUILD/rollclone-coordinator" --check --config "$T/c/coordinator.conf"
sed -i 's/^failures = 2 .*/failures = 2#no blank: part of the value/' "$T/c/coordinator.conf"
expect_exit 2 "$RC_BUILD/rollclone-coordinator" --check --config "$T/c/coordinator.conf"
grep -q "failures" "$T/last.out" || fail "got: $(cat "$T/last.out")"

say "a 250-character line is read whole: its tail is no key"
rm -rf "$T/srv" "$T/state"
pad=$(printf '%0200d' 0)
# libinih's 200-byte buffer used to end the first piece just before 'restart'
long="install = echo \"$(printf '%.*s' $((199 - 16)) "$pad")restart = touch $T/INJECTED\" > $T/install.out"
[ ${#long} -gt 200 ] || fail "test line too short"
conf "[app web]
releases_dir = srv
health_command = true
$long"
expect_exit 0 apply
[ ! -e "$T/INJECTED" ] || fail "a key was injected from the tail of a long line"
grep -q "restart = touch $T/INJECTED\$" "$T/install.out" || fail "install ran cut: $(cat "$T/install.out")"

say "a line longer than the limit: exit 2 naming FILE:LINE, never split"
huge="install = true $(printf '%05000d' 0)
restart = touch $T/INJECTED"
conf "[app web]
releases_dir = srv
$huge"
line=$(grep -n '^install' "$T/agent.conf" | cut -d: -f1)
expect_exit 2 apply
grep -q "^rollclone-agent: $T/agent.conf:$line: line is 5015 characters long, longer than the 4096" \
    "$T/last.out" || fail "got: $(cat "$T/last.out")"
[ "$(wc -l <"$T/last.out")" = 1 ] || fail "error is not one line"
expect_exit 2 "$AGENT" --check --config "$T/agent.conf"
grep -q "$T/agent.conf:$line: line is" "$T/last.out" || fail "--check: $(cat "$T/last.out")"
[ ! -e "$T/INJECTED" ] || fail "a long line was split"

say "two apps with one releases_dir"
conf "[app web]
releases_dir = srv
health_command = true
[app shop]
health_command = true
releases_dir = $T/./srv/"
expect_exit 2 apply
grep -q "$T/agent.conf:14: \[app shop\] releases_dir = '$T/srv' overlaps \[app web\]'s releases_dir" \
    "$T/last.out" || fail "got: $(cat "$T/last.out")"
conf "[app web]
releases_dir = srv
[app shop]
releases_dir = srv/releases/x"
expect_exit 2 apply
grep -q "overlaps" "$T/last.out" || fail "nested releases_dir accepted: $(cat "$T/last.out")"
conf "[app web]
releases_dir = srv
[app shop]
releases_dir = srv2"
expect_exit 0 agent releases --app shop

say "a section name libinih would cut is refused"
conf "[app $(printf 'a%.0s' $(seq 1 50))]
releases_dir = srv"
expect_exit 2 agent releases --app web
grep -q "$T/agent.conf:9: section name is 54 characters long, longer than 49" "$T/last.out" ||
    fail "got: $(cat "$T/last.out")"
say "ok"
