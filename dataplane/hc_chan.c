/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_chan.c - the worker's end of the control channel (hc_ctlmsg.h).
 *
 * Everything a worker says to the control core or takes from it goes
 * through here: applied changes and seat requests, PLACE requests,
 * gateways' addresses, resync requests (worker -> control, SP/SC rings,
 * the worker waits when one is full: the control core never waits for a
 * worker); seat decisions and pick requests, and frames to transmit
 * (control -> worker).  Workers own the TX queues, so the control core's
 * frames leave through them.
 */
#include <sched.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_udp.h>

#include "hc_mbuf_meta.h"
#include "hc_proto.h"
#include "hc_chan.h"
#include "hc_ring_copy.h"

#define DECISION_BURST 64
#define TX_BURST 32

void hc_chan_push_changes(void *ctx)
{
	struct hc_worker *w = ctx;
	uint32_t done = 0, total = w->members.n_changes;
	hc_chan_publish_outstanding(w);
	while (done < total) {
		done += hc_ring_put(w->to_ctl_changes, w->chg_buf + done, sizeof(struct hc_change),
				    total - done);
		if (done < total) {
			HC_RELAXED_ADD(&w->st.ctl_waits, 1);
			if (unlikely(hc_dp_state(w->dp) == HC_STOP)) {
				HC_RELAXED_ADD(&w->st.ctl_lost, total - done);
				break;
			}
			sched_yield(); /* the control core may share our CPU */
		}
	}
	w->members.n_changes = 0;
}

/* Report one change of our own making (not an applied op). */
static void push_one(struct hc_worker *w, const struct hc_change *c)
{
	w->chg_buf[0] = *c;
	w->members.n_changes = 1;
	hc_chan_push_changes(w);
}

/* The control core wants k of our users in a room to move: asked of the
 * pick scan (hc_members.h), which answers over the next loops (1).  An
 * ask beyond what the scan keeps is answered at once, with none (0; the
 * control core plans again only when every pick it asked is answered). */
static int ask_pick(struct hc_worker *w, const struct hc_decision *d)
{
	if (hc_members_pick_ask(&w->members, d->room_id, d->pick.to_room, d->pick.count,
				d->pick.cooldown_s) == 0)
		return 1;
	HC_RELAXED_ADD(&w->st.picks_refused, 1);
	push_one(w, &(struct hc_change){.user_id = 0, .from_room = d->room_id,
		.to_room = d->pick.to_room, .kind = HC_CHG_PICK_END});
	return 0;
}

/* One step of the pick scan (HC_PICK_SCAN_STEP positions, about 128 KiB
 * of slots read in order), its picks and the asks it ended told. */
static void pick_step(struct hc_worker *w)
{
	w->members.changes = w->chg_buf;
	w->members.n_changes = 0;
	unsigned n = hc_members_pick_step(&w->members, HC_PICK_SCAN_STEP);
	HC_RELAXED_ADD(&w->st.picked, n);
	hc_chan_push_changes(w);
}

unsigned hc_chan_drain_decisions(struct hc_worker *w)
{
	struct hc_decision dec[DECISION_BURST];
	if (w->from_ctl_decisions == NULL)
		return 0;
	unsigned n = rte_ring_dequeue_burst_elem(w->from_ctl_decisions, dec, sizeof(dec[0]),
						 DECISION_BURST, NULL);
	const unsigned taken = n;
	int asked = 0; /* (picks asked in this burst) */
	if (n > 1)
		hc_members_prefetch(&w->members, &dec[0].user_id, sizeof(dec[0]), n);
	for (unsigned i = 0; i < n; i++) {
		w->members.changes = w->chg_buf;
		w->members.n_changes = 0;
		if (dec[i].kind == HC_DEC_PICK) {
			asked |= ask_pick(w, &dec[i]);
			continue;
		}
		if (dec[i].kind == HC_DEC_LEASE) {
			hc_members_lease(&w->members, dec[i].room_id, dec[i].lease.seats);
			continue;
		}
		if (dec[i].kind == HC_DEC_REVOKE) {
			/* after every leased JOIN of the room (one FIFO ring) */
			uint32_t left = hc_members_revoke(&w->members, dec[i].room_id);
			push_one(w, &(struct hc_change){.user_id = left, .from_room = dec[i].room_id,
				.kind = HC_CHG_LEASE_BACK});
			continue;
		}
		hc_members_decide(&w->members, dec[i].user_id, dec[i].room_id, dec[i].admit,
				  dec[i].gateway_id);
		hc_chan_push_changes(w);
	}
	/* a balancer round's asks come in bursts of DECISION_BURST: a scan
	 * begins once a burst brought none more, so that one scan answers
	 * them all (those that come during it wait for the next) */
	if (unlikely(hc_members_picking(&w->members)) &&
	    (hc_members_scanning(&w->members) || !asked)) {
		pick_step(w);
		n++; /* (work done: not idle) */
	}
	hc_chan_publish_outstanding(w);
	if (taken != 0) /* (after every change they made was pushed) */
		__atomic_store_n(&w->decisions_done, w->decisions_done + taken, __ATOMIC_RELEASE);
	return n;
}

