/*  slots_test.c - surge clones' slot state (agent/slots.h): which slot an
    update starts on, when a release counts as warm, the warm deadline
    across a restart and a clock set back, the state kept in state_dir
    (and a state file that is not ours refused), the slot links and the
    hook environment, and haproxy_server naming a slot's server. */
#include "journal.h"
#include "rc_config.h"
#include "releases.h"
#include "selftests.h"
#include "slots.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
test_idle_and_warm (void)
{
    rc_slots_t s = {0};
    ck_assert_uint_eq (rc_slots_idle (&s), 1); /* first release: slot 1 */
    s.serving = 1;
    ck_assert_uint_eq (rc_slots_idle (&s), 2);
    s.serving = 2;
    ck_assert_uint_eq (rc_slots_idle (&s), 1);
    ck_assert (!rc_slots_warm (&s, "v1", 1000));
    snprintf (s.warm_version, sizeof s.warm_version, "v1");
    s.warm_until_ms = 5000;
    ck_assert (rc_slots_warm (&s, "v1", 4999));
    ck_assert (!rc_slots_warm (&s, "v1", 5000)); /* keep_warm is over */
    ck_assert (!rc_slots_warm (&s, "v2", 1000)); /* another release */
    s.serving = 0;
    ck_assert (rc_slots_warm (&s, "v1", 1000)); /* staged before anything served */
}

/* The deadline is wall clock on disk, monotonic in the loop: what is left,
   never more than keep_warm (a clock set back or a lower keep_warm after
   a restart), never less than now. */
static void
test_warm_at (void)
{
    rc_slots_t s = {.serving = 2, .warm_version = "v1", .warm_until_ms = 10000};
    ck_assert_int_eq (rc_slots_warm_at (&s, 60000, 4000, 100), 100 + 6000);
    ck_assert_int_eq (rc_slots_warm_at (&s, 2000, 4000, 100), 100 + 2000);
    ck_assert_int_eq (rc_slots_warm_at (&s, 60000, 20000, 100), 100);
    s.warm_until_ms = 1000000000; /* the clock was far behind when it was written */
    ck_assert_int_eq (rc_slots_warm_at (&s, 60000, 4000, 100), 100 + 60000);
    s.warm_version[0] = '\0';
    ck_assert_int_eq (rc_slots_warm_at (&s, 60000, 4000, 100), INT64_MAX);
}

static void
test_state_file (void)
{
    char dir[] = "/tmp/rc_slots_test.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char err[256], path[PATH_MAX];
    rc_journal_t *j = rc_journal_new (dir, err, sizeof err);
    ck_assert_ptr_nonnull (j);
    rc_slots_t s;
    rc_slots_load (j, "web", &s);
    ck_assert_uint_eq (s.serving, 0);
    ck_assert_str_eq (s.warm_version, "");
    rc_slots_t w = {.serving = 2, .warm_version = "v1", .warm_until_ms = 123456};
    ck_assert_int_eq (rc_slots_save (j, "web", &w), 0);
    rc_journal_destroy (&j);
    j = rc_journal_new (dir, err, sizeof err);
    rc_slots_load (j, "web", &s);
    ck_assert_uint_eq (s.serving, 2);
    ck_assert_str_eq (s.warm_version, "v1");
    ck_assert_int_eq (s.warm_until_ms, 123456);
    /* another app's file under this name, and garbage: taken as none */
    snprintf (path, sizeof path, "%s/slots/web.pb", dir);
    char other[PATH_MAX];
    snprintf (other, sizeof other, "%s/slots/api.pb", dir);
    ck_assert_int_eq (link (path, other), 0);
    ck_assert_ptr_null (rc_journal_read_slots (j, "api"));
    ck_assert_ptr_nonnull (strstr (rc_journal_errmsg (j), "another app"));
    rc_slots_load (j, "api", &s);
    ck_assert_uint_eq (s.serving, 0);
    FILE *f = fopen (path, "wb");
    ck_assert_ptr_nonnull (f);
    fputs ("\x0a\x03web\x40\x07", f); /* app "web", slot 7 */
    fclose (f);
    ck_assert_ptr_null (rc_journal_read_slots (j, "web"));
    ck_assert_ptr_nonnull (strstr (rc_journal_errmsg (j), "slot out of range"));
    rc_journal_destroy (&j);
    char cmd[PATH_MAX + 16];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}

/* Each slot's link points at its release; the hook gets the slot, its port
   and its link; an app without slots gets none of them. */
static void
test_links_and_env (void)
{
    char dir[] = "/tmp/rc_slots_link.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char path[PATH_MAX], err[256];
    snprintf (path, sizeof path, "%s/releases", dir);
    ck_assert_int_eq (mkdir (path, 0755), 0);
    snprintf (path, sizeof path, "%s/releases/v1", dir);
    ck_assert_int_eq (mkdir (path, 0755), 0);
    ck_assert_int_eq (rc_slots_link (dir, 2, "v1", err, sizeof err), 0);
    char *target = rc_releases_link_target (dir, "slot2");
    ck_assert_str_eq (target, "v1");
    free (target);
    ck_assert_int_eq (rc_slots_link (dir, 1, "v9", err, sizeof err), -1);
    ck_assert_ptr_nonnull (strstr (err, "v9"));
    ck_assert_int_eq (rc_slots_link (dir, 2, NULL, err, sizeof err), 0);
    ck_assert_ptr_null (rc_releases_link_target (dir, "slot2"));

    rc_app_config_t app = {
        .name = "web", .releases_dir = dir, .slot_ports = {8080, 8081}, .slot_count = 2};
    char *env[RC_SLOTS_ENV_VARS + 1] = {NULL};
    size_t at = 0;
    rc_slots_env (&app, 2, env, &at);
    ck_assert_uint_eq (at, 3);
    ck_assert_str_eq (env[0], "ROLLCLONE_SLOT=2");
    ck_assert_str_eq (env[1], "ROLLCLONE_PORT=8081");
    snprintf (path, sizeof path, "ROLLCLONE_SLOT_DIR=%s/slot2", dir);
    ck_assert_str_eq (env[2], path);
    rc_slots_env_free (env, at);
    ck_assert_uint_eq (rc_slots_port (&app, 1), 8080);
    ck_assert_uint_eq (rc_slots_port (&app, 0), 0);
    app.slot_count = 0;
    at = 0;
    rc_slots_env (&app, 1, env, &at);
    ck_assert_uint_eq (at, 0);
    char cmd[PATH_MAX + 16];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}

/* haproxy_server may name a slot's server: {slot} and {port}, nothing
   else in braces. */
static void
test_server_patterns (void)
{
    char **servers = NULL;
    size_t count = 0;
    char err[128];
    ck_assert_int_eq (
        rc_config_lb_servers ("web/app1-{slot} api/h:{port}", &servers, &count, err, sizeof err),
        0);
    ck_assert_uint_eq (count, 2);
    ck_assert_str_eq (servers[0], "web/app1-{slot}");
    ck_assert_str_eq (servers[1], "api/h:{port}");
    for (size_t i = 0; i < count; i++)
        free (servers[i]);
    free (servers);
    const char *bad[] = {"web/a-{slot", "web/a-{name}", "web/{}", "web/a}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg (rc_config_lb_servers (bad[i], &servers, &count, err, sizeof err) == -1,
                       "accepted '%s'", bad[i]);
}

void
rc_slots_test (bool verbose)
{
    (void)verbose;
    test_idle_and_warm ();
    test_warm_at ();
    test_state_file ();
    test_links_and_env ();
    test_server_patterns ();
}
