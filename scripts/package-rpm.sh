#!/bin/sh
# package-rpm.sh BUILD VERSION OUT - makes the rollclone-cli, rollclone-agent
# and rollclone-coordinator .rpms in OUT from the binaries `make` built in
# BUILD, with packaging/rpm/rollclone.spec. Requires are found by rpmbuild
# from the binaries' sonames. Called by `make rpm` (packaging/packaging.mk).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/package-lib.sh"
pkg_setup package-rpm "$@"

work=$build/pkg-work/rpm
rm -rf "$work"
mkdir -p "$work/stage/bin" "$work/top"
stage=$work/stage
cp "$build/rollclone" "$build/rollclone-agent" "$build/rollclone-coordinator" "$stage/bin/"
# rpm on Debian does not strip binaries (brp-strip is Fedora's): do it here.
strip --strip-unneeded "$stage/bin/"*
cp -R "$top/packaging/etc" "$top/packaging/libexec" "$top/packaging/systemd" "$top/packaging/monitoring" "$stage/"
pkg_render_man "$top/packaging/man" "$stage/man" "$version"
pkg_completions "$stage/completion"
# Compressed as Fedora's brp-compress would, which Debian's rpm lacks.
gzip -n -9 "$stage/man/"*

SOURCE_DATE_EPOCH=$(pkg_date_epoch) rpmbuild -bb --quiet \
    --define "_topdir $work/top" \
    --define "_rpmdir $out" \
    --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
    --define "rc_version $version" \
    --define "rc_stage $stage" \
    --define "use_source_date_epoch_as_buildtime 1" \
    --define "clamp_mtime_to_source_date_epoch 1" \
    "$top/packaging/rpm/rollclone.spec"
for p in rollclone-cli rollclone-agent rollclone-coordinator; do
    f=$(ls "$out/$p-$version-1".*.rpm 2>/dev/null | head -1)
    [ -n "$f" ] || { echo "package-rpm: $p-$version rpm was not made" >&2; exit 1; }
    echo "package-rpm: $f"
done
