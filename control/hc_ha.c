/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_ha.c - the appliance's role in an active/standby pair (see hc_ha.h):
 * role changes, epochs, gratuitous ARPs.  Control lcore (slow path).
 */
#include "hc_ha.h"

#include <string.h>
#include <time.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "hc_config.h"
#include "hc_ctlmsg.h"
#include "hc_log.h"
#include "hc_proto.h"

/* the burst of gratuitous ARPs after a new epoch, ms after it */
static const unsigned garp_at_ms[] = {0, 100, 300, 700, 1500};
#define N_GARP (sizeof(garp_at_ms) / sizeof(garp_at_ms[0]))

const char *hc_ha_role_name(int role)
{
	return role == HC_HA_MASTER ? "master" : role == HC_HA_BACKUP ? "backup" : "standalone";
}

static void publish_ceiling(struct hc_ha *ha, uint64_t now);

void hc_ha_init(struct hc_ha *ha, struct hc_dataplane *dp, int role, uint32_t epoch)
{
	memset(ha, 0, sizeof(*ha));
	ha->dp = dp;
	ha->role = role;
	ha->epoch = epoch;
	ha->parity = -1;
	ha->garp_sent = N_GARP;
	dp->ha = role != HC_HA_STANDALONE;
	__atomic_store_n(&dp->ha_epoch, epoch, __ATOMIC_RELAXED);
	__atomic_store_n(&dp->ha_serving, role != HC_HA_BACKUP, __ATOMIC_RELEASE);
	if (dp->ha)
		publish_ceiling(ha, rte_rdtsc());
}

void hc_ha_links(struct hc_ha *ha, unsigned down, unsigned ports)
{
	__atomic_store_n(&ha->ports, ports, __ATOMIC_RELAXED);
	__atomic_store_n(&ha->links_down, down, __ATOMIC_RELAXED);
}

int hc_ha_request(struct hc_ha *ha, int role)
{
	if (ha->role == HC_HA_STANDALONE)
		return -1;
	__atomic_store_n(&ha->want, role, __ATOMIC_RELAXED);
	return 0;
}

uint64_t hc_ha_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void hc_ha_set_box(struct hc_ha *ha, int box)
{
	ha->parity = box == 0 || box == 1 ? box : -1;
}

/* The wall clock in 1/8 s (as the start's incarnation, app/hc_main.c),
 * above our last epoch and above heard (0: none); never 0; of our
 * parity (one step more at most: still above both). */
uint32_t hc_ha_next_epoch(uint32_t clock_8ths, uint32_t last, uint32_t heard, int parity)
{
	uint32_t e = clock_8ths;
	if (!hc_seq_after(e, last))
		e = last + 1;
	if (heard != 0 && !hc_seq_after(e, heard))
		e = heard + 1;
	if (parity >= 0 && (e & 1u) != (uint32_t)parity)
		e++;
	if (e == 0)
		e = parity == 0 ? 2 : 1;
	return e;
}

/* The highest epoch a gateway may name and be believed: the wall clock
 * (in 1/8 s, as epochs are) HC_HA_HEARD_AHEAD_S on, and never below our
 * own; set again every 100 ms. */
static void publish_ceiling(struct hc_ha *ha, uint64_t now)
{
	uint32_t c = (uint32_t)(hc_ha_wall_ms() / 125) + HC_HA_HEARD_AHEAD_S * 8u;
	if (hc_seq_after(ha->epoch, c))
		c = ha->epoch; /* (our own clock stepped back: none above ours) */
	__atomic_store_n(&ha->dp->ha_heard_ceiling, c == 0 ? 1 : c, __ATOMIC_RELAXED);
	ha->ceiling_tsc = now;
}

static void new_epoch(struct hc_ha *ha, uint64_t now, uint32_t heard)
{
	ha->epoch = hc_ha_next_epoch((uint32_t)(hc_ha_wall_ms() / 125), ha->epoch, heard,
				     ha->parity);
	ha->epoch_tsc = now;
	__atomic_store_n(&ha->dp->ha_epoch, ha->epoch, __ATOMIC_RELAXED);
	publish_ceiling(ha, now); /* (never below the new epoch) */
}

