/*  daemon.c - PLACEHOLDER: written next. */
#include "daemon.h"
int
rc_agent_daemon_run (const rc_config_t *cfg)
{
    (void) cfg;
    return 2;
}
