/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_balance_ref.c - the balancer against an exhaustive reference: the
 * fewest moves over every final configuration of a pool, found without any
 * of the balancer's reasoning, for thousands of random small pools.
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
 * Then the balancer's plan for each random pool is applied transfer by
 * transfer (users leave only rooms that have them, no destination ever
 * above max, reserved seats untouched, conservation) and must reach the
 * reference's shortfall with exactly the reference's moves; planning the
 * result again must move nobody; with half those moves as budget, the
 * plan must spend the budget exactly, say it is truncated, and still
 * apply step by step.  Fixed seeds, printed, so a failure reproduces; the
 * first failures are printed with their pool.
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

/* ---- the balancer against the reference ---- */

#define NEW_MAX 4096 /* new rooms a random pool's plan may open */
#define ID0 100      /* room ids are ID0 + index: never an index by mistake */

static struct hc_balance bal;
static struct hc_bal_transfer tr[4 * (REF_ROOMS + NEW_MAX)];

struct outcome {
	uint64_t moves, shortfall;
	uint32_t nonempty_users; /* rooms holding users */
	int truncated;
	const char *bad;         /* a rule broken, or NULL */
};

/* Plan p with a move budget, apply the plan transfer by transfer and
 * check the rules: transfers take only users a room has (so reserved
 * seats never move), no room goes above max; then, without a budget, the
 * final state (conservation, no room above max, no empty new room) and
 * convergence. */
static struct outcome plan_and_apply(const struct ref_pool *p, const struct hc_pool_cfg *cfg,
				     uint64_t budget)
{
	static struct hc_bal_room rooms[REF_ROOMS + NEW_MAX];
	static uint32_t users[REF_ROOMS + NEW_MAX], reserved[REF_ROOMS + NEW_MAX];
	struct outcome out = {0};
	for (uint32_t i = 0; i < p->n; i++) {
		rooms[i] = (struct hc_bal_room){ID0 + i, p->users[i], p->reserved[i]};
		users[i] = p->users[i];
		reserved[i] = p->reserved[i];
	}
	struct hc_bal_plan plan = {.t = tr, .cap = sizeof(tr) / sizeof(tr[0])};
	if (hc_balance_pool(&bal, cfg, rooms, p->n, budget, &plan) != 0) {
		out.bad = "hc_balance_pool failed";
		return out;
	}
	out.truncated = plan.truncated;
	if (plan.new_rooms > NEW_MAX) {
		out.bad = "too many new rooms";
		return out;
	}
	uint32_t nr = p->n + plan.new_rooms;
	for (uint32_t i = p->n; i < nr; i++)
		users[i] = reserved[i] = 0;
	uint64_t sum = 0;
	for (uint32_t k = 0; k < plan.n && out.bad == NULL; k++) {
		const struct hc_bal_transfer *t = &plan.t[k];
		uint32_t from = t->from - ID0, to;
		if (t->to & HC_BAL_NEW)
			to = p->n + (t->to & ~HC_BAL_NEW);
		else
			to = t->to - ID0;
		if (t->from < ID0 || from >= p->n || to >= nr || from == to || t->count == 0)
			out.bad = "transfer names a wrong room";
		else if (users[from] < t->count)
			out.bad = "takes users a room does not have";
		else if (users[to] + reserved[to] + t->count > p->max)
			out.bad = "a room goes above max";
		else {
			users[from] -= t->count;
			users[to] += t->count;
			sum += t->count;
		}
	}
	if (out.bad)
		return out;
	if (sum != plan.moves) {
		out.bad = "plan.moves is not the sum of its transfers";
		return out;
	}
	out.moves = sum;
	if (budget != UINT64_MAX)
		return out;
	if (plan.truncated) {
		out.bad = "truncated without a budget";
		return out;
	}
	uint64_t after = 0;
	for (uint32_t i = 0; i < nr; i++) {
		uint64_t o = (uint64_t)users[i] + reserved[i];
		after += o;
		out.shortfall += short_of(p, o);
		out.nonempty_users += users[i] > 0;
		if (o > p->max && !(users[i] == 0 && reserved[i] > p->max))
			out.bad = "a room ends above max";
		if (i >= p->n && users[i] == 0)
			out.bad = "a new room stays empty";
	}
	if (after != pool_total(p))
		out.bad = "users not conserved";
	if (out.bad)
		return out;
	/* converged: planning the result again moves nobody */
	uint32_t n2 = 0;
	for (uint32_t i = 0; i < nr; i++)
		if (users[i] + reserved[i] > 0)
			rooms[n2++] = (struct hc_bal_room){ID0 + i, users[i], reserved[i]};
	struct hc_bal_plan again = {.t = tr, .cap = sizeof(tr) / sizeof(tr[0])};
	if (hc_balance_pool(&bal, cfg, rooms, n2, UINT64_MAX, &again) != 0 || again.moves != 0)
		out.bad = "a second plan moves users";
	return out;
}

