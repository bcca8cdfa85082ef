/*  daemon.c - the network side of the agent daemon (privsep.h): one zloop,
    unprivileged, that keeps the link with the coordinator (DEALER: hello,
    heartbeats, step reports; SUB: instructions) and hands steps to the
    executor process over the channel. The loop never blocks: sends are
    non-blocking, and libzmq reconnects with backoff on its own. */
#include "daemon.h"
#include "exporter.h"
#include "figures.h"
#include "rc_defaults.h"
#include "rc_envelope.h"
#include "rc_log.h"
#include "rc_signals.h"
#include "rc_monitor.h"
#include "rc_seal.h"
#include "rc_time.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

/* Signal handlers only set these and wake the loop (rc_signals_wake). */
static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void)sig;
    s_stop = 1;
    rc_signals_wake ();
}

typedef struct {
    const rc_config_t *cfg;   /* borrowed */
    zsock_t *dealer;          /* to the coordinator's agent ROUTER */
    zsock_t *sub;             /* instructions from the coordinator's PUB */
    rc_monitor_t *dealer_mon; /* handshake events of dealer */
    rc_monitor_t *sub_mon;    /* handshake events of sub */
    int retry_timer;          /* pending reconnect after a refused handshake */
    bool key_refused;         /* logged that our key was refused */
    rc_channel_t *channel;    /* to the executor process (borrowed) */
    bool executor_gone;       /* the channel closed: we exit non-zero */
    zloop_t *loop;
    char *hostname;
    char topic[RC_TOPIC_MAX];            /* "host/<id>" and its NUL */
    size_t topic_len;                    /* with the NUL */
    uint8_t seal_key[RC_SEAL_KEY_BYTES]; /* opens instructions sealed to us */
    uint64_t run_id;                     /* this run's, random: seq counts within it */
    uint64_t seq;                        /* our envelope sequence numbers */
    bool registered;                     /* a hello of ours was acknowledged */
    bool refused;                        /* the coordinator refused us: log once */
    int64_t last_ack_ms;                 /* monotonic time of the last ack */
    int64_t last_send_ms;                /* monotonic time of the last hello/heartbeat */
    int64_t started_ms;
    uint64_t dropped;            /* frames that did not decode */
    Rollclone__Heartbeat *state; /* last STATE from the executor */
    bool state_asked;            /* a STATE request is out */
    int64_t state_asked_ms;      /* monotonic time it went out */
    int want_send;               /* what to send with the answer (s_want_t) */
    rc_figures_t *figures;       /* the host's figures, sampled per heartbeat */
    rc_exporter_t *exporter;     /* [agent] metrics_endpoint, or NULL */
} s_agent_t;

/* What goes to the coordinator once the executor's state is in. */
typedef enum { WANT_NOTHING = 0, WANT_HEARTBEAT = 1, WANT_HELLO = 2 } s_want_t;

/* Keeps the executor's STATE answer (healthy flag, apps) for the next
   hello or heartbeat. */
static void
s_keep_state (s_agent_t *self, const uint8_t *body, size_t len)
{
    Rollclone__Heartbeat *hb = rollclone__heartbeat__unpack (NULL, len, body);
    if (!hb) {
        rc_log_warn ("%s: STATE from the executor does not decode: dropped", __func__);
        return;
    }
    if (self->state)
        rollclone__heartbeat__free_unpacked (self->state, NULL);
    self->state = hb;
}

static void
s_send (s_agent_t *self, rc_envelope_t *env)
{
    env->run_id = self->run_id;
    zframe_t *frame = rc_envelope_pack (env);
    if (!frame)
        return;
    /* Non-blocking: with no connection up the message is dropped, and the
       next heartbeat (or the re-published instruction) says it again. */
    if (zframe_send (&frame, self->dealer, ZFRAME_DONTWAIT) != 0) {
        zframe_destroy (&frame);
        rc_log_debug ("send to coordinator dropped (not connected)");
    }
}

