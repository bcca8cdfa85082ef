/*  deployments.c - load and save deployment records (tables of schema 2). */
#include "deployments.h"
#include "bluegreen.h"

#include <stdio.h>
#include <string.h>

#define DEP_COLUMNS                                                                                \
    "id, kind, app, version, artifact_url, sha256, selector, batch_spec, max_fail_spec, "          \
    "max_fail, soak_ms, health_timeout_ms, progress_deadline_ms, pause_spec, auto_rollback, "      \
    "state, final_state, batch, rb_batch, total_batches, paused, gate_open, pause_until, "         \
    "abort_requested, abort_rollback, reason, created, updated, finished, progress, "              \
    "progress_elapsed_ms, pause_remaining_ms, offline_grace_ms, frozen, bg_phase"

#define HOST_COLUMNS                                                                               \
    "host_id, ord, batch, state, phase, step, from_version, to_version, touched, "                 \
    "needs_rollback, started, finished, failure, error, output_tail, exit_code, timings, "         \
    "unknown_of, action"

static void
s_copy (char *dest, size_t size, sqlite3_stmt *stmt, int col)
{
    /* a copy of the column's bytes, cut to the field (no printf: reading
       a 1,000-host list copied 19 fields of each row) */
    const unsigned char *text = sqlite3_column_text (stmt, col);
    size_t len = text ? (size_t)sqlite3_column_bytes (stmt, col) : 0;
    if (len >= size)
        len = size - 1;
    if (len)
        memcpy (dest, text, len);
    dest[len] = '\0';
}

void
rc_text_set (char *dest, size_t size, const char *value)
{
    size_t len = value ? strnlen (value, size - 1) : 0;
    if (len)
        memmove (dest, value, len);
    dest[len] = '\0';
}

bool
rc_deployment_active (const rc_deployment_t *dep)
{
    return rc_dep_state_active (dep->state);
}

/* A state column read back: a name that is none of ours (a row written
   by hand, or by a newer rollclone) is an error, never a guess. */
static int
s_dep_state (rc_store_t *store, sqlite3_stmt *stmt, int col, rc_dep_state_t *state)
{
    const char *name = (const char *)sqlite3_column_text (stmt, col);
    if (rc_dep_state_parse (name ? name : "", state) != 0)
        return rc_store_set_error (store, "deployment state '%s' is not one this coordinator knows",
                                   name ? name : "");
    return 0;
}

static int
s_host_state (rc_store_t *store, sqlite3_stmt *stmt, int col, rc_host_state_t *state)
{
    const char *name = (const char *)sqlite3_column_text (stmt, col);
    if (rc_host_state_parse (name ? name : "", state) != 0)
        return rc_store_set_error (store, "host state '%s' is not one this coordinator knows",
                                   name ? name : "");
    return 0;
}

/* Writes every column with one statement: insert, or replace the row. */
static int
s_dep_write (rc_store_t *store, const rc_deployment_t *d, bool insert)
{
    const char *sql =
        insert ? "INSERT INTO deployments (" DEP_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                 "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, "
                 "?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35)"
               : "UPDATE deployments SET kind = ?2, app = ?3, version = ?4, artifact_url = ?5, "
                 "sha256 = ?6, selector = ?7, batch_spec = ?8, max_fail_spec = ?9, max_fail = "
                 "?10, soak_ms = ?11, health_timeout_ms = ?12, progress_deadline_ms = ?13, "
                 "pause_spec = ?14, auto_rollback = ?15, state = ?16, final_state = ?17, batch = "
                 "?18, rb_batch = ?19, total_batches = ?20, paused = ?21, gate_open = ?22, "
                 "pause_until = ?23, abort_requested = ?24, abort_rollback = ?25, reason = ?26, "
                 "created = ?27, updated = ?28, finished = ?29, progress = ?30, "
                 "progress_elapsed_ms = ?31, "
                 "pause_remaining_ms = ?32, offline_grace_ms = ?33, frozen = ?34, bg_phase = ?35 "
                 "WHERE id = ?1";
    return rc_store_run (
        store,
        rc_store_prepare (
            store, sql, "tttttttttiiiitbttiiibbibbtiiiiiiibt", d->id, d->kind, d->app, d->version,
            d->artifact_url, d->sha256, d->selector, d->batch_spec, d->max_fail_spec,
            (int64_t)d->max_fail, d->soak_ms, d->health_timeout_ms, d->progress_deadline_ms,
            d->pause_spec, (int)d->auto_rollback, rc_dep_state_name (d->state),
            rc_dep_state_name (d->final_state), (int64_t)d->batch, (int64_t)d->rb_batch,
            (int64_t)d->total_batches, (int)d->paused, (int)d->gate_open, d->pause_until,
            (int)d->abort_requested, (int)d->abort_rollback, d->reason, d->created, d->updated,
            d->finished, d->progress, d->progress_elapsed_ms, d->pause_remaining_ms,
            d->offline_grace_ms, (int)d->frozen, rc_bg_phase_name (d->bg_phase)));
}

