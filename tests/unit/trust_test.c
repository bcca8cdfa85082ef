/*  trust_test.c - selftests of the artifact trust modules (issue 8):
    rc_sources (artifact_sources prefixes and the URLs matched against them),
    rc_signature (signing keys, sign, parse, verify) and agent/trust.c (the
    agent's decision, with a real trusted_signers directory). */
#include "rc_signature.h"
#include "rc_sources.h"
#include "selftests.h"
#include "trust.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
rc_sources_test (bool verbose)
{
    (void)verbose;
    char err[512], matched[256];
    const char *list = "https://artifacts.example/, file:///srv/drop/ http://h2.example/app";
    ck_assert_int_eq (rc_sources_check_list (list, err, sizeof err), 0);
    ck_assert_int_eq (rc_sources_check_list ("https://", err, sizeof err), 0);
    const char *bad_lists[] = {"",
                               " , ",
                               "ftp://x/",
                               "https://u@x/",
                               "file:///a/../b/",
                               "file:///a//b/",
                               "https://x/?q=1",
                               "file://host/a/",
                               "https://x/#f"};
    for (size_t i = 0; i < sizeof bad_lists / sizeof bad_lists[0]; i++)
        ck_assert_msg (rc_sources_check_list (bad_lists[i], err, sizeof err) == -1, "%s",
                       bad_lists[i]);

    const char *good[] = {
        "https://artifacts.example/web/v1.tgz",
        "https://ARTIFACTS.example/web/v1.tgz?X-Amz-Signature=abc",
        "file:///srv/drop/v1.tgz",
        "file://localhost/srv/drop/v1.tgz",
        "file:///srv/drop/sub%20dir/v1.tgz",
        "http://h2.example/app",
        "http://h2.example/app/v1.tgz",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg (rc_sources_match (list, good[i], matched, sizeof matched, err, sizeof err)
                           == 0,
                       "%s: %s", good[i], err);
    const char *bad[] = {
        "file:///etc/shadow",
        "file:///srv/drop/../../etc/shadow",
        "file:///srv/drop/%2e%2e/etc/shadow",
        "file:///srv/drop/%2E%2e/etc/shadow",
        "file:///srv/drop/.%2e/etc/shadow",
        "file:///srv/drop//etc/shadow",
        "file:///srv/drop/%2fetc/shadow",
        "file:///srv/drop%2f../etc/shadow",
        "file:///srv/dropped/v1.tgz",
        "file:///srv/drop/x%00.tgz",
        "file:///srv/drop/x%zz.tgz",
        "file://evil/srv/drop/v1.tgz",
        "https://artifacts.example@evil.example/v1.tgz",
        "https://user:pw@artifacts.example/v1.tgz",
        "https://artifacts.example.evil.example/v1.tgz",
        "https://artifacts.example:8443/v1.tgz",
        "http://artifacts.example/v1.tgz",
        "https://artifacts.example/a\\..\\b",
        "https://artifacts.example/v1.tgz#frag",
        "http://h2.example/application/v1.tgz",
        "ftp://artifacts.example/v1.tgz",
        "https:///v1.tgz",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg (rc_sources_match (list, bad[i], matched, sizeof matched, err, sizeof err)
                           == -1,
                       "accepted %s", bad[i]);
    /* the reason names the URL and the allowlist, on one line */
    ck_assert_int_eq (
        rc_sources_match (list, "file:///etc/shadow", matched, sizeof matched, err, sizeof err),
        -1);
    ck_assert_ptr_nonnull (strstr (err, "file:///etc/shadow"));
    ck_assert_ptr_nonnull (strstr (err, "file:///srv/drop/"));
    ck_assert_ptr_null (strchr (err, '\n'));
    /* the default: http and https from anywhere, never file:// */
    ck_assert_int_eq (
        rc_sources_match (NULL, "https://x.example/a", matched, sizeof matched, err, sizeof err),
        0);
    ck_assert_int_eq (
        rc_sources_match (NULL, "http://x.example/a", matched, sizeof matched, err, sizeof err), 0);
    ck_assert_int_eq (
        rc_sources_match ("", "file:///srv/drop/a", matched, sizeof matched, err, sizeof err), -1);
    ck_assert_int_eq (
        rc_sources_match ("https://", "http://x/a", matched, sizeof matched, err, sizeof err), -1);
    char path[256];
    ck_assert_int_eq (rc_sources_file_path ("file:///srv/drop/a%20b", path, sizeof path), 0);
    ck_assert_str_eq (path, "/srv/drop/a b");
    ck_assert_int_eq (rc_sources_file_path ("https://x/a", path, sizeof path), -1);
}

static void
s_write (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    ck_assert_ptr_nonnull (f);
    fputs (text, f);
    fclose (f);
}

void
rc_signature_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_signature_test.XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char pub[300], sec[300], other[300], osec[300], art[300], signers[300], err[1024];
    snprintf (pub, sizeof pub, "%s/release", dir);
    snprintf (sec, sizeof sec, "%s/release_secret", dir);
    snprintf (other, sizeof other, "%s/other", dir);
    snprintf (osec, sizeof osec, "%s/other_secret", dir);
    snprintf (art, sizeof art, "%s/app.tgz", dir);
    snprintf (signers, sizeof signers, "%s/signers", dir);
    ck_assert_int_eq (rc_signature_keygen (pub, err, sizeof err), 0);
    ck_assert_int_eq (rc_signature_keygen (other, err, sizeof err), 0);
    ck_assert_int_eq (rc_signature_keygen (pub, err, sizeof err), -1); /* never overwrites */
    struct stat st;
    ck_assert_int_eq (stat (sec, &st), 0);
    ck_assert_int_eq (st.st_mode & 0777, 0600);

    unsigned char sk[RC_SIGNATURE_SECRET_BYTES], osk[RC_SIGNATURE_SECRET_BYTES];
    unsigned char pk[RC_SIGNATURE_KEY_BYTES];
    ck_assert_int_eq (rc_signature_load_secret (sec, sk, err, sizeof err), 0);
    ck_assert_int_eq (rc_signature_load_secret (osec, osk, err, sizeof err), 0);
    ck_assert_int_eq (rc_signature_load_public (pub, pk, err, sizeof err), 0);
    ck_assert_int_eq (rc_signature_load_public (sec, pk, err, sizeof err), -1);
    ck_assert_int_eq (rc_signature_load_secret (pub, sk, err, sizeof err), -1);
    ck_assert_int_eq (rc_signature_load_secret ("/nonexistent", sk, err, sizeof err), -1);
    ck_assert_int_eq (rc_signature_load_secret (sec, sk, err, sizeof err), 0);

    s_write (art, "the artifact");
    char sha[RC_SIGNATURE_SHA256_HEX + 1];
    ck_assert_int_eq (rc_signature_file_sha256 (art, sha, err, sizeof err), 0);
    ck_assert_int_eq (rc_signature_file_sha256 (dir, sha, err, sizeof err), -1);
    ck_assert_int_eq (rc_signature_file_sha256 (art, sha, err, sizeof err), 0);

    char *text = rc_signature_sign (sk, "web", "v1", sha, err, sizeof err);
    ck_assert_ptr_nonnull (text);
    rc_signature_t sig;
    ck_assert_int_eq (rc_signature_parse (text, strlen (text), &sig, err, sizeof err), 0);
    ck_assert (rc_signature_valid (&sig));
    ck_assert_str_eq (sig.version, "v1");
    /* any field changed: the signature no longer verifies */
    rc_signature_t changed = sig;
    snprintf (changed.version, sizeof changed.version, "v2");
    ck_assert (!rc_signature_valid (&changed));
    changed = sig;
    changed.sha256[0] = changed.sha256[0] == '0' ? '1' : '0';
    ck_assert (!rc_signature_valid (&changed));
    changed = sig;
    snprintf (changed.app, sizeof changed.app, "*");
    ck_assert (!rc_signature_valid (&changed));
    ck_assert (!rc_signature_sign (sk, "web", "../x", sha, err, sizeof err));
    ck_assert (!rc_signature_sign (sk, "web", "v1", "abc", err, sizeof err));
    /* malformed texts */
    const char *junk[] = {"", "garbage\n", "rollclone-signature-v1\n",
                          "rollclone-signature-v1\nkey: 00\napp: *\nversion: *\nsha256: x\n"
                          "signature: 00\n"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        ck_assert_int_eq (rc_signature_parse (junk[i], strlen (junk[i]), &sig, err, sizeof err),
                          -1);
    char twice[2048];
    snprintf (twice, sizeof twice, "%sapp: web\n", text);
    ck_assert_int_eq (rc_signature_parse (twice, strlen (twice), &sig, err, sizeof err), -1);
    ck_assert_ptr_nonnull (strstr (err, "twice"));

    /* the agent's decision with a trusted_signers directory */
    ck_assert_int_eq (mkdir (signers, 0755), 0);
    char cmd[2048];
    snprintf (cmd, sizeof cmd, "cp '%s' '%s/release' && cp '%s' '%s/release_secret'", pub, signers,
              sec, signers);
    ck_assert_int_eq (system (cmd), 0);
    rc_app_config_t app = {.name = "web", .trusted_signers = signers};
    ck_assert (rc_trust_signed (&app));
    ck_assert_int_eq (rc_trust_verify (&app, art, "v1", text, strlen (text), err, sizeof err), 0);
    ck_assert_int_eq (rc_trust_verify (&app, art, "v2", text, strlen (text), err, sizeof err), -1);
    ck_assert_ptr_nonnull (strstr (err, "version v1"));
    app.name = "api";
    ck_assert_int_eq (rc_trust_verify (&app, art, "v1", text, strlen (text), err, sizeof err), -1);
    app.name = "web";
    char *any = rc_signature_sign (sk, NULL, NULL, sha, err, sizeof err);
    ck_assert_int_eq (rc_trust_verify (&app, art, "v7", any, strlen (any), err, sizeof err), 0);
    char *foreign = rc_signature_sign (osk, "web", "v1", sha, err, sizeof err);
    ck_assert_int_eq (rc_trust_verify (&app, art, "v1", foreign, strlen (foreign), err, sizeof err),
                      -1);
    ck_assert_ptr_nonnull (strstr (err, "not in trusted_signers"));
    /* a forged signature line under a trusted key */
    char forged[2048];
    snprintf (forged, sizeof forged, "%s", text);
    char *line = strstr (forged, "signature: ");
    ck_assert_ptr_nonnull (line);
    line[11] = line[11] == 'a' ? 'b' : 'a';
    ck_assert_int_eq (rc_trust_verify (&app, art, "v1", forged, strlen (forged), err, sizeof err),
                      -1);
    ck_assert_ptr_nonnull (strstr (err, "does not verify"));
    s_write (art, "the artifact, tampered");
    ck_assert_int_eq (rc_trust_verify (&app, art, "v1", text, strlen (text), err, sizeof err), -1);
    ck_assert_ptr_nonnull (strstr (err, "sha256"));
    app.trusted_signers = "/nonexistent";
    s_write (art, "the artifact");
    ck_assert_int_eq (rc_trust_verify (&app, art, "v1", text, strlen (text), err, sizeof err), -1);

    /* the source check: sha256 always, prefixes resolved through symlinks */
    char drop[300], url[400], outside[300];
    snprintf (drop, sizeof drop, "%s/drop", dir);
    snprintf (outside, sizeof outside, "%s/outside", dir);
    ck_assert_int_eq (mkdir (drop, 0755), 0);
    ck_assert_int_eq (mkdir (outside, 0755), 0);
    snprintf (cmd, sizeof cmd, "cp '%s' '%s/a.tgz' && cp '%s' '%s/b.tgz' && ln -s '%s' '%s/link'",
              art, drop, art, outside, outside, drop);
    ck_assert_int_eq (system (cmd), 0);
    char sources[400];
    snprintf (sources, sizeof sources, "file://%s/", drop);
    rc_app_config_t policy = {.name = "web", .artifact_sources = sources};
    snprintf (url, sizeof url, "file://%s/a.tgz", drop);
    ck_assert_int_eq (rc_trust_check_source (&policy, url, sha, err, sizeof err), 0);
    ck_assert_int_eq (rc_trust_check_source (&policy, url, "", err, sizeof err), -1);
    ck_assert_ptr_nonnull (strstr (err, "sha256"));
    snprintf (url, sizeof url, "file://%s/link/b.tgz", drop);
    ck_assert_int_eq (rc_trust_check_source (&policy, url, sha, err, sizeof err), -1);
    policy.artifact_sources = NULL;
    snprintf (url, sizeof url, "file://%s/a.tgz", drop);
    ck_assert_int_eq (rc_trust_check_source (&policy, url, sha, err, sizeof err), -1);
    char *sigurl = rc_trust_signature_url ("https://h/a.tgz?tok=1");
    ck_assert_str_eq (sigurl, "https://h/a.tgz.sig?tok=1");

    free (sigurl);
    free (text);
    free (any);
    free (foreign);
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq (system (cmd), 0);
}
