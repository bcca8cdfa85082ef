/*  shell.c - what is made from the command table for outside the binary:
    the bash and zsh completion scripts (`rollclone completion bash|zsh`,
    installed by the packages) and the COMMANDS section of rollclone(1),
    spliced into the page at build time (`rollclone help --man`). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* bash */

static void
s_bash_names (FILE *out, const rc_cli_option_t *options, bool with_help)
{
    for (const rc_cli_option_t *o = options; o->name; o++)
        fprintf (out, "%s--%s", o == options ? "" : " ", o->name);
    if (with_help)
        fprintf (out, "%s--help", options->name ? " " : "");
}

static void
s_bash_command_names (FILE *out)
{
    for (size_t i = 0; i < rc_cli_n_commands; i++)
        fprintf (out, "%s%s", i ? " " : "", rc_cli_commands[i].name);
}

/* The value after an option: files, words, or nothing to offer. */
static void
s_bash_values (FILE *out, const rc_cli_option_t *options)
{
    fprintf (out, "            case $prev in\n");
    bool free_text = false;
    for (const rc_cli_option_t *o = options; o->name; o++) {
        if (!o->arg)
            continue;
        if (o->complete && !strcmp (o->complete, "@file"))
            fprintf (out,
                     "                --%s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n",
                     o->name);
        else if (o->complete)
            fprintf (out,
                     "                --%s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return "
                     ";;\n",
                     o->name, o->complete);
        else
            free_text = true;
    }
    if (free_text) {
        fprintf (out, "                ");
        bool first = true;
        for (const rc_cli_option_t *o = options; o->name; o++)
            if (o->arg && !o->complete) {
                fprintf (out, "%s--%s", first ? "" : "|", o->name);
                first = false;
            }
        fprintf (out, ") return ;;\n");
    }
    fprintf (out, "            esac\n");
}

void
rc_cli_completion_bash (FILE *out)
{
    fprintf (out, "# bash completion for rollclone, made by `rollclone completion bash` from\n"
                  "# its command table.\n"
                  "_rollclone () {\n"
                  "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
                  "    local cmd='' opts='' operands='' i\n"
                  "    COMPREPLY=()\n"
                  "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
                  "        case ${COMP_WORDS[i]} in\n"
                  "            --config|--timeout) ((i++)) ;;\n"
                  "            -*) ;;\n"
                  "            *) cmd=${COMP_WORDS[i]}; break ;;\n"
                  "        esac\n"
                  "    done\n"
                  "    case $cmd in\n"
                  "        '')\n");
    s_bash_values (out, rc_cli_global_options);
    fprintf (out, "            opts='");
    s_bash_names (out, rc_cli_global_options, false);
    fprintf (out, "'\n            operands='");
    s_bash_command_names (out);
    fprintf (out, "' ;;\n");
    for (size_t i = 0; i < rc_cli_n_commands; i++) {
        const rc_cli_command_t *cmd = &rc_cli_commands[i];
        fprintf (out, "        %s)\n", cmd->name);
        s_bash_values (out, cmd->options);
        fprintf (out, "            opts='");
        s_bash_names (out, cmd->options, true);
        fprintf (out, "'\n            operands='%s' ;;\n", cmd->operands ? cmd->operands : "");
    }
    fprintf (out, "        *) return ;;\n"
                  "    esac\n"
                  "    if [[ $cur == -* ]]; then\n"
                  "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
                  "    elif [[ $operands == @file ]]; then\n"
                  "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
                  "    elif [[ $operands == @command ]]; then\n"
                  "        COMPREPLY=($(compgen -W '");
    s_bash_command_names (out);
    fprintf (out, "' -- \"$cur\"))\n"
                  "    elif [[ -n $operands ]]; then\n"
                  "        COMPREPLY=($(compgen -W \"$operands\" -- \"$cur\"))\n"
                  "    fi\n"
                  "}\n"
                  "complete -F _rollclone rollclone\n");
}

/* ------------------------------------------------------------------------ */
/* zsh */

/* Text inside a single-quoted _arguments spec: quotes closed and reopened,
   brackets and colons escaped. */
static void
s_zsh_text (FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            fputs ("'\\''", out);
        else if (*p == '[' || *p == ']' || *p == ':' || *p == '\\')
            fprintf (out, "\\%c", *p);
        else
            fputc (*p, out);
    }
}

static void
s_zsh_action (FILE *out, const char *complete)
{
    if (!complete)
        fputs (" ", out);
    else if (!strcmp (complete, "@file"))
        fputs ("_files", out);
    else if (!strcmp (complete, "@command")) {
        fputc ('(', out);
        s_bash_command_names (out);
        fputc (')', out);
    }
    else
        fprintf (out, "(%s)", complete);
}

