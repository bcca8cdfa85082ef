/*  metrics.c - the coordinator's Prometheus figures (see metrics.h): the
    counters, and the snapshot of fleet and rollouts built in the loop. */
#include "metrics.h"
#include "metrics_bench.h"
#include "deployments.h"
#include "fleet.h"
#include "rc_expo.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_metrics_http.h"
#include "rc_text.h"
#include "rc_time.h"
#include "webhooks.h"

#include <czmq.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>
#include <time.h>

/* Step phases last from milliseconds (switch) to minutes (fetch, soak). */
static const double s_step_bounds[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                       5,    10,   30,  60,   120, 300, 600};
/* A transaction is a few rows: sub-millisecond, unless the disk stalls. */
static const double s_txn_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                      0.01,   0.025,   0.05,   0.1,   0.25,   1};
#define S_COUNT(a) (sizeof (a) / sizeof (a)[0])

/* A counter with one label value each (or two, "a\tb"), bounded. */
typedef struct {
    zhashx_t *values; /* label text -> uint64_t * */
} s_labeled_t;

static struct {
    bool ready;
    uint64_t frames_agent, frames_control;
    s_labeled_t control;   /* "command\tresult" */
    s_labeled_t failures;  /* reason */
    s_labeled_t rollbacks; /* trigger */
    s_labeled_t checks;    /* "check\tverdict" */
    uint64_t finished[RC_DEP_STATE_COUNT];
    zhashx_t *steps; /* phase -> rc_histo_t * */
    rc_histo_t txn;
} s_counts;

