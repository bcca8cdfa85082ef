/*  window.h - the sliding window of a deployment (deploy --window N|N%):
    after the ramp of --batch (each of its entries one batch, the last not
    repeating), at most window_hosts hosts are in flight and a new one
    starts as soon as one finishes. Everything here is derived from the
    rows (the deployment's batch count, its hosts' states), so a restarted
    coordinator resumes a window where it was. Also the size of a
    deployment's rollback batches (--rollback-batch). The prefix is
    rc_slide_: common/rc_window.h holds the freeze windows. */
#ifndef COORD_WINDOW_H
#define COORD_WINDOW_H

#include "deployments.h"
#include "rollclone.pb-c.h"
#include "rollout.h"

#include <stdbool.h>

/* The ramp before a window when --batch is not given: one canary. */
#define RC_SLIDE_DEFAULT_RAMP "1"

/* Checks a deploy request's --window and --rollback-batch (and what does
   not go with a window): 0, or -1 with a one-line reason in err. */
int rc_slide_check (const Rollclone__DeployRequest *req, char *err, size_t errlen);
/* The batch spec of a request: --batch, else the window's canary or the
   default ramp. */
const char *rc_slide_batch_spec (const Rollclone__DeployRequest *req, const char *dflt);

/* The number of batches of the ramp before the window: the entries of
   batch_spec. -1 if bad. */
int rc_slide_ramp (const char *batch_spec);
/* The batches a deployment makes of total hosts with a window of
   window_hosts (0: fixed batches, as rc_strategy_batch_count): the
   ramp's batches that take hosts, then the window as one more. -1 if
   bad. */
int rc_slide_batch_count (const char *batch_spec, int window_hosts, int total);
/* The size of batch n (1-based) of total hosts: with a window, the ramp's
   entry n, and after the ramp every host left (total). */
int rc_slide_batch_size (const char *batch_spec, int window_hosts, int n, int total);
/* Whether dep has passed its ramp: its hosts start in its window. */
bool rc_slide_phase (const rc_deployment_t *dep);
/* Whether the next batch of dep is its window. */
bool rc_slide_next_is_window (const rc_deployment_t *dep);
/* How many hosts may start now with inflight in flight: >= 0. */
int rc_slide_room (int window_hosts, int inflight);
/* Fills dep's window: its pending hosts take their turn in their stable
   order while fewer than window_hosts are in flight (inflight now) and
   the failure budget holds; a host offline or unhealthy at its turn
   fails there and takes no room. Records and events only. */
int rc_slide_fill (rc_rollout_t *rollout, rc_deployment_t *dep, rc_dhost_t *hosts, size_t n,
                   int inflight, int64_t now);
/* What dep has left before the gate of --pause manual: its hosts in
   flight (inflight: updating, unknown, put back), its run-once step
   running, and once its window began, its hosts still to start (a window
   has no gate of its own; the one left is blue-green's switch, after
   every host is staged). 0: the gate is reached, and only then does a
   resume open it; one sent earlier would let the next batch, or the
   switch, go before the operator saw this one end. */
int rc_slide_gate_left (const rc_deployment_t *dep, int inflight, int pending);
/* The same, counting dep's hosts in the store. -1 on a store error. */
int rc_slide_gate_left_of (rc_store_t *store, const rc_deployment_t *dep);

/* Hosts rolled back at a time, of total: the deployment's
   --rollback-batch, else its largest batch or its window, whichever is
   larger; at least 1. */
int rc_slide_rollback_size (const rc_deployment_t *dep, int total);

void rc_slide_test (bool verbose);

#endif
