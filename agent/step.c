/*  step.c - the machine of one step (step.h): the phase table and its
    driver. Each phase has a start action, a next phase on success and one
    on failure; a phase whose skip rule holds is passed over (fetch, unpack
    and install for a rollback, the revert's restart and health check when
    there was no release before, the undrain when drain never ran). The
    driver is a loop: an action that finishes at once moves the step on in
    the same loop, one that waits returns, and rc_step_poll resumes the loop
    when it ends. */
#include "step.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_text.h"
#include "rc_time.h"
#include "releases.h"
#include "slots.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef bool (s_skip_fn) (const rc_step_t *step);

/* Nothing to fetch or install: a rollback, or a switch to a staged slot
   (an update and a stage install). */
static bool
s_no_install (const rc_step_t *step)
{
    return step->action == ROLLCLONE__ACTION__ACTION_ROLLBACK
           || step->action == ROLLCLONE__ACTION__ACTION_SWITCH;
}

/* Blue-green's first half: the target runs on the idle slot, healthy,
   and traffic is not touched. */
static bool
s_staging (const rc_step_t *step)
{
    return step->action == ROLLCLONE__ACTION__ACTION_STAGE;
}

static bool
s_no_previous (const rc_step_t *step)
{
    return *step->previous == '\0';
}

static bool
s_not_drained (const rc_step_t *step)
{
    return !step->drained;
}

static bool
s_no_slot_from (const rc_step_t *step)
{
    return step->slot_from == 0 || s_staging (step);
}

static bool
s_warm_hit (const rc_step_t *step)
{
    return step->warm_hit;
}

/* Only a rollback to the warm slot stops the slot it leaves; a switch
   keeps it warm (blue-green switches back within keep_warm). */
static bool
s_keeps_old (const rc_step_t *step)
{
    return !step->warm_hit || step->action != ROLLCLONE__ACTION__ACTION_ROLLBACK;
}

static bool
s_not_offered (const rc_step_t *step)
{
    return !step->offered;
}

static bool
s_not_switched (const rc_step_t *step)
{
    return !step->switched;
}

typedef rc_step_outcome_t (s_action_fn) (rc_step_t *step);

static rc_step_outcome_t s_hook (rc_step_t *step);
static rc_step_outcome_t s_finish (rc_step_t *step);
static rc_step_outcome_t s_settle (rc_step_t *step);

typedef struct {
    const char *name;
    s_action_fn *start;    /* NULL: done at once */
    size_t hook;           /* with s_hook: the offset of the app's hook */
    rc_phase_t on_success; /* the next phase (unless it is skipped) */
    rc_phase_t on_failure; /* forward phases: undo; undoing phases: finish */
    s_skip_fn *skip;       /* NULL: never skipped */
    bool reverting;        /* undoes a failed step: failing here is dirty */
    bool drains;           /* entering it owes an undrain */
    bool switches;         /* entering it may change current (a slot's link) */
    bool offers;           /* entering it may put the target's slot into the LB */
    bool quiet;            /* no RUNNING report on entering it */
} s_phase_def_t;

/* Every field by name (clang's -Wmissing-field-initializers): unnamed ones
   are zero, false or NULL. */
#define S_HOOK(field) .start = s_hook, .hook = offsetof (rc_app_config_t, field)

/* Rows both tables (s_phases, s_surge_phases) have: the start, getting
   the release in place, and the end. */
#define S_ROW_NONE                                                                                 \
    [RC_PHASE_NONE] = {.name = "none",                                                             \
                       .on_success = RC_PHASE_FINISH,                                              \
                       .on_failure = RC_PHASE_FINISH,                                              \
                       .quiet = true}
#define S_ROWS_INSTALL                                                                             \
    [RC_PHASE_FETCH] = {.name = "fetch",                                                           \
                        .start = rc_phase_fetch,                                                   \
                        .on_success = RC_PHASE_UNPACK,                                             \
                        .on_failure = RC_PHASE_CLEANUP,                                            \
                        .skip = s_no_install},                                                     \
    [RC_PHASE_UNPACK] = {.name = "unpack",                                                         \
                         .start = rc_phase_unpack,                                                 \
                         .on_success = RC_PHASE_INSTALL,                                           \
                         .on_failure = RC_PHASE_CLEANUP,                                           \
                         .skip = s_no_install},                                                    \
    [RC_PHASE_INSTALL] = {.name = "install",                                                       \
                          S_HOOK (install),                                                        \
                          .on_success = RC_PHASE_SWITCH,                                           \
                          .on_failure = RC_PHASE_CLEANUP,                                          \
                          .skip = s_no_install}
