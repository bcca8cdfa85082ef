/*  control.c - the control requests that change something: deploy,
    pause/resume/abort and rollback (see control.h), and the dispatch of
    every request. Each validates all of its input before it writes, and
    writes in one transaction. */
#include "control.h"
#include "bluegreen.h"
#include "metrics.h"
#include "control_reply.h"
#include "deployments.h"
#include "plan.h"
#include "rc_defaults.h"
#include "rc_ids.h"
#include "rc_join.h"
#include "rc_log.h"
#include "rc_signature.h"
#include "rc_sources.h"
#include "rc_time.h"
#include "retry.h"
#include "rollout.h"
#include "strategy.h"
#include "window.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct _rc_control_t {
    rc_store_t *store;             /* borrowed */
    rc_engine_t *engine;           /* borrowed: advances what a request changed */
    rc_fleet_t *fleet;             /* borrowed: the live view of the hosts */
    rc_backup_t *backup;           /* borrowed */
    const rc_counters_t *counters; /* borrowed */
    int64_t offline_grace;         /* default of --offline-grace (0 = the health timeout) */
    rc_freeze_t *freeze;           /* borrowed: freezes, or NULL */
    rc_checks_t *checks;           /* borrowed: the [check NAME]s, or NULL */
};

rc_control_t *
rc_control_new (rc_store_t *store, rc_engine_t *engine, rc_fleet_t *fleet, rc_backup_t *backup,
                const rc_counters_t *counters, int64_t offline_grace)
{
    rc_control_t *self = (rc_control_t *)zmalloc (sizeof *self);
    self->store = store;
    self->engine = engine;
    self->fleet = fleet;
    self->backup = backup;
    self->counters = counters;
    self->offline_grace = offline_grace > 0 ? offline_grace : 0;
    return self;
}

void
rc_control_set_freeze (rc_control_t *self, rc_freeze_t *freeze)
{
    self->freeze = freeze;
}

void
rc_control_set_checks (rc_control_t *self, rc_checks_t *checks)
{
    self->checks = checks;
}

