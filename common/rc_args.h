/*  rc_args.h - the command line both daemons share: --config FILE, -v,
    --help, --version. */
#ifndef RC_ARGS_H
#define RC_ARGS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct {
    const char *name; /* program name, for messages and --version */
    void (*usage) (FILE *out);
    bool subcommands;        /* stop at the first operand (the agent's apply...) */
    const char *config_path; /* out */
    bool verbose;            /* out */
    int next;                /* out: index of the first operand */
} rc_args_t;

/* Parses argv. Returns -1 to go on, or the exit code to return now (after
   --help, --version, or with a one-line reason for bad usage). */
int rc_args_parse (rc_args_t *args, int argc, char **argv);

#endif