int
rc_deployment_insert (rc_store_t *store, const rc_deployment_t *dep)
{
    int rc = s_dep_write (store, dep, true);
    /* set once, never changed: written apart from the columns saved at
       every transition */
    if (rc == 0)
        rc = rc_store_run (
            store, rc_store_prepare (store,
                                     "UPDATE deployments SET signature = ?2, "
                                     "operator = ?3, retry_of = ?4, "
                                     "ignore_freeze = ?5, strategy = ?6, "
                                     "window_spec = ?7, window_hosts = ?8, "
                                     "rollback_spec = ?9 WHERE id = ?1",
                                     "ttttbttit", dep->id, dep->signature, dep->operator_name,
                                     dep->retry_of, (int)dep->ignore_freeze,
                                     *dep->strategy ? dep->strategy : "rolling", dep->window_spec,
                                     (int64_t)dep->window_hosts, dep->rollback_spec));
    if (rc == 0)
        rc = rc_once_save (store, dep->id, dep->once);
    return rc;
}

int
rc_deployment_save (rc_store_t *store, const rc_deployment_t *dep)
{
    int rc = s_dep_write (store, dep, false);
    return rc == 0 ? rc_once_save (store, dep->id, dep->once) : rc;
}

int
rc_deployment_load (rc_store_t *store, const char *id, rc_deployment_t *d)
{
    sqlite3_stmt *stmt =
        rc_store_prepare (store, "SELECT " DEP_COLUMNS " FROM deployments WHERE id = ?1", "t", id);
    if (!stmt)
        return -1;
    int rc = rc_store_step (store, stmt);
    if (rc != SQLITE_ROW) {
        rc_store_finalize (store, stmt);
        return rc == SQLITE_DONE ? 0 : -1;
    }
    memset (d, 0, sizeof *d);
    s_copy (d->id, sizeof d->id, stmt, 0);
    s_copy (d->kind, sizeof d->kind, stmt, 1);
    s_copy (d->app, sizeof d->app, stmt, 2);
    s_copy (d->version, sizeof d->version, stmt, 3);
    s_copy (d->artifact_url, sizeof d->artifact_url, stmt, 4);
    s_copy (d->sha256, sizeof d->sha256, stmt, 5);
    s_copy (d->selector, sizeof d->selector, stmt, 6);
    s_copy (d->batch_spec, sizeof d->batch_spec, stmt, 7);
    s_copy (d->max_fail_spec, sizeof d->max_fail_spec, stmt, 8);
    d->max_fail = sqlite3_column_int (stmt, 9);
    d->soak_ms = sqlite3_column_int64 (stmt, 10);
    d->health_timeout_ms = sqlite3_column_int64 (stmt, 11);
    d->progress_deadline_ms = sqlite3_column_int64 (stmt, 12);
    s_copy (d->pause_spec, sizeof d->pause_spec, stmt, 13);
    d->auto_rollback = sqlite3_column_int (stmt, 14) != 0;
    if (s_dep_state (store, stmt, 15, &d->state) != 0
        || s_dep_state (store, stmt, 16, &d->final_state) != 0) {
        rc_store_finalize (store, stmt);
        return -1;
    }
    d->batch = sqlite3_column_int (stmt, 17);
    d->rb_batch = sqlite3_column_int (stmt, 18);
    d->total_batches = sqlite3_column_int (stmt, 19);
    d->paused = sqlite3_column_int (stmt, 20) != 0;
    d->gate_open = sqlite3_column_int (stmt, 21) != 0;
    d->pause_until = sqlite3_column_int64 (stmt, 22);
    d->abort_requested = sqlite3_column_int (stmt, 23) != 0;
    d->abort_rollback = sqlite3_column_int (stmt, 24) != 0;
    s_copy (d->reason, sizeof d->reason, stmt, 25);
    d->created = sqlite3_column_int64 (stmt, 26);
    d->updated = sqlite3_column_int64 (stmt, 27);
    d->finished = sqlite3_column_int64 (stmt, 28);
    d->progress = sqlite3_column_int64 (stmt, 29);
    d->progress_elapsed_ms = sqlite3_column_int64 (stmt, 30);
    d->pause_remaining_ms = sqlite3_column_int64 (stmt, 31);
    d->offline_grace_ms = sqlite3_column_int64 (stmt, 32);
    d->frozen = sqlite3_column_int (stmt, 33) != 0;
    const char *bg = (const char *)sqlite3_column_text (stmt, 34);
    if (rc_bg_phase_parse (bg ? bg : "", &d->bg_phase) != 0) {
        rc_store_finalize (store, stmt);
        return rc_store_set_error (store, "blue-green phase '%s' is not one this coordinator knows",
                                   bg ? bg : "");
    }
    rc_store_finalize (store, stmt);
    stmt = rc_store_prepare (store,
                             "SELECT signature, operator, retry_of, ignore_freeze, strategy, "
                             "window_spec, window_hosts, rollback_spec FROM deployments "
                             "WHERE id = ?1",
                             "t", id);
    if (!stmt)
        return -1;
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        s_copy (d->signature, sizeof d->signature, stmt, 0);
        s_copy (d->operator_name, sizeof d->operator_name, stmt, 1);
        s_copy (d->retry_of, sizeof d->retry_of, stmt, 2);
        d->ignore_freeze = sqlite3_column_int (stmt, 3) != 0;
        s_copy (d->strategy, sizeof d->strategy, stmt, 4);
        s_copy (d->window_spec, sizeof d->window_spec, stmt, 5);
        d->window_hosts = sqlite3_column_int (stmt, 6);
        s_copy (d->rollback_spec, sizeof d->rollback_spec, stmt, 7);
    }
    rc_store_finalize (store, stmt);
    if (rc != SQLITE_ROW)
        return rc_store_step_error (store);
    return rc_once_load (store, id, d->once) == 0 ? 1 : -1;
}

