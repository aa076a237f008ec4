/*
 * hc_worker.c - the worker lcore: RX, ARP, validation, hand-off, apply.
 *
 * Runs on every worker lcore.  Per loop iteration: receive a burst on each
 * of its queues, classify each frame (hc_parse.h), answer ARP requests in
 * place, check protocol payloads (hc_proto_check.h), send each datagram to
 * its gateway's home worker or sequence it here, split in-order datagrams
 * into per-user ops for their owners, then apply its own ops in bulk.
 * Counters are accumulated per burst and published with relaxed stores.
 * QSBR: the worker is a registered liburcu reader and reports a quiescent
 * state every 16 iterations.
 */
#include "hc_worker.h"

#include <sched.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>
#include <rte_udp.h>
#include <urcu-qsbr.h>

#include "hc_proto.h"

#define PREFETCH_AHEAD 3
#define OP_DEQ_BURST 256
#define DGRAM_DEQ_BURST 32

static inline void drop(struct hc_worker *w, struct rte_mbuf *m, enum hc_drop_reason r)
{
	HC_RELAXED_ADD(&w->st.drops[r], 1);
	rte_pktmbuf_free(m);
}

/* ----------------------------------------------------------------- ARP -- */

static void answer_arp(struct hc_worker *w, uint16_t port, struct rte_mbuf *m)
{
	uint16_t txq = w->txq[port];
	if (txq == HC_NO_TXQ) {
		drop(w, m, HC_DROP_ARP_NO_TXQ);
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
	m->ol_flags = 0;
	if (rte_eth_tx_burst(port, txq, &m, 1) == 1) {
		HC_RELAXED_ADD(&w->st.arp_replies, 1);
	} else {
		HC_RELAXED_ADD(&w->st.tx_failed, 1);
		rte_pktmbuf_free(m);
	}
}

/* ------------------------------------------------------------ payloads -- */

/* Where the UDP payload sits: kept in the mbuf across the hand-off. */
static inline void stash_payload(struct rte_mbuf *m, uint16_t off)
{
	m->hash.usr = off;
}

/* The stashed payload of a validated datagram and a copy of its header. */
static inline const uint8_t *payload_hdr(const struct rte_mbuf *m, struct hc_hdr *h)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->hash.usr & 0xffff);
	memcpy(h, p, sizeof(*h));
	return p;
}

/* Seat requests in flight are exactly the pending users: publish that
 * count for the control core's stop check (relaxed store). */
static inline void publish_outstanding(struct hc_worker *w)
{
	__atomic_store_n(&w->outstanding, (uint64_t)w->members.n_pending, __ATOMIC_RELAXED);
}

/* Hand the changes gathered in chg_buf to the control core.  When its
 * ring is full we wait: the control core never waits for us. */
