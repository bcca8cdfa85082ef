/*  control_reply.c - the replies of the read-only control requests and
    the reply helpers (see control_reply.h). */
#include "control_reply.h"
#include "bluegreen.h"
#include "checks.h"
#include "deployments.h"
#include "rc_defaults.h"
#include "rc_ids.h"
#include "rc_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

Rollclone__ControlReply *
rc_reply_new (void)
{
    Rollclone__ControlReply *reply = (Rollclone__ControlReply *)zmalloc (sizeof *reply);
    rollclone__control_reply__init (reply);
    return reply;
}

Rollclone__ControlReply *
rc_reply_error (int code, const char *fmt, ...)
{
    Rollclone__ControlReply *reply = rc_reply_new ();
    reply->code = code;
    va_list args;
    va_start (args, fmt);
    reply->error = zsys_vprintf (fmt, args);
    va_end (args);
    if (!reply->error)
        reply->error = strdup ("out of memory");
    return reply;
}

Rollclone__ControlReply *
rc_reply_deploy (const char *deployment_id, uint32_t hosts, uint32_t total_batches)
{
    Rollclone__ControlReply *reply = rc_reply_new ();
    Rollclone__DeployReply *dr = (Rollclone__DeployReply *)zmalloc (sizeof *dr);
    rollclone__deploy_reply__init (dr);
    dr->deployment_id = strdup (deployment_id);
    dr->hosts = hosts;
    dr->total_batches = total_batches;
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_DEPLOY;
    reply->deploy = dr;
    return reply;
}

/* A summary answer's counts: where the hosts are, counted by the store
   (one GROUP BY) instead of loaded, and the gates' names without their
   values per host. 0 or -1. */
static int
s_summary (rc_store_t *store, Rollclone__DeploymentInfo *info)
{
    size_t counts[RC_HOST_STATE_COUNT];
    if (rc_dhost_counts (store, info->id, counts) != 0)
        return -1;
    info->summary = true;
    for (int s = 0; s < RC_HOST_STATE_COUNT; s++) {
        uint32_t n = (uint32_t)counts[s];
        info->hosts_total += n;
        if (s == RC_HOST_SUCCEEDED || s == RC_HOST_ROLLED_BACK)
            info->hosts_ok += n;
        else if (s == RC_HOST_UPDATING || s == RC_HOST_ROLLING_BACK)
            info->hosts_busy += n;
        else if (rc_host_state_failed ((rc_host_state_t)s))
            info->hosts_failed += n;
        else
            info->hosts_pending += n;
    }
    /* as a full answer counts them from its rows */
    info->failures = info->hosts_failed;
    return rc_checks_info (store, info, NULL, 0, 0);
}