void
rc_control_destroy (rc_control_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

static int
s_host_cmp (const void *a, const void *b)
{
    return rc_strategy_host_cmp ((const char *)a, (const char *)b);
}

typedef struct {
    rc_control_t *self;
    const char *app;
    rc_label_t *select;
    int nselect;
    zlistx_t *chosen;     /* host ids */
    zlistx_t *lacking;    /* matching labels but without the app */
    zlistx_t *unselected; /* not matching the labels (a plan lists them) */
    bool failed;          /* a read failed: the selection is not whole */
} s_select_t;

/* 1 the host has app, 0 not, -1 the store could not say. */
static int
s_host_has_app (rc_control_t *self, const char *host_id, const char *app)
{
    sqlite3_stmt *stmt = rc_store_prepare (
        self->store, "SELECT 1 FROM host_apps WHERE host_id = ?1 AND app = ?2", "tt", host_id, app);
    int rc = stmt ? rc_store_step (self->store, stmt) : SQLITE_ERROR;
    rc_store_finalize (self->store, stmt);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* A host chosen (by its labels, or a retry's list): it goes if it has the
   app. */
static void
s_select_id (s_select_t *sel, const char *id)
{
    int has = s_host_has_app (sel->self, id, sel->app);
    if (has < 0)
        sel->failed = true;
    else
        zlistx_add_end (has ? sel->chosen : sel->lacking, (void *)id);
}

static void
s_select_host (void *arg, const rc_host_row_t *row)
{
    s_select_t *sel = (s_select_t *)arg;
    rc_label_t labels[RC_LABELS_MAX];
    char err[128];
    int n = rc_labels_parse (row->labels, labels, RC_LABELS_MAX, err, sizeof err);
    for (int i = 0; i < sel->nselect; i++) {
        bool found = false;
        for (int j = 0; j < n && !found; j++)
            found = streq (labels[j].key, sel->select[i].key)
                    && streq (labels[j].value, sel->select[i].value);
        if (!found) {
            zlistx_add_end (sel->unselected, (void *)row->id);
            return;
        }
    }
    s_select_id (sel, row->id);
}

/* The hosts of a deploy: those --select and the app choose, or a retry's. */
static int
s_select (rc_control_t *self, s_select_t *sel, const rc_retry_t *retry)
{
    zlistx_t *lists[] = {sel->chosen = zlistx_new (), sel->lacking = zlistx_new (),
                         sel->unselected = zlistx_new ()};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        zlistx_set_duplicator (lists[i], (zlistx_duplicator_fn *)strdup);
        zlistx_set_destructor (lists[i], (zlistx_destructor_fn *)zstr_free);
    }
    zlistx_set_comparator (sel->chosen, s_host_cmp);
    if (!retry)
        return rc_store_hosts_each (self->store, s_select_host, sel);
    /* the hosts the deployment retried did not leave on its version */
    zlistx_t *again = zlistx_new ();
    zlistx_set_duplicator (again, (zlistx_duplicator_fn *)strdup);
    zlistx_set_destructor (again, (zlistx_destructor_fn *)zstr_free);
    int rc = rc_retry_hosts (self->store, retry->of.id, again);
    for (char *id = (char *)zlistx_first (again); rc == 0 && id; id = (char *)zlistx_next (again))
        s_select_id (sel, id);
    zlistx_destroy (&again);
    return rc;
}

/* NULL when no deployment of app is active, else the error reply to give
   (one at a time per app; a store that cannot tell is not "none"). */
/* Commits the request's transaction when rc is 0; else, or when the
   commit fails, rolls it back. NULL, or the reply that says why. */
static Rollclone__ControlReply *
s_commit (rc_control_t *self, int rc)
{
    if (rc == 0)
        rc = rc_store_commit (self->store);
    if (rc == 0)
        return NULL;
    Rollclone__ControlReply *reply =
        rc_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
    rc_store_rollback (self->store);
    return reply;
}

static Rollclone__ControlReply *
s_app_busy (rc_control_t *self, const char *app)
{
    char active[RC_ID_MAX];
    int busy = rc_deployment_app_busy (self->store, app, active);
    if (busy < 0)
        return rc_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
    if (busy)
        return rc_reply_error (RC_EXIT_USAGE,
                               "deployment %s of app '%s' is still running: one at a time per "
                               "app (wait for it, or `rollclone abort %s`)",
                               active, app, active);
    return NULL;
}

static void
s_new_id (char *out, size_t len)
{
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    char stamp[32];
    strftime (stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf (out, len, "d-%s-%04x", stamp, (unsigned)randombytes_uniform (0x10000));
}

/* The agents decide what they accept (artifact_sources); refused here is
   only what no agent could accept: another scheme, a user name, dot or
   empty segments, encoded separators (rc_sources.h). */
static bool
s_url_ok (const char *url, char *err, size_t errlen)
{
    if (strlen (url) >= RC_URL_MAX) {
        snprintf (err, errlen, "'%.80s...': longer than %d bytes", url, RC_URL_MAX - 1);
        return false;
    }
    return rc_sources_check_url (url, err, errlen) == 0;
}

static bool
s_sha_ok (const char *sha)
{
    if (strlen (sha) != 64)
        return false;
    for (const char *c = sha; *c; c++)
        if (!isxdigit ((unsigned char)*c))
            return false;
    return true;
}

/* The window and rollback batch of dep for its created event ("" when it
   has neither). */
static void
s_slide_text (const rc_deployment_t *dep, char *out, size_t len)
{
    *out = 0;
    if (dep->window_hosts)
        snprintf (out, len, ", then a window of %s (%d host(s))", dep->window_spec,
                  dep->window_hosts);
    if (*dep->rollback_spec) {
        size_t used = strlen (out);
        snprintf (out + used, len - used, ", rollback batch %s", dep->rollback_spec);
    }
}

Rollclone__ControlReply *
rc_control_deploy (rc_control_t *self, const Rollclone__DeployRequest *asked)
{
    char err[256];
    /* --retry ID: the request is that deployment's, with what was given */
    rc_retry_t *retry = NULL;
    const Rollclone__DeployRequest *req = asked;
    if (*asked->retry_of) {
        retry = (rc_retry_t *)zmalloc (sizeof *retry);
        int code = rc_retry_prepare (self->store, asked, retry, err, sizeof err);
        if (code != RC_EXIT_OK) {
            free (retry);
            return rc_reply_error (code, "%s", err);
        }
        req = &retry->req;
    }
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    Rollclone__ControlReply *reply = NULL;
    s_select_t sel = {.self = self, .app = req->app};
    rc_label_t select[RC_LABELS_MAX];

    if (!rc_name_valid (req->app)) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--app '%s' must be [A-Za-z0-9._+-]{1,%d}", req->app,
                                RC_NAME_MAX);
        goto out;
    }
    if (!rc_name_valid (req->version)) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--version '%s' must be [A-Za-z0-9._+-]{1,%d}",
                                req->version, RC_NAME_MAX);
        goto out;
    }
    char why[RC_URL_MAX + 256];
    if (!s_url_ok (req->artifact_url, why, sizeof why)) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--artifact %s", why);
        goto out;
    }
    /* agents refuse an instruction without one, whatever the scheme */
    if (!*req->sha256) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--sha256 is required (artifact '%s')",
                                req->artifact_url);
        goto out;
    }
    if (!s_sha_ok (req->sha256)) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--sha256 '%s' is not 64 hex digits", req->sha256);
        goto out;
    }
    if (*req->signature) {
        rc_signature_t sig;
        if (rc_signature_parse (req->signature, strlen (req->signature), &sig, why, sizeof why)
            != 0) {
            reply = rc_reply_error (RC_EXIT_USAGE, "--signature: %s", why);
            goto out;
        }
        /* a signature for other bytes or another version is refused by
           every agent: say so now, once */
        if (strcasecmp (sig.sha256, req->sha256) != 0) {
            reply = rc_reply_error (RC_EXIT_USAGE, "--signature is for sha256 %s, not --sha256 %s",
                                    sig.sha256, req->sha256);
            goto out;
        }
        if (strcmp (sig.version, RC_SIGNATURE_ANY) != 0 && strcmp (sig.version, req->version)) {
            reply = rc_reply_error (RC_EXIT_USAGE, "--signature is for version %s, not %s",
                                    sig.version, req->version);
            goto out;
        }
    }
    /* every field must fit its column whole: a cut strategy would be
       another strategy */
    struct {
        const char *flag, *value;
        size_t max;
    } sizes[] = {
        {"--select", req->select, sizeof dep->selector},
        {"--batch", req->batch, sizeof dep->batch_spec},
        {"--max-fail", req->max_fail, sizeof dep->max_fail_spec},
        {"--pause", req->pause, sizeof dep->pause_spec},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (strlen (sizes[i].value) >= sizes[i].max) {
            reply = rc_reply_error (RC_EXIT_USAGE, "%s is too long (%zu characters, at most %zu)",
                                    sizes[i].flag, strlen (sizes[i].value), sizes[i].max - 1);
            goto out;
        }
    sel.nselect = rc_labels_parse (req->select, select, RC_LABELS_MAX, err, sizeof err);
    if (sel.nselect < 0) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--select '%s': %s", req->select, err);
        goto out;
    }
    sel.select = select;
    const char *batch = rc_slide_batch_spec (req, RC_DEFAULT_BATCH);
    if (rc_strategy_batch_count (batch, 1) < 0) {
        reply = rc_reply_error (RC_EXIT_USAGE,
                                "--batch '%s' must be N, N%% or a ramp like 1,10%%,50%% (each > 0)",
                                batch);
        goto out;
    }
    if (rc_slide_check (req, err, sizeof err) != 0) {
        reply = rc_reply_error (RC_EXIT_USAGE, "%s", err);
        goto out;
    }
    const char *max_fail = *req->max_fail ? req->max_fail : RC_DEFAULT_MAX_FAIL;
    if (rc_strategy_max_fail (max_fail, 1) < 0) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--max-fail '%s' must be N or N%%", max_fail);
        goto out;
    }
    if (!rc_strategy_duration (req->soak, RC_DEFAULT_SOAK_MS, &dep->soak_ms)) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--soak '%s' is not a duration (500ms, 10s, 5m, 1h)",
                                req->soak);
        goto out;
    }
    if (!rc_strategy_duration (req->health_timeout, RC_DEFAULT_HEALTH_TIMEOUT_MS,
                               &dep->health_timeout_ms)) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--health-timeout '%s' is not a duration",
                                req->health_timeout);
        goto out;
    }
    if (!rc_strategy_duration (req->progress_deadline, RC_DEFAULT_PROGRESS_DEADLINE_MS,
                               &dep->progress_deadline_ms)) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--progress-deadline '%s' is not a duration",
                                req->progress_deadline);
        goto out;
    }
    int64_t grace_default = self->offline_grace ? self->offline_grace : dep->health_timeout_ms;
    if (!rc_strategy_duration (req->offline_grace, grace_default, &dep->offline_grace_ms)) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--offline-grace '%s' is not a duration",
                                req->offline_grace);
        goto out;
    }
    bool manual;
    int64_t pause_ms;
    if (!rc_strategy_pause (req->pause, &manual, &pause_ms)) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--pause '%s' must be a duration or 'manual'",
                                req->pause);
        goto out;
    }
    /* run-once steps name the agents' own commands: a name, never a
       command line */
    const char *once_flags[RC_ONCE_WHEN_COUNT] = {"--before", "--after"};
    const char *once_names[RC_ONCE_WHEN_COUNT] = {req->before, req->after};
    for (int w = 0; w < RC_ONCE_WHEN_COUNT; w++)
        if (*once_names[w] && !rc_run_once_name_valid (once_names[w])) {
            reply = rc_reply_error (RC_EXIT_USAGE,
                                    "%s '%.80s' must be a NAME of [A-Za-z0-9_-]{1,%d} (the "
                                    "agents' run_once_NAME), not a command line",
                                    once_flags[w], once_names[w], RC_RUN_ONCE_NAME_MAX);
            goto out;
        }
    const char *strategy = rc_bluegreen_strategy (req->strategy);
    if (!strategy) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--strategy '%.80s' must be rolling or blue-green",
                                req->strategy);
        goto out;
    }
    if (*req->run_on && !*req->before && !*req->after) {
        reply = rc_reply_error (RC_EXIT_USAGE, "--run-on '%.80s' needs --before or --after",
                                req->run_on);
        goto out;
    }
    /* a gate judges the traffic a host serves: a blue-green stage serves
       none until the switch, so every evaluation would find no data */
    if (req->n_checks && strcmp (strategy, "blue-green") == 0) {
        reply = rc_reply_error (RC_EXIT_USAGE,
                                "--check cannot gate a blue-green deployment: its staged hosts "
                                "serve no traffic before the switch (use --strategy rolling)");
        goto out;
    }
    /* analysis gates: names of the coordinator's own [check NAME]s */
    if (rc_checks_validate (self->checks, req->checks, req->n_checks, err, sizeof err) != 0) {
        reply = rc_reply_error (RC_EXIT_USAGE, "%s", err);
        goto out;
    }
    reply = s_app_busy (self, req->app);
    if (reply)
        goto out;
    if (s_select (self, &sel, retry) != 0 || sel.failed) {
        reply = rc_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
        goto out;
    }
    int total = (int)zlistx_size (sel.chosen);
    if (total == 0 && retry) {
        reply = rc_reply_error (RC_EXIT_USAGE,
                                "--retry: deployment %s left no failed or skipped host that still "
                                "has app '%s' (it %s)",
                                retry->of.id, req->app, rc_dep_state_name (retry->of.state));
        goto out;
    }
    if (total == 0) {
        reply = rc_reply_error (RC_EXIT_USAGE, "no host has app '%s'%s%s%s", req->app,
                                *req->select ? " among those matching --select '" : "", req->select,
                                *req->select ? "'" : "");
        goto out;
    }
    zlistx_sort (sel.chosen);
    if (*req->run_on && !zlistx_find (sel.chosen, (void *)req->run_on)) {
        reply = rc_reply_error (RC_EXIT_USAGE,
                                "--run-on '%.80s' is not one of the %d host(s) this deploy selects "
                                "(with app '%s'%s%s%s)",
                                req->run_on, total, req->app, *req->select ? " and --select '" : "",
                                req->select, *req->select ? "'" : "");
        goto out;
    }
    if (req->plan) {
        rc_plan_deploy_t how = {sel.chosen,
                                sel.lacking,
                                sel.unselected,
                                batch,
                                max_fail,
                                dep->progress_deadline_ms,
                                manual ? 0 : pause_ms,
                                *req->window ? rc_strategy_window (req->window, total) : 0};
        reply = rc_plan_deploy (req, &how, rc_fleet_view, self->fleet, self->freeze);
        if (reply && reply->rep_case == ROLLCLONE__CONTROL_REPLY__REP_PLAN) {
            free (reply->plan->strategy != protobuf_c_empty_string ? reply->plan->strategy : NULL);
            reply->plan->strategy = strdup (strategy);
        }
        goto out;
    }

    int64_t now = rc_now_ms ();
    s_new_id (dep->id, sizeof dep->id);
    RC_SET (dep->kind, "deploy");
    RC_SET (dep->operator_name, rc_store_operator (self->store));
    RC_SET (dep->retry_of, retry ? retry->of.id : "");
    dep->ignore_freeze = req->ignore_freeze;
    RC_SET (dep->app, req->app);
    RC_SET (dep->version, req->version);
    RC_SET (dep->artifact_url, req->artifact_url);
    RC_SET (dep->sha256, req->sha256);
    RC_SET (dep->signature, req->signature);
    for (char *c = dep->sha256; *c; c++)
        *c = (char)tolower ((unsigned char)*c);
    RC_SET (dep->selector, req->select);
    RC_SET (dep->batch_spec, batch);
    RC_SET (dep->max_fail_spec, max_fail);
    dep->max_fail = rc_strategy_max_fail (max_fail, total);
    RC_SET (dep->pause_spec, req->pause);
    RC_SET (dep->strategy, strategy);
    dep->auto_rollback = !req->no_auto_rollback;
    dep->state = RC_DEP_RUNNING;
    RC_SET (dep->window_spec, req->window);
    dep->window_hosts = *req->window ? rc_strategy_window (req->window, total) : 0;
    RC_SET (dep->rollback_spec, req->rollback_batch);
    dep->total_batches = rc_slide_batch_count (batch, dep->window_hosts, total);
    dep->gate_open = true;
    dep->abort_rollback = true;
    dep->created = dep->updated = dep->progress = now;
    char once_text[2 * RC_RUN_ONCE_NAME_MAX + RC_NAME_MAX + 80
                   + RC_CHECKS_PER_DEPLOYMENT_MAX * (RC_NAME_MAX + 1)] = "";
    for (int w = 0; w < RC_ONCE_WHEN_COUNT; w++) {
        if (!*once_names[w])
            continue;
        dep->once[w].state = RC_ONCE_PENDING;
        RC_SET (dep->once[w].name, once_names[w]);
        RC_SET (dep->once[w].run_on, req->run_on);
        size_t used = strlen (once_text);
        snprintf (once_text + used, sizeof once_text - used, ", %s %s", rc_once_when_name (w),
                  once_names[w]);
    }
    if (*req->run_on) {
        size_t used = strlen (once_text);
        snprintf (once_text + used, sizeof once_text - used, " on %s", req->run_on);
    }

    if (req->n_checks) {
        size_t used = strlen (once_text);
        snprintf (once_text + used, sizeof once_text - used, ", checks");
        for (size_t i = 0; i < req->n_checks; i++) {
            used = strlen (once_text);
            snprintf (once_text + used, sizeof once_text - used, "%s%s", i ? "," : " ",
                      req->checks[i]);
        }
    }

    char slide[96];
    s_slide_text (dep, slide, sizeof slide);
    int rc = rc_store_begin (self->store);
    if (rc == 0)
        rc = rc_deployment_insert (self->store, dep);
    if (rc == 0)
        rc = rc_checks_save (self->store, dep->id, req->checks, req->n_checks);
    int ord = 0;
    /* the rows as inserted: once committed, the engine keeps them as its
       copy instead of reading the rows it just wrote (hostrows.h) */
    size_t n_rows = zlistx_size (sel.chosen);
    rc_dhost_t *rows = (rc_dhost_t *)calloc (n_rows ? n_rows : 1, sizeof *rows);
    if (!rc && !rows)
        rc = rc_store_set_error (self->store, "out of memory");
    for (char *id = (char *)zlistx_first (sel.chosen); rc == 0 && id;
         id = (char *)zlistx_next (sel.chosen)) {
        rc_dhost_t *h = &rows[ord];
        RC_SET (h->host_id, id);
        h->ord = ord++;
        h->state = RC_HOST_PENDING;
        RC_SET (h->to_version, dep->version);
        rc = rc_store_host_app_current (self->store, id, dep->app, h->from_version,
                                        sizeof h->from_version);
        if (rc == 0)
            rc = rc_dhost_insert (self->store, dep->id, h);
    }
    if (rc == 0)
        rc = rc_store_eventf (
            self->store, dep->id, NULL, "deployment_created",
            "%s%s%s%s %s to %d host(s) in %d batch(es)%s: batch %s%s, max-fail %d, soak %s, "
            "auto-rollback %s%s%s",
            retry ? "retry of " : "", retry ? retry->of.id : "", retry ? ": " : "", dep->app,
            dep->version, total, dep->total_batches,
            rc_bluegreen_is (dep) ? " staged, then one switch (blue-green)" : "", batch, slide,
            dep->max_fail, *req->soak ? req->soak : "10s", dep->auto_rollback ? "on" : "off",
            dep->ignore_freeze ? ", ignoring freezes" : "", once_text);
    reply = s_commit (self, rc);
    if (reply) {
        free (rows);
        goto out;
    }
    rc_log_info_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                      "deployment %s: %s %s to %d host(s)", dep->id, dep->app, dep->version, total);
    rc_engine_adopt (self->engine, dep->id, rows, (size_t)ord);
    rc_engine_advance (self->engine, dep->id);
    reply = rc_reply_deploy (dep->id, (uint32_t)total, (uint32_t)dep->total_batches);
