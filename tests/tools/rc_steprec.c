/*  rc_steprec.c - test tool: prints the step record an agent keeps in
    state_dir/steps/<app>.pb (a packed StepRecord), so end-to-end tests can
    see which phase a step is in. `rc_steprec FILE` prints one "key value"
    line per field; `rc_steprec FILE phase` only the phase's name. Exit 1
    when there is no record or it is refused (cut short, garbage).
    `rc_steprec --phases FILE...` prints "FILE PHASE" for each (PHASE "-"
    when there is none), always exit 0: one process for a whole fleet, which
    a test polling several agents needs under ASan, where each start costs. */
#include "journal.h"
#include "step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The record in path, or NULL (err says why). */
static Rollclone__StepRecord *
s_read (const char *path, char *err, size_t errlen)
{
    static unsigned char data[RC_STEP_RECORD_MAX + 1];
    FILE *f = fopen (path, "rb");
    if (!f) {
        snprintf (err, errlen, "no record");
        return NULL;
    }
    size_t len = fread (data, 1, sizeof data, f);
    fclose (f);
    return rc_journal_record_decode (data, len, NULL, err, errlen);
}

int
main (int argc, char **argv)
{
    char err[256];
    if (argc >= 2 && strcmp (argv[1], "--phases") == 0) {
        for (int i = 2; i < argc; i++) {
            Rollclone__StepRecord *rec = s_read (argv[i], err, sizeof err);
            printf ("%s %s\n", argv[i], rec ? rc_phase_name ((rc_phase_t)rec->phase) : "-");
            rc_journal_record_free (&rec);
        }
        return 0;
    }
    if (argc < 2 || argc > 3) {
        fprintf (stderr, "usage: rc_steprec FILE [phase] | rc_steprec --phases FILE...\n");
        return 2;
    }
    Rollclone__StepRecord *rec = s_read (argv[1], err, sizeof err);
    if (!rec) {
        fprintf (stderr, "rc_steprec: %s: %s\n", argv[1], err);
        return 1;
    }
    const char *phase = rc_phase_name ((rc_phase_t)rec->phase);
    if (argc == 3 && strcmp (argv[2], "phase") == 0)
        printf ("%s\n", phase);
    else
        printf ("deployment_id %s\nstep %u\napp %s\nversion %s\nprevious %s\nphase %s\n"
                "drained %d\nswitched %d\nplaced %d\naside %d\nfailed %d\ndirty %d\nerror %s\n",
                rec->deployment_id, rec->step, rec->app, rec->version, rec->previous, phase,
                rec->drained, rec->switched, rec->placed, rec->aside, rec->failed, rec->dirty,
                rec->error);
    rc_journal_record_free (&rec);
    return 0;
}
