/*  hostrows.c - the committed host rows of active deployments, kept (see
    hostrows.h). */
#include "hostrows.h"

#include <string.h>

typedef struct {
    rc_dhost_t *hosts; /* in their stable order, as committed */
    size_t n;
    zhashx_t *index; /* host id -> its position + 1 */
} s_rows_t;

/* A deployment's record, kept. */
typedef struct {
    rc_deployment_t dep;
    bool unsaved; /* a report changed it; the flush writes it */
} s_dep_t;

struct _rc_hostrows_t {
    zhashx_t *deployments; /* deployment id -> s_rows_t */
    zhashx_t *records;     /* deployment id -> s_dep_t (active ones) */
    uint64_t loaded;       /* rows read for whole lists */
};

static void
s_rows_destroy (void **item)
{
    s_rows_t *rows = (s_rows_t *)*item;
    if (rows) {
        zhashx_destroy (&rows->index);
        free (rows->hosts);
        free (rows);
        *item = NULL;
    }
}

rc_hostrows_t *
rc_hostrows_new (void)
{
    rc_hostrows_t *self = (rc_hostrows_t *)zmalloc (sizeof *self);
    self->deployments = zhashx_new ();
    zhashx_set_destructor (self->deployments, s_rows_destroy);
    self->records = zhashx_new ();
    zhashx_set_destructor (self->records, (zhashx_destructor_fn *)zstr_free);
    return self;
}

void
rc_hostrows_destroy (rc_hostrows_t **self_p)
{
    if (self_p && *self_p) {
        zhashx_destroy (&(*self_p)->deployments);
        zhashx_destroy (&(*self_p)->records);
        free (*self_p);
        *self_p = NULL;
    }
}

static s_rows_t *
s_rows_keep (rc_hostrows_t *self, const char *id, rc_dhost_t *hosts, size_t count)
{
    s_rows_t *rows = (s_rows_t *)zmalloc (sizeof *rows);
    rows->hosts = hosts;
    rows->n = count;
    rows->index = zhashx_new ();
    for (size_t i = 0; i < count; i++)
        zhashx_insert (rows->index, hosts[i].host_id, (void *)(uintptr_t)(i + 1));
    zhashx_update (self->deployments, id, rows);
    return rows;
}

void
rc_hostrows_adopt (rc_hostrows_t *self, const char *id, rc_dhost_t *hosts, size_t n)
{
    if (!hosts)
        return;
    for (size_t i = 0; i < n; i++)
        hosts[i].dirty = false;
    s_rows_keep (self, id, hosts, n);
}

int
rc_hostrows_get (rc_hostrows_t *self, rc_store_t *store, const char *id, rc_dhost_t **hosts,
                 size_t *n)
{
    s_rows_t *rows = (s_rows_t *)zhashx_lookup (self->deployments, id);
    if (!rows) {
        rc_dhost_t *loaded = NULL;
        size_t count = 0;
        if (rc_dhost_load (store, id, &loaded, &count) != 0)
            return -1;
        self->loaded += count;
        rows = s_rows_keep (self, id, loaded, count);
    }
    *hosts = rows->hosts;
    *n = rows->n;
    return 0;
}

void
rc_hostrows_committed (rc_hostrows_t *self, const char *id)
{
    s_rows_t *rows = (s_rows_t *)zhashx_lookup (self->deployments, id);
    for (size_t i = 0; rows && i < rows->n; i++)
        rows->hosts[i].dirty = false;
}

void
rc_hostrows_put (rc_hostrows_t *self, const char *id, const rc_dhost_t *host)
{
    s_rows_t *rows = (s_rows_t *)zhashx_lookup (self->deployments, id);
    if (!rows)
        return;
    size_t at = (size_t)(uintptr_t)zhashx_lookup (rows->index, host->host_id);
    if (at == 0) {
        /* a row the copy does not have: it is not the whole list */
        zhashx_delete (self->deployments, id);
        return;
    }
    rows->hosts[at - 1] = *host;
    rows->hosts[at - 1].dirty = false;
}

void
rc_hostrows_drop (rc_hostrows_t *self, const char *id)
{
    zhashx_delete (self->deployments, id);
    zhashx_delete (self->records, id);
}

void
rc_hostrows_drop_all (rc_hostrows_t *self)
{
    zhashx_purge (self->deployments);
    zhashx_purge (self->records);
}

uint64_t
rc_hostrows_loaded (rc_hostrows_t *self)
{
    return self->loaded;
}

const rc_dhost_t *
rc_hostrows_find (rc_hostrows_t *self, const char *id, const char *host_id)
{
    s_rows_t *rows = (s_rows_t *)zhashx_lookup (self->deployments, id);
    size_t at = rows ? (size_t)(uintptr_t)zhashx_lookup (rows->index, host_id) : 0;
    return at ? &rows->hosts[at - 1] : NULL;
}

int
rc_hostrows_dep_get (rc_hostrows_t *self, rc_store_t *store, const char *id, rc_deployment_t *dep,
                     bool *unsaved)
{
    s_dep_t *kept = (s_dep_t *)zhashx_lookup (self->records, id);
    *unsaved = kept && kept->unsaved;
    if (kept) {
        *dep = kept->dep;
        return 1;
    }
    return rc_deployment_load (store, id, dep);
}

void
rc_hostrows_dep_put (rc_hostrows_t *self, const rc_deployment_t *dep, bool unsaved)
{
    if (!rc_deployment_active (dep)) {
        zhashx_delete (self->records, dep->id);
        return;
    }
    s_dep_t *kept = (s_dep_t *)zhashx_lookup (self->records, dep->id);
    if (!kept) {
        kept = (s_dep_t *)malloc (sizeof *kept);
        if (!kept)
            return; /* not kept: read again next time */
        zhashx_insert (self->records, dep->id, kept);
    }
    kept->dep = *dep;
    kept->unsaved = unsaved;
}

void
rc_hostrows_dep_drop (rc_hostrows_t *self, const char *id)
{
    zhashx_delete (self->records, id);
}
