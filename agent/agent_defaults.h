/*  agent_defaults.h - limits and intervals of the agent's executor: hooks,
    downloads, unpacking, health checks and the step journal. Policies that
    are shared with the coordinator live in common/rc_defaults.h. */
#ifndef AGENT_DEFAULTS_H
#define AGENT_DEFAULTS_H

/* The executor's one timer: it reaps children, reads their output, drives
   downloads and unpacking. Short, so a phase ends promptly; each tick does a
   bounded amount of work, so STATE is answered between ticks. */
#define RC_EXEC_TICK_MS 20

/* Hooks: the last bytes of output kept for the report, and how long a
   process group gets between SIGTERM and SIGKILL after its timeout. */
#define RC_OUTPUT_TAIL_BYTES 4096
#define RC_KILL_GRACE_MS 2000
/* Bytes read from one child's pipe per tick: a chatty hook cannot starve
   the loop, it only waits on its full pipe. */
#define RC_CHILD_READ_PER_TICK (256 * 1024)

/* Downloads */
#define RC_FETCH_CONNECT_TIMEOUT_MS 10000
#define RC_FETCH_TOTAL_TIMEOUT_MS (30 * 60 * 1000)
#define RC_FETCH_MAX_BYTES (4LL * 1024 * 1024 * 1024)
#define RC_FETCH_MAX_REDIRECTS 5
/* Below this many bytes per second for the low-speed window, a download is
   stalled and fails (a stuck server must not hold a host drained). */
#define RC_FETCH_LOW_SPEED_BYTES 1
#define RC_FETCH_LOW_SPEED_SECS 60

/* Unpacking: a decompression bomb stops here, and each tick unpacks at most
   this much so the loop stays responsive. */
#define RC_UNPACK_MAX_BYTES (16LL * 1024 * 1024 * 1024)
#define RC_UNPACK_MAX_ENTRIES 1000000
#define RC_UNPACK_BYTES_PER_TICK (4 * 1024 * 1024)
/* pax and GNU long-name records larger than this are refused */
#define RC_UNPACK_MAX_META_BYTES (64 * 1024)
#define RC_GZIP_PATH "/bin/gzip"

/* Health checks: one check (GET and/or command) may take this long at most,
   bounded further by the step's remaining health_timeout. Bodies are read
   up to this many bytes for the optional body match. */
#define RC_HEALTH_CHECK_TIMEOUT_MS 5000
#define RC_HEALTH_BODY_MAX (64 * 1024)

/* Step journal: final reports kept for repeated STEPs, newest first. */
#define RC_REPORTS_KEPT 200

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

/* Local mode: how long `recover` waits for in-flight steps to be undone. */
#define RC_LOCAL_STATE_POLL_MS 50

#endif
