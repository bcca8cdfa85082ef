/*  status_summary_test.c - issue 13: a status answer with summary set has
    the deployment row and its host counts, no host rows and no check
    values, and costs the store a count, not the host list; a full answer
    is as it was. */
#include "control_reply.h"
#include "deployments.h"
#include "selftests.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Hosts in the deployment: every state RC_HOST_PENDING..RC_HOST_STAGED, in turn. */
#define S_HOSTS 250
#define S_STATES (RC_HOST_STATE_COUNT - RC_HOST_PENDING)

static Rollclone__ControlReply *
s_status (rc_store_t *store, const char *id, bool summary)
{
    Rollclone__StatusRequest req = ROLLCLONE__STATUS_REQUEST__INIT;
    req.deployment_id = (char *)id;
    req.summary = summary;
    Rollclone__ControlReply *reply = rc_reply_status (store, &req);
    ck_assert_ptr_nonnull (reply);
    ck_assert_int_eq (reply->code, 0);
    ck_assert_int_eq (reply->rep_case, ROLLCLONE__CONTROL_REPLY__REP_STATUS);
    ck_assert_uint_eq (reply->status->n_deployments, 1);
    return reply;
}

static void
s_exec (rc_store_t *store, const char *sql, const char *host)
{
    sqlite3_stmt *stmt = rc_store_prepare (store, sql, "t", host);
    ck_assert_ptr_nonnull (stmt);
    ck_assert_int_eq (rc_store_run (store, stmt), 0);
}

