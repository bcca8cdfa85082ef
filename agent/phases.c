/*  phases.c - the actions of a step's phases (step.h): hooks, the download
    and its signature, unpacking and placing the release, the switch, undoing
    files, and health checks until soak or timeout. Each action starts its
    phase and says whether it is done, failed or waits; what waits is looked
    at again by rc_phase_poll. The machine that chains them is step.c. */
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_signature.h"
#include "rc_time.h"
#include "releases.h"
#include "slots.h"
#include "step.h"
#include "trust.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- paths and environment -------------------------------------------- */

/* File names in the incoming directory: <version>.<suffix>. */
static const char *const s_path_suffix[] = {
    [RC_PATH_ARTIFACT] = "artifact",
    [RC_PATH_PART] = "part",
    [RC_PATH_SIG] = "sig",
    [RC_PATH_OLD] = "old",
};

void
rc_step_path (rc_step_t *step, rc_step_path_t kind, const char *version, char *buf, size_t len)
{
    const char *dir = step->env.cfg->releases_dir;
    if (kind == RC_PATH_RELEASE)
        rc_releases_path (dir, version, buf, len);
    else if (kind == RC_PATH_INCOMING)
        snprintf (buf, len, "%s/%s", dir, RC_INCOMING_DIR);
    else
        snprintf (buf, len, "%s/%s/%s.%s", dir, RC_INCOMING_DIR, version, s_path_suffix[kind]);
}

static bool
s_exists (const char *path)
{
    struct stat st;
    return lstat (path, &st) == 0;
}

unsigned
rc_step_slot (rc_step_t *step)
{
    if (!step->env.cfg->slot_count)
        return 0;
    switch (step->phase) {
    /* the slot that served before the step */
    case RC_PHASE_DRAIN:
    case RC_PHASE_STOP:
    case RC_PHASE_REVERT_UNDRAIN: return step->slot_from;
    default: return step->slot_to;
    }
}

/* The version a hook of this phase is about: the target going forward, the
   one being restored when reverting; with slots, the one its slot runs. */
static const char *
s_live_version (rc_step_t *step)
{
    if (step->env.cfg->slot_count)
        return rc_step_slot (step) == step->slot_from && step->slot_from ? step->previous
                                                                         : step->version;
    return rc_step_reverting (step) ? step->previous : step->version;
}

static const char *const *
s_env (rc_step_t *step)
{
    char release[PATH_MAX] = "";
    const char *version = s_live_version (step);
    const char *other = streq (version, step->version) ? step->previous : step->version;
    if (*version)
        rc_step_path (step, RC_PATH_RELEASE, version, release, sizeof release);
    struct {
        const char *key, *value;
    } vars[] = {
        {"ROLLCLONE_APP", step->env.cfg->name},
        {"ROLLCLONE_VERSION", version},
        {"ROLLCLONE_PREVIOUS_VERSION", other},
        {"ROLLCLONE_RELEASE_DIR", release},
        {"ROLLCLONE_ARTIFACT", step->artifact},
        {"ROLLCLONE_DEPLOYMENT", step->id},
        {"ROLLCLONE_PHASE", rc_phase_name (step->phase)},
    };
    _Static_assert(sizeof vars / sizeof vars[0] + RC_SLOTS_ENV_VARS + 1 == RC_STEP_ENV_VARS,
                   "RC_STEP_ENV_VARS");
    for (size_t i = 0; i < RC_STEP_ENV_VARS; i++) {
        free (step->env_store[i]);
        step->env_store[i] = NULL;
    }
    size_t at = 0;
    for (; at < sizeof vars / sizeof vars[0]; at++)
        if (asprintf (&step->env_store[at], "%s=%s", vars[at].key, vars[at].value) < 0)
            abort ();
    /* surge clones: the slot this phase acts on */
    rc_slots_env (step->env.cfg, rc_step_slot (step), step->env_store, &at);
    return (const char *const *)step->env_store;
}

/* ---- hooks ------------------------------------------------------------ */

rc_step_outcome_t
rc_phase_hook (rc_step_t *step, const char *hook)
{
    if (!hook || !*hook)
        return RC_STEP_OK;
    const rc_app_config_t *app = step->env.cfg;
    char cwd[PATH_MAX];
    const char *version = s_live_version (step);
    if (*version && rc_releases_exists (app->releases_dir, version))
        rc_step_path (step, RC_PATH_RELEASE, version, cwd, sizeof cwd);
    else
        snprintf (cwd, sizeof cwd, "%s", app->releases_dir);
    char err[512];
    rc_child_opts_t opts =
        rc_child_shell (hook, s_env (step), cwd, app->user, app->hook_timeout_ms);
    step->child = rc_child_new (&opts, err, sizeof err);
    if (!step->child)
        return rc_step_fail (step, -1, err, NULL);
    return RC_STEP_WAIT;
}

