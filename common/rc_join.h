/*  rc_join.h - text joined from lists, sized to what it holds: no list
    (hosts, rollback points, labels) is ever cut at a fixed buffer size. */
#ifndef RC_JOIN_H
#define RC_JOIN_H

#include <stdbool.h>

/* Appends the formatted text to *text (NULL or heap, grown as needed).
   Returns 0, or -1 when out of memory (*text is then freed and NULL, so a
   failed join is never taken for a shorter list). */
int rc_join_append (char **text, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* True when item is one of the comma-separated entries of list. */
bool rc_join_list_has (const char *list, const char *item);

void rc_join_test (bool verbose);

#endif
