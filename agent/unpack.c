/*  unpack.c - a push parser for ustar/GNU/pax tar streams that writes each
    entry itself. Writing ourselves (instead of running tar) means the rules
    checked are the rules applied: every path is walked from the release
    directory with O_NOFOLLOW, so no entry can be written through a symlink,
    and every symlink made is resolved at the end and must stay inside. */
#include "unpack.h"
#include "agent_defaults.h"
#include "child.h"
#include "rc_ids.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_BLOCK 512

typedef enum {
    S_HEADER, /* collecting a 512-byte header */
    S_DATA,   /* writing a file's bytes */
    S_META,   /* collecting a pax or GNU long-name record */
    S_PAD,    /* skipping padding up to the next block */
    S_END,    /* two zero blocks seen: the rest is ignored */
} s_state_t;

struct _rc_unpack_t {
    rc_artifact_kind_t kind;
    char *dest;                /* release directory path */
    int root;                  /* its fd: every entry is made relative to it */
    int in;                    /* artifact fd (.tar) */
    rc_child_t *gzip;          /* decompressor (.tgz) */
    bool eof;                  /* no more input */
    rc_unpack_status_t status; /* sticky once not RUNNING */
    s_state_t state;
    unsigned char block[S_BLOCK]; /* header being collected */
    size_t block_len;
    int zero_blocks;    /* consecutive zero blocks */
    uint64_t remaining; /* bytes left in DATA or META */
    uint64_t pad;       /* bytes left in PAD */
    int out;            /* file being written in DATA */
    char meta_type;     /* 'x', 'g', 'L' or 'K' in META */
    char *meta;         /* META record */
    size_t meta_len;
    char *long_name;  /* from 'L' or pax path, for the next entry */
    char *long_link;  /* from 'K' or pax linkpath */
    int64_t pax_size; /* from pax size, or -1 */
    uint64_t total;   /* bytes of tar stream seen */
    size_t entries;
    char **links; /* symlinks made, checked at the end */
    size_t link_count;
    char errmsg[PATH_MAX + 256];
};

rc_artifact_kind_t
rc_unpack_kind (const char *url)
{
    size_t n = strcspn (url, "?#");
    struct {
        const char *suffix;
        rc_artifact_kind_t kind;
    } table[] = {
        {".tar.gz", RC_ARTIFACT_TGZ}, {".tgz", RC_ARTIFACT_TGZ}, {".tar", RC_ARTIFACT_TAR}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        size_t k = strlen (table[i].suffix);
        if (n >= k && strncmp (url + n - k, table[i].suffix, k) == 0)
            return table[i].kind;
    }
    return RC_ARTIFACT_FILE;
}

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

static void s_fail (rc_unpack_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_fail (rc_unpack_t *self, const char *fmt, ...)
{
    if (self->status == RC_UNPACK_FAILED)
        return; /* the first reason is the one that matters */
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->errmsg, sizeof self->errmsg, fmt, args);
    va_end (args);
    self->status = RC_UNPACK_FAILED;
}

/* Normalizes an entry name: no absolute path, no "..", "." and empty parts
   dropped. Writes the result ("" = the release dir itself) into out. */
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

/* True when target, relative to the directory of path, stays inside. */
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

/* Opens the parent directory of path, walking from root without following
   any symlink, making missing directories when create. Sets *leaf. */
