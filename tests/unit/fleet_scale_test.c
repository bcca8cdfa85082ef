/*  fleet_scale_test.c - what registration and liveness cost the store, for
    a fleet of S_HOSTS on a real one: hellos taken as the server takes them
    (bursts of RC_AGENT_BATCH in one group transaction), a hello repeated
    while its ack was late and a heartbeat that says nothing new write
    nothing, and a wave of hosts going silent is one transaction, not one
    each (5,000 simulated hosts: hundreds of fsyncs in one cron pass kept
    heartbeats waiting, and more hosts turned offline). A test fails when
    a hello's statements grow or a wave commits more than once. */
#include "fleet.h"
#include "rc_config.h"
#include "rc_defaults.h"
#include "rc_envelope.h"
#include "rc_keys.h"
#include "selftests.h"
#include "store_private.h"

#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_HOSTS 256
/* statements a first hello may run: its savepoint and release, the host
   row, its app's read and write, the release history's insert and prune,
   the "registered" event (8 when written) */
#define S_STMTS_PER_HELLO 10

static int
s_on_commit (void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static int64_t
s_stmts (rc_store_t *store)
{
    int64_t prepared, reused;
    rc_store_stmt_counts (store, &prepared, &reused);
    return prepared + reused;
}

/* host i's hello (hello) or heartbeat, run 1, sequence seq */
static void
s_send (rc_fleet_t *fleet, const char *key, int i, uint64_t seq, bool hello, rc_fleet_ack_t *ack)
{
    char id[16];
    snprintf (id, sizeof id, "h-%d", i);
    Rollclone__AppState app = ROLLCLONE__APP_STATE__INIT, *apps[] = {&app};
    app.app = "web";
    app.current = "v1";
    Rollclone__Label label = ROLLCLONE__LABEL__INIT, *labels[] = {&label};
    label.key = "role";
    label.value = "web";
    Rollclone__Hello h = ROLLCLONE__HELLO__INIT;
    Rollclone__Heartbeat hb = ROLLCLONE__HEARTBEAT__INIT;
    rc_envelope_t env;
    rc_envelope_init (&env, id, seq);
    env.run_id = 1;
    if (hello) {
        h.host_id = h.hostname = id;
        h.agent_version = "test";
        h.labels = labels;
        h.n_labels = 1;
        h.apps = apps;
        h.n_apps = 1;
        h.healthy = true;
        env.body_case = ROLLCLONE__ENVELOPE__BODY_HELLO;
        env.hello = &h;
        rc_fleet_on_hello (fleet, key, &env, ack);
    }
    else {
        hb.healthy = true;
        hb.apps = apps;
        hb.n_apps = 1;
        env.body_case = ROLLCLONE__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &hb;
        rc_fleet_on_heartbeat (fleet, key, &env, ack);
    }
    ck_assert (ack->send && ack->status == ROLLCLONE__ACK__STATUS__OK);
}

void
rc_fleet_scale_test (bool verbose)
{
    char dir[] = "/tmp/rc_fleet_scale.XXXXXX", path[128], err[512];
    ck_assert (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/c.key", dir);
    ck_assert_int_eq (rc_keys_generate (path, err, sizeof err), 0);
    snprintf (path, sizeof path, "%s/c.conf", dir);
    FILE *file = fopen (path, "w");
    ck_assert_ptr_nonnull (file);
    fprintf (file, "[coordinator]\nsecret_key = c.key_secret\nagent_keys_dir = .\n"
                   "operator_keys_dir = .\ndata_dir = .\nheartbeat_interval = 200ms\n"
                   "offline_after = 1s\n");
    fclose (file);
    rc_config_t *cfg = rc_config_load (path, RC_ROLE_COORDINATOR, err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    snprintf (path, sizeof path, "%s/c.db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert_msg (store != NULL, "%s", err);
    rc_quiet_t *quiet = rc_quiet_new ();
    rc_counters_t counters = {0};
    rc_fleet_t *fleet = rc_fleet_new (cfg, store, quiet, &counters);
    ck_assert_ptr_nonnull (fleet);
    int commits = 0;
    sqlite3_commit_hook (store->db, s_on_commit, &commits);
    /* one key a host */
    static char keys[S_HOSTS][RC_Z85_KEY_LEN + 1];
    for (int i = 0; i < S_HOSTS; i++) {
        uint8_t pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
        crypto_box_keypair (pk, sk);
        ck_assert_ptr_nonnull (zmq_z85_encode (keys[i], pk, sizeof pk));
    }
    rc_fleet_ack_t ack;

    /* registration, in the server's bursts: one commit a burst */
    int64_t stmts = s_stmts (store);
    int bursts = 0;
    for (int i = 0; i < S_HOSTS; bursts++) {
        ck_assert_int_eq (rc_store_group_begin (store), 0);
        for (int n = 0; n < RC_AGENT_BATCH && i < S_HOSTS; n++, i++)
            s_send (fleet, keys[i], i, 1, true, &ack);
        ck_assert_int_eq (rc_store_group_commit (store), 0);
    }
    double per_hello = (double)(s_stmts (store) - stmts) / S_HOSTS;
    if (verbose)
        printf ("fleet scale: %d hellos: %d commits, %.1f statements a hello\n", S_HOSTS, commits,
                per_hello);
    ck_assert_int_eq (commits, bursts);
    ck_assert_double_le (per_hello, S_STMTS_PER_HELLO);
    size_t on, off;
    rc_fleet_count (fleet, &on, &off);
    ck_assert (on == S_HOSTS && off == 0);

    /* the same hellos again (acks were late), then heartbeats that say
       nothing new: answered, no statement, no commit */
    commits = 0;
    stmts = s_stmts (store);
    for (int i = 0; i < S_HOSTS; i++)
        s_send (fleet, keys[i], i, 2, true, &ack);
    for (int i = 0; i < S_HOSTS; i++)
        s_send (fleet, keys[i], i, 3, false, &ack);
    ck_assert_int_eq (s_stmts (store) - stmts, 0);
    ck_assert_int_eq (commits, 0);

    /* the whole fleet silent past offline_after: one pass, one commit */
    zclock_sleep (1200);
    rc_fleet_cron (fleet);
    if (verbose)
        printf ("fleet scale: %d hosts offline in %d commit(s)\n", S_HOSTS, commits);
    ck_assert_int_eq (commits, 1);
    rc_fleet_count (fleet, &on, &off);
    ck_assert (on == 0 && off == S_HOSTS);
    int offline = 0;
    sqlite3_stmt *stmt = NULL;
    ck_assert_int_eq (sqlite3_prepare_v2 (store->db,
                                          "SELECT (SELECT count(*) FROM hosts WHERE state = "
                                          "'offline') + (SELECT count(*) FROM events WHERE kind = "
                                          "'offline')",
                                          -1, &stmt, NULL),
                      SQLITE_OK);
    ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
    offline = sqlite3_column_int (stmt, 0);
    sqlite3_finalize (stmt);
    ck_assert_int_eq (offline, 2 * S_HOSTS); /* each host's row and event */
    /* nothing more to do at the next pass */
    commits = 0;
    rc_fleet_cron (fleet);
    ck_assert_int_eq (commits, 0);

    rc_fleet_destroy (&fleet);
    rc_quiet_destroy (&quiet);
    rc_store_destroy (&store);
    rc_config_destroy (&cfg);
    char cmd[160];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}
