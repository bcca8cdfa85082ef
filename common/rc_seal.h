/*  rc_seal.h - instructions sealed to one host: a packed Instruction in a
    libsodium crypto_box from the coordinator's CURVE key to the host's
    (CURVE keys are X25519 keys). Every agent key can subscribe to the PUB
    socket; only the host an instruction is for can open it, and it knows
    the coordinator sealed it. Also the one spelling of the topic. */
#ifndef RC_SEAL_H
#define RC_SEAL_H

#include "rc_defaults.h"
#include "rc_envelope.h"
#include <sodium.h>

#define RC_SEAL_KEY_BYTES crypto_box_BEFORENMBYTES
/* "host/" + id + NUL: the NUL ends the topic, so that "host/web-1" is not
   a prefix of "host/web-10". */
#define RC_TOPIC_MAX (RC_NAME_MAX + 8)

/* The shared key of our secret and their public key (raw, 32 bytes each).
   0, or -1 for a key that is not a usable public key. */
int rc_seal_key (uint8_t key[RC_SEAL_KEY_BYTES], const uint8_t their_public[32],
                 const uint8_t our_secret[32]);
/* The same with their public key in Z85. */
int rc_seal_key_z85 (uint8_t key[RC_SEAL_KEY_BYTES], const char *their_public_z85,
                     const uint8_t our_secret[32]);

/* An envelope (sender, seq) holding ins sealed with key, for host_id; a new
   frame, or NULL. */
zframe_t *rc_seal_pack (const Rollclone__Instruction *ins, const char *host_id,
                        const uint8_t key[RC_SEAL_KEY_BYTES], const char *sender, uint64_t seq);
/* Opens a sealed instruction. Returns it (free with
   rollclone__instruction__free_unpacked) or NULL with a static reason. The
   instruction's host id must be the sealed one's. */
Rollclone__Instruction *rc_seal_open (const Rollclone__SealedInstruction *sealed,
                                      const uint8_t key[RC_SEAL_KEY_BYTES], const char **reason);

/* Writes the topic of host_id's instructions; returns its length in bytes,
   the terminating NUL included (what goes on the wire and into
   ZMQ_SUBSCRIBE), or 0 if it does not fit. */
size_t rc_seal_topic (char *buf, size_t size, const char *host_id);

void rc_seal_test (bool verbose);

#endif
