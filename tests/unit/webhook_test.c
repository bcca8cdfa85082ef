/*  webhook_test.c - selftests of webhook delivery's pure parts: the events
    filter, the signature receivers check, the retry schedule; and of the
    outbox rows an event makes in the store. */
#include "../../common/rc_webhook.h"
#include "../../common/rc_time.h"

#include <check.h>
#include <sodium.h>
#include <string.h>

void
rc_webhook_test (bool verbose)
{
    (void)verbose;
    ck_assert_int_eq (sodium_init () >= 0, 1);
    rc_webhook_format_t format = RC_WEBHOOK_JSON;
    ck_assert_int_eq (rc_webhook_format_parse ("slack", &format), 0);
    ck_assert_int_eq (format, RC_WEBHOOK_SLACK);
    ck_assert_str_eq (rc_webhook_format_name (format), "slack");
    ck_assert_int_eq (rc_webhook_format_parse ("xml", &format), -1);

    /* URLs: http(s) with a host, as libcurl reads them */
    ck_assert (rc_webhook_url_valid ("http://127.0.0.1:8080/hook"));
    ck_assert (rc_webhook_url_valid ("https://hooks.example.org/a?b=c"));
    ck_assert (!rc_webhook_url_valid ("ftp://hooks.example.org/"));
    ck_assert (!rc_webhook_url_valid ("file:///etc/passwd"));
    ck_assert (!rc_webhook_url_valid ("http://"));
    ck_assert (!rc_webhook_url_valid ("http://a b/"));

    /* the filter: globs, blanks, and "all" when unset */
    const char *events = "deployment_*, host_failed ,rollback_?tarted";
    char err[256];
    ck_assert_int_eq (rc_webhook_events_check (events, err, sizeof err), 0);
    ck_assert (rc_webhook_events_match (events, "deployment_created"));
    ck_assert (rc_webhook_events_match (events, "deployment_finished"));
    ck_assert (rc_webhook_events_match (events, "host_failed"));
    ck_assert (rc_webhook_events_match (events, "rollback_started"));
    ck_assert (!rc_webhook_events_match (events, "host_succeeded"));
    ck_assert (!rc_webhook_events_match (events, "batch_started"));
    ck_assert (!rc_webhook_events_match ("host_failed", "host_failed_more"));
    ck_assert (rc_webhook_events_match (NULL, "anything"));
    ck_assert (rc_webhook_events_match ("", "anything"));
    ck_assert (rc_webhook_events_match ("*", "online"));
    ck_assert_int_eq (rc_webhook_events_check ("host_failed,$(reboot)", err, sizeof err), -1);
    ck_assert (strstr (err, "$(reboot)"));
    ck_assert_int_eq (rc_webhook_events_check (" , ,", err, sizeof err), -1);

    /* the signature: RFC 4231 test case 2 (key "Jefe") */
    char sig[RC_WEBHOOK_SIGNATURE_LEN + 1];
    const char *body = "what do ya want for nothing?";
    rc_webhook_sign ("Jefe", body, strlen (body), sig);
    ck_assert_str_eq (sig, "sha256="
                           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    rc_webhook_sign ("other", body, strlen (body), sig);
    ck_assert_str_ne (sig, "sha256="
                           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    /* the schedule: doubling from the base, capped, jitter on top */
    ck_assert_int_eq (rc_webhook_backoff_ms (1, 0), RC_WEBHOOK_BACKOFF_BASE_MS);
    ck_assert_int_eq (rc_webhook_backoff_ms (2, 0), 2 * RC_WEBHOOK_BACKOFF_BASE_MS);
    ck_assert_int_eq (rc_webhook_backoff_ms (4, 0), 8 * RC_WEBHOOK_BACKOFF_BASE_MS);
    ck_assert_int_eq (rc_webhook_backoff_ms (40, 0), RC_WEBHOOK_BACKOFF_CAP_MS);
    ck_assert_int_eq (rc_webhook_backoff_ms (100000, 0), RC_WEBHOOK_BACKOFF_CAP_MS);
    int64_t most = rc_webhook_backoff_ms (1, 0.999);
    ck_assert_int_gt (most, RC_WEBHOOK_BACKOFF_BASE_MS);
    ck_assert_int_le (most,
                      RC_WEBHOOK_BACKOFF_BASE_MS * (100 + RC_WEBHOOK_BACKOFF_JITTER_PCT) / 100);
    ck_assert_int_le (rc_webhook_backoff_ms (40, 5.0),
                      RC_WEBHOOK_BACKOFF_CAP_MS * (100 + RC_WEBHOOK_BACKOFF_JITTER_PCT) / 100);

    /* what is retried and what is refused for good */
    ck_assert (rc_webhook_status_retries (0));
    ck_assert (rc_webhook_status_retries (500));
    ck_assert (rc_webhook_status_retries (503));
    ck_assert (rc_webhook_status_retries (429));
    ck_assert (!rc_webhook_status_retries (400));
    ck_assert (!rc_webhook_status_retries (404));
    ck_assert (!rc_webhook_status_retries (200));
}

/* ------------------------------------------------------------------------ */
/*  The outbox in the store: rows in the event's transaction */

#include "../../coordinator/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void
s_rmdir (const char *dir)
{
    char cmd[400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}

typedef struct {
    int notified;
} s_outbox_t;

/* ops wants deployment_* and host_failed, all wants everything */
static size_t
s_match (void *arg, const char *kind, const char **names, size_t max)
{
    (void)arg;
    size_t n = 0;
    if (n < max && rc_webhook_events_match ("deployment_*,host_failed", kind))
        names[n++] = "ops";
    if (n < max)
        names[n++] = "all";
    return n;
}

static void
s_notify (void *arg)
{
    ((s_outbox_t *)arg)->notified++;
}

static int64_t
s_count (const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
    int64_t n = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return n;
}

void
rc_webhook_outbox_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_outbox_test.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char path[300], err[512];
    snprintf (path, sizeof path, "%s/coordinator.db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert_msg (store != NULL, "open: %s", err);
    s_outbox_t seen = {0};
    rc_store_set_outbox (store, s_match, s_notify, &seen);

    /* outside a transaction: the event and its rows at once, said at once */
    ck_assert_int_eq (rc_store_event (store, rc_now_ms (), "d-1", NULL, "deployment_created", ""),
                      0);
    ck_assert_int_eq (seen.notified, 1);
    ck_assert_int_eq (s_count (path, "SELECT count(*) FROM webhook_outbox"), 2);
    /* inside one: said only at the commit */
    ck_assert_int_eq (rc_store_begin (store), 0);
    ck_assert_int_eq (rc_store_event (store, rc_now_ms (), "d-1", "h", "host_failed", "x"), 0);
    ck_assert_int_eq (rc_store_event (store, rc_now_ms (), "d-1", "h", "host_updating", "x"), 0);
    ck_assert_int_eq (seen.notified, 1);
    ck_assert_int_eq (rc_store_commit (store), 0);
    ck_assert_int_eq (seen.notified, 2);
    ck_assert_int_eq (s_count (path, "SELECT count(*) FROM webhook_outbox WHERE webhook = 'ops'"),
                      2);
    ck_assert_int_eq (s_count (path, "SELECT count(*) FROM webhook_outbox WHERE webhook = 'all'"),
                      3);
    /* a transaction rolled back leaves no row and says nothing */
    ck_assert_int_eq (rc_store_begin (store), 0);
    ck_assert_int_eq (rc_store_event (store, rc_now_ms (), "d-1", NULL, "deployment_finished", ""),
                      0);
    rc_store_rollback (store);
    ck_assert_int_eq (rc_store_begin (store), 0);
    ck_assert_int_eq (rc_store_commit (store), 0);
    ck_assert_int_eq (seen.notified, 2);
    ck_assert_int_eq (s_count (path, "SELECT count(*) FROM webhook_outbox"), 5);
    /* a delivered row goes; rows of a webhook no longer configured go */
    int64_t first = s_count (path, "SELECT min(id) FROM webhook_outbox");
    ck_assert_int_eq (rc_store_outbox_delete (store, first), 0);
    ck_assert_int_eq (s_count (path, "SELECT count(*) FROM webhook_outbox"), 4);
    const char *keep[] = {"all"};
    int64_t forgotten = 0;
    ck_assert_int_eq (rc_store_outbox_forget (store, keep, 1, &forgotten), 0);
    ck_assert_int_eq (forgotten, 1);
    ck_assert_int_eq (s_count (path, "SELECT count(*) FROM webhook_outbox WHERE webhook = 'ops'"),
                      0);
    /* retention: an event that goes takes its rows with it */
    ck_assert_int_eq (rc_store_event (store, 1000, NULL, NULL, "online", "long ago"), 0);
    ck_assert_int_eq (s_count (path, "SELECT count(*) FROM webhook_outbox"), 4);
    ck_assert_int_ge (rc_store_prune_step (store, 24LL * 3600 * 1000, 100), 1);
    ck_assert_int_eq (s_count (path, "SELECT count(*) FROM webhook_outbox"), 3);
    /* without the outbox hooked: events only */
    rc_store_set_outbox (store, NULL, NULL, NULL);
    ck_assert_int_eq (rc_store_event (store, rc_now_ms (), "d-2", NULL, "deployment_created", ""),
                      0);
    ck_assert_int_eq (s_count (path, "SELECT count(*) FROM webhook_outbox"), 3);
    rc_store_destroy (&store);
    s_rmdir (dir);
}

/* ------------------------------------------------------------------------ */
/*  [webhook NAME] sections as the coordinator reads them */

#include "../../common/rc_config.h"
#include "../../common/rc_keys.h"

#include <sys/stat.h>

void
rc_webhook_config_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_webhook_config.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char path[300], key[300], secret[300], err[1024];
    snprintf (path, sizeof path, "%s/coordinator.conf", dir);
    snprintf (key, sizeof key, "%s/k", dir);
    snprintf (secret, sizeof secret, "%s/hook.secret", dir);
    ck_assert_int_eq (rc_keys_generate (key, err, sizeof err), 0);
    FILE *f = fopen (secret, "w");
    ck_assert_ptr_nonnull (f);
    fputs ("from a file\n", f);
    fclose (f);
    ck_assert_int_eq (chmod (secret, 0600), 0);
    f = fopen (path, "w");
    ck_assert_ptr_nonnull (f);
    fputs ("[coordinator]\nsecret_key = k_secret\nwebhook_max_age = 2h\n"
           "[webhook ops]\nurl = https://hooks.example.org/rollclone?a=1\n"
           "events = deployment_*, host_failed\nsecret = s;e#cret\n"
           "[webhook chat]\nurl = http://127.0.0.1:9/x\nformat = slack\n"
           "secret_file = hook.secret\n",
           f);
    fclose (f);
    rc_config_t *cfg = rc_config_load (path, RC_ROLE_COORDINATOR, err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    ck_assert_int_eq (cfg->webhook_max_age_ms, 2 * 3600 * 1000);
    ck_assert_uint_eq (cfg->webhook_count, 2);
    ck_assert_str_eq (cfg->webhooks[0].name, "ops");
    ck_assert_str_eq (cfg->webhooks[0].url, "https://hooks.example.org/rollclone?a=1");
    ck_assert_str_eq (cfg->webhooks[0].events, "deployment_*, host_failed");
    ck_assert_str_eq (cfg->webhooks[0].secret, "s;e#cret");
    ck_assert_int_eq (cfg->webhooks[0].format, RC_WEBHOOK_JSON);
    ck_assert_str_eq (cfg->webhooks[1].name, "chat");
    ck_assert_ptr_null (cfg->webhooks[1].events);
    ck_assert_str_eq (cfg->webhooks[1].secret, "from a file");
    ck_assert_int_eq (cfg->webhooks[1].format, RC_WEBHOOK_SLACK);
    rc_config_destroy (&cfg);
    /* none configured: none, and the default age */
    f = fopen (path, "w");
    ck_assert_ptr_nonnull (f);
    fputs ("[coordinator]\nsecret_key = k_secret\n", f);
    fclose (f);
    cfg = rc_config_load (path, RC_ROLE_COORDINATOR, err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    ck_assert_int_eq (cfg->webhook_max_age_ms, RC_DEFAULT_WEBHOOK_MAX_AGE_MS);
    ck_assert_uint_eq (cfg->webhook_count, 0);
    rc_config_destroy (&cfg);
    s_rmdir (dir);
}
