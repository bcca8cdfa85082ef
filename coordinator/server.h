/*  server.h - the coordinator's server actor (sockets, ZAP, fleet, control).
    Pipe commands: "RELOAD" re-reads the key directories; "$TERM" stops. */
#ifndef COORD_SERVER_H
#define COORD_SERVER_H

#include "rc_config.h"
#include <czmq.h>

/* Starts the server; NULL when it could not (the reason is logged). cfg is
   borrowed and must outlive the actor. */
zactor_t *rc_server_new (const rc_config_t *cfg);

#endif
