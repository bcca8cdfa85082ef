/*  rc_log.c - log set-up: ident and verbosity for the zsys logger. */
#include "rc_log.h"

static bool s_verbose;

void
rc_log_init (const char *ident, bool verbose)
{
    s_verbose = verbose;
    zsys_set_logident (ident);
    zsys_set_logstream (stderr);
}

bool
rc_log_verbose (void)
{
    return s_verbose;
}
