/*  store.h - the coordinator's state in SQLite (WAL): fleet, per-host apps
    and release history, events. Schema versioned by PRAGMA user_version with
    forward migrations. Like sqlite3 itself, calls return 0 or -1 and keep the
    last error on the object (rc_store_errmsg).

    The store is a library object called from the server loop, not an actor
    of its own: every transition must be committed before the instruction
    that follows from it is published, so the loop waits for the commit
    either way, and a local SQLite commit is a fraction of a millisecond. */
#ifndef COORD_STORE_H
#define COORD_STORE_H

#include <czmq.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef struct _rc_store_t rc_store_t;

typedef struct {
    const char *id;
    const char *hostname;
    const char *pubkey; /* Z85: the key that registered this id */
    const char *agent_version;
    const char *labels; /* "k=v,k=v" */
    const char *state;  /* online | offline */
    bool healthy;
    int64_t first_seen; /* unix ms */
    int64_t last_seen;
} rc_host_row_t;

typedef struct {
    const char *host_id;
    const char *app;
    const char *current;
    const char *rollback_points; /* comma separated, newest first */
} rc_app_row_t;

typedef struct {
    int64_t id;
    int64_t ts;                /* unix ms */
    const char *deployment_id; /* NULL when none */
    const char *host_id;       /* NULL when none */
    const char *kind;
    const char *detail;
} rc_event_row_t;

typedef void (rc_host_fn) (void *arg, const rc_host_row_t *row);
typedef void (rc_app_fn) (void *arg, const rc_app_row_t *row);
typedef void (rc_event_fn) (void *arg, const rc_event_row_t *row);

/* The schema version this build writes. */
#define RC_STORE_SCHEMA_VERSION 4

/* Opens (creating and migrating) the database at path. NULL and err on
   failure, including a database written by a newer rollclone. */
rc_store_t *rc_store_open (const char *path, char *err, size_t errlen);
void rc_store_destroy (rc_store_t **self_p);
const char *rc_store_errmsg (rc_store_t *self);
int rc_store_schema_version (rc_store_t *self);

/* Transactions: one per transition. */
int rc_store_begin (rc_store_t *self);
int rc_store_commit (rc_store_t *self);
void rc_store_rollback (rc_store_t *self);

int rc_store_host_upsert (rc_store_t *self, const rc_host_row_t *row);
int rc_store_host_set_state (rc_store_t *self, const char *id, const char *state, bool healthy,
                             int64_t last_seen);
/* Replaces the host's app rows; a changed current version is also a
   release history row. */
int rc_store_host_set_app (rc_store_t *self, const char *host_id, const char *app,
                           const char *current, const char *rollback_points, int64_t now);
/* The same, saying which deployment made the change (history). */
int rc_store_host_set_app_by (rc_store_t *self, const char *host_id, const char *app,
                              const char *current, const char *rollback_points,
                              const char *deployment_id, int64_t now);
/* Names the deployment behind the host's newest history row, when that row
   is of version and was recorded from a heartbeat first (the heartbeat
   that shows a new release can arrive before the step's report). */
int rc_store_attribute_history (rc_store_t *self, const char *host_id, const char *app,
                                const char *version, const char *deployment_id);
int rc_store_hosts_each (rc_store_t *self, rc_host_fn *fn, void *arg);
int rc_store_host_apps_each (rc_store_t *self, const char *host_id, rc_app_fn *fn, void *arg);

int rc_store_event (rc_store_t *self, int64_t ts, const char *deployment_id, const char *host_id,
                    const char *kind, const char *detail);
/* Events oldest first, after after_id; filters may be NULL; limit 0 = all
   (else the newest limit). */
int rc_store_events_each (rc_store_t *self, const char *deployment_id, const char *host_id,
                          int64_t after_id, size_t limit, rc_event_fn *fn, void *arg);

/* For the modules that keep their own tables (deployments.c): prepare with
   bound arguments ('t' text or NULL, 'i' int64, 'b' bool), run a statement
   that returns no rows (finalizes it), and record sqlite's error after a
   failed sqlite3_step. */
sqlite3_stmt *rc_store_prepare (rc_store_t *self, const char *sql, const char *types, ...);
int rc_store_run (rc_store_t *self, sqlite3_stmt *stmt);
int rc_store_step_error (rc_store_t *self);
/* Records an error of the caller's own (out of memory...); returns -1. */
int rc_store_set_error (rc_store_t *self, const char *fmt, ...);
/* sqlite3_step, recording the error on a result other than ROW or DONE.
   Every read that decides something goes through it: a failed step must
   be told apart from the end of the rows. (In test builds it is also where
   faults are injected: see store.c.) */
int rc_store_step (rc_store_t *self, sqlite3_stmt *stmt);

void rc_store_test (bool verbose);

#endif
