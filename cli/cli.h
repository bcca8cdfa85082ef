/*  cli.h - what the files of `rollclone` share: the session (config, one
    client connection, calls with exit codes), the command table and its
    option parser, terminal output and JSON. */
#ifndef RC_CLI_H
#define RC_CLI_H

#include "client.h"
#include "rc_config.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *config_path; /* --config, or NULL */
    int64_t timeout_ms;      /* how long to wait for each answer */
    bool timeout_set;        /* --timeout given: commands keep it as it is */
    rc_config_t *cfg;        /* loaded at the first call */
    rc_client_t *client;     /* made at the first call, reused */
    char errmsg[512];        /* why the last call failed (said unless quiet) */
} rc_cli_t;

/* ------------------------------------------------------------------------ */
/* The command table (commands.c): every command's name, usage, help text
   and options. Help, option parsing, completion scripts and the man page
   are all made from it. */

#define RC_CLI_OPTIONS_MAX 32
/* Options a command line may give, counted with repeats */
#define RC_CLI_GIVEN_MAX 64
/* rc_cli_parse's answer when it printed --help: the command exits 0. The
   key 'h' is -h (help): no option of the table may use it. */
#define RC_CLI_HELP_SHOWN (-1)

typedef struct {
    const char *name;     /* the long option, without "--" */
    char key;             /* where its value goes in rc_cli_opts_t */
    const char *arg;      /* the value's name in help ("DUR"), NULL for a flag */
    const char *help;     /* one sentence */
    const char *complete; /* values to complete: "@file", "@dir" or words */
} rc_cli_option_t;

typedef struct _rc_cli_command_t rc_cli_command_t;

/* A command line as parsed against its command's options. */
typedef struct {
    const rc_cli_command_t *cmd;
    const char *value[128]; /* by option key: the last value, "" for a flag, NULL if absent */
    /* every value given, in order, with its option's key: what a
       repeatable option (deploy --check) reads, rc_cli_values */
    const char *given[RC_CLI_GIVEN_MAX];
    char given_key[RC_CLI_GIVEN_MAX];
    int n_given;
    char **args; /* the operands */
    int n_args;
} rc_cli_opts_t;

typedef int (rc_cli_run_fn) (rc_cli_t *cli, const rc_cli_opts_t *opts);

struct _rc_cli_command_t {
    const char *name;
    const char *group;       /* the heading it is listed under */
    const char *synopsis;    /* what follows "rollclone NAME" in usage */
    const char *summary;     /* one line */
    const char *description; /* paragraphs separated by blank lines */
    int min_args, max_args;  /* operands */
    const char *operands;    /* completion of operands: "@file", "@command", words */
    rc_cli_run_fn *run;
    rc_cli_option_t options[RC_CLI_OPTIONS_MAX];
};

extern const rc_cli_command_t rc_cli_commands[];
extern const size_t rc_cli_n_commands;
/* The global options (before the command), for help and completion. */
extern const rc_cli_option_t rc_cli_global_options[];

const rc_cli_command_t *rc_cli_command_find (const char *name);
#define RC_CLI_OPT(opts, key) ((opts)->value[(unsigned char)(key)])

/* args.c: parses argv (argv[0] is the command's name) into opts. Returns
   RC_EXIT_OK, RC_CLI_HELP_SHOWN after printing --help, or RC_EXIT_USAGE
   after a one-line error. */
