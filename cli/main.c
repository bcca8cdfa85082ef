/*  main.c - `rollclone`, the operator CLI: the global options, then the
    command of the table (commands.c) that argv names. */
#include "cli.h"
#include "rc_defaults.h"
#include "rc_time.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
    rc_cli_t cli = {.timeout_ms = RC_DEFAULT_CLIENT_TIMEOUT_MS};
    struct option options[8];
    size_t n = 0;
    for (const rc_cli_option_t *o = rc_cli_global_options; o->name; o++, n++)
        options[n] =
            (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->key};
    options[n] = (struct option){NULL, 0, NULL, 0};
    rc_cli_term_init ();
    opterr = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, "+:c:t:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': cli.config_path = optarg; break;
        case 't':
            if (rc_duration_parse (optarg, &cli.timeout_ms) != 0 || cli.timeout_ms == 0)
                return rc_cli_bad ("--timeout '%s' is not a duration (like 500ms, 10s, 1m)",
                                   optarg);
            cli.timeout_set = true;
            break;
        case 'h': rc_cli_help_all (stdout); return RC_EXIT_OK;
        case 'V': printf ("rollclone %s\n", RC_VERSION); return RC_EXIT_OK;
        case ':': return rc_cli_bad ("option '%s' needs a value", argv[optind - 1]);
        default:
            if (optopt)
                return rc_cli_bad ("unknown option '-%c' (see rollclone --help)", optopt);
            return rc_cli_bad ("unknown option '%s' (see rollclone --help)", argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        rc_cli_help_all (stderr);
        return RC_EXIT_USAGE;
    }
    const rc_cli_command_t *cmd = rc_cli_command_find (argv[optind]);
    if (!cmd)
        return rc_cli_bad ("unknown command '%s' (see rollclone help)", argv[optind]);
    rc_cli_opts_t opts;
    int rc = rc_cli_parse (cmd, argc - optind, argv + optind, &opts);
    if (rc == RC_CLI_HELP_SHOWN)
        return RC_EXIT_OK;
    if (rc != RC_EXIT_OK)
        return rc;
    zsys_handler_set (NULL);
    /* czmq logs to stdout by default; our output must stay clean */
    zsys_set_logstream (stderr);
    rc = cmd->run (&cli, &opts);
    rc_cli_close (&cli);
    return rc;
}
