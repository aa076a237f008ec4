/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_port.c - ethdev and mempool setup (slow path, main lcore).
 *
 * Works on any ethdev: af_packet on a veth, net_pcap replay, net_ring, real
 * NICs.  Offloads are not required; the parser uses checksum flags only
 * when a driver sets them.
 */
#include "hc_port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "hc_log.h"
#include "hc_worker_state.h"

#define TX_DESC 512

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
	int socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (uint16_t q = 0; q < nrx; q++) {
		rc = rte_eth_rx_queue_setup(port, q, nb_rxd, (unsigned)socket, NULL, dp->pool);
		if (rc != 0) {
			HC_LOG(ERR, "port %u: rx queue %u: %s", port, q, strerror(-rc));
			return rc;
		}
		struct hc_worker *w = dp->workers[*next_worker % dp->n_workers];
		if (w->n_rxq == HC_MAX_RXQ_PER_WORKER) {
			HC_LOG(ERR, "worker %u: more than %u rx queues", w->id,
			       HC_MAX_RXQ_PER_WORKER);
			return -E2BIG;
		}
		w->rxq[w->n_rxq].port = port;
		w->rxq[w->n_rxq].queue = q;
		w->n_rxq++;
		(*next_worker)++;
	}
	for (uint16_t q = 0; q < ntx; q++) {
		rc = rte_eth_tx_queue_setup(port, q, nb_txd, (unsigned)socket, NULL);
		if (rc != 0) {
			HC_LOG(ERR, "port %u: tx queue %u: %s", port, q, strerror(-rc));
			return rc;
		}
		dp->workers[q]->txq[port] = q;
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		HC_LOG(ERR, "port %u: start: %s", port, strerror(-rc));
		return rc;
	}
	rte_eth_promiscuous_enable(port); /* best effort: virtual devices may refuse */
	rte_eth_macaddr_get(port, &dp->port_mac[port]);
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	rte_ether_format_addr(mac, sizeof(mac), &dp->port_mac[port]);
	HC_LOG(INFO, "port %u (%s) mac %s: %u rx / %u tx queues, %u rx descriptors",
	       port, info.driver_name, mac, nrx, ntx, nb_rxd);
	return 0;
}

int hc_ports_init(struct hc_dataplane *dp)
{
	uint16_t n = rte_eth_dev_count_avail();
	unsigned next_worker = 0;
	uint16_t port;

	if (n == 0) {
		HC_LOG(ERR, "no ethdev port: give one with --vdev (see --help and README)");
		return -ENODEV;
	}
	dp->pool = rte_pktmbuf_pool_create("hc_mbufs", dp->cfg->mbufs, 256, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (dp->pool == NULL) {
		HC_LOG(ERR, "cannot create a pool of %u mbufs (raise EAL -m)", dp->cfg->mbufs);
		return -ENOMEM;
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
	return 0;
}

void hc_ports_close(struct hc_dataplane *dp)
{
	uint16_t port;
	RTE_ETH_FOREACH_DEV(port) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	rte_mempool_free(dp->pool);
	dp->pool = NULL;
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
	}
}