static Rollclone__DeploymentInfo *
s_info (rc_store_t *store, const char *id, bool with_output, bool summary)
{
    rc_deployment_t *d = (rc_deployment_t *)zmalloc (sizeof *d);
    if (rc_deployment_load (store, id, d) != 1) {
        free (d);
        return NULL;
    }
    Rollclone__DeploymentInfo *info = (Rollclone__DeploymentInfo *)zmalloc (sizeof *info);
    rollclone__deployment_info__init (info);
    info->id = strdup (d->id);
    info->kind = strdup (d->kind);
    info->app = strdup (d->app);
    info->version = strdup (d->version);
    info->artifact_url = strdup (d->artifact_url);
    info->sha256 = strdup (d->sha256);
    info->select = strdup (d->selector);
    info->batch = strdup (d->batch_spec);
    info->max_fail = strdup (d->max_fail_spec);
    info->max_fail_hosts = (uint32_t)d->max_fail;
    info->soak_ms = (uint32_t)d->soak_ms;
    info->health_timeout_ms = (uint32_t)d->health_timeout_ms;
    info->progress_deadline_ms = (uint32_t)d->progress_deadline_ms;
    info->offline_grace_ms =
        (uint32_t)(d->offline_grace_ms > 0 ? d->offline_grace_ms : d->health_timeout_ms);
    info->pause = strdup (d->pause_spec);
    info->auto_rollback = d->auto_rollback;
    info->state = strdup (rc_dep_state_name (d->state));
    info->current_batch = (uint32_t)d->batch;
    info->total_batches = (uint32_t)d->total_batches;
    info->reason = strdup (d->reason);
    info->created_ms = d->created;
    info->updated_ms = d->updated;
    info->finished_ms = d->finished;
    info->gate_open =
        !(streq (d->pause_spec, "manual") && !d->gate_open && d->batch > 0) && !d->paused;
    info->pause_until_ms = d->pause_until;
    info->operator_ = strdup (d->operator_name);
    info->retry_of = strdup (d->retry_of);
    info->ignore_freeze = d->ignore_freeze;
    info->frozen = d->frozen;
    info->strategy = strdup (*d->strategy ? d->strategy : RC_STRATEGY_ROLLING);
    info->phase = strdup (rc_bg_phase_name (d->bg_phase));
    info->window = strdup (d->window_spec);
    info->window_hosts = (uint32_t)d->window_hosts;
    info->rollback_batch = strdup (d->rollback_spec);
    rc_bg_warmth_t warmth = {0};
    if (rc_bluegreen_is (d) && rc_deployment_active (d) && d->bg_phase < RC_BG_SWITCHING
        && rc_bluegreen_warmth (store, d, rc_now_ms (), &warmth) == 0) {
        info->staged_warm_until_ms = warmth.warm_until;
        info->staged_cold = (uint32_t)warmth.cold;
    }
    info->run_once = (Rollclone__RunOnceInfo **)calloc (RC_ONCE_WHEN_COUNT, sizeof *info->run_once);
    for (int w = 0; w < RC_ONCE_WHEN_COUNT; w++) {
        const rc_once_t *o = &d->once[w];
        if (o->state == RC_ONCE_NONE)
            continue;
        Rollclone__RunOnceInfo *ro = (Rollclone__RunOnceInfo *)zmalloc (sizeof *ro);
        rollclone__run_once_info__init (ro);
        ro->when = strdup (rc_once_when_name ((rc_once_when_t)w));
        ro->name = strdup (o->name);
        ro->host_id = strdup (*o->host_id ? o->host_id : o->run_on);
        ro->state = strdup (rc_once_state_name (o->state));
        ro->exit_code = o->exit_code;
        /* like a host's: the whole tail when one deployment is asked for */
        ro->output_tail = strdup (with_output ? o->output_tail : "");
        ro->error = strdup (o->error);
        ro->started_ms = o->started;
        ro->finished_ms = o->finished;
        info->run_once[info->n_run_once++] = ro;
    }
    if (summary) {
        int summary_rc = s_summary (store, info);
        free (d);
        if (summary_rc != 0) {
            rollclone__deployment_info__free_unpacked (info, NULL);
            return NULL;
        }
        return info;
    }
    size_t n = 0;
    rc_dhost_t *hosts = NULL;
    if (rc_dhost_load (store, id, &hosts, &n) != 0) {
        rollclone__deployment_info__free_unpacked (info, NULL);
        free (d);
        return NULL;
    }
    info->hosts = (Rollclone__DeploymentHost **)calloc (n ? n : 1, sizeof *info->hosts);
    for (size_t i = 0; hosts && i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        Rollclone__DeploymentHost *dh = (Rollclone__DeploymentHost *)zmalloc (sizeof *dh);
        rollclone__deployment_host__init (dh);
        dh->host_id = strdup (h->host_id);
        dh->batch = (uint32_t)h->batch;
        dh->state = strdup (rc_host_state_name (h->state));
        dh->phase = strdup (h->phase);
        dh->from_version = strdup (h->from_version);
        dh->to_version = strdup (h->to_version);
        dh->started_ms = h->started;
        dh->finished_ms = h->finished;
        dh->failure = strdup (h->failure);
        dh->error = strdup (h->error);
        dh->output_tail = strdup (with_output ? h->output_tail : "");
        dh->exit_code = h->exit_code;
        dh->action = strdup (rc_bluegreen_action_name (h->action));
        /* timings "phase=ms,..." back into messages */
        char copy[sizeof h->timings];
        snprintf (copy, sizeof copy, "%s", h->timings);
        char *save = NULL;
        for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
            char *eq = strchr (t, '=');
            if (!eq)
                continue;
            *eq = '\0';
            Rollclone__PhaseTiming *pt = (Rollclone__PhaseTiming *)zmalloc (sizeof *pt);
            rollclone__phase_timing__init (pt);
            pt->phase = strdup (t);
            pt->ms = (uint32_t)strtoul (eq + 1, NULL, 10);
            dh->timings = (Rollclone__PhaseTiming **)realloc (
                dh->timings, (dh->n_timings + 1) * sizeof *dh->timings);
            dh->timings[dh->n_timings++] = pt;
        }
        if (rc_host_state_failed (h->state))
            info->failures++;
        info->hosts[info->n_hosts++] = dh;
    }
    /* the analysis gates and their last values (deploy --check) */
    int checks_rc = rc_checks_info (store, info, hosts, n, d->batch);
    free (hosts);
    free (d);
    if (checks_rc != 0) {
        rollclone__deployment_info__free_unpacked (info, NULL);
        return NULL;
    }
    return info;
}

