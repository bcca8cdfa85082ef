/*  transfer.c - one libcurl transfer on the socket interface (transfer.h). */
#include "transfer.h"

#include <assert.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* A transfer uses one socket at a time (a redirect or a second address
   family may add one while the first closes). */
#define S_MAX_SOCKETS 8

struct _rc_transfer_t {
    CURLM *multi;
    CURL *easy; /* the caller's */
    struct {
        curl_socket_t fd;
        int what; /* CURL_POLL_IN, _OUT, _INOUT */
    } socks[S_MAX_SOCKETS];
    size_t nsocks;
    int64_t timer_at; /* libcurl's timeout (monotonic ms), or RC_WATCH_NEVER */
    bool started;     /* the first socket_action ran */
    bool done;
    CURLcode result;
    CURLMcode multi_rc; /* CURLM_OK unless the multi interface failed */
};

static int
s_on_socket (CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
    (void)easy;
    (void)socketp;
    rc_transfer_t *self = arg;
    size_t i = 0;
    while (i < self->nsocks && self->socks[i].fd != fd)
        i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < self->nsocks)
            self->socks[i] = self->socks[--self->nsocks];
        return 0;
    }
    if (i == self->nsocks) {
        if (self->nsocks == S_MAX_SOCKETS)
            return -1; /* libcurl fails the transfer: never happens with one easy */
        self->nsocks++;
    }
    self->socks[i].fd = fd;
    self->socks[i].what = what;
    return 0;
}

static int
s_on_timer (CURLM *multi, long timeout_ms, void *arg)
{
    (void)multi;
    rc_transfer_t *self = arg;
    self->timer_at = timeout_ms < 0 ? RC_WATCH_NEVER : rc_mono_ms () + timeout_ms;
    return 0;
}

rc_transfer_t *
rc_transfer_new (CURL *easy)
{
    rc_transfer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->easy = easy;
    self->timer_at = RC_WATCH_NEVER;
    self->multi = curl_multi_init ();
    if (!self->multi)
        goto fail;
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, s_on_socket);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, s_on_timer);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
    if (curl_multi_add_handle (self->multi, easy) != CURLM_OK) {
        self->easy = NULL;
        goto fail;
    }
    return self;
fail:
    rc_transfer_destroy (&self);
    return NULL;
}

void
rc_transfer_destroy (rc_transfer_t **self_p)
{
    assert (self_p);
    rc_transfer_t *self = *self_p;
    if (!self)
        return;
    if (self->multi && self->easy)
        curl_multi_remove_handle (self->multi, self->easy);
    if (self->multi)
        curl_multi_cleanup (self->multi);
    free (self);
    *self_p = NULL;
}

static void
s_action (rc_transfer_t *self, curl_socket_t fd)
{
    int running = 0;
    CURLMcode mc = curl_multi_socket_action (self->multi, fd, 0, &running);
    if (mc != CURLM_OK && self->multi_rc == CURLM_OK)
        self->multi_rc = mc;
}

bool
rc_transfer_poll (rc_transfer_t *self, CURLcode *result)
{
    if (!self->done) {
        int64_t now = rc_mono_ms ();
        if (!self->started || now >= self->timer_at) {
            self->started = true;
            self->timer_at = RC_WATCH_NEVER;
            s_action (self, CURL_SOCKET_TIMEOUT);
        }
        /* the list may change under socket_action: act on a copy */
        curl_socket_t fds[S_MAX_SOCKETS];
        size_t n = self->nsocks;
        for (size_t i = 0; i < n; i++)
            fds[i] = self->socks[i].fd;
        for (size_t i = 0; i < n; i++)
            s_action (self, fds[i]);
        int left;
        CURLMsg *msg;
        while ((msg = curl_multi_info_read (self->multi, &left)))
            if (msg->msg == CURLMSG_DONE) {
                self->done = true;
                self->result = msg->data.result;
            }
        if (self->multi_rc != CURLM_OK && !self->done) {
            self->done = true;
            self->result = CURLE_FAILED_INIT;
        }
    }
    if (self->done)
        *result = self->result;
    return self->done;
}

void
rc_transfer_watch (rc_transfer_t *self, rc_watch_t *w)
{
    if (self->done || !self->started) {
        rc_watch_at (w, rc_mono_ms ());
        return;
    }
    for (size_t i = 0; i < self->nsocks; i++) {
        int what = self->socks[i].what;
        short events = 0;
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
            events |= ZMQ_POLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
            events |= ZMQ_POLLOUT;
        rc_watch_fd (w, self->socks[i].fd, events);
    }
    rc_watch_at (w, self->timer_at);
}

const char *
rc_transfer_multi_error (rc_transfer_t *self)
{
    return self->multi_rc != CURLM_OK ? curl_multi_strerror (self->multi_rc) : NULL;
}
