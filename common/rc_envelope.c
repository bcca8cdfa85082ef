/*  rc_envelope.c - Envelope encode/decode with the checks every socket needs. */
#include "rc_envelope.h"
#include "rc_defaults.h"

#include <assert.h>

void
rc_envelope_init (rc_envelope_t *env, const char *sender, uint64_t seq)
{
    rollclone__envelope__init (env);
    env->version = RC_PROTOCOL_VERSION;
    env->sender = (char *)sender;
    env->seq = seq;
}

zframe_t *
rc_envelope_pack (const rc_envelope_t *env)
{
    size_t size = rollclone__envelope__get_packed_size (env);
    zframe_t *frame = zframe_new (NULL, size);
    if (!frame)
        return NULL;
    rollclone__envelope__pack (env, zframe_data (frame));
    return frame;
}

rc_envelope_t *
rc_envelope_unpack_data (const uint8_t *data, size_t size, const char **reason)
{
    return rc_envelope_unpack_limit (data, size, RC_MAX_FRAME_BYTES, reason);
}

rc_envelope_t *
rc_envelope_unpack_limit (const uint8_t *data, size_t size, size_t limit, const char **reason)
{
    const char *dummy;
    if (!reason)
        reason = &dummy;
    if (size > limit) {
        *reason = "oversized";
        return NULL;
    }
    rc_envelope_t *env = rollclone__envelope__unpack (NULL, size, data);
    if (!env) {
        *reason = "does not decode";
        return NULL;
    }
    if (env->version != RC_PROTOCOL_VERSION) {
        *reason = "wrong protocol version";
        rc_envelope_destroy (&env);
        return NULL;
    }
    if (env->body_case == ROLLCLONE__ENVELOPE__BODY__NOT_SET) {
        *reason = "no body";
        rc_envelope_destroy (&env);
        return NULL;
    }
    return env;
}

rc_envelope_t *
rc_envelope_unpack (zframe_t *frame, const char **reason)
{
    if (!frame) {
        if (reason)
            *reason = "missing frame";
        return NULL;
    }
    return rc_envelope_unpack_data (zframe_data (frame), zframe_size (frame), reason);
}

uint32_t
rc_envelope_version (const uint8_t *data, size_t size)
{
    if (size > RC_MAX_FRAME_BYTES)
        return 0;
    rc_envelope_t *env = rollclone__envelope__unpack (NULL, size, data);
    uint32_t version = env ? env->version : 0;
    rc_envelope_destroy (&env);
    return version;
}

void
rc_envelope_destroy (rc_envelope_t **self_p)
{
    if (self_p && *self_p) {
        rollclone__envelope__free_unpacked (*self_p, NULL);
        *self_p = NULL;
    }
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
    assert (frame);

    const char *reason = NULL;
    rc_envelope_t *back = rc_envelope_unpack (frame, &reason);
    assert (back);
    assert (streq (back->sender, "web-1") && back->seq == 7);
    assert (back->body_case == ROLLCLONE__ENVELOPE__BODY_HEARTBEAT && back->heartbeat->healthy);
    rc_envelope_destroy (&back);
    rc_envelope_destroy (&back);

    /* truncated */
    back = rc_envelope_unpack_data (zframe_data (frame), zframe_size (frame) - 1, &reason);
    assert (!back);
    zframe_destroy (&frame);

    /* garbage */
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    assert (!rc_envelope_unpack_data (junk, sizeof junk, &reason));

    /* wrong version */
    env.version = RC_PROTOCOL_VERSION + 1;
    frame = rc_envelope_pack (&env);
    assert (!rc_envelope_unpack (frame, &reason) && streq (reason, "wrong protocol version"));
    zframe_destroy (&frame);

    /* no body */
    rc_envelope_init (&env, "x", 1);
    frame = rc_envelope_pack (&env);
    assert (!rc_envelope_unpack (frame, &reason) && streq (reason, "no body"));
    zframe_destroy (&frame);

    /* oversized */
    frame = zframe_new (NULL, RC_MAX_FRAME_BYTES + 1);
    memset (zframe_data (frame), 0, zframe_size (frame));
    assert (!rc_envelope_unpack (frame, &reason) && streq (reason, "oversized"));
    zframe_destroy (&frame);
}
