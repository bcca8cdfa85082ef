/*  strategy.c - batch sizes, failure budget, durations and host order of a
    deployment's strategy (see strategy.h). */
#include "strategy.h"
#include "rc_time.h"

#include <ctype.h>
#include <string.h>

/* Parses one entry "N" or "N%"; returns the count for total, or -1. */
static int
s_spec_entry (const char *entry, size_t len, int total, bool at_least_one)
{
    if (len == 0 || len > 9)
        return -1;
    bool percent = entry[len - 1] == '%';
    size_t digits = percent ? len - 1 : len;
    if (digits == 0)
        return -1;
    long n = 0;
    for (size_t i = 0; i < digits; i++) {
        if (!isdigit ((unsigned char)entry[i]))
            return -1;
        n = n * 10 + (entry[i] - '0');
    }
    if (percent) {
        if (n > 100)
            return -1;
        long count = at_least_one ? (total * n + 99) / 100 : (total * n) / 100;
        if (at_least_one && count < 1)
            count = 1;
        return (int)count;
    }
    return (int)n;
}

int
rc_strategy_batch_size (const char *spec, int n, int total)
{
    if (!spec || !*spec || n < 1)
        return -1;
    int index = 0, size = -1;
    const char *p = spec;
    while (true) {
        const char *comma = strchr (p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen (p);
        int entry = s_spec_entry (p, len, total, true);
        if (entry < 1)
            return -1;
        index++;
        if (index <= n)
            size = entry;
        if (!comma)
            break;
        p = comma + 1;
    }
    return size;
}

int
rc_strategy_batch_count (const char *spec, int total)
{
    if (rc_strategy_batch_size (spec, 1, total) < 1)
        return -1;
    int done = 0, batches = 0;
    while (done < total)
        done += rc_strategy_batch_size (spec, ++batches, total);
    return batches;
}

int
rc_strategy_window (const char *spec, int total)
{
    if (!spec || !*spec || strchr (spec, ','))
        return -1;
    size_t len = strlen (spec);
    /* 0 and 0% are no window at all: refused, not taken as one host */
    if (strspn (spec, "0") == len - (spec[len - 1] == '%'))
        return -1;
    int count = s_spec_entry (spec, len, total, true);
    return count < 1 ? -1 : count;
}

int
rc_strategy_ramp_length (const char *spec)
{
    if (rc_strategy_batch_size (spec, 1, 1) < 1)
        return -1;
    int entries = 1;
    for (const char *c = spec; *c; c++)
        entries += *c == ',';
    return entries;
}

int
rc_strategy_max_fail (const char *spec, int total)
{
    if (!spec || !*spec || strchr (spec, ','))
        return -1;
    return s_spec_entry (spec, strlen (spec), total, false);
}

bool
rc_strategy_duration (const char *text, int64_t dflt, int64_t *out)
{
    if (!*text) {
        *out = dflt;
        return true;
    }
    return rc_duration_parse (text, out) == 0 && *out > 0 && *out <= UINT32_MAX;
}

bool
rc_strategy_pause (const char *spec, bool *manual, int64_t *ms)
{
    *manual = false;
    *ms = 0;
    if (!*spec)
        return true;
    if (strcmp (spec, "manual") == 0) {
        *manual = true;
        return true;
    }
    return rc_duration_parse (spec, ms) == 0 && *ms > 0;
}

int
rc_strategy_host_cmp (const char *a, const char *b)
{
    return strverscmp (a, b);
}
