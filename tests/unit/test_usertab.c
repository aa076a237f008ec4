/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_usertab.c - the compact user table (dataplane/hc_usertab.h): random
 * adds, deletes and lookups (single and bulk) against a plain reference,
 * positions stable and unique, the walk, a full table, and a crowded home
 * (the 65th key of one home refused, nothing else disturbed).  And its
 * index used alone (common/hc_keyidx.h) as the control core uses it: over
 * a FIFO ring whose slots the caller assigns, a user's entry moved to
 * their newer slot (repoint), the oldest slot evicted when full.  And
 * the memory of such big tables without hugepages (common/hc_bigmem.h):
 * 2 MiB aligned, zeroed, counted, advised for transparent huge pages.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "hc_bigmem.h"
#include "hc_usertab.h"
#include "hc_unit.h"

struct rec {
	uint64_t key;
	uint64_t other; /* the caller's: never touched by the table */
};

static uint64_t rs = 987654321;
static uint64_t rnd64(void)
{
	rs = rs * 6364136223846793005ull + 1442695040888963407ull;
	return rs ^ (rs >> 29);
}

/* a spread of user ids from index u (any 64-bit values) */
static uint64_t key_of(uint32_t u)
{
	return (uint64_t)u * 0x9E3779B97F4A7C15ull + 17;
}

static void test_against_reference(void)
{
	enum { CAP = 20000, UNIVERSE = 40000, OPS = 600000 };
	struct rec *recs = calloc(CAP, sizeof(*recs));
	int32_t *ref = malloc(UNIVERSE * sizeof(*ref)); /* position or -1 */
	uint32_t *owner = malloc(CAP * sizeof(*owner));  /* position -> u */
	uint8_t *held = calloc(CAP, 1);                  /* position held  */
	struct hc_usertab t;
	CU_ASSERT_FATAL(recs != NULL && ref != NULL && owner != NULL && held != NULL);
	CU_ASSERT_EQUAL_FATAL(hc_usertab_init(&t, CAP, recs, sizeof(*recs), 42, 0), 0);
	for (uint32_t u = 0; u < UNIVERSE; u++)
		ref[u] = -1;
	uint32_t count = 0, refused = 0, bad = 0;
	for (uint32_t i = 0; i < OPS; i++) {
		uint32_t u = (uint32_t)(rnd64() % UNIVERSE);
		uint64_t k = key_of(u);
		unsigned what = (unsigned)(rnd64() % 8);
		if (what < 4) { /* add (present: its position) */
			int32_t at = hc_usertab_add(&t, k);
			if (ref[u] >= 0) {
				bad += at != ref[u];
			} else if (count == CAP) {
				bad += at != -ENOSPC;
				refused++;
			} else {
				bad += at < 0 || at >= CAP;
				if (at >= 0 && at < CAP) { /* a position no other key holds */
					bad += held[at] != 0 || recs[at].key != k;
					held[at] = 1;
					ref[u] = at;
					owner[at] = u;
					count++;
				}
			}
		} else if (what < 7) { /* delete */
			int32_t at = hc_usertab_del(&t, k);
			bad += at != (ref[u] >= 0 ? ref[u] : -ENOENT);
			if (ref[u] >= 0) {
				held[ref[u]] = 0;
				ref[u] = -1;
				count--;
			}
		} else { /* a bulk lookup of 64 ids, some absent */
			uint64_t keys[HC_USERTAB_BULK];
			uint32_t us[HC_USERTAB_BULK];
			int32_t pos[HC_USERTAB_BULK];
			for (unsigned j = 0; j < HC_USERTAB_BULK; j++) {
				us[j] = (uint32_t)(rnd64() % UNIVERSE);
				keys[j] = key_of(us[j]);
			}
			hc_usertab_lookup_bulk(&t, keys, HC_USERTAB_BULK, pos);
			for (unsigned j = 0; j < HC_USERTAB_BULK; j++)
				bad += pos[j] != (ref[us[j]] >= 0 ? ref[us[j]] : -ENOENT);
		}
		bad += t.ix.count != count;
		if (bad != 0)
			break;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(refused > 0); /* the table was full at times */
	/* every key by single lookup; the walk lists exactly the positions in use */
	for (uint32_t u = 0; u < UNIVERSE; u++)
		bad += hc_usertab_lookup(&t, key_of(u)) != (ref[u] >= 0 ? ref[u] : -ENOENT);
	CU_ASSERT_EQUAL(bad, 0);
	uint32_t next = 0, walked = 0;
	int32_t at;
	while ((at = hc_usertab_next(&t, &next)) >= 0 && walked <= CAP) { /* each held once */
		bad += at >= CAP || held[at] != 1 || ref[owner[at]] != at ||
			hc_usertab_key_at(&t, (uint32_t)at) != key_of(owner[at]);
		if (at < CAP)
			held[at] = 2;
		walked++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(walked, count);
	CU_ASSERT(hc_usertab_max_dist(&t) <= HC_USERTAB_MAX_DIST);
	/* 5 bytes a user of index, at most */
	CU_ASSERT(hc_usertab_bytes(&t) <= (size_t)CAP * 5 + 16 * 4);
	/* delete all: empty index, and the positions are handed out again */
	for (uint32_t u = 0; u < UNIVERSE; u++)
		if (ref[u] >= 0)
			bad += hc_usertab_del(&t, key_of(u)) != ref[u];
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(t.ix.count, 0);
	for (uint32_t i = 0; i < t.ix.n_index; i++)
		bad += t.ix.index[i] != 0;
	CU_ASSERT_EQUAL(bad, 0);
	next = 0;
	CU_ASSERT_EQUAL(hc_usertab_next(&t, &next), -ENOENT);
	for (uint32_t u = 0; u < CAP; u++) {
		at = hc_usertab_add(&t, key_of(u));
		bad += at < 0;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(t.fresh, CAP); /* no position beyond capacity */
	CU_ASSERT_EQUAL(hc_usertab_add(&t, key_of(CAP)), -ENOSPC);
	CU_ASSERT_EQUAL(t.ix.count, CAP);
	for (uint32_t i = 0; i < CAP; i++)
		bad += recs[i].other != 0; /* the table wrote keys only */
	CU_ASSERT_EQUAL(bad, 0);
	hc_usertab_free(&t);
	free(recs);
	free(ref);
	free(owner);
	free(held);
}

/* 65 keys of one home: 64 fit (distances 0 .. 63), the 65th is refused
 * and changes nothing; one deleted, it fits. */
static void test_crowded_home(void)
{
	enum { CAP = 4000, CROWD = HC_USERTAB_MAX_DIST + 2 };
	struct rec *recs = calloc(CAP, sizeof(*recs));
	struct hc_usertab t;
	uint64_t crowd[CROWD];
	CU_ASSERT_FATAL(recs != NULL);
	CU_ASSERT_EQUAL_FATAL(hc_usertab_init(&t, CAP, recs, sizeof(*recs), 7, 0), 0);
	uint32_t home = hc_usertab_home(&t, key_of(1)), n = 0;
	for (uint32_t u = 1; n < CROWD && u < 100000000; u++)
		if (hc_usertab_home(&t, key_of(u)) == home)
			crowd[n++] = key_of(u);
	CU_ASSERT_EQUAL_FATAL(n, CROWD);
	/* other keys elsewhere (homes at least 200 entries away from the
	 * crowd's, whose probes end before it) */
	uint32_t others = 0, bad = 0;
	for (uint32_t u = 200000000; others < 1000; u++) {
		uint32_t off = (hc_usertab_home(&t, key_of(u)) + t.ix.n_index - home) % t.ix.n_index;
		if (off >= 200 && off <= t.ix.n_index - 200) {
			bad += hc_usertab_add(&t, key_of(u)) < 0;
			others++;
		}
	}
	for (unsigned i = 0; i + 1 < CROWD; i++)
		bad += hc_usertab_add(&t, crowd[i]) < 0;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(hc_usertab_max_dist(&t), HC_USERTAB_MAX_DIST);
	uint32_t before = t.ix.count, fresh = t.fresh;
	uint32_t *copy = malloc(t.ix.n_index * sizeof(uint32_t));
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, t.ix.index, t.ix.n_index * sizeof(uint32_t));
	CU_ASSERT_EQUAL(hc_usertab_add(&t, crowd[CROWD - 1]), -ENOSPC);
	CU_ASSERT_EQUAL(t.ix.count, before);
	CU_ASSERT_EQUAL(t.fresh, fresh);
	CU_ASSERT_EQUAL(memcmp(copy, t.ix.index, t.ix.n_index * sizeof(uint32_t)), 0);
	/* two keys of the home just before the crowd's: the first takes that
	 * entry; the second would stand at the crowd's home and push every
	 * crowd entry one further, the last to 64: refused, nothing changed */
	uint32_t before_home = (home + t.ix.n_index - 1) % t.ix.n_index;
	uint64_t early[2];
	unsigned n_early = 0;
	for (uint32_t u = 300000000; n_early < 2 && u < 900000000; u++)
		if (hc_usertab_home(&t, key_of(u)) == before_home)
			early[n_early++] = key_of(u);
	CU_ASSERT_EQUAL_FATAL(n_early, 2);
	CU_ASSERT(hc_usertab_add(&t, early[0]) >= 0);
	memcpy(copy, t.ix.index, t.ix.n_index * sizeof(uint32_t));
	before = t.ix.count;
	fresh = t.fresh;
	CU_ASSERT_EQUAL(hc_usertab_add(&t, early[1]), -ENOSPC);
	CU_ASSERT_EQUAL(t.ix.count, before);
	CU_ASSERT_EQUAL(t.fresh, fresh);
	CU_ASSERT_EQUAL(memcmp(copy, t.ix.index, t.ix.n_index * sizeof(uint32_t)), 0);
	CU_ASSERT(hc_usertab_del(&t, early[0]) >= 0);
	for (unsigned i = 0; i + 1 < CROWD; i++)
		bad += hc_usertab_lookup(&t, crowd[i]) < 0;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(hc_usertab_del(&t, crowd[3]) >= 0);
	CU_ASSERT(hc_usertab_add(&t, crowd[CROWD - 1]) >= 0);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&t, crowd[3]), -ENOENT);
	for (unsigned i = 0; i < CROWD; i++)
		bad += i != 3 && hc_usertab_lookup(&t, crowd[i]) < 0;
	CU_ASSERT_EQUAL(bad, 0);
	free(copy);
	hc_usertab_free(&t);
	free(recs);
}

