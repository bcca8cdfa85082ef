/*  rollout.c - the transitions of a deployment and of its hosts (see
    rollout.h). Each function makes the transitions it can make now on the
    records it is given; nothing here commits or publishes. */
#include "rollout.h"
#include "bluegreen.h"
#include "metrics.h"
#include "rc_join.h"
#include "rc_log.h"
#include "rc_time.h"
#include "strategy.h"
#include "window.h"

#include <stdio.h>
#include <string.h>

struct _rc_rollout_t {
    rc_store_t *store;     /* borrowed */
    rc_host_view_fn *view; /* live view of the fleet */
    void *view_arg;
    zhashx_t *clocks;         /* deployment id -> s_clock_t of active ones */
    zhashx_t *unknown;        /* "deployment/host" -> mono ms it went unknown */
    rc_freeze_t *freeze;      /* borrowed: when no batch may start, or NULL */
    rc_rollout_gate_fn *gate; /* analysis gates (checks.c), or NULL */
    void *gate_arg;
};

/* The monotonic side of a deployment's timers, kept while it is active:
   rebuilt from the row's durations when the coordinator starts. */
typedef struct {
    int64_t progress;    /* mono ms of the last progress */
    int64_t pause_until; /* mono ms the timed pause ends, 0 = none */
    int64_t saved;       /* mono ms the durations were last written */
} s_clock_t;

/* The host transitions: from (row) -> to (column). Staying is always
   allowed; a host leaves `unknown` for the step it was in. */
#define H(s) (1u << RC_HOST_##s)
static const unsigned s_host_next[RC_HOST_STATE_COUNT] = {
    [RC_HOST_NONE] = H (PENDING) | H (ROLLBACK_PENDING),
    [RC_HOST_PENDING] = H (UPDATING) | H (FAILED),
    /* staged: blue-green, the stage step done (updating again for the
       switch) */
    [RC_HOST_UPDATING] = H (SUCCEEDED) | H (FAILED) | H (UNKNOWN) | H (STAGED),
    /* failed: offline at the switch */
    [RC_HOST_STAGED] = H (UPDATING) | H (FAILED),
    [RC_HOST_UNKNOWN] = H (UPDATING) | H (ROLLING_BACK) | H (FAILED) | H (ROLLBACK_FAILED),
    /* rollback_pending: the deployment rolls back; rolled_back, failed:
       reconciled with what the agent runs */
    [RC_HOST_SUCCEEDED] = H (ROLLBACK_PENDING) | H (ROLLED_BACK) | H (FAILED),
    /* failed -> rolling_back -> failed: a host failed by an analysis gate
       is put back at once, the deployment going on (rc_rollout_put_back) */
    [RC_HOST_FAILED] = H (ROLLBACK_PENDING) | H (SUCCEEDED) | H (ROLLING_BACK),
    [RC_HOST_ROLLBACK_PENDING] = H (ROLLING_BACK) | H (ROLLBACK_FAILED) | H (ROLLED_BACK),
    [RC_HOST_ROLLING_BACK] = H (ROLLED_BACK) | H (ROLLBACK_FAILED) | H (UNKNOWN) | H (FAILED),
    [RC_HOST_ROLLED_BACK] = H (ROLLBACK_PENDING) | H (SUCCEEDED),
    [RC_HOST_ROLLBACK_FAILED] = H (ROLLBACK_PENDING) | H (ROLLED_BACK) | H (SUCCEEDED),
};
#undef H

/* The deployment transitions, the same way. An ended deployment rolls
   back again when the operator asks, or when a host comes back on the
   release it was rolled back from. */
#define D(s) (1u << RC_DEP_##s)
#define S_DEP_END D (SUCCEEDED) | D (FAILED) | D (ABORTED) | D (ROLLED_BACK) | D (ROLLBACK_FAILED)
static const unsigned s_dep_next[RC_DEP_STATE_COUNT] = {
    [RC_DEP_NONE] = D (RUNNING) | D (ROLLING_BACK),
    [RC_DEP_RUNNING] = D (PAUSED) | D (ROLLING_BACK) | S_DEP_END,
    [RC_DEP_PAUSED] = D (RUNNING) | D (ROLLING_BACK) | S_DEP_END,
    [RC_DEP_ROLLING_BACK] = D (ROLLED_BACK) | D (ROLLBACK_FAILED) | D (ABORTED),
    [RC_DEP_SUCCEEDED] = D (ROLLING_BACK),
    [RC_DEP_FAILED] = D (ROLLING_BACK),
    [RC_DEP_ABORTED] = D (ROLLING_BACK),
    [RC_DEP_ROLLED_BACK] = D (ROLLING_BACK),
    [RC_DEP_ROLLBACK_FAILED] = D (ROLLING_BACK) | D (ROLLED_BACK) | D (ABORTED),
};
#undef D
#undef S_DEP_END

bool
rc_rollout_host_may (rc_host_state_t from, rc_host_state_t to)
{
    if ((unsigned)from >= RC_HOST_STATE_COUNT || (unsigned)to >= RC_HOST_STATE_COUNT)
        return false;
    return from == to || (s_host_next[from] & (1u << to)) != 0;
}

bool
rc_rollout_dep_may (rc_dep_state_t from, rc_dep_state_t to)
{
    if ((unsigned)from >= RC_DEP_STATE_COUNT || (unsigned)to >= RC_DEP_STATE_COUNT)
        return false;
    return from == to || (s_dep_next[from] & (1u << to)) != 0;
}

void
rc_rollout_host_state (rc_dhost_t *h, rc_host_state_t state)
{
    if (!rc_rollout_host_may (h->state, state))
        rc_log_error ("bug: host %s: %s -> %s is not a host transition", h->host_id,
                      rc_host_state_name (h->state), rc_host_state_name (state));
    h->state = state;
    h->dirty = true;
}

