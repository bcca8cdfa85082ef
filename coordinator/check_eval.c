/*  check_eval.c - the evaluator of analysis gates (see check_eval.h). The
    actor keeps a libcurl multi handle: while transfers run it waits in
    curl_multi_poll and looks at its pipe between waits; idle, it blocks on
    the pipe alone. A HAProxy read is one short exchange on the stats
    socket, bounded by the check's timeout, done in the actor's thread. */
#include "check_eval.h"
#include "rc_addr.h"
#include "rc_haproxy_csv.h"
#include "rc_time.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* How long the actor waits in curl_multi_poll before it looks at its pipe
   again, while transfers run (only then) */
#define S_POLL_MS 50
/* HAProxy counters of a server kept for the next read, at most (a restart
   of the coordinator, or this many, starts them again) */
#define S_BASELINES_MAX 10000
/* What a HAProxy show stat answer may be, at most */
#define S_STAT_MAX (4 * 1024 * 1024)

struct _rc_check_eval_t {
    zactor_t *actor; /* the thread that evaluates */
};

void
rc_check_job_destroy (rc_check_job_t **job_p)
{
    if (job_p && *job_p) {
        free ((*job_p)->url);
        free ((*job_p)->socket);
        free (*job_p);
        *job_p = NULL;
    }
}

/* ------------------------------------------------------------------------ */
/* Answers */

/* A sample's value: [ts, "0.2"] */
static int
s_sample (json_t *pair, double *value)
{
    json_t *text =
        json_is_array (pair) && json_array_size (pair) == 2 ? json_array_get (pair, 1) : NULL;
    if (!json_is_string (text))
        return -1;
    const char *s = json_string_value (text);
    char *end = NULL;
    double v = strtod (s, &end);
    if (end == s || *end)
        return -1;
    *value = v;
    return 0;
}

rc_check_outcome_t
rc_check_prom_parse (const char *json, size_t len, bool want_max, double *value, char *err,
                     size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb (json, len, 0, &jerr);
    rc_check_outcome_t outcome = RC_CHECK_ERROR;
    if (!root) {
        snprintf (err, errlen, "answer is not JSON: %s", jerr.text);
        return RC_CHECK_ERROR;
    }
    const char *status = json_string_value (json_object_get (root, "status"));
    json_t *data = json_object_get (root, "data");
    if (!status || strcmp (status, "success") != 0) {
        const char *error = json_string_value (json_object_get (root, "error"));
        snprintf (err, errlen, "Prometheus: %.200s", error ? error : "status is not success");
        goto out;
    }
    const char *type = json_string_value (json_object_get (data, "resultType"));
    json_t *result = json_object_get (data, "result");
    bool found = false;
    double best = 0;
    if (type && strcmp (type, "scalar") == 0) {
        if (s_sample (result, &best) != 0) {
            snprintf (err, errlen, "scalar result is not [time, \"value\"]");
            goto out;
        }
        found = !isnan (best);
    }
    else if (type && strcmp (type, "vector") == 0 && json_is_array (result)) {
        size_t i;
        json_t *series;
        json_array_foreach (result, i, series)
        {
            double v;
            if (s_sample (json_object_get (series, "value"), &v) != 0) {
                snprintf (err, errlen, "vector sample %zu is not [time, \"value\"]", i);
                goto out;
            }
            if (isnan (v))
                continue; /* 0/0: no requests at all, not a rate */
            if (!found || (want_max ? v > best : v < best))
                best = v;
            found = true;
        }
    }
    else {
        snprintf (err, errlen,
                  "result type '%.40s' is not a vector or a scalar (a query giving one "
                  "number per host is)",
                  type ? type : "?");
        goto out;
    }
    outcome = found ? RC_CHECK_VALUE : RC_CHECK_NO_DATA;
    if (found)
        *value = best;
    else
        snprintf (err, errlen, "no data (empty result)");
out:
    json_decref (root);
    return outcome;
}

rc_check_outcome_t
rc_check_haproxy_share (const long long before[2], const long long now[2], long long min_requests,
                        double *value)
{
    long long errors = now[0] - before[0], total = now[1] - before[1];
    if (total <= 0 || total < min_requests || errors < 0)
        return RC_CHECK_NO_DATA;
    *value = (double)errors / (double)total;
    return RC_CHECK_VALUE;
}

/* ------------------------------------------------------------------------ */
/* The actor */

typedef struct {
    rc_check_job_t *job;
    char *body;
    size_t len;
    bool too_big;
} s_transfer_t;

typedef struct {
    zsock_t *pipe;
    CURLM *multi;
    int active;          /* transfers in the multi handle */
    zhashx_t *baselines; /* "deployment/host/check/step" -> long long[2] */
    zlistx_t *transfers; /* the easy handles in multi */
} s_actor_t;

