/*  engine_scale_test.c - what the engine's work per step report costs, on a
    real store: a rollout of S_HOSTS hosts in 10 batches, every report
    advanced at once (a flush after each, the worst case of the server's
    bursts). A report and its flush read the report's host row and its
    deployment's record, never the deployment's whole host list again
    (hostrows.h), and run on statements prepared once (store_stmts.c): the
    rows and parses they cost do not grow with the deployment's size. */
#include "engine.h"
#include "selftests.h"
#include "store_private.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_HOSTS 1000
/* rows a report and its flush may read: the deployment's record (and its
   run-once rows), the report's host row, the host's app row; a whole host
   list would be S_HOSTS */
#define S_ROWS_PER_REPORT 16

typedef struct {
    char host[S_HOSTS][16]; /* instructions published, not yet reported on */
    int step[S_HOSTS];
    size_t queued;
    int sent[S_HOSTS]; /* instructions per host, all told */
    size_t total;
} s_agents_t;

static bool
s_up (void *arg, const char *host_id, bool *online, bool *healthy)
{
    (void)arg;
    (void)host_id;
    *online = *healthy = true;
    return true;
}

static void
s_sent (void *arg, const char *host_id, const Rollclone__Instruction *ins)
{
    s_agents_t *agents = (s_agents_t *)arg;
    int i = atoi (host_id + 2);
    ck_assert (i >= 0 && i < S_HOSTS);
    agents->sent[i]++;
    agents->total++;
    ck_assert_uint_lt (agents->queued, S_HOSTS);
    snprintf (agents->host[agents->queued], sizeof agents->host[0], "%s", host_id);
    agents->step[agents->queued++] = (int)ins->step;
}

