/*  privsep_test.c - selftests of the agent's privilege separation pieces:
    the text cleaner, the typed channel and the privilege drop. */
#include "channel.h"
#include "privsep.h"
#include "rc_text.h"

#include <check.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

void
rc_text_test (bool verbose)
{
    (void)verbose;
    char *out = rc_text_clean ("plain\ttext\n", 11, 0);
    ck_assert_str_eq (out, "plain\ttext\n");
    free (out);
    /* colours and a title-setting OSC go whole; \r and BEL go */
    const char *ansi = "\x1b[1;31mred\x1b[0m \x1b]0;title\x07ok\r\n\a";
    out = rc_text_clean (ansi, strlen (ansi), 0);
    ck_assert_str_eq (out, "red ok\n");
    free (out);
    /* invalid bytes, an overlong '/', a surrogate, a C1 CSI: replaced or
       dropped, valid multi-byte characters kept */
    const char bad[] = "a\xff"
                       "b\xc0\xaf"
                       "c\xed\xa0\x80"
                       "d\xc2\x9b"
                       "e \xc3\xa9\xe2\x82\xac";
    out = rc_text_clean (bad, sizeof bad - 1, 0);
    ck_assert_str_eq (out, "a\xef\xbf\xbd"
                           "b\xef\xbf\xbd\xef\xbf\xbd"
                           "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                           "de \xc3\xa9\xe2\x82\xac");
    ck_assert (rc_text_is_clean (out));
    free (out);
    ck_assert (!rc_text_is_clean ("\x1b[0m"));
    ck_assert (!rc_text_is_clean ("\xff"));
    /* a bound keeps the end, cut at a character boundary */
    out = rc_text_clean ("\xc3\xa9\xc3\xa9\xc3\xa9", 6, 3);
    ck_assert_str_eq (out, "\xc3\xa9");
    free (out);
    /* 5000 random bytes: always clean */
    unsigned char noise[5000];
    srand (42);
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)rand ();
    out = rc_text_clean ((const char *)noise, sizeof noise, 4096);
    ck_assert (out && strlen (out) <= 4096 && rc_text_is_clean (out));
    free (out);
    out = rc_text_clean (NULL, 0, 0);
    ck_assert_str_eq (out, "");
    free (out);
}

