/*  releases.h - one app's Capistrano layout on disk:
        <dir>/releases/<version>/    one directory per installed release
        <dir>/current -> releases/<version>
    The live release is what `current` points to; every other release
    directory is a rollback point, newest first by the time it was last
    made live (its directory mtime, set at each switch). */
#ifndef AGENT_RELEASES_H
#define AGENT_RELEASES_H

#include <stdbool.h>
#include <stddef.h>

/* The live version, or NULL when there is none. Caller frees. */
char *rc_releases_current (const char *dir);

/* The version the symlink <dir>/<name> points at, or NULL. Caller frees. */
char *rc_releases_link_target (const char *dir, const char *name);

/* Points the symlink <dir>/<name> at releases/<version> atomically (new
   symlink, rename, fsync of the directory), or removes it when version is
   NULL. 0, or -1 with a reason in err. */
int rc_releases_link (const char *dir, const char *name, const char *version, char *err,
                      size_t errlen);

/* The rollback points (all releases but the live one), newest first, up to
   max into out (each caller-freed). Returns the count. */
size_t rc_releases_points (const char *dir, char **out, size_t max);

/* True when releases/<version> exists as a directory. */
bool rc_releases_exists (const char *dir, const char *version);

/* Points current at releases/<version> atomically (new symlink, rename,
   fsync of the directory), or removes current when version is NULL. Marks
   the release as just made live. Returns 0, or -1 with a reason in err. */
int rc_releases_switch (const char *dir, const char *version, char *err, size_t errlen);

/* Removes the oldest rollback points beyond keep; never the live one nor
   one a slot runs (<dir>/slot1, slot2: surge clones).
   Returns how many were removed. */
int rc_releases_prune (const char *dir, int keep);

/* rm -rf of path without following symlinks. 0 when gone. */
int rc_releases_remove_tree (const char *path);

/* Writes "<dir>/releases/<version>" into buf; -1 when it does not fit. */
int rc_releases_path (const char *dir, const char *version, char *buf, size_t len);

/* fsync of a directory, so a rename in it survives a crash. */
void rc_releases_sync_dir (const char *path);

void rc_releases_test (bool verbose);

#endif
