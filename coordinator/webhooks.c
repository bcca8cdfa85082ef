/*  webhooks.c - webhook delivery from the outbox (webhooks.h). The server
    side hooks the outbox into the store and deletes the rows the worker
    says are done; the worker, an actor with its own read-only connection
    (WAL: it never blocks the server's writes) and a libcurl multi handle,
    POSTs the head row of each webhook, one at a time per webhook so that
    each receiver sees its events in order. Retry state lives in the worker
    only: after a restart every row left is simply tried again. */
#include "webhooks.h"
#include "rc_log.h"
#include "rc_time.h"
#include "rc_webhook.h"

#include <ctype.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* After an outbox read failed, the worker tries again this much later. */
#define S_READ_RETRY_MS 5000
/* Rows the server deletes in one commit at most. */
#define S_DELETE_BATCH 256
/* Event kinds are short [a-z_] names; longer ones are cut in headers. */
#define S_KIND_MAX 64

typedef struct {
    rc_webhook_stat_t stat; /* what rc_webhook_stats returns */
    int64_t next_try;       /* monotonic ms of the head row's next try, or 0 */
} s_shared_t;

struct _rc_webhooks_t {
    const rc_config_t *cfg; /* borrowed: the config outlives the server */
    rc_store_t *store;      /* borrowed */
    zactor_t *worker;       /* NULL when no webhook is configured */
    pthread_mutex_t lock;   /* guards shared: the worker writes, anyone reads */
    s_shared_t *shared;     /* one per webhook, in config order */
    size_t count;           /* webhooks */
    sqlite3 *db;            /* the worker's connection (read only), opened here */
};

/* ------------------------------------------------------------------------ */
/* The worker */

typedef struct {
    const rc_webhook_config_t *cfg;
    size_t index;     /* into the owner's shared array */
    int64_t cursor;   /* the last row done (delivered or dropped) */
    CURL *easy;       /* the POST in flight, or NULL */
    int64_t delivery; /* its outbox row */
    char kind[S_KIND_MAX + 1];
    int attempt;      /* failed tries of the head row so far */
    int64_t next_try; /* monotonic ms: not before; 0 = when there is a row */
    char *body;       /* the POST's body, alive while in flight */
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    char reply[RC_WEBHOOK_ERROR_TAIL + 1]; /* the start of the answer, for logs */
    size_t reply_len;
} s_hook_t;

typedef struct {
    rc_webhooks_t *owner;
    zsock_t *pipe;
    sqlite3 *db;
    CURLM *multi;
    s_hook_t *hooks;
    size_t count;
    bool look;       /* the outbox may have new rows */
    bool recount;    /* it has: count each webhook's pending rows again */
    int64_t look_at; /* monotonic ms: look anyway by then */
    bool stop;
} s_worker_t;

/* s_stat_update's pending: a count, or one of these */
#define S_PENDING_SAME (-1)
#define S_PENDING_ONE_LESS (-2)

static void
s_stat_update (s_worker_t *w, s_hook_t *h, uint64_t delivered, uint64_t failed, uint64_t dropped,
               int64_t pending)
{
    pthread_mutex_lock (&w->owner->lock);
    s_shared_t *shared = &w->owner->shared[h->index];
    shared->stat.delivered += delivered;
    shared->stat.failed += failed;
    shared->stat.dropped += dropped;
    if (pending >= 0)
        shared->stat.pending = (uint64_t)pending;
    else if (pending == S_PENDING_ONE_LESS && shared->stat.pending > 0)
        shared->stat.pending--;
    shared->next_try = h->next_try;
    pthread_mutex_unlock (&w->owner->lock);
}

