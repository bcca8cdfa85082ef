# t_config_read.sh - the agent's config is read as written: a ';' or '#'
# inside a hook command is part of it (whole-line comments still work); a
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
