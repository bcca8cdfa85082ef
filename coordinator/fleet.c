/*  fleet.c - the hosts the coordinator knows, their liveness and what
    they say they run (see fleet.h). Everything an agent sends is checked
    and bounded before a byte of it is stored. */
#include "fleet.h"
#include "rc_config.h"
#include "rc_defaults.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_seal.h"
#include "rc_time.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* What an agent says of its apps is remembered as a hash of this size. */
#define RC_APPS_HASH_BYTES crypto_generichash_BYTES

/* What one app of a host was when last stored: a report stores one app,
   a heartbeat says them all, and only what differs is written. */
typedef struct {
    char app[RC_NAME_MAX + 1];
    uint8_t hash[RC_APPS_HASH_BYTES];
} s_app_sig_t;

typedef struct {
    char *id;
    char pubkey[RC_Z85_KEY_LEN + 1]; /* the key that registered this id */
    bool online;
    bool healthy;
    int64_t last_heard; /* monotonic ms */
    bool apps_known;    /* the apps' signatures hold what is stored */
    s_app_sig_t *sigs;  /* each app as last stored, to spot changes */
    size_t n_sigs;
    bool hello_known;                       /* hello_hash holds what is stored */
    uint8_t hello_hash[RC_APPS_HASH_BYTES]; /* the host row of the last hello */
    bool seal_ok;                           /* seal_key is usable */
    uint8_t seal_key[RC_SEAL_KEY_BYTES];    /* seals instructions to this host */
    uint64_t run_id;                        /* the agent run we listen to (0: any) */
    uint64_t last_seq;                      /* its newest message seen */
    double tokens;                          /* store writes this peer may cause now */
    int64_t tokens_at;                      /* monotonic ms of the last refill */
    /* for the metrics endpoint only (never stored): */
    char *agent_version;  /* of its last hello (or as stored) */
    rc_fleet_app_t *apps; /* its apps as last stored */
    size_t n_apps;
    rc_host_figures_t figures; /* of its last heartbeat */
} s_host_t;

struct _rc_fleet_t {
    const rc_config_t *cfg;  /* borrowed */
    rc_store_t *store;       /* borrowed */
    rc_quiet_t *quiet;       /* borrowed: repeated warnings */
    rc_counters_t *counters; /* borrowed: what was turned away */
    zhashx_t *hosts;         /* id -> s_host_t */
    zhashx_t *keys;          /* Z85 public key -> s_host_t (borrowed): one key, one host */
    uint64_t epoch;          /* bumped when a host's online or healthy changes */
};

static void
s_host_destroy (s_host_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->id);
        free ((*self_p)->agent_version);
        free ((*self_p)->apps);
        free ((*self_p)->sigs);
        rc_host_figures_clear (&(*self_p)->figures);
        free (*self_p);
        *self_p = NULL;
    }
}