/* Rows of h after its cursor; -1 when the store could not say. */
static int64_t
s_pending (s_worker_t *w, s_hook_t *h)
{
    sqlite3_stmt *stmt = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2 (w->db,
                            "SELECT count(*) FROM webhook_outbox WHERE webhook = ?1 AND id > ?2",
                            -1, &stmt, NULL)
            == SQLITE_OK
        && sqlite3_bind_text (stmt, 1, h->cfg->name, -1, SQLITE_STATIC) == SQLITE_OK
        && sqlite3_bind_int64 (stmt, 2, h->cursor) == SQLITE_OK
        && sqlite3_step (stmt) == SQLITE_ROW)
        n = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return n;
}

/* The head row is done with: the server deletes it, we move past it. */
static void
s_done (s_worker_t *w, s_hook_t *h, int64_t id, bool delivered)
{
    zstr_sendf (w->pipe, "%s %" PRId64, delivered ? "DONE" : "DROP", id);
    h->cursor = id;
    h->attempt = 0;
    h->next_try = 0;
    w->look = true;
    s_stat_update (w, h, delivered ? 1 : 0, 0, delivered ? 0 : 1, S_PENDING_ONE_LESS);
}

/* text as a JSON string; bytes that are not UTF-8 become '?' (an agent's
   hook output may hold anything). */
static json_t *
s_json_text (const char *text)
{
    if (!text)
        return json_null ();
    json_t *json = json_string (text);
    if (json)
        return json;
    char *copy = strdup (text);
    if (!copy)
        return NULL;
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80)
            *c = '?';
    json = json_string (copy);
    free (copy);
    return json;
}

/* Slack's text escapes: &, < and > mean markup there. */
static void
s_slack_escape (FILE *out, const char *text)
{
    for (const char *c = text; c && *c; c++) {
        if (*c == '&')
            fputs ("&amp;", out);
        else if (*c == '<')
            fputs ("&lt;", out);
        else if (*c == '>')
            fputs ("&gt;", out);
        else
            fputc (*c, out);
    }
}

typedef struct {
    int64_t id, event_id, ts;
    const char *deployment_id, *host_id, *kind, *detail, *operator_name;
} s_row_t;

/* The body POSTed for row in h's format; NULL when out of memory. */
static char *
s_body (const s_hook_t *h, const s_row_t *row)
{
    json_t *json = NULL;
    if (h->cfg->format == RC_WEBHOOK_SLACK) {
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream (&text, &len);
        if (!out)
            return NULL;
        fputs ("rollclone: ", out);
        s_slack_escape (out, row->kind);
        if (row->deployment_id) {
            fputs (", deployment ", out);
            s_slack_escape (out, row->deployment_id);
        }
        if (row->host_id) {
            fputs (", host ", out);
            s_slack_escape (out, row->host_id);
        }
        if (*row->detail) {
            fputs (": ", out);
            s_slack_escape (out, row->detail);
        }
        if (*row->operator_name) {
            fputs (" (by ", out);
            s_slack_escape (out, row->operator_name);
            fputc (')', out);
        }
        fclose (out);
        if (text)
            json = json_pack ("{s:o}", "text", s_json_text (text));
        free (text);
    }
    else {
        char when[40] = "";
        time_t secs = (time_t)(row->ts / 1000);
        struct tm tm;
        if (gmtime_r (&secs, &tm)) {
            size_t n = strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
            snprintf (when + n, sizeof when - n, ".%03dZ", (int)(row->ts % 1000));
        }
        json = json_pack (
            "{s:I, s:s, s:o, s:I, s:I, s:s, s:o, s:o, s:o, s:o}", "delivery", (json_int_t)row->id,
            "webhook", h->cfg->name, "event", s_json_text (row->kind), "event_id",
            (json_int_t)row->event_id, "ts", (json_int_t)row->ts, "time", when, "deployment",
            s_json_text (row->deployment_id), "host", s_json_text (row->host_id), "detail",
            s_json_text (row->detail), "operator", s_json_text (row->operator_name));
    }
    char *body = json ? json_dumps (json, JSON_COMPACT) : NULL;
    json_decref (json);
    return body;
}

