/*  rc_config.c - INI parsing with libinih, table-driven: each key has a type
    that says how its value is checked and where it is stored.

    The config is read as written. libinih alone would not: it treats " ;"
    as the start of an inline comment (so `restart = a ; b` became `a`), it
    reads a line in a fixed buffer and hands the tail of a longer line back
    as the next line (a long `install` could smuggle in `restart = ...`), and
    it cuts section names at 49 bytes. Inline comments (` # ...`, ` ; ...`,
    a blank before them) are ours to cut, key by key: every value but the
    command lines and a check's query (s_verbatim). Debian builds it with those as
    defaults. Rather than write a parser of our own, libinih reads through
    our reader (ini_parse_stream): the reader takes whole physical lines,
    refuses one that does not fit libinih's buffer (an error naming the
    line), refuses control bytes, and hides ';' and '#' inside a line from
    libinih's comment scanner by swapping them for control bytes that the
    handler swaps back. Whole-line comments are passed as they are, so they
    still work. */
#include "rc_config.h"
#include "rc_addr.h"
#include "rc_defaults.h"
#include "rc_sources.h"
#include "rc_time.h"
#include "rc_webhook.h"
#include "rc_window.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Debian's libinih is built with INI_RUNTIME_OPTIONS: its options are
   variables, and ini_max_line sizes the line buffer. Upstream's default
   build has no such variable, hence weak: without it lines stay limited to
   libinih's 200-byte buffer (still refused when longer, never split). */
extern int ini_max_line __attribute__ ((weak));
/* libinih needs room for "\r\n\0" after the longest line. */
#define S_INI_LINE_SLACK 3

/* Stand-ins for ';' and '#' inside a line while libinih scans it. The
   reader refuses these bytes in the file, so the swap back is exact. */
#define S_HIDDEN_SEMICOLON '\x1e'
#define S_HIDDEN_HASH '\x1f'

typedef enum {
    T_STRING,        /* any text (hook command lines) */
    T_PATH,          /* a path; relative ones start at the config's directory */
    T_ENDPOINT,      /* tcp:// or ipc:// */
    T_DURATION,      /* 500ms, 10s, 5m, 1h */
    T_COUNT,         /* a whole number 1..RC_KEEP_MAX */
    T_NAME,          /* [A-Za-z0-9._+-]{1,64} */
    T_LABELS,        /* k=v,k=v */
    T_URL,           /* http:// or https:// */
    T_SECRET,        /* path of our key pair, loaded now */
    T_PUBLIC,        /* a peer's public key: Z85 text or a file, loaded now */
    T_BYTES,         /* a size: 512, 100K, 10M, 4G (powers of 1024) */
    T_SOURCES,       /* artifact source URL prefixes (rc_sources.h) */
    T_AGE,           /* a duration that may be long: 90d, 12h, 30m */
    T_RETAIN,        /* a whole number 1..RC_RETAIN_MAX */
    T_WINDOWS,       /* weekly windows: Sat 00:00-Mon 06:00, ... (rc_window.h) */
    T_LB,            /* a built-in load balancer provider: haproxy */
    T_LB_SOCKET,     /* an absolute unix socket path or tcp://HOST:PORT */
    T_LB_SERVERS,    /* BACKEND/SERVER list (rc_config_lb_servers) */
    T_NGINX_SERVERS, /* HOST:PORT list (rc_config_nginx_servers) */
    T_ABS_PATH,      /* an absolute path, taken as written */
    T_SLOTS,         /* two distinct TCP ports: 8080,8081 */
    T_HOOK_URL,      /* a webhook's http(s) URL, as libcurl parses it */
    T_HOOK_EVENTS,   /* fnmatch globs over event kinds (rc_webhook.h) */
    T_HOOK_FORMAT,   /* json | slack */
    T_HOOK_SECRET,   /* a webhook's HMAC key, inline */
    T_HOOK_KEYFILE,  /* the same read from a file only its owner reads */
    T_LISTEN,        /* a numeric HOST:PORT to listen on (rc_addr.h) */
} s_type_t;

typedef enum { S_COORD = 1, S_AGENT = 2, S_CLIENT = 4, S_APP = 8, S_WEBHOOK = 16 } s_section_t;

typedef struct {
    unsigned sections; /* where the key may stand */
    const char *name;
    s_type_t type;
    size_t offset; /* into rc_config_t, rc_app_config_t for S_APP, or
                      rc_webhook_config_t for S_WEBHOOK */
} s_key_t;

