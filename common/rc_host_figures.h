/*  rc_host_figures.h - a host's figures (HostMetrics of a heartbeat) as
    the coordinator keeps them per host and both the coordinator and the
    agent export them: checked on the way in, written as Prometheus series
    (rc_host_figures_write) under the same names by both. */
#ifndef RC_HOST_FIGURES_H
#define RC_HOST_FIGURES_H

#include "rc_defaults.h"
#include "rc_expo.h"
#include "rollclone.pb-c.h"

#include <stdbool.h>
#include <stdint.h>

/* Disks of a host kept (one per app's releases_dir). */
#define RC_METRICS_DISKS_MAX RC_MAX_APPS_PER_HOST
/* A releases_dir longer than this is not exported. */
#define RC_METRICS_PATH_MAX 512

typedef struct {
    char app[RC_NAME_MAX + 1];
    char *path; /* the releases_dir */
    uint64_t free_bytes;
    uint64_t total_bytes;
} rc_disk_figure_t;

typedef struct {
    bool known; /* a heartbeat carried figures */
    double load1;
    double cpu_percent;
    uint64_t mem_used_bytes;
    uint64_t mem_available_bytes;
    uint32_t cpus;
    rc_disk_figure_t *disks;
    size_t n_disks;
} rc_host_figures_t;

/* Takes m into f (reusing its memory when the disks are the same); a
   malformed entry (bad app name, unclean path, NaN) is left out. */
void rc_host_figures_set (rc_host_figures_t *f, const Rollclone__HostMetrics *m);
void rc_host_figures_clear (rc_host_figures_t *f);

/* The series of n hosts: ids[i] and figs[i] (one family at a time). */
void rc_host_figures_write (rc_expo_t *e, const char *const *ids,
                            const rc_host_figures_t *const *figs, size_t n);

#endif
