/*  hostrows.h - the host rows and the records of the active deployments
    as last committed, kept by the engine so that advancing a deployment
    reads neither its whole host list (a flush after every burst of step
    reports read all 1,000 rows of a 1,000-host rollout, 6 KB each, to
    start one batch) nor its record, and a report reads neither its host
    row nor its deployment's.

    A copy, never the truth: every row here was read from the store or
    written to it in a transaction that committed. A transaction that
    failed, a group commit that failed, or a change made elsewhere drops the
    copy, and the next use reads the rows again (rc_dhost_load). */
#ifndef COORD_HOSTROWS_H
#define COORD_HOSTROWS_H

#include "deployments.h"

typedef struct _rc_hostrows_t rc_hostrows_t;

rc_hostrows_t *rc_hostrows_new (void);
void rc_hostrows_destroy (rc_hostrows_t **self_p);

/* The rows of deployment id in their stable order (borrowed: valid until
   the next call that drops or loads them), read from store when not kept:
   0, or -1 with the store's error. The caller may change them in place; it
   then either commits what it changed (rc_hostrows_committed) or drops
   them. */
int rc_hostrows_get (rc_hostrows_t *self, rc_store_t *store, const char *id, rc_dhost_t **hosts,
                     size_t *n);
/* Keeps hosts (n rows in their stable order, taken: freed with the copy)
   as the rows of id: every one of them as a transaction that committed
   just now wrote it (a new deployment's rows, inserted whole). */
void rc_hostrows_adopt (rc_hostrows_t *self, const char *id, rc_dhost_t *hosts, size_t n);
/* The rows of id were saved and committed: they are clean. */
void rc_hostrows_committed (rc_hostrows_t *self, const char *id);
/* One row of id (host->host_id) was committed as host: the copy takes it,
   when there is one. */
void rc_hostrows_put (rc_hostrows_t *self, const char *id, const rc_dhost_t *host);
/* Forgets the rows and the record of id (it ended, starts over, or a
   write failed). */
void rc_hostrows_drop (rc_hostrows_t *self, const char *id);
/* Forgets every copy, rows and records (a group commit failed: what it
   held was not committed). */
void rc_hostrows_drop_all (rc_hostrows_t *self);
/* Rows read from the store for whole host lists since new (tests). */
uint64_t rc_hostrows_loaded (rc_hostrows_t *self);

/* The kept row of host_id in deployment id (borrowed, valid until the next
   call that changes the rows), or NULL when id's rows are not kept. */
const rc_dhost_t *rc_hostrows_find (rc_hostrows_t *self, const char *id, const char *host_id);

/* The record of deployment id into dep: the kept one, else read from the
   store (1 found, 0 not, -1 the store's error). *unsaved: the kept record
   has changes of reports not written yet (rc_hostrows_dep_put). */
int rc_hostrows_dep_get (rc_hostrows_t *self, rc_store_t *store, const char *id,
                         rc_deployment_t *dep, bool *unsaved);
/* Keeps dep as its record (an active deployment's only): written in the
   transaction that just committed, or, unsaved, changed by a report in a
   group transaction whose flush writes it (engine.h). */
void rc_hostrows_dep_put (rc_hostrows_t *self, const rc_deployment_t *dep, bool unsaved);
/* Forgets the record of id (changed elsewhere: it is read again). */
void rc_hostrows_dep_drop (rc_hostrows_t *self, const char *id);

#endif
