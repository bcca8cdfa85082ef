/*  store_outbox.c - the webhook outbox: an event's rows for the webhooks
    that want it are written in the event's own transaction, so a committed
    event is never without them and a rolled back one never has any; the
    webhook worker (webhooks.c) reads them on its own connection and the
    server deletes each once delivered or dropped. */
#include "rc_webhook.h"
#include "store_private.h"

#include <string.h>

void
rc_store_set_outbox (rc_store_t *self, rc_outbox_match_fn *match, rc_outbox_notify_fn *notify,
                     void *arg)
{
    self->outbox_match = match;
    self->outbox_notify = notify;
    self->outbox_arg = arg;
}

static int
s_outbox_rows (rc_store_t *self, int64_t event_id, const char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (rc_store_run (self, rc_store_prepare (self,
                                                  "INSERT INTO webhook_outbox (event_id, webhook) "
                                                  "VALUES (?1, ?2)",
                                                  "it", event_id, names[i]))
            != 0)
            return -1;
    return 0;
}

int
rc_store_outbox_event (rc_store_t *self, sqlite3_stmt *insert, const char *kind)
{
    const char *names[RC_WEBHOOKS_MAX];
    size_t count = self->outbox_match
                       ? self->outbox_match (self->outbox_arg, kind, names, RC_WEBHOOKS_MAX)
                       : 0;
    if (count == 0)
        return rc_store_run (self, insert);
    /* outside a transaction of the caller's, a savepoint of our own makes
       the event and its rows one commit */
    bool alone = sqlite3_get_autocommit (self->db);
    if (alone && rc_store_exec (self, "SAVEPOINT event_outbox") != 0) {
        rc_store_finalize (self, insert);
        return -1;
    }
    int rc = rc_store_run (self, insert);
    if (rc == 0)
        rc = s_outbox_rows (self, sqlite3_last_insert_rowid (self->db), names, count);
    if (alone) {
        if (rc == 0)
            rc = rc_store_exec (self, "RELEASE event_outbox");
        if (rc != 0) {
            char reason[sizeof self->errmsg];
            memcpy (reason, self->errmsg, sizeof reason);
            rc_store_exec (self, "ROLLBACK TO event_outbox");
            rc_store_exec (self, "RELEASE event_outbox");
            memcpy (self->errmsg, reason, sizeof reason);
        }
    }
    if (rc == 0) {
        self->outbox_added = true;
        if (alone)
            rc_store_outbox_committed (self);
    }
    return rc;
}

void
rc_store_outbox_committed (rc_store_t *self)
{
    if (self->outbox_added && self->outbox_notify)
        self->outbox_notify (self->outbox_arg);
    self->outbox_added = false;
}

int
rc_store_outbox_delete (rc_store_t *self, int64_t id)
{
    return rc_store_run (
        self, rc_store_prepare (self, "DELETE FROM webhook_outbox WHERE id = ?1", "i", id));
}

int
rc_store_outbox_forget (rc_store_t *self, const char *const *names, size_t count, int64_t *deleted)
{
    *deleted = 0;
    /* the configured names as one JSON array: one statement, any count */
    char *list = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&list, &len);
    if (!out)
        return rc_store_set_error (self, "out of memory");
    fputc ('[', out);
    for (size_t i = 0; i < count; i++)
        fprintf (out, "%s\"%s\"", i ? "," : "", names[i]); /* names are [A-Za-z0-9._+-] */
    fputc (']', out);
    fclose (out);
    if (!list)
        return rc_store_set_error (self, "out of memory");
    int rc =
        rc_store_run (self, rc_store_prepare (self,
                                              "DELETE FROM webhook_outbox WHERE webhook NOT IN "
                                              "(SELECT value FROM json_each(?1))",
                                              "t", list));
    free (list);
    if (rc == 0)
        *deleted = sqlite3_changes (self->db);
    return rc;
}
