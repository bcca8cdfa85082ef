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
        return v->phase < RC_BG_SWITCHING ? RC_BG_GO_FAIL : RC_BG_GO_ROLL_BACK;
    switch (v->phase) {
    case RC_BG_NONE: /* no batch began yet */
    case RC_BG_STAGING:
    case RC_BG_RESTAGING: /* its hosts staged again: the switch is next */
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

/* What the host's agent last said is warm on the app's other slot
   (*warm_version "" when nothing or no row). 0, or -1 on a store error. */
static int
s_warm_of (rc_store_t *store, const char *host_id, const char *app, char *warm_version, size_t len,
           int64_t *warm_until)
{
    warm_version[0] = '\0';
    *warm_until = 0;
    sqlite3_stmt *stmt = rc_store_prepare (store,
                                           "SELECT warm_version, warm_until FROM host_apps "
                                           "WHERE host_id = ?1 AND app = ?2",
                                           "tt", host_id, app);
    if (!stmt)
        return -1;
    int rc = rc_store_step (store, stmt);
    if (rc == SQLITE_ROW) {
        const char *warm = (const char *)sqlite3_column_text (stmt, 0);
        snprintf (warm_version, len, "%s", warm ? warm : "");
        *warm_until = sqlite3_column_int64 (stmt, 1);
    }
    rc_store_finalize (store, stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
rc_bluegreen_back_action_of (rc_store_t *store, const rc_deployment_t *dep, const rc_dhost_t *h,
                             int64_t now)
{
    char warm[RC_NAME_MAX + 1];
    int64_t until;
    if (s_warm_of (store, h->host_id, dep->app, warm, sizeof warm, &until) != 0)
        return -1;
    return rc_bluegreen_back_action (h->from_version, warm, until, now);
}

bool
rc_bluegreen_warm_enough (const char *version, const char *warm_version, int64_t warm_until,
                          int64_t staged_at, int64_t now)
{
    if (!warm_version || !streq (version, warm_version))
        return false; /* stopped at keep_warm (or replaced) */
    if (warm_until > now + RC_BLUEGREEN_WARM_MARGIN_MS)
        return true;
    /* a keep_warm shorter than the margin: a slot staged a moment ago is
       as warm as it will ever be, and staging it again would not make it
       warmer (without this, such a fleet would restage for ever) */
    return warm_until > now && now - staged_at < RC_BLUEGREEN_WARM_MARGIN_MS;
}

/* Whether staged host h goes to the switch as it is (1), is staged again
   first (0); -1 on a store error. */
static int
s_warm_enough_of (rc_store_t *store, const rc_deployment_t *dep, const rc_dhost_t *h, int64_t now)
{
    char warm[RC_NAME_MAX + 1];
    int64_t until;
    if (s_warm_of (store, h->host_id, dep->app, warm, sizeof warm, &until) != 0)
        return -1;
    return rc_bluegreen_warm_enough (dep->version, warm, until, h->finished, now);
}

int
rc_bluegreen_restage_start (rc_store_t *store, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n,
                            rc_host_view_fn *view, void *arg, int *restaging, int64_t now)
{
    int rc = 0;
    *restaging = 0;
    char *names = NULL;
    for (size_t i = 0; i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        if (h->state != RC_HOST_STAGED)
            continue;
        int warm = s_warm_enough_of (store, dep, h, now);
        if (warm < 0)
            return -1;
        bool online = false, healthy = false;
        /* offline: the switch fails it (never switched blind); past the
           limit: the switch tries it as it is */
        if (warm || !view (arg, h->host_id, &online, &healthy) || !online)
            continue;
        if (h->step >= RC_BLUEGREEN_STAGES_MAX) {
            rc_log_warn_with (&(rc_log_fields_t){.deployment_id = dep->id, .host_id = h->host_id},
                              "deployment %s: %s staged %d times and cold again: not staged "
                              "again (is keep_warm shorter than a stage?)",
                              dep->id, h->host_id, h->step);
            continue;
        }
        rc_rollout_step_begin (h, now);
        h->action = ROLLCLONE__ACTION__ACTION_STAGE;
        rc_rollout_host_state (h, RC_HOST_UPDATING);
        rc |= rc_store_eventf (store, dep->id, h->host_id, "host_restaging",
                               "step %d: %s again on the idle slot, no traffic: its staged slot "
                               "is no longer warm (keep_warm passed while the deployment waited)",
                               h->step, dep->version);
        if (rc_join_append (&names, "%s%s", *restaging ? " " : "", h->host_id) != 0)
            rc = rc_store_set_error (store, "out of memory");
        (*restaging)++;
    }
    if (*restaging) {
        dep->bg_phase = RC_BG_RESTAGING;
        rc_log_info_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                          "deployment %s: staging %d host(s) again before the switch", dep->id,
                          *restaging);
        rc |= rc_store_eventf (store, dep->id, NULL, "restage_started",
                               "%d host(s) no longer warm, staged again before the switch: %s",
                               *restaging, names ? names : "");
    }
    free (names);
    return rc;
}

int
rc_bluegreen_warmth (rc_store_t *store, const rc_deployment_t *dep, int64_t now,
                     rc_bg_warmth_t *out)
{
    memset (out, 0, sizeof *out);
    /* one read for the fleet: status may ask for every deployment */
    sqlite3_stmt *stmt = rc_store_prepare (
        store,
        "SELECT coalesce(a.warm_version, ''), coalesce(a.warm_until, 0), d.finished "
        "FROM deployment_hosts d LEFT JOIN host_apps a ON a.host_id = d.host_id AND a.app = ?2 "
        "WHERE d.deployment_id = ?1 AND d.state = ?3",
        "ttt", dep->id, dep->app, rc_host_state_name (RC_HOST_STAGED));
    if (!stmt)
        return -1;
    int rc;
    while ((rc = rc_store_step (store, stmt)) == SQLITE_ROW) {
        int64_t until = sqlite3_column_int64 (stmt, 1);
        out->staged++;
        if (!rc_bluegreen_warm_enough (dep->version, (const char *)sqlite3_column_text (stmt, 0),
                                       until, sqlite3_column_int64 (stmt, 2), now))
            out->cold++;
        else if (!out->warm_until || until < out->warm_until)
            out->warm_until = until;
    }
    rc_store_finalize (store, stmt);
    return rc == SQLITE_DONE ? 0 : -1;
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
