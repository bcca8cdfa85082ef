/*  rc_frame.c - test tool: connects to a coordinator socket with a real
    CURVE key (or none) and sends frames that are wrong on purpose, so the
    end-to-end tests can check they are dropped and counted. */
#include "rc_defaults.h"
#include "rc_envelope.h"
#include "rc_keys.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_usage (void)
{
    fprintf (stderr, "usage: rc_frame --endpoint E [--server-key PUB --key SECRET] --kind KIND "
                     "[--count N] [--sender ID]\n"
                     "KIND: garbage truncated oversized wrong-version no-body multipart "
                     "heartbeat hello\n");
}

static zframe_t *
s_envelope_frame (const char *sender, uint32_t version, bool with_body, bool hello)
{
    rc_envelope_t env;
    rc_envelope_init (&env, sender, 1);
    env.version = version;
    Rollclone__Heartbeat hb = ROLLCLONE__HEARTBEAT__INIT;
    Rollclone__Hello h = ROLLCLONE__HELLO__INIT;
    if (hello) {
        h.host_id = (char *)sender;
        h.hostname = (char *)sender;
        h.agent_version = "rc_frame";
        env.body_case = ROLLCLONE__ENVELOPE__BODY_HELLO;
        env.hello = &h;
    }
    else if (with_body) {
        hb.healthy = true;
        env.body_case = ROLLCLONE__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &hb;
    }
    return rc_envelope_pack (&env);
}

int
main (int argc, char **argv)
{
    const char *endpoint = NULL, *server_key = NULL, *key = NULL, *kind = NULL;
    const char *sender = "rc-frame";
    int count = 1;
    static const struct option options[] = {
        {"endpoint", required_argument, NULL, 'e'},
        {"server-key", required_argument, NULL, 's'},
        {"key", required_argument, NULL, 'k'},
        {"kind", required_argument, NULL, 'K'},
        {"count", required_argument, NULL, 'n'},
        {"sender", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'e': endpoint = optarg; break;
        case 's': server_key = optarg; break;
        case 'k': key = optarg; break;
        case 'K': kind = optarg; break;
        case 'n': count = atoi (optarg); break;
        case 'S': sender = optarg; break;
        default: s_usage (); return 2;
        }
    }
    if (!endpoint || !kind || count < 1 || count > 100000) {
        s_usage ();
        return 2;
    }
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    zcert_t *cert = NULL;
    char err[512], server[RC_Z85_KEY_LEN + 1];
    if (server_key && key) {
        cert = rc_keys_load_secret (key, err, sizeof err);
        if (!cert || rc_keys_load_public (server_key, server, err, sizeof err) != 0) {
            fprintf (stderr, "rc_frame: %s\n", err);
            return 2;
        }
        rc_keys_client_socket (sock, cert, server);
    }
    zsock_set_linger (sock, 2000);
    if (zsock_connect (sock, "%s", endpoint) != 0) {
        fprintf (stderr, "rc_frame: cannot connect %s\n", endpoint);
        return 2;
    }
    for (int i = 0; i < count; i++) {
        zframe_t *frame = NULL;
        if (streq (kind, "garbage")) {
            frame = zframe_new (NULL, 64);
            for (size_t j = 0; j < 64; j++)
                zframe_data (frame)[j] = (byte)(0xF0 ^ (j * 37 + (size_t)i));
        }
        else if (streq (kind, "truncated")) {
            zframe_t *whole = s_envelope_frame (sender, RC_PROTOCOL_VERSION, true, true);
            frame = zframe_new (zframe_data (whole), zframe_size (whole) - 3);
            zframe_destroy (&whole);
        }
        else if (streq (kind, "oversized")) {
            frame = zframe_new (NULL, RC_MAX_FRAME_BYTES + 1024);
            memset (zframe_data (frame), 0x0a, zframe_size (frame));
        }
        else if (streq (kind, "wrong-version"))
            frame = s_envelope_frame (sender, RC_PROTOCOL_VERSION + 7, true, false);
        else if (streq (kind, "no-body"))
            frame = s_envelope_frame (sender, RC_PROTOCOL_VERSION, false, false);
        else if (streq (kind, "heartbeat"))
            frame = s_envelope_frame (sender, RC_PROTOCOL_VERSION, true, false);
        else if (streq (kind, "hello"))
            frame = s_envelope_frame (sender, RC_PROTOCOL_VERSION, true, true);
        else if (streq (kind, "multipart")) {
            zstr_sendm (sock, "one");
            frame = zframe_new ("two", 3);
        }
        else {
            s_usage ();
            return 2;
        }
        zframe_send (&frame, sock, 0);
    }
    /* give replies (if any) a moment, and print them so a test can see */
    zpoller_t *poller = zpoller_new (sock, NULL);
    int replies = 0;
    while (zpoller_wait (poller, 300) == sock) {
        zframe_t *in = zframe_recv (sock);
        const char *reason = NULL;
        rc_envelope_t *env = rc_envelope_unpack (in, &reason);
        if (env && env->body_case == ROLLCLONE__ENVELOPE__BODY_ACK)
            printf ("ack status=%d reason=%s\n", env->ack->status, env->ack->reason);
        rc_envelope_destroy (&env);
        zframe_destroy (&in);
        replies++;
    }
    zpoller_destroy (&poller);
    zsock_destroy (&sock);
    zcert_destroy (&cert);
    return 0;
}
