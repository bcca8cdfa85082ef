/*  main.c - rollclone-coordinator: reads the config, starts the server actor
    and turns signals into its commands (TERM/INT stop, HUP reloads keys). */
#include "rc_args.h"
#include "rc_config.h"
#include "rc_defaults.h"
#include "rc_log.h"
#include "rc_signals.h"
#include "rc_systemd.h"
#include "server.h"
#include "store.h"

#include <curl/curl.h>
#include <sched.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

/* libzmq I/O threads: the CPUs this process may run on, but one for the
   server loop (1 on one or two CPUs), at most RC_COORD_IO_THREADS_MAX. */
static size_t
s_io_threads (void)
{
    cpu_set_t cpus;
    int n = sched_getaffinity (0, sizeof cpus, &cpus) == 0 ? CPU_COUNT (&cpus) - 1 : 1;
    return n < 1 ? 1 : n > RC_COORD_IO_THREADS_MAX ? RC_COORD_IO_THREADS_MAX : (size_t)n;
}

static volatile sig_atomic_t s_stop;
static volatile sig_atomic_t s_reload;

static void
s_on_signal (int sig)
{
    if (sig == SIGHUP)
        s_reload = 1;
    else
        s_stop = 1;
}

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: rollclone-coordinator --config FILE [-v]\n"
                  "       rollclone-coordinator --check --config FILE   validate, start nothing\n"
                  "       rollclone-coordinator --help | --version\n"
                  "Signals: TERM/INT stop cleanly, HUP re-reads the agent and operator key "
                  "directories.\n");
}

int
main (int argc, char **argv)
{
    rc_args_t args = {.name = "rollclone-coordinator", .usage = s_usage};
    int done = rc_args_parse (&args, argc, argv);
    if (done >= 0)
        return done;
    zsys_handler_set (NULL);
    rc_log_init ("rollclone-coordinator", args.verbose);
    char err[1024];
    rc_config_t *cfg = rc_config_load (args.config_path, RC_ROLE_COORDINATOR, err, sizeof err);
    if (!cfg) {
        fprintf (stderr, "rollclone-coordinator: %s\n", err);
        return RC_EXIT_USAGE;
    }
    if (args.check) {
        int checked = rc_args_check (&args, cfg);
        rc_config_destroy (&cfg);
        return checked;
    }
    /* one owner per data_dir, for as long as this process lives: the
       descriptor is never closed, the kernel drops the lock at exit */
    if (zsys_dir_create ("%s", cfg->data_dir) != 0) {
        fprintf (stderr, "rollclone-coordinator: cannot create data_dir %s\n", cfg->data_dir);
        rc_config_destroy (&cfg);
        return RC_EXIT_FAILED;
    }
    int lock_fd = rc_store_lock_dir (cfg->data_dir, err, sizeof err);
    if (lock_fd < 0) {
        fprintf (stderr, "rollclone-coordinator: %s\n", err);
        rc_config_destroy (&cfg);
        return RC_EXIT_FAILED;
    }
    rc_signals_catch (s_on_signal, SIGTERM, SIGINT, SIGHUP, 0);

    /* one connection per agent is one descriptor: a fleet of thousands
       needs more than the usual soft limit of 1024 */
    struct rlimit nofile;
    if (getrlimit (RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit (RLIMIT_NOFILE, &nofile);
    }
    zsys_set_max_sockets (0); /* 0: as many as the descriptor limit allows */
    zsys_set_io_threads (s_io_threads ());
    /* before any thread: the webhook worker's libcurl */
    curl_global_init (CURL_GLOBAL_DEFAULT);
    if (sodium_init () < 0) {
        fprintf (stderr, "rollclone-coordinator: libsodium cannot start\n");
        rc_config_destroy (&cfg);
        return RC_EXIT_FAILED;
    }
    zactor_t *server = rc_server_new (cfg);
    if (!server) {
        rc_config_destroy (&cfg);
        return RC_EXIT_FAILED;
    }
    /* rc_server_new returns once the store is open and the three sockets
       are bound: a Type=notify unit is started from here */
    rc_systemd_ready ("serving");
    /* the server's loop does the work (and pings the watchdog from its
       cron); this thread only watches signals and notices if the server
       ends by itself */
    zpoller_t *poller = zpoller_new (server, NULL);
    int rc = RC_EXIT_OK;
    while (!s_stop) {
        void *which = zpoller_wait (poller, RC_COORD_CRON_MS);
        if (which == server) {
            rc_log_error ("server stopped unexpectedly");
            rc = RC_EXIT_FAILED;
            break;
        }
        if (s_reload) {
            s_reload = 0;
            zstr_send (server, "RELOAD");
        }
    }
    rc_systemd_stopping ();
    zpoller_destroy (&poller);
    zactor_destroy (&server);
    rc_log_info ("coordinator stopped");
    rc_config_destroy (&cfg);
    close (lock_fd);
    return rc;
}
