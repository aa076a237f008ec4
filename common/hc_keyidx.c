/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_keyidx.c - the compact key index (hc_keyidx.h): Robin Hood linear
 * probing over 4-byte entries, keys compared in the caller's records.
 * Lookups, inserts and deletes compare 8 entries at once where a probe
 * or a run ends within them (SSE4.1), and walk entry by entry past them.
 */
#include "hc_keyidx.h"

#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

#ifdef __SSE4_1__
#include <smmintrin.h>
#endif

#include "hc_bigmem.h"

#define PB HC_KEYIDX_POS_BITS

/* The key's home and tag, from one hash (hc_keyidx.h). */
static inline uint32_t kx_home(const struct hc_keyidx *x, uint64_t key, uint32_t *tag)
{
	uint64_t h = hc_keyidx_hash(x, key);
	*tag = hc_keyidx_tag_of(x, h);
	return hc_keyidx_home_of(x, h);
}

static inline uint32_t kx_next(const struct hc_keyidx *x, uint32_t i)
{
	return i + 1 == x->n_index ? 0 : i + 1;
}

static inline const uint8_t *kx_record(const struct hc_keyidx *x, uint32_t pos)
{
	return x->records + (size_t)pos * x->stride;
}

int hc_keyidx_init(struct hc_keyidx *x, const char *name, uint32_t capacity, void *records,
		   size_t stride, enum hc_keyidx_density density, uint64_t seed, int socket)
{
	memset(x, 0, sizeof(*x));
	if (capacity == 0 || capacity > HC_KEYIDX_MAX_CAPACITY || records == NULL ||
	    stride < sizeof(uint64_t) ||
	    (density != HC_KEYIDX_DENSE && density != HC_KEYIDX_SPARSE))
		return -EINVAL;
	/* at most 80 % (dense) or 50 % (sparse) full; whole cache lines */
	uint64_t n = ((uint64_t)capacity * (unsigned)density + 3) / 4;
	n = (n + 15) & ~(uint64_t)15;
	x->index = hc_bigmem_zalloc(name, n * sizeof(uint32_t), socket);
	if (x->index == NULL)
		return -ENOMEM;
	/* a position + 1 is at most capacity: its bits, the rest the tag's */
	unsigned pos_bits = 32u - (unsigned)__builtin_clz(capacity);
	x->pos_mask = (uint32_t)((1ull << pos_bits) - 1);
	x->tag_mask = HC_KEYIDX_POS_MASK & ~x->pos_mask;
	x->n_index = (uint32_t)n;
	x->capacity = capacity;
	x->records = records;
	x->stride = stride;
	x->seed = seed;
	return 0;
}

void hc_keyidx_free(struct hc_keyidx *x)
{
	hc_bigmem_free(x->index, hc_keyidx_bytes(x));
	memset(x, 0, sizeof(*x));
}

/* The one compare every walk of the index makes: an entry is empty or
 * nearer its home than distance d exactly when it is at most kx_floor(d)
 * (a live entry's position + 1, in its low bits, is never 0).  64-bit,
 * so that d up to 64, past the largest distance, cannot wrap. */
static inline uint64_t kx_floor(uint32_t d)
{
	return (uint64_t)d << PB;
}

/* From index *i at distance *d from a key's home, the next entry of that
 * home with the key's tag: its position (*i, *d left at it), or -ENOENT
 * at an empty entry or one closer to its home than *d (Robin Hood: the
 * key would have taken its place).  Reads no record. */
static inline int32_t kx_scan(const struct hc_keyidx *x, uint32_t *i, uint32_t *d,
			      uint32_t tag)
{
	/* One compare each: an entry at or below `near` (kx_floor) stops the
	 * probe; one whose bits above the position equal `want` has
	 * distance *d and the tag. */
	uint64_t near = kx_floor(*d), want = near | tag;
	uint32_t above_pos = ~x->pos_mask, at = *i;
	int32_t found = -ENOENT;
	for (;;) {
		uint32_t e = x->index[at];
		if (e <= near)
			break;
		if ((e & above_pos) == want) { /* same home, same tag */
			found = (int32_t)((e & x->pos_mask) - 1);
			break;
		}
		near += 1u << PB;
		want += 1u << PB;
		at = kx_next(x, at);
	}
	*i = at;
	*d = (uint32_t)(near >> PB);
	return found;
}

/* From index i at distance d from key's home: key's position (and its
 * entry's index in *at), or -ENOENT. */
