/*  freeze_test.c - weekly windows (rc_window) and the coordinator's freeze:
    windows that wrap over the week's end, touching windows that run into
    each other, the operator's freeze kept across a reopened store. */
#include "freeze.h"
#include "rc_window.h"
#include "selftests.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Unix ms of a UTC wall time (the tests run with TZ=UTC). */
static int64_t
s_utc (int year, int month, int day, int hour, int minute)
{
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = minute};
    return (int64_t)timegm (&tm) * 1000;
}

void
rc_window_test (bool verbose)
{
    (void)verbose;
    setenv ("TZ", "UTC", 1);
    tzset ();
    rc_window_t w[RC_WINDOWS_MAX];
    char err[256];
    ck_assert_int_eq (rc_window_parse ("Sat 00:00-Mon 06:00", w, RC_WINDOWS_MAX, err, sizeof err),
                      1);
    ck_assert_int_eq (w[0].start, 5 * 1440);
    ck_assert_int_eq (w[0].end, 6 * 60);
    ck_assert_int_eq (rc_window_parse (" fri 18:00 - friday 24:00 ,Wednesday 12:30-wed 13:00", w,
                                       RC_WINDOWS_MAX, err, sizeof err),
                      2);
    ck_assert_int_eq (w[0].end, 5 * 1440);
    ck_assert_int_eq (w[1].start, 2 * 1440 + 750);
    const char *bad[] = {"",
                         "Sat",
                         "Sat 00:00",
                         "Sat 00:00-",
                         "Sat 25:00-Sun 01:00",
                         "Sat 00:60-Sun 01:00",
                         "Sat 0:00-Sun 01:00",
                         "Sat 24:30-Sun 01:00",
                         "Xyz 00:00-Sun 01:00",
                         "Sa 00:00-Sun 01:00",
                         "Sat 01:00-Sat 01:00",
                         "Sat 00:00-Mon 06:00,",
                         "Sat 00:00-Mon 06:00 x",
                         "Tues 00:00-Wed 00:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg (rc_window_parse (bad[i], w, RC_WINDOWS_MAX, err, sizeof err) == -1,
                       "accepted '%s'", bad[i]);
        ck_assert_msg (strstr (err, "window") != NULL, "'%s': %s", bad[i], err);
    }
    char many[1024] = "";
    size_t used = 0;
    for (int i = 0; i <= RC_WINDOWS_MAX && used < sizeof many; i++)
        used += (size_t)snprintf (many + used, sizeof many - used, "%sMon 01:00-Mon 02:00",
                                  i ? "," : "");
    ck_assert_uint_lt (used, sizeof many);
    ck_assert_int_eq (rc_window_parse (many, w, RC_WINDOWS_MAX, err, sizeof err), -1);

    /* 2026-12-05 is a Saturday */
    ck_assert_int_eq (rc_window_parse ("Sat 00:00-Mon 06:00", w, RC_WINDOWS_MAX, err, sizeof err),
                      1);
    int64_t ends = 0;
    ck_assert (!rc_window_active (w, 1, s_utc (2026, 12, 4, 23, 59), &ends));
    ck_assert (rc_window_active (w, 1, s_utc (2026, 12, 5, 0, 0), &ends));
    ck_assert_int_eq (ends, s_utc (2026, 12, 7, 6, 0));
    ck_assert (rc_window_active (w, 1, s_utc (2026, 12, 7, 5, 59) + 30000, &ends));
    ck_assert_int_eq (ends, s_utc (2026, 12, 7, 6, 0));
    ck_assert (!rc_window_active (w, 1, s_utc (2026, 12, 7, 6, 0), &ends));
    /* touching windows run into each other; the order given does not matter */
    ck_assert_int_eq (rc_window_parse ("Mon 06:00-Mon 08:00, Sun 22:00-Mon 06:00", w,
                                       RC_WINDOWS_MAX, err, sizeof err),
                      2);
    ck_assert (rc_window_active (w, 2, s_utc (2026, 12, 6, 23, 0), &ends));
    ck_assert_int_eq (ends, s_utc (2026, 12, 7, 8, 0));
    /* a set that holds the whole week never ends */
    ck_assert_int_eq (rc_window_parse ("Mon 00:00-Thu 00:00,Thu 00:00-Mon 00:00", w, RC_WINDOWS_MAX,
                                       err, sizeof err),
                      2);
    ck_assert (rc_window_active (w, 2, s_utc (2026, 12, 2, 10, 0), &ends));
    ck_assert (ends == INT64_MAX);
    /* local time: the same instant is in the window in one zone only */
    ck_assert_int_eq (rc_window_parse ("Sat 00:00-Mon 06:00", w, RC_WINDOWS_MAX, err, sizeof err),
                      1);
    setenv ("TZ", "Asia/Tokyo", 1); /* UTC+9, no DST */
    tzset ();
    ck_assert (rc_window_active (w, 1, s_utc (2026, 12, 4, 16, 0), &ends));
    ck_assert_int_eq (ends, s_utc (2026, 12, 6, 21, 0));
    setenv ("TZ", "UTC", 1);
    tzset ();
}

