# window_lib.sh - what the window tests (t_window, t_window_steps,
# t_window_bluegreen) share; sourced after lib.sh. Everything is read from
# the coordinator's events table, in the order it was written.

# window_check DEP STARTKIND ENDKINDS: replays DEP's events in order and
# prints "max=M starts=HOST,HOST,...": the most hosts ever in flight (a host
# counts from its start event to its end event) and the order they started
window_check () {
    python3 - "$T/coord-data/coordinator.db" "$1" "$2" "$3" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
start, ends = sys.argv[3], sys.argv[4].split(",")
live, top, starts = set(), 0, []
for host, kind in db.execute("SELECT host_id, kind FROM events WHERE deployment_id = ? "
                             "ORDER BY id", (sys.argv[2],)):
    if kind == start:
        if host in live:
            sys.exit("%s started twice while in flight" % host)
        live.add(host); starts.append(host); top = max(top, len(live))
    elif kind in ends and host in live:
        live.discard(host)
print("max=%d starts=%s" % (top, ",".join(starts)))
PY
}
# dh_in DEP HOST STATE,STATE: the host's state in the deployment is one of them
dh_in () { case ",$3," in *",$(dep_host_field "$1" "$2" state 2>/dev/null),"*) return 0 ;; esac; return 1; }
# window_fleet N: a coordinator and N agents (host-1..host-N) with the test
# web app, every one online
window_fleet () {
    rc_fleet "$1"
    for i in $(seq 1 "$1"); do rc_webapp "$i"; done
    rc_coord_start
    for i in $(seq 1 "$1"); do rc_agent_start "$i"; done
    for i in $(seq 1 "$1"); do wait_for 10 host_is "host-$i" online || fail "host-$i not online"; done
}
