/*  store_events.c - the audit log (events) and retention: old events and
    release history, and finished deployments beyond the newest kept, pruned
    a few rows at a time from the cron. */
#include "rc_states.h"
#include "rc_time.h"
#include "store_private.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
rc_store_event (rc_store_t *self, int64_t ts, const char *deployment_id, const char *host_id,
                const char *kind, const char *detail)
{
    /* with its webhook outbox rows, when any webhook wants this kind */
    return rc_store_outbox_event (self,
                                  rc_store_prepare (self,
                                                    "INSERT INTO events (ts, deployment_id, "
                                                    "host_id, kind, detail, operator) "
                                                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                                    "ittttt", ts, deployment_id, host_id, kind,
                                                    detail ? detail : "", self->operator_name),
                                  kind);
}

void
rc_store_set_operator (rc_store_t *self, const char *name)
{
    snprintf (self->operator_name, sizeof self->operator_name, "%s", name ? name : "");
}

const char *
rc_store_operator (rc_store_t *self)
{
    return self->operator_name;
}

int
rc_store_eventf (rc_store_t *self, const char *deployment_id, const char *host_id, const char *kind,
                 const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    char *detail = zsys_vprintf (fmt, args);
    va_end (args);
    if (!detail)
        return rc_store_set_error (self, "out of memory for event %s", kind);
    int rc = rc_store_event (self, rc_now_ms (), deployment_id, host_id, kind, detail);
    free (detail);
    return rc;
}

int
rc_store_events_each (rc_store_t *self, const char *deployment_id, const char *host_id,
                      int64_t after_id, size_t limit, rc_event_fn *fn, void *arg)
{
    bool more = false;
    /* 0 = all of them: a page as large as the table can be */
    return rc_store_events_page (self, deployment_id, host_id, after_id, 0,
                                 limit ? limit : (size_t)INT64_MAX, &more, fn, arg);
}

/* The filters of an events query, ?1 deployment and ?2 host, written so
   that the planner sees which index serves them (an `?1 IS NULL OR`
   would hide it and scan the whole table). */
static const char *
s_events_where (const char *deployment_id, const char *host_id)
{
    if (deployment_id && host_id)
        return "deployment_id = ?1 AND host_id = ?2";
    if (deployment_id)
        return "deployment_id = ?1 AND ?2 IS NULL";
    if (host_id)
        return "?1 IS NULL AND host_id = ?2";
    return "?1 IS NULL AND ?2 IS NULL";
}

typedef struct {
    rc_event_fn *fn;
    void *arg;
} s_events_t;

static void
s_event_row (void *arg, sqlite3_stmt *stmt)
{
    s_events_t *events = (s_events_t *)arg;
    rc_event_row_t row = {
        .id = sqlite3_column_int64 (stmt, 0),
        .ts = sqlite3_column_int64 (stmt, 1),
        .deployment_id = rc_store_col (stmt, 2),
        .host_id = rc_store_col (stmt, 3),
        .kind = rc_store_col_str (stmt, 4),
        .detail = rc_store_col_str (stmt, 5),
        .operator_name = rc_store_col_str (stmt, 6),
    };
    events->fn (events->arg, &row);
}

int
rc_store_events_page (rc_store_t *self, const char *deployment_id, const char *host_id,
                      int64_t after_id, int64_t before_id, size_t limit, bool *more,
                      rc_event_fn *fn, void *arg)
{
    s_events_t events = {fn, arg};
    return rc_store_page (self, "events", "id, ts, deployment_id, host_id, kind, detail, operator",
                          s_events_where (deployment_id, host_id), deployment_id, host_id, after_id,
                          before_id, limit, more, s_event_row, &events);
}

/* ------------------------------------------------------------------------ */
/* Retention */

static int s_prune_batch_in (rc_store_t *self, int64_t cutoff, int64_t keep);

/* A deployment that may still be moving: never pruned, nor its events. The
   engine sets finished when a deployment ends (and clears it when a
   rollback reopens it); the state is checked too, so that a row that says
   one and not the other is kept. The active states' names (rc_states.h)
   are bound as ?3, ?4 and ?5 (S_LIVE_ARGS). */
#define S_DEPLOYMENT_LIVE "(d.finished = 0 OR d.state IN (?3, ?4, ?5))"
#define S_LIVE_ARGS rc_dep_active_names[0], rc_dep_active_names[1], rc_dep_active_names[2]

/* Runs a DELETE and returns the rows it deleted, or -1. */
static int
s_delete (rc_store_t *self, sqlite3_stmt *stmt)
{
    if (rc_store_run (self, stmt) != 0)
        return -1;
    return sqlite3_changes (self->db);
}

static int
s_prune_events (rc_store_t *self, int64_t cutoff, int budget)
{
    return s_delete (
        self, rc_store_prepare (self,
                                "DELETE FROM events WHERE id IN (SELECT e.id FROM events e "
                                "  WHERE e.ts < ?1 AND NOT EXISTS (SELECT 1 FROM deployments d "
                                "    WHERE d.id = e.deployment_id AND " S_DEPLOYMENT_LIVE ") "
                                "  ORDER BY e.ts LIMIT ?2)",
                                "iittt", cutoff, (int64_t)budget, S_LIVE_ARGS));
}

/* Old release history goes, except each host and app's newest row: it
   says how the current release got there. */
