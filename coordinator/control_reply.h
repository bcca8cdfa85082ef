/*  control_reply.h - the replies of the control requests that only read:
    status, history, events, hosts and info, each serialized from the store
    (and the fleet's live view) into its protobuf message; and the reply
    helpers every control request uses. Each returns a heap reply, freed
    with rollclone__control_reply__free_unpacked. */
#ifndef COORD_CONTROL_REPLY_H
#define COORD_CONTROL_REPLY_H

#include "counters.h"
#include "fleet.h"
#include "rollclone.pb-c.h"
#include "store.h"

/* An empty reply (code 0). */
Rollclone__ControlReply *rc_reply_new (void);
/* A refusal: code (RC_EXIT_*) and a one-line reason. */
Rollclone__ControlReply *rc_reply_error (int code, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* A reply that carries a DeployReply: what a deploy or rollback created. */
Rollclone__ControlReply *rc_reply_deploy (const char *deployment_id, uint32_t hosts,
                                          uint32_t total_batches);

Rollclone__ControlReply *rc_reply_status (rc_store_t *store, const Rollclone__StatusRequest *req);
Rollclone__ControlReply *rc_reply_history (rc_store_t *store, rc_fleet_t *fleet,
                                           const Rollclone__HistoryRequest *req);
Rollclone__ControlReply *rc_reply_events (rc_store_t *store, const Rollclone__EventsRequest *req);
Rollclone__ControlReply *rc_reply_hosts (rc_store_t *store, rc_fleet_t *fleet);
Rollclone__ControlReply *rc_reply_info (rc_fleet_t *fleet, const rc_counters_t *counters);

/* A heap AppState from a host_apps row (rollback points comma separated),
   freed with its message. */
Rollclone__AppState *rc_app_state_new (const char *app, const char *current, const char *points);
/* The same from a host_apps row, with its slots (surge clones). */
Rollclone__AppState *rc_app_state_of_row (const rc_app_row_t *row);

#endif
