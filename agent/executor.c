/*  executor.c - PLACEHOLDER until issue #3 lands: answers STATE from the
    release directories on disk and refuses every STEP. */
#include "executor.h"
#include "rollclone.pb-c.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const rc_config_t *cfg;
} s_self_t;

static void
s_app_state (const rc_app_config_t *app, Rollclone__AppState *st)
{
    char link[PATH_MAX], target[PATH_MAX];
    snprintf (link, sizeof link, "%s/current", app->releases_dir);
    ssize_t n = readlink (link, target, sizeof target - 1);
    st->app = app->name;
    st->current = strdup ("");
    if (n > 0) {
        target[n] = '\0';
        const char *slash = strrchr (target, '/');
        free (st->current);
        st->current = strdup (slash ? slash + 1 : target);
    }
}

static void
s_send_state (s_self_t *self, zsock_t *pipe)
{
    Rollclone__Heartbeat hb = ROLLCLONE__HEARTBEAT__INIT;
    size_t n = self->cfg->app_count;
    Rollclone__AppState *states = calloc (n ? n : 1, sizeof *states);
    Rollclone__AppState **ptrs = calloc (n ? n : 1, sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        rollclone__app_state__init (&states[i]);
        s_app_state (&self->cfg->apps[i], &states[i]);
        ptrs[i] = &states[i];
    }
    hb.healthy = true;
    hb.n_apps = n;
    hb.apps = ptrs;
    zframe_t *frame = zframe_new (NULL, rollclone__heartbeat__get_packed_size (&hb));
    rollclone__heartbeat__pack (&hb, zframe_data (frame));
    zstr_sendm (pipe, "STATE");
    zframe_send (&frame, pipe, 0);
    for (size_t i = 0; i < n; i++)
        free (states[i].current);
    free (states);
    free (ptrs);
}

static void
s_actor (zsock_t *pipe, void *args)
{
    s_self_t self = {.cfg = (const rc_config_t *) args};
    zsock_signal (pipe, 0);
    while (true) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg)
            break;
        char *command = zmsg_popstr (msg);
        bool term = command && streq (command, "$TERM");
        if (command && streq (command, "STATE"))
            s_send_state (&self, pipe);
        free (command);
        zmsg_destroy (&msg);
        if (term)
            break;
    }
}

zactor_t *
rc_executor_new (const rc_config_t *cfg)
{
    return zactor_new (s_actor, (void *) cfg);
}

void
rc_executor_test (bool verbose)
{
    (void) verbose;
}
