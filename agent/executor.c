/*  executor.c - the agent's executor actor: it owns the apps, at most one
    step per app (step.h runs it), the apps' locks, the pending instruction
    of a busy app, and the idle self health checks. Every step's progress
    leaves through its pipe as REPORTs (built by report.c); the pipe is
    always read promptly, STATE never waits for a step. The loop sleeps
    until a descriptor something waits on is ready or the earliest moment
    anything has to be looked at comes (watch.h): an idle executor whose
    apps have no health check never wakes up. */
#include "executor.h"
#include "agent_defaults.h"
#include "fetch.h"
#include "health.h"
#include "journal.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_signature.h"
#include "rc_time.h"
#include "releases.h"
#include "report.h"
#include "slots.h"
#include "rollclone.pb-c.h"
#include "run_once.h"
#include "step.h"
#include "trust.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct _s_self_t s_self_t;

typedef struct {
    s_self_t *self;
    const rc_app_config_t *cfg; /* borrowed from the config */
    rc_step_t *step;            /* running step, or NULL */
    zframe_t *pending;          /* packed instruction waiting for the app */
    bool wait_reported;         /* told the pending one waits for the lock */
    rc_health_t *idle_check;    /* self health check running */
    int64_t next_idle;          /* next self health check */
    int idle_healthy;           /* -1 unknown, 0, 1 */
    int idle_run;               /* results in a row against idle_healthy */
    char *last_id;              /* the last step finished: deployment id, */
    uint32_t last_step;         /* its step number */
    int last_result;            /* and its result, told in hello/heartbeats */
    /* surge clones ([app] slots) */
    rc_slots_t slots;                  /* serving slot, release warm on the other */
    int64_t warm_at;                   /* monotonic: its stop hook runs then, or never */
    rc_child_t *stopper;               /* that stop hook, running */
    int stop_lock;                     /* the app's lock while it runs, or -1 */
    char *stop_env[RC_SLOTS_STOP_ENV]; /* its environment */
} s_app_t;

struct _s_self_t {
    const rc_config_t *cfg; /* borrowed */
    zsock_t *pipe;          /* to the actor's owner */
    zloop_t *loop;
    rc_watch_t polled; /* the descriptors registered with loop now */
    int timer_id;      /* the one-shot timer for the earliest moment, or -1 */
    int64_t timer_at;  /* its moment (monotonic ms), or RC_WATCH_NEVER */
    rc_journal_t *journal;
    s_app_t *apps;
    size_t app_count;
    bool healthy;            /* last HEALTH state announced */
    bool local;              /* steps come from the local operator (apply), not a coordinator */
    rc_run_once_t *run_once; /* the run-once steps (deploy --before/--after) */
};

/* ---- reports ---------------------------------------------------------- */

static rc_report_app_t
s_view (s_app_t *a)
{
    rc_report_app_t view = {.cfg = a->cfg,
                            .busy = a->step != NULL || a->stopper != NULL,
                            .last_id = a->last_id,
                            .last_step = a->last_step,
                            .last_result = a->last_result,
                            .slot = a->slots.serving,
                            .warm_version = a->slots.warm_version,
                            .warm_until_ms = a->slots.warm_until_ms};
    return view;
}

/* ---- surge clones: the warm slot ----------------------------------------- */

/* (Re)reads the app's slot state: at start and after each step. */
static void
s_slots_load (s_app_t *a)
{
    a->warm_at = RC_WATCH_NEVER;
    if (!a->cfg->slot_count)
        return;
    rc_slots_load (a->self->journal, a->cfg->name, &a->slots);
    a->warm_at = rc_slots_warm_at (&a->slots, a->cfg->keep_warm_ms, rc_now_ms (), rc_mono_ms ());
}

/* keep_warm is over: the stop hook of the warm slot runs (under the app's
   lock, as a step would), then the slot state says nothing is warm. An
   agent stopped meanwhile finds the release still warm and past its time
   at the next start, and stops it then. */
