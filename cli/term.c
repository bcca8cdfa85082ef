/*  term.c - what the CLI prints on a terminal: lines cut to its width
    (TIOCGWINSZ, or COLUMNS), colours only where wanted (not with NO_COLOR,
    TERM=dumb or a pipe), and text from agents with its control characters
    escaped, so a hook's output cannot drive the operator's terminal. */
#define _XOPEN_SOURCE 700
#include "cli.h"
#include "rc_defaults.h"
#include "rc_time.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Fewer columns than this is taken as a mistake: no cutting at all. */
#define RC_CLI_MIN_WIDTH 20

static struct {
    bool init;
    bool tty;   /* stdout is a terminal */
    bool dumb;  /* TERM=dumb (or none): no cursor moves, no colours */
    bool color; /* colours wanted */
    int width;  /* columns, 0 = no limit */
} s_term;

static char *s_ring[RC_CLI_ESC_RING];
static size_t s_ring_next;

void
rc_cli_term_init (void)
{
    s_term.tty = isatty (STDOUT_FILENO);
    const char *term = getenv ("TERM");
    s_term.dumb = !term || !*term || strcmp (term, "dumb") == 0;
    const char *no_color = getenv ("NO_COLOR");
    s_term.color = s_term.tty && !s_term.dumb && !(no_color && *no_color);
    s_term.width = 0;
    const char *columns = getenv ("COLUMNS");
    struct winsize ws;
    if (columns && *columns)
        s_term.width = atoi (columns);
    else if (s_term.tty && ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        s_term.width = ws.ws_col;
    if (s_term.width < RC_CLI_MIN_WIDTH)
        s_term.width = 0;
    s_term.init = true;
}

int
rc_cli_width (void)
{
    return s_term.width;
}

bool
rc_cli_color (void)
{
    return s_term.color;
}

bool
rc_cli_live (void)
{
    return s_term.tty && !s_term.dumb;
}

static const char *
s_keep (char *text)
{
    free (s_ring[s_ring_next]);
    s_ring[s_ring_next] = text;
    s_ring_next = (s_ring_next + 1) % RC_CLI_ESC_RING;
    return text ? text : "";
}

/* The length of the UTF-8 sequence at p and its code point, or 0 when the
   bytes there are not one (overlong, surrogate, truncated). */
static size_t
s_utf8 (const unsigned char *p, uint32_t *cp)
{
    size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (p[0] >= 0xf8 || n == 0)
        return 0;
    uint32_t c = p[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff))
        || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* Code points a terminal acts on or that reorder text: C1 controls and
   bidirectional overrides. */
static bool
s_unsafe (uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e)
           || (cp >= 0x2066 && cp <= 0x2069);
}

const char *
rc_cli_esc (const char *text)
{
    if (!text)
        return "";
    size_t len = strlen (text);
    /* the worst case: every byte as \xNN */
    size_t size = len * 4 + 1;
    char *out = (char *)malloc (size);
    if (!out)
        return s_keep (NULL);
    char *o = out, *end = out + size;
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        uint32_t cp = 0;
        size_t n = *p < 0x80 ? 1 : s_utf8 (p, &cp);
        if (*p == '\n' || *p == '\t' || *p == '\r') {
            o += snprintf (o, (size_t)(end - o), "\\%c", *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r');
            p++;
        }
        else if (*p < 0x20 || *p == 0x7f || n == 0) {
            o += snprintf (o, (size_t)(end - o), "\\x%02x", *p);
            p++;
        }
        else if (n > 1 && s_unsafe (cp)) {
            o += snprintf (o, (size_t)(end - o), "\\u%04x", (unsigned)cp);
            p += n;
        }
        else {
            memcpy (o, p, n);
            o += n;
            p += n;
        }
    }
    *o = '\0';
    return s_keep (out);
}

