/*  store_bounds.c - selftests of the store's bounded reads and writes:
    pages of events and history (retention and backup join them), on a real
    SQLite file, with Check's assertions. */
#include "rc_config.h"
#include "rc_defaults.h"
#include "rc_keys.h"
#include "rc_time.h"
#include "selftests.h"
#include "store.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int64_t ids[64];
    size_t n;
} s_seen_t;

static void
s_seen_event (void *arg, const rc_event_row_t *row)
{
    s_seen_t *seen = (s_seen_t *)arg;
    ck_assert_uint_lt (seen->n, 64);
    seen->ids[seen->n++] = row->id;
}

static void
s_seen_history (void *arg, const rc_history_row_t *row)
{
    s_seen_t *seen = (s_seen_t *)arg;
    ck_assert_uint_lt (seen->n, 64);
    seen->ids[seen->n++] = row->id;
}

/* A fresh store in a temporary directory; the directory is in dir. */
static rc_store_t *
s_open (char *dir, size_t len)
{
    snprintf (dir, len, "/tmp/rc_store_pages.XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char path[300], err[512];
    snprintf (path, sizeof path, "%s/coordinator.db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert_msg (store != NULL, "open: %s", err);
    return store;
}

static void
s_remove (const char *dir)
{
    char cmd[400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}

void
rc_store_pages_test (bool verbose)
{
    (void)verbose;
    char dir[64];
    rc_store_t *store = s_open (dir, sizeof dir);
    rc_host_row_t host = {.id = "web-1",
                          .hostname = "web-1",
                          .pubkey = "K",
                          .agent_version = "1",
                          .labels = "",
                          .state = "online",
                          .healthy = true,
                          .last_seen = 1};
    ck_assert_int_eq (rc_store_begin (store), 0);
    ck_assert_int_eq (rc_store_host_upsert (store, &host), 0);
    /* events 1..10: odd ones of deployment d-1, even ones of host web-1 */
    for (int i = 1; i <= 10; i++)
        ck_assert_int_eq (rc_store_event (store, 1000 + i, i % 2 ? "d-1" : NULL,
                                          i % 2 ? NULL : "web-1", "k", NULL),
                          0);
    /* history 1..7 */
    char version[16];
    for (int i = 1; i <= 7; i++) {
        snprintf (version, sizeof version, "v%d", i);
        ck_assert_int_eq (rc_store_host_set_app (store, "web-1", "shop", version, "", 1000 + i), 0);
    }
    ck_assert_int_eq (rc_store_commit (store), 0);

    /* the newest page, oldest first, and more before it */
    s_seen_t seen = {.n = 0};
    bool more = false;
    ck_assert_int_eq (rc_store_events_page (store, NULL, NULL, 0, 0, 4, &more, s_seen_event, &seen),
                      0);
    ck_assert_uint_eq (seen.n, 4);
    ck_assert (seen.ids[0] == 7 && seen.ids[3] == 10);
    ck_assert (more);
    /* the page before it, and the last one, which says there is no more */
    seen.n = 0;
    ck_assert_int_eq (rc_store_events_page (store, NULL, NULL, 0, 7, 4, &more, s_seen_event, &seen),
                      0);
    ck_assert (seen.n == 4 && seen.ids[0] == 3 && seen.ids[3] == 6 && more);
    seen.n = 0;
    ck_assert_int_eq (rc_store_events_page (store, NULL, NULL, 0, 3, 4, &more, s_seen_event, &seen),
                      0);
    ck_assert (seen.n == 2 && seen.ids[0] == 1 && !more);
    /* a page that ends exactly at the first event has no more either */
    seen.n = 0;
    ck_assert_int_eq (rc_store_events_page (store, NULL, NULL, 0, 5, 4, &more, s_seen_event, &seen),
                      0);
    ck_assert (seen.n == 4 && seen.ids[0] == 1 && !more);
    /* following: the oldest after after_id, and more after them */
    seen.n = 0;
    ck_assert_int_eq (rc_store_events_page (store, NULL, NULL, 2, 0, 3, &more, s_seen_event, &seen),
                      0);
    ck_assert (seen.n == 3 && seen.ids[0] == 3 && seen.ids[2] == 5 && more);
    seen.n = 0;
    ck_assert_int_eq (rc_store_events_page (store, NULL, NULL, 7, 0, 3, &more, s_seen_event, &seen),
                      0);
    ck_assert (seen.n == 3 && seen.ids[2] == 10 && !more);
    /* filters: a deployment's and a host's events only */
    seen.n = 0;
    ck_assert_int_eq (
        rc_store_events_page (store, "d-1", NULL, 0, 0, 2, &more, s_seen_event, &seen), 0);
    ck_assert (seen.n == 2 && seen.ids[0] == 7 && seen.ids[1] == 9 && more);
    seen.n = 0;
    ck_assert_int_eq (
        rc_store_events_page (store, NULL, "web-1", 0, 4, 9, &more, s_seen_event, &seen), 0);
    ck_assert (seen.n == 1 && seen.ids[0] == 2 && !more);

    /* history pages the same way */
    seen.n = 0;
    ck_assert_int_eq (rc_store_history_page (store, "web-1", 0, 3, &more, s_seen_history, &seen),
                      0);
    ck_assert (seen.n == 3 && seen.ids[0] == 5 && seen.ids[2] == 7 && more);
    seen.n = 0;
    ck_assert_int_eq (rc_store_history_page (store, "web-1", 5, 10, &more, s_seen_history, &seen),
                      0);
    ck_assert (seen.n == 4 && seen.ids[0] == 1 && !more);
    seen.n = 0;
    ck_assert_int_eq (rc_store_history_page (store, "nobody", 0, 10, &more, s_seen_history, &seen),
                      0);
    ck_assert (seen.n == 0 && !more);

    rc_store_destroy (&store);
    s_remove (dir);
}

/* [coordinator] event_retention and deployment_retention: days are a unit
   there, and nonsense is refused naming the key. */
void
rc_retention_config_test (bool verbose)
{
    (void)verbose;
    char dir[64];
    snprintf (dir, sizeof dir, "/tmp/rc_retention_cfg.XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char key[300], path[300], err[512];
    snprintf (key, sizeof key, "%s/c.key", dir);
    ck_assert_int_eq (rc_keys_generate (key, err, sizeof err), 0);
    snprintf (path, sizeof path, "%s/c.conf", dir);
    struct {
        const char *lines;
        int64_t retention_ms; /* 0: refused */
        int64_t deployments;
        const char *error;
    } cases[] = {
        {"event_retention = 30d\ndeployment_retention = 5\n", 30LL * 86400000, 5, NULL},
        {"event_retention = 12h\n", 12LL * 3600000, RC_DEFAULT_DEPLOYMENT_RETENTION, NULL},
        {"", RC_DEFAULT_EVENT_RETENTION_MS, RC_DEFAULT_DEPLOYMENT_RETENTION, NULL},
        {"event_retention = 0d\n", 0, 0, "event_retention = '0d' is not a duration"},
        {"event_retention = 9x\n", 0, 0, "event_retention = '9x'"},
        {"event_retention = -1d\n", 0, 0, "event_retention = '-1d'"},
        {"event_retention = 99999999d\n", 0, 0, "event_retention = '99999999d'"},
        {"deployment_retention = 0\n", 0, 0, "deployment_retention = '0' is not a whole number"},
        {"deployment_retention = 10k\n", 0, 0, "deployment_retention = '10k'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *file = fopen (path, "w");
        ck_assert_ptr_nonnull (file);
        fprintf (file, "[coordinator]\nsecret_key = c.key_secret\n%s", cases[i].lines);
        fclose (file);
        rc_config_t *cfg = rc_config_load (path, RC_ROLE_COORDINATOR, err, sizeof err);
        if (cases[i].retention_ms) {
            ck_assert_msg (cfg != NULL, "case %zu: %s", i, err);
            ck_assert_int_eq (cfg->event_retention_ms, cases[i].retention_ms);
            ck_assert_int_eq (cfg->deployment_retention, cases[i].deployments);
            rc_config_destroy (&cfg);
        }
        else {
            ck_assert_msg (cfg == NULL, "case %zu accepted", i);
            ck_assert_msg (strstr (err, cases[i].error) != NULL, "case %zu: %s", i, err);
        }
    }
    s_remove (dir);
}

static int64_t
s_count (rc_store_t *store, const char *sql)
{
    sqlite3_stmt *stmt = rc_store_prepare (store, sql, "");
    ck_assert_ptr_nonnull (stmt);
    ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
    int64_t n = sqlite3_column_int64 (stmt, 0);
    rc_store_finalize (store, stmt);
    return n;
}

static void
s_add_deployment (rc_store_t *store, const char *id, const char *state, int64_t created,
                  int64_t finished, int hosts)
{
    ck_assert_int_eq (
        rc_store_run (
            store, rc_store_prepare (store,
                                     "INSERT INTO deployments (id, kind, app, batch_spec, "
                                     "max_fail_spec, max_fail, soak_ms, health_timeout_ms, "
                                     "progress_deadline_ms, auto_rollback, state, total_batches, "
                                     "created, updated, finished, progress) VALUES (?1, 'deploy', "
                                     "'shop', '1', '0', 0, 0, 0, 0, 1, ?2, 1, ?3, ?3, ?4, ?3)",
                                     "ttii", id, state, created, finished)),
        0);
    for (int i = 0; i < hosts; i++) {
        char host[32];
        snprintf (host, sizeof host, "web-%d", i);
        ck_assert_int_eq (
            rc_store_run (store, rc_store_prepare (store,
                                                   "INSERT INTO deployment_hosts (deployment_id, "
                                                   "host_id, ord, state) VALUES (?1, ?2, ?3, "
                                                   "'succeeded')",
                                                   "tti", id, host, (int64_t)i)),
            0);
    }
}

/* Retention prunes old events and history and the finished deployments
   beyond the newest N, in small transactions, and never what is running. */
void
rc_store_retention_test (bool verbose)
{
    (void)verbose;
    char dir[64];
    rc_store_t *store = s_open (dir, sizeof dir);
    const int64_t day = 24LL * 3600 * 1000;
    int64_t now = rc_now_ms ();
    rc_host_row_t host = {.id = "web-1",
                          .hostname = "web-1",
                          .pubkey = "K",
                          .agent_version = "1",
                          .labels = "",
                          .state = "online",
                          .healthy = true,
                          .last_seen = 1};
    ck_assert_int_eq (rc_store_begin (store), 0);
    ck_assert_int_eq (rc_store_host_upsert (store, &host), 0);
    /* 1200 events 100 days old, 5 of them of a deployment still running,
       and 10 recent ones */
    for (int i = 0; i < 1200; i++)
        ck_assert_int_eq (rc_store_event (store, now - 100 * day + i, i < 5 ? "d-run" : NULL,
                                          "web-1", "old", NULL),
                          0);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq (rc_store_event (store, now - i, NULL, "web-1", "new", NULL), 0);
    /* history: three old releases then a recent one of app shop; app
       blog's only release is old and stays (it says how blog got there) */
    const char *versions[] = {"v1", "v2", "v3"};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq (
            rc_store_host_set_app (store, "web-1", "shop", versions[i], "", now - 100 * day + i),
            0);
    ck_assert_int_eq (rc_store_host_set_app (store, "web-1", "shop", "v4", "v3", now), 0);
    ck_assert_int_eq (rc_store_host_set_app (store, "web-1", "blog", "b1", "", now - 100 * day), 0);
    /* 30 finished deployments of 3 hosts, the oldest deployment of all
       still running, and one ended whose row says so by state only */
    s_add_deployment (store, "d-run", "running", 0, 0, 3);
    for (int i = 0; i < 30; i++) {
        char id[16];
        snprintf (id, sizeof id, "d-%02d", i);
        s_add_deployment (store, id, i % 2 ? "succeeded" : "rolled_back", 1000 + i, 2000 + i, 3);
    }
    s_add_deployment (store, "d-odd", "paused", 1, 5, 1);
    ck_assert_int_eq (rc_store_commit (store), 0);

    /* the first call works within its budget; calls go on until one finds
       nothing, and the next one rests */
    int total = 0, calls = 0, n;
    while ((n = rc_store_prune_step (store, 90 * day, 10)) > 0 && calls < 100) {
        total += n;
        calls++;
    }
    ck_assert_int_eq (n, 0);
    ck_assert_int_eq (s_count (store, "SELECT count(*) FROM events WHERE kind = 'new'"), 10);
    ck_assert_int_eq (s_count (store, "SELECT count(*) FROM events WHERE kind = 'old'"), 5);
    ck_assert_int_eq (s_count (store, "SELECT count(*) FROM events WHERE deployment_id = 'd-run'"),
                      5);
    ck_assert_int_eq (s_count (store, "SELECT count(*) FROM release_history WHERE app = 'shop'"),
                      1);
    ck_assert_int_eq (s_count (store, "SELECT count(*) FROM release_history WHERE app = 'blog'"),
                      1);
    ck_assert_int_eq (s_count (store, "SELECT count(*) FROM deployments WHERE finished > 0 AND "
                                      "state IN ('succeeded', 'rolled_back')"),
                      10);
    ck_assert_int_eq (s_count (store, "SELECT min(created) FROM deployments WHERE finished > 0 "
                                      "AND state IN ('succeeded', 'rolled_back')"),
                      1020);
    ck_assert_int_eq (
        s_count (store, "SELECT count(*) FROM deployments WHERE id IN ('d-run', 'd-odd')"), 2);
    ck_assert_int_eq (s_count (store, "SELECT count(*) FROM deployment_hosts"), 10 * 3 + 3 + 1);
    ck_assert_int_eq (total, 1195 + 3 + 20 * 4);

    /* resting: new old rows wait for RC_PRUNE_IDLE_MS */
    ck_assert_int_eq (rc_store_event (store, now - 100 * day, NULL, NULL, "old", NULL), 0);
    ck_assert_int_eq (rc_store_prune_step (store, 90 * day, 10), 0);

    /* history is capped per host and app, whatever its age */
    ck_assert_int_eq (rc_store_begin (store), 0);
    for (int i = 0; i < RC_HISTORY_PER_APP_MAX + 5; i++) {
        char version[16];
        snprintf (version, sizeof version, "f%d", i);
        ck_assert_int_eq (rc_store_host_set_app (store, "web-1", "flap", version, "", now), 0);
    }
    ck_assert_int_eq (rc_store_commit (store), 0);
    /* cut by the cron's pass, not by each report's statements */
    ck_assert_int_eq (s_count (store, "SELECT count(*) FROM release_history WHERE app = 'flap'"),
                      RC_HISTORY_PER_APP_MAX + 5);
    ck_assert_int_eq (rc_store_history_cap (store, true), 5);
    ck_assert_int_eq (rc_store_history_cap (store, true), 0);
    /* the cron's calls cut at most every RC_HISTORY_CAP_EVERY_MS */
    ck_assert_int_eq (rc_store_host_set_app (store, "web-1", "flap", "f-last", "", now), 0);
    ck_assert_int_eq (rc_store_history_cap (store, false), 0);
    ck_assert_int_eq (s_count (store, "SELECT count(*) FROM release_history WHERE app = 'flap'"),
                      RC_HISTORY_PER_APP_MAX + 1);
    ck_assert_int_eq (rc_store_history_cap (store, true), 1);
    ck_assert_int_eq (s_count (store, "SELECT count(*) FROM release_history WHERE app = 'flap'"),
                      RC_HISTORY_PER_APP_MAX);
    ck_assert_int_eq (s_count (store, "SELECT count(*) FROM release_history WHERE version = 'f6'"),
                      1);
    ck_assert_int_eq (s_count (store, "SELECT count(*) FROM release_history WHERE version = 'f5'"),
                      0);
    rc_store_destroy (&store);
    s_remove (dir);
}

static int64_t
s_count_file (const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
    int64_t n = sqlite3_column_type (stmt, 0) == SQLITE_TEXT
                    ? strcmp ((const char *)sqlite3_column_text (stmt, 0), "ok") == 0
                    : sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return n;
}

/* An online backup, stepped while the store goes on committing through the
   same connection: the copy is whole, consistent and has every commit made
   before it completed; it never overwrites a file and leaves no partial
   file behind when abandoned. */
void
rc_store_backup_test (bool verbose)
{
    char dir[64];
    rc_store_t *store = s_open (dir, sizeof dir);
    char path[300], other[300];
    snprintf (path, sizeof path, "%s/backup.db", dir);
    snprintf (other, sizeof other, "%s/other.db", dir);
    char detail[1024];
    memset (detail, 'x', sizeof detail - 1);
    detail[sizeof detail - 1] = '\0';
    /* a few MB: many steps of RC_BACKUP_STEP_PAGES */
    ck_assert_int_eq (rc_store_begin (store), 0);
    for (int i = 0; i < 5000; i++)
        ck_assert_int_eq (rc_store_event (store, i, NULL, NULL, "before", detail), 0);
    ck_assert_int_eq (rc_store_commit (store), 0);

    ck_assert_int_eq (rc_store_backup_step (store), -1); /* none running */
    ck_assert (!rc_store_backup_running (store));
    ck_assert_int_eq (rc_store_backup_begin (store, path), 0);
    ck_assert (rc_store_backup_running (store));
    ck_assert_int_eq (rc_store_backup_begin (store, other), -1);
    ck_assert_ptr_nonnull (strstr (rc_store_errmsg (store), "running already"));
    int rc, steps = 0, during = 1;
    /* a commit before the first page is copied, and one after each step */
    ck_assert_int_eq (rc_store_event (store, 1, NULL, NULL, "during", NULL), 0);
    while ((rc = rc_store_backup_step (store)) == 0 && steps < 100000) {
        /* the loop goes on writing between steps */
        ck_assert_int_eq (rc_store_event (store, 1, NULL, NULL, "during", NULL), 0);
        during++;
        steps++;
        ck_assert_int_ne (access (path, F_OK), 0); /* no name before it is complete */
    }
    ck_assert_int_eq (rc, 1);
    if (verbose)
        printf ("backup: %d pages in %d steps\n", rc_store_backup_pages (store), steps + 1);
    ck_assert (!rc_store_backup_running (store));
    ck_assert_int_gt (rc_store_backup_pages (store), 1000);
    ck_assert_int_eq (s_count_file (path, "PRAGMA integrity_check"), 1);
    ck_assert_int_eq (s_count_file (path, "SELECT count(*) FROM events WHERE kind = 'before'"),
                      5000);
    ck_assert_int_eq (s_count_file (path, "SELECT count(*) FROM events WHERE kind = 'during'"),
                      during);
    ck_assert_int_eq (s_count_file (path, "PRAGMA user_version"), RC_STORE_SCHEMA_VERSION);
    /* the copy opens as a store of its own */
    char err[512];
    rc_store_t *copy = rc_store_open (path, err, sizeof err);
    ck_assert_msg (copy != NULL, "%s", err);
    rc_store_destroy (&copy);

    /* never over an existing file */
    ck_assert_int_eq (rc_store_backup_begin (store, path), -1);
    ck_assert_ptr_nonnull (strstr (rc_store_errmsg (store), "exists"));
    /* abandoned: nothing left but what was there */
    ck_assert_int_eq (rc_store_backup_begin (store, other), 0);
    rc_store_backup_abort (store);
    ck_assert (!rc_store_backup_running (store));
    ck_assert_int_ne (access (other, F_OK), 0);
    char cmd[400];
    snprintf (cmd, sizeof cmd, "test $(ls '%s' | grep -c partial) = 0", dir);
    ck_assert_int_eq (system (cmd), 0);
    /* and one running when the store closes goes the same way */
    ck_assert_int_eq (rc_store_backup_begin (store, other), 0);
    rc_store_destroy (&store);
    ck_assert_int_eq (system (cmd), 0);
    s_remove (dir);
}
