/*  fetch.c - artifact download: libcurl multi (never curl_easy_perform in a
    loop), bounded size and time, and a sha256 computed on the bytes as they
    are written, so a wrong artifact is known the moment the transfer ends. */
#include "fetch.h"
#include "transfer.h"
#include "agent_defaults.h"
#include "rc_defaults.h"
#include "rc_time.h"

#include <assert.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_SHA256_HEX 64

struct _rc_fetch_t {
    rc_transfer_t *transfer;        /* http, https: driven by the owner's loop */
    CURL *easy;                     /* the transfer's handle */
    int src;                        /* file://: the source, a regular file */
    rc_fetch_limits_t limits;       /* resolved: no zeros */
    FILE *out;                      /* dest, open for writing */
    char *dest;                     /* path of dest */
    crypto_hash_sha256_state sha;   /* running hash of the bytes */
    char want[S_SHA256_HEX + 1];    /* expected sha256, lower case, or "" */
    int64_t bytes;                  /* written so far */
    bool write_failed;              /* the disk refused a write */
    rc_fetch_status_t status;       /* sticky once not RUNNING */
    char curl_err[CURL_ERROR_SIZE]; /* libcurl's own message */
    char errmsg[512];               /* last error, one line */
};

static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_global_init (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    if (sodium_init () < 0)
        abort (); /* no usable libsodium: nothing can be verified */
}

void
rc_fetch_global_init (void)
{
    pthread_once (&s_once, s_global_init);
}

static bool
s_has_scheme (const char *url, const char *scheme)
{
    size_t n = strlen (scheme);
    return strncasecmp (url, scheme, n) == 0 && strncmp (url + n, "://", 3) == 0;
}

int
rc_fetch_check (const char *url, const char *sha256, char *err, size_t errlen)
{
    if (!url || !*url) {
        snprintf (err, errlen, "artifact: an artifact URL is required");
        return -1;
    }
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            snprintf (err, errlen, "artifact '%s': control characters or spaces in the URL", url);
            return -1;
        }
    bool remote = s_has_scheme (url, "http") || s_has_scheme (url, "https");
    if (!remote && !s_has_scheme (url, "file")) {
        snprintf (err, errlen, "artifact '%s': scheme must be http, https or file", url);
        return -1;
    }
    if (sha256 && *sha256) {
        size_t n = strlen (sha256);
        bool hex = n == S_SHA256_HEX;
        for (size_t i = 0; hex && i < n; i++)
            hex = isxdigit ((unsigned char)sha256[i]);
        if (!hex) {
            snprintf (err, errlen, "sha256 '%.80s': must be 64 hexadecimal digits", sha256);
            return -1;
        }
    }
    else if (remote) {
        snprintf (err, errlen, "sha256: required for artifact '%s' (http and https)", url);
        return -1;
    }
    return 0;
}

static size_t
s_write (char *data, size_t size, size_t nmemb, void *arg)
{
    rc_fetch_t *self = arg;
    size_t len = size * nmemb;
    if (self->bytes + (int64_t)len > self->limits.max_bytes) {
        snprintf (self->errmsg, sizeof self->errmsg,
                  "artifact larger than max_artifact_bytes = %lld",
                  (long long)self->limits.max_bytes);
        return 0; /* aborts the transfer */
    }
    if (fwrite (data, 1, len, self->out) != len) {
        self->write_failed = true;
        snprintf (self->errmsg, sizeof self->errmsg, "cannot write %s: %s", self->dest,
                  strerror (errno));
        return 0;
    }
    crypto_hash_sha256_update (&self->sha, (const unsigned char *)data, len);
    self->bytes += (int64_t)len;
    return len;
}

/* Opens the file a file:// URL names. O_NONBLOCK so that opening a fifo
   cannot wait for a writer; only a regular file is accepted. */
