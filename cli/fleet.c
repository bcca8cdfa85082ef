/*  fleet.c - `rollclone hosts|info|backup|keygen|completion`: the fleet
    and the coordinator as the operator sees them, and what needs no
    coordinator at all. */
#include "cli.h"
#include "rc_defaults.h"
#include "rc_join.h"
#include "rc_keys.h"
#include "rc_signature.h"
#include "rc_time.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Both kinds of pair: CURVE for the sockets, ed25519 (--signing) for
   artifacts. */
int
rc_cli_cmd_keygen (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    (void)cli;
    const char *path = opts->args[0];
    bool signing = RC_CLI_OPT (opts, 's');
    char err[PATH_MAX + 256];
    if ((signing ? rc_signature_keygen (path, err, sizeof err)
                 : rc_keys_generate (path, err, sizeof err))
        != 0)
        return rc_cli_bad ("keygen%s: %s", signing ? " --signing" : "", err);
    if (RC_CLI_OPT (opts, 'j'))
        rc_cli_print_json (rc_cli_json_keypair (signing ? "signing" : "curve", path));
    else
        printf ("wrote %s (public%s) and %s_secret (secret, mode 0600)\n", path,
                signing ? " signing key" : "", path);
    return RC_EXIT_OK;
}

int
rc_cli_cmd_completion (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    (void)cli;
    if (streq (opts->args[0], "bash"))
        rc_cli_completion_bash (stdout);
    else if (streq (opts->args[0], "zsh"))
        rc_cli_completion_zsh (stdout);
    else
        return rc_cli_usage_error (opts, "no completion for shell '%s' (bash or zsh)",
                                   opts->args[0]);
    return RC_EXIT_OK;
}

void
rc_cli_slot_append (char **text, const Rollclone__AppState *app)
{
    if (!app->slot)
        return;
    char when[32];
    rc_join_append (text, " [slot %u", app->slot);
    if (*app->warm_version)
        rc_join_append (text, ", %s warm until %s", rc_cli_esc (app->warm_version),
                        rc_cli_iso_time (app->warm_until_ms, when, sizeof when));
    rc_join_append (text, "]");
}

/* "web=v2 (rollback: v1,v0) api=-", every name escaped. */
static char *
s_host_apps_text (const Rollclone__HostInfo *host)
{
    char *text = NULL;
    for (size_t i = 0; i < host->n_apps; i++) {
        const Rollclone__AppState *app = host->apps[i];
        rc_join_append (&text, "%s%s=%s", i ? " " : "", rc_cli_esc (app->app),
                        *app->current ? rc_cli_esc (app->current) : "-");
        for (size_t j = 0; j < app->n_rollback_points; j++)
            rc_join_append (&text, "%s%s",
                            j ? "," : " (rollback: ", rc_cli_esc (app->rollback_points[j]));
        if (app->n_rollback_points)
            rc_join_append (&text, ")");
        rc_cli_slot_append (&text, app);
    }
    return text;
}

int
rc_cli_cmd_hosts (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__HostsRequest hosts_req = ROLLCLONE__HOSTS_REQUEST__INIT;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_HOSTS;
    req.hosts = &hosts_req;
    int rc;
    Rollclone__ControlReply *reply =
        rc_cli_call_for (cli, &req, ROLLCLONE__CONTROL_REPLY__REP_HOSTS, &rc);
    if (!reply)
        return rc;
    Rollclone__HostsReply *hosts = reply->hosts;
    if (RC_CLI_OPT (opts, 'j'))
        rc_cli_print_json_list (stdout, hosts->n_hosts, rc_cli_json_host, hosts);
    else {
        rc_cli_line ("%-20s %-8s %-8s %-28s %s", "HOST", "STATE", "HEALTHY", "LABELS", "APPS");
        for (size_t i = 0; i < hosts->n_hosts; i++) {
            const Rollclone__HostInfo *h = hosts->hosts[i];
            char *labels = NULL;
            for (size_t j = 0; j < h->n_labels; j++)
                rc_join_append (&labels, "%s%s=%s", j ? "," : "", rc_cli_esc (h->labels[j]->key),
                                rc_cli_esc (h->labels[j]->value));
            char *apps = s_host_apps_text (h);
            rc_cli_line ("%-20s %s %s %-28s %s", rc_cli_esc (h->id), rc_cli_state (h->state, 8),
                         rc_cli_state (h->healthy ? "yes" : "no", 8), labels ? labels : "-",
                         apps ? apps : "-");
            free (labels);
            free (apps);
        }
    }
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}

int
rc_cli_cmd_info (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__InfoRequest info_req = ROLLCLONE__INFO_REQUEST__INIT;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_INFO;
    req.info = &info_req;
    int rc;
    Rollclone__ControlReply *reply =
        rc_cli_call_for (cli, &req, ROLLCLONE__CONTROL_REPLY__REP_INFO, &rc);
    if (!reply)
        return rc;
    const Rollclone__InfoReply *info = reply->info;
    if (RC_CLI_OPT (opts, 'j'))
        rc_cli_print_json (rc_cli_json_info (info));
    else {
        char uptime[32];
        rc_cli_line ("coordinator  %s (protocol %u)", rc_cli_esc (info->version),
                     info->protocol_version);
        rc_cli_line ("uptime       %s",
                     rc_duration_format ((int64_t)info->uptime_ms, uptime, sizeof uptime));
        rc_cli_line ("agents       %u online, %u offline", info->agents_online,
                     info->agents_offline);
        rc_cli_line ("dropped      %llu frames (agent socket %llu, control socket %llu)",
                     (unsigned long long)info->frames_dropped,
                     (unsigned long long)info->frames_dropped_agent,
                     (unsigned long long)info->frames_dropped_control);
        rc_cli_line ("agents held  %llu over a limit, %llu stale, %llu writes deferred",
                     (unsigned long long)info->states_refused,
                     (unsigned long long)info->messages_stale,
                     (unsigned long long)info->writes_throttled);
    }
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}

/* `rollclone backup PATH`: the coordinator writes an online copy of its
   database at PATH on its own host and answers when it is complete. */
int
rc_cli_cmd_backup (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    const char *given = opts->args[0];
    if (!*given)
        return rc_cli_usage_error (opts, "PATH is empty");
    /* the coordinator knows nothing of our working directory */
    char *path = NULL;
    if (given[0] == '/')
        path = strdup (given);
    else {
        char cwd[PATH_MAX];
        if (!getcwd (cwd, sizeof cwd))
            return rc_cli_bad ("backup: cannot tell the working directory for '%s'", given);
        path = zsys_sprintf ("%s/%s", cwd, given);
    }
    if (!path)
        return rc_cli_bad ("out of memory");
    if (!cli->timeout_set)
        cli->timeout_ms = RC_BACKUP_CLIENT_TIMEOUT_MS;
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__BackupRequest backup_req = ROLLCLONE__BACKUP_REQUEST__INIT;
    backup_req.path = path;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_BACKUP;
    req.backup = &backup_req;
    int rc;
    Rollclone__ControlReply *reply =
        rc_cli_call_for (cli, &req, ROLLCLONE__CONTROL_REPLY__REP_BACKUP, &rc);
    free (path);
    if (!reply)
        return rc;
    const Rollclone__BackupReply *b = reply->backup;
    char took[32];
    if (RC_CLI_OPT (opts, 'j'))
        rc_cli_print_json (rc_cli_json_backup (b));
    else
        printf ("wrote %s (%llu bytes) in %s\n", rc_cli_esc (b->path), (unsigned long long)b->bytes,
                rc_duration_format ((int64_t)b->ms, took, sizeof took));
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}
