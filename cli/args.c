/*  args.c - a command line read against the command table: options into
    rc_cli_opts_t, --help from the same entries, and one-line errors (exit 2)
    for whatever the table does not know. */
#include "cli.h"
#include "rc_defaults.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Help is wrapped to the terminal, at most this wide (and this wide when
   output is not a terminal). */
#define RC_CLI_HELP_WIDTH 80
/* The column option help starts at. */
#define RC_CLI_HELP_INDENT 28
/* getopt_long's key for --help: no table key is a control character */
#define RC_CLI_KEY_HELP 1

int
rc_cli_usage_error (const rc_cli_opts_t *opts, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    fprintf (stderr, "rollclone %s: ", opts->cmd->name);
    vfprintf (stderr, fmt, args);
    fprintf (stderr, " (see rollclone %s --help)\n", opts->cmd->name);
    va_end (args);
    return RC_EXIT_USAGE;
}

static const rc_cli_option_t *
s_option (const rc_cli_command_t *cmd, int key)
{
    for (const rc_cli_option_t *o = cmd->options; o->name; o++)
        if (o->key == key)
            return o;
    return NULL;
}

int
rc_cli_parse (const rc_cli_command_t *cmd, int argc, char **argv, rc_cli_opts_t *opts)
{
    memset (opts, 0, sizeof *opts);
    opts->cmd = cmd;
    struct option longopts[RC_CLI_OPTIONS_MAX + 2];
    size_t n = 0;
    for (const rc_cli_option_t *o = cmd->options; o->name; o++, n++)
        longopts[n] =
            (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->key};
    longopts[n++] = (struct option){"help", no_argument, NULL, RC_CLI_KEY_HELP};
    longopts[n] = (struct option){NULL, 0, NULL, 0};
    optind = 0;
    opterr = 0;
    int key;
    /* ":" so a missing value is told apart from an unknown option; -h is
       the one short option */
    while ((key = getopt_long (argc, argv, ":h", longopts, NULL)) != -1) {
        if (key == RC_CLI_KEY_HELP || key == 'h') {
            rc_cli_help_command (cmd, stdout);
            return RC_CLI_HELP_SHOWN;
        }
        if (key == '?') {
            if (optopt)
                return rc_cli_usage_error (opts, "unknown option '-%c'", optopt);
            return rc_cli_usage_error (opts, "unknown option '%s'", argv[optind - 1]);
        }
        if (key == ':') {
            const rc_cli_option_t *o = s_option (cmd, optopt);
            return rc_cli_usage_error (opts, "option '--%s' needs a value (%s)", o ? o->name : "?",
                                       o ? o->arg : "?");
        }
        if (opts->n_given == RC_CLI_GIVEN_MAX)
            return rc_cli_usage_error (opts, "more than %d options", RC_CLI_GIVEN_MAX);
        opts->given[opts->n_given] = optarg ? optarg : "";
        opts->given_key[opts->n_given++] = (char)key;
        opts->value[(unsigned char)key] = optarg ? optarg : "";
    }
    opts->args = argv + optind;
    opts->n_args = argc - optind;
    if (opts->n_args < cmd->min_args)
        return rc_cli_usage_error (opts, "missing operand: rollclone %s %s", cmd->name,
                                   cmd->synopsis);
    if (opts->n_args > cmd->max_args)
        return rc_cli_usage_error (opts, "unexpected argument '%s'", opts->args[cmd->max_args]);
    return RC_EXIT_OK;
}

long
rc_cli_number (const rc_cli_opts_t *opts, char key, long max)
{
    const char *text = RC_CLI_OPT (opts, key);
    const rc_cli_option_t *o = s_option (opts->cmd, key);
    char *end = NULL;
    errno = 0;
    long n = strtol (text, &end, 10);
    if (errno || end == text || *end || n < 1 || n > max) {
        rc_cli_usage_error (opts, "--%s '%s' must be a whole number from 1 to %ld",
                            o ? o->name : "?", text, max);
        return -1;
    }
    return n;
}

size_t
rc_cli_values (const rc_cli_opts_t *opts, char key, const char **values, size_t max)
{
    size_t n = 0;
    for (int i = 0; i < opts->n_given; i++)
        if (opts->given_key[i] == key) {
            if (n < max)
                values[n] = opts->given[i];
            n++;
        }
    return n;
}

