/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_port.c - ethdev and mempool setup (slow path, main lcore).
 *
 * Works on any ethdev: af_packet on a veth, net_pcap replay, net_ring, real
 * NICs.  Offloads are not required; the parser uses checksum flags only
 * when a driver sets them.
 *
 * Every port must take the largest datagram the protocol allows (an
 * 8,972-byte payload, HC_MAX_FRAME with IPv4 options) without making every
 * small one pay for it.  The packet pool's mbufs hold 2 KiB of frame, as
 * DPDK's default, unless a port copies each frame whole into one mbuf and
 * is set up for larger frames: net_af_packet refuses a pool whose mbufs
 * are shorter than its framesz - 32, so the pool's mbufs grow to that
 * (framesz=9216: 9,184 bytes of frame per mbuf, 4x the memory).  Ports
 * that chain a frame over several mbufs instead (net_pcap, NICs with
 * scatter, memif) keep 2 KiB mbufs, and the workers gather a chain into
 * one mbuf of a small pool of HC_MAX_FRAME-byte mbufs (--gather-mbufs;
 * the packet pool itself when its mbufs are that large).  NICs that can
 * scatter get scatter and an MTU that carries HC_MAX_FRAME.  The cost of
 * each pool is logged at start.  Without hugepages each pool lives in a
 * DPDK heap of its own in transparent huge pages (hc_port_pool_create,
 * hc_bigmem_heap), packed as on hugepages: in EAL's 4 KiB pages every
 * mbuf would take a page of its own (docs/architecture.md, "Where the big
 * tables live").
 */
#include "hc_port.h"

#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_kvargs.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "hc_bigmem.h"
#include "hc_frame.h"
#include "hc_log.h"
#include "hc_parse.h"
#include "hc_worker_state.h"

#define TX_DESC 512

/* The packet pool's per-lcore cache (rte_pktmbuf_pool_create's). */
#define PACKET_POOL_CACHE 256
/* The control pool's (HC_PORT_CTL_POOL_CACHE) is small, since the
 * workers free its mbufs (after sending them) and the control lcore takes
 * them, one by one */
_Static_assert(HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD_MTU1500 <= HC_PORT_CTL_FRAME_ROOM,
	       "a control frame fits a control mbuf");
#define GATHER_MTU (HC_MAX_FRAME - RTE_ETHER_HDR_LEN) /* 9040: IPv4 with options */

/*
 * net_af_packet (DPDK 22.11) copies each frame from the kernel's ring into
 * one mbuf, and its RX queue setup refuses a pool whose mbufs hold less
 * than framesz - (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll)) bytes.  The
 * kernel (tpacket_rcv, TPACKET_V2, no reserve) puts an untagged Ethernet
 * frame at macoff = TPACKET_ALIGN(TPACKET2_HDRLEN + 16) - 14 in its ring
 * slot and cuts whatever does not fit the slot: a port carries frames of
 * up to framesz - macoff bytes whole (2048: 1,982; 9216: 9,150).
 */
#define AFP_DEFAULT_FRAMESZ 2048u /* the PMD's default framesz */
#define AFP_DEFAULT_FRAMECNT 512u /* and framecnt */
#define AFP_MBUF_OVERHEAD (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
#define AFP_MACOFF (TPACKET_ALIGN(TPACKET2_HDRLEN + 16) - RTE_ETHER_HDR_LEN)

/* What one port needs of the packet pool, and carries. */
struct port_frames {
	uint32_t room;      /* frame bytes each mbuf must hold (0: any)      */
	uint32_t frame_max; /* longest frame handed over whole (0: no limit
	                       known); longer ones arrive cut short          */
};

/* An af_packet port's devarg key (framesz, framecnt) as a positive
 * number, or the PMD's default dflt. */
static uint32_t afp_devarg(const struct rte_eth_dev_info *info, const char *key, uint32_t dflt)
{
	const struct rte_devargs *da = rte_dev_devargs(info->device);
	uint32_t value = dflt;
	if (da == NULL || da->args == NULL)
		return value;
	struct rte_kvargs *kv = rte_kvargs_parse(da->args, NULL);
	if (kv == NULL)
		return value;
	const char *v = rte_kvargs_get(kv, key);
	if (v != NULL && atoi(v) > 0) /* the PMD reads them with atoi too */
		value = (uint32_t)atoi(v);
	rte_kvargs_free(kv);
	return value;
}

/* Frames a NIC may hold for a queue beside its descriptors: in its own
 * packet buffer once they run out (hundreds of KiB, unless it is set to
 * drop then: 1 MiB is 16,384 frames of 64 bytes), and a burst some PMDs
 * stage in software (ixgbe, i40e). */
#define NIC_HELD_FRAMES (16384u + 64u)

/* The most frames an RX queue holds (the read mark's bound,
 * hc_readmark.h: taking that many since a mark proves everything queued
 * then read, so it must not be too small): where the PMD tells its
 * descriptors (qi: what it tells of the queue, NULL for nothing), those
 * and what the NIC may hold beside them; an
 * af_packet ring's framecnt (the kernel drops what does not fit); 0
 * where not known (net_ring, net_tap, net_pcap: read up to a point
 * only when found empty). */
static uint32_t rxq_capacity(const struct rte_eth_rxq_info *qi,
			     const struct rte_eth_dev_info *info)
{
	if (qi != NULL)
		return qi->nb_desc + NIC_HELD_FRAMES;
	if (strcmp(info->driver_name, "net_af_packet") == 0)
		return afp_devarg(info, "framecnt", AFP_DEFAULT_FRAMECNT);
	return 0;
}

/* Do frames wait in an RX queue (qi, info: as for rxq_capacity) when
 * its PMD has no mbuf to take them in (so that an empty answer then is
 * no proof of an empty queue: hc_worker.c watches the queue's pool)?  A
 * NIC's, whose descriptor ring the PMD tells (frames stay in the NIC
 * until refilled descriptors take them), and an af_packet ring's (frames
 * stay in the kernel's ring).  Not net_ring's (it takes no mbuf), nor
 * net_pcap's or net_null's (nothing waits: a frame without an mbuf is
 * not read, or not made). */
static int rxq_waits_for_mbufs(const struct rte_eth_rxq_info *qi,
			       const struct rte_eth_dev_info *info)
{
	return qi != NULL || strcmp(info->driver_name, "net_af_packet") == 0;
}

/* The kernel interface's MTU, 0 if it cannot be read. */
static unsigned if_mtu(unsigned if_index, char name[IF_NAMESIZE])
{
	struct ifreq ifr;
	unsigned mtu = 0;
	if (if_index == 0 || if_indextoname(if_index, name) == NULL)
		return 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		mtu = (unsigned)ifr.ifr_mtu;
	close(fd);
	return mtu;
}

/* What port needs and carries; says so when its interface can bring it
 * frames longer than it carries whole. */
static void port_frames(uint16_t port, const struct rte_eth_dev_info *info,
			struct port_frames *pf)
{
	memset(pf, 0, sizeof(*pf));
	if (strcmp(info->driver_name, "net_af_packet") != 0)
		return;
	uint32_t framesz = afp_devarg(info, "framesz", AFP_DEFAULT_FRAMESZ);
	pf->room = framesz > AFP_MBUF_OVERHEAD ? framesz - (uint32_t)AFP_MBUF_OVERHEAD : 0;
	pf->frame_max = framesz > AFP_MACOFF ? framesz - (uint32_t)AFP_MACOFF : 0;
	char name[IF_NAMESIZE] = "?";
	unsigned mtu = if_mtu(info->if_index, name);
	if (mtu != 0 && mtu + RTE_ETHER_HDR_LEN > pf->frame_max)
		HC_LOG(WARNING, "port %u (net_af_packet on %s, MTU %u): framesz %u carries "
		       "frames of up to %u bytes whole; longer ones arrive cut short and are "
		       "dropped (frame_cut): give framesz of at least %u (a multiple of 16; "
		       "blocksz a multiple of it and of the page size, e.g. framesz=9216,"
		       "blocksz=36864 for MTU 9000)", port, name, mtu, framesz, pf->frame_max,
		       (unsigned)TPACKET_ALIGN(mtu + RTE_ETHER_HDR_LEN + AFP_MACOFF));
	else
		HC_LOG(INFO, "port %u (net_af_packet on %s, MTU %u): framesz %u carries "
		       "frames of up to %u bytes whole", port, name, mtu, framesz, pf->frame_max);
}

/*
 * Ring drops of af_packet ports.  net_af_packet (DPDK 22.11) leaves
 * imissed at 0 whatever its rings drop: the kernel counts those per socket
 * (PACKET_STATISTICS tp_drops), and the PMD never asks.  The kernel
 * interface's rx_packets (ip -s link) counts every frame it received
 * (on a veth: every frame its peer sent); minus the frames the PMD read
 * (its ipackets), both since the port was set up, the rest were dropped
 * in the ring, held back as IP fragments (the PMD's fanout group defrags:
 * a lone fragment never arrives), or, while the port runs, still wait in
 * the ring (at most framecnt per queue).  Once the ports are read dry (at exit) the difference is
 * exactly the frames lost in the ring.  Frames that arrived between the
 * PMD opening its sockets (EAL init) and the base read here are left out.
 */
static struct afp_if {
	unsigned if_index; /* 0: not an af_packet port, or unreadable */
	uint64_t rx_base;  /* the interface's rx_packets at setup    */
	uint64_t rx_read;  /* the largest read since (relaxed: telemetry's
	                      and the stats line's threads both read): a
	                      read that fails counts that, so the counter
	                      never goes back */
} afp_if[RTE_MAX_ETHPORTS];
/* set by hc_ports_drain_at_exit: the interfaces' last reads are taken,
 * and the frames it read then */
static int afp_final;
static uint64_t afp_unread_at_exit;

/* The interface's 64-bit rx_packets (rtnetlink RTM_GETLINK, IFLA_STATS64:
 * right in the caller's network namespace), and whether it is up and
 * running (IFF_UP and IFF_RUNNING: administratively up, with a carrier);
 * NULL for either not wanted.  0 on success. */
static int if_read(unsigned if_index, uint64_t *rx, int *up)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {.nh = {.nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1},
		 .ifi = {.ifi_family = AF_UNSPEC, .ifi_index = (int)if_index}};
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	int rc = -1;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	struct timeval tv = {.tv_sec = 1};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, &req, sizeof(req), 0) != (ssize_t)sizeof(req))
		goto out;
	/* one link asked for: one RTM_NEWLINK message (or an error) */
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct ifinfomsg)) || nh->nlmsg_type != RTM_NEWLINK ||
	    nh->nlmsg_len > (size_t)n || nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		goto out;
	unsigned flags = ((const struct ifinfomsg *)NLMSG_DATA(nh))->ifi_flags;
	if (up != NULL)
		*up = (flags & IFF_UP) && (flags & IFF_RUNNING);
	if (rx == NULL) {
		rc = 0;
		goto out;
	}
	int len = (int)IFLA_PAYLOAD(nh);
	for (const struct rtattr *a = IFLA_RTA((const struct ifinfomsg *)NLMSG_DATA(nh));
	     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type != IFLA_STATS64 || RTA_PAYLOAD(a) < sizeof(struct rtnl_link_stats64))
			continue;
		struct rtnl_link_stats64 st;
		memcpy(&st, RTA_DATA(a), sizeof(st));
		*rx = st.rx_packets;
		rc = 0;
		break;
	}
