/*  views.c - `rollclone status|events|history`: deployments, the audit log
    and a host's releases as text tables (cut to the terminal, agents' text
    escaped) or JSON. */
#include "cli.h"
#include "rc_defaults.h"
#include "rc_join.h"
#include "rc_time.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The largest --limit the CLI sends; the coordinator clamps further to its
   own maximum (rc_defaults.h), and its reply says to what. */
#define RC_CLI_LIMIT_MAX 1000000
/* How often `status --watch` without an id redraws the list. */
#define RC_CLI_LIST_REFRESH_S 1
/* Lines of a failed host's output shown under it in `status ID`. */
#define RC_CLI_TAIL_LINES 5

static volatile sig_atomic_t s_interrupted;

static void
s_on_interrupt (int sig)
{
    (void)sig;
    s_interrupted = 1;
}

/* The last lines of a host's hook output, indented, each escaped. */
static void
s_print_tail (const char *tail)
{
    if (!*tail)
        return;
    const char *p = tail + strlen (tail);
    if (p > tail && p[-1] == '\n')
        p--;
    const char *end = p;
    int lines = 0;
    while (p > tail && lines < RC_CLI_TAIL_LINES) {
        p--;
        if (*p == '\n' && ++lines == RC_CLI_TAIL_LINES) {
            p++;
            break;
        }
    }
    char *text = strndup (p, (size_t)(end - p));
    for (char *line = text, *next; line; line = next) {
        next = strchr (line, '\n');
        if (next)
            *next++ = '\0';
        rc_cli_line ("      | %s", rc_cli_esc (line));
    }
    free (text);
}

/* The last evaluation of each analysis gate of a host (deploy --check) */
static void
s_print_checks (const Rollclone__DeploymentHost *h)
{
    for (size_t j = 0; j < h->n_checks; j++) {
        const Rollclone__CheckValue *c = h->checks[j];
        char value[32] = "-";
        if (c->has_value)
            snprintf (value, sizeof value, "%g", c->value);
        rc_cli_line ("      check %s: %s %s%s, %u evaluation(s), %u failed in a row: %s",
                     rc_cli_esc (c->name), value, rc_cli_esc (c->result),
                     c->passed ? " (passed)" : "", c->evaluations, c->consecutive_failures,
                     rc_cli_esc (c->detail));
    }
}

/* Blue-green before its switch: how long the staged slots stay warm (the
   agents stop them at keep_warm; a switch after that stages them again
   first, which takes the time of a stage). */
static void
s_print_staged (const Rollclone__DeploymentInfo *d)
{
    int staged = rc_cli_staged_count (d);
    if (!staged || (!d->staged_warm_until_ms && !d->staged_cold))
        return;
    char when[32];
    rc_cli_iso_time (d->staged_warm_until_ms, when, sizeof when);
    if (!d->staged_cold)
        rc_cli_line ("  staged slots warm until %s (keep_warm; a switch after that stages the "
                     "hosts no longer warm again first)",
                     when);
    else
        rc_cli_line ("  staged slots: %u of %d no longer warm (staged again before the switch)%s%s",
                     d->staged_cold, staged, *when ? ", the others warm until " : "", when);
}

