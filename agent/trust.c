/*  trust.c - the agent's artifact policy. What a coordinator may ask for is
    decided from the app's own config only; a coordinator that was taken
    over can neither name a local file outside the allowlist nor, with
    trusted_signers, ship bytes no trusted key signed. */
#include "trust.h"
#include "rc_signature.h"
#include "rc_sources.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SECRET_SUFFIX "_secret"

bool
rc_trust_signed (const rc_app_config_t *app)
{
    return app->trusted_signers && *app->trusted_signers;
}

/* realpath(inner) is prefix's realpath or below it. */
static bool
s_inside (const char *prefix, const char *inner)
{
    char rp[PATH_MAX], ri[PATH_MAX];
    if (!realpath (prefix, rp) || !realpath (inner, ri))
        return false;
    size_t n = strlen (rp);
    if (n == 1) /* "/" */
        return true;
    return strncmp (rp, ri, n) == 0 && (ri[n] == '\0' || ri[n] == '/');
}

int
rc_trust_check_source (const rc_app_config_t *app, const char *url, const char *sha256, char *err,
                       size_t errlen)
{
    if (!sha256 || !*sha256) {
        snprintf (err, errlen, "sha256: required for every artifact from a coordinator ('%.200s')",
                  url ? url : "");
        return -1;
    }
    char matched[RC_SOURCES_URL_MAX];
    if (rc_sources_match (app->artifact_sources, url, matched, sizeof matched, err, errlen) != 0)
        return -1;
    char path[PATH_MAX], base[PATH_MAX];
    if (rc_sources_file_path (url, path, sizeof path) == 0) {
        /* a symlink inside the drop directory leads nowhere else */
        if (rc_sources_file_path (matched, base, sizeof base) != 0 || !s_inside (base, path)) {
            snprintf (err, errlen,
                      "artifact '%.300s' does not resolve to a file under %.300s "
                      "(artifact_sources = %.300s)",
                      url, matched, app->artifact_sources);
            return -1;
        }
    }
    return 0;
}

char *
rc_trust_signature_url (const char *url)
{
    size_t n = strcspn (url, "?");
    char *out = NULL;
    if (asprintf (&out, "%.*s.sig%s", (int)n, url, url + n) < 0)
        return NULL;
    return out;
}

int
rc_trust_verify (const rc_app_config_t *app, const char *path, const char *version,
                 const char *text, size_t len, char *err, size_t errlen)
{
    rc_signature_t sig;
    char why[512], sha[RC_SIGNATURE_SHA256_HEX + 1];
    if (rc_signature_parse (text, len, &sig, why, sizeof why) != 0) {
        snprintf (err, errlen, "%s", why);
        return -1;
    }
    if (rc_signature_file_sha256 (path, sha, why, sizeof why) != 0) {
        snprintf (err, errlen, "signature: %s", why);
        return -1;
    }
    if (strcmp (sig.sha256, sha) != 0) {
        snprintf (err, errlen, "signature is for sha256 %s, the artifact has %s", sig.sha256, sha);
        return -1;
    }
    if (strcmp (sig.version, RC_SIGNATURE_ANY) != 0 && strcmp (sig.version, version) != 0) {
        snprintf (err, errlen, "signature is for version %s, not %s", sig.version, version);
        return -1;
    }
    if (strcmp (sig.app, RC_SIGNATURE_ANY) != 0 && strcmp (sig.app, app->name) != 0) {
        snprintf (err, errlen, "signature is for app %s, not %s", sig.app, app->name);
        return -1;
    }
    char keyhex[2 * RC_SIGNATURE_KEY_BYTES + 1];
    rc_signature_key_hex (sig.key, keyhex, sizeof keyhex);
    DIR *dir = opendir (app->trusted_signers);
    if (!dir) {
        snprintf (err, errlen, "trusted_signers %s: %s", app->trusted_signers, strerror (errno));
        return -1;
    }
    bool trusted = false;
    struct dirent *entry;
    while (!trusted && (entry = readdir (dir))) {
        size_t n = strlen (entry->d_name);
        size_t s = strlen (S_SECRET_SUFFIX);
        /* hidden files and secret halves are not public keys */
        if (entry->d_name[0] == '.'
            || (n > s && strcmp (entry->d_name + n - s, S_SECRET_SUFFIX) == 0))
            continue;
        char file[PATH_MAX];
        unsigned char key[RC_SIGNATURE_KEY_BYTES];
        snprintf (file, sizeof file, "%s/%s", app->trusted_signers, entry->d_name);
        if (rc_signature_load_public (file, key, why, sizeof why) == 0
            && memcmp (key, sig.key, sizeof key) == 0)
            trusted = true;
    }
    closedir (dir);
    if (!trusted) {
        snprintf (err, errlen, "signed by key %s, which is not in trusted_signers %s", keyhex,
                  app->trusted_signers);
        return -1;
    }
    if (!rc_signature_valid (&sig)) {
        snprintf (err, errlen, "signature by key %s does not verify", keyhex);
        return -1;
    }
    return 0;
}
