/*  channel.h - the typed messages between the agent's two processes (see
    privsep.h): the network side (unprivileged: coordinator link) and the
    executor (root: hooks, releases). One message is one SOCK_SEQPACKET
    datagram: a fixed header (type, body length) and the body. The receiver
    checks, before anything looks at the body, that the type is one this
    side may receive, that the datagram is exactly header + body length,
    and that the body length is one the type allows.

      network side -> executor
        STEP       packed Rollclone__Instruction (1 .. RC_CHANNEL_BODY_MAX)
        STATE_ASK  empty
        READY      empty: the network side dropped its privileges and its
                   sockets are up
      executor -> network side
        REPORT     packed Rollclone__StepReport (1 .. RC_CHANNEL_BODY_MAX)
        STATE      packed Rollclone__Heartbeat (0 .. RC_CHANNEL_BODY_MAX)
        HEALTH     one byte, 0 or 1: the host's idle health changed */
#ifndef AGENT_CHANNEL_H
#define AGENT_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    RC_MSG_NONE = 0,
    RC_MSG_STEP,
    RC_MSG_STATE_ASK,
    RC_MSG_READY,
    RC_MSG_REPORT,
    RC_MSG_STATE,
    RC_MSG_HEALTH,
    RC_MSG_COUNT
} rc_msg_type_t;

/* Which end a channel object is: decides what it may receive. */
typedef enum { RC_CHANNEL_EXECUTOR, RC_CHANNEL_NETWORK } rc_channel_side_t;

typedef enum {
    RC_CHANNEL_MSG,  /* a message passed the checks */
    RC_CHANNEL_NONE, /* nothing to read now */
    RC_CHANNEL_BAD,  /* a message was refused (rc_channel_errmsg says why) */
    RC_CHANNEL_EOF,  /* the other process is gone */
} rc_channel_status_t;

typedef struct _rc_channel_t rc_channel_t;

/* A connected pair (close-on-exec) with buffers for the largest message.
   0, or -1 with a reason in err. */
int rc_channel_pair (int fds[2], char *err, size_t errlen);

/* Takes fd (closed by destroy). NULL when out of memory. */
rc_channel_t *rc_channel_new (int fd, rc_channel_side_t side);
void rc_channel_destroy (rc_channel_t **self_p);
int rc_channel_fd (rc_channel_t *self);

/* Sends one message. wait: block until it fits (the executor: its peer
   always reads); otherwise a full socket drops it (the network side: what
   it sends is asked again). 0, or -1 with errno. */
int rc_channel_send (rc_channel_t *self, rc_msg_type_t type, const void *body, size_t len,
                     bool wait);

/* Reads one message without blocking. With RC_CHANNEL_MSG, *type, *body
   and *len describe it; body stays valid until the next call. */
rc_channel_status_t rc_channel_recv (rc_channel_t *self, rc_msg_type_t *type, const uint8_t **body,
                                     size_t *len);

const char *rc_channel_errmsg (rc_channel_t *self);
const char *rc_channel_type_name (rc_msg_type_t type);

#endif
