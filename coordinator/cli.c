/*  cli.c - `rollclone`, the operator CLI: key generation, and requests to
    the coordinator's control socket printed as tables or JSON (jansson). */
#include "cli_common.h"
#include "rc_config.h"
#include "rc_defaults.h"
#include "rc_keys.h"
#include "rc_join.h"
#include "rc_time.h"

#include <getopt.h>
#include <limits.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef rc_cli_t s_cli_t;

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "usage: rollclone [--config FILE] [--timeout DUR] COMMAND [ARGS]\n"
        "\n"
        "fleet:\n"
        "  keygen PATH          write a CURVE key pair: PATH (public), PATH_secret (0600)\n"
        "  keygen --signing PATH  an ed25519 artifact signing pair: PATH, PATH_secret\n"
        "  sign --key SECRET [--version V] [--app APP] [--output FILE] ARTIFACT\n"
        "                       write ARTIFACT.sig for agents that set trusted_signers\n"
        "  hosts [--json]       the fleet: state, health, labels, apps and rollback points\n"
        "  info [--json]        coordinator version, uptime, agents, dropped frames\n"
        "  history HOST [--json] [--limit N] [--before ID]\n"
        "                       releases and rollback points of a host over time\n"
        "  backup PATH [--json]  an online copy of the coordinator's database, written by\n"
        "                       the coordinator at PATH on its host (never overwritten)\n"
        "rollouts:\n"
        "  deploy --app APP --version V --artifact URL --sha256 HEX [--signature FILE]\n"
        "         [--select k=v,...]\n"
        "         [--batch N|N%%|RAMP] [--max-fail N|N%%] [--soak DUR] [--health-timeout DUR]\n"
        "         [--progress-deadline DUR] [--pause DUR|manual] [--no-auto-rollback] [--wait]\n"
        "  status [ID] [--json] [--watch] [--limit N]\n"
        "  pause ID | resume ID | abort ID [--no-rollback]\n"
        "  rollback --deployment ID | rollback --host H --app APP [--to VERSION]\n"
        "  events [ID] [--json] [--limit N] [--before ID]\n"
        "history and events show the newest page; --before ID (the oldest id shown, or\n"
        "next_before of --json) shows the page before it. The coordinator caps --limit.\n"
        "\n"
        "deploy defaults: --batch 1,25%% (one canary host, then a quarter at a time),\n"
        "--max-fail 0, --soak 10s, --health-timeout 5m, --progress-deadline 10m, no pause,\n"
        "automatic rollback on.\n"
        "The config ([client]: control_endpoint, coordinator_public_key, secret_key) is\n"
        "--config FILE, else $ROLLCLONE_CONFIG, else %s.\n"
        "--timeout: how long to wait for each answer of the coordinator (default 5s).\n"
        "Exit codes: 0 ok; 1 the operation ran and failed (a deployment that failed or was\n"
        "rolled back); 2 bad usage, config or input; 3 the coordinator could not be reached\n"
        "or refused this key.\n",
        RC_DEFAULT_CLIENT_CONFIG);
}

#define s_bad rc_cli_bad

static Rollclone__ControlReply *
s_call (s_cli_t *cli, Rollclone__ControlRequest *req, int *rc)
{
    return rc_cli_call (cli, req, rc, false);
}

/* Parses the options of a subcommand that only takes --json. */
static int
s_json_only (int argc, char **argv, bool *json)
{
    static const struct option options[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    optind = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, "j", options, NULL)) != -1) {
        if (opt != 'j')
            return RC_EXIT_USAGE;
        *json = true;
    }
    if (optind < argc)
        return s_bad ("%s: unexpected argument '%s'", argv[0], argv[optind]);
    return RC_EXIT_OK;
}

#define s_print_json rc_cli_print_json
#define s_iso_time rc_cli_iso_time

/* ------------------------------------------------------------------------ */

static int
s_cmd_keygen (s_cli_t *cli, int argc, char **argv)
{
    (void)cli;
    if (argc == 3 && streq (argv[1], "--signing"))
        return rc_cli_keygen_signing (argv[2]);
    if (argc != 2 || argv[1][0] == '-')
        return s_bad ("usage: rollclone keygen PATH | rollclone keygen --signing PATH");
    char err[1024];
    if (rc_keys_generate (argv[1], err, sizeof err) != 0)
        return s_bad ("keygen: %s", err);
    printf ("wrote %s (public) and %s_secret (secret, mode 0600)\n", argv[1], argv[1]);
    return RC_EXIT_OK;
}

static char *
s_host_apps_text (const Rollclone__HostInfo *host)
{
    char *text = strdup ("");
    for (size_t i = 0; text && i < host->n_apps; i++) {
        const Rollclone__AppState *app = host->apps[i];
        char *next = zsys_sprintf ("%s%s%s=%s", text, i ? " " : "", app->app,
                                   *app->current ? app->current : "-");
        free (text);
        text = next;
        if (text && app->n_rollback_points) {
            char *points = strdup ("");
            for (size_t j = 0; points && j < app->n_rollback_points; j++) {
                char *more = zsys_sprintf ("%s%s%s", points, j ? "," : "", app->rollback_points[j]);
                free (points);
                points = more;
            }
            next = points ? zsys_sprintf ("%s (rollback: %s)", text, points) : NULL;
            free (points);
            free (text);
            text = next;
        }
    }
    return text;
}

