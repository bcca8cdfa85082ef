/*  executor_test.c - the selftest of the executor actor (agent/executor.c),
    through its pipe only: update, a failing update put back, rollback, a
    repeated step answered from the journal, bad input refused, STATE, and
    a coordinator's executor's artifact policy; a step's health checks
    ramp up to health_interval. */
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

/* The health_timeout of the steps s_test_step_sha sends. */
static int64_t s_health_timeout_ms = 2000;

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
    inst.health_timeout_ms = s_health_timeout_ms;
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

/* The STATE answer (a HEALTH message may come first). Caller frees. */
static Rollclone__Heartbeat *
s_test_state (zactor_t *exec)
{
    zstr_send (exec, "STATE");
    char *command = NULL;
    zframe_t *frame = NULL;
    while (!command || !streq (command, "STATE")) {
        free (command);
        zframe_destroy (&frame);
        command = zstr_recv (exec);
        ck_assert (command);
        frame = zsock_rcvmore (exec) ? zframe_recv (exec) : NULL;
    }
    ck_assert (frame);
    Rollclone__Heartbeat *hb =
        rollclone__heartbeat__unpack (NULL, zframe_size (frame), zframe_data (frame));
    ck_assert (hb && hb->n_apps == 1);
    zframe_destroy (&frame);
    free (command);
    return hb;
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

    Rollclone__Heartbeat *hb = s_test_state (exec);
    ck_assert (streq (hb->apps[0]->current, "v1") && !hb->apps[0]->busy);
    rollclone__heartbeat__free_unpacked (hb, NULL);
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

/* Selftest: after the restart hook, health checks come at once, then
   after 10, 20, 40... ms until one passes: an app that comes up ~300 ms
   after its hook returned is healthy within a health_timeout (4 s) far
   shorter than its health_interval (10 s), where checks every interval
   (the first at once, failing) would fail the step. */
void
rc_executor_ramp_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_executor_ramp.XXXXXX";
    ck_assert (mkdtemp (dir));
    char cmd[PATH_MAX + 128], url[PATH_MAX], releases[PATH_MAX], state[PATH_MAX], now[64];
    snprintf (cmd, sizeof cmd, "cd %s && mkdir a && echo 1 > a/x && tar -czf v1.tgz -C a .", dir);
    ck_assert (system (cmd) == 0);
    snprintf (url, sizeof url, "file://%s/v1.tgz", dir);
    snprintf (releases, sizeof releases, "%s/srv", dir);
    snprintf (state, sizeof state, "%s/state", dir);
    char restart[PATH_MAX + 64], health[PATH_MAX + 32];
    /* the app: up 300 ms after the hook returned */
    snprintf (restart, sizeof restart, "(sleep 0.3; touch %s/up) >/dev/null 2>&1 &", dir);
    snprintf (health, sizeof health, "test -f %s/up", dir);
    rc_app_config_t app = {.name = "web",
                           .releases_dir = releases,
                           .restart = restart,
                           .health_command = health,
                           .health_interval_ms = 10000,
                           .hook_timeout_ms = 5000,
                           .keep_releases = 2};
    rc_config_t cfg = {.state_dir = state, .apps = &app, .app_count = 1};
    char err[256];
    zactor_t *exec = rc_executor_new_local (&cfg, err, sizeof err);
    ck_assert (exec);
    s_health_timeout_ms = 4000;
    s_test_step (exec, "r1", ROLLCLONE__ACTION__ACTION_UPDATE, "v1", url);
    ck_assert (s_test_wait (exec, "r1", 1, now, sizeof now)
               == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED);
    s_health_timeout_ms = 2000;
    zactor_destroy (&exec);
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert (system (cmd) == 0);
}