static size_t
s_on_reply (char *data, size_t size, size_t n, void *arg)
{
    s_hook_t *h = (s_hook_t *)arg;
    size_t len = size * n;
    size_t room = sizeof h->reply - 1 - h->reply_len;
    size_t take = len < room ? len : room;
    for (size_t i = 0; i < take; i++) {
        char c = data[i];
        h->reply[h->reply_len++] = (c >= ' ' && c < 0x7f) ? c : ' ';
    }
    h->reply[h->reply_len] = '\0';
    return len; /* the rest is read and not kept */
}

/* An event kind as a header value: [A-Za-z0-9_-] kept, anything else '_'. */
static void
s_kind_copy (char *out, size_t len, const char *kind)
{
    snprintf (out, len, "%s", kind);
    for (char *c = out; *c; c++)
        if (!(isalnum ((unsigned char)*c) || *c == '_' || *c == '-'))
            *c = '_';
}

/* Ends h's POST, if any, and frees what it held. */
static void
s_release (s_worker_t *w, s_hook_t *h)
{
    if (h->easy) {
        curl_multi_remove_handle (w->multi, h->easy);
        curl_easy_cleanup (h->easy);
        h->easy = NULL;
    }
    curl_slist_free_all (h->headers);
    h->headers = NULL;
    free (h->body);
    h->body = NULL;
}

/* Starts the POST of row for h; false when it could not be made (out of
   memory: tried again later). */
