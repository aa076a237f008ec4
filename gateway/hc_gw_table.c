/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_gw_table.c - the gateway's user -> room table (see .h).
 */
#include "hc_gw_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static inline uint64_t slot_of(uint64_t user, uint64_t seed, uint64_t mask)
{
	user ^= seed;
	uint64_t h = user ^ (user >> 33);
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h & mask;
}

uint64_t hc_gw_table_home(const struct hc_gw_table *t, uint64_t user)
{
	return slot_of(user, t->seed, t->mask);
}

/* A seed no user can guess: the kernel's, else (no getrandom) the clock's
 * and the table's address, mixed. */
static uint64_t fresh_seed(const void *where)
{
	uint64_t s;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s))
		return s;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec ^
	    (uint64_t)(uintptr_t)where;
	return s;
}

int hc_gw_table_init(struct hc_gw_table *t, uint64_t slots)
{
	t->seed = fresh_seed(t);
	uint64_t n = 64;
	while (n < slots)
		n <<= 1;
	t->e = calloc(n, sizeof(*t->e));
	if (t->e == NULL)
		return -1;
	t->mask = n - 1;
	t->n = 0;
	return 0;
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
	if (hc_gw_table_init(&bigger, (t->mask + 1) * 2) != 0)
		return -1;
	bigger.seed = t->seed;
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
	if ((t->n + 1) * 2 > t->mask + 1 && grow(t) != 0)
		return -1;
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
