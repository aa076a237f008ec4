/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_keyidx.h - a compact index from a 64-bit key (a user id) to a
 * position in the caller's array of records, each record starting with
 * its key.  One writer; the caller owns the positions.
 *
 * Used by the dataplane's user table (hc_usertab: positions from a free
 * list) and the control core's seat reservations and directives in flight
 * (positions are slots of their FIFO rings).  Why not rte_hash: rte_hash
 * keeps its own key store (key + data pointer, 16 B a key) and buckets
 * (8 B an entry, rounded up to a power of two) beside the caller's
 * records; here the key stays in the record and the index adds 5 B a key
 * (4-byte entries, 1.25 a key), and a lookup reads about one index line
 * and one record.
 *
 * The index is Robin Hood linear probing: an entry holds a position + 1
 * and a tag (26 bits between them) and its distance from its home (6
 * bits).  The position takes the bits the capacity needs (pos_bits); the
 * rest of the 26 hold a tag, more bits of the key's hash than its home
 * used (5 at 1 Mi keys, 2 at 10 Mi, none from 32 Mi).  A lookup reads the
 * record only of entries whose home is the key's own (their distance
 * equals the probe's) and whose tag is the key's, and stops at the first
 * entry closer to its home than the probe: a key that is absent costs a
 * record read only when another key of its home has its tag too.  A
 * delete shifts the following entries back (no tombstones: probes stay
 * short under any churn).
 *
 * The hash is keyed by a seed the caller chooses at random at start
 * (gateways choose user ids; a known hash would let one crowd a home).
 * An insert that would need a distance above 63 is refused (-ENOSPC) and
 * changes nothing, as is one beyond capacity.
 */
#ifndef HC_KEYIDX_H
#define HC_KEYIDX_H

#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_prefetch.h>

/* an entry's bits below its distance: position + 1 and tag between them */
#define HC_KEYIDX_POS_BITS 26
#define HC_KEYIDX_POS_MASK ((1u << HC_KEYIDX_POS_BITS) - 1)
#define HC_KEYIDX_MAX_DIST ((1u << (32 - HC_KEYIDX_POS_BITS)) - 1) /* 63 */
/* the largest capacity: a position + 1 fits in 26 bits */
#define HC_KEYIDX_MAX_CAPACITY (HC_KEYIDX_POS_MASK - 1)
#define HC_KEYIDX_BULK 64 /* most keys of one hc_keyidx_lookup_bulk */
#define HC_KEYIDX_WINDOW 8 /* entries compared at once (hc_keyidx.c's
                             windows: a probe's from a key's home, a
                             delete's shift after the key's entry) */

/* Index entries per key, in quarters.  DENSE: 1.25, at most 80 % full,
 * memory first (the dataplane's user table, millions of keys, 5 B each).
 * SPARSE: 2, at most 50 % full (8 B a key), speed first: at 80 % a
 * linear-probing insert walks ~13 entries and shifts them, at 50 % ~2.5;
 * for the control core's indexes, small and churned by every directive
 * and seat (docs/benchmarks.md, "The control core's indexes"). */
enum hc_keyidx_density { HC_KEYIDX_DENSE = 5, HC_KEYIDX_SPARSE = 8 };

struct hc_keyidx {
	uint32_t *index;     /* [n_index]: 0 empty, else pos + 1 | tag | dist << 26 */
	uint32_t pos_mask;   /* the entry's position + 1 bits                */
	uint32_t tag_mask;   /* its tag bits, above them (0: no tag)         */
	uint32_t n_index;    /* capacity * density / 4, rounded up to 16   */
	uint32_t capacity;   /* positions 0 .. capacity - 1; most keys      */
	uint32_t count;      /* keys held                                   */
	uint8_t *records;    /* the caller's: the key is a record's first 8 B */
	size_t stride;       /* bytes from one record to the next           */
	uint64_t seed;
};

/*
 * An index for up to capacity keys (1 .. HC_KEYIDX_MAX_CAPACITY) at
 * positions records[0 .. capacity - 1], stride bytes apart, of density
 * entries per 4 keys (enum hc_keyidx_density).  Returns 0 or -EINVAL /
 * -ENOMEM.  name names the allocation (rte_malloc).
 */
int hc_keyidx_init(struct hc_keyidx *x, const char *name, uint32_t capacity, void *records,
		   size_t stride, enum hc_keyidx_density density, uint64_t seed, int socket);
void hc_keyidx_free(struct hc_keyidx *x);

/* The key's position, or -ENOENT. */
int32_t hc_keyidx_lookup(const struct hc_keyidx *x, uint64_t key);

/*
 * n (<= HC_KEYIDX_BULK) lookups at once: all homes hashed and prefetched,
 * then each key's first candidate record prefetched, then each finished:
 * the cache misses of an index far larger than the cache overlap.  pos[i]
 * is keys[i]'s position or -ENOENT; found records are in cache after.
 */
void hc_keyidx_lookup_bulk(const struct hc_keyidx *x, const uint64_t *keys, unsigned n,
			   int32_t *pos);

/* hc_keyidx_lookup_bulk, and for each key found its entry's index in
 * entry[i] (a hint for hc_keyidx_del_at; for a key absent, where its
 * probe stopped or UINT32_MAX: always initialised). */
void hc_keyidx_lookup_bulk_at(const struct hc_keyidx *x, const uint64_t *keys, unsigned n,
			      int32_t *pos, uint32_t *entry);

/*
 * Index key, which must be absent, at pos (the record there must hold the
 * key by the next lookup; the insert itself reads no record).  0, or
 * -ENOSPC (at capacity, or the key's home crowded) with nothing changed.
 */