void
rc_freeze_test (bool verbose)
{
    (void)verbose;
    setenv ("TZ", "UTC", 1);
    tzset ();
    char dir[] = "/tmp/rc_freeze_test.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char path[300], err[256];
    snprintf (path, sizeof path, "%s/c.db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert_ptr_nonnull (store);

    /* a bad window is refused, naming it */
    ck_assert_ptr_null (rc_freeze_new (store, "Sat 00:00-Mon 6", err, sizeof err));
    ck_assert_ptr_nonnull (strstr (err, "'Sat 00:00-Mon 6'"));

    rc_freeze_t *freeze =
        rc_freeze_new (store, "Sat 00:00-Mon 06:00, Wed 12:00-Wed 13:00", err, sizeof err);
    ck_assert_ptr_nonnull (freeze);
    ck_assert_uint_eq (rc_freeze_window_count (freeze), 2);
    ck_assert_int_eq (rc_freeze_until (freeze), 0);
    int64_t thu = s_utc (2026, 12, 3, 10, 0), ends = 0;
    ck_assert (!rc_freeze_at (freeze, thu, &ends));

    /* the operator's freeze until Saturday 01:00 runs into the weekend window */
    ck_assert_int_eq (rc_store_begin (store), 0);
    ck_assert_int_eq (
        rc_freeze_set (freeze, s_utc (2026, 12, 5, 1, 0), "release train", "alice", thu), 0);
    ck_assert_int_eq (rc_store_commit (store), 0);
    ck_assert (rc_freeze_at (freeze, thu, &ends));
    ck_assert_int_eq (ends, s_utc (2026, 12, 7, 6, 0));
    /* ... and alone when it ends before the window starts */
    ck_assert_int_eq (rc_freeze_set (freeze, s_utc (2026, 12, 3, 11, 0), "short", "alice", thu), 0);
    ck_assert (rc_freeze_at (freeze, thu, &ends));
    ck_assert_int_eq (ends, s_utc (2026, 12, 3, 11, 0));
    ck_assert (!rc_freeze_at (freeze, s_utc (2026, 12, 3, 11, 0), NULL));

    Rollclone__FreezeReply *reply = rc_freeze_reply (freeze, thu);
    ck_assert_ptr_nonnull (reply);
    ck_assert (reply->frozen);
    ck_assert_int_eq (reply->until_ms, s_utc (2026, 12, 3, 11, 0));
    ck_assert_uint_eq (reply->n_windows, 3);
    ck_assert_str_eq (reply->windows[0]->spec, "Sat 00:00-Mon 06:00");
    ck_assert (!reply->windows[0]->active);
    ck_assert_str_eq (reply->windows[1]->spec, "Wed 12:00-Wed 13:00");
    ck_assert_str_eq (reply->windows[2]->spec, "manual");
    ck_assert (reply->windows[2]->active);
    rollclone__freeze_reply__free_unpacked (reply, NULL);

    /* a restart keeps the operator's freeze */
    rc_freeze_destroy (&freeze);
    rc_freeze_destroy (&freeze);
    freeze = rc_freeze_new (store, NULL, err, sizeof err);
    ck_assert_ptr_nonnull (freeze);
    ck_assert_int_eq (rc_freeze_until (freeze), s_utc (2026, 12, 3, 11, 0));
    ck_assert_str_eq (rc_freeze_reason (freeze), "short");
    /* a set that is rolled back is forgotten on reload */
    ck_assert_int_eq (rc_store_begin (store), 0);
    ck_assert_int_eq (rc_freeze_set (freeze, s_utc (2027, 1, 1, 0, 0), "", "bob", thu), 0);
    rc_store_rollback (store);
    ck_assert_int_eq (rc_freeze_load (freeze), 0);
    ck_assert_int_eq (rc_freeze_until (freeze), s_utc (2026, 12, 3, 11, 0));
    ck_assert_int_eq (rc_freeze_clear (freeze), 0);
    ck_assert (!rc_freeze_at (freeze, thu, NULL));
    rc_freeze_destroy (&freeze);
    freeze = rc_freeze_new (store, "", err, sizeof err);
    ck_assert_int_eq (rc_freeze_until (freeze), 0);
    rc_freeze_destroy (&freeze);

    rc_store_destroy (&store);
    char cmd[400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}
