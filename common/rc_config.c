/*  rc_config.c - INI parsing with libinih, table-driven: each key has a type
    that says how its value is checked and where it is stored. */
#include "rc_config.h"
#include "rc_defaults.h"
#include "rc_time.h"

#include <assert.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum {
    T_STRING,   /* any text (hook command lines) */
    T_PATH,     /* a path; relative ones start at the config's directory */
    T_ENDPOINT, /* tcp:// or ipc:// */
    T_DURATION, /* 500ms, 10s, 5m, 1h */
    T_COUNT,    /* a whole number 1..RC_KEEP_MAX */
    T_NAME,     /* [A-Za-z0-9._+-]{1,64} */
    T_LABELS,   /* k=v,k=v */
    T_URL,      /* http:// or https:// */
    T_SECRET,   /* path of our key pair, loaded now */
    T_PUBLIC,   /* a peer's public key: Z85 text or a file, loaded now */
} s_type_t;

typedef enum { S_COORD = 1, S_AGENT = 2, S_CLIENT = 4, S_APP = 8 } s_section_t;

typedef struct {
    unsigned sections; /* where the key may stand */
    const char *name;
    s_type_t type;
    size_t offset; /* into rc_config_t, or rc_app_config_t for S_APP */
} s_key_t;

#define RC_KEEP_MAX 100
#define CFG(f) offsetof (rc_config_t, f)
#define APP(f) offsetof (rc_app_config_t, f)

static const s_key_t s_keys[] = {
    {S_COORD, "data_dir", T_PATH, CFG (data_dir)},
    {S_COORD, "agent_endpoint", T_ENDPOINT, CFG (agent_endpoint)},
    {S_COORD, "publish_endpoint", T_ENDPOINT, CFG (publish_endpoint)},
    {S_COORD | S_CLIENT, "control_endpoint", T_ENDPOINT, CFG (control_endpoint)},
    {S_COORD | S_AGENT | S_CLIENT, "secret_key", T_SECRET, CFG (secret_key)},
    {S_COORD, "agent_keys_dir", T_PATH, CFG (agent_keys_dir)},
    {S_COORD, "operator_keys_dir", T_PATH, CFG (operator_keys_dir)},
    {S_COORD | S_AGENT, "heartbeat_interval", T_DURATION, CFG (heartbeat_interval_ms)},
    {S_COORD, "offline_after", T_DURATION, CFG (offline_after_ms)},
    {S_COORD, "offline_grace", T_DURATION, CFG (offline_grace_ms)},
    {S_AGENT, "id", T_NAME, CFG (id)},
    {S_AGENT, "coordinator_endpoint", T_ENDPOINT, CFG (coordinator_endpoint)},
    {S_AGENT, "coordinator_publish_endpoint", T_ENDPOINT, CFG (coordinator_publish_endpoint)},
    {S_AGENT | S_CLIENT, "coordinator_public_key", T_PUBLIC, CFG (coordinator_public_key)},
    {S_AGENT, "state_dir", T_PATH, CFG (state_dir)},
    {S_AGENT, "labels", T_LABELS, CFG (labels_text)},
    {S_APP, "releases_dir", T_PATH, APP (releases_dir)},
    {S_APP, "install", T_STRING, APP (install)},
    {S_APP, "restart", T_STRING, APP (restart)},
    {S_APP, "drain", T_STRING, APP (drain)},
    {S_APP, "undrain", T_STRING, APP (undrain)},
    {S_APP, "health_url", T_URL, APP (health_url)},
    {S_APP, "health_body", T_STRING, APP (health_body)},
    {S_APP, "health_command", T_STRING, APP (health_command)},
    {S_APP, "health_interval", T_DURATION, APP (health_interval_ms)},
    {S_APP, "hook_timeout", T_DURATION, APP (hook_timeout_ms)},
    {S_APP, "keep_releases", T_COUNT, APP (keep_releases)},
    {S_APP, "user", T_NAME, APP (user)},
};
#define S_KEY_COUNT (sizeof s_keys / sizeof s_keys[0])

typedef struct {
    rc_config_t *cfg;
    char *err; /* first error, without the FILE:LINE prefix */
    size_t errlen;
    bool failed;
} s_parse_t;

static unsigned
s_role_section (rc_role_t role)
{
    return role == RC_ROLE_COORDINATOR ? S_COORD : role == RC_ROLE_AGENT ? S_AGENT : S_CLIENT;
}

