/*  fuzz_config.c - libFuzzer harness: the INI config parser, through its
    public rc_config_load on a temporary file. The first byte picks the role
    (agent, coordinator, client); a refusal must come with a reason. */
#include "rc_config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char s_path[64];

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!s_path[0]) {
        snprintf (s_path, sizeof s_path, "/tmp/rc_fuzz_config.%d.conf", (int)getpid ());
    }
    FILE *f = fopen (s_path, "wb");
    if (!f)
        abort ();
    fwrite (data + 1, 1, size - 1, f);
    fclose (f);
    rc_role_t roles[] = {RC_ROLE_AGENT, RC_ROLE_COORDINATOR, RC_ROLE_CLIENT};
    char err[1024] = "";
    rc_config_t *cfg = rc_config_load (s_path, roles[data[0] % 3], err, sizeof err);
    if (cfg)
        rc_config_destroy (&cfg);
    else if (!err[0])
        abort ();
    unlink (s_path);
    return 0;
}
