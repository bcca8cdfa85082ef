/*  zap.c - the ZAP handler: admits the CURVE keys found in the agent and
    operator key directories, each on its own domain (see zap.h). */
#include "zap.h"
#include "rc_keys.h"
#include "rc_log.h"

#include <stdio.h>

struct _rc_zap_t {
    const rc_config_t *cfg; /* borrowed */
    rc_quiet_t *quiet;      /* borrowed: refused keys are logged now and then */
    zsock_t *sock;          /* REP on RC_ZAP_ENDPOINT */
    rc_keyring_t *agent_keys;
    rc_keyring_t *operator_keys;
};

rc_zap_t *
rc_zap_new (const rc_config_t *cfg, rc_quiet_t *quiet)
{
    rc_zap_t *self = (rc_zap_t *)zmalloc (sizeof *self);
    self->cfg = cfg;
    self->quiet = quiet;
    self->agent_keys = rc_keyring_new (cfg->agent_keys_dir);
    self->operator_keys =
        rc_keyring_new_operators (cfg->operator_keys_dir, cfg->read_only_operator_keys_dir);
    if (!self->agent_keys || !self->operator_keys) {
        rc_zap_destroy (&self);
        return NULL;
    }
    self->sock = zsock_new (ZMQ_REP);
    if (!self->sock || zsock_bind (self->sock, RC_ZAP_ENDPOINT) != 0) {
        rc_log_error ("cannot start the ZAP handler");
        rc_zap_destroy (&self);
    }
    return self;
}

void
rc_zap_destroy (rc_zap_t **self_p)
{
    if (self_p && *self_p) {
        rc_zap_t *self = *self_p;
        if (self->sock) {
            zsock_unbind (self->sock, RC_ZAP_ENDPOINT);
            zsock_destroy (&self->sock);
        }
        rc_keyring_destroy (&self->agent_keys);
        rc_keyring_destroy (&self->operator_keys);
        free (self);
        *self_p = NULL;
    }
}

zsock_t *
rc_zap_socket (rc_zap_t *self)
{
    return self->sock;
}

rc_keyring_t *
rc_zap_agent_keys (rc_zap_t *self)
{
    return self->agent_keys;
}

rc_keyring_t *
rc_zap_operator_keys (rc_zap_t *self)
{
    return self->operator_keys;
}

void
rc_zap_reload (rc_zap_t *self)
{
    size_t agents = rc_keyring_reload (self->agent_keys);
    size_t operators = rc_keyring_reload (self->operator_keys);
    rc_log_info ("reloaded keys: %zu agent key(s), %zu operator key(s)", agents, operators);
}

/* The ring of a domain, and the directory it is read from; NULL for a
   domain that is not ours. */
static rc_keyring_t *
s_ring (rc_zap_t *self, const char *domain, const char **dir)
{
    if (streq (domain, RC_ZAP_DOMAIN_AGENTS)) {
        *dir = self->cfg->agent_keys_dir;
        return self->agent_keys;
    }
    if (streq (domain, RC_ZAP_DOMAIN_OPERATORS)) {
        *dir = self->cfg->operator_keys_dir;
        return self->operator_keys;
    }
    *dir = "";
    return NULL;
}

/* Is the CURVE key (32 bytes, z85 its text) admitted on domain? */
static bool
s_admit (rc_zap_t *self, const char *domain, const char *z85, const char *address)
{
    const char *dir;
    rc_keyring_t *ring = s_ring (self, domain, &dir);
    /* a key file just dropped in is admitted without a SIGHUP; a removed
       one is noticed here too, for new connections */
    if (ring && !rc_keyring_has (ring, z85) && rc_keyring_changed (ring)) {
        size_t n = rc_keyring_reload (ring);
        rc_log_info ("%s key directory changed: %zu key(s) now", domain, n);
    }
    if (ring && rc_keyring_has (ring, z85))
        return true;
    char what[128];
    snprintf (what, sizeof what, "zap:%s:%s", domain, z85);
    if (rc_quiet_should (self->quiet, what, RC_WARN_EVERY_MS))
        rc_log_warn ("refused %s key %s from %s: not in %s", domain, z85, address ? address : "?",
                     streq (domain, RC_ZAP_DOMAIN_OPERATORS) ? self->cfg->operator_keys_dir
                                                             : self->cfg->agent_keys_dir);
    return false;
}

int
rc_zap_on_request (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    rc_zap_t *self = (rc_zap_t *)arg;
    zmsg_t *req = zmsg_recv (sock);
    if (!req)
        return 0;
    char *version = zmsg_popstr (req);
    char *request_id = zmsg_popstr (req);
    char *domain = zmsg_popstr (req);
    char *address = zmsg_popstr (req);
    char *identity = zmsg_popstr (req);
    char *mechanism = zmsg_popstr (req);
    zframe_t *key = zmsg_pop (req);
    const char *status = "400", *text = "No access";
    char z85[RC_Z85_KEY_LEN + 1] = "";

    if (!version || !streq (version, "1.0") || !request_id || !domain || !mechanism) {
        status = "500";
        text = "Bad ZAP request";
    }
    else if (streq (mechanism, "CURVE") && key && zframe_size (key) == 32) {
        zmq_z85_encode (z85, zframe_data (key), 32);
        if (s_admit (self, domain, z85, address)) {
            status = "200";
            text = "OK";
        }
    }
    /* User-Id is the client's public key: every message then carries it,
       and the host id <-> key binding is checked against it. */
    zstr_sendx (sock, "1.0", request_id ? request_id : "", status, text,
                streq (status, "200") ? z85 : "", "", NULL);
    free (version);
    free (request_id);
    free (domain);
    free (address);
    free (identity);
    free (mechanism);
    zframe_destroy (&key);
    zmsg_destroy (&req);
    return 0;
}