static void
s_warm_turn (s_app_t *a)
{
    if (a->stopper) {
        if (!rc_child_poll (a->stopper))
            return;
        int code = rc_child_exit_code (a->stopper);
        if (code != 0 || rc_child_timed_out (a->stopper))
            rc_log_error ("app %s: stop hook of slot %u (%s) failed (status %d): %s", a->cfg->name,
                          rc_slots_idle (&a->slots), a->slots.warm_version, code,
                          rc_child_output (a->stopper));
        else
            rc_log_info ("app %s: slot %u (%s) stopped after keep_warm", a->cfg->name,
                         rc_slots_idle (&a->slots), a->slots.warm_version);
        rc_child_destroy (&a->stopper);
        rc_slots_env_free (a->stop_env, RC_SLOTS_STOP_ENV);
        a->slots.warm_version[0] = '\0';
        a->slots.warm_until_ms = 0;
        rc_slots_save (a->self->journal, a->cfg->name, &a->slots);
        rc_journal_unlock (&a->stop_lock);
        a->warm_at = RC_WATCH_NEVER;
        return;
    }
    if (a->step || a->warm_at == RC_WATCH_NEVER || rc_mono_ms () < a->warm_at)
        return;
    int fd = rc_journal_lock (a->self->journal, a->cfg->name);
    if (fd < 0) {
        a->warm_at = rc_mono_ms () + RC_EXEC_LOCK_RETRY_MS; /* a step elsewhere: later */
        return;
    }
    /* what another process did meanwhile counts */
    rc_slots_load (a->self->journal, a->cfg->name, &a->slots);
    if (!*a->slots.warm_version || !a->cfg->stop || !*a->cfg->stop) {
        if (*a->slots.warm_version) {
            a->slots.warm_version[0] = '\0';
            rc_slots_save (a->self->journal, a->cfg->name, &a->slots);
        }
        rc_journal_unlock (&fd);
        a->warm_at = RC_WATCH_NEVER;
        return;
    }
    char err[512];
    a->stopper = rc_slots_stop_start (a->cfg, &a->slots, a->stop_env, err, sizeof err);
    if (!a->stopper) {
        rc_log_error ("app %s: cannot run the stop hook: %s", a->cfg->name, err);
        rc_slots_env_free (a->stop_env, RC_SLOTS_STOP_ENV);
        rc_journal_unlock (&fd);
        a->warm_at = rc_mono_ms () + a->cfg->hook_timeout_ms; /* try again */
        return;
    }
    a->stop_lock = fd;
    rc_log_info ("app %s: keep_warm over: stopping slot %u (%s)", a->cfg->name,
                 rc_slots_idle (&a->slots), a->slots.warm_version);
}

/* Remembers the last step finished for app, for hello and heartbeats. */
static void
s_app_last (s_app_t *a, const char *id, uint32_t step, int result)
{
    free (a->last_id);
    a->last_id = strdup (id);
    if (!a->last_id)
        abort ();
    a->last_step = step;
    a->last_result = result;
}

static bool
s_report_of_app (zframe_t *frame, void *arg)
{
    Rollclone__StepReport *r =
        rollclone__step_report__unpack (NULL, zframe_size (frame), zframe_data (frame));
    /* a run-once step changes no release: not the app's last step */
    bool match = r && streq (r->app, (const char *)arg) && rc_name_valid (r->deployment_id)
                 && !rc_run_once_step (r->step);
    rollclone__step_report__free_unpacked (r, NULL);
    return match;
}

/* At start: the last step of app from the stored reports. */
static void
s_app_last_load (s_app_t *a)
{
    zframe_t *frame =
        rc_journal_newest_report (a->self->journal, s_report_of_app, (void *)a->cfg->name);
    if (!frame)
        return;
    Rollclone__StepReport *r =
        rollclone__step_report__unpack (NULL, zframe_size (frame), zframe_data (frame));
    if (r)
        s_app_last (a, r->deployment_id, r->step, r->result);
    rollclone__step_report__free_unpacked (r, NULL);
    zframe_destroy (&frame);
}