static rc_step_outcome_t
s_poll_child (rc_step_t *step)
{
    if (!rc_child_poll (step->child))
        return RC_STEP_WAIT;
    int code = rc_child_exit_code (step->child);
    bool timed_out = rc_child_timed_out (step->child);
    char *tail = strdup (rc_child_output (step->child));
    if (!tail)
        abort (); /* out of memory in the middle of a step: nothing safe to do */
    rc_child_destroy (&step->child);
    rc_step_outcome_t out = RC_STEP_OK;
    if (timed_out || code != 0) {
        char err[256], dur[32];
        const char *phase = rc_phase_name (step->phase);
        if (timed_out)
            snprintf (err, sizeof err, "%s hook timed out after %s: process group killed", phase,
                      rc_duration_format (step->env.cfg->hook_timeout_ms, dur, sizeof dur));
        else
            snprintf (err, sizeof err, "%s hook exited with status %d", phase, code);
        out = rc_step_fail (step, code, err, tail);
    }
    free (tail);
    return out;
}

/* ---- load balancer ------------------------------------------------------ */

static bool
s_undrain_phase (rc_step_t *step)
{
    return step->phase == RC_PHASE_UNDRAIN || step->phase == RC_PHASE_REVERT_UNDRAIN;
}

static rc_step_outcome_t
s_start_lb (rc_step_t *step, rc_lb_op_t op)
{
    step->lb = rc_lb_new (step->env.cfg, op, rc_step_slot (step));
    return step->lb ? RC_STEP_WAIT : RC_STEP_OK;
}

/* The provider's run, once it has ended: drain goes on with the hook. */
static rc_step_outcome_t
s_poll_lb (rc_step_t *step)
{
    rc_lb_status_t st = rc_lb_poll (step->lb);
    if (st == RC_LB_RUNNING)
        return RC_STEP_WAIT;
    rc_step_outcome_t out = RC_STEP_OK;
    if (st == RC_LB_FAILED)
        out = rc_step_fail (step, -1, rc_lb_errmsg (step->lb), NULL);
    rc_lb_destroy (&step->lb);
    if (out == RC_STEP_OK && !s_undrain_phase (step))
        out = rc_phase_hook (step, step->env.cfg->drain);
    return out;
}

rc_step_outcome_t
rc_phase_drain (rc_step_t *step)
{
    if (rc_lb_configured (step->env.cfg))
        return s_start_lb (step, RC_LB_DRAIN);
    return rc_phase_hook (step, step->env.cfg->drain);
}

/* The undrain's provider run, after its hook. Undoing a failed step puts
   back only what the LB knows: a drain refused for an unknown server left
   nothing of it to put back. */
static rc_step_outcome_t
s_undrain_lb (rc_step_t *step)
{
    return s_start_lb (step, rc_step_reverting (step) ? RC_LB_RESTORE : RC_LB_UNDRAIN);
}

rc_step_outcome_t
rc_phase_undrain (rc_step_t *step)
{
    rc_step_outcome_t out = rc_phase_hook (step, step->env.cfg->undrain);
    return out == RC_STEP_OK ? s_undrain_lb (step) : out;
}

/* ---- download and signature ------------------------------------------- */

rc_step_outcome_t
rc_phase_fetch (rc_step_t *step)
{
    char incoming[PATH_MAX], dest[PATH_MAX], part[PATH_MAX], releases[PATH_MAX];
    char err[PATH_MAX + 256];
    const rc_app_config_t *app = step->env.cfg;
    rc_step_path (step, RC_PATH_INCOMING, NULL, incoming, sizeof incoming);
    rc_step_path (step, RC_PATH_ARTIFACT, step->version, dest, sizeof dest);
    rc_step_path (step, RC_PATH_PART, step->version, part, sizeof part);
    snprintf (releases, sizeof releases, "%s/releases", app->releases_dir);
    if ((mkdir (incoming, 0755) != 0 && errno != EEXIST)
        || (mkdir (releases, 0755) != 0 && errno != EEXIST)) {
        snprintf (err, sizeof err, "cannot create %s: %s", incoming, strerror (errno));
        return rc_step_fail (step, -1, err, NULL);
    }
    /* leftovers of an earlier attempt */
    rc_releases_remove_tree (dest);
    rc_releases_remove_tree (part);
    rc_fetch_limits_t limits = {.max_bytes = app->max_artifact_bytes,
                                .timeout_ms = app->fetch_timeout_ms};
    step->fetch = rc_fetch_new (step->artifact, dest, step->sha256, &limits, err, sizeof err);
    if (!step->fetch)
        return rc_step_fail (step, -1, err, NULL);
    return RC_STEP_WAIT;
}