static void push_changes(struct hc_worker *w)
{
	uint32_t done = 0, total = w->members.n_changes;
	publish_outstanding(w);
	while (done < total) {
		done += rte_ring_enqueue_burst_elem(w->to_ctl_changes, w->chg_buf + done,
						    sizeof(struct hc_change), total - done, NULL);
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

void hc_worker_push_changes(void *ctx)
{
	push_changes(ctx);
}

/* The control core wants k of our users in a room to move: pick them
 * (O(k)) and tell it who and through which gateway. */
static void pick_users(struct hc_worker *w, const struct hc_decision *d)
{
	static __thread struct hc_pick picks[65536];
	uint32_t now = (uint32_t)(rte_rdtsc() / rte_get_tsc_hz());
	unsigned n = hc_members_pick(&w->members, d->room_id, HC_PICK_COUNT(d->user_id),
				     now, HC_PICK_COOLDOWN(d->user_id), picks);
	for (unsigned i = 0; i < n; i++)
		w->chg_buf[i] = (struct hc_change){.user_id = picks[i].user_id,
			.from_room = d->room_id, .to_room = HC_PICK_TO(d->user_id),
			.gateway_id = picks[i].gateway_id, .kind = HC_CHG_PICK};
	w->members.n_changes = n;
	HC_RELAXED_ADD(&w->st.picked, n);
	push_changes(w);
}

/* Apply the control core's answers to our seat requests. */
static unsigned drain_decisions(struct hc_worker *w)
{
	struct hc_decision dec[64];
	if (w->from_ctl_decisions == NULL)
		return 0;
	unsigned n = rte_ring_dequeue_burst_elem(w->from_ctl_decisions, dec, sizeof(dec[0]),
						 64, NULL);
	if (n > 1)
		hc_members_prefetch(&w->members, &dec[0].user_id, sizeof(dec[0]), n);
	for (unsigned i = 0; i < n; i++) {
		w->members.changes = w->chg_buf;
		w->members.n_changes = 0;
		if (dec[i].admitted & HC_DEC_PICK) {
			pick_users(w, &dec[i]);
			continue;
		}
		hc_members_decide(&w->members, dec[i].user_id, dec[i].room_id,
				  (int)(dec[i].admitted & 1), (uint16_t)(dec[i].admitted >> 16));
		push_changes(w);
	}
	publish_outstanding(w);
	return n;
}

/*
 * Apply ops to our users and report what changed (or asks for a seat) to
 * the control core.
 */
static void apply_ops(struct hc_worker *w, const struct hc_op *ops, unsigned n)
{
	if (w->to_ctl_changes == NULL) {
		hc_members_apply(&w->members, ops, n);
		return;
	}
	while (n > 0) {
		unsigned k = n < HC_LOCAL_OPS ? n : HC_LOCAL_OPS;
		/* room for ops that may ask for a seat or wait for a decision */
		while ((w->members.n_deferred + k + HC_PENDING_MAX > HC_MEMBERS_DEFERRED ||
			w->members.n_pending + k > HC_PENDING_MAX) &&
		       hc_dp_state(w->dp) != HC_STOP) {
			if (drain_decisions(w) == 0)
				sched_yield();
		}
		if (unlikely(w->members.n_deferred + k + HC_PENDING_MAX > HC_MEMBERS_DEFERRED ||
			     w->members.n_pending + k > HC_PENDING_MAX))
			return; /* stopping: nothing more can be decided */
		w->members.changes = w->chg_buf;
		w->members.n_changes = 0;
		hc_members_apply(&w->members, ops, k);
		push_changes(w);
		ops += k;
		n -= k;
	}
}

/* Apply the ops gathered for our own users. */
static inline void apply_local(struct hc_worker *w)
{
	if (w->n_local > 0) {
		apply_ops(w, w->local, w->n_local);
		w->n_local = 0;
	}
}

/* Apply whatever other workers handed us; returns ops applied. */
static unsigned drain_ops(struct hc_worker *w)
{
	struct hc_op ops[OP_DEQ_BURST];
	unsigned total = 0;

	for (unsigned s = 0; s < w->ho.n; s++) {
		struct rte_ring *r = w->ho.op_in[s];
		if (r == NULL)
			continue;
		unsigned n = rte_ring_dequeue_burst_elem(r, ops, sizeof(struct hc_op),
							 OP_DEQ_BURST, NULL);
		if (n > 0) {
			apply_ops(w, ops, n);
			total += n;
		}
	}
	return total;
}

static inline void read_op(const uint8_t *rec, uint16_t gw, struct hc_op *op)
{
	struct hc_event ev;
	memcpy(&ev, rec, sizeof(ev));
	op->user_id = rte_be_to_cpu_64(ev.user_id);
	op->room_id = rte_be_to_cpu_32(ev.room_id);
	op->op = ev.op;
	op->gateway_id = gw;
	op->pool_id = rte_be_to_cpu_16(ev.pool_id);
}

/*
 * Make room for `need` ops towards worker d.  Back-pressure: keep
 * consuming meanwhile, so no cycle of full rings can block every worker.
 * Returns -1 only when stopping.
 */
static int wait_handoff_room(struct hc_worker *w, unsigned d, uint32_t need)
{
	if (likely(hc_handoff_room(&w->ho, d, need)))
		return 0;
	HC_RELAXED_ADD(&w->st.handoff_waits, 1);
	while (!hc_handoff_room(&w->ho, d, need)) {
		apply_local(w);
		if (drain_ops(w) + drain_decisions(w) == 0 && w->yield_idle)
			sched_yield(); /* the worker we wait for may share our CPU */
		if (unlikely(hc_dp_state(w->dp) == HC_STOP))
			return -1;
	}
	return 0;
}

/*
 * An EVENTS datagram is next in its gateway's order.  Split it into ops
 * for their owners.  Whole or nothing: room on every destination ring is
 * secured before the first op is staged.
 */
static void deliver_events(struct hc_worker *w, struct rte_mbuf *m)
{
	struct hc_hdr h;
	const uint8_t *p = payload_hdr(m, &h);
	uint16_t count = rte_be_to_cpu_16(h.record_count);
	uint16_t gw = rte_be_to_cpu_16(h.gateway_id);
	const uint8_t *rec = p + sizeof(h);
	unsigned n = w->ho.n;

	if (n == 1) {
		if (w->n_local + count > HC_LOCAL_OPS)
			apply_local(w);
		for (uint16_t i = 0; i < count; i++)
			read_op(rec + (size_t)i * sizeof(struct hc_event), gw,
				&w->local[w->n_local++]);
	} else {
		struct hc_op ops[HC_MAX_EVENTS];
		uint8_t owner[HC_MAX_EVENTS];
		uint32_t need[HC_MAX_WORKERS] = {0};

		for (uint16_t i = 0; i < count; i++) {
			read_op(rec + (size_t)i * sizeof(struct hc_event), gw, &ops[i]);
			owner[i] = (uint8_t)hc_owner_of(ops[i].user_id, n);
			need[owner[i]]++;
		}
		for (unsigned d = 0; d < n; d++) {
			if (d == w->id || need[d] == 0)
				continue;
			if (wait_handoff_room(w, d, need[d]) != 0) {
				drop(w, m, HC_DROP_HANDOFF_FULL);
				return;
			}
		}
		if (w->n_local + need[w->id] > HC_LOCAL_OPS)
			apply_local(w);
		uint64_t handed = 0;
		for (uint16_t i = 0; i < count; i++) {
			if (owner[i] == w->id) {
				w->local[w->n_local++] = ops[i];
			} else {
				hc_handoff_stage(&w->ho, owner[i], &ops[i]);
				handed++;
			}
		}
		HC_RELAXED_ADD(&w->st.handoff_ops, handed);
	}
	HC_RELAXED_ADD(&w->st.event_datagrams, 1);
	HC_RELAXED_ADD(&w->st.events, count);
	rte_pktmbuf_free(m);
}

/* Sequencer hook: the next datagram of a gateway, in order. */
void hc_worker_deliver(void *ctx, struct rte_mbuf *m)
{
	struct hc_worker *w = ctx;
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->hash.usr & 0xffff);
	if (likely(p[offsetof(struct hc_hdr, type)] == HC_MSG_EVENTS)) {
		deliver_events(w, m);
		return;
	}
	struct hc_hdr h;
	memcpy(&h, p, sizeof(h));
	hc_snapshot_chunk(w, rte_be_to_cpu_16(h.gateway_id), p);
	rte_pktmbuf_free(m);
}

/* Sequencer hook: ask gateway gw for a resync; the control core sends it. */
void hc_worker_ask_resync(void *ctx, uint16_t gw, uint32_t reason, uint32_t first,
			  uint32_t last)
{
	struct hc_worker *w = ctx;
	HC_RELAXED_ADD(&w->st.resync_asks, 1);
	if (w->to_ctl_changes == NULL)
		return;
	w->chg_buf[0] = (struct hc_change){.user_id = last, .from_room = reason,
		.to_room = first, .gateway_id = gw, .kind = HC_CHG_RESYNC};
	w->members.n_changes = 1;
	push_changes(w);
}

int hc_worker_emit_op(struct hc_worker *w, unsigned d, const struct hc_op *op)
{
	if (d == w->id) {
		if (w->n_local + 1 > HC_LOCAL_OPS)
			apply_local(w);
		w->local[w->n_local++] = *op;
		return 0;
	}
	if (wait_handoff_room(w, d, 1) != 0)
		return -1;
	hc_handoff_stage(&w->ho, d, op);
	HC_RELAXED_ADD(&w->st.handoff_ops, 1);
	return 0;
}

/* The home worker tells the control core where its gateways are, when
 * that changes (rarely): the control core sends them directives. */
static void learn_peer(struct hc_worker *w, uint16_t gw, const struct rte_mbuf *m)
{
	if (w->gw_peer == NULL)
		return;
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *,
		(m->hash.usr & 0xffff) - sizeof(struct rte_udp_hdr));
	struct hc_peer p = {.ip_be = ip->src_addr, .udp_be = udp->src_port, .port_id = m->port};
	memcpy(p.mac, &eth->src_addr, sizeof(p.mac));
	if (likely(memcmp(&p, &w->gw_peer[gw], sizeof(p)) == 0))
		return;
	w->gw_peer[gw] = p;
	struct hc_change c = {.gateway_id = gw, .kind = HC_CHG_PEER};
	memcpy(c.peer, &p, sizeof(p));
	w->chg_buf[0] = c;
	w->members.n_changes = 1;
	push_changes(w);
}

