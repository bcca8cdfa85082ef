/*  daemon.h - the network side of the agent daemon (see privsep.h): its
    link to the coordinator (hello, heartbeats, instructions, step reports),
    talking to the executor process over a channel. Runs unprivileged. */
#ifndef AGENT_DAEMON_H
#define AGENT_DAEMON_H

#include "channel.h"
#include "rc_config.h"

/* Runs until SIGTERM/SIGINT (exit 0) or until the executor process is gone
   (exit 1). channel is borrowed. Returns the process exit code. */
int rc_agent_daemon_run (const rc_config_t *cfg, rc_channel_t *channel);

#endif