/* How many lines of file are line. */
static int
s_test_lines (const char *file, const char *line)
{
    FILE *f = fopen (file, "r");
    int n = 0;
    char buf[256];
    while (f && fgets (buf, sizeof buf, f)) {
        buf[strcspn (buf, "\n")] = '\0';
        n += streq (buf, line);
    }
    if (f)
        fclose (f);
    return n;
}

/* The app's slot in STATE: serving slot, current, warm release. */
static void
s_test_slots (zactor_t *exec, unsigned slot, const char *current, const char *warm)
{
    Rollclone__Heartbeat *hb = s_test_state (exec);
    Rollclone__AppState *st = hb->apps[0];
    ck_assert_msg (st->slot == slot && streq (st->current, current)
                       && streq (st->warm_version, warm),
                   "slot %u current %s warm '%s'; wanted %u %s '%s'", st->slot, st->current,
                   st->warm_version, slot, current, warm);
    ck_assert_uint_eq (st->slot_port, slot == 1 ? 18080 : 18081);
    rollclone__heartbeat__free_unpacked (hb, NULL);
}

static int
s_test_run (zactor_t *exec, const char *id, int action, const char *version, const char *url)
{
    char now[64];
    s_test_step (exec, id, action, version, url);
    return s_test_wait (exec, id, 1, now, sizeof now);
}

/* Surge clones and blue-green through the executor (agent/slots.h): an
   update goes to the idle slot, the old one stays warm; a rollback to it
   restarts nothing and stops the slot it leaves; a stage runs the target
   on the idle slot out of traffic, a switch moves traffic to it and back
   with no restart; a switch to what is not staged is refused; a stage that
   never gets healthy stops its slot; keep_warm over, the stop hook runs. */