/* An event about a host, logged when it cannot be written. */
static void s_event (rc_fleet_t *self, const char *host_id, const char *kind, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
static void
s_event (rc_fleet_t *self, const char *host_id, const char *kind, const char *fmt, ...)
{
    char detail[512] = "";
    va_list args;
    va_start (args, fmt);
    vsnprintf (detail, sizeof detail, fmt, args);
    va_end (args);
    if (rc_store_event (self->store, rc_now_ms (), NULL, host_id, kind, detail) != 0)
        rc_log_error ("store: event %s: %s", kind, rc_store_errmsg (self->store));
}

/* The seal key of a host, from its registered public key and ours. */
static void
s_host_seal (rc_fleet_t *self, s_host_t *host)
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
s_take_write (rc_fleet_t *self, s_host_t *host)
{
    int64_t now = rc_mono_ms ();
    host->tokens += (double)(now - host->tokens_at) * RC_PEER_WRITES_PER_S / 1000.0;
    host->tokens_at = now;
    if (host->tokens > RC_PEER_WRITE_BURST)
        host->tokens = RC_PEER_WRITE_BURST;
    if (host->tokens < 1) {
        self->counters->writes_throttled++;
        return false;
    }
    host->tokens -= 1;
    return true;
}

/* A refusal about host (or key when no host is bound to it): logged and an
   event, each at most every RC_REFUSED_EVENT_EVERY_MS per host and kind. */
static void
s_refusal (rc_fleet_t *self, const char *host_id, const char *key, const char *kind,
           const char *fmt, ...)
{
    char detail[512] = "";
    va_list args;
    va_start (args, fmt);
    vsnprintf (detail, sizeof detail, fmt, args);
    va_end (args);
    char what[256];
    snprintf (what, sizeof what, "%s:%s:%s", kind, host_id ? host_id : "", key);
    if (!rc_quiet_should (self->quiet, what, RC_REFUSED_EVENT_EVERY_MS))
        return;
    rc_log_warn ("%s%s%s: %s", host_id ? "host '" : "key ", host_id ? host_id : key,
                 host_id ? "'" : "", detail);
    s_event (self, host_id, kind, "%s (key %s)", detail, key);
}

/* ------------------------------------------------------------------------ */
/* Hellos and heartbeats */

static void
s_hash_str (crypto_generichash_state *state, const char *text)
{
    /* length first: "ab","c" and "a","bc" hash apart */
    uint32_t len = (uint32_t)strlen (text ? text : "");
    crypto_generichash_update (state, (const uint8_t *)&len, sizeof len);
    crypto_generichash_update (state, (const uint8_t *)(text ? text : ""), len);
}

static void
s_answer (rc_fleet_ack_t *ack, Rollclone__Ack__Status status, const char *reason)
{
    ack->send = true;
    ack->status = status;
    snprintf (ack->reason, sizeof ack->reason, "%s", reason ? reason : "");
}

/* A hash of one app state, to store only what changed: no string is built
   per heartbeat, and the work is bounded by the checked counts. */
static void
s_app_hash (const Rollclone__AppState *app, uint8_t out[RC_APPS_HASH_BYTES])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, RC_APPS_HASH_BYTES);
    s_hash_str (&state, app->current);
    uint32_t points = (uint32_t)app->n_rollback_points;
    crypto_generichash_update (&state, (const uint8_t *)&points, sizeof points);
    for (size_t j = 0; j < app->n_rollback_points; j++)
        s_hash_str (&state, app->rollback_points[j]);
    int64_t slots[] = {app->slot, app->slot_port, app->warm_until_ms};
    crypto_generichash_update (&state, (const uint8_t *)slots, sizeof slots);
    s_hash_str (&state, app->warm_version);
    crypto_generichash_final (&state, out, RC_APPS_HASH_BYTES);
}

/* The signatures of apps (checked by s_apps_invalid), in a new array. */
static s_app_sig_t *
s_apps_sigs (Rollclone__AppState **apps, size_t n)
{
    s_app_sig_t *sigs = (s_app_sig_t *)calloc (n ? n : 1, sizeof *sigs);
    for (size_t i = 0; sigs && i < n; i++) {
        snprintf (sigs[i].app, sizeof sigs[i].app, "%s", apps[i]->app);
        s_app_hash (apps[i], sigs[i].hash);
    }
    return sigs;
}

/* host's stored signature of app, or NULL */
static s_app_sig_t *
s_sig_of (s_host_t *host, const char *app)
{
    for (size_t i = 0; host->apps_known && i < host->n_sigs; i++)
        if (streq (host->sigs[i].app, app))
            return &host->sigs[i];
    return NULL;
}

/* Does sig differ from what is stored of its app? */
static bool
s_app_changed (s_host_t *host, const s_app_sig_t *sig)
{
    const s_app_sig_t *known = s_sig_of (host, sig->app);
    return !known || memcmp (known->hash, sig->hash, RC_APPS_HASH_BYTES) != 0;
}

