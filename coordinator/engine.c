/*  engine.c - the rollout engine (see engine.h for the model). One function
    advances one deployment by as many transitions as it can make now; each
    call is one transaction, and instructions are published only after it
    commits. */
#include "engine.h"
#include "bluegreen.h"
#include "checks.h"
#include "metrics.h"
#include "deployments.h"
#include "fleet.h"
#include "hostrows.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_time.h"

#include <stdio.h>
#include <string.h>

/* When an active deployment next needs the tick: a cache of what its rows
   and timers say (a deployment not in it is looked at, so a restart loses
   nothing), so that a tick reads only the deployments something is due in. */
typedef struct {
    int64_t next_due;     /* monotonic ms: a timer, a republish, or a look to be safe */
    int64_t republished;  /* monotonic ms its hosts in flight were last sent their step */
    uint64_t fleet_epoch; /* the fleet's liveness as it was looked at with */
    int checks;           /* analysis gates: 1 yes, 0 no, -1 not read yet */
} s_due_t;

struct _rc_engine_t {
    rc_store_t *store;                /* borrowed */
    rc_rollout_t *rollout;            /* the transitions, and their timers */
    zhashx_t *due;                    /* deployment id -> s_due_t of active ones */
    uint64_t fleet_epoch;             /* bumped when a host's liveness or health changes */
    zhashx_t *dirty;                  /* deployments a report changed: advance at flush */
    rc_engine_publish_fn *publish_fn; /* sends one host's instruction */
    void *publish_arg;
    zhashx_t *seen;      /* "host/app" -> what the agent said last (reconciled) */
    rc_hostrows_t *rows; /* the committed host rows of active deployments */
};

rc_engine_t *
rc_engine_new (rc_store_t *store, rc_host_view_fn *view, void *arg)
{
    rc_engine_t *self = (rc_engine_t *)zmalloc (sizeof (rc_engine_t));
    self->store = store;
    self->rollout = rc_rollout_new (store, view, arg);
    self->dirty = zhashx_new ();
    self->due = zhashx_new ();
    zhashx_set_destructor (self->due, (zhashx_destructor_fn *)zstr_free);
    self->seen = zhashx_new ();
    zhashx_set_destructor (self->seen, (zhashx_destructor_fn *)zstr_free);
    self->rows = rc_hostrows_new ();
    return self;
}

void
rc_engine_set_publish (rc_engine_t *self, rc_engine_publish_fn *fn, void *arg)
{
    self->publish_fn = fn;
    self->publish_arg = arg;
}

void
rc_engine_destroy (rc_engine_t **self_p)
{
    if (self_p && *self_p) {
        rc_rollout_destroy (&(*self_p)->rollout);
        zhashx_destroy (&(*self_p)->dirty);
        zhashx_destroy (&(*self_p)->due);
        zhashx_destroy (&(*self_p)->seen);
        rc_hostrows_destroy (&(*self_p)->rows);
        free (*self_p);
        *self_p = NULL;
    }
}

void
rc_engine_set_freeze (rc_engine_t *self, rc_freeze_t *freeze)
{
    rc_rollout_set_freeze (self->rollout, freeze);
}

void
rc_engine_set_gate (rc_engine_t *self, rc_rollout_gate_fn *fn, void *arg)
{
    rc_rollout_set_gate (self->rollout, fn, arg);
}

void
rc_engine_forget (rc_engine_t *self, const char *id)
{
    rc_rollout_forget (self->rollout, id);
    zhashx_delete (self->due, id);
    rc_hostrows_drop (self->rows, id);
}

void
rc_engine_store_failed (rc_engine_t *self)
{
    rc_hostrows_drop_all (self->rows);
    /* the flush in the group timed them by what was not committed */
    zhashx_purge (self->due);
}

uint64_t
rc_engine_rows_loaded (rc_engine_t *self)
{
    return rc_hostrows_loaded (self->rows);
}

void
rc_engine_fleet_changed (rc_engine_t *self)
{
    self->fleet_epoch++;
}

static bool
s_inflight (const rc_dhost_t *h)
{
    return h->state == RC_HOST_UPDATING || h->state == RC_HOST_ROLLING_BACK;
}