static bool
s_post (s_worker_t *w, s_hook_t *h, const s_row_t *row)
{
    h->body = s_body (h, row);
    h->easy = h->body ? curl_easy_init () : NULL;
    if (!h->easy)
        goto fail;
    char signature[RC_WEBHOOK_SIGNATURE_LEN + 1];
    rc_webhook_sign (h->cfg->secret, h->body, strlen (h->body), signature);
    s_kind_copy (h->kind, sizeof h->kind, row->kind);
    char line[160];
    struct curl_slist *list = curl_slist_append (NULL, "Content-Type: application/json");
    snprintf (line, sizeof line, "X-Rollclone-Signature: %s", signature);
    list = list ? curl_slist_append (list, line) : NULL;
    snprintf (line, sizeof line, "X-Rollclone-Event: %s", h->kind);
    list = list ? curl_slist_append (list, line) : NULL;
    snprintf (line, sizeof line, "X-Rollclone-Delivery: %" PRId64, row->id);
    list = list ? curl_slist_append (list, line) : NULL;
    snprintf (line, sizeof line, "X-Rollclone-Webhook: %s", h->cfg->name);
    list = list ? curl_slist_append (list, line) : NULL;
    /* no "Expect: 100-continue" round trip before the body */
    list = list ? curl_slist_append (list, "Expect:") : NULL;
    h->headers = list;
    if (!list)
        goto fail;
    h->reply_len = 0;
    h->reply[0] = '\0';
    h->errbuf[0] = '\0';
    /* http and https only, also after a redirect (none is followed): the
       URL reaches libcurl and nothing else */
    CURLcode rc = CURLE_OK;
    rc |= curl_easy_setopt (h->easy, CURLOPT_URL, h->cfg->url);
    rc |= curl_easy_setopt (h->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt (h->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt (h->easy, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt (h->easy, CURLOPT_POSTFIELDS, h->body);
    rc |= curl_easy_setopt (h->easy, CURLOPT_POSTFIELDSIZE, (long)strlen (h->body));
    rc |= curl_easy_setopt (h->easy, CURLOPT_HTTPHEADER, h->headers);
    rc |= curl_easy_setopt (h->easy, CURLOPT_USERAGENT, "rollclone/" RC_VERSION);
    rc |=
        curl_easy_setopt (h->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)RC_WEBHOOK_CONNECT_TIMEOUT_MS);
    rc |= curl_easy_setopt (h->easy, CURLOPT_TIMEOUT_MS, (long)RC_WEBHOOK_TIMEOUT_MS);
    rc |= curl_easy_setopt (h->easy, CURLOPT_WRITEFUNCTION, s_on_reply);
    rc |= curl_easy_setopt (h->easy, CURLOPT_WRITEDATA, h);
    rc |= curl_easy_setopt (h->easy, CURLOPT_ERRORBUFFER, h->errbuf);
    rc |= curl_easy_setopt (h->easy, CURLOPT_PRIVATE, h);
    if (rc != CURLE_OK || curl_multi_add_handle (w->multi, h->easy) != CURLM_OK)
        goto fail;
    h->delivery = row->id;
    return true;
fail:
    s_release (w, h);
    return false;
}

/* Starts h's head row, dropping the ones too old on the way. */
static void
s_start (s_worker_t *w, s_hook_t *h)
{
    const int64_t max_age = w->owner->cfg->webhook_max_age_ms;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (w->db,
                            "SELECT o.id, e.id, e.ts, e.deployment_id, e.host_id, e.kind, "
                            "e.detail, e.operator FROM webhook_outbox o JOIN events e "
                            "ON e.id = o.event_id WHERE o.webhook = ?1 AND o.id > ?2 "
                            "ORDER BY o.id LIMIT 1",
                            -1, &stmt, NULL)
        != SQLITE_OK)
        goto fail;
    for (;;) {
        sqlite3_reset (stmt);
        if (sqlite3_bind_text (stmt, 1, h->cfg->name, -1, SQLITE_STATIC) != SQLITE_OK
            || sqlite3_bind_int64 (stmt, 2, h->cursor) != SQLITE_OK)
            goto fail;
        int rc = sqlite3_step (stmt);
        if (rc == SQLITE_DONE) {
            h->next_try = 0;
            h->attempt = 0;
            s_stat_update (w, h, 0, 0, 0, 0);
            break;
        }
        if (rc != SQLITE_ROW)
            goto fail;
        const char *deployment = (const char *)sqlite3_column_text (stmt, 3);
        const char *host = (const char *)sqlite3_column_text (stmt, 4);
        const char *kind = (const char *)sqlite3_column_text (stmt, 5);
        const char *detail = (const char *)sqlite3_column_text (stmt, 6);
        const char *op = (const char *)sqlite3_column_text (stmt, 7);
        s_row_t row = {.id = sqlite3_column_int64 (stmt, 0),
                       .event_id = sqlite3_column_int64 (stmt, 1),
                       .ts = sqlite3_column_int64 (stmt, 2),
                       .deployment_id = deployment,
                       .host_id = host,
                       .kind = kind ? kind : "",
                       .detail = detail ? detail : "",
                       .operator_name = op ? op : ""};
        int64_t age = rc_now_ms () - row.ts;
        if (age > max_age) {
            rc_log_warn ("webhook %s: dropped delivery %" PRId64 " (event %" PRId64 " %s): %" PRId64
                         "s old, older than webhook_max_age %" PRId64 "s",
                         h->cfg->name, row.id, row.event_id, row.kind, age / 1000, max_age / 1000);
            s_done (w, h, row.id, false);
            continue;
        }
        if (!s_post (w, h, &row)) {
            rc_log_warn ("webhook %s: out of memory for delivery %" PRId64, h->cfg->name, row.id);
            h->next_try = rc_mono_ms () + S_READ_RETRY_MS;
        }
        s_stat_update (w, h, 0, 0, 0, S_PENDING_SAME);
        break;
    }
    sqlite3_finalize (stmt);
    return;
fail:
    rc_log_warn ("webhook %s: cannot read the outbox: %s", h->cfg->name, sqlite3_errmsg (w->db));
    sqlite3_finalize (stmt);
    h->next_try = rc_mono_ms () + S_READ_RETRY_MS;
}

/* A POST ended: delivered, to be tried again, or refused for good. */
static void
s_finished (s_worker_t *w, s_hook_t *h, CURLcode result)
{
    long status = 0;
    curl_off_t retry_after = 0;
    if (result == CURLE_OK) {
        curl_easy_getinfo (h->easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo (h->easy, CURLINFO_RETRY_AFTER, &retry_after);
    }
    s_release (w, h);
    int64_t id = h->delivery;
    if (result == CURLE_OK && status >= 200 && status < 300) {
        rc_log_debug ("webhook %s: delivered %" PRId64 " (%s): %ld", h->cfg->name, id, h->kind,
                      status);
        s_done (w, h, id, true);
        return;
    }
    char why[CURL_ERROR_SIZE + RC_WEBHOOK_ERROR_TAIL + 64];
    if (result != CURLE_OK)
        snprintf (why, sizeof why, "%s", *h->errbuf ? h->errbuf : curl_easy_strerror (result));
    else
        snprintf (why, sizeof why, "HTTP %ld%s%s", status, *h->reply ? ": " : "", h->reply);
    if (result != CURLE_OK || rc_webhook_status_retries (status)) {
        h->attempt++;
        int64_t wait =
            rc_webhook_backoff_ms (h->attempt, (double)randombytes_uniform (1000) / 1000.0);
        /* a 429's Retry-After, when it asks for longer, within our cap */
        if (retry_after * 1000 > wait)
            wait = retry_after * 1000 < RC_WEBHOOK_BACKOFF_CAP_MS ? retry_after * 1000
                                                                  : RC_WEBHOOK_BACKOFF_CAP_MS;
        h->next_try = rc_mono_ms () + wait;
        rc_log_warn ("webhook %s: delivery %" PRId64 " (%s) failed: %s; try %d again in %.1fs",
                     h->cfg->name, id, h->kind, why, h->attempt + 1, (double)wait / 1000.0);
        s_stat_update (w, h, 0, 1, 0, S_PENDING_SAME);
        return;
    }
    rc_log_warn ("webhook %s: dropped delivery %" PRId64 " (%s): refused with %s", h->cfg->name, id,
                 h->kind, why);
    s_done (w, h, id, false);
}

static void
s_collect (s_worker_t *w)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read (w->multi, &left)))
        if (msg->msg == CURLMSG_DONE) {
            s_hook_t *h = NULL;
            curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **)&h);
            if (h)
                s_finished (w, h, msg->data.result);
        }
}

