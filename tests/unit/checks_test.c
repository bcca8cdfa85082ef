/*  checks_test.c - analysis gates' pure parts: $HOST/$APP/$VERSION/
    $DEPLOYMENT substitution (names only, escaped for PromQL), Prometheus
    /api/v1/query answers, verdicts and on_no_data, HAProxy counters, and
    [check NAME] config keys. */
#include "checks.h"
#include "rc_haproxy_csv.h"
#include "selftests.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void
s_expand (void)
{
    char err[256];
    rc_check_vars_t vars = {"host-1", "web", "v1.2+b3", "d-20260101-000000-abcd"};
    char *q = rc_check_query_expand (
        "rate(x{host=\"$HOST\",app=\"$APP\",v=\"$VERSION\",d=\"$DEPLOYMENT\"}[1m]) / $HOST", &vars,
        err, sizeof err);
    ck_assert_ptr_nonnull (q);
    ck_assert_str_eq (q, "rate(x{host=\"host-1\",app=\"web\",v=\"v1.2+b3\","
                         "d=\"d-20260101-000000-abcd\"}[1m]) / host-1");
    free (q);
    /* what is not one of the four names is left as written */
    q = rc_check_query_expand ("$OTHER $ $HOS", &vars, err, sizeof err);
    ck_assert_str_eq (q, "$OTHER $ $HOS");
    free (q);
    /* a value that is not a name never reaches a query: quotes, backslashes,
       a PromQL injection, an empty one */
    const char *bad[] = {"a\"b", "a\\b", "x\"} or vector(0) or {a=\"", "", "..", "a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc_check_vars_t v = {bad[i], "web", "v1", "d-1"};
        err[0] = '\0';
        ck_assert_ptr_null (rc_check_query_expand ("{host=\"$HOST\"}", &v, err, sizeof err));
        ck_assert_ptr_nonnull (strstr (err, "$HOST"));
    }
    /* a value only counts where the query names it */
    rc_check_vars_t partial = {"host-1", NULL, NULL, NULL};
    q = rc_check_query_expand ("up{host=\"$HOST\"}", &partial, err, sizeof err);
    ck_assert_str_eq (q, "up{host=\"host-1\"}");
    free (q);
    ck_assert_ptr_null (rc_check_query_expand ("$APP", &partial, err, sizeof err));
    /* the expanded text is bounded */
    char *big = (char *)calloc (RC_CHECK_QUERY_MAX + 1, 1);
    for (size_t i = 0; i + 5 <= RC_CHECK_QUERY_MAX; i += 5)
        memcpy (big + i, "$HOST", 5);
    rc_check_vars_t longer = {"a-rather-long-host-name-0001", "web", "v1", "d-1"};
    ck_assert_ptr_null (rc_check_query_expand (big, &longer, err, sizeof err));
    ck_assert_ptr_nonnull (strstr (err, "longer"));
    free (big);
    /* haproxy_server patterns */
    char server[64];
    ck_assert_int_eq (rc_check_server_expand ("{host}", "host-1", server, sizeof server), 0);
    ck_assert_str_eq (server, "host-1");
    ck_assert_int_eq (rc_check_server_expand ("app-{host}-a", "h2", server, sizeof server), 0);
    ck_assert_str_eq (server, "app-h2-a");
    ck_assert_int_eq (rc_check_server_expand ("{host}", "bad\"host", server, sizeof server), -1);
    ck_assert_int_eq (rc_check_server_expand ("{host}{host}{host}{host}", "a-very-long-host-name",
                                              server, sizeof server),
                      -1);
}

static rc_check_outcome_t
s_parse (const char *json, bool want_max, double *value, char *err)
{
    return rc_check_prom_parse (json, strlen (json), want_max, value, err, 256);
}

