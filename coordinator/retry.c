/*  retry.c - the request behind `deploy --retry ID` (see retry.h). */
#include "retry.h"
#include "rc_defaults.h"
#include "rc_ids.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A duration of the row as request text ("" for none). */
static void
s_ms_text (int64_t ms, char *buf, size_t len)
{
    if (ms > 0)
        snprintf (buf, len, "%" PRId64 "ms", ms);
    else
        buf[0] = '\0';
}

/* The request's value when it gives one, else the deployment's. */
static char *
s_or (char *given, char *dflt)
{
    return given && *given ? given : dflt;
}

int
rc_retry_prepare (rc_store_t *store, const Rollclone__DeployRequest *asked, rc_retry_t *retry,
                  char *err, size_t errlen)
{
    const char *id = asked->retry_of;
    int found = rc_name_valid (id) ? rc_deployment_load (store, id, &retry->of) : 0;
    if (found < 0) {
        snprintf (err, errlen, "store: %s", rc_store_errmsg (store));
        return RC_EXIT_FAILED;
    }
    rc_deployment_t *of = &retry->of;
    if (found == 0) {
        snprintf (err, errlen, "--retry: no deployment '%s'", id);
        return RC_EXIT_USAGE;
    }
    if (!streq (of->kind, "deploy")) {
        snprintf (err, errlen, "--retry: deployment %s is a rollback, not a deploy", id);
        return RC_EXIT_USAGE;
    }
    if (rc_deployment_active (of)) {
        snprintf (err, errlen, "--retry: deployment %s is still %s: only a finished one is retried",
                  id, rc_dep_state_name (of->state));
        return RC_EXIT_USAGE;
    }
    if (*asked->app && !streq (asked->app, of->app)) {
        snprintf (err, errlen, "--retry: deployment %s is of app '%s', not '%s'", id, of->app,
                  asked->app);
        return RC_EXIT_USAGE;
    }
    retry->req = *asked;
    Rollclone__DeployRequest *req = &retry->req;
    req->app = of->app;
    /* the artifact goes whole: another version brings its own */
    if (!*asked->version) {
        req->version = of->version;
        req->artifact_url = s_or (asked->artifact_url, of->artifact_url);
        req->sha256 = s_or (asked->sha256, of->sha256);
        req->signature = s_or (asked->signature, of->signature);
    }
    req->select = s_or (asked->select, of->selector);
    req->batch = s_or (asked->batch, of->batch_spec);
    req->window = s_or (asked->window, of->window_spec);
    req->rollback_batch = s_or (asked->rollback_batch, of->rollback_spec);
    req->max_fail = s_or (asked->max_fail, of->max_fail_spec);
    req->pause = s_or (asked->pause, of->pause_spec);
    req->strategy = s_or (asked->strategy, of->strategy);
    s_ms_text (of->soak_ms, retry->soak, sizeof retry->soak);
    s_ms_text (of->health_timeout_ms, retry->health_timeout, sizeof retry->health_timeout);
    s_ms_text (of->progress_deadline_ms, retry->progress_deadline, sizeof retry->progress_deadline);
    s_ms_text (of->offline_grace_ms, retry->offline_grace, sizeof retry->offline_grace);
    req->soak = s_or (asked->soak, retry->soak);
    req->health_timeout = s_or (asked->health_timeout, retry->health_timeout);
    req->progress_deadline = s_or (asked->progress_deadline, retry->progress_deadline);
    req->offline_grace = s_or (asked->offline_grace, retry->offline_grace);
    req->no_auto_rollback = asked->no_auto_rollback || !of->auto_rollback;
    return RC_EXIT_OK;
}

int
rc_retry_hosts (rc_store_t *store, const char *id, zlistx_t *hosts)
{
    rc_dhost_t *rows = NULL;
    size_t n = 0;
    if (rc_dhost_load (store, id, &rows, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (rows[i].state != RC_HOST_SUCCEEDED)
            zlistx_add_end (hosts, rows[i].host_id);
    free (rows);
    return 0;
}
