/*  rc_fleetsim.c - benchmark tool: simulates a fleet of agents against a
    real coordinator, over real CURVE connections on loopback. Each simulated
    host says hello, heartbeats, and answers every instruction at once with
    a SUCCEEDED report, so a rollout measures the coordinator alone. Prints
    ack latencies as JSON when --duration ends (or on SIGTERM). */
#include "rc_defaults.h"
#include "rc_envelope.h"
#include "rc_keys.h"
#include "rc_seal.h"
#include "rc_time.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char id[RC_NAME_MAX + 1];
    zsock_t *dealer;
    zsock_t *sub;
    char current[RC_NAME_MAX + 1];
    zcert_t *cert;                       /* one key per host: a key is one host */
    uint8_t seal_key[RC_SEAL_KEY_BYTES]; /* opens its instructions */
    uint64_t run_id;
    uint64_t seq;
    int64_t next_beat;
    int64_t sent_at[64]; /* send time by seq % 64, for latencies */
    bool registered;
} s_host_t;

static int64_t
s_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static volatile sig_atomic_t s_stop;
static void
s_on_signal (int sig)
{
    (void)sig;
    s_stop = 1;
}

/* Non-blocking receives (czmq's zframe_recv would wait). */
static zframe_t *
s_frame_recv_nowait (zsock_t *sock)
{
    zmq_msg_t m;
    zmq_msg_init (&m);
    if (zmq_msg_recv (&m, zsock_resolve (sock), ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&m);
        return NULL;
    }
    zframe_t *f = zframe_new (zmq_msg_data (&m), zmq_msg_size (&m));
    /* a multipart message here is not ours: drain and drop the rest */
    while (zmq_msg_more (&m)) {
        zmq_msg_recv (&m, zsock_resolve (sock), 0);
        zframe_destroy (&f);
    }
    zmq_msg_close (&m);
    return f;
}

