/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_worker.c - the worker lcore's loop and its part of the stop protocol.
 *
 * Per iteration: an RX burst on each of its queues (hc_rx.c), what other
 * workers and the control core handed it (hc_rx_poll_handoff), its own
 * ops applied and staged ones flushed (hc_ops.c), frames the control core
 * built transmitted (hc_chan.c); every 100 us its sequencers' timers (gap
 * NACKs, dead gateways), the membership's clock, and gone users' keys
 * above the keep limit trimmed (hc_members_gone_trim, 64 list entries
 * for each 100 us passed, 16 times that at most), by the clock and not
 * by a count of loops: a loop's length follows the load (128 frames of
 * 64 events take about half a millisecond).  Back-pressure: a loop takes
 * only the frames whose events' seat requests could wait without the
 * worker stopping to take answers in (hc_worker_rx_budget): fewer as
 * requests await the control core, none from 10,240.
 *
 * Workers read the gateways' keys (hc_keys.c), which a reload replaces
 * under RCU: each worker is a liburcu QSBR reader, registered for its
 * loop's life, and announces a quiescent state with the timers, every
 * 100 us of its loop (no key pointer is kept across loops; a loop that
 * waits inside, for room on a ring or for seat decisions, delays grace
 * periods, which only call_rcu waits for).
 */
#include <sched.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include <urcu-qsbr.h>

#include "hc_chan.h"
#include "hc_ha_dp.h"
#include "hc_ops.h"
#include "hc_rx.h"
#include "hc_worker.h"

/* The timers' and the quiescent state's rate (every 100 us). */
#define TIMERS_PER_S 10000
/* Gone users' list entries the timers trim (hc_members_gone_trim) for
 * each tick due: 640 k a second, each a slot the pop before asked for
 * and, for a gone user, an index delete; at most TRIM_TICKS_MAX ticks'
 * worth at once, after a long loop (a bound on one call's walk). */
#define TRIM_STEPS_PER_TICK 64
#define TRIM_TICKS_MAX 16

/* A poll asked for fewer frames than this that returns none proves
 * nothing: vector PMDs round the count asked down (i40e, ixgbe to a
 * multiple of 4, some to 8 or 32) and return none when that is 0. */
#define RX_EMPTY_PROOF 32

/* Fewer mbufs than this free to the worker (its cache of the pool and
 * the pool's common store) and an empty answer may be the PMD's want of
 * mbufs, not an empty queue: a PMD's get fails only with fewer free than
 * it asks (one a frame for af_packet, 32 for the vector refills of ixgbe
 * and i40e), and between the poll and this look another lcore may have
 * returned up to one cache flush (1.5 times the pool's cache, 384 for
 * the packet pool's 256).  A quarter of a smaller pool (--mbufs 1023: the
 * other lcores' caches may hold the rest for good). */
#define RX_POOL_SHORT 512u

/* Has RX queue q's pool (one to watch: rx_empty_proves) mbufs to give?
 * Counted when not: rx_pool_short. */
static int rx_pool_plenty(struct hc_worker *w, unsigned q)
{
	struct rte_mempool *mp = w->rxq_pool[q];
	/* the common store's count, as its driver keeps it (what DPDK's
	 * internal rte_mempool_ops_get_count calls, through the exported ops
	 * table): not rte_mempool_avail_count, which adds every lcore's
	 * cache, 128 of them */
	unsigned have = rte_mempool_get_ops(mp->ops_index)->get_count(mp);
	struct rte_mempool_cache *c = rte_mempool_default_cache(mp, rte_lcore_id());
	if (c != NULL)
		have += c->len;
	unsigned short_below = mp->size / 4 < RX_POOL_SHORT ? mp->size / 4 : RX_POOL_SHORT;
	if (have >= short_below)
		return 1;
	HC_RELAXED_ADD(&w->st.rx_pool_short, 1);
	return 0;
}

/* RX queue q answered an ask of at least RX_EMPTY_PROOF frames with
 * none, and the read mark still wants it found empty: does that prove
 * it (hc_readmark.h)?  Only the second such answer in a row of the
 * queue's polls with the pool plentiful at each, so that the poll lies
 * between two looks that found mbufs to give: a look after a poll alone
 * could miss a shortage that ended in between, and a NIC PMD that
 * refilled a starved ring at the start of a poll returns nothing until
 * the frames the NIC held are written to it.  Two looks a mark a queue,
 * then one every empty poll while short; none for a queue with no pool
 * to watch. */
