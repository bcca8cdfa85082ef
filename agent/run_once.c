/*  run_once.c - run-once steps of the executor (see run_once.h). */
#include "run_once.h"
#include "agent_defaults.h"
#include "child.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_time.h"
#include "releases.h"
#include "report.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Environment variables a run-once command gets, and the NULL */
#define S_ENV_VARS 8

/* One command running. */
typedef struct {
    char *id;          /* deployment id */
    uint32_t step;     /* its step number */
    char *app;         /* [app NAME] */
    char *name;        /* run_once_NAME */
    int64_t timeout;   /* the app's hook_timeout, for the error text */
    rc_child_t *child; /* the command's process group */
    char *env[S_ENV_VARS];
} s_run_t;

struct _rc_run_once_t {
    rc_journal_t *journal; /* borrowed */
    zsock_t *pipe;         /* borrowed: the executor's */
    zlistx_t *running;     /* s_run_t, at most one per app */
};

static void
s_run_destroy (s_run_t **run_p)
{
    s_run_t *run = *run_p;
    if (!run)
        return;
    rc_child_destroy (&run->child);
    free (run->id);
    free (run->app);
    free (run->name);
    for (size_t i = 0; i < S_ENV_VARS; i++)
        free (run->env[i]);
    free (run);
    *run_p = NULL;
}

rc_run_once_t *
rc_run_once_new (rc_journal_t *journal, zsock_t *pipe)
{
    rc_run_once_t *self = (rc_run_once_t *)zmalloc (sizeof *self);
    self->journal = journal;
    self->pipe = pipe;
    self->running = zlistx_new ();
    zlistx_set_destructor (self->running, (zlistx_destructor_fn *)s_run_destroy);
    return self;
}

void
rc_run_once_destroy (rc_run_once_t **self_p)
{
    if (self_p && *self_p) {
        zlistx_destroy (&(*self_p)->running);
        free (*self_p);
        *self_p = NULL;
    }
}

bool
rc_run_once_step (uint32_t step)
{
    return step > RC_RUN_ONCE_STEP_BASE;
}

/* Sends r (final ones kept first, so a repeat gets the same answer). */
static void
s_report (rc_run_once_t *self, Rollclone__StepReport *r, bool keep)
{
    /* no app state rides along: a run-once changes no release, and the
       app's last step stays the last release step */
    rc_report_send (self->pipe, keep ? self->journal : NULL, r, NULL);
}

static void
s_report_init (Rollclone__StepReport *r, const char *id, uint32_t step, const char *app,
               Rollclone__StepReport__Result result, const char *error)
{
    rollclone__step_report__init (r);
    r->deployment_id = (char *)id;
    r->step = step;
    r->app = (char *)app;
    r->result = result;
    r->phase = "run_once";
    r->error = (char *)error;
}

static s_run_t *
s_find (rc_run_once_t *self, const char *app)
{
    for (s_run_t *run = (s_run_t *)zlistx_first (self->running); run;
         run = (s_run_t *)zlistx_next (self->running))
        if (streq (run->app, app))
            return run;
    return NULL;
}

/* The command's environment: what it is for, and the app's live release. */
static void
s_env (s_run_t *run, const Rollclone__Instruction *inst, const char *current,
       const char *release_dir)
{
    const char *vars[S_ENV_VARS - 1][2] = {
        {"ROLLCLONE_APP", inst->app},
        {"ROLLCLONE_VERSION", inst->version},
        {"ROLLCLONE_PREVIOUS_VERSION", current},
        {"ROLLCLONE_RELEASE_DIR", release_dir},
        {"ROLLCLONE_DEPLOYMENT", inst->deployment_id},
        {"ROLLCLONE_RUN_ONCE", inst->run_once},
        {"ROLLCLONE_PHASE", "run_once"},
    };
    for (size_t i = 0; i < S_ENV_VARS - 1; i++)
        if (asprintf (&run->env[i], "%s=%s", vars[i][0], vars[i][1]) < 0)
            abort (); /* out of memory before anything ran */
    run->env[S_ENV_VARS - 1] = NULL;
}