/* Sends a REPORT; with store, also keeps it as the step's final report. */
static void
s_send_report (s_self_t *self, s_app_t *a, Rollclone__StepReport *r, bool store)
{
    /* first: the app state sent with it names this step as the last */
    if (a && store && r->result != ROLLCLONE__STEP_REPORT__RESULT__RUNNING)
        s_app_last (a, r->deployment_id, r->step, r->result);
    rc_report_app_t view;
    if (a)
        view = s_view (a);
    rc_report_send (self->pipe, store ? self->journal : NULL, r, a ? &view : NULL);
}

/* A FAILED answer to an instruction that never became a step. */
static void
s_refuse (s_self_t *self, const Rollclone__Instruction *inst, s_app_t *a, const char *error)
{
    Rollclone__StepReport r = ROLLCLONE__STEP_REPORT__INIT;
    r.deployment_id = inst->deployment_id;
    r.step = inst->step;
    r.app = inst->app;
    r.result = ROLLCLONE__STEP_REPORT__RESULT__FAILED;
    r.phase = "check";
    r.error = (char *)error;
    rc_log_warn ("step %s/%u for app '%s' refused: %s", inst->deployment_id, inst->step, inst->app,
                 error);
    s_send_report (self, a, &r, false);
}

/* The steps' one callback: progress and the final result of app arg's step. */
static void
s_on_step_report (rc_step_t *step, Rollclone__StepReport__Result result, void *arg)
{
    s_app_t *a = arg;
    bool final = result != ROLLCLONE__STEP_REPORT__RESULT__RUNNING;
    if (final) {
        if (result == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED)
            a->idle_healthy = 1;
        else if (result == ROLLCLONE__STEP_REPORT__RESULT__FAILED_DIRTY)
            a->idle_healthy = 0;
        /* the step's own health checks decided: the idle ones start afresh */
        a->idle_run = 0;
        a->next_idle = rc_mono_ms () + a->cfg->health_interval_ms;
        s_slots_load (a); /* the final report tells where traffic is now */
    }
    Rollclone__StepReport r;
    Rollclone__PhaseTiming *timings[RC_STEP_MAX_TIMINGS];
    rc_step_fill_report (step, result, &r, timings);
    s_send_report (a->self, a, &r, final);
}

/* ---- starting steps ---------------------------------------------------- */

static rc_step_env_t
s_step_env (s_app_t *a)
{
    rc_step_env_t env = {
        .cfg = a->cfg, .journal = a->self->journal, .report = s_on_step_report, .arg = a};
    return env;
}

/* Makes step the app's running one and runs it as far as it goes. */
static void
s_begin (s_app_t *a, rc_step_t *step)
{
    a->step = step;
    /* a self health check of this app would race the step */
    rc_health_destroy (&a->idle_check);
    rc_step_begin (step);
}

/* Undoes the app's step left by a process that died, when there is one;
   lock_fd is the app's lock, taken. True when a step took it. */
static bool
s_recover (s_app_t *a, int lock_fd)
{
    rc_step_env_t env = s_step_env (a);
    rc_step_t *step = rc_step_recover (&env, lock_fd);
    if (!step)
        return false;
    s_begin (a, step);
    return true;
}

