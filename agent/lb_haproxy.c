/*  lb_haproxy.c - the HAProxy provider (lb.h), spoken over HAProxy's
    runtime API (a unix or TCP "stats socket ... level admin"): one command
    per connection, a non-blocking socket the executor's loop watches.
    Drain: `set server B/S state drain` for every server, `show stat` until
    their scur is 0 (or drain_timeout), then `state maint`. Undrain:
    `state ready`, `show stat` until each is UP on HAProxy's own check (or
    undrain_timeout). */
#include "agent_defaults.h"
#include "rc_ids.h"
#include "lb.h"
#include "rc_addr.h"
#include "rc_haproxy_csv.h"
#include "rc_text.h"
#include "rc_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef enum {
    S_SET,   /* set server ... state drain / ready, one server at a time */
    S_WAIT,  /* show stat until sessions ended / checks up */
    S_FINAL, /* drain: set server ... state maint */
    S_DONE,
} s_stage_t;

typedef struct {
    const rc_app_config_t *app; /* borrowed */
    rc_lb_op_t op;
    s_stage_t stage;
    size_t index;  /* the server S_SET / S_FINAL is at */
    bool *unknown; /* per server: RC_LB_RESTORE found HAProxy does not know it */
    char (*servers)[RC_LB_SERVER_MAX + 1]; /* haproxy_server, {slot}/{port} expanded */
    int64_t deadline;                      /* drain_timeout / undrain_timeout, monotonic */
    int64_t next_look;                     /* next show stat */
    /* the exchange in flight */
    int fd; /* -1 when none */
    bool connected;
    char cmd[RC_LB_SERVER_MAX + 64];
    size_t cmd_len, sent;
    char *reply;
    size_t reply_len, reply_cap;
    int64_t io_deadline;
} s_run_t;

/* ---- show stat ---------------------------------------------------------- */

int
rc_haproxy_stat (const char *csv, const char *server, rc_haproxy_row_t *out)
{
    if (strncmp (csv, "# ", 2) != 0)
        return -1;
    const char *slash = strchr (server, '/');
    if (!slash)
        return 0;
    char backend[RC_LB_SERVER_MAX + 1];
    snprintf (backend, sizeof backend, "%.*s", (int)(slash - server), server);
    static const char *const names[] = {"scur", "status", "check_status"};
    char values[3][RC_HAPROXY_CSV_FIELD_MAX];
    int found = rc_haproxy_csv_row (csv, backend, slash + 1, names, 3, 2, values);
    if (found <= 0)
        return found;
    char *end = NULL;
    long cur = strtol (values[0], &end, 10);
    if (end == values[0] || *end || cur < 0)
        return 0;
    out->scur = cur;
    snprintf (out->status, sizeof out->status, "%.*s", (int)sizeof out->status - 1, values[1]);
    snprintf (out->check, sizeof out->check, "%.*s", (int)sizeof out->check - 1, values[2]);
    return 1;
}

bool
rc_haproxy_status_up (const char *status)
{
    return streq (status, "UP") || streq (status, "no check");
}

/* ---- one exchange --------------------------------------------------------- */

static void
s_close (s_run_t *run)
{
    if (run->fd >= 0)
        close (run->fd);
    run->fd = -1;
    run->reply_len = 0;
}

/* Ends the run as failed (err already says why). */
static rc_lb_status_t
s_stop (s_run_t *run)
{
    s_close (run);
    run->stage = S_DONE;
    return RC_LB_FAILED;
}

static rc_lb_status_t s_failed (s_run_t *run, char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static rc_lb_status_t
s_failed (s_run_t *run, char *err, size_t errlen, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, errlen, fmt, args);
    va_end (args);
    return s_stop (run);
}