void
rc_rollout_dep_state (rc_deployment_t *dep, rc_dep_state_t state)
{
    if (!rc_rollout_dep_may (dep->state, state))
        rc_log_error ("bug: deployment %s: %s -> %s is not a deployment transition", dep->id,
                      rc_dep_state_name (dep->state), rc_dep_state_name (state));
    dep->state = state;
}

rc_rollout_t *
rc_rollout_new (rc_store_t *store, rc_host_view_fn *view, void *arg)
{
    rc_rollout_t *self = (rc_rollout_t *)zmalloc (sizeof *self);
    self->store = store;
    self->view = view;
    self->view_arg = arg;
    self->clocks = zhashx_new ();
    zhashx_set_destructor (self->clocks, (zhashx_destructor_fn *)zstr_free);
    self->unknown = zhashx_new ();
    zhashx_set_destructor (self->unknown, (zhashx_destructor_fn *)zstr_free);
    return self;
}

void
rc_rollout_destroy (rc_rollout_t **self_p)
{
    if (self_p && *self_p) {
        zhashx_destroy (&(*self_p)->clocks);
        zhashx_destroy (&(*self_p)->unknown);
        free (*self_p);
        *self_p = NULL;
    }
}

void
rc_rollout_set_freeze (rc_rollout_t *self, rc_freeze_t *freeze)
{
    self->freeze = freeze;
}

void
rc_rollout_set_gate (rc_rollout_t *self, rc_rollout_gate_fn *fn, void *arg)
{
    self->gate = fn;
    self->gate_arg = arg;
}

/* ------------------------------------------------------------------------ */
/* Timers */

/* The clock of dep, made from its row when there is none yet. */
static s_clock_t *
s_clock (rc_rollout_t *self, const rc_deployment_t *dep, int64_t mono)
{
    s_clock_t *clk = (s_clock_t *)zhashx_lookup (self->clocks, dep->id);
    if (clk)
        return clk;
    clk = (s_clock_t *)zmalloc (sizeof *clk);
    clk->progress = mono - (dep->progress_elapsed_ms > 0 ? dep->progress_elapsed_ms : 0);
    if (dep->pause_until)
        clk->pause_until = mono + (dep->pause_remaining_ms > 0 ? dep->pause_remaining_ms : 0);
    clk->saved = mono;
    zhashx_insert (self->clocks, dep->id, clk);
    return clk;
}

bool
rc_rollout_clock_save (rc_rollout_t *self, rc_deployment_t *dep, bool changed, int64_t now)
{
    /* the timers' durations go with every change, and now and then
       without one, so a restart loses little of them */
    int64_t mono = rc_mono_ms ();
    s_clock_t *clk = s_clock (self, dep, mono);
    if (!changed && mono - clk->saved < RC_ROLLOUT_CLOCK_SAVE_MS)
        return false;
    dep->progress_elapsed_ms = mono - clk->progress;
    if (clk->pause_until) {
        int64_t left = clk->pause_until > mono ? clk->pause_until - mono : 0;
        dep->pause_remaining_ms = left;
        dep->pause_until = now + left;
    }
    else
        dep->pause_remaining_ms = dep->pause_until = 0;
    clk->saved = mono;
    return true;
}

void
rc_rollout_forget (rc_rollout_t *self, const char *id)
{
    zhashx_delete (self->clocks, id);
}

void
rc_rollout_progress (rc_rollout_t *self, rc_deployment_t *dep, int64_t now)
{
    int64_t mono = rc_mono_ms ();
    s_clock (self, dep, mono)->progress = mono;
    dep->progress = now;
    dep->progress_elapsed_ms = 0;
}

int64_t
rc_rollout_next_timer (rc_rollout_t *self, const rc_deployment_t *dep)
{
    s_clock_t *clk = s_clock (self, dep, rc_mono_ms ());
    int64_t at = INT64_MAX;
    if (dep->progress_deadline_ms > 0)
        at = clk->progress + dep->progress_deadline_ms + 1;
    if (clk->pause_until && clk->pause_until < at)
        at = clk->pause_until;
    return at;
}

static int64_t
s_since_progress (rc_rollout_t *self, const rc_deployment_t *dep)
{
    int64_t mono = rc_mono_ms ();
    return mono - s_clock (self, dep, mono)->progress;
}

static void
s_unknown_key (const rc_deployment_t *dep, const rc_dhost_t *h, char *key, size_t len)
{
    snprintf (key, len, "%s/%s", dep->id, h->host_id);
}

/* How long h has been unknown. Kept in memory on the monotonic clock: a
   restarted coordinator starts the count again, giving the host its whole
   grace (it could not have reported while we were down). */
static int64_t
s_unknown_for (rc_rollout_t *self, const rc_deployment_t *dep, const rc_dhost_t *h, int64_t mono)
{
    char key[RC_ID_MAX + RC_NAME_MAX + 2];
    s_unknown_key (dep, h, key, sizeof key);
    int64_t *since = (int64_t *)zhashx_lookup (self->unknown, key);
    if (!since) {
        since = (int64_t *)zmalloc (sizeof *since);
        *since = mono;
        zhashx_insert (self->unknown, key, since);
    }
    return mono - *since;
}

/* h leaves its step (or its unknown state) for good. */
static void
s_unknown_forget (rc_rollout_t *self, const rc_deployment_t *dep, rc_dhost_t *h)
{
    char key[RC_ID_MAX + RC_NAME_MAX + 2];
    s_unknown_key (dep, h, key, sizeof key);
    zhashx_delete (self->unknown, key);
    h->unknown_of = RC_HOST_NONE;
}