static void
s_send_hello (s_agent_t *self)
{
    Rollclone__Hello hello = ROLLCLONE__HELLO__INIT;
    hello.host_id = self->cfg->id;
    hello.hostname = self->hostname;
    hello.agent_version = RC_VERSION;
    hello.heartbeat_interval_ms = (uint32_t)self->cfg->heartbeat_interval_ms;
    Rollclone__Label labels[RC_LABELS_MAX];
    Rollclone__Label *label_ptrs[RC_LABELS_MAX];
    for (size_t i = 0; i < self->cfg->label_count; i++) {
        rollclone__label__init (&labels[i]);
        labels[i].key = (char *)self->cfg->labels[i].key;
        labels[i].value = (char *)self->cfg->labels[i].value;
        label_ptrs[i] = &labels[i];
    }
    hello.n_labels = self->cfg->label_count;
    hello.labels = label_ptrs;
    if (self->state) {
        hello.healthy = self->state->healthy;
        hello.n_apps = self->state->n_apps;
        hello.apps = self->state->apps;
    }
    rc_envelope_t env;
    rc_envelope_init (&env, self->cfg->id, ++self->seq);
    env.body_case = ROLLCLONE__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    s_send (self, &env);
    self->last_send_ms = rc_mono_ms ();
}

static void
s_send_heartbeat (s_agent_t *self)
{
    Rollclone__Heartbeat hb = ROLLCLONE__HEARTBEAT__INIT;
    if (self->state) {
        hb.healthy = self->state->healthy;
        hb.n_apps = self->state->n_apps;
        hb.apps = self->state->apps;
    }
    hb.uptime_ms = (uint64_t)(rc_mono_ms () - self->started_ms);
    if (self->figures)
        hb.metrics = (Rollclone__HostMetrics *)rc_figures_sample (self->figures);
    rc_envelope_t env;
    rc_envelope_init (&env, self->cfg->id, ++self->seq);
    env.body_case = ROLLCLONE__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    s_send (self, &env);
    self->last_send_ms = rc_mono_ms ();
}

static void
s_flush (s_agent_t *self)
{
    if (self->want_send == WANT_HELLO)
        s_send_hello (self);
    else if (self->want_send == WANT_HEARTBEAT)
        s_send_heartbeat (self);
    self->want_send = WANT_NOTHING;
}

/* Asks the executor for its state and sends `what` when the answer comes
   in. The loop never waits for it: the answer is one more message on the
   executor's pipe. An executor busy for longer than a heartbeat interval
   does not silence us: we say what we knew last. */
static void
s_want (s_agent_t *self, s_want_t what)
{
    if ((int)what > self->want_send)
        self->want_send = what;
    int64_t now = rc_mono_ms ();
    if (self->state_asked && now - self->state_asked_ms > self->cfg->heartbeat_interval_ms) {
        s_flush (self);
        self->state_asked = false;
    }
    if (!self->state_asked) {
        /* a full channel drops the question: it is asked again above */
        if (rc_channel_send (self->channel, RC_MSG_STATE_ASK, NULL, 0, false) != 0)
            rc_log_debug ("%s: STATE_ASK not sent: %s", __func__, strerror (errno));
        self->state_asked = true;
        self->state_asked_ms = now;
    }
}

/* Hello until the coordinator has acknowledged one, heartbeats after; and
   hello again when acks stop coming (coordinator gone, or it forgot us). */
static void
s_beat (s_agent_t *self)
{
    int64_t now = rc_mono_ms ();
    int64_t silence = now - self->last_ack_ms;
    if (self->registered && silence > RC_HELLO_RETRY_INTERVALS * self->cfg->heartbeat_interval_ms) {
        rc_log_info ("no answer from the coordinator for %lld ms: saying hello again",
                     (long long)silence);
        self->registered = false;
    }
    s_want (self, self->registered ? WANT_HEARTBEAT : WANT_HELLO);
}

static int
s_on_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_beat ((s_agent_t *)arg);
    return 0;
}

static void
s_on_ack (s_agent_t *self, Rollclone__Ack *ack)
{
    self->last_ack_ms = rc_mono_ms ();
    switch (ack->status) {
    case ROLLCLONE__ACK__STATUS__OK:
        if (!self->registered)
            rc_log_info ("registered with the coordinator as '%s'", self->cfg->id);
        self->registered = true;
        self->refused = false;
        break;
    case ROLLCLONE__ACK__STATUS__HELLO_AGAIN:
        rc_log_info ("coordinator asks for hello again");
        self->registered = false;
        s_want (self, WANT_HELLO);
        break;
    case ROLLCLONE__ACK__STATUS__REFUSED:
        if (!self->refused)
            rc_log_error ("coordinator refused host id '%s': %s", self->cfg->id, ack->reason);
        self->refused = true;
        self->registered = false;
        break;
    default: break;
    }
}