out:
    zlistx_destroy (&sel.chosen);
    zlistx_destroy (&sel.lacking);
    zlistx_destroy (&sel.unselected);
    free (retry);
    free (dep);
    return reply;
}
Rollclone__ControlReply *
rc_control_operate (rc_control_t *self, const Rollclone__OperateRequest *req)
{
    static const char *names[] = {"pause", "resume", "abort"};
    const char *op = req->op <= ROLLCLONE__OPERATE_REQUEST__OP__ABORT ? names[req->op] : "?";
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    Rollclone__ControlReply *reply = NULL;
    int found = rc_name_valid (req->deployment_id)
                    ? rc_deployment_load (self->store, req->deployment_id, dep)
                    : 0;
    if (found != 1) {
        reply = rc_reply_error (RC_EXIT_USAGE, "no deployment '%s'", req->deployment_id);
        goto out;
    }
    if (!rc_deployment_active (dep)) {
        reply = rc_reply_error (RC_EXIT_USAGE, "cannot %s deployment %s: it has ended (%s)", op,
                                dep->id, rc_dep_state_name (dep->state));
        goto out;
    }
    int64_t now = rc_now_ms ();
    int rc = rc_store_begin (self->store);
    switch (req->op) {
    case ROLLCLONE__OPERATE_REQUEST__OP__PAUSE:
        if (dep->state == RC_DEP_ROLLING_BACK) {
            reply = rc_reply_error (RC_EXIT_USAGE,
                                    "deployment %s is rolling back: it cannot be "
                                    "paused",
                                    dep->id);
            break;
        }
        dep->paused = true;
        rc_rollout_dep_state (dep, RC_DEP_PAUSED);
        rc |= rc_store_eventf (self->store, dep->id, NULL, "paused",
                               "by the operator: no new %s starts",
                               rc_slide_phase (dep) ? "host of the window" : "batch");
        break;
    case ROLLCLONE__OPERATE_REQUEST__OP__RESUME: {
        /* the manual gate opens only once reached (window.h): a resume
           sent while the batch, the window or blue-green's staging still
           runs lifts the operator's pause, if any, and no gate */
        bool gated = streq (dep->pause_spec, "manual") && !dep->gate_open && dep->batch > 0
                     && dep->state != RC_DEP_ROLLING_BACK;
        int left = gated ? rc_slide_gate_left_of (self->store, dep) : 0;
        if (left < 0) {
            reply = rc_reply_error (RC_EXIT_FAILED, "%s", rc_store_errmsg (self->store));
            break;
        }
        if (!dep->paused && (!gated || left > 0)) {
            if (gated) {
                char what[32] = "its window";
                if (!rc_slide_phase (dep))
                    snprintf (what, sizeof what, "batch %d", dep->batch);
                reply = rc_reply_error (
                    RC_EXIT_USAGE,
                    "deployment %s has not reached its manual gate yet: %d host(s) of %s still "
                    "to %s; resume it once it waits there",
                    dep->id, left, what,
                    rc_bluegreen_is (dep) && dep->bg_phase < RC_BG_SWITCHING ? "stage" : "finish");
            }
            else
                reply = rc_reply_error (RC_EXIT_USAGE, "deployment %s is not paused (%s)", dep->id,
                                        rc_dep_state_name (dep->state));
            break;
        }
        dep->paused = false;
        if (gated && left == 0)
            dep->gate_open = true;
        if (dep->state == RC_DEP_PAUSED)
            rc_rollout_dep_state (dep, RC_DEP_RUNNING);
        rc |= rc_store_eventf (self->store, dep->id, NULL, "resumed", "by the operator%s",
                               gated && left > 0 ? "; the manual gate holds until it is reached"
                                                 : "");
        break;
    }
    case ROLLCLONE__OPERATE_REQUEST__OP__ABORT:
        dep->abort_requested = true;
        dep->abort_rollback = !req->no_rollback;
        dep->paused = false;
        if (dep->state == RC_DEP_PAUSED)
            rc_rollout_dep_state (dep, RC_DEP_RUNNING);
        rc |=
            rc_store_eventf (self->store, dep->id, NULL, "abort_requested", "by the operator, %s",
                             req->no_rollback ? "without rollback" : "rolling back touched hosts");
        break;
    default: reply = rc_reply_error (RC_EXIT_USAGE, "unknown operation"); break;
    }
    if (reply) {
        rc_store_rollback (self->store);
        goto out;
    }
    dep->updated = now;
    if (rc == 0)
        rc = rc_deployment_save (self->store, dep);
    reply = s_commit (self, rc);
    if (reply)
        goto out;
    rc_log_info_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                      "deployment %s: %s by the operator", dep->id, op);
    rc_engine_advance (self->engine, dep->id);
    reply = rc_reply_new ();
