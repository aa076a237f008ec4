/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_parse.h - L2-L4 classification of one received frame.
 *
 * Owns the decision "is this frame an ARP request for us, a UDP datagram to
 * our port, or something to drop (and why)".  Runs on every worker lcore for
 * every frame, so it is inline, branch-light and reads only the first
 * segment (hc_rx.c gathers a multi-segment frame into one mbuf first).  It
 * does not look inside the UDP payload: that is proto/hc_proto_check.h's
 * job, but it refuses a payload longer than the protocol allows
 * (HC_MAX_PAYLOAD).  Checksums are trusted from the NIC's offload flags
 * when it sets them, computed otherwise; a UDP checksum the sender left to
 * offload (see HC_FRAME_CSUM_PARTIAL) is told apart from a wrong one, and
 * the caller decides.
 */
#ifndef HC_PARSE_H
#define HC_PARSE_H

#include <stdint.h>

#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "hc_csum.h"
#include "hc_drop.h"
#include "hc_proto.h"

/* The longest frame that can carry an allowed datagram: Ethernet, IPv4
 * with 40 bytes of options, UDP, HC_MAX_PAYLOAD (9054 bytes).  Nothing
 * longer is ever accepted; the gather pool's mbufs hold this much. */
#define HC_MAX_FRAME (RTE_ETHER_HDR_LEN + 60 + sizeof(struct rte_udp_hdr) + HC_MAX_PAYLOAD)

/* What the parser needs to know about us. */
struct hc_parse_cfg {
	rte_be32_t ip;       /* our IPv4 address, network order */
	rte_be16_t udp_port; /* our UDP port, network order     */
};

enum hc_frame_kind {
	HC_FRAME_DROP = 0,    /* see reason                         */
	HC_FRAME_ARP_REQUEST, /* ARP request for cfg->ip            */
	HC_FRAME_DATAGRAM,    /* UDP to cfg->ip:cfg->udp_port       */
	HC_FRAME_CSUM_PARTIAL, /* the same, but its UDP checksum was
	                          never finished (below); payload set */
};

struct hc_parsed {
	uint8_t kind;         /* enum hc_frame_kind                 */
	uint8_t reason;       /* enum hc_drop_reason when DROP      */
	uint16_t payload_off; /* DATAGRAM, CSUM_PARTIAL: UDP payload offset */
	uint16_t payload_len; /* DATAGRAM, CSUM_PARTIAL: its length         */
};

static inline void hc_parse_drop(struct hc_parsed *p, enum hc_drop_reason r)
{
	p->kind = HC_FRAME_DROP;
	p->reason = (uint8_t)r;
}

static inline void hc_parse_arp(const struct rte_ether_hdr *eth, uint32_t len,
				const struct hc_parse_cfg *cfg,
				struct hc_parsed *p)
{
	const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eth + 1);

	if (len < sizeof(*eth) + sizeof(*arp) ||
	    arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4 ||
	    arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    arp->arp_data.arp_tip != cfg->ip) {
		hc_parse_drop(p, HC_DROP_ARP_IGNORED);
		return;
	}
	p->kind = HC_FRAME_ARP_REQUEST;
}

/*
 * A UDP checksum that does not verify, but equals the folded pseudo-header
 * sum of the datagram (not complemented), is one the sender left to
 * checksum offload and nothing ever finished: a kernel sending with UDP
 * TX checksum offload fills in only that sum (CHECKSUM_PARTIAL), and over
 * a same-host veth the frame reaches AF_PACKET as it is (the kernel flags
 * it TP_STATUS_CSUMNOTREADY, which DPDK 22.11's af_packet PMD does not
 * pass on).  Such a checksum vouches for nothing.  A checksum that is
 * merely wrong matches this by chance once in 65,535.
 */
static inline int hc_parse_csum_partial(const struct rte_ipv4_hdr *ip,
					const struct rte_udp_hdr *udp)
{
	return udp->dgram_cksum == rte_ipv4_phdr_cksum(ip, 0);
}

/*
 * Classify m.  Never reads beyond the first segment's data; never writes.
 * A multi-segment m is judged by its first segment alone (its IPv4 length
 * then goes beyond it: ip_bad_length).
 */
