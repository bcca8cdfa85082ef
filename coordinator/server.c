/*  server.c - the coordinator's server actor: binds the agent ROUTER, the
    instruction PUB and the control ROUTER, answers ZAP for them, keeps the
    fleet in the store and answers the CLI. One zloop, nothing blocks, and
    the work one agent can cause is bounded (rc_defaults.h). */
#include "server.h"
#include "backup.h"
#include "engine.h"
#include "freeze.h"
#include "keyring.h"
#include "rc_defaults.h"
#include "rc_envelope.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_seal.h"
#include "rc_systemd.h"
#include "rc_time.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN_AGENTS "agents"
#define ZAP_DOMAIN_OPERATORS "operators"
/* Repeated warnings about one peer (a refused key retrying every few
   seconds) are logged at most this often. */
#define RC_WARN_EVERY_MS (60 * 1000)
/* What an agent says of its apps is remembered as a hash of this size. */
#define RC_APPS_HASH_BYTES crypto_generichash_BYTES

typedef struct {
    char *id;
    char pubkey[RC_Z85_KEY_LEN + 1]; /* the key that registered this id */
    bool online;
    bool healthy;
    int64_t last_heard;                     /* monotonic ms */
    bool apps_known;                        /* apps_hash holds what is stored */
    uint8_t apps_hash[RC_APPS_HASH_BYTES];  /* apps as last stored, to spot changes */
    bool hello_known;                       /* hello_hash holds what is stored */
    uint8_t hello_hash[RC_APPS_HASH_BYTES]; /* the host row of the last hello */
    bool seal_ok;                           /* seal_key is usable */
    uint8_t seal_key[RC_SEAL_KEY_BYTES];    /* seals instructions to this host */
    uint64_t run_id;                        /* the agent run we listen to (0: any) */
    uint64_t last_seq;                      /* its newest message seen */
    double tokens;                          /* store writes this peer may cause now */
    int64_t tokens_at;                      /* monotonic ms of the last refill */
} s_host_t;

typedef struct {
    const rc_config_t *cfg; /* borrowed */
    zsock_t *pipe;
    zloop_t *loop;
    zsock_t *zap;       /* ZAP handler (REP) */
    zsock_t *agents;    /* ROUTER for agents */
    zsock_t *publisher; /* PUB of instructions */
    zsock_t *control;   /* ROUTER for the CLI */
    rc_keyring_t *agent_keys;
    rc_keyring_t *operator_keys;
    rc_store_t *store;
    rc_engine_t *engine; /* the rollout engine */
    rc_freeze_t *freeze; /* freeze windows and the operator's freeze */
    rc_backup_t *backup; /* `rollclone backup`, stepped from the cron */
    zhashx_t *hosts;     /* id -> s_host_t */
    zhashx_t *keys;      /* Z85 public key -> s_host_t (borrowed): one key, one host */
    zhashx_t *warned;    /* what -> last warning time (mono ms) */
    int64_t started;     /* monotonic ms */
    uint64_t seq;
    uint64_t dropped_agent;    /* frames dropped on the agent socket */
    uint64_t dropped_control;  /* frames dropped on the control socket */
    uint64_t states_refused;   /* hellos/heartbeats over a limit */
    uint64_t messages_stale;   /* hellos/heartbeats older than one seen */
    uint64_t writes_throttled; /* store writes a peer was over its share for */
    bool terminated;
} s_server_t;

static void
s_host_destroy (s_host_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->id);
        free (*self_p);
        *self_p = NULL;
    }
}

/* True (and remembers now) when what has not been warned about lately. */
static bool
s_should_warn (s_server_t *self, const char *what, int64_t every)
{
    int64_t now = rc_mono_ms ();
    int64_t *last = (int64_t *)zhashx_lookup (self->warned, what);
    if (last && now - *last < every)
        return false;
    if (!last) {
        if (zhashx_size (self->warned) > 10000)
            zhashx_purge (self->warned);
        last = (int64_t *)malloc (sizeof *last);
        if (!last)
            return true;
        zhashx_insert (self->warned, what, last);
    }
    *last = now;
    return true;
}

static void
s_event (s_server_t *self, const char *host_id, const char *kind, const char *fmt, ...)
{
    char detail[512] = "";
    if (fmt) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (detail, sizeof detail, fmt, args);
        va_end (args);
    }
    if (rc_store_event (self->store, rc_now_ms (), NULL, host_id, kind, detail) != 0)
        rc_log_error ("store: event %s: %s", kind, rc_store_errmsg (self->store));
}

/* The seal key of a host, from its registered public key and ours. */
static void
s_host_seal (s_server_t *self, s_host_t *host)
{
    host->seal_ok =
        rc_seal_key_z85 (host->seal_key, host->pubkey, zcert_secret_key (self->cfg->cert)) == 0;
    if (!host->seal_ok)
        rc_log_error ("host '%s': key %s is not usable to seal instructions", host->id,
                      host->pubkey);
}

/* Token bucket: true (and takes a token) when host may cause one more store
   write now. */
static bool
s_take_write (s_server_t *self, s_host_t *host)
{
    int64_t now = rc_mono_ms ();
    host->tokens += (double)(now - host->tokens_at) * RC_PEER_WRITES_PER_S / 1000.0;
    host->tokens_at = now;
    if (host->tokens > RC_PEER_WRITE_BURST)
        host->tokens = RC_PEER_WRITE_BURST;
    if (host->tokens < 1) {
        self->writes_throttled++;
        return false;
    }
    host->tokens -= 1;
    return true;
}

/* A refusal about host (or key when no host is bound to it): logged and an
   event, each at most every RC_REFUSED_EVENT_EVERY_MS per host and kind. */
static void
s_refusal (s_server_t *self, const char *host_id, const char *key, const char *kind,
           const char *fmt, ...)
{
    char detail[512] = "";
    va_list args;
    va_start (args, fmt);
    vsnprintf (detail, sizeof detail, fmt, args);
    va_end (args);
    char what[256];
    snprintf (what, sizeof what, "%s:%s:%s", kind, host_id ? host_id : "", key);
    if (!s_should_warn (self, what, RC_REFUSED_EVENT_EVERY_MS))
        return;
    rc_log_warn ("%s%s%s: %s", host_id ? "host '" : "key ", host_id ? host_id : key,
                 host_id ? "'" : "", detail);
    s_event (self, host_id, kind, "%s (key %s)", detail, key);
}

/* ------------------------------------------------------------------------ */
/* ZAP: admit agent keys on the agent sockets and operator keys on the
   control socket. czmq's zauth holds one certificate store for every
   domain; we need two, so the server answers ZAP itself (RFC 27). */

