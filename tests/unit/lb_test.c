/*  lb_test.c - the HAProxy provider's reading of HAProxy (a `show stat`
    answer as HAProxy 2.6 writes it: header, quoted fields, FRONTEND and
    BACKEND rows), the haproxy_server list the config reader accepts, and a
    drain that cannot reach its socket failing with the reason, through the
    same rc_lb_t the executor drives. */
#include "lb.h"
#include "rc_config.h"
#include "rc_time.h"
#include "selftests.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

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
    long scur = -1;
    char status[32];
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "web/host-1", &scur, status, sizeof status), 1);
    ck_assert_int_eq (scur, 2);
    ck_assert_str_eq (status, "UP");
    ck_assert (rc_haproxy_status_up (status));
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "web/host-2", &scur, status, sizeof status), 1);
    ck_assert_int_eq (scur, 0);
    ck_assert_str_eq (status, "MAINT");
    ck_assert (!rc_haproxy_status_up (status));
    /* a quoted name with a comma; DOWN going up is not up yet */
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "web/host,3", &scur, status, sizeof status), 1);
    ck_assert_str_eq (status, "DOWN 1/2");
    ck_assert (!rc_haproxy_status_up (status));
    /* a server with no check is up once ready */
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "web/host-4", &scur, status, sizeof status), 1);
    ck_assert (rc_haproxy_status_up (status));
    /* the same server name in another backend is another row */
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "other/host-1", &scur, status, sizeof status), 1);
    ck_assert_int_eq (scur, 7);
    ck_assert_str_eq (status, "DRAIN");
    ck_assert (rc_haproxy_status_up ("UP 1/3"));
    ck_assert (!rc_haproxy_status_up ("UPPER"));
    /* not there: another backend, a prefix of a name, no slash */
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "web/host", &scur, status, sizeof status), 0);
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "we/host-1", &scur, status, sizeof status), 0);
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "nosuch/host-1", &scur, status, sizeof status), 0);
    ck_assert_int_eq (rc_haproxy_stat (s_stat, "host-1", &scur, status, sizeof status), 0);
    /* not show stat at all: an error answer, an empty one, a header
       without the columns we read */
    ck_assert_int_eq (
        rc_haproxy_stat ("Unknown command.\n", "web/host-1", &scur, status, sizeof status), -1);
    ck_assert_int_eq (rc_haproxy_stat ("", "web/host-1", &scur, status, sizeof status), -1);
    ck_assert_int_eq (rc_haproxy_stat ("# pxname,svname\nweb,host-1\n", "web/host-1", &scur, status,
                                       sizeof status),
                      -1);
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
    rc_lb_t *lb = rc_lb_new (&app, RC_LB_DRAIN);
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
    ck_assert_ptr_null (rc_lb_new (&app, RC_LB_DRAIN));
}

void
rc_lb_test (bool verbose)
{
    (void)verbose;
    test_show_stat ();
    test_server_list ();
    test_missing_socket ();
}
