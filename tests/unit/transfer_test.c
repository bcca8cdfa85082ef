/*  transfer_test.c - the selftest of agent/transfer.c, with Check's ck_assert (moved out of
    the daemon's code, and holding under -DNDEBUG). */
#include "selftests.h"
#include "transfer.h"

#include <check.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* Selftest: a GET of a port nobody listens on ends (refused) when driven
   only by what the watch names: poll(2) on its sockets until its moment. */
void
rc_transfer_test (bool verbose)
{
    (void)verbose;
    curl_global_init (CURL_GLOBAL_DEFAULT);
    CURL *easy = curl_easy_init ();
    ck_assert (easy);
    curl_easy_setopt (easy, CURLOPT_URL, "http://127.0.0.1:1/");
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, 5000L);
    rc_transfer_t *t = rc_transfer_new (easy);
    ck_assert (t);
    CURLcode result = CURLE_OK;
    int64_t start = rc_mono_ms ();
    int turns = 0;
    while (!rc_transfer_poll (t, &result)) {
        rc_watch_t w;
        rc_watch_init (&w);
        rc_transfer_watch (t, &w);
        struct pollfd fds[RC_WATCH_MAX_FDS];
        for (size_t i = 0; i < w.count; i++) {
            fds[i].fd = w.fds[i].fd;
            fds[i].events = (short)((w.fds[i].events & ZMQ_POLLIN ? POLLIN : 0)
                                    | (w.fds[i].events & ZMQ_POLLOUT ? POLLOUT : 0));
        }
        int64_t wait = w.wake_at == RC_WATCH_NEVER ? 1000 : w.wake_at - rc_mono_ms ();
        ck_assert (w.count > 0 || w.wake_at != RC_WATCH_NEVER); /* never waits on nothing */
        poll (fds, w.count, wait < 0 ? 0 : (int)wait);
        turns++;
        ck_assert (rc_mono_ms () - start < 10000);
    }
    ck_assert (result == CURLE_COULDNT_CONNECT);
    ck_assert (turns < 100); /* woken by events, not spinning */
    rc_transfer_destroy (&t);
    rc_transfer_destroy (&t);
    curl_easy_cleanup (easy);
}