static int
s_on_dealer (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    s_agent_t *self = (s_agent_t *)arg;
    zmsg_t *msg = zmsg_recv (sock);
    if (!msg)
        return 0;
    const char *reason = "not one frame";
    rc_envelope_t *env =
        zmsg_size (msg) == 1 ? rc_envelope_unpack (zmsg_first (msg), &reason) : NULL;
    if (!env) {
        self->dropped++;
        rc_log_warn ("dropped a frame from the coordinator: %s", reason);
    }
    else if (env->body_case == ROLLCLONE__ENVELOPE__BODY_ACK)
        s_on_ack (self, env->ack);
    else {
        self->dropped++;
        rc_log_warn ("dropped a message from the coordinator: unexpected body %d", env->body_case);
    }
    rc_envelope_destroy (&env);
    zmsg_destroy (&msg);
    return 0;
}

static int
s_on_sub (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    s_agent_t *self = (s_agent_t *)arg;
    zmsg_t *msg = zmsg_recv (sock);
    if (!msg)
        return 0;
    const char *reason = "not topic + envelope";
    rc_envelope_t *env = NULL;
    Rollclone__Instruction *ins = NULL;
    if (zmsg_size (msg) == 2) {
        zmsg_first (msg);
        env = rc_envelope_unpack (zmsg_next (msg), &reason);
        /* only a box sealed to our key is ours: another host's key cannot
           read our instructions, nor we theirs */
        if (env && env->body_case != ROLLCLONE__ENVELOPE__BODY_SEALED)
            reason = "not a sealed instruction";
        else if (env)
            ins = rc_seal_open (env->sealed, self->seal_key, &reason);
        if (ins && !streq (ins->host_id, self->cfg->id)) {
            reason = "instruction for another host";
            rollclone__instruction__free_unpacked (ins, NULL);
            ins = NULL;
        }
    }
    if (!ins) {
        self->dropped++;
        rc_log_warn ("dropped a published frame: %s", reason);
    }
    else {
        /* The executor gets the instruction alone, re-packed from what we
           decoded: never the frame that came from the network. A full
           channel drops it; the coordinator publishes it again. */
        size_t len = rollclone__instruction__get_packed_size (ins);
        uint8_t *packed = len ? malloc (len) : NULL;
        if (packed) {
            rollclone__instruction__pack (ins, packed);
            if (rc_channel_send (self->channel, RC_MSG_STEP, packed, len, false) != 0)
                rc_log_warn ("instruction not passed to the executor: %s", strerror (errno));
            else if (self->exporter)
                rc_exporter_instruction (self->exporter, ins);
        }
        free (packed);
        rollclone__instruction__free_unpacked (ins, NULL);
    }
    rc_envelope_destroy (&env);
    zmsg_destroy (&msg);
    return 0;
}

static void
s_on_report (s_agent_t *self, const uint8_t *body, size_t len)
{
    Rollclone__StepReport *report = rollclone__step_report__unpack (NULL, len, body);
    if (!report) {
        rc_log_warn ("%s: REPORT from the executor does not decode: dropped", __func__);
        return;
    }
    rc_envelope_t env;
    rc_envelope_init (&env, self->cfg->id, ++self->seq);
    env.body_case = ROLLCLONE__ENVELOPE__BODY_REPORT;
    env.report = report;
    s_send (self, &env);
    if (self->exporter)
        rc_exporter_report (self->exporter, report);
    rollclone__step_report__free_unpacked (report, NULL);
}

static int
s_on_executor (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    s_agent_t *self = (s_agent_t *)arg;
    rc_msg_type_t type;
    const uint8_t *body;
    size_t len;
    rc_channel_status_t st = rc_channel_recv (self->channel, &type, &body, &len);
    if (st == RC_CHANNEL_EOF) {
        if (!s_stop)
            rc_log_error ("the executor process is gone (%s): stopping",
                          rc_channel_errmsg (self->channel));
        self->executor_gone = true;
        return -1;
    }
    if (st == RC_CHANNEL_BAD)
        rc_log_warn ("from the executor: %s", rc_channel_errmsg (self->channel));
    if (st != RC_CHANNEL_MSG)
        return 0;
    if (type == RC_MSG_REPORT)
        s_on_report (self, body, len);
    else if (type == RC_MSG_HEALTH) {
        if (body[0] > 1) {
            rc_log_warn ("HEALTH from the executor with value %u: dropped", body[0]);
            return 0;
        }
        rc_log_info ("self health check: %s", body[0] ? "healthy" : "UNHEALTHY");
        /* tell the coordinator now rather than at the next beat */
        if (self->registered)
            s_want (self, WANT_HEARTBEAT);
    }
    else if (type == RC_MSG_STATE) {
        s_keep_state (self, body, len);
        self->state_asked = false;
        s_flush (self);
    }
    return 0;
}

