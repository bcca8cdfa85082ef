/*  slots.c - the slot state of an app with [app] slots (slots.h): which
    slot serves, which release runs warm on the other until when, the
    per-slot release links and the hook environment naming a slot. */
#include "slots.h"
#include "rc_log.h"
#include "releases.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
rc_slots_load (rc_journal_t *journal, const char *app, rc_slots_t *out)
{
    memset (out, 0, sizeof *out);
    Rollclone__AppState *st = rc_journal_read_slots (journal, app);
    if (!st) {
        if (*rc_journal_errmsg (journal))
            rc_log_error ("app %s: slot state %s: taken as none", app, rc_journal_errmsg (journal));
        return;
    }
    out->serving = st->slot;
    snprintf (out->warm_version, sizeof out->warm_version, "%s", st->warm_version);
    out->warm_until_ms = *out->warm_version ? st->warm_until_ms : 0;
    rollclone__app_state__free_unpacked (st, NULL);
}

int
rc_slots_save (rc_journal_t *journal, const char *app, const rc_slots_t *slots)
{
    Rollclone__AppState st = ROLLCLONE__APP_STATE__INIT;
    st.app = (char *)app;
    st.slot = slots->serving;
    st.warm_version = (char *)slots->warm_version;
    st.warm_until_ms = *slots->warm_version ? slots->warm_until_ms : 0;
    int rc = rc_journal_write_slots (journal, app, &st);
    if (rc != 0)
        rc_log_error ("app %s: cannot write the slot state: %s", app, rc_journal_errmsg (journal));
    return rc;
}

unsigned
rc_slots_idle (const rc_slots_t *slots)
{
    return slots->serving == 1 ? 2 : 1;
}

bool
rc_slots_warm (const rc_slots_t *slots, const char *version, int64_t now_ms)
{
    return *slots->warm_version && strcmp (slots->warm_version, version) == 0
           && now_ms < slots->warm_until_ms;
}

unsigned
rc_slots_port (const rc_app_config_t *app, unsigned slot)
{
    return slot >= 1 && slot <= app->slot_count ? app->slot_ports[slot - 1] : 0;
}

int64_t
rc_slots_warm_at (const rc_slots_t *slots, int64_t keep_warm_ms, int64_t now_wall, int64_t now_mono)
{
    if (!*slots->warm_version)
        return INT64_MAX;
    int64_t left = slots->warm_until_ms - now_wall;
    if (left < 0)
        left = 0;
    if (left > keep_warm_ms)
        left = keep_warm_ms;
    return now_mono + left;
}

void
rc_slots_dir (const char *dir, unsigned slot, char *buf, size_t len)
{
    snprintf (buf, len, "%s/slot%u", dir, slot);
}

int
rc_slots_link (const char *dir, unsigned slot, const char *version, char *err, size_t errlen)
{
    char name[16];
    snprintf (name, sizeof name, "slot%u", slot);
    return rc_releases_link (dir, name, version, err, errlen);
}

void
rc_slots_env (const rc_app_config_t *app, unsigned slot, char **env, size_t *at)
{
    if (!slot || slot > app->slot_count)
        return;
    char dir[PATH_MAX];
    rc_slots_dir (app->releases_dir, slot, dir, sizeof dir);
    if (asprintf (&env[(*at)++], "ROLLCLONE_SLOT=%u", slot) < 0
        || asprintf (&env[(*at)++], "ROLLCLONE_PORT=%u", rc_slots_port (app, slot)) < 0
        || asprintf (&env[(*at)++], "ROLLCLONE_SLOT_DIR=%s", dir) < 0)
        abort (); /* out of memory in the middle of a step: nothing safe to do */
}

rc_child_t *
rc_slots_stop_start (const rc_app_config_t *app, const rc_slots_t *slots, char **env, char *err,
                     size_t errlen)
{
    unsigned slot = rc_slots_idle (slots);
    char release[PATH_MAX];
    rc_releases_path (app->releases_dir, slots->warm_version, release, sizeof release);
    size_t at = 0;
    if (asprintf (&env[at++], "ROLLCLONE_APP=%s", app->name) < 0
        || asprintf (&env[at++], "ROLLCLONE_VERSION=%s", slots->warm_version) < 0
        || asprintf (&env[at++], "ROLLCLONE_RELEASE_DIR=%s", release) < 0
        || asprintf (&env[at++], "ROLLCLONE_PHASE=stop") < 0)
        abort (); /* out of memory: nothing safe to do */
    rc_slots_env (app, slot, env, &at);
    env[at] = NULL;
    const char *cwd =
        rc_releases_exists (app->releases_dir, slots->warm_version) ? release : app->releases_dir;
    rc_child_opts_t opts =
        rc_child_shell (app->stop, (const char *const *)env, cwd, app->user, app->hook_timeout_ms);
    return rc_child_new (&opts, err, errlen);
}

void
rc_slots_env_free (char **env, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free (env[i]);
        env[i] = NULL;
    }
}
