/*  engine.h - the rollout engine: drives every active deployment through
    its transitions (rollout.h), one transaction each, and publishes the
    instructions that follow; takes in the agents' step reports and what
    they say they run (reconciliation).

    The engine keeps no state of its own that matters: every deployment and
    host transition is a row in the store, committed (with its event) before
    the instruction that follows from it is published. A coordinator started
    again re-reads the rows and goes on; instructions are level-triggered and
    re-published until the agent's report arrives, and agents apply each
    (deployment, step) once, so nothing is done twice or skipped.

    It runs in the server's loop, not as an actor of its own: the store and
    the publisher must be used in that order from one thread, and the server
    already holds both. */
#ifndef COORD_ENGINE_H
#define COORD_ENGINE_H

#include "rollclone.pb-c.h"
#include "rollout.h"
#include "store.h"
#include <czmq.h>

typedef struct _rc_engine_t rc_engine_t;

/* store is borrowed; view tells whether a host is known, and if so
   whether it is online and healthy now (the fleet's live view). */
rc_engine_t *rc_engine_new (rc_store_t *store, rc_host_view_fn *view, void *arg);
void rc_engine_destroy (rc_engine_t **self_p);

/* Publishes one host's instruction: the server seals it to that host's key
   (rc_seal.h), so the engine never sends one in the clear. */
typedef void (rc_engine_publish_fn) (void *arg, const char *host_id,
                                     const Rollclone__Instruction *ins);
void rc_engine_set_publish (rc_engine_t *self, rc_engine_publish_fn *fn, void *arg);
/* Freezes (freeze.h, borrowed): no batch of a deployment starts while one
   holds, unless the deployment ignores them. */
void rc_engine_set_freeze (rc_engine_t *self, rc_freeze_t *freeze);
/* The analysis gates of the batches (rc_rollout_set_gate), or NULL. */
void rc_engine_set_gate (rc_engine_t *self, rc_rollout_gate_fn *fn, void *arg);

/* The cron: advances every active deployment, re-publishes instructions. */
void rc_engine_tick (rc_engine_t *self);
/* A new deployment's host rows (n, taken), just committed as they are:
   the engine keeps them instead of reading them again (hostrows.h). */
void rc_engine_adopt (rc_engine_t *self, const char *id, rc_dhost_t *hosts, size_t n);
/* Advances deployment id now, as far as it can go (a control request
   created or changed it). */
void rc_engine_advance (rc_engine_t *self, const char *id);
/* Forgets the timers of deployment id: it starts over (a rollback of a
   deployment that had ended). */
void rc_engine_forget (rc_engine_t *self, const char *id);

/* A group commit of the server's failed: whatever the engine's steps in it
   wrote was undone, so it forgets the rows it kept as committed and when
   each deployment is due (the next tick looks at every active one). */
void rc_engine_store_failed (rc_engine_t *self);
/* Host rows read from the store as whole host lists since new: once per
   active deployment, and again only after a failed write (tests: a report
   and its flush read no whole list). */
uint64_t rc_engine_rows_loaded (rc_engine_t *self);

/* A host's liveness or health changed (the fleet says so): every active
   deployment is looked at by the next tick, not only those due. */
void rc_engine_fleet_changed (rc_engine_t *self);

/* A step report from an agent (already authenticated as host_id). Its
   transition is committed at once; what follows from it (the next batch)
   waits for rc_engine_flush, so a burst of reports is advanced once.
   True when the report's app state was stored (whole: release, rollback
   points and slots), so the fleet need not store it again. */
bool rc_engine_on_report (rc_engine_t *self, const char *host_id,
                          const Rollclone__StepReport *report);

/* What an agent says it runs (hello, or a heartbeat whose apps changed):
   a deployment's host row that disagrees with it is corrected, with an
   event `host_reconciled`; a host found on the new release after its
   deployment rolled back is rolled back again (the deployment reopened
   when it is still the app's newest), else recorded as it is. */
void rc_engine_on_apps (rc_engine_t *self, const char *host_id, Rollclone__AppState **apps,
                        size_t n, bool hello);
/* Heartbeats are compared only when they say something new: the last
   thing each host said of each app is kept, up to this many entries. */
#define RC_ENGINE_SEEN_MAX 100000

/* Advances the deployments that reports changed since the last flush. The
   server calls it at the end of each burst of agent messages, inside the
   burst's group transaction (rc_store_group_begin), and holds what it
   publishes until that commits: a burst and the next batch it starts are
   one commit, and the batch starts in the same loop iteration as the
   report that ended the last one. The cron calls it too. */
void rc_engine_flush (rc_engine_t *self);

#endif
