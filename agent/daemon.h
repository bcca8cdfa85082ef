/*  daemon.h - the agent daemon: its link to the coordinator (hello,
    heartbeats, instructions, step reports) around the executor actor. */
#ifndef AGENT_DAEMON_H
#define AGENT_DAEMON_H

#include "rc_config.h"

/* Runs until SIGTERM/SIGINT. Returns the process exit code. */
int rc_agent_daemon_run (const rc_config_t *cfg);

#endif
