/*  child.c - child processes of the executor. The owner's loop watches the
    output pipe and a pidfd of the child (readable once it has exited; see
    rc_child_watch) and then calls rc_child_poll, which reads output with
    O_NONBLOCK and reaps with waitpid (WNOHANG). No SIGCHLD handler: the
    actor shares the process with the daemon and signals belong to main. */
#include "child.h"
#include "agent_defaults.h"
#include "rc_systemd.h"
#include "rc_time.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define S_MAX_GROUPS 256

struct _rc_child_t {
    pid_t pid;                           /* also the process group id */
    int pidfd;                           /* readable once the child exited, or -1 */
    int out_fd;                          /* read end of the output pipe, or -1 */
    int data_fd;                         /* read end of stdout with stdout_data */
    int64_t deadline;                    /* monotonic ms, 0 = none */
    int64_t kill_at;                     /* SIGKILL time after SIGTERM, 0 = not yet */
    bool ended;                          /* reaped */
    bool timed_out;                      /* killed for the timeout */
    int exit_code;                       /* -1 until ended */
    char tail[RC_OUTPUT_TAIL_BYTES + 1]; /* last output bytes, NUL-terminated */
    size_t tail_len;                     /* bytes used in tail */
};

rc_child_opts_t
rc_child_shell (const char *command, const char *const *env, const char *cwd, const char *user,
                int64_t timeout_ms)
{
    /* argv lives in static storage of this thread: the caller passes the
       result straight to rc_child_new, which copies nothing it needs later */
    static _Thread_local const char *argv[4];
    argv[0] = "/bin/sh";
    argv[1] = "-c";
    argv[2] = command;
    argv[3] = NULL;
    rc_child_opts_t opts = {.argv = argv,
                            .env = env,
                            .cwd = cwd,
                            .user = user,
                            .stdin_fd = -1,
                            .stdout_data = false,
                            .timeout_ms = timeout_ms};
    return opts;
}

static void
s_tail_append (rc_child_t *self, const char *data, size_t len)
{
    if (len >= RC_OUTPUT_TAIL_BYTES) {
        memcpy (self->tail, data + len - RC_OUTPUT_TAIL_BYTES, RC_OUTPUT_TAIL_BYTES);
        self->tail_len = RC_OUTPUT_TAIL_BYTES;
    }
    else {
        size_t keep = self->tail_len + len > RC_OUTPUT_TAIL_BYTES ? RC_OUTPUT_TAIL_BYTES - len
                                                                  : self->tail_len;
        memmove (self->tail, self->tail + self->tail_len - keep, keep);
        memcpy (self->tail + keep, data, len);
        self->tail_len = keep + len;
    }
    self->tail[self->tail_len] = '\0';
}

/* Builds environ + extra (extra wins), for execve. Done before fork: the
   child of a threaded process may only call async-signal-safe functions. */
static char **
s_build_env (const char *const *extra, const struct passwd *pw)
{
    size_t n = 0, m = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    for (const char *const *e = extra; e && *e; e++)
        m++;
    char **env = calloc (n + m + 4, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr (*e, '=');
        size_t keylen = eq ? (size_t)(eq - *e) : strlen (*e);
        bool overridden = false;
        for (const char *const *x = extra; x && *x && !overridden; x++)
            overridden = strncmp (*x, *e, keylen) == 0 && (*x)[keylen] == '=';
        if (pw
            && (strncmp (*e, "HOME=", 5) == 0 || strncmp (*e, "USER=", 5) == 0
                || strncmp (*e, "LOGNAME=", 8) == 0))
            overridden = true;
        if (rc_systemd_env_private (*e)) /* systemd's words to the agent only */
            overridden = true;
        if (!overridden)
            env[k++] = *e;
    }
    for (const char *const *x = extra; x && *x; x++)
        env[k++] = (char *)*x;
    env[k] = NULL;
    return env;
}

