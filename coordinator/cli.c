/*  cli.c - `rollclone`, the operator CLI: key generation, and requests to
    the coordinator's control socket printed as tables or JSON (jansson). */
#include "cli_client.h"
#include "rc_config.h"
#include "rc_defaults.h"
#include "rc_keys.h"
#include "rc_time.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *config_path;
    int64_t timeout_ms;
    rc_config_t *cfg;
} s_cli_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: rollclone [--config FILE] [--timeout DUR] COMMAND [ARGS]\n"
             "\n"
             "commands:\n"
             "  keygen PATH          write a CURVE key pair: PATH (public), PATH_secret (0600)\n"
             "  hosts [--json]       the fleet: state, health, labels, apps and rollback points\n"
             "  info [--json]        coordinator version, uptime, agents, dropped frames\n"
             "\n"
             "The config ([client]: control_endpoint, coordinator_public_key, secret_key) is\n"
             "--config FILE, else $ROLLCLONE_CONFIG, else %s.\n"
             "--timeout: how long to wait for the coordinator (default 5s).\n"
             "Exit codes: 0 ok; 1 the operation failed; 2 bad usage, config or input;\n"
             "3 the coordinator could not be reached or refused this key.\n",
             RC_DEFAULT_CLIENT_CONFIG);
}

static int
s_bad (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    fputs ("rollclone: ", stderr);
    vfprintf (stderr, fmt, args);
    fputc ('\n', stderr);
    va_end (args);
    return RC_EXIT_USAGE;
}

static int
s_load_config (s_cli_t *cli)
{
    const char *path = cli->config_path;
    if (!path)
        path = getenv ("ROLLCLONE_CONFIG");
    if (!path || !*path)
        path = RC_DEFAULT_CLIENT_CONFIG;
    char err[1024];
    cli->cfg = rc_config_load (path, RC_ROLE_CLIENT, err, sizeof err);
    if (!cli->cfg)
        return s_bad ("%s", err);
    return RC_EXIT_OK;
}

/* Sends req, returns the reply or prints why not (exit code in *rc). */
static Rollclone__ControlReply *
s_call (s_cli_t *cli, Rollclone__ControlRequest *req, int *rc)
{
    *rc = s_load_config (cli);
    if (*rc != RC_EXIT_OK)
        return NULL;
    rc_client_t *client = rc_client_new (cli->cfg, cli->timeout_ms);
    if (!client) {
        *rc = s_bad ("cannot connect to control_endpoint %s", cli->cfg->control_endpoint);
        return NULL;
    }
    Rollclone__ControlReply *reply = rc_client_call (client, req);
    if (!reply) {
        fprintf (stderr, "rollclone: %s\n", rc_client_errmsg (client));
        *rc = RC_EXIT_UNREACHABLE;
    }
    else if (reply->code != RC_EXIT_OK) {
        fprintf (stderr, "rollclone: %s\n", *reply->error ? reply->error : "request failed");
        *rc = reply->code == RC_EXIT_USAGE ? RC_EXIT_USAGE : RC_EXIT_FAILED;
        rollclone__control_reply__free_unpacked (reply, NULL);
        reply = NULL;
    }
    rc_client_destroy (&client);
    return reply;
}

/* Parses the options of a subcommand that only takes --json. */
static int
s_json_only (int argc, char **argv, bool *json)
{
    static const struct option options[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    optind = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, "+j", options, NULL)) != -1) {
        if (opt != 'j')
            return RC_EXIT_USAGE;
        *json = true;
    }
    if (optind < argc)
        return s_bad ("%s: unexpected argument '%s'", argv[0], argv[optind]);
    return RC_EXIT_OK;
}

