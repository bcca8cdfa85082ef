/*  expo_test.c - the Prometheus text writer (rc_expo): label and HELP
    escaping, value spelling, cumulative histogram buckets, and that a
    family's HELP/TYPE come before its samples; and the /metrics endpoint
    (rc_metrics_http) over real loopback HTTP. */
#include "rc_expo.h"
#include "rc_metrics_http.h"
#include "selftests.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
rc_expo_test (bool verbose)
{
    (void)verbose;
    rc_expo_t *e = rc_expo_new ();
    ck_assert_ptr_nonnull (e);
    rc_expo_family (e, "rc_x", "gauge", "a \\ help\nwith \"quotes\"");
    rc_expo_sample (e, "rc_x", (const char *[]){"host", "a\"b\\c\nd", "app", "web", NULL}, 3);
    rc_expo_sample (e, "rc_x", NULL, 0.25);
    rc_expo_sample (e, "rc_x", (const char *[]){NULL}, NAN);
    rc_expo_sample (e, "rc_x", NULL, -INFINITY);
    size_t len;
    const char *text = rc_expo_text (e, &len);
    ck_assert_str_eq (text, "# HELP rc_x a \\\\ help\\nwith \"quotes\"\n"
                            "# TYPE rc_x gauge\n"
                            "rc_x{host=\"a\\\"b\\\\c\\nd\",app=\"web\"} 3\n"
                            "rc_x 0.25\n"
                            "rc_x NaN\n"
                            "rc_x -Inf\n");
    ck_assert_uint_eq (len, strlen (text));

    /* thousandths are written without printf, and read back the same;
       others as the shortest of %.15g / %.17g that does */
    rc_expo_t *v = rc_expo_new ();
    ck_assert_ptr_nonnull (v);
    static const double values[] = {12.345, -0.001, 1.5,     0.1,       1234567.89,
                                    0.3,    1e-4,   1.0 / 3, 1e13 + 0.5};
    static const char *const spelled[] = {
        "12.345",          "-0.001", "1.5",    "0.1",
        "1234567.89",      "0.3",    "0.0001", "0.33333333333333331",
        "10000000000000.5"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        rc_expo_sample (v, "v", NULL, values[i]);
    size_t vlen;
    char *cursor = (char *)rc_expo_text (v, &vlen);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char *nl = strchr (cursor, '\n');
        ck_assert_ptr_nonnull (nl);
        *nl = '\0';
        ck_assert_str_eq (cursor + 2, spelled[i]);
        ck_assert (strtod (cursor + 2, NULL) == values[i]);
        cursor = nl + 1;
    }
    rc_expo_destroy (&v);

    /* buckets are cumulative; a value on a bound falls in that bucket */
    static const double bounds[] = {0.1, 1, 10};
    rc_histo_t h;
    rc_histo_init (&h, bounds, 3);
    rc_histo_observe (&h, 0.05);
    rc_histo_observe (&h, 1);
    rc_histo_observe (&h, 5);
    rc_histo_observe (&h, 50);
    size_t taken_len;
    free (rc_expo_take (e, &taken_len));
    ck_assert_uint_eq (taken_len, len);
    rc_expo_histo (e, "rc_h_seconds", (const char *[]){"phase", "fetch", NULL}, &h);
    text = rc_expo_text (e, &len);
    ck_assert_str_eq (text, "rc_h_seconds_bucket{phase=\"fetch\",le=\"0.10000000000000001\"} 1\n"
                            "rc_h_seconds_bucket{phase=\"fetch\",le=\"1\"} 2\n"
                            "rc_h_seconds_bucket{phase=\"fetch\",le=\"10\"} 3\n"
                            "rc_h_seconds_bucket{phase=\"fetch\",le=\"+Inf\"} 4\n"
                            "rc_h_seconds_sum{phase=\"fetch\"} 56.05\n"
                            "rc_h_seconds_count{phase=\"fetch\"} 4\n");

    /* a long label value grows the buffer past its first size */
    char *big = (char *)malloc (10000);
    memset (big, 'x', 9999);
    big[9999] = 0;
    char *taken = rc_expo_take (e, &len);
    free (taken);
    rc_expo_sample (e, "rc_big", (const char *[]){"v", big, NULL}, 1);
    text = rc_expo_text (e, &len);
    ck_assert_uint_eq (len, strlen ("rc_big{v=\"\"} 1\n") + 9999);
    free (big);

    /* the process figures: each family once, values present */
    taken = rc_expo_take (e, &len);
    free (taken);
    rc_expo_process (e, 1700000000123);
    text = rc_expo_text (e, &len);
    ck_assert_ptr_nonnull (strstr (text, "\nprocess_start_time_seconds 1700000000\n"));
    ck_assert_ptr_nonnull (strstr (text, "# TYPE process_cpu_seconds_total counter\n"));
    ck_assert_ptr_nonnull (strstr (text, "\nprocess_resident_memory_bytes "));
    ck_assert_ptr_nonnull (strstr (text, "\nprocess_open_fds "));
    rc_expo_destroy (&e);
    rc_expo_destroy (&e);
}

