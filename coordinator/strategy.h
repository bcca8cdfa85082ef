/*  strategy.h - the arithmetic of a deployment's strategy: how many hosts
    go in each batch ("N", "N%" or a ramp "1,10%,50%"), how many may fail
    ("N" or "N%"), the durations and pause of a request, and the order in
    which hosts take their turn (natural: web-2 before web-10). Pure
    functions of their arguments: the engine, the control requests and a
    plan all ask the same questions and get the same answers. */
#ifndef COORD_STRATEGY_H
#define COORD_STRATEGY_H

#include <stdbool.h>
#include <stdint.h>

/* The size of batch n (1-based) of total hosts, the last entry of a ramp
   repeating; a percentage is rounded up, and at least one host. -1 if the
   spec is bad. */
int rc_strategy_batch_size (const char *spec, int n, int total);
/* The number of batches a spec makes of total hosts, or -1. */
int rc_strategy_batch_count (const char *spec, int total);
/* A window or rollback batch (deploy --window, --rollback-batch): one
   "N" or "N%" of total hosts, a percentage rounded up, at least one. -1
   if bad: 0 or 0%, over 100%, a ramp, anything else. */
int rc_strategy_window (const char *spec, int total);
/* The entries of a batch spec (1 for "N" or "N%", 3 for "1,10%,50%"), or
   -1 if it is bad. */
int rc_strategy_ramp_length (const char *spec);
/* Failures tolerated: "N" or "N%" of total (rounded down), or -1. */
int rc_strategy_max_fail (const char *spec, int total);

/* A duration field of a request ("500ms", "10s", "5m", "1h"): "" is
   dflt. False when it is not a duration, or is 0, or does not fit the
   32 bits the agents are told it in. */
bool rc_strategy_duration (const char *text, int64_t dflt, int64_t *out);
/* The pause between batches: "" none (0), "manual" (*manual), or a
   duration > 0. False when it is none of these. */
bool rc_strategy_pause (const char *spec, bool *manual, int64_t *ms);

/* The order of host ids in a deployment: strverscmp's, so the digits in
   a name compare as numbers (web-2 < web-10). */
int rc_strategy_host_cmp (const char *a, const char *b);

#endif