/* A validated datagram whose gateway's home is this worker. */
static void process_home(struct hc_worker *w, struct rte_mbuf *m, uint64_t now)
{
	struct hc_hdr h;
	const uint8_t *p = payload_hdr(m, &h);
	uint16_t gw = rte_be_to_cpu_16(h.gateway_id);
	uint32_t inc = rte_be_to_cpu_32(h.gateway_incarnation);

	learn_peer(w, gw, m);
	if (likely(h.type == HC_MSG_EVENTS)) {
		hc_seq_offer(&w->seq, m, gw, inc, rte_be_to_cpu_32(h.sequence), 0, now);
		return;
	}
	if (h.type == HC_MSG_SNAPSHOT) {
		struct hc_snapshot_prefix pf;
		memcpy(&pf, p + sizeof(h), sizeof(pf));
		hc_seq_offer(&w->seq, m, gw, inc, rte_be_to_cpu_32(h.sequence),
			     pf.chunk_index == 0, now);
		return;
	}
	/* HEARTBEAT: the only other type the check lets through to here */
	struct hc_heartbeat hb;
	memcpy(&hb, p + sizeof(h), sizeof(hb));
	hc_seq_heartbeat(&w->seq, gw, inc, rte_be_to_cpu_32(hb.last_sequence),
			 (rte_be_to_cpu_32(hb.hb_flags) & HC_HB_F_SHUTDOWN) != 0, now);
	HC_RELAXED_ADD(&w->st.heartbeats, 1);
	rte_pktmbuf_free(m);
}