int hc_keyidx_insert(struct hc_keyidx *x, uint64_t key, uint32_t pos);

/* Key (present) now lives at pos, whose record holds it: its former
 * position, or -ENOENT. */
int32_t hc_keyidx_repoint(struct hc_keyidx *x, uint64_t key, uint32_t pos);

/* Every key at position p now lives at map[p] (< capacity), whose record
 * holds it: many keys repointed at once, in one pass over the index
 * (no hash, no probe; entries keep their places), for a caller that moved
 * many records together.  map is read at the positions in use, and at 0. */
void hc_keyidx_remap(struct hc_keyidx *x, const uint32_t *map);

/* Forget key: its former position, or -ENOENT.  No record is written. */
int32_t hc_keyidx_del(struct hc_keyidx *x, uint64_t key);

/* hc_keyidx_del for a key at pos whose entry a bulk lookup found at
 * index hint: when the entry there still holds pos (no insert or delete
 * since moved it) and pos's record key, the delete starts there, without
 * hashing or probing again; otherwise it is hc_keyidx_del.  The caller
 * must keep one live key to a position, held in its record (as
 * hc_usertab does): then an entry holding pos is key's. */
int32_t hc_keyidx_del_at(struct hc_keyidx *x, uint64_t key, uint32_t pos, uint32_t hint);

/* The key in the record at pos. */
static inline uint64_t hc_keyidx_key_at(const struct hc_keyidx *x, uint32_t pos)
{
	uint64_t k;
	__builtin_memcpy(&k, x->records + (size_t)pos * x->stride, sizeof(k));
	return k;
}

/* Bytes this index allocated (not the records). */
size_t hc_keyidx_bytes(const struct hc_keyidx *x);

/* murmur3's 64-bit finaliser of key ^ seed. */
static inline uint64_t hc_keyidx_hash(const struct hc_keyidx *x, uint64_t key)
{
	uint64_t h = key ^ x->seed;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* From a key's hash h: its home, the index entry where its probe starts
 * (h's high half scaled onto [0, n_index), no power of two), and its tag
 * in its entries (h's low bits, above the position's). */
static inline uint32_t hc_keyidx_home_of(const struct hc_keyidx *x, uint64_t h)
{
	return (uint32_t)(((h >> 32) * x->n_index) >> 32);
}
static inline uint32_t hc_keyidx_tag_of(const struct hc_keyidx *x, uint64_t h)
{
	return (uint32_t)h & x->tag_mask;
}

/* Key's home and tag.  Tests use them to crowd one home (with one tag). */
static inline uint32_t hc_keyidx_home(const struct hc_keyidx *x, uint64_t key)
{
	return hc_keyidx_home_of(x, hc_keyidx_hash(x, key));
}
static inline uint32_t hc_keyidx_tag(const struct hc_keyidx *x, uint64_t key)
{
	return hc_keyidx_tag_of(x, hc_keyidx_hash(x, key));
}

/*
 * For a caller that knows its next keys (a burst of control messages):
 * prefetch key's home entry some keys ahead, then, once that line is in
 * cache, the first record the lookup will compare (hc_keyidx_prefetch_record
 * reads the index).  Nothing when the index is empty.  The line of the
 * home's 8th entry too: an insert's first window compares the 8 entries
 * from the home at once (hc_keyidx.c), and the 8th is in the next line 7
 * times in 16 (without it, an insert into a table of 10 M keys waited
 * there a DRAM miss at 7 keys in 16: docs/benchmarks.md, "The window's
 * second line"); the insert's run and a delete's shift reach 8 entries
 * past the key's own, which the second stage asks for.  Every caller's
 * next step is an insert or a delete of the key, or may be.
 */
static inline void hc_keyidx_prefetch(const struct hc_keyidx *x, uint64_t key)
{
	if (x->count != 0) {
		uint32_t home = hc_keyidx_home(x, key);
		rte_prefetch0(&x->index[home]);
		if (home + HC_KEYIDX_WINDOW <= x->n_index)
			rte_prefetch0(&x->index[home + HC_KEYIDX_WINDOW - 1]);
	}
}
void hc_keyidx_prefetch_record(const struct hc_keyidx *x, uint64_t key);

/* Index entries a cache line holds (the index is line-aligned). */
#define HC_KEYIDX_LINE_ENTRIES (RTE_CACHE_LINE_SIZE / sizeof(uint32_t))

/* The first entry of the index line after the one holding index[entry];
 * entry itself in the index's last line. */
static inline uint32_t hc_keyidx_line_after(const struct hc_keyidx *x, uint32_t entry)
{
	uint32_t next_line = (entry | (uint32_t)(HC_KEYIDX_LINE_ENTRIES - 1)) + 1;
	return next_line < x->n_index ? next_line : entry;
}

/* Prefetch the index line after the one holding index[entry] (its line
 * in cache): where an insert's walk to the first empty entry, or a
 * delete's backward shift, starting at entry often ends.  In the last
 * line, that line again (no branch). */
static inline void hc_keyidx_prefetch_after(const struct hc_keyidx *x, uint32_t entry)
{
	rte_prefetch0(&x->index[hc_keyidx_line_after(x, entry)]);
}

/* Positions held, in index order (a scan of it all): *cursor starts at 0;
 * returns the next entry's position, or -ENOENT at the end.  Each
 * position held comes once while the index is not written. */
int32_t hc_keyidx_next(const struct hc_keyidx *x, uint32_t *cursor);

/* The longest probe distance now in the index (a scan of it all). */
unsigned hc_keyidx_max_dist(const struct hc_keyidx *x);

#endif /* HC_KEYIDX_H */
