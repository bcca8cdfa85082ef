/*  keyring.c - a set of admitted public keys. czmq's zcertstore would do the
    reading, but it re-scans the directory on every lookup and the server
    checks the key of every message; this set is re-read only on SIGHUP
    (or when a directory changed and an unknown key knocks). */
#include "keyring.h"
#include "rc_ids.h"
#include "rc_keys.h"

#include <ctype.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

/* The directories of one ring: the keys with every right, and (operators
   only) the keys that may only read. */
#define S_DIRS 2

typedef struct {
    char name[RC_NAME_MAX + 1]; /* the file's name, without extension */
    bool read_only;
} s_key_t;

struct _rc_keyring_t {
    char *dirs[S_DIRS];            /* where the key files are; [1] may be NULL */
    zhashx_t *keys;                /* Z85 public key -> s_key_t */
    struct timespec mtime[S_DIRS]; /* each directory's, when last read */
};

rc_keyring_t *
rc_keyring_new_operators (const char *dir, const char *read_only_dir)
{
    rc_keyring_t *self = (rc_keyring_t *)zmalloc (sizeof (rc_keyring_t));
    self->dirs[0] = strdup (dir);
    self->dirs[1] = read_only_dir ? strdup (read_only_dir) : NULL;
    self->keys = zhashx_new ();
    if (!self->dirs[0] || (read_only_dir && !self->dirs[1]) || !self->keys) {
        rc_keyring_destroy (&self);
        return NULL;
    }
    rc_keyring_reload (self);
    return self;
}

rc_keyring_t *
rc_keyring_new (const char *dir)
{
    return rc_keyring_new_operators (dir, NULL);
}

void
rc_keyring_destroy (rc_keyring_t **self_p)
{
    if (self_p && *self_p) {
        rc_keyring_t *self = *self_p;
        zhashx_destroy (&self->keys);
        for (int i = 0; i < S_DIRS; i++)
            free (self->dirs[i]);
        free (self);
        *self_p = NULL;
    }
}

/* A key file's name as an operator's name: "alice.key" and
   "alice.key_secret" are "alice"; what a name may not hold becomes '_'. */
static void
s_key_name (const char *file, char *name, size_t len)
{
    snprintf (name, len, "%s", file);
    size_t n = strlen (name);
    const char *suffix = "_secret";
    if (n > strlen (suffix) && streq (name + n - strlen (suffix), suffix))
        name[n - strlen (suffix)] = '\0';
    char *dot = strrchr (name, '.');
    if (dot && dot != name)
        *dot = '\0';
    for (char *c = name; *c; c++)
        if (!isalnum ((unsigned char)*c) && !strchr ("._+-", *c))
            *c = '_';
}

/* Adds the keys of dir; a key seen already keeps its entry unless this
   one is read-only, and a public file names it over its secret file. */
static void
s_read_dir (zhashx_t *keys, const char *path_dir, bool read_only)
{
    DIR *dir = opendir (path_dir);
    if (!dir)
        return;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name[0] == '.')
            continue;
        char path[PATH_MAX];
        snprintf (path, sizeof path, "%s/%s", path_dir, entry->d_name);
        char pub[RC_Z85_KEY_LEN + 1], err[256];
        /* a file that is not a key is skipped, never fatal: the directory
           is the operator's to fill */
        if (rc_keys_load_public (path, pub, err, sizeof err) != 0)
            continue;
        s_key_t *key = (s_key_t *)zhashx_lookup (keys, pub);
        bool secret_file = strstr (entry->d_name, "_secret") != NULL;
        if (key && !(read_only && !key->read_only) && secret_file)
            continue;
        if (!key) {
            key = (s_key_t *)zmalloc (sizeof *key);
            zhashx_insert (keys, pub, key);
        }
        if (read_only && !key->read_only) {
            key->read_only = true;
            s_key_name (entry->d_name, key->name, sizeof key->name);
        }
        else if (!*key->name || !secret_file)
            s_key_name (entry->d_name, key->name, sizeof key->name);
    }
    closedir (dir);
}

size_t
rc_keyring_reload (rc_keyring_t *self)
{
    zhashx_t *keys = zhashx_new ();
    zhashx_set_destructor (keys, (zhashx_destructor_fn *)zstr_free);
    for (int i = 0; i < S_DIRS; i++) {
        if (!self->dirs[i])
            continue;
        struct stat st;
        if (stat (self->dirs[i], &st) == 0)
            self->mtime[i] = st.st_mtim;
        s_read_dir (keys, self->dirs[i], i == 1);
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

const char *
rc_keyring_name (rc_keyring_t *self, const char *z85_public_key)
{
    s_key_t *key = z85_public_key ? (s_key_t *)zhashx_lookup (self->keys, z85_public_key) : NULL;
    return key ? key->name : NULL;
}

bool
rc_keyring_read_only (rc_keyring_t *self, const char *z85_public_key)
{
    s_key_t *key = z85_public_key ? (s_key_t *)zhashx_lookup (self->keys, z85_public_key) : NULL;
    return key && key->read_only;
}

bool
rc_keyring_changed (rc_keyring_t *self)
{
    for (int i = 0; i < S_DIRS; i++) {
        struct stat st;
        if (!self->dirs[i] || stat (self->dirs[i], &st) != 0)
            continue;
        if (st.st_mtim.tv_sec != self->mtime[i].tv_sec
            || st.st_mtim.tv_nsec != self->mtime[i].tv_nsec)
            return true;
    }
    return false;
}

size_t
rc_keyring_size (rc_keyring_t *self)
{
    return zhashx_size (self->keys);
}