static void
s_print_json (json_t *root)
{
    char *text = json_dumps (root, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    if (text)
        puts (text);
    free (text);
    json_decref (root);
}

static const char *
s_iso_time (int64_t ms, char *buf, size_t len)
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    strftime (buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* ------------------------------------------------------------------------ */

static int
s_cmd_keygen (s_cli_t *cli, int argc, char **argv)
{
    (void) cli;
    if (argc != 2)
        return s_bad ("usage: rollclone keygen PATH");
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
s_cmd_hosts (s_cli_t *cli, int argc, char **argv)
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
            json_array_append_new (
                list, json_pack ("{s:s, s:s, s:s, s:b, s:s, s:s, s:o, s:o}", "id", h->id,
                                 "hostname", h->hostname, "state", h->state, "healthy",
                                 (int) h->healthy, "agent_version", h->agent_version, "last_seen",
                                 s_iso_time (h->last_seen_ms, when, sizeof when), "labels", labels,
                                 "apps", apps));
        }
        s_print_json (list);
    }
    else {
        printf ("%-20s %-8s %-8s %-28s %s\n", "HOST", "STATE", "HEALTHY", "LABELS", "APPS");
        for (size_t i = 0; i < hosts->n_hosts; i++) {
            const Rollclone__HostInfo *h = hosts->hosts[i];
            char labels[512] = "";
            for (size_t j = 0; j < h->n_labels; j++) {
                size_t used = strlen (labels);
                snprintf (labels + used, sizeof labels - used, "%s%s=%s", j ? "," : "",
                          h->labels[j]->key, h->labels[j]->value);
            }
            char *apps = s_host_apps_text (h);
            printf ("%-20s %-8s %-8s %-28s %s\n", h->id, h->state, h->healthy ? "yes" : "no",
                    *labels ? labels : "-", apps && *apps ? apps : "-");
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
            "{s:s, s:i, s:I, s:i, s:i, s:I, s:I, s:I}", "version", info->version,
            "protocol_version", (int) info->protocol_version, "uptime_ms",
            (json_int_t) info->uptime_ms, "agents_online", (int) info->agents_online,
            "agents_offline", (int) info->agents_offline, "frames_dropped",
            (json_int_t) info->frames_dropped, "frames_dropped_agent",
            (json_int_t) info->frames_dropped_agent, "frames_dropped_control",
            (json_int_t) info->frames_dropped_control));
    else {
        char uptime[32];
        printf ("coordinator  %s (protocol %u)\n", info->version, info->protocol_version);
        printf ("uptime       %s\n",
                rc_duration_format ((int64_t) info->uptime_ms, uptime, sizeof uptime));
        printf ("agents       %u online, %u offline\n", info->agents_online, info->agents_offline);
        printf ("dropped      %llu frames (agent socket %llu, control socket %llu)\n",
                (unsigned long long) info->frames_dropped,
                (unsigned long long) info->frames_dropped_agent,
                (unsigned long long) info->frames_dropped_control);
    }
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}

typedef struct {
    const char *name;
    int (*run) (s_cli_t *cli, int argc, char **argv);
} s_command_t;

static const s_command_t s_commands[] = {
    {"keygen", s_cmd_keygen},
    {"hosts", s_cmd_hosts},
    {"info", s_cmd_info},
};

int
main (int argc, char **argv)
{
    s_cli_t cli = {.timeout_ms = RC_DEFAULT_CLIENT_TIMEOUT_MS};
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'}, {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "+c:t:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            cli.config_path = optarg;
            break;
        case 't':
            if (rc_duration_parse (optarg, &cli.timeout_ms) != 0 || cli.timeout_ms == 0)
                return s_bad ("--timeout '%s' is not a duration (like 500ms, 10s, 1m)", optarg);
            break;
        case 'h':
            s_usage (stdout);
            return RC_EXIT_OK;
        case 'V':
            printf ("rollclone %s\n", RC_VERSION);
            return RC_EXIT_OK;
        default:
            s_usage (stderr);
            return RC_EXIT_USAGE;
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
    rc_config_destroy (&cli.cfg);
    return rc;
}
