/*  checks.c - analysis gates (see checks.h): which hosts a deployment's
    checks hold or fail, when each is evaluated next, and what each answer
    of the evaluator means, recorded in check_state. */
#include "checks.h"
#include "metrics.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_time.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deployments whose check names are kept in memory, at most (the list is
   read again when dropped) */
#define S_NAMES_MAX 1000
/* Schedules kept, at most (one per host and check of active deployments) */
#define S_SCHED_MAX 100000
/* An evaluation not answered within its timeout and this much is taken as
   lost and asked again */
#define S_LOST_MS 5000

struct _rc_checks_t {
    rc_store_t *store;               /* borrowed */
    const rc_check_config_t *config; /* borrowed: the [check NAME]s */
    size_t count;
    rc_check_eval_t *eval; /* the actor that evaluates */
    zhashx_t *names;       /* deployment id -> "a,b" its checks ("" none) */
    zhashx_t *sched;       /* "deployment/host/check" -> s_sched_t */
};

/* When a host's check is evaluated next, on the monotonic clock */
typedef struct {
    int step;           /* the host's step it is for */
    int64_t due;        /* the next evaluation may be sent from then */
    int64_t busy_until; /* one is out until then (0 none) */
} s_sched_t;

/* A check_state row as the gate reads it */
typedef struct {
    char host_id[RC_NAME_MAX + 1];
    char name[RC_NAME_MAX + 1];
    int step;
    int consecutive;
    bool cleared;
    char detail[RC_CHECK_DETAIL_MAX];
} s_row_t;

rc_checks_t *
rc_checks_new (rc_store_t *store, const rc_check_config_t *checks, size_t count)
{
    rc_checks_t *self = (rc_checks_t *)zmalloc (sizeof *self);
    self->store = store;
    self->config = checks;
    self->count = count;
    self->eval = rc_check_eval_new ();
    self->names = zhashx_new ();
    zhashx_set_destructor (self->names, (zhashx_destructor_fn *)zstr_free);
    self->sched = zhashx_new ();
    zhashx_set_destructor (self->sched, (zhashx_destructor_fn *)zstr_free);
    if (!self->eval)
        rc_checks_destroy (&self);
    return self;
}

void
rc_checks_destroy (rc_checks_t **self_p)
{
    if (self_p && *self_p) {
        rc_checks_t *self = *self_p;
        rc_check_eval_destroy (&self->eval);
        zhashx_destroy (&self->names);
        zhashx_destroy (&self->sched);
        free (self);
        *self_p = NULL;
    }
}

zsock_t *
rc_checks_socket (rc_checks_t *self)
{
    return rc_check_eval_socket (self->eval);
}

/* ------------------------------------------------------------------------ */
/* Texts: queries, server names, verdicts */

static int
s_append (char *out, size_t len, size_t *used, const char *text, size_t n)
{
    if (*used + n >= len)
        return -1;
    memcpy (out + *used, text, n);
    *used += n;
    out[*used] = '\0';
    return 0;
}

char *
rc_check_query_expand (const char *query, const rc_check_vars_t *vars, char *err, size_t errlen)
{
    static const char *const names[] = {"$DEPLOYMENT", "$VERSION", "$HOST", "$APP"};
    const char *values[] = {vars->deployment, vars->version, vars->host, vars->app};
    size_t len = 2 * RC_CHECK_QUERY_MAX + 1, used = 0;
    char *out = (char *)zmalloc (len);
    for (const char *c = query; *c;) {
        size_t k = 0;
        while (k < 4 && strncmp (c, names[k], strlen (names[k])) != 0)
            k++;
        if (k == 4) {
            if (s_append (out, len, &used, c, 1) != 0)
                goto too_long;
            c++;
            continue;
        }
        /* names only: a value that is not one never reaches a query */
        if (!values[k] || !rc_name_valid (values[k])) {
            snprintf (err, errlen, "%s: '%.80s' is not a name", names[k],
                      values[k] ? values[k] : "(none)");
            free (out);
            return NULL;
        }
        /* inside PromQL's "...": \ and " escaped (a name has neither; the
           escape holds should what a name may be ever grow) */
        for (const char *v = values[k]; *v; v++) {
            if ((*v == '\\' || *v == '"') && s_append (out, len, &used, "\\", 1) != 0)
                goto too_long;
            if (s_append (out, len, &used, v, 1) != 0)
                goto too_long;
        }
        c += strlen (names[k]);
    }
    return out;
too_long:
    snprintf (err, errlen, "the query is longer than %zu characters once expanded", len - 1);
    free (out);
    return NULL;
}

