/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_park.c - seat requests parked by room (hc_park.h): one table of
 * entries, a free list through it, a FIFO list per room, and an index
 * from a room to its list's head.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_random.h>

#include "hc_park.h"

int hc_park_init(struct hc_park *k, const char *name)
{
	memset(k, 0, sizeof(*k));
	k->e = rte_zmalloc(name, sizeof(*k->e) * HC_CHAN_MAX_PENDING, 64);
	if (k->e == NULL)
		return -ENOMEM;
	if (hc_keyidx_init(&k->by_room, name, HC_CHAN_MAX_PENDING, k->e, sizeof(*k->e),
			   HC_KEYIDX_SPARSE, rte_rand(), SOCKET_ID_ANY) != 0) {
		rte_free(k->e);
		k->e = NULL;
		return -ENOMEM;
	}
	return 0;
}

void hc_park_free(struct hc_park *k)
{
	if (k->e != NULL)
		hc_keyidx_free(&k->by_room);
	rte_free(k->e);
	memset(k, 0, sizeof(*k));
}

/* A free entry (the table has one: n < HC_CHAN_MAX_PENDING). */
static uint32_t entry_get(struct hc_park *k)
{
	if (k->free1 != 0) {
		uint32_t at = k->free1 - 1;
		k->free1 = k->e[at].next;
		return at;
	}
	return k->fresh++;
}

static void entry_put(struct hc_park *k, uint32_t at)
{
	k->e[at].next = k->free1;
	k->free1 = at + 1;
}

int hc_park_add(struct hc_park *k, const struct hc_change *c, uint32_t worker)
{
	if (k->n == HC_CHAN_MAX_PENDING)
		return -ENOSPC;
	uint32_t room = c->to_room;
	int32_t head = hc_keyidx_lookup(&k->by_room, room);
	uint32_t at = entry_get(k);
	struct hc_park_entry *x = &k->e[at];
	x->room = room; /* (before the index reads it; a later entry's is
	                   not indexed: only the head is) */
	if (head < 0) {
		if (hc_keyidx_insert(&k->by_room, room, at) != 0) {
			entry_put(k, at);
			return -ENOSPC;
		}
		x->tail = at;
	} else {
		k->e[k->e[head].tail].next = at + 1;
		k->e[head].tail = at;
	}
	x->next = 0;
	x->p = (struct hc_parked){.c = *c, .worker = worker};
	k->n++;
	return 0;
}

uint32_t hc_park_take(struct hc_park *k, uint32_t room, struct hc_parked *out)
{
	int32_t head = hc_keyidx_del(&k->by_room, room);
	if (head < 0)
		return 0;
	uint32_t n = 0;
	for (uint32_t at = (uint32_t)head + 1; at != 0;) {
		uint32_t next = k->e[at - 1].next;
		out[n++] = k->e[at - 1].p;
		entry_put(k, at - 1);
		at = next;
	}
	k->n -= n;
	return n;
}
