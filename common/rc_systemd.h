/*  rc_systemd.h - what a daemon tells systemd through sd_notify: ready,
    still alive (watchdog), stopping; and whether its stderr is the journal.
    Outside systemd (no NOTIFY_SOCKET, no WATCHDOG_USEC, no JOURNAL_STREAM)
    every call is a cheap no-op, so the daemons call them unconditionally. */
#ifndef RC_SYSTEMD_H
#define RC_SYSTEMD_H

#include <stdbool.h>
#include <stdint.h>

/* READY=1 with a STATUS= line: call once the daemon serves (sockets bound,
   store open), never before: Type=notify units are "started" from then. */
void rc_systemd_ready (const char *status);

/* WATCHDOG=1, at most every half WatchdogSec (sd_watchdog_enabled). Call it
   from the loop's cron: a loop that stops turning stops the pings, and
   systemd restarts the daemon. */
void rc_systemd_watchdog (void);
/* How often rc_systemd_watchdog must be called (half WatchdogSec, in ms),
   0 when systemd watches nothing: then the cron need not wake for it. */
int64_t rc_systemd_watchdog_ms (void);

/* STOPPING=1: the daemon is shutting down on purpose. */
void rc_systemd_stopping (void);

/* True when stderr is the journal's stream for this service (JOURNAL_STREAM
   names stderr's device:inode): then logs go to journald natively. */
bool rc_systemd_stderr_is_journal (void);

/* True for an environment entry ("NAME=value") that systemd meant for this
   process alone (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID): programs we
   start must not get it, or an app started by a hook could notify systemd
   in the agent's name (the agent unit accepts any of its processes'
   notifications, and STOPPING=1 would stop it). */
bool rc_systemd_env_private (const char *entry);

#endif