static int
s_on_zap (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    s_server_t *self = (s_server_t *)arg;
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
        rc_keyring_t *ring = streq (domain, ZAP_DOMAIN_AGENTS)      ? self->agent_keys
                             : streq (domain, ZAP_DOMAIN_OPERATORS) ? self->operator_keys
                                                                    : NULL;
        /* a key file just dropped in is admitted without a SIGHUP; a
           removed one is noticed here too, for new connections */
        if (ring && !rc_keyring_has (ring, z85) && rc_keyring_changed (ring)) {
            size_t n = rc_keyring_reload (ring);
            rc_log_info ("%s key directory changed: %zu key(s) now", domain, n);
        }
        if (ring && rc_keyring_has (ring, z85)) {
            status = "200";
            text = "OK";
        }
        else {
            char what[128];
            snprintf (what, sizeof what, "zap:%s:%s", domain, z85);
            if (s_should_warn (self, what, RC_WARN_EVERY_MS))
                rc_log_warn ("refused %s key %s from %s: not in %s", domain, z85,
                             address ? address : "?",
                             streq (domain, ZAP_DOMAIN_OPERATORS) ? self->cfg->operator_keys_dir
                                                                  : self->cfg->agent_keys_dir);
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

/* ------------------------------------------------------------------------ */
/* ------------------------------------------------------------------------ */
/* Agents */

static void
s_ack (s_server_t *self, zframe_t *routing_id, uint64_t ack_seq, Rollclone__Ack__Status status,
       const char *reason)
{
    Rollclone__Ack ack = ROLLCLONE__ACK__INIT;
    ack.status = status;
    ack.ack_seq = ack_seq;
    ack.reason = (char *)(reason ? reason : "");
    rc_envelope_t env;
    rc_envelope_init (&env, "coordinator", ++self->seq);
    env.body_case = ROLLCLONE__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    zframe_t *frame = rc_envelope_pack (&env);
    zframe_t *dest = zframe_dup (routing_id);
    if (!frame || !dest || zframe_send (&dest, self->agents, ZFRAME_MORE | ZFRAME_DONTWAIT) != 0
        || zframe_send (&frame, self->agents, ZFRAME_DONTWAIT) != 0)
        rc_log_debug ("ack to an agent dropped");
    zframe_destroy (&dest);
    zframe_destroy (&frame);
}

static void
s_hash_str (crypto_generichash_state *state, const char *text)
{
    /* length first: "ab","c" and "a","bc" hash apart */
    uint32_t len = (uint32_t)strlen (text ? text : "");
    crypto_generichash_update (state, (const uint8_t *)&len, sizeof len);
    crypto_generichash_update (state, (const uint8_t *)(text ? text : ""), len);
}

/* A hash of an agent's app states, to store only what changed: no string
   is built per heartbeat, and the work is bounded by the checked counts. */
static void
s_apps_hash (Rollclone__AppState **apps, size_t n, uint8_t out[RC_APPS_HASH_BYTES])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, RC_APPS_HASH_BYTES);
    for (size_t i = 0; i < n; i++) {
        s_hash_str (&state, apps[i]->app);
        s_hash_str (&state, apps[i]->current);
        uint32_t points = (uint32_t)apps[i]->n_rollback_points;
        crypto_generichash_update (&state, (const uint8_t *)&points, sizeof points);
        for (size_t j = 0; j < apps[i]->n_rollback_points; j++)
            s_hash_str (&state, apps[i]->rollback_points[j]);
    }
    crypto_generichash_final (&state, out, RC_APPS_HASH_BYTES);
}

/* Checks what an agent says about its apps before any of it is stored.
   Returns NULL or the reason; a count over a limit names it in buf. */
static const char *
s_apps_invalid (Rollclone__AppState **apps, size_t n, char *buf, size_t size)
{
    if (n > RC_MAX_APPS_PER_HOST) {
        snprintf (buf, size, "too many apps (%zu, limit %d)", n, RC_MAX_APPS_PER_HOST);
        return buf;
    }
    for (size_t i = 0; i < n; i++) {
        if (!rc_name_valid (apps[i]->app))
            return "bad app name";
        if (*apps[i]->current && !rc_name_valid (apps[i]->current))
            return "bad current version";
        if (apps[i]->n_rollback_points > RC_MAX_ROLLBACK_POINTS) {
            snprintf (buf, size, "too many rollback points for app %s (%zu, limit %d)",
                      apps[i]->app, apps[i]->n_rollback_points, RC_MAX_ROLLBACK_POINTS);
            return buf;
        }
        for (size_t j = 0; j < apps[i]->n_rollback_points; j++)
            if (!rc_name_valid (apps[i]->rollback_points[j]))
                return "bad rollback point";
    }
    return NULL;
}

/* The store's comma-separated rollback points of one app, in one
   allocation (names are checked: no comma in them). */
static char *
s_points_join (const Rollclone__AppState *app)
{
    size_t len = 1;
    for (size_t j = 0; j < app->n_rollback_points; j++)
        len += strlen (app->rollback_points[j]) + 1;
    char *points = (char *)malloc (len);
    if (!points)
        return NULL;
    char *at = points;
    for (size_t j = 0; j < app->n_rollback_points; j++) {
        if (j)
            *at++ = ',';
        size_t n = strlen (app->rollback_points[j]);
        memcpy (at, app->rollback_points[j], n);
        at += n;
    }
    *at = '\0';
    return points;
}

