/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_pending.c - a worker's seat requests in flight (see hc_pending.h):
 * the table's memory, its walks, and the chains of deferred ops.
 */
#include "hc_pending.h"

#include <errno.h>

#include <rte_malloc.h>

int hc_pending_init(struct hc_pending_table *t, uint64_t seed, int socket)
{
	t->seed = seed;
	t->node = rte_malloc_socket("hc_deferred", sizeof(struct hc_deferred) * HC_PENDING_DEFERRED,
				    64, socket);
	t->entry = rte_zmalloc_socket("hc_pending",
				      sizeof(struct hc_pending) << HC_PENDING_BITS, 64, socket);
	t->bucket = rte_zmalloc_socket("hc_pending_bucket",
				       sizeof(uint16_t) << HC_PENDING_BITS, 64, socket);
	t->filter = rte_zmalloc_socket("hc_pending_filter", HC_PENDING_FILTER * sizeof(uint16_t),
					       64, socket);
	t->replay = rte_malloc_socket("hc_replay", sizeof(struct hc_op) * HC_PENDING_DEFERRED,
				      64, socket);
	t->gw_deferred = rte_zmalloc_socket("hc_gw_deferred", 65536 * sizeof(uint32_t), 64, socket);
	if (t->node == NULL || t->replay == NULL || t->entry == NULL || t->bucket == NULL ||
	    t->filter == NULL || t->gw_deferred == NULL)
		return -ENOMEM;
	/* the free list in order: the entries in use stay at the start */
	for (uint32_t i = 0; i < (1u << HC_PENDING_BITS); i++)
		t->entry[i].next = i + 1 < (1u << HC_PENDING_BITS) ? i + 2 : 0;
	t->free_entry = 1;
	for (uint32_t i = 0; i < HC_PENDING_DEFERRED; i++)
		t->node[i].next = i + 1 < HC_PENDING_DEFERRED ? i + 1 : UINT32_MAX;
	t->free_node = 0;
	return 0;
}

void hc_pending_free(struct hc_pending_table *t)
{
	rte_free(t->node);
	rte_free(t->entry);
	rte_free(t->bucket);
	rte_free(t->filter);
	rte_free(t->replay);
	rte_free(t->gw_deferred);
	t->gw_deferred = NULL;
	t->node = NULL;
	t->entry = NULL;
	t->bucket = NULL;
	t->filter = NULL;
	t->replay = NULL;
}

uint32_t hc_pending_max_probe(const struct hc_pending_table *t)
{
	uint32_t most = 0;
	for (uint32_t b = 0; b < (1u << HC_PENDING_BITS); b++) {
		uint32_t d = 0;
		for (uint32_t e = t->bucket[b]; e != 0; e = t->entry[e - 1].next, d++)
			if (d > most)
				most = d;
	}
	return most;
}

int hc_pending_defer(struct hc_pending_table *t, struct hc_pending *p, const struct hc_op *o)
{
	int asks = hc_pending_may_ask(o);
	if (asks && p->asks >= HC_PENDING_CHAIN_ASKS)
		return 0;
	uint32_t node = t->free_node;
	if (unlikely(node == UINT32_MAX)) {
		/* cannot happen: apply_ops keeps room for every deferral
		 * (hc_ops.c); counted (pending_overflows), never an index
		 * out of the table.  The op is lost */
		__atomic_store_n(&t->overflows, t->overflows + 1, __ATOMIC_RELAXED);
		return 1;
	}
	p->asks += (uint32_t)asks;
	t->free_node = t->node[node].next;
	t->deferrals++;
	t->node[node].op = *o;
	t->node[node].op.flags |= HC_OPF_DEFERRED;
	t->node[node].next = UINT32_MAX;
	t->node[node].last = node;
	__atomic_store_n(&t->n_deferred, t->n_deferred + 1, __ATOMIC_RELAXED);
	uint32_t *g = &t->gw_deferred[o->gateway_id];
	__atomic_store_n(g, *g + 1, __ATOMIC_RELAXED);
	if (p->head == 0) {
		p->head = node + 1;
		return 1;
	}
	struct hc_deferred *h = &t->node[p->head - 1];
	t->node[h->last].next = node;
	h->last = node;
	return 1;
}

/* The two walks below visit every user in flight by its bucket's chain
 * (32 KiB of buckets and the entries in use, not every entry). */

/* Gateway gw's snapshot ops in one user's chain of deferred ops (head:
 * its first node + 1) take generation 0. */
static void age_chain(struct hc_pending_table *t, uint32_t head, uint16_t gw)
{
	for (uint32_t n = head - 1; head != 0 && n != UINT32_MAX; n = t->node[n].next) {
		struct hc_op *o = &t->node[n].op;
		if (o->gateway_id == gw && (o->op == HC_OP_SNAP_SET || o->op == HC_OP_SNAP_DROP))
			o->gen = 0;
	}
}

void hc_pending_age_snapshot_ops(struct hc_pending_table *t, uint16_t gw)
{
	if (t->n_deferred == 0)
		return;
	for (uint32_t b = 0; b < (1u << HC_PENDING_BITS); b++)
		for (uint32_t e = t->bucket[b]; e != 0; e = t->entry[e - 1].next)
			age_chain(t, t->entry[e - 1].head, gw);
}

void hc_pending_defer_all(struct hc_pending_table *t, struct hc_op o)
{
	if (t->n_pending == 0)
		return;
	for (uint32_t b = 0; b < (1u << HC_PENDING_BITS); b++) {
		for (uint32_t e = t->bucket[b]; e != 0; e = t->entry[e - 1].next) {
			o.user_id = t->entry[e - 1].user;
			hc_pending_defer(t, &t->entry[e - 1], &o);
		}
	}
}
