# t_agent_legacy_journal.sh - an agent upgraded while a step was in flight
# finds the JSON step record (steps/web.json) that agents before issue 10
# wrote, instead of a StepRecord (steps/web.pb). It is read once: the step
# is undone like any interrupted one (here an update to v2 that had placed
# and switched to v2 and died in its restart hook), and no record of either
# kind is left.
RC_AGENT_SETUP_SOURCED=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t_agent_setup.sh"
agent_config
health_server
make_release v1
make_release v2
expect_exit 0 agent apply --app web --version v1 --artifact "file://$T/art/v1.tgz" --soak 100ms
expect_exit 0 agent apply --app web --version v2 --artifact "file://$T/art/v2.tgz" --soak 100ms
[ "$(current)" = releases/v2 ] || fail "current is $(current)"

say "the record an older agent left: update to v2 interrupted in restart"
cat >"$T/state/steps/web.json" <<'JSON'
{"action":1,"app":"web","artifact":"file:///gone/v2.tgz","aside":false,"dirty":false,"drained":true,"error":"","exit_code":0,"failed":false,"failed_phase":"","health_timeout_ms":60000,"id":"d-old","phase":"restart","placed":true,"previous":"v1","sha256":"","soak_ms":100,"started_ms":1795602460972,"step":1,"switched":true,"version":"v2"}
JSON
expect_exit 0 agent releases --app web
grep -q "interrupted" "$T/last.out" || fail "releases does not show the step in flight"

say "the upgraded agent starts: the step is undone, back on v1"
expect_exit 0 agent recover
cat "$T/last.out"
grep -q "FAILED in phase restart" "$T/last.out" || fail "interrupted step not reported"
grep -q "agent stopped during phase restart" "$T/last.out" || fail "reason not reported"
[ "$(current)" = releases/v1 ] || fail "current is $(current) after recovery"
[ ! -e "$T/srv/releases/v2" ] || fail "the interrupted release is left behind"
[ ! -e "$T/state/steps/web.json" ] || fail "the legacy record is left"
[ ! -e "$T/state/steps/web.pb" ] || fail "a StepRecord is left"
healthy || fail "v1 not healthy after recovery"
tail -1 "$T/hooks.log" | grep -q "undrain v1" || fail "not undrained"
say ok