/* A scrape of [agent] metrics_endpoint waits for a newer snapshot. */
static int
s_on_metrics (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    s_agent_t *self = (s_agent_t *)arg;
    rc_exporter_link_t link = {.dropped = self->dropped,
                               .registered = self->registered,
                               .silence_ms =
                                   self->last_ack_ms ? rc_mono_ms () - self->last_ack_ms : -1};
    rc_exporter_on_wake (self->exporter, &link);
    return 0;
}

/* libzmq does not reconnect after a failed CURVE handshake; we do, slowly,
   so an agent whose key is admitted later (coordinator SIGHUP) gets in
   without being restarted. */
static int
s_on_retry (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_agent_t *self = (s_agent_t *)arg;
    self->retry_timer = -1;
    zsock_disconnect (self->dealer, "%s", self->cfg->coordinator_endpoint);
    zsock_disconnect (self->sub, "%s", self->cfg->coordinator_publish_endpoint);
    if (zsock_connect (self->dealer, "%s", self->cfg->coordinator_endpoint) != 0
        || zsock_connect (self->sub, "%s", self->cfg->coordinator_publish_endpoint) != 0)
        rc_log_error ("cannot connect to the coordinator again");
    return 0;
}

static int
s_on_monitor (zloop_t *loop, zsock_t *sock, void *arg)
{
    s_agent_t *self = (s_agent_t *)arg;
    rc_monitor_t *mon =
        sock == rc_monitor_sock (self->dealer_mon) ? self->dealer_mon : self->sub_mon;
    rc_monitor_event_t event = rc_monitor_recv (mon);
    if (event == RC_MONITOR_HANDSHAKE_OK) {
        if (self->key_refused)
            rc_log_info ("coordinator accepted our key now");
        self->key_refused = false;
        /* the hello said before there was a connection was dropped (the
           dealer queues nothing for a peer not there): say it now, not a
           heartbeat interval later */
        if (mon == self->dealer_mon && !self->registered)
            s_want (self, WANT_HELLO);
    }
    else if (event == RC_MONITOR_AUTH_REFUSED || event == RC_MONITOR_HANDSHAKE_FAILED) {
        if (!self->key_refused)
            rc_log_error ("%s: add our public key (%s) to the coordinator's agent_keys_dir and "
                          "send it SIGHUP; retrying every %d ms",
                          event == RC_MONITOR_AUTH_REFUSED
                              ? "the coordinator refused our key"
                              : "CURVE handshake failed (is coordinator_public_key right?)",
                          zcert_public_txt (self->cfg->cert), RC_RECONNECT_IVL_MAX_MS);
        self->key_refused = true;
        if (self->retry_timer == -1)
            self->retry_timer = zloop_timer (loop, RC_RECONNECT_IVL_MAX_MS, 1, s_on_retry, self);
    }
    return 0;
}

static zsock_t *
s_socket (s_agent_t *self, int type, const char *endpoint)
{
    zsock_t *sock = zsock_new (type);
    if (!sock)
        return NULL;
    rc_keys_client_socket (sock, self->cfg->cert, self->cfg->server_key);
    zsock_set_linger (sock, 0);
    zsock_set_reconnect_ivl (sock, RC_RECONNECT_IVL_MS);
    zsock_set_reconnect_ivl_max (sock, RC_RECONNECT_IVL_MAX_MS);
    zsock_set_heartbeat_ivl (sock, RC_ZMTP_HEARTBEAT_IVL_MS);
    zsock_set_heartbeat_timeout (sock, RC_ZMTP_HEARTBEAT_TIMEOUT_MS);
    if (type == ZMQ_DEALER)
        zsock_set_immediate (sock, 1); /* queue nothing for a peer not there */
    if (zsock_connect (sock, "%s", endpoint) != 0) {
        rc_log_error ("cannot connect to %s", endpoint);
        zsock_destroy (&sock);
    }
    return sock;
}

