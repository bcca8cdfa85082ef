/*  checks.h - analysis gates: the [check NAME]s a deployment is held to
    (deploy --check NAME). While a host of the current batch soaks, and
    once more after its whole batch has finished, each of its checks is
    evaluated every `interval` (by the evaluator actor, check_eval.h, off
    the loop); a check that fails `failures` evaluations in a row fails the
    host (reason check:NAME), which counts against max-fail like a health
    failure and is put back on its previous release at once, as its agent
    does after a failed health check (rc_rollout_put_back). A host is not done, and its batch does
   not end, until every check has passed an evaluation made after the batch finished. What each
   evaluation said is a row (check_state), so a coordinator restarted mid-soak goes on from the same
   counts. */
#ifndef COORD_CHECKS_H
#define COORD_CHECKS_H

#include "check_eval.h"
#include "deployments.h"
#include "rollclone.pb-c.h"
#include "rc_check_config.h"
#include "rollout.h"
#include "store.h"

typedef struct _rc_checks_t rc_checks_t;

/* A host a check failed has the reason RC_CHECK_FAILURE_PREFIX "NAME". */
#define RC_CHECK_FAILURE_PREFIX "check:"

/* store and the checks (the config's) are borrowed. NULL only when the
   evaluator could not start. */
rc_checks_t *rc_checks_new (rc_store_t *store, const rc_check_config_t *checks, size_t count);
void rc_checks_destroy (rc_checks_t **self_p);

/* Answers the loop takes in one wake, at most */
#define RC_CHECK_ANSWERS_PER_WAKE 64

/* The socket the loop reads answers from (rc_checks_on_answer). */
zsock_t *rc_checks_socket (rc_checks_t *self);
/* Records one answer of the evaluator (one transaction). 1 with the id of
   the deployment it may move on in id (RC_ID_MAX bytes), 0 when it changes
   nothing or there was none. */
int rc_checks_on_answer (rc_checks_t *self, char *id);

/* The gate (rc_rollout_gate_fn): called in every advance of a deployment
   that updates, it fails the hosts a check failed, counts the hosts still
   held in *inflight, and sends the evaluations that are due. */
int rc_checks_gate (void *arg, rc_rollout_t *rollout, rc_deployment_t *dep, rc_dhost_t *hosts,
                    size_t n, int64_t now, int *inflight);

/* deploy --check: each name a [check NAME] of the config, none twice, at
   most RC_CHECKS_PER_DEPLOYMENT_MAX. 0, or -1 with a one-line reason. */
int rc_checks_validate (const rc_checks_t *self, char **names, size_t n, char *err, size_t errlen);
/* Inside the deploy's transaction: the names, in their order. */
int rc_checks_save (rc_store_t *store, const char *deployment_id, char **names, size_t n);
/* The names a deployment is held to, "a,b" ("" for none): caller frees;
   NULL when the store could not say. */
char *rc_checks_names (rc_store_t *store, const char *deployment_id);

/* The last evaluations of one host of a deployment, for status (those of
   its latest step up to step that has any: a host rolled back shows what
   failed it): each row
   into fn (check, its result, value or NULL, evaluations, consecutive
   failures, inconclusive ones, passed, detail). 0, or -1 on a store error. */
typedef void (rc_checks_row_fn) (void *arg, const char *check, const char *result,
                                 const double *value, int evaluations, int consecutive,
                                 int inconclusive, bool passed, const char *detail);
int rc_checks_host_rows (rc_store_t *store, const char *deployment_id, const char *host_id,
                         int step, rc_checks_row_fn *fn, void *arg);

/* status: info's checks (the names) and, for each host of its current
   batch and each host a check failed, the last evaluation of each check
   (hosts: the deployment's rows, info->hosts made from them in order).
   0, or -1 on a store error. */
int rc_checks_info (rc_store_t *store, Rollclone__DeploymentInfo *info, const rc_dhost_t *hosts,
                    size_t n, int batch);

/* The values a query may name, each checked with rc_name_valid */
typedef struct {
    const char *host;
    const char *app;
    const char *version;
    const char *deployment;
} rc_check_vars_t;

/* query with $HOST $APP $VERSION $DEPLOYMENT replaced by vars' values,
   each escaped for a PromQL double-quoted string (\ and "); a value that
   is not a name is refused. The text (caller frees), or NULL with err. */
char *rc_check_query_expand (const char *query, const rc_check_vars_t *vars, char *err,
                             size_t errlen);
/* A haproxy_server pattern with {host} replaced: 0, or -1 when it does
   not fit out or host is not a name. */
int rc_check_server_expand (const char *pattern, const char *host, char *out, size_t len);

typedef enum {
    RC_CHECK_PASS,
    RC_CHECK_FAIL,
    RC_CHECK_INCONCLUSIVE,
} rc_check_verdict_t;
/* What an answer means for check c (on_no_data for no data or an error);
   why says it in a line ("0.2 above max 0.01"). */
rc_check_verdict_t rc_check_judge (const rc_check_config_t *c, rc_check_outcome_t outcome,
                                   double value, const char *detail, char *why, size_t len);
const char *rc_check_verdict_name (rc_check_verdict_t verdict);

#endif