/* Starts sending cmd; -1 with err when the socket cannot be reached. */
static int
s_send (s_run_t *run, const char *cmd, char *err, size_t errlen)
{
    const char *where = run->app->haproxy_socket;
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    struct sockaddr_storage tcp;
    struct sockaddr *addr;
    socklen_t addr_len;
    if (where[0] == '/') {
        snprintf (un.sun_path, sizeof un.sun_path, "%s", where); /* length checked by the config */
        addr = (struct sockaddr *)&un;
        addr_len = sizeof un;
    }
    else {
        /* tcp://ADDRESS:PORT, checked by the config */
        if (rc_addr_parse (where + 6, &tcp, &addr_len) != 0) {
            snprintf (err, errlen, "haproxy_socket %s: not a numeric address", where);
            return -1;
        }
        addr = (struct sockaddr *)&tcp;
    }
    run->fd = socket (addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (run->fd < 0) {
        snprintf (err, errlen, "haproxy_socket %s: %s", where, strerror (errno));
        return -1;
    }
    /* a unix socket whose backlog is full says EAGAIN: not in progress, a
       failure like any other */
    run->connected = connect (run->fd, addr, addr_len) == 0;
    if (!run->connected && errno != EINPROGRESS) {
        snprintf (err, errlen, "haproxy_socket %s: %s", where, strerror (errno));
        s_close (run);
        return -1;
    }
    run->cmd_len = (size_t)snprintf (run->cmd, sizeof run->cmd, "%s\n", cmd);
    run->sent = 0;
    run->reply_len = 0;
    run->io_deadline = rc_mono_ms () + RC_LB_IO_TIMEOUT_MS;
    return 0;
}

/* Moves the exchange on: 0 while it goes on, 1 with the whole answer in
   reply, -1 with err. */
static int
s_io (s_run_t *run, char *err, size_t errlen)
{
    const char *where = run->app->haproxy_socket;
    struct pollfd pfd = {.fd = run->fd, .events = POLLIN | POLLOUT};
    if (poll (&pfd, 1, 0) < 0)
        return 0;
    if (!run->connected) {
        if (!pfd.revents)
            goto waiting;
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (getsockopt (run->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
            soerr = errno;
        if (soerr) {
            snprintf (err, errlen, "haproxy_socket %s: %s", where, strerror (soerr));
            return -1;
        }
        run->connected = true;
    }
    while (run->sent < run->cmd_len) {
        ssize_t n = send (run->fd, run->cmd + run->sent, run->cmd_len - run->sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            goto waiting;
        if (n < 0) {
            snprintf (err, errlen, "haproxy_socket %s: %s", where, strerror (errno));
            return -1;
        }
        run->sent += (size_t)n;
    }
    for (;;) {
        if (run->reply_cap - run->reply_len < 4096) {
            if (run->reply_cap >= RC_LB_REPLY_MAX) {
                snprintf (err, errlen, "haproxy_socket %s: answer larger than %d bytes", where,
                          RC_LB_REPLY_MAX);
                return -1;
            }
            size_t cap = run->reply_cap ? run->reply_cap * 2 : 16384;
            char *grown = realloc (run->reply, cap);
            if (!grown)
                abort ();
            run->reply = grown;
            run->reply_cap = cap;
        }
        ssize_t n =
            recv (run->fd, run->reply + run->reply_len, run->reply_cap - run->reply_len - 1, 0);
        if (n == 0)
            break;
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            goto waiting;
        if (n < 0) {
            snprintf (err, errlen, "haproxy_socket %s: %s", where, strerror (errno));
            return -1;
        }
        run->reply_len += (size_t)n;
    }
    run->reply[run->reply_len] = '\0';
    close (run->fd);
    run->fd = -1;
    return 1;
waiting:
    if (rc_mono_ms () >= run->io_deadline) {
        snprintf (err, errlen, "haproxy_socket %s: no answer to '%.*s' within %d ms", where,
                  (int)run->cmd_len - 1, run->cmd, RC_LB_IO_TIMEOUT_MS);
        return -1;
    }
    return 0;
}

/* ---- the run ------------------------------------------------------------ */

static const char *
s_state_word (s_run_t *run)
{
    if (run->stage == S_FINAL)
        return "maint";
    return run->op == RC_LB_DRAIN ? "drain" : "ready";
}

/* The answer's first line, cleaned for a report. */
static void
s_first_line (const char *reply, char *out, size_t len)
{
    size_t n = strcspn (reply, "\n");
    char *clean = rc_text_clean (reply, n, 200);
    snprintf (out, len, "%s", clean ? clean : "");
    free (clean);
}

/* The answer to a set server: empty means done. */
static rc_lb_status_t
s_on_set (s_run_t *run, char *err, size_t errlen)
{
    const char *text = run->reply + strspn (run->reply, " \r\n");
    if (*text) {
        bool unknown = strstr (text, "No such server") || strstr (text, "No such backend");
        if (unknown && run->op == RC_LB_RESTORE) {
            run->unknown[run->index] = true;
        }
        else {
            char line[256];
            s_first_line (text, line, sizeof line);
            return s_failed (run, err, errlen, "haproxy_socket %s: %.*s: %s",
                             run->app->haproxy_socket, (int)run->cmd_len - 1, run->cmd, line);
        }
    }
    run->index++;
    return RC_LB_RUNNING;
}

/* The answer to show stat: done, or look again, or time is up. */
static rc_lb_status_t
s_on_stat (s_run_t *run, char *err, size_t errlen)
{
    const rc_app_config_t *app = run->app;
    int64_t now = rc_mono_ms ();
    char dur[32];
    for (size_t i = 0; i < app->haproxy_server_count; i++) {
        if (run->unknown[i])
            continue;
        const char *server = run->servers[i];
        rc_haproxy_row_t row;
        int found = rc_haproxy_stat (run->reply, server, &row);
        long scur = row.scur;
        const char *status = row.status;
        if (found < 0) {
            char line[256];
            s_first_line (run->reply, line, sizeof line);
            return s_failed (run, err, errlen, "haproxy_socket %s: show stat: %s",
                             app->haproxy_socket, line);
        }
        if (found == 0)
            return s_failed (run, err, errlen, "haproxy_socket %s: %s is not in show stat",
                             app->haproxy_socket, server);
        bool waiting = run->op == RC_LB_DRAIN ? scur > 0 : !rc_haproxy_status_up (status);
        if (!waiting)
            continue;
        if (now < run->deadline) {
            run->next_look = now + RC_LB_POLL_MS;
            return RC_LB_RUNNING;
        }
        if (run->op == RC_LB_DRAIN)
            return s_failed (
                run, err, errlen, "drain_timeout %s passed with %ld sessions left on %s",
                rc_duration_format (app->drain_timeout_ms, dur, sizeof dur), scur, server);
        return s_failed (run, err, errlen, "undrain_timeout %s passed: %s is %s",
                         rc_duration_format (app->undrain_timeout_ms, dur, sizeof dur), server,
                         status);
    }
    run->stage = run->op == RC_LB_DRAIN ? S_FINAL : S_DONE;
    run->index = 0;
    return RC_LB_RUNNING;
}

static void *
s_start (const rc_app_config_t *app, rc_lb_op_t op, unsigned slot)
{
    s_run_t *run = calloc (1, sizeof *run);
    if (!run)
        return NULL;
    run->unknown = calloc (app->haproxy_server_count + 1, sizeof *run->unknown);
    run->servers = calloc (app->haproxy_server_count + 1, sizeof *run->servers);
    if (!run->unknown || !run->servers) {
        free (run->unknown);
        free (run->servers);
        free (run);
        return NULL;
    }
    /* one config line names the server of either slot: web/app1-{slot};
       a name too long once expanded stays as written and HAProxy refuses
       it by name */
    for (size_t i = 0; i < app->haproxy_server_count; i++)
        if (rc_lb_expand (app->haproxy_servers[i], app, slot, run->servers[i],
                          sizeof run->servers[i])
            != 0)
            snprintf (run->servers[i], sizeof run->servers[i], "%s", app->haproxy_servers[i]);
    run->app = app;
    run->op = op;
    run->fd = -1;
    run->stage = S_SET;
    run->deadline = rc_lb_deadline (app, op);
    return run;
}

static rc_lb_status_t
s_poll (void *arg, char *err, size_t errlen)
{
    s_run_t *run = (s_run_t *)arg;
    const rc_app_config_t *app = run->app;
    for (;;) {
        if (run->fd >= 0) {
            int io = s_io (run, err, errlen);
            if (io == 0)
                return RC_LB_RUNNING;
            if (io < 0)
                return s_stop (run);
            rc_lb_status_t st =
                run->stage == S_WAIT ? s_on_stat (run, err, errlen) : s_on_set (run, err, errlen);
            if (st != RC_LB_RUNNING)
                return st;
            continue;
        }
        char cmd[RC_LB_SERVER_MAX + 64];
        switch (run->stage) {
        case S_SET:
        case S_FINAL:
            if (run->index == app->haproxy_server_count) {
                run->stage = run->stage == S_SET ? S_WAIT : S_DONE;
                run->next_look = 0;
                continue;
            }
            if (run->unknown[run->index]) {
                run->index++;
                continue;
            }
            snprintf (cmd, sizeof cmd, "set server %s state %s", run->servers[run->index],
                      s_state_word (run));
            break;
        case S_WAIT:
            if (rc_mono_ms () < run->next_look)
                return RC_LB_RUNNING;
            snprintf (cmd, sizeof cmd, "show stat");
            break;
        case S_DONE: return RC_LB_DONE;
        }
        if (s_send (run, cmd, err, errlen) != 0)
            return s_stop (run);
    }
}

static void
s_watch (void *arg, rc_watch_t *w)
{
    s_run_t *run = (s_run_t *)arg;
    if (run->fd >= 0) {
        rc_watch_fd (w, run->fd,
                     !run->connected || run->sent < run->cmd_len ? ZMQ_POLLOUT : ZMQ_POLLIN);
        rc_watch_at (w, run->io_deadline);
    }
    else if (run->stage == S_WAIT)
        rc_watch_at (w, run->next_look);
    else
        rc_watch_at (w, rc_mono_ms ()); /* the next command is sent at the next poll */
}

static void
s_destroy (void **run_p)
{
    s_run_t *run = (s_run_t *)*run_p;
    if (!run)
        return;
    s_close (run);
    free (run->reply);
    free (run->unknown);
    free (run->servers);
    free (run);
    *run_p = NULL;
}

const rc_lb_provider_t rc_lb_haproxy = {
    .name = "haproxy",
    .start = s_start,
    .poll = s_poll,
    .watch = s_watch,
    .destroy = s_destroy,
};
