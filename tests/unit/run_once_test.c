/*  run_once_test.c - the agent's run-once steps (agent/run_once.c), through
    the executor's pipe only, as a coordinator's instructions reach it: a
    command runs once with its output and exit code reported, a repeat is
    answered from the journal, a failure and an unknown NAME are FAILED
    with a clear error, and an executor stopped mid-run leaves a FAILED
    answer that the next one gives instead of running it again. */
#include "executor.h"
#include "rc_defaults.h"
#include "rc_ids.h"
#include "rollclone.pb-c.h"
#include "run_once.h"
#include "selftests.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_send (zactor_t *exec, const char *id, uint32_t step, const char *name)
{
    Rollclone__Instruction inst = ROLLCLONE__INSTRUCTION__INIT;
    inst.deployment_id = (char *)id;
    inst.step = step;
    inst.action = ROLLCLONE__ACTION__ACTION_RUN_ONCE;
    inst.app = "web";
    inst.version = "v9";
    inst.run_once = (char *)name;
    zframe_t *frame = zframe_new (NULL, rollclone__instruction__get_packed_size (&inst));
    rollclone__instruction__pack (&inst, zframe_data (frame));
    zstr_sendm (exec, "STEP");
    zframe_send (&frame, exec, 0);
}

/* The next REPORT of (id, step): the first RUNNING one when running, else
   the final one. Caller frees. */
static Rollclone__StepReport *
s_wait (zactor_t *exec, const char *id, uint32_t step, bool running)
{
    while (true) {
        zmsg_t *msg = zmsg_recv (exec);
        ck_assert_ptr_nonnull (msg);
        char *command = zmsg_popstr (msg);
        Rollclone__StepReport *r = NULL;
        if (streq (command, "REPORT")) {
            zframe_t *frame = zmsg_pop (msg);
            r = rollclone__step_report__unpack (NULL, zframe_size (frame), zframe_data (frame));
            ck_assert_ptr_nonnull (r);
            zframe_destroy (&frame);
            bool final = r->result != ROLLCLONE__STEP_REPORT__RESULT__RUNNING;
            if (!streq (r->deployment_id, id) || r->step != step || final == running) {
                rollclone__step_report__free_unpacked (r, NULL);
                r = NULL;
            }
        }
        free (command);
        zmsg_destroy (&msg);
        if (r)
            return r;
    }
}

static int
s_lines (const char *path)
{
    FILE *f = fopen (path, "r");
    int n = 0;
    for (int c; f && (c = fgetc (f)) != EOF;)
        n += c == '\n';
    if (f)
        fclose (f);
    return n;
}

