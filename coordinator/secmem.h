/*  secmem.h - sodium_malloc, sodium_allocarray and sodium_free for libzmq's
    CURVE code in the coordinator, on the heap instead of guarded pages: a
    CURVE handshake cost ~3 ms of mprotect/munmap TLB flushes with
    libsodium's (see secmem.c for why the guard buys nothing here). */
#ifndef RC_SECMEM_H
#define RC_SECMEM_H

#include <stddef.h>

/* Blocks sodium_malloc/sodium_allocarray handed out in this process: more
   after a CURVE handshake when libzmq's calls are bound to this file. */
size_t rc_secmem_allocations (void);

#endif
