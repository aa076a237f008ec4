/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_pickmemo.c - pick times of users picked and gone (see hc_pickmemo.h).
 * Worker only.
 */
#include "hc_pickmemo.h"

#include <errno.h>
#include <string.h>

#include <rte_random.h>

#include "hc_bigmem.h"

/* Counters other lcores read: relaxed stores (one writer). */
#define COUNT(c) __atomic_store_n(&(c), (c) + 1, __ATOMIC_RELAXED)

/* Records a keep expires at most before its own (the worker's timers do
 * the rest): a keep's time stays bounded whatever the ring holds. */
#define KEEP_EXPIRES 8

#define REC_BYTES (sizeof(struct hc_pickmemo_rec) * HC_PICKMEMO_KEPT)
#define FILTER_BYTES ((size_t)HC_PICKMEMO_CELLS)
#define REMAP_BYTES (sizeof(uint32_t) * HC_PICKMEMO_KEPT)

_Static_assert((HC_PICKMEMO_KEPT & (HC_PICKMEMO_KEPT - 1)) == 0, "a power of two");
_Static_assert((HC_PICKMEMO_CELLS & (HC_PICKMEMO_CELLS - 1)) == 0, "a power of two");

int hc_pickmemo_init(struct hc_pickmemo *p, const char *name, int socket)
{
	memset(p, 0, sizeof(*p));
	/* (faulted in now: the first compaction and the first touches of
	 * the filter are on the fast path) */
	p->rec = hc_bigmem_zalloc(name, REC_BYTES + REMAP_BYTES, socket);
	p->filter = hc_bigmem_zalloc(name, FILTER_BYTES, socket);
	/* (the seeds: gateways choose user ids, hc_keyidx.h) */
	p->filter_seed = rte_rand();
	if (p->rec == NULL || p->filter == NULL ||
	    hc_keyidx_init(&p->ix, name, HC_PICKMEMO_KEPT, p->rec, sizeof(*p->rec),
			   HC_KEYIDX_SPARSE, rte_rand(), socket) != 0) {
		hc_pickmemo_free(p);
		return -ENOMEM;
	}
	return 0;
}

void hc_pickmemo_free(struct hc_pickmemo *p)
{
	hc_keyidx_free(&p->ix);
	hc_bigmem_free(p->rec, REC_BYTES + REMAP_BYTES);
	hc_bigmem_free(p->filter, FILTER_BYTES);
	memset(p, 0, sizeof(*p));
}

void hc_pickmemo_window(struct hc_pickmemo *p, uint32_t cooldown_s, uint32_t now)
{
	if (cooldown_s >= p->window_s || now - p->window_at >= p->window_s) {
		p->window_s = cooldown_s;
		p->window_at = now;
	}
}

/* The compaction's map of old slot to new: after the ring, in its
 * allocation.  No field of its own: the memo's struct is inside every
 * worker's, whose hot fields after it would all move (a build with the
 * pointer measured batch1 0.968-0.978 against the one before; one without
 * it 0.990: not told apart from the noise, but no reason to move them) */
static inline uint32_t *memo_remap(struct hc_pickmemo *p)
{
	return (uint32_t *)(void *)(p->rec + HC_PICKMEMO_KEPT);
}

static inline struct hc_pickmemo_rec *at(struct hc_pickmemo *p, uint32_t n)
{
	return &p->rec[n & (HC_PICKMEMO_KEPT - 1)];
}

/* Record r leaves the index and the filter; in the ring it is dead from
 * now (its slot waits for the head, the tail or a compaction). */
static void unindex(struct hc_pickmemo *p, struct hc_pickmemo_rec *r)
{
	hc_keyidx_del(&p->ix, r->user_id);
	r->picked_at = 0;
	uint8_t *cell = &p->filter[hc_pickmemo_cell(p, r->user_id)];
	if (*cell != UINT8_MAX) /* (255 sticks) */
		(*cell)--;
	if (p->ix.count == 0 && p->sticky != 0) {
		memset(p->filter, 0, HC_PICKMEMO_CELLS); /* (the others are 0 now) */
		p->sticky = 0;
	}
}

/* The oldest record leaves the ring (and the index, if still in it). */
static void pop_head(struct hc_pickmemo *p, uint32_t now)
{
	struct hc_pickmemo_rec *r = at(p, p->head++);
	if (r->picked_at == 0)
		return;
	if (hc_pickmemo_within(p, r->picked_at, now))
		COUNT(p->st.evicted);
	unindex(p, r);
}