/* Do apps (signatures sigs) say anything that is not stored? */
static bool
s_apps_changed (s_host_t *host, const s_app_sig_t *sigs, size_t n)
{
    if (!host->apps_known || n != host->n_sigs)
        return true;
    for (size_t i = 0; i < n; i++)
        if (s_app_changed (host, &sigs[i]))
            return true;
    return false;
}

/* Takes sigs (n of them) as what is stored of host's apps now. */
static void
s_keep_sigs (s_host_t *host, s_app_sig_t **sigs_p, size_t n)
{
    free (host->sigs);
    host->sigs = *sigs_p;
    host->n_sigs = n;
    host->apps_known = true;
    *sigs_p = NULL;
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
        if (apps[i]->slot > RC_SLOTS_MAX || apps[i]->slot_port > 65535
            || (*apps[i]->warm_version && !rc_name_valid (apps[i]->warm_version)))
            return "bad slot state";
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

char *
rc_fleet_points_join (const Rollclone__AppState *app)
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

/* Stores the apps whose signature differs from the stored one (all of
   them when force). */
static int
s_store_apps (rc_fleet_t *self, s_host_t *host, Rollclone__AppState **apps, size_t n,
              const s_app_sig_t *sigs, bool force, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        if (!force && !s_app_changed (host, &sigs[i]))
            continue;
        char *points = rc_fleet_points_join (apps[i]);
        rc_app_row_t row = {.host_id = host->id,
                            .app = apps[i]->app,
                            .current = apps[i]->current,
                            .rollback_points = points,
                            .slot = apps[i]->slot,
                            .slot_port = apps[i]->slot_port,
                            .warm_version = apps[i]->warm_version,
                            .warm_until = apps[i]->warm_until_ms};
        int rc = points ? rc_store_host_app_save (self->store, &row, true, NULL, now) : -1;
        free (points);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Keeps what the metrics endpoint shows of the apps just stored. */
static void
s_keep_apps (s_host_t *host, Rollclone__AppState **apps, size_t n)
{
    rc_fleet_app_t *kept = n ? (rc_fleet_app_t *)calloc (n, sizeof *kept) : NULL;
    if (n && !kept)
        return;
    for (size_t i = 0; i < n; i++) {
        snprintf (kept[i].app, sizeof kept[i].app, "%s", apps[i]->app);
        snprintf (kept[i].current, sizeof kept[i].current, "%s", apps[i]->current);
    }
    free (host->apps);
    host->apps = kept;
    host->n_apps = n;
}

/* Sequence numbers: a message of the run we listen to must be newer than
   the newest seen; another run is taken up by its hello only (an agent
   starts with a hello), or by anything when we know of no run (we just
   started). True when env is stale. */
static bool
s_stale (rc_fleet_t *self, s_host_t *host, const rc_envelope_t *env, bool is_hello)
{
    bool stale;
    if (host->run_id == 0 || env->run_id != host->run_id)
        stale = !is_hello && host->run_id != 0;
    else
        stale = env->seq <= host->last_seq;
    if (stale) {
        self->counters->messages_stale++;
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

void
rc_fleet_on_hello (rc_fleet_t *self, const char *key, const rc_envelope_t *env, rc_fleet_ack_t *ack)
{
    memset (ack, 0, sizeof *ack);
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
        self->counters->dropped_agent++;
        if (strstr (bad, "too many")) {
            self->counters->states_refused++;
            s_refusal (self, bound ? bound->id : NULL, key, "refused", "hello refused: %s", bad);
        }
        else
            rc_log_warn ("refused hello from key %s: %s", key, bad);
        s_answer (ack, ROLLCLONE__ACK__STATUS__REFUSED, bad);
        return;
    }
    /* one key, one host: a key that registered X never speaks for Y */
    if (bound && !streq (bound->id, hello->host_id)) {
        self->counters->dropped_agent++;
        s_refusal (self, bound->id, key, "refused",
                   "hello as '%s' refused: this key registered host '%s'", hello->host_id,
                   bound->id);
        snprintf (why, sizeof why, "this key is registered as host '%s'", bound->id);
        s_answer (ack, ROLLCLONE__ACK__STATUS__REFUSED, why);
        return;
    }

    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, hello->host_id);
    if (host && !streq (host->pubkey, key)) {
        char what[160];
        snprintf (what, sizeof what, "conflict:%s:%s", hello->host_id, key);
        if (rc_quiet_should (self->quiet, what, RC_REFUSED_EVENT_EVERY_MS)) {
            rc_log_warn ("refused host id '%s' from key %s: it is bound to key %s", hello->host_id,
                         key, host->pubkey);
            s_event (self, hello->host_id, "refused",
                     "hello from key %s refused: id bound to key %s", key, host->pubkey);
        }
        s_answer (ack, ROLLCLONE__ACK__STATUS__REFUSED, "host id is registered with another key");
        return;
    }
    if (host && s_stale (self, host, env, true))
        return;

    uint8_t hello_hash[RC_APPS_HASH_BYTES];
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, RC_APPS_HASH_BYTES);
    s_hash_str (&state, hello->hostname);
    s_hash_str (&state, hello->agent_version);
    s_hash_str (&state, labels);
    crypto_generichash_final (&state, hello_hash, RC_APPS_HASH_BYTES);

    s_app_sig_t *sigs = s_apps_sigs (hello->apps, hello->n_apps);
    if (!sigs)
        return; /* no ack: the agent says hello again */
    int64_t now = rc_now_ms ();
    bool is_new = host == NULL;
    bool was_online = host && host->online;
    /* the same hello again from a host online and healthy as it says: no
       write at all (an agent repeats its hello when acks are late) */
    if (!is_new && was_online && host->healthy == hello->healthy && host->hello_known
        && memcmp (host->hello_hash, hello_hash, sizeof hello_hash) == 0
        && !s_apps_changed (host, sigs, hello->n_apps)) {
        free (sigs);
        s_seen (host, env);
        host->last_heard = rc_mono_ms ();
        s_answer (ack, ROLLCLONE__ACK__STATUS__OK, NULL);
        return;
    }
    if (!is_new && !s_take_write (self, host)) {
        free (sigs);
        return; /* no ack: the agent says hello again */
    }
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
    if (rc == 0) /* a hello stores every app again */
        rc = s_store_apps (self, host, hello->apps, hello->n_apps, sigs, true, now);
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
        free (sigs);
        return; /* no ack: the agent says hello again */
    }
    if (is_new) {
        s_host_seal (self, host);
        zhashx_insert (self->hosts, host->id, host);
        zhashx_insert (self->keys, host->pubkey, host);
    }
    s_keep_sigs (host, &sigs, hello->n_apps);
    s_keep_apps (host, hello->apps, hello->n_apps);
    free (host->agent_version);
    host->agent_version = strdup (hello->agent_version);
    memcpy (host->hello_hash, hello_hash, sizeof hello_hash);
    host->hello_known = true;
    s_seen (host, env);
    if (is_new || !host->online || host->healthy != hello->healthy)
        self->epoch++;
    host->online = true;
    host->healthy = hello->healthy;
    host->last_heard = rc_mono_ms ();
    if (is_new || !was_online)
        rc_log_info ("host '%s' online (%s, agent %s)", host->id, is_new ? "new" : "back",
                     hello->agent_version);
    s_answer (ack, ROLLCLONE__ACK__STATUS__OK, NULL);
    ack->reconcile = true;
}

