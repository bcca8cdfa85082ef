/*  fuzz_unpack.c - libFuzzer harness: archive extraction. Each input is
    extracted into a fresh directory three levels down a private tree
    (root/a/b/t); afterwards the tree must hold nothing but t, so an entry
    that escaped by "..", an absolute path, a symlink or a hard link is
    caught, and after a success every symlink in t must resolve inside. */
#include "unpack.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char s_root[64], s_target[128], s_real[PATH_MAX];

static int
s_rm (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir (path);
    else
        unlink (path);
    return 0;
}

/* The only entry of dir is name. */
static void
s_only (const char *dir, const char *name)
{
    DIR *d = opendir (dir);
    if (!d)
        abort ();
    struct dirent *e;
    while ((e = readdir (d)))
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..") && strcmp (e->d_name, name)) {
            fprintf (stderr, "fuzz_unpack: '%s' written outside the target, in %s\n", e->d_name,
                     dir);
            abort ();
        }
    closedir (d);
}

static int
s_link_inside (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    char real[PATH_MAX];
    if (flag == FTW_SL && realpath (path, real) && (strncmp (real, s_real, strlen (s_real)) != 0)) {
        fprintf (stderr, "fuzz_unpack: symlink %s resolves to %s, outside\n", path, real);
        abort ();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_root[0]) {
        snprintf (s_root, sizeof s_root, "/tmp/rc_fuzz_unpack.%d", (int)getpid ());
        snprintf (s_target, sizeof s_target, "%s/a/b/t", s_root);
    }
    nftw (s_root, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    char path[160];
    mkdir (s_root, 0700);
    snprintf (path, sizeof path, "%s/a", s_root);
    mkdir (path, 0700);
    snprintf (path, sizeof path, "%s/a/b", s_root);
    mkdir (path, 0700);
    mkdir (s_target, 0700);
    if (!realpath (s_target, s_real))
        abort ();
    int fd = memfd_create ("artifact", MFD_CLOEXEC);
    int root = open (s_target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int cwd = open (".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || root < 0 || cwd < 0 || write (fd, data, size) != (ssize_t)size)
        abort ();
    rc_unpack_limits_t limits = {
        .max_unpacked_bytes = 1 << 20, .max_entries = 1000, .no_sync = true};
    char err[PATH_MAX + 256];
    int rc = rc_unpack_extract (fd, root, &limits, NULL, err, sizeof err);
    if (fchdir (cwd) != 0)
        abort ();
    close (cwd);
    close (root);
    close (fd);
    s_only (s_root, "a");
    snprintf (path, sizeof path, "%s/a", s_root);
    s_only (path, "b");
    snprintf (path, sizeof path, "%s/a/b", s_root);
    s_only (path, "t");
    if (rc == 0)
        nftw (s_target, s_link_inside, 16, FTW_PHYS);
    else if (!err[0])
        abort (); /* a refusal always says why */
    return 0;
}
