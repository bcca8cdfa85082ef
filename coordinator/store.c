/*  store.c - SQLite storage of the coordinator, with forward migrations. */
#include "store.h"
#include "rc_defaults.h"
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

struct _rc_store_t {
    sqlite3 *db;                         /* the connection */
    char errmsg[512];                    /* last error, for rc_store_errmsg */
    int64_t prune_idle_till;             /* monotonic ms: nothing to prune was found */
    sqlite3 *backup_db;                  /* the copy being written, or NULL */
    sqlite3_backup *backup;              /* its progress */
    char *backup_tmp;                    /* the copy's temporary name */
    char *backup_path;                   /* where it goes when complete */
    int backup_pages;                    /* pages of the last backup, as last counted */
    char operator_name[RC_NAME_MAX + 1]; /* whose request the events are of, or "" */
};

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
};
#define S_MIGRATION_COUNT ((int)(sizeof s_migrations / sizeof s_migrations[0]))

static int
s_error (rc_store_t *self, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->errmsg, sizeof self->errmsg, fmt, args);
    va_end (args);
    return -1;
}

static int
s_exec (rc_store_t *self, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec (self->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        s_error (self, "%s", msg ? msg : sqlite3_errmsg (self->db));
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
        return s_error (self, "cannot read schema version: %s", sqlite3_errmsg (self->db));
    if (version > S_MIGRATION_COUNT)
        return s_error (self,
                        "database schema version %d is newer than this coordinator knows (%d): "
                        "run the newer rollclone-coordinator",
                        version, S_MIGRATION_COUNT);
    for (int v = version; v < S_MIGRATION_COUNT; v++) {
        char pragma[64];
        snprintf (pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        /* each step whole or not at all: a crash mid-migration leaves the
           database at the version before it */
        if (s_exec (self, "BEGIN IMMEDIATE") != 0)
            return -1;
        if (s_exec (self, s_migrations[v]) != 0 || s_exec (self, pragma) != 0) {
            char reason[sizeof self->errmsg];
            memcpy (reason, self->errmsg, sizeof reason);
            s_exec (self, "ROLLBACK");
            return s_error (self, "migration to schema %d failed: %s", v + 1, reason);
        }
        if (s_exec (self, "COMMIT") != 0)
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
       the data_dir lock, rc_store_lock_dir, before it opens the store). */
    if (s_exec (self, "PRAGMA journal_mode=WAL") != 0
        || s_exec (self, "PRAGMA synchronous=FULL") != 0
        || s_exec (self, "PRAGMA foreign_keys=ON") != 0 || s_migrate (self) != 0) {
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

int
rc_store_begin (rc_store_t *self)
{
    return s_exec (self, "BEGIN IMMEDIATE");
}

int
rc_store_commit (rc_store_t *self)
{
    return s_exec (self, "COMMIT");
}

void
rc_store_rollback (rc_store_t *self)
{
    if (!sqlite3_get_autocommit (self->db))
        s_exec (self, "ROLLBACK");
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
        s_error (self, "injected fault: sqlite3_step failed (RC_FAULT_SQLITE_STEP_FILE)");
        return SQLITE_IOERR;
    }
#endif
    int rc = sqlite3_step (stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        s_error (self, "%s", sqlite3_errmsg (self->db));
    return rc;
}

/* Prepares sql and binds the arguments described by types: 't' text (NULL
   binds NULL), 'i' int64, 'b' bool. */
static sqlite3_stmt *s_prepare_v (rc_store_t *self, const char *sql, const char *types,
                                  va_list args);

static sqlite3_stmt *
s_prepare (rc_store_t *self, const char *sql, const char *types, ...)
{
    va_list args;
    va_start (args, types);
    sqlite3_stmt *stmt = s_prepare_v (self, sql, types, args);
    va_end (args);
    return stmt;
}

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
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        s_error (self, "%s", sqlite3_errmsg (self->db));
        return NULL;
    }
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
            s_error (self, "%s", sqlite3_errmsg (self->db));
            sqlite3_finalize (stmt);
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
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE)
        return rc == SQLITE_ROW ? s_error (self, "statement returned rows") : -1;
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
    return s_error (self, "%s", sqlite3_errmsg (self->db));
}

static const char *
s_col (sqlite3_stmt *stmt, int col)
{
    const unsigned char *text = sqlite3_column_text (stmt, col);
    return text ? (const char *)text : NULL;
}

static const char *
s_col_str (sqlite3_stmt *stmt, int col)
{
    const char *text = s_col (stmt, col);
    return text ? text : "";
}

int
rc_store_host_upsert (rc_store_t *self, const rc_host_row_t *row)
{
    return s_run (self,
                  s_prepare (self,
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
    return s_run (self, s_prepare (self,
                                   "UPDATE hosts SET state = ?2, healthy = ?3, last_seen = ?4 "
                                   "WHERE id = ?1",
                                   "ttbi", id, state, (int)healthy, last_seen));
}

int
rc_store_host_set_app (rc_store_t *self, const char *host_id, const char *app, const char *current,
                       const char *rollback_points, int64_t now)
{
    return rc_store_host_set_app_by (self, host_id, app, current, rollback_points, NULL, now);
}

int
rc_store_host_set_app_by (rc_store_t *self, const char *host_id, const char *app,
                          const char *current, const char *rollback_points,
                          const char *deployment_id, int64_t now)
{
    /* what did we know before? a change of current is history */
    sqlite3_stmt *stmt = s_prepare (self,
                                    "SELECT current, rollback_points FROM host_apps "
                                    "WHERE host_id = ?1 AND app = ?2",
                                    "tt", host_id, app);
    if (!stmt)
        return -1;
    char *before = NULL;
    bool known = false, same_points = false;
    int step = rc_store_step (self, stmt);
    if (step == SQLITE_ROW) {
        known = true;
        before = strdup (s_col_str (stmt, 0));
        same_points = strcmp (s_col_str (stmt, 1), rollback_points) == 0;
    }
    sqlite3_finalize (stmt);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return -1;
    if (known && !before)
        return s_error (self, "out of memory");
    bool changed = !known || strcmp (before, current) != 0;
    int rc = 0;
    if (changed || !same_points)
        rc = s_run (self,
                    s_prepare (self,
                               "INSERT INTO host_apps (host_id, app, current, rollback_points, "
                               "  updated) VALUES (?1, ?2, ?3, ?4, ?5) "
                               "ON CONFLICT (host_id, app) DO UPDATE SET current = ?3, "
                               "  rollback_points = ?4, updated = ?5",
                               "tttti", host_id, app, current, rollback_points, now));
    if (rc == 0 && changed && *current)
        rc =
            s_run (self, s_prepare (self,
                                    "INSERT INTO release_history (host_id, app, version, previous, "
                                    "  rollback_points, deployment_id, source, ts) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                    "ttttttti", host_id, app, current, before ? before : "",
                                    rollback_points, deployment_id,
                                    deployment_id ? "deployment" : "reported", now));
    /* bounded per host and app: the oldest beyond the cap go (a batch at a
       time, so one insert never does much) */
    if (rc == 0 && changed && *current)
        rc = s_run (self, s_prepare (self,
                                     "DELETE FROM release_history WHERE id IN (SELECT id FROM "
                                     "  release_history WHERE host_id = ?1 AND app = ?2 "
                                     "  ORDER BY id DESC LIMIT ?4 OFFSET ?3)",
                                     "ttii", host_id, app, (int64_t)RC_HISTORY_PER_APP_MAX,
                                     (int64_t)RC_PRUNE_BATCH));
    free (before);
    return rc;
}

int
rc_store_attribute_history (rc_store_t *self, const char *host_id, const char *app,
                            const char *version, const char *deployment_id)
{
    return s_run (self, s_prepare (self,
                                   "UPDATE release_history SET deployment_id = ?4, "
                                   "  source = 'deployment' "
                                   "WHERE id = (SELECT max(id) FROM release_history "
                                   "  WHERE host_id = ?1 AND app = ?2) "
                                   "AND version = ?3 AND deployment_id IS NULL",
                                   "tttt", host_id, app, version, deployment_id));
}

int
rc_store_hosts_each (rc_store_t *self, rc_host_fn *fn, void *arg)
{
    sqlite3_stmt *stmt = s_prepare (self,
                                    "SELECT id, hostname, pubkey, agent_version, labels, state, "
                                    "  healthy, first_seen, last_seen FROM hosts ORDER BY id",
                                    "");
    if (!stmt)
        return -1;
    int rc;
    while ((rc = rc_store_step (self, stmt)) == SQLITE_ROW) {
        rc_host_row_t row = {
            .id = s_col_str (stmt, 0),
            .hostname = s_col_str (stmt, 1),
            .pubkey = s_col_str (stmt, 2),
            .agent_version = s_col_str (stmt, 3),
            .labels = s_col_str (stmt, 4),
            .state = s_col_str (stmt, 5),
            .healthy = sqlite3_column_int (stmt, 6) != 0,
            .first_seen = sqlite3_column_int64 (stmt, 7),
            .last_seen = sqlite3_column_int64 (stmt, 8),
        };
        fn (arg, &row);
    }
    sqlite3_finalize (stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
rc_store_host_apps_each (rc_store_t *self, const char *host_id, rc_app_fn *fn, void *arg)
{
    sqlite3_stmt *stmt = s_prepare (self,
                                    "SELECT host_id, app, current, rollback_points FROM host_apps "
                                    "WHERE ?1 IS NULL OR host_id = ?1 ORDER BY host_id, app",
                                    "t", host_id);
    if (!stmt)
        return -1;
    int rc;
    while ((rc = rc_store_step (self, stmt)) == SQLITE_ROW) {
        rc_app_row_t row = {
            .host_id = s_col_str (stmt, 0),
            .app = s_col_str (stmt, 1),
            .current = s_col_str (stmt, 2),
            .rollback_points = s_col_str (stmt, 3),
        };
        fn (arg, &row);
    }
    sqlite3_finalize (stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
rc_store_fleet_each (rc_store_t *self, rc_host_fn *host_fn, rc_app_fn *app_fn, void *arg)
{
    /* one query for the whole fleet (a join, ordered so that a host's apps
       follow it), where a query per host made `hosts` N+1 round trips */
    sqlite3_stmt *stmt = s_prepare (self,
                                    "SELECT h.id, h.hostname, h.pubkey, h.agent_version, h.labels, "
                                    "  h.state, h.healthy, h.first_seen, h.last_seen, "
                                    "  a.app, a.current, a.rollback_points "
                                    "FROM hosts h LEFT JOIN host_apps a ON a.host_id = h.id "
                                    "ORDER BY h.id, a.app",
                                    "");
    if (!stmt)
        return -1;
    int rc;
    char *last = NULL;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const char *id = s_col_str (stmt, 0);
        if (!last || strcmp (last, id) != 0) {
            free (last);
            last = strdup (id);
            if (!last) {
                rc = SQLITE_NOMEM;
                break;
            }
            rc_host_row_t row = {
                .id = id,
                .hostname = s_col_str (stmt, 1),
                .pubkey = s_col_str (stmt, 2),
                .agent_version = s_col_str (stmt, 3),
                .labels = s_col_str (stmt, 4),
                .state = s_col_str (stmt, 5),
                .healthy = sqlite3_column_int (stmt, 6) != 0,
                .first_seen = sqlite3_column_int64 (stmt, 7),
                .last_seen = sqlite3_column_int64 (stmt, 8),
            };
            host_fn (arg, &row);
        }
        if (sqlite3_column_type (stmt, 9) != SQLITE_NULL) {
            rc_app_row_t app = {
                .host_id = id,
                .app = s_col_str (stmt, 9),
                .current = s_col_str (stmt, 10),
                .rollback_points = s_col_str (stmt, 11),
            };
            app_fn (arg, &app);
        }
    }
    free (last);
    sqlite3_finalize (stmt);
    if (rc == SQLITE_NOMEM)
        return s_error (self, "out of memory");
    return rc == SQLITE_DONE ? 0 : s_error (self, "%s", sqlite3_errmsg (self->db));
}

int
rc_store_event (rc_store_t *self, int64_t ts, const char *deployment_id, const char *host_id,
                const char *kind, const char *detail)
{
    return s_run (self, s_prepare (self,
                                   "INSERT INTO events (ts, deployment_id, host_id, kind, detail, "
                                   "operator) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                   "ittttt", ts, deployment_id, host_id, kind, detail ? detail : "",
                                   self->operator_name));
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

/* Runs a SELECT EXISTS (...) and sets *yes. */
static int
s_exists (rc_store_t *self, sqlite3_stmt *stmt, bool *yes)
{
    if (!stmt)
        return -1;
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        *yes = sqlite3_column_int (stmt, 0) != 0;
    sqlite3_finalize (stmt);
    return rc == SQLITE_ROW ? 0 : s_error (self, "%s", sqlite3_errmsg (self->db));
}

int
rc_store_events_page (rc_store_t *self, const char *deployment_id, const char *host_id,
                      int64_t after_id, int64_t before_id, size_t limit, bool *more,
                      rc_event_fn *fn, void *arg)
{
    assert (limit > 0);
    *more = false;
    if (before_id <= 0)
        before_id = INT64_MAX;
    const char *where = s_events_where (deployment_id, host_id);
    /* following (after_id): the oldest first; paging back: the newest
       before before_id, turned oldest first */
    char *sql = after_id > 0
                    ? zsys_sprintf ("SELECT id, ts, deployment_id, host_id, kind, detail, "
                                    "operator FROM events WHERE %s AND id > ?3 AND id < ?4 "
                                    "ORDER BY id LIMIT ?5",
                                    where)
                    : zsys_sprintf ("SELECT * FROM (SELECT id, ts, deployment_id, "
                                    "host_id, kind, detail, operator FROM events WHERE %s "
                                    "AND id > ?3 AND id < ?4 ORDER BY id DESC LIMIT ?5) "
                                    "ORDER BY id",
                                    where);
    if (!sql)
        return s_error (self, "out of memory");
    sqlite3_stmt *stmt =
        s_prepare (self, sql, "ttiii", deployment_id, host_id, after_id, before_id, (int64_t)limit);
    free (sql);
    if (!stmt)
        return -1;
    int rc;
    int64_t first = 0, last = 0;
    size_t n = 0;
    while ((rc = rc_store_step (self, stmt)) == SQLITE_ROW) {
        rc_event_row_t row = {
            .id = sqlite3_column_int64 (stmt, 0),
            .ts = sqlite3_column_int64 (stmt, 1),
            .deployment_id = s_col (stmt, 2),
            .host_id = s_col (stmt, 3),
            .kind = s_col_str (stmt, 4),
            .detail = s_col_str (stmt, 5),
            .operator_name = s_col_str (stmt, 6),
        };
        if (n++ == 0)
            first = row.id;
        last = row.id;
        fn (arg, &row);
    }
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE)
        return s_error (self, "%s", sqlite3_errmsg (self->db));
    if (n < limit)
        return 0; /* the query ran out before the page did */
    /* beyond the page: newer ones when following, older ones otherwise */
    sql = zsys_sprintf ("SELECT EXISTS (SELECT 1 FROM events WHERE %s AND id > ?3 AND id < ?4)",
                        where);
    if (!sql)
        return s_error (self, "out of memory");
    stmt = after_id > 0 ? s_prepare (self, sql, "ttii", deployment_id, host_id, last, before_id)
                        : s_prepare (self, sql, "ttii", deployment_id, host_id, (int64_t)0, first);
    free (sql);
    return s_exists (self, stmt, more);
}

int
rc_store_history_page (rc_store_t *self, const char *host_id, int64_t before_id, size_t limit,
                       bool *more, rc_history_fn *fn, void *arg)
{
    assert (limit > 0);
    *more = false;
    if (before_id <= 0)
        before_id = INT64_MAX;
    sqlite3_stmt *stmt =
        s_prepare (self,
                   "SELECT * FROM (SELECT id, app, version, previous, rollback_points, "
                   "  coalesce(deployment_id, ''), ts FROM release_history "
                   "  WHERE host_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3) ORDER BY id",
                   "tii", host_id, before_id, (int64_t)limit);
    if (!stmt)
        return -1;
    int rc;
    int64_t first = 0;
    size_t n = 0;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        rc_history_row_t row = {
            .id = sqlite3_column_int64 (stmt, 0),
            .app = s_col_str (stmt, 1),
            .version = s_col_str (stmt, 2),
            .previous = s_col_str (stmt, 3),
            .rollback_points = s_col_str (stmt, 4),
            .deployment_id = s_col_str (stmt, 5),
            .ts = sqlite3_column_int64 (stmt, 6),
        };
        if (n++ == 0)
            first = row.id;
        fn (arg, &row);
    }
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE)
        return s_error (self, "%s", sqlite3_errmsg (self->db));
    if (n < limit)
        return 0;
    return s_exists (self,
                     s_prepare (self,
                                "SELECT EXISTS (SELECT 1 FROM release_history "
                                "WHERE host_id = ?1 AND id < ?2)",
                                "ti", host_id, first),
                     more);
}

/* ------------------------------------------------------------------------ */
/* Retention */

static int s_prune_batch_in (rc_store_t *self, int64_t cutoff, int64_t keep);

/* A deployment that may still be moving: never pruned, nor its events. The
   engine sets finished when a deployment ends (and clears it when a
   rollback reopens it); the state is checked too, so that a row that says
   one and not the other is kept. */
#define S_DEPLOYMENT_LIVE "(d.finished = 0 OR d.state IN ('running', 'paused', 'rolling_back'))"

/* Runs a DELETE and returns the rows it deleted, or -1. */
static int
s_delete (rc_store_t *self, sqlite3_stmt *stmt)
{
    if (s_run (self, stmt) != 0)
        return -1;
    return sqlite3_changes (self->db);
}

static int
s_prune_events (rc_store_t *self, int64_t cutoff, int budget)
{
    return s_delete (self,
                     s_prepare (self,
                                "DELETE FROM events WHERE id IN (SELECT e.id FROM events e "
                                "  WHERE e.ts < ?1 AND NOT EXISTS (SELECT 1 FROM deployments d "
                                "    WHERE d.id = e.deployment_id AND " S_DEPLOYMENT_LIVE ") "
                                "  ORDER BY e.ts LIMIT ?2)",
                                "ii", cutoff, (int64_t)budget));
}

/* Old release history goes, except each host and app's newest row: it
   says how the current release got there. */
static int
s_prune_history (rc_store_t *self, int64_t cutoff, int budget)
{
    return s_delete (self, s_prepare (self,
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
    sqlite3_stmt *stmt = s_prepare (self,
                                    "SELECT d.id FROM deployments d WHERE NOT " S_DEPLOYMENT_LIVE
                                    " ORDER BY d.created DESC, d.id DESC LIMIT 1 OFFSET ?1",
                                    "i", keep);
    if (!stmt)
        return -1;
    int deleted = 0;
    while (deleted < budget) {
        sqlite3_reset (stmt);
        int rc = sqlite3_step (stmt);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            deleted = s_error (self, "%s", sqlite3_errmsg (self->db));
            break;
        }
        char *id = strdup (s_col_str (stmt, 0));
        sqlite3_reset (stmt);
        if (!id) {
            deleted = s_error (self, "out of memory");
            break;
        }
        int left = budget - deleted;
        int n = s_delete (self, s_prepare (self,
                                           "DELETE FROM deployment_hosts WHERE rowid IN (SELECT "
                                           "  rowid FROM deployment_hosts WHERE deployment_id = "
                                           "  ?1 LIMIT ?2)",
                                           "ti", id, (int64_t)left));
        if (n >= 0 && n < left) /* its last host rows are gone: the deployment goes */
            n = n
                + s_delete (self,
                            s_prepare (self, "DELETE FROM deployments WHERE id = ?1", "t", id));
        free (id);
        if (n < 0) {
            deleted = -1;
            break;
        }
        deleted += n;
    }
    sqlite3_finalize (stmt);
    return deleted;
}

/* One transaction of at most RC_PRUNE_BATCH deletions; returns how many.
   It commits without waiting for the disk (synchronous=NORMAL, still
   atomic in WAL): a deletion lost in a power cut is only done again, and
   the fsync would cost more than the deleting. */
static int
s_prune_batch (rc_store_t *self, int64_t cutoff, int64_t keep)
{
    if (s_exec (self, "PRAGMA synchronous=NORMAL") != 0)
        return -1;
    int done = s_prune_batch_in (self, cutoff, keep);
    /* every other commit waits for the disk again */
    if (s_exec (self, "PRAGMA synchronous=FULL") != 0)
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
        return s_error (self, "pruning: %s", reason);
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

/* ------------------------------------------------------------------------ */
/* Online backup */

static void
s_backup_clear (rc_store_t *self)
{
    if (self->backup)
        sqlite3_backup_finish (self->backup);
    self->backup = NULL;
    if (self->backup_db)
        sqlite3_close_v2 (self->backup_db);
    self->backup_db = NULL;
    free (self->backup_tmp);
    free (self->backup_path);
    self->backup_tmp = self->backup_path = NULL;
}

void
rc_store_backup_abort (rc_store_t *self)
{
    if (!self->backup_tmp)
        return;
    char *tmp = strdup (self->backup_tmp);
    s_backup_clear (self);
    if (tmp) {
        unlink (tmp);
        free (tmp);
    }
}

bool
rc_store_backup_running (rc_store_t *self)
{
    return self->backup != NULL;
}

int
rc_store_backup_pages (rc_store_t *self)
{
    return self->backup_pages;
}

int
rc_store_backup_begin (rc_store_t *self, const char *path)
{
    if (self->backup)
        return s_error (self, "a backup is running already (to %s)", self->backup_path);
    if (access (path, F_OK) == 0 || errno != ENOENT)
        return s_error (self, "%s exists: a backup never overwrites a file", path);
    self->backup_pages = 0;
    self->backup_path = strdup (path);
    self->backup_tmp = zsys_sprintf ("%s.partial-XXXXXX", path);
    if (!self->backup_path || !self->backup_tmp) {
        s_backup_clear (self);
        return s_error (self, "out of memory");
    }
    /* a name of our own, created empty: SQLite writes into it */
    int fd = mkstemp (self->backup_tmp);
    if (fd < 0) {
        int why = errno;
        s_backup_clear (self);
        return s_error (self, "cannot create a file beside %s: %s", path, strerror (why));
    }
    close (fd);
    /* the copy needs no journal of its own: until it is complete and
       synced it has no name but the temporary one */
    if (sqlite3_open_v2 (self->backup_tmp, &self->backup_db, SQLITE_OPEN_READWRITE, NULL)
            != SQLITE_OK
        || sqlite3_exec (self->backup_db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", NULL,
                         NULL, NULL)
               != SQLITE_OK) {
        s_error (self, "cannot open %s: %s", self->backup_tmp,
                 self->backup_db ? sqlite3_errmsg (self->backup_db) : "out of memory");
        rc_store_backup_abort (self);
        return -1;
    }
    self->backup = sqlite3_backup_init (self->backup_db, "main", self->db, "main");
    if (!self->backup) {
        s_error (self, "backup: %s", sqlite3_errmsg (self->backup_db));
        rc_store_backup_abort (self);
        return -1;
    }
    return 0;
}

/* Makes the complete copy durable and gives it its name: fsync, link (which
   never replaces a file that appeared meanwhile), fsync of the directory. */
static int
s_backup_publish (rc_store_t *self)
{
    int fd = open (self->backup_tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync (fd) != 0) {
        if (fd >= 0)
            close (fd);
        return s_error (self, "cannot sync %s: %s", self->backup_tmp, strerror (errno));
    }
    close (fd);
    if (link (self->backup_tmp, self->backup_path) != 0)
        return s_error (self, "cannot name the backup %s: %s", self->backup_path, strerror (errno));
    unlink (self->backup_tmp);
    char *dir = strdup (self->backup_path);
    char *slash = dir ? strrchr (dir, '/') : NULL;
    if (slash) {
        *(slash == dir ? slash + 1 : slash) = '\0';
        int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync (dfd);
            close (dfd);
        }
    }
    free (dir);
    return 0;
}

int
rc_store_backup_step (rc_store_t *self)
{
    if (!self->backup)
        return s_error (self, "no backup is running");
    int64_t start = rc_mono_ms ();
    int rc;
    do
        rc = sqlite3_backup_step (self->backup, RC_BACKUP_STEP_PAGES);
    while (rc == SQLITE_OK && rc_mono_ms () - start < RC_BACKUP_BUDGET_MS);
    self->backup_pages = sqlite3_backup_pagecount (self->backup);
    if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return 0; /* more next time */
    if (rc != SQLITE_DONE) {
        s_error (self, "backup: %s", sqlite3_errstr (rc));
        rc_store_backup_abort (self);
        return -1;
    }
    /* complete: close the copy (its last pages reach the file) and name it */
    sqlite3_backup_finish (self->backup);
    self->backup = NULL;
    rc = sqlite3_close (self->backup_db);
    self->backup_db = NULL;
    if (rc != SQLITE_OK) {
        s_error (self, "backup: closing the copy: %s", sqlite3_errstr (rc));
        rc_store_backup_abort (self);
        return -1;
    }
    if (s_backup_publish (self) != 0) {
        rc_store_backup_abort (self);
        return -1;
    }
    s_backup_clear (self);
    return 1;
}

/*  Selftest */

static void
s_count_host (void *arg, const rc_host_row_t *row)
{
    (void)row;
    (*(int *)arg)++;
}

static void
s_count_event (void *arg, const rc_event_row_t *row)
{
    (void)row;
    (*(int *)arg)++;
}

void
rc_store_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_store_test.XXXXXX";
    assert (mkdtemp (dir));
    char path[300], err[512];
    snprintf (path, sizeof path, "%s/coordinator.db", dir);

    rc_store_t *store = rc_store_open (path, err, sizeof err);
    assert (store);
    assert (rc_store_schema_version (store) == RC_STORE_SCHEMA_VERSION);
    rc_host_row_t row = {.id = "web-1",
                         .hostname = "web-1",
                         .pubkey = "K",
                         .agent_version = "1",
                         .labels = "role=web",
                         .state = "online",
                         .healthy = true,
                         .last_seen = 1000};
    assert (rc_store_begin (store) == 0);
    assert (rc_store_host_upsert (store, &row) == 0);
    assert (rc_store_host_set_app (store, "web-1", "shop", "v1", "", 1000) == 0);
    assert (rc_store_host_set_app (store, "web-1", "shop", "v2", "v1", 2000) == 0);
    assert (rc_store_host_set_app (store, "web-1", "shop", "v2", "v1", 3000) == 0);
    assert (rc_store_event (store, 1000, NULL, "web-1", "online", "hello") == 0);
    assert (rc_store_commit (store) == 0);
    /* a failed statement inside a transaction rolls back whole */
    assert (rc_store_begin (store) == 0);
    assert (rc_store_event (store, 1, NULL, NULL, "x", NULL) == 0);
    assert (rc_store_host_set_app (store, "nohost", "shop", "v1", "", 1) == -1);
    assert (strstr (rc_store_errmsg (store), "FOREIGN KEY"));
    rc_store_rollback (store);
    rc_store_destroy (&store);
    rc_store_destroy (&store);

    /* reopening migrates nothing and keeps the rows */
    store = rc_store_open (path, err, sizeof err);
    assert (store);
    int hosts = 0, events = 0;
    assert (rc_store_hosts_each (store, s_count_host, &hosts) == 0 && hosts == 1);
    assert (rc_store_events_each (store, NULL, NULL, 0, 0, s_count_event, &events) == 0);
    assert (events == 1);
    sqlite3 *db = NULL;
    sqlite3_open (path, &db);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (db, "SELECT count(*) FROM release_history", -1, &stmt, NULL);
    assert (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int (stmt, 0) == 2);
    sqlite3_finalize (stmt);
    /* a database from a newer rollclone is refused, not damaged */
    sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close (db);
    rc_store_destroy (&store);
    assert (!rc_store_open (path, err, sizeof err));
    assert (strstr (err, "newer than this coordinator"));

    /* an empty version-0 file (as an older build would have left it) migrates */
    unlink (path);
    sqlite3_open (path, &db);
    sqlite3_close (db);
    store = rc_store_open (path, err, sizeof err);
    assert (store && rc_store_schema_version (store) == RC_STORE_SCHEMA_VERSION);
    rc_store_destroy (&store);

    char cmd[400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert (system (cmd) == 0);
}
