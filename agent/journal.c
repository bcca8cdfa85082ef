/*  journal.c - durable step records in plain files: write a temp file,
    fsync it, rename it over the old one, fsync the directory. A reader sees
    the old record or the new one, never half of one. */
#include "journal.h"
#include "agent_defaults.h"
#include "rc_ids.h"
#include "rc_log.h"

#include <jansson.h>

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct _rc_journal_t {
    char *dir;                   /* state_dir */
    char errmsg[PATH_MAX + 256]; /* last error */
};

static int
s_mkdir (const char *path)
{
    return mkdir (path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

rc_journal_t *
rc_journal_new (const char *state_dir, char *err, size_t errlen)
{
    rc_journal_t *self = calloc (1, sizeof *self);
    if (!self || !(self->dir = strdup (state_dir))) {
        snprintf (err, errlen, "out of memory");
        free (self);
        return NULL;
    }
    const char *subs[] = {"", "/steps", "/reports", "/locks", "/slots"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        char path[PATH_MAX];
        snprintf (path, sizeof path, "%s%s", state_dir, subs[i]);
        if (s_mkdir (path) != 0) {
            snprintf (err, errlen, "state_dir: cannot create %s: %s", path, strerror (errno));
            rc_journal_destroy (&self);
            return NULL;
        }
        /* found out now rather than at the first step's first phase */
        if (access (path, W_OK | X_OK) != 0) {
            snprintf (err, errlen, "state_dir: cannot write in %s: %s", path, strerror (errno));
            rc_journal_destroy (&self);
            return NULL;
        }
    }
    return self;
}

void
rc_journal_destroy (rc_journal_t **self_p)
{
    assert (self_p);
    rc_journal_t *self = *self_p;
    if (!self)
        return;
    free (self->dir);
    free (self);
    *self_p = NULL;
}

const char *
rc_journal_errmsg (rc_journal_t *self)
{
    return self->errmsg;
}

static void
s_sync_dir (const char *path)
{
    int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync (fd);
        close (fd);
    }
}

/* Writes data to sub/name atomically and durably; without sync_dir the
   data is on disk before the rename, the rename itself is not waited for. */
static int
s_atomic_write (rc_journal_t *self, const char *sub, const char *name, const void *data, size_t len,
                bool sync_dir)
{
    char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
    snprintf (dir, sizeof dir, "%s/%s", self->dir, sub);
    if (snprintf (path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path
        || snprintf (tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof tmp) {
        snprintf (self->errmsg, sizeof self->errmsg, "state_dir path too long");
        return -1;
    }
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto fail;
    const char *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write (fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close (fd);
            goto fail;
        }
        done += (size_t)n;
    }
    if (fsync (fd) != 0) {
        close (fd);
        goto fail;
    }
    close (fd);
    if (rename (tmp, path) != 0)
        goto fail;
    if (sync_dir)
        s_sync_dir (dir);
    return 0;
fail:
    snprintf (self->errmsg, sizeof self->errmsg, "cannot write %s: %s", path, strerror (errno));
    unlink (tmp);
    return -1;
}

/* ---- the in-flight record (StepRecord) ---------------------------------- */

/* msg packed into state_dir/<sub>/<app>.pb, atomically and durably. */
static int
s_write_message (rc_journal_t *self, const char *sub, const char *app, const ProtobufCMessage *msg,
                 bool sync_dir)
{
    assert (rc_name_valid (app));
    char name[RC_NAME_MAX + 8];
    snprintf (name, sizeof name, "%s.pb", app);
    size_t len = protobuf_c_message_get_packed_size (msg);
    uint8_t *data = malloc (len ? len : 1);
    if (!data) {
        snprintf (self->errmsg, sizeof self->errmsg, "out of memory");
        return -1;
    }
    protobuf_c_message_pack (msg, data);
    int rc = s_atomic_write (self, sub, name, data, len, sync_dir);
    free (data);
    return rc;
}

static int
s_write_record (rc_journal_t *self, const char *app, const Rollclone__StepRecord *record,
                bool sync_dir)
{
    Rollclone__StepRecord copy = *record;
    copy.end_mark = RC_STEP_RECORD_END_MARK;
    int rc = s_write_message (self, "steps", app, &copy.base, sync_dir);
    if (rc == 0) {
        /* the legacy record, if any, has been read and is now replaced */
        char legacy[PATH_MAX];
        snprintf (legacy, sizeof legacy, "%s/steps/%s.json", self->dir, app);
        unlink (legacy);
    }
    return rc;
}

int
rc_journal_write (rc_journal_t *self, const char *app, const Rollclone__StepRecord *record)
{
    return s_write_record (self, app, record, true);
}

int
rc_journal_write_light (rc_journal_t *self, const char *app, const Rollclone__StepRecord *record)
{
    return s_write_record (self, app, record, false);
}

Rollclone__StepRecord *
rc_journal_record_decode (const void *data, size_t len, const char *app, char *err, size_t errlen)
{
    Rollclone__StepRecord *rec = rollclone__step_record__unpack (NULL, len, data);
    const char *why = NULL;
    if (!rec)
        why = "not a StepRecord (garbage or cut short)";
    else if (rec->end_mark != RC_STEP_RECORD_END_MARK)
        why = "no end mark (cut short)";
    else if (app && !streq (rec->app, app))
        why = "the record of another app";
    else if ((unsigned)rec->phase > ROLLCLONE__STEP_RECORD__PHASE__REVERT_STOP)
        why = "unknown phase";
    else if (rec->action != ROLLCLONE__ACTION__ACTION_UPDATE
             && rec->action != ROLLCLONE__ACTION__ACTION_ROLLBACK
             && rec->action != ROLLCLONE__ACTION__ACTION_STAGE
             && rec->action != ROLLCLONE__ACTION__ACTION_SWITCH)
        why = "unknown action";
    if (!why)
        return rec;
    snprintf (err, errlen, "%s", why);
    rollclone__step_record__free_unpacked (rec, NULL);
    return NULL;
}

void
rc_journal_record_free (Rollclone__StepRecord **record_p)
{
    if (*record_p)
        rollclone__step_record__free_unpacked (*record_p, NULL);
    *record_p = NULL;
}

/* Reads path whole, up to max bytes; NULL when absent, larger or unreadable. */
static uint8_t *
s_read_file (const char *path, size_t max, size_t *len)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    struct stat st;
    if (fstat (fileno (f), &st) == 0 && st.st_size >= 0 && (size_t)st.st_size <= max) {
        *len = (size_t)st.st_size;
        data = malloc (*len ? *len : 1);
        if (data && fread (data, 1, *len, f) != *len) {
            free (data);
            data = NULL;
        }
    }
    fclose (f);
    return data;
}

static Rollclone__StepRecord *s_read_legacy (rc_journal_t *self, const char *app);

/* state_dir/<sub>/<app>.pb whole (path gets its name), or NULL: absent,
   or (errmsg says so) there but unreadable or too large. */
static uint8_t *
s_read_pb (rc_journal_t *self, const char *sub, const char *app, char *path, size_t pathlen,
           size_t *len)
{
    self->errmsg[0] = '\0';
    snprintf (path, pathlen, "%s/%s/%s.pb", self->dir, sub, app);
    uint8_t *data = s_read_file (path, RC_STEP_RECORD_MAX, len);
    if (!data && access (path, F_OK) == 0)
        snprintf (self->errmsg, sizeof self->errmsg, "%s: unreadable or larger than %d bytes", path,
                  RC_STEP_RECORD_MAX);
    return data;
}

Rollclone__StepRecord *
rc_journal_read (rc_journal_t *self, const char *app)
{
    char path[PATH_MAX];
    size_t len = 0;
    uint8_t *data = s_read_pb (self, "steps", app, path, sizeof path, &len);
    if (!data)
        return *self->errmsg ? NULL : s_read_legacy (self, app);
    char why[128];
    Rollclone__StepRecord *rec = rc_journal_record_decode (data, len, app, why, sizeof why);
    free (data);
    if (!rec)
        snprintf (self->errmsg, sizeof self->errmsg, "%s: refused: %s", path, why);
    return rec;
}

/* ---- the slots of an app (AppState) -------------------------------------- */

int
rc_journal_write_slots (rc_journal_t *self, const char *app, const Rollclone__AppState *state)
{
    return s_write_message (self, "slots", app, &state->base, true);
}

Rollclone__AppState *
rc_journal_read_slots (rc_journal_t *self, const char *app)
{
    char path[PATH_MAX];
    size_t len = 0;
    uint8_t *data = s_read_pb (self, "slots", app, path, sizeof path, &len);
    if (!data)
        return NULL;
    Rollclone__AppState *state = rollclone__app_state__unpack (NULL, len, data);
    free (data);
    const char *why = NULL;
    if (!state)
        why = "not an AppState";
    else if (!streq (state->app, app))
        why = "the slots of another app";
    else if (state->slot > 2)
        why = "slot out of range";
    else if (*state->warm_version && !rc_name_valid (state->warm_version))
        why = "bad warm version";
    if (why) {
        snprintf (self->errmsg, sizeof self->errmsg, "%s: refused: %s", path, why);
        if (state)
            rollclone__app_state__free_unpacked (state, NULL);
        return NULL;
    }
    return state;
}

/* ---- LEGACY: the JSON record of agents before issue 10 -----------------
   An agent upgraded while a step was in flight finds steps/<app>.json. It
   is read once, here, into a StepRecord (its fields had the same names and
   meaning); the step then writes steps/<app>.pb, and that write removes the
   JSON file. Nothing else reads or writes JSON records. */

static const char *
s_json_text (json_t *rec, const char *key)
{
    const char *text = json_string_value (json_object_get (rec, key));
    return text ? text : "";
}

static Rollclone__StepRecord *
s_read_legacy (rc_journal_t *self, const char *app)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/steps/%s.json", self->dir, app);
    json_error_t jerr;
    json_t *rec = json_load_file (path, 0, &jerr);
    if (!rec)
        return NULL;
    Rollclone__StepRecord out = ROLLCLONE__STEP_RECORD__INIT;
    uint8_t *data = NULL;
    Rollclone__StepRecord *back = NULL;
    if (!json_is_object (rec))
        goto out;
    out.deployment_id = (char *)s_json_text (rec, "id");
    out.step = (uint32_t)json_integer_value (json_object_get (rec, "step"));
    out.action = (Rollclone__Action)json_integer_value (json_object_get (rec, "action"));
    out.app = (char *)s_json_text (rec, "app");
    out.version = (char *)s_json_text (rec, "version");
    out.previous = (char *)s_json_text (rec, "previous");
    out.artifact = (char *)s_json_text (rec, "artifact");
    out.sha256 = (char *)s_json_text (rec, "sha256");
    out.soak_ms = json_integer_value (json_object_get (rec, "soak_ms"));
    out.health_timeout_ms = json_integer_value (json_object_get (rec, "health_timeout_ms"));
    out.started_ms = json_integer_value (json_object_get (rec, "started_ms"));
    /* the legacy names are the phase names of the table in step.c; the
       journal does not depend on it, so they are listed here once more */
    static const char *const phases[] = {
        "none",           "drain",         "fetch",          "unpack", "install", "switch",
        "restart",        "health",        "undrain",        "done",   "cleanup", "revert",
        "revert-restart", "revert-health", "revert-undrain", "finish"};
    const char *phase = s_json_text (rec, "phase");
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++)
        if (streq (phase, phases[i]))
            out.phase = (Rollclone__StepRecord__Phase)i;
    out.drained = json_is_true (json_object_get (rec, "drained"));
    out.switched = json_is_true (json_object_get (rec, "switched"));
    out.placed = json_is_true (json_object_get (rec, "placed"));
    out.aside = json_is_true (json_object_get (rec, "aside"));
    out.failed = json_is_true (json_object_get (rec, "failed"));
    out.dirty = json_is_true (json_object_get (rec, "dirty"));
    out.failed_phase = (char *)s_json_text (rec, "failed_phase");
    out.error = (char *)s_json_text (rec, "error");
    out.exit_code = (int32_t)json_integer_value (json_object_get (rec, "exit_code"));
    out.end_mark = RC_STEP_RECORD_END_MARK;
    /* through the one decoder: the same checks as a StepRecord read */
    size_t len = rollclone__step_record__get_packed_size (&out);
    data = malloc (len);
    if (!data)
        goto out;
    rollclone__step_record__pack (&out, data);
    char why[128];
    back = rc_journal_record_decode (data, len, app, why, sizeof why);
    if (!back)
        snprintf (self->errmsg, sizeof self->errmsg, "%s: refused: %s", path, why);
    else
        rc_log_info ("app %s: read the step record of an older agent (%s)", app, path);
