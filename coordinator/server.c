/*  server.c - the coordinator's server actor: binds the agent ROUTER, the
    instruction PUB and the control ROUTER, receives and checks frames, and
    hands each message to its room: the fleet (hellos, heartbeats), the
    engine (reports), control (the CLI's requests), zap (who may connect).
    One zloop, nothing blocks, and the work one agent can cause is bounded
    (rc_defaults.h). */
#include "server.h"
#include "backup.h"
#include "control.h"
#include "counters.h"
#include "checks.h"
#include "engine.h"
#include "fleet.h"
#include "metrics.h"
#include "quiet.h"
#include "rc_defaults.h"
#include "rc_envelope.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_seal.h"
#include "rc_systemd.h"
#include "rc_time.h"
#include "store.h"
#include "webhooks.h"
#include "zap.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    const rc_config_t *cfg; /* borrowed */
    zsock_t *pipe;
    zloop_t *loop;
    zsock_t *agents;    /* ROUTER for agents */
    zsock_t *publisher; /* PUB of instructions */
    zsock_t *control;   /* ROUTER for the CLI */
    rc_quiet_t *quiet;  /* repeated warnings, said now and then */
    rc_zap_t *zap;      /* who may connect */
    rc_store_t *store;
    rc_fleet_t *fleet;          /* the hosts */
    rc_engine_t *engine;        /* the rollout engine */
    rc_backup_t *backup;        /* `rollclone backup`, stepped from the cron */
    rc_control_t *control_room; /* the CLI's requests */
    rc_freeze_t *freeze;        /* freeze windows and the operator's freeze */
    rc_webhooks_t *webhooks;    /* events POSTed from the outbox */
    rc_checks_t *checks;        /* analysis gates ([check NAME]) and their evaluator */
    rc_counters_t counters;     /* what was turned away */
    rc_metrics_t *metrics;      /* the /metrics endpoint, or NULL (off) */
    uint64_t seq;
    uint64_t fleet_epoch; /* the fleet's, as the engine was last told */
    bool grouping;        /* the agents' messages share one transaction (group commit) */
    bool reported;        /* a step report of the group wrote: more of its batch may follow */
    int64_t group_since;  /* monotonic ms the group began */
    int hold_timer;       /* zloop timer that commits a held group, or -1 */
    zlistx_t *acks;       /* s_held_ack_t: answers that wait for its commit */
    zlistx_t *held;       /* zmsg_t: instructions (topic, sealed) that wait for it too */
} s_server_t;

/* An ack held until the group transaction that wrote its news commits. */
typedef struct {
    zframe_t *routing_id;
    uint64_t ack_seq;
    Rollclone__Ack__Status status;
    char reason[160];
} s_held_ack_t;

static void
s_held_ack_destroy (s_held_ack_t **self_p)
{
    if (self_p && *self_p) {
        zframe_destroy (&(*self_p)->routing_id);
        free (*self_p);
        *self_p = NULL;
    }
}

/* Sends [routing id, env] on a ROUTER without waiting: 0, or -1 when it
   could not be packed or queued (a peer gone or too slow). */
static int
s_send (zsock_t *router, zframe_t *routing_id, rc_envelope_t *env)
{
    zframe_t *frame = rc_envelope_pack (env);
    zframe_t *dest = zframe_dup (routing_id);
    int rc = -1;
    if (frame && dest && zframe_send (&dest, router, ZFRAME_MORE | ZFRAME_DONTWAIT) == 0
        && zframe_send (&frame, router, ZFRAME_DONTWAIT) == 0)
        rc = 0;
    zframe_destroy (&dest);
    zframe_destroy (&frame);
    return rc;
}

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
    if (s_send (self->agents, routing_id, &env) != 0)
        rc_log_debug ("ack to an agent dropped");
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
    rc_metrics_count_frame (label);
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
        if (rc_quiet_should (self->quiet, what, RC_WARN_EVERY_MS / 60))
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

