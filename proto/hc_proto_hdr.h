/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_proto_hdr.h - writing the 40-byte datagram header.
 *
 * Owns the one way a sender fills struct hc_hdr (hc_proto.h): the
 * appliance's answers, libheadcount, the generators, the benchmark and the
 * tests all call it, so every header on the wire is built alike.  Plain C,
 * no DPDK: libheadcount compiles it in.
 */
#ifndef HC_PROTO_HDR_H
#define HC_PROTO_HDR_H

#include <stdint.h>

#include "hc_proto.h"

/*
 * Write a header in network order to buf (sizeof(struct hc_hdr) bytes, any
 * alignment): magic, version, type, no flags, auth tag zero.
 */
void hc_proto_fill_hdr(void *buf, uint8_t type, uint16_t gateway_id, uint16_t record_count,
		       uint32_t gw_incarnation, uint32_t appl_incarnation, uint32_t sequence);

/* Set flag bits (HC_HDR_F_*) in a header written by hc_proto_fill_hdr. */
void hc_proto_hdr_add_flags(void *buf, uint16_t flags);

#endif /* HC_PROTO_HDR_H */
