/*  figures.h - what the agent measures of its host for the heartbeat
    (HostMetrics): load, CPU busy share between two samples, memory, and
    the free space of each app's releases_dir. Read from /proc and
    statvfs, which the unprivileged network side may read: no executor
    round trip for them. */
#ifndef AGENT_FIGURES_H
#define AGENT_FIGURES_H

#include "rc_config.h"
#include "rollclone.pb-c.h"

typedef struct _rc_figures_t rc_figures_t;

/* cfg is borrowed (its apps' releases_dir). */
rc_figures_t *rc_figures_new (const rc_config_t *cfg);
void rc_figures_destroy (rc_figures_t **self_p);
/* Samples now. The message is the object's, valid until the next sample;
   a figure that cannot be read is 0 (a disk that cannot be read is left
   out). */
const Rollclone__HostMetrics *rc_figures_sample (rc_figures_t *self);
/* The last sample, or NULL before the first. */
const Rollclone__HostMetrics *rc_figures_last (rc_figures_t *self);

void rc_figures_test (bool verbose);

#endif