static int
s_open_source (rc_fetch_t *self, const char *url, char *err, size_t errlen)
{
    int rc = -1;
    char *host = NULL, *path = NULL;
    CURLU *u = curl_url ();
    if (!u || curl_url_set (u, CURLUPART_URL, url, 0) != CURLUE_OK
        || curl_url_get (u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
        snprintf (err, errlen, "artifact '%s': not a valid file:// URL", url);
        goto out;
    }
    if (curl_url_get (u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0]
        && strcasecmp (host, "localhost") != 0) {
        snprintf (err, errlen, "artifact '%s': a file:// URL names a local file (no host)", url);
        goto out;
    }
    self->src = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (self->src < 0 || fstat (self->src, &st) != 0) {
        snprintf (err, errlen, "artifact '%s': cannot open %s: %s", url, path, strerror (errno));
        goto out;
    }
    if (!S_ISREG (st.st_mode)) {
        snprintf (err, errlen, "artifact '%s': %s is not a regular file (%s)", url, path,
                  S_ISDIR (st.st_mode)                           ? "a directory"
                  : S_ISFIFO (st.st_mode)                        ? "a fifo"
                  : S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode) ? "a device"
                                                                 : "not a file");
        goto out;
    }
    if (st.st_size > self->limits.max_bytes) {
        snprintf (err, errlen, "artifact '%s': %lld bytes, larger than max_artifact_bytes = %lld",
                  url, (long long)st.st_size, (long long)self->limits.max_bytes);
        goto out;
    }
    rc = 0;
out:
    curl_free (host);
    curl_free (path);
    curl_url_cleanup (u);
    return rc;
}