/* Sends the fleet's answer, then gives the apps of a hello or heartbeat
   to the engine to reconcile. An answer to a message that wrote waits for
   the group's commit (wrote: rows changed since then). */
static void
s_answer (s_server_t *self, zframe_t *routing_id, const rc_envelope_t *env,
          const rc_fleet_ack_t *ack, const char *host_id, Rollclone__AppState **apps, size_t n_apps,
          bool hello, int64_t changes_before)
{
    if (ack->send && self->grouping && rc_store_changes (self->store) != changes_before) {
        s_held_ack_t *held = (s_held_ack_t *)zmalloc (sizeof *held);
        held->routing_id = zframe_dup (routing_id);
        held->ack_seq = env->seq;
        held->status = ack->status;
        snprintf (held->reason, sizeof held->reason, "%s", ack->reason);
        zlistx_add_end (self->acks, held);
    }
    else if (ack->send)
        s_ack (self, routing_id, env->seq, ack->status, *ack->reason ? ack->reason : NULL);
    if (ack->reconcile)
        rc_engine_on_apps (self->engine, host_id, apps, n_apps, hello);
}

/* One message from the agent ROUTER. */
static void
s_agent_message (s_server_t *self, zsock_t *sock)
{
    zmsg_t *msg = NULL;
    zframe_t *routing_id = NULL;
    const char *key = NULL;
    s_dropped_t why;
    rc_envelope_t *env = s_recv (self, sock, rc_zap_agent_keys (self->zap),
                                 ROLLCLONE__ENVELOPE__BODY__NOT_SET, RC_MAX_STATE_BYTES, &msg,
                                 &routing_id, &key, &self->counters.dropped_agent, "agent", &why);
    if (!env) {
        /* key lives in msg, which s_recv kept only when there is an answer */
        if (msg)
            rc_fleet_refused_frame (self->fleet, key, why.oversize, why.peer_version);
        zmsg_destroy (&msg);
        return;
    }
    rc_fleet_ack_t ack;
    int64_t before = rc_store_changes (self->store);
    switch (env->body_case) {
    case ROLLCLONE__ENVELOPE__BODY_HELLO:
        rc_fleet_on_hello (self->fleet, key, env, &ack);
        s_answer (self, routing_id, env, &ack, env->hello->host_id, env->hello->apps,
                  env->hello->n_apps, true, before);
        break;
    case ROLLCLONE__ENVELOPE__BODY_HEARTBEAT:
        rc_fleet_on_heartbeat (self->fleet, key, env, &ack);
        s_answer (self, routing_id, env, &ack, env->sender, env->heartbeat->apps,
                  env->heartbeat->n_apps, false, before);
        break;
    case ROLLCLONE__ENVELOPE__BODY_REPORT: {
        const char *host_id = rc_fleet_on_report (self->fleet, key, env, &ack);
        if (host_id && rc_engine_on_report (self->engine, host_id, env->report))
            rc_fleet_app_stored (self->fleet, host_id, env->report->app_state);
        s_answer (self, routing_id, env, &ack, NULL, NULL, 0, false, before);
        if (rc_store_changes (self->store) != before)
            self->reported = true;
        break;
    }
    default:
        self->counters.dropped_agent++;
        rc_log_warn ("dropped a message on the agent socket: unexpected body %d", env->body_case);
        break;
    }
    rc_envelope_destroy (&env);
    zmsg_destroy (&msg);
}

