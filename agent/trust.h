/*  trust.h - which artifacts an agent accepts from a coordinator: the
    app's `artifact_sources` allowlist and a sha256 for every instruction,
    and, where the app sets `trusted_signers`, a valid ed25519 signature by
    one of the keys in that directory (see rc_signature.h). The executor
    asks here before it fetches, and again before it unpacks. */
#ifndef AGENT_TRUST_H
#define AGENT_TRUST_H

#include "rc_config.h"
#include <stdbool.h>
#include <stddef.h>

/* An instruction from a coordinator: sha256 present, url under one of the
   app's artifact_sources (default http and https only); a file:// URL must
   also resolve (symlinks followed) inside the resolved prefix. 0, or -1
   with a one-line reason naming the URL and the allowlist. */
int rc_trust_check_source (const rc_app_config_t *app, const char *url, const char *sha256,
                           char *err, size_t errlen);

/* True when the app only takes signed artifacts. */
bool rc_trust_signed (const rc_app_config_t *app);

/* Verifies the .sig text (len bytes) for the artifact file at path, which
   is installed as version of app: the signature's sha256 is the file's, its
   version and app match (or are "*"), and its key is one of the public keys
   in app->trusted_signers. 0, or -1 with the reason. */
int rc_trust_verify (const rc_app_config_t *app, const char *path, const char *version,
                     const char *sig, size_t len, char *err, size_t errlen);

/* Where the detached signature of url is fetched from: ".sig" appended to
   its path (before any query). Caller frees; NULL when out of memory. */
char *rc_trust_signature_url (const char *url);

#endif
