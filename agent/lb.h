/*  lb.h - the built-in load balancer providers ([app] lb): take the app's
    servers out of rotation before an update (drain: no new requests, wait
    for the ones in flight) and put them back after it (undrain: wait for
    the LB's own check to say they are up). A drain or undrain is an object
    the executor's loop drives like a hook or a download: rc_lb_watch names
    what it waits for, rc_lb_poll moves it on, never blocking. A provider
    is one rc_lb_provider_t (lb_haproxy.c, lb_nginx.c); lb.c picks it by
    [app] lb. */
#ifndef AGENT_LB_H
#define AGENT_LB_H

#include "rc_config.h"
#include "watch.h"

#include <stdbool.h>

typedef enum {
    RC_LB_DRAIN,   /* out of rotation, sessions ended */
    RC_LB_UNDRAIN, /* back in rotation, the LB's check says up */
    RC_LB_RESTORE, /* undrain while undoing a failed step: servers the LB
                      does not know are passed over (nothing of theirs was
                      drained) */
} rc_lb_op_t;

typedef enum {
    RC_LB_RUNNING,
    RC_LB_DONE,
    RC_LB_FAILED,
} rc_lb_status_t;

/* What a provider implements: one run of op over the app's servers. slot
   is the instance slot the run is for (1 or 2, [app] slots), 0 when the
   app has no slots; a provider names the slot's servers with rc_lb_expand. */
typedef struct {
    const char *name;
    /* A run, started at the next poll; NULL only when out of memory. */
    void *(*start) (const rc_app_config_t *app, rc_lb_op_t op, unsigned slot);
    /* Does what can be done now; on RC_LB_FAILED err says why. */
    rc_lb_status_t (*poll) (void *run, char *err, size_t errlen);
    void (*watch) (void *run, rc_watch_t *w);
    void (*destroy) (void **run_p);
} rc_lb_provider_t;

extern const rc_lb_provider_t rc_lb_haproxy;
extern const rc_lb_provider_t rc_lb_nginx;

typedef struct _rc_lb_t rc_lb_t;

/* True when the app has a built-in provider ([app] lb). */
bool rc_lb_configured (const rc_app_config_t *app);
/* A drain or undrain of the app's servers (of slot, 0 = no slots); NULL
   when it has no provider. */
rc_lb_t *rc_lb_new (const rc_app_config_t *app, rc_lb_op_t op, unsigned slot);
rc_lb_status_t rc_lb_poll (rc_lb_t *self);
void rc_lb_watch (rc_lb_t *self, rc_watch_t *w);
/* Why it failed, "" until then. */
const char *rc_lb_errmsg (rc_lb_t *self);
/* Closes its connection (what the LB was told stays told). */
void rc_lb_destroy (rc_lb_t **self_p);
/* For providers: when a run of op started now times out (drain_timeout,
   undrain_timeout), on the monotonic clock. */
int64_t rc_lb_deadline (const rc_app_config_t *app, rc_lb_op_t op);
/* For providers: err says why (printf), and RC_LB_FAILED is returned. */
rc_lb_status_t rc_lb_failed (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Writes pattern to out with "{slot}" replaced by slot's number (1, 2) and
   "{port}" by its port ([app] slots), so one config line names the server
   of either slot: haproxy_server = web/app1-{slot}. With slot 0 (no slots)
   the placeholders stay as written. -1 when out is too short. */
int rc_lb_expand (const char *pattern, const rc_app_config_t *app, unsigned slot, char *out,
                  size_t outlen);

/* ---- HAProxy (lb_haproxy.c), public for its tests ---------------------- */

/* A server's row in `show stat`: what drain and undrain look at. */
typedef struct {
    long scur;       /* sessions on the server now */
    char status[64]; /* UP, DOWN, MAINT, DRAIN, no check, UP 1/3, ... */
    char check[32];  /* check_status: last check's result, "" with no check */
} rc_haproxy_row_t;

/* Finds server ("BACKEND/SERVER") in `show stat` CSV output: 1 with its
   row, 0 when it has none, -1 when csv is not show stat output. */
int rc_haproxy_stat (const char *csv, const char *server, rc_haproxy_row_t *row);
/* True when a show stat status means HAProxy's own check says the server
   is up: "UP", or "no check" for a server without one. Not "UP 1/2": HAProxy
   puts a server leaving maint straight back UP with the least health
   (shown "UP n/m"), before any check of what now runs there, and a failing
   check shows the same; one passing check makes it "UP". (With `fall 1`
   there is no such margin, and UP after ready is not proof of a check.) */
bool rc_haproxy_status_up (const char *status);

/* ---- NGINX (lb_nginx.c), public for its tests -------------------------- */

/* One line of nginx_upstream_file: `server ADDR;` or `server ADDR down;`. */
typedef struct {
    char addr[RC_LB_SERVER_MAX + 1];
    bool down;
} rc_nginx_line_t;
/* Both slots of every nginx_server */
#define RC_NGINX_LINES_MAX (RC_SLOTS_MAX * RC_LB_SERVERS_MAX)

/* Reads the file's text as rc_nginx_format writes it (blank and # lines
   passed over): 0 with its lines, -1 on any other line or more than max. */
int rc_nginx_parse (const char *text, rc_nginx_line_t *lines, size_t max, size_t *count);
/* The file's text for lines: -1 when len is too short. */
int rc_nginx_format (const rc_nginx_line_t *lines, size_t count, char *buf, size_t len);
/* Replaces path with text so that a reader sees the old file or the new
   one, never a part, even if we die on the way: a temp file beside it
   (.NAME.rc-tmp, which an include of *.conf does not match), fsync, rename,
   fsync of the directory. text NULL removes path. -1 with err. */
int rc_nginx_write_file (const char *path, const char *text, char *err, size_t errlen);
/* ESTABLISHED TCP connections on this host whose local end is addr
   (HOST:PORT, [IPV6]:PORT; a host that is not an IP address matches any
   address of the port), from /proc/net/tcp and /proc/net/tcp6: the
   connections the instance at addr serves. -1 when addr is not HOST:PORT. */
long rc_nginx_connections (const char *addr);

#endif
