/*  fuzz_journal.c - libFuzzer harness: what the agent reads back from its
    state_dir after a crash. The input is written as the step record
    (steps/web.pb, a StepRecord), read through rc_journal (size bound,
    decoder, end mark, app, phase and action checks) and, when accepted,
    turned into the step the executor would undo (rc_step_recover: name
    checks, defaults). The same bytes then go through the legacy path
    (steps/web.json of an older agent, read once) and as a stored report
    (reports/d.1.pb), decoded as the executor does. The seeds in
    corpus/journal are whole records of several phases and actions, so the
    mutations start deep in the decoder. */
#include "journal.h"
#include "rollclone.pb-c.h"
#include "step.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static rc_journal_t *s_journal;
static char s_dir[64], s_releases[96];
static rc_app_config_t s_app;

static void
s_put (const char *name, const uint8_t *data, size_t size)
{
    char path[128];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen (path, "wb");
    if (!f)
        abort ();
    fwrite (data, 1, size, f);
    fclose (f);
}

static void
s_report (rc_step_t *step, Rollclone__StepReport__Result result, void *arg)
{
    (void)step;
    (void)result;
    (void)arg;
}

/* The record as the executor reads it at start: recovered into a step
   (never begun here: that would run hooks), then freed. */
static void
s_recover (void)
{
    rc_step_env_t env = {.cfg = &s_app, .journal = s_journal, .report = s_report};
    rc_step_t *step = rc_step_recover (&env, -1);
    if (step) {
        /* what the reports and the hook environment would read */
        (void)rc_phase_name (step->phase);
        (void)rc_step_reverting (step);
        rc_step_destroy (&step);
    }
    rc_journal_clear (s_journal, "web");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_journal) {
        snprintf (s_dir, sizeof s_dir, "/tmp/rc_fuzz_journal.%d", (int)getpid ());
        snprintf (s_releases, sizeof s_releases, "%s/srv", s_dir);
        char err[256];
        s_journal = rc_journal_new (s_dir, err, sizeof err);
        if (!s_journal)
            abort ();
        s_app.name = "web";
        s_app.releases_dir = s_releases;
    }
    s_put ("steps/web.pb", data, size);
    s_recover ();
    /* LEGACY: the JSON record of an agent before issue 10 */
    s_put ("steps/web.json", data, size);
    s_recover ();
    s_put ("reports/d.1.pb", data, size);
    zframe_t *frame = rc_journal_find_report (s_journal, "d", 1);
    if (frame) {
        Rollclone__StepReport *r =
            rollclone__step_report__unpack (NULL, zframe_size (frame), zframe_data (frame));
        if (r)
            rollclone__step_report__free_unpacked (r, NULL);
        zframe_destroy (&frame);
    }
    return 0;
}