/* ------------------------------------------------------------------------ */
/* Host transitions */

static bool
s_host_live (rc_rollout_t *self, const char *host_id, bool *healthy)
{
    bool online = false;
    *healthy = false;
    if (!self->view (self->view_arg, host_id, &online, healthy))
        return false;
    return online;
}

bool
rc_rollout_in_step (const rc_dhost_t *h, rc_host_state_t step)
{
    return h->state == step || (h->state == RC_HOST_UNKNOWN && h->unknown_of == step);
}

int
rc_rollout_host_fail (rc_rollout_t *self, const rc_deployment_t *dep, rc_dhost_t *h,
                      rc_host_state_t state, const char *failure, bool needs_rollback,
                      const char *error, int64_t now)
{
    rc_rollout_host_state (h, state);
    rc_metrics_count_failure (failure);
    RC_SET (h->failure, failure);
    RC_SET (h->error, error);
    h->finished = now;
    if (needs_rollback)
        h->needs_rollback = true;
    return rc_store_eventf (self->store, dep->id, h->host_id,
                            state == RC_HOST_FAILED ? "host_failed" : rc_host_state_name (state),
                            "%s: %s", failure, error);
}

int
rc_rollout_host_back (rc_rollout_t *self, const rc_deployment_t *dep, rc_dhost_t *h)
{
    rc_host_state_t step = h->unknown_of;
    s_unknown_forget (self, dep, h);
    rc_rollout_host_state (h, step);
    return rc_store_eventf (self->store, dep->id, h->host_id, "host_returned",
                            "back online in step %d: its report decides", h->step);
}

size_t
rc_rollout_mark_rollback (rc_dhost_t *hosts, size_t n)
{
    size_t marked = 0;
    for (size_t i = 0; hosts && i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        if (h->touched && (h->state == RC_HOST_SUCCEEDED || h->needs_rollback)) {
            h->needs_rollback = true;
            rc_rollout_host_state (h, RC_HOST_ROLLBACK_PENDING);
            marked++;
        }
    }
    return marked;
}

bool
rc_rollout_rolls_back (const rc_deployment_t *dep)
{
    return dep->state == RC_DEP_ROLLING_BACK || dep->state == RC_DEP_ROLLED_BACK
           || dep->state == RC_DEP_ROLLBACK_FAILED
           || (dep->state == RC_DEP_ABORTED && dep->abort_rollback);
}

void
rc_rollout_step_begin (rc_dhost_t *h, int64_t now)
{
    h->step++;
    h->started = now;
    h->finished = 0;
    RC_SET (h->phase, "sent");
    RC_SET (h->error, "");
    RC_SET (h->output_tail, "");
    h->exit_code = 0;
}

/* Starts the step of one host: records it, to be published after commit. */
static int
s_host_start (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *h, bool rollback, int64_t now)
{
    rc_rollout_step_begin (h, now);
    h->touched = h->touched || !rollback;
    bool bg = rc_bluegreen_is (dep);
    if (rollback) {
        rc_rollout_host_state (h, RC_HOST_ROLLING_BACK);
        const char *target = streq (dep->kind, "rollback") ? h->to_version : h->from_version;
        /* blue-green: back to the old slot while it is warm, reinstalling
           nothing */
        h->action = bg ? rc_bluegreen_back_action_of (self->store, dep, h, now)
                       : ROLLCLONE__ACTION__ACTION_ROLLBACK;
        if (h->action < 0)
            return -1;
        bool warm = h->action == ROLLCLONE__ACTION__ACTION_SWITCH;
        return rc_store_eventf (
            self->store, dep->id, h->host_id, warm ? "host_switching_back" : "host_rolling_back",
            "step %d: back to %s%s", h->step, *target ? target : "the previous release",
            warm ? ", warm on the other slot (a switch, no reinstall)" : "");
    }
    if (rc_store_host_app_current (self->store, h->host_id, dep->app, h->from_version,
                                   sizeof h->from_version)
        != 0)
        return -1;
    RC_SET (h->to_version, dep->version);
    rc_rollout_host_state (h, RC_HOST_UPDATING);
    h->action = bg ? ROLLCLONE__ACTION__ACTION_STAGE : ROLLCLONE__ACTION__ACTION_UPDATE;
    return rc_store_eventf (self->store, dep->id, h->host_id, bg ? "host_staging" : "host_updating",
                            "batch %d, step %d: %s -> %s%s", h->batch, h->step,
                            *h->from_version ? h->from_version : "(none)", dep->version,
                            bg ? " on the idle slot, no traffic" : "");
}

int
rc_rollout_put_back (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *h, int64_t now)
{
    bool healthy;
    /* blue-green switches back fleet-wide only; a host with no release
       before, or offline, waits (rc_rollout_mark_rollback, or the next
       call) */
    if (h->state != RC_HOST_FAILED || !h->needs_rollback || rc_bluegreen_is (dep)
        || !*h->from_version || !s_host_live (self, h->host_id, &healthy))
        return 0;
    /* the step clears the error: the status keeps saying why it failed */
    char error[sizeof h->error];
    snprintf (error, sizeof error, "%s", h->error);
    int rc = s_host_start (self, dep, h, true, now);
    RC_SET (h->error, error);
    return rc;
}

bool
rc_rollout_host_counts_failed (const rc_dhost_t *h)
{
    return rc_host_state_failed (h->state) || rc_rollout_in_step (h, RC_HOST_ROLLING_BACK);
}

/* ------------------------------------------------------------------------ */
/* Deployment transitions */

