/*  watch.h - what a waiting object waits for, told to the loop that owns
    it: file descriptors to poll and the moment to look again. The executor
    gathers them from everything that runs (children, downloads, health
    checks, extractions, the phases' own deadlines), registers the
    descriptors with its zloop and keeps one timer for the earliest moment,
    instead of looking at everything from a short timer: an idle agent does
    not wake up. Each object's rc_X_watch adds to a watch; its rc_X_poll
    does the work when one of them fired (or at any other time). */
#ifndef AGENT_WATCH_H
#define AGENT_WATCH_H

#include "rc_time.h"

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

/* Descriptors one executor watches at most; beyond, it looks again at
   once (a busy loop is better than a lost event). */
#define RC_WATCH_MAX_FDS 64
/* wake_at when there is no moment */
#define RC_WATCH_NEVER INT64_MAX

typedef struct {
    int fd;
    short events; /* ZMQ_POLLIN and/or ZMQ_POLLOUT */
} rc_watch_fd_t;

typedef struct {
    rc_watch_fd_t fds[RC_WATCH_MAX_FDS];
    size_t count;
    int64_t wake_at; /* monotonic ms, or RC_WATCH_NEVER */
} rc_watch_t;

static inline void
rc_watch_init (rc_watch_t *w)
{
    w->count = 0;
    w->wake_at = RC_WATCH_NEVER;
}

/* Look again at when (monotonic ms) at the latest. */
static inline void
rc_watch_at (rc_watch_t *w, int64_t when)
{
    if (when < w->wake_at)
        w->wake_at = when;
}

static inline void
rc_watch_fd (rc_watch_t *w, int fd, short events)
{
    if (fd < 0 || !events)
        return;
    for (size_t i = 0; i < w->count; i++)
        if (w->fds[i].fd == fd) {
            w->fds[i].events |= events;
            return;
        }
    if (w->count == RC_WATCH_MAX_FDS) {
        rc_watch_at (w, rc_mono_ms ());
        return;
    }
    w->fds[w->count].fd = fd;
    w->fds[w->count].events = events;
    w->count++;
}

#endif
