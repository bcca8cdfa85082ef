/*  channel.c - typed, size-checked messages over a socketpair. Datagrams
    (SOCK_SEQPACKET) keep message boundaries, so a short or long read can
    only mean a peer that breaks the protocol: such a message is refused
    whole, never parsed. */
#include "channel.h"
#include "agent_defaults.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

typedef struct {
    uint32_t type; /* rc_msg_type_t */
    uint32_t len;  /* body bytes after the header */
} s_header_t;

/* What each type may carry, and which side may receive it. */
static const struct {
    const char *name;
    size_t min, max;
    rc_channel_side_t to;
} s_types[RC_MSG_COUNT] = {
    [RC_MSG_NONE] = {"NONE", 1, 0, RC_CHANNEL_EXECUTOR}, /* min > max: never valid */
    [RC_MSG_STEP] = {"STEP", 1, RC_CHANNEL_BODY_MAX, RC_CHANNEL_EXECUTOR},
    [RC_MSG_STATE_ASK] = {"STATE_ASK", 0, 0, RC_CHANNEL_EXECUTOR},
    [RC_MSG_READY] = {"READY", 0, 0, RC_CHANNEL_EXECUTOR},
    [RC_MSG_REPORT] = {"REPORT", 1, RC_CHANNEL_BODY_MAX, RC_CHANNEL_NETWORK},
    [RC_MSG_STATE] = {"STATE", 0, RC_CHANNEL_BODY_MAX, RC_CHANNEL_NETWORK},
    [RC_MSG_HEALTH] = {"HEALTH", 1, 1, RC_CHANNEL_NETWORK},
};

struct _rc_channel_t {
    int fd;                 /* our end of the socketpair */
    rc_channel_side_t side; /* what we may receive */
    uint8_t *buf;           /* one datagram: header, body, one spare byte */
    char errmsg[256];       /* why the last message was refused */
};

#define S_BUF_SIZE (sizeof (s_header_t) + RC_CHANNEL_BODY_MAX + 1)

static void
s_buffers (int fd)
{
    int size = RC_CHANNEL_SOCKET_BUFFER;
    /* root may pass the system's limit (the daemon creates the pair before
       it drops privileges); anyone else gets the largest allowed */
    if (setsockopt (fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
        setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (setsockopt (fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

int
rc_channel_pair (int fds[2], char *err, size_t errlen)
{
    if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
        snprintf (err, errlen, "socketpair: %s", strerror (errno));
        return -1;
    }
    s_buffers (fds[0]);
    s_buffers (fds[1]);
    return 0;
}

rc_channel_t *
rc_channel_new (int fd, rc_channel_side_t side)
{
    rc_channel_t *self = calloc (1, sizeof *self);
    if (!self || !(self->buf = malloc (S_BUF_SIZE))) {
        free (self);
        return NULL;
    }
    self->fd = fd;
    self->side = side;
    return self;
}

void
rc_channel_destroy (rc_channel_t **self_p)
{
    assert (self_p);
    rc_channel_t *self = *self_p;
    if (!self)
        return;
    if (self->fd >= 0)
        close (self->fd);
    free (self->buf);
    free (self);
    *self_p = NULL;
}

int
rc_channel_fd (rc_channel_t *self)
{
    return self->fd;
}

const char *
rc_channel_errmsg (rc_channel_t *self)
{
    return self->errmsg;
}

const char *
rc_channel_type_name (rc_msg_type_t type)
{
    return type < RC_MSG_COUNT ? s_types[type].name : "?";
}

int
rc_channel_send (rc_channel_t *self, rc_msg_type_t type, const void *body, size_t len, bool wait)
{
    /* our own messages break the rules only through a bug of ours */
    assert (type > RC_MSG_NONE && type < RC_MSG_COUNT && s_types[type].to != self->side);
    if (len < s_types[type].min || len > s_types[type].max) {
        errno = EMSGSIZE;
        return -1;
    }
    s_header_t header = {.type = type, .len = (uint32_t)len};
    struct iovec iov[2] = {{.iov_base = &header, .iov_len = sizeof header},
                           {.iov_base = (void *)body, .iov_len = len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    int flags = MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT);
    while (true) {
        ssize_t n = sendmsg (self->fd, &msg, flags);
        if (n >= 0)
            return (size_t)n == sizeof header + len ? 0 : (errno = EMSGSIZE, -1);
        if (errno != EINTR)
            return -1;
    }
}

rc_channel_status_t
rc_channel_recv (rc_channel_t *self, rc_msg_type_t *type, const uint8_t **body, size_t *len)
{
    struct iovec iov = {.iov_base = self->buf, .iov_len = S_BUF_SIZE};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;
    do
        n = recvmsg (self->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return RC_CHANNEL_NONE;
    if (n <= 0) {
        snprintf (self->errmsg, sizeof self->errmsg, "%s",
                  n == 0 ? "the other process closed the channel" : strerror (errno));
        return RC_CHANNEL_EOF;
    }
    s_header_t header;
    if ((size_t)n < sizeof header || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        snprintf (self->errmsg, sizeof self->errmsg, "message of %zd bytes: refused", n);
        return RC_CHANNEL_BAD;
    }
    memcpy (&header, self->buf, sizeof header);
    size_t got = (size_t)n - sizeof header;
    if (header.type <= RC_MSG_NONE || header.type >= RC_MSG_COUNT
        || s_types[header.type].to != self->side) {
        snprintf (self->errmsg, sizeof self->errmsg, "message type %u not expected here: refused",
                  header.type);
        return RC_CHANNEL_BAD;
    }
    if (header.len != got || got < s_types[header.type].min || got > s_types[header.type].max) {
        snprintf (self->errmsg, sizeof self->errmsg,
                  "%s of %zu bytes (header says %u, allowed %zu..%zu): refused",
                  s_types[header.type].name, got, header.len, s_types[header.type].min,
                  s_types[header.type].max);
        return RC_CHANNEL_BAD;
    }
    *type = (rc_msg_type_t)header.type;
    *body = self->buf + sizeof header;
    *len = got;
    return RC_CHANNEL_MSG;
}
