#!/bin/sh
# Hook of the demo/test web app: webapp-hook.sh ACTION HOSTDIR [PORT]. Logs every run
# (action, version, deployment) to HOSTDIR/hooks.log, so tests can count
# what really ran. restart (re)starts a python3 http.server on 127.0.0.1
# serving releases_dir/current, the way a real service would be restarted.
set -u
action=$1; dir=$2; port=${3:-}
echo "$action ${ROLLCLONE_VERSION:-} ${ROLLCLONE_DEPLOYMENT:-} ${ROLLCLONE_PHASE:-}" >>"$dir/hooks.log"
# a test may slow one hook of one version down: slow-ACTION-VERSION holds seconds
slow="$dir/slow-$action-${ROLLCLONE_VERSION:-}"
[ ! -f "$slow" ] || sleep "$(cat "$slow")"
case $action in
restart)
    if [ -f "$dir/server.pid" ]; then
        kill "$(cat "$dir/server.pid")" 2>/dev/null
        # wait for the port to be free again
        for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
            kill -0 "$(cat "$dir/server.pid")" 2>/dev/null || break
            sleep 0.05
        done
    fi
    python3 -m http.server --bind 127.0.0.1 --directory "$dir/web/current" "$port" \
        >>"$dir/server.log" 2>&1 </dev/null &
    echo $! >"$dir/server.pid"
    ;;
install)
    # a release may ask its install hook to fail
    [ ! -f fail-install ] || { echo "install refused by the release" >&2; exit 3; }
    # or a test may make one host refuse one version
    [ ! -f "$dir/fail-install-${ROLLCLONE_VERSION:-}" ] || { echo "install refused on this host" >&2; exit 4; }
    ;;
esac
exit 0
