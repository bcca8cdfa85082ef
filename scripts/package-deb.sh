#!/bin/sh
# package-deb.sh BUILD VERSION OUT - makes the rollclone-cli, rollclone-agent
# and rollclone-coordinator .debs in OUT from the binaries `make` built in
# BUILD, with debhelper (shlibs Depends, conffiles, systemd maintainer
# snippets). Called by `make deb` (packaging/packaging.mk).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/package-lib.sh"
pkg_setup package-deb "$@"

work=$build/pkg-work/deb
rm -rf "$work"
mkdir -p "$work/bin"
cp -R "$top/packaging/debian" "$work/debian"
cp "$top/packaging/systemd/"*.service "$work/debian/"
cp "$build/rollclone" "$build/rollclone-agent" "$build/rollclone-coordinator" "$work/bin/"
cp -R "$top/packaging/etc" "$top/packaging/libexec" "$top/packaging/monitoring" "$work/"
pkg_render_man "$top/packaging/man" "$work/man" "$version"
pkg_completions "$work/completion"

# The changelog is generated: VERSION is the one place the version lives.
cat >"$work/debian/changelog" <<EOC
rollclone ($version) unstable; urgency=medium

  * Upstream build of rollclone $version.

 -- rollclone developers <rollclone@example.org>  $(pkg_date_rfc2822)
EOC

cd "$work"
if [ "$(id -u)" = 0 ]; then
    PKG_OUT="$out" ./debian/rules binary
else
    PKG_OUT="$out" fakeroot ./debian/rules binary
fi
arch=$(dpkg --print-architecture)
for p in rollclone-cli rollclone-agent rollclone-coordinator; do
    f="$out/${p}_${version}_${arch}.deb"
    [ -f "$f" ] || { echo "package-deb: $f was not made" >&2; exit 1; }
    echo "package-deb: $f"
done