/* What the server says: NEW (rows were committed) or $TERM. */
static void
s_on_pipe (s_worker_t *w)
{
    while (zsock_events (w->pipe) & ZMQ_POLLIN) {
        char *command = zstr_recv (w->pipe);
        if (!command || streq (command, "$TERM"))
            w->stop = true;
        else if (streq (command, "NEW"))
            w->look = w->recount = true;
        free (command);
        if (w->stop)
            return;
    }
}

static void
s_worker_run (s_worker_t *w)
{
    while (!w->stop) {
        s_on_pipe (w);
        if (w->stop)
            break;
        int64_t now = rc_mono_ms ();
        if (now >= w->look_at)
            w->look = w->recount = true;
        bool looked = w->look;
        w->look = false;
        for (size_t i = 0; i < w->count; i++) {
            s_hook_t *h = &w->hooks[i];
            /* a row waiting for its retry goes at its time, new rows when told */
            if (!h->easy && (h->next_try ? now >= h->next_try : looked))
                s_start (w, h);
        }
        if (looked)
            w->look_at = now + RC_WEBHOOK_IDLE_MS;
        /* counted when rows come, not per delivery: a backlog of n rows
           would cost n counts of up to n rows */
        for (size_t i = 0; w->recount && i < w->count; i++)
            s_stat_update (w, &w->hooks[i], 0, 0, 0, s_pending (w, &w->hooks[i]));
        w->recount = false;
        int running = 0;
        curl_multi_perform (w->multi, &running);
        s_collect (w);
        if (w->look)
            continue; /* a row was done: its next one goes now */
        long timeout = -1;
        curl_multi_timeout (w->multi, &timeout);
        now = rc_mono_ms ();
        int64_t wait = w->look_at - now;
        if (timeout >= 0 && timeout < wait)
            wait = timeout;
        for (size_t i = 0; i < w->count; i++)
            if (!w->hooks[i].easy && w->hooks[i].next_try && w->hooks[i].next_try - now < wait)
                wait = w->hooks[i].next_try - now;
        if (wait < 0)
            wait = 0;
        if (zsock_events (w->pipe) & ZMQ_POLLIN)
            continue;
        /* the pipe's descriptor says when its events change (then checked
           at the top), curl's say when a transfer can move */
        struct curl_waitfd pipe_fd = {.fd = zsock_fd (w->pipe), .events = CURL_WAIT_POLLIN};
        curl_multi_wait (w->multi, &pipe_fd, 1, (int)wait, NULL);
    }
}

