# t_operators.sh - operator identity (issue 10): the events of each
# control request name the operator key that sent it (its file's name in
# operator_keys_dir), and the deployment records who created it; what the
# engine does by itself names no one. A key in read_only_operator_keys_dir
# may read (hosts, info, status, events, plans, the freezes) and is refused
# every write with exit 2 and one line naming it, changing nothing.
. "$(dirname "$0")/lib.sh"
RC_COORD_EXTRA="read_only_operator_keys_dir = keys/readers"
rc_fleet 2
for i in 1 2; do rc_webapp $i; done
mkdir -p "$T/keys/readers"
# client NAME DIR: a key pair named NAME admitted from DIR, and its config
client () {
    "$RC" keygen "$T/keys/$1.key" >/dev/null || fail "keygen $1"
    cp "$T/keys/$1.key" "$T/keys/$2/$1.key"
    sed "s|^secret_key = .*|secret_key = keys/$1.key_secret|" "$T/client.conf" >"$T/$1.conf"
}
client alice operators; client bob operators; client carol readers
rc_coord_start
for i in 1 2; do rc_agent_start $i; done
wait_online 10 2 || fail "hosts not online"
make_release v1; make_release v2
as () { who=$1; shift; ROLLCLONE_CONFIG="$T/$who.conf" "$@"; }

say "alice deploys, bob pauses and resumes"
dep=$(as alice deploy v1 --batch 1 --soak 100ms --pause manual) || fail "alice's deploy"
wait_for 30 dep_state_is "$dep" paused || fail "no manual gate"
expect_exit 0 as bob "$RC" pause "$dep"
expect_exit 0 as bob "$RC" resume "$dep"
wait_ended 30 "$dep" || fail "v1 did not end"
"$RC" events "$dep" --json --limit 1000 >"$T/ev.json" || fail "events"
python3 - "$T/ev.json" <<'PY' || { cat "$T/ev.json"; fail "operators in events"; }
import json, sys
ev = json.load(open(sys.argv[1]))["events"]
by = {}
for e in ev:
    by.setdefault(e["kind"], []).append(e["operator"])
assert by["deployment_created"] == ["alice"], by
assert by["paused"] == ["bob"] and by["resumed"] == ["bob"], by
# what the engine does by itself is no one's request
assert set(by["batch_started"]) == {""} and set(by["host_succeeded"]) == {""}, by
PY
"$RC" status "$dep" --json >"$T/j.json"
python3 -c "import json,sys; sys.exit(json.load(open('$T/j.json'))['operator'] != 'alice')" \
    || fail "the deployment does not say alice created it"
as alice "$RC" events "$dep" | grep -q "(by alice)" || fail "events text does not name alice"

say "carol's key is read-only: reads pass"
for cmd in "hosts" "info" "status" "status $dep" "events" "freeze" "history host-1"; do
    # shellcheck disable=SC2086
    expect_exit 0 as carol "$RC" $cmd
done
expect_exit 0 as carol deploy v2 --plan
expect_exit 0 as carol "$RC" rollback --deployment "$dep" --plan

say "carol's writes are refused: exit 2, one line naming her key, nothing changed"
# deployments, and the events of deployments and requests (not the fleet's own)
changes () { echo "$(sql "select count(*) from deployments")/$(sql "select count(*) from events where deployment_id is not null or operator != ''")"; }
before=$(changes)
expect_exit 2 as carol deploy v2
grep -q "operator key carol is read-only: it may not deploy" "$T/last.out" \
    || fail "refusal: $(cat "$T/last.out")"
[ "$(wc -l <"$T/last.out")" = 1 ] || fail "not one line: $(cat "$T/last.out")"
expect_exit 2 as carol "$RC" rollback --deployment "$dep"
expect_exit 2 as carol "$RC" freeze --until 1h
expect_exit 2 as carol "$RC" abort "$dep"
after=$(changes)
[ "$before" = "$after" ] || fail "a refused write changed something: $before -> $after"
"$RC" freeze --json | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)['frozen'])" \
    || fail "carol's freeze was set"

say "a key moved into the read-only directory loses its writes after a reload"
cp "$T/keys/bob.key" "$T/keys/readers/bob.key"
kill -HUP "$(rc_pid coordinator)"
sleep 1
expect_exit 2 as bob deploy v2
grep -q "operator key bob is read-only" "$T/last.out" || fail "bob not read-only: $(cat "$T/last.out")"
expect_exit 0 as alice deploy v2 --plan
rc_webapp_cleanup
say "ok"