static void
s_prometheus (void)
{
    char err[256];
    double v = -1;
    ck_assert_int_eq (s_parse ("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
                               "\"result\":[{\"metric\":{},\"value\":[1700000000.1,\"0.2\"]}]}}",
                               true, &v, err),
                      RC_CHECK_VALUE);
    ck_assert_double_eq_tol (v, 0.2, 1e-12);
    /* several series: the worst for the bound (highest for max, lowest for min) */
    const char *two = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                      "{\"metric\":{\"a\":\"1\"},\"value\":[1,\"0.5\"]},"
                      "{\"metric\":{\"a\":\"2\"},\"value\":[1,\"0.7\"]}]}}";
    ck_assert_int_eq (s_parse (two, true, &v, err), RC_CHECK_VALUE);
    ck_assert_double_eq_tol (v, 0.7, 1e-12);
    ck_assert_int_eq (s_parse (two, false, &v, err), RC_CHECK_VALUE);
    ck_assert_double_eq_tol (v, 0.5, 1e-12);
    /* no data: an empty vector, or NaN (0/0: no request at all) */
    ck_assert_int_eq (s_parse ("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
                               "\"result\":[]}}",
                               true, &v, err),
                      RC_CHECK_NO_DATA);
    ck_assert_int_eq (s_parse ("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
                               "\"result\":[{\"metric\":{},\"value\":[1,\"NaN\"]}]}}",
                               true, &v, err),
                      RC_CHECK_NO_DATA);
    /* +Inf is a value (and above any max) */
    ck_assert_int_eq (s_parse ("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
                               "\"result\":[{\"metric\":{},\"value\":[1,\"+Inf\"]}]}}",
                               true, &v, err),
                      RC_CHECK_VALUE);
    ck_assert (isinf (v));
    /* a scalar */
    ck_assert_int_eq (s_parse ("{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
                               "\"result\":[1,\"3\"]}}",
                               true, &v, err),
                      RC_CHECK_VALUE);
    ck_assert_double_eq_tol (v, 3, 1e-12);
    /* errors: Prometheus's own, a matrix, broken samples, not JSON */
    ck_assert_int_eq (s_parse ("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"parse "
                               "error at char 3\"}",
                               true, &v, err),
                      RC_CHECK_ERROR);
    ck_assert_ptr_nonnull (strstr (err, "parse error at char 3"));
    ck_assert_int_eq (s_parse ("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
                               "\"result\":[]}}",
                               true, &v, err),
                      RC_CHECK_ERROR);
    ck_assert_int_eq (s_parse ("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
                               "\"result\":[{\"value\":[1,2]}]}}",
                               true, &v, err),
                      RC_CHECK_ERROR);
    ck_assert_int_eq (s_parse ("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
                               "\"result\":[{\"value\":[1,\"0.1x\"]}]}}",
                               true, &v, err),
                      RC_CHECK_ERROR);
    ck_assert_int_eq (s_parse ("<html>502 Bad Gateway</html>", true, &v, err), RC_CHECK_ERROR);
    ck_assert_int_eq (s_parse ("", true, &v, err), RC_CHECK_ERROR);
}

static void
s_verdicts (void)
{
    rc_check_config_t c = {.name = "c", .has_max = true, .max = 0.01};
    char why[256];
    ck_assert_int_eq (rc_check_judge (&c, RC_CHECK_VALUE, 0.2, "", why, sizeof why), RC_CHECK_FAIL);
    ck_assert_str_eq (why, "value 0.2 above max 0.01");
    ck_assert_int_eq (rc_check_judge (&c, RC_CHECK_VALUE, 0.01, "", why, sizeof why),
                      RC_CHECK_PASS);
    ck_assert_int_eq (rc_check_judge (&c, RC_CHECK_VALUE, INFINITY, "", why, sizeof why),
                      RC_CHECK_FAIL);
    c.has_min = true;
    c.min = 0.001;
    ck_assert_int_eq (rc_check_judge (&c, RC_CHECK_VALUE, 0.0001, "", why, sizeof why),
                      RC_CHECK_FAIL);
    ck_assert_str_eq (why, "value 0.0001 below min 0.001");
    ck_assert_int_eq (rc_check_judge (&c, RC_CHECK_VALUE, 0.005, "", why, sizeof why),
                      RC_CHECK_PASS);
    ck_assert_str_eq (why, "value 0.005 within min 0.001, max 0.01");
    /* no data, and an evaluation that could not be made, go by on_no_data */
    ck_assert_int_eq (rc_check_judge (&c, RC_CHECK_NO_DATA, 0, "no data", why, sizeof why),
                      RC_CHECK_INCONCLUSIVE);
    ck_assert_str_eq (why, "no data (on_no_data = inconclusive)");
    c.on_no_data = RC_CHECK_NO_DATA_FAIL;
    ck_assert_int_eq (
        rc_check_judge (&c, RC_CHECK_ERROR, 0, "Prometheus unreachable", why, sizeof why),
        RC_CHECK_FAIL);
    c.on_no_data = RC_CHECK_NO_DATA_PASS;
    ck_assert_int_eq (rc_check_judge (&c, RC_CHECK_NO_DATA, 0, "", why, sizeof why), RC_CHECK_PASS);
    ck_assert_str_eq (rc_check_verdict_name (RC_CHECK_INCONCLUSIVE), "inconclusive");
}