/* ----------------------------------------------------- control core -- */

/* PLACE: the control core decides; no ordering is needed, so whichever
 * worker received it passes the requests on, with the address to answer. */
static void pass_places(struct hc_worker *w, uint16_t port, struct rte_mbuf *m,
			const uint8_t *payload, uint16_t payload_off)
{
	struct hc_place_req req[HC_MAX_EVENTS];
	struct hc_hdr h;
	memcpy(&h, payload, sizeof(h));
	uint16_t count = rte_be_to_cpu_16(h.record_count);
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *,
								 payload_off - sizeof(struct rte_udp_hdr));
	struct hc_peer from = {.ip_be = ip->src_addr, .udp_be = udp->src_port, .port_id = port};
	memcpy(from.mac, &eth->src_addr, sizeof(from.mac));

	for (uint16_t i = 0; i < count; i++) {
		struct hc_place pl;
		memcpy(&pl, payload + sizeof(h) + (size_t)i * sizeof(pl), sizeof(pl));
		req[i] = (struct hc_place_req){
			.user_id = rte_be_to_cpu_64(pl.user_id),
			.request_id = rte_be_to_cpu_32(pl.request_id),
			.pool_id = rte_be_to_cpu_16(pl.pool_id),
			.gateway_id = rte_be_to_cpu_16(h.gateway_id),
			.from = from,
		};
	}
	unsigned done = w->to_ctl_places == NULL ? 0 :
		rte_ring_enqueue_burst_elem(w->to_ctl_places, req, sizeof(req[0]), count, NULL);
	HC_RELAXED_ADD(&w->st.places, done);
	HC_RELAXED_ADD(&w->st.places_dropped, count - done); /* the gateway asks again */
	rte_pktmbuf_free(m);
}

