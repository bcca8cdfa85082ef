/*  rc_metrics_http.c - /metrics over libmicrohttpd (see rc_metrics_http.h).
    One internal polling thread serves every request; the owner's loop
    only publishes text and reads the wake pipe. */
#include "rc_metrics_http.h"
#include "rc_addr.h"
#include "rc_expo.h"
#include "rc_log.h"
#include "rc_time.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One published text; freed by whoever drops the last reference. */
typedef struct {
    atomic_int refs;
    size_t len;
    char *text;
    rc_metrics_more_fn *more; /* writes the rest from data, or NULL */
    void *data;               /* freed once more wrote it */
    void (*free_data) (void *data);
    /* what more wrote, by the first scrape of this snapshot: the HTTP
       thread is the only one that touches these */
    char *more_text;
    size_t more_len;
} s_snap_t;

/* What one response holds until libmicrohttpd is done with it. */
typedef struct {
    s_snap_t *snap; /* the loop's text (a reference) */
    char *tail;     /* the process figures read for this scrape */
} s_reply_t;

struct _rc_metrics_http_t {
    struct MHD_Daemon *daemon;
    int64_t started_ms;   /* unix ms the process started */
    int wake[2];          /* pipe: the thread writes, the loop reads */
    pthread_mutex_t lock; /* guards snap, snap_at, generation */
    pthread_cond_t cond;  /* broadcast when a snapshot is published */
    s_snap_t *snap;       /* the newest text, or NULL before the first */
    int64_t snap_at;      /* monotonic ms it was published */
    uint64_t generation;  /* snapshots published */
    bool stopping;        /* destroy has begun: no more waiting for the loop */
    uint16_t port;
    size_t more_hint; /* the length of the last more_text (the HTTP thread's) */
};

static void
s_snap_release (s_snap_t *snap)
{
    if (snap && atomic_fetch_sub (&snap->refs, 1) == 1) {
        if (snap->free_data && snap->data)
            snap->free_data (snap->data);
        free (snap->text);
        free (snap->more_text);
        free (snap);
    }
}

static void
s_reply_free (void *cls)
{
    s_reply_t *reply = (s_reply_t *)cls;
    s_snap_release (reply->snap);
    free (reply->tail);
    free (reply);
}

/* A fresh enough snapshot (a reference) or NULL: wakes the loop and waits
   for it when the one held is old. */
