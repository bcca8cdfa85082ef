/*  store.c - SQLite storage of the coordinator, with forward migrations. */
#include "store_private.h"
#include "metrics.h"
#include "rc_time.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* A second coordinator that finds the lock taken reads the holder's pid;
   the holder writes it right after locking, so a read that finds the file
   still empty is tried again a few times. */
#define S_LOCK_PID_TRIES 20
#define S_LOCK_PID_WAIT_US (10 * 1000)

/* Migration i brings the schema from version i to i+1. Append, never edit:
   a database in the field has run the old text. */
static const char *s_migrations[] = {
    /* 0 -> 1: fleet, apps, release history, events */
    "CREATE TABLE hosts ("
    "  id TEXT PRIMARY KEY,"
    "  hostname TEXT NOT NULL DEFAULT '',"
    "  pubkey TEXT NOT NULL,"
    "  agent_version TEXT NOT NULL DEFAULT '',"
    "  labels TEXT NOT NULL DEFAULT '',"
    "  state TEXT NOT NULL,"
    "  healthy INTEGER NOT NULL DEFAULT 0,"
    "  first_seen INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL);"
    "CREATE TABLE host_apps ("
    "  host_id TEXT NOT NULL REFERENCES hosts(id),"
    "  app TEXT NOT NULL,"
    "  current TEXT NOT NULL DEFAULT '',"
    "  rollback_points TEXT NOT NULL DEFAULT '',"
    "  updated INTEGER NOT NULL,"
    "  PRIMARY KEY (host_id, app));"
    "CREATE TABLE release_history ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  host_id TEXT NOT NULL,"
    "  app TEXT NOT NULL,"
    "  version TEXT NOT NULL,"
    "  previous TEXT NOT NULL DEFAULT '',"
    "  rollback_points TEXT NOT NULL DEFAULT '',"
    "  deployment_id TEXT,"
    "  ts INTEGER NOT NULL);"
    "CREATE INDEX release_history_host ON release_history(host_id, id);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  ts INTEGER NOT NULL,"
    "  deployment_id TEXT,"
    "  host_id TEXT,"
    "  kind TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX events_deployment ON events(deployment_id, id);"
    "CREATE INDEX events_host ON events(host_id, id);",
    /* 1 -> 2: deployments and the hosts of each */
    "CREATE TABLE deployments ("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  app TEXT NOT NULL,"
    "  version TEXT NOT NULL DEFAULT '',"
    "  artifact_url TEXT NOT NULL DEFAULT '',"
    "  sha256 TEXT NOT NULL DEFAULT '',"
    "  selector TEXT NOT NULL DEFAULT '',"
    "  batch_spec TEXT NOT NULL,"
    "  max_fail_spec TEXT NOT NULL,"
    "  max_fail INTEGER NOT NULL,"
    "  soak_ms INTEGER NOT NULL,"
    "  health_timeout_ms INTEGER NOT NULL,"
    "  progress_deadline_ms INTEGER NOT NULL,"
    "  pause_spec TEXT NOT NULL DEFAULT '',"
    "  auto_rollback INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  final_state TEXT NOT NULL DEFAULT '',"
    "  batch INTEGER NOT NULL DEFAULT 0,"
    "  rb_batch INTEGER NOT NULL DEFAULT 0,"
    "  total_batches INTEGER NOT NULL,"
    "  paused INTEGER NOT NULL DEFAULT 0,"
    "  gate_open INTEGER NOT NULL DEFAULT 1,"
    "  pause_until INTEGER NOT NULL DEFAULT 0,"
    "  abort_requested INTEGER NOT NULL DEFAULT 0,"
    "  abort_rollback INTEGER NOT NULL DEFAULT 1,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  finished INTEGER NOT NULL DEFAULT 0,"
    "  progress INTEGER NOT NULL);"
    "CREATE INDEX deployments_state ON deployments(state, app);"
    "CREATE TABLE deployment_hosts ("
    "  deployment_id TEXT NOT NULL REFERENCES deployments(id),"
    "  host_id TEXT NOT NULL,"
    "  ord INTEGER NOT NULL,"
    "  batch INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL,"
    "  phase TEXT NOT NULL DEFAULT '',"
    "  step INTEGER NOT NULL DEFAULT 0,"
    "  from_version TEXT NOT NULL DEFAULT '',"
    "  to_version TEXT NOT NULL DEFAULT '',"
    "  touched INTEGER NOT NULL DEFAULT 0,"
    "  needs_rollback INTEGER NOT NULL DEFAULT 0,"
    "  started INTEGER NOT NULL DEFAULT 0,"
    "  finished INTEGER NOT NULL DEFAULT 0,"
    "  failure TEXT NOT NULL DEFAULT '',"
    "  error TEXT NOT NULL DEFAULT '',"
    "  output_tail TEXT NOT NULL DEFAULT '',"
    "  exit_code INTEGER NOT NULL DEFAULT 0,"
    "  timings TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (deployment_id, host_id));"
    "ALTER TABLE release_history ADD COLUMN source TEXT NOT NULL DEFAULT 'reported';",
    /* 2 -> 3: the artifact's detached signature (deploy --signature) */
    "ALTER TABLE deployments ADD COLUMN signature TEXT NOT NULL DEFAULT '';",
    /* 3 -> 4: retention finds the oldest rows by index, not by scanning */
    "CREATE INDEX events_ts ON events(ts);"
    "CREATE INDEX release_history_ts ON release_history(ts);"
    "CREATE INDEX release_history_app ON release_history(host_id, app, id);"
    "CREATE INDEX deployments_created ON deployments(created, id);",
    /* 4 -> 5: the engine's timers as durations (monotonic clock), so a
       restart resumes them and a wall-clock step does not move them */
    "ALTER TABLE deployments ADD COLUMN progress_elapsed_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE deployments ADD COLUMN pause_remaining_ms INTEGER NOT NULL DEFAULT 0;",
    /* 5 -> 6: hosts that went offline in their step wait (state unknown)
       up to the deployment's offline grace */
    "ALTER TABLE deployments ADD COLUMN offline_grace_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE deployment_hosts ADD COLUMN unknown_of TEXT NOT NULL DEFAULT '';",
    /* 6 -> 7: who asked (the operator key's name), retries, freezes */
    "ALTER TABLE events ADD COLUMN operator TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE deployments ADD COLUMN operator TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE deployments ADD COLUMN retry_of TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE deployments ADD COLUMN ignore_freeze INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE deployments ADD COLUMN frozen INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE freeze ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  until_ms INTEGER NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  operator TEXT NOT NULL DEFAULT '',"
    "  set_ms INTEGER NOT NULL);",
    /* 7 -> 8: run-once steps of a deployment (deploy --before/--after) */
    "CREATE TABLE deployment_run_once ("
    "  deployment_id TEXT NOT NULL REFERENCES deployments(id),"
    "  stage TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  run_on TEXT NOT NULL DEFAULT '',"
    "  host_id TEXT NOT NULL DEFAULT '',"
    "  state TEXT NOT NULL,"
    "  exit_code INTEGER NOT NULL DEFAULT 0,"
    "  output_tail TEXT NOT NULL DEFAULT '',"
    "  error TEXT NOT NULL DEFAULT '',"
    "  started INTEGER NOT NULL DEFAULT 0,"
    "  finished INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (deployment_id, stage));",
    /* 8 -> 9: surge clones ([app] slots): the slot serving, its port, and
       the release warm on the other slot until when */
    "ALTER TABLE host_apps ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE host_apps ADD COLUMN slot_port INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE host_apps ADD COLUMN warm_version TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE host_apps ADD COLUMN warm_until INTEGER NOT NULL DEFAULT 0;",
    /* 9 -> 10 (issue 12): the webhook outbox, one row per event and webhook it goes
       to, written in the event's transaction; a row goes when delivered or
       dropped, or with its event (retention) */
    "CREATE TABLE webhook_outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,"
    "  webhook TEXT NOT NULL);"
    "CREATE INDEX webhook_outbox_event ON webhook_outbox(event_id);"
    "CREATE INDEX webhook_outbox_webhook ON webhook_outbox(webhook, id);",
    /* 10 -> 11 (issue 12, analysis gates): the [check NAME]s a deployment is held to, in the
       order given, and per host and check what its evaluations said, so a
       coordinator restarted mid-soak goes on from the same count */
    "CREATE TABLE deployment_checks ("
    "  deployment_id TEXT NOT NULL REFERENCES deployments(id),"
    "  ord INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  PRIMARY KEY (deployment_id, name));"
    "CREATE TABLE check_state ("
    "  deployment_id TEXT NOT NULL REFERENCES deployments(id),"
    "  host_id TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  step INTEGER NOT NULL,"
    "  evaluations INTEGER NOT NULL DEFAULT 0,"
    "  consecutive INTEGER NOT NULL DEFAULT 0,"
    "  inconclusive INTEGER NOT NULL DEFAULT 0,"
    "  result TEXT NOT NULL DEFAULT '',"
    "  value REAL,"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  final_inconclusive INTEGER NOT NULL DEFAULT 0,"
    "  cleared INTEGER NOT NULL DEFAULT 0,"
    "  updated INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (deployment_id, host_id, name));",
    /* 11 -> 12: blue-green (deploy --strategy blue-green): the strategy, the
       phase a blue-green deployment is in (staging, switching, switched)
       and the action of each host's step (stage, switch...) */
    "ALTER TABLE deployments ADD COLUMN strategy TEXT NOT NULL DEFAULT 'rolling';"
    "ALTER TABLE deployments ADD COLUMN bg_phase TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE deployment_hosts ADD COLUMN action TEXT NOT NULL DEFAULT '';",
    /* 12 -> 13: the sliding window (deploy --window: as given, and in
       hosts) and the rollback batch (--rollback-batch). The order of
       update needs no column: hosts start in their stable order (ord) */
    "ALTER TABLE deployments ADD COLUMN window_spec TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE deployments ADD COLUMN window_hosts INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE deployments ADD COLUMN rollback_spec TEXT NOT NULL DEFAULT '';",
};
#define S_MIGRATION_COUNT ((int)(sizeof s_migrations / sizeof s_migrations[0]))

