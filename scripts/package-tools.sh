#!/bin/sh
# package-tools.sh - installs, from Debian's packages, the tools that
# `make deb`, `make rpm` and `make package-test` use, when any is missing
# (so it costs nothing on a machine that has them).
set -eu
PKGS="debhelper dpkg-dev fakeroot lintian rpm debootstrap man-db groff-base binutils \
iproute2 util-linux"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "package-tools: missing packages:$missing (run as root, or install them)" >&2
    exit 2
fi
echo "package-tools: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
