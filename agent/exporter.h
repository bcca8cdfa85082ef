/*  exporter.h - the agent's /metrics ([agent] metrics_endpoint): the host
    figures of the last heartbeat and the agent's own (steps by action and
    result, the phase each app's step is in, frames dropped, its link to
    the coordinator), served by rc_metrics_http.

    It runs in the network side, the unprivileged process: that is the one
    that already talks to the network, and serving HTTP there keeps the
    privileged executor free of any network input (privsep.h). The
    process_* figures are therefore the network side's; the executor is a
    process of its own. Everything here is counted by the network side's
    loop; the HTTP thread only sees the text the loop publishes. */
#ifndef AGENT_EXPORTER_H
#define AGENT_EXPORTER_H

#include "figures.h"
#include "rc_config.h"
#include "rollclone.pb-c.h"

typedef struct _rc_exporter_t rc_exporter_t;

/* The agent's own figures, as the loop knows them when a scrape asks. */
typedef struct {
    uint64_t dropped;   /* frames that did not decode */
    bool registered;    /* the coordinator acknowledged our hello */
    int64_t silence_ms; /* since the last ack (-1: none yet) */
} rc_exporter_link_t;

/* Listens on cfg->metrics_endpoint (must be set); figures borrowed.
   started_ms is unix ms. NULL with err set. */
rc_exporter_t *rc_exporter_new (const rc_config_t *cfg, rc_figures_t *figures, int64_t started_ms,
                                char *err, size_t errlen);
void rc_exporter_destroy (rc_exporter_t **self_p);

/* An instruction passed to the executor: its action is remembered for
   the step's report. */
void rc_exporter_instruction (rc_exporter_t *self, const Rollclone__Instruction *ins);
/* A step report going to the coordinator. */
void rc_exporter_report (rc_exporter_t *self, const Rollclone__StepReport *report);

int rc_exporter_wake_fd (rc_exporter_t *self);
/* The loop's handler: builds and publishes when a scrape waits. */
void rc_exporter_on_wake (rc_exporter_t *self, const rc_exporter_link_t *link);
/* The text now (without process figures); the caller frees it. */
char *rc_exporter_build (rc_exporter_t *self, const rc_exporter_link_t *link, size_t *len);

#endif