static s_snap_t *
s_take_snapshot (rc_metrics_http_t *self)
{
    pthread_mutex_lock (&self->lock);
    if (!self->snap || rc_mono_ms () - self->snap_at > RC_METRICS_FRESH_MS) {
        uint64_t seen = self->generation;
        char byte = 1;
        /* a full pipe already says it; EAGAIN is fine */
        if (write (self->wake[1], &byte, 1) < 0 && errno != EAGAIN)
            rc_log_debug ("metrics: wake the loop: %s", strerror (errno));
        struct timespec until;
        clock_gettime (CLOCK_MONOTONIC, &until);
        until.tv_sec += RC_METRICS_WAIT_MS / 1000;
        until.tv_nsec += (long)(RC_METRICS_WAIT_MS % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (self->generation == seen && !self->stopping)
            if (pthread_cond_timedwait (&self->cond, &self->lock, &until) == ETIMEDOUT)
                break;
    }
    s_snap_t *snap = self->snap;
    if (snap)
        atomic_fetch_add (&snap->refs, 1);
    pthread_mutex_unlock (&self->lock);
    return snap;
}

static enum MHD_Result
s_queue_text (struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer (strlen (text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response (conn, status, r);
    MHD_destroy_response (r);
    return rc;
}

static enum MHD_Result
s_answer (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)con_cls;
    rc_metrics_http_t *self = (rc_metrics_http_t *)cls;
    if (*upload_data_size)
        return s_queue_text (conn, MHD_HTTP_BAD_REQUEST, "no body expected\n");
    if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
        return s_queue_text (conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /metrics\n");
    if (strcmp (url, "/metrics") != 0)
        return s_queue_text (conn, MHD_HTTP_NOT_FOUND, "not found: the figures are at /metrics\n");
    s_snap_t *snap = s_take_snapshot (self);
    if (!snap)
        return s_queue_text (conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no figures yet\n");
    s_reply_t *reply = (s_reply_t *)calloc (1, sizeof *reply);
    rc_expo_t *tail = rc_expo_new ();
    if (!reply || !tail) {
        free (reply);
        rc_expo_destroy (&tail);
        s_snap_release (snap);
        return MHD_NO;
    }
    if (snap->more && snap->data) {
        /* written once per snapshot, in a buffer as big as the last one:
           a second scraper (an HA pair of Prometheus) gets it for free */
        rc_expo_t *more = rc_expo_new ();
        if (more) {
            rc_expo_reserve (more, self->more_hint + self->more_hint / 8);
            snap->more (snap->data, more);
            snap->more_text = rc_expo_take (more, &snap->more_len);
            rc_expo_destroy (&more);
            self->more_hint = snap->more_len;
            if (snap->free_data)
                snap->free_data (snap->data);
            snap->data = NULL;
        }
    }
    rc_expo_process (tail, self->started_ms);
    size_t tail_len = 0;
    reply->snap = snap;
    reply->tail = rc_expo_take (tail, &tail_len);
    rc_expo_destroy (&tail);
    struct MHD_IoVec iov[3];
    unsigned n_iov = 0;
    iov[n_iov++] = (struct MHD_IoVec){snap->text, snap->len};
    if (snap->more_text)
        iov[n_iov++] = (struct MHD_IoVec){snap->more_text, snap->more_len};
    if (reply->tail)
        iov[n_iov++] = (struct MHD_IoVec){reply->tail, tail_len};
    struct MHD_Response *r = MHD_create_response_from_iovec (iov, n_iov, s_reply_free, reply);
    if (!r) {
        s_reply_free (reply);
        return MHD_NO;
    }
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, S_CONTENT_TYPE);
    enum MHD_Result rc = MHD_queue_response (conn, MHD_HTTP_OK, r);
    MHD_destroy_response (r);
    return rc;
}

rc_metrics_http_t *
rc_metrics_http_new (const char *endpoint, int64_t started_ms, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    socklen_t addr_len;
    if (rc_addr_parse (endpoint, &addr, &addr_len) != 0) {
        snprintf (err, errlen, "metrics_endpoint '%s' is not a numeric HOST:PORT", endpoint);
        return NULL;
    }
    rc_metrics_http_t *self = (rc_metrics_http_t *)calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->started_ms = started_ms;
    self->wake[0] = self->wake[1] = -1;
    pthread_mutex_init (&self->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->cond, &attr);
    pthread_condattr_destroy (&attr);
    if (pipe2 (self->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf (err, errlen, "metrics: pipe: %s", strerror (errno));
        goto fail;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    self->daemon = MHD_start_daemon (
        flags, 0, NULL, NULL, s_answer, self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)RC_METRICS_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)RC_METRICS_TIMEOUT_S, MHD_OPTION_END);
    if (!self->daemon) {
        snprintf (err, errlen, "cannot listen on metrics_endpoint %s: %s", endpoint,
                  errno ? strerror (errno) : "libmicrohttpd refused");
        goto fail;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : 0;
    return self;
fail:
    rc_metrics_http_destroy (&self);
    return NULL;
}

void
rc_metrics_http_destroy (rc_metrics_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rc_metrics_http_t *self = *self_p;
    /* a scrape waiting for a loop that stopped is answered now */
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    pthread_cond_broadcast (&self->cond);
    pthread_mutex_unlock (&self->lock);
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    s_snap_release (self->snap);
    for (int i = 0; i < 2; i++)
        if (self->wake[i] >= 0)
            close (self->wake[i]);
    pthread_cond_destroy (&self->cond);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
rc_metrics_http_wake_fd (rc_metrics_http_t *self)
{
    return self->wake[0];
}

bool
rc_metrics_http_asked (rc_metrics_http_t *self)
{
    char buf[64];
    bool asked = false;
    while (read (self->wake[0], buf, sizeof buf) > 0)
        asked = true;
    return asked;
}

void
rc_metrics_http_publish (rc_metrics_http_t *self, char *text, size_t len)
{
    rc_metrics_http_publish_more (self, text, len, NULL, NULL, NULL);
}

void
rc_metrics_http_publish_more (rc_metrics_http_t *self, char *text, size_t len,
                              rc_metrics_more_fn *more, void *data, void (*free_data) (void *data))
{
    s_snap_t *snap = text ? (s_snap_t *)calloc (1, sizeof *snap) : NULL;
    if (!snap) {
        free (text);
        if (free_data)
            free_data (data);
        return;
    }
    atomic_init (&snap->refs, 1);
    snap->text = text;
    snap->len = len;
    snap->more = more;
    snap->data = data;
    snap->free_data = free_data;
    pthread_mutex_lock (&self->lock);
    s_snap_t *old = self->snap;
    self->snap = snap;
    self->snap_at = rc_mono_ms ();
    self->generation++;
    pthread_cond_broadcast (&self->cond);
    pthread_mutex_unlock (&self->lock);
    s_snap_release (old);
}

uint16_t
rc_metrics_http_port (rc_metrics_http_t *self)
{
    return self->port;
}
