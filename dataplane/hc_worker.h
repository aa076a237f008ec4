/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_worker.h - one poll-mode worker lcore: its state, private to the
 * dataplane (the control layer sees workers only through hc_dataplane.h).
 *
 * A worker owns, with no sharing on the fast path:
 *   - its RX queues (one or more (port, queue) pairs) and one TX queue per
 *     port (ARP replies, frames the control core built);
 *   - the sequencers and snapshot stages of the gateways whose home it is
 *     (gateway % workers);
 *   - the membership and room counters of the users it owns
 *     (hc_owner_of(user));
 *   - its ends of the hand-off rings and of the control channel, and its
 *     counters.
 *
 * Its work is split by stage, one file each, calling only downwards:
 *   hc_worker.c  the loop and the stop protocol
 *   hc_rx.c      an RX burst: classify, validate, route each datagram to
 *                its gateway's home worker; the home's sequencer input
 *   hc_arp.c     ARP requests answered in place
 *   hc_ops.c     in-order datagrams split into per-user ops for their
 *                owners (hand-off back-pressure), ops applied in bulk
 *   hc_chan.c    the worker's end of the control channel
 */
#ifndef HC_WORKER_H
#define HC_WORKER_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "hc_dataplane.h"
#include "hc_dp_counters.h"
#include "hc_ctlmsg.h"
#include "hc_drop.h"
#include "hc_handoff.h"
#include "hc_members.h"
#include "hc_parse.h"
#include "hc_sequencer.h"
#include "hc_snapshot.h"

#define HC_MAX_BURST 256
#define HC_LOCAL_OPS 2048 /* own users' ops gathered before applying */
/* changes one apply or decision can produce: its ops plus replayed ones */
#define HC_CHG_BUF (HC_LOCAL_OPS + HC_MEMBERS_DEFERRED)
/* seat requests in flight above which a worker stops polling RX */
#define HC_MAX_OUTSTANDING 8192
/* users one pick request may name (its count is 16 bits) */
#define HC_PICK_MAX 65536


struct hc_rxq {
	uint16_t port;
	uint16_t queue;
};

struct hc_worker {
	unsigned id;
	unsigned lcore;
	int socket;
	struct hc_dataplane *dp;
	struct hc_parse_cfg parse;
	uint32_t max_rooms;
	uint32_t max_gateways;
	uint32_t burst;
	int yield_idle;     /* shares a CPU with the control lcore */
	unsigned n_rxq;
	struct hc_rxq rxq[HC_MAX_RXQ_PER_WORKER];
	uint16_t txq[RTE_MAX_ETHPORTS]; /* HC_NO_TXQ if none */

	struct hc_members members;
	struct hc_sequencer seq;
	struct hc_handoff ho;

	uint32_t n_local;
	struct hc_op *local; /* [HC_LOCAL_OPS] */

	/* to and from the control core (NULL when it does not run) */
	struct rte_ring *to_ctl_changes; /* struct hc_change, SP/SC      */
	struct rte_ring *to_ctl_places;  /* struct hc_place_req, SP/SC   */
	struct rte_ring *from_ctl_tx;    /* mbufs to transmit, SP/SC     */
	struct rte_ring *from_ctl_decisions; /* struct hc_decision, SP/SC */
	uint64_t outstanding;            /* seat requests not yet answered:
	                                    members.n_pending, published with
	                                    a relaxed store for the control */
	struct hc_peer *gw_peer;         /* [max_gateways] home gateways' addresses */
	struct hc_change *chg_buf;       /* [HC_CHG_BUF]                  */
	struct hc_pick *picks;           /* [HC_PICK_MAX] scratch of a pick */

	/* snapshots being assembled, per home gateway */
	struct hc_snapshots snaps;

	/* published for the control lcore's stop protocol (relaxed) */
	int rx_stopped;
	int flushed;
	/* loops since the last received frame in which every RX queue was
	 * polled and found empty (relaxed): --idle-exit stops only once each
	 * worker has really read its ports dry (a replayed capture to its
	 * end), however slowly a busy machine lets it run */
	uint64_t dry_polls;

