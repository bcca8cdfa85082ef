/*  webhooks.h - the coordinator's webhooks ([webhook NAME]): each event a
    webhook wants is written to the outbox with the event (store_outbox.c)
    and POSTed after the commit by a worker actor of its own, with its own
    read-only SQLite connection and libcurl, signed (X-Rollclone-Signature),
    retried with backoff, in event order per webhook, never on the server's
    loop. Rows outlive a restart; they go once delivered, refused for good
    (a 4xx other than 429) or older than webhook_max_age. */
#ifndef COORD_WEBHOOKS_H
#define COORD_WEBHOOKS_H

#include "rc_config.h"
#include "store.h"

#include <czmq.h>
#include <stdint.h>

typedef struct _rc_webhooks_t rc_webhooks_t;

/* What one webhook has done since the coordinator started, and what waits. */
typedef struct {
    char name[RC_NAME_MAX + 1];
    uint64_t delivered;  /* answered 2xx */
    uint64_t failed;     /* attempts that failed and are tried again */
    uint64_t dropped;    /* refused for good, or too old: never delivered */
    uint64_t pending;    /* rows in the outbox not yet delivered nor dropped */
    int64_t retry_in_ms; /* the head row waits this long before its next try, or 0 */
} rc_webhook_stat_t;

/* Hooks the outbox into store (events of the config's webhooks write rows
   from now on), forgets rows of webhooks no longer configured, and starts
   the worker, which picks up the rows left undelivered. db_path is the
   store's file. With no webhook configured it does nothing and returns an
   object all the same. NULL on failure (logged). */
rc_webhooks_t *rc_webhooks_new (const rc_config_t *cfg, rc_store_t *store, const char *db_path);
/* Stops the worker (a POST in flight is abandoned: its row stays). */
void rc_webhooks_destroy (rc_webhooks_t **self_p);
/* The worker's socket, for the server's loop, or NULL when there is no
   worker; rc_webhooks_on_worker handles what it says (zloop reader). */
zsock_t *rc_webhooks_socket (rc_webhooks_t *self);
int rc_webhooks_on_worker (zloop_t *loop, zsock_t *sock, void *arg);

/* The counters of each webhook (up to max, in config order); returns how
   many. Safe from any thread: a /metrics endpoint may read them. */
size_t rc_webhook_stats (rc_webhooks_t *self, rc_webhook_stat_t *out, size_t max);

#endif
