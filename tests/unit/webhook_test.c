/*  webhook_test.c - selftests of webhook delivery's pure parts: the events
    filter, the signature receivers check, the retry schedule; and of the
    outbox rows an event makes in the store. */
#include "../../common/rc_webhook.h"

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
    ck_assert_int_le (most, RC_WEBHOOK_BACKOFF_BASE_MS * (100 + RC_WEBHOOK_BACKOFF_JITTER_PCT) / 100);
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
