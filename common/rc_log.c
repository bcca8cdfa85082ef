/*  rc_log.c - log lines to journald (sd_journal_sendv) or to stderr. */
#include "rc_log.h"
#include "rc_systemd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
/* the location is the caller's (rc_log_emit's arguments), not ours */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <time.h>

/* MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_FILE, CODE_LINE, CODE_FUNC
   and the three of rc_log_fields_t. */
#define S_JOURNAL_FIELDS_MAX 9

static bool s_verbose;
static bool s_journal; /* stderr is the journal: send natively */
static const char *s_ident = "rollclone";

void
rc_log_init (const char *ident, bool verbose)
{
    s_verbose = verbose;
    s_ident = ident;
    s_journal = rc_systemd_stderr_is_journal ();
    /* czmq's own few messages keep going to stderr */
    zsys_set_logident (ident);
    zsys_set_logstream (stderr);
}

bool
rc_log_verbose (void)
{
    return s_verbose;
}

/* Adds "NAME=value" to iov (value may be NULL: nothing added). Each field
   is its own allocation, freed by the caller. */
static void
s_field (struct iovec *iov, int *n, const char *name, const char *value)
{
    char *text = NULL;
    if (!value)
        return;
    int len = asprintf (&text, "%s=%s", name, value);
    if (len < 0)
        return;
    iov[*n].iov_base = text;
    iov[*n].iov_len = (size_t)len;
    (*n)++;
}

static int
s_journal_send (const char *file, int line, const char *func, int priority,
                const rc_log_fields_t *fields, const char *message)
{
    struct iovec iov[S_JOURNAL_FIELDS_MAX];
    int n = 0;
    char prio[2] = {(char)('0' + (priority & LOG_PRIMASK)), '\0'};
    s_field (iov, &n, "MESSAGE", message);
    s_field (iov, &n, "PRIORITY", prio);
    s_field (iov, &n, "SYSLOG_IDENTIFIER", s_ident);
    char line_text[16];
    snprintf (line_text, sizeof line_text, "%d", line);
    s_field (iov, &n, "CODE_FILE", file);
    s_field (iov, &n, "CODE_LINE", line_text);
    s_field (iov, &n, "CODE_FUNC", func);
    if (fields) {
        s_field (iov, &n, "DEPLOYMENT_ID", fields->deployment_id);
        s_field (iov, &n, "HOST_ID", fields->host_id);
        s_field (iov, &n, "APP", fields->app);
    }
    int rc = n >= 3 ? sd_journal_sendv (iov, n) : -1;
    for (int i = 0; i < n; i++)
        free (iov[i].iov_base);
    return rc;
}

static void
s_stderr_write (int priority, const char *message)
{
    static const char letters[] = "!ACEWNID"; /* by syslog priority */
    time_t now = time (NULL);
    struct tm tm;
    char when[32] = "";
    if (localtime_r (&now, &tm))
        strftime (when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    /* one fprintf: lines of several threads do not interleave */
    fprintf (stderr, "%c: (%s) %s %s\n", letters[priority & LOG_PRIMASK], s_ident, when, message);
    fflush (stderr);
}

void
rc_log_emit (const char *file, int line, const char *func, int priority,
             const rc_log_fields_t *fields, const char *format, ...)
{
    char *message = NULL;
    va_list args;
    va_start (args, format);
    int len = vasprintf (&message, format, args);
    va_end (args);
    if (len < 0)
        return;
    if (!s_journal || s_journal_send (file, line, func, priority, fields, message) < 0)
        s_stderr_write (priority, message);
    free (message);
}