void
rc_fleet_on_heartbeat (rc_fleet_t *self, const char *key, const rc_envelope_t *env,
                       rc_fleet_ack_t *ack)
{
    memset (ack, 0, sizeof *ack);
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, env->sender);
    if (!host) {
        s_answer (ack, ROLLCLONE__ACK__STATUS__HELLO_AGAIN, "unknown host");
        return;
    }
    if (!streq (host->pubkey, key)) {
        self->counters->dropped_agent++;
        s_answer (ack, ROLLCLONE__ACK__STATUS__REFUSED, "host id is registered with another key");
        return;
    }
    Rollclone__Heartbeat *hb = env->heartbeat;
    char why[160];
    const char *bad = s_apps_invalid (hb->apps, hb->n_apps, why, sizeof why);
    if (bad) {
        self->counters->dropped_agent++;
        if (strstr (bad, "too many")) {
            self->counters->states_refused++;
            s_refusal (self, host->id, key, "refused", "heartbeat refused: %s", bad);
            s_answer (ack, ROLLCLONE__ACK__STATUS__REFUSED, bad);
        }
        else
            rc_log_warn ("dropped heartbeat from '%s': %s", host->id, bad);
        return;
    }
    if (host->run_id != 0 && env->run_id != host->run_id) {
        /* another run than the one whose hello we took: a stale message of
           a run that ended, or a run we missed the hello of */
        self->counters->messages_stale++;
        s_answer (ack, ROLLCLONE__ACK__STATUS__HELLO_AGAIN, "unknown run");
        return;
    }
    if (s_stale (self, host, env, false))
        return;
    s_seen (host, env);
    int64_t now = rc_now_ms ();
    host->last_heard = rc_mono_ms ();
    /* kept in memory only: figures change every time and are no reason
       for a write (they are not part of the signature below) */
    rc_host_figures_set (&host->figures, hb->metrics);
    bool came_online = !host->online;
    bool health_changed = host->healthy != hb->healthy;
    s_app_sig_t *sigs = s_apps_sigs (hb->apps, hb->n_apps);
    if (!sigs)
        return;
    bool apps_changed = s_apps_changed (host, sigs, hb->n_apps);
    /* a peer over its share of writes is heard (it stays online) but its
       news waits for a later heartbeat */
    if ((came_online || health_changed || apps_changed) && s_take_write (self, host)) {
        int rc = rc_store_begin (self->store);
        if (rc == 0)
            rc = rc_store_host_set_state (self->store, host->id, "online", hb->healthy, now);
        if (rc == 0 && apps_changed)
            rc = s_store_apps (self, host, hb->apps, hb->n_apps, sigs, false, now);
        if (rc == 0 && came_online)
            s_event (self, host->id, "online", "heartbeat");
        if (rc == 0 && health_changed)
            s_event (self, host->id, hb->healthy ? "healthy" : "unhealthy", "self health check");
        if (rc == 0)
            rc = rc_store_commit (self->store);
        if (rc != 0) {
            rc_log_error ("store: heartbeat of '%s': %s", host->id, rc_store_errmsg (self->store));
            rc_store_rollback (self->store);
            free (sigs);
            return;
        }
        if (came_online)
            rc_log_info ("host '%s' online", host->id);
        if (health_changed)
            rc_log_info ("host '%s' %s", host->id, hb->healthy ? "healthy" : "UNHEALTHY");
        if (came_online || health_changed)
            self->epoch++;
        host->online = true;
        host->healthy = hb->healthy;
        if (apps_changed)
            s_keep_apps (host, hb->apps, hb->n_apps);
        s_keep_sigs (host, &sigs, hb->n_apps);
    }
    free (sigs);
    s_answer (ack, ROLLCLONE__ACK__STATUS__OK, NULL);
    ack->reconcile = true;
}

