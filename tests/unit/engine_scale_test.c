/*  engine_scale_test.c - what the engine's work per step report costs, on a
    real store: a rollout of S_HOSTS hosts in 10 batches, the reports taken
    as the server takes them (server.c): bursts of S_BURST in one group
    transaction, each burst ending with the engine's flush inside it. A
    report reads neither its deployment's whole host list nor its record
    nor its host row (hostrows.h: the kept rows), runs on statements
    prepared once (store_stmts.c), and writes its host row, its event and
    its app; the deployment's record is written once per burst, and the
    next batch starts in the burst that ended the last one. What a host
    costs (rows read, statements run, rows written) does not grow with the
    deployment's size, and a test fails when it grows back. */
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
/* reports per group transaction, as a wake of the server takes them (at
   most RC_AGENT_BATCH messages; fewer arrive at once in a rollout) */
#define S_BURST 16
/* rows a host's update may read, its report and its share of the flushes:
   the host's app row, its release history to prune, the deployment's
   record once per burst (1.89 measured); a whole host list would be
   S_HOSTS */
#define S_ROWS_PER_REPORT 2
/* statements a host's update may run, its start and its report (events,
   host row, app and history, each burst's savepoints and record): 19 in
   the issue-13 merge, 11 with the kept record and row (11.03 measured) */
#define S_STMTS_PER_HOST 12
/* rows a host's update may write: its row twice (start, end), its two
   events (host_updating, host_succeeded), its app row and release history
   row; the deployment's record once per burst (5.86 measured) */
