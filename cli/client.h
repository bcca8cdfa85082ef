/*  client.h - one request to the coordinator's control socket and its
    reply, over CURVE, with a timeout; tells "refused our key" apart from
    "no answer". */
#ifndef RC_CLI_CLIENT_H
#define RC_CLI_CLIENT_H

#include "rc_config.h"
#include "rollclone.pb-c.h"
#include <stdint.h>

typedef struct _rc_client_t rc_client_t;

rc_client_t *rc_client_new (const rc_config_t *cfg, int64_t timeout_ms);
void rc_client_destroy (rc_client_t **self_p);

/* Sends req and waits for the reply. Returns the reply (free with
   rollclone__control_reply__free_unpacked) or NULL with the reason in
   rc_client_errmsg; then the exit code is RC_EXIT_UNREACHABLE. */
Rollclone__ControlReply *rc_client_call (rc_client_t *self, Rollclone__ControlRequest *req);
const char *rc_client_errmsg (rc_client_t *self);

#endif
