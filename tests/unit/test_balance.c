/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_balance.c - the balancer's plans: the seed example exactly, the
 * special cases, the pools where an earlier balancer moved more users than
 * needed (each with its exact plan), and thousands of random pools checked
 * for the rules (conservation, never above max, every room of a pool with
 * >= min users within [min, max] after one plan, a second plan moves
 * nobody, moves no more than dissolving every small room would) and for
 * the move budget.  The fewest moves, pool by pool, against an exhaustive
 * reference: test_balance_ref.c.
 */
#include <stdlib.h>
#include <string.h>

#include "hc_balance.h"
#include "hc_unit.h"

#define MAXR 4096

static struct hc_pool_cfg pool = {.id = 0, .name = "t", .min = 15, .target = 50, .max = 100};
static struct hc_bal_transfer tr[MAXR * 4];
static struct hc_balance bal; /* scratch for pools of up to MAXR rooms */

/* Apply a plan to sizes[] (by room id); new rooms get ids from *next_id.
 * Returns 0, or -1 if a transfer took users a room did not have. */
static int apply(const struct hc_bal_plan *p, uint32_t *sizes, uint32_t *next_id)
{
	uint32_t base = *next_id;
	for (uint32_t i = 0; i < p->n; i++) {
		const struct hc_bal_transfer *t = &p->t[i];
		uint32_t to = (t->to & HC_BAL_NEW) ? base + (t->to & ~HC_BAL_NEW) : t->to;
		if (sizes[t->from] < t->count)
			return -1;
		sizes[t->from] -= t->count;
		sizes[to] += t->count;
	}
	*next_id = base + p->new_rooms;
	return 0;
}

static uint32_t collect(const uint32_t *sizes, uint32_t n_ids, struct hc_bal_room *rooms)
{
	uint32_t n = 0;
	for (uint32_t id = 1; id < n_ids; id++)
		if (sizes[id] > 0)
			rooms[n++] = (struct hc_bal_room){.room = id, .users = sizes[id]};
	return n;
}

static struct hc_bal_plan plan_of(const struct hc_bal_room *rooms, uint32_t n, uint64_t budget)
{
	struct hc_bal_plan p = {.t = tr, .cap = MAXR * 4};
	CU_ASSERT_EQUAL(hc_balance_pool(&bal, &pool, rooms, n, budget, &p), 0);
	return p;
}

static void test_seed_example(void)
{
	uint32_t sizes[16] = {0, 4, 6, 7, 10, 40, 70};
	struct hc_bal_room rooms[8];
	uint32_t n = collect(sizes, 7, rooms), next = 7;
	struct hc_bal_plan p = plan_of(rooms, n, UINT64_MAX);
	CU_ASSERT_EQUAL(p.moves, 13);
	CU_ASSERT_EQUAL(p.new_rooms, 0);
	CU_ASSERT_FALSE(p.truncated);
	CU_ASSERT_EQUAL_FATAL(apply(&p, sizes, &next), 0);
	/* 4 and 6 dissolve into 7 and 10; 70 gives the 3 still missing */
	CU_ASSERT_EQUAL(sizes[1], 0);
	CU_ASSERT_EQUAL(sizes[2], 0);
	CU_ASSERT_EQUAL(sizes[3], 15);
	CU_ASSERT_EQUAL(sizes[4], 15);
	CU_ASSERT_EQUAL(sizes[5], 40);
	CU_ASSERT_EQUAL(sizes[6], 67);
	n = collect(sizes, 7, rooms);
	CU_ASSERT_EQUAL(plan_of(rooms, n, UINT64_MAX).moves, 0); /* converged */
}

static void test_small_pool(void)
{
	uint32_t sizes[8] = {0, 3, 4, 5};
	struct hc_bal_room rooms[8];
	uint32_t n = collect(sizes, 4, rooms), next = 4;
	struct hc_bal_plan p = plan_of(rooms, n, UINT64_MAX);
	CU_ASSERT_EQUAL(p.moves, 7);
	CU_ASSERT_EQUAL_FATAL(apply(&p, sizes, &next), 0);
	CU_ASSERT_EQUAL(sizes[3], 12); /* all in the fullest room */
	CU_ASSERT_EQUAL(sizes[1] + sizes[2], 0);
}

