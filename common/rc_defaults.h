/*  rc_defaults.h - named defaults and limits shared by every rollclone part.
    A number that is a policy lives here, never inline in a .c file. */
#ifndef RC_DEFAULTS_H
#define RC_DEFAULTS_H

#ifndef RC_VERSION
#define RC_VERSION "0.0.0-dev"
#endif

/* 2: instructions travel sealed to the host's key (SealedInstruction), and
   agents number their messages per run (Envelope.run_id). A test build may
   set another number (make RC_PROTOCOL=N) to play a skewed peer. */
#ifndef RC_PROTOCOL_VERSION
#define RC_PROTOCOL_VERSION 2
#endif

/* Frames larger than this are dropped unread: no message of ours comes near. */
#define RC_MAX_FRAME_BYTES (256 * 1024)

/* Names: app names, versions, host ids, label keys and values. */
#define RC_NAME_MAX 64
/* A run-once step's NAME ([app] run_once_NAME, deploy --before/--after) */
#define RC_RUN_ONCE_NAME_MAX 64
/* run_once_NAME keys one [app] may have */
#define RC_RUN_ONCE_PER_APP_MAX 32
#define RC_RUN_ONCE_KEY_PREFIX "run_once_"
/* A run-once step's instruction step number: RC_RUN_ONCE_STEP_BASE + 1
   (before) or + 2 (after), apart from the hosts' own steps (1, 2, ...) of
   the same deployment, whose reports the agent keeps by the same key. */
#define RC_RUN_ONCE_STEP_BASE 1000000u
#define RC_LABELS_MAX 32

/* Bounded work per agent: what one hello or heartbeat may hold. Above any
   of these the message is refused unread (bytes) or unstored (counts),
   counted, and an event names the host. 64 apps of keep_releases = 100 with
   64-character versions would not fit in the bytes: the bytes are the bound
   on work, the counts the bound on rows. */
#define RC_MAX_STATE_BYTES (128 * 1024)
#define RC_MAX_APPS_PER_HOST 64
#define RC_MAX_ROLLBACK_POINTS 100
/* Store writes one agent's hellos and heartbeats may cause: a token bucket
   per host, so a peer sending changed state in a loop costs the store at
   most this many transactions a second (honest agents write on change
   only: one per health flip or step). */
#define RC_PEER_WRITES_PER_S 4
#define RC_PEER_WRITE_BURST 8
/* Messages the server reads from the agent ROUTER before it lets the
   control socket and the cron have their turn; libzmq queues the agents'
   messages fairly (round robin per peer) within it. */
#define RC_AGENT_BATCH 64
/* A group transaction of step reports stays open for the next burst (a
   batch's reports come over several wakes of up to RC_AGENT_BATCH
   messages) while the next one comes within RC_GROUP_HOLD_MS of the last,
   for at most RC_GROUP_HOLD_MAX_MS in all: one fsync for the reports of a
   batch. What a report makes possible (the next batch) and any other
   handler commit it at once; only the acks of the held messages wait. */
#define RC_GROUP_HOLD_MS 5
#define RC_GROUP_HOLD_MAX_MS 50
/* A refused hello (another host id, too large, ...) becomes an event at
   most this often per host and reason. */
#define RC_REFUSED_EVENT_EVERY_MS (10 * 60 * 1000)

/* Coordinator */
#define RC_DEFAULT_COORD_DATA_DIR "/var/lib/rollclone-coordinator"
#define RC_DEFAULT_AGENT_ENDPOINT "tcp://*:7601"
#define RC_DEFAULT_PUBLISH_ENDPOINT "tcp://*:7602"
#define RC_DEFAULT_CONTROL_ENDPOINT "tcp://*:7603"
#define RC_DEFAULT_AGENT_KEYS_DIR "/etc/rollclone/agents"
#define RC_DEFAULT_OPERATOR_KEYS_DIR "/etc/rollclone/operators"
#define RC_DEFAULT_HEARTBEAT_MS 5000
#define RC_DEFAULT_OFFLINE_AFTER_MS 15000
#define RC_DB_FILE "coordinator.db"
/* Retention: events and release history are kept this long, and this many
   finished deployments (running ones always). */
#define RC_DEFAULT_EVENT_RETENTION_MS (90LL * 24 * 3600 * 1000)
#define RC_DEFAULT_DEPLOYMENT_RETENTION 1000
/* How often the coordinator's cron looks for silent agents and advances
   deployments. */
#define RC_COORD_CRON_MS 250
/* libzmq I/O threads of the coordinator: one a CPU but the one its server
   loop needs, up to this many. Every CURVE handshake, decryption and
   encryption runs on them, and libzmq spreads the connections evenly
   (measured: 970/910 ms of 1,000 hosts' registration on two). */
