/*  config_test.c - the selftest of common/rc_config.c, with Check's ck_assert (moved out of
    the program's code, and holding under -DNDEBUG). */
#include "rc_config.h"
#include "rc_addr.h"
#include "rc_defaults.h"
#include "rc_sources.h"
#include "rc_time.h"
#include "rc_webhook.h"
#include "rc_window.h"
#include "selftests.h"

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/*  Selftest: writes configs into a temporary directory and reads them. */

static void
s_write (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    ck_assert (f);
    fputs (text, f);
    fclose (f);
}

void
rc_config_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_config_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    char path[512], key[512], err[512];
    snprintf (key, sizeof key, "%s/agent.key", dir);
    ck_assert (rc_keys_generate (key, err, sizeof err) == 0);
    snprintf (path, sizeof path, "%s/agent.conf", dir);

    s_write (path, "[agent]\nid = web-1\ncoordinator_endpoint = tcp://127.0.0.1:7601\n"
                   "coordinator_publish_endpoint = tcp://127.0.0.1:7602\n"
                   "coordinator_public_key = agent.key\nsecret_key = agent.key_secret\n"
                   "labels = role=web,dc=eu1\nheartbeat_interval = 500ms\n"
                   "[app shop]\nreleases_dir = /srv/shop\nrestart = systemctl restart shop\n"
                   "keep_releases = 3\nmax_unpacked_bytes = 10M\nfetch_timeout = 2s\n"
                   "slots = 8080, 8081\nstop = kill-slot\n"
                   "[client]\ncontrol_endpoint = tcp://127.0.0.1:7603\n");
    rc_config_t *cfg = rc_config_load (path, RC_ROLE_AGENT, err, sizeof err);
    ck_assert (cfg);
    ck_assert (streq (cfg->id, "web-1") && cfg->heartbeat_interval_ms == 500);
    ck_assert (cfg->label_count == 2 && cfg->cert && strlen (cfg->server_key) == 40);
    const rc_app_config_t *app = rc_config_app (cfg, "shop");
    ck_assert (app && app->keep_releases == 3
               && app->hook_timeout_ms == RC_DEFAULT_HOOK_TIMEOUT_MS);
    ck_assert (app->max_unpacked_bytes == 10 * 1024 * 1024 && app->fetch_timeout_ms == 2000);
    ck_assert (app->max_artifact_bytes == RC_DEFAULT_MAX_ARTIFACT_BYTES);
    ck_assert (app->slot_count == 2 && app->slot_ports[0] == 8080 && app->slot_ports[1] == 8081);
    ck_assert (app->keep_warm_ms == RC_DEFAULT_KEEP_WARM_MS && streq (app->stop, "kill-slot"));
    ck_assert (!rc_config_app (cfg, "nope"));
    rc_config_destroy (&cfg);
    rc_config_destroy (&cfg);

    struct {
        const char *text;
        const char *expect;
    } bad[] = {
        {"[agent]\nbogus = 1\n", ":2: unknown key 'bogus' in [agent]"},
        {"[agent]\nsecret_key = nothere\n", ":2: [agent] secret_key: cannot read key"},
        {"[agent]\nheartbeat_interval = soon\n", ":2: [agent] heartbeat_interval = 'soon'"},
        {"[agent]\nid = ../etc\n", ":2: [agent] id = '../etc'"},
        {"[agent]\ncoordinator_endpoint = http://x\n", ":2: [agent] coordinator_endpoint"},
        {"[agent]\nsecret_key = agent.key_secret\n", "missing required key 'coordinator_endpoint'"},
        {"[server]\nport = 1\n", ":2: unknown section [server]"},
        {"[agent]\nthis is not ini\n", ":2: not 'key = value'"},
        {"[agent]\nmetrics_endpoint = :7604\n", ":2: [agent] metrics_endpoint = ':7604'"},
        {"[app x/y]\nreleases_dir = /a\n", ":2: [app x/y]: app name"},
        {"[app web]\nkeep_releases = 0\n", ":2: [app web] keep_releases"},
        {"[app web]\nmax_artifact_bytes = 10X\n", ":2: [app web] max_artifact_bytes = '10X'"},
        {"[app web]\nmax_unpacked_bytes = 0\n", ":2: [app web] max_unpacked_bytes = '0'"},
        {"[app web]\nmax_unpacked_bytes = 99999999T\n", "max_unpacked_bytes = '99999999T'"},
        {"[agent]\nlabels = a=1\nlabels = b=2\n", ":3: key 'labels' given twice"},
        {"[app web]\nartifact_sources = https://u@evil/\n", ":2: [app web] artifact_sources: "},
        {"[app web]\nartifact_sources = file:///srv/../etc/\n", ":2: [app web] artifact_sources"},
        {"[app web]\nlb = bogus\n", ":2: [app web] lb = 'bogus' is not a load balancer"},
        {"[app web]\nhaproxy_server = web\n", ":2: [app web] haproxy_server: 'web' is not"},
        {"[app web]\nhaproxy_server = a/b\nhaproxy_server = c/d\n",
         ":3: key 'haproxy_server' given twice"},
        {"[app web]\nhaproxy_socket = admin.sock\n", ":2: [app web] haproxy_socket = 'admin.sock'"},
        {"[app web]\nhaproxy_socket = tcp://127.0.0.1:0\n", ":2: [app web] haproxy_socket"},
        {"[app web]\ndrain_timeout = soon\n", ":2: [app web] drain_timeout = 'soon'"},
        {"[app web]\nslots = 8080\n", ":2: [app web] slots = '8080' must be two different ports"},
        {"[app web]\nslots = 8080,8080\n", ":2: [app web] slots = '8080,8080'"},
        {"[app web]\nslots = 8080,70000\n", ":2: [app web] slots = '8080,70000'"},
        {"[app web]\nslots = 8080,8081,8082\n", ":2: [app web] slots = '8080,8081,8082'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_write (path, bad[i].text);
        cfg = rc_config_load (path, RC_ROLE_AGENT, err, sizeof err);
        if (cfg || !strstr (err, bad[i].expect))
            fprintf (stderr, "case %zu: got '%s', want '%s'\n", i, err, bad[i].expect);
        ck_assert (!cfg && strstr (err, bad[i].expect));
        ck_assert (!strchr (err, '\n'));
    }
    ck_assert (!rc_config_load ("/nonexistent/x.conf", RC_ROLE_AGENT, err, sizeof err));
    ck_assert (strstr (err, "cannot open"));

    s_write (path, "[coordinator]\nsecret_key = agent.key_secret\nheartbeat_interval = 5s\n"
                   "offline_after = 2s\n");
    ck_assert (!rc_config_load (path, RC_ROLE_COORDINATOR, err, sizeof err));
    ck_assert (strstr (err, "offline_after must be longer"));
    s_write (path, "[coordinator]\nsecret_key = agent.key_secret\ndata_dir = data\n");
    cfg = rc_config_load (path, RC_ROLE_COORDINATOR, err, sizeof err);
    ck_assert (cfg && cfg->data_dir[0] == '/' && strstr (cfg->data_dir, "/data"));
    ck_assert (cfg->offline_after_ms == RC_DEFAULT_OFFLINE_AFTER_MS);
    ck_assert (cfg->event_retention_ms == RC_DEFAULT_EVENT_RETENTION_MS);
    ck_assert (cfg->deployment_retention == RC_DEFAULT_DEPLOYMENT_RETENTION);
    rc_config_destroy (&cfg);

    char cmd[600];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert (system (cmd) == 0);
}
