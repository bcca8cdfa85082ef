/*  bluegreen_test.c - deploy --strategy blue-green: the next move from
    what the hosts do, the way back (switch while warm, else rollback),
    the names, the transitions a blue-green host takes, and the start of
    the switch on a real store, saved and read back. */
#include "bluegreen.h"
#include "store_private.h"
#include "rollclone.pb-c.h"
#include "selftests.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* host-3 is offline, the others online */
static bool
s_view (void *arg, const char *host_id, bool *online, bool *healthy)
{
    (void)arg;
    *online = strcmp (host_id, "host-3") != 0;
    *healthy = true;
    return true;
}

static void
s_moves (void)
{
    rc_bg_view_t v = {.phase = RC_BG_STAGING, .pending = 2, .staged = 1};
    ck_assert_int_eq (rc_bluegreen_next (&v), RC_BG_GO_NEXT_BATCH);
    v.inflight = 1;
    ck_assert_int_eq (rc_bluegreen_next (&v), RC_BG_GO_WAIT);
    /* every host staged: the switch */
    v = (rc_bg_view_t){.phase = RC_BG_STAGING, .staged = 3};
    ck_assert_int_eq (rc_bluegreen_next (&v), RC_BG_GO_SWITCH);
    /* failed while staging: traffic untouched, no rollback */
    v.blown = true;
    ck_assert_int_eq (rc_bluegreen_next (&v), RC_BG_GO_FAIL);
    /* ... but not before the hosts in flight ended */
    v.inflight = 2;
    ck_assert_int_eq (rc_bluegreen_next (&v), RC_BG_GO_WAIT);
    /* before the first batch */
    v = (rc_bg_view_t){.phase = RC_BG_NONE, .pending = 3};
    ck_assert_int_eq (rc_bluegreen_next (&v), RC_BG_GO_NEXT_BATCH);
    /* every host failed within the budget: nothing to switch */
    v = (rc_bg_view_t){.phase = RC_BG_STAGING};
    ck_assert_int_eq (rc_bluegreen_next (&v), RC_BG_GO_FAIL);
    /* the switch: its end, or a failure in it that switches back */
    v = (rc_bg_view_t){.phase = RC_BG_SWITCHING};
    ck_assert_int_eq (rc_bluegreen_next (&v), RC_BG_GO_SWITCHED);
    v.blown = true;
    ck_assert_int_eq (rc_bluegreen_next (&v), RC_BG_GO_ROLL_BACK);
}

static void
s_back (void)
{
    int64_t now = 1000000;
    /* the old release warm long enough: a switch */
    ck_assert_int_eq (rc_bluegreen_back_action ("v1", "v1", now + 60000, now),
                      ROLLCLONE__ACTION__ACTION_SWITCH);
    /* keep_warm over, nearly over, another release warm, nothing warm:
       the ordinary rollback */
    ck_assert_int_eq (rc_bluegreen_back_action ("v1", "v1", now - 1, now),
                      ROLLCLONE__ACTION__ACTION_ROLLBACK);
    ck_assert_int_eq (
        rc_bluegreen_back_action ("v1", "v1", now + RC_BLUEGREEN_WARM_MARGIN_MS - 1, now),
        ROLLCLONE__ACTION__ACTION_ROLLBACK);
    ck_assert_int_eq (rc_bluegreen_back_action ("v1", "v3", now + 60000, now),
                      ROLLCLONE__ACTION__ACTION_ROLLBACK);
    ck_assert_int_eq (rc_bluegreen_back_action ("v1", "", 0, now),
                      ROLLCLONE__ACTION__ACTION_ROLLBACK);
    ck_assert_int_eq (rc_bluegreen_back_action ("", "", now + 60000, now),
                      ROLLCLONE__ACTION__ACTION_ROLLBACK);
    ck_assert_int_eq (rc_bluegreen_back_action ("v1", NULL, now + 60000, now),
                      ROLLCLONE__ACTION__ACTION_ROLLBACK);
}

