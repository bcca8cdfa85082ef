/*  rc_keys.c - key generation and loading on top of zcert. */
#include "rc_keys.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool
s_z85_key_valid (const char *text)
{
    if (!text || strlen (text) != RC_Z85_KEY_LEN)
        return false;
    uint8_t bin[32];
    return zmq_z85_decode (bin, text) != NULL;
}

int
rc_keys_generate (const char *path, char *err, size_t errlen)
{
    char secret[PATH_MAX];
    if (snprintf (secret, sizeof secret, "%s_secret", path) >= (int)sizeof secret) {
        snprintf (err, errlen, "key path too long: %s", path);
        return -1;
    }
    if (access (path, F_OK) == 0 || access (secret, F_OK) == 0) {
        snprintf (err, errlen, "%s already exists: refusing to overwrite a key", path);
        return -1;
    }
    zcert_t *cert = zcert_new ();
    if (!cert) {
        snprintf (err, errlen, "cannot create a key pair");
        return -1;
    }
    zcert_set_meta (cert, "created-by", "rollclone %s", RC_VERSION);
    /* zcert writes with the process umask: make the secret file 0600 from
       the start instead of chmod'ing it after it was readable. */
    mode_t old = umask (077);
    int rc = zcert_save_secret (cert, secret);
    umask (022 | (old & 077));
    if (rc == 0)
        rc = zcert_save_public (cert, path);
    umask (old);
    zcert_destroy (&cert);
    if (rc != 0) {
        snprintf (err, errlen, "cannot write %s: %s", path, strerror (errno));
        unlink (secret);
        unlink (path);
        return -1;
    }
    chmod (secret, 0600);
    return 0;
}

zcert_t *
rc_keys_load_secret (const char *path, char *err, size_t errlen)
{
    if (access (path, R_OK) != 0) {
        snprintf (err, errlen, "cannot read key %s: %s", path, strerror (errno));
        return NULL;
    }
    zcert_t *cert = zcert_load (path);
    if (!cert) {
        snprintf (err, errlen, "%s is not a CURVE key file (zcert format)", path);
        return NULL;
    }
    static const uint8_t zero[32];
    if (memcmp (zcert_secret_key (cert), zero, 32) == 0) {
        snprintf (err, errlen, "%s holds no secret key (give the _secret file)", path);
        zcert_destroy (&cert);
        return NULL;
    }
    return cert;
}

int
rc_keys_load_public (const char *text_or_path, char out[RC_Z85_KEY_LEN + 1], char *err,
                     size_t errlen)
{
    if (s_z85_key_valid (text_or_path) && access (text_or_path, F_OK) != 0) {
        memcpy (out, text_or_path, RC_Z85_KEY_LEN + 1);
        return 0;
    }
    if (access (text_or_path, R_OK) != 0) {
        snprintf (err, errlen, "cannot read public key %s: %s", text_or_path, strerror (errno));
        return -1;
    }
    zcert_t *cert = zcert_load (text_or_path);
    if (!cert) {
        snprintf (err, errlen, "%s is not a CURVE public key file (zcert format)", text_or_path);
        return -1;
    }
    memcpy (out, zcert_public_txt (cert), RC_Z85_KEY_LEN + 1);
    zcert_destroy (&cert);
    return 0;
}

void
rc_keys_server_socket (zsock_t *sock, zcert_t *cert, const char *domain)
{
    zcert_apply (cert, sock);
    zsock_set_curve_server (sock, 1);
    zsock_set_zap_domain (sock, domain);
}

void
rc_keys_client_socket (zsock_t *sock, zcert_t *cert, const char *server_key)
{
    zcert_apply (cert, sock);
    zsock_set_curve_serverkey (sock, server_key);
}
