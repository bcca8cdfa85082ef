/*  rc_keys.h - CURVE key pairs in czmq's zcert format, and the socket set-up
    that makes every rollclone socket encrypted and authenticated. */
#ifndef RC_KEYS_H
#define RC_KEYS_H

#include <czmq.h>
#include <stdbool.h>

#define RC_Z85_KEY_LEN 40

/* Writes PATH (public) and PATH_secret (mode 0600). Refuses to overwrite an
   existing key. Returns 0, or -1 with a reason in err. */
int rc_keys_generate (const char *path, char *err, size_t errlen);

/* Loads a key pair for our own side from PATH or PATH_secret. The secret half
   must be present. Returns the cert (caller destroys) or NULL with err. */
zcert_t *rc_keys_load_secret (const char *path, char *err, size_t errlen);

/* Reads a peer's public key: either 40 characters of Z85 given inline, or the
   path of a zcert public file. Writes Z85 into out. */
int rc_keys_load_public (const char *text_or_path, char out[RC_Z85_KEY_LEN + 1], char *err,
                         size_t errlen);

/* Makes sock a CURVE server with our cert; ZAP requests carry domain. */
void rc_keys_server_socket (zsock_t *sock, zcert_t *cert, const char *domain);
/* Makes sock a CURVE client of the server whose public key is server_key. */
void rc_keys_client_socket (zsock_t *sock, zcert_t *cert, const char *server_key);

void rc_keys_test (bool verbose);

#endif
