#!/bin/sh
# package-tools.sh [deb|rpm] - installs, from Debian's packages, the tools
# that `make deb` (deb), `make rpm` (rpm) or `make package-test` (no
# argument: both, and what the test itself uses) need, when any is missing;
# it costs nothing on a machine that has them. Not root and something
# missing: exit 2 with the list (scripts/deps.sh).
set -eu
deb="debhelper dpkg-dev fakeroot binutils"
rpm="rpm binutils gzip"
case ${1:-all} in
deb) tools=$deb ;;
rpm) tools=$rpm ;;
all) tools="$deb $rpm lintian debootstrap man-db groff-base iproute2 util-linux" ;;
*) echo "usage: $0 [deb|rpm]" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
exec sh "$(dirname "$0")/deps.sh" $tools
