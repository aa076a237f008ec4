/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_tel_client.c - see hc_tel_client.h.
 */
#include "hc_tel_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

int hc_tel_query(const char *prefix, const char *cmd, char *buf, size_t len)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (len < 2 || snprintf(a.sun_path, sizeof(a.sun_path),
				"/var/run/dpdk/%s/dpdk_telemetry.v2", prefix) >= (int)sizeof(a.sun_path))
		return -1;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0)
		return -1;
	/* a stalled appliance must not hang the tool past its own --timeout */
	struct timeval tv = {.tv_sec = 2};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	ssize_t n = read(fd, buf, len - 1); /* the greeting */
	if (n <= 0 || write(fd, cmd, strlen(cmd)) < 0) {
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

int hc_tel_json_u64(const char *json, const char *key, uint64_t *out)
{
	char quoted[128];
	if (snprintf(quoted, sizeof(quoted), "\"%s\"", key) >= (int)sizeof(quoted))
		return -1;
	const char *p = strstr(json, quoted);
	if (p == NULL)
		return -1;
	p += strlen(quoted);
	while (*p == ' ')
		p++;
	if (*p++ != ':')
		return -1;
	*out = strtoull(p, NULL, 10);
	return 0;
}
