/*  releases.c - the release directories of one app and the atomic switch of
    `current`. A reader (the app, a web server) always sees either the old or
    the new target: rename(2) over the old symlink is atomic. */
#include "releases.h"
#include "agent_defaults.h"
#include "rc_ids.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

int
rc_releases_path (const char *dir, const char *version, char *buf, size_t len)
{
    int n = snprintf (buf, len, "%s/releases/%s", dir, version);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

char *
rc_releases_link_target (const char *dir, const char *name)
{
    char link[PATH_MAX], target[PATH_MAX];
    if (snprintf (link, sizeof link, "%s/%s", dir, name) >= (int)sizeof link)
        return NULL;
    ssize_t n = readlink (link, target, sizeof target - 1);
    if (n <= 0)
        return NULL;
    target[n] = '\0';
    /* ours are "releases/<v>"; accept an absolute one made by hand too */
    const char *slash = strrchr (target, '/');
    const char *version = slash ? slash + 1 : target;
    return rc_name_valid (version) ? strdup (version) : NULL;
}

char *
rc_releases_current (const char *dir)
{
    return rc_releases_link_target (dir, "current");
}

bool
rc_releases_exists (const char *dir, const char *version)
{
    char path[PATH_MAX];
    struct stat st;
    return rc_name_valid (version) && rc_releases_path (dir, version, path, sizeof path) == 0
           && lstat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

typedef struct {
    char *name;
    struct timespec mtime;
} s_entry_t;

static int
s_newest_first (const void *a, const void *b)
{
    const s_entry_t *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
    return strcmp (y->name, x->name);
}

/* All release directories but current, newest first. Caller frees. */
static size_t
s_list (const char *dir, s_entry_t **out)
{
    *out = NULL;
    char path[PATH_MAX];
    if (snprintf (path, sizeof path, "%s/releases", dir) >= (int)sizeof path)
        return 0;
    DIR *d = opendir (path);
    if (!d)
        return 0;
    char *current = rc_releases_current (dir);
    size_t n = 0, cap = 0;
    s_entry_t *list = NULL;
    struct dirent *e;
    while ((e = readdir (d))) {
        /* dot names are ours (work in progress) or not releases at all */
        if (e->d_name[0] == '.' || !rc_name_valid (e->d_name))
            continue;
        if (current && streq (e->d_name, current))
            continue;
        struct stat st;
        if (fstatat (dirfd (d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR (st.st_mode))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            s_entry_t *bigger = realloc (list, cap * sizeof *list);
            if (!bigger)
                break;
            list = bigger;
        }
        list[n].name = strdup (e->d_name);
        list[n].mtime = st.st_mtim;
        if (list[n].name)
            n++;
    }
    closedir (d);
    free (current);
    if (n)
        qsort (list, n, sizeof *list, s_newest_first);
    *out = list;
    return n;
}

size_t
rc_releases_points (const char *dir, char **out, size_t max)
{
    s_entry_t *list;
    size_t n = s_list (dir, &list), k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k < max)
            out[k++] = list[i].name;
        else
            free (list[i].name);
    }
    free (list);
    return k;
}

void
rc_releases_sync_dir (const char *path)
{
    int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync (fd);
        close (fd);
    }
}

int
rc_releases_link (const char *dir, const char *name, const char *version, char *err, size_t errlen)
{
    char link[PATH_MAX], tmp[PATH_MAX], target[PATH_MAX];
    if (snprintf (link, sizeof link, "%s/%s", dir, name) >= (int)sizeof link
        || snprintf (tmp, sizeof tmp, "%s/.%s.tmp-%d", dir, name, (int)getpid ())
               >= (int)sizeof tmp) {
        snprintf (err, errlen, "releases_dir too long: %s", dir);
        return -1;
    }
    if (!version) {
        if (unlink (link) != 0 && errno != ENOENT) {
            snprintf (err, errlen, "cannot remove %s: %s", link, strerror (errno));
            return -1;
        }
        rc_releases_sync_dir (dir);
        return 0;
    }
    if (!rc_releases_exists (dir, version)) {
        snprintf (err, errlen, "release %s does not exist in %s/releases", version, dir);
        return -1;
    }
    /* relative, so the tree can be moved or mounted elsewhere as a whole */
    snprintf (target, sizeof target, "releases/%s", version);
    unlink (tmp);
    if (symlink (target, tmp) != 0) {
        snprintf (err, errlen, "cannot create symlink %s: %s", tmp, strerror (errno));
        return -1;
    }
    if (rename (tmp, link) != 0) {
        snprintf (err, errlen, "cannot rename %s to %s: %s", tmp, link, strerror (errno));
        unlink (tmp);
        return -1;
    }
    rc_releases_sync_dir (dir);
    return 0;
}

int
rc_releases_switch (const char *dir, const char *version, char *err, size_t errlen)
{
    char release[PATH_MAX];
    /* "made live now": the order of rollback points */
    if (version && rc_releases_exists (dir, version)
        && rc_releases_path (dir, version, release, sizeof release) == 0)
        utimensat (AT_FDCWD, release, NULL, AT_SYMLINK_NOFOLLOW);
    return rc_releases_link (dir, "current", version, err, errlen);
}

static int
s_remove_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir (path) == 0 || errno == ENOENT ? 0 : -1;
    return unlink (path) == 0 || errno == ENOENT ? 0 : -1;
}

int
rc_releases_remove_tree (const char *path)
{
    struct stat st;
    if (lstat (path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR (st.st_mode))
        return unlink (path);
    /* a directory made read-only by a hook must still be removable */
    return nftw (path, s_remove_one, 32, FTW_DEPTH | FTW_PHYS);
}

int
rc_releases_prune (const char *dir, int keep)
{
    s_entry_t *list;
    size_t n = s_list (dir, &list);
    int removed = 0;
    /* a release a slot runs (surge clones: the warm one) stays */
    char *slot1 = rc_releases_link_target (dir, "slot1");
    char *slot2 = rc_releases_link_target (dir, "slot2");
    for (size_t i = 0; i < n; i++) {
        bool in_slot =
            (slot1 && streq (slot1, list[i].name)) || (slot2 && streq (slot2, list[i].name));
        if ((int)i >= keep && !in_slot) {
            char path[PATH_MAX];
            if (rc_releases_path (dir, list[i].name, path, sizeof path) == 0
                && rc_releases_remove_tree (path) == 0)
                removed++;
        }
        free (list[i].name);
    }
    free (list);
    free (slot1);
    free (slot2);
    return removed;
}
