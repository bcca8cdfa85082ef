/*  rc_monitor.h - watches a socket's handshake events (libzmq socket
    monitor). libzmq gives up on a connection whose CURVE handshake failed,
    so the owner must hear of it: to say "key refused" instead of timing out
    (CLI), and to connect again later (agent). */
#ifndef RC_MONITOR_H
#define RC_MONITOR_H

#include <czmq.h>
#include <stdbool.h>

typedef struct _rc_monitor_t rc_monitor_t;

typedef enum {
    RC_MONITOR_OTHER,
    RC_MONITOR_HANDSHAKE_OK,
    RC_MONITOR_AUTH_REFUSED,    /* the server's ZAP handler said no */
    RC_MONITOR_HANDSHAKE_FAILED /* protocol error: e.g. wrong server key */
} rc_monitor_event_t;

/* Starts monitoring sock (borrowed; destroy the monitor first). */
rc_monitor_t *rc_monitor_new (zsock_t *sock);
void rc_monitor_destroy (rc_monitor_t **self_p);
/* The socket to poll for events. */
zsock_t *rc_monitor_sock (rc_monitor_t *self);
/* Reads one event (call when rc_monitor_sock is readable). */
rc_monitor_event_t rc_monitor_recv (rc_monitor_t *self);

#endif
