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
    /* surge clones ([app] slots): 0 / "" when the app has none */
    int64_t slot;             /* serving slot, 1 or 2 */
    int64_t slot_port;        /* its port */
    const char *warm_version; /* the release warm on the other slot, or "" */
    int64_t warm_until;       /* until then (unix ms) */
} rc_app_row_t;

typedef struct {
    int64_t id;
    int64_t ts;                /* unix ms */
    const char *deployment_id; /* NULL when none */
    const char *host_id;       /* NULL when none */
    const char *kind;
    const char *detail;
    const char *operator_name; /* the operator key whose request it records, or "" */
} rc_event_row_t;

typedef struct {
    int64_t id;
    const char *app;
    const char *version;
    const char *previous;
    const char *rollback_points;
    const char *deployment_id; /* "" when none */
    int64_t ts;                /* unix ms */
} rc_history_row_t;

typedef void (rc_host_fn) (void *arg, const rc_host_row_t *row);
typedef void (rc_app_fn) (void *arg, const rc_app_row_t *row);
typedef void (rc_event_fn) (void *arg, const rc_event_row_t *row);
typedef void (rc_history_fn) (void *arg, const rc_history_row_t *row);

/* Retention work per call of rc_store_prune_step: rows per transaction, a
   time budget per call, and the rest after finding nothing to do. */
#define RC_PRUNE_BATCH 1000
#define RC_PRUNE_BUDGET_MS 20
#define RC_PRUNE_IDLE_MS (60 * 1000)
/* Backup work per cron call: pages per sqlite3_backup_step and the time
   budget of one call. */
#define RC_BACKUP_STEP_PAGES 256
#define RC_BACKUP_BUDGET_MS 50

/* Release history kept per host and app, whatever its age: a host whose
   version flaps would otherwise grow it without bound in between. Cut by
   rc_store_history_cap at most every RC_HISTORY_CAP_EVERY_MS, so a history
   holds at most what it gained in that time beyond the cap. */
#define RC_HISTORY_PER_APP_MAX 1000
#define RC_HISTORY_CAP_EVERY_MS (10 * 1000)

/* The schema version this build writes. */
#define RC_STORE_SCHEMA_VERSION 13

/* The lock file in data_dir that makes one coordinator its only owner. */
#define RC_STORE_LOCK_FILE "coordinator.lock"

/* Takes the exclusive lock (flock) on data_dir's lock file and writes our
   pid into it; the returned descriptor holds the lock until the process
   ends (close it only to give the directory up). -1 with the reason in err,
   "data_dir X is in use by pid N" when another process holds it: SQLite's
   own locks would let two coordinators take turns on the same rows. */
int rc_store_lock_dir (const char *data_dir, char *err, size_t errlen);

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

/* Group commit: between group_begin and group_commit, each transaction
   above is a savepoint of one group transaction (its rollback undoes it
   alone), and a burst of them costs one fsync (none when none wrote:
   the group's transaction begins with its first step). Nothing that depends on
   them may be published until group_commit returns 0; on -1 every one of
   them was rolled back. group_begin -1: no group (each transaction is its
   own, as without). */
int rc_store_group_begin (rc_store_t *self);
int rc_store_group_commit (rc_store_t *self);
/* Between group_begin and group_commit? */
bool rc_store_grouped (rc_store_t *self);
/* Rows changed so far by this connection: did a step write anything? */
int64_t rc_store_changes (rc_store_t *self);

int rc_store_host_upsert (rc_store_t *self, const rc_host_row_t *row);
int rc_store_host_set_state (rc_store_t *self, const char *id, const char *state, bool healthy,
                             int64_t last_seen);
/* Replaces the host's app rows; a changed current version is also a
   release history row. */
int rc_store_host_set_app (rc_store_t *self, const char *host_id, const char *app,
                           const char *current, const char *rollback_points, int64_t now);
/* The same for row (its release, rollback points, and with slots its
   surge-clone slots too: slot, slot_port, warm_version, warm_until), in as
   few statements as it can: a read, and a write only when the row differs.
   A changed release is a history row of deployment_id (NULL: as the agent
   reported it); the same release already recorded from a heartbeat (which
   can arrive before the step's report) is attributed to deployment_id. */
int rc_store_host_app_save (rc_store_t *self, const rc_app_row_t *row, bool slots,
                            const char *deployment_id, int64_t now);
int rc_store_hosts_each (rc_store_t *self, rc_host_fn *fn, void *arg);
int rc_store_host_apps_each (rc_store_t *self, const char *host_id, rc_app_fn *fn, void *arg);
/* Every host, each followed by its apps, in one query: host_fn once per
   host (by id), then app_fn for each of its apps. */
int rc_store_fleet_each (rc_store_t *self, rc_host_fn *host_fn, rc_app_fn *app_fn, void *arg);

int rc_store_event (rc_store_t *self, int64_t ts, const char *deployment_id, const char *host_id,
                    const char *kind, const char *detail);
/* Events written from now on record name as their operator (the key of the
   control request being answered); "" or NULL for none, the coordinator's
   own doing. */
void rc_store_set_operator (rc_store_t *self, const char *name);
const char *rc_store_operator (rc_store_t *self);
/* An event of now, its detail formatted (and sized to fit: a detail may
   list every host of a batch). */
