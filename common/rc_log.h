/*  rc_log.h - the daemons' log. Under systemd, when stderr is the journal,
    each line goes to journald natively: its priority, no timestamp of our
    own (the journal has one), no length limit, and structured fields
    (DEPLOYMENT_ID=, HOST_ID=, APP=) that `journalctl DEPLOYMENT_ID=...`
    selects on. Otherwise one line on stderr: "E: (ident) YYYY-MM-DD HH:MM:SS
    text" as czmq's zsys log wrote it (with a 4-digit year). Debug lines
    only when verbose. */
#ifndef RC_LOG_H
#define RC_LOG_H

#include <czmq.h>
#include <stdbool.h>
#include <syslog.h>

/* What a log line is about, for the journal's fields. Any may be NULL. */
typedef struct {
    const char *deployment_id;
    const char *host_id;
    const char *app;
} rc_log_fields_t;

void rc_log_init (const char *ident, bool verbose);
bool rc_log_verbose (void);

/* One log line at a syslog priority (LOG_ERR...), with fields or NULL; the
   journal also gets the caller's CODE_FILE, CODE_LINE and CODE_FUNC. */
#define rc_log_at(priority, ...) rc_log_emit (__FILE__, __LINE__, __func__, priority, __VA_ARGS__)
void rc_log_emit (const char *file, int line, const char *func, int priority,
                  const rc_log_fields_t *fields, const char *format, ...)
    __attribute__ ((format (printf, 6, 7)));

#define rc_log_error(...) rc_log_at (LOG_ERR, NULL, __VA_ARGS__)
#define rc_log_warn(...) rc_log_at (LOG_WARNING, NULL, __VA_ARGS__)
#define rc_log_info(...) rc_log_at (LOG_INFO, NULL, __VA_ARGS__)
#define rc_log_debug(...)                                                                          \
    do {                                                                                           \
        if (rc_log_verbose ())                                                                     \
            rc_log_at (LOG_DEBUG, NULL, __VA_ARGS__);                                              \
    } while (0)

/* With fields, e.g.
   rc_log_warn_with (&(rc_log_fields_t){.deployment_id = id, .host_id = host},
                     "host %s failed: %s", host, reason);
   A compound literal's commas split it into several macro arguments, so
   these pass their arguments on unparenthesised: the tokens arrive whole. */
#define rc_log_error_with(...) rc_log_at (LOG_ERR, __VA_ARGS__)
#define rc_log_warn_with(...) rc_log_at (LOG_WARNING, __VA_ARGS__)
#define rc_log_info_with(...) rc_log_at (LOG_INFO, __VA_ARGS__)

#endif
