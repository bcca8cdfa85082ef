/*  lb_test.c - the HAProxy provider's reading of HAProxy (a `show stat`
    answer as HAProxy 2.6 writes it: header, quoted fields, FRONTEND and
    BACKEND rows), the haproxy_server list the config reader accepts, and a
    drain that cannot reach its socket failing with the reason, through the
    same rc_lb_t the executor drives. The NGINX provider's file (parsed,
    written, replaced atomically), its count of a real connection, its keys,
    and a drain whose nginx_test fails putting the old file back. */
#include "lb.h"
#include "rc_addr.h"
#include "rc_config.h"
#include "rc_defaults.h"
#include "rc_keys.h"
#include "rc_time.h"
#include "selftests.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

static const char s_stat[] =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
    "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,"
    "lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,\n"
    "fe,FRONTEND,,,3,5,262120,40,1,2,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,1,0,3,,,,0,\n"
    "web,host-1,0,0,2,4,,30,1,2,,0,,0,0,0,0,UP,1,1,0,0,0,12,0,,1,3,1,,30,,2,0,,2,L7OK,200,1,0,\n"
    "web,host-2,0,0,0,1,,10,1,2,,0,,0,0,0,0,MAINT,1,1,0,0,0,3,3,,1,3,2,,10,,2,0,,1,,,,0,\n"
    "web,\"host,3\",0,0,0,1,,10,1,2,,0,,0,0,0,0,DOWN 1/2,1,1,0,0,0,3,3,,1,3,3,,10,,2,0,,1,,,,0,\n"
    "web,host-4,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1,1,0,,,3,,,1,3,4,,0,,2,0,,0,,,,0,\n"
    "web,BACKEND,0,0,2,4,,40,1,2,0,0,,0,0,0,0,UP,2,2,0,,0,12,0,,1,3,0,,40,,1,0,,3,,,,0,\n"
    "other,host-1,0,0,7,7,,7,1,2,,0,,0,0,0,0,DRAIN,1,1,0,0,0,12,0,,1,4,1,,7,,2,0,,2,L7OK,200,1,0,"
    "\n";

static void
test_show_stat (void)
{
    rc_haproxy_row_t row;
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "web/host-1", &row), 1);
    ck_assert_int_eq (row.scur, 2);
    ck_assert_str_eq (row.status, "UP");
    ck_assert_str_eq (row.check, "L7OK");
    ck_assert (rc_haproxy_status_up (row.status));
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "web/host-2", &row), 1);
    ck_assert_int_eq (row.scur, 0);
    ck_assert_str_eq (row.status, "MAINT");
    ck_assert_str_eq (row.check, ""); /* no check: undrain does not force it down */
    ck_assert (!rc_haproxy_status_up (row.status));
    /* a quoted name with a comma; DOWN going up is not up yet */
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "web/host,3", &row), 1);
    ck_assert_str_eq (row.status, "DOWN 1/2");
    ck_assert (!rc_haproxy_status_up (row.status));
    /* a server with no check is up once ready */
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "web/host-4", &row), 1);
    ck_assert (rc_haproxy_status_up (row.status));
    /* the same server name in another backend is another row */
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "other/host-1", &row), 1);
    ck_assert_int_eq (row.scur, 7);
    ck_assert_str_eq (row.status, "DRAIN");
    ck_assert (!rc_haproxy_status_up ("UP 1/3")); /* just left maint, or failing */
    ck_assert (!rc_haproxy_status_up ("UPPER"));
    /* not there: another backend, a prefix of a name, no slash */
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "web/host", &row), 0);
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "we/host-1", &row), 0);
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "nosuch/host-1", &row), 0);
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "host-1", &row), 0);
    /* not show stat at all: an error answer, an empty one, a header
       without the columns we read */
    ck_assert_int_eq (rc_haproxy_stat ("Unknown command.\n", "web/host-1", &row), -1);
    ck_assert_int_eq (rc_haproxy_stat ("", "web/host-1", &row), -1);
    ck_assert_int_eq (rc_haproxy_stat ("# pxname,svname\nweb,host-1\n", "web/host-1", &row), -1);
}

