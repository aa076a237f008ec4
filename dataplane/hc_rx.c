/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_rx.c - one RX burst, and the home worker's input.
 *
 * Per frame of a burst: gather it into one mbuf if it came in several
 * segments, classify it (hc_parse.h), answer an ARP request
 * (hc_arp.c) or an ICMP echo request (hc_icmp.c), check the protocol payload (hc_proto_check.h), check its tag
 * under its gateway's key (hc_auth.h; with keys installed, before anything
 * else looks at it), refuse it on an HA backup (hc_ha_dp.h), then route the datagram to its gateway's home worker
 * (gateway % workers).  The home worker's sequencer judges it: EVENTS and
 * SNAPSHOT by sequence, HEARTBEAT and PLACE by their control counter's
 * replay window.  Only a fresh datagram moves the gateway's address and
 * is acted on (PLACE requests then go on to the control core).  An older
 * incarnation long after a newer one took over is an id conflict, reported
 * to the control core with the second source's address.  Datagrams for
 * another home travel the hand-off ring, with back-pressure instead of
 * loss when it is full.  Every frame not applied is counted under one
 * drop reason.  Counters are summed per burst.
 */
#include <sched.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "hc_mbuf_meta.h"
#include "hc_auth.h"
#include "hc_proto.h"
#include "hc_arp.h"
#include "hc_icmp.h"
#include "hc_ha_dp.h"
#include "hc_chan.h"
#include "hc_ops.h"
#include "hc_rx.h"

/* A frame's lines are asked for this many frames ahead (its data and
 * its mbuf's second line), its mbuf's first line twice as far: the data's
 * address is read from it. */
#define PREFETCH_AHEAD 4

/* A validated, authenticated datagram whose gateway's home is this worker. */
static void home_input(struct hc_worker *w, struct rte_mbuf *m, uint64_t now)
{
	struct hc_hdr h;
	const uint8_t *p = hc_mbuf_payload(m);
	memcpy(&h, p, sizeof(h));
	uint16_t gw = rte_be_to_cpu_16(h.gateway_id);
	uint32_t inc = rte_be_to_cpu_32(h.gateway_incarnation);
	uint32_t seq = rte_be_to_cpu_32(h.sequence);
	enum hc_seq_verdict v;

	hc_ha_cold(w); /* (one load: a demotion acted on before anything) */
	hc_chan_note_peer(w, m); /* its source, kept until judged */
	if (likely(h.type == HC_MSG_EVENTS)) {
		v = hc_seq_offer(&w->seq, m, gw, inc, seq, 0, now);
	} else if (h.type == HC_MSG_SNAPSHOT) {
		struct hc_snapshot_prefix pf;
		memcpy(&pf, p + sizeof(h), sizeof(pf));
		uint32_t index = rte_be_to_cpu_32(pf.chunk_index);
		unsigned flags = (index == 0 ? HC_SEQ_RESET_POINT : 0) |
				 (index + 1 == rte_be_to_cpu_32(pf.chunk_count) ?
				  HC_SEQ_ENDS_SNAPSHOT : 0);
		/* a snapshot claiming more members than may be staged is
		 * refused where it is delivered (hc_snapshots_chunk): it
		 * restates nothing, so it does not jump a gap in the window
		 * (the missing datagrams would be discarded, and nothing
		 * would restate them), only one nothing else could (far
		 * ahead: HC_SEQ_RESET_IF_BEYOND), and never sweeps */
		if (unlikely(!hc_snapshots_claim_fits(&w->snaps, rte_be_to_cpu_32(pf.total_users))))
			flags = index == 0 ? HC_SEQ_RESET_IF_BEYOND : 0;
		v = hc_seq_offer(&w->seq, m, gw, inc, seq, flags, now);
	} else if (h.type == HC_MSG_PLACE) {
		v = hc_seq_control(&w->seq, gw, inc, seq, now);
		if (v >= HC_SEQ_FRESH) {
			hc_chan_commit_peer(w, gw, v == HC_SEQ_NEWEST);
			hc_chan_pass_places(w, m, p);
			return;
		}
		rte_pktmbuf_free(m);
	} else { /* HEARTBEAT: the only other type the check lets through */
		struct hc_heartbeat hb;
		memcpy(&hb, p + sizeof(h), sizeof(hb));
		v = hc_seq_heartbeat(&w->seq, gw, inc, seq, rte_be_to_cpu_32(hb.last_sequence),
				     (rte_be_to_cpu_32(hb.hb_flags) & HC_HB_F_SHUTDOWN) != 0, now);
		if (v >= HC_SEQ_FRESH)
			HC_RELAXED_ADD(&w->st.heartbeats, 1);
		rte_pktmbuf_free(m);
	}
	if (likely(v >= HC_SEQ_FRESH))
		hc_chan_commit_peer(w, gw, v == HC_SEQ_NEWEST);
	else if (unlikely(v == HC_SEQ_CONFLICT))
		hc_chan_report_conflict(w, gw, inc);
}

