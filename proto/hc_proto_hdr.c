/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_proto_hdr.c - writing the datagram header (see hc_proto_hdr.h).
 * Built on the stack and copied out: buffers are not aligned.
 */
#include "hc_proto_hdr.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

void hc_proto_fill_hdr(void *buf, uint8_t type, uint16_t gateway_id, uint16_t record_count,
		       uint32_t gw_incarnation, uint32_t appl_incarnation, uint32_t sequence)
{
	struct hc_hdr h;
	memset(&h, 0, sizeof(h));
	h.magic = htonl(HC_PROTO_MAGIC);
	h.version = HC_PROTO_VERSION;
	h.type = type;
	h.gateway_id = htons(gateway_id);
	h.record_count = htons(record_count);
	h.gateway_incarnation = htonl(gw_incarnation);
	h.appliance_incarnation = htonl(appl_incarnation);
	h.sequence = htonl(sequence);
	memcpy(buf, &h, sizeof(h));
}

void hc_proto_hdr_add_flags(void *buf, uint16_t flags)
{
	uint8_t *p = buf;
	uint16_t f;
	memcpy(&f, p + offsetof(struct hc_hdr, flags), sizeof(f));
	f = htons((uint16_t)(ntohs(f) | flags));
	memcpy(p + offsetof(struct hc_hdr, flags), &f, sizeof(f));
}
