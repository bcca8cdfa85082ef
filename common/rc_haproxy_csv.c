/*  rc_haproxy_csv.c - HAProxy `show stat` CSV (see rc_haproxy_csv.h). */
#include "rc_haproxy_csv.h"

#include <stdio.h>
#include <string.h>

bool
rc_haproxy_csv_field (const char **line, char *field, size_t len)
{
    const char *c = *line;
    if (!c)
        return false;
    size_t n = 0;
    bool quoted = *c == '"';
    if (quoted)
        c++;
    while (*c && *c != '\n' && (quoted || *c != ',')) {
        if (quoted && *c == '"') {
            if (c[1] == '"')
                c++;
            else {
                quoted = false;
                c++;
                continue;
            }
        }
        if (n + 1 < len)
            field[n++] = *c;
        c++;
    }
    field[n] = '\0';
    *line = *c == ',' ? c + 1 : NULL;
    return true;
}

/* Columns looked up at most */
#define S_COLUMNS_MAX 16

int
rc_haproxy_csv_row (const char *csv, const char *backend, const char *server,
                    const char *const *names, size_t n, size_t required,
                    char (*values)[RC_HAPROXY_CSV_FIELD_MAX])
{
    if (strncmp (csv, "# ", 2) != 0 || n > S_COLUMNS_MAX)
        return -1;
    int px = -1, sv = -1, col[S_COLUMNS_MAX];
    for (size_t k = 0; k < n; k++) {
        col[k] = -1;
        values[k][0] = '\0';
    }
    char field[RC_HAPROXY_CSV_FIELD_MAX];
    const char *line = csv + 2;
    for (int i = 0; rc_haproxy_csv_field (&line, field, sizeof field); i++) {
        if (strcmp (field, "pxname") == 0)
            px = i;
        else if (strcmp (field, "svname") == 0)
            sv = i;
        for (size_t k = 0; k < n; k++)
            if (strcmp (field, names[k]) == 0)
                col[k] = i;
    }
    if (px < 0 || sv < 0)
        return -1;
    for (size_t k = 0; k < required && k < n; k++)
        if (col[k] < 0)
            return -1;
    for (const char *row = strchr (csv, '\n'); row && row[1]; row = strchr (row + 1, '\n')) {
        const char *c = row + 1;
        bool px_ok = false, sv_ok = false;
        for (int i = 0; rc_haproxy_csv_field (&c, field, sizeof field); i++) {
            if (i == px)
                px_ok = strcmp (field, backend) == 0;
            else if (i == sv)
                sv_ok = strcmp (field, server) == 0;
            for (size_t k = 0; k < n; k++)
                if (i == col[k])
                    snprintf (values[k], RC_HAPROXY_CSV_FIELD_MAX, "%s", field);
        }
        if (px_ok && sv_ok)
            return 1;
        for (size_t k = 0; k < n; k++)
            values[k][0] = '\0';
    }
    return 0;
}