void
rc_executor_slots_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_executor_slots.XXXXXX";
    ck_assert (mkdtemp (dir));
    char cmd[1024], url[3][PATH_MAX];
    snprintf (cmd, sizeof cmd,
              "cd %s && mkdir -p a b c && echo 1 > a/ok && echo 2 > b/ok && echo 3 > c/x && "
              "tar -czf v1.tgz -C a . && tar -czf v2.tgz -C b . && tar -czf v3.tgz -C c .",
              dir);
    ck_assert (system (cmd) == 0);
    for (int i = 0; i < 3; i++)
        snprintf (url[i], sizeof url[i], "file://%s/v%d.tgz", dir, i + 1);
    char releases[PATH_MAX], state[PATH_MAX], log[PATH_MAX];
    snprintf (releases, sizeof releases, "%s/srv", dir);
    snprintf (state, sizeof state, "%s/state", dir);
    snprintf (log, sizeof log, "%s/hooks.log", dir);
    char restart[PATH_MAX + 96], stop[PATH_MAX + 96];
    snprintf (restart, sizeof restart,
              "echo restart $ROLLCLONE_VERSION $ROLLCLONE_SLOT $ROLLCLONE_PORT >> %s", log);
    snprintf (stop, sizeof stop, "echo stop $ROLLCLONE_VERSION $ROLLCLONE_SLOT >> %s", log);
    rc_app_config_t app = {.name = "web",
                           .releases_dir = releases,
                           .restart = restart,
                           .stop = stop,
                           .health_command = "test -f ok",
                           .health_interval_ms = 500,
                           .hook_timeout_ms = 5000,
                           .keep_releases = 2,
                           .slot_ports = {18080, 18081},
                           .slot_count = 2,
                           .keep_warm_ms = 600000};
    rc_config_t cfg = {.state_dir = state, .apps = &app, .app_count = 1};
    char err[256];
    zactor_t *exec = rc_executor_new_local (&cfg, err, sizeof err);
    ck_assert (exec);
    const int ok = ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED;
    const int failed = ROLLCLONE__STEP_REPORT__RESULT__FAILED;
    ck_assert_int_eq (s_test_run (exec, "s1", ROLLCLONE__ACTION__ACTION_UPDATE, "v1", url[0]), ok);
    s_test_slots (exec, 1, "v1", "");
    ck_assert_int_eq (s_test_run (exec, "s2", ROLLCLONE__ACTION__ACTION_UPDATE, "v2", url[1]), ok);
    s_test_slots (exec, 2, "v2", "v1");
    ck_assert_int_eq (s_test_lines (log, "restart v2 2 18081"), 1);
    /* rollback within keep_warm: nothing restarted, the slot left stopped */
    ck_assert_int_eq (s_test_run (exec, "s3", ROLLCLONE__ACTION__ACTION_ROLLBACK, "v1", ""), ok);
    s_test_slots (exec, 1, "v1", "");
    ck_assert_int_eq (s_test_lines (log, "restart v1 1 18080"), 1);
    ck_assert_int_eq (s_test_lines (log, "stop v2 2"), 1);
    /* blue-green: stage (no traffic), switch, switch back: one restart */
    ck_assert_int_eq (s_test_run (exec, "s4", ROLLCLONE__ACTION__ACTION_STAGE, "v2", url[1]), ok);
    s_test_slots (exec, 1, "v1", "v2");
    ck_assert_int_eq (s_test_lines (log, "restart v2 2 18081"), 2);
    ck_assert_int_eq (s_test_run (exec, "s5", ROLLCLONE__ACTION__ACTION_SWITCH, "v2", ""), ok);
    s_test_slots (exec, 2, "v2", "v1");
    ck_assert_int_eq (s_test_run (exec, "s6", ROLLCLONE__ACTION__ACTION_SWITCH, "v1", ""), ok);
    s_test_slots (exec, 1, "v1", "v2");
    ck_assert_int_eq (s_test_lines (log, "restart v2 2 18081"), 2);
    ck_assert_int_eq (s_test_lines (log, "restart v1 1 18080"), 1);
    ck_assert_int_eq (s_test_lines (log, "stop v2 2"), 1);
    /* not staged: refused, nothing changes */
    ck_assert_int_eq (s_test_run (exec, "s7", ROLLCLONE__ACTION__ACTION_SWITCH, "v9", ""), failed);
    s_test_slots (exec, 1, "v1", "v2");
    /* a stage that never gets healthy: its slot stopped, traffic untouched */
    ck_assert_int_eq (s_test_run (exec, "s8", ROLLCLONE__ACTION__ACTION_STAGE, "v3", url[2]),
                      failed);
    s_test_slots (exec, 1, "v1", "");
    ck_assert_int_eq (s_test_lines (log, "stop v3 2"), 1);
    zactor_destroy (&exec);
    /* keep_warm over: the stop hook of the slot left */
    app.keep_warm_ms = 200;
    exec = rc_executor_new_local (&cfg, err, sizeof err);
    ck_assert (exec);
    ck_assert_int_eq (s_test_run (exec, "s9", ROLLCLONE__ACTION__ACTION_UPDATE, "v2", url[1]), ok);
    for (int i = 0; i < 100 && s_test_lines (log, "stop v1 1") == 0; i++)
        usleep (50000);
    ck_assert_int_eq (s_test_lines (log, "stop v1 1"), 1);
    for (int i = 0; i < 100; i++) {
        Rollclone__Heartbeat *hb = s_test_state (exec);
        bool cold = !*hb->apps[0]->warm_version;
        rollclone__heartbeat__free_unpacked (hb, NULL);
        if (cold)
            break;
        usleep (50000);
    }
    s_test_slots (exec, 2, "v2", "");
    zactor_destroy (&exec);
    /* an app without slots: stage and switch refused */
    app.slot_count = 0;
    app.stop = NULL;
    exec = rc_executor_new_local (&cfg, err, sizeof err);
    ck_assert (exec);
    ck_assert_int_eq (s_test_run (exec, "s10", ROLLCLONE__ACTION__ACTION_SWITCH, "v1", ""), failed);
    zactor_destroy (&exec);
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert (system (cmd) == 0);
}
