/*  fleet.h - the hosts the coordinator knows: who registered with which
    key (one key, one host), whether each is online (heard from within
    offline_after) and healthy, the apps each says it runs, and the order
    of its messages (a message older than one seen is stale). Hellos and
    heartbeats are checked and bounded here before anything is stored, and
    a peer may cause only so many store writes a second.

    It is also the engine's view of a host (rc_fleet_view) and the key an
    instruction to a host is sealed with. It sends nothing: each intake
    function says how to answer (rc_fleet_ack_t) and the server does. */
#ifndef COORD_FLEET_H
#define COORD_FLEET_H

#include "counters.h"
#include "metrics.h"
#include "quiet.h"
#include "rc_config.h"
#include "rc_envelope.h"
#include "store.h"

#include <czmq.h>

typedef struct _rc_fleet_t rc_fleet_t;

/* How to answer an agent's message. */
typedef struct {
    bool send;                     /* false: no ack (the agent says it again) */
    Rollclone__Ack__Status status; /* when send */
    char reason[160];              /* "" or why it was refused */
    bool reconcile;                /* hand its apps to the engine, after the ack */
} rc_fleet_ack_t;

/* Loads the hosts the store knows (each offline_after from now to speak).
   cfg, store, quiet and counters are borrowed. NULL when the store cannot
   be read (the reason in rc_store_errmsg). */
rc_fleet_t *rc_fleet_new (const rc_config_t *cfg, rc_store_t *store, rc_quiet_t *quiet,
                          rc_counters_t *counters);
void rc_fleet_destroy (rc_fleet_t **self_p);

/* A hello from an agent admitted with key (Z85). */
void rc_fleet_on_hello (rc_fleet_t *self, const char *key, const rc_envelope_t *env,
                        rc_fleet_ack_t *ack);
/* A heartbeat: a host unknown or of another run is told to say hello. */
void rc_fleet_on_heartbeat (rc_fleet_t *self, const char *key, const rc_envelope_t *env,
                            rc_fleet_ack_t *ack);
/* A step report: the host id it is from, or NULL when the sender is not
   the host its key registered (ack says how to answer either way). */
const char *rc_fleet_on_report (rc_fleet_t *self, const char *key, const rc_envelope_t *env,
                                rc_fleet_ack_t *ack);
/* The engine stored st, an app of host_id, from a step report: the next
   heartbeat that says the same writes nothing. */
void rc_fleet_app_stored (rc_fleet_t *self, const char *host_id, const Rollclone__AppState *st);

/* A transaction that wrote what the fleet remembers as stored was rolled
   back: each host's next hello or heartbeat writes again. */
void rc_fleet_forget_stored (rc_fleet_t *self);

/* A frame from key refused before it was read: oversize bytes, or a peer
   of another protocol version. Logged and an event, now and then. */
void rc_fleet_refused_frame (rc_fleet_t *self, const char *key, size_t oversize,
                             uint32_t peer_version);

/* The cron: hosts not heard from within offline_after turn offline. */
void rc_fleet_cron (rc_fleet_t *self);

/* A number that changes whenever a host's online or healthy does. */
uint64_t rc_fleet_epoch (rc_fleet_t *self);
/* The engine's view (an rc_host_view_fn, arg the fleet): false for a
   host never registered, else whether it is online and healthy. */
bool rc_fleet_view (void *self, const char *host_id, bool *online, bool *healthy);
/* The key an instruction to host_id is sealed with, or NULL. */
const uint8_t *rc_fleet_seal_key (rc_fleet_t *self, const char *host_id);
/* When an online host was last heard from (unix ms, live: the store
   writes it on transitions only), or 0 when it is not online. */
int64_t rc_fleet_last_heard (rc_fleet_t *self, const char *host_id);
/* An app's rollback points as the store keeps them, comma separated, in
   one allocation (names are checked: no comma in them); NULL when out of
   memory. The caller frees it. */
char *rc_fleet_points_join (const Rollclone__AppState *app);
/* What the metrics endpoint shows of a host (metrics.c): borrowed, valid
   during the call only. */
typedef struct {
    char app[RC_NAME_MAX + 1];
    char current[RC_NAME_MAX + 1];
} rc_fleet_app_t;
typedef struct {
    const char *id;
    const char *agent_version; /* "" until a hello since we started */
    bool online;
    bool healthy;
    int64_t silent_ms; /* since last heard */
    const rc_fleet_app_t *apps;
    size_t n_apps;
    const rc_host_figures_t *figures; /* of the last heartbeat */
} rc_fleet_host_t;
typedef void (rc_fleet_each_fn) (void *arg, const rc_fleet_host_t *host);
void rc_fleet_each (rc_fleet_t *self, rc_fleet_each_fn *fn, void *arg);

/* Hosts known, online and offline. */
void rc_fleet_count (rc_fleet_t *self, size_t *online, size_t *offline);

#endif