/* A FIFO ring of CAP slots indexed by user, as hc_directives keeps it: an
 * append repoints a present user to the new slot (the older slot dies) or
 * inserts; a full ring evicts its head (deleting the user if the head is
 * their live slot); deletes at random; every lookup against a reference. */
static void keyidx_ring(enum hc_keyidx_density density)
{
	enum { CAP = 5000, UNIVERSE = 9000, OPS = 400000 };
	struct rec *ring = calloc(CAP, sizeof(*ring));
	int32_t *ref = malloc(UNIVERSE * sizeof(*ref)); /* live slot or -1 */
	struct hc_keyidx x;
	CU_ASSERT_FATAL(ring != NULL && ref != NULL);
	CU_ASSERT_EQUAL_FATAL(hc_keyidx_init(&x, "t_keyidx", CAP, ring, sizeof(*ring), density,
					     5, 0), 0);
	/* entries: CAP * density / 4, whole lines of 16 */
	CU_ASSERT_EQUAL(x.n_index, density == HC_KEYIDX_DENSE ? 6256 : 10000);
	CU_ASSERT_EQUAL(hc_keyidx_bytes(&x), (size_t)x.n_index * 4);
	for (uint32_t u = 0; u < UNIVERSE; u++)
		ref[u] = -1;
	uint32_t head = 0, count = 0, live = 0, bad = 0, repointed = 0, evicted = 0;
	for (uint32_t i = 0; i < OPS; i++) {
		uint32_t u = (uint32_t)(rnd64() % UNIVERSE);
		uint64_t k = key_of(u);
		if (rnd64() % 4 != 0) { /* append */
			if (count == CAP) {
				uint64_t hk = ring[head].key;
				uint32_t hu = (uint32_t)ring[head].other - 1; /* its user */
				if (ring[head].other != 0) { /* live */
					bad += hc_keyidx_del(&x, hk) != (int32_t)head || ref[hu] != (int32_t)head;
					ref[hu] = -1;
					live--;
					evicted++;
				}
				head = (head + 1) % CAP;
				count--;
			}
			uint32_t slot = (head + count) % CAP;
			ring[slot] = (struct rec){.key = k, .other = u + 1ull}; /* live */
			count++;
			int32_t old = hc_keyidx_repoint(&x, k, slot);
			bad += old >= 0 ? old != ref[u] : old != -ENOENT || ref[u] != -1;
			if (old >= 0) {
				ring[old].other = 0;
				repointed++;
			} else {
				bad += hc_keyidx_insert(&x, k, slot) != 0;
				live++;
			}
			ref[u] = (int32_t)slot;
		} else { /* delete */
			int32_t was = hc_keyidx_del(&x, k);
			bad += was >= 0 ? was != ref[u] : was != -ENOENT || ref[u] != -1;
			if (was >= 0) {
				ring[was].other = 0;
				live--;
			}
			ref[u] = -1;
		}
		bad += x.count != live;
		if (i % 50000 == 0)
			for (uint32_t v = 0; v < UNIVERSE; v++)
				bad += hc_keyidx_lookup(&x, key_of(v)) != (ref[v] >= 0 ? ref[v] : -ENOENT);
	}
	for (uint32_t v = 0; v < UNIVERSE; v++)
		bad += hc_keyidx_lookup(&x, key_of(v)) != (ref[v] >= 0 ? ref[v] : -ENOENT);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(repointed > 10000 && evicted > 1000); /* both paths exercised */
	CU_ASSERT(hc_keyidx_max_dist(&x) <= HC_KEYIDX_MAX_DIST);
	/* a position beyond capacity is refused, nothing changed */
	CU_ASSERT_EQUAL(hc_keyidx_insert(&x, key_of(UNIVERSE + 1), CAP), -ENOSPC);
	CU_ASSERT_EQUAL(x.count, live);
	hc_keyidx_free(&x);
	free(ref);
	free(ring);
}

