/*  rc_frame.c - test tool: connects to a coordinator socket with a real
    CURVE key (or none) and sends frames that are wrong on purpose, so the
    end-to-end tests can check they are dropped and counted; crafted hellos
    and heartbeats (a fat one, an old sequence number); a control request of
    another protocol version; status requests, whole or summary (what one
    costs the coordinator: bench/status_cost.sh); and a SUB that listens to what it should not
    and tells what it could read. */
#include "rc_defaults.h"
#include "rc_envelope.h"
#include "rc_keys.h"
#include "rc_seal.h"
#include "rc_time.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_usage (void)
{
    fprintf (stderr,
             "usage: rc_frame --endpoint E [--server-key PUB --key SECRET] --kind KIND "
             "[--count N] [--sender ID] [--apps N] [--current V] [--run R] [--seq S] "
             "[--protocol P] [--topic T] [--listen DUR] [--wait DUR] [--deployment ID] "
             "[--summary]\n"
             "KIND: garbage truncated oversized wrong-version no-body multipart "
             "heartbeat hello request status subscribe\n"
             "  hello/heartbeat: --apps N apps (a1.., no release), or app web at --current V;\n"
             "    --run/--seq set the envelope's run id and first sequence number\n"
             "  request: an info request in protocol --protocol P (control socket)\n"
             "  status: a status request of --deployment ID (--summary: summary set),\n"
             "    one after another's reply; prints each reply's size and hosts\n"
             "  --wait: how long to wait for a first reply (default 300ms)\n"
             "  subscribe: a SUB subscribed to --topic T (no NUL added) for --listen\n"
             "    DUR; prints how many frames came and how many it could read\n");
}

/* What a crafted hello or heartbeat says. */
typedef struct {
    int apps;            /* that many apps a1.. with no release; 0: app web at current */
    const char *current; /* web's current release (NULL: no app at all) */
    uint64_t run_id;
    uint64_t seq;
} s_state_t;

static zframe_t *
s_envelope_frame (const char *sender, uint32_t version, bool with_body, bool hello,
                  const s_state_t *state)
{
    rc_envelope_t env;
    rc_envelope_init (&env, sender, state->seq);
    env.version = version;
    env.run_id = state->run_id;
    Rollclone__Heartbeat hb = ROLLCLONE__HEARTBEAT__INIT;
    Rollclone__Hello h = ROLLCLONE__HELLO__INIT;
    size_t n = state->apps > 0 ? (size_t)state->apps : state->current ? 1 : 0;
    Rollclone__AppState *apps = (Rollclone__AppState *)calloc (n ? n : 1, sizeof *apps);
    Rollclone__AppState **ptrs = (Rollclone__AppState **)calloc (n ? n : 1, sizeof *ptrs);
    char (*names)[16] = (char (*)[16])calloc (n ? n : 1, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        rollclone__app_state__init (&apps[i]);
        /* short names, as the 189 KB hello of 20,000 apps of issue 9 */
        snprintf (names[i], sizeof names[i], "a%zu", i + 1);
        apps[i].app = state->apps > 0 ? names[i] : "web";
        apps[i].current = state->apps > 0 ? "" : (char *)state->current;
        ptrs[i] = &apps[i];
    }
    if (hello) {
        h.host_id = (char *)sender;
        h.hostname = (char *)sender;
        h.agent_version = "rc_frame";
        h.healthy = true;
        h.apps = ptrs;
        h.n_apps = n;
        env.body_case = ROLLCLONE__ENVELOPE__BODY_HELLO;
        env.hello = &h;
    }
    else if (with_body) {
        hb.healthy = true;
        hb.apps = ptrs;
        hb.n_apps = n;
        env.body_case = ROLLCLONE__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &hb;
    }
    zframe_t *frame = rc_envelope_pack (&env);
    free (apps);
    free (ptrs);
    free (names);
    return frame;
}

/* A control request from the CLI ("cli"), in an envelope of version. */
static zframe_t *
s_request_frame (Rollclone__ControlRequest *req, uint32_t version, const s_state_t *state)
{
    rc_envelope_t env;
    rc_envelope_init (&env, "cli", state->seq);
    env.version = version;
    env.body_case = ROLLCLONE__ENVELOPE__BODY_REQUEST;
    env.request = req;
    return rc_envelope_pack (&env);
}

/* A SUB with our key on topic for listen_ms: prints how many frames came,
   and how many instructions in them it could read (in the clear, or sealed
   to its own key). */
