/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_usertab.h - the compact user table: a 64-bit user id -> a stable
 * position in the caller's array of per-user records, for one writer.
 *
 * Why not rte_hash: rte_hash keeps a key store (key + data pointer, 16 B
 * a key), buckets (8 B an entry, rounded up to a power of two) and a ring
 * of free positions beside the caller's records: 44 B a user before the
 * record itself.  Here the user id lives in the caller's record (its
 * first 8 bytes) and the table adds 5 B a user: an index of 4-byte
 * entries, 1.25 entries a user, plus a bit a user saying which positions
 * are in use.  With hc_members' 32-byte record that is 37 B a user.
 *
 * The index is Robin Hood linear probing: an entry holds a position + 1
 * (26 bits) and its distance from its home (6 bits).  A lookup reads the
 * record only of entries whose home is the key's own (their distance
 * equals the probe's), about 1.4 records a lookup at the fullest, and
 * stops at the first entry closer to its home than the probe.  A delete
 * shifts the following entries back (no tombstones: probes stay short
 * under any churn).  Records never move: a position is the user's until
 * the user is deleted, so other tables may hold it.
 *
 * The hash is keyed by a random seed chosen at start (gateways choose user
 * ids; a known hash would let one crowd a home).  An add that would need a
 * distance above 63 is refused (-ENOSPC), as is one beyond capacity.
 */
#ifndef HC_USERTAB_H
#define HC_USERTAB_H

#include <stddef.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

#define HC_USERTAB_POS_BITS 26
#define HC_USERTAB_POS_MASK ((1u << HC_USERTAB_POS_BITS) - 1)
#define HC_USERTAB_MAX_DIST ((1u << (32 - HC_USERTAB_POS_BITS)) - 1) /* 63 */
/* the largest capacity: a position + 1 fits in 26 bits */
#define HC_USERTAB_MAX_CAPACITY (HC_USERTAB_POS_MASK - 1)
#define HC_USERTAB_BULK 64 /* most keys of one hc_usertab_lookup_bulk */

struct hc_usertab {
	uint32_t *index;     /* [n_index]: 0 empty, else pos + 1 | dist << 26 */
	uint32_t n_index;    /* capacity * 5 / 4, rounded up to 16         */
	uint32_t capacity;   /* positions 0 .. capacity - 1                */
	uint32_t count;      /* keys held                                   */
	uint32_t fresh;      /* positions never used yet: fresh .. capacity */
	uint32_t free1;      /* a freed position + 1 (0: none); the next one's
	                        + 1 is in its record's key field            */
	uint8_t *records;    /* the caller's: the key is a record's first 8 B */
	size_t stride;       /* bytes from one record to the next           */
	uint64_t seed;
	uint64_t *used;      /* [capacity / 64 + 1]: positions in use        */
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
int32_t hc_usertab_lookup(const struct hc_usertab *t, uint64_t key);

/*
 * n (<= HC_USERTAB_BULK) lookups at once: all homes hashed and prefetched,
 * then each key's first candidate record prefetched, then each finished:
 * the cache misses of a table far larger than the cache overlap.  pos[i]
 * is keys[i]'s position or -ENOENT; found records are in cache after.
 */
void hc_usertab_lookup_bulk(const struct hc_usertab *t, const uint64_t *keys, unsigned n,
			    int32_t *pos);

/* Add key (absent: a new position, its record's key written; present: its
 * position).  -ENOSPC when full or when the key's home is crowded. */
int32_t hc_usertab_add(struct hc_usertab *t, uint64_t key);

/* Delete key: its former position, or -ENOENT. */
int32_t hc_usertab_del(struct hc_usertab *t, uint64_t key);

/* Is position pos in use (it holds a key)? */
static inline int hc_usertab_in_use(const struct hc_usertab *t, uint32_t pos)
{
	return pos < t->capacity && (t->used[pos >> 6] >> (pos & 63) & 1) != 0;
}

/* The key at position pos, which must be in use. */
static inline uint64_t hc_usertab_key_at(const struct hc_usertab *t, uint32_t pos)
{
	uint64_t k;
	__builtin_memcpy(&k, t->records + (size_t)pos * t->stride, sizeof(k));
	return k;
}

/* Positions in use in increasing order: *next starts at 0; returns the
 * next position in use, or -ENOENT at the end. */
int32_t hc_usertab_next(const struct hc_usertab *t, uint32_t *next);

/* Bytes this table allocated (its index and in-use bits, not the records). */
size_t hc_usertab_bytes(const struct hc_usertab *t);

/* The index entry where key's probe starts (its home): tests use it to
 * crowd one home. */
uint32_t hc_usertab_home(const struct hc_usertab *t, uint64_t key);

/* The longest probe distance now in the index (a test's and an operator's
 * view of how crowded it is; a scan of the whole index). */
unsigned hc_usertab_max_dist(const struct hc_usertab *t);

#endif /* HC_USERTAB_H */
