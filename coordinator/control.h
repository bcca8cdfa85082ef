/*  control.h - every request of the operator's control socket: deploy
    (validated whole before anything is stored), pause/resume/abort,
    rollback, and the read-only ones (status, history, events, hosts,
    info: control_reply.h), plus backup (backup.h). A request that is
    refused changes nothing and says why in one line. */
#ifndef COORD_CONTROL_H
#define COORD_CONTROL_H

#include "backup.h"
#include "counters.h"
#include "checks.h"
#include "engine.h"
#include "fleet.h"
#include "freeze.h"
#include "rollclone.pb-c.h"
#include "store.h"

#include <czmq.h>

typedef struct _rc_control_t rc_control_t;

/* Everything is borrowed. offline_grace is the coordinator's default of
   --offline-grace (0 = the deployment's health timeout). */
rc_control_t *rc_control_new (rc_store_t *store, rc_engine_t *engine, rc_fleet_t *fleet,
                              rc_backup_t *backup, const rc_counters_t *counters,
                              int64_t offline_grace);
void rc_control_destroy (rc_control_t **self_p);
/* Freezes (borrowed): `rollclone freeze` and the plans' frozen flag. */
void rc_control_set_freeze (rc_control_t *self, rc_freeze_t *freeze);
/* The analysis gates deploy --check may name (borrowed), or NULL. */
void rc_control_set_checks (rc_control_t *self, rc_checks_t *checks);

/* Answers one request from routing_id: a heap reply for the caller to
   send and free (rollclone__control_reply__free_unpacked), or NULL when
   the answer comes later (a backup, answered from the cron). */
Rollclone__ControlReply *
rc_control_handle (rc_control_t *self, const Rollclone__ControlRequest *req, zframe_t *routing_id);
/* The same for the operator key operator_name (its file's name; NULL when
   unknown): the events the request writes name it, and a key of
   read_only_operator_keys_dir (read_only) is refused every request that
   changes something, with exit 2 and "operator key NAME is read-only". */
Rollclone__ControlReply *rc_control_handle_by (rc_control_t *self,
                                               const Rollclone__ControlRequest *req,
                                               zframe_t *routing_id, const char *operator_name,
                                               bool read_only);

/* The requests that change something, one by one (rc_control_handle
   dispatches to them). */
Rollclone__ControlReply *rc_control_deploy (rc_control_t *self,
                                            const Rollclone__DeployRequest *req);
Rollclone__ControlReply *rc_control_operate (rc_control_t *self,
                                             const Rollclone__OperateRequest *req);
Rollclone__ControlReply *rc_control_rollback (rc_control_t *self,
                                              const Rollclone__RollbackRequest *req);

#endif