static void
s_zsh_options (FILE *out, const rc_cli_option_t *options, const char *indent)
{
    for (const rc_cli_option_t *o = options; o->name; o++) {
        fprintf (out, "%s'%s--%s[", indent,
                 !strcmp (o->name, "help") || !strcmp (o->name, "version") ? "(- *)" : "", o->name);
        s_zsh_text (out, o->help);
        fputc (']', out);
        if (o->arg) {
            fputc (':', out);
            s_zsh_text (out, o->arg);
            fputc (':', out);
            s_zsh_action (out, o->complete);
        }
        fputs ("' \\\n", out);
    }
}

void
rc_cli_completion_zsh (FILE *out)
{
    fprintf (out, "#compdef rollclone\n"
                  "# zsh completion for rollclone, made by `rollclone completion zsh` from its\n"
                  "# command table.\n"
                  "_rollclone () {\n"
                  "    local curcontext=$curcontext state line ret=1\n"
                  "    typeset -A opt_args\n"
                  "    _arguments -C \\\n");
    s_zsh_options (out, rc_cli_global_options, "        ");
    fprintf (out, "        '1:command:->command' \\\n"
                  "        '*::argument:->argument' && ret=0\n"
                  "    case $state in\n"
                  "    command)\n"
                  "        local -a commands\n"
                  "        commands=(\n");
    for (size_t i = 0; i < rc_cli_n_commands; i++) {
        fprintf (out, "            '%s:", rc_cli_commands[i].name);
        s_zsh_text (out, rc_cli_commands[i].summary);
        fputs ("'\n", out);
    }
    fprintf (out, "        )\n"
                  "        _describe -t commands 'rollclone command' commands && ret=0 ;;\n"
                  "    argument)\n"
                  "        curcontext=${curcontext%%:*:*}:rollclone-$words[1]:\n"
                  "        case $words[1] in\n");
    for (size_t i = 0; i < rc_cli_n_commands; i++) {
        const rc_cli_command_t *cmd = &rc_cli_commands[i];
        fprintf (out, "        %s)\n            _arguments \\\n", cmd->name);
        s_zsh_options (out, cmd->options, "                ");
        fprintf (out, "                '(- *)--help[show this help]' \\\n");
        if (cmd->max_args > 0) {
            fprintf (out, "                '1:argument:");
            s_zsh_action (out, cmd->operands);
            fprintf (out, "' \\\n");
        }
        fprintf (out, "                && ret=0 ;;\n");
    }
    fprintf (out, "        esac ;;\n"
                  "    esac\n"
                  "    return ret\n"
                  "}\n"
                  "_rollclone \"$@\"\n");
}

/* ------------------------------------------------------------------------ */
/* The man page */

/* Text as roff: backslashes and hyphens escaped, no line starting with a
   control character. */
static void
s_roff (FILE *out, const char *text)
{
    bool line_start = true;
    for (const char *p = text; *p; p++) {
        if (line_start && (*p == '.' || *p == '\''))
            fputs ("\\&", out);
        line_start = false;
        if (*p == '\\')
            fputs ("\\e", out);
        else if (*p == '-')
            fputs ("\\-", out);
        else if (*p == '\n') {
            fputc ('\n', out);
            line_start = true;
        }
        else
            fputc (*p, out);
    }
}

/* The paragraphs of a description, each its own roff paragraph. */
static void
s_roff_paragraphs (FILE *out, const char *text)
{
    const char *p = text;
    bool first = true;
    while (*p) {
        const char *end = strstr (p, "\n\n");
        size_t len = end ? (size_t)(end - p) : strlen (p);
        char *para = strndup (p, len);
        if (!first)
            fputs (".IP\n", out);
        if (para)
            s_roff (out, para);
        fputc ('\n', out);
        free (para);
        first = false;
        p += len;
        while (*p == '\n')
            p++;
    }
}

void
rc_cli_man_commands (FILE *out)
{
    fputs (".\\\" Made by `rollclone help --man` from the command table (cli/commands.c).\n", out);
    for (size_t i = 0; i < rc_cli_n_commands; i++) {
        const rc_cli_command_t *cmd = &rc_cli_commands[i];
        fprintf (out, ".TP\n\\fB%s\\fR ", cmd->name);
        s_roff (out, cmd->synopsis);
        fputc ('\n', out);
        /* the summary as a sentence */
        char first[2] = {(char)(cmd->summary[0] & ~0x20), '\0'};
        s_roff (out, first);
        s_roff (out, cmd->summary + 1);
        fputs (".\n", out);
        s_roff_paragraphs (out, cmd->description);
        if (!cmd->options[0].name)
            continue;
        fputs (".RS\n", out);
        for (const rc_cli_option_t *o = cmd->options; o->name; o++) {
            fputs (".TP\n.B \\-\\-", out);
            s_roff (out, o->name);
            if (o->arg) {
                fputs (" \\fI", out);
                s_roff (out, o->arg);
                fputs ("\\fR", out);
            }
            fputc ('\n', out);
            s_roff (out, o->help);
            fputs ("\n", out);
        }
        fputs (".RE\n", out);
    }
}
