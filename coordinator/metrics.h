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
/* Disks of a host kept (one per app's releases_dir). */
#define RC_METRICS_DISKS_MAX RC_MAX_APPS_PER_HOST
/* A releases_dir longer than this is not exported. */
#define RC_METRICS_PATH_MAX 512

/* ---- figures an agent's heartbeat brings (HostMetrics), checked ------- */
typedef struct {
    char app[RC_NAME_MAX + 1];
    char *path; /* the releases_dir */
    uint64_t free_bytes;
    uint64_t total_bytes;
} rc_disk_figure_t;

typedef struct {
    bool known; /* a heartbeat carried figures */
    double load1;
    double cpu_percent;
    uint64_t mem_used_bytes;
    uint64_t mem_available_bytes;
    uint32_t cpus;
    rc_disk_figure_t *disks;
    size_t n_disks;
} rc_host_figures_t;

/* Takes m into f (reusing its memory when the disks are the same); a
   malformed entry (bad app name, unclean path, NaN) is left out. */
void rc_host_figures_set (rc_host_figures_t *f, const Rollclone__HostMetrics *m);
void rc_host_figures_clear (rc_host_figures_t *f);

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

/* ---- the endpoint --------------------------------------------------- */
typedef struct _rc_metrics_t rc_metrics_t;
typedef struct _rc_fleet_t rc_fleet_t;

/* Starts the endpoint of cfg->metrics_endpoint (NULL: off, and so is
   everything here, at no cost). fleet, store and counters are borrowed.
   NULL with err set when it cannot listen. */
rc_metrics_t *rc_metrics_new (const rc_config_t *cfg, rc_fleet_t *fleet, rc_store_t *store,
                              const rc_counters_t *counters, char *err, size_t errlen);
void rc_metrics_destroy (rc_metrics_t **self_p);
/* The descriptor the loop polls; readable when a scrape waits. */
int rc_metrics_wake_fd (rc_metrics_t *self);
/* The loop's handler for it: builds and publishes a snapshot when one is
   asked for and the last is not fresh. */
void rc_metrics_on_wake (rc_metrics_t *self);
/* Builds the coordinator's text (without the process figures) now; the
   caller frees it. For the bench and the tests. */
char *rc_metrics_build (rc_metrics_t *self, size_t *len);

#endif
