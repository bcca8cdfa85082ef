/*  rc_states.c - the name table of deployment and host states. */
#include "rc_states.h"

#include <string.h>

static const char *const s_dep_names[RC_DEP_STATE_COUNT] = {
    [RC_DEP_NONE] = "",
    [RC_DEP_RUNNING] = "running",
    [RC_DEP_PAUSED] = "paused",
    [RC_DEP_ROLLING_BACK] = "rolling_back",
    [RC_DEP_SUCCEEDED] = "succeeded",
    [RC_DEP_FAILED] = "failed",
    [RC_DEP_ABORTED] = "aborted",
    [RC_DEP_ROLLED_BACK] = "rolled_back",
    [RC_DEP_ROLLBACK_FAILED] = "rollback_failed",
};

static const char *const s_host_names[RC_HOST_STATE_COUNT] = {
    [RC_HOST_NONE] = "",
    [RC_HOST_PENDING] = "pending",
    [RC_HOST_UPDATING] = "updating",
    [RC_HOST_SUCCEEDED] = "succeeded",
    [RC_HOST_FAILED] = "failed",
    [RC_HOST_ROLLBACK_PENDING] = "rollback_pending",
    [RC_HOST_ROLLING_BACK] = "rolling_back",
    [RC_HOST_ROLLED_BACK] = "rolled_back",
    [RC_HOST_ROLLBACK_FAILED] = "rollback_failed",
    [RC_HOST_UNKNOWN] = "unknown",
    [RC_HOST_STAGED] = "staged",
};

static const char *const s_bg_names[RC_BG_PHASE_COUNT] = {
    [RC_BG_NONE] = "",
    [RC_BG_STAGING] = "staging",
    [RC_BG_RESTAGING] = "restaging",
    [RC_BG_SWITCHING] = "switching",
    [RC_BG_SWITCHED] = "switched",
};

const char *const rc_dep_active_names[] = {"running", "paused", "rolling_back", NULL};

static int
s_parse (const char *const *names, int count, const char *name, int *out)
{
    for (int i = 0; name && i < count; i++)
        if (strcmp (names[i], name) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

const char *
rc_dep_state_name (rc_dep_state_t state)
{
    return (unsigned)state < RC_DEP_STATE_COUNT ? s_dep_names[state] : "?";
}

const char *
rc_host_state_name (rc_host_state_t state)
{
    return (unsigned)state < RC_HOST_STATE_COUNT ? s_host_names[state] : "?";
}

int
rc_dep_state_parse (const char *name, rc_dep_state_t *state)
{
    int i;
    if (s_parse (s_dep_names, RC_DEP_STATE_COUNT, name, &i) != 0)
        return -1;
    *state = (rc_dep_state_t)i;
    return 0;
}

int
rc_host_state_parse (const char *name, rc_host_state_t *state)
{
    int i;
    if (s_parse (s_host_names, RC_HOST_STATE_COUNT, name, &i) != 0)
        return -1;
    *state = (rc_host_state_t)i;
    return 0;
}

bool
rc_dep_state_active (rc_dep_state_t state)
{
    return state == RC_DEP_RUNNING || state == RC_DEP_PAUSED || state == RC_DEP_ROLLING_BACK;
}

bool
rc_host_state_failed (rc_host_state_t state)
{
    return state == RC_HOST_FAILED || state == RC_HOST_ROLLBACK_FAILED;
}

const char *
rc_bg_phase_name (rc_bg_phase_t phase)
{
    return (unsigned)phase < RC_BG_PHASE_COUNT ? s_bg_names[phase] : "?";
}

int
rc_bg_phase_parse (const char *name, rc_bg_phase_t *phase)
{
    int i;
    if (s_parse (s_bg_names, RC_BG_PHASE_COUNT, name, &i) != 0)
        return -1;
    *phase = (rc_bg_phase_t)i;
    return 0;
}