/* A page size asked for by the CLI: the default for 0, never above max. */
static size_t
s_clamp (uint32_t asked, size_t fallback, size_t max)
{
    size_t limit = asked ? asked : fallback;
    return limit < max ? limit : max;
}

Rollclone__ControlReply *
rc_reply_status (rc_store_t *store, const Rollclone__StatusRequest *req)
{
    Rollclone__StatusReply *sr = (Rollclone__StatusReply *)zmalloc (sizeof *sr);
    rollclone__status_reply__init (sr);
    zlist_t *ids = NULL;
    if (*req->deployment_id) {
        ids = zlist_new ();
        zlist_append (ids, req->deployment_id);
    }
    else
        ids = rc_deployment_ids (
            store, false, NULL, s_clamp (req->limit, RC_STATUS_DEFAULT_LIMIT, RC_STATUS_MAX_LIMIT));
    size_t n = ids ? zlist_size (ids) : 0;
    sr->deployments = (Rollclone__DeploymentInfo **)calloc (n ? n : 1, sizeof *sr->deployments);
    for (char *id = ids ? (char *)zlist_first (ids) : NULL; id; id = (char *)zlist_next (ids)) {
        Rollclone__DeploymentInfo *info =
            s_info (store, id, *req->deployment_id != '\0', req->summary);
        if (info)
            sr->deployments[sr->n_deployments++] = info;
    }
    zlist_destroy (&ids);
    if (*req->deployment_id && sr->n_deployments == 0) {
        rollclone__status_reply__free_unpacked (sr, NULL);
        return rc_reply_error (RC_EXIT_USAGE, "no deployment '%s'", req->deployment_id);
    }
    Rollclone__ControlReply *reply = rc_reply_new ();
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_STATUS;
    reply->status = sr;
    return reply;
}
Rollclone__AppState *
rc_app_state_new (const char *app, const char *current, const char *points)
{
    Rollclone__AppState *a = (Rollclone__AppState *)zmalloc (sizeof *a);
    rollclone__app_state__init (a);
    a->app = strdup (app ? app : "");
    a->current = strdup (current ? current : "");
    char *copy = strdup (points ? points : "");
    char *save = NULL;
    for (char *p = strtok_r (copy, ",", &save); p; p = strtok_r (NULL, ",", &save)) {
        a->rollback_points =
            (char **)realloc (a->rollback_points, (a->n_rollback_points + 1) * sizeof (char *));
        a->rollback_points[a->n_rollback_points++] = strdup (p);
    }
    free (copy);
    return a;
}

Rollclone__AppState *
rc_app_state_of_row (const rc_app_row_t *row)
{
    Rollclone__AppState *a = rc_app_state_new (row->app, row->current, row->rollback_points);
    a->slot = (uint32_t)row->slot;
    a->slot_port = (uint32_t)row->slot_port;
    if (row->warm_version && *row->warm_version) {
        a->warm_version = strdup (row->warm_version);
        a->warm_until_ms = row->warm_until;
    }
    return a;
}

