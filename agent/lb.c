/*  lb.c - picks the provider of an app's [app] lb and runs it (lb.h). A
    provider is a table row and a file (lb_haproxy.c, lb_nginx.c). */
#include "lb.h"
#include "rc_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const rc_lb_provider_t *const s_providers[] = {
    [RC_LB_NONE] = NULL,
    [RC_LB_HAPROXY] = &rc_lb_haproxy,
    [RC_LB_NGINX] = &rc_lb_nginx,
};

struct _rc_lb_t {
    const rc_lb_provider_t *provider;
    void *run;             /* the provider's */
    rc_lb_status_t status; /* once not RUNNING, final */
    char err[1024];        /* why it failed */
};

static const rc_lb_provider_t *
s_provider (const rc_app_config_t *app)
{
    size_t kind = (size_t)app->lb;
    return kind < sizeof s_providers / sizeof s_providers[0] ? s_providers[kind] : NULL;
}

bool
rc_lb_configured (const rc_app_config_t *app)
{
    return s_provider (app) != NULL;
}

rc_lb_t *
rc_lb_new (const rc_app_config_t *app, rc_lb_op_t op, unsigned slot)
{
    const rc_lb_provider_t *provider = s_provider (app);
    if (!provider)
        return NULL;
    rc_lb_t *self = calloc (1, sizeof *self);
    if (!self)
        abort (); /* out of memory in the middle of a step: nothing safe to do */
    self->provider = provider;
    self->run = provider->start (app, op, slot);
    if (!self->run)
        abort ();
    self->status = RC_LB_RUNNING;
    return self;
}

rc_lb_status_t
rc_lb_poll (rc_lb_t *self)
{
    if (self->status == RC_LB_RUNNING)
        self->status = self->provider->poll (self->run, self->err, sizeof self->err);
    return self->status;
}

void
rc_lb_watch (rc_lb_t *self, rc_watch_t *w)
{
    if (self->status == RC_LB_RUNNING)
        self->provider->watch (self->run, w);
}

const char *
rc_lb_errmsg (rc_lb_t *self)
{
    return self->err;
}

void
rc_lb_destroy (rc_lb_t **self_p)
{
    rc_lb_t *self = *self_p;
    if (!self)
        return;
    self->provider->destroy (&self->run);
    free (self);
    *self_p = NULL;
}

int64_t
rc_lb_deadline (const rc_app_config_t *app, rc_lb_op_t op)
{
    return rc_mono_ms () + (op == RC_LB_DRAIN ? app->drain_timeout_ms : app->undrain_timeout_ms);
}

rc_lb_status_t
rc_lb_failed (char *err, size_t errlen, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, errlen, fmt, args);
    va_end (args);
    return RC_LB_FAILED;
}

int
rc_lb_expand (const char *pattern, const rc_app_config_t *app, unsigned slot, char *out,
              size_t outlen)
{
    bool slotted = slot >= 1 && slot <= app->slot_count;
    size_t used = 0;
    for (const char *at = pattern; *at;) {
        char number[16] = "";
        size_t skip = 0;
        if (slotted && strncmp (at, "{slot}", 6) == 0) {
            snprintf (number, sizeof number, "%u", slot);
            skip = 6;
        }
        else if (slotted && strncmp (at, "{port}", 6) == 0) {
            snprintf (number, sizeof number, "%u", (unsigned)app->slot_ports[slot - 1]);
            skip = 6;
        }
        const char *piece = skip ? number : at;
        size_t len = skip ? strlen (number) : 1;
        if (used + len >= outlen)
            return -1;
        memcpy (out + used, piece, len);
        used += len;
        at += skip ? skip : 1;
    }
    if (used >= outlen)
        return -1;
    out[used] = '\0';
    return 0;
}