static int
s_store_apps (s_server_t *self, s_host_t *host, Rollclone__AppState **apps, size_t n,
              const uint8_t hash[RC_APPS_HASH_BYTES], int64_t now)
{
    if (host->apps_known && memcmp (host->apps_hash, hash, RC_APPS_HASH_BYTES) == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char *points = s_points_join (apps[i]);
        int rc = points ? rc_store_host_set_app (self->store, host->id, apps[i]->app,
                                                 apps[i]->current, points, now)
                        : -1;
        free (points);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Sequence numbers: a message of the run we listen to must be newer than
   the newest seen; another run is taken up by its hello only (an agent
   starts with a hello), or by anything when we know of no run (we just
   started). True when env is stale. */
static bool
s_stale (s_server_t *self, s_host_t *host, const rc_envelope_t *env, bool is_hello)
{
    bool stale;
    if (host->run_id == 0 || env->run_id != host->run_id)
        stale = !is_hello && host->run_id != 0;
    else
        stale = env->seq <= host->last_seq;
    if (stale) {
        self->messages_stale++;
        rc_log_debug ("host '%s': ignored a stale %s (run %" PRIx64 " seq %" PRIu64
                      "; newest run %" PRIx64 " seq %" PRIu64 ")",
                      host->id, is_hello ? "hello" : "message", env->run_id, env->seq, host->run_id,
                      host->last_seq);
    }
    return stale;
}

static void
s_seen (s_host_t *host, const rc_envelope_t *env)
{
    if (env->run_id != host->run_id) {
        host->run_id = env->run_id;
        host->last_seq = env->seq;
    }
    else if (env->seq > host->last_seq)
        host->last_seq = env->seq;
}

static void
s_on_hello (s_server_t *self, zframe_t *routing_id, const char *key, rc_envelope_t *env)
{
    Rollclone__Hello *hello = env->hello;
    const char *bad = NULL;
    char why[160];
    char labels[RC_LABELS_MAX * (2 * RC_NAME_MAX + 2) + 1] = "";
    s_host_t *bound = (s_host_t *)zhashx_lookup (self->keys, key);
    if (!rc_name_valid (hello->host_id))
        bad = "bad host id";
    else if (!streq (hello->host_id, env->sender))
        bad = "host id differs from sender";
    else if (hello->n_labels > RC_LABELS_MAX)
        bad = "too many labels";
    else
        bad = s_apps_invalid (hello->apps, hello->n_apps, why, sizeof why);
    for (size_t i = 0; !bad && i < hello->n_labels; i++) {
        if (!rc_name_valid (hello->labels[i]->key) || !rc_name_valid (hello->labels[i]->value))
            bad = "bad label";
        else {
            size_t used = strlen (labels);
            snprintf (labels + used, sizeof labels - used, "%s%s=%s", i ? "," : "",
                      hello->labels[i]->key, hello->labels[i]->value);
        }
    }
    if (bad) {
        self->dropped_agent++;
        if (strstr (bad, "too many")) {
            self->states_refused++;
            s_refusal (self, bound ? bound->id : NULL, key, "refused", "hello refused: %s", bad);
        }
        else
            rc_log_warn ("refused hello from key %s: %s", key, bad);
        s_ack (self, routing_id, env->seq, ROLLCLONE__ACK__STATUS__REFUSED, bad);
        return;
    }
    /* one key, one host: a key that registered X never speaks for Y */
    if (bound && !streq (bound->id, hello->host_id)) {
        self->dropped_agent++;
        s_refusal (self, bound->id, key, "refused",
                   "hello as '%s' refused: this key registered host '%s'", hello->host_id,
                   bound->id);
        snprintf (why, sizeof why, "this key is registered as host '%s'", bound->id);
        s_ack (self, routing_id, env->seq, ROLLCLONE__ACK__STATUS__REFUSED, why);
        return;
    }

    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, hello->host_id);
    if (host && !streq (host->pubkey, key)) {
        char what[160];
        snprintf (what, sizeof what, "conflict:%s:%s", hello->host_id, key);
        if (s_should_warn (self, what, RC_REFUSED_EVENT_EVERY_MS)) {
            rc_log_warn ("refused host id '%s' from key %s: it is bound to key %s", hello->host_id,
                         key, host->pubkey);
            s_event (self, hello->host_id, "refused",
                     "hello from key %s refused: id bound to key %s", key, host->pubkey);
        }
        s_ack (self, routing_id, env->seq, ROLLCLONE__ACK__STATUS__REFUSED,
               "host id is registered with another key");
        return;
    }
    if (host && s_stale (self, host, env, true))
        return;

    uint8_t apps_hash[RC_APPS_HASH_BYTES], hello_hash[RC_APPS_HASH_BYTES];
    s_apps_hash (hello->apps, hello->n_apps, apps_hash);
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, RC_APPS_HASH_BYTES);
    s_hash_str (&state, hello->hostname);
    s_hash_str (&state, hello->agent_version);
    s_hash_str (&state, labels);
    crypto_generichash_final (&state, hello_hash, RC_APPS_HASH_BYTES);

    int64_t now = rc_now_ms ();
    bool is_new = host == NULL;
    bool was_online = host && host->online;
    /* the same hello again from a host online and healthy as it says: no
       write at all (an agent repeats its hello when acks are late) */
    if (!is_new && was_online && host->healthy == hello->healthy && host->hello_known
        && memcmp (host->hello_hash, hello_hash, sizeof hello_hash) == 0 && host->apps_known
        && memcmp (host->apps_hash, apps_hash, sizeof apps_hash) == 0) {
        s_seen (host, env);
        host->last_heard = rc_mono_ms ();
        s_ack (self, routing_id, env->seq, ROLLCLONE__ACK__STATUS__OK, NULL);
        return;
    }
    if (!is_new && !s_take_write (self, host))
        return; /* no ack: the agent says hello again */
    if (is_new) {
        host = (s_host_t *)zmalloc (sizeof (s_host_t));
        host->id = strdup (hello->host_id);
        snprintf (host->pubkey, sizeof host->pubkey, "%s", key);
        host->tokens = RC_PEER_WRITE_BURST;
        host->tokens_at = rc_mono_ms ();
    }
    rc_host_row_t row = {.id = hello->host_id,
                         .hostname = hello->hostname,
                         .pubkey = key,
                         .agent_version = hello->agent_version,
                         .labels = labels,
                         .state = "online",
                         .healthy = hello->healthy,
                         .last_seen = now};
    int rc = rc_store_begin (self->store);
    if (rc == 0)
        rc = rc_store_host_upsert (self->store, &row);
    if (rc == 0) {
        host->apps_known = false; /* a hello stores every app again */
        rc = s_store_apps (self, host, hello->apps, hello->n_apps, apps_hash, now);
    }
    if (rc == 0) {
        if (is_new)
            s_event (self, hello->host_id, "registered", "agent %s, key %s, labels %s",
                     hello->agent_version, key, labels);
        else if (!was_online)
            s_event (self, hello->host_id, "online", "hello");
        rc = rc_store_commit (self->store);
    }
    if (rc != 0) {
        rc_log_error ("store: hello from '%s': %s", hello->host_id, rc_store_errmsg (self->store));
        rc_store_rollback (self->store);
        if (is_new)
            s_host_destroy (&host);
        return; /* no ack: the agent says hello again */
    }
    if (is_new) {
        s_host_seal (self, host);
        zhashx_insert (self->hosts, host->id, host);
        zhashx_insert (self->keys, host->pubkey, host);
    }
    memcpy (host->apps_hash, apps_hash, sizeof apps_hash);
    host->apps_known = true;
    memcpy (host->hello_hash, hello_hash, sizeof hello_hash);
    host->hello_known = true;
    s_seen (host, env);
    host->online = true;
    host->healthy = hello->healthy;
    host->last_heard = rc_mono_ms ();
    if (is_new || !was_online)
        rc_log_info ("host '%s' online (%s, agent %s)", host->id, is_new ? "new" : "back",
                     hello->agent_version);
    s_ack (self, routing_id, env->seq, ROLLCLONE__ACK__STATUS__OK, NULL);
    rc_engine_on_apps (self->engine, host->id, hello->apps, hello->n_apps, true);
}

