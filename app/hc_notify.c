/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_notify.c - systemd's readiness protocol, written out (sd_notify(3),
 * "the datagram protocol"): one AF_UNIX datagram of "KEY=value" lines to
 * the socket $NOTIFY_SOCKET names.
 *
 * Why not libsystemd's sd_notify: STOPPING=1 must leave the moment
 * SIGTERM arrives, from the signal handler (the orderly stop that follows
 * can take a while), and sd_notify is not async-signal-safe (it builds
 * the address and allocates on each call).  Here the socket is connected
 * once at start, and a message is a single send(2), which is.  It also
 * keeps a library off the appliance's link line.
 *
 * The watchdog (WATCHDOG=1) is sent from the control loop, never from a
 * thread of its own: a ping then means the control core runs; it is
 * withheld unless every worker's loop count rose since the last ping
 * (read through hc_dp_collect over a one-worker view of the dataplane:
 * workers are opaque outside dataplane/), so a stuck worker stops them too.
 */
#include "hc_notify.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "hc_control.h"
#include "hc_dataplane.h"
#include "hc_log.h"

static int notify_fd = -1;
static volatile sig_atomic_t stopping_sent;
static char last_status[200]; /* the last STATUS= sent, restored after a stall */

static struct {
	uint64_t usec;                  /* WATCHDOG_USEC; 0: no watchdog         */
	uint64_t half_tsc;              /* a ping every usec / 2, in TSC ticks   */
	uint64_t next;                  /* TSC of the next check                 */
	uint64_t loops[HC_MAX_WORKERS]; /* each worker's loops at the last check */
	int withheld;                   /* the last check withheld the ping      */
} wd;

/* $WATCHDOG_USEC for us ($WATCHDOG_PID, if set, names this process), then
 * forget both so that no child inherits them.  0: none or not ours. */
static uint64_t watchdog_usec(void)
{
	const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	uint64_t v = 0;
	if (us != NULL && us[0] >= '0' && us[0] <= '9') {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(us, &end, 10);
		if (errno == 0 && *end == '\0')
			v = x;
	}
	if (v != 0 && pid != NULL && pid[0] != '\0' && strtol(pid, NULL, 10) != (long)getpid())
		v = 0;
	if (us != NULL && v == 0)
		fprintf(stderr, "headcount: WATCHDOG_USEC '%s' is not for us or not a number: no "
			"watchdog pings\n", us);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return v;
}

int hc_notify_open(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;

	if (path == NULL || path[0] == '\0')
		return 0;
	size_t len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
		fprintf(stderr, "headcount: NOTIFY_SOCKET '%s' is not a socket path: systemd "
			"will not hear that we are ready\n", path);
		unsetenv("NOTIFY_SOCKET");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* the abstract namespace */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) != 0) {
		fprintf(stderr, "headcount: cannot reach NOTIFY_SOCKET %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		unsetenv("NOTIFY_SOCKET");
		return -1;
	}
	notify_fd = fd;
	unsetenv("NOTIFY_SOCKET");
	hc_control_stop_hook = hc_notify_stopping; /* before the drain */
	wd.usec = watchdog_usec();
	if (wd.usec != 0)
		hc_control_pass_hook = hc_notify_watchdog;
	return 0;
}

int hc_notify_send(const char *msg)
{
	if (notify_fd < 0)
		return 0;
	size_t n = strlen(msg);
	const char *st = strstr(msg, "STATUS=");
	if (st != NULL && (st == msg || st[-1] == '\n'))
		snprintf(last_status, sizeof(last_status), "%.*s", (int)strcspn(st, "\n"), st);
	return send(notify_fd, msg, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

void hc_notify_stopping(void)
{
	static const char msg[] = "STOPPING=1";
	/* one exchange: the signal handler (on any thread) and the control
	 * core's stop hook may both come here at once */
	if (notify_fd < 0 || __atomic_exchange_n(&stopping_sent, 1, __ATOMIC_SEQ_CST) != 0)
		return;
	(void)!send(notify_fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
}

/* Worker i's loop count: hc_dp_collect over a view holding only it. */
static uint64_t worker_loops(const struct hc_dataplane *dp, unsigned i)
{
	static struct hc_dataplane one; /* control lcore only */
	struct hc_dp_totals t;
	one = *dp;
	one.n_workers = 1;
	one.workers[0] = dp->workers[i];
	hc_dp_collect(&one, &t);
	return t.w.loops;
}

void hc_notify_watchdog(const struct hc_dataplane *dp, uint64_t now)
{
	if (wd.usec == 0 || notify_fd < 0)
		return;
	if (wd.half_tsc == 0) { /* the first pass: the workers' starting counts */
		wd.half_tsc = (uint64_t)((double)wd.usec / 2e6 * (double)rte_get_tsc_hz());
		if (wd.half_tsc == 0)
			wd.half_tsc = 1;
		for (unsigned i = 0; i < dp->n_workers; i++)
			wd.loops[i] = worker_loops(dp, i);
		wd.next = now + wd.half_tsc;
		HC_LOG(INFO, "systemd watchdog: %.3f s, a ping every %.3f s while every worker "
		       "makes progress", (double)wd.usec / 1e6, (double)wd.usec / 2e6);
		return;
	}
	if (now < wd.next)
		return;
	wd.next = now + wd.half_tsc;
	unsigned stuck = dp->n_workers;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		uint64_t l = worker_loops(dp, i);
		if (l == wd.loops[i] && stuck == dp->n_workers)
			stuck = i;
		wd.loops[i] = l;
	}
	if (stuck == dp->n_workers) {
		hc_notify_send("WATCHDOG=1");
		if (wd.withheld) {
			wd.withheld = 0;
			HC_LOG(WARNING, "systemd watchdog: every worker makes progress again: pings "
			       "resume");
			if (last_status[0] != '\0') {
				char again[sizeof(last_status)];
				snprintf(again, sizeof(again), "%s", last_status);
				hc_notify_send(again);
			}
		}
		return;
	}
	char msg[160];
	snprintf(msg, sizeof(msg), "STATUS=watchdog: worker %u made no progress in %.3f s: "
		 "WATCHDOG=1 withheld", stuck, (double)wd.usec / 2e6);
	char keep[sizeof(last_status)];
	snprintf(keep, sizeof(keep), "%s", last_status); /* not this one */
	hc_notify_send(msg);
	snprintf(last_status, sizeof(last_status), "%s", keep);
	wd.withheld = 1;
	HC_LOG(ERR, "systemd watchdog: worker %u made no progress in %.3f s: ping withheld "
	       "(systemd restarts the appliance after WatchdogSec without one)", stuck,
	       (double)wd.usec / 2e6);
}