/* Why an authenticated check failed (slow path). */
static enum hc_drop_reason auth_drop_reason(const uint8_t *payload,
					    const struct hc_auth_gw_keys *k)
{
	uint16_t flags;
	memcpy(&flags, payload + offsetof(struct hc_hdr, flags), sizeof(flags));
	flags = rte_be_to_cpu_16(flags);
	if (!(flags & HC_HDR_F_AUTH))
		return HC_DROP_AUTH_MISSING;
	if (k == NULL || !k->have[(flags & HC_HDR_F_KEY_SLOT) ? 1 : 0])
		return HC_DROP_AUTH_NO_KEY;
	return HC_DROP_AUTH_BAD_TAG;
}

/*
 * The home worker's datagram ring is full: back-pressure instead of loss.
 * Keep doing our own share (datagrams handed to us, ops handed to us) until
 * the ring takes m.  Every wait loop drains the rings others wait on, so no
 * cycle of full rings can stop all workers; RX queues fill meanwhile, and a
 * NIC then counts its own drops (imissed).
 */
static void handoff_dgram_wait(struct hc_worker *w, unsigned home, struct rte_mbuf *m)
{
	HC_RELAXED_ADD(&w->st.handoff_waits, 1);
	do {
		if (unlikely(hc_dp_state(w->dp) == HC_STOP)) {
			hc_worker_drop(w, m, HC_DROP_HANDOFF_FULL);
			return;
		}
		/* (the clock read again: what is handed to us now is heard
		 * now, not when the wait began, however long it lasts) */
		if (hc_rx_poll_handoff(w, rte_rdtsc()) == 0 && w->yield_idle)
			sched_yield(); /* the worker we wait for may share our CPU */
		hc_ops_commit(w);
	} while (rte_ring_enqueue(w->ho.dgram_out[home], m) != 0);
	HC_RELAXED_ADD(&w->st.handoff_dgrams, 1);
}

/*
 * A frame in several segments (net_pcap, and NICs with scatter, chain a
 * frame longer than one mbuf): copied into one mbuf of the gather pool,
 * which holds HC_MAX_FRAME bytes, so that everything after reads one
 * contiguous frame and the 2 KiB packet pool serves every other frame.
 * A longer frame carries no allowed datagram (frame_too_long).  With no
 * gather mbuf free (they wait in hand-off rings and sequencer windows):
 * back-pressure instead of loss, as for a full hand-off ring, doing our
 * own share meanwhile, our transmissions and our sequencers' timers too
 * (a window held for a gap only a resend can fill gives the gap up in
 * time).  Returns the frame to go on with, or NULL when m was dropped
 * (counted).  Slow path; one copy of the frame.
 */
