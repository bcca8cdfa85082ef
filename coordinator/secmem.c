/*  secmem.c - libsodium's guarded allocator, as libzmq calls it in this
    process, replaced by heap memory that is still wiped when freed.

    libzmq's CURVE code keeps its handshake buffers and session keys in
    sodium_allocarray memory: each allocation is an mmap, three mprotects and
    an mlock, each free an mprotect, a munlock and a munmap, and every
    mprotect and munmap of a threaded process flushes the TLB of the other
    CPUs by IPI. libzmq makes six per CURVE handshake (two sockets a host),
    all on its one I/O thread: on the 2-core VM of the bench one pair costs
    380-550 us, a handshake ~3 ms, and they were ~90 % of the coordinator's
    CPU while 1,000 hosts registered (docs/scale.md). What the guard pages
    and mlock protect here are ephemeral session keys, while the long-term
    secret key they are derived from lives in czmq's zcert, in ordinary
    memory of this very process: the guard buys nothing an attacker who can
    read this process's memory does not already have. Wiping on free is kept.

    These definitions are exported by the executable (the linker exports a
    symbol that a shared library on the link line references, and the
    Makefile names them too), so the dynamic linker binds libzmq's calls to
    them and not to libsodium's. Only the coordinator (and the fleet
    simulator, which plays thousands of agents) links this file: an agent
    makes two handshakes a run. rc_secmem_allocations says the binding holds
    (tests/unit/secmem_test.c). */
#include "secmem.h"

#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What libsodium fills new secure memory with, so that code relying on
   uninitialised memory shows the same way with either allocator. */
#define S_GARBAGE 0xdb

/* In front of each block: its size, to wipe it all on free. */
typedef union {
    size_t size;
    max_align_t align; /* the block after it is aligned as malloc's */
} s_head_t;

/* Blocks handed out so far (libzmq allocates from its I/O threads). */
static atomic_size_t s_allocations;

void *
sodium_malloc (size_t size)
{
    if (size > SIZE_MAX - sizeof (s_head_t)) {
        errno = ENOMEM;
        return NULL;
    }
    s_head_t *head = (s_head_t *)malloc (sizeof *head + size);
    if (!head)
        return NULL;
    head->size = size;
    memset (head + 1, S_GARBAGE, size);
    atomic_fetch_add_explicit (&s_allocations, 1, memory_order_relaxed);
    return head + 1;
}

void *
sodium_allocarray (size_t count, size_t size)
{
    if (count > 0 && size >= SIZE_MAX / count) {
        errno = ENOMEM;
        return NULL;
    }
    return sodium_malloc (count * size);
}

void
sodium_free (void *ptr)
{
    if (!ptr)
        return;
    s_head_t *head = (s_head_t *)ptr - 1;
    sodium_memzero (ptr, head->size);
    free (head);
}

size_t
rc_secmem_allocations (void)
{
    return atomic_load_explicit (&s_allocations, memory_order_relaxed);
}
