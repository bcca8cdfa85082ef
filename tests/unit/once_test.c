/*  once_test.c - run-once steps of the coordinator: their names and step
    numbers, the choice of their host, their records in a real store, and
    the transitions around them (before the first batch, after the last)
    on a real store with a fleet view. */
#include "deployments.h"
#include "once.h"
#include "rc_ids.h"
#include "rollout.h"
#include "selftests.h"
#include "store.h"
#include "store_private.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The fleet as the test says: host "h2" offline when s_h2_offline. */
static bool s_h2_offline;

static bool
s_view (void *arg, const char *host_id, bool *online, bool *healthy)
{
    (void)arg;
    *online = !(s_h2_offline && strcmp (host_id, "h2") == 0);
    *healthy = *online;
    return true;
}

static void
s_names (void)
{
    ck_assert (rc_run_once_name_valid ("migrate"));
    ck_assert (rc_run_once_name_valid ("smoke-test_2"));
    char longest[RC_RUN_ONCE_NAME_MAX + 2];
    memset (longest, 'a', sizeof longest);
    longest[RC_RUN_ONCE_NAME_MAX] = '\0';
    ck_assert (rc_run_once_name_valid (longest));
    longest[RC_RUN_ONCE_NAME_MAX] = 'a';
    longest[RC_RUN_ONCE_NAME_MAX + 1] = '\0';
    ck_assert (!rc_run_once_name_valid (longest));
    /* names only: no command line, no path, no version dots */
    const char *bad[] = {"", "rm -rf /", "a;b", "../x", "a.b", "x$(id)", "a/b", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg (!rc_run_once_name_valid (bad[i]), "'%s' taken", bad[i] ? bad[i] : "NULL");

    rc_once_when_t when = RC_ONCE_WHEN_COUNT;
    ck_assert_int_eq (rc_once_of_step (rc_once_step (RC_ONCE_BEFORE), &when), 0);
    ck_assert_int_eq (when, RC_ONCE_BEFORE);
    ck_assert_int_eq (rc_once_of_step (rc_once_step (RC_ONCE_AFTER), &when), 0);
    ck_assert_int_eq (when, RC_ONCE_AFTER);
    /* a host's own steps are never taken for a run-once's */
    ck_assert_int_eq (rc_once_of_step (1, &when), -1);
    ck_assert_int_eq (rc_once_of_step (RC_RUN_ONCE_STEP_BASE, &when), -1);
    ck_assert_str_eq (rc_once_when_name (RC_ONCE_AFTER), "after");
    ck_assert_str_eq (rc_once_state_name (RC_ONCE_SUCCEEDED), "succeeded");
    ck_assert_str_eq (rc_once_state_name ((rc_once_state_t)99), "?");
}

static void
s_pick (void)
{
    char err[256];
    rc_once_host_t hosts[] = {
        {"h1", false, false, false},
        {"h2", true, false, true},
        {"h3", true, true, false},
        {"h4", true, true, true},
    };
    /* the first online, healthy host that is preferred, else any */
    ck_assert_int_eq (rc_once_pick ("", hosts, 4, err, sizeof err), 3);
    ck_assert_int_eq (rc_once_pick (NULL, hosts, 3, err, sizeof err), 2);
    /* pinned: that host or a reason */
    ck_assert_int_eq (rc_once_pick ("h3", hosts, 4, err, sizeof err), 2);
    ck_assert_int_eq (rc_once_pick ("h1", hosts, 4, err, sizeof err), -1);
    ck_assert_str_eq (err, "--run-on host h1 is offline");
    ck_assert_int_eq (rc_once_pick ("h2", hosts, 4, err, sizeof err), -1);
    ck_assert_str_eq (err, "--run-on host h2 is unhealthy");
    ck_assert_int_eq (rc_once_pick ("h9", hosts, 4, err, sizeof err), -1);
    ck_assert_str_eq (err, "--run-on host h9 is not in the deployment's selection");
    ck_assert_int_eq (rc_once_pick ("", hosts, 2, err, sizeof err), -1);
    ck_assert_msg (strstr (err, "no online, healthy host"), "%s", err);
}

/* A running deployment of three hosts h1..h3 in dir's store. */
static rc_deployment_t *
s_deployment (rc_store_t *store, const char *id, rc_dhost_t *hosts)
{
    rc_deployment_t *dep = (rc_deployment_t *)calloc (1, sizeof *dep);
    ck_assert_ptr_nonnull (dep);
    snprintf (dep->id, sizeof dep->id, "%s", id);
    RC_SET (dep->kind, "deploy");
    RC_SET (dep->app, "web");
    RC_SET (dep->version, "v2");
    RC_SET (dep->batch_spec, "1");
    RC_SET (dep->max_fail_spec, "0");
    dep->progress_deadline_ms = 60000;
    dep->health_timeout_ms = 60000;
    dep->auto_rollback = true;
    dep->gate_open = true;
    dep->abort_rollback = true;
    dep->state = RC_DEP_RUNNING;
    dep->total_batches = 3;
    memset (hosts, 0, 3 * sizeof *hosts);
    for (int i = 0; i < 3; i++) {
        snprintf (hosts[i].host_id, sizeof hosts[i].host_id, "h%d", i + 1);
        hosts[i].ord = i;
        hosts[i].state = RC_HOST_PENDING;
        RC_SET (hosts[i].from_version, "v1");
    }
    ck_assert_int_eq (rc_store_begin (store), 0);
    ck_assert_int_eq (rc_deployment_insert (store, dep), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq (rc_dhost_insert (store, dep->id, &hosts[i]), 0);
    ck_assert_int_eq (rc_store_commit (store), 0);
    return dep;
}

static void
s_transitions (rc_store_t *store)
{
    rc_rollout_t *rollout = rc_rollout_new (store, s_view, NULL);
    rc_dhost_t hosts[3];
    int64_t now = 1000;

    /* before: runs ahead of the first batch; its failure ends the
       deployment with no host touched */
    rc_deployment_t *dep = s_deployment (store, "d-before", hosts);
    dep->once[RC_ONCE_BEFORE].state = RC_ONCE_PENDING;
    RC_SET (dep->once[RC_ONCE_BEFORE].name, "migrate");
    ck_assert_int_eq (rc_rollout_advance (rollout, dep, hosts, 3, now), 0);
    ck_assert_int_eq (dep->once[RC_ONCE_BEFORE].state, RC_ONCE_RUNNING);
    ck_assert_str_eq (dep->once[RC_ONCE_BEFORE].host_id, "h1");
    ck_assert_int_eq (dep->batch, 0);
    /* in flight: nothing moves, however often it is looked at */
    ck_assert_int_eq (rc_rollout_advance (rollout, dep, hosts, 3, now), 0);
    ck_assert_int_eq (dep->batch, 0);
    ck_assert_int_eq (rc_rollout_once_done (rollout, dep, RC_ONCE_BEFORE, false, 3, "locked\n",
                                            "run_once_migrate exited with status 3", now),
                      0);
    ck_assert_int_eq (rc_rollout_advance (rollout, dep, hosts, 3, now), 0);
    ck_assert_int_eq (dep->state, RC_DEP_FAILED);
    ck_assert_str_eq (dep->reason, "run-once before 'migrate' failed on h1: run_once_migrate "
                                   "exited with status 3");
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq (hosts[i].state, RC_HOST_PENDING);
        ck_assert (!hosts[i].touched);
    }
    /* the record goes to the store with the deployment, and comes back */
    ck_assert_int_eq (rc_deployment_save (store, dep), 0);
    rc_deployment_t *back = (rc_deployment_t *)calloc (1, sizeof *back);
    ck_assert_int_eq (rc_deployment_load (store, "d-before", back), 1);
    ck_assert_int_eq (back->once[RC_ONCE_BEFORE].state, RC_ONCE_FAILED);
    ck_assert_int_eq (back->once[RC_ONCE_BEFORE].exit_code, 3);
    ck_assert_str_eq (back->once[RC_ONCE_BEFORE].output_tail, "locked\n");
    ck_assert_str_eq (back->once[RC_ONCE_BEFORE].host_id, "h1");
    ck_assert_int_eq (back->once[RC_ONCE_AFTER].state, RC_ONCE_NONE);
    free (dep);

    /* before succeeded: the first batch starts */
    dep = s_deployment (store, "d-ok", hosts);
    dep->once[RC_ONCE_BEFORE].state = RC_ONCE_PENDING;
    RC_SET (dep->once[RC_ONCE_BEFORE].name, "migrate");
    ck_assert_int_eq (rc_rollout_advance (rollout, dep, hosts, 3, now), 0);
    ck_assert_int_eq (
        rc_rollout_once_done (rollout, dep, RC_ONCE_BEFORE, true, 0, "migrated\n", "", now), 0);
    ck_assert_int_eq (rc_rollout_advance (rollout, dep, hosts, 3, now), 0);
    ck_assert_int_eq (dep->batch, 1);
    ck_assert_int_eq (hosts[0].state, RC_HOST_UPDATING);
    ck_assert_str_eq (dep->reason, "");
    free (dep);

    /* --run-on a host that is offline at its turn: not run, and said */
    s_h2_offline = true;
    dep = s_deployment (store, "d-off", hosts);
    dep->once[RC_ONCE_BEFORE].state = RC_ONCE_PENDING;
    RC_SET (dep->once[RC_ONCE_BEFORE].name, "migrate");
    RC_SET (dep->once[RC_ONCE_BEFORE].run_on, "h2");
    ck_assert_int_eq (rc_rollout_advance (rollout, dep, hosts, 3, now), 0);
    ck_assert_int_eq (dep->state, RC_DEP_FAILED);
    ck_assert_int_eq (dep->once[RC_ONCE_BEFORE].state, RC_ONCE_FAILED);
    ck_assert_msg (strstr (dep->reason, "not run: --run-on host h2 is offline"), "%s", dep->reason);
    s_h2_offline = false;
    free (dep);

    /* after: runs once every host is done, on one it updated; its failure
       rolls them back */
    dep = s_deployment (store, "d-after", hosts);
    dep->once[RC_ONCE_AFTER].state = RC_ONCE_PENDING;
    RC_SET (dep->once[RC_ONCE_AFTER].name, "smoke");
    dep->batch = 3;
    for (int i = 0; i < 3; i++) {
        hosts[i].state = i == 0 ? RC_HOST_FAILED : RC_HOST_SUCCEEDED;
        hosts[i].touched = true;
    }
    dep->max_fail = 1;
    ck_assert_int_eq (rc_rollout_advance (rollout, dep, hosts, 3, now), 0);
    ck_assert_int_eq (dep->once[RC_ONCE_AFTER].state, RC_ONCE_RUNNING);
    ck_assert_str_eq (dep->once[RC_ONCE_AFTER].host_id, "h2"); /* h1 failed */
    ck_assert_int_eq (dep->state, RC_DEP_RUNNING);
    ck_assert_int_eq (
        rc_rollout_once_done (rollout, dep, RC_ONCE_AFTER, false, 1, "", "exited 1", now), 0);
    ck_assert_int_eq (rc_rollout_advance (rollout, dep, hosts, 3, now), 0);
    ck_assert_int_eq (dep->state, RC_DEP_ROLLING_BACK);
    ck_assert_int_eq (hosts[1].state, RC_HOST_ROLLBACK_PENDING);
    ck_assert_int_eq (hosts[2].state, RC_HOST_ROLLBACK_PENDING);
    ck_assert_msg (strstr (dep->reason, "run-once after 'smoke' failed on h2"), "%s", dep->reason);
    free (dep);

    /* after without auto rollback: failed, hosts left as they are */
    dep = s_deployment (store, "d-after2", hosts);
    dep->once[RC_ONCE_AFTER].state = RC_ONCE_PENDING;
    RC_SET (dep->once[RC_ONCE_AFTER].name, "smoke");
    dep->auto_rollback = false;
    for (int i = 0; i < 3; i++) {
        hosts[i].state = RC_HOST_SUCCEEDED;
        hosts[i].touched = true;
    }
    ck_assert_int_eq (rc_rollout_advance (rollout, dep, hosts, 3, now), 0);
    ck_assert_int_eq (
        rc_rollout_once_done (rollout, dep, RC_ONCE_AFTER, false, 1, "", "exited 1", now), 0);
    ck_assert_int_eq (rc_rollout_advance (rollout, dep, hosts, 3, now), 0);
    ck_assert_int_eq (dep->state, RC_DEP_FAILED);
    ck_assert_int_eq (hosts[0].state, RC_HOST_SUCCEEDED);
    free (dep);

    /* a row this coordinator does not know is an error, never a guess */
    ck_assert_int_eq (rc_store_exec (store, "UPDATE deployment_run_once SET state = 'weird' "
                                            "WHERE deployment_id = 'd-before'"),
                      0);
    ck_assert_int_eq (rc_deployment_load (store, "d-before", back), -1);
    free (back);
    rc_rollout_destroy (&rollout);
}

void
rc_once_test (bool verbose)
{
    (void)verbose;
    s_names ();
    s_pick ();
    char dir[] = "/tmp/rc_once_test.XXXXXX", path[128], err[256];
    ck_assert_ptr_nonnull (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/c.db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert_msg (store != NULL, "%s", err);
    s_transitions (store);
    rc_store_destroy (&store);
    snprintf (path, sizeof path, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (path), 0);
}
