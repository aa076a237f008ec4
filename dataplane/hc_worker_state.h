/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_worker_state.h - one poll-mode worker lcore's state, in one struct,
 * private to the dataplane (the control layer sees workers only through
 * hc_dataplane.h).  Every stage file includes it; it includes none of them.
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
 * Its work is split by stage, one file and header each, calling only
 * downwards (worker -> rx -> arp, ops -> chan):
 *   hc_worker.c  the loop and the stop protocol
 *   hc_rx.c      an RX burst: classify, validate, route each datagram to
 *                its gateway's home worker; the home's sequencer input
 *   hc_arp.c     ARP requests answered in place
 *   hc_ops.c     in-order datagrams split into per-user ops for their
 *                owners (hand-off back-pressure), ops applied in bulk
 *   hc_chan.c    the worker's end of the control channel
 */
#ifndef HC_WORKER_STATE_H
#define HC_WORKER_STATE_H

#include <stddef.h>
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
#include "hc_readmark.h"
#include "hc_sequencer.h"
#include "hc_snapshot.h"

#define HC_MAX_BURST 256
#define HC_LOCAL_OPS 2048 /* own users' ops gathered before applying */
#define HC_READ_FREE 64   /* read datagrams freed at once             */
#define HC_HANDOFF_DEQ_BURST 32 /* datagrams taken from a hand-off ring at once */
/* packet mbufs a worker may hold in hand beside its sequencers' and the
 * rings': an RX burst (waiting for a full hand-off ring, the rest of it),
 * a hand-off ring's burst, the read datagrams not yet freed */
