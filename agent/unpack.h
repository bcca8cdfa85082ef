/*  unpack.h - puts a downloaded artifact into a release directory. What it
    is comes from its first bytes, not its URL: a tar (plain, gzip, xz, zstd
    or bzip2) or a zip is extracted with libarchive under our own rules (no
    absolute paths, no `..`, no devices or fifos, no write through a
    symlink, every link resolving inside the release, no setuid/setgid
    bits, bounded entries, bytes and path length); any other file is placed
    as is. Extraction runs in a worker thread that signals an eventfd when
    it ends, so the executor's loop sleeps until then; destroy stops it
    between two blocks. */
#ifndef AGENT_UNPACK_H
#define AGENT_UNPACK_H

#include "watch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct _rc_unpack_t rc_unpack_t;

typedef enum {
    RC_UNPACK_RUNNING,
    RC_UNPACK_DONE,
    RC_UNPACK_FAILED,
} rc_unpack_status_t;

typedef struct {
    int64_t max_unpacked_bytes; /* file bytes written, all entries; <= 0: default */
    int64_t max_entries;        /* <= 0: RC_UNPACK_MAX_ENTRIES */
    int64_t free_bytes;         /* the file system may be filled up to here; <= 0: no bound */
    bool no_sync;               /* skip the final syncfs (fuzzer, bench) */
} rc_unpack_limits_t;

/* The file name an as-is artifact gets in the release (the URL's last path
   segment when it is a valid name, else "artifact"). Caller frees. */
char *rc_unpack_file_name (const char *url);

/* True when the file at fd starts like an archive we extract (tar,
   compressed tar, zip); false for anything else (placed as is). */
bool rc_unpack_is_archive (int fd);

/* Unpacks artifact (a file path) into dest, an existing empty directory:
   an archive is extracted by a worker thread, anything else is moved to
   dest/file_name. limits may be NULL (defaults). Checks the free space of
   dest's file system first. NULL with err when it cannot start. */
rc_unpack_t *rc_unpack_new (const char *artifact, const char *dest, const char *file_name,
                            const rc_unpack_limits_t *limits, char *err, size_t errlen);
/* Kills a running extraction; dest is then the caller's to remove. */
void rc_unpack_destroy (rc_unpack_t **self_p);

/* Never blocks: says whether the extraction has ended. */
rc_unpack_status_t rc_unpack_poll (rc_unpack_t *self);
/* The worker's end (an eventfd), or at once when it has ended. */
void rc_unpack_watch (rc_unpack_t *self, rc_watch_t *w);
const char *rc_unpack_errmsg (rc_unpack_t *self);

/* The extraction itself, synchronous: the archive read from fd into the
   directory root (an fd). Changes the calling thread's working directory
   (the worker has its own, see unpack.c). Stops early when *cancel becomes
   true (cancel may be NULL). Flushes the file system (syncfs) when done.
   0, or -1 with a one-line reason in err. */
int rc_unpack_extract (int fd, int root, const rc_unpack_limits_t *limits,
                       const atomic_bool *cancel, char *err, size_t errlen);

void rc_unpack_test (bool verbose);

#endif
