/*  unpack_test.c - the selftest of agent/unpack.c, with Check's ck_assert (moved out of
    the daemon's code, and holding under -DNDEBUG). */
#include "agent_defaults.h"
#include "rc_defaults.h"
#include "rc_ids.h"
#include "selftests.h"
#include "unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Selftest: archives made by tar(1), zip(1) and python3, good and hostile. */
static int
s_sh (const char *script, const char *dir)
{
    char cmd[4096];
    snprintf (cmd, sizeof cmd, "cd '%s' && { %s; } >/dev/null 2>&1", dir, script);
    return system (cmd);
}

static rc_unpack_status_t
s_unpack (const char *dir, const char *artifact, const rc_unpack_limits_t *limits, char *err,
          size_t len)
{
    char path[512], dest[512];
    snprintf (path, sizeof path, "%s/%s", dir, artifact);
    snprintf (dest, sizeof dest, "%s/out", dir);
    s_sh ("chmod -R u+rwx out; rm -rf out && mkdir out", dir);
    rc_unpack_t *u = rc_unpack_new (path, dest, "file.bin", limits, err, len);
    if (!u)
        return RC_UNPACK_FAILED;
    rc_unpack_status_t st;
    while ((st = rc_unpack_poll (u)) == RC_UNPACK_RUNNING)
        usleep (1000);
    snprintf (err, len, "%s", rc_unpack_errmsg (u));
    rc_unpack_destroy (&u);
    return st;
}

static bool
s_file_is (const char *dir, const char *name, const char *text)
{
    char path[512], buf[64] = "";
    snprintf (path, sizeof path, "%s/out/%s", dir, name);
    FILE *f = fopen (path, "r");
    bool ok = f && fgets (buf, sizeof buf, f) && strcmp (buf, text) == 0;
    if (f)
        fclose (f);
    return ok;
}

void
rc_unpack_test (bool verbose)
{
    char dir[] = "/tmp/rc_unpack_test.XXXXXX";
    ck_assert (mkdtemp (dir));
    char err[PATH_MAX + 256], path[600];
    char *name = rc_unpack_file_name ("https://h/x/app.jar?sig=1");
    ck_assert (name && strcmp (name, "app.jar") == 0);
    free (name);

    /* a good tree in every format: dirs, a long name, an inside symlink, a
       hard link, an old mtime, a setuid bit (dropped) */
    ck_assert (s_sh ("L=$(printf 'a%.0s' $(seq 120)) && mkdir -p src/bin src/$L && "
                     "echo hi > src/bin/run && chmod 4755 src/bin/run && ln -s bin/run src/link && "
                     "ln src/bin/run src/hard && echo deep > src/$L/f && "
                     "touch -d 2001-02-03T04:05:06Z src/bin/run && "
                     "tar -czf good.tgz -C src . && tar -cf good.tar -C src . && "
                     "tar --format=pax -cf pax.tar -C src . && tar -cJf good.txz -C src . && "
                     "tar --zstd -cf good.tzst -C src . && tar -cjf good.tbz -C src . && "
                     "(cd src && zip -qry ../good.zip .)",
                     dir)
               == 0);
    const char *good[] = {"good.tgz",  "good.tar", "pax.tar", "good.txz",
                          "good.tzst", "good.tbz", "good.zip"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        rc_unpack_status_t st = s_unpack (dir, good[i], NULL, err, sizeof err);
        if (verbose || st != RC_UNPACK_DONE)
            fprintf (stderr, "unpack %s: %s\n", good[i], err);
        ck_assert (st == RC_UNPACK_DONE);
        ck_assert (s_file_is (dir, "link", "hi\n") && s_file_is (dir, "bin/run", "hi\n"));
        struct stat st_run;
        snprintf (path, sizeof path, "%s/out/bin/run", dir);
        ck_assert (stat (path, &st_run) == 0);
        ck_assert ((st_run.st_mode & 07777) == 0755);
        ck_assert (st_run.st_mtime == 981173106);
    }

    /* hostile: each refused with its reason */
    struct {
        const char *make;
        const char *why;
    } bad[] = {
        {"rm -rf e && mkdir -p e/d && echo x > e/x && "
         "tar -cf bad.tar -C e/d --absolute-names ../x",
         "'..'"},
        {"echo x > /tmp/rc_unpack_abs_$$ && tar -cPf bad.tar /tmp/rc_unpack_abs_$$ "
         "&& rm -f /tmp/rc_unpack_abs_$$",
         "absolute"},
        {"rm -rf e && mkdir e && ln -s /etc e/out && tar -cf bad.tar -C e out", "leaves"},
        {"rm -rf e && mkdir -p e/a && ln -s . e/a/s && ln -s a/s/../.. e/up && "
         "tar -cf bad.tar -C e a up",
         "outside"},
        {"rm -rf e f && mkdir e f && ln -s ../../ e/dir && mkdir -p f/dir && "
         "echo x > f/dir/x && tar -cf bad.tar -C e dir && tar -rf bad.tar -C f dir/x",
         "leaves"},
        {"rm -rf e f && mkdir e f && ln -s . e/dir && mkdir -p f/dir && "
         "echo x > f/dir/x && tar -cf bad.tar -C e dir && tar -rf bad.tar -C f dir/x",
         "symlink"},
        /* the hard link to an inside symlink that points outside */
        {"rm -rf e && mkdir -p e/a/b/c/d && ln -s ../../../../etc e/a/b/c/d/s && "
         "ln e/a/b/c/d/s e/t && tar -cf bad.tar -C e a t",
         "hard link"},
        {"rm -rf e && mkdir e && mkfifo e/p && tar -cf bad.tar -C e p", "fifo"},
        {"head -c 3000 good.tar > bad.tar", "not a valid archive"},
        {"head -c 3000 good.tar > bad.tar", "truncated"},
        {"head -c 200 good.tgz > bad.tar", "truncated gzip"},
        {"printf '\\037\\213garbage' > bad.tar", "Unrecognized archive format"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert (s_sh (bad[i].make, dir) == 0);
        rc_unpack_status_t st = s_unpack (dir, "bad.tar", NULL, err, sizeof err);
        if (verbose || st != RC_UNPACK_FAILED || !strstr (err, bad[i].why))
            fprintf (stderr, "unpack bad %zu: %s\n", i, err);
        ck_assert (st == RC_UNPACK_FAILED && strstr (err, bad[i].why));
    }
    /* limits: bytes (declared and written) and entries */
    ck_assert (s_sh ("head -c 3000000 /dev/zero > z && tar -czf big.tgz z", dir) == 0);
    rc_unpack_limits_t small = {.max_unpacked_bytes = 1000000};
    ck_assert (s_unpack (dir, "big.tgz", &small, err, sizeof err) == RC_UNPACK_FAILED);
    ck_assert (strstr (err, "max_unpacked_bytes"));
    rc_unpack_limits_t few = {.max_entries = 3};
    ck_assert (s_unpack (dir, "good.tgz", &few, err, sizeof err) == RC_UNPACK_FAILED);
    ck_assert (strstr (err, "more than 3 entries"));
    /* anything else is placed as is, whatever its URL said */
    ck_assert (s_sh ("echo jar > app.tgz", dir) == 0);
    ck_assert (s_unpack (dir, "app.tgz", NULL, err, sizeof err) == RC_UNPACK_DONE);
    ck_assert (s_file_is (dir, "file.bin", "jar\n"));
    s_sh ("chmod -R u+rwx . ; rm -rf ../$(basename \"$PWD\")", dir);
}
