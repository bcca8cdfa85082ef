/*  local.c - PLACEHOLDER until issue #3 lands. */
#include "local.h"
#include "rc_defaults.h"
#include <stdio.h>

int
rc_agent_local_main (const rc_config_t *cfg, int argc, char **argv)
{
    (void) cfg;
    (void) argc;
    fprintf (stderr, "rollclone-agent: '%s' is not built yet\n", argv[0]);
    return RC_EXIT_USAGE;
}