static int
s_subscribe (const char *endpoint, zcert_t *cert, const char *server, const char *topic,
             int64_t listen_ms)
{
    zsock_t *sub = zsock_new (ZMQ_SUB);
    if (cert)
        rc_keys_client_socket (sub, cert, server);
    zsock_set_linger (sub, 0);
    zmq_setsockopt (zsock_resolve (sub), ZMQ_SUBSCRIBE, topic, strlen (topic));
    if (zsock_connect (sub, "%s", endpoint) != 0) {
        fprintf (stderr, "rc_frame: cannot connect %s\n", endpoint);
        return 2;
    }
    uint8_t key[RC_SEAL_KEY_BYTES];
    bool have_key = cert && rc_seal_key_z85 (key, server, zcert_secret_key (cert)) == 0;
    int frames = 0, readable = 0;
    zpoller_t *poller = zpoller_new (sub, NULL);
    int64_t end = rc_mono_ms () + listen_ms;
    while (rc_mono_ms () < end) {
        if (zpoller_wait (poller, (int)(end - rc_mono_ms ())) != sub)
            continue;
        zmsg_t *msg = zmsg_recv (sub);
        if (!msg)
            break;
        frames++;
        zmsg_first (msg);
        rc_envelope_t *env = rc_envelope_unpack (zmsg_next (msg), NULL);
        if (env && env->body_case == ROLLCLONE__ENVELOPE__BODY_INSTRUCTION)
            readable++;
        else if (env && env->body_case == ROLLCLONE__ENVELOPE__BODY_SEALED && have_key) {
            Rollclone__Instruction *ins = rc_seal_open (env->sealed, key, NULL);
            if (ins)
                readable++;
            if (ins)
                rollclone__instruction__free_unpacked (ins, NULL);
        }
        rc_envelope_destroy (&env);
        zmsg_destroy (&msg);
    }
    printf ("frames=%d readable=%d\n", frames, readable);
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
    return 0;
}

