/*  privsep.c - the agent daemon's two processes: the fork, the drop of the
    network side's privileges, and the executor process's loop, which
    relays typed messages between the channel and the executor actor. */
#include "privsep.h"
#include "agent_defaults.h"
#include "channel.h"
#include "daemon.h"
#include "executor.h"
#include "fetch.h"
#include "journal.h"
#include "rc_defaults.h"
#include "rc_log.h"
#include "rc_signals.h"
#include "rc_systemd.h"
#include "rc_time.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define S_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define S_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* Signal handlers only set this and wake the loop; the loops act on it. */
static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void)sig;
    s_stop = 1;
    rc_signals_wake ();
}

/* ---- dropping privileges --------------------------------------------- */

/* The highest capability this kernel knows (it may know more than our
   headers): the bounding set answers for every one it has. */
static int
s_last_cap (void)
{
    int cap = 0;
    while (prctl (PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0)
        cap++;
    return cap;
}

/* True when no capability is left in any set of this process. */
static bool
s_no_caps (int last_cap)
{
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    if (syscall (SYS_capget, &header, data) != 0)
        return false;
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
        if (data[i].effective || data[i].permitted || data[i].inheritable)
            return false;
    for (int cap = 0; cap <= last_cap; cap++)
        if (prctl (PR_CAPBSET_READ, cap, 0, 0, 0) == 1
            || prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1)
            return false;
    return true;
}

int
rc_privsep_drop (uid_t uid, gid_t gid, char *err, size_t errlen)
{
    if (uid == 0) {
        snprintf (err, errlen, "refusing to drop to uid 0");
        return -1;
    }
    int last_cap = s_last_cap ();
    /* The bounding set can only shrink while we still have CAP_SETPCAP:
       before the uid changes. Then nothing executed later (nothing is: see
       rc_privsep_no_exec) could get a capability back. */
    for (int cap = 0; cap <= last_cap; cap++)
        if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
            snprintf (err, errlen, "cannot drop capability %d from the bounding set: %s", cap,
                      strerror (errno));
            return -1;
        }
    prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (setgroups (1, &gid) != 0 || setresgid (gid, gid, gid) != 0
        || setresuid (uid, uid, uid) != 0) {
        snprintf (err, errlen, "cannot change to uid %u gid %u: %s", (unsigned)uid, (unsigned)gid,
                  strerror (errno));
        return -1;
    }
    /* Trust, but verify (OpenBSD's daemons do the same): every id is the
       new one, root is out of reach, and no capability survived. */
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    gid_t groups[2];
    int ngroups = getgroups (2, groups);
    if (getresuid (&ruid, &euid, &suid) != 0 || getresgid (&rgid, &egid, &sgid) != 0 || ruid != uid
        || euid != uid || suid != uid || rgid != gid || egid != gid || sgid != gid || ngroups != 1
        || groups[0] != gid) {
        snprintf (err, errlen, "ids not changed as asked");
        return -1;
    }
    if (setuid (0) == 0 || seteuid (0) == 0 || setgid (0) == 0) {
        snprintf (err, errlen, "root could be regained after the drop");
        return -1;
    }
    if (!s_no_caps (last_cap)) {
        snprintf (err, errlen, "capabilities left after the drop");
        return -1;
    }
    /* no core dumps or ptrace by other processes of the same user: the
       secret key is in our memory */
    prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
    return 0;
}

int
rc_privsep_no_exec (char *err, size_t errlen)
{
    if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf (err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror (errno));
        return -1;
    }
#ifdef S_AUDIT_ARCH
    struct sock_filter filter[] = {
        /* another architecture's system call numbers mean something else */
        BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch)),
        BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, S_AUDIT_ARCH, 1, 0),
        BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
#if defined(__x86_64__)
        /* x32 system calls (own numbers, same arch value): none of ours */
        BPF_JUMP (BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
        BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
        BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 2, 0),
        BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, SYS_execveat, 1, 0),
        BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
        snprintf (err, errlen, "seccomp filter: %s", strerror (errno));
        return -1;
    }
#endif
    return 0;
}