static inline int32_t kx_probe_at(const struct hc_keyidx *x, uint64_t key, uint32_t tag,
				  uint32_t i, uint32_t d, uint32_t *at)
{
	for (;;) {
		int32_t pos = kx_scan(x, &i, &d, tag);
		if (pos < 0 || hc_keyidx_key_at(x, (uint32_t)pos) == key) {
			*at = i;
			return pos;
		}
		d++;
		i = kx_next(x, i);
	}
}

int32_t hc_keyidx_lookup(const struct hc_keyidx *x, uint64_t key)
{
	uint32_t at, tag;
	if (x->count == 0)
		return -ENOENT; /* (the control core's tables, empty most of the time) */
	uint32_t home = kx_home(x, key, &tag);
	return kx_probe_at(x, key, tag, home, 0, &at);
}

void hc_keyidx_prefetch_record(const struct hc_keyidx *x, uint64_t key)
{
	if (x->count == 0)
		return;
	uint32_t tag, i = kx_home(x, key, &tag), d = 0;
	int32_t pos = kx_scan(x, &i, &d, tag);
	if (pos >= 0)
		rte_prefetch0(kx_record(x, (uint32_t)pos));
	/* an insert's or a delete's window from entry i reaches i + 8 */
	if (i + HC_KEYIDX_WINDOW < x->n_index)
		rte_prefetch0(&x->index[i + HC_KEYIDX_WINDOW]);
}

void hc_keyidx_lookup_bulk(const struct hc_keyidx *x, const uint64_t *keys, unsigned n,
			   int32_t *pos)
{
	uint32_t entry[HC_KEYIDX_BULK];
	hc_keyidx_lookup_bulk_at(x, keys, n, pos, entry);
}

#ifdef __SSE4_1__
/* 8 index entries, 4 a register (SSE4.1), and what the windows below ask
 * of them: each answer a bit a lane (bit j: entry j), or lanes chosen by
 * their index, so that no answer is a branch on the data. */
#define KX_WINDOW ((unsigned)HC_KEYIDX_WINDOW)

struct kx_v8 {
	__m128i lo, hi; /* entries 0-3, 4-7 */
};

static inline struct kx_v8 kx_load8(const uint32_t *e)
{
	return (struct kx_v8){_mm_loadu_si128((const __m128i *)(const void *)e),
			      _mm_loadu_si128((const __m128i *)(const void *)(e + 4))};
}

static inline void kx_store8(uint32_t *e, struct kx_v8 v)
{
	_mm_storeu_si128((__m128i *)(void *)e, v.lo);
	_mm_storeu_si128((__m128i *)(void *)(e + 4), v.hi);
}

static inline struct kx_v8 kx_set8(uint32_t v)
{
	__m128i r = _mm_set1_epi32((int)v);
	return (struct kx_v8){r, r};
}

static inline struct kx_v8 kx_add8(struct kx_v8 a, struct kx_v8 b)
{
	return (struct kx_v8){_mm_add_epi32(a.lo, b.lo), _mm_add_epi32(a.hi, b.hi)};
}

static inline struct kx_v8 kx_sub8(struct kx_v8 a, struct kx_v8 b)
{
	return (struct kx_v8){_mm_sub_epi32(a.lo, b.lo), _mm_sub_epi32(a.hi, b.hi)};
}

/* lanes of all ones or all zeros, as 8 bits */
static inline unsigned kx_bits8(__m128i lo, __m128i hi)
{
	return (unsigned)_mm_movemask_ps(_mm_castsi128_ps(lo)) |
	       (unsigned)_mm_movemask_ps(_mm_castsi128_ps(hi)) << 4;
}

/* bit j: a[j] == b[j] */
static inline unsigned kx_equal8(struct kx_v8 a, struct kx_v8 b)
{
	return kx_bits8(_mm_cmpeq_epi32(a.lo, b.lo), _mm_cmpeq_epi32(a.hi, b.hi));
}

/* bit j: a[j] <= b[j], unsigned (min(a, b) == a: distances 32-63 set the
 * top bit) */
static inline unsigned kx_at_most8(struct kx_v8 a, struct kx_v8 b)
{
	return kx_bits8(_mm_cmpeq_epi32(_mm_min_epu32(a.lo, b.lo), a.lo),
			_mm_cmpeq_epi32(_mm_min_epu32(a.hi, b.hi), a.hi));
}

/* lanes j < n (0 .. 8) from take, the rest from keep */
static inline struct kx_v8 kx_below8(struct kx_v8 keep, struct kx_v8 take, unsigned n)
{
	__m128i nv = _mm_set1_epi32((int)n);
	return (struct kx_v8){
		_mm_blendv_epi8(keep.lo, take.lo, _mm_cmpgt_epi32(nv, _mm_setr_epi32(0, 1, 2, 3))),
		_mm_blendv_epi8(keep.hi, take.hi, _mm_cmpgt_epi32(nv, _mm_setr_epi32(4, 5, 6, 7)))};
}

