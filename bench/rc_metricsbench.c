/*  rc_metricsbench.c - the cost of a /metrics scrape of a coordinator with
    N hosts, measured in one process for fleets larger than this machine
    can simulate with agents: the coordinator's own metrics code (the
    snapshot metrics.c builds, its text, the libmicrohttpd endpoint) with
    its hosts taken from N made-up fleet records instead of a fleet of
    connected agents, and a store of its own. The main thread plays the
    server's loop (it polls the wake descriptor and builds the snapshot);
    a second thread scrapes over loopback with libcurl.

    rc_metricsbench --hosts N [--scrapes K] [--dir DIR]

    Prints one line per kind of scrape: "cold" (the snapshot is older than
    RC_METRICS_FRESH_MS, so the scrape waits for the loop to build one, as
    a scrape every few seconds always does) and "warm" (served from the
    snapshot the loop already built), with the loop's build time. */
#include "metrics_bench.h"
#include "rc_metrics_http.h"
#include "rc_time.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    size_t n;
    char (*ids)[32];
    rc_fleet_app_t *apps;
    rc_host_figures_t *figures;
    rc_disk_figure_t *disks;
} s_hosts_t;

/* rc_metrics_each_fn: the made-up fleet, as rc_fleet_each gives a real one */
static void
s_each (void *source, rc_fleet_each_fn *fn, void *arg)
{
    s_hosts_t *hosts = (s_hosts_t *)source;
    int64_t mono = rc_mono_ms ();
    for (size_t i = 0; i < hosts->n; i++) {
        rc_fleet_host_t h = {
            .id = hosts->ids[i],
            .agent_version = "0.12.0",
            .online = i % 50 != 0,
            .healthy = i % 70 != 0,
            .silent_ms = (mono + (int64_t)i * 37) % 1500,
            .apps = &hosts->apps[i],
            .n_apps = 1,
            .figures = &hosts->figures[i],
        };
        fn (arg, &h);
    }
}

static void
s_hosts_make (s_hosts_t *hosts, size_t n)
{
    hosts->n = n;
    hosts->ids = calloc (n, sizeof *hosts->ids);
    hosts->apps = calloc (n, sizeof *hosts->apps);
    hosts->figures = calloc (n, sizeof *hosts->figures);
    hosts->disks = calloc (n, sizeof *hosts->disks);
    if (!hosts->ids || !hosts->apps || !hosts->figures || !hosts->disks) {
        fprintf (stderr, "rc_metricsbench: out of memory\n");
        exit (1);
    }
    for (size_t i = 0; i < n; i++) {
        /* named as bench/fleet.sh's simulated hosts are */
        snprintf (hosts->ids[i], sizeof hosts->ids[i], "s%zu-host-%zu", i / 100, i % 100);
        snprintf (hosts->apps[i].app, sizeof hosts->apps[i].app, "web");
        snprintf (hosts->apps[i].current, sizeof hosts->apps[i].current, "%s", i % 3 ? "v2" : "v1");
        snprintf (hosts->disks[i].app, sizeof hosts->disks[i].app, "web");
        hosts->disks[i].path = (char *)"/srv/web";
        hosts->disks[i].free_bytes = 20000000000ULL + i * 4096;
        hosts->disks[i].total_bytes = 50000000000ULL;
        rc_host_figures_t *f = &hosts->figures[i];
        f->known = true;
        f->load1 = 0.01 * (double)(i % 400);
        f->cpu_percent = 0.1 * (double)(i % 1000);
        f->mem_used_bytes = 1000000000ULL + i * 4096;
        f->mem_available_bytes = 3000000000ULL - i * 4096;
        f->cpus = 4;
        f->disks = &hosts->disks[i];
        f->n_disks = 1;
    }
}

typedef struct {
    uint16_t port;
    int scrapes;
    double *cold_ms, *warm_ms;         /* each scrape's whole time */
    double *cold_cpu_ms, *warm_cpu_ms; /* the CPU the process spent on it */
    size_t bytes;
    atomic_bool done;
} s_scraper_t;