int
rc_store_exec (rc_store_t *self, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec (self->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        rc_store_set_error (self, "%s", msg ? msg : sqlite3_errmsg (self->db));
        sqlite3_free (msg);
        return -1;
    }
    return 0;
}

static int
s_user_version (rc_store_t *self)
{
    sqlite3_stmt *stmt = NULL;
    int version = -1;
    if (sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK
        && sqlite3_step (stmt) == SQLITE_ROW)
        version = sqlite3_column_int (stmt, 0);
    sqlite3_finalize (stmt);
    return version;
}

static int
s_migrate (rc_store_t *self)
{
    int version = s_user_version (self);
    if (version < 0)
        return rc_store_set_error (self, "cannot read schema version: %s",
                                   sqlite3_errmsg (self->db));
    if (version > S_MIGRATION_COUNT)
        return rc_store_set_error (
            self,
            "database schema version %d is newer than this coordinator knows (%d): "
            "run the newer rollclone-coordinator",
            version, S_MIGRATION_COUNT);
    for (int v = version; v < S_MIGRATION_COUNT; v++) {
        char pragma[64];
        snprintf (pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        /* each step whole or not at all: a crash mid-migration leaves the
           database at the version before it */
        if (rc_store_exec (self, "BEGIN IMMEDIATE") != 0)
            return -1;
        if (rc_store_exec (self, s_migrations[v]) != 0 || rc_store_exec (self, pragma) != 0) {
            char reason[sizeof self->errmsg];
            memcpy (reason, self->errmsg, sizeof reason);
            rc_store_exec (self, "ROLLBACK");
            return rc_store_set_error (self, "migration to schema %d failed: %s", v + 1, reason);
        }
        if (rc_store_exec (self, "COMMIT") != 0)
            return -1;
    }
    return 0;
}

/* Reads the pid written in the lock file; 0 when there is none (yet). */
static long
s_lock_holder (int fd)
{
    for (int i = 0; i < S_LOCK_PID_TRIES; i++) {
        char text[32] = "";
        ssize_t n = pread (fd, text, sizeof text - 1, 0);
        long pid = n > 0 ? strtol (text, NULL, 10) : 0;
        if (pid > 0)
            return pid;
        usleep (S_LOCK_PID_WAIT_US);
    }
    return 0;
}

int
rc_store_lock_dir (const char *data_dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", data_dir, RC_STORE_LOCK_FILE) >= (int)sizeof path) {
        snprintf (err, errlen, "data_dir %s: path too long", data_dir);
        return -1;
    }
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf (err, errlen, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
        int why = errno;
        if (why == EWOULDBLOCK) {
            long pid = s_lock_holder (fd);
            if (pid > 0)
                snprintf (err, errlen, "data_dir %s is in use by pid %ld", data_dir, pid);
            else
                snprintf (err, errlen, "data_dir %s is in use by another process (%s is locked)",
                          data_dir, path);
        }
        else
            snprintf (err, errlen, "cannot lock %s: %s", path, strerror (why));
        close (fd);
        return -1;
    }
    char text[32];
    int len = snprintf (text, sizeof text, "%ld\n", (long)getpid ());
    if (ftruncate (fd, 0) != 0 || pwrite (fd, text, (size_t)len, 0) != len) {
        snprintf (err, errlen, "cannot write %s: %s", path, strerror (errno));
        close (fd);
        return -1;
    }
    return fd;
}