out:
    free (dep);
    return reply;
}

/* rollback --deployment ID: every host it changed goes back where it was. */
static Rollclone__ControlReply *
s_rollback_deployment (rc_control_t *self, const char *id, bool plan)
{
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    Rollclone__ControlReply *reply = NULL;
    size_t n = 0;
    rc_dhost_t *hosts = NULL;
    if (!rc_name_valid (id) || rc_deployment_load (self->store, id, dep) != 1) {
        reply = rc_reply_error (RC_EXIT_USAGE, "no deployment '%s'", id);
        goto out;
    }
    if (rc_deployment_active (dep)) {
        reply = rc_reply_error (RC_EXIT_USAGE,
                                "deployment %s is %s: abort it (`rollclone abort %s`), which rolls "
                                "back what it touched",
                                id, rc_dep_state_name (dep->state), id);
        goto out;
    }
    reply = s_app_busy (self, dep->app);
    if (reply)
        goto out;
    if (rc_dhost_load (self->store, id, &hosts, &n) != 0) {
        reply = rc_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
        goto out;
    }
    size_t marked = rc_rollout_mark_rollback (hosts, n);
    if (marked == 0) {
        reply = rc_reply_error (RC_EXIT_USAGE, "deployment %s left no host to roll back (state %s)",
                                id, rc_dep_state_name (dep->state));
        goto out;
    }
    if (plan) {
        reply = rc_plan_rollback (dep, hosts, n, rc_fleet_view, self->fleet, self->freeze);
        goto out;
    }
    int64_t now = rc_now_ms ();
    rc_rollout_dep_state (dep, RC_DEP_ROLLING_BACK);
    rc_metrics_count_rollback ("operator");
    dep->final_state = RC_DEP_ROLLED_BACK;
    RC_SET (dep->reason, "rolled back by the operator");
    dep->rb_batch = 0;
    dep->finished = 0;
    dep->progress = dep->updated = now;
    dep->progress_elapsed_ms = dep->pause_remaining_ms = dep->pause_until = 0;
    rc_engine_forget (self->engine, id);
    dep->abort_requested = false;
    int rc = rc_store_begin (self->store);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (hosts[i].dirty)
            rc = rc_dhost_save (self->store, id, &hosts[i]);
    if (rc == 0)
        rc = rc_deployment_save (self->store, dep);
    if (rc == 0)
        rc = rc_store_eventf (self->store, id, NULL, "rollback_started",
                              "by the operator: %zu host(s) back to where they were", marked);
    reply = s_commit (self, rc);
    if (reply)
        goto out;
    rc_engine_advance (self->engine, id);
    reply = rc_reply_deploy (id, (uint32_t)marked, 0);
out:
    free (hosts);
    free (dep);
    return reply;
}

