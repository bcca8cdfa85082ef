/*  lb_nginx.c - the NGINX provider (lb.h). NGINX open source has no
    runtime API: the agent owns an upstream include file
    (nginx_upstream_file), one `server ADDR [down];` line per instance of
    the app, replaced atomically, then runs nginx_test and nginx_reload (its
    own config's command lines, as hooks run: child processes the loop
    watches).

    Drain: the file with this instance down, nginx_test (refused: the old
    file is put back, the drain fails with the test's output), nginx_reload,
    then wait until NGINX runs the new file and nothing is left on the
    instance. `nginx -s reload` only signals the master and returns: until
    the master has read the file, started new workers and told the old ones
    to stop, the old workers keep sending new requests to the instance, and
    a request an old worker accepted earlier may reach it later still. So a
    drain ends only when (1) the workers of the reloaded master that ran
    before nginx_reload (seen in /proc: "nginx: worker process") have all
    exited, and (2) no ESTABLISHED TCP connection to the instance's address
    is left (/proc/net/tcp, tcp6). Visible workers of which no master
    started new ones within RC_NGINX_RELOAD_WAIT_MS mean NGINX refused the
    file: the drain fails. No worker visible (NGINX on another host): the
    reload is taken to have taken effect after RC_NGINX_SETTLE_MS.

    Undrain: the line without down, nginx_test, nginx_reload, and wait for
    the new workers (undrain_timeout). A restore (undoing a failed step)
    whose file already says what it would write does nothing. */
#include "agent_defaults.h"
#include "child.h"
#include "lb.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_text.h"
#include "rc_time.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the file ------------------------------------------------------------ */

#define S_HEADER "# written by rollclone-agent (lb = nginx): do not edit\n"