#define RC_KEEP_MAX 100
/* Retention bounds: a century of events, ten million deployments. */
#define RC_AGE_MAX_DAYS 36500
#define RC_DAY_MS (24LL * 3600 * 1000)
#define RC_RETAIN_MAX 10000000
#define CFG(f) offsetof (rc_config_t, f)
#define APP(f) offsetof (rc_app_config_t, f)
#define HOOK(f) offsetof (rc_webhook_config_t, f)

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
    {S_COORD, "event_retention", T_AGE, CFG (event_retention_ms)},
    {S_COORD, "deployment_retention", T_RETAIN, CFG (deployment_retention)},
    {S_COORD, "offline_grace", T_DURATION, CFG (offline_grace_ms)},
    {S_COORD, "read_only_operator_keys_dir", T_PATH, CFG (read_only_operator_keys_dir)},
    {S_COORD, "freeze", T_WINDOWS, CFG (freeze)},
    {S_COORD, "webhook_max_age", T_AGE, CFG (webhook_max_age_ms)},
    {S_COORD | S_AGENT, "metrics_endpoint", T_LISTEN, CFG (metrics_endpoint)},
    {S_AGENT, "id", T_NAME, CFG (id)},
    {S_AGENT, "coordinator_endpoint", T_ENDPOINT, CFG (coordinator_endpoint)},
    {S_AGENT, "coordinator_publish_endpoint", T_ENDPOINT, CFG (coordinator_publish_endpoint)},
    {S_AGENT | S_CLIENT, "coordinator_public_key", T_PUBLIC, CFG (coordinator_public_key)},
    {S_AGENT, "state_dir", T_PATH, CFG (state_dir)},
    {S_AGENT, "labels", T_LABELS, CFG (labels_text)},
    {S_AGENT, "user", T_NAME, CFG (user)},
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
    {S_APP, "health_rise", T_COUNT, APP (health_rise)},
    {S_APP, "health_fall", T_COUNT, APP (health_fall)},
    {S_APP, "fetch_timeout", T_DURATION, APP (fetch_timeout_ms)},
    {S_APP, "max_artifact_bytes", T_BYTES, APP (max_artifact_bytes)},
    {S_APP, "max_unpacked_bytes", T_BYTES, APP (max_unpacked_bytes)},
    {S_APP, "artifact_sources", T_SOURCES, APP (artifact_sources)},
    {S_APP, "trusted_signers", T_PATH, APP (trusted_signers)},
    {S_APP, "lb", T_LB, APP (lb)},
    {S_APP, "haproxy_socket", T_LB_SOCKET, APP (haproxy_socket)},
    {S_APP, "haproxy_server", T_LB_SERVERS, APP (haproxy_servers)},
    {S_APP, "nginx_upstream_file", T_ABS_PATH, APP (nginx_upstream_file)},
    {S_APP, "nginx_server", T_NGINX_SERVERS, APP (nginx_servers)},
    {S_APP, "nginx_test", T_STRING, APP (nginx_test)},
    {S_APP, "nginx_reload", T_STRING, APP (nginx_reload)},
    {S_APP, "drain_timeout", T_DURATION, APP (drain_timeout_ms)},
    {S_APP, "undrain_timeout", T_DURATION, APP (undrain_timeout_ms)},
    {S_APP, "slots", T_SLOTS, APP (slot_ports)},
    {S_APP, "keep_warm", T_DURATION, APP (keep_warm_ms)},
    {S_APP, "stop", T_STRING, APP (stop)},
    {S_WEBHOOK, "url", T_HOOK_URL, HOOK (url)},
    {S_WEBHOOK, "events", T_HOOK_EVENTS, HOOK (events)},
    {S_WEBHOOK, "secret", T_HOOK_SECRET, HOOK (secret)},
    {S_WEBHOOK, "secret_file", T_HOOK_KEYFILE, HOOK (secret_file)},
    {S_WEBHOOK, "format", T_HOOK_FORMAT, HOOK (format)},
};
#define S_KEY_COUNT (sizeof s_keys / sizeof s_keys[0])
_Static_assert(S_KEY_COUNT <= RC_CONFIG_SEEN_WORDS * 64, "raise RC_CONFIG_SEEN_WORDS");

typedef struct {
    rc_config_t *cfg;
    char *err; /* first error, without the FILE:LINE prefix */
    size_t errlen;
    bool failed;
    FILE *file;      /* the config being read */
    char *line;      /* getline's buffer */
    size_t line_cap; /* its size */
    int lineno;      /* physical lines read so far: the one being handled */
    int bad_line;    /* a line the reader refused (parsing stops there) */
} s_parse_t;

static int s_fail (s_parse_t *p, const char *fmt, ...);

/* ini_reader: one whole physical line per call, or NULL at the end or on a
   line we refuse (bad_line says which). num is libinih's buffer size. */
static char *
s_read_line (char *str, int num, void *stream)
{
    s_parse_t *p = (s_parse_t *)stream;
    if (p->failed)
        return NULL;
    ssize_t len = getline (&p->line, &p->line_cap, p->file);
    if (len < 0)
        return NULL;
    p->lineno++;
    size_t text = (size_t)len;
    while (text > 0 && (p->line[text - 1] == '\n' || p->line[text - 1] == '\r'))
        text--;
    int max = num - S_INI_LINE_SLACK;
    if (max > RC_CONFIG_LINE_MAX)
        max = RC_CONFIG_LINE_MAX;
    if (text > (size_t)max) {
        p->bad_line = p->lineno;
        s_fail (p, "line is %zu characters long, longer than the %d a config line may have", text,
                max);
        return NULL;
    }
    for (size_t i = 0; i < text; i++) {
        unsigned char c = (unsigned char)p->line[i];
        if (c < ' ' && c != '\t') {
            p->bad_line = p->lineno;
            s_fail (p, "control character 0x%02x in line", c);
            return NULL;
        }
    }
    const char *first = p->line + strspn (p->line, " \t");
    bool comment = *first == ';' || *first == '#';
    if (*first == '[') {
        const char *close = strchr (first, ']');
        size_t name_len = close ? (size_t)(close - first - 1) : 0;
        if (name_len > RC_CONFIG_SECTION_MAX) {
            p->bad_line = p->lineno;
            s_fail (p, "section name is %zu characters long, longer than %d", name_len,
                    RC_CONFIG_SECTION_MAX);
            return NULL;
        }
    }
    /* the line and its newline fit: checked against max above */
    memcpy (str, p->line, (size_t)len);
    str[len] = '\0';
    if (!comment)
        for (char *c = str; *c; c++) {
            if (*c == ';')
                *c = S_HIDDEN_SEMICOLON;
            else if (*c == '#')
                *c = S_HIDDEN_HASH;
        }
    return str;
}

/* A copy of text with the reader's stand-ins turned back; NULL on ENOMEM. */
static char *
s_unhide (const char *text)
{
    char *copy = strdup (text);
    if (copy)
        for (char *c = copy; *c; c++) {
            if (*c == S_HIDDEN_SEMICOLON)
                *c = ';';
            else if (*c == S_HIDDEN_HASH)
                *c = '#';
        }
    return copy;
}

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

/* The one place an lb kind is spelled. */
static const char *const s_lb_names[] = {
    [RC_LB_NONE] = "",
    [RC_LB_HAPROXY] = "haproxy",
    [RC_LB_NGINX] = "nginx",
};