void hc_chan_report_conflict(struct hc_worker *w, uint16_t gw, uint32_t incarnation)
{
	struct hc_change c = {.gateway_id = gw, .kind = HC_CHG_CONFLICT, .incarnation = incarnation};
	memcpy(c.peer, &w->noted_peer, sizeof(w->noted_peer));
	if (w->to_ctl_changes != NULL)
		push_one(w, &c);
}

void hc_chan_commit_new_peer(struct hc_worker *w, uint16_t gw, int newest)
{
	const struct hc_peer *p = &w->noted_peer;
	struct hc_peer *cur = &w->gw_peer[gw];
	if (!newest && cur->ip_be != 0)
		return;
	if (hc_seq_incarnation(&w->seq, gw) == 0)
		return; /* forgotten by this very datagram (a SHUTDOWN) */
	/* the same source under another key slot is no move; another
	 * address within a second of the last move is a second source */
	int moved = cur->ip_be != 0 && (cur->ip_be != p->ip_be || cur->udp_be != p->udp_be);
	uint64_t now = rte_rdtsc();
	if (moved && w->gw_peer_moved_tsc[gw] != 0 &&
	    now - w->gw_peer_moved_tsc[gw] < rte_get_tsc_hz()) {
		HC_RELAXED_ADD(&w->seq.st.id_conflicts, 1);
		hc_chan_report_conflict(w, gw, hc_seq_incarnation(&w->seq, gw));
	}
	if (moved)
		w->gw_peer_moved_tsc[gw] = now;
	*cur = *p;
	struct hc_change c = {.gateway_id = gw, .kind = HC_CHG_PEER};
	memcpy(c.peer, p, sizeof(*p));
	push_one(w, &c);
}

/* PLACE: the control core decides; the home worker has judged the
 * datagram fresh and passes the requests on, with the address to answer.
 * (hc_proto_check_inbound matched the length to the count: at most
 * HC_MAX_PLACES records, 558 in a jumbo datagram, not HC_MAX_EVENTS.) */
void hc_chan_pass_places(struct hc_worker *w, struct rte_mbuf *m, const uint8_t *payload)
{
	struct hc_place_req req[HC_MAX_PLACES];
	struct hc_hdr h;
	memcpy(&h, payload, sizeof(h));
	uint16_t count = rte_be_to_cpu_16(h.record_count);

	for (uint16_t i = 0; i < count; i++) {
		struct hc_place pl;
		memcpy(&pl, payload + sizeof(h) + (size_t)i * sizeof(pl), sizeof(pl));
		req[i] = (struct hc_place_req){
			.user_id = rte_be_to_cpu_64(pl.user_id),
			.request_id = rte_be_to_cpu_32(pl.request_id),
			.pool_id = rte_be_to_cpu_16(pl.pool_id),
			.gateway_id = rte_be_to_cpu_16(h.gateway_id),
			.from = w->noted_peer,
		};
	}
	unsigned done = w->to_ctl_places == NULL ? 0 :
		hc_ring_put(w->to_ctl_places, req, sizeof(req[0]), count);
	HC_RELAXED_ADD(&w->st.places, done);
	HC_RELAXED_ADD(&w->st.places_dropped, count - done); /* the gateway asks again */
	rte_pktmbuf_free(m);
}

unsigned hc_chan_tx(struct hc_worker *w)
{
	struct rte_mbuf *ms[TX_BURST];
	if (w->from_ctl_tx == NULL)
		return 0;
	unsigned n = rte_ring_dequeue_burst(w->from_ctl_tx, (void **)ms, TX_BURST, NULL);
	uint64_t sent = 0;
	for (unsigned i = 0; i < n; i++) {
		uint16_t port = ms[i]->port;
		uint16_t txq = port < RTE_MAX_ETHPORTS ? w->txq[port] : HC_NO_TXQ;
		if (txq != HC_NO_TXQ && rte_eth_tx_burst(port, txq, &ms[i], 1) == 1) {
			sent++;
		} else {
			HC_RELAXED_ADD(&w->st.tx_failed, 1);
			rte_pktmbuf_free(ms[i]);
		}
	}
	HC_RELAXED_ADD(&w->st.ctl_tx, sent);
	return n;
}

void hc_chan_forgotten(void *ctx, uint16_t gw)
{
	struct hc_worker *w = ctx;
	if (w->gw_peer == NULL || w->gw_peer[gw].ip_be == 0)
		return;
	w->gw_peer[gw] = (struct hc_peer){0};
	if (w->to_ctl_changes == NULL)
		return;
	struct hc_change c = {.gateway_id = gw, .kind = HC_CHG_PEER};
	const struct hc_peer gone = {.flags = HC_PEER_F_FORGOTTEN};
	memcpy(c.peer, &gone, sizeof(gone));
	push_one(w, &c);
}

void hc_chan_ask_resync(void *ctx, uint16_t gw, uint32_t reason, uint32_t first,
			uint32_t last)
{
	struct hc_worker *w = ctx;
	HC_RELAXED_ADD(&w->st.resync_asks, 1);
	if (w->to_ctl_changes == NULL)
		return;
	push_one(w, &(struct hc_change){.resync = {.reason = reason, .first = first, .last = last},
		.gateway_id = gw, .kind = HC_CHG_RESYNC});
}

void hc_chan_ask_snapshot(void *ctx, uint16_t gw)
{
	hc_chan_ask_resync(ctx, gw, HC_RESYNC_RESTART, 0, 0);
}