static void
test_server_list (void)
{
    char **servers = NULL;
    size_t count = 0;
    char err[128];
    ck_assert_int_eq (
        rc_config_lb_servers ("web/host-1, api/h1  edge/h.1:a", &servers, &count, err, sizeof err),
        0);
    ck_assert_uint_eq (count, 3);
    ck_assert_str_eq (servers[0], "web/host-1");
    ck_assert_str_eq (servers[1], "api/h1");
    ck_assert_str_eq (servers[2], "edge/h.1:a");
    for (size_t i = 0; i < count; i++)
        free (servers[i]);
    free (servers);
    const char *bad[] = {"", " , ", "web", "/s", "web/", "web/a/b", "web/a;b", "web/a b/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg (rc_config_lb_servers (bad[i], &servers, &count, err, sizeof err) == -1,
                       "accepted '%s'", bad[i]);
        ck_assert_ptr_null (servers);
        ck_assert_uint_eq (count, 0);
        ck_assert (*err);
    }
    /* too many */
    char many[RC_LB_SERVERS_MAX * 8 + 16];
    size_t at = 0;
    for (int i = 0; i <= RC_LB_SERVERS_MAX; i++)
        at += (size_t)snprintf (many + at, sizeof many - at, "b/s%d ", i);
    ck_assert_int_eq (rc_config_lb_servers (many, &servers, &count, err, sizeof err), -1);
    ck_assert_str_eq (err, "more than 16 servers");
}

/* A drain whose socket is missing fails at once with the path and errno. */
static void
test_missing_socket (void)
{
    char *servers[] = {"web/host-1"};
    rc_app_config_t app = {.name = "web",
                           .lb = RC_LB_HAPROXY,
                           .haproxy_socket = "/nonexistent/haproxy.sock",
                           .haproxy_servers = servers,
                           .haproxy_server_count = 1,
                           .drain_timeout_ms = 1000,
                           .undrain_timeout_ms = 1000};
    ck_assert (rc_lb_configured (&app));
    rc_lb_t *lb = rc_lb_new (&app, RC_LB_DRAIN, 0);
    ck_assert_ptr_nonnull (lb);
    rc_watch_t w;
    rc_watch_init (&w);
    rc_lb_watch (lb, &w);
    ck_assert (w.wake_at <= rc_mono_ms ()); /* the first command goes out at the next poll */
    ck_assert_int_eq (rc_lb_poll (lb), RC_LB_FAILED);
    ck_assert_str_eq (rc_lb_errmsg (lb),
                      "haproxy_socket /nonexistent/haproxy.sock: No such file or directory");
    rc_lb_destroy (&lb);
    rc_lb_destroy (&lb);
    app.lb = RC_LB_NONE;
    ck_assert (!rc_lb_configured (&app));
    ck_assert_ptr_null (rc_lb_new (&app, RC_LB_DRAIN, 0));
}

/* {slot} and {port} name a slot's server; without slots they stay as
   written, and a short buffer is refused, not cut. */
static void
test_expand (void)
{
    rc_app_config_t app = {.name = "web", .slot_ports = {8080, 8081}, .slot_count = 2};
    char out[64];
    ck_assert_int_eq (rc_lb_expand ("web/a-{slot}", &app, 2, out, sizeof out), 0);
    ck_assert_str_eq (out, "web/a-2");
    ck_assert_int_eq (rc_lb_expand ("127.0.0.1:{port} {slot}{", &app, 1, out, sizeof out), 0);
    ck_assert_str_eq (out, "127.0.0.1:8080 1{");
    ck_assert_int_eq (rc_lb_expand ("web/a-{slot}", &app, 0, out, sizeof out), 0);
    ck_assert_str_eq (out, "web/a-{slot}");
    ck_assert_int_eq (rc_lb_expand ("web/a-{port}", &app, 2, out, 10), -1);
    ck_assert_int_eq (rc_lb_expand ("web/a-{port}", &app, 2, out, 11), 0);
    ck_assert_str_eq (out, "web/a-8081");
    app.slot_count = 0;
    ck_assert_int_eq (rc_lb_expand ("{port}", &app, 1, out, sizeof out), 0);
    ck_assert_str_eq (out, "{port}");
}