/* the first lane whose bit is set, or KX_WINDOW for none */
static inline unsigned kx_first8(unsigned bits)
{
	return (unsigned)__builtin_ctz(bits | 1u << KX_WINDOW);
}

/* A probe's first KX_WINDOW entries from a key's home, compared at once:
 * bit j of *stop says entry home + j is at most kx_floor(j) (empty, or
 * nearer its home: the probe ends there), bit j of *match that it has
 * distance j and the key's tag (meaningful below the first stop only:
 * without tags an empty entry 0 matches at lane 0, which is a stop too).
 * Where a probe ends and which entry it finds depend on the data, and a
 * scalar walk's mispredicted exits cost more than the misses it waits
 * for (docs/benchmarks.md, "Windows of 8 index entries"). */
struct kx_window_consts {
	struct kx_v8 above_pos, floor; /* ~pos_mask; kx_floor(j) in lane j */
};

static inline struct kx_window_consts kx_window_consts(const struct hc_keyidx *x)
{
	return (struct kx_window_consts){
		.above_pos = kx_set8(~x->pos_mask),
		.floor = {_mm_setr_epi32(0, 1 << PB, 2 << PB, 3 << PB),
			  _mm_setr_epi32(4 << PB, 5 << PB, 6 << PB, 7 << PB)},
	};
}

static inline void kx_window(const struct hc_keyidx *x, const struct kx_window_consts *c,
			     uint32_t home, uint32_t tag, unsigned *stop, unsigned *match)
{
	struct kx_v8 e = kx_load8(&x->index[home]), t = kx_set8(tag);
	struct kx_v8 above = {_mm_and_si128(e.lo, c->above_pos.lo),
			      _mm_and_si128(e.hi, c->above_pos.hi)};
	struct kx_v8 want = {_mm_or_si128(c->floor.lo, t.lo), _mm_or_si128(c->floor.hi, t.hi)};
	*stop = kx_at_most8(e, c->floor);
	*match = kx_equal8(above, want);
}
#endif

void hc_keyidx_lookup_bulk_at(const struct hc_keyidx *x, const uint64_t *keys, unsigned n,
			      int32_t *pos, uint32_t *entry)
{
	uint32_t at[HC_KEYIDX_BULK], dist[HC_KEYIDX_BULK], tag[HC_KEYIDX_BULK];

	for (unsigned k = 0; k < n; k++) {
		at[k] = kx_home(x, keys[k], &tag[k]);
		rte_prefetch0(&x->index[at[k]]);
#ifdef __SSE4_1__
		/* the window's last entry: in the next line 7 times in 16 */
		if (at[k] + KX_WINDOW <= x->n_index)
			rte_prefetch0(&x->index[at[k] + KX_WINDOW - 1]);
#endif
	}
	/* each key's first candidate (an entry of its home), its record
	 * prefetched; or the end of the probe */
#ifdef __SSE4_1__
	const struct kx_window_consts c = kx_window_consts(x);
#endif
	for (unsigned k = 0; k < n; k++) {
#ifdef __SSE4_1__
		if (likely(at[k] + KX_WINDOW <= x->n_index)) {
			unsigned stop, match;
			kx_window(x, &c, at[k], tag[k], &stop, &match);
			unsigned ends = kx_first8(stop);
			unsigned cand = match & ((1u << ends) - 1);
			if (likely(ends < KX_WINDOW || cand != 0)) {
				unsigned j = cand != 0 ? (unsigned)__builtin_ctz(cand) : ends;
				uint32_t e = x->index[at[k] + j];
				at[k] += j;
				dist[k] = j;
				pos[k] = cand != 0 ? (int32_t)((e & x->pos_mask) - 1) : -ENOENT;
				/* found: its record; absent: the index line after
				 * where the probe stopped, even at an empty entry
				 * (an insert may follow, a new user's JOIN, and its
				 * window reads the 8 entries after the key's, over
				 * the line's end 8 times in 16; without it, 0.90-1.00
				 * of the rate).  One prefetch, its address chosen
				 * without a branch */
				const void *p = cand != 0 ? (const void *)kx_record(x, (uint32_t)pos[k]) :
					(const void *)&x->index[hc_keyidx_line_after(x, at[k])];
				rte_prefetch0(p);
				continue;
			}
		}
#endif
		dist[k] = 0;
		pos[k] = kx_scan(x, &at[k], &dist[k], tag[k]);
		if (pos[k] >= 0) {
			rte_prefetch0(kx_record(x, (uint32_t)pos[k]));
		} else if (x->index[at[k]] != 0) {
			/* absent, its probe stopped at another key's entry: an
			 * insert may follow (a new user's JOIN) and walk on from
			 * there (at an empty entry it writes that one alone) */
			hc_keyidx_prefetch_after(x, at[k]);
		}
	}
	/* each candidate's record (in cache by now) checked; on a tag
	 * collision the probe goes on past it.  Without a branch on found or
	 * absent: an absent key compares with record 0's key (a record
	 * always there, capacity >= 1), its result unused */
	for (unsigned k = 0; k < n; k++) {
		int32_t p = pos[k];
		uint64_t key = hc_keyidx_key_at(x, p >= 0 ? (uint32_t)p : 0);
		int same = p >= 0 && key == keys[k];
		entry[k] = same ? at[k] : UINT32_MAX;
		if (unlikely(p >= 0 && !same))
			pos[k] = kx_probe_at(x, keys[k], tag[k], kx_next(x, at[k]), dist[k] + 1,
					     &entry[k]);
	}
}