out:
    free (data);
    json_decref (rec);
    return back;
}

bool
rc_journal_in_flight (const char *state_dir, const char *app)
{
    const char *names[] = {"pb", "json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[PATH_MAX];
        snprintf (path, sizeof path, "%s/steps/%s.%s", state_dir, app, names[i]);
        if (access (path, F_OK) == 0)
            return true;
    }
    return false;
}

void
rc_journal_clear (rc_journal_t *self, const char *app)
{
    char path[PATH_MAX + RC_NAME_MAX + 8], dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s/steps", self->dir);
    bool removed = false;
    const char *names[] = {"pb", "json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf (path, sizeof path, "%s/%s.%s", dir, app, names[i]);
        if (unlink (path) == 0)
            removed = true;
    }
    if (removed)
        s_sync_dir (dir);
}

/* Keeps the newest RC_REPORTS_KEPT reports. */
static void
s_prune_reports (rc_journal_t *self)
{
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s/reports", self->dir);
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct {
        char name[RC_NAME_MAX + 32];
        struct timespec mtime;
    } oldest = {{0}, {0, 0}};
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir (d))) {
        struct stat st;
        if (e->d_name[0] == '.' || strlen (e->d_name) >= sizeof oldest.name
            || fstatat (dirfd (d), e->d_name, &st, 0) != 0)
            continue;
        count++;
        if (!oldest.name[0] || st.st_mtim.tv_sec < oldest.mtime.tv_sec
            || (st.st_mtim.tv_sec == oldest.mtime.tv_sec
                && st.st_mtim.tv_nsec < oldest.mtime.tv_nsec)) {
            snprintf (oldest.name, sizeof oldest.name, "%s", e->d_name);
            oldest.mtime = st.st_mtim;
        }
    }
    /* one report is added at a time, so one removal keeps the bound */
    if (count > RC_REPORTS_KEPT && oldest.name[0])
        unlinkat (dirfd (d), oldest.name, 0);
    closedir (d);
}