int
main (int argc, char **argv)
{
    const char *endpoint = NULL, *server_key = NULL, *key = NULL, *kind = NULL;
    const char *sender = "rc-frame";
    const char *topic = "";
    const char *deployment = NULL;
    bool summary = false;
    int count = 1;
    uint32_t protocol = RC_PROTOCOL_VERSION;
    int64_t listen_ms = 2000;
    int64_t first_ms = 300; /* how long to wait for a first reply */
    s_state_t state = {.seq = 1};
    static const struct option options[] = {
        {"endpoint", required_argument, NULL, 'e'},
        {"server-key", required_argument, NULL, 's'},
        {"key", required_argument, NULL, 'k'},
        {"kind", required_argument, NULL, 'K'},
        {"count", required_argument, NULL, 'n'},
        {"sender", required_argument, NULL, 'S'},
        {"apps", required_argument, NULL, 'a'},
        {"current", required_argument, NULL, 'c'},
        {"run", required_argument, NULL, 'r'},
        {"seq", required_argument, NULL, 'q'},
        {"protocol", required_argument, NULL, 'p'},
        {"topic", required_argument, NULL, 't'},
        {"listen", required_argument, NULL, 'l'},
        {"wait", required_argument, NULL, 'w'},
        {"deployment", required_argument, NULL, 'd'},
        {"summary", no_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'e': endpoint = optarg; break;
        case 's': server_key = optarg; break;
        case 'k': key = optarg; break;
        case 'K': kind = optarg; break;
        case 'n': count = atoi (optarg); break;
        case 'S': sender = optarg; break;
        case 'a': state.apps = atoi (optarg); break;
        case 'c': state.current = optarg; break;
        case 'r': state.run_id = strtoull (optarg, NULL, 10); break;
        case 'q': state.seq = strtoull (optarg, NULL, 10); break;
        case 'p': protocol = (uint32_t)atoi (optarg); break;
        case 't': topic = optarg; break;
        case 'l': rc_duration_parse (optarg, &listen_ms); break;
        case 'w': rc_duration_parse (optarg, &first_ms); break;
        case 'd': deployment = optarg; break;
        case 'm': summary = true; break;
        default: s_usage (); return 2;
        }
    }
    if (!endpoint || !kind || count < 1 || count > 100000) {
        s_usage ();
        return 2;
    }
    if (state.apps < 0 || state.apps > 1000000) {
        s_usage ();
        return 2;
    }
    zcert_t *cert = NULL;
    char err[512], server[RC_Z85_KEY_LEN + 1];
    if (server_key && key) {
        cert = rc_keys_load_secret (key, err, sizeof err);
        if (!cert || rc_keys_load_public (server_key, server, err, sizeof err) != 0) {
            fprintf (stderr, "rc_frame: %s\n", err);
            return 2;
        }
    }
    if (streq (kind, "status") && !deployment) {
        s_usage ();
        return 2;
    }
    if (streq (kind, "subscribe")) {
        int rc = s_subscribe (endpoint, cert, server, topic, listen_ms);
        zcert_destroy (&cert);
        return rc;
    }
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (cert)
        rc_keys_client_socket (sock, cert, server);
    zsock_set_linger (sock, 2000);
    if (zsock_connect (sock, "%s", endpoint) != 0) {
        fprintf (stderr, "rc_frame: cannot connect %s\n", endpoint);
        return 2;
    }
    zpoller_t *poller = zpoller_new (sock, NULL);
    int replies = 0;
    for (int i = 0; i < count; i++) {
        zframe_t *frame = NULL;
        if (streq (kind, "garbage")) {
            frame = zframe_new (NULL, 64);
            for (size_t j = 0; j < 64; j++)
                zframe_data (frame)[j] = (byte)(0xF0 ^ (j * 37 + (size_t)i));
        }
        else if (streq (kind, "truncated")) {
            zframe_t *whole = s_envelope_frame (sender, RC_PROTOCOL_VERSION, true, true, &state);
            frame = zframe_new (zframe_data (whole), zframe_size (whole) - 3);
            zframe_destroy (&whole);
        }
        else if (streq (kind, "oversized")) {
            frame = zframe_new (NULL, RC_MAX_FRAME_BYTES + 1024);
            memset (zframe_data (frame), 0x0a, zframe_size (frame));
        }
        else if (streq (kind, "wrong-version"))
            frame = s_envelope_frame (sender, RC_PROTOCOL_VERSION + 7, true, false, &state);
        else if (streq (kind, "no-body"))
            frame = s_envelope_frame (sender, RC_PROTOCOL_VERSION, false, false, &state);
        else if (streq (kind, "heartbeat"))
            frame = s_envelope_frame (sender, RC_PROTOCOL_VERSION, true, false, &state);
        else if (streq (kind, "hello"))
            frame = s_envelope_frame (sender, RC_PROTOCOL_VERSION, true, true, &state);
        else if (streq (kind, "request")) {
            Rollclone__InfoRequest info = ROLLCLONE__INFO_REQUEST__INIT;
            Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
            req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_INFO;
            req.info = &info;
            frame = s_request_frame (&req, protocol, &state);
        }
        else if (streq (kind, "status")) {
            Rollclone__StatusRequest sreq = ROLLCLONE__STATUS_REQUEST__INIT;
            sreq.deployment_id = (char *)deployment;
            sreq.summary = summary;
            Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
            req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_STATUS;
            req.status = &sreq;
            frame = s_request_frame (&req, RC_PROTOCOL_VERSION, &state);
        }
        else if (streq (kind, "multipart")) {
            zstr_sendm (sock, "one");
            frame = zframe_new ("two", 3);
        }
        else {
            s_usage ();
            return 2;
        }
        int64_t sent_ms = rc_mono_ms ();
        zframe_send (&frame, sock, 0);
        state.seq++;
        /* one status request at a time, as a follower asks: its reply first */
        if (streq (kind, "status") && zpoller_wait (poller, (int)first_ms) == sock) {
            zframe_t *in = zframe_recv (sock);
            rc_envelope_t *env = rc_envelope_unpack (in, NULL);
            const Rollclone__ControlReply *r =
                env && env->body_case == ROLLCLONE__ENVELOPE__BODY_REPLY ? env->reply : NULL;
            const Rollclone__DeploymentInfo *d =
                r && r->status && r->status->n_deployments ? r->status->deployments[0] : NULL;
            printf ("status code=%d ms=%lld bytes=%zu summary=%d hosts=%zu hosts_total=%u\n",
                    r ? r->code : -1, (long long)(rc_mono_ms () - sent_ms),
                    in ? zframe_size (in) : 0, d ? d->summary : 0, d ? d->n_hosts : 0,
                    d ? d->hosts_total : 0);
            rc_envelope_destroy (&env);
            zframe_destroy (&in);
            replies++;
        }
    }
    /* give replies (if any) a moment, and print them so a test can see */
    while (zpoller_wait (poller, replies ? 300 : (int)first_ms) == sock) {
        zframe_t *in = zframe_recv (sock);
        const char *reason = NULL;
        rc_envelope_t *env = rc_envelope_unpack (in, &reason);
        if (env && env->body_case == ROLLCLONE__ENVELOPE__BODY_ACK)
            printf ("ack status=%d reason=%s\n", env->ack->status, env->ack->reason);
        if (env && env->body_case == ROLLCLONE__ENVELOPE__BODY_REPLY)
            printf ("reply code=%d error=%s\n", env->reply->code, env->reply->error);
        rc_envelope_destroy (&env);
        zframe_destroy (&in);
        replies++;
    }
    zpoller_destroy (&poller);
    zsock_destroy (&sock);
    zcert_destroy (&cert);
    return 0;
}