int
rc_check_server_expand (const char *pattern, const char *host, char *out, size_t len)
{
    if (!rc_name_valid (host))
        return -1;
    size_t used = 0;
    out[0] = '\0';
    for (const char *c = pattern; *c;) {
        if (strncmp (c, "{host}", 6) == 0) {
            if (s_append (out, len, &used, host, strlen (host)) != 0)
                return -1;
            c += 6;
        }
        else if (s_append (out, len, &used, c++, 1) != 0)
            return -1;
    }
    return 0;
}

const char *
rc_check_verdict_name (rc_check_verdict_t verdict)
{
    return verdict == RC_CHECK_PASS ? "pass" : verdict == RC_CHECK_FAIL ? "fail" : "inconclusive";
}

rc_check_verdict_t
rc_check_judge (const rc_check_config_t *c, rc_check_outcome_t outcome, double value,
                const char *detail, char *why, size_t len)
{
    if (outcome == RC_CHECK_VALUE) {
        if (c->has_max && !(value <= c->max)) {
            snprintf (why, len, "value %g above max %g", value, c->max);
            return RC_CHECK_FAIL;
        }
        if (c->has_min && !(value >= c->min)) {
            snprintf (why, len, "value %g below min %g", value, c->min);
            return RC_CHECK_FAIL;
        }
        snprintf (why, len, "value %g within %s%g%s%s%g", value, c->has_min ? "min " : "",
                  c->has_min ? c->min : 0, c->has_min && c->has_max ? ", " : "",
                  c->has_max ? "max " : "", c->has_max ? c->max : 0);
        /* the %g of an absent bound printed 0: say it without it */
        if (!c->has_min)
            snprintf (why, len, "value %g within max %g", value, c->max);
        else if (!c->has_max)
            snprintf (why, len, "value %g within min %g", value, c->min);
        return RC_CHECK_PASS;
    }
    rc_check_verdict_t verdict = c->on_no_data == RC_CHECK_NO_DATA_FAIL   ? RC_CHECK_FAIL
                                 : c->on_no_data == RC_CHECK_NO_DATA_PASS ? RC_CHECK_PASS
                                                                          : RC_CHECK_INCONCLUSIVE;
    snprintf (why, len, "%.200s (on_no_data = %s)", *detail ? detail : "no data",
              rc_check_no_data_name (c->on_no_data));
    return verdict;
}

/* ------------------------------------------------------------------------ */
/* The store */

int
rc_checks_save (rc_store_t *store, const char *deployment_id, char **names, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = rc_store_run (store, rc_store_prepare (store,
                                                    "INSERT INTO deployment_checks (deployment_id, "
                                                    "ord, name) VALUES (?1, ?2, ?3)",
                                                    "tit", deployment_id, (int64_t)i, names[i]));
    return rc;
}

char *
rc_checks_names (rc_store_t *store, const char *deployment_id)
{
    sqlite3_stmt *stmt = rc_store_prepare (store,
                                           "SELECT name FROM deployment_checks WHERE "
                                           "deployment_id = ?1 ORDER BY ord",
                                           "t", deployment_id);
    if (!stmt)
        return NULL;
    char *text = strdup ("");
    int rc;
    while (text && (rc = rc_store_step (store, stmt)) == SQLITE_ROW) {
        char *grown = zsys_sprintf ("%s%s%s", text, *text ? "," : "",
                                    (const char *)sqlite3_column_text (stmt, 0));
        free (text);
        text = grown;
    }
    if (text && rc != SQLITE_DONE) {
        free (text);
        text = NULL;
    }
    rc_store_finalize (store, stmt);
    return text;
}

