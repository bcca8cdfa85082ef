/*  json.c - the one place the coordinator's replies become JSON (jansson),
    so `status --json`, `deploy --json`, `pause --json` and the rest show a
    deployment, an event or a host the same way. jansson escapes control
    characters itself. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define RC_CLI_JSON_FLAGS (JSON_INDENT (2) | JSON_PRESERVE_ORDER)

/* Written as it is dumped, not built into one string first: a reply of
   10,000 hosts is megabytes of text. */
void
rc_cli_print_json (json_t *root)
{
    if (root && json_dumpf (root, stdout, RC_CLI_JSON_FLAGS) == 0)
        putchar ('\n');
    json_decref (root);
}

/* Text of an element of a top-level array: two more spaces after each
   line break, as json_dumps indents the element inside the array (a JSON
   string never holds a raw line break, so every one is layout). */
static int
s_indented (const char *buf, size_t size, void *data)
{
    FILE *out = (FILE *)data;
    while (size > 0) {
        const char *eol = (const char *)memchr (buf, '\n', size);
        size_t run = eol ? (size_t)(eol - buf) + 1 : size;
        if (fwrite (buf, 1, run, out) != run || (eol && fputs ("  ", out) == EOF))
            return -1;
        buf += run;
        size -= run;
    }
    return 0;
}

void
rc_cli_print_json_list (FILE *out, size_t n, rc_cli_json_item_fn *item, const void *arg)
{
    if (n == 0) {
        fputs ("[]\n", out);
        return;
    }
    fputs ("[\n", out);
    for (size_t i = 0; i < n; i++) {
        json_t *element = item (arg, i);
        fputs ("  ", out);
        if (!element || json_dump_callback (element, s_indented, out, RC_CLI_JSON_FLAGS) != 0)
            fputs ("null", out);
        json_decref (element);
        fputs (i + 1 < n ? ",\n" : "\n", out);
    }
    fputs ("]\n", out);
}

static json_t *
s_time (int64_t ms)
{
    char when[32];
    return json_string (rc_cli_iso_time (ms, when, sizeof when));
}

static json_t *
s_apps (Rollclone__AppState **apps, size_t n)
{
    json_t *out = json_object ();
    for (size_t j = 0; j < n; j++) {
        json_t *points = json_array ();
        for (size_t k = 0; k < apps[j]->n_rollback_points; k++)
            json_array_append_new (points, json_string (apps[j]->rollback_points[k]));
        json_t *app =
            json_pack ("{s:s, s:o}", "current", apps[j]->current, "rollback_points", points);
        /* surge clones: which slot serves, and what is warm on the other */
        if (apps[j]->slot) {
            json_object_set_new (app, "slot", json_integer (apps[j]->slot));
            json_object_set_new (app, "slot_port", json_integer (apps[j]->slot_port));
            json_object_set_new (app, "warm_version", json_string (apps[j]->warm_version));
            json_object_set_new (app, "warm_until",
                                 *apps[j]->warm_version ? s_time (apps[j]->warm_until_ms)
                                                        : json_null ());
        }
        json_object_set_new (out, apps[j]->app, app);
    }
    return out;
}

/* The analysis gates' last evaluations of a host (deploy --check) */
static json_t *
s_check_values (const Rollclone__DeploymentHost *h)
{
    json_t *out = json_object ();
    for (size_t j = 0; j < h->n_checks; j++) {
        const Rollclone__CheckValue *c = h->checks[j];
        json_object_set_new (out, c->name,
                             json_pack ("{s:s, s:o, s:i, s:i, s:i, s:b, s:s}", "result", c->result,
                                        "value", c->has_value ? json_real (c->value) : json_null (),
                                        "evaluations", (int)c->evaluations, "consecutive_failures",
                                        (int)c->consecutive_failures, "inconclusive",
                                        (int)c->inconclusive, "passed", (int)c->passed, "detail",
                                        c->detail));
    }
    return out;
}

static json_t *
s_deployment_host (const Rollclone__DeploymentHost *h)
{
    json_t *timings = json_object ();
    for (size_t j = 0; j < h->n_timings; j++)
        json_object_set_new (timings, h->timings[j]->phase, json_integer (h->timings[j]->ms));
    json_t *host =
        json_pack ("{s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:i, s:s, s:o, s:s}", "host",
                   h->host_id, "batch", (int)h->batch, "state", h->state, "phase", h->phase, "from",
                   h->from_version, "to", h->to_version, "started", s_time (h->started_ms),
                   "finished", s_time (h->finished_ms), "failure", h->failure, "error", h->error,
                   "exit_code", (int)h->exit_code, "output_tail", h->output_tail, "timings_ms",
                   timings, "action", h->action);
    if (host)
        json_object_set_new (host, "checks", s_check_values (h));
    return host;
}

static json_t *
s_strings (char **list, size_t n)
{
    json_t *array = json_array ();
    for (size_t i = 0; i < n; i++)
        json_array_append_new (array, json_string (list[i]));
    return array;
}

