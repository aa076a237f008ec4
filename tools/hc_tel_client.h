/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_tel_client.h - the tools' client of a running appliance's telemetry
 * (DPDK telemetry socket v2, /var/run/dpdk/PREFIX/dpdk_telemetry.v2):
 * one command per connection, its JSON reply as text.
 *
 * Slow path only (a few queries per second at most); the socket is a
 * file, so a tool in another network namespace reaches it as well.  A
 * query gives up after 2 s without an answer.
 */
#ifndef HC_TEL_CLIENT_H
#define HC_TEL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* Send cmd to the appliance of file prefix `prefix`; the reply, NUL
 * terminated, in buf.  0, or -1 when it does not answer. */
int hc_tel_query(const char *prefix, const char *cmd, char *buf, size_t len);

/* The number after "key": in a reply.  0, or -1 when absent. */
int hc_tel_json_u64(const char *json, const char *key, uint64_t *out);

#endif /* HC_TEL_CLIENT_H */