static void
s_free_value (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_ready (void)
{
    if (s_counts.ready)
        return;
    s_counts.control.values = zhashx_new ();
    s_counts.failures.values = zhashx_new ();
    s_counts.rollbacks.values = zhashx_new ();
    s_counts.checks.values = zhashx_new ();
    s_counts.steps = zhashx_new ();
    zhashx_set_destructor (s_counts.control.values, s_free_value);
    zhashx_set_destructor (s_counts.failures.values, s_free_value);
    zhashx_set_destructor (s_counts.rollbacks.values, s_free_value);
    zhashx_set_destructor (s_counts.checks.values, s_free_value);
    zhashx_set_destructor (s_counts.steps, s_free_value);
    rc_histo_init (&s_counts.txn, s_txn_bounds, S_COUNT (s_txn_bounds));
    s_counts.ready = true;
}

static void
s_bump (s_labeled_t *c, const char *label)
{
    s_ready ();
    uint64_t *n = (uint64_t *)zhashx_lookup (c->values, label);
    if (!n && zhashx_size (c->values) >= RC_METRICS_LABELS_MAX)
        n = (uint64_t *)zhashx_lookup (c->values, (label = "other"));
    if (!n) {
        n = (uint64_t *)calloc (1, sizeof *n);
        if (!n)
            return;
        zhashx_insert (c->values, label, n);
    }
    (*n)++;
}

void
rc_metrics_count_frame (const char *socket)
{
    if (streq (socket, "agent"))
        s_counts.frames_agent++;
    else
        s_counts.frames_control++;
}

void
rc_metrics_count_control (const Rollclone__ControlRequest *req,
                          const Rollclone__ControlReply *reply)
{
    const ProtobufCFieldDescriptor *field = protobuf_c_message_descriptor_get_field (
        &rollclone__control_request__descriptor, (unsigned)req->req_case);
    static const char *const results[] = {"ok", "failed", "bad_input", "unreachable"};
    const char *result = "deferred"; /* answered later (a backup) */
    if (reply)
        result = reply->code >= 0 && reply->code < (int)S_COUNT (results) ? results[reply->code]
                                                                          : "error";
    char label[96];
    snprintf (label, sizeof label, "%s\t%s", field ? field->name : "unknown", result);
    s_bump (&s_counts.control, label);
}

void
rc_metrics_count_failure (const char *reason)
{
    s_bump (&s_counts.failures, rc_name_valid (reason) ? reason : "unknown");
}

void
rc_metrics_count_rollback (const char *trigger)
{
    s_bump (&s_counts.rollbacks, trigger);
}

void
rc_metrics_count_check (const char *check, const char *verdict)
{
    char label[2 * RC_NAME_MAX + 2];
    snprintf (label, sizeof label, "%s\t%s", rc_name_valid (check) ? check : "unknown", verdict);
    s_bump (&s_counts.checks, label);
}

void
rc_metrics_count_finished (rc_dep_state_t state)
{
    if (state > RC_DEP_NONE && state < RC_DEP_STATE_COUNT)
        s_counts.finished[state]++;
}

void
rc_metrics_observe_step (const Rollclone__StepReport *report)
{
    s_ready ();
    for (size_t i = 0; i < report->n_timings; i++) {
        const char *phase = report->timings[i]->phase;
        if (!rc_name_valid (phase))
            continue;
        rc_histo_t *h = (rc_histo_t *)zhashx_lookup (s_counts.steps, phase);
        if (!h && zhashx_size (s_counts.steps) >= RC_METRICS_LABELS_MAX)
            continue;
        if (!h) {
            h = (rc_histo_t *)calloc (1, sizeof *h);
            if (!h)
                continue;
            rc_histo_init (h, s_step_bounds, S_COUNT (s_step_bounds));
            zhashx_insert (s_counts.steps, phase, h);
        }
        rc_histo_observe (h, report->timings[i]->ms / 1000.0);
    }
}

void
rc_metrics_observe_txn (int64_t us)
{
    s_ready ();
    rc_histo_observe (&s_counts.txn, (double)us / 1e6);
}

/* ------------------------------------------------------------------------ */
/* The snapshot */

struct _rc_metrics_t {
    rc_fleet_t *fleet;             /* borrowed */
    rc_store_t *store;             /* borrowed */
    const rc_counters_t *counters; /* borrowed */
    rc_metrics_http_t *http;       /* the endpoint */
    rc_expo_t *expo;               /* reused buffer */
    rc_webhooks_t *webhooks;       /* borrowed, or NULL */
    int64_t build_us;              /* how long the last build took the loop */
    rc_metrics_each_fn *each;      /* the hosts: rc_fleet_each, or the bench's */
    void *each_arg;                /* the fleet, or the bench's */
    size_t last_hosts, last_disks; /* of the last snapshot: its arrays' sizes */
    size_t last_len;               /* of the last text the loop wrote */
};

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The loop's compact copy of each host, formatted by the HTTP thread. */
typedef struct {
    char id[RC_NAME_MAX + 1];
    char version[RC_NAME_MAX + 1]; /* the agent's, "" when unknown or unclean */
    bool online, healthy;
    double silent_s;
    rc_host_figures_t figures; /* disks point into s_snap_t's own arrays */
} s_host_rec_t;

typedef struct {
    s_host_rec_t *hosts;
    size_t n, size;
    rc_disk_figure_t *disks; /* every host's, in host order */
    size_t n_disks, disks_size;
    zhashx_t *versions;    /* "app\tversion" -> hosts (as a pointer) */
    size_t by_state[2][2]; /* [online][healthy] */
} s_snap_t;

static void
s_snap_free (void *arg)
{
    s_snap_t *snap = (s_snap_t *)arg;
    if (!snap)
        return;
    for (size_t i = 0; i < snap->n_disks; i++)
        free (snap->disks[i].path);
    free (snap->disks);
    free (snap->hosts);
    zhashx_destroy (&snap->versions);
    free (snap);
}

/* rc_fleet_each's callback: one host into the copy. */
static void
s_copy_host (void *arg, const rc_fleet_host_t *h)
{
    s_snap_t *snap = (s_snap_t *)arg;
    snap->by_state[h->online][h->healthy]++;
    for (size_t a = 0; a < h->n_apps; a++) {
        char key[2 * RC_NAME_MAX + 2];
        snprintf (key, sizeof key, "%s\t%s", h->apps[a].app, h->apps[a].current);
        uintptr_t n = (uintptr_t)zhashx_lookup (snap->versions, key);
        zhashx_update (snap->versions, key, (void *)(n + 1));
    }
    if (snap->n == snap->size) {
        size_t size = snap->size ? snap->size * 2 : 256;
        s_host_rec_t *hosts = (s_host_rec_t *)realloc (snap->hosts, size * sizeof *hosts);
        if (!hosts)
            return;
        snap->hosts = hosts;
        snap->size = size;
    }
    s_host_rec_t *rec = &snap->hosts[snap->n++];
    snprintf (rec->id, sizeof rec->id, "%s", h->id);
    bool clean = strlen (h->agent_version) <= RC_NAME_MAX && rc_text_is_clean (h->agent_version)
                 && !strchr (h->agent_version, '\n');
    snprintf (rec->version, sizeof rec->version, "%s", clean ? h->agent_version : "");
    rec->online = h->online;
    rec->healthy = h->healthy;
    rec->silent_s = (double)h->silent_ms / 1000.0;
    rec->figures = *h->figures;
    rec->figures.disks = NULL;
    rec->figures.n_disks = 0;
    /* disks: recorded by index into snap->disks (which may move) */
    size_t first = snap->n_disks;
    for (size_t d = 0; h->figures->known && d < h->figures->n_disks; d++) {
        if (snap->n_disks == snap->disks_size) {
            size_t size = snap->disks_size ? snap->disks_size * 2 : 256;
            rc_disk_figure_t *disks =
                (rc_disk_figure_t *)realloc (snap->disks, size * sizeof *disks);
            if (!disks)
                break;
            snap->disks = disks;
            snap->disks_size = size;
        }
        rc_disk_figure_t *out = &snap->disks[snap->n_disks];
        *out = h->figures->disks[d];
        out->path = strdup (out->path);
        if (out->path)
            snap->n_disks++;
    }
    rec->figures.disks = (rc_disk_figure_t *)(uintptr_t)first; /* an index until done */
    rec->figures.n_disks = snap->n_disks - first;
}

/* The copy of the fleet the HTTP thread formats; NULL when out of memory. */
static s_snap_t *
s_snap_take (rc_metrics_t *self)
{
    s_snap_t *snap = (s_snap_t *)calloc (1, sizeof *snap);
    if (!snap)
        return NULL;
    snap->versions = zhashx_new ();
    /* as big as the last one at once: no chain of reallocations */
    snap->hosts = (s_host_rec_t *)malloc ((self->last_hosts + 1) * sizeof *snap->hosts);
    snap->disks = (rc_disk_figure_t *)malloc ((self->last_disks + 1) * sizeof *snap->disks);
    snap->size = snap->hosts ? self->last_hosts + 1 : 0;
    snap->disks_size = snap->disks ? self->last_disks + 1 : 0;
    self->each (self->each_arg, s_copy_host, snap);
    self->last_hosts = snap->n;
    self->last_disks = snap->n_disks;
    for (size_t i = 0; i < snap->n; i++)
        snap->hosts[i].figures.disks = snap->disks + (uintptr_t)snap->hosts[i].figures.disks;
    return snap;
}

/* Fleet figures as text: the aggregates (small, the loop writes them). */
static void
s_fleet_head (rc_expo_t *e, const s_snap_t *snap)
{
    rc_expo_family (e, "rollclone_hosts", "gauge", "Hosts known, by state and health.");
    for (int on = 1; on >= 0; on--)
        for (int ok = 1; ok >= 0; ok--)
            rc_expo_sample (
                e, "rollclone_hosts",
                L ("state", on ? "online" : "offline", "healthy", ok ? "true" : "false"),
                (double)snap->by_state[on][ok]);
    rc_expo_family (e, "rollclone_app_hosts", "gauge",
                    "Hosts per app and the version they say is live (\"\" none).");
    for (void *n = zhashx_first (snap->versions); n; n = zhashx_next (snap->versions)) {
        char key[2 * RC_NAME_MAX + 2];
        snprintf (key, sizeof key, "%s", (const char *)zhashx_cursor (snap->versions));
        char *tab = strchr (key, '\t');
        *tab = 0;
        rc_expo_sample (e, "rollclone_app_hosts", L ("app", key, "version", tab + 1),
                        (double)(uintptr_t)n);
    }
}

/* ... and per host (a rc_metrics_more_fn: the HTTP thread writes these). */
static void
s_fleet_hosts (const void *data, rc_expo_t *e)
{
    const s_snap_t *snap = (const s_snap_t *)data;
    const s_host_rec_t *hosts = snap->hosts;
    rc_expo_family (e, "rollclone_host_up", "gauge", "1 when the host is online.");
    for (size_t i = 0; i < snap->n; i++)
        rc_expo_sample (e, "rollclone_host_up", L ("host", hosts[i].id), hosts[i].online);
    rc_expo_family (e, "rollclone_host_healthy", "gauge",
                    "1 when the host's last self health check passed.");
    for (size_t i = 0; i < snap->n; i++)
        rc_expo_sample (e, "rollclone_host_healthy", L ("host", hosts[i].id), hosts[i].healthy);
    rc_expo_family (e, "rollclone_host_heartbeat_age_seconds", "gauge",
                    "Seconds since the host was last heard from (since this coordinator "
                    "started, for a host not heard from since).");
    for (size_t i = 0; i < snap->n; i++)
        rc_expo_sample (e, "rollclone_host_heartbeat_age_seconds", L ("host", hosts[i].id),
                        hosts[i].silent_s);
    rc_expo_family (e, "rollclone_agent_info", "gauge", "The agent version each host runs.");
    for (size_t i = 0; i < snap->n; i++)
        rc_expo_sample (e, "rollclone_agent_info",
                        L ("host", hosts[i].id, "version", hosts[i].version), 1);

    /* what the agents measure of their hosts, written as the agent's own
       endpoint writes them */
    const char **ids = (const char **)malloc ((snap->n + 1) * sizeof *ids);
    const rc_host_figures_t **figs =
        (const rc_host_figures_t **)malloc ((snap->n + 1) * sizeof *figs);
    for (size_t i = 0; ids && figs && i < snap->n; i++) {
        ids[i] = hosts[i].id;
        figs[i] = &hosts[i].figures;
    }
    if (ids && figs)
        rc_host_figures_write (e, ids, figs, snap->n);
    free (ids);
    free (figs);
}

/* Deployments: counts by state, and each active one's batch and hosts.
   Read from the store, at most once per RC_METRICS_FRESH_MS. */
static void
s_rollouts (rc_metrics_t *self, rc_expo_t *e)
{
    uint64_t by_state[RC_DEP_STATE_COUNT] = {0};
    sqlite3_stmt *stmt = rc_store_prepare (
        self->store, "SELECT state, COUNT(*) FROM deployments GROUP BY state", "");
    while (stmt && rc_store_step (self->store, stmt) == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text (stmt, 0);
        for (int s = 1; state && s < RC_DEP_STATE_COUNT; s++)
            if (streq (state, rc_dep_state_name ((rc_dep_state_t)s)))
                by_state[s] = (uint64_t)sqlite3_column_int64 (stmt, 1);
    }
    rc_store_finalize (self->store, stmt);
    rc_expo_family (e, "rollclone_deployments", "gauge",
                    "Deployments the store keeps, by state (finished ones until retention).");
    for (int s = 1; s < RC_DEP_STATE_COUNT; s++)
        rc_expo_sample (e, "rollclone_deployments",
                        L ("state", rc_dep_state_name ((rc_dep_state_t)s)), (double)by_state[s]);

    /* each active deployment: one row per host state */
    stmt = rc_store_prepare (
        self->store,
        "SELECT d.id, d.app, d.version, d.state, d.batch, d.total_batches, d.progress, "
        "  d.progress_deadline_ms, h.state, COUNT(h.host_id) "
        "FROM deployments d JOIN deployment_hosts h ON h.deployment_id = d.id "
        "WHERE d.state IN ('running', 'paused', 'rolling_back') "
        "GROUP BY d.id, h.state ORDER BY d.id",
        "");
    rc_expo_t *batch = rc_expo_new ();
    rc_expo_t *hosts = rc_expo_new ();
    rc_expo_t *progress = rc_expo_new ();
    if (!batch || !hosts || !progress)
        goto out;
    rc_expo_family (batch, "rollclone_deployment_batch", "gauge",
                    "Batches started of each active deployment (of rollclone_deployment_batches).");
    rc_expo_family (batch, "rollclone_deployment_batches", "gauge",
                    "Batches each active deployment has in all.");
    rc_expo_family (hosts, "rollclone_deployment_hosts", "gauge",
                    "Hosts of each active deployment by their state in it.");
    rc_expo_family (progress, "rollclone_deployment_progress_age_seconds", "gauge",
                    "Seconds since an active deployment last progressed (a host finished or a "
                    "batch began).");
    rc_expo_family (progress, "rollclone_deployment_progress_deadline_seconds", "gauge",
                    "The progress deadline of each active deployment (0: none).");
    char last[RC_ID_MAX] = "";
    int64_t now = rc_now_ms ();
    while (stmt && rc_store_step (self->store, stmt) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text (stmt, 0);
        const char *app = (const char *)sqlite3_column_text (stmt, 1);
        const char *version = (const char *)sqlite3_column_text (stmt, 2);
        const char *state = (const char *)sqlite3_column_text (stmt, 3);
        const char *hstate = (const char *)sqlite3_column_text (stmt, 8);
        if (!id || !app || !version || !state || !hstate)
            continue;
        const char *const *labels = L ("deployment", id, "app", app, "version", version);
        if (!streq (last, id)) {
            snprintf (last, sizeof last, "%s", id);
            const char *const *with_state =
                L ("deployment", id, "app", app, "version", version, "state", state);
            rc_expo_sample (batch, "rollclone_deployment_batch", with_state,
                            (double)sqlite3_column_int64 (stmt, 4));
            rc_expo_sample (batch, "rollclone_deployment_batches", labels,
                            (double)sqlite3_column_int64 (stmt, 5));
            int64_t since = now - sqlite3_column_int64 (stmt, 6);
            rc_expo_sample (progress, "rollclone_deployment_progress_age_seconds", labels,
                            since > 0 ? since / 1000.0 : 0);
            rc_expo_sample (progress, "rollclone_deployment_progress_deadline_seconds", labels,
                            (double)sqlite3_column_int64 (stmt, 7) / 1000.0);
        }
        rc_expo_sample (hosts, "rollclone_deployment_hosts",
                        L ("deployment", id, "app", app, "version", version, "state", hstate),
                        (double)sqlite3_column_int64 (stmt, 9));
    }
    size_t len;
    const char *text;
    /* the samples were written apart so each family's stay together */
    rc_expo_t *parts[] = {batch, hosts, progress};
    for (size_t i = 0; i < S_COUNT (parts); i++) {
        text = rc_expo_text (parts[i], &len);
        if (text)
            rc_expo_raw (e, text, len);
    }
out:
    rc_store_finalize (self->store, stmt);
    rc_expo_destroy (&batch);
    rc_expo_destroy (&hosts);
    rc_expo_destroy (&progress);
}

static void
s_labeled (rc_expo_t *e, const char *name, const char *help, const s_labeled_t *c,
           const char *label, const char *label2)
{
    rc_expo_family (e, name, "counter", help);
    for (uint64_t *n = (uint64_t *)zhashx_first (c->values); n;
         n = (uint64_t *)zhashx_next (c->values)) {
        char key[128];
        snprintf (key, sizeof key, "%s", (const char *)zhashx_cursor (c->values));
        char *tab = label2 ? strchr (key, '\t') : NULL;
        if (tab)
            *tab = 0;
        if (tab)
            rc_expo_sample (e, name, L (label, key, label2, tab + 1), (double)*n);
        else
            rc_expo_sample (e, name, L (label, key), (double)*n);
    }
}

/* Each webhook's deliveries since the start, and its outbox rows waiting. */
static void
s_webhooks (rc_metrics_t *self, rc_expo_t *e)
{
    rc_webhook_stat_t stats[RC_WEBHOOKS_MAX];
    size_t n = self->webhooks ? rc_webhook_stats (self->webhooks, stats, RC_WEBHOOKS_MAX) : 0;
    rc_expo_family (e, "rollclone_webhook_deliveries_total", "counter",
                    "Webhook POSTs: delivered (2xx), failed (tried again), dropped (refused for "
                    "good or older than webhook_max_age).");
    for (size_t i = 0; i < n; i++) {
        rc_expo_sample (e, "rollclone_webhook_deliveries_total",
                        L ("webhook", stats[i].name, "result", "delivered"),
                        (double)stats[i].delivered);
        rc_expo_sample (e, "rollclone_webhook_deliveries_total",
                        L ("webhook", stats[i].name, "result", "failed"), (double)stats[i].failed);
        rc_expo_sample (e, "rollclone_webhook_deliveries_total",
                        L ("webhook", stats[i].name, "result", "dropped"),
                        (double)stats[i].dropped);
    }
    rc_expo_family (e, "rollclone_webhook_pending", "gauge",
                    "Outbox rows of each webhook not yet delivered nor dropped.");
    for (size_t i = 0; i < n; i++)
        rc_expo_sample (e, "rollclone_webhook_pending", L ("webhook", stats[i].name),
                        (double)stats[i].pending);
}

static void
s_self (rc_metrics_t *self, rc_expo_t *e)
{
    const rc_counters_t *c = self->counters;
    rc_expo_family (e, "rollclone_coordinator_info", "gauge", "The coordinator's version.");
    rc_expo_sample (e, "rollclone_coordinator_info", L ("version", RC_VERSION), 1);
    rc_expo_family (e, "rollclone_frames_received_total", "counter", "Frames received per socket.");
    rc_expo_sample (e, "rollclone_frames_received_total", L ("socket", "agent"),
                    (double)s_counts.frames_agent);
    rc_expo_sample (e, "rollclone_frames_received_total", L ("socket", "control"),
                    (double)s_counts.frames_control);
    rc_expo_family (e, "rollclone_frames_dropped_total", "counter",
                    "Frames dropped per socket (undecodable, oversized, unexpected, refused).");
    rc_expo_sample (e, "rollclone_frames_dropped_total", L ("socket", "agent"),
                    (double)c->dropped_agent);
    rc_expo_sample (e, "rollclone_frames_dropped_total", L ("socket", "control"),
                    (double)c->dropped_control);
    rc_expo_family (e, "rollclone_agent_messages_refused_total", "counter",
                    "Hellos and heartbeats refused: over a limit, stale, or over the peer's "
                    "share of store writes.");
    rc_expo_sample (e, "rollclone_agent_messages_refused_total", L ("reason", "over_limit"),
                    (double)c->states_refused);
    rc_expo_sample (e, "rollclone_agent_messages_refused_total", L ("reason", "stale"),
                    (double)c->messages_stale);
    rc_expo_sample (e, "rollclone_agent_messages_refused_total", L ("reason", "throttled"),
                    (double)c->writes_throttled);
    s_labeled (e, "rollclone_control_requests_total", "Control requests by command and result.",
               &s_counts.control, "command", "result");
    s_labeled (e, "rollclone_host_failures_total",
               "Hosts that failed their step, by reason (the phase, offline, ...).",
               &s_counts.failures, "reason", NULL);
    s_labeled (e, "rollclone_deployment_rollbacks_total",
               "Deployments that started rolling back, by what started it.", &s_counts.rollbacks,
               "trigger", NULL);
    s_labeled (e, "rollclone_check_evaluations_total",
               "Evaluations of the analysis gates ([check NAME]) by verdict.", &s_counts.checks,
               "check", "verdict");
    s_webhooks (self, e);
    rc_expo_family (e, "rollclone_deployments_finished_total", "counter",
                    "Deployments that ended, by their end state.");
    for (int s = RC_DEP_SUCCEEDED; s < RC_DEP_STATE_COUNT; s++)
        rc_expo_sample (e, "rollclone_deployments_finished_total",
                        L ("state", rc_dep_state_name ((rc_dep_state_t)s)),
                        (double)s_counts.finished[s]);
    rc_expo_family (e, "rollclone_step_phase_duration_seconds", "histogram",
                    "Duration of each phase of the hosts' steps, as their agents timed them.");
    for (rc_histo_t *h = (rc_histo_t *)zhashx_first (s_counts.steps); h;
         h = (rc_histo_t *)zhashx_next (s_counts.steps))
        rc_expo_histo (e, "rollclone_step_phase_duration_seconds",
                       L ("phase", (const char *)zhashx_cursor (s_counts.steps)), h);
    rc_expo_family (e, "rollclone_store_transaction_seconds", "histogram",
                    "Time from BEGIN to COMMIT or ROLLBACK of the store's transactions.");
    rc_expo_histo (e, "rollclone_store_transaction_seconds", NULL, &s_counts.txn);
    rc_expo_family (e, "rollclone_metrics_build_seconds", "gauge",
                    "Time the coordinator's loop took to build the previous snapshot of these "
                    "figures (the per-host series are written by the HTTP thread).");
    rc_expo_sample (e, "rollclone_metrics_build_seconds", NULL, (double)self->build_us / 1e6);
}

/* The loop's part of a snapshot: the text of everything but the per-host
   series, and the copy of the hosts they are written from. */
static char *
s_build (rc_metrics_t *self, size_t *len, s_snap_t **snap_p)
{
    s_ready ();
    rc_expo_t *e = self->expo;
    rc_expo_reserve (e, self->last_len + self->last_len / 8);
    s_snap_t *snap = s_snap_take (self);
    if (snap)
        s_fleet_head (e, snap);
    s_rollouts (self, e);
    s_self (self, e);
    *snap_p = snap;
    char *text = rc_expo_take (e, len);
    self->last_len = *len;
    return text;
}

char *
rc_metrics_build (rc_metrics_t *self, size_t *len)
{
    s_snap_t *snap = NULL;
    char *text = s_build (self, len, &snap);
    if (snap && text) {
        rc_expo_raw (self->expo, text, *len);
        s_fleet_hosts (snap, self->expo);
        free (text);
        text = rc_expo_take (self->expo, len);
    }
    s_snap_free (snap);
    return text;
}

static void
s_fleet_each (void *fleet, rc_fleet_each_fn *fn, void *arg)
{
    rc_fleet_each ((rc_fleet_t *)fleet, fn, arg);
}

rc_metrics_t *
rc_metrics_new (const rc_config_t *cfg, rc_fleet_t *fleet, rc_store_t *store,
                const rc_counters_t *counters, char *err, size_t errlen)
{
    s_ready ();
    if (!cfg->metrics_endpoint) {
        snprintf (err, errlen, "metrics_endpoint is not set");
        return NULL;
    }
    rc_metrics_t *self = (rc_metrics_t *)zmalloc (sizeof *self);
    self->fleet = fleet;
    self->each = s_fleet_each;
    self->each_arg = fleet;
    self->store = store;
    self->counters = counters;
    self->expo = rc_expo_new ();
    int64_t started = rc_now_ms () - (rc_mono_ms () - counters->started);
    self->http = rc_metrics_http_new (cfg->metrics_endpoint, started, err, errlen);
    if (!self->expo || !self->http)
        rc_metrics_destroy (&self);
    return self;
}

void
rc_metrics_destroy (rc_metrics_t **self_p)
{
    if (self_p && *self_p) {
        rc_metrics_http_destroy (&(*self_p)->http);
        rc_expo_destroy (&(*self_p)->expo);
        free (*self_p);
        *self_p = NULL;
    }
}

void
rc_metrics_set_hosts (rc_metrics_t *self, rc_metrics_each_fn *each, void *arg)
{
    self->each = each;
    self->each_arg = arg;
}

uint16_t
rc_metrics_port (rc_metrics_t *self)
{
    return rc_metrics_http_port (self->http);
}

int64_t
rc_metrics_build_us (rc_metrics_t *self)
{
    return self->build_us;
}

void
rc_metrics_set_webhooks (rc_metrics_t *self, rc_webhooks_t *webhooks)
{
    self->webhooks = webhooks;
}

int
rc_metrics_wake_fd (rc_metrics_t *self)
{
    return rc_metrics_http_wake_fd (self->http);
}

void
rc_metrics_on_wake (rc_metrics_t *self)
{
    /* the thread asks only when its snapshot is older than
       RC_METRICS_FRESH_MS, and a burst of scrapes asks once: the rate of
       builds is bounded there */
    if (!rc_metrics_http_asked (self->http))
        return;
    size_t len;
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    s_snap_t *snap = NULL;
    char *text = s_build (self, &len, &snap);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    self->build_us = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    if (snap)
        rc_metrics_http_publish_more (self->http, text, len, s_fleet_hosts, snap, s_snap_free);
    else
        rc_metrics_http_publish (self->http, text, len);
}