#define HC_WORKER_HANDS (HC_MAX_BURST + HC_HANDOFF_DEQ_BURST + HC_READ_FREE)
/* changes one apply or decision can produce: its ops plus replayed ones */
#define HC_CHG_BUF (HC_LOCAL_OPS + HC_MEMBERS_DEFERRED)
/* slots one step of the pick scan reads (128 KiB), between batches */
#define HC_PICK_SCAN_STEP 4096


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
	int ha_listening;   /* HA: serving as of the last timer poll */
	uint32_t ha_demotions_seen; /* dp->ha_demotions as last acted on */
	unsigned n_rxq;
	unsigned rx_first; /* the RX queue the next loop polls first */
	struct hc_rxq rxq[HC_MAX_RXQ_PER_WORKER];
	uint16_t txq[RTE_MAX_ETHPORTS]; /* HC_NO_TXQ if none */

	struct hc_members members;
	struct hc_sequencer seq;
	struct hc_handoff ho;

	uint32_t n_local;
	struct hc_op *local; /* [HC_LOCAL_OPS] */
	/* a session stamp limit (hc_ops.c) read from the clock earlier: the
	 * limit only grows, so a stamp at or below it is below the current
	 * one, and the clock is read again only for a stamp above it */
	uint64_t session_seen_limit;
	/* EVENTS datagrams read into ops, freed together at the next commit
	 * (hc_ops.c): one mempool put for many */
	uint32_t n_read;
	struct rte_mbuf *read[HC_READ_FREE];

	/*
	 * To and from the control core (NULL when it does not run): set up
	 * once, read by the control core at every poll (hc_chan_ctl.c), so
	 * on a cache line of their own.  Beside a field the worker writes as
	 * it runs (read[], noted_peer: per datagram), each of those polls
	 * took the line away from the worker, and the worker's next write
	 * waited for it to come back: up to a third of the single-event rate
	 * with the lcores in two cache domains (docs/benchmarks.md, "The control
	 * core's polls and the worker's lines").
	 */
	struct rte_ring *to_ctl_changes __rte_cache_aligned; /* struct hc_change, SP/SC */
	struct rte_ring *to_ctl_places;  /* struct hc_place_req, SP/SC   */
	struct rte_ring *from_ctl_tx;    /* mbufs to transmit, SP/SC     */
	struct rte_ring *from_ctl_decisions; /* struct hc_decision, SP/SC */
	/* (the worker's own again, from the next line) */
	struct hc_peer *gw_peer __rte_cache_aligned; /* [max_gateways] home gateways' addresses */
	uint64_t *gw_peer_moved_tsc;     /* [max_gateways] when it last moved  */
	struct hc_peer noted_peer;       /* the datagram being judged's source */
	struct hc_change *chg_buf;       /* [HC_CHG_BUF]                  */

	/* snapshots being assembled, per home gateway */
	struct hc_snapshots snaps;

	/*
	 * Published for other lcores (relaxed), on cache lines of their own:
	 * an HA master's control core reads ha_heard on every loop, the stop
	 * checks, a restart hold and --idle-exit the others while they last,
	 * and a field the worker wrote per datagram on the same line would
	 * cost it a cross-core miss each time.  The worker writes them only
	 * when they change.  Those it changes often under load or when idle
	 * (outstanding: at seat requests and answers; dry_polls: at every
	 * empty loop) are on a second line, apart from ha_heard.
	 */
	uint64_t blocked_since __rte_cache_aligned; /* TSC since when it waits
	                           for seat decisions before it can apply more
	                           ops, 0: not (the restart hold watches it) */
	/* the control lcore's stop protocol */
	int rx_stopped;
	int flushed;
	/* HA: the newest appliance incarnation above ours named in a good
	 * datagram's header (relaxed store; hc_ha_dp.h), 0: none */
	uint32_t ha_heard;
	/* ... and such datagrams that named one past hc_dataplane's
	 * ha_heard_ceiling: not believed (rare: on ha_heard's line) */
	uint64_t ha_heard_far;

	uint64_t outstanding __rte_cache_aligned; /* seat requests not yet
	                                    answered: members.n_pending, for
	                                    the control core's stop check */
	uint64_t picks_open;    /* picks asked and not answered yet
	                           (members.n_asks), for the same check */
	/* loops since the last received frame in which every RX queue was
	 * polled and found empty (relaxed): --idle-exit stops only once each
	 * worker has really read its ports dry (a replayed capture to its
	 * end), however slowly a busy machine lets it run */
	uint64_t dry_polls;
	/* a TSC before which every datagram that had reached one of the
	 * worker's RX queues or hand-off rings has been taken from it and
	 * offered to its home worker's sequencer (hc_readmark.h; to within
	 * a loop: one that another worker hands over meanwhile), published
	 * with its timers (every 100 us, relaxed, when it changed).  The
	 * dead-gateway scan judges silence up to the least of all workers'
	 * (hc_ha_seq_poll, read only when a scan is due): a worker behind
	 * on its input may still hold a live gateway's heartbeats */
	uint64_t read_up_to;

	/* written by the worker all the time, read by telemetry now and then */
	struct hc_worker_stats st __rte_cache_aligned;

	/* how far back its RX queues and hand-off rings are read (a store
	 * per poll, the rest with the timers): after everything else, which
	 * keeps its layout */
	struct hc_rmark rmark __rte_cache_aligned;
	uint32_t rxq_capacity[HC_MAX_RXQ_PER_WORKER]; /* most frames each
	                                    RX queue holds, 0: unknown */
	struct rte_mempool *rxq_pool[HC_MAX_RXQ_PER_WORKER]; /* the mbufs each
	                                    RX queue's PMD fills, where frames
	                                    wait when it has none; else NULL */
	uint8_t rxq_empty_plenty[HC_MAX_RXQ_PER_WORKER]; /* the last poll
	                                    found it empty, its pool plentiful */

	/* the control core's sync periods (control/hc_ctlsync.h), read on
	 * its every poll while one runs.  The decisions taken from the
	 * control core's ring and applied, every change they made pushed
	 * before (the worker's release store, once a burst), on a line of its
	 * own; and on the control core's own line, the decisions it gave the
	 * ring and the changes it took from it (hc_chan_give_decisions,
	 * hc_chan_take_changes) */
	uint64_t decisions_done __rte_cache_aligned;
	uint64_t decisions_given __rte_cache_aligned;
	uint64_t changes_taken;
} __rte_cache_aligned;
/* (the control core's ring pointers alone on their line: see above) */
_Static_assert(offsetof(struct hc_worker, gw_peer) - offsetof(struct hc_worker, to_ctl_changes) ==
	       RTE_CACHE_LINE_SIZE &&
	       offsetof(struct hc_worker, from_ctl_decisions) - offsetof(struct hc_worker, to_ctl_changes) ==
	       3 * sizeof(struct rte_ring *), "the control channel's line holds nothing else");

#define HC_NO_TXQ UINT16_MAX

static inline void hc_worker_drop(struct hc_worker *w, struct rte_mbuf *m,
				  enum hc_drop_reason r)
{
	HC_RELAXED_ADD(&w->st.drops[r], 1);
	rte_pktmbuf_free(m);
}

#endif /* HC_WORKER_STATE_H */
