/*  health.h - one health check of one app: a GET of health_url (2xx, and
    health_body found in the body when set) and/or health_command (exit 0),
    run at the same time, both required. Non-blocking: the executor polls
    it when what rc_health_watch names is ready. Steps repeat it every health_interval; so does the
   idle self health check. */
#ifndef AGENT_HEALTH_H
#define AGENT_HEALTH_H

#include "rc_config.h"
#include "watch.h"

typedef struct _rc_health_t rc_health_t;

typedef enum {
    RC_HEALTH_RUNNING = -1,
    RC_HEALTH_FAIL = 0,
    RC_HEALTH_OK = 1,
} rc_health_status_t;

/* True when the app has a health_url or a health_command. */
bool rc_health_configured (const rc_app_config_t *app);

/* Starts a check bounded by timeout_ms, of slot's instance (surge clones:
   "{port}" in health_url is its port; 0 without slots). env ("K=V",
   NULL-ended) and cwd are for health_command. NULL with err when it
   cannot start (counts as a failed check). */
rc_health_t *rc_health_new (const rc_app_config_t *app, unsigned slot, const char *const *env,
                            const char *cwd, int64_t timeout_ms, char *err, size_t errlen);
void rc_health_destroy (rc_health_t **self_p);

rc_health_status_t rc_health_poll (rc_health_t *self);
/* The GET's sockets and timeout, the command's pipe, exit and timeout. */
void rc_health_watch (rc_health_t *self, rc_watch_t *w);
/* Why the check failed (status code, curl error, command output tail). */
const char *rc_health_detail (rc_health_t *self);

void rc_health_test (bool verbose);

#endif
