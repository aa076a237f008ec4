/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_usertab.h - the compact user table: a 64-bit user id -> a stable
 * position in the caller's array of per-user records, for one writer.
 *
 * The index is hc_keyidx (common/hc_keyidx.h: Robin Hood probing over
 * 4-byte entries, the key in the record's first 8 bytes, a seeded hash,
 * a crowded home refused); this table adds the positions: handed out
 * from a free list threaded through the freed records' key fields.  A
 * walk reads the index (nothing per position says which are in use: an
 * add or a delete writes no third line).  5 B a user beside the records;
 * with hc_members' 32-byte record that is 37 B a user.
 * Records never move: a position is the user's until the user is
 * deleted, so other tables may hold it.
 */
#ifndef HC_USERTAB_H
#define HC_USERTAB_H

#include <stddef.h>
#include <stdint.h>

#include "hc_keyidx.h"

#define HC_USERTAB_MAX_DIST HC_KEYIDX_MAX_DIST
#define HC_USERTAB_MAX_CAPACITY HC_KEYIDX_MAX_CAPACITY
#define HC_USERTAB_BULK HC_KEYIDX_BULK /* most keys of one lookup_bulk */

struct hc_usertab {
	struct hc_keyidx ix; /* key -> position; ix.count: keys held        */
	uint32_t capacity;   /* positions 0 .. capacity - 1                */
	uint32_t fresh;      /* positions never used yet: fresh .. capacity */
	uint32_t free1;      /* a freed position + 1 (0: none); the next one's
	                        + 1 is in its record's key field            */
};

/*
 * A table for up to capacity keys (1 .. HC_USERTAB_MAX_CAPACITY) whose
 * records are records[0 .. capacity - 1], stride bytes apart (the
 * caller's, zeroed or not).  seed keys the hash (hc_members passes
 * rte_rand()).  Returns 0 or -EINVAL / -ENOMEM.
 */
int hc_usertab_init(struct hc_usertab *t, uint32_t capacity, void *records, size_t stride,
		    uint64_t seed, int socket);
void hc_usertab_free(struct hc_usertab *t);

/* The key's position, or -ENOENT. */
static inline int32_t hc_usertab_lookup(const struct hc_usertab *t, uint64_t key)
{
	return hc_keyidx_lookup(&t->ix, key);
}

/*
 * n (<= HC_USERTAB_BULK) lookups at once: all homes hashed and prefetched,
 * then each key's first candidate record prefetched, then each finished:
 * the cache misses of a table far larger than the cache overlap.  pos[i]
 * is keys[i]'s position or -ENOENT; found records are in cache after.
 */
static inline void hc_usertab_lookup_bulk(const struct hc_usertab *t, const uint64_t *keys,
					  unsigned n, int32_t *pos)
{
	hc_keyidx_lookup_bulk(&t->ix, keys, n, pos);
}

/* The same, and each found key's index entry (hc_keyidx_lookup_bulk_at),
 * a hint for hc_usertab_del_at. */
static inline void hc_usertab_lookup_bulk_at(const struct hc_usertab *t, const uint64_t *keys,
					     unsigned n, int32_t *pos, uint32_t *entry)
{
	hc_keyidx_lookup_bulk_at(&t->ix, keys, n, pos, entry);
}

/* Add key (absent: a new position, its record's key written; present: its
 * position).  -ENOSPC when full or when the key's home is crowded. */
int32_t hc_usertab_add(struct hc_usertab *t, uint64_t key);

/* hc_usertab_add for a key the caller has just looked up and found absent
 * (a lookup less; a present key would be indexed twice). */
int32_t hc_usertab_add_absent(struct hc_usertab *t, uint64_t key);

/* Delete key: its former position, or -ENOENT. */
int32_t hc_usertab_del(struct hc_usertab *t, uint64_t key);

/* Delete key, which is at pos, its index entry found at hint by a bulk
 * lookup (hc_keyidx_del_at: no second probe while the hint holds). */
int32_t hc_usertab_del_at(struct hc_usertab *t, uint64_t key, uint32_t pos, uint32_t hint);

/* The key at position pos, which must be in use. */
static inline uint64_t hc_usertab_key_at(const struct hc_usertab *t, uint32_t pos)
{
	return hc_keyidx_key_at(&t->ix, pos);
}

/* Keys held. */
static inline uint32_t hc_usertab_count(const struct hc_usertab *t)
{
	return t->ix.count;
}

/* Positions in use, each once, in the index's order (not the positions'):
 * *next starts at 0; returns the next position in use, or -ENOENT at the
 * end.  The table must not change during a walk. */
int32_t hc_usertab_next(const struct hc_usertab *t, uint32_t *next);

/* Bytes this table allocated (its index, not the records). */
size_t hc_usertab_bytes(const struct hc_usertab *t);

/* The index entry where key's probe starts (its home): tests use it to
 * crowd one home. */
static inline uint32_t hc_usertab_home(const struct hc_usertab *t, uint64_t key)
{
	return hc_keyidx_home(&t->ix, key);
}

/* The longest probe distance now in the index (a test's and an operator's
 * view of how crowded it is; a scan of the whole index). */
static inline unsigned hc_usertab_max_dist(const struct hc_usertab *t)
{
	return hc_keyidx_max_dist(&t->ix);
}

#endif /* HC_USERTAB_H */
