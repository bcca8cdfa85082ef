/*  rc_signals.h - the signal set-up every rollclone process repeats: a
    handler that only sets a flag (STYLE.md: the loop acts on it) for the
    signals named, and SIGPIPE ignored (a peer gone is an error return, not
    a death). */
#ifndef RC_SIGNALS_H
#define RC_SIGNALS_H

#include <czmq.h>

/* Installs handler (sigaction, no flags: a blocking call is interrupted)
   for each signal of the list, which ends with 0; ignores SIGPIPE. */
void rc_signals_catch (void (*handler) (int), ...);

/* The read end of this process's wake pipe (made at the first call, after
   any fork: a pipe shared with another process would wake the wrong one),
   or -1. A loop polls it instead of looking at its flag from a timer, so
   an idle daemon does not wake up (STYLE.md). */
int rc_signals_wake_fd (void);
/* From a handler: makes the wake fd readable (async-signal-safe). */
void rc_signals_wake (void);
/* Empties the wake pipe (in the loop, when it was readable). */
void rc_signals_wake_drain (void);
/* A zloop poller for the wake fd: empties it and ends the loop (-1) when
 *stop (the volatile sig_atomic_t flag the handler sets) is set. */
int rc_signals_on_wake (zloop_t *loop, zmq_pollitem_t *item, void *stop);

#endif