	struct hc_worker_stats st;
} __rte_cache_aligned;

#define HC_NO_TXQ UINT16_MAX

/* --- hc_worker.c: the loop ------------------------------------------- */

/* The lcore entry point: arg is the struct hc_worker. */
int hc_worker_main(void *arg);

/* --- hc_rx.c: RX and the home worker's input -------------------------- */

/*
 * Handle one received burst (parse, answer ARP, validate, send datagrams to
 * their home or sequence them here).  Frees or keeps every mbuf.  Exposed
 * for tests and the benchmark; the loop calls it.
 */
void hc_rx_burst(struct hc_worker *w, uint16_t port, struct rte_mbuf **pkts,
		  unsigned n, uint64_t now);

/* Drain incoming hand-off rings (datagrams, ops) and the control core's
 * decisions once; returns the work items handled. */
unsigned hc_rx_poll_handoff(struct hc_worker *w, uint64_t now);

/* --- hc_arp.c ----------------------------------------------------------- */

/* m is an ARP request for our address (hc_parse.h): answer it in place. */
void hc_arp_answer(struct hc_worker *w, uint16_t port, struct rte_mbuf *m);

/* --- hc_ops.c: datagrams to ops, ops applied ---------------------------- */

/* Sequencer hook: the next datagram (EVENTS or SNAPSHOT) of a gateway, in
 * order; consumes m. */
void hc_ops_deliver(void *ctx, struct rte_mbuf *m);

/* Send one op to worker dst (ourselves included), waiting for ring room
 * while doing our share of hand-off work.  Returns -1 only when stopping.
 * (The snapshot stage's emit hook.) */
int hc_ops_emit(void *ctx, unsigned dst, const struct hc_op *op);

/* Apply the ops gathered for our own users. */
void hc_ops_apply_local(struct hc_worker *w);

/* Apply whatever other workers handed us; returns ops applied. */
unsigned hc_ops_drain(struct hc_worker *w);

/* Apply gathered own ops and flush staged ones to other workers. */
void hc_ops_commit(struct hc_worker *w);

/* --- hc_chan.c: the worker's end of the control channel ------------------ */

/* Hand the changes gathered in chg_buf (members.n_changes of them) to the
 * control core; waits while its ring is full.  Also the members' hook for
 * a long sweep (changes_full; ctx is the worker). */
void hc_chan_push_changes(void *ctx);

/* Apply the control core's answers and pick requests; returns how many. */
unsigned hc_chan_drain_decisions(struct hc_worker *w);

/* PLACE datagram m (validated, payload at payload_off): pass its requests
 * to the control core with the address to answer; consumes m. */
void hc_chan_pass_places(struct hc_worker *w, uint16_t port, struct rte_mbuf *m,
			 const uint8_t *payload, uint16_t payload_off);

/* Tell the control core where home gateway gw is, when that changed. */
void hc_chan_learn_peer(struct hc_worker *w, uint16_t gw, const struct rte_mbuf *m);

/* Transmit frames the control core built; returns how many were taken. */
unsigned hc_chan_tx(struct hc_worker *w);

/* Sequencer hook: ask gateway gw for a resync (the control core sends it). */
void hc_chan_ask_resync(void *ctx, uint16_t gw, uint32_t reason, uint32_t first,
			uint32_t last);

/* Snapshot hook: ask gateway gw for a new snapshot. */
void hc_chan_ask_snapshot(void *ctx, uint16_t gw);

/* Seat requests in flight are exactly the pending users: publish that
 * count for the control core's stop check (relaxed store). */
static inline void hc_chan_publish_outstanding(struct hc_worker *w)
{
	__atomic_store_n(&w->outstanding, (uint64_t)w->members.n_pending, __ATOMIC_RELAXED);
}

static inline void hc_worker_drop(struct hc_worker *w, struct rte_mbuf *m,
				  enum hc_drop_reason r)
{
	HC_RELAXED_ADD(&w->st.drops[r], 1);
	rte_pktmbuf_free(m);
}

#endif /* HC_WORKER_H */
