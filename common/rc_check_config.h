/*  rc_check_config.h - the coordinator's [check NAME] sections: named
    analysis gates a deployment is held to (deploy --check NAME). A check
    reads one number per host, from Prometheus (prometheus + query) or from
    HAProxy's stats (haproxy_socket + haproxy_backend: the host's server's
    5xx share of the responses since the last evaluation), and compares it
    with max and/or min. rc_config.c hands every key of such a section here;
    the gate itself is coordinator/checks.c. */
#ifndef RC_CHECK_CONFIG_H
#define RC_CHECK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a query that returns no data (or an evaluation that could not be
   made: Prometheus or HAProxy unreachable, an answer that does not parse)
   counts as. The one place these are spelled is rc_check_config.c. */
typedef enum {
    RC_CHECK_NO_DATA_INCONCLUSIVE, /* neither passes nor fails (the default) */
    RC_CHECK_NO_DATA_FAIL,
    RC_CHECK_NO_DATA_PASS,
} rc_check_no_data_t;

/* Limits of a [check NAME] */
#define RC_CHECK_QUERY_MAX 2048   /* a query, before and after substitution */
#define RC_CHECK_FAILURES_MAX 100 /* failures = 1..this */
#define RC_CHECK_INTERVAL_MIN_MS 100
#define RC_CHECK_DEFAULT_INTERVAL_MS 10000
#define RC_CHECK_DEFAULT_FAILURES 1
#define RC_CHECK_DEFAULT_TIMEOUT_MS 5000
/* A HAProxy check judges a share of at least this many responses (fewer
   since the last evaluation is no data, and they add up to the next) */
#define RC_CHECK_DEFAULT_MIN_REQUESTS 20
#define RC_CHECK_MIN_REQUESTS_MAX 1000000
/* The server a haproxy check reads when haproxy_server is not given: the
   host's id is its server's name in haproxy_backend */
#define RC_CHECK_DEFAULT_HAPROXY_SERVER "{host}"
/* A deployment is held to at most this many checks */
#define RC_CHECKS_PER_DEPLOYMENT_MAX 8

typedef struct {
    char *name;            /* from [check NAME] */
    char *prometheus;      /* base URL of a Prometheus (http:// or https://), or NULL */
    char *query;           /* PromQL with $HOST $APP $VERSION $DEPLOYMENT, or NULL */
    char *haproxy_socket;  /* a unix socket path or tcp://HOST:PORT, or NULL */
    char *haproxy_backend; /* the backend (proxy) of the host's server */
    char *haproxy_server;  /* the server's name, {host} the host's id */
    int min_requests;      /* HAProxy: responses a share needs to count */
    double max, min;       /* the bounds, when has_max / has_min */
    bool has_max, has_min;
    int64_t interval_ms; /* between evaluations of one host */
    int64_t timeout_ms;  /* one evaluation's whole time */
    int failures;        /* consecutive failing evaluations that fail the host */
    rc_check_no_data_t on_no_data;
    uint32_t seen; /* bit per key: duplicates are errors */
} rc_check_config_t;

/* One key of [check NAME] into *checks (grown as needed): 0, or -1 with a
   one-line reason (without FILE:LINE) in err. */
int rc_check_config_key (rc_check_config_t **checks, size_t *count, const char *name,
                         const char *key, const char *value, char *err, size_t errlen);
/* What only the whole section can tell, and defaults: 0, or -1 with err. */
int rc_check_config_finish (rc_check_config_t *checks, size_t count, char *err, size_t errlen);
void rc_check_config_free (rc_check_config_t **checks, size_t *count);
/* The check named name, or NULL. */
const rc_check_config_t *rc_check_config_find (const rc_check_config_t *checks, size_t count,
                                               const char *name);
/* "inconclusive" | "fail" | "pass" */
const char *rc_check_no_data_name (rc_check_no_data_t how);

#endif