/* After the download, before anything is unpacked: with trusted_signers
   the artifact needs a valid signature, carried in the instruction or
   fetched from URL.sig. */
static rc_step_outcome_t
s_verify (rc_step_t *step, const char *sig, size_t len)
{
    char artifact[PATH_MAX], err[1024];
    rc_step_path (step, RC_PATH_ARTIFACT, step->version, artifact, sizeof artifact);
    if (rc_trust_verify (step->env.cfg, artifact, step->version, sig, len, err, sizeof err) != 0) {
        char why[1200];
        snprintf (why, sizeof why, "artifact refused: %s", err);
        return rc_step_fail (step, -1, why, NULL);
    }
    rc_log_info ("app %s: artifact of %s verified (trusted_signers %s)", step->env.cfg->name,
                 step->version, step->env.cfg->trusted_signers);
    return RC_STEP_OK;
}

static rc_step_outcome_t
s_start_signature (rc_step_t *step)
{
    if (!rc_trust_signed (step->env.cfg))
        return RC_STEP_OK;
    if (*step->signature)
        return s_verify (step, step->signature, strlen (step->signature));
    char dest[PATH_MAX], err[PATH_MAX + 256];
    rc_step_path (step, RC_PATH_SIG, step->version, dest, sizeof dest);
    char *url = rc_trust_signature_url (step->artifact);
    if (!url)
        abort ();
    /* a .sig is small: anything longer is refused, not read */
    rc_fetch_limits_t limits = {.max_bytes = RC_SIGNATURE_FILE_MAX,
                                .timeout_ms = step->env.cfg->fetch_timeout_ms};
    step->sigfetch = rc_fetch_new (url, dest, NULL, &limits, err, sizeof err);
    free (url);
    if (!step->sigfetch) {
        char why[sizeof err + 512];
        snprintf (why, sizeof why,
                  "artifact refused: no signature at %.400s.sig (trusted_signers): %s",
                  step->artifact, err);
        return rc_step_fail (step, -1, why, NULL);
    }
    return RC_STEP_WAIT;
}

static rc_step_outcome_t
s_poll_signature (rc_step_t *step)
{
    char err[1024];
    rc_fetch_status_t st = rc_fetch_poll (step->sigfetch);
    if (st == RC_FETCH_RUNNING && rc_fetch_bytes (step->sigfetch) <= RC_SIGNATURE_FILE_MAX)
        return RC_STEP_WAIT;
    if (st == RC_FETCH_FAILED || st == RC_FETCH_RUNNING) {
        snprintf (err, sizeof err,
                  "artifact refused: no signature at %.400s.sig (trusted_signers): %.400s",
                  step->artifact,
                  st == RC_FETCH_RUNNING ? "larger than a signature"
                                         : rc_fetch_errmsg (step->sigfetch));
        return rc_step_fail (step, -1, err, NULL);
    }
    rc_fetch_destroy (&step->sigfetch);
    char path[PATH_MAX], text[RC_SIGNATURE_FILE_MAX + 1];
    rc_step_path (step, RC_PATH_SIG, step->version, path, sizeof path);
    FILE *f = fopen (path, "rb");
    size_t n = f ? fread (text, 1, sizeof text, f) : 0;
    if (f)
        fclose (f);
    unlink (path);
    if (!f || n > RC_SIGNATURE_FILE_MAX) {
        snprintf (err, sizeof err, "artifact refused: cannot read the signature %.900s", path);
        return rc_step_fail (step, -1, err, NULL);
    }
    return s_verify (step, text, n);
}

static rc_step_outcome_t
s_poll_fetch (rc_step_t *step)
{
    rc_fetch_status_t st = rc_fetch_poll (step->fetch);
    if (st == RC_FETCH_DONE) {
        rc_fetch_destroy (&step->fetch);
        return s_start_signature (step);
    }
    if (st == RC_FETCH_FAILED) {
        char err[600];
        snprintf (err, sizeof err, "%s", rc_fetch_errmsg (step->fetch));
        return rc_step_fail (step, -1, err, NULL);
    }
    return RC_STEP_WAIT;
}