static void
s_publish (rc_engine_t *self, const rc_deployment_t *dep, const rc_dhost_t *h)
{
    bool rollback = h->state == RC_HOST_ROLLING_BACK;
    Rollclone__Instruction ins = ROLLCLONE__INSTRUCTION__INIT;
    ins.deployment_id = (char *)dep->id;
    ins.step = (uint32_t)h->step;
    ins.action = rollback ? ROLLCLONE__ACTION__ACTION_ROLLBACK : ROLLCLONE__ACTION__ACTION_UPDATE;
    if (h->action) /* blue-green's stage and switch; rows of before schema 10 have none */
        ins.action = (Rollclone__Action)h->action;
    ins.app = (char *)dep->app;
    ins.host_id = (char *)h->host_id;
    ins.soak_ms = (uint32_t)dep->soak_ms;
    ins.health_timeout_ms = (uint32_t)dep->health_timeout_ms;
    if (rollback)
        ins.version = (char *)(streq (dep->kind, "rollback") ? h->to_version : h->from_version);
    else {
        ins.version = (char *)dep->version;
        ins.artifact_url = (char *)dep->artifact_url;
        ins.sha256 = (char *)dep->sha256;
        ins.signature = (char *)dep->signature;
    }
    if (ins.action == ROLLCLONE__ACTION__ACTION_SWITCH) {
        /* the slot soaked while staging: one passing check that it still
           answers, soon given up when it does not */
        ins.artifact_url = ins.sha256 = ins.signature = (char *)"";
        ins.soak_ms = RC_BLUEGREEN_SWITCH_SOAK_MS;
        if (ins.health_timeout_ms > RC_BLUEGREEN_SWITCH_HEALTH_MS)
            ins.health_timeout_ms = RC_BLUEGREEN_SWITCH_HEALTH_MS;
    }
    /* the server seals it to the host's key and publishes it */
    if (self->publish_fn)
        self->publish_fn (self->publish_arg, h->host_id, &ins);
}

/* The instruction of dep's run-once step when: the agent's own command of
   that name, on the host it runs on. */
static void
s_publish_once (rc_engine_t *self, const rc_deployment_t *dep, rc_once_when_t when)
{
    const rc_once_t *o = &dep->once[when];
    Rollclone__Instruction ins = ROLLCLONE__INSTRUCTION__INIT;
    ins.deployment_id = (char *)dep->id;
    ins.step = rc_once_step (when);
    ins.action = ROLLCLONE__ACTION__ACTION_RUN_ONCE;
    ins.app = (char *)dep->app;
    ins.host_id = (char *)o->host_id;
    ins.version = (char *)dep->version;
    ins.run_once = (char *)o->name;
    if (self->publish_fn)
        self->publish_fn (self->publish_arg, o->host_id, &ins);
}

/* After dep (hosts, n) was advanced: when it is next due. What changes
   with time alone: its timers (rollout.c), an unknown host's grace, a
   freeze's end, a blue-green switch and the analysis gates (looked at each
   tick while they matter); the republish of what is in flight, and a
   look to be safe, every RC_REPUBLISH_MS. A host's liveness (the fleet's
   epoch), a report and a request (rc_engine_advance) look at once. */
static void
s_due_after (rc_engine_t *self, const rc_deployment_t *dep, const rc_dhost_t *hosts, size_t n,
             bool republished)
{
    s_due_t *due = (s_due_t *)zhashx_lookup (self->due, dep->id);
    int64_t mono = rc_mono_ms ();
    if (!due) {
        due = (s_due_t *)zmalloc (sizeof *due);
        due->checks = -1;
        due->republished = mono;
        zhashx_insert (self->due, dep->id, due);
    }
    if (due->checks < 0) {
        char *names = rc_checks_names (self->store, dep->id);
        if (names)
            due->checks = *names != '\0';
        free (names);
    }
    if (republished)
        due->republished = mono;
    due->fleet_epoch = self->fleet_epoch;
    due->next_due = due->republished + RC_REPUBLISH_MS;
    int64_t timer = rc_rollout_next_timer (self->rollout, dep);
    if (timer < due->next_due)
        due->next_due = timer;
    bool each_tick = dep->frozen || dep->bg_phase != RC_BG_NONE || due->checks != 0;
    for (size_t i = 0; !each_tick && i < n; i++)
        each_tick = hosts[i].state == RC_HOST_UNKNOWN;
    if (each_tick)
        due->next_due = mono;
}

/* Is deployment id due at the tick (mono)? *republish when its hosts in
   flight are sent their step again. */
static bool
s_due (rc_engine_t *self, const char *id, int64_t mono, bool *republish)
{
    s_due_t *due = (s_due_t *)zhashx_lookup (self->due, id);
    *republish = !due || mono - due->republished >= RC_REPUBLISH_MS;
    return !due || due->fleet_epoch != self->fleet_epoch || mono >= due->next_due;
}