rc_fetch_t *
rc_fetch_new (const char *url, const char *dest, const char *sha256,
              const rc_fetch_limits_t *limits, char *err, size_t errlen)
{
    rc_fetch_global_init ();
    rc_fetch_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->status = RC_FETCH_RUNNING;
    self->src = -1;
    self->limits = limits ? *limits : (rc_fetch_limits_t){0};
    if (self->limits.max_bytes <= 0)
        self->limits.max_bytes = RC_DEFAULT_MAX_ARTIFACT_BYTES;
    if (self->limits.timeout_ms <= 0)
        self->limits.timeout_ms = RC_DEFAULT_FETCH_TIMEOUT_MS;
    crypto_hash_sha256_init (&self->sha);
    if (s_has_scheme (url, "file") && s_open_source (self, url, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; sha256 && sha256[i] && i < S_SHA256_HEX; i++)
        self->want[i] = (char)tolower ((unsigned char)sha256[i]);
    self->dest = strdup (dest);
    int fd = open (dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    self->out = fd >= 0 ? fdopen (fd, "wb") : NULL;
    if (!self->dest || !self->out) {
        snprintf (err, errlen, "cannot create %s: %s", dest, strerror (errno));
        if (fd >= 0 && !self->out)
            close (fd);
        goto fail;
    }
    if (self->src >= 0)
        return self; /* copied by rc_fetch_poll */
    self->easy = curl_easy_init ();
    if (!self->easy) {
        snprintf (err, errlen, "cannot initialise libcurl");
        goto fail;
    }
    CURL *e = self->easy;
    curl_easy_setopt (e, CURLOPT_URL, url);
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    /* a redirect never leads to a local file */
    curl_easy_setopt (e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt (e, CURLOPT_MAXREDIRS, (long)RC_FETCH_MAX_REDIRECTS);
    curl_easy_setopt (e, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, (long)RC_FETCH_CONNECT_TIMEOUT_MS);
    curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, (long)self->limits.timeout_ms);
    curl_easy_setopt (e, CURLOPT_LOW_SPEED_LIMIT, (long)RC_FETCH_LOW_SPEED_BYTES);
    curl_easy_setopt (e, CURLOPT_LOW_SPEED_TIME, (long)RC_FETCH_LOW_SPEED_SECS);
    curl_easy_setopt (e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)self->limits.max_bytes);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (e, CURLOPT_WRITEDATA, self);
    curl_easy_setopt (e, CURLOPT_ERRORBUFFER, self->curl_err);
    curl_easy_setopt (e, CURLOPT_USERAGENT, "rollclone-agent");
    self->transfer = rc_transfer_new (e);
    if (!self->transfer) {
        snprintf (err, errlen, "cannot start the download of %s", url);
        goto fail;
    }
    return self;
fail:
    rc_fetch_destroy (&self);
    return NULL;
}

static void
s_finish (rc_fetch_t *self, CURLcode code)
{
    bool ok = code == CURLE_OK;
    curl_off_t spent_us = 0;
    if (self->easy)
        curl_easy_getinfo (self->easy, CURLINFO_TOTAL_TIME_T, &spent_us);
    char limit[32];
    /* a write callback that aborted already said why. libcurl's total
       time can read a little under the timeout that stopped it (its
       timer starts before the transfer's clock): 100 ms of slack, far
       from the low-speed and connect limits, which run for seconds */
    if (code == CURLE_OPERATION_TIMEDOUT
        && spent_us / 1000 + 100 >= (curl_off_t)self->limits.timeout_ms)
        snprintf (self->errmsg, sizeof self->errmsg,
                  "download failed: not done within fetch_timeout = %s (%lld bytes received)",
                  rc_duration_format (self->limits.timeout_ms, limit, sizeof limit),
                  (long long)self->bytes);
    else if (code == CURLE_UNSUPPORTED_PROTOCOL)
        snprintf (self->errmsg, sizeof self->errmsg,
                  "download failed: only http and https are followed (a redirect to another "
                  "scheme is refused): %s",
                  self->curl_err[0] ? self->curl_err : curl_easy_strerror (code));
    else if (code == CURLE_FILESIZE_EXCEEDED)
        snprintf (self->errmsg, sizeof self->errmsg,
                  "artifact larger than max_artifact_bytes = %lld",
                  (long long)self->limits.max_bytes);
    else if (!ok && !self->errmsg[0])
        snprintf (self->errmsg, sizeof self->errmsg, "download failed: %s",
                  self->curl_err[0] ? self->curl_err : curl_easy_strerror (code));
    /* no fsync: the download is a transient input (unpacked, then removed;
       a crash undoes the step and removes it); what is placed is made
       durable there (unpack.c) */
    if (fflush (self->out) != 0) {
        if (ok)
            snprintf (self->errmsg, sizeof self->errmsg, "cannot write %s: %s", self->dest,
                      strerror (errno));
        ok = false;
    }
    if (ok && self->want[0]) {
        unsigned char digest[crypto_hash_sha256_BYTES];
        char hex[S_SHA256_HEX + 1];
        crypto_hash_sha256_final (&self->sha, digest);
        sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
        if (strcmp (hex, self->want) != 0) {
            snprintf (self->errmsg, sizeof self->errmsg,
                      "sha256 mismatch: artifact has %s, expected %s", hex, self->want);
            ok = false;
        }
    }
    self->status = ok ? RC_FETCH_DONE : RC_FETCH_FAILED;
}

/* file://: a bounded slice of the copy per call, so the loop stays free */
static rc_fetch_status_t
s_poll_file (rc_fetch_t *self)
{
    char buf[RC_FETCH_FILE_CHUNK];
    for (size_t done = 0; done < RC_FETCH_FILE_BYTES_PER_POLL;) {
        ssize_t n = read (self->src, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf (self->errmsg, sizeof self->errmsg, "cannot read the artifact: %s",
                      strerror (errno));
            self->status = RC_FETCH_FAILED;
            return self->status;
        }
        if (n == 0) {
            s_finish (self, CURLE_OK);
            return self->status;
        }
        if (s_write (buf, 1, (size_t)n, self) != (size_t)n) {
            self->status = RC_FETCH_FAILED;
            return self->status;
        }
        done += (size_t)n;
    }
    return self->status;
}

rc_fetch_status_t
rc_fetch_poll (rc_fetch_t *self)
{
    assert (self);
    if (self->status != RC_FETCH_RUNNING)
        return self->status;
    if (self->src >= 0)
        return s_poll_file (self);
    CURLcode result;
    if (!rc_transfer_poll (self->transfer, &result))
        return self->status;
    const char *multi_error = rc_transfer_multi_error (self->transfer);
    if (multi_error) {
        snprintf (self->errmsg, sizeof self->errmsg, "download failed: %s", multi_error);
        self->status = RC_FETCH_FAILED;
        return self->status;
    }
    s_finish (self, result);
    return self->status;
}

void
rc_fetch_watch (rc_fetch_t *self, rc_watch_t *w)
{
    /* a file:// copy goes on at once: it is work, not waiting */
    if (self->status != RC_FETCH_RUNNING || !self->transfer)
        rc_watch_at (w, rc_mono_ms ());
    else
        rc_transfer_watch (self->transfer, w);
}

const char *
rc_fetch_errmsg (rc_fetch_t *self)
{
    return self->errmsg;
}

int64_t
rc_fetch_bytes (rc_fetch_t *self)
{
    return self->bytes;
}

void
rc_fetch_destroy (rc_fetch_t **self_p)
{
    assert (self_p);
    rc_fetch_t *self = *self_p;
    if (!self)
        return;
    rc_transfer_destroy (&self->transfer);
    if (self->easy)
        curl_easy_cleanup (self->easy);
    if (self->out)
        fclose (self->out);
    if (self->src >= 0)
        close (self->src);
    free (self->dest);
    free (self);
    *self_p = NULL;
}
