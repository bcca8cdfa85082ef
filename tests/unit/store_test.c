/*  store_test.c - the selftest of coordinator/store.c, with Check's ck_assert (moved out of
    the program's code, and holding under -DNDEBUG). */
#include "metrics.h"
#include "rc_time.h"
#include "selftests.h"
#include "store_private.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

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
    ck_assert (mkdtemp (dir));
    char path[300], err[512];
    snprintf (path, sizeof path, "%s/coordinator.db", dir);

    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert (store);
    ck_assert (rc_store_schema_version (store) == RC_STORE_SCHEMA_VERSION);
    rc_host_row_t row = {.id = "web-1",
                         .hostname = "web-1",
                         .pubkey = "K",
                         .agent_version = "1",
                         .labels = "role=web",
                         .state = "online",
                         .healthy = true,
                         .last_seen = 1000};
    ck_assert (rc_store_begin (store) == 0);
    ck_assert (rc_store_host_upsert (store, &row) == 0);
    ck_assert (rc_store_host_set_app (store, "web-1", "shop", "v1", "", 1000) == 0);
    ck_assert (rc_store_host_set_app (store, "web-1", "shop", "v2", "v1", 2000) == 0);
    ck_assert (rc_store_host_set_app (store, "web-1", "shop", "v2", "v1", 3000) == 0);
    ck_assert (rc_store_event (store, 1000, NULL, "web-1", "online", "hello") == 0);
    ck_assert (rc_store_commit (store) == 0);
    /* a failed statement inside a transaction rolls back whole */
    ck_assert (rc_store_begin (store) == 0);
    ck_assert (rc_store_event (store, 1, NULL, NULL, "x", NULL) == 0);
    ck_assert (rc_store_host_set_app (store, "nohost", "shop", "v1", "", 1) == -1);
    ck_assert (strstr (rc_store_errmsg (store), "FOREIGN KEY"));
    rc_store_rollback (store);
    rc_store_destroy (&store);
    rc_store_destroy (&store);

    /* reopening migrates nothing and keeps the rows */
    store = rc_store_open (path, err, sizeof err);
    ck_assert (store);
    int hosts = 0, events = 0;
    ck_assert (rc_store_hosts_each (store, s_count_host, &hosts) == 0 && hosts == 1);
    ck_assert (rc_store_events_each (store, NULL, NULL, 0, 0, s_count_event, &events) == 0);
    ck_assert (events == 1);
    sqlite3 *db = NULL;
    sqlite3_open (path, &db);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (db, "SELECT count(*) FROM release_history", -1, &stmt, NULL);
    ck_assert (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int (stmt, 0) == 2);
    sqlite3_finalize (stmt);
    /* a database from a newer rollclone is refused, not damaged */
    sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close (db);
    rc_store_destroy (&store);
    ck_assert (!rc_store_open (path, err, sizeof err));
    ck_assert (strstr (err, "newer than this coordinator"));

    /* an empty version-0 file (as an older build would have left it) migrates */
    unlink (path);
    sqlite3_open (path, &db);
    sqlite3_close (db);
    store = rc_store_open (path, err, sizeof err);
    ck_assert (store && rc_store_schema_version (store) == RC_STORE_SCHEMA_VERSION);
    rc_store_destroy (&store);

    char cmd[400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert (system (cmd) == 0);
}
