/*  rc_sources.h - artifact source allowlists: the `artifact_sources` prefixes
    of an app and the URLs a coordinator asks an agent to fetch. Both are
    parsed the same strict way (scheme, host, percent-decoded path) and
    compared part by part, so no spelling of a URL (`..`, `%2e%2e`, `//`,
    userinfo, a longer host name) reaches outside a listed prefix. */
#ifndef RC_SOURCES_H
#define RC_SOURCES_H

#include <stdbool.h>
#include <stddef.h>

/* Longest URL or prefix accepted, and most prefixes in one list. */
#define RC_SOURCES_URL_MAX 2048
#define RC_SOURCES_MAX 32
/* What an app accepts from a coordinator when it lists no sources. */
#define RC_SOURCES_DEFAULT "http:// https://"

/* Checks a list of prefixes (space- and/or comma-separated) as written in
   the config. Returns 0, or -1 with a one-line reason naming the prefix. */
int rc_sources_check_list (const char *list, char *err, size_t errlen);

/* Checks url alone (scheme http, https or file; no userinfo, fragment, dot
   or empty path segments, encoded separators). 0, or -1 with the reason. */
int rc_sources_check_url (const char *url, char *err, size_t errlen);

/* 0 when url is under one prefix of list (NULL or "" = RC_SOURCES_DEFAULT),
   copying that prefix to matched; -1 with the reason otherwise. */
int rc_sources_match (const char *list, const char *url, char *matched, size_t matchlen, char *err,
                      size_t errlen);

/* The local path a file:// URL (or prefix) names, percent-decoded, into
   path. 0, or -1 when url is not a valid file:// URL. */
int rc_sources_file_path (const char *url, char *path, size_t pathlen);

#endif
