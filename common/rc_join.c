/*  rc_join.c - text joined from lists, sized to fit. */
#include "rc_join.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
rc_join_append (char **text, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    int more = vsnprintf (NULL, 0, fmt, args);
    va_end (args);
    size_t used = *text ? strlen (*text) : 0;
    char *grown = more < 0 ? NULL : (char *)realloc (*text, used + (size_t)more + 1);
    if (!grown) {
        free (*text);
        *text = NULL;
        return -1;
    }
    va_start (args, fmt);
    vsnprintf (grown + used, (size_t)more + 1, fmt, args);
    va_end (args);
    *text = grown;
    return 0;
}

bool
rc_join_list_has (const char *list, const char *item)
{
    size_t len = strlen (item);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr (p, ',');
        size_t entry = comma ? (size_t)(comma - p) : strlen (p);
        if (entry == len && strncmp (p, item, len) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}