/* Send what the control core built, on our own TX queues. */
static unsigned tx_for_control(struct hc_worker *w)
{
	struct rte_mbuf *ms[32];
	if (w->from_ctl_tx == NULL)
		return 0;
	unsigned n = rte_ring_dequeue_burst(w->from_ctl_tx, (void **)ms, 32, NULL);
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

/* --------------------------------------------------------------- RX -- */

/*
 * The home worker's datagram ring is full: back-pressure instead of loss.
 * Keep doing our own share (datagrams handed to us, ops handed to us) until
 * the ring takes m.  Every wait loop drains the rings others wait on, so no
 * cycle of full rings can stop all workers; RX queues fill meanwhile, and a
 * NIC then counts its own drops (imissed).
 */
static void handoff_dgram_wait(struct hc_worker *w, unsigned home,
			       struct rte_mbuf *m, uint64_t now)
{
	HC_RELAXED_ADD(&w->st.handoff_waits, 1);
	do {
		if (unlikely(hc_dp_state(w->dp) == HC_STOP)) {
			drop(w, m, HC_DROP_HANDOFF_FULL);
			return;
		}
		if (hc_worker_poll_handoff(w, now) == 0 && w->yield_idle)
			sched_yield(); /* the worker we wait for may share our CPU */
		apply_local(w);
		hc_handoff_flush(&w->ho);
	} while (rte_ring_enqueue(w->ho.dgram_out[home], m) != 0);
	HC_RELAXED_ADD(&w->st.handoff_dgrams, 1);
}

void hc_worker_rx(struct hc_worker *w, uint16_t port, struct rte_mbuf **pkts,
		  unsigned n, uint64_t now)
{
	uint64_t bytes = 0, valid = 0, handed = 0;
	unsigned nw = w->ho.n;

	for (unsigned i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct hc_parsed pr;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		bytes += rte_pktmbuf_pkt_len(m);
		hc_parse_frame(m, &w->parse, &pr);
		if (unlikely(pr.kind != HC_FRAME_DATAGRAM)) {
			if (pr.kind == HC_FRAME_ARP_REQUEST)
				answer_arp(w, port, m);
			else
				drop(w, m, (enum hc_drop_reason)pr.reason);
			continue;
		}
		const uint8_t *payload = rte_pktmbuf_mtod_offset(m, const uint8_t *,
								 pr.payload_off);
		enum hc_proto_verdict v = hc_proto_check_inbound(payload, pr.payload_len,
								 w->max_rooms);
		if (unlikely(v != HC_PV_OK)) {
			drop(w, m, hc_drop_from_verdict(v));
			continue;
		}
		uint16_t gw_be;
		memcpy(&gw_be, payload + offsetof(struct hc_hdr, gateway_id), sizeof(gw_be));
		uint16_t gw = rte_be_to_cpu_16(gw_be);
		if (unlikely(gw >= w->max_gateways)) {
			drop(w, m, HC_DROP_GATEWAY_RANGE);
			continue;
		}
		valid++;
		if (payload[offsetof(struct hc_hdr, type)] == HC_MSG_PLACE) {
			pass_places(w, port, m, payload, pr.payload_off);
			continue;
		}
		stash_payload(m, pr.payload_off);
		m->port = port; /* where its gateway is, for answers (learn_peer) */
		unsigned home = gw % nw;
		if (home == w->id) {
			process_home(w, m, now);
		} else if (likely(rte_ring_enqueue(w->ho.dgram_out[home], m) == 0)) {
			handed++;
		} else {
			handoff_dgram_wait(w, home, m, now);
		}
	}
	HC_RELAXED_ADD(&w->st.rx_frames, n);
	HC_RELAXED_ADD(&w->st.rx_bytes, bytes);
	HC_RELAXED_ADD(&w->st.datagrams, valid);
	HC_RELAXED_ADD(&w->st.handoff_dgrams, handed);
}

unsigned hc_worker_poll_handoff(struct hc_worker *w, uint64_t now)
{
	struct rte_mbuf *ms[DGRAM_DEQ_BURST];
	unsigned total = 0;

	for (unsigned s = 0; s < w->ho.n; s++) {
		struct rte_ring *r = w->ho.dgram_in[s];
		if (r == NULL)
			continue;
		unsigned k = rte_ring_dequeue_burst(r, (void **)ms, DGRAM_DEQ_BURST, NULL);
		for (unsigned i = 0; i < k; i++)
			process_home(w, ms[i], now);
		total += k;
	}
	return total + drain_ops(w) + drain_decisions(w);
}

void hc_worker_commit(struct hc_worker *w)
{
	apply_local(w);
	hc_handoff_flush(&w->ho);
}

/* ------------------------------------------------------------- loop -- */

static int all_rx_stopped(const struct hc_dataplane *dp)
{
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (!__atomic_load_n(&dp->workers[i]->rx_stopped, __ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

static int dgram_rings_empty(const struct hc_worker *w)
{
	for (unsigned s = 0; s < w->ho.n; s++)
		if (w->ho.dgram_in[s] != NULL && !rte_ring_empty(w->ho.dgram_in[s]))
			return 0;
	return 1;
}

int hc_worker_main(void *arg)
{
	struct hc_worker *w = arg;
	struct hc_dataplane *dp = w->dp;
	struct rte_mbuf *pkts[HC_MAX_BURST];
	uint64_t iter = 0;

	rcu_register_thread();
	while (likely(hc_dp_state(dp) == HC_RUN)) {
		uint64_t t0 = rte_rdtsc();
		unsigned work = 0;

		/* back-pressure: while many seat requests await the control
		 * core, take no new frames (the NIC queues, then counts) */
		unsigned n_rxq = likely(w->members.n_pending < HC_MAX_OUTSTANDING) ? w->n_rxq : 0;
		for (unsigned q = 0; q < n_rxq; q++) {
			uint16_t n = rte_eth_rx_burst(w->rxq[q].port, w->rxq[q].queue,
						      pkts, (uint16_t)w->burst);
			if (n > 0) {
				hc_worker_rx(w, w->rxq[q].port, pkts, n, t0);
				work += n;
			}
		}
		if (work > 0)
			__atomic_store_n(&w->dry_polls, 0, __ATOMIC_RELAXED);
		else if (n_rxq == w->n_rxq && n_rxq > 0)
			__atomic_store_n(&w->dry_polls, w->dry_polls + 1, __ATOMIC_RELAXED);
		work += hc_worker_poll_handoff(w, t0);
		hc_worker_commit(w);
		work += tx_for_control(w);

		HC_RELAXED_ADD(&w->st.loops, 1);
		if (unlikely(work == 0 && (n_rxq == 0 || w->yield_idle))) {
			/* idle, and the control core may need our CPU: it shares
			 * it with us, or we wait for its decisions */
			if (n_rxq == 0)
				HC_RELAXED_ADD(&w->st.throttled, 1);
			sched_yield();
		}
		if (work > 0) {
			HC_RELAXED_ADD(&w->st.busy_loops, 1);
			HC_RELAXED_ADD(&w->st.busy_tsc, rte_rdtsc() - t0);
		}
		if ((++iter & 15) == 0)
			rcu_quiescent_state();
		if ((iter & 255) == 0)
			hc_seq_poll(&w->seq, t0);
	}

	/* DRAIN: no more RX; finish everything in flight */
	__atomic_store_n(&w->rx_stopped, 1, __ATOMIC_RELEASE);
	while (hc_dp_state(dp) == HC_DRAIN) {
		hc_worker_poll_handoff(w, rte_rdtsc());
		hc_worker_commit(w);
		tx_for_control(w);
		rcu_quiescent_state();
		if (!w->flushed && all_rx_stopped(dp) && dgram_rings_empty(w)) {
			hc_seq_flush_all(&w->seq);
			hc_worker_commit(w);
			if (hc_handoff_staged(&w->ho) == 0)
				__atomic_store_n(&w->flushed, 1, __ATOMIC_RELEASE);
		}
	}
	drain_ops(w);
	apply_local(w);
	drain_decisions(w);
	rcu_unregister_thread();
	return 0;
}