rc_child_t *
rc_child_new (const rc_child_opts_t *opts, char *err, size_t errlen)
{
    assert (opts && opts->argv && opts->argv[0]);
    rc_child_t *self = calloc (1, sizeof *self);
    char **env = NULL;
    char *pw_env[3] = {NULL, NULL, NULL};
    int out_pipe[2] = {-1, -1}, data_pipe[2] = {-1, -1};
    gid_t groups[S_MAX_GROUPS];
    int ngroups = S_MAX_GROUPS;
    struct passwd pwbuf, *pw = NULL;
    char pwstore[4096];
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->pid = -1;
    self->pidfd = self->out_fd = self->data_fd = -1;
    self->exit_code = -1;
    if (opts->user && *opts->user) {
        if (getpwnam_r (opts->user, &pwbuf, pwstore, sizeof pwstore, &pw) != 0 || !pw) {
            snprintf (err, errlen, "user '%s': no such user", opts->user);
            goto fail;
        }
        if (getgrouplist (pw->pw_name, pw->pw_gid, groups, &ngroups) < 0) {
            snprintf (err, errlen, "user '%s': more than %d groups", opts->user, S_MAX_GROUPS);
            goto fail;
        }
        if (asprintf (&pw_env[0], "HOME=%s", pw->pw_dir) < 0
            || asprintf (&pw_env[1], "USER=%s", pw->pw_name) < 0) {
            snprintf (err, errlen, "out of memory");
            goto fail;
        }
    }
    /* extra env: the caller's, plus HOME/USER of the hook's user */
    size_t m = 0;
    for (const char *const *x = opts->env; x && *x; x++)
        m++;
    const char **extra = calloc (m + 4, sizeof *extra);
    if (!extra) {
        snprintf (err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < m; i++)
        extra[i] = opts->env[i];
    if (pw) {
        extra[m++] = pw_env[0];
        extra[m++] = pw_env[1];
    }
    env = s_build_env (extra, pw);
    free (extra);
    if (!env || pipe2 (out_pipe, O_CLOEXEC) != 0
        || (opts->stdout_data && pipe2 (data_pipe, O_CLOEXEC) != 0)) {
        snprintf (err, errlen, "cannot create pipes: %s", strerror (errno));
        goto fail;
    }
    pid_t pid = fork ();
    if (pid < 0) {
        snprintf (err, errlen, "fork: %s", strerror (errno));
        goto fail;
    }
    if (pid == 0) {
        /* Child: async-signal-safe calls only, until execve. */
        setsid (); /* own session and process group: killed as one */
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
            signal (sig, SIG_DFL);
        int in = opts->stdin_fd >= 0 ? opts->stdin_fd : open ("/dev/null", O_RDONLY);
        if (in < 0 || dup2 (in, 0) < 0)
            _exit (127);
        int out = opts->stdout_data ? data_pipe[1] : out_pipe[1];
        if (dup2 (out, 1) < 0 || dup2 (out_pipe[1], 2) < 0)
            _exit (127);
        /* nothing of the agent (sockets, lock files) leaks into hooks */
        if (syscall (SYS_close_range, 3U, ~0U, 0U) != 0)
            for (int fd = 3; fd < 1024; fd++)
                close (fd);
        if (opts->cwd && chdir (opts->cwd) != 0)
            _exit (126);
        if (pw) {
            if (setgroups ((size_t)ngroups, groups) != 0 || setgid (pw->pw_gid) != 0
                || setuid (pw->pw_uid) != 0)
                _exit (126);
        }
        execve (opts->argv[0], (char *const *)opts->argv, env);
        _exit (127);
    }
    self->pid = pid;
    /* the child's end is seen without polling; a kernel before 5.3 has no
       pidfd: then the watch looks again every RC_CHILD_REAP_POLL_MS */
    self->pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
    close (out_pipe[1]);
    self->out_fd = out_pipe[0];
    fcntl (self->out_fd, F_SETFL, O_NONBLOCK);
    if (opts->stdout_data) {
        close (data_pipe[1]);
        self->data_fd = data_pipe[0];
        fcntl (self->data_fd, F_SETFL, O_NONBLOCK);
    }
    if (opts->timeout_ms > 0)
        self->deadline = rc_mono_ms () + opts->timeout_ms;
    free (env);
    free (pw_env[0]);
    free (pw_env[1]);
    return self;
fail:
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0)
            close (out_pipe[i]);
        if (data_pipe[i] >= 0)
            close (data_pipe[i]);
    }
    free (env);
    free (pw_env[0]);
    free (pw_env[1]);
    rc_child_destroy (&self);
    return NULL;
}

