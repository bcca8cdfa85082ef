/*  store_pages.c - selftests of the store's bounded reads and writes:
    pages of events and history (retention and backup join them), on a real
    SQLite file, with Check's assertions. */
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