static int rx_empty_proves(struct hc_worker *w, unsigned q)
{
	if (w->rxq_pool[q] == NULL)
		return 1; /* a PMD that leaves no frame waiting for mbufs (hc_port.c) */
	if (!rx_pool_plenty(w, q)) {
		w->rxq_empty_plenty[q] = 0;
		return 0;
	}
	if (w->rxq_empty_plenty[q])
		return 1;
	w->rxq_empty_plenty[q] = 1; /* the next empty answer, if it comes next */
	return 0;
}

/* Poll the RX queues once, up to `budget` frames in all (0: none), from
 * the queue after the one this started at last time (a queue that fills
 * every budget cannot keep the others unread); returns the frames
 * received.  Each poll is told to the read mark (hc_readmark.h): one
 * that asked for enough and found its queue empty proves everything
 * that had arrived read (a burst shorter than asked proves nothing:
 * vector PMDs also stop at the ring's end), and found its pool with
 * mbufs to give (rx_empty_proves): a PMD that could not take mbufs
 * returns nothing while frames wait (rx_nombuf). */
static unsigned poll_rx(struct hc_worker *w, unsigned budget, uint64_t now)
{
	struct rte_mbuf *pkts[HC_MAX_BURST];
	unsigned got = 0, i, n_rxq = w->n_rxq;
	unsigned q = w->rx_first;
	const unsigned proof = w->burst < RX_EMPTY_PROOF ? w->burst : RX_EMPTY_PROOF;

	for (i = 0; i < n_rxq && got < budget; i++) {
		unsigned want = budget - got < w->burst ? budget - got : w->burst;
		uint16_t n = rte_eth_rx_burst(w->rxq[q].port, w->rxq[q].queue, pkts,
					      (uint16_t)want);
		if (n > 0) {
			hc_rmark_polled(&w->rmark, q, n);
			w->rxq_empty_plenty[q] = 0;
			hc_rx_burst(w, w->rxq[q].port, pkts, n, now);
			got += n;
		} else if (want >= proof && hc_rmark_wants_empty(&w->rmark, q)) {
			if (rx_empty_proves(w, q))
				hc_rmark_polled(&w->rmark, q, 0);
		} else {
			w->rxq_empty_plenty[q] = 0; /* (not looked at: no pair) */
		}
		if (++q == n_rxq)
			q = 0;
	}
	if (n_rxq > 1)
		w->rx_first = w->rx_first + 1 == n_rxq ? 0 : w->rx_first + 1;
	/* --idle-exit: loops since the last frame in which every queue was
	 * polled and found empty (a capture read to its end) */
	if (got > 0)
		HC_RELAXED_PUBLISH(&w->dry_polls, 0);
	else if (i == n_rxq && i > 0)
		__atomic_store_n(&w->dry_polls, w->dry_polls + 1, __ATOMIC_RELAXED);
	return got;
}

/* The read mark's sources: the RX queues and the hand-off rings, each
 * with what it holds at most. */
static void rmark_setup(struct hc_worker *w, uint64_t now)
{
	hc_rmark_init(&w->rmark, now);
	memset(w->rxq_empty_plenty, 0, sizeof(w->rxq_empty_plenty)); /* (no pair yet) */
	for (unsigned q = 0; q < w->n_rxq; q++)
		hc_rmark_add_source(&w->rmark, q, w->rxq_capacity[q]);
	for (unsigned s = 0; s < w->ho.n; s++)
		if (w->ho.dgram_in[s] != NULL)
			hc_rmark_add_source(&w->rmark, HC_RMARK_HANDOFF(s),
					    rte_ring_get_capacity(w->ho.dgram_in[s]));
}

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

/* The membership's clock (hc_members_tick): whole seconds of the TSC,
 * from 1 (a pick time of 0 means never picked). */
static void clock_tick(struct hc_worker *w, uint64_t tsc)
{
	hc_members_tick(&w->members, (uint32_t)(tsc / rte_get_tsc_hz()) + 1);
}

/* DRAIN: no more RX; finish everything in flight, then say so (flushed)
 * once every worker has stopped RX and no datagram is on its way to us. */