/* Advances deployment id as far as it can go now; one transaction, then
   publishes what it started (and everything in flight when republish). */
static void
s_process (rc_engine_t *self, const char *id, bool republish)
{
    /* what the engine does next is its own doing, not the operator's whose
       request called it */
    char who[RC_NAME_MAX + 1];
    snprintf (who, sizeof who, "%s", rc_store_operator (self->store));
    rc_store_set_operator (self->store, NULL);
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    size_t n = 0;
    rc_dhost_t *hosts = NULL;
    bool *was_inflight = NULL;
    bool unsaved = false; /* reports changed the kept record: write it now */
    int found = rc_hostrows_dep_get (self->rows, self->store, id, dep, &unsaved);
    if (found < 0) /* the next tick reads again; say why this one did nothing */
        rc_log_error ("deployment %s: store: %s", id, rc_store_errmsg (self->store));
    if (found == 0 || (found == 1 && !rc_deployment_active (dep)))
        rc_engine_forget (self, id);
    if (found != 1 || !rc_deployment_active (dep))
        goto out;
    /* a read that failed advances nothing: the next tick reads again. The
       rows are those kept as committed (hostrows.h): read whole only the
       first time, or again after a write failed */
    if (rc_hostrows_get (self->rows, self->store, id, &hosts, &n) != 0) {
        rc_log_error ("deployment %s: store: %s", id, rc_store_errmsg (self->store));
        goto out;
    }
    rc_deployment_t before = *dep;
    int64_t now = rc_now_ms ();
    /* remember which hosts were in flight before, to publish new ones now */
    was_inflight = (bool *)calloc (n ? n : 1, sizeof (bool));
    for (size_t i = 0; i < n; i++)
        was_inflight[i] = s_inflight (&hosts[i]);
    if (rc_store_begin (self->store) != 0)
        goto out;
    int rc = 0;
    /* a transition can make another possible (a batch ends, the next one
       starts): loop until nothing changes, bounded */
    for (int round = 0; round < 4 && rc == 0 && rc_deployment_active (dep); round++) {
        rc_dep_state_t state = dep->state;
        int batch = dep->batch, rb_batch = dep->rb_batch;
        rc = rc_rollout_advance (self->rollout, dep, hosts, n, now);
        if (state == dep->state && batch == dep->batch && rb_batch == dep->rb_batch)
            break;
    }
    /* an end: its rows are final now, compare them with the agents again */
    if (!rc_deployment_active (dep))
        zhashx_purge (self->seen);
    bool dep_changed = memcmp (&before, dep, sizeof before) != 0;
    if (dep_changed)
        dep->updated = now;
    if (rc_rollout_clock_save (self->rollout, dep, dep_changed || unsaved, now))
        dep_changed = true;
    dep_changed = dep_changed || unsaved;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (hosts[i].dirty)
            rc = rc_dhost_save (self->store, id, &hosts[i]);
    if (rc == 0 && dep_changed)
        rc = rc_deployment_save (self->store, dep);
    if (rc == 0)
        rc = rc_store_commit (self->store);
    if (rc != 0) {
        rc_log_error_with (&(rc_log_fields_t){.deployment_id = id}, "deployment %s: store: %s", id,
                           rc_store_errmsg (self->store));
        rc_store_rollback (self->store);
        /* the rows changed in place were not committed */
        rc_hostrows_drop (self->rows, id);
        goto out;
    }
    /* committed: now the instructions that follow from it */
    for (size_t i = 0; i < n; i++)
        if (s_inflight (&hosts[i]) && (republish || !was_inflight[i] || hosts[i].dirty))
            s_publish (self, dep, &hosts[i]);
    for (int w = 0; w < RC_ONCE_WHEN_COUNT; w++)
        if (dep->once[w].state == RC_ONCE_RUNNING
            && (republish || before.once[w].state != RC_ONCE_RUNNING))
            s_publish_once (self, dep, (rc_once_when_t)w);
    if (!rc_deployment_active (dep))
        rc_engine_forget (self, id);
    else {
        s_due_after (self, dep, hosts, n, republish);
        rc_hostrows_committed (self->rows, id);
        rc_hostrows_dep_put (self->rows, dep, false);
    }
out:
    free (was_inflight);
    free (dep);
    rc_store_set_operator (self->store, who);
}

