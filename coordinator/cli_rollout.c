/*  cli_rollout.c - `rollclone deploy|status|pause|resume|abort|rollback|
    history|events`: requests to the rollout engine, shown as tables, JSON,
    a live progress view on a terminal, or one line per event when piped. */
#include "cli_common.h"
#include "rc_defaults.h"
#include "rc_time.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How often --wait and --watch ask again, and how long they keep trying
   while the coordinator cannot be reached (it may be restarting). */
#define RC_WAIT_POLL_MS 500
#define RC_WAIT_UNREACHABLE_MS (60 * 1000)
/* The largest --limit the CLI sends; the coordinator clamps further to its
   own maximum (rc_defaults.h), and its reply says to what. */
#define RC_CLI_LIMIT_MAX 1000000

static volatile sig_atomic_t s_interrupted;

static void
s_on_interrupt (int sig)
{
    (void)sig;
    s_interrupted = 1;
}

static bool
s_ended (const char *state)
{
    return !(streq (state, "running") || streq (state, "paused") || streq (state, "rolling_back"));
}

/* rollback_asked: the operator asked for this rollback, so rolled_back is
   what success looks like. */
static int
s_exit_for (const Rollclone__DeploymentInfo *d, bool rollback_asked)
{
    if (streq (d->state, "succeeded"))
        return RC_EXIT_OK;
    if ((rollback_asked || streq (d->kind, "rollback")) && streq (d->state, "rolled_back"))
        return RC_EXIT_OK;
    return RC_EXIT_FAILED;
}

/* Fetches one deployment (quiet: the caller decides what unreachable means). */
static Rollclone__ControlReply *
s_fetch (rc_cli_t *cli, const char *id, int *rc, bool quiet)
{
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__StatusRequest sreq = ROLLCLONE__STATUS_REQUEST__INIT;
    sreq.deployment_id = (char *)id;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_STATUS;
    req.status = &sreq;
    Rollclone__ControlReply *reply = rc_cli_call (cli, &req, rc, quiet);
    if (reply
        && (reply->rep_case != ROLLCLONE__CONTROL_REPLY__REP_STATUS
            || reply->status->n_deployments == 0)) {
        rollclone__control_reply__free_unpacked (reply, NULL);
        *rc = RC_EXIT_FAILED;
        return NULL;
    }
    return reply;
}

/* ------------------------------------------------------------------------ */
/* Output */

static json_t *
s_deployment_json (const Rollclone__DeploymentInfo *d)
{
    char created[32], updated[32], finished[32];
    json_t *hosts = json_array ();
    for (size_t i = 0; i < d->n_hosts; i++) {
        const Rollclone__DeploymentHost *h = d->hosts[i];
        char started[32], done[32];
        json_t *timings = json_object ();
        for (size_t j = 0; j < h->n_timings; j++)
            json_object_set_new (timings, h->timings[j]->phase, json_integer (h->timings[j]->ms));
        json_array_append_new (
            hosts,
            json_pack ("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:o}", "host",
                       h->host_id, "batch", (int)h->batch, "state", h->state, "phase", h->phase,
                       "from", h->from_version, "to", h->to_version, "started",
                       rc_cli_iso_time (h->started_ms, started, sizeof started), "finished",
                       rc_cli_iso_time (h->finished_ms, done, sizeof done), "failure", h->failure,
                       "error", h->error, "exit_code", (int)h->exit_code, "output_tail",
                       h->output_tail, "timings_ms", timings));
    }
    return json_pack (
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:i, s:s, s:s, s:i, s:i, s:i, "
        "s:s, s:b, s:s, s:b, s:s, s:s, s:s, s:o, s:i}",
        "id", d->id, "kind", d->kind, "app", d->app, "version", d->version, "artifact",
        d->artifact_url, "state", d->state, "reason", d->reason, "batch", (int)d->current_batch,
        "batches", (int)d->total_batches, "failures", (int)d->failures, "batch_spec", d->batch,
        "max_fail", (int)d->max_fail_hosts, "max_fail_spec", d->max_fail, "select", d->select,
        "soak_ms", (int)d->soak_ms, "health_timeout_ms", (int)d->health_timeout_ms,
        "progress_deadline_ms", (int)d->progress_deadline_ms, "pause", d->pause, "auto_rollback",
        (int)d->auto_rollback, "sha256", d->sha256, "waiting_for_resume", (int)!d->gate_open,
        "created", rc_cli_iso_time (d->created_ms, created, sizeof created), "updated",
        rc_cli_iso_time (d->updated_ms, updated, sizeof updated), "finished",
        rc_cli_iso_time (d->finished_ms, finished, sizeof finished), "hosts", hosts,
        "offline_grace_ms", (int)d->offline_grace_ms);
}

