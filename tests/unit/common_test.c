/*  common_test.c - the selftests of the small common modules (durations,
    names and labels, joined lists, key files, envelopes), with Check's
    ck_assert so they hold under -DNDEBUG too. */
#include "rc_envelope.h"
#include "rc_ids.h"
#include "rc_join.h"
#include "rc_keys.h"
#include "rc_time.h"
#include "selftests.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
rc_time_test (bool verbose)
{
    (void)verbose;
    int64_t ms = 0;
    ck_assert (rc_duration_parse ("500ms", &ms) == 0 && ms == 500);
    ck_assert (rc_duration_parse ("10s", &ms) == 0 && ms == 10000);
    ck_assert (rc_duration_parse ("5m", &ms) == 0 && ms == 300000);
    ck_assert (rc_duration_parse ("1h", &ms) == 0 && ms == 3600000);
    ck_assert (rc_duration_parse ("7", &ms) == 0 && ms == 7000);
    ck_assert (rc_duration_parse ("", &ms) == -1);
    ck_assert (rc_duration_parse ("-1s", &ms) == -1);
    ck_assert (rc_duration_parse ("10x", &ms) == -1);
    ck_assert (rc_duration_parse ("99999999999999999999s", &ms) == -1);
    char buf[32];
    ck_assert (strcmp (rc_duration_format (1500, buf, sizeof buf), "1.5s") == 0);
    ck_assert (rc_mono_ms () > 0);
}

void
rc_ids_test (bool verbose)
{
    (void)verbose;
    ck_assert (rc_name_valid ("web-1.2_3+b"));
    ck_assert (!rc_name_valid (""));
    ck_assert (!rc_name_valid (".."));
    ck_assert (!rc_name_valid ("../x"));
    ck_assert (!rc_name_valid ("a b"));
    char longname[RC_NAME_MAX + 2];
    memset (longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert (!rc_name_valid (longname));
    rc_label_t labels[4];
    char err[128];
    ck_assert (rc_labels_parse ("role=web,dc=eu1", labels, 4, err, sizeof err) == 2);
    ck_assert (strcmp (labels[1].value, "eu1") == 0);
    ck_assert (rc_labels_parse ("", labels, 4, err, sizeof err) == 0);
    ck_assert (rc_labels_parse ("role", labels, 4, err, sizeof err) == -1);
    ck_assert (rc_labels_parse ("a=1,a=2", labels, 4, err, sizeof err) == -1);
    ck_assert (rc_labels_parse ("a=1,b=2,c=3,d=4,e=5", labels, 4, err, sizeof err) == -1);
    char *host = rc_hostname ();
    ck_assert (host && *host);
    free (host);
}

void
rc_join_test (bool verbose)
{
    (void)verbose;
    char *text = NULL;
    /* far past any fixed buffer the coordinator used to join into */
    for (int i = 0; i < 1000; i++)
        ck_assert (rc_join_append (&text, "%sv%04d-%s", i ? "," : "", i,
                                   "0123456789012345678901234567890123")
                   == 0);
    ck_assert (strlen (text) == 1000 * 40 + 999);
    ck_assert (rc_join_list_has (text, "v0999-0123456789012345678901234567890123"));
    ck_assert (rc_join_list_has (text, "v0000-0123456789012345678901234567890123"));
    ck_assert (!rc_join_list_has (text, "v0999"));
    ck_assert (!rc_join_list_has ("", "a") && rc_join_list_has ("a", "a"));
    free (text);
}

void
rc_keys_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_keys_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    char path[256], secret[300], err[256];
    snprintf (path, sizeof path, "%s/op", dir);
    snprintf (secret, sizeof secret, "%s_secret", path);
    ck_assert (rc_keys_generate (path, err, sizeof err) == 0);
    struct stat st;
    ck_assert (stat (secret, &st) == 0 && (st.st_mode & 0777) == 0600);
    ck_assert (rc_keys_generate (path, err, sizeof err) == -1);
    zcert_t *cert = rc_keys_load_secret (secret, err, sizeof err);
    ck_assert (cert);
    zcert_t *cert2 = rc_keys_load_secret (path, err, sizeof err);
    ck_assert (cert2);
    char pub[RC_Z85_KEY_LEN + 1];
    ck_assert (rc_keys_load_public (path, pub, err, sizeof err) == 0);
    ck_assert (streq (pub, zcert_public_txt (cert)));
    ck_assert (rc_keys_load_public (zcert_public_txt (cert), pub, err, sizeof err) == 0);
    ck_assert (rc_keys_load_public ("nope", pub, err, sizeof err) == -1);
    zcert_destroy (&cert);
    zcert_destroy (&cert2);
    unlink (secret);
    /* a public file alone is not a key pair */
    ck_assert (rc_keys_load_secret (path, err, sizeof err) == NULL);
    unlink (path);
    rmdir (dir);
}

void
rc_envelope_test (bool verbose)
{
    (void)verbose;
    rc_envelope_t env;
    rc_envelope_init (&env, "web-1", 7);
    Rollclone__Heartbeat hb = ROLLCLONE__HEARTBEAT__INIT;
    hb.healthy = true;
    env.body_case = ROLLCLONE__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    zframe_t *frame = rc_envelope_pack (&env);
    ck_assert (frame);

    const char *reason = NULL;
    rc_envelope_t *back = rc_envelope_unpack (frame, &reason);
    ck_assert (back);
    ck_assert (streq (back->sender, "web-1") && back->seq == 7);
    ck_assert (back->body_case == ROLLCLONE__ENVELOPE__BODY_HEARTBEAT && back->heartbeat->healthy);
    rc_envelope_destroy (&back);
    rc_envelope_destroy (&back);

    /* truncated */
    back = rc_envelope_unpack_data (zframe_data (frame), zframe_size (frame) - 1, &reason);
    ck_assert (!back);
    zframe_destroy (&frame);

    /* garbage */
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    ck_assert (!rc_envelope_unpack_data (junk, sizeof junk, &reason));

    /* wrong version */
    env.version = RC_PROTOCOL_VERSION + 1;
    frame = rc_envelope_pack (&env);
    ck_assert (!rc_envelope_unpack (frame, &reason) && streq (reason, "wrong protocol version"));
    zframe_destroy (&frame);

    /* no body */
    rc_envelope_init (&env, "x", 1);
    frame = rc_envelope_pack (&env);
    ck_assert (!rc_envelope_unpack (frame, &reason) && streq (reason, "no body"));
    zframe_destroy (&frame);

    /* oversized */
    frame = zframe_new (NULL, RC_MAX_FRAME_BYTES + 1);
    memset (zframe_data (frame), 0, zframe_size (frame));
    ck_assert (!rc_envelope_unpack (frame, &reason) && streq (reason, "oversized"));
    zframe_destroy (&frame);
}
