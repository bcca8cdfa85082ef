#!/bin/sh
# package-tools.sh - installs, from Debian's packages, the tools that
# `make deb`, `make rpm` and `make package-test` use, when any is missing
# (so it costs nothing on a machine that has them).
exec sh "$(dirname "$0")/deps.sh" debhelper dpkg-dev fakeroot lintian rpm debootstrap man-db \
    groff-base binutils iproute2 util-linux