void
rc_rollout_reason_hosts (rc_deployment_t *dep, const rc_dhost_t *hosts, size_t n,
                         rc_host_state_t state, size_t count, const char *what)
{
    /* a reopened deployment (a host reconciled back to rolling back) ends
       again: its earlier clause is replaced, not repeated */
    size_t keep = strlen (dep->reason);
    for (const char *at = dep->reason; (at = strstr (at, what)); at++) {
        size_t off = (size_t)(at - dep->reason);
        if (off == 0 || (off >= 2 && strncmp (at - 2, "; ", 2) == 0)) {
            keep = off >= 2 ? off - 2 : 0;
            break;
        }
    }
    char *text = NULL;
    int ok = rc_join_append (&text, "%.*s%s%s %zu host(s):", (int)keep, dep->reason,
                             keep ? "; " : "", what, count);
    size_t named = 0;
    for (size_t i = 0; ok == 0 && i < n; i++) {
        if (hosts[i].state != state)
            continue;
        /* room for this name and for the " and N more" that may follow */
        size_t used = strlen (text) + 32;
        if (used >= sizeof dep->reason || strlen (hosts[i].host_id) + 2 > sizeof dep->reason - used)
            break;
        ok = rc_join_append (&text, "%s %s", named ? "," : "", hosts[i].host_id);
        named++;
    }
    if (ok == 0 && named < count)
        ok = rc_join_append (&text, " and %zu more", count - named);
    if (ok == 0)
        RC_SET (dep->reason, text); /* cut only when the reason before it was near full */
    free (text);
}

static int
s_finish (rc_rollout_t *self, rc_deployment_t *dep, rc_dep_state_t state, int64_t now)
{
    rc_rollout_dep_state (dep, state);
    rc_metrics_count_finished (state);
    dep->finished = now;
    dep->paused = false;
    const char *name = rc_dep_state_name (state);
    rc_log_info_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                      "deployment %s %s%s%s", dep->id, name, *dep->reason ? ": " : "", dep->reason);
    return rc_store_eventf (self->store, dep->id, NULL, "deployment_finished", "%s%s%s", name,
                            *dep->reason ? ": " : "", dep->reason);
}

/* Budget spent or abort asked, nothing in flight: roll back or stop. */
static int
s_conclude (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n, int64_t now)
{
    if (rc_bluegreen_is (dep) && dep->bg_phase < RC_BG_SWITCHING) {
        /* no host serves the new release: nothing to roll back. The
           staged slots are left to the agents, which stop them at
           keep_warm (a later stage or update replaces them sooner) */
        size_t left = 0;
        for (size_t i = 0; i < n; i++)
            left += hosts[i].state == RC_HOST_STAGED;
        char text[96];
        snprintf (text, sizeof text, "traffic was not switched%s",
                  left ? "; staged slots stay warm until keep_warm" : "");
        size_t used = strlen (dep->reason);
        snprintf (dep->reason + used, sizeof dep->reason - used, "%s%s", used ? "; " : "", text);
        return s_finish (self, dep, dep->abort_requested ? RC_DEP_ABORTED : RC_DEP_FAILED, now);
    }
    if (dep->abort_requested && !dep->abort_rollback)
        return s_finish (self, dep, RC_DEP_ABORTED, now);
    if (!dep->abort_requested && !dep->auto_rollback)
        return s_finish (self, dep, RC_DEP_FAILED, now);
    size_t marked = rc_rollout_mark_rollback (hosts, n);
    dep->final_state = dep->abort_requested ? RC_DEP_ABORTED : RC_DEP_ROLLED_BACK;
    rc_metrics_count_rollback (dep->abort_requested ? "abort" : "failure_budget");
    if (marked == 0) {
        /* every host that failed was put back by its agent already */
        return s_finish (self, dep, dep->final_state, now);
    }
    rc_rollout_dep_state (dep, RC_DEP_ROLLING_BACK);
    dep->rb_batch = 0;
    rc_rollout_progress (self, dep, now);
    rc_log_warn_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                      "deployment %s: rolling back %zu host(s)", dep->id, marked);
    return rc_store_eventf (self->store, dep->id, NULL, "rollback_started",
                            "%zu host(s) to roll back", marked);
}

/* Watches a host in flight (updating or rolling_back, or unknown in one of
   them): a host that goes offline is unknown, not failed, until the
   deployment's offline grace passes; one that comes back goes on. */
static int
s_watch_step (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *h, bool rollback, int *inflight,
              int64_t now)
{
    bool healthy;
    bool live = s_host_live (self, h->host_id, &healthy);
    int64_t grace = dep->offline_grace_ms > 0 ? dep->offline_grace_ms : dep->health_timeout_ms;
    char dur[32];
    rc_duration_format (grace, dur, sizeof dur);
    if (h->state == RC_HOST_UNKNOWN) {
        if (live) {
            (*inflight)++;
            return rc_rollout_host_back (self, dep, h);
        }
        if (s_unknown_for (self, dep, h, rc_mono_ms ()) <= grace) {
            (*inflight)++;
            return 0;
        }
        s_unknown_forget (self, dep, h);
        char error[128];
        snprintf (error, sizeof error, "host went offline during its %s and was not back within %s",
                  rollback ? "rollback" : "update", dur);
        return rc_rollout_host_fail (self, dep, h,
                                     rollback ? RC_HOST_ROLLBACK_FAILED : RC_HOST_FAILED, "offline",
                                     true, error, now);
    }
    (*inflight)++;
    if (live)
        return 0;
    h->unknown_of = h->state;
    rc_rollout_host_state (h, RC_HOST_UNKNOWN);
    s_unknown_for (self, dep, h, rc_mono_ms ());
    return rc_store_eventf (self->store, dep->id, h->host_id, "host_unknown",
                            "went offline during its %s (phase %s): waiting up to %s for it",
                            rollback ? "rollback" : "update", h->phase, dur);
}

