/*  store_fleet.c - the fleet in the store: hosts, the apps each runs, and
    the release history of each (who ran what, when, and which deployment
    put it there). */
#include "rc_time.h"
#include "store_private.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
rc_store_host_upsert (rc_store_t *self, const rc_host_row_t *row)
{
    return rc_store_run (
        self, rc_store_prepare (self,
                                "INSERT INTO hosts (id, hostname, pubkey, agent_version, labels, "
                                "  state, healthy, first_seen, last_seen) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) "
                                "ON CONFLICT (id) DO UPDATE SET hostname = ?2, agent_version = ?4, "
                                "  labels = ?5, state = ?6, healthy = ?7, last_seen = ?8",
                                "ttttttbi", row->id, row->hostname, row->pubkey, row->agent_version,
                                row->labels, row->state, (int)row->healthy, row->last_seen));
}

int
rc_store_host_set_state (rc_store_t *self, const char *id, const char *state, bool healthy,
                         int64_t last_seen)
{
    return rc_store_run (
        self, rc_store_prepare (self,
                                "UPDATE hosts SET state = ?2, healthy = ?3, last_seen = ?4 "
                                "WHERE id = ?1",
                                "ttbi", id, state, (int)healthy, last_seen));
}

int
rc_store_host_set_app (rc_store_t *self, const char *host_id, const char *app, const char *current,
                       const char *rollback_points, int64_t now)
{
    rc_app_row_t row = {
        .host_id = host_id, .app = app, .current = current, .rollback_points = rollback_points};
    return rc_store_host_app_save (self, &row, false, NULL, now);
}

/* Notes that the release history of host_id's app gained a row. */
static int
s_history_grew (rc_store_t *self, const char *host_id, const char *app)
{
    if (!self->history_grew) {
        self->history_grew = zhashx_new ();
        if (!self->history_grew)
            return rc_store_set_error (self, "out of memory");
        zhashx_set_destructor (self->history_grew, (zhashx_destructor_fn *)zstr_free);
    }
    /* the key is its own item (zhashx copies keys, keeps items) */
    char *key = zsys_sprintf ("%s\x1f%s", host_id, app);
    if (!key)
        return rc_store_set_error (self, "out of memory");
    if (zhashx_lookup (self->history_grew, key)) {
        zstr_free (&key);
        return 0;
    }
    if (zhashx_insert (self->history_grew, key, key) != 0) {
        zstr_free (&key);
        return rc_store_set_error (self, "out of memory");
    }
    return 0;
}

