/*  backup.c - the online backup requested by `rollclone backup PATH`: the
    path checked, the store's copy stepped from the cron, the CLI answered
    when the copy is complete. */
#include "backup.h"
#include "rc_defaults.h"
#include "rc_log.h"
#include "rc_time.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

struct _rc_backup_t {
    rc_store_t *store; /* borrowed */
    zframe_t *waiting; /* routing id of the CLI waiting for the running backup */
    char *path;        /* where the running backup goes */
    int64_t started;   /* monotonic ms */
};

rc_backup_t *
rc_backup_new (rc_store_t *store)
{
    rc_backup_t *self = (rc_backup_t *)zmalloc (sizeof *self);
    self->store = store;
    return self;
}

void
rc_backup_destroy (rc_backup_t **self_p)
{
    if (self_p && *self_p) {
        rc_backup_t *self = *self_p;
        if (self->path)
            rc_log_warn ("backup to %s abandoned: the coordinator is stopping", self->path);
        rc_store_backup_abort (self->store);
        zframe_destroy (&self->waiting);
        free (self->path);
        free (self);
        *self_p = NULL;
    }
}

static Rollclone__ControlReply *
s_reply_error (int code, const char *fmt, ...)
{
    Rollclone__ControlReply *reply = (Rollclone__ControlReply *)zmalloc (sizeof *reply);
    rollclone__control_reply__init (reply);
    reply->code = code;
    va_list args;
    va_start (args, fmt);
    reply->error = zsys_vprintf (fmt, args);
    va_end (args);
    return reply;
}

/* Why path cannot take a backup, or NULL. */
static const char *
s_path_invalid (const char *path, char *why, size_t len)
{
    struct stat st;
    if (path[0] != '/')
        snprintf (why, len, "backup path '%s' must be absolute", path);
    else if (strlen (path) > PATH_MAX / 2)
        snprintf (why, len, "backup path is too long (%zu bytes)", strlen (path));
    else if (lstat (path, &st) == 0 || errno != ENOENT)
        snprintf (why, len, "backup path %s exists: a backup never overwrites a file", path);
    else {
        char *dir = strdup (path);
        char *slash = dir ? strrchr (dir, '/') : NULL;
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        bool isdir = dir && stat (dir, &st) == 0 && S_ISDIR (st.st_mode);
        if (!isdir)
            snprintf (why, len, "backup path %s: directory %s does not exist", path,
                      dir ? dir : "?");
        free (dir);
        if (isdir)
            return NULL;
    }
    return why;
}

Rollclone__ControlReply *
rc_backup_request (rc_backup_t *self, const Rollclone__BackupRequest *req, zframe_t *routing_id)
{
    char why[PATH_MAX + 128];
    if (self->path)
        return s_reply_error (RC_EXIT_FAILED, "a backup to %s is running; try again when it ends",
                              self->path);
    if (s_path_invalid (req->path, why, sizeof why))
        return s_reply_error (RC_EXIT_USAGE, "%s", why);
    if (rc_store_backup_begin (self->store, req->path) != 0)
        return s_reply_error (RC_EXIT_FAILED, "backup: %s", rc_store_errmsg (self->store));
    self->path = strdup (req->path);
    self->waiting = zframe_dup (routing_id);
    self->started = rc_mono_ms ();
    rc_log_info ("backup to %s started", req->path);
    return NULL;
}

Rollclone__ControlReply *
rc_backup_step (rc_backup_t *self, zframe_t **routing_id_p)
{
    *routing_id_p = NULL;
    if (!self->path)
        return NULL;
    int rc = rc_store_backup_step (self->store);
    if (rc == 0)
        return NULL;
    Rollclone__ControlReply *reply = NULL;
    int64_t took = rc_mono_ms () - self->started;
    if (rc < 0) {
        rc_log_error ("backup to %s failed: %s", self->path, rc_store_errmsg (self->store));
        reply = s_reply_error (RC_EXIT_FAILED, "backup to %s failed: %s", self->path,
                               rc_store_errmsg (self->store));
    }
    else {
        struct stat st;
        Rollclone__BackupReply *br = (Rollclone__BackupReply *)zmalloc (sizeof *br);
        rollclone__backup_reply__init (br);
        br->path = strdup (self->path);
        br->bytes = stat (self->path, &st) == 0 ? (uint64_t)st.st_size : 0;
        br->pages = (uint32_t)rc_store_backup_pages (self->store);
        br->ms = (uint64_t)took;
        reply = (Rollclone__ControlReply *)zmalloc (sizeof *reply);
        rollclone__control_reply__init (reply);
        reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_BACKUP;
        reply->backup = br;
        rc_log_info ("backup to %s done: %llu bytes in %lld ms", self->path,
                     (unsigned long long)br->bytes, (long long)took);
    }
    *routing_id_p = self->waiting;
    self->waiting = NULL;
    free (self->path);
    self->path = NULL;
    return reply;
}