static void
s_on_heartbeat (s_server_t *self, zframe_t *routing_id, const char *key, rc_envelope_t *env)
{
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, env->sender);
    if (!host) {
        s_ack (self, routing_id, env->seq, ROLLCLONE__ACK__STATUS__HELLO_AGAIN, "unknown host");
        return;
    }
    if (!streq (host->pubkey, key)) {
        self->dropped_agent++;
        s_ack (self, routing_id, env->seq, ROLLCLONE__ACK__STATUS__REFUSED,
               "host id is registered with another key");
        return;
    }
    Rollclone__Heartbeat *hb = env->heartbeat;
    char why[160];
    const char *bad = s_apps_invalid (hb->apps, hb->n_apps, why, sizeof why);
    if (bad) {
        self->dropped_agent++;
        if (strstr (bad, "too many")) {
            self->states_refused++;
            s_refusal (self, host->id, key, "refused", "heartbeat refused: %s", bad);
            s_ack (self, routing_id, env->seq, ROLLCLONE__ACK__STATUS__REFUSED, bad);
        }
        else
            rc_log_warn ("dropped heartbeat from '%s': %s", host->id, bad);
        return;
    }
    if (host->run_id != 0 && env->run_id != host->run_id) {
        /* another run than the one whose hello we took: a stale message of
           a run that ended, or a run we missed the hello of */
        self->messages_stale++;
        s_ack (self, routing_id, env->seq, ROLLCLONE__ACK__STATUS__HELLO_AGAIN, "unknown run");
        return;
    }
    if (s_stale (self, host, env, false))
        return;
    s_seen (host, env);
    int64_t now = rc_now_ms ();
    host->last_heard = rc_mono_ms ();
    bool came_online = !host->online;
    bool health_changed = host->healthy != hb->healthy;
    uint8_t hash[RC_APPS_HASH_BYTES];
    s_apps_hash (hb->apps, hb->n_apps, hash);
    bool apps_changed = !host->apps_known || memcmp (hash, host->apps_hash, sizeof hash) != 0;
    /* a peer over its share of writes is heard (it stays online) but its
       news waits for a later heartbeat */
    if ((came_online || health_changed || apps_changed) && s_take_write (self, host)) {
        int rc = rc_store_begin (self->store);
        if (rc == 0)
            rc = rc_store_host_set_state (self->store, host->id, "online", hb->healthy, now);
        if (rc == 0 && apps_changed)
            rc = s_store_apps (self, host, hb->apps, hb->n_apps, hash, now);
        if (rc == 0 && came_online)
            s_event (self, host->id, "online", "heartbeat");
        if (rc == 0 && health_changed)
            s_event (self, host->id, hb->healthy ? "healthy" : "unhealthy", "self health check");
        if (rc == 0)
            rc = rc_store_commit (self->store);
        if (rc != 0) {
            rc_log_error ("store: heartbeat of '%s': %s", host->id, rc_store_errmsg (self->store));
            rc_store_rollback (self->store);
            return;
        }
        if (came_online)
            rc_log_info ("host '%s' online", host->id);
        if (health_changed)
            rc_log_info ("host '%s' %s", host->id, hb->healthy ? "healthy" : "UNHEALTHY");
        host->online = true;
        host->healthy = hb->healthy;
        memcpy (host->apps_hash, hash, sizeof hash);
        host->apps_known = true;
    }
    rc_engine_on_apps (self->engine, host->id, hb->apps, hb->n_apps, false);
    s_ack (self, routing_id, env->seq, ROLLCLONE__ACK__STATUS__OK, NULL);
}

/* Why s_recv dropped a frame, for the callers that answer some of them. */
typedef struct {
    size_t oversize;       /* the frame's size when over the limit, else 0 */
    uint32_t peer_version; /* the peer's protocol when not ours, else 0 */
} s_dropped_t;

/* Receives [routing id, envelope] on a ROUTER: from a key still in ring,
   at most limit bytes, decoding, and (unless NOT_SET) of body `want`.
   Anything else is dropped, counted in *dropped and logged
   (rate-limited), with what a reply needs in *why. On success the message
   (owning routing id and key) is the caller's to destroy. */
static rc_envelope_t *
s_recv (s_server_t *self, zsock_t *sock, rc_keyring_t *ring, Rollclone__Envelope__BodyCase want,
        size_t limit, zmsg_t **msg_p, zframe_t **routing_id, const char **key, uint64_t *dropped,
        const char *label, s_dropped_t *why)
{
    zmsg_t *msg = zmsg_recv (sock);
    if (!msg)
        return NULL;
    memset (why, 0, sizeof *why);
    zframe_t *payload = NULL;
    *routing_id = zmsg_first (msg);
    payload = zmsg_next (msg);
    *key = payload ? zframe_meta (payload, "User-Id") : NULL;
    const char *reason = "not routing id + one frame";
    rc_envelope_t *env = NULL;
    if (zmsg_size (msg) == 2) {
        if (!*key || !rc_keyring_has (ring, *key))
            reason = "key no longer admitted";
        else if (zframe_size (payload) > limit) {
            reason = "oversized";
            why->oversize = zframe_size (payload);
        }
        else
            env = rc_envelope_unpack (payload, &reason);
        if (!env && streq (reason, "wrong protocol version"))
            why->peer_version = rc_envelope_version (zframe_data (payload), zframe_size (payload));
        if (env && want != ROLLCLONE__ENVELOPE__BODY__NOT_SET && env->body_case != want) {
            reason = "unexpected message";
            rc_envelope_destroy (&env);
        }
    }
    if (!env) {
        (*dropped)++;
        char what[32];
        snprintf (what, sizeof what, "drop:%s", label);
        if (s_should_warn (self, what, RC_WARN_EVERY_MS / 60))
            rc_log_warn ("dropped a frame on the %s socket: %s (%" PRIu64 " so far)", label, reason,
                         *dropped);
        if (why->oversize || why->peer_version) {
            *msg_p = msg; /* the caller answers */
            return NULL;
        }
        zmsg_destroy (&msg);
        *key = NULL; /* it was the frame's */
        *routing_id = NULL;
        return NULL;
    }
    *msg_p = msg;
    return env;
}

