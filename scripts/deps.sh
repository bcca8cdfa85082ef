#!/bin/sh
# Installs Debian packages that are missing, and nothing when they are all
# present already (so `make demo` can call it every time). With no
# arguments: what rollclone needs to build, test, bench and run its demo; with
# arguments: those packages (scripts/package-tools.sh passes its own).
set -eu
if [ $# -gt 0 ]; then
    PKGS="$*"
else
    PKGS="build-essential pkg-config libzmq3-dev libczmq-dev libsodium-dev \
libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev libcurl4-openssl-dev \
libinih-dev libjansson-dev libarchive-dev libsystemd-dev libmicrohttpd-dev check python3 curl \
haproxy nginx zip zstd xz-utils bzip2 iproute2 ${ROLLCLONE_EXTRA_PKGS:-}"
    # the e2e helpers read JSON and the coordinator's database with these
    # (tests/e2e/lib.sh): a python3 start per poll cost too much CPU
    PKGS="$PKGS jq sqlite3"
    # HAProxy's runtime socket from the tests and the test web app's drain
    # hook (a python3 start per command cost ~60 ms of CPU)
    PKGS="$PKGS socat"
    # the metrics and analysis-gate tests: promtool and a real Prometheus
    PKGS="$PKGS prometheus"
    # make bench's zero-downtime part: its load generator
    PKGS="$PKGS wrk"
fi
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing (run as root, or install them)" >&2
    exit 2
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