int rc_store_eventf (rc_store_t *self, const char *deployment_id, const char *host_id,
                     const char *kind, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));
/* The version a host reports live for app ("" when none): 0, or -1 when
   the store could not say (never to be taken for "none": that would leave
   the host without a rollback point). */
int rc_store_host_app_current (rc_store_t *self, const char *host_id, const char *app, char *out,
                               size_t len);
/* Events oldest first; filters may be NULL; limit 0 = all, else a page as
   rc_store_events_page makes it. */
int rc_store_events_each (rc_store_t *self, const char *deployment_id, const char *host_id,
                          int64_t after_id, size_t limit, rc_event_fn *fn, void *arg);

/* One page of events, oldest first. With after_id: the oldest limit events
   after it (following a log); else the newest limit before before_id (0 =
   the newest). *more says whether events remain beyond the page (after it
   when following, before it otherwise). limit must be > 0. */
int rc_store_events_page (rc_store_t *self, const char *deployment_id, const char *host_id,
                          int64_t after_id, int64_t before_id, size_t limit, bool *more,
                          rc_event_fn *fn, void *arg);
/* One page of a host's release history, oldest first: the newest limit
   rows before before_id (0 = the newest); *more as above. */
int rc_store_history_page (rc_store_t *self, const char *host_id, int64_t before_id, size_t limit,
                           bool *more, rc_history_fn *fn, void *arg);

/* The webhook outbox (store_outbox.c). match says which webhooks an event
   of kind goes to: it puts up to max names (borrowed, alive as long as the
   store uses them) in names and returns how many. Every event written then
   also writes one outbox row per name, in the event's transaction, and
   notify(arg) is called once that is committed (at once for an event
   written outside a transaction, else by rc_store_commit). */
typedef size_t (rc_outbox_match_fn) (void *arg, const char *kind, const char **names, size_t max);
typedef void (rc_outbox_notify_fn) (void *arg);
void rc_store_set_outbox (rc_store_t *self, rc_outbox_match_fn *match, rc_outbox_notify_fn *notify,
                          void *arg);
/* A row delivered or dropped goes. 0 or -1 (also 0 when it was gone). */
int rc_store_outbox_delete (rc_store_t *self, int64_t id);
/* Rows of webhooks not among names (count of them: removed from the
   config) go; *deleted says how many. */
int rc_store_outbox_forget (rc_store_t *self, const char *const *names, size_t count,
                            int64_t *deleted);

/* Retention, in the background: the cron calls this; it deletes events
   and release history older than event_retention_ms (events of a running
   deployment excepted) and the finished deployments beyond the newest
   deployment_retention, in transactions of at most RC_PRUNE_BATCH rows, for
   at most RC_PRUNE_BUDGET_MS per call; having found nothing it rests for
   RC_PRUNE_IDLE_MS. Returns the rows deleted, or -1. Not inside a
   transaction of the caller's. */
int rc_store_prune_step (rc_store_t *self, int64_t event_retention_ms,
                         int64_t deployment_retention);
/* Cuts the release history of each host and app that gained rows since
   the last call to its newest RC_HISTORY_PER_APP_MAX, in one transaction:
   at most every RC_HISTORY_CAP_EVERY_MS (the cron calls it each pass), or
   at once when now. Returns the rows deleted, or -1. Not inside a
   transaction of the caller's (it waits for the next call then). */
int rc_store_history_cap (rc_store_t *self, bool now);

/* Online backup, a few pages at a time from the cron (SQLite's backup API
   on our own connection: what we commit meanwhile is copied too, so the
   copy is consistent as of the moment it completes). The copy is written
   to a temporary file beside path and linked to path only when complete;
   path must not exist. 0 started, -1 with errmsg (nothing written). */
int rc_store_backup_begin (rc_store_t *self, const char *path);
/* Copies pages for up to RC_BACKUP_BUDGET_MS. 1 done (path complete and
   synced), 0 more to copy, -1 failed (the partial copy is removed; the
   reason in errmsg), also when no backup is running. */
int rc_store_backup_step (rc_store_t *self);
/* Abandons a running backup, removing its partial copy. */
void rc_store_backup_abort (rc_store_t *self);
bool rc_store_backup_running (rc_store_t *self);
/* The size in pages of the running or last backup, as last counted. */
int rc_store_backup_pages (rc_store_t *self);

/* For the modules that keep their own tables (deployments.c): prepare with
   bound arguments ('t' text or NULL, 'i' int64, 'b' bool), run a statement
   that returns no rows (finalizes it), and record sqlite's error after a
   failed sqlite3_step. */
sqlite3_stmt *rc_store_prepare (rc_store_t *self, const char *sql, const char *types, ...);
int rc_store_run (rc_store_t *self, sqlite3_stmt *stmt);
/* Gives back a statement of rc_store_prepare when done with it (never
   sqlite3_finalize: the store keeps it prepared for the next use). NULL
   is fine. */
void rc_store_finalize (rc_store_t *self, sqlite3_stmt *stmt);
/* Statements parsed and uses of kept ones since the store opened: a step
   repeated runs on kept statements (tests, the metrics). */
void rc_store_stmt_counts (rc_store_t *self, int64_t *prepared, int64_t *reused);
/* Rows read through rc_store_step since the store opened (tests: what a
   step report costs does not grow with its deployment's host list). */
int64_t rc_store_rows_read (rc_store_t *self);
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
