/*
 * hc_drop.h - why a frame was dropped: one enum, one name table.
 *
 * Every frame the dataplane does not apply is counted under exactly one
 * reason here.  The first block is decided by the L2-L4 parser
 * (hc_parse.h), the second mirrors the protocol verdicts of
 * proto/hc_proto_check.h in the same order, the third is decided by the
 * gateway table and the hand-off.  (Duplicates and stale incarnations
 * are not frame drops: the sequencer counts them.)  Names are used verbatim in the
 * stats line, telemetry and --dump-stats ("drop_<name>").
 */
#ifndef HC_DROP_H
#define HC_DROP_H

#include "hc_proto_check.h"

enum hc_drop_reason {
	/* L2-L4 (hc_parse.h) */
	HC_DROP_RUNT = 0,        /* shorter than an Ethernet header          */
	HC_DROP_NONLINEAR,       /* multi-segment mbuf                       */
	HC_DROP_NOT_IPV4,        /* another ethertype (IPv6, VLAN, LLDP ...) */
	HC_DROP_ARP_IGNORED,     /* ARP that is not a request for our IP     */
	HC_DROP_ARP_NO_TXQ,      /* ARP request on a worker without TX queue */
	HC_DROP_IP_TRUNCATED,    /* shorter than an IPv4 header              */
	HC_DROP_IP_BAD_VERSION,  /* version field != 4                       */
	HC_DROP_IP_BAD_IHL,      /* header length < 20 or beyond the frame   */
	HC_DROP_IP_BAD_LENGTH,   /* total length < header or beyond frame    */
	HC_DROP_IP_BAD_CSUM,
	HC_DROP_IP_FRAGMENT,     /* MF set or offset != 0                    */
	HC_DROP_IP_NOT_FOR_US,   /* destination is not --ip                  */
	HC_DROP_NOT_UDP,
	HC_DROP_UDP_BAD_LENGTH,  /* UDP length < 8 or != IPv4 payload        */
	HC_DROP_UDP_BAD_CSUM,
	HC_DROP_WRONG_PORT,      /* UDP destination port is not --udp-port   */
	/* protocol (hc_proto_check.h), same order as enum hc_proto_verdict */
	HC_DROP_PROTO_FIRST,
	HC_DROP_TRUNCATED = HC_DROP_PROTO_FIRST,
	HC_DROP_BAD_MAGIC,
	HC_DROP_BAD_VERSION,
	HC_DROP_BAD_TYPE,
	HC_DROP_WRONG_DIRECTION,
	HC_DROP_BAD_FLAGS,
	HC_DROP_BAD_GATEWAY,
	HC_DROP_BAD_LENGTH,
	HC_DROP_BAD_RECORD,
	HC_DROP_BAD_SEQUENCE,
	HC_DROP_NOT_IMPLEMENTED,
	/* sequencing and resources */
	HC_DROP_GATEWAY_RANGE,   /* gateway id >= --max-gateways             */
	HC_DROP_HANDOFF_FULL,    /* hand-off impossible: stopping           */
	HC_DROP_COUNT
};

_Static_assert(HC_DROP_NOT_IMPLEMENTED - HC_DROP_PROTO_FIRST ==
	       HC_PV_NOT_IMPLEMENTED - 1, "drop reasons mirror verdicts");

extern const char *const hc_drop_names[HC_DROP_COUNT];

static inline enum hc_drop_reason hc_drop_from_verdict(enum hc_proto_verdict v)
{
	return (enum hc_drop_reason)(HC_DROP_PROTO_FIRST + (int)v - 1);
}

#endif /* HC_DROP_H */