out:
	close(fd);
	return rc;
}

/* Remember an af_packet port's interface and its rx_packets now. */
static void afp_watch(uint16_t port, const struct rte_eth_dev_info *info)
{
	uint64_t rx;
	afp_if[port].if_index = 0;
	if (strcmp(info->driver_name, "net_af_packet") != 0 || info->if_index == 0)
		return;
	if (if_read(info->if_index, &rx, NULL) != 0) {
		HC_LOG(WARNING, "port %u (net_af_packet): cannot read its interface's "
		       "counters: port_ring_drops will not count its ring drops", port);
		return;
	}
	afp_if[port].rx_base = rx;
	afp_if[port].rx_read = rx;
	afp_if[port].if_index = info->if_index;
}

/* Does a port of this driver only copy frames between the kernel, a file
 * or a ring and its mbufs, never mapping EAL's memory or handing mbufs'
 * addresses to a device?  Then its pools may live in heaps of their own
 * (hc_port_pool_create): memory DPDK calls external, with no file
 * descriptor and no IOVA table, which vhost-user and memif zero-copy
 * cannot share and a vfio NIC's DMA would not find mapped (net_vhost,
 * virtio_user, memif, af_xdp are not on the list: their pools stay in
 * EAL's memory). */
static int copies_frames(const char *driver)
{
	static const char *const drivers[] = {"net_af_packet", "net_pcap", "net_null",
					      "net_ring", "net_tap"};
	for (unsigned i = 0; i < RTE_DIM(drivers); i++)
		if (driver != NULL && strcmp(driver, drivers[i]) == 0)
			return 1;
	return 0;
}