/* Plan one pool and compare with the reference; 1 if they agree. */
static int agrees(const struct ref_pool *p, struct ref_cost *ref, struct outcome *got)
{
	struct hc_pool_cfg cfg = {.id = 0, .name = "ref", .min = p->min, .target = p->target,
				  .max = p->max};
	*ref = ref_solve(p);
	*got = plan_and_apply(p, &cfg, UINT64_MAX);
	if (got->bad)
		return 0;
	if (ref->moves >= 2) { /* half the budget: a valid, truncated prefix */
		struct outcome half = plan_and_apply(p, &cfg, ref->moves / 2);
		if (half.bad || half.moves != ref->moves / 2 || !half.truncated) {
			got->bad = half.bad ? half.bad : "the budget is not spent exactly";
			return 0;
		}
	}
	if (ref->shortfall == GATHERED)
		return got->moves == ref->moves && got->nonempty_users <= 1;
	return got->moves == ref->moves && got->shortfall == ref->shortfall;
}

static void report(const struct ref_pool *p, const struct ref_cost *ref,
		   const struct outcome *got)
{
	print_pool("balancer != reference", p);
	if (ref->shortfall == GATHERED)
		printf("    reference: gather, %" PRIu64 " moves", ref->moves);
	else
		printf("    reference: shortfall %" PRIu64 ", %" PRIu64 " moves", ref->shortfall,
		       ref->moves);
	printf("; balancer: shortfall %" PRIu64 ", %" PRIu64 " moves, %s\n", got->shortfall,
	       got->moves, got->bad ? got->bad : "rules kept");
}

static const struct ref_pool random_cfg[] = {
	{.min = 15, .target = 50, .max = 100},
	{.min = 2, .target = 5, .max = 10},
	{.min = 10, .target = 20, .max = 40},
	{.min = 1, .target = 1, .max = 2},
	{.min = 3, .target = 4, .max = 8},
	{.min = 5, .target = 10, .max = 10},
	{.min = 20, .target = 20, .max = 45},
	{.min = 1, .target = 2, .max = 3},
	{.min = 2, .target = 2, .max = 4},
	{.min = 7, .target = 14, .max = 14},
	{.min = 15, .target = 100, .max = 100},
	{.min = 15, .target = 15, .max = 100},
	{.min = 40, .target = 60, .max = 80},
};

static void test_random_vs_reference(void)
{
	const uint64_t seed = 0x5eed0002;
	const unsigned per_cfg = 2000;
	unsigned pools = 0, agree = 0, shown = 0, moved = 0, shortfall = 0, gathered = 0,
		 reserved = 0;
	rs = seed;
	for (unsigned c = 0; c < sizeof(random_cfg) / sizeof(random_cfg[0]); c++) {
		for (unsigned k = 0; k < per_cfg; k++) {
			struct ref_pool p = random_cfg[c];
			random_pool(&p, REF_ROOMS, 160, 6);
			struct ref_cost ref;
			struct outcome got;
			pools++;
			if (agrees(&p, &ref, &got))
				agree++;
			else if (shown++ < 8)
				report(&p, &ref, &got);
			moved += ref.moves > 0;
			shortfall += ref.shortfall != 0 && ref.shortfall != GATHERED;
			gathered += ref.shortfall == GATHERED;
			for (uint32_t i = 0; i < p.n; i++)
				if (p.reserved[i] > 0) {
					reserved++;
					break;
				}
		}
	}
	printf("\n    balancer vs reference: seed %#" PRIx64 ", %u/%u pools agree (%.2f %%); "
	       "%u move users, %u with reserved seats, %u with shortfall, %u gathered ",
	       seed, agree, pools, 100.0 * agree / pools, moved, reserved, shortfall, gathered);
	CU_ASSERT_EQUAL(pools, 26000);
	CU_ASSERT(moved > pools / 2); /* the cases are not trivial */
	CU_ASSERT(reserved > pools / 4);
	CU_ASSERT(shortfall > 10);
	CU_ASSERT(gathered > 10);
	CU_ASSERT_EQUAL(agree, pools);
}

/* Registered in test_balance.c's suite "balance". */
void hc_test_balance_reference(void);
void hc_test_balance_random_reference(void);
int hc_test_balance_ref_init(void);
void hc_test_balance_ref_free(void);

void hc_test_balance_reference(void) { test_reference_vs_brute(); }
void hc_test_balance_random_reference(void) { test_random_vs_reference(); }
int hc_test_balance_ref_init(void) { return hc_balance_init(&bal, REF_ROOMS + NEW_MAX); }
void hc_test_balance_ref_free(void) { hc_balance_free(&bal); }