static void test_big_rooms(void)
{
	uint32_t sizes[16] = {0, 250};
	struct hc_bal_room rooms[8];
	uint32_t n = collect(sizes, 2, rooms), next = 2;
	struct hc_bal_plan p = plan_of(rooms, n, UINT64_MAX);
	CU_ASSERT_EQUAL(p.moves, 150);
	CU_ASSERT_EQUAL(p.new_rooms, 3);
	CU_ASSERT_EQUAL_FATAL(apply(&p, sizes, &next), 0);
	CU_ASSERT_EQUAL(sizes[1], 100);
	CU_ASSERT_EQUAL(sizes[2], 50);
	CU_ASSERT_EQUAL(sizes[3], 50);
	CU_ASSERT_EQUAL(sizes[4], 50);

	/* 105 alone: the new room must reach min, so 15 move, not 5 */
	uint32_t s2[8] = {0, 105};
	n = collect(s2, 2, rooms);
	next = 2;
	p = plan_of(rooms, n, UINT64_MAX);
	CU_ASSERT_EQUAL(p.moves, 15);
	CU_ASSERT_EQUAL_FATAL(apply(&p, s2, &next), 0);
	CU_ASSERT_EQUAL(s2[1], 90);
	CU_ASSERT_EQUAL(s2[2], 15);

	/* excess fills a small room first */
	uint32_t s3[8] = {0, 130, 5};
	n = collect(s3, 3, rooms);
	next = 3;
	p = plan_of(rooms, n, UINT64_MAX);
	CU_ASSERT_EQUAL(p.moves, 30);
	CU_ASSERT_EQUAL(p.new_rooms, 0);
	CU_ASSERT_EQUAL_FATAL(apply(&p, s3, &next), 0);
	CU_ASSERT_EQUAL(s3[1], 100);
	CU_ASSERT_EQUAL(s3[2], 35);
}

static void test_reservations_count(void)
{
	/* 95 users + 5 seats reserved: full, not above max; 8 + 7 reserved = 15 */
	struct hc_bal_room rooms[] = {{1, 95, 5}, {2, 8, 7}, {3, 60, 0}};
	struct hc_bal_plan p = plan_of(rooms, 3, UINT64_MAX);
	CU_ASSERT_EQUAL(p.moves, 0);
	/* 99 users + 5 reserved: 4 above max; only users move */
	struct hc_bal_room r2[] = {{1, 99, 5}, {2, 30, 0}};
	p = plan_of(r2, 2, UINT64_MAX);
	CU_ASSERT_EQUAL(p.moves, 4);
	CU_ASSERT_EQUAL(p.t[0].from, 1);
	CU_ASSERT_EQUAL(p.t[0].to, 2);
}

/* Plan rooms[] (ids 1..n) once with no budget; sizes[16] gets the result
 * by id, new rooms from id n + 1.  Checks the plan applies. */
static struct hc_bal_plan plan_apply(const struct hc_bal_room *rooms, uint32_t n,
				     uint32_t *sizes)
{
	uint32_t next = n + 1;
	memset(sizes, 0, sizeof(uint32_t) * 16);
	for (uint32_t i = 0; i < n; i++)
		sizes[rooms[i].room] = rooms[i].users + rooms[i].reserved;
	struct hc_bal_plan p = plan_of(rooms, n, UINT64_MAX);
	CU_ASSERT_FALSE(p.truncated);
	CU_ASSERT_EQUAL(apply(&p, sizes, &next), 0);
	return p;
}

/* Pools where the balancer of before moved more users than needed: each
 * with the fewest moves and its exact result. */
