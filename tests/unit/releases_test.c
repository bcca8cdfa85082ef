/*  releases_test.c - the selftest of agent/releases.c, with Check's ck_assert (moved out of
    the daemon's code, and holding under -DNDEBUG). */
#include "releases.h"
#include "agent_defaults.h"
#include "rc_ids.h"
#include "selftests.h"

#include <check.h>
#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Selftest: three releases, switches, order of rollback points, pruning. */
void
rc_releases_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_releases_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    char path[PATH_MAX], err[256];
    ck_assert (rc_releases_current (dir) == NULL);
    snprintf (path, sizeof path, "%s/releases", dir);
    ck_assert (mkdir (path, 0755) == 0);
    const char *versions[] = {"v1", "v2", "v3", "v4"};
    for (int i = 0; i < 4; i++) {
        rc_releases_path (dir, versions[i], path, sizeof path);
        ck_assert (mkdir (path, 0755) == 0);
        ck_assert (rc_releases_switch (dir, versions[i], err, sizeof err) == 0);
    }
    ck_assert (rc_releases_switch (dir, "nope", err, sizeof err) == -1 && strstr (err, "nope"));
    char *current = rc_releases_current (dir);
    ck_assert (current && streq (current, "v4"));
    free (current);
    char *points[8];
    size_t n = rc_releases_points (dir, points, 8);
    ck_assert (n == 3 && streq (points[0], "v3") && streq (points[2], "v1"));
    for (size_t i = 0; i < n; i++)
        free (points[i]);
    /* back to v2: v4 becomes the newest rollback point */
    ck_assert (rc_releases_switch (dir, "v2", err, sizeof err) == 0);
    n = rc_releases_points (dir, points, 8);
    ck_assert (n == 3 && streq (points[0], "v4") && streq (points[1], "v3"));
    for (size_t i = 0; i < n; i++)
        free (points[i]);
    /* a slot's release is never pruned */
    ck_assert (rc_releases_link (dir, "slot2", "v1", err, sizeof err) == 0);
    char *slot = rc_releases_link_target (dir, "slot2");
    ck_assert (slot && streq (slot, "v1"));
    free (slot);
    ck_assert (rc_releases_prune (dir, 1) == 1);
    ck_assert (rc_releases_link (dir, "slot2", NULL, err, sizeof err) == 0);
    ck_assert (rc_releases_link_target (dir, "slot2") == NULL);
    ck_assert (rc_releases_prune (dir, 1) == 1);
    n = rc_releases_points (dir, points, 8);
    ck_assert (n == 1 && streq (points[0], "v4"));
    free (points[0]);
    ck_assert (rc_releases_exists (dir, "v2") && !rc_releases_exists (dir, "v1"));
    ck_assert (rc_releases_switch (dir, NULL, err, sizeof err) == 0);
    ck_assert (rc_releases_current (dir) == NULL);
    ck_assert (rc_releases_remove_tree (dir) == 0);
}
