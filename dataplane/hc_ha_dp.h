/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_ha_dp.h - the workers' side of high availability (--ha): what a
 * backup refuses, and the epochs a master hears of.
 *
 * An appliance of an HA pair owns --ip (the service address) only while
 * it is the master (control/hc_ha.h sets hc_dataplane.ha_serving): a
 * backup answers no ARP for it and takes no datagram (ha_backup), so a
 * gateway's traffic that still reaches it (a stale ARP cache) moves
 * nothing.  A master takes only datagrams sent to its own Ethernet
 * address (ha_other_mac: a switch floods frames for the other box's
 * address before it has learnt it).  And it notes the newest appliance
 * incarnation above its own that a gateway's authenticated header names
 * (the gateway heard a newer master: the control core then takes an
 * epoch above it, control/hc_ha.c).  Standalone (no --ha) costs one
 * predictable branch per datagram.  Inline: the receive path's.
 */
#ifndef HC_HA_DP_H
#define HC_HA_DP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "hc_proto.h"
#include "hc_worker_state.h"

/* ARP request for --ip: 1 if this appliance answers it now. */
static inline int hc_ha_owns_ip(const struct hc_worker *w)
{
	return !w->dp->ha || __atomic_load_n(&w->dp->ha_serving, __ATOMIC_ACQUIRE);
}

/* A datagram whose tag was good: 0 to take it, else the drop reason. */
static inline int hc_ha_refuse(struct hc_worker *w, uint16_t port, const struct rte_mbuf *m,
			       const uint8_t *payload)
{
	const struct hc_dataplane *dp = w->dp;
	if (likely(!dp->ha))
		return 0;
	if (!__atomic_load_n(&dp->ha_serving, __ATOMIC_ACQUIRE))
		return HC_DROP_HA_BACKUP;
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (!rte_is_same_ether_addr(&eth->dst_addr, &dp->port_mac[port]))
		return HC_DROP_HA_OTHER_MAC;
	uint32_t be;
	memcpy(&be, payload + offsetof(struct hc_hdr, appliance_incarnation), sizeof(be));
	uint32_t heard = rte_be_to_cpu_32(be);
	uint32_t ours = __atomic_load_n(&dp->ha_epoch, __ATOMIC_RELAXED);
	if (unlikely(heard != 0 && hc_seq_after(heard, ours))) {
		/* an epoch far past the wall clock is none a master took: a
		 * keyed gateway's forgery, which would push ours up to 2^31
		 * on, where no gateway can tell it newer or older */
		uint32_t ceiling = __atomic_load_n(&dp->ha_heard_ceiling, __ATOMIC_RELAXED);
		if (ceiling != 0 && hc_seq_after(heard, ceiling)) {
			__atomic_store_n(&w->ha_heard_far, w->ha_heard_far + 1, __ATOMIC_RELAXED);
			return 0;
		}
		uint32_t had = __atomic_load_n(&w->ha_heard, __ATOMIC_RELAXED);
		if (had == 0 || hc_seq_after(heard, had))
			__atomic_store_n(&w->ha_heard, heard, __ATOMIC_RELAXED);
	}
	return 0;
}

/* An HA demotion not yet acted on: every gateway this worker is home to
 * forgotten, its users dropped (hc_seq_forget_all: a backup is cold).
 * Checked by the timers and before the home worker takes a datagram, so
 * that a promotion right after (before a timer) takes nothing on top of
 * the last epoch's state.  The drops' sweeps go down the same rings as
 * any later event. */
static inline void hc_ha_cold(struct hc_worker *w)
{
	uint32_t dem = __atomic_load_n(&w->dp->ha_demotions, __ATOMIC_ACQUIRE);
	if (unlikely(dem != w->ha_demotions_seen)) {
		w->ha_demotions_seen = dem;
		hc_seq_forget_all(&w->seq);
	}
}

/* The sequencer's timers (hc_seq_poll), called every few hundred
 * microseconds.  A backup is cold (hc_ha_cold) and takes no datagram:
 * once it serves again, a gateway it knows all the same (one whose
 * datagram was between two workers at the demotion) counts as heard from
 * then (the silence while nobody listened was not the gateway's). */
static inline void hc_ha_seq_poll(struct hc_worker *w, uint64_t now)
{
	if (unlikely(w->dp->ha)) {
		hc_ha_cold(w);
		int serving = __atomic_load_n(&w->dp->ha_serving, __ATOMIC_ACQUIRE);
		if (serving && !w->ha_listening)
			hc_seq_heard_all(&w->seq, now);
		w->ha_listening = serving;
	}
	uint64_t read_up_to = hc_seq_dead_scan_due(&w->seq, now) ?
		hc_dp_read_up_to(w->dp, now) : now; /* (unused unless due) */
	hc_seq_poll_read(&w->seq, now, read_up_to);
}

#endif /* HC_HA_DP_H */
