/*  store_fleet_test.c - rc_store_fleet_each: every host once, each followed
    by its own apps, hosts without apps included, in one query. */
#include "selftests.h"
#include "store.h"

#include <check.h>
#include <unistd.h>

typedef struct {
    char seen[256]; /* "h:a,b;h2:;..." */
} s_seen_t;

static void
s_host (void *arg, const rc_host_row_t *row)
{
    s_seen_t *seen = (s_seen_t *)arg;
    size_t used = strlen (seen->seen);
    snprintf (seen->seen + used, sizeof seen->seen - used, "%s%s:", used ? ";" : "", row->id);
}

static void
s_app (void *arg, const rc_app_row_t *row)
{
    s_seen_t *seen = (s_seen_t *)arg;
    size_t used = strlen (seen->seen);
    snprintf (seen->seen + used, sizeof seen->seen - used, "%s=%s[%s]", row->app, row->current,
              row->rollback_points);
}

void
rc_store_fleet_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_store_fleet_test.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char path[300], err[256];
    snprintf (path, sizeof path, "%s/c.db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert_ptr_nonnull (store);
    const char *ids[] = {"web-2", "web-1", "web-10"};
    for (int i = 0; i < 3; i++) {
        rc_host_row_t row = {.id = ids[i],
                             .hostname = ids[i],
                             .pubkey = ids[i],
                             .agent_version = "t",
                             .labels = "",
                             .state = "online",
                             .last_seen = 1};
        ck_assert_int_eq (rc_store_host_upsert (store, &row), 0);
    }
    ck_assert_int_eq (rc_store_host_set_app (store, "web-1", "shop", "v2", "v1", 1), 0);
    ck_assert_int_eq (rc_store_host_set_app (store, "web-1", "api", "a1", "", 1), 0);
    ck_assert_int_eq (rc_store_host_set_app (store, "web-2", "shop", "v1", "", 1), 0);
    s_seen_t seen = {""};
    ck_assert_int_eq (rc_store_fleet_each (store, s_host, s_app, &seen), 0);
    ck_assert_str_eq (seen.seen, "web-1:api=a1[]shop=v2[v1];web-10:;web-2:shop=v1[]");
    rc_store_destroy (&store);
    unlink (path);
    snprintf (path, sizeof path, "%s/c.db-wal", dir);
    unlink (path);
    snprintf (path, sizeof path, "%s/c.db-shm", dir);
    unlink (path);
    rmdir (dir);
}
