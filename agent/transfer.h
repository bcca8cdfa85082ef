/*  transfer.h - one libcurl transfer driven by the owner's loop through
    libcurl's socket interface: CURLMOPT_SOCKETFUNCTION tells which sockets
    to watch and for what, CURLMOPT_TIMERFUNCTION when libcurl wants to be
    called without socket activity (connect and transfer timeouts,
    retries). rc_transfer_watch hands both to the loop; rc_transfer_poll
    lets libcurl act on them. Used by the download (fetch.c) and the
    health check's GET (health.c). */
#ifndef AGENT_TRANSFER_H
#define AGENT_TRANSFER_H

#include "watch.h"

#include <curl/curl.h>
#include <stdbool.h>

typedef struct _rc_transfer_t rc_transfer_t;

/* Starts easy (set up by the caller, who keeps it and cleans it up after
   rc_transfer_destroy). NULL when libcurl refuses. */
rc_transfer_t *rc_transfer_new (CURL *easy);
void rc_transfer_destroy (rc_transfer_t **self_p);

/* Lets libcurl work on every socket it watches (it tests them itself) and
   on its timeout when due. True once the transfer ended, with its result;
   a failure of the multi interface itself ends it with CURLE_FAILED_INIT
   (multi_error names it). */
bool rc_transfer_poll (rc_transfer_t *self, CURLcode *result);
/* libcurl's sockets and the moment of its timeout. */
void rc_transfer_watch (rc_transfer_t *self, rc_watch_t *w);
/* The multi interface's error when it failed, or NULL. */
const char *rc_transfer_multi_error (rc_transfer_t *self);

void rc_transfer_test (bool verbose);

#endif
