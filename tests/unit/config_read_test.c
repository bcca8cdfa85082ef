/*  config_read_test.c - rc_config reads a file as written: inline ';' and
    '#' kept in command lines, comments after a blank cut elsewhere, long lines whole or refused
   with their line number (never split), one releases_dir per app, and what --check adds. */
#include "rc_check_config.h"
#include "rc_config.h"
#include "selftests.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir[] = "/tmp/rc_config_read.XXXXXX";
static char s_path[600];

/* An agent config: the required [agent] keys (6 lines), then body. */
static rc_config_t *
s_load (const char *body, char *err, size_t errlen)
{
    FILE *f = fopen (s_path, "w");
    ck_assert_ptr_nonnull (f);
    fprintf (f,
             "[agent]\nid = t\ncoordinator_endpoint = tcp://127.0.0.1:1\n"
             "coordinator_publish_endpoint = tcp://127.0.0.1:2\n"
             "coordinator_public_key = k\nsecret_key = k_secret\n%s",
             body);
    fclose (f);
    return rc_config_load (s_path, RC_ROLE_AGENT, err, errlen);
}

void
rc_config_read_test (bool verbose)
{
    (void)verbose;
    char err[1024], key[700], line[RC_CONFIG_LINE_MAX + 64];
    ck_assert_ptr_nonnull (mkdtemp (s_dir));
    snprintf (s_path, sizeof s_path, "%s/agent.conf", s_dir);
    snprintf (key, sizeof key, "%s/k", s_dir);
    ck_assert_int_eq (rc_keys_generate (key, err, sizeof err), 0);

    /* ';' and '#' inside values are text; comment lines are comments */
    rc_config_t *cfg = s_load ("; comment\n# comment\n[app web] ; after a section\n"
                               "releases_dir = /srv/web\n  # indented comment\n"
                               "restart = systemctl stop app ; systemctl start app\n"
                               "install = make # all;done\nhealth_body = ;#\n",
                               err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    const rc_app_config_t *app = rc_config_app (cfg, "web");
    ck_assert_ptr_nonnull (app);
    ck_assert_str_eq (app->restart, "systemctl stop app ; systemctl start app");
    ck_assert_str_eq (app->install, "make # all;done");
    ck_assert_str_eq (app->health_body, ";#");
    rc_config_destroy (&cfg);

    /* inline comments after a value (a blank before the '#' or ';') in
       every section but command lines; a '#' or ';' right after text is
       text (a URL's fragment) */
    cfg = s_load ("heartbeat_interval = 2s   # how often\nlabels = role=web ; tier\n"
                  "[app web]\nreleases_dir = /srv/web\t# where\nkeep_releases = 4 ; four\n"
                  "health_url = http://127.0.0.1:1/health#top # the page\n"
                  "install = make # all\nrun_once_x = ./migrate ; ./seed # both\n",
                  err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    ck_assert_int_eq (cfg->heartbeat_interval_ms, 2000);
    ck_assert_str_eq (cfg->labels_text, "role=web");
    app = rc_config_app (cfg, "web");
    ck_assert_str_eq (app->releases_dir, "/srv/web");
    ck_assert_int_eq (app->keep_releases, 4);
    ck_assert_str_eq (app->health_url, "http://127.0.0.1:1/health#top");
    ck_assert_str_eq (app->install, "make # all");
    ck_assert_str_eq (rc_app_run_once (app, "x"), "./migrate ; ./seed # both");
    rc_config_destroy (&cfg);
    /* a comment is not a value */
    cfg = s_load ("heartbeat_interval = # none\n", err, sizeof err);
    ck_assert_ptr_null (cfg);
    ck_assert_msg (strstr (err, "heartbeat_interval"), "%s", err);

    /* a line past libinih's old 200-byte buffer is one line */
    memset (line, 'x', sizeof line);
    int n = snprintf (line, sizeof line, "[app web]\nreleases_dir = /srv/web\ninstall = true ");
    memset (line + n, 'x', 300);
    snprintf (line + n + 300, sizeof line - (size_t)n - 300, "restart = touch /tmp/X\n");
    cfg = s_load (line, err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    app = rc_config_app (cfg, "web");
    ck_assert_ptr_null (app->restart);
    ck_assert_uint_eq (strlen (app->install), 5 + 300 + 22);
    rc_config_destroy (&cfg);

    /* exactly the limit is read; one more is refused with its line */
    n = snprintf (line, sizeof line, "[app web]\nreleases_dir = /srv/web\n");
    int key_len = (int)strlen ("install = ");
    snprintf (line + n, sizeof line - (size_t)n, "install = %0*d\n", RC_CONFIG_LINE_MAX - key_len,
              0);
    cfg = s_load (line, err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    rc_config_destroy (&cfg);
    snprintf (line + n, sizeof line - (size_t)n, "install = %0*d\nrestart = x\n",
              RC_CONFIG_LINE_MAX - key_len + 1, 0);
    cfg = s_load (line, err, sizeof err);
    ck_assert_ptr_null (cfg);
    ck_assert_msg (strstr (err, ":9: line is 4097 characters long, longer than the 4096"), "%s",
                   err);

    /* bytes the reader stands in for ';' and '#' cannot come from the file */
    cfg = s_load ("[app web]\nreleases_dir = /srv/web\nrestart = a\x1e"
                  "b\n",
                  err, sizeof err);
    ck_assert_ptr_null (cfg);
    ck_assert_msg (strstr (err, ":9: control character 0x1e"), "%s", err);

    /* one releases_dir per app, however it is written */
    cfg = s_load ("[app a]\nreleases_dir = /srv/x\n[app b]\nreleases_dir = /srv//y/../x/.\n", err,
                  sizeof err);
    ck_assert_ptr_null (cfg);
    ck_assert_msg (strstr (err, ":10: [app b] releases_dir = '/srv/x' overlaps [app a]'s "
                                "releases_dir = '/srv/x' (line 8)"),
                   "%s", err);
    cfg = s_load ("[app a]\nreleases_dir = /srv/x/releases/b\n[app b]\nreleases_dir = /srv/x\n",
                  err, sizeof err);
    ck_assert_ptr_null (cfg);
    cfg = s_load ("[app a]\nreleases_dir = /srv/x\n[app b]\nreleases_dir = /srv/xy/\n", err,
                  sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    ck_assert_str_eq (rc_config_app (cfg, "b")->releases_dir, "/srv/xy");
    rc_config_destroy (&cfg);

    /* --check: the agent's apps' users exist */
    cfg = s_load ("[app a]\nreleases_dir = /srv/x\nuser = no-such-user-rc\n", err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    ck_assert_int_eq (rc_config_check (cfg, err, sizeof err), -1);
    ck_assert_msg (strstr (err, "[app a] user = 'no-such-user-rc': no such user"), "%s", err);
    rc_config_destroy (&cfg);

    /* run_once_NAME keys: a prefix, NAME the operator's; each once */
    cfg = s_load ("[app web]\nreleases_dir = /srv/web\nrun_once_migrate = ./manage migrate\n"
                  "run_once_smoke-test_2 = curl -f localhost\n",
                  err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    app = rc_config_app (cfg, "web");
    ck_assert_uint_eq (app->run_once_count, 2);
    ck_assert_str_eq (rc_app_run_once (app, "migrate"), "./manage migrate");
    ck_assert_str_eq (rc_app_run_once (app, "smoke-test_2"), "curl -f localhost");
    ck_assert_ptr_null (rc_app_run_once (app, "smoke"));
    rc_config_destroy (&cfg);
    const struct {
        const char *body, *error;
    } once_bad[] = {
        {"run_once_migrate = a\nrun_once_migrate = b\n", "key 'run_once_migrate' given twice"},
        {"run_once_ = a\n", "run_once_: the name after run_once_ must be"},
        {"run_once_a.b = a\n", "run_once_a.b: the name after run_once_ must be"},
        {"run_once_x =\n", "run_once_x is empty"},
    };
    for (size_t i = 0; i < sizeof once_bad / sizeof once_bad[0]; i++) {
        snprintf (line, sizeof line, "[app web]\nreleases_dir = /srv/web\n%s", once_bad[i].body);
        cfg = s_load (line, err, sizeof err);
        ck_assert_ptr_null (cfg);
        ck_assert_msg (strstr (err, once_bad[i].error), "%s", err);
    }
    /* a run_once_ key in [agent] is unknown there */
    cfg = s_load ("run_once_x = y\n", err, sizeof err);
    ck_assert_ptr_null (cfg);
    ck_assert_msg (strstr (err, "unknown key 'run_once_x' in [agent]"), "%s", err);

    /* --check: the coordinator's key directories exist */
    FILE *f = fopen (s_path, "w");
    ck_assert_ptr_nonnull (f);
    fprintf (f, "[coordinator]\nsecret_key = k_secret\nagent_keys_dir = agents\n"
                "operator_keys_dir = .\ndata_dir = data\n");
    fclose (f);
    cfg = rc_config_load (s_path, RC_ROLE_COORDINATOR, err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    ck_assert_int_eq (rc_config_check (cfg, err, sizeof err), -1);
    ck_assert_msg (strstr (err, "agent_keys_dir") && strstr (err, "No such file"), "%s", err);
    snprintf (line, sizeof line, "%s/agents", s_dir);
    ck_assert_int_eq (mkdir (line, 0700), 0);
    ck_assert_int_eq (rc_config_check (cfg, err, sizeof err), 0);
    rc_config_destroy (&cfg);

    /* the coordinator's sections: [check] (its query whole) and [webhook] */
    f = fopen (s_path, "w");
    ck_assert_ptr_nonnull (f);
    fprintf (f, "[coordinator]\nsecret_key = k_secret\nagent_keys_dir = agents\n"
                "operator_keys_dir = .\ndata_dir = data\noffline_after = 20s ; grace\n"
                "[check error-rate]\nprometheus = http://127.0.0.1:9090  # local\n"
                "query = up{job=\"a #b\"} # as written\nmax = 0.01\ninterval = 10s\n"
                "failures = 2          # consecutive failing evaluations\n"
                "[webhook ops]\nurl = https://hooks.example.org/x#frag  ; the receiver\n"
                "secret = s3cr#t;x # signs\nformat = slack\t# for Mattermost\n");
    fclose (f);
    cfg = rc_config_load (s_path, RC_ROLE_COORDINATOR, err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    ck_assert_int_eq (cfg->offline_after_ms, 20000);
    const rc_check_config_t *c = rc_check_config_find (cfg->checks, cfg->check_count, "error-rate");
    ck_assert_ptr_nonnull (c);
    ck_assert_str_eq (c->prometheus, "http://127.0.0.1:9090");
    ck_assert_str_eq (c->query, "up{job=\"a #b\"} # as written");
    ck_assert_int_eq (c->failures, 2);
    ck_assert_int_eq (c->interval_ms, 10000);
    ck_assert_uint_eq (cfg->webhook_count, 1);
    ck_assert_str_eq (cfg->webhooks[0].url, "https://hooks.example.org/x#frag");
    ck_assert_str_eq (cfg->webhooks[0].secret, "s3cr#t;x");
    ck_assert_int_eq (cfg->webhooks[0].format, RC_WEBHOOK_SLACK);
    rc_config_destroy (&cfg);

    snprintf (line, sizeof line, "rm -rf '%s'", s_dir);
    ck_assert_int_eq (system (line), 0);
}