static void
s_answer (s_actor_t *self, rc_check_job_t *job)
{
    zsock_send (self->pipe, "sp", "ANSWER", job);
}

static size_t
s_write (char *data, size_t size, size_t nmemb, void *arg)
{
    s_transfer_t *t = (s_transfer_t *)arg;
    size_t n = size * nmemb;
    if (t->len + n > RC_CHECK_ANSWER_MAX) {
        t->too_big = true;
        return 0;
    }
    char *grown = realloc (t->body, t->len + n + 1);
    if (!grown)
        return 0;
    memcpy (grown + t->len, data, n);
    t->body = grown;
    t->len += n;
    t->body[t->len] = '\0';
    return n;
}

static void
s_prometheus_start (s_actor_t *self, rc_check_job_t *job)
{
    s_transfer_t *t = (s_transfer_t *)zmalloc (sizeof *t);
    t->job = job;
    CURL *easy = curl_easy_init ();
    if (!easy) {
        free (t);
        job->outcome = RC_CHECK_ERROR;
        snprintf (job->detail, sizeof job->detail, "out of memory");
        s_answer (self, job);
        return;
    }
    curl_easy_setopt (easy, CURLOPT_URL, job->url);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt (easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, (long)job->timeout_ms);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_multi_add_handle (self->multi, easy);
    zlistx_add_end (self->transfers, easy);
    self->active++;
}

static void
s_prometheus_done (s_actor_t *self, CURL *easy, CURLcode result)
{
    s_transfer_t *t = NULL;
    curl_easy_getinfo (easy, CURLINFO_PRIVATE, (char **)&t);
    rc_check_job_t *job = t->job;
    long code = 0;
    curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &code);
    char err[RC_CHECK_DETAIL_MAX] = "";
    if (t->too_big) {
        job->outcome = RC_CHECK_ERROR;
        snprintf (job->detail, sizeof job->detail, "answer larger than %d bytes",
                  RC_CHECK_ANSWER_MAX);
    }
    else if (result != CURLE_OK) {
        job->outcome = RC_CHECK_ERROR;
        snprintf (job->detail, sizeof job->detail, "Prometheus unreachable: %s",
                  curl_easy_strerror (result));
    }
    else {
        /* Prometheus answers a bad query with 400 and a JSON error: the
           parse says which */
        job->outcome = rc_check_prom_parse (t->body ? t->body : "", t->len, job->want_max,
                                            &job->value, err, sizeof err);
        if (code != 200 && job->outcome == RC_CHECK_VALUE) {
            job->outcome = RC_CHECK_ERROR;
            snprintf (err, sizeof err, "an answer with a value");
        }
        if (job->outcome != RC_CHECK_VALUE && code != 200)
            snprintf (job->detail, sizeof job->detail, "HTTP %ld: %.200s", code, err);
        else if (job->outcome != RC_CHECK_VALUE)
            snprintf (job->detail, sizeof job->detail, "%s", err);
    }
    curl_multi_remove_handle (self->multi, easy);
    zlistx_delete (self->transfers, zlistx_find (self->transfers, easy));
    curl_easy_cleanup (easy);
    free (t->body);
    free (t);
    self->active--;
    s_answer (self, job);
}

/* One `show stat` exchange: the answer (caller frees), or NULL with err. */
static char *
s_show_stat (const char *where, int64_t timeout_ms, char *err, size_t errlen)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    struct sockaddr_storage tcp;
    struct sockaddr *addr = (struct sockaddr *)&un;
    socklen_t addr_len = sizeof un;
    if (where[0] == '/')
        snprintf (un.sun_path, sizeof un.sun_path, "%s", where); /* length checked by the config */
    else if (rc_addr_parse (where + 6, &tcp, &addr_len) == 0)
        addr = (struct sockaddr *)&tcp;
    else {
        snprintf (err, errlen, "haproxy_socket %s: not a numeric address", where);
        return NULL;
    }
    int64_t deadline = rc_mono_ms () + timeout_ms;
    char *reply = NULL;
    size_t len = 0;
    int fd = socket (addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || (connect (fd, addr, addr_len) != 0 && errno != EINPROGRESS)) {
        snprintf (err, errlen, "haproxy_socket %s: %s", where, strerror (errno));
        goto fail;
    }
    const char cmd[] = "show stat\n";
    size_t sent = 0;
    for (;;) {
        int64_t left = deadline - rc_mono_ms ();
        if (left <= 0) {
            snprintf (err, errlen, "haproxy_socket %s: no whole answer within %lld ms", where,
                      (long long)timeout_ms);
            goto fail;
        }
        struct pollfd pfd = {.fd = fd, .events = sent < sizeof cmd - 1 ? POLLOUT : POLLIN};
        if (poll (&pfd, 1, (int)left) <= 0)
            continue;
        if (sent < sizeof cmd - 1) {
            ssize_t n = send (fd, cmd + sent, sizeof cmd - 1 - sent, MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                snprintf (err, errlen, "haproxy_socket %s: %s", where, strerror (errno));
                goto fail;
            }
            sent += n > 0 ? (size_t)n : 0;
            continue;
        }
        char buf[16384];
        ssize_t n = recv (fd, buf, sizeof buf, 0);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            snprintf (err, errlen, "haproxy_socket %s: %s", where, strerror (errno));
            goto fail;
        }
        if (len + (size_t)n > S_STAT_MAX) {
            snprintf (err, errlen, "haproxy_socket %s: answer larger than %d bytes", where,
                      S_STAT_MAX);
            goto fail;
        }
        char *grown = realloc (reply, len + (size_t)n + 1);
        if (!grown) {
            snprintf (err, errlen, "out of memory");
            goto fail;
        }
        reply = grown;
        memcpy (reply + len, buf, (size_t)n);
        len += (size_t)n;
        reply[len] = '\0';
    }
    close (fd);
    if (!reply)
        snprintf (err, errlen, "haproxy_socket %s: empty answer", where);
    return reply;