static json_t *
s_run_once (Rollclone__RunOnceInfo **list, size_t n)
{
    json_t *array = json_array ();
    for (size_t i = 0; i < n; i++) {
        const Rollclone__RunOnceInfo *o = list[i];
        json_array_append_new (
            array,
            json_pack ("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:o, s:o}", "when", o->when, "name",
                       o->name, "host", o->host_id, "state", o->state, "exit_code",
                       (int)o->exit_code, "output_tail", o->output_tail, "error", o->error,
                       "started", s_time (o->started_ms), "finished", s_time (o->finished_ms)));
    }
    return array;
}

json_t *
rc_cli_json_deployment (const Rollclone__DeploymentInfo *d)
{
    json_t *hosts = json_array ();
    for (size_t i = 0; i < d->n_hosts; i++)
        json_array_append_new (hosts, s_deployment_host (d->hosts[i]));
    json_t *root = json_pack (
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:i, s:s, s:s, s:i, s:i, s:i, "
        "s:s, s:b, s:s, s:b, s:o, s:o, s:o, s:o, s:i}",
        "id", d->id, "kind", d->kind, "app", d->app, "version", d->version, "artifact",
        d->artifact_url, "state", d->state, "reason", d->reason, "batch", (int)d->current_batch,
        "batches", (int)d->total_batches, "failures", (int)d->failures, "batch_spec", d->batch,
        "max_fail", (int)d->max_fail_hosts, "max_fail_spec", d->max_fail, "select", d->select,
        "soak_ms", (int)d->soak_ms, "health_timeout_ms", (int)d->health_timeout_ms,
        "progress_deadline_ms", (int)d->progress_deadline_ms, "pause", d->pause, "auto_rollback",
        (int)d->auto_rollback, "sha256", d->sha256, "waiting_for_resume",
        (int)rc_cli_waits_for_resume (d), "created", s_time (d->created_ms), "updated",
        s_time (d->updated_ms), "finished", s_time (d->finished_ms), "hosts", hosts,
        "offline_grace_ms", (int)d->offline_grace_ms);
    int inflight = 0;
    for (size_t i = 0; i < d->n_hosts; i++)
        inflight += streq (d->hosts[i]->state, "updating") || streq (d->hosts[i]->state, "unknown");
    json_t *more = json_pack (
        "{s:s, s:s, s:b, s:b, s:o, s:o, s:s, s:s, s:s, s:i, s:i, s:s}", "operator", d->operator_,
        "retry_of", d->retry_of, "ignore_freeze", (int)d->ignore_freeze, "frozen", (int)d->frozen,
        "run_once", s_run_once (d->run_once, d->n_run_once), "checks",
        s_strings (d->checks, d->n_checks), "strategy", *d->strategy ? d->strategy : "rolling",
        "phase", d->phase, "window", d->window, "window_hosts", (int)d->window_hosts, "in_flight",
        inflight, "rollback_batch", d->rollback_batch);
    json_object_update (root, more);
    json_decref (more);
    if (streq (d->strategy, "blue-green")) {
        /* before the switch: the staged slots' keep_warm ("" once none is
           warm, or after the switch) */
        json_t *staged =
            json_pack ("{s:i, s:i, s:o}", "staged", rc_cli_staged_count (d), "staged_cold",
                       (int)d->staged_cold, "staged_warm_until", s_time (d->staged_warm_until_ms));
        json_object_update (root, staged);
        json_decref (staged);
    }
    return root;
}

json_t *
rc_cli_json_event (const Rollclone__EventInfo *e)
{
    return json_pack ("{s:I, s:o, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)e->id, "time",
                      s_time (e->ts_ms), "deployment", e->deployment_id, "host", e->host_id, "kind",
                      e->kind, "detail", e->detail, "operator", e->operator_);
}

json_t *
rc_cli_json_events (const Rollclone__EventsReply *er)
{
    json_t *list = json_array ();
    for (size_t i = 0; i < er->n_events; i++)
        json_array_append_new (list, rc_cli_json_event (er->events[i]));
    /* the next page: --before next_before, while more is true */
    json_t *next = er->more && er->n_events ? json_integer (er->events[0]->id) : json_null ();
    return json_pack ("{s:o, s:i, s:b, s:o}", "events", list, "limit", (int)er->limit, "more",
                      (int)er->more, "next_before", next);
}

json_t *
rc_cli_json_host (const void *reply, size_t i)
{
    const Rollclone__HostInfo *h = ((const Rollclone__HostsReply *)reply)->hosts[i];
    json_t *labels = json_object ();
    for (size_t j = 0; j < h->n_labels; j++)
        json_object_set_new (labels, h->labels[j]->key, json_string (h->labels[j]->value));
    return json_pack ("{s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:o}", "id", h->id, "hostname",
                      h->hostname, "state", h->state, "healthy", (int)h->healthy, "agent_version",
                      h->agent_version, "last_seen", s_time (h->last_seen_ms), "labels", labels,
                      "apps", s_apps (h->apps, h->n_apps));
}

