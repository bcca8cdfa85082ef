/*  rc_testweb.c - test tool: the web app the end-to-end tests and the demo
    restart (scripts/webapp-hook.sh, tests/e2e/checks_lib.sh, lb_lib.sh).

    rc_testweb --port PORT --dir DIR [--metrics [--host-dir HOSTDIR]]

    By default it serves the files under DIR on 127.0.0.1:PORT the way
    `python3 -m http.server --directory DIR` did: DIR is looked up at each
    request (a symlink such as releases_dir/current is followed anew), `/`
    is index.html, a missing file is 404; and /slow?s=SECONDS answers
    index.html after that long (at most 30 s): a session in flight while an
    agent drains.

    With --metrics it is the analysis-gate tests' app (what metricweb.py
    did): DIR is resolved once at start, as a restarted service would;
    /health is 200 when the release has a `health` file, else 404;
    /metrics exports http_requests_total by code (both codes from 0); any
    other path answers index.html, or 500 for the share of requests that
    the release's `error_rate` file names (0.2: one in five), or that
    HOSTDIR/error_rate-VERSION names (one host made bad).

    C and libmicrohttpd rather than python3: the suite restarts these apps
    hundreds of times, and every agent health-polls its app every 100 ms;
    the interpreter's start-up and per-request cost were a large share of
    the suite's CPU on a 2-core CI machine. A thread per connection, as
    python's ThreadingHTTPServer, so a slow request holds no other. Built
    without sanitizers (see the Makefile): it stands in for the service
    under update, it is not the code under test. Exits at once on SIGTERM. */
#include "rc_tool.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *dir;        /* what --dir names (static mode: looked up per request) */
    char root[PATH_MAX];    /* --metrics: DIR resolved at start */
    bool metrics;           /* the analysis-gate app */
    double error_rate;      /* --metrics: share of requests answered 500 */
    char *index;            /* --metrics: the release's index.html */
    size_t index_len;       /* its length */
    pthread_mutex_t lock;   /* guards the counters and the random state */
    unsigned long ok;       /* --metrics: requests answered 200 */
    unsigned long failed;   /* --metrics: requests answered 500 */
    unsigned short rand[3]; /* erand48 state */
} s_app_t;

static enum MHD_Result
s_text (struct MHD_Connection *conn, unsigned code, const char *body, size_t len, const char *ctype)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer (len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (ctype)
        MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    enum MHD_Result ret = MHD_queue_response (conn, code, r);
    MHD_destroy_response (r);
    return ret;
}

/* Answers the file DIR/name (a path from the URL), 404 when it is not a
   regular file under DIR. */
static enum MHD_Result
s_file (struct MHD_Connection *conn, const char *dir, const char *name)
{
    char path[PATH_MAX];
    if (strstr (name, "..") || snprintf (path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return s_text (conn, MHD_HTTP_NOT_FOUND, "not found\n", 10, "text/plain");
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
        if (fd >= 0)
            close (fd);
        return s_text (conn, MHD_HTTP_NOT_FOUND, "not found\n", 10, "text/plain");
    }
    struct MHD_Response *r = MHD_create_response_from_fd ((size_t)st.st_size, fd);
    if (!r) {
        close (fd);
        return MHD_NO;
    }
    const char *dot = strrchr (name, '.');
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE,
                             dot && strcmp (dot, ".html") == 0 ? "text/html"
                                                               : "application/octet-stream");
    enum MHD_Result ret = MHD_queue_response (conn, MHD_HTTP_OK, r);
    MHD_destroy_response (r);
    return ret;
}