/* One gratuitous ARP (a request for --ip from --ip) on every port. */
static void send_garp(struct hc_ha *ha)
{
	struct hc_dataplane *dp = ha->dp;
	for (uint16_t p = 0; p < dp->n_ports; p++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(hc_dp_ctl_pool(dp));
		if (m == NULL) {
			ha->st.garp_failures++;
			continue;
		}
		const uint16_t len = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN; /* 60 */
		uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, len);
		if (f == NULL) { /* never: a control mbuf holds 1.5 KiB */
			rte_pktmbuf_free(m);
			ha->st.garp_failures++;
			continue;
		}
		memset(f, 0, len);
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
		struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
		memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
		rte_ether_addr_copy(&dp->port_mac[p], &eth->src_addr);
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
		arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
		arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		arp->arp_hlen = RTE_ETHER_ADDR_LEN;
		arp->arp_plen = 4;
		arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
		rte_ether_addr_copy(&dp->port_mac[p], &arp->arp_data.arp_sha);
		arp->arp_data.arp_sip = dp->cfg->ip_be;
		arp->arp_data.arp_tip = dp->cfg->ip_be;
		m->port = p;
		if (hc_chan_give_frame(dp, 0, m) != 0) {
			rte_pktmbuf_free(m);
			ha->st.garp_failures++;
		} else {
			ha->st.garps++;
		}
	}
}

void hc_ha_serve(struct hc_ha *ha)
{
	__atomic_store_n(&ha->dp->ha_serving, 1, __ATOMIC_RELEASE);
}

enum hc_ha_event hc_ha_poll(struct hc_ha *ha, uint64_t now)
{
	if (ha->role == HC_HA_STANDALONE)
		return HC_HA_NONE;
	enum hc_ha_event ev = HC_HA_NONE;
	int want = __atomic_exchange_n(&ha->want, 0, __ATOMIC_RELAXED);
	uint64_t hz = rte_get_tsc_hz();
	if (now - ha->ceiling_tsc >= hz / 10) {
		publish_ceiling(ha, now);
		ha->st.heard_far = hc_dp_ha_heard_far(ha->dp);
	}
	if (want == HC_HA_BACKUP && ha->role == HC_HA_MASTER) {
		/* first: nothing more is answered or sent from now on */
		__atomic_store_n(&ha->dp->ha_serving, 0, __ATOMIC_RELEASE);
		/* and the workers forget every gateway (hc_ha_cold): cold */
		__atomic_store_n(&ha->dp->ha_demotions, ha->dp->ha_demotions + 1,
				 __ATOMIC_RELEASE);
		ha->role = HC_HA_BACKUP;
		ha->garp_sent = N_GARP;
		ha->st.demotions++;
		HC_LOG(NOTICE, "HA: backup (epoch %u ends): --ip released, nothing placed, "
		       "balanced or sent, every gateway forgotten (cold)", ha->epoch);
		return HC_HA_DEMOTED;
	}
	if (want == HC_HA_MASTER && ha->role == HC_HA_BACKUP) {
		new_epoch(ha, now, hc_dp_ha_heard(ha->dp));
		ha->role = HC_HA_MASTER;
		ha->garp_sent = 0; /* announce --ip here */
		ha->st.takeovers++;
		ha->st.takeover_wall_ms = hc_ha_wall_ms();
		HC_LOG(NOTICE, "HA: master, epoch %u: answering ARP for --ip, gateways restate",
		       ha->epoch);
		ev = HC_HA_NEW_EPOCH;
	} else if (ha->role == HC_HA_MASTER) {
		uint32_t heard = hc_dp_ha_heard(ha->dp);
		if (heard != 0 && hc_seq_after(heard, ha->epoch) && now - ha->epoch_tsc >= hz) {
			/* no gratuitous ARPs: the gateways that named it reach
			 * us already, and two masters announcing in turn would
			 * pull the gateways to and fro */
			uint32_t was = ha->epoch;
			new_epoch(ha, now, heard);
			ha->st.reepochs++;
			HC_LOG(WARNING, "HA: a gateway heard epoch %u, newer than ours (%u): "
			       "another master, or our clock is behind; now epoch %u", heard, was,
			       ha->epoch);
			if (ha->parity >= 0 && (heard & 1u) == (uint32_t)ha->parity) {
				ha->st.reepochs_own_box++;
				HC_LOG(WARNING, "HA: epoch %u has this box's --ha-box %d: is the "
				       "other box given the same --ha-box (their epochs may tie)?",
				       heard, ha->parity);
			}
			ev = HC_HA_NEW_EPOCH;
		}
	}
	if (ev == HC_HA_NEW_EPOCH) /* the decision loop restarts the hold */
		return ev;
	if (ha->role == HC_HA_MASTER && ha->garp_sent < N_GARP &&
	    now - ha->epoch_tsc >= hz / 1000 * garp_at_ms[ha->garp_sent]) {
		send_garp(ha);
		ha->garp_sent++;
	}
	return HC_HA_NONE;
}