int
rc_checks_host_rows (rc_store_t *store, const char *deployment_id, const char *host_id, int step,
                     rc_checks_row_fn *fn, void *arg)
{
    sqlite3_stmt *stmt =
        rc_store_prepare (store,
                          "SELECT s.name, s.result, s.value, s.evaluations, s.consecutive, "
                          "s.inconclusive, s.cleared, s.detail FROM check_state s JOIN "
                          "deployment_checks c ON c.deployment_id = s.deployment_id AND c.name = "
                          "s.name WHERE s.deployment_id = ?1 AND s.host_id = ?2 AND s.step = "
                          "(SELECT MAX(step) FROM check_state WHERE deployment_id = ?1 AND "
                          "host_id = ?2 AND step <= ?3) ORDER BY c.ord",
                          "tti", deployment_id, host_id, (int64_t)step);
    if (!stmt)
        return -1;
    int rc;
    while ((rc = rc_store_step (store, stmt)) == SQLITE_ROW) {
        double value = sqlite3_column_double (stmt, 2);
        bool has_value = sqlite3_column_type (stmt, 2) != SQLITE_NULL;
        fn (arg, (const char *)sqlite3_column_text (stmt, 0),
            (const char *)sqlite3_column_text (stmt, 1), has_value ? &value : NULL,
            sqlite3_column_int (stmt, 3), sqlite3_column_int (stmt, 4),
            sqlite3_column_int (stmt, 5), sqlite3_column_int (stmt, 6) != 0,
            (const char *)sqlite3_column_text (stmt, 7));
    }
    rc_store_finalize (store, stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void
s_info_row (void *arg, const char *check, const char *result, const double *value, int evaluations,
            int consecutive, int inconclusive, bool passed, const char *detail)
{
    Rollclone__DeploymentHost *dh = (Rollclone__DeploymentHost *)arg;
    Rollclone__CheckValue *cv = (Rollclone__CheckValue *)zmalloc (sizeof *cv);
    rollclone__check_value__init (cv);
    cv->name = strdup (check);
    cv->result = strdup (result);
    cv->has_value = value != NULL;
    cv->value = value ? *value : 0;
    cv->evaluations = (uint32_t)evaluations;
    cv->consecutive_failures = (uint32_t)consecutive;
    cv->inconclusive = (uint32_t)inconclusive;
    cv->passed = passed;
    cv->detail = strdup (detail);
    Rollclone__CheckValue **grown =
        (Rollclone__CheckValue **)realloc (dh->checks, (dh->n_checks + 1) * sizeof *dh->checks);
    if (!grown) {
        rollclone__check_value__free_unpacked (cv, NULL);
        return;
    }
    dh->checks = grown;
    dh->checks[dh->n_checks++] = cv;
}

int
rc_checks_info (rc_store_t *store, Rollclone__DeploymentInfo *info, const rc_dhost_t *hosts,
                size_t n, int batch)
{
    char *names = rc_checks_names (store, info->id);
    if (!names)
        return -1;
    int rc = 0;
    for (char *c = names; *c;) {
        size_t len = strcspn (c, ",");
        char **grown = (char **)realloc (info->checks, (info->n_checks + 1) * sizeof *grown);
        if (!grown)
            break;
        info->checks = grown;
        info->checks[info->n_checks++] = strndup (c, len);
        c += len + (c[len] == ',');
    }
    for (size_t i = 0; *names && rc == 0 && i < n && i < info->n_hosts; i++) {
        const rc_dhost_t *h = &hosts[i];
        bool current = batch > 0 && h->batch == batch;
        if (current
            || strncmp (h->failure, RC_CHECK_FAILURE_PREFIX, strlen (RC_CHECK_FAILURE_PREFIX)) == 0)
            rc = rc_checks_host_rows (store, info->id, h->host_id, h->step, s_info_row,
                                      info->hosts[i]);
    }
    free (names);
    return rc;
}

/* The rows of deployment id: *rows (caller frees), or -1. */
static int
s_rows (rc_checks_t *self, const char *id, s_row_t **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *stmt = rc_store_prepare (self->store,
                                           "SELECT host_id, name, step, consecutive, cleared, "
                                           "detail FROM check_state WHERE deployment_id = ?1",
                                           "t", id);
    if (!stmt)
        return -1;
    int rc;
    size_t cap = 0;
    while ((rc = rc_store_step (self->store, stmt)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            s_row_t *grown = (s_row_t *)realloc (*rows, cap * sizeof *grown);
            if (!grown)
                break;
            *rows = grown;
        }
        s_row_t *r = &(*rows)[(*n)++];
        snprintf (r->host_id, sizeof r->host_id, "%s", sqlite3_column_text (stmt, 0));
        snprintf (r->name, sizeof r->name, "%s", sqlite3_column_text (stmt, 1));
        r->step = sqlite3_column_int (stmt, 2);
        r->consecutive = sqlite3_column_int (stmt, 3);
        r->cleared = sqlite3_column_int (stmt, 4) != 0;
        snprintf (r->detail, sizeof r->detail, "%s", sqlite3_column_text (stmt, 5));
    }
    rc_store_finalize (self->store, stmt);
    if (rc != SQLITE_DONE) {
        free (*rows);
        *rows = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

/* The check names of deployment id (borrowed, "" for none), or NULL. */
static const char *
s_names (rc_checks_t *self, const char *id)
{
    const char *names = (const char *)zhashx_lookup (self->names, id);
    if (names)
        return names;
    char *read = rc_checks_names (self->store, id);
    if (!read)
        return NULL;
    if (zhashx_size (self->names) >= S_NAMES_MAX)
        zhashx_purge (self->names);
    zhashx_update (self->names, id, read);
    return read;
}

/* ------------------------------------------------------------------------ */
/* Validation (deploy --check) */

int
rc_checks_validate (const rc_checks_t *self, char **names, size_t n, char *err, size_t errlen)
{
    if (n > RC_CHECKS_PER_DEPLOYMENT_MAX) {
        snprintf (err, errlen, "--check given %zu times: a deployment is held to at most %d checks",
                  n, RC_CHECKS_PER_DEPLOYMENT_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!rc_name_valid (names[i])) {
            snprintf (err, errlen, "--check '%.80s' is not a check name ([A-Za-z0-9._+-]{1,%d})",
                      names[i], RC_NAME_MAX);
            return -1;
        }
        if (!self || !rc_check_config_find (self->config, self->count, names[i])) {
            snprintf (err, errlen, "--check '%s': the coordinator's config has no [check %s]",
                      names[i], names[i]);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (streq (names[i], names[j])) {
                snprintf (err, errlen, "--check '%s' given twice", names[i]);
                return -1;
            }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The gate */

static void
s_sched_key (const char *dep, const char *host, const char *check, char *key, size_t len)
{
    snprintf (key, len, "%s/%s/%s", dep, host, check);
}

/* %-encodes text for a URL's query string (caller frees) */
static char *
s_url_encode (const char *text)
{
    size_t len = strlen (text);
    char *out = (char *)zmalloc (3 * len + 1);
    size_t used = 0;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (isalnum (*c) || *c == '-' || *c == '.' || *c == '_' || *c == '~')
            out[used++] = (char)*c;
        else
            used += (size_t)snprintf (out + used, 4, "%%%02X", *c);
    }
    out[used] = '\0';
    return out;
}

/* Sends host h's evaluation of c when one is due. */
static void
s_schedule (rc_checks_t *self, const rc_deployment_t *dep, const rc_dhost_t *h,
            const rc_check_config_t *c, bool final, int64_t mono)
{
    char key[RC_ID_MAX + 2 * RC_NAME_MAX + 3];
    s_sched_key (dep->id, h->host_id, c->name, key, sizeof key);
    s_sched_t *s = (s_sched_t *)zhashx_lookup (self->sched, key);
    if (!s) {
        if (zhashx_size (self->sched) >= S_SCHED_MAX)
            zhashx_purge (self->sched);
        s = (s_sched_t *)zmalloc (sizeof *s);
        s->step = h->step;
        zhashx_insert (self->sched, key, s);
    }
    if (s->step != h->step) {
        s->step = h->step;
        s->due = s->busy_until = 0;
    }
    if (s->busy_until > mono || mono < s->due)
        return;
    rc_check_job_t *job = (rc_check_job_t *)zmalloc (sizeof *job);
    snprintf (job->deployment_id, sizeof job->deployment_id, "%s", dep->id);
    snprintf (job->host_id, sizeof job->host_id, "%s", h->host_id);
    snprintf (job->check, sizeof job->check, "%s", c->name);
    job->step = h->step;
    job->final = final;
    job->timeout_ms = c->timeout_ms;
    job->want_max = c->has_max;
    job->min_requests = c->min_requests;
    char err[256] = "";
    if (c->query) {
        rc_check_vars_t vars = {h->host_id, dep->app, dep->version, dep->id};
        char *query = rc_check_query_expand (c->query, &vars, err, sizeof err);
        char *encoded = query ? s_url_encode (query) : NULL;
        size_t base = strlen (c->prometheus);
        while (base > 0 && c->prometheus[base - 1] == '/')
            base--;
        if (encoded)
            job->url =
                zsys_sprintf ("%.*s/api/v1/query?query=%s", (int)base, c->prometheus, encoded);
        free (query);
        free (encoded);
    }
    else {
        job->socket = strdup (c->haproxy_socket);
        snprintf (job->backend, sizeof job->backend, "%s", c->haproxy_backend);
        if (rc_check_server_expand (c->haproxy_server, h->host_id, job->server, sizeof job->server)
            != 0)
            snprintf (err, sizeof err, "haproxy_server '%s' does not fit once expanded",
                      c->haproxy_server);
    }
    if (!job->url && !job->socket) {
        rc_log_error ("deployment %s: check %s on %s: %s", dep->id, c->name, h->host_id, err);
        rc_check_job_destroy (&job);
        s->due = mono + c->interval_ms;
        return;
    }
    s->due = mono + c->interval_ms;
    s->busy_until = mono + c->timeout_ms + S_LOST_MS;
    rc_check_eval_send (self->eval, &job);
}

static const s_row_t *
s_row_find (const s_row_t *rows, size_t n, const rc_dhost_t *h, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].step == h->step && streq (rows[i].host_id, h->host_id)
            && streq (rows[i].name, name))
            return &rows[i];
    return NULL;
}

int
rc_checks_gate (void *arg, rc_rollout_t *rollout, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n,
                int64_t now, int *inflight)
{
    rc_checks_t *self = (rc_checks_t *)arg;
    if (dep->batch <= 0 || dep->state == RC_DEP_ROLLING_BACK)
        return 0;
    const char *names = s_names (self, dep->id);
    if (names && !*names)
        return 0;
    s_row_t *rows = NULL;
    size_t nrows = 0;
    int held = 0, failures = 0, rc = 0;
    bool settled = true;
    for (size_t i = 0; i < n; i++) {
        failures += rc_rollout_host_counts_failed (&hosts[i]);
        if (hosts[i].batch == dep->batch && rc_rollout_in_step (&hosts[i], RC_HOST_UPDATING))
            settled = false;
    }
    if (!names || s_rows (self, dep->id, &rows, &nrows) != 0) {
        /* the store could not say: no host of the batch is let through
           unchecked; the next advance reads again */
        rc_log_error ("deployment %s: checks: store: %s", dep->id, rc_store_errmsg (self->store));
        for (size_t i = 0; i < n; i++)
            held += hosts[i].batch == dep->batch && hosts[i].state == RC_HOST_SUCCEEDED;
        *inflight += held;
        return 0;
    }
    int64_t mono = rc_mono_ms ();
    for (size_t i = 0; i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        bool done = h->state == RC_HOST_SUCCEEDED;
        /* on the new release: its health check and soak, then back in
           the load balancer */
        bool soaking = h->state == RC_HOST_UPDATING
                       && (streq (h->phase, "health") || streq (h->phase, "undrain"));
        if (h->batch != dep->batch || (!done && !soaking))
            continue;
        bool hold = false;
        char failure[RC_NAME_MAX + 8] = "", error[RC_TEXT_MAX] = "";
        for (const char *c = names; *c && !*failure;) {
            size_t len = strcspn (c, ",");
            char name[RC_NAME_MAX + 1];
            snprintf (name, sizeof name, "%.*s", (int)len, c);
            c += len + (c[len] == ',');
            const rc_check_config_t *cfg = rc_check_config_find (self->config, self->count, name);
            const s_row_t *row = s_row_find (rows, nrows, h, name);
            if (!cfg && !done)
                continue; /* judged once the agent is done with the host */
            if (!cfg) {
                /* the coordinator was restarted with a config without it:
                   it can never pass, and the deployment was held to it */
                snprintf (failure, sizeof failure, RC_CHECK_FAILURE_PREFIX "%s", name);
                snprintf (error, sizeof error,
                          "the coordinator's config has no [check %s] any more", name);
            }
            else if (done && row && row->consecutive >= cfg->failures) {
                snprintf (failure, sizeof failure, RC_CHECK_FAILURE_PREFIX "%s", name);
                snprintf (error, sizeof error, "%s (%d evaluation(s) in a row)", row->detail,
                          row->consecutive);
            }
            else if (!(row && row->cleared)) {
                hold = true;
                s_schedule (self, dep, h, cfg, done && settled, mono);
            }
        }
        if (*failure) {
            rc |= rc_rollout_host_fail (rollout, dep, h, RC_HOST_FAILED, failure, true, error, now);
            failures++;
        }
        else if (done && hold)
            held++;
    }
    free (rows);
    /* a host a check failed is on the new release: only the coordinator
       knows it is bad, so it puts the host back now, as its agent does
       after a failed health check (one offline then, when it is back) */
    for (size_t i = 0; i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        if (h->state != RC_HOST_FAILED || !h->needs_rollback
            || strncmp (h->failure, RC_CHECK_FAILURE_PREFIX, strlen (RC_CHECK_FAILURE_PREFIX)) != 0)
            continue;
        rc |= rc_rollout_put_back (rollout, dep, h, now);
        *inflight += h->state == RC_HOST_ROLLING_BACK;
    }
    /* a deployment that stops anyway waits for no gate */
    if (!dep->abort_requested && failures <= dep->max_fail)
        *inflight += held;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Answers */

/* Records job's verdict for host h (in the open transaction). */
static int
s_record (rc_checks_t *self, const rc_deployment_t *dep, const rc_check_config_t *c,
          const rc_check_job_t *job, int64_t now)
{
    char why[RC_CHECK_DETAIL_MAX + 64];
    rc_check_verdict_t verdict =
        rc_check_judge (c, job->outcome, job->value, job->detail, why, sizeof why);
    int evaluations = 0, consecutive = 0, inconclusive = 0, final_inconclusive = 0;
    bool cleared = false;
    sqlite3_stmt *stmt =
        rc_store_prepare (self->store,
                          "SELECT evaluations, consecutive, inconclusive, "
                          "final_inconclusive, cleared FROM check_state WHERE "
                          "deployment_id = ?1 AND host_id = ?2 AND name = ?3 AND "
                          "step = ?4",
                          "ttti", dep->id, job->host_id, c->name, (int64_t)job->step);
    if (!stmt)
        return -1;
    int step_rc = rc_store_step (self->store, stmt);
    if (step_rc == SQLITE_ROW) {
        evaluations = sqlite3_column_int (stmt, 0);
        consecutive = sqlite3_column_int (stmt, 1);
        inconclusive = sqlite3_column_int (stmt, 2);
        final_inconclusive = sqlite3_column_int (stmt, 3);
        cleared = sqlite3_column_int (stmt, 4) != 0;
    }
    rc_store_finalize (self->store, stmt);
    if (step_rc != SQLITE_ROW && step_rc != SQLITE_DONE)
        return -1;
    bool was_cleared = cleared;
    evaluations++;
    if (verdict == RC_CHECK_FAIL)
        consecutive++;
    else if (verdict == RC_CHECK_PASS)
        consecutive = 0;
    else
        inconclusive++;
    /* an evaluation made once the batch had finished decides: a pass lets
       the host through; inconclusive ones (no data: a host just back in
       its load balancer may have had no request yet) are asked again, and
       after `failures` of them in a row the host passes, with no evidence
       against it (on_no_data = inconclusive neither passes nor fails) */
    if (job->final && verdict == RC_CHECK_INCONCLUSIVE)
        final_inconclusive++;
    else if (job->final)
        final_inconclusive = 0;
    if (job->final
        && (verdict == RC_CHECK_PASS
            || (verdict == RC_CHECK_INCONCLUSIVE && final_inconclusive >= c->failures)))
        cleared = true;
    char value[64] = "";
    if (job->outcome == RC_CHECK_VALUE)
        snprintf (value, sizeof value, "%.17g", job->value);
    int rc = rc_store_run (
        self->store,
        rc_store_prepare (self->store,
                          "INSERT OR REPLACE INTO check_state (deployment_id, host_id, name, "
                          "step, evaluations, consecutive, inconclusive, result, value, detail, "
                          "final_inconclusive, cleared, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                          "?7, ?8, CAST(NULLIF(?9, '') AS REAL), ?10, ?11, ?12, ?13)",
                          "tttiiiitttibi", dep->id, job->host_id, c->name, (int64_t)job->step,
                          (int64_t)evaluations, (int64_t)consecutive, (int64_t)inconclusive,
                          rc_check_verdict_name (verdict), value, why, (int64_t)final_inconclusive,
                          cleared, now));
    if (rc != 0)
        return rc;
    if (verdict == RC_CHECK_FAIL)
        rc = rc_store_eventf (self->store, dep->id, job->host_id, "check_failed",
                              "%s: %s (%d of %d in a row)", c->name, why, consecutive, c->failures);
    else if (verdict == RC_CHECK_INCONCLUSIVE)
        rc = rc_store_eventf (
            self->store, dep->id, job->host_id, "check_inconclusive", "%s: %s%s", c->name, why,
            cleared && !was_cleared ? ": the batch has finished and no evaluation failed, the host "
                                      "passes"
                                    : "");
    else if (cleared && !was_cleared)
        rc = rc_store_eventf (self->store, dep->id, job->host_id, "check_passed",
                              "%s: %s after %d evaluation(s)", c->name, why, evaluations);
    if (rc == 0)
        rc_metrics_count_check (c->name, rc_check_verdict_name (verdict));
    return rc;
}

int
rc_checks_on_answer (rc_checks_t *self, char *id)
{
    rc_check_job_t *job = rc_check_eval_recv (self->eval);
    if (!job)
        return 0;
    int moved = 0;
    char key[RC_ID_MAX + 2 * RC_NAME_MAX + 3];
    s_sched_key (job->deployment_id, job->host_id, job->check, key, sizeof key);
    s_sched_t *s = (s_sched_t *)zhashx_lookup (self->sched, key);
    if (s && s->step == job->step)
        s->busy_until = 0;
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    rc_dhost_t *h = (rc_dhost_t *)zmalloc (sizeof *h);
    const rc_check_config_t *c = rc_check_config_find (self->config, self->count, job->check);
    if (job->outcome == RC_CHECK_BASELINE || !c)
        goto out;
    /* an answer for a host or deployment that has moved on since is old */
    if (rc_deployment_load (self->store, job->deployment_id, dep) != 1
        || !rc_deployment_active (dep) || dep->state == RC_DEP_ROLLING_BACK) {
        zhashx_delete (self->sched, key);
        goto out;
    }
    if (rc_dhost_load_one (self->store, dep->id, job->host_id, h) != 1 || h->step != job->step
        || !(h->state == RC_HOST_UPDATING || h->state == RC_HOST_SUCCEEDED))
        goto out;
    int64_t now = rc_now_ms ();
    int rc = rc_store_begin (self->store);
    if (rc == 0)
        rc = s_record (self, dep, c, job, now);
    if (rc == 0)
        rc = rc_store_commit (self->store);
    if (rc != 0) {
        /* the evaluation is lost, not half-counted: the next one is asked */
        rc_log_error ("deployment %s: check %s on %s: store: %s", dep->id, c->name, h->host_id,
                      rc_store_errmsg (self->store));
        rc_store_rollback (self->store);
        goto out;
    }
    snprintf (id, RC_ID_MAX, "%s", dep->id);
    moved = 1;
out:
    free (h);
    free (dep);
    rc_check_job_destroy (&job);
    return moved;
}
