/*  journal_test.c - the selftest of agent/journal.c, with Check's ck_assert (moved out of
    the daemon's code, and holding under -DNDEBUG). */
#include "journal.h"
#include "agent_defaults.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "selftests.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Selftest: records survive a reopen (tests/unit/journal_record_test.c
   tries them harder), reports are found by id, the lock excludes a second
   holder. */
static bool
s_test_match (zframe_t *report, void *arg)
{
    const char *prefix = (const char *)arg;
    return zframe_size (report) >= strlen (prefix)
           && memcmp (zframe_data (report), prefix, strlen (prefix)) == 0;
}

void
rc_journal_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_journal_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    char err[256], state[PATH_MAX];
    snprintf (state, sizeof state, "%s/state", dir);
    rc_journal_t *j = rc_journal_new (state, err, sizeof err);
    ck_assert (j);
    ck_assert (rc_journal_read (j, "web") == NULL);
    Rollclone__StepRecord rec = ROLLCLONE__STEP_RECORD__INIT;
    rec.deployment_id = "d-7";
    rec.action = ROLLCLONE__ACTION__ACTION_UPDATE;
    rec.app = "web";
    rec.phase = ROLLCLONE__STEP_RECORD__PHASE__HEALTH;
    ck_assert (rc_journal_write (j, "web", &rec) == 0);
    rc_journal_destroy (&j);
    j = rc_journal_new (state, err, sizeof err);
    Rollclone__StepRecord *back = rc_journal_read (j, "web");
    ck_assert (back && back->phase == ROLLCLONE__STEP_RECORD__PHASE__HEALTH);
    rc_journal_record_free (&back);
    rc_journal_clear (j, "web");
    ck_assert (rc_journal_read (j, "web") == NULL);

    ck_assert (rc_journal_store_report (j, "d-1", 2, "abc", 3) == 0);
    ck_assert (rc_journal_store_report (j, "../x", 2, "abc", 3) == -1);
    zframe_t *f = rc_journal_find_report (j, "d-1", 2);
    ck_assert (f && zframe_size (f) == 3 && memcmp (zframe_data (f), "abc", 3) == 0);
    zframe_destroy (&f);
    ck_assert (rc_journal_find_report (j, "d-1", 3) == NULL);
    /* the newest that matches: "abd" is written last (its own mtime) */
    usleep (20000);
    ck_assert (rc_journal_store_report (j, "d-2", 1, "abd", 3) == 0);
    f = rc_journal_newest_report (j, s_test_match, (void *)"ab");
    ck_assert (f && memcmp (zframe_data (f), "abd", 3) == 0);
    zframe_destroy (&f);
    f = rc_journal_newest_report (j, s_test_match, (void *)"abc");
    ck_assert (f && memcmp (zframe_data (f), "abc", 3) == 0);
    zframe_destroy (&f);
    ck_assert (rc_journal_newest_report (j, s_test_match, (void *)"x") == NULL);

    int a = rc_journal_lock (j, "web");
    ck_assert (a >= 0);
    /* flock is per open file: a second open in this process is refused */
    int b = rc_journal_lock (j, "web");
    ck_assert (b == -1);
    rc_journal_unlock (&a);
    ck_assert (a == -1);
    b = rc_journal_lock (j, "web");
    ck_assert (b >= 0);
    rc_journal_unlock (&b);
    rc_journal_destroy (&j);
    rc_journal_destroy (&j);
    char cmd[PATH_MAX + 16];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert (system (cmd) == 0);
}
