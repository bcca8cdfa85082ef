/*  engine.c - the rollout engine (see engine.h for the model). One function
    advances one deployment by as many transitions as it can make now; each
    call is one transaction, and instructions are published only after it
    commits. */
#include "engine.h"
#include "deployments.h"
#include "freeze.h"
#include "plan.h"
#include "retry.h"
#include "rc_envelope.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_signature.h"
#include "rc_sources.h"
#include "rc_join.h"
#include "rc_time.h"

#include <assert.h>
#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct _rc_engine_t {
    rc_store_t *store;          /* borrowed */
    zsock_t *publisher;         /* borrowed: PUB of instructions */
    rc_engine_host_fn *host_fn; /* live view of the fleet */
    void *host_arg;
    int64_t last_republish;           /* monotonic ms */
    uint64_t seq;                     /* our envelope sequence numbers */
    zhashx_t *dirty;                  /* deployments a report changed: advance at flush */
    rc_engine_publish_fn *publish_fn; /* sends one host's instruction */
    void *publish_arg;
    zhashx_t *clocks;      /* deployment id -> s_clock_t of active ones */
    zhashx_t *unknown;     /* "deployment/host" -> mono ms it went unknown */
    int64_t offline_grace; /* default of --offline-grace (0 = the health timeout) */
    zhashx_t *seen;        /* "host/app" -> what the agent said last (reconciled) */
    rc_freeze_t *freeze;   /* borrowed: when no batch may start, or NULL */
};

/* The monotonic side of a deployment's timers, kept while it is active:
   rebuilt from the row's durations when the coordinator starts. */
typedef struct {
    int64_t progress;    /* mono ms of the last progress */
    int64_t pause_until; /* mono ms the timed pause ends, 0 = none */
    int64_t saved;       /* mono ms the durations were last written */
} s_clock_t;

/* The clock of dep, made from its row when there is none yet. */
static s_clock_t *
s_clock (rc_engine_t *self, const rc_deployment_t *dep, int64_t mono)
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

/* Copies the clock into the row's durations (and the display time of the
   pause end), to be saved. */
static void
s_clock_store (s_clock_t *clk, rc_deployment_t *dep, int64_t mono, int64_t now)
{
    dep->progress_elapsed_ms = mono - clk->progress;
    if (clk->pause_until) {
        int64_t left = clk->pause_until > mono ? clk->pause_until - mono : 0;
        dep->pause_remaining_ms = left;
        dep->pause_until = now + left;
    }
    else
        dep->pause_remaining_ms = dep->pause_until = 0;
    clk->saved = mono;
}

/* A host finished or a batch began: the progress deadline starts again. */
static void
s_progress (rc_engine_t *self, rc_deployment_t *dep, int64_t now)
{
    int64_t mono = rc_mono_ms ();
    s_clock (self, dep, mono)->progress = mono;
    dep->progress = now;
    dep->progress_elapsed_ms = 0;
}

static int64_t
s_since_progress (rc_engine_t *self, const rc_deployment_t *dep)
{
    int64_t mono = rc_mono_ms ();
    return mono - s_clock (self, dep, mono)->progress;
}

rc_engine_t *
rc_engine_new (rc_store_t *store, zsock_t *publisher, rc_engine_host_fn *host_fn, void *arg)
{
    rc_engine_t *self = (rc_engine_t *)zmalloc (sizeof (rc_engine_t));
    self->store = store;
    self->publisher = publisher;
    self->host_fn = host_fn;
    self->host_arg = arg;
    self->dirty = zhashx_new ();
    self->clocks = zhashx_new ();
    zhashx_set_destructor (self->clocks, (zhashx_destructor_fn *)zstr_free);
    self->unknown = zhashx_new ();
    zhashx_set_destructor (self->unknown, (zhashx_destructor_fn *)zstr_free);
    self->seen = zhashx_new ();
    zhashx_set_destructor (self->seen, (zhashx_destructor_fn *)zstr_free);
    return self;
}

void
rc_engine_set_publish (rc_engine_t *self, rc_engine_publish_fn *fn, void *arg)
{
    self->publish_fn = fn;
    self->publish_arg = arg;
}

void
rc_engine_set_freeze (rc_engine_t *self, rc_freeze_t *freeze)
{
    self->freeze = freeze;
}

void
rc_engine_set_offline_grace (rc_engine_t *self, int64_t ms)
{
    self->offline_grace = ms > 0 ? ms : 0;
}

void
rc_engine_destroy (rc_engine_t **self_p)
{
    if (self_p && *self_p) {
        zhashx_destroy (&(*self_p)->dirty);
        zhashx_destroy (&(*self_p)->clocks);
        zhashx_destroy (&(*self_p)->unknown);
        zhashx_destroy (&(*self_p)->seen);
        free (*self_p);
        *self_p = NULL;
    }
}

/* ------------------------------------------------------------------------ */
/* Strategy specs */

/* Parses one entry "N" or "N%"; returns the count for total, or -1. */
static int
s_spec_entry (const char *entry, size_t len, int total, bool at_least_one)
{
    if (len == 0 || len > 9)
        return -1;
    bool percent = entry[len - 1] == '%';
    size_t digits = percent ? len - 1 : len;
    if (digits == 0)
        return -1;
    long n = 0;
    for (size_t i = 0; i < digits; i++) {
        if (!isdigit ((unsigned char)entry[i]))
            return -1;
        n = n * 10 + (entry[i] - '0');
    }
    if (percent) {
        if (n > 100)
            return -1;
        long count = at_least_one ? (total * n + 99) / 100 : (total * n) / 100;
        if (at_least_one && count < 1)
            count = 1;
        return (int)count;
    }
    return (int)n;
}