#define S_ROW_FINISH                                                                               \
    [RC_PHASE_FINISH] = {.name = "finish",                                                         \
                         .start = s_finish,                                                        \
                         .on_success = RC_PHASE_FINISH,                                            \
                         .on_failure = RC_PHASE_FINISH,                                            \
                         .reverting = true,                                                        \
                         .quiet = true}
/* A phase the table never enters, named for the journal and reports. */
#define S_ROW_NAME(phase, text, undoes)                                                            \
    [phase] = {.name = text,                                                                       \
               .on_success = RC_PHASE_FINISH,                                                      \
               .on_failure = RC_PHASE_FINISH,                                                      \
               .reverting = undoes}

static const s_phase_def_t s_phases[RC_PHASE_COUNT] = {
    S_ROW_NONE,
    [RC_PHASE_DRAIN] = {.name = "drain",
                        .start = rc_phase_drain,
                        .on_success = RC_PHASE_FETCH,
                        .on_failure = RC_PHASE_CLEANUP,
                        .drains = true},
    S_ROWS_INSTALL,
    [RC_PHASE_SWITCH] = {.name = "switch",
                         .start = rc_phase_switch,
                         .on_success = RC_PHASE_RESTART,
                         .on_failure = RC_PHASE_REVERT,
                         .switches = true},
    [RC_PHASE_RESTART] = {.name = "restart",
                          S_HOOK (restart),
                          .on_success = RC_PHASE_HEALTH,
                          .on_failure = RC_PHASE_REVERT},
    [RC_PHASE_HEALTH] = {.name = "health",
                         .start = rc_phase_health,
                         .on_success = RC_PHASE_UNDRAIN,
                         .on_failure = RC_PHASE_REVERT},
    [RC_PHASE_UNDRAIN] = {.name = "undrain",
                          .start = rc_phase_undrain,
                          .on_success = RC_PHASE_DONE,
                          .on_failure = RC_PHASE_REVERT},
    [RC_PHASE_DONE] = {.name = "done",
                       .start = s_finish,
                       .on_success = RC_PHASE_FINISH,
                       .on_failure = RC_PHASE_FINISH,
                       .quiet = true},
    [RC_PHASE_CLEANUP] = {.name = "cleanup",
                          .start = rc_phase_cleanup,
                          .on_success = RC_PHASE_REVERT_UNDRAIN,
                          .on_failure = RC_PHASE_FINISH,
                          .reverting = true},
    [RC_PHASE_REVERT] = {.name = "revert",
                         .start = rc_phase_revert,
                         .on_success = RC_PHASE_REVERT_RESTART,
                         .on_failure = RC_PHASE_FINISH,
                         .reverting = true,
                         .switches = true},
    [RC_PHASE_REVERT_RESTART] = {.name = "revert-restart",
                                 S_HOOK (restart),
                                 .on_success = RC_PHASE_REVERT_HEALTH,
                                 .on_failure = RC_PHASE_FINISH,
                                 .skip = s_no_previous,
                                 .reverting = true},
    [RC_PHASE_REVERT_HEALTH] = {.name = "revert-health",
                                .start = rc_phase_health,
                                .on_success = RC_PHASE_REVERT_UNDRAIN,
                                .on_failure = RC_PHASE_FINISH,
                                .skip = s_no_previous,
                                .reverting = true},
    [RC_PHASE_REVERT_UNDRAIN] = {.name = "revert-undrain",
                                 .start = rc_phase_undrain,
                                 .on_success = RC_PHASE_FINISH,
                                 .on_failure = RC_PHASE_FINISH,
                                 .skip = s_not_drained,
                                 .reverting = true},
    S_ROW_FINISH,
    /* only apps with slots run these (s_surge_phases) */
    S_ROW_NAME (RC_PHASE_STOP, "stop", false),
    S_ROW_NAME (RC_PHASE_REVERT_DRAIN, "revert-drain", true),
    S_ROW_NAME (RC_PHASE_REVERT_STOP, "revert-stop", true),
};

/* Surge clones ([app] slots): the target starts on the idle slot beside
   the serving one, so traffic moves only once it is healthy: fetch,
   unpack, install, switch (the idle slot's link), restart and health on
   that slot, undrain it, drain the slot that served, and keep that one
   warm (done). A rollback to the release still warm on the idle slot
   skips the switch and the restart and stops the slot it leaves. Undoing
   puts the old slot back, drains the new one and stops it, then removes
   what the step placed; the old slot ran all along. Phase names and
   numbers are the same as in s_phases (the journal stores them). */
