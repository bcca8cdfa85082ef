/*  executor_test.c - the selftest of the executor actor (agent/executor.c),
    through its pipe only: update, a failing update put back, rollback, a
    repeated step answered from the journal, bad input refused, STATE, and
    a coordinator's executor's artifact policy. */
#include "executor.h"
#include "rc_ids.h"
#include "rc_signature.h"
#include "rollclone.pb-c.h"
#include "selftests.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Waits for the final REPORT of (id, seq); returns its result. */
static int
s_test_wait (zactor_t *exec, const char *id, uint32_t seq, char *version_now, size_t len)
{
    while (true) {
        zmsg_t *msg = zmsg_recv (exec);
        ck_assert (msg);
        char *command = zmsg_popstr (msg);
        int result = -1;
        if (streq (command, "REPORT")) {
            zframe_t *frame = zmsg_pop (msg);
            Rollclone__StepReport *r =
                rollclone__step_report__unpack (NULL, zframe_size (frame), zframe_data (frame));
            ck_assert (r);
            if (streq (r->deployment_id, id) && r->step == seq
                && r->result != ROLLCLONE__STEP_REPORT__RESULT__RUNNING) {
                result = r->result;
                snprintf (version_now, len, "%s", r->version_now);
            }
            rollclone__step_report__free_unpacked (r, NULL);
            zframe_destroy (&frame);
        }
        free (command);
        zmsg_destroy (&msg);
        if (result >= 0)
            return result;
    }
}

static void
s_test_step_sha (zactor_t *exec, const char *id, int action, const char *version, const char *url,
                 const char *sha256)
{
    Rollclone__Instruction inst = ROLLCLONE__INSTRUCTION__INIT;
    inst.sha256 = (char *)sha256;
    inst.deployment_id = (char *)id;
    inst.step = 1;
    inst.action = action;
    inst.app = "web";
    inst.version = (char *)version;
    inst.artifact_url = (char *)url;
    inst.soak_ms = 1;
    inst.health_timeout_ms = 2000;
    zframe_t *frame = zframe_new (NULL, rollclone__instruction__get_packed_size (&inst));
    rollclone__instruction__pack (&inst, zframe_data (frame));
    zstr_sendm (exec, "STEP");
    zframe_send (&frame, exec, 0);
}

static void
s_test_step (zactor_t *exec, const char *id, int action, const char *version, const char *url)
{
    s_test_step_sha (exec, id, action, version, url, "");
}

/* Selftest: update, a failing update put back, rollback, a repeated step
   answered from the journal, STATE. */