/* Between batches: operator pause, manual gate, timed pause. True when
   the next batch must wait (rc takes the events' result). */
static bool
s_hold (rc_rollout_t *self, rc_deployment_t *dep, int64_t now, int *rc)
{
    if (dep->paused) {
        if (dep->state != RC_DEP_PAUSED)
            rc_rollout_dep_state (dep, RC_DEP_PAUSED);
        return true;
    }
    bool manual = false;
    int64_t pause_ms = 0;
    bool pause_ok = rc_strategy_pause (dep->pause_spec, &manual, &pause_ms);
    if (dep->batch > 0 && manual && !dep->gate_open) {
        if (dep->state != RC_DEP_PAUSED) {
            rc_rollout_dep_state (dep, RC_DEP_PAUSED);
            *rc |= rc_store_eventf (self->store, dep->id, NULL, "gate_waiting",
                                    "batch %d done: waiting for `rollclone resume %s`", dep->batch,
                                    dep->id);
        }
        return true;
    }
    if (dep->batch > 0 && pause_ok && pause_ms > 0) {
        int64_t mono = rc_mono_ms ();
        s_clock_t *clk = s_clock (self, dep, mono);
        if (dep->pause_until == 0) {
            clk->pause_until = mono + pause_ms;
            dep->pause_until = now + pause_ms;
            dep->pause_remaining_ms = pause_ms;
            *rc |= rc_store_eventf (self->store, dep->id, NULL, "pause",
                                    "batch %d done: next in %s", dep->batch, dep->pause_spec);
            return true;
        }
        if (mono < clk->pause_until)
            return true;
    }
    return false;
}

/* A freeze: true when the next batch must wait for it to end. The wait
   and its end are events, and so is a batch that starts inside a freeze
   because the deployment ignores freezes. */
static bool
s_frozen (rc_rollout_t *self, rc_deployment_t *dep, int64_t now, int *rc)
{
    int64_t ends = 0;
    bool frozen = self->freeze && rc_freeze_at (self->freeze, now, &ends);
    /* in a window, what waits is its next host, not a batch */
    char what[48];
    if (rc_slide_phase (dep))
        snprintf (what, sizeof what, "the window's next host");
    else
        snprintf (what, sizeof what, "batch %d", dep->batch + 1);
    if (frozen && !dep->ignore_freeze) {
        if (!dep->frozen) {
            char until[64];
            dep->frozen = true;
            *rc |= rc_store_eventf (self->store, dep->id, NULL, "frozen",
                                    "%s waits for the freeze to end (%s)", what,
                                    rc_freeze_end_text (ends, until, sizeof until));
        }
        return true;
    }
    if (dep->frozen) {
        dep->frozen = false;
        *rc |= rc_store_eventf (self->store, dep->id, NULL, "unfrozen",
                                "the freeze ended: %s starts", what);
    }
    if (frozen)
        *rc |= rc_store_eventf (self->store, dep->id, NULL, "freeze_ignored",
                                "%s starts inside a freeze (--ignore-freeze)", what);
    return false;
}

/* Whether pending hosts must wait: between batches for s_hold; in a
   window, which has no boundary, only for the operator's pause; and for a
   freeze. */
static bool
s_held (rc_rollout_t *self, rc_deployment_t *dep, int64_t now, int *rc)
{
    if (rc_slide_phase (dep) && !dep->paused)
        return s_frozen (self, dep, now, rc);
    return s_hold (self, dep, now, rc) || s_frozen (self, dep, now, rc);
}

/* A batch (or blue-green's switch) begins: the pause and the gate
   behind it are over, the progress deadline starts again. */
static void
s_batch_begin (rc_rollout_t *self, rc_deployment_t *dep, int64_t now)
{
    dep->pause_until = dep->pause_remaining_ms = 0;
    s_clock (self, dep, rc_mono_ms ())->pause_until = 0;
    dep->gate_open = false;
    rc_rollout_progress (self, dep, now);
    rc_rollout_dep_state (dep, RC_DEP_RUNNING);
}

int
rc_rollout_host_turn (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *h, int64_t now)
{
    h->batch = dep->batch;
    h->dirty = true;
    bool healthy;
    if (!s_host_live (self, h->host_id, &healthy))
        return rc_rollout_host_fail (self, dep, h, RC_HOST_FAILED, "offline", false,
                                     "host was offline at its turn; not updated", now);
    if (!healthy)
        return rc_rollout_host_fail (self, dep, h, RC_HOST_FAILED, "unhealthy_before", false,
                                     "host was unhealthy at its turn; not updated", now);
    return s_host_start (self, dep, h, false, now);
}

/* The window after the ramp (deploy --window): begun once, as one more
   batch, then filled whenever a host finishes (window.c). */
static int
s_window (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n, int inflight,
          int64_t now)
{
    int rc = 0;
    if (!rc_slide_phase (dep)) {
        dep->batch++;
        s_batch_begin (self, dep, now);
        /* the gate was passed to begin it, and a window has no other;
           blue-green keeps it closed for the switch that follows */
        dep->gate_open = !rc_bluegreen_is (dep);
        if (rc_bluegreen_is (dep) && dep->bg_phase == RC_BG_NONE)
            dep->bg_phase = RC_BG_STAGING;
        int left = 0;
        for (size_t i = 0; i < n; i++)
            left += hosts[i].state == RC_HOST_PENDING;
        rc |= rc_store_eventf (self->store, dep->id, NULL, "window_started",
                               "batch %d of %d: a window of %d host(s) (%s) over %d host(s) left",
                               dep->batch, dep->total_batches, dep->window_hosts, dep->window_spec,
                               left);
    }
    else if (dep->state != RC_DEP_RUNNING)
        rc_rollout_dep_state (dep, RC_DEP_RUNNING);
    return rc | rc_slide_fill (self, dep, hosts, n, inflight, now);
}