static void
s_count (const Rollclone__DeploymentInfo *d, int *ok, int *failed, int *busy)
{
    *ok = *failed = *busy = 0;
    for (size_t i = 0; i < d->n_hosts; i++) {
        const char *st = d->hosts[i]->state;
        if (streq (st, "succeeded") || streq (st, "rolled_back"))
            (*ok)++;
        else if (streq (st, "failed") || streq (st, "rollback_failed"))
            (*failed)++;
        else if (streq (st, "updating") || streq (st, "rolling_back"))
            (*busy)++;
    }
}

static void
s_print_deployment (const Rollclone__DeploymentInfo *d)
{
    char created[32], dur[32], soak[32], ht[32];
    printf ("deployment %s: %s %s%s%s, %s", d->id, d->kind, d->app, *d->version ? " " : "",
            d->version, d->state);
    if (streq (d->kind, "deploy"))
        printf (", batch %u of %u", d->current_batch, d->total_batches);
    if (!d->gate_open && streq (d->state, "paused"))
        printf (" (waiting for `rollclone resume %s`)", d->id);
    printf ("\n");
    if (streq (d->kind, "deploy"))
        printf ("  created %s; batch %s, max-fail %s (%u host%s), soak %s, health-timeout %s, "
                "pause %s, auto-rollback %s\n",
                rc_cli_iso_time (d->created_ms, created, sizeof created), d->batch, d->max_fail,
                d->max_fail_hosts, d->max_fail_hosts == 1 ? "" : "s",
                rc_duration_format (d->soak_ms, soak, sizeof soak),
                rc_duration_format (d->health_timeout_ms, ht, sizeof ht),
                *d->pause ? d->pause : "none", d->auto_rollback ? "on" : "off");
    if (*d->reason)
        printf ("  reason: %s\n", d->reason);
    printf ("  %-20s %-5s %-16s %-12s %-24s %-8s %s\n", "HOST", "BATCH", "STATE", "PHASE",
            "FROM -> TO", "TIME", "ERROR");
    for (size_t i = 0; i < d->n_hosts; i++) {
        const Rollclone__DeploymentHost *h = d->hosts[i];
        char change[2 * RC_NAME_MAX + 8], batch[16] = "-";
        snprintf (change, sizeof change, "%s -> %s", *h->from_version ? h->from_version : "-",
                  *h->to_version ? h->to_version : "previous");
        if (h->batch)
            snprintf (batch, sizeof batch, "%u", h->batch);
        int64_t took = h->finished_ms  ? h->finished_ms - h->started_ms
                       : h->started_ms ? rc_now_ms () - h->started_ms
                                       : -1;
        printf ("  %-20s %-5s %-16s %-12s %-24s %-8s %s%s%s\n", h->host_id, batch, h->state,
                *h->phase ? h->phase : "-", change,
                took >= 0 ? rc_duration_format (took, dur, sizeof dur) : "-", h->failure,
                *h->error ? ": " : "", h->error);
    }
}