static void
s_collect_history (void *arg, const rc_history_row_t *row)
{
    Rollclone__HistoryReply *hr = (Rollclone__HistoryReply *)arg;
    Rollclone__HistoryEntry *e = (Rollclone__HistoryEntry *)zmalloc (sizeof *e);
    rollclone__history_entry__init (e);
    e->id = row->id;
    e->app = strdup (row->app);
    e->version = strdup (row->version);
    e->previous = strdup (row->previous);
    e->rollback_points = strdup (row->rollback_points);
    e->deployment_id = strdup (row->deployment_id);
    e->ts_ms = row->ts;
    hr->entries = (Rollclone__HistoryEntry **)realloc (hr->entries,
                                                       (hr->n_entries + 1) * sizeof *hr->entries);
    hr->entries[hr->n_entries++] = e;
}

/* Room for one more of n items of size in items, *cap allocated (first
   the first time, then twice as many): the array, maybe moved, or NULL
   when out of memory (items is still the caller's then). */
static void *
s_room (void *items, size_t n, size_t *cap, size_t first, size_t size)
{
    if (n < *cap)
        return items;
    size_t more = *cap ? 2 * *cap : first;
    void *grown = realloc (items, more * size);
    if (grown)
        *cap = more;
    return grown;
}

typedef struct {
    Rollclone__HistoryReply *reply;
    size_t cap;  /* room in reply->apps */
    bool failed; /* out of memory */
} s_apps_ctx_t;

static void
s_history_app (void *arg, const rc_app_row_t *row)
{
    s_apps_ctx_t *ctx = (s_apps_ctx_t *)arg;
    Rollclone__HistoryReply *hr = ctx->reply;
    Rollclone__AppState **apps =
        ctx->failed
            ? NULL
            : (Rollclone__AppState **)s_room (hr->apps, hr->n_apps, &ctx->cap, 4, sizeof *hr->apps);
    Rollclone__AppState *app = apps ? rc_app_state_of_row (row) : NULL;
    if (apps)
        hr->apps = apps;
    if (!app)
        ctx->failed = true;
    else
        hr->apps[hr->n_apps++] = app;
}

Rollclone__ControlReply *
rc_reply_history (rc_store_t *store, rc_fleet_t *fleet, const Rollclone__HistoryRequest *req)
{
    bool online, healthy;
    if (!rc_name_valid (req->host_id) || !rc_fleet_view (fleet, req->host_id, &online, &healthy))
        return rc_reply_error (RC_EXIT_USAGE, "no host '%s'", req->host_id);
    if (req->before_id < 0)
        return rc_reply_error (RC_EXIT_USAGE, "before %lld is not an entry id",
                               (long long)req->before_id);
    Rollclone__HistoryReply *hr = (Rollclone__HistoryReply *)zmalloc (sizeof *hr);
    rollclone__history_reply__init (hr);
    hr->host_id = strdup (req->host_id);
    hr->limit = (uint32_t)s_clamp (req->limit, RC_HISTORY_DEFAULT_LIMIT, RC_HISTORY_MAX_LIMIT);
    bool more = false;
    int rc = rc_store_history_page (store, req->host_id, req->before_id, hr->limit, &more,
                                    s_collect_history, hr);
    hr->more = more;
    s_apps_ctx_t apps = {.reply = hr};
    if (rc == 0)
        rc = rc_store_host_apps_each (store, req->host_id, s_history_app, &apps);
    if (rc == 0 && apps.failed)
        rc = rc_store_set_error (store, "out of memory listing the apps of %s", req->host_id);
    if (rc != 0) {
        rollclone__history_reply__free_unpacked (hr, NULL);
        return rc_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (store));
    }
    Rollclone__ControlReply *reply = rc_reply_new ();
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_HISTORY;
    reply->history = hr;
    return reply;
}