/* One message from the agent ROUTER. */
static void
s_agent_message (s_server_t *self, zsock_t *sock)
{
    zmsg_t *msg = NULL;
    zframe_t *routing_id = NULL;
    const char *key = NULL;
    s_dropped_t why;
    rc_envelope_t *env =
        s_recv (self, sock, self->agent_keys, ROLLCLONE__ENVELOPE__BODY__NOT_SET,
                RC_MAX_STATE_BYTES, &msg, &routing_id, &key, &self->dropped_agent, "agent", &why);
    if (!env) {
        /* key lives in msg, which s_recv kept only when there is an answer */
        s_host_t *bound = msg && key ? (s_host_t *)zhashx_lookup (self->keys, key) : NULL;
        if (why.oversize) {
            /* refused unread: its size is the whole story */
            self->states_refused++;
            s_refusal (self, bound ? bound->id : NULL, key, "refused",
                       "message of %zu bytes refused unread (limit %d)", why.oversize,
                       RC_MAX_STATE_BYTES);
        }
        else if (why.peer_version)
            s_refusal (self, bound ? bound->id : NULL, key, "refused",
                       "agent speaks protocol %u, this coordinator speaks %d", why.peer_version,
                       RC_PROTOCOL_VERSION);
        zmsg_destroy (&msg);
        return;
    }
    switch (env->body_case) {
    case ROLLCLONE__ENVELOPE__BODY_HELLO: s_on_hello (self, routing_id, key, env); break;
    case ROLLCLONE__ENVELOPE__BODY_HEARTBEAT: s_on_heartbeat (self, routing_id, key, env); break;
    case ROLLCLONE__ENVELOPE__BODY_REPORT: {
        s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, env->sender);
        if (!host || !streq (host->pubkey, key)) {
            self->dropped_agent++;
            s_ack (self, routing_id, env->seq,
                   host ? ROLLCLONE__ACK__STATUS__REFUSED : ROLLCLONE__ACK__STATUS__HELLO_AGAIN,
                   host ? "host id is registered with another key" : "unknown host");
            break;
        }
        host->last_heard = rc_mono_ms ();
        /* a heartbeat sent before this report and arriving after it is
           older news than the report: the sequence number says so */
        if (host->run_id == env->run_id)
            s_seen (host, env);
        rc_engine_on_report (self->engine, host->id, env->report);
        s_ack (self, routing_id, env->seq, ROLLCLONE__ACK__STATUS__OK, NULL);
        break;
    }
    default:
        self->dropped_agent++;
        rc_log_warn ("dropped a message on the agent socket: unexpected body %d", env->body_case);
        break;
    }
    rc_envelope_destroy (&env);
    zmsg_destroy (&msg);
}

static int
s_on_agents (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    s_server_t *self = (s_server_t *)arg;
    /* a batch, then the loop's other readers and timers get their turn;
       libzmq's ROUTER queues peers fairly, one message each in turn, and
       every message's cost is bounded, so no agent starves the others */
    for (int i = 0; i < RC_AGENT_BATCH && (zsock_events (sock) & ZMQ_POLLIN); i++)
        s_agent_message (self, sock);
    /* the socket is drained: advance what the reports of this burst made
       possible, once */
    if (!(zsock_events (sock) & ZMQ_POLLIN))
        rc_engine_flush (self->engine);
    return 0;
}

/* Publishes one host's instruction, sealed to its key, on its topic. */
static void
s_publish (void *arg, const char *host_id, const Rollclone__Instruction *ins)
{
    s_server_t *self = (s_server_t *)arg;
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_id);
    char topic[RC_TOPIC_MAX];
    size_t topic_len = rc_seal_topic (topic, sizeof topic, host_id);
    if (!host || !host->seal_ok || !topic_len) {
        rc_log_warn ("no key to seal an instruction to '%s' with: not published", host_id);
        return;
    }
    zframe_t *frame = rc_seal_pack (ins, host_id, host->seal_key, "coordinator", ++self->seq);
    zframe_t *head = zframe_new (topic, topic_len);
    if (!frame || !head || zframe_send (&head, self->publisher, ZFRAME_MORE | ZFRAME_DONTWAIT) != 0
        || zframe_send (&frame, self->publisher, ZFRAME_DONTWAIT) != 0)
        rc_log_warn_with (&(rc_log_fields_t){.host_id = host_id},
                          "publish to %s dropped: the next round sends it again", host_id);
    zframe_destroy (&head);
    zframe_destroy (&frame);
}

/* ------------------------------------------------------------------------ */
/* Control socket */

typedef struct {
    s_server_t *self;
    Rollclone__HostsReply *reply;
    size_t cap;                /* room in reply->hosts */
    Rollclone__HostInfo *last; /* the host the next app rows belong to */
    size_t apps_cap;           /* room in last->apps */
    bool failed;               /* out of memory */
} s_hosts_ctx_t;

static void
s_collect_app (void *arg, const rc_app_row_t *row)
{
    s_hosts_ctx_t *ctx = (s_hosts_ctx_t *)arg;
    Rollclone__HostInfo *info = ctx->last;
    if (!info || ctx->failed)
        return;
    if (info->n_apps == ctx->apps_cap) {
        size_t cap = ctx->apps_cap ? 2 * ctx->apps_cap : 4;
        Rollclone__AppState **apps =
            (Rollclone__AppState **)realloc (info->apps, cap * sizeof *apps);
        if (!apps) {
            ctx->failed = true;
            return;
        }
        info->apps = apps;
        ctx->apps_cap = cap;
    }
    Rollclone__AppState *app = rc_app_state_new (row->app, row->current, row->rollback_points);
    if (!app) {
        ctx->failed = true;
        return;
    }
    info->apps[info->n_apps++] = app;
}

static void
s_collect_host (void *arg, const rc_host_row_t *row)
{
    s_hosts_ctx_t *ctx = (s_hosts_ctx_t *)arg;
    Rollclone__HostsReply *reply = ctx->reply;
    ctx->last = NULL;
    if (ctx->failed)
        return;
    if (reply->n_hosts == ctx->cap) {
        size_t cap = ctx->cap ? 2 * ctx->cap : 64;
        Rollclone__HostInfo **hosts =
            (Rollclone__HostInfo **)realloc (reply->hosts, cap * sizeof *hosts);
        if (!hosts) {
            ctx->failed = true;
            return;
        }
        reply->hosts = hosts;
        ctx->cap = cap;
    }
    Rollclone__HostInfo *info = (Rollclone__HostInfo *)zmalloc (sizeof *info);
    rollclone__host_info__init (info);
    reply->hosts[reply->n_hosts++] = info;
    ctx->last = info;
    ctx->apps_cap = 0;
    info->id = strdup (row->id);
    info->hostname = strdup (row->hostname);
    info->state = strdup (row->state);
    info->healthy = row->healthy;
    info->agent_version = strdup (row->agent_version);
    info->last_seen_ms = row->last_seen;
    /* last_seen is written on transitions only: the live figure is ours */
    s_host_t *host = (s_host_t *)zhashx_lookup (ctx->self->hosts, row->id);
    if (host && host->online)
        info->last_seen_ms = rc_now_ms () - (rc_mono_ms () - host->last_heard);
    rc_label_t labels[RC_LABELS_MAX];
    char err[128];
    int n = rc_labels_parse (row->labels, labels, RC_LABELS_MAX, err, sizeof err);
    if (n > 0) {
        info->labels = (Rollclone__Label **)calloc ((size_t)n, sizeof *info->labels);
        for (int i = 0; info->labels && i < n; i++) {
            Rollclone__Label *label = (Rollclone__Label *)zmalloc (sizeof *label);
            rollclone__label__init (label);
            label->key = strdup (labels[i].key);
            label->value = strdup (labels[i].value);
            info->labels[info->n_labels++] = label;
        }
    }
    if (!info->id || !info->hostname || !info->state || !info->agent_version)
        ctx->failed = true;
}

