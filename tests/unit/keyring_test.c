/*  keyring_test.c - the selftest of coordinator/keyring.c, with Check's ck_assert (moved out of
    the daemon's code, and holding under -DNDEBUG). */
#include "keyring.h"
#include "rc_ids.h"
#include "rc_keys.h"
#include "selftests.h"

#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

void
rc_keyring_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_keyring_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    rc_keyring_t *ring = rc_keyring_new (dir);
    ck_assert (ring && rc_keyring_size (ring) == 0);
    char path[300], err[256];
    snprintf (path, sizeof path, "%s/a.key", dir);
    ck_assert (rc_keys_generate (path, err, sizeof err) == 0);
    char pub[RC_Z85_KEY_LEN + 1];
    ck_assert (rc_keys_load_public (path, pub, err, sizeof err) == 0);
    ck_assert (!rc_keyring_has (ring, pub));
    ck_assert (rc_keyring_changed (ring));
    /* the secret file holds the same public key: still one key */
    ck_assert (rc_keyring_reload (ring) == 1);
    ck_assert (rc_keyring_has (ring, pub));
    ck_assert (!rc_keyring_changed (ring));
    ck_assert (!rc_keyring_has (ring, NULL));
    FILE *f = fopen (path, "w");
    fputs ("garbage\n", f);
    fclose (f);
    snprintf (path, sizeof path, "%s/a.key_secret", dir);
    unlink (path);
    ck_assert (rc_keyring_reload (ring) == 0);
    rc_keyring_destroy (&ring);
    rc_keyring_destroy (&ring);
    snprintf (path, sizeof path, "%s/a.key", dir);
    unlink (path);
    rmdir (dir);
}
