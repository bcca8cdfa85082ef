/*  report.h - what the executor tells about apps and steps, built in one
    place: an app's AppState (live release, rollback points, busy, last step
    finished), a StepReport packed for the pipe with its free text made safe,
    and the STATE answer (a Heartbeat of every app). */
#ifndef AGENT_REPORT_H
#define AGENT_REPORT_H

#include "journal.h"
#include "rc_config.h"
#include "rollclone.pb-c.h"

#include <czmq.h>
#include <stdbool.h>

/* The executor's view of one app, borrowed for the time of one call. */
typedef struct {
    const rc_app_config_t *cfg;
    bool busy;                /* a step runs for it */
    const char *last_id;      /* the last step finished: deployment id, or NULL */
    uint32_t last_step;       /* its step number */
    int last_result;          /* and its result (Rollclone__StepReport__Result) */
    unsigned slot;            /* surge clones: the serving slot, 0 none */
    const char *warm_version; /* the release warm on the other slot, "" or NULL none */
    int64_t warm_until_ms;    /* until then (wall clock) */
} rc_report_app_t;

/* Most rollback points an AppState carries. */
#define RC_REPORT_MAX_POINTS 256

/* Fills st for app; points (max of them) holds the rollback points, n gets
   their count. Free with rc_report_app_state_free. */
void rc_report_app_state (const rc_report_app_t *app, Rollclone__AppState *st, char **points,
                          size_t max, size_t *n);
void rc_report_app_state_free (Rollclone__AppState *st, char **points, size_t n);

/* r packed, with app's state (when app is not NULL) and version_now. Its
   free text (errors quote hook output and file names from archives) leaves
   as valid UTF-8 without terminal control characters: it ends up in JSON,
   in the coordinator's store and on operators' terminals. r is unchanged. */
zframe_t *rc_report_pack (const Rollclone__StepReport *r, const rc_report_app_t *app);

/* Packs r (rc_report_pack) and sends it on the executor's pipe as
   "REPORT" + frame; with journal, stores it first under its (deployment,
   step), so a repeated instruction gets the same answer. A report that
   could not be stored is still sent (and the failure logged). */
void rc_report_send (zsock_t *pipe, rc_journal_t *journal, const Rollclone__StepReport *r,
                     const rc_report_app_t *app);

/* The STATE answer: healthy and each of the n apps. */
zframe_t *rc_report_state (bool healthy, const rc_report_app_t *apps, size_t n);

void rc_report_test (bool verbose);

#endif
