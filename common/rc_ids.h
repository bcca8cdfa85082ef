/*  rc_ids.h - names, host ids and labels: what may reach a path or a query. */
#ifndef RC_IDS_H
#define RC_IDS_H

#include "rc_defaults.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char key[RC_NAME_MAX + 1];
    char value[RC_NAME_MAX + 1];
} rc_label_t;

/* True when text is 1..RC_NAME_MAX of [A-Za-z0-9._+-] and not "." or "..":
   the rule for app names, versions, host ids and labels. */
bool rc_name_valid (const char *text);

/* True when text is 1..RC_RUN_ONCE_NAME_MAX of [A-Za-z0-9_-]: the NAME of
   a run-once step (deploy --before/--after NAME, [app] run_once_NAME). A
   name, never a command line: it picks one of the agent's own commands. */
bool rc_run_once_name_valid (const char *text);

/* Parses "k=v,k=v" (empty is no labels) into out[0..max). Returns the count,
   or -1 with a one-line reason in err. */
int rc_labels_parse (const char *text, rc_label_t *out, size_t max, char *err, size_t errlen);

/* This machine's host name (short form), or "localhost". Caller frees. */
char *rc_hostname (void);

void rc_ids_test (bool verbose);

#endif
