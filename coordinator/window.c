/*  window.c - the sliding window of a deployment and the size of its
    rollback batches (see window.h): arithmetic on the deployment's row,
    nothing kept in memory. */
#include "window.h"
#include "strategy.h"

#include <stdio.h>
#include <string.h>

int
rc_slide_check (const Rollclone__DeployRequest *req, char *err, size_t errlen)
{
    const rc_deployment_t *dep = NULL;
    if (strlen (req->window) >= sizeof dep->window_spec
        || (*req->window && rc_strategy_window (req->window, 1) < 0)) {
        snprintf (err, errlen,
                  "--window '%.40s' must be N or N%% (N > 0, at most 100%%); a ramp goes in "
                  "--batch",
                  req->window);
        return -1;
    }
    if (strlen (req->rollback_batch) >= sizeof dep->rollback_spec
        || (*req->rollback_batch && rc_strategy_window (req->rollback_batch, 1) < 0)) {
        snprintf (err, errlen, "--rollback-batch '%.40s' must be N or N%% (N > 0, at most 100%%)",
                  req->rollback_batch);
        return -1;
    }
    /* a gate judges a batch once all of it has finished; a window never
       finishes as one until its last host, so its hosts would be held
       there and pass no gate of their own */
    if (*req->window && req->n_checks) {
        snprintf (err, errlen,
                  "--window cannot go with --check: an analysis gate judges whole batches (use "
                  "--batch)");
        return -1;
    }
    return 0;
}

const char *
rc_slide_batch_spec (const Rollclone__DeployRequest *req, const char *dflt)
{
    if (*req->batch)
        return req->batch;
    return *req->window ? RC_SLIDE_DEFAULT_RAMP : dflt;
}

int
rc_slide_ramp (const char *batch_spec)
{
    return rc_strategy_ramp_length (batch_spec);
}

int
rc_slide_batch_size (const char *batch_spec, int window_hosts, int n, int total)
{
    if (window_hosts <= 0 || n <= rc_slide_ramp (batch_spec))
        return rc_strategy_batch_size (batch_spec, n, total);
    return total > 0 ? total : 1; /* the window: every host left */
}

int
rc_slide_batch_count (const char *batch_spec, int window_hosts, int total)
{
    if (rc_slide_ramp (batch_spec) < 1)
        return -1;
    int done = 0, batches = 0;
    while (done < total)
        done += rc_slide_batch_size (batch_spec, window_hosts, ++batches, total);
    return batches;
}

bool
rc_slide_phase (const rc_deployment_t *dep)
{
    return dep->window_hosts > 0 && dep->batch > rc_slide_ramp (dep->batch_spec);
}

bool
rc_slide_next_is_window (const rc_deployment_t *dep)
{
    return dep->window_hosts > 0 && dep->batch >= rc_slide_ramp (dep->batch_spec);
}

int
rc_slide_room (int window_hosts, int inflight)
{
    return inflight < window_hosts ? window_hosts - inflight : 0;
}

int
rc_slide_fill (rc_rollout_t *rollout, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n,
               int inflight, int64_t now)
{
    int room = rc_slide_room (dep->window_hosts, inflight), failures = 0, rc = 0;
    for (size_t i = 0; i < n; i++)
        failures += hosts[i].state == RC_HOST_FAILED;
    /* an empty window starts again as a batch does: the progress deadline
       from now; while hosts are in flight, each that finishes is progress */
    if (room > 0 && inflight == 0)
        rc_rollout_progress (rollout, dep, now);
    for (size_t i = 0; i < n && room > 0 && failures <= dep->max_fail; i++) {
        rc_dhost_t *h = &hosts[i];
        if (h->state != RC_HOST_PENDING)
            continue;
        rc |= rc_rollout_host_turn (rollout, dep, h, now);
        if (h->state == RC_HOST_FAILED)
            failures++;
        else
            room--;
    }
    return rc;
}

int
rc_slide_gate_left (const rc_deployment_t *dep, int inflight, int pending)
{
    int left = inflight;
    for (int w = 0; w < RC_ONCE_WHEN_COUNT; w++)
        left += dep->once[w].state == RC_ONCE_RUNNING;
    return left + (rc_slide_phase (dep) ? pending : 0);
}

int
rc_slide_gate_left_of (rc_store_t *store, const rc_deployment_t *dep)
{
    /* counted by the database: a resume need not load every host row */
    sqlite3_stmt *stmt = rc_store_prepare (
        store,
        "SELECT coalesce(sum(state IN (?2, ?3, ?4)), 0), coalesce(sum(state = ?5), 0) "
        "FROM deployment_hosts WHERE deployment_id = ?1",
        "ttttt", dep->id, rc_host_state_name (RC_HOST_UPDATING),
        rc_host_state_name (RC_HOST_UNKNOWN), rc_host_state_name (RC_HOST_ROLLING_BACK),
        rc_host_state_name (RC_HOST_PENDING));
    if (!stmt)
        return -1;
    int left = -1;
    if (rc_store_step (store, stmt) == SQLITE_ROW)
        left = rc_slide_gate_left (dep, sqlite3_column_int (stmt, 0), sqlite3_column_int (stmt, 1));
    rc_store_finalize (store, stmt);
    return left;
}

int
rc_slide_rollback_size (const rc_deployment_t *dep, int total)
{
    if (*dep->rollback_spec) {
        int size = rc_strategy_window (dep->rollback_spec, total);
        return size < 1 ? 1 : size;
    }
    /* the ramp's entries are every size its batches had (the last one
       repeats); the window, when larger, is as many at a time */
    int largest = 1, ramp = rc_slide_ramp (dep->batch_spec);
    for (int b = 1; b <= ramp; b++) {
        int size = rc_strategy_batch_size (dep->batch_spec, b, total);
        if (size > total)
            size = total;
        if (size > largest)
            largest = size;
    }
    return dep->window_hosts > largest ? dep->window_hosts : largest;
}
