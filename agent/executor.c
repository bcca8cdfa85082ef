/*  executor.c - the agent's executor actor. Each app has at most one step,
    a small state machine over phases; every phase that waits (a hook, the
    download, unpacking, health checks) is polled from the actor's one timer,
    so the pipe is always read promptly and STATE never waits for a step.
    Every phase is journaled before it starts; a step that fails after the
    switch switches back, restarts, checks health and undrains. */
#include "executor.h"
#include "agent_defaults.h"
#include "child.h"
#include "fetch.h"
#include "health.h"
#include "journal.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_text.h"
#include "rc_signature.h"
#include "rc_time.h"
#include "releases.h"
#include "rollclone.pb-c.h"
#include "trust.h"
#include "unpack.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum {
    P_NONE,
    /* forward: an update runs all, a rollback skips fetch, unpack, install */
    P_DRAIN,
    P_FETCH,
    P_UNPACK,
    P_INSTALL,
    P_SWITCH,
    P_RESTART,
    P_HEALTH,
    P_UNDRAIN,
    P_DONE,
    /* after a failure: before the switch, cleanup; after it, revert */
    P_CLEANUP,
    P_REVERT,
    P_REVERT_RESTART,
    P_REVERT_HEALTH,
    P_REVERT_UNDRAIN,
    P_FINISH,
    P_COUNT
} s_phase_t;

static const char *s_phase_names[P_COUNT] = {
    "none",           "drain",         "fetch",          "unpack", "install", "switch",
    "restart",        "health",        "undrain",        "done",   "cleanup", "revert",
    "revert-restart", "revert-health", "revert-undrain", "finish",
};

#define S_MAX_TIMINGS 32
#define S_ENV_VARS 8

typedef struct _s_self_t s_self_t;
typedef struct _s_app_t s_app_t;

typedef struct {
    s_app_t *owner;  /* the app's slot */
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
    int64_t started_ms;  /* wall clock, for the journal */
    s_phase_t phase;     /* running now */
    int64_t phase_start; /* monotonic */
    bool drained;        /* drain ran (or may have): undrain owed */
    bool switched;       /* current may point at the target */
    bool placed;         /* releases/<version> was made by us */
    bool aside;          /* an older releases/<version> was moved aside */
    bool recovered;      /* rebuilt from the journal after a restart */
    bool failed;         /* a forward phase failed */
    bool dirty;          /* undoing failed too */
    bool finished;       /* final report sent: destroy at a safe point */
    char *failed_phase;
    int exit_code;
    char *error;
    char *tail; /* last output of the failed hook */
    Rollclone__PhaseTiming timings[S_MAX_TIMINGS];
    size_t timing_count;
    rc_child_t *child;       /* hook running */
    rc_fetch_t *fetch;       /* download running */
    rc_fetch_t *sigfetch;    /* download of URL.sig running */
    rc_unpack_t *unpack;     /* unpacking running */
    rc_health_t *health;     /* health check running */
    int64_t health_deadline; /* health phase fails here */
    int64_t healthy_since;   /* first pass of the current run of passes, 0 = none */
    int64_t next_check;      /* next health check start */
    char health_detail[RC_OUTPUT_TAIL_BYTES + 256];
    int lock_fd;                 /* the app's flock */
    char *env_store[S_ENV_VARS]; /* "K=V" for hooks */
} s_step_t;

struct _s_app_t {
    s_self_t *self;
    const rc_app_config_t *cfg; /* borrowed from the config */
    s_step_t *step;             /* running step, or NULL */
    zframe_t *pending;          /* packed instruction waiting for the app */
    bool wait_reported;         /* told the pending one waits for the lock */
    rc_health_t *idle_check;    /* self health check running */
    int64_t next_idle;          /* next self health check */
    int idle_healthy;           /* -1 unknown, 0, 1 */
    int idle_run;               /* results in a row against idle_healthy */
    char *last_id;              /* the last step finished: deployment id, */
    uint32_t last_step;         /* its step number */
    int last_result;            /* and its result, told in hello/heartbeats */
};

struct _s_self_t {
    const rc_config_t *cfg; /* borrowed */
    zsock_t *pipe;          /* to the actor's owner */
    zloop_t *loop;
    rc_journal_t *journal;
    s_app_t *apps;
    size_t app_count;
    bool healthy; /* last HEALTH state announced */
    bool local;   /* steps come from the local operator (apply), not a coordinator */
};

static void s_enter (s_step_t *step, s_phase_t phase);
static void s_phase_done (s_step_t *step);
static void s_phase_failed (s_step_t *step, int exit_code, const char *error, const char *tail);

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
   the journal is JSON, which takes valid UTF-8 only. */
static void
s_set_clean (char **field, const char *value, size_t max_bytes)
{
    free (*field);
    *field = rc_text_clean (value, value ? strlen (value) : 0, max_bytes);
    if (!*field)
        abort (); /* out of memory in the middle of a step: nothing safe to do */
}

/* ---- reports ---------------------------------------------------------- */

static void
s_app_state (s_app_t *a, Rollclone__AppState *st, char **points, size_t max, size_t *n)
{
    rollclone__app_state__init (st);
    st->app = a->cfg->name;
    char *current = rc_releases_current (a->cfg->releases_dir);
    st->current = current ? current : s_strdup ("");
    *n = rc_releases_points (a->cfg->releases_dir, points, max);
    st->rollback_points = points;
    st->n_rollback_points = *n;
    st->busy = a->step != NULL;
    st->last_deployment_id = a->last_id ? a->last_id : "";
    st->last_step = a->last_step;
    st->last_result = (Rollclone__StepReport__Result)a->last_result;
}

/* Remembers the last step finished for app, for hello and heartbeats. */
static void
s_app_last (s_app_t *a, const char *id, uint32_t step, int result)
{
    free (a->last_id);
    a->last_id = s_strdup (id);
    a->last_step = step;
    a->last_result = result;
}

