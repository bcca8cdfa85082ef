/*  unpack.c - artifact extraction with libarchive. libarchive parses the
    formats and writes the files with its SECURE_* flags on; we check every
    entry before it is written (type, name, link targets, limits), because
    its flags do not cover a hard link to a symlink or a symlink that
    resolves outside through other symlinks. */
#include "unpack.h"
#include "agent_defaults.h"
#include "rc_defaults.h"
#include "rc_ids.h"

#include <archive.h>
#include <archive_entry.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct _rc_unpack_t {
    int in;                      /* the artifact, open */
    int root;                    /* the release directory being filled */
    rc_unpack_limits_t limits;   /* resolved: no zeros */
    pthread_t thread;            /* the worker */
    bool started;                /* thread is joinable */
    atomic_bool cancel;          /* destroy asks the worker to stop */
    atomic_int status;           /* rc_unpack_status_t, set last by the worker */
    int done_fd;                 /* eventfd the worker signals after status */
    char errmsg[PATH_MAX + 256]; /* written by the worker before status */
};

char *
rc_unpack_file_name (const char *url)
{
    size_t n = strcspn (url, "?#");
    char *path = strndup (url, n);
    if (!path)
        return NULL;
    const char *slash = strrchr (path, '/');
    const char *base = slash ? slash + 1 : path;
    char *name = strdup (rc_name_valid (base) ? base : "artifact");
    free (path);
    return name;
}

/* Magic numbers of what we extract; anything else is a plain file. */
bool
rc_unpack_is_archive (int fd)
{
    static const struct {
        size_t offset;
        const char *magic;
        size_t len;
    } magics[] = {
        {0, "\x1f\x8b", 2}, /* gzip */
        {0, "BZh", 3},      /* bzip2 */
        {0,
         "\xfd"
         "7zXZ\0",
         6},                               /* xz */
        {0, "\x28\xb5\x2f\xfd", 4},        /* zstd */
        {0, "PK\x03\x04", 4},              /* zip */
        {0, "PK\x05\x06", 4},              /* empty zip */
        {RC_TAR_MAGIC_OFFSET, "ustar", 5}, /* POSIX and GNU tar */
    };
    unsigned char head[RC_TAR_MAGIC_OFFSET + 8];
    ssize_t n = pread (fd, head, sizeof head, 0);
    for (size_t i = 0; n > 0 && i < sizeof magics / sizeof magics[0]; i++)
        if ((size_t)n >= magics[i].offset + magics[i].len
            && memcmp (head + magics[i].offset, magics[i].magic, magics[i].len) == 0)
            return true;
    return false;
}

static int s_fail (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_fail (char *err, size_t errlen, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, errlen, fmt, args);
    va_end (args);
    return -1;
}

/* Normalizes an entry name into out: "." and empty parts dropped ("" is
   the release directory itself). -1 for an absolute path or "..". */