const char *
rc_config_lb_name (rc_lb_kind_t kind)
{
    return (size_t)kind < sizeof s_lb_names / sizeof s_lb_names[0] ? s_lb_names[kind] : "";
}

static bool
s_lb_server_char (char c)
{
    return isalnum ((unsigned char)c) || c == '.' || c == '_' || c == ':' || c == '-';
}

/* A server list: names separated by commas or blanks, each accepted by
   valid (what says what a name must be, for err). */
static int
s_server_list (const char *text, bool (*valid) (const char *, size_t), const char *what,
               char ***servers, size_t *count, char *err, size_t errlen)
{
    *servers = NULL;
    *count = 0;
    const char *c = text;
    while (*c) {
        c += strspn (c, ", \t");
        if (!*c)
            break;
        size_t len = strcspn (c, ", \t");
        if (len > RC_LB_SERVER_MAX || !valid (c, len)) {
            snprintf (err, errlen, "'%.*s' is not %s", (int)(len > 64 ? 64 : len), c, what);
            goto fail;
        }
        if (*count == RC_LB_SERVERS_MAX) {
            snprintf (err, errlen, "more than %d servers", RC_LB_SERVERS_MAX);
            goto fail;
        }
        char **grown = realloc (*servers, (*count + 1) * sizeof *grown);
        if (!grown || !(grown[*count] = strndup (c, len))) {
            if (grown)
                *servers = grown;
            snprintf (err, errlen, "out of memory");
            goto fail;
        }
        *servers = grown;
        (*count)++;
        c += len;
    }
    if (*count == 0) {
        snprintf (err, errlen, "names no %s", what);
        goto fail;
    }
    return 0;
fail:
    for (size_t i = 0; i < *count; i++)
        free ((*servers)[i]);
    free (*servers);
    *servers = NULL;
    *count = 0;
    return -1;
}

static bool
s_backend_server_valid (const char *c, size_t len)
{
    const char *slash = memchr (c, '/', len);
    bool ok = slash && slash != c && slash + 1 < c + len;
    for (size_t i = 0; ok && i < len; i++) {
        /* a slot's server ([app] slots): web/app1-{slot}, expanded by the
           agent (rc_lb_expand), never longer once expanded */
        if (len - i >= 6
            && (strncmp (c + i, "{slot}", 6) == 0 || strncmp (c + i, "{port}", 6) == 0)) {
            i += 5;
            continue;
        }
        ok = c + i == slash || s_lb_server_char (c[i]);
    }
    return ok;
}

int
rc_config_lb_servers (const char *text, char ***servers, size_t *count, char *err, size_t errlen)
{
    return s_server_list (text, s_backend_server_valid, "BACKEND/SERVER", servers, count, err,
                          errlen);
}

bool
rc_config_nginx_address_valid (const char *addr, bool placeholders)
{
    size_t len = strlen (addr);
    if (len == 0 || len > RC_LB_SERVER_MAX)
        return false;
    const char *colon = strrchr (addr, ':');
    if (!colon || colon == addr)
        return false;
    /* the port: digits 1..65535, or {port} */
    const char *port = colon + 1;
    if (!(placeholders && streq (port, "{port}"))) {
        if (!isdigit ((unsigned char)*port))
            return false;
        char *end = NULL;
        errno = 0;
        long n = strtol (port, &end, 10);
        if (errno || *end || n < 1 || n > 65535)
            return false;
    }
    /* the host: a name or IPv4 address, or [IPv6]; {slot} anywhere */
    size_t host_len = (size_t)(colon - addr);
    bool bracket = addr[0] == '[';
    if (bracket && (host_len < 3 || addr[host_len - 1] != ']'))
        return false;
    for (size_t i = bracket ? 1 : 0; i < host_len - (bracket ? 1 : 0); i++) {
        if (placeholders && strncmp (addr + i, "{slot}", 6) == 0 && i + 6 <= host_len) {
            i += 5;
            continue;
        }
        char ch = addr[i];
        bool ok = isalnum ((unsigned char)ch) || ch == '.' || ch == '-' || ch == '_'
                  || (bracket && ch == ':');
        if (!ok)
            return false;
    }
    return true;
}

static bool
s_nginx_server_valid (const char *c, size_t len)
{
    char addr[RC_LB_SERVER_MAX + 1];
    snprintf (addr, sizeof addr, "%.*s", (int)len, c);
    return rc_config_nginx_address_valid (addr, true);
}

int
rc_config_nginx_servers (const char *text, char ***servers, size_t *count, char *err, size_t errlen)
{
    return s_server_list (text, s_nginx_server_valid, "HOST:PORT", servers, count, err, errlen);
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
    app->health_rise = -1;
    app->health_fall = -1;
    app->fetch_timeout_ms = -1;
    app->max_artifact_bytes = -1;
    app->max_unpacked_bytes = -1;
    app->drain_timeout_ms = -1;
    app->undrain_timeout_ms = -1;
    app->keep_warm_ms = -1;
    return app;
}

/* The [webhook NAME] section of that name, made on its first key. */
static rc_webhook_config_t *
s_webhook_get (s_parse_t *p, const char *name)
{
    rc_config_t *cfg = p->cfg;
    for (size_t i = 0; i < cfg->webhook_count; i++)
        if (strcmp (cfg->webhooks[i].name, name) == 0)
            return &cfg->webhooks[i];
    if (cfg->webhook_count == RC_WEBHOOKS_MAX) {
        s_fail (p, "more than %d [webhook NAME] sections", RC_WEBHOOKS_MAX);
        return NULL;
    }
    rc_webhook_config_t *hooks = realloc (cfg->webhooks, (cfg->webhook_count + 1) * sizeof *hooks);
    if (!hooks) {
        s_fail (p, "out of memory");
        return NULL;
    }
    cfg->webhooks = hooks;
    rc_webhook_config_t *hook = &hooks[cfg->webhook_count];
    memset (hook, 0, sizeof *hook);
    hook->line = p->lineno;
    if (!(hook->name = strdup (name))) {
        s_fail (p, "out of memory");
        return NULL;
    }
    cfg->webhook_count++;
    return hook;
}