static const char *
s_section_label (unsigned section)
{
    return section == S_COORD ? "coordinator" : section == S_AGENT ? "agent" : "client";
}

static int
s_fail (s_parse_t *p, const char *fmt, ...)
{
    if (!p->failed) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (p->err, p->errlen, fmt, args);
        va_end (args);
        p->failed = true;
    }
    return 0; /* inih: this line is an error */
}

static char *
s_resolve (const rc_config_t *cfg, const char *value)
{
    if (value[0] == '/')
        return strdup (value);
    char *out = NULL;
    if (asprintf (&out, "%s/%s", cfg->dir, value) < 0)
        return NULL;
    return out;
}

static bool
s_endpoint_valid (const char *v)
{
    const char *rest = NULL;
    if (strncmp (v, "tcp://", 6) == 0)
        rest = v + 6;
    else if (strncmp (v, "ipc://", 6) == 0)
        rest = v + 6;
    if (!rest || !*rest)
        return false;
    if (v[0] == 't') {
        const char *colon = strrchr (rest, ':');
        if (!colon || colon == rest || !colon[1])
            return false;
        char *end = NULL;
        long port = strtol (colon + 1, &end, 10);
        if (strcmp (colon + 1, "*") != 0 && (*end || port < 1 || port > 65535))
            return false;
    }
    for (const char *c = v; *c; c++)
        if (*c <= ' ')
            return false;
    return true;
}

static rc_app_config_t *
s_app_get (rc_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->app_count; i++)
        if (strcmp (cfg->apps[i].name, name) == 0)
            return &cfg->apps[i];
    rc_app_config_t *apps = realloc (cfg->apps, (cfg->app_count + 1) * sizeof *apps);
    if (!apps)
        return NULL;
    cfg->apps = apps;
    rc_app_config_t *app = &apps[cfg->app_count++];
    memset (app, 0, sizeof *app);
    app->name = strdup (name);
    app->health_interval_ms = -1;
    app->hook_timeout_ms = -1;
    app->keep_releases = -1;
    return app;
}

/* Stores value into the field at base+key->offset after checking it. */
static int
s_store (s_parse_t *p, const s_key_t *key, void *base, const char *section, const char *value)
{
    rc_config_t *cfg = p->cfg;
    void *field = (char *)base + key->offset;
    char *copy = NULL;
    char reason[256];

    switch (key->type) {
    case T_STRING:
        if (!*value)
            return s_fail (p, "[%s] %s is empty", section, key->name);
        copy = strdup (value);
        break;
    case T_PATH:
        if (!*value)
            return s_fail (p, "[%s] %s is empty", section, key->name);
        copy = s_resolve (cfg, value);
        break;
    case T_ENDPOINT:
        if (!s_endpoint_valid (value))
            return s_fail (p, "[%s] %s = '%s' is not an endpoint (tcp://HOST:PORT or ipc://PATH)",
                           section, key->name, value);
        copy = strdup (value);
        break;
    case T_URL:
        if (strncmp (value, "http://", 7) != 0 && strncmp (value, "https://", 8) != 0)
            return s_fail (p, "[%s] %s = '%s' is not an http:// or https:// URL", section,
                           key->name, value);
        copy = strdup (value);
        break;
    case T_NAME:
        if (!rc_name_valid (value))
            return s_fail (p, "[%s] %s = '%s' must be [A-Za-z0-9._+-]{1,%d}", section, key->name,
                           value, RC_NAME_MAX);
        copy = strdup (value);
        break;
    case T_DURATION: {
        int64_t ms;
        if (rc_duration_parse (value, &ms) != 0 || ms == 0)
            return s_fail (p, "[%s] %s = '%s' is not a duration (like 500ms, 10s, 5m, 1h)", section,
                           key->name, value);
        *(int64_t *)field = ms;
        return 1;
    }
    case T_COUNT: {
        char *end = NULL;
        errno = 0;
        long n = strtol (value, &end, 10);
        if (errno || end == value || *end || n < 1 || n > RC_KEEP_MAX)
            return s_fail (p, "[%s] %s = '%s' is not a whole number from 1 to %d", section,
                           key->name, value, RC_KEEP_MAX);
        *(int *)field = (int)n;
        return 1;
    }
    case T_LABELS: {
        int n = rc_labels_parse (value, cfg->labels, RC_LABELS_MAX, reason, sizeof reason);
        if (n < 0)
            return s_fail (p, "[%s] labels: %s", section, reason);
        cfg->label_count = (size_t)n;
        copy = strdup (value);
        break;
    }
    case T_SECRET: {
        char *path = s_resolve (cfg, value);
        if (!path)
            return s_fail (p, "out of memory");
        zcert_t *cert = rc_keys_load_secret (path, reason, sizeof reason);
        if (!cert) {
            free (path);
            return s_fail (p, "[%s] secret_key: %s", section, reason);
        }
        zcert_destroy (&cfg->cert);
        cfg->cert = cert;
        copy = path;
        break;
    }
    case T_PUBLIC: {
        char *path = s_resolve (cfg, value);
        const char *source = path;
        /* inline Z85 text is 40 characters and has no slash-free file of
           that name next to the config: rc_keys_load_public decides */
        if (strlen (value) == RC_Z85_KEY_LEN && access (path, F_OK) != 0)
            source = value;
        int rc = rc_keys_load_public (source, cfg->server_key, reason, sizeof reason);
        free (path);
        if (rc != 0)
            return s_fail (p, "[%s] %s: %s", section, key->name, reason);
        copy = strdup (value);
        break;
    }
    }
    if (!copy)
        return s_fail (p, "out of memory");
    free (*(char **)field);
    *(char **)field = copy;
    return 1;
}

