# package-lib.sh - shell functions shared by the package-*.sh scripts.

# A version that both dpkg and rpm accept and order as people expect.
pkg_check_version () {
    if ! printf '%s\n' "$1" | grep -Eq '^[0-9][A-Za-z0-9.+~]*$'; then
        echo "package: VERSION '$1' must be a digit then [A-Za-z0-9.+~]" \
             "(no '-': it separates the package revision)" >&2
        exit 2
    fi
}

# pkg_setup NAME BUILD VERSION OUT: the arguments every package-*.sh takes.
# Sets build, version, out (absolute) and checks the version and binaries.
pkg_setup () {
    name=$1; shift
    [ $# = 3 ] || { echo "usage: $name BUILD VERSION OUT" >&2; exit 2; }
    build=$(cd "$1" && pwd)
    version=$2
    mkdir -p "$3"
    out=$(cd "$3" && pwd)
    pkg_check_version "$version"
    for b in rollclone rollclone-agent rollclone-coordinator; do
        [ -x "$build/$b" ] || { echo "$name: $build/$b is missing: run make first" >&2; exit 2; }
    done
}

# The date of the last commit, so that two builds of one commit are alike.
pkg_date_epoch () {
    if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
        echo "$SOURCE_DATE_EPOCH"
    elif git -C "$top" log -1 --format=%ct >/dev/null 2>&1; then
        git -C "$top" log -1 --format=%ct
    else
        date +%s
    fi
}
pkg_date_rfc2822 () { LC_ALL=C date -u -R -d "@$(pkg_date_epoch)"; }

# pkg_render_man SRC DST VERSION: the roff pages with their version filled in.
pkg_render_man () {
    mkdir -p "$2"
    for page in "$1"/*.[18]; do
        sed "s/@VERSION@/$3/g" "$page" >"$2/$(basename "$page")"
    done
}
