/*  rc_check_config.c - [check NAME] sections of the coordinator's config
    (see rc_check_config.h): each key checked as it is read, the section as
    a whole at the end. */
#include "rc_check_config.h"
#include "rc_addr.h"
#include "rc_ids.h"
#include "rc_time.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_no_data_names[] = {
    [RC_CHECK_NO_DATA_INCONCLUSIVE] = "inconclusive",
    [RC_CHECK_NO_DATA_FAIL] = "fail",
    [RC_CHECK_NO_DATA_PASS] = "pass",
};

const char *
rc_check_no_data_name (rc_check_no_data_t how)
{
    return (size_t)how < sizeof s_no_data_names / sizeof s_no_data_names[0] ? s_no_data_names[how]
                                                                            : "?";
}

typedef enum {
    K_PROMETHEUS,
    K_QUERY,
    K_MAX,
    K_MIN,
    K_INTERVAL,
    K_TIMEOUT,
    K_FAILURES,
    K_ON_NO_DATA,
    K_HAPROXY_SOCKET,
    K_HAPROXY_BACKEND,
    K_HAPROXY_SERVER,
    K_MIN_REQUESTS,
    K_COUNT
} s_key_t;

static const char *const s_key_names[K_COUNT] = {
    [K_PROMETHEUS] = "prometheus",
    [K_QUERY] = "query",
    [K_MAX] = "max",
    [K_MIN] = "min",
    [K_INTERVAL] = "interval",
    [K_TIMEOUT] = "timeout",
    [K_FAILURES] = "failures",
    [K_ON_NO_DATA] = "on_no_data",
    [K_HAPROXY_SOCKET] = "haproxy_socket",
    [K_HAPROXY_BACKEND] = "haproxy_backend",
    [K_HAPROXY_SERVER] = "haproxy_server",
    [K_MIN_REQUESTS] = "min_requests",
};

const rc_check_config_t *
rc_check_config_find (const rc_check_config_t *checks, size_t count, const char *name)
{
    for (size_t i = 0; checks && name && i < count; i++)
        if (strcmp (checks[i].name, name) == 0)
            return &checks[i];
    return NULL;
}

