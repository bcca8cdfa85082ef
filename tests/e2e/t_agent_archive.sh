# t_agent_archive.sh - hostile archives (tests/e2e/hostile_archives.py)
# through `rollclone-agent apply`: a pax record that crashed the old tar
# reader, a hard link to a symlink that points outside, zip-slip, absolute
# and ".." names, writes through symlinks, device nodes and fifos, a path
# over 4095 bytes, a gzip bomb bounded by max_unpacked_bytes, a million
# entries. Each: FAILED in phase unpack with its reason, nothing written
# outside, nothing left half-made, current unchanged. A setuid file is
# unpacked with the bit dropped; zip and tar.zst artifacts are unpacked by
# content whatever their URL says, with their mtimes.
# rc-e2e: alone (heavy: unpacks 100000 files of a million-entry archive)
RC_AGENT_SETUP_SOURCED=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t_agent_setup.sh"
agent_config "max_unpacked_bytes = 10M"
health_server
make_release v1
expect_exit 0 agent apply --app web --version v1 --artifact "file://$T/art/v1.tgz" --soak 100ms
mkdir -p "$T/outside"
OUTSIDE=$T/outside/pwned
python3 "$(dirname "$0")/hostile_archives.py" "$T/art" "$OUTSIDE" || fail "cannot make the archives"

refused () { # ARTIFACT REASON
    ! grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T/last.out" ||
        fail "sanitizer report from the agent"
    v=bad-$(echo "$1" | tr -c 'A-Za-z0-9\n' -)
    start=$(date +%s)
    expect_exit 1 agent apply --app web --version "$v" --artifact "file://$T/art/$1" --soak 100ms
    took=$(( $(date +%s) - start ))
    grep "FAILED" "$T/last.out"
    grep -q "FAILED in phase unpack" "$T/last.out" || { cat "$T/last.out"; fail "$1 not refused in unpack"; }
    grep -q -- "$2" "$T/last.out" || { cat "$T/last.out"; fail "$1: reason '$2' not given"; }
    [ ! -e "$T/srv/releases/$v" ] || fail "$1: release dir left behind"
    [ ! -e "$T/srv/.incoming" ] || fail "$1: work files left behind"
    [ -z "$(ls -A "$T/outside")" ] || fail "$1: wrote outside: $(ls "$T/outside")"
    [ "$(current)" = releases/v1 ] || fail "$1: current is $(current)"
    [ ! -L "$T/srv/t" ] && [ ! -e "$T/srv/releases/t" ] || fail "$1: a link escaped"
}

say "the pax record '1 ' (five times: the old reader crashed in 13 of 20)"
for _ in 1 2 3 4 5; do refused pax.tar "malformed pax"; done
say "a hard link to an inside symlink that points outside"
refused hardlink.tar "hard link to 'a/b/c/d/s' refused"
say "zip-slip and an absolute name in a zip"
refused zipslip.zip "'..' refused"
refused zipabs.zip "absolute path"
say "absolute and '..' names in a tar"
refused abs.tar "absolute path"
refused dotdot.tar "'..' refused"
say "writes through a symlink"
refused through.tar "leaves the release"
refused through2.tar "symlink"
say "a device node and a fifo"
refused device.tar "character device refused"
refused fifo.tar "fifo refused"
say "a path over 4095 bytes"
refused longpath.tar "path longer than 4095 bytes"
say "a gzip bomb (100 MB of zeros) stops at max_unpacked_bytes = 10M"
refused bomb.tgz "max_unpacked_bytes = 10485760"
say "a million entries, refused at the entry limit"
refused million.tgz "more than [0-9]* entries"
[ "$took" -lt 120 ] || fail "a million entries took ${took}s to refuse"

say "setuid and setgid bits are dropped"
expect_exit 0 agent apply --app web --version suid --artifact "file://$T/art/setuid.tar" --soak 100ms
[ "$(stat -c %a "$T/srv/current/suid")" = 755 ] || fail "suid mode is $(stat -c %a "$T/srv/current/suid")"

say "formats by content: a zip and a tar.zst named .bin, mtimes kept"
mkdir -p "$T/z"
echo ok >"$T/z/health"
echo zipped >"$T/z/index.html"
touch -d 2001-02-03T04:05:06Z "$T/z/index.html"
(cd "$T/z" && zip -qr "$T/art/zip.bin" .)
tar --zstd -cf "$T/art/zst.bin" -C "$T/z" .
for v in zip zst; do
    expect_exit 0 agent apply --app web --version $v --artifact "file://$T/art/$v.bin" --soak 100ms
    [ "$(cat "$T/srv/current/index.html")" = zipped ] || fail "$v not unpacked"
    [ "$(stat -c %Y "$T/srv/current/index.html")" = 981173106 ] || fail "$v: mtime not kept"
done
say "ok"