static int
rc_cli_hosts (s_cli_t *cli, int argc, char **argv)
{
    bool json = false;
    int rc = s_json_only (argc, argv, &json);
    if (rc != RC_EXIT_OK)
        return rc;
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__HostsRequest hosts_req = ROLLCLONE__HOSTS_REQUEST__INIT;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_HOSTS;
    req.hosts = &hosts_req;
    Rollclone__ControlReply *reply = s_call (cli, &req, &rc);
    if (!reply)
        return rc;
    if (reply->rep_case != ROLLCLONE__CONTROL_REPLY__REP_HOSTS) {
        rollclone__control_reply__free_unpacked (reply, NULL);
        fprintf (stderr, "rollclone: the coordinator answered something else than hosts\n");
        return RC_EXIT_FAILED;
    }
    Rollclone__HostsReply *hosts = reply->hosts;
    char when[32];
    if (json) {
        json_t *list = json_array ();
        for (size_t i = 0; i < hosts->n_hosts; i++) {
            const Rollclone__HostInfo *h = hosts->hosts[i];
            json_t *labels = json_object ();
            for (size_t j = 0; j < h->n_labels; j++)
                json_object_set_new (labels, h->labels[j]->key, json_string (h->labels[j]->value));
            json_t *apps = json_object ();
            for (size_t j = 0; j < h->n_apps; j++) {
                json_t *points = json_array ();
                for (size_t k = 0; k < h->apps[j]->n_rollback_points; k++)
                    json_array_append_new (points, json_string (h->apps[j]->rollback_points[k]));
                json_object_set_new (apps, h->apps[j]->app,
                                     json_pack ("{s:s, s:o}", "current", h->apps[j]->current,
                                                "rollback_points", points));
            }
            json_array_append_new (list, json_pack ("{s:s, s:s, s:s, s:b, s:s, s:s, s:o, s:o}",
                                                    "id", h->id, "hostname", h->hostname, "state",
                                                    h->state, "healthy", (int)h->healthy,
                                                    "agent_version", h->agent_version, "last_seen",
                                                    s_iso_time (h->last_seen_ms, when, sizeof when),
                                                    "labels", labels, "apps", apps));
        }
        s_print_json (list);
    }
    else {
        printf ("%-20s %-8s %-8s %-28s %s\n", "HOST", "STATE", "HEALTHY", "LABELS", "APPS");
        for (size_t i = 0; i < hosts->n_hosts; i++) {
            const Rollclone__HostInfo *h = hosts->hosts[i];
            char *labels = NULL;
            for (size_t j = 0; j < h->n_labels; j++)
                rc_join_append (&labels, "%s%s=%s", j ? "," : "", h->labels[j]->key,
                                h->labels[j]->value);
            char *apps = s_host_apps_text (h);
            printf ("%-20s %-8s %-8s %-28s %s\n", h->id, h->state, h->healthy ? "yes" : "no",
                    labels ? labels : "-", apps && *apps ? apps : "-");
            free (labels);
            free (apps);
        }
    }
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}

static int
s_cmd_info (s_cli_t *cli, int argc, char **argv)
{
    bool json = false;
    int rc = s_json_only (argc, argv, &json);
    if (rc != RC_EXIT_OK)
        return rc;
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__InfoRequest info_req = ROLLCLONE__INFO_REQUEST__INIT;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_INFO;
    req.info = &info_req;
    Rollclone__ControlReply *reply = s_call (cli, &req, &rc);
    if (!reply)
        return rc;
    if (reply->rep_case != ROLLCLONE__CONTROL_REPLY__REP_INFO) {
        rollclone__control_reply__free_unpacked (reply, NULL);
        fprintf (stderr, "rollclone: the coordinator answered something else than info\n");
        return RC_EXIT_FAILED;
    }
    const Rollclone__InfoReply *info = reply->info;
    if (json)
        s_print_json (json_pack (
            "{s:s, s:i, s:I, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I}", "version", info->version,
            "protocol_version", (int)info->protocol_version, "uptime_ms",
            (json_int_t)info->uptime_ms, "agents_online", (int)info->agents_online,
            "agents_offline", (int)info->agents_offline, "frames_dropped",
            (json_int_t)info->frames_dropped, "frames_dropped_agent",
            (json_int_t)info->frames_dropped_agent, "frames_dropped_control",
            (json_int_t)info->frames_dropped_control, "states_refused",
            (json_int_t)info->states_refused, "messages_stale", (json_int_t)info->messages_stale,
            "writes_throttled", (json_int_t)info->writes_throttled));
    else {
        char uptime[32];
        printf ("coordinator  %s (protocol %u)\n", info->version, info->protocol_version);
        printf ("uptime       %s\n",
                rc_duration_format ((int64_t)info->uptime_ms, uptime, sizeof uptime));
        printf ("agents       %u online, %u offline\n", info->agents_online, info->agents_offline);
        printf ("dropped      %llu frames (agent socket %llu, control socket %llu)\n",
                (unsigned long long)info->frames_dropped,
                (unsigned long long)info->frames_dropped_agent,
                (unsigned long long)info->frames_dropped_control);
        printf ("agents held  %llu over a limit, %llu stale, %llu writes deferred\n",
                (unsigned long long)info->states_refused, (unsigned long long)info->messages_stale,
                (unsigned long long)info->writes_throttled);
    }
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}