void
rc_status_summary_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_status_summary_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    char path[300], err[512];
    snprintf (path, sizeof path, "%s/db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert_msg (store, "%s", err);

    rc_deployment_t dep = {.id = "d-sum",
                           .kind = "deploy",
                           .app = "shop",
                           .version = "v2",
                           .batch_spec = "10%",
                           .max_fail_spec = "0",
                           .state = RC_DEP_RUNNING,
                           .batch = 1,
                           .total_batches = 10,
                           .gate_open = true,
                           .created = 5,
                           .progress = 5};
    ck_assert_int_eq (rc_store_begin (store), 0);
    ck_assert_int_eq (rc_deployment_insert (store, &dep), 0);
    for (int i = 0; i < S_HOSTS; i++) {
        rc_dhost_t host = {.ord = i,
                           .batch = 1 + i / 25,
                           .state = (rc_host_state_t)(RC_HOST_PENDING + i % S_STATES)};
        snprintf (host.host_id, sizeof host.host_id, "web-%03d", i);
        ck_assert_int_eq (rc_dhost_insert (store, dep.id, &host), 0);
    }
    /* a gate, and its value on the first host (batch 1, the current one) */
    s_exec (store,
            "INSERT INTO deployment_checks (deployment_id, ord, name) VALUES ('d-sum', 0, ?1)",
            "errors");
    s_exec (store,
            "INSERT INTO check_state (deployment_id, host_id, name, step, evaluations, result, "
            "value) VALUES ('d-sum', ?1, 'errors', 0, 3, 'pass', 0.5)",
            "web-000");
    ck_assert_int_eq (rc_store_commit (store), 0);

    /* full: every host row in order, the gate's value on its host, no counts */
    int64_t before = rc_store_rows_read (store);
    Rollclone__ControlReply *full = s_status (store, dep.id, false);
    int64_t full_rows = rc_store_rows_read (store) - before;
    const Rollclone__DeploymentInfo *f = full->status->deployments[0];
    ck_assert (!f->summary);
    ck_assert_str_eq (f->state, "running");
    ck_assert_uint_eq (f->n_hosts, S_HOSTS);
    for (int i = 0; i < S_HOSTS; i++) {
        char want[32];
        snprintf (want, sizeof want, "web-%03d", i);
        ck_assert_str_eq (f->hosts[i]->host_id, want);
        ck_assert_str_eq (f->hosts[i]->state,
                          rc_host_state_name ((rc_host_state_t)(RC_HOST_PENDING + i % S_STATES)));
    }
    ck_assert_uint_eq (f->n_checks, 1);
    ck_assert_str_eq (f->checks[0], "errors");
    ck_assert_uint_eq (f->hosts[0]->n_checks, 1);
    ck_assert (f->hosts[0]->checks[0]->has_value && f->hosts[0]->checks[0]->value == 0.5);
    ck_assert_uint_eq (
        f->hosts_total + f->hosts_ok + f->hosts_busy + f->hosts_pending + f->hosts_failed, 0);
    /* failed and rollback_failed, S_HOSTS / S_STATES of each */
    ck_assert_uint_eq (f->failures, 2 * S_HOSTS / S_STATES);
    ck_assert_int_ge (full_rows, S_HOSTS);

    /* summary: the same row, counts instead of hosts, the gate's name only */
    before = rc_store_rows_read (store);
    Rollclone__ControlReply *sum = s_status (store, dep.id, true);
    int64_t summary_rows = rc_store_rows_read (store) - before;
    const Rollclone__DeploymentInfo *s = sum->status->deployments[0];
    ck_assert (s->summary);
    ck_assert_uint_eq (s->n_hosts, 0);
    ck_assert_str_eq (s->id, f->id);
    ck_assert_str_eq (s->state, f->state);
    ck_assert_str_eq (s->kind, f->kind);
    ck_assert_str_eq (s->reason, f->reason);
    ck_assert_uint_eq (s->current_batch, f->current_batch);
    ck_assert_uint_eq (s->total_batches, f->total_batches);
    ck_assert_uint_eq (s->failures, f->failures);
    ck_assert_uint_eq (s->n_checks, 1);
    ck_assert_str_eq (s->checks[0], "errors");
    const uint32_t each = S_HOSTS / S_STATES;
    ck_assert_uint_eq (s->hosts_total, S_HOSTS);
    ck_assert_uint_eq (s->hosts_ok, 2 * each);      /* succeeded, rolled_back */
    ck_assert_uint_eq (s->hosts_busy, 2 * each);    /* updating, rolling_back */
    ck_assert_uint_eq (s->hosts_failed, 2 * each);  /* failed, rollback_failed */
    ck_assert_uint_eq (s->hosts_pending, 4 * each); /* pending, rollback_pending, unknown, staged */
    /* the counts agree with what the full answer's rows say */
    int ok = 0, failed = 0, busy = 0;
    for (size_t i = 0; i < f->n_hosts; i++) {
        rc_host_state_t st;
        ck_assert_int_eq (rc_host_state_parse (f->hosts[i]->state, &st), 0);
        ok += st == RC_HOST_SUCCEEDED || st == RC_HOST_ROLLED_BACK;
        failed += rc_host_state_failed (st);
        busy += st == RC_HOST_UPDATING || st == RC_HOST_ROLLING_BACK;
    }
    ck_assert_int_eq (ok, (int)s->hosts_ok);
    ck_assert_int_eq (failed, (int)s->hosts_failed);
    ck_assert_int_eq (busy, (int)s->hosts_busy);
    /* the store read a row per state, not per host; the answer is small */
    ck_assert_int_lt (summary_rows, 2 * RC_HOST_STATE_COUNT);
    size_t full_size = rollclone__control_reply__get_packed_size (full);
    size_t summary_size = rollclone__control_reply__get_packed_size (sum);
    ck_assert_uint_lt (summary_size * 20, full_size);
    if (verbose)
        printf ("status of %d hosts: full %zu bytes %lld rows, summary %zu bytes %lld rows\n",
                S_HOSTS, full_size, (long long)full_rows, summary_size, (long long)summary_rows);
    rollclone__control_reply__free_unpacked (sum, NULL);
    rollclone__control_reply__free_unpacked (full, NULL);

    /* a deployment with no host rows: all counts 0, still a summary */
    rc_deployment_t empty = dep;
    snprintf (empty.id, sizeof empty.id, "d-empty");
    ck_assert_int_eq (rc_deployment_insert (store, &empty), 0);
    sum = s_status (store, "d-empty", true);
    ck_assert (sum->status->deployments[0]->summary);
    ck_assert_uint_eq (sum->status->deployments[0]->hosts_total, 0);
    ck_assert_uint_eq (sum->status->deployments[0]->n_hosts, 0);
    rollclone__control_reply__free_unpacked (sum, NULL);

    /* an unknown id is refused the same either way */
    Rollclone__StatusRequest req = ROLLCLONE__STATUS_REQUEST__INIT;
    req.deployment_id = "d-none";
    req.summary = true;
    Rollclone__ControlReply *none = rc_reply_status (store, &req);
    ck_assert_int_eq (none->code, RC_EXIT_USAGE);
    rollclone__control_reply__free_unpacked (none, NULL);

    rc_store_destroy (&store);
    char cmd[400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}