/* The next batch: pending hosts in their stable order, each started, or
   failed when it is not there and well at its turn (never updated blind). */
static int
s_next_batch (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n, int64_t now)
{
    int rc = 0;
    if (rc_slide_next_is_window (dep))
        return s_window (self, dep, hosts, n, 0, now);
    int size = rc_strategy_batch_size (dep->batch_spec, dep->batch + 1, (int)n);
    if (size < 1)
        size = 1;
    dep->batch++;
    s_batch_begin (self, dep, now);
    if (rc_bluegreen_is (dep) && dep->bg_phase == RC_BG_NONE)
        dep->bg_phase = RC_BG_STAGING;
    int taken = 0;
    char *names = NULL;
    for (size_t i = 0; i < n && taken < size; i++) {
        rc_dhost_t *h = &hosts[i];
        if (h->state != RC_HOST_PENDING)
            continue;
        taken++;
        if (rc_join_append (&names, "%s%s", taken > 1 ? " " : "", h->host_id) != 0)
            rc = rc_store_set_error (self->store, "out of memory");
        rc |= rc_rollout_host_turn (self, dep, h, now);
    }
    rc_log_info_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                      "deployment %s: batch %d of %d: %s", dep->id, dep->batch, dep->total_batches,
                      names ? names : "");
    rc |= rc_store_eventf (self->store, dep->id, NULL, "batch_started", "batch %d of %d: %s",
                           dep->batch, dep->total_batches, names ? names : "");
    free (names);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Run-once steps (deploy --before, --after) */

/* The end of a tail fit for an event's one line: its last bytes, each
   newline shown as " | ". */
static void
s_tail_line (const char *tail, char *out, size_t len)
{
    size_t tlen = strlen (tail);
    while (tlen && (tail[tlen - 1] == '\n' || tail[tlen - 1] == '\r'))
        tlen--;
    size_t from = tlen > RC_ROLLOUT_EVENT_TAIL ? tlen - RC_ROLLOUT_EVENT_TAIL : 0;
    /* not in the middle of a UTF-8 sequence */
    while (from < tlen && ((unsigned char)tail[from] & 0xC0) == 0x80)
        from++;
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = from; i < tlen && used + 4 < len; i++) {
        if (tail[i] == '\n') {
            memcpy (out + used, " | ", 3);
            used += 3;
        }
        else if (tail[i] != '\r')
            out[used++] = tail[i];
        out[used] = '\0';
    }
}

int
rc_rollout_once_done (rc_rollout_t *self, rc_deployment_t *dep, rc_once_when_t when, bool ok,
                      int exit_code, const char *output_tail, const char *error, int64_t now)
{
    rc_once_t *o = &dep->once[when];
    o->state = ok ? RC_ONCE_SUCCEEDED : RC_ONCE_FAILED;
    o->exit_code = exit_code;
    RC_SET (o->output_tail, output_tail);
    RC_SET (o->error, error);
    o->finished = now;
    rc_rollout_progress (self, dep, now);
    char took[32], line[RC_ROLLOUT_EVENT_TAIL + 64];
    rc_duration_format (o->started ? now - o->started : 0, took, sizeof took);
    s_tail_line (output_tail, line, sizeof line);
    const char *where = *o->host_id ? o->host_id : "no host";
    if (!ok && !*dep->reason)
        snprintf (dep->reason, sizeof dep->reason, "run-once %s '%s' failed on %s: %s",
                  rc_once_when_name (when), o->name, where, *error ? error : "failed");
    rc_log_info_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                      "deployment %s: run-once %s %s%s on %s %s", dep->id, rc_once_when_name (when),
                      RC_RUN_ONCE_KEY_PREFIX, o->name, where, ok ? "succeeded" : "failed");
    return rc_store_eventf (self->store, dep->id, *o->host_id ? o->host_id : NULL,
                            ok ? "run_once_succeeded" : "run_once_failed",
                            "%s: %s%s on %s, exit %d in %s%s%s%s%s", rc_once_when_name (when),
                            RC_RUN_ONCE_KEY_PREFIX, o->name, where, exit_code, took,
                            *error ? ": " : "", error, *line ? "; output: " : "", line);
}

/* Starts the run of when on the host it is pinned to or picks (failed at
   once when there is none fit to run it). */
static int
s_once_start (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n,
              rc_once_when_t when, int64_t now)
{
    rc_once_t *o = &dep->once[when];
    rc_once_host_t *cand = (rc_once_host_t *)zmalloc ((n ? n : 1) * sizeof *cand);
    for (size_t i = 0; i < n; i++) {
        cand[i].host_id = hosts[i].host_id;
        cand[i].online = s_host_live (self, hosts[i].host_id, &cand[i].healthy);
        /* smoke tests after the last batch go to a host that runs it */
        cand[i].preferred = when == RC_ONCE_AFTER && hosts[i].state == RC_HOST_SUCCEEDED;
    }
    char err[256];
    int pick = rc_once_pick (o->run_on, cand, n, err, sizeof err);
    free (cand);
    o->started = now;
    o->exit_code = 0;
    RC_SET (o->output_tail, "");
    RC_SET (o->error, "");
    if (pick < 0) {
        RC_SET (o->host_id, o->run_on);
        char error[RC_ONCE_TEXT_MAX];
        snprintf (error, sizeof error, "not run: %s", err);
        return rc_rollout_once_done (self, dep, when, false, -1, "", error, now);
    }
    RC_SET (o->host_id, hosts[pick].host_id);
    o->state = RC_ONCE_RUNNING;
    o->finished = 0;
    rc_rollout_progress (self, dep, now);
    rc_log_info_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                      "deployment %s: run-once %s %s%s on %s", dep->id, rc_once_when_name (when),
                      RC_RUN_ONCE_KEY_PREFIX, o->name, o->host_id);
    return rc_store_eventf (self->store, dep->id, o->host_id, "run_once_started",
                            "%s: %s%s on %s%s", rc_once_when_name (when), RC_RUN_ONCE_KEY_PREFIX,
                            o->name, o->host_id, *o->run_on ? " (--run-on)" : "");
}