static void drain(struct hc_worker *w)
{
	struct hc_dataplane *dp = w->dp;

	__atomic_store_n(&w->rx_stopped, 1, __ATOMIC_RELEASE);
	while (hc_dp_state(dp) == HC_DRAIN) {
		rcu_quiescent_state();
		clock_tick(w, rte_rdtsc());
		hc_rx_poll_handoff(w, rte_rdtsc());
		hc_ops_commit(w);
		hc_chan_tx(w);
		if (!w->flushed && all_rx_stopped(dp) && dgram_rings_empty(w)) {
			hc_seq_flush_all(&w->seq);
			hc_ops_commit(w);
			if (hc_handoff_staged(&w->ho) == 0)
				__atomic_store_n(&w->flushed, 1, __ATOMIC_RELEASE);
		}
	}
	/* STOP: what the last rounds left (a pick scan to its end: a
	 * scan is finite, and no ask comes after the decisions taken here) */
	clock_tick(w, rte_rdtsc());
	hc_ops_drain(w);
	hc_ops_apply_local(w);
	hc_chan_drain_decisions(w);
	while (hc_members_picking(&w->members))
		hc_chan_drain_decisions(w);
}

int hc_worker_main(void *arg)
{
	struct hc_worker *w = arg;
	struct hc_dataplane *dp = w->dp;
	uint64_t timers_every = RTE_MAX(rte_get_tsc_hz() / TIMERS_PER_S, (uint64_t)1);
	uint64_t last_timers = rte_rdtsc() - timers_every; /* (due at once) */

	rmark_setup(w, rte_rdtsc());
	clock_tick(w, last_timers); /* (before the first ops, not after) */
	rcu_register_thread();
	while (likely(hc_dp_state(dp) == HC_RUN)) {
		/* (a fresh reading below the sequencer's clock: the TSC
		 * stepped back, and the clock, kept from going back within a
		 * loop, follows it) */
		uint64_t t0 = hc_seq_fresh_clock(&w->seq, rte_rdtsc());
		/* 0: throttled, or no RX queue at all */
		unsigned budget = likely(w->n_rxq > 0) ? hc_worker_rx_budget(w) : 0;
		unsigned work = poll_rx(w, budget, t0);

		work += hc_rx_poll_handoff(w, t0);
		hc_ops_commit(w);
		work += hc_chan_tx(w);

		HC_RELAXED_ADD(&w->st.loops, 1);
		if (unlikely(work == 0 && (budget == 0 || w->yield_idle))) {
			/* idle, and the control core may need our CPU: it shares
			 * it with us, or we wait for its decisions */
			if (budget == 0)
				HC_RELAXED_ADD(&w->st.throttled, 1);
			sched_yield();
		}
		if (work > 0) {
			uint64_t t1 = rte_rdtsc();
			HC_RELAXED_ADD(&w->st.busy_loops, 1);
			/* (a TSC that stepped back within the loop: the loop's
			 * time is unknown, and a wrapped difference would add
			 * centuries to busy_tsc; none is added) */
			if (likely(t1 >= t0))
				HC_RELAXED_ADD(&w->st.busy_tsc, t1 - t0);
		}
		/* (a difference, not a deadline: a TSC that steps back makes
		 * them due at once rather than late by the step).  The ticks
		 * due are counted whole and the rest carried to the next
		 * round, so that a loop of 150 us does not lose a third of a
		 * tick's trim each time; after more than TRIM_TICKS_MAX (a
		 * long loop, a TSC stepping back) the count starts again */
		if (t0 - last_timers >= timers_every) {
			uint64_t ticks = (t0 - last_timers) / timers_every;
			uint64_t counted = RTE_MIN(ticks, (uint64_t)TRIM_TICKS_MAX);
			last_timers = ticks == counted ? last_timers + ticks * timers_every : t0;
			clock_tick(w, t0);
			hc_members_gone_trim(&w->members, TRIM_STEPS_PER_TICK * (unsigned)counted);
			HC_RELAXED_PUBLISH(&w->read_up_to, hc_rmark_tick(&w->rmark, t0));
			hc_ha_seq_poll(w, t0);
			rcu_quiescent_state();
		}
	}
	drain(w);
	rcu_unregister_thread();
	return 0;
}