rc_store_t *
rc_store_open (const char *path, char *err, size_t errlen)
{
    rc_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)
        != SQLITE_OK) {
        snprintf (err, errlen, "cannot open %s: %s", path,
                  self->db ? sqlite3_errmsg (self->db) : "out of memory");
        goto fail;
    }
    /* WAL: readers never block the writer. synchronous=FULL: a commit is on
       disk before we publish what follows from it, even across power loss.
       busy_timeout stays 0: we are the only writer (the coordinator holds
       the data_dir lock, rc_store_lock_dir, before it opens the store).
       temp_store=MEMORY: the savepoint of each step of a group commit
       keeps the pages it changes in a sub-journal; in a file, past 64 KiB,
       that was a pwrite per changed page of every step report (perf at
       1,000 hosts: 12 % of the coordinator's CPU during a rollout). In
       memory it weighs what one group's pages weigh, and durability is the
       same: a sub-journal only undoes a step of a transaction that has not
       committed. */
    if (rc_store_exec (self, "PRAGMA journal_mode=WAL") != 0
        || rc_store_exec (self, "PRAGMA synchronous=FULL") != 0
        || rc_store_exec (self, "PRAGMA temp_store=MEMORY") != 0
        || rc_store_exec (self, "PRAGMA foreign_keys=ON") != 0 || s_migrate (self) != 0) {
        snprintf (err, errlen, "%s: %s", path, self->errmsg);
        goto fail;
    }
    return self;
