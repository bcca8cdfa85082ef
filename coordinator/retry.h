/*  retry.h - `rollclone deploy --retry ID`: a finished deployment run again
    on only the hosts it did not leave on its version (failed, offline or
    unhealthy at their turn, rolled back, never reached), as a new
    deployment with retry_of set. App, artifact and strategy come from the
    deployment retried unless the request gives them. */
#ifndef COORD_RETRY_H
#define COORD_RETRY_H

#include "deployments.h"
#include "rollclone.pb-c.h"

typedef struct {
    Rollclone__DeployRequest req; /* the request to validate and run */
    rc_deployment_t of;           /* the deployment retried */
    char soak[32];                /* its durations, as request text */
    char health_timeout[32];
    char progress_deadline[32];
    char offline_grace[32];
} rc_retry_t;

/* Fills retry from asked (whose retry_of names the deployment) and that
   deployment. RC_EXIT_OK, or the exit code with a one-line reason in err:
   RC_EXIT_USAGE when it does not exist, is still running, is a rollback
   or names another app; RC_EXIT_FAILED when the store fails. The strings
   of retry->req point into asked and retry: keep both while it is used. */
int rc_retry_prepare (rc_store_t *store, const Rollclone__DeployRequest *asked, rc_retry_t *retry,
                      char *err, size_t errlen);

/* Appends to hosts (a zlistx of strings that duplicates) the hosts of
   deployment id that did not end succeeded, in the deployment's order.
   0, or -1 (store error). */
int rc_retry_hosts (rc_store_t *store, const char *id, zlistx_t *hosts);

#endif
