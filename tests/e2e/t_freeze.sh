# t_freeze.sh - freezes (issue 10): during a [coordinator] freeze window or
# the operator's freeze (`rollclone freeze --until`) no batch starts; a
# deployment waits at its batch boundary (frozen, an event) and goes on by
# itself when the freeze ends (unfrozen); --ignore-freeze passes, as an
# event; the operator's freeze outlives a restart; a bad window is a
# config error. The coordinator's wall clock is moved with the test hook
# RC_FAULT_WALL_OFFSET_FILE (FAULT=1 builds) to end the window.
. "$(dirname "$0")/lib.sh"
export RC_FAULT_WALL_OFFSET_FILE="$T/wall-offset"
echo 0 >"$RC_FAULT_WALL_OFFSET_FILE"
# a window from a minute ago to three minutes ahead, in the local time
# the coordinator reads windows in
from=$(LC_ALL=C date -d '-1 min' '+%a %H:%M'); to=$(LC_ALL=C date -d '+3 min' '+%a %H:%M')
RC_COORD_EXTRA="freeze = $from-$to, Sat 00:00-Sat 00:30"
rc_fleet 2
for i in 1 2; do rc_webapp $i; done

say "a bad window is a config error naming it (exit 2)"
sed "s/^freeze = .*/freeze = Sat 25:00-Mon 06:00/" "$T/coordinator.conf" >"$T/bad.conf"
expect_exit 2 "$RC_BUILD/rollclone-coordinator" --check --config "$T/bad.conf"
grep -q "window 'Sat 25:00-Mon 06:00'" "$T/last.out" || fail "bad window not named: $(cat "$T/last.out")"
[ "$(wc -l <"$T/last.out")" = 1 ] || fail "not one line: $(cat "$T/last.out")"
expect_exit 0 "$RC_BUILD/rollclone-coordinator" --check --config "$T/coordinator.conf"

rc_coord_start
for i in 1 2; do rc_agent_start $i; done
wait_online 10 2 || fail "hosts not online"
make_release v1; make_release v2; make_release v3

# json EXPR: evaluates a python expression on the JSON in $T/j.json (as d)
json () { python3 -c "import json,sys; d = json.load(open('$T/j.json')); sys.exit(0 if ($1) else 1)"; }
frozen_is () { "$RC" status "$1" --json >"$T/j.json" 2>/dev/null && json "d['frozen'] == $2"; }
events_of () { "$RC" events "$1" --json --limit 1000 >"$T/ev.json" || fail "events $1"; }
has_event () { python3 -c "
import json, sys
ev = json.load(open('$T/ev.json'))['events']
sys.exit(0 if any(e['kind'] == '$1' for e in ev) else 1)"; }

say "the window holds now: freeze shows it, a plan says frozen"
"$RC" freeze --json >"$T/j.json" || fail "freeze --json"
json "d['frozen'] and d['windows'][0]['active'] and not d['windows'][1]['active']" \
    || { cat "$T/j.json"; fail "freeze does not show the window in force"; }
deploy v1 --plan --json >"$T/j.json" || fail "plan"
json "d['frozen']" || { cat "$T/j.json"; fail "the plan does not say frozen"; }

say "--ignore-freeze deploys inside the window, and says so"
dep=$(deploy v1 --batch 1 --soak 100ms --ignore-freeze) || fail "deploy --ignore-freeze"
wait_ended 60 "$dep" || fail "v1 did not end"
dep_state_is "$dep" succeeded || fail "v1 ended $(dep_field "$dep" state)"
events_of "$dep"
has_event freeze_ignored || { cat "$T/ev.json"; fail "no freeze_ignored event"; }
current_is 1 v1 && current_is 2 v1 || fail "v1 not live"

say "without it, a deployment waits at its first batch"
dep=$(deploy v2 --batch 1 --soak 100ms) || fail "deploy v2"
wait_for 10 frozen_is "$dep" True || fail "v2 not frozen"
sleep 1
[ "$(hook_count 1 install v2)" = 0 ] && [ "$(hook_count 2 install v2)" = 0 ] || fail "a frozen deployment touched a host"
dep_state_is "$dep" running || fail "frozen is not a state of its own: $(dep_field "$dep" state)"
events_of "$dep"; has_event frozen || fail "no frozen event"

say "the window ends (the wall clock moves on 4 minutes): it goes on by itself"
echo 240000 >"$RC_FAULT_WALL_OFFSET_FILE"
wait_ended 60 "$dep" || fail "v2 did not go on after the window"
dep_state_is "$dep" succeeded || fail "v2 ended $(dep_field "$dep" state)"
events_of "$dep"; has_event unfrozen || fail "no unfrozen event"
current_is 1 v2 && current_is 2 v2 || fail "v2 not live"

say "the operator's freeze stops a running deployment at the batch boundary"
dep=$(deploy v3 --batch 1 --soak 100ms --pause 3s) || fail "deploy v3"
wait_for 30 dh_is "$dep" host-1 succeeded || fail "host-1 did not take v3"
expect_exit 0 "$RC" freeze --until 10s --reason "release train"
wait_for 10 frozen_is "$dep" True || fail "v3 did not wait for the freeze"
dh_is "$dep" host-2 pending || fail "host-2 started inside the freeze"
current_is 2 v2 || fail "host-2 moved inside the freeze"
"$RC" events --json --limit 1000 >"$T/ev.json" || fail "events"
python3 -c "
import json, sys
ev = [e for e in json.load(open('$T/ev.json'))['events'] if e['kind'] == 'freeze_set']
sys.exit(0 if ev and ev[-1]['operator'] == 'operator' and 'release train' in ev[-1]['detail'] else 1)" \
    || { cat "$T/ev.json"; fail "freeze_set does not name the operator and reason"; }
wait_ended 40 "$dep" || fail "v3 did not go on after the freeze"
dep_state_is "$dep" succeeded || fail "v3 ended $(dep_field "$dep" state)"
current_is 2 v3 || fail "host-2 not on v3"
events_of "$dep"; has_event unfrozen || fail "no unfrozen event for v3"

say "the operator's freeze outlives a restart, and is lifted with --clear"
expect_exit 0 "$RC" freeze --until 1h
rc_coord_stop
rc_coord_start
"$RC" freeze --json >"$T/j.json" || fail "freeze --json"
json "d['frozen'] and d['until']" || { cat "$T/j.json"; fail "the freeze did not survive the restart"; }
expect_exit 0 "$RC" freeze --clear
"$RC" freeze --json >"$T/j.json"
json "not d['frozen'] and d['until'] is None" || { cat "$T/j.json"; fail "--clear did not lift it"; }
"$RC" events --json >"$T/ev.json"; has_event freeze_cleared || fail "no freeze_cleared event"

say "bad input: exit 2, nothing set"
expect_exit 2 "$RC" freeze --until 1h --clear
expect_exit 2 "$RC" freeze --until yesterday
expect_exit 2 "$RC" freeze --until 1h --reason "$(python3 -c 'print("x" * 300)')"
"$RC" freeze --json >"$T/j.json"
json "not d['frozen']" || fail "a refused freeze was set"
rc_webapp_cleanup
say "ok"