/* rollback --host H --app A [--to V]: a one-host deployment of kind rollback. */
static Rollclone__ControlReply *
s_rollback_host (rc_control_t *self, const Rollclone__RollbackRequest *req)
{
    if (!rc_name_valid (req->host_id))
        return rc_reply_error (RC_EXIT_USAGE, "--host '%s' is not a host id", req->host_id);
    if (!rc_name_valid (req->app))
        return rc_reply_error (RC_EXIT_USAGE, "--app '%s' must be [A-Za-z0-9._+-]{1,%d}", req->app,
                               RC_NAME_MAX);
    if (*req->to_version && !rc_name_valid (req->to_version))
        return rc_reply_error (RC_EXIT_USAGE, "--to '%s' must be [A-Za-z0-9._+-]{1,%d}",
                               req->to_version, RC_NAME_MAX);
    bool online, healthy;
    if (!rc_fleet_view (self->fleet, req->host_id, &online, &healthy))
        return rc_reply_error (RC_EXIT_USAGE, "no host '%s'", req->host_id);
    sqlite3_stmt *stmt = rc_store_prepare (self->store,
                                           "SELECT current, rollback_points FROM host_apps "
                                           "WHERE host_id = ?1 AND app = ?2",
                                           "tt", req->host_id, req->app);
    char current[RC_NAME_MAX + 1] = "";
    char *points = NULL; /* the whole list, however long */
    int step = stmt ? rc_store_step (self->store, stmt) : SQLITE_ERROR;
    bool has = step == SQLITE_ROW;
    if (has) {
        snprintf (current, sizeof current, "%s", (const char *)sqlite3_column_text (stmt, 0));
        points = strdup ((const char *)sqlite3_column_text (stmt, 1));
    }
    rc_store_finalize (self->store, stmt);
    Rollclone__ControlReply *refused = NULL;
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        refused = rc_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
    else if (has && !points)
        refused = rc_reply_error (RC_EXIT_FAILED, "out of memory");
    else if (!has)
        refused =
            rc_reply_error (RC_EXIT_USAGE, "host '%s' has no app '%s'", req->host_id, req->app);
    else if (!*points)
        refused = rc_reply_error (RC_EXIT_USAGE, "host '%s' has no rollback point for '%s'",
                                  req->host_id, req->app);
    else if (*req->to_version && !rc_join_list_has (points, req->to_version))
        refused = rc_reply_error (RC_EXIT_USAGE, "'%s' is not a rollback point of %s/%s (has: %s)",
                                  req->to_version, req->host_id, req->app, points);
    free (points);
    if (refused)
        return refused;
    Rollclone__ControlReply *busy = s_app_busy (self, req->app);
    if (busy)
        return busy;
    if (req->plan)
        return rc_plan_rollback_host (req, online, self->freeze);
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    int64_t now = rc_now_ms ();
    s_new_id (dep->id, sizeof dep->id);
    RC_SET (dep->kind, "rollback");
    RC_SET (dep->operator_name, rc_store_operator (self->store));
    RC_SET (dep->app, req->app);
    RC_SET (dep->version, req->to_version);
    RC_SET (dep->batch_spec, "1");
    RC_SET (dep->max_fail_spec, "0");
    RC_SET (dep->selector, req->host_id);
    dep->soak_ms = RC_DEFAULT_SOAK_MS;
    dep->health_timeout_ms = RC_DEFAULT_HEALTH_TIMEOUT_MS;
    dep->progress_deadline_ms = RC_DEFAULT_PROGRESS_DEADLINE_MS;
    dep->offline_grace_ms = self->offline_grace ? self->offline_grace : dep->health_timeout_ms;
    dep->auto_rollback = false;
    dep->state = RC_DEP_ROLLING_BACK;
    rc_metrics_count_rollback ("operator");
    dep->final_state = RC_DEP_ROLLED_BACK;
    dep->total_batches = 1;
    dep->gate_open = true;
    dep->abort_rollback = true;
    dep->created = dep->updated = dep->progress = now;
    rc_dhost_t *h = (rc_dhost_t *)zmalloc (sizeof *h);
    RC_SET (h->host_id, req->host_id);
    h->state = RC_HOST_ROLLBACK_PENDING;
    RC_SET (h->from_version, current);
    RC_SET (h->to_version, req->to_version);
    h->needs_rollback = true;
    h->batch = 1;
    char slide[96];
    s_slide_text (dep, slide, sizeof slide);
    int rc = rc_store_begin (self->store);
    if (rc == 0)
        rc = rc_deployment_insert (self->store, dep);
    if (rc == 0)
        rc = rc_dhost_insert (self->store, dep->id, h);
    if (rc == 0)
        rc = rc_store_eventf (self->store, dep->id, req->host_id, "rollback_started",
                              "by the operator: %s %s -> %s", req->app,
                              *current ? current : "(none)",
                              *req->to_version ? req->to_version : "the previous release");
    Rollclone__ControlReply *reply = s_commit (self, rc);
    if (!reply) {
        rc_engine_advance (self->engine, dep->id);
        reply = rc_reply_deploy (dep->id, 1, 1);
    }
    free (h);
    free (dep);
    return reply;
}

