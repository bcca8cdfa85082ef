/*  rc_sources.c - parsing and matching of artifact source prefixes. A URL
    is never compared as text: it is split into scheme, host and a decoded
    path, and anything another parser could read differently from us (a
    userinfo part, an encoded slash or dot segment, an empty segment, a
    fragment) is refused before any comparison. */
#include "rc_sources.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S_SEPARATORS " ,\t"

typedef struct {
    char scheme[8];                /* http, https or file */
    char host[RC_SOURCES_URL_MAX]; /* lower case, with any :port; "" for file */
    char path[RC_SOURCES_URL_MAX]; /* percent-decoded; "" when none */
    bool any_host;                 /* a prefix "http://" or "https://" alone */
} s_url_t;

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower ((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes the path text [p, end) into out and checks its segments. */
static int
s_path (const char *p, const char *end, s_url_t *u, const char *text, char *err, size_t errlen)
{
    size_t n = 0;
    while (p < end) {
        int c = (unsigned char)*p++;
        if (c == '%') {
            int hi = p < end ? s_hex (p[0]) : -1;
            int lo = p + 1 < end ? s_hex (p[1]) : -1;
            if (hi < 0 || lo < 0) {
                snprintf (err, errlen, "'%s': a '%%' not followed by two hex digits", text);
                return -1;
            }
            c = hi * 16 + lo;
            p += 2;
            /* a separator that only exists after decoding is read one way
               by us and maybe another way by the server */
            if (c < ' ' || c == 0x7f || c == '/' || c == '\\') {
                snprintf (err, errlen,
                          "'%s': an encoded separator or control character in the path", text);
                return -1;
            }
        }
        if (n + 1 >= sizeof u->path) {
            snprintf (err, errlen, "'%.80s...': path too long", text);
            return -1;
        }
        u->path[n++] = (char)c;
    }
    u->path[n] = '\0';
    /* segments after the leading '/': no ".", "..", nor empty ones (only the
       last may be empty: a trailing '/') */
    const char *seg = u->path + (u->path[0] == '/');
    while (*u->path) {
        const char *slash = strchr (seg, '/');
        size_t len = slash ? (size_t)(slash - seg) : strlen (seg);
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) {
            snprintf (err, errlen, "'%s': a '.' or '..' segment in the path", text);
            return -1;
        }
        if (len == 0 && slash) {
            snprintf (err, errlen, "'%s': an empty segment ('//') in the path", text);
            return -1;
        }
        if (!slash)
            break;
        seg = slash + 1;
    }
    return 0;
}

/* Parses text; a prefix may be a scheme alone and has no query. */
static int
s_parse (const char *text, bool prefix, s_url_t *u, char *err, size_t errlen)
{
    memset (u, 0, sizeof *u);
    if (!text || !*text) {
        snprintf (err, errlen, "an empty URL");
        return -1;
    }
    if (strlen (text) >= RC_SOURCES_URL_MAX) {
        snprintf (err, errlen, "'%.80s...': longer than %d bytes", text, RC_SOURCES_URL_MAX - 1);
        return -1;
    }
    for (const char *c = text; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '\\' || *c == '#') {
            snprintf (err, errlen, "'%s': spaces, control characters, '\\' or '#' in the URL",
                      text);
            return -1;
        }
    const char *colon = strstr (text, "://");
    size_t slen = colon ? (size_t)(colon - text) : 0;
    static const char *const schemes[] = {"http", "https", "file"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (slen == strlen (schemes[i]) && strncasecmp (text, schemes[i], slen) == 0)
            snprintf (u->scheme, sizeof u->scheme, "%s", schemes[i]);
    if (!u->scheme[0]) {
        snprintf (err, errlen, "'%s': scheme must be http://, https:// or file://", text);
        return -1;
    }
    bool file = strcmp (u->scheme, "file") == 0;
    const char *auth = colon + 3;
    size_t alen = strcspn (auth, "/?");
    if (memchr (auth, '@', alen)) {
        snprintf (err, errlen, "'%s': a user name ('user@') is not allowed in the URL", text);
        return -1;
    }
    for (size_t i = 0; i < alen; i++) {
        char c = (char)tolower ((unsigned char)auth[i]);
        if (!isalnum ((unsigned char)c) && !strchr (".-:[]", c)) {
            snprintf (err, errlen, "'%s': character '%c' in the host name", text, auth[i]);
            return -1;
        }
        u->host[i] = c;
    }
    if (file && strcmp (u->host, "localhost") == 0)
        u->host[0] = '\0';
    if (file && u->host[0]) {
        snprintf (err, errlen, "'%s': a file:// URL names no host (file:///PATH)", text);
        return -1;
    }
    const char *path = auth + alen;
    if (!file && !u->host[0]) {
        if (prefix && !*path) {
            u->any_host = true;
            return 0;
        }
        snprintf (err, errlen, "'%s': no host name", text);
        return -1;
    }
    const char *query = strchr (path, '?');
    if (query && (file || prefix)) {
        snprintf (err, errlen, "'%s': a %s has no query ('?')", text,
                  prefix ? "source prefix" : "file:// URL");
        return -1;
    }
    if (file && *path != '/') {
        snprintf (err, errlen, "'%s': a file:// URL needs an absolute path (file:///PATH)", text);
        return -1;
    }
    return s_path (path, query ? query : path + strlen (path), u, text, err, errlen);
}

static bool
s_under (const s_url_t *prefix, const s_url_t *url)
{
    if (strcmp (prefix->scheme, url->scheme) != 0)
        return false;
    if (prefix->any_host)
        return true;
    if (strcmp (prefix->host, url->host) != 0)
        return false;
    size_t n = strlen (prefix->path);
    if (n == 0)
        return true;
    if (strncmp (prefix->path, url->path, n) != 0)
        return false;
    /* "/srv/drop" covers "/srv/drop/x", never "/srv/dropped" */
    return prefix->path[n - 1] == '/' || url->path[n] == '\0' || url->path[n] == '/';
}

/* Calls each prefix of list in turn: copies it into buf. Returns the next
   position, or NULL at the end. */
static const char *
s_next (const char *list, char *buf, size_t len)
{
    list += strspn (list, S_SEPARATORS);
    if (!*list)
        return NULL;
    size_t n = strcspn (list, S_SEPARATORS);
    snprintf (buf, len, "%.*s", (int)(n < len ? n : len - 1), list);
    return list + n;
}

int
rc_sources_check_list (const char *list, char *err, size_t errlen)
{
    s_url_t u;
    char prefix[RC_SOURCES_URL_MAX];
    size_t count = 0;
    for (const char *p = list; p && (p = s_next (p, prefix, sizeof prefix));) {
        if (s_parse (prefix, true, &u, err, errlen) != 0)
            return -1;
        if (++count > RC_SOURCES_MAX) {
            snprintf (err, errlen, "more than %d prefixes", RC_SOURCES_MAX);
            return -1;
        }
    }
    if (count == 0) {
        snprintf (err, errlen, "no prefix given");
        return -1;
    }
    return 0;
}

int
rc_sources_check_url (const char *url, char *err, size_t errlen)
{
    s_url_t u;
    return s_parse (url, false, &u, err, errlen);
}

int
rc_sources_match (const char *list, const char *url, char *matched, size_t matchlen, char *err,
                  size_t errlen)
{
    s_url_t u, p;
    char why[RC_SOURCES_URL_MAX + 128];
    if (s_parse (url, false, &u, why, sizeof why) != 0) {
        snprintf (err, errlen, "artifact %s", why);
        return -1;
    }
    if (!list || !*list)
        list = RC_SOURCES_DEFAULT;
    char prefix[RC_SOURCES_URL_MAX];
    for (const char *at = list; (at = s_next (at, prefix, sizeof prefix));)
        if (s_parse (prefix, true, &p, why, sizeof why) == 0 && s_under (&p, &u)) {
            snprintf (matched, matchlen, "%s", prefix);
            return 0;
        }
    snprintf (err, errlen, "artifact '%s' is not under an allowed source (artifact_sources = %s)",
              url, list);
    return -1;
}

int
rc_sources_file_path (const char *url, char *path, size_t pathlen)
{
    s_url_t u;
    char err[64];
    if (s_parse (url, true, &u, err, sizeof err) != 0 || strcmp (u.scheme, "file") != 0
        || strlen (u.path) >= pathlen)
        return -1;
    snprintf (path, pathlen, "%s", u.path);
    return 0;
}