void hc_pickmemo_expire(struct hc_pickmemo *p, uint32_t now, unsigned budget)
{
	for (; budget > 0 && p->head != p->tail; budget--) {
		const struct hc_pickmemo_rec *r = at(p, p->head);
		if (r->picked_at != 0 && now - r->left_at < p->window_s)
			return; /* the oldest is still of use: so are the rest */
		pop_head(p, now);
	}
}

/* The ring's live records moved together from its head, in leave order;
 * the dead ones' slots are free after.  Then the index repointed in one
 * pass over its entries (hc_keyidx_remap: no probe a record; 3-4 times
 * faster than repointing each, docs/benchmarks.md "The pick memo's
 * compaction, timed").  O(HC_PICKMEMO_KEPT), run on a full ring a
 * quarter dead or more: at most once every HC_PICKMEMO_KEPT / 4 keeps. */
static void compact(struct hc_pickmemo *p)
{
	uint32_t *remap = memo_remap(p), to = p->head;
	/* without a branch on the data (which records were taken is random):
	 * every record copied to slot `to`, which is its own or a dead one
	 * (the ring is full, so [head, tail) is every slot once, and `to`
	 * never passes n), and its own slot marked dead unless it stayed (a
	 * later record moves in, or it ends past the new tail, outside the
	 * ring); `to` moves on past live records only */
	for (uint32_t n = p->head; n != p->tail; n++) {
		struct hc_pickmemo_rec *r = at(p, n), v = *r;
		*at(p, to) = v;
		r->picked_at = n == to ? v.picked_at : 0;
		/* (a dead record's entry is read by nobody: it is in no index
		 * entry, so hc_keyidx_remap never reads it) */
		remap[n & (HC_PICKMEMO_KEPT - 1)] = to & (HC_PICKMEMO_KEPT - 1);
		to += v.picked_at != 0;
	}
	hc_keyidx_remap(&p->ix, remap);
	p->tail = to;
}

void hc_pickmemo_keep(struct hc_pickmemo *p, uint64_t user_id, uint32_t picked_at,
		      uint32_t now)
{
	if (picked_at == 0)
		return; /* (0: never picked; a record of 0 would read as dead) */
	hc_pickmemo_expire(p, now, KEEP_EXPIRES);
	int32_t had = hc_keyidx_lookup(&p->ix, user_id);
	if (had >= 0) /* (kept before and never taken back: its return came
	                 by no new slot; the new record replaces it) */
		unindex(p, &p->rec[had]);
	if (p->tail - p->head == HC_PICKMEMO_KEPT) { /* full */
		if (hc_pickmemo_dead(p) >= HC_PICKMEMO_KEPT / 4)
			compact(p);
		else
			pop_head(p, now); /* the oldest goes */
	}
	struct hc_pickmemo_rec *r = at(p, p->tail);
	*r = (struct hc_pickmemo_rec){.user_id = user_id, .left_at = now};
	if (hc_keyidx_insert(&p->ix, user_id, p->tail & (HC_PICKMEMO_KEPT - 1)) != 0) {
		COUNT(p->st.evicted); /* (a crowded home: not kept, counted lost) */
		return;
	}
	r->picked_at = picked_at;
	p->tail++;
	uint8_t *cell = &p->filter[hc_pickmemo_cell(p, user_id)];
	if (*cell != UINT8_MAX && ++*cell == UINT8_MAX)
		p->sticky++;
	COUNT(p->st.kept);
}

/* Dead records a take trims from the ring's tail at most (a user going
 * round LEAVE + JOIN needs one; the head and compactions take the rest). */
#define TAKE_TRIMS 8

uint32_t hc_pickmemo_take_slow(struct hc_pickmemo *p, uint64_t user_id, uint32_t now)
{
	int32_t slot = hc_keyidx_lookup(&p->ix, user_id);
	if (slot < 0)
		return 0;
	struct hc_pickmemo_rec *r = &p->rec[slot];
	uint32_t picked_at = r->picked_at;
	unindex(p, r);
	/* the newest records, taken, leave the ring at once: a user going
	 * round LEAVE + JOIN does not fill it with dead records */
	for (unsigned k = 0; k < TAKE_TRIMS && p->tail != p->head &&
	     at(p, p->tail - 1)->picked_at == 0; k++)
		p->tail--;
	if (!hc_pickmemo_within(p, picked_at, now))
		return 0; /* past the window: as if never kept */
	COUNT(p->st.restored);
	return picked_at;
}
