/*  session.c - the CLI's session with the coordinator: its config, one
    connection, and calls whose failures become exit codes. */
#include "cli.h"
#include "rc_defaults.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int
rc_cli_bad (const char *fmt, ...)
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
s_load_config (rc_cli_t *cli)
{
    if (cli->cfg)
        return RC_EXIT_OK;
    const char *path = cli->config_path;
    if (!path)
        path = getenv ("ROLLCLONE_CONFIG");
    if (!path || !*path)
        path = RC_DEFAULT_CLIENT_CONFIG;
    char err[1024];
    cli->cfg = rc_config_load (path, RC_ROLE_CLIENT, err, sizeof err);
    if (!cli->cfg)
        return rc_cli_bad ("%s", err);
    return RC_EXIT_OK;
}

/* Keeps why the last call failed in cli->errmsg; says it unless quiet. */
static void s_error (rc_cli_t *cli, bool quiet, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void
s_error (rc_cli_t *cli, bool quiet, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (cli->errmsg, sizeof cli->errmsg, fmt, args);
    va_end (args);
    if (!quiet)
        fprintf (stderr, "rollclone: %s\n", cli->errmsg);
}

Rollclone__ControlReply *
rc_cli_call (rc_cli_t *cli, Rollclone__ControlRequest *req, int *rc, bool quiet)
{
    *rc = s_load_config (cli);
    if (*rc != RC_EXIT_OK)
        return NULL;
    if (!cli->client)
        cli->client = rc_client_new (cli->cfg, cli->timeout_ms);
    if (!cli->client) {
        *rc = rc_cli_bad ("cannot connect to control_endpoint %s", cli->cfg->control_endpoint);
        return NULL;
    }
    Rollclone__ControlReply *reply = rc_client_call (cli->client, req);
    if (!reply) {
        s_error (cli, quiet, "%s", rc_client_errmsg (cli->client));
        *rc = RC_EXIT_UNREACHABLE;
        /* a new connection next time: this one may be wedged or refused */
        rc_client_destroy (&cli->client);
    }
    else if (reply->code != RC_EXIT_OK) {
        /* the coordinator's words, which may quote what we sent */
        s_error (cli, quiet, "%s", *reply->error ? rc_cli_esc (reply->error) : "request failed");
        *rc = reply->code == RC_EXIT_USAGE ? RC_EXIT_USAGE : RC_EXIT_FAILED;
        rollclone__control_reply__free_unpacked (reply, NULL);
        reply = NULL;
    }
    return reply;
}

void
rc_cli_close (rc_cli_t *cli)
{
    rc_client_destroy (&cli->client);
    rc_config_destroy (&cli->cfg);
}

Rollclone__ControlReply *
rc_cli_call_for (rc_cli_t *cli, Rollclone__ControlRequest *req,
                 Rollclone__ControlReply__RepCase want, int *rc)
{
    Rollclone__ControlReply *reply = rc_cli_call (cli, req, rc, false);
    if (reply && reply->rep_case != want) {
        rollclone__control_reply__free_unpacked (reply, NULL);
        fprintf (stderr, "rollclone: the coordinator answered something else than asked\n");
        *rc = RC_EXIT_FAILED;
        return NULL;
    }
    return reply;
}

static Rollclone__ControlReply *
s_fetch (rc_cli_t *cli, const char *id, bool summary, int *rc, bool quiet)
{
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__StatusRequest sreq = ROLLCLONE__STATUS_REQUEST__INIT;
    sreq.deployment_id = (char *)id;
    sreq.summary = summary;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_STATUS;
    req.status = &sreq;
    Rollclone__ControlReply *reply = rc_cli_call (cli, &req, rc, quiet);
    if (reply
        && (reply->rep_case != ROLLCLONE__CONTROL_REPLY__REP_STATUS
            || reply->status->n_deployments == 0)) {
        rollclone__control_reply__free_unpacked (reply, NULL);
        s_error (cli, quiet, "the coordinator answered no deployment %s", rc_cli_esc (id));
        *rc = RC_EXIT_FAILED;
        return NULL;
    }
    return reply;
}

Rollclone__ControlReply *
rc_cli_fetch (rc_cli_t *cli, const char *id, int *rc, bool quiet)
{
    return s_fetch (cli, id, false, rc, quiet);
}

Rollclone__ControlReply *
rc_cli_fetch_summary (rc_cli_t *cli, const char *id, int *rc, bool quiet)
{
    return s_fetch (cli, id, true, rc, quiet);
}