static int
s_parent (rc_unpack_t *self, const char *path, bool create, const char **leaf)
{
    int fd = dup (self->root);
    const char *p = path;
    while (fd >= 0) {
        size_t n = strcspn (p, "/");
        if (!p[n]) {
            *leaf = p;
            return fd;
        }
        char part[NAME_MAX + 1];
        if (n > NAME_MAX) {
            close (fd);
            return -1;
        }
        memcpy (part, p, n);
        part[n] = '\0';
        int next = openat (fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create && mkdirat (fd, part, 0755) == 0)
            next = openat (fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close (fd);
        fd = next;
        p += n + 1;
    }
    return -1;
}

static uint64_t
s_octal (const unsigned char *field, size_t len, bool *ok)
{
    /* GNU base-256 for values that do not fit the octal field */
    if (field[0] & 0x80) {
        uint64_t v = field[0] & 0x7f;
        for (size_t i = 1; i < len; i++) {
            if (v >> 55) {
                *ok = false;
                return 0;
            }
            v = (v << 8) | field[i];
        }
        return v;
    }
    uint64_t v = 0;
    size_t i = 0;
    while (i < len && field[i] == ' ')
        i++;
    for (; i < len && field[i] >= '0' && field[i] <= '7'; i++) {
        if (v >> 60) {
            *ok = false;
            return 0;
        }
        v = v * 8 + (uint64_t)(field[i] - '0');
    }
    if (i < len && field[i] != '\0' && field[i] != ' ')
        *ok = false;
    return v;
}

static void
s_field (const unsigned char *field, size_t len, char *out)
{
    memcpy (out, field, len);
    out[len] = '\0';
}

/* Applies a pax record ("%d key=value\n"...) to the next entry. */
static void
s_apply_pax (rc_unpack_t *self)
{
    const char *p = self->meta, *end = self->meta + self->meta_len;
    while (p < end) {
        char *rest;
        unsigned long len = strtoul (p, &rest, 10);
        if (len == 0 || rest == p || *rest != ' ' || len > (size_t)(end - p)) {
            s_fail (self, "artifact: malformed pax header");
            return;
        }
        const char *key = rest + 1, *rec_end = p + len;
        const char *eq = memchr (key, '=', (size_t)(rec_end - key));
        if (!eq || rec_end[-1] != '\n') {
            s_fail (self, "artifact: malformed pax header");
            return;
        }
        size_t keylen = (size_t)(eq - key);
        char *value = strndup (eq + 1, (size_t)(rec_end - 1 - (eq + 1)));
        if (!value) {
            s_fail (self, "out of memory");
            return;
        }
        if (self->meta_type == 'x' && keylen == 4 && strncmp (key, "path", 4) == 0) {
            free (self->long_name);
            self->long_name = value;
        }
        else if (self->meta_type == 'x' && keylen == 8 && strncmp (key, "linkpath", 8) == 0) {
            free (self->long_link);
            self->long_link = value;
        }
        else {
            if (self->meta_type == 'x' && keylen == 4 && strncmp (key, "size", 4) == 0)
                self->pax_size = strtoll (value, NULL, 10);
            free (value);
        }
        p = rec_end;
    }
}

static void
s_end_meta (rc_unpack_t *self)
{
    self->meta[self->meta_len] = '\0';
    if (self->meta_type == 'L') {
        free (self->long_name);
        self->long_name = strdup (self->meta);
    }
    else if (self->meta_type == 'K') {
        free (self->long_link);
        self->long_link = strdup (self->meta);
    }
    else
        s_apply_pax (self);
    free (self->meta);
    self->meta = NULL;
}

static void
s_entry (rc_unpack_t *self, char type, const char *name, const char *linkname, unsigned mode,
         uint64_t size)
{
    char path[PATH_MAX], target[PATH_MAX];
    const char *leaf;
    if (++self->entries > RC_UNPACK_MAX_ENTRIES) {
        s_fail (self, "artifact: more than %d entries", RC_UNPACK_MAX_ENTRIES);
        return;
    }
    if (s_clean (name, path, sizeof path) != 0) {
        s_fail (self, "artifact entry '%.200s': absolute path or '..' refused", name);
        return;
    }
    if (!path[0]) {
        if (type == '5')
            return; /* "./": the release directory itself */
        s_fail (self, "artifact entry '%.200s': not a file name", name);
        return;
    }
    int dir = s_parent (self, path, true, &leaf);
    if (dir < 0) {
        s_fail (self,
                "artifact entry '%.200s': cannot make its directory (a symlink or a file "
                "is in the way): %s",
                name, strerror (errno));
        return;
    }
    /* setuid, setgid and sticky bits are never taken from an artifact */
    mode &= 0777;
    struct stat st;
    bool exists = fstatat (dir, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !(type == '5' && S_ISDIR (st.st_mode))) {
        /* a later entry with the same name replaces the earlier one, as tar
           does; unlinkat never follows a symlink */
        if (unlinkat (dir, leaf, S_ISDIR (st.st_mode) ? AT_REMOVEDIR : 0) != 0) {
            s_fail (self, "artifact entry '%.200s': cannot replace: %s", name, strerror (errno));
            goto out;
        }
    }
    switch (type) {
    case '5':
        if (!(exists && S_ISDIR (st.st_mode)) && mkdirat (dir, leaf, mode | 0700) != 0)
            s_fail (self, "artifact entry '%.200s': %s", name, strerror (errno));
        break;
    case '0':
    case '\0':
    case '7':
        self->out =
            openat (dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode | 0600);
        if (self->out < 0)
            s_fail (self, "artifact entry '%.200s': %s", name, strerror (errno));
        else
            fchmod (self->out, mode | 0600);
        (void)size;
        break;
    case '2':
        if (!s_link_inside (path, linkname)) {
            s_fail (self,
                    "artifact entry '%.200s': symlink to '%.200s' leaves the release "
                    "directory",
                    name, linkname);
            break;
        }
        if (symlinkat (linkname, dir, leaf) != 0) {
            s_fail (self, "artifact entry '%.200s': %s", name, strerror (errno));
            break;
        }
        char **bigger = realloc (self->links, (self->link_count + 1) * sizeof *bigger);
        if (!bigger || !(bigger[self->link_count] = strdup (path))) {
            self->links = bigger ? bigger : self->links;
            s_fail (self, "out of memory");
            break;
        }
        self->links = bigger;
        self->link_count++;
        break;
    case '1': {
        const char *tleaf;
        if (s_clean (linkname, target, sizeof target) != 0 || !target[0]) {
            s_fail (self, "artifact entry '%.200s': hard link to '%.200s' refused", name, linkname);
            break;
        }
        int tdir = s_parent (self, target, false, &tleaf);
        if (tdir < 0 || linkat (tdir, tleaf, dir, leaf, 0) != 0)
            s_fail (self, "artifact entry '%.200s': hard link to '%.200s': %s", name, linkname,
                    strerror (errno));
        if (tdir >= 0)
            close (tdir);
        break;
    }
    default:
        s_fail (self, "artifact entry '%.200s': type '%c' (device, fifo, sparse...) refused", name,
                type > ' ' ? type : '?');
    }
out:
    close (dir);
}

static void
s_header (rc_unpack_t *self)
{
    const unsigned char *h = self->block;
    bool zero = true;
    for (size_t i = 0; i < S_BLOCK && zero; i++)
        zero = h[i] == 0;
    if (zero) {
        if (++self->zero_blocks == 2)
            self->state = S_END;
        return;
    }
    self->zero_blocks = 0;
    bool ok = true;
    uint64_t sum = s_octal (h + 148, 8, &ok), check = 0;
    for (size_t i = 0; i < S_BLOCK; i++)
        check += (i >= 148 && i < 156) ? ' ' : h[i];
    if (!ok || sum != check || memcmp (h + 257, "ustar", 5) != 0) {
        s_fail (self, "artifact: not a tar archive (or a corrupt header) after %llu bytes",
                (unsigned long long)self->total);
        return;
    }
    char type = (char)h[156];
    unsigned mode = (unsigned)s_octal (h + 100, 8, &ok);
    uint64_t size = s_octal (h + 124, 12, &ok);
    if (!ok) {
        s_fail (self, "artifact: bad number in a tar header");
        return;
    }
    if (self->pax_size >= 0 && type != 'x' && type != 'g')
        size = (uint64_t)self->pax_size;
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
        if (size > RC_UNPACK_MAX_META_BYTES) {
            s_fail (self, "artifact: tar metadata record of %llu bytes refused",
                    (unsigned long long)size);
            return;
        }
        self->meta = malloc (size + 1);
        if (!self->meta) {
            s_fail (self, "out of memory");
            return;
        }
        self->meta_len = 0;
        self->meta_type = type;
        self->remaining = size;
        self->pad = (S_BLOCK - size % S_BLOCK) % S_BLOCK;
        self->state = S_META;
        if (size == 0) {
            s_end_meta (self);
            self->state = S_PAD;
        }
        return;
    }
    char name[PATH_MAX], linkname[PATH_MAX], field[256];
    if (self->long_name)
        snprintf (name, sizeof name, "%s", self->long_name);
    else {
        s_field (h, 100, field);
        char prefix[160];
        /* only POSIX ustar has a prefix; GNU keeps times there */
        if (memcmp (h + 257, "ustar\0", 6) == 0 && h[345]) {
            s_field (h + 345, 155, prefix);
            snprintf (name, sizeof name, "%s/%s", prefix, field);
        }
        else
            snprintf (name, sizeof name, "%s", field);
    }
    if (self->long_link)
        snprintf (linkname, sizeof linkname, "%s", self->long_link);
    else {
        s_field (h + 157, 100, field);
        snprintf (linkname, sizeof linkname, "%s", field);
    }
    free (self->long_name);
    free (self->long_link);
    self->long_name = self->long_link = NULL;
    self->pax_size = -1;
    /* only regular files carry data; links and dirs may claim a size */
    bool data = type == '0' || type == '\0' || type == '7';
    self->out = -1;
    s_entry (self, type, name, linkname, mode, size);
    if (self->status == RC_UNPACK_FAILED)
        return;
    self->remaining = data ? size : 0;
    self->pad = data ? (S_BLOCK - size % S_BLOCK) % S_BLOCK : 0;
    self->state = self->remaining ? S_DATA : S_PAD;
    if (!data && type != '5' && type != '2' && type != '1')
        self->state = S_PAD;
    if (self->state == S_PAD && self->out >= 0) {
        close (self->out);
        self->out = -1;
    }
}