static void test_fewest_moves(void)
{
	uint32_t s[16];
	/* a tiny room beside full ones: filling it (14) beats dissolving it
	 * and opening a new room topped up from the full ones (15) */
	struct hc_bal_room a[] = {{1, 100, 0}, {2, 100, 0}, {3, 1, 0}};
	struct hc_bal_plan p = plan_apply(a, 3, s);
	CU_ASSERT_EQUAL(p.moves, 14);
	CU_ASSERT_EQUAL(p.new_rooms, 0);
	CU_ASSERT(s[1] == 100 && s[2] == 86 && s[3] == 15);

	/* 3 beside a full room: 12, not 15 */
	struct hc_bal_room b[] = {{1, 3, 0}, {2, 100, 0}};
	p = plan_apply(b, 2, s);
	CU_ASSERT_EQUAL(p.moves, 12);
	CU_ASSERT(s[1] == 15 && s[2] == 88);

	/* 3 and 5 beside a full room: 3 joins 5, 7 come from the full room
	 * (10), not both dissolved into a new room (15) */
	struct hc_bal_room c[] = {{1, 3, 0}, {2, 5, 0}, {3, 100, 0}};
	p = plan_apply(c, 3, s);
	CU_ASSERT_EQUAL(p.moves, 10);
	CU_ASSERT(s[1] == 0 && s[2] == 15 && s[3] == 93);

	/* 122 sheds 22; 82 can take only 18: a new room of 15 and 7 into 82
	 * (22), not a new room of 4 topped up from full rooms (33) */
	struct hc_bal_room d[] = {{1, 82, 0}, {2, 100, 0}, {3, 122, 0}};
	p = plan_apply(d, 3, s);
	CU_ASSERT_EQUAL(p.moves, 22);
	CU_ASSERT_EQUAL(p.new_rooms, 1);
	CU_ASSERT(s[1] == 89 && s[2] == 100 && s[3] == 100 && s[4] == 15);

	/* a room held above max by reservations: its 20 users must leave
	 * (they went nowhere, and the plan took users it did not have) */
	struct hc_bal_room e[] = {{1, 50, 0}, {2, 15, 0}, {3, 98, 0}, {4, 20, 110}};
	p = plan_apply(e, 4, s);
	CU_ASSERT_EQUAL(p.moves, 20);
	CU_ASSERT(s[1] == 50 && s[2] == 35 && s[3] == 98 && s[4] == 110);

	/* a room of one reserved seat cannot be dissolved: it is filled (14),
	 * not left short (4 moves, 10 short of min) */
	struct hc_bal_room f[] = {{1, 42, 57}, {2, 0, 1}, {3, 11, 0}};
	p = plan_apply(f, 3, s);
	CU_ASSERT_EQUAL(p.moves, 14);
	CU_ASSERT(s[1] == 96 && s[2] == 15 && s[3] == 0);
}

/* No plan makes every room valid: the least shortfall, then fewest moves;
 * a pool of fewer than min seats gathers its users. */
static void test_reserved_short(void)
{
	uint32_t s[16];
	/* 10 seats held, 10 users: one held room reaches min */
	struct hc_bal_room a[] = {{1, 0, 5}, {2, 0, 5}, {3, 10, 0}};
	struct hc_bal_plan p = plan_apply(a, 3, s);
	CU_ASSERT_EQUAL(p.moves, 10);
	CU_ASSERT(s[1] + s[2] == 20 && (s[1] == 15 || s[2] == 15) && s[3] == 0);

	/* a room full of held seats; the 8 users left gather into one room */
	struct hc_bal_room b[] = {{1, 0, 100}, {2, 5, 0}, {3, 3, 0}};
	p = plan_apply(b, 3, s);
	CU_ASSERT_EQUAL(p.moves, 3);
	CU_ASSERT(s[1] == 100 && s[2] == 8 && s[3] == 0);

	/* fewer than min seats: users gather where most of them are; held
	 * seats stay */
	struct hc_bal_room c[] = {{1, 2, 1}, {2, 3, 0}};
	p = plan_apply(c, 2, s);
	CU_ASSERT_EQUAL(p.moves, 2);
	CU_ASSERT(s[1] == 1 && s[2] == 5);
	struct hc_bal_room d[] = {{1, 0, 1}, {2, 10, 0}};
	CU_ASSERT_EQUAL(plan_apply(d, 2, s).moves, 0);
}

static uint64_t rs = 2024;
static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
	return (uint32_t)(rs % n);
}