/* `rollclone backup PATH`: the coordinator writes an online copy of its
   database at PATH on its own host and answers when it is complete. */
static int
s_cmd_backup (s_cli_t *cli, int argc, char **argv)
{
    bool json = false;
    static const struct option options[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    optind = 0;
    int opt, rc = RC_EXIT_OK;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (opt != 'j')
            return RC_EXIT_USAGE;
        json = true;
    }
    if (optind != argc - 1 || !*argv[optind])
        return s_bad ("usage: rollclone backup PATH [--json]");
    /* the coordinator knows nothing of our working directory */
    char *path = NULL;
    if (argv[optind][0] == '/')
        path = strdup (argv[optind]);
    else {
        char cwd[PATH_MAX];
        if (!getcwd (cwd, sizeof cwd))
            return s_bad ("backup: cannot tell the working directory for '%s'", argv[optind]);
        path = zsys_sprintf ("%s/%s", cwd, argv[optind]);
    }
    if (!path)
        return s_bad ("out of memory");
    if (!cli->timeout_set)
        cli->timeout_ms = RC_BACKUP_CLIENT_TIMEOUT_MS;
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__BackupRequest backup_req = ROLLCLONE__BACKUP_REQUEST__INIT;
    backup_req.path = path;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_BACKUP;
    req.backup = &backup_req;
    Rollclone__ControlReply *reply = s_call (cli, &req, &rc);
    free (path);
    if (!reply)
        return rc;
    if (reply->rep_case != ROLLCLONE__CONTROL_REPLY__REP_BACKUP) {
        rollclone__control_reply__free_unpacked (reply, NULL);
        fprintf (stderr, "rollclone: the coordinator answered something else than backup\n");
        return RC_EXIT_FAILED;
    }
    const Rollclone__BackupReply *b = reply->backup;
    char took[32];
    if (json)
        s_print_json (json_pack ("{s:s, s:I, s:i, s:I}", "path", b->path, "bytes",
                                 (json_int_t)b->bytes, "pages", (int)b->pages, "ms",
                                 (json_int_t)b->ms));
    else
        printf ("wrote %s (%llu bytes) in %s\n", b->path, (unsigned long long)b->bytes,
                rc_duration_format ((int64_t)b->ms, took, sizeof took));
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}

typedef struct {
    const char *name;
    int (*run) (s_cli_t *cli, int argc, char **argv);
} s_command_t;

static const s_command_t s_commands[] = {
    {"keygen", s_cmd_keygen},    {"hosts", rc_cli_hosts},   {"info", s_cmd_info},
    {"deploy", rc_cli_deploy},   {"status", rc_cli_status}, {"pause", rc_cli_pause},
    {"resume", rc_cli_resume},   {"abort", rc_cli_abort},   {"rollback", rc_cli_rollback},
    {"history", rc_cli_history}, {"events", rc_cli_events}, {"sign", rc_cli_sign},
    {"backup", s_cmd_backup},
};

int
main (int argc, char **argv)
{
    s_cli_t cli = {.timeout_ms = RC_DEFAULT_CLIENT_TIMEOUT_MS};
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "+c:t:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': cli.config_path = optarg; break;
        case 't':
            if (rc_duration_parse (optarg, &cli.timeout_ms) != 0 || cli.timeout_ms == 0)
                return s_bad ("--timeout '%s' is not a duration (like 500ms, 10s, 1m)", optarg);
            cli.timeout_set = true;
            break;
        case 'h': s_usage (stdout); return RC_EXIT_OK;
        case 'V': printf ("rollclone %s\n", RC_VERSION); return RC_EXIT_OK;
        default: s_usage (stderr); return RC_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        s_usage (stderr);
        return RC_EXIT_USAGE;
    }
    zsys_handler_set (NULL);
    /* czmq logs to stdout by default; our output must stay clean */
    zsys_set_logstream (stderr);
    const char *name = argv[optind];
    int rc = -1;
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (streq (name, s_commands[i].name)) {
            rc = s_commands[i].run (&cli, argc - optind, argv + optind);
            break;
        }
    if (rc == -1)
        rc = s_bad ("unknown command '%s' (see rollclone --help)", name);
    rc_cli_close (&cli);
    return rc;
}