static void
s_print_list (const Rollclone__StatusReply *sr)
{
    printf ("%-26s %-9s %-12s %-12s %-14s %-7s %-18s %s\n", "ID", "KIND", "APP", "VERSION", "STATE",
            "BATCH", "OK/FAILED/HOSTS", "CREATED");
    for (size_t i = 0; i < sr->n_deployments; i++) {
        const Rollclone__DeploymentInfo *d = sr->deployments[i];
        int ok, failed, busy;
        s_count (d, &ok, &failed, &busy);
        char batch[32], counts[48], created[32];
        snprintf (batch, sizeof batch, "%u/%u", d->current_batch, d->total_batches);
        snprintf (counts, sizeof counts, "%d/%d/%zu", ok, failed, d->n_hosts);
        printf ("%-26s %-9s %-12s %-12s %-14s %-7s %-18s %s\n", d->id, d->kind, d->app,
                *d->version ? d->version : "-", d->state, batch, counts,
                rc_cli_iso_time (d->created_ms, created, sizeof created));
    }
}

/* The live view on a terminal: one progress bar per batch, redrawn. */
static int
s_draw_progress (const Rollclone__DeploymentInfo *d, int lines_before)
{
    if (lines_before > 0)
        printf ("\033[%dA", lines_before);
    int lines = 0;
    int ok, failed, busy;
    s_count (d, &ok, &failed, &busy);
    printf ("\033[2K%s %s %s: %s  (%d ok, %d failed, %d in progress, %zu hosts)\n", d->id, d->app,
            d->version, d->state, ok, failed, busy, d->n_hosts);
    lines++;
    uint32_t batches = d->total_batches > d->current_batch ? d->total_batches : d->current_batch;
    for (uint32_t b = 1; b <= batches; b++) {
        int total = 0, done = 0, bad = 0;
        char names[256] = "";
        for (size_t i = 0; i < d->n_hosts; i++) {
            const Rollclone__DeploymentHost *h = d->hosts[i];
            if (h->batch != b)
                continue;
            total++;
            bool fin = !streq (h->state, "updating") && !streq (h->state, "pending");
            done += fin;
            bad += streq (h->state, "failed");
            size_t used = strlen (names);
            snprintf (names + used, sizeof names - used, "%s%s:%s", used ? " " : "", h->host_id,
                      streq (h->state, "updating") ? h->phase : h->state);
        }
        char bar[21];
        int width = 20, filled = total ? done * width / total : 0;
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        if (total)
            printf ("\033[2K  batch %u/%u [%s] %d/%d%s  %s\n", b, d->total_batches, bar, done,
                    total, bad ? " FAILED" : "", names);
        else
            printf ("\033[2K  batch %u/%u [%s] waiting\n", b, d->total_batches, bar);
        lines++;
    }
    if (*d->reason) {
        printf ("\033[2K  %s\n", d->reason);
        lines++;
    }
    fflush (stdout);
    return lines;
}

static void
s_print_event (const Rollclone__EventInfo *e, bool with_deployment)
{
    char clock[16];
    printf ("%s %s%s%-16s %-20s %s\n", rc_cli_clock (e->ts_ms, clock, sizeof clock),
            with_deployment && *e->deployment_id ? e->deployment_id : "",
            with_deployment && *e->deployment_id ? " " : "", *e->host_id ? e->host_id : "-",
            e->kind, e->detail);
}

/* Follows a deployment until it ends: live bars on a terminal, one line
   per event otherwise. Returns the exit code. */
