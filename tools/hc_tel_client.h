/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_tel_client.h - the tools' client of a running appliance's telemetry
 * (DPDK telemetry socket v2, /var/run/dpdk/PREFIX/dpdk_telemetry.v2 as
 * root, else $XDG_RUNTIME_DIR/dpdk/PREFIX/..., as DPDK puts it):
 * one command per connection, its JSON reply parsed with jansson.
 *
 * Slow path only (a few queries per second at most); the socket is a
 * file, so a tool in another network namespace reaches it as well.  A
 * query's greeting and reply each give up after 2 s, and the whole
 * query, with its retries of a busy socket, after 6 s.  A reply that is not JSON,
 * or not the shape asked for, is an error with its line and column.
 */
#ifndef HC_TEL_CLIENT_H
#define HC_TEL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Send cmd to the appliance of file prefix `prefix`; the reply, NUL
 * terminated, in buf.  0, or -1 when it does not answer within 6 s (a
 * busy socket, its backlog full: tried again 20 ms apart till then). */
int hc_tel_query(const char *prefix, const char *cmd, char *buf, size_t len);

/* Parse a reply to cmd ("/headcount/rooms,1": DPDK answers
 * {"/headcount/rooms": VALUE}) and return VALUE (a new reference: the
 * caller json_decref()s it), or NULL with the reason in err: "line L
 * column C: ..." for text that is not JSON, else what is missing. */
json_t *hc_tel_parse(const char *text, const char *cmd, char *err, size_t err_len);

/* hc_tel_query then hc_tel_parse; NULL with the reason in err. */
json_t *hc_tel_query_json(const char *prefix, const char *cmd, char *err, size_t err_len);

/* The unsigned integer under key in object obj: 0, or -1 (err says why)
 * when absent or not a non-negative integer. */
int hc_tel_u64(const json_t *obj, const char *key, uint64_t *out, char *err, size_t err_len);

#endif /* HC_TEL_CLIENT_H */