/* The pools' heaps of their own, without hugepages (hc_bigmem_heap), by
 * pool: given back when the pool is freed (hc_port_pool_free).  Main
 * lcore only. */
#define POOL_HEAPS 8
static struct pool_heap {
	const struct rte_mempool *mp; /* NULL: a free entry */
	struct hc_bigmem_heap heap;
} pool_heaps[POOL_HEAPS];

size_t hc_port_pool_heap_bytes(uint32_t n, unsigned cache, uint32_t room)
{
	const size_t page = HC_BIGMEM_HUGE_PAGE; /* the heap's pages */
	struct rte_mempool_objsz sz;
	uint32_t elt = (uint32_t)sizeof(struct rte_mbuf) + room + RTE_PKTMBUF_HEADROOM;
	rte_mempool_calc_obj_size(elt, 0, &sz);
	/* the objects: as many a 2 MiB page as fit whole in it */
	size_t per_page = page / sz.total_size;
	size_t objects = (n + per_page - 1) / per_page * page;
	/* the pool's header (its per-lcore caches) and its ring */
	size_t header = sizeof(struct rte_mempool) + sizeof(struct rte_pktmbuf_pool_private) +
		(cache > 0 ? RTE_MAX_LCORE * sizeof(struct rte_mempool_cache) : 0);
	ssize_t ring = rte_ring_get_memsize(rte_align32pow2(n + 1));
	/* and a page more: the objects' zone is 2 MiB-aligned, carved from
	 * the end of the free memory below the header and the ring (DPDK's
	 * heap hands out the top first), its own malloc header before it */
	return objects + header + (ring > 0 ? (size_t)ring : 0) + page;
}

