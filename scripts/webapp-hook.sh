#!/bin/sh
# Hook of the demo/test web app: webapp-hook.sh ACTION HOSTDIR [PORT]. Logs every run
# (action, version, deployment) to HOSTDIR/hooks.log, so tests can count
# what really ran. restart (re)starts a web server on 127.0.0.1 serving
# releases_dir/current, the way a real service would be restarted: the
# build's rc_testweb (tests/tools/rc_testweb.c; $RC_TESTWEB, else
# build/rc_testweb next to this script), or python3's http.server when
# there is none (the same answers, at many times the CPU).
set -u
action=$1; dir=$2; port=${3:-}
# drain/undrain may name an HAProxy runtime socket and a backend/server:
# webapp-hook.sh drain HOSTDIR PORT SOCKET BACKEND/SERVER
lb_sock=${4:-}; lb_server=${5:-}
# lb COMMAND: HAProxy's answer on its runtime socket: through socat
# (scripts/deps.sh installs it), or python3 when there is none
lb () {
    if command -v socat >/dev/null 2>&1; then
        printf '%s\n' "$1" | socat -t 5 -T 5 - "UNIX-CONNECT:$lb_sock"
        return
    fi
    python3 - "$lb_sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
out = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode())
PY
}
echo "$action ${ROLLCLONE_VERSION:-} ${ROLLCLONE_DEPLOYMENT:-} ${ROLLCLONE_PHASE:-}" >>"$dir/hooks.log"
# a test may slow one hook of one version down: slow-ACTION-VERSION holds seconds
slow="$dir/slow-$action-${ROLLCLONE_VERSION:-}"
[ ! -f "$slow" ] || sleep "$(cat "$slow")"
# or hold it while hold-ACTION-VERSION exists (at most 10 minutes)
hold="$dir/hold-$action-${ROLLCLONE_VERSION:-}"
n=0
while [ -f "$hold" ] && [ $n -lt 6000 ]; do sleep 0.1; n=$((n + 1)); done
case $action in
restart)
    if [ -f "$dir/server.pid" ]; then
        old=$(cat "$dir/server.pid")
        kill "$old" 2>/dev/null
        # wait for the port to be free again: the old server has exited.
        # A zombie counts as gone (it holds no socket): the server is an
        # orphan reaped by PID 1, and a container's init may take 1.5 s
        # (systemd reaps at once; see bench/ansible.sh)
        for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
            st=""
            read -r st 2>/dev/null <"/proc/$old/stat"
            st=${st##*) }
            case ${st%% *} in '' | Z) break ;; esac
            sleep 0.05
        done
    fi
    web=${RC_TESTWEB:-$(dirname "$0")/../build/rc_testweb}
    if [ -x "$web" ]; then
        "$web" --port "$port" --dir "$dir/web/current" >>"$dir/server.log" 2>&1 </dev/null &
    else
        python3 -m http.server --bind 127.0.0.1 --directory "$dir/web/current" "$port" \
            >>"$dir/server.log" 2>&1 </dev/null &
    fi
    echo $! >"$dir/server.pid"
    ;;
drain)
    [ -n "$lb_sock" ] || exit 0
    lb "set server $lb_server state maint" || exit 1
    # wait (bounded) until no request is in flight on this server
    for _ in $(seq 1 100); do
        cur=$(lb "show servers conn ${lb_server%%/*}" | awk -v s="${lb_server#*/}" '$0 ~ s {print $7; exit}')
        [ "${cur:-0}" = 0 ] && break
        sleep 0.05
    done
    ;;
undrain)
    [ -n "$lb_sock" ] || exit 0
    lb "set server $lb_server state ready" || exit 1
    ;;
install)
    # a release may ask its install hook to fail
    [ ! -f fail-install ] || { echo "install refused by the release" >&2; exit 3; }
    # or a test may make one host refuse one version
    [ ! -f "$dir/fail-install-${ROLLCLONE_VERSION:-}" ] || { echo "install refused on this host" >&2; exit 4; }
    ;;
esac
exit 0