/* Checks an instruction from outside. Returns NULL or why it is refused. */
static const char *
s_check (s_self_t *self, const Rollclone__Instruction *inst, s_app_t **app_p, char *err,
         size_t errlen)
{
    *app_p = NULL;
    for (size_t i = 0; i < self->app_count; i++)
        if (streq (self->apps[i].cfg->name, inst->app))
            *app_p = &self->apps[i];
    if (!rc_name_valid (inst->deployment_id))
        snprintf (err, errlen, "deployment id '%.80s' is not valid", inst->deployment_id);
    else if (!*app_p)
        snprintf (err, errlen, "app '%.80s' is not configured on this host", inst->app);
    else if ((inst->action == ROLLCLONE__ACTION__ACTION_STAGE
              || inst->action == ROLLCLONE__ACTION__ACTION_SWITCH)
             && !(*app_p)->cfg->slot_count)
        snprintf (err, errlen, "app '%.80s' has no slots: blue-green needs [app] slots", inst->app);
    else if (inst->action == ROLLCLONE__ACTION__ACTION_UPDATE
             || inst->action == ROLLCLONE__ACTION__ACTION_STAGE) {
        if (!rc_name_valid (inst->version))
            snprintf (err, errlen, "version '%.80s' is not valid", inst->version);
        else if (rc_fetch_check (inst->artifact_url, inst->sha256, err, errlen) != 0)
            return err;
        /* the local operator may name any artifact; a coordinator only
           what the app's own config allows */
        else if (!self->local
                 && rc_trust_check_source ((*app_p)->cfg, inst->artifact_url, inst->sha256, err,
                                           errlen)
                        != 0)
            return err;
        else if (strlen (inst->signature) > RC_SIGNATURE_FILE_MAX)
            snprintf (err, errlen, "signature: larger than %d bytes", RC_SIGNATURE_FILE_MAX);
        else
            return NULL;
    }
    else if (inst->action == ROLLCLONE__ACTION__ACTION_SWITCH) {
        if (!rc_name_valid (inst->version))
            snprintf (err, errlen, "version '%.80s' is not valid", inst->version);
        else
            return NULL;
    }
    else if (inst->action == ROLLCLONE__ACTION__ACTION_ROLLBACK) {
        if (*inst->version && !rc_name_valid (inst->version))
            snprintf (err, errlen, "version '%.80s' is not valid", inst->version);
        else
            return NULL;
    }
    else if (inst->action == ROLLCLONE__ACTION__ACTION_RUN_ONCE && !self->local) {
        if (*inst->version && !rc_name_valid (inst->version))
            snprintf (err, errlen, "version '%.80s' is not valid", inst->version);
        else if (!rc_run_once_name_valid (inst->run_once) || !rc_run_once_step (inst->step))
            snprintf (err, errlen, "run-once '%.80s' (step %u) is not valid", inst->run_once,
                      inst->step);
        else
            return NULL;
    }
    else
        snprintf (err, errlen, "action %d is not update, rollback, stage or switch", inst->action);
    return err;
}

/* Starts the app's pending instruction when the app is free. */
static void
s_try_pending (s_app_t *a)
{
    s_self_t *self = a->self;
    if (a->step || a->stopper || !a->pending)
        return;
    int fd = rc_journal_lock (self->journal, a->cfg->name);
    if (fd < 0) {
        if (!a->wait_reported) {
            Rollclone__Instruction *inst = rollclone__instruction__unpack (
                NULL, zframe_size (a->pending), zframe_data (a->pending));
            if (inst) {
                Rollclone__StepReport r = ROLLCLONE__STEP_REPORT__INIT;
                r.deployment_id = inst->deployment_id;
                r.step = inst->step;
                r.app = inst->app;
                r.phase = "wait-lock";
                r.error = "another process runs a step for this app: waiting";
                s_send_report (self, a, &r, false);
                rollclone__instruction__free_unpacked (inst, NULL);
            }
            a->wait_reported = true;
        }
        return;
    }
    /* we hold the lock: a journal left now is from a process that died */
    if (s_recover (a, fd))
        return;
    zframe_t *frame = a->pending;
    a->pending = NULL;
    a->wait_reported = false;
    Rollclone__Instruction *inst =
        rollclone__instruction__unpack (NULL, zframe_size (frame), zframe_data (frame));
    zframe_destroy (&frame);
    if (!inst) {
        rc_journal_unlock (&fd);
        return;
    }
    /* finished meanwhile by the process that held the lock? */
    zframe_t *stored = rc_journal_find_report (self->journal, inst->deployment_id, inst->step);
    if (stored) {
        zstr_sendm (self->pipe, "REPORT");
        zframe_send (&stored, self->pipe, 0);
        rc_journal_unlock (&fd);
    }
    else {
        rc_step_env_t env = s_step_env (a);
        s_begin (a, rc_step_new (&env, inst, fd));
    }
    rollclone__instruction__free_unpacked (inst, NULL);
}