/* Feeds len bytes of tar stream. */
static void
s_feed (rc_unpack_t *self, const unsigned char *buf, size_t len)
{
    self->total += len;
    if (self->total > (uint64_t)RC_UNPACK_MAX_BYTES) {
        s_fail (self, "artifact: unpacks to more than %lld bytes", (long long)RC_UNPACK_MAX_BYTES);
        return;
    }
    while (len > 0 && self->status == RC_UNPACK_RUNNING) {
        size_t take;
        switch (self->state) {
        case S_HEADER:
            take = S_BLOCK - self->block_len;
            take = take < len ? take : len;
            memcpy (self->block + self->block_len, buf, take);
            self->block_len += take;
            if (self->block_len == S_BLOCK) {
                self->block_len = 0;
                s_header (self);
            }
            break;
        case S_DATA:
            take = self->remaining < len ? (size_t)self->remaining : len;
            for (size_t done = 0; done < take;) {
                ssize_t n = write (self->out, buf + done, take - done);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0) {
                    s_fail (self, "cannot write into %s: %s", self->dest, strerror (errno));
                    break;
                }
                done += (size_t)n;
            }
            self->remaining -= take;
            if (!self->remaining) {
                close (self->out);
                self->out = -1;
                self->state = S_PAD;
            }
            break;
        case S_META:
            take = self->remaining < len ? (size_t)self->remaining : len;
            memcpy (self->meta + self->meta_len, buf, take);
            self->meta_len += take;
            self->remaining -= take;
            if (!self->remaining) {
                s_end_meta (self);
                self->state = S_PAD;
            }
            break;
        case S_PAD:
            take = self->pad < len ? (size_t)self->pad : len;
            self->pad -= take;
            if (!self->pad)
                self->state = S_HEADER;
            break;
        case S_END:
        default: take = len; break;
        }
        buf += take;
        len -= take;
    }
}

