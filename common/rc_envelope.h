/*  rc_envelope.h - the one codec of the wire: an Envelope in a ZeroMQ frame.
    Anything that does not decode, is too big or speaks another protocol
    version is refused here, so no caller ever sees it. */
#ifndef RC_ENVELOPE_H
#define RC_ENVELOPE_H

#include "rollclone.pb-c.h"
#include <czmq.h>

typedef Rollclone__Envelope rc_envelope_t;

/* Fills env as an empty envelope of ours from sender with sequence seq. */
void rc_envelope_init (rc_envelope_t *env, const char *sender, uint64_t seq);

/* Serialises env into a new frame (caller's). */
zframe_t *rc_envelope_pack (const rc_envelope_t *env);

/* Decodes a frame. Returns the envelope (free with rc_envelope_destroy) or
   NULL with a static reason in *reason. Never trusts the frame. */
rc_envelope_t *rc_envelope_unpack (zframe_t *frame, const char **reason);
rc_envelope_t *rc_envelope_unpack_data (const uint8_t *data, size_t size, const char **reason);
/* With another size limit than RC_MAX_FRAME_BYTES (the CLI reading replies). */
rc_envelope_t *rc_envelope_unpack_limit (const uint8_t *data, size_t size, size_t limit,
                                         const char **reason);

/* The protocol version a frame says it speaks (to answer a peer of another
   one in words it reads), or 0 when it does not decode. */
uint32_t rc_envelope_version (const uint8_t *data, size_t size);

void rc_envelope_destroy (rc_envelope_t **self_p);

void rc_envelope_test (bool verbose);

#endif
