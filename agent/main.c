/*  main.c - rollclone-agent: the per-host daemon, or with a subcommand the
    agent used alone (apply, rollback, releases). */
#include "local.h"
#include "privsep.h"
#include "rc_args.h"
#include "rc_config.h"
#include "rc_defaults.h"
#include "rc_log.h"

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
             "       rollclone-agent --check --config FILE     validate the config, start nothing\n"
             "       rollclone-agent --help | --version\n"
             "Exit codes: 0 ok, 1 the step ran and failed, 2 bad usage, config or input.\n");
}

int
main (int argc, char **argv)
{
    rc_args_t args = {.name = "rollclone-agent", .usage = s_usage, .subcommands = true};
    int done = rc_args_parse (&args, argc, argv);
    if (done >= 0)
        return done;
    /* czmq must not install its own SIGINT/SIGTERM handler: ours only set a
       flag that the loop reads (OpenBSD daemons' way). */
    zsys_handler_set (NULL);

    /* The daemon forks before anything starts ZeroMQ (zsys, whose logger
       is rc_log): each of its processes sets up logging itself. */
    char err[1024];
    rc_config_t *cfg = rc_config_load (args.config_path, RC_ROLE_AGENT, err, sizeof err);
    if (!cfg) {
        fprintf (stderr, "rollclone-agent: %s\n", err);
        return RC_EXIT_USAGE;
    }
    int rc;
    if (args.check)
        rc = rc_args_check (&args, cfg);
    else if (args.next < argc) {
        rc_log_init ("rollclone-agent", args.verbose);
        rc = rc_agent_local_main (cfg, argc - args.next, argv + args.next);
    }
    else
        rc = rc_agent_privsep_run (cfg, args.verbose);
    rc_config_destroy (&cfg);
    return rc;
}
