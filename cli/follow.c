/*  follow.c - the one loop that follows a deployment to its end, for
    `deploy --wait`, `rollback --wait` and `status ID --watch`: progress
    bars redrawn on a terminal, one line per event otherwise, and the exit
    code of how it ended. */
#include "cli.h"
#include "rc_defaults.h"
#include "rc_join.h"
#include "rc_time.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How often the loop asks again: a summary (a count of rows by state) every
   100 ms, so that --wait returns within ~100 ms of the end, not 500; a
   whole deployment (the live view's, or an older coordinator's answer)
   every 500 ms. And how long it keeps trying while the coordinator cannot
   be reached (it may be restarting). */
#define RC_WAIT_POLL_MS 500
#define RC_WAIT_SUMMARY_POLL_MS 100
#define RC_WAIT_UNREACHABLE_MS (60 * 1000)
/* The width of a batch's progress bar. */
#define RC_CLI_BAR 20

static volatile sig_atomic_t s_interrupted;

static void
s_on_interrupt (int sig)
{
    (void)sig;
    s_interrupted = 1;
}

/* One line of the live view: erased first, cut to the width so that it
   never wraps (the redraw counts lines). */
static void s_live_line (int *lines, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
s_live_line (int *lines, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    int width = rc_cli_width ();
    rc_cli_vline ("\033[2K", width > 1 ? width - 1 : 0, fmt, args);
    va_end (args);
    (*lines)++;
}

/* The live view on a terminal: one progress bar per batch, redrawn. */
static int
s_draw_progress (const Rollclone__DeploymentInfo *d, int lines_before)
{
    if (lines_before > 0)
        printf ("\033[%dA", lines_before);
    int lines = 0, ok, failed, busy;
    rc_cli_count (d, &ok, &failed, &busy);
    char phase[64];
    rc_cli_bg_phase (d, phase, sizeof phase);
    s_live_line (&lines, "%s %s %s: %s%s%s  (%d ok, %d failed, %d in progress, %zu hosts)%s",
                 rc_cli_esc (d->id), rc_cli_esc (d->app), rc_cli_esc (d->version),
                 rc_cli_state (d->state, 0), *phase ? ", blue-green: " : "", phase, ok, failed,
                 busy, d->n_hosts, d->frozen ? "  frozen: waits for the freeze to end" : "");
    uint32_t batches = d->total_batches > d->current_batch ? d->total_batches : d->current_batch;
    for (uint32_t b = 1; b <= batches; b++) {
        int total = 0, done = 0, bad = 0;
        char *names = NULL;
        for (size_t i = 0; i < d->n_hosts; i++) {
            const Rollclone__DeploymentHost *h = d->hosts[i];
            if (h->batch != b)
                continue;
            total++;
            done += !rc_cli_host_waiting (h->state);
            bad += rc_cli_host_failed (h->state);
            rc_join_append (&names, "%s%s:%s", names ? " " : "", rc_cli_esc (h->host_id),
                            rc_cli_esc (rc_cli_host_busy (h->state) ? h->phase : h->state));
        }
        char bar[RC_CLI_BAR + 1];
        int filled = total ? done * RC_CLI_BAR / total : 0;
        for (int i = 0; i < RC_CLI_BAR; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[RC_CLI_BAR] = '\0';
        if (total)
            s_live_line (&lines, "  batch %u/%u [%s] %d/%d%s  %s", b, d->total_batches, bar, done,
                         total, bad ? " FAILED" : "", names ? names : "");
        else
            s_live_line (&lines, "  batch %u/%u [%s] waiting", b, d->total_batches, bar);
        free (names);
    }
    if (*d->reason)
        s_live_line (&lines, "  %s", rc_cli_esc (d->reason));
    fflush (stdout);
    return lines;
}

/* Prints the events after *after, page after page until caught up (a
   reply is clamped); to stderr when stdout is kept for JSON. */
static void
s_print_new_events (rc_cli_t *cli, const char *id, int64_t *after, bool to_stderr)
{
    Rollclone__ControlRequest req = ROLLCLONE__CONTROL_REQUEST__INIT;
    Rollclone__EventsRequest ereq = ROLLCLONE__EVENTS_REQUEST__INIT;
    ereq.deployment_id = (char *)id;
    req.req_case = ROLLCLONE__CONTROL_REQUEST__REQ_EVENTS;
    req.events = &ereq;
    bool more = true;
    while (more && !s_interrupted) {
        int rc;
        ereq.after_id = *after;
        Rollclone__ControlReply *reply = rc_cli_call (cli, &req, &rc, true);
        more = false;
        if (reply && reply->rep_case == ROLLCLONE__CONTROL_REPLY__REP_EVENTS) {
            for (size_t i = 0; i < reply->events->n_events; i++) {
                const Rollclone__EventInfo *e = reply->events->events[i];
                if (to_stderr) {
                    char clock[16];
                    fprintf (stderr, "%s %-16s %-20s %s\n",
                             rc_cli_clock (e->ts_ms, clock, sizeof clock),
                             *e->host_id ? rc_cli_esc (e->host_id) : "-", rc_cli_esc (e->kind),
                             rc_cli_esc (e->detail));
                }
                else
                    rc_cli_print_event (e, false);
                *after = e->id;
            }
            more = reply->events->more && reply->events->n_events;
            fflush (stdout);
        }
        if (reply)
            rollclone__control_reply__free_unpacked (reply, NULL);
    }
}

/* One look at the deployment. The live view draws every host, so it asks
   for them all; otherwise the loop only needs the row (state, kind,
   reason) and asks for a summary, which costs the coordinator one count
   instead of every host row (issue 13), and fetches the whole deployment
   once, when it has ended, if it prints it (--json, status --watch's
   table). An older coordinator answers a summary in full (summary unset):
   that is used as it is. */
static Rollclone__ControlReply *
s_fetch (rc_cli_t *cli, const char *id, bool live, bool whole_at_end, int *rc)
{
    if (live)
        return rc_cli_fetch (cli, id, rc, true);
    Rollclone__ControlReply *reply = rc_cli_fetch_summary (cli, id, rc, true);
    if (!reply || !whole_at_end)
        return reply;
    const Rollclone__DeploymentInfo *d = reply->status->deployments[0];
    if (!d->summary || !rc_cli_ended (d->state))
        return reply;
    rollclone__control_reply__free_unpacked (reply, NULL);
    return rc_cli_fetch (cli, id, rc, true);
}

int
rc_cli_follow (rc_cli_t *cli, const char *id, bool rollback_asked, bool json, bool table)
{
    signal (SIGINT, s_on_interrupt);
    signal (SIGTERM, s_on_interrupt);
    bool live = rc_cli_live () && !json;
    int64_t after = 0;
    int lines = 0;
    int64_t unreachable_since = 0;
    while (!s_interrupted) {
        int rc;
        if (!live)
            s_print_new_events (cli, id, &after, json);
        Rollclone__ControlReply *reply = s_fetch (cli, id, live, json || table, &rc);
        if (!reply) {
            if (rc != RC_EXIT_UNREACHABLE) {
                fprintf (stderr, "rollclone: %s\n", cli->errmsg);
                return rc;
            }
            if (!unreachable_since) {
                unreachable_since = rc_mono_ms ();
                fprintf (stderr, "rollclone: lost the coordinator; still waiting for %s\n",
                         rc_cli_esc (id));
            }
            if (rc_mono_ms () - unreachable_since > RC_WAIT_UNREACHABLE_MS) {
                fprintf (stderr,
                         "rollclone: the coordinator is unreachable; deployment %s goes "
                         "on without us (rollclone status %s)\n",
                         rc_cli_esc (id), rc_cli_esc (id));
                return RC_EXIT_UNREACHABLE;
            }
            usleep (RC_WAIT_POLL_MS * 1000);
            continue;
        }
        if (unreachable_since)
            fprintf (stderr, "rollclone: coordinator back\n");
        unreachable_since = 0;
        const Rollclone__DeploymentInfo *d = reply->status->deployments[0];
        if (live)
            lines = s_draw_progress (d, lines);
        bool ended = rc_cli_ended (d->state);
        int code = rc_cli_exit_for (d, rollback_asked);
        if (ended && json)
            rc_cli_print_json (rc_cli_json_deployment (d));
        else if (ended && !live)
            rc_cli_line ("deployment %s %s%s%s", rc_cli_esc (d->id), d->state,
                         *d->reason ? ": " : "", rc_cli_esc (d->reason));
        if (ended && table && !json)
            rc_cli_print_deployment (d);
        int poll_ms = d->summary ? RC_WAIT_SUMMARY_POLL_MS : RC_WAIT_POLL_MS;
        rollclone__control_reply__free_unpacked (reply, NULL);
        if (ended)
            return code;
        usleep ((useconds_t)poll_ms * 1000);
    }
    fprintf (stderr, "rollclone: stopped watching; deployment %s goes on (rollclone status %s)\n",
             rc_cli_esc (id), rc_cli_esc (id));
    return RC_EXIT_FAILED;
}
