/*  rc_envelope.c - Envelope encode/decode with the checks every socket needs. */
#include "rc_envelope.h"
#include "rc_defaults.h"

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