struct rte_mempool *hc_port_pool_create(const char *name, const char *what, uint32_t n,
					unsigned cache, uint32_t room, const char *count_option,
					int own_heap)
{
	struct rte_malloc_socket_stats before, after;
	struct pool_heap *ph = NULL;
	int socket = (int)rte_socket_id();
	for (unsigned i = 0; i < POOL_HEAPS && ph == NULL; i++)
		if (pool_heaps[i].mp == NULL && pool_heaps[i].heap.va == NULL)
			ph = &pool_heaps[i];
	struct hc_bigmem_heap heap = {.socket = socket};
	if (own_heap && !rte_eal_has_hugepages()) {
		size_t want = hc_port_pool_heap_bytes(n, cache, room);
		int rc = ph == NULL ? -EMFILE : hc_bigmem_heap_create(&heap, name, want, socket);
		if (rc == -ENOMEM) {
			/* (not EAL's pages instead: 1.7 times the memory, every
			 * page of it written as the pool is made) */
			HC_LOG(ERR, "cannot create the %s: %u mbufs of %u bytes need %zu MiB, "
			       "more than the kernel has available (MemAvailable)%s%s", what, n,
			       room, want >> 20, count_option != NULL ? ": lower " : "",
			       count_option != NULL ? count_option : "");
			return NULL;
		}
		if (rc != 0)
			HC_LOG(WARNING, "%s: no heap of its own in huge pages (%s): in EAL's "
			       "4 KiB pages, each mbuf on pages of its own", what,
			       rc == -EMFILE ? "too many pools" : strerror(-rc));
	}
	struct rte_mempool *mp = NULL;
	for (;;) {
		rte_malloc_get_socket_stats(heap.socket, &before);
		mp = rte_pktmbuf_pool_create(name, n, cache, 0,
					     (uint16_t)(room + RTE_PKTMBUF_HEADROOM), heap.socket);
		if (mp != NULL || heap.va == NULL)
			break;
		/* (the heap's size is hc_port_pool_heap_bytes's estimate) */
		HC_LOG(WARNING, "%s: not made in its heap of its own (%zu MiB: %s): in EAL's "
		       "4 KiB pages", what, heap.len >> 20, rte_strerror(rte_errno));
		if (hc_bigmem_heap_destroy(&heap) != 0) /* (nothing of a pool not
		                                           made is left in it) */
			HC_LOG(ERR, "%s: its heap %s not given back", what, heap.name);
		heap = (struct hc_bigmem_heap){.socket = socket};
	}
	if (mp == NULL) {
		HC_LOG(ERR, "cannot create the %s: %u mbufs of %u bytes (raise EAL -m%s%s)",
		       what, n, room, count_option != NULL ? ", or lower " : "",
		       count_option != NULL ? count_option : "");
		return NULL;
	}
	rte_malloc_get_socket_stats(heap.socket, &after);
	if (heap.va != NULL)
		*ph = (struct pool_heap){.mp = mp, .heap = heap};
	struct rte_mempool_objsz sz;
	rte_mempool_calc_obj_size(mp->elt_size, mp->flags, &sz);
	size_t bytes = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
	/* in EAL's 4 KiB pages an mbuf never spans a page: a 2 KiB one
	 * takes a page, a 9 KiB one three */
	char where[96] = "";
	if (heap.va != NULL)
		snprintf(where, sizeof(where), ", in a heap of its own of %zu MiB in %s, "
			 "outside EAL's -m", heap.len >> 20,
			 hc_bigmem_thp_enabled() ? "huge pages" : "4 KiB pages (THP off)");
	HC_LOG(INFO, "%s: %u mbufs of %u frame bytes: %.1f MiB (%u bytes an mbuf, %zu "
	       "with the pool's page layout)%s", what, n, room, (double)bytes / (1 << 20),
	       sz.total_size, bytes / n, where);
	return mp;
}

void hc_port_pool_free(struct rte_mempool *mp)
{
	if (mp == NULL)
		return;
	rte_mempool_free(mp);
	for (unsigned i = 0; i < POOL_HEAPS; i++) {
		if (pool_heaps[i].mp != mp)
			continue;
		int rc = hc_bigmem_heap_destroy(&pool_heaps[i].heap);
		if (rc != 0) /* (the entry stays taken by what is left) */
			HC_LOG(WARNING, "the heap %s of a pool freed stays: %s",
			       pool_heaps[i].heap.name, strerror(-rc));
		pool_heaps[i].mp = NULL;
	}
}

