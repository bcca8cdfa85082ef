/*  rc_window.c - weekly time windows (see rc_window.h). Minutes of the
    week in local time; the end of an active window is found with mktime,
    so a daylight saving change inside a window moves its end as the wall
    clock does. */
#include "rc_window.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S_MINUTES_PER_DAY (24 * 60)

static const char *s_days[] = {"monday", "tuesday",  "wednesday", "thursday",
                               "friday", "saturday", "sunday"};

/* Reads "DAY HH:MM" at *p; returns the minute of the week or -1. An end
   may say 24:00 (the next day's 00:00). */
static int
s_point (const char **p)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    const char *word = s;
    while (isalpha ((unsigned char)*s))
        s++;
    size_t len = (size_t)(s - word);
    int day = -1;
    for (int d = 0; d < 7 && len >= 3; d++)
        if (len <= strlen (s_days[d]) && strncasecmp (word, s_days[d], len) == 0
            && (len == 3 || len == strlen (s_days[d])))
            day = d;
    if (day < 0 || (*s != ' ' && *s != '\t'))
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!isdigit ((unsigned char)s[0]) || !isdigit ((unsigned char)s[1]) || s[2] != ':'
        || !isdigit ((unsigned char)s[3]) || !isdigit ((unsigned char)s[4]))
        return -1;
    int hour = (s[0] - '0') * 10 + (s[1] - '0');
    int minute = (s[3] - '0') * 10 + (s[4] - '0');
    if (minute > 59 || hour > 24 || (hour == 24 && minute != 0))
        return -1;
    *p = s + 5;
    return (day * S_MINUTES_PER_DAY + hour * 60 + minute) % RC_MINUTES_PER_WEEK;
}

/* One window in [text, text+len): 0 and *w, or -1. */
static int
s_window (const char *text, size_t len, rc_window_t *w)
{
    if (len >= sizeof w->spec)
        return -1;
    memcpy (w->spec, text, len);
    w->spec[len] = '\0';
    const char *p = w->spec;
    w->start = s_point (&p);
    while (*p == ' ' || *p == '\t')
        p++;
    if (w->start < 0 || *p++ != '-')
        return -1;
    w->end = s_point (&p);
    while (*p == ' ' || *p == '\t')
        p++;
    return w->end < 0 || *p || w->end == w->start ? -1 : 0;
}

int
rc_window_parse (const char *text, rc_window_t *windows, size_t max, char *err, size_t errlen)
{
    size_t n = 0;
    const char *p = text;
    while (true) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *comma = strchr (p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen (p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (n == max) {
            snprintf (err, errlen, "more than %zu windows", max);
            return -1;
        }
        if (s_window (p, len, &windows[n]) != 0) {
            snprintf (err, errlen,
                      "window '%.*s' is not DAY HH:MM-DAY HH:MM (like Sat 00:00-Mon 06:00; "
                      "days Mon..Sun, start and end differ)",
                      (int)(len > 60 ? 60 : len), p);
            return -1;
        }
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    return (int)n;
}

bool
rc_window_holds (const rc_window_t *w, int m)
{
    if (w->start < w->end)
        return m >= w->start && m < w->end;
    return m >= w->start || m < w->end;
}

bool
rc_window_active (const rc_window_t *windows, size_t n, int64_t wall_ms, int64_t *ends_ms)
{
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    if (!localtime_r (&t, &tm))
        return false;
    int now = ((tm.tm_wday + 6) % 7) * S_MINUTES_PER_DAY + tm.tm_hour * 60 + tm.tm_min;
    /* from the window that holds now to the end of whichever window holds
       that end, and so on: at most one step per window */
    int ahead = 0;
    bool active = false;
    for (size_t step = 0; step <= n && ahead < RC_MINUTES_PER_WEEK; step++) {
        int m = (now + ahead) % RC_MINUTES_PER_WEEK;
        const rc_window_t *holding = NULL;
        for (size_t i = 0; i < n && !holding; i++)
            if (rc_window_holds (&windows[i], m))
                holding = &windows[i];
        if (!holding)
            break;
        active = true;
        ahead += (holding->end - m + RC_MINUTES_PER_WEEK) % RC_MINUTES_PER_WEEK;
    }
    if (active && ends_ms) {
        if (ahead >= RC_MINUTES_PER_WEEK)
            *ends_ms = INT64_MAX;
        else {
            tm.tm_sec = 0;
            tm.tm_min += ahead;
            tm.tm_isdst = -1;
            time_t end = mktime (&tm);
            *ends_ms = end == (time_t)-1 ? wall_ms + (int64_t)ahead * 60000 : (int64_t)end * 1000;
        }
    }
    return active;
}
