/*  rc_states.h - the states of a deployment and of each host in it: the
    enums the coordinator's engine compares, and the one table of their
    names, which the store persists, the control replies carry
    (DeploymentInfo.state, DeploymentHost.state) and the CLI prints. A
    state's spelling lives here and nowhere else. */
#ifndef RC_STATES_H
#define RC_STATES_H

#include <stdbool.h>

/* A deployment. NONE is "" (a final_state not decided yet). */
typedef enum {
    RC_DEP_NONE = 0,
    RC_DEP_RUNNING,
    RC_DEP_PAUSED,
    RC_DEP_ROLLING_BACK,
    RC_DEP_SUCCEEDED,
    RC_DEP_FAILED,
    RC_DEP_ABORTED,
    RC_DEP_ROLLED_BACK,
    RC_DEP_ROLLBACK_FAILED,
    RC_DEP_STATE_COUNT
} rc_dep_state_t;

/* One host of a deployment. NONE is "" (unknown_of of a host that is not
   unknown). */
typedef enum {
    RC_HOST_NONE = 0,
    RC_HOST_PENDING,
    RC_HOST_UPDATING,
    RC_HOST_SUCCEEDED,
    RC_HOST_FAILED,
    RC_HOST_ROLLBACK_PENDING,
    RC_HOST_ROLLING_BACK,
    RC_HOST_ROLLED_BACK,
    RC_HOST_ROLLBACK_FAILED,
    RC_HOST_UNKNOWN,
    /* blue-green: the target runs healthy on the idle slot, no traffic
       yet; the fleet-wide switch takes it on from here */
    RC_HOST_STAGED,
    RC_HOST_STATE_COUNT
} rc_host_state_t;

/* Where a blue-green deployment is (deploy --strategy blue-green); NONE
   ("") for a rolling one. */
typedef enum {
    RC_BG_NONE = 0,
    RC_BG_STAGING,   /* batches of ACTION_STAGE, traffic untouched */
    RC_BG_RESTAGING, /* the gate passed: hosts whose staged slot went cold
                        while the deployment waited stage again, traffic
                        untouched; the switch follows */
    RC_BG_SWITCHING, /* ACTION_SWITCH sent to every staged host at once */
    RC_BG_SWITCHED,  /* every staged host serves the new release */
    RC_BG_PHASE_COUNT
} rc_bg_phase_t;

/* The name of a state ("running", "rollback_pending"...); "" for NONE and
   "?" for a value out of range. Never NULL. */
const char *rc_dep_state_name (rc_dep_state_t state);
const char *rc_host_state_name (rc_host_state_t state);
/* The state of a name: 0 and *state, or -1 for a name that is none of
   them (an empty name is NONE). */
int rc_dep_state_parse (const char *name, rc_dep_state_t *state);
int rc_host_state_parse (const char *name, rc_host_state_t *state);

const char *rc_bg_phase_name (rc_bg_phase_t phase);
int rc_bg_phase_parse (const char *name, rc_bg_phase_t *phase);

/* running, paused and rolling_back: a deployment that may still move. */
bool rc_dep_state_active (rc_dep_state_t state);
/* The active states' names, for a query (NULL-terminated). */
extern const char *const rc_dep_active_names[];

/* A host state that ends a deployment's work on it unhappily (counted as
   failures in status). */
bool rc_host_state_failed (rc_host_state_t state);

#endif
