/*  quiet.c - the last time each warning was said (see quiet.h). */
#include "quiet.h"
#include "rc_time.h"

#include <czmq.h>

struct _rc_quiet_t {
    zhashx_t *warned; /* what -> last warning time (mono ms) */
};

rc_quiet_t *
rc_quiet_new (void)
{
    rc_quiet_t *self = (rc_quiet_t *)zmalloc (sizeof *self);
    self->warned = zhashx_new ();
    zhashx_set_destructor (self->warned, (zhashx_destructor_fn *)zstr_free);
    return self;
}

void
rc_quiet_destroy (rc_quiet_t **self_p)
{
    if (self_p && *self_p) {
        zhashx_destroy (&(*self_p)->warned);
        free (*self_p);
        *self_p = NULL;
    }
}

bool
rc_quiet_should (rc_quiet_t *self, const char *what, int64_t every)
{
    int64_t now = rc_mono_ms ();
    int64_t *last = (int64_t *)zhashx_lookup (self->warned, what);
    if (last && now - *last < every)
        return false;
    if (!last) {
        if (zhashx_size (self->warned) > RC_QUIET_MAX)
            zhashx_purge (self->warned);
        last = (int64_t *)malloc (sizeof *last);
        if (!last)
            return true;
        zhashx_insert (self->warned, what, last);
    }
    *last = now;
    return true;
}