void
rc_executor_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_executor_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    char cmd[1024], url1[PATH_MAX], url2[PATH_MAX], now[64];
    snprintf (cmd, sizeof cmd,
              "cd %s && mkdir -p a b && echo 1 > a/ok && echo 2 > b/x && "
              "tar -czf v1.tgz -C a . && tar -czf v2.tgz -C b .",
              dir);
    ck_assert (system (cmd) == 0);
    snprintf (url1, sizeof url1, "file://%s/v1.tgz", dir);
    snprintf (url2, sizeof url2, "file://%s/v2.tgz", dir);
    char releases[PATH_MAX], state[PATH_MAX], log[PATH_MAX];
    snprintf (releases, sizeof releases, "%s/srv", dir);
    snprintf (state, sizeof state, "%s/state", dir);
    snprintf (log, sizeof log, "%s/hooks.log", dir);
    char restart[PATH_MAX + 64];
    snprintf (restart, sizeof restart, "echo restart $ROLLCLONE_VERSION >> %s", log);

    rc_app_config_t app = {.name = "web",
                           .releases_dir = releases,
                           .restart = restart,
                           /* v2 has no "ok" file: unhealthy */
                           .health_command = "test -f ok",
                           /* also each check's time limit: under load (and
                              ASan) a shell may need more than 50 ms */
                           .health_interval_ms = 500,
                           .hook_timeout_ms = 5000,
                           .keep_releases = 2};
    rc_config_t cfg = {.state_dir = state, .apps = &app, .app_count = 1};
    /* the local operator's executor: any artifact, no sha256 needed */
    char err[256];
    zactor_t *exec = rc_executor_new_local (&cfg, err, sizeof err);
    ck_assert (exec);
    s_test_step (exec, "d1", ROLLCLONE__ACTION__ACTION_UPDATE, "v1", url1);
    ck_assert (s_test_wait (exec, "d1", 1, now, sizeof now)
               == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED);
    ck_assert (streq (now, "v1"));
    s_test_step (exec, "d2", ROLLCLONE__ACTION__ACTION_UPDATE, "v2", url2);
    ck_assert (s_test_wait (exec, "d2", 1, now, sizeof now)
               == ROLLCLONE__STEP_REPORT__RESULT__FAILED);
    ck_assert (streq (now, "v1"));
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/releases/v2", releases);
    ck_assert (access (path, F_OK) != 0);
    /* repeated: answered from the journal, not run again */
    s_test_step (exec, "d1", ROLLCLONE__ACTION__ACTION_UPDATE, "v1", url1);
    ck_assert (s_test_wait (exec, "d1", 1, now, sizeof now)
               == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED);
    /* bad input: refused at once */
    s_test_step (exec, "d3", ROLLCLONE__ACTION__ACTION_UPDATE, "../x", url1);
    ck_assert (s_test_wait (exec, "d3", 1, now, sizeof now)
               == ROLLCLONE__STEP_REPORT__RESULT__FAILED);
    s_test_step (exec, "d4", ROLLCLONE__ACTION__ACTION_ROLLBACK, "", "");
    ck_assert (s_test_wait (exec, "d4", 1, now, sizeof now)
               == ROLLCLONE__STEP_REPORT__RESULT__FAILED);

    zstr_send (exec, "STATE");
    char *command = NULL;
    zframe_t *frame = NULL;
    while (!command || !streq (command, "STATE")) {
        /* a HEALTH message may come first */
        free (command);
        zframe_destroy (&frame);
        command = zstr_recv (exec);
        ck_assert (command);
        frame = zsock_rcvmore (exec) ? zframe_recv (exec) : NULL;
    }
    ck_assert (frame);
    Rollclone__Heartbeat *hb =
        rollclone__heartbeat__unpack (NULL, zframe_size (frame), zframe_data (frame));
    ck_assert (hb && hb->n_apps == 1 && streq (hb->apps[0]->current, "v1") && !hb->apps[0]->busy);
    rollclone__heartbeat__free_unpacked (hb, NULL);
    zframe_destroy (&frame);
    free (command);
    zactor_destroy (&exec);

    /* a coordinator's executor: sha256 required, file:// only from
       artifact_sources (issue 8) */
    char sources[PATH_MAX + 16], sha[RC_SIGNATURE_SHA256_HEX + 1], path1[PATH_MAX];
    snprintf (path1, sizeof path1, "%s/v1.tgz", dir);
    ck_assert (rc_signature_file_sha256 (path1, sha, cmd, sizeof cmd) == 0);
    exec = rc_executor_new (&cfg, err, sizeof err);
    ck_assert (exec);
    s_test_step_sha (exec, "c1", ROLLCLONE__ACTION__ACTION_UPDATE, "v3", url1, sha);
    ck_assert (s_test_wait (exec, "c1", 1, now, sizeof now)
               == ROLLCLONE__STEP_REPORT__RESULT__FAILED);
    zactor_destroy (&exec);
    /* the config is read by the actor: changed only while none runs; no
       health check, so a loaded machine cannot fail the step on time */
    snprintf (sources, sizeof sources, "file://%s/", dir);
    app.artifact_sources = sources;
    app.health_command = NULL;
    exec = rc_executor_new (&cfg, err, sizeof err);
    ck_assert (exec);
    s_test_step (exec, "c2", ROLLCLONE__ACTION__ACTION_UPDATE, "v3", url1);
    ck_assert (s_test_wait (exec, "c2", 1, now, sizeof now)
               == ROLLCLONE__STEP_REPORT__RESULT__FAILED);
    s_test_step_sha (exec, "c3", ROLLCLONE__ACTION__ACTION_UPDATE, "v3", url1, sha);
    ck_assert (s_test_wait (exec, "c3", 1, now, sizeof now)
               == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED);
    ck_assert (streq (now, "v3"));
    zactor_destroy (&exec);
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert (system (cmd) == 0);
}
