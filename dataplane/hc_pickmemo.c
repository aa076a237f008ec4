/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_pickmemo.c - pick times of users picked and gone (see hc_pickmemo.h).
 * Worker only; never on the path of a user never picked.
 */
#include "hc_pickmemo.h"

#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_random.h>

/* Counters other lcores read: relaxed stores (one writer). */
#define COUNT(c) __atomic_store_n(&(c), (c) + 1, __ATOMIC_RELAXED)

_Static_assert((HC_PICKMEMO_KEPT & (HC_PICKMEMO_KEPT - 1)) == 0, "a power of two");

int hc_pickmemo_init(struct hc_pickmemo *p, const char *name, int socket)
{
	memset(p, 0, sizeof(*p));
	p->rec = rte_zmalloc_socket(name, sizeof(*p->rec) * HC_PICKMEMO_KEPT,
				    RTE_CACHE_LINE_SIZE, socket);
	/* (the seed: gateways choose user ids, hc_keyidx.h) */
	if (p->rec == NULL || hc_keyidx_init(&p->ix, name, HC_PICKMEMO_KEPT, p->rec,
					     sizeof(*p->rec), HC_KEYIDX_SPARSE, rte_rand(),
					     socket) != 0) {
		hc_pickmemo_free(p);
		return -ENOMEM;
	}
	return 0;
}

void hc_pickmemo_free(struct hc_pickmemo *p)
{
	hc_keyidx_free(&p->ix);
	rte_free(p->rec);
	memset(p, 0, sizeof(*p));
}

static inline struct hc_pickmemo_rec *at(struct hc_pickmemo *p, uint32_t n)
{
	return &p->rec[n & (HC_PICKMEMO_KEPT - 1)];
}

/* The oldest record leaves the ring (and the index, if still in it). */
static void pop_head(struct hc_pickmemo *p, uint32_t now)
{
	struct hc_pickmemo_rec *r = at(p, p->head++);
	if (r->live) {
		hc_keyidx_del(&p->ix, r->user_id);
		r->live = 0;
		if (now - r->picked_at < p->window_s)
			COUNT(p->st.evicted);
	}
}

void hc_pickmemo_keep(struct hc_pickmemo *p, uint64_t user_id, uint32_t picked_at,
		      uint32_t now)
{
	/* the head's records taken, or past the window, go first */
	while (p->head != p->tail &&
	       (!at(p, p->head)->live || now - at(p, p->head)->picked_at >= p->window_s))
		pop_head(p, now);
	if (now - picked_at >= p->window_s)
		return; /* past every cooldown asked: nothing to keep */
	int32_t had = hc_keyidx_lookup(&p->ix, user_id);
	if (had >= 0) {
		/* (kept before and never taken: its return came by a path
		 * that starts no slot; the newer pick time wins) */
		p->rec[had].picked_at = picked_at;
		return;
	}
	if (p->tail - p->head == HC_PICKMEMO_KEPT)
		pop_head(p, now); /* full: the oldest goes */
	uint32_t slot = p->tail & (HC_PICKMEMO_KEPT - 1);
	p->rec[slot] = (struct hc_pickmemo_rec){.user_id = user_id, .picked_at = picked_at};
	if (hc_keyidx_insert(&p->ix, user_id, slot) != 0) {
		COUNT(p->st.evicted); /* (a crowded home: not kept, counted lost) */
		return;
	}
	p->rec[slot].live = 1;
	p->tail++;
	COUNT(p->st.kept);
}

uint32_t hc_pickmemo_take_slow(struct hc_pickmemo *p, uint64_t user_id)
{
	int32_t slot = hc_keyidx_lookup(&p->ix, user_id);
	if (slot < 0)
		return 0;
	struct hc_pickmemo_rec *r = &p->rec[slot];
	hc_keyidx_del(&p->ix, user_id);
	r->live = 0; /* (its ring slot goes when the head passes it) */
	COUNT(p->st.restored);
	return r->picked_at;
}
