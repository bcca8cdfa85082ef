/*  expo_test.c - the Prometheus text writer (rc_expo): label and HELP
    escaping, value spelling, cumulative histogram buckets, and that a
    family's HELP/TYPE come before its samples. */
#include "rc_expo.h"
#include "selftests.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
rc_expo_test (bool verbose)
{
    (void)verbose;
    rc_expo_t *e = rc_expo_new ();
    ck_assert_ptr_nonnull (e);
    rc_expo_family (e, "rc_x", "gauge", "a \\ help\nwith \"quotes\"");
    rc_expo_sample (e, "rc_x", (const char *[]){"host", "a\"b\\c\nd", "app", "web", NULL}, 3);
    rc_expo_sample (e, "rc_x", NULL, 0.25);
    rc_expo_sample (e, "rc_x", (const char *[]){NULL}, NAN);
    rc_expo_sample (e, "rc_x", NULL, -INFINITY);
    size_t len;
    const char *text = rc_expo_text (e, &len);
    ck_assert_str_eq (text, "# HELP rc_x a \\\\ help\\nwith \"quotes\"\n"
                            "# TYPE rc_x gauge\n"
                            "rc_x{host=\"a\\\"b\\\\c\\nd\",app=\"web\"} 3\n"
                            "rc_x 0.25\n"
                            "rc_x NaN\n"
                            "rc_x -Inf\n");
    ck_assert_uint_eq (len, strlen (text));

    /* buckets are cumulative; a value on a bound falls in that bucket */
    static const double bounds[] = {0.1, 1, 10};
    rc_histo_t h;
    rc_histo_init (&h, bounds, 3);
    rc_histo_observe (&h, 0.05);
    rc_histo_observe (&h, 1);
    rc_histo_observe (&h, 5);
    rc_histo_observe (&h, 50);
    size_t taken_len;
    free (rc_expo_take (e, &taken_len));
    ck_assert_uint_eq (taken_len, len);
    rc_expo_histo (e, "rc_h_seconds", (const char *[]){"phase", "fetch", NULL}, &h);
    text = rc_expo_text (e, &len);
    ck_assert_str_eq (text, "rc_h_seconds_bucket{phase=\"fetch\",le=\"0.10000000000000001\"} 1\n"
                            "rc_h_seconds_bucket{phase=\"fetch\",le=\"1\"} 2\n"
                            "rc_h_seconds_bucket{phase=\"fetch\",le=\"10\"} 3\n"
                            "rc_h_seconds_bucket{phase=\"fetch\",le=\"+Inf\"} 4\n"
                            "rc_h_seconds_sum{phase=\"fetch\"} 56.05\n"
                            "rc_h_seconds_count{phase=\"fetch\"} 4\n");

    /* a long label value grows the buffer past its first size */
    char *big = (char *)malloc (10000);
    memset (big, 'x', 9999);
    big[9999] = 0;
    char *taken = rc_expo_take (e, &len);
    free (taken);
    rc_expo_sample (e, "rc_big", (const char *[]){"v", big, NULL}, 1);
    text = rc_expo_text (e, &len);
    ck_assert_uint_eq (len, strlen ("rc_big{v=\"\"} 1\n") + 9999);
    free (big);

    /* the process figures: each family once, values present */
    taken = rc_expo_take (e, &len);
    free (taken);
    rc_expo_process (e, 1700000000123);
    text = rc_expo_text (e, &len);
    ck_assert_ptr_nonnull (strstr (text, "\nprocess_start_time_seconds 1700000000\n"));
    ck_assert_ptr_nonnull (strstr (text, "# TYPE process_cpu_seconds_total counter\n"));
    ck_assert_ptr_nonnull (strstr (text, "\nprocess_resident_memory_bytes "));
    ck_assert_ptr_nonnull (strstr (text, "\nprocess_open_fds "));
    rc_expo_destroy (&e);
    rc_expo_destroy (&e);
}
