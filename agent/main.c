/*  main.c - rollclone-agent: the per-host daemon, or with a subcommand the
    agent used alone (apply, rollback, releases). */
#include "daemon.h"
#include "local.h"
#include "rc_config.h"
#include "rc_defaults.h"
#include "rc_log.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: rollclone-agent --config FILE [-v]            run the agent daemon\n"
             "       rollclone-agent --config FILE apply --app APP --version V --artifact URL\n"
             "                       [--sha256 HEX] [--soak DUR] [--health-timeout DUR]\n"
             "       rollclone-agent --config FILE rollback --app APP [--to VERSION]\n"
             "                       [--soak DUR] [--health-timeout DUR]\n"
             "       rollclone-agent --config FILE releases --app APP [--json]\n"
             "       rollclone-agent --config FILE recover   undo steps a crash interrupted\n"
             "       rollclone-agent --help | --version\n"
             "Exit codes: 0 ok, 1 the step ran and failed, 2 bad usage, config or input.\n");
}

int
main (int argc, char **argv)
{
    const char *config_path = NULL;
    bool verbose = false;
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    /* '+' stops at the subcommand: its own options are parsed by it */
    int opt;
    while ((opt = getopt_long (argc, argv, "+c:vh", options, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'v': verbose = true; break;
        case 'h': s_usage (stdout); return RC_EXIT_OK;
        case 'V': printf ("rollclone-agent %s\n", RC_VERSION); return RC_EXIT_OK;
        default: s_usage (stderr); return RC_EXIT_USAGE;
        }
    }
    if (!config_path) {
        fprintf (stderr, "rollclone-agent: --config FILE is required\n");
        return RC_EXIT_USAGE;
    }
    /* czmq must not install its own SIGINT/SIGTERM handler: ours only set a
       flag that the loop reads (OpenBSD daemons' way). */
    zsys_handler_set (NULL);
    rc_log_init ("rollclone-agent", verbose);

    char err[1024];
    rc_config_t *cfg = rc_config_load (config_path, RC_ROLE_AGENT, err, sizeof err);
    if (!cfg) {
        fprintf (stderr, "rollclone-agent: %s\n", err);
        return RC_EXIT_USAGE;
    }
    int rc;
    if (optind < argc)
        rc = rc_agent_local_main (cfg, argc - optind, argv + optind);
    else
        rc = rc_agent_daemon_run (cfg);
    rc_config_destroy (&cfg);
    return rc;
}
