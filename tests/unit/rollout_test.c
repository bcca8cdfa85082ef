/*  rollout_test.c - the deployment state machine's data: the state names
    (one table, both ways), the transitions tables, and the small
    transitions that need no store: marking hosts for rollback, a host in
    its step, the reason that names failed hosts. */
#include "rc_states.h"
#include "rollout.h"
#include "selftests.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

void
rc_rollout_test (bool verbose)
{
    (void)verbose;
    /* every state's name parses back to it, and no two share a name */
    for (int s = 0; s < RC_DEP_STATE_COUNT; s++) {
        rc_dep_state_t back = RC_DEP_STATE_COUNT;
        ck_assert_int_eq (rc_dep_state_parse (rc_dep_state_name ((rc_dep_state_t)s), &back), 0);
        ck_assert_int_eq (back, s);
    }
    for (int s = 0; s < RC_HOST_STATE_COUNT; s++) {
        rc_host_state_t back = RC_HOST_STATE_COUNT;
        ck_assert_int_eq (rc_host_state_parse (rc_host_state_name ((rc_host_state_t)s), &back), 0);
        ck_assert_int_eq (back, s);
    }
    /* the spellings the store, the CLI and scripts know */
    ck_assert_str_eq (rc_dep_state_name (RC_DEP_ROLLING_BACK), "rolling_back");
    ck_assert_str_eq (rc_dep_state_name (RC_DEP_ROLLBACK_FAILED), "rollback_failed");
    ck_assert_str_eq (rc_host_state_name (RC_HOST_ROLLBACK_PENDING), "rollback_pending");
    ck_assert_str_eq (rc_host_state_name (RC_HOST_NONE), "");
    ck_assert_str_eq (rc_dep_state_name ((rc_dep_state_t)99), "?");
    rc_dep_state_t dep_state;
    rc_host_state_t host_state;
    ck_assert_int_eq (rc_dep_state_parse ("Running", &dep_state), -1);
    ck_assert_int_eq (rc_dep_state_parse ("pending", &dep_state), -1);
    ck_assert_int_eq (rc_host_state_parse ("paused", &host_state), -1);
    ck_assert_int_eq (rc_host_state_parse (NULL, &host_state), -1);
    /* active: what may still move */
    int active = 0;
    for (int s = 0; s < RC_DEP_STATE_COUNT; s++)
        active += rc_dep_state_active ((rc_dep_state_t)s);
    ck_assert_int_eq (active, 3);
    for (int i = 0; rc_dep_active_names[i]; i++) {
        ck_assert_int_eq (rc_dep_state_parse (rc_dep_active_names[i], &dep_state), 0);
        ck_assert (rc_dep_state_active (dep_state));
    }

    /* the host transitions: the update path, the rollback path, unknown */
    ck_assert (rc_rollout_host_may (RC_HOST_PENDING, RC_HOST_UPDATING));
    ck_assert (rc_rollout_host_may (RC_HOST_UPDATING, RC_HOST_SUCCEEDED));
    ck_assert (rc_rollout_host_may (RC_HOST_UPDATING, RC_HOST_UNKNOWN));
    ck_assert (rc_rollout_host_may (RC_HOST_UNKNOWN, RC_HOST_UPDATING));
    ck_assert (rc_rollout_host_may (RC_HOST_SUCCEEDED, RC_HOST_ROLLBACK_PENDING));
    ck_assert (rc_rollout_host_may (RC_HOST_ROLLBACK_PENDING, RC_HOST_ROLLING_BACK));
    ck_assert (rc_rollout_host_may (RC_HOST_ROLLING_BACK, RC_HOST_ROLLED_BACK));
    ck_assert (rc_rollout_host_may (RC_HOST_FAILED, RC_HOST_FAILED));
    /* and what never happens: a host is never updated twice, nor skips
       its step */
    ck_assert (!rc_rollout_host_may (RC_HOST_SUCCEEDED, RC_HOST_UPDATING));
    ck_assert (!rc_rollout_host_may (RC_HOST_PENDING, RC_HOST_SUCCEEDED));
    ck_assert (!rc_rollout_host_may (RC_HOST_PENDING, RC_HOST_ROLLING_BACK));
    ck_assert (!rc_rollout_host_may (RC_HOST_ROLLED_BACK, RC_HOST_UPDATING));
    ck_assert (!rc_rollout_host_may (RC_HOST_UPDATING, RC_HOST_PENDING));
    ck_assert (!rc_rollout_host_may (RC_HOST_PENDING, (rc_host_state_t)99));
    /* no state is a dead end but the ends, and every state is reached */
    for (int to = 1; to < RC_HOST_STATE_COUNT; to++) {
        bool reached = false;
        for (int from = 0; from < RC_HOST_STATE_COUNT; from++)
            reached =
                reached
                || (from != to && rc_rollout_host_may ((rc_host_state_t)from, (rc_host_state_t)to));
        ck_assert_msg (reached, "host state %s is never reached",
                       rc_host_state_name ((rc_host_state_t)to));
    }
    /* the deployment transitions */
    ck_assert (rc_rollout_dep_may (RC_DEP_RUNNING, RC_DEP_PAUSED));
    ck_assert (rc_rollout_dep_may (RC_DEP_PAUSED, RC_DEP_RUNNING));
    ck_assert (rc_rollout_dep_may (RC_DEP_RUNNING, RC_DEP_ROLLING_BACK));
    ck_assert (rc_rollout_dep_may (RC_DEP_ROLLING_BACK, RC_DEP_ROLLED_BACK));
    ck_assert (rc_rollout_dep_may (RC_DEP_SUCCEEDED, RC_DEP_ROLLING_BACK));
    ck_assert (!rc_rollout_dep_may (RC_DEP_SUCCEEDED, RC_DEP_RUNNING));
    ck_assert (!rc_rollout_dep_may (RC_DEP_ROLLING_BACK, RC_DEP_PAUSED));
    ck_assert (!rc_rollout_dep_may (RC_DEP_ROLLING_BACK, RC_DEP_SUCCEEDED));
    ck_assert (!rc_rollout_dep_may (RC_DEP_ROLLING_BACK, RC_DEP_FAILED));
    ck_assert (!rc_rollout_dep_may (RC_DEP_ROLLED_BACK, RC_DEP_SUCCEEDED));
    for (int s = 0; s < RC_DEP_STATE_COUNT; s++)
        if (!rc_dep_state_active ((rc_dep_state_t)s) && s != RC_DEP_NONE)
            ck_assert_msg (!rc_rollout_dep_may ((rc_dep_state_t)s, RC_DEP_RUNNING),
                           "an ended deployment (%s) runs again",
                           rc_dep_state_name ((rc_dep_state_t)s));

    /* marking for rollback: only what the deployment touched and changed */
    rc_dhost_t hosts[5];
    memset (hosts, 0, sizeof hosts);
    const rc_host_state_t states[] = {RC_HOST_SUCCEEDED, RC_HOST_FAILED, RC_HOST_FAILED,
                                      RC_HOST_PENDING, RC_HOST_SUCCEEDED};
    for (int i = 0; i < 5; i++) {
        snprintf (hosts[i].host_id, sizeof hosts[i].host_id, "web-%d", i + 1);
        hosts[i].state = states[i];
        hosts[i].touched = i != 3 && i != 4;
    }
    hosts[2].needs_rollback = true; /* failed half-way, could not be put back */
    ck_assert_uint_eq (rc_rollout_mark_rollback (hosts, 5), 2);
    ck_assert_int_eq (hosts[0].state, RC_HOST_ROLLBACK_PENDING);
    ck_assert (hosts[0].needs_rollback && hosts[0].dirty);
    ck_assert_int_eq (hosts[1].state, RC_HOST_FAILED); /* its agent put it back */
    ck_assert_int_eq (hosts[2].state, RC_HOST_ROLLBACK_PENDING);
    ck_assert_int_eq (hosts[3].state, RC_HOST_PENDING);
    ck_assert_int_eq (hosts[4].state, RC_HOST_SUCCEEDED); /* not ours to roll back */
    /* in its step, heard from or not */
    hosts[3].state = RC_HOST_UNKNOWN;
    hosts[3].unknown_of = RC_HOST_ROLLING_BACK;
    ck_assert (rc_rollout_in_step (&hosts[3], RC_HOST_ROLLING_BACK));
    ck_assert (!rc_rollout_in_step (&hosts[3], RC_HOST_UPDATING));
    ck_assert (rc_rollout_in_step (&hosts[0], RC_HOST_ROLLBACK_PENDING));

    rc_deployment_t *dep = (rc_deployment_t *)calloc (1, sizeof *dep);
    ck_assert_ptr_nonnull (dep);
    dep->state = RC_DEP_ABORTED;
    ck_assert (!rc_rollout_rolls_back (dep));
    dep->abort_rollback = true;
    ck_assert (rc_rollout_rolls_back (dep));
    dep->state = RC_DEP_FAILED;
    ck_assert (!rc_rollout_rolls_back (dep));

    /* a reason names whole hosts and counts the others, never cuts one */
    snprintf (dep->reason, sizeof dep->reason, "budget spent");
    size_t nh = 100;
    rc_dhost_t *many = (rc_dhost_t *)calloc (nh, sizeof *many);
    ck_assert_ptr_nonnull (many);
    for (size_t i = 0; i < nh; i++) {
        snprintf (many[i].host_id, sizeof many[i].host_id, "host-%03zu-%032d", i, 0);
        many[i].state = RC_HOST_ROLLBACK_FAILED;
    }
    rc_rollout_reason_hosts (dep, many, nh, RC_HOST_ROLLBACK_FAILED, nh, "could not roll back");
    ck_assert (strncmp (dep->reason, "budget spent; could not roll back 100 host(s): host-000-", 56)
               == 0);
    char *more = strstr (dep->reason, " and ");
    ck_assert (more && strstr (more, " more") && more[-1] == '0');
    /* few hosts: every one named, none counted */
    snprintf (dep->reason, sizeof dep->reason, "%s", "");
    rc_rollout_reason_hosts (dep, many, 2, RC_HOST_ROLLBACK_FAILED, 2, "could not roll back");
    ck_assert_str_eq (dep->reason, "could not roll back 2 host(s): host-000-"
                                   "00000000000000000000000000000000, host-001-"
                                   "00000000000000000000000000000000");
    /* ended again after a reconcile reopened it: the clause is replaced,
       not appended once more (a host that kept coming back on the new
       release grew the reason by a clause each time) */
    snprintf (dep->reason, sizeof dep->reason, "%s", "health failed on host-9");
    rc_rollout_reason_hosts (dep, many, 1, RC_HOST_ROLLBACK_FAILED, 1, "could not roll back");
    rc_rollout_reason_hosts (dep, many, 2, RC_HOST_ROLLBACK_FAILED, 2, "could not roll back");
    ck_assert_str_eq (dep->reason, "health failed on host-9; could not roll back 2 host(s): "
                                   "host-000-00000000000000000000000000000000, host-001-"
                                   "00000000000000000000000000000000");
    snprintf (dep->reason, sizeof dep->reason, "%s", "could not roll back 1 host(s): host-7");
    rc_rollout_reason_hosts (dep, many, 1, RC_HOST_ROLLBACK_FAILED, 1, "could not roll back");
    ck_assert_str_eq (dep->reason, "could not roll back 1 host(s): "
                                   "host-000-00000000000000000000000000000000");
    free (many);
    free (dep);
}
