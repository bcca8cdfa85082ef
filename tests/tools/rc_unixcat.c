/*  rc_unixcat.c - test tool: one command to a unix stream socket, its
    answer on stdout (HAProxy's runtime API: scripts/webapp-hook.sh's
    drain/undrain, tests/e2e/lib.sh's lb_stat).

    rc_unixcat SOCKET COMMAND

    Connects, sends COMMAND and a newline, copies what comes back to stdout
    until the peer closes (HAProxy answers one command and closes), at most
    RC_UNIXCAT_TIMEOUT_S seconds without a byte. Exit 0 once the peer
    closed, 1 when the socket cannot be reached or goes quiet, 2 on bad
    usage. It replaced a python3 one-shot (an interpreter start, ~60 ms of
    CPU) that the tests ran in their polls and the drain hook in its loop.
    Built without sanitizers (see the Makefile), like rc_testweb. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define RC_UNIXCAT_TIMEOUT_S 6

static int
s_write_all (int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write (fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "usage: rc_unixcat SOCKET COMMAND\n");
        return 2;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen (argv[1]) >= sizeof addr.sun_path) {
        fprintf (stderr, "rc_unixcat: socket path '%s' is too long\n", argv[1]);
        return 2;
    }
    strcpy (addr.sun_path, argv[1]);
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror ("rc_unixcat: socket");
        return 1;
    }
    struct timeval tv = {.tv_sec = RC_UNIXCAT_TIMEOUT_S};
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect (fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf (stderr, "rc_unixcat: cannot connect to %s: %s\n", argv[1], strerror (errno));
        return 1;
    }
    if (s_write_all (fd, argv[2], strlen (argv[2])) != 0 || s_write_all (fd, "\n", 1) != 0) {
        fprintf (stderr, "rc_unixcat: cannot send to %s: %s\n", argv[1], strerror (errno));
        return 1;
    }
    char buf[65536];
    for (;;) {
        ssize_t n = read (fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf (stderr, "rc_unixcat: no answer from %s: %s\n", argv[1], strerror (errno));
            return 1;
        }
        if (n == 0)
            break;
        if (fwrite (buf, 1, (size_t)n, stdout) != (size_t)n)
            return 1;
    }
    close (fd);
    return fflush (stdout) == 0 ? 0 : 1;
}
