/*  rc_time.h - clocks and the duration syntax of the interface contract
    (500ms, 10s, 5m, 1h). */
#ifndef RC_TIME_H
#define RC_TIME_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/* Wall clock, unix epoch milliseconds: for records and display. */
int64_t rc_now_ms (void);
/* Monotonic milliseconds: for timeouts and intervals. */
int64_t rc_mono_ms (void);

/* Parses "500ms", "10s", "5m", "1h" (a bare number is seconds). Returns 0 and
   sets *ms, or -1 on anything else, including overflow and negatives. */
int rc_duration_parse (const char *text, int64_t *ms);
/* Writes a short human form ("1.5s", "2m03s") into buf. */
const char *rc_duration_format (int64_t ms, char *buf, size_t len);

void rc_time_test (bool verbose);

#endif
