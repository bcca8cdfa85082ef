/*  executor.h - the agent's executor actor: runs update and rollback steps for
    the apps of the agent's config (and, for apps with slots, stage and
    switch), one step per app at a time, the idle self health checks, and
    the stop hook of a slot whose keep_warm is over. It is the same code
    path for an instruction from the coordinator and for
    `rollclone-agent apply|rollback`.

    Pipe protocol (multipart messages, strings unless said otherwise):
      -> "STEP", <packed Rollclone__Instruction>
             Start a step. A (deployment_id, step) that already finished is not
             run again: its stored final report is sent again instead. One that
             is running is ignored. A bad instruction (unknown app, bad
             version, ...) is answered at once with a FAILED report.
      <- "REPORT", <packed Rollclone__StepReport>
             Progress (result RUNNING, phase set) and, last, the final result.
      -> "STATE"
      <- "STATE", <packed Rollclone__Heartbeat>
             Synchronous: healthy flag and per-app AppState (current version,
             rollback points newest first, busy; with [app] slots the
             serving slot and its port, the release warm on the other slot
             and until when).
      <- "HEALTH", "1" | "0"
             Sent when the host's idle health changes: an app changes state
             only after health_rise passing (health_fall failing) idle
             checks in a row.
    Text in reports (errors, hook output) is valid UTF-8 without terminal
    control characters (rc_text_clean).
    The actor recovers an in-flight step from state_dir when it starts (see
    DESIGN.md: crash safety) and emits the final REPORT of that step. */
#ifndef AGENT_EXECUTOR_H
#define AGENT_EXECUTOR_H

#include "rc_config.h"
#include <czmq.h>

/* cfg is borrowed and must outlive the actor. NULL, with the reason in
   err, when the executor cannot work (state_dir unusable). Steps are
   instructions from a coordinator: checked against each app's
   artifact_sources (agent/trust.h), sha256 required. */
zactor_t *rc_executor_new (const rc_config_t *cfg, char *err, size_t errlen);
/* The same for the local operator (`rollclone-agent apply`): any artifact
   URL and no sha256 needed; trusted_signers still applies. Which one a step
   gets is fixed when the executor is made, never by a message. */
zactor_t *rc_executor_new_local (const rc_config_t *cfg, char *err, size_t errlen);

void rc_executor_test (bool verbose);

#endif
