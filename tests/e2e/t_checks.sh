# Analysis gates with a real Prometheus (Debian's package) scraping each
# host's web app (http_requests_total by code, labelled host=host-N):
# (a) a release that answers /health but fails 20% of requests is failed by
# the error-rate check after the first batch and rolled back, the value in
# the events; (b) a healthy release passes; (c) on_no_data = fail | pass |
# inconclusive; (d) an unknown --check is exit 2 and stores nothing; and
# status shows each check's last value per host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/checks_lib.sh"
command -v prometheus >/dev/null || { echo "prometheus is not installed"; exit 77; }
P_PROM=$(rc_port)
PROM="http://127.0.0.1:$P_PROM"
# the 5xx share of the host's requests over the last 5s (scraped every 1s)
RATE='sum(rate(http_requests_total{code=~"5..",host="$HOST"}[5s])) / sum(rate(http_requests_total{host="$HOST"}[5s]))'
NODATA='sum(rate(no_such_metric_total{host="$HOST",app="$APP",version="$VERSION",deployment="$DEPLOYMENT"}[5s]))'
P_MET=$(rc_port)
RC_COORD_EXTRA="metrics_endpoint = 127.0.0.1:$P_MET

[check error-rate]
prometheus = $PROM
query = $RATE
max = 0.05
interval = 1s
failures = 2

[check error-rate-3]
prometheus = $PROM
query = $RATE
max = 0.05
interval = 1s
failures = 3

[check nodata-fail]
prometheus = $PROM/
query = $NODATA
max = 1
interval = 500ms
on_no_data = fail

[check nodata-pass]
prometheus = $PROM
query = $NODATA
max = 1
interval = 500ms
on_no_data = pass

[check nodata-inconclusive]
prometheus = $PROM
query = $NODATA
min = 0
interval = 500ms
failures = 2"
rc_fleet 2
for i in 1 2; do rc_metricweb $i; done
rc_prometheus 2
rc_coord_start
for i in 1 2; do rc_agent_start $i; done
wait_online 10 2 || fail "hosts not online"
make_release v1; make_release v2; make_rated_release v3 0.2; make_release v4
make_release v5; make_release v6
expect_exit 0 deploy v1 --batch 100% --soak 100ms --wait
load_start "http://127.0.0.1:$(cat "$T/agent-1/port")/" "http://127.0.0.1:$(cat "$T/agent-2/port")/"

# (d) an unknown check is bad input: one line, exit 2, nothing stored
before=$(sql "select count(*) from deployments")
expect_exit 2 deploy v2 --check error-rate --check no-such-check
[ "$(wc -l <"$T/last.out")" = 1 ] || fail "not one line: $(cat "$T/last.out")"
grep -q "no-such-check" "$T/last.out" || fail "unclear: $(cat "$T/last.out")"
expect_exit 2 deploy v2 --check 'bad"name'
expect_exit 2 deploy v2 --check error-rate --check error-rate
[ "$(sql "select count(*) from deployments")" = "$before" ] || fail "a refused deploy stored something"
expect_exit 0 deploy v2 --check error-rate --plan
grep -q "check error-rate" "$T/last.out" || fail "--plan does not list the check: $(cat "$T/last.out")"
say "unknown --check is exit 2, nothing stored; --plan lists the checks"

# (b) a healthy release passes; each host held until its check passed
wait_for 20 sh -c "curl -s '$PROM/api/v1/query?query=up' | grep -q host-2" || fail "prometheus scrapes nothing"
expect_exit 0 deploy v2 --batch 1 --soak 1s --check error-rate --wait
dep=$(grep -m1 '^d-' "$T/last.out")
[ "$(events_of "$dep" check_passed | grep -c error-rate)" = 2 ] || fail "no check_passed for both hosts: $(events_of "$dep" check_passed)"
"$RC" status "$dep" --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['checks'] == ['error-rate'], d['checks']
c = [h for h in d['hosts'] if h['host'] == 'host-2'][0]['checks']['error-rate']
assert c['passed'] and c['result'] == 'pass' and c['value'] is not None and c['value'] <= 0.05, c
" || fail "status --json does not show the check's last value"
"$RC" status "$dep" | grep -q "check error-rate: 0 pass (passed)" || fail "status does not show the check: $("$RC" status "$dep")"
say "a healthy release passed the error-rate check"

