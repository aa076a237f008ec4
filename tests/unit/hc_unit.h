/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_unit.h - shared by the CUnit suites: suite registration and the test
 * environment (an EAL with --no-huge, two mbuf pools).
 */
#ifndef HC_UNIT_H
#define HC_UNIT_H

#include <CUnit/CUnit.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "hc_frame.h"

extern struct rte_mempool *hc_test_pool;     /* 8191 mbufs, 2 KiB data room */
extern struct rte_mempool *hc_test_big_pool; /* 255 mbufs, 9 KiB data room  */

/* One suite per file, each a table of its tests (CU_TestInfo). */
extern const CU_SuiteInfo hc_suite_proto;
extern const CU_SuiteInfo hc_suite_parse;
extern const CU_SuiteInfo hc_suite_members;
extern const CU_SuiteInfo hc_suite_usertab;
extern const CU_SuiteInfo hc_suite_sequencer;
extern const CU_SuiteInfo hc_suite_view;
extern const CU_SuiteInfo hc_suite_worker;
extern const CU_SuiteInfo hc_suite_worker_loop;
extern const CU_SuiteInfo hc_suite_balance;
extern const CU_SuiteInfo hc_suite_rooms;
extern const CU_SuiteInfo hc_suite_control;
extern const CU_SuiteInfo hc_suite_gateway;
extern const CU_SuiteInfo hc_suite_gateway_embed;
extern const CU_SuiteInfo hc_suite_gateway_shard;
extern const CU_SuiteInfo hc_suite_snapshot;
extern const CU_SuiteInfo hc_suite_config;
extern const CU_SuiteInfo hc_suite_deploy;
extern const CU_SuiteInfo hc_suite_deploy_ctl_pool;
extern const CU_SuiteInfo hc_suite_deploy_icmp;
extern const CU_SuiteInfo hc_suite_stress;


/* What rte_log writes from hc_test_log_begin() on, returned by
 * hc_test_log_end() (NUL-terminated, malloc'd: the caller frees it). */
void hc_test_log_begin(void);
char *hc_test_log_end(void);

/* Copy len bytes into a fresh single-segment mbuf from hc_test_pool. */
struct rte_mbuf *hc_test_mbuf(const void *data, size_t len);
/* The same from hc_test_big_pool (up to 9216 bytes). */
struct rte_mbuf *hc_test_big_mbuf(const void *data, size_t len);
/* len bytes in a chain of mbufs of hc_test_pool, seg bytes each (the last
 * one the rest), as net_pcap chains a frame longer than one mbuf. */
struct rte_mbuf *hc_test_mbuf_chain(const void *data, size_t len, size_t seg);

/* A started net_ring port named name: one RX queue reading *rxr (rx_slots
 * slots, frames from hc_test_pool), one TX queue writing *txr (512);
 * both rings made here.  The port id, or -1. */
int hc_test_ring_port(const char *name, unsigned rx_slots, struct rte_ring **rxr,
		      struct rte_ring **txr);
/* Stop and close it, and free its rings. */
void hc_test_ring_port_free(uint16_t port, struct rte_ring *rxr, struct rte_ring *txr);

/* Make an Ethernet/IPv4/UDP frame's UDP checksum what a kernel leaves
 * for offload (CHECKSUM_PARTIAL): the folded pseudo-header sum of source,
 * destination, protocol and UDP length, not complemented (computed with
 * the proto toolkit, not DPDK's helper). */
static inline void hc_test_leave_csum_to_offload(uint8_t *frame)
{
	uint8_t *ip = frame + 14, *udp = ip + 20;
	uint32_t pseudo = 17u + (uint32_t)(udp[4] << 8 | udp[5]);
	for (int i = 12; i < 20; i += 2)
		pseudo += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	uint16_t c = hc_frame_csum(NULL, 0, pseudo);
	udp[6] = (uint8_t)(c >> 8);
	udp[7] = (uint8_t)c;
}

#endif
