/*  signing.c - `rollclone sign` (keygen --signing is in fleet.c):
    artifact signing happens on the operator's (or the build's) machine,
    never on the coordinator, so a coordinator that was taken over cannot
    ship code to agents that set trusted_signers. */
#include "cli.h"
#include "rc_defaults.h"
#include "rc_signature.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
rc_cli_cmd_sign (rc_cli_t *cli, const rc_cli_opts_t *opts)
{
    (void)cli;
    const char *key = RC_CLI_OPT (opts, 'k'), *version = RC_CLI_OPT (opts, 'v');
    const char *app = RC_CLI_OPT (opts, 'a'), *output = RC_CLI_OPT (opts, 'o');
    if (!key)
        return rc_cli_usage_error (opts, "--key SECRET is required");
    const char *artifact = opts->args[0];
    if (version && !rc_name_valid (version))
        return rc_cli_bad ("sign: --version '%s' must be [A-Za-z0-9._+-]{1,%d}", version,
                           RC_NAME_MAX);
    if (app && !rc_name_valid (app))
        return rc_cli_bad ("sign: --app '%s' must be [A-Za-z0-9._+-]{1,%d}", app, RC_NAME_MAX);
    char err[PATH_MAX + 256], sha[RC_SIGNATURE_SHA256_HEX + 1];
    unsigned char sk[RC_SIGNATURE_SECRET_BYTES];
    if (rc_signature_load_secret (key, sk, err, sizeof err) != 0)
        return rc_cli_bad ("sign: --key %s", err);
    int rc = RC_EXIT_OK;
    char *text = NULL;
    if (rc_signature_file_sha256 (artifact, sha, err, sizeof err) != 0) {
        rc = rc_cli_bad ("sign: ARTIFACT %s", err);
        goto out;
    }
    text = rc_signature_sign (sk, app, version, sha, err, sizeof err);
    if (!text) {
        rc = rc_cli_bad ("sign: %s", err);
        goto out;
    }
    char dest[PATH_MAX];
    if (snprintf (dest, sizeof dest, "%s%s", output ? output : artifact, output ? "" : ".sig")
        >= (int)sizeof dest) {
        rc = rc_cli_bad ("sign: output path too long");
        goto out;
    }
    FILE *f = fopen (dest, "w");
    if (!f || fputs (text, f) < 0 || fclose (f) != 0) {
        rc = rc_cli_bad ("sign: cannot write %s", dest);
        goto out;
    }
    if (RC_CLI_OPT (opts, 'j'))
        rc_cli_print_json (rc_cli_json_signature (dest, sha, version, app));
    else
        printf ("wrote %s (sha256 %s, version %s, app %s)\n", dest, sha,
                version ? version : "* (any: pass --version to bind it)", app ? app : "*");
out:
    sodium_memzero (sk, sizeof sk);
    free (text);
    return rc;
}

char *
rc_cli_read_signature (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        rc_cli_bad ("--signature %s: cannot read it", path);
        return NULL;
    }
    char *text = calloc (1, RC_SIGNATURE_FILE_MAX + 2);
    size_t n = text ? fread (text, 1, RC_SIGNATURE_FILE_MAX + 1, f) : 0;
    fclose (f);
    if (!text || n == 0 || n > RC_SIGNATURE_FILE_MAX) {
        rc_cli_bad ("--signature %s: empty or larger than %d bytes", path, RC_SIGNATURE_FILE_MAX);
        free (text);
        return NULL;
    }
    return text;
}
