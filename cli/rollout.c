/*  rollout.c - the commands that change rollouts: `rollclone deploy`,
    `rollback`, `pause`, `resume`, `abort` and `freeze`, their plans
    (--plan: what would happen, stored nowhere) and what they print. */
#include "cli.h"
#include "rc_defaults.h"
#include "rc_ids.h"
#include "rc_join.h"
#include "rc_time.h"

#include <stdlib.h>
#include <string.h>

/* The plan's run-once steps of when ("before", "after"): each where the
   operator reads the plan's order, before ahead of the batches, after
   behind them. */
static void
s_print_plan_once (const Rollclone__PlanReply *p, const char *when)
{
    for (size_t i = 0; i < p->n_run_once; i++) {
        const Rollclone__RunOnceInfo *o = p->run_once[i];
        if (!streq (o->when, when))
            continue;
        if (*o->error)
            rc_cli_line ("  run-once %s: run_once_%s: %s", rc_cli_esc (o->when),
                         rc_cli_esc (o->name), rc_cli_esc (o->error));
        else
            rc_cli_line ("  run-once %s: run_once_%s on %s", rc_cli_esc (o->when),
                         rc_cli_esc (o->name), rc_cli_esc (o->host_id));
    }
}

/* What a freeze in force holds of the plan: the batches, and the run-once
   before step and a window's hosts when it has them (the after step is
   not held: it starts once no host is left). */
static void
s_print_plan_frozen (const Rollclone__PlanReply *p)
{
    bool before = false;
    for (size_t i = 0; i < p->n_run_once; i++)
        before = before || streq (p->run_once[i]->when, "before");
    if (!before && !p->window_hosts)
        rc_cli_line ("frozen: a freeze is in force now; no batch would start until it ends");
    else
        rc_cli_line ("frozen: a freeze is in force now; nothing would start until it ends (%s%s%s)",
                     before ? "the run-once before step, " : "", "the batches",
                     p->window_hosts ? ", each host of the window" : "");
}

void
rc_cli_print_plan (const Rollclone__PlanReply *p)
{
    char worst[32];
    rc_cli_line ("plan: %s %s%s%s to %u host%s in %zu batch%s (nothing was started)",
                 rc_cli_esc (p->kind), rc_cli_esc (p->app), *p->version ? " " : "",
                 rc_cli_esc (p->version), p->hosts, p->hosts == 1 ? "" : "s", p->n_batches,
                 p->n_batches == 1 ? "" : "es");
    s_print_plan_once (p, "before");
    for (size_t i = 0; i < p->n_batches; i++) {
        const Rollclone__PlanBatch *b = p->batches[i];
        char *hosts = NULL;
        for (size_t j = 0; j < b->n_host_ids; j++)
            rc_join_append (&hosts, "%s%s", j ? " " : "", rc_cli_esc (b->host_ids[j]));
        rc_cli_line ("  batch %u (%zu host%s): %s", b->number, b->n_host_ids,
                     b->n_host_ids == 1 ? "" : "s", hosts ? hosts : "-");
        free (hosts);
    }
    s_print_plan_once (p, "after");
    if (p->n_skipped)
        rc_cli_line ("skipped:");
    for (size_t i = 0; i < p->n_skipped; i++)
        rc_cli_line ("  %-20s %s", rc_cli_esc (p->skipped[i]->host_id),
                     rc_cli_esc (p->skipped[i]->reason));
    if (streq (p->strategy, "blue-green") && streq (p->kind, "rollback"))
        rc_cli_line ("strategy: blue-green: every host at once, a switch to its old release "
                     "while it is warm (else a rollback)");
    else if (streq (p->strategy, "blue-green"))
        rc_cli_line ("strategy: blue-green: the batches stage %s on the idle slot (no traffic), "
                     "then one switch moves every staged host at once",
                     rc_cli_esc (p->version));
    if (p->window_hosts)
        rc_cli_line ("window: the batch after the ramp keeps %u host%s in flight, the next "
                     "starting as one finishes",
                     p->window_hosts, p->window_hosts == 1 ? "" : "s");
    rc_cli_line ("failure budget: %u host%s", p->max_fail_hosts, p->max_fail_hosts == 1 ? "" : "s");
    rc_cli_line ("worst case: %s (each host%s up to the progress deadline, and the pauses)",
                 rc_duration_format ((int64_t)p->worst_case_ms, worst, sizeof worst),
                 p->n_run_once ? " and run-once step" : "");
    if (p->frozen)
        s_print_plan_frozen (p);
    for (size_t i = 0; i < p->n_checks; i++)
        rc_cli_line ("check %s: each batch held until every host passes it",
                     rc_cli_esc (p->checks[i]));
}

