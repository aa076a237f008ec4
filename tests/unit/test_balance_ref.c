/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_balance_ref.c - an exhaustive reference for the balancer: the
 * fewest moves over every final configuration of a pool, found without any
 * of the balancer's reasoning.
 *
 * The problem (hc_balance.h states it): room i has u_i movable users and
 * r_i reserved seats, occupancy o_i = u_i + r_i.  A final configuration
 * gives each room an occupancy f_i: 0 (only if r_i = 0: held seats never
 * move) or in [max(1, r_i), max(max, r_i)], and puts the N = sum(o_i - f_i) >= 0 users that
 * left into new rooms of at most max.  A room's shortfall is min - f when
 * 0 < f < min.  Moves to reach it: the users leaving room i,
 * u_i - min(u_i, f_i - r_i) = max(0, o_i - f_i) (a user moves at most once,
 * a room gives or takes, not both).  The balancer must reach, first, the
 * least total shortfall (0, every non-empty room within [min, max],
 * whenever that can be done), then the fewest moves.  A pool of fewer than min seats in all (T < min) is
 * gathered instead: every user into one room, so moves = U - max(u_i).
 *
 * Two independent solvers of that statement:
 *   - ref_solve: dynamic programming over the rooms, each taking every
 *     allowed f, with the state "net users in transit so far"; at the end
 *     the transit N must be >= 0 and goes to new rooms (shortfall 0 if
 *     N = 0 or N >= min, else one new room short of min - N);
 *   - brute_solve: literal enumeration of every vector (f_1 .. f_n) and of
 *     every split of the transit into new rooms (partitions), for tiny
 *     pools; it cross-checks ref_solve.
 * Fixed seed, printed, so a failure reproduces; the first failures are
 * printed with their pool.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "hc_balance.h"

#define REF_ROOMS 8      /* rooms per random pool, at most */
#define REF_MAX_OCC 400  /* largest occupancy a random pool has */
#define REF_SPAN (REF_ROOMS * REF_MAX_OCC)
#define REF_INF UINT64_MAX
#define GATHERED UINT64_MAX /* shortfall of a gathered pool (T < min) */

struct ref_pool {
	uint32_t min, target, max;
	uint32_t n;
	uint32_t users[REF_ROOMS], reserved[REF_ROOMS];
};

struct ref_cost {
	uint64_t shortfall; /* GATHERED when the pool holds fewer than min */
	uint64_t moves;
};

static uint32_t umax(uint32_t a, uint32_t b) { return a > b ? a : b; }

static uint64_t pool_total(const struct ref_pool *p)
{
	uint64_t t = 0;
	for (uint32_t i = 0; i < p->n; i++)
		t += p->users[i] + p->reserved[i];
	return t;
}

/* Shortfall of a non-empty room of occupancy f. */
static uint64_t short_of(const struct ref_pool *p, uint64_t f)
{
	return f > 0 && f < p->min ? p->min - f : 0;
}

/* T < min: every user into one room g; moves = users outside g. */
static struct ref_cost gather_cost(const struct ref_pool *p)
{
	uint64_t best = REF_INF;
	for (uint32_t g = 0; g < p->n; g++) {
		uint64_t m = 0;
		for (uint32_t i = 0; i < p->n; i++)
			if (i != g)
				m += p->users[i];
		if (m < best)
			best = m;
	}
	return (struct ref_cost){GATHERED, best};
}

/* ---- the reference: DP over rooms, state = net users in transit ---- */

/* cost packed as shortfall << 32 | moves: compared lexicographically */
static uint64_t dp[2][2 * REF_SPAN + 1];

