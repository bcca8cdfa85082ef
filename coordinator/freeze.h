/*  freeze.h - when no batch may start: the weekly windows of [coordinator]
    freeze (local time of the coordinator) and the operator's freeze
    (`rollclone freeze --until`), which is a row in the store so that a
    restarted coordinator keeps it. A running deployment waits at its next
    batch boundary while frozen and goes on by itself when the freeze ends
    (the rollout asks rc_freeze_at); deploy --ignore-freeze passes through. */
#ifndef COORD_FREEZE_H
#define COORD_FREEZE_H

#include "rollclone.pb-c.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>

/* The longest reason kept with the operator's freeze. */
#define RC_FREEZE_REASON_MAX 200

typedef struct _rc_freeze_t rc_freeze_t;

/* windows: the freeze key's text, or NULL for none. store is borrowed.
   NULL with a one-line reason in err for a bad window or a store that
   cannot be read. */
rc_freeze_t *rc_freeze_new (rc_store_t *store, const char *windows, char *err, size_t errlen);
void rc_freeze_destroy (rc_freeze_t **self_p);

/* Whether no batch may start at wall time wall_ms (unix ms); if so and
   ends_ms is given, when the freeze (windows and the operator's together)
   ends: INT64_MAX when it does not. */
bool rc_freeze_at (rc_freeze_t *self, int64_t wall_ms, int64_t *ends_ms);

/* Sets (or moves) the operator's freeze until until_ms, written to the
   store in the caller's transaction; clear lifts it. 0 or -1 (store error;
   after a rollback call rc_freeze_load to forget what was not kept). */
int rc_freeze_set (rc_freeze_t *self, int64_t until_ms, const char *reason,
                   const char *operator_name, int64_t now);
int rc_freeze_clear (rc_freeze_t *self);
/* Reads the operator's freeze from the store again. */
int rc_freeze_load (rc_freeze_t *self);

/* The operator's freeze end (unix ms), 0 = none set, and its reason. */
int64_t rc_freeze_until (rc_freeze_t *self);
const char *rc_freeze_reason (rc_freeze_t *self);
/* "until 2026-12-07 06:00:00 CET" (local time: freezes are), or "it
   has no end" for INT64_MAX; returns buf. */
const char *rc_freeze_end_text (int64_t ends_ms, char *buf, size_t len);
/* Configured windows, each as written. */
size_t rc_freeze_window_count (rc_freeze_t *self);

/* What `rollclone freeze` shows at wall time now: a heap reply, freed
   with its message (rollclone__freeze_reply__free_unpacked). */
Rollclone__FreezeReply *rc_freeze_reply (rc_freeze_t *self, int64_t now);

/* The control request `rollclone freeze`: sets, moves or lifts the
   operator's freeze (one transaction with its event, freeze_set or
   freeze_cleared, naming the operator through the store), or just shows
   the freezes. A ControlReply carrying the FreezeReply, or the refusal
   (exit 2: --until not in the future, with --clear, a reason too long). */
Rollclone__ControlReply *rc_freeze_request (rc_freeze_t *self, const Rollclone__FreezeRequest *req,
                                            int64_t now);

#endif
