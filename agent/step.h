/*  step.h - one update or rollback step of one app: a state machine over
    phases, driven by a table (phase -> start action, next phase on success,
    next on failure) and an iterative driver. Every phase is journaled
    before it starts; a step that fails after the switch switches back,
    restarts, checks health and undrains. The executor (executor.c) owns
    the steps, one per app at a time; it tells a step when something it
    waits for may have happened (rc_step_poll, when what rc_step_watch
    names is ready) and hears of its progress through one callback.

    The struct is shared by the machine (step.c) and the phase actions
    (phases.c), the two halves of one type; nothing else reads it. */
#ifndef AGENT_STEP_H
#define AGENT_STEP_H

#include "agent_defaults.h"
#include "child.h"
#include "fetch.h"
#include "health.h"
#include "journal.h"
#include "lb.h"
#include "rc_config.h"
#include "rollclone.pb-c.h"
#include "unpack.h"
#include "watch.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    RC_PHASE_NONE,
    /* forward: an update runs all, a rollback skips fetch, unpack, install */
    RC_PHASE_DRAIN,
    RC_PHASE_FETCH,
    RC_PHASE_UNPACK,
    RC_PHASE_INSTALL,
    RC_PHASE_SWITCH,
    RC_PHASE_RESTART,
    RC_PHASE_HEALTH,
    RC_PHASE_UNDRAIN,
    RC_PHASE_DONE,
    /* after a failure: before the switch, cleanup; after it, revert */
    RC_PHASE_CLEANUP,
    RC_PHASE_REVERT,
    RC_PHASE_REVERT_RESTART,
    RC_PHASE_REVERT_HEALTH,
    RC_PHASE_REVERT_UNDRAIN,
    RC_PHASE_FINISH,
    /* surge clones ([app] slots; step.c's second table): a rollback to the
       warm slot stops the slot it leaves; undoing a surge drains the new
       slot and stops it */
    RC_PHASE_STOP,
    RC_PHASE_REVERT_DRAIN,
    RC_PHASE_REVERT_STOP,
    RC_PHASE_COUNT
} rc_phase_t;

/* The phase's name (journal, reports, hook environment), or NULL when out
   of range. */
const char *rc_phase_name (rc_phase_t phase);
/* The phase named so, or RC_PHASE_COUNT when none is. */
rc_phase_t rc_phase_by_name (const char *name);

typedef struct _rc_step_t rc_step_t;

/* What a phase action says: done, failed (the step holds why: rc_step_fail),
   or waiting for a child, a download, an extraction or health checks. */
typedef enum {
    RC_STEP_OK,
    RC_STEP_FAIL,
    RC_STEP_WAIT,
} rc_step_outcome_t;

/* Called on entering each phase (result RUNNING) and once at the end with
   the final result, before the journal is cleared. */
typedef void (rc_step_report_fn) (rc_step_t *step, Rollclone__StepReport__Result result, void *arg);

typedef struct {
    const rc_app_config_t *cfg; /* the app, borrowed */
    rc_journal_t *journal;      /* borrowed */
    rc_step_report_fn *report;
    void *arg; /* for report */
} rc_step_env_t;

#define RC_STEP_MAX_TIMINGS 32
#define RC_STEP_ENV_VARS 11

struct _rc_step_t {
    rc_step_env_t env;
    char *id;        /* deployment id */
    uint32_t seq;    /* step number in the deployment */
    int action;      /* ROLLCLONE__ACTION__ACTION_UPDATE / ROLLBACK */
    char *version;   /* target release */
    char *previous;  /* live before the step, "" when none */
    char *artifact;  /* URL (update) */
    char *sha256;    /* expected checksum or "" */
    char *signature; /* .sig text carried in the instruction, or "" */
    int64_t soak_ms;
    int64_t health_timeout_ms;
    int64_t started_ms;   /* wall clock, for the journal */
    rc_phase_t phase;     /* running now */
    int64_t phase_start;  /* monotonic */
    bool drained;         /* drain ran (or may have): undrain owed */
    bool switched;        /* current may point at the target */
    bool placed;          /* releases/<version> was made by us */
    bool aside;           /* an older releases/<version> was moved aside */
    bool recovered;       /* rebuilt from the journal after a restart */
    bool failed;          /* a forward phase failed */
    bool dirty;           /* undoing failed too */
    bool finished;        /* final report sent: destroy at a safe point */
    bool running_due;     /* the entered phase's RUNNING report, sent once it waits (s_drive) */
    bool forward;         /* the phase being entered follows a success (s_drive) */
    unsigned journal_key; /* what recovery acts on, as of the last durable record; 0 = none */
    /* surge clones ([app] slots), 0 / false without */
    unsigned slot_from; /* the slot serving before the step, 0 = none */
    unsigned slot_to;   /* the slot the target runs on */
    bool offered;       /* the target's slot went into the LB: undoing drains it */
    bool warm_hit;      /* a rollback to the release still warm on slot_to */
    char *failed_phase;
    int exit_code;
    char *error;
    char *tail; /* last output of the failed hook */
    Rollclone__PhaseTiming timings[RC_STEP_MAX_TIMINGS];
    size_t timing_count;
    /* why the action that returned RC_STEP_FAIL failed (rc_step_fail) */
    int fail_code;
    char *fail_error;
    char *fail_tail;
    rc_child_t *child;       /* hook running */
    rc_fetch_t *fetch;       /* download running */
    rc_fetch_t *sigfetch;    /* download of URL.sig running */
    rc_unpack_t *unpack;     /* unpacking running */
    rc_health_t *health;     /* health check running */
    rc_lb_t *lb;             /* the app's load balancer provider's drain/undrain running */
    int64_t health_deadline; /* health phase fails here */
    int64_t healthy_since;   /* first pass of the current run of passes, 0 = none */
    int64_t next_check;      /* next health check start */
    int64_t check_gap;       /* until the first pass: the gap after the last check (ramp) */
    bool passed_once;        /* a check of this phase has passed: the gap is health_interval */
    char health_detail[RC_OUTPUT_TAIL_BYTES + 256];
    bool held;                         /* FAULT builds: the phase's end is held */
    int64_t hold_until;                /* until then (monotonic), 0 = not held yet */
    int lock_fd;                       /* the app's flock */
    char *env_store[RC_STEP_ENV_VARS]; /* "K=V" for hooks */
};