static void
s_handle_step (s_self_t *self, zframe_t *frame)
{
    Rollclone__Instruction *inst =
        frame ? rollclone__instruction__unpack (NULL, zframe_size (frame), zframe_data (frame))
              : NULL;
    if (!inst) {
        rc_log_warn ("%s: STEP without a valid instruction: dropped", __func__);
        return;
    }
    s_app_t *a;
    char err[512];
    if (s_check (self, inst, &a, err, sizeof err)) {
        s_refuse (self, inst, a, err);
        goto out;
    }
    if (inst->action == ROLLCLONE__ACTION__ACTION_RUN_ONCE) {
        rc_run_once_handle (self->run_once, inst, a->cfg);
        goto out;
    }
    zframe_t *stored = rc_journal_find_report (self->journal, inst->deployment_id, inst->step);
    if (stored) {
        zstr_sendm (self->pipe, "REPORT");
        zframe_send (&stored, self->pipe, 0);
        goto out;
    }
    if (a->step && streq (a->step->id, inst->deployment_id) && a->step->seq == inst->step)
        goto out; /* running: its reports will come */
    /* the newest instruction for a busy app waits; the coordinator
       re-publishes, so an older one replaced here is not lost */
    zframe_destroy (&a->pending);
    a->pending = zframe_dup (frame);
    a->wait_reported = false;
    s_try_pending (a);
out:
    rollclone__instruction__free_unpacked (inst, NULL);
}

static void
s_send_state (s_self_t *self)
{
    rc_report_app_t *views = calloc (self->app_count ? self->app_count : 1, sizeof *views);
    if (!views)
        abort ();
    for (size_t i = 0; i < self->app_count; i++)
        views[i] = s_view (&self->apps[i]);
    zframe_t *frame = rc_report_state (self->healthy, views, self->app_count);
    free (views);
    zstr_sendm (self->pipe, "STATE");
    zframe_send (&frame, self->pipe, 0);
}

/* One idle check result of app a, through the hysteresis: the state flips
   only after health_fall failures (health_rise passes) in a row, so a
   check that times out now and then under load does not make the host
   flap. An app whose state is still unknown counts as healthy (as in the
   host's flag) and needs health_fall failures too. */
static void
s_idle_result (s_app_t *a, bool ok, const char *detail)
{
    bool healthy = a->idle_healthy != 0;
    if (ok == healthy) {
        a->idle_run = 0;
        if (a->idle_healthy < 0 && ok)
            a->idle_healthy = 1;
        return;
    }
    a->idle_run++;
    int needed = ok ? a->cfg->health_rise : a->cfg->health_fall;
    rc_log_debug ("app %s: idle check %s (%d of %d in a row)%s%s", a->cfg->name,
                  ok ? "passed" : "failed", a->idle_run, needed, detail ? ": " : "",
                  detail ? detail : "");
    if (a->idle_run < needed)
        return;
    a->idle_healthy = ok;
    a->idle_run = 0;
    if (ok)
        rc_log_info ("app %s: healthy again (%d checks passed in a row)", a->cfg->name, needed);
    else
        rc_log_warn ("app %s: unhealthy (%d checks failed in a row): %s", a->cfg->name, needed,
                     detail ? detail : "");
}

