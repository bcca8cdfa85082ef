/*  fetch_test.c - the selftest of agent/fetch.c, with Check's ck_assert (moved out of
    the daemon's code, and holding under -DNDEBUG). */
#include "agent_defaults.h"
#include "fetch.h"
#include "rc_defaults.h"
#include "rc_time.h"
#include "selftests.h"
#include "transfer.h"

#include <check.h>
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

/* Selftest: a file:// download with the right and a wrong checksum, and
   the input checks. */
static rc_fetch_status_t
s_run (const char *url, const char *dest, const char *sha)
{
    char err[256];
    rc_fetch_t *f = rc_fetch_new (url, dest, sha, NULL, err, sizeof err);
    if (!f)
        return RC_FETCH_FAILED;
    rc_fetch_status_t st;
    while ((st = rc_fetch_poll (f)) == RC_FETCH_RUNNING)
        usleep (1000);
    rc_fetch_destroy (&f);
    return st;
}

void
rc_fetch_test (bool verbose)
{
    (void)verbose;
    char err[256];
    const char *sha_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    ck_assert (rc_fetch_check ("file:///x.tgz", NULL, err, sizeof err) == 0);
    ck_assert (rc_fetch_check ("https://h/x", sha_abc, err, sizeof err) == 0);
    ck_assert (rc_fetch_check ("http://h/x", NULL, err, sizeof err) == -1
               && strstr (err, "sha256"));
    ck_assert (rc_fetch_check ("ftp://h/x", sha_abc, err, sizeof err) == -1 && strstr (err, "ftp"));
    ck_assert (rc_fetch_check ("file:///x", "abc", err, sizeof err) == -1 && strstr (err, "'abc'"));
    ck_assert (rc_fetch_check ("file:///a b", NULL, err, sizeof err) == -1);

    char dir[] = "/tmp/rc_fetch_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    char src[300], dest[300], url[320];
    snprintf (src, sizeof src, "%s/src", dir);
    snprintf (dest, sizeof dest, "%s/dest", dir);
    snprintf (url, sizeof url, "file://%s", src);
    FILE *f = fopen (src, "w");
    ck_assert (f && fputs ("abc", f) >= 0);
    fclose (f);
    ck_assert (s_run (url, dest, sha_abc) == RC_FETCH_DONE);
    ck_assert (s_run (url, dest, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")
               == RC_FETCH_DONE);
    char wrong[65];
    memset (wrong, '0', 64);
    wrong[64] = '\0';
    ck_assert (s_run (url, dest, wrong) == RC_FETCH_FAILED);
    snprintf (url, sizeof url, "file://%s/missing", dir);
    ck_assert (s_run (url, dest, NULL) == RC_FETCH_FAILED);
    /* only regular files: a fifo would block the loop for good */
    snprintf (src, sizeof src, "%s/fifo", dir);
    ck_assert (mkfifo (src, 0600) == 0);
    snprintf (url, sizeof url, "file://%s", src);
    ck_assert (!rc_fetch_new (url, dest, NULL, NULL, err, sizeof err) && strstr (err, "a fifo"));
    unlink (src);
    snprintf (url, sizeof url, "file://%s", dir);
    ck_assert (!rc_fetch_new (url, dest, NULL, NULL, err, sizeof err) && strstr (err, "directory"));
    ck_assert (!rc_fetch_new ("file:///dev/null", dest, NULL, NULL, err, sizeof err)
               && strstr (err, "a device"));
    ck_assert (!rc_fetch_new ("file://elsewhere/etc/hosts", dest, NULL, NULL, err, sizeof err)
               && strstr (err, "elsewhere"));
    /* max_artifact_bytes */
    snprintf (src, sizeof src, "%s/src", dir);
    snprintf (url, sizeof url, "file://%s", src);
    rc_fetch_limits_t tiny = {.max_bytes = 2};
    ck_assert (!rc_fetch_new (url, dest, NULL, &tiny, err, sizeof err)
               && strstr (err, "max_artifact_bytes"));
    unlink (src);
    unlink (dest);
    rmdir (dir);
}
