/*  rc_expo.c - Prometheus text exposition (see rc_expo.h). Escaping
    follows the format's rules: label values escape backslash, double
    quote and newline; HELP text escapes backslash and newline. */
#include "rc_expo.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The buffer starts this big and doubles. */
#define S_EXPO_INITIAL 4096

struct _rc_expo_t {
    char *text;  /* NUL-terminated, or NULL after a failed allocation */
    size_t len;  /* bytes used, without the NUL */
    size_t size; /* bytes allocated */
};

void
rc_histo_init (rc_histo_t *h, const double *bounds, size_t n_bounds)
{
    memset (h, 0, sizeof *h);
    h->bounds = bounds;
    h->n_bounds = n_bounds < RC_HISTO_BUCKETS_MAX ? n_bounds : RC_HISTO_BUCKETS_MAX;
}

void
rc_histo_observe (rc_histo_t *h, double value)
{
    size_t i = 0;
    while (i < h->n_bounds && value > h->bounds[i])
        i++;
    h->counts[i]++;
    h->sum += value;
    h->count++;
}

rc_expo_t *
rc_expo_new (void)
{
    rc_expo_t *self = (rc_expo_t *)calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->text = (char *)malloc (S_EXPO_INITIAL);
    if (!self->text) {
        free (self);
        return NULL;
    }
    self->size = S_EXPO_INITIAL;
    self->text[0] = 0;
    return self;
}

void
rc_expo_destroy (rc_expo_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->text);
        free (*self_p);
        *self_p = NULL;
    }
}

void
rc_expo_reserve (rc_expo_t *self, size_t size)
{
    if (self->text && size > self->size) {
        char *text = (char *)realloc (self->text, size);
        if (text) {
            self->text = text;
            self->size = size;
        }
    }
}

/* Room for more bytes and the NUL; false (and the text dropped) when
   there is no memory for it. */
static bool
s_room (rc_expo_t *self, size_t more)
{
    if (!self->text)
        return false;
    if (self->len + more + 1 <= self->size)
        return true;
    size_t size = self->size;
    while (self->len + more + 1 > size)
        size *= 2;
    char *text = (char *)realloc (self->text, size);
    if (!text) {
        free (self->text);
        self->text = NULL;
        return false;
    }
    self->text = text;
    self->size = size;
    return true;
}

static void
s_put (rc_expo_t *self, const char *bytes, size_t n)
{
    if (!s_room (self, n))
        return;
    memcpy (self->text + self->len, bytes, n);
    self->len += n;
    self->text[self->len] = 0;
}

