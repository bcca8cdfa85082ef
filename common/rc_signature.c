/*  rc_signature.c - ed25519 artifact signatures with libsodium. Key and
    signature files are small text files read whole (bounded) and parsed
    strictly: unknown, repeated or missing lines are errors, so a file means
    one thing only. */
#include "rc_signature.h"
#include "rc_ids.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAGIC "rollclone-signature-v1"
#define S_MESSAGE_TAG "rollclone-artifact-v1"
#define S_VALUE_MAX 256
#define S_FIELDS_MAX 8
#define S_READ_CHUNK 65536

static int
s_init (char *err, size_t errlen)
{
    if (sodium_init () < 0) {
        snprintf (err, errlen, "libsodium cannot be initialised");
        return -1;
    }
    return 0;
}

/* Reads a whole regular file of at most RC_SIGNATURE_FILE_MAX bytes into
   buf (terminated). Returns its length or -1 + err. */
static ssize_t
s_read_small (const char *path, char *buf, size_t buflen, char *err, size_t errlen)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    ssize_t n = -1;
    if (fd < 0 || fstat (fd, &st) != 0) {
        snprintf (err, errlen, "%s: cannot read: %s", path, strerror (errno));
        goto out;
    }
    if (!S_ISREG (st.st_mode) || st.st_size >= (off_t)buflen) {
        snprintf (err, errlen, "%s: not a regular file of less than %zu bytes", path, buflen);
        goto out;
    }
    n = read (fd, buf, buflen - 1);
    if (n < 0)
        snprintf (err, errlen, "%s: cannot read: %s", path, strerror (errno));
    else
        buf[n] = '\0';
out:
    if (fd >= 0)
        close (fd);
    return n;
}

/* Parses "name: value" lines of text into values[i] for names[i]; each
   name exactly once. With magic, the first line must be it. */
static int
s_fields (const char *text, size_t len, const char *magic, const char *const *names, size_t count,
          char values[][S_VALUE_MAX], const char *what, char *err, size_t errlen)
{
    bool seen[S_FIELDS_MAX] = {false};
    bool magic_seen = magic == NULL;
    size_t pos = 0, line = 0;
    while (pos < len) {
        const char *start = text + pos;
        const char *nl = memchr (start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl != NULL);
        line++;
        while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\r' || start[n - 1] == '\t'))
            n--;
        if (n == 0 || start[0] == '#')
            continue;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)start[i] < ' ' && start[i] != '\t') {
                snprintf (err, errlen, "%s: line %zu: control character", what, line);
                return -1;
            }
        if (!magic_seen) {
            if (n != strlen (magic) || memcmp (start, magic, n) != 0) {
                snprintf (err, errlen, "%s: does not start with '%s'", what, magic);
                return -1;
            }
            magic_seen = true;
            continue;
        }
        const char *colon = memchr (start, ':', n);
        size_t i = 0;
        for (; colon && i < count; i++)
            if ((size_t)(colon - start) == strlen (names[i])
                && memcmp (start, names[i], strlen (names[i])) == 0)
                break;
        if (!colon || i == count) {
            snprintf (err, errlen, "%s: line %zu: unknown line '%.*s'", what, line,
                      (int)(n > 40 ? 40 : n), start);
            return -1;
        }
        if (seen[i]) {
            snprintf (err, errlen, "%s: line %zu: '%s' given twice", what, line, names[i]);
            return -1;
        }
        const char *value = colon + 1;
        while (value < start + n && (*value == ' ' || *value == '\t'))
            value++;
        size_t vlen = (size_t)(start + n - value);
        if (vlen == 0 || vlen >= S_VALUE_MAX) {
            snprintf (err, errlen, "%s: line %zu: '%s' is empty or too long", what, line, names[i]);
            return -1;
        }
        memcpy (values[i], value, vlen);
        values[i][vlen] = '\0';
        seen[i] = true;
    }
    if (!magic_seen) {
        snprintf (err, errlen, "%s: empty", what);
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        if (!seen[i]) {
            snprintf (err, errlen, "%s: no '%s' line", what, names[i]);
            return -1;
        }
    return 0;
}

