/*  figures.c - the host's figures for the heartbeat (see figures.h). */
#include "figures.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct _rc_figures_t {
    const rc_config_t *cfg;       /* borrowed */
    Rollclone__HostMetrics msg;   /* the last sample */
    Rollclone__DiskFree *disks;   /* one per app */
    Rollclone__DiskFree **disk_p; /* pointers into disks, for msg */
    bool sampled;                 /* msg holds a sample */
    uint64_t cpu_busy, cpu_total; /* /proc/stat jiffies at the last sample */
};

rc_figures_t *
rc_figures_new (const rc_config_t *cfg)
{
    rc_figures_t *self = (rc_figures_t *)calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    size_t n = cfg->app_count ? cfg->app_count : 1;
    self->disks = (Rollclone__DiskFree *)calloc (n, sizeof *self->disks);
    self->disk_p = (Rollclone__DiskFree **)calloc (n, sizeof *self->disk_p);
    if (!self->disks || !self->disk_p) {
        rc_figures_destroy (&self);
        return NULL;
    }
    rollclone__host_metrics__init (&self->msg);
    return self;
}

void
rc_figures_destroy (rc_figures_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->disks);
        free ((*self_p)->disk_p);
        free (*self_p);
        *self_p = NULL;
    }
}

/* Busy and total jiffies of all CPUs (busy: not idle, not iowait). */
static bool
s_cpu (uint64_t *busy, uint64_t *total)
{
    FILE *f = fopen ("/proc/stat", "r");
    if (!f)
        return false;
    uint64_t v[8] = {0};
    int n = fscanf (f,
                    "cpu %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
                    " %" SCNu64 " %" SCNu64,
                    &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose (f);
    if (n < 4)
        return false;
    *total = 0;
    for (int i = 0; i < 8; i++)
        *total += v[i];
    *busy = *total - v[3] - v[4];
    return true;
}

/* MemTotal and MemAvailable in bytes. */
static void
s_memory (uint64_t *used, uint64_t *available)
{
    *used = *available = 0;
    FILE *f = fopen ("/proc/meminfo", "r");
    if (!f)
        return;
    char line[128];
    uint64_t total = 0, avail = 0, kb;
    while (fgets (line, sizeof line, f)) {
        if (sscanf (line, "MemTotal: %" SCNu64 " kB", &kb) == 1)
            total = kb * 1024;
        else if (sscanf (line, "MemAvailable: %" SCNu64 " kB", &kb) == 1)
            avail = kb * 1024;
    }
    fclose (f);
    *available = avail;
    *used = total > avail ? total - avail : 0;
}

/* statvfs of path, or of its nearest existing parent: before the first
   release a releases_dir may not exist yet, and the filesystem it will be
   made on is the one whose space counts. */
static int
s_statvfs (const char *path, struct statvfs *vfs)
{
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s", path);
    while (statvfs (dir, vfs) != 0) {
        char *slash = strrchr (dir, '/');
        if (!slash || slash == dir)
            return statvfs ("/", vfs);
        *slash = 0;
    }
    return 0;
}

const Rollclone__HostMetrics *
rc_figures_sample (rc_figures_t *self)
{
    Rollclone__HostMetrics *m = &self->msg;
    double load[1];
    m->load1 = getloadavg (load, 1) == 1 ? load[0] : 0;
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    m->cpus = cpus > 0 ? (uint32_t)cpus : 0;
    uint64_t busy, total;
    m->cpu_percent = 0;
    if (s_cpu (&busy, &total)) {
        /* since the last sample; the first one: since boot */
        uint64_t d_total = total - self->cpu_total, d_busy = busy - self->cpu_busy;
        if (total >= self->cpu_total && busy >= self->cpu_busy && d_total > 0)
            m->cpu_percent = 100.0 * (double)d_busy / (double)d_total;
        self->cpu_busy = busy;
        self->cpu_total = total;
    }
    s_memory (&m->mem_used_bytes, &m->mem_available_bytes);
    m->n_disks = 0;
    for (size_t i = 0; i < self->cfg->app_count; i++) {
        const rc_app_config_t *app = &self->cfg->apps[i];
        struct statvfs vfs;
        if (!app->releases_dir || s_statvfs (app->releases_dir, &vfs) != 0)
            continue;
        Rollclone__DiskFree *d = &self->disks[m->n_disks];
        rollclone__disk_free__init (d);
        d->app = app->name;
        d->path = app->releases_dir;
        d->free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
        d->total_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
        self->disk_p[m->n_disks++] = d;
    }
    m->disks = self->disk_p;
    self->sampled = true;
    return m;
}

const Rollclone__HostMetrics *
rc_figures_last (rc_figures_t *self)
{
    return self->sampled ? &self->msg : NULL;
}