zlist_t *
rc_deployment_ids (rc_store_t *store, bool active_only, const char *app, size_t limit)
{
    sqlite3_stmt *stmt =
        rc_store_prepare (store,
                          "SELECT id FROM deployments WHERE (?1 = 0 OR state IN (?4, ?5, ?6)) "
                          "AND (?2 IS NULL OR app = ?2) ORDER BY created DESC, id DESC LIMIT ?3",
                          "btittt", (int)active_only, app, limit ? (int64_t)limit : (int64_t)-1,
                          rc_dep_active_names[0], rc_dep_active_names[1], rc_dep_active_names[2]);
    if (!stmt)
        return NULL;
    zlist_t *ids = zlist_new ();
    zlist_autofree (ids);
    int rc;
    while ((rc = rc_store_step (store, stmt)) == SQLITE_ROW)
        zlist_append (ids, (void *)sqlite3_column_text (stmt, 0));
    rc_store_finalize (store, stmt);
    if (rc != SQLITE_DONE)
        zlist_destroy (&ids);
    return ids;
}

static int
s_host_write (rc_store_t *store, const char *deployment_id, const rc_dhost_t *h, bool insert)
{
    const char *sql =
        insert ? "INSERT INTO deployment_hosts (deployment_id, " HOST_COLUMNS
                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                 "?16, ?17, ?18, ?19, ?20)"
               : "UPDATE deployment_hosts SET ord = ?3, batch = ?4, state = ?5, phase = ?6, "
                 "step = ?7, from_version = ?8, to_version = ?9, touched = ?10, needs_rollback "
                 "= ?11, started = ?12, finished = ?13, failure = ?14, error = ?15, output_tail "
                 "= ?16, exit_code = ?17, timings = ?18, unknown_of = ?19, action = ?20 WHERE "
                 "deployment_id = ?1 AND host_id = ?2";
    return rc_store_run (
        store, rc_store_prepare (store, sql, "ttiittittbbiitttittt", deployment_id, h->host_id,
                                 (int64_t)h->ord, (int64_t)h->batch, rc_host_state_name (h->state),
                                 h->phase, (int64_t)h->step, h->from_version, h->to_version,
                                 (int)h->touched, (int)h->needs_rollback, h->started, h->finished,
                                 h->failure, h->error, h->output_tail, (int64_t)h->exit_code,
                                 h->timings, rc_host_state_name (h->unknown_of),
                                 rc_bluegreen_action_name (h->action)));
}