static void test_keyidx_ring(void)
{
	keyidx_ring(HC_KEYIDX_DENSE);
	keyidx_ring(HC_KEYIDX_SPARSE);
}

/* hc_keyidx_remap: 3,000 keys at random positions of 5,000 (and 4 of the
 * index's last two homes, so that a run crosses its end), their records
 * moved by a random permutation of the positions and the index remapped
 * in one pass: each key found at its new position, absent keys absent,
 * the count kept; then deletes and inserts against a reference (the
 * entries' tags and distances unchanged: the index still a valid one, its
 * shape kept: keyidx_misshapen). */
/* The index's shape: an entry at distance d > 0 follows an entry at
 * distance d - 1 or more (no gap between a key's home and its entry, and
 * homes in order along a run).  Returns the entries that break it. */
static unsigned keyidx_misshapen(const struct hc_keyidx *x)
{
	unsigned bad = 0;
	for (uint32_t i = 0; i < x->n_index; i++) {
		uint32_t e = x->index[i], prev = x->index[i == 0 ? x->n_index - 1 : i - 1];
		uint32_t d = e >> HC_KEYIDX_POS_BITS;
		if (e != 0 && d > 0 && (prev == 0 || (prev >> HC_KEYIDX_POS_BITS) + 1 < d))
			bad++;
	}
	return bad;
}

static void keyidx_remap(enum hc_keyidx_density density)
{
	enum { CAP = 5000, USED = 3000, ABSENT = 2000 };
	struct rec *r = calloc(CAP, sizeof(*r)), *moved = calloc(CAP, sizeof(*r));
	uint32_t *perm = calloc(CAP, sizeof(*perm)), *where = calloc(CAP, sizeof(*where));
	int32_t *ref = calloc(USED + ABSENT, sizeof(*ref));
	CU_ASSERT_FATAL(r != NULL && moved != NULL && perm != NULL && where != NULL && ref != NULL);
	struct hc_keyidx x;
	CU_ASSERT_EQUAL_FATAL(hc_keyidx_init(&x, "t_remap", CAP, r, sizeof(r[0]), density,
					     0x5eed, 0), 0);
	/* two shuffles of the positions: where users go, and where they move */
	for (uint32_t i = 0; i < CAP; i++)
		perm[i] = where[i] = i;
	for (uint32_t i = CAP - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rnd64() % (i + 1)), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		j = (uint32_t)(rnd64() % (i + 1));
		t = where[i];
		where[i] = where[j];
		where[j] = t;
	}
	for (uint32_t u = 0; u < USED; u++) {
		r[where[u]].key = key_of(u);
		CU_ASSERT_EQUAL(hc_keyidx_insert(&x, key_of(u), where[u]), 0);
		ref[u] = (int32_t)perm[where[u]];
	}
	for (uint32_t u = USED; u < USED + ABSENT; u++)
		ref[u] = -1;
	/* and WRAP keys of the index's last two homes at free positions: a
	 * run of entries crosses its end */
	enum { WRAP = 4 };
	uint64_t wkey[WRAP];
	uint32_t n_wrap = 0;
	for (uint32_t u = 1000000; u < 60000000 && n_wrap < WRAP; u++) {
		if (hc_keyidx_home(&x, key_of(u)) + 2 < x.n_index)
			continue;
		uint32_t p = where[USED + n_wrap];
		wkey[n_wrap++] = key_of(u);
		r[p].key = key_of(u);
		CU_ASSERT_EQUAL(hc_keyidx_insert(&x, key_of(u), p), 0);
	}
	CU_ASSERT_EQUAL_FATAL(n_wrap, WRAP);
	/* the records moved (the free positions' records hold a key never
	 * used: nothing may find them) */
	for (uint32_t p = 0; p < CAP; p++)
		moved[p].key = key_of(USED + ABSENT + 1);
	int32_t wref[WRAP];
	for (uint32_t j = 0; j < WRAP; j++)
		wref[j] = (int32_t)perm[where[USED + j]];
	for (uint32_t u = 0; u < USED; u++)
		moved[perm[where[u]]] = r[where[u]];
	for (uint32_t j = 0; j < WRAP; j++)
		moved[wref[j]] = r[where[USED + j]];
	memcpy(r, moved, CAP * sizeof(*r));
	/* a run of entries crosses the index's end */
	CU_ASSERT(x.index[x.n_index - 1] != 0 && x.index[0] != 0);
	hc_keyidx_remap(&x, perm);
	unsigned bad = 0;
	for (uint32_t u = 0; u < USED + ABSENT; u++)
		bad += hc_keyidx_lookup(&x, key_of(u)) != (ref[u] >= 0 ? ref[u] : -ENOENT);
	for (uint32_t j = 0; j < WRAP; j++)
		bad += hc_keyidx_lookup(&x, wkey[j]) != wref[j];
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(x.count, USED + WRAP);
	CU_ASSERT_EQUAL(keyidx_misshapen(&x), 0);
	/* and it goes on as an index: every 3rd user deleted, the absent
	 * ones inserted at the positions freed */
	uint32_t freed = 0;
	for (uint32_t u = 0; u < USED; u += 3) {
		bad += hc_keyidx_del(&x, key_of(u)) != ref[u];
		where[freed++] = (uint32_t)ref[u];
		ref[u] = -1;
	}
	for (uint32_t u = USED; u < USED + ABSENT && freed > 0; u++) {
		uint32_t p = where[--freed];
		r[p].key = key_of(u);
		bad += hc_keyidx_insert(&x, key_of(u), p) != 0;
		ref[u] = (int32_t)p;
	}
	for (uint32_t u = 0; u < USED + ABSENT; u++)
		bad += hc_keyidx_lookup(&x, key_of(u)) != (ref[u] >= 0 ? ref[u] : -ENOENT);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(hc_keyidx_max_dist(&x) <= HC_KEYIDX_MAX_DIST);
	CU_ASSERT_EQUAL(keyidx_misshapen(&x), 0);
	hc_keyidx_free(&x);
	free(r);
	free(moved);
	free(perm);
	free(where);
	free(ref);
}