static void
s_reply (s_server_t *self, zframe_t *routing_id, Rollclone__ControlReply *reply)
{
    rc_envelope_t env;
    rc_envelope_init (&env, "coordinator", ++self->seq);
    env.body_case = ROLLCLONE__ENVELOPE__BODY_REPLY;
    env.reply = reply;
    zframe_t *frame = rc_envelope_pack (&env);
    zframe_t *dest = zframe_dup (routing_id);
    if (!frame || !dest || zframe_send (&dest, self->control, ZFRAME_MORE | ZFRAME_DONTWAIT) != 0
        || zframe_send (&frame, self->control, ZFRAME_DONTWAIT) != 0)
        rc_log_warn ("reply to the CLI dropped");
    zframe_destroy (&dest);
    zframe_destroy (&frame);
}

static void
s_on_hosts (s_server_t *self, zframe_t *routing_id)
{
    /* built on the heap so that protobuf-c frees it whole */
    Rollclone__ControlReply *reply = (Rollclone__ControlReply *)zmalloc (sizeof *reply);
    rollclone__control_reply__init (reply);
    Rollclone__HostsReply *hosts = (Rollclone__HostsReply *)zmalloc (sizeof *hosts);
    rollclone__hosts_reply__init (hosts);
    reply->rep_case = ROLLCLONE__CONTROL_REPLY__REP_HOSTS;
    reply->hosts = hosts;
    s_hosts_ctx_t ctx = {.self = self, .reply = hosts};
    if (rc_store_fleet_each (self->store, s_collect_host, s_collect_app, &ctx) != 0) {
        reply->code = RC_EXIT_FAILED;
        reply->error = strdup (rc_store_errmsg (self->store));
    }
    else if (ctx.failed) {
        reply->code = RC_EXIT_FAILED;
        reply->error = strdup ("out of memory listing hosts");
    }
    s_reply (self, routing_id, reply);
    rollclone__control_reply__free_unpacked (reply, NULL);
}

static void
s_on_info (s_server_t *self, zframe_t *routing_id)
{
    Rollclone__InfoReply info = ROLLCLONE__INFO_REPLY__INIT;
    info.version = RC_VERSION;
    info.protocol_version = RC_PROTOCOL_VERSION;
    info.uptime_ms = (uint64_t)(rc_mono_ms () - self->started);
    for (s_host_t *host = (s_host_t *)zhashx_first (self->hosts); host;
         host = (s_host_t *)zhashx_next (self->hosts)) {
        if (host->online)
            info.agents_online++;
        else
            info.agents_offline++;
    }
    info.frames_dropped_agent = self->dropped_agent;
    info.frames_dropped_control = self->dropped_control;
    info.frames_dropped = self->dropped_agent + self->dropped_control;
    info.states_refused = self->states_refused;
    info.messages_stale = self->messages_stale;
    info.writes_throttled = self->writes_throttled;
    Rollclone__ControlReply reply = ROLLCLONE__CONTROL_REPLY__INIT;
    reply.rep_case = ROLLCLONE__CONTROL_REPLY__REP_INFO;
    reply.info = &info;
    s_reply (self, routing_id, &reply);
}

/* Whether a request changes something (a key from
   read_only_operator_keys_dir may not send one): plans and showing the
   freezes only read. */
static bool
s_request_writes (const Rollclone__ControlRequest *req)
{
    switch (req->req_case) {
    case ROLLCLONE__CONTROL_REQUEST__REQ_DEPLOY: return !req->deploy->plan;
    case ROLLCLONE__CONTROL_REQUEST__REQ_ROLLBACK: return !req->rollback->plan;
    case ROLLCLONE__CONTROL_REQUEST__REQ_OPERATE: return true;
    case ROLLCLONE__CONTROL_REQUEST__REQ_BACKUP: return true;
    case ROLLCLONE__CONTROL_REQUEST__REQ_FREEZE: return req->freeze->until_ms || req->freeze->clear;
    default: return false;
    }
}

/* What the operator asked to do, for a refusal. */
static const char *
s_request_name (const Rollclone__ControlRequest *req)
{
    switch (req->req_case) {
    case ROLLCLONE__CONTROL_REQUEST__REQ_DEPLOY: return "deploy";
    case ROLLCLONE__CONTROL_REQUEST__REQ_ROLLBACK: return "roll back";
    case ROLLCLONE__CONTROL_REQUEST__REQ_OPERATE:
        return req->operate->op == ROLLCLONE__OPERATE_REQUEST__OP__PAUSE    ? "pause"
               : req->operate->op == ROLLCLONE__OPERATE_REQUEST__OP__RESUME ? "resume"
                                                                            : "abort";
    case ROLLCLONE__CONTROL_REQUEST__REQ_BACKUP: return "back up the database";
    case ROLLCLONE__CONTROL_REQUEST__REQ_FREEZE: return "set or lift a freeze";
    default: return "do that";
    }
}