int rc_cli_parse (const rc_cli_command_t *cmd, int argc, char **argv, rc_cli_opts_t *opts);
void rc_cli_help_command (const rc_cli_command_t *cmd, FILE *out);
void rc_cli_help_all (FILE *out);
/* "rollclone CMD: <why> (see rollclone CMD --help)" on stderr; RC_EXIT_USAGE */
int rc_cli_usage_error (const rc_cli_opts_t *opts, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* Parses a whole number from 1 to max for option name; -1 after an error. */
long rc_cli_number (const rc_cli_opts_t *opts, char key, long max);
/* The values of a repeatable option, in the order given: how many (at most
   max into values, borrowed). */
size_t rc_cli_values (const rc_cli_opts_t *opts, char key, const char **values, size_t max);

/* shell.c: the completion scripts and the man page's commands section. */
void rc_cli_completion_bash (FILE *out);
void rc_cli_completion_zsh (FILE *out);
void rc_cli_man_commands (FILE *out);

/* ------------------------------------------------------------------------ */
/* The session (session.c) */

/* Prints "rollclone: ..." on stderr and returns RC_EXIT_USAGE. */
int rc_cli_bad (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Sends req; returns the reply when its code is 0, else NULL with *rc set
   and the reason in cli->errmsg (printed unless quiet). */
Rollclone__ControlReply *rc_cli_call (rc_cli_t *cli, Rollclone__ControlRequest *req, int *rc,
                                      bool quiet);
/* rc_cli_call, and a reply of another kind than want is a failure. */
Rollclone__ControlReply *rc_cli_call_for (rc_cli_t *cli, Rollclone__ControlRequest *req,
                                          Rollclone__ControlReply__RepCase want, int *rc);
/* One deployment by id (quiet: the caller tells what unreachable means). */
Rollclone__ControlReply *rc_cli_fetch (rc_cli_t *cli, const char *id, int *rc, bool quiet);
/* The same without its host rows (StatusRequest.summary): the row and the
   hosts_* counts, what a follower polls for. A coordinator older than
   issue 13 answers in full (DeploymentInfo.summary unset). */
Rollclone__ControlReply *rc_cli_fetch_summary (rc_cli_t *cli, const char *id, int *rc, bool quiet);
void rc_cli_close (rc_cli_t *cli);

/* ------------------------------------------------------------------------ */
/* The terminal (term.c) */

/* Reads isatty, TIOCGWINSZ, COLUMNS, NO_COLOR and TERM once. */
void rc_cli_term_init (void);
/* Columns to fit lines in; 0 when output is not limited (a pipe). */
int rc_cli_width (void);
/* Colours are allowed (a terminal, no NO_COLOR, TERM not dumb). */
bool rc_cli_color (void);
/* Output is a terminal that can move its cursor (not TERM=dumb). */
bool rc_cli_live (void);
/* Escaped texts live in a ring of this many buffers, so a printf may take
   several rc_cli_esc results at once. */
#define RC_CLI_ESC_RING 16
/* Text from outside (agents' errors and output, ids, versions) with every
   control character escaped (\x1b, \n, \u009b), never raw. The result
   lives until RC_CLI_ESC_RING more calls. */
const char *rc_cli_esc (const char *text);
/* A state name padded to width, coloured when colours are allowed; lives
   like rc_cli_esc's. */
const char *rc_cli_state (const char *state, int width);
/* Prints one line, cut to the terminal's width; newline added. */
void rc_cli_line (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* The same after prefix (not counted, not escaped), cut to width (0: not). */
void rc_cli_vline (const char *prefix, int width, const char *fmt, va_list args)
    __attribute__ ((format (printf, 3, 0)));
/* Writes into buf the visible prefix of text that fits in width columns
   (our own colour codes cost nothing), with "..." when cut. */
void rc_cli_fit (const char *text, int width, char *buf, size_t len);
/* "2026-11-25T03:15:00Z" and "03:15:00" (UTC) */
const char *rc_cli_iso_time (int64_t ms, char *buf, size_t len);
/* Surge clones: " [slot 2, v1 warm until TIME]" appended to text for an
   app with slots (rc_join_append), nothing for one without. */
void rc_cli_slot_append (char **text, const Rollclone__AppState *app);
const char *rc_cli_clock (int64_t ms, char *buf, size_t len);
/* "2h", "2026-12-24T08:00:00Z", "2026-12-24 08:00" (local): when, in unix
   epoch milliseconds. -1 when it is neither. */
int64_t rc_cli_parse_when (const char *text, int64_t now_ms);
void rc_cli_term_test (bool verbose);
void rc_cli_json_test (bool verbose);

/* ------------------------------------------------------------------------ */
/* JSON (json.c): the one place replies become JSON. */

void rc_cli_print_json (json_t *root);
/* A top-level array of n elements, each built by item (arg, i), printed
   and freed before the next is built: the same text as rc_cli_print_json
   of the whole array, without holding it. */
typedef json_t *(rc_cli_json_item_fn)(const void *arg, size_t i);
void rc_cli_print_json_list (FILE *out, size_t n, rc_cli_json_item_fn *item, const void *arg);
json_t *rc_cli_json_deployment (const Rollclone__DeploymentInfo *d);
json_t *rc_cli_json_event (const Rollclone__EventInfo *e);
json_t *rc_cli_json_events (const Rollclone__EventsReply *er);
/* host i of a Rollclone__HostsReply (an rc_cli_json_item_fn) */
json_t *rc_cli_json_host (const void *reply, size_t i);
json_t *rc_cli_json_info (const Rollclone__InfoReply *info);
json_t *rc_cli_json_history (const Rollclone__HistoryReply *hr);
json_t *rc_cli_json_backup (const Rollclone__BackupReply *b);
json_t *rc_cli_json_plan (const Rollclone__PlanReply *p);
json_t *rc_cli_json_freeze (const Rollclone__FreezeReply *f);
/* keygen: kind "curve" or "signing"; sign: what the .sig file binds. */
json_t *rc_cli_json_keypair (const char *kind, const char *path);
json_t *rc_cli_json_signature (const char *path, const char *sha256, const char *version,
                               const char *app);

/* ------------------------------------------------------------------------ */
/* Deployments (follow.c, views.c) */

/* states.c: the coordinator's state names (DeploymentInfo.state and
   DeploymentHost.state strings) as the CLI reads them. */
bool rc_cli_ended (const char *state);
/* The exit code a deployment that ended this way gives: 0 succeeded (or
   rolled back, when a rollback is what was asked), else 1. */
int rc_cli_exit_for (const Rollclone__DeploymentInfo *d, bool rollback_asked);
/* Paused at a --pause manual gate or by `rollclone pause`. */
bool rc_cli_waits_for_resume (const Rollclone__DeploymentInfo *d);
bool rc_cli_host_failed (const char *state);  /* failed, rollback_failed */
bool rc_cli_host_busy (const char *state);    /* updating, rolling_back */
bool rc_cli_host_waiting (const char *state); /* pending or busy */
/* Hosts done (succeeded, rolled back), failed and in flight. */
void rc_cli_count (const Rollclone__DeploymentInfo *d, int *ok, int *failed, int *busy);
/* Where a blue-green deployment is ("staging batch 2 of 3", "switching",
   "switched", "switching back"), "" for a rolling one; in buf. */
const char *rc_cli_bg_phase (const Rollclone__DeploymentInfo *d, char *buf, size_t len);
/* The hosts of d staged (blue-green, waiting for the switch). */
int rc_cli_staged_count (const Rollclone__DeploymentInfo *d);
/* The SGR colour of a state (or yes/no, online/offline), NULL for none. */
const char *rc_cli_state_color (const char *state);
/* Follows a deployment until it ends: live bars on a terminal, one line
   per event otherwise, the deployment as JSON at the end with json (and
   its table with table). Returns the exit code, as rc_cli_exit_for. */
int rc_cli_follow (rc_cli_t *cli, const char *id, bool rollback_asked, bool json, bool table);
void rc_cli_print_deployment (const Rollclone__DeploymentInfo *d);
void rc_cli_print_event (const Rollclone__EventInfo *e, bool with_deployment);
void rc_cli_print_plan (const Rollclone__PlanReply *p);

/* ------------------------------------------------------------------------ */
/* The commands' handlers */

rc_cli_run_fn rc_cli_cmd_help, rc_cli_cmd_completion, rc_cli_cmd_keygen, rc_cli_cmd_sign,
    rc_cli_cmd_hosts, rc_cli_cmd_info, rc_cli_cmd_history, rc_cli_cmd_backup, rc_cli_cmd_deploy,
    rc_cli_cmd_status, rc_cli_cmd_pause, rc_cli_cmd_resume, rc_cli_cmd_abort, rc_cli_cmd_rollback,
    rc_cli_cmd_events, rc_cli_cmd_freeze;

/* Artifact signing (signing.c). */
/* The .sig file for deploy --signature (bounded), or NULL after printing
   why. Caller frees. */
char *rc_cli_read_signature (const char *path);

#endif