fail:
    rc_store_destroy (&self);
    return NULL;
}

void
rc_store_destroy (rc_store_t **self_p)
{
    if (self_p && *self_p) {
        rc_store_t *self = *self_p;
        rc_store_backup_abort (self);
        rc_store_stmts_drop (self);
        zhashx_destroy (&self->history_grew);
        sqlite3_close_v2 (self->db);
        free (self);
        *self_p = NULL;
    }
}

const char *
rc_store_errmsg (rc_store_t *self)
{
    return self->errmsg;
}

int
rc_store_schema_version (rc_store_t *self)
{
    return s_user_version (self);
}

/* Monotonic µs, for the transaction histogram (metrics.h). */
static int64_t
s_mono_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
s_txn_ended (rc_store_t *self)
{
    if (self->txn_began_us)
        rc_metrics_observe_txn (s_mono_us () - self->txn_began_us);
    self->txn_began_us = 0;
}

int
rc_store_begin (rc_store_t *self)
{
    if (self->group) {
        /* the group's transaction begins with its first step: a burst
           that writes nothing costs nothing */
        if (!self->group_open) {
            if (rc_store_exec_kept (self, "BEGIN IMMEDIATE") != 0)
                return -1;
            self->group_open = true;
            self->txn_began_us = s_mono_us ();
        }
        int rc = rc_store_exec_kept (self, "SAVEPOINT rc_step");
        self->step_open = rc == 0;
        return rc;
    }
    int rc = rc_store_exec_kept (self, "BEGIN IMMEDIATE");
    self->txn_began_us = rc == 0 ? s_mono_us () : 0;
    return rc;
}

