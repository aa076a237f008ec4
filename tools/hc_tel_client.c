/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_tel_client.c - see hc_tel_client.h.
 */
#include "hc_tel_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* One connection: 0 and the reply in buf, 1 if the socket was busy (a
 * connect refused for now, or closed before its greeting), -1 else. */
static int query_once(const struct sockaddr_un *a, const char *cmd, char *buf, size_t len)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0)
		return -1;
	/* a stalled appliance must not hang the tool past its own --timeout */
	struct timeval tv = {.tv_sec = 2};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) != 0) {
		int busy = errno == EAGAIN;
		close(fd);
		return busy ? 1 : -1;
	}
	ssize_t n = read(fd, buf, len - 1); /* the greeting */
	if (n <= 0) {
		close(fd);
		return n == 0 ? 1 : -1;
	}
	if (write(fd, cmd, strlen(cmd)) < 0) {
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
	if (len < 2 || snprintf(a.sun_path, sizeof(a.sun_path),
				"/var/run/dpdk/%s/dpdk_telemetry.v2", prefix) >= (int)sizeof(a.sun_path))
		return -1;
	/* DPDK's socket listens with a backlog of 1 and serves at most 10
	 * clients: busy is another client's moment, tried again (100 times,
	 * 20 ms apart) */
	for (int attempt = 0; attempt < 100; attempt++) {
		int rc = query_once(&a, cmd, buf, len);
		if (rc <= 0)
			return rc;
		usleep(20000);
	}
	return -1;
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