const char *
rc_fleet_on_report (rc_fleet_t *self, const char *key, const rc_envelope_t *env,
                    rc_fleet_ack_t *ack)
{
    memset (ack, 0, sizeof *ack);
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, env->sender);
    if (!host || !streq (host->pubkey, key)) {
        self->counters->dropped_agent++;
        s_answer (ack, host ? ROLLCLONE__ACK__STATUS__REFUSED : ROLLCLONE__ACK__STATUS__HELLO_AGAIN,
                  host ? "host id is registered with another key" : "unknown host");
        return NULL;
    }
    host->last_heard = rc_mono_ms ();
    /* a heartbeat sent before this report and arriving after it is older
       news than the report: the sequence number says so */
    if (host->run_id == env->run_id)
        s_seen (host, env);
    s_answer (ack, ROLLCLONE__ACK__STATUS__OK, NULL);
    return host->id;
}

void
rc_fleet_app_stored (rc_fleet_t *self, const char *host_id, const Rollclone__AppState *st)
{
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_id);
    s_app_sig_t *sig = host ? s_sig_of (host, st->app) : NULL;
    if (!sig)
        return; /* not known yet: the next heartbeat stores it */
    s_app_hash (st, sig->hash);
    for (size_t i = 0; i < host->n_apps; i++)
        if (streq (host->apps[i].app, st->app))
            snprintf (host->apps[i].current, sizeof host->apps[i].current, "%s", st->current);
}