static __rte_noinline struct rte_mbuf *gather(struct hc_worker *w, struct rte_mbuf *m)
{
	struct rte_mempool *gp = w->dp->gather_pool;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct rte_mbuf *g;

	if (len > HC_MAX_FRAME) {
		hc_worker_drop(w, m, HC_DROP_FRAME_TOO_LONG);
		return NULL;
	}
	if (unlikely(gp == NULL)) { /* a harness without ports */
		hc_worker_drop(w, m, HC_DROP_GATHER_NOMBUF);
		return NULL;
	}
	g = rte_pktmbuf_alloc(gp);
	if (unlikely(g == NULL)) {
		HC_RELAXED_ADD(&w->st.gather_waits, 1);
		for (unsigned round = 1; (g = rte_pktmbuf_alloc(gp)) == NULL; round++) {
			if (unlikely(hc_dp_state(w->dp) == HC_STOP)) {
				hc_worker_drop(w, m, HC_DROP_GATHER_NOMBUF);
				return NULL;
			}
			/* (heard now, not when the wait began) */
			if (hc_rx_poll_handoff(w, rte_rdtsc()) == 0 && w->yield_idle)
				sched_yield();
			hc_ops_commit(w);
			hc_chan_tx(w);
			if ((round & 255) == 0)
				hc_ha_seq_poll(w, rte_rdtsc());
		}
	}
	uint8_t *dst = (uint8_t *)rte_pktmbuf_append(g, (uint16_t)len);
	const void *src = rte_pktmbuf_read(m, 0, len, dst); /* copies across segments */
	if (src != dst)
		rte_memcpy(dst, src, len);
	g->port = m->port;
	g->ol_flags = m->ol_flags & (RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
	rte_pktmbuf_free(m);
	HC_RELAXED_ADD(&w->st.rx_gathered, 1);
	return g;
}

/*
 * A datagram the parser found (payload at pr): check the payload, its
 * gateway id, its tag; then its home worker takes it.  Returns 1 when it
 * was taken, 0 when it was dropped (counted).
 */
static __rte_always_inline int take_datagram(struct hc_worker *w, uint16_t port,
					     struct rte_mbuf *m, const struct hc_parsed *pr,
					     int auth, unsigned nw, uint64_t now, uint64_t *handed)
{
	const uint8_t *payload = rte_pktmbuf_mtod_offset(m, const uint8_t *, pr->payload_off);
	enum hc_proto_verdict v = hc_proto_check_inbound(payload, pr->payload_len,
							 w->max_rooms);
	if (unlikely(v != HC_PV_OK)) {
		hc_worker_drop(w, m, hc_drop_from_verdict(v));
		return 0;
	}
	uint16_t gw_be;
	memcpy(&gw_be, payload + offsetof(struct hc_hdr, gateway_id), sizeof(gw_be));
	uint16_t gw = rte_be_to_cpu_16(gw_be);
	if (unlikely(gw >= w->max_gateways)) {
		hc_worker_drop(w, m, HC_DROP_GATEWAY_RANGE);
		return 0;
	}
	if (auth) {
		const struct hc_auth_gw_keys *k = hc_dp_keys_of(w->dp, gw);
		if (unlikely(hc_auth_verify((void *)(uintptr_t)payload, pr->payload_len, k) < 0)) {
			hc_worker_drop(w, m, auth_drop_reason(payload, k));
			return 0;
		}
	}
	int ha = hc_ha_refuse(w, port, m, payload);
	if (unlikely(ha != 0)) {
		hc_worker_drop(w, m, (enum hc_drop_reason)ha);
		return 0;
	}
	hc_mbuf_set_payload_off(m, pr->payload_off);
	m->port = port; /* where its gateway is, for answers */
	unsigned home = gw % nw;
	if (home == w->id) {
		home_input(w, m, now);
	} else if (likely(rte_ring_enqueue(w->ho.dgram_out[home], m) == 0)) {
		(*handed)++;
	} else {
		handoff_dgram_wait(w, home, m);
	}
	return 1;
}

/*
 * A frame that is not a plain datagram for us: an ARP request answered,
 * ICMP to our address (an echo request answered, hc_icmp.c), a
 * datagram whose UDP checksum was left to offload, or a drop.  Such a
 * datagram is taken only when a tag vouches for it (keys installed: the
 * tag covers every payload byte, which the checksum would have); with
 * --no-auth nothing does, and it is dropped (udp_csum_partial).  A frame
 * exactly as long as its port carries whose IPv4 length says longer was
 * cut short by the port (af_packet's framesz): frame_cut, not
 * ip_bad_length.  Counts what it takes itself (the burst's sums stay in
 * registers).  Slow path.
 */
static __rte_noinline void rx_unusual(struct hc_worker *w, uint16_t port, struct rte_mbuf *m,
				      struct hc_parsed pr, int auth, uint64_t now)
{
	if (pr.kind == HC_FRAME_ARP_REQUEST) {
		if (unlikely(hc_dp_gathered(w->dp, m)))
			hc_worker_drop(w, m, HC_DROP_ARP_IGNORED); /* (hc_dp_gathered) */
		else if (hc_ha_owns_ip(w))
			hc_arp_answer(w, port, m);
		else
			hc_worker_drop(w, m, HC_DROP_HA_BACKUP);
		return;
	}
	if (pr.kind == HC_FRAME_CSUM_PARTIAL) {
		uint64_t handed = 0;
		if (!auth) {
			hc_worker_drop(w, m, HC_DROP_UDP_CSUM_PARTIAL);
		} else if (take_datagram(w, port, m, &pr, auth, w->ho.n, now, &handed)) {
			HC_RELAXED_ADD(&w->st.udp_csum_partial, 1);
			HC_RELAXED_ADD(&w->st.datagrams, 1);
			HC_RELAXED_ADD(&w->st.handoff_dgrams, handed);
		}
		return;
	}
	enum hc_drop_reason r = (enum hc_drop_reason)pr.reason;
	if (r == HC_DROP_NOT_UDP && !hc_ha_owns_ip(w)) {
		hc_worker_drop(w, m, HC_DROP_HA_BACKUP); /* a backup answers no ping */
		return;
	}
	if (r == HC_DROP_NOT_UDP && hc_icmp_input(w, port, m, now))
		return; /* ICMP: answered or counted */
	if (r == HC_DROP_IP_BAD_LENGTH &&
	    rte_pktmbuf_pkt_len(m) == w->dp->port_frame_max[port])
		r = HC_DROP_FRAME_CUT;
	hc_worker_drop(w, m, r);
}

/* A frame's first two lines (a one-event datagram's frame is 106 bytes)
 * and its mbuf's second line (its next segment, read when it is freed):
 * what a NIC's DMA left in memory, and a PMD did not touch. */
static __rte_always_inline void prefetch_frame(struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	rte_prefetch0(d);
	rte_prefetch0(d + RTE_CACHE_LINE_SIZE);
	rte_prefetch0(&m->cacheline1);
}

/* The rest of a frame's first segment, past the two lines prefetch_frame
 * asked for: a batch of 64 events is a frame of 26 lines, read whole by
 * the software checksum, which otherwise waits for each line the
 * hardware's stream prefetch has not brought yet (a jumbo frame's first
 * 2 KiB: its later lines stream).  One frame ahead (its mbuf's line is
 * in cache by then; two ahead measured no better): docs/benchmarks.md,
 * "Windows of 8 index entries, and the next frame prefetched whole". */
#define PREFETCH_FRAME_MAX 2048u /* bytes of a frame asked for at most */
static __rte_always_inline void prefetch_frame_rest(const struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = RTE_MIN((uint32_t)m->data_len, PREFETCH_FRAME_MAX);
	for (uint32_t off = 2 * RTE_CACHE_LINE_SIZE; off < len; off += RTE_CACHE_LINE_SIZE)
		rte_prefetch0(d + off);
}

void hc_rx_burst(struct hc_worker *w, uint16_t port, struct rte_mbuf **pkts,
		  unsigned n, uint64_t now)
{
	uint64_t bytes = 0, valid = 0, handed = 0;
	unsigned nw = w->ho.n;
	int auth = __atomic_load_n(&w->dp->auth, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n && i < 2 * PREFETCH_AHEAD; i++)
		rte_prefetch0(pkts[i]);
	for (unsigned i = 0; i < n && i < PREFETCH_AHEAD; i++)
		prefetch_frame(pkts[i]);

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct hc_parsed pr;

		if (i + 2 * PREFETCH_AHEAD < n)
			rte_prefetch0(pkts[i + 2 * PREFETCH_AHEAD]);
		if (i + PREFETCH_AHEAD < n)
			prefetch_frame(pkts[i + PREFETCH_AHEAD]);
		if (i + 1 < n)
			prefetch_frame_rest(pkts[i + 1]);
		bytes += rte_pktmbuf_pkt_len(m);
		if (unlikely(m->nb_segs != 1)) {
			m = gather(w, m);
			if (m == NULL)
				continue;
		}
		hc_parse_frame(m, &w->parse, &pr);
		if (likely(pr.kind == HC_FRAME_DATAGRAM))
			valid += (uint64_t)take_datagram(w, port, m, &pr, auth, nw, now, &handed);
		else
			rx_unusual(w, port, m, pr, auth, now);
	}
	HC_RELAXED_ADD(&w->st.rx_frames, n);
	HC_RELAXED_ADD(&w->st.rx_bytes, bytes);
	HC_RELAXED_ADD(&w->st.datagrams, valid);
	HC_RELAXED_ADD(&w->st.handoff_dgrams, handed);
}

unsigned hc_rx_poll_handoff(struct hc_worker *w, uint64_t now)
{
	struct rte_mbuf *ms[HC_HANDOFF_DEQ_BURST];
	unsigned total = 0;

	for (unsigned s = 0; s < w->ho.n; s++) {
		struct rte_ring *r = w->ho.dgram_in[s];
		if (r == NULL)
			continue;
		unsigned k = rte_ring_dequeue_burst(r, (void **)ms, HC_HANDOFF_DEQ_BURST, NULL);
		for (unsigned i = 0; i < k; i++)
			home_input(w, ms[i], now);
		total += k;
		hc_rmark_polled(&w->rmark, HC_RMARK_HANDOFF(s), k);
	}
	return total + hc_ops_drain(w) + hc_chan_drain_decisions(w);
}
