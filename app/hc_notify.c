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

static int notify_fd = -1;
static volatile sig_atomic_t stopping_sent;

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
	return 0;
}

int hc_notify_send(const char *msg)
{
	if (notify_fd < 0)
		return 0;
	size_t n = strlen(msg);
	return send(notify_fd, msg, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

void hc_notify_stopping(void)
{
	static const char msg[] = "STOPPING=1";
	if (notify_fd < 0 || stopping_sent)
		return;
	stopping_sent = 1;
	(void)!send(notify_fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
}