static void
s_worker_actor (zsock_t *pipe, void *args)
{
    rc_webhooks_t *owner = (rc_webhooks_t *)args;
    s_worker_t w = {.owner = owner, .pipe = pipe, .db = owner->db, .look = true, .recount = true};
    w.hooks = calloc (owner->count, sizeof *w.hooks);
    w.count = owner->count;
    w.multi = curl_multi_init ();
    for (size_t i = 0; w.hooks && i < w.count; i++) {
        w.hooks[i].cfg = &owner->cfg->webhooks[i];
        w.hooks[i].index = i;
    }
    zsock_signal (pipe, 0);
    if (w.hooks && w.multi)
        s_worker_run (&w);
    else {
        /* said, then wait for $TERM: the server's loop must not be the one
           to read the signal its zactor_destroy waits for */
        rc_log_error ("webhooks: cannot start the worker: out of memory");
        while (!w.stop) {
            char *command = zstr_recv (pipe);
            w.stop = !command || streq (command, "$TERM");
            free (command);
        }
    }
    for (size_t i = 0; w.hooks && i < w.count; i++)
        s_release (&w, &w.hooks[i]);
    curl_multi_cleanup (w.multi);
    free (w.hooks);
}

/* ------------------------------------------------------------------------ */
/* The server side */

static size_t
s_match (void *arg, const char *kind, const char **names, size_t max)
{
    rc_webhooks_t *self = (rc_webhooks_t *)arg;
    size_t n = 0;
    for (size_t i = 0; i < self->count && n < max; i++)
        if (rc_webhook_events_match (self->cfg->webhooks[i].events, kind))
            names[n++] = self->cfg->webhooks[i].name;
    return n;
}

/* Rows were committed: the worker looks. Never waits: when its queue is
   full it has plenty of these already. */
static void
s_notify (void *arg)
{
    rc_webhooks_t *self = (rc_webhooks_t *)arg;
    zframe_t *frame = zframe_new ("NEW", 3);
    if (frame && zframe_send (&frame, self->worker, ZFRAME_DONTWAIT) != 0)
        zframe_destroy (&frame);
}

