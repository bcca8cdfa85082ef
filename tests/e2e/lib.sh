# lib.sh - helpers for end-to-end tests; sourced by each tests/e2e/t_*.sh.
# Every process a test starts is recorded and killed on exit; every file
# lives under $T (a fresh temporary directory), removed on exit.
set -u
RC_BUILD=${RC_BUILD:-$(pwd)/build}
T=$(mktemp -d /tmp/rc_e2e.XXXXXX)
RC_PIDS=""
export ROLLCLONE_CONFIG=""

rc_cleanup () {
    for p in $RC_PIDS; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.2
    for p in $RC_PIDS; do kill -KILL "$p" 2>/dev/null; done
    [ -n "${RC_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap rc_cleanup EXIT
trap 'exit 130' INT TERM

# say MSG / fail MSG
say () { echo "--- $*"; }
fail () { echo "FAIL: $*" >&2; exit 1; }

# rc_bg NAME CMD...: runs CMD in the background, output in $T/NAME.log,
# pid in $T/NAME.pid and in $RC_PIDS.
rc_bg () {
    name=$1; shift
    "$@" >>"$T/$name.log" 2>&1 &
    echo $! >"$T/$name.pid"
    RC_PIDS="$RC_PIDS $!"
}
rc_pid () { cat "$T/$1.pid"; }

# rc_port: a free TCP port on 127.0.0.1.
rc_port () {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for SECONDS CMD...: polls CMD every 100ms until it succeeds; 1 on timeout.
wait_for () {
    limit=$1; shift
    end=$(( $(date +%s) + limit ))
    while [ "$(date +%s)" -le "$end" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# expect_exit CODE CMD...: runs CMD, fails the test unless it exits CODE.
# Its stdout+stderr are in $T/last.out.
expect_exit () {
    want=$1; shift
    "$@" >"$T/last.out" 2>&1
    got=$?
    [ "$got" = "$want" ] || { cat "$T/last.out"; fail "'$*' exited $got, expected $want"; }
}
