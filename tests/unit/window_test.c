/*  window_test.c - the sliding window's arithmetic (coordinator/window.c)
    and its parsing (strategy.c): window and rollback batch sizes, the
    ramp before the window, the batches a deployment counts, when it is
    in its window, the room left, and the rollback batch by default. */
#include "bluegreen.h"
#include "plan.h"
#include "selftests.h"
#include "store_private.h"
#include "strategy.h"
#include "window.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_HOSTS 10

/* every host online and healthy */
static bool
s_up (void *arg, const char *host_id, bool *online, bool *healthy)
{
    (void)arg;
    (void)host_id;
    *online = *healthy = true;
    return true;
}

static int
s_count (const rc_dhost_t *hosts, rc_host_state_t state)
{
    int count = 0;
    for (int i = 0; i < S_HOSTS; i++)
        count += hosts[i].state == state;
    return count;
}

/* A deployment of S_HOSTS hosts on v1 with a canary and a window of 3,
   stored as the control socket would (the engine's events need it). */
static void
s_setup (rc_store_t *store, rc_deployment_t *dep, rc_dhost_t *hosts, const char *id)
{
    *dep = (rc_deployment_t){.kind = "deploy",
                             .app = "web",
                             .version = "v2",
                             .batch_spec = "1",
                             .max_fail_spec = "0",
                             .window_spec = "3",
                             .window_hosts = 3,
                             .rollback_spec = "2",
                             .auto_rollback = true,
                             .abort_rollback = true,
                             .state = RC_DEP_RUNNING,
                             .total_batches = 2,
                             .gate_open = true,
                             .progress_deadline_ms = 600000,
                             .soak_ms = 1000,
                             .health_timeout_ms = 60000,
                             .created = 1,
                             .progress = 1};
    snprintf (dep->id, sizeof dep->id, "%s", id);
    ck_assert_int_eq (rc_deployment_insert (store, dep), 0);
    for (int i = 0; i < S_HOSTS; i++) {
        memset (&hosts[i], 0, sizeof hosts[i]);
        snprintf (hosts[i].host_id, sizeof hosts[i].host_id, "h-%d", i + 1);
        hosts[i].ord = i;
        hosts[i].state = RC_HOST_PENDING;
        ck_assert_int_eq (rc_dhost_insert (store, dep->id, &hosts[i]), 0);
    }
}

/* hosts[i] finishes its step as the agent would report it */
static void
s_done (rc_dhost_t *hosts, int i, rc_host_state_t state)
{
    ck_assert_int_eq (hosts[i].state, RC_HOST_UPDATING);
    rc_rollout_host_state (&hosts[i], state);
    if (state == RC_HOST_FAILED)
        hosts[i].needs_rollback = true;
}

/* The window on the rollout engine itself: the canary alone, then never
   more than 3 in flight, a slow host passed by, the budget stopping new
   starts, and the rollback 2 at a time, the last updated first. */
