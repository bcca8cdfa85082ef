/*  keyring.c - a set of admitted public keys. czmq's zcertstore would do the
    reading, but it re-scans the directory on every lookup and the server
    checks the key of every message; this set is re-read only on SIGHUP. */
#include "keyring.h"
#include "rc_keys.h"

#include <assert.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

struct _rc_keyring_t {
    char *dir;             /* where the key files are */
    zhashx_t *keys;        /* Z85 public key -> file name */
    struct timespec mtime; /* the directory's, when last read */
};

rc_keyring_t *
rc_keyring_new (const char *dir)
{
    rc_keyring_t *self = (rc_keyring_t *)zmalloc (sizeof (rc_keyring_t));
    self->dir = strdup (dir);
    self->keys = zhashx_new ();
    if (!self->dir || !self->keys) {
        rc_keyring_destroy (&self);
        return NULL;
    }
    rc_keyring_reload (self);
    return self;
}

void
rc_keyring_destroy (rc_keyring_t **self_p)
{
    if (self_p && *self_p) {
        rc_keyring_t *self = *self_p;
        zhashx_destroy (&self->keys);
        free (self->dir);
        free (self);
        *self_p = NULL;
    }
}

size_t
rc_keyring_reload (rc_keyring_t *self)
{
    struct stat st;
    if (stat (self->dir, &st) == 0)
        self->mtime = st.st_mtim;
    zhashx_t *keys = zhashx_new ();
    zhashx_set_destructor (keys, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_duplicator (keys, (zhashx_duplicator_fn *)strdup);
    DIR *dir = opendir (self->dir);
    if (dir) {
        struct dirent *entry;
        while ((entry = readdir (dir))) {
            if (entry->d_name[0] == '.')
                continue;
            char path[PATH_MAX];
            snprintf (path, sizeof path, "%s/%s", self->dir, entry->d_name);
            char pub[RC_Z85_KEY_LEN + 1], err[256];
            /* a file that is not a key is skipped, never fatal: the
               directory is the operator's to fill */
            if (rc_keys_load_public (path, pub, err, sizeof err) == 0)
                zhashx_update (keys, pub, entry->d_name);
        }
        closedir (dir);
    }
    zhashx_destroy (&self->keys);
    self->keys = keys;
    return zhashx_size (keys);
}

bool
rc_keyring_has (rc_keyring_t *self, const char *z85_public_key)
{
    return z85_public_key && zhashx_lookup (self->keys, z85_public_key) != NULL;
}

bool
rc_keyring_changed (rc_keyring_t *self)
{
    struct stat st;
    if (stat (self->dir, &st) != 0)
        return false;
    return st.st_mtim.tv_sec != self->mtime.tv_sec || st.st_mtim.tv_nsec != self->mtime.tv_nsec;
}

size_t
rc_keyring_size (rc_keyring_t *self)
{
    return zhashx_size (self->keys);
}

void
rc_keyring_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_keyring_test.XXXXXX";
    assert (mkdtemp (dir));
    rc_keyring_t *ring = rc_keyring_new (dir);
    assert (ring && rc_keyring_size (ring) == 0);
    char path[300], err[256];
    snprintf (path, sizeof path, "%s/a.key", dir);
    assert (rc_keys_generate (path, err, sizeof err) == 0);
    char pub[RC_Z85_KEY_LEN + 1];
    assert (rc_keys_load_public (path, pub, err, sizeof err) == 0);
    assert (!rc_keyring_has (ring, pub));
    assert (rc_keyring_changed (ring));
    /* the secret file holds the same public key: still one key */
    assert (rc_keyring_reload (ring) == 1);
    assert (rc_keyring_has (ring, pub));
    assert (!rc_keyring_changed (ring));
    assert (!rc_keyring_has (ring, NULL));
    FILE *f = fopen (path, "w");
    fputs ("garbage\n", f);
    fclose (f);
    snprintf (path, sizeof path, "%s/a.key_secret", dir);
    unlink (path);
    assert (rc_keyring_reload (ring) == 0);
    rc_keyring_destroy (&ring);
    rc_keyring_destroy (&ring);
    snprintf (path, sizeof path, "%s/a.key", dir);
    unlink (path);
    rmdir (dir);
}
