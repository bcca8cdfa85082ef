/*  rc_args.h - the command line both daemons share: --config FILE, -v,
    --check, --help, --version. */
#ifndef RC_ARGS_H
#define RC_ARGS_H

#include "rc_config.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct {
    const char *name; /* program name, for messages and --version */
    void (*usage) (FILE *out);
    bool subcommands;        /* stop at the first operand (the agent's apply...) */
    const char *config_path; /* out */
    bool verbose;            /* out */
    bool check;              /* out: --check, validate the config and exit */
    int next;                /* out: index of the first operand */
} rc_args_t;

/* After --check: the config loaded; checks what loading cannot (directories,
   users: rc_config_check), prints "FILE: ok" and returns 0, or the one-line
   reason and 2. Nothing is started or created. */
int rc_args_check (const rc_args_t *args, const rc_config_t *cfg);

/* Parses argv. Returns -1 to go on, or the exit code to return now (after
   --help, --version, or with a one-line reason for bad usage). */
int rc_args_parse (rc_args_t *args, int argc, char **argv);

#endif
