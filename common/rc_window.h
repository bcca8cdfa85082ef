/*  rc_window.h - weekly time windows ("Sat 00:00-Mon 06:00"), in the local
    time of the process: the coordinator's [coordinator] freeze. Parsed by
    the config reader (so a bad window is an error naming its line) and
    evaluated by the coordinator's freeze (coordinator/freeze.h). */
#ifndef RC_WINDOW_H
#define RC_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Windows one `freeze` key may list (comma separated). */
#define RC_WINDOWS_MAX 16
#define RC_MINUTES_PER_WEEK (7 * 24 * 60)
/* The longest window as written ("Wednesday 00:00 - Wednesday 24:00"). */
#define RC_WINDOW_SPEC_MAX 64

/* One window as minutes of the week, Monday 00:00 = 0. It holds the
   minutes from start (included) to end (excluded); end < start wraps over
   the end of the week (Sat 22:00-Mon 06:00). */
typedef struct {
    int start;
    int end;
    char spec[RC_WINDOW_SPEC_MAX]; /* as written, trimmed */
} rc_window_t;

/* Parses "DAY HH:MM-DAY HH:MM[, ...]" (days Mon..Sun or their full names,
   any case; 24:00 is the end of a day). Returns the number of windows
   (1..max) or -1 with a one-line reason naming the bad window in err. */
int rc_window_parse (const char *text, rc_window_t *windows, size_t max, char *err, size_t errlen);

/* Whether minute of the week m lies in w. */
bool rc_window_holds (const rc_window_t *w, int m);

/* Whether wall time (unix ms) lies in any of the windows, in local time;
   if so and ends_ms is given, *ends_ms is when none of them holds any more
   (windows that touch or overlap run on into each other; a set that holds
   the whole week has no end: INT64_MAX). */
bool rc_window_active (const rc_window_t *windows, size_t n, int64_t wall_ms, int64_t *ends_ms);

#endif