static struct ref_cost ref_solve(const struct ref_pool *p)
{
	uint64_t total = pool_total(p);
	if (total == 0)
		return (struct ref_cost){0, 0};
	if (total < p->min)
		return gather_cost(p);
	uint64_t *cur = dp[0], *nxt = dp[1];
	for (uint32_t t = 0; t <= 2 * REF_SPAN; t++)
		cur[t] = REF_INF;
	int64_t lo = 0, hi = 0; /* transit range reached so far */
	cur[REF_SPAN] = 0;
	for (uint32_t i = 0; i < p->n; i++) {
		int64_t o = p->users[i] + p->reserved[i];
		int64_t top = umax(p->max, p->reserved[i]);
		int64_t first = p->reserved[i] > 0 ? p->reserved[i] : 1;
		int64_t nlo = lo + o - top, nhi = hi + o; /* f = top .. f = 0 */
		for (int64_t t = nlo; t <= nhi; t++)
			nxt[t + REF_SPAN] = REF_INF;
		for (int64_t t = lo; t <= hi; t++) {
			uint64_t c = cur[t + REF_SPAN];
			if (c == REF_INF)
				continue;
			for (int64_t f = 0; f <= top; f++) {
				if (f == 0 ? p->reserved[i] > 0 : f < first)
					continue; /* held seats: neither emptied nor moved */
				int64_t s = o - f; /* users leaving (s > 0) or arriving */
				uint64_t nc = c + ((uint64_t)short_of(p, (uint64_t)f) << 32) +
					      (uint64_t)(s > 0 ? s : 0);
				uint64_t *slot = &nxt[t + s + REF_SPAN];
				if (nc < *slot)
					*slot = nc;
			}
		}
		uint64_t *sw = cur;
		cur = nxt;
		nxt = sw;
		lo = nlo;
		hi = nhi;
	}
	uint64_t best = REF_INF;
	for (int64_t t = lo > 0 ? lo : 0; t <= hi; t++) { /* N >= 0 users to new rooms */
		uint64_t c = cur[t + REF_SPAN];
		if (c == REF_INF)
			continue;
		uint64_t new_short = (t == 0 || (uint64_t)t >= p->min) ? 0 : p->min - (uint64_t)t;
		if (c + (new_short << 32) < best)
			best = c + (new_short << 32);
	}
	return (struct ref_cost){best >> 32, best & 0xffffffffu};
}

/* ---- the brute force: every f vector, every split into new rooms ---- */

#define BRUTE_T 64 /* largest pool total brute_solve handles */

/* part_short[N]: least shortfall of N users split into new rooms of
 * 1 .. max users, over every split (non-increasing parts, enumerated). */
static uint64_t part_short[BRUTE_T + 1];

static void partitions(const struct ref_pool *p, uint32_t sum, uint32_t largest, uint64_t sh)
{
	if (sh < part_short[sum])
		part_short[sum] = sh;
	for (uint32_t part = 1; part <= largest && sum + part <= BRUTE_T; part++)
		partitions(p, sum + part, part, sh + short_of(p, part));
}

struct brute {
	const struct ref_pool *p;
	uint64_t total;
	uint32_t f[REF_ROOMS];
	struct ref_cost best;
};

static void brute_rec(struct brute *b, uint32_t i)
{
	const struct ref_pool *p = b->p;
	if (i == p->n) {
		uint64_t kept = 0, sh = 0, moves = 0;
		for (uint32_t k = 0; k < p->n; k++) {
			kept += b->f[k];
			sh += short_of(p, b->f[k]);
			uint32_t stay = b->f[k] > p->reserved[k] ? b->f[k] - p->reserved[k] : 0;
			moves += p->users[k] - (stay < p->users[k] ? stay : p->users[k]);
		}
		if (kept > b->total)
			return; /* users out of nowhere */
		sh += part_short[b->total - kept];
		if (sh < b->best.shortfall || (sh == b->best.shortfall && moves < b->best.moves))
			b->best = (struct ref_cost){sh, moves};
		return;
	}
	for (uint32_t f = 0; f <= umax(p->max, p->reserved[i]); f++) {
		int allowed = (f == 0 && p->reserved[i] == 0) || (f > 0 && f >= p->reserved[i]);
		if (!allowed)
			continue;
		b->f[i] = f;
		brute_rec(b, i + 1);
	}
}

/* Fill part_short[] for p's min and max (once per pool configuration). */
static void brute_partitions(const struct ref_pool *p)
{
	for (uint32_t s = 0; s <= BRUTE_T; s++)
		part_short[s] = REF_INF;
	partitions(p, 0, p->max, 0);
}

/* Needs brute_partitions(p) first. */
static struct ref_cost brute_solve(const struct ref_pool *p)
{
	struct brute b = {.p = p, .total = pool_total(p), .best = {REF_INF, REF_INF}};
	if (b.total == 0)
		return (struct ref_cost){0, 0};
	if (b.total < p->min)
		return gather_cost(p);
	brute_rec(&b, 0);
	return b.best;
}

