/*  store_backup.c - online backup of the store, a few pages at a time
    (SQLite's backup API on our own connection). */
#include "rc_time.h"
#include "store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Online backup */

static void
s_backup_clear (rc_store_t *self)
{
    if (self->backup)
        sqlite3_backup_finish (self->backup);
    self->backup = NULL;
    if (self->backup_db)
        sqlite3_close_v2 (self->backup_db);
    self->backup_db = NULL;
    free (self->backup_tmp);
    free (self->backup_path);
    self->backup_tmp = self->backup_path = NULL;
}

void
rc_store_backup_abort (rc_store_t *self)
{
    if (!self->backup_tmp)
        return;
    char *tmp = strdup (self->backup_tmp);
    s_backup_clear (self);
    if (tmp) {
        unlink (tmp);
        free (tmp);
    }
}

bool
rc_store_backup_running (rc_store_t *self)
{
    return self->backup != NULL;
}

int
rc_store_backup_pages (rc_store_t *self)
{
    return self->backup_pages;
}

int
rc_store_backup_begin (rc_store_t *self, const char *path)
{
    if (self->backup)
        return rc_store_set_error (self, "a backup is running already (to %s)", self->backup_path);
    if (access (path, F_OK) == 0 || errno != ENOENT)
        return rc_store_set_error (self, "%s exists: a backup never overwrites a file", path);
    self->backup_pages = 0;
    self->backup_path = strdup (path);
    self->backup_tmp = zsys_sprintf ("%s.partial-XXXXXX", path);
    if (!self->backup_path || !self->backup_tmp) {
        s_backup_clear (self);
        return rc_store_set_error (self, "out of memory");
    }
    /* a name of our own, created empty: SQLite writes into it */
    int fd = mkstemp (self->backup_tmp);
    if (fd < 0) {
        int why = errno;
        s_backup_clear (self);
        return rc_store_set_error (self, "cannot create a file beside %s: %s", path,
                                   strerror (why));
    }
    close (fd);
    /* the copy needs no journal of its own: until it is complete and
       synced it has no name but the temporary one */
    if (sqlite3_open_v2 (self->backup_tmp, &self->backup_db, SQLITE_OPEN_READWRITE, NULL)
            != SQLITE_OK
        || sqlite3_exec (self->backup_db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", NULL,
                         NULL, NULL)
               != SQLITE_OK) {
        rc_store_set_error (self, "cannot open %s: %s", self->backup_tmp,
                            self->backup_db ? sqlite3_errmsg (self->backup_db) : "out of memory");
        rc_store_backup_abort (self);
        return -1;
    }
    self->backup = sqlite3_backup_init (self->backup_db, "main", self->db, "main");
    if (!self->backup) {
        rc_store_set_error (self, "backup: %s", sqlite3_errmsg (self->backup_db));
        rc_store_backup_abort (self);
        return -1;
    }
    return 0;
}

/* Makes the complete copy durable and gives it its name: fsync, link (which
   never replaces a file that appeared meanwhile), fsync of the directory. */
static int
s_backup_publish (rc_store_t *self)
{
    int fd = open (self->backup_tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync (fd) != 0) {
        if (fd >= 0)
            close (fd);
        return rc_store_set_error (self, "cannot sync %s: %s", self->backup_tmp, strerror (errno));
    }
    close (fd);
    if (link (self->backup_tmp, self->backup_path) != 0)
        return rc_store_set_error (self, "cannot name the backup %s: %s", self->backup_path,
                                   strerror (errno));
    unlink (self->backup_tmp);
    char *dir = strdup (self->backup_path);
    char *slash = dir ? strrchr (dir, '/') : NULL;
    if (slash) {
        *(slash == dir ? slash + 1 : slash) = '\0';
        int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync (dfd);
            close (dfd);
        }
    }
    free (dir);
    return 0;
}

int
rc_store_backup_step (rc_store_t *self)
{
    if (!self->backup)
        return rc_store_set_error (self, "no backup is running");
    int64_t start = rc_mono_ms ();
    int rc;
    do
        rc = sqlite3_backup_step (self->backup, RC_BACKUP_STEP_PAGES);
    while (rc == SQLITE_OK && rc_mono_ms () - start < RC_BACKUP_BUDGET_MS);
    self->backup_pages = sqlite3_backup_pagecount (self->backup);
    if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return 0; /* more next time */
    if (rc != SQLITE_DONE) {
        rc_store_set_error (self, "backup: %s", sqlite3_errstr (rc));
        rc_store_backup_abort (self);
        return -1;
    }
    /* complete: close the copy (its last pages reach the file) and name it */
    sqlite3_backup_finish (self->backup);
    self->backup = NULL;
    rc = sqlite3_close (self->backup_db);
    self->backup_db = NULL;
    if (rc != SQLITE_OK) {
        rc_store_set_error (self, "backup: closing the copy: %s", sqlite3_errstr (rc));
        rc_store_backup_abort (self);
        return -1;
    }
    if (s_backup_publish (self) != 0) {
        rc_store_backup_abort (self);
        return -1;
    }
    s_backup_clear (self);
    return 1;
}
