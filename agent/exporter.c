/*  exporter.c - the agent's /metrics (see exporter.h). */
#include "exporter.h"
#include "rc_expo.h"
#include "rc_host_figures.h"
#include "rc_ids.h"
#include "rc_metrics_http.h"

#include <czmq.h>
#include <string.h>

/* Per app: the step in flight and what was counted. */
typedef struct {
    char deployment[RC_NAME_MAX + 1]; /* of the last instruction */
    uint32_t step;
    Rollclone__Action action;
    char phase[32]; /* of a running step, "" when none */
} s_app_t;

struct _rc_exporter_t {
    const rc_config_t *cfg;  /* borrowed */
    rc_figures_t *figures;   /* borrowed */
    rc_metrics_http_t *http; /* the endpoint */
    rc_expo_t *expo;
    s_app_t *apps;          /* one per cfg app */
    zhashx_t *steps;        /* "app\taction\tresult" -> uint64_t * */
    rc_host_figures_t kept; /* the last sample, checked as the coordinator does */
};

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static void
s_free_value (void **item)
{
    free (*item);
    *item = NULL;
}

rc_exporter_t *
rc_exporter_new (const rc_config_t *cfg, rc_figures_t *figures, int64_t started_ms, char *err,
                 size_t errlen)
{
    rc_exporter_t *self = (rc_exporter_t *)zmalloc (sizeof *self);
    self->cfg = cfg;
    self->figures = figures;
    self->expo = rc_expo_new ();
    self->apps = (s_app_t *)calloc (cfg->app_count ? cfg->app_count : 1, sizeof *self->apps);
    self->steps = zhashx_new ();
    zhashx_set_destructor (self->steps, s_free_value);
    self->http = rc_metrics_http_new (cfg->metrics_endpoint, started_ms, err, errlen);
    if (!self->expo || !self->apps || !self->http)
        rc_exporter_destroy (&self);
    return self;
}

void
rc_exporter_destroy (rc_exporter_t **self_p)
{
    if (self_p && *self_p) {
        rc_exporter_t *self = *self_p;
        rc_metrics_http_destroy (&self->http);
        rc_expo_destroy (&self->expo);
        zhashx_destroy (&self->steps);
        rc_host_figures_clear (&self->kept);
        free (self->apps);
        free (self);
        *self_p = NULL;
    }
}

static s_app_t *
s_app (rc_exporter_t *self, const char *name)
{
    for (size_t i = 0; i < self->cfg->app_count; i++)
        if (streq (self->cfg->apps[i].name, name))
            return &self->apps[i];
    return NULL;
}

static const char *
s_action_name (Rollclone__Action action)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value (&rollclone__action__descriptor, (int)action);
    return v ? v->name : "unknown";
}

void
rc_exporter_instruction (rc_exporter_t *self, const Rollclone__Instruction *ins)
{
    s_app_t *app = s_app (self, ins->app);
    if (!app || !rc_name_valid (ins->deployment_id))
        return;
    snprintf (app->deployment, sizeof app->deployment, "%s", ins->deployment_id);
    app->step = ins->step;
    app->action = ins->action;
}

void
rc_exporter_report (rc_exporter_t *self, const Rollclone__StepReport *r)
{
    s_app_t *app = s_app (self, r->app);
    if (!app)
        return;
    if (r->result == ROLLCLONE__STEP_REPORT__RESULT__RUNNING) {
        snprintf (app->phase, sizeof app->phase, "%s", rc_name_valid (r->phase) ? r->phase : "?");
        return;
    }
    app->phase[0] = 0;
    const ProtobufCEnumValue *result = protobuf_c_enum_descriptor_get_value (
        &rollclone__step_report__result__descriptor, (int)r->result);
    bool ours = streq (app->deployment, r->deployment_id) && app->step == r->step;
    char key[RC_NAME_MAX + 64];
    snprintf (key, sizeof key, "%s\t%s\t%s", r->app, ours ? s_action_name (app->action) : "unknown",
              result ? result->name : "unknown");
    uint64_t *n = (uint64_t *)zhashx_lookup (self->steps, key);
    if (!n) {
        n = (uint64_t *)calloc (1, sizeof *n);
        if (!n)
            return;
        zhashx_insert (self->steps, key, n);
    }
    (*n)++;
}

int
rc_exporter_wake_fd (rc_exporter_t *self)
{
    return rc_metrics_http_wake_fd (self->http);
}

char *
rc_exporter_build (rc_exporter_t *self, const rc_exporter_link_t *link, size_t *len)
{
    rc_expo_t *e = self->expo;
    const char *id = self->cfg->id;
    rc_expo_family (e, "rollclone_agent_info", "gauge", "The agent's version.");
    rc_expo_sample (e, "rollclone_agent_info", L ("host", id, "version", RC_VERSION), 1);
    rc_expo_family (e, "rollclone_agent_registered", "gauge",
                    "1 when the coordinator acknowledged this agent's hello.");
    rc_expo_sample (e, "rollclone_agent_registered", L ("host", id), link->registered);
    if (link->silence_ms >= 0) {
        rc_expo_family (e, "rollclone_agent_ack_age_seconds", "gauge",
                        "Seconds since the coordinator last answered.");
        rc_expo_sample (e, "rollclone_agent_ack_age_seconds", L ("host", id),
                        (double)link->silence_ms / 1000.0);
    }
    rc_expo_family (e, "rollclone_agent_frames_dropped_total", "counter",
                    "Frames from the coordinator that were dropped (undecodable, not ours).");
    rc_expo_sample (e, "rollclone_agent_frames_dropped_total", L ("host", id),
                    (double)link->dropped);
    rc_expo_family (e, "rollclone_agent_steps_total", "counter",
                    "Steps this agent finished, by app, action and result.");
    for (uint64_t *n = (uint64_t *)zhashx_first (self->steps); n;
         n = (uint64_t *)zhashx_next (self->steps)) {
        char key[RC_NAME_MAX + 64];
        snprintf (key, sizeof key, "%s", (const char *)zhashx_cursor (self->steps));
        char *action = strchr (key, '\t');
        char *result = action ? strchr (action + 1, '\t') : NULL;
        if (!result)
            continue;
        *action++ = 0;
        *result++ = 0;
        rc_expo_sample (e, "rollclone_agent_steps_total",
                        L ("host", id, "app", key, "action", action, "result", result), (double)*n);
    }
    rc_expo_family (e, "rollclone_agent_step_phase", "gauge",
                    "1 for the phase each app's running step is in (no sample: no step).");
    for (size_t i = 0; i < self->cfg->app_count; i++)
        if (self->apps[i].phase[0])
            rc_expo_sample (
                e, "rollclone_agent_step_phase",
                L ("host", id, "app", self->cfg->apps[i].name, "phase", self->apps[i].phase), 1);

    /* the figures of the last heartbeat, as the coordinator shows them */
    rc_host_figures_set (&self->kept, rc_figures_last (self->figures));
    const rc_host_figures_t *kept = &self->kept;
    if (kept->known)
        rc_host_figures_write (e, &id, &kept, 1);
    return rc_expo_take (e, len);
}

void
rc_exporter_on_wake (rc_exporter_t *self, const rc_exporter_link_t *link)
{
    if (!rc_metrics_http_asked (self->http))
        return;
    size_t len;
    char *text = rc_exporter_build (self, link, &len);
    rc_metrics_http_publish (self->http, text, len);
}
