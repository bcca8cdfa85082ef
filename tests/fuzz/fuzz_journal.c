/*  fuzz_journal.c - libFuzzer harness: what the agent reads back from its
    state_dir after a crash. The input is written as a step journal
    (steps/web.json) and as a stored report (reports/d.1.pb); both are read
    through rc_journal and the report decoded as the executor does. */
#include "journal.h"
#include "rollclone.pb-c.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static rc_journal_t *s_journal;
static char s_dir[64];

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

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_journal) {
        snprintf (s_dir, sizeof s_dir, "/tmp/rc_fuzz_journal.%d", (int)getpid ());
        char err[256];
        s_journal = rc_journal_new (s_dir, err, sizeof err);
        if (!s_journal)
            abort ();
    }
    s_put ("steps/web.json", data, size);
    json_t *rec = rc_journal_read (s_journal, "web");
    if (rec) {
        /* the fields the executor reads when it recovers */
        const char *keys[] = {"id", "version", "previous", "artifact", "phase", "error"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            (void)json_string_value (json_object_get (rec, keys[i]));
        json_decref (rec);
    }
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