static rc_check_config_t *
s_get (rc_check_config_t **checks, size_t *count, const char *name)
{
    rc_check_config_t *found = (rc_check_config_t *)rc_check_config_find (*checks, *count, name);
    if (found)
        return found;
    rc_check_config_t *grown = realloc (*checks, (*count + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    *checks = grown;
    rc_check_config_t *c = &grown[(*count)++];
    memset (c, 0, sizeof *c);
    c->name = strdup (name);
    c->failures = -1;
    c->min_requests = -1;
    return c->name ? c : NULL;
}

/* A HAProxy proxy or server name: what haproxy_server in [app] takes */
static bool
s_haproxy_name (const char *text, bool host_pattern)
{
    size_t len = strlen (text);
    if (len == 0 || len > 128)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (host_pattern && strncmp (text + i, "{host}", 6) == 0) {
            i += 5;
            continue;
        }
        char c = text[i];
        if (!(isalnum ((unsigned char)c) || c == '.' || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

static bool
s_number (const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod (text, &end);
    if (errno || end == text || *end || !isfinite (v))
        return false;
    *out = v;
    return true;
}

static int
s_text (char **field, const char *value, char *err, size_t errlen)
{
    char *copy = strdup (value);
    if (!copy) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    free (*field);
    *field = copy;
    return 0;
}

int
rc_check_config_key (rc_check_config_t **checks, size_t *count, const char *name, const char *key,
                     const char *value, char *err, size_t errlen)
{
    if (!rc_name_valid (name)) {
        snprintf (err, errlen, "[check %s]: check name '%s' must be [A-Za-z0-9._+-]{1,%d}", name,
                  name, RC_NAME_MAX);
        return -1;
    }
    int k = 0;
    while (k < K_COUNT && strcmp (s_key_names[k], key) != 0)
        k++;
    if (k == K_COUNT) {
        snprintf (err, errlen,
                  "unknown key '%s' in [check %s] (known: prometheus, query, max, min, interval, "
                  "timeout, failures, on_no_data, haproxy_socket, haproxy_backend, "
                  "haproxy_server, min_requests)",
                  key, name);
        return -1;
    }
    rc_check_config_t *c = s_get (checks, count, name);
    if (!c) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    if (c->seen & (1u << k)) {
        snprintf (err, errlen, "key '%s' given twice in [check %s]", key, name);
        return -1;
    }
    c->seen |= 1u << k;
    if (!*value) {
        snprintf (err, errlen, "[check %s] %s is empty", name, key);
        return -1;
    }
    switch ((s_key_t)k) {
    case K_PROMETHEUS:
        if ((strncmp (value, "http://", 7) != 0 && strncmp (value, "https://", 8) != 0)
            || strcspn (value, " \t\"'") != strlen (value)) {
            snprintf (err, errlen, "[check %s] prometheus = '%s' is not an http:// or https:// URL",
                      name, value);
            return -1;
        }
        return s_text (&c->prometheus, value, err, errlen);
    case K_QUERY:
        if (strlen (value) > RC_CHECK_QUERY_MAX) {
            snprintf (err, errlen, "[check %s] query is longer than %d characters", name,
                      RC_CHECK_QUERY_MAX);
            return -1;
        }
        return s_text (&c->query, value, err, errlen);
    case K_MAX:
    case K_MIN: {
        double v;
        if (!s_number (value, &v)) {
            snprintf (err, errlen, "[check %s] %s = '%s' is not a number", name, key, value);
            return -1;
        }
        if (k == K_MAX) {
            c->max = v;
            c->has_max = true;
        }
        else {
            c->min = v;
            c->has_min = true;
        }
        return 0;
    }
    case K_INTERVAL:
    case K_TIMEOUT: {
        int64_t ms = 0;
        if (rc_duration_parse (value, &ms) != 0 || ms < RC_CHECK_INTERVAL_MIN_MS) {
            snprintf (err, errlen,
                      "[check %s] %s = '%s' is not a duration of at least %dms (like 500ms, 10s)",
                      name, key, value, RC_CHECK_INTERVAL_MIN_MS);
            return -1;
        }
        *(k == K_INTERVAL ? &c->interval_ms : &c->timeout_ms) = ms;
        return 0;
    }
    case K_FAILURES:
    case K_MIN_REQUESTS: {
        long max = k == K_FAILURES ? RC_CHECK_FAILURES_MAX : RC_CHECK_MIN_REQUESTS_MAX;
        char *end = NULL;
        errno = 0;
        long n = strtol (value, &end, 10);
        if (errno || end == value || *end || n < 1 || n > max) {
            snprintf (err, errlen, "[check %s] %s = '%s' is not a whole number from 1 to %ld", name,
                      key, value, max);
            return -1;
        }
        *(k == K_FAILURES ? &c->failures : &c->min_requests) = (int)n;
        return 0;
    }
    case K_ON_NO_DATA:
        for (size_t i = 0; i < sizeof s_no_data_names / sizeof s_no_data_names[0]; i++)
            if (strcmp (value, s_no_data_names[i]) == 0) {
                c->on_no_data = (rc_check_no_data_t)i;
                return 0;
            }
        snprintf (err, errlen, "[check %s] on_no_data = '%s' must be fail, pass or inconclusive",
                  name, value);
        return -1;
    case K_HAPROXY_SOCKET: {
        if (!rc_addr_socket_valid (value)) {
            snprintf (err, errlen,
                      "[check %s] haproxy_socket = '%s' must be an absolute unix socket path or "
                      "tcp://ADDRESS:PORT",
                      name, value);
            return -1;
        }
        return s_text (&c->haproxy_socket, value, err, errlen);
    }
    case K_HAPROXY_BACKEND:
    case K_HAPROXY_SERVER: {
        bool server = k == K_HAPROXY_SERVER;
        if (!s_haproxy_name (value, server)) {
            snprintf (err, errlen, "[check %s] %s = '%s' must be [A-Za-z0-9._:-]{1,128}%s", name,
                      key, value, server ? " ({host} for the host's id)" : "");
            return -1;
        }
        return s_text (server ? &c->haproxy_server : &c->haproxy_backend, value, err, errlen);
    }
    case K_COUNT: break;
    }
    return 0;
}

int
rc_check_config_finish (rc_check_config_t *checks, size_t count, char *err, size_t errlen)
{
    for (size_t i = 0; i < count; i++) {
        rc_check_config_t *c = &checks[i];
        bool prom = c->prometheus || c->query;
        bool haproxy = c->haproxy_socket || c->haproxy_backend || c->haproxy_server;
        const char *why = NULL;
        if (prom && haproxy)
            why = "reads Prometheus (prometheus, query) or HAProxy (haproxy_socket, "
                  "haproxy_backend), not both";
        else if (!prom && !haproxy)
            why = "needs prometheus and query, or haproxy_socket and haproxy_backend";
        else if (prom && !c->prometheus)
            why = "needs prometheus (the URL of the Prometheus the query is asked)";
        else if (prom && !c->query)
            why = "needs query";
        else if (haproxy && !c->haproxy_socket)
            why = "needs haproxy_socket";
        else if (haproxy && !c->haproxy_backend)
            why = "needs haproxy_backend";
        else if (!haproxy && c->min_requests > 0)
            why = "min_requests is for HAProxy checks (a query says what it counts)";
        else if (!c->has_max && !c->has_min)
            why = "needs max and/or min: the bounds its value must stay within";
        else if (c->has_max && c->has_min && c->min > c->max)
            why = "has min above max: no value could pass";
        if (why) {
            snprintf (err, errlen, "[check %s] %s", c->name, why);
            return -1;
        }
        if (c->interval_ms == 0)
            c->interval_ms = RC_CHECK_DEFAULT_INTERVAL_MS;
        if (c->timeout_ms == 0)
            c->timeout_ms = RC_CHECK_DEFAULT_TIMEOUT_MS;
        if (c->failures < 0)
            c->failures = RC_CHECK_DEFAULT_FAILURES;
        if (c->min_requests < 0)
            c->min_requests = RC_CHECK_DEFAULT_MIN_REQUESTS;
        if (haproxy && !c->haproxy_server
            && !(c->haproxy_server = strdup (RC_CHECK_DEFAULT_HAPROXY_SERVER))) {
            snprintf (err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

void
rc_check_config_free (rc_check_config_t **checks, size_t *count)
{
    for (size_t i = 0; *checks && i < *count; i++) {
        rc_check_config_t *c = &(*checks)[i];
        free (c->name);
        free (c->prometheus);
        free (c->query);
        free (c->haproxy_socket);
        free (c->haproxy_backend);
        free (c->haproxy_server);
    }
    free (*checks);
    *checks = NULL;
    *count = 0;
}
