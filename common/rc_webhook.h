/*  rc_webhook.h - what a [webhook NAME] is and the pure parts of delivering
    one: its body format, its events filter, the signature a receiver checks
    and the retry schedule. The outbox and the worker that posts are the
    coordinator's (coordinator/webhooks.c); these are here so that the
    config reader can check a section with the same code that applies it. */
#ifndef RC_WEBHOOK_H
#define RC_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* format = json (default) | slack */
typedef enum { RC_WEBHOOK_JSON = 0, RC_WEBHOOK_SLACK = 1 } rc_webhook_format_t;

/* [coordinator] webhook_max_age: rows older are dropped, not sent */
#define RC_DEFAULT_WEBHOOK_MAX_AGE_MS (24LL * 3600 * 1000)
/* one POST: connect and whole-transfer timeouts */
#define RC_WEBHOOK_CONNECT_TIMEOUT_MS 5000
#define RC_WEBHOOK_TIMEOUT_MS 10000
/* retries: the first after BASE, doubling up to CAP, each with up to
   JITTER_PCT percent added at random (receivers that came back are not all
   hit at once) */
#define RC_WEBHOOK_BACKOFF_BASE_MS 500
#define RC_WEBHOOK_BACKOFF_CAP_MS (5 * 60 * 1000)
#define RC_WEBHOOK_BACKOFF_JITTER_PCT 20
/* the longest events list, secret and a response body kept for the log */
#define RC_WEBHOOK_EVENTS_MAX 1024
#define RC_WEBHOOK_SECRET_MAX 1024
#define RC_WEBHOOK_ERROR_TAIL 200
/* the worker looks at the outbox at least this often, even unprompted */
#define RC_WEBHOOK_IDLE_MS (60 * 1000)
/* webhooks a coordinator may have */
#define RC_WEBHOOKS_MAX 32
/* "sha256=" and 64 hex digits */
#define RC_WEBHOOK_SIGNATURE_LEN (7 + 64)

/* The name of a format ("json", "slack"), and back: 0, or -1 when name is
   none. */
const char *rc_webhook_format_name (rc_webhook_format_t format);
int rc_webhook_format_parse (const char *name, rc_webhook_format_t *format);

/* url = a webhook's URL: http:// or https:// with a host, whole as libcurl
   reads it (what is posted to is what was checked). */
bool rc_webhook_url_valid (const char *url);
/* secret_file = PATH: a file only its owner may read or write (like an ssh
   key), one line, not empty, at most RC_WEBHOOK_SECRET_MAX characters.
   0 with *secret (the caller's: rc_webhook_secret_free), or -1 with
   reason. */
int rc_webhook_secret_read (const char *path, char **secret, char *reason, size_t len);
/* Wipes and frees a secret; sets *secret_p to NULL. */
void rc_webhook_secret_free (char **secret_p);

/* events = a comma list of fnmatch globs over event kinds ("deployment_*,
   host_failed"); blanks around the commas are allowed. Valid: 0, or -1 with
   err naming the bad item. */
int rc_webhook_events_check (const char *events, char *err, size_t errlen);
/* True when kind matches one of the globs; NULL or "" events match all. */
bool rc_webhook_events_match (const char *events, const char *kind);

/* out = "sha256=" + hex of HMAC-SHA256 (libsodium) of body under secret. */
void rc_webhook_sign (const char *secret, const void *body, size_t len,
                      char out[RC_WEBHOOK_SIGNATURE_LEN + 1]);

/* The wait before retry number attempt (1 = after the first failure):
   BASE * 2^(attempt-1), at most CAP, plus jitter_pct percent of it with
   jitter in [0, 1). */
int64_t rc_webhook_backoff_ms (int attempt, double jitter);

/* Is an HTTP status worth trying again (5xx, 429, or no answer at all:
   status 0)? 2xx are delivered; any other status is a permanent refusal. */
bool rc_webhook_status_retries (long status);

void rc_webhook_test (bool verbose);

#endif