void
rc_engine_advance (rc_engine_t *self, const char *id)
{
    /* a request changed its record, or made it: read it again */
    rc_hostrows_dep_drop (self->rows, id);
    s_process (self, id, false);
}

void
rc_engine_adopt (rc_engine_t *self, const char *id, rc_dhost_t *hosts, size_t n)
{
    rc_hostrows_adopt (self->rows, id, hosts, n);
}

void
rc_engine_flush (rc_engine_t *self)
{
    if (zhashx_size (self->dirty) == 0)
        return;
    zlistx_t *ids = zhashx_keys (self->dirty);
    zhashx_purge (self->dirty);
    for (char *id = (char *)zlistx_first (ids); id; id = (char *)zlistx_next (ids))
        s_process (self, id, false);
    zlistx_destroy (&ids);
}

void
rc_engine_tick (rc_engine_t *self)
{
    rc_engine_flush (self);
    int64_t mono = rc_mono_ms ();
    zlist_t *ids = rc_deployment_ids (self->store, true, NULL, 0);
    if (!ids)
        return;
    for (char *id = (char *)zlist_first (ids); id; id = (char *)zlist_next (ids)) {
        bool republish;
        if (s_due (self, id, mono, &republish))
            s_process (self, id, republish);
    }
    zlist_destroy (&ids);
}

/* ------------------------------------------------------------------------ */
/* Reports */

static void
s_timings_text (const Rollclone__StepReport *r, char *out, size_t len)
{
    /* the agent's phases are a dozen short names; an entry that would not
       fit whole (only a peer sending far more than an agent has) is left
       out, never cut */
    out[0] = '\0';
    for (size_t i = 0; i < r->n_timings; i++) {
        size_t used = strlen (out);
        if (!rc_name_valid (r->timings[i]->phase))
            continue;
        char entry[RC_NAME_MAX + 16];
        int elen = snprintf (entry, sizeof entry, "%s%s=%u", used ? "," : "", r->timings[i]->phase,
                             r->timings[i]->ms);
        if (elen > 0 && (size_t)elen < len - used)
            memcpy (out + used, entry, (size_t)elen + 1);
    }
}

/* Stores what the agent says it runs now, attributed to the deployment;
 *stored when it was (a state with a bad name is left out). */
static int
s_record_app_state (rc_engine_t *self, const char *host_id, const char *deployment_id,
                    const Rollclone__AppState *st, int64_t now, bool *stored)
{
    *stored = false;
    if (!st || !rc_name_valid (st->app) || (*st->current && !rc_name_valid (st->current))
        || st->slot > RC_SLOTS_MAX || st->slot_port > 65535
        || (*st->warm_version && !rc_name_valid (st->warm_version)))
        return 0;
    for (size_t i = 0; i < st->n_rollback_points; i++)
        if (!rc_name_valid (st->rollback_points[i]))
            return 0;
    /* every point whole, however many (names have no comma: rc_name_valid) */
    char *points = rc_fleet_points_join (st);
    if (!points)
        return rc_store_set_error (self->store, "out of memory");
    /* the slots too: the app is then stored whole, and the heartbeat that
       follows says nothing new (fleet.c) */
    rc_app_row_t row = {.host_id = host_id,
                        .app = st->app,
                        .current = st->current,
                        .rollback_points = points,
                        .slot = st->slot,
                        .slot_port = st->slot_port,
                        .warm_version = st->warm_version,
                        .warm_until = st->warm_until_ms};
    int rc = rc_store_host_app_save (self->store, &row, true, deployment_id, now);
    free (points);
    *stored = rc == 0;
    return rc;
}

/* The report of a run-once step: its end decides what the deployment does
   next (at the flush). Repeats and progress change nothing. */
static void
s_once_report (rc_engine_t *self, rc_deployment_t *dep, const char *host_id, rc_once_when_t when,
               const Rollclone__StepReport *r)
{
    rc_once_t *o = &dep->once[when];
    if (o->state != RC_ONCE_RUNNING || !streq (o->host_id, host_id) || !rc_deployment_active (dep)
        || r->result == ROLLCLONE__STEP_REPORT__RESULT__RUNNING)
        return;
    int64_t now = rc_now_ms ();
    if (rc_store_begin (self->store) != 0)
        return;
    int rc = rc_rollout_once_done (self->rollout, dep, when,
                                   r->result == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED,
                                   r->exit_code, r->output_tail, r->error, now);
    dep->updated = now;
    if (rc == 0)
        rc = rc_deployment_save (self->store, dep);
    if (rc == 0)
        rc = rc_store_commit (self->store);
    if (rc != 0) {
        rc_log_error_with (&(rc_log_fields_t){.deployment_id = dep->id, .host_id = host_id},
                           "run-once report of %s: store: %s", host_id,
                           rc_store_errmsg (self->store));
        rc_store_rollback (self->store);
        return;
    }
    rc_hostrows_dep_put (self->rows, dep, false);
    zhashx_update (self->dirty, dep->id, (void *)1);
}