static const s_phase_def_t s_surge_phases[RC_PHASE_COUNT] = {
    S_ROW_NONE,
    S_ROWS_INSTALL,
    [RC_PHASE_SWITCH] = {.name = "switch",
                         .start = rc_phase_switch,
                         .on_success = RC_PHASE_RESTART,
                         .on_failure = RC_PHASE_REVERT_UNDRAIN,
                         .skip = s_warm_hit,
                         .switches = true},
    [RC_PHASE_RESTART] = {.name = "restart",
                          S_HOOK (restart),
                          .on_success = RC_PHASE_HEALTH,
                          .on_failure = RC_PHASE_REVERT_UNDRAIN,
                          .skip = s_warm_hit},
    [RC_PHASE_HEALTH] = {.name = "health",
                         .start = rc_phase_health,
                         .on_success = RC_PHASE_UNDRAIN,
                         .on_failure = RC_PHASE_REVERT_UNDRAIN},
    [RC_PHASE_UNDRAIN] = {.name = "undrain",
                          .start = rc_phase_undrain,
                          .on_success = RC_PHASE_DRAIN,
                          .on_failure = RC_PHASE_REVERT_UNDRAIN,
                          .skip = s_staging,
                          .offers = true},
    [RC_PHASE_DRAIN] = {.name = "drain",
                        .start = rc_phase_drain,
                        .on_success = RC_PHASE_STOP,
                        .on_failure = RC_PHASE_REVERT_UNDRAIN,
                        .skip = s_no_slot_from,
                        .drains = true},
    [RC_PHASE_STOP] = {.name = "stop",
                       S_HOOK (stop),
                       .on_success = RC_PHASE_DONE,
                       .on_failure = RC_PHASE_REVERT_UNDRAIN,
                       .skip = s_keeps_old},
    [RC_PHASE_DONE] = {.name = "done",
                       .start = s_settle,
                       .on_success = RC_PHASE_FINISH,
                       .on_failure = RC_PHASE_FINISH,
                       .quiet = true},
    /* before the switch nothing runs from the target: remove its files */
    [RC_PHASE_CLEANUP] = {.name = "cleanup",
                          .start = rc_phase_cleanup,
                          .on_success = RC_PHASE_FINISH,
                          .on_failure = RC_PHASE_FINISH,
                          .reverting = true},
    [RC_PHASE_REVERT_UNDRAIN] = {.name = "revert-undrain",
                                 .start = rc_phase_undrain,
                                 .on_success = RC_PHASE_REVERT_DRAIN,
                                 .on_failure = RC_PHASE_FINISH,
                                 .skip = s_not_drained,
                                 .reverting = true},
    [RC_PHASE_REVERT_DRAIN] = {.name = "revert-drain",
                               .start = rc_phase_drain,
                               .on_success = RC_PHASE_REVERT_STOP,
                               .on_failure = RC_PHASE_FINISH,
                               .skip = s_not_offered,
                               .reverting = true},
    [RC_PHASE_REVERT_STOP] = {.name = "revert-stop",
                              S_HOOK (stop),
                              .on_success = RC_PHASE_REVERT,
                              .on_failure = RC_PHASE_FINISH,
                              .skip = s_not_switched,
                              .reverting = true},
    [RC_PHASE_REVERT] = {.name = "revert",
                         .start = rc_phase_revert,
                         .on_success = RC_PHASE_FINISH,
                         .on_failure = RC_PHASE_FINISH,
                         .reverting = true},
    /* the old slot never stopped: nothing to restart */
    S_ROW_NAME (RC_PHASE_REVERT_RESTART, "revert-restart", true),
    S_ROW_NAME (RC_PHASE_REVERT_HEALTH, "revert-health", true),
    S_ROW_FINISH,
};

/* The table a step runs by: surge clones for an app with slots. */
static const s_phase_def_t *
s_table (const rc_step_t *step)
{
    return step->env.cfg->slot_count ? s_surge_phases : s_phases;
}

const char *
rc_phase_name (rc_phase_t phase)
{
    return phase < RC_PHASE_COUNT ? s_phases[phase].name : NULL;
}

rc_phase_t
rc_phase_by_name (const char *name)
{
    for (int i = 0; name && i < RC_PHASE_COUNT; i++)
        if (streq (name, s_phases[i].name))
            return (rc_phase_t)i;
    return RC_PHASE_COUNT;
}

static char *
s_strdup (const char *text)
{
    char *copy = strdup (text ? text : "");
    if (!copy)
        abort (); /* out of memory in the middle of a step: nothing safe to do */
    return copy;
}

