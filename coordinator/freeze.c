/*  freeze.c - freeze windows and the operator's freeze (see freeze.h). The
    operator's freeze is the one row of table `freeze` (schema 7). */
#include "freeze.h"
#include "control_reply.h"
#include "rc_defaults.h"
#include "rc_log.h"
#include "rc_window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct _rc_freeze_t {
    rc_store_t *store;                   /* borrowed */
    rc_window_t windows[RC_WINDOWS_MAX]; /* configured, parsed */
    size_t count;                        /* windows */
    int64_t until;                       /* the operator's freeze ends (unix ms), 0 = none */
    char reason[RC_FREEZE_REASON_MAX + 1];
};

rc_freeze_t *
rc_freeze_new (rc_store_t *store, const char *windows, char *err, size_t errlen)
{
    rc_freeze_t *self = (rc_freeze_t *)calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->store = store;
    if (windows && *windows) {
        char reason[256];
        int n = rc_window_parse (windows, self->windows, RC_WINDOWS_MAX, reason, sizeof reason);
        if (n < 0) {
            snprintf (err, errlen, "freeze: %s", reason);
            rc_freeze_destroy (&self);
            return NULL;
        }
        self->count = (size_t)n;
    }
    if (rc_freeze_load (self) != 0) {
        snprintf (err, errlen, "freeze: store: %s", rc_store_errmsg (store));
        rc_freeze_destroy (&self);
        return NULL;
    }
    return self;
}

