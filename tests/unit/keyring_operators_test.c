/*  keyring_operators_test.c - the operators' keyring: names from key file
    names, keys that may only read, a key in both directories read-only. */
#include "keyring.h"
#include "rc_keys.h"
#include "selftests.h"

#include <check.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void
s_key (const char *dir, const char *file, char *pub)
{
    char path[400], err[256];
    snprintf (path, sizeof path, "%s/%s", dir, file);
    ck_assert_int_eq (rc_keys_generate (path, err, sizeof err), 0);
    ck_assert_int_eq (rc_keys_load_public (path, pub, err, sizeof err), 0);
}

void
rc_keyring_operators_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_keyring_ops.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char rw[300], ro[300], cmd[700];
    snprintf (rw, sizeof rw, "%s/operators", dir);
    snprintf (ro, sizeof ro, "%s/readers", dir);
    ck_assert_int_eq (mkdir (rw, 0700), 0);
    ck_assert_int_eq (mkdir (ro, 0700), 0);
    char alice[RC_Z85_KEY_LEN + 1], bob[RC_Z85_KEY_LEN + 1], carol[RC_Z85_KEY_LEN + 1];
    s_key (rw, "alice.key", alice); /* with alice.key_secret beside it */
    s_key (ro, "bob", bob);
    s_key (rw, "carol w.pub", carol);
    /* carol is demoted: her key is in the read-only directory too */
    snprintf (cmd, sizeof cmd, "cp '%s/carol w.pub' '%s/carol'", rw, ro);
    ck_assert_int_eq (system (cmd), 0);

    rc_keyring_t *ring = rc_keyring_new_operators (rw, ro);
    ck_assert_ptr_nonnull (ring);
    ck_assert_uint_eq (rc_keyring_size (ring), 3);
    ck_assert_str_eq (rc_keyring_name (ring, alice), "alice");
    ck_assert (!rc_keyring_read_only (ring, alice));
    ck_assert_str_eq (rc_keyring_name (ring, bob), "bob");
    ck_assert (rc_keyring_read_only (ring, bob));
    ck_assert (rc_keyring_read_only (ring, carol));
    ck_assert_str_eq (rc_keyring_name (ring, carol), "carol");
    ck_assert_ptr_null (rc_keyring_name (ring, "nobody"));
    ck_assert (!rc_keyring_read_only (ring, NULL));
    ck_assert (!rc_keyring_changed (ring));
    /* bob leaves: noticed, and gone after the reload */
    char path[400];
    snprintf (path, sizeof path, "%s/bob", ro);
    ck_assert_int_eq (unlink (path), 0);
    snprintf (path, sizeof path, "%s/bob_secret", ro);
    ck_assert_int_eq (unlink (path), 0);
    ck_assert_uint_eq (rc_keyring_reload (ring), 2);
    ck_assert (!rc_keyring_has (ring, bob));
    rc_keyring_destroy (&ring);

    /* a plain ring (agents) has no read-only keys and the old names */
    ring = rc_keyring_new (rw);
    ck_assert_uint_eq (rc_keyring_size (ring), 2);
    ck_assert (!rc_keyring_read_only (ring, carol));
    ck_assert_str_eq (rc_keyring_name (ring, carol), "carol_w");
    rc_keyring_destroy (&ring);
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}