int
rc_agent_daemon_run (const rc_config_t *cfg, rc_channel_t *channel)
{
    int rc = RC_EXIT_FAILED;
    s_agent_t self = {
        .cfg = cfg, .channel = channel, .started_ms = rc_mono_ms (), .retry_timer = -1};
    self.hostname = rc_hostname ();
    self.topic_len = rc_seal_topic (self.topic, sizeof self.topic, cfg->id);
    if (!self.topic_len
        || rc_seal_key_z85 (self.seal_key, cfg->server_key, zcert_secret_key (cfg->cert)) != 0) {
        rc_log_error ("coordinator_public_key or secret_key cannot open sealed instructions");
        free (self.hostname);
        return RC_EXIT_USAGE;
    }
    while (self.run_id == 0)
        randombytes_buf (&self.run_id, sizeof self.run_id);

    /* the wake pipe before the handler: a signal from now on wakes the
       loop (made here, in the forked network side, not shared) */
    int wake_fd = rc_signals_wake_fd ();
    rc_signals_catch (s_on_signal, SIGTERM, SIGINT, 0);
    /* privsep.c held them across the fork: any that came are handled now */
    sigset_t stop;
    sigemptyset (&stop);
    sigaddset (&stop, SIGTERM);
    sigaddset (&stop, SIGINT);
    sigprocmask (SIG_UNBLOCK, &stop, NULL);

    self.dealer = s_socket (&self, ZMQ_DEALER, cfg->coordinator_endpoint);
    self.sub = s_socket (&self, ZMQ_SUB, cfg->coordinator_publish_endpoint);
    self.loop = zloop_new ();
    if (!self.dealer || !self.sub || !self.loop)
        goto out;
    self.dealer_mon = rc_monitor_new (self.dealer);
    self.sub_mon = rc_monitor_new (self.sub);
    if (!self.dealer_mon || !self.sub_mon)
        goto out;
    zloop_reader (self.loop, rc_monitor_sock (self.dealer_mon), s_on_monitor, &self);
    zloop_reader (self.loop, rc_monitor_sock (self.sub_mon), s_on_monitor, &self);
    /* the topic with its NUL: "host/web-1" alone would also match
       "host/web-10" */
    zmq_setsockopt (zsock_resolve (self.sub), ZMQ_SUBSCRIBE, self.topic, self.topic_len);
    zsock_set_subscribe (self.sub, "all");

    zloop_reader (self.loop, self.dealer, s_on_dealer, &self);
    zloop_reader (self.loop, self.sub, s_on_sub, &self);
    zmq_pollitem_t item = {.fd = rc_channel_fd (channel), .events = ZMQ_POLLIN};
    zloop_poller (self.loop, &item, s_on_executor, &self);
    zloop_timer (self.loop, (size_t)cfg->heartbeat_interval_ms, 0, s_on_timer, &self);
    /* no cron: a stop wakes the loop through the pipe, and an idle agent
       wakes only for its heartbeat */
    zmq_pollitem_t wake = {.fd = wake_fd, .events = ZMQ_POLLIN};
    if (wake_fd < 0 || zloop_poller (self.loop, &wake, rc_signals_on_wake, (void *)&s_stop) != 0) {
        rc_log_error ("cannot watch for signals: %s", strerror (errno));
        goto out;
    }
    self.figures = rc_figures_new (cfg);
    if (!self.figures)
        goto out;
    if (cfg->metrics_endpoint) {
        /* here, after privileges were dropped: the endpoint is served by
           the unprivileged side (exporter.h says why) */
        char err[256];
        self.exporter = rc_exporter_new (
            cfg, self.figures, rc_now_ms () - (rc_mono_ms () - self.started_ms), err, sizeof err);
        if (!self.exporter) {
            rc_log_error ("%s", err);
            goto out;
        }
        zmq_pollitem_t mitem = {.fd = rc_exporter_wake_fd (self.exporter), .events = ZMQ_POLLIN};
        zloop_poller (self.loop, &mitem, s_on_metrics, &self);
        rc_log_info ("metrics on http://%s/metrics", cfg->metrics_endpoint);
    }

    rc_log_info ("agent '%s' %s: coordinator %s, %zu app(s)", cfg->id, RC_VERSION,
                 cfg->coordinator_endpoint, cfg->app_count);
    if (rc_channel_send (channel, RC_MSG_READY, NULL, 0, false) != 0)
        rc_log_warn ("READY not sent to the executor: %s", strerror (errno));
    s_want (&self, WANT_HELLO);
    zloop_start (self.loop);
    rc_log_info ("agent '%s' network side stopping", cfg->id);
    rc = self.executor_gone && !s_stop ? RC_EXIT_FAILED : RC_EXIT_OK;
out:
    zloop_destroy (&self.loop);
    rc_exporter_destroy (&self.exporter);
    rc_figures_destroy (&self.figures);
    rc_monitor_destroy (&self.dealer_mon);
    rc_monitor_destroy (&self.sub_mon);
    zsock_destroy (&self.dealer);
    zsock_destroy (&self.sub);
    if (self.state)
        rollclone__heartbeat__free_unpacked (self.state, NULL);
    free (self.hostname);
    return rc;
}
