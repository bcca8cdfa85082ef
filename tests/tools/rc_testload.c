/*  rc_testload.c - test tool: the steady HTTP load of the analysis-gate
    tests (tests/e2e/checks_lib.sh load_start).

    rc_testload [--clients N] [--pause MS] URL...

    N clients (4) each GET every URL in turn, a new connection per request,
    1 s at most per request, the answer read and dropped, then pause MS
    (20) and again, until SIGTERM: ~50 rounds a second per client. What the
    python3 clients did at a fraction of the CPU, so the checks see their
    request rates even on a loaded 2-core machine. Loopback URLs only.
    Built without sanitizers (see the Makefile): it is the tests' load, not
    the code under test. */
#include "rc_tool.h"

#include <curl/curl.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char **urls;   /* borrowed from argv */
    int n_urls;    /* how many */
    long pause_ms; /* between rounds */
} s_load_t;

static size_t
s_drop (char *data, size_t size, size_t nmemb, void *user)
{
    (void)data;
    (void)user;
    return size * nmemb;
}

static void *
s_client (void *arg)
{
    s_load_t *load = arg;
    CURL *curl = curl_easy_init ();
    if (!curl) {
        fprintf (stderr, "rc_testload: curl_easy_init failed\n");
        return NULL;
    }
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_drop);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 1000L);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt (curl, CURLOPT_PROXY, "");
    struct timespec pause = {.tv_sec = load->pause_ms / 1000,
                             .tv_nsec = (load->pause_ms % 1000) * 1000000L};
    for (;;) {
        for (int i = 0; i < load->n_urls; i++) {
            curl_easy_setopt (curl, CURLOPT_URL, load->urls[i]);
            curl_easy_perform (curl); /* a failed request is part of the load */
        }
        nanosleep (&pause, NULL);
    }
    return NULL;
}

int
main (int argc, char **argv)
{
    s_load_t load = {.pause_ms = 20};
    long clients = 4;
    int i = 1;
    for (; i < argc && strncmp (argv[i], "--", 2) == 0; i += 2) {
        char *end = NULL;
        long v = i + 1 < argc ? strtol (argv[i + 1], &end, 10) : -1;
        if (!end || *end || v < 0) {
            fprintf (stderr, "rc_testload: %s needs a number\n", argv[i]);
            return 2;
        }
        if (strcmp (argv[i], "--clients") == 0 && v >= 1 && v <= 64)
            clients = v;
        else if (strcmp (argv[i], "--pause") == 0 && v <= 10000)
            load.pause_ms = v;
        else {
            fprintf (stderr, "rc_testload: bad option %s %s\n", argv[i], argv[i + 1]);
            return 2;
        }
    }
    load.urls = argv + i;
    load.n_urls = argc - i;
    if (load.n_urls == 0) {
        fprintf (stderr, "usage: rc_testload [--clients N] [--pause MS] URL...\n");
        return 2;
    }
    for (int u = 0; u < load.n_urls; u++)
        if (strncmp (load.urls[u], "http://127.", 11) != 0) {
            fprintf (stderr, "rc_testload: '%s' is not a loopback http URL\n", load.urls[u]);
            return 2;
        }
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != 0)
        return 1;
    sigset_t set;
    rc_tool_signals (&set);
    for (long c = 0; c < clients; c++) {
        pthread_t t;
        if (pthread_create (&t, NULL, s_client, &load) != 0) {
            fprintf (stderr, "rc_testload: cannot start a client\n");
            return 1;
        }
        pthread_detach (t);
    }
    rc_tool_wait (&set);
    _exit (0);
}
