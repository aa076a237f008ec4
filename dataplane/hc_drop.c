/*
 * hc_drop.c - the names of the drop reasons (see hc_drop.h).
 */
#include "hc_drop.h"

const char *const hc_drop_names[HC_DROP_COUNT] = {
	[HC_DROP_RUNT] = "runt",
	[HC_DROP_NONLINEAR] = "nonlinear",
	[HC_DROP_NOT_IPV4] = "not_ipv4",
	[HC_DROP_ARP_IGNORED] = "arp_ignored",
	[HC_DROP_ARP_NO_TXQ] = "arp_no_txq",
	[HC_DROP_IP_TRUNCATED] = "ip_truncated",
	[HC_DROP_IP_BAD_VERSION] = "ip_bad_version",
	[HC_DROP_IP_BAD_IHL] = "ip_bad_ihl",
	[HC_DROP_IP_BAD_LENGTH] = "ip_bad_length",
	[HC_DROP_IP_BAD_CSUM] = "ip_bad_csum",
	[HC_DROP_IP_FRAGMENT] = "ip_fragment",
	[HC_DROP_IP_NOT_FOR_US] = "ip_not_for_us",
	[HC_DROP_NOT_UDP] = "not_udp",
	[HC_DROP_UDP_BAD_LENGTH] = "udp_bad_length",
	[HC_DROP_UDP_BAD_CSUM] = "udp_bad_csum",
	[HC_DROP_WRONG_PORT] = "wrong_port",
	[HC_DROP_TRUNCATED] = "truncated",
	[HC_DROP_BAD_MAGIC] = "bad_magic",
	[HC_DROP_BAD_VERSION] = "bad_version",
	[HC_DROP_BAD_TYPE] = "bad_type",
	[HC_DROP_WRONG_DIRECTION] = "wrong_direction",
	[HC_DROP_BAD_FLAGS] = "bad_flags",
	[HC_DROP_BAD_GATEWAY] = "bad_gateway",
	[HC_DROP_BAD_LENGTH] = "bad_length",
	[HC_DROP_BAD_RECORD] = "bad_record",
	[HC_DROP_BAD_SEQUENCE] = "bad_sequence",
	[HC_DROP_NOT_IMPLEMENTED] = "not_implemented",
	[HC_DROP_GATEWAY_RANGE] = "gateway_range",
	[HC_DROP_HANDOFF_FULL] = "handoff_full",
};
