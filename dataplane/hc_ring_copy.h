/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_ring_copy.h - bursts of fixed-size elements onto and off the
 * single-producer, single-consumer rte_rings between lcores, copied with
 * memcpy.
 *
 * rte_ring_enqueue_burst_elem and its dequeue copy 8- and 16-byte
 * elements in wide words and every other size as 32-bit words: six a
 * 24-byte change, eight a 32-byte op or place request, an instruction or
 * two each, on the per-event path.  These take the ring's zero-copy API
 * instead (the slots reserved, filled or read in at most two pieces where
 * the ring wraps, then published), which needs a single-producer ring to
 * put and a single-consumer ring to take: every ring here is both
 * (hc_dp_setup.c, hc_handoff.c).  The same semantics as the burst calls:
 * as many as fit (or are there), in order; the return says how many.
 */
#ifndef HC_RING_COPY_H
#define HC_RING_COPY_H

#include <string.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_ring_peek_zc.h>

/* Up to n elements of esize bytes from obj onto r: how many fitted. */
static inline unsigned hc_ring_put(struct rte_ring *r, const void *obj, unsigned esize,
				   unsigned n)
{
	struct rte_ring_zc_data zcd;
	unsigned k = rte_ring_enqueue_zc_burst_elem_start(r, esize, n, &zcd, NULL);
	if (k == 0)
		return 0;
	memcpy(zcd.ptr1, obj, (size_t)zcd.n1 * esize);
	if (k > zcd.n1) /* the ring wrapped */
		memcpy(zcd.ptr2, (const char *)obj + (size_t)zcd.n1 * esize,
		       (size_t)(k - zcd.n1) * esize);
	rte_ring_enqueue_zc_elem_finish(r, k);
	return k;
}

/* Up to n elements of esize bytes off r into obj: how many there were. */
static inline unsigned hc_ring_take(struct rte_ring *r, void *obj, unsigned esize, unsigned n)
{
	struct rte_ring_zc_data zcd;
	unsigned k = rte_ring_dequeue_zc_burst_elem_start(r, esize, n, &zcd, NULL);
	if (k == 0)
		return 0;
	memcpy(obj, zcd.ptr1, (size_t)zcd.n1 * esize);
	if (k > zcd.n1) /* the ring wrapped */
		memcpy((char *)obj + (size_t)zcd.n1 * esize, zcd.ptr2,
		       (size_t)(k - zcd.n1) * esize);
	rte_ring_dequeue_zc_elem_finish(r, k);
	return k;
}

#endif /* HC_RING_COPY_H */