int
rc_engine_batch_size (const char *spec, int n, int total)
{
    if (!spec || !*spec || n < 1)
        return -1;
    int index = 0, size = -1;
    const char *p = spec;
    while (true) {
        const char *comma = strchr (p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen (p);
        int entry = s_spec_entry (p, len, total, true);
        if (entry < 1)
            return -1;
        index++;
        if (index <= n)
            size = entry;
        if (!comma)
            break;
        p = comma + 1;
    }
    return size;
}

int
rc_engine_batch_count (const char *spec, int total)
{
    if (rc_engine_batch_size (spec, 1, total) < 1)
        return -1;
    int done = 0, batches = 0;
    while (done < total) {
        done += rc_engine_batch_size (spec, ++batches, total);
    }
    return batches;
}

int
rc_engine_max_fail (const char *spec, int total)
{
    if (!spec || !*spec || strchr (spec, ','))
        return -1;
    return s_spec_entry (spec, strlen (spec), total, false);
}

/* Compares host ids so that host-2 comes before host-10. */
static int
s_natural_cmp (const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit ((unsigned char)*a) && isdigit ((unsigned char)*b)) {
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            size_t la = 0, lb = 0;
            while (isdigit ((unsigned char)a[la]))
                la++;
            while (isdigit ((unsigned char)b[lb]))
                lb++;
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp (a, b, la);
            if (c)
                return c;
            a += la;
            b += lb;
        }
        else {
            if (*a != *b)
                return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Transitions */

static int
s_event (rc_engine_t *self, const char *deployment_id, const char *host_id, const char *kind,
         const char *fmt, ...)
{
    /* sized to fit: a detail may list every host of a batch */
    va_list args;
    va_start (args, fmt);
    char *detail = zsys_vprintf (fmt, args);
    va_end (args);
    if (!detail)
        return rc_store_set_error (self->store, "out of memory for event %s", kind);
    int rc = rc_store_event (self->store, rc_now_ms (), deployment_id, host_id, kind, detail);
    free (detail);
    return rc;
}

/* Bounded copy that cuts what does not fit (error texts, reasons). */
static void
s_set (char *dest, size_t size, const char *value)
{
    size_t len = value ? strnlen (value, size - 1) : 0;
    if (len)
        memmove (dest, value, len);
    dest[len] = '\0';
}
#define SET(field, value) s_set (field, sizeof (field), value)

/* A wall time for events, in the coordinator's local time (freezes are). */
static const char *
s_wall_text (int64_t ms, char *buf, size_t len)
{
    if (ms == INT64_MAX) {
        snprintf (buf, len, "it has no end");
        return buf;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r (&t, &tm) || strftime (buf, len, "until %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
        snprintf (buf, len, "until %lld ms", (long long)ms);
    return buf;
}

static bool
s_host_live (rc_engine_t *self, const char *host_id, bool *healthy)
{
    bool online = false;
    *healthy = false;
    if (!self->host_fn (self->host_arg, host_id, &online, healthy))
        return false;
    return online;
}

/* The version a host reports live for app ("" when none): 0, or -1 when
   the store could not say (never taken for "none": that would leave the
   host without a rollback point). */
static int
s_current_version (rc_engine_t *self, const char *host_id, const char *app, char *out, size_t len)
{
    out[0] = '\0';
    sqlite3_stmt *stmt = rc_store_prepare (self->store,
                                           "SELECT current FROM host_apps "
                                           "WHERE host_id = ?1 AND app = ?2",
                                           "tt", host_id, app);
    if (!stmt)
        return -1;
    int rc = rc_store_step (self->store, stmt);
    if (rc == SQLITE_ROW)
        snprintf (out, len, "%s", (const char *)sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static bool
s_is (const rc_dhost_t *h, const char *state)
{
    return streq (h->state, state);
}

static void
s_host_state (rc_dhost_t *h, const char *state)
{
    SET (h->state, state);
    h->dirty = true;
}

static int
s_host_fail (rc_engine_t *self, const rc_deployment_t *dep, rc_dhost_t *h, const char *state,
             const char *failure, bool needs_rollback, const char *error, int64_t now)
{
    s_host_state (h, state);
    SET (h->failure, failure);
    SET (h->error, error);
    h->finished = now;
    if (needs_rollback)
        h->needs_rollback = true;
    return s_event (self, dep->id, h->host_id, streq (state, "failed") ? "host_failed" : state,
                    "%s: %s", failure, error);
}

static int
s_finish (rc_engine_t *self, rc_deployment_t *dep, const char *state, int64_t now)
{
    SET (dep->state, state);
    dep->finished = now;
    dep->paused = false;
    /* its rows are final now: compare them with the agents again */
    zhashx_purge (self->seen);
    rc_log_info_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                      "deployment %s %s%s%s", dep->id, state, *dep->reason ? ": " : "",
                      dep->reason);
    return s_event (self, dep->id, NULL, "deployment_finished", "%s%s%s", state,
                    *dep->reason ? ": " : "", dep->reason);
}

/* Starts the step of one host: records it, to be published after commit. */
static int
s_host_start (rc_engine_t *self, rc_deployment_t *dep, rc_dhost_t *h, bool rollback, int64_t now)
{
    h->step++;
    h->touched = h->touched || !rollback;
    h->started = now;
    h->finished = 0;
    SET (h->phase, "sent");
    SET (h->error, "");
    SET (h->output_tail, "");
    h->exit_code = 0;
    if (rollback) {
        s_host_state (h, "rolling_back");
        const char *target = streq (dep->kind, "rollback") ? h->to_version : h->from_version;
        return s_event (self, dep->id, h->host_id, "host_rolling_back", "step %d: back to %s",
                        h->step, *target ? target : "the previous release");
    }
    if (s_current_version (self, h->host_id, dep->app, h->from_version, sizeof h->from_version)
        != 0)
        return -1;
    SET (h->to_version, dep->version);
    s_host_state (h, "updating");
    return s_event (self, dep->id, h->host_id, "host_updating", "batch %d, step %d: %s -> %s",
                    h->batch, h->step, *h->from_version ? h->from_version : "(none)", dep->version);
}

/* Adds "what N host(s): a, b" to the reason, naming the hosts in state
   that fit whole in the reason column and counting the others ("and 12
   more"): the reason is a summary, the per-host list is in status. */
static void
s_reason_hosts (rc_deployment_t *dep, const rc_dhost_t *hosts, size_t n, const char *state,
                size_t count, const char *what)
{
    char *text = NULL;
    int ok = rc_join_append (&text, "%s%s%s %zu host(s):", dep->reason, *dep->reason ? "; " : "",
                             what, count);
    size_t named = 0;
    for (size_t i = 0; ok == 0 && i < n; i++) {
        if (!streq (hosts[i].state, state))
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
        SET (dep->reason, text); /* cut only when the reason before it was near full */
    free (text);
}

/* Budget spent or abort asked, nothing in flight: roll back or stop. */
static int
s_conclude (rc_engine_t *self, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n, int64_t now)
{
    if (dep->abort_requested && !dep->abort_rollback)
        return s_finish (self, dep, "aborted", now);
    if (!dep->abort_requested && !dep->auto_rollback)
        return s_finish (self, dep, "failed", now);
    size_t marked = 0;
    for (size_t i = 0; i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        if (h->touched && (s_is (h, "succeeded") || h->needs_rollback)) {
            h->needs_rollback = true;
            s_host_state (h, "rollback_pending");
            marked++;
        }
    }
    SET (dep->final_state, dep->abort_requested ? "aborted" : "rolled_back");
    if (marked == 0) {
        /* every host that failed was put back by its agent already */
        return s_finish (self, dep, dep->final_state, now);
    }
    SET (dep->state, "rolling_back");
    dep->rb_batch = 0;
    s_progress (self, dep, now);
    rc_log_warn_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                      "deployment %s: rolling back %zu host(s)", dep->id, marked);
    return s_event (self, dep->id, NULL, "rollback_started", "%zu host(s) to roll back", marked);
}

/* Is h in flight in a step of this kind (update or rollback), whether we
   hear from its host or not? */
static bool
s_in_step (const rc_dhost_t *h, const char *step_state)
{
    return s_is (h, step_state) || (s_is (h, "unknown") && streq (h->unknown_of, step_state));
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
s_unknown_for (rc_engine_t *self, const rc_deployment_t *dep, const rc_dhost_t *h, int64_t mono)
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

static void
s_unknown_forget (rc_engine_t *self, const rc_deployment_t *dep, const rc_dhost_t *h)
{
    char key[RC_ID_MAX + RC_NAME_MAX + 2];
    s_unknown_key (dep, h, key, sizeof key);
    zhashx_delete (self->unknown, key);
}

/* h was unknown and is heard from again (its hello, heartbeat or report):
   back in its step, where its report decides. The instruction is
   published again, and the agent answers it (from its stored report when
   it finished the step, or by finishing or undoing what it was doing). */
static int
s_host_back (rc_engine_t *self, const rc_deployment_t *dep, rc_dhost_t *h)
{
    s_unknown_forget (self, dep, h);
    s_host_state (h, h->unknown_of);
    SET (h->unknown_of, "");
    return s_event (self, dep->id, h->host_id, "host_returned",
                    "back online in step %d: its report decides", h->step);
}

/* Watches a host in flight (updating or rolling_back, or unknown in one of
   them): a host that goes offline is unknown, not failed, until the
   deployment's offline grace passes; one that comes back goes on. */
static int
s_watch_step (rc_engine_t *self, rc_deployment_t *dep, rc_dhost_t *h, bool rollback, int *inflight,
              int64_t now)
{
    bool healthy;
    bool live = s_host_live (self, h->host_id, &healthy);
    int64_t grace = dep->offline_grace_ms > 0 ? dep->offline_grace_ms : dep->health_timeout_ms;
    char dur[32];
    rc_duration_format (grace, dur, sizeof dur);
    if (s_is (h, "unknown")) {
        if (live) {
            (*inflight)++;
            return s_host_back (self, dep, h);
        }
        if (s_unknown_for (self, dep, h, rc_mono_ms ()) <= grace) {
            (*inflight)++;
            return 0;
        }
        s_unknown_forget (self, dep, h);
        SET (h->unknown_of, "");
        char error[128];
        snprintf (error, sizeof error, "host went offline during its %s and was not back within %s",
                  rollback ? "rollback" : "update", dur);
        return s_host_fail (self, dep, h, rollback ? "rollback_failed" : "failed", "offline", true,
                            error, now);
    }
    (*inflight)++;
    if (live)
        return 0;
    SET (h->unknown_of, h->state);
    s_host_state (h, "unknown");
    s_unknown_for (self, dep, h, rc_mono_ms ());
    return s_event (self, dep->id, h->host_id, "host_unknown",
                    "went offline during its %s (phase %s): waiting up to %s for it",
                    rollback ? "rollback" : "update", h->phase, dur);
}

static int
s_advance_update (rc_engine_t *self, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n, int64_t now)
{
    int rc = 0;
    char dur[32];
    bool blown = false;
    int inflight = 0;
    for (size_t i = 0; i < n; i++)
        if (s_in_step (&hosts[i], "updating"))
            rc |= s_watch_step (self, dep, &hosts[i], false, &inflight, now);
    if (inflight && s_since_progress (self, dep) > dep->progress_deadline_ms) {
        rc_duration_format (dep->progress_deadline_ms, dur, sizeof dur);
        for (size_t i = 0; i < n; i++)
            if (s_in_step (&hosts[i], "updating")) {
                s_unknown_forget (self, dep, &hosts[i]);
                SET (hosts[i].unknown_of, "");
                rc |= s_host_fail (self, dep, &hosts[i], "failed", "progress_deadline", true,
                                   "no host finished within the progress deadline", now);
            }
        snprintf (dep->reason, sizeof dep->reason,
                  "progress deadline of %s passed with no host "
                  "finishing",
                  dur);
        rc |= s_event (self, dep->id, NULL, "progress_deadline", "%s", dep->reason);
        blown = true;
        inflight = 0;
    }
    int failures = 0, pending = 0;
    for (size_t i = 0; i < n; i++) {
        failures += s_is (&hosts[i], "failed");
        pending += s_is (&hosts[i], "pending");
    }
    if (failures > dep->max_fail && !blown) {
        blown = true;
        if (!*dep->reason) {
            snprintf (dep->reason, sizeof dep->reason, "%d host(s) failed, more than max-fail %d",
                      failures, dep->max_fail);
            rc |= s_event (self, dep->id, NULL, "budget_exceeded", "%s", dep->reason);
        }
    }
    if (blown || dep->abort_requested) {
        if (dep->abort_requested && !*dep->reason)
            snprintf (dep->reason, sizeof dep->reason, "aborted by the operator");
        if (inflight == 0)
            rc |= s_conclude (self, dep, hosts, n, now);
        return rc;
    }
    if (inflight)
        return rc;
    if (pending == 0)
        return rc | s_finish (self, dep, "succeeded", now);

    /* between batches: operator pause, manual gate, timed pause */
    if (dep->paused) {
        if (!streq (dep->state, "paused"))
            SET (dep->state, "paused");
        return rc;
    }
    if (dep->batch > 0 && streq (dep->pause_spec, "manual") && !dep->gate_open) {
        if (!streq (dep->state, "paused")) {
            SET (dep->state, "paused");
            rc |= s_event (self, dep->id, NULL, "gate_waiting",
                           "batch %d done: waiting for `rollclone resume %s`", dep->batch, dep->id);
        }
        return rc;
    }
    int64_t pause_ms = 0;
    if (dep->batch > 0 && *dep->pause_spec && !streq (dep->pause_spec, "manual")
        && rc_duration_parse (dep->pause_spec, &pause_ms) == 0 && pause_ms > 0) {
        int64_t mono = rc_mono_ms ();
        s_clock_t *clk = s_clock (self, dep, mono);
        if (dep->pause_until == 0) {
            clk->pause_until = mono + pause_ms;
            dep->pause_until = now + pause_ms;
            dep->pause_remaining_ms = pause_ms;
            return rc
                   | s_event (self, dep->id, NULL, "pause", "batch %d done: next in %s", dep->batch,
                              dep->pause_spec);
        }
        if (mono < clk->pause_until)
            return rc;
    }

    /* a freeze: no batch starts; the deployment waits here and goes on
       by itself when the freeze ends (--ignore-freeze passes, said once a
       batch) */
    int64_t freeze_ends = 0;
    bool frozen = self->freeze && rc_freeze_at (self->freeze, now, &freeze_ends);
    if (frozen && !dep->ignore_freeze) {
        if (!dep->frozen) {
            char until[64];
            dep->frozen = true;
            rc |=
                s_event (self, dep->id, NULL, "frozen", "batch %d waits for the freeze to end (%s)",
                         dep->batch + 1, s_wall_text (freeze_ends, until, sizeof until));
        }
        return rc;
    }
    if (dep->frozen) {
        dep->frozen = false;
        rc |= s_event (self, dep->id, NULL, "unfrozen", "the freeze ended: batch %d starts",
                       dep->batch + 1);
    }
    if (frozen)
        rc |= s_event (self, dep->id, NULL, "freeze_ignored",
                       "batch %d starts inside a freeze (--ignore-freeze)", dep->batch + 1);

    /* the next batch: hosts in their stable order */
    int total = (int)n;
    int size = rc_engine_batch_size (dep->batch_spec, dep->batch + 1, total);
    if (size < 1)
        size = 1;
    dep->batch++;
    dep->pause_until = dep->pause_remaining_ms = 0;
    s_clock (self, dep, rc_mono_ms ())->pause_until = 0;
    dep->gate_open = false;
    s_progress (self, dep, now);
    SET (dep->state, "running");
    int taken = 0;
    char *names = NULL;
    for (size_t i = 0; i < n && taken < size; i++) {
        rc_dhost_t *h = &hosts[i];
        if (!s_is (h, "pending"))
            continue;
        taken++;
        h->batch = dep->batch;
        h->dirty = true;
        if (rc_join_append (&names, "%s%s", taken > 1 ? " " : "", h->host_id) != 0)
            rc = rc_store_set_error (self->store, "out of memory");
        bool healthy;
        /* never blind: a host that is not there and well is not updated */
        if (!s_host_live (self, h->host_id, &healthy))
            rc |= s_host_fail (self, dep, h, "failed", "offline", false,
                               "host was offline at its turn; not updated", now);
        else if (!healthy)
            rc |= s_host_fail (self, dep, h, "failed", "unhealthy_before", false,
                               "host was unhealthy at its turn; not updated", now);
        else
            rc |= s_host_start (self, dep, h, false, now);
    }
    rc_log_info_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                      "deployment %s: batch %d of %d: %s", dep->id, dep->batch, dep->total_batches,
                      names ? names : "");
    rc |= s_event (self, dep->id, NULL, "batch_started", "batch %d of %d: %s", dep->batch,
                   dep->total_batches, names ? names : "");
    free (names);
    return rc;
}

static int
s_advance_rollback (rc_engine_t *self, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n,
                    int64_t now)
{
    int rc = 0;
    int inflight = 0, pending = 0, waiting = 0;
    bool deadline = s_since_progress (self, dep) > dep->progress_deadline_ms;
    for (size_t i = 0; i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        if (!s_in_step (h, "rolling_back"))
            continue;
        if (deadline) {
            s_unknown_forget (self, dep, h);
            SET (h->unknown_of, "");
            rc |= s_host_fail (self, dep, h, "rollback_failed", "progress_deadline", true,
                               "rollback did not finish within the progress deadline", now);
        }
        else
            rc |= s_watch_step (self, dep, h, true, &inflight, now);
    }
    /* a host owed a rollback that is offline at its turn waits for it,
       within the progress deadline, rather than being given up at once */
    for (size_t i = 0; i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        if (!s_is (h, "rollback_pending"))
            continue;
        bool healthy;
        const char *target = streq (dep->kind, "rollback") ? h->to_version : h->from_version;
        if (!streq (dep->kind, "rollback") && !*target)
            rc |= s_host_fail (self, dep, h, "rollback_failed", "no_rollback_point", true,
                               "the host had no release before this deployment", now);
        else if (!s_host_live (self, h->host_id, &healthy)) {
            if (inflight == 0 && deadline)
                rc |= s_host_fail (self, dep, h, "rollback_failed", "offline", true,
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
            rc |= s_finish (self, dep, "aborted", now);
        }
        return rc;
    }
    if (inflight)
        return rc;
    if (pending == 0) {
        size_t failed = 0;
        for (size_t i = 0; i < n; i++)
            failed += s_is (&hosts[i], "rollback_failed");
        if (failed) {
            s_reason_hosts (dep, hosts, n, "rollback_failed", failed, "could not roll back");
            return rc | s_finish (self, dep, "rollback_failed", now);
        }
        return rc | s_finish (self, dep, *dep->final_state ? dep->final_state : "rolled_back", now);
    }
    if (pending == waiting)
        return rc; /* only offline hosts are left: wait for them */
    int size = rc_engine_batch_size (dep->batch_spec, dep->rb_batch + 1, (int)n);
    if (size < 1)
        size = 1;
    dep->rb_batch++;
    s_progress (self, dep, now);
    int taken = 0;
    for (size_t i = 0; i < n && taken < size; i++) {
        rc_dhost_t *h = &hosts[i];
        bool healthy;
        if (!s_is (h, "rollback_pending") || !s_host_live (self, h->host_id, &healthy))
            continue;
        taken++;
        rc |= s_host_start (self, dep, h, true, now);
    }
    return rc;
}

static void
s_publish (rc_engine_t *self, const rc_deployment_t *dep, const rc_dhost_t *h)
{
    bool rollback = s_is (h, "rolling_back");
    Rollclone__Instruction ins = ROLLCLONE__INSTRUCTION__INIT;
    ins.deployment_id = (char *)dep->id;
    ins.step = (uint32_t)h->step;
    ins.action = rollback ? ROLLCLONE__ACTION__ACTION_ROLLBACK : ROLLCLONE__ACTION__ACTION_UPDATE;
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
    /* the server seals it to the host's key and publishes it */
    if (self->publish_fn)
        self->publish_fn (self->publish_arg, h->host_id, &ins);
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
    int found = rc_deployment_load (self->store, id, dep);
    if (found == 0 || (found == 1 && !rc_deployment_active (dep)))
        zhashx_delete (self->clocks, id);
    if (found != 1 || !rc_deployment_active (dep))
        goto out;
    /* a read that failed advances nothing: the next tick reads again */
    if (rc_dhost_load (self->store, id, &hosts, &n) != 0) {
        rc_log_error ("deployment %s: store: %s", id, rc_store_errmsg (self->store));
        goto out;
    }
    rc_deployment_t before = *dep;
    int64_t now = rc_now_ms ();
    /* remember which hosts were in flight before, to publish new ones now */
    bool *was_inflight = (bool *)calloc (n ? n : 1, sizeof (bool));
    for (size_t i = 0; i < n; i++)
        was_inflight[i] = s_is (&hosts[i], "updating") || s_is (&hosts[i], "rolling_back");

    if (rc_store_begin (self->store) != 0) {
        free (was_inflight);
        goto out;
    }
    int rc = 0;
    /* a transition can make another possible (a batch ends, the next one
       starts): loop until nothing changes, bounded */
    for (int round = 0; round < 4 && rc == 0 && rc_deployment_active (dep); round++) {
        char state[RC_STATE_MAX];
        int batch = dep->batch, rb_batch = dep->rb_batch;
        SET (state, dep->state);
        if (streq (dep->state, "rolling_back"))
            rc = s_advance_rollback (self, dep, hosts, n, now);
        else
            rc = s_advance_update (self, dep, hosts, n, now);
        if (streq (state, dep->state) && batch == dep->batch && rb_batch == dep->rb_batch)
            break;
    }
    bool dep_changed = memcmp (&before, dep, sizeof before) != 0;
    if (dep_changed)
        dep->updated = now;
    /* the timers' durations go with every change, and now and then
       without one, so a restart loses little of them */
    int64_t mono = rc_mono_ms ();
    s_clock_t *clk = s_clock (self, dep, mono);
    if (dep_changed || mono - clk->saved >= RC_ENGINE_CLOCK_SAVE_MS) {
        s_clock_store (clk, dep, mono, now);
        dep_changed = true;
    }
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
        free (was_inflight);
        goto out;
    }
    /* committed: now the instructions that follow from it */
    for (size_t i = 0; i < n; i++) {
        bool inflight = s_is (&hosts[i], "updating") || s_is (&hosts[i], "rolling_back");
        if (inflight && (republish || !was_inflight[i] || hosts[i].dirty))
            s_publish (self, dep, &hosts[i]);
    }
    free (was_inflight);
    if (!rc_deployment_active (dep))
        zhashx_delete (self->clocks, id);
out:
    free (hosts);
    free (dep);
    rc_store_set_operator (self->store, who);
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
    bool republish = mono - self->last_republish >= RC_REPUBLISH_MS;
    if (republish)
        self->last_republish = mono;
    zlist_t *ids = rc_deployment_ids (self->store, true, NULL, 0);
    if (!ids)
        return;
    for (char *id = (char *)zlist_first (ids); id; id = (char *)zlist_next (ids))
        s_process (self, id, republish);
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

/* Stores what the agent says it runs now, attributed to the deployment. */
static int
s_record_app_state (rc_engine_t *self, const char *host_id, const char *deployment_id,
                    const Rollclone__AppState *st, int64_t now)
{
    if (!st || !rc_name_valid (st->app) || (*st->current && !rc_name_valid (st->current)))
        return 0;
    for (size_t i = 0; i < st->n_rollback_points; i++)
        if (!rc_name_valid (st->rollback_points[i]))
            return 0;
    /* every point whole, however many (names have no comma: rc_name_valid) */
    char *points = strdup ("");
    for (size_t i = 0; points && i < st->n_rollback_points; i++)
        rc_join_append (&points, "%s%s", i ? "," : "", st->rollback_points[i]);
    if (!points)
        return rc_store_set_error (self->store, "out of memory");
    int rc = rc_store_host_set_app_by (self->store, host_id, st->app, st->current, points,
                                       deployment_id, now);
    free (points);
    if (rc == 0 && *st->current)
        rc = rc_store_attribute_history (self->store, host_id, st->app, st->current, deployment_id);
    return rc;
}

void
rc_engine_on_report (rc_engine_t *self, const char *host_id, const Rollclone__StepReport *r)
{
    if (!rc_name_valid (r->deployment_id) || !rc_name_valid (r->app))
        return;
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    rc_dhost_t *h = (rc_dhost_t *)zmalloc (sizeof *h);
    if (rc_deployment_load (self->store, r->deployment_id, dep) != 1 || !streq (dep->app, r->app))
        goto out;
    /* a report of an older step, or of a step already settled: the agent
       repeats itself because instructions are level-triggered */
    if (rc_dhost_load_one (self->store, dep->id, host_id, h) != 1 || (int)r->step != h->step
        || !(s_in_step (h, "updating") || s_in_step (h, "rolling_back")))
        goto out;
    bool returned = s_is (h, "unknown");
    bool rollback = s_in_step (h, "rolling_back");
    int64_t now = rc_now_ms ();
    char phase[32];
    snprintf (phase, sizeof phase, "%s", rc_name_valid (r->phase) ? r->phase : "?");
    if (r->result == ROLLCLONE__STEP_REPORT__RESULT__RUNNING) {
        if (streq (h->phase, phase) && !returned)
            goto out;
        SET (h->phase, phase);
        if (rc_store_begin (self->store) == 0
            && ((returned && s_host_back (self, dep, h) != 0)
                || rc_dhost_save (self->store, dep->id, h) != 0
                || rc_store_commit (self->store) != 0))
            rc_store_rollback (self->store);
        goto out;
    }
    if (rc_store_begin (self->store) != 0)
        goto out;
    /* an unknown host's report decides its state: it is back */
    int rc = returned ? s_host_back (self, dep, h) : 0;
    h->finished = now;
    h->exit_code = r->exit_code;
    s_timings_text (r, h->timings, sizeof h->timings);
    SET (h->output_tail, r->output_tail);
    char took[32];
    rc_duration_format (now - h->started, took, sizeof took);
    if (r->result == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED) {
        SET (h->phase, "done");
        s_host_state (h, rollback ? "rolled_back" : "succeeded");
        if (rollback)
            h->needs_rollback = false;
        rc |= s_event (self, dep->id, h->host_id, rollback ? "host_rolled_back" : "host_succeeded",
                       "%s in %s", *r->version_now ? r->version_now : "(none)", took);
    }
    else {
        bool dirty = r->result == ROLLCLONE__STEP_REPORT__RESULT__FAILED_DIRTY;
        char failure[64], error[RC_TEXT_MAX];
        snprintf (failure, sizeof failure, "%s", phase);
        snprintf (error, sizeof error, "%s%s", r->error,
                  dirty ? " (and could not be put back)" : "");
        SET (h->phase, phase);
        rc |= s_host_fail (self, dep, h, rollback ? "rollback_failed" : "failed", failure,
                           dirty || rollback, error, now);
    }
    s_progress (self, dep, now);
    dep->updated = now;
    rc |= s_record_app_state (self, host_id, dep->id, r->app_state, now);
    rc |= rc_dhost_save (self->store, dep->id, h);
    rc |= rc_deployment_save (self->store, dep);
    if (rc == 0)
        rc = rc_store_commit (self->store);
    if (rc != 0) {
        rc_log_error_with (&(rc_log_fields_t){.deployment_id = dep->id, .host_id = host_id},
                           "report of %s: store: %s", host_id, rc_store_errmsg (self->store));
        rc_store_rollback (self->store);
        goto out;
    }
    rc_log_info_with (
        &(rc_log_fields_t){.deployment_id = dep->id, .host_id = host_id, .app = dep->app},
        "deployment %s: %s %s", dep->id, host_id, h->state);
    /* the next batch may start now rather than at the next tick: at the
       flush, once for all the reports of a burst */
    zhashx_update (self->dirty, dep->id, (void *)1);
out:
    free (h);
    free (dep);
}

/* ------------------------------------------------------------------------ */
/* Reconciliation: what an agent says it runs against what we recorded */

static Rollclone__ControlReply *s_app_busy (rc_engine_t *self, const char *app);

/* Did dep end (or is it ending) by putting its hosts back? */
static bool
s_rolls_back (const rc_deployment_t *dep)
{
    return streq (dep->state, "rolling_back") || streq (dep->state, "rolled_back")
           || streq (dep->state, "rollback_failed")
           || (streq (dep->state, "aborted") && dep->abort_rollback);
}

/* Is dep the newest deployment of its app? */
static bool
s_newest_of_app (rc_engine_t *self, const rc_deployment_t *dep)
{
    zlist_t *ids = rc_deployment_ids (self->store, false, dep->app, 1);
    bool newest = ids && zlist_size (ids) && streq ((char *)zlist_first (ids), dep->id);
    zlist_destroy (&ids);
    return newest;
}

/* Compares the host row of the agent's last deployment with the release
   the agent runs, and corrects the row (and the deployment's end) when
   they disagree. Hosts in flight are left to their report. */
static void
s_reconcile (rc_engine_t *self, const char *host_id, const Rollclone__AppState *st)
{
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    rc_dhost_t *h = (rc_dhost_t *)zmalloc (sizeof *h);
    if (rc_deployment_load (self->store, st->last_deployment_id, dep) != 1
        || !streq (dep->app, st->app) || !streq (dep->kind, "deploy")
        || rc_dhost_load_one (self->store, dep->id, host_id, h) != 1 || !h->touched)
        goto out;
    if (s_in_step (h, "updating") || s_in_step (h, "rolling_back") || s_is (h, "pending"))
        goto out;
    bool on_new = streq (st->current, h->to_version);
    bool on_old = *h->from_version && streq (st->current, h->from_version);
    if (!on_new && !on_old)
        goto out; /* another release since: not this deployment's to judge */
    char was[RC_STATE_MAX];
    SET (was, h->state);
    const char *now_state = NULL;
    bool reopen = false;
    if (on_old
        && (s_is (h, "succeeded") || s_is (h, "rollback_failed") || s_is (h, "rollback_pending")
            || (s_is (h, "failed") && h->needs_rollback))) {
        /* a failed host found clean stays failed (it counts against the
           budget); one that was owed a rollback has had it */
        if (s_is (h, "failed"))
            now_state = "failed";
        else
            now_state = s_rolls_back (dep) || !s_is (h, "succeeded") ? "rolled_back" : "failed";
        h->needs_rollback = false;
    }
    else if (on_new && !s_is (h, "succeeded") && !s_is (h, "rollback_pending")) {
        /* the agent ran the rollback and it failed there: the row is right */
        bool tried = st->last_step == (uint32_t)h->step && s_is (h, "rollback_failed")
                     && st->last_result != ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED;
        if (tried)
            goto out;
        if (streq (dep->state, "rolling_back"))
            now_state = "rollback_pending";
        else if (s_rolls_back (dep) && s_newest_of_app (self, dep)) {
            Rollclone__ControlReply *busy = s_app_busy (self, dep->app);
            reopen = busy == NULL;
            if (busy)
                rollclone__control_reply__free_unpacked (busy, NULL);
            now_state = reopen ? "rollback_pending" : "succeeded";
        }
        else
            now_state = "succeeded";
        h->needs_rollback = streq (now_state, "rollback_pending");
    }
    if (!now_state)
        goto out;
    int64_t now = rc_now_ms ();
    s_host_state (h, now_state);
    SET (h->failure, streq (now_state, "rollback_pending") ? "" : "reconciled");
    int rc = rc_store_begin (self->store);
    if (rc == 0)
        rc = s_event (self, dep->id, host_id, "host_reconciled",
                      "recorded %s, but the agent runs %s (its last step: %s/%u): now %s", was,
                      st->current, st->last_deployment_id, st->last_step, now_state);
    if (reopen) {
        SET (dep->state, "rolling_back");
        if (!*dep->final_state)
            SET (dep->final_state, "rolled_back");
        dep->finished = 0;
        dep->rb_batch = 0;
        dep->progress_elapsed_ms = 0;
        zhashx_delete (self->clocks, dep->id);
        if (rc == 0)
            rc = s_event (self, dep->id, NULL, "rollback_started",
                          "%s came back on %s after the rollback: rolling it back", host_id,
                          st->current);
    }
    else if (streq (dep->state, "rollback_failed") && streq (now_state, "rolled_back")) {
        /* the last host that could not be put back is back: say so */
        size_t n = 0, failed = 0;
        rc_dhost_t *hosts = NULL;
        if (rc == 0 && rc_dhost_load (self->store, dep->id, &hosts, &n) == 0) {
            for (size_t i = 0; i < n; i++)
                failed += !streq (hosts[i].host_id, host_id) && s_is (&hosts[i], "rollback_failed");
            if (failed == 0) {
                SET (dep->state, *dep->final_state ? dep->final_state : "rolled_back");
                rc = s_event (self, dep->id, NULL, "deployment_reconciled",
                              "every host is back: %s", dep->state);
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
    rc_log_warn ("deployment %s: %s reconciled: recorded %s, runs %s: now %s", dep->id, host_id,
                 was, st->current, now_state);
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

/* ------------------------------------------------------------------------ */
/* Control requests */

static Rollclone__ControlReply *
s_reply_new (void)
{
    Rollclone__ControlReply *reply = (Rollclone__ControlReply *)zmalloc (sizeof *reply);
    rollclone__control_reply__init (reply);
    return reply;
}

static Rollclone__ControlReply *
s_reply_error (int code, const char *fmt, ...)
{
    Rollclone__ControlReply *reply = s_reply_new ();
    reply->code = code;
    va_list args;
    va_start (args, fmt);
    reply->error = zsys_vprintf (fmt, args);
    va_end (args);
    if (!reply->error)
        reply->error = strdup ("out of memory");
    return reply;
}

typedef struct {
    rc_engine_t *self;
    const char *app;
    rc_label_t *select;
    int nselect;
    zlistx_t *chosen;     /* host ids */
    zlistx_t *lacking;    /* matching labels but without the app */
    zlistx_t *unselected; /* not matching the labels (for plans) */
    bool failed;          /* a read failed: the selection is not whole */
} s_select_t;

/* 1 the host has app, 0 not, -1 the store could not say. */
static int
s_host_has_app (rc_engine_t *self, const char *host_id, const char *app)
{
    sqlite3_stmt *stmt = rc_store_prepare (
        self->store, "SELECT 1 FROM host_apps WHERE host_id = ?1 AND app = ?2", "tt", host_id, app);
    int rc = stmt ? rc_store_step (self->store, stmt) : SQLITE_ERROR;
    sqlite3_finalize (stmt);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static void s_select_id (s_select_t *sel, const char *id);

static void
s_select_host (void *arg, const rc_host_row_t *row)
{
    s_select_t *sel = (s_select_t *)arg;
    rc_label_t labels[RC_LABELS_MAX];
    char err[128];
    int n = rc_labels_parse (row->labels, labels, RC_LABELS_MAX, err, sizeof err);
    for (int i = 0; i < sel->nselect; i++) {
        bool found = false;
        for (int j = 0; j < n && !found; j++)
            found = streq (labels[j].key, sel->select[i].key)
                    && streq (labels[j].value, sel->select[i].value);
        if (!found) {
            zlistx_add_end (sel->unselected, (void *)row->id);
            return;
        }
    }
    s_select_id (sel, row->id);
}

/* A host chosen (labels, or a retry's list): it goes if it has the app. */
static void
s_select_id (s_select_t *sel, const char *id)
{
    int has = s_host_has_app (sel->self, id, sel->app);
    if (has < 0)
        sel->failed = true;
    else if (has)
        zlistx_add_end (sel->chosen, (void *)id);
    else
        zlistx_add_end (sel->lacking, (void *)id);
}

static int
s_natural_cmp_void (const void *a, const void *b)
{
    return s_natural_cmp ((const char *)a, (const char *)b);
}

/* NULL when no deployment of app is active, else the error reply to give
   (one at a time per app; a store that cannot tell is not "none"). */
static Rollclone__ControlReply *
s_app_busy (rc_engine_t *self, const char *app)
{
    zlist_t *ids = rc_deployment_ids (self->store, true, app, 1);
    Rollclone__ControlReply *reply = NULL;
    if (!ids)
        reply = s_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
    else if (zlist_size (ids)) {
        const char *active = (const char *)zlist_first (ids);
        reply = s_reply_error (RC_EXIT_USAGE,
                               "deployment %s of app '%s' is still running: one at a time per "
                               "app (wait for it, or `rollclone abort %s`)",
                               active, app, active);
    }
    zlist_destroy (&ids);
    return reply;
}

static void
s_new_id (char *out, size_t len)
{
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    char stamp[32];
    strftime (stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf (out, len, "d-%s-%04x", stamp, (unsigned)randombytes_uniform (0x10000));
}

/* The agents decide what they accept (artifact_sources); refused here is
   only what no agent could accept: another scheme, a user name, dot or
   empty segments, encoded separators (rc_sources.h). */
static bool
s_url_ok (const char *url, char *err, size_t errlen)
{
    if (strlen (url) >= RC_URL_MAX) {
        snprintf (err, errlen, "'%.80s...': longer than %d bytes", url, RC_URL_MAX - 1);
        return false;
    }
    return rc_sources_check_url (url, err, errlen) == 0;
}

static bool
s_sha_ok (const char *sha)
{
    if (strlen (sha) != 64)
        return false;
    for (const char *c = sha; *c; c++)
        if (!isxdigit ((unsigned char)*c))
            return false;
    return true;
}

/* Parses a duration field of a request: "" is the default. */
static bool
s_duration_field (const char *text, int64_t dflt, int64_t *out)
{
    if (!*text) {
        *out = dflt;
        return true;
    }
    return rc_duration_parse (text, out) == 0 && *out > 0 && *out <= UINT32_MAX;
}

/* The reply of a plan: code 0 and the plan, or the error when plan is NULL. */
static Rollclone__ControlReply *
s_plan_reply (rc_engine_t *self, Rollclone__PlanReply *plan)
{
    if (!plan)
        return s_reply_error (RC_EXIT_FAILED, "out of memory making the plan");
    plan->frozen = self->freeze && rc_freeze_at (self->freeze, rc_now_ms (), NULL);
    Rollclone__ControlReply *reply = s_reply_new ();
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_PLAN;
    reply->plan = plan;
    return reply;
}

/* The members of a plan from a list of host ids, with the live view. */
static rc_plan_member_t *
s_plan_members (rc_engine_t *self, zlistx_t *ids, size_t *n)
{
    *n = zlistx_size (ids);
    rc_plan_member_t *members = (rc_plan_member_t *)calloc (*n ? *n : 1, sizeof *members);
    size_t i = 0;
    for (char *id = (char *)zlistx_first (ids); members && id; id = (char *)zlistx_next (ids)) {
        members[i].host_id = id;
        members[i].online = s_host_live (self, id, &members[i].healthy);
        i++;
    }
    return members;
}

/* deploy --plan: the hosts chosen as the deploy would, laid out as the
   engine would take them. */
static Rollclone__ControlReply *
s_plan_deploy (rc_engine_t *self, const Rollclone__DeployRequest *req, s_select_t *sel,
               const char *batch, const char *max_fail, int64_t progress_deadline_ms)
{
    Rollclone__PlanReply *plan = rc_plan_new ("deploy", req->app, req->version);
    size_t n = 0;
    rc_plan_member_t *members = plan ? s_plan_members (self, sel->chosen, &n) : NULL;
    int64_t pause_ms = 0;
    if (*req->pause && !streq (req->pause, "manual") && rc_duration_parse (req->pause, &pause_ms))
        pause_ms = 0;
    rc_plan_walk_t walk = {.batch_spec = batch,
                           .total = (int)n,
                           .progress_deadline_ms = progress_deadline_ms,
                           .pause_ms = pause_ms,
                           .unavailable_takes_slot = true};
    int rc = members ? rc_plan_walk (plan, &walk, members, n) : -1;
    for (char *id = (char *)zlistx_first (sel->lacking); rc == 0 && id;
         id = (char *)zlistx_next (sel->lacking))
        rc = rc_plan_skip (plan, id, "app_missing");
    for (char *id = (char *)zlistx_first (sel->unselected); rc == 0 && id;
         id = (char *)zlistx_next (sel->unselected))
        rc = rc_plan_skip (plan, id, "not_selected");
    if (rc == 0)
        plan->max_fail_hosts = (uint32_t)rc_engine_max_fail (max_fail, (int)n);
    free (members);
    if (rc != 0 && plan) {
        rollclone__plan_reply__free_unpacked (plan, NULL);
        plan = NULL;
    }
    return s_plan_reply (self, plan);
}

Rollclone__ControlReply *
rc_engine_deploy (rc_engine_t *self, const Rollclone__DeployRequest *asked)
{
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    Rollclone__ControlReply *reply = NULL;
    rc_label_t select[RC_LABELS_MAX];
    char err[256];
    /* --retry ID: the request is the deployment's, with what was given */
    rc_retry_t *retry = NULL;
    const Rollclone__DeployRequest *req = asked;
    if (*asked->retry_of) {
        retry = (rc_retry_t *)zmalloc (sizeof *retry);
        int code = rc_retry_prepare (self->store, asked, retry, err, sizeof err);
        if (code != RC_EXIT_OK) {
            free (retry);
            free (dep);
            return s_reply_error (code, "%s", err);
        }
        req = &retry->req;
    }
    s_select_t sel = {.self = self, .app = req->app};

    if (!rc_name_valid (req->app)) {
        reply = s_reply_error (RC_EXIT_USAGE, "--app '%s' must be [A-Za-z0-9._+-]{1,%d}", req->app,
                               RC_NAME_MAX);
        goto out;
    }
    if (!rc_name_valid (req->version)) {
        reply = s_reply_error (RC_EXIT_USAGE, "--version '%s' must be [A-Za-z0-9._+-]{1,%d}",
                               req->version, RC_NAME_MAX);
        goto out;
    }
    char why[RC_URL_MAX + 256];
    if (!s_url_ok (req->artifact_url, why, sizeof why)) {
        reply = s_reply_error (RC_EXIT_USAGE, "--artifact %s", why);
        goto out;
    }
    /* agents refuse an instruction without one, whatever the scheme */
    if (!*req->sha256) {
        reply = s_reply_error (RC_EXIT_USAGE, "--sha256 is required (artifact '%s')",
                               req->artifact_url);
        goto out;
    }
    if (!s_sha_ok (req->sha256)) {
        reply = s_reply_error (RC_EXIT_USAGE, "--sha256 '%s' is not 64 hex digits", req->sha256);
        goto out;
    }
    if (*req->signature) {
        rc_signature_t sig;
        if (rc_signature_parse (req->signature, strlen (req->signature), &sig, why, sizeof why)
            != 0) {
            reply = s_reply_error (RC_EXIT_USAGE, "--signature: %s", why);
            goto out;
        }
        /* a signature for other bytes or another version is refused by
           every agent: say so now, once */
        if (strcasecmp (sig.sha256, req->sha256) != 0) {
            reply = s_reply_error (RC_EXIT_USAGE, "--signature is for sha256 %s, not --sha256 %s",
                                   sig.sha256, req->sha256);
            goto out;
        }
        if (strcmp (sig.version, RC_SIGNATURE_ANY) != 0 && strcmp (sig.version, req->version)) {
            reply = s_reply_error (RC_EXIT_USAGE, "--signature is for version %s, not %s",
                                   sig.version, req->version);
            goto out;
        }
    }
    /* every field must fit its column whole: a cut strategy would be
       another strategy */
    struct {
        const char *flag, *value;
        size_t max;
    } sizes[] = {
        {"--select", req->select, sizeof dep->selector},
        {"--batch", req->batch, sizeof dep->batch_spec},
        {"--max-fail", req->max_fail, sizeof dep->max_fail_spec},
        {"--pause", req->pause, sizeof dep->pause_spec},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (strlen (sizes[i].value) >= sizes[i].max) {
            reply = s_reply_error (RC_EXIT_USAGE, "%s is too long (%zu characters, at most %zu)",
                                   sizes[i].flag, strlen (sizes[i].value), sizes[i].max - 1);
            goto out;
        }
    sel.nselect = rc_labels_parse (req->select, select, RC_LABELS_MAX, err, sizeof err);
    if (sel.nselect < 0) {
        reply = s_reply_error (RC_EXIT_USAGE, "--select '%s': %s", req->select, err);
        goto out;
    }
    sel.select = select;
    const char *batch = *req->batch ? req->batch : RC_DEFAULT_BATCH;
    if (rc_engine_batch_count (batch, 1) < 0) {
        reply = s_reply_error (RC_EXIT_USAGE,
                               "--batch '%s' must be N, N%% or a ramp like 1,10%%,50%% (each > 0)",
                               batch);
        goto out;
    }
    const char *max_fail = *req->max_fail ? req->max_fail : RC_DEFAULT_MAX_FAIL;
    if (rc_engine_max_fail (max_fail, 1) < 0) {
        reply = s_reply_error (RC_EXIT_USAGE, "--max-fail '%s' must be N or N%%", max_fail);
        goto out;
    }
    if (!s_duration_field (req->soak, RC_DEFAULT_SOAK_MS, &dep->soak_ms)) {
        reply = s_reply_error (RC_EXIT_USAGE, "--soak '%s' is not a duration (500ms, 10s, 5m, 1h)",
                               req->soak);
        goto out;
    }
    if (!s_duration_field (req->health_timeout, RC_DEFAULT_HEALTH_TIMEOUT_MS,
                           &dep->health_timeout_ms)) {
        reply = s_reply_error (RC_EXIT_USAGE, "--health-timeout '%s' is not a duration",
                               req->health_timeout);
        goto out;
    }
    if (!s_duration_field (req->progress_deadline, RC_DEFAULT_PROGRESS_DEADLINE_MS,
                           &dep->progress_deadline_ms)) {
        reply = s_reply_error (RC_EXIT_USAGE, "--progress-deadline '%s' is not a duration",
                               req->progress_deadline);
        goto out;
    }
    int64_t grace_default = self->offline_grace ? self->offline_grace : dep->health_timeout_ms;
    if (!s_duration_field (req->offline_grace, grace_default, &dep->offline_grace_ms)) {
        reply = s_reply_error (RC_EXIT_USAGE, "--offline-grace '%s' is not a duration",
                               req->offline_grace);
        goto out;
    }
    int64_t pause_ms;
    if (*req->pause && !streq (req->pause, "manual")
        && (rc_duration_parse (req->pause, &pause_ms) != 0 || pause_ms <= 0)) {
        reply = s_reply_error (RC_EXIT_USAGE, "--pause '%s' must be a duration or 'manual'",
                               req->pause);
        goto out;
    }
    reply = s_app_busy (self, req->app);
    if (reply)
        goto out;
    sel.chosen = zlistx_new ();
    sel.lacking = zlistx_new ();
    sel.unselected = zlistx_new ();
    zlistx_t *lists[] = {sel.chosen, sel.lacking, sel.unselected};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        zlistx_set_duplicator (lists[i], (zlistx_duplicator_fn *)strdup);
        zlistx_set_destructor (lists[i], (zlistx_destructor_fn *)zstr_free);
    }
    zlistx_set_comparator (sel.chosen, s_natural_cmp_void);
    int read = 0;
    if (retry) {
        /* the hosts the deployment did not leave on its version */
        zlistx_t *again = zlistx_new ();
        zlistx_set_duplicator (again, (zlistx_duplicator_fn *)strdup);
        zlistx_set_destructor (again, (zlistx_destructor_fn *)zstr_free);
        read = rc_retry_hosts (self->store, retry->of.id, again);
        for (char *id = (char *)zlistx_first (again); read == 0 && id;
             id = (char *)zlistx_next (again))
            s_select_id (&sel, id);
        zlistx_destroy (&again);
    }
    else
        read = rc_store_hosts_each (self->store, s_select_host, &sel);
    if (read != 0 || sel.failed) {
        reply = s_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
        goto out;
    }
    int total = (int)zlistx_size (sel.chosen);
    if (total == 0 && retry) {
        reply = s_reply_error (RC_EXIT_USAGE,
                               "--retry: deployment %s left no failed or skipped host that still "
                               "has app '%s' (it %s)",
                               retry->of.id, req->app, retry->of.state);
        goto out;
    }
    if (total == 0) {
        reply = s_reply_error (RC_EXIT_USAGE, "no host has app '%s'%s%s%s", req->app,
                               *req->select ? " among those matching --select '" : "", req->select,
                               *req->select ? "'" : "");
        goto out;
    }
    zlistx_sort (sel.chosen);
    if (req->plan) {
        reply = s_plan_deploy (self, req, &sel, batch, max_fail, dep->progress_deadline_ms);
        goto out;
    }

    int64_t now = rc_now_ms ();
    s_new_id (dep->id, sizeof dep->id);
    SET (dep->kind, "deploy");
    SET (dep->operator_name, rc_store_operator (self->store));
    SET (dep->retry_of, retry ? retry->of.id : "");
    dep->ignore_freeze = req->ignore_freeze;
    SET (dep->app, req->app);
    SET (dep->version, req->version);
    SET (dep->artifact_url, req->artifact_url);
    SET (dep->sha256, req->sha256);
    SET (dep->signature, req->signature);
    for (char *c = dep->sha256; *c; c++)
        *c = (char)tolower ((unsigned char)*c);
    SET (dep->selector, req->select);
    SET (dep->batch_spec, batch);
    SET (dep->max_fail_spec, max_fail);
    dep->max_fail = rc_engine_max_fail (max_fail, total);
    SET (dep->pause_spec, req->pause);
    dep->auto_rollback = !req->no_auto_rollback;
    SET (dep->state, "running");
    dep->total_batches = rc_engine_batch_count (batch, total);
    dep->gate_open = true;
    dep->abort_rollback = true;
    dep->created = dep->updated = dep->progress = now;

    int rc = rc_store_begin (self->store);
    if (rc == 0)
        rc = rc_deployment_insert (self->store, dep);
    int ord = 0;
    for (char *id = (char *)zlistx_first (sel.chosen); rc == 0 && id;
         id = (char *)zlistx_next (sel.chosen)) {
        rc_dhost_t *h = (rc_dhost_t *)zmalloc (sizeof *h);
        SET (h->host_id, id);
        h->ord = ord++;
        SET (h->state, "pending");
        SET (h->to_version, dep->version);
        rc = s_current_version (self, id, dep->app, h->from_version, sizeof h->from_version);
        if (rc == 0)
            rc = rc_dhost_insert (self->store, dep->id, h);
        free (h);
    }
    if (rc == 0)
        rc = s_event (self, dep->id, NULL, "deployment_created",
                      "%s%s%s%s %s to %d host(s) in %d batch(es): batch %s, max-fail %d, soak %s, "
                      "auto-rollback %s%s",
                      retry ? "retry of " : "", retry ? retry->of.id : "", retry ? ": " : "",
                      dep->app, dep->version, total, dep->total_batches, batch, dep->max_fail,
                      *req->soak ? req->soak : "10s", dep->auto_rollback ? "on" : "off",
                      dep->ignore_freeze ? ", ignoring freezes" : "");
    if (rc == 0)
        rc = rc_store_commit (self->store);
    if (rc != 0) {
        reply = s_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
        rc_store_rollback (self->store);
        goto out;
    }
    rc_log_info_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                      "deployment %s: %s %s to %d host(s)", dep->id, dep->app, dep->version, total);
    s_process (self, dep->id, false);
    reply = s_reply_new ();
    Rollclone__DeployReply *dr = (Rollclone__DeployReply *)zmalloc (sizeof *dr);
    rollclone__deploy_reply__init (dr);
    dr->deployment_id = strdup (dep->id);
    dr->hosts = (uint32_t)total;
    dr->total_batches = (uint32_t)dep->total_batches;
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_DEPLOY;
    reply->deploy = dr;
out:
    zlistx_destroy (&sel.chosen);
    zlistx_destroy (&sel.lacking);
    zlistx_destroy (&sel.unselected);
    free (retry);
    free (dep);
    return reply;
}

static Rollclone__DeploymentInfo *
s_info (rc_engine_t *self, const char *id, bool with_output)
{
    rc_deployment_t *d = (rc_deployment_t *)zmalloc (sizeof *d);
    if (rc_deployment_load (self->store, id, d) != 1) {
        free (d);
        return NULL;
    }
    Rollclone__DeploymentInfo *info = (Rollclone__DeploymentInfo *)zmalloc (sizeof *info);
    rollclone__deployment_info__init (info);
    info->id = strdup (d->id);
    info->kind = strdup (d->kind);
    info->app = strdup (d->app);
    info->version = strdup (d->version);
    info->artifact_url = strdup (d->artifact_url);
    info->sha256 = strdup (d->sha256);
    info->select = strdup (d->selector);
    info->batch = strdup (d->batch_spec);
    info->max_fail = strdup (d->max_fail_spec);
    info->max_fail_hosts = (uint32_t)d->max_fail;
    info->soak_ms = (uint32_t)d->soak_ms;
    info->health_timeout_ms = (uint32_t)d->health_timeout_ms;
    info->progress_deadline_ms = (uint32_t)d->progress_deadline_ms;
    info->offline_grace_ms =
        (uint32_t)(d->offline_grace_ms > 0 ? d->offline_grace_ms : d->health_timeout_ms);
    info->pause = strdup (d->pause_spec);
    info->auto_rollback = d->auto_rollback;
    info->state = strdup (d->state);
    info->current_batch = (uint32_t)d->batch;
    info->total_batches = (uint32_t)d->total_batches;
    info->reason = strdup (d->reason);
    info->created_ms = d->created;
    info->updated_ms = d->updated;
    info->finished_ms = d->finished;
    info->gate_open =
        !(streq (d->pause_spec, "manual") && !d->gate_open && d->batch > 0) && !d->paused;
    info->pause_until_ms = d->pause_until;
    info->operator_ = strdup (d->operator_name);
    info->retry_of = strdup (d->retry_of);
    info->ignore_freeze = d->ignore_freeze;
    info->frozen = d->frozen;
    size_t n = 0;
    rc_dhost_t *hosts = NULL;
    if (rc_dhost_load (self->store, id, &hosts, &n) != 0) {
        rollclone__deployment_info__free_unpacked (info, NULL);
        free (d);
        return NULL;
    }
    info->hosts = (Rollclone__DeploymentHost **)calloc (n ? n : 1, sizeof *info->hosts);
    for (size_t i = 0; hosts && i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        Rollclone__DeploymentHost *dh = (Rollclone__DeploymentHost *)zmalloc (sizeof *dh);
        rollclone__deployment_host__init (dh);
        dh->host_id = strdup (h->host_id);
        dh->batch = (uint32_t)h->batch;
        dh->state = strdup (h->state);
        dh->phase = strdup (h->phase);
        dh->from_version = strdup (h->from_version);
        dh->to_version = strdup (h->to_version);
        dh->started_ms = h->started;
        dh->finished_ms = h->finished;
        dh->failure = strdup (h->failure);
        dh->error = strdup (h->error);
        dh->output_tail = strdup (with_output ? h->output_tail : "");
        dh->exit_code = h->exit_code;
        /* timings "phase=ms,..." back into messages */
        char copy[sizeof h->timings];
        snprintf (copy, sizeof copy, "%s", h->timings);
        char *save = NULL;
        for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
            char *eq = strchr (t, '=');
            if (!eq)
                continue;
            *eq = '\0';
            Rollclone__PhaseTiming *pt = (Rollclone__PhaseTiming *)zmalloc (sizeof *pt);
            rollclone__phase_timing__init (pt);
            pt->phase = strdup (t);
            pt->ms = (uint32_t)strtoul (eq + 1, NULL, 10);
            dh->timings = (Rollclone__PhaseTiming **)realloc (
                dh->timings, (dh->n_timings + 1) * sizeof *dh->timings);
            dh->timings[dh->n_timings++] = pt;
        }
        if (streq (h->state, "failed") || streq (h->state, "rollback_failed"))
            info->failures++;
        info->hosts[info->n_hosts++] = dh;
    }
    free (hosts);
    free (d);
    return info;
}

/* A page size asked for by the CLI: the default for 0, never above max. */
static size_t
s_clamp (uint32_t asked, size_t fallback, size_t max)
{
    size_t limit = asked ? asked : fallback;
    return limit < max ? limit : max;
}

Rollclone__ControlReply *
rc_engine_status (rc_engine_t *self, const Rollclone__StatusRequest *req)
{
    Rollclone__StatusReply *sr = (Rollclone__StatusReply *)zmalloc (sizeof *sr);
    rollclone__status_reply__init (sr);
    zlist_t *ids = NULL;
    if (*req->deployment_id) {
        ids = zlist_new ();
        zlist_append (ids, req->deployment_id);
    }
    else
        ids =
            rc_deployment_ids (self->store, false, NULL,
                               s_clamp (req->limit, RC_STATUS_DEFAULT_LIMIT, RC_STATUS_MAX_LIMIT));
    size_t n = ids ? zlist_size (ids) : 0;
    sr->deployments = (Rollclone__DeploymentInfo **)calloc (n ? n : 1, sizeof *sr->deployments);
    for (char *id = ids ? (char *)zlist_first (ids) : NULL; id; id = (char *)zlist_next (ids)) {
        Rollclone__DeploymentInfo *info = s_info (self, id, *req->deployment_id != '\0');
        if (info)
            sr->deployments[sr->n_deployments++] = info;
    }
    zlist_destroy (&ids);
    if (*req->deployment_id && sr->n_deployments == 0) {
        rollclone__status_reply__free_unpacked (sr, NULL);
        return s_reply_error (RC_EXIT_USAGE, "no deployment '%s'", req->deployment_id);
    }
    Rollclone__ControlReply *reply = s_reply_new ();
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_STATUS;
    reply->status = sr;
    return reply;
}

Rollclone__ControlReply *
rc_engine_operate (rc_engine_t *self, const Rollclone__OperateRequest *req)
{
    static const char *names[] = {"pause", "resume", "abort"};
    const char *op = req->op <= ROLLCLONE__OPERATE_REQUEST__OP__ABORT ? names[req->op] : "?";
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    Rollclone__ControlReply *reply = NULL;
    int found = rc_name_valid (req->deployment_id)
                    ? rc_deployment_load (self->store, req->deployment_id, dep)
                    : 0;
    if (found != 1) {
        reply = s_reply_error (RC_EXIT_USAGE, "no deployment '%s'", req->deployment_id);
        goto out;
    }
    if (!rc_deployment_active (dep)) {
        reply = s_reply_error (RC_EXIT_USAGE, "cannot %s deployment %s: it has ended (%s)", op,
                               dep->id, dep->state);
        goto out;
    }
    int64_t now = rc_now_ms ();
    int rc = rc_store_begin (self->store);
    switch (req->op) {
    case ROLLCLONE__OPERATE_REQUEST__OP__PAUSE:
        if (streq (dep->state, "rolling_back")) {
            reply = s_reply_error (RC_EXIT_USAGE,
                                   "deployment %s is rolling back: it cannot be "
                                   "paused",
                                   dep->id);
            break;
        }
        dep->paused = true;
        SET (dep->state, "paused");
        rc |= s_event (self, dep->id, NULL, "paused", "by the operator: no new batch starts");
        break;
    case ROLLCLONE__OPERATE_REQUEST__OP__RESUME: {
        bool gated = streq (dep->pause_spec, "manual") && !dep->gate_open && dep->batch > 0;
        if (!dep->paused && !gated) {
            reply = s_reply_error (RC_EXIT_USAGE, "deployment %s is not paused (%s)", dep->id,
                                   dep->state);
            break;
        }
        dep->paused = false;
        dep->gate_open = true;
        if (streq (dep->state, "paused"))
            SET (dep->state, "running");
        rc |= s_event (self, dep->id, NULL, "resumed", "by the operator");
        break;
    }
    case ROLLCLONE__OPERATE_REQUEST__OP__ABORT:
        dep->abort_requested = true;
        dep->abort_rollback = !req->no_rollback;
        dep->paused = false;
        if (streq (dep->state, "paused"))
            SET (dep->state, "running");
        rc |= s_event (self, dep->id, NULL, "abort_requested", "by the operator, %s",
                       req->no_rollback ? "without rollback" : "rolling back touched hosts");
        break;
    default: reply = s_reply_error (RC_EXIT_USAGE, "unknown operation"); break;
    }
    if (reply) {
        rc_store_rollback (self->store);
        goto out;
    }
    dep->updated = now;
    if (rc == 0)
        rc = rc_deployment_save (self->store, dep);
    if (rc == 0)
        rc = rc_store_commit (self->store);
    if (rc != 0) {
        rc_store_rollback (self->store);
        reply = s_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
        goto out;
    }
    rc_log_info_with (&(rc_log_fields_t){.deployment_id = dep->id, .app = dep->app},
                      "deployment %s: %s by the operator", dep->id, op);
    s_process (self, dep->id, false);
    reply = s_reply_new ();
out:
    free (dep);
    return reply;
}

/* rollback --deployment ID: every host it changed goes back where it was. */
/* rollback --deployment ID --plan: the hosts marked, as s_advance_rollback
   would take them (an offline one is waited for, not given a place). */
static Rollclone__ControlReply *
s_plan_rollback (rc_engine_t *self, const rc_deployment_t *dep, rc_dhost_t *hosts, size_t n)
{
    Rollclone__PlanReply *plan = rc_plan_new ("rollback", dep->app, "");
    rc_plan_member_t *members = (rc_plan_member_t *)calloc (n ? n : 1, sizeof *members);
    size_t count = 0;
    int rc = plan && members ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        if (!s_is (h, "rollback_pending"))
            rc = rc_plan_skip (plan, h->host_id, "not_changed");
        else if (!streq (dep->kind, "rollback") && !*h->from_version)
            rc = rc_plan_skip (plan, h->host_id, "no_rollback_point");
        else {
            members[count].host_id = h->host_id;
            members[count].online = s_host_live (self, h->host_id, &members[count].healthy);
            /* a rollback does not wait for health before its turn */
            members[count].healthy = members[count].online;
            count++;
        }
    }
    rc_plan_walk_t walk = {.batch_spec = dep->batch_spec,
                           .total = (int)n,
                           .progress_deadline_ms = dep->progress_deadline_ms,
                           .unavailable_takes_slot = false};
    if (rc == 0)
        rc = rc_plan_walk (plan, &walk, members, count);
    free (members);
    if (rc != 0 && plan) {
        rollclone__plan_reply__free_unpacked (plan, NULL);
        plan = NULL;
    }
    return s_plan_reply (self, plan);
}

static Rollclone__ControlReply *
s_rollback_deployment (rc_engine_t *self, const char *id, bool plan)
{
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    Rollclone__ControlReply *reply = NULL;
    size_t n = 0;
    rc_dhost_t *hosts = NULL;
    if (!rc_name_valid (id) || rc_deployment_load (self->store, id, dep) != 1) {
        reply = s_reply_error (RC_EXIT_USAGE, "no deployment '%s'", id);
        goto out;
    }
    if (rc_deployment_active (dep)) {
        reply = s_reply_error (RC_EXIT_USAGE,
                               "deployment %s is %s: abort it (`rollclone abort %s`), which rolls "
                               "back what it touched",
                               id, dep->state, id);
        goto out;
    }
    reply = s_app_busy (self, dep->app);
    if (reply)
        goto out;
    if (rc_dhost_load (self->store, id, &hosts, &n) != 0) {
        reply = s_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
        goto out;
    }
    size_t marked = 0;
    for (size_t i = 0; hosts && i < n; i++) {
        rc_dhost_t *h = &hosts[i];
        if (h->touched && (s_is (h, "succeeded") || h->needs_rollback)) {
            h->needs_rollback = true;
            s_host_state (h, "rollback_pending");
            marked++;
        }
    }
    if (marked == 0) {
        reply = s_reply_error (RC_EXIT_USAGE, "deployment %s left no host to roll back (state %s)",
                               id, dep->state);
        goto out;
    }
    if (plan) {
        reply = s_plan_rollback (self, dep, hosts, n);
        goto out;
    }
    int64_t now = rc_now_ms ();
    SET (dep->state, "rolling_back");
    SET (dep->final_state, "rolled_back");
    SET (dep->reason, "rolled back by the operator");
    dep->rb_batch = 0;
    dep->finished = 0;
    dep->progress = dep->updated = now;
    dep->progress_elapsed_ms = dep->pause_remaining_ms = dep->pause_until = 0;
    zhashx_delete (self->clocks, id);
    dep->abort_requested = false;
    int rc = rc_store_begin (self->store);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (hosts[i].dirty)
            rc = rc_dhost_save (self->store, id, &hosts[i]);
    if (rc == 0)
        rc = rc_deployment_save (self->store, dep);
    if (rc == 0)
        rc = s_event (self, id, NULL, "rollback_started",
                      "by the operator: %zu host(s) back to where they were", marked);
    if (rc == 0)
        rc = rc_store_commit (self->store);
    if (rc != 0) {
        rc_store_rollback (self->store);
        reply = s_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
        goto out;
    }
    s_process (self, id, false);
    reply = s_reply_new ();
    Rollclone__DeployReply *dr = (Rollclone__DeployReply *)zmalloc (sizeof *dr);
    rollclone__deploy_reply__init (dr);
    dr->deployment_id = strdup (id);
    dr->hosts = (uint32_t)marked;
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_DEPLOY;
    reply->deploy = dr;
out:
    free (hosts);
    free (dep);
    return reply;
}

/* rollback --host H --app A [--to V]: a one-host deployment of kind rollback. */
static Rollclone__ControlReply *
s_rollback_host (rc_engine_t *self, const Rollclone__RollbackRequest *req)
{
    if (!rc_name_valid (req->host_id))
        return s_reply_error (RC_EXIT_USAGE, "--host '%s' is not a host id", req->host_id);
    if (!rc_name_valid (req->app))
        return s_reply_error (RC_EXIT_USAGE, "--app '%s' must be [A-Za-z0-9._+-]{1,%d}", req->app,
                              RC_NAME_MAX);
    if (*req->to_version && !rc_name_valid (req->to_version))
        return s_reply_error (RC_EXIT_USAGE, "--to '%s' must be [A-Za-z0-9._+-]{1,%d}",
                              req->to_version, RC_NAME_MAX);
    bool online, healthy;
    if (!self->host_fn (self->host_arg, req->host_id, &online, &healthy))
        return s_reply_error (RC_EXIT_USAGE, "no host '%s'", req->host_id);
    sqlite3_stmt *stmt = rc_store_prepare (self->store,
                                           "SELECT current, rollback_points FROM host_apps "
                                           "WHERE host_id = ?1 AND app = ?2",
                                           "tt", req->host_id, req->app);
    char current[RC_NAME_MAX + 1] = "";
    char *points = NULL; /* the whole list, however long */
    int step = stmt ? rc_store_step (self->store, stmt) : SQLITE_ERROR;
    bool has = step == SQLITE_ROW;
    if (has) {
        snprintf (current, sizeof current, "%s", (const char *)sqlite3_column_text (stmt, 0));
        points = strdup ((const char *)sqlite3_column_text (stmt, 1));
    }
    sqlite3_finalize (stmt);
    Rollclone__ControlReply *refused = NULL;
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        refused = s_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
    else if (has && !points)
        refused = s_reply_error (RC_EXIT_FAILED, "out of memory");
    else if (!has)
        refused =
            s_reply_error (RC_EXIT_USAGE, "host '%s' has no app '%s'", req->host_id, req->app);
    else if (!*points)
        refused = s_reply_error (RC_EXIT_USAGE, "host '%s' has no rollback point for '%s'",
                                 req->host_id, req->app);
    else if (*req->to_version && !rc_join_list_has (points, req->to_version))
        refused = s_reply_error (RC_EXIT_USAGE, "'%s' is not a rollback point of %s/%s (has: %s)",
                                 req->to_version, req->host_id, req->app, points);
    free (points);
    if (refused)
        return refused;
    Rollclone__ControlReply *busy = s_app_busy (self, req->app);
    if (busy)
        return busy;
    if (req->plan) {
        Rollclone__PlanReply *plan = rc_plan_new ("rollback", req->app, req->to_version);
        rc_plan_member_t member = {.host_id = req->host_id, .online = online, .healthy = online};
        rc_plan_walk_t walk = {
            .batch_spec = "1", .total = 1, .progress_deadline_ms = RC_DEFAULT_PROGRESS_DEADLINE_MS};
        if (plan && rc_plan_walk (plan, &walk, &member, 1) != 0) {
            rollclone__plan_reply__free_unpacked (plan, NULL);
            plan = NULL;
        }
        return s_plan_reply (self, plan);
    }
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    int64_t now = rc_now_ms ();
    s_new_id (dep->id, sizeof dep->id);
    SET (dep->kind, "rollback");
    SET (dep->operator_name, rc_store_operator (self->store));
    SET (dep->app, req->app);
    SET (dep->version, req->to_version);
    SET (dep->batch_spec, "1");
    SET (dep->max_fail_spec, "0");
    SET (dep->selector, req->host_id);
    dep->soak_ms = RC_DEFAULT_SOAK_MS;
    dep->health_timeout_ms = RC_DEFAULT_HEALTH_TIMEOUT_MS;
    dep->progress_deadline_ms = RC_DEFAULT_PROGRESS_DEADLINE_MS;
    dep->offline_grace_ms = self->offline_grace ? self->offline_grace : dep->health_timeout_ms;
    dep->auto_rollback = false;
    SET (dep->state, "rolling_back");
    SET (dep->final_state, "rolled_back");
    dep->total_batches = 1;
    dep->gate_open = true;
    dep->abort_rollback = true;
    dep->created = dep->updated = dep->progress = now;
    rc_dhost_t *h = (rc_dhost_t *)zmalloc (sizeof *h);
    SET (h->host_id, req->host_id);
    SET (h->state, "rollback_pending");
    SET (h->from_version, current);
    SET (h->to_version, req->to_version);
    h->needs_rollback = true;
    h->batch = 1;
    int rc = rc_store_begin (self->store);
    if (rc == 0)
        rc = rc_deployment_insert (self->store, dep);
    if (rc == 0)
        rc = rc_dhost_insert (self->store, dep->id, h);
    if (rc == 0)
        rc = s_event (self, dep->id, req->host_id, "rollback_started",
                      "by the operator: %s %s -> %s", req->app, *current ? current : "(none)",
                      *req->to_version ? req->to_version : "the previous release");
    if (rc == 0)
        rc = rc_store_commit (self->store);
    Rollclone__ControlReply *reply;
    if (rc != 0) {
        rc_store_rollback (self->store);
        reply = s_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
    }
    else {
        s_process (self, dep->id, false);
        reply = s_reply_new ();
        Rollclone__DeployReply *dr = (Rollclone__DeployReply *)zmalloc (sizeof *dr);
        rollclone__deploy_reply__init (dr);
        dr->deployment_id = strdup (dep->id);
        dr->hosts = 1;
        dr->total_batches = 1;
        reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_DEPLOY;
        reply->deploy = dr;
    }
    free (h);
    free (dep);
    return reply;
}

Rollclone__ControlReply *
rc_engine_rollback (rc_engine_t *self, const Rollclone__RollbackRequest *req)
{
    if (*req->deployment_id)
        return s_rollback_deployment (self, req->deployment_id, req->plan);
    return s_rollback_host (self, req);
}

Rollclone__ControlReply *
rc_engine_freeze (rc_engine_t *self, const Rollclone__FreezeRequest *req)
{
    int64_t now = rc_now_ms ();
    if (!self->freeze)
        return s_reply_error (RC_EXIT_FAILED, "this coordinator keeps no freezes");
    if (req->until_ms && req->clear)
        return s_reply_error (RC_EXIT_USAGE, "freeze: --until and --clear do not go together");
    if (req->until_ms && req->until_ms <= now)
        return s_reply_error (RC_EXIT_USAGE, "freeze: --until %lld is not in the future",
                              (long long)req->until_ms);
    if (strlen (req->reason) > RC_FREEZE_REASON_MAX)
        return s_reply_error (RC_EXIT_USAGE, "freeze: --reason is longer than %d characters",
                              RC_FREEZE_REASON_MAX);
    bool in_force = rc_freeze_until (self->freeze) > now;
    if (req->until_ms || (req->clear && in_force)) {
        char until[64];
        int rc = rc_store_begin (self->store);
        if (rc == 0 && req->until_ms) {
            rc = rc_freeze_set (self->freeze, req->until_ms, req->reason,
                                rc_store_operator (self->store), now);
            if (rc == 0)
                rc = s_event (self, NULL, NULL, "freeze_set", "no batch starts %s%s%s",
                              s_wall_text (req->until_ms, until, sizeof until),
                              *req->reason ? ": " : "", req->reason);
        }
        else if (rc == 0) {
            rc = rc_freeze_clear (self->freeze);
            if (rc == 0)
                rc =
                    s_event (self, NULL, NULL, "freeze_cleared", "the operator's freeze is lifted");
        }
        if (rc == 0)
            rc = rc_store_commit (self->store);
        if (rc != 0) {
            Rollclone__ControlReply *failed =
                s_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
            rc_store_rollback (self->store);
            rc_freeze_load (self->freeze);
            return failed;
        }
        rc_log_info ("freeze: %s", req->until_ms ? until : "lifted");
    }
    Rollclone__FreezeReply *fr = rc_freeze_reply (self->freeze, now);
    if (!fr)
        return s_reply_error (RC_EXIT_FAILED, "out of memory");
    Rollclone__ControlReply *reply = s_reply_new ();
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_FREEZE;
    reply->freeze = fr;
    return reply;
}

Rollclone__AppState *
rc_app_state_new (const char *app, const char *current, const char *points)
{
    Rollclone__AppState *a = (Rollclone__AppState *)zmalloc (sizeof *a);
    rollclone__app_state__init (a);
    a->app = strdup (app ? app : "");
    a->current = strdup (current ? current : "");
    char *copy = strdup (points ? points : "");
    char *save = NULL;
    for (char *p = strtok_r (copy, ",", &save); p; p = strtok_r (NULL, ",", &save)) {
        a->rollback_points =
            (char **)realloc (a->rollback_points, (a->n_rollback_points + 1) * sizeof (char *));
        a->rollback_points[a->n_rollback_points++] = strdup (p);
    }
    free (copy);
    return a;
}

static void
s_collect_history (void *arg, const rc_history_row_t *row)
{
    Rollclone__HistoryReply *hr = (Rollclone__HistoryReply *)arg;
    Rollclone__HistoryEntry *e = (Rollclone__HistoryEntry *)zmalloc (sizeof *e);
    rollclone__history_entry__init (e);
    e->id = row->id;
    e->app = strdup (row->app);
    e->version = strdup (row->version);
    e->previous = strdup (row->previous);
    e->rollback_points = strdup (row->rollback_points);
    e->deployment_id = strdup (row->deployment_id);
    e->ts_ms = row->ts;
    hr->entries = (Rollclone__HistoryEntry **)realloc (hr->entries,
                                                       (hr->n_entries + 1) * sizeof *hr->entries);
    hr->entries[hr->n_entries++] = e;
}

Rollclone__ControlReply *
rc_engine_history (rc_engine_t *self, const Rollclone__HistoryRequest *req)
{
    bool online, healthy;
    if (!rc_name_valid (req->host_id)
        || !self->host_fn (self->host_arg, req->host_id, &online, &healthy))
        return s_reply_error (RC_EXIT_USAGE, "no host '%s'", req->host_id);
    if (req->before_id < 0)
        return s_reply_error (RC_EXIT_USAGE, "before %lld is not an entry id",
                              (long long)req->before_id);
    Rollclone__HistoryReply *hr = (Rollclone__HistoryReply *)zmalloc (sizeof *hr);
    rollclone__history_reply__init (hr);
    hr->host_id = strdup (req->host_id);
    hr->limit = (uint32_t)s_clamp (req->limit, RC_HISTORY_DEFAULT_LIMIT, RC_HISTORY_MAX_LIMIT);
    bool more = false;
    int rc = rc_store_history_page (self->store, req->host_id, req->before_id, hr->limit, &more,
                                    s_collect_history, hr);
    hr->more = more;
    sqlite3_stmt *stmt = rc == 0
                             ? rc_store_prepare (self->store,
                                                 "SELECT app, current, rollback_points "
                                                 "FROM host_apps WHERE host_id = ?1 ORDER BY app",
                                                 "t", req->host_id)
                             : NULL;
    int step = SQLITE_DONE;
    while (stmt && (step = sqlite3_step (stmt)) == SQLITE_ROW) {
        Rollclone__AppState *a = rc_app_state_new ((const char *)sqlite3_column_text (stmt, 0),
                                                   (const char *)sqlite3_column_text (stmt, 1),
                                                   (const char *)sqlite3_column_text (stmt, 2));
        hr->apps = (Rollclone__AppState **)realloc (hr->apps, (hr->n_apps + 1) * sizeof *hr->apps);
        hr->apps[hr->n_apps++] = a;
    }
    sqlite3_finalize (stmt);
    if (rc == 0 && (!stmt || step != SQLITE_DONE))
        rc = stmt ? rc_store_step_error (self->store) : -1;
    if (rc != 0) {
        rollclone__history_reply__free_unpacked (hr, NULL);
        return s_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
    }
    Rollclone__ControlReply *reply = s_reply_new ();
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_HISTORY;
    reply->history = hr;
    return reply;
}

static void
s_collect_event (void *arg, const rc_event_row_t *row)
{
    Rollclone__EventsReply *er = (Rollclone__EventsReply *)arg;
    Rollclone__EventInfo *e = (Rollclone__EventInfo *)zmalloc (sizeof *e);
    rollclone__event_info__init (e);
    e->id = row->id;
    e->ts_ms = row->ts;
    e->deployment_id = strdup (row->deployment_id ? row->deployment_id : "");
    e->host_id = strdup (row->host_id ? row->host_id : "");
    e->kind = strdup (row->kind);
    e->detail = strdup (row->detail);
    e->operator_ = strdup (row->operator_name ? row->operator_name : "");
    er->events =
        (Rollclone__EventInfo **)realloc (er->events, (er->n_events + 1) * sizeof *er->events);
    er->events[er->n_events++] = e;
}

Rollclone__ControlReply *
rc_engine_events (rc_engine_t *self, const Rollclone__EventsRequest *req)
{
    if (req->after_id < 0 || req->before_id < 0)
        return s_reply_error (RC_EXIT_USAGE, "event ids are positive (after %lld, before %lld)",
                              (long long)req->after_id, (long long)req->before_id);
    /* a deployment pruned by deployment_retention may still have events
       (they follow event_retention): those are shown */
    bool known = true;
    if (*req->deployment_id) {
        if (!rc_name_valid (req->deployment_id))
            return s_reply_error (RC_EXIT_USAGE, "no deployment '%s'", req->deployment_id);
        rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
        int found = rc_deployment_load (self->store, req->deployment_id, dep);
        free (dep);
        if (found < 0)
            return s_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
        known = found == 1;
    }
    Rollclone__EventsReply *er = (Rollclone__EventsReply *)zmalloc (sizeof *er);
    rollclone__events_reply__init (er);
    /* following a deployment (after_id) goes page by page too */
    er->limit = (uint32_t)s_clamp (req->limit,
                                   req->after_id ? RC_EVENTS_MAX_LIMIT : RC_EVENTS_DEFAULT_LIMIT,
                                   RC_EVENTS_MAX_LIMIT);
    bool more = false;
    if (rc_store_events_page (self->store, *req->deployment_id ? req->deployment_id : NULL, NULL,
                              req->after_id, req->before_id, er->limit, &more, s_collect_event, er)
        != 0) {
        rollclone__events_reply__free_unpacked (er, NULL);
        return s_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
    }
    er->more = more;
    if (!known && er->n_events == 0 && !req->after_id && !req->before_id) {
        rollclone__events_reply__free_unpacked (er, NULL);
        return s_reply_error (RC_EXIT_USAGE, "no deployment '%s'", req->deployment_id);
    }
    Rollclone__ControlReply *reply = s_reply_new ();
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_EVENTS;
    reply->events = er;
    return reply;
}

void
rc_engine_test (bool verbose)
{
    (void)verbose;
    assert (rc_engine_batch_size ("2", 1, 5) == 2);
    assert (rc_engine_batch_size ("2", 3, 5) == 2);
    assert (rc_engine_batch_count ("2", 5) == 3);
    assert (rc_engine_batch_size ("25%", 1, 5) == 2); /* rounded up */
    assert (rc_engine_batch_size ("1%", 1, 5) == 1);  /* at least one */
    assert (rc_engine_batch_size ("1,25%", 1, 8) == 1);
    assert (rc_engine_batch_size ("1,25%", 2, 8) == 2);
    assert (rc_engine_batch_size ("1,25%", 5, 8) == 2);
    assert (rc_engine_batch_count ("1,25%", 8) == 5);
    assert (rc_engine_batch_size ("1,10%,50%", 3, 20) == 10);
    assert (rc_engine_batch_count ("1,10%,50%", 20) == 4);
    assert (rc_engine_batch_size ("0", 1, 5) == -1);
    assert (rc_engine_batch_size ("", 1, 5) == -1);
    assert (rc_engine_batch_size ("1,,2", 1, 5) == -1);
    assert (rc_engine_batch_size ("x", 1, 5) == -1);
    assert (rc_engine_batch_size ("101%", 1, 5) == -1);
    assert (rc_engine_batch_count ("100%", 0) == 0);
    assert (rc_engine_max_fail ("0", 5) == 0);
    assert (rc_engine_max_fail ("1", 5) == 1);
    assert (rc_engine_max_fail ("20%", 5) == 1);
    assert (rc_engine_max_fail ("10%", 5) == 0); /* rounded down */
    assert (rc_engine_max_fail ("1,2", 5) == -1);
    assert (rc_engine_max_fail ("-1", 5) == -1);
    assert (s_natural_cmp ("host-2", "host-10") < 0);
    assert (s_natural_cmp ("host-10", "host-9") > 0);
    assert (s_natural_cmp ("a", "a") == 0);
    assert (s_natural_cmp ("web-01", "web-1") == 0 || s_natural_cmp ("web-01", "web-1") != 0);
    /* a reason names whole hosts and counts the others, never cuts one */
    rc_deployment_t *dep = (rc_deployment_t *)zmalloc (sizeof *dep);
    snprintf (dep->reason, sizeof dep->reason, "budget spent");
    size_t nh = 100;
    rc_dhost_t *hosts = (rc_dhost_t *)calloc (nh, sizeof *hosts);
    assert (hosts);
    for (size_t i = 0; i < nh; i++) {
        snprintf (hosts[i].host_id, sizeof hosts[i].host_id, "host-%03zu-%032d", i, 0);
        snprintf (hosts[i].state, sizeof hosts[i].state, "rollback_failed");
    }
    s_reason_hosts (dep, hosts, nh, "rollback_failed", nh, "could not roll back");
    assert (strncmp (dep->reason, "budget spent; could not roll back 100 host(s): host-000-", 56)
            == 0);
    char *more = strstr (dep->reason, " and ");
    assert (more && strstr (more, " more") && more[-1] == '0');
    free (hosts);
    free (dep);
    char id[RC_ID_MAX];
    s_new_id (id, sizeof id);
    assert (rc_name_valid (id) && strncmp (id, "d-", 2) == 0);
}
