/*  metrics_bench.h - what bench/rc_metricsbench.c needs of metrics.c to
    measure a scrape of a fleet larger than this machine can simulate: a
    source of hosts in place of the fleet (the snapshot, its text and the
    HTTP endpoint are the coordinator's own), the port, the build time. */
#ifndef COORD_METRICS_BENCH_H
#define COORD_METRICS_BENCH_H

#include "fleet.h"
#include "metrics.h"

/* Calls fn once per host of source, as rc_fleet_each does for a fleet. */
typedef void (rc_metrics_each_fn) (void *source, rc_fleet_each_fn *fn, void *arg);
/* The hosts of the next snapshots come from each (the fleet's until set). */
void rc_metrics_set_hosts (rc_metrics_t *self, rc_metrics_each_fn *each, void *source);
/* The port the endpoint listens on. */
uint16_t rc_metrics_port (rc_metrics_t *self);
/* How long the last snapshot took the loop to build, in microseconds. */
int64_t rc_metrics_build_us (rc_metrics_t *self);

#endif