void
rc_fleet_forget_stored (rc_fleet_t *self)
{
    for (s_host_t *host = (s_host_t *)zhashx_first (self->hosts); host;
         host = (s_host_t *)zhashx_next (self->hosts))
        host->apps_known = host->hello_known = false;
}

void
rc_fleet_refused_frame (rc_fleet_t *self, const char *key, size_t oversize, uint32_t peer_version)
{
    s_host_t *bound = key ? (s_host_t *)zhashx_lookup (self->keys, key) : NULL;
    if (oversize) {
        /* refused unread: its size is the whole story */
        self->counters->states_refused++;
        s_refusal (self, bound ? bound->id : NULL, key ? key : "", "refused",
                   "message of %zu bytes refused unread (limit %d)", oversize, RC_MAX_STATE_BYTES);
    }
    else if (peer_version)
        s_refusal (self, bound ? bound->id : NULL, key ? key : "", "refused",
                   "agent speaks protocol %u, this coordinator speaks %d", peer_version,
                   RC_PROTOCOL_VERSION);
}

/* ------------------------------------------------------------------------ */
/* Liveness */

/* Hosts silent for longer than offline_after turn offline, all of one pass
   in one transaction: one fsync for a wave of them, where one each made
   the loop block for seconds (5,000 hosts: hundreds at once), heartbeats
   waited behind it, and more hosts turned offline. */
void
rc_fleet_cron (rc_fleet_t *self)
{
    int64_t mono = rc_mono_ms ();
    size_t n = 0;
    int rc = 0;
    for (s_host_t *host = (s_host_t *)zhashx_first (self->hosts); host && rc == 0;
         host = (s_host_t *)zhashx_next (self->hosts)) {
        int64_t silence = mono - host->last_heard;
        if (!host->online || silence <= self->cfg->offline_after_ms)
            continue;
        if (n++ == 0)
            rc = rc_store_begin (self->store);
        if (rc == 0)
            rc = rc_store_host_set_state (self->store, host->id, "offline", host->healthy,
                                          rc_now_ms () - silence);
        if (rc == 0)
            s_event (self, host->id, "offline", "no heartbeat for %lld ms", (long long)silence);
    }
    if (n == 0)
        return;
    if (rc == 0)
        rc = rc_store_commit (self->store);
    if (rc != 0) {
        /* they stay online here and are tried again at the next pass */
        rc_log_error ("store: %zu host(s) offline: %s", n, rc_store_errmsg (self->store));
        rc_store_rollback (self->store);
        return;
    }
    for (s_host_t *host = (s_host_t *)zhashx_first (self->hosts); host;
         host = (s_host_t *)zhashx_next (self->hosts)) {
        int64_t silence = mono - host->last_heard;
        if (!host->online || silence <= self->cfg->offline_after_ms)
            continue;
        host->online = false;
        self->epoch++;
        rc_log_warn ("host '%s' offline: no heartbeat for %lld ms", host->id, (long long)silence);
    }
}

bool
rc_fleet_view (void *arg, const char *host_id, bool *online, bool *healthy)
{
    rc_fleet_t *self = (rc_fleet_t *)arg;
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_id);
    if (!host)
        return false;
    *online = host->online;
    *healthy = host->healthy;
    return true;
}