/* Prints a deployment as JSON after a request changed it (writes print
   what they made, like reads). */
static int
s_print_deployment_json (rc_cli_t *cli, const char *id)
{
    int rc;
    Rollclone__ControlReply *reply = rc_cli_fetch (cli, id, &rc, false);
    if (!reply)
        return rc;
    rc_cli_print_json (rc_cli_json_deployment (reply->status->deployments[0]));
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}

/* Sends a request that starts a deployment (deploy, rollback) or plans
   one; prints the plan, or the new id (or deployment, with --json), and
   with --wait follows it to the end. */
static int
s_start (rc_cli_t *cli, const rc_cli_opts_t *opts, Rollclone__ControlRequest *req,
         bool rollback_asked)
{
    bool json = RC_CLI_OPT (opts, 'j'), wait = RC_CLI_OPT (opts, 'w');
    int rc;
    Rollclone__ControlReply *reply = rc_cli_call (cli, req, &rc, false);
    if (!reply)
        return rc;
    if (RC_CLI_OPT (opts, 'L')) {
        rc = RC_EXIT_OK;
        if (reply->rep_case == ROLLCLONE__CONTROL_REPLY__REP_DEPLOY) {
            /* a coordinator older than --plan ignores the field: say what
               it did instead, so the operator can stop it */
            fprintf (stderr,
                     "rollclone: this coordinator does not know --plan and started deployment "
                     "%s (rollclone abort %s)\n",
                     rc_cli_esc (reply->deploy->deployment_id),
                     rc_cli_esc (reply->deploy->deployment_id));
            rc = RC_EXIT_FAILED;
        }
        else if (reply->rep_case != ROLLCLONE__CONTROL_REPLY__REP_PLAN) {
            fprintf (stderr, "rollclone: the coordinator answered no plan\n");
            rc = RC_EXIT_FAILED;
        }
        else if (json)
            rc_cli_print_json (rc_cli_json_plan (reply->plan));
        else
            rc_cli_print_plan (reply->plan);
        rollclone__control_reply__free_unpacked (reply, NULL);
        return rc;
    }
    if (reply->rep_case != ROLLCLONE__CONTROL_REPLY__REP_DEPLOY) {
        rollclone__control_reply__free_unpacked (reply, NULL);
        fprintf (stderr, "rollclone: the coordinator answered something else than a deployment\n");
        return RC_EXIT_FAILED;
    }
    const Rollclone__DeployReply *dr = reply->deploy;
    char *id = strdup (dr->deployment_id);
    if (!json)
        printf ("%s\n", rc_cli_esc (id));
    if (wait)
        fprintf (stderr, "%s %s to %u host(s) in %u batch(es)\n",
                 rollback_asked ? "rolling back" : "deploying", rc_cli_esc (id), dr->hosts,
                 dr->total_batches);
    fflush (stdout);
    rollclone__control_reply__free_unpacked (reply, NULL);
    if (!id)
        return RC_EXIT_FAILED;
    if (wait)
        rc = rc_cli_follow (cli, id, rollback_asked, json, false);
    else
        rc = json ? s_print_deployment_json (cli, id) : RC_EXIT_OK;
    free (id);
    return rc;
}

/* An option's value, "" when absent (the proto's default). */
static char *
s_value (const rc_cli_opts_t *opts, char key)
{
    const char *v = RC_CLI_OPT (opts, key);
    return (char *)(v ? v : "");
}