static void
s_haproxy (void)
{
    long long before[2] = {10, 100}, now[2] = {30, 200};
    double v = 0;
    ck_assert_int_eq (rc_check_haproxy_share (before, now, 20, &v), RC_CHECK_VALUE);
    ck_assert_double_eq_tol (v, 0.2, 1e-12);
    ck_assert_int_eq (rc_check_haproxy_share (now, now, 1, &v), RC_CHECK_NO_DATA);
    /* too few responses to judge a share */
    ck_assert_int_eq (rc_check_haproxy_share (before, now, 101, &v), RC_CHECK_NO_DATA);
    const char *csv = "# pxname,svname,scur,hrsp_2xx,hrsp_5xx,status\n"
                      "web,FRONTEND,0,9,9,OPEN\n"
                      "web,host-1,1,80,20,UP\n"
                      "\"we,b\",host-1,2,1,1,UP\n";
    static const char *const names[] = {"hrsp_5xx", "hrsp_2xx", "check_status"};
    char values[3][RC_HAPROXY_CSV_FIELD_MAX];
    ck_assert_int_eq (rc_haproxy_csv_row (csv, "web", "host-1", names, 3, 2, values), 1);
    ck_assert_str_eq (values[0], "20");
    ck_assert_str_eq (values[1], "80");
    ck_assert_str_eq (values[2], ""); /* not a column, and not required */
    ck_assert_int_eq (rc_haproxy_csv_row (csv, "we,b", "host-1", names, 3, 2, values), 1);
    ck_assert_str_eq (values[0], "1");
    ck_assert_int_eq (rc_haproxy_csv_row (csv, "web", "host-2", names, 3, 2, values), 0);
    ck_assert_int_eq (rc_haproxy_csv_row (csv, "web", "host-1", names, 3, 3, values), -1);
    ck_assert_int_eq (
        rc_haproxy_csv_row ("Unknown command\n", "web", "host-1", names, 3, 2, values), -1);
}

static int
s_key (rc_check_config_t **checks, size_t *n, const char *name, const char *key, const char *value,
       char *err)
{
    return rc_check_config_key (checks, n, name, key, value, err, 256);
}