/* A step for instruction inst (already checked by the executor), holding
   the app's lock lock_fd (taken). Nothing runs until rc_step_begin. */
rc_step_t *rc_step_new (const rc_step_env_t *env, const Rollclone__Instruction *inst, int lock_fd);
/* The step in flight rebuilt from the app's journal after a crash, to be
   undone (or finished, when only the undrain of a healthy release was
   left) by rc_step_begin. NULL when there is no record; an unreadable one
   is removed (and NULL returned). */
rc_step_t *rc_step_recover (const rc_step_env_t *env, int lock_fd);
/* Runs the step as far as it goes without waiting. */
void rc_step_begin (rc_step_t *step);
/* Moves the step on when what it waits for has happened. */
void rc_step_poll (rc_step_t *step);
/* What the step waits for (nothing once finished). */
void rc_step_watch (rc_step_t *step, rc_watch_t *w);
/* True once the final report went out: destroy it at a safe point. */
bool rc_step_finished (rc_step_t *step);
/* Stops whatever runs (children killed) and frees; the journal stays. */
void rc_step_destroy (rc_step_t **self_p);

/* The step's report for result into r (fields borrowed from the step;
   timings, RC_STEP_MAX_TIMINGS of them, is r's storage). */
void rc_step_fill_report (rc_step_t *step, Rollclone__StepReport__Result result,
                          Rollclone__StepReport *r, Rollclone__PhaseTiming **timings);

/* ---- for the phase actions (phases.c) ---------------------------------- */

/* Records why the running action fails; it then returns RC_STEP_FAIL. */
rc_step_outcome_t rc_step_fail (rc_step_t *step, int exit_code, const char *error,
                                const char *tail);
/* True in the phases that undo a failed step. */
bool rc_step_reverting (rc_step_t *step);
/* Writes the step's record; a failure is logged, the step goes on. The
   record is made durable (rc_journal_write) unless the step moved forward
   and nothing recovery acts on changed since the last durable one: then
   recovery from that one does the same, and rc_journal_write_light saves
   the directory's fsync (after a power loss the step may be told as
   stopped in the phase before, and is undone or finished the same way). */
void rc_step_journal (rc_step_t *step);

/* The places of a step's files; see rc_step_path. */
typedef enum {
    RC_PATH_RELEASE,  /* releases/<version> */
    RC_PATH_INCOMING, /* the hidden working directory */
    RC_PATH_ARTIFACT, /* the download */
    RC_PATH_PART,     /* the half-unpacked release */
    RC_PATH_SIG,      /* the fetched signature */
    RC_PATH_OLD,      /* an older releases/<version> set aside */
} rc_step_path_t;
void rc_step_path (rc_step_t *step, rc_step_path_t kind, const char *version, char *buf,
                   size_t len);

/* The phase actions: each starts its phase (RC_STEP_WAIT: it goes on in
   rc_phase_poll). */
rc_step_outcome_t rc_phase_hook (rc_step_t *step, const char *hook);
/* Drain: the provider ([app] lb), then the drain hook. Undrain (forward or
   undoing): the undrain hook, then the provider. */
rc_step_outcome_t rc_phase_drain (rc_step_t *step);
rc_step_outcome_t rc_phase_undrain (rc_step_t *step);
rc_step_outcome_t rc_phase_fetch (rc_step_t *step);
rc_step_outcome_t rc_phase_unpack (rc_step_t *step);
rc_step_outcome_t rc_phase_switch (rc_step_t *step);
rc_step_outcome_t rc_phase_cleanup (rc_step_t *step);
rc_step_outcome_t rc_phase_revert (rc_step_t *step);
rc_step_outcome_t rc_phase_health (rc_step_t *step);
/* Surge clones: the end of a step that moved traffic: `current` follows
   the new serving slot, the one left is kept warm (or none is, when it was
   stopped), written to the slot state. */
rc_step_outcome_t rc_phase_settle (rc_step_t *step);
/* The slot the running phase acts on (0 without slots). */
unsigned rc_step_slot (rc_step_t *step);
/* Puts releases/ back as it was before an update placed anything. */
void rc_phase_undo_files (rc_step_t *step);
/* What the running phase waits for, looked at once: RC_STEP_WAIT while it
   has not ended. */
rc_step_outcome_t rc_phase_poll (rc_step_t *step);
/* What the running phase waits for. */
void rc_phase_watch (rc_step_t *step, rc_watch_t *w);
/* Stops what the phase runs. */
void rc_phase_stop (rc_step_t *step);

#endif
