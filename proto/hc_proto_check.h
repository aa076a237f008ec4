/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_proto_check.h - validation of one headcount datagram payload.
 *
 * Owns the rules that decide whether a UDP payload is a well-formed
 * headcount message.  Pure byte-level code, no DPDK, so the appliance,
 * the generator, the sender and the tests share exactly one judgement.
 * A payload that passes may be applied whole; one that fails is dropped
 * whole, counted under the verdict returned.
 */
#ifndef HC_PROTO_CHECK_H
#define HC_PROTO_CHECK_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hc_proto.h"

/* Verdicts, in the order checks are made (hc_proto_verdicts.def, the one
 * list). HC_PV_OK is 0. */
enum hc_proto_verdict {
	HC_PV_OK = 0,
#define HC_PV(NAME, name, why) HC_PV_##NAME,
#include "hc_proto_verdicts.def"
	HC_PV_COUNT
};

/* Names for logs, stats and CSV: "truncated", "bad_magic", ... */
extern const char *const hc_proto_verdict_names[HC_PV_COUNT];

/* Record size of each message type, 0 for an invalid type. */
size_t hc_proto_record_size(uint8_t type);
/* Prefix size (SNAPSHOT: 16) of each message type. */
size_t hc_proto_prefix_size(uint8_t type);

/*
 * Check a payload received by the appliance: every check, in order.
 * max_rooms bounds room ids (valid: 1 .. max_rooms-1).  Never reads
 * outside buf[0..len).  Cannot fail in any other way.  Callers use
 * hc_proto_check_inbound (below: the same verdicts, the common case
 * inline).
 */
enum hc_proto_verdict hc_proto_check_full(const void *buf, size_t len, uint32_t max_rooms);

/* An EVENTS record that is not a JOIN or LEAVE of a room in 1 ..
 * max_rooms-1 with flags 0 (both checks test records with it). */
static inline int hc_proto_event_bad(const struct hc_event *ev, uint32_t max_rooms)
{
	uint32_t room = ntohl(ev->room_id);
	int bad = (int)(ev->op != HC_OP_JOIN) & (int)(ev->op != HC_OP_LEAVE);
	bad |= (int)(ev->flags != 0);
	bad |= (int)(room == HC_ROOM_NONE);
	bad |= (int)(room >= max_rooms);
	return bad;
}

/*
 * The common case, inline: is buf an EVENTS payload that passes every
 * check (hc_proto_check_full would say HC_PV_OK)?  0 says nothing more:
 * hc_proto_check_inbound then asks hc_proto_check_full for the verdict,
 * so every fault keeps its one reason.  The header's tests are folded
 * into one branch (a single-event datagram paid a call and a branch a
 * field).
 */
static inline int hc_proto_events_ok(const void *buf, size_t len, uint32_t max_rooms)
{
	struct hc_hdr h;
	if (len < sizeof(h))
		return 0;
	memcpy(&h, buf, sizeof(h));
	uint16_t count = ntohs(h.record_count);
	int bad = (int)(h.magic != htonl(HC_PROTO_MAGIC));
	bad |= (int)(h.version != HC_PROTO_VERSION);
	bad |= (int)(h.type != HC_MSG_EVENTS);
	bad |= (int)((ntohs(h.flags) & (uint16_t)(~HC_HDR_F_KNOWN | HC_HDR_F_A2G)) != 0);
	bad |= (int)(h.gateway_id == htons(HC_GATEWAY_NONE));
	bad |= (int)(h.gateway_incarnation == 0);
	bad |= (int)(h.sequence == 0);
	bad |= (int)(count == 0);
	bad |= (int)(len - sizeof(h) != (size_t)count * sizeof(struct hc_event));
	if (bad)
		return 0;
	const uint8_t *rec = (const uint8_t *)buf + sizeof(h);
	for (uint16_t i = 0; i < count; i++, rec += sizeof(struct hc_event)) {
		struct hc_event ev;
		memcpy(&ev, rec, sizeof(ev));
		if (hc_proto_event_bad(&ev, max_rooms))
			return 0;
	}
	return 1;
}

/* Judge one inbound datagram payload (see above): an EVENTS payload that
 * passes is judged inline, anything else by hc_proto_check_full. */
static inline enum hc_proto_verdict hc_proto_check_inbound(const void *buf, size_t len,
							   uint32_t max_rooms)
{
	if (hc_proto_events_ok(buf, len, max_rooms))
		return HC_PV_OK;
	return hc_proto_check_full(buf, len, max_rooms);
}

#endif /* HC_PROTO_CHECK_H */