const char *
rc_cli_state (const char *state, int width)
{
    const char *text = rc_cli_esc (state);
    const char *color = s_term.color ? rc_cli_state_color (state) : NULL;
    int pad = width - (int)strlen (text);
    if (pad < 0)
        pad = 0;
    char *out = color ? zsys_sprintf ("%s%s\033[0m%*s", color, text, pad, "")
                      : zsys_sprintf ("%s%*s", text, pad, "");
    return s_keep (out);
}

void
rc_cli_fit (const char *text, int width, char *buf, size_t len)
{
    const char *p = text;
    int cols = 0;
    bool cut = false;
    size_t used = 0;
    while (*p && used + 8 < len) {
        if (*p == '\033' && p[1] == '[') {
            /* our own colour codes: copied, no width */
            size_t n = 2 + strspn (p + 2, "0123456789;");
            if (p[n] == 'm')
                n++;
            if (used + n + 8 >= len)
                break;
            memcpy (buf + used, p, n);
            used += n;
            p += n;
            continue;
        }
        size_t n = 1;
        while ((p[n] & 0xc0) == 0x80)
            n++;
        if (width > 0 && cols >= width - 3 && strlen (p) > 0) {
            /* does the rest fit in the 3 columns left? */
            int rest = 0;
            for (const char *q = p; *q; q++)
                rest += (*q & 0xc0) != 0x80 && *q != '\033';
            if (cols + rest > width) {
                cut = true;
                break;
            }
        }
        memcpy (buf + used, p, n);
        used += n;
        p += n;
        cols++;
    }
    if (cut)
        used += (size_t)snprintf (buf + used, len - used, "%s...", s_term.color ? "\033[0m" : "");
    buf[used] = '\0';
}

void
rc_cli_vline (const char *prefix, int width, const char *fmt, va_list args)
{
    char *text = NULL;
    if (vasprintf (&text, fmt, args) < 0)
        return;
    if (width > 0) {
        size_t len = strlen (text) + 16;
        char *fit = (char *)malloc (len);
        if (fit) {
            rc_cli_fit (text, width, fit, len);
            free (text);
            text = fit;
        }
    }
    printf ("%s%s\n", prefix, text);
    free (text);
}

void
rc_cli_line (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    rc_cli_vline ("", s_term.width, fmt, args);
    va_end (args);
}

const char *
rc_cli_iso_time (int64_t ms, char *buf, size_t len)
{
    if (ms <= 0) {
        snprintf (buf, len, "%s", "");
        return buf;
    }
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    strftime (buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

const char *
rc_cli_clock (int64_t ms, char *buf, size_t len)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    strftime (buf, len, "%H:%M:%S", &tm);
    return buf;
}

int64_t
rc_cli_parse_when (const char *text, int64_t now_ms)
{
    int64_t ms;
    if (rc_duration_parse (text, &ms) == 0)
        return now_ms + ms;
    static const char *forms[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S",
                                  "%Y-%m-%d %H:%M", "%Y-%m-%d"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct tm tm;
        memset (&tm, 0, sizeof tm);
        const char *rest = strptime (text, forms[i], &tm);
        if (!rest)
            continue;
        time_t secs;
        if (!*rest) {
            /* no zone: the operator's local time */
            tm.tm_isdst = -1;
            secs = mktime (&tm);
        }
        else if (!strcmp (rest, "Z"))
            secs = timegm (&tm);
        else if ((rest[0] == '+' || rest[0] == '-') && isdigit ((unsigned char)rest[1])
                 && isdigit ((unsigned char)rest[2])
                 && (rest[3] == ':' ? isdigit ((unsigned char)rest[4])
                                          && isdigit ((unsigned char)rest[5]) && !rest[6]
                                    : !rest[3])) {
            int offset = ((rest[1] - '0') * 10 + rest[2] - '0') * 3600;
            if (rest[3] == ':')
                offset += ((rest[4] - '0') * 10 + rest[5] - '0') * 60;
            secs = timegm (&tm) - (rest[0] == '+' ? offset : -offset);
        }
        else
            continue;
        if (secs == (time_t)-1)
            return -1;
        return (int64_t)secs * 1000;
    }
    return -1;
}