int
rc_dhost_insert (rc_store_t *store, const char *deployment_id, const rc_dhost_t *host)
{
    return s_host_write (store, deployment_id, host, true);
}

int
rc_dhost_save (rc_store_t *store, const char *deployment_id, const rc_dhost_t *host)
{
    return s_host_write (store, deployment_id, host, false);
}

/* Every field is set (no memset of the ~6 KB row first: a status of 1,000
   hosts spent most of its time clearing and faulting in 6 MB). */
static int
s_host_row (rc_store_t *store, sqlite3_stmt *stmt, rc_dhost_t *h)
{
    h->dirty = false;
    s_copy (h->host_id, sizeof h->host_id, stmt, 0);
    h->ord = sqlite3_column_int (stmt, 1);
    h->batch = sqlite3_column_int (stmt, 2);
    if (s_host_state (store, stmt, 3, &h->state) != 0)
        return -1;
    s_copy (h->phase, sizeof h->phase, stmt, 4);
    h->step = sqlite3_column_int (stmt, 5);
    s_copy (h->from_version, sizeof h->from_version, stmt, 6);
    s_copy (h->to_version, sizeof h->to_version, stmt, 7);
    h->touched = sqlite3_column_int (stmt, 8) != 0;
    h->needs_rollback = sqlite3_column_int (stmt, 9) != 0;
    h->started = sqlite3_column_int64 (stmt, 10);
    h->finished = sqlite3_column_int64 (stmt, 11);
    s_copy (h->failure, sizeof h->failure, stmt, 12);
    s_copy (h->error, sizeof h->error, stmt, 13);
    s_copy (h->output_tail, sizeof h->output_tail, stmt, 14);
    h->exit_code = sqlite3_column_int (stmt, 15);
    s_copy (h->timings, sizeof h->timings, stmt, 16);
    const char *action = (const char *)sqlite3_column_text (stmt, 18);
    h->action = rc_bluegreen_action_parse (action ? action : "");
    if (h->action < 0)
        return rc_store_set_error (store, "step action '%s' is not one this coordinator knows",
                                   action);
    return s_host_state (store, stmt, 17, &h->unknown_of);
}

