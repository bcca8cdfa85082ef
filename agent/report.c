/*  report.c - the executor's messages about apps and steps (report.h). */
#include "report.h"
#include "agent_defaults.h"
#include "rc_log.h"
#include "rc_text.h"
#include "releases.h"

#include <stdlib.h>
#include <string.h>

static char *
s_clean (const char *text, size_t max_bytes)
{
    char *copy = rc_text_clean (text, text ? strlen (text) : 0, max_bytes);
    if (!copy)
        abort (); /* out of memory in the middle of a step: nothing safe to do */
    return copy;
}

void
rc_report_app_state (const rc_report_app_t *app, Rollclone__AppState *st, char **points, size_t max,
                     size_t *n)
{
    rollclone__app_state__init (st);
    st->app = app->cfg->name;
    char *current = rc_releases_current (app->cfg->releases_dir);
    st->current = current ? current : s_clean ("", 0);
    *n = rc_releases_points (app->cfg->releases_dir, points, max);
    st->rollback_points = points;
    st->n_rollback_points = *n;
    st->busy = app->busy;
    st->last_deployment_id = app->last_id ? (char *)app->last_id : "";
    st->last_step = app->last_step;
    st->last_result = (Rollclone__StepReport__Result)app->last_result;
    if (app->cfg->slot_count && app->slot >= 1 && app->slot <= app->cfg->slot_count) {
        st->slot = app->slot;
        st->slot_port = app->cfg->slot_ports[app->slot - 1];
    }
    if (app->cfg->slot_count && app->warm_version && *app->warm_version) {
        st->warm_version = (char *)app->warm_version;
        st->warm_until_ms = app->warm_until_ms;
    }
}

void
rc_report_app_state_free (Rollclone__AppState *st, char **points, size_t n)
{
    free (st->current);
    for (size_t i = 0; i < n; i++)
        free (points[i]);
}

zframe_t *
rc_report_pack (const Rollclone__StepReport *r, const rc_report_app_t *app)
{
    Rollclone__StepReport copy = *r;
    Rollclone__AppState st;
    char *points[RC_REPORT_MAX_POINTS];
    size_t n = 0;
    if (app) {
        rc_report_app_state (app, &st, points, RC_REPORT_MAX_POINTS, &n);
        copy.app_state = &st;
        copy.version_now = st.current;
    }
    copy.error = s_clean (r->error, 0);
    copy.output_tail = s_clean (r->output_tail, RC_OUTPUT_TAIL_BYTES);
    copy.app = s_clean (r->app, 0);
    copy.deployment_id = s_clean (r->deployment_id, 0);
    zframe_t *frame = zframe_new (NULL, rollclone__step_report__get_packed_size (&copy));
    if (!frame)
        abort ();
    rollclone__step_report__pack (&copy, zframe_data (frame));
    if (app)
        rc_report_app_state_free (&st, points, n);
    free (copy.error);
    free (copy.output_tail);
    free (copy.app);
    free (copy.deployment_id);
    return frame;
}

void
rc_report_send (zsock_t *pipe, rc_journal_t *journal, const Rollclone__StepReport *r,
                const rc_report_app_t *app)
{
    zframe_t *frame = rc_report_pack (r, app);
    if (journal
        && rc_journal_store_report (journal, r->deployment_id, r->step, zframe_data (frame),
                                    zframe_size (frame))
               != 0)
        rc_log_warn ("store report: %s", rc_journal_errmsg (journal));
    zstr_sendm (pipe, "REPORT");
    zframe_send (&frame, pipe, 0);
}

zframe_t *
rc_report_state (bool healthy, const rc_report_app_t *apps, size_t n)
{
    Rollclone__Heartbeat hb = ROLLCLONE__HEARTBEAT__INIT;
    Rollclone__AppState *states = calloc (n ? n : 1, sizeof *states);
    Rollclone__AppState **ptrs = calloc (n ? n : 1, sizeof *ptrs);
    char **points = calloc ((n ? n : 1) * RC_REPORT_MAX_POINTS, sizeof *points);
    size_t *counts = calloc (n ? n : 1, sizeof *counts);
    if (!states || !ptrs || !points || !counts)
        abort ();
    for (size_t i = 0; i < n; i++) {
        rc_report_app_state (&apps[i], &states[i], points + i * RC_REPORT_MAX_POINTS,
                             RC_REPORT_MAX_POINTS, &counts[i]);
        ptrs[i] = &states[i];
    }
    hb.healthy = healthy;
    hb.n_apps = n;
    hb.apps = ptrs;
    zframe_t *frame = zframe_new (NULL, rollclone__heartbeat__get_packed_size (&hb));
    if (!frame)
        abort ();
    rollclone__heartbeat__pack (&hb, zframe_data (frame));
    for (size_t i = 0; i < n; i++)
        rc_report_app_state_free (&states[i], points + i * RC_REPORT_MAX_POINTS, counts[i]);
    free (states);
    free (ptrs);
    free (points);
    free (counts);
    return frame;
}
