/*  once.c - run-once step records and the choice of their host (once.h). */
#include "once.h"

#include <stdio.h>
#include <string.h>

static const char *const s_when_names[RC_ONCE_WHEN_COUNT] = {"before", "after"};
static const char *const s_state_names[RC_ONCE_STATE_COUNT] = {"", "pending", "running",
                                                               "succeeded", "failed"};

const char *
rc_once_when_name (rc_once_when_t when)
{
    return (unsigned)when < RC_ONCE_WHEN_COUNT ? s_when_names[when] : "?";
}

const char *
rc_once_state_name (rc_once_state_t state)
{
    return (unsigned)state < RC_ONCE_STATE_COUNT ? s_state_names[state] : "?";
}

uint32_t
rc_once_step (rc_once_when_t when)
{
    return RC_RUN_ONCE_STEP_BASE + 1 + (uint32_t)when;
}

int
rc_once_of_step (uint32_t step, rc_once_when_t *when)
{
    for (int w = 0; w < RC_ONCE_WHEN_COUNT; w++)
        if (step == rc_once_step ((rc_once_when_t)w)) {
            *when = (rc_once_when_t)w;
            return 0;
        }
    return -1;
}

int
rc_once_save (rc_store_t *store, const char *id, const rc_once_t *once)
{
    for (int w = 0; w < RC_ONCE_WHEN_COUNT; w++) {
        const rc_once_t *o = &once[w];
        if (o->state == RC_ONCE_NONE)
            continue;
        int rc = rc_store_run (
            store,
            rc_store_prepare (store,
                              "INSERT OR REPLACE INTO deployment_run_once (deployment_id, stage, "
                              "name, run_on, host_id, state, exit_code, output_tail, error, "
                              "started, finished) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                              "?10, ?11)",
                              "ttttttittii", id, s_when_names[w], o->name, o->run_on, o->host_id,
                              s_state_names[o->state], (int64_t)o->exit_code, o->output_tail,
                              o->error, o->started, o->finished));
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void
s_copy (char *dest, size_t size, sqlite3_stmt *stmt, int col)
{
    const unsigned char *text = sqlite3_column_text (stmt, col);
    snprintf (dest, size, "%s", text ? (const char *)text : "");
}

int
rc_once_load (rc_store_t *store, const char *id, rc_once_t *once)
{
    memset (once, 0, RC_ONCE_WHEN_COUNT * sizeof *once);
    sqlite3_stmt *stmt =
        rc_store_prepare (store,
                          "SELECT stage, name, run_on, host_id, state, exit_code, output_tail, "
                          "error, started, finished FROM deployment_run_once WHERE "
                          "deployment_id = ?1",
                          "t", id);
    if (!stmt)
        return -1;
    int rc;
    while ((rc = rc_store_step (store, stmt)) == SQLITE_ROW) {
        const char *stage = (const char *)sqlite3_column_text (stmt, 0);
        const char *state = (const char *)sqlite3_column_text (stmt, 4);
        int w = -1, s = -1;
        for (int i = 0; i < RC_ONCE_WHEN_COUNT; i++)
            if (stage && strcmp (stage, s_when_names[i]) == 0)
                w = i;
        for (int i = 1; i < RC_ONCE_STATE_COUNT; i++)
            if (state && strcmp (state, s_state_names[i]) == 0)
                s = i;
        if (w < 0 || s < 0) {
            /* a row of a newer rollclone, or written by hand: an error,
               never a guess (told before the statement's text goes) */
            rc_store_set_error (store,
                                "run-once row '%s' in state '%s' is not one this coordinator knows",
                                stage ? stage : "", state ? state : "");
            rc_store_finalize (store, stmt);
            return -1;
        }
        rc_once_t *o = &once[w];
        o->state = (rc_once_state_t)s;
        s_copy (o->name, sizeof o->name, stmt, 1);
        s_copy (o->run_on, sizeof o->run_on, stmt, 2);
        s_copy (o->host_id, sizeof o->host_id, stmt, 3);
        o->exit_code = sqlite3_column_int (stmt, 5);
        s_copy (o->output_tail, sizeof o->output_tail, stmt, 6);
        s_copy (o->error, sizeof o->error, stmt, 7);
        o->started = sqlite3_column_int64 (stmt, 8);
        o->finished = sqlite3_column_int64 (stmt, 9);
    }
    rc_store_finalize (store, stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
rc_once_pick (const char *run_on, const rc_once_host_t *hosts, size_t n, char *err, size_t errlen)
{
    if (run_on && *run_on) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp (hosts[i].host_id, run_on) != 0)
                continue;
            if (!hosts[i].online)
                snprintf (err, errlen, "--run-on host %s is offline", run_on);
            else if (!hosts[i].healthy)
                snprintf (err, errlen, "--run-on host %s is unhealthy", run_on);
            else
                return (int)i;
            return -1;
        }
        snprintf (err, errlen, "--run-on host %s is not in the deployment's selection", run_on);
        return -1;
    }
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++)
            if (hosts[i].online && hosts[i].healthy && (pass == 1 || hosts[i].preferred))
                return (int)i;
    snprintf (err, errlen, "no online, healthy host in the selection (%zu host(s)) to run it", n);
    return -1;
}
