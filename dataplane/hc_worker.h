/*
 * hc_worker.h - one poll-mode worker lcore: its state and its loop.
 *
 * A worker owns, with no sharing on the fast path:
 *   - its RX queues (one or more (port, queue) pairs) and one TX queue per
 *     port (for ARP replies);
 *   - the sequencers of the gateways whose home it is (gateway % workers);
 *   - the membership and room counters of the users it owns
 *     (hc_owner_of(user));
 *   - its ends of the hand-off rings and its counters.
 * The control lcore reads the counters (relaxed loads) and sums the room
 * counters into the RCU room view; nothing else crosses.
 */
#ifndef HC_WORKER_H
#define HC_WORKER_H

#include <stdint.h>

#include <rte_common.h>

#include "hc_dataplane.h"
#include "hc_ctlmsg.h"
#include "hc_drop.h"
#include "hc_handoff.h"
#include "hc_members.h"
#include "hc_parse.h"
#include "hc_sequencer.h"

#define HC_MAX_BURST 256
#define HC_LOCAL_OPS 2048 /* own users' ops gathered before applying */
/* changes one apply or decision can produce: its ops plus replayed ones */
#define HC_CHG_BUF (HC_LOCAL_OPS + HC_MEMBERS_DEFERRED)
/* seat requests in flight above which a worker stops polling RX */
#define HC_MAX_OUTSTANDING 8192

struct hc_worker_stats {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t datagrams;       /* valid inbound datagrams (any type)     */
	uint64_t event_datagrams; /* EVENTS datagrams delivered in order    */
	uint64_t events;          /* events in those datagrams              */
	uint64_t heartbeats;
	uint64_t arp_replies;
	uint64_t tx_failed;
	uint64_t handoff_dgrams;  /* datagrams sent to their home worker    */
	uint64_t handoff_ops;     /* ops sent to their owner worker         */
	uint64_t handoff_waits;   /* times an op ring was full (backpressure) */
	uint64_t ctl_waits;       /* times the control ring was full        */
	uint64_t ctl_lost;        /* changes not reported (only when stopping) */
	uint64_t places;          /* PLACE requests passed to the control core */
	uint64_t places_dropped;  /* ... dropped: its ring was full          */
	uint64_t ctl_tx;          /* frames sent for the control core        */
	uint64_t throttled;       /* idle loops waiting for seat decisions   */
	uint64_t picked;          /* users picked for move directives        */
	uint64_t snapshots;       /* complete snapshots applied (replacements) */
	uint64_t snap_members;    /* members in them                         */
	uint64_t snap_bad;        /* snapshots abandoned: out of order, count
	                             mismatch, no memory (asked for again)    */
	uint64_t user_drops;      /* gateways' users dropped (new incarnation,
	                             dead, shutdown)                          */
	uint64_t resync_asks;     /* RESYNC records asked of the control core */
	uint64_t loops;
	uint64_t busy_loops;
	uint64_t busy_tsc;        /* TSC spent in loops that did work       */
	uint64_t drops[HC_DROP_COUNT];
};

struct hc_rxq {
	uint16_t port;
	uint16_t queue;
};

struct hc_snap_stage;

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

	/* snapshots being assembled, per home gateway (hc_snapshot.c) */
	struct hc_snap_stage **snap;     /* [max_gateways], NULL: none    */
	uint8_t *snap_gen;               /* [max_gateways] last generation */

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

/* The lcore entry point: arg is the struct hc_worker. */
int hc_worker_main(void *arg);

/*
 * Handle one received burst (parse, answer ARP, validate, send datagrams to
 * their home or sequence them here).  Frees or keeps every mbuf.  Exposed
 * for tests and the benchmark; the loop calls it.
 */
void hc_worker_rx(struct hc_worker *w, uint16_t port, struct rte_mbuf **pkts,
		  unsigned n, uint64_t now);

/* Drain incoming hand-off rings once; returns the work items handled. */
unsigned hc_worker_poll_handoff(struct hc_worker *w, uint64_t now);

/* Sequencer callback: split an in-order EVENTS datagram into ops for
 * their owners (whole or nothing); consumes m. */
void hc_worker_deliver_events(void *ctx, struct rte_mbuf *m);

/* Sequencer hooks: an in-order EVENTS or SNAPSHOT datagram; ask the
 * control core to send a RESYNC. */
void hc_worker_deliver(void *ctx, struct rte_mbuf *m);
void hc_worker_ask_resync(void *ctx, uint16_t gw, uint32_t reason, uint32_t first,
			  uint32_t last);

/* Send one op to worker dst (ourselves included), waiting for ring room
 * while doing our share of hand-off work.  Returns -1 only when stopping. */
int hc_worker_emit_op(struct hc_worker *w, unsigned dst, const struct hc_op *op);

/* Hand the gathered changes to the control core (members' changes_full). */
void hc_worker_push_changes(void *ctx);

/* Snapshots (hc_snapshot.c): one in-order chunk of gateway gw; forget
 * every user of gw (sequencer hook); free the staging. */
void hc_snapshot_chunk(struct hc_worker *w, uint16_t gw, const uint8_t *payload);
void hc_snapshot_drop_users(void *ctx, uint16_t gw);
void hc_snapshot_free(struct hc_worker *w);

/* Apply gathered own ops and flush staged ones to other workers. */
void hc_worker_commit(struct hc_worker *w);

#endif /* HC_WORKER_H */