static void
s_collect_event (void *arg, const rc_event_row_t *row)
{
    Rollclone__EventsReply *er = (Rollclone__EventsReply *)arg;
    Rollclone__EventInfo *e = (Rollclone__EventInfo *)zmalloc (sizeof *e);
    rollclone__event_info__init (e);
    e->id = row->id;
    e->ts_ms = row->ts;
    e->deployment_id = strdup (row->deployment_id ? row->deployment_id : "");
    e->host_id = strdup (row->host_id ? row->host_id : "");
    e->kind = strdup (row->kind);
    e->detail = strdup (row->detail);
    e->operator_ = strdup (row->operator_name ? row->operator_name : "");
    er->events =
        (Rollclone__EventInfo **)realloc (er->events, (er->n_events + 1) * sizeof *er->events);
    er->events[er->n_events++] = e;
}

Rollclone__ControlReply *
rc_reply_events (rc_store_t *store, const Rollclone__EventsRequest *req)
{
    if (req->after_id < 0 || req->before_id < 0)
        return rc_reply_error (RC_EXIT_USAGE, "event ids are positive (after %lld, before %lld)",
                               (long long)req->after_id, (long long)req->before_id);
    /* a deployment pruned by deployment_retention may still have events
       (they follow event_retention): those are shown */
    bool known = true;
    if (*req->deployment_id) {
        if (!rc_name_valid (req->deployment_id))
            return rc_reply_error (RC_EXIT_USAGE, "no deployment '%s'", req->deployment_id);
        rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
        int found = rc_deployment_load (store, req->deployment_id, dep);
        free (dep);
        if (found < 0)
            return rc_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (store));
        known = found == 1;
    }
    Rollclone__EventsReply *er = (Rollclone__EventsReply *)zmalloc (sizeof *er);
    rollclone__events_reply__init (er);
    /* following a deployment (after_id) goes page by page too */
    er->limit = (uint32_t)s_clamp (req->limit,
                                   req->after_id ? RC_EVENTS_MAX_LIMIT : RC_EVENTS_DEFAULT_LIMIT,
                                   RC_EVENTS_MAX_LIMIT);
    bool more = false;
    if (rc_store_events_page (store, *req->deployment_id ? req->deployment_id : NULL, NULL,
                              req->after_id, req->before_id, er->limit, &more, s_collect_event, er)
        != 0) {
        rollclone__events_reply__free_unpacked (er, NULL);
        return rc_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (store));
    }
    er->more = more;
    if (!known && er->n_events == 0 && !req->after_id && !req->before_id) {
        rollclone__events_reply__free_unpacked (er, NULL);
        return rc_reply_error (RC_EXIT_USAGE, "no deployment '%s'", req->deployment_id);
    }
    Rollclone__ControlReply *reply = rc_reply_new ();
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_EVENTS;
    reply->events = er;
    return reply;
}

typedef struct {
    rc_fleet_t *fleet;
    Rollclone__HostsReply *reply;
    size_t cap;                /* room in reply->hosts */
    Rollclone__HostInfo *last; /* the host the next app rows belong to */
    size_t apps_cap;           /* room in last->apps */
    bool failed;               /* out of memory */
} s_hosts_ctx_t;

static void
s_collect_app (void *arg, const rc_app_row_t *row)
{
    s_hosts_ctx_t *ctx = (s_hosts_ctx_t *)arg;
    Rollclone__HostInfo *info = ctx->last;
    if (!info || ctx->failed)
        return;
    Rollclone__AppState **apps = (Rollclone__AppState **)s_room (
        info->apps, info->n_apps, &ctx->apps_cap, 4, sizeof *info->apps);
    Rollclone__AppState *app = apps ? rc_app_state_of_row (row) : NULL;
    if (apps)
        info->apps = apps;
    if (!app) {
        ctx->failed = true;
        return;
    }
    info->apps[info->n_apps++] = app;
}

