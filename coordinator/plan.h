/*  plan.h - what a deploy or a rollback would do, computed from the fleet
    and the strategy and stored nowhere (`rollclone deploy --plan`, like
    `terraform plan`). The batches come from the engine's own batch
    arithmetic over the hosts in the engine's own order, so the plan
    cannot promise an order the rollout would not keep. */
#ifndef COORD_PLAN_H
#define COORD_PLAN_H

#include "deployments.h"
#include "freeze.h"
#include "rollclone.pb-c.h"
#include "rollout.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

/* A host of the deployment-to-be, in the engine's order, as the live view
   sees it now. */
typedef struct {
    const char *host_id;
    bool online;
    bool healthy;
} rc_plan_member_t;

/* How the engine would take the members. */
typedef struct {
    const char *batch_spec;       /* N, N% or a ramp */
    int total;                    /* the hosts batch sizes are counted of */
    int64_t progress_deadline_ms; /* the longest a host may take after the last progress */
    int64_t pause_ms;             /* timed pause after each batch but the last, 0 = none */
    /* deploy: a host that is unavailable at its turn takes its place in
       the batch and fails there (it counts against the budget); rollback:
       it is passed over and waited for */
    bool unavailable_takes_slot;
    int window_hosts; /* deploy --window after the ramp, in hosts (0 = none) */
    bool reverse;     /* rollback: the hosts last updated first */
} rc_plan_walk_t;

/* A new reply of kind ("deploy" or "rollback") for app and version. */
Rollclone__PlanReply *rc_plan_new (const char *kind, const char *app, const char *version);
/* Records a host that would not be updated and why: offline, unhealthy,
   app_missing, not_selected, not_changed, no_rollback_point. 0 or -1
   (out of memory). */
int rc_plan_skip (Rollclone__PlanReply *plan, const char *host_id, const char *reason);
/* Lays the members out in batches as the engine would, the skipped ones
   recorded, hosts and worst_case_ms counted. 0 or -1 (out of memory, or a
   batch spec the engine would refuse). The worst case of a batch is its
   hosts times the progress deadline: the engine lets each host take up to
   the deadline after the previous one finished (the soak runs inside a
   host's step, so within it), and the timed pause follows every batch but
   the last. Manual gates are not counted: they wait for a person. */
int rc_plan_walk (Rollclone__PlanReply *plan, const rc_plan_walk_t *walk,
                  const rc_plan_member_t *members, size_t n);

/* The plan of a deploy: chosen (host ids in the engine's order) laid out
   with the live view, lacking (matching but without the app) and
   unselected (not matching --select) skipped; max_fail the request's
   spec. Returns the ControlReply that carries it (frozen: whether freeze
   holds now), or the error reply. */
typedef struct {
    zlistx_t *chosen;
    zlistx_t *lacking;
    zlistx_t *unselected;
    const char *batch_spec;
    const char *max_fail_spec;
    int64_t progress_deadline_ms;
    int64_t pause_ms;
    int window_hosts; /* deploy --window in hosts, 0 = fixed batches */
} rc_plan_deploy_t;
Rollclone__ControlReply *rc_plan_deploy (const Rollclone__DeployRequest *req,
                                         const rc_plan_deploy_t *how, rc_host_view_fn *view,
                                         void *view_arg, rc_freeze_t *freeze);
/* The plan of rollback --deployment: hosts (n, the deployment's rows, in
   their order) of which the marked ones (rollback_pending) go back, as
   the engine's rollback takes them: an offline host is waited for, not
   given a place in a batch. */
Rollclone__ControlReply *rc_plan_rollback (const rc_deployment_t *dep, const rc_dhost_t *hosts,
                                           size_t n, rc_host_view_fn *view, void *view_arg,
                                           rc_freeze_t *freeze);
/* The plan of rollback --host H: one host, one batch. */
Rollclone__ControlReply *rc_plan_rollback_host (const Rollclone__RollbackRequest *req, bool online,
                                                rc_freeze_t *freeze);

#endif
