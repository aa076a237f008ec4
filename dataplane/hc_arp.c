/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_arp.c - ARP requests for the appliance's address, answered in place.
 *
 * Nothing else on the segment answers for the DPDK port's address (the
 * kernel does not own it), so the worker that received the request turns
 * the same mbuf into the reply and sends it on its own TX queue of that
 * port.  The parser (hc_parse.h) has already checked that m is a complete
 * ARP request for our IPv4 address.
 */
#include <rte_arp.h>
#include <rte_ethdev.h>

#include "hc_arp.h"

void hc_arp_answer(struct hc_worker *w, uint16_t port, struct rte_mbuf *m)
{
	uint16_t txq = w->txq[port];
	if (txq == HC_NO_TXQ) {
		hc_worker_drop(w, m, HC_DROP_ARP_NO_TXQ);
		return;
	}
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	const struct rte_ether_addr *mac = &w->dp->port_mac[port];

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(mac, &eth->src_addr);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&arp->arp_data.arp_sha, &arp->arp_data.arp_tha);
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	rte_ether_addr_copy(mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = w->parse.ip;
	/* (the buffer's kind stays: a PMD's external buffer is released at
	 * the reply's free, not taken for the mbuf's own) */
	m->ol_flags &= RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
	if (rte_eth_tx_burst(port, txq, &m, 1) == 1) {
		HC_RELAXED_ADD(&w->st.arp_replies, 1);
	} else {
		HC_RELAXED_ADD(&w->st.tx_failed, 1);
		rte_pktmbuf_free(m);
	}
}