static void
s_engine (void)
{
    char dir[] = "/tmp/rc_window_test.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char path[300], err[512];
    snprintf (path, sizeof path, "%s/db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert_msg (store != NULL, "%s", err);
    for (int i = 0; i < S_HOSTS; i++) {
        char sql[256];
        snprintf (sql, sizeof sql,
                  "INSERT INTO hosts (id, pubkey, state, first_seen, last_seen) VALUES "
                  "('h-%d', 'k%d', 'online', 1, 1); INSERT INTO host_apps (host_id, app, "
                  "current, updated) VALUES ('h-%d', 'web', 'v1', 1)",
                  i + 1, i + 1, i + 1);
        ck_assert_int_eq (rc_store_exec (store, sql), 0);
    }
    rc_rollout_t *rollout = rc_rollout_new (store, s_up, NULL);
    rc_deployment_t dep;
    rc_dhost_t hosts[S_HOSTS];
    s_setup (store, &dep, hosts, "d-window");
    int64_t now = 1000;

    /* the canary alone */
    ck_assert_int_eq (rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now), 0);
    ck_assert_int_eq (s_count (hosts, RC_HOST_UPDATING), 1);
    ck_assert_int_eq (hosts[0].state, RC_HOST_UPDATING);
    ck_assert (!rc_slide_phase (&dep));
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (s_count (hosts, RC_HOST_UPDATING), 1);
    s_done (hosts, 0, RC_HOST_SUCCEEDED);
    /* then the window: 3 at once, batch 2 of 2 */
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert (rc_slide_phase (&dep));
    ck_assert_int_eq (dep.batch, 2);
    ck_assert_int_eq (s_count (hosts, RC_HOST_UPDATING), 3);
    ck_assert_int_eq (hosts[3].state, RC_HOST_UPDATING);
    ck_assert_int_eq (hosts[4].state, RC_HOST_PENDING);
    /* h-2 is slow: each other host that finishes lets the next one in,
       never more than 3 in flight */
    for (int next = 4; next < S_HOSTS; next++) {
        int finish = -1;
        for (int i = 2; i < S_HOSTS && finish < 0; i++)
            if (hosts[i].state == RC_HOST_UPDATING)
                finish = i;
        s_done (hosts, finish, RC_HOST_SUCCEEDED);
        rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
        ck_assert_int_eq (s_count (hosts, RC_HOST_UPDATING), 3);
        ck_assert_int_eq (hosts[next].state, RC_HOST_UPDATING);
        ck_assert_int_eq (hosts[1].state, RC_HOST_UPDATING);
        ck_assert_int_eq (dep.batch, 2);
    }
    /* the last ones finish: the deployment with them */
    for (int i = 2; i < S_HOSTS; i++)
        if (hosts[i].state == RC_HOST_UPDATING)
            s_done (hosts, i, RC_HOST_SUCCEEDED);
    s_done (hosts, 1, RC_HOST_SUCCEEDED);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (dep.state, RC_DEP_SUCCEEDED);
    rc_rollout_forget (rollout, dep.id);

    /* the budget: h-4 fails in the window; no new host starts, the two in
       flight finish, then the rollback, 2 at a time, last updated first */
    s_setup (store, &dep, hosts, "d-budget");
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    s_done (hosts, 0, RC_HOST_SUCCEEDED);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    /* the operator's pause holds new starts, not the hosts in flight */
    dep.paused = true;
    s_done (hosts, 1, RC_HOST_SUCCEEDED);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (dep.state, RC_DEP_PAUSED);
    ck_assert_int_eq (s_count (hosts, RC_HOST_UPDATING), 2);
    dep.paused = false;
    rc_rollout_dep_state (&dep, RC_DEP_RUNNING);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (s_count (hosts, RC_HOST_UPDATING), 3); /* h-3 h-4 h-5 */
    s_done (hosts, 3, RC_HOST_FAILED);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (s_count (hosts, RC_HOST_UPDATING), 2);
    ck_assert_int_eq (s_count (hosts, RC_HOST_PENDING), S_HOSTS - 5);
    ck_assert_int_eq (dep.state, RC_DEP_RUNNING);
    s_done (hosts, 2, RC_HOST_SUCCEEDED);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (s_count (hosts, RC_HOST_PENDING), S_HOSTS - 5);
    s_done (hosts, 4, RC_HOST_SUCCEEDED);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (dep.state, RC_DEP_ROLLING_BACK);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (s_count (hosts, RC_HOST_ROLLING_BACK), 2);
    ck_assert_int_eq (hosts[4].state, RC_HOST_ROLLING_BACK);
    ck_assert_int_eq (hosts[3].state, RC_HOST_ROLLING_BACK);
    ck_assert_int_eq (hosts[0].state, RC_HOST_ROLLBACK_PENDING);
    ck_assert_int_eq (s_count (hosts, RC_HOST_PENDING), S_HOSTS - 5);
    rc_rollout_host_state (&hosts[4], RC_HOST_ROLLED_BACK);
    rc_rollout_host_state (&hosts[3], RC_HOST_ROLLED_BACK);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (hosts[2].state, RC_HOST_ROLLING_BACK);
    ck_assert_int_eq (hosts[1].state, RC_HOST_ROLLING_BACK);
    ck_assert_int_eq (hosts[0].state, RC_HOST_ROLLBACK_PENDING);

    rc_rollout_forget (rollout, dep.id);

    /* blue-green stages in the window, then one switch of every staged
       host; --pause manual holds the window's start and the switch */
    s_setup (store, &dep, hosts, "d-bg");
    snprintf (dep.strategy, sizeof dep.strategy, "%s", RC_STRATEGY_BLUEGREEN);
    snprintf (dep.pause_spec, sizeof dep.pause_spec, "manual");
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (hosts[0].action, ROLLCLONE__ACTION__ACTION_STAGE);
    s_done (hosts, 0, RC_HOST_STAGED);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (dep.state, RC_DEP_PAUSED); /* the gate after the canary */
    dep.gate_open = true;
    rc_rollout_dep_state (&dep, RC_DEP_RUNNING);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (s_count (hosts, RC_HOST_UPDATING), 3);
    for (int i = 1; i < S_HOSTS; i++) {
        s_done (hosts, i, RC_HOST_STAGED);
        rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
        ck_assert_int_le (s_count (hosts, RC_HOST_UPDATING), 3);
    }
    ck_assert_int_eq (s_count (hosts, RC_HOST_STAGED), S_HOSTS);
    ck_assert_int_eq (dep.state, RC_DEP_PAUSED); /* the gate before the switch */
    /* what the agents said meanwhile: v2 warm on the idle slot, but the
       canary's agent stopped it at keep_warm while it waited at two gates */
    ck_assert_int_eq (rc_store_exec (store, "UPDATE host_apps SET warm_version = 'v2', "
                                            "warm_until = 900000 WHERE host_id != 'h-1'"),
                      0);
    dep.gate_open = true;
    rc_rollout_dep_state (&dep, RC_DEP_RUNNING);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    /* the canary stages again first, alone; the gate stays passed */
    ck_assert_int_eq (dep.bg_phase, RC_BG_RESTAGING);
    ck_assert_int_eq (dep.state, RC_DEP_RUNNING);
    ck_assert_int_eq (s_count (hosts, RC_HOST_UPDATING), 1);
    ck_assert_int_eq (hosts[0].action, ROLLCLONE__ACTION__ACTION_STAGE);
    ck_assert_int_eq (hosts[0].step, 2);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (s_count (hosts, RC_HOST_UPDATING), 1);
    s_done (hosts, 0, RC_HOST_STAGED);
    ck_assert_int_eq (
        rc_store_exec (store, "UPDATE host_apps SET warm_version = 'v2', warm_until = 900000"), 0);
    rc_rollout_advance (rollout, &dep, hosts, S_HOSTS, now);
    ck_assert_int_eq (dep.bg_phase, RC_BG_SWITCHING);
    ck_assert_int_eq (s_count (hosts, RC_HOST_UPDATING), S_HOSTS);
    ck_assert_int_eq (hosts[5].action, ROLLCLONE__ACTION__ACTION_SWITCH);

    rc_rollout_destroy (&rollout);
    rc_store_destroy (&store);
    char cmd[400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}

void
rc_slide_test (bool verbose)
{
    (void)verbose;
    /* N or N% of the selected hosts, rounded up, at least one */
    ck_assert_int_eq (rc_strategy_window ("10", 100), 10);
    ck_assert_int_eq (rc_strategy_window ("10%", 100), 10);
    ck_assert_int_eq (rc_strategy_window ("10%", 15), 2);
    ck_assert_int_eq (rc_strategy_window ("1%", 3), 1);
    ck_assert_int_eq (rc_strategy_window ("100%", 7), 7);
    ck_assert_int_eq (rc_strategy_window ("50", 7), 50); /* more than the hosts: all of them */
    /* bad: nothing, zero, over 100 %, a ramp, garbage */
    const char *bad[] = {"",  "0",  "00",  "0%",  "101%", "1,10%",
                         "%", "-1", "1.5", "ten", "10 ",  "1234567890"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg (rc_strategy_window (bad[i], 100) == -1, "'%s' taken", bad[i]);
    ck_assert_int_eq (rc_strategy_window (NULL, 100), -1);

    /* the ramp: each entry of --batch one batch */
    ck_assert_int_eq (rc_strategy_ramp_length ("1"), 1);
    ck_assert_int_eq (rc_strategy_ramp_length ("1,10%,50%"), 3);
    ck_assert_int_eq (rc_strategy_ramp_length ("1,,2"), -1);
    ck_assert_int_eq (rc_slide_ramp ("2,5"), 2);

    /* batch sizes: the ramp's entries (the last one not repeating), then
       every host left is the window's */
    ck_assert_int_eq (rc_slide_batch_size ("1", 10, 1, 100), 1);
    ck_assert_int_eq (rc_slide_batch_size ("1", 10, 2, 100), 100);
    ck_assert_int_eq (rc_slide_batch_size ("1,10%", 5, 2, 100), 10);
    ck_assert_int_eq (rc_slide_batch_size ("1,10%", 5, 3, 100), 100);
    /* no window: the ramp repeats as ever */
    ck_assert_int_eq (rc_slide_batch_size ("1,10%", 0, 3, 100), 10);
    /* batches: the ramp's that take hosts, then one for the window */
    ck_assert_int_eq (rc_slide_batch_count ("1", 10, 100), 2);
    ck_assert_int_eq (rc_slide_batch_count ("1,10%", 5, 100), 3);
    ck_assert_int_eq (rc_slide_batch_count ("1", 3, 1), 1);   /* the canary is all */
    ck_assert_int_eq (rc_slide_batch_count ("5", 3, 4), 1);   /* the ramp takes all */
    ck_assert_int_eq (rc_slide_batch_count ("1,1", 3, 2), 2); /* no host left for it */
    ck_assert_int_eq (rc_slide_batch_count ("1,25%", 0, 8), 5);
    ck_assert_int_eq (rc_slide_batch_count ("x", 3, 8), -1);

    /* the phase, from the row's batch count alone (a restart resumes it) */
    rc_deployment_t dep;
    memset (&dep, 0, sizeof dep);
    RC_SET (dep.batch_spec, "1,10%");
    dep.window_hosts = 4;
    dep.batch = 1;
    ck_assert (!rc_slide_phase (&dep) && !rc_slide_next_is_window (&dep));
    dep.batch = 2;
    ck_assert (!rc_slide_phase (&dep) && rc_slide_next_is_window (&dep));
    dep.batch = 3;
    ck_assert (rc_slide_phase (&dep) && rc_slide_next_is_window (&dep));
    dep.window_hosts = 0; /* fixed batches: never a window */
    ck_assert (!rc_slide_phase (&dep) && !rc_slide_next_is_window (&dep));

    /* room: what the window has left, never below zero */
    ck_assert_int_eq (rc_slide_room (4, 0), 4);
    ck_assert_int_eq (rc_slide_room (4, 3), 1);
    ck_assert_int_eq (rc_slide_room (4, 4), 0);
    ck_assert_int_eq (rc_slide_room (4, 6), 0); /* run-once steps and held hosts count too */

    /* the manual gate is reached when nothing is in flight (a run-once
       step neither) and, once the window began, no host is left to start:
       blue-green's switch comes after the window's last host */
    memset (&dep, 0, sizeof dep);
    RC_SET (dep.batch_spec, "1");
    dep.window_hosts = 3;
    dep.batch = 1; /* the canary's gate */
    ck_assert_int_eq (rc_slide_gate_left (&dep, 0, 9), 0);
    ck_assert_int_eq (rc_slide_gate_left (&dep, 1, 9), 1);
    dep.batch = 2; /* in the window */
    ck_assert_int_eq (rc_slide_gate_left (&dep, 3, 6), 9);
    ck_assert_int_eq (rc_slide_gate_left (&dep, 0, 2), 2);
    ck_assert_int_eq (rc_slide_gate_left (&dep, 0, 0), 0);
    dep.once[RC_ONCE_AFTER].state = RC_ONCE_RUNNING;
    ck_assert_int_eq (rc_slide_gate_left (&dep, 0, 0), 1);
    dep.window_hosts = 0; /* fixed batches: what is pending is the next batch's */
    dep.once[RC_ONCE_AFTER].state = RC_ONCE_NONE;
    ck_assert_int_eq (rc_slide_gate_left (&dep, 0, 6), 0);
    ck_assert_int_eq (rc_slide_gate_left (&dep, 2, 6), 2);

    /* rollback batch: --rollback-batch, else the largest batch or the
       window */
    dep.window_hosts = 0;
    RC_SET (dep.batch_spec, "1,25%");
    ck_assert_int_eq (rc_slide_rollback_size (&dep, 20), 5);
    RC_SET (dep.batch_spec, "1,50%,10%");
    ck_assert_int_eq (rc_slide_rollback_size (&dep, 20), 10);
    RC_SET (dep.batch_spec, "100");
    ck_assert_int_eq (rc_slide_rollback_size (&dep, 20), 20); /* no more than the hosts */
    RC_SET (dep.batch_spec, "1");
    dep.window_hosts = 7;
    ck_assert_int_eq (rc_slide_rollback_size (&dep, 20), 7);
    RC_SET (dep.rollback_spec, "3");
    ck_assert_int_eq (rc_slide_rollback_size (&dep, 20), 3);
    RC_SET (dep.rollback_spec, "50%");
    ck_assert_int_eq (rc_slide_rollback_size (&dep, 5), 3);

    /* the plan walks as the engine does: the canary, then the window's
       batch over every host left; a rollback goes last updated first */
    rc_plan_member_t members[] = {
        {"h-1", true, true}, {"h-2", true, true}, {"h-3", true, true}, {"h-4", true, true}};
    Rollclone__PlanReply *plan = rc_plan_new ("deploy", "web", "v2");
    rc_plan_walk_t walk = {.batch_spec = "1",
                           .total = 4,
                           .progress_deadline_ms = 1000,
                           .unavailable_takes_slot = true,
                           .window_hosts = 2};
    ck_assert_int_eq (rc_plan_walk (plan, &walk, members, 4), 0);
    ck_assert_uint_eq (plan->n_batches, 2);
    ck_assert_uint_eq (plan->batches[0]->n_host_ids, 1);
    ck_assert_uint_eq (plan->batches[1]->n_host_ids, 3);
    rollclone__plan_reply__free_unpacked (plan, NULL);
    plan = rc_plan_new ("rollback", "web", "");
    walk = (rc_plan_walk_t){.batch_spec = "3", .total = 4, .reverse = true};
    ck_assert_int_eq (rc_plan_walk (plan, &walk, members, 4), 0);
    ck_assert_uint_eq (plan->n_batches, 2);
    ck_assert_str_eq (plan->batches[0]->host_ids[0], "h-4");
    ck_assert_str_eq (plan->batches[0]->host_ids[2], "h-2");
    ck_assert_str_eq (plan->batches[1]->host_ids[0], "h-1");
    rollclone__plan_reply__free_unpacked (plan, NULL);

    /* the request: bad values refused with a line naming the option */
    Rollclone__DeployRequest req = ROLLCLONE__DEPLOY_REQUEST__INIT;
    char err[256];
    ck_assert_int_eq (rc_slide_check (&req, err, sizeof err), 0);
    ck_assert_str_eq (rc_slide_batch_spec (&req, "1,25%"), "1,25%");
    req.window = (char *)"10%";
    ck_assert_int_eq (rc_slide_check (&req, err, sizeof err), 0);
    ck_assert_str_eq (rc_slide_batch_spec (&req, "1,25%"), RC_SLIDE_DEFAULT_RAMP);
    req.batch = (char *)"2,5";
    ck_assert_str_eq (rc_slide_batch_spec (&req, "1,25%"), "2,5");
    req.window = (char *)"0";
    ck_assert_int_eq (rc_slide_check (&req, err, sizeof err), -1);
    ck_assert (strstr (err, "--window '0'") != NULL);
    req.window = (char *)"1,10%";
    ck_assert_int_eq (rc_slide_check (&req, err, sizeof err), -1);
    ck_assert (strstr (err, "a ramp goes in --batch") != NULL);
    req.window = (char *)"3";
    req.rollback_batch = (char *)"200%";
    ck_assert_int_eq (rc_slide_check (&req, err, sizeof err), -1);
    ck_assert (strstr (err, "--rollback-batch '200%'") != NULL);
    req.rollback_batch = (char *)"2";
    char *checks[] = {(char *)"errors"};
    req.checks = checks;
    req.n_checks = 1;
    ck_assert_int_eq (rc_slide_check (&req, err, sizeof err), -1);
    ck_assert (strstr (err, "--window cannot go with --check") != NULL);

    s_engine ();
}
