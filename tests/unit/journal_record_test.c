/*  journal_record_test.c - the step journal's StepRecord (agent/journal.c):
    a round trip through a reopen, records cut short at every byte, garbage
    and another app's record refused cleanly, and the legacy JSON record of
    an older agent read once and replaced. */
#include "journal.h"
#include "selftests.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
rc_journal_record_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_journal_record_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    char err[256], state[PATH_MAX];
    snprintf (state, sizeof state, "%s/state", dir);
    rc_journal_t *j = rc_journal_new (state, err, sizeof err);
    ck_assert (j);
    ck_assert (rc_journal_read (j, "web") == NULL);
    ck_assert (!rc_journal_in_flight (state, "web"));
    Rollclone__StepRecord rec = ROLLCLONE__STEP_RECORD__INIT;
    rec.deployment_id = "d-7";
    rec.step = 3;
    rec.action = ROLLCLONE__ACTION__ACTION_UPDATE;
    rec.app = "web";
    rec.version = "v2";
    rec.previous = "v1";
    rec.phase = ROLLCLONE__STEP_RECORD__PHASE__HEALTH;
    rec.switched = rec.drained = true;
    rec.soak_ms = 1500;
    rec.error = "é\tquoted";
    ck_assert (rc_journal_write (j, "web", &rec) == 0);
    rc_journal_destroy (&j);
    j = rc_journal_new (state, err, sizeof err);
    /* round trip, through a reopen */
    Rollclone__StepRecord *back = rc_journal_read (j, "web");
    ck_assert (back && streq (back->deployment_id, "d-7") && back->step == 3);
    ck_assert (back->phase == ROLLCLONE__STEP_RECORD__PHASE__HEALTH && back->switched
               && !back->aside);
    ck_assert (back->soak_ms == 1500 && streq (back->error, "é\tquoted")
               && streq (back->previous, "v1"));
    ck_assert (rc_journal_in_flight (state, "web"));
    /* another app's name in it: refused */
    ck_assert (rc_journal_record_decode (NULL, 0, "web", err, sizeof err) == NULL);
    size_t len = rollclone__step_record__get_packed_size (back);
    uint8_t *data = malloc (len);
    ck_assert (data);
    rollclone__step_record__pack (back, data);
    ck_assert (rc_journal_record_decode (data, len, "shop", err, sizeof err) == NULL);
    /* cut short anywhere, or garbage: refused cleanly */
    for (size_t cut = 0; cut < len; cut++)
        ck_assert (rc_journal_record_decode (data, cut, "web", err, sizeof err) == NULL);
    uint8_t garbage[64];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (uint8_t)(i * 37 + 11);
    ck_assert (rc_journal_record_decode (garbage, sizeof garbage, "web", err, sizeof err) == NULL);
    free (data);
    rc_journal_record_free (&back);
    rc_journal_record_free (&back);
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/steps/web.pb", state);
    FILE *f = fopen (path, "wb");
    ck_assert (f && fwrite (garbage, 1, 20, f) == 20);
    fclose (f);
    ck_assert (rc_journal_read (j, "web") == NULL && strstr (rc_journal_errmsg (j), "refused"));
    rc_journal_clear (j, "web");
    ck_assert (rc_journal_read (j, "web") == NULL && !rc_journal_in_flight (state, "web"));

    /* LEGACY: the JSON record of an older agent, read once */
    snprintf (path, sizeof path, "%s/steps/web.json", state);
    f = fopen (path, "w");
    ck_assert (f);
    fputs ("{\"id\":\"d-6\",\"step\":2,\"action\":2,\"app\":\"web\",\"version\":\"v1\","
           "\"previous\":\"v2\",\"phase\":\"revert-health\",\"switched\":true,\"failed\":true}",
           f);
    fclose (f);
    back = rc_journal_read (j, "web");
    ck_assert (back && streq (back->deployment_id, "d-6") && back->failed && back->switched);
    ck_assert (back->phase == ROLLCLONE__STEP_RECORD__PHASE__REVERT_HEALTH);
    ck_assert (back->action == ROLLCLONE__ACTION__ACTION_ROLLBACK);
    ck_assert (rc_journal_write (j, "web", back) == 0);
    ck_assert (access (path, F_OK) != 0); /* replaced by web.pb */
    rc_journal_record_free (&back);
    back = rc_journal_read (j, "web");
    ck_assert (back && back->phase == ROLLCLONE__STEP_RECORD__PHASE__REVERT_HEALTH);
    rc_journal_record_free (&back);
    rc_journal_clear (j, "web");
    ck_assert (rc_journal_read (j, "web") == NULL);

    rc_journal_destroy (&j);
    char cmd[PATH_MAX + 16];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}
