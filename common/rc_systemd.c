/*  rc_systemd.c - sd_notify and JOURNAL_STREAM (libsystemd). */
#include "rc_systemd.h"
#include "rc_time.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

/* Ping at this fraction of WatchdogSec (systemd's advice: half). */
#define S_WATCHDOG_DIVISOR 2
#define S_USEC_PER_MS 1000

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static int64_t s_watchdog_ms;       /* ping interval; 0 = no watchdog */
static _Atomic int64_t s_last_ping; /* monotonic ms of the last ping */

static void
s_init (void)
{
    uint64_t usec = 0;
    /* only when WATCHDOG_PID (if set) is us: a child we start is not
       asked to ping */
    if (sd_watchdog_enabled (0, &usec) > 0 && usec > 0)
        s_watchdog_ms = (int64_t)(usec / S_USEC_PER_MS / S_WATCHDOG_DIVISOR);
}

void
rc_systemd_ready (const char *status)
{
    pthread_once (&s_once, s_init);
    sd_notifyf (0, "READY=1\nSTATUS=%s", status ? status : "ready");
}

void
rc_systemd_watchdog (void)
{
    pthread_once (&s_once, s_init);
    if (s_watchdog_ms <= 0)
        return;
    int64_t now = rc_mono_ms ();
    int64_t last = atomic_load (&s_last_ping);
    if (last && now - last < s_watchdog_ms)
        return;
    if (atomic_compare_exchange_strong (&s_last_ping, &last, now))
        sd_notify (0, "WATCHDOG=1");
}

int64_t
rc_systemd_watchdog_ms (void)
{
    pthread_once (&s_once, s_init);
    return s_watchdog_ms > 0 ? s_watchdog_ms : 0;
}

void
rc_systemd_stopping (void)
{
    sd_notify (0, "STOPPING=1");
}

bool
rc_systemd_env_private (const char *entry)
{
    static const char *const names[] = {"NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID="};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncmp (entry, names[i], strlen (names[i])) == 0)
            return true;
    return false;
}

bool
rc_systemd_stderr_is_journal (void)
{
    const char *stream = getenv ("JOURNAL_STREAM");
    if (!stream)
        return false;
    unsigned long long dev = 0, ino = 0;
    if (sscanf (stream, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st;
    if (fstat (STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}