#define RC_COORD_IO_THREADS_MAX 4
/* Connections the coordinator's sockets let wait to be accepted (listen(2)
   backlog; the kernel caps it at net.core.somaxconn, 4096 by default). */
#define RC_COORD_BACKLOG 4096
/* How often an instruction not yet reported on is published again. */
#define RC_REPUBLISH_MS 1000

/* Deployment defaults: what a careful operator wants (README). */
#define RC_DEFAULT_BATCH "1,25%"
#define RC_DEFAULT_MAX_FAIL "0"
#define RC_DEFAULT_PROGRESS_DEADLINE_MS (10 * 60 * 1000)
#define RC_STATUS_DEFAULT_LIMIT 10
#define RC_EVENTS_DEFAULT_LIMIT 50
#define RC_HISTORY_DEFAULT_LIMIT 100
/* The most a request gets in one reply, whatever it asks for: status
   carries every host of each deployment, so its page is the smallest. A
   larger request is clamped and the reply says so (its limit). */
#define RC_STATUS_MAX_LIMIT 100
#define RC_EVENTS_MAX_LIMIT 1000
#define RC_HISTORY_MAX_LIMIT 1000
/* Replies to the CLI may be larger than agent frames (status of a large
   fleet); the CLI accepts up to this much from its coordinator. */
#define RC_MAX_REPLY_BYTES (32 * 1024 * 1024)

/* Agent */
#define RC_DEFAULT_AGENT_STATE_DIR "/var/lib/rollclone-agent"
/* The network side of the agent runs as this user (created by the packages) */
#define RC_DEFAULT_AGENT_USER "rollclone"
/* Idle health hysteresis (HAProxy's rise and fall): consecutive results
   needed to change an app's health state */
#define RC_DEFAULT_HEALTH_RISE 2
#define RC_DEFAULT_HEALTH_FALL 3
#define RC_DEFAULT_KEEP_RELEASES 5
#define RC_DEFAULT_HOOK_TIMEOUT_MS (5 * 60 * 1000)
#define RC_DEFAULT_HEALTH_INTERVAL_MS 2000
#define RC_DEFAULT_SOAK_MS 10000
#define RC_DEFAULT_HEALTH_TIMEOUT_MS (5 * 60 * 1000)
/* Artifacts ([app] fetch_timeout, max_artifact_bytes, max_unpacked_bytes):
   a download may take this long in all (a server that drips bytes must not
   hold a host drained), be this large, and unpack to this many bytes. */
#define RC_DEFAULT_FETCH_TIMEOUT_MS (30 * 60 * 1000)
/* The built-in load balancer provider ([app] lb): a drain waits this long
   for the server's sessions to end, an undrain for the LB's check to say
   UP. */
#define RC_DEFAULT_DRAIN_TIMEOUT_MS (30 * 1000)
#define RC_DEFAULT_UNDRAIN_TIMEOUT_MS (30 * 1000)
/* lb = nginx: the command lines that check and reload NGINX's config */
#define RC_DEFAULT_NGINX_TEST "nginx -t"
#define RC_DEFAULT_NGINX_RELOAD "nginx -s reload"
/* [app] keep_warm: the old slot runs this long after a switch (rollback is
   instant until then) */
#define RC_DEFAULT_KEEP_WARM_MS (5 * 60 * 1000)
#define RC_DEFAULT_MAX_ARTIFACT_BYTES (4LL * 1024 * 1024 * 1024)
#define RC_DEFAULT_MAX_UNPACKED_BYTES (16LL * 1024 * 1024 * 1024)
/* Reconnect backoff of the agent's sockets (libzmq doubles up to the max). */
#define RC_RECONNECT_IVL_MS 200
#define RC_RECONNECT_IVL_MAX_MS 2000
/* ZMTP heartbeats notice a dead TCP peer when the network goes away. */
#define RC_ZMTP_HEARTBEAT_IVL_MS 2000
#define RC_ZMTP_HEARTBEAT_TIMEOUT_MS 6000
/* With no ack for this many heartbeat intervals, say hello again. */
#define RC_HELLO_RETRY_INTERVALS 3

/* Client */
#define RC_DEFAULT_CLIENT_ENDPOINT "tcp://127.0.0.1:7603"
#define RC_DEFAULT_CLIENT_TIMEOUT_MS 5000
/* `rollclone backup` waits for the copy to complete: this long unless
   --timeout says otherwise. */
#define RC_BACKUP_CLIENT_TIMEOUT_MS (60 * 60 * 1000)
#define RC_DEFAULT_CLIENT_CONFIG "/etc/rollclone/client.conf"

/* Exit codes (DESIGN.md, interface contract) */
#define RC_EXIT_OK 0
#define RC_EXIT_FAILED 1
#define RC_EXIT_USAGE 2
#define RC_EXIT_UNREACHABLE 3

#endif
