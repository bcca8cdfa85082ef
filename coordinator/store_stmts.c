/*  store_stmts.c - the store's prepared statements, kept: each SQL text is
    parsed once per connection and reset between uses. Parsing was a third
    of the coordinator's CPU per step report (perf, 500 hosts): a report
    runs a dozen statements, each prepared again every time. */
#include "store_private.h"

#include <string.h>

typedef struct {
    sqlite3_stmt *stmt; /* prepared once (SQLITE_PREPARE_PERSISTENT) */
    bool in_use;        /* handed out, not yet given back (rc_store_finalize) */
} s_kept_t;

static void
s_kept_destroy (void **item)
{
    s_kept_t *kept = (s_kept_t *)*item;
    if (kept) {
        sqlite3_finalize (kept->stmt);
        free (kept);
        *item = NULL;
    }
}

sqlite3_stmt *
rc_store_stmt_get (rc_store_t *self, const char *sql)
{
    if (!self->stmts) {
        self->stmts = zhashx_new ();
        if (!self->stmts) {
            rc_store_set_error (self, "out of memory");
            return NULL;
        }
        zhashx_set_destructor (self->stmts, s_kept_destroy);
    }
    s_kept_t *kept = (s_kept_t *)zhashx_lookup (self->stmts, sql);
    if (kept && !kept->in_use) {
        kept->in_use = true;
        self->stmt_reused++;
        return kept->stmt;
    }
    /* in use (a statement run inside the loop over another's rows), or a
       text made on the fly beyond the bound: one of its own */
    bool keep = !kept && zhashx_size (self->stmts) < RC_STORE_STMTS_MAX;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v3 (self->db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, NULL)
        != SQLITE_OK) {
        rc_store_set_error (self, "%s", sqlite3_errmsg (self->db));
        sqlite3_finalize (stmt);
        return NULL;
    }
    self->stmt_prepared++;
    if (keep) {
        kept = (s_kept_t *)calloc (1, sizeof *kept);
        if (kept) {
            kept->stmt = stmt;
            kept->in_use = true;
            zhashx_insert (self->stmts, sql, kept);
        }
    }
    return stmt;
}

void
rc_store_finalize (rc_store_t *self, sqlite3_stmt *stmt)
{
    if (!stmt)
        return;
    const char *sql = sqlite3_sql (stmt);
    s_kept_t *kept = self->stmts && sql ? (s_kept_t *)zhashx_lookup (self->stmts, sql) : NULL;
    if (kept && kept->stmt == stmt) {
        /* ready for the next use: no read left open, no text bound */
        sqlite3_reset (stmt);
        sqlite3_clear_bindings (stmt);
        kept->in_use = false;
    }
    else
        sqlite3_finalize (stmt);
}

void
rc_store_stmts_drop (rc_store_t *self)
{
    zhashx_destroy (&self->stmts);
}

int
rc_store_exec_kept (rc_store_t *self, const char *sql)
{
    sqlite3_stmt *stmt = rc_store_stmt_get (self, sql);
    if (!stmt)
        return -1;
    int rc = sqlite3_step (stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        rc_store_set_error (self, "%s", sqlite3_errmsg (self->db));
    rc_store_finalize (self, stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

void
rc_store_stmt_counts (rc_store_t *self, int64_t *prepared, int64_t *reused)
{
    *prepared = self->stmt_prepared;
    *reused = self->stmt_reused;
}

int64_t
rc_store_rows_read (rc_store_t *self)
{
    return self->rows_read;
}
