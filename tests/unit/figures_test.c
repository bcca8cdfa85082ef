/*  figures_test.c - what the agent samples of its host (agent/figures.c)
    and what the coordinator keeps of it (rc_host_figures_set): real
    /proc and statvfs figures, a releases_dir not made yet measured on its
    parent's filesystem, and hostile entries left out. */
#include "figures.h"
#include "metrics.h"
#include "selftests.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
rc_figures_test (bool verbose)
{
    (void)verbose;
    rc_app_config_t apps[2] = {{.name = (char *)"web", .releases_dir = (char *)"/tmp"},
                               {.name = (char *)"api", .releases_dir = (char *)"/tmp/no/such/dir"}};
    rc_config_t cfg = {.apps = apps, .app_count = 2};
    rc_figures_t *figures = rc_figures_new (&cfg);
    ck_assert_ptr_nonnull (figures);
    ck_assert_ptr_null (rc_figures_last (figures));
    const Rollclone__HostMetrics *m = rc_figures_sample (figures);
    m = rc_figures_sample (figures);
    ck_assert_ptr_eq (m, rc_figures_last (figures));
    ck_assert_uint_eq (m->cpus, (unsigned)sysconf (_SC_NPROCESSORS_ONLN));
    ck_assert (m->mem_available_bytes > 0 && m->mem_used_bytes > 0);
    ck_assert (m->cpu_percent >= 0 && m->cpu_percent <= 100);
    ck_assert (m->load1 >= 0);
    ck_assert_uint_eq (m->n_disks, 2);
    ck_assert_str_eq (m->disks[1]->app, "api");
    ck_assert_str_eq (m->disks[1]->path, "/tmp/no/such/dir");
    ck_assert (m->disks[0]->total_bytes > 0 && m->disks[0]->free_bytes <= m->disks[0]->total_bytes);
    ck_assert_uint_eq (m->disks[1]->total_bytes, m->disks[0]->total_bytes);

    /* the coordinator's copy: taken, then updated in place */
    rc_host_figures_t kept = {0};
    rc_host_figures_set (&kept, m);
    ck_assert (kept.known && kept.n_disks == 2 && kept.cpus == m->cpus);
    ck_assert_str_eq (kept.disks[1].path, "/tmp/no/such/dir");
    rc_disk_figure_t *disks = kept.disks;
    rc_host_figures_set (&kept, rc_figures_sample (figures));
    ck_assert_ptr_eq (kept.disks, disks);

    /* hostile: NaN load, 300 % CPU, a relative path, a bad app name */
    Rollclone__DiskFree bad_path = ROLLCLONE__DISK_FREE__INIT, bad_app = ROLLCLONE__DISK_FREE__INIT,
                        good = ROLLCLONE__DISK_FREE__INIT;
    bad_path.app = (char *)"web";
    bad_path.path = (char *)"relative/dir";
    bad_app.app = (char *)"../x";
    bad_app.path = (char *)"/srv";
    good.app = (char *)"web";
    good.path = (char *)"/srv/\"web\"";
    good.free_bytes = 5;
    Rollclone__DiskFree *list[] = {&bad_path, &bad_app, &good};
    Rollclone__HostMetrics hostile = ROLLCLONE__HOST_METRICS__INIT;
    hostile.load1 = NAN;
    hostile.cpu_percent = 300;
    hostile.disks = list;
    hostile.n_disks = 3;
    rc_host_figures_set (&kept, &hostile);
    ck_assert (isnan (kept.load1) && isnan (kept.cpu_percent));
    ck_assert_uint_eq (kept.n_disks, 1);
    ck_assert_str_eq (kept.disks[0].path, "/srv/\"web\"");
    ck_assert_uint_eq (kept.disks[0].free_bytes, 5);
    rc_host_figures_set (&kept, NULL);
    ck_assert (!kept.known);
    rc_host_figures_clear (&kept);
    rc_figures_destroy (&figures);
    rc_figures_destroy (&figures);
}