static int
s_follow (rc_cli_t *cli, const char *id, bool rollback_asked)
{
    signal (SIGINT, s_on_interrupt);
    signal (SIGTERM, s_on_interrupt);
    bool tty = isatty (STDOUT_FILENO);
    int64_t after = 0;
    int lines = 0;
    int64_t unreachable_since = 0;
    while (!s_interrupted) {
        int rc;
        if (!tty) {
            Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
            Rollclone__EventsRequest ereq = ROLLCLONE__EVENTS_REQUEST__INIT;
            ereq.deployment_id = (char *)id;
            ereq.after_id = after;
            req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_EVENTS;
            req.events = &ereq;
            /* page after page until caught up: a reply is clamped */
            bool more = true;
            while (more && !s_interrupted) {
                ereq.after_id = after;
                Rollclone__ControlReply *reply = rc_cli_call (cli, &req, &rc, true);
                more = false;
                if (reply && reply->rep_case == ROLLCLONE__CONTROL_REPLY__REP_EVENTS) {
                    for (size_t i = 0; i < reply->events->n_events; i++) {
                        s_print_event (reply->events->events[i], false);
                        after = reply->events->events[i]->id;
                    }
                    more = reply->events->more && reply->events->n_events;
                    fflush (stdout);
                }
                if (reply)
                    rollclone__control_reply__free_unpacked (reply, NULL);
            }
        }
        Rollclone__ControlReply *reply = s_fetch (cli, id, &rc, true);
        if (!reply) {
            if (rc != RC_EXIT_UNREACHABLE)
                return rc;
            if (!unreachable_since) {
                unreachable_since = rc_mono_ms ();
                fprintf (stderr, "rollclone: lost the coordinator; still waiting for %s\n", id);
            }
            if (rc_mono_ms () - unreachable_since > RC_WAIT_UNREACHABLE_MS) {
                fprintf (stderr,
                         "rollclone: the coordinator is unreachable; deployment %s goes "
                         "on without us (rollclone status %s)\n",
                         id, id);
                return RC_EXIT_UNREACHABLE;
            }
            usleep (RC_WAIT_POLL_MS * 1000);
            continue;
        }
        if (unreachable_since)
            fprintf (stderr, "rollclone: coordinator back\n");
        unreachable_since = 0;
        const Rollclone__DeploymentInfo *d = reply->status->deployments[0];
        if (tty)
            lines = s_draw_progress (d, lines);
        bool ended = s_ended (d->state);
        int code = s_exit_for (d, rollback_asked);
        if (ended && !tty)
            printf ("deployment %s %s%s%s\n", d->id, d->state, *d->reason ? ": " : "", d->reason);
        rollclone__control_reply__free_unpacked (reply, NULL);
        if (ended)
            return code;
        usleep (RC_WAIT_POLL_MS * 1000);
    }
    fprintf (stderr, "rollclone: stopped watching; deployment %s goes on (rollclone status %s)\n",
             id, id);
    return RC_EXIT_FAILED;
}

/* Sends a request that starts a deployment (deploy, rollback), prints its
   id, and with wait follows it to the end. */
