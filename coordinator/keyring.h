/*  keyring.h - the public keys admitted on one kind of socket (agents or
    operators), read from a directory of zcert public key files. */
#ifndef COORD_KEYRING_H
#define COORD_KEYRING_H

#include <czmq.h>
#include <stdbool.h>

typedef struct _rc_keyring_t rc_keyring_t;

/* Reads every zcert file in dir (a missing dir is an empty ring). */
rc_keyring_t *rc_keyring_new (const char *dir);
/* The operators' ring: keys in dir may do everything, keys in
   read_only_dir (NULL for none) may only read. A key in both is read-only:
   the smaller right wins. */
rc_keyring_t *rc_keyring_new_operators (const char *dir, const char *read_only_dir);
void rc_keyring_destroy (rc_keyring_t **self_p);

/* Reads the directory again; returns the number of keys now held. */
size_t rc_keyring_reload (rc_keyring_t *self);
bool rc_keyring_has (rc_keyring_t *self, const char *z85_public_key);
/* The name of a key: its file's name without extension or "_secret" (an
   operator "alice" for operators/alice.key), NULL when not held. */
const char *rc_keyring_name (rc_keyring_t *self, const char *z85_public_key);
/* Whether the key came from the read-only directory (false when not held). */
bool rc_keyring_read_only (rc_keyring_t *self, const char *z85_public_key);
size_t rc_keyring_size (rc_keyring_t *self);
/* True when a directory was modified since it was last read (a file
   added or removed): a cheap stat, for re-reading only when needed. */
bool rc_keyring_changed (rc_keyring_t *self);

void rc_keyring_test (bool verbose);

#endif
