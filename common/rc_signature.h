/*  rc_signature.h - signed artifacts: ed25519 signing key files (libsodium),
    and the detached signature of one artifact, bound to its sha256, its
    version and (optionally) its app. `rollclone keygen --signing` and
    `rollclone sign` make them; an agent with `trusted_signers` checks them.

    Files are text, one `name: value` per line, `#` comments:
      PATH         public-key: <64 hex>                  (the signer's id)
      PATH_secret  secret-key: <64 hex: the ed25519 seed>, public-key (0600)
      ARTIFACT.sig rollclone-signature-v1, then key, app, version, sha256,
                   signature (128 hex) lines.
    The signed message is built from the parsed fields, never taken from the
    file's bytes:
      "rollclone-artifact-v1\napp=<app>\nversion=<version>\nsha256=<hex>\n"
    where app and version are a name or "*" (any). */
#ifndef RC_SIGNATURE_H
#define RC_SIGNATURE_H

#include "rc_defaults.h"
#include <stdbool.h>
#include <stddef.h>

#define RC_SIGNATURE_KEY_BYTES 32
#define RC_SIGNATURE_SECRET_BYTES 64
#define RC_SIGNATURE_BYTES 64
#define RC_SIGNATURE_SHA256_HEX 64
/* A .sig file, or a key file, is never larger than this. */
#define RC_SIGNATURE_FILE_MAX 4096
/* "Any app" / "any version" in a signature. */
#define RC_SIGNATURE_ANY "*"

typedef struct {
    unsigned char key[RC_SIGNATURE_KEY_BYTES]; /* the signer's public key */
    char app[RC_NAME_MAX + 1];                 /* a name or "*" */
    char version[RC_NAME_MAX + 1];             /* a name or "*" */
    char sha256[RC_SIGNATURE_SHA256_HEX + 1];  /* lower case */
    unsigned char sig[RC_SIGNATURE_BYTES];
} rc_signature_t;

/* Writes a new pair: path (public) and path_secret (mode 0600); refuses to
   overwrite either. 0, or -1 with the reason in err. */
int rc_signature_keygen (const char *path, char *err, size_t errlen);

/* Reads a public key file (a secret file is refused). 0 or -1 + err. */
int rc_signature_load_public (const char *path, unsigned char key[RC_SIGNATURE_KEY_BYTES],
                              char *err, size_t errlen);

/* Reads a secret key file into libsodium's 64-byte secret key. */
int rc_signature_load_secret (const char *path, unsigned char sk[RC_SIGNATURE_SECRET_BYTES],
                              char *err, size_t errlen);

/* sha256 of a regular file, as 64 lower-case hex digits. 0 or -1 + err. */
int rc_signature_file_sha256 (const char *path, char hex[RC_SIGNATURE_SHA256_HEX + 1], char *err,
                              size_t errlen);

/* Signs (app, version, sha256): app and version a name or NULL/"" for any.
   Returns the .sig text (caller frees), or NULL with err. */
char *rc_signature_sign (const unsigned char sk[RC_SIGNATURE_SECRET_BYTES], const char *app,
                         const char *version, const char *sha256, char *err, size_t errlen);

/* Parses .sig text (len bytes, need not be terminated). 0 or -1 + err. */
int rc_signature_parse (const char *text, size_t len, rc_signature_t *sig, char *err,
                        size_t errlen);

/* True when sig's signature over its own fields verifies with sig->key. */
bool rc_signature_valid (const rc_signature_t *sig);

/* Hex of a public key (65 bytes with the terminator). */
void rc_signature_key_hex (const unsigned char key[RC_SIGNATURE_KEY_BYTES], char *hex, size_t len);

#endif
