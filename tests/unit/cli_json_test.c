/*  cli_json_test.c - selftests of the CLI's streamed JSON lists: the same
    bytes as the whole array dumped at once, for none, one and several
    elements, with nested objects and arrays. */
#include "../../cli/cli.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* the reference: the whole array built, dumped as rc_cli_print_json does */
static char *
s_whole (const Rollclone__HostsReply *reply)
{
    json_t *list = json_array ();
    for (size_t i = 0; i < reply->n_hosts; i++)
        json_array_append_new (list, rc_cli_json_host (reply, i));
    char *text = json_dumps (list, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    json_decref (list);
    ck_assert_ptr_nonnull (text);
    size_t len = strlen (text);
    char *line = (char *)malloc (len + 2);
    ck_assert_ptr_nonnull (line);
    memcpy (line, text, len);
    memcpy (line + len, "\n", 2);
    free (text);
    return line;
}

static char *
s_streamed (const Rollclone__HostsReply *reply)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    ck_assert_ptr_nonnull (out);
    rc_cli_print_json_list (out, reply->n_hosts, rc_cli_json_host, reply);
    ck_assert_int_eq (fclose (out), 0);
    return text;
}

void
rc_cli_json_test (bool verbose)
{
    (void)verbose;
    Rollclone__HostsReply reply = ROLLCLONE__HOSTS_REPLY__INIT;
    Rollclone__HostInfo h[3];
    Rollclone__HostInfo *list[3] = {&h[0], &h[1], &h[2]};
    Rollclone__Label label = ROLLCLONE__LABEL__INIT;
    label.key = "zone";
    label.value = "b \"quoted\"\nline";
    Rollclone__Label *labels[1] = {&label};
    Rollclone__AppState app = ROLLCLONE__APP_STATE__INIT;
    app.app = "web";
    app.current = "v2";
    char *points[2] = {"v1", "v0"};
    app.rollback_points = points;
    app.n_rollback_points = 2;
    app.slot = 2;
    app.slot_port = 8082;
    app.warm_version = "v1";
    app.warm_until_ms = 1796251237755;
    Rollclone__AppState *apps[1] = {&app};
    for (int i = 0; i < 3; i++) {
        rollclone__host_info__init (&h[i]);
        h[i].id = i == 0 ? "host-1" : i == 1 ? "host-2" : "h\xc3\xa9-3";
        h[i].hostname = "box";
        h[i].state = "online";
        h[i].healthy = i != 1;
        h[i].agent_version = "0.9.0";
        h[i].last_seen_ms = 1796251237000 + i;
    }
    h[1].labels = labels;
    h[1].n_labels = 1;
    h[2].apps = apps;
    h[2].n_apps = 1;
    reply.hosts = list;
    for (size_t n = 0; n <= 3; n++) {
        reply.n_hosts = n;
        char *whole = s_whole (&reply), *streamed = s_streamed (&reply);
        ck_assert_str_eq (streamed, whole);
        free (whole);
        free (streamed);
    }
    /* nested levels keep their depth: the slot's fields under the app */
    reply.n_hosts = 3;
    char *streamed = s_streamed (&reply);
    ck_assert_ptr_nonnull (strstr (streamed, "\n      \"web\": {\n        \"current\": \"v2\""));
    free (streamed);
}