/* ---- before the fork --------------------------------------------------- */

/* Threads in this process (fork copies only the caller's: a ZeroMQ context
   with threads would be left broken in the child). */
static int
s_thread_count (void)
{
    DIR *dir = opendir ("/proc/self/task");
    int n = 0;
    if (!dir)
        return -1;
    for (struct dirent *e = readdir (dir); e; e = readdir (dir))
        if (e->d_name[0] != '.')
            n++;
    closedir (dir);
    return n;
}

/* Who the network side runs as. Root: cfg->user, which must exist and not
   be root (exit 2 otherwise: a config error, not worth a restart). Not
   root (a developer's run): nobody to drop to, both halves keep our uid. */
static int
s_user (const rc_config_t *cfg, uid_t *uid, gid_t *gid, bool *drop)
{
    *drop = geteuid () == 0;
    if (!*drop)
        return 0;
    struct passwd *pw = getpwnam (cfg->user);
    if (!pw) {
        fprintf (stderr,
                 "rollclone-agent: [agent] user = '%s': no such user (the packages create "
                 "'%s'; name an existing unprivileged user)\n",
                 cfg->user, RC_DEFAULT_AGENT_USER);
        return -1;
    }
    if (pw->pw_uid == 0) {
        fprintf (stderr, "rollclone-agent: [agent] user = '%s': must not be root (uid 0)\n",
                 cfg->user);
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

/* ---- the network side (child) ----------------------------------------- */

static int
s_network_side (const rc_config_t *cfg, int fd, bool drop, uid_t uid, gid_t gid, bool verbose)
{
    char err[256];
    if (drop && rc_privsep_drop (uid, gid, err, sizeof err) != 0) {
        fprintf (stderr, "rollclone-agent: network side: %s\n", err);
        return RC_EXIT_FAILED;
    }
    if (rc_privsep_no_exec (err, sizeof err) != 0) {
        fprintf (stderr, "rollclone-agent: network side: %s\n", err);
        return RC_EXIT_FAILED;
    }
    if (chdir ("/") != 0) {
        fprintf (stderr, "rollclone-agent: network side: chdir /: %s\n", strerror (errno));
        return RC_EXIT_FAILED;
    }
    /* ZeroMQ starts here, in the unprivileged process */
    rc_log_init ("rollclone-agent", verbose);
    if (!drop)
        rc_log_warn ("not started as root: the network side keeps uid %u (no privilege "
                     "separation)",
                     (unsigned)getuid ());
    else
        rc_log_info ("network side: pid %d, user %s (uid %u), no capabilities", (int)getpid (),
                     cfg->user, (unsigned)uid);
    rc_channel_t *channel = rc_channel_new (fd, RC_CHANNEL_NETWORK);
    if (!channel) {
        rc_log_error ("network side: out of memory");
        return RC_EXIT_FAILED;
    }
    int rc = rc_agent_daemon_run (cfg, channel);
    rc_channel_destroy (&channel);
    return rc;
}

/* ---- the executor (parent) --------------------------------------------- */

typedef struct {
    const rc_config_t *cfg; /* borrowed */
    rc_channel_t *channel;  /* to the network side */
    zactor_t *executor;     /* runs steps and health checks */
    pid_t child;            /* the network side */
    bool child_gone;        /* its end of the channel closed */
    bool ready;             /* it said READY */
} s_priv_t;

/* Network side -> executor. Only typed messages that passed the channel's
   checks go on; what they carry is checked again by the executor actor. */
static int
s_on_network (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    s_priv_t *self = arg;
    rc_msg_type_t type;
    const uint8_t *body;
    size_t len;
    rc_channel_status_t st = rc_channel_recv (self->channel, &type, &body, &len);
    if (st == RC_CHANNEL_EOF) {
        self->child_gone = true;
        if (!s_stop)
            rc_log_error ("the network side (pid %d) is gone: stopping", (int)self->child);
        return -1;
    }
    if (st == RC_CHANNEL_BAD)
        rc_log_warn ("from the network side: %s", rc_channel_errmsg (self->channel));
    if (st != RC_CHANNEL_MSG)
        return 0;
    if (type == RC_MSG_STEP) {
        /* a step may download or GET: libcurl set up here, in this thread
           (rc_executor_new says why), before the actor can need it */
        rc_fetch_global_init ();
        zframe_t *frame = zframe_new (body, len);
        zstr_sendm (self->executor, "STEP");
        zframe_send (&frame, self->executor, 0);
    }
    else if (type == RC_MSG_STATE_ASK)
        zstr_send (self->executor, "STATE");
    else if (type == RC_MSG_READY && !self->ready) {
        /* Both halves are up. This process is the unit's main PID, so it
           is the one that speaks to systemd (NotifyAccess=main). */
        self->ready = true;
        rc_systemd_ready ("running");
        rc_log_info ("agent '%s' %s: executor pid %d (root), network side pid %d", self->cfg->id,
                     RC_VERSION, (int)getpid (), (int)self->child);
    }
    return 0;
}

/* Executor actor -> network side. A blocking send: the network side's loop
   always reads its end. */
static int
s_on_executor (zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void)loop;
    s_priv_t *self = arg;
    zmsg_t *msg = zmsg_recv (pipe);
    if (!msg)
        return 0;
    char *kind = zmsg_popstr (msg);
    zframe_t *frame = zmsg_pop (msg);
    rc_msg_type_t type = RC_MSG_NONE;
    const void *body = frame ? zframe_data (frame) : NULL;
    size_t len = frame ? zframe_size (frame) : 0;
    uint8_t health = 0;
    if (kind && streq (kind, "REPORT") && frame)
        type = RC_MSG_REPORT;
    else if (kind && streq (kind, "STATE") && frame)
        type = RC_MSG_STATE;
    else if (kind && streq (kind, "HEALTH") && frame) {
        type = RC_MSG_HEALTH;
        health = len == 1 && *(const char *)body == '1';
        body = &health;
        len = 1;
    }
    if (type != RC_MSG_NONE && rc_channel_send (self->channel, type, body, len, true) != 0)
        rc_log_warn ("%s to the network side not sent: %s", rc_channel_type_name (type),
                     strerror (errno));
    free (kind);
    zframe_destroy (&frame);
    zmsg_destroy (&msg);
    return 0;
}

/* The systemd watchdog's ping, when systemd wants one: else no timer. */
static int
s_on_cron (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    (void)arg;
    rc_systemd_watchdog ();
    return s_stop ? -1 : 0;
}

/* Stops the network side (SIGTERM, then SIGKILL after RC_PRIVSEP_STOP_MS)
   and reaps it. Returns its wait status. */
static int
s_stop_child (pid_t child)
{
    int status = 0;
    kill (child, SIGTERM);
    int64_t deadline = rc_mono_ms () + RC_PRIVSEP_STOP_MS;
    while (true) {
        pid_t r = waitpid (child, &status, WNOHANG);
        if (r == child || (r < 0 && errno != EINTR))
            return r == child ? status : -1;
        if (rc_mono_ms () > deadline) {
            kill (child, SIGKILL);
            deadline = INT64_MAX;
        }
        usleep (RC_PRIVSEP_POLL_MS * 1000);
    }
}

static int
s_executor_side (const rc_config_t *cfg, int fd, pid_t child, bool verbose)
{
    int rc = RC_EXIT_FAILED;
    /* before any socket: the context starts its threads at the first */
    zsys_set_io_threads (RC_EXECUTOR_IO_THREADS);
    rc_log_init ("rollclone-agent", verbose);
    s_priv_t self = {.cfg = cfg, .child = child};
    zloop_t *loop = NULL;
    char err[1024];
    self.channel = rc_channel_new (fd, RC_CHANNEL_EXECUTOR);
    if (!self.channel) {
        close (fd);
        rc_log_error ("out of memory");
        goto out;
    }
    /* libcurl is set up by rc_executor_new when an app checks its health
       over HTTP, else at the first step (s_on_network) */
    self.executor = rc_executor_new (cfg, err, sizeof err);
    if (!self.executor) {
        rc_log_error ("cannot start the executor: %s", err);
        goto out;
    }
    loop = zloop_new ();
    if (!loop)
        goto out;
    zmq_pollitem_t item = {.fd = rc_channel_fd (self.channel), .events = ZMQ_POLLIN};
    zloop_poller (loop, &item, s_on_network, &self);
    zloop_reader (loop, (zsock_t *)zactor_sock (self.executor), s_on_executor, &self);
    /* made after the fork, so the network side's is its own; a signal
       before it set s_stop, looked at just below */
    zmq_pollitem_t wake = {.fd = rc_signals_wake_fd (), .events = ZMQ_POLLIN};
    if (wake.fd < 0 || zloop_poller (loop, &wake, rc_signals_on_wake, (void *)&s_stop) != 0) {
        rc_log_error ("cannot watch for signals: %s", strerror (errno));
        goto out;
    }
    /* twice as often as the pings are due: a late turn is not a lost one */
    if (rc_systemd_watchdog_ms () > 0)
        zloop_timer (loop, (size_t)(rc_systemd_watchdog_ms () / 2 + 1), 0, s_on_cron, &self);
    if (!s_stop)
        zloop_start (loop);
    rc_systemd_stopping ();
    rc = s_stop && !self.child_gone ? RC_EXIT_OK : RC_EXIT_FAILED;
out:
    zloop_destroy (&loop);
    /* a step still running stays journaled: the next start undoes it */
    zactor_destroy (&self.executor);
    int status = s_stop_child (child);
    if (!(WIFEXITED (status) && WEXITSTATUS (status) == 0))
        rc = RC_EXIT_FAILED;
    if (self.child_gone && !s_stop) {
        if (WIFSIGNALED (status))
            rc_log_error ("the network side was killed by signal %d", WTERMSIG (status));
        else if (WIFEXITED (status))
            rc_log_error ("the network side exited with status %d", WEXITSTATUS (status));
    }
    rc_channel_destroy (&self.channel);
    rc_log_info ("agent '%s' stopped (exit %d)", cfg->id, rc);
    return rc;
}

int
rc_agent_privsep_run (const rc_config_t *cfg, bool verbose)
{
    uid_t uid = 0;
    gid_t gid = 0;
    bool drop;
    if (s_user (cfg, &uid, &gid, &drop) != 0)
        return RC_EXIT_USAGE;
    /* An unusable state_dir is found before anything is started; the
       executor checks it again when it starts (rc_executor_new). */
    char err[PATH_MAX + 256];
    rc_journal_t *journal = rc_journal_new (cfg->state_dir, err, sizeof err);
    if (!journal) {
        fprintf (stderr, "rollclone-agent: cannot start the executor: %s\n", err);
        return RC_EXIT_FAILED;
    }
    rc_journal_destroy (&journal);
    /* -1: no /proc (a chroot): nothing to check with */
    if (s_thread_count () > 1) {
        fprintf (stderr, "rollclone-agent: threads started before the fork (a bug)\n");
        return RC_EXIT_FAILED;
    }
    rc_signals_catch (s_on_signal, SIGTERM, SIGINT, 0);

    int fds[2];
    if (rc_channel_pair (fds, err, sizeof err) != 0) {
        fprintf (stderr, "rollclone-agent: %s\n", err);
        return RC_EXIT_FAILED;
    }
    fflush (NULL);
    pid_t child = fork ();
    if (child < 0) {
        fprintf (stderr, "rollclone-agent: fork: %s\n", strerror (errno));
        close (fds[0]);
        close (fds[1]);
        return RC_EXIT_FAILED;
    }
    if (child == 0) {
        /* SIGTERM now would reach the parent's handler and be lost: held
           until the network side has its own (daemon.c) */
        sigset_t stop;
        sigemptyset (&stop);
        sigaddset (&stop, SIGTERM);
        sigaddset (&stop, SIGINT);
        sigprocmask (SIG_BLOCK, &stop, NULL);
        close (fds[0]);
        int rc = s_network_side (cfg, fds[1], drop, uid, gid, verbose);
        fflush (NULL);
        return rc;
    }
    close (fds[1]);
    return s_executor_side (cfg, fds[0], child, verbose);
}
