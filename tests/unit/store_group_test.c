/*  store_group_test.c - the selftest of the store's group commit
    (rc_store_group_begin / rc_store_group_commit): each step a savepoint
    that rolls back alone, the whole durable at one commit. */
#include "selftests.h"
#include "store.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
s_count_host (void *arg, const rc_host_row_t *row)
{
    (void)row;
    (*(int *)arg)++;
}

static int
s_hosts (rc_store_t *store)
{
    int n = 0;
    ck_assert (rc_store_hosts_each (store, s_count_host, &n) == 0);
    return n;
}

static int
s_upsert (rc_store_t *store, const char *id)
{
    rc_host_row_t row = {.id = id,
                         .hostname = id,
                         .pubkey = id,
                         .agent_version = "1",
                         .labels = "",
                         .state = "online",
                         .healthy = true,
                         .last_seen = 1000};
    if (rc_store_begin (store) != 0)
        return -1;
    if (rc_store_host_upsert (store, &row) != 0 || rc_store_commit (store) != 0) {
        rc_store_rollback (store);
        return -1;
    }
    return 0;
}

void
rc_store_group_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_store_group_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    char path[300], err[512];
    snprintf (path, sizeof path, "%s/coordinator.db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert (store);

    /* three steps in one group: the failed one is undone alone */
    ck_assert (rc_store_group_begin (store) == 0);
    ck_assert (rc_store_group_begin (store) == -1); /* no group in a group */
    int64_t changes = rc_store_changes (store);
    ck_assert (s_upsert (store, "a") == 0);
    ck_assert (rc_store_changes (store) > changes);
    ck_assert (rc_store_begin (store) == 0);
    ck_assert (rc_store_event (store, 1, NULL, NULL, "x", NULL) == 0);
    ck_assert (rc_store_host_set_app (store, "nohost", "shop", "v1", "", 1) == -1);
    ck_assert (strstr (rc_store_errmsg (store), "FOREIGN KEY"));
    rc_store_rollback (store);
    ck_assert (strstr (rc_store_errmsg (store), "FOREIGN KEY")); /* the reason stays */
    ck_assert (s_upsert (store, "b") == 0);
    ck_assert (rc_store_group_commit (store) == 0);
    ck_assert_int_eq (s_hosts (store), 2);
    /* the failed step's event is not there; a second store (another
       connection) sees what the group committed */
    rc_store_t *other = rc_store_open (path, err, sizeof err);
    if (other) { /* the store may hold a lock of one coordinator per file */
        ck_assert_int_eq (s_hosts (other), 2);
        rc_store_destroy (&other);
    }

    /* a group commit with nothing in it, and without a group: 0 */
    ck_assert (rc_store_group_begin (store) == 0);
    ck_assert (rc_store_group_commit (store) == 0);
    ck_assert (rc_store_group_commit (store) == 0);
    /* outside a group each step is its own transaction again */
    ck_assert (s_upsert (store, "c") == 0);
    ck_assert_int_eq (s_hosts (store), 3);

    rc_store_destroy (&store);
    DIR *d = opendir (dir);
    ck_assert (d);
    for (struct dirent *e = readdir (d); e; e = readdir (d)) {
        char file[600];
        snprintf (file, sizeof file, "%s/%s", dir, e->d_name);
        if (*e->d_name != '.')
            unlink (file);
    }
    closedir (d);
    ck_assert (rmdir (dir) == 0);
}