void
rc_run_once_test (bool verbose)
{
    (void)verbose;
    ck_assert (!rc_run_once_step (1));
    ck_assert (!rc_run_once_step (RC_RUN_ONCE_STEP_BASE));
    ck_assert (rc_run_once_step (RC_RUN_ONCE_STEP_BASE + 1));

    char dir[] = "/tmp/rc_run_once_test.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char releases[PATH_MAX], state[PATH_MAX], count[PATH_MAX], hello[PATH_MAX + 96],
        slow[PATH_MAX + 64];
    snprintf (releases, sizeof releases, "%s/srv", dir);
    snprintf (state, sizeof state, "%s/state", dir);
    snprintf (count, sizeof count, "%s/count", dir);
    snprintf (hello, sizeof hello,
              "echo x >> %s; echo hello $ROLLCLONE_RUN_ONCE $ROLLCLONE_VERSION", count);
    snprintf (slow, sizeof slow, "echo x >> %s; sleep 30", count);
    char *names[] = {"hello", "fail", "slow"};
    char *commands[] = {hello, "echo oops >&2; exit 4", slow};
    rc_app_config_t app = {.name = "web",
                           .releases_dir = releases,
                           .hook_timeout_ms = 20000,
                           .health_interval_ms = 60000,
                           .keep_releases = 2,
                           .run_once_names = names,
                           .run_once_commands = commands,
                           .run_once_count = 3};
    rc_config_t cfg = {.state_dir = state, .apps = &app, .app_count = 1};
    char err[256];
    zactor_t *exec = rc_executor_new (&cfg, err, sizeof err);
    ck_assert_msg (exec != NULL, "%s", err);
    uint32_t before = RC_RUN_ONCE_STEP_BASE + 1;

    /* runs once: output, exit code */
    s_send (exec, "d-1", before, "hello");
    Rollclone__StepReport *r = s_wait (exec, "d-1", before, false);
    ck_assert_msg (r->result == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED, "%d: %s", r->result,
                   r->error);
    ck_assert_int_eq (r->exit_code, 0);
    ck_assert_msg (strstr (r->output_tail, "hello hello v9"), "%s", r->output_tail);
    ck_assert_ptr_null (r->app_state); /* no release changed */
    rollclone__step_report__free_unpacked (r, NULL);
    /* re-published: the same answer, not a second run */
    s_send (exec, "d-1", before, "hello");
    r = s_wait (exec, "d-1", before, false);
    ck_assert_int_eq (r->result, ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED);
    rollclone__step_report__free_unpacked (r, NULL);
    ck_assert_int_eq (s_lines (count), 1);

    /* a failure: exit code, error, the output's tail */
    s_send (exec, "d-2", before, "fail");
    r = s_wait (exec, "d-2", before, false);
    ck_assert_int_eq (r->result, ROLLCLONE__STEP_REPORT__RESULT__FAILED);
    ck_assert_int_eq (r->exit_code, 4);
    ck_assert_str_eq (r->error, "run_once_fail exited with status 4");
    ck_assert_msg (strstr (r->output_tail, "oops"), "%s", r->output_tail);
    rollclone__step_report__free_unpacked (r, NULL);

    /* a NAME this app does not have; a NAME that is none */
    s_send (exec, "d-3", before, "nosuch");
    r = s_wait (exec, "d-3", before, false);
    ck_assert_int_eq (r->result, ROLLCLONE__STEP_REPORT__RESULT__FAILED);
    ck_assert_str_eq (r->error, "no run_once_nosuch in [app web]");
    rollclone__step_report__free_unpacked (r, NULL);
    s_send (exec, "d-3", before + 1, "rm -rf /");
    r = s_wait (exec, "d-3", before + 1, false);
    ck_assert_int_eq (r->result, ROLLCLONE__STEP_REPORT__RESULT__FAILED);
    ck_assert_msg (strstr (r->error, "is not valid"), "%s", r->error);
    rollclone__step_report__free_unpacked (r, NULL);

    /* stopped while it runs (as by a crash): the next executor answers
       FAILED and does not run it again */
    s_send (exec, "d-4", before, "slow");
    r = s_wait (exec, "d-4", before, true);
    rollclone__step_report__free_unpacked (r, NULL);
    /* the command has started for sure once it wrote its line */
    for (int i = 0; i < 500 && s_lines (count) < 2; i++)
        zclock_sleep (10);
    ck_assert_int_eq (s_lines (count), 2);
    zactor_destroy (&exec);
    exec = rc_executor_new (&cfg, err, sizeof err);
    ck_assert_msg (exec != NULL, "%s", err);
    s_send (exec, "d-4", before, "slow");
    r = s_wait (exec, "d-4", before, false);
    ck_assert_int_eq (r->result, ROLLCLONE__STEP_REPORT__RESULT__FAILED);
    ck_assert_msg (strstr (r->error, "the agent stopped while run_once_slow ran: not run again"),
                   "%s", r->error);
    rollclone__step_report__free_unpacked (r, NULL);
    ck_assert_int_eq (s_lines (count), 2);
    zactor_destroy (&exec);

    char cmd[PATH_MAX + 16];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}