/* A run in flight counts as a host in flight, within the progress
   deadline (the agent's hook_timeout bounds it there too). */
static int
s_once_watch (rc_rollout_t *self, rc_deployment_t *dep, int *inflight, int64_t now)
{
    int rc = 0;
    for (int w = 0; w < RC_ONCE_WHEN_COUNT; w++) {
        if (dep->once[w].state != RC_ONCE_RUNNING)
            continue;
        if (s_since_progress (self, dep) <= dep->progress_deadline_ms) {
            (*inflight)++;
            continue;
        }
        char dur[32], error[128];
        rc_duration_format (dep->progress_deadline_ms, dur, sizeof dur);
        snprintf (error, sizeof error,
                  "no result within the progress deadline of %s (not run again)", dur);
        rc |= rc_rollout_once_done (self, dep, (rc_once_when_t)w, false, -1, "", error, now);
    }
    return rc;
}

static int
s_advance_update (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n,
                  int64_t now)
{
    int rc = 0;
    char dur[32];
    bool blown = false;
    int inflight = 0;
    /* rolling_back here: a failed host put back (rc_rollout_put_back),
       in flight like the others */
    for (size_t i = 0; i < n; i++) {
        bool back = rc_rollout_in_step (&hosts[i], RC_HOST_ROLLING_BACK);
        if (back || rc_rollout_in_step (&hosts[i], RC_HOST_UPDATING))
            rc |= s_watch_step (self, dep, &hosts[i], back, &inflight, now);
    }
    if (inflight && s_since_progress (self, dep) > dep->progress_deadline_ms) {
        rc_duration_format (dep->progress_deadline_ms, dur, sizeof dur);
        for (size_t i = 0; i < n; i++) {
            bool back = rc_rollout_in_step (&hosts[i], RC_HOST_ROLLING_BACK);
            if (back || rc_rollout_in_step (&hosts[i], RC_HOST_UPDATING)) {
                s_unknown_forget (self, dep, &hosts[i]);
                rc |= rc_rollout_host_fail (self, dep, &hosts[i],
                                            back ? RC_HOST_ROLLBACK_FAILED : RC_HOST_FAILED,
                                            "progress_deadline", true,
                                            "no host finished within the progress deadline", now);
            }
        }
        snprintf (dep->reason, sizeof dep->reason,
                  "progress deadline of %s passed with no host finishing", dur);
        rc |= rc_store_eventf (self->store, dep->id, NULL, "progress_deadline", "%s", dep->reason);
        blown = true;
        inflight = 0;
    }
    rc |= s_once_watch (self, dep, &inflight, now);
    if (self->gate && !blown)
        rc |= self->gate (self->gate_arg, self, dep, hosts, n, now, &inflight);
    if (dep->once[RC_ONCE_BEFORE].state == RC_ONCE_FAILED)
        /* before the first batch: no host was touched, none to put back */
        return rc | s_finish (self, dep, RC_DEP_FAILED, now);
    if (dep->once[RC_ONCE_AFTER].state == RC_ONCE_FAILED)
        blown = true; /* its reason is set: the hosts it ran after roll back */
    int failures = 0, pending = 0;
    for (size_t i = 0; i < n; i++) {
        failures += rc_rollout_host_counts_failed (&hosts[i]);
        pending += hosts[i].state == RC_HOST_PENDING;
    }
    if (failures > dep->max_fail && !blown) {
        blown = true;
        if (!*dep->reason) {
            snprintf (dep->reason, sizeof dep->reason, "%d host(s) failed, more than max-fail %d",
                      failures, dep->max_fail);
            rc |=
                rc_store_eventf (self->store, dep->id, NULL, "budget_exceeded", "%s", dep->reason);
        }
    }
    if (blown || dep->abort_requested) {
        if (dep->abort_requested && !*dep->reason)
            snprintf (dep->reason, sizeof dep->reason, "aborted by the operator");
        if (inflight == 0)
            rc |= s_conclude (self, dep, hosts, n, now);
        return rc;
    }
    if (inflight) {
        /* a window starts hosts while others are in flight */
        if (!rc_slide_phase (dep) || pending == 0
            || rc_slide_room (dep->window_hosts, inflight) == 0 || s_held (self, dep, now, &rc))
            return rc;
        return rc | s_window (self, dep, hosts, n, inflight, now);
    }
    if (rc_bluegreen_is (dep) && pending == 0 && dep->bg_phase != RC_BG_SWITCHED) {
        int staged = 0;
        for (size_t i = 0; i < n; i++)
            staged += hosts[i].state == RC_HOST_STAGED;
        rc_bg_view_t view = {.phase = dep->bg_phase, .staged = staged};
        switch (rc_bluegreen_next (&view)) {
        case RC_BG_GO_SWITCH:
            /* the switch is the last "batch": pauses and freezes hold it */
            if (s_hold (self, dep, now, &rc) || s_frozen (self, dep, now, &rc))
                return rc;
            /* slots that went cold while it waited are staged again first
               (bluegreen.h); the gate stays open for the switch after */
            int restaging = 0;
            rc |= rc_bluegreen_restage_start (self->store, dep, hosts, n, self->view,
                                              self->view_arg, &restaging, now);
            if (restaging) {
                rc_rollout_progress (self, dep, now);
                rc_rollout_dep_state (dep, RC_DEP_RUNNING);
                return rc;
            }
            s_batch_begin (self, dep, now);
            int switching = 0;
            rc |= rc_bluegreen_switch_start (self->store, dep, hosts, n, self->view, self->view_arg,
                                             &switching, now);
            if (switching)
                return rc;
            /* staged hosts went offline: nothing switched, as a failure */
            /* fall through */
        case RC_BG_GO_FAIL:
            if (!*dep->reason)
                snprintf (dep->reason, sizeof dep->reason, "%s",
                          staged ? "no staged host was online at the switch"
                                 : "no host was staged");
            return rc | s_conclude (self, dep, hosts, n, now);
        case RC_BG_GO_SWITCHED:
            dep->bg_phase = RC_BG_SWITCHED;
            rc |= rc_store_eventf (self->store, dep->id, NULL, "switched",
                                   "every switched host serves %s", dep->version);
            break;
        default: return rc;
        }
    }
    rc_once_when_t once = pending == 0 ? RC_ONCE_AFTER : RC_ONCE_BEFORE;
    if (pending == 0 && dep->once[once].state != RC_ONCE_PENDING)
        return rc | s_finish (self, dep, RC_DEP_SUCCEEDED, now);
    if (pending && s_held (self, dep, now, &rc))
        return rc;
    if (dep->once[once].state == RC_ONCE_PENDING) {
        rc |= s_once_start (self, dep, hosts, n, once, now);
        /* one that could not start failed: its end follows at once */
        if (dep->once[once].state == RC_ONCE_FAILED)
            rc |= s_advance_update (self, dep, hosts, n, now);
        return rc;
    }
    return rc | s_next_batch (self, dep, hosts, n, now);
}

