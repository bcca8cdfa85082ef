/*  rc_metrics_http.h - the /metrics HTTP endpoint (libmicrohttpd, in a
    thread of its own) of the coordinator and of the agent.

    The thread touches nothing of its owner's loop: it serves the last
    text the loop published (a refcounted snapshot, swapped under a mutex)
    followed by the process_* figures it reads itself. When that text is
    older than RC_METRICS_FRESH_MS, a scrape wakes the loop (one byte on a
    pipe whose read end the loop polls) and waits up to RC_METRICS_WAIT_MS
    for a newer one; so an idle endpoint costs the loop nothing and a
    busy one at most one rebuild per RC_METRICS_FRESH_MS. */
#ifndef RC_METRICS_HTTP_H
#define RC_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _rc_metrics_http_t rc_metrics_http_t;

/* A snapshot younger than this is served as it is. */
#define RC_METRICS_FRESH_MS 1000
/* How long a scrape waits for the loop to publish a newer one. */
#define RC_METRICS_WAIT_MS 2000
/* Concurrent scrapes served; more wait in the kernel's backlog. */
#define RC_METRICS_CONNECTIONS 16
/* An idle or slow scraper's connection is closed after this. */
#define RC_METRICS_TIMEOUT_S 10

/* Listens on endpoint (numeric HOST:PORT, rc_addr.h); started_ms (unix
   ms) is process_start_time_seconds. NULL with the reason in err. */
rc_metrics_http_t *rc_metrics_http_new (const char *endpoint, int64_t started_ms, char *err,
                                        size_t errlen);
/* Stops the thread (waiting for scrapes in flight) and frees. */
void rc_metrics_http_destroy (rc_metrics_http_t **self_p);

/* The descriptor the loop polls for reading: readable when a scrape
   waits for a newer snapshot. */
int rc_metrics_http_wake_fd (rc_metrics_http_t *self);
/* Empties the wake pipe; true when a scrape asked. */
bool rc_metrics_http_asked (rc_metrics_http_t *self);
/* Publishes text (len bytes, taken: freed when no scrape uses it). */
void rc_metrics_http_publish (rc_metrics_http_t *self, char *text, size_t len);
/* The same, and data (taken: free_data frees it) that more writes as the
   text that follows, in the HTTP thread: the loop hands over a compact
   copy and the formatting costs it nothing. It is written once, at the
   first scrape of this snapshot (data is freed then), and every scrape of
   the snapshot sends the same bytes. */
typedef struct _rc_expo_t rc_expo_t;
typedef void (rc_metrics_more_fn) (const void *data, rc_expo_t *expo);
void rc_metrics_http_publish_more (rc_metrics_http_t *self, char *text, size_t len,
                                   rc_metrics_more_fn *more, void *data,
                                   void (*free_data) (void *data));
/* The port listened on (when endpoint said 0, the one the kernel chose). */
uint16_t rc_metrics_http_port (rc_metrics_http_t *self);

#endif