bool
rc_engine_on_report (rc_engine_t *self, const char *host_id, const Rollclone__StepReport *r)
{
    bool stored = false;
    if (!rc_name_valid (r->deployment_id) || !rc_name_valid (r->app))
        return false;
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    rc_dhost_t *h = (rc_dhost_t *)zmalloc (sizeof *h);
    /* the kept record and row, as the last transaction left them (a
       record the reports of this group changed included) */
    bool unsaved = false;
    if (rc_hostrows_dep_get (self->rows, self->store, r->deployment_id, dep, &unsaved) != 1
        || !streq (dep->app, r->app))
        goto out;
    rc_once_when_t when;
    if (rc_once_of_step (r->step, &when) == 0) {
        s_once_report (self, dep, host_id, when, r);
        goto out;
    }
    /* a report of an older step, or of a step already settled: the agent
       repeats itself because instructions are level-triggered */
    const rc_dhost_t *kept = rc_hostrows_find (self->rows, dep->id, host_id);
    if (kept)
        *h = *kept;
    if ((!kept && rc_dhost_load_one (self->store, dep->id, host_id, h) != 1)
        || (int)r->step != h->step
        || !(rc_rollout_in_step (h, RC_HOST_UPDATING)
             || rc_rollout_in_step (h, RC_HOST_ROLLING_BACK)))
        goto out;
    bool returned = h->state == RC_HOST_UNKNOWN;
    bool rollback = rc_rollout_in_step (h, RC_HOST_ROLLING_BACK);
    int64_t now = rc_now_ms ();
    char phase[32];
    snprintf (phase, sizeof phase, "%s", rc_name_valid (r->phase) ? r->phase : "?");
    if (r->result == ROLLCLONE__STEP_REPORT__RESULT__RUNNING) {
        if (streq (h->phase, phase) && !returned)
            goto out;
        RC_SET (h->phase, phase);
        if (rc_store_begin (self->store) != 0)
            goto out;
        if ((returned && rc_rollout_host_back (self->rollout, dep, h) != 0)
            || rc_dhost_save (self->store, dep->id, h) != 0 || rc_store_commit (self->store) != 0)
            rc_store_rollback (self->store);
        else
            rc_hostrows_put (self->rows, dep->id, h);
        goto out;
    }
    if (rc_store_begin (self->store) != 0)
        goto out;
    /* an unknown host's report decides its state: it is back */
    int rc = returned ? rc_rollout_host_back (self->rollout, dep, h) : 0;
    h->finished = now;
    h->exit_code = r->exit_code;
    s_timings_text (r, h->timings, sizeof h->timings);
    rc_metrics_observe_step (r);
    RC_SET (h->output_tail, r->output_tail);
    char took[32];
    rc_duration_format (now - h->started, took, sizeof took);
    bool staged = !rollback && h->action == ROLLCLONE__ACTION__ACTION_STAGE;
    /* a failed host put back while its deployment goes on
       (rc_rollout_put_back) stays failed: it counts against the budget */
    bool put_back = rollback && dep->state != RC_DEP_ROLLING_BACK;
    if (r->result == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED) {
        RC_SET (h->phase, put_back ? "rolled_back" : "done");
        rc_rollout_host_state (h, put_back   ? RC_HOST_FAILED
                                  : rollback ? RC_HOST_ROLLED_BACK
                                  : staged   ? RC_HOST_STAGED
                                             : RC_HOST_SUCCEEDED);
        if (rollback)
            h->needs_rollback = false;
        /* a rollback to "the previous release" records which one it was */
        if (streq (dep->kind, "rollback") && !*h->to_version && rc_name_valid (r->version_now))
            RC_SET (h->to_version, r->version_now);
        if (staged)
            rc |= rc_store_eventf (self->store, dep->id, h->host_id, "host_staged",
                                   "%s healthy on the idle slot in %s; traffic on %s", dep->version,
                                   took, *r->version_now ? r->version_now : "(none)");
        else {
            bool sw = h->action == ROLLCLONE__ACTION__ACTION_SWITCH;
            const char *kind = rollback ? (sw ? "host_switched_back" : "host_rolled_back")
                               : sw     ? "host_switched"
                                        : "host_succeeded";
            rc |= rc_store_eventf (self->store, dep->id, h->host_id, kind, "%s in %s",
                                   *r->version_now ? r->version_now : "(none)", took);
        }
    }
    else {
        bool dirty = r->result == ROLLCLONE__STEP_REPORT__RESULT__FAILED_DIRTY;
        char failure[64], error[RC_TEXT_MAX];
        snprintf (failure, sizeof failure, "%s", phase);
        snprintf (error, sizeof error, "%s%s", r->error,
                  dirty ? " (and could not be put back)" : "");
        RC_SET (h->phase, phase);
        rc |= rc_rollout_host_fail (self->rollout, dep, h,
                                    rollback ? RC_HOST_ROLLBACK_FAILED : RC_HOST_FAILED, failure,
                                    dirty || rollback, error, now);
    }
    /* the switch has one deadline from its start: a host that switched
       does not give the others more time */
    if (dep->bg_phase != RC_BG_SWITCHING || rollback)
        rc_rollout_progress (self->rollout, dep, now);
    dep->updated = now;
    bool app_stored = false;
    rc |= s_record_app_state (self, host_id, dep->id, r->app_state, now, &app_stored);
    rc |= rc_dhost_save (self->store, dep->id, h);
    /* in a group, the record (its progress and times) is written once by
       the flush that ends the group, not by each of its reports: the same
       commit. Alone, or once it ended, with the report. */
    bool deferred = rc_store_grouped (self->store) && rc_deployment_active (dep);
    if (!deferred)
        rc |= rc_deployment_save (self->store, dep);
    if (rc == 0)
        rc = rc_store_commit (self->store);
    if (rc != 0) {
        rc_log_error_with (&(rc_log_fields_t){.deployment_id = dep->id, .host_id = host_id},
                           "report of %s: store: %s", host_id, rc_store_errmsg (self->store));
        rc_store_rollback (self->store);
        goto out;
    }
    rc_hostrows_dep_put (self->rows, dep, deferred);
    rc_log_info_with (
        &(rc_log_fields_t){.deployment_id = dep->id, .host_id = host_id, .app = dep->app},
        "deployment %s: %s %s", dep->id, host_id, rc_host_state_name (h->state));
    rc_hostrows_put (self->rows, dep->id, h);
    stored = app_stored;
    /* the next batch may start now rather than at the next tick: at the
       flush, once for all the reports of a burst */
    zhashx_update (self->dirty, dep->id, (void *)1);
out:
    free (h);
    free (dep);
    return stored;
}