static int port_init(struct hc_dataplane *dp, uint16_t port, unsigned *next_worker)
{
	const struct hc_config *cfg = dp->cfg;
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0) {
		HC_LOG(ERR, "port %u: cannot get device info: %s", port, strerror(-rc));
		return rc;
	}
	uint16_t nrx = (uint16_t)RTE_MIN(dp->n_workers, info.max_rx_queues);
	uint16_t ntx = (uint16_t)RTE_MIN(dp->n_workers, info.max_tx_queues);
	if (nrx == 0) {
		HC_LOG(ERR, "port %u (%s): no RX queue", port, info.driver_name);
		return -EINVAL;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_CHECKSUM &
					info.rx_offload_capa;
	/* a device that states its MTU range (a NIC; virtual devices leave it
	 * open and take any frame) gets one that carries the largest datagram,
	 * if its mbufs hold such a frame or it can chain one over several */
	uint32_t room = rte_pktmbuf_data_room_size(dp->pool) - RTE_PKTMBUF_HEADROOM;
	int scatter = room < HC_MAX_FRAME && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER);
	if (info.max_mtu != UINT16_MAX && info.max_mtu > RTE_ETHER_MTU &&
	    (room >= HC_MAX_FRAME || scatter)) {
		conf.rxmode.mtu = (uint32_t)RTE_MIN(info.max_mtu, GATHER_MTU);
		if (scatter)
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	}
	if (nrx > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) &
						   info.flow_type_rss_offloads;
	}
	rc = rte_eth_dev_configure(port, nrx, ntx, &conf);
	if (rc != 0) {
		HC_LOG(ERR, "port %u (%s): configure %u rx / %u tx queues: %s", port,
		       info.driver_name, nrx, ntx, strerror(-rc));
		return rc;
	}
	uint16_t nb_rxd = (uint16_t)cfg->rx_desc, nb_txd = TX_DESC;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (rc != 0)
		return rc;
	uint32_t holds = 0; /* what an rx queue holds (rxq_capacity) */
	int socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = (int)rte_socket_id();
	/* queue q of this port, RX and TX alike, is worker (first + q)'s: a
	 * worker answers ARP and ICMP echo on the port it read them from, on
	 * its own TX queue (dealt from worker 0 on every port, worker 1 had
	 * none on a second one-queue port: its ARP requests were dropped) */
	const unsigned first = *next_worker;
	for (uint16_t q = 0; q < nrx; q++) {
		rc = rte_eth_rx_queue_setup(port, q, nb_rxd, (unsigned)socket, NULL, dp->pool);
		if (rc != 0) {
			HC_LOG(ERR, "port %u: rx queue %u: %s%s", port, q, strerror(-rc),
			       strcmp(info.driver_name, "net_pcap") == 0 ? " (with infinite_rx, "
			       "every frame must fit one 2 KiB mbuf)" : "");
			return rc;
		}
		struct hc_worker *w = dp->workers[(first + q) % dp->n_workers];
		if (w->n_rxq == HC_MAX_RXQ_PER_WORKER) {
			HC_LOG(ERR, "worker %u: more than %u rx queues", w->id,
			       HC_MAX_RXQ_PER_WORKER);
			return -E2BIG;
		}
		w->rxq[w->n_rxq].port = port;
		w->rxq[w->n_rxq].queue = q;
		/* what the PMD tells of the queue (NULL: nothing; its
		 * descriptors, a NIC's ring) */
		struct rte_eth_rxq_info qi;
		const struct rte_eth_rxq_info *told =
			rte_eth_rx_queue_info_get(port, q, &qi) == 0 && qi.nb_desc != 0 ? &qi : NULL;
		w->rxq_capacity[w->n_rxq] = rxq_capacity(told, &info);
		w->rxq_pool[w->n_rxq] = rxq_waits_for_mbufs(told, &info) ? dp->pool : NULL;
		if (q == 0)
			holds = w->rxq_capacity[w->n_rxq]; /* (for the log line) */
		w->n_rxq++;
	}
	*next_worker = first + nrx;
	for (uint16_t q = 0; q < ntx; q++) {
		rc = rte_eth_tx_queue_setup(port, q, nb_txd, (unsigned)socket, NULL);
		if (rc != 0) {
			HC_LOG(ERR, "port %u: tx queue %u: %s", port, q, strerror(-rc));
			return rc;
		}
		dp->workers[(first + q) % dp->n_workers]->txq[port] = q;
	}
	if (ntx < nrx)
		HC_LOG(WARNING, "port %u: %u rx queues but %u tx queues: the workers of rx queues "
		       "%u and on send no ARP or ICMP echo reply there (drop_arp_no_txq, "
		       "drop_icmp_no_txq)", port, nrx, ntx, ntx);
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		HC_LOG(ERR, "port %u: start: %s", port, strerror(-rc));
		return rc;
	}
	rte_eth_promiscuous_enable(port); /* best effort: virtual devices may refuse */
	rte_eth_macaddr_get(port, &dp->port_mac[port]);
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	rte_ether_format_addr(mac, sizeof(mac), &dp->port_mac[port]);
	char holds_s[48] = "";
	if (holds != 0)
		snprintf(holds_s, sizeof(holds_s), ", an rx queue holds %u frames", holds);
	HC_LOG(INFO, "port %u (%s) mac %s: %u rx / %u tx queues, %u rx descriptors%s%s",
	       port, info.driver_name, mac, nrx, ntx, nb_rxd, holds_s,
	       conf.rxmode.mtu != 0 ? (scatter ? ", jumbo MTU, scatter" : ", jumbo MTU") : "");
	return 0;
}

