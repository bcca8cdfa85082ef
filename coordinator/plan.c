/*  plan.c - a deployment's plan (see plan.h). */
#include "plan.h"
#include "engine.h"

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
    if (rc_engine_batch_size (walk->batch_spec, 1, walk->total) < 1)
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
        int size = rc_engine_batch_size (walk->batch_spec, number, walk->total);
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
        for (size_t i = 0; rc == 0 && i < n && taken < size; i++) {
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