#ifdef __SSE4_1__
/* hc_keyidx_insert's walk and shift over windows, where they fit: where
 * the key goes (its probe's end, in the window from its home), the first
 * empty entry within KX_WINDOW - 1 after it, and the entries between
 * moved one further, all without a branch on the data.  0 when done; 1
 * when not tried (near the index's end, a probe or run past a window):
 * the walk then does it all. */
static inline int kx_insert_window(struct hc_keyidx *x, const struct kx_window_consts *c,
				   uint32_t home, uint32_t tag, uint32_t pos)
{
	if (unlikely(home + 2 * KX_WINDOW > x->n_index)) /* (reads up to home + 15) */
		return 1;
	unsigned stop, match;
	kx_window(x, c, home, tag, &stop, &match);
	unsigned d = kx_first8(stop);
	if (unlikely(d == KX_WINDOW))
		return 1;
	uint32_t at = home + d;
	/* from the key's entry on: the first empty one, z entries on */
	struct kx_v8 run = kx_load8(&x->index[at]);
	/* (no moved entry can be at the largest distance, as the walk must
	 * check: along a run an entry is at most one further from its home
	 * than the entry before it, and the one at the key's entry is nearer
	 * than the key, at most 6: a moved entry was at most 12 from home,
	 * 13 after the move) */
	unsigned z = kx_first8(kx_equal8(run, kx_set8(0)));
	if (unlikely(z == KX_WINDOW))
		return 1;
	/* entries at + 1 .. at + 8: the z before them one further on, the
	 * rest as they are (the empty one among them, overwritten) */
	kx_store8(&x->index[at + 1],
		  kx_below8(kx_load8(&x->index[at + 1]), kx_add8(run, kx_set8(1u << PB)), z));
	x->index[at] = (pos + 1) | tag | d << PB;
	x->count++;
	return 0;
}
#endif

/*
 * One walk from the key's home to the first empty entry, then the writes:
 * the key goes where the first entry closer to its own home than the
 * probe stands (entries of the same home stay before it), and that entry
 * and every one after it up to the empty entry move one further (each
 * one more from home, their order kept: homes stay in order along a run,
 * which is all a lookup relies on).  Refused, with nothing written, when
 * the key or a moved entry would be more than HC_KEYIDX_MAX_DIST from
 * home.  Where both the key's place and the first empty entry lie in
 * windows of 8, kx_insert_window does it without the walk.
 */
int hc_keyidx_insert(struct hc_keyidx *x, uint64_t key, uint32_t pos)
{
	if (x->count >= x->capacity || pos >= x->capacity)
		return -ENOSPC;
	uint32_t tag, at = kx_home(x, key, &tag), e;
#ifdef __SSE4_1__
	const struct kx_window_consts c = kx_window_consts(x);
	if (likely(kx_insert_window(x, &c, at, tag, pos) == 0))
		return 0;
#endif
	/* past every entry as far from its home as the key is, or farther */
	uint32_t d = 0;
	while (x->index[at] > kx_floor(d)) {
		d++;
		at = kx_next(x, at);
	}
	if (d > HC_KEYIDX_MAX_DIST)
		return -ENOSPC;
	uint32_t end = at, moved = 0;
	for (; (e = x->index[end]) != 0; end = kx_next(x, end), moved++)
		if ((e >> PB) >= HC_KEYIDX_MAX_DIST)
			return -ENOSPC;
	for (; moved > 0; moved--) {
		uint32_t from = end == 0 ? x->n_index - 1 : end - 1;
		x->index[end] = x->index[from] + (1u << PB);
		end = from;
	}
	x->index[at] = (pos + 1) | tag | d << PB;
	x->count++;
	return 0;
}