/* Self health check of the idle apps; HEALTH on every change of the
   host's state. */
static void
s_idle_health (s_self_t *self)
{
    int64_t now = rc_mono_ms ();
    bool healthy = true;
    for (size_t i = 0; i < self->app_count; i++) {
        s_app_t *a = &self->apps[i];
        if (!a->step && rc_health_configured (a->cfg)) {
            if (a->idle_check) {
                rc_health_status_t st = rc_health_poll (a->idle_check);
                if (st != RC_HEALTH_RUNNING) {
                    s_idle_result (a, st == RC_HEALTH_OK, rc_health_detail (a->idle_check));
                    rc_health_destroy (&a->idle_check);
                }
            }
            else if (now >= a->next_idle) {
                a->next_idle = now + a->cfg->health_interval_ms;
                char *current = rc_releases_current (a->cfg->releases_dir);
                if (current) {
                    /* never installed: nothing runs, nothing to check */
                    char cwd[PATH_MAX], err[256];
                    rc_releases_path (a->cfg->releases_dir, current, cwd, sizeof cwd);
                    a->idle_check = rc_health_new (a->cfg, a->slots.serving, NULL, cwd,
                                                   a->cfg->health_interval_ms, err, sizeof err);
                    if (!a->idle_check)
                        s_idle_result (a, false, err);
                    free (current);
                }
                else {
                    a->idle_healthy = -1;
                    a->idle_run = 0;
                }
            }
        }
        if (a->idle_healthy == 0)
            healthy = false;
    }
    if (healthy != self->healthy) {
        self->healthy = healthy;
        rc_log_info ("host is now %s", healthy ? "healthy" : "unhealthy");
        zstr_sendm (self->pipe, "HEALTH");
        zstr_send (self->pipe, healthy ? "1" : "0");
    }
}

/* Steps that sent their final report are freed here, outside the code that
   ran them. */
static void
s_reap (s_self_t *self)
{
    for (size_t i = 0; i < self->app_count; i++) {
        s_app_t *a = &self->apps[i];
        if (a->step && rc_step_finished (a->step)) {
            rc_step_t *step = a->step;
            a->step = NULL;
            rc_step_destroy (&step);
            s_slots_load (a); /* the step may have moved traffic */
        }
    }
}

/* What everything waits for: steps, idle checks, the next idle check, a
   pending instruction whose app another process holds. */
static void
s_gather (s_self_t *self, rc_watch_t *w)
{
    rc_watch_init (w);
    rc_run_once_watch (self->run_once, w);
    int64_t now = rc_mono_ms ();
    for (size_t i = 0; i < self->app_count; i++) {
        s_app_t *a = &self->apps[i];
        if (a->step)
            rc_step_watch (a->step, w);
        else if (a->pending)
            rc_watch_at (w, now + RC_EXEC_LOCK_RETRY_MS);
        if (a->stopper)
            rc_child_watch (a->stopper, w);
        else if (!a->step)
            rc_watch_at (w, a->warm_at);
        if (!a->step && rc_health_configured (a->cfg)) {
            if (a->idle_check)
                rc_health_watch (a->idle_check, w);
            else
                rc_watch_at (w, a->next_idle);
        }
    }
}

static int s_on_ready (zloop_t *loop, zmq_pollitem_t *item, void *arg);
static int s_on_wake (zloop_t *loop, int timer_id, void *arg);

static bool
s_same_fds (const rc_watch_t *a, const rc_watch_t *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (a->fds[i].fd != b->fds[i].fd || a->fds[i].events != b->fds[i].events)
            return false;
    return true;
}

/* Registers what is waited for now with the loop: the descriptors as
   pollers, the earliest moment as the one timer. */