int
rc_store_commit (rc_store_t *self)
{
    if (self->group) {
        /* durable with the group: its commit says when */
        int rc = rc_store_exec_kept (self, "RELEASE rc_step");
        self->step_open = rc != 0 && self->step_open;
        return rc;
    }
    int rc = rc_store_exec_kept (self, "COMMIT");
    if (rc == 0) {
        rc_store_outbox_committed (self);
        s_txn_ended (self);
    }
    return rc;
}

void
rc_store_rollback (rc_store_t *self)
{
    if (self->group) {
        /* outbox_added stays: an earlier step may have added rows */
        if (self->step_open) {
            char reason[sizeof self->errmsg];
            memcpy (reason, self->errmsg, sizeof reason);
            rc_store_exec_kept (self, "ROLLBACK TO rc_step");
            rc_store_exec_kept (self, "RELEASE rc_step");
            memcpy (self->errmsg, reason, sizeof reason);
        }
        self->step_open = false;
        return;
    }
    if (!sqlite3_get_autocommit (self->db))
        rc_store_exec_kept (self, "ROLLBACK");
    self->outbox_added = false;
    s_txn_ended (self);
}

int
rc_store_group_begin (rc_store_t *self)
{
    if (self->group || !sqlite3_get_autocommit (self->db))
        return -1;
    self->group = true;
    self->group_open = self->step_open = false;
    return 0;
}

int
rc_store_group_commit (rc_store_t *self)
{
    if (!self->group)
        return 0;
    if (self->step_open) /* a step left open is a bug of ours: undo it */
        rc_store_rollback (self);
    bool open = self->group_open;
    self->group = self->group_open = false;
    if (!open || rc_store_commit (self) == 0)
        return 0;
    char reason[sizeof self->errmsg];
    memcpy (reason, self->errmsg, sizeof reason);
    rc_store_rollback (self);
    memcpy (self->errmsg, reason, sizeof reason);
    return -1;
}

bool
rc_store_grouped (rc_store_t *self)
{
    return self->group;
}

int64_t
rc_store_changes (rc_store_t *self)
{
    return sqlite3_total_changes64 (self->db);
}

#ifdef RC_FAULT_INJECTION
#include <sys/stat.h>
/* Test builds only (FAULT=1 in the Makefile, the default for build/ and
   build-asan/, never for the packages): while the file named by
   $RC_FAULT_SQLITE_STEP_FILE exists and holds a number N > 0, every Nth
   sqlite3_step through rc_store_step fails as an I/O error would. Tests
   create and remove the file while the coordinator runs. */
static bool
s_fault_fire (void)
{
    static uint64_t calls;
    const char *path = getenv ("RC_FAULT_SQLITE_STEP_FILE");
    if (!path || !*path)
        return false;
    FILE *file = fopen (path, "r");
    if (!file)
        return false;
    long every = 0;
    if (fscanf (file, "%ld", &every) != 1)
        every = 0;
    fclose (file);
    return every > 0 && ++calls % (uint64_t)every == 0;
}
#endif

int
rc_store_step (rc_store_t *self, sqlite3_stmt *stmt)
{
#ifdef RC_FAULT_INJECTION
    if (s_fault_fire ()) {
        rc_store_set_error (self,
                            "injected fault: sqlite3_step failed (RC_FAULT_SQLITE_STEP_FILE)");
        return SQLITE_IOERR;
    }
#endif
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        self->rows_read++;
    else if (rc != SQLITE_DONE)
        rc_store_set_error (self, "%s", sqlite3_errmsg (self->db));
    return rc;
}

/* Prepares sql and binds the arguments described by types: 't' text (NULL
   binds NULL), 'i' int64, 'b' bool. */
static sqlite3_stmt *s_prepare_v (rc_store_t *self, const char *sql, const char *types,
                                  va_list args);

sqlite3_stmt *
rc_store_prepare (rc_store_t *self, const char *sql, const char *types, ...)
{
    va_list args;
    va_start (args, types);
    sqlite3_stmt *stmt = s_prepare_v (self, sql, types, args);
    va_end (args);
    return stmt;
}