static void
s_config (void)
{
    rc_check_config_t *checks = NULL;
    size_t n = 0;
    char err[256];
    ck_assert_int_eq (s_key (&checks, &n, "error-rate", "prometheus", "http://127.0.0.1:9090", err),
                      0);
    ck_assert_int_eq (s_key (&checks, &n, "error-rate", "query", "up{host=\"$HOST\"}", err), 0);
    ck_assert_int_eq (s_key (&checks, &n, "error-rate", "max", "0.01", err), 0);
    ck_assert_int_eq (s_key (&checks, &n, "error-rate", "interval", "2s", err), 0);
    ck_assert_int_eq (s_key (&checks, &n, "error-rate", "failures", "3", err), 0);
    ck_assert_int_eq (s_key (&checks, &n, "error-rate", "on_no_data", "fail", err), 0);
    ck_assert_int_eq (rc_check_config_finish (checks, n, err, sizeof err), 0);
    const rc_check_config_t *c = rc_check_config_find (checks, n, "error-rate");
    ck_assert_ptr_nonnull (c);
    ck_assert_int_eq (c->interval_ms, 2000);
    ck_assert_int_eq (c->failures, 3);
    ck_assert_int_eq (c->timeout_ms, RC_CHECK_DEFAULT_TIMEOUT_MS);
    ck_assert_int_eq (c->on_no_data, RC_CHECK_NO_DATA_FAIL);
    /* each bad key is one line naming it */
    struct {
        const char *name, *key, *value, *says;
    } bad[] = {
        {"error-rate", "max", "1", "given twice"},
        {"x", "max", "lots", "not a number"},
        {"x", "min", "nan", "not a number"},
        {"x", "failures", "0", "whole number"},
        {"x", "interval", "10ms", "at least"},
        {"x", "on_no_data", "maybe", "fail, pass or inconclusive"},
        {"x", "prometheus", "ftp://p", "http://"},
        {"x", "haproxy_socket", "relative.sock", "absolute"},
        {"x", "haproxy_backend", "we b", "haproxy_backend"},
        {"x", "quey", "up", "unknown key 'quey'"},
        {"bad name", "max", "1", "check name"},
        {"x", "query", "", "empty"},
        {"x", "min_requests", "0", "whole number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_int_eq (s_key (&checks, &n, bad[i].name, bad[i].key, bad[i].value, err), -1);
        ck_assert_msg (strstr (err, bad[i].says), "%s = %s: '%s'", bad[i].key, bad[i].value, err);
    }
    rc_check_config_free (&checks, &n);
    /* a section that cannot work is refused as a whole */
    struct {
        const char *keys[4][2];
        const char *says;
    } whole[] = {
        {{{"max", "1"}}, "needs prometheus and query"},
        {{{"prometheus", "http://p"}, {"max", "1"}}, "needs query"},
        {{{"prometheus", "http://p"}, {"query", "up"}}, "needs max and/or min"},
        {{{"prometheus", "http://p"}, {"query", "up"}, {"min", "2"}, {"max", "1"}},
         "min above max"},
        {{{"haproxy_socket", "/run/h.sock"}, {"max", "1"}}, "needs haproxy_backend"},
        {{{"haproxy_socket", "/run/h.sock"}, {"query", "up"}, {"max", "1"}}, "not both"},
        {{{"prometheus", "http://p"}, {"query", "up"}, {"max", "1"}, {"min_requests", "5"}},
         "min_requests is for HAProxy"},
    };
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        for (size_t k = 0; k < 4 && whole[i].keys[k][0]; k++)
            ck_assert_int_eq (
                s_key (&checks, &n, "c", whole[i].keys[k][0], whole[i].keys[k][1], err), 0);
        err[0] = '\0';
        ck_assert_int_eq (rc_check_config_finish (checks, n, err, sizeof err), -1);
        ck_assert_msg (strstr (err, whole[i].says), "case %zu: '%s'", i, err);
        rc_check_config_free (&checks, &n);
    }
    /* a haproxy check's server defaults to the host's id */
    ck_assert_int_eq (s_key (&checks, &n, "lb", "haproxy_socket", "tcp://127.0.0.1:9999", err), 0);
    ck_assert_int_eq (s_key (&checks, &n, "lb", "haproxy_backend", "web", err), 0);
    ck_assert_int_eq (s_key (&checks, &n, "lb", "max", "0.05", err), 0);
    ck_assert_int_eq (rc_check_config_finish (checks, n, err, sizeof err), 0);
    ck_assert_str_eq (checks[0].haproxy_server, "{host}");
    ck_assert_int_eq (checks[0].min_requests, RC_CHECK_DEFAULT_MIN_REQUESTS);
    rc_check_config_free (&checks, &n);
}

void
rc_checks_test (bool verbose)
{
    (void)verbose;
    s_expand ();
    s_prometheus ();
    s_verdicts ();
    s_haproxy ();
    s_config ();
}
