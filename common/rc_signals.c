/*  rc_signals.c - see rc_signals.h. */
#include "rc_signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

static int s_wake[2] = {-1, -1}; /* the wake pipe: read, write */

void
rc_signals_catch (void (*handler) (int), ...)
{
    struct sigaction sa = {.sa_handler = handler};
    sigemptyset (&sa.sa_mask);
    va_list args;
    va_start (args, handler);
    for (int sig = va_arg (args, int); sig != 0; sig = va_arg (args, int))
        sigaction (sig, &sa, NULL);
    va_end (args);
    signal (SIGPIPE, SIG_IGN);
}

int
rc_signals_wake_fd (void)
{
    if (s_wake[0] < 0 && pipe2 (s_wake, O_NONBLOCK | O_CLOEXEC) != 0)
        s_wake[0] = s_wake[1] = -1;
    return s_wake[0];
}

void
rc_signals_wake (void)
{
    int saved = errno;
    if (s_wake[1] >= 0 && write (s_wake[1], "", 1) < 0) {
        /* full: a wake is pending already */
    }
    errno = saved;
}

void
rc_signals_wake_drain (void)
{
    char buf[64];
    while (s_wake[0] >= 0 && read (s_wake[0], buf, sizeof buf) > 0) {
    }
}

int
rc_signals_on_wake (zloop_t *loop, zmq_pollitem_t *item, void *stop)
{
    (void)loop;
    (void)item;
    rc_signals_wake_drain ();
    return *(volatile sig_atomic_t *)stop ? -1 : 0;
}