static void
s_collect_host (void *arg, const rc_host_row_t *row)
{
    s_hosts_ctx_t *ctx = (s_hosts_ctx_t *)arg;
    Rollclone__HostsReply *reply = ctx->reply;
    ctx->last = NULL;
    if (ctx->failed)
        return;
    Rollclone__HostInfo **hosts = (Rollclone__HostInfo **)s_room (
        reply->hosts, reply->n_hosts, &ctx->cap, 64, sizeof *reply->hosts);
    if (!hosts) {
        ctx->failed = true;
        return;
    }
    reply->hosts = hosts;
    Rollclone__HostInfo *info = (Rollclone__HostInfo *)zmalloc (sizeof *info);
    rollclone__host_info__init (info);
    reply->hosts[reply->n_hosts++] = info;
    ctx->last = info;
    ctx->apps_cap = 0;
    info->id = strdup (row->id);
    info->hostname = strdup (row->hostname);
    info->state = strdup (row->state);
    info->healthy = row->healthy;
    info->agent_version = strdup (row->agent_version);
    info->last_seen_ms = row->last_seen;
    /* last_seen is written on transitions only: the live figure is ours */
    int64_t heard = rc_fleet_last_heard (ctx->fleet, row->id);
    if (heard)
        info->last_seen_ms = heard;
    rc_label_t labels[RC_LABELS_MAX];
    char err[128];
    int n = rc_labels_parse (row->labels, labels, RC_LABELS_MAX, err, sizeof err);
    if (n > 0) {
        info->labels = (Rollclone__Label **)calloc ((size_t)n, sizeof *info->labels);
        for (int i = 0; info->labels && i < n; i++) {
            Rollclone__Label *label = (Rollclone__Label *)zmalloc (sizeof *label);
            rollclone__label__init (label);
            label->key = strdup (labels[i].key);
            label->value = strdup (labels[i].value);
            info->labels[info->n_labels++] = label;
        }
    }
    if (!info->id || !info->hostname || !info->state || !info->agent_version)
        ctx->failed = true;
}

Rollclone__ControlReply *
rc_reply_hosts (rc_store_t *store, rc_fleet_t *fleet)
{
    /* built on the heap so that protobuf-c frees it whole */
    Rollclone__ControlReply *reply = (Rollclone__ControlReply *)zmalloc (sizeof *reply);
    rollclone__control_reply__init (reply);
    Rollclone__HostsReply *hosts = (Rollclone__HostsReply *)zmalloc (sizeof *hosts);
    rollclone__hosts_reply__init (hosts);
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_HOSTS;
    reply->hosts = hosts;
    s_hosts_ctx_t ctx = {.fleet = fleet, .reply = hosts};
    if (rc_store_fleet_each (store, s_collect_host, s_collect_app, &ctx) != 0) {
        reply->code = RC_EXIT_FAILED;
        reply->error = strdup (rc_store_errmsg (store));
    }
    else if (ctx.failed) {
        reply->code = RC_EXIT_FAILED;
        reply->error = strdup ("out of memory listing hosts");
    }
    return reply;
}

Rollclone__ControlReply *
rc_reply_info (rc_fleet_t *fleet, const rc_counters_t *counters)
{
    Rollclone__InfoReply *info = (Rollclone__InfoReply *)zmalloc (sizeof *info);
    rollclone__info_reply__init (info);
    info->version = strdup (RC_VERSION);
    info->protocol_version = RC_PROTOCOL_VERSION;
    info->uptime_ms = (uint64_t)(rc_mono_ms () - counters->started);
    size_t online, offline;
    rc_fleet_count (fleet, &online, &offline);
    info->agents_online = (uint32_t)online;
    info->agents_offline = (uint32_t)offline;
    info->frames_dropped_agent = counters->dropped_agent;
    info->frames_dropped_control = counters->dropped_control;
    info->frames_dropped = counters->dropped_agent + counters->dropped_control;
    info->states_refused = counters->states_refused;
    info->messages_stale = counters->messages_stale;
    info->writes_throttled = counters->writes_throttled;
    Rollclone__ControlReply *reply = rc_reply_new ();
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_INFO;
    reply->info = info;
    return reply;
}