/* "10M" -> 10485760: a whole number of bytes, at least 1, with an optional
   K, M, G or T suffix (powers of 1024). */
static int
s_bytes_parse (const char *text, int64_t *bytes)
{
    static const char units[] = "KMGT";
    char *end = NULL;
    errno = 0;
    long long n = strtoll (text, &end, 10);
    if (errno || end == text || n < 1 || text[0] == '+')
        return -1;
    int shift = 0;
    if (*end) {
        const char *unit = strchr (units, *end);
        if (!unit || end[1])
            return -1;
        shift = 10 * (int)(unit - units + 1);
    }
    if (n > (INT64_MAX >> shift))
        return -1;
    *bytes = (int64_t)n << shift;
    return 0;
}

/* "8080,8081" (spaces allowed around the comma): two different ports. */
static int
s_slots_parse (const char *text, uint16_t ports[RC_SLOTS_MAX])
{
    const char *at = text;
    for (size_t i = 0; i < RC_SLOTS_MAX; i++) {
        while (*at == ' ')
            at++;
        if (!isdigit ((unsigned char)*at))
            return -1;
        char *end = NULL;
        errno = 0;
        long port = strtol (at, &end, 10);
        if (errno || port < 1 || port > 65535)
            return -1;
        ports[i] = (uint16_t)port;
        while (*end == ' ')
            end++;
        if (i + 1 < RC_SLOTS_MAX && *end++ != ',')
            return -1;
        at = end;
    }
    return *at || ports[0] == ports[1] ? -1 : 0;
}

/* The nginx keys of an agent's app: all or none, with lb = nginx; with
   slots each nginx_server names its slot ({port} or {slot}), without slots
   none does. */
