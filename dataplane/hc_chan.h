/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_chan.h - the worker's end of the control channel (hc_chan.c).
 */
#ifndef HC_CHAN_H
#define HC_CHAN_H

#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "hc_mbuf_meta.h"
#include "hc_proto.h"
#include "hc_worker_state.h"

/* Hand the changes gathered in chg_buf (members.n_changes of them) to the
 * control core; waits while its ring is full.  Also the members' hook for
 * a long sweep (changes_full; ctx is the worker). */
void hc_chan_push_changes(void *ctx);

/* Apply the control core's answers and pick requests; returns how many. */
unsigned hc_chan_drain_decisions(struct hc_worker *w);

/* PLACE datagram m (validated, fresh; payload at payload): pass its
 * requests to the control core with the address noted for it
 * (hc_chan_note_peer); consumes m. */
void hc_chan_pass_places(struct hc_worker *w, struct rte_mbuf *m, const uint8_t *payload);

/* Where datagram m came from: where to answer, and in which key slot,
 * written into *p field by field (hc_chan_note_peer says why: a struct
 * returned and copied still went through the stack, and half of
 * home_input's samples waited on that copy's load). */
static inline void hc_chan_peer_into(struct hc_peer *p, const struct rte_mbuf *m, uint16_t port,
				     uint16_t payload_off)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *,
		payload_off - sizeof(struct rte_udp_hdr));
	const uint8_t *payload = rte_pktmbuf_mtod_offset(m, const uint8_t *, payload_off);
	uint16_t flags;
	memcpy(&flags, payload + offsetof(struct hc_hdr, flags), sizeof(flags));
	p->ip_be = ip->src_addr;
	p->udp_be = udp->src_port;
	p->port_id = port;
	memcpy(p->mac, &eth->src_addr, sizeof(p->mac));
	p->key_slot = (rte_be_to_cpu_16(flags) & HC_HDR_F_KEY_SLOT) ? 1 : 0;
}

/*
 * A gateway's address: note where datagram m came from (and the key slot
 * that sealed it) before the sequencer judges it; commit it as home
 * gateway gw's address only if the datagram was fresh, and, once an
 * address is known, only if it was the newest the gateway sent (a replay
 * of an unseen older one moves nothing); tells the control core when it
 * changed.  An address that flips again within a second of
 * its last change is two live sources under one id: reported as a
 * conflict.  Report a conflict with the noted address as the second
 * source (the sequencer saw an older incarnation long after a takeover).
 *
 * Noted field by field, and compared field by field: a peer built on the
 * stack and copied in 16 bytes, or compared with a 16-byte load, reads
 * across several smaller stores, which the CPU cannot forward: the load
 * waits until every store before it has reached the cache.  The note and
 * the compare are inline (once a datagram); a new address is
 * hc_chan_commit_new_peer's.
 */
static inline void hc_chan_note_peer(struct hc_worker *w, const struct rte_mbuf *m)
{
	hc_chan_peer_into(&w->noted_peer, m, m->port, hc_mbuf_payload_off(m));
}

/* hc_chan_commit_peer when the noted address is not gw's (slow path). */
void hc_chan_commit_new_peer(struct hc_worker *w, uint16_t gw, int newest);

static inline void hc_chan_commit_peer(struct hc_worker *w, uint16_t gw, int newest)
{
	if (w->gw_peer == NULL || likely(hc_peer_same(&w->noted_peer, &w->gw_peer[gw])))
		return;
	hc_chan_commit_new_peer(w, gw, newest);
}
void hc_chan_report_conflict(struct hc_worker *w, uint16_t gw, uint32_t incarnation);

/* Transmit frames the control core built; returns how many were taken. */
unsigned hc_chan_tx(struct hc_worker *w);

/* Sequencer hook: gateway gw is forgotten.  Our copy of its address goes
 * (its next datagram taken passes its address on, even an unchanged one),
 * and the control core hears so (HC_CHG_PEER, HC_PEER_F_FORGOTTEN). */
void hc_chan_forgotten(void *ctx, uint16_t gw);

/* Sequencer hook: ask gateway gw for a resync (the control core sends it). */
void hc_chan_ask_resync(void *ctx, uint16_t gw, uint32_t reason, uint32_t first,
			uint32_t last);

/* Snapshot hook: ask gateway gw for a new snapshot. */
void hc_chan_ask_snapshot(void *ctx, uint16_t gw);


/* Seat requests in flight are exactly the pending users, picks not
 * answered yet the asks kept: publish those counts for the control
 * core's stop check (relaxed stores; only when they changed, so that a
 * loop with nothing decided leaves the line the control core reads
 * alone). */
static inline void hc_chan_publish_outstanding(struct hc_worker *w)
{
	HC_RELAXED_PUBLISH(&w->outstanding, (uint64_t)w->members.pend.n_pending);
	HC_RELAXED_PUBLISH(&w->picks_open, (uint64_t)w->members.n_asks);
}

#endif /* HC_CHAN_H */
