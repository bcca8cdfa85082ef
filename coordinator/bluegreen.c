/*  bluegreen.c - deploy --strategy blue-green (see bluegreen.h): the
    decisions rollout.c asks for at its decision points, and the start of
    the fleet-wide switch. */
#include "bluegreen.h"
#include "rc_join.h"
#include "rc_log.h"
#include "rollclone.pb-c.h"

#include <stdio.h>
#include <string.h>

const char *
rc_bluegreen_strategy (const char *text)
{
    if (!text || !*text || streq (text, RC_STRATEGY_ROLLING))
        return RC_STRATEGY_ROLLING;
    if (streq (text, RC_STRATEGY_BLUEGREEN))
        return RC_STRATEGY_BLUEGREEN;
    return NULL;
}

bool
rc_bluegreen_is (const rc_deployment_t *dep)
{
    return streq (dep->strategy, RC_STRATEGY_BLUEGREEN);
}

rc_bg_move_t
rc_bluegreen_next (const rc_bg_view_t *v)
{
    if (v->inflight)
        return RC_BG_GO_WAIT;
    if (v->blown)
        /* before the switch nothing serves the new release: nothing to
           put back; in it, the hosts that switched go back */
        return v->phase <= RC_BG_STAGING ? RC_BG_GO_FAIL : RC_BG_GO_ROLL_BACK;
    switch (v->phase) {
    case RC_BG_NONE: /* no batch began yet */
    case RC_BG_STAGING:
        if (v->pending)
            return RC_BG_GO_NEXT_BATCH;
        /* every host failed within the budget: there is nothing to switch */
        return v->staged ? RC_BG_GO_SWITCH : RC_BG_GO_FAIL;
    case RC_BG_SWITCHING:
    case RC_BG_SWITCHED: return RC_BG_GO_SWITCHED;
    default: return RC_BG_GO_WAIT; /* out of range: a bug, never a move */
    }
}

int
rc_bluegreen_back_action (const char *from_version, const char *warm_version, int64_t warm_until,
                          int64_t now)
{
    if (*from_version && warm_version && streq (from_version, warm_version)
        && warm_until > now + RC_BLUEGREEN_WARM_MARGIN_MS)
        return ROLLCLONE__ACTION__ACTION_SWITCH;
    return ROLLCLONE__ACTION__ACTION_ROLLBACK;
}

int
rc_bluegreen_back_action_of (rc_store_t *store, const rc_deployment_t *dep, const rc_dhost_t *h,
                             int64_t now)
{
    sqlite3_stmt *stmt = rc_store_prepare (store,
                                           "SELECT warm_version, warm_until FROM host_apps "
                                           "WHERE host_id = ?1 AND app = ?2",
                                           "tt", h->host_id, dep->app);
    if (!stmt)
        return -1;
    int rc = rc_store_step (store, stmt);
    int action = ROLLCLONE__ACTION__ACTION_ROLLBACK;
    if (rc == SQLITE_ROW)
        action =
            rc_bluegreen_back_action (h->from_version, (const char *)sqlite3_column_text (stmt, 0),
                                      sqlite3_column_int64 (stmt, 1), now);
    rc_store_finalize (store, stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? action : -1;
}

int
rc_bluegreen_switch_start (rc_store_t *store, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n,
                           rc_host_view_fn *view, void *arg, int *switching, int64_t now)
{
    int rc = 0;
    *switching = 0;
    char *names = NULL;
    for (size_t i = 0; i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        if (h->state != RC_HOST_STAGED)
            continue;
        bool online = false, healthy = false;
        if (!view (arg, h->host_id, &online, &healthy) || !online) {
            rc_rollout_host_state (h, RC_HOST_FAILED);
            RC_SET (h->failure, "offline");
            RC_SET (h->error, "host was offline at the switch; not switched");
            h->finished = now;
            rc |= rc_store_eventf (store, dep->id, h->host_id, "host_failed",
                                   "offline: host was offline at the switch; not switched");
            continue;
        }
        rc_rollout_step_begin (h, now);
        h->action = ROLLCLONE__ACTION__ACTION_SWITCH;
        rc_rollout_host_state (h, RC_HOST_UPDATING);
        if (rc_join_append (&names, "%s%s", *switching ? " " : "", h->host_id) != 0)
            rc = rc_store_set_error (store, "out of memory");
        (*switching)++;
    }
    if (*switching) {
        dep->bg_phase = RC_BG_SWITCHING;
        rc_log_info_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                          "deployment %s: switching %d host(s) to %s", dep->id, *switching,
                          dep->version);
        rc |=
            rc_store_eventf (store, dep->id, NULL, "switch_started", "%d host(s) at once to %s: %s",
                             *switching, dep->version, names ? names : "");
    }
    free (names);
    return rc;
}

/* The action column: "" for 0 (a step as its state says, rows of before
   schema 10). */
static const char *const s_actions[] = {
    [ROLLCLONE__ACTION__ACTION_NONE] = "",
    [ROLLCLONE__ACTION__ACTION_UPDATE] = "update",
    [ROLLCLONE__ACTION__ACTION_ROLLBACK] = "rollback",
    [ROLLCLONE__ACTION__ACTION_STAGE] = "stage",
    [ROLLCLONE__ACTION__ACTION_SWITCH] = "switch",
    [ROLLCLONE__ACTION__ACTION_RUN_ONCE] = "run_once",
};
#define S_ACTION_COUNT ((int)(sizeof s_actions / sizeof s_actions[0]))

const char *
rc_bluegreen_action_name (int action)
{
    return action >= 0 && action < S_ACTION_COUNT ? s_actions[action] : "";
}

int
rc_bluegreen_action_parse (const char *name)
{
    for (int i = 0; i < S_ACTION_COUNT; i++)
        if (streq (s_actions[i], name))
            return i;
    return -1;
}
