/*  child.h - one child process run for the executor (a hook, a health
    command, gzip): its own process group, an optional user, a timeout after
    which the whole group gets SIGTERM then SIGKILL, and its output read
    without blocking into a bounded tail. Nothing here blocks: the owner
    watches what rc_child_watch names and calls rc_child_poll until it says
    the child ended. */
#ifndef AGENT_CHILD_H
#define AGENT_CHILD_H

#include "watch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _rc_child_t rc_child_t;

typedef struct {
    const char *const *argv; /* argv[0] is the program path (execve) */
    const char *const *env;  /* "K=V" added to our environment, NULL-ended */
    const char *cwd;         /* NULL: inherit */
    const char *user;        /* NULL or "": do not change user */
    int stdin_fd;            /* -1: /dev/null */
    bool stdout_data;        /* stdout is a data pipe (rc_child_data_fd) and
                                only stderr goes into the output tail */
    int64_t timeout_ms;      /* <= 0: none */
} rc_child_opts_t;

/* Starts the child. Returns it, or NULL with a one-line reason in err (bad
   user, fork failure). */
rc_child_t *rc_child_new (const rc_child_opts_t *opts, char *err, size_t errlen);
/* Kills the group if it still runs (SIGKILL), reaps what it can. */
void rc_child_destroy (rc_child_t **self_p);

/* Reads pending output, reaps the child, enforces the timeout. Returns true
   once the child has ended (and been reaped). */
bool rc_child_poll (rc_child_t *self);

/* What to wait for before polling again: output, the child's exit (a
   pidfd) and its timeout. */
void rc_child_watch (rc_child_t *self, rc_watch_t *w);

/* After the end: exit code (0..255), or 128+signal when killed; -1 before. */
int rc_child_exit_code (rc_child_t *self);
/* True when the child was killed for its timeout. */
bool rc_child_timed_out (rc_child_t *self);
/* The last RC_OUTPUT_TAIL_BYTES of its output, NUL-terminated. */
const char *rc_child_output (rc_child_t *self);
/* With stdout_data: the read end of stdout (non-blocking), or -1. Owned by
   the child object. */
int rc_child_data_fd (rc_child_t *self);
/* Process group id (= pid of the child). */
int rc_child_pid (rc_child_t *self);

/* Convenience: "/bin/sh -c CMD" options. */
rc_child_opts_t rc_child_shell (const char *command, const char *const *env, const char *cwd,
                                const char *user, int64_t timeout_ms);

void rc_child_test (bool verbose);

#endif