fail:
    if (fd >= 0)
        close (fd);
    free (reply);
    return NULL;
}

static void
s_haproxy (s_actor_t *self, rc_check_job_t *job)
{
    char err[RC_CHECK_DETAIL_MAX] = "";
    char *csv = s_show_stat (job->socket, job->timeout_ms, err, sizeof err);
    job->outcome = RC_CHECK_ERROR;
    if (!csv) {
        snprintf (job->detail, sizeof job->detail, "%s", err);
        s_answer (self, job);
        return;
    }
    static const char *const names[] = {"hrsp_5xx", "hrsp_1xx", "hrsp_2xx",
                                        "hrsp_3xx", "hrsp_4xx", "hrsp_other"};
    char values[6][RC_HAPROXY_CSV_FIELD_MAX];
    int found = rc_haproxy_csv_row (csv, job->backend, job->server, names, 6, 6, values);
    free (csv);
    if (found <= 0) {
        if (found < 0)
            snprintf (job->detail, sizeof job->detail,
                      "haproxy_socket %s: not show stat output with hrsp_* counters", job->socket);
        else
            snprintf (job->detail, sizeof job->detail, "HAProxy has no server %.100s/%.100s",
                      job->backend, job->server);
        s_answer (self, job);
        return;
    }
    long long now[2] = {atoll (values[0]), 0};
    for (size_t i = 0; i < 6; i++)
        now[1] += atoll (values[i]);
    char key[RC_ID_MAX + 3 * RC_NAME_MAX + 32];
    snprintf (key, sizeof key, "%s/%s/%s/%d", job->deployment_id, job->host_id, job->check,
              job->step);
    long long *before = (long long *)zhashx_lookup (self->baselines, key);
    if (!before || now[1] < before[1] || now[0] < before[0]) {
        /* the first read, or HAProxy restarted (its counters start at 0) */
        if (!before) {
            if (zhashx_size (self->baselines) >= S_BASELINES_MAX)
                zhashx_purge (self->baselines);
            before = (long long *)zmalloc (2 * sizeof *before);
            zhashx_insert (self->baselines, key, before);
        }
        before[0] = now[0];
        before[1] = now[1];
        job->outcome = RC_CHECK_BASELINE;
        snprintf (job->detail, sizeof job->detail, "first read of %.100s/%.100s's counters",
                  job->backend, job->server);
        s_answer (self, job);
        return;
    }
    job->outcome = rc_check_haproxy_share (before, now, job->min_requests, &job->value);
    if (job->outcome == RC_CHECK_NO_DATA) {
        /* too few to judge: they count with the next ones (the baseline
           stays) */
        snprintf (job->detail, sizeof job->detail,
                  "no data (%.80s/%.80s answered %lld request(s) since, fewer than %d)",
                  job->backend, job->server, now[1] - before[1], job->min_requests);
    }
    else {
        snprintf (job->detail, sizeof job->detail, "%lld of %lld responses 5xx", now[0] - before[0],
                  now[1] - before[1]);
        before[0] = now[0];
        before[1] = now[1];
    }
    s_answer (self, job);
}

