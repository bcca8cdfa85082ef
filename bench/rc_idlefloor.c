/*  rc_idlefloor.c - bench tool: the floor under an idle agent's resident
    memory. Linked with the agent's objects, it loads every library that
    rollclone-agent loads, then does only what the agent's two processes
    cannot avoid: it forks, and each process runs a zloop with one timer;
    the parent's ZeroMQ context has no I/O thread (as the executor's), the
    child keeps a DEALER connecting to ENDPOINT (an I/O thread, as the
    network side). bench/idle_cpu.sh measures it beside the agent. Runs
    until SIGTERM; the child follows its parent. */
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

/* the agent's heartbeat interval by default */
#define S_TIMER_MS 5000

static int
s_on_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    (void)arg;
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: rc_idlefloor ENDPOINT   (e.g. ipc:///tmp/x)\n");
        return 2;
    }
    /* SIGTERM ends both at once: nothing to clean up */
    zsys_handler_set (NULL);
    pid_t child = fork ();
    if (child < 0) {
        perror ("fork");
        return 1;
    }
    zsock_t *dealer = NULL;
    if (child == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        dealer = zsock_new (ZMQ_DEALER);
        if (!dealer || zsock_connect (dealer, "%s", argv[1]) != 0)
            return 1;
    }
    else
        zsys_set_io_threads (0);
    zloop_t *loop = zloop_new ();
    if (!loop)
        return 1;
    zloop_timer (loop, S_TIMER_MS, 0, s_on_timer, NULL);
    zloop_start (loop);
    zloop_destroy (&loop);
    zsock_destroy (&dealer);
    return 0;
}
