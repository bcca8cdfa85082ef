/*  rc_steprec.c - test tool: prints the step record an agent keeps in
    state_dir/steps/<app>.pb (a packed StepRecord), so end-to-end tests can
    see which phase a step is in. `rc_steprec FILE` prints one "key value"
    line per field; `rc_steprec FILE phase` only the phase's name. Exit 1
    when there is no record or it is refused (cut short, garbage). */
#include "journal.h"
#include "step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main (int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf (stderr, "usage: rc_steprec FILE [phase]\n");
        return 2;
    }
    FILE *f = fopen (argv[1], "rb");
    if (!f)
        return 1;
    static unsigned char data[RC_STEP_RECORD_MAX + 1];
    size_t len = fread (data, 1, sizeof data, f);
    fclose (f);
    char err[256];
    Rollclone__StepRecord *rec = rc_journal_record_decode (data, len, NULL, err, sizeof err);
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