static int
s_nginx_finish (rc_config_t *cfg, rc_app_config_t *app, char *err, size_t errlen)
{
    bool any =
        app->nginx_upstream_file || app->nginx_server_count || app->nginx_test || app->nginx_reload;
    if (app->lb != RC_LB_NGINX) {
        if (any) {
            snprintf (err, errlen,
                      "%s: [app %s] nginx_upstream_file, nginx_server, nginx_test and "
                      "nginx_reload need lb = nginx",
                      cfg->path, app->name);
            return -1;
        }
        return 0;
    }
    const char *missing = !app->nginx_upstream_file  ? "nginx_upstream_file"
                          : !app->nginx_server_count ? "nginx_server"
                                                     : NULL;
    if (missing) {
        snprintf (err, errlen, "%s: [app %s] lb = nginx needs %s", cfg->path, app->name, missing);
        return -1;
    }
    for (size_t i = 0; i < app->nginx_server_count; i++) {
        const char *server = app->nginx_servers[i];
        bool named = strstr (server, "{port}") || strstr (server, "{slot}");
        if (named != (app->slot_count > 0)) {
            snprintf (err, errlen,
                      named ? "%s: [app %s] nginx_server '%s': {port} and {slot} need slots"
                            : "%s: [app %s] nginx_server '%s' must name the slot ({port} or "
                              "{slot}): the app has slots",
                      cfg->path, app->name, server);
            return -1;
        }
    }
    if ((!app->nginx_test && !(app->nginx_test = strdup (RC_DEFAULT_NGINX_TEST)))
        || (!app->nginx_reload && !(app->nginx_reload = strdup (RC_DEFAULT_NGINX_RELOAD)))) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    return 0;
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
    case T_LISTEN: {
        struct sockaddr_storage addr;
        socklen_t addr_len;
        if (rc_addr_parse (value, &addr, &addr_len) != 0)
            return s_fail (p,
                           "[%s] %s = '%s' is not a numeric HOST:PORT (127.0.0.1:7604, [::1]:7604)",
                           section, key->name, value);
        copy = strdup (value);
        break;
    }
    case T_URL:
        if (strncmp (value, "http://", 7) != 0 && strncmp (value, "https://", 8) != 0)
            return s_fail (p, "[%s] %s = '%s' is not an http:// or https:// URL", section,
                           key->name, value);
        copy = strdup (value);
        break;
    case T_SOURCES:
        if (rc_sources_check_list (value, reason, sizeof reason) != 0)
            return s_fail (p, "[%s] %s: %s", section, key->name, reason);
        copy = strdup (value);
        break;
    case T_LB:
        for (size_t i = 1; i < sizeof s_lb_names / sizeof s_lb_names[0]; i++)
            if (streq (value, s_lb_names[i])) {
                *(rc_lb_kind_t *)field = (rc_lb_kind_t)i;
                return 1;
            }
        return s_fail (p, "[%s] %s = '%s' is not a load balancer rollclone drives (haproxy, nginx)",
                       section, key->name, value);
    case T_LB_SOCKET:
        if (!rc_addr_socket_valid (value))
            return s_fail (p,
                           "[%s] %s = '%s' must be an absolute socket path or tcp://ADDRESS:PORT "
                           "(IPv4 or [IPv6])",
                           section, key->name, value);
        copy = strdup (value);
        break;
    case T_LB_SERVERS: {
        rc_app_config_t *app = (rc_app_config_t *)base;
        if (rc_config_lb_servers (value, &app->haproxy_servers, &app->haproxy_server_count, reason,
                                  sizeof reason)
            != 0)
            return s_fail (p, "[%s] %s: %s", section, key->name, reason);
        return 1;
    }
    case T_NGINX_SERVERS: {
        rc_app_config_t *app = (rc_app_config_t *)base;
        if (rc_config_nginx_servers (value, &app->nginx_servers, &app->nginx_server_count, reason,
                                     sizeof reason)
            != 0)
            return s_fail (p, "[%s] %s: %s", section, key->name, reason);
        return 1;
    }
    case T_ABS_PATH:
        if (value[0] != '/' || strlen (value) >= PATH_MAX - 64)
            return s_fail (p, "[%s] %s = '%s' must be an absolute path", section, key->name, value);
        copy = strdup (value);
        break;
    case T_SLOTS: {
        rc_app_config_t *app = (rc_app_config_t *)base;
        if (s_slots_parse (value, app->slot_ports) != 0)
            return s_fail (p, "[%s] %s = '%s' must be two different ports: PORT,PORT", section,
                           key->name, value);
        app->slot_count = RC_SLOTS_MAX;
        return 1;
    }
    case T_HOOK_URL:
        if (!rc_webhook_url_valid (value))
            return s_fail (p, "[%s] %s = '%s' is not an http:// or https:// URL", section,
                           key->name, value);
        copy = strdup (value);
        break;
    case T_HOOK_EVENTS:
        if (rc_webhook_events_check (value, reason, sizeof reason) != 0)
            return s_fail (p, "[%s] %s: %s", section, key->name, reason);
        copy = strdup (value);
        break;
    case T_HOOK_FORMAT:
        if (rc_webhook_format_parse (value, (rc_webhook_format_t *)field) != 0)
            return s_fail (p, "[%s] %s = '%s' is not a format (json, slack)", section, key->name,
                           value);
        return 1;
    case T_HOOK_SECRET:
        if (!*value || strlen (value) > RC_WEBHOOK_SECRET_MAX)
            return s_fail (p, "[%s] %s must be 1 to %d characters", section, key->name,
                           RC_WEBHOOK_SECRET_MAX);
        copy = strdup (value);
        break;
    case T_HOOK_KEYFILE: {
        rc_webhook_config_t *hook = (rc_webhook_config_t *)base;
        if (!*value)
            return s_fail (p, "[%s] %s is empty", section, key->name);
        copy = s_resolve (cfg, value);
        if (copy && rc_webhook_secret_read (copy, &hook->file_secret, reason, sizeof reason) != 0) {
            free (copy);
            return s_fail (p, "[%s] %s: %s", section, key->name, reason);
        }
        break;
    }
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
    case T_AGE: {
        /* days, for retention; the shorter units as everywhere else */
        int64_t ms = 0;
        char *end = NULL;
        errno = 0;
        long long days = isdigit ((unsigned char)value[0]) ? strtoll (value, &end, 10) : -1;
        if (days >= 0 && !errno && end && streq (end, "d") && days <= RC_AGE_MAX_DAYS)
            ms = days * RC_DAY_MS;
        else if (rc_duration_parse (value, &ms) != 0)
            ms = 0;
        if (ms <= 0)
            return s_fail (p, "[%s] %s = '%s' is not a duration (like 90d, 12h, 30m; at most %dd)",
                           section, key->name, value, RC_AGE_MAX_DAYS);
        *(int64_t *)field = ms;
        return 1;
    }
    case T_RETAIN: {
        char *end = NULL;
        errno = 0;
        long n = strtol (value, &end, 10);
        if (errno || end == value || *end || n < 1 || n > RC_RETAIN_MAX)
            return s_fail (p, "[%s] %s = '%s' is not a whole number from 1 to %d", section,
                           key->name, value, RC_RETAIN_MAX);
        *(int64_t *)field = n;
        return 1;
    }
    case T_WINDOWS: {
        rc_window_t windows[RC_WINDOWS_MAX];
        if (rc_window_parse (value, windows, RC_WINDOWS_MAX, reason, sizeof reason) < 0)
            return s_fail (p, "[%s] %s: %s", section, key->name, reason);
        copy = strdup (value);
        break;
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
    case T_BYTES: {
        int64_t bytes;
        if (s_bytes_parse (value, &bytes) != 0)
            return s_fail (p, "[%s] %s = '%s' is not a size (like 512, 100K, 10M, 4G)", section,
                           key->name, value);
        *(int64_t *)field = bytes;
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

/* [app NAME] run_once_STEP = command: one per STEP, never empty. */
static int
s_run_once_key (s_parse_t *p, const char *section, const char *key, const char *value)
{
    const char *step = key + strlen (RC_RUN_ONCE_KEY_PREFIX);
    if (!rc_run_once_name_valid (step))
        return s_fail (p, "[%s] %s: the name after %s must be [A-Za-z0-9_-]{1,%d}", section, key,
                       RC_RUN_ONCE_KEY_PREFIX, RC_RUN_ONCE_NAME_MAX);
    if (!*value)
        return s_fail (p, "[%s] %s is empty: give the command it runs", section, key);
    if (p->cfg->role != RC_ROLE_AGENT)
        return 1; /* another program's section */
    const char *appname = section + 4;
    while (*appname == ' ')
        appname++;
    rc_app_config_t *app = s_app_get (p->cfg, appname);
    if (!app)
        return s_fail (p, "out of memory");
    if (rc_app_run_once (app, step))
        return s_fail (p, "key '%s' given twice in [%s]", key, section);
    if (app->run_once_count == RC_RUN_ONCE_PER_APP_MAX)
        return s_fail (p, "[%s] has more than %d run_once_ keys", section, RC_RUN_ONCE_PER_APP_MAX);
    size_t n = app->run_once_count;
    char **names = realloc (app->run_once_names, (n + 1) * sizeof *names);
    if (names)
        app->run_once_names = names;
    char **commands = names ? realloc (app->run_once_commands, (n + 1) * sizeof *commands) : NULL;
    if (commands)
        app->run_once_commands = commands;
    char *name_copy = commands ? strdup (step) : NULL;
    char *command_copy = name_copy ? strdup (value) : NULL;
    if (!command_copy) {
        free (name_copy);
        return s_fail (p, "out of memory");
    }
    app->run_once_names[n] = name_copy;
    app->run_once_commands[n] = command_copy;
    app->run_once_count = n + 1;
    return 1;
}

const char *
rc_app_run_once (const rc_app_config_t *app, const char *name)
{
    for (size_t i = 0; app && name && i < app->run_once_count; i++)
        if (strcmp (app->run_once_names[i], name) == 0)
            return app->run_once_commands[i];
    return NULL;
}

/* [check NAME]: the coordinator's analysis gates (rc_check_config.c);
   another program reading the same file leaves them be. */
static int
s_check_key (s_parse_t *p, const char *section, const char *key, const char *value)
{
    if (p->cfg->role != RC_ROLE_COORDINATOR)
        return 1;
    const char *checkname = section + 6;
    while (*checkname == ' ')
        checkname++;
    char reason[512];
    if (rc_check_config_key (&p->cfg->checks, &p->cfg->check_count, checkname, key, value, reason,
                             sizeof reason)
        != 0)
        return s_fail (p, "%s", reason);
    return 1;
}

static int
s_handle (s_parse_t *p, const char *section, const char *name, const char *value)
{
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
    else if (strncmp (section, "check ", 6) == 0)
        return s_check_key (p, section, name, value);
    else if (strncmp (section, "webhook ", 8) == 0) {
        const char *hookname = section + 8;
        while (*hookname == ' ')
            hookname++;
        if (!rc_name_valid (hookname))
            return s_fail (p, "[%s]: webhook name '%s' must be [A-Za-z0-9._+-]{1,%d}", section,
                           hookname, RC_NAME_MAX);
        where = S_WEBHOOK;
    }
    else
        return s_fail (p,
                       "unknown section [%s] (known: coordinator, agent, client, app NAME, "
                       "check NAME, webhook NAME)",
                       section);

    /* run_once_NAME: NAME is the operator's, so the key is a prefix */
    if (where == S_APP
        && strncmp (name, RC_RUN_ONCE_KEY_PREFIX, strlen (RC_RUN_ONCE_KEY_PREFIX)) == 0)
        return s_run_once_key (p, section, name, value);

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
    bool ours = (where == S_APP && cfg->role == RC_ROLE_AGENT)
                || (where == S_WEBHOOK && cfg->role == RC_ROLE_COORDINATOR)
                || where == s_role_section (cfg->role);
    if (!ours)
        return 1;

    uint64_t *seen = cfg->seen;
    void *base = cfg;
    if (where == S_APP) {
        const char *appname = section + 4;
        while (*appname == ' ')
            appname++;
        app = s_app_get (cfg, appname);
        if (!app)
            return s_fail (p, "out of memory");
        seen = app->seen;
        base = app;
    }
    else if (where == S_WEBHOOK) {
        const char *hookname = section + 8;
        while (*hookname == ' ')
            hookname++;
        rc_webhook_config_t *hook = s_webhook_get (p, hookname);
        if (!hook)
            return 0; /* s_webhook_get said why */
        seen = hook->seen;
        base = hook;
    }
    uint64_t bit = UINT64_C (1) << (index % 64);
    if (seen[index / 64] & bit)
        return s_fail (p, "key '%s' given twice in [%s]", name, section);
    seen[index / 64] |= bit;
    if (where == S_APP && key->offset == APP (releases_dir))
        app->releases_dir_line = p->lineno;
    return s_store (p, key, base, section, value);
}

/* Values read whole, ';' and '#' included: command lines (a shell reads
   its own comments, and "a ; b" is two commands), run_once_NAME commands,
   a check's PromQL query (its strings may hold anything, and '#' starts
   PromQL's own comments). */
static bool
s_verbatim (const char *section, const char *name)
{
    if (strncmp (section, "check ", 6) == 0)
        return strcmp (name, "query") == 0;
    if (strncmp (section, "app ", 4) != 0)
        return false;
    if (strncmp (name, RC_RUN_ONCE_KEY_PREFIX, strlen (RC_RUN_ONCE_KEY_PREFIX)) == 0)
        return true;
    for (size_t i = 0; i < S_KEY_COUNT; i++)
        if ((s_keys[i].sections & S_APP) && strcmp (s_keys[i].name, name) == 0)
            return s_keys[i].type == T_STRING;
    return false;
}

/* An inline comment, in place: from a '#' or ';' that follows a space or
   tab to the end, and the blanks before it. A '#' or ';' with no blank
   before it is text (a URL's #fragment, a secret). libinih (Debian's
   build) cuts only " ;" and never sees either (the reader hides them). */
static void
s_cut_comment (char *value)
{
    for (char *c = value; *c; c++)
        if ((*c == '#' || *c == ';') && c > value && (c[-1] == ' ' || c[-1] == '\t')) {
            while (c > value && (c[-1] == ' ' || c[-1] == '\t'))
                c--;
            *c = '\0';
            return;
        }
}

static int
s_handler (void *user, const char *section, const char *name, const char *value)
{
    s_parse_t *p = (s_parse_t *)user;
    char *s = s_unhide (section);
    char *n = s_unhide (name);
    char *v = s_unhide (value);
    if (s && n && v && !s_verbatim (s, n))
        s_cut_comment (v);
    int rc = s && n && v ? s_handle (p, s, n, v) : s_fail (p, "out of memory");
    free (s);
    free (n);
    free (v);
    return rc;
}

static bool
s_seen (const rc_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < S_KEY_COUNT; i++)
        if (strcmp (s_keys[i].name, name) == 0 && (s_keys[i].sections & ~(S_APP | S_WEBHOOK))
            && (cfg->seen[i / 64] & (UINT64_C (1) << (i % 64))))
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

/* Lexically, in place: "//" and "/./" folded, "/.." takes its parent,
   no trailing '/'. The path is absolute (s_resolve). */
static void
s_path_normalise (char *path)
{
    char *out = path;
    const char *in = path;
    while (*in) {
        while (*in == '/')
            in++;
        const char *end = strchrnul (in, '/');
        size_t len = (size_t)(end - in);
        if (len == 0 || (len == 1 && in[0] == '.')) {
        }
        else if (len == 2 && in[0] == '.' && in[1] == '.') {
            while (out > path && *--out != '/') {
            }
        }
        else {
            *out++ = '/';
            memmove (out, in, len);
            out += len;
        }
        in = end;
    }
    if (out == path)
        *out++ = '/';
    *out = '\0';
}

/* True when a and b are one directory or one holds the other: an app's
   prune of old releases would delete the other's. Symlinks count too when
   both exist. */
static bool
s_dirs_overlap (const char *a, const char *b)
{
    size_t la = strlen (a), lb = strlen (b);
    size_t n = la < lb ? la : lb;
    if (strncmp (a, b, n) == 0
        && (la == lb || (la < lb ? b[n] == '/' || n == 1 : a[n] == '/' || n == 1)))
        return true;
    char ra[PATH_MAX], rb[PATH_MAX];
    if (realpath (a, ra) && realpath (b, rb) && (strcmp (ra, a) != 0 || strcmp (rb, b) != 0))
        return s_dirs_overlap (ra, rb);
    return false;
}

/* Two apps with one releases_dir would prune each other's releases. */
static int
s_releases_dirs_distinct (const rc_config_t *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->app_count; i++)
        for (size_t j = 0; j < i; j++) {
            const rc_app_config_t *a = &cfg->apps[j], *b = &cfg->apps[i];
            if (!s_dirs_overlap (a->releases_dir, b->releases_dir))
                continue;
            snprintf (err, errlen,
                      "%s:%d: [app %s] releases_dir = '%s' overlaps [app %s]'s releases_dir = '%s' "
                      "(line %d): each app needs a directory of its own",
                      cfg->path, b->releases_dir_line, b->name, b->releases_dir, a->name,
                      a->releases_dir, a->releases_dir_line);
            return -1;
        }
    return 0;
}

/* A webhook needs a url and one secret (inline or from a file). */
static int
s_webhooks_finish (rc_config_t *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->webhook_count; i++) {
        rc_webhook_config_t *hook = &cfg->webhooks[i];
        const char *why = !hook->url                          ? "needs url"
                          : hook->secret && hook->secret_file ? "has secret and secret_file: "
                                                                "give one"
                          : !hook->secret && !hook->secret_file
                              ? "needs secret or secret_file (the HMAC key of the signature)"
                              : NULL;
        if (why) {
            snprintf (err, errlen, "%s:%d: [webhook %s] %s", cfg->path, hook->line, hook->name,
                      why);
            return -1;
        }
        if (hook->file_secret) {
            hook->secret = hook->file_secret;
            hook->file_secret = NULL;
        }
    }
    return 0;
}

/* Checks what only the whole file can tell, and fills defaults. */
static int
s_finish (rc_config_t *cfg, char *err, size_t errlen)
{
    const char *section = s_section_label (s_role_section (cfg->role));
    char reason[512];
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
        if (!cfg->event_retention_ms)
            cfg->event_retention_ms = RC_DEFAULT_EVENT_RETENTION_MS;
        if (!cfg->deployment_retention)
            cfg->deployment_retention = RC_DEFAULT_DEPLOYMENT_RETENTION;
        if (!cfg->webhook_max_age_ms)
            cfg->webhook_max_age_ms = RC_DEFAULT_WEBHOOK_MAX_AGE_MS;
        if (s_webhooks_finish (cfg, err, errlen) != 0)
            return -1;
        if (rc_check_config_finish (cfg->checks, cfg->check_count, reason, sizeof reason) != 0) {
            snprintf (err, errlen, "%s: %s", cfg->path, reason);
            return -1;
        }
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
        rc |= s_default (&cfg->user, RC_DEFAULT_AGENT_USER);
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
            if (app->fetch_timeout_ms < 0)
                app->fetch_timeout_ms = RC_DEFAULT_FETCH_TIMEOUT_MS;
            if (app->max_artifact_bytes < 0)
                app->max_artifact_bytes = RC_DEFAULT_MAX_ARTIFACT_BYTES;
            if (app->max_unpacked_bytes < 0)
                app->max_unpacked_bytes = RC_DEFAULT_MAX_UNPACKED_BYTES;
            s_path_normalise (app->releases_dir);
            if (app->health_rise < 0)
                app->health_rise = RC_DEFAULT_HEALTH_RISE;
            if (app->health_fall < 0)
                app->health_fall = RC_DEFAULT_HEALTH_FALL;
            if (app->drain_timeout_ms < 0)
                app->drain_timeout_ms = RC_DEFAULT_DRAIN_TIMEOUT_MS;
            if (app->undrain_timeout_ms < 0)
                app->undrain_timeout_ms = RC_DEFAULT_UNDRAIN_TIMEOUT_MS;
            if (app->keep_warm_ms < 0)
                app->keep_warm_ms = RC_DEFAULT_KEEP_WARM_MS;
            if (!app->slot_count && app->stop) {
                snprintf (err, errlen, "%s: [app %s] stop needs slots", cfg->path, app->name);
                return -1;
            }
            for (size_t k = 0; !app->slot_count && k < app->haproxy_server_count; k++)
                if (strchr (app->haproxy_servers[k], '{')) {
                    snprintf (err, errlen,
                              "%s: [app %s] haproxy_server = '%s' names a slot: needs slots",
                              cfg->path, app->name, app->haproxy_servers[k]);
                    return -1;
                }
            if (!app->slot_count && app->health_url && strstr (app->health_url, "{port}")) {
                snprintf (err, errlen,
                          "%s: [app %s] health_url = '%s' names a slot's port: needs slots",
                          cfg->path, app->name, app->health_url);
                return -1;
            }
            const char *missing = NULL;
            if (app->lb == RC_LB_HAPROXY && !app->haproxy_socket)
                missing = "haproxy_socket";
            else if (app->lb == RC_LB_HAPROXY && !app->haproxy_server_count)
                missing = "haproxy_server";
            if (missing) {
                snprintf (err, errlen, "%s: [app %s] lb = haproxy needs %s", cfg->path, app->name,
                          missing);
                return -1;
            }
            if (app->lb != RC_LB_HAPROXY && (app->haproxy_socket || app->haproxy_server_count)) {
                snprintf (err, errlen,
                          "%s: [app %s] haproxy_socket and haproxy_server need lb = haproxy",
                          cfg->path, app->name);
                return -1;
            }
            if (s_nginx_finish (cfg, app, err, errlen) != 0)
                return -1;
        }
        if (s_releases_dirs_distinct (cfg, err, errlen) != 0)
            return -1;
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
    p.file = fopen (path, "r");
    if (!p.file) {
        snprintf (err, errlen, "%s: cannot open: %s", path, strerror (errno));
        goto fail;
    }
    /* Only our process uses libinih, and only here: setting its global
       option before each parse is safe. */
    if (&ini_max_line)
        ini_max_line = RC_CONFIG_LINE_MAX + S_INI_LINE_SLACK;
    int line = ini_parse_stream (s_read_line, &p, s_handler, &p);
    bool read_error = ferror (p.file);
    fclose (p.file);
    free (p.line);
    if (p.bad_line)
        line = p.bad_line;
    if (line != 0 || read_error) {
        if (line < 0 || read_error)
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
    char **fields[] = {&app->name,
                       &app->releases_dir,
                       &app->install,
                       &app->restart,
                       &app->drain,
                       &app->undrain,
                       &app->health_url,
                       &app->health_body,
                       &app->health_command,
                       &app->user,
                       &app->artifact_sources,
                       &app->trusted_signers,
                       &app->haproxy_socket,
                       &app->stop,
                       &app->nginx_upstream_file,
                       &app->nginx_test,
                       &app->nginx_reload};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free (*fields[i]);
        *fields[i] = NULL;
    }
    for (size_t i = 0; i < app->haproxy_server_count; i++)
        free (app->haproxy_servers[i]);
    free (app->haproxy_servers);
    app->haproxy_servers = NULL;
    app->haproxy_server_count = 0;
    for (size_t i = 0; i < app->run_once_count; i++) {
        free (app->run_once_names[i]);
        free (app->run_once_commands[i]);
    }
    free (app->run_once_names);
    free (app->run_once_commands);
    app->run_once_names = app->run_once_commands = NULL;
    app->run_once_count = 0;
    for (size_t i = 0; i < app->nginx_server_count; i++)
        free (app->nginx_servers[i]);
    free (app->nginx_servers);
    app->nginx_servers = NULL;
    app->nginx_server_count = 0;
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
                       &self->read_only_operator_keys_dir,
                       &self->freeze,
                       &self->metrics_endpoint,
                       &self->control_endpoint,
                       &self->id,
                       &self->coordinator_endpoint,
                       &self->coordinator_publish_endpoint,
                       &self->state_dir,
                       &self->labels_text,
                       &self->user,
                       &self->secret_key,
                       &self->coordinator_public_key};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free (*fields[i]);
    for (size_t i = 0; i < self->app_count; i++)
        s_app_free (&self->apps[i]);
    free (self->apps);
    for (size_t i = 0; i < self->webhook_count; i++) {
        rc_webhook_config_t *hook = &self->webhooks[i];
        free (hook->name);
        free (hook->url);
        free (hook->events);
        rc_webhook_secret_free (&hook->secret);
        rc_webhook_secret_free (&hook->file_secret);
        free (hook->secret_file);
    }
    free (self->webhooks);
    rc_check_config_free (&self->checks, &self->check_count);
    zcert_destroy (&self->cert);
    free (self);
    *self_p = NULL;
}

