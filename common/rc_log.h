/*  rc_log.h - logging for the daemons, on top of czmq's zsys log (timestamps,
    syslog ident). Debug lines are printed only when verbose is set. */
#ifndef RC_LOG_H
#define RC_LOG_H

#include <czmq.h>
#include <stdbool.h>

void rc_log_init (const char *ident, bool verbose);
bool rc_log_verbose (void);

#define rc_log_error(...) zsys_error (__VA_ARGS__)
#define rc_log_warn(...) zsys_warning (__VA_ARGS__)
#define rc_log_info(...) zsys_info (__VA_ARGS__)
#define rc_log_debug(...)                                                                          \
    do {                                                                                           \
        if (rc_log_verbose ())                                                                     \
            zsys_debug (__VA_ARGS__);                                                              \
    } while (0)

#endif
