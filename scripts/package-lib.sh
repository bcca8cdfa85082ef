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

# pkg_render_man SRC DST VERSION: the roff pages with their version filled in;
# a page the build made from its template (rollclone.1, whose COMMANDS come
# from the CLI's command table) is taken from $build/man instead.
pkg_render_man () {
    mkdir -p "$2"
    for page in "$1"/*.[18]; do
        made="$build/man/$(basename "$page")"
        [ -f "$made" ] || made=$page
        sed "s/@VERSION@/$3/g" "$made" >"$2/$(basename "$page")"
    done
}

# pkg_completions DST: the shell completion scripts the build made from the
# CLI's command table (bash: rollclone, zsh: _rollclone).
pkg_completions () {
    mkdir -p "$1"
    for f in rollclone _rollclone; do
        [ -f "$build/completion/$f" ] || { echo "package: $build/completion/$f is missing: run make first" >&2; exit 2; }
        cp "$build/completion/$f" "$1/$f"
    done
}