/* ------------------------------------------------------------------------ */
/* Help */

static int
s_help_width (void)
{
    int width = rc_cli_width ();
    return width > 0 && width < RC_CLI_HELP_WIDTH ? width : RC_CLI_HELP_WIDTH;
}

/* Prints text word-wrapped between column indent and width; the first line
   continues at column at (already printed). */
static void
s_wrap (FILE *out, const char *text, int at, int indent, int width)
{
    int col = at;
    if (col > indent) {
        fputc ('\n', out);
        col = 0;
    }
    const char *p = text;
    bool line_start = true;
    while (*p) {
        if (*p == '\n') {
            fputc ('\n', out);
            col = 0;
            line_start = true;
            p++;
            continue;
        }
        while (*p == ' ')
            p++;
        size_t word = strcspn (p, " \n");
        if (!word)
            continue;
        if (!line_start && col + 1 + (int)word > width) {
            fputc ('\n', out);
            col = 0;
            line_start = true;
        }
        if (col < indent) {
            fprintf (out, "%*s", indent - col, "");
            col = indent;
        }
        else if (!line_start) {
            fputc (' ', out);
            col++;
        }
        fwrite (p, 1, word, out);
        col += (int)word;
        line_start = false;
        p += word;
    }
    if (col)
        fputc ('\n', out);
}

static void
s_help_option (FILE *out, const rc_cli_option_t *o, int width)
{
    char left[64];
    snprintf (left, sizeof left, "  --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    fputs (left, out);
    s_wrap (out, o->help, (int)strlen (left), RC_CLI_HELP_INDENT, width);
}

void
rc_cli_help_command (const rc_cli_command_t *cmd, FILE *out)
{
    int width = s_help_width ();
    fprintf (out, "usage: rollclone %s %s\n\n", cmd->name, cmd->synopsis);
    s_wrap (out, cmd->summary, 0, 0, width);
    fputc ('\n', out);
    s_wrap (out, cmd->description, 0, 0, width);
    fprintf (out, "\noptions:\n");
    for (const rc_cli_option_t *o = cmd->options; o->name; o++)
        s_help_option (out, o, width);
    s_help_option (out, &(rc_cli_option_t){"help", 'h', NULL, "show this help", NULL}, width);
}

void
rc_cli_help_all (FILE *out)
{
    int width = s_help_width ();
    fprintf (out, "usage: rollclone [--config FILE] [--timeout DUR] COMMAND [ARGS]\n");
    const char *group = "";
    for (size_t i = 0; i < rc_cli_n_commands; i++) {
        const rc_cli_command_t *cmd = &rc_cli_commands[i];
        if (strcmp (cmd->group, group) != 0) {
            group = cmd->group;
            fprintf (out, "\n%s:\n", group);
        }
        char left[32];
        snprintf (left, sizeof left, "  %s", cmd->name);
        fputs (left, out);
        s_wrap (out, cmd->summary, (int)strlen (left), 14, width);
    }
    fprintf (out, "\noptions:\n");
    for (const rc_cli_option_t *o = rc_cli_global_options; o->name; o++)
        s_help_option (out, o, width);
    fputc ('\n', out);
    s_wrap (out,
            "rollclone help COMMAND or rollclone COMMAND --help tells more. Durations are "
            "written 500ms, 10s, 5m, 1h. Exit codes: 0 ok; 1 the operation ran and failed (a "
            "deployment that failed or was rolled back); 2 bad usage, config or input; 3 the "
            "coordinator could not be reached or refused this key.",
            0, 0, width);
}

int
rc_cli_cmd_help (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    (void)cli;
    if (RC_CLI_OPT (opts, 'm')) {
        rc_cli_man_commands (stdout);
        return RC_EXIT_OK;
    }
    if (opts->n_args == 0) {
        rc_cli_help_all (stdout);
        return RC_EXIT_OK;
    }
    const rc_cli_command_t *cmd = rc_cli_command_find (opts->args[0]);
    if (!cmd)
        return rc_cli_usage_error (opts, "unknown command '%s'", opts->args[0]);
    rc_cli_help_command (cmd, stdout);
    return RC_EXIT_OK;
}