static void
s_read_output (rc_child_t *self)
{
    char buf[8192];
    size_t total = 0;
    while (self->out_fd >= 0 && total < RC_CHILD_READ_PER_TICK) {
        ssize_t n = read (self->out_fd, buf, sizeof buf);
        if (n > 0) {
            s_tail_append (self, buf, (size_t)n);
            total += (size_t)n;
        }
        else if (n < 0 && errno == EINTR)
            continue;
        else {
            /* EOF, or EAGAIN: nothing more for now */
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                close (self->out_fd);
                self->out_fd = -1;
            }
            break;
        }
    }
}

bool
rc_child_poll (rc_child_t *self)
{
    assert (self);
    if (self->ended)
        return true;
    s_read_output (self);
    int status;
    pid_t r = waitpid (self->pid, &status, WNOHANG);
    if (r == self->pid) {
        /* Drain what is left. A daemonized grandchild may keep the pipe open
           forever: we do not wait for EOF, only for the child itself. */
        s_read_output (self);
        if (self->out_fd >= 0) {
            close (self->out_fd);
            self->out_fd = -1;
        }
        self->ended = true;
        if (self->pidfd >= 0) {
            close (self->pidfd);
            self->pidfd = -1;
        }
        self->exit_code = WIFEXITED (status) ? WEXITSTATUS (status)
                                             : 128 + (WIFSIGNALED (status) ? WTERMSIG (status) : 0);
        if (self->timed_out)
            /* the group may still hold children that ignored SIGTERM */
            kill (-self->pid, SIGKILL);
        return true;
    }
    if (r < 0 && errno == ECHILD) {
        /* reaped by someone else: should not happen, but never spin on it */
        self->ended = true;
        self->exit_code = 128;
        return true;
    }
    int64_t now = rc_mono_ms ();
    if (self->deadline && now >= self->deadline && !self->timed_out) {
        self->timed_out = true;
        kill (-self->pid, SIGTERM);
        self->kill_at = now + RC_KILL_GRACE_MS;
    }
    else if (self->kill_at && now >= self->kill_at) {
        kill (-self->pid, SIGKILL);
        self->kill_at = 0;
    }
    return false;
}

void
rc_child_watch (rc_child_t *self, rc_watch_t *w)
{
    if (self->ended) {
        rc_watch_at (w, rc_mono_ms ());
        return;
    }
    rc_watch_fd (w, self->out_fd, ZMQ_POLLIN);
    if (self->pidfd >= 0)
        rc_watch_fd (w, self->pidfd, ZMQ_POLLIN);
    else
        rc_watch_at (w, rc_mono_ms () + RC_CHILD_REAP_POLL_MS);
    if (self->kill_at)
        rc_watch_at (w, self->kill_at);
    else if (self->deadline && !self->timed_out)
        rc_watch_at (w, self->deadline);
}

int
rc_child_exit_code (rc_child_t *self)
{
    return self->exit_code;
}

bool
rc_child_timed_out (rc_child_t *self)
{
    return self->timed_out;
}

const char *
rc_child_output (rc_child_t *self)
{
    return self->tail;
}

int
rc_child_data_fd (rc_child_t *self)
{
    return self->data_fd;
}

int
rc_child_pid (rc_child_t *self)
{
    return self->pid;
}

void
rc_child_destroy (rc_child_t **self_p)
{
    assert (self_p);
    rc_child_t *self = *self_p;
    if (!self)
        return;
    if (self->pid > 0 && !self->ended) {
        /* Abandoned (agent shutting down, step cancelled): the group dies
           now. The one blocking waitpid here is bounded: SIGKILL cannot be
           caught, so the child is gone as soon as the kernel delivers it. */
        kill (-self->pid, SIGKILL);
        kill (self->pid, SIGKILL);
        waitpid (self->pid, NULL, 0);
    }
    if (self->out_fd >= 0)
        close (self->out_fd);
    if (self->data_fd >= 0)
        close (self->data_fd);
    if (self->pidfd >= 0)
        close (self->pidfd);
    free (self);
    *self_p = NULL;
}
