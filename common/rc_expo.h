/*  rc_expo.h - Prometheus text exposition (format 0.0.4) written into a
    growing buffer: metric families with HELP and TYPE, samples with
    escaped labels, histograms with cumulative buckets, and the standard
    process_* figures. The coordinator and the agent build their /metrics
    text with it; the text is served by rc_metrics_http. */
#ifndef RC_EXPO_H
#define RC_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _rc_expo_t rc_expo_t;

/* Upper bounds of a histogram, at most this many (then +Inf). */
#define RC_HISTO_BUCKETS_MAX 16

/* A histogram counted by one thread: bounds are borrowed (ascending). */
typedef struct {
    const double *bounds;
    size_t n_bounds;
    uint64_t counts[RC_HISTO_BUCKETS_MAX + 1]; /* per bucket, not cumulative; last: +Inf */
    double sum;
    uint64_t count;
} rc_histo_t;

void rc_histo_init (rc_histo_t *h, const double *bounds, size_t n_bounds);
void rc_histo_observe (rc_histo_t *h, double value);

rc_expo_t *rc_expo_new (void);
/* Room for size bytes in all, at once: a text about as long as the last
   one is written without a chain of reallocations (each a copy and fresh
   pages). */
void rc_expo_reserve (rc_expo_t *self, size_t size);
void rc_expo_destroy (rc_expo_t **self_p);

/* Starts a family: "# HELP name help" and "# TYPE name type" (counter,
   gauge, histogram, untyped). Each name once per exposition. */
void rc_expo_family (rc_expo_t *self, const char *name, const char *type, const char *help);
/* One sample: labels are NULL-terminated name, value pairs (NULL for
   none); values are escaped (backslash, double quote, newline). */
void rc_expo_sample (rc_expo_t *self, const char *name, const char *const *labels, double value);
/* The _bucket, _sum and _count samples of histogram name. */
void rc_expo_histo (rc_expo_t *self, const char *name, const char *const *labels,
                    const rc_histo_t *h);
/* Appends text written by another rc_expo_t as it is. */
void rc_expo_raw (rc_expo_t *self, const char *text, size_t len);
/* process_resident_memory_bytes, process_cpu_seconds_total,
   process_open_fds, process_start_time_seconds (started: unix ms). */
void rc_expo_process (rc_expo_t *self, int64_t started_ms);

/* The text so far (NUL-terminated) and its length; NULL after an
   allocation failed (the whole exposition is then lost, never cut). */
const char *rc_expo_text (rc_expo_t *self, size_t *len);
/* Hands the text over (the caller frees it) and empties the buffer. */
char *rc_expo_take (rc_expo_t *self, size_t *len);

void rc_expo_test (bool verbose);

#endif