static void
s_set (char **field, const char *value)
{
    free (*field);
    *field = s_strdup (value);
}

/* s_set for text from outside (hook output, health bodies, archive names):
   it ends up in the journal, in reports and on operators' terminals. */
static void
s_set_clean (char **field, const char *value, size_t max_bytes)
{
    free (*field);
    *field = rc_text_clean (value, value ? strlen (value) : 0, max_bytes);
    if (!*field)
        abort (); /* out of memory in the middle of a step: nothing safe to do */
}

bool
rc_step_reverting (rc_step_t *step)
{
    return step->phase < RC_PHASE_COUNT && s_table (step)[step->phase].reverting;
}

bool
rc_step_finished (rc_step_t *step)
{
    return step->finished;
}

rc_step_outcome_t
rc_step_fail (rc_step_t *step, int exit_code, const char *error, const char *tail)
{
    step->fail_code = exit_code;
    s_set (&step->fail_error, error);
    s_set (&step->fail_tail, tail);
    return RC_STEP_FAIL;
}

static rc_step_outcome_t
s_hook (rc_step_t *step)
{
    const char *const *hook =
        (const char *const *)((const char *)step->env.cfg + s_table (step)[step->phase].hook);
    return rc_phase_hook (step, *hook);
}

/* ---- journal ---------------------------------------------------------- */

/* The phases are numbered as StepRecord.Phase: the record stores them as is. */
_Static_assert(RC_PHASE_DRAIN == (int)ROLLCLONE__STEP_RECORD__PHASE__DRAIN
                   && RC_PHASE_DONE == (int)ROLLCLONE__STEP_RECORD__PHASE__DONE
                   && RC_PHASE_CLEANUP == (int)ROLLCLONE__STEP_RECORD__PHASE__CLEANUP
                   && RC_PHASE_REVERT_UNDRAIN == (int)ROLLCLONE__STEP_RECORD__PHASE__REVERT_UNDRAIN
                   && RC_PHASE_FINISH == (int)ROLLCLONE__STEP_RECORD__PHASE__FINISH
                   && RC_PHASE_STOP == (int)ROLLCLONE__STEP_RECORD__PHASE__STOP
                   && RC_PHASE_COUNT == (int)ROLLCLONE__STEP_RECORD__PHASE__REVERT_STOP + 1,
               "rc_phase_t and StepRecord.Phase differ");

/* What recovery (rc_step_begin) decides on: whether the step finishes or
   is undone, and what undoing it has to put back. Never 0. */
static unsigned
s_journal_key (const rc_step_t *step)
{
    bool finishing = step->phase == RC_PHASE_DONE || step->phase == RC_PHASE_FINISH
                     || (step->phase == RC_PHASE_UNDRAIN && !step->env.cfg->slot_count);
    return 1u | (unsigned)finishing << 1 | (unsigned)step->drained << 2
           | (unsigned)step->switched << 3 | (unsigned)step->placed << 4
           | (unsigned)step->aside << 5 | (unsigned)step->failed << 6 | (unsigned)step->dirty << 7
           | (unsigned)step->offered << 8;
}

void
rc_step_journal (rc_step_t *step)
{
    rc_journal_t *journal = step->env.journal;
    Rollclone__StepRecord rec = ROLLCLONE__STEP_RECORD__INIT;
    rec.deployment_id = step->id;
    rec.step = step->seq;
    rec.action = (Rollclone__Action)step->action;
    rec.app = (char *)step->env.cfg->name;
    rec.version = step->version;
    rec.previous = step->previous;
    rec.artifact = step->artifact;
    rec.sha256 = step->sha256;
    rec.soak_ms = step->soak_ms;
    rec.health_timeout_ms = step->health_timeout_ms;
    rec.started_ms = step->started_ms;
    rec.phase = (Rollclone__StepRecord__Phase)step->phase;
    rec.drained = step->drained;
    rec.switched = step->switched;
    rec.placed = step->placed;
    rec.aside = step->aside;
    rec.failed = step->failed;
    rec.dirty = step->dirty;
    rec.failed_phase = step->failed_phase ? step->failed_phase : "";
    rec.error = step->error ? step->error : "";
    rec.exit_code = step->exit_code;
    rec.slot_from = step->slot_from;
    rec.slot_to = step->slot_to;
    rec.offered = step->offered;
    rec.warm_hit = step->warm_hit;
    /* Not being able to journal is not a reason to stop half-way: the step
       goes on (finishing is safer than stopping) and the operator is told. */
    unsigned key = s_journal_key (step);
    bool light = step->forward && key == step->journal_key;
    int rc = light ? rc_journal_write_light (journal, step->env.cfg->name, &rec)
                   : rc_journal_write (journal, step->env.cfg->name, &rec);
    if (rc == 0 && !light)
        step->journal_key = key;
    if (rc != 0)
        rc_log_error ("%s: cannot journal step %s/%u: %s", __func__, step->id, step->seq,
                      rc_journal_errmsg (journal));
}

