/*  store_private.h - the store's object, for the files that make up the
    store (store.c, store_fleet.c, store_events.c, store_backup.c) and no
    one else: like sqlite's own sqliteInt.h. */
#ifndef COORD_STORE_PRIVATE_H
#define COORD_STORE_PRIVATE_H

#include "rc_defaults.h"
#include "store.h"

struct _rc_store_t {
    sqlite3 *db;             /* the connection */
    char errmsg[512];        /* last error, for rc_store_errmsg */
    int64_t prune_idle_till; /* monotonic ms: nothing to prune was found */
    sqlite3 *backup_db;      /* the copy being written, or NULL */
    sqlite3_backup *backup;  /* its progress */
    char *backup_tmp;        /* the copy's temporary name */
    char *backup_path;       /* where it goes when complete */
    int backup_pages;        /* pages of the last backup, as last counted */
    /* the operator whose request the events written now are of, or "" */
    char operator_name[RC_NAME_MAX + 1];
    /* the webhook outbox (store_outbox.c) */
    rc_outbox_match_fn *outbox_match;   /* webhooks of an event kind, or NULL */
    rc_outbox_notify_fn *outbox_notify; /* rows were committed */
    void *outbox_arg;
    bool outbox_added;     /* the open transaction wrote outbox rows */
    int64_t txn_began_us;  /* monotonic µs of BEGIN, for the metrics (0: none open) */
    bool group;            /* in a group: each begin is a savepoint of one transaction */
    bool group_open;       /* the group's transaction has begun (at its first step) */
    bool step_open;        /* in the group, a step's savepoint is open */
    zhashx_t *stmts;       /* SQL text -> its statement, prepared once (store_stmts.c) */
    int64_t stmt_prepared; /* statements parsed (a kept one once) */
    int64_t stmt_reused;   /* uses of a kept statement, parsing nothing */
    int64_t rows_read;     /* rows stepped through rc_store_step */
    /* "host_id\x1fapp" of the release histories that gained a row since
       the last cap (rc_store_history_cap), and when that may run next */
    zhashx_t *history_grew;
    int64_t history_cap_after; /* monotonic ms */
};

/* Statements kept per SQL text, up to this many (texts made on the fly,
   such as the pagers', past it are prepared each time). */
#define RC_STORE_STMTS_MAX 512

/* The kept statement of sql, reset and unbound (a fresh one of its own when
   that one is in use); NULL and errmsg on failure. Give it back with
   rc_store_finalize. */
sqlite3_stmt *rc_store_stmt_get (rc_store_t *self, const char *sql);
/* Runs sql (no rows wanted, no arguments) on its kept statement: the
   transaction statements of every step. 0 or -1. */
int rc_store_exec_kept (rc_store_t *self, const char *sql);
/* Finalizes every kept statement (before the connection closes). */
void rc_store_stmts_drop (rc_store_t *self);

/* Inserts the event (the statement, taken) and its outbox rows, whole or
   not at all (store_outbox.c). */
int rc_store_outbox_event (rc_store_t *self, sqlite3_stmt *insert, const char *kind);
/* A transaction was committed: says so when it wrote outbox rows. */
void rc_store_outbox_committed (rc_store_t *self);

/* Runs sql (no rows, no arguments: pragmas, migrations). 0 or -1. */
int rc_store_exec (rc_store_t *self, const char *sql);
/* Runs a prepared SELECT EXISTS (...), finalizes it, and sets *yes. */
int rc_store_exists (rc_store_t *self, sqlite3_stmt *stmt, bool *yes);

/* One row of a page, as the statement has it. */
typedef void (rc_store_row_fn) (void *arg, sqlite3_stmt *stmt);
/* One page of table's rows by id, oldest first (the events and release
   history pagers): columns to select, id first; where a filter in which
   ?1 and ?2 are bound to the texts f1 and f2 (NULL binds NULL). With
   after_id > 0: the oldest limit rows after it; else the newest limit
   before before_id (0 = the newest). *more says whether rows remain
   beyond the page (after it when following, before it otherwise). */
int rc_store_page (rc_store_t *self, const char *table, const char *columns, const char *where,
                   const char *f1, const char *f2, int64_t after_id, int64_t before_id,
                   size_t limit, bool *more, rc_store_row_fn *row_fn, void *arg);

/* A text column, NULL when it is NULL. */
static inline const char *
rc_store_col (sqlite3_stmt *stmt, int col)
{
    const unsigned char *text = sqlite3_column_text (stmt, col);
    return text ? (const char *)text : NULL;
}

/* A text column, "" when it is NULL. */
static inline const char *
rc_store_col_str (sqlite3_stmt *stmt, int col)
{
    const char *text = rc_store_col (stmt, col);
    return text ? text : "";
}

#endif