static sqlite3_stmt *
s_prepare_v (rc_store_t *self, const char *sql, const char *types, va_list args)
{
    sqlite3_stmt *stmt = rc_store_stmt_get (self, sql);
    if (!stmt)
        return NULL;
    for (int i = 0; types[i]; i++) {
        int rc;
        if (types[i] == 't') {
            const char *text = va_arg (args, const char *);
            rc = text ? sqlite3_bind_text (stmt, i + 1, text, -1, SQLITE_TRANSIENT)
                      : sqlite3_bind_null (stmt, i + 1);
        }
        else if (types[i] == 'i')
            rc = sqlite3_bind_int64 (stmt, i + 1, va_arg (args, int64_t));
        else
            rc = sqlite3_bind_int (stmt, i + 1, va_arg (args, int) ? 1 : 0);
        if (rc != SQLITE_OK) {
            rc_store_set_error (self, "%s", sqlite3_errmsg (self->db));
            rc_store_finalize (self, stmt);
            stmt = NULL;
            break;
        }
    }
    return stmt;
}

/* Runs a prepared statement that returns no rows, and finalizes it. */
static int
s_run (rc_store_t *self, sqlite3_stmt *stmt)
{
    if (!stmt)
        return -1;
    int rc = rc_store_step (self, stmt);
    rc_store_finalize (self, stmt);
    if (rc != SQLITE_DONE)
        return rc == SQLITE_ROW ? rc_store_set_error (self, "statement returned rows") : -1;
    return 0;
}

int
rc_store_run (rc_store_t *self, sqlite3_stmt *stmt)
{
    return s_run (self, stmt);
}

int
rc_store_set_error (rc_store_t *self, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->errmsg, sizeof self->errmsg, fmt, args);
    va_end (args);
    return -1;
}

int
rc_store_step_error (rc_store_t *self)
{
    return rc_store_set_error (self, "%s", sqlite3_errmsg (self->db));
}

int
rc_store_exists (rc_store_t *self, sqlite3_stmt *stmt, bool *yes)
{
    if (!stmt)
        return -1;
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        *yes = sqlite3_column_int (stmt, 0) != 0;
    rc_store_finalize (self, stmt);
    return rc == SQLITE_ROW ? 0 : rc_store_set_error (self, "%s", sqlite3_errmsg (self->db));
}

int
rc_store_page (rc_store_t *self, const char *table, const char *columns, const char *where,
               const char *f1, const char *f2, int64_t after_id, int64_t before_id, size_t limit,
               bool *more, rc_store_row_fn *row_fn, void *arg)
{
    assert (limit > 0);
    *more = false;
    if (before_id <= 0)
        before_id = INT64_MAX;
    /* following (after_id): the oldest first; paging back: the newest
       before before_id, turned oldest first */
    char *sql = after_id > 0 ? zsys_sprintf ("SELECT %s FROM %s WHERE %s AND id > ?3 AND id < ?4 "
                                             "ORDER BY id LIMIT ?5",
                                             columns, table, where)
                             : zsys_sprintf ("SELECT * FROM (SELECT %s FROM %s WHERE %s "
                                             "AND id > ?3 AND id < ?4 ORDER BY id DESC LIMIT ?5) "
                                             "ORDER BY id",
                                             columns, table, where);
    if (!sql)
        return rc_store_set_error (self, "out of memory");
    sqlite3_stmt *stmt =
        rc_store_prepare (self, sql, "ttiii", f1, f2, after_id, before_id, (int64_t)limit);
    free (sql);
    if (!stmt)
        return -1;
    int rc;
    int64_t first = 0, last = 0;
    size_t n = 0;
    while ((rc = rc_store_step (self, stmt)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64 (stmt, 0);
        if (n++ == 0)
            first = id;
        last = id;
        row_fn (arg, stmt);
    }
    rc_store_finalize (self, stmt);
    if (rc != SQLITE_DONE)
        return -1; /* rc_store_step said why */
    if (n < limit)
        return 0; /* the query ran out before the page did */
    /* beyond the page: newer ones when following, older ones otherwise */
    sql = zsys_sprintf ("SELECT EXISTS (SELECT 1 FROM %s WHERE %s AND id > ?3 AND id < ?4)", table,
                        where);
    if (!sql)
        return rc_store_set_error (self, "out of memory");
    stmt = after_id > 0 ? rc_store_prepare (self, sql, "ttii", f1, f2, last, before_id)
                        : rc_store_prepare (self, sql, "ttii", f1, f2, (int64_t)0, first);
    free (sql);
    return rc_store_exists (self, stmt, more);
}
