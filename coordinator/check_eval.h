/*  check_eval.h - the evaluator of analysis gates ([check NAME]): an actor
    (its own thread) that asks Prometheus's HTTP API through libcurl's
    multi interface, or reads HAProxy's `show stat`, and sends each answer
    back through its pipe. The coordinator's loop only sends jobs and reads
    answers: no HTTP or socket wait ever runs on it. */
#ifndef COORD_CHECK_EVAL_H
#define COORD_CHECK_EVAL_H

#include "deployments.h"
#include "rc_check_config.h"

#include <czmq.h>

typedef enum {
    RC_CHECK_VALUE,   /* value holds the number read */
    RC_CHECK_NO_DATA, /* Prometheus: an empty result or NaN; HAProxy: no response since last time */
    RC_CHECK_ERROR,   /* no evaluation could be made: detail says why */
    RC_CHECK_BASELINE, /* HAProxy: the first read of a server's counters, not an evaluation */
} rc_check_outcome_t;

/* What a Prometheus check reads at most of an answer */
#define RC_CHECK_ANSWER_MAX (1024 * 1024)
/* The text of an evaluation kept for events and status */
#define RC_CHECK_DETAIL_MAX 256

/* One evaluation: sent to the actor, which fills the answer and sends it
   back (the pointer travels, whole, each way). */
typedef struct {
    /* what it is for: the gate's own (checks.c), carried back as it is */
    char deployment_id[RC_ID_MAX];
    char host_id[RC_NAME_MAX + 1];
    char check[RC_NAME_MAX + 1];
    int step;
    bool final; /* asked once the host's batch had finished (checks.c) */
    /* what to ask */
    char *url;    /* Prometheus: the whole /api/v1/query URL, or NULL */
    char *socket; /* HAProxy: haproxy_socket, or NULL */
    char backend[RC_NAME_MAX * 2 + 1];
    char server[RC_NAME_MAX * 2 + 1];
    int min_requests; /* HAProxy: responses a share needs (fewer: no data, kept for the next) */
    bool want_max;    /* of several series, the highest is the one judged (else the lowest) */
    int64_t timeout_ms;
    /* the answer */
    rc_check_outcome_t outcome;
    double value;
    char detail[RC_CHECK_DETAIL_MAX];
} rc_check_job_t;

void rc_check_job_destroy (rc_check_job_t **job_p);

typedef struct _rc_check_eval_t rc_check_eval_t;

rc_check_eval_t *rc_check_eval_new (void);
/* Stops the actor; jobs it held or had answered are freed. */
void rc_check_eval_destroy (rc_check_eval_t **self_p);
/* Hands job (taken) to the actor. */
void rc_check_eval_send (rc_check_eval_t *self, rc_check_job_t **job_p);
/* What the loop watches for answers */
zsock_t *rc_check_eval_socket (rc_check_eval_t *self);
/* The next answer (the caller's), or NULL when the socket had none. */
rc_check_job_t *rc_check_eval_recv (rc_check_eval_t *self);

/* A /api/v1/query answer (JSON): RC_CHECK_VALUE with *value (a vector of
   several series gives its highest when want_max, else its lowest; NaN is
   no data), RC_CHECK_NO_DATA for an empty result, RC_CHECK_ERROR with err
   for an answer that is not a success or does not parse. */
rc_check_outcome_t rc_check_prom_parse (const char *json, size_t len, bool want_max, double *value,
                                        char *err, size_t errlen);
/* The 5xx share of a server's responses between two reads of its
   counters ({5xx, all}): RC_CHECK_NO_DATA when it answered fewer than
   min_requests in between (a share of three responses says little). */
rc_check_outcome_t rc_check_haproxy_share (const long long before[2], const long long now[2],
                                           long long min_requests, double *value);

#endif