int
rc_dhost_load (rc_store_t *store, const char *deployment_id, rc_dhost_t **hosts_p, size_t *count)
{
    *hosts_p = NULL;
    *count = 0;
    /* as many rows as there are, allocated once (not grown by doubling:
       rows are ~6 KB, a 1,000-host list 6 MB) */
    sqlite3_stmt *stmt =
        rc_store_prepare (store, "SELECT count(*) FROM deployment_hosts WHERE deployment_id = ?1",
                          "t", deployment_id);
    if (!stmt)
        return -1;
    size_t cap = 16, n = 0;
    if (rc_store_step (store, stmt) == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) > 0)
        cap = (size_t)sqlite3_column_int64 (stmt, 0);
    rc_store_finalize (store, stmt);
    stmt = rc_store_prepare (store,
                             "SELECT " HOST_COLUMNS " FROM deployment_hosts "
                             "WHERE deployment_id = ?1 ORDER BY ord",
                             "t", deployment_id);
    if (!stmt)
        return -1;
    rc_dhost_t *hosts = (rc_dhost_t *)malloc (cap * sizeof *hosts);
    int rc = hosts ? SQLITE_ROW : SQLITE_NOMEM;
    while (rc == SQLITE_ROW && (rc = rc_store_step (store, stmt)) == SQLITE_ROW) {
        if (n == cap) {
            rc_dhost_t *more = (rc_dhost_t *)realloc (hosts, 2 * cap * sizeof *hosts);
            if (!more) {
                rc = SQLITE_NOMEM;
                break;
            }
            hosts = more;
            cap *= 2;
        }
        if (s_host_row (store, stmt, &hosts[n++]) != 0) {
            rc = SQLITE_MISMATCH;
            break;
        }
    }
    rc_store_finalize (store, stmt);
    /* all the rows or none: a deployment read in part would look like one
       with fewer hosts left to do */
    if (rc != SQLITE_DONE) {
        if (rc == SQLITE_NOMEM)
            rc_store_set_error (store, "out of memory reading the hosts of %s", deployment_id);
        free (hosts);
        return -1;
    }
    *hosts_p = hosts;
    *count = n;
    return 0;
}

int
rc_dhost_counts (rc_store_t *store, const char *deployment_id, size_t counts[RC_HOST_STATE_COUNT])
{
    memset (counts, 0, RC_HOST_STATE_COUNT * sizeof *counts);
    sqlite3_stmt *stmt = rc_store_prepare (store,
                                           "SELECT state, count(*) FROM deployment_hosts "
                                           "WHERE deployment_id = ?1 GROUP BY state",
                                           "t", deployment_id);
    if (!stmt)
        return -1;
    int rc;
    while ((rc = rc_store_step (store, stmt)) == SQLITE_ROW) {
        rc_host_state_t state;
        if (s_host_state (store, stmt, 0, &state) != 0) {
            rc = SQLITE_MISMATCH;
            break;
        }
        counts[state] += (size_t)sqlite3_column_int64 (stmt, 1);
    }
    rc_store_finalize (store, stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
rc_dhost_load_one (rc_store_t *store, const char *deployment_id, const char *host_id,
                   rc_dhost_t *host)
{
    sqlite3_stmt *stmt = rc_store_prepare (store,
                                           "SELECT " HOST_COLUMNS " FROM deployment_hosts "
                                           "WHERE deployment_id = ?1 AND host_id = ?2",
                                           "tt", deployment_id, host_id);
    if (!stmt)
        return -1;
    int rc = rc_store_step (store, stmt);
    if (rc == SQLITE_ROW && s_host_row (store, stmt, host) != 0)
        rc = SQLITE_MISMATCH;
    rc_store_finalize (store, stmt);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
rc_deployment_app_busy (rc_store_t *store, const char *app, char *active)
{
    zlist_t *ids = rc_deployment_ids (store, true, app, 1);
    if (!ids)
        return -1;
    int busy = zlist_size (ids) > 0;
    if (busy)
        snprintf (active, RC_ID_MAX, "%s", (const char *)zlist_first (ids));
    zlist_destroy (&ids);
    return busy;
}