/* Numeric addresses for haproxy_socket = tcp://...: IPv4, [IPv6],
   localhost; names that would need a resolver are refused. */
static void
test_addr (void)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    ck_assert_int_eq (rc_addr_parse ("127.0.0.1:9999", &ss, &len), 0);
    ck_assert_int_eq (ss.ss_family, AF_INET);
    ck_assert_int_eq (ntohs (((struct sockaddr_in *)&ss)->sin_port), 9999);
    ck_assert_int_eq (rc_addr_parse ("[::1]:80", &ss, &len), 0);
    ck_assert_int_eq (ss.ss_family, AF_INET6);
    ck_assert_uint_eq (len, sizeof (struct sockaddr_in6));
    ck_assert_int_eq (ntohs (((struct sockaddr_in6 *)&ss)->sin6_port), 80);
    ck_assert_int_eq (rc_addr_parse ("localhost:1", &ss, &len), 0);
    ck_assert_int_eq (ss.ss_family, AF_INET);
    const char *bad[] = {
        "::1:80",        "[::1]80",     "[::1]:",      "127.0.0.1",     "127.0.0.1:0",
        "127.0.0.1:+80", "host.lan:80", "[1.2.3.4]:8", "1.2.3.4:65536", ":80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg (rc_addr_parse (bad[i], &ss, &len) == -1, "%s accepted", bad[i]);
    ck_assert (rc_addr_tcp_url ("tcp://[::1]:9999"));
    ck_assert (!rc_addr_tcp_url ("[::1]:9999"));
    ck_assert (!rc_addr_tcp_url ("tcp://[::1]"));
}

/* An agent config with an [app web] of body: loaded, or NULL with err. */
static rc_config_t *
s_load (const char *dir, const char *body, char *err, size_t errlen)
{
    char path[256];
    snprintf (path, sizeof path, "%s/agent.conf", dir);
    FILE *f = fopen (path, "w");
    ck_assert_ptr_nonnull (f);
    fprintf (f,
             "[agent]\nid = t\ncoordinator_endpoint = tcp://127.0.0.1:1\n"
             "coordinator_publish_endpoint = tcp://127.0.0.1:2\n"
             "coordinator_public_key = k\nsecret_key = k_secret\n"
             "[app web]\nreleases_dir = /srv/web\n%s",
             body);
    fclose (f);
    return rc_config_load (path, RC_ROLE_AGENT, err, errlen);
}

/* The keys as the agent reads them (haproxy and nginx): the lists, the
   defaults, and what is refused across keys. */
