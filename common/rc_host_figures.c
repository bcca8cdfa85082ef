/*  rc_host_figures.c - a host's figures, kept and exported (see
    rc_host_figures.h). */
#include "rc_host_figures.h"
#include "rc_ids.h"
#include "rc_text.h"

#include <czmq.h>
#include <math.h>
#include <string.h>

static bool
s_finite (double v)
{
    return isfinite (v) && v >= 0;
}

void
rc_host_figures_set (rc_host_figures_t *f, const Rollclone__HostMetrics *m)
{
    if (!m) {
        f->known = false;
        return;
    }
    f->known = true;
    f->load1 = s_finite (m->load1) ? m->load1 : NAN;
    f->cpu_percent = s_finite (m->cpu_percent) && m->cpu_percent <= 100 ? m->cpu_percent : NAN;
    f->mem_used_bytes = m->mem_used_bytes;
    f->mem_available_bytes = m->mem_available_bytes;
    f->cpus = m->cpus;
    size_t n = m->n_disks < RC_METRICS_DISKS_MAX ? m->n_disks : RC_METRICS_DISKS_MAX;
    /* the same disks as last time (the usual case): numbers only */
    bool same = n == f->n_disks;
    for (size_t i = 0; same && i < n; i++)
        same = streq (f->disks[i].app, m->disks[i]->app)
               && streq (f->disks[i].path, m->disks[i]->path);
    if (!same) {
        for (size_t i = 0; i < f->n_disks; i++)
            free (f->disks[i].path);
        free (f->disks);
        f->disks = n ? (rc_disk_figure_t *)calloc (n, sizeof *f->disks) : NULL;
        f->n_disks = 0;
        for (size_t i = 0; f->disks && i < n; i++) {
            const Rollclone__DiskFree *d = m->disks[i];
            if (!rc_name_valid (d->app) || strlen (d->path) > RC_METRICS_PATH_MAX
                || d->path[0] != '/' || !rc_text_is_clean (d->path) || strchr (d->path, '\n'))
                continue;
            rc_disk_figure_t *out = &f->disks[f->n_disks];
            snprintf (out->app, sizeof out->app, "%s", d->app);
            out->path = strdup (d->path);
            out->free_bytes = d->free_bytes;
            out->total_bytes = d->total_bytes;
            if (out->path)
                f->n_disks++;
        }
        /* a list with holes is made again each time (n differs): only a
           misbehaving agent sends one */
        return;
    }
    for (size_t i = 0; i < f->n_disks; i++) {
        f->disks[i].free_bytes = m->disks[i]->free_bytes;
        f->disks[i].total_bytes = m->disks[i]->total_bytes;
    }
}

void
rc_host_figures_clear (rc_host_figures_t *f)
{
    for (size_t i = 0; i < f->n_disks; i++)
        free (f->disks[i].path);
    free (f->disks);
    memset (f, 0, sizeof *f);
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

void
rc_host_figures_write (rc_expo_t *e, const char *const *ids, const rc_host_figures_t *const *figs,
                       size_t n)
{
    static const struct {
        const char *name, *help;
    } figures[] = {
        {"rollclone_host_load1", "The host's 1-minute load average."},
        {"rollclone_host_cpu_percent", "Busy share of all the host's CPUs between heartbeats."},
        {"rollclone_host_cpus", "CPUs of the host."},
        {"rollclone_host_memory_used_bytes", "Memory in use (MemTotal - MemAvailable)."},
        {"rollclone_host_memory_available_bytes", "MemAvailable of the host."},
    };
    for (size_t f = 0; f < sizeof figures / sizeof figures[0]; f++) {
        rc_expo_family (e, figures[f].name, "gauge", figures[f].help);
        for (size_t i = 0; i < n; i++) {
            const rc_host_figures_t *hf = figs[i];
            if (!hf->known)
                continue;
            double v = f == 0   ? hf->load1
                       : f == 1 ? hf->cpu_percent
                       : f == 2 ? hf->cpus
                       : f == 3 ? (double)hf->mem_used_bytes
                                : (double)hf->mem_available_bytes;
            if (!isnan (v))
                rc_expo_sample (e, figures[f].name, L ("host", ids[i]), v);
        }
    }
    for (int total = 0; total < 2; total++) {
        const char *name =
            total ? "rollclone_host_disk_total_bytes" : "rollclone_host_disk_free_bytes";
        rc_expo_family (e, name, "gauge",
                        total ? "Size of the filesystem of each app's releases_dir."
                              : "Space free to unprivileged users in each app's releases_dir.");
        for (size_t i = 0; i < n; i++)
            for (size_t d = 0; figs[i]->known && d < figs[i]->n_disks; d++) {
                const rc_disk_figure_t *disk = &figs[i]->disks[d];
                rc_expo_sample (e, name, L ("host", ids[i], "app", disk->app, "path", disk->path),
                                (double)(total ? disk->total_bytes : disk->free_bytes));
            }
    }
}