int
rc_nginx_parse (const char *text, rc_nginx_line_t *lines, size_t max, size_t *count)
{
    *count = 0;
    for (const char *line = text; *line;) {
        size_t len = strcspn (line, "\n");
        const char *c = line + strspn (line, " \t");
        const char *end = line + len;
        while (end > c && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            end--;
        if (c < end && *c != '#') {
            if (*count == max || (size_t)(end - c) < 8 || strncmp (c, "server ", 7) != 0
                || end[-1] != ';')
                return -1;
            c += 7;
            c += strspn (c, " \t");
            size_t alen = strcspn (c, " \t;");
            const char *rest = c + alen;
            rest += strspn (rest, " \t");
            bool down = strncmp (rest, "down", 4) == 0;
            if (down)
                rest += 4;
            rest += strspn (rest, " \t");
            if (alen == 0 || alen > RC_LB_SERVER_MAX || rest != end - 1)
                return -1;
            rc_nginx_line_t *out = &lines[(*count)++];
            memcpy (out->addr, c, alen);
            out->addr[alen] = '\0';
            out->down = down;
        }
        line += len + (line[len] == '\n');
    }
    return 0;
}

int
rc_nginx_format (const rc_nginx_line_t *lines, size_t count, char *buf, size_t len)
{
    size_t used = (size_t)snprintf (buf, len, "%s", S_HEADER);
    for (size_t i = 0; i < count && used < len; i++)
        used += (size_t)snprintf (buf + used, len - used, "server %s%s;\n", lines[i].addr,
                                  lines[i].down ? " down" : "");
    return used < len ? 0 : -1;
}

int
rc_nginx_write_file (const char *path, const char *text, char *err, size_t errlen)
{
    char copy[PATH_MAX], tmp[PATH_MAX];
    snprintf (copy, sizeof copy, "%s", path);
    char *base = basename (copy);
    int n = snprintf (tmp, sizeof tmp, "%.*s.%s.rc-tmp", (int)(base - copy), path, base);
    if (n < 0 || n >= (int)sizeof tmp) {
        snprintf (err, errlen, "nginx_upstream_file %s: path too long", path);
        return -1;
    }
    if (!text) {
        if (unlink (path) != 0 && errno != ENOENT) {
            snprintf (err, errlen, "nginx_upstream_file %s: %s", path, strerror (errno));
            return -1;
        }
    }
    else {
        int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
            snprintf (err, errlen, "nginx_upstream_file %s: cannot create %s: %s", path, tmp,
                      strerror (errno));
            return -1;
        }
        size_t len = strlen (text), done = 0;
        while (done < len) {
            ssize_t w = write (fd, text + done, len - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            done += (size_t)w;
        }
        /* readable by NGINX's master, whatever our umask */
        bool ok = done == len && fchmod (fd, 0644) == 0 && fsync (fd) == 0;
        int saved = errno;
        close (fd);
        if (!ok || rename (tmp, path) != 0) {
            if (ok)
                saved = errno;
            unlink (tmp);
            snprintf (err, errlen, "nginx_upstream_file %s: cannot write it: %s", path,
                      strerror (saved));
            return -1;
        }
    }
    snprintf (copy, sizeof copy, "%s", path);
    int dfd = open (dirname (copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync (dfd);
        close (dfd);
    }
    return 0;
}

/* The file's text: 0 with it (NULL when there is no file), -1 with err. */
static int
s_read_file (const char *path, char **text, char *err, size_t errlen)
{
    *text = NULL;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf (err, errlen, "nginx_upstream_file %s: %s", path, strerror (errno));
        return -1;
    }
    char *buf = malloc (RC_NGINX_FILE_MAX + 1);
    if (!buf)
        abort ();
    size_t len = 0;
    for (;;) {
        ssize_t r = read (fd, buf + len, RC_NGINX_FILE_MAX + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (len += (size_t)r) > RC_NGINX_FILE_MAX)
            break;
    }
    close (fd);
    if (len > RC_NGINX_FILE_MAX) {
        free (buf);
        snprintf (err, errlen, "nginx_upstream_file %s: larger than %d bytes", path,
                  RC_NGINX_FILE_MAX);
        return -1;
    }
    buf[len] = '\0';
    *text = buf;
    return 0;
}

/* ---- what runs on this host -------------------------------------------- */

/* HOST:PORT into its parts: 0, with family AF_INET/AF_INET6 and the
   address, or AF_UNSPEC for a host name (any address of the port). */
static int
s_split_addr (const char *addr, int *family, unsigned char ip[16], unsigned *port)
{
    const char *colon = strrchr (addr, ':');
    if (!colon || colon == addr)
        return -1;
    char *end = NULL;
    long p = strtol (colon + 1, &end, 10);
    if (end == colon + 1 || *end || p < 1 || p > 65535)
        return -1;
    *port = (unsigned)p;
    char host[64];
    size_t len = (size_t)(colon - addr);
    if (addr[0] == '[' && len >= 2 && addr[len - 1] == ']')
        snprintf (host, sizeof host, "%.*s", (int)len - 2, addr + 1);
    else
        snprintf (host, sizeof host, "%.*s", (int)len, addr);
    *family = AF_UNSPEC;
    if (inet_pton (AF_INET, host, ip) == 1)
        *family = AF_INET;
    else if (inet_pton (AF_INET6, host, ip) == 1)
        *family = AF_INET6;
    /* 0.0.0.0 and :: are no address a connection comes to */
    static const unsigned char zero[16];
    if (*family != AF_UNSPEC && memcmp (ip, zero, *family == AF_INET ? 4 : 16) == 0)
        *family = AF_UNSPEC;
    return 0;
}

/* Counts the ESTABLISHED rows of a /proc/net/tcp-like file whose local end
   is ip:port (family AF_UNSPEC: any address). */
static long
s_count_file (const char *path, bool v6, int family, const unsigned char ip[16], unsigned port)
{
    FILE *f = fopen (path, "re");
    if (!f)
        return 0;
    char line[512];
    long n = 0;
    if (!fgets (line, sizeof line, f)) { /* the header */
        fclose (f);
        return 0;
    }
    while (fgets (line, sizeof line, f)) {
        uint32_t words[4] = {0, 0, 0, 0};
        unsigned lport = 0, state = 0;
        int got = v6 ? sscanf (line, " %*d: %8x%8x%8x%8x:%x %*x:%*x %x", &words[0], &words[1],
                               &words[2], &words[3], &lport, &state)
                           - 4
                     : sscanf (line, " %*d: %8x:%x %*x:%*x %x", &words[0], &lport, &state) - 1;
        if (got != 2 || state != 0x01 /* TCP_ESTABLISHED */ || lport != port)
            continue;
        /* the kernel prints each 32-bit word of the address as it is in
           memory: the words compare with the address's own bytes */
        unsigned char local[16];
        memcpy (local, words, sizeof local);
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        bool match = family == AF_UNSPEC;
        if (family == AF_INET && !v6)
            match = memcmp (local, ip, 4) == 0;
        else if (family == AF_INET && v6)
            match = memcmp (local, mapped, 12) == 0 && memcmp (local + 12, ip, 4) == 0;
        else if (family == AF_INET6 && v6)
            match = memcmp (local, ip, 16) == 0;
        n += match;
    }
    fclose (f);
    return n;
}

long
rc_nginx_connections (const char *addr)
{
    int family;
    unsigned char ip[16];
    unsigned port;
    if (s_split_addr (addr, &family, ip, &port) != 0)
        return -1;
    return s_count_file ("/proc/net/tcp", false, family, ip, port)
           + s_count_file ("/proc/net/tcp6", true, family, ip, port);
}

/* An NGINX worker process: who, whose, since when (pid and start time
   name it even if the pid is used again). */
typedef struct {
    int pid, ppid;
    unsigned long long started;
} s_worker_t;

typedef struct {
    s_worker_t *all;
    size_t count, cap;
} s_workers_t;

/* The processes of this host whose title is NGINX's worker's ("nginx:
   worker process", "... is shutting down"). */
static void
s_workers_scan (s_workers_t *ws)
{
    ws->count = 0;
    DIR *proc = opendir ("/proc");
    if (!proc)
        return;
    struct dirent *e;
    while ((e = readdir (proc))) {
        if (!isdigit ((unsigned char)e->d_name[0]))
            continue;
        char path[64], buf[1024];
        snprintf (path, sizeof path, "/proc/%.20s/cmdline", e->d_name);
        int fd = open (path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read (fd, buf, 64);
        close (fd);
        static const char title[] = "nginx: worker process";
        if (n < (ssize_t)sizeof title - 1 || memcmp (buf, title, sizeof title - 1) != 0)
            continue;
        snprintf (path, sizeof path, "/proc/%.20s/stat", e->d_name);
        fd = open (path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        n = read (fd, buf, sizeof buf - 1);
        close (fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        /* pid (comm) state ppid ... field 22 starttime; comm may hold
           anything, so fields count from the last ')' */
        const char *c = strrchr (buf, ')');
        s_worker_t w = {.pid = atoi (e->d_name)};
        if (!c
            || sscanf (c + 1,
                       " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                       "%*d %*d %llu",
                       &w.ppid, &w.started)
                   != 2)
            continue;
        if (ws->count == ws->cap) {
            size_t cap = ws->cap ? ws->cap * 2 : 64;
            s_worker_t *grown = realloc (ws->all, cap * sizeof *grown);
            if (!grown)
                abort ();
            ws->all = grown;
            ws->cap = cap;
        }
        ws->all[ws->count++] = w;
    }
    closedir (proc);
}

static bool
s_workers_has (const s_workers_t *ws, const s_worker_t *w)
{
    for (size_t i = 0; i < ws->count; i++)
        if (ws->all[i].pid == w->pid && ws->all[i].started == w->started)
            return true;
    return false;
}

/* ---- the run ------------------------------------------------------------ */

typedef enum {
    S_WRITE,  /* the file, then nginx_test */
    S_TEST,   /* nginx_test runs */
    S_RELOAD, /* nginx_reload runs */
    S_WAIT,   /* the reload to take effect, the connections to end */
    S_DONE,
} s_stage_t;

typedef struct {
    const rc_app_config_t *app; /* borrowed */
    rc_lb_op_t op;
    unsigned slot;
    s_stage_t stage;
    rc_child_t *child;
    char *previous;          /* the file before this run; NULL: there was none */
    s_workers_t before, now; /* NGINX's workers before nginx_reload, at the last look */
    int64_t deadline;        /* drain_timeout / undrain_timeout, monotonic */
    int64_t reloaded_at;     /* nginx_reload's end */
    int64_t next_look;
    rc_nginx_line_t mine[RC_NGINX_LINES_MAX]; /* this run's addresses */
    size_t mine_count;
} s_run_t;

/* Ends the run as failed (err already says why). The loop polls a failed
   run no more; its child, if any, has ended. */
static rc_lb_status_t
s_stop (s_run_t *run)
{
    rc_child_destroy (&run->child);
    run->stage = S_DONE;
    return RC_LB_FAILED;
}

/* The file as it is to be: every address of the app (both slots' with
   slots), this run's down for a drain and up otherwise, the other slot's as
   the file had it (down when it did not name it: not known to serve). A
   run for slot 0 of an app with slots is one for all of its addresses. */
static int
s_new_text (s_run_t *run, char *text, size_t len, char *err, size_t errlen)
{
    const rc_app_config_t *app = run->app;
    rc_nginx_line_t old[RC_NGINX_LINES_MAX], lines[RC_NGINX_LINES_MAX];
    size_t old_count = 0, count = 0;
    if (run->previous && rc_nginx_parse (run->previous, old, RC_NGINX_LINES_MAX, &old_count) != 0)
        old_count = 0; /* not ours as written: rewritten whole */
    unsigned first = app->slot_count ? 1 : 0, last = app->slot_count ? RC_SLOTS_MAX : 0;
    for (unsigned slot = first; slot <= last; slot++) {
        for (size_t i = 0; i < app->nginx_server_count; i++) {
            rc_nginx_line_t *line = &lines[count];
            if (rc_lb_expand (app->nginx_servers[i], app, slot, line->addr, sizeof line->addr) != 0
                || !rc_config_nginx_address_valid (line->addr, false)) {
                snprintf (err, errlen, "nginx_server %s: not HOST:PORT for slot %u",
                          app->nginx_servers[i], slot);
                return -1;
            }
            bool duplicate = false;
            for (size_t k = 0; k < count; k++)
                duplicate = duplicate || streq (lines[k].addr, line->addr);
            if (duplicate)
                continue;
            if (slot == run->slot || run->slot == 0) {
                line->down = run->op == RC_LB_DRAIN;
                run->mine[run->mine_count++] = *line;
            }
            else {
                line->down = true;
                for (size_t k = 0; k < old_count; k++)
                    if (streq (old[k].addr, line->addr))
                        line->down = old[k].down;
            }
            count++;
        }
    }
    if (rc_nginx_format (lines, count, text, len) != 0) {
        snprintf (err, errlen, "nginx_upstream_file %s: too many servers",
                  app->nginx_upstream_file);
        return -1;
    }
    return 0;
}

static int
s_start_command (s_run_t *run, const char *command, char *err, size_t errlen)
{
    rc_child_opts_t opts =
        rc_child_shell (command, NULL, NULL, run->app->user, run->app->hook_timeout_ms);
    char why[512];
    run->child = rc_child_new (&opts, why, sizeof why);
    if (!run->child) {
        snprintf (err, errlen, "%s: %s", command, why);
        return -1;
    }
    return 0;
}

/* True when the file's text says what text says (comments aside). */
static bool
s_says (const char *previous, const char *text)
{
    rc_nginx_line_t lines[RC_NGINX_LINES_MAX];
    size_t count;
    char as_ours[RC_NGINX_FILE_MAX];
    return previous && rc_nginx_parse (previous, lines, RC_NGINX_LINES_MAX, &count) == 0
           && rc_nginx_format (lines, count, as_ours, sizeof as_ours) == 0 && streq (as_ours, text);
}

/* Writes the file and starts nginx_test; DONE when a restore finds the
   file already as it would write it. */
static rc_lb_status_t
s_write (s_run_t *run, char *err, size_t errlen)
{
    const rc_app_config_t *app = run->app;
    char text[RC_NGINX_FILE_MAX];
    if (s_read_file (app->nginx_upstream_file, &run->previous, err, errlen) != 0
        || s_new_text (run, text, sizeof text, err, errlen) != 0)
        return s_stop (run);
    if (run->op == RC_LB_RESTORE && s_says (run->previous, text)) {
        run->stage = S_DONE;
        return RC_LB_DONE;
    }
    if (rc_nginx_write_file (app->nginx_upstream_file, text, err, errlen) != 0
        || s_start_command (run, app->nginx_test, err, errlen) != 0)
        return s_stop (run);
    run->stage = S_TEST;
    return RC_LB_RUNNING;
}

/* A command failed: the file is put back as it was (NGINX keeps running
   what it ran), and the reason names the command with its output's end. */
static rc_lb_status_t
s_command_failed (s_run_t *run, const char *key, const char *command, char *err, size_t errlen)
{
    const char *out = rc_child_output (run->child);
    char *tail = rc_text_clean (out, strlen (out), 300);
    for (char *c = tail; c && *c; c++)
        if (*c == '\n' || *c == '\t')
            *c = ' ';
    for (size_t n = tail ? strlen (tail) : 0; n > 0 && tail[n - 1] == ' '; n--)
        tail[n - 1] = '\0';
    char why[512], put_back[520] = "";
    if (rc_nginx_write_file (run->app->nginx_upstream_file, run->previous, why, sizeof why) != 0)
        snprintf (put_back, sizeof put_back, "%s; ", why);
    char what[64], dur[32];
    if (rc_child_timed_out (run->child))
        snprintf (what, sizeof what, "timed out after %s",
                  rc_duration_format (run->app->hook_timeout_ms, dur, sizeof dur));
    else
        snprintf (what, sizeof what, "exited with status %d", rc_child_exit_code (run->child));
    rc_lb_status_t st = rc_lb_failed (err, errlen, "%s%s '%s' %s: %s", put_back, key, command, what,
                                      tail && *tail ? tail : "(no output)");
    free (tail);
    return st;
}

/* True when master had workers before nginx_reload and has a new one now. */
static bool
s_reloaded (const s_run_t *run, int master)
{
    bool had = false, has_new = false;
    for (size_t i = 0; i < run->before.count && !had; i++)
        had = run->before.all[i].ppid == master;
    for (size_t i = 0; i < run->now.count && !has_new; i++)
        has_new = run->now.all[i].ppid == master && !s_workers_has (&run->before, &run->now.all[i]);
    return had && has_new;
}

/* One look at NGINX's workers and the instance's connections: RUNNING
   until the reload took effect and (drain) nothing is left. */
static rc_lb_status_t
s_look (s_run_t *run, char *err, size_t errlen)
{
    const rc_app_config_t *app = run->app;
    int64_t now = rc_mono_ms ();
    s_workers_scan (&run->now);
    /* new workers of a master that had workers before: a reload (an NGINX
       started meanwhile is not one); its old workers still running */
    size_t new_workers = 0, old_left = 0;
    for (size_t i = 0; i < run->now.count; i++)
        new_workers += !s_workers_has (&run->before, &run->now.all[i])
                       && s_reloaded (run, run->now.all[i].ppid);
    for (size_t i = 0; i < run->before.count; i++) {
        const s_worker_t *old = &run->before.all[i];
        old_left += s_workers_has (&run->now, old) && s_reloaded (run, old->ppid);
    }
    bool applied;
    if (run->before.count == 0) /* nothing to see: settling, within the timeout */
        applied = now >= run->reloaded_at + RC_NGINX_SETTLE_MS || now >= run->deadline;
    else
        applied = new_workers > 0 && (run->op != RC_LB_DRAIN || old_left == 0);
    long conns = 0;
    const char *busy = "";
    if (run->op == RC_LB_DRAIN) {
        for (size_t i = 0; i < run->mine_count; i++) {
            long n = rc_nginx_connections (run->mine[i].addr);
            if (n > 0 && !conns)
                busy = run->mine[i].addr;
            conns += n > 0 ? n : 0;
        }
    }
    if (applied && conns == 0) {
        rc_log_info ("app %s: nginx %s of %s done %lld ms after nginx_reload (%s)", app->name,
                     run->op == RC_LB_DRAIN ? "drain" : "undrain", run->mine[0].addr,
                     (long long)(now - run->reloaded_at),
                     !run->before.count       ? "no NGINX worker on this host"
                     : run->op == RC_LB_DRAIN ? "its old workers ended"
                                              : "its new workers started");
        run->stage = S_DONE;
        return RC_LB_DONE;
    }
    char dur[32];
    int64_t timeout = run->op == RC_LB_DRAIN ? app->drain_timeout_ms : app->undrain_timeout_ms;
    const char *key = run->op == RC_LB_DRAIN ? "drain_timeout" : "undrain_timeout";
    rc_duration_format (timeout, dur, sizeof dur);
    if (run->before.count && !new_workers && now >= run->reloaded_at + RC_NGINX_RELOAD_WAIT_MS)
        return rc_lb_failed (
            err, errlen,
            "nginx_reload '%s' ran, but NGINX started no new workers within %d ms: "
            "did it refuse the new configuration? (see its error log)",
            app->nginx_reload, RC_NGINX_RELOAD_WAIT_MS);
    if (now < run->deadline) {
        run->next_look = now + RC_LB_POLL_MS;
        return RC_LB_RUNNING;
    }
    if (conns)
        return rc_lb_failed (err, errlen, "%s %s passed with %ld connections left on %s", key, dur,
                             conns, busy);
    if (old_left)
        return rc_lb_failed (err, errlen,
                             "%s %s passed with %zu NGINX workers of the old configuration running",
                             key, dur, old_left);
    return rc_lb_failed (err, errlen, "%s %s passed before NGINX started new workers", key, dur);
}

static void *
s_start (const rc_app_config_t *app, rc_lb_op_t op, unsigned slot)
{
    s_run_t *run = calloc (1, sizeof *run);
    if (!run)
        return NULL;
    run->app = app;
    run->op = op;
    run->slot = slot <= app->slot_count ? slot : 0;
    run->stage = S_WRITE;
    run->deadline = rc_lb_deadline (app, op);
    return run;
}

static rc_lb_status_t
s_poll (void *arg, char *err, size_t errlen)
{
    s_run_t *run = (s_run_t *)arg;
    const rc_app_config_t *app = run->app;
    switch (run->stage) {
    case S_WRITE: return s_write (run, err, errlen);
    case S_TEST:
    case S_RELOAD: {
        if (!rc_child_poll (run->child))
            return RC_LB_RUNNING;
        bool test = run->stage == S_TEST;
        if (rc_child_timed_out (run->child) || rc_child_exit_code (run->child) != 0)
            return s_command_failed (run, test ? "nginx_test" : "nginx_reload",
                                     test ? app->nginx_test : app->nginx_reload, err, errlen);
        rc_child_destroy (&run->child);
        if (test) {
            /* after the file was written: a worker started later read it */
            s_workers_scan (&run->before);
            if (s_start_command (run, app->nginx_reload, err, errlen) != 0)
                return s_stop (run);
            run->stage = S_RELOAD;
            return RC_LB_RUNNING;
        }
        run->reloaded_at = rc_mono_ms ();
        run->stage = S_WAIT;
        return s_look (run, err, errlen);
    }
    case S_WAIT:
        if (rc_mono_ms () < run->next_look)
            return RC_LB_RUNNING;
        return s_look (run, err, errlen);
    case S_DONE: break;
    }
    return RC_LB_DONE;
}

static void
s_watch (void *arg, rc_watch_t *w)
{
    s_run_t *run = (s_run_t *)arg;
    if (run->child)
        rc_child_watch (run->child, w);
    else if (run->stage == S_WAIT)
        rc_watch_at (w, run->next_look);
    else
        rc_watch_at (w, rc_mono_ms ()); /* the file is written at the next poll */
}

static void
s_destroy (void **run_p)
{
    s_run_t *run = (s_run_t *)*run_p;
    if (!run)
        return;
    rc_child_destroy (&run->child);
    free (run->previous);
    free (run->before.all);
    free (run->now.all);
    free (run);
    *run_p = NULL;
}

const rc_lb_provider_t rc_lb_nginx = {
    .name = "nginx",
    .start = s_start,
    .poll = s_poll,
    .watch = s_watch,
    .destroy = s_destroy,
};
