/*  deployments_test.c - the selftest of coordinator/deployments.c, with Check's ck_assert (moved
   out of the program's code, and holding under -DNDEBUG). */
#include "deployments.h"
#include "bluegreen.h"
#include "selftests.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
rc_deployments_test (bool verbose)
{
    (void)verbose;
    char dir[] = "/tmp/rc_deployments_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    char path[300], err[512];
    snprintf (path, sizeof path, "%s/db", dir);
    rc_store_t *store = rc_store_open (path, err, sizeof err);
    ck_assert (store);
    rc_deployment_t dep = {.id = "d-1",
                           .kind = "deploy",
                           .app = "shop",
                           .version = "v2",
                           .batch_spec = "1,25%",
                           .max_fail_spec = "0",
                           .state = RC_DEP_RUNNING,
                           .total_batches = 3,
                           .gate_open = true,
                           .abort_rollback = true,
                           .created = 5,
                           .progress = 5,
                           .soak_ms = 10000};
    ck_assert (rc_store_begin (store) == 0);
    ck_assert (rc_deployment_insert (store, &dep) == 0);
    rc_dhost_t host = {.host_id = "web-1", .ord = 0, .state = RC_HOST_PENDING};
    ck_assert (rc_dhost_insert (store, "d-1", &host) == 0);
    snprintf (host.host_id, sizeof host.host_id, "web-2");
    host.ord = 1;
    ck_assert (rc_dhost_insert (store, "d-1", &host) == 0);
    ck_assert (rc_store_commit (store) == 0);

    rc_deployment_t back;
    ck_assert (rc_deployment_load (store, "d-1", &back) == 1);
    ck_assert (streq (back.batch_spec, "1,25%") && back.soak_ms == 10000 && back.gate_open);
    ck_assert (rc_deployment_load (store, "nope", &back) == 0);
    back.state = RC_DEP_SUCCEEDED;
    ck_assert (rc_deployment_save (store, &back) == 0);
    zlist_t *ids = rc_deployment_ids (store, true, NULL, 0);
    ck_assert (ids && zlist_size (ids) == 0);
    zlist_destroy (&ids);
    ids = rc_deployment_ids (store, false, "shop", 10);
    ck_assert (ids && zlist_size (ids) == 1);
    zlist_destroy (&ids);

    size_t n = 0;
    rc_dhost_t *hosts = NULL;
    ck_assert (rc_dhost_load (store, "d-1", &hosts, &n) == 0);
    ck_assert (hosts && n == 2 && streq (hosts[1].host_id, "web-2"));
    hosts[1].state = RC_HOST_UPDATING;
    hosts[1].step = 1;
    ck_assert (rc_dhost_save (store, "d-1", &hosts[1]) == 0);
    free (hosts);
    ck_assert (rc_dhost_load (store, "d-1", &hosts, &n) == 0);
    ck_assert (hosts[1].state == RC_HOST_UPDATING && hosts[1].step == 1);
    free (hosts);
#ifdef RC_FAULT_INJECTION
    /* a step that fails half-way gives no list, never a shorter one */
    char fault[320];
    snprintf (fault, sizeof fault, "%s/fault", dir);
    FILE *file = fopen (fault, "w");
    ck_assert (file);
    fputs ("2", file);
    fclose (file);
    setenv ("RC_FAULT_SQLITE_STEP_FILE", fault, 1);
    int failed = 0;
    for (int i = 0; i < 4; i++) {
        if (rc_dhost_load (store, "d-1", &hosts, &n) != 0) {
            ck_assert (hosts == NULL && n == 0);
            ck_assert (strstr (rc_store_errmsg (store), "injected"));
            failed++;
        }
        else {
            ck_assert (n == 2);
            free (hosts);
        }
    }
    ck_assert (failed > 0);
    unsetenv ("RC_FAULT_SQLITE_STEP_FILE");
#endif
    rc_dhost_t one;
    ck_assert (rc_dhost_load_one (store, "d-1", "web-2", &one) == 1 && one.step == 1);
    ck_assert (rc_dhost_load_one (store, "d-1", "web-9", &one) == 0);
    rc_store_destroy (&store);
    char cmd[400];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert (system (cmd) == 0);
}