void
rc_freeze_destroy (rc_freeze_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

int
rc_freeze_load (rc_freeze_t *self)
{
    self->until = 0;
    self->reason[0] = '\0';
    sqlite3_stmt *stmt =
        rc_store_prepare (self->store, "SELECT until_ms, reason FROM freeze WHERE id = 1", "");
    if (!stmt)
        return -1;
    int rc = rc_store_step (self->store, stmt);
    if (rc == SQLITE_ROW) {
        self->until = sqlite3_column_int64 (stmt, 0);
        snprintf (self->reason, sizeof self->reason, "%s",
                  (const char *)sqlite3_column_text (stmt, 1));
    }
    rc_store_finalize (self->store, stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
rc_freeze_set (rc_freeze_t *self, int64_t until_ms, const char *reason, const char *operator_name,
               int64_t now)
{
    int rc =
        rc_store_run (self->store, rc_store_prepare (self->store,
                                                     "INSERT OR REPLACE INTO freeze "
                                                     "(id, until_ms, reason, operator, set_ms) "
                                                     "VALUES (1, ?1, ?2, ?3, ?4)",
                                                     "itti", until_ms, reason ? reason : "",
                                                     operator_name ? operator_name : "", now));
    if (rc == 0) {
        self->until = until_ms;
        snprintf (self->reason, sizeof self->reason, "%s", reason ? reason : "");
    }
    return rc;
}

int
rc_freeze_clear (rc_freeze_t *self)
{
    int rc = rc_store_run (self->store,
                           rc_store_prepare (self->store, "DELETE FROM freeze WHERE id = 1", ""));
    if (rc == 0) {
        self->until = 0;
        self->reason[0] = '\0';
    }
    return rc;
}

int64_t
rc_freeze_until (rc_freeze_t *self)
{
    return self->until;
}

const char *
rc_freeze_reason (rc_freeze_t *self)
{
    return self->reason;
}

const char *
rc_freeze_end_text (int64_t ends_ms, char *buf, size_t len)
{
    if (ends_ms == INT64_MAX) {
        snprintf (buf, len, "it has no end");
        return buf;
    }
    time_t t = (time_t)(ends_ms / 1000);
    struct tm tm;
    if (!localtime_r (&t, &tm) || strftime (buf, len, "until %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
        snprintf (buf, len, "until %lld ms", (long long)ends_ms);
    return buf;
}

size_t
rc_freeze_window_count (rc_freeze_t *self)
{
    return self->count;
}

bool
rc_freeze_at (rc_freeze_t *self, int64_t wall_ms, int64_t *ends_ms)
{
    /* the freeze ends when neither the windows nor the operator's freeze
       holds: each may start where the other ends, at most once per window */
    int64_t t = wall_ms;
    bool frozen = false;
    for (size_t step = 0; step <= self->count + 1; step++) {
        int64_t next = t;
        int64_t window_end = 0;
        if (self->until > t)
            next = self->until;
        if (rc_window_active (self->windows, self->count, t, &window_end) && window_end > next)
            next = window_end;
        if (next == t)
            break;
        frozen = true;
        t = next;
        if (t == INT64_MAX)
            break;
    }
    if (frozen && ends_ms)
        *ends_ms = t;
    return frozen;
}

static Rollclone__FreezeWindow *
s_window_new (const char *spec, bool active, int64_t ends_ms)
{
    Rollclone__FreezeWindow *w = (Rollclone__FreezeWindow *)calloc (1, sizeof *w);
    if (!w)
        return NULL;
    rollclone__freeze_window__init (w);
    w->spec = strdup (spec);
    w->active = active;
    w->ends_ms = active ? ends_ms : 0;
    if (!w->spec) {
        free (w);
        return NULL;
    }
    return w;
}

Rollclone__FreezeReply *
rc_freeze_reply (rc_freeze_t *self, int64_t now)
{
    Rollclone__FreezeReply *reply = (Rollclone__FreezeReply *)calloc (1, sizeof *reply);
    if (!reply)
        return NULL;
    rollclone__freeze_reply__init (reply);
    reply->windows = (Rollclone__FreezeWindow **)calloc (self->count + 1, sizeof *reply->windows);
    if (!reply->windows) {
        free (reply);
        return NULL;
    }
    for (size_t i = 0; i < self->count; i++) {
        int64_t ends = 0;
        bool active = rc_window_active (&self->windows[i], 1, now, &ends);
        Rollclone__FreezeWindow *w = s_window_new (self->windows[i].spec, active, ends);
        if (w)
            reply->windows[reply->n_windows++] = w;
    }
    if (self->until > now) {
        Rollclone__FreezeWindow *w = s_window_new ("manual", true, self->until);
        if (w)
            reply->windows[reply->n_windows++] = w;
        reply->until_ms = self->until;
    }
    reply->frozen = rc_freeze_at (self, now, NULL);
    return reply;
}

Rollclone__ControlReply *
rc_freeze_request (rc_freeze_t *self, const Rollclone__FreezeRequest *req, int64_t now)
{
    if (req->until_ms && req->clear)
        return rc_reply_error (RC_EXIT_USAGE, "freeze: --until and --clear do not go together");
    if (req->until_ms && req->until_ms <= now)
        return rc_reply_error (RC_EXIT_USAGE, "freeze: --until %lld is not in the future",
                               (long long)req->until_ms);
    if (strlen (req->reason) > RC_FREEZE_REASON_MAX)
        return rc_reply_error (RC_EXIT_USAGE, "freeze: --reason is longer than %d characters",
                               RC_FREEZE_REASON_MAX);
    bool in_force = self->until > now;
    if (req->until_ms || (req->clear && in_force)) {
        char until[64] = "";
        int rc = rc_store_begin (self->store);
        if (rc == 0 && req->until_ms) {
            rc_freeze_end_text (req->until_ms, until, sizeof until);
            rc = rc_freeze_set (self, req->until_ms, req->reason, rc_store_operator (self->store),
                                now);
            if (rc == 0)
                rc = rc_store_eventf (self->store, NULL, NULL, "freeze_set",
                                      "no batch starts %s%s%s", until, *req->reason ? ": " : "",
                                      req->reason);
        }
        else if (rc == 0) {
            rc = rc_freeze_clear (self);
            if (rc == 0)
                rc = rc_store_eventf (self->store, NULL, NULL, "freeze_cleared",
                                      "the operator's freeze is lifted%s%s",
                                      *req->reason ? ": " : "", req->reason);
        }
        if (rc == 0)
            rc = rc_store_commit (self->store);
        if (rc != 0) {
            Rollclone__ControlReply *failed =
                rc_reply_error (RC_EXIT_FAILED, "store: %s", rc_store_errmsg (self->store));
            rc_store_rollback (self->store);
            rc_freeze_load (self);
            return failed;
        }
        rc_log_info ("freeze: %s", req->until_ms ? until : "the operator's freeze is lifted");
    }
    Rollclone__FreezeReply *fr = rc_freeze_reply (self, now);
    if (!fr)
        return rc_reply_error (RC_EXIT_FAILED, "out of memory");
    Rollclone__ControlReply *reply = rc_reply_new ();
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_FREEZE;
    reply->freeze = fr;
    return reply;
}