Rollclone__ControlReply *
rc_control_rollback (rc_control_t *self, const Rollclone__RollbackRequest *req)
{
    if (*req->deployment_id)
        return s_rollback_deployment (self, req->deployment_id, req->plan);
    return s_rollback_host (self, req);
}

Rollclone__ControlReply *
rc_control_handle (rc_control_t *self, const Rollclone__ControlRequest *req, zframe_t *routing_id)
{
    switch (req->req_case) {
    case ROLLCLONE__CONTROL_REQUEST__REQ_HOSTS: return rc_reply_hosts (self->store, self->fleet);
    case ROLLCLONE__CONTROL_REQUEST__REQ_INFO: return rc_reply_info (self->fleet, self->counters);
    case ROLLCLONE__CONTROL_REQUEST__REQ_DEPLOY: return rc_control_deploy (self, req->deploy);
    case ROLLCLONE__CONTROL_REQUEST__REQ_STATUS: return rc_reply_status (self->store, req->status);
    case ROLLCLONE__CONTROL_REQUEST__REQ_OPERATE: return rc_control_operate (self, req->operate);
    case ROLLCLONE__CONTROL_REQUEST__REQ_ROLLBACK: return rc_control_rollback (self, req->rollback);
    case ROLLCLONE__CONTROL_REQUEST__REQ_HISTORY:
        return rc_reply_history (self->store, self->fleet, req->history);
    case ROLLCLONE__CONTROL_REQUEST__REQ_EVENTS: return rc_reply_events (self->store, req->events);
    case ROLLCLONE__CONTROL_REQUEST__REQ_BACKUP:
        /* answered now when refused, else from the cron when complete */
        return rc_backup_request (self->backup, req->backup, routing_id);
    case ROLLCLONE__CONTROL_REQUEST__REQ_FREEZE:
        if (!self->freeze)
            return rc_reply_error (RC_EXIT_FAILED, "this coordinator keeps no freezes");
        return rc_freeze_request (self->freeze, req->freeze, rc_now_ms ());
    default: return rc_reply_error (RC_EXIT_USAGE, "this coordinator does not know that request");
    }
}