static bool
s_report_of_app (zframe_t *frame, void *arg)
{
    Rollclone__StepReport *r =
        rollclone__step_report__unpack (NULL, zframe_size (frame), zframe_data (frame));
    bool match = r && streq (r->app, (const char *)arg) && rc_name_valid (r->deployment_id);
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

static void
s_app_state_free (Rollclone__AppState *st, char **points, size_t n)
{
    free (st->current);
    for (size_t i = 0; i < n; i++)
        free (points[i]);
}

#define S_MAX_POINTS 256

/* Sends a REPORT; with store, also keeps it as the step's final report.
   Its free text (errors quote hook output and file names from archives)
   leaves as valid UTF-8 without terminal control characters: it ends up in
   JSON, in the coordinator's store and on operators' terminals. */
static void
s_send_report (s_self_t *self, s_app_t *a, Rollclone__StepReport *r, bool store)
{
    Rollclone__AppState st;
    char *points[S_MAX_POINTS];
    size_t n = 0;
    /* first: the app state sent with it names this step as the last */
    if (a && store && r->result != ROLLCLONE__STEP_REPORT__RESULT__RUNNING)
        s_app_last (a, r->deployment_id, r->step, r->result);
    if (a) {
        s_app_state (a, &st, points, S_MAX_POINTS, &n);
        r->app_state = &st;
        r->version_now = st.current;
    }
    char *error = NULL, *tail = NULL, *app = NULL, *id = NULL;
    s_set_clean (&error, r->error, 0);
    s_set_clean (&tail, r->output_tail, RC_OUTPUT_TAIL_BYTES);
    s_set_clean (&app, r->app, 0);
    s_set_clean (&id, r->deployment_id, 0);
    r->error = error;
    r->output_tail = tail;
    r->app = app;
    r->deployment_id = id;
    size_t len = rollclone__step_report__get_packed_size (r);
    zframe_t *frame = zframe_new (NULL, len);
    rollclone__step_report__pack (r, zframe_data (frame));
    if (store
        && rc_journal_store_report (self->journal, r->deployment_id, r->step, zframe_data (frame),
                                    len)
               != 0)
        rc_log_warn ("%s: %s", __func__, rc_journal_errmsg (self->journal));
    zstr_sendm (self->pipe, "REPORT");
    zframe_send (&frame, self->pipe, 0);
    if (a)
        s_app_state_free (&st, points, n);
    free (error);
    free (tail);
    free (app);
    free (id);
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

static void
s_step_report (s_step_t *step, Rollclone__StepReport__Result result)
{
    Rollclone__StepReport r = ROLLCLONE__STEP_REPORT__INIT;
    Rollclone__PhaseTiming *timings[S_MAX_TIMINGS];
    for (size_t i = 0; i < step->timing_count; i++)
        timings[i] = &step->timings[i];
    r.deployment_id = step->id;
    r.step = step->seq;
    r.app = step->owner->cfg->name;
    r.result = result;
    r.phase = (char *)s_phase_names[step->phase];
    if (result != ROLLCLONE__STEP_REPORT__RESULT__RUNNING && step->failed_phase)
        r.phase = step->failed_phase;
    r.exit_code = step->exit_code;
    r.error = step->error ? step->error : "";
    r.output_tail = step->tail ? step->tail : "";
    r.timings = timings;
    r.n_timings = step->timing_count;
    r.previous_version = step->previous;
    s_send_report (step->owner->self, step->owner, &r,
                   result != ROLLCLONE__STEP_REPORT__RESULT__RUNNING);
}

/* ---- journal ---------------------------------------------------------- */

static void
s_journal (s_step_t *step)
{
    s_self_t *self = step->owner->self;
    json_t *rec = json_pack (
        "{s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:b, s:b, s:b, s:b, s:b, "
        "s:b, s:s, s:s, s:i}",
        "id", step->id, "step", (int)step->seq, "action", step->action, "app",
        step->owner->cfg->name, "version", step->version, "previous", step->previous, "artifact",
        step->artifact, "sha256", step->sha256, "soak_ms", (json_int_t)step->soak_ms,
        "health_timeout_ms", (json_int_t)step->health_timeout_ms, "started_ms",
        (json_int_t)step->started_ms, "phase", s_phase_names[step->phase], "drained", step->drained,
        "switched", step->switched, "placed", step->placed, "aside", step->aside, "failed",
        step->failed, "dirty", step->dirty, "failed_phase",
        step->failed_phase ? step->failed_phase : "", "error", step->error ? step->error : "",
        "exit_code", step->exit_code);
    /* Not being able to journal is not a reason to stop half-way: the step
       goes on (finishing is safer than stopping) and the operator is told. */
    if (!rec || rc_journal_write (self->journal, step->owner->cfg->name, rec) != 0)
        rc_log_error ("%s: cannot journal step %s/%u: %s", __func__, step->id, step->seq,
                      rc_journal_errmsg (self->journal));
    json_decref (rec);
}

/* ---- paths and environment -------------------------------------------- */

static void
s_path (s_step_t *step, char *buf, size_t len, const char *what, const char *version)
{
    const char *dir = step->owner->cfg->releases_dir;
    if (streq (what, "release"))
        rc_releases_path (dir, version, buf, len);
    else if (streq (what, "incoming"))
        snprintf (buf, len, "%s/%s", dir, RC_INCOMING_DIR);
    else
        snprintf (buf, len, "%s/%s/%s.%s", dir, RC_INCOMING_DIR, version, what);
}

static bool
s_exists (const char *path)
{
    struct stat st;
    return lstat (path, &st) == 0;
}

static bool
s_reverting (s_step_t *step)
{
    return step->phase >= P_CLEANUP;
}

/* The version a hook of this phase is about: the target going forward, the
   one being restored when reverting. */
static const char *
s_live_version (s_step_t *step)
{
    return s_reverting (step) ? step->previous : step->version;
}

static const char *const *
s_env (s_step_t *step)
{
    char release[PATH_MAX] = "";
    const char *version = s_live_version (step);
    const char *other = s_reverting (step) ? step->version : step->previous;
    if (*version)
        s_path (step, release, sizeof release, "release", version);
    struct {
        const char *key, *value;
    } vars[S_ENV_VARS - 1] = {
        {"ROLLCLONE_APP", step->owner->cfg->name},       {"ROLLCLONE_VERSION", version},
        {"ROLLCLONE_PREVIOUS_VERSION", other},           {"ROLLCLONE_RELEASE_DIR", release},
        {"ROLLCLONE_ARTIFACT", step->artifact},          {"ROLLCLONE_DEPLOYMENT", step->id},
        {"ROLLCLONE_PHASE", s_phase_names[step->phase]},
    };
    for (size_t i = 0; i < S_ENV_VARS - 1; i++) {
        free (step->env_store[i]);
        if (asprintf (&step->env_store[i], "%s=%s", vars[i].key, vars[i].value) < 0)
            abort ();
    }
    step->env_store[S_ENV_VARS - 1] = NULL;
    return (const char *const *)step->env_store;
}

/* ---- phases ----------------------------------------------------------- */

/* Runs hook (may be NULL: the phase is done at once). */
static void
s_run_hook (s_step_t *step, const char *hook)
{
    if (!hook || !*hook) {
        s_phase_done (step);
        return;
    }
    const rc_app_config_t *app = step->owner->cfg;
    char cwd[PATH_MAX];
    const char *version = s_live_version (step);
    if (*version && rc_releases_exists (app->releases_dir, version))
        s_path (step, cwd, sizeof cwd, "release", version);
    else
        snprintf (cwd, sizeof cwd, "%s", app->releases_dir);
    char err[512];
    rc_child_opts_t opts =
        rc_child_shell (hook, s_env (step), cwd, app->user, app->hook_timeout_ms);
    step->child = rc_child_new (&opts, err, sizeof err);
    if (!step->child)
        s_phase_failed (step, -1, err, NULL);
}

static void
s_start_fetch (s_step_t *step)
{
    char incoming[PATH_MAX], dest[PATH_MAX], part[PATH_MAX], releases[PATH_MAX];
    char err[PATH_MAX + 256];
    const rc_app_config_t *app = step->owner->cfg;
    s_path (step, incoming, sizeof incoming, "incoming", NULL);
    s_path (step, dest, sizeof dest, "artifact", step->version);
    s_path (step, part, sizeof part, "part", step->version);
    snprintf (releases, sizeof releases, "%s/releases", app->releases_dir);
    if ((mkdir (incoming, 0755) != 0 && errno != EEXIST)
        || (mkdir (releases, 0755) != 0 && errno != EEXIST)) {
        snprintf (err, sizeof err, "cannot create %s: %s", incoming, strerror (errno));
        s_phase_failed (step, -1, err, NULL);
        return;
    }
    /* leftovers of an earlier attempt */
    rc_releases_remove_tree (dest);
    rc_releases_remove_tree (part);
    rc_fetch_limits_t limits = {.max_bytes = app->max_artifact_bytes,
                                .timeout_ms = app->fetch_timeout_ms};
    step->fetch = rc_fetch_new (step->artifact, dest, step->sha256, &limits, err, sizeof err);
    if (!step->fetch)
        s_phase_failed (step, -1, err, NULL);
}

/* After the download, before anything is unpacked: with trusted_signers
   the artifact needs a valid signature, carried in the instruction or
   fetched from URL.sig. */
static void
s_verify (s_step_t *step, const char *sig, size_t len)
{
    char artifact[PATH_MAX], err[1024];
    s_path (step, artifact, sizeof artifact, "artifact", step->version);
    if (rc_trust_verify (step->owner->cfg, artifact, step->version, sig, len, err, sizeof err)
        != 0) {
        char why[1200];
        snprintf (why, sizeof why, "artifact refused: %s", err);
        s_phase_failed (step, -1, why, NULL);
        return;
    }
    rc_log_info ("app %s: artifact of %s verified (trusted_signers %s)", step->owner->cfg->name,
                 step->version, step->owner->cfg->trusted_signers);
    s_phase_done (step);
}

static void
s_start_signature (s_step_t *step)
{
    if (!rc_trust_signed (step->owner->cfg)) {
        s_phase_done (step);
        return;
    }
    if (*step->signature) {
        s_verify (step, step->signature, strlen (step->signature));
        return;
    }
    char dest[PATH_MAX], err[PATH_MAX + 256];
    s_path (step, dest, sizeof dest, "sig", step->version);
    char *url = rc_trust_signature_url (step->artifact);
    if (!url)
        abort ();
    /* a .sig is small: anything longer is refused, not read */
    rc_fetch_limits_t limits = {.max_bytes = RC_SIGNATURE_FILE_MAX,
                                .timeout_ms = step->owner->cfg->fetch_timeout_ms};
    step->sigfetch = rc_fetch_new (url, dest, NULL, &limits, err, sizeof err);
    free (url);
    if (!step->sigfetch) {
        char why[sizeof err + 512];
        snprintf (why, sizeof why,
                  "artifact refused: no signature at %.400s.sig (trusted_signers): %s",
                  step->artifact, err);
        s_phase_failed (step, -1, why, NULL);
    }
}

static void
s_poll_signature (s_step_t *step)
{
    char err[1024];
    rc_fetch_status_t st = rc_fetch_poll (step->sigfetch);
    if (st == RC_FETCH_RUNNING && rc_fetch_bytes (step->sigfetch) <= RC_SIGNATURE_FILE_MAX)
        return;
    if (st == RC_FETCH_FAILED || st == RC_FETCH_RUNNING) {
        snprintf (err, sizeof err,
                  "artifact refused: no signature at %.400s.sig (trusted_signers): %.400s",
                  step->artifact,
                  st == RC_FETCH_RUNNING ? "larger than a signature"
                                         : rc_fetch_errmsg (step->sigfetch));
        s_phase_failed (step, -1, err, NULL);
        return;
    }
    rc_fetch_destroy (&step->sigfetch);
    char path[PATH_MAX], text[RC_SIGNATURE_FILE_MAX + 1];
    s_path (step, path, sizeof path, "sig", step->version);
    FILE *f = fopen (path, "rb");
    size_t n = f ? fread (text, 1, sizeof text, f) : 0;
    if (f)
        fclose (f);
    unlink (path);
    if (!f || n > RC_SIGNATURE_FILE_MAX) {
        snprintf (err, sizeof err, "artifact refused: cannot read the signature %.900s", path);
        s_phase_failed (step, -1, err, NULL);
        return;
    }
    s_verify (step, text, n);
}

static void
s_start_unpack (s_step_t *step)
{
    char artifact[PATH_MAX], part[PATH_MAX], err[PATH_MAX + 256];
    s_path (step, artifact, sizeof artifact, "artifact", step->version);
    s_path (step, part, sizeof part, "part", step->version);
    if (mkdir (part, 0755) != 0) {
        snprintf (err, sizeof err, "cannot create %s: %s", part, strerror (errno));
        s_phase_failed (step, -1, err, NULL);
        return;
    }
    char *name = rc_unpack_file_name (step->artifact);
    rc_unpack_limits_t limits = {.max_unpacked_bytes = step->owner->cfg->max_unpacked_bytes};
    step->unpack = rc_unpack_new (artifact, part, name, &limits, err, sizeof err);
    free (name);
    if (!step->unpack)
        s_phase_failed (step, -1, err, NULL);
}

/* Moves the unpacked tree to releases/<version>; an older directory of the
   same version (a rollback point being installed again) is set aside and
   restored if the step fails. */
static void
s_place (s_step_t *step)
{
    char part[PATH_MAX], release[PATH_MAX], aside[PATH_MAX], artifact[PATH_MAX];
    char err[3 * PATH_MAX];
    s_path (step, part, sizeof part, "part", step->version);
    s_path (step, release, sizeof release, "release", step->version);
    s_path (step, aside, sizeof aside, "old", step->version);
    s_path (step, artifact, sizeof artifact, "artifact", step->version);
    unlink (artifact);
    bool had = s_exists (release);
    step->aside = had;
    step->placed = true;
    s_journal (step); /* before the renames: recovery knows what to undo */
    rc_releases_remove_tree (aside);
    if (had && rename (release, aside) != 0) {
        snprintf (err, sizeof err, "cannot move %s aside: %s", release, strerror (errno));
        s_phase_failed (step, -1, err, NULL);
        return;
    }
    if (rename (part, release) != 0) {
        snprintf (err, sizeof err, "cannot rename %s to %s: %s", part, release, strerror (errno));
        s_phase_failed (step, -1, err, NULL);
        return;
    }
    rc_releases_sync_dir (step->owner->cfg->releases_dir);
    s_phase_done (step);
}

/* Puts releases/ back as it was before an update placed anything. */
static void
s_undo_files (s_step_t *step)
{
    if (step->action != ROLLCLONE__ACTION__ACTION_UPDATE)
        return;
    char path[PATH_MAX], release[PATH_MAX], aside[PATH_MAX], incoming[PATH_MAX];
    s_path (step, release, sizeof release, "release", step->version);
    s_path (step, aside, sizeof aside, "old", step->version);
    if (step->aside && s_exists (aside)) {
        rc_releases_remove_tree (release);
        rename (aside, release);
    }
    else if (!step->aside && step->placed)
        rc_releases_remove_tree (release);
    s_path (step, path, sizeof path, "artifact", step->version);
    rc_releases_remove_tree (path);
    s_path (step, path, sizeof path, "part", step->version);
    rc_releases_remove_tree (path);
    s_path (step, path, sizeof path, "sig", step->version);
    rc_releases_remove_tree (path);
    s_path (step, incoming, sizeof incoming, "incoming", NULL);
    rmdir (incoming); /* only when empty */
    rc_releases_sync_dir (step->owner->cfg->releases_dir);
}

static void
s_start_health (s_step_t *step)
{
    if (!rc_health_configured (step->owner->cfg)) {
        s_phase_done (step);
        return;
    }
    int64_t now = rc_mono_ms ();
    step->health_deadline = now + step->health_timeout_ms;
    step->healthy_since = 0;
    step->next_check = now;
    step->health_detail[0] = '\0';
}

static void
s_finish (s_step_t *step)
{
    s_app_t *a = step->owner;
    Rollclone__StepReport__Result result;
    if (!step->failed)
        result = ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED;
    else
        result = step->dirty ? ROLLCLONE__STEP_REPORT__RESULT__FAILED_DIRTY
                             : ROLLCLONE__STEP_REPORT__RESULT__FAILED;
    if (result == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED) {
        char aside[PATH_MAX], incoming[PATH_MAX];
        s_path (step, aside, sizeof aside, "old", step->version);
        rc_releases_remove_tree (aside);
        s_path (step, incoming, sizeof incoming, "incoming", NULL);
        rmdir (incoming);
        int pruned = rc_releases_prune (a->cfg->releases_dir, a->cfg->keep_releases);
        if (pruned > 0)
            rc_log_info ("app %s: pruned %d old release(s)", a->cfg->name, pruned);
        a->idle_healthy = 1;
    }
    else if (result == ROLLCLONE__STEP_REPORT__RESULT__FAILED_DIRTY)
        a->idle_healthy = 0;
    /* the step's own health checks decided: the idle ones start afresh */
    a->idle_run = 0;
    s_step_report (step, result);
    rc_journal_clear (a->self->journal, a->cfg->name);
    rc_journal_unlock (&step->lock_fd);
    rc_log_info ("step %s/%u app %s %s %s: %s%s%s", step->id, step->seq, a->cfg->name,
                 step->action == ROLLCLONE__ACTION__ACTION_ROLLBACK ? "rollback to" : "update to",
                 step->version,
                 result == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED ? "succeeded"
                 : result == ROLLCLONE__STEP_REPORT__RESULT__FAILED  ? "failed, put back"
                                                                     : "failed, NOT put back",
                 step->error ? ": " : "", step->error ? step->error : "");
    step->finished = true;
    a->next_idle = rc_mono_ms () + a->cfg->health_interval_ms;
}

static void
s_enter (s_step_t *step, s_phase_t phase)
{
    step->phase = phase;
    step->phase_start = rc_mono_ms ();
    if (phase == P_DRAIN)
        step->drained = true;
    if (phase == P_SWITCH || phase == P_REVERT)
        step->switched = true;
    s_journal (step);
    if (phase != P_FINISH && phase != P_DONE)
        s_step_report (step, ROLLCLONE__STEP_REPORT__RESULT__RUNNING);
    rc_log_debug ("step %s/%u app %s: %s", step->id, step->seq, step->owner->cfg->name,
                  s_phase_names[phase]);
    const rc_app_config_t *app = step->owner->cfg;
    char err[512];
    switch (phase) {
    case P_DRAIN: s_run_hook (step, app->drain); break;
    case P_FETCH: s_start_fetch (step); break;
    case P_UNPACK: s_start_unpack (step); break;
    case P_INSTALL: s_run_hook (step, app->install); break;
    case P_SWITCH:
        if (rc_releases_switch (app->releases_dir, step->version, err, sizeof err) != 0)
            s_phase_failed (step, -1, err, NULL);
        else
            s_phase_done (step);
        break;
    case P_RESTART:
    case P_REVERT_RESTART: s_run_hook (step, app->restart); break;
    case P_HEALTH:
    case P_REVERT_HEALTH: s_start_health (step); break;
    case P_UNDRAIN:
    case P_REVERT_UNDRAIN: s_run_hook (step, app->undrain); break;
    case P_CLEANUP:
        s_undo_files (step);
        s_phase_done (step);
        break;
    case P_REVERT:
        if (rc_releases_switch (app->releases_dir, *step->previous ? step->previous : NULL, err,
                                sizeof err)
            != 0) {
            s_phase_failed (step, -1, err, NULL);
            break;
        }
        s_undo_files (step);
        s_phase_done (step);
        break;
    case P_DONE:
    case P_FINISH: s_finish (step); break;
    default: assert (false);
    }
}

static s_phase_t
s_next (s_step_t *step)
{
    bool update = step->action == ROLLCLONE__ACTION__ACTION_UPDATE;
    bool has_previous = *step->previous != '\0';
    switch (step->phase) {
    case P_DRAIN: return update ? P_FETCH : P_SWITCH;
    case P_FETCH: return P_UNPACK;
    case P_UNPACK: return P_INSTALL;
    case P_INSTALL: return P_SWITCH;
    case P_SWITCH: return P_RESTART;
    case P_RESTART: return P_HEALTH;
    case P_HEALTH: return P_UNDRAIN;
    case P_UNDRAIN: return P_DONE;
    case P_CLEANUP: return step->drained ? P_REVERT_UNDRAIN : P_FINISH;
    case P_REVERT:
        if (has_previous)
            return P_REVERT_RESTART;
        return step->drained ? P_REVERT_UNDRAIN : P_FINISH;
    case P_REVERT_RESTART: return P_REVERT_HEALTH;
    case P_REVERT_HEALTH: return step->drained ? P_REVERT_UNDRAIN : P_FINISH;
    default: return P_FINISH;
    }
}

static void
s_timing (s_step_t *step)
{
    if (step->timing_count == S_MAX_TIMINGS)
        return;
    Rollclone__PhaseTiming *t = &step->timings[step->timing_count++];
    rollclone__phase_timing__init (t);
    t->phase = (char *)s_phase_names[step->phase];
    t->ms = (uint32_t)(rc_mono_ms () - step->phase_start);
}

static void
s_phase_done (s_step_t *step)
{
    s_timing (step);
    s_enter (step, s_next (step));
}

static void
s_phase_failed (s_step_t *step, int exit_code, const char *error, const char *tail)
{
    s_timing (step);
    rc_child_destroy (&step->child);
    rc_fetch_destroy (&step->fetch);
    rc_fetch_destroy (&step->sigfetch);
    rc_unpack_destroy (&step->unpack);
    rc_health_destroy (&step->health);
    if (s_reverting (step)) {
        /* undoing failed: the host is not where it was. Say so, and leave it
           drained: out of the load balancer is the safe place. */
        step->dirty = true;
        char *why = NULL;
        if (asprintf (&why, "%s; then %s failed: %s", step->error ? step->error : "",
                      s_phase_names[step->phase], error)
            < 0)
            abort ();
        s_set_clean (&step->error, why, 0);
        free (why);
        if (tail && *tail)
            s_set_clean (&step->tail, tail, RC_OUTPUT_TAIL_BYTES);
        s_enter (step, P_FINISH);
        return;
    }
    step->failed = true;
    s_set (&step->failed_phase, s_phase_names[step->phase]);
    step->exit_code = exit_code;
    s_set_clean (&step->error, error, 0);
    s_set_clean (&step->tail, tail, RC_OUTPUT_TAIL_BYTES);
    s_enter (step, step->switched ? P_REVERT : P_CLEANUP);
}

/* ---- polling (the actor's timer) --------------------------------------- */

static void
s_poll_health (s_step_t *step)
{
    int64_t now = rc_mono_ms ();
    const rc_app_config_t *app = step->owner->cfg;
    if (step->health) {
        rc_health_status_t st = rc_health_poll (step->health);
        if (st == RC_HEALTH_RUNNING)
            return;
        if (st == RC_HEALTH_OK) {
            if (!step->healthy_since)
                step->healthy_since = now;
        }
        else {
            step->healthy_since = 0;
            snprintf (step->health_detail, sizeof step->health_detail, "%s",
                      rc_health_detail (step->health));
        }
        rc_health_destroy (&step->health);
    }
    if (step->healthy_since && now - step->healthy_since >= step->soak_ms) {
        s_phase_done (step);
        return;
    }
    if (now >= step->health_deadline) {
        char err[RC_OUTPUT_TAIL_BYTES + 512];
        char dur[32];
        snprintf (err, sizeof err, "not healthy within %s: %s",
                  rc_duration_format (step->health_timeout_ms, dur, sizeof dur),
                  step->health_detail[0] ? step->health_detail : "no passing check");
        s_phase_failed (step, -1, err, step->health_detail);
        return;
    }
    if (now >= step->next_check) {
        char cwd[PATH_MAX], err[512];
        const char *version = s_live_version (step);
        s_path (step, cwd, sizeof cwd, "release", version);
        int64_t timeout = app->health_interval_ms;
        if (timeout > step->health_deadline - now)
            timeout = step->health_deadline - now;
        step->health = rc_health_new (app, s_env (step), cwd, timeout, err, sizeof err);
        if (!step->health) {
            step->healthy_since = 0;
            snprintf (step->health_detail, sizeof step->health_detail, "%s", err);
        }
        step->next_check = now + app->health_interval_ms;
    }
}

static void
s_poll_step (s_step_t *step)
{
    if (step->child && rc_child_poll (step->child)) {
        int code = rc_child_exit_code (step->child);
        bool timed_out = rc_child_timed_out (step->child);
        char *tail = s_strdup (rc_child_output (step->child));
        rc_child_destroy (&step->child);
        if (timed_out || code != 0) {
            char err[256], dur[32];
            if (timed_out)
                snprintf (err, sizeof err, "%s hook timed out after %s: process group killed",
                          s_phase_names[step->phase],
                          rc_duration_format (step->owner->cfg->hook_timeout_ms, dur, sizeof dur));
            else
                snprintf (err, sizeof err, "%s hook exited with status %d",
                          s_phase_names[step->phase], code);
            s_phase_failed (step, code, err, tail);
        }
        else
            s_phase_done (step);
        free (tail);
    }
    else if (step->fetch) {
        rc_fetch_status_t st = rc_fetch_poll (step->fetch);
        if (st == RC_FETCH_DONE) {
            rc_fetch_destroy (&step->fetch);
            s_start_signature (step);
        }
        else if (st == RC_FETCH_FAILED) {
            char err[600];
            snprintf (err, sizeof err, "%s", rc_fetch_errmsg (step->fetch));
            s_phase_failed (step, -1, err, NULL);
        }
    }
    else if (step->sigfetch)
        s_poll_signature (step);
    else if (step->unpack) {
        rc_unpack_status_t st = rc_unpack_poll (step->unpack);
        if (st == RC_UNPACK_DONE) {
            rc_unpack_destroy (&step->unpack);
            s_place (step);
        }
        else if (st == RC_UNPACK_FAILED) {
            char err[PATH_MAX + 256];
            snprintf (err, sizeof err, "%s", rc_unpack_errmsg (step->unpack));
            s_phase_failed (step, -1, err, NULL);
        }
    }
    else if ((step->phase == P_HEALTH || step->phase == P_REVERT_HEALTH) && !step->finished)
        s_poll_health (step);
}

/* ---- starting steps ---------------------------------------------------- */

static void
s_step_destroy (s_step_t **step_p)
{
    s_step_t *step = *step_p;
    if (!step)
        return;
    rc_child_destroy (&step->child);
    rc_fetch_destroy (&step->fetch);
    rc_fetch_destroy (&step->sigfetch);
    rc_unpack_destroy (&step->unpack);
    rc_health_destroy (&step->health);
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
    for (size_t i = 0; i < S_ENV_VARS; i++)
        free (step->env_store[i]);
    free (step);
    *step_p = NULL;
}

static s_step_t *
s_step_new (s_app_t *a, int lock_fd)
{
    s_step_t *step = calloc (1, sizeof *step);
    if (!step)
        abort ();
    step->owner = a;
    step->lock_fd = lock_fd;
    step->started_ms = rc_now_ms ();
    a->step = step;
    /* a self health check of this app would race the step */
    rc_health_destroy (&a->idle_check);
    return step;
}

static int64_t
s_or_default (int64_t value, int64_t fallback)
{
    return value > 0 ? value : fallback;
}

/* Rebuilds the step in flight from its journal record and undoes it (or
   finishes it, when only the undrain of a healthy release was left). */
static void
s_recover (s_app_t *a, json_t *rec, int lock_fd)
{
    s_step_t *step = s_step_new (a, lock_fd);
    step->recovered = true;
    step->id = s_strdup (json_string_value (json_object_get (rec, "id")));
    step->seq = (uint32_t)json_integer_value (json_object_get (rec, "step"));
    step->action = (int)json_integer_value (json_object_get (rec, "action"));
    step->version = s_strdup (json_string_value (json_object_get (rec, "version")));
    step->previous = s_strdup (json_string_value (json_object_get (rec, "previous")));
    step->artifact = s_strdup (json_string_value (json_object_get (rec, "artifact")));
    step->sha256 = s_strdup (json_string_value (json_object_get (rec, "sha256")));
    step->signature = s_strdup (""); /* a recovered step is undone, never verified */
    step->soak_ms =
        s_or_default (json_integer_value (json_object_get (rec, "soak_ms")), RC_DEFAULT_SOAK_MS);
    step->health_timeout_ms =
        s_or_default (json_integer_value (json_object_get (rec, "health_timeout_ms")),
                      RC_DEFAULT_HEALTH_TIMEOUT_MS);
    step->started_ms = json_integer_value (json_object_get (rec, "started_ms"));
    step->drained = json_is_true (json_object_get (rec, "drained"));
    step->switched = json_is_true (json_object_get (rec, "switched"));
    step->placed = json_is_true (json_object_get (rec, "placed"));
    step->aside = json_is_true (json_object_get (rec, "aside"));
    step->failed = json_is_true (json_object_get (rec, "failed"));
    step->dirty = json_is_true (json_object_get (rec, "dirty"));
    step->exit_code = (int)json_integer_value (json_object_get (rec, "exit_code"));
    const char *fp = json_string_value (json_object_get (rec, "failed_phase"));
    const char *error = json_string_value (json_object_get (rec, "error"));
    if (fp && *fp)
        step->failed_phase = s_strdup (fp);
    if (error && *error)
        step->error = s_strdup (error);
    const char *name = json_string_value (json_object_get (rec, "phase"));
    s_phase_t phase = P_NONE;
    for (int i = 0; i < P_COUNT && name; i++)
        if (streq (name, s_phase_names[i]))
            phase = (s_phase_t)i;
    /* a record we cannot make sense of is undone as far as it can be */
    if (!rc_name_valid (step->version) || (*step->previous && !rc_name_valid (step->previous))) {
        rc_log_error ("app %s: unreadable step journal: removing it", a->cfg->name);
        rc_journal_clear (a->self->journal, a->cfg->name);
        a->step = NULL;
        s_step_destroy (&step);
        return;
    }
    rc_log_warn ("app %s: step %s/%u was interrupted in phase %s: %s", a->cfg->name, step->id,
                 step->seq, name ? name : "?",
                 phase == P_UNDRAIN || phase == P_DONE ? "finishing it" : "undoing it");
    step->phase = phase;
    if (phase == P_UNDRAIN || phase == P_DONE) {
        s_enter (step, phase);
        return;
    }
    if (phase == P_FINISH) {
        s_enter (step, P_FINISH);
        return;
    }
    if (!step->failed) {
        char why[256];
        snprintf (why, sizeof why, "agent stopped during phase %s; step undone on restart",
                  name ? name : "?");
        step->failed = true;
        s_set (&step->failed_phase, name ? name : "?");
        s_set (&step->error, why);
    }
    s_enter (step, step->switched ? P_REVERT : P_CLEANUP);
}

static void
s_start (s_app_t *a, Rollclone__Instruction *inst, int lock_fd)
{
    s_step_t *step = s_step_new (a, lock_fd);
    step->id = s_strdup (inst->deployment_id);
    step->seq = inst->step;
    step->action = inst->action;
    step->version = s_strdup (inst->version);
    step->artifact = s_strdup (inst->artifact_url);
    step->sha256 = s_strdup (inst->sha256);
    step->signature = s_strdup (inst->signature);
    step->soak_ms = s_or_default (inst->soak_ms, RC_DEFAULT_SOAK_MS);
    step->health_timeout_ms = s_or_default (inst->health_timeout_ms, RC_DEFAULT_HEALTH_TIMEOUT_MS);
    char *current = rc_releases_current (a->cfg->releases_dir);
    step->previous = current ? current : s_strdup ("");
    step->phase = P_NONE;
    step->phase_start = rc_mono_ms ();
    if (mkdir (a->cfg->releases_dir, 0755) != 0 && errno != EEXIST) {
        char err[PATH_MAX + 64];
        snprintf (err, sizeof err, "releases_dir %s: %s", a->cfg->releases_dir, strerror (errno));
        step->failed = true;
        s_set (&step->failed_phase, "check");
        s_set (&step->error, err);
        s_enter (step, P_FINISH);
        return;
    }
    if (step->action == ROLLCLONE__ACTION__ACTION_ROLLBACK && !*step->version) {
        char *points[1];
        if (rc_releases_points (a->cfg->releases_dir, points, 1) == 1) {
            free (step->version);
            step->version = points[0];
        }
    }
    const char *refusal = NULL;
    if (step->action == ROLLCLONE__ACTION__ACTION_ROLLBACK && !*step->version)
        refusal = "no rollback point to go back to";
    else if (step->action == ROLLCLONE__ACTION__ACTION_ROLLBACK
             && !rc_releases_exists (a->cfg->releases_dir, step->version))
        refusal = "the target is not a rollback point of this app";
    if (refusal) {
        step->failed = true;
        s_set (&step->failed_phase, "check");
        s_set (&step->error, refusal);
        s_enter (step, P_FINISH);
        return;
    }
    if (streq (step->version, step->previous)) {
        /* level-triggered: the desired state is already the state */
        s_set (&step->error, "");
        s_enter (step, P_DONE);
        return;
    }
    s_enter (step, P_DRAIN);
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
    else if (inst->action == ROLLCLONE__ACTION__ACTION_UPDATE) {
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
    else if (inst->action == ROLLCLONE__ACTION__ACTION_ROLLBACK) {
        if (*inst->version && !rc_name_valid (inst->version))
            snprintf (err, errlen, "version '%.80s' is not valid", inst->version);
        else
            return NULL;
    }
    else
        snprintf (err, errlen, "action %d is not update or rollback", inst->action);
    return err;
}

/* Starts the app's pending instruction when the app is free. */
static void
s_try_pending (s_app_t *a)
{
    s_self_t *self = a->self;
    if (a->step || !a->pending)
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
    json_t *rec = rc_journal_read (self->journal, a->cfg->name);
    if (rec) {
        s_recover (a, rec, fd);
        json_decref (rec);
        return;
    }
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
    else
        s_start (a, inst, fd);
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
    Rollclone__Heartbeat hb = ROLLCLONE__HEARTBEAT__INIT;
    size_t n = self->app_count;
    Rollclone__AppState *states = calloc (n ? n : 1, sizeof *states);
    Rollclone__AppState **ptrs = calloc (n ? n : 1, sizeof *ptrs);
    char **points = calloc ((n ? n : 1) * S_MAX_POINTS, sizeof *points);
    size_t *counts = calloc (n ? n : 1, sizeof *counts);
    if (!states || !ptrs || !points || !counts)
        abort ();
    for (size_t i = 0; i < n; i++) {
        s_app_state (&self->apps[i], &states[i], points + i * S_MAX_POINTS, S_MAX_POINTS,
                     &counts[i]);
        ptrs[i] = &states[i];
    }
    hb.healthy = self->healthy;
    hb.n_apps = n;
    hb.apps = ptrs;
    zframe_t *frame = zframe_new (NULL, rollclone__heartbeat__get_packed_size (&hb));
    rollclone__heartbeat__pack (&hb, zframe_data (frame));
    zstr_sendm (self->pipe, "STATE");
    zframe_send (&frame, self->pipe, 0);
    for (size_t i = 0; i < n; i++)
        s_app_state_free (&states[i], points + i * S_MAX_POINTS, counts[i]);
    free (states);
    free (ptrs);
    free (points);
    free (counts);
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
                    a->idle_check = rc_health_new (a->cfg, NULL, cwd, a->cfg->health_interval_ms,
                                                   err, sizeof err);
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
        if (a->step && a->step->finished) {
            s_step_t *step = a->step;
            a->step = NULL;
            s_step_destroy (&step);
        }
    }
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_self_t *self = arg;
    for (size_t i = 0; i < self->app_count; i++) {
        s_app_t *a = &self->apps[i];
        if (a->step && !a->step->finished)
            s_poll_step (a->step);
        s_reap (self);
        s_try_pending (a);
        s_reap (self);
    }
    s_idle_health (self);
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
    if (!self.loop)
        abort (); /* out of memory before anything ran: systemd starts us again */
    for (size_t i = 0; i < self.app_count; i++) {
        self.apps[i].self = &self;
        self.apps[i].cfg = &self.cfg->apps[i];
        self.apps[i].idle_healthy = -1;
        s_app_last_load (&self.apps[i]);
    }
    /* Steps interrupted by a crash are undone before anything else; their
       final REPORTs go out as soon as the owner reads the pipe. An app whose
       lock is held belongs to a live process: left alone. */
    for (size_t i = 0; i < self.app_count; i++) {
        s_app_t *a = &self.apps[i];
        json_t *rec = rc_journal_read (self.journal, a->cfg->name);
        if (!rec)
            continue;
        int fd = rc_journal_lock (self.journal, a->cfg->name);
        if (fd >= 0)
            s_recover (a, rec, fd);
        json_decref (rec);
    }
    zloop_set_nonstop (self.loop, true);
    zloop_reader (self.loop, pipe, s_on_pipe, &self);
    zloop_timer (self.loop, RC_EXEC_TICK_MS, 0, s_on_tick, &self);
    zsock_signal (pipe, 0);
    s_reap (&self);
    zloop_start (self.loop);
    /* a step still running stays in the journal: the next start undoes it */
    for (size_t i = 0; i < self.app_count; i++) {
        s_step_destroy (&self.apps[i].step);
        zframe_destroy (&self.apps[i].pending);
        rc_health_destroy (&self.apps[i].idle_check);
        free (self.apps[i].last_id);
    }
    free (self.apps);
    zloop_destroy (&self.loop);
    rc_journal_destroy (&self.journal);
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
       there that nothing frees when the actor ends */
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

/* ---- selftest ---------------------------------------------------------- */

/* Waits for the final REPORT of (id, seq); returns its result. */
static int
s_test_wait (zactor_t *exec, const char *id, uint32_t seq, char *version_now, size_t len)
{
    while (true) {
        zmsg_t *msg = zmsg_recv (exec);
        assert (msg);
        char *command = zmsg_popstr (msg);
        int result = -1;
        if (streq (command, "REPORT")) {
            zframe_t *frame = zmsg_pop (msg);
            Rollclone__StepReport *r =
                rollclone__step_report__unpack (NULL, zframe_size (frame), zframe_data (frame));
            assert (r);
            if (streq (r->deployment_id, id) && r->step == seq
                && r->result != ROLLCLONE__STEP_REPORT__RESULT__RUNNING) {
                result = r->result;
                snprintf (version_now, len, "%s", r->version_now);
            }
            rollclone__step_report__free_unpacked (r, NULL);
            zframe_destroy (&frame);
        }
        free (command);
        zmsg_destroy (&msg);
        if (result >= 0)
            return result;
    }
}

static void
s_test_step_sha (zactor_t *exec, const char *id, int action, const char *version, const char *url,
                 const char *sha256)
{
    Rollclone__Instruction inst = ROLLCLONE__INSTRUCTION__INIT;
    inst.sha256 = (char *)sha256;
    inst.deployment_id = (char *)id;
    inst.step = 1;
    inst.action = action;
    inst.app = "web";
    inst.version = (char *)version;
    inst.artifact_url = (char *)url;
    inst.soak_ms = 1;
    inst.health_timeout_ms = 2000;
    zframe_t *frame = zframe_new (NULL, rollclone__instruction__get_packed_size (&inst));
    rollclone__instruction__pack (&inst, zframe_data (frame));
    zstr_sendm (exec, "STEP");
    zframe_send (&frame, exec, 0);
}

static void
s_test_step (zactor_t *exec, const char *id, int action, const char *version, const char *url)
{
    s_test_step_sha (exec, id, action, version, url, "");
}

/* Selftest: update, a failing update put back, rollback, a repeated step
   answered from the journal, STATE. */
void
rc_executor_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_executor_test.XXXXXX";
    assert (mkdtemp (dir));
    char cmd[1024], url1[PATH_MAX], url2[PATH_MAX], now[64];
    snprintf (cmd, sizeof cmd,
              "cd %s && mkdir -p a b && echo 1 > a/ok && echo 2 > b/x && "
              "tar -czf v1.tgz -C a . && tar -czf v2.tgz -C b .",
              dir);
    assert (system (cmd) == 0);
    snprintf (url1, sizeof url1, "file://%s/v1.tgz", dir);
    snprintf (url2, sizeof url2, "file://%s/v2.tgz", dir);
    char releases[PATH_MAX], state[PATH_MAX], log[PATH_MAX];
    snprintf (releases, sizeof releases, "%s/srv", dir);
    snprintf (state, sizeof state, "%s/state", dir);
    snprintf (log, sizeof log, "%s/hooks.log", dir);
    char restart[PATH_MAX + 64];
    snprintf (restart, sizeof restart, "echo restart $ROLLCLONE_VERSION >> %s", log);

    rc_app_config_t app = {.name = "web",
                           .releases_dir = releases,
                           .restart = restart,
                           /* v2 has no "ok" file: unhealthy */
                           .health_command = "test -f ok",
                           /* also each check's time limit: under load (and
                              ASan) a shell may need more than 50 ms */
                           .health_interval_ms = 500,
                           .hook_timeout_ms = 5000,
                           .keep_releases = 2};
    rc_config_t cfg = {.state_dir = state, .apps = &app, .app_count = 1};
    /* the local operator's executor: any artifact, no sha256 needed */
    char err[256];
    zactor_t *exec = rc_executor_new_local (&cfg, err, sizeof err);
    assert (exec);
    s_test_step (exec, "d1", ROLLCLONE__ACTION__ACTION_UPDATE, "v1", url1);
    assert (s_test_wait (exec, "d1", 1, now, sizeof now)
            == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED);
    assert (streq (now, "v1"));
    s_test_step (exec, "d2", ROLLCLONE__ACTION__ACTION_UPDATE, "v2", url2);
    assert (s_test_wait (exec, "d2", 1, now, sizeof now) == ROLLCLONE__STEP_REPORT__RESULT__FAILED);
    assert (streq (now, "v1"));
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/releases/v2", releases);
    assert (access (path, F_OK) != 0);
    /* repeated: answered from the journal, not run again */
    s_test_step (exec, "d1", ROLLCLONE__ACTION__ACTION_UPDATE, "v1", url1);
    assert (s_test_wait (exec, "d1", 1, now, sizeof now)
            == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED);
    /* bad input: refused at once */
    s_test_step (exec, "d3", ROLLCLONE__ACTION__ACTION_UPDATE, "../x", url1);
    assert (s_test_wait (exec, "d3", 1, now, sizeof now) == ROLLCLONE__STEP_REPORT__RESULT__FAILED);
    s_test_step (exec, "d4", ROLLCLONE__ACTION__ACTION_ROLLBACK, "", "");
    assert (s_test_wait (exec, "d4", 1, now, sizeof now) == ROLLCLONE__STEP_REPORT__RESULT__FAILED);

    zstr_send (exec, "STATE");
    char *command = NULL;
    zframe_t *frame = NULL;
    while (!command || !streq (command, "STATE")) {
        /* a HEALTH message may come first */
        free (command);
        zframe_destroy (&frame);
        command = zstr_recv (exec);
        assert (command);
        frame = zsock_rcvmore (exec) ? zframe_recv (exec) : NULL;
    }
    assert (frame);
    Rollclone__Heartbeat *hb =
        rollclone__heartbeat__unpack (NULL, zframe_size (frame), zframe_data (frame));
    assert (hb && hb->n_apps == 1 && streq (hb->apps[0]->current, "v1") && !hb->apps[0]->busy);
    rollclone__heartbeat__free_unpacked (hb, NULL);
    zframe_destroy (&frame);
    free (command);
    zactor_destroy (&exec);

    /* a coordinator's executor: sha256 required, file:// only from
       artifact_sources (issue 8) */
    char sources[PATH_MAX + 16], sha[RC_SIGNATURE_SHA256_HEX + 1], path1[PATH_MAX];
    snprintf (path1, sizeof path1, "%s/v1.tgz", dir);
    assert (rc_signature_file_sha256 (path1, sha, cmd, sizeof cmd) == 0);
    exec = rc_executor_new (&cfg, err, sizeof err);
    assert (exec);
    s_test_step_sha (exec, "c1", ROLLCLONE__ACTION__ACTION_UPDATE, "v3", url1, sha);
    assert (s_test_wait (exec, "c1", 1, now, sizeof now) == ROLLCLONE__STEP_REPORT__RESULT__FAILED);
    zactor_destroy (&exec);
    /* the config is read by the actor: changed only while none runs; no
       health check, so a loaded machine cannot fail the step on time */
    snprintf (sources, sizeof sources, "file://%s/", dir);
    app.artifact_sources = sources;
    app.health_command = NULL;
    exec = rc_executor_new (&cfg, err, sizeof err);
    assert (exec);
    s_test_step (exec, "c2", ROLLCLONE__ACTION__ACTION_UPDATE, "v3", url1);
    assert (s_test_wait (exec, "c2", 1, now, sizeof now) == ROLLCLONE__STEP_REPORT__RESULT__FAILED);
    s_test_step_sha (exec, "c3", ROLLCLONE__ACTION__ACTION_UPDATE, "v3", url1, sha);
    assert (s_test_wait (exec, "c3", 1, now, sizeof now)
            == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED);
    assert (streq (now, "v3"));
    zactor_destroy (&exec);
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert (system (cmd) == 0);
}
