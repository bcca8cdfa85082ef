/*  journal.h - what the executor writes to state_dir so a crash or reboot
    never leaves a host between releases without anyone knowing:
      steps/<app>.pb            the step in flight for app (packed
                                StepRecord), rewritten before each phase
                                (temp file, fsync, rename, fsync)
      reports/<id>.<step>.pb    final reports of finished steps (packed
                                StepReport), the newest RC_REPORTS_KEPT kept,
                                so a repeated instruction is answered, not rerun
      slots/<app>.pb            an app with [app] slots: which slot serves and
                                the release kept warm on the other until when
                                (packed AppState: slot, warm_version,
                                warm_until_ms), written atomically like steps
      locks/<app>.lock          flock: one step per app, whichever process
                                (daemon or `rollclone-agent apply`) runs it */
#ifndef AGENT_JOURNAL_H
#define AGENT_JOURNAL_H

#include "rollclone.pb-c.h"

#include <czmq.h>
#include <stdbool.h>

typedef struct _rc_journal_t rc_journal_t;

/* Opens (creating, mode 0700) state_dir and its subdirectories. NULL with a
   reason in err. */
rc_journal_t *rc_journal_new (const char *state_dir, char *err, size_t errlen);
void rc_journal_destroy (rc_journal_t **self_p);

/* The in-flight record of app: write (atomically, durably; end_mark is
   set here), read and clear. Read gives NULL when there is none, or when
   the record is refused (cut short, garbage, another app's, an unknown
   phase or action: see errmsg); free it with rc_journal_record_free. A
   record left by an agent of before issue 10 (steps/<app>.json) is read
   once, the next write replaces it. */
int rc_journal_write (rc_journal_t *self, const char *app, const Rollclone__StepRecord *record);
/* rc_journal_write that does not wait for the rename to reach the disk
   (one fsync instead of two): the new record is whole on disk before its
   name points to it, but after a power loss the name may still point to
   the record before it (never to a cut one). For a record whose recovery
   would do the same as the one before it (step.c). */
int rc_journal_write_light (rc_journal_t *self, const char *app,
                            const Rollclone__StepRecord *record);
Rollclone__StepRecord *rc_journal_read (rc_journal_t *self, const char *app);
void rc_journal_record_free (Rollclone__StepRecord **record_p);
void rc_journal_clear (rc_journal_t *self, const char *app);
/* True when state_dir holds an in-flight record of app (a step running
   elsewhere, or left by a crash). Needs no journal object. */
bool rc_journal_in_flight (const char *state_dir, const char *app);

/* A packed StepRecord checked as rc_journal_read does; NULL with the
   reason in err when refused. For the journal and its fuzzer. */
Rollclone__StepRecord *rc_journal_record_decode (const void *data, size_t len, const char *app,
                                                 char *err, size_t errlen);

/* The slot state of app (slots/<app>.pb): write atomically; read gives
   NULL when there is none or it is refused (errmsg says which); free it
   with rollclone__app_state__free_unpacked. */
int rc_journal_write_slots (rc_journal_t *self, const char *app, const Rollclone__AppState *state);
Rollclone__AppState *rc_journal_read_slots (rc_journal_t *self, const char *app);

/* Final reports by (deployment id, step). The id must be a valid name. */
int rc_journal_store_report (rc_journal_t *self, const char *id, uint32_t step, const void *data,
                             size_t len);
/* The stored report, or NULL. Caller destroys. */
zframe_t *rc_journal_find_report (rc_journal_t *self, const char *id, uint32_t step);

/* The newest stored report for which match (given the packed report)
   says true, or NULL. Caller destroys. */
typedef bool (rc_journal_match_fn) (zframe_t *report, void *arg);
zframe_t *rc_journal_newest_report (rc_journal_t *self, rc_journal_match_fn *match, void *arg);

/* Takes app's lock without waiting. Returns an fd to pass to unlock, or -1
   when another process holds it (or on error). */
int rc_journal_lock (rc_journal_t *self, const char *app);
void rc_journal_unlock (int *fd_p);

const char *rc_journal_errmsg (rc_journal_t *self);

void rc_journal_test (bool verbose);

#endif