#define S_WRITES_PER_HOST 6

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
    /* the fleet: the reports carry the app's state, as an agent's do */
    ck_assert_int_eq (rc_store_begin (store), 0);
    for (int i = 0; i < S_HOSTS; i++) {
        char id[16];
        snprintf (id, sizeof id, "h-%d", i);
        rc_host_row_t row = {.id = id,
                             .hostname = id,
                             .pubkey = id,
                             .agent_version = "",
                             .labels = "",
                             .state = "online"};
        ck_assert_int_eq (rc_store_host_upsert (store, &row), 0);
        ck_assert_int_eq (rc_store_host_set_app (store, id, "web", "v1", "", 1), 0);
    }
    ck_assert_int_eq (rc_store_commit (store), 0);

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
    /* as the deploy request does (control.c): the rows as inserted */
    rc_dhost_t *inserted = (rc_dhost_t *)calloc (S_HOSTS, sizeof *inserted);
    for (int i = 0; i < S_HOSTS; i++) {
        h = &inserted[i];
        snprintf (h->host_id, sizeof h->host_id, "h-%d", i);
        h->ord = i;
        h->state = RC_HOST_PENDING;
        ck_assert_int_eq (rc_dhost_insert (store, dep->id, h), 0);
    }
    h = (rc_dhost_t *)calloc (1, sizeof *h);
    ck_assert_int_eq (rc_store_commit (store), 0);

    s_agents_t *agents = (s_agents_t *)calloc (1, sizeof *agents);
    rc_engine_t *engine = rc_engine_new (store, s_up, NULL);
    rc_engine_set_publish (engine, s_sent, agents);
    /* the engine keeps the committed rows it was given: the first advance
       reads no list (a 1,000-row read was a tenth of a rollout's CPU) */
    rc_engine_adopt (engine, dep->id, inserted, S_HOSTS);
    rc_engine_advance (engine, dep->id);
    ck_assert_uint_eq (agents->queued, S_HOSTS / 10);
    ck_assert_uint_eq (rc_engine_rows_loaded (engine), 0);

    Rollclone__StepReport report = ROLLCLONE__STEP_REPORT__INIT;
    Rollclone__AppState app = ROLLCLONE__APP_STATE__INIT;
    report.deployment_id = dep->id;
    report.app = "web";
    report.phase = "done";
    report.version_now = "v2";
    report.result = ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED;
    app.app = "web";
    app.current = "v2";
    report.app_state = &app;
    /* counted from the end of the first batch: it prepared what a report
       runs, and its start is the flush of the deployment's creation */
    int64_t rows0 = 0, parsed0 = 0, used0 = 0, writes0 = 0, parsed = 0, reused = 0;
    size_t reports = 0, bursts = 0, first_batch = agents->queued;
    double cpu0 = s_cpu_ms ();
    while (agents->queued) {
        /* the agents of this batch report, a burst at a time */
        size_t batch = agents->queued;
        char (*hosts)[16] = (char (*)[16])malloc (batch * sizeof *hosts);
        int *steps = (int *)malloc (batch * sizeof *steps);
        memcpy (hosts, agents->host, batch * sizeof *hosts);
        memcpy (steps, agents->step, batch * sizeof *steps);
        agents->queued = 0;
        for (size_t i = 0; i < batch; i += S_BURST) {
            ck_assert_int_eq (rc_store_group_begin (store), 0);
            for (size_t k = i; k < batch && k < i + S_BURST; k++) {
                report.step = (uint32_t)steps[k];
                rc_engine_on_report (engine, hosts[k], &report);
                reports++;
            }
            rc_engine_flush (engine);
            ck_assert_int_eq (rc_store_group_commit (store), 0);
            bursts++;
            /* the next batch starts in the burst that ended this one */
            ck_assert_uint_eq (agents->queued, i + S_BURST < batch ? 0 : agents->queued);
            if (reports == first_batch) {
                rc_store_stmt_counts (store, &parsed0, &reused);
                used0 = parsed0 + reused;
                rows0 = rc_store_rows_read (store);
                writes0 = rc_store_changes (store);
            }
        }
        if (reports < S_HOSTS)
            ck_assert_uint_eq (agents->queued, S_HOSTS / 10);
        free (hosts);
        free (steps);
    }
    double cpu = s_cpu_ms () - cpu0;
    rc_store_stmt_counts (store, &parsed, &reused);
    /* per host of the 9 batches after the first: its start and its report */
    double hosts_counted = (double)(reports - first_batch);
    double rows = (double)(rc_store_rows_read (store) - rows0) / hosts_counted;
    double stmts = (double)(parsed + reused - used0) / hosts_counted;
    double writes = (double)(rc_store_changes (store) - writes0) / hosts_counted;
    if (verbose)
        printf ("engine: %d hosts, 10 batches: %zu reports in %zu bursts, %.1f ms CPU (%.2f ms per "
                "batch); per host: %.2f rows read, %.2f statements, %.2f rows written; %" PRId64
                " statements parsed after the first batch\n",
                S_HOSTS, reports, bursts, cpu, cpu / 10, rows, stmts, writes, parsed - parsed0);
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
    /* no report, no flush read the whole list: none read in all */
    ck_assert_uint_eq (rc_engine_rows_loaded (engine), 0);
    ck_assert_msg (rows <= S_ROWS_PER_REPORT,
                   "%.2f rows read per host: a report reads a whole host list, or its row", rows);
    ck_assert_msg (stmts <= S_STMTS_PER_HOST, "%.2f statements per host (at most %d)", stmts,
                   S_STMTS_PER_HOST);
    ck_assert_msg (writes <= S_WRITES_PER_HOST, "%.2f rows written per host (at most %d)", writes,
                   S_WRITES_PER_HOST);
    /* the app state went with the reports: every host on v2, one history
       row of the deployment each */
    char current[16];
    ck_assert_int_eq (rc_store_host_app_current (store, "h-999", "web", current, sizeof current),
                      0);
    ck_assert_str_eq (current, "v2");
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
    ck_assert_uint_eq (rc_engine_rows_loaded (engine), 10);
    ck_assert_uint_eq (agents->queued, 1);
    report.deployment_id = dep->id;
    report.step = (uint32_t)agents->step[0];
    rc_engine_on_report (engine, agents->host[0], &report);
    rc_engine_store_failed (engine);
    rc_engine_flush (engine);
    ck_assert_uint_eq (rc_engine_rows_loaded (engine), 20);
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
