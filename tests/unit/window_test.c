/*  window_test.c - the sliding window's arithmetic (coordinator/window.c)
    and its parsing (strategy.c): window and rollback batch sizes, the
    ramp before the window, the batches a deployment counts, when it is
    in its window, the room left, and the rollback batch by default. */
#include "plan.h"
#include "selftests.h"
#include "strategy.h"
#include "window.h"

#include <check.h>
#include <string.h>

void
rc_slide_test (bool verbose)
{
    (void)verbose;
    /* N or N% of the selected hosts, rounded up, at least one */
    ck_assert_int_eq (rc_strategy_window ("10", 100), 10);
    ck_assert_int_eq (rc_strategy_window ("10%", 100), 10);
    ck_assert_int_eq (rc_strategy_window ("10%", 15), 2);
    ck_assert_int_eq (rc_strategy_window ("1%", 3), 1);
    ck_assert_int_eq (rc_strategy_window ("100%", 7), 7);
    ck_assert_int_eq (rc_strategy_window ("50", 7), 50); /* more than the hosts: all of them */
    /* bad: nothing, zero, over 100 %, a ramp, garbage */
    const char *bad[] = {"",  "0",  "00",  "0%",  "101%", "1,10%",
                         "%", "-1", "1.5", "ten", "10 ",  "1234567890"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg (rc_strategy_window (bad[i], 100) == -1, "'%s' taken", bad[i]);
    ck_assert_int_eq (rc_strategy_window (NULL, 100), -1);

    /* the ramp: each entry of --batch one batch */
    ck_assert_int_eq (rc_strategy_ramp_length ("1"), 1);
    ck_assert_int_eq (rc_strategy_ramp_length ("1,10%,50%"), 3);
    ck_assert_int_eq (rc_strategy_ramp_length ("1,,2"), -1);
    ck_assert_int_eq (rc_slide_ramp ("2,5"), 2);

    /* batch sizes: the ramp's entries (the last one not repeating), then
       every host left is the window's */
    ck_assert_int_eq (rc_slide_batch_size ("1", 10, 1, 100), 1);
    ck_assert_int_eq (rc_slide_batch_size ("1", 10, 2, 100), 100);
    ck_assert_int_eq (rc_slide_batch_size ("1,10%", 5, 2, 100), 10);
    ck_assert_int_eq (rc_slide_batch_size ("1,10%", 5, 3, 100), 100);
    /* no window: the ramp repeats as ever */
    ck_assert_int_eq (rc_slide_batch_size ("1,10%", 0, 3, 100), 10);
    /* batches: the ramp's that take hosts, then one for the window */
    ck_assert_int_eq (rc_slide_batch_count ("1", 10, 100), 2);
    ck_assert_int_eq (rc_slide_batch_count ("1,10%", 5, 100), 3);
    ck_assert_int_eq (rc_slide_batch_count ("1", 3, 1), 1);   /* the canary is all */
    ck_assert_int_eq (rc_slide_batch_count ("5", 3, 4), 1);   /* the ramp takes all */
    ck_assert_int_eq (rc_slide_batch_count ("1,1", 3, 2), 2); /* no host left for it */
    ck_assert_int_eq (rc_slide_batch_count ("1,25%", 0, 8), 5);
    ck_assert_int_eq (rc_slide_batch_count ("x", 3, 8), -1);

    /* the phase, from the row's batch count alone (a restart resumes it) */
    rc_deployment_t dep;
    memset (&dep, 0, sizeof dep);
    strcpy (dep.batch_spec, "1,10%");
    dep.window_hosts = 4;
    dep.batch = 1;
    ck_assert (!rc_slide_phase (&dep) && !rc_slide_next_is_window (&dep));
    dep.batch = 2;
    ck_assert (!rc_slide_phase (&dep) && rc_slide_next_is_window (&dep));
    dep.batch = 3;
    ck_assert (rc_slide_phase (&dep) && rc_slide_next_is_window (&dep));
    dep.window_hosts = 0; /* fixed batches: never a window */
    ck_assert (!rc_slide_phase (&dep) && !rc_slide_next_is_window (&dep));

    /* room: what the window has left, never below zero */
    ck_assert_int_eq (rc_slide_room (4, 0), 4);
    ck_assert_int_eq (rc_slide_room (4, 3), 1);
    ck_assert_int_eq (rc_slide_room (4, 4), 0);
    ck_assert_int_eq (rc_slide_room (4, 6), 0); /* run-once steps and held hosts count too */

    /* rollback batch: --rollback-batch, else the largest batch or the
       window */
    dep.window_hosts = 0;
    strcpy (dep.batch_spec, "1,25%");
    ck_assert_int_eq (rc_slide_rollback_size (&dep, 20), 5);
    strcpy (dep.batch_spec, "1,50%,10%");
    ck_assert_int_eq (rc_slide_rollback_size (&dep, 20), 10);
    strcpy (dep.batch_spec, "100");
    ck_assert_int_eq (rc_slide_rollback_size (&dep, 20), 20); /* no more than the hosts */
    strcpy (dep.batch_spec, "1");
    dep.window_hosts = 7;
    ck_assert_int_eq (rc_slide_rollback_size (&dep, 20), 7);
    strcpy (dep.rollback_spec, "3");
    ck_assert_int_eq (rc_slide_rollback_size (&dep, 20), 3);
    strcpy (dep.rollback_spec, "50%");
    ck_assert_int_eq (rc_slide_rollback_size (&dep, 5), 3);

    /* the plan walks as the engine does: the canary, then the window's
       batch over every host left; a rollback goes last updated first */
    rc_plan_member_t members[] = {
        {"h-1", true, true}, {"h-2", true, true}, {"h-3", true, true}, {"h-4", true, true}};
    Rollclone__PlanReply *plan = rc_plan_new ("deploy", "web", "v2");
    rc_plan_walk_t walk = {.batch_spec = "1",
                           .total = 4,
                           .progress_deadline_ms = 1000,
                           .unavailable_takes_slot = true,
                           .window_hosts = 2};
    ck_assert_int_eq (rc_plan_walk (plan, &walk, members, 4), 0);
    ck_assert_uint_eq (plan->n_batches, 2);
    ck_assert_uint_eq (plan->batches[0]->n_host_ids, 1);
    ck_assert_uint_eq (plan->batches[1]->n_host_ids, 3);
    rollclone__plan_reply__free_unpacked (plan, NULL);
    plan = rc_plan_new ("rollback", "web", "");
    walk = (rc_plan_walk_t){.batch_spec = "3", .total = 4, .reverse = true};
    ck_assert_int_eq (rc_plan_walk (plan, &walk, members, 4), 0);
    ck_assert_uint_eq (plan->n_batches, 2);
    ck_assert_str_eq (plan->batches[0]->host_ids[0], "h-4");
    ck_assert_str_eq (plan->batches[0]->host_ids[2], "h-2");
    ck_assert_str_eq (plan->batches[1]->host_ids[0], "h-1");
    rollclone__plan_reply__free_unpacked (plan, NULL);

    /* the request: bad values refused with a line naming the option */
    Rollclone__DeployRequest req = ROLLCLONE__DEPLOY_REQUEST__INIT;
    char err[256];
    ck_assert_int_eq (rc_slide_check (&req, err, sizeof err), 0);
    ck_assert_str_eq (rc_slide_batch_spec (&req, "1,25%"), "1,25%");
    req.window = (char *)"10%";
    ck_assert_int_eq (rc_slide_check (&req, err, sizeof err), 0);
    ck_assert_str_eq (rc_slide_batch_spec (&req, "1,25%"), RC_SLIDE_DEFAULT_RAMP);
    req.batch = (char *)"2,5";
    ck_assert_str_eq (rc_slide_batch_spec (&req, "1,25%"), "2,5");
    req.window = (char *)"0";
    ck_assert_int_eq (rc_slide_check (&req, err, sizeof err), -1);
    ck_assert (strstr (err, "--window '0'") != NULL);
    req.window = (char *)"1,10%";
    ck_assert_int_eq (rc_slide_check (&req, err, sizeof err), -1);
    ck_assert (strstr (err, "a ramp goes in --batch") != NULL);
    req.window = (char *)"3";
    req.rollback_batch = (char *)"200%";
    ck_assert_int_eq (rc_slide_check (&req, err, sizeof err), -1);
    ck_assert (strstr (err, "--rollback-batch '200%'") != NULL);
    req.rollback_batch = (char *)"2";
    char *checks[] = {(char *)"errors"};
    req.checks = checks;
    req.n_checks = 1;
    ck_assert_int_eq (rc_slide_check (&req, err, sizeof err), -1);
    ck_assert (strstr (err, "--window cannot go with --check") != NULL);
}
