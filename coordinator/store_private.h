/*  store_private.h - the store's object, for the files that make up the
    store (store.c, store_fleet.c, store_events.c, store_backup.c) and no
    one else: like sqlite's own sqliteInt.h. */
#ifndef COORD_STORE_PRIVATE_H
#define COORD_STORE_PRIVATE_H

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
};

/* Runs sql (no rows, no arguments: pragmas, migrations). 0 or -1. */
int rc_store_exec (rc_store_t *self, const char *sql);
/* Runs a prepared SELECT EXISTS (...), finalizes it, and sets *yes. */
int rc_store_exists (rc_store_t *self, sqlite3_stmt *stmt, bool *yes);

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
