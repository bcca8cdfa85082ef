/*  rc_haproxy_csv.h - reading HAProxy's `show stat` CSV, shared by the
    agent's HAProxy drain (agent/lb_haproxy.c: scur, status of a server)
    and the coordinator's haproxy checks (coordinator/check_eval.c: the
    hrsp_* response counters of a host's server). */
#ifndef RC_HAPROXY_CSV_H
#define RC_HAPROXY_CSV_H

#include <stdbool.h>
#include <stddef.h>

/* Longest field kept; a longer one is cut (no field we read is near it) */
#define RC_HAPROXY_CSV_FIELD_MAX 256

/* The next CSV field of *line into field (quotes removed, cut to len);
   *line moves past it and becomes NULL after the last field of the line.
   False when *line is NULL (the line has no more fields). */
bool rc_haproxy_csv_field (const char **line, char *field, size_t len);

/* The row of server BACKEND/SERVER in show stat output csv: for each of
   the n column names, its text into values[i] (RC_HAPROXY_CSV_FIELD_MAX
   bytes each; "" for a column the output lacks). 1 found, 0 no such
   server, -1 csv is not show stat output (no "# pxname,svname,..." head,
   or one of the first `required` names is not a column of it). */
int rc_haproxy_csv_row (const char *csv, const char *backend, const char *server,
                        const char *const *names, size_t n, size_t required,
                        char (*values)[RC_HAPROXY_CSV_FIELD_MAX]);

#endif