static int
s_handler (void *user, const char *section, const char *name, const char *value)
{
    s_parse_t *p = (s_parse_t *)user;
    rc_config_t *cfg = p->cfg;
    if (p->failed)
        return 1; /* report only the first error */

    unsigned where = 0;
    rc_app_config_t *app = NULL;
    if (strcmp (section, "coordinator") == 0)
        where = S_COORD;
    else if (strcmp (section, "agent") == 0)
        where = S_AGENT;
    else if (strcmp (section, "client") == 0)
        where = S_CLIENT;
    else if (strncmp (section, "app ", 4) == 0) {
        const char *appname = section + 4;
        while (*appname == ' ')
            appname++;
        if (!rc_name_valid (appname))
            return s_fail (p, "[%s]: app name '%s' must be [A-Za-z0-9._+-]{1,%d}", section, appname,
                           RC_NAME_MAX);
        where = S_APP;
    }
    else
        return s_fail (p, "unknown section [%s] (known: coordinator, agent, client, app NAME)",
                       section);

    const s_key_t *key = NULL;
    size_t index = 0;
    for (index = 0; index < S_KEY_COUNT; index++)
        if ((s_keys[index].sections & where) && strcmp (s_keys[index].name, name) == 0) {
            key = &s_keys[index];
            break;
        }
    if (!key)
        return s_fail (p, "unknown key '%s' in [%s]", name, section);

    /* One file may hold the sections of several programs (a coordinator's
       host often has the CLI's [client] too): only our own are read. */
    bool ours =
        (where == S_APP && cfg->role == RC_ROLE_AGENT) || where == s_role_section (cfg->role);
    if (!ours)
        return 1;

    unsigned *seen = &cfg->seen;
    void *base = cfg;
    if (where == S_APP) {
        const char *appname = section + 4;
        while (*appname == ' ')
            appname++;
        app = s_app_get (cfg, appname);
        if (!app)
            return s_fail (p, "out of memory");
        seen = &app->seen;
        base = app;
    }
    if (*seen & (1u << index))
        return s_fail (p, "key '%s' given twice in [%s]", name, section);
    *seen |= 1u << index;
    return s_store (p, key, base, section, value);
}

static bool
s_seen (const rc_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < S_KEY_COUNT; i++)
        if (strcmp (s_keys[i].name, name) == 0 && (s_keys[i].sections & ~S_APP)
            && (cfg->seen & (1u << i)))
            return true;
    return false;
}

static int
s_default (char **field, const char *value)
{
    if (*field)
        return 0;
    *field = strdup (value);
    return *field ? 0 : -1;
}