/* ---- reports ---------------------------------------------------------- */

void
rc_step_fill_report (rc_step_t *step, Rollclone__StepReport__Result result,
                     Rollclone__StepReport *r, Rollclone__PhaseTiming **timings)
{
    rollclone__step_report__init (r);
    for (size_t i = 0; i < step->timing_count; i++)
        timings[i] = &step->timings[i];
    r->deployment_id = step->id;
    r->step = step->seq;
    r->app = (char *)step->env.cfg->name;
    r->result = result;
    r->phase = (char *)rc_phase_name (step->phase);
    if (result != ROLLCLONE__STEP_REPORT__RESULT__RUNNING && step->failed_phase)
        r->phase = step->failed_phase;
    r->exit_code = step->exit_code;
    r->error = step->error ? step->error : "";
    r->output_tail = step->tail ? step->tail : "";
    r->timings = timings;
    r->n_timings = step->timing_count;
    r->previous_version = step->previous;
}

static void
s_report (rc_step_t *step, Rollclone__StepReport__Result result)
{
    step->env.report (step, result, step->env.arg);
}

/* ---- the driver --------------------------------------------------------- */

static rc_step_outcome_t
s_finish (rc_step_t *step)
{
    const rc_app_config_t *app = step->env.cfg;
    Rollclone__StepReport__Result result;
    if (!step->failed)
        result = ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED;
    else
        result = step->dirty ? ROLLCLONE__STEP_REPORT__RESULT__FAILED_DIRTY
                             : ROLLCLONE__STEP_REPORT__RESULT__FAILED;
    if (result == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED) {
        char path[PATH_MAX];
        rc_step_path (step, RC_PATH_OLD, step->version, path, sizeof path);
        rc_releases_remove_tree (path);
        rc_step_path (step, RC_PATH_INCOMING, NULL, path, sizeof path);
        rmdir (path);
        int pruned = rc_releases_prune (app->releases_dir, app->keep_releases);
        if (pruned > 0)
            rc_log_info ("app %s: pruned %d old release(s)", app->name, pruned);
    }
    s_report (step, result);
    rc_journal_clear (step->env.journal, app->name);
    rc_journal_unlock (&step->lock_fd);
    rc_log_info ("step %s/%u app %s %s %s: %s%s%s", step->id, step->seq, app->name,
                 step->action == ROLLCLONE__ACTION__ACTION_ROLLBACK ? "rollback to"
                 : step->action == ROLLCLONE__ACTION__ACTION_STAGE  ? "stage of"
                 : step->action == ROLLCLONE__ACTION__ACTION_SWITCH ? "switch to"
                                                                    : "update to",
                 step->version,
                 result == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED ? "succeeded"
                 : result == ROLLCLONE__STEP_REPORT__RESULT__FAILED  ? "failed, put back"
                                                                     : "failed, NOT put back",
                 step->error ? ": " : "", step->error ? step->error : "");
    step->finished = true;
    return RC_STEP_WAIT;
}

/* Surge clones: traffic moved (or, re-entered, already had): current and
   the slot state follow, then the final report. */
static rc_step_outcome_t
s_settle (rc_step_t *step)
{
    rc_step_outcome_t out = rc_phase_settle (step);
    return out == RC_STEP_OK ? s_finish (step) : out;
}

/* Enters phase: journal first, then the RUNNING report, then the action. */
static rc_step_outcome_t
s_enter (rc_step_t *step, rc_phase_t phase)
{
    const s_phase_def_t *def = &s_table (step)[phase];
    step->phase = phase;
    step->phase_start = rc_mono_ms ();
    if (def->drains)
        step->drained = true;
    if (def->switches)
        step->switched = true;
    if (def->offers)
        step->offered = true;
    rc_step_journal (step);
    step->running_due = !def->quiet;
    rc_log_debug ("step %s/%u app %s: %s", step->id, step->seq, step->env.cfg->name, def->name);
    return def->start ? def->start (step) : RC_STEP_OK;
}

