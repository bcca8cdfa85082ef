/*  rc_monitor.c - a PAIR socket fed by zmq_socket_monitor. */
#include "rc_monitor.h"

#include <string.h>

struct _rc_monitor_t {
    zsock_t *watched; /* borrowed */
    zsock_t *pair;    /* receives the events */
};

rc_monitor_t *
rc_monitor_new (zsock_t *sock)
{
    static int s_counter;
    rc_monitor_t *self = (rc_monitor_t *)zmalloc (sizeof (rc_monitor_t));
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://rc-monitor-%p-%d", (void *)self, ++s_counter);
    self->pair = zsock_new (ZMQ_PAIR);
    if (!self->pair
        || zmq_socket_monitor (zsock_resolve (sock), endpoint,
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                                   | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                   | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
               != 0) {
        rc_monitor_destroy (&self);
        return NULL;
    }
    self->watched = sock;
    if (zsock_connect (self->pair, "%s", endpoint) != 0) {
        rc_monitor_destroy (&self);
        return NULL;
    }
    return self;
}

void
rc_monitor_destroy (rc_monitor_t **self_p)
{
    if (self_p && *self_p) {
        rc_monitor_t *self = *self_p;
        if (self->watched)
            zmq_socket_monitor (zsock_resolve (self->watched), NULL, 0);
        zsock_destroy (&self->pair);
        free (self);
        *self_p = NULL;
    }
}

zsock_t *
rc_monitor_sock (rc_monitor_t *self)
{
    return self->pair;
}

rc_monitor_event_t
rc_monitor_recv (rc_monitor_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pair);
    if (!msg)
        return RC_MONITOR_OTHER;
    rc_monitor_event_t result = RC_MONITOR_OTHER;
    zframe_t *frame = zmsg_first (msg);
    if (frame && zframe_size (frame) == 6) {
        uint16_t event;
        memcpy (&event, zframe_data (frame), sizeof event);
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            result = RC_MONITOR_HANDSHAKE_OK;
        else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            result = RC_MONITOR_AUTH_REFUSED;
        else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                 || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
            result = RC_MONITOR_HANDSHAKE_FAILED;
    }
    zmsg_destroy (&msg);
    return result;
}
