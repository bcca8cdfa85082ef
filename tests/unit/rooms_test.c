/*  rooms_test.c - the coordinator's rooms on a real store and real keys:
    the fleet (hello, heartbeat, report intake: one key one host, stale
    messages, bounds, liveness), zap (which key is admitted on which
    domain), and control (deploy validation, the first batch in natural
    order, one deployment per app, pause/resume/abort, the read-only
    replies). */
#include "backup.h"
#include "control.h"
#include "deployments.h"
#include "engine.h"
#include "fleet.h"
#include "quiet.h"
#include "rc_config.h"
#include "rc_defaults.h"
#include "rc_keys.h"
#include "selftests.h"
#include "store.h"
#include "zap.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A coordinator's surroundings in a temporary directory. */
typedef struct {
    char dir[64];
    rc_config_t *cfg;
    rc_store_t *store;
    rc_quiet_t *quiet;
    rc_counters_t counters;
    rc_fleet_t *fleet;
    char keys[4][RC_Z85_KEY_LEN + 1]; /* agents' public keys */
} s_env_t;

static void
s_path (const s_env_t *env, char *out, size_t len, const char *name)
{
    snprintf (out, len, "%s/%s", env->dir, name);
}

static void
s_setup (s_env_t *env, bool with_fleet)
{
    memset (env, 0, sizeof *env);
    snprintf (env->dir, sizeof env->dir, "/tmp/rc_rooms_test.XXXXXX");
    ck_assert_ptr_nonnull (mkdtemp (env->dir));
    char path[256], err[512];
    const char *dirs[] = {"agents", "operators", "keys", "data"};
    for (size_t i = 0; i < 4; i++) {
        s_path (env, path, sizeof path, dirs[i]);
        ck_assert_int_eq (mkdir (path, 0700), 0);
    }
    s_path (env, path, sizeof path, "c.key");
    ck_assert_int_eq (rc_keys_generate (path, err, sizeof err), 0);
    for (int i = 0; i < 4; i++) {
        snprintf (path, sizeof path, "%s/keys/a%d.key", env->dir, i);
        ck_assert_msg (rc_keys_generate (path, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq (rc_keys_load_public (path, env->keys[i], err, sizeof err), 0);
    }
    s_path (env, path, sizeof path, "c.conf");
    FILE *file = fopen (path, "w");
    ck_assert_ptr_nonnull (file);
    fprintf (file, "[coordinator]\nsecret_key = c.key_secret\nagent_keys_dir = agents\n"
                   "operator_keys_dir = operators\ndata_dir = data\nheartbeat_interval = 200ms\n"
                   "offline_after = 1s\n");
    fclose (file);
    env->cfg = rc_config_load (path, RC_ROLE_COORDINATOR, err, sizeof err);
    ck_assert_msg (env->cfg != NULL, "%s", err);
    s_path (env, path, sizeof path, "data/c.db");
    env->store = rc_store_open (path, err, sizeof err);
    ck_assert_msg (env->store != NULL, "%s", err);
    env->quiet = rc_quiet_new ();
    if (with_fleet) {
        env->fleet = rc_fleet_new (env->cfg, env->store, env->quiet, &env->counters);
        ck_assert_ptr_nonnull (env->fleet);
    }
}

static void
s_teardown (s_env_t *env)
{
    rc_fleet_destroy (&env->fleet);
    rc_quiet_destroy (&env->quiet);
    rc_store_destroy (&env->store);
    rc_config_destroy (&env->cfg);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", env->dir);
    ck_assert_int_eq (system (cmd), 0);
}

/* The hello an agent sends: host_id with app shop on version current. */
typedef struct {
    rc_envelope_t env;
    Rollclone__Hello hello;
    Rollclone__Heartbeat heartbeat;
    Rollclone__Label label, *labels[1];
    Rollclone__AppState app, *apps[1];
    char *points[1];
} s_msg_t;

static void
s_msg (s_msg_t *m, const char *host_id, uint64_t run, uint64_t seq, const char *current, bool hello)
{
    memset (m, 0, sizeof *m);
    rc_envelope_init (&m->env, host_id, seq);
    m->env.run_id = run;
    rollclone__app_state__init (&m->app);
    m->app.app = "shop";
    m->app.current = (char *)current;
    m->app.last_deployment_id = "";
    m->points[0] = "v0";
    m->app.rollback_points = m->points;
    m->app.n_rollback_points = 1;
    m->apps[0] = &m->app;
    if (hello) {
        rollclone__hello__init (&m->hello);
        rollclone__label__init (&m->label);
        m->label.key = "role";
        m->label.value = "web";
        m->labels[0] = &m->label;
        m->hello.host_id = (char *)host_id;
        m->hello.hostname = (char *)host_id;
        m->hello.agent_version = RC_VERSION;
        m->hello.labels = m->labels;
        m->hello.n_labels = 1;
        m->hello.apps = m->apps;
        m->hello.n_apps = 1;
        m->hello.healthy = true;
        m->env.body_case = ROLLCLONE__ENVELOPE__BODY_HELLO;
        m->env.hello = &m->hello;
    }
    else {
        rollclone__heartbeat__init (&m->heartbeat);
        m->heartbeat.healthy = true;
        m->heartbeat.apps = m->apps;
        m->heartbeat.n_apps = 1;
        m->env.body_case = ROLLCLONE__ENVELOPE__BODY_HEARTBEAT;
        m->env.heartbeat = &m->heartbeat;
    }
}

static void
s_hello (s_env_t *env, const char *host_id, int key, rc_fleet_ack_t *ack)
{
    s_msg_t m;
    s_msg (&m, host_id, 1, 1, "v1", true);
    rc_fleet_on_hello (env->fleet, env->keys[key], &m.env, ack);
}

static void
s_count_row (void *arg, const rc_host_row_t *row)
{
    char *seen = (char *)arg;
    size_t used = strlen (seen);
    snprintf (seen + used, 256 - used, "%s%s:%s:%s", used ? ";" : "", row->id, row->state,
              row->labels);
}

void
rc_fleet_test (bool verbose)
{
    (void)verbose;
    s_env_t env;
    s_setup (&env, true);
    rc_fleet_ack_t ack;
    bool online = false, healthy = false;
    size_t on, off;
    ck_assert (!rc_fleet_view (env.fleet, "web-1", &online, &healthy));

    /* a hello registers the host: online, healthy, its key bound to it */
    s_hello (&env, "web-1", 0, &ack);
    ck_assert (ack.send && ack.status == ROLLCLONE__ACK__STATUS__OK && ack.reconcile);
    ck_assert (rc_fleet_view (env.fleet, "web-1", &online, &healthy) && online && healthy);
    ck_assert_ptr_nonnull (rc_fleet_seal_key (env.fleet, "web-1"));
    ck_assert_int_gt (rc_fleet_last_heard (env.fleet, "web-1"), 0);
    rc_fleet_count (env.fleet, &on, &off);
    ck_assert (on == 1 && off == 0);
    char seen[256] = "";
    ck_assert_int_eq (rc_store_hosts_each (env.store, s_count_row, seen), 0);
    ck_assert_str_eq (seen, "web-1:online:role=web");
    char current[32];
    ck_assert_int_eq (rc_store_host_app_current (env.store, "web-1", "shop", current, 32), 0);
    ck_assert_str_eq (current, "v1");

    /* the same hello again (acks were late): answered, nothing to redo */
    s_msg_t m;
    s_msg (&m, "web-1", 1, 2, "v1", true);
    rc_fleet_on_hello (env.fleet, env.keys[0], &m.env, &ack);
    ck_assert (ack.send && ack.status == ROLLCLONE__ACK__STATUS__OK && !ack.reconcile);

    /* one key, one host: neither another key for web-1 nor web-2 for key 0 */
    s_hello (&env, "web-1", 1, &ack);
    ck_assert (ack.send && ack.status == ROLLCLONE__ACK__STATUS__REFUSED);
    ck_assert_str_eq (ack.reason, "host id is registered with another key");
    s_hello (&env, "web-2", 0, &ack);
    ck_assert (ack.status == ROLLCLONE__ACK__STATUS__REFUSED);
    ck_assert_str_eq (ack.reason, "this key is registered as host 'web-1'");
    s_hello (&env, "../etc", 2, &ack);
    ck_assert (ack.status == ROLLCLONE__ACK__STATUS__REFUSED);
    ck_assert_str_eq (ack.reason, "bad host id");
    ck_assert (!rc_fleet_view (env.fleet, "web-2", &online, &healthy));

    /* heartbeats: of an unknown host, of an older message, of another run */
    s_msg (&m, "web-9", 1, 1, "v1", false);
    rc_fleet_on_heartbeat (env.fleet, env.keys[2], &m.env, &ack);
    ck_assert (ack.status == ROLLCLONE__ACK__STATUS__HELLO_AGAIN);
    uint64_t stale = env.counters.messages_stale;
    s_msg (&m, "web-1", 1, 2, "v1", false);
    rc_fleet_on_heartbeat (env.fleet, env.keys[0], &m.env, &ack);
    ck_assert (!ack.send && env.counters.messages_stale == stale + 1);
    s_msg (&m, "web-1", 9, 5, "v1", false);
    rc_fleet_on_heartbeat (env.fleet, env.keys[0], &m.env, &ack);
    ck_assert (ack.status == ROLLCLONE__ACK__STATUS__HELLO_AGAIN);
    ck_assert_str_eq (ack.reason, "unknown run");
    /* a newer one says the host is unhealthy and runs v2 now */
    s_msg (&m, "web-1", 1, 3, "v2", false);
    m.heartbeat.healthy = false;
    rc_fleet_on_heartbeat (env.fleet, env.keys[0], &m.env, &ack);
    ck_assert (ack.status == ROLLCLONE__ACK__STATUS__OK && ack.reconcile);
    ck_assert (rc_fleet_view (env.fleet, "web-1", &online, &healthy) && online && !healthy);
    ck_assert_int_eq (rc_store_host_app_current (env.store, "web-1", "shop", current, 32), 0);
    ck_assert_str_eq (current, "v2");
    /* more apps than a host may have: refused whole, counted */
    Rollclone__AppState *many[RC_MAX_APPS_PER_HOST + 1];
    for (size_t i = 0; i <= RC_MAX_APPS_PER_HOST; i++)
        many[i] = &m.app;
    s_msg (&m, "web-1", 1, 4, "v2", false);
    m.heartbeat.apps = many;
    m.heartbeat.n_apps = RC_MAX_APPS_PER_HOST + 1;
    rc_fleet_on_heartbeat (env.fleet, env.keys[0], &m.env, &ack);
    ck_assert (ack.status == ROLLCLONE__ACK__STATUS__REFUSED && env.counters.states_refused == 1);

    /* reports: only from the key that registered the host */
    s_msg (&m, "web-1", 1, 6, "v2", false);
    ck_assert_str_eq (rc_fleet_on_report (env.fleet, env.keys[0], &m.env, &ack), "web-1");
    ck_assert (ack.status == ROLLCLONE__ACK__STATUS__OK);
    ck_assert_ptr_null (rc_fleet_on_report (env.fleet, env.keys[1], &m.env, &ack));
    ck_assert (ack.status == ROLLCLONE__ACK__STATUS__REFUSED);

    /* a report's app state stored by the engine: the heartbeat that says
       the same after it writes nothing; one that says more writes */
    s_msg (&m, "web-1", 1, 7, "v3", false);
    m.heartbeat.healthy = false; /* as the last heartbeat said */
    ck_assert_int_eq (rc_store_host_set_app (env.store, "web-1", "shop", "v3", "v0", 1), 0);
    rc_fleet_app_stored (env.fleet, "web-1", &m.app);
    int64_t changes = rc_store_changes (env.store);
    rc_fleet_on_heartbeat (env.fleet, env.keys[0], &m.env, &ack);
    ck_assert (ack.status == ROLLCLONE__ACK__STATUS__OK);
    ck_assert_int_eq (rc_store_changes (env.store), changes);
    s_msg (&m, "web-1", 1, 8, "v4", false);
    m.heartbeat.healthy = false;
    rc_fleet_on_heartbeat (env.fleet, env.keys[0], &m.env, &ack);
    ck_assert_int_gt (rc_store_changes (env.store), changes);
    ck_assert_int_eq (rc_store_host_app_current (env.store, "web-1", "shop", current, 32), 0);
    ck_assert_str_eq (current, "v4");

    /* liveness: silent past offline_after, the cron turns it offline */
    rc_fleet_cron (env.fleet);
    ck_assert (rc_fleet_view (env.fleet, "web-1", &online, &healthy) && online);
    zclock_sleep (1200);
    rc_fleet_cron (env.fleet);
    ck_assert (rc_fleet_view (env.fleet, "web-1", &online, &healthy) && !online);
    ck_assert_int_eq (rc_fleet_last_heard (env.fleet, "web-1"), 0);
    rc_fleet_count (env.fleet, &on, &off);
    ck_assert (on == 0 && off == 1);
    seen[0] = '\0';
    ck_assert_int_eq (rc_store_hosts_each (env.store, s_count_row, seen), 0);
    ck_assert_str_eq (seen, "web-1:offline:role=web");

    /* a coordinator started again knows the host and its key */
    rc_fleet_destroy (&env.fleet);
    env.fleet = rc_fleet_new (env.cfg, env.store, env.quiet, &env.counters);
    ck_assert_ptr_nonnull (env.fleet);
    ck_assert (rc_fleet_view (env.fleet, "web-1", &online, &healthy) && !online);
    s_hello (&env, "web-2", 0, &ack);
    ck_assert (ack.status == ROLLCLONE__ACK__STATUS__REFUSED);
    s_hello (&env, "web-1", 0, &ack);
    ck_assert (ack.status == ROLLCLONE__ACK__STATUS__OK);
    ck_assert (rc_fleet_view (env.fleet, "web-1", &online, &healthy) && online);
    s_teardown (&env);
}

/* Asks the ZAP handler about key on domain; returns the status code and
   the User-Id it gave in user (41 bytes). */
static int
s_zap_ask (rc_zap_t *zap, zsock_t *req, const char *version, const char *domain,
           const char *mechanism, const char *z85, char *user)
{
    uint8_t key[32];
    zmq_z85_decode (key, z85);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, version);
    zmsg_addstr (msg, "42");
    zmsg_addstr (msg, domain);
    zmsg_addstr (msg, "127.0.0.1");
    zmsg_addstr (msg, "");
    zmsg_addstr (msg, mechanism);
    zmsg_addmem (msg, key, sizeof key);
    ck_assert_int_eq (zmsg_send (&msg, req), 0);
    ck_assert_int_eq (rc_zap_on_request (NULL, rc_zap_socket (zap), zap), 0);
    char *v = NULL, *id = NULL, *status = NULL, *text = NULL, *uid = NULL, *meta = NULL;
    ck_assert_int_eq (zstr_recvx (req, &v, &id, &status, &text, &uid, &meta, NULL), 6);
    ck_assert_str_eq (v, "1.0");
    ck_assert_str_eq (id, "42");
    snprintf (user, RC_Z85_KEY_LEN + 1, "%s", uid);
    int code = atoi (status);
    zstr_free (&v);
    zstr_free (&id);
    zstr_free (&status);
    zstr_free (&text);
    zstr_free (&uid);
    zstr_free (&meta);
    return code;
}

void
rc_zap_test (bool verbose)
{
    (void)verbose;
    s_env_t env;
    s_setup (&env, false);
    /* key 0 is an agent's, key 1 an operator's */
    char cmd[512];
    snprintf (cmd, sizeof cmd, "cp %s/keys/a0.key %s/agents/ && cp %s/keys/a1.key %s/operators/",
              env.dir, env.dir, env.dir, env.dir);
    ck_assert_int_eq (system (cmd), 0);
    rc_zap_t *zap = rc_zap_new (env.cfg, env.quiet);
    ck_assert_ptr_nonnull (zap);
    ck_assert_uint_eq (rc_keyring_size (rc_zap_agent_keys (zap)), 1);
    ck_assert_uint_eq (rc_keyring_size (rc_zap_operator_keys (zap)), 1);
    zsock_t *req = zsock_new_req (RC_ZAP_ENDPOINT);
    ck_assert_ptr_nonnull (req);
    char user[RC_Z85_KEY_LEN + 1];
    /* each key on its own domain, its User-Id the key */
    ck_assert_int_eq (s_zap_ask (zap, req, "1.0", "agents", "CURVE", env.keys[0], user), 200);
    ck_assert_str_eq (user, env.keys[0]);
    ck_assert_int_eq (s_zap_ask (zap, req, "1.0", "operators", "CURVE", env.keys[1], user), 200);
    ck_assert_str_eq (user, env.keys[1]);
    /* and nowhere else */
    ck_assert_int_eq (s_zap_ask (zap, req, "1.0", "operators", "CURVE", env.keys[0], user), 400);
    ck_assert_str_eq (user, "");
    ck_assert_int_eq (s_zap_ask (zap, req, "1.0", "agents", "CURVE", env.keys[1], user), 400);
    ck_assert_int_eq (s_zap_ask (zap, req, "1.0", "agents", "CURVE", env.keys[2], user), 400);
    ck_assert_int_eq (s_zap_ask (zap, req, "1.0", "other", "CURVE", env.keys[0], user), 400);
    ck_assert_int_eq (s_zap_ask (zap, req, "1.0", "agents", "PLAIN", env.keys[0], user), 400);
    ck_assert_int_eq (s_zap_ask (zap, req, "0.9", "agents", "CURVE", env.keys[0], user), 500);
    /* a key file dropped in is admitted without a reload; one removed is
       refused after rc_zap_reload */
    zclock_sleep (20);
    snprintf (cmd, sizeof cmd, "cp %s/keys/a2.key %s/agents/", env.dir, env.dir);
    ck_assert_int_eq (system (cmd), 0);
    ck_assert_int_eq (s_zap_ask (zap, req, "1.0", "agents", "CURVE", env.keys[2], user), 200);
    snprintf (cmd, sizeof cmd, "rm %s/agents/a0.key", env.dir);
    ck_assert_int_eq (system (cmd), 0);
    rc_zap_reload (zap);
    ck_assert (!rc_keyring_has (rc_zap_agent_keys (zap), env.keys[0]));
    ck_assert_int_eq (s_zap_ask (zap, req, "1.0", "agents", "CURVE", env.keys[0], user), 400);
    zsock_destroy (&req);
    rc_zap_destroy (&zap);
    rc_zap_destroy (&zap);
    s_teardown (&env);
}

/* The instructions the engine asked to publish, as "host/step" lines. */
static void
s_published (void *arg, const char *host_id, const Rollclone__Instruction *ins)
{
    char *sent = (char *)arg;
    size_t used = strlen (sent);
    snprintf (sent + used, 512 - used, "%s%s/%u", used ? " " : "", host_id, ins->step);
}

static Rollclone__ControlReply *
s_deploy (rc_control_t *control, const char *app, const char *batch, const char *sha,
          const char *pause)
{
    Rollclone__DeployRequest req = ROLLCLONE__DEPLOY_REQUEST__INIT;
    req.app = (char *)app;
    req.version = "v2";
    req.artifact_url = "https://example.org/shop-v2.tgz";
    req.sha256 = (char *)sha;
    req.batch = (char *)batch;
    req.pause = (char *)pause;
    return rc_control_deploy (control, &req);
}

static Rollclone__DeploymentInfo *
s_status (rc_control_t *control, const char *id, Rollclone__ControlReply **reply)
{
    Rollclone__StatusRequest sreq = ROLLCLONE__STATUS_REQUEST__INIT;
    sreq.deployment_id = (char *)id;
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_STATUS;
    req.status = &sreq;
    *reply = rc_control_handle (control, &req, NULL);
    ck_assert_ptr_nonnull (*reply);
    ck_assert_int_eq ((*reply)->code, 0);
    ck_assert_uint_eq ((*reply)->status->n_deployments, 1);
    return (*reply)->status->deployments[0];
}

static int
s_operate (rc_control_t *control, const char *id, Rollclone__OperateRequest__Op op)
{
    Rollclone__OperateRequest req = ROLLCLONE__OPERATE_REQUEST__INIT;
    req.deployment_id = (char *)id;
    req.op = op;
    Rollclone__ControlReply *reply = rc_control_operate (control, &req);
    int code = reply->code;
    rollclone__control_reply__free_unpacked (reply, NULL);
    return code;
}

void
rc_control_test (bool verbose)
{
    (void)verbose;
    s_env_t env;
    s_setup (&env, true);
    rc_fleet_ack_t ack;
    const char *ids[] = {"web-10", "web-2", "web-1"};
    for (int i = 0; i < 3; i++) {
        s_hello (&env, ids[i], i, &ack);
        ck_assert (ack.status == ROLLCLONE__ACK__STATUS__OK);
    }
    char sent[512] = "";
    rc_engine_t *engine = rc_engine_new (env.store, rc_fleet_view, env.fleet);
    rc_engine_set_publish (engine, s_published, sent);
    rc_backup_t *backup = rc_backup_new (env.store);
    rc_control_t *control = rc_control_new (env.store, engine, env.fleet, backup, &env.counters, 0);
    const char *sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /* bad input: one line naming what was wrong, code 2, nothing stored */
    struct {
        const char *app, *batch, *sha, *pause, *error;
    } bad[] = {
        {"../x", "", sha, "", "--app '../x'"},
        {"shop", "0", sha, "", "--batch '0'"},
        {"shop", "1,,2", sha, "", "--batch '1,,2'"},
        {"shop", "", "", "", "--sha256 is required"},
        {"shop", "", "abc", "", "--sha256 'abc' is not 64 hex digits"},
        {"shop", "", sha, "soon", "--pause 'soon'"},
        {"cart", "", sha, "", "no host has app 'cart'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Rollclone__ControlReply *reply =
            s_deploy (control, bad[i].app, bad[i].batch, bad[i].sha, bad[i].pause);
        ck_assert_int_eq (reply->code, RC_EXIT_USAGE);
        ck_assert_msg (strstr (reply->error, bad[i].error), "case %zu: %s", i, reply->error);
        ck_assert_ptr_null (strchr (reply->error, '\n'));
        rollclone__control_reply__free_unpacked (reply, NULL);
    }
    zlist_t *all = rc_deployment_ids (env.store, false, NULL, 0);
    ck_assert (all && zlist_size (all) == 0);
    zlist_destroy (&all);
    ck_assert_str_eq (sent, "");

    /* a deployment: a canary, then the rest; hosts in natural order */
    Rollclone__ControlReply *reply = s_deploy (control, "shop", "1,100%", sha, "");
    ck_assert_int_eq (reply->code, 0);
    ck_assert_int_eq (reply->rep_case, ROLLCLONE__CONTROL_REPLY__REP_DEPLOY);
    ck_assert_uint_eq (reply->deploy->hosts, 3);
    ck_assert_uint_eq (reply->deploy->total_batches, 2);
    char id[RC_ID_MAX];
    snprintf (id, sizeof id, "%s", reply->deploy->deployment_id);
    rollclone__control_reply__free_unpacked (reply, NULL);
    ck_assert_str_eq (sent, "web-1/1");
    Rollclone__ControlReply *sreply;
    Rollclone__DeploymentInfo *info = s_status (control, id, &sreply);
    ck_assert_str_eq (info->state, "running");
    ck_assert_uint_eq (info->n_hosts, 3);
    ck_assert_str_eq (info->hosts[0]->host_id, "web-1");
    ck_assert_str_eq (info->hosts[0]->state, "updating");
    ck_assert_str_eq (info->hosts[1]->host_id, "web-2");
    ck_assert_str_eq (info->hosts[2]->host_id, "web-10");
    ck_assert_str_eq (info->hosts[2]->state, "pending");
    rollclone__control_reply__free_unpacked (sreply, NULL);

    /* one at a time per app */
    reply = s_deploy (control, "shop", "", sha, "");
    ck_assert_int_eq (reply->code, RC_EXIT_USAGE);
    ck_assert_ptr_nonnull (strstr (reply->error, "is still running"));
    rollclone__control_reply__free_unpacked (reply, NULL);

    /* pause and resume; what cannot be done is refused */
    ck_assert_int_eq (s_operate (control, id, ROLLCLONE__OPERATE_REQUEST__OP__RESUME),
                      RC_EXIT_USAGE);
    ck_assert_int_eq (s_operate (control, id, ROLLCLONE__OPERATE_REQUEST__OP__PAUSE), 0);
    info = s_status (control, id, &sreply);
    ck_assert_str_eq (info->state, "paused");
    ck_assert (!info->gate_open);
    rollclone__control_reply__free_unpacked (sreply, NULL);
    ck_assert_int_eq (s_operate (control, id, ROLLCLONE__OPERATE_REQUEST__OP__RESUME), 0);
    ck_assert_int_eq (s_operate (control, "d-none", ROLLCLONE__OPERATE_REQUEST__OP__PAUSE),
                      RC_EXIT_USAGE);

    /* the canary succeeds: the next batch is the rest */
    Rollclone__StepReport report = ROLLCLONE__STEP_REPORT__INIT;
    report.deployment_id = id;
    report.app = "shop";
    report.step = 1;
    report.phase = "done";
    report.version_now = "v2";
    report.result = ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED;
    rc_engine_on_report (engine, "web-1", &report);
    sent[0] = '\0';
    rc_engine_flush (engine);
    ck_assert_str_eq (sent, "web-2/1 web-10/1");
    /* abort: the hosts in flight finish, then what was touched goes back */
    ck_assert_int_eq (s_operate (control, id, ROLLCLONE__OPERATE_REQUEST__OP__ABORT), 0);
    report.result = ROLLCLONE__STEP_REPORT__RESULT__FAILED;
    report.error = "not healthy";
    rc_engine_on_report (engine, "web-2", &report);
    report.result = ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED;
    rc_engine_on_report (engine, "web-10", &report);
    sent[0] = '\0';
    rc_engine_flush (engine);
    info = s_status (control, id, &sreply);
    ck_assert_str_eq (info->state, "rolling_back");
    /* the largest batch (2) at a time, the last updated first: web-10
       and web-1 together */
    ck_assert_str_eq (info->hosts[0]->state, "rolling_back");
    ck_assert_str_eq (info->hosts[1]->state, "failed"); /* put back by its agent */
    ck_assert_str_eq (info->hosts[2]->state, "rolling_back");
    ck_assert_uint_eq (info->failures, 1);
    rollclone__control_reply__free_unpacked (sreply, NULL);
    ck_assert_str_eq (sent, "web-1/2 web-10/2");
    ck_assert_int_eq (s_operate (control, id, ROLLCLONE__OPERATE_REQUEST__OP__PAUSE),
                      RC_EXIT_USAGE);

    /* the read-only replies */
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__EventsRequest ereq = ROLLCLONE__EVENTS_REQUEST__INIT;
    ereq.deployment_id = id;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_EVENTS;
    req.events = &ereq;
    reply = rc_control_handle (control, &req, NULL);
    ck_assert_int_eq (reply->code, 0);
    const char *kinds[] = {"deployment_created",
                           "host_updating",
                           "batch_started",
                           "paused",
                           "resumed",
                           "host_succeeded",
                           "host_updating",
                           "host_updating",
                           "batch_started",
                           "abort_requested",
                           "host_failed",
                           "host_succeeded",
                           "rollback_started",
                           "host_rolling_back",
                           "host_rolling_back"};
    ck_assert_uint_eq (reply->events->n_events, sizeof kinds / sizeof kinds[0]);
    for (size_t i = 0; i < reply->events->n_events; i++)
        ck_assert_str_eq (reply->events->events[i]->kind, kinds[i]);
    /* the last updated first */
    ck_assert_str_eq (reply->events->events[13]->host_id, "web-10");
    ck_assert_str_eq (reply->events->events[14]->host_id, "web-1");
    rollclone__control_reply__free_unpacked (reply, NULL);
    ereq.after_id = -1;
    reply = rc_control_handle (control, &req, NULL);
    ck_assert_int_eq (reply->code, RC_EXIT_USAGE);
    rollclone__control_reply__free_unpacked (reply, NULL);

    Rollclone__HistoryRequest hreq = ROLLCLONE__HISTORY_REQUEST__INIT;
    hreq.host_id = "web-1";
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_HISTORY;
    req.history = &hreq;
    reply = rc_control_handle (control, &req, NULL);
    ck_assert_int_eq (reply->code, 0);
    ck_assert_uint_eq (reply->history->n_apps, 1);
    ck_assert_str_eq (reply->history->apps[0]->app, "shop");
    ck_assert_uint_eq (reply->history->apps[0]->n_rollback_points, 1);
    rollclone__control_reply__free_unpacked (reply, NULL);
    hreq.host_id = "web-99";
    reply = rc_control_handle (control, &req, NULL);
    ck_assert_int_eq (reply->code, RC_EXIT_USAGE);
    ck_assert_str_eq (reply->error, "no host 'web-99'");
    rollclone__control_reply__free_unpacked (reply, NULL);

    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_HOSTS;
    reply = rc_control_handle (control, &req, NULL);
    ck_assert_int_eq (reply->code, 0);
    ck_assert_uint_eq (reply->hosts->n_hosts, 3);
    ck_assert_str_eq (reply->hosts->hosts[0]->id, "web-1");
    ck_assert_str_eq (reply->hosts->hosts[0]->state, "online");
    ck_assert_uint_eq (reply->hosts->hosts[0]->n_labels, 1);
    ck_assert_uint_eq (reply->hosts->hosts[0]->n_apps, 1);
    rollclone__control_reply__free_unpacked (reply, NULL);

    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_INFO;
    reply = rc_control_handle (control, &req, NULL);
    ck_assert_int_eq (reply->code, 0);
    ck_assert_uint_eq (reply->info->agents_online, 3);
    ck_assert_str_eq (reply->info->version, RC_VERSION);
    rollclone__control_reply__free_unpacked (reply, NULL);

    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ__NOT_SET;
    reply = rc_control_handle (control, &req, NULL);
    ck_assert_int_eq (reply->code, RC_EXIT_USAGE);
    rollclone__control_reply__free_unpacked (reply, NULL);

    rc_control_destroy (&control);
    rc_backup_destroy (&backup);
    rc_engine_destroy (&engine);
    s_teardown (&env);
}