/* Exactly len bytes from hex digits. */
static int
s_unhex (const char *hex, unsigned char *bin, size_t len)
{
    size_t out = 0;
    if (strlen (hex) != 2 * len
        || sodium_hex2bin (bin, len, hex, strlen (hex), NULL, &out, NULL) != 0 || out != len)
        return -1;
    return 0;
}

void
rc_signature_key_hex (const unsigned char key[RC_SIGNATURE_KEY_BYTES], char *hex, size_t len)
{
    if (len >= 2 * RC_SIGNATURE_KEY_BYTES + 1)
        sodium_bin2hex (hex, len, key, RC_SIGNATURE_KEY_BYTES);
    else if (len)
        hex[0] = '\0';
}

static int
s_write_file (const char *path, mode_t mode, const char *text, char *err, size_t errlen)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    size_t len = strlen (text);
    if (fd < 0 || fchmod (fd, mode) != 0 || write (fd, text, len) != (ssize_t)len
        || fsync (fd) != 0) {
        snprintf (err, errlen, "cannot write %s: %s", path, strerror (errno));
        if (fd >= 0) {
            close (fd);
            unlink (path);
        }
        return -1;
    }
    close (fd);
    return 0;
}

int
rc_signature_keygen (const char *path, char *err, size_t errlen)
{
    char secret[PATH_MAX];
    if (s_init (err, errlen) != 0)
        return -1;
    if (!path || !*path
        || snprintf (secret, sizeof secret, "%s_secret", path) >= (int)sizeof secret) {
        snprintf (err, errlen, "PATH '%s': empty or too long", path ? path : "");
        return -1;
    }
    if (access (path, F_OK) == 0 || access (secret, F_OK) == 0) {
        snprintf (err, errlen, "%s already exists: refusing to overwrite a key", path);
        return -1;
    }
    unsigned char pk[RC_SIGNATURE_KEY_BYTES], sk[RC_SIGNATURE_SECRET_BYTES];
    unsigned char seed[crypto_sign_SEEDBYTES];
    crypto_sign_keypair (pk, sk);
    crypto_sign_ed25519_sk_to_seed (seed, sk);
    char pkhex[2 * RC_SIGNATURE_KEY_BYTES + 1], seedhex[2 * crypto_sign_SEEDBYTES + 1];
    sodium_bin2hex (pkhex, sizeof pkhex, pk, sizeof pk);
    sodium_bin2hex (seedhex, sizeof seedhex, seed, sizeof seed);
    char text[RC_SIGNATURE_FILE_MAX];
    snprintf (text, sizeof text,
              "# rollclone artifact signing key (ed25519), SECRET: keep it away from the\n"
              "# coordinator; `rollclone sign --key THIS_FILE ARTIFACT` uses it.\n"
              "secret-key: %s\npublic-key: %s\n",
              seedhex, pkhex);
    int rc = s_write_file (secret, 0600, text, err, errlen);
    sodium_memzero (text, sizeof text);
    sodium_memzero (seedhex, sizeof seedhex);
    sodium_memzero (sk, sizeof sk);
    sodium_memzero (seed, sizeof seed);
    if (rc != 0)
        return -1;
    snprintf (text, sizeof text,
              "# rollclone artifact signing key (ed25519), public: copy it into the\n"
              "# trusted_signers directory of the agents' apps.\npublic-key: %s\n",
              pkhex);
    if (s_write_file (path, 0644, text, err, errlen) != 0) {
        unlink (secret);
        return -1;
    }
    return 0;
}

int
rc_signature_load_public (const char *path, unsigned char key[RC_SIGNATURE_KEY_BYTES], char *err,
                          size_t errlen)
{
    char text[RC_SIGNATURE_FILE_MAX], values[1][S_VALUE_MAX];
    static const char *const names[] = {"public-key"};
    ssize_t n = s_read_small (path, text, sizeof text, err, errlen);
    if (n < 0 || s_fields (text, (size_t)n, NULL, names, 1, values, path, err, errlen) != 0)
        return -1;
    if (s_unhex (values[0], key, RC_SIGNATURE_KEY_BYTES) != 0) {
        snprintf (err, errlen, "%s: public-key must be %d hex digits", path,
                  2 * RC_SIGNATURE_KEY_BYTES);
        return -1;
    }
    return 0;
}