/* Checks what only the whole file can tell, and fills defaults. */
static int
s_finish (rc_config_t *cfg, char *err, size_t errlen)
{
    const char *section = s_section_label (s_role_section (cfg->role));
    const char *required[4] = {NULL};
    size_t nreq = 0;
    required[nreq++] = "secret_key";
    if (cfg->role == RC_ROLE_AGENT) {
        required[nreq++] = "coordinator_endpoint";
        required[nreq++] = "coordinator_publish_endpoint";
        required[nreq++] = "coordinator_public_key";
    }
    else if (cfg->role == RC_ROLE_CLIENT)
        required[nreq++] = "coordinator_public_key";
    for (size_t i = 0; i < nreq; i++)
        if (!s_seen (cfg, required[i])) {
            snprintf (err, errlen, "%s: missing required key '%s' in [%s]", cfg->path, required[i],
                      section);
            return -1;
        }

    int rc = 0;
    switch (cfg->role) {
    case RC_ROLE_COORDINATOR:
        rc |= s_default (&cfg->data_dir, RC_DEFAULT_COORD_DATA_DIR);
        rc |= s_default (&cfg->agent_endpoint, RC_DEFAULT_AGENT_ENDPOINT);
        rc |= s_default (&cfg->publish_endpoint, RC_DEFAULT_PUBLISH_ENDPOINT);
        rc |= s_default (&cfg->control_endpoint, RC_DEFAULT_CONTROL_ENDPOINT);
        rc |= s_default (&cfg->agent_keys_dir, RC_DEFAULT_AGENT_KEYS_DIR);
        rc |= s_default (&cfg->operator_keys_dir, RC_DEFAULT_OPERATOR_KEYS_DIR);
        if (!cfg->offline_after_ms)
            cfg->offline_after_ms = RC_DEFAULT_OFFLINE_AFTER_MS;
        break;
    case RC_ROLE_AGENT:
        if (!cfg->id)
            cfg->id = rc_hostname ();
        if (!rc_name_valid (cfg->id)) {
            snprintf (err, errlen, "%s: host name '%s' is not a valid id: set [agent] id",
                      cfg->path, cfg->id);
            return -1;
        }
        rc |= s_default (&cfg->state_dir, RC_DEFAULT_AGENT_STATE_DIR);
        for (size_t i = 0; i < cfg->app_count; i++) {
            rc_app_config_t *app = &cfg->apps[i];
            if (!app->releases_dir) {
                snprintf (err, errlen, "%s: missing required key 'releases_dir' in [app %s]",
                          cfg->path, app->name);
                return -1;
            }
            if (app->health_interval_ms < 0)
                app->health_interval_ms = RC_DEFAULT_HEALTH_INTERVAL_MS;
            if (app->hook_timeout_ms < 0)
                app->hook_timeout_ms = RC_DEFAULT_HOOK_TIMEOUT_MS;
            if (app->keep_releases < 0)
                app->keep_releases = RC_DEFAULT_KEEP_RELEASES;
        }
        break;
    case RC_ROLE_CLIENT:
        rc |= s_default (&cfg->control_endpoint, RC_DEFAULT_CLIENT_ENDPOINT);
        break;
    }
    if (!cfg->heartbeat_interval_ms)
        cfg->heartbeat_interval_ms = RC_DEFAULT_HEARTBEAT_MS;
    if (cfg->role == RC_ROLE_COORDINATOR && cfg->offline_after_ms <= cfg->heartbeat_interval_ms) {
        snprintf (err, errlen, "%s: offline_after must be longer than heartbeat_interval",
                  cfg->path);
        return -1;
    }
    if (rc) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

rc_config_t *
rc_config_load (const char *path, rc_role_t role, char *err, size_t errlen)
{
    rc_config_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->role = role;
    self->path = strdup (path);
    char *tmp = strdup (path);
    char absdir[PATH_MAX];
    const char *dir = tmp ? dirname (tmp) : ".";
    if (realpath (dir, absdir))
        dir = absdir;
    self->dir = strdup (dir);
    free (tmp);
    if (!self->path || !self->dir) {
        snprintf (err, errlen, "out of memory");
        goto fail;
    }

    char reason[512] = "";
    s_parse_t p = {.cfg = self, .err = reason, .errlen = sizeof reason};
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (err, errlen, "%s: cannot open: %s", path, strerror (errno));
        goto fail;
    }
    int line = ini_parse_file (file, s_handler, &p);
    fclose (file);
    if (line != 0) {
        if (line < 0)
            snprintf (err, errlen, "%s: cannot read config", path);
        else if (p.failed)
            snprintf (err, errlen, "%s:%d: %s", path, line, reason);
        else
            snprintf (err, errlen, "%s:%d: not 'key = value' nor '[section]'", path, line);
        goto fail;
    }
    if (s_finish (self, err, errlen) != 0)
        goto fail;
    return self;
fail:
    rc_config_destroy (&self);
    return NULL;
}

static void
s_app_free (rc_app_config_t *app)
{
    char **fields[] = {
        &app->name,    &app->releases_dir, &app->install,     &app->restart,        &app->drain,
        &app->undrain, &app->health_url,   &app->health_body, &app->health_command, &app->user};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free (*fields[i]);
        *fields[i] = NULL;
    }
}