/* Whether a request changes something (a read-only key may not send
   one): plans and showing the freezes only read. */
static bool
s_request_writes (const Rollclone__ControlRequest *req)
{
    switch (req->req_case) {
    case ROLLCLONE__CONTROL_REQUEST__REQ_DEPLOY: return !req->deploy->plan;
    case ROLLCLONE__CONTROL_REQUEST__REQ_ROLLBACK: return !req->rollback->plan;
    case ROLLCLONE__CONTROL_REQUEST__REQ_OPERATE: return true;
    case ROLLCLONE__CONTROL_REQUEST__REQ_BACKUP: return true;
    case ROLLCLONE__CONTROL_REQUEST__REQ_FREEZE: return req->freeze->until_ms || req->freeze->clear;
    default: return false;
    }
}

/* What the operator asked to do, for a refusal. */
static const char *
s_request_verb (const Rollclone__ControlRequest *req)
{
    switch (req->req_case) {
    case ROLLCLONE__CONTROL_REQUEST__REQ_DEPLOY: return "deploy";
    case ROLLCLONE__CONTROL_REQUEST__REQ_ROLLBACK: return "roll back";
    case ROLLCLONE__CONTROL_REQUEST__REQ_OPERATE:
        return req->operate->op == ROLLCLONE__OPERATE_REQUEST__OP__PAUSE    ? "pause"
               : req->operate->op == ROLLCLONE__OPERATE_REQUEST__OP__RESUME ? "resume"
                                                                            : "abort";
    case ROLLCLONE__CONTROL_REQUEST__REQ_BACKUP: return "back up the database";
    case ROLLCLONE__CONTROL_REQUEST__REQ_FREEZE: return "set or lift a freeze";
    default: return "do that";
    }
}

Rollclone__ControlReply *
rc_control_handle_by (rc_control_t *self, const Rollclone__ControlRequest *req,
                      zframe_t *routing_id, const char *operator_name, bool read_only)
{
    if (read_only && s_request_writes (req))
        return rc_reply_error (RC_EXIT_USAGE, "operator key %s is read-only: it may not %s",
                               operator_name ? operator_name : "?", s_request_verb (req));
    /* the events the request writes name its operator */
    rc_store_set_operator (self->store, operator_name);
    Rollclone__ControlReply *reply = rc_control_handle (self, req, routing_id);
    rc_store_set_operator (self->store, NULL);
    return reply;
}
