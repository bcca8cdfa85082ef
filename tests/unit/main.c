/*  main.c - the unit test binary: each module's selftest as a Check test,
    so a failing assert is reported by name and the others still run. */
#include "selftests.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define RC_TCASE(fn)                                                                               \
    START_TEST (test_##fn)                                                                         \
    {                                                                                              \
        fn (getenv ("RC_VERBOSE") != NULL);                                                        \
    }                                                                                              \
    END_TEST
RC_SELFTESTS (RC_TCASE)
#undef RC_TCASE

int
main (int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    Suite *suite = suite_create ("rollclone");
    TCase *tc = tcase_create ("selftests");
    tcase_set_timeout (tc, 60);
#define RC_ADD(fn)                                                                                 \
    if (!only || strstr (#fn, only))                                                               \
        tcase_add_test (tc, test_##fn);
    RC_SELFTESTS (RC_ADD)
#undef RC_ADD
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