void
rc_run_once_handle (rc_run_once_t *self, const Rollclone__Instruction *inst,
                    const rc_app_config_t *cfg)
{
    s_run_t *busy = s_find (self, cfg->name);
    if (busy && streq (busy->id, inst->deployment_id) && busy->step == inst->step)
        return; /* running: its report will come */
    zframe_t *kept = rc_journal_find_report (self->journal, inst->deployment_id, inst->step);
    if (kept) {
        zstr_sendm (self->pipe, "REPORT");
        zframe_send (&kept, self->pipe, 0);
        return;
    }
    if (busy)
        return; /* another one of this app first; the coordinator re-publishes */
    Rollclone__StepReport r;
    char err[512];
    const char *command = rc_app_run_once (cfg, inst->run_once);
    if (!command) {
        snprintf (err, sizeof err, "no %s%s in [app %s]", RC_RUN_ONCE_KEY_PREFIX, inst->run_once,
                  cfg->name);
        rc_log_warn ("run-once %s/%u: %s", inst->deployment_id, inst->step, err);
        s_report_init (&r, inst->deployment_id, inst->step, inst->app,
                       ROLLCLONE__STEP_REPORT__RESULT__FAILED, err);
        s_report (self, &r, true);
        return;
    }
    /* kept before it starts: an agent that dies while it runs answers
       this after its restart, and never runs it a second time */
    snprintf (err, sizeof err,
              "the agent stopped while %s%s ran: not run again (whether it finished is unknown)",
              RC_RUN_ONCE_KEY_PREFIX, inst->run_once);
    s_report_init (&r, inst->deployment_id, inst->step, inst->app,
                   ROLLCLONE__STEP_REPORT__RESULT__FAILED, err);
    zframe_t *frame = rc_report_pack (&r, NULL);
    int stored = rc_journal_store_report (self->journal, inst->deployment_id, inst->step,
                                          zframe_data (frame), zframe_size (frame));
    zframe_destroy (&frame);
    if (stored != 0) {
        snprintf (err, sizeof err, "not run: cannot record it first: %s",
                  rc_journal_errmsg (self->journal));
        s_report_init (&r, inst->deployment_id, inst->step, inst->app,
                       ROLLCLONE__STEP_REPORT__RESULT__FAILED, err);
        s_report (self, &r, false);
        return;
    }
    s_run_t *run = (s_run_t *)zmalloc (sizeof *run);
    run->id = strdup (inst->deployment_id);
    run->app = strdup (cfg->name);
    run->name = strdup (inst->run_once);
    run->step = inst->step;
    run->timeout = cfg->hook_timeout_ms;
    if (!run->id || !run->app || !run->name)
        abort ();
    char *current = rc_releases_current (cfg->releases_dir);
    char cwd[PATH_MAX];
    if (current)
        rc_releases_path (cfg->releases_dir, current, cwd, sizeof cwd);
    else
        snprintf (cwd, sizeof cwd, "%s", cfg->releases_dir);
    s_env (run, inst, current ? current : "", current ? cwd : "");
    free (current);
    /* an app never installed here may have no releases_dir yet */
    rc_child_opts_t opts =
        rc_child_shell (command, (const char *const *)run->env, access (cwd, X_OK) == 0 ? cwd : "/",
                        cfg->user, cfg->hook_timeout_ms);
    char why[256];
    run->child = rc_child_new (&opts, why, sizeof why);
    if (!run->child) {
        snprintf (err, sizeof err, "%s%s could not start: %s", RC_RUN_ONCE_KEY_PREFIX, run->name,
                  why);
        s_report_init (&r, inst->deployment_id, inst->step, inst->app,
                       ROLLCLONE__STEP_REPORT__RESULT__FAILED, err);
        s_report (self, &r, true);
        s_run_destroy (&run);
        return;
    }
    rc_log_info ("run-once %s/%u: app %s runs %s%s", run->id, run->step, run->app,
                 RC_RUN_ONCE_KEY_PREFIX, run->name);
    zlistx_add_end (self->running, run);
    s_report_init (&r, inst->deployment_id, inst->step, inst->app,
                   ROLLCLONE__STEP_REPORT__RESULT__RUNNING, "");
    s_report (self, &r, false);
}

/* run ended: its final report, kept and sent. */
static void
s_finish (rc_run_once_t *self, s_run_t *run)
{
    int code = rc_child_exit_code (run->child);
    bool timed_out = rc_child_timed_out (run->child);
    char err[256] = "", dur[32];
    if (timed_out)
        snprintf (err, sizeof err, "%s%s timed out after %s: process group killed",
                  RC_RUN_ONCE_KEY_PREFIX, run->name,
                  rc_duration_format (run->timeout, dur, sizeof dur));
    else if (code != 0)
        snprintf (err, sizeof err, "%s%s exited with status %d", RC_RUN_ONCE_KEY_PREFIX, run->name,
                  code);
    bool ok = !timed_out && code == 0;
    Rollclone__StepReport r;
    s_report_init (&r, run->id, run->step, run->app,
                   ok ? ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED
                      : ROLLCLONE__STEP_REPORT__RESULT__FAILED,
                   err);
    r.exit_code = code;
    r.output_tail = (char *)rc_child_output (run->child);
    rc_log_info ("run-once %s/%u: %s%s %s%s%s", run->id, run->step, RC_RUN_ONCE_KEY_PREFIX,
                 run->name, ok ? "succeeded" : "failed", ok ? "" : ": ", err);
    s_report (self, &r, true);
}

void
rc_run_once_poll (rc_run_once_t *self)
{
    /* a run that ended leaves the list: start over from the first */
    bool ended = true;
    while (ended) {
        ended = false;
        for (s_run_t *run = (s_run_t *)zlistx_first (self->running); run && !ended;
             run = (s_run_t *)zlistx_next (self->running))
            if (rc_child_poll (run->child)) {
                s_finish (self, run);
                zlistx_delete (self->running, zlistx_cursor (self->running));
                ended = true;
            }
    }
}

void
rc_run_once_watch (rc_run_once_t *self, rc_watch_t *w)
{
    for (s_run_t *run = (s_run_t *)zlistx_first (self->running); run;
         run = (s_run_t *)zlistx_next (self->running))
        rc_child_watch (run->child, w);
}