int hc_port_ip_ok(const char *bus, int ip_explicit)
{
	return ip_explicit || (bus != NULL && strcmp(bus, "vdev") == 0);
}

/* What `lcores` caches of a pool may hold: up to 1.5 times `cache` each
 * (DPDK flushes a cache above that). */
static uint64_t caches_hold(unsigned lcores, unsigned cache)
{
	return (uint64_t)lcores * (cache * 3 / 2);
}

/* A pool's size for n mbufs: a multiple of 1024, less one, at most 2^24
 * (--mbufs's own bound). */
static uint32_t pool_size_for(uint64_t n)
{
	n |= 1023;
	return n < (1u << 24) ? (uint32_t)n : 1u << 24;
}

uint64_t hc_port_mbufs_held(unsigned workers, unsigned lcores, unsigned cache)
{
	uint64_t held = (uint64_t)workers * (HC_SEQ_MAX_HELD + HC_WORKER_HANDS);
	uint64_t rings = workers > 1 ?
			 (uint64_t)workers * (workers - 1) * hc_handoff_dgram_ring_size(workers) : 0;
	return held + rings + caches_hold(lcores, cache);
}

uint32_t hc_port_ctl_mbufs(unsigned workers, unsigned lcores, unsigned cache,
			   uint64_t tx_descriptors, uint32_t max_gateways)
{
	uint64_t batches = (uint64_t)HC_PORT_CTL_BATCHES_PER_GATEWAY *
			   (max_gateways > 0 ? max_gateways - 1 : 0);
	return pool_size_for((uint64_t)workers * (HC_CTL_TX_RING_SIZE - 1) + tx_descriptors +
			     caches_hold(lcores, cache) + batches + HC_PORT_CTL_IN_MAKING);
}

uint32_t hc_port_default_mbufs(unsigned workers, unsigned lcores, unsigned cache,
			       uint64_t descriptors, uint32_t given)
{
	uint64_t need = hc_port_mbufs_held(workers, lcores, cache) +
			RTE_MAX(descriptors, (uint64_t)HC_PORT_DESC_ALLOWANCE);
	if (need <= given)
		return given;
	return pool_size_for(need);
}

/* The packet pool against the most mbufs that may be held at once: what
 * the appliance holds (hc_port_mbufs_held: sequencers, hand-off rings,
 * the lcores' caches) and the RX and TX descriptors of
 * PMDs that fill or hold theirs.  A pool smaller than that may run short under a lossy or
 * hostile network: RX then stalls, and no empty answer counts as the
 * queue read (rx_pool_short, hc_worker.c).  Said at start, once: only an
 * explicit --mbufs (or one from a PMD's descriptors past the default's
 * allowance) can be smaller. */
static void pool_demand_check(const struct hc_dataplane *dp)
{
	uint64_t desc = 0;
	uint16_t port;
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;
		if (rte_eth_dev_info_get(port, &info) != 0)
			continue;
		for (uint16_t q = 0; q < info.nb_rx_queues; q++) {
			struct rte_eth_rxq_info qi;
			if (rte_eth_rx_queue_info_get(port, q, &qi) == 0)
				desc += qi.nb_desc;
		}
		for (uint16_t q = 0; q < info.nb_tx_queues; q++) {
			struct rte_eth_txq_info qi;
			if (rte_eth_tx_queue_info_get(port, q, &qi) == 0)
				desc += qi.nb_desc;
		}
	}
	uint64_t held = hc_port_mbufs_held(dp->n_workers, rte_lcore_count(),
					   dp->pool->cache_size);
	uint64_t need = held + desc;
	if (dp->pool->size < need)
		HC_LOG(WARNING, "the packet pool (%u mbufs) is smaller than what may hold mbufs "
		       "at once: %" PRIu64 " (%u workers' sequencers, hand-off rings and the "
		       "lcores' caches %" PRIu64 ", descriptors %" PRIu64 "); a shortage "
		       "stalls RX (counted: rx_pool_short): raise --mbufs", dp->pool->size, need,
		       dp->n_workers, held, desc);
}