int
rc_cli_cmd_deploy (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    Rollclone__DeployRequest dreq = ROLLCLONE__DEPLOY_REQUEST__INIT;
    dreq.app = s_value (opts, 'a');
    dreq.version = s_value (opts, 'v');
    dreq.artifact_url = s_value (opts, 'A');
    dreq.sha256 = s_value (opts, 's');
    dreq.select = s_value (opts, 'S');
    dreq.batch = s_value (opts, 'b');
    dreq.max_fail = s_value (opts, 'm');
    dreq.window = s_value (opts, 'W');
    dreq.rollback_batch = s_value (opts, 'R');
    dreq.soak = s_value (opts, 'k');
    dreq.health_timeout = s_value (opts, 'H');
    dreq.progress_deadline = s_value (opts, 'P');
    dreq.offline_grace = s_value (opts, 'g');
    dreq.pause = s_value (opts, 'p');
    dreq.no_auto_rollback = RC_CLI_OPT (opts, 'n') != NULL;
    dreq.plan = RC_CLI_OPT (opts, 'L') != NULL;
    dreq.retry_of = s_value (opts, 'r');
    dreq.ignore_freeze = RC_CLI_OPT (opts, 'I') != NULL;
    dreq.before = s_value (opts, 'B');
    dreq.after = s_value (opts, 'F');
    dreq.run_on = s_value (opts, 'O');
    const char *checks[RC_CLI_GIVEN_MAX];
    dreq.n_checks = rc_cli_values (opts, 'c', checks, RC_CLI_GIVEN_MAX);
    dreq.checks = (char **)checks;
    for (size_t i = 0; i < dreq.n_checks; i++)
        if (!rc_name_valid (checks[i]))
            return rc_cli_usage_error (opts, "--check '%s' is not a check name ([A-Za-z0-9._+-])",
                                       rc_cli_esc (checks[i]));
    dreq.strategy = s_value (opts, 'T');
    if (RC_CLI_OPT (opts, 'T') && !streq (dreq.strategy, "rolling")
        && !streq (dreq.strategy, "blue-green"))
        return rc_cli_usage_error (opts, "--strategy '%s' must be rolling or blue-green",
                                   rc_cli_esc (dreq.strategy));
    /* a name of the agents' own commands, never a command line */
    const char *flags[] = {"--before", "--after"}, *names[] = {dreq.before, dreq.after};
    const char keys[] = {'B', 'F'};
    for (size_t i = 0; i < sizeof keys; i++)
        if (RC_CLI_OPT (opts, keys[i]) && !rc_run_once_name_valid (names[i]))
            return rc_cli_usage_error (opts,
                                       "%s '%s' must be a NAME of [A-Za-z0-9_-]{1,%d} (the agents' "
                                       "run_once_NAME), not a command line",
                                       flags[i], rc_cli_esc (names[i]), RC_RUN_ONCE_NAME_MAX);
    if (RC_CLI_OPT (opts, 'O') && !rc_name_valid (dreq.run_on))
        return rc_cli_usage_error (opts, "--run-on '%s' is not a host id",
                                   rc_cli_esc (dreq.run_on));
    if (RC_CLI_OPT (opts, 'O') && !*dreq.before && !*dreq.after)
        return rc_cli_usage_error (opts, "--run-on needs --before or --after");
    if (RC_CLI_OPT (opts, 'r') && !*dreq.retry_of)
        return rc_cli_usage_error (opts, "--retry needs the id of a finished deployment");
    /* a retry takes app, version, artifact and checksum from the
       deployment it retries */
    if (!*dreq.retry_of) {
        if (!*dreq.app || !*dreq.version || !*dreq.artifact_url)
            return rc_cli_usage_error (opts, "needs --app, --version and --artifact (or --retry)");
        if (!*dreq.sha256)
            return rc_cli_usage_error (opts, "--sha256 is required (agents verify every artifact)");
    }
    if (dreq.plan && RC_CLI_OPT (opts, 'w'))
        return rc_cli_usage_error (opts, "--plan starts nothing to --wait for");
    char *signature = NULL;
    if (RC_CLI_OPT (opts, 'G')) {
        if (!(signature = rc_cli_read_signature (RC_CLI_OPT (opts, 'G'))))
            return RC_EXIT_USAGE;
        dreq.signature = signature;
    }
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_DEPLOY;
    req.deploy = &dreq;
    int rc = s_start (cli, opts, &req, false);
    free (signature);
    return rc;
}

