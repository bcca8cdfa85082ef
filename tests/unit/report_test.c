/*  report_test.c - the selftest of agent/report.c, with Check's ck_assert (moved out of
    the daemon's code, and holding under -DNDEBUG). */
#include "report.h"
#include "agent_defaults.h"
#include "rc_log.h"
#include "rc_text.h"
#include "releases.h"
#include "selftests.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Selftest: text is cleaned on the way out, the caller's report is left as
   it was, the app's state rides along. */
void
rc_report_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_report_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    rc_app_config_t cfg = {.name = "web", .releases_dir = dir};
    rc_report_app_t app = {.cfg = &cfg, .busy = true, .last_id = "d-1", .last_step = 2};
    Rollclone__StepReport r = ROLLCLONE__STEP_REPORT__INIT;
    r.deployment_id = "d-2";
    r.app = "web";
    r.error = "bad \x1b[31mred\x1b[0m";
    zframe_t *frame = rc_report_pack (&r, &app);
    ck_assert (streq (r.error, "bad \x1b[31mred\x1b[0m"));
    Rollclone__StepReport *back =
        rollclone__step_report__unpack (NULL, zframe_size (frame), zframe_data (frame));
    ck_assert (back && !strchr (back->error, '\x1b') && strstr (back->error, "red"));
    ck_assert (back->app_state && back->app_state->busy && streq (back->app_state->current, ""));
    ck_assert (streq (back->app_state->last_deployment_id, "d-1"));
    rollclone__step_report__free_unpacked (back, NULL);
    zframe_destroy (&frame);

    frame = rc_report_state (false, &app, 1);
    Rollclone__Heartbeat *hb =
        rollclone__heartbeat__unpack (NULL, zframe_size (frame), zframe_data (frame));
    ck_assert (hb && !hb->healthy && hb->n_apps == 1 && streq (hb->apps[0]->app, "web"));
    rollclone__heartbeat__free_unpacked (hb, NULL);
    zframe_destroy (&frame);
    rmdir (dir);
}