static void test_keyidx_remap(void)
{
	keyidx_remap(HC_KEYIDX_DENSE);
	keyidx_remap(HC_KEYIDX_SPARSE);
}

static void test_bad_sizes(void)
{
	struct rec r[2];
	struct hc_usertab t;
	CU_ASSERT_EQUAL(hc_usertab_init(&t, 0, r, sizeof(r[0]), 1, 0), -EINVAL);
	CU_ASSERT_EQUAL(hc_usertab_init(&t, HC_USERTAB_MAX_CAPACITY + 1, r, sizeof(r[0]), 1, 0),
			-EINVAL);
	CU_ASSERT_EQUAL(hc_usertab_init(&t, 2, r, 4, 1, 0), -EINVAL);
	CU_ASSERT_EQUAL(hc_usertab_init(&t, 2, NULL, sizeof(r[0]), 1, 0), -EINVAL);
	struct hc_keyidx x; /* a density not of the enum */
	CU_ASSERT_EQUAL(hc_keyidx_init(&x, "t_bad", 2, r, sizeof(r[0]), 6, 1, 0), -EINVAL);
}

/* The mapping that starts at p in /proc/self/smaps: its size in kB and
 * whether it is advised for huge pages (VmFlags "hg"); 0 if none starts
 * there. */
static int smaps_of(const void *p, unsigned long *kb, int *hg)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, found = 0;
	*kb = 0;
	*hg = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) { /* a mapping's first line */
			in = lo == (uintptr_t)p;
			if (in) {
				found = 1;
				*kb = (hi - lo) / 1024;
			}
		} else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			*hg = strstr(line, " hg") != NULL;
		}
	}
	if (f != NULL)
		fclose(f);
	return found;
}

/* hc_keyidx_del_at: a delete from the entry a bulk lookup found, checked
 * before it is trusted.  Against a reference, each delete is given the
 * key's fresh entry (taken without a probe: the index's seed is changed
 * for that call, so a full delete would fail), an entry taken before
 * other deletes and inserts shifted the run, another key's entry, or any
 * index at all: every key left stays found at its position, every key
 * deleted is gone. */
static void test_keyidx_del_at(void)
{
	enum { CAP = 4000, KEYS = 3200, STEPS = 40000 };
	static struct rec r[CAP];
	static int32_t ref[KEYS];      /* key u -> position, or -1      */
	static uint32_t stale[KEYS];   /* an entry hint taken earlier   */
	struct hc_keyidx x;
	memset(r, 0, sizeof(r));
	CU_ASSERT_EQUAL_FATAL(hc_keyidx_init(&x, "t_del_at", CAP, r, sizeof(r[0]),
					     HC_KEYIDX_DENSE, 5, 0), 0);
	uint32_t free_pos[CAP], n_free = 0;
	for (uint32_t p = CAP; p-- > KEYS;)
		free_pos[n_free++] = p;
	for (uint32_t u = 0; u < KEYS; u++) {
		r[u].key = key_of(u);
		CU_ASSERT_EQUAL_FATAL(hc_keyidx_insert(&x, key_of(u), u), 0);
		ref[u] = (int32_t)u;
		stale[u] = UINT32_MAX;
	}
	uint32_t bad = 0, fast = 0;
	for (uint32_t s = 0; s < STEPS && bad == 0; s++) {
		uint32_t u = (uint32_t)(rnd64() % KEYS);
		uint64_t k = key_of(u);
		if (ref[u] < 0) { /* absent: back in, at a free position */
			uint32_t p = free_pos[--n_free];
			r[p].key = k;
			bad += hc_keyidx_insert(&x, k, p) != 0;
			ref[u] = (int32_t)p;
			continue;
		}
		int32_t pos;
		uint32_t entry, hint;
		hc_keyidx_lookup_bulk_at(&x, &k, 1, &pos, &entry);
		bad += pos != ref[u] || (x.index[entry] & x.pos_mask) != (uint32_t)pos + 1;
		switch (rnd64() % 5) {
		case 0:
		case 1: hint = entry; break;                                 /* fresh */
		case 2: hint = stale[u]; break;                              /* maybe moved */
		case 3: hint = stale[rnd64() % KEYS]; break;                 /* another key's */
		default: hint = (uint32_t)(rnd64() % (x.n_index + 16)); break; /* anything */
		}
		if (rnd64() % 3 == 0) { /* kept for a later delete instead */
			stale[u] = entry;
			continue;
		}
		if (hint == entry) {
			/* a fresh entry is taken as it is: with another seed a
			 * full delete would probe elsewhere and not find k */
			uint64_t seed = x.seed;
			x.seed = seed ^ 0x5a5a5a5a5a5a5a5aull;
			bad += hc_keyidx_del_at(&x, k, (uint32_t)pos, hint) != pos;
			x.seed = seed;
			fast++;
		} else {
			bad += hc_keyidx_del_at(&x, k, (uint32_t)pos, hint) != pos;
		}
		r[pos].key = ~0ull; /* (the record no longer holds it) */
		free_pos[n_free++] = (uint32_t)pos;
		ref[u] = -1;
		if (s % 97 == 0) /* every key where the reference says */
			for (uint32_t v = 0; v < KEYS; v++)
				bad += hc_keyidx_lookup(&x, key_of(v)) != (ref[v] >= 0 ? ref[v] : -ENOENT);
	}
	for (uint32_t v = 0; v < KEYS; v++)
		bad += hc_keyidx_lookup(&x, key_of(v)) != (ref[v] >= 0 ? ref[v] : -ENOENT);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(fast > 1000); /* fresh entries given (and taken as they are) */
	hc_keyidx_free(&x);
}

