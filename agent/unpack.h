/*  unpack.h - puts a downloaded artifact into a release directory: a tar
    (.tar, or .tar.gz/.tgz decompressed by the system's gzip in a child
    process) is read by our own streaming parser and written entry by entry,
    refusing absolute paths, `..`, device nodes, writes through symlinks and
    links that resolve outside the directory; any other artifact is placed
    as is. Non-blocking: rc_unpack_poll does a bounded slice of work. */
#ifndef AGENT_UNPACK_H
#define AGENT_UNPACK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct _rc_unpack_t rc_unpack_t;

typedef enum {
    RC_ARTIFACT_FILE, /* placed as is */
    RC_ARTIFACT_TAR,
    RC_ARTIFACT_TGZ,
} rc_artifact_kind_t;

typedef enum {
    RC_UNPACK_RUNNING,
    RC_UNPACK_DONE,
    RC_UNPACK_FAILED,
} rc_unpack_status_t;

/* The kind, from the URL's path suffix (query and fragment ignored). */
rc_artifact_kind_t rc_unpack_kind (const char *url);
/* The file name an as-is artifact gets in the release (the URL's last path
   segment when it is a valid name, else "artifact"). Caller frees. */
char *rc_unpack_file_name (const char *url);

/* Unpacks artifact (a file path) into dest, an existing empty directory.
   For RC_ARTIFACT_FILE the artifact is moved to dest/file_name. NULL with
   err when it cannot start. */
rc_unpack_t *rc_unpack_new (const char *artifact, rc_artifact_kind_t kind, const char *dest,
                            const char *file_name, char *err, size_t errlen);
void rc_unpack_destroy (rc_unpack_t **self_p);

rc_unpack_status_t rc_unpack_poll (rc_unpack_t *self);
const char *rc_unpack_errmsg (rc_unpack_t *self);

void rc_unpack_test (bool verbose);

#endif