/* ---- unpack and place -------------------------------------------------- */

rc_step_outcome_t
rc_phase_unpack (rc_step_t *step)
{
    char artifact[PATH_MAX], part[PATH_MAX], err[PATH_MAX + 256];
    rc_step_path (step, RC_PATH_ARTIFACT, step->version, artifact, sizeof artifact);
    rc_step_path (step, RC_PATH_PART, step->version, part, sizeof part);
    if (mkdir (part, 0755) != 0) {
        snprintf (err, sizeof err, "cannot create %s: %s", part, strerror (errno));
        return rc_step_fail (step, -1, err, NULL);
    }
    char *name = rc_unpack_file_name (step->artifact);
    rc_unpack_limits_t limits = {.max_unpacked_bytes = step->env.cfg->max_unpacked_bytes};
    step->unpack = rc_unpack_new (artifact, part, name, &limits, err, sizeof err);
    free (name);
    if (!step->unpack)
        return rc_step_fail (step, -1, err, NULL);
    return RC_STEP_WAIT;
}

/* Moves the unpacked tree to releases/<version>; an older directory of the
   same version (a rollback point being installed again) is set aside and
   restored if the step fails. */
static rc_step_outcome_t
s_place (rc_step_t *step)
{
    char part[PATH_MAX], release[PATH_MAX], aside[PATH_MAX], artifact[PATH_MAX];
    char err[3 * PATH_MAX];
    rc_step_path (step, RC_PATH_PART, step->version, part, sizeof part);
    rc_step_path (step, RC_PATH_RELEASE, step->version, release, sizeof release);
    rc_step_path (step, RC_PATH_OLD, step->version, aside, sizeof aside);
    rc_step_path (step, RC_PATH_ARTIFACT, step->version, artifact, sizeof artifact);
    unlink (artifact);
    bool had = s_exists (release);
    step->aside = had;
    step->placed = true;
    rc_step_journal (step); /* before the renames: recovery knows what to undo */
    rc_releases_remove_tree (aside);
    if (had && rename (release, aside) != 0) {
        snprintf (err, sizeof err, "cannot move %s aside: %s", release, strerror (errno));
        return rc_step_fail (step, -1, err, NULL);
    }
    if (rename (part, release) != 0) {
        snprintf (err, sizeof err, "cannot rename %s to %s: %s", part, release, strerror (errno));
        return rc_step_fail (step, -1, err, NULL);
    }
    rc_releases_sync_dir (step->env.cfg->releases_dir);
    return RC_STEP_OK;
}

static rc_step_outcome_t
s_poll_unpack (rc_step_t *step)
{
    rc_unpack_status_t st = rc_unpack_poll (step->unpack);
    if (st == RC_UNPACK_DONE) {
        rc_unpack_destroy (&step->unpack);
        return s_place (step);
    }
    if (st == RC_UNPACK_FAILED) {
        char err[PATH_MAX + 256];
        snprintf (err, sizeof err, "%s", rc_unpack_errmsg (step->unpack));
        return rc_step_fail (step, -1, err, NULL);
    }
    return RC_STEP_WAIT;
}

void
rc_phase_undo_files (rc_step_t *step)
{
    if (step->action != ROLLCLONE__ACTION__ACTION_UPDATE
        && step->action != ROLLCLONE__ACTION__ACTION_STAGE)
        return;
    char path[PATH_MAX], release[PATH_MAX], aside[PATH_MAX];
    rc_step_path (step, RC_PATH_RELEASE, step->version, release, sizeof release);
    rc_step_path (step, RC_PATH_OLD, step->version, aside, sizeof aside);
    if (step->aside && s_exists (aside)) {
        rc_releases_remove_tree (release);
        rename (aside, release);
    }
    else if (!step->aside && step->placed)
        rc_releases_remove_tree (release);
    /* what the download, the extraction and the signature left */
    const rc_step_path_t leftovers[] = {RC_PATH_ARTIFACT, RC_PATH_PART, RC_PATH_SIG};
    for (size_t i = 0; i < sizeof leftovers / sizeof leftovers[0]; i++) {
        rc_step_path (step, leftovers[i], step->version, path, sizeof path);
        rc_releases_remove_tree (path);
    }
    rc_step_path (step, RC_PATH_INCOMING, NULL, path, sizeof path);
    rmdir (path); /* only when empty */
    rc_releases_sync_dir (step->env.cfg->releases_dir);
}

