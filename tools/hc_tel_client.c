/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_tel_client.c - see hc_tel_client.h.
 */
#include "hc_tel_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define STEP_MS 2000  /* the connect's, the greeting's, the reply's bound */
#define QUERY_MS 6000 /* the whole query's, its retries of a busy socket too */

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* fd's reads and writes give up after STEP_MS, or at the deadline if
 * sooner; -1 when it has passed */
static int bound_io(int fd, int64_t deadline)
{
	int64_t left = deadline - now_ms();
	if (left <= 0)
		return -1;
	if (left > STEP_MS)
		left = STEP_MS;
	struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		return -1;
	return 0;
}

/* One connection: 0 and the reply in buf, 1 if the socket was busy (a
 * connect refused for now: its backlog full, or closed before its
 * greeting), -1 else.  The connect does not wait: a socket whose backlog
 * is full (a frozen appliance, other clients queued) says so at once,
 * where a blocking connect waited out its timeout on every retry. */
static int query_once(const struct sockaddr_un *a, const char *cmd, char *buf, size_t len,
		      int64_t deadline)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) != 0) {
		int busy = errno == EAGAIN;
		close(fd);
		return busy ? 1 : -1;
	}
	/* a stalled appliance must not hang the tool past its own --timeout */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 || bound_io(fd, deadline) != 0) {
		close(fd);
		return -1;
	}
	ssize_t n = read(fd, buf, len - 1); /* the greeting */
	if (n <= 0) {
		close(fd);
		return n == 0 ? 1 : -1;
	}
	if (bound_io(fd, deadline) != 0 || write(fd, cmd, strlen(cmd)) < 0 ||
	    bound_io(fd, deadline) != 0) {
		close(fd);
		return -1;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int hc_tel_query(const char *prefix, const char *cmd, char *buf, size_t len)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	/* where DPDK puts it (rte_eal_get_runtime_dir, as headcountctl's
	 * socket_path): /var/run/dpdk as root, else $XDG_RUNTIME_DIR/dpdk
	 * (or /tmp/dpdk) */
	const char *base = "/var/run";
	if (geteuid() != 0) {
		const char *x = getenv("XDG_RUNTIME_DIR");
		base = x != NULL && x[0] != '\0' ? x : "/tmp";
	}
	if (len < 2 || snprintf(a.sun_path, sizeof(a.sun_path), "%s/dpdk/%s/dpdk_telemetry.v2",
				base, prefix) >= (int)sizeof(a.sun_path))
		return -1;
	/* DPDK's socket listens with a backlog of 1 and serves at most 10
	 * clients: busy is another client's moment, tried again 20 ms apart
	 * until the query's deadline */
	const int64_t deadline = now_ms() + QUERY_MS;
	for (;;) {
		int rc = query_once(&a, cmd, buf, len, deadline);
		if (rc <= 0)
			return rc;
		if (now_ms() + 20 >= deadline)
			return -1;
		usleep(20000);
	}
}

json_t *hc_tel_parse(const char *text, const char *cmd, char *err, size_t err_len)
{
	json_error_t je;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		snprintf(err, err_len, "line %d column %d: %s", je.line, je.column, je.text);
		return NULL;
	}
	/* the key is the command without its parameter */
	char key[128];
	size_t n = strcspn(cmd, ",");
	if (n >= sizeof(key)) {
		json_decref(root);
		snprintf(err, err_len, "command too long");
		return NULL;
	}
	memcpy(key, cmd, n);
	key[n] = '\0';
	json_t *v = json_is_object(root) ? json_object_get(root, key) : NULL;
	if (v == NULL) {
		json_decref(root);
		snprintf(err, err_len, "the reply is not an object holding \"%s\"", key);
		return NULL;
	}
	json_incref(v);
	json_decref(root);
	return v;
}

json_t *hc_tel_query_json(const char *prefix, const char *cmd, char *err, size_t err_len)
{
	static char buf[1 << 16];
	if (hc_tel_query(prefix, cmd, buf, sizeof(buf)) != 0) {
		snprintf(err, err_len, "no answer from the appliance at prefix '%s'", prefix);
		return NULL;
	}
	return hc_tel_parse(buf, cmd, err, err_len);
}

int hc_tel_u64(const json_t *obj, const char *key, uint64_t *out, char *err, size_t err_len)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(err, err_len, "\"%s\" is %s", key,
			 v == NULL ? "missing" : "not a non-negative integer");
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}