# (a) 20% 5xx: host-1 (batch 1) fails its check, the deployment rolls back
expect_exit 1 deploy v3 --batch 1 --soak 2s --check error-rate --wait
dep=$(grep -m1 '^d-' "$T/last.out")
[ "$(dep_field "$dep" state)" = rolled_back ] || fail "state $(dep_field "$dep" state)"
[ "$(dep_host_field "$dep" host-1 failure)" = check:error-rate ] || fail "host-1 failure '$(dep_host_field "$dep" host-1 failure)'"
# put back at once, as a health failure is by its agent: failed, rolled back
[ "$(dep_host_field "$dep" host-1 state)" = failed ] || fail "host-1 state '$(dep_host_field "$dep" host-1 state)'"
[ "$(dep_host_field "$dep" host-1 phase)" = rolled_back ] || fail "host-1 not rolled back"
[ "$(dep_host_field "$dep" host-2 state)" = pending ] || fail "host-2 was touched"
events_of "$dep" host_failed | grep -E "check:error-rate: value 0\.[0-9]+ above max 0.05" || fail "no host_failed with the value: $(events_of "$dep" host_failed)"
events_of "$dep" check_failed | grep -q "error-rate: value" || fail "no check_failed event"
wait_for 10 current_is 1 v2 || fail "host-1 serves '$(current 1)'"
say "a release failing 20% of requests was rolled back after batch 1 (check:error-rate)"

# a coordinator killed mid-soak goes on from the recorded count: the host
# fails at its third failing evaluation in a row, counted across the restart.
# First the rolled-back v3's errors must leave host-1's 5 s window: else the
# new deployment's first evaluations fail on them, a pass follows as they
# age out (no event, the count back to 0), and the kill below may land
# before it, so the count starts again for a reason the test is not about
calm () {
    curl -s "$PROM/api/v1/query" --data-urlencode "query=$(echo "$RATE" | sed 's/\$HOST/host-1/g')" |
        python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; sys.exit(not r or float(r[0]["value"][1]) >= 0.01)'
}
wait_for 30 calm || fail "host-1's error rate did not come down after the rollback"
dep=$(deploy v3 --batch 1 --soak 3s --check error-rate-3)
failing () { sql "select consecutive from check_state where deployment_id = '$dep'" | grep -q '^[12]$'; }
wait_for 40 failing || fail "no failing evaluation recorded"
rc_coord_kill9
rc_coord_start
wait_ended 60 "$dep" || fail "deployment did not end after the restart"
[ "$(dep_field "$dep" state)" = rolled_back ] || fail "state $(dep_field "$dep" state) after the restart"
[ "$(dep_host_field "$dep" host-1 failure)" = check:error-rate-3 ] || fail "failure '$(dep_host_field "$dep" host-1 failure)'"
[ "$(events_of "$dep" check_failed | grep -c "(1 of 3 in a row)")" = 1 ] \
    || fail "the count started again after the restart: $(events_of "$dep" check_failed)"
events_of "$dep" check_failed | grep -q "(3 of 3 in a row)" || fail "no third failure: $(events_of "$dep" check_failed)"
wait_for 10 current_is 1 v2 || fail "host-1 serves '$(current 1)'"
say "a coordinator restarted mid-soak resumed the check's count"

# (c) on_no_data: fail fails the host, pass and inconclusive let it through
expect_exit 1 deploy v4 --batch 1 --soak 500ms --check nodata-fail --wait
dep=$(grep -m1 '^d-' "$T/last.out")
[ "$(dep_host_field "$dep" host-1 failure)" = check:nodata-fail ] || fail "nodata-fail: failure '$(dep_host_field "$dep" host-1 failure)'"
events_of "$dep" check_failed | grep -q "no data.*on_no_data = fail" || fail "no check_failed for no data"
expect_exit 0 deploy v5 --batch 100% --soak 500ms --check nodata-pass --wait
dep=$(grep -m1 '^d-' "$T/last.out")
events_of "$dep" check_passed | grep -q "on_no_data = pass" || fail "nodata-pass did not pass on no data"
expect_exit 0 deploy v6 --batch 100% --soak 500ms --check nodata-inconclusive --wait
dep=$(grep -m1 '^d-' "$T/last.out")
events_of "$dep" check_inconclusive | grep -q "the host passes" || fail "nodata-inconclusive: $(events_of "$dep" check_inconclusive)"
[ -z "$(events_of "$dep" check_failed)" ] || fail "inconclusive counted as failed"
[ "$(sql "select min(inconclusive) from check_state where deployment_id = '$dep'")" -ge 2 ] || fail "inconclusive not counted"
say "on_no_data fail, pass and inconclusive"

# the coordinator's /metrics counts the evaluations by check and verdict
curl -s --max-time 5 "http://127.0.0.1:$P_MET/metrics" >"$T/metrics.txt" || fail "no /metrics"
for want in 'check="nodata-fail",verdict="fail"' 'check="nodata-inconclusive",verdict="inconclusive"' \
    'check="error-rate-3",verdict="fail"'; do
    grep -qE "^rollclone_check_evaluations_total\{$want\} [1-9]" "$T/metrics.txt" \
        || { grep rollclone_check "$T/metrics.txt"; fail "no evaluations counted for $want"; }
done
say "/metrics counts the evaluations"
say ok