rc_webhooks_t *
rc_webhooks_new (const rc_config_t *cfg, rc_store_t *store, const char *db_path)
{
    rc_webhooks_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->store = store;
    self->count = cfg->webhook_count;
    pthread_mutex_init (&self->lock, NULL);
    self->shared = calloc (self->count ? self->count : 1, sizeof *self->shared);
    if (!self->shared) {
        rc_log_error ("webhooks: out of memory");
        goto fail;
    }
    const char *names[RC_WEBHOOKS_MAX];
    for (size_t i = 0; i < self->count; i++) {
        snprintf (self->shared[i].stat.name, sizeof self->shared[i].stat.name, "%s",
                  cfg->webhooks[i].name);
        names[i] = cfg->webhooks[i].name;
    }
    int64_t forgotten = 0;
    if (rc_store_outbox_forget (store, names, self->count, &forgotten) != 0) {
        rc_log_error ("webhooks: %s", rc_store_errmsg (store));
        goto fail;
    }
    if (forgotten)
        rc_log_warn ("webhooks: dropped %" PRId64 " undelivered row(s) of webhooks no longer "
                     "configured",
                     forgotten);
    if (self->count == 0)
        return self;
    /* read only: the server's connection stays the only writer (store.c);
       WAL lets it read while the server writes. Opened here so that a
       failure stops the start; used by the worker's thread alone. */
    if (sqlite3_open_v2 (db_path, &self->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc_log_error ("webhooks: cannot open %s: %s", db_path,
                      self->db ? sqlite3_errmsg (self->db) : "out of memory");
        goto fail;
    }
    self->worker = zactor_new (s_worker_actor, self);
    if (!self->worker)
        goto fail;
    rc_store_set_outbox (store, s_match, s_notify, self);
    rc_log_info ("webhooks: %zu configured, delivering from the outbox", self->count);
    return self;
fail:
    rc_webhooks_destroy (&self);
    return NULL;
}

void
rc_webhooks_destroy (rc_webhooks_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rc_webhooks_t *self = *self_p;
    bool started = self->worker != NULL;
    if (started)
        rc_store_set_outbox (self->store, NULL, NULL, NULL);
    zactor_destroy (&self->worker);
    /* what each did in this run: the figures an operator has without a
       metrics endpoint */
    rc_webhook_stat_t stats[RC_WEBHOOKS_MAX];
    size_t n = started ? rc_webhook_stats (self, stats, RC_WEBHOOKS_MAX) : 0;
    for (size_t i = 0; i < n; i++)
        rc_log_info ("webhook %s: %" PRIu64 " delivered, %" PRIu64 " failed tries, %" PRIu64
                     " dropped, %" PRIu64 " pending",
                     stats[i].name, stats[i].delivered, stats[i].failed, stats[i].dropped,
                     stats[i].pending);
    sqlite3_close_v2 (self->db);
    pthread_mutex_destroy (&self->lock);
    free (self->shared);
    free (self);
    *self_p = NULL;
}

zsock_t *
rc_webhooks_socket (rc_webhooks_t *self)
{
    return self->worker ? zactor_sock (self->worker) : NULL;
}

int
rc_webhooks_on_worker (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    rc_webhooks_t *self = (rc_webhooks_t *)arg;
    /* what the worker said so far, deleted in one commit: under a burst of
       events one fsync covers many rows */
    int64_t ids[S_DELETE_BATCH];
    size_t n = 0;
    do {
        char *message = zstr_recv (sock);
        if (!message)
            break;
        int64_t id = 0;
        char what[8] = "";
        if (sscanf (message, "%7s %" SCNd64, what, &id) == 2 && id > 0)
            ids[n++] = id;
        free (message);
    } while (n < S_DELETE_BATCH && (zsock_events (sock) & ZMQ_POLLIN));
    if (n == 0)
        return 0;
    int rc = rc_store_begin (self->store);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = rc_store_outbox_delete (self->store, ids[i]);
    if (rc == 0)
        rc = rc_store_commit (self->store);
    if (rc != 0) {
        /* the rows stay: sent again after a restart (at least once) */
        rc_log_error ("webhooks: cannot delete %zu delivered outbox row(s): %s", n,
                      rc_store_errmsg (self->store));
        rc_store_rollback (self->store);
    }
    return 0;
}

size_t
rc_webhook_stats (rc_webhooks_t *self, rc_webhook_stat_t *out, size_t max)
{
    size_t n = self->count < max ? self->count : max;
    int64_t now = rc_mono_ms ();
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < n; i++) {
        out[i] = self->shared[i].stat;
        int64_t next = self->shared[i].next_try;
        out[i].retry_in_ms = next > now ? next - now : 0;
    }
    pthread_mutex_unlock (&self->lock);
    return n;
}