static void
s_rearm (s_self_t *self)
{
    rc_watch_t w;
    s_gather (self, &w);
    if (!s_same_fds (&w, &self->polled)) {
        for (size_t i = 0; i < self->polled.count; i++) {
            zmq_pollitem_t item = {NULL, self->polled.fds[i].fd, 0, 0};
            zloop_poller_end (self->loop, &item);
        }
        for (size_t i = 0; i < w.count; i++) {
            zmq_pollitem_t item = {NULL, w.fds[i].fd, w.fds[i].events, 0};
            /* tolerant: a pipe's hang-up is an event to read, not a
               reason for zloop to drop the poller */
            if (zloop_poller (self->loop, &item, s_on_ready, self) == 0)
                zloop_poller_set_tolerant (self->loop, &item);
            else
                rc_watch_at (&w, rc_mono_ms () + RC_CHILD_REAP_POLL_MS);
        }
        self->polled = w;
    }
    if (w.wake_at != self->timer_at) {
        if (self->timer_id >= 0)
            zloop_timer_end (self->loop, self->timer_id);
        self->timer_id = -1;
        self->timer_at = w.wake_at;
        if (w.wake_at != RC_WATCH_NEVER) {
            int64_t delay = w.wake_at - rc_mono_ms ();
            self->timer_id =
                zloop_timer (self->loop, delay > 0 ? (size_t)delay : 0, 1, s_on_wake, self);
        }
    }
}

/* One turn: everything that waits looks at what it waits for. */
static void
s_turn (s_self_t *self)
{
    rc_run_once_poll (self->run_once);
    for (size_t i = 0; i < self->app_count; i++) {
        s_app_t *a = &self->apps[i];
        if (a->step)
            rc_step_poll (a->step);
        s_reap (self);
        s_warm_turn (a);
        s_try_pending (a);
        s_reap (self);
    }
    s_idle_health (self);
    s_rearm (self);
}

static int
s_on_ready (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    s_turn (arg);
    return 0;
}

static int
s_on_wake (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_self_t *self = arg;
    self->timer_id = -1; /* one-shot: zloop drops it after this call */
    self->timer_at = RC_WATCH_NEVER;
    s_turn (self);
    return 0;
}

static int
s_on_pipe (zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void)loop;
    s_self_t *self = arg;
    zmsg_t *msg = zmsg_recv (pipe);
    if (!msg)
        return -1;
    char *command = zmsg_popstr (msg);
    int rc = 0;
    if (!command || streq (command, "$TERM"))
        rc = -1;
    else if (streq (command, "STEP")) {
        zframe_t *frame = zmsg_pop (msg);
        s_handle_step (self, frame);
        zframe_destroy (&frame);
    }
    else if (streq (command, "STATE"))
        s_send_state (self);
    else
        rc_log_warn ("%s: unknown command '%s'", __func__, command);
    free (command);
    zmsg_destroy (&msg);
    s_reap (self);
    if (rc == 0)
        s_rearm (self);
    return rc;
}

/* What the actor gets from rc_executor_new, which has done everything that
   can fail for a reason worth telling (the actor's handshake cannot carry
   an error: zactor_new ignores its status). */
typedef struct {
    const rc_config_t *cfg;
    rc_journal_t *journal; /* given to the actor */
    s_app_t *apps;         /* given to the actor */
    bool local;            /* the local operator's executor: no artifact policy */
} s_start_t;