int hc_ports_init(struct hc_dataplane *dp)
{
	uint16_t n = rte_eth_dev_count_avail();
	unsigned next_worker = 0;
	uint16_t port;

	if (n == 0) {
		HC_LOG(ERR, "no ethdev port: give a virtual one with --vdev (see --help and "
		       "README), or a NIC's PCI address with -a whose DPDK driver is installed "
		       "(its librte-net-* package: docs/deploy.md)");
		return -ENODEV;
	}
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;
		if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL)
			continue; /* said below */
		const char *bus = rte_bus_name(rte_dev_bus(info.device));
		if (!hc_port_ip_ok(bus, dp->cfg->ip_explicit)) {
			HC_LOG(ERR, "port %u (%s on the %s bus) is a physical device: give its "
			       "address with --ip A.B.C.D (the default, the lab's 198.18.0.1, is "
			       "only for virtual devices)", port, rte_dev_name(info.device), bus);
			return -EINVAL;
		}
	}
	/* the packet pool's mbufs hold what every port needs whole; the
	 * descriptors the ports' queues will take (hc_port_default_mbufs:
	 * an estimate, as port_init sets them up) */
	uint32_t room = RTE_MBUF_DEFAULT_DATAROOM;
	uint64_t descriptors = 0, tx_descriptors = 0;
	int own_heaps = 1; /* every port's driver takes mbufs from a heap of its own */
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;
		struct port_frames pf;
		int rc = rte_eth_dev_info_get(port, &info);
		if (rc != 0) {
			HC_LOG(ERR, "port %u: cannot get device info: %s", port, strerror(-rc));
			return rc;
		}
		if (!rte_eal_has_hugepages() && !copies_frames(info.driver_name)) {
			if (own_heaps)
				HC_LOG(INFO, "port %u (%s): the pools stay in EAL's memory, as its "
				       "driver may map it or DMA into it", port, info.driver_name);
			own_heaps = 0;
		}
		port_frames(port, &info, &pf);
		afp_watch(port, &info);
		uint64_t tx_desc = (uint64_t)RTE_MIN(dp->n_workers, info.max_tx_queues) * TX_DESC;
		descriptors += (uint64_t)RTE_MIN(dp->n_workers, info.max_rx_queues) *
				       dp->cfg->rx_desc + tx_desc;
		tx_descriptors += tx_desc;
		dp->port_frame_max[port] = pf.frame_max;
		room = RTE_MAX(room, pf.room);
	}
	if (room + RTE_PKTMBUF_HEADROOM > UINT16_MAX) {
		HC_LOG(ERR, "a port needs mbufs of %u bytes: at most %u (lower af_packet's "
		       "framesz)", room, UINT16_MAX - RTE_PKTMBUF_HEADROOM);
		return -EINVAL;
	}
	uint32_t mbufs = dp->cfg->mbufs;
	if (!dp->cfg->mbufs_explicit) {
		mbufs = hc_port_default_mbufs(dp->n_workers, rte_lcore_count(), PACKET_POOL_CACHE,
					      descriptors, mbufs);
		if (mbufs != dp->cfg->mbufs)
			HC_LOG(INFO, "packet pool: %u mbufs, not --mbufs's default %u: what %u "
			       "workers and %u lcores may hold, and the ports' descriptors",
			       mbufs, dp->cfg->mbufs, dp->n_workers, rte_lcore_count());
	}
	dp->pool = hc_port_pool_create("hc_mbufs", "packet pool", mbufs, PACKET_POOL_CACHE, room,
				       "--mbufs", own_heaps);
	if (dp->pool == NULL) {
		if (mbufs != dp->cfg->mbufs)
			HC_LOG(ERR, "(--mbufs not given: the pool was sized to what %u workers may "
			       "hold; give a smaller --mbufs, or raise EAL -m)", dp->n_workers);
		return -ENOMEM;
	}
	/* the control core's frames: a pool of their own (hc_dataplane.h) */
	dp->ctl_pool = hc_port_pool_create("hc_ctl_mbufs", "control pool",
				   hc_port_ctl_mbufs(dp->n_workers, rte_lcore_count(),
						     HC_PORT_CTL_POOL_CACHE, tx_descriptors,
						     dp->cfg->max_gateways),
				   HC_PORT_CTL_POOL_CACHE, HC_PORT_CTL_FRAME_ROOM, "--max-gateways",
				   own_heaps);
	if (dp->ctl_pool == NULL)
		return -ENOMEM;
	if (room >= HC_MAX_FRAME) {
		dp->gather_pool = dp->pool;
	} else {
		/* no per-lcore cache: a gather mbuf freed by any worker is at
		 * once free for all (the RX worker may wait for one) */
		dp->gather_pool = hc_port_pool_create("hc_gather", "gather pool",
						      dp->cfg->gather_mbufs, 0, HC_MAX_FRAME,
						      "--gather-mbufs", own_heaps);
		if (dp->gather_pool == NULL)
			return -ENOMEM;
		/* a quarter of it never held for gaps: the RX path's */
		for (unsigned i = 0; i < dp->n_workers; i++)
			hc_seq_set_scarce_pool(&dp->workers[i]->seq, dp->gather_pool,
					       dp->cfg->gather_mbufs / 4);
	}
	RTE_ETH_FOREACH_DEV(port) {
		int rc = port_init(dp, port, &next_worker);
		if (rc != 0)
			return rc;
		dp->n_ports++;
	}
	if (next_worker < dp->n_workers)
		HC_LOG(WARNING, "%u rx queues for %u workers: some workers only apply "
		       "handed-off events", next_worker, dp->n_workers);
	pool_demand_check(dp);
	return 0;
}