int
rc_cli_cmd_rollback (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    Rollclone__RollbackRequest rreq = ROLLCLONE__ROLLBACK_REQUEST__INIT;
    rreq.deployment_id = s_value (opts, 'd');
    rreq.host_id = s_value (opts, 'o');
    rreq.app = s_value (opts, 'a');
    rreq.to_version = s_value (opts, 't');
    rreq.plan = RC_CLI_OPT (opts, 'L') != NULL;
    bool by_deployment = *rreq.deployment_id;
    bool by_host = *rreq.host_id || *rreq.app || *rreq.to_version;
    if (by_deployment == by_host || (by_host && (!*rreq.host_id || !*rreq.app)))
        return rc_cli_usage_error (opts, "give --deployment ID, or --host H --app APP");
    if (rreq.plan && RC_CLI_OPT (opts, 'w'))
        return rc_cli_usage_error (opts, "--plan starts nothing to --wait for");
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_ROLLBACK;
    req.rollback = &rreq;
    return s_start (cli, opts, &req, true);
}

static int
s_operate (rc_cli_t *cli, const rc_cli_opts_t *opts, Rollclone__OperateRequest__Op op)
{
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__OperateRequest oreq = ROLLCLONE__OPERATE_REQUEST__INIT;
    oreq.op = op;
    oreq.deployment_id = opts->args[0];
    oreq.no_rollback = RC_CLI_OPT (opts, 'n') != NULL;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_OPERATE;
    req.operate = &oreq;
    int rc;
    Rollclone__ControlReply *reply = rc_cli_call (cli, &req, &rc, false);
    if (!reply)
        return rc;
    rollclone__control_reply__free_unpacked (reply, NULL);
    if (RC_CLI_OPT (opts, 'j'))
        return s_print_deployment_json (cli, opts->args[0]);
    printf ("%s: %s\n", rc_cli_esc (opts->args[0]), opts->cmd->name);
    return RC_EXIT_OK;
}

int
rc_cli_cmd_pause (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    return s_operate (cli, opts, ROLLCLONE__OPERATE_REQUEST__OP__PAUSE);
}

int
rc_cli_cmd_resume (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    return s_operate (cli, opts, ROLLCLONE__OPERATE_REQUEST__OP__RESUME);
}

int
rc_cli_cmd_abort (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    return s_operate (cli, opts, ROLLCLONE__OPERATE_REQUEST__OP__ABORT);
}

int
rc_cli_cmd_freeze (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__FreezeRequest freq = ROLLCLONE__FREEZE_REQUEST__INIT;
    const char *until = RC_CLI_OPT (opts, 'u');
    freq.clear = RC_CLI_OPT (opts, 'C') != NULL;
    freq.reason = s_value (opts, 'R');
    if (until && freq.clear)
        return rc_cli_usage_error (opts, "--until and --clear do not go together");
    if (*freq.reason && !until && !freq.clear)
        return rc_cli_usage_error (opts, "--reason goes with --until or --clear");
    if (until) {
        int64_t now = rc_now_ms ();
        freq.until_ms = rc_cli_parse_when (until, now);
        if (freq.until_ms < 0)
            return rc_cli_usage_error (opts,
                                       "--until '%s' is neither a time (2026-12-24T08:00:00Z, "
                                       "2026-12-24 08:00) nor a duration (2h)",
                                       until);
        if (freq.until_ms <= now)
            return rc_cli_usage_error (opts, "--until '%s' is in the past", until);
    }
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_FREEZE;
    req.freeze = &freq;
    int rc;
    Rollclone__ControlReply *reply =
        rc_cli_call_for (cli, &req, ROLLCLONE__CONTROL_REPLY__REP_FREEZE, &rc);
    if (!reply)
        return rc;
    const Rollclone__FreezeReply *f = reply->freeze;
    char when[32];
    if (RC_CLI_OPT (opts, 'j'))
        rc_cli_print_json (rc_cli_json_freeze (f));
    else {
        rc_cli_line ("%s", f->frozen ? "frozen: no batch starts now" : "not frozen");
        if (f->until_ms)
            rc_cli_line ("operator's freeze until %s",
                         rc_cli_iso_time (f->until_ms, when, sizeof when));
        else
            rc_cli_line ("operator's freeze: none");
        for (size_t i = 0; i < f->n_windows; i++) {
            const Rollclone__FreezeWindow *w = f->windows[i];
            rc_cli_line ("window %s%s%s", rc_cli_esc (w->spec), w->active ? ": active until " : "",
                         w->active ? rc_cli_iso_time (w->ends_ms, when, sizeof when) : "");
        }
    }
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}