/* ---- switch and revert ------------------------------------------------- */

/* Surge clones: the idle slot's link to the target. What ran warm there
   is replaced by it: no longer warm. */
static rc_step_outcome_t
s_switch_slot (rc_step_t *step)
{
    const rc_app_config_t *app = step->env.cfg;
    char err[512];
    rc_slots_t slots;
    rc_slots_load (step->env.journal, app->name, &slots);
    if (*slots.warm_version) {
        rc_log_info ("app %s: %s warm on slot %u is replaced by %s", app->name, slots.warm_version,
                     step->slot_to, step->version);
        slots.warm_version[0] = '\0';
        rc_slots_save (step->env.journal, app->name, &slots);
    }
    if (rc_slots_link (app->releases_dir, step->slot_to, step->version, err, sizeof err) != 0)
        return rc_step_fail (step, -1, err, NULL);
    return RC_STEP_OK;
}

rc_step_outcome_t
rc_phase_switch (rc_step_t *step)
{
    char err[512];
    if (step->env.cfg->slot_count)
        return s_switch_slot (step);
    if (rc_releases_switch (step->env.cfg->releases_dir, step->version, err, sizeof err) != 0)
        return rc_step_fail (step, -1, err, NULL);
    return RC_STEP_OK;
}

rc_step_outcome_t
rc_phase_settle (rc_step_t *step)
{
    const rc_app_config_t *app = step->env.cfg;
    if (app->slot_count && step->action == ROLLCLONE__ACTION__ACTION_STAGE && step->switched) {
        /* staged: warm on the idle slot, out of rotation, until a switch
           or keep_warm */
        rc_slots_t slots;
        rc_slots_load (step->env.journal, app->name, &slots);
        snprintf (slots.warm_version, sizeof slots.warm_version, "%s", step->version);
        slots.warm_until_ms = rc_now_ms () + app->keep_warm_ms;
        rc_slots_save (step->env.journal, app->name, &slots);
        return RC_STEP_OK;
    }
    if (!app->slot_count || !step->offered)
        return RC_STEP_OK; /* nothing moved: the state is already the state */
    char err[512];
    /* current follows the serving slot; the slots are the truth, so a
       link that cannot be made is told, not undone */
    if (rc_releases_switch (app->releases_dir, step->version, err, sizeof err) != 0)
        rc_log_error ("app %s: %s", app->name, err);
    rc_slots_t slots = {.serving = step->slot_to};
    bool stopped = step->warm_hit && step->action == ROLLCLONE__ACTION__ACTION_ROLLBACK;
    if (step->slot_from && !stopped && *step->previous) {
        snprintf (slots.warm_version, sizeof slots.warm_version, "%s", step->previous);
        slots.warm_until_ms = rc_now_ms () + app->keep_warm_ms;
    }
    rc_slots_save (step->env.journal, app->name, &slots);
    return RC_STEP_OK;
}

rc_step_outcome_t
rc_phase_cleanup (rc_step_t *step)
{
    rc_phase_undo_files (step);
    return RC_STEP_OK;
}

rc_step_outcome_t
rc_phase_revert (rc_step_t *step)
{
    char err[512];
    if (step->env.cfg->slot_count) {
        /* the new slot is stopped: nothing runs from its link */
        if (step->switched
            && rc_slots_link (step->env.cfg->releases_dir, step->slot_to, NULL, err, sizeof err)
                   != 0)
            return rc_step_fail (step, -1, err, NULL);
        rc_phase_undo_files (step);
        return RC_STEP_OK;
    }
    if (rc_releases_switch (step->env.cfg->releases_dir, *step->previous ? step->previous : NULL,
                            err, sizeof err)
        != 0)
        return rc_step_fail (step, -1, err, NULL);
    rc_phase_undo_files (step);
    return RC_STEP_OK;
}

/* ---- health ------------------------------------------------------------ */

rc_step_outcome_t
rc_phase_health (rc_step_t *step)
{
    if (!rc_health_configured (step->env.cfg))
        return RC_STEP_OK;
    int64_t now = rc_mono_ms ();
    step->health_deadline = now + step->health_timeout_ms;
    step->healthy_since = 0;
    step->next_check = now;
    step->check_gap = 0;
    step->passed_once = false;
    step->health_detail[0] = '\0';
    return RC_STEP_WAIT;
}

