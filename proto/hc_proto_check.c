/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_proto_check.c - validation of one headcount datagram payload.
 *
 * See hc_proto_check.h.  The checks run in a fixed order so that a payload
 * with several faults is always counted under the first one; tests rely on
 * that order.  Fields are read with memcpy: payloads are not aligned.
 */
#include "hc_proto_check.h"

#include <arpa/inet.h>
#include <string.h>

const char *const hc_proto_verdict_names[HC_PV_COUNT] = {
	[HC_PV_OK] = "ok",
#define HC_PV(NAME, name, why) [HC_PV_##NAME] = #name,
#include "hc_proto_verdicts.def"
};

size_t hc_proto_record_size(uint8_t type)
{
	switch (type) {
	case HC_MSG_EVENTS:    return sizeof(struct hc_event);
	case HC_MSG_PLACE:     return sizeof(struct hc_place);
	case HC_MSG_ASSIGN:    return sizeof(struct hc_assign);
	case HC_MSG_MOVE:      return sizeof(struct hc_move);
	case HC_MSG_HEARTBEAT: return sizeof(struct hc_heartbeat);
	case HC_MSG_SNAPSHOT:  return sizeof(struct hc_member);
	case HC_MSG_RESYNC:    return sizeof(struct hc_resync);
	default:               return 0;
	}
}

size_t hc_proto_prefix_size(uint8_t type)
{
	return type == HC_MSG_SNAPSHOT ? sizeof(struct hc_snapshot_prefix) : 0;
}

static int check_events(const uint8_t *rec, uint16_t count, uint32_t max_rooms)
{
	for (uint16_t i = 0; i < count; i++, rec += sizeof(struct hc_event)) {
		struct hc_event ev;
		memcpy(&ev, rec, sizeof(ev));
		if (hc_proto_event_bad(&ev, max_rooms))
			return -1;
	}
	return 0;
}

static int check_members(const uint8_t *rec, uint16_t count, uint32_t max_rooms)
{
	for (uint16_t i = 0; i < count; i++, rec += sizeof(struct hc_member)) {
		struct hc_member mb;
		memcpy(&mb, rec, sizeof(mb));
		uint32_t room = ntohl(mb.room_id);
		if (mb.flags != 0 || room == HC_ROOM_NONE || room >= max_rooms)
			return -1;
	}
	return 0;
}

static int check_places(const uint8_t *rec, uint16_t count)
{
	for (uint16_t i = 0; i < count; i++, rec += sizeof(struct hc_place)) {
		struct hc_place pl;
		memcpy(&pl, rec, sizeof(pl));
		if (pl.flags != 0)
			return -1;
	}
	return 0;
}

enum hc_proto_verdict hc_proto_check_full(const void *buf, size_t len, uint32_t max_rooms)
{
	struct hc_hdr h;

	if (len < sizeof(h))
		return HC_PV_TRUNCATED;
	memcpy(&h, buf, sizeof(h));
	if (ntohl(h.magic) != HC_PROTO_MAGIC)
		return HC_PV_BAD_MAGIC;
	if (h.version != HC_PROTO_VERSION)
		return HC_PV_BAD_VERSION;
	if (h.type == 0 || h.type >= HC_MSG_TYPE_MAX)
		return HC_PV_BAD_TYPE;
	if (h.type == HC_MSG_ASSIGN || h.type == HC_MSG_MOVE ||
	    h.type == HC_MSG_RESYNC)
		return HC_PV_WRONG_DIRECTION;
	if (ntohs(h.flags) & ~HC_HDR_F_KNOWN)
		return HC_PV_BAD_FLAGS;
	if (ntohs(h.flags) & HC_HDR_F_A2G)
		return HC_PV_WRONG_DIRECTION; /* the appliance's own, reflected */
	if (ntohs(h.gateway_id) == HC_GATEWAY_NONE)
		return HC_PV_BAD_GATEWAY;
	if (h.gateway_incarnation == 0)
		return HC_PV_BAD_INCARNATION;

	uint16_t count = ntohs(h.record_count);
	size_t body = len - sizeof(h);
	size_t prefix = hc_proto_prefix_size(h.type);
	size_t need = prefix + (size_t)count * hc_proto_record_size(h.type);
	if (body != need)
		return HC_PV_BAD_LENGTH;

	const uint8_t *rec = (const uint8_t *)buf + sizeof(h) + prefix;
	switch (h.type) {
	case HC_MSG_EVENTS:
		if (count == 0 || check_events(rec, count, max_rooms) != 0)
			return HC_PV_BAD_RECORD;
		if (h.sequence == 0)
			return HC_PV_BAD_SEQUENCE;
		return HC_PV_OK;
	case HC_MSG_HEARTBEAT:
		return count == 1 ? HC_PV_OK : HC_PV_BAD_RECORD;
	case HC_MSG_PLACE:
		if (count == 0 || check_places(rec, count) != 0)
			return HC_PV_BAD_RECORD;
		return HC_PV_OK;
	default: { /* SNAPSHOT */
		struct hc_snapshot_prefix pf;
		memcpy(&pf, (const uint8_t *)buf + sizeof(h), sizeof(pf));
		uint32_t chunks = ntohl(pf.chunk_count);
		if (chunks == 0 || ntohl(pf.chunk_index) >= chunks ||
		    check_members(rec, count, max_rooms) != 0)
			return HC_PV_BAD_RECORD;
		if (h.sequence == 0)
			return HC_PV_BAD_SEQUENCE;
		return HC_PV_OK;
	}
	}
}
