/*  rc_args.c - the daemons' shared command line. */
#include "rc_args.h"
#include "rc_defaults.h"

#include <getopt.h>

int
rc_args_parse (rc_args_t *args, int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'}, {"verbose", no_argument, NULL, 'v'},
        {"check", no_argument, NULL, 'k'},        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    /* '+' stops at a subcommand: its own options are parsed by it */
    const char *shortopts = args->subcommands ? "+c:vh" : "c:vh";
    int opt;
    while ((opt = getopt_long (argc, argv, shortopts, options, NULL)) != -1) {
        switch (opt) {
        case 'c': args->config_path = optarg; break;
        case 'v': args->verbose = true; break;
        case 'k': args->check = true; break;
        case 'h': args->usage (stdout); return RC_EXIT_OK;
        case 'V': printf ("%s %s\n", args->name, RC_VERSION); return RC_EXIT_OK;
        default: args->usage (stderr); return RC_EXIT_USAGE;
        }
    }
    args->next = optind;
    if ((!args->subcommands || args->check) && optind < argc) {
        fprintf (stderr, "%s: unexpected argument '%s'\n", args->name, argv[optind]);
        return RC_EXIT_USAGE;
    }
    if (!args->config_path) {
        fprintf (stderr, "%s: --config FILE is required\n", args->name);
        return RC_EXIT_USAGE;
    }
    return -1;
}

int
rc_args_check (const rc_args_t *args, const rc_config_t *cfg)
{
    char err[1024];
    if (rc_config_check (cfg, err, sizeof err) != 0) {
        fprintf (stderr, "%s: %s\n", args->name, err);
        return RC_EXIT_USAGE;
    }
    printf ("%s: %s: ok\n", args->name, cfg->path);
    return RC_EXIT_OK;
}