static void s_printf (rc_expo_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void
s_printf (rc_expo_t *self, const char *fmt, ...)
{
    char line[256];
    va_list args;
    va_start (args, fmt);
    int n = vsnprintf (line, sizeof line, fmt, args);
    va_end (args);
    if (n < 0)
        return;
    if ((size_t)n < sizeof line) {
        s_put (self, line, (size_t)n);
        return;
    }
    if (!s_room (self, (size_t)n))
        return;
    va_start (args, fmt);
    vsnprintf (self->text + self->len, (size_t)n + 1, fmt, args);
    va_end (args);
    self->len += (size_t)n;
}

/* text with `\` and newline escaped, and `"` too when quote. */
static void
s_escaped (rc_expo_t *self, const char *text, bool quote)
{
    const char *run = text;
    for (const char *c = text;; c++) {
        const char *esc = NULL;
        if (*c == '\\')
            esc = "\\\\";
        else if (*c == '\n')
            esc = "\\n";
        else if (*c == '"' && quote)
            esc = "\\\"";
        else if (*c)
            continue;
        s_put (self, run, (size_t)(c - run));
        if (!esc)
            return;
        s_put (self, esc, 2);
        run = c + 1;
    }
}

/* Whole numbers and thousandths written without printf. */
#define S_DECIMALS_MAX 1e12

/* u in decimal, right-aligned ending at end; returns the first digit. */
static char *
s_digits (char *end, uint64_t u)
{
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    return end;
}

/* A sample value as the format spells it. */
static void
s_value (rc_expo_t *self, double value)
{
    char digits[32];
    char *end = digits + sizeof digits;
    double milli = value * 1000;
    if (isnan (value))
        s_put (self, "NaN", 3);
    else if (isinf (value))
        s_put (self, value > 0 ? "+Inf" : "-Inf", 4);
    else if (fabs (value) < 1e15 && value == (double)(int64_t)value) {
        /* most samples are whole numbers: no printf for them */
        int64_t v = (int64_t)value;
        char *at = s_digits (end, v < 0 ? (uint64_t)-v : (uint64_t)v);
        if (v < 0)
            *--at = '-';
        s_put (self, at, (size_t)(end - at));
    }
    else if (fabs (value) < S_DECIMALS_MAX && (double)llround (milli) / 1000 == value) {
        /* most others are thousandths (seconds from milliseconds, a load
           average, a percentage): "12.345" reads back as the same double,
           the nearest to 12345/1000 both ways; printf's float formatting
           was a tenth of a large scrape */
        long long m = llround (milli);
        uint64_t u = m < 0 ? (uint64_t)-m : (uint64_t)m;
        char *at = s_digits (end, u % 1000 + 1000) + 1; /* three digits, zeros kept */
        size_t frac = 3;
        while (frac && end[-1] == '0') {
            end--;
            frac--;
        }
        *--at = '.';
        at = s_digits (at, u / 1000);
        if (m < 0)
            *--at = '-';
        s_put (self, at, (size_t)(end - at));
    }
    else {
        /* the shortest spelling that reads back as the same double */
        char text[32];
        snprintf (text, sizeof text, "%.15g", value);
        if (strtod (text, NULL) != value)
            snprintf (text, sizeof text, "%.17g", value);
        s_put (self, text, strlen (text));
    }
}

void
rc_expo_family (rc_expo_t *self, const char *name, const char *type, const char *help)
{
    s_printf (self, "# HELP %s ", name);
    s_escaped (self, help, false);
    s_printf (self, "\n# TYPE %s %s\n", name, type);
}

/* [,]name="value" */
static void
s_label (rc_expo_t *self, bool first, const char *name, const char *value)
{
    if (!first)
        s_put (self, ",", 1);
    s_put (self, name, strlen (name));
    s_put (self, "=\"", 2);
    s_escaped (self, value, true);
    s_put (self, "\"", 1);
}

/* name{labels[,extra_name="extra_value"]} */
static void
s_series (rc_expo_t *self, const char *name, const char *suffix, const char *const *labels,
          const char *extra_name, const char *extra_value)
{
    s_put (self, name, strlen (name));
    s_put (self, suffix, strlen (suffix));
    bool any = (labels && labels[0]) || extra_name;
    if (!any)
        return;
    s_put (self, "{", 1);
    bool first = true;
    for (size_t i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
        s_label (self, first, labels[i], labels[i + 1]);
        first = false;
    }
    if (extra_name)
        s_label (self, first, extra_name, extra_value);
    s_put (self, "}", 1);
}

void
rc_expo_sample (rc_expo_t *self, const char *name, const char *const *labels, double value)
{
    s_series (self, name, "", labels, NULL, NULL);
    s_put (self, " ", 1);
    s_value (self, value);
    s_put (self, "\n", 1);
}

void
rc_expo_histo (rc_expo_t *self, const char *name, const char *const *labels, const rc_histo_t *h)
{
    uint64_t cumulative = 0;
    char le[32];
    for (size_t i = 0; i <= h->n_bounds; i++) {
        cumulative += h->counts[i];
        if (i < h->n_bounds)
            snprintf (le, sizeof le, "%.17g", h->bounds[i]);
        else
            snprintf (le, sizeof le, "+Inf");
        s_series (self, name, "_bucket", labels, "le", le);
        s_printf (self, " %llu\n", (unsigned long long)cumulative);
    }
    s_series (self, name, "_sum", labels, NULL, NULL);
    s_put (self, " ", 1);
    s_value (self, h->sum);
    s_put (self, "\n", 1);
    s_series (self, name, "_count", labels, NULL, NULL);
    s_printf (self, " %llu\n", (unsigned long long)h->count);
}

void
rc_expo_raw (rc_expo_t *self, const char *text, size_t len)
{
    s_put (self, text, len);
}

/* Resident set of this process in bytes, from /proc/self/statm; -1. */
static double
s_resident_bytes (void)
{
    FILE *f = fopen ("/proc/self/statm", "r");
    if (!f)
        return -1;
    unsigned long long size = 0, resident = 0;
    int n = fscanf (f, "%llu %llu", &size, &resident);
    fclose (f);
    return n == 2 ? (double)resident * (double)sysconf (_SC_PAGESIZE) : -1;
}

static double
s_open_fds (void)
{
    DIR *dir = opendir ("/proc/self/fd");
    if (!dir)
        return -1;
    double n = 0;
    for (struct dirent *e = readdir (dir); e; e = readdir (dir))
        if (e->d_name[0] != '.')
            n++;
    closedir (dir);
    return n - 1; /* the directory's own descriptor */
}

void
rc_expo_process (rc_expo_t *self, int64_t started_ms)
{
    struct rusage ru;
    double cpu = 0;
    if (getrusage (RUSAGE_SELF, &ru) == 0)
        cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6
              + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    rc_expo_family (self, "process_cpu_seconds_total", "counter",
                    "Total user and system CPU time spent in seconds.");
    rc_expo_sample (self, "process_cpu_seconds_total", NULL, cpu);
    double rss = s_resident_bytes ();
    if (rss >= 0) {
        rc_expo_family (self, "process_resident_memory_bytes", "gauge",
                        "Resident memory size in bytes.");
        rc_expo_sample (self, "process_resident_memory_bytes", NULL, rss);
    }
    double fds = s_open_fds ();
    if (fds >= 0) {
        rc_expo_family (self, "process_open_fds", "gauge", "Number of open file descriptors.");
        rc_expo_sample (self, "process_open_fds", NULL, fds);
    }
    struct rlimit lim;
    if (getrlimit (RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
        rc_expo_family (self, "process_max_fds", "gauge",
                        "Maximum number of open file descriptors.");
        rc_expo_sample (self, "process_max_fds", NULL, (double)lim.rlim_cur);
    }
    rc_expo_family (self, "process_start_time_seconds", "gauge",
                    "Start time of the process since unix epoch in seconds.");
    rc_expo_sample (self, "process_start_time_seconds", NULL, (double)(started_ms / 1000));
}

const char *
rc_expo_text (rc_expo_t *self, size_t *len)
{
    *len = self->text ? self->len : 0;
    return self->text;
}

char *
rc_expo_take (rc_expo_t *self, size_t *len)
{
    char *text = self->text;
    *len = text ? self->len : 0;
    self->text = (char *)malloc (S_EXPO_INITIAL);
    self->size = self->text ? S_EXPO_INITIAL : 0;
    self->len = 0;
    if (self->text)
        self->text[0] = 0;
    return text;
}
