/*  rc_seal.c - sealing instructions to one host's key (see rc_seal.h). */
#include "rc_seal.h"
#include "rc_defaults.h"

#include <string.h>

int
rc_seal_key (uint8_t key[RC_SEAL_KEY_BYTES], const uint8_t their_public[32],
             const uint8_t our_secret[32])
{
    if (sodium_init () < 0)
        return -1;
    return crypto_box_beforenm (key, their_public, our_secret) == 0 ? 0 : -1;
}

int
rc_seal_key_z85 (uint8_t key[RC_SEAL_KEY_BYTES], const char *their_public_z85,
                 const uint8_t our_secret[32])
{
    uint8_t pub[32];
    if (!their_public_z85 || strlen (their_public_z85) != 40
        || !zmq_z85_decode (pub, their_public_z85))
        return -1;
    return rc_seal_key (key, pub, our_secret);
}

zframe_t *
rc_seal_pack (const Rollclone__Instruction *ins, const char *host_id,
              const uint8_t key[RC_SEAL_KEY_BYTES], const char *sender, uint64_t seq)
{
    zframe_t *frame = NULL;
    size_t plain_len = rollclone__instruction__get_packed_size (ins);
    size_t box_len = plain_len + crypto_box_MACBYTES;
    uint8_t *plain = (uint8_t *)malloc (plain_len ? plain_len : 1);
    uint8_t *box = (uint8_t *)malloc (box_len);
    uint8_t nonce[crypto_box_NONCEBYTES];
    if (!plain || !box)
        goto out;
    rollclone__instruction__pack (ins, plain);
    /* random nonces: 192 bits never repeat in practice, and no counter has
       to survive a restart of the coordinator */
    randombytes_buf (nonce, sizeof nonce);
    if (crypto_box_easy_afternm (box, plain, plain_len, nonce, key) != 0)
        goto out;
    Rollclone__SealedInstruction sealed = ROLLCLONE__SEALED_INSTRUCTION__INIT;
    sealed.host_id = (char *)host_id;
    sealed.nonce.data = nonce;
    sealed.nonce.len = sizeof nonce;
    sealed.box.data = box;
    sealed.box.len = box_len;
    rc_envelope_t env;
    rc_envelope_init (&env, sender, seq);
    env.body_case = ROLLCLONE__ENVELOPE__BODY_SEALED;
    env.sealed = &sealed;
    frame = rc_envelope_pack (&env);
out:
    free (plain);
    free (box);
    return frame;
}

Rollclone__Instruction *
rc_seal_open (const Rollclone__SealedInstruction *sealed, const uint8_t key[RC_SEAL_KEY_BYTES],
              const char **reason)
{
    const char *dummy;
    if (!reason)
        reason = &dummy;
    if (sealed->nonce.len != crypto_box_NONCEBYTES || sealed->box.len < crypto_box_MACBYTES
        || sealed->box.len > RC_MAX_FRAME_BYTES) {
        *reason = "malformed sealed instruction";
        return NULL;
    }
    size_t plain_len = sealed->box.len - crypto_box_MACBYTES;
    uint8_t *plain = (uint8_t *)malloc (plain_len ? plain_len : 1);
    if (!plain) {
        *reason = "out of memory";
        return NULL;
    }
    Rollclone__Instruction *ins = NULL;
    if (crypto_box_open_easy_afternm (plain, sealed->box.data, sealed->box.len, sealed->nonce.data,
                                      key)
        != 0)
        *reason = "sealed instruction does not open with our key";
    else if (!(ins = rollclone__instruction__unpack (NULL, plain_len, plain)))
        *reason = "sealed instruction does not decode";
    else if (!sealed->host_id || !ins->host_id || strcmp (sealed->host_id, ins->host_id) != 0) {
        *reason = "sealed instruction names another host";
        rollclone__instruction__free_unpacked (ins, NULL);
        ins = NULL;
    }
    free (plain);
    return ins;
}

size_t
rc_seal_topic (char *buf, size_t size, const char *host_id)
{
    int n = snprintf (buf, size, "host/%s", host_id);
    if (n < 0 || (size_t)n + 1 > size)
        return 0;
    return (size_t)n + 1;
}