int32_t hc_keyidx_repoint(struct hc_keyidx *x, uint64_t key, uint32_t pos)
{
	uint32_t i, tag, home = kx_home(x, key, &tag);
	int32_t found = kx_probe_at(x, key, tag, home, 0, &i);
	if (found < 0 || pos >= x->capacity)
		return found < 0 ? found : -EINVAL;
	x->index[i] = (x->index[i] & ~x->pos_mask) | (pos + 1);
	return found;
}

void hc_keyidx_remap(struct hc_keyidx *x, const uint32_t *map)
{
	/* without a branch on the data: an entry is empty or not at random,
	 * a branch on it mispredicted half the time and cost more than the
	 * rest of the pass (an empty entry reads map[0], its result unused) */
	uint32_t *index = x->index;
	const uint32_t n = x->n_index, pos_mask = x->pos_mask;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t e = index[i], p = e & pos_mask;
		uint32_t moved = (e & ~pos_mask) | (map[p - (p != 0)] + 1);
		index[i] = moved & -(uint32_t)(e != 0);
	}
}

/* Remove the entry at index i (the key at position found): backward
 * shift, the entries after it that are not at home move one closer. */
static int32_t kx_del_entry(struct hc_keyidx *x, uint32_t i, int32_t found)
{
#ifdef __SSE4_1__
	/* where it fits, over a window: the s entries after i up to the
	 * first empty or at home (within KX_WINDOW) moved back, entry i + s
	 * emptied, in two blended stores (no branch on the data) */
	if (likely(i + KX_WINDOW + 1 <= x->n_index)) {
		struct kx_v8 next = kx_load8(&x->index[i + 1]);
		/* the first entry after i empty or at home */
		unsigned s = kx_first8(kx_at_most8(next, kx_set8((uint32_t)kx_floor(1))));
		if (likely(s < KX_WINDOW)) {
			/* entries i .. i + 7: the s after i one back, i + s
			 * emptied, the rest as they are */
			struct kx_v8 emptied = kx_below8(kx_load8(&x->index[i]), kx_set8(0), s + 1);
			kx_store8(&x->index[i], kx_below8(emptied, kx_sub8(next, kx_set8(1u << PB)), s));
			x->count--;
			return found;
		}
	}
#endif
	for (uint32_t j = kx_next(x, i);; j = kx_next(x, j)) {
		uint32_t e = x->index[j];
		if (e <= kx_floor(1)) /* empty, or at its home */
			break;
		x->index[i] = e - (1u << PB);
		i = j;
	}
	x->index[i] = 0;
	x->count--;
	return found;
}

int32_t hc_keyidx_del(struct hc_keyidx *x, uint64_t key)
{
	uint32_t i, tag, home = kx_home(x, key, &tag);
	int32_t found = kx_probe_at(x, key, tag, home, 0, &i);
	return found < 0 ? found : kx_del_entry(x, i, found);
}

int32_t hc_keyidx_del_at(struct hc_keyidx *x, uint64_t key, uint32_t pos, uint32_t hint)
{
	/* (pos < capacity: pos + 1 is never 0, so an empty entry differs) */
	if (pos < x->capacity && hint < x->n_index &&
	    (x->index[hint] & x->pos_mask) == pos + 1 && hc_keyidx_key_at(x, pos) == key)
		return kx_del_entry(x, hint, (int32_t)pos);
	return hc_keyidx_del(x, key);
}

size_t hc_keyidx_bytes(const struct hc_keyidx *x)
{
	return (size_t)x->n_index * sizeof(uint32_t);
}

int32_t hc_keyidx_next(const struct hc_keyidx *x, uint32_t *cursor)
{
	for (uint32_t i = *cursor; i < x->n_index; i++)
		if (x->index[i] != 0) {
			*cursor = i + 1;
			return (int32_t)((x->index[i] & x->pos_mask) - 1);
		}
	*cursor = x->n_index;
	return -ENOENT;
}

unsigned hc_keyidx_max_dist(const struct hc_keyidx *x)
{
	unsigned m = 0;
	for (uint32_t i = 0; i < x->n_index; i++)
		if (x->index[i] != 0 && (x->index[i] >> PB) > m)
			m = x->index[i] >> PB;
	return m;
}