json_t *
rc_cli_json_info (const Rollclone__InfoReply *info)
{
    return json_pack (
        "{s:s, s:i, s:I, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I}", "version", info->version,
        "protocol_version", (int)info->protocol_version, "uptime_ms", (json_int_t)info->uptime_ms,
        "agents_online", (int)info->agents_online, "agents_offline", (int)info->agents_offline,
        "frames_dropped", (json_int_t)info->frames_dropped, "frames_dropped_agent",
        (json_int_t)info->frames_dropped_agent, "frames_dropped_control",
        (json_int_t)info->frames_dropped_control, "states_refused",
        (json_int_t)info->states_refused, "messages_stale", (json_int_t)info->messages_stale,
        "writes_throttled", (json_int_t)info->writes_throttled);
}

json_t *
rc_cli_json_history (const Rollclone__HistoryReply *hr)
{
    json_t *entries = json_array ();
    for (size_t i = 0; i < hr->n_entries; i++) {
        const Rollclone__HistoryEntry *e = hr->entries[i];
        json_array_append_new (
            entries, json_pack ("{s:I, s:o, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)e->id,
                                "time", s_time (e->ts_ms), "app", e->app, "version", e->version,
                                "previous", e->previous, "rollback_points", e->rollback_points,
                                "deployment", e->deployment_id));
    }
    /* the next page: --before next_before, while more is true */
    json_t *next = hr->more && hr->n_entries ? json_integer (hr->entries[0]->id) : json_null ();
    return json_pack ("{s:s, s:o, s:o, s:i, s:b, s:o}", "host", hr->host_id, "apps",
                      s_apps (hr->apps, hr->n_apps), "history", entries, "limit", (int)hr->limit,
                      "more", (int)hr->more, "next_before", next);
}

json_t *
rc_cli_json_backup (const Rollclone__BackupReply *b)
{
    return json_pack ("{s:s, s:I, s:i, s:I}", "path", b->path, "bytes", (json_int_t)b->bytes,
                      "pages", (int)b->pages, "ms", (json_int_t)b->ms);
}

json_t *
rc_cli_json_plan (const Rollclone__PlanReply *p)
{
    json_t *batches = json_array ();
    for (size_t i = 0; i < p->n_batches; i++) {
        json_t *hosts = json_array ();
        for (size_t j = 0; j < p->batches[i]->n_host_ids; j++)
            json_array_append_new (hosts, json_string (p->batches[i]->host_ids[j]));
        json_array_append_new (batches, json_pack ("{s:i, s:o}", "number",
                                                   (int)p->batches[i]->number, "hosts", hosts));
    }
    json_t *skipped = json_array ();
    for (size_t i = 0; i < p->n_skipped; i++)
        json_array_append_new (skipped, json_pack ("{s:s, s:s}", "host", p->skipped[i]->host_id,
                                                   "reason", p->skipped[i]->reason));
    return json_pack ("{s:s, s:s, s:s, s:i, s:o, s:o, s:i, s:I, s:b, s:o, s:o, s:s, s:i}", "kind",
                      p->kind, "app", p->app, "version", p->version, "hosts", (int)p->hosts,
                      "batches", batches, "skipped", skipped, "max_fail_hosts",
                      (int)p->max_fail_hosts, "worst_case_ms", (json_int_t)p->worst_case_ms,
                      "frozen", (int)p->frozen, "run_once", s_run_once (p->run_once, p->n_run_once),
                      "checks", s_strings (p->checks, p->n_checks), "strategy",
                      *p->strategy ? p->strategy : "rolling", "window_hosts", (int)p->window_hosts);
}

json_t *
rc_cli_json_freeze (const Rollclone__FreezeReply *f)
{
    json_t *windows = json_array ();
    for (size_t i = 0; i < f->n_windows; i++)
        json_array_append_new (
            windows,
            json_pack ("{s:s, s:b, s:o}", "spec", f->windows[i]->spec, "active",
                       (int)f->windows[i]->active, "ends",
                       f->windows[i]->ends_ms ? s_time (f->windows[i]->ends_ms) : json_null ()));
    return json_pack ("{s:b, s:o, s:o}", "frozen", (int)f->frozen, "until",
                      f->until_ms ? s_time (f->until_ms) : json_null (), "windows", windows);
}

json_t *
rc_cli_json_keypair (const char *kind, const char *path)
{
    char *secret = zsys_sprintf ("%s_secret", path);
    json_t *root =
        json_pack ("{s:s, s:s, s:s}", "kind", kind, "public", path, "secret", secret ? secret : "");
    free (secret);
    return root;
}

json_t *
rc_cli_json_signature (const char *path, const char *sha256, const char *version, const char *app)
{
    /* null: the signature is valid for any version or app */
    return json_pack ("{s:s, s:s, s:o, s:o}", "signature", path, "sha256", sha256, "version",
                      version ? json_string (version) : json_null (), "app",
                      app ? json_string (app) : json_null ());
}
