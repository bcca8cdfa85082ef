/*  cli_test.c - selftests of the CLI's terminal output: escaping of text
    from agents, lines cut to a width, and freeze times. */
#include "../../cli/cli.h"

#include <check.h>
#include <stdlib.h>

void
rc_cli_term_test (bool verbose)
{
    (void)verbose;
    rc_cli_term_init ();
    /* control characters escaped, text kept, UTF-8 kept */
    const char *e = rc_cli_esc ("a\x1b[31mred\x07 tab\there\r\nend");
    ck_assert_str_eq (e, "a\\x1b[31mred\\x07 tab\\there\\r\\nend");
    ck_assert_str_eq (rc_cli_esc ("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93");
    /* C1 CSI as UTF-8, a raw 0x9b byte, DEL, a bidi override */
    ck_assert_str_eq (rc_cli_esc ("x\xc2\x9b"
                                  "2J"),
                      "x\\u009b2J");
    ck_assert_str_eq (rc_cli_esc ("x\x9b"
                                  "2J\x7f"),
                      "x\\x9b2J\\x7f");
    ck_assert_str_eq (rc_cli_esc ("\xe2\x80\xae"
                                  "abc"),
                      "\\u202eabc");
    /* a truncated sequence at the end */
    ck_assert_str_eq (rc_cli_esc ("ok\xe2\x9c"), "ok\\xe2\\x9c");
    ck_assert_str_eq (rc_cli_esc (NULL), "");
    /* the ring keeps 16 results alive at once */
    const char *first = rc_cli_esc ("first");
    for (int i = 0; i < RC_CLI_ESC_RING - 1; i++)
        rc_cli_esc ("x");
    ck_assert_str_eq (first, "first");

    char buf[64];
    rc_cli_fit ("0123456789abcdefghij", 12, buf, sizeof buf);
    ck_assert_str_eq (buf, "012345678...");
    rc_cli_fit ("0123456789", 10, buf, sizeof buf);
    ck_assert_str_eq (buf, "0123456789");
    rc_cli_fit ("\033[32mok\033[0m and more text", 12, buf, sizeof buf);
    ck_assert_str_eq (buf, "\033[32mok\033[0m and mo...");
    rc_cli_fit ("\xc3\xa9\xc3\xa9\xc3\xa9", 3, buf, sizeof buf);
    ck_assert_str_eq (buf, "\xc3\xa9\xc3\xa9\xc3\xa9");

    /* times: durations from now, UTC, offsets; garbage refused */
    ck_assert_int_eq (rc_cli_parse_when ("2h", 1000), 1000 + 2 * 3600 * 1000);
    ck_assert_int_eq (rc_cli_parse_when ("2026-12-24T08:00:00Z", 0), 1798099200000LL);
    ck_assert_int_eq (rc_cli_parse_when ("2026-12-24T09:30+01:30", 0), 1798099200000LL);
    ck_assert_int_eq (rc_cli_parse_when ("2026-12-24T06:00:00-02:00", 0), 1798099200000LL);
    ck_assert_int_eq (rc_cli_parse_when ("tomorrow", 0), -1);
    ck_assert_int_eq (rc_cli_parse_when ("2026-12-24T08:00:00Q", 0), -1);
    ck_assert_int_eq (rc_cli_parse_when ("2026-12-24T08:00:00+1", 0), -1);
    char iso[32];
    ck_assert_str_eq (rc_cli_iso_time (1798099200000LL, iso, sizeof iso), "2026-12-24T08:00:00Z");
}
