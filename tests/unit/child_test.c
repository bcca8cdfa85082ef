/*  child_test.c - the selftest of agent/child.c, with Check's ck_assert (moved out of
    the daemon's code, and holding under -DNDEBUG). */
#include "child.h"
#include "agent_defaults.h"
#include "rc_systemd.h"
#include "rc_time.h"
#include "selftests.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Selftest: output, exit codes, env, timeout killing a whole group. */
static rc_child_t *
s_run (rc_child_opts_t opts)
{
    char err[256];
    rc_child_t *child = rc_child_new (&opts, err, sizeof err);
    ck_assert (child);
    while (!rc_child_poll (child))
        usleep (5000);
    return child;
}

void
rc_child_test (bool verbose)
{
    (void)verbose;
    const char *env[] = {"ROLLCLONE_APP=web", NULL};
    rc_child_t *c = s_run (
        rc_child_shell ("echo out $ROLLCLONE_APP; echo err >&2; exit 3", env, "/tmp", NULL, 0));
    ck_assert (rc_child_exit_code (c) == 3);
    ck_assert (strstr (rc_child_output (c), "out web"));
    ck_assert (strstr (rc_child_output (c), "err"));
    ck_assert (!rc_child_timed_out (c));
    rc_child_destroy (&c);
    rc_child_destroy (&c);

    /* more output than the tail keeps: the end survives */
    c = s_run (rc_child_shell ("i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done", NULL,
                               NULL, NULL, 0));
    ck_assert (rc_child_exit_code (c) == 0);
    ck_assert (strlen (rc_child_output (c)) == RC_OUTPUT_TAIL_BYTES);
    ck_assert (strstr (rc_child_output (c), "line1999\n"));
    rc_child_destroy (&c);

    /* a grandchild that outlives the timeout dies with its group */
    char pidfile[] = "/tmp/rc_child_test.XXXXXX";
    int fd = mkstemp (pidfile);
    ck_assert (fd >= 0);
    close (fd);
    char cmd[256];
    snprintf (cmd, sizeof cmd, "sleep 30 & echo $! > %s; sleep 30", pidfile);
    int64_t start = rc_mono_ms ();
    c = s_run (rc_child_shell (cmd, NULL, NULL, NULL, 200));
    ck_assert (rc_child_timed_out (c));
    ck_assert (rc_mono_ms () - start < 5000);
    FILE *f = fopen (pidfile, "r");
    int gpid = 0;
    ck_assert (f && fscanf (f, "%d", &gpid) == 1);
    fclose (f);
    unlink (pidfile);
    /* the grandchild is gone or a zombie waiting for init */
    usleep (100 * 1000);
    char status_path[64], line[256];
    snprintf (status_path, sizeof status_path, "/proc/%d/status", gpid);
    f = fopen (status_path, "r");
    bool alive = false;
    while (f && fgets (line, sizeof line, f))
        if (strncmp (line, "State:", 6) == 0)
            alive = !strchr (line, 'Z') && !strchr (line, 'X');
    if (f)
        fclose (f);
    ck_assert (!alive);
    rc_child_destroy (&c);

    /* an unknown user is refused before anything runs */
    char err[256];
    rc_child_opts_t opts = rc_child_shell ("true", NULL, NULL, "no-such-user-rc", 0);
    ck_assert (rc_child_new (&opts, err, sizeof err) == NULL && strstr (err, "no-such-user-rc"));
}
