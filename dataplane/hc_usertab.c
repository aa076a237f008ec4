/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_usertab.c - the compact user table (hc_usertab.h): a Robin Hood index
 * of 4-byte entries over the caller's records, positions handed out from
 * a free list threaded through the freed records' key fields.
 */
#include "hc_usertab.h"

#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#define PB HC_USERTAB_POS_BITS

/* The seeded hash: murmur3's 64-bit finaliser of key ^ seed, high half. */
static inline uint32_t ut_hash(const struct hc_usertab *t, uint64_t key)
{
	uint64_t x = key ^ t->seed;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (uint32_t)(x >> 32);
}

/* The key's home: its hash scaled onto [0, n_index) (no power of two). */
static inline uint32_t ut_home(const struct hc_usertab *t, uint64_t key)
{
	return (uint32_t)(((uint64_t)ut_hash(t, key) * t->n_index) >> 32);
}

static inline uint32_t ut_next(const struct hc_usertab *t, uint32_t i)
{
	return i + 1 == t->n_index ? 0 : i + 1;
}

static inline uint8_t *ut_record(const struct hc_usertab *t, uint32_t pos)
{
	return t->records + (size_t)pos * t->stride;
}

int hc_usertab_init(struct hc_usertab *t, uint32_t capacity, void *records, size_t stride,
		    uint64_t seed, int socket)
{
	memset(t, 0, sizeof(*t));
	if (capacity == 0 || capacity > HC_USERTAB_MAX_CAPACITY || records == NULL ||
	    stride < sizeof(uint64_t))
		return -EINVAL;
	/* at most 80 % full; whole cache lines */
	uint64_t n = ((uint64_t)capacity * 5 + 3) / 4;
	n = (n + 15) & ~(uint64_t)15;
	t->n_index = (uint32_t)n;
	t->capacity = capacity;
	t->records = records;
	t->stride = stride;
	t->seed = seed;
	t->index = rte_zmalloc_socket("hc_usertab", n * sizeof(uint32_t), 64, socket);
	t->used = rte_zmalloc_socket("hc_usertab_used", ((size_t)capacity / 64 + 1) * sizeof(uint64_t),
				     64, socket);
	if (t->index == NULL || t->used == NULL) {
		hc_usertab_free(t);
		return -ENOMEM;
	}
	return 0;
}

void hc_usertab_free(struct hc_usertab *t)
{
	rte_free(t->index);
	rte_free(t->used);
	memset(t, 0, sizeof(*t));
}

/* From index *i at distance *d from a key's home, the next entry of that
 * home: its position (*i, *d left at it), or -ENOENT at an empty entry or
 * one closer to its home than *d (Robin Hood: the key would have taken
 * its place). */
static inline int32_t ut_scan(const struct hc_usertab *t, uint32_t *i, uint32_t *d)
{
	for (;;) {
		uint32_t e = t->index[*i];
		if (e == 0 || (e >> PB) < *d)
			return -ENOENT;
		if ((e >> PB) == *d) /* same home */
			return (int32_t)((e & HC_USERTAB_POS_MASK) - 1);
		(*d)++;
		*i = ut_next(t, *i);
	}
}

/* From index i at distance d from key's home: key's position (and its
 * entry's index in *at), or -ENOENT. */
static inline int32_t ut_probe_at(const struct hc_usertab *t, uint64_t key, uint32_t i,
				  uint32_t d, uint32_t *at)
{
	for (;;) {
		int32_t pos = ut_scan(t, &i, &d);
		if (pos < 0 || hc_usertab_key_at(t, (uint32_t)pos) == key) {
			*at = i;
			return pos;
		}
		d++;
		i = ut_next(t, i);
	}
}

static inline int32_t ut_probe(const struct hc_usertab *t, uint64_t key, uint32_t i, uint32_t d)
{
	uint32_t at;
	return ut_probe_at(t, key, i, d, &at);
}

int32_t hc_usertab_lookup(const struct hc_usertab *t, uint64_t key)
{
	return ut_probe(t, key, ut_home(t, key), 0);
}

void hc_usertab_lookup_bulk(const struct hc_usertab *t, const uint64_t *keys, unsigned n,
			    int32_t *pos)
{
	uint32_t at[HC_USERTAB_BULK], dist[HC_USERTAB_BULK];

	for (unsigned k = 0; k < n; k++) {
		at[k] = ut_home(t, keys[k]);
		rte_prefetch0(&t->index[at[k]]);
	}
	/* each key's first candidate (an entry of its home), its record
	 * prefetched; or the end of the probe */
	for (unsigned k = 0; k < n; k++) {
		dist[k] = 0;
		pos[k] = ut_scan(t, &at[k], &dist[k]);
		if (pos[k] >= 0)
			rte_prefetch0(ut_record(t, (uint32_t)pos[k]));
	}
	for (unsigned k = 0; k < n; k++)
		if (pos[k] >= 0)
			pos[k] = ut_probe(t, keys[k], at[k], dist[k]);
}