/* publish_more's writer: counts its calls in data; its free, the frees */
static int s_more_calls, s_more_frees;
static void
s_more (const void *data, rc_expo_t *e)
{
    s_more_calls++;
    rc_expo_sample (e, "rc_more", NULL, *(const int *)data);
}
static void
s_more_free (void *data)
{
    s_more_frees++;
    free (data);
}

/* A free TCP port on addr (family AF_INET or AF_INET6), or 0. */
static int
s_free_port (int family)
{
    int fd = socket (family, SOCK_STREAM, 0);
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        len = sizeof *in;
    }
    else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof *in6;
    }
    int port = 0;
    if (fd >= 0 && bind (fd, (struct sockaddr *)&ss, len) == 0
        && getsockname (fd, (struct sockaddr *)&ss, &len) == 0)
        port = ntohs (family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
    if (fd >= 0)
        close (fd);
    return port;
}

static size_t
s_collect (char *data, size_t size, size_t n, void *arg)
{
    strncat ((char *)arg, data, size * n < 4000 - strlen ((char *)arg) ? size * n : 0);
    return size * n;
}

/* GET url: the HTTP status, the body (up to 4000 bytes) in body. */
static long
s_get (const char *url, char *body)
{
    body[0] = 0;
    CURL *curl = curl_easy_init ();
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, body);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT, 10L);
    long status = 0;
    if (curl_easy_perform (curl) == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup (curl);
    return status;
}

/* The endpoint's thread: serves what was published with the process
   figures after it, asks the loop (the wake pipe) for a newer snapshot
   when the one it has is stale and serves the old one when none comes,
   refuses other paths, and listens on IPv6 loopback too. */
void
rc_metrics_http_test (bool verbose)
{
    (void)verbose;
    char err[256], url[128], body[4001];
    ck_assert_ptr_null (rc_metrics_http_new ("localhost", 0, err, sizeof err));
    int port = s_free_port (AF_INET);
    ck_assert_int_gt (port, 0);
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "127.0.0.1:%d", port);
    rc_metrics_http_t *http = rc_metrics_http_new (endpoint, 1700000000000, err, sizeof err);
    ck_assert_msg (http != NULL, "%s", err);
    ck_assert_int_eq (rc_metrics_http_port (http), port);
    /* a second endpoint on the same port cannot listen */
    ck_assert_ptr_null (rc_metrics_http_new (endpoint, 0, err, sizeof err));
    ck_assert_ptr_nonnull (strstr (err, "cannot listen"));

    rc_metrics_http_publish (http, strdup ("rc_a 1\n"), 7);
    snprintf (url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    ck_assert_int_eq (s_get (url, body), 200);
    const char *want = "rc_a 1\n# HELP process_cpu_seconds_total ";
    ck_assert_msg (strncmp (body, want, strlen (want)) == 0, "%s", body);
    ck_assert_ptr_nonnull (strstr (body, "\nprocess_start_time_seconds 1700000000\n"));
    ck_assert (!rc_metrics_http_asked (http)); /* fresh: the loop was not asked */

    /* stale: the loop is asked, and with no loop to answer the old text
       is served after the wait */
    usleep ((RC_METRICS_FRESH_MS + 100) * 1000);
    ck_assert_int_eq (s_get (url, body), 200);
    ck_assert_msg (strncmp (body, "rc_a 1\n", 7) == 0, "%s", body);
    ck_assert (rc_metrics_http_asked (http));
    ck_assert (!rc_metrics_http_asked (http));

    /* the text that follows is written once per snapshot, at its first
       scrape (its data freed then), and sent to every scrape of it */
    int *data = (int *)malloc (sizeof *data);
    ck_assert_ptr_nonnull (data);
    *data = 42;
    rc_metrics_http_publish_more (http, strdup ("rc_a 2\n"), 7, s_more, data, s_more_free);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq (s_get (url, body), 200);
        want = "rc_a 2\nrc_more 42\n# HELP process_cpu_seconds_total ";
        ck_assert_msg (strncmp (body, want, strlen (want)) == 0, "%s", body);
    }
    ck_assert_int_eq (s_more_calls, 1);
    ck_assert_int_eq (s_more_frees, 1);

    snprintf (url, sizeof url, "http://127.0.0.1:%d/other", port);
    ck_assert_int_eq (s_get (url, body), 404);
    rc_metrics_http_destroy (&http);
    rc_metrics_http_destroy (&http);

    int port6 = s_free_port (AF_INET6);
    if (port6 > 0) {
        snprintf (endpoint, sizeof endpoint, "[::1]:%d", port6);
        http = rc_metrics_http_new (endpoint, 0, err, sizeof err);
        ck_assert_msg (http != NULL, "%s", err);
        rc_metrics_http_publish (http, strdup ("rc_b 2\n"), 7);
        snprintf (url, sizeof url, "http://[::1]:%d/metrics", port6);
        ck_assert_int_eq (s_get (url, body), 200);
        ck_assert_msg (strncmp (body, "rc_b 2\n", 7) == 0, "%s", body);
        rc_metrics_http_destroy (&http);
    }
}
