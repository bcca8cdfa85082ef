/*  deployments.h - deployment records and the per-host rows of each, as the
    rollout engine reads and writes them. Plain records (like the store's
    rows): the engine loads them, changes fields, and saves them inside the
    transaction of one transition. */
#ifndef COORD_DEPLOYMENTS_H
#define COORD_DEPLOYMENTS_H

#include "once.h"
#include "rc_defaults.h"
#include "rc_signature.h"
#include "rc_states.h"
#include "store.h"

#define RC_ID_MAX 40
#define RC_SPEC_MAX 128
#define RC_URL_MAX 2048
#define RC_TEXT_MAX 1024
#define RC_TAIL_MAX 4096

typedef struct {
    char id[RC_ID_MAX];
    char kind[16]; /* deploy | rollback */
    char app[RC_NAME_MAX + 1];
    char version[RC_NAME_MAX + 1]; /* target ("" for a rollback to previous) */
    char artifact_url[RC_URL_MAX];
    char sha256[65];
    char signature[RC_SIGNATURE_FILE_MAX + 1]; /* .sig text, or "" (own statements) */
    char selector[RC_TEXT_MAX];
    char batch_spec[RC_SPEC_MAX];
    char max_fail_spec[32];
    int max_fail; /* hosts that may fail */
    int64_t soak_ms;
    int64_t health_timeout_ms;
    int64_t progress_deadline_ms;
    int64_t offline_grace_ms; /* a host offline in its step is unknown this long */
    char pause_spec[32];      /* "", a duration, or manual */
    bool auto_rollback;
    rc_dep_state_t state;       /* running paused rolling_back | end states */
    rc_dep_state_t final_state; /* what rolling back ends as (NONE: not decided) */
    int batch;                  /* batches started */
    int rb_batch;               /* rollback batches started */
    int total_batches;
    bool paused;         /* operator pause: no new batch */
    bool gate_open;      /* manual gate after a batch */
    int64_t pause_until; /* timed pause ends (unix ms, for display; 0 = none) */
    bool abort_requested;
    bool abort_rollback;
    char reason[RC_TEXT_MAX];
    int64_t created;
    int64_t updated;
    int64_t finished;
    int64_t progress; /* last time a host finished or a batch began (unix ms, a record) */
    /* What the engine measures runs on the monotonic clock; the rows keep
       it as durations, as of the last save (see engine.c s_clock_t). */
    int64_t progress_elapsed_ms; /* since progress */
    int64_t pause_remaining_ms;  /* of the timed pause, when pause_until != 0 */
    /* set once, at creation (written apart, like signature) */
    char operator_name[RC_NAME_MAX + 1]; /* the operator key that created it, or "" */
    char retry_of[RC_ID_MAX];            /* the deployment it retries, or "" */
    bool ignore_freeze;                  /* batches start inside freezes */
    bool frozen;                         /* waiting at a batch boundary for a freeze to end */
    char strategy[16];                   /* rolling | blue-green (set once, at creation) */
    rc_bg_phase_t bg_phase;              /* blue-green: staging, switching, switched */
    /* deploy --window and --rollback-batch (set once, at creation) */
    char window_spec[32];   /* N or N%, "" = fixed batches */
    int window_hosts;       /* the window in hosts, 0 = fixed batches */
    char rollback_spec[32]; /* N or N%, "" = the largest batch or window */
    /* run-once steps (deploy --before/--after), saved with the record */
    rc_once_t once[RC_ONCE_WHEN_COUNT];
} rc_deployment_t;

typedef struct {
    char host_id[RC_NAME_MAX + 1];
    int ord;
    int batch;
    rc_host_state_t state;
    char phase[32];
    int step; /* instruction step of this host */
    char from_version[RC_NAME_MAX + 1];
    char to_version[RC_NAME_MAX + 1];
    bool touched; /* an instruction was sent */
    bool needs_rollback;
    int64_t started;
    int64_t finished;
    char failure[64];
    char error[RC_TEXT_MAX];
    char output_tail[RC_TAIL_MAX + 1];
    int exit_code;
    char timings[512];          /* phase=ms,phase=ms */
    rc_host_state_t unknown_of; /* state unknown: the step it was in (else NONE) */
    int action;                 /* Rollclone__Action of its step; 0: by its state */
    bool dirty;                 /* changed since loaded: save it */
} rc_dhost_t;

/* Bounded copy into a record's text field that cuts what does not fit
   (error texts, reasons); RC_SET takes the size from the field. */
void rc_text_set (char *dest, size_t size, const char *value);
#define RC_SET(field, value) rc_text_set (field, sizeof (field), value)

int rc_deployment_insert (rc_store_t *store, const rc_deployment_t *dep);
int rc_deployment_save (rc_store_t *store, const rc_deployment_t *dep);
/* 1 found, 0 not found, -1 error. */
int rc_deployment_load (rc_store_t *store, const char *id, rc_deployment_t *dep);
/* Ids of deployments: active ones (running, paused, rolling_back), or the
   newest `limit` of any state. Caller frees the list (zlist of strings). */
zlist_t *rc_deployment_ids (rc_store_t *store, bool active_only, const char *app, size_t limit);

int rc_dhost_insert (rc_store_t *store, const char *deployment_id, const rc_dhost_t *host);
int rc_dhost_save (rc_store_t *store, const char *deployment_id, const rc_dhost_t *host);
/* The hosts of a deployment in their stable order, all of them or none:
   0 and *hosts_p (caller frees), or -1 (error on the store) and NULL. */
int rc_dhost_load (rc_store_t *store, const char *deployment_id, rc_dhost_t **hosts_p,
                   size_t *count);
/* How many hosts of a deployment are in each state, counted by the store
   (one GROUP BY, no row loaded): counts[state], 0 or -1 (error, or a state
   this coordinator does not know). */
int rc_dhost_counts (rc_store_t *store, const char *deployment_id,
                     size_t counts[RC_HOST_STATE_COUNT]);
/* One host of a deployment: 1 found, 0 not, -1 error. */
int rc_dhost_load_one (rc_store_t *store, const char *deployment_id, const char *host_id,
                       rc_dhost_t *host);

bool rc_deployment_active (const rc_deployment_t *dep);

/* Is a deployment of app active? 1 yes (its id in active, RC_ID_MAX
   bytes), 0 no, -1 the store could not say (never taken for "no"). */
int rc_deployment_app_busy (rc_store_t *store, const char *app, char *active);

void rc_deployments_test (bool verbose);

#endif
