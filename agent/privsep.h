/*  privsep.h - the agent daemon as two processes (OpenBSD ntpd/relayd
    style). The process systemd starts (root) opens nothing of ZeroMQ; it
    creates a socketpair and forks:
      - the child becomes the network side (daemon.c): it drops to
        [agent] user (setgroups, setgid, setuid, no capabilities, bounding
        set empty, no_new_privs, execve refused by a seccomp filter) and
        only then starts ZeroMQ, CURVE and the coordinator link;
      - the parent stays root and is the executor: hooks, downloads,
        unpacking, the release switch (executor.c). It never decodes a
        network frame: it gets typed messages (channel.h) from the child.
    Either process going away ends the other, and the daemon exits
    non-zero so that systemd starts both again. The parent is the unit's
    main PID: it is the one that talks to systemd (sd_notify). */
#ifndef AGENT_PRIVSEP_H
#define AGENT_PRIVSEP_H

#include "rc_config.h"
#include <stdbool.h>
#include <sys/types.h>

/* Runs the daemon (both processes). Must be called before anything in the
   process has started ZeroMQ or a thread. Returns the exit code. */
int rc_agent_privsep_run (const rc_config_t *cfg, bool verbose);

/* Drops the calling process, for good, to uid/gid with no supplementary
   groups and no capabilities (effective, permitted, inheritable, ambient,
   bounding), then checks that root cannot be regained. Needs root. 0, or
   -1 with a reason in err. */
int rc_privsep_drop (uid_t uid, gid_t gid, char *err, size_t errlen);

/* Sets no_new_privs and a seccomp filter under which execve and execveat
   fail with EPERM: the network side never starts a program. 0, or -1 with
   a reason in err. */
int rc_privsep_no_exec (char *err, size_t errlen);

/* Selftest (tests/unit/privsep_test.c, with the channel's and rc_text's) */
void rc_privsep_test (bool verbose);

#endif
