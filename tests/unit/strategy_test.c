/*  strategy_test.c - the arithmetic of a strategy: batch sizes of N, N%
    and ramps, the failure budget, durations and pause specs, and the
    natural order of host ids. */
#include "selftests.h"
#include "strategy.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static int
s_cmp (const void *a, const void *b)
{
    return rc_strategy_host_cmp (*(const char *const *)a, *(const char *const *)b);
}

void
rc_strategy_test (bool verbose)
{
    (void)verbose;
    /* N: every batch N, the last what is left */
    ck_assert_int_eq (rc_strategy_batch_size ("2", 1, 5), 2);
    ck_assert_int_eq (rc_strategy_batch_size ("2", 3, 5), 2);
    ck_assert_int_eq (rc_strategy_batch_count ("2", 5), 3);
    ck_assert_int_eq (rc_strategy_batch_count ("1", 4), 4);
    ck_assert_int_eq (rc_strategy_batch_count ("10", 4), 1);
    /* N%: rounded up, at least one host */
    ck_assert_int_eq (rc_strategy_batch_size ("25%", 1, 5), 2);
    ck_assert_int_eq (rc_strategy_batch_size ("1%", 1, 5), 1);
    ck_assert_int_eq (rc_strategy_batch_size ("100%", 1, 7), 7);
    ck_assert_int_eq (rc_strategy_batch_count ("100%", 0), 0);
    ck_assert_int_eq (rc_strategy_batch_count ("50%", 10), 2);
    /* a ramp: a canary first, the last entry repeats */
    ck_assert_int_eq (rc_strategy_batch_size ("1,25%", 1, 8), 1);
    ck_assert_int_eq (rc_strategy_batch_size ("1,25%", 2, 8), 2);
    ck_assert_int_eq (rc_strategy_batch_size ("1,25%", 5, 8), 2);
    ck_assert_int_eq (rc_strategy_batch_count ("1,25%", 8), 5);
    ck_assert_int_eq (rc_strategy_batch_size ("1,10%,50%", 2, 20), 2);
    ck_assert_int_eq (rc_strategy_batch_size ("1,10%,50%", 3, 20), 10);
    ck_assert_int_eq (rc_strategy_batch_count ("1,10%,50%", 20), 4);
    /* what is not a batch spec */
    const char *bad[] = {"0", "", "1,,2", "x", "101%", "%", "-1", "1,0", "1234567890", ",1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg (rc_strategy_batch_size (bad[i], 1, 5) == -1, "batch '%s' taken", bad[i]);
    ck_assert_int_eq (rc_strategy_batch_size (NULL, 1, 5), -1);
    ck_assert_int_eq (rc_strategy_batch_size ("2", 0, 5), -1);
    ck_assert_int_eq (rc_strategy_batch_count ("0", 5), -1);

    /* max-fail: N, or N% rounded down (0 hosts is a real budget) */
    ck_assert_int_eq (rc_strategy_max_fail ("0", 5), 0);
    ck_assert_int_eq (rc_strategy_max_fail ("1", 5), 1);
    ck_assert_int_eq (rc_strategy_max_fail ("20%", 5), 1);
    ck_assert_int_eq (rc_strategy_max_fail ("10%", 5), 0);
    ck_assert_int_eq (rc_strategy_max_fail ("100%", 3), 3);
    ck_assert_int_eq (rc_strategy_max_fail ("1,2", 5), -1);
    ck_assert_int_eq (rc_strategy_max_fail ("-1", 5), -1);
    ck_assert_int_eq (rc_strategy_max_fail ("", 5), -1);

    /* durations: "" is the default, 0 and what does not fit 32 bits are not */
    int64_t ms = 0;
    ck_assert (rc_strategy_duration ("", 7, &ms) && ms == 7);
    ck_assert (rc_strategy_duration ("500ms", 7, &ms) && ms == 500);
    ck_assert (rc_strategy_duration ("2m", 7, &ms) && ms == 120000);
    ck_assert (!rc_strategy_duration ("0s", 7, &ms));
    ck_assert (!rc_strategy_duration ("soon", 7, &ms));
    ck_assert (!rc_strategy_duration ("10000h", 7, &ms));
    /* pause: none, manual, or a duration */
    bool manual = true;
    ck_assert (rc_strategy_pause ("", &manual, &ms) && !manual && ms == 0);
    ck_assert (rc_strategy_pause ("manual", &manual, &ms) && manual && ms == 0);
    ck_assert (rc_strategy_pause ("30s", &manual, &ms) && !manual && ms == 30000);
    ck_assert (!rc_strategy_pause ("later", &manual, &ms));
    ck_assert (!rc_strategy_pause ("0s", &manual, &ms));

    /* natural order: digits compare as numbers */
    ck_assert_int_lt (rc_strategy_host_cmp ("web-2", "web-10"), 0);
    ck_assert_int_gt (rc_strategy_host_cmp ("web-10", "web-9"), 0);
    ck_assert_int_eq (rc_strategy_host_cmp ("a", "a"), 0);
    ck_assert_int_lt (rc_strategy_host_cmp ("db-1", "web-1"), 0);
    const char *hosts[] = {"web-10", "web-2", "db-3", "web-1", "web-02a", "web-100"};
    qsort (hosts, sizeof hosts / sizeof hosts[0], sizeof hosts[0], s_cmp);
    const char *sorted[] = {"db-3", "web-02a", "web-1", "web-2", "web-10", "web-100"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
        ck_assert_str_eq (hosts[i], sorted[i]);
}