int
rc_signature_load_secret (const char *path, unsigned char sk[RC_SIGNATURE_SECRET_BYTES], char *err,
                          size_t errlen)
{
    char text[RC_SIGNATURE_FILE_MAX], values[2][S_VALUE_MAX];
    static const char *const names[] = {"secret-key", "public-key"};
    unsigned char seed[crypto_sign_SEEDBYTES], pk[RC_SIGNATURE_KEY_BYTES],
        want[RC_SIGNATURE_KEY_BYTES];
    int rc = -1;
    if (s_init (err, errlen) != 0)
        return -1;
    ssize_t n = s_read_small (path, text, sizeof text, err, errlen);
    if (n < 0 || s_fields (text, (size_t)n, NULL, names, 2, values, path, err, errlen) != 0)
        goto out;
    if (s_unhex (values[0], seed, sizeof seed) != 0
        || s_unhex (values[1], want, sizeof want) != 0) {
        snprintf (err, errlen, "%s: secret-key and public-key must be %d hex digits each", path,
                  2 * RC_SIGNATURE_KEY_BYTES);
        goto out;
    }
    crypto_sign_seed_keypair (pk, sk, seed);
    if (memcmp (pk, want, sizeof pk) != 0) {
        snprintf (err, errlen, "%s: public-key does not belong to secret-key", path);
        goto out;
    }
    rc = 0;
out:
    sodium_memzero (text, sizeof text);
    sodium_memzero (values, sizeof values);
    sodium_memzero (seed, sizeof seed);
    return rc;
}

int
rc_signature_file_sha256 (const char *path, char hex[RC_SIGNATURE_SHA256_HEX + 1], char *err,
                          size_t errlen)
{
    if (s_init (err, errlen) != 0)
        return -1;
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    int rc = -1;
    if (fd < 0 || fstat (fd, &st) != 0) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        goto out;
    }
    if (!S_ISREG (st.st_mode)) {
        snprintf (err, errlen, "%s: not a regular file", path);
        goto out;
    }
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init (&state);
    unsigned char buf[S_READ_CHUNK];
    ssize_t n;
    while ((n = read (fd, buf, sizeof buf)) > 0)
        crypto_hash_sha256_update (&state, buf, (unsigned long long)n);
    if (n < 0) {
        snprintf (err, errlen, "%s: cannot read: %s", path, strerror (errno));
        goto out;
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final (&state, digest);
    sodium_bin2hex (hex, RC_SIGNATURE_SHA256_HEX + 1, digest, sizeof digest);
    rc = 0;
out:
    if (fd >= 0)
        close (fd);
    return rc;
}

static bool
s_name_or_any (const char *text)
{
    return strcmp (text, RC_SIGNATURE_ANY) == 0 || rc_name_valid (text);
}

static bool
s_sha_valid (const char *sha)
{
    if (strlen (sha) != RC_SIGNATURE_SHA256_HEX)
        return false;
    for (const char *c = sha; *c; c++)
        if (!isxdigit ((unsigned char)*c))
            return false;
    return true;
}

/* The message a signature is over, from the fields alone. */
static int
s_message (const rc_signature_t *sig, char *buf, size_t len)
{
    return snprintf (buf, len, "%s\napp=%s\nversion=%s\nsha256=%s\n", S_MESSAGE_TAG, sig->app,
                     sig->version, sig->sha256);
}