/* dir must be a directory we can read (and write, when asked); a missing
   one is fine when missing_ok (the daemon creates it). */
static int
s_check_dir (const rc_config_t *cfg, const char *what, const char *dir, bool write, bool missing_ok,
             char *err, size_t errlen)
{
    struct stat st;
    if (stat (dir, &st) != 0) {
        if (errno == ENOENT && missing_ok)
            return 0;
        snprintf (err, errlen, "%s: %s %s: %s", cfg->path, what, dir, strerror (errno));
        return -1;
    }
    if (!S_ISDIR (st.st_mode)) {
        snprintf (err, errlen, "%s: %s %s: not a directory", cfg->path, what, dir);
        return -1;
    }
    if (access (dir, R_OK | X_OK | (write ? W_OK : 0)) != 0) {
        snprintf (err, errlen, "%s: %s %s: %s", cfg->path, what, dir, strerror (errno));
        return -1;
    }
    return 0;
}

int
rc_config_check (const rc_config_t *self, char *err, size_t errlen)
{
    /* keys were loaded while reading: secret_key and the coordinator's
       public key are known good here */
    if (self->role == RC_ROLE_COORDINATOR) {
        if (s_check_dir (self, "agent_keys_dir", self->agent_keys_dir, false, false, err, errlen)
                != 0
            || s_check_dir (self, "operator_keys_dir", self->operator_keys_dir, false, false, err,
                            errlen)
                   != 0
            || s_check_dir (self, "data_dir", self->data_dir, true, true, err, errlen) != 0)
            return -1;
        if (self->read_only_operator_keys_dir
            && s_check_dir (self, "read_only_operator_keys_dir", self->read_only_operator_keys_dir,
                            false, false, err, errlen)
                   != 0)
            return -1;
    }
    if (self->role == RC_ROLE_AGENT) {
        if (s_check_dir (self, "state_dir", self->state_dir, true, true, err, errlen) != 0)
            return -1;
        for (size_t i = 0; i < self->app_count; i++) {
            const rc_app_config_t *app = &self->apps[i];
            if (app->user && !getpwnam (app->user)) {
                snprintf (err, errlen, "%s: [app %s] user = '%s': no such user", self->path,
                          app->name, app->user);
                return -1;
            }
        }
    }
    return 0;
}

const rc_app_config_t *
rc_config_app (const rc_config_t *self, const char *name)
{
    for (size_t i = 0; i < self->app_count; i++)
        if (strcmp (self->apps[i].name, name) == 0)
            return &self->apps[i];
    return NULL;
}