void
rc_config_destroy (rc_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rc_config_t *self = *self_p;
    char **fields[] = {&self->path,
                       &self->dir,
                       &self->data_dir,
                       &self->agent_endpoint,
                       &self->publish_endpoint,
                       &self->agent_keys_dir,
                       &self->operator_keys_dir,
                       &self->control_endpoint,
                       &self->id,
                       &self->coordinator_endpoint,
                       &self->coordinator_publish_endpoint,
                       &self->state_dir,
                       &self->labels_text,
                       &self->secret_key,
                       &self->coordinator_public_key};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free (*fields[i]);
    for (size_t i = 0; i < self->app_count; i++)
        s_app_free (&self->apps[i]);
    free (self->apps);
    zcert_destroy (&self->cert);
    free (self);
    *self_p = NULL;
}

const rc_app_config_t *
rc_config_app (const rc_config_t *self, const char *name)
{
    for (size_t i = 0; i < self->app_count; i++)
        if (strcmp (self->apps[i].name, name) == 0)
            return &self->apps[i];
    return NULL;
}

/*  Selftest: writes configs into a temporary directory and reads them. */

static void
s_write (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    assert (f);
    fputs (text, f);
    fclose (f);
}

void
rc_config_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_config_test.XXXXXX";
    assert (mkdtemp (dir));
    char path[512], key[512], err[512];
    snprintf (key, sizeof key, "%s/agent.key", dir);
    assert (rc_keys_generate (key, err, sizeof err) == 0);
    snprintf (path, sizeof path, "%s/agent.conf", dir);

    s_write (path, "[agent]\nid = web-1\ncoordinator_endpoint = tcp://127.0.0.1:7601\n"
                   "coordinator_publish_endpoint = tcp://127.0.0.1:7602\n"
                   "coordinator_public_key = agent.key\nsecret_key = agent.key_secret\n"
                   "labels = role=web,dc=eu1\nheartbeat_interval = 500ms\n"
                   "[app shop]\nreleases_dir = /srv/shop\nrestart = systemctl restart shop\n"
                   "keep_releases = 3\n[client]\ncontrol_endpoint = tcp://127.0.0.1:7603\n");
    rc_config_t *cfg = rc_config_load (path, RC_ROLE_AGENT, err, sizeof err);
    assert (cfg);
    assert (streq (cfg->id, "web-1") && cfg->heartbeat_interval_ms == 500);
    assert (cfg->label_count == 2 && cfg->cert && strlen (cfg->server_key) == 40);
    const rc_app_config_t *app = rc_config_app (cfg, "shop");
    assert (app && app->keep_releases == 3 && app->hook_timeout_ms == RC_DEFAULT_HOOK_TIMEOUT_MS);
    assert (!rc_config_app (cfg, "nope"));
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
        {"[app x/y]\nreleases_dir = /a\n", ":2: [app x/y]: app name"},
        {"[app web]\nkeep_releases = 0\n", ":2: [app web] keep_releases"},
        {"[agent]\nlabels = a=1\nlabels = b=2\n", ":3: key 'labels' given twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_write (path, bad[i].text);
        cfg = rc_config_load (path, RC_ROLE_AGENT, err, sizeof err);
        if (cfg || !strstr (err, bad[i].expect))
            fprintf (stderr, "case %zu: got '%s', want '%s'\n", i, err, bad[i].expect);
        assert (!cfg && strstr (err, bad[i].expect));
        assert (!strchr (err, '\n'));
    }
    assert (!rc_config_load ("/nonexistent/x.conf", RC_ROLE_AGENT, err, sizeof err));
    assert (strstr (err, "cannot open"));

    s_write (path, "[coordinator]\nsecret_key = agent.key_secret\nheartbeat_interval = 5s\n"
                   "offline_after = 2s\n");
    assert (!rc_config_load (path, RC_ROLE_COORDINATOR, err, sizeof err));
    assert (strstr (err, "offline_after must be longer"));
    s_write (path, "[coordinator]\nsecret_key = agent.key_secret\ndata_dir = data\n");
    cfg = rc_config_load (path, RC_ROLE_COORDINATOR, err, sizeof err);
    assert (cfg && cfg->data_dir[0] == '/' && strstr (cfg->data_dir, "/data"));
    assert (cfg->offline_after_ms == RC_DEFAULT_OFFLINE_AFTER_MS);
    rc_config_destroy (&cfg);

    char cmd[600];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert (system (cmd) == 0);
}