static double
s_cpu_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void
rc_engine_scale_test (bool verbose)
{
    char dir[] = "/tmp/rc_engine_scale.XXXXXX", path[128], err[256];
    ck_assert_ptr_nonnull (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/c.db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert_msg (store != NULL, "%s", err);
    /* what is counted here is rows and parses, not the disk's flushes */
    ck_assert_int_eq (rc_store_exec (store, "PRAGMA synchronous=OFF"), 0);

    rc_deployment_t *dep = (rc_deployment_t *)calloc (1, sizeof *dep);
    *dep = (rc_deployment_t){.kind = "deploy",
                             .app = "web",
                             .version = "v2",
                             .batch_spec = "10%",
                             .max_fail_spec = "0",
                             .auto_rollback = true,
                             .state = RC_DEP_RUNNING,
                             .total_batches = 10,
                             .progress_deadline_ms = 600000,
                             .soak_ms = 1,
                             .health_timeout_ms = 60000,
                             .created = 1,
                             .progress = 1};
    snprintf (dep->id, sizeof dep->id, "d-scale");
    ck_assert_int_eq (rc_store_begin (store), 0);
    ck_assert_int_eq (rc_deployment_insert (store, dep), 0);
    rc_dhost_t *h = (rc_dhost_t *)calloc (1, sizeof *h);
    for (int i = 0; i < S_HOSTS; i++) {
        memset (h, 0, sizeof *h);
        snprintf (h->host_id, sizeof h->host_id, "h-%d", i);
        h->ord = i;
        h->state = RC_HOST_PENDING;
        ck_assert_int_eq (rc_dhost_insert (store, dep->id, h), 0);
    }
    ck_assert_int_eq (rc_store_commit (store), 0);

    s_agents_t *agents = (s_agents_t *)calloc (1, sizeof *agents);
    rc_engine_t *engine = rc_engine_new (store, s_up, NULL);
    rc_engine_set_publish (engine, s_sent, agents);
    rc_engine_advance (engine, dep->id);
    ck_assert_uint_eq (agents->queued, S_HOSTS / 10);
    /* the first advance read the list, once */
    ck_assert_uint_eq (rc_engine_rows_loaded (engine), S_HOSTS);

    Rollclone__StepReport report = ROLLCLONE__STEP_REPORT__INIT;
    report.deployment_id = dep->id;
    report.app = "web";
    report.phase = "done";
    report.version_now = "v2";
    report.result = ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED;
    int64_t rows0 = rc_store_rows_read (store), parsed0 = 0, reused = 0, parsed = 0;
    size_t reports = 0;
    double cpu0 = s_cpu_ms ();
    while (agents->queued) {
        /* the agents of this batch report, each advanced at once */
        size_t batch = agents->queued;
        char (*hosts)[16] = (char (*)[16])malloc (batch * sizeof *hosts);
        int *steps = (int *)malloc (batch * sizeof *steps);
        memcpy (hosts, agents->host, batch * sizeof *hosts);
        memcpy (steps, agents->step, batch * sizeof *steps);
        agents->queued = 0;
        for (size_t i = 0; i < batch; i++) {
            report.step = (uint32_t)steps[i];
            rc_engine_on_report (engine, hosts[i], &report);
            rc_engine_flush (engine);
            reports++;
            if (reports == S_HOSTS / 10) /* the first batch prepared what a report runs */
                rc_store_stmt_counts (store, &parsed0, &reused);
        }
        free (hosts);
        free (steps);
    }
    double cpu = s_cpu_ms () - cpu0;
    int64_t rows = rc_store_rows_read (store) - rows0;
    rc_store_stmt_counts (store, &parsed, &reused);
    if (verbose)
        printf ("engine: %d hosts, 10 batches: %zu reports, %.1f ms CPU (%.2f ms per batch), "
                "%.1f rows read per report, %" PRId64 " statements parsed after the first batch\n",
                S_HOSTS, reports, cpu, cpu / 10, (double)rows / (double)reports, parsed - parsed0);
    fflush (stdout);

    /* every host updated exactly once, and the deployment ended */
    ck_assert_uint_eq (reports, S_HOSTS);
    ck_assert_uint_eq (agents->total, S_HOSTS);
    for (int i = 0; i < S_HOSTS; i++)
        ck_assert_int_eq (agents->sent[i], 1);
    ck_assert_int_eq (rc_deployment_load (store, dep->id, dep), 1);
    ck_assert_int_eq (dep->state, RC_DEP_SUCCEEDED);
    ck_assert_int_eq (dep->batch, 10);
    /* what the rows say is what was committed: the store agrees */
    rc_dhost_t *rows_now = NULL;
    size_t n = 0;
    ck_assert_int_eq (rc_dhost_load (store, dep->id, &rows_now, &n), 0);
    ck_assert_uint_eq (n, S_HOSTS);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq (rows_now[i].state, RC_HOST_SUCCEEDED);
        ck_assert_int_eq (rows_now[i].step, 1);
        ck_assert_int_eq (rows_now[i].batch, (int)i / (S_HOSTS / 10) + 1);
    }
    free (rows_now);
    /* no report, no flush read the whole list again: one read in all */
    ck_assert_uint_eq (rc_engine_rows_loaded (engine), S_HOSTS);
    ck_assert_msg (rows <= (int64_t)reports * S_ROWS_PER_REPORT,
                   "%" PRId64 " rows read for %zu reports: a report reads a whole host list", rows,
                   reports);
    /* and parsed nothing after the first batch: its statements are kept */
    ck_assert_msg (parsed - parsed0 < 10, "%" PRId64 " statements parsed for %zu reports",
                   parsed - parsed0, reports - S_HOSTS / 10);

    /* a group commit that failed: the kept rows go, the next advance reads
       them again from the store */
    rc_engine_store_failed (engine);
    snprintf (dep->id, sizeof dep->id, "d-scale-2");
    dep->state = RC_DEP_RUNNING;
    dep->batch = 0;
    dep->finished = 0;
    ck_assert_int_eq (rc_deployment_insert (store, dep), 0);
    for (int i = 0; i < 10; i++) {
        memset (h, 0, sizeof *h);
        snprintf (h->host_id, sizeof h->host_id, "h-%d", i);
        h->ord = i;
        h->state = RC_HOST_PENDING;
        ck_assert_int_eq (rc_dhost_insert (store, dep->id, h), 0);
    }
    agents->queued = 0;
    rc_engine_advance (engine, dep->id);
    ck_assert_uint_eq (rc_engine_rows_loaded (engine), S_HOSTS + 10);
    ck_assert_uint_eq (agents->queued, 1);
    report.deployment_id = dep->id;
    report.step = (uint32_t)agents->step[0];
    rc_engine_on_report (engine, agents->host[0], &report);
    rc_engine_store_failed (engine);
    rc_engine_flush (engine);
    ck_assert_uint_eq (rc_engine_rows_loaded (engine), S_HOSTS + 20);
    ck_assert_uint_eq (agents->queued, 2); /* the next batch all the same */

    rc_engine_destroy (&engine);
    rc_store_destroy (&store);
    free (agents);
    free (h);
    free (dep);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}
