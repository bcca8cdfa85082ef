/*  run_once.h - the executor's run-once steps (deploy --before/--after):
    an instruction ACTION_RUN_ONCE names one of the app's own run_once_NAME
    commands, which runs once like a hook (the app's user, hook_timeout,
    its own process group) and changes no release. Its final report is kept
    by (deployment, step) like every step's, so a re-published instruction
    is answered, never run again; and before the command starts, a FAILED
    report saying the agent stopped is kept in its place, so an agent that
    dies mid-run answers that after its restart instead of running it a
    second time. */
#ifndef AGENT_RUN_ONCE_H
#define AGENT_RUN_ONCE_H

#include "journal.h"
#include "rc_config.h"
#include "rollclone.pb-c.h"
#include "watch.h"

#include <czmq.h>

typedef struct _rc_run_once_t rc_run_once_t;

/* journal and pipe are borrowed: REPORTs go out on pipe as the executor's. */
rc_run_once_t *rc_run_once_new (rc_journal_t *journal, zsock_t *pipe);
/* Kills what still runs; its kept report says the agent stopped. */
void rc_run_once_destroy (rc_run_once_t **self_p);

/* A checked ACTION_RUN_ONCE instruction for app cfg: answered from the
   kept report, ignored while it runs, else started (or failed at once:
   no run_once_NAME in [app NAME], a start that failed). */
void rc_run_once_handle (rc_run_once_t *self, const Rollclone__Instruction *inst,
                         const rc_app_config_t *cfg);
/* Reads output, enforces timeouts, reports what ended. */
void rc_run_once_poll (rc_run_once_t *self);
/* What the running commands wait for. */
void rc_run_once_watch (rc_run_once_t *self, rc_watch_t *w);
/* Is a report of this step one of a run-once step (not a release's)? */
bool rc_run_once_step (uint32_t step);

void rc_run_once_test (bool verbose);

#endif
