/*  client.c - request/reply with the coordinator. A DEALER (not REQ) so
    a lost reply never wedges the socket; a socket monitor so a refused key
    is reported as such instead of as a timeout. */
#include "client.h"
#include "rc_defaults.h"
#include "rc_envelope.h"
#include "rc_monitor.h"
#include "rc_time.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct _rc_client_t {
    const rc_config_t *cfg; /* borrowed */
    zsock_t *dealer;        /* to the control ROUTER */
    rc_monitor_t *monitor;  /* the dealer's handshake events */
    int64_t timeout_ms;
    uint64_t seq;
    char errmsg[512];
};

rc_client_t *
rc_client_new (const rc_config_t *cfg, int64_t timeout_ms)
{
    rc_client_t *self = (rc_client_t *)zmalloc (sizeof (rc_client_t));
    self->cfg = cfg;
    self->timeout_ms = timeout_ms;
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->dealer)
        goto fail;
    rc_keys_client_socket (self->dealer, cfg->cert, cfg->server_key);
    zsock_set_linger (self->dealer, 0);
    self->monitor = rc_monitor_new (self->dealer);
    if (!self->monitor)
        goto fail;
    if (zsock_connect (self->dealer, "%s", cfg->control_endpoint) != 0) {
        rc_client_destroy (&self);
        return NULL;
    }
    return self;
fail:
    rc_client_destroy (&self);
    return NULL;
}

void
rc_client_destroy (rc_client_t **self_p)
{
    if (self_p && *self_p) {
        rc_client_t *self = *self_p;
        rc_monitor_destroy (&self->monitor);
        zsock_destroy (&self->dealer);
        free (self);
        *self_p = NULL;
    }
}

const char *
rc_client_errmsg (rc_client_t *self)
{
    return self->errmsg;
}

Rollclone__ControlReply *
rc_client_call (rc_client_t *self, Rollclone__ControlRequest *req)
{
    rc_envelope_t env;
    rc_envelope_init (&env, "cli", ++self->seq);
    env.body_case = ROLLCLONE__ENVELOPE__BODY_REQUEST;
    env.request = req;
    zframe_t *frame = rc_envelope_pack (&env);
    /* DEALER queues the request until the connection is up */
    if (!frame || zframe_send (&frame, self->dealer, 0) != 0) {
        zframe_destroy (&frame);
        snprintf (self->errmsg, sizeof self->errmsg, "cannot send to %s",
                  self->cfg->control_endpoint);
        return NULL;
    }
    zpoller_t *poller = zpoller_new (self->dealer, rc_monitor_sock (self->monitor), NULL);
    int64_t deadline = rc_mono_ms () + self->timeout_ms;
    Rollclone__ControlReply *reply = NULL;
    char timeout[32];
    rc_duration_format (self->timeout_ms, timeout, sizeof timeout);
    snprintf (self->errmsg, sizeof self->errmsg,
              "no answer from the coordinator at %s within %s (is it running there?)",
              self->cfg->control_endpoint, timeout);
    while (!reply) {
        int64_t left = deadline - rc_mono_ms ();
        if (left <= 0)
            break;
        void *which = zpoller_wait (poller, (int)left);
        if (which == rc_monitor_sock (self->monitor)) {
            rc_monitor_event_t event = rc_monitor_recv (self->monitor);
            if (event == RC_MONITOR_AUTH_REFUSED || event == RC_MONITOR_HANDSHAKE_FAILED) {
                if (event == RC_MONITOR_AUTH_REFUSED)
                    snprintf (self->errmsg, sizeof self->errmsg,
                              "the coordinator at %s refused this operator key (is its public "
                              "key in the coordinator's operator_keys_dir?)",
                              self->cfg->control_endpoint);
                else
                    snprintf (self->errmsg, sizeof self->errmsg,
                              "CURVE handshake with %s failed (is coordinator_public_key the "
                              "coordinator's key?)",
                              self->cfg->control_endpoint);
                break;
            }
        }
        else if (which == self->dealer) {
            zframe_t *in = zframe_recv (self->dealer);
            const char *reason = NULL;
            rc_envelope_t *got = in ? rc_envelope_unpack_limit (zframe_data (in), zframe_size (in),
                                                                RC_MAX_REPLY_BYTES, &reason)
                                    : NULL;
            if (!got && in && streq (reason, "wrong protocol version")) {
                /* the coordinator answers a peer of another protocol in its
                   own: field 1 says which, whatever else changed */
                snprintf (self->errmsg, sizeof self->errmsg,
                          "coordinator speaks protocol %u, this rollclone speaks %d",
                          rc_envelope_version (zframe_data (in), zframe_size (in)),
                          RC_PROTOCOL_VERSION);
                zframe_destroy (&in);
                break;
            }
            zframe_destroy (&in);
            if (got && got->body_case == ROLLCLONE__ENVELOPE__BODY_REPLY) {
                /* keep the reply, free the rest of the envelope */
                reply = got->reply;
                got->reply = NULL;
                got->body_case = ROLLCLONE__ENVELOPE__BODY__NOT_SET;
            }
            rc_envelope_destroy (&got);
        }
        else if (zpoller_terminated (poller))
            break;
    }
    zpoller_destroy (&poller);
    return reply;
}