int
rc_store_history_cap (rc_store_t *self, bool now)
{
    int64_t mono = rc_mono_ms ();
    if (!self->history_grew || zhashx_size (self->history_grew) == 0
        || (!now && mono < self->history_cap_after) || !sqlite3_get_autocommit (self->db))
        return 0;
    zlistx_t *done = zlistx_new ();
    if (!done)
        return rc_store_set_error (self, "out of memory");
    /* like retention's deletions, without waiting for the disk: one lost
       in a power cut is done again after the app's next release */
    if (rc_store_exec (self, "PRAGMA synchronous=NORMAL") != 0 || rc_store_begin (self) != 0) {
        rc_store_exec (self, "PRAGMA synchronous=FULL");
        zlistx_destroy (&done);
        return -1;
    }
    /* at most RC_PRUNE_BUDGET_MS of the loop a call, as retention: after
       a rollout of 10,000 hosts, each DELETE walking up to the cap's
       index entries, the rest waits for the next pass */
    int total = 0;
    for (char *key = (char *)zhashx_first (self->history_grew);
         key && total >= 0 && rc_mono_ms () - mono < RC_PRUNE_BUDGET_MS;
         key = (char *)zhashx_next (self->history_grew)) {
        char *app = strchr (key, '\x1f');
        if (app) {
            *app = '\0';
            int rc = rc_store_run (
                self, rc_store_prepare (self,
                                        "DELETE FROM release_history WHERE id IN (SELECT id FROM "
                                        "  release_history WHERE host_id = ?1 AND app = ?2 "
                                        "  ORDER BY id DESC LIMIT ?4 OFFSET ?3)",
                                        "ttii", key, app + 1, (int64_t)RC_HISTORY_PER_APP_MAX,
                                        (int64_t)RC_PRUNE_BATCH));
            *app = '\x1f';
            total = rc == 0 ? total + sqlite3_changes (self->db) : -1;
        }
        if (total >= 0 && !zlistx_add_end (done, key))
            total = rc_store_set_error (self, "out of memory");
    }
    if (total < 0 || rc_store_commit (self) != 0) {
        char reason[sizeof self->errmsg];
        memcpy (reason, self->errmsg, sizeof reason);
        rc_store_rollback (self);
        rc_store_exec (self, "PRAGMA synchronous=FULL");
        zlistx_destroy (&done);
        return rc_store_set_error (self, "capping release history: %s", reason);
    }
    /* the items are their keys: deleting one frees it, so by a copy */
    for (char *key = (char *)zlistx_first (done); key; key = (char *)zlistx_next (done)) {
        char *copy = strdup (key);
        if (copy)
            zhashx_delete (self->history_grew, copy);
        free (copy);
    }
    zlistx_destroy (&done);
    /* all done: the next pass in RC_HISTORY_CAP_EVERY_MS; else the next cron */
    if (zhashx_size (self->history_grew) == 0)
        self->history_cap_after = mono + RC_HISTORY_CAP_EVERY_MS;
    if (rc_store_exec (self, "PRAGMA synchronous=FULL") != 0)
        return -1;
    return total;
}

int
rc_store_host_app_save (rc_store_t *self, const rc_app_row_t *row, bool slots,
                        const char *deployment_id, int64_t now)
{
    /* what did we know before? a change of current is history, and a row
       that says the same is not written again */
    sqlite3_stmt *stmt = rc_store_prepare (self,
                                           "SELECT current, rollback_points, slot, slot_port, "
                                           "  warm_version, warm_until FROM host_apps "
                                           "WHERE host_id = ?1 AND app = ?2",
                                           "tt", row->host_id, row->app);
    if (!stmt)
        return -1;
    char *before = NULL;
    bool known = false, same = false;
    int step = rc_store_step (self, stmt);
    if (step == SQLITE_ROW) {
        known = true;
        before = strdup (rc_store_col_str (stmt, 0));
        same = strcmp (rc_store_col_str (stmt, 1), row->rollback_points) == 0;
        if (slots)
            same = same && sqlite3_column_int64 (stmt, 2) == row->slot
                   && sqlite3_column_int64 (stmt, 3) == row->slot_port
                   && strcmp (rc_store_col_str (stmt, 4), row->warm_version) == 0
                   && sqlite3_column_int64 (stmt, 5) == row->warm_until;
    }
    rc_store_finalize (self, stmt);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return -1;
    if (known && !before)
        return rc_store_set_error (self, "out of memory");
    bool changed = !known || strcmp (before, row->current) != 0;
    int rc = 0;
    if ((changed || !same) && slots)
        rc = rc_store_run (
            self, rc_store_prepare (
                      self,
                      "INSERT INTO host_apps (host_id, app, current, rollback_points, updated, "
                      "  slot, slot_port, warm_version, warm_until) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                      "ON CONFLICT (host_id, app) DO UPDATE SET current = ?3, "
                      "  rollback_points = ?4, updated = ?5, slot = ?6, slot_port = ?7, "
                      "  warm_version = ?8, warm_until = ?9",
                      "ttttiiiti", row->host_id, row->app, row->current, row->rollback_points, now,
                      row->slot, row->slot_port, row->warm_version, row->warm_until));
    else if (changed || !same)
        rc = rc_store_run (
            self, rc_store_prepare (
                      self,
                      "INSERT INTO host_apps (host_id, app, current, rollback_points, "
                      "  updated) VALUES (?1, ?2, ?3, ?4, ?5) "
                      "ON CONFLICT (host_id, app) DO UPDATE SET current = ?3, "
                      "  rollback_points = ?4, updated = ?5",
                      "tttti", row->host_id, row->app, row->current, row->rollback_points, now));
    if (rc == 0 && changed && *row->current)
        rc = rc_store_run (
            self, rc_store_prepare (self,
                                    "INSERT INTO release_history (host_id, app, version, previous, "
                                    "  rollback_points, deployment_id, source, ts) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                    "ttttttti", row->host_id, row->app, row->current,
                                    before ? before : "", row->rollback_points, deployment_id,
                                    deployment_id ? "deployment" : "reported", now));
    /* bounded per host and app: the oldest beyond the cap go, by the next
       rc_store_history_cap (a DELETE here walked up to the cap's thousand
       index entries on every report of a host with a long history) */
    if (rc == 0 && changed && *row->current)
        rc = s_history_grew (self, row->host_id, row->app);
    /* the same release, first recorded from a heartbeat (the heartbeat
       that shows it can arrive before the step's report): the deployment
       behind it is named now */
    if (rc == 0 && !changed && deployment_id && *row->current)
        rc = rc_store_run (
            self, rc_store_prepare (self,
                                    "UPDATE release_history SET deployment_id = ?4, "
                                    "  source = 'deployment' "
                                    "WHERE id = (SELECT max(id) FROM release_history "
                                    "  WHERE host_id = ?1 AND app = ?2) "
                                    "AND version = ?3 AND deployment_id IS NULL",
                                    "tttt", row->host_id, row->app, row->current, deployment_id));
    free (before);
    return rc;
}