static zmsg_t *
s_recv_nowait (zsock_t *sock)
{
    if (!(zsock_events (sock) & ZMQ_POLLIN))
        return NULL;
    return zmsg_recv (sock);
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Heartbeats are timed; hellos (registration, one transaction each at the
   coordinator) are not: they are a burst at start, not the steady state. */
static void
s_send (s_host_t *h, rc_envelope_t *env)
{
    env->run_id = h->run_id;
    h->sent_at[env->seq % 64] = env->body_case == ROLLCLONE__ENVELOPE__BODY_HEARTBEAT ? s_us () : 0;
    zframe_t *frame = rc_envelope_pack (env);
    if (zframe_send (&frame, h->dealer, ZFRAME_DONTWAIT) != 0)
        zframe_destroy (&frame);
}

static Rollclone__AppState *
s_app (s_host_t *h, Rollclone__AppState *st)
{
    rollclone__app_state__init (st);
    st->app = "web";
    st->current = h->current;
    return st;
}

static void
s_hello (s_host_t *h)
{
    Rollclone__Hello hello = ROLLCLONE__HELLO__INIT;
    Rollclone__Label label = ROLLCLONE__LABEL__INIT;
    Rollclone__Label *labels[] = {&label};
    Rollclone__AppState st;
    Rollclone__AppState *apps[] = {s_app (h, &st)};
    label.key = "role";
    label.value = "sim";
    hello.host_id = h->id;
    hello.hostname = h->id;
    hello.agent_version = "fleetsim";
    hello.labels = labels;
    hello.n_labels = 1;
    hello.apps = apps;
    hello.n_apps = 1;
    hello.healthy = true;
    rc_envelope_t env;
    rc_envelope_init (&env, h->id, ++h->seq);
    env.body_case = ROLLCLONE__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    s_send (h, &env);
}

static void
s_beat (s_host_t *h)
{
    Rollclone__Heartbeat hb = ROLLCLONE__HEARTBEAT__INIT;
    Rollclone__AppState st;
    Rollclone__AppState *apps[] = {s_app (h, &st)};
    hb.healthy = true;
    hb.apps = apps;
    hb.n_apps = 1;
    /* the figures a real agent sends (agent/figures.c), so the coordinator
       keeps and exports as much per host as it would for a real fleet */
    Rollclone__HostMetrics m = ROLLCLONE__HOST_METRICS__INIT;
    Rollclone__DiskFree disk = ROLLCLONE__DISK_FREE__INIT;
    Rollclone__DiskFree *disks[] = {&disk};
    disk.app = "web";
    disk.path = "/srv/web";
    disk.free_bytes = 40ULL << 30;
    disk.total_bytes = 100ULL << 30;
    m.load1 = 0.5 + (double)(h->seq % 7) / 10;
    m.cpu_percent = 12.5;
    m.mem_used_bytes = 3ULL << 30;
    m.mem_available_bytes = 5ULL << 30;
    m.cpus = 4;
    m.disks = disks;
    m.n_disks = 1;
    hb.metrics = &m;
    rc_envelope_t env;
    rc_envelope_init (&env, h->id, ++h->seq);
    env.body_case = ROLLCLONE__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    s_send (h, &env);
}

static void
s_answer (s_host_t *h, const Rollclone__Instruction *ins, int64_t *handled)
{
    Rollclone__StepReport r = ROLLCLONE__STEP_REPORT__INIT;
    Rollclone__AppState st;
    snprintf (h->current, sizeof h->current, "%s", ins->version);
    r.deployment_id = ins->deployment_id;
    r.step = ins->step;
    r.app = ins->app;
    r.result = ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED;
    r.phase = "done";
    r.version_now = h->current;
    r.app_state = s_app (h, &st);
    rc_envelope_t env;
    rc_envelope_init (&env, h->id, ++h->seq);
    env.body_case = ROLLCLONE__ENVELOPE__BODY_REPORT;
    env.report = &r;
    s_send (h, &env);
    (*handled)++;
}

/* What the receive loop counts. */
typedef struct {
    int64_t *lat, *lat_at;
    size_t cap, nlat;
    int64_t handled, acks, registered_all, start;
    int registered, hosts;
} s_stats_t;

/* Everything waiting on a host's dealer: acks (hello, heartbeat, report). */
static void
s_drain_dealer (s_host_t *h, s_stats_t *st)
{
    zframe_t *f;
    while ((f = s_frame_recv_nowait (h->dealer))) {
        rc_envelope_t *env = rc_envelope_unpack (f, NULL);
        if (env && env->body_case == ROLLCLONE__ENVELOPE__BODY_ACK) {
            st->acks++;
            bool ok = env->ack->status == ROLLCLONE__ACK__STATUS__OK;
            if (ok && !h->registered && ++st->registered == st->hosts)
                st->registered_all = rc_mono_ms () - st->start;
            if (!ok && h->registered)
                st->registered--;
            h->registered = ok;
            int64_t sent = h->sent_at[env->ack->ack_seq % 64];
            if (sent && st->nlat < st->cap) {
                st->lat_at[st->nlat] = rc_mono_ms ();
                st->lat[st->nlat++] = s_us () - sent;
            }
        }
        rc_envelope_destroy (&env);
        zframe_destroy (&f);
    }
}

/* Everything waiting on a host's sub: instructions, each answered at once. */
static void
s_drain_sub (s_host_t *h, s_stats_t *st)
{
    zmsg_t *msg;
    while ((msg = s_recv_nowait (h->sub))) {
        if (zmsg_size (msg) == 2) {
            zmsg_first (msg);
            rc_envelope_t *env = rc_envelope_unpack (zmsg_next (msg), NULL);
            Rollclone__Instruction *ins = env && env->body_case == ROLLCLONE__ENVELOPE__BODY_SEALED
                                              ? rc_seal_open (env->sealed, h->seal_key, NULL)
                                              : NULL;
            if (ins) {
                s_answer (h, ins, &st->handled);
                rollclone__instruction__free_unpacked (ins, NULL);
                s_drain_dealer (h, st);
            }
            rc_envelope_destroy (&env);
        }
        zmsg_destroy (&msg);
    }
}

int
main (int argc, char **argv)
{
    const char *agent_ep = NULL, *pub_ep = NULL, *server_key = NULL, *keys_dir = NULL;
    bool keygen = false;
    const char *prefix = "sim-";
    const char *lat_file = NULL;
    const char *stamped_file = NULL; /* "mono_ms latency_us" per ack */
    int hosts = 100;
    int64_t interval = 1000, duration = 10000;
    static const struct option options[] = {
        {"agent-endpoint", required_argument, NULL, 'a'},
        {"publish-endpoint", required_argument, NULL, 'p'},
        {"server-key", required_argument, NULL, 's'},
        {"keys-dir", required_argument, NULL, 'k'},
        {"keygen", no_argument, NULL, 'g'},
        {"hosts", required_argument, NULL, 'n'},
        {"prefix", required_argument, NULL, 'x'},
        {"interval", required_argument, NULL, 'i'},
        {"duration", required_argument, NULL, 'd'},
        {"latencies", required_argument, NULL, 'l'},
        {"stamped-latencies", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'a': agent_ep = optarg; break;
        case 'p': pub_ep = optarg; break;
        case 's': server_key = optarg; break;
        case 'k': keys_dir = optarg; break;
        case 'g': keygen = true; break;
        case 'n': hosts = atoi (optarg); break;
        case 'x': prefix = optarg; break;
        case 'i': rc_duration_parse (optarg, &interval); break;
        case 'd': rc_duration_parse (optarg, &duration); break;
        case 'l': lat_file = optarg; break;
        case 't': stamped_file = optarg; break;
        default: return 2;
        }
    }
    if (!keys_dir || hosts < 1 || hosts > 5000
        || (!keygen && (!agent_ep || !pub_ep || !server_key))) {
        fprintf (stderr, "usage: rc_fleetsim --keys-dir DIR --keygen [--hosts N] [--prefix P]\n"
                         "       rc_fleetsim --agent-endpoint E --publish-endpoint E "
                         "--server-key PUB --keys-dir DIR [--hosts N] [--interval DUR] "
                         "[--duration DUR] [--prefix P] [--latencies FILE] "
                         "[--stamped-latencies FILE]\n"
                         "(--keygen writes a key pair per host into DIR, named by host id; "
                         "the coordinator's agent_keys_dir must admit them)\n");
        return 2;
    }
    if (keygen) {
        for (int i = 0; i < hosts; i++) {
            char path[PATH_MAX], err[512];
            snprintf (path, sizeof path, "%s/%s%d", keys_dir, prefix, i + 1);
            if (rc_keys_generate (path, err, sizeof err) != 0) {
                fprintf (stderr, "rc_fleetsim: %s\n", err);
                return 1;
            }
        }
        return 0;
    }
    zsys_handler_set (NULL);
    zsys_set_max_sockets (2 * hosts + 64);
    signal (SIGTERM, s_on_signal);
    signal (SIGINT, s_on_signal);
    char err[512], server[RC_Z85_KEY_LEN + 1];
    if (rc_keys_load_public (server_key, server, err, sizeof err) != 0) {
        fprintf (stderr, "rc_fleetsim: %s\n", err);
        return 2;
    }
    s_host_t *fleet = (s_host_t *)calloc ((size_t)hosts, sizeof *fleet);
    int64_t start = rc_mono_ms ();
    for (int i = 0; i < hosts; i++) {
        s_host_t *h = &fleet[i];
        snprintf (h->id, sizeof h->id, "%s%d", prefix, i + 1);
        snprintf (h->current, sizeof h->current, "v0");
        char path[PATH_MAX];
        snprintf (path, sizeof path, "%s/%s_secret", keys_dir, h->id);
        h->cert = rc_keys_load_secret (path, err, sizeof err);
        if (!h->cert || rc_seal_key_z85 (h->seal_key, server, zcert_secret_key (h->cert)) != 0) {
            fprintf (stderr, "rc_fleetsim: %s (run with --keygen first)\n", err);
            return 2;
        }
        while (h->run_id == 0)
            randombytes_buf (&h->run_id, sizeof h->run_id);
        h->dealer = zsock_new (ZMQ_DEALER);
        h->sub = zsock_new (ZMQ_SUB);
        rc_keys_client_socket (h->dealer, h->cert, server);
        rc_keys_client_socket (h->sub, h->cert, server);
        /* the options of a real agent's sockets (agent/daemon.c s_socket):
           no hello queued while the handshake is under way (a backlog of
           them delivered at once is not what agents send), and ZMTP
           heartbeats, which a coordinator answers on every connection */
        zsock_t *both[] = {h->dealer, h->sub};
        for (int s = 0; s < 2; s++) {
            zsock_set_linger (both[s], 0);
            zsock_set_reconnect_ivl (both[s], RC_RECONNECT_IVL_MS);
            zsock_set_reconnect_ivl_max (both[s], RC_RECONNECT_IVL_MAX_MS);
            zsock_set_heartbeat_ivl (both[s], RC_ZMTP_HEARTBEAT_IVL_MS);
            zsock_set_heartbeat_timeout (both[s], RC_ZMTP_HEARTBEAT_TIMEOUT_MS);
        }
        zsock_set_immediate (h->dealer, 1);
        char topic[RC_TOPIC_MAX];
        size_t topic_len = rc_seal_topic (topic, sizeof topic, h->id);
        zmq_setsockopt (zsock_resolve (h->sub), ZMQ_SUBSCRIBE, topic, topic_len);
        zsock_connect (h->dealer, "%s", agent_ep);
        zsock_connect (h->sub, "%s", pub_ep);
        /* spread the beats over one interval, as a real fleet's are */
        h->next_beat = start + (interval * i) / hosts;
    }
    size_t cap = 1 << 20, nlat = 0;
    int64_t *lat = (int64_t *)malloc (cap * sizeof *lat);
    int64_t *lat_at = (int64_t *)malloc (cap * sizeof *lat_at); /* monotonic ms of each */
    s_stats_t st = {.lat = lat,
                    .lat_at = lat_at,
                    .cap = cap,
                    .hosts = hosts,
                    .start = start,
                    .registered_all = -1};
    /* One epoll set over every socket's ZMQ_FD: a wakeup costs what is
       ready, not what is connected (zmq_poll over 2 sockets a host made the
       simulators, not the coordinator, the bottleneck past 2,000 hosts).
       Item 2i is host i's dealer, 2i+1 its sub. */
    int ep = epoll_create1 (EPOLL_CLOEXEC);
    for (int k = 0; ep >= 0 && k < 2 * hosts; k++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)k};
        int fd = zsock_fd (k % 2 ? fleet[k / 2].sub : fleet[k / 2].dealer);
        if (epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            fprintf (stderr, "rc_fleetsim: epoll: %s\n", strerror (errno));
            return 1;
        }
    }
    if (ep < 0) {
        fprintf (stderr, "rc_fleetsim: epoll: %s\n", strerror (errno));
        return 1;
    }
    enum { S_EVENTS = 256 };
    struct epoll_event ready[S_EVENTS];
    int cursor = 0; /* the host whose beat is due next: beats keep index order */
    int64_t sweep_at = start + 1000;
    while (!s_stop && rc_mono_ms () - start < duration) {
        int64_t now = rc_mono_ms ();
        for (int n = 0; n < hosts && fleet[cursor].next_beat <= now; n++) {
            s_host_t *h = &fleet[cursor];
            if (h->registered)
                s_beat (h);
            else
                s_hello (h);
            h->next_beat = now + interval;
            /* a send may take the socket's wakeup: read what it hid */
            s_drain_dealer (h, &st);
            cursor = (cursor + 1) % hosts;
        }
        int64_t wait = fleet[cursor].next_beat - now;
        if (wait > 50)
            wait = 50;
        int n = epoll_wait (ep, ready, S_EVENTS, (int)(wait > 0 ? wait : 0));
        for (int i = 0; i < n; i++) {
            int k = (int)ready[i].data.u32;
            if (k % 2 == 0)
                s_drain_dealer (&fleet[k / 2], &st);
            else
                s_drain_sub (&fleet[k / 2], &st);
        }
        /* ZMQ_FD is edge-like: once a second, look at every socket, so a
           wakeup lost to a race costs a delay, never a host */
        if (rc_mono_ms () >= sweep_at) {
            for (int i = 0; i < hosts; i++) {
                s_drain_dealer (&fleet[i], &st);
                s_drain_sub (&fleet[i], &st);
            }
            sweep_at = rc_mono_ms () + 1000;
        }
    }
    close (ep);
    nlat = st.nlat;
    int64_t handled = st.handled, acks = st.acks, registered_all = st.registered_all;
    /* with their times, for a bench that compares periods of one run */
    FILE *stamped = stamped_file ? fopen (stamped_file, "w") : NULL;
    for (size_t i = 0; stamped && i < nlat; i++)
        fprintf (stamped, "%lld %lld\n", (long long)lat_at[i], (long long)lat[i]);
    if (stamped)
        fclose (stamped);
    free (lat_at);
    qsort (lat, nlat, sizeof *lat, s_cmp);
    /* raw samples, for merging the runs of several simulator processes */
    FILE *out = lat_file ? fopen (lat_file, "w") : NULL;
    for (size_t i = 0; out && i < nlat; i++)
        fprintf (out, "%lld\n", (long long)lat[i]);
    if (out)
        fclose (out);
    /* registration: from start until every host was acknowledged */
    printf ("{\"registered_all_ms\": %lld, \"hosts\": %d, \"acks\": %lld, \"instructions\": %lld, "
            "\"ack_us_median\": %lld, "
            "\"ack_us_p99\": %lld}\n",
            (long long)registered_all, hosts, (long long)acks, (long long)handled,
            (long long)(nlat ? lat[nlat / 2] : -1), (long long)(nlat ? lat[nlat * 99 / 100] : -1));
    for (int i = 0; i < hosts; i++) {
        zsock_destroy (&fleet[i].dealer);
        zsock_destroy (&fleet[i].sub);
        zcert_destroy (&fleet[i].cert);
    }
    free (lat);
    free (fleet);
    return 0;
}
