/*  rc_tool.h - what the small HTTP tools share (tests/tools/rc_testweb.c,
    tests/tools/rc_testload.c, bench/rc_benchweb.c): reading --port and
    the signal set-up of a tool that runs until SIGTERM. Header-only:
    rc_testweb and rc_testload are built from their one file, without the
    project's objects (see the Makefile). */
#ifndef RC_TOOL_H
#define RC_TOOL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

/* rc_tool_port: ARG as a TCP port into *port; 0, or -1 after a one-line
   error naming PROG and ARG (the caller exits 2). */
static inline int
rc_tool_port (const char *prog, const char *arg, long *port)
{
    char *end = NULL;
    long p = strtol (arg, &end, 10);
    if (!*arg || *end || p < 1 || p > 65535) {
        fprintf (stderr, "%s: --port '%s' is not a TCP port\n", prog, arg);
        return -1;
    }
    *port = p;
    return 0;
}

/* rc_tool_loopback: the address 127.0.0.1:PORT. */
static inline struct sockaddr_in
rc_tool_loopback (long port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    return addr;
}

/* rc_tool_signals: blocks SIGTERM and SIGINT (into *set) before any thread
   starts, so the threads inherit the mask and only the main thread's
   sigwait sees them; a closed peer is an error return, not SIGPIPE. */
static inline void
rc_tool_signals (sigset_t *set)
{
    sigemptyset (set);
    sigaddset (set, SIGTERM);
    sigaddset (set, SIGINT);
    pthread_sigmask (SIG_BLOCK, set, NULL);
    signal (SIGPIPE, SIG_IGN);
}

/* rc_tool_wait: returns once SIGTERM or SIGINT (blocked in set) came. */
static inline void
rc_tool_wait (const sigset_t *set)
{
    int sig = 0;
    while (sigwait (set, &sig) != 0)
        ;
}

#endif