/* Would key (absent), from home, land within HC_USERTAB_MAX_DIST, and
 * would every entry it displaces?  (The add below, without writing.) */
static int ut_fits(const struct hc_usertab *t, uint32_t home)
{
	uint32_t i = home, d = 0;
	for (;;) {
		uint32_t e = t->index[i];
		if (e == 0)
			return d <= HC_USERTAB_MAX_DIST;
		uint32_t ed = e >> PB;
		if (ed < d) {
			if (d > HC_USERTAB_MAX_DIST)
				return 0;
			d = ed; /* the displaced entry goes on */
		}
		d++;
		i = ut_next(t, i);
	}
}

static uint32_t ut_take_position(struct hc_usertab *t)
{
	uint32_t pos;
	if (t->free1 != 0) {
		pos = t->free1 - 1;
		uint64_t link = hc_usertab_key_at(t, pos);
		t->free1 = (uint32_t)link;
	} else {
		pos = t->fresh++;
	}
	t->used[pos >> 6] |= 1ull << (pos & 63);
	return pos;
}

int32_t hc_usertab_add(struct hc_usertab *t, uint64_t key)
{
	uint32_t home = ut_home(t, key);
	int32_t found = ut_probe(t, key, home, 0);
	if (found >= 0)
		return found;
	if (t->count >= t->capacity || !ut_fits(t, home))
		return -ENOSPC;
	uint32_t pos = ut_take_position(t);
	memcpy(ut_record(t, pos), &key, sizeof(key));
	uint32_t carry = pos + 1, d = 0, i = home;
	for (;;) {
		uint32_t e = t->index[i];
		if (e == 0) {
			t->index[i] = carry | d << PB;
			break;
		}
		uint32_t ed = e >> PB;
		if (ed < d) { /* richer than us: it moves on, we stay */
			t->index[i] = carry | d << PB;
			carry = e & HC_USERTAB_POS_MASK;
			d = ed;
		}
		d++;
		i = ut_next(t, i);
	}
	t->count++;
	return (int32_t)pos;
}

int32_t hc_usertab_del(struct hc_usertab *t, uint64_t key)
{
	uint32_t i;
	int32_t found = ut_probe_at(t, key, ut_home(t, key), 0, &i);
	if (found < 0)
		return found;
	uint32_t pos = (uint32_t)found;
	/* backward shift: the entries after it that are not at home move
	 * one closer */
	for (uint32_t j = ut_next(t, i);; j = ut_next(t, j)) {
		uint32_t e = t->index[j];
		if (e == 0 || (e >> PB) == 0)
			break;
		t->index[i] = e - (1u << PB);
		i = j;
	}
	t->index[i] = 0;
	t->used[pos >> 6] &= ~(1ull << (pos & 63));
	uint64_t link = t->free1;
	memcpy(ut_record(t, pos), &link, sizeof(link));
	t->free1 = pos + 1;
	t->count--;
	return (int32_t)pos;
}

int32_t hc_usertab_next(const struct hc_usertab *t, uint32_t *next)
{
	uint32_t p = *next;
	while (p < t->fresh) {
		uint64_t w = t->used[p >> 6] >> (p & 63);
		if (w != 0) {
			p += (uint32_t)__builtin_ctzll(w);
			if (p >= t->fresh)
				break;
			*next = p + 1;
			return (int32_t)p;
		}
		p = (p | 63) + 1;
	}
	*next = p;
	return -ENOENT;
}

size_t hc_usertab_bytes(const struct hc_usertab *t)
{
	return (size_t)t->n_index * sizeof(uint32_t) + ((size_t)t->capacity / 64 + 1) * sizeof(uint64_t);
}

uint32_t hc_usertab_home(const struct hc_usertab *t, uint64_t key)
{
	return ut_home(t, key);
}

unsigned hc_usertab_max_dist(const struct hc_usertab *t)
{
	unsigned m = 0;
	for (uint32_t i = 0; i < t->n_index; i++)
		if (t->index[i] != 0 && (t->index[i] >> PB) > m)
			m = t->index[i] >> PB;
	return m;
}
