/*  rc_time.c - clocks and durations. */
#include "rc_time.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The longest duration we accept: a week is far past any sane timeout and
   keeps every product of it well inside int64 milliseconds. */
#define RC_DURATION_MAX_MS (7LL * 24 * 3600 * 1000)

static int64_t
s_clock_ms (clockid_t id)
{
    struct timespec ts;
    clock_gettime (id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#ifdef RC_FAULT_INJECTION
/* Test builds only (FAULT=1): the wall clock offset by the milliseconds in
   the file named by $RC_FAULT_WALL_OFFSET_FILE (read at every call, so a
   test steps the clock of a running daemon as NTP would). The monotonic
   clock is left alone. */
static int64_t
s_wall_offset (void)
{
    const char *path = getenv ("RC_FAULT_WALL_OFFSET_FILE");
    if (!path || !*path)
        return 0;
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    long long offset = 0;
    if (fscanf (file, "%lld", &offset) != 1)
        offset = 0;
    fclose (file);
    return (int64_t)offset;
}
#endif

int64_t
rc_now_ms (void)
{
#ifdef RC_FAULT_INJECTION
    return s_clock_ms (CLOCK_REALTIME) + s_wall_offset ();
#else
    return s_clock_ms (CLOCK_REALTIME);
#endif
}

int64_t
rc_mono_ms (void)
{
    return s_clock_ms (CLOCK_MONOTONIC);
}

int
rc_duration_parse (const char *text, int64_t *ms)
{
    if (!text || !isdigit ((unsigned char)text[0]))
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long n = strtoull (text, &end, 10);
    if (errno || end == text)
        return -1;
    int64_t unit;
    if (*end == '\0' || strcmp (end, "s") == 0)
        unit = 1000;
    else if (strcmp (end, "ms") == 0)
        unit = 1;
    else if (strcmp (end, "m") == 0)
        unit = 60 * 1000;
    else if (strcmp (end, "h") == 0)
        unit = 3600 * 1000;
    else
        return -1;
    if (n > (unsigned long long)(RC_DURATION_MAX_MS / unit))
        return -1;
    *ms = (int64_t)n * unit;
    return 0;
}

const char *
rc_duration_format (int64_t ms, char *buf, size_t len)
{
    if (ms < 0)
        ms = 0;
    if (ms < 1000)
        snprintf (buf, len, "%" PRId64 "ms", ms);
    else if (ms < 60 * 1000)
        snprintf (buf, len, "%" PRId64 ".%" PRId64 "s", ms / 1000, (ms % 1000) / 100);
    else if (ms < 3600 * 1000)
        snprintf (buf, len, "%" PRId64 "m%02" PRId64 "s", ms / 60000, (ms / 1000) % 60);
    else
        snprintf (buf, len, "%" PRId64 "h%02" PRId64 "m", ms / 3600000, (ms / 60000) % 60);
    return buf;
}
