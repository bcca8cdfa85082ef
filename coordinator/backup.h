/*  backup.h - `rollclone backup PATH`: the CLI's request checked, the
    store's online backup stepped from the server's cron, and the answer
    sent when the copy is complete (a request waits for it, so the CLI that
    asked learns whether the copy exists). One backup at a time. */
#ifndef COORD_BACKUP_H
#define COORD_BACKUP_H

#include "rollclone.pb-c.h"
#include "store.h"
#include <czmq.h>

typedef struct _rc_backup_t rc_backup_t;

/* store is borrowed. */
rc_backup_t *rc_backup_new (rc_store_t *store);
/* Abandons a running backup (its partial copy is removed). */
void rc_backup_destroy (rc_backup_t **self_p);

/* A request from the CLI at routing_id (copied). Returns the reply to send
   now when refused (bad path, file exists, a backup running), or NULL: the
   backup has started and rc_backup_step will answer. */
Rollclone__ControlReply *rc_backup_request (rc_backup_t *self, const Rollclone__BackupRequest *req,
                                            zframe_t *routing_id);
/* From the cron: copies the next pages. When the backup has ended, returns
   its reply (free with rollclone__control_reply__free_unpacked) and sets
   *routing_id_p to the CLI waiting for it (the caller destroys it). */
Rollclone__ControlReply *rc_backup_step (rc_backup_t *self, zframe_t **routing_id_p);

#endif