/* The pages [p, p + len) touches, and how many of them are resident. */
static size_t pages_of(const void *p, size_t len)
{
	uintptr_t first = (uintptr_t)p & ~(uintptr_t)4095;
	return ((uintptr_t)p + len - 1 - first) / 4096 + 1;
}

static size_t resident_pages(const void *p, size_t len)
{
	size_t n = pages_of(p, len), resident = 0;
	unsigned char *in = calloc(n, 1);
	if (in == NULL ||
	    mincore((void *)((uintptr_t)p & ~(uintptr_t)4095), n * 4096, in) != 0) {
		free(in);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		resident += in[i] & 1;
	free(in);
	return resident;
}

static void test_bigmem(void)
{
	/* hc-unit runs EAL with --no-huge: 2 MiB and more is outside */
	CU_ASSERT_FALSE(hc_bigmem_outside(((size_t)2 << 20) - 1));
	CU_ASSERT_TRUE(hc_bigmem_outside((size_t)2 << 20));
	size_t before = hc_bigmem_bytes();

	size_t size = ((size_t)5 << 20) + 100; /* 6 MiB mapped */
	uint8_t *p = hc_bigmem_zalloc("t_big", size, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL((uintptr_t)p % ((uintptr_t)2 << 20), 0);
	CU_ASSERT_EQUAL(hc_bigmem_bytes(), before + ((size_t)6 << 20));
	size_t nonzero = 0;
	for (size_t i = 0; i < size; i++)
		nonzero += p[i] != 0;
	CU_ASSERT_EQUAL(nonzero, 0);
	memset(p, 0xa5, size); /* all of it writable */
	unsigned long kb;
	int hg;
	CU_ASSERT_TRUE(smaps_of(p, &kb, &hg));
	CU_ASSERT_EQUAL(kb, 6 * 1024); /* only the aligned part stays mapped */
	/* advised (a kernel built without THP refuses the advice: no flag) */
	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0)
		CU_ASSERT_TRUE(hg);
	hc_bigmem_free(p, size);
	CU_ASSERT_EQUAL(hc_bigmem_bytes(), before);
	CU_ASSERT_FALSE(smaps_of(p, &kb, &hg));

	/* a small table stays in DPDK's heap, uncounted, every page of it
	 * faulted in (DPDK's zmalloc leaves fresh pages of a --no-huge heap
	 * untouched) */
	void *s = hc_bigmem_zalloc("t_small", 64 << 10, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(rte_malloc_validate(s, NULL), 0);
	CU_ASSERT_EQUAL(hc_bigmem_bytes(), before);
	hc_bigmem_free(s, 64 << 10);
	/* every page a 1.5 MiB table touches resident, the partial ones at
	 * both ends too, pages that were not before it: a block of DPDK's
	 * heap allocated, freed, and its whole pages dropped (private
	 * anonymous memory without hugepages: they read as zeros, as DPDK's
	 * free memory is, and are no longer resident, as fresh pages are),
	 * then the table allocated, which DPDK places there (the same size:
	 * its best fit) */
	size_t mid = (size_t)3 << 19;
	uint8_t *fresh = rte_zmalloc_socket("t_fresh", mid, 64, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fresh);
	uintptr_t lo = ((uintptr_t)fresh + 4095) & ~(uintptr_t)4095;
	uintptr_t hi = ((uintptr_t)fresh + mid) & ~(uintptr_t)4095;
	rte_free(fresh);
	CU_ASSERT_EQUAL_FATAL(madvise((void *)lo, hi - lo, MADV_REMOVE), 0);
	CU_ASSERT_EQUAL(resident_pages((void *)lo, hi - lo), 0);
	uint8_t *m = hc_bigmem_zalloc("t_mid", mid, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT((uintptr_t)m < hi && (uintptr_t)m + mid > lo); /* (placed there) */
	CU_ASSERT_EQUAL(resident_pages(m, mid), pages_of(m, mid));
	nonzero = 0;
	for (size_t i = 0; i < mid; i++)
		nonzero += m[i] != 0;
	CU_ASSERT_EQUAL(nonzero, 0);
	hc_bigmem_free(m, mid);
	CU_ASSERT_PTR_NULL(hc_bigmem_zalloc("t_zero", 0, 0));

	/* more than the kernel's MemAvailable (told here: 8 MiB): refused
	 * (NULL, nothing mapped), not faulted in until the OOM killer ends a
	 * process; a table and a heap alike; 4 MiB made */
	hc_bigmem_tell_mem_available((uint64_t)8 << 20);
	CU_ASSERT_PTR_NULL(hc_bigmem_zalloc("t_past_avail", (size_t)16 << 20, 0));
	CU_ASSERT_EQUAL(hc_bigmem_bytes(), before);
	struct hc_bigmem_heap h;
	size_t heaps_before = hc_bigmem_heap_bytes();
	CU_ASSERT_EQUAL(hc_bigmem_heap_create(&h, "t_heap_past", (size_t)16 << 20, 0), -ENOMEM);
	CU_ASSERT_PTR_NULL(h.va);
	CU_ASSERT_EQUAL(hc_bigmem_heap_bytes(), heaps_before);
	uint8_t *within = hc_bigmem_zalloc("t_within", (size_t)4 << 20, 0);
	CU_ASSERT_PTR_NOT_NULL(within);
	CU_ASSERT_EQUAL(hc_bigmem_bytes(), before + ((size_t)4 << 20));
	hc_bigmem_free(within, (size_t)4 << 20);
	hc_bigmem_tell_mem_available(0);
	CU_ASSERT_EQUAL(hc_bigmem_bytes(), before);

	/* an index for 4 Mi keys (8 Mi entries, 32 MiB) is outside; freed, uncounted */
	struct rec r[1];
	struct hc_keyidx x;
	CU_ASSERT_EQUAL_FATAL(hc_keyidx_init(&x, "t_bigidx", 1u << 22, r, sizeof(r[0]),
					     HC_KEYIDX_SPARSE, 7, 0), 0);
	CU_ASSERT_EQUAL(hc_bigmem_bytes(), before + hc_keyidx_bytes(&x));
	CU_ASSERT_EQUAL(hc_keyidx_lookup(&x, 42), -ENOENT);
	hc_keyidx_free(&x);
	CU_ASSERT_EQUAL(hc_bigmem_bytes(), before);
}

/*
 * The tag: an entry's position takes the bits its capacity needs, the
 * rest of the 26 hold the tag.  A lookup reads no record of an entry of
 * its home whose tag is another's: with A's record rewritten to hold B
 * (same home, another tag) B is not found, so B's lookup never read it.
 * Keys of one home with other tags are found through shifts, repoints,
 * deletes and the bulk lookup.
 */
static void test_keyidx_tag(void)
{
	enum { CAP = 5000 };
	struct rec r[CAP];
	struct hc_keyidx x;
	memset(r, 0, sizeof(r));
	CU_ASSERT_EQUAL_FATAL(hc_keyidx_init(&x, "t_tag", CAP, r, sizeof(r[0]),
					     HC_KEYIDX_DENSE, 11, 0), 0);
	/* 5000 needs 13 bits; 13 bits of tag */
	CU_ASSERT_EQUAL(x.pos_mask, 0x1fffu);
	CU_ASSERT_EQUAL(x.tag_mask, 0x3ffe000u);
	uint64_t a = key_of(1), same[4];
	unsigned n = 0;
	uint32_t home = hc_keyidx_home(&x, a);
	for (uint32_t u = 2; n < 4 && u < 100000000; u++) {
		uint64_t k = key_of(u);
		if (hc_keyidx_home(&x, k) == home && hc_keyidx_tag(&x, k) != hc_keyidx_tag(&x, a))
			same[n++] = k;
	}
	CU_ASSERT_EQUAL_FATAL(n, 4);
	uint64_t b = same[0];

	r[0].key = a;
	CU_ASSERT_EQUAL(hc_keyidx_insert(&x, a, 0), 0);
	r[0].key = b; /* A's entry, B's key in its record */
	CU_ASSERT_EQUAL(hc_keyidx_lookup(&x, b), -ENOENT);
	CU_ASSERT_EQUAL(hc_keyidx_lookup(&x, a), -ENOENT);
	int32_t pos[2];
	uint64_t keys[2] = {b, a};
	hc_keyidx_lookup_bulk(&x, keys, 2, pos);
	CU_ASSERT(pos[0] == -ENOENT && pos[1] == -ENOENT);
	r[0].key = a;
	CU_ASSERT_EQUAL(hc_keyidx_lookup(&x, a), 0);

	/* three more of A's home, other tags: each found at its own */
	for (unsigned i = 0; i < 3; i++) {
		r[i + 1].key = same[i];
		CU_ASSERT_EQUAL(hc_keyidx_insert(&x, same[i], i + 1), 0);
	}
	uint64_t all[4] = {a, same[0], same[1], same[2]};
	int32_t got[4];
	hc_keyidx_lookup_bulk(&x, all, 4, got);
	for (unsigned i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(got[i], (int32_t)i);
	CU_ASSERT_EQUAL(hc_keyidx_lookup(&x, same[3]), -ENOENT); /* absent, its tag unmatched */
	/* A deleted: the others shift back, tags kept */
	CU_ASSERT_EQUAL(hc_keyidx_del(&x, a), 0);
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(hc_keyidx_lookup(&x, same[i]), (int32_t)i + 1);
	/* repointed to the last position: the tag stays, the position fits */
	r[CAP - 1].key = same[1];
	CU_ASSERT_EQUAL(hc_keyidx_repoint(&x, same[1], CAP - 1), 2);
	CU_ASSERT_EQUAL(hc_keyidx_lookup(&x, same[1]), CAP - 1);
	CU_ASSERT_EQUAL(hc_keyidx_lookup(&x, same[0]), 1);
	CU_ASSERT_EQUAL(hc_keyidx_lookup(&x, same[2]), 3);
	hc_keyidx_free(&x);

	/* the tag's width follows the capacity: 5 bits at 1 Mi keys */
	CU_ASSERT_EQUAL_FATAL(hc_keyidx_init(&x, "t_tag", 1u << 20, r, sizeof(r[0]),
					     HC_KEYIDX_SPARSE, 11, 0), 0);
	CU_ASSERT_EQUAL(x.pos_mask, 0x1fffffu);
	CU_ASSERT_EQUAL(x.tag_mask, 0x3e00000u);
	hc_keyidx_free(&x);
}

/* keys[0 .. n) (n <= HC_KEYIDX_BULK) looked up in one bulk call and one
 * by one against ref (a position or -ENOENT): the wrong answers.  A
 * found key's entry (left in entry[]) must hold its position; an absent
 * one's is in the index or none. */
static unsigned lookups_bad(const struct hc_keyidx *x, const uint64_t *keys, const int32_t *ref,
			    unsigned n, uint32_t *entry)
{
	int32_t pos[HC_KEYIDX_BULK];
	unsigned bad = 0;
	hc_keyidx_lookup_bulk_at(x, keys, n, pos, entry);
	for (unsigned k = 0; k < n; k++) {
		bad += pos[k] != ref[k] || hc_keyidx_lookup(x, keys[k]) != ref[k];
		bad += pos[k] >= 0 && (entry[k] >= x->n_index ||
				       (x->index[entry[k]] & x->pos_mask) != (uint32_t)pos[k] + 1);
		bad += pos[k] < 0 && entry[k] >= x->n_index && entry[k] != UINT32_MAX;
	}
	return bad;
}

/*
 * Probes that run past the index's last entry and on from index 0: half
 * the keys have one of the last 6 homes, crowded, the rest any other.
 * After each delete (fresh entry and full delete by turns) every key,
 * present or not, is looked up alone and in bulk against a reference, a
 * found one's entry holding its position, an absent one's in the index
 * or none.  Once with tags, once without (no_tag: every key of a home
 * is a candidate for the others, so a record mismatch sends the probe
 * on, across the end too).
 */
static void keyidx_wrap(int no_tag)
{
	enum { CAP = 64, KEYS = 48, ABSENT = 16 };
	struct rec r[CAP];
	struct hc_keyidx x;
	memset(r, 0, sizeof(r));
	CU_ASSERT_EQUAL_FATAL(hc_keyidx_init(&x, "t_wrap", CAP, r, sizeof(r[0]),
					     HC_KEYIDX_DENSE, 11, 0), 0);
	CU_ASSERT_EQUAL_FATAL(x.n_index, 80);
	if (no_tag)
		x.tag_mask = 0; /* as from 32 Mi keys (hc_keyidx.h) */
	/* keys[0..23]: homes 74..79; keys[24..47] and the absent: others */
	uint64_t keys[KEYS + ABSENT];
	unsigned n = 0;
	for (uint32_t u = 1; n < KEYS + ABSENT && u < 10000000; u++) {
		uint32_t home = hc_keyidx_home(&x, key_of(u));
		if ((n < KEYS / 2) == (home >= x.n_index - 6))
			keys[n++] = key_of(u);
	}
	CU_ASSERT_EQUAL_FATAL(n, KEYS + ABSENT);
	int32_t ref[KEYS + ABSENT];
	for (unsigned k = 0; k < KEYS + ABSENT; k++)
		ref[k] = -ENOENT;
	for (unsigned k = 0; k < KEYS; k++) {
		r[k].key = keys[k];
		CU_ASSERT_EQUAL_FATAL(hc_keyidx_insert(&x, keys[k], k), 0);
		ref[k] = (int32_t)k;
	}
	/* the crowd did wrap: entries at the start farther from home than
	 * their index (homes at the end) */
	unsigned wrapped = 0;
	for (uint32_t i = 0; i < 16; i++)
		wrapped += x.index[i] != 0 && (x.index[i] >> HC_KEYIDX_POS_BITS) > i;
	CU_ASSERT(wrapped >= 8);
	unsigned bad = 0;
	for (unsigned step = 0; step <= KEYS; step++) {
		uint32_t entry[KEYS + ABSENT];
		bad += lookups_bad(&x, keys, ref, KEYS + ABSENT, entry);
		if (step == KEYS)
			break;
		/* the crowd first, alternately from its bulk entry and in full */
		unsigned k = step;
		int32_t was = step % 2 ? hc_keyidx_del(&x, keys[k]) :
			      hc_keyidx_del_at(&x, keys[k], (uint32_t)ref[k], entry[k]);
		bad += was != ref[k];
		ref[k] = -ENOENT;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(x.count, 0);
	hc_keyidx_free(&x);
}

static void test_keyidx_wrap(void)
{
	keyidx_wrap(0);
	keyidx_wrap(1);
}

/*
 * Lookups, inserts and deletes go over windows of 8 entries (SSE4.1)
 * and walk on one by one past them.  The 3 homes after one home get 2
 * keys each first; then 40 keys of that home (distances 0 .. 39) push
 * them on, each insert moving a run (within a window at first, past it
 * later); then 2 keys of a home 36 on, whose probes pass entries 32 to
 * 39 from their homes (the top bit set: an unsigned compare).  Absent
 * keys of those homes end probes inside the window, at its last entry
 * and past it.  Every key looked up in one bulk call and alone, against
 * a reference, each found key's entry holding its position, after each
 * delete too (from the crowd's front: the runs move back, within a
 * window and past it).  Once with tags, once without (every entry of a
 * home a candidate: a record mismatch sends the probe on).
 */
static void keyidx_window(int no_tag)
{
	enum { CAP = 200, NEXT = 3, PER_NEXT = 2, CROWD = 40, FAR = 2, FAR_AT = 36, ABSENT = 12 };
	enum { PRESENT = NEXT * PER_NEXT + CROWD + FAR, KEYS = PRESENT + ABSENT };
	struct rec r[CAP];
	struct hc_keyidx x;
	memset(r, 0, sizeof(r));
	CU_ASSERT_EQUAL_FATAL(hc_keyidx_init(&x, "t_window", CAP, r, sizeof(r[0]),
					     HC_KEYIDX_DENSE, 5, 0), 0);
	if (no_tag)
		x.tag_mask = 0;
	const uint32_t home = 100; /* its runs end before the index's (256) */
	CU_ASSERT_EQUAL_FATAL(x.n_index, 256);
	/* keys[]: the next homes' (by home), the crowd, the far home's, absent */
	uint64_t keys[KEYS];
	unsigned n_next[NEXT] = {0}, n_crowd = 0, n_far = 0, n_absent = 0;
	for (uint32_t u = 1; u < 50000000 && n_absent < ABSENT; u++) {
		uint32_t h = hc_keyidx_home(&x, key_of(u)), off = h - home;
		int ours = h >= home && (off <= NEXT || off == FAR_AT);
		if (!ours)
			continue;
		if (off >= 1 && off <= NEXT && n_next[off - 1] < PER_NEXT)
			keys[(off - 1) * PER_NEXT + n_next[off - 1]++] = key_of(u);
		else if (off == 0 && n_crowd < CROWD)
			keys[NEXT * PER_NEXT + n_crowd++] = key_of(u);
		else if (off == FAR_AT && n_far < FAR)
			keys[NEXT * PER_NEXT + CROWD + n_far++] = key_of(u);
		else if (n_crowd == CROWD && n_far == FAR)
			keys[PRESENT + n_absent++] = key_of(u);
	}
	for (unsigned i = 0; i < NEXT; i++)
		CU_ASSERT_EQUAL_FATAL(n_next[i], PER_NEXT);
	CU_ASSERT_EQUAL_FATAL(n_crowd, CROWD);
	CU_ASSERT_EQUAL_FATAL(n_far, FAR);
	CU_ASSERT_EQUAL_FATAL(n_absent, ABSENT);
	int32_t ref[KEYS];
	for (unsigned k = 0; k < KEYS; k++)
		ref[k] = -ENOENT;
	for (unsigned k = 0; k < PRESENT; k++) {
		r[k].key = keys[k];
		CU_ASSERT_EQUAL_FATAL(hc_keyidx_insert(&x, keys[k], k), 0);
		ref[k] = (int32_t)k;
	}
	/* the crowd's last key 39 from home, the next homes' behind it
	 * (their last at home + 45, 42 from its own), and the far home's
	 * after them */
	CU_ASSERT_EQUAL(hc_keyidx_max_dist(&x), 42);
	unsigned bad = 0;
	for (unsigned step = 0;; step++) {
		uint32_t entry[KEYS];
		bad += lookups_bad(&x, keys, ref, KEYS, entry);
		if (step == PRESENT)
			break;
		/* the crowd first, from its front; then the rest */
		unsigned k = (NEXT * PER_NEXT + step) % PRESENT;
		bad += hc_keyidx_del(&x, keys[k]) != ref[k];
		ref[k] = -ENOENT;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(x.count, 0);
	hc_keyidx_free(&x);
}

static void test_keyidx_window(void)
{
	keyidx_window(0);
	keyidx_window(1);
}

/*
 * A bulk lookup's probe from a home at each lane of an index line: its
 * first window of 8 entries crosses into the next line from lane 9 on,
 * and the probe's end falls in either line or past both (hc_keyidx.c).
 * For a home at each lane of a line: the keys of that home inserted one
 * by one (its run growing from the home to 23 entries past it), a key of
 * the next home after every fourth (an entry nearer its home inside the
 * run), and after each insert every key of both homes and some absent
 * ones of the first looked up in one bulk call and alone against a
 * reference; then deleted by turns from the run's front and back, looked
 * up again after each.  Once with tags, once without.
 */
static void keyidx_home_line(int no_tag)
{
	enum { CAP = 200, CROWD = 24, NEXT = CROWD / 4, ABSENT = 4, LINE = 16 };
	enum { KEYS = CROWD + NEXT + ABSENT };
	struct rec r[CAP];
	struct hc_keyidx x;
	unsigned bad = 0, lanes_past = 0;
	memset(r, 0, sizeof(r));
	CU_ASSERT_EQUAL_FATAL(hc_keyidx_init(&x, "t_home_line", CAP, r, sizeof(r[0]),
					     HC_KEYIDX_DENSE, 3, 0), 0);
	CU_ASSERT_EQUAL_FATAL(x.n_index, 256);
	if (no_tag)
		x.tag_mask = 0;
	for (uint32_t lane = 0; lane < LINE; lane++) {
		const uint32_t home = 8 * LINE + lane;
		/* keys[]: the crowd, the next home's, absent ones of home */
		uint64_t keys[KEYS];
		unsigned n_crowd = 0, n_next = 0, n_absent = 0;
		for (uint32_t u = 1; u < 50000000 && n_absent < ABSENT; u++) {
			uint32_t h = hc_keyidx_home(&x, key_of(u));
			if (h == home && n_crowd < CROWD)
				keys[n_crowd++] = key_of(u);
			else if (h == home + 1 && n_next < NEXT)
				keys[CROWD + n_next++] = key_of(u);
			else if (h == home && n_crowd == CROWD)
				keys[CROWD + NEXT + n_absent++] = key_of(u);
		}
		CU_ASSERT_FATAL(n_crowd == CROWD && n_next == NEXT && n_absent == ABSENT);
		int32_t ref[KEYS];
		uint32_t entry[KEYS];
		for (unsigned k = 0; k < KEYS; k++)
			ref[k] = -ENOENT;
		unsigned found_past = 0;
		for (unsigned c = 0; c < CROWD; c++) {
			unsigned ins[2] = {c, CROWD + c / 4}, n_ins = c % 4 == 3 ? 2 : 1;
			for (unsigned i = 0; i < n_ins; i++) {
				unsigned k = ins[i];
				r[k].key = keys[k];
				CU_ASSERT_EQUAL_FATAL(hc_keyidx_insert(&x, keys[k], k), 0);
				ref[k] = (int32_t)k;
			}
			bad += lookups_bad(&x, keys, ref, KEYS, entry);
			for (unsigned k = 0; k < KEYS; k++)
				found_past += ref[k] >= 0 && entry[k] / LINE != home / LINE;
		}
		for (unsigned c = 0; c < CROWD + NEXT; c++) {
			unsigned k = c % 2 == 0 ? c / 2 : CROWD + NEXT - 1 - c / 2;
			bad += hc_keyidx_del(&x, keys[k]) != ref[k];
			ref[k] = -ENOENT;
			bad += lookups_bad(&x, keys, ref, KEYS, entry);
		}
		CU_ASSERT_EQUAL_FATAL(x.count, 0);
		lanes_past += found_past > 0;
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* keys were found past their home's line from every lane */
	CU_ASSERT_EQUAL(lanes_past, LINE);
	hc_keyidx_free(&x);
}

static void test_keyidx_home_line(void)
{
	keyidx_home_line(0);
	keyidx_home_line(1);
}

static CU_TestInfo tests[] = {
	{"random ops vs reference", test_against_reference},
	{"a crowded home", test_crowded_home},
	{"bad sizes", test_bad_sizes},
	{"the index over a FIFO ring (dense and sparse)", test_keyidx_ring},
	{"records moved together, the index remapped in one pass", test_keyidx_remap},
	{"the tag: no record read for another key's tag", test_keyidx_tag},
	{"a delete from a bulk lookup's entry, checked first", test_keyidx_del_at},
	{"probes past the index's end, on from its start", test_keyidx_wrap},
	{"windows of 8 entries, and walks past them", test_keyidx_window},
	{"a bulk lookup from a home at each lane of a line", test_keyidx_home_line},
	{"big tables without hugepages: aligned, zeroed, counted, advised", test_bigmem},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_usertab = {"usertab", NULL, NULL, NULL, NULL, tests};
