/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_icmp.c - ICMP echo requests to the appliance's address, answered in
 * place, for health checks (ping).
 *
 * The parser has already checked the frame's IPv4 header (version,
 * length, checksum, not a fragment, destination --ip) and found it is not
 * UDP.  Here: an ICMP echo request (type 8, code 0) of at least 8 bytes
 * whose ICMP checksum verifies, from a unicast source, is turned into the
 * echo reply in the same mbuf, its payload echoed whole (as long as the
 * request: whatever the port brought in), and sent on this worker's TX
 * queue of that port, like an ARP reply (hc_arp.c).  Anything else is a
 * counted drop.  A token bucket per worker, kept in TSC cycles (GCRA: the
 * time the next reply is due; no division per packet), bounds replies to
 * HC_ICMP_RATE a second with bursts of HC_ICMP_BURST, so a ping flood
 * cannot take a worker from the gateways.  Slow path (never a datagram),
 * but no syscall, lock or allocation.
 */
#include <netinet/in.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "hc_icmp.h"

/* per worker: when the next reply is due on the TSC clock (GCRA's
 * theoretical arrival time); written by that worker only */
static struct {
	uint64_t tat;
} __rte_cache_aligned bucket[HC_MAX_WORKERS];

int hc_icmp_bucket_take(unsigned id, uint64_t now)
{
	/* TSC cycles per reply, the same for every worker: whoever comes
	 * first stores it (relaxed: they all store the same value) */
	static uint64_t interval_tsc;
	uint64_t interval = __atomic_load_n(&interval_tsc, __ATOMIC_RELAXED);
	if (unlikely(interval == 0)) {
		interval = rte_get_tsc_hz() / HC_ICMP_RATE;
		__atomic_store_n(&interval_tsc, interval, __ATOMIC_RELAXED);
	}
	uint64_t tat = bucket[id].tat;
	uint64_t slack = interval * HC_ICMP_BURST;
	if (tat > now && tat - now > slack - interval)
		return 0;
	bucket[id].tat = (tat > now ? tat : now) + interval;
	return 1;
}

/* 1 if an IPv4 source (network order) may be answered: not 0.0.0.0, not
 * multicast or broadcast (a reply would go to many, or nowhere). */
static int unicast_source(rte_be32_t src)
{
	uint32_t a = rte_be_to_cpu_32(src);
	return a != 0 && (a >> 28) != 0xe && a != 0xffffffffu && (a >> 24) != 0x7f;
}

int hc_icmp_input(struct hc_worker *w, uint16_t port, struct rte_mbuf *m, uint64_t now)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	if (ip->next_proto_id != IPPROTO_ICMP)
		return 0;
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	uint32_t total = rte_be_to_cpu_16(ip->total_length); /* within the frame */
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl);
	uint32_t len = total - ihl;

	if (len < sizeof(*icmp) || icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST ||
	    icmp->icmp_code != 0 || !unicast_source(ip->src_addr) ||
	    rte_is_multicast_ether_addr(&eth->src_addr)) {
		hc_worker_drop(w, m, HC_DROP_ICMP_IGNORED);
		return 1;
	}
	if (unlikely(hc_dp_gathered(w->dp, m))) {
		/* larger than a packet mbuf: not answered (hc_dp_gathered) */
		hc_worker_drop(w, m, HC_DROP_ICMP_IGNORED);
		return 1;
	}
	if (rte_raw_cksum(icmp, len) != 0xffff) {
		hc_worker_drop(w, m, HC_DROP_ICMP_BAD_CSUM);
		return 1;
	}
	uint16_t txq = w->txq[port];
	if (txq == HC_NO_TXQ) {
		hc_worker_drop(w, m, HC_DROP_ICMP_NO_TXQ);
		return 1;
	}
	if (!hc_icmp_bucket_take(w->id, now)) {
		hc_worker_drop(w, m, HC_DROP_ICMP_RATE_LIMITED);
		return 1;
	}
	/* the reply: same identifier, sequence and data */
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, len);
	ip->dst_addr = ip->src_addr;
	ip->src_addr = w->parse.ip;
	ip->time_to_live = 64;
	ip->fragment_offset = 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, ihl);
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&w->dp->port_mac[port], &eth->src_addr);
	/* no Ethernet padding of the request carried over */
	uint32_t frame = (uint32_t)sizeof(*eth) + total;
	if (rte_pktmbuf_pkt_len(m) > frame)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - frame));
	/* (the buffer's kind stays: a PMD's external buffer is released at
	 * the reply's free, not taken for the mbuf's own) */
	m->ol_flags &= RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
	if (rte_eth_tx_burst(port, txq, &m, 1) == 1) {
		HC_RELAXED_ADD(&w->st.icmp_echo_replies, 1);
	} else {
		HC_RELAXED_ADD(&w->st.tx_failed, 1);
		rte_pktmbuf_free(m);
	}
	return 1;
}