static void
test_config (void)
{
    char dir[] = "/tmp/rc_lb_test.XXXXXX", key[64], err[1024];
    ck_assert_ptr_nonnull (mkdtemp (dir));
    snprintf (key, sizeof key, "%s/k", dir);
    ck_assert_int_eq (rc_keys_generate (key, err, sizeof err), 0);
    rc_config_t *cfg = s_load (dir,
                               "lb = haproxy\nhaproxy_socket = tcp://127.0.0.1:9999\n"
                               "haproxy_server = web/a,web/b api/a\nundrain_timeout = 5s\n",
                               err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    const rc_app_config_t *app = rc_config_app (cfg, "web");
    ck_assert_int_eq (app->lb, RC_LB_HAPROXY);
    ck_assert_str_eq (rc_config_lb_name (app->lb), "haproxy");
    ck_assert_str_eq (app->haproxy_socket, "tcp://127.0.0.1:9999");
    ck_assert_uint_eq (app->haproxy_server_count, 3);
    ck_assert_str_eq (app->haproxy_servers[2], "api/a");
    ck_assert_int_eq (app->drain_timeout_ms, RC_DEFAULT_DRAIN_TIMEOUT_MS);
    ck_assert_int_eq (app->undrain_timeout_ms, 5000);
    rc_config_destroy (&cfg);
    /* lb = nginx, its defaults; with slots, {port} and {slot} */
    cfg = s_load (dir,
                  "lb = nginx\nnginx_upstream_file = /etc/nginx/rc/web.conf\n"
                  "nginx_server = 127.0.0.1:8080, [::1]:8080 app.local:81\n",
                  err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    app = rc_config_app (cfg, "web");
    ck_assert_int_eq (app->lb, RC_LB_NGINX);
    ck_assert_str_eq (rc_config_lb_name (app->lb), "nginx");
    ck_assert_str_eq (app->nginx_upstream_file, "/etc/nginx/rc/web.conf");
    ck_assert_uint_eq (app->nginx_server_count, 3);
    ck_assert_str_eq (app->nginx_servers[1], "[::1]:8080");
    ck_assert_str_eq (app->nginx_test, RC_DEFAULT_NGINX_TEST);
    ck_assert_str_eq (app->nginx_reload, RC_DEFAULT_NGINX_RELOAD);
    rc_config_destroy (&cfg);
    cfg = s_load (dir,
                  "lb = nginx\nnginx_upstream_file = /x.conf\nslots = 8080,8081\n"
                  "nginx_server = 127.0.0.1:{port} h{slot}:80\nnginx_test = t\nnginx_reload = r\n",
                  err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    app = rc_config_app (cfg, "web");
    ck_assert_str_eq (app->nginx_servers[0], "127.0.0.1:{port}");
    ck_assert_str_eq (app->nginx_test, "t");
    ck_assert_str_eq (app->nginx_reload, "r");
    rc_config_destroy (&cfg);
    /* without lb: no provider, no haproxy_ keys */
    cfg = s_load (dir, "", err, sizeof err);
    ck_assert_msg (cfg != NULL, "%s", err);
    ck_assert_int_eq (rc_config_app (cfg, "web")->lb, RC_LB_NONE);
    rc_config_destroy (&cfg);
    struct {
        const char *body, *expect;
    } bad[] = {
        {"lb = haproxy\nhaproxy_server = web/a\n", "lb = haproxy needs haproxy_socket"},
        {"lb = haproxy\nhaproxy_socket = /run/h.sock\n", "lb = haproxy needs haproxy_server"},
        {"haproxy_socket = /run/h.sock\nhaproxy_server = web/a\n", "need lb = haproxy"},
        {"lb = nginxplus\n", "lb = 'nginxplus' is not a load balancer"},
        {"lb = haproxy\nhaproxy_socket = tcp://example.org:1\n", "haproxy_socket = 'tcp://"},
        {"lb = nginx\nnginx_server = a:1\n", "lb = nginx needs nginx_upstream_file"},
        {"lb = nginx\nnginx_upstream_file = /x\n", "lb = nginx needs nginx_server"},
        {"nginx_upstream_file = /x\nnginx_server = a:1\n", "need lb = nginx"},
        {"lb = haproxy\nhaproxy_socket = /s\nhaproxy_server = a/b\nnginx_reload = r\n",
         "need lb = nginx"},
        {"nginx_upstream_file = up.conf\n", "nginx_upstream_file = 'up.conf' must be an absolute"},
        {"nginx_server = a\n", "nginx_server: 'a' is not HOST:PORT"},
        {"nginx_server = a:1;b\n", "nginx_server: 'a:1;b' is not HOST:PORT"},
        {"nginx_server = a:0\n", "is not HOST:PORT"},
        {"nginx_server = [::1:80\n", "is not HOST:PORT"},
        {"nginx_server = a:{port}x\n", "is not HOST:PORT"},
        {"lb = nginx\nnginx_upstream_file = /x\nnginx_server = a:{port}\n",
         "{port} and {slot} need slots"},
        {"lb = nginx\nnginx_upstream_file = /x\nnginx_server = a:1\nslots = 1,2\n",
         "must name the slot"},
        {"nginx_test =\n", "nginx_test is empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg = s_load (dir, bad[i].body, err, sizeof err);
        ck_assert_msg (!cfg && strstr (err, bad[i].expect), "case %zu: '%s'", i, err);
    }
    char path[256];
    const char *files[] = {"agent.conf", "k", "k_secret"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, files[i]);
        unlink (path);
    }
    rmdir (dir);
}

/* ---- NGINX --------------------------------------------------------------- */

static void
test_nginx_file (void)
{
    rc_nginx_line_t lines[4];
    size_t count = 0;
    const char *text = "# a comment\n\nserver 127.0.0.1:8080;\n  server [::1]:81 down ;\r\n"
                       "server h-1.example:9 down;";
    ck_assert_int_eq (rc_nginx_parse (text, lines, 4, &count), 0);
    ck_assert_uint_eq (count, 3);
    ck_assert_str_eq (lines[0].addr, "127.0.0.1:8080");
    ck_assert (!lines[0].down);
    ck_assert_str_eq (lines[1].addr, "[::1]:81");
    ck_assert (lines[1].down);
    ck_assert_str_eq (lines[2].addr, "h-1.example:9");
    ck_assert (lines[2].down);
    /* what we write reads back the same */
    char buf[512];
    ck_assert_int_eq (rc_nginx_format (lines, count, buf, sizeof buf), 0);
    ck_assert (strstr (buf, "\nserver 127.0.0.1:8080;\nserver [::1]:81 down;\n"));
    rc_nginx_line_t again[4];
    size_t again_count = 0;
    ck_assert_int_eq (rc_nginx_parse (buf, again, 4, &again_count), 0);
    ck_assert_uint_eq (again_count, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq (again[i].addr, lines[i].addr);
        ck_assert_int_eq (again[i].down, lines[i].down);
    }
    ck_assert_int_eq (rc_nginx_format (lines, count, buf, 60), -1);
    /* anything else is not our file */
    const char *bad[] = {"server a:1", "server a:1 backup;",    "upstream x { }",
                         "server ;",   "server a:1 down down;", "weight=1;"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg (rc_nginx_parse (bad[i], lines, 4, &count) == -1, "parsed '%s'", bad[i]);
    ck_assert_int_eq (rc_nginx_parse ("server a:1;\nserver b:2;\n", lines, 1, &count), -1);
}

/* The file's text, "" when there is none. */
static void
s_slurp (const char *path, char *buf, size_t len)
{
    FILE *f = fopen (path, "r");
    size_t n = f ? fread (buf, 1, len - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose (f);
}

/* Entries of dir besides . and .. */
static int
s_entries (const char *dir)
{
    DIR *d = opendir (dir);
    ck_assert_ptr_nonnull (d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir (d)))
        n += strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0;
    closedir (d);
    return n;
}

static void
test_nginx_write (void)
{
    char dir[] = "/tmp/rc_nginx_test.XXXXXX", path[128], buf[256], err[512];
    ck_assert_ptr_nonnull (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/up.conf", dir);
    ck_assert_int_eq (rc_nginx_write_file (path, "server a:1;\n", err, sizeof err), 0);
    s_slurp (path, buf, sizeof buf);
    ck_assert_str_eq (buf, "server a:1;\n");
    /* a leftover temp file of an agent killed mid-write is replaced */
    char tmp[160];
    snprintf (tmp, sizeof tmp, "%s/.up.conf.rc-tmp", dir);
    FILE *f = fopen (tmp, "w");
    fputs ("server half", f);
    fclose (f);
    ck_assert_int_eq (rc_nginx_write_file (path, "server a:1 down;\n", err, sizeof err), 0);
    s_slurp (path, buf, sizeof buf);
    ck_assert_str_eq (buf, "server a:1 down;\n");
    ck_assert_int_eq (s_entries (dir), 1); /* no temp file left */
    struct stat st;
    ck_assert_int_eq (stat (path, &st), 0);
    ck_assert_int_eq (st.st_mode & 0777, 0644);
    /* NULL removes it; removing what is not there is no error */
    ck_assert_int_eq (rc_nginx_write_file (path, NULL, err, sizeof err), 0);
    ck_assert_int_eq (rc_nginx_write_file (path, NULL, err, sizeof err), 0);
    ck_assert_int_eq (s_entries (dir), 0);
    /* a directory that is not there: the reason names the file */
    snprintf (path, sizeof path, "%s/no/up.conf", dir);
    ck_assert_int_eq (rc_nginx_write_file (path, "x", err, sizeof err), -1);
    ck_assert_msg (strstr (err, path) && strstr (err, "No such file"), "%s", err);
    rmdir (dir);
}

/* A real connection on loopback is counted on the listening end only, and
   no longer once closed. */
static void
test_nginx_connections (void)
{
    int lfd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    ck_assert_int_eq (bind (lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq (listen (lfd, 4), 0);
    ck_assert_int_eq (getsockname (lfd, (struct sockaddr *)&a, &alen), 0);
    char addr[64], any[64], other[64];
    snprintf (addr, sizeof addr, "127.0.0.1:%u", ntohs (a.sin_port));
    snprintf (any, sizeof any, "localhost:%u", ntohs (a.sin_port));
    snprintf (other, sizeof other, "127.0.0.2:%u", ntohs (a.sin_port));
    ck_assert_int_eq (rc_nginx_connections (addr), 0); /* listening is no connection */
    int cfd = socket (AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq (connect (cfd, (struct sockaddr *)&a, sizeof a), 0);
    int sfd = accept (lfd, NULL, NULL);
    ck_assert_int_ge (sfd, 0);
    ck_assert_int_eq (rc_nginx_connections (addr), 1);
    ck_assert_int_eq (rc_nginx_connections (any), 1); /* a name: any address of the port */
    ck_assert_int_eq (rc_nginx_connections (other), 0);
    close (cfd);
    close (sfd);
    ck_assert_int_eq (rc_nginx_connections (addr), 0);
    close (lfd);
    ck_assert_int_eq (rc_nginx_connections ("nonsense"), -1);
}

/* Polls lb until it ends (5 s at most). */
static rc_lb_status_t
s_run_lb (rc_lb_t *lb)
{
    int64_t end = rc_mono_ms () + 5000;
    rc_lb_status_t st;
    while ((st = rc_lb_poll (lb)) == RC_LB_RUNNING && rc_mono_ms () < end)
        usleep (10 * 1000);
    return st;
}

/* A drain whose nginx_test refuses the file: the old file is back, the
   reason quotes the test's output; a restore then has nothing to do (it
   runs no command: its nginx_test would fail too). With slots, the file
   names both slots, the other slot as the old file had it. */
static void
test_nginx_refused (void)
{
    char dir[] = "/tmp/rc_nginx_test.XXXXXX", path[128], buf[512];
    ck_assert_ptr_nonnull (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/web.conf", dir);
    char *servers[] = {"127.0.0.1:{port}"};
    char test[256];
    snprintf (test, sizeof test, "cp %s %s/tested; echo 'nginx: [emerg] no' >&2; exit 1", path,
              dir);
    rc_app_config_t app = {.name = "web",
                           .lb = RC_LB_NGINX,
                           .nginx_upstream_file = path,
                           .nginx_servers = servers,
                           .nginx_server_count = 1,
                           .nginx_test = test,
                           .nginx_reload = "exit 3",
                           .slot_ports = {8080, 8081},
                           .slot_count = 2,
                           .hook_timeout_ms = 5000,
                           .drain_timeout_ms = 1000,
                           .undrain_timeout_ms = 1000};
    const char *old = "server 127.0.0.1:8080;\nserver 127.0.0.1:8081 down;\n";
    char err[512];
    ck_assert_int_eq (rc_nginx_write_file (path, old, err, sizeof err), 0);
    rc_lb_t *lb = rc_lb_new (&app, RC_LB_DRAIN, 1);
    ck_assert_int_eq (s_run_lb (lb), RC_LB_FAILED);
    char want[600];
    snprintf (want, sizeof want, "nginx_test '%s' exited with status 1: nginx: [emerg] no", test);
    ck_assert_str_eq (rc_lb_errmsg (lb), want);
    rc_lb_destroy (&lb);
    s_slurp (path, buf, sizeof buf);
    ck_assert_str_eq (buf, old);
    /* what the test saw: slot 1 down, slot 2 as it was */
    char tested[160];
    snprintf (tested, sizeof tested, "%s/tested", dir);
    s_slurp (tested, buf, sizeof buf);
    ck_assert (strstr (buf, "\nserver 127.0.0.1:8080 down;\nserver 127.0.0.1:8081 down;\n"));
    unlink (tested);
    lb = rc_lb_new (&app, RC_LB_RESTORE, 1);
    ck_assert_int_eq (s_run_lb (lb), RC_LB_DONE);
    rc_lb_destroy (&lb);
    ck_assert_int_eq (access (tested, F_OK), -1); /* no test ran */
    /* an undrain of slot 2 whose reload fails: the file is put back too */
    app.nginx_test = "true";
    lb = rc_lb_new (&app, RC_LB_UNDRAIN, 2);
    ck_assert_int_eq (s_run_lb (lb), RC_LB_FAILED);
    ck_assert_str_eq (rc_lb_errmsg (lb), "nginx_reload 'exit 3' exited with status 3: (no output)");
    rc_lb_destroy (&lb);
    s_slurp (path, buf, sizeof buf);
    ck_assert_str_eq (buf, old);
    /* slot 0 of an app with slots: all of its servers; what the test saw */
    snprintf (test, sizeof test, "cp %s %s/tested", path, dir);
    app.nginx_test = test;
    lb = rc_lb_new (&app, RC_LB_DRAIN, 0);
    ck_assert_int_eq (s_run_lb (lb), RC_LB_FAILED); /* exit 3 */
    rc_lb_destroy (&lb);
    s_slurp (tested, buf, sizeof buf);
    ck_assert (strstr (buf, "\nserver 127.0.0.1:8080 down;\nserver 127.0.0.1:8081 down;\n"));
    unlink (tested);
    /* an undrain of slot 2 whose test and reload pass, with no NGINX worker
       on this host: done after the settling time, the file says slot 2 up */
    if (system ("grep -qs '^nginx: worker process' /proc/[0-9]*/cmdline") != 0) {
        app.nginx_reload = "true";
        app.nginx_test = "true";
        int64_t started = rc_mono_ms ();
        lb = rc_lb_new (&app, RC_LB_UNDRAIN, 2);
        ck_assert_msg (s_run_lb (lb) == RC_LB_DONE, "%s", rc_lb_errmsg (lb));
        ck_assert_int_ge (rc_mono_ms () - started, 1000);
        rc_lb_destroy (&lb);
        s_slurp (path, buf, sizeof buf);
        ck_assert (strstr (buf, "\nserver 127.0.0.1:8080;\nserver 127.0.0.1:8081;\n"));
    }
    unlink (path);
    rmdir (dir);
}

void
rc_lb_test (bool verbose)
{
    (void)verbose;
    test_show_stat ();
    test_server_list ();
    test_missing_socket ();
    test_config ();
    test_expand ();
    test_addr ();
    test_nginx_file ();
    test_nginx_write ();
    test_nginx_connections ();
    test_nginx_refused ();
}