static enum MHD_Result
s_metrics_answer (s_app_t *app, struct MHD_Connection *conn, const char *url)
{
    if (strcmp (url, "/metrics") == 0) {
        char body[256];
        pthread_mutex_lock (&app->lock);
        int n = snprintf (body, sizeof body,
                          "# TYPE http_requests_total counter\n"
                          "http_requests_total{code=\"200\"} %lu\n"
                          "http_requests_total{code=\"500\"} %lu\n",
                          app->ok, app->failed);
        pthread_mutex_unlock (&app->lock);
        return s_text (conn, MHD_HTTP_OK, body, (size_t)n, "text/plain; version=0.0.4");
    }
    if (strcmp (url, "/health") == 0) {
        char path[PATH_MAX + 8];
        snprintf (path, sizeof path, "%s/health", app->root);
        bool ok = access (path, R_OK) == 0;
        return ok ? s_text (conn, MHD_HTTP_OK, "ok\n", 3, "text/html")
                  : s_text (conn, MHD_HTTP_NOT_FOUND, "no\n", 3, "text/html");
    }
    pthread_mutex_lock (&app->lock);
    bool fails = erand48 (app->rand) < app->error_rate;
    if (fails)
        app->failed++;
    else
        app->ok++;
    pthread_mutex_unlock (&app->lock);
    return fails ? s_text (conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "error\n", 6, "text/html")
                 : s_text (conn, MHD_HTTP_OK, app->index, app->index_len, "text/html");
}

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
        return s_text (conn, MHD_HTTP_NOT_IMPLEMENTED, "unsupported method\n", 19, "text/plain");
    if (app->metrics)
        return s_metrics_answer (app, conn, url);
    if (strcmp (url, "/slow") == 0) {
        const char *s = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "s");
        double secs = s ? strtod (s, NULL) : 1.0;
        if (!(secs >= 0))
            secs = 0;
        if (secs > 30)
            secs = 30;
        struct timespec ts = {.tv_sec = (time_t)secs,
                              .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9)};
        while (nanosleep (&ts, &ts) != 0 && errno == EINTR)
            ;
        return s_file (conn, app->dir, "index.html");
    }
    return s_file (conn, app->dir, strcmp (url, "/") == 0 ? "index.html" : url + 1);
}

/* --metrics: reads the release in app->root and the error rate. */
static int
s_release_read (s_app_t *app, const char *host_dir)
{
    if (!realpath (app->dir, app->root)) {
        fprintf (stderr, "rc_testweb: %s: %s\n", app->dir, strerror (errno));
        return -1;
    }
    char path[PATH_MAX * 2];
    snprintf (path, sizeof path, "%s/index.html", app->root);
    FILE *f = fopen (path, "r");
    app->index = calloc (1, 4097);
    if (!app->index)
        return -1;
    if (f) {
        app->index_len = fread (app->index, 1, 4096, f);
        fclose (f);
    }
    app->error_rate = 0;
    char rate[64] = "";
    snprintf (path, sizeof path, "%s/error_rate", app->root);
    if ((f = fopen (path, "r"))) {
        if (fgets (rate, sizeof rate, f))
            app->error_rate = strtod (rate, NULL);
        fclose (f);
    }
    if (host_dir) {
        const char *base = strrchr (app->root, '/');
        snprintf (path, sizeof path, "%s/error_rate-%s", host_dir, base ? base + 1 : app->root);
        if ((f = fopen (path, "r"))) {
            if (fgets (rate, sizeof rate, f))
                app->error_rate = strtod (rate, NULL);
            fclose (f);
        }
    }
    return 0;
}

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: rc_testweb --port PORT --dir DIR [--metrics [--host-dir HOSTDIR]]\n");
}

int
main (int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'}, {"dir", required_argument, NULL, 'd'},
        {"metrics", no_argument, NULL, 'm'},    {"host-dir", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    static s_app_t app = {.lock = PTHREAD_MUTEX_INITIALIZER};
    long port = 0;
    const char *host_dir = NULL;
    int c;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (rc_tool_port ("rc_testweb", optarg, &port) != 0)
                return 2;
            break;
        case 'd': app.dir = optarg; break;
        case 'm': app.metrics = true; break;
        case 'H': host_dir = optarg; break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (!port || !app.dir || optind != argc || (host_dir && !app.metrics)) {
        s_usage (stderr);
        return 2;
    }
    if (app.metrics && s_release_read (&app, host_dir) != 0)
        return 1;
    unsigned long seed = (unsigned long)time (NULL) ^ ((unsigned long)getpid () << 16);
    app.rand[0] = 0x330e;
    app.rand[1] = (unsigned short)seed;
    app.rand[2] = (unsigned short)(seed >> 16);
    sigset_t set;
    rc_tool_signals (&set);
    struct sockaddr_in addr = rc_tool_loopback (port);
    struct MHD_Daemon *d = MHD_start_daemon (
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, s_answer,
        &app, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!d) {
        fprintf (stderr, "rc_testweb: cannot listen on 127.0.0.1:%ld\n", port);
        return 1;
    }
    rc_tool_wait (&set);
    /* at once, like the python server it replaces: no waiting for a slow
       request's thread; the kernel closes the sockets */
    _exit (0);
}
