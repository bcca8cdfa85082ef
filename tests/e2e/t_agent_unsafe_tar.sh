# t_agent_unsafe_tar.sh - artifacts that try to write outside the release:
# "../" entries, absolute paths, a symlink out followed by a file through it.
# Each is refused, nothing is written outside, nothing is left half-unpacked,
# the live release is untouched. A plain file artifact is placed as is.
RC_AGENT_SETUP_SOURCED=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t_agent_setup.sh"
agent_config
health_server
make_release v1
expect_exit 0 agent apply --app web --version v1 --artifact "file://$T/art/v1.tgz" --soak 100ms

mkdir -p "$T/evil/a/b"
echo pwned >"$T/evil/a/escaped"
# ../ entries: made from inside a/b so the names keep their ..
(cd "$T/evil/a/b" && tar -czf "$T/art/dotdot.tgz" --absolute-names ../escaped ../../a/escaped)
tar -tzf "$T/art/dotdot.tgz" | grep -q '^\.\./escaped' || fail "tarball lacks ../ entries"
# a symlink pointing out, then a file written through it
mkdir -p "$T/evil/l1" "$T/evil/l2/out"
ln -s "$T/outside" "$T/evil/l1/out"
echo pwned >"$T/evil/l2/out/file"
tar -cf "$T/art/link.tar" -C "$T/evil/l1" out
tar -rf "$T/art/link.tar" -C "$T/evil/l2" out/file
# absolute names
tar -czPf "$T/art/abs.tgz" "$T/evil/a/escaped"

for art in dotdot.tgz link.tar abs.tgz; do
    say "$art"
    v=bad-${art%%.*}
    expect_exit 1 agent apply --app web --version "$v" --artifact "file://$T/art/$art" --soak 100ms
    cat "$T/last.out"
    grep -q "FAILED in phase unpack" "$T/last.out" || fail "$art not refused in unpack"
    [ ! -e "$T/srv/releases/$v" ] || fail "$art: release dir left behind"
    [ ! -e "$T/srv/.incoming" ] || fail "$art: work files left behind"
    [ ! -e "$T/outside" ] || fail "$art: wrote outside through a symlink"
    [ ! -e "$T/srv/escaped" ] && [ ! -e "$T/srv/releases/escaped" ] && [ ! -e "$T/escaped" ] ||
        fail "$art: wrote outside with ../"
    [ "$(current)" = releases/v1 ] || fail "$art: current is $(current)"
done
grep -rl pwned "$T/srv" && fail "a refused artifact left a file"

say "any other artifact is placed as is"
echo "binary" >"$T/art/app.bin"
sed -e '/^health_url/d' "$T/agent.conf" >"$T/nohealth.conf"
expect_exit 0 "$AGENT" --config "$T/nohealth.conf" apply --app web --version v2 \
    --artifact "file://$T/art/app.bin"
[ "$(cat "$T/srv/current/app.bin")" = binary ] || fail "artifact not placed as is"
say "ok"
