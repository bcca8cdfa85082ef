/*  rc_webhook.c - the pure parts of a webhook delivery: format names, the
    events filter, the signature and the retry schedule (rc_webhook.h). */
#include "rc_webhook.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fnmatch.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The one place a format is spelled. */
static const char *const s_format_names[] = {
    [RC_WEBHOOK_JSON] = "json",
    [RC_WEBHOOK_SLACK] = "slack",
};
#define S_FORMAT_COUNT (sizeof s_format_names / sizeof s_format_names[0])

const char *
rc_webhook_format_name (rc_webhook_format_t format)
{
    return (size_t)format < S_FORMAT_COUNT ? s_format_names[format] : "";
}

int
rc_webhook_format_parse (const char *name, rc_webhook_format_t *format)
{
    for (size_t i = 0; i < S_FORMAT_COUNT; i++)
        if (strcmp (name, s_format_names[i]) == 0) {
            *format = (rc_webhook_format_t)i;
            return 0;
        }
    return -1;
}

/* An event kind is [a-z_] (rc_store_event's callers); a glob adds * ? [ ]
   and may use capitals and digits for kinds to come. */
static bool
s_glob_char (char c)
{
    return isalnum ((unsigned char)c) || c == '_' || c == '-' || c == '*' || c == '?' || c == '['
           || c == ']' || c == '!';
}

/* Calls fn on each item of the list (blanks trimmed) until it returns
   true; returns whether one did. */
static bool
s_each_item (const char *list, bool (*fn) (const char *item, size_t len, void *arg), void *arg)
{
    const char *c = list;
    while (*c) {
        c += strspn (c, ", \t");
        size_t len = strcspn (c, ",");
        size_t trimmed = len;
        while (trimmed > 0 && (c[trimmed - 1] == ' ' || c[trimmed - 1] == '\t'))
            trimmed--;
        if (trimmed && fn (c, trimmed, arg))
            return true;
        c += len;
    }
    return false;
}

typedef struct {
    char *err;
    size_t errlen;
    size_t items;
} s_check_t;

static bool
s_check_item (const char *item, size_t len, void *arg)
{
    s_check_t *check = (s_check_t *)arg;
    check->items++;
    for (size_t i = 0; i < len; i++)
        if (!s_glob_char (item[i])) {
            snprintf (check->err, check->errlen,
                      "'%.*s' is not an event kind or glob ([A-Za-z0-9_-] and * ? [ ])",
                      (int)(len > 64 ? 64 : len), item);
            return true;
        }
    return false;
}

int
rc_webhook_events_check (const char *events, char *err, size_t errlen)
{
    if (strlen (events) > RC_WEBHOOK_EVENTS_MAX) {
        snprintf (err, errlen, "longer than %d characters", RC_WEBHOOK_EVENTS_MAX);
        return -1;
    }
    s_check_t check = {err, errlen, 0};
    if (s_each_item (events, s_check_item, &check))
        return -1;
    if (check.items == 0) {
        snprintf (err, errlen, "names no event kind (leave it out for all)");
        return -1;
    }
    return 0;
}

static bool
s_match_item (const char *item, size_t len, void *arg)
{
    char glob[RC_WEBHOOK_EVENTS_MAX + 1];
    snprintf (glob, sizeof glob, "%.*s", (int)len, item);
    return fnmatch (glob, (const char *)arg, 0) == 0;
}

bool
rc_webhook_events_match (const char *events, const char *kind)
{
    if (!events || !*events)
        return true;
    return s_each_item (events, s_match_item, (void *)kind);
}

void
rc_webhook_sign (const char *secret, const void *body, size_t len,
                 char out[RC_WEBHOOK_SIGNATURE_LEN + 1])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init (&state, (const unsigned char *)secret, strlen (secret));
    crypto_auth_hmacsha256_update (&state, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final (&state, mac);
    memcpy (out, "sha256=", 7);
    sodium_bin2hex (out + 7, RC_WEBHOOK_SIGNATURE_LEN + 1 - 7, mac, sizeof mac);
}

int64_t
rc_webhook_backoff_ms (int attempt, double jitter)
{
    int64_t wait = RC_WEBHOOK_BACKOFF_BASE_MS;
    for (int i = 1; i < attempt && wait < RC_WEBHOOK_BACKOFF_CAP_MS; i++)
        wait *= 2;
    if (wait > RC_WEBHOOK_BACKOFF_CAP_MS)
        wait = RC_WEBHOOK_BACKOFF_CAP_MS;
    if (jitter < 0)
        jitter = 0;
    if (jitter >= 1)
        jitter = 0.999;
    return wait + (int64_t)((double)wait * RC_WEBHOOK_BACKOFF_JITTER_PCT / 100.0 * jitter);
}

bool
rc_webhook_status_retries (long status)
{
    return status == 0 || status == 429 || (status >= 500 && status <= 599);
}

/* A webhook's URL: http or https, and whole as libcurl reads it (what is
   posted to is what was checked; nothing else ever sees the URL). */
bool
rc_webhook_url_valid (const char *value)
{
    if (strncmp (value, "http://", 7) != 0 && strncmp (value, "https://", 8) != 0)
        return false;
    CURLU *url = curl_url ();
    char *host = NULL;
    bool ok = url && curl_url_set (url, CURLUPART_URL, value, 0) == CURLUE_OK
              && curl_url_get (url, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host;
    curl_free (host);
    curl_url_cleanup (url);
    return ok;
}

/* A secret kept in a file: readable by its owner only (like an ssh key),
   one line, not empty. 0, or -1 with reason. */
int
rc_webhook_secret_read (const char *path, char **secret, char *reason, size_t len)
{
    struct stat st;
    *secret = NULL;
    FILE *file = fopen (path, "r");
    if (!file || fstat (fileno (file), &st) != 0) {
        snprintf (reason, len, "cannot read %s: %s", path, strerror (errno));
        if (file)
            fclose (file);
        return -1;
    }
    char text[RC_WEBHOOK_SECRET_MAX + 2];
    size_t n = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text[n] = '\0';
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        text[--n] = '\0';
    if ((st.st_mode & 077) != 0)
        snprintf (reason, len, "%s is open to its group or others (mode %03o): chmod 600 it", path,
                  (unsigned)(st.st_mode & 0777));
    else if (n == 0)
        snprintf (reason, len, "%s is empty", path);
    else if (n > RC_WEBHOOK_SECRET_MAX || strchr (text, '\n') || strlen (text) != n)
        snprintf (reason, len, "%s must hold one line of at most %d characters", path,
                  RC_WEBHOOK_SECRET_MAX);
    else if (!(*secret = strdup (text)))
        snprintf (reason, len, "out of memory");
    sodium_memzero (text, sizeof text);
    return *secret ? 0 : -1;
}

void
rc_webhook_secret_free (char **secret_p)
{
    if (secret_p && *secret_p) {
        sodium_memzero (*secret_p, strlen (*secret_p));
        free (*secret_p);
        *secret_p = NULL;
    }
}
