/*  health_test.c - the selftest of agent/health.c, with Check's ck_assert (moved out of
    the daemon's code, and holding under -DNDEBUG). */
#include "health.h"
#include "agent_defaults.h"
#include "child.h"
#include "fetch.h"
#include "lb.h"
#include "selftests.h"
#include "transfer.h"

#include <check.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Selftest: commands that pass and fail, and a URL nobody listens on. */
static rc_health_status_t
s_check (rc_app_config_t *app)
{
    char err[256];
    rc_health_t *h = rc_health_new (app, 0, NULL, NULL, 2000, err, sizeof err);
    ck_assert (h);
    rc_health_status_t st;
    while ((st = rc_health_poll (h)) == RC_HEALTH_RUNNING)
        usleep (2000);
    if (st == RC_HEALTH_FAIL)
        ck_assert (*rc_health_detail (h));
    rc_health_destroy (&h);
    return st;
}

void
rc_health_test (bool verbose)
{
    (void)verbose;
    rc_app_config_t app = {.name = "web"};
    ck_assert (!rc_health_configured (&app));
    ck_assert (s_check (&app) == RC_HEALTH_OK);
    app.health_command = "test -d /";
    ck_assert (s_check (&app) == RC_HEALTH_OK);
    app.health_command = "echo sick; exit 1";
    ck_assert (s_check (&app) == RC_HEALTH_FAIL);
    /* port 1 on loopback: connection refused at once */
    app.health_command = "true";
    app.health_url = "http://127.0.0.1:1/health";
    ck_assert (rc_health_configured (&app));
    ck_assert (s_check (&app) == RC_HEALTH_FAIL);
}