void
rc_cli_print_deployment (const Rollclone__DeploymentInfo *d)
{
    char created[32], dur[32], soak[32], ht[32];
    bool deploy = streq (d->kind, "deploy");
    char batch[96] = "", phase[64];
    if (*rc_cli_bg_phase (d, phase, sizeof phase))
        snprintf (batch, sizeof batch, ", blue-green: %s", phase);
    else if (deploy)
        snprintf (batch, sizeof batch, ", batch %u of %u", d->current_batch, d->total_batches);
    rc_cli_line ("deployment %s: %s %s%s%s, %s%s%s%s", rc_cli_esc (d->id), rc_cli_esc (d->kind),
                 rc_cli_esc (d->app), *d->version ? " " : "", rc_cli_esc (d->version),
                 rc_cli_state (d->state, 0), batch,
                 rc_cli_waits_for_resume (d) ? " (waiting for `rollclone resume`)" : "",
                 d->frozen ? " (frozen: waits for the freeze to end)" : "");
    if (deploy)
        rc_cli_line ("  created %s by %s; batch %s, max-fail %s (%u host%s), soak %s, "
                     "health-timeout %s, pause %s, auto-rollback %s%s",
                     rc_cli_iso_time (d->created_ms, created, sizeof created),
                     *d->operator_ ? rc_cli_esc (d->operator_) : "-", rc_cli_esc (d->batch),
                     rc_cli_esc (d->max_fail), d->max_fail_hosts, d->max_fail_hosts == 1 ? "" : "s",
                     rc_duration_format (d->soak_ms, soak, sizeof soak),
                     rc_duration_format (d->health_timeout_ms, ht, sizeof ht),
                     *d->pause ? rc_cli_esc (d->pause) : "none", d->auto_rollback ? "on" : "off",
                     d->ignore_freeze ? ", ignores freezes" : "");
    else
        rc_cli_line ("  created %s by %s", rc_cli_iso_time (d->created_ms, created, sizeof created),
                     *d->operator_ ? rc_cli_esc (d->operator_) : "-");
    if (d->window_hosts) {
        int inflight = 0, pending = 0;
        for (size_t i = 0; i < d->n_hosts; i++) {
            inflight +=
                streq (d->hosts[i]->state, "updating") || streq (d->hosts[i]->state, "unknown");
            pending += streq (d->hosts[i]->state, "pending");
        }
        /* what a pause or a freeze holds: the hosts still to start */
        char left[32] = "";
        if (pending && !rc_cli_ended (d->state))
            snprintf (left, sizeof left, ", %d to start", pending);
        rc_cli_line ("  window %u of %zu hosts (%s): %d in flight%s", d->window_hosts, d->n_hosts,
                     rc_cli_esc (d->window), inflight, left);
    }
    s_print_staged (d);
    if (deploy && *d->rollback_batch)
        rc_cli_line ("  rollback batch %s", rc_cli_esc (d->rollback_batch));
    if (*d->retry_of)
        rc_cli_line ("  retry of %s", rc_cli_esc (d->retry_of));
    if (*d->reason)
        rc_cli_line ("  reason: %s", rc_cli_esc (d->reason));
    for (size_t i = 0; i < d->n_run_once; i++) {
        const Rollclone__RunOnceInfo *o = d->run_once[i];
        char took[32] = "-", code[24] = "";
        if (o->finished_ms && o->started_ms)
            rc_duration_format (o->finished_ms - o->started_ms, took, sizeof took);
        if (streq (o->state, "succeeded") || streq (o->state, "failed"))
            snprintf (code, sizeof code, ", exit %d", o->exit_code);
        const char *host = *o->host_id ? rc_cli_esc (o->host_id) : "(not chosen)";
        if (streq (o->state, "pending") && rc_cli_ended (d->state)) {
            /* it never runs: the deployment ended before its turn */
            rc_cli_line ("  run-once %-6s run_once_%s on %s: not run, the deployment ended first",
                         rc_cli_esc (o->when), rc_cli_esc (o->name), host);
            continue;
        }
        rc_cli_line ("  run-once %-6s run_once_%s on %s: %s%s, %s%s%s", rc_cli_esc (o->when),
                     rc_cli_esc (o->name), host, rc_cli_esc (o->state), code, took,
                     *o->error ? ": " : "", rc_cli_esc (o->error));
        s_print_tail (o->output_tail);
    }
    if (d->n_checks) {
        char *names = NULL;
        for (size_t i = 0; i < d->n_checks; i++)
            rc_join_append (&names, "%s%s", i ? ", " : "", rc_cli_esc (d->checks[i]));
        rc_cli_line ("  checks: %s", names ? names : "");
        free (names);
    }
    rc_cli_line ("  %-20s %-5s %-16s %-12s %-24s %-8s %s", "HOST", "BATCH", "STATE", "PHASE",
                 "FROM -> TO", "TIME", "ERROR");
    for (size_t i = 0; i < d->n_hosts; i++) {
        const Rollclone__DeploymentHost *h = d->hosts[i];
        char *change =
            zsys_sprintf ("%s -> %s", *h->from_version ? rc_cli_esc (h->from_version) : "-",
                          *h->to_version ? rc_cli_esc (h->to_version) : "previous");
        char hbatch[16] = "-";
        if (h->batch)
            snprintf (hbatch, sizeof hbatch, "%u", h->batch);
        int64_t took = h->finished_ms  ? h->finished_ms - h->started_ms
                       : h->started_ms ? rc_now_ms () - h->started_ms
                                       : -1;
        /* blue-green: which step the phase is of (stage, switch) */
        char hphase[48];
        snprintf (hphase, sizeof hphase, "%s%s%s",
                  streq (h->action, "stage") || streq (h->action, "switch") ? h->action : "",
                  streq (h->action, "stage") || streq (h->action, "switch") ? ":" : "",
                  *h->phase ? h->phase : "-");
        rc_cli_line ("  %-20s %-5s %s %-12s %-24s %-8s %s%s%s", rc_cli_esc (h->host_id), hbatch,
                     rc_cli_state (h->state, 16), rc_cli_esc (hphase), change ? change : "",
                     took >= 0 ? rc_duration_format (took, dur, sizeof dur) : "-",
                     rc_cli_esc (h->failure), *h->error ? ": " : "", rc_cli_esc (h->error));
        free (change);
        s_print_checks (h);
        if (rc_cli_host_failed (h->state))
            s_print_tail (h->output_tail);
    }
}