static void
s_timing (rc_step_t *step)
{
    if (step->timing_count == RC_STEP_MAX_TIMINGS)
        return;
    Rollclone__PhaseTiming *t = &step->timings[step->timing_count++];
    rollclone__phase_timing__init (t);
    t->phase = (char *)rc_phase_name (step->phase);
    t->ms = (uint32_t)(rc_mono_ms () - step->phase_start);
}

/* The phase after a failure of the running one (whose why is in fail_*). */
static rc_phase_t
s_failed (rc_step_t *step)
{
    rc_phase_stop (step);
    const char *phase = rc_phase_name (step->phase);
    if (rc_step_reverting (step)) {
        /* undoing failed: the host is not where it was. Say so, and leave it
           drained: out of the load balancer is the safe place. */
        step->dirty = true;
        char *why = NULL;
        if (asprintf (&why, "%s; then %s failed: %s", step->error ? step->error : "", phase,
                      step->fail_error)
            < 0)
            abort ();
        s_set_clean (&step->error, why, 0);
        free (why);
        if (*step->fail_tail)
            s_set_clean (&step->tail, step->fail_tail, RC_OUTPUT_TAIL_BYTES);
    }
    else {
        step->failed = true;
        s_set (&step->failed_phase, phase);
        step->exit_code = step->fail_code;
        s_set_clean (&step->error, step->fail_error, 0);
        s_set_clean (&step->tail, step->fail_tail, RC_OUTPUT_TAIL_BYTES);
    }
    return s_table (step)[step->phase].on_failure;
}

/* phase, or the first after it whose skip rule does not hold. */
static rc_phase_t
s_unskipped (const rc_step_t *step, rc_phase_t phase)
{
    const s_phase_def_t *table = s_table (step);
    while (table[phase].skip && table[phase].skip (step))
        phase = table[phase].on_success;
    return phase;
}

#ifdef RC_FAULT_INJECTION
/* Test builds only (FAULT=1): the end of a phase is held open for the
   milliseconds in $RC_FAULT_HOLD_DIR/hold-<phase>-<version> (the step's
   target), journal written and the phase's work done, so a test can kill
   the agent inside phases that last a millisecond (unpack, switch).
   Waiting is a moment in the watch: the loop never blocks. */
static bool
s_hold (rc_step_t *step)
{
    if (!step->hold_until) {
        const char *dir = getenv ("RC_FAULT_HOLD_DIR");
        char path[PATH_MAX];
        long long ms = 0;
        FILE *file = NULL;
        if (dir && *dir
            && snprintf (path, sizeof path, "%s/hold-%s-%s", dir, rc_phase_name (step->phase),
                         step->version)
                   < (int)sizeof path)
            file = fopen (path, "r");
        if (file) {
            if (fscanf (file, "%lld", &ms) != 1)
                ms = 0;
            fclose (file);
        }
        step->hold_until = rc_mono_ms () + (ms > 0 ? ms : 0);
        if (ms > 0)
            rc_log_info ("step %s/%u app %s: %s held open for %lld ms (RC_FAULT_HOLD_DIR)",
                         step->id, step->seq, step->env.cfg->name, rc_phase_name (step->phase), ms);
    }
    step->held = rc_mono_ms () < step->hold_until;
    return step->held;
}
#else
static bool
s_hold (rc_step_t *step)
{
    (void)step;
    return false;
}
#endif

/* Runs the machine from the outcome of the running phase until a phase
   waits or the step has finished. */
static void
s_drive (rc_step_t *step, rc_step_outcome_t out)
{
    while (out != RC_STEP_WAIT && !step->finished) {
        if (out == RC_STEP_OK && s_hold (step))
            break; /* rc_step_poll goes on at hold_until */
        step->hold_until = 0;
        s_timing (step);
        rc_phase_t next =
            out == RC_STEP_OK ? s_table (step)[step->phase].on_success : s_failed (step);
        step->forward = out == RC_STEP_OK;
        out = s_enter (step, s_unskipped (step, next));
        step->forward = false;
    }
    /* A phase is told RUNNING once it waits: one that ended in the same
       turn (a phase without its hook, the switch) would be a report, and a
       write transaction at the coordinator, about a moment already past. */
    if (step->running_due && !step->finished) {
        step->running_due = false;
        s_report (step, ROLLCLONE__STEP_REPORT__RESULT__RUNNING);
    }
}

void
rc_step_watch (rc_step_t *step, rc_watch_t *w)
{
    if (step->held)
        rc_watch_at (w, step->hold_until);
    else if (!step->finished)
        rc_phase_watch (step, w);
}

void
rc_step_poll (rc_step_t *step)
{
    if (step->held)
        s_drive (step, RC_STEP_OK);
    else if (!step->finished)
        s_drive (step, rc_phase_poll (step));
}