static inline void hc_parse_frame(const struct rte_mbuf *m,
				  const struct hc_parse_cfg *cfg,
				  struct hc_parsed *p)
{
	uint32_t len = rte_pktmbuf_data_len(m);
	const struct rte_ether_hdr *eth =
		rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	if (unlikely(len < sizeof(*eth))) {
		hc_parse_drop(p, HC_DROP_RUNT);
		return;
	}
	if (unlikely(eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))) {
		if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
			hc_parse_arp(eth, len, cfg, p);
		else
			hc_parse_drop(p, HC_DROP_NOT_IPV4);
		return;
	}

	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	uint32_t l3_room = len - sizeof(*eth);
	if (unlikely(l3_room < sizeof(*ip))) {
		hc_parse_drop(p, HC_DROP_IP_TRUNCATED);
		return;
	}
	if (unlikely((ip->version_ihl >> 4) != 4)) {
		hc_parse_drop(p, HC_DROP_IP_BAD_VERSION);
		return;
	}
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	if (unlikely(ihl < sizeof(*ip) || ihl > l3_room)) {
		hc_parse_drop(p, HC_DROP_IP_BAD_IHL);
		return;
	}
	uint32_t total = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(total < ihl || total > l3_room)) {
		hc_parse_drop(p, HC_DROP_IP_BAD_LENGTH);
		return;
	}
	/* the port's verdict: BAD is believed; GOOD, and NONE (both bits:
	 * "not correct in the packet data, but the integrity is verified",
	 * as virtio and vhost say of a UDP checksum their peer left to
	 * offload) are verified; UNKNOWN is summed here */
	uint64_t ipck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (unlikely(ipck == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
		     (!(ipck & RTE_MBUF_F_RX_IP_CKSUM_GOOD) &&
		      hc_csum_ipv4_hdr(ip, ihl) != 0xffff))) {
		hc_parse_drop(p, HC_DROP_IP_BAD_CSUM);
		return;
	}
	if (unlikely(ip->fragment_offset &
		     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
		hc_parse_drop(p, HC_DROP_IP_FRAGMENT);
		return;
	}
	if (unlikely(ip->dst_addr != cfg->ip)) {
		hc_parse_drop(p, HC_DROP_IP_NOT_FOR_US);
		return;
	}
	if (unlikely(ip->next_proto_id != IPPROTO_UDP)) {
		hc_parse_drop(p, HC_DROP_NOT_UDP);
		return;
	}

	const struct rte_udp_hdr *udp =
		(const struct rte_udp_hdr *)((const uint8_t *)ip + ihl);
	uint32_t l4_len = total - ihl;
	/* one test for both (l4_len < 8 wraps around): a length that is
	 * wrong, or a payload longer than the protocol allows */
	if (unlikely(l4_len - sizeof(*udp) > HC_MAX_PAYLOAD ||
		     rte_be_to_cpu_16(udp->dgram_len) != l4_len)) {
		hc_parse_drop(p, l4_len >= sizeof(*udp) &&
			      rte_be_to_cpu_16(udp->dgram_len) == l4_len ?
			      HC_DROP_UDP_TOO_BIG : HC_DROP_UDP_BAD_LENGTH);
		return;
	}
	if (unlikely(udp->dst_port != cfg->udp_port)) {
		hc_parse_drop(p, HC_DROP_WRONG_PORT);
		return;
	}
	uint64_t l4ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK; /* (as ipck) */
	if (unlikely(l4ck == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
		     (!(l4ck & RTE_MBUF_F_RX_L4_CKSUM_GOOD) && udp->dgram_cksum != 0 &&
		      hc_csum_udp4(&ip->src_addr, udp, l4_len) != 0xffff))) {
		if (l4ck == RTE_MBUF_F_RX_L4_CKSUM_BAD || !hc_parse_csum_partial(ip, udp)) {
			hc_parse_drop(p, HC_DROP_UDP_BAD_CSUM);
			return;
		}
		p->kind = HC_FRAME_CSUM_PARTIAL;
	} else {
		p->kind = HC_FRAME_DATAGRAM;
	}
	p->payload_off = (uint16_t)(sizeof(*eth) + ihl + sizeof(*udp));
	p->payload_len = (uint16_t)(l4_len - sizeof(*udp));
}

#endif /* HC_PARSE_H */
