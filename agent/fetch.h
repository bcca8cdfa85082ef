/*  fetch.h - downloads an artifact (http, https, file) into a file with
    libcurl's multi interface, verifying its sha256 (libsodium) as it
    arrives. rc_fetch_poll does a bounded amount of transfer work and returns:
    the executor's timer calls it until the download ends. Like a library
    layer, it returns a status and keeps the last error on the object. */
#ifndef AGENT_FETCH_H
#define AGENT_FETCH_H

#include "watch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _rc_fetch_t rc_fetch_t;

typedef enum {
    RC_FETCH_RUNNING,
    RC_FETCH_DONE,
    RC_FETCH_FAILED,
} rc_fetch_status_t;

/* Checks url's scheme (http, https, file) and sha256 (64 hex digits, or
   NULL/"" when the scheme allows it: required for http and https). Returns
   0, or -1 with a one-line reason naming the field in err. */
int rc_fetch_check (const char *url, const char *sha256, char *err, size_t errlen);

typedef struct {
    int64_t max_bytes;  /* the artifact's size ([app] max_artifact_bytes); <= 0: default */
    int64_t timeout_ms; /* the whole download ([app] fetch_timeout); <= 0: default */
} rc_fetch_limits_t;

/* Starts downloading url into dest (created, mode 0644); limits may be
   NULL (defaults). A file:// URL must name a regular file (a fifo, device
   or directory is refused here, at once), which is then copied by
   rc_fetch_poll without libcurl. NULL when out of memory, when dest cannot
   be created or the file:// source is unusable: see err. */
rc_fetch_t *rc_fetch_new (const char *url, const char *dest, const char *sha256,
                          const rc_fetch_limits_t *limits, char *err, size_t errlen);
void rc_fetch_destroy (rc_fetch_t **self_p);

rc_fetch_status_t rc_fetch_poll (rc_fetch_t *self);
/* libcurl's sockets and timeout; a file:// copy wants to go on at once. */
void rc_fetch_watch (rc_fetch_t *self, rc_watch_t *w);
const char *rc_fetch_errmsg (rc_fetch_t *self);
/* Bytes written so far. */
int64_t rc_fetch_bytes (rc_fetch_t *self);

/* curl and libsodium global set-up; idempotent and thread-safe. */
void rc_fetch_global_init (void);

void rc_fetch_test (bool verbose);

#endif
