/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_handoff.h - moving work between worker lcores without locks.
 *
 * Two kinds of hand-off, each over single-producer/single-consumer rte_rings,
 * one ring per ordered pair of workers:
 *   - datagrams go to their gateway's home worker (gateway_id % workers),
 *     which sequences them (hc_sequencer.h);
 *   - events (struct hc_op) go to their user's owner worker
 *     (hc_owner_of(user)), which applies them (hc_members.h).
 * A ring per pair keeps each stream FIFO, so one gateway's events for one
 * user reach the owner in sequence order.
 *
 * Events are staged per destination and flushed in bursts.  Before a
 * datagram's events are staged, hc_handoff_room makes sure the rings
 * will take them all, so a datagram is never half handed off.
 */
#ifndef HC_HANDOFF_H
#define HC_HANDOFF_H

#include <stdint.h>

#include <string.h>

#include <rte_ring.h>

#include "hc_dataplane.h"
#include "hc_members.h"
#include "hc_ring_copy.h"

#define HC_STAGE_OPS 1024       /* staged ops per destination           */
#define HC_STAGE_FLUSH 64       /* flush a stage when it holds this many */

/* A worker's incoming rings of each kind hold at most *_IN_PER_WORKER
 * elements together, each ring a power of 2 between *_RING_MIN and
 * *_RING_MAX (hc_handoff_ring_size), so that the packet pool the
 * datagram rings may hold, and the memory of both, grow with the
 * workers, not with their square. */
#define HC_DGRAM_IN_PER_WORKER 8192u
#define HC_DGRAM_RING_MAX 4096u
#define HC_DGRAM_RING_MIN 512u
#define HC_OP_IN_PER_WORKER 65536u
#define HC_OP_RING_MAX 16384u
#define HC_OP_RING_MIN 4096u
_Static_assert((HC_MAX_WORKERS - 1) * HC_DGRAM_RING_MIN <= HC_DGRAM_IN_PER_WORKER,
	       "the floor keeps every worker's incoming datagrams within its share");
_Static_assert((HC_MAX_WORKERS - 1) * HC_OP_RING_MIN <= HC_OP_IN_PER_WORKER,
	       "the floor keeps every worker's incoming ops within its share");
_Static_assert(HC_OP_RING_MIN - 1 >= HC_STAGE_OPS,
	       "an op ring takes a full stage (hc_handoff_room)");

struct hc_handoff {
	unsigned self;
	unsigned n;
	struct rte_ring *dgram_out[HC_MAX_WORKERS]; /* [dst], NULL for self */
	struct rte_ring *dgram_in[HC_MAX_WORKERS];  /* [src]                */
	struct rte_ring *op_out[HC_MAX_WORKERS];
	struct rte_ring *op_in[HC_MAX_WORKERS];
	uint32_t n_stage[HC_MAX_WORKERS];
	struct hc_op *stage[HC_MAX_WORKERS];        /* [dst][HC_STAGE_OPS]  */
};

/*
 * The size of each ring among `workers` workers (0 for one: no rings):
 * in_per_worker shared by the workers - 1 that hand off to one worker,
 * rounded down to a power of 2, within min and max.  A ring holds one
 * less.  A full ring is back-pressure, never loss (hc_rx.c,
 * handoff_dgram_wait; hc_ops.c, wait_handoff_room).
 */
static inline unsigned hc_handoff_ring_size(unsigned workers, unsigned in_per_worker,
					    unsigned min, unsigned max)
{
	if (workers < 2)
		return 0;
	unsigned share = in_per_worker / (workers - 1), size = min;
	while (size * 2 <= share && size < max)
		size *= 2;
	return size;
}

/* Datagram rings: 4,096 for 2 and 3 workers, 2,048 for 4 and 5, 1,024 for
 * 6 to 9, 512 for 10 to 16 (HC_MAX_WORKERS): a worker's incoming rings
 * hold 4,095 datagrams with 2 workers, 6,141 with 4, 7,665 with 16. */
static inline unsigned hc_handoff_dgram_ring_size(unsigned workers)
{
	return hc_handoff_ring_size(workers, HC_DGRAM_IN_PER_WORKER, HC_DGRAM_RING_MIN,
				    HC_DGRAM_RING_MAX);
}

/* Op rings: 16,384 for 2 to 5 workers, 8,192 for 6 to 9, 4,096 for 10 to
 * 16 (32 bytes an op: 512 KiB to 128 KiB a ring). */
static inline unsigned hc_handoff_op_ring_size(unsigned workers)
{
	return hc_handoff_ring_size(workers, HC_OP_IN_PER_WORKER, HC_OP_RING_MIN,
				    HC_OP_RING_MAX);
}

/* Create all n*(n-1) rings of each kind and wire every worker's endpoints. */
int hc_handoff_create(struct hc_handoff *const ho[], unsigned n, int socket);
void hc_handoff_destroy(struct hc_handoff *const ho[], unsigned n);

/* Push staged ops of dst into its ring (always fits after a reserve). */
static inline void hc_handoff_flush_one(struct hc_handoff *h, unsigned dst)
{
	uint32_t n = h->n_stage[dst];
	if (n == 0)
		return;
	unsigned done = hc_ring_put(h->op_out[dst], h->stage[dst], sizeof(struct hc_op), n);
	if (unlikely(done < n))
		memmove(h->stage[dst], h->stage[dst] + done,
			(n - done) * sizeof(struct hc_op));
	h->n_stage[dst] = n - done;
}

static inline void hc_handoff_flush(struct hc_handoff *h)
{
	for (unsigned d = 0; d < h->n; d++)
		hc_handoff_flush_one(h, d);
}

/*
 * Can dst take `need` more ops now (staged ones included)?  Flushes the
 * stage when it would overflow.  Returns 1 if yes.  The producer is the
 * only one adding to the ring, so a yes stays true until we stage.
 */
static inline int hc_handoff_room(struct hc_handoff *h, unsigned dst, uint32_t need)
{
	if (h->n_stage[dst] + need > HC_STAGE_OPS)
		hc_handoff_flush_one(h, dst);
	return h->n_stage[dst] + need <= HC_STAGE_OPS &&
	       rte_ring_free_count(h->op_out[dst]) >= h->n_stage[dst] + need;
}

static inline void hc_handoff_stage(struct hc_handoff *h, unsigned dst,
				    const struct hc_op *op)
{
	h->stage[dst][h->n_stage[dst]++] = *op;
}

static inline uint32_t hc_handoff_staged(const struct hc_handoff *h)
{
	uint32_t t = 0;
	for (unsigned d = 0; d < h->n; d++)
		t += h->n_stage[d];
	return t;
}

#endif /* HC_HANDOFF_H */