/* ------------------------------------------------------------------------ */
/* Reconciliation: what an agent says it runs against what we recorded */

/* Is dep the newest deployment of its app? */
static bool
s_newest_of_app (rc_engine_t *self, const rc_deployment_t *dep)
{
    zlist_t *ids = rc_deployment_ids (self->store, false, dep->app, 1);
    bool newest = ids && zlist_size (ids) && streq ((char *)zlist_first (ids), dep->id);
    zlist_destroy (&ids);
    return newest;
}

/* The state the agent's app says h is in, or NONE when the row is right
   (or not this deployment's to judge); *reopen when dep rolls back again. */
static rc_host_state_t
s_reconciled (rc_engine_t *self, const rc_deployment_t *dep, rc_dhost_t *h,
              const Rollclone__AppState *st, bool *reopen)
{
    bool on_new = streq (st->current, h->to_version);
    bool on_old = *h->from_version && streq (st->current, h->from_version);
    if (streq (dep->kind, "rollback")) {
        /* a rollback of one host's app (rollback --host): nothing undoes
           it in turn, the row just says whether the agent got there. The
           agent's last step was this one: off its old release, it ran it
           (to the previous release when none was named). */
        bool there = *st->current && (*h->to_version ? on_new : !on_old);
        if (there && h->state != RC_HOST_ROLLED_BACK) {
            RC_SET (h->to_version, st->current);
            h->needs_rollback = false;
            return RC_HOST_ROLLED_BACK;
        }
        if (on_old && h->state == RC_HOST_ROLLED_BACK)
            return RC_HOST_ROLLBACK_FAILED;
        return RC_HOST_NONE;
    }
    if (on_old
        && (h->state == RC_HOST_SUCCEEDED || h->state == RC_HOST_ROLLBACK_FAILED
            || h->state == RC_HOST_ROLLBACK_PENDING
            || (h->state == RC_HOST_FAILED && h->needs_rollback))) {
        /* a failed host found clean stays failed (it counts against the
           budget); one that was owed a rollback has had it */
        h->needs_rollback = false;
        if (h->state == RC_HOST_FAILED)
            return RC_HOST_FAILED;
        return rc_rollout_rolls_back (dep) || h->state != RC_HOST_SUCCEEDED ? RC_HOST_ROLLED_BACK
                                                                            : RC_HOST_FAILED;
    }
    if (!on_new || h->state == RC_HOST_SUCCEEDED || h->state == RC_HOST_ROLLBACK_PENDING)
        return RC_HOST_NONE; /* another release since, or the row is right */
    /* the agent ran the rollback and it failed there: the row is right */
    bool tried = st->last_step == (uint32_t)h->step && h->state == RC_HOST_ROLLBACK_FAILED
                 && st->last_result != ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED;
    if (tried)
        return RC_HOST_NONE;
    rc_host_state_t now_state = RC_HOST_SUCCEEDED;
    if (dep->state == RC_DEP_ROLLING_BACK)
        now_state = RC_HOST_ROLLBACK_PENDING;
    else if (rc_rollout_rolls_back (dep) && s_newest_of_app (self, dep)) {
        char active[RC_ID_MAX];
        *reopen = rc_deployment_app_busy (self->store, dep->app, active) == 0;
        now_state = *reopen ? RC_HOST_ROLLBACK_PENDING : RC_HOST_SUCCEEDED;
    }
    h->needs_rollback = now_state == RC_HOST_ROLLBACK_PENDING;
    return now_state;
}