static int
s_on_control (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    s_server_t *self = (s_server_t *)arg;
    zmsg_t *msg = NULL;
    zframe_t *routing_id = NULL;
    const char *key = NULL;
    s_dropped_t why;
    rc_envelope_t *env = s_recv (self, sock, self->operator_keys, ROLLCLONE__ENVELOPE__BODY_REQUEST,
                                 RC_MAX_FRAME_BYTES, &msg, &routing_id, &key,
                                 &self->dropped_control, "control", &why);
    if (!env) {
        /* answered, not dropped: an operator must learn why */
        if (msg && (why.oversize || why.peer_version)) {
            char error[160];
            Rollclone__ControlReply refused = ROLLCLONE__CONTROL_REPLY__INIT;
            refused.protocol_version = RC_PROTOCOL_VERSION;
            if (why.oversize) {
                refused.code = RC_EXIT_USAGE;
                snprintf (error, sizeof error, "request too large (%zu bytes, limit %d)",
                          why.oversize, RC_MAX_FRAME_BYTES);
            }
            else {
                refused.code = RC_EXIT_UNREACHABLE;
                snprintf (error, sizeof error,
                          "coordinator speaks protocol %d, this rollclone speaks %u",
                          RC_PROTOCOL_VERSION, why.peer_version);
            }
            refused.error = error;
            s_reply (self, routing_id, &refused);
        }
        zmsg_destroy (&msg);
        return 0;
    }
    Rollclone__ControlRequest *req = env->request;
    Rollclone__ControlReply *reply = NULL;
    /* the events a request causes name its operator key */
    const char *operator_name = rc_keyring_name (self->operator_keys, key);
    if (rc_keyring_read_only (self->operator_keys, key) && s_request_writes (req)) {
        char error[RC_NAME_MAX + 128];
        snprintf (error, sizeof error, "operator key %s is read-only: it may not %s",
                  operator_name ? operator_name : "?", s_request_name (req));
        Rollclone__ControlReply refused = ROLLCLONE__CONTROL_REPLY__INIT;
        refused.code = RC_EXIT_USAGE;
        refused.error = error;
        s_reply (self, routing_id, &refused);
        rc_envelope_destroy (&env);
        zmsg_destroy (&msg);
        return 0;
    }
    rc_store_set_operator (self->store, operator_name);
    switch (req->req_case) {
    case ROLLCLONE__CONTROL_REQUEST__REQ_HOSTS: s_on_hosts (self, routing_id); break;
    case ROLLCLONE__CONTROL_REQUEST__REQ_INFO: s_on_info (self, routing_id); break;
    case ROLLCLONE__CONTROL_REQUEST__REQ_DEPLOY:
        reply = rc_engine_deploy (self->engine, req->deploy);
        break;
    case ROLLCLONE__CONTROL_REQUEST__REQ_STATUS:
        reply = rc_engine_status (self->engine, req->status);
        break;
    case ROLLCLONE__CONTROL_REQUEST__REQ_OPERATE:
        reply = rc_engine_operate (self->engine, req->operate);
        break;
    case ROLLCLONE__CONTROL_REQUEST__REQ_ROLLBACK:
        reply = rc_engine_rollback (self->engine, req->rollback);
        break;
    case ROLLCLONE__CONTROL_REQUEST__REQ_HISTORY:
        reply = rc_engine_history (self->engine, req->history);
        break;
    case ROLLCLONE__CONTROL_REQUEST__REQ_EVENTS:
        reply = rc_engine_events (self->engine, req->events);
        break;
    case ROLLCLONE__CONTROL_REQUEST__REQ_BACKUP:
        /* answered now when refused, else from the cron when complete */
        reply = rc_backup_request (self->backup, req->backup, routing_id);
        break;
    case ROLLCLONE__CONTROL_REQUEST__REQ_FREEZE:
        reply = rc_engine_freeze (self->engine, req->freeze);
        break;
    default: {
        Rollclone__ControlReply unknown = ROLLCLONE__CONTROL_REPLY__INIT;
        unknown.code = RC_EXIT_USAGE;
        unknown.error = "this coordinator does not know that request";
        s_reply (self, routing_id, &unknown);
        break;
    }
    }
    rc_store_set_operator (self->store, NULL);
    if (reply) {
        s_reply (self, routing_id, reply);
        rollclone__control_reply__free_unpacked (reply, NULL);
    }
    rc_envelope_destroy (&env);
    zmsg_destroy (&msg);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Cron: hosts that went silent turn offline. */

static int
s_on_cron (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_server_t *self = (s_server_t *)arg;
    int64_t mono = rc_mono_ms ();
    for (s_host_t *host = (s_host_t *)zhashx_first (self->hosts); host;
         host = (s_host_t *)zhashx_next (self->hosts)) {
        int64_t silence = mono - host->last_heard;
        if (!host->online || silence <= self->cfg->offline_after_ms)
            continue;
        int64_t now = rc_now_ms ();
        int rc = rc_store_begin (self->store);
        if (rc == 0)
            rc = rc_store_host_set_state (self->store, host->id, "offline", host->healthy,
                                          now - silence);
        if (rc == 0) {
            s_event (self, host->id, "offline", "no heartbeat for %lld ms", (long long)silence);
            rc = rc_store_commit (self->store);
        }
        if (rc != 0) {
            rc_log_error ("store: offline '%s': %s", host->id, rc_store_errmsg (self->store));
            rc_store_rollback (self->store);
            continue;
        }
        host->online = false;
        rc_log_warn ("host '%s' offline: no heartbeat for %lld ms", host->id, (long long)silence);
    }
    rc_engine_tick (self->engine);
    /* a running backup copies its next pages; the CLI is answered at the end */
    zframe_t *backup_to = NULL;
    Rollclone__ControlReply *backup_done = rc_backup_step (self->backup, &backup_to);
    if (backup_done) {
        s_reply (self, backup_to, backup_done);
        rollclone__control_reply__free_unpacked (backup_done, NULL);
        zframe_destroy (&backup_to);
    }
    /* retention: a few small transactions at most, usually nothing */
    if (rc_store_prune_step (self->store, self->cfg->event_retention_ms,
                             self->cfg->deployment_retention)
        < 0)
        rc_log_error ("store: %s", rc_store_errmsg (self->store));
    rc_systemd_watchdog ();
    return 0;
}

static int
s_on_pipe (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    s_server_t *self = (s_server_t *)arg;
    char *command = zstr_recv (sock);
    if (!command)
        return -1;
    int rc = 0;
    if (streq (command, "$TERM"))
        rc = -1;
    else if (streq (command, "RELOAD")) {
        size_t agents = rc_keyring_reload (self->agent_keys);
        size_t operators = rc_keyring_reload (self->operator_keys);
        rc_log_info ("reloaded keys: %zu agent key(s), %zu operator key(s)", agents, operators);
    }
    free (command);
    return rc;
}

/* ------------------------------------------------------------------------ */

static void
s_load_host (void *arg, const rc_host_row_t *row)
{
    s_server_t *self = (s_server_t *)arg;
    s_host_t *host = (s_host_t *)zmalloc (sizeof (s_host_t));
    host->id = strdup (row->id);
    snprintf (host->pubkey, sizeof host->pubkey, "%s", row->pubkey);
    host->online = streq (row->state, "online");
    host->healthy = row->healthy;
    /* a host online when we stopped gets offline_after from now to speak */
    host->last_heard = rc_mono_ms ();
    host->tokens = RC_PEER_WRITE_BURST;
    host->tokens_at = host->last_heard;
    s_host_seal (self, host);
    zhashx_insert (self->hosts, host->id, host);
    /* a database from before one key, one host may bind a key to several
       ids: the first (by id) keeps it, the others cannot say hello */
    if (zhashx_lookup (self->keys, host->pubkey))
        rc_log_warn ("host '%s': key %s already registered host '%s'; '%s' is refused until "
                     "it has a key of its own",
                     host->id, host->pubkey,
                     ((s_host_t *)zhashx_lookup (self->keys, host->pubkey))->id, host->id);
    else
        zhashx_insert (self->keys, host->pubkey, host);
}

static bool
s_host_live (void *arg, const char *host_id, bool *online, bool *healthy)
{
    s_server_t *self = (s_server_t *)arg;
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_id);
    if (!host)
        return false;
    *online = host->online;
    *healthy = host->healthy;
    return true;
}