static size_t
s_discard (char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    *(size_t *)arg += size * n;
    return size * n;
}

/* CPU time of the whole process (every thread), in ms */
static double
s_cpu_ms (void)
{
    struct timespec t;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double
s_scrape (CURL *easy, size_t *bytes)
{
    *bytes = 0;
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, bytes);
    double total = -1;
    long code = 0;
    if (curl_easy_perform (easy) == CURLE_OK)
        curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &code);
    if (code == 200)
        curl_easy_getinfo (easy, CURLINFO_TOTAL_TIME, &total);
    return total * 1000;
}

static void *
s_scraper (void *arg)
{
    s_scraper_t *s = (s_scraper_t *)arg;
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%u/metrics", s->port);
    CURL *easy = curl_easy_init ();
    curl_easy_setopt (easy, CURLOPT_URL, url);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_discard);
    size_t bytes;
    s_scrape (easy, &bytes); /* the first snapshot */
    for (int i = 0; i < s->scrapes; i++) {
        /* older than fresh: this scrape waits for the loop's build */
        usleep ((RC_METRICS_FRESH_MS + 50) * 1000);
        double cpu = s_cpu_ms ();
        s->cold_ms[i] = s_scrape (easy, &s->bytes);
        s->cold_cpu_ms[i] = s_cpu_ms () - cpu;
        /* within fresh: the same snapshot again */
        cpu = s_cpu_ms ();
        s->warm_ms[i] = s_scrape (easy, &bytes);
        s->warm_cpu_ms[i] = s_cpu_ms () - cpu;
    }
    curl_easy_cleanup (easy);
    atomic_store (&s->done, true);
    return NULL;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* cpu: what the process spent per scrape (building, writing, sending,
   and curl's receiving), a figure the machine's load does not inflate */
static void
s_report (const char *what, size_t hosts, double *ms, double *cpu, int n, size_t bytes,
          const char *extra)
{
    qsort (ms, (size_t)n, sizeof *ms, s_cmp);
    qsort (cpu, (size_t)n, sizeof *cpu, s_cmp);
    printf ("%6zu hosts, in-process (simulated snapshot, no agents): %s scrape median %.1f ms, "
            "p90 %.1f ms, max %.1f ms, CPU median %.1f ms (%d scrapes, %zu KiB)%s\n",
            hosts, what, ms[n / 2], ms[(n * 9) / 10], ms[n - 1], cpu[n / 2], n, bytes / 1024,
            extra);
}

/* A port free now on loopback (the endpoint wants a number, not 0). */
static uint16_t
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    uint16_t port = 0;
    if (fd >= 0 && bind (fd, (struct sockaddr *)&addr, sizeof addr) == 0
        && getsockname (fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs (addr.sin_port);
    if (fd >= 0)
        close (fd);
    return port;
}

int
main (int argc, char **argv)
{
    size_t n = 1000;
    int scrapes = 15;
    const char *dir = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp (argv[i], "--hosts") == 0)
            n = strtoul (argv[i + 1], NULL, 10);
        else if (strcmp (argv[i], "--scrapes") == 0)
            scrapes = atoi (argv[i + 1]);
        else if (strcmp (argv[i], "--dir") == 0)
            dir = argv[i + 1];
    }
    if (n == 0 || scrapes < 1 || (argc - 1) % 2) {
        fprintf (stderr, "usage: rc_metricsbench --hosts N [--scrapes K] [--dir DIR]\n");
        return 2;
    }
    curl_global_init (CURL_GLOBAL_DEFAULT);
    char tmp[] = "/tmp/rc_metricsbench.XXXXXX";
    if (!dir && !(dir = mkdtemp (tmp))) {
        perror ("rc_metricsbench: mkdtemp");
        return 1;
    }
    char path[512], err[512], endpoint[64];
    snprintf (path, sizeof path, "%s/coordinator.db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    if (!store) {
        fprintf (stderr, "rc_metricsbench: %s\n", err);
        return 1;
    }
    rc_counters_t counters = {.started = rc_mono_ms ()};
    rc_config_t cfg;
    memset (&cfg, 0, sizeof cfg);
    snprintf (endpoint, sizeof endpoint, "127.0.0.1:%u", s_free_port ());
    cfg.metrics_endpoint = endpoint;
    rc_metrics_t *metrics = rc_metrics_new (&cfg, NULL, store, &counters, err, sizeof err);
    if (!metrics) {
        fprintf (stderr, "rc_metricsbench: %s\n", err);
        return 1;
    }
    s_hosts_t hosts;
    s_hosts_make (&hosts, n);
    rc_metrics_set_hosts (metrics, s_each, &hosts);

    s_scraper_t s = {.port = rc_metrics_port (metrics), .scrapes = scrapes};
    s.cold_ms = calloc ((size_t)scrapes, sizeof *s.cold_ms);
    s.warm_ms = calloc ((size_t)scrapes, sizeof *s.warm_ms);
    s.cold_cpu_ms = calloc ((size_t)scrapes, sizeof *s.cold_cpu_ms);
    s.warm_cpu_ms = calloc ((size_t)scrapes, sizeof *s.warm_cpu_ms);
    double *build_ms = calloc ((size_t)scrapes + 1, sizeof *build_ms);
    double *build_cpu_ms = calloc ((size_t)scrapes + 1, sizeof *build_cpu_ms);
    atomic_init (&s.done, false);
    pthread_t thread;
    pthread_create (&thread, NULL, s_scraper, &s);
    /* the server's loop: a wake is a build */
    int builds = 0;
    while (!atomic_load (&s.done)) {
        struct pollfd item = {.fd = rc_metrics_wake_fd (metrics), .events = POLLIN};
        if (poll (&item, 1, 100) == 1) {
            struct timespec c0, c1;
            clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c0);
            int64_t before = rc_metrics_build_us (metrics);
            rc_metrics_on_wake (metrics);
            clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c1);
            if (builds <= scrapes && rc_metrics_build_us (metrics) != before) {
                build_cpu_ms[builds] =
                    (double)(c1.tv_sec - c0.tv_sec) * 1e3 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
                build_ms[builds++] = (double)rc_metrics_build_us (metrics) / 1000.0;
            }
        }
    }
    pthread_join (thread, NULL);
    for (int i = 0; i < scrapes; i++)
        if (s.cold_ms[i] < 0 || s.warm_ms[i] < 0) {
            fprintf (stderr, "rc_metricsbench: a scrape failed\n");
            return 1;
        }
    char extra[128] = "";
    if (builds > 0) {
        qsort (build_ms, (size_t)builds, sizeof *build_ms, s_cmp);
        qsort (build_cpu_ms, (size_t)builds, sizeof *build_cpu_ms, s_cmp);
        snprintf (extra, sizeof extra, "; loop build median %.1f ms (%.1f ms of CPU)",
                  build_ms[builds / 2], build_cpu_ms[builds / 2]);
    }
    s_report ("cold", n, s.cold_ms, s.cold_cpu_ms, scrapes, s.bytes, extra);
    s_report ("warm", n, s.warm_ms, s.warm_cpu_ms, scrapes, s.bytes, "");
    rc_metrics_destroy (&metrics);
    rc_store_destroy (&store);
    if (dir == tmp) {
        snprintf (path, sizeof path, "rm -rf '%s'", tmp);
        if (system (path) != 0)
            fprintf (stderr, "rc_metricsbench: could not remove %s\n", tmp);
    }
    free (hosts.ids);
    free (hosts.apps);
    free (hosts.figures);
    free (hosts.disks);
    free (s.cold_ms);
    free (s.warm_ms);
    free (s.cold_cpu_ms);
    free (s.warm_cpu_ms);
    free (build_ms);
    free (build_cpu_ms);
    curl_global_cleanup ();
    return 0;
}
