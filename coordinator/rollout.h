/*  rollout.h - the deployment state machine: the transitions of a
    deployment and of each of its hosts, batch by batch, gated on health,
    with a failure budget and rollback. States are the enums of
    rc_states.h; which host transitions exist is one table here.

    The transitions change records in memory and write their events; the
    caller (the engine) holds the transaction, saves the records and
    publishes what follows. What a transition measures (progress deadline,
    timed pause, a host unknown for its grace) runs on the monotonic clock,
    kept here per deployment; the records keep it as durations. */
#ifndef COORD_ROLLOUT_H
#define COORD_ROLLOUT_H

#include "deployments.h"
#include "freeze.h"
#include "rc_states.h"
#include "store.h"

typedef struct _rc_rollout_t rc_rollout_t;

/* The timers (progress deadline, timed pause) run on the monotonic clock;
   the rows keep them as elapsed/remaining durations, written with each
   transition and at least this often while a deployment is active, so a
   coordinator restarted resumes them within this much (the time it was
   down does not count). */
#define RC_ROLLOUT_CLOCK_SAVE_MS 5000

/* The live view of a host: false when it is unknown, else whether it is
   online and healthy now. */
typedef bool (rc_host_view_fn) (void *arg, const char *host_id, bool *online, bool *healthy);

/* store is borrowed. */
rc_rollout_t *rc_rollout_new (rc_store_t *store, rc_host_view_fn *view, void *arg);
void rc_rollout_destroy (rc_rollout_t **self_p);
/* Freezes (borrowed, NULL for none): no batch starts while one holds
   unless the deployment ignores them (--ignore-freeze); a deployment
   waits at the batch boundary (frozen, with an event) and goes on by
   itself when the freeze ends. Rollbacks are never held. */
void rc_rollout_set_freeze (rc_rollout_t *self, rc_freeze_t *freeze);

/* A gate on the hosts of the current batch (the analysis gates of
   checks.h): called in each advance of an updating deployment, after the
   hosts in flight were watched and before the failures are counted. It
   may fail hosts (rc_rollout_host_fail) and adds to *inflight the hosts it
   still holds (the batch does not end while one is). 0, or -1 when an
   event could not be written. */
typedef int (rc_rollout_gate_fn) (void *arg, rc_rollout_t *rollout, rc_deployment_t *dep,
                                  rc_dhost_t *hosts, size_t n, int64_t now, int *inflight);
void rc_rollout_set_gate (rc_rollout_t *self, rc_rollout_gate_fn *fn, void *arg);

/* One round of transitions of an active deployment (the rollback's when it
   is rolling back, else the update's): the next batch, a host's fate, the
   end. 0, or -1 when an event could not be written. */
int rc_rollout_advance (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n,
                        int64_t now);

/* How much of a run-once's output tail its event quotes (its end) */
#define RC_ROLLOUT_EVENT_TAIL 240

/* The run-once step when of dep ended (an agent's report, or not within
   the deadline): its record, dep's reason when it failed, the event. The
   transitions that follow are the next advance's. */
int rc_rollout_once_done (rc_rollout_t *self, rc_deployment_t *dep, rc_once_when_t when, bool ok,
                          int exit_code, const char *output_tail, const char *error, int64_t now);

/* A host finished or a batch began: the progress deadline starts again. */
void rc_rollout_progress (rc_rollout_t *self, rc_deployment_t *dep, int64_t now);
/* The monotonic ms at which dep's own timers (the progress deadline, a
   timed pause) next expire, INT64_MAX when none runs: the engine need not
   look at dep before then for their sake. */
int64_t rc_rollout_next_timer (rc_rollout_t *self, const rc_deployment_t *dep);
/* Copies the monotonic timers into dep's durations when dep changed (or
   they were last copied RC_ROLLOUT_CLOCK_SAVE_MS ago); true when it did. */
bool rc_rollout_clock_save (rc_rollout_t *self, rc_deployment_t *dep, bool changed, int64_t now);
/* Drops the timers of deployment id (it ended, or starts over). */
void rc_rollout_forget (rc_rollout_t *self, const char *id);

/* Sets a host's state (and marks it to be saved). A transition that is
   not in the table is a bug of ours: logged, and done. */
void rc_rollout_host_state (rc_dhost_t *h, rc_host_state_t state);
/* Is from -> to one of the host transitions? (Staying is always.) */
bool rc_rollout_host_may (rc_host_state_t from, rc_host_state_t to);
/* Is from -> to one of the deployment transitions? */
bool rc_rollout_dep_may (rc_dep_state_t from, rc_dep_state_t to);
/* Sets a deployment's state, checked like a host's. */
void rc_rollout_dep_state (rc_deployment_t *dep, rc_dep_state_t state);

/* h fails (state failed or rollback_failed), with an event. */
int rc_rollout_host_fail (rc_rollout_t *self, const rc_deployment_t *dep, rc_dhost_t *h,
                          rc_host_state_t state, const char *failure, bool needs_rollback,
                          const char *error, int64_t now);
/* h failed (state failed, owed a rollback) while dep updates: its
   rollback step starts now, the deployment going on, and it ends failed
   again, on its previous release (the engine's report). Nothing when it
   cannot start now (offline, no previous release, blue-green). 0, or -1
   when an event could not be written. */
int rc_rollout_put_back (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *h, int64_t now);
/* Does h count against an updating deployment's failure budget? (failed,
   rollback_failed, or being put back after it failed) */
bool rc_rollout_host_counts_failed (const rc_dhost_t *h);
/* h was unknown and is heard from again: back in its step. */
int rc_rollout_host_back (rc_rollout_t *self, const rc_deployment_t *dep, rc_dhost_t *h);
/* Is h in flight in a step of this kind (updating or rolling_back),
   whether its host is heard from or not? */
bool rc_rollout_in_step (const rc_dhost_t *h, rc_host_state_t step);
/* Marks every host the deployment touched and left changed to be rolled
   back; returns how many. */
size_t rc_rollout_mark_rollback (rc_dhost_t *hosts, size_t n);
/* A new step of h begins now: the step number goes up, the last step's
   phase, error, output and times are cleared (published after commit). */
void rc_rollout_step_begin (rc_dhost_t *h, int64_t now);
/* The turn of a pending host in batch (of a batch or a window): started,
   or failed when it is offline or unhealthy (never updated blind).
   Records and events only; the engine commits, then publishes. */
int rc_rollout_host_turn (rc_rollout_t *self, rc_deployment_t *dep, rc_dhost_t *h, int64_t now);
/* Did dep end (or is it ending) by putting its hosts back? */
bool rc_rollout_rolls_back (const rc_deployment_t *dep);
/* Adds "what N host(s): a, b" to dep's reason, naming the hosts in state
   that fit whole and counting the others ("and 12 more"). */
void rc_rollout_reason_hosts (rc_deployment_t *dep, const rc_dhost_t *hosts, size_t n,
                              rc_host_state_t state, size_t count, const char *what);

#endif
