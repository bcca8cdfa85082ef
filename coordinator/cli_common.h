/*  cli_common.h - what the CLI's commands share: config loading, one client
    connection, calls with exit codes, and output helpers. */
#ifndef COORD_CLI_COMMON_H
#define COORD_CLI_COMMON_H

#include "cli_client.h"
#include "rc_config.h"
#include <jansson.h>
#include <stdint.h>

typedef struct {
    const char *config_path;
    int64_t timeout_ms;
    bool timeout_set; /* --timeout given: commands keep it as it is */
    rc_config_t *cfg;
    rc_client_t *client; /* made at the first call, reused */
} rc_cli_t;

/* Prints "rollclone: ..." on stderr and returns RC_EXIT_USAGE. */
int rc_cli_bad (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Sends req; returns the reply when its code is 0, else NULL with *rc set
   (and the reason printed unless quiet). */
Rollclone__ControlReply *rc_cli_call (rc_cli_t *cli, Rollclone__ControlRequest *req, int *rc,
                                      bool quiet);
void rc_cli_close (rc_cli_t *cli);
void rc_cli_print_json (json_t *root);
/* "2026-11-25T03:15:00Z" and "03:15:00" (UTC) */
const char *rc_cli_iso_time (int64_t ms, char *buf, size_t len);
const char *rc_cli_clock (int64_t ms, char *buf, size_t len);

/* The rollout commands (cli_rollout.c). */
int rc_cli_deploy (rc_cli_t *cli, int argc, char **argv);
int rc_cli_status (rc_cli_t *cli, int argc, char **argv);
int rc_cli_pause (rc_cli_t *cli, int argc, char **argv);
int rc_cli_resume (rc_cli_t *cli, int argc, char **argv);
int rc_cli_abort (rc_cli_t *cli, int argc, char **argv);
int rc_cli_rollback (rc_cli_t *cli, int argc, char **argv);
int rc_cli_history (rc_cli_t *cli, int argc, char **argv);
int rc_cli_events (rc_cli_t *cli, int argc, char **argv);

/* Artifact signing (cli_signing.c). */
int rc_cli_keygen_signing (const char *path);
int rc_cli_sign (rc_cli_t *cli, int argc, char **argv);
/* The .sig file for deploy --signature (bounded), or NULL after printing
   why. Caller frees. */
char *rc_cli_read_signature (const char *path);

#endif
