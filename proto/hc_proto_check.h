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

#include <stddef.h>
#include <stdint.h>

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
 * Check a payload received by the appliance.  max_rooms bounds room ids
 * (valid: 1 .. max_rooms-1).  Never reads outside buf[0..len).  Cannot
 * fail in any other way.
 */
enum hc_proto_verdict hc_proto_check_inbound(const void *buf, size_t len,
					     uint32_t max_rooms);

#endif /* HC_PROTO_CHECK_H */
