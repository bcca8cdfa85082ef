/*  slots.h - surge clones ([app] slots = P1,P2): an app runs as two
    instances, one per slot, each on its own port and from its own link
        <releases_dir>/slot1 -> releases/<version>
        <releases_dir>/slot2 -> releases/<version>
    beside `current`, which follows the serving slot. An update starts the
    target on the idle slot, checks it there, puts it into the load
    balancer and drains the serving one, which is kept running ("warm")
    for keep_warm: a rollback within it goes back to the warm slot without
    a restart. What serves and what is warm until when is in state_dir
    (journal.h, slots/<app>.pb) so it survives a restart of the agent. */
#ifndef AGENT_SLOTS_H
#define AGENT_SLOTS_H

#include "child.h"
#include "journal.h"
#include "rc_config.h"
#include "rc_ids.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    unsigned serving;                   /* 1 or 2; 0 before the first step */
    char warm_version[RC_NAME_MAX + 1]; /* running warm on the other slot, "" none */
    int64_t warm_until_ms;              /* wall clock (unix ms): then it is stopped */
} rc_slots_t;

/* The app's slot state, zeroed when there is none (an unreadable one is
   logged and counts as none). */
void rc_slots_load (rc_journal_t *journal, const char *app, rc_slots_t *out);
/* Writes it (durably); -1 logged on failure. */
int rc_slots_save (rc_journal_t *journal, const char *app, const rc_slots_t *slots);

/* The slot an update starts its target on: the one not serving. */
unsigned rc_slots_idle (const rc_slots_t *slots);
/* True when version runs warm on the idle slot at wall time now_ms: the
   release a switch left there, or one staged (blue-green). */
bool rc_slots_warm (const rc_slots_t *slots, const char *version, int64_t now_ms);
/* The port of slot (1, 2) of app, 0 for slot 0. */
unsigned rc_slots_port (const rc_app_config_t *app, unsigned slot);
/* Monotonic moment at which the warm release is stopped, from its wall
   clock deadline: never later than keep_warm from now (a clock set back
   does not keep it running longer), RC_WATCH_NEVER-like INT64_MAX when
   nothing is warm. */
int64_t rc_slots_warm_at (const rc_slots_t *slots, int64_t keep_warm_ms, int64_t now_wall,
                          int64_t now_mono);

/* Points <dir>/slot<slot> at releases/<version> atomically, or removes it
   when version is NULL. 0, or -1 with err. */
int rc_slots_link (const char *dir, unsigned slot, const char *version, char *err, size_t errlen);
/* Writes "<dir>/slot<slot>" into buf. */
void rc_slots_dir (const char *dir, unsigned slot, char *buf, size_t len);

/* Appends ROLLCLONE_SLOT, ROLLCLONE_PORT and ROLLCLONE_SLOT_DIR ("K=V",
   malloc'd) to env at *at (RC_SLOTS_ENV_VARS of room needed); nothing for
   slot 0. */
#define RC_SLOTS_ENV_VARS 3
void rc_slots_env (const rc_app_config_t *app, unsigned slot, char **env, size_t *at);

/* Starts the stop hook of the release warm on the idle slot (ROLLCLONE_SLOT,
   ROLLCLONE_PORT of that slot, ROLLCLONE_PHASE=stop); env is its storage,
   RC_SLOTS_STOP_ENV entries, freed with rc_slots_env_free once the child
   is gone. NULL with err when it cannot start. */
#define RC_SLOTS_STOP_ENV (RC_SLOTS_ENV_VARS + 5)
rc_child_t *rc_slots_stop_start (const rc_app_config_t *app, const rc_slots_t *slots, char **env,
                                 char *err, size_t errlen);
void rc_slots_env_free (char **env, size_t n);

#endif
