/*  health.c - health checks on libcurl's socket interface (transfer.h)
    and a child process, so the loop that waits for a release to become
    healthy never blocks and sleeps while a check is out. */
#include "health.h"
#include "lb.h"
#include "agent_defaults.h"
#include "child.h"
#include "fetch.h"
#include "transfer.h"

#include <assert.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct _rc_health_t {
    const rc_app_config_t *app; /* borrowed */
    rc_transfer_t *transfer;    /* the GET, or NULL without health_url */
    CURL *easy;
    int url_status; /* -1 running, 0 fail, 1 ok; 1 when none */
    char *body;     /* first RC_HEALTH_BODY_MAX bytes */
    size_t body_len;
    rc_child_t *command; /* health_command, or NULL */
    int cmd_status;      /* -1 running, 0 fail, 1 ok; 1 when none */
    char curl_err[CURL_ERROR_SIZE];
    char detail[RC_OUTPUT_TAIL_BYTES + 256]; /* why it failed */
};

bool
rc_health_configured (const rc_app_config_t *app)
{
    return (app->health_url && *app->health_url) || (app->health_command && *app->health_command);
}

static size_t
s_body (char *data, size_t size, size_t nmemb, void *arg)
{
    rc_health_t *self = arg;
    size_t len = size * nmemb;
    size_t room = RC_HEALTH_BODY_MAX - self->body_len;
    size_t take = len < room ? len : room;
    memcpy (self->body + self->body_len, data, take);
    self->body_len += take;
    self->body[self->body_len] = '\0';
    return len; /* the rest is read and ignored: the answer still counts */
}

rc_health_t *
rc_health_new (const rc_app_config_t *app, unsigned slot, const char *const *env, const char *cwd,
               int64_t timeout_ms, char *err, size_t errlen)
{
    if (timeout_ms <= 0 || timeout_ms > RC_HEALTH_CHECK_TIMEOUT_MS)
        timeout_ms = RC_HEALTH_CHECK_TIMEOUT_MS;
    rc_health_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->app = app;
    self->url_status = self->cmd_status = 1;
    if (app->health_url && *app->health_url) {
        self->url_status = -1;
        rc_fetch_global_init (); /* only for a GET: a command needs no libcurl */
        self->body = malloc (RC_HEALTH_BODY_MAX + 1);
        self->easy = curl_easy_init ();
        if (!self->body || !self->easy) {
            snprintf (err, errlen, "cannot initialise libcurl");
            goto fail;
        }
        self->body[0] = '\0';
        CURL *e = self->easy;
        /* a slot's instance answers on its own port: {port} (libcurl
           copies the URL) */
        char url[RC_HEALTH_URL_MAX];
        if (rc_lb_expand (app->health_url, app, slot, url, sizeof url) != 0) {
            snprintf (err, errlen, "health_url too long");
            goto fail;
        }
        curl_easy_setopt (e, CURLOPT_URL, url);
        curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
        curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
        curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_body);
        curl_easy_setopt (e, CURLOPT_WRITEDATA, self);
        curl_easy_setopt (e, CURLOPT_ERRORBUFFER, self->curl_err);
        curl_easy_setopt (e, CURLOPT_USERAGENT, "rollclone-agent health");
        /* a health endpoint is never cached or reused across checks */
        curl_easy_setopt (e, CURLOPT_FORBID_REUSE, 1L);
        self->transfer = rc_transfer_new (e);
        if (!self->transfer) {
            snprintf (err, errlen, "cannot start GET %s", app->health_url);
            goto fail;
        }
    }
    if (app->health_command && *app->health_command) {
        rc_child_opts_t opts =
            rc_child_shell (app->health_command, env, cwd, app->user, timeout_ms);
        self->command = rc_child_new (&opts, err, errlen);
        if (!self->command)
            goto fail;
        self->cmd_status = -1;
    }
    return self;
fail:
    rc_health_destroy (&self);
    return NULL;
}

static void
s_poll_url (rc_health_t *self)
{
    CURLcode result;
    if (!rc_transfer_poll (self->transfer, &result))
        return;
    {
        long code = 0;
        curl_easy_getinfo (self->easy, CURLINFO_RESPONSE_CODE, &code);
        if (result != CURLE_OK) {
            snprintf (self->detail, sizeof self->detail, "GET %s: %s", self->app->health_url,
                      self->curl_err[0] ? self->curl_err : curl_easy_strerror (result));
            self->url_status = 0;
        }
        else if (code < 200 || code > 299) {
            snprintf (self->detail, sizeof self->detail, "GET %s: HTTP %ld", self->app->health_url,
                      code);
            self->url_status = 0;
        }
        else if (self->app->health_body && *self->app->health_body
                 && !strstr (self->body, self->app->health_body)) {
            snprintf (self->detail, sizeof self->detail,
                      "GET %s: HTTP %ld without '%s' in the body", self->app->health_url, code,
                      self->app->health_body);
            self->url_status = 0;
        }
        else
            self->url_status = 1;
    }
}

rc_health_status_t
rc_health_poll (rc_health_t *self)
{
    assert (self);
    if (self->url_status < 0)
        s_poll_url (self);
    if (self->cmd_status < 0 && rc_child_poll (self->command)) {
        int code = rc_child_exit_code (self->command);
        self->cmd_status = code == 0;
        if (code != 0 && self->url_status != 0)
            snprintf (self->detail, sizeof self->detail, "health_command %s %d: %s",
                      rc_child_timed_out (self->command) ? "timed out, exit" : "exited", code,
                      rc_child_output (self->command));
    }
    /* a failure is known as soon as either part fails */
    if (self->url_status == 0 || self->cmd_status == 0)
        return RC_HEALTH_FAIL;
    if (self->url_status < 0 || self->cmd_status < 0)
        return RC_HEALTH_RUNNING;
    return RC_HEALTH_OK;
}

void
rc_health_watch (rc_health_t *self, rc_watch_t *w)
{
    if (self->url_status < 0)
        rc_transfer_watch (self->transfer, w);
    if (self->cmd_status < 0)
        rc_child_watch (self->command, w);
    if (self->url_status >= 0 && self->cmd_status >= 0)
        rc_watch_at (w, rc_mono_ms ());
}

const char *
rc_health_detail (rc_health_t *self)
{
    return self->detail;
}

void
rc_health_destroy (rc_health_t **self_p)
{
    assert (self_p);
    rc_health_t *self = *self_p;
    if (!self)
        return;
    rc_transfer_destroy (&self->transfer);
    if (self->easy)
        curl_easy_cleanup (self->easy);
    rc_child_destroy (&self->command);
    free (self->body);
    free (self);
    *self_p = NULL;
}
