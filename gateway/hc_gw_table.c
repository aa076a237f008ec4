/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_gw_table.c - the gateway's user -> room table (see .h).
 */
#include "hc_gw_table.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* murmur3's whole 64-bit finaliser of user ^ seed, as the appliance's
 * tables hash (common/hc_keyidx.h).  Its first round alone is not
 * enough: after one multiply the low bits depend only on low bits, and
 * ids differing by D << (33 + b) | D << b share a home of 2^b slots
 * whatever the seed. */
static inline uint64_t slot_of(uint64_t user, uint64_t seed, uint64_t mask)
{
	uint64_t h = user ^ seed;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h & mask;
}

uint64_t hc_gw_table_home(const struct hc_gw_table *t, uint64_t user)
{
	return slot_of(user, t->seed, t->mask);
}

/* An empty table of at least `slots` slots (a power of two) keyed by seed. */
static int table_init(struct hc_gw_table *t, uint64_t slots, uint64_t seed)
{
	uint64_t n = 64;
	while (n < slots)
		n <<= 1;
	t->e = calloc(n, sizeof(*t->e));
	if (t->e == NULL)
		return -1;
	t->mask = n - 1;
	t->n = 0;
	t->seed = seed;
	return 0;
}

int hc_gw_table_init(struct hc_gw_table *t, uint64_t slots)
{
	if (sodium_init() < 0) /* (idempotent; the session has called it) */
		return -1;
	uint64_t seed;
	randombytes_buf(&seed, sizeof(seed));
	return table_init(t, slots, seed);
}

void hc_gw_table_free(struct hc_gw_table *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

struct hc_gw_entry *hc_gw_table_find(const struct hc_gw_table *t, uint64_t user)
{
	for (uint64_t i = slot_of(user, t->seed, t->mask);; i = (i + 1) & t->mask) {
		struct hc_gw_entry *e = &t->e[i];
		if (e->room == 0)
			return NULL;
		if (e->user == user)
			return e;
	}
}

static int grow(struct hc_gw_table *t)
{
	struct hc_gw_table bigger;
	if (table_init(&bigger, (t->mask + 1) * 2, t->seed) != 0)
		return -1;
	for (uint64_t i = 0; i <= t->mask; i++)
		if (t->e[i].room != 0)
			hc_gw_table_set(&bigger, t->e[i].user, t->e[i].room, t->e[i].pool,
					t->e[i].session);
	free(t->e);
	*t = bigger;
	return 0;
}

int hc_gw_table_set(struct hc_gw_table *t, uint64_t user, uint32_t room, uint16_t pool,
		    uint64_t session)
{
	if ((t->n + 1) * 2 > t->mask + 1) {
		/* at the growth threshold a user held already moves in place:
		 * a move needs no memory, so it cannot fail for want of it */
		struct hc_gw_entry *held = hc_gw_table_find(t, user);
		if (held != NULL) {
			held->room = room;
			held->pool = pool;
			held->session = session;
			return 0;
		}
		if (grow(t) != 0)
			return -1;
	}
	for (uint64_t i = slot_of(user, t->seed, t->mask);; i = (i + 1) & t->mask) {
		struct hc_gw_entry *e = &t->e[i];
		if (e->room == 0) {
			*e = (struct hc_gw_entry){.user = user, .session = session, .room = room,
						  .pool = pool};
			t->n++;
			return 0;
		}
		if (e->user == user) {
			e->room = room;
			e->pool = pool;
			e->session = session;
			return 0;
		}
	}
}

int hc_gw_table_del(struct hc_gw_table *t, uint64_t user)
{
	struct hc_gw_entry *e = hc_gw_table_find(t, user);
	if (e == NULL)
		return -1;
	uint64_t i = (uint64_t)(e - t->e), j = i;
	t->e[i].room = 0;
	t->n--;
	for (;;) {
		j = (j + 1) & t->mask;
		if (t->e[j].room == 0)
			return 0;
		uint64_t home = slot_of(t->e[j].user, t->seed, t->mask);
		/* leave j where it is if its home lies cyclically in (i, j] */
		if ((i <= j) ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		t->e[i] = t->e[j];
		t->e[j].room = 0;
		i = j;
	}
}