/* A finished deployment of kind rollback after one of its hosts (h, its
   row as corrected) was reconciled: rolled_back when every host got to its
   rollback point, rollback_failed otherwise, with an event when it changes. */
static int
s_rollback_end (rc_engine_t *self, rc_deployment_t *dep, const rc_dhost_t *h)
{
    size_t n = 0, failed = 0;
    rc_dhost_t *hosts = NULL;
    int rc = rc_dhost_load (self->store, dep->id, &hosts, &n);
    if (rc == 0)
        for (size_t i = 0; i < n; i++) {
            rc_host_state_t state =
                streq (hosts[i].host_id, h->host_id) ? h->state : hosts[i].state;
            failed += state != RC_HOST_ROLLED_BACK;
        }
    free (hosts);
    if (rc != 0)
        return rc;
    rc_dep_state_t end = failed ? RC_DEP_ROLLBACK_FAILED : RC_DEP_ROLLED_BACK;
    if (end == dep->state)
        return 0;
    rc_rollout_dep_state (dep, end);
    if (end == RC_DEP_ROLLED_BACK)
        RC_SET (dep->reason, "");
    else
        RC_SET (dep->reason, "reconciled: a host is not on its rollback point");
    return rc_store_eventf (self->store, dep->id, NULL, "deployment_reconciled",
                            "every host checked again: %s", rc_dep_state_name (end));
}

/* Compares the host row of the agent's last deployment with the release
   the agent runs, and corrects the row (and the deployment's end) when
   they disagree. Hosts in flight are left to their report. */
