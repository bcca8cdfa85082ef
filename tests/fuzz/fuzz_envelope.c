/*  fuzz_envelope.c - libFuzzer harness: the wire decoder. Every frame a
    peer sends goes through rc_envelope_unpack_data first; whatever it
    accepts must also pack again. */
#include "rc_envelope.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *reason = NULL;
    rc_envelope_t *env = rc_envelope_unpack_data (data, size, &reason);
    if (env) {
        zframe_t *frame = rc_envelope_pack (env);
        if (!frame)
            abort (); /* what we decoded we must be able to encode */
        zframe_destroy (&frame);
        rc_envelope_destroy (&env);
    }
    else if (!reason)
        abort (); /* a refusal always says why */
    return 0;
}
