/*  zap.h - who may connect: the ZAP handler (RFC 27) that admits agent
    keys on the agent sockets and operator keys on the control socket, with
    CURVE. czmq's zauth holds one certificate store for every domain; we
    need two, so the coordinator answers ZAP itself. The admitted key is the
    connection's User-Id: every message then carries it, and the fleet
    checks the host id <-> key binding against it. */
#ifndef COORD_ZAP_H
#define COORD_ZAP_H

#include "keyring.h"
#include "quiet.h"
#include "rc_config.h"

#include <czmq.h>

#define RC_ZAP_ENDPOINT "inproc://zeromq.zap.01"
/* The ZAP domains of the sockets (rc_keys_server_socket). */
#define RC_ZAP_DOMAIN_AGENTS "agents"
#define RC_ZAP_DOMAIN_OPERATORS "operators"

typedef struct _rc_zap_t rc_zap_t;

/* Reads the key directories and binds the handler. It must be up before
   any CURVE socket binds: without one, libzmq would admit every client.
   cfg and quiet are borrowed. NULL on failure (logged). */
rc_zap_t *rc_zap_new (const rc_config_t *cfg, rc_quiet_t *quiet);
void rc_zap_destroy (rc_zap_t **self_p);

/* The handler's socket, and its zloop reader (arg: the rc_zap_t). */
zsock_t *rc_zap_socket (rc_zap_t *self);
int rc_zap_on_request (zloop_t *loop, zsock_t *sock, void *arg);

/* The keys admitted now, per domain (borrowed): a message's key is
   checked again on arrival, so a key removed stops at once. */
rc_keyring_t *rc_zap_agent_keys (rc_zap_t *self);
rc_keyring_t *rc_zap_operator_keys (rc_zap_t *self);
/* Reads both directories again (SIGHUP), and logs what it holds. */
void rc_zap_reload (rc_zap_t *self);

#endif
