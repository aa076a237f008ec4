/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_port.h - ethdev setup: every port DPDK found, its queues, and which
 * worker serves which (port, queue).
 *
 * Each port gets min(workers, what the driver allows) RX and TX queues.
 * The (port, RX queue) pairs are dealt to workers round-robin across all
 * ports, so two single-queue ports (two pcap files, say) feed two workers.
 * Worker i transmits on TX queue i of a port when the port has one.
 */
#ifndef HC_PORT_H
#define HC_PORT_H

#include "hc_dataplane.h"
#include "hc_dp_counters.h"

/* Create the mbuf pools, configure and start all ports, assign queues.
 * Returns 0 or -errno after logging what failed. */
int hc_ports_init(struct hc_dataplane *dp);
/* Stop and close the ports and free the pools: after hc_dataplane_free,
 * whose sequencers and rings hold mbufs of them. */
void hc_ports_close(struct hc_dataplane *dp);

/*
 * Whether a port on this bus may start with the lab's default --ip: only
 * a virtual device (bus "vdev": af_packet, pcap, ring) may; a physical
 * one (pci, auxiliary, vmbus ...) sits on a real network, where the lab's
 * address means nothing and answering ARP for it does harm, so --ip must
 * be given.  1: may start, 0: refuse.  hc_ports_init asks it per port.
 */
int hc_port_ip_ok(const char *bus, int ip_explicit);

void hc_ports_totals(const struct hc_dataplane *dp, struct hc_port_totals *t);

/* An af_packet port's interface: up and running (*up 1) or not (0), read
 * by netlink (the PMD says up from its start on, whatever the wire does).
 * 0, or -1: not an af_packet port, or not read.  (hc_links.c's, off the
 * lcores: the request can wait on the kernel's rtnl lock.) */
int hc_port_if_link(uint16_t port, int *up);

/*
 * At exit, once every worker has returned: each af_packet interface's
 * rx_packets read a last time (the totals after it use that read), then
 * the frames still waiting in those ports' RX queues read and freed,
 * counted (port_unread_at_exit).  So port_ring_drops counts only what
 * the kernel's rings dropped: a frame that came after the workers' last
 * poll is unread at exit, or, after the last read, in neither count.
 * Returns the frames read.
 */
uint64_t hc_ports_drain_at_exit(struct hc_dataplane *dp);

/*
 * The most packet mbufs the appliance itself may hold at once, beside
 * the ports' descriptors: `workers` sequencers' held datagrams
 * (HC_SEQ_MAX_HELD each) and what they hold in hand (HC_WORKER_HANDS
 * each), the hand-off rings between them, and `lcores`
 * caches of the pool (up to 1.5 times `cache` each).  It grows with the
 * workers, not their square (a worker's incoming rings hold at most
 * 8,192 datagrams, hc_handoff_dgram_ring_size): 8 workers and 9 lcores
 * with caches of 256 hold up to 129,152 mbufs.  (The
 * control core's frames come from a pool of their own: hc_port_ctl_mbufs.)
 */
uint64_t hc_port_mbufs_held(unsigned workers, unsigned lcores, unsigned cache);

/*
 * The control pool's size: the control core's frames queued for each
 * worker to send (HC_CTL_TX_RING_SIZE - 1 each), those sent but not yet
 * freed by the TX queues (`tx_descriptors`: every worker's queue on
 * every port, an estimate as for the packet pool), `lcores` caches (1.5
 * times `cache` each), the ASSIGN and MOVE batches being filled (one of
 * each a gateway at most, for ids 1 .. max_gateways - 1) and
 * HC_PORT_CTL_IN_MAKING frames between their allocation and their ring
 * (a HEARTBEAT, a RESYNC, a gratuitous ARP: one at a time), rounded up to
 * a multiple of 1024, less one (at most 2^24).  So it cannot run dry
 * while a worker's ring has room: a frame it cannot give is one the ring
 * would refuse anyway (ctl_tx_ring_full).  Apart from the packet pool,
 * RX holds cannot run it dry either.
 */
#define HC_PORT_CTL_BATCHES_PER_GATEWAY 2u /* an ASSIGN and a MOVE */
#define HC_PORT_CTL_IN_MAKING 16u
uint32_t hc_port_ctl_mbufs(unsigned workers, unsigned lcores, unsigned cache,
			   uint64_t tx_descriptors, uint32_t max_gateways);
/* The control pool's per-lcore cache and its mbufs' frame bytes (at
 * most a 1,500-byte MTU's datagram). */
#define HC_PORT_CTL_POOL_CACHE 32u
#define HC_PORT_CTL_FRAME_ROOM 1536u

/*
 * The packet pool's size when --mbufs is not given: `given` (the
 * option's default), or, when more, what hc_port_mbufs_held says plus
 * the ports' descriptors (`descriptors`, an estimate, and at least
 * HC_PORT_DESC_ALLOWANCE), rounded up to a multiple of 1024, less one,
 * and at most 2^24 (--mbufs's bound).  The pool then cannot run short by
 * what the appliance holds (hc_worker.c: an RX queue whose pool is short
 * is not read up to a point; hc_ports_init warns when a pool is
 * smaller).
 */
#define HC_PORT_DESC_ALLOWANCE 8192u
uint32_t hc_port_default_mbufs(unsigned workers, unsigned lcores, unsigned cache,
			       uint64_t descriptors, uint32_t given);

/*
 * A pool of n mbufs of room frame bytes with a per-lcore cache of cache,
 * its cost logged (count_option: the option that sets n, for the error).
 * Without hugepages and with own_heap (every port's driver only copies
 * frames into mbufs: af_packet, pcap, null, ring, tap; hc_ports_init
 * decides), in a DPDK heap of its own in transparent huge pages
 * (hc_bigmem_heap: packed as on hugepages, not an mbuf a 4 KiB page),
 * of hc_port_pool_heap_bytes; where that heap cannot be made or the pool
 * is not made in it, in EAL's memory, with a WARNING.  NULL on failure.
 * hc_port_pool_free frees the pool and gives its heap back.
 */
struct rte_mempool *hc_port_pool_create(const char *name, const char *what, uint32_t n,
					unsigned cache, uint32_t room, const char *count_option,
					int own_heap);
void hc_port_pool_free(struct rte_mempool *mp);
size_t hc_port_pool_heap_bytes(uint32_t n, unsigned cache, uint32_t room);

#endif /* HC_PORT_H */