static void
s_reconcile (rc_engine_t *self, const char *host_id, const Rollclone__AppState *st)
{
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    rc_dhost_t *h = (rc_dhost_t *)zmalloc (sizeof *h);
    bool unsaved = false;
    if (rc_hostrows_dep_get (self->rows, self->store, st->last_deployment_id, dep, &unsaved) != 1
        || !streq (dep->app, st->app) || rc_dhost_load_one (self->store, dep->id, host_id, h) != 1
        || !(h->touched || (streq (dep->kind, "rollback") && h->step > 0)))
        goto out;
    if (rc_rollout_in_step (h, RC_HOST_UPDATING) || rc_rollout_in_step (h, RC_HOST_ROLLING_BACK)
        || h->state == RC_HOST_PENDING)
        goto out;
    rc_host_state_t was = h->state;
    bool reopen = false;
    rc_host_state_t now_state = s_reconciled (self, dep, h, st, &reopen);
    if (now_state == RC_HOST_NONE)
        goto out;
    int64_t now = rc_now_ms ();
    rc_rollout_host_state (h, now_state);
    RC_SET (h->failure, now_state == RC_HOST_ROLLBACK_PENDING ? "" : "reconciled");
    int rc = rc_store_begin (self->store);
    if (rc == 0)
        rc = rc_store_eventf (self->store, dep->id, host_id, "host_reconciled",
                              "recorded %s, but the agent runs %s (its last step: %s/%u): now %s",
                              rc_host_state_name (was), st->current, st->last_deployment_id,
                              st->last_step, rc_host_state_name (now_state));
    if (reopen) {
        rc_rollout_dep_state (dep, RC_DEP_ROLLING_BACK);
        rc_metrics_count_rollback ("reconcile");
        if (dep->final_state == RC_DEP_NONE)
            dep->final_state = RC_DEP_ROLLED_BACK;
        dep->finished = 0;
        dep->rb_batch = 0;
        dep->progress_elapsed_ms = 0;
        rc_rollout_forget (self->rollout, dep->id);
        if (rc == 0)
            rc = rc_store_eventf (self->store, dep->id, NULL, "rollback_started",
                                  "%s came back on %s after the rollback: rolling it back", host_id,
                                  st->current);
    }
    else if (streq (dep->kind, "rollback") && !rc_deployment_active (dep)) {
        /* a finished rollback of hosts ends as its hosts are now */
        if (rc == 0)
            rc = s_rollback_end (self, dep, h);
    }
    else if (dep->state == RC_DEP_ROLLBACK_FAILED && now_state == RC_HOST_ROLLED_BACK) {
        /* the last host that could not be put back is back: say so */
        size_t n = 0, failed = 0;
        rc_dhost_t *hosts = NULL;
        if (rc == 0 && rc_dhost_load (self->store, dep->id, &hosts, &n) == 0) {
            for (size_t i = 0; i < n; i++)
                failed +=
                    !streq (hosts[i].host_id, host_id) && hosts[i].state == RC_HOST_ROLLBACK_FAILED;
            if (failed == 0) {
                rc_rollout_dep_state (dep, dep->final_state != RC_DEP_NONE ? dep->final_state
                                                                           : RC_DEP_ROLLED_BACK);
                rc = rc_store_eventf (self->store, dep->id, NULL, "deployment_reconciled",
                                      "every host is back: %s", rc_dep_state_name (dep->state));
            }
        }
        free (hosts);
    }
    dep->updated = now;
    if (rc == 0)
        rc = rc_dhost_save (self->store, dep->id, h);
    if (rc == 0)
        rc = rc_deployment_save (self->store, dep);
    if (rc == 0)
        rc = rc_store_commit (self->store);
    if (rc != 0) {
        rc_log_error ("reconcile %s: store: %s", host_id, rc_store_errmsg (self->store));
        rc_store_rollback (self->store);
        goto out;
    }
    rc_hostrows_put (self->rows, dep->id, h);
    rc_hostrows_dep_put (self->rows, dep, false);
    rc_log_warn ("deployment %s: %s reconciled: recorded %s, runs %s: now %s", dep->id, host_id,
                 rc_host_state_name (was), st->current, rc_host_state_name (now_state));
    if (rc_deployment_active (dep))
        zhashx_update (self->dirty, dep->id, (void *)1);
out:
    free (h);
    free (dep);
}

void
rc_engine_on_apps (rc_engine_t *self, const char *host_id, Rollclone__AppState **apps, size_t n,
                   bool hello)
{
    for (size_t i = 0; i < n; i++) {
        const Rollclone__AppState *st = apps[i];
        if (!rc_name_valid (st->app) || !rc_name_valid (st->last_deployment_id)
            || (*st->current && !rc_name_valid (st->current)) || st->busy)
            continue;
        /* a heartbeat that says what the last one said costs a lookup */
        char key[2 * RC_NAME_MAX + 2], said[RC_ID_MAX + 2 * RC_NAME_MAX + 32];
        snprintf (key, sizeof key, "%s/%s", host_id, st->app);
        snprintf (said, sizeof said, "%s/%u/%d/%s", st->last_deployment_id, st->last_step,
                  (int)st->last_result, st->current);
        const char *before = (const char *)zhashx_lookup (self->seen, key);
        if (!hello && before && streq (before, said))
            continue;
        if (zhashx_size (self->seen) >= RC_ENGINE_SEEN_MAX)
            zhashx_purge (self->seen);
        zhashx_update (self->seen, key, strdup (said));
        s_reconcile (self, host_id, st);
    }
}