/* ---- random pools ---- */

static uint64_t rs;
static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs % n);
}

static void print_pool(const char *what, const struct ref_pool *p)
{
	printf("\n    %s: min %u target %u max %u rooms (users+reserved):", what, p->min,
	       p->target, p->max);
	for (uint32_t i = 0; i < p->n; i++)
		printf(" %u+%u", p->users[i], p->reserved[i]);
	printf("\n");
}

/* A room's occupancy, chosen to hit the interesting cases: tiny rooms,
 * rooms at min, at max, just below max, above max, around target. */
static uint32_t random_occupancy(const struct ref_pool *p, uint32_t cap)
{
	uint32_t o;
	switch (rnd(8)) {
	case 0: o = p->min > 1 ? 1 + rnd(p->min - 1) : 1; break;        /* below min */
	case 1: o = 1 + rnd(p->min < 4 ? 2 : 3); break;                 /* tiny */
	case 2: o = p->min; break;
	case 3: o = p->max; break;
	case 4: o = p->max > 3 ? p->max - rnd(3) : p->max; break;
	case 5: o = p->max + 1 + rnd(p->max / 2 + 2); break;            /* above max */
	case 6: o = p->target + rnd(5) - (p->target > 2 ? 2 : 0); break;
	default: o = 1 + rnd(cap); break;
	}
	if (o == 0)
		o = 1;
	return o > cap ? cap : o;
}

static void random_pool(struct ref_pool *p, uint32_t max_rooms, uint32_t cap, uint32_t held_one_in)
{
	p->n = 1 + rnd(max_rooms);
	for (uint32_t i = 0; i < p->n; i++) {
		uint32_t o = random_occupancy(p, cap);
		uint32_t r = 0;
		if (rnd(held_one_in) == 0) { /* seats reserved, sometimes all of them */
			r = rnd(3) == 0 ? o : 1 + rnd(o);
			if (rnd(4) == 0 && o < p->min)
				r = o; /* a small room held by reservations only */
		}
		p->users[i] = o - r;
		p->reserved[i] = r;
	}
}

/* ---- the reference cross-checked on tiny pools ---- */

static const struct ref_pool tiny_cfg[] = {
	{.min = 2, .target = 5, .max = 10},
	{.min = 3, .target = 4, .max = 8},
	{.min = 1, .target = 1, .max = 2},
	{.min = 2, .target = 2, .max = 4},
	{.min = 1, .target = 2, .max = 3},
};

static void test_reference_vs_brute(void)
{
	const uint64_t seed = 0x5eed0001;
	unsigned pools = 0, agree = 0, infeasible = 0, gathered = 0, shown = 0;
	rs = seed;
	for (unsigned c = 0; c < sizeof(tiny_cfg) / sizeof(tiny_cfg[0]); c++) {
		brute_partitions(&tiny_cfg[c]);
		for (unsigned k = 0; k < 1000; k++) {
			struct ref_pool p = tiny_cfg[c];
			random_pool(&p, 4, p.max + 2, 2);
			if (pool_total(&p) > BRUTE_T)
				continue;
			struct ref_cost r = ref_solve(&p), b = brute_solve(&p);
			pools++;
			infeasible += r.shortfall != 0 && r.shortfall != GATHERED;
			gathered += r.shortfall == GATHERED;
			if (r.shortfall == b.shortfall && r.moves == b.moves)
				agree++;
			else if (shown++ < 5) {
				print_pool("reference != brute force", &p);
				printf("    reference shortfall %" PRIu64 " moves %" PRIu64
				       ", brute force %" PRIu64 " moves %" PRIu64 "\n",
				       r.shortfall, r.moves, b.shortfall, b.moves);
			}
		}
	}
	printf("\n    reference vs brute force: seed %#" PRIx64 ", %u/%u tiny pools agree "
	       "(%u with shortfall, %u gathered) ", seed, agree, pools, infeasible, gathered);
	CU_ASSERT(pools > 4500);
	CU_ASSERT(infeasible > 20); /* the relaxed case is exercised */
	CU_ASSERT(gathered > 20);
	CU_ASSERT_EQUAL(agree, pools);
}

/* Registered in test_balance.c's suite "balance". */
void hc_test_balance_reference(void);

void hc_test_balance_reference(void) { test_reference_vs_brute(); }