int
rc_store_host_app_current (rc_store_t *self, const char *host_id, const char *app, char *out,
                           size_t len)
{
    out[0] = '\0';
    sqlite3_stmt *stmt = rc_store_prepare (self,
                                           "SELECT current FROM host_apps "
                                           "WHERE host_id = ?1 AND app = ?2",
                                           "tt", host_id, app);
    if (!stmt)
        return -1;
    int rc = rc_store_step (self, stmt);
    if (rc == SQLITE_ROW)
        snprintf (out, len, "%s", rc_store_col_str (stmt, 0));
    rc_store_finalize (self, stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* A host row from columns 0-8 of stmt: id, hostname, pubkey,
   agent_version, labels, state, healthy, first_seen, last_seen. */
static rc_host_row_t
s_host_row (sqlite3_stmt *stmt)
{
    return (rc_host_row_t){
        .id = rc_store_col_str (stmt, 0),
        .hostname = rc_store_col_str (stmt, 1),
        .pubkey = rc_store_col_str (stmt, 2),
        .agent_version = rc_store_col_str (stmt, 3),
        .labels = rc_store_col_str (stmt, 4),
        .state = rc_store_col_str (stmt, 5),
        .healthy = sqlite3_column_int (stmt, 6) != 0,
        .first_seen = sqlite3_column_int64 (stmt, 7),
        .last_seen = sqlite3_column_int64 (stmt, 8),
    };
}

int
rc_store_hosts_each (rc_store_t *self, rc_host_fn *fn, void *arg)
{
    sqlite3_stmt *stmt =
        rc_store_prepare (self,
                          "SELECT id, hostname, pubkey, agent_version, labels, state, "
                          "  healthy, first_seen, last_seen FROM hosts ORDER BY id",
                          "");
    if (!stmt)
        return -1;
    int rc;
    while ((rc = rc_store_step (self, stmt)) == SQLITE_ROW) {
        rc_host_row_t row = s_host_row (stmt);
        fn (arg, &row);
    }
    rc_store_finalize (self, stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The slot columns of an app row, from column first on. */
static void
s_slot_cols (sqlite3_stmt *stmt, int first, rc_app_row_t *row)
{
    row->slot = sqlite3_column_int64 (stmt, first);
    row->slot_port = sqlite3_column_int64 (stmt, first + 1);
    row->warm_version = rc_store_col_str (stmt, first + 2);
    row->warm_until = sqlite3_column_int64 (stmt, first + 3);
}

int
rc_store_host_apps_each (rc_store_t *self, const char *host_id, rc_app_fn *fn, void *arg)
{
    sqlite3_stmt *stmt =
        rc_store_prepare (self,
                          "SELECT host_id, app, current, rollback_points, slot, slot_port, "
                          "  warm_version, warm_until FROM host_apps "
                          "WHERE ?1 IS NULL OR host_id = ?1 ORDER BY host_id, app",
                          "t", host_id);
    if (!stmt)
        return -1;
    int rc;
    while ((rc = rc_store_step (self, stmt)) == SQLITE_ROW) {
        rc_app_row_t row = {
            .host_id = rc_store_col_str (stmt, 0),
            .app = rc_store_col_str (stmt, 1),
            .current = rc_store_col_str (stmt, 2),
            .rollback_points = rc_store_col_str (stmt, 3),
        };
        s_slot_cols (stmt, 4, &row);
        fn (arg, &row);
    }
    rc_store_finalize (self, stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
rc_store_fleet_each (rc_store_t *self, rc_host_fn *host_fn, rc_app_fn *app_fn, void *arg)
{
    /* one query for the whole fleet (a join, ordered so that a host's apps
       follow it), where a query per host made `hosts` N+1 round trips */
    sqlite3_stmt *stmt =
        rc_store_prepare (self,
                          "SELECT h.id, h.hostname, h.pubkey, h.agent_version, h.labels, "
                          "  h.state, h.healthy, h.first_seen, h.last_seen, "
                          "  a.app, a.current, a.rollback_points, a.slot, a.slot_port, "
                          "  a.warm_version, a.warm_until "
                          "FROM hosts h LEFT JOIN host_apps a ON a.host_id = h.id "
                          "ORDER BY h.id, a.app",
                          "");
    if (!stmt)
        return -1;
    int rc;
    char *last = NULL;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const char *id = rc_store_col_str (stmt, 0);
        if (!last || strcmp (last, id) != 0) {
            free (last);
            last = strdup (id);
            if (!last) {
                rc = SQLITE_NOMEM;
                break;
            }
            rc_host_row_t row = s_host_row (stmt);
            host_fn (arg, &row);
        }
        if (sqlite3_column_type (stmt, 9) != SQLITE_NULL) {
            rc_app_row_t app = {
                .host_id = id,
                .app = rc_store_col_str (stmt, 9),
                .current = rc_store_col_str (stmt, 10),
                .rollback_points = rc_store_col_str (stmt, 11),
            };
            s_slot_cols (stmt, 12, &app);
            app_fn (arg, &app);
        }
    }
    free (last);
    rc_store_finalize (self, stmt);
    if (rc == SQLITE_NOMEM)
        return rc_store_set_error (self, "out of memory");
    return rc == SQLITE_DONE ? 0 : rc_store_set_error (self, "%s", sqlite3_errmsg (self->db));
}

typedef struct {
    rc_history_fn *fn;
    void *arg;
} s_history_t;

static void
s_history_row (void *arg, sqlite3_stmt *stmt)
{
    s_history_t *history = (s_history_t *)arg;
    rc_history_row_t row = {
        .id = sqlite3_column_int64 (stmt, 0),
        .app = rc_store_col_str (stmt, 1),
        .version = rc_store_col_str (stmt, 2),
        .previous = rc_store_col_str (stmt, 3),
        .rollback_points = rc_store_col_str (stmt, 4),
        .deployment_id = rc_store_col_str (stmt, 5),
        .ts = sqlite3_column_int64 (stmt, 6),
    };
    history->fn (history->arg, &row);
}

int
rc_store_history_page (rc_store_t *self, const char *host_id, int64_t before_id, size_t limit,
                       bool *more, rc_history_fn *fn, void *arg)
{
    s_history_t history = {fn, arg};
    return rc_store_page (self, "release_history",
                          "id, app, version, previous, rollback_points, "
                          "coalesce(deployment_id, ''), ts",
                          "host_id = ?1 AND ?2 IS NULL", host_id, NULL, 0, before_id, limit, more,
                          s_history_row, &history);
}