static void
s_warm_enough (void)
{
    int64_t now = 1000000, long_ago = now - 600000;
    /* warm for longer than the margin: switched as it is */
    ck_assert (rc_bluegreen_warm_enough ("v2", "v2", now + 60000, long_ago, now));
    /* keep_warm passed while it waited (the agent stopped it and said so,
       or has not said so yet), or stops before a switch reaches it */
    ck_assert (!rc_bluegreen_warm_enough ("v2", "", 0, long_ago, now));
    ck_assert (!rc_bluegreen_warm_enough ("v2", NULL, 0, long_ago, now));
    ck_assert (!rc_bluegreen_warm_enough ("v2", "v2", now - 1, long_ago, now));
    ck_assert (
        !rc_bluegreen_warm_enough ("v2", "v2", now + RC_BLUEGREEN_WARM_MARGIN_MS, long_ago, now));
    /* another release warm there (a later stage replaced it) */
    ck_assert (!rc_bluegreen_warm_enough ("v2", "v1", now + 60000, long_ago, now));
    /* a keep_warm shorter than the margin: just staged, it goes as it is
       (staging it again would not make it warmer) ... */
    ck_assert (rc_bluegreen_warm_enough ("v2", "v2", now + 2000, now - 1000, now));
    /* ... until it stops, or once it was staged longer than the margin ago */
    ck_assert (!rc_bluegreen_warm_enough ("v2", "v2", now - 1, now - 1000, now));
    ck_assert (
        !rc_bluegreen_warm_enough ("v2", "v2", now + 2000, now - RC_BLUEGREEN_WARM_MARGIN_MS, now));
    /* restaging is before the switch: a failure there leaves traffic alone */
    rc_bg_view_t v = {.phase = RC_BG_RESTAGING, .staged = 3};
    ck_assert_int_eq (rc_bluegreen_next (&v), RC_BG_GO_SWITCH);
    v.inflight = 1;
    ck_assert_int_eq (rc_bluegreen_next (&v), RC_BG_GO_WAIT);
    v = (rc_bg_view_t){.phase = RC_BG_RESTAGING, .staged = 2, .blown = true};
    ck_assert_int_eq (rc_bluegreen_next (&v), RC_BG_GO_FAIL);
}

static void
s_names (void)
{
    ck_assert_str_eq (rc_bluegreen_strategy (""), RC_STRATEGY_ROLLING);
    ck_assert_str_eq (rc_bluegreen_strategy ("rolling"), RC_STRATEGY_ROLLING);
    ck_assert_str_eq (rc_bluegreen_strategy ("blue-green"), RC_STRATEGY_BLUEGREEN);
    ck_assert_ptr_null (rc_bluegreen_strategy ("bluegreen"));
    ck_assert_ptr_null (rc_bluegreen_strategy ("Blue-Green"));
    for (int p = 0; p < RC_BG_PHASE_COUNT; p++) {
        rc_bg_phase_t back = RC_BG_PHASE_COUNT;
        ck_assert_int_eq (rc_bg_phase_parse (rc_bg_phase_name ((rc_bg_phase_t)p), &back), 0);
        ck_assert_int_eq (back, p);
    }
    rc_bg_phase_t phase;
    ck_assert_int_eq (rc_bg_phase_parse ("staged", &phase), -1);
    ck_assert_str_eq (rc_bg_phase_name (RC_BG_SWITCHING), "switching");
    int actions[] = {ROLLCLONE__ACTION__ACTION_NONE, ROLLCLONE__ACTION__ACTION_UPDATE,
                     ROLLCLONE__ACTION__ACTION_ROLLBACK, ROLLCLONE__ACTION__ACTION_STAGE,
                     ROLLCLONE__ACTION__ACTION_SWITCH};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        ck_assert_int_eq (rc_bluegreen_action_parse (rc_bluegreen_action_name (actions[i])),
                          actions[i]);
    ck_assert_str_eq (rc_bluegreen_action_name (ROLLCLONE__ACTION__ACTION_STAGE), "stage");
    ck_assert_int_eq (rc_bluegreen_action_parse ("deploy"), -1);
    rc_host_state_t st;
    ck_assert_int_eq (rc_host_state_parse ("staged", &st), 0);
    ck_assert_int_eq (st, RC_HOST_STAGED);
    /* a blue-green host: staged after its stage step, in flight again
       for the switch; never staged from anywhere else */
    ck_assert (rc_rollout_host_may (RC_HOST_UPDATING, RC_HOST_STAGED));
    ck_assert (rc_rollout_host_may (RC_HOST_STAGED, RC_HOST_UPDATING));
    ck_assert (rc_rollout_host_may (RC_HOST_STAGED, RC_HOST_FAILED));
    ck_assert (!rc_rollout_host_may (RC_HOST_PENDING, RC_HOST_STAGED));
    ck_assert (!rc_rollout_host_may (RC_HOST_STAGED, RC_HOST_SUCCEEDED));
    ck_assert (!rc_rollout_host_may (RC_HOST_STAGED, RC_HOST_ROLLBACK_PENDING));
}