static int
s_advance_rollback (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n,
                    int64_t now)
{
    int rc = 0;
    int inflight = 0, pending = 0, waiting = 0;
    bool deadline = s_since_progress (self, dep) > dep->progress_deadline_ms;
    for (size_t i = 0; i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        if (!rc_rollout_in_step (h, RC_HOST_ROLLING_BACK))
            continue;
        if (deadline) {
            s_unknown_forget (self, dep, h);
            rc |= rc_rollout_host_fail (
                self, dep, h, RC_HOST_ROLLBACK_FAILED, "progress_deadline", true,
                "rollback did not finish within the progress deadline", now);
        }
        else
            rc |= s_watch_step (self, dep, h, true, &inflight, now);
    }
    /* a host owed a rollback that is offline at its turn waits for it,
       within the progress deadline, rather than being given up at once */
    for (size_t i = 0; i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        if (h->state != RC_HOST_ROLLBACK_PENDING)
            continue;
        bool healthy;
        const char *target = streq (dep->kind, "rollback") ? h->to_version : h->from_version;
        if (!streq (dep->kind, "rollback") && !*target)
            rc |=
                rc_rollout_host_fail (self, dep, h, RC_HOST_ROLLBACK_FAILED, "no_rollback_point",
                                      true, "the host had no release before this deployment", now);
        else if (!s_host_live (self, h->host_id, &healthy)) {
            if (inflight == 0 && deadline)
                rc |= rc_rollout_host_fail (
                    self, dep, h, RC_HOST_ROLLBACK_FAILED, "offline", true,
                    "host was offline at its rollback turn and not back within "
                    "the progress deadline",
                    now);
            else {
                pending++;
                waiting++;
            }
        }
        else
            pending++;
    }
    if (dep->abort_requested && !dep->abort_rollback) {
        if (inflight == 0) {
            snprintf (dep->reason, sizeof dep->reason, "aborted by the operator during rollback");
            rc |= s_finish (self, dep, RC_DEP_ABORTED, now);
        }
        return rc;
    }
    if (inflight)
        return rc;
    if (pending == 0) {
        size_t failed = 0;
        for (size_t i = 0; i < n; i++)
            failed += hosts[i].state == RC_HOST_ROLLBACK_FAILED;
        if (failed) {
            rc_rollout_reason_hosts (dep, hosts, n, RC_HOST_ROLLBACK_FAILED, failed,
                                     "could not roll back");
            return rc | s_finish (self, dep, RC_DEP_ROLLBACK_FAILED, now);
        }
        return rc
               | s_finish (self, dep,
                           dep->final_state != RC_DEP_NONE ? dep->final_state : RC_DEP_ROLLED_BACK,
                           now);
    }
    if (pending == waiting)
        return rc; /* only offline hosts are left: wait for them */
    /* blue-green switches back fleet-wide, in one step, as it switched;
       else --rollback-batch hosts at a time, the last updated first (as
       Aurora does): hosts start in their stable order, so that is the
       reverse of it */
    int size = rc_bluegreen_is (dep) ? (int)n : rc_slide_rollback_size (dep, (int)n);
    dep->rb_batch++;
    rc_rollout_progress (self, dep, now);
    int taken = 0;
    for (size_t k = 0; k < n && taken < size; k++) {
        rc_dhost_t *h = &hosts[n - 1 - k];
        bool healthy;
        if (h->state != RC_HOST_ROLLBACK_PENDING || !s_host_live (self, h->host_id, &healthy))
            continue;
        taken++;
        rc |= s_host_start (self, dep, h, true, now);
    }
    return rc;
}

int
rc_rollout_advance (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n,
                    int64_t now)
{
    if (dep->state == RC_DEP_ROLLING_BACK)
        return s_advance_rollback (self, dep, hosts, n, now);
    return s_advance_update (self, dep, hosts, n, now);
}