static int
s_start (rc_cli_t *cli, Rollclone__ControlRequest *req, bool wait, bool rollback_asked)
{
    int rc;
    Rollclone__ControlReply *reply = rc_cli_call (cli, req, &rc, false);
    if (!reply)
        return rc;
    if (reply->rep_case != ROLLCLONE__CONTROL_REPLY__REP_DEPLOY) {
        rollclone__control_reply__free_unpacked (reply, NULL);
        return RC_EXIT_FAILED;
    }
    const Rollclone__DeployReply *dr = reply->deploy;
    char *id = strdup (dr->deployment_id);
    printf ("%s\n", id);
    if (wait)
        fprintf (stderr, "%s %s to %u host(s) in %u batch(es)\n",
                 rollback_asked ? "rolling back" : "deploying", id, dr->hosts, dr->total_batches);
    fflush (stdout);
    rollclone__control_reply__free_unpacked (reply, NULL);
    rc = wait ? s_follow (cli, id, rollback_asked) : RC_EXIT_OK;
    free (id);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Commands */

int
rc_cli_deploy (rc_cli_t *cli, int argc, char **argv)
{
    Rollclone__DeployRequest dreq = ROLLCLONE__DEPLOY_REQUEST__INIT;
    bool wait = false;
    const char *signature_path = NULL;
    static const struct option options[] = {
        {"app", required_argument, NULL, 'a'},
        {"version", required_argument, NULL, 'v'},
        {"artifact", required_argument, NULL, 'A'},
        {"sha256", required_argument, NULL, 's'},
        {"signature", required_argument, NULL, 'G'},
        {"select", required_argument, NULL, 'S'},
        {"batch", required_argument, NULL, 'b'},
        {"max-fail", required_argument, NULL, 'm'},
        {"soak", required_argument, NULL, 'k'},
        {"health-timeout", required_argument, NULL, 'H'},
        {"progress-deadline", required_argument, NULL, 'P'},
        {"offline-grace", required_argument, NULL, 'g'},
        {"pause", required_argument, NULL, 'p'},
        {"no-auto-rollback", no_argument, NULL, 'n'},
        {"wait", no_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    optind = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'a': dreq.app = optarg; break;
        case 'v': dreq.version = optarg; break;
        case 'A': dreq.artifact_url = optarg; break;
        case 's': dreq.sha256 = optarg; break;
        case 'G': signature_path = optarg; break;
        case 'S': dreq.select = optarg; break;
        case 'b': dreq.batch = optarg; break;
        case 'm': dreq.max_fail = optarg; break;
        case 'k': dreq.soak = optarg; break;
        case 'H': dreq.health_timeout = optarg; break;
        case 'P': dreq.progress_deadline = optarg; break;
        case 'g': dreq.offline_grace = optarg; break;
        case 'p': dreq.pause = optarg; break;
        case 'n': dreq.no_auto_rollback = true; break;
        case 'w': wait = true; break;
        default: return RC_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return rc_cli_bad ("deploy: unexpected argument '%s'", argv[optind]);
    if (!*dreq.app || !*dreq.version || !*dreq.artifact_url)
        return rc_cli_bad ("deploy needs --app, --version and --artifact");
    if (!*dreq.sha256)
        return rc_cli_bad ("deploy: --sha256 is required (agents verify every artifact)");
    char *signature = NULL;
    if (signature_path && !(signature = rc_cli_read_signature (signature_path)))
        return RC_EXIT_USAGE;
    if (signature)
        dreq.signature = signature;
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_DEPLOY;
    req.deploy = &dreq;
    int rc = s_start (cli, &req, wait, false);
    free (signature);
    return rc;
}

int
rc_cli_status (rc_cli_t *cli, int argc, char **argv)
{
    bool json = false, watch = false;
    long limit = 0;
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"watch", no_argument, NULL, 'w'},
        {"limit", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    optind = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        char *end = NULL;
        if (opt == 'j')
            json = true;
        else if (opt == 'w')
            watch = true;
        else if (opt == 'l') {
            errno = 0;
            limit = strtol (optarg, &end, 10);
            if (errno || end == optarg || *end || limit < 1 || limit > RC_CLI_LIMIT_MAX)
                return rc_cli_bad ("--limit '%s' must be a number from 1 to %d", optarg,
                                   RC_CLI_LIMIT_MAX);
        }
        else
            return RC_EXIT_USAGE;
    }
    const char *id = optind < argc ? argv[optind++] : "";
    if (optind < argc)
        return rc_cli_bad ("status: unexpected argument '%s'", argv[optind]);
    if (watch && json)
        return rc_cli_bad ("status: --watch and --json do not go together");
    signal (SIGINT, s_on_interrupt);
    bool tty = isatty (STDOUT_FILENO);
    int rc = RC_EXIT_OK;
    do {
        Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
        Rollclone__StatusRequest sreq = ROLLCLONE__STATUS_REQUEST__INIT;
        sreq.deployment_id = (char *)id;
        sreq.limit = (uint32_t)limit;
        req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_STATUS;
        req.status = &sreq;
        Rollclone__ControlReply *reply = rc_cli_call (cli, &req, &rc, false);
        if (!reply)
            return rc;
        if (reply->rep_case != ROLLCLONE__CONTROL_REPLY__REP_STATUS) {
            rollclone__control_reply__free_unpacked (reply, NULL);
            return RC_EXIT_FAILED;
        }
        const Rollclone__StatusReply *sr = reply->status;
        bool ended = true;
        if (watch && tty)
            printf ("\033[H\033[2J");
        if (json) {
            if (*id)
                rc_cli_print_json (s_deployment_json (sr->deployments[0]));
            else {
                json_t *list = json_array ();
                for (size_t i = 0; i < sr->n_deployments; i++)
                    json_array_append_new (list, s_deployment_json (sr->deployments[i]));
                rc_cli_print_json (list);
            }
        }
        else if (*id)
            s_print_deployment (sr->deployments[0]);
        else
            s_print_list (sr);
        if (*id)
            ended = s_ended (sr->deployments[0]->state);
        else
            ended = false;
        fflush (stdout);
        rollclone__control_reply__free_unpacked (reply, NULL);
        if (!watch || (*id && ended))
            break;
        if (!tty)
            printf ("\n");
        sleep (1);
    } while (!s_interrupted);
    return RC_EXIT_OK;
}

static int
s_operate (rc_cli_t *cli, int argc, char **argv, Rollclone__OperateRequest__Op op)
{
    bool no_rollback = false;
    static const struct option options[] = {
        {"no-rollback", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    optind = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (opt == 'n' && op == ROLLCLONE__OPERATE_REQUEST__OP__ABORT)
            no_rollback = true;
        else
            return rc_cli_bad ("usage: rollclone %s ID%s", argv[0],
                               op == ROLLCLONE__OPERATE_REQUEST__OP__ABORT ? " [--no-rollback]"
                                                                           : "");
    }
    if (optind != argc - 1)
        return rc_cli_bad ("usage: rollclone %s ID%s", argv[0],
                           op == ROLLCLONE__OPERATE_REQUEST__OP__ABORT ? " [--no-rollback]" : "");
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__OperateRequest oreq = ROLLCLONE__OPERATE_REQUEST__INIT;
    oreq.op = op;
    oreq.deployment_id = argv[optind];
    oreq.no_rollback = no_rollback;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_OPERATE;
    req.operate = &oreq;
    int rc;
    Rollclone__ControlReply *reply = rc_cli_call (cli, &req, &rc, false);
    if (!reply)
        return rc;
    rollclone__control_reply__free_unpacked (reply, NULL);
    printf ("%s: %s\n", argv[optind], argv[0]);
    return RC_EXIT_OK;
}

int
rc_cli_pause (rc_cli_t *cli, int argc, char **argv)
{
    return s_operate (cli, argc, argv, ROLLCLONE__OPERATE_REQUEST__OP__PAUSE);
}

int
rc_cli_resume (rc_cli_t *cli, int argc, char **argv)
{
    return s_operate (cli, argc, argv, ROLLCLONE__OPERATE_REQUEST__OP__RESUME);
}

int
rc_cli_abort (rc_cli_t *cli, int argc, char **argv)
{
    return s_operate (cli, argc, argv, ROLLCLONE__OPERATE_REQUEST__OP__ABORT);
}

int
rc_cli_rollback (rc_cli_t *cli, int argc, char **argv)
{
    Rollclone__RollbackRequest rreq = ROLLCLONE__ROLLBACK_REQUEST__INIT;
    bool wait = false;
    static const struct option options[] = {
        {"deployment", required_argument, NULL, 'd'},
        {"host", required_argument, NULL, 'h'},
        {"app", required_argument, NULL, 'a'},
        {"to", required_argument, NULL, 't'},
        {"wait", no_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    optind = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': rreq.deployment_id = optarg; break;
        case 'h': rreq.host_id = optarg; break;
        case 'a': rreq.app = optarg; break;
        case 't': rreq.to_version = optarg; break;
        case 'w': wait = true; break;
        default: return RC_EXIT_USAGE;
        }
    }
    bool by_deployment = *rreq.deployment_id;
    bool by_host = *rreq.host_id || *rreq.app || *rreq.to_version;
    if (optind < argc || by_deployment == by_host || (by_host && (!*rreq.host_id || !*rreq.app)))
        return rc_cli_bad ("usage: rollclone rollback (--deployment ID | --host H --app APP "
                           "[--to VERSION]) [--wait]");
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_ROLLBACK;
    req.rollback = &rreq;
    return s_start (cli, &req, wait, true);
}

/* Parses --json, --limit N and (with before) --before ID of the paged
   commands. */
static int
s_page_options (int argc, char **argv, bool *json, long *limit, int64_t *before)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"limit", required_argument, NULL, 'l'},
        {"before", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    optind = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        char *end = NULL;
        if (opt == 'j')
            *json = true;
        else if (opt == 'l') {
            errno = 0;
            *limit = strtol (optarg, &end, 10);
            if (errno || end == optarg || *end || *limit < 1 || *limit > RC_CLI_LIMIT_MAX)
                return rc_cli_bad ("--limit '%s' must be a number from 1 to %d", optarg,
                                   RC_CLI_LIMIT_MAX);
        }
        else if (opt == 'b' && before) {
            errno = 0;
            long long id = strtoll (optarg, &end, 10);
            if (errno || end == optarg || *end || id < 1)
                return rc_cli_bad ("--before '%s' must be an entry id (a whole number from 1, "
                                   "as in the id of the oldest entry shown)",
                                   optarg);
            *before = id;
        }
        else
            return RC_EXIT_USAGE;
    }
    return RC_EXIT_OK;
}

/* Tells a terminal reader how to get the page before this one. */
static void
s_hint_more (bool more, int64_t oldest, const char *command)
{
    if (more)
        fprintf (stderr, "(older entries: rollclone %s --before %lld)\n", command,
                 (long long)oldest);
}

int
rc_cli_history (rc_cli_t *cli, int argc, char **argv)
{
    bool json = false;
    long limit = 0;
    int64_t before = 0;
    int rc = s_page_options (argc, argv, &json, &limit, &before);
    if (rc != RC_EXIT_OK)
        return rc;
    if (optind != argc - 1)
        return rc_cli_bad ("usage: rollclone history HOST [--json] [--limit N] [--before ID]");
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__HistoryRequest hreq = ROLLCLONE__HISTORY_REQUEST__INIT;
    hreq.host_id = argv[optind];
    hreq.limit = (uint32_t)limit;
    hreq.before_id = before;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_HISTORY;
    req.history = &hreq;
    Rollclone__ControlReply *reply = rc_cli_call (cli, &req, &rc, false);
    if (!reply)
        return rc;
    if (reply->rep_case != ROLLCLONE__CONTROL_REPLY__REP_HISTORY) {
        rollclone__control_reply__free_unpacked (reply, NULL);
        return RC_EXIT_FAILED;
    }
    const Rollclone__HistoryReply *hr = reply->history;
    char when[32];
    if (json) {
        json_t *entries = json_array ();
        for (size_t i = 0; i < hr->n_entries; i++) {
            const Rollclone__HistoryEntry *e = hr->entries[i];
            json_array_append_new (
                entries,
                json_pack ("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)e->id, "time",
                           rc_cli_iso_time (e->ts_ms, when, sizeof when), "app", e->app, "version",
                           e->version, "previous", e->previous, "rollback_points",
                           e->rollback_points, "deployment", e->deployment_id));
        }
        json_t *apps = json_object ();
        for (size_t i = 0; i < hr->n_apps; i++) {
            json_t *points = json_array ();
            for (size_t j = 0; j < hr->apps[i]->n_rollback_points; j++)
                json_array_append_new (points, json_string (hr->apps[i]->rollback_points[j]));
            json_object_set_new (apps, hr->apps[i]->app,
                                 json_pack ("{s:s, s:o}", "current", hr->apps[i]->current,
                                            "rollback_points", points));
        }
        /* the next page: --before next_before, while more is true */
        json_t *next = hr->more && hr->n_entries ? json_integer (hr->entries[0]->id) : json_null ();
        rc_cli_print_json (json_pack ("{s:s, s:o, s:o, s:i, s:b, s:o}", "host", hr->host_id, "apps",
                                      apps, "history", entries, "limit", (int)hr->limit, "more",
                                      (int)hr->more, "next_before", next));
    }
    else {
        printf ("host %s\n", hr->host_id);
        for (size_t i = 0; i < hr->n_apps; i++) {
            printf ("  %s: current %s, rollback points:", hr->apps[i]->app,
                    *hr->apps[i]->current ? hr->apps[i]->current : "-");
            for (size_t j = 0; j < hr->apps[i]->n_rollback_points; j++)
                printf (" %s", hr->apps[i]->rollback_points[j]);
            printf ("%s\n", hr->apps[i]->n_rollback_points ? "" : " none");
        }
        printf ("%-22s %-12s %-14s %-14s %-26s %s\n", "TIME", "APP", "VERSION", "PREVIOUS",
                "DEPLOYMENT", "ROLLBACK POINTS");
        for (size_t i = 0; i < hr->n_entries; i++) {
            const Rollclone__HistoryEntry *e = hr->entries[i];
            printf ("%-22s %-12s %-14s %-14s %-26s %s\n",
                    rc_cli_iso_time (e->ts_ms, when, sizeof when), e->app, e->version,
                    *e->previous ? e->previous : "-", *e->deployment_id ? e->deployment_id : "-",
                    *e->rollback_points ? e->rollback_points : "-");
        }
        char command[RC_NAME_MAX + 16];
        snprintf (command, sizeof command, "history %s", hr->host_id);
        s_hint_more (hr->more && hr->n_entries, hr->n_entries ? hr->entries[0]->id : 0, command);
    }
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}

int
rc_cli_events (rc_cli_t *cli, int argc, char **argv)
{
    bool json = false;
    long limit = 0;
    int64_t before = 0;
    int rc = s_page_options (argc, argv, &json, &limit, &before);
    if (rc != RC_EXIT_OK)
        return rc;
    if (argc - optind > 1)
        return rc_cli_bad ("usage: rollclone events [ID] [--json] [--limit N] [--before ID]");
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__EventsRequest ereq = ROLLCLONE__EVENTS_REQUEST__INIT;
    ereq.deployment_id = optind < argc ? argv[optind] : "";
    ereq.limit = (uint32_t)limit;
    ereq.before_id = before;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_EVENTS;
    req.events = &ereq;
    Rollclone__ControlReply *reply = rc_cli_call (cli, &req, &rc, false);
    if (!reply)
        return rc;
    if (reply->rep_case != ROLLCLONE__CONTROL_REPLY__REP_EVENTS) {
        rollclone__control_reply__free_unpacked (reply, NULL);
        return RC_EXIT_FAILED;
    }
    const Rollclone__EventsReply *er = reply->events;
    if (json) {
        json_t *list = json_array ();
        char when[32];
        for (size_t i = 0; i < er->n_events; i++) {
            const Rollclone__EventInfo *e = er->events[i];
            json_array_append_new (
                list, json_pack ("{s:I, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)e->id, "time",
                                 rc_cli_iso_time (e->ts_ms, when, sizeof when), "deployment",
                                 e->deployment_id, "host", e->host_id, "kind", e->kind, "detail",
                                 e->detail));
        }
        /* the next page: --before next_before, while more is true */
        json_t *next = er->more && er->n_events ? json_integer (er->events[0]->id) : json_null ();
        rc_cli_print_json (json_pack ("{s:o, s:i, s:b, s:o}", "events", list, "limit",
                                      (int)er->limit, "more", (int)er->more, "next_before", next));
    }
    else {
        for (size_t i = 0; i < er->n_events; i++)
            s_print_event (er->events[i], !*ereq.deployment_id);
        char *command =
            zsys_sprintf ("events%s%s", *ereq.deployment_id ? " " : "", ereq.deployment_id);
        s_hint_more (er->more && er->n_events, er->n_events ? er->events[0]->id : 0,
                     command ? command : "events");
        free (command);
    }
    rollclone__control_reply__free_unpacked (reply, NULL);
    return RC_EXIT_OK;
}