static void
s_print_list (const Rollclone__StatusReply *sr)
{
    rc_cli_line ("%-26s %-9s %-12s %-12s %-14s %-7s %-18s %-20s %s", "ID", "KIND", "APP", "VERSION",
                 "STATE", "BATCH", "OK/FAILED/HOSTS", "CREATED", "OPERATOR");
    for (size_t i = 0; i < sr->n_deployments; i++) {
        const Rollclone__DeploymentInfo *d = sr->deployments[i];
        int ok, failed, busy;
        rc_cli_count (d, &ok, &failed, &busy);
        char batch[32], counts[48], created[32];
        snprintf (batch, sizeof batch, "%u/%u", d->current_batch, d->total_batches);
        if (streq (d->strategy, "blue-green")
            && (streq (d->phase, "switching") || streq (d->phase, "switched")))
            snprintf (batch, sizeof batch, "%s", d->phase);
        snprintf (counts, sizeof counts, "%d/%d/%zu", ok, failed, d->n_hosts);
        rc_cli_line ("%-26s %-9s %-12s %-12s %s %-7s %-18s %-20s %s", rc_cli_esc (d->id),
                     rc_cli_esc (d->kind), rc_cli_esc (d->app),
                     *d->version ? rc_cli_esc (d->version) : "-", rc_cli_state (d->state, 14),
                     batch, counts, rc_cli_iso_time (d->created_ms, created, sizeof created),
                     *d->operator_ ? rc_cli_esc (d->operator_) : "-");
    }
}

void
rc_cli_print_event (const Rollclone__EventInfo *e, bool with_deployment)
{
    char clock[16];
    bool dep = with_deployment && *e->deployment_id;
    rc_cli_line ("%s %s%s%-16s %-20s %s%s%s%s", rc_cli_clock (e->ts_ms, clock, sizeof clock),
                 dep ? rc_cli_esc (e->deployment_id) : "", dep ? " " : "",
                 *e->host_id ? rc_cli_esc (e->host_id) : "-", rc_cli_esc (e->kind),
                 rc_cli_esc (e->detail), *e->operator_ ? " (by " : "", rc_cli_esc (e->operator_),
                 *e->operator_ ? ")" : "");
}

/* `status` without an id: the list, and with --watch again every second. */
static int
s_status_list (rc_cli_t *cli, const rc_cli_opts_t *opts, uint32_t limit)
{
    bool watch = RC_CLI_OPT (opts, 'w'), json = RC_CLI_OPT (opts, 'j');
    if (watch && json)
        return rc_cli_usage_error (opts, "--watch and --json do not go together without an ID");
    signal (SIGINT, s_on_interrupt);
    int rc = RC_EXIT_OK;
    do {
        Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
        Rollclone__StatusRequest sreq = ROLLCLONE__STATUS_REQUEST__INIT;
        sreq.limit = limit;
        req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_STATUS;
        req.status = &sreq;
        Rollclone__ControlReply *reply =
            rc_cli_call_for (cli, &req, ROLLCLONE__CONTROL_REPLY__REP_STATUS, &rc);
        if (!reply)
            return rc;
        const Rollclone__StatusReply *sr = reply->status;
        if (watch && rc_cli_live ())
            printf ("\033[H\033[2J");
        if (json) {
            json_t *list = json_array ();
            for (size_t i = 0; i < sr->n_deployments; i++)
                json_array_append_new (list, rc_cli_json_deployment (sr->deployments[i]));
            rc_cli_print_json (list);
        }
        else
            s_print_list (sr);
        fflush (stdout);
        rollclone__control_reply__free_unpacked (reply, NULL);
        if (!watch)
            break;
        if (!rc_cli_live ())
            printf ("\n");
        sleep (RC_CLI_LIST_REFRESH_S);
    } while (!s_interrupted);
    return RC_EXIT_OK;
}

int
rc_cli_cmd_status (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    long limit = 0;
    if (RC_CLI_OPT (opts, 'l') && (limit = rc_cli_number (opts, 'l', RC_CLI_LIMIT_MAX)) < 0)
        return RC_EXIT_USAGE;
    if (opts->n_args == 0)
        return s_status_list (cli, opts, (uint32_t)limit);
    const char *id = opts->args[0];
    bool json = RC_CLI_OPT (opts, 'j');
    /* one follow loop for deploy --wait, rollback --wait and this */
    if (RC_CLI_OPT (opts, 'w'))
        return rc_cli_follow (cli, id, false, json, true);
    int rc;
    Rollclone__ControlReply *reply = rc_cli_fetch (cli, id, &rc, false);
    if (!reply)
        return rc;
    if (json)
        rc_cli_print_json (rc_cli_json_deployment (reply->status->deployments[0]));
    else
        rc_cli_print_deployment (reply->status->deployments[0]);
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}