void hc_ports_close(struct hc_dataplane *dp)
{
	uint16_t port;
	RTE_ETH_FOREACH_DEV(port) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	if (dp->gather_pool != dp->pool)
		hc_port_pool_free(dp->gather_pool);
	hc_port_pool_free(dp->pool);
	hc_port_pool_free(dp->ctl_pool);
	dp->pool = NULL;
	dp->gather_pool = NULL;
	dp->ctl_pool = NULL;
}

/* An af_packet port's interface rx_packets now, kept as its largest read
 * (a failed read gives the last one: the count never goes back, nor when
 * a telemetry thread's older read ends after the main lcore's newer one:
 * the largest wins, compare-and-swap). */
static uint64_t afp_read_rx(uint16_t port)
{
	uint64_t rx, was = __atomic_load_n(&afp_if[port].rx_read, __ATOMIC_RELAXED);
	if (if_read(afp_if[port].if_index, &rx, NULL) != 0)
		return was;
	while (rx > was) {
		if (__atomic_compare_exchange_n(&afp_if[port].rx_read, &was, rx, 0,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return rx;
	} /* (was: the newer value another thread stored) */
	return was;
}

void hc_ports_totals(const struct hc_dataplane *dp, struct hc_port_totals *t)
{
	uint16_t port;
	(void)dp;
	memset(t, 0, sizeof(*t));
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_stats s;
		if (rte_eth_stats_get(port, &s) != 0)
			continue;
		t->ipackets += s.ipackets;
		t->imissed += s.imissed;
		t->ierrors += s.ierrors;
		t->rx_nombuf += s.rx_nombuf;
		t->opackets += s.opackets;
		if (afp_if[port].if_index == 0)
			continue;
		uint64_t rx = __atomic_load_n(&afp_final, __ATOMIC_ACQUIRE) ?
			__atomic_load_n(&afp_if[port].rx_read, __ATOMIC_RELAXED) : afp_read_rx(port);
		uint64_t got = rx - afp_if[port].rx_base;
		t->if_rx_packets += got;
		t->ring_drops += got > s.ipackets ? got - s.ipackets : 0;
	}
	t->unread_at_exit = __atomic_load_n(&afp_unread_at_exit, __ATOMIC_RELAXED);
}

int hc_port_if_link(uint16_t port, int *up)
{
	if (port >= RTE_MAX_ETHPORTS || afp_if[port].if_index == 0)
		return -1;
	return if_read(afp_if[port].if_index, NULL, up);
}

#define DRAIN_BURST 64
#define DRAIN_MAX_BURSTS 1024 /* a queue's bound: 64 Ki frames, past any
                                 af_packet ring this sets up (framecnt) */

uint64_t hc_ports_drain_at_exit(struct hc_dataplane *dp)
{
	uint16_t port;
	(void)dp;
	RTE_ETH_FOREACH_DEV(port)
		if (afp_if[port].if_index != 0)
			(void)afp_read_rx(port);
	__atomic_store_n(&afp_final, 1, __ATOMIC_RELEASE);
	uint64_t read = 0;
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;
		if (afp_if[port].if_index == 0 || rte_eth_dev_info_get(port, &info) != 0)
			continue;
		for (uint16_t q = 0; q < info.nb_rx_queues; q++) {
			struct rte_mbuf *pkts[DRAIN_BURST];
			for (unsigned b = 0; b < DRAIN_MAX_BURSTS; b++) {
				uint16_t n = rte_eth_rx_burst(port, q, pkts, DRAIN_BURST);
				if (n == 0)
					break;
				rte_pktmbuf_free_bulk(pkts, n);
				read += n;
			}
		}
	}
	__atomic_add_fetch(&afp_unread_at_exit, read, __ATOMIC_RELAXED);
	return read;
}