/* Sends an instruction [topic, sealed] (taken) on the PUB socket. */
static void
s_publish_send (s_server_t *self, zmsg_t **msg_p)
{
    zframe_t *head = zmsg_pop (*msg_p), *frame = zmsg_pop (*msg_p);
    zmsg_destroy (msg_p);
    /* the topic is "host/<id>" and its NUL (rc_seal_topic) */
    const char *slash = head ? strchr ((const char *)zframe_data (head), '/') : NULL;
    char host_id[RC_TOPIC_MAX];
    snprintf (host_id, sizeof host_id, "%s", slash ? slash + 1 : "?");
    if (zframe_send (&head, self->publisher, ZFRAME_MORE | ZFRAME_DONTWAIT) != 0
        || zframe_send (&frame, self->publisher, ZFRAME_DONTWAIT) != 0)
        rc_log_warn_with (&(rc_log_fields_t){.host_id = host_id},
                          "publish to %s dropped: the next round sends it again", host_id);
    zframe_destroy (&head);
    zframe_destroy (&frame);
}

/* Publishes one host's instruction, sealed to its key, on its topic; in a
   group, once the group has committed (what it follows from is in it). */
static void
s_publish (void *arg, const char *host_id, const Rollclone__Instruction *ins)
{
    s_server_t *self = (s_server_t *)arg;
    const uint8_t *seal_key = rc_fleet_seal_key (self->fleet, host_id);
    char topic[RC_TOPIC_MAX];
    size_t topic_len = rc_seal_topic (topic, sizeof topic, host_id);
    if (!seal_key || !topic_len) {
        rc_log_warn ("no key to seal an instruction to '%s' with: not published", host_id);
        return;
    }
    zframe_t *frame = rc_seal_pack (ins, host_id, seal_key, "coordinator", ++self->seq);
    zframe_t *head = zframe_new (topic, topic_len);
    zmsg_t *msg = zmsg_new ();
    if (!frame || !head || !msg) {
        rc_log_warn ("publish to %s dropped: out of memory", host_id);
        zframe_destroy (&head);
        zframe_destroy (&frame);
        zmsg_destroy (&msg);
        return;
    }
    zmsg_append (msg, &head);
    zmsg_append (msg, &frame);
    if (self->grouping)
        zlistx_add_end (self->held, msg);
    else
        s_publish_send (self, &msg);
}

/* Tells the engine when a host's liveness changed since it last heard. */
static void
s_fleet_news (s_server_t *self)
{
    uint64_t epoch = rc_fleet_epoch (self->fleet);
    if (epoch != self->fleet_epoch)
        rc_engine_fleet_changed (self->engine);
    self->fleet_epoch = epoch;
}

/* Commits the agents' group (the burst, or the bursts it held), then
   publishes the instructions that follow from it and sends the answers
   that said it was stored; a failed commit publishes and answers nothing.
   Every handler that reads or writes the store, or answers anyone, settles
   the group first: nothing is seen before it is committed. */
static void
s_group_settle (s_server_t *self)
{
    if (self->hold_timer >= 0) {
        zloop_timer_end (self->loop, self->hold_timer);
        self->hold_timer = -1;
    }
    if (!self->grouping)
        return;
    self->grouping = false;
    bool committed = rc_store_group_commit (self->store) == 0;
    if (!committed) {
        rc_log_error ("store: %zu agent message(s): %s", zlistx_size (self->acks),
                      rc_store_errmsg (self->store));
        /* what the fleet took as stored was not: written again when
           said again (the agents unanswered say it again) */
        rc_fleet_forget_stored (self->fleet);
        rc_engine_store_failed (self->engine);
    }
    zmsg_t *msg = (zmsg_t *)zlistx_detach (self->held, NULL);
    for (; msg; msg = (zmsg_t *)zlistx_detach (self->held, NULL)) {
        if (committed)
            s_publish_send (self, &msg);
        zmsg_destroy (&msg);
    }
    for (s_held_ack_t *held = (s_held_ack_t *)zlistx_first (self->acks); held;
         held = (s_held_ack_t *)zlistx_next (self->acks))
        if (committed)
            s_ack (self, held->routing_id, held->ack_seq, held->status,
                   *held->reason ? held->reason : NULL);
    zlistx_purge (self->acks);
}

static int
s_on_hold_end (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_server_t *self = (s_server_t *)arg;
    self->hold_timer = -1;
    s_group_settle (self);
    return 0;
}

