/*  seal_test.c - rc_seal: only the host an instruction is sealed to opens
    it, a tampered box does not open, topics end in NUL. Here rather than in
    common/ because Check is linked into the test binary only. */
#include "rc_keys.h"
#include "rc_seal.h"
#include "selftests.h"

#include <check.h>

void
rc_seal_test (bool verbose)
{
    (void)verbose;
    zcert_t *coord = zcert_new (), *web1 = zcert_new (), *web10 = zcert_new ();
    ck_assert (coord && web1 && web10);
    uint8_t c_to_1[RC_SEAL_KEY_BYTES], one_from_c[RC_SEAL_KEY_BYTES];
    uint8_t c_to_10[RC_SEAL_KEY_BYTES], ten_from_c[RC_SEAL_KEY_BYTES];
    ck_assert_int_eq (rc_seal_key_z85 (c_to_1, zcert_public_txt (web1), zcert_secret_key (coord)),
                      0);
    ck_assert_int_eq (
        rc_seal_key_z85 (one_from_c, zcert_public_txt (coord), zcert_secret_key (web1)), 0);
    ck_assert_int_eq (rc_seal_key (c_to_10, zcert_public_key (web10), zcert_secret_key (coord)), 0);
    ck_assert_int_eq (rc_seal_key (ten_from_c, zcert_public_key (coord), zcert_secret_key (web10)),
                      0);
    ck_assert_int_eq (memcmp (c_to_1, one_from_c, sizeof c_to_1), 0);
    ck_assert_int_eq (rc_seal_key_z85 (c_to_1, "not a key", zcert_secret_key (coord)), -1);
    ck_assert_int_eq (rc_seal_key_z85 (c_to_1, zcert_public_txt (web1), zcert_secret_key (coord)),
                      0);

    Rollclone__Instruction ins = ROLLCLONE__INSTRUCTION__INIT;
    ins.deployment_id = "d-1";
    ins.step = 3;
    ins.app = "web";
    ins.version = "v2";
    ins.artifact_url = "https://a.example/v2.tgz?token=secret";
    ins.host_id = "web-1";
    zframe_t *frame = rc_seal_pack (&ins, "web-1", c_to_1, "coordinator", 9);
    ck_assert_ptr_nonnull (frame);
    /* the token is not on the wire */
    ck_assert_ptr_null (memmem (zframe_data (frame), zframe_size (frame), "token=secret", 12));
    const char *reason = NULL;
    rc_envelope_t *env = rc_envelope_unpack (frame, &reason);
    ck_assert_ptr_nonnull (env);
    ck_assert_int_eq (env->body_case, ROLLCLONE__ENVELOPE__BODY_SEALED);

    Rollclone__Instruction *back = rc_seal_open (env->sealed, one_from_c, &reason);
    ck_assert_ptr_nonnull (back);
    ck_assert_str_eq (back->artifact_url, ins.artifact_url);
    ck_assert_int_eq (back->step, 3);
    rollclone__instruction__free_unpacked (back, NULL);

    /* another host's key (web-10, whose topic web-1's is a prefix of) */
    ck_assert_ptr_null (rc_seal_open (env->sealed, ten_from_c, &reason));
    ck_assert_str_eq (reason, "sealed instruction does not open with our key");
    /* tampered */
    env->sealed->box.data[env->sealed->box.len / 2] ^= 1;
    ck_assert_ptr_null (rc_seal_open (env->sealed, one_from_c, &reason));
    env->sealed->box.data[env->sealed->box.len / 2] ^= 1;
    /* relabelled for another host */
    char *was = env->sealed->host_id;
    env->sealed->host_id = "web-10";
    ck_assert_ptr_null (rc_seal_open (env->sealed, one_from_c, &reason));
    ck_assert_str_eq (reason, "sealed instruction names another host");
    env->sealed->host_id = was;
    /* short nonce */
    env->sealed->nonce.len = 3;
    ck_assert_ptr_null (rc_seal_open (env->sealed, one_from_c, &reason));
    env->sealed->nonce.len = crypto_box_NONCEBYTES;
    rc_envelope_destroy (&env);
    zframe_destroy (&frame);

    char topic[RC_TOPIC_MAX], topic10[RC_TOPIC_MAX];
    size_t n = rc_seal_topic (topic, sizeof topic, "web-1");
    size_t n10 = rc_seal_topic (topic10, sizeof topic10, "web-10");
    ck_assert_uint_eq (n, strlen ("host/web-1") + 1);
    ck_assert_int_eq (topic[n - 1], '\0');
    /* a subscription to web-1's topic is not a prefix of web-10's */
    ck_assert (n10 < n || memcmp (topic, topic10, n) != 0);
    ck_assert_uint_eq (rc_seal_topic (topic, 4, "web-1"), 0);

    zcert_destroy (&coord);
    zcert_destroy (&web1);
    zcert_destroy (&web10);
}
