/*  quiet.h - repeated warnings said at most every so often: a refused key
    retrying every few seconds, or a peer sending garbage, is logged once a
    while, not on every frame. One table per server, shared by its rooms. */
#ifndef COORD_QUIET_H
#define COORD_QUIET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct _rc_quiet_t rc_quiet_t;

/* Warnings about one thing (a refused key) at most this often. */
#define RC_WARN_EVERY_MS (60 * 1000)
/* Things remembered before the table starts again. */
#define RC_QUIET_MAX 10000

rc_quiet_t *rc_quiet_new (void);
void rc_quiet_destroy (rc_quiet_t **self_p);
/* True (and remembers now) when what has not been warned about in the
   last every ms. */
bool rc_quiet_should (rc_quiet_t *self, const char *what, int64_t every);

#endif
