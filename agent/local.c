/*  local.c - `rollclone-agent apply|rollback|releases|recover`: the agent
    used alone. apply and rollback build the same Instruction a coordinator
    would send and hand it to the same executor actor, printing each REPORT
    as one line on stderr; only the input checks happen here, so a bad
    argument is exit 2 before anything runs. */
#include "local.h"
#include "agent_defaults.h"
#include "executor.h"
#include "fetch.h"
#include "journal.h"
#include "rc_defaults.h"
#include "rc_ids.h"
#include "rc_log.h"
#include "rc_time.h"
#include "releases.h"
#include "rollclone.pb-c.h"

#include <getopt.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAX_POINTS 256

static const char *
s_result_name (int result)
{
    switch (result) {
    case ROLLCLONE__STEP_REPORT__RESULT__RUNNING: return "running";
    case ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED: return "SUCCEEDED";
    case ROLLCLONE__STEP_REPORT__RESULT__FAILED: return "FAILED";
    default: return "FAILED_DIRTY";
    }
}

/* One line per report; the hook's output tail follows a failure. */
static void
s_print_report (const Rollclone__StepReport *r)
{
    if (r->result == ROLLCLONE__STEP_REPORT__RESULT__RUNNING) {
        fprintf (stderr, "rollclone-agent: %s [%s] %s%s%s\n", r->app, r->deployment_id, r->phase,
                 *r->error ? ": " : "", r->error);
        return;
    }
    char timings[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < r->n_timings && used < sizeof timings; i++) {
        int n = snprintf (timings + used, sizeof timings - used, "%s%s %ums", i ? ", " : "",
                          r->timings[i]->phase, r->timings[i]->ms);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    const char *now = *r->version_now ? r->version_now : "(none)";
    if (r->result == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED)
        fprintf (stderr, "rollclone-agent: %s [%s] SUCCEEDED: current %s (was %s)%s%s%s\n", r->app,
                 r->deployment_id, now, *r->previous_version ? r->previous_version : "none",
                 used ? " [" : "", timings, used ? "]" : "");
    else {
        fprintf (stderr,
                 "rollclone-agent: %s [%s] %s in phase %s (exit %d): %s; current %s%s%s%s\n",
                 r->app, r->deployment_id, s_result_name (r->result), r->phase, r->exit_code,
                 r->error, now, used ? " [" : "", timings, used ? "]" : "");
        if (*r->output_tail) {
            /* the tail, indented, so it cannot pass for our own lines */
            const char *p = r->output_tail;
            while (*p) {
                size_t n = strcspn (p, "\n");
                fprintf (stderr, "  | %.*s\n", (int)n, p);
                p += n + (p[n] == '\n');
            }
        }
    }
}

/* Reads the executor until the final report of id; other reports (steps
   undone after a crash) are printed too. Returns the exit code. */
static int
s_wait_final (zactor_t *exec, const char *id)
{
    int rc = RC_EXIT_FAILED;
    while (true) {
        zmsg_t *msg = zmsg_recv (exec);
        if (!msg)
            return RC_EXIT_FAILED;
        char *command = zmsg_popstr (msg);
        zframe_t *frame = zmsg_pop (msg);
        bool done = false;
        if (command && streq (command, "REPORT") && frame) {
            Rollclone__StepReport *r =
                rollclone__step_report__unpack (NULL, zframe_size (frame), zframe_data (frame));
            if (r) {
                s_print_report (r);
                if (streq (r->deployment_id, id)
                    && r->result != ROLLCLONE__STEP_REPORT__RESULT__RUNNING) {
                    done = true;
                    rc = r->result == ROLLCLONE__STEP_REPORT__RESULT__SUCCEEDED ? RC_EXIT_OK
                                                                                : RC_EXIT_FAILED;
                }
                rollclone__step_report__free_unpacked (r, NULL);
            }
        }
        free (command);
        zframe_destroy (&frame);
        zmsg_destroy (&msg);
        if (done)
            return rc;
    }
}

static int s_usage_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static int
s_usage_error (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    fprintf (stderr, "rollclone-agent: ");
    vfprintf (stderr, fmt, args);
    fputc ('\n', stderr);
    va_end (args);
    return RC_EXIT_USAGE;
}

static int
s_duration (const char *name, const char *text, int64_t *ms)
{
    if (rc_duration_parse (text, ms) != 0 || *ms > UINT32_MAX)
        return s_usage_error ("--%s '%s': not a duration (500ms, 10s, 5m, 1h)", name, text);
    /* proto3 cannot tell 0 from unset (= the default): an explicit 0 is
       sent as 1 ms, the shortest there is */
    if (*ms == 0)
        *ms = 1;
    return 0;
}

static int
s_run_step (const rc_config_t *cfg, Rollclone__Instruction *inst)
{
    char id[RC_NAME_MAX + 1];
    snprintf (id, sizeof id, "local-%lld-%d", (long long)rc_now_ms (), (int)getpid ());
    inst->deployment_id = id;
    inst->step = 1;
    inst->host_id = cfg->id;
    char err[PATH_MAX + 256];
    zactor_t *exec = rc_executor_new_local (cfg, err, sizeof err);
    if (!exec) {
        fprintf (stderr, "rollclone-agent: cannot start the executor: %s\n", err);
        return RC_EXIT_FAILED;
    }
    zframe_t *frame = zframe_new (NULL, rollclone__instruction__get_packed_size (inst));
    rollclone__instruction__pack (inst, zframe_data (frame));
    zstr_sendm (exec, "STEP");
    zframe_send (&frame, exec, 0);
    int rc = s_wait_final (exec, id);
    zactor_destroy (&exec);
    return rc;
}

static const rc_app_config_t *
s_app (const rc_config_t *cfg, const char *name)
{
    if (!name) {
        s_usage_error ("--app APP is required");
        return NULL;
    }
    const rc_app_config_t *app = rc_config_app (cfg, name);
    if (!app)
        s_usage_error ("--app '%s': no [app %s] section in the config", name, name);
    return app;
}

static int
s_apply (const rc_config_t *cfg, int argc, char **argv)
{
    const char *app_name = NULL, *version = NULL, *url = NULL, *sha = "";
    int64_t soak = 0, health_timeout = 0;
    static const struct option options[] = {
        {"app", required_argument, NULL, 'a'},
        {"version", required_argument, NULL, 'v'},
        {"artifact", required_argument, NULL, 'u'},
        {"sha256", required_argument, NULL, 's'},
        {"soak", required_argument, NULL, 'k'},
        {"health-timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'a': app_name = optarg; break;
        case 'v': version = optarg; break;
        case 'u': url = optarg; break;
        case 's': sha = optarg; break;
        case 'k':
            if (s_duration ("soak", optarg, &soak))
                return RC_EXIT_USAGE;
            break;
        case 't':
            if (s_duration ("health-timeout", optarg, &health_timeout))
                return RC_EXIT_USAGE;
            break;
        default: return s_usage_error ("apply: unknown option");
        }
    }
    if (optind < argc)
        return s_usage_error ("apply: unexpected argument '%s'", argv[optind]);
    if (!s_app (cfg, app_name))
        return RC_EXIT_USAGE;
    if (!version)
        return s_usage_error ("--version V is required");
    if (!rc_name_valid (version))
        return s_usage_error ("--version '%s': must be 1-64 of [A-Za-z0-9._+-]", version);
    char err[512];
    if (rc_fetch_check (url, sha, err, sizeof err) != 0)
        return s_usage_error ("%s", err);
    Rollclone__Instruction inst = ROLLCLONE__INSTRUCTION__INIT;
    inst.action = ROLLCLONE__ACTION__ACTION_UPDATE;
    inst.app = (char *)app_name;
    inst.version = (char *)version;
    inst.artifact_url = (char *)url;
    inst.sha256 = (char *)sha;
    inst.soak_ms = (uint32_t)soak;
    inst.health_timeout_ms = (uint32_t)health_timeout;
    return s_run_step (cfg, &inst);
}

static int
s_rollback (const rc_config_t *cfg, int argc, char **argv)
{
    const char *app_name = NULL, *to = "";
    int64_t soak = 0, health_timeout = 0;
    /* --soak and --health-timeout: as for apply (an extension of the
       contract's `rollback --app APP [--to VERSION]`) */
    static const struct option options[] = {
        {"app", required_argument, NULL, 'a'},
        {"to", required_argument, NULL, 't'},
        {"soak", required_argument, NULL, 'k'},
        {"health-timeout", required_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (opt == 'a')
            app_name = optarg;
        else if (opt == 't')
            to = optarg;
        else if (opt == 'k') {
            if (s_duration ("soak", optarg, &soak))
                return RC_EXIT_USAGE;
        }
        else if (opt == 'h') {
            if (s_duration ("health-timeout", optarg, &health_timeout))
                return RC_EXIT_USAGE;
        }
        else
            return s_usage_error ("rollback: unknown option");
    }
    if (optind < argc)
        return s_usage_error ("rollback: unexpected argument '%s'", argv[optind]);
    const rc_app_config_t *app = s_app (cfg, app_name);
    if (!app)
        return RC_EXIT_USAGE;
    if (*to && !rc_name_valid (to))
        return s_usage_error ("--to '%s': must be 1-64 of [A-Za-z0-9._+-]", to);
    char *points[1];
    if (*to && !rc_releases_exists (app->releases_dir, to))
        return s_usage_error ("--to '%s': not a release of app %s", to, app->name);
    if (!*to) {
        if (rc_releases_points (app->releases_dir, points, 1) == 0)
            return s_usage_error ("rollback: app %s has no rollback point", app->name);
        free (points[0]);
    }
    Rollclone__Instruction inst = ROLLCLONE__INSTRUCTION__INIT;
    inst.action = ROLLCLONE__ACTION__ACTION_ROLLBACK;
    inst.app = (char *)app_name;
    inst.version = (char *)to;
    inst.artifact_url = "";
    inst.sha256 = "";
    inst.soak_ms = (uint32_t)soak;
    inst.health_timeout_ms = (uint32_t)health_timeout;
    return s_run_step (cfg, &inst);
}

static int
s_releases (const rc_config_t *cfg, int argc, char **argv)
{
    const char *app_name = NULL;
    bool json = false;
    static const struct option options[] = {
        {"app", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (opt == 'a')
            app_name = optarg;
        else if (opt == 'j')
            json = true;
        else
            return s_usage_error ("releases: unknown option");
    }
    const rc_app_config_t *app = s_app (cfg, app_name);
    if (!app)
        return RC_EXIT_USAGE;
    char *current = rc_releases_current (app->releases_dir);
    char *points[S_MAX_POINTS];
    size_t n = rc_releases_points (app->releases_dir, points, S_MAX_POINTS);
    /* a step journaled but not finished: in progress elsewhere, or left by
       a crash and undone at the next start */
    bool in_flight = rc_journal_in_flight (cfg->state_dir, app->name);
    int rc = RC_EXIT_OK;
    if (json) {
        json_t *list = json_array ();
        for (size_t i = 0; list && i < n; i++)
            if (json_array_append_new (list, json_string (points[i])) != 0) {
                json_decref (list);
                list = NULL;
            }
        /* "s:o" takes list even when the pack fails; NULL list fails it */
        json_t *obj =
            list ? json_pack ("{s:s, s:s?, s:o, s:b}", "app", app->name, "current", current,
                              "rollback_points", list, "step_in_flight", in_flight)
                 : NULL;
        char *text = obj ? json_dumps (obj, JSON_INDENT (2)) : NULL;
        if (text)
            printf ("%s\n", text);
        else {
            fprintf (stderr, "rollclone-agent: releases: cannot build the JSON answer\n");
            rc = RC_EXIT_FAILED;
        }
        free (text);
        json_decref (obj);
    }
    else {
        printf ("%s\tcurrent\n", current ? current : "-");
        for (size_t i = 0; i < n; i++)
            printf ("%s\trollback point\n", points[i]);
        if (in_flight)
            printf ("(a step is in flight or was interrupted: undone at the next agent start)\n");
    }
    for (size_t i = 0; i < n; i++)
        free (points[i]);
    free (current);
    return rc;
}

/* Starts the executor, which undoes any interrupted step, and waits until
   no app is busy. Exit 1 when a step could not be put back. */
static int
s_recover (const rc_config_t *cfg, int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return s_usage_error ("recover: takes no arguments");
    char err[PATH_MAX + 256];
    zactor_t *exec = rc_executor_new (cfg, err, sizeof err);
    if (!exec) {
        fprintf (stderr, "rollclone-agent: cannot start the executor: %s\n", err);
        return RC_EXIT_FAILED;
    }
    int rc = RC_EXIT_OK;
    zpoller_t *poller = zpoller_new (exec, NULL);
    bool busy = true;
    while (busy) {
        zstr_send (exec, "STATE");
        bool answered = false;
        while (!answered) {
            zmsg_t *msg = zmsg_recv (exec);
            if (!msg)
                break;
            char *command = zmsg_popstr (msg);
            zframe_t *frame = zmsg_pop (msg);
            if (command && frame && streq (command, "REPORT")) {
                Rollclone__StepReport *r =
                    rollclone__step_report__unpack (NULL, zframe_size (frame), zframe_data (frame));
                if (r) {
                    s_print_report (r);
                    if (r->result == ROLLCLONE__STEP_REPORT__RESULT__FAILED_DIRTY)
                        rc = RC_EXIT_FAILED;
                    rollclone__step_report__free_unpacked (r, NULL);
                }
            }
            else if (command && frame && streq (command, "STATE")) {
                answered = true;
                Rollclone__Heartbeat *hb =
                    rollclone__heartbeat__unpack (NULL, zframe_size (frame), zframe_data (frame));
                busy = false;
                for (size_t i = 0; hb && i < hb->n_apps; i++)
                    busy |= hb->apps[i]->busy;
                rollclone__heartbeat__free_unpacked (hb, NULL);
            }
            free (command);
            zframe_destroy (&frame);
            zmsg_destroy (&msg);
        }
        if (!answered)
            break;
        if (busy)
            zpoller_wait (poller, RC_LOCAL_STATE_POLL_MS);
    }
    zpoller_destroy (&poller);
    zactor_destroy (&exec);
    return rc;
}

int
rc_agent_local_main (const rc_config_t *cfg, int argc, char **argv)
{
    /* our report lines are the output; the daemon's log lines would repeat
       them (with -v they are shown) */
    if (!rc_log_verbose ())
        zsys_set_logstream (NULL);
    optind = 1;
    const char *command = argv[0];
    if (streq (command, "apply"))
        return s_apply (cfg, argc, argv);
    if (streq (command, "rollback"))
        return s_rollback (cfg, argc, argv);
    if (streq (command, "releases"))
        return s_releases (cfg, argc, argv);
    if (streq (command, "recover"))
        return s_recover (cfg, argc, argv);
    fprintf (stderr, "rollclone-agent: unknown command '%s' (apply, rollback, releases, recover)\n",
             command);
    return RC_EXIT_USAGE;
}
