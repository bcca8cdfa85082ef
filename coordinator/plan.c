/*  plan.c - a deployment's plan (see plan.h). */
#include "plan.h"
#include "bluegreen.h"
#include "control_reply.h"
#include "rc_defaults.h"
#include "rc_time.h"
#include "strategy.h"
#include "window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Rollclone__PlanReply *
rc_plan_new (const char *kind, const char *app, const char *version)
{
    Rollclone__PlanReply *plan = (Rollclone__PlanReply *)calloc (1, sizeof *plan);
    if (!plan)
        return NULL;
    rollclone__plan_reply__init (plan);
    plan->kind = strdup (kind);
    plan->app = strdup (app);
    plan->version = strdup (version ? version : "");
    if (!plan->kind || !plan->app || !plan->version) {
        rollclone__plan_reply__free_unpacked (plan, NULL);
        return NULL;
    }
    return plan;
}

/* Appends item to the array *items of *count (grown by one). */
static int
s_append (void ***items, size_t *count, void *item)
{
    void **grown = (void **)realloc (*items, (*count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    grown[(*count)++] = item;
    *items = grown;
    return 0;
}

int
rc_plan_skip (Rollclone__PlanReply *plan, const char *host_id, const char *reason)
{
    Rollclone__PlanSkip *skip = (Rollclone__PlanSkip *)calloc (1, sizeof *skip);
    if (!skip)
        return -1;
    rollclone__plan_skip__init (skip);
    skip->host_id = strdup (host_id);
    skip->reason = strdup (reason);
    if (!skip->host_id || !skip->reason
        || s_append ((void ***)&plan->skipped, &plan->n_skipped, skip) != 0) {
        rollclone__plan_skip__free_unpacked (skip, NULL);
        return -1;
    }
    return 0;
}

static int
s_batch_add (Rollclone__PlanBatch *batch, const char *host_id)
{
    char *id = strdup (host_id);
    if (!id || s_append ((void ***)&batch->host_ids, &batch->n_host_ids, id) != 0) {
        free (id);
        return -1;
    }
    return 0;
}

int
rc_plan_walk (Rollclone__PlanReply *plan, const rc_plan_walk_t *walk,
              const rc_plan_member_t *members, size_t n)
{
    if (rc_strategy_batch_size (walk->batch_spec, 1, walk->total) < 1)
        return -1;
    bool *done = (bool *)calloc (n ? n : 1, sizeof (bool));
    if (!done)
        return -1;
    int rc = 0;
    size_t left = n;
    uint64_t batches = 0; /* the engine's, with those that update no host */
    /* the engine's walk: batch b takes the next batch_size (spec, b, total)
       hosts still pending, in order */
    for (int number = 1; rc == 0 && left > 0; number++) {
        int size = rc_slide_batch_size (walk->batch_spec, walk->window_hosts, number, walk->total);
        if (size < 1)
            size = 1;
        Rollclone__PlanBatch *batch = (Rollclone__PlanBatch *)calloc (1, sizeof *batch);
        if (!batch) {
            rc = -1;
            break;
        }
        rollclone__plan_batch__init (batch);
        batch->number = (uint32_t)number;
        int taken = 0;
        for (size_t k = 0; rc == 0 && k < n && taken < size; k++) {
            size_t i = walk->reverse ? n - 1 - k : k;
            if (done[i])
                continue;
            bool available = members[i].online && members[i].healthy;
            if (!available) {
                if (!walk->unavailable_takes_slot)
                    continue;
                taken++;
                done[i] = true;
                left--;
                rc = rc_plan_skip (plan, members[i].host_id,
                                   members[i].online ? "unhealthy" : "offline");
                continue;
            }
            taken++;
            done[i] = true;
            left--;
            rc = s_batch_add (batch, members[i].host_id);
        }
        if (rc == 0 && !walk->unavailable_takes_slot && taken == 0) {
            /* only hosts the rollback would wait for are left */
            for (size_t i = 0; rc == 0 && i < n; i++)
                if (!done[i])
                    rc = rc_plan_skip (plan, members[i].host_id,
                                       members[i].online ? "unhealthy" : "offline");
            left = 0;
        }
        if (taken > 0)
            batches++;
        if (rc != 0 || batch->n_host_ids == 0) {
            rollclone__plan_batch__free_unpacked (batch, NULL);
            continue;
        }
        plan->hosts += (uint32_t)batch->n_host_ids;
        plan->worst_case_ms += (uint64_t)batch->n_host_ids * (uint64_t)walk->progress_deadline_ms;
        if (s_append ((void ***)&plan->batches, &plan->n_batches, batch) != 0) {
            rollclone__plan_batch__free_unpacked (batch, NULL);
            rc = -1;
        }
    }
    /* the timed pause follows each batch but the last */
    if (rc == 0 && batches > 1 && walk->pause_ms > 0)
        plan->worst_case_ms += (batches - 1) * (uint64_t)walk->pause_ms;
    free (done);
    return rc;
}

/* The reply that carries plan (NULL: it could not be made). */
static Rollclone__ControlReply *
s_reply (Rollclone__PlanReply *plan, int rc, rc_freeze_t *freeze)
{
    if (plan && rc != 0) {
        rollclone__plan_reply__free_unpacked (plan, NULL);
        plan = NULL;
    }
    if (!plan)
        return rc_reply_error (RC_EXIT_FAILED, "out of memory making the plan");
    plan->frozen = freeze && rc_freeze_at (freeze, rc_now_ms (), NULL);
    Rollclone__ControlReply *reply = rc_reply_new ();
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_PLAN;
    reply->plan = plan;
    return reply;
}

static int
s_skip_all (Rollclone__PlanReply *plan, zlistx_t *ids, const char *reason)
{
    int rc = 0;
    for (char *id = ids ? (char *)zlistx_first (ids) : NULL; rc == 0 && id;
         id = (char *)zlistx_next (ids))
        rc = rc_plan_skip (plan, id, reason);
    return rc;
}

/* A run-once step of the plan: the host the engine would pick from the
   members as they are now, or none and why. A step that runs may take up
   to the progress deadline (the engine's bound on it too), so the worst
   case counts it. */
static int
s_plan_once (Rollclone__PlanReply *plan, const char *when, const char *name, const char *run_on,
             const rc_plan_member_t *members, size_t n, int64_t progress_deadline_ms)
{
    if (!*name)
        return 0;
    rc_once_host_t *cand = (rc_once_host_t *)calloc (n ? n : 1, sizeof *cand);
    Rollclone__RunOnceInfo *info = (Rollclone__RunOnceInfo *)calloc (1, sizeof *info);
    if (!cand || !info) {
        free (cand);
        free (info);
        return -1;
    }
    rollclone__run_once_info__init (info);
    for (size_t i = 0; i < n; i++)
        cand[i] =
            (rc_once_host_t){members[i].host_id, members[i].online, members[i].healthy, false};
    char err[256] = "";
    int pick = rc_once_pick (run_on, cand, n, err, sizeof err);
    info->when = strdup (when);
    info->name = strdup (name);
    info->state = strdup ("pending");
    info->host_id = strdup (pick >= 0 ? members[pick].host_id : run_on);
    info->error = strdup (pick >= 0 ? "" : err);
    free (cand);
    if (pick >= 0 && progress_deadline_ms > 0)
        plan->worst_case_ms += (uint64_t)progress_deadline_ms;
    if (!info->when || !info->name || !info->state || !info->host_id || !info->error
        || s_append ((void ***)&plan->run_once, &plan->n_run_once, info) != 0) {
        rollclone__run_once_info__free_unpacked (info, NULL);
        return -1;
    }
    return 0;
}

Rollclone__ControlReply *
rc_plan_deploy (const Rollclone__DeployRequest *req, const rc_plan_deploy_t *how,
                rc_host_view_fn *view, void *view_arg, rc_freeze_t *freeze)
{
    Rollclone__PlanReply *plan = rc_plan_new ("deploy", req->app, req->version);
    size_t n = zlistx_size (how->chosen);
    rc_plan_member_t *members = (rc_plan_member_t *)calloc (n ? n : 1, sizeof *members);
    int rc = plan && members ? 0 : -1;
    size_t i = 0;
    for (char *id = (char *)zlistx_first (how->chosen); rc == 0 && id;
         id = (char *)zlistx_next (how->chosen), i++) {
        members[i].host_id = id;
        if (!view (view_arg, id, &members[i].online, &members[i].healthy))
            members[i].online = members[i].healthy = false;
    }
    rc_plan_walk_t walk = {.batch_spec = how->batch_spec,
                           .total = (int)n,
                           .progress_deadline_ms = how->progress_deadline_ms,
                           .pause_ms = how->pause_ms,
                           .unavailable_takes_slot = true,
                           .window_hosts = how->window_hosts};
    if (rc == 0)
        rc = rc_plan_walk (plan, &walk, members, n);
    if (rc == 0)
        rc = s_skip_all (plan, how->lacking, "app_missing");
    if (rc == 0)
        rc = s_skip_all (plan, how->unselected, "not_selected");
    if (rc == 0)
        plan->max_fail_hosts = (uint32_t)rc_strategy_max_fail (how->max_fail_spec, (int)n);
    if (rc == 0)
        plan->window_hosts = (uint32_t)how->window_hosts;
    if (rc == 0)
        rc = s_plan_once (plan, "before", req->before, req->run_on, members, n,
                          how->progress_deadline_ms);
    if (rc == 0)
        rc = s_plan_once (plan, "after", req->after, req->run_on, members, n,
                          how->progress_deadline_ms);
    /* the analysis gates each batch would be held to (validated already) */
    for (size_t k = 0; rc == 0 && k < req->n_checks; k++) {
        char *name = strdup (req->checks[k]);
        if (!name || s_append ((void ***)&plan->checks, &plan->n_checks, name) != 0) {
            free (name);
            rc = -1;
        }
    }
    free (members);
    return s_reply (plan, rc, freeze);
}

Rollclone__ControlReply *
rc_plan_rollback (const rc_deployment_t *dep, const rc_dhost_t *hosts, size_t n,
                  rc_host_view_fn *view, void *view_arg, rc_freeze_t *freeze)
{
    Rollclone__PlanReply *plan = rc_plan_new ("rollback", dep->app, "");
    rc_plan_member_t *members = (rc_plan_member_t *)calloc (n ? n : 1, sizeof *members);
    size_t count = 0;
    int rc = plan && members ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const rc_dhost_t *h = &hosts[i];
        if (h->state != RC_HOST_ROLLBACK_PENDING)
            rc = rc_plan_skip (plan, h->host_id, "not_changed");
        else if (!streq (dep->kind, "rollback") && !*h->from_version)
            rc = rc_plan_skip (plan, h->host_id, "no_rollback_point");
        else {
            rc_plan_member_t *m = &members[count++];
            bool healthy;
            m->host_id = h->host_id;
            /* a rollback does not wait for health, only for the host */
            m->online = view (view_arg, h->host_id, &m->online, &healthy) && m->online;
            m->healthy = m->online;
        }
    }
    /* blue-green switches back fleet-wide, in one step */
    bool bg = streq (dep->strategy, RC_STRATEGY_BLUEGREEN);
    /* the engine's rollback: batches of one size, the hosts last updated
       first */
    char size[16];
    snprintf (size, sizeof size, "%d", rc_slide_rollback_size (dep, (int)n));
    rc_plan_walk_t walk = {.batch_spec = bg ? "100%" : size,
                           .total = (int)n,
                           .progress_deadline_ms = dep->progress_deadline_ms,
                           .unavailable_takes_slot = false,
                           .reverse = true};
    if (rc == 0)
        rc = rc_plan_walk (plan, &walk, members, count);
    free (members);
    if (rc == 0 && plan) {
        free (plan->strategy != protobuf_c_empty_string ? plan->strategy : NULL);
        plan->strategy = strdup (bg ? RC_STRATEGY_BLUEGREEN : RC_STRATEGY_ROLLING);
    }
    return s_reply (plan, rc, freeze);
}

Rollclone__ControlReply *
rc_plan_rollback_host (const Rollclone__RollbackRequest *req, bool online, rc_freeze_t *freeze)
{
    Rollclone__PlanReply *plan = rc_plan_new ("rollback", req->app, req->to_version);
    rc_plan_member_t member = {.host_id = req->host_id, .online = online, .healthy = online};
    rc_plan_walk_t walk = {
        .batch_spec = "1", .total = 1, .progress_deadline_ms = RC_DEFAULT_PROGRESS_DEADLINE_MS};
    int rc = plan ? rc_plan_walk (plan, &walk, &member, 1) : -1;
    return s_reply (plan, rc, freeze);
}