uint64_t
rc_fleet_epoch (rc_fleet_t *self)
{
    return self->epoch;
}

const uint8_t *
rc_fleet_seal_key (rc_fleet_t *self, const char *host_id)
{
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_id);
    return host && host->seal_ok ? host->seal_key : NULL;
}

int64_t
rc_fleet_last_heard (rc_fleet_t *self, const char *host_id)
{
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_id);
    if (!host || !host->online)
        return 0;
    return rc_now_ms () - (rc_mono_ms () - host->last_heard);
}

void
rc_fleet_each (rc_fleet_t *self, rc_fleet_each_fn *fn, void *arg)
{
    int64_t mono = rc_mono_ms ();
    for (s_host_t *host = (s_host_t *)zhashx_first (self->hosts); host;
         host = (s_host_t *)zhashx_next (self->hosts)) {
        rc_fleet_host_t view = {.id = host->id,
                                .agent_version = host->agent_version ? host->agent_version : "",
                                .online = host->online,
                                .healthy = host->healthy,
                                .silent_ms = mono - host->last_heard,
                                .apps = host->apps,
                                .n_apps = host->n_apps,
                                .figures = &host->figures};
        fn (arg, &view);
    }
}

void
rc_fleet_count (rc_fleet_t *self, size_t *online, size_t *offline)
{
    *online = *offline = 0;
    for (s_host_t *host = (s_host_t *)zhashx_first (self->hosts); host;
         host = (s_host_t *)zhashx_next (self->hosts)) {
        if (host->online)
            (*online)++;
        else
            (*offline)++;
    }
}

/* ------------------------------------------------------------------------ */

static void
s_load_host (void *arg, const rc_host_row_t *row)
{
    rc_fleet_t *self = (rc_fleet_t *)arg;
    s_host_t *host = (s_host_t *)zmalloc (sizeof (s_host_t));
    host->id = strdup (row->id);
    snprintf (host->pubkey, sizeof host->pubkey, "%s", row->pubkey);
    host->online = streq (row->state, "online");
    host->healthy = row->healthy;
    host->agent_version = strdup (row->agent_version ? row->agent_version : "");
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

/* An app row (after its host's): what the metrics endpoint shows until
   the host speaks. */
static void
s_load_app (void *arg, const rc_app_row_t *row)
{
    rc_fleet_t *self = (rc_fleet_t *)arg;
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, row->host_id);
    if (!host || host->n_apps >= RC_MAX_APPS_PER_HOST || !rc_name_valid (row->app))
        return;
    rc_fleet_app_t *apps =
        (rc_fleet_app_t *)realloc (host->apps, (host->n_apps + 1) * sizeof *apps);
    if (!apps)
        return;
    host->apps = apps;
    rc_fleet_app_t *app = &apps[host->n_apps++];
    snprintf (app->app, sizeof app->app, "%s", row->app);
    snprintf (app->current, sizeof app->current, "%s", row->current ? row->current : "");
}

rc_fleet_t *
rc_fleet_new (const rc_config_t *cfg, rc_store_t *store, rc_quiet_t *quiet, rc_counters_t *counters)
{
    rc_fleet_t *self = (rc_fleet_t *)zmalloc (sizeof *self);
    self->cfg = cfg;
    self->store = store;
    self->quiet = quiet;
    self->counters = counters;
    self->hosts = zhashx_new ();
    zhashx_set_destructor (self->hosts, (zhashx_destructor_fn *)s_host_destroy);
    self->keys = zhashx_new (); /* values borrowed from hosts */
    if (rc_store_fleet_each (self->store, s_load_host, s_load_app, self) != 0)
        rc_fleet_destroy (&self);
    return self;
}

void
rc_fleet_destroy (rc_fleet_t **self_p)
{
    if (self_p && *self_p) {
        zhashx_destroy (&(*self_p)->keys);
        zhashx_destroy (&(*self_p)->hosts);
        free (*self_p);
        *self_p = NULL;
    }
}