/* One message of the pipe; false when the actor must stop. */
static bool
s_command (s_actor_t *self, zmsg_t *msg)
{
    char *command = zmsg_popstr (msg);
    bool go_on = true;
    if (!command || streq (command, "$TERM"))
        go_on = false;
    else if (streq (command, "STOP")) {
        /* the owner reads every answer up to STOPPED, and frees them */
        go_on = false;
        zsock_send (self->pipe, "s", "STOPPED");
    }
    else if (streq (command, "EVAL")) {
        zframe_t *frame = zmsg_pop (msg);
        rc_check_job_t *job = NULL;
        if (frame && zframe_size (frame) == sizeof job)
            memcpy (&job, zframe_data (frame), sizeof job);
        zframe_destroy (&frame);
        if (job && job->url)
            s_prometheus_start (self, job);
        else if (job)
            s_haproxy (self, job);
    }
    free (command);
    zmsg_destroy (&msg);
    return go_on;
}

static void
s_free_baseline (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_actor (zsock_t *pipe, void *args)
{
    (void)args;
    s_actor_t self = {.pipe = pipe,
                      .multi = curl_multi_init (),
                      .baselines = zhashx_new (),
                      .transfers = zlistx_new ()};
    zhashx_set_destructor (self.baselines, s_free_baseline);
    zsock_signal (pipe, 0);
    bool running = self.multi != NULL;
    while (running) {
        /* idle: wait for a job; busy: take what has come, then the transfers */
        if (self.active == 0) {
            zmsg_t *msg = zmsg_recv (pipe);
            if (!msg || !s_command (&self, msg))
                break;
        }
        while (running && (zsock_events (pipe) & ZMQ_POLLIN)) {
            zmsg_t *msg = zmsg_recv (pipe);
            running = msg && s_command (&self, msg);
        }
        if (!running || self.active == 0)
            continue;
        int still = 0;
        curl_multi_perform (self.multi, &still);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read (self.multi, &left)))
            if (m->msg == CURLMSG_DONE)
                s_prometheus_done (&self, m->easy_handle, m->data.result);
        if (self.active)
            curl_multi_poll (self.multi, NULL, 0, S_POLL_MS, NULL);
    }
    /* transfers cut short: their jobs are freed here, never answered */
    for (CURL *easy = zlistx_first (self.transfers); easy; easy = zlistx_next (self.transfers)) {
        s_transfer_t *t = NULL;
        curl_easy_getinfo (easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle (self.multi, easy);
        curl_easy_cleanup (easy);
        if (t) {
            rc_check_job_destroy (&t->job);
            free (t->body);
            free (t);
        }
    }
    zlistx_destroy (&self.transfers);
    if (self.multi)
        curl_multi_cleanup (self.multi);
    zhashx_destroy (&self.baselines);
}

/* ------------------------------------------------------------------------ */

rc_check_eval_t *
rc_check_eval_new (void)
{
    /* libcurl's global state is main.c's: set up before any thread */
    rc_check_eval_t *self = (rc_check_eval_t *)zmalloc (sizeof *self);
    self->actor = zactor_new (s_actor, NULL);
    if (!self->actor) {
        free (self);
        return NULL;
    }
    return self;
}

void
rc_check_eval_destroy (rc_check_eval_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rc_check_eval_t *self = *self_p;
    /* every answer the actor sent before it stopped is ours to free */
    if (zstr_send (self->actor, "STOP") == 0)
        for (;;) {
            zmsg_t *msg = zmsg_recv (self->actor);
            if (!msg)
                break;
            char *command = zmsg_popstr (msg);
            bool stopped = !command || streq (command, "STOPPED");
            if (command && streq (command, "ANSWER")) {
                zframe_t *frame = zmsg_pop (msg);
                rc_check_job_t *job = NULL;
                if (frame && zframe_size (frame) == sizeof job)
                    memcpy (&job, zframe_data (frame), sizeof job);
                zframe_destroy (&frame);
                rc_check_job_destroy (&job);
            }
            free (command);
            zmsg_destroy (&msg);
            if (stopped)
                break;
        }
    zactor_destroy (&self->actor);
    free (self);
    *self_p = NULL;
}

void
rc_check_eval_send (rc_check_eval_t *self, rc_check_job_t **job_p)
{
    rc_check_job_t *job = *job_p;
    *job_p = NULL;
    if (zsock_send (self->actor, "sp", "EVAL", job) != 0)
        rc_check_job_destroy (&job);
}

zsock_t *
rc_check_eval_socket (rc_check_eval_t *self)
{
    return zactor_sock (self->actor);
}

rc_check_job_t *
rc_check_eval_recv (rc_check_eval_t *self)
{
    zsock_t *sock = zactor_sock (self->actor);
    if (!(zsock_events (sock) & ZMQ_POLLIN))
        return NULL;
    char *command = NULL;
    void *job = NULL;
    if (zsock_recv (sock, "sp", &command, &job) != 0)
        return NULL;
    bool answer = command && streq (command, "ANSWER");
    free (command);
    return answer ? (rc_check_job_t *)job : NULL;
}