char *
rc_signature_sign (const unsigned char sk[RC_SIGNATURE_SECRET_BYTES], const char *app,
                   const char *version, const char *sha256, char *err, size_t errlen)
{
    if (s_init (err, errlen) != 0)
        return NULL;
    rc_signature_t sig;
    memset (&sig, 0, sizeof sig);
    snprintf (sig.app, sizeof sig.app, "%s", app && *app ? app : RC_SIGNATURE_ANY);
    snprintf (sig.version, sizeof sig.version, "%s",
              version && *version ? version : RC_SIGNATURE_ANY);
    if (!s_name_or_any (sig.app) || !s_name_or_any (sig.version)) {
        snprintf (err, errlen, "app '%s' / version '%s': must be [A-Za-z0-9._+-]{1,%d}", sig.app,
                  sig.version, RC_NAME_MAX);
        return NULL;
    }
    if (!sha256 || !s_sha_valid (sha256)) {
        snprintf (err, errlen, "sha256 '%s': must be 64 hex digits", sha256 ? sha256 : "");
        return NULL;
    }
    for (size_t i = 0; i < RC_SIGNATURE_SHA256_HEX; i++)
        sig.sha256[i] = (char)tolower ((unsigned char)sha256[i]);
    crypto_sign_ed25519_sk_to_pk (sig.key, sk);
    char msg[512];
    int mlen = s_message (&sig, msg, sizeof msg);
    crypto_sign_detached (sig.sig, NULL, (const unsigned char *)msg, (unsigned long long)mlen, sk);
    char keyhex[2 * RC_SIGNATURE_KEY_BYTES + 1], sighex[2 * RC_SIGNATURE_BYTES + 1];
    sodium_bin2hex (keyhex, sizeof keyhex, sig.key, sizeof sig.key);
    sodium_bin2hex (sighex, sizeof sighex, sig.sig, sizeof sig.sig);
    char *text = NULL;
    if (asprintf (&text, "%s\nkey: %s\napp: %s\nversion: %s\nsha256: %s\nsignature: %s\n", S_MAGIC,
                  keyhex, sig.app, sig.version, sig.sha256, sighex)
        < 0) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    return text;
}

int
rc_signature_parse (const char *text, size_t len, rc_signature_t *sig, char *err, size_t errlen)
{
    static const char *const names[] = {"key", "app", "version", "sha256", "signature"};
    char values[5][S_VALUE_MAX];
    memset (sig, 0, sizeof *sig);
    if (len > RC_SIGNATURE_FILE_MAX) {
        snprintf (err, errlen, "signature: larger than %d bytes", RC_SIGNATURE_FILE_MAX);
        return -1;
    }
    if (s_fields (text, len, S_MAGIC, names, 5, values, "signature", err, errlen) != 0)
        return -1;
    if (s_unhex (values[0], sig->key, sizeof sig->key) != 0) {
        snprintf (err, errlen, "signature: key must be %d hex digits", 2 * RC_SIGNATURE_KEY_BYTES);
        return -1;
    }
    if (!s_name_or_any (values[1]) || !s_name_or_any (values[2])) {
        snprintf (err, errlen, "signature: app '%s' / version '%s' not valid", values[1],
                  values[2]);
        return -1;
    }
    if (!s_sha_valid (values[3])) {
        snprintf (err, errlen, "signature: sha256 '%s' is not 64 hex digits", values[3]);
        return -1;
    }
    if (s_unhex (values[4], sig->sig, sizeof sig->sig) != 0) {
        snprintf (err, errlen, "signature: signature must be %d hex digits",
                  2 * RC_SIGNATURE_BYTES);
        return -1;
    }
    /* both checked above to be at most RC_NAME_MAX long */
    snprintf (sig->app, sizeof sig->app, "%.*s", RC_NAME_MAX, values[1]);
    snprintf (sig->version, sizeof sig->version, "%.*s", RC_NAME_MAX, values[2]);
    for (size_t i = 0; i <= RC_SIGNATURE_SHA256_HEX; i++)
        sig->sha256[i] = (char)tolower ((unsigned char)values[3][i]);
    return 0;
}

bool
rc_signature_valid (const rc_signature_t *sig)
{
    char err[64];
    if (s_init (err, sizeof err) != 0)
        return false;
    char msg[512];
    int mlen = s_message (sig, msg, sizeof msg);
    return crypto_sign_verify_detached (sig->sig, (const unsigned char *)msg,
                                        (unsigned long long)mlen, sig->key)
           == 0;
}