/* May the group stay open for the next burst? Only while it holds step
   reports and nothing to publish (what a report made possible, the next
   batch, commits at once): until no burst came for RC_GROUP_HOLD_MS, at
   most RC_GROUP_HOLD_MAX_MS from its first (rc_defaults.h). The reports of
   one batch come in over several wakes, and each commit is an fsync that
   stops the loop; held, they share one. */
static bool
s_group_hold (s_server_t *self)
{
    if (!self->grouping || !self->reported || zlistx_size (self->held) > 0)
        return false;
    int64_t left = self->group_since + RC_GROUP_HOLD_MAX_MS - rc_mono_ms ();
    if (left <= 0)
        return false;
    if (self->hold_timer >= 0)
        zloop_timer_end (self->loop, self->hold_timer);
    self->hold_timer =
        zloop_timer (self->loop, (size_t)(left < RC_GROUP_HOLD_MS ? left : RC_GROUP_HOLD_MS), 1,
                     s_on_hold_end, self);
    return self->hold_timer >= 0;
}

static int
s_on_agents (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    s_server_t *self = (s_server_t *)arg;
    /* a batch, then the loop's other readers and timers get their turn;
       libzmq's ROUTER queues peers fairly, one message each in turn, and
       every message's cost is bounded, so no agent starves the others */
    if (!self->grouping) {
        self->grouping = rc_store_group_begin (self->store) == 0;
        self->group_since = rc_mono_ms ();
        self->reported = false;
    }
    for (int i = 0; i < RC_AGENT_BATCH && (zsock_events (sock) & ZMQ_POLLIN); i++)
        s_agent_message (self, sock);
    s_fleet_news (self);
    /* what the reports of this burst made possible (the next batch, the
       window's next hosts, the end), once, in the same transaction: one
       commit (one fsync) for the burst and what follows from it, and the
       next batch starts in this loop iteration, not at the next wake */
    rc_engine_flush (self->engine);
    /* the burst's hellos, heartbeats and reports: one commit (now, or with
       the next bursts when held), then the instructions that follow from
       them and the answers that said they were stored */
    if (!s_group_hold (self))
        s_group_settle (self);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Control socket */

static void
s_reply (s_server_t *self, zframe_t *routing_id, Rollclone__ControlReply *reply)
{
    rc_envelope_t env;
    rc_envelope_init (&env, "coordinator", ++self->seq);
    env.body_case = ROLLCLONE__ENVELOPE__BODY_REPLY;
    env.reply = reply;
    if (s_send (self->control, routing_id, &env) != 0)
        rc_log_warn ("reply to the CLI dropped");
}
static int
s_on_control (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    s_server_t *self = (s_server_t *)arg;
    s_group_settle (self);
    zmsg_t *msg = NULL;
    zframe_t *routing_id = NULL;
    const char *key = NULL;
    s_dropped_t why;
    rc_envelope_t *env =
        s_recv (self, sock, rc_zap_operator_keys (self->zap), ROLLCLONE__ENVELOPE__BODY_REQUEST,
                RC_MAX_FRAME_BYTES, &msg, &routing_id, &key, &self->counters.dropped_control,
                "control", &why);
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
    /* the key's name (its file's) goes into the events; a read-only key
       may only read */
    rc_keyring_t *operators = rc_zap_operator_keys (self->zap);
    Rollclone__ControlReply *reply = rc_control_handle_by (
        self->control_room, env->request, routing_id, rc_keyring_name (operators, key),
        rc_keyring_read_only (operators, key));
    rc_metrics_count_control (env->request, reply);
    if (reply) {
        s_reply (self, routing_id, reply);
        rollclone__control_reply__free_unpacked (reply, NULL);
    }
    rc_envelope_destroy (&env);
    zmsg_destroy (&msg);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Cron: liveness, the engine's timers, backup and retention. */

static int
s_on_cron (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_server_t *self = (s_server_t *)arg;
    s_group_settle (self);
    /* hosts that went silent turn offline */
    rc_fleet_cron (self->fleet);
    s_fleet_news (self);
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
    if (rc_store_history_cap (self->store, false) < 0)
        rc_log_error ("store: %s", rc_store_errmsg (self->store));
    rc_systemd_watchdog ();
    return 0;
}

/* Answers of the checks' evaluator: each recorded, and the deployment it
   concerns moved on at once (a host cleared or failed by its gate). */
static int
s_on_check (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    (void)sock;
    s_server_t *self = (s_server_t *)arg;
    s_group_settle (self);
    char id[RC_ID_MAX];
    /* a burst is taken whole, up to a bound that leaves the loop to the
       others (the rest comes at the next wake) */
    for (int i = 0; i < RC_CHECK_ANSWERS_PER_WAKE && (zsock_events (sock) & ZMQ_POLLIN); i++)
        if (rc_checks_on_answer (self->checks, id) == 1)
            rc_engine_advance (self->engine, id);
    return 0;
}

/* The webhooks' worker: its answers update the outbox. */
static int
s_on_webhooks (zloop_t *loop, zsock_t *sock, void *arg)
{
    s_server_t *self = (s_server_t *)arg;
    s_group_settle (self);
    return rc_webhooks_on_worker (loop, sock, self->webhooks);
}

/* A scrape waits for a newer snapshot (metrics.h). */
static int
s_on_metrics (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    s_group_settle ((s_server_t *)arg);
    rc_metrics_on_wake (((s_server_t *)arg)->metrics);
    return 0;
}

static int
s_on_pipe (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    s_server_t *self = (s_server_t *)arg;
    s_group_settle (self);
    char *command = zstr_recv (sock);
    if (!command)
        return -1;
    int rc = 0;
    if (streq (command, "$TERM"))
        rc = -1;
    else if (streq (command, "RELOAD")) {
        rc_zap_reload (self->zap);
    }
    free (command);
    return rc;
}

/* ------------------------------------------------------------------------ */
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
    /* a fleet connects at once when the coordinator starts: libzmq's
       default queue of 100 unaccepted connections overflows, and each
       connection dropped there waits for TCP's SYN retry (1 s, then 3...) */
    zsock_set_backlog (sock, RC_COORD_BACKLOG);
    if (zsock_bind (sock, "%s", endpoint) == -1) {
        rc_log_error ("cannot bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

static void
s_server_destroy (s_server_t *self)
{
    if (self->loop)
        s_group_settle (self);
    zloop_destroy (&self->loop);
    zlistx_destroy (&self->acks);
    zmsg_t *msg;
    while (self->held && (msg = (zmsg_t *)zlistx_detach (self->held, NULL)))
        zmsg_destroy (&msg);
    zlistx_destroy (&self->held);
    rc_webhooks_destroy (&self->webhooks);
    rc_metrics_destroy (&self->metrics);
    rc_control_destroy (&self->control_room);
    rc_engine_destroy (&self->engine);
    rc_checks_destroy (&self->checks);
    rc_freeze_destroy (&self->freeze);
    rc_backup_destroy (&self->backup);
    zsock_destroy (&self->agents);
    zsock_destroy (&self->publisher);
    zsock_destroy (&self->control);
    rc_zap_destroy (&self->zap);
    rc_fleet_destroy (&self->fleet);
    rc_quiet_destroy (&self->quiet);
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
    self->webhooks = rc_webhooks_new (cfg, self->store, path);
    if (!self->webhooks)
        return -1;
    self->quiet = rc_quiet_new ();
    self->fleet = rc_fleet_new (cfg, self->store, self->quiet, &self->counters);
    if (!self->fleet) {
        rc_log_error ("store: %s", rc_store_errmsg (self->store));
        return -1;
    }
    /* the ZAP handler must be up before any CURVE socket binds: without
       one, libzmq would admit every client */
    self->zap = rc_zap_new (cfg, self->quiet);
    if (!self->zap)
        return -1;
    self->agents = s_bind (self, ZMQ_ROUTER, cfg->agent_endpoint, RC_ZAP_DOMAIN_AGENTS);
    self->publisher = s_bind (self, ZMQ_PUB, cfg->publish_endpoint, RC_ZAP_DOMAIN_AGENTS);
    self->control = s_bind (self, ZMQ_ROUTER, cfg->control_endpoint, RC_ZAP_DOMAIN_OPERATORS);
    if (!self->agents || !self->publisher || !self->control)
        return -1;
    self->engine = rc_engine_new (self->store, rc_fleet_view, self->fleet);
    rc_engine_set_publish (self->engine, s_publish, self);
    self->checks = rc_checks_new (self->store, cfg->checks, cfg->check_count);
    if (!self->checks) {
        rc_log_error ("cannot start the checks' evaluator");
        return -1;
    }
    rc_engine_set_gate (self->engine, rc_checks_gate, self->checks);
    self->backup = rc_backup_new (self->store);
    self->control_room = rc_control_new (self->store, self->engine, self->fleet, self->backup,
                                         &self->counters, cfg->offline_grace_ms);
    self->freeze = rc_freeze_new (self->store, cfg->freeze, err, sizeof err);
    if (!self->freeze) {
        rc_log_error ("%s", err);
        return -1;
    }
    rc_engine_set_freeze (self->engine, self->freeze);
    rc_control_set_freeze (self->control_room, self->freeze);
    rc_control_set_checks (self->control_room, self->checks);
    self->acks = zlistx_new ();
    zlistx_set_destructor (self->acks, (zlistx_destructor_fn *)s_held_ack_destroy);
    self->held = zlistx_new ();
    self->loop = zloop_new ();
    zloop_reader (self->loop, self->pipe, s_on_pipe, self);
    zloop_reader (self->loop, rc_zap_socket (self->zap), rc_zap_on_request, self->zap);
    zloop_reader (self->loop, self->agents, s_on_agents, self);
    zloop_reader (self->loop, self->control, s_on_control, self);
    zloop_reader (self->loop, rc_checks_socket (self->checks), s_on_check, self);
    zloop_timer (self->loop, RC_COORD_CRON_MS, 0, s_on_cron, self);
    if (rc_webhooks_socket (self->webhooks))
        zloop_reader (self->loop, rc_webhooks_socket (self->webhooks), s_on_webhooks, self);
    if (cfg->metrics_endpoint) {
        self->metrics =
            rc_metrics_new (cfg, self->fleet, self->store, &self->counters, err, sizeof err);
        if (!self->metrics) {
            rc_log_error ("%s", err);
            return -1;
        }
        rc_metrics_set_webhooks (self->metrics, self->webhooks);
        zmq_pollitem_t item = {.fd = rc_metrics_wake_fd (self->metrics), .events = ZMQ_POLLIN};
        zloop_poller (self->loop, &item, s_on_metrics, self);
        rc_log_info ("metrics on http://%s/metrics", cfg->metrics_endpoint);
    }
    size_t online, offline;
    rc_fleet_count (self->fleet, &online, &offline);
    rc_log_info ("coordinator %s: agents %s, publish %s, control %s; %zu host(s) known, "
                 "%zu agent key(s), %zu operator key(s)",
                 RC_VERSION, cfg->agent_endpoint, cfg->publish_endpoint, cfg->control_endpoint,
                 online + offline, rc_keyring_size (rc_zap_agent_keys (self->zap)),
                 rc_keyring_size (rc_zap_operator_keys (self->zap)));
    return 0;
}

static void
s_server_actor (zsock_t *pipe, void *args)
{
    s_server_t self = {.cfg = (const rc_config_t *)args, .pipe = pipe, .hold_timer = -1};
    self.counters.started = rc_mono_ms ();
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
