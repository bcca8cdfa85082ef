/*  secmem_test.c - libzmq's CURVE handshakes allocate through
    coordinator/secmem.c (not libsodium's guarded pages, ~0.4 ms an
    allocation on the bench's VM), and what it hands out behaves as
    sodium_allocarray's. */
#include "secmem.h"
#include "selftests.h"

#include <check.h>
#include <czmq.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

void
rc_secmem_test (bool verbose)
{
    /* the allocator itself: sizes, overflow, free of NULL */
    size_t before = rc_secmem_allocations ();
    uint8_t *block = (uint8_t *)sodium_allocarray (8, 32);
    ck_assert (block);
    memset (block, 0x5a, 8 * 32);
    sodium_free (block);
    sodium_free (NULL);
    ck_assert (sodium_allocarray (SIZE_MAX / 2, 4) == NULL);
    ck_assert_uint_eq (rc_secmem_allocations (), before + 1);

    /* a CURVE handshake over loopback: libzmq's calls come here */
    zcert_t *server_cert = zcert_new (), *client_cert = zcert_new ();
    zsock_t *server = zsock_new (ZMQ_ROUTER), *client = zsock_new (ZMQ_DEALER);
    ck_assert (server_cert && client_cert && server && client);
    zcert_apply (server_cert, server);
    zsock_set_curve_server (server, 1);
    zsock_set_rcvtimeo (server, 10000);
    int port = zsock_bind (server, "tcp://127.0.0.1:*");
    ck_assert_int_gt (port, 0);
    zcert_apply (client_cert, client);
    zsock_set_curve_serverkey (client, zcert_public_txt (server_cert));
    zsock_set_sndtimeo (client, 10000);
    before = rc_secmem_allocations ();
    ck_assert_int_eq (zsock_connect (client, "tcp://127.0.0.1:%d", port), 0);
    ck_assert_int_eq (zstr_send (client, "hello"), 0);
    zmsg_t *msg = zmsg_recv (server);
    ck_assert (msg && zmsg_size (msg) == 2);
    zmsg_destroy (&msg);
    /* libzmq 4.3 makes several per handshake on each side (keys, the
       handshake's boxes) */
    if (verbose)
        printf ("secmem: %zu allocation(s) for one handshake\n", rc_secmem_allocations () - before);
    ck_assert_uint_ge (rc_secmem_allocations (), before + 2);
    zsock_destroy (&client);
    zsock_destroy (&server);
    zcert_destroy (&client_cert);
    zcert_destroy (&server_cert);
}
