/*  rc_benchweb.c - bench tool: the web app behind the load balancer in the
    zero-downtime benchmark (bench/zerodowntime.sh). It serves a release's
    index.html on / and on /health (503 when the release has no `health`
    file: a broken release), listens only after --startup-delay (a service
    that takes time to start) and exits on SIGTERM. libmicrohttpd, because
    python3's http.server cannot keep up with wrk's request rate. */
#include "../tests/tools/rc_tool.h"
#include "rc_time.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* index.html is one line in the bench's releases; this is plenty */
#define S_BODY_MAX 4096

typedef struct {
    struct MHD_Response *page;   /* index.html, for / and a healthy /health */
    struct MHD_Response *broken; /* /health of a release without a health file */
    struct MHD_Response *absent; /* any other path */
} s_app_t;

static enum MHD_Result
s_answer (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_size;
    (void)con_cls;
    s_app_t *app = cls;
    if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
        return MHD_queue_response (conn, MHD_HTTP_METHOD_NOT_ALLOWED, app->absent);
    if (strcmp (url, "/") == 0 || strcmp (url, "/index.html") == 0)
        return MHD_queue_response (conn, MHD_HTTP_OK, app->page);
    if (strcmp (url, "/health") == 0)
        return app->broken ? MHD_queue_response (conn, MHD_HTTP_SERVICE_UNAVAILABLE, app->broken)
                           : MHD_queue_response (conn, MHD_HTTP_OK, app->page);
    return MHD_queue_response (conn, MHD_HTTP_NOT_FOUND, app->absent);
}

static struct MHD_Response *
s_text (const char *text)
{
    return MHD_create_response_from_buffer (strlen (text), (void *)text, MHD_RESPMEM_MUST_COPY);
}

/* Reads the release: its index.html (the version it serves) and whether it
   has a health file. 0, or -1 with the reason on stderr. */
static int
s_release_read (const char *dir, s_app_t *app)
{
    char path[4096], body[S_BODY_MAX + 1];
    snprintf (path, sizeof path, "%s/index.html", dir);
    FILE *f = fopen (path, "r");
    if (!f) {
        fprintf (stderr, "rc_benchweb: %s: %s\n", path, strerror (errno));
        return -1;
    }
    size_t len = fread (body, 1, S_BODY_MAX, f);
    fclose (f);
    body[len] = '\0';
    snprintf (path, sizeof path, "%s/health", dir);
    FILE *h = fopen (path, "r");
    if (h)
        fclose (h);
    app->page = s_text (body);
    app->broken = h ? NULL : s_text ("this release has no health file\n");
    app->absent = s_text ("not found\n");
    return app->page && app->absent && (h || app->broken) ? 0 : -1;
}

/* Waits ms for SIGTERM/SIGINT (blocked in set); true when one came. */
static bool
s_signalled_within (const sigset_t *set, int64_t ms)
{
    int64_t end = rc_mono_ms () + ms;
    for (int64_t left = ms; left > 0; left = end - rc_mono_ms ()) {
        struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000};
        if (sigtimedwait (set, NULL, &ts) > 0)
            return true;
    }
    return false;
}

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: rc_benchweb --port PORT --dir RELEASE_DIR [--startup-delay DUR]\n");
}

int
main (int argc, char **argv)
{
    static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
                                         {"dir", required_argument, NULL, 'd'},
                                         {"startup-delay", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    long port = 0;
    const char *dir = NULL;
    int64_t delay_ms = 0;
    int c;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (rc_tool_port ("rc_benchweb", optarg, &port) != 0)
                return 2;
            break;
        case 'd': dir = optarg; break;
        case 's':
            if (rc_duration_parse (optarg, &delay_ms) != 0) {
                fprintf (stderr, "rc_benchweb: --startup-delay '%s' is not a duration\n", optarg);
                return 2;
            }
            break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (!port || !dir || optind != argc) {
        s_usage (stderr);
        return 2;
    }
    s_app_t app = {0};
    if (s_release_read (dir, &app) != 0)
        return 1;
    sigset_t set;
    rc_tool_signals (&set);
    if (s_signalled_within (&set, delay_ms))
        return 0;
    struct sockaddr_in addr = rc_tool_loopback (port);
    /* one polling thread: ten backends share two cores with the rest */
    struct MHD_Daemon *d =
        MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, s_answer,
                          &app, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_END);
    if (!d) {
        fprintf (stderr, "rc_benchweb: cannot listen on 127.0.0.1:%ld\n", port);
        return 1;
    }
    rc_tool_wait (&set);
    MHD_stop_daemon (d);
    MHD_destroy_response (app.page);
    if (app.broken)
        MHD_destroy_response (app.broken);
    MHD_destroy_response (app.absent);
    return 0;
}
