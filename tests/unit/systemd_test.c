/*  systemd_test.c - rc_systemd: READY=1 and rate-limited WATCHDOG=1 reach
    the NOTIFY_SOCKET (a datagram socket of ours, as systemd's would be);
    JOURNAL_STREAM is believed only when it names stderr. And rc_log off the
    journal: one whole line on stderr, however long. */
#include "rc_log.h"
#include "rc_systemd.h"
#include "selftests.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define S_WATCHDOG_USEC "200000" /* pings at most every 100 ms */
#define S_LONG_MESSAGE 3000

/* The next datagram within 1 s into buf, or "" when none came. */
static void
s_recv (int fd, char *buf, size_t size)
{
    struct timeval tv = {.tv_sec = 1};
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = recv (fd, buf, size - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
}

static bool
s_nothing_pending (int fd)
{
    char buf[64];
    return recv (fd, buf, sizeof buf, MSG_DONTWAIT) < 0;
}

/* On the journal: in a mount namespace of our own (root only; Check runs
   each test in a child process) a tmpfs over /run/systemd holds our socket
   where journald's would be; the line arrives with its priority and the
   caller's fields. */
static void
s_journal_case (void)
{
    if (geteuid () != 0 || unshare (CLONE_NEWNS) != 0
        || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0
        || mount ("tmpfs", "/run/systemd", "tmpfs", 0, NULL) != 0) {
        fprintf (stderr, "rc_systemd_test: no mount namespace, journal case skipped\n");
        return;
    }
    ck_assert_int_eq (mkdir ("/run/systemd/journal", 0755), 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf (addr.sun_path, sizeof addr.sun_path, "/run/systemd/journal/socket");
    int fd = socket (AF_UNIX, SOCK_DGRAM, 0);
    ck_assert_int_eq (bind (fd, (struct sockaddr *)&addr, sizeof addr), 0);
    struct stat st;
    ck_assert_int_eq (fstat (STDERR_FILENO, &st), 0);
    char stream[64];
    snprintf (stream, sizeof stream, "%llu:%llu", (unsigned long long)st.st_dev,
              (unsigned long long)st.st_ino);
    setenv ("JOURNAL_STREAM", stream, 1);
    rc_log_init ("rc-test", false);
    rc_log_warn_with (&(rc_log_fields_t){.deployment_id = "d-7", .host_id = "web-1"},
                      "host %s failed", "web-1");
    char buf[1024];
    s_recv (fd, buf, sizeof buf);
    ck_assert_msg (strstr (buf, "MESSAGE=host web-1 failed\n"), "%s", buf);
    ck_assert_msg (strstr (buf, "PRIORITY=4\n"), "%s", buf);
    ck_assert_msg (strstr (buf, "SYSLOG_IDENTIFIER=rc-test\n"), "%s", buf);
    ck_assert_msg (strstr (buf, "DEPLOYMENT_ID=d-7\n"), "%s", buf);
    ck_assert_msg (strstr (buf, "HOST_ID=web-1"), "%s", buf);
    ck_assert_msg (strstr (buf, "CODE_FILE=tests/unit/systemd_test.c\n"), "%s", buf);
    ck_assert_ptr_null (strstr (buf, "APP="));
    unsetenv ("JOURNAL_STREAM");
    rc_log_init ("rc-test", false);
    close (fd);
    umount ("/run/systemd");
}

void
rc_systemd_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_systemd_test.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf (addr.sun_path, sizeof addr.sun_path, "%s/notify", dir);
    int fd = socket (AF_UNIX, SOCK_DGRAM, 0);
    ck_assert_int_ge (fd, 0);
    ck_assert_int_eq (bind (fd, (struct sockaddr *)&addr, sizeof addr), 0);
    setenv ("NOTIFY_SOCKET", addr.sun_path, 1);
    setenv ("WATCHDOG_USEC", S_WATCHDOG_USEC, 1);
    unsetenv ("WATCHDOG_PID");

    char buf[256];
    rc_systemd_ready ("serving");
    s_recv (fd, buf, sizeof buf);
    ck_assert_str_eq (buf, "READY=1\nSTATUS=serving");
    /* the first ping goes out, the next within half WatchdogSec does not */
    rc_systemd_watchdog ();
    s_recv (fd, buf, sizeof buf);
    ck_assert_str_eq (buf, "WATCHDOG=1");
    rc_systemd_watchdog ();
    ck_assert (s_nothing_pending (fd));
    usleep (150 * 1000);
    rc_systemd_watchdog ();
    s_recv (fd, buf, sizeof buf);
    ck_assert_str_eq (buf, "WATCHDOG=1");
    rc_systemd_stopping ();
    s_recv (fd, buf, sizeof buf);
    ck_assert_str_eq (buf, "STOPPING=1");
    unsetenv ("NOTIFY_SOCKET");
    unsetenv ("WATCHDOG_USEC");

    /* systemd's variables for us are not passed on to what we start */
    ck_assert (rc_systemd_env_private ("NOTIFY_SOCKET=/run/systemd/notify"));
    ck_assert (rc_systemd_env_private ("WATCHDOG_USEC=60000000"));
    ck_assert (rc_systemd_env_private ("WATCHDOG_PID=1"));
    ck_assert (!rc_systemd_env_private ("NOTIFY_SOCKETS=x"));
    ck_assert (!rc_systemd_env_private ("JOURNAL_STREAM=1:2"));
    ck_assert (!rc_systemd_env_private ("PATH=/bin"));

    /* JOURNAL_STREAM must name stderr itself */
    char path[600];
    snprintf (path, sizeof path, "%s/stderr", dir);
    int saved = dup (STDERR_FILENO);
    FILE *out = fopen (path, "w+");
    ck_assert_ptr_nonnull (out);
    dup2 (fileno (out), STDERR_FILENO);
    struct stat st;
    ck_assert_int_eq (fstat (STDERR_FILENO, &st), 0);
    char stream[64];
    snprintf (stream, sizeof stream, "%llu:%llu", (unsigned long long)st.st_dev,
              (unsigned long long)st.st_ino);
    unsetenv ("JOURNAL_STREAM");
    ck_assert (!rc_systemd_stderr_is_journal ());
    setenv ("JOURNAL_STREAM", stream, 1);
    ck_assert (rc_systemd_stderr_is_journal ());
    snprintf (stream, sizeof stream, "%llu:%llu", (unsigned long long)st.st_dev,
              (unsigned long long)st.st_ino + 1);
    setenv ("JOURNAL_STREAM", stream, 1); /* a stream our parent had */
    ck_assert (!rc_systemd_stderr_is_journal ());
    setenv ("JOURNAL_STREAM", "garbage", 1);
    ck_assert (!rc_systemd_stderr_is_journal ());

    /* off the journal: one line with a letter, ident and time, uncut */
    rc_log_init ("rc-test", false);
    char *text = malloc (S_LONG_MESSAGE + 1);
    ck_assert_ptr_nonnull (text);
    memset (text, 'x', S_LONG_MESSAGE);
    text[S_LONG_MESSAGE] = '\0';
    rc_log_warn ("long %s end", text);
    rc_log_debug ("not shown when not verbose");
    fflush (stderr);
    dup2 (saved, STDERR_FILENO);
    close (saved);
    rewind (out);
    char *line = NULL;
    size_t cap = 0;
    ck_assert_int_gt (getline (&line, &cap, out), 0);
    ck_assert_msg (strncmp (line, "W: (rc-test) 2", 14) == 0, "%.40s", line);
    ck_assert_ptr_nonnull (strstr (line, text));
    ck_assert_ptr_nonnull (strstr (line, " end\n"));
    ck_assert_int_lt (getline (&line, &cap, out), 0);
    free (line);
    free (text);
    fclose (out);
    unsetenv ("JOURNAL_STREAM");

    close (fd);
    s_journal_case ();
    snprintf (path, sizeof path, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (path), 0);
}