static int
s_clean (const char *name, char *out, size_t len)
{
    if (name[0] == '/')
        return -1;
    size_t o = 0;
    const char *p = name;
    while (*p) {
        size_t n = strcspn (p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return -1;
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (o + n + 2 > len)
                return -1;
            if (o)
                out[o++] = '/';
            memcpy (out + o, p, n);
            o += n;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    out[o] = '\0';
    return 0;
}

/* True when a symlink at path with this target stays inside, read as
   text. Symlinks through symlinks are caught later by s_check_links. */
static bool
s_link_inside (const char *path, const char *target)
{
    if (target[0] == '/' || !target[0])
        return false;
    int depth = 0;
    for (const char *p = path; *p; p++)
        depth += *p == '/';
    const char *p = target;
    while (*p) {
        size_t n = strcspn (p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0)
                return false;
        }
        else if (n > 0 && !(n == 1 && p[0] == '.'))
            depth++;
        p += n;
        while (*p == '/')
            p++;
    }
    return true;
}

/* True when path (clean, relative) names a regular file under root,
   reached without following any symlink: the only thing a hard link in an
   artifact may point at. */
static bool
s_regular_inside (int root, const char *path)
{
    int fd = dup (root);
    const char *p = path;
    while (fd >= 0) {
        size_t n = strcspn (p, "/");
        char part[NAME_MAX + 1];
        if (n > NAME_MAX)
            break;
        memcpy (part, p, n);
        part[n] = '\0';
        if (!p[n]) {
            struct stat st;
            bool ok = fstatat (fd, part, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
            close (fd);
            return ok;
        }
        int next = openat (fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close (fd);
        fd = next;
        p += n + 1;
    }
    if (fd >= 0)
        close (fd);
    return false;
}

typedef struct {
    char **items;
    size_t count;
} s_list_t;

static int
s_list_add (s_list_t *list, const char *text)
{
    char **bigger = realloc (list->items, (list->count + 1) * sizeof *bigger);
    if (!bigger)
        return -1;
    list->items = bigger;
    if (!(list->items[list->count] = strdup (text)))
        return -1;
    list->count++;
    return 0;
}

static void
s_list_free (s_list_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        free (list->items[i]);
    free (list->items);
}

/* At the end: every symlink made must resolve to a place inside. The
   working directory is the release directory. */
static int
s_check_links (const s_list_t *links, char *err, size_t errlen)
{
    char root[PATH_MAX], real[PATH_MAX];
    if (!realpath (".", root))
        return s_fail (err, errlen, "cannot resolve the release directory: %s", strerror (errno));
    size_t rlen = strlen (root);
    for (size_t i = 0; i < links->count; i++) {
        struct stat st;
        if (lstat (links->items[i], &st) != 0 || !S_ISLNK (st.st_mode))
            continue; /* replaced by a later entry */
        if (!realpath (links->items[i], real))
            return s_fail (err, errlen,
                           "artifact entry '%.200s': symlink does not resolve inside the release",
                           links->items[i]);
        if (strncmp (real, root, rlen) != 0 || (real[rlen] != '/' && real[rlen] != '\0'))
            return s_fail (err, errlen,
                           "artifact entry '%.200s': symlink leads outside the release",
                           links->items[i]);
    }
    return 0;
}

/* libarchive leaves its message empty for a stream that simply ends */
static const char *
s_why (struct archive *a)
{
    const char *text = archive_error_string (a);
    return text ? text : "truncated or corrupt";
}

static const char *
s_type_name (mode_t type)
{
    switch (type) {
    case AE_IFCHR: return "character device";
    case AE_IFBLK: return "block device";
    case AE_IFIFO: return "fifo";
    case AE_IFSOCK: return "socket";
    default: return "unknown type";
    }
}

typedef struct {
    struct archive *in;
    struct archive *out;
    const rc_unpack_limits_t *limits;
    int root;
    int64_t entries;
    int64_t bytes; /* file data written so far */
    s_list_t links;
    char *err;
    size_t errlen;
} s_extract_t;

/* Checks one entry and rewrites its names to their clean form. 1 = write
   it, 0 = skip it (the release directory itself), -1 = refused. */
static int
s_check_entry (s_extract_t *x, struct archive_entry *e)
{
    char path[RC_UNPACK_MAX_PATH + 2], target[RC_UNPACK_MAX_PATH + 2];
    const char *name = archive_entry_pathname (e);
    if (!name)
        return s_fail (x->err, x->errlen, "artifact entry %lld: a name that cannot be read",
                       (long long)x->entries);
    if (strlen (name) > RC_UNPACK_MAX_PATH)
        return s_fail (x->err, x->errlen,
                       "artifact entry '%.200s...': path longer than %d bytes refused", name,
                       RC_UNPACK_MAX_PATH);
    if (s_clean (name, path, sizeof path) != 0)
        return s_fail (x->err, x->errlen, "artifact entry '%.200s': absolute path or '..' refused",
                       name);
    const char *hardlink = archive_entry_hardlink (e);
    mode_t type = archive_entry_filetype (e);
    if (!path[0]) {
        if (type == AE_IFDIR && !hardlink)
            return 0; /* "./": the release directory itself */
        return s_fail (x->err, x->errlen, "artifact entry '%.200s': not a file name", name);
    }
    archive_entry_set_pathname (e, path);
    if (hardlink) {
        if (strlen (hardlink) > RC_UNPACK_MAX_PATH || s_clean (hardlink, target, sizeof target) != 0
            || !target[0])
            return s_fail (x->err, x->errlen,
                           "artifact entry '%.200s': hard link to '%.200s' refused", name,
                           hardlink);
        if (!s_regular_inside (x->root, target))
            return s_fail (x->err, x->errlen,
                           "artifact entry '%.200s': hard link to '%.200s' refused: only regular "
                           "files already unpacked (not symlinks) may be linked",
                           name, hardlink);
        archive_entry_set_hardlink (e, target);
    }
    else if (type == AE_IFLNK) {
        const char *to = archive_entry_symlink (e);
        if (!to || strlen (to) > RC_UNPACK_MAX_PATH || !s_link_inside (path, to))
            return s_fail (x->err, x->errlen,
                           "artifact entry '%.200s': symlink to '%.200s' leaves the release "
                           "directory",
                           name, to ? to : "");
        if (s_list_add (&x->links, path) != 0)
            return s_fail (x->err, x->errlen, "out of memory");
    }
    else if (type != AE_IFREG && type != AE_IFDIR)
        return s_fail (x->err, x->errlen, "artifact entry '%.200s': %s refused", name,
                       s_type_name (type));
    /* setuid, setgid and sticky bits are never taken from an artifact; the
       owner can always read and write what it unpacked */
    mode_t perm = archive_entry_perm (e) & 0777;
    archive_entry_set_perm (e, perm | (type == AE_IFDIR ? 0700 : 0600));
    /* a declared size over the limit is refused before a byte is written */
    if (type == AE_IFREG && archive_entry_size_is_set (e)
        && archive_entry_size (e) > x->limits->max_unpacked_bytes - x->bytes)
        return s_fail (x->err, x->errlen,
                       "artifact entry '%.200s': unpacks to more than max_unpacked_bytes = %lld",
                       name, (long long)x->limits->max_unpacked_bytes);
    return 1;
}

static int
s_copy_data (s_extract_t *x, const char *name, const atomic_bool *cancel)
{
    const void *buf;
    size_t len;
    la_int64_t offset;
    for (;;) {
        if (cancel && atomic_load (cancel))
            return s_fail (x->err, x->errlen, "artifact: unpacking stopped");
        int r = archive_read_data_block (x->in, &buf, &len, &offset);
        if (r == ARCHIVE_EOF)
            return 0;
        if (r != ARCHIVE_OK)
            return s_fail (x->err, x->errlen, "artifact entry '%.200s': %s", name, s_why (x->in));
        x->bytes += (int64_t)len;
        if (x->bytes > x->limits->max_unpacked_bytes)
            return s_fail (x->err, x->errlen,
                           "artifact: unpacks to more than max_unpacked_bytes = %lld",
                           (long long)x->limits->max_unpacked_bytes);
        if (x->limits->free_bytes > 0 && x->bytes > x->limits->free_bytes)
            return s_fail (x->err, x->errlen,
                           "artifact: unpacks to more than the %lld bytes free in the releases "
                           "file system",
                           (long long)x->limits->free_bytes);
        if (archive_write_data_block (x->out, buf, len, offset) != ARCHIVE_OK)
            return s_fail (x->err, x->errlen, "cannot write: %s", s_why (x->out));
    }
}

static void
s_resolve_limits (const rc_unpack_limits_t *in, rc_unpack_limits_t *out)
{
    *out = in ? *in : (rc_unpack_limits_t){0};
    if (out->max_unpacked_bytes <= 0)
        out->max_unpacked_bytes = RC_DEFAULT_MAX_UNPACKED_BYTES;
    if (out->max_entries <= 0)
        out->max_entries = RC_UNPACK_MAX_ENTRIES;
}

int
rc_unpack_extract (int fd, int root, const rc_unpack_limits_t *limits, const atomic_bool *cancel,
                   char *err, size_t errlen)
{
    rc_unpack_limits_t lim;
    s_resolve_limits (limits, &lim);
    s_extract_t x = {.limits = &lim, .root = root, .err = err, .errlen = errlen};
    int rc = -1;
    err[0] = '\0';
    /* names in pax headers are UTF-8: read them as such whatever the
       process locale is (this thread only) */
    locale_t utf8 = newlocale (LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t before = utf8 ? uselocale (utf8) : (locale_t)0;
    if (fchdir (root) != 0) {
        s_fail (err, errlen, "cannot enter the release directory: %s", strerror (errno));
        goto out;
    }
    x.in = archive_read_new ();
    x.out = archive_write_disk_new ();
    if (!x.in || !x.out) {
        s_fail (err, errlen, "out of memory");
        goto out;
    }
    /* formats and filters named one by one: no external programs */
    archive_read_support_filter_gzip (x.in);
    archive_read_support_filter_bzip2 (x.in);
    archive_read_support_filter_xz (x.in);
    archive_read_support_filter_zstd (x.in);
    archive_read_support_format_tar (x.in);
    archive_read_support_format_zip (x.in);
    archive_write_disk_set_options (
        x.out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT
                   | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
    if (lseek (fd, 0, SEEK_SET) != 0
        || archive_read_open_fd (x.in, fd, RC_UNPACK_READ_BLOCK) != ARCHIVE_OK) {
        s_fail (err, errlen, "artifact: not a valid archive: %s", s_why (x.in));
        goto out;
    }
    for (;;) {
        if (cancel && atomic_load (cancel)) {
            s_fail (err, errlen, "artifact: unpacking stopped");
            goto out;
        }
        struct archive_entry *e;
        int r = archive_read_next_header (x.in, &e);
        if (r == ARCHIVE_EOF)
            break;
        /* a warning (a malformed pax record, a bad checksum skipped) is an
           archive we do not trust either */
        if (r != ARCHIVE_OK) {
            s_fail (err, errlen, "artifact: not a valid archive (after %lld entries): %s",
                    (long long)x.entries, s_why (x.in));
            goto out;
        }
        if (++x.entries > lim.max_entries) {
            s_fail (err, errlen, "artifact: more than %lld entries", (long long)lim.max_entries);
            goto out;
        }
        int ok = s_check_entry (&x, e);
        if (ok < 0)
            goto out;
        if (ok == 0)
            continue;
        if (archive_write_header (x.out, e) != ARCHIVE_OK) {
            s_fail (err, errlen, "artifact entry '%.200s': %s", archive_entry_pathname (e),
                    s_why (x.out));
            goto out;
        }
        /* always read the data: a zip entry streamed with a data
           descriptor has no size in its header */
        if (s_copy_data (&x, archive_entry_pathname (e), cancel) != 0)
            goto out;
        if (archive_write_finish_entry (x.out) != ARCHIVE_OK) {
            s_fail (err, errlen, "artifact entry '%.200s': %s", archive_entry_pathname (e),
                    s_why (x.out));
            goto out;
        }
    }
    if (x.entries == 0) {
        s_fail (err, errlen, "artifact: an empty archive");
        goto out;
    }
    /* directory times and modes are set here, after their contents */
    if (archive_write_close (x.out) != ARCHIVE_OK) {
        s_fail (err, errlen, "cannot finish unpacking: %s", s_why (x.out));
        goto out;
    }
    if (s_check_links (&x.links, err, errlen) != 0)
        goto out;
    /* the release must be on disk before current points at it */
    if (!lim.no_sync && syncfs (root) != 0) {
        s_fail (err, errlen, "syncfs: %s", strerror (errno));
        goto out;
    }
    rc = 0;
out:
    if (x.in)
        archive_read_free (x.in);
    if (x.out)
        archive_write_free (x.out);
    s_list_free (&x.links);
    if (utf8) {
        uselocale (before);
        freelocale (utf8);
    }
    return rc;
}

/* The worker: its own working directory (unshare CLONE_FS), so that
   libarchive's relative paths start at the release and the rest of the
   process keeps its own; no signals (the main thread takes them). */
static void *
s_worker (void *arg)
{
    rc_unpack_t *self = arg;
    sigset_t all;
    sigfillset (&all);
    pthread_sigmask (SIG_BLOCK, &all, NULL);
    int rc = -1;
    if (unshare (CLONE_FS) != 0)
        s_fail (self->errmsg, sizeof self->errmsg, "unshare (CLONE_FS): %s", strerror (errno));
    else
        rc = rc_unpack_extract (self->in, self->root, &self->limits, &self->cancel, self->errmsg,
                                sizeof self->errmsg);
    atomic_store (&self->status, rc == 0 ? RC_UNPACK_DONE : RC_UNPACK_FAILED);
    /* wakes the owner's loop; a failed write only delays it to its next
       turn, where rc_unpack_poll sees the status */
    uint64_t one = 1;
    if (write (self->done_fd, &one, sizeof one) != sizeof one)
        (void)0;
    return NULL;
}

rc_unpack_t *
rc_unpack_new (const char *artifact, const char *dest, const char *file_name,
               const rc_unpack_limits_t *limits, char *err, size_t errlen)
{
    rc_unpack_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->in = self->root = -1;
    self->done_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (self->done_fd < 0) {
        snprintf (err, errlen, "eventfd: %s", strerror (errno));
        free (self);
        return NULL;
    }
    atomic_init (&self->cancel, false);
    atomic_init (&self->status, RC_UNPACK_RUNNING);
    s_resolve_limits (limits, &self->limits);
    self->root = open (dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (self->root < 0) {
        snprintf (err, errlen, "cannot open %s: %s", dest, strerror (errno));
        goto fail;
    }
    self->in = open (artifact, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (self->in < 0 || fstat (self->in, &st) != 0) {
        snprintf (err, errlen, "cannot open %s: %s", artifact, strerror (errno));
        goto fail;
    }
    if (!rc_unpack_is_archive (self->in)) {
        /* the artifact itself becomes the release: its bytes on disk
           before its name is (the download is not fsync'd, fetch.c) */
        if (fsync (self->in) != 0) {
            snprintf (err, errlen, "fsync %s: %s", artifact, strerror (errno));
            goto fail;
        }
        if (!file_name || !rc_name_valid (file_name)
            || renameat (AT_FDCWD, artifact, self->root, file_name) != 0) {
            snprintf (err, errlen, "cannot place %s into %s: %s", artifact, dest, strerror (errno));
            goto fail;
        }
        if (fsync (self->root) != 0) {
            snprintf (err, errlen, "fsync %s: %s", dest, strerror (errno));
            goto fail;
        }
        atomic_store (&self->status, RC_UNPACK_DONE);
        return self;
    }
    /* free space: the archive alone must fit, and unpacking stops before
       it leaves less than the reserve */
    struct statvfs vfs;
    if (fstatvfs (self->root, &vfs) != 0) {
        snprintf (err, errlen, "statvfs %s: %s", dest, strerror (errno));
        goto fail;
    }
    int64_t free_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize - RC_UNPACK_FREE_RESERVE;
    if (free_bytes < (int64_t)st.st_size) {
        snprintf (err, errlen,
                  "not enough free space in %s to unpack a %lld-byte artifact (%lld bytes free "
                  "beyond the %lld reserved)",
                  dest, (long long)st.st_size, (long long)(free_bytes > 0 ? free_bytes : 0),
                  (long long)RC_UNPACK_FREE_RESERVE);
        goto fail;
    }
    if (self->limits.free_bytes <= 0 || free_bytes < self->limits.free_bytes)
        self->limits.free_bytes = free_bytes;
    int rc = pthread_create (&self->thread, NULL, s_worker, self);
    if (rc != 0) {
        snprintf (err, errlen, "cannot start unpacking: %s", strerror (rc));
        goto fail;
    }
    self->started = true;
    return self;
fail:
    rc_unpack_destroy (&self);
    return NULL;
}

rc_unpack_status_t
rc_unpack_poll (rc_unpack_t *self)
{
    assert (self);
    return (rc_unpack_status_t)atomic_load (&self->status);
}

void
rc_unpack_watch (rc_unpack_t *self, rc_watch_t *w)
{
    if (atomic_load (&self->status) == RC_UNPACK_RUNNING)
        rc_watch_fd (w, self->done_fd, ZMQ_POLLIN);
    else
        rc_watch_at (w, rc_mono_ms ());
}

const char *
rc_unpack_errmsg (rc_unpack_t *self)
{
    /* only read once status is not RUNNING: the worker wrote it before */
    return atomic_load (&self->status) == RC_UNPACK_RUNNING ? "" : self->errmsg;
}

void
rc_unpack_destroy (rc_unpack_t **self_p)
{
    assert (self_p);
    rc_unpack_t *self = *self_p;
    if (!self)
        return;
    if (self->started) {
        /* the worker checks the flag between blocks: a short wait */
        atomic_store (&self->cancel, true);
        pthread_join (self->thread, NULL);
    }
    if (self->in >= 0)
        close (self->in);
    if (self->root >= 0)
        close (self->root);
    if (self->done_fd >= 0)
        close (self->done_fd);
    free (self);
    *self_p = NULL;
}