/* The gap from this check's start to the next one's: health_interval
   once a check passed; before, a ramp from RC_HEALTH_FIRST_GAP_MS that
   doubles up to health_interval (agent_defaults.h). */
static int64_t
s_check_gap (rc_step_t *step)
{
    int64_t interval = step->env.cfg->health_interval_ms;
    if (step->passed_once)
        return interval;
    step->check_gap = step->check_gap ? 2 * step->check_gap : RC_HEALTH_FIRST_GAP_MS;
    if (step->check_gap > interval)
        step->check_gap = interval;
    return step->check_gap;
}

static rc_step_outcome_t
s_poll_health (rc_step_t *step)
{
    int64_t now = rc_mono_ms ();
    const rc_app_config_t *app = step->env.cfg;
    if (step->health) {
        rc_health_status_t st = rc_health_poll (step->health);
        if (st == RC_HEALTH_RUNNING)
            return RC_STEP_WAIT;
        if (st == RC_HEALTH_OK) {
            if (!step->healthy_since)
                step->healthy_since = now;
            step->passed_once = true;
        }
        else {
            step->healthy_since = 0;
            snprintf (step->health_detail, sizeof step->health_detail, "%s",
                      rc_health_detail (step->health));
        }
        rc_health_destroy (&step->health);
    }
    if (step->healthy_since && now - step->healthy_since >= step->soak_ms)
        return RC_STEP_OK;
    if (now >= step->health_deadline) {
        char err[RC_OUTPUT_TAIL_BYTES + 512];
        char dur[32];
        snprintf (err, sizeof err, "not healthy within %s: %s",
                  rc_duration_format (step->health_timeout_ms, dur, sizeof dur),
                  step->health_detail[0] ? step->health_detail : "no passing check");
        return rc_step_fail (step, -1, err, step->health_detail);
    }
    if (now >= step->next_check) {
        char cwd[PATH_MAX], err[512];
        rc_step_path (step, RC_PATH_RELEASE, s_live_version (step), cwd, sizeof cwd);
        int64_t timeout = app->health_interval_ms;
        if (timeout > step->health_deadline - now)
            timeout = step->health_deadline - now;
        step->health =
            rc_health_new (app, rc_step_slot (step), s_env (step), cwd, timeout, err, sizeof err);
        if (!step->health) {
            step->healthy_since = 0;
            snprintf (step->health_detail, sizeof step->health_detail, "%s", err);
        }
        step->next_check = now + s_check_gap (step);
    }
    return RC_STEP_WAIT;
}

/* ---- polling ------------------------------------------------------------ */

rc_step_outcome_t
rc_phase_poll (rc_step_t *step)
{
    if (step->lb)
        return s_poll_lb (step);
    if (step->child) {
        rc_step_outcome_t out = s_poll_child (step);
        if (out == RC_STEP_OK && s_undrain_phase (step))
            out = s_undrain_lb (step);
        return out;
    }
    if (step->fetch)
        return s_poll_fetch (step);
    if (step->sigfetch)
        return s_poll_signature (step);
    if (step->unpack)
        return s_poll_unpack (step);
    if (step->phase == RC_PHASE_HEALTH || step->phase == RC_PHASE_REVERT_HEALTH)
        return s_poll_health (step);
    return RC_STEP_WAIT;
}

void
rc_phase_watch (rc_step_t *step, rc_watch_t *w)
{
    if (step->lb)
        rc_lb_watch (step->lb, w);
    else if (step->child)
        rc_child_watch (step->child, w);
    else if (step->fetch)
        rc_fetch_watch (step->fetch, w);
    else if (step->sigfetch)
        rc_fetch_watch (step->sigfetch, w);
    else if (step->unpack)
        rc_unpack_watch (step->unpack, w);
    else if (step->phase == RC_PHASE_HEALTH || step->phase == RC_PHASE_REVERT_HEALTH) {
        /* the check out, or the next one; the soak's end; the deadline */
        if (step->health)
            rc_health_watch (step->health, w);
        else
            rc_watch_at (w, step->next_check);
        if (step->healthy_since)
            rc_watch_at (w, step->healthy_since + step->soak_ms);
        rc_watch_at (w, step->health_deadline);
    }
}

void
rc_phase_stop (rc_step_t *step)
{
    rc_lb_destroy (&step->lb);
    rc_child_destroy (&step->child);
    rc_fetch_destroy (&step->fetch);
    rc_fetch_destroy (&step->sigfetch);
    rc_unpack_destroy (&step->unpack);
    rc_health_destroy (&step->health);
}
