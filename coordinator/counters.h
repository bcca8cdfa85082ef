/*  counters.h - what the coordinator counts of the frames and messages it
    turned away, since it started: the server and the fleet count, the
    `info` control request tells. */
#ifndef COORD_COUNTERS_H
#define COORD_COUNTERS_H

#include <stdint.h>

typedef struct {
    int64_t started;           /* monotonic ms the server started */
    uint64_t dropped_agent;    /* frames dropped on the agent socket */
    uint64_t dropped_control;  /* frames dropped on the control socket */
    uint64_t states_refused;   /* hellos/heartbeats over a limit */
    uint64_t messages_stale;   /* hellos/heartbeats older than one seen */
    uint64_t writes_throttled; /* store writes a peer was over its share for */
} rc_counters_t;

#endif