static void test_random_pools(void)
{
	static uint32_t sizes[MAXR];
	static struct hc_bal_room rooms[MAXR];
	unsigned bad_conserve = 0, bad_max = 0, bad_range = 0, bad_second = 0, bad_bound = 0,
		 bad_apply = 0, moved = 0, created = 0, donated = 0;

	for (int iter = 0; iter < 3000; iter++) {
		uint32_t n_rooms = 1 + rnd(iter % 10 == 0 ? 300 : 30);
		uint32_t kind = rnd(4);
		memset(sizes, 0, sizeof(sizes));
		uint64_t total = 0, naive = 0;
		for (uint32_t id = 1; id <= n_rooms; id++) {
			uint32_t s;
			switch (kind) {
			case 0: s = rnd(15); break;               /* all small */
			case 1: s = rnd(260); break;              /* anything */
			case 2: s = 10 + rnd(100); break;         /* around the limits */
			default: s = rnd(3) ? 40 + rnd(40) : rnd(15); break;
			}
			sizes[id] = s;
			total += s;
			if (s > 0 && s < pool.min)
				naive += s;
			if (s > pool.max)
				naive += s - pool.max;
		}
		uint32_t next = n_rooms + 1;
		uint32_t n = collect(sizes, next, rooms);
		struct hc_bal_plan p = plan_of(rooms, n, UINT64_MAX);
		moved += p.moves > 0;
		created += p.new_rooms > 0;
		donated += p.moves > 0 && p.moves < naive; /* saved by donors or kept rooms */
		if (apply(&p, sizes, &next) != 0) {
			bad_apply++;
			continue;
		}
		uint64_t after = 0;
		uint32_t nonempty = 0;
		for (uint32_t id = 1; id < next; id++) {
			after += sizes[id];
			nonempty += sizes[id] > 0;
			if (sizes[id] > pool.max)
				bad_max++;
			if (total >= pool.min && sizes[id] > 0 && sizes[id] < pool.min)
				bad_range++;
		}
		if (total < pool.min && nonempty > 1)
			bad_range++;
		if (after != total)
			bad_conserve++;
		/* big rooms' excess must move; beyond that no more than the
		 * naive "dissolve every small room" plus what new rooms need */
		if (p.moves > naive + pool.min)
			bad_bound++;
		n = collect(sizes, next, rooms);
		if (plan_of(rooms, n, UINT64_MAX).moves != 0)
			bad_second++;
	}
	CU_ASSERT(moved > 1500);   /* the cases are not trivial */
	CU_ASSERT(created > 100);
	CU_ASSERT(donated > 100);
	CU_ASSERT_EQUAL(bad_apply, 0);
	CU_ASSERT_EQUAL(bad_conserve, 0);
	CU_ASSERT_EQUAL(bad_max, 0);
	CU_ASSERT_EQUAL(bad_range, 0);
	CU_ASSERT_EQUAL(bad_second, 0);
	CU_ASSERT_EQUAL(bad_bound, 0);
}

static void test_budget(void)
{
	static uint32_t sizes[MAXR];
	static struct hc_bal_room rooms[MAXR];
	memset(sizes, 0, sizeof(sizes));
	for (uint32_t id = 1; id <= 200; id++)
		sizes[id] = id % 3 == 0 ? 5 : 60;
	uint32_t next = 201;
	int ticks = 0;
	uint64_t moves = 0;
	for (;;) {
		uint32_t n = collect(sizes, next, rooms);
		struct hc_bal_plan p = plan_of(rooms, n, 40);
		CU_ASSERT(p.moves <= 40);
		if (p.moves == 0)
			break;
		CU_ASSERT_EQUAL_FATAL(apply(&p, sizes, &next), 0);
		moves += p.moves;
		if (++ticks > 100)
			break;
	}
	CU_ASSERT(ticks > 1 && ticks < 100);
	for (uint32_t id = 1; id < next; id++)
		CU_ASSERT(sizes[id] == 0 || (sizes[id] >= 15 && sizes[id] <= 100));
	CU_ASSERT(moves > 0);
}

/* test_balance_ref.c */
void hc_test_balance_reference(void);
void hc_test_balance_random_reference(void);
int hc_test_balance_ref_init(void);
void hc_test_balance_ref_free(void);

static int suite_init(void)
{
	if (hc_balance_init(&bal, MAXR) != 0)
		return -1;
	return hc_test_balance_ref_init();
}

static int suite_clean(void)
{
	hc_balance_free(&bal);
	hc_test_balance_ref_free();
	return 0;
}

static CU_TestInfo tests[] = {
	{"seed example 4,6,7,10,40,70", test_seed_example},
	{"pool too small: one room", test_small_pool},
	{"rooms above max", test_big_rooms},
	{"reservations count for capacity", test_reservations_count},
	{"3000 random pools", test_random_pools},
	{"move budget per tick", test_budget},
	{"fewest moves: 100,100,1 and other pools", test_fewest_moves},
	{"reserved seats: least shortfall, gather", test_reserved_short},
	{"reference vs brute force on tiny pools", hc_test_balance_reference},
	{"26000 random pools: fewest moves", hc_test_balance_random_reference},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_balance = {"balance", suite_init, suite_clean, NULL, NULL, tests};