/* At the end: every symlink must resolve to a place inside the release. */
static void
s_check_links (rc_unpack_t *self)
{
    char root[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
    if (!realpath (self->dest, root)) {
        s_fail (self, "cannot resolve %s: %s", self->dest, strerror (errno));
        return;
    }
    size_t rlen = strlen (root);
    for (size_t i = 0; i < self->link_count && self->status == RC_UNPACK_RUNNING; i++) {
        snprintf (path, sizeof path, "%s/%s", root, self->links[i]);
        if (!realpath (path, real))
            s_fail (self, "artifact entry '%.200s': symlink does not resolve inside the release",
                    self->links[i]);
        else if (strncmp (real, root, rlen) != 0 || (real[rlen] != '/' && real[rlen] != '\0'))
            s_fail (self, "artifact entry '%.200s': symlink leads outside the release",
                    self->links[i]);
    }
}

rc_unpack_t *
rc_unpack_new (const char *artifact, rc_artifact_kind_t kind, const char *dest,
               const char *file_name, char *err, size_t errlen)
{
    rc_unpack_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->kind = kind;
    self->in = self->root = self->out = -1;
    self->pax_size = -1;
    self->status = RC_UNPACK_RUNNING;
    self->dest = strdup (dest);
    self->root = open (dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (!self->dest || self->root < 0) {
        snprintf (err, errlen, "cannot open %s: %s", dest, strerror (errno));
        goto fail;
    }
    if (kind == RC_ARTIFACT_FILE) {
        if (!file_name || !rc_name_valid (file_name)
            || renameat (AT_FDCWD, artifact, self->root, file_name) != 0) {
            snprintf (err, errlen, "cannot place %s into %s: %s", artifact, dest, strerror (errno));
            goto fail;
        }
        self->status = RC_UNPACK_DONE;
        return self;
    }
    self->in = open (artifact, O_RDONLY | O_CLOEXEC);
    if (self->in < 0) {
        snprintf (err, errlen, "cannot open %s: %s", artifact, strerror (errno));
        goto fail;
    }
    if (kind == RC_ARTIFACT_TGZ) {
        const char *argv[] = {RC_GZIP_PATH, "-dc", NULL};
        rc_child_opts_t opts = {.argv = argv, .stdin_fd = self->in, .stdout_data = true};
        self->gzip = rc_child_new (&opts, err, errlen);
        if (!self->gzip)
            goto fail;
        close (self->in);
        self->in = -1;
    }
    return self;
fail:
    rc_unpack_destroy (&self);
    return NULL;
}

rc_unpack_status_t
rc_unpack_poll (rc_unpack_t *self)
{
    assert (self);
    if (self->status != RC_UNPACK_RUNNING)
        return self->status;
    unsigned char buf[65536];
    size_t budget = RC_UNPACK_BYTES_PER_TICK;
    int fd = self->gzip ? rc_child_data_fd (self->gzip) : self->in;
    while (!self->eof && budget > 0 && self->status == RC_UNPACK_RUNNING) {
        ssize_t n = read (fd, buf, sizeof buf);
        if (n > 0) {
            s_feed (self, buf, (size_t)n);
            budget -= (size_t)n < budget ? (size_t)n : budget;
        }
        else if (n == 0)
            self->eof = true;
        else if (errno == EINTR)
            continue;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        else {
            s_fail (self, "cannot read the artifact: %s", strerror (errno));
            break;
        }
    }
    if (self->status != RC_UNPACK_RUNNING || !self->eof)
        return self->status;
    if (self->gzip) {
        if (!rc_child_poll (self->gzip))
            return self->status;
        if (rc_child_exit_code (self->gzip) != 0) {
            s_fail (self, "artifact: gzip failed (exit %d): %.300s",
                    rc_child_exit_code (self->gzip), rc_child_output (self->gzip));
            return self->status;
        }
    }
    if (self->entries == 0) {
        s_fail (self, "artifact: not a tar archive, or an empty one");
        return self->status;
    }
    if (self->state != S_END && !(self->state == S_HEADER && self->block_len == 0)) {
        s_fail (self, "artifact: truncated tar archive");
        return self->status;
    }
    s_check_links (self);
    if (self->status == RC_UNPACK_RUNNING) {
        fsync (self->root);
        self->status = RC_UNPACK_DONE;
    }
    return self->status;
}

const char *
rc_unpack_errmsg (rc_unpack_t *self)
{
    return self->errmsg;
}

void
rc_unpack_destroy (rc_unpack_t **self_p)
{
    assert (self_p);
    rc_unpack_t *self = *self_p;
    if (!self)
        return;
    rc_child_destroy (&self->gzip);
    if (self->in >= 0)
        close (self->in);
    if (self->out >= 0)
        close (self->out);
    if (self->root >= 0)
        close (self->root);
    for (size_t i = 0; i < self->link_count; i++)
        free (self->links[i]);
    free (self->links);
    free (self->meta);
    free (self->long_name);
    free (self->long_link);
    free (self->dest);
    free (self);
    *self_p = NULL;
}

/* Selftest: tarballs made by tar(1), good and hostile. */
static int
s_sh (const char *script, const char *dir)
{
    char cmd[2048];
    snprintf (cmd, sizeof cmd, "cd '%s' && %s", dir, script);
    return system (cmd);
}

static rc_unpack_status_t
s_unpack (const char *dir, const char *artifact, rc_artifact_kind_t kind, char *err, size_t len)
{
    char path[512], dest[512];
    snprintf (path, sizeof path, "%s/%s", dir, artifact);
    snprintf (dest, sizeof dest, "%s/out", dir);
    s_sh ("rm -rf out && mkdir out", dir);
    rc_unpack_t *u = rc_unpack_new (path, kind, dest, "file.bin", err, len);
    assert (u);
    rc_unpack_status_t st;
    while ((st = rc_unpack_poll (u)) == RC_UNPACK_RUNNING)
        usleep (1000);
    snprintf (err, len, "%s", rc_unpack_errmsg (u));
    rc_unpack_destroy (&u);
    return st;
}

void
rc_unpack_test (bool verbose)
{
    char dir[] = "/tmp/rc_unpack_test.XXXXXX";
    assert (mkdtemp (dir));
    char err[PATH_MAX + 256], path[512];
    assert (rc_unpack_kind ("http://h/a/app-1.tar.gz?x=1") == RC_ARTIFACT_TGZ);
    assert (rc_unpack_kind ("file:///a.tgz") == RC_ARTIFACT_TGZ);
    assert (rc_unpack_kind ("file:///a.tar") == RC_ARTIFACT_TAR);
    assert (rc_unpack_kind ("file:///a.jar") == RC_ARTIFACT_FILE);
    char *name = rc_unpack_file_name ("https://h/x/app.jar?sig=1");
    assert (name && strcmp (name, "app.jar") == 0);
    free (name);

    /* a good tree: dirs, a long name, an inside symlink, a hard link */
    assert (s_sh ("L=$(printf 'a%.0s' $(seq 120)) && mkdir -p src/bin src/$L && "
                  "echo hi > src/bin/run && ln -s bin/run src/link && ln src/bin/run src/hard && "
                  "echo deep > src/$L/f && "
                  "tar -czf good.tgz -C src . && tar -cf good.tar -C src . && "
                  "tar --format=pax -cf pax.tar -C src .",
                  dir)
            == 0);
    assert (s_unpack (dir, "good.tgz", RC_ARTIFACT_TGZ, err, sizeof err) == RC_UNPACK_DONE);
    snprintf (path, sizeof path, "%s/out/link", dir);
    char buf[16] = "";
    FILE *f = fopen (path, "r");
    assert (f && fgets (buf, sizeof buf, f) && strcmp (buf, "hi\n") == 0);
    fclose (f);
    assert (s_unpack (dir, "good.tar", RC_ARTIFACT_TAR, err, sizeof err) == RC_UNPACK_DONE);
    assert (s_unpack (dir, "pax.tar", RC_ARTIFACT_TAR, err, sizeof err) == RC_UNPACK_DONE);

    /* hostile: "..", absolute paths, symlinks out, writes through symlinks */
    struct {
        const char *make;
        const char *why;
    } bad[] = {
        {"rm -rf e && mkdir -p e/d && echo x > e/x && "
         "tar -cf bad.tar -C e/d --absolute-names ../x",
         "'..'"},
        {"echo x > /tmp/rc_unpack_abs_$$ && tar -cPf bad.tar /tmp/rc_unpack_abs_$$ "
         "&& rm -f /tmp/rc_unpack_abs_$$",
         "absolute"},
        {"rm -rf e && mkdir e && ln -s /etc e/out && tar -cf bad.tar -C e out", "leaves"},
        {"rm -rf e && mkdir -p e/a && ln -s . e/a/s && ln -s a/s/../.. e/up && "
         "tar -cf bad.tar -C e a up",
         "outside"},
        {"rm -rf e f && mkdir e f && ln -s ../../ e/dir && mkdir -p f/dir && "
         "echo x > f/dir/x && tar -cf bad.tar -C e dir && tar -rf bad.tar -C f dir/x",
         "leaves"},
        {"rm -rf e f && mkdir e f && ln -s . e/dir && mkdir -p f/dir && "
         "echo x > f/dir/x && tar -cf bad.tar -C e dir && tar -rf bad.tar -C f dir/x",
         "symlink or a file"},
        {"head -c 1000 good.tar > bad.tar", "truncated"},
        {"echo not a tarball > bad.tar", "not a tar"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert (s_sh (bad[i].make, dir) == 0);
        rc_unpack_status_t st = s_unpack (dir, "bad.tar", RC_ARTIFACT_TAR, err, sizeof err);
        if (verbose || st != RC_UNPACK_FAILED || !strstr (err, bad[i].why))
            fprintf (stderr, "unpack bad %zu: %s\n", i, err);
        assert (st == RC_UNPACK_FAILED && strstr (err, bad[i].why));
    }
    /* a corrupt gzip stream fails in gzip */
    assert (s_sh ("echo garbage > bad.tgz", dir) == 0);
    assert (s_unpack (dir, "bad.tgz", RC_ARTIFACT_TGZ, err, sizeof err) == RC_UNPACK_FAILED);
    assert (strstr (err, "gzip"));
    /* anything else is placed as is */
    assert (s_sh ("echo jar > app.jar", dir) == 0);
    assert (s_unpack (dir, "app.jar", RC_ARTIFACT_FILE, err, sizeof err) == RC_UNPACK_DONE);
    snprintf (path, sizeof path, "%s/out/file.bin", dir);
    assert (access (path, F_OK) == 0);
    s_sh ("rm -rf ../$(basename \"$PWD\")", dir);
}
