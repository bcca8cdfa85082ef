/*  rc_signals.h - the signal set-up every rollclone process repeats: a
    handler that only sets a flag (STYLE.md: the loop acts on it) for the
    signals named, and SIGPIPE ignored (a peer gone is an error return, not
    a death). */
#ifndef RC_SIGNALS_H
#define RC_SIGNALS_H

/* Installs handler (sigaction, no flags: a blocking call is interrupted)
   for each signal of the list, which ends with 0; ignores SIGPIPE. */
void rc_signals_catch (void (*handler) (int), ...);

#endif