static int
s_prune_history (rc_store_t *self, int64_t cutoff, int budget)
{
    return s_delete (self,
                     rc_store_prepare (self,
                                       "DELETE FROM release_history WHERE id IN (SELECT r.id FROM "
                                       "  release_history r WHERE r.ts < ?1 AND r.id < (SELECT "
                                       "  max(n.id) FROM release_history n WHERE n.host_id = "
                                       "  r.host_id AND n.app = r.app) ORDER BY r.ts LIMIT ?2)",
                                       "ii", cutoff, (int64_t)budget));
}

/* Finished deployments beyond the newest keep: their host rows first (a
   large deployment over several batches), then the deployment. */
static int
s_prune_deployments (rc_store_t *self, int64_t keep, int budget)
{
    sqlite3_stmt *stmt =
        rc_store_prepare (self,
                          "SELECT d.id FROM deployments d WHERE NOT " S_DEPLOYMENT_LIVE
                          " ORDER BY d.created DESC, d.id DESC LIMIT 1 OFFSET ?1",
                          "iittt", keep, (int64_t)0, S_LIVE_ARGS);
    if (!stmt)
        return -1;
    int deleted = 0;
    while (deleted < budget) {
        sqlite3_reset (stmt);
        int rc = sqlite3_step (stmt);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            deleted = rc_store_set_error (self, "%s", sqlite3_errmsg (self->db));
            break;
        }
        char *id = strdup (rc_store_col_str (stmt, 0));
        sqlite3_reset (stmt);
        if (!id) {
            deleted = rc_store_set_error (self, "out of memory");
            break;
        }
        int left = budget - deleted;
        int n =
            s_delete (self, rc_store_prepare (self,
                                              "DELETE FROM deployment_hosts WHERE rowid IN (SELECT "
                                              "  rowid FROM deployment_hosts WHERE deployment_id = "
                                              "  ?1 LIMIT ?2)",
                                              "ti", id, (int64_t)left));
        if (n >= 0 && n < left) /* its last host rows are gone: the deployment goes */
            n = n
                + s_delete (self, rc_store_prepare (self,
                                                    "DELETE FROM deployment_run_once WHERE "
                                                    "deployment_id = ?1",
                                                    "t", id))
                + s_delete (self, rc_store_prepare (self,
                                                    "DELETE FROM deployment_checks WHERE "
                                                    "deployment_id = ?1",
                                                    "t", id))
                + s_delete (self, rc_store_prepare (self,
                                                    "DELETE FROM check_state WHERE "
                                                    "deployment_id = ?1",
                                                    "t", id))
                + s_delete (self, rc_store_prepare (self, "DELETE FROM deployments WHERE id = ?1",
                                                    "t", id));
        free (id);
        if (n < 0) {
            deleted = -1;
            break;
        }
        deleted += n;
    }
    rc_store_finalize (self, stmt);
    return deleted;
}

/* One transaction of at most RC_PRUNE_BATCH deletions; returns how many.
   It commits without waiting for the disk (synchronous=NORMAL, still
   atomic in WAL): a deletion lost in a power cut is only done again, and
   the fsync would cost more than the deleting. */
static int
s_prune_batch (rc_store_t *self, int64_t cutoff, int64_t keep)
{
    if (rc_store_exec (self, "PRAGMA synchronous=NORMAL") != 0)
        return -1;
    int done = s_prune_batch_in (self, cutoff, keep);
    /* every other commit waits for the disk again */
    if (rc_store_exec (self, "PRAGMA synchronous=FULL") != 0)
        return -1;
    return done;
}

static int
s_prune_batch_in (rc_store_t *self, int64_t cutoff, int64_t keep)
{
    if (rc_store_begin (self) != 0)
        return -1;
    int done = s_prune_events (self, cutoff, RC_PRUNE_BATCH);
    if (done >= 0 && done < RC_PRUNE_BATCH) {
        int n = s_prune_history (self, cutoff, RC_PRUNE_BATCH - done);
        done = n < 0 ? -1 : done + n;
    }
    if (done >= 0 && done < RC_PRUNE_BATCH) {
        int n = s_prune_deployments (self, keep, RC_PRUNE_BATCH - done);
        done = n < 0 ? -1 : done + n;
    }
    if (done < 0 || rc_store_commit (self) != 0) {
        char reason[sizeof self->errmsg];
        memcpy (reason, self->errmsg, sizeof reason);
        rc_store_rollback (self);
        return rc_store_set_error (self, "pruning: %s", reason);
    }
    return done;
}

int
rc_store_prune_step (rc_store_t *self, int64_t event_retention_ms, int64_t deployment_retention)
{
    int64_t start = rc_mono_ms ();
    if (start < self->prune_idle_till || !sqlite3_get_autocommit (self->db))
        return 0;
    int64_t cutoff = rc_now_ms () - event_retention_ms;
    int total = 0, n;
    do {
        n = s_prune_batch (self, cutoff, deployment_retention);
        if (n < 0) {
            /* said once per rest, not on every tick */
            self->prune_idle_till = rc_mono_ms () + RC_PRUNE_IDLE_MS;
            return -1;
        }
        total += n;
    } while (n == RC_PRUNE_BATCH && rc_mono_ms () - start < RC_PRUNE_BUDGET_MS);
    /* a batch that was not full found everything there was */
    if (n < RC_PRUNE_BATCH)
        self->prune_idle_till = rc_mono_ms () + RC_PRUNE_IDLE_MS;
    return total;
}
