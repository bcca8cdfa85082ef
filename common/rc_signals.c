/*  rc_signals.c - see rc_signals.h. */
#include "rc_signals.h"

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

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
