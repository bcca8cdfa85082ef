/*  metrics.h - the coordinator's Prometheus figures: counters the loop
    counts as things happen (frames, control requests, failures, rollbacks,
    step and store transaction durations), and the snapshot of the fleet
    and the rollouts it builds when a scrape asks (rc_metrics_http.h
    serves it from its own thread).

    The counters are process-wide and counted by the server's thread only
    (the engine, rollout, control and store code all run in its loop):
    they are counted deep inside transitions, and a pointer threaded
    through every signature there would be noise. A transition whose
    transaction is rolled back is counted all the same (rare: a store
    failure, which the log says). The snapshot is built in the loop, at
    most once per RC_METRICS_FRESH_MS and only when a scrape waits; the
    HTTP thread never sees these structures. */
#ifndef COORD_METRICS_H
#define COORD_METRICS_H

#include "counters.h"
#include "rc_host_figures.h"
#include "rc_config.h"
#include "rc_defaults.h"
#include "rc_states.h"
#include "rollclone.pb-c.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>

/* Distinct failure reasons (and commands) counted; more count as "other":
   an agent names its phases, and must not grow our memory. */
#define RC_METRICS_LABELS_MAX 64
/* ---- counters, counted by the server's thread ------------------------ */
void rc_metrics_count_frame (const char *socket);
void rc_metrics_count_control (const Rollclone__ControlRequest *req,
                               const Rollclone__ControlReply *reply);
void rc_metrics_count_failure (const char *reason);
/* A deployment started rolling back: failure_budget, abort, operator,
   reconcile. */
void rc_metrics_count_rollback (const char *trigger);
void rc_metrics_count_finished (rc_dep_state_t state);
void rc_metrics_observe_step (const Rollclone__StepReport *report);
void rc_metrics_observe_txn (int64_t us);
/* An analysis gate's evaluation was recorded: check's verdict (pass, fail,
   inconclusive). */
void rc_metrics_count_check (const char *check, const char *verdict);

/* ---- the endpoint --------------------------------------------------- */
typedef struct _rc_metrics_t rc_metrics_t;
typedef struct _rc_fleet_t rc_fleet_t;
typedef struct _rc_webhooks_t rc_webhooks_t;

/* Starts the endpoint of cfg->metrics_endpoint (NULL: off, and so is
   everything here, at no cost). fleet, store and counters are borrowed.
   NULL with err set when it cannot listen. */
rc_metrics_t *rc_metrics_new (const rc_config_t *cfg, rc_fleet_t *fleet, rc_store_t *store,
                              const rc_counters_t *counters, char *err, size_t errlen);
void rc_metrics_destroy (rc_metrics_t **self_p);
/* The webhooks whose counters the snapshot shows (borrowed; NULL: none). */
void rc_metrics_set_webhooks (rc_metrics_t *self, rc_webhooks_t *webhooks);
/* The descriptor the loop polls; readable when a scrape waits. */
int rc_metrics_wake_fd (rc_metrics_t *self);
/* The loop's handler for it: builds and publishes a snapshot when one is
   asked for and the last is not fresh. */
void rc_metrics_on_wake (rc_metrics_t *self);
/* Builds the coordinator's text (without the process figures) now; the
   caller frees it. For the bench and the tests. */
char *rc_metrics_build (rc_metrics_t *self, size_t *len);
/* (bench/rc_metricsbench.c's hooks are in metrics_bench.h) */

#endif