/* ---- lifecycle ---------------------------------------------------------- */

static rc_step_t *
s_new (const rc_step_env_t *env, int lock_fd)
{
    rc_step_t *step = calloc (1, sizeof *step);
    if (!step)
        abort ();
    step->env = *env;
    step->lock_fd = lock_fd;
    step->started_ms = rc_now_ms ();
    step->phase_start = rc_mono_ms ();
    return step;
}

static int64_t
s_or_default (int64_t value, int64_t fallback)
{
    return value > 0 ? value : fallback;
}

rc_step_t *
rc_step_new (const rc_step_env_t *env, const Rollclone__Instruction *inst, int lock_fd)
{
    rc_step_t *step = s_new (env, lock_fd);
    step->id = s_strdup (inst->deployment_id);
    step->seq = inst->step;
    step->action = inst->action;
    step->version = s_strdup (inst->version);
    step->artifact = s_strdup (inst->artifact_url);
    step->sha256 = s_strdup (inst->sha256);
    step->signature = s_strdup (inst->signature);
    step->soak_ms = s_or_default (inst->soak_ms, RC_DEFAULT_SOAK_MS);
    step->health_timeout_ms = s_or_default (inst->health_timeout_ms, RC_DEFAULT_HEALTH_TIMEOUT_MS);
    char *current = rc_releases_current (env->cfg->releases_dir);
    step->previous = current ? current : s_strdup ("");
    step->phase = RC_PHASE_NONE;
    return step;
}

/* Fails the step before it did anything: straight to the final report. */
static void
s_refuse (rc_step_t *step, const char *why)
{
    step->failed = true;
    s_set (&step->failed_phase, "check");
    s_set (&step->error, why);
    s_drive (step, s_enter (step, RC_PHASE_FINISH));
}

void
rc_step_begin (rc_step_t *step)
{
    const rc_app_config_t *app = step->env.cfg;
    if (step->recovered) {
        rc_phase_t phase = step->phase;
        rc_phase_t start = phase;
        /* a surge interrupted before done is undone whole: the old slot
           still runs, so traffic goes back to it */
        bool finishing = phase == RC_PHASE_DONE || phase == RC_PHASE_FINISH
                         || (phase == RC_PHASE_UNDRAIN && !app->slot_count);
        if (!finishing) {
            if (!step->failed) {
                const char *name = rc_phase_name (phase) ? rc_phase_name (phase) : "?";
                char why[256];
                snprintf (why, sizeof why, "agent stopped during phase %s; step undone on restart",
                          name);
                step->failed = true;
                s_set (&step->failed_phase, name);
                s_set (&step->error, why);
            }
            if (app->slot_count)
                start = step->switched || step->offered || step->drained ? RC_PHASE_REVERT_UNDRAIN
                                                                         : RC_PHASE_CLEANUP;
            else
                start = step->switched ? RC_PHASE_REVERT : RC_PHASE_CLEANUP;
        }
        s_drive (step, s_enter (step, s_unskipped (step, start)));
        return;
    }
    if (mkdir (app->releases_dir, 0755) != 0 && errno != EEXIST) {
        char err[PATH_MAX + 64];
        snprintf (err, sizeof err, "releases_dir %s: %s", app->releases_dir, strerror (errno));
        s_refuse (step, err);
        return;
    }
    if (step->action == ROLLCLONE__ACTION__ACTION_ROLLBACK && !*step->version) {
        char *points[1];
        if (rc_releases_points (app->releases_dir, points, 1) == 1) {
            free (step->version);
            step->version = points[0];
        }
    }
    if (step->action == ROLLCLONE__ACTION__ACTION_ROLLBACK && !*step->version) {
        s_refuse (step, "no rollback point to go back to");
        return;
    }
    if (step->action == ROLLCLONE__ACTION__ACTION_ROLLBACK
        && !rc_releases_exists (app->releases_dir, step->version)) {
        s_refuse (step, "the target is not a rollback point of this app");
        return;
    }
    if (streq (step->version, step->previous)) {
        /* level-triggered: the desired state is already the state */
        s_set (&step->error, "");
        s_drive (step, s_enter (step, RC_PHASE_DONE));
        return;
    }
    if (app->slot_count) {
        /* the target goes onto the idle slot; a rollback to the release
           still warm there only moves traffic */
        rc_slots_t slots;
        rc_slots_load (step->env.journal, app->name, &slots);
        step->slot_from = slots.serving;
        step->slot_to = rc_slots_idle (&slots);
        step->warm_hit = step->action != ROLLCLONE__ACTION__ACTION_UPDATE
                         && rc_slots_warm (&slots, step->version, rc_now_ms ());
        if (step->action == ROLLCLONE__ACTION__ACTION_SWITCH && !step->warm_hit) {
            char why[RC_NAME_MAX + 128];
            snprintf (why, sizeof why, "%s is not staged on the idle slot (or keep_warm is over)",
                      step->version);
            s_refuse (step, why);
            return;
        }
        if (step->action == ROLLCLONE__ACTION__ACTION_STAGE && step->warm_hit) {
            s_set (&step->error, ""); /* staged already */
            s_drive (step, s_enter (step, RC_PHASE_DONE));
            return;
        }
        s_drive (step, s_enter (step, s_unskipped (step, RC_PHASE_FETCH)));
        return;
    }
    s_drive (step, s_enter (step, RC_PHASE_DRAIN));
}