static zsock_t *
s_bind (s_server_t *self, int type, const char *endpoint, const char *domain)
{
    zsock_t *sock = zsock_new (type);
    if (!sock)
        return NULL;
    rc_keys_server_socket (sock, self->cfg->cert, domain);
    zsock_set_linger (sock, 0);
    /* frames a little over our limit are read and counted as oversized;
       far bigger ones make libzmq drop the peer before buffering them */
    zsock_set_maxmsgsize (sock, RC_MAX_FRAME_BYTES * 4);
    if (zsock_bind (sock, "%s", endpoint) == -1) {
        rc_log_error ("cannot bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

static void
s_server_destroy (s_server_t *self)
{
    zloop_destroy (&self->loop);
    rc_engine_destroy (&self->engine);
    rc_freeze_destroy (&self->freeze);
    rc_backup_destroy (&self->backup);
    zsock_destroy (&self->agents);
    zsock_destroy (&self->publisher);
    zsock_destroy (&self->control);
    if (self->zap) {
        zsock_unbind (self->zap, ZAP_ENDPOINT);
        zsock_destroy (&self->zap);
    }
    zhashx_destroy (&self->keys);
    zhashx_destroy (&self->hosts);
    zhashx_destroy (&self->warned);
    rc_keyring_destroy (&self->agent_keys);
    rc_keyring_destroy (&self->operator_keys);
    rc_store_destroy (&self->store);
}

static int
s_server_init (s_server_t *self)
{
    const rc_config_t *cfg = self->cfg;
    char err[1024];
    if (zsys_dir_create ("%s", cfg->data_dir) != 0) {
        rc_log_error ("cannot create data_dir %s: %s", cfg->data_dir, strerror (errno));
        return -1;
    }
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", cfg->data_dir, RC_DB_FILE);
    self->store = rc_store_open (path, err, sizeof err);
    if (!self->store) {
        rc_log_error ("store: %s", err);
        return -1;
    }
    self->hosts = zhashx_new ();
    zhashx_set_destructor (self->hosts, (zhashx_destructor_fn *)s_host_destroy);
    self->keys = zhashx_new (); /* values borrowed from hosts */
    self->warned = zhashx_new ();
    zhashx_set_destructor (self->warned, (zhashx_destructor_fn *)zstr_free);
    if (rc_store_hosts_each (self->store, s_load_host, self) != 0) {
        rc_log_error ("store: %s", rc_store_errmsg (self->store));
        return -1;
    }
    self->agent_keys = rc_keyring_new (cfg->agent_keys_dir);
    self->operator_keys =
        rc_keyring_new_operators (cfg->operator_keys_dir, cfg->read_only_operator_keys_dir);
    if (!self->agent_keys || !self->operator_keys)
        return -1;
    /* the ZAP handler must be up before any CURVE socket binds: without
       one, libzmq would admit every client */
    self->zap = zsock_new (ZMQ_REP);
    if (!self->zap || zsock_bind (self->zap, ZAP_ENDPOINT) != 0) {
        rc_log_error ("cannot start the ZAP handler");
        return -1;
    }
    self->agents = s_bind (self, ZMQ_ROUTER, cfg->agent_endpoint, ZAP_DOMAIN_AGENTS);
    self->publisher = s_bind (self, ZMQ_PUB, cfg->publish_endpoint, ZAP_DOMAIN_AGENTS);
    self->control = s_bind (self, ZMQ_ROUTER, cfg->control_endpoint, ZAP_DOMAIN_OPERATORS);
    if (!self->agents || !self->publisher || !self->control)
        return -1;
    self->engine = rc_engine_new (self->store, self->publisher, s_host_live, self);
    rc_engine_set_publish (self->engine, s_publish, self);
    self->backup = rc_backup_new (self->store);
    rc_engine_set_offline_grace (self->engine, self->cfg->offline_grace_ms);
    self->freeze = rc_freeze_new (self->store, cfg->freeze, err, sizeof err);
    if (!self->freeze) {
        rc_log_error ("%s", err);
        return -1;
    }
    rc_engine_set_freeze (self->engine, self->freeze);
    self->loop = zloop_new ();
    zloop_reader (self->loop, self->pipe, s_on_pipe, self);
    zloop_reader (self->loop, self->zap, s_on_zap, self);
    zloop_reader (self->loop, self->agents, s_on_agents, self);
    zloop_reader (self->loop, self->control, s_on_control, self);
    zloop_timer (self->loop, RC_COORD_CRON_MS, 0, s_on_cron, self);
    rc_log_info ("coordinator %s: agents %s, publish %s, control %s; %zu host(s) known, "
                 "%zu agent key(s), %zu operator key(s)",
                 RC_VERSION, cfg->agent_endpoint, cfg->publish_endpoint, cfg->control_endpoint,
                 zhashx_size (self->hosts), rc_keyring_size (self->agent_keys),
                 rc_keyring_size (self->operator_keys));
    return 0;
}

static void
s_server_actor (zsock_t *pipe, void *args)
{
    s_server_t self = {.cfg = (const rc_config_t *)args, .pipe = pipe, .started = rc_mono_ms ()};
    /* zactor_new drops the status of the first signal: say how init went
       in a message of its own */
    zsock_signal (pipe, 0);
    if (s_server_init (&self) != 0) {
        s_server_destroy (&self);
        zstr_send (pipe, "FAILED");
        return;
    }
    zstr_send (pipe, "READY");
    zloop_start (self.loop);
    s_server_destroy (&self);
}

zactor_t *
rc_server_new (const rc_config_t *cfg)
{
    zactor_t *actor = zactor_new (s_server_actor, (void *)cfg);
    if (!actor)
        return NULL;
    char *status = zstr_recv (actor);
    bool ready = status && streq (status, "READY");
    free (status);
    if (!ready)
        zactor_destroy (&actor);
    return actor;
}
