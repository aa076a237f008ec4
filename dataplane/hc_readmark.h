/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_readmark.h - how far back a worker has read its input: the point in
 * time before which every datagram that had reached one of its sources
 * (its RX queues, the hand-off rings from the other workers) has been
 * taken from it.  The dead-gateway scan judges silence only up to that
 * point (hc_seq_poll_read): a worker behind on its input may still hold a
 * live gateway's heartbeats.
 *
 * The worker sets a mark (a TSC) and then watches each source until it
 * has read everything the source held at the mark, which it knows when
 *   - a poll found the source empty after the mark (a poll that asked
 *     for enough, and for an RX queue whose PMD leaves frames waiting
 *     when it has no mbuf, one between two looks that found its pool
 *     with mbufs to give: hc_worker.c), or
 *   - it took at least the source's capacity of frames from it since the
 *     mark: a source is FIFO and held at most its capacity (an af_packet
 *     ring's framecnt, a NIC queue's descriptors and what the NIC holds
 *     beside them, a ring's size: hc_port.c, hc_worker.c).
 * Once every source has, the mark is read up to, and the next mark is
 * set (hc_rmark_tick, with the worker's timers).  The first way alone
 * would let an input that never runs empty, a flood or an overload,
 * defer every dead-gateway judgement for as long as it lasts; the second
 * bounds that delay by the time to read two capacities.  A source of
 * unknown capacity (0) is read up to the mark only when found empty.
 *
 * Pure bookkeeping: no DPDK, the worker's own (no sharing); the worker
 * publishes the result for the other lcores.
 */
#ifndef HC_READMARK_H
#define HC_READMARK_H

#include <stdint.h>

#include "hc_dataplane.h" /* HC_MAX_RXQ_PER_WORKER, HC_MAX_WORKERS */

/* Sources: the RX queues at 0.., the hand-off ring from worker s at
 * HC_RMARK_HANDOFF(s). */
#define HC_RMARK_HANDOFF(s) (HC_MAX_RXQ_PER_WORKER + (s))
#define HC_RMARK_SOURCES (HC_MAX_RXQ_PER_WORKER + HC_MAX_WORKERS)

struct hc_rmark_source {
	uint64_t taken;         /* frames taken from it, ever       */
	uint64_t taken_at_mark; /* taken when the mark was set      */
	uint32_t capacity;      /* most it holds, 0: not known      */
	uint8_t emptied;        /* found empty since the mark       */
	uint8_t used;           /* a source of this worker          */
};

struct hc_rmark {
	uint64_t mark;       /* TSC of the mark being read up to    */
	uint64_t read_up_to; /* the last mark read up to, 0: none yet */
	struct hc_rmark_source src[HC_RMARK_SOURCES];
};

/* No sources yet; the first mark at now. */
void hc_rmark_init(struct hc_rmark *m, uint64_t now);

/* Source i is read from, and holds at most capacity frames (0: unknown). */
void hc_rmark_add_source(struct hc_rmark *m, unsigned i, uint32_t capacity);

/* Would a poll of source i that finds it empty still count (the source
 * not yet found empty since the mark)?  For a check that costs something,
 * made only then (hc_worker.c: the RX pool's mbufs). */
static inline int hc_rmark_wants_empty(const struct hc_rmark *m, unsigned i)
{
	return !m->src[i].emptied;
}

/* A poll of source i returned n frames (0: found empty). */
static inline void hc_rmark_polled(struct hc_rmark *m, unsigned i, unsigned n)
{
	if (n == 0)
		m->src[i].emptied = 1;
	else
		m->src[i].taken += n;
}

/* If every source has been read up to the mark, the mark is read up to
 * and the next one is set at now.  Returns the point read up to (0: no
 * mark read up to yet). */
uint64_t hc_rmark_tick(struct hc_rmark *m, uint64_t now);

#endif