static void
s_actor (zsock_t *pipe, void *args)
{
    s_start_t *start = args;
    s_self_t self = {.cfg = start->cfg,
                     .pipe = pipe,
                     .healthy = true,
                     .journal = start->journal,
                     .apps = start->apps,
                     .app_count = start->cfg->app_count,
                     .local = start->local};
    self.loop = zloop_new ();
    self.run_once = rc_run_once_new (self.journal, pipe);
    if (!self.loop)
        abort (); /* out of memory before anything ran: systemd starts us again */
    for (size_t i = 0; i < self.app_count; i++) {
        self.apps[i].self = &self;
        self.apps[i].cfg = &self.cfg->apps[i];
        self.apps[i].idle_healthy = -1;
        self.apps[i].stop_lock = -1;
        s_app_last_load (&self.apps[i]);
        s_slots_load (&self.apps[i]);
    }
    /* Steps interrupted by a crash are undone before anything else; their
       final REPORTs go out as soon as the owner reads the pipe. An app whose
       lock is held belongs to a live process: left alone. */
    for (size_t i = 0; i < self.app_count; i++) {
        s_app_t *a = &self.apps[i];
        if (!rc_journal_in_flight (self.cfg->state_dir, a->cfg->name))
            continue;
        int fd = rc_journal_lock (self.journal, a->cfg->name);
        if (fd >= 0 && !s_recover (a, fd))
            rc_journal_unlock (&fd);
    }
    zloop_set_nonstop (self.loop, true);
    zloop_reader (self.loop, pipe, s_on_pipe, &self);
    self.timer_id = -1;
    self.timer_at = RC_WATCH_NEVER;
    rc_watch_init (&self.polled);
    zsock_signal (pipe, 0);
    s_reap (&self);
    s_rearm (&self);
    zloop_start (self.loop);
    /* a step still running stays in the journal: the next start undoes it */
    for (size_t i = 0; i < self.app_count; i++) {
        rc_step_destroy (&self.apps[i].step);
        zframe_destroy (&self.apps[i].pending);
        rc_health_destroy (&self.apps[i].idle_check);
        /* a stop hook cut short runs again at the next start */
        rc_child_destroy (&self.apps[i].stopper);
        rc_slots_env_free (self.apps[i].stop_env, RC_SLOTS_STOP_ENV);
        rc_journal_unlock (&self.apps[i].stop_lock);
        free (self.apps[i].last_id);
    }
    free (self.apps);
    rc_run_once_destroy (&self.run_once);
    zloop_destroy (&self.loop);
    rc_journal_destroy (&self.journal);
}

static bool
s_any_health_url (const rc_config_t *cfg)
{
    for (size_t i = 0; i < cfg->app_count; i++)
        if (cfg->apps[i].health_url && *cfg->apps[i].health_url)
            return true;
    return false;
}

static zactor_t *
s_executor_new (const rc_config_t *cfg, bool local, char *err, size_t errlen)
{
    s_start_t start = {.cfg = cfg, .local = local};
    start.journal = rc_journal_new (cfg->state_dir, err, errlen);
    if (!start.journal)
        return NULL;
    start.apps = calloc (cfg->app_count ? cfg->app_count : 1, sizeof *start.apps);
    if (!start.apps) {
        snprintf (err, errlen, "out of memory");
        rc_journal_destroy (&start.journal);
        return NULL;
    }
    /* libcurl's global set-up (OpenSSL's with it) belongs to the creating
       thread: done in the actor's thread, OpenSSL keeps per-thread state
       there that nothing frees when the actor ends (LSan: 904 bytes from
       CRYPTO_zalloc after `recover` did a health GET). So it is done here,
       in the caller's thread, whenever the actor may GET at once: a local
       command, or an app with a health_url (the idle self check, recovery
       at start). An agent without one sets up at its first step
       (privsep.c), which spares an idle executor ~2 MB of libcrypto. */
    if (local || s_any_health_url (cfg))
        rc_fetch_global_init ();
    /* zactor_new returns after the actor's handshake: start is read by then */
    zactor_t *actor = zactor_new (s_actor, &start);
    if (!actor) {
        snprintf (err, errlen, "cannot start the executor thread");
        free (start.apps);
        rc_journal_destroy (&start.journal);
    }
    return actor;
}

zactor_t *
rc_executor_new (const rc_config_t *cfg, char *err, size_t errlen)
{
    return s_executor_new (cfg, false, err, errlen);
}

zactor_t *
rc_executor_new_local (const rc_config_t *cfg, char *err, size_t errlen)
{
    return s_executor_new (cfg, true, err, errlen);
}