int
rc_journal_store_report (rc_journal_t *self, const char *id, uint32_t step, const void *data,
                         size_t len)
{
    if (!rc_name_valid (id)) {
        snprintf (self->errmsg, sizeof self->errmsg, "deployment id '%.80s' is not valid", id);
        return -1;
    }
    char name[RC_NAME_MAX + 32];
    snprintf (name, sizeof name, "%s.%u.pb", id, step);
    int rc = s_atomic_write (self, "reports", name, data, len, true);
    if (rc == 0)
        s_prune_reports (self);
    return rc;
}

/* Reads reports/name, or NULL. */
static zframe_t *
s_read_report (rc_journal_t *self, const char *name)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/reports/%s", self->dir, name);
    size_t len = 0;
    uint8_t *data = s_read_file (path, RC_MAX_FRAME_BYTES, &len);
    zframe_t *frame = data ? zframe_new (data, len) : NULL;
    free (data);
    return frame;
}

zframe_t *
rc_journal_find_report (rc_journal_t *self, const char *id, uint32_t step)
{
    if (!rc_name_valid (id))
        return NULL;
    char name[RC_NAME_MAX + 32];
    snprintf (name, sizeof name, "%s.%u.pb", id, step);
    return s_read_report (self, name);
}

zframe_t *
rc_journal_newest_report (rc_journal_t *self, rc_journal_match_fn *match, void *arg)
{
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s/reports", self->dir);
    DIR *d = opendir (dir);
    if (!d)
        return NULL;
    zframe_t *best = NULL;
    struct timespec best_time = {0, 0};
    struct dirent *e;
    /* at most RC_REPORTS_KEPT files, read once at start */
    while ((e = readdir (d))) {
        struct stat st;
        if (e->d_name[0] == '.' || fstatat (dirfd (d), e->d_name, &st, 0) != 0)
            continue;
        if (best
            && (st.st_mtim.tv_sec < best_time.tv_sec
                || (st.st_mtim.tv_sec == best_time.tv_sec
                    && st.st_mtim.tv_nsec <= best_time.tv_nsec)))
            continue;
        zframe_t *frame = s_read_report (self, e->d_name);
        if (frame && match (frame, arg)) {
            zframe_destroy (&best);
            best = frame;
            best_time = st.st_mtim;
        }
        else
            zframe_destroy (&frame);
    }
    closedir (d);
    return best;
}

int
rc_journal_lock (rc_journal_t *self, const char *app)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/locks/%s.lock", self->dir, app);
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf (self->errmsg, sizeof self->errmsg, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf (self->errmsg, sizeof self->errmsg, "%s is held by another process", path);
        close (fd);
        return -1;
    }
    return fd;
}

void
rc_journal_unlock (int *fd_p)
{
    if (*fd_p >= 0) {
        flock (*fd_p, LOCK_UN);
        close (*fd_p);
    }
    *fd_p = -1;
}
