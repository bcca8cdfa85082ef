/*  states.c - what the CLI reads in the coordinator's state names
    (DeploymentInfo.state, DeploymentHost.state): whether a deployment
    ended and how, which hosts count as done or failed, and each state's
    colour. The one file of the CLI that spells states: when the
    coordinator's name table (common/rc_states.h) is on this branch, these
    become lookups in it. */
#include "cli.h"
#include "rc_defaults.h"

#include <string.h>

bool
rc_cli_ended (const char *state)
{
    return !(streq (state, "running") || streq (state, "paused") || streq (state, "rolling_back"));
}

int
rc_cli_exit_for (const Rollclone__DeploymentInfo *d, bool rollback_asked)
{
    if (streq (d->state, "succeeded"))
        return RC_EXIT_OK;
    if ((rollback_asked || streq (d->kind, "rollback")) && streq (d->state, "rolled_back"))
        return RC_EXIT_OK;
    return RC_EXIT_FAILED;
}

bool
rc_cli_waits_for_resume (const Rollclone__DeploymentInfo *d)
{
    return !d->gate_open && streq (d->state, "paused");
}

bool
rc_cli_host_failed (const char *state)
{
    return streq (state, "failed") || streq (state, "rollback_failed");
}

bool
rc_cli_host_busy (const char *state)
{
    return streq (state, "updating") || streq (state, "rolling_back");
}

bool
rc_cli_host_waiting (const char *state)
{
    return streq (state, "pending") || rc_cli_host_busy (state);
}

void
rc_cli_count (const Rollclone__DeploymentInfo *d, int *ok, int *failed, int *busy)
{
    *ok = *failed = *busy = 0;
    for (size_t i = 0; i < d->n_hosts; i++) {
        const char *st = d->hosts[i]->state;
        *ok += streq (st, "succeeded") || streq (st, "rolled_back");
        *failed += rc_cli_host_failed (st);
        *busy += rc_cli_host_busy (st);
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
    };
    for (size_t i = 0; i < sizeof colors / sizeof colors[0]; i++)
        if (streq (state, colors[i].state))
            return colors[i].sgr;
    return NULL;
}
