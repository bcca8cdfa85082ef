/*  bluegreen.h - deploy --strategy blue-green across the fleet. The hosts
    first stage the release (ACTION_STAGE: installed and started on the
    idle slot, health-checked there, no traffic) in batches like a rolling
    update; once every host is staged, one fleet-wide switch sends
    ACTION_SWITCH to all of them at once. A failure while staging fails
    the deployment with traffic untouched everywhere; hosts that switched
    when others could not are switched back to the old release, still warm
    on their other slot. The phase is a column of the deployment, so a
    coordinator restarted between the stage and the switch, or in the
    middle of the switch, goes on from there.

    rollout.c calls these at its decision points; what is pure (the next
    move from counts, the action of a switch back) is tested alone. */
#ifndef COORD_BLUEGREEN_H
#define COORD_BLUEGREEN_H

#include "deployments.h"
#include "rollout.h"
#include "store.h"

/* The strategies' names (DeployRequest.strategy, the deployments row). */
#define RC_STRATEGY_ROLLING "rolling"
#define RC_STRATEGY_BLUEGREEN "blue-green"

/* A switch back goes to the warm slot only when the release stays warm
   this much longer (the agent stops it at keep_warm: a switch sent just
   before would find nothing to switch to). */
#define RC_BLUEGREEN_WARM_MARGIN_MS 5000
/* The staged slot passed its soak while staging; a switch checks once
   more that it still answers, and gives up this soon when it does not
   (its process died: traffic must not go there). */
#define RC_BLUEGREEN_SWITCH_HEALTH_MS 10000
/* ... one passing check is enough (an agent takes 0 for its default soak) */
#define RC_BLUEGREEN_SWITCH_SOAK_MS 1

/* "" or "rolling" -> "rolling", "blue-green" -> itself, else NULL. */
const char *rc_bluegreen_strategy (const char *text);
bool rc_bluegreen_is (const rc_deployment_t *dep);

/* What a blue-green deployment does next, decided from what its hosts
   are doing (a pure function: tests/unit). */
typedef enum {
    RC_BG_GO_WAIT,       /* a host is in flight, a run-once too */
    RC_BG_GO_NEXT_BATCH, /* stage the next batch */
    RC_BG_GO_SWITCH,     /* every host is staged (or failed within the budget) */
    RC_BG_GO_SWITCHED,   /* the switch ended well: the after step, the end */
    RC_BG_GO_FAIL,       /* a failure before the switch: fail, traffic untouched */
    RC_BG_GO_ROLL_BACK,  /* a failure in the switch: switch back who switched */
} rc_bg_move_t;

typedef struct {
    rc_bg_phase_t phase;
    int pending;  /* hosts not staged yet */
    int inflight; /* hosts (and run-once steps) in flight */
    int staged;   /* hosts staged, waiting for the switch */
    bool blown;   /* failures over the budget, a deadline, an abort */
} rc_bg_view_t;

rc_bg_move_t rc_bluegreen_next (const rc_bg_view_t *view);

/* The action of one host's step back to from_version: ACTION_SWITCH when
   that release is still warm on its other slot for longer than the
   margin (warm_version, warm_until as the agent last said), else
   ACTION_ROLLBACK. Pure. */
int rc_bluegreen_back_action (const char *from_version, const char *warm_version,
                              int64_t warm_until, int64_t now);
/* The same, reading the host's app row. -1 on a store error. */
int rc_bluegreen_back_action_of (rc_store_t *store, const rc_deployment_t *dep, const rc_dhost_t *h,
                                 int64_t now);

/* The restage before the switch. The agent stops a staged slot at
   keep_warm from its stage; a deployment that waited longer at its gate
   (--pause manual), a freeze or its other batches would find it gone at
   the switch and roll back. So when the switch is due (its gate open),
   each staged host whose release is not warm enough (below) is staged
   again first, all such hosts at once (their release passed its stage on
   them, the switch that follows is fleet-wide too, and one short round
   keeps the others warm), as an ordinary stage step with its own event;
   then the switch. The rows are the state: a coordinator killed in the
   middle finds the hosts in flight and goes on. */

/* A host staged this many times (steps of its row: each stage is one) is
   not staged again: it goes to the switch as it is, which fails it if
   cold. Only a keep_warm shorter than a stage round gets there. */
#define RC_BLUEGREEN_STAGES_MAX 4

/* Whether version, staged at staged_at, is warm enough on the idle slot
   for the switch (warm_version, warm_until as the agent last said): warm
   for longer than the margin, or, with a keep_warm shorter than the
   margin, staged less than the margin ago and still warm. Pure. */
bool rc_bluegreen_warm_enough (const char *version, const char *warm_version, int64_t warm_until,
                               int64_t staged_at, int64_t now);

/* Every staged, online host of dep not warm enough goes in flight with a
   new ACTION_STAGE step (host_restaging events, restage_started, phase
   restaging); *restaging says how many. 0, or -1 on a store error. */
int rc_bluegreen_restage_start (rc_store_t *store, rc_deployment_t *dep, rc_dhost_t *hosts,
                                size_t n, rc_host_view_fn *view, void *arg, int *restaging,
                                int64_t now);

/* For status: the staged hosts of dep, how many of them are cold (staged
   again at the switch), and the earliest warm_until of the others (0:
   none is warm). 0, or -1 on a store error. */
typedef struct {
    int staged;
    int cold;
    int64_t warm_until;
} rc_bg_warmth_t;

int rc_bluegreen_warmth (rc_store_t *store, const rc_deployment_t *dep, int64_t now,
                         rc_bg_warmth_t *out);

/* The switch: every staged host that is online goes in flight with an
   ACTION_SWITCH step (one staged host offline at that moment fails:
   never switched blind), with events. *switching says how many went;
   none when no host was staged. 0, or -1 when an event was not written. */
int rc_bluegreen_switch_start (rc_store_t *store, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n,
                               rc_host_view_fn *view, void *arg, int *switching, int64_t now);

/* The action name of a host's step for status ("stage", "switch"...). */
const char *rc_bluegreen_action_name (int action);
int rc_bluegreen_action_parse (const char *name);

#endif