static void
s_switch_start (void)
{
    char dir[] = "/tmp/rc_bluegreen_test.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char path[300], err[512];
    snprintf (path, sizeof path, "%s/db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert_msg (store != NULL, "%s", err);
    rc_deployment_t dep = {.id = "d-bg",
                           .kind = "deploy",
                           .app = "web",
                           .version = "v2",
                           .batch_spec = "1",
                           .max_fail_spec = "0",
                           .strategy = RC_STRATEGY_BLUEGREEN,
                           .state = RC_DEP_RUNNING,
                           .bg_phase = RC_BG_STAGING,
                           .total_batches = 3,
                           .created = 1,
                           .progress = 1};
    ck_assert (rc_bluegreen_is (&dep));
    rc_dhost_t hosts[3] = {
        {.host_id = "host-1", .ord = 0, .state = RC_HOST_STAGED, .step = 1, .touched = true},
        {.host_id = "host-2", .ord = 1, .state = RC_HOST_FAILED, .step = 1, .touched = true},
        {.host_id = "host-3", .ord = 2, .state = RC_HOST_STAGED, .step = 1, .touched = true},
    };
    for (int i = 0; i < 3; i++)
        hosts[i].action = ROLLCLONE__ACTION__ACTION_STAGE;
    ck_assert_int_eq (rc_store_begin (store), 0);
    ck_assert_int_eq (rc_deployment_insert (store, &dep), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq (rc_dhost_insert (store, dep.id, &hosts[i]), 0);
    int switching = -1;
    ck_assert_int_eq (
        rc_bluegreen_switch_start (store, &dep, hosts, 3, s_view, NULL, &switching, 100), 0);
    ck_assert_int_eq (switching, 1);
    ck_assert_int_eq (dep.bg_phase, RC_BG_SWITCHING);
    /* the staged host online goes in flight with a switch step ... */
    ck_assert_int_eq (hosts[0].state, RC_HOST_UPDATING);
    ck_assert_int_eq (hosts[0].action, ROLLCLONE__ACTION__ACTION_SWITCH);
    ck_assert_int_eq (hosts[0].step, 2);
    /* ... one that failed staging is left alone, one offline is never
       switched blind */
    ck_assert_int_eq (hosts[1].state, RC_HOST_FAILED);
    ck_assert_int_eq (hosts[1].step, 1);
    ck_assert_int_eq (hosts[2].state, RC_HOST_FAILED);
    ck_assert_str_eq (hosts[2].failure, "offline");
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq (rc_dhost_save (store, dep.id, &hosts[i]), 0);
    ck_assert_int_eq (rc_deployment_save (store, &dep), 0);
    ck_assert_int_eq (rc_store_commit (store), 0);

    /* what a restarted coordinator reads back */
    rc_deployment_t back;
    ck_assert_int_eq (rc_deployment_load (store, dep.id, &back), 1);
    ck_assert_str_eq (back.strategy, RC_STRATEGY_BLUEGREEN);
    ck_assert_int_eq (back.bg_phase, RC_BG_SWITCHING);
    rc_dhost_t *rows = NULL;
    size_t n = 0;
    ck_assert_int_eq (rc_dhost_load (store, dep.id, &rows, &n), 0);
    ck_assert_int_eq (n, 3);
    ck_assert_int_eq (rows[0].action, ROLLCLONE__ACTION__ACTION_SWITCH);
    ck_assert_int_eq (rows[0].state, RC_HOST_UPDATING);
    ck_assert_int_eq (rows[1].action, ROLLCLONE__ACTION__ACTION_STAGE);
    free (rows);
    sqlite3_stmt *stmt = rc_store_prepare (
        store, "SELECT count(*) FROM events WHERE deployment_id = ?1 AND kind = 'switch_started'",
        "t", dep.id);
    ck_assert_int_eq (rc_store_step (store, stmt), SQLITE_ROW);
    ck_assert_int_eq (sqlite3_column_int (stmt, 0), 1);
    rc_store_finalize (store, stmt);

    /* the way back reads the warm release from the host's app row */
    ck_assert_int_eq (rc_store_exec (store, "INSERT INTO hosts (id, pubkey, state, first_seen, "
                                            "last_seen) VALUES ('host-1', 'k', 'online', 1, 1);"
                                            "INSERT INTO host_apps (host_id, app, current, "
                                            "updated, warm_version, warm_until) VALUES "
                                            "('host-1', 'web', 'v2', 1, 'v1', 100000)"),
                      0);
    rc_dhost_t h = {.host_id = "host-1", .from_version = "v1"};
    ck_assert_int_eq (rc_bluegreen_back_action_of (store, &dep, &h, 1000),
                      ROLLCLONE__ACTION__ACTION_SWITCH);
    ck_assert_int_eq (rc_bluegreen_back_action_of (store, &dep, &h, 99000),
                      ROLLCLONE__ACTION__ACTION_ROLLBACK);
    snprintf (h.host_id, sizeof h.host_id, "host-9");
    ck_assert_int_eq (rc_bluegreen_back_action_of (store, &dep, &h, 1000),
                      ROLLCLONE__ACTION__ACTION_ROLLBACK);
    rc_store_destroy (&store);
    char cmd[400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}

/* The restage at the switch on a real store: only the staged hosts whose
   slot went cold, online and under the limit, go in flight again */
static void
s_restage_start (void)
{
    char dir[] = "/tmp/rc_bluegreen_test.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char path[300], err[512];
    snprintf (path, sizeof path, "%s/db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert_msg (store != NULL, "%s", err);
    int64_t now = 10000000, staged_at = now - 600000;
    rc_deployment_t dep = {.id = "d-re",
                           .kind = "deploy",
                           .app = "web",
                           .version = "v2",
                           .batch_spec = "1",
                           .max_fail_spec = "0",
                           .pause_spec = "manual",
                           .strategy = RC_STRATEGY_BLUEGREEN,
                           .state = RC_DEP_RUNNING,
                           .bg_phase = RC_BG_STAGING,
                           .gate_open = true,
                           .batch = 1,
                           .total_batches = 1,
                           .created = 1,
                           .progress = 1};
    /* host-1 warm, host-2 cold, host-3 cold but offline (s_view), host-4
       cold and staged the most times already, host-5 failed */
    rc_dhost_t hosts[5] = {
        {.host_id = "host-1", .state = RC_HOST_STAGED, .step = 1},
        {.host_id = "host-2", .state = RC_HOST_STAGED, .step = 1},
        {.host_id = "host-3", .state = RC_HOST_STAGED, .step = 1},
        {.host_id = "host-4", .state = RC_HOST_STAGED, .step = RC_BLUEGREEN_STAGES_MAX},
        {.host_id = "host-5", .state = RC_HOST_FAILED, .step = 1},
    };
    ck_assert_int_eq (rc_store_begin (store), 0);
    ck_assert_int_eq (rc_deployment_insert (store, &dep), 0);
    for (int i = 0; i < 5; i++) {
        hosts[i].ord = i;
        hosts[i].batch = 1;
        hosts[i].touched = true;
        hosts[i].finished = staged_at;
        hosts[i].action = ROLLCLONE__ACTION__ACTION_STAGE;
        RC_SET (hosts[i].from_version, "v1");
        RC_SET (hosts[i].to_version, "v2");
        ck_assert_int_eq (rc_dhost_insert (store, dep.id, &hosts[i]), 0);
        char sql[400];
        snprintf (sql, sizeof sql,
                  "INSERT INTO hosts (id, pubkey, state, first_seen, last_seen) VALUES "
                  "('host-%d', 'k%d', 'online', 1, 1);"
                  "INSERT INTO host_apps (host_id, app, current, updated, warm_version, "
                  "warm_until) VALUES ('host-%d', 'web', 'v1', 1, '%s', %lld)",
                  i + 1, i, i + 1, i == 1 ? "" : "v2",
                  (long long)(i == 0 ? now + 60000 : staged_at + 300000));
        ck_assert_int_eq (rc_store_exec (store, sql), 0);
    }
    ck_assert_int_eq (rc_store_commit (store), 0);

    /* what status says at the gate */
    rc_bg_warmth_t warmth;
    ck_assert_int_eq (rc_bluegreen_warmth (store, &dep, now, &warmth), 0);
    ck_assert_int_eq (warmth.staged, 4);
    ck_assert_int_eq (warmth.cold, 3);
    ck_assert_int_eq (warmth.warm_until, now + 60000);

    ck_assert_int_eq (rc_store_begin (store), 0);
    int restaging = -1;
    ck_assert_int_eq (
        rc_bluegreen_restage_start (store, &dep, hosts, 5, s_view, NULL, &restaging, now), 0);
    ck_assert_int_eq (restaging, 1);
    ck_assert_int_eq (dep.bg_phase, RC_BG_RESTAGING);
    ck_assert_int_eq (hosts[1].state, RC_HOST_UPDATING);
    ck_assert_int_eq (hosts[1].action, ROLLCLONE__ACTION__ACTION_STAGE);
    ck_assert_int_eq (hosts[1].step, 2);
    ck_assert_int_eq (hosts[1].started, now);
    /* the warm one, the offline one (the switch fails it), the one at the
       limit (the switch tries it) and the failed one stay */
    ck_assert_int_eq (hosts[0].state, RC_HOST_STAGED);
    ck_assert_int_eq (hosts[2].state, RC_HOST_STAGED);
    ck_assert_int_eq (hosts[3].state, RC_HOST_STAGED);
    ck_assert_int_eq (hosts[3].step, RC_BLUEGREEN_STAGES_MAX);
    ck_assert_int_eq (hosts[4].state, RC_HOST_FAILED);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq (rc_dhost_save (store, dep.id, &hosts[i]), 0);
    ck_assert_int_eq (rc_deployment_save (store, &dep), 0);
    ck_assert_int_eq (rc_store_commit (store), 0);

    /* what a coordinator restarted mid-restage reads back */
    rc_deployment_t back;
    ck_assert_int_eq (rc_deployment_load (store, dep.id, &back), 1);
    ck_assert_int_eq (back.bg_phase, RC_BG_RESTAGING);
    ck_assert (back.gate_open);
    rc_dhost_t *rows = NULL;
    size_t n = 0;
    ck_assert_int_eq (rc_dhost_load (store, dep.id, &rows, &n), 0);
    ck_assert_int_eq (n, 5);
    ck_assert_int_eq (rows[1].state, RC_HOST_UPDATING);
    ck_assert_int_eq (rows[1].action, ROLLCLONE__ACTION__ACTION_STAGE);
    ck_assert_int_eq (rows[1].step, 2);
    free (rows);
    sqlite3_stmt *stmt =
        rc_store_prepare (store,
                          "SELECT (SELECT count(*) FROM events WHERE deployment_id = ?1 AND kind = "
                          "'host_restaging' AND host_id = 'host-2'), (SELECT count(*) FROM events "
                          "WHERE deployment_id = ?1 AND kind IN ('host_restaging', "
                          "'restage_started'))",
                          "t", dep.id);
    ck_assert_int_eq (rc_store_step (store, stmt), SQLITE_ROW);
    ck_assert_int_eq (sqlite3_column_int (stmt, 0), 1);
    ck_assert_int_eq (sqlite3_column_int (stmt, 1), 2);
    rc_store_finalize (store, stmt);

    /* nothing cold: nothing restaged, the switch may go */
    hosts[1].state = RC_HOST_STAGED;
    hosts[1].finished = now;
    ck_assert_int_eq (rc_store_exec (store, "UPDATE host_apps SET warm_version = 'v2', warm_until "
                                            "= 99999999 WHERE host_id IN ('host-2', 'host-4')"),
                      0);
    dep.bg_phase = RC_BG_STAGING;
    ck_assert_int_eq (
        rc_bluegreen_restage_start (store, &dep, hosts, 5, s_view, NULL, &restaging, now), 0);
    ck_assert_int_eq (restaging, 0);
    ck_assert_int_eq (dep.bg_phase, RC_BG_STAGING);
    rc_store_destroy (&store);
    char cmd[400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}

void
rc_bluegreen_test (bool verbose)
{
    (void)verbose;
    s_moves ();
    s_back ();
    s_warm_enough ();
    s_names ();
    s_switch_start ();
    s_restage_start ();
}