rc_step_t *
rc_step_recover (const rc_step_env_t *env, int lock_fd)
{
    Rollclone__StepRecord *rec = rc_journal_read (env->journal, env->cfg->name);
    if (!rec) {
        /* refused (cut short, garbage): what the step did is unknown, and
           the record is no help in undoing it */
        if (*rc_journal_errmsg (env->journal)) {
            rc_log_error ("app %s: step journal %s: removing it", env->cfg->name,
                          rc_journal_errmsg (env->journal));
            rc_journal_clear (env->journal, env->cfg->name);
        }
        return NULL;
    }
    rc_step_t *step = s_new (env, lock_fd);
    step->recovered = true;
    step->id = s_strdup (rec->deployment_id);
    step->seq = rec->step;
    step->action = rec->action;
    step->version = s_strdup (rec->version);
    step->previous = s_strdup (rec->previous);
    step->artifact = s_strdup (rec->artifact);
    step->sha256 = s_strdup (rec->sha256);
    step->signature = s_strdup (""); /* a recovered step is undone, never verified */
    step->soak_ms = s_or_default (rec->soak_ms, RC_DEFAULT_SOAK_MS);
    step->health_timeout_ms = s_or_default (rec->health_timeout_ms, RC_DEFAULT_HEALTH_TIMEOUT_MS);
    step->started_ms = rec->started_ms;
    step->drained = rec->drained;
    step->switched = rec->switched;
    step->placed = rec->placed;
    step->aside = rec->aside;
    step->failed = rec->failed;
    step->dirty = rec->dirty;
    step->exit_code = rec->exit_code;
    step->slot_from = rec->slot_from <= RC_SLOTS_MAX ? rec->slot_from : 0;
    step->slot_to = rec->slot_to <= RC_SLOTS_MAX ? rec->slot_to : 0;
    step->offered = rec->offered;
    step->warm_hit = rec->warm_hit;
    if (*rec->failed_phase)
        step->failed_phase = s_strdup (rec->failed_phase);
    if (*rec->error)
        step->error = s_strdup (rec->error);
    step->phase = (rc_phase_t)rec->phase; /* in range: checked by the journal */
    rc_journal_record_free (&rec);
    /* a record we cannot make sense of is undone as far as it can be */
    if (!rc_name_valid (step->id) || !rc_name_valid (step->version)
        || (*step->previous && !rc_name_valid (step->previous))) {
        rc_log_error ("app %s: unreadable step journal: removing it", env->cfg->name);
        rc_journal_clear (env->journal, env->cfg->name);
        step->lock_fd = -1; /* the caller's still */
        rc_step_destroy (&step);
        return NULL;
    }
    bool finishing =
        (step->phase == RC_PHASE_UNDRAIN && !env->cfg->slot_count) || step->phase == RC_PHASE_DONE;
    rc_log_warn ("app %s: step %s/%u was interrupted in phase %s: %s", env->cfg->name, step->id,
                 step->seq, rc_phase_name (step->phase), finishing ? "finishing it" : "undoing it");
    return step;
}

void
rc_step_destroy (rc_step_t **self_p)
{
    rc_step_t *step = *self_p;
    if (!step)
        return;
    rc_phase_stop (step);
    rc_journal_unlock (&step->lock_fd);
    free (step->id);
    free (step->version);
    free (step->previous);
    free (step->artifact);
    free (step->sha256);
    free (step->signature);
    free (step->failed_phase);
    free (step->error);
    free (step->tail);
    free (step->fail_error);
    free (step->fail_tail);
    for (size_t i = 0; i < RC_STEP_ENV_VARS; i++)
        free (step->env_store[i]);
    free (step);
    *self_p = NULL;
}