void
rc_channel_test (bool verbose)
{
    (void)verbose;
    int fds[2];
    char err[256];
    ck_assert_int_eq (rc_channel_pair (fds, err, sizeof err), 0);
    int raw = dup (fds[0]); /* to send what no channel object would */
    rc_channel_t *net = rc_channel_new (fds[0], RC_CHANNEL_NETWORK);
    rc_channel_t *exec = rc_channel_new (fds[1], RC_CHANNEL_EXECUTOR);
    ck_assert (net && exec);
    rc_msg_type_t type;
    const uint8_t *body;
    size_t len;
    ck_assert_int_eq (rc_channel_recv (exec, &type, &body, &len), RC_CHANNEL_NONE);

    ck_assert_int_eq (rc_channel_send (net, RC_MSG_STEP, "abc", 3, false), 0);
    ck_assert_int_eq (rc_channel_send (net, RC_MSG_STATE_ASK, NULL, 0, false), 0);
    ck_assert_int_eq (rc_channel_recv (exec, &type, &body, &len), RC_CHANNEL_MSG);
    ck_assert (type == RC_MSG_STEP && len == 3 && memcmp (body, "abc", 3) == 0);
    ck_assert_int_eq (rc_channel_recv (exec, &type, &body, &len), RC_CHANNEL_MSG);
    ck_assert (type == RC_MSG_STATE_ASK && len == 0);
    /* sizes a type does not allow are not sent */
    ck_assert_int_eq (rc_channel_send (net, RC_MSG_STATE_ASK, "x", 1, false), -1);
    uint8_t two[2] = {1, 1};
    ck_assert_int_eq (rc_channel_send (exec, RC_MSG_HEALTH, two, 2, true), -1);
    uint8_t one = 1;
    ck_assert_int_eq (rc_channel_send (exec, RC_MSG_HEALTH, &one, 1, true), 0);
    ck_assert_int_eq (rc_channel_recv (net, &type, &body, &len), RC_CHANNEL_MSG);
    ck_assert (type == RC_MSG_HEALTH && len == 1 && body[0] == 1);

    /* a peer breaking the rules: refused, the next message still read */
    struct {
        uint32_t type, len;
        uint8_t body[4];
    } forged[] = {
        {RC_MSG_STATE_ASK, 4, "abc"}, /* STATE_ASK is empty */
        {RC_MSG_STEP, 9, "abc"},      /* header says more than sent */
        {RC_MSG_REPORT, 4, "abc"},    /* the executor never receives REPORT */
        {99, 4, "abc"},               /* no such type */
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        ck_assert_int_eq (send (raw, &forged[i], 12, 0), 12);
        ck_assert_int_eq (rc_channel_recv (exec, &type, &body, &len), RC_CHANNEL_BAD);
        if (verbose)
            printf ("refused: %s\n", rc_channel_errmsg (exec));
    }
    ck_assert_int_eq (send (raw, "ab", 2, 0), 2); /* shorter than a header */
    ck_assert_int_eq (rc_channel_recv (exec, &type, &body, &len), RC_CHANNEL_BAD);
    /* larger than any message: truncated by the receive, refused */
    size_t big = 2 * 1024 * 1024;
    uint8_t *huge = calloc (1, big);
    ck_assert (huge);
    if (send (raw, huge, 512 * 1024, 0) == 512 * 1024)
        ck_assert_int_eq (rc_channel_recv (exec, &type, &body, &len), RC_CHANNEL_BAD);
    free (huge);
    ck_assert_int_eq (rc_channel_send (net, RC_MSG_READY, NULL, 0, false), 0);
    ck_assert_int_eq (rc_channel_recv (exec, &type, &body, &len), RC_CHANNEL_MSG);
    ck_assert (type == RC_MSG_READY);

    /* the other process gone */
    close (raw);
    rc_channel_destroy (&net);
    ck_assert_int_eq (rc_channel_recv (exec, &type, &body, &len), RC_CHANNEL_EOF);
    rc_channel_destroy (&exec);
    rc_channel_destroy (&exec);
}

/* In a child: drop to nobody, then try to get root back and to exec. */
static int
s_dropped_child (void)
{
    struct passwd *pw = getpwnam ("nobody");
    char err[256];
    if (!pw || rc_privsep_drop (pw->pw_uid, pw->pw_gid, err, sizeof err) != 0)
        return 10;
    if (rc_privsep_no_exec (err, sizeof err) != 0)
        return 11;
    if (getuid () == 0 || geteuid () == 0 || setuid (0) == 0 || setgid (0) == 0)
        return 12;
    char line[256];
    FILE *f = fopen ("/proc/self/status", "r");
    int zero_caps = 0;
    while (f && fgets (line, sizeof line, f))
        if ((strncmp (line, "CapEff:", 7) == 0 || strncmp (line, "CapPrm:", 7) == 0
             || strncmp (line, "CapBnd:", 7) == 0 || strncmp (line, "CapAmb:", 7) == 0)
            && strspn (line + 8, "0") == 16)
            zero_caps++;
        else if (strncmp (line, "NoNewPrivs:", 11) == 0 && !strstr (line, "1"))
            return 13;
    if (f)
        fclose (f);
    if (zero_caps != 4)
        return 14;
    char *argv[] = {"/bin/true", NULL};
    execv (argv[0], argv);
    return errno == EPERM ? 0 : 15;
}

void
rc_privsep_test (bool verbose)
{
    (void)verbose;
    char err[256];
    ck_assert_int_eq (rc_privsep_drop (0, 0, err, sizeof err), -1);
    if (geteuid () != 0 || !getpwnam ("nobody")) {
        if (verbose)
            printf ("rc_privsep_test: not root or no user nobody: drop not tested\n");
        return;
    }
    pid_t pid = fork ();
    ck_assert (pid >= 0);
    if (pid == 0)
        _exit (s_dropped_child ());
    int status;
    ck_assert_int_eq (waitpid (pid, &status, 0), pid);
    ck_assert (WIFEXITED (status));
    ck_assert_int_eq (WEXITSTATUS (status), 0);
}
