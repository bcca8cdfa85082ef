/*  once.h - the run-once steps of a deployment (deploy --before NAME,
    --after NAME, --run-on HOST): a NAME of the agents' own
    [app] run_once_NAME commands, run on one host of the selection before
    the first batch or after the last. Their records ride on the
    deployment's (deployments.h), saved in the same transaction as every
    transition (table deployment_run_once, schema 8), so a coordinator
    restarted in the middle of one resumes it. The state names live here. */
#ifndef COORD_ONCE_H
#define COORD_ONCE_H

#include "rc_defaults.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>

#define RC_ONCE_TAIL_MAX 4096
#define RC_ONCE_TEXT_MAX 1024

typedef enum {
    RC_ONCE_BEFORE, /* before the first batch: its failure touches no host */
    RC_ONCE_AFTER,  /* after the last: its failure fails (and rolls back) */
    RC_ONCE_WHEN_COUNT
} rc_once_when_t;

typedef enum {
    RC_ONCE_NONE, /* the deployment has no such step */
    RC_ONCE_PENDING,
    RC_ONCE_RUNNING,
    RC_ONCE_SUCCEEDED,
    RC_ONCE_FAILED,
    RC_ONCE_STATE_COUNT
} rc_once_state_t;

typedef struct {
    rc_once_state_t state;
    char name[RC_RUN_ONCE_NAME_MAX + 1]; /* run_once_NAME on the agent */
    char run_on[RC_NAME_MAX + 1];        /* --run-on HOST, or "" (the engine picks) */
    char host_id[RC_NAME_MAX + 1];       /* where it runs (or ran), "" before */
    int exit_code;
    char output_tail[RC_ONCE_TAIL_MAX + 1];
    char error[RC_ONCE_TEXT_MAX];
    int64_t started; /* unix ms, records */
    int64_t finished;
} rc_once_t;

const char *rc_once_when_name (rc_once_when_t when);
const char *rc_once_state_name (rc_once_state_t state);
/* The instruction step number of when's run (rc_defaults.h). */
uint32_t rc_once_step (rc_once_when_t when);
/* Which run a report's step is of: 0 and *when, or -1 (a host's step). */
int rc_once_of_step (uint32_t step, rc_once_when_t *when);

/* once[RC_ONCE_WHEN_COUNT] of deployment id: save every one that is not
   NONE; load (NONE where there is no row). 0 or -1 (rc_store_errmsg). */
int rc_once_save (rc_store_t *store, const char *id, const rc_once_t *once);
int rc_once_load (rc_store_t *store, const char *id, rc_once_t *once);

/* A candidate host for a run, in the selection's stable order. */
typedef struct {
    const char *host_id;
    bool online;
    bool healthy;
    bool preferred; /* e.g. updated by this deployment, for an `after` */
} rc_once_host_t;

/* Picks the host of a run: run_on when given (it must be online and
   healthy), else the first online, healthy, preferred host, else the first
   online, healthy one: the same answer for the same fleet. Its index, or
   -1 with a one-line reason in err. Pure: plans and tests call it too. */
int rc_once_pick (const char *run_on, const rc_once_host_t *hosts, size_t n, char *err,
                  size_t errlen);

void rc_once_test (bool verbose);

#endif