/* Tells a terminal reader how to get the page before this one. */
static void
s_hint_more (bool more, int64_t oldest, const char *command, const char *arg)
{
    if (more)
        fprintf (stderr, "(older entries: rollclone %s%s%s --before %lld)\n", command,
                 *arg ? " " : "", rc_cli_esc (arg), (long long)oldest);
}

/* --limit N and --before ID of the paged commands. */
static int
s_page_options (const rc_cli_opts_t *opts, uint32_t *limit, int64_t *before)
{
    long n;
    if (RC_CLI_OPT (opts, 'l')) {
        if ((n = rc_cli_number (opts, 'l', RC_CLI_LIMIT_MAX)) < 0)
            return RC_EXIT_USAGE;
        *limit = (uint32_t)n;
    }
    if (RC_CLI_OPT (opts, 'b')) {
        const char *text = RC_CLI_OPT (opts, 'b');
        char *end = NULL;
        long long id = strtoll (text, &end, 10);
        if (end == text || *end || id < 1 || id == LLONG_MAX)
            return rc_cli_usage_error (opts,
                                       "--before '%s' must be an entry id (a whole number from "
                                       "1, as in the id of the oldest entry shown)",
                                       text);
        *before = id;
    }
    return RC_EXIT_OK;
}

int
rc_cli_cmd_history (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__HistoryRequest hreq = ROLLCLONE__HISTORY_REQUEST__INIT;
    int rc = s_page_options (opts, &hreq.limit, &hreq.before_id);
    if (rc != RC_EXIT_OK)
        return rc;
    hreq.host_id = opts->args[0];
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_HISTORY;
    req.history = &hreq;
    Rollclone__ControlReply *reply =
        rc_cli_call_for (cli, &req, ROLLCLONE__CONTROL_REPLY__REP_HISTORY, &rc);
    if (!reply)
        return rc;
    const Rollclone__HistoryReply *hr = reply->history;
    if (RC_CLI_OPT (opts, 'j'))
        rc_cli_print_json (rc_cli_json_history (hr));
    else {
        char when[32];
        rc_cli_line ("host %s", rc_cli_esc (hr->host_id));
        for (size_t i = 0; i < hr->n_apps; i++) {
            char *points = NULL;
            for (size_t j = 0; j < hr->apps[i]->n_rollback_points; j++)
                rc_join_append (&points, " %s", rc_cli_esc (hr->apps[i]->rollback_points[j]));
            if (!points)
                rc_join_append (&points, " none");
            rc_cli_slot_append (&points, hr->apps[i]);
            rc_cli_line ("  %s: current %s, rollback points:%s", rc_cli_esc (hr->apps[i]->app),
                         *hr->apps[i]->current ? rc_cli_esc (hr->apps[i]->current) : "-", points);
            free (points);
        }
        rc_cli_line ("%-22s %-12s %-14s %-14s %-26s %s", "TIME", "APP", "VERSION", "PREVIOUS",
                     "DEPLOYMENT", "ROLLBACK POINTS");
        for (size_t i = 0; i < hr->n_entries; i++) {
            const Rollclone__HistoryEntry *e = hr->entries[i];
            rc_cli_line ("%-22s %-12s %-14s %-14s %-26s %s",
                         rc_cli_iso_time (e->ts_ms, when, sizeof when), rc_cli_esc (e->app),
                         rc_cli_esc (e->version), *e->previous ? rc_cli_esc (e->previous) : "-",
                         *e->deployment_id ? rc_cli_esc (e->deployment_id) : "-",
                         *e->rollback_points ? rc_cli_esc (e->rollback_points) : "-");
        }
        s_hint_more (hr->more && hr->n_entries, hr->n_entries ? hr->entries[0]->id : 0, "history",
                     hr->host_id);
    }
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}

int
rc_cli_cmd_events (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__EventsRequest ereq = ROLLCLONE__EVENTS_REQUEST__INIT;
    int rc = s_page_options (opts, &ereq.limit, &ereq.before_id);
    if (rc != RC_EXIT_OK)
        return rc;
    ereq.deployment_id = opts->n_args ? opts->args[0] : "";
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_EVENTS;
    req.events = &ereq;
    Rollclone__ControlReply *reply =
        rc_cli_call_for (cli, &req, ROLLCLONE__CONTROL_REPLY__REP_EVENTS, &rc);
    if (!reply)
        return rc;
    const Rollclone__EventsReply *er = reply->events;
    if (RC_CLI_OPT (opts, 'j'))
        rc_cli_print_json (rc_cli_json_events (er));
    else {
        for (size_t i = 0; i < er->n_events; i++)
            rc_cli_print_event (er->events[i], !*ereq.deployment_id);
        s_hint_more (er->more && er->n_events, er->n_events ? er->events[0]->id : 0, "events",
                     ereq.deployment_id);
    }
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}
