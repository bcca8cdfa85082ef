/*  states.c - what the CLI reads in the coordinator's state names
    (DeploymentInfo.state, DeploymentHost.state): whether a deployment
    ended and how, which hosts count as done or failed, and each state's
    colour. The names are looked up in the one table the coordinator uses
    (common/rc_states.h); a name this CLI does not know counts as ended
    and failed, never as running. */
#include "cli.h"
#include "rc_defaults.h"
#include "rc_states.h"

#include <stdio.h>
#include <string.h>

static rc_dep_state_t
s_dep (const char *name)
{
    rc_dep_state_t state = RC_DEP_NONE;
    return rc_dep_state_parse (name, &state) == 0 ? state : RC_DEP_NONE;
}

static rc_host_state_t
s_host (const char *name)
{
    rc_host_state_t state = RC_HOST_NONE;
    return rc_host_state_parse (name, &state) == 0 ? state : RC_HOST_NONE;
}

bool
rc_cli_ended (const char *state)
{
    return !rc_dep_state_active (s_dep (state));
}

int
rc_cli_exit_for (const Rollclone__DeploymentInfo *d, bool rollback_asked)
{
    rc_dep_state_t state = s_dep (d->state);
    if (state == RC_DEP_SUCCEEDED)
        return RC_EXIT_OK;
    if ((rollback_asked || streq (d->kind, "rollback")) && state == RC_DEP_ROLLED_BACK)
        return RC_EXIT_OK;
    return RC_EXIT_FAILED;
}

bool
rc_cli_waits_for_resume (const Rollclone__DeploymentInfo *d)
{
    return !d->gate_open && s_dep (d->state) == RC_DEP_PAUSED;
}

bool
rc_cli_host_failed (const char *state)
{
    return rc_host_state_failed (s_host (state));
}

bool
rc_cli_host_busy (const char *state)
{
    rc_host_state_t h = s_host (state);
    return h == RC_HOST_UPDATING || h == RC_HOST_ROLLING_BACK;
}

bool
rc_cli_host_waiting (const char *state)
{
    return s_host (state) == RC_HOST_PENDING || rc_cli_host_busy (state);
}

void
rc_cli_count (const Rollclone__DeploymentInfo *d, int *ok, int *failed, int *busy)
{
    *ok = *failed = *busy = 0;
    for (size_t i = 0; i < d->n_hosts; i++) {
        rc_host_state_t st = s_host (d->hosts[i]->state);
        *ok += st == RC_HOST_SUCCEEDED || st == RC_HOST_ROLLED_BACK;
        *failed += rc_host_state_failed (st);
        *busy += st == RC_HOST_UPDATING || st == RC_HOST_ROLLING_BACK;
    }
}

const char *
rc_cli_state_color (const char *state)
{
    static const struct {
        const char *state;
        const char *sgr;
    } colors[] = {
        {"succeeded", "\033[32m"},
        {"online", "\033[32m"},
        {"yes", "\033[32m"},
        {"failed", "\033[31m"},
        {"rollback_failed", "\033[31m"},
        {"aborted", "\033[31m"},
        {"offline", "\033[31m"},
        {"no", "\033[31m"},
        {"rolled_back", "\033[33m"},
        {"rolling_back", "\033[33m"},
        {"paused", "\033[33m"},
        {"unknown", "\033[33m"},
        {"running", "\033[36m"},
        {"updating", "\033[36m"},
        {"staged", "\033[36m"},
    };
    for (size_t i = 0; i < sizeof colors / sizeof colors[0]; i++)
        if (streq (state, colors[i].state))
            return colors[i].sgr;
    return NULL;
}

int
rc_cli_staged_count (const Rollclone__DeploymentInfo *d)
{
    int staged = 0;
    for (size_t i = 0; i < d->n_hosts; i++)
        staged += streq (d->hosts[i]->state, "staged");
    return staged;
}

const char *
rc_cli_bg_phase (const Rollclone__DeploymentInfo *d, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!streq (d->strategy, "blue-green"))
        return buf;
    bool switched = streq (d->phase, "switching") || streq (d->phase, "switched");
    if (streq (d->state, "rolling_back"))
        snprintf (buf, len, "switching back");
    else if (switched && (streq (d->state, "rolled_back") || streq (d->state, "rollback_failed")))
        snprintf (buf, len, "switched back");
    else if (streq (d->phase, "staging") || (!*d->phase && streq (d->kind, "deploy")))
        snprintf (buf, len, "staging batch %u of %u", d->current_batch, d->total_batches);
    else if (streq (d->phase, "restaging") && !rc_cli_ended (d->state))
        snprintf (buf, len, "staging again before the switch (%d of %zu staged)",
                  rc_cli_staged_count (d), d->n_hosts);
    else
        snprintf (buf, len, "%s", d->phase);
    return buf;
}
