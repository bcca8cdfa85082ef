/*  engine.h - the rollout engine: deployments batch by batch, gated on
    health, with a failure budget and automatic rollback.

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
#include "store.h"
#include <czmq.h>

typedef struct _rc_engine_t rc_engine_t;

/* The engine's timers (progress deadline, timed pause) run on the
   monotonic clock; the rows keep them as elapsed/remaining durations,
   written with each transition and at least this often while a deployment
   is active, so a coordinator restarted resumes them within this much (the
   time it was down does not count). */
#define RC_ENGINE_CLOCK_SAVE_MS 5000

/* Tells whether a host is known, and if so whether it is online and
   healthy now (the server's live view). */
typedef bool (rc_engine_host_fn) (void *arg, const char *host_id, bool *online, bool *healthy);

/* store and publisher are borrowed. */
rc_engine_t *rc_engine_new (rc_store_t *store, zsock_t *publisher, rc_engine_host_fn *host_fn,
                            void *arg);
void rc_engine_destroy (rc_engine_t **self_p);
/* The coordinator's offline_grace: how long a host that went offline in
   its step stays `unknown` before it is failed, unless a deployment says
   (0 = the deployment's health timeout). */
void rc_engine_set_offline_grace (rc_engine_t *self, int64_t ms);
/* Freezes (freeze.h, borrowed): no batch of a deployment starts while one
   holds, unless the deployment ignores them. */
typedef struct _rc_freeze_t rc_freeze_t;
void rc_engine_set_freeze (rc_engine_t *self, rc_freeze_t *freeze);

/* Publishes one host's instruction: the server seals it to that host's key
   (rc_seal.h), so the engine never sends one in the clear. */
typedef void (rc_engine_publish_fn) (void *arg, const char *host_id,
                                     const Rollclone__Instruction *ins);
void rc_engine_set_publish (rc_engine_t *self, rc_engine_publish_fn *fn, void *arg);

/* The cron: advances every active deployment, re-publishes instructions. */
void rc_engine_tick (rc_engine_t *self);
/* A step report from an agent (already authenticated as host_id). Its
   transition is committed at once; what follows from it (the next batch)
   waits for rc_engine_flush, so a burst of reports is advanced once. */
void rc_engine_on_report (rc_engine_t *self, const char *host_id,
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
   server calls it when no more agent messages are waiting (and the cron
   does too). */
void rc_engine_flush (rc_engine_t *self);

/* Control requests. Each returns a heap reply: the caller sends it and
   frees it with rollclone__control_reply__free_unpacked. */
Rollclone__ControlReply *rc_engine_deploy (rc_engine_t *self, const Rollclone__DeployRequest *req);
Rollclone__ControlReply *rc_engine_status (rc_engine_t *self, const Rollclone__StatusRequest *req);
Rollclone__ControlReply *rc_engine_operate (rc_engine_t *self,
                                            const Rollclone__OperateRequest *req);
Rollclone__ControlReply *rc_engine_rollback (rc_engine_t *self,
                                             const Rollclone__RollbackRequest *req);
Rollclone__ControlReply *rc_engine_history (rc_engine_t *self,
                                            const Rollclone__HistoryRequest *req);
Rollclone__ControlReply *rc_engine_events (rc_engine_t *self, const Rollclone__EventsRequest *req);
/* `rollclone freeze`: sets, moves or lifts the operator's freeze, or just
   shows the freezes. */
Rollclone__ControlReply *rc_engine_freeze (rc_engine_t *self, const Rollclone__FreezeRequest *req);

/* Batch sizes: "N", "N%" or a ramp "1,10%,50%" (the last entry repeats).
   Returns the size of batch n (1-based) of total hosts, or -1 if the spec
   is bad. */
int rc_engine_batch_size (const char *spec, int n, int total);
/* Number of batches a spec makes of total hosts, or -1. */
int rc_engine_batch_count (const char *spec, int total);
/* Failures tolerated: "N" or "N%" of total (rounded down), or -1. */
int rc_engine_max_fail (const char *spec, int total);

/* A heap AppState from a host_apps row (rollback points comma separated),
   freed with its message. */
Rollclone__AppState *rc_app_state_new (const char *app, const char *current, const char *points);

void rc_engine_test (bool verbose);

#endif
