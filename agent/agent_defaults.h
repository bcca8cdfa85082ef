/*  agent_defaults.h - limits and intervals of the agent's executor: hooks,
    downloads, unpacking, health checks and the step journal. Policies that
    are shared with the coordinator live in common/rc_defaults.h. */
#ifndef AGENT_DEFAULTS_H
#define AGENT_DEFAULTS_H

/* The executor waits on descriptors (watch.h), not on a short timer. What
   has no descriptor is looked at this often: a child on a kernel without
   pidfd_open (before 5.3), and an app whose lock another process holds. */
#define RC_CHILD_REAP_POLL_MS 20
#define RC_EXEC_LOCK_RETRY_MS 100

/* Hooks: the last bytes of output kept for the report, and how long a
   process group gets between SIGTERM and SIGKILL after its timeout. */
#define RC_OUTPUT_TAIL_BYTES 4096
#define RC_KILL_GRACE_MS 2000
/* Bytes read from one child's pipe per poll: a chatty hook cannot starve
   the loop, it only waits on its full pipe. */
#define RC_CHILD_READ_PER_TICK (256 * 1024)

/* Downloads */
#define RC_FETCH_CONNECT_TIMEOUT_MS 10000
/* fetch_timeout and max_artifact_bytes are per app (rc_defaults.h) */
#define RC_FETCH_MAX_REDIRECTS 5
/* Below this many bytes per second for the low-speed window, a download is
   stalled and fails (a stuck server must not hold a host drained). */
#define RC_FETCH_LOW_SPEED_BYTES 1
#define RC_FETCH_LOW_SPEED_SECS 60
/* file:// artifacts are copied by the executor's loop: this much per turn
   (a page-cache read of a few ms), in reads of this size. */
#define RC_FETCH_FILE_BYTES_PER_POLL (16 * 1024 * 1024)
#define RC_FETCH_FILE_CHUNK (64 * 1024)

/* Unpacking (libarchive, in a worker thread). max_unpacked_bytes (per
   app) bounds the file bytes written, so a decompression bomb stops there;
   these bound the rest. 100000 entries is a few times a large production
   node_modules tree, and refusing a million-entry archive then costs
   100000 file creations (and their removal), seconds, not minutes. */
#define RC_UNPACK_MAX_ENTRIES 100000
/* Paths and link targets longer than this are refused, never truncated
   (PATH_MAX - 1: what the kernel can open in one call). */
#define RC_UNPACK_MAX_PATH 4095
/* Unpacking stops before it leaves less than this free in the releases
   file system: the host keeps room for its logs and the live release. */
#define RC_UNPACK_FREE_RESERVE (64LL * 1024 * 1024)
/* libarchive's read size from the artifact file */
#define RC_UNPACK_READ_BLOCK (128 * 1024)
/* tar's "ustar" magic (POSIX and GNU) sits here in the first header */
#define RC_TAR_MAGIC_OFFSET 257

/* Health checks: one check (GET and/or command) may take this long at most,
   bounded further by the step's remaining health_timeout. Bodies are read
   up to this many bytes for the optional body match. */
#define RC_HEALTH_CHECK_TIMEOUT_MS 5000
/* A step's health phase (after the restart hook) checks at once, then,
   until the first check passes, after gaps that start here and double up
   to health_interval: an app that binds its port a few ms after its
   restart hook returned is seen healthy then, not one health_interval
   later, for a handful of extra checks (10, 20, 40, 80, 160 ms...) per
   restart. Idle self health checks keep health_interval. */
#define RC_HEALTH_FIRST_GAP_MS 10
#define RC_HEALTH_BODY_MAX (64 * 1024)
/* health_url with a slot's {port} expanded fits in this */
#define RC_HEALTH_URL_MAX 4096

/* Step journal: final reports kept for repeated STEPs, newest first. */
#define RC_REPORTS_KEPT 200
/* The in-flight StepRecord: its last field, always this value ("RCSR"),
   and the largest record read (an error quotes at most a hook's output
   tail and a health detail). */
#define RC_STEP_RECORD_END_MARK 0x52435352u
#define RC_STEP_RECORD_MAX (64 * 1024)

/* Hidden working directory inside releases_dir: downloads and half-unpacked
   releases live here, on the same file system as releases/, so a finished
   release is placed with one rename. Never listed as a release. */
#define RC_INCOMING_DIR ".incoming"

/* Privilege separation (privsep.h): the largest body of a message between
   the two processes (a STATE of many apps with many rollback points is the
   largest; a frame to the coordinator is at most RC_MAX_FRAME_BYTES), the
   socket buffer that holds a few of them, and how long the executor waits
   for the network side to stop after SIGTERM before it kills it. */
#define RC_CHANNEL_BODY_MAX (192 * 1024)
#define RC_CHANNEL_SOCKET_BUFFER (1024 * 1024)
#define RC_PRIVSEP_STOP_MS 5000
#define RC_PRIVSEP_POLL_MS 10
/* ZeroMQ I/O threads of the executor process: none, its only sockets are
   the executor actor's inproc pipes, which need no I/O thread (issue 13:
   one thread, its stack and its malloc arena less in an idle agent). */
#define RC_EXECUTOR_IO_THREADS 0

/* Local mode: how long `recover` waits for in-flight steps to be undone. */
#define RC_LOCAL_STATE_POLL_MS 50

/* Load balancer providers (lb.h): one runtime API exchange (connect, send,
   the whole answer) takes at most this long; drain and undrain look at the
   LB's stats this often; an answer is at most this large (show stat of a
   big HAProxy is a few hundred KiB). */
#define RC_LB_IO_TIMEOUT_MS 5000
#define RC_LB_POLL_MS 100
#define RC_LB_REPLY_MAX (4 * 1024 * 1024)
/* lb = nginx: NGINX's workers are not visible on this host (it runs
   elsewhere): a reload is taken to have taken effect after this long. They
   are visible, but none started after nginx_reload within the longer wait:
   NGINX refused the new configuration, the drain fails. */
#define RC_NGINX_SETTLE_MS 1000
#define RC_NGINX_RELOAD_WAIT_MS 10000
/* nginx_upstream_file is at most this large (one line per server) */
#define RC_NGINX_FILE_MAX (16 * 1024)

#endif
