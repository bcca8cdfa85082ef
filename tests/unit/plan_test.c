/*  plan_test.c - a plan lays hosts out as the engine's batch arithmetic
    does: an unavailable host keeps its place (deploy) or is waited for
    (rollback), the worst case counts deadlines and pauses between batches. */
#include "plan.h"
#include "selftests.h"

#include <check.h>
#include <string.h>

static void
s_assert_batch (const Rollclone__PlanReply *plan, size_t index, uint32_t number, const char *ids)
{
    ck_assert_uint_gt (plan->n_batches, index);
    const Rollclone__PlanBatch *b = plan->batches[index];
    ck_assert_uint_eq (b->number, number);
    char joined[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < b->n_host_ids && used < sizeof joined; i++)
        used += (size_t)snprintf (joined + used, sizeof joined - used, "%s%s", i ? " " : "",
                                  b->host_ids[i]);
    ck_assert_uint_lt (used, sizeof joined);
    ck_assert_str_eq (joined, ids);
}

void
rc_plan_test (bool verbose)
{
    (void)verbose;
    rc_plan_member_t members[] = {
        {"host-1", true, true},  {"host-2", false, false}, {"host-3", true, true},
        {"host-4", true, false}, {"host-5", true, true},
    };
    /* deploy, ramp 1,50% of 5: batches of 1, 3 and the one left */
    Rollclone__PlanReply *plan = rc_plan_new ("deploy", "web", "v2");
    ck_assert_ptr_nonnull (plan);
    ck_assert_int_eq (rc_plan_skip (plan, "db-1", "not_selected"), 0);
    rc_plan_walk_t walk = {.batch_spec = "1,50%",
                           .total = 5,
                           .progress_deadline_ms = 60000,
                           .pause_ms = 5000,
                           .unavailable_takes_slot = true};
    ck_assert_int_eq (rc_plan_walk (plan, &walk, members, 5), 0);
    ck_assert_uint_eq (plan->n_batches, 3);
    s_assert_batch (plan, 0, 1, "host-1");
    s_assert_batch (plan, 1, 2, "host-3");
    s_assert_batch (plan, 2, 3, "host-5");
    ck_assert_uint_eq (plan->hosts, 3);
    ck_assert_uint_eq (plan->n_skipped, 3);
    ck_assert_str_eq (plan->skipped[1]->host_id, "host-2");
    ck_assert_str_eq (plan->skipped[1]->reason, "offline");
    ck_assert_str_eq (plan->skipped[2]->host_id, "host-4");
    ck_assert_str_eq (plan->skipped[2]->reason, "unhealthy");
    /* each updated host a deadline, a pause between batches */
    ck_assert_uint_eq (plan->worst_case_ms, 3 * 60000 + 2 * 5000);
    rollclone__plan_reply__free_unpacked (plan, NULL);

    /* a batch whose hosts are all unavailable is still a batch to the
       engine: its number is used and a pause follows it */
    rc_plan_member_t down_first[] = {{"a-1", false, false}, {"a-2", true, true}};
    plan = rc_plan_new ("deploy", "web", "v2");
    walk = (rc_plan_walk_t){.batch_spec = "1",
                            .total = 2,
                            .progress_deadline_ms = 1000,
                            .pause_ms = 500,
                            .unavailable_takes_slot = true};
    ck_assert_int_eq (rc_plan_walk (plan, &walk, down_first, 2), 0);
    ck_assert_uint_eq (plan->n_batches, 1);
    s_assert_batch (plan, 0, 2, "a-2");
    ck_assert_uint_eq (plan->worst_case_ms, 1000 + 500);
    rollclone__plan_reply__free_unpacked (plan, NULL);

    /* rollback: an offline host is passed over (waited for), not a slot */
    plan = rc_plan_new ("rollback", "web", "");
    walk = (rc_plan_walk_t){.batch_spec = "2",
                            .total = 5,
                            .progress_deadline_ms = 1000,
                            .unavailable_takes_slot = false};
    ck_assert_int_eq (rc_plan_walk (plan, &walk, members, 5), 0);
    ck_assert_uint_eq (plan->n_batches, 2);
    s_assert_batch (plan, 0, 1, "host-1 host-3");
    s_assert_batch (plan, 1, 2, "host-5");
    ck_assert_uint_eq (plan->n_skipped, 2);
    ck_assert_uint_eq (plan->hosts, 3);
    ck_assert_uint_eq (plan->worst_case_ms, 3000);
    rollclone__plan_reply__free_unpacked (plan, NULL);

    /* a spec the engine refuses is refused here too */
    plan = rc_plan_new ("deploy", "web", "v2");
    walk.batch_spec = "0";
    ck_assert_int_eq (rc_plan_walk (plan, &walk, members, 5), -1);
    rollclone__plan_reply__free_unpacked (plan, NULL);
}
