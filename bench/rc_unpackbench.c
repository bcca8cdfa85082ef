/*  rc_unpackbench.c - bench tool: unpacks an artifact the way the executor
    does (rc_unpack_new, then a wait on what rc_unpack_watch names, as the
    executor's loop waits, and rc_unpack_poll) and prints the milliseconds it took, so bench/run.sh
   can set it against tar -xzf of the same file. --sync includes the final syncfs. */
#include "agent_defaults.h"
#include "rc_time.h"
#include "unpack.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
    bool sync = argc == 4 && strcmp (argv[3], "--sync") == 0;
    if (argc != 3 && !sync) {
        fprintf (stderr, "usage: rc_unpackbench ARTIFACT EMPTY_DIR [--sync]\n");
        return 2;
    }
    char err[4096];
    rc_unpack_limits_t limits = {.no_sync = !sync};
    int64_t start = rc_mono_ms ();
    rc_unpack_t *u = rc_unpack_new (argv[1], argv[2], "artifact", &limits, err, sizeof err);
    if (!u) {
        fprintf (stderr, "rc_unpackbench: %s\n", err);
        return 1;
    }
    rc_unpack_status_t st;
    while ((st = rc_unpack_poll (u)) == RC_UNPACK_RUNNING) {
        rc_watch_t w;
        rc_watch_init (&w);
        rc_unpack_watch (u, &w);
        struct pollfd fds[RC_WATCH_MAX_FDS];
        for (size_t i = 0; i < w.count; i++)
            fds[i] = (struct pollfd){.fd = w.fds[i].fd, .events = POLLIN};
        poll (fds, w.count, -1);
    }
    int64_t took = rc_mono_ms () - start;
    if (st != RC_UNPACK_DONE) {
        fprintf (stderr, "rc_unpackbench: %s\n", rc_unpack_errmsg (u));
        rc_unpack_destroy (&u);
        return 1;
    }
    rc_unpack_destroy (&u);
    printf ("%lld\n", (long long)took);
    return 0;
}
