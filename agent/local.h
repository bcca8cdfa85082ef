/*  local.h - `rollclone-agent apply|rollback|releases`: the agent used alone,
    driving the same executor a coordinator's instruction drives. */
#ifndef AGENT_LOCAL_H
#define AGENT_LOCAL_H

#include "rc_config.h"

/* argv[0] is the subcommand. Returns the process exit code (rc_defaults.h). */
int rc_agent_local_main (const rc_config_t *cfg, int argc, char **argv);

#endif
