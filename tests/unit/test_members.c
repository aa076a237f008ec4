/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_members.c - one worker's membership: the JOIN/LEAVE semantics, the
 * counters, repeated users inside one batch, a full table, and a
 * randomised comparison with a plain reference model.
 */
#include <stdlib.h>
#include <string.h>

#include "hc_members.h"
#include "hc_members_pvt.h" /* (hc_members_gone_keep_max) */
#include "hc_pending.h"
#include "hc_pickmemo.h"
#include "hc_proto.h"
#include "hc_unit.h"

static struct hc_members m;

static void op(uint64_t user, uint32_t room, uint8_t kind)
{
	struct hc_op o = {.user_id = user, .room_id = room, .op = kind, .gateway_id = 1};
	hc_members_apply(&m, &o, 1);
}

static void test_semantics(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_sem", 4096, 100, 0), 0);
	op(5, 10, HC_OP_JOIN);
	CU_ASSERT_EQUAL(m.room_users[10], 1);
	CU_ASSERT_EQUAL(m.n_users, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 5), 10);
	op(5, 10, HC_OP_JOIN); /* idempotent */
	CU_ASSERT_EQUAL(m.room_users[10], 1);
	CU_ASSERT_EQUAL(m.st.noops, 1);
	op(5, 11, HC_OP_JOIN); /* moves */
	CU_ASSERT_EQUAL(m.room_users[10], 0);
	CU_ASSERT_EQUAL(m.room_users[11], 1);
	CU_ASSERT_EQUAL(m.n_users, 1);
	CU_ASSERT_EQUAL(m.st.moves, 1);
	op(5, 10, HC_OP_LEAVE); /* not in 10: nothing */
	CU_ASSERT_EQUAL(m.room_users[11], 1);
	CU_ASSERT_EQUAL(m.st.noops, 2);
	op(6, 10, HC_OP_LEAVE); /* absent user */
	CU_ASSERT_EQUAL(m.st.noops, 3);
	op(5, 11, HC_OP_LEAVE);
	CU_ASSERT_EQUAL(m.room_users[11], 0);
	CU_ASSERT_EQUAL(m.n_users, 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 5), 0);
	CU_ASSERT_EQUAL(m.st.joins, 1);
	CU_ASSERT_EQUAL(m.st.leaves, 1);
	/* gone: its key and slot kept for its return (hc_members_pvt.h) */
	CU_ASSERT_EQUAL((int32_t)m.users.ix.count, 1);
	CU_ASSERT_EQUAL(m.st.gone_keys, 1);
	int32_t at = hc_usertab_lookup(&m.users, 5);
	CU_ASSERT_EQUAL(m.gone_head, (uint32_t)at + 1);
	CU_ASSERT_EQUAL(hc_members_owner_of(&m, 5), 0);
	op(5, 11, HC_OP_LEAVE); /* gone: nothing */
	CU_ASSERT_EQUAL(m.st.noops, 4);
	op(5, 12, HC_OP_JOIN);  /* back: its own slot, no new key */
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 5), at);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 5), 12);
	CU_ASSERT_EQUAL(m.room_users[12], 1);
	CU_ASSERT_EQUAL(m.n_users, 1);
	CU_ASSERT_EQUAL(m.st.joins, 2);
	CU_ASSERT_EQUAL(m.st.gone_keys, 0);
	CU_ASSERT_EQUAL((int32_t)m.users.ix.count, 1);
	op(5, 12, HC_OP_LEAVE); /* gone again: listed once */
	CU_ASSERT_EQUAL(m.st.gone_keys, 1);
	CU_ASSERT_EQUAL(m.gone_head, (uint32_t)at + 1);
	CU_ASSERT_EQUAL(m.slot[at].gone_link, HC_SLOT_GONE_LAST);
	CU_ASSERT_EQUAL(m.st.gone_keys_evicted, 0);
	hc_members_free(&m);
}

static void test_same_user_in_batch(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_batch", 4096, 100, 0), 0);
	struct hc_op ops[] = {
		{.user_id = 1, .room_id = 3, .op = HC_OP_JOIN},
		{.user_id = 1, .room_id = 4, .op = HC_OP_JOIN},
		{.user_id = 2, .room_id = 4, .op = HC_OP_JOIN},
		{.user_id = 1, .room_id = 3, .op = HC_OP_LEAVE}, /* not there any more */
		{.user_id = 1, .room_id = 4, .op = HC_OP_LEAVE},
		{.user_id = 1, .room_id = 5, .op = HC_OP_JOIN},
		{.user_id = 2, .room_id = 4, .op = HC_OP_JOIN},
		{.user_id = 1, .room_id = 5, .op = HC_OP_JOIN},
	};
	hc_members_apply(&m, ops, 8);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 1), 5);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 2), 4);
	CU_ASSERT_EQUAL(m.room_users[3], 0);
	CU_ASSERT_EQUAL(m.room_users[4], 1);
	CU_ASSERT_EQUAL(m.room_users[5], 1);
	CU_ASSERT_EQUAL(m.n_users, 2);
	CU_ASSERT_EQUAL(m.st.joins, 3);
	CU_ASSERT_EQUAL(m.st.moves, 1);
	CU_ASSERT_EQUAL(m.st.leaves, 1);
	CU_ASSERT_EQUAL(m.st.noops, 3);
	hc_members_free(&m);
}

/* Users present when a batch's bulk lookup ran, gone, evicted and added
 * again in it: each later op of theirs must see where they are now.  A
 * table of 3 keys: a new user's key takes the longest gone user's (the
 * gone list is a queue), and a user who came back is skipped there; an
 * evicted user's slot is taken at once by the new key (the free list is
 * last in, first out). */
static void test_present_users_gone_in_batch(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_batch_present", 3, 100, 0), 0);
	struct hc_op first[] = {
		{.user_id = 10, .room_id = 2, .op = HC_OP_JOIN}, /* position 0 */
		{.user_id = 3, .room_id = 2, .op = HC_OP_JOIN},  /* 1 */
		{.user_id = 1, .room_id = 2, .op = HC_OP_JOIN},  /* 2 */
	};
	hc_members_apply(&m, first, 3);
	CU_ASSERT_EQUAL_FATAL(hc_usertab_lookup(&m.users, 1), 2);
	CU_ASSERT_EQUAL_FATAL(hc_usertab_lookup(&m.users, 3), 1);
	struct hc_op ops[] = {
		{.user_id = 10, .room_id = 2, .op = HC_OP_LEAVE}, /* gone: the list 0 */
		{.user_id = 1, .room_id = 2, .op = HC_OP_LEAVE},  /* gone: 0 2 */
		{.user_id = 1, .room_id = 8, .op = HC_OP_JOIN},   /* back, at 2: still listed */
		{.user_id = 1, .room_id = 8, .op = HC_OP_JOIN},   /* there: a no-op */
		{.user_id = 3, .room_id = 2, .op = HC_OP_LEAVE},  /* gone: 0 2 1 */
		{.user_id = 4, .room_id = 6, .op = HC_OP_JOIN},   /* new, 3 keys: 10 evicted,
		                                                     its position 0 taken */
		{.user_id = 10, .room_id = 2, .op = HC_OP_LEAVE}, /* not there: a no-op */
		{.user_id = 3, .room_id = 2, .op = HC_OP_LEAVE},  /* gone: a no-op */
		{.user_id = 3, .room_id = 5, .op = HC_OP_JOIN},   /* back, at 1 */
		{.user_id = 1, .room_id = 9, .op = HC_OP_JOIN},   /* a move */
	};
	hc_members_apply(&m, ops, 10);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 1), 9);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 3), 5);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 4), 6);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 10), 0);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 1), 2);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 3), 1);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 4), 0);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 10), -ENOENT);
	CU_ASSERT_EQUAL(m.room_users[0], 0);
	CU_ASSERT_EQUAL(m.room_users[2], 0);
	CU_ASSERT_EQUAL(m.room_users[5], 1);
	CU_ASSERT_EQUAL(m.room_users[6], 1);
	CU_ASSERT_EQUAL(m.room_users[8], 0);
	CU_ASSERT_EQUAL(m.room_users[9], 1);
	CU_ASSERT_EQUAL(m.n_users, 3);
	CU_ASSERT_EQUAL(m.users.ix.count, 3);
	CU_ASSERT_EQUAL(m.st.gone_keys, 0);
	CU_ASSERT_EQUAL(m.st.gone_keys_evicted, 1);
	CU_ASSERT_EQUAL(m.gone_head, 2 + 1); /* 2 and 1: back, still listed */
	CU_ASSERT_EQUAL(m.slot[2].gone_link, 1 + 1);
	CU_ASSERT_EQUAL(m.slot[1].gone_link, HC_SLOT_GONE_LAST);
	CU_ASSERT_EQUAL(m.st.joins, 3 + 3);
	CU_ASSERT_EQUAL(m.st.moves, 1);
	CU_ASSERT_EQUAL(m.st.leaves, 3);
	CU_ASSERT_EQUAL(m.st.noops, 3);
	/* a full table of users in rooms: a new one is refused, no key lost */
	op(77, 4, HC_OP_JOIN);
	CU_ASSERT_EQUAL(m.st.table_full, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 77), 0);
	CU_ASSERT_EQUAL(m.users.ix.count, 3);
	/* 4 gone (the list 2 1 0): 77's key skips 1 and 3, back, and
	 * takes 4's */
	struct hc_op leave4 = {.user_id = 4, .room_id = 6, .op = HC_OP_LEAVE}; /* (gateway 0) */
	hc_members_apply(&m, &leave4, 1);
	CU_ASSERT_EQUAL(m.st.gone_keys, 1);
	op(77, 4, HC_OP_JOIN);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 77), 4);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 77), 0);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 4), -ENOENT);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 1), 9);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 3), 5);
	CU_ASSERT_EQUAL(m.st.gone_keys_evicted, 2);
	CU_ASSERT_EQUAL(m.st.gone_keys, 0);
	CU_ASSERT_EQUAL(m.gone_head, 0);
	CU_ASSERT_EQUAL(m.slot[1].gone_link, 0);
	CU_ASSERT_EQUAL(m.slot[2].gone_link, 0);
	CU_ASSERT_EQUAL(m.slot[0].gone_link, 0);
	hc_members_free(&m);
}

/* Gone users keep their keys while the index holds at most capacity less
 * 1/64 keys (126 of 128); past that a LEAVE deletes its key at once, but
 * a user still in the list of kept keys (back since it went) keeps it. */
static void test_gone_keep_limit(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_gone_limit", 128, 100, 0), 0);
	CU_ASSERT_EQUAL(hc_members_gone_keep_max(&m), 126);
	for (uint64_t u = 1; u <= 126; u++)
		op(u, 1 + (uint32_t)(u % 7), HC_OP_JOIN);
	CU_ASSERT_EQUAL(m.users.ix.count, 126);
	op(1, 1 + 1 % 7, HC_OP_LEAVE); /* 126 keys: kept */
	CU_ASSERT_EQUAL(m.st.gone_keys, 1);
	op(1, 3, HC_OP_JOIN);          /* back: still listed */
	CU_ASSERT_EQUAL(m.st.gone_keys, 0);
	op(127, 3, HC_OP_JOIN);
	op(128, 3, HC_OP_JOIN);
	CU_ASSERT_EQUAL(m.users.ix.count, 128);
	op(1, 3, HC_OP_LEAVE);         /* 128 keys, but listed: kept */
	CU_ASSERT_EQUAL(m.st.gone_keys, 1);
	CU_ASSERT_EQUAL(m.users.ix.count, 128);
	op(2, 1 + 2 % 7, HC_OP_LEAVE); /* 128 keys: deleted */
	CU_ASSERT_EQUAL(m.st.gone_keys, 1);
	CU_ASSERT_EQUAL(m.users.ix.count, 127);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 2), -ENOENT);
	op(3, 1 + 3 % 7, HC_OP_LEAVE); /* 127: deleted */
	CU_ASSERT_EQUAL(m.users.ix.count, 126);
	op(4, 1 + 4 % 7, HC_OP_LEAVE); /* 126: kept */
	CU_ASSERT_EQUAL(m.st.gone_keys, 2);
	CU_ASSERT_EQUAL(m.users.ix.count, 126);
	/* new users take the free positions, then the longest gone's key (1) */
	op(200, 5, HC_OP_JOIN);
	op(201, 5, HC_OP_JOIN);
	CU_ASSERT_EQUAL(m.users.ix.count, 128);
	CU_ASSERT_EQUAL(m.st.gone_keys_evicted, 0);
	op(202, 5, HC_OP_JOIN);
	CU_ASSERT_EQUAL(m.st.gone_keys_evicted, 1);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 1), -ENOENT);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 4), 0);
	CU_ASSERT(hc_usertab_lookup(&m.users, 4) >= 0);
	CU_ASSERT_EQUAL(m.st.gone_keys, 1);
	CU_ASSERT_EQUAL(m.n_users, 126 + 2 - 4 + 3);
	CU_ASSERT_EQUAL(m.room_users[5], 18 - 1 + 3); /* 4, 11 .. 123, less 4 */
	hc_members_free(&m);
}

/* Above the keep limit (new users' keys took the 1/64 it leaves free),
 * the timers delete the longest gone users' keys until the index is back
 * at it (hc_members_gone_trim), a bounded number of list entries a call,
 * users who came back unlinked on the way; the next new users then find
 * free positions and evict nothing inside their JOINs. */
static void test_gone_trim(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_gone_trim", 128, 100, 0), 0);
	CU_ASSERT_EQUAL(hc_members_gone_trim(&m, 64), 0); /* (no list) */
	for (uint64_t u = 1; u <= 126; u++)
		op(u, 1 + (uint32_t)(u % 7), HC_OP_JOIN);
	for (uint64_t u = 1; u <= 20; u++) /* the list: 1 .. 20 */
		op(u, 1 + (uint32_t)(u % 7), HC_OP_LEAVE);
	for (uint64_t u = 1; u <= 10; u++) /* back: still listed */
		op(u, 2, HC_OP_JOIN);
	CU_ASSERT_EQUAL(m.st.gone_keys, 10);
	CU_ASSERT_EQUAL(hc_members_gone_trim(&m, 64), 0); /* 126 keys: at the limit */
	CU_ASSERT_EQUAL(m.gone_head, (uint32_t)hc_usertab_lookup(&m.users, 1) + 1);
	op(200, 3, HC_OP_JOIN);
	op(201, 3, HC_OP_JOIN);
	CU_ASSERT_EQUAL(m.users.ix.count, 128);
	/* 5 steps: 1 .. 5, back, unlinked; nothing deleted */
	CU_ASSERT_EQUAL(hc_members_gone_trim(&m, 5), 0);
	CU_ASSERT_EQUAL(m.gone_head, (uint32_t)hc_usertab_lookup(&m.users, 6) + 1);
	CU_ASSERT_EQUAL(m.slot[hc_usertab_lookup(&m.users, 1)].gone_link, 0);
	/* 6 .. 10 unlinked, 11 and 12 deleted: 126 keys, it stops */
	CU_ASSERT_EQUAL(hc_members_gone_trim(&m, 64), 2);
	CU_ASSERT_EQUAL(m.users.ix.count, 126);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 11), -ENOENT);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 12), -ENOENT);
	CU_ASSERT(hc_usertab_lookup(&m.users, 13) >= 0);
	CU_ASSERT_EQUAL(m.gone_head, (uint32_t)hc_usertab_lookup(&m.users, 13) + 1);
	CU_ASSERT_EQUAL(m.st.gone_keys, 8);
	CU_ASSERT_EQUAL(m.st.gone_keys_trimmed, 2);
	CU_ASSERT_EQUAL(m.st.gone_keys_evicted, 0); /* (inside ops only) */
	/* the positions freed go to new users: no eviction in their JOINs */
	op(202, 3, HC_OP_JOIN);
	op(203, 3, HC_OP_JOIN);
	CU_ASSERT_EQUAL(m.users.ix.count, 128);
	CU_ASSERT_EQUAL(m.st.gone_keys_evicted, 0);
	/* a new user now finds none: 13 evicted inside its JOIN */
	op(204, 3, HC_OP_JOIN);
	CU_ASSERT_EQUAL(m.st.gone_keys_evicted, 1);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 13), -ENOENT);
	CU_ASSERT_EQUAL(m.users.ix.count, 128);
	CU_ASSERT_EQUAL(hc_members_gone_trim(&m, 64), 2); /* 14, 15 */
	CU_ASSERT_EQUAL(m.users.ix.count, 126);
	CU_ASSERT_EQUAL(m.st.gone_keys_trimmed, 4);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 14), -ENOENT);
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 15), -ENOENT);
	CU_ASSERT_EQUAL(m.st.gone_keys, 5);
	CU_ASSERT_EQUAL(hc_members_gone_trim(&m, 64), 0); /* at the limit */
	CU_ASSERT_EQUAL(m.gone_head, (uint32_t)hc_usertab_lookup(&m.users, 16) + 1);
	/* above the limit with no gone user left: the list ends, nothing more */
	op(205, 4, HC_OP_JOIN);
	op(206, 4, HC_OP_JOIN);
	for (uint64_t u = 16; u <= 20; u++)
		op(u, 4, HC_OP_JOIN); /* back */
	CU_ASSERT_EQUAL(m.st.gone_keys, 0);
	CU_ASSERT_EQUAL(m.users.ix.count, 128);
	CU_ASSERT_EQUAL(hc_members_gone_trim(&m, 64), 0);
	CU_ASSERT_EQUAL(m.gone_head, 0);
	CU_ASSERT_EQUAL(m.users.ix.count, 128);
	CU_ASSERT_EQUAL(m.n_users, 128);
	CU_ASSERT_EQUAL(m.room_users[3], 18 - 3 + 5); /* 2, 9 .. 121 less 2, 9, 16 (left), and 5 new */
	hc_members_free(&m);
}

/* A gone user whose JOIN waits for its seat has no position promised
 * (a new user to every op): the timers may trim its kept key meanwhile,
 * and the admitted seat then takes a new one. */
static void test_gone_trim_seat_in_flight(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_gone_trim_seat", 128, 100, 0), 0);
	for (uint64_t u = 1; u <= 126; u++)
		op(u, 1 + (uint32_t)(u % 7), HC_OP_JOIN);
	op(1, 1 + 1 % 7, HC_OP_LEAVE); /* gone: its key kept */
	op(200, 3, HC_OP_JOIN);
	op(201, 3, HC_OP_JOIN);
	CU_ASSERT_EQUAL(m.users.ix.count, 128);
	m.admission = 1;
	op(1, 9, HC_OP_JOIN); /* a new user to the table: asks for a seat */
	CU_ASSERT_EQUAL_FATAL(m.pend.n_pending, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 1), 0);
	CU_ASSERT_EQUAL(hc_members_gone_trim(&m, 64), 1); /* 1's key, then the list ends */
	CU_ASSERT_EQUAL(hc_usertab_lookup(&m.users, 1), -ENOENT);
	CU_ASSERT_EQUAL(m.users.ix.count, 127);
	CU_ASSERT_EQUAL(m.gone_head, 0);
	hc_members_decide(&m, 1, 9, 1, 1);
	CU_ASSERT_EQUAL(m.pend.n_pending, 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 1), 9);
	CU_ASSERT(hc_usertab_lookup(&m.users, 1) >= 0);
	CU_ASSERT_EQUAL(m.users.ix.count, 128);
	CU_ASSERT_EQUAL(m.n_users, 128);
	CU_ASSERT_EQUAL(m.room_users[9], 1);
	CU_ASSERT_EQUAL(m.st.gone_keys, 0);
	CU_ASSERT_EQUAL(m.st.gone_keys_trimmed, 1);
	CU_ASSERT_EQUAL(m.st.gone_keys_evicted, 0);
	m.admission = 0;
	hc_members_free(&m);
}

static void test_full(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_full", 1024, 10, 0), 0);
	uint64_t added = 0;
	for (uint64_t u = 1; u <= 4096; u++) {
		uint64_t before = m.st.table_full;
		op(u * 7919, 1 + (uint32_t)(u % 9), HC_OP_JOIN);
		if (m.st.table_full == before)
			added++;
	}
	CU_ASSERT(m.st.table_full > 0);
	CU_ASSERT(added >= 1024);
	CU_ASSERT_EQUAL(m.n_users, added);
	CU_ASSERT_EQUAL((int32_t)m.users.ix.count, (int32_t)added);
	uint64_t sum = 0;
	for (uint32_t r = 0; r < 10; r++)
		sum += m.room_users[r];
	CU_ASSERT_EQUAL(sum, added);
	/* a known user still moves when the table is full */
	op(7919, 9, HC_OP_JOIN);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 7919), 9);
	hc_members_free(&m);
}

static uint64_t rs = 12345;
static uint32_t rnd(uint32_t n)
{
	rs = rs * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)((rs >> 33) % n);
}

/* Every room's counter says exactly how many users the table has in it.
 * Returns the number of rooms that differ. */
static uint32_t *rooms_seen;
static void rooms_count(uint64_t user, uint32_t room, void *arg)
{
	(void)user;
	(void)arg;
	rooms_seen[room]++;
}

static unsigned rooms_check(const struct hc_members *mm)
{
	unsigned bad = 0;
	rooms_seen = calloc(mm->max_rooms, sizeof(*rooms_seen));
	CU_ASSERT_PTR_NOT_NULL_FATAL(rooms_seen);
	hc_members_walk(mm, rooms_count, NULL);
	for (uint32_t r = 1; r < mm->max_rooms; r++)
		bad += rooms_seen[r] != mm->room_users[r];
	free(rooms_seen);
	rooms_seen = NULL;
	return bad;
}

static void walk_check(uint64_t user, uint32_t room, void *arg)
{
	const uint32_t *ref = arg;
	CU_ASSERT_EQUAL(ref[user - 1000], room);
}

static void test_against_reference(void)
{
	enum { USERS = 2000, ROOMS = 50, OPS = 200000 };
	static uint32_t ref[USERS];
	static struct hc_op ops[300];
	uint32_t counts[ROOMS] = {0};

	memset(ref, 0, sizeof(ref));
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_ref", 4096, ROOMS, 0), 0);
	for (int done = 0; done < OPS;) {
		unsigned n = 1 + rnd(300);
		for (unsigned i = 0; i < n; i++) {
			uint32_t u = rnd(USERS / 10); /* few users: many repeats per batch */
			if (rnd(10) == 0)
				u = rnd(USERS);
			uint32_t room = 1 + rnd(ROOMS - 1);
			uint8_t kind = rnd(3) ? HC_OP_JOIN : HC_OP_LEAVE;
			if (kind == HC_OP_LEAVE && ref[u] != 0 && rnd(2))
				room = ref[u];
			ops[i] = (struct hc_op){.user_id = 1000 + u, .room_id = room, .op = kind};
			if (kind == HC_OP_JOIN)
				ref[u] = room;
			else if (ref[u] == room)
				ref[u] = 0;
		}
		hc_members_apply(&m, ops, n);
		done += (int)n;
	}
	uint64_t users = 0;
	for (int u = 0; u < USERS; u++) {
		if (ref[u] != 0) {
			counts[ref[u]]++;
			users++;
		}
	}
	int bad = 0;
	for (int r = 0; r < ROOMS; r++)
		bad += counts[r] != m.room_users[r];
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(m.n_users, users);
	CU_ASSERT_EQUAL(hc_members_walk(&m, walk_check, ref), users);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	hc_members_free(&m);
}

/* A pick as the worker answers it (hc_chan.c): asked, then the scan run
 * to its end (`step` positions a step).  Returns the users picked (their
 * ids and gateways in out), checking they are of room and that the ask
 * ended with exactly that many. */
struct pick { uint64_t user_id; uint16_t gateway_id; };
static unsigned pick_now(uint32_t room, unsigned k, uint32_t now, uint32_t cooldown,
			 uint32_t step, struct pick *out)
{
	static struct hc_change chg[8192];
	m.now_s = now;
	CU_ASSERT_EQUAL_FATAL(hc_members_pick_ask(&m, room, 99, k, cooldown), 0);
	struct hc_change *was = m.changes;
	m.changes = chg;
	m.n_changes = 0;
	m.changes_cap = 8192;
	unsigned n = 0, steps = 0, ends = 0;
	while (hc_members_picking(&m) && steps++ <= m.capacity / step + 1)
		n += hc_members_pick_step(&m, step);
	CU_ASSERT_FALSE(hc_members_picking(&m));
	unsigned got = 0;
	for (uint32_t i = 0; i < m.n_changes; i++) {
		const struct hc_change *c = &chg[i];
		CU_ASSERT_EQUAL(c->from_room, room);
		CU_ASSERT_EQUAL(c->to_room, 99);
		if (c->kind == HC_CHG_PICK_END) {
			CU_ASSERT_EQUAL(c->user_id, n);
			ends++;
			continue;
		}
		CU_ASSERT_EQUAL_FATAL(c->kind, HC_CHG_PICK);
		CU_ASSERT_EQUAL(hc_members_room_of(&m, c->user_id), room);
		out[got++] = (struct pick){c->user_id, c->gateway_id};
	}
	CU_ASSERT_EQUAL(ends, 1);
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT(n <= k);
	m.changes = was;
	m.n_changes = 0;
	m.changes_cap = 0;
	return n;
}

static void test_pick(void)
{
	struct pick picks[64];
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_pick", 4096, 16, 0), 0);
	for (uint64_t u = 1; u <= 30; u++) {
		struct hc_op o = {.user_id = u, .room_id = u <= 20 ? 5 : 6, .op = HC_OP_JOIN,
				  .gateway_id = (uint16_t)(100 + u % 3)};
		hc_members_apply(&m, &o, 1);
	}
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	unsigned n = pick_now(5, 7, 1000, 30, 7, picks);
	CU_ASSERT_EQUAL(n, 7);
	for (unsigned i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(hc_members_room_of(&m, picks[i].user_id), 5);
		CU_ASSERT_EQUAL(picks[i].gateway_id, 100 + picks[i].user_id % 3);
		for (unsigned j = 0; j < i; j++)
			CU_ASSERT_NOT_EQUAL(picks[i].user_id, picks[j].user_id);
	}
	/* within the cooldown only the 13 others can be picked */
	CU_ASSERT_EQUAL(pick_now(5, 64, 1010, 30, 4096, picks), 13);
	CU_ASSERT_EQUAL(pick_now(5, 64, 1020, 30, 3, picks), 0);
	/* after it, all 20 again */
	CU_ASSERT_EQUAL(pick_now(5, 64, 1050, 30, 1, picks), 20);
	CU_ASSERT_EQUAL(pick_now(7, 64, 1050, 30, 4096, picks), 0); /* empty room */
	/* a user whose seat request elsewhere is in flight is not picked */
	m.admission = 1;
	struct hc_op away = {.user_id = 4, .room_id = 8, .op = HC_OP_JOIN,
			     .gateway_id = (uint16_t)(100 + 4 % 3)};
	hc_members_apply(&m, &away, 1);
	CU_ASSERT_EQUAL_FATAL(m.pend.n_pending, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 4), 5); /* still here */
	n = pick_now(5, 64, 1100, 30, 64, picks);
	CU_ASSERT_EQUAL(n, 19);
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_NOT_EQUAL(picks[i].user_id, 4);
	hc_members_decide(&m, 4, 8, 0, away.gateway_id); /* refused: stays in 5 */
	CU_ASSERT_EQUAL(m.pend.n_pending, 0);
	m.admission = 0;
	CU_ASSERT_EQUAL(pick_now(5, 64, 1150, 30, 4096, picks), 20);
	/* moves and leaves keep the counters right */
	struct hc_op mv = {.user_id = 3, .room_id = 6, .op = HC_OP_JOIN};
	struct hc_op lv = {.user_id = 21, .room_id = 6, .op = HC_OP_LEAVE, .gateway_id = 101};
	hc_members_apply(&m, &mv, 1);
	hc_members_apply(&m, &lv, 1);   /* 21 is gateway 100's: not undone */
	CU_ASSERT_EQUAL(m.st.not_owner, 1);
	CU_ASSERT_EQUAL(m.room_users[6], 11);
	lv.gateway_id = 100;
	hc_members_apply(&m, &lv, 1);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	CU_ASSERT_EQUAL(m.room_users[5], 19);
	CU_ASSERT_EQUAL(m.room_users[6], 10);
	hc_members_free(&m);
}

static void apply1(uint64_t user, uint32_t room, uint8_t op, uint16_t gw, uint8_t gen);

/* Is user u among picks[0 .. n)? */
static int picked_among(const struct pick *picks, unsigned n, uint64_t u)
{
	for (unsigned i = 0; i < n; i++)
		if (picks[i].user_id == u)
			return 1;
	return 0;
}

/* User u leaves room `from` and joins room `to` through gateway 7 at
 * m.now_s, as a gateway obeying a MOVE as LEAVE + JOIN does: admission
 * 0 (applied at once), 1 (a seat request, then admitted), 2 (admission
 * on, `to` leased: applied at once on a leased seat). */
static void leave_join(uint64_t u, uint32_t from, uint32_t to, int admission)
{
	struct hc_op ops[2] = {
		{.user_id = u, .room_id = from, .op = HC_OP_LEAVE, .gateway_id = 7},
		{.user_id = u, .room_id = to, .op = HC_OP_JOIN, .gateway_id = 7}};
	if (admission == 2)
		hc_members_lease(&m, to, 1);
	hc_members_apply(&m, ops, 2);
	if (admission == 1) {
		CU_ASSERT_EQUAL(hc_members_room_of(&m, u), 0); /* waits for its seat */
		hc_members_decide(&m, u, to, 1, 7);
	}
	CU_ASSERT_EQUAL(hc_members_room_of(&m, u), to);
}

/* A gateway may obey a MOVE as LEAVE + JOIN (docs/architecture.md,
 * "Directives"): the user's slot is freed and a new one taken, and the
 * user must still not be picked again within the cooldown (the pick
 * memo, hc_pickmemo.h).  With admission off, on (the slot made by the
 * seat's answer) and on with a lease (the JOIN applied on a leased
 * seat); then a user swept and named again by a snapshot. */
static void test_pick_cooldown_survives_leave_join(void)
{
	struct pick picks[64];
	for (int admission = 0; admission <= 2; admission++) {
		CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_memo", 4096, 128, 0), 0);
		for (uint64_t u = 1; u <= 20; u++) {
			struct hc_op o = {.user_id = u, .room_id = 5, .op = HC_OP_JOIN,
					  .gateway_id = 7};
			hc_members_apply(&m, &o, 1);
		}
		m.admission = admission != 0;
		CU_ASSERT_EQUAL_FATAL(pick_now(5, 4, 1000, 30, 4096, picks), 4);
		struct pick moved[4];
		memcpy(moved, picks, sizeof(moved));
		/* the four obey as LEAVE + JOIN into 99; user 17, never
		 * picked (the scan goes in position order: users 1 to 4),
		 * does the same */
		CU_ASSERT_FALSE_FATAL(picked_among(moved, 4, 17));
		m.now_s = 1002;
		for (unsigned i = 0; i < 4; i++)
			leave_join(moved[i].user_id, 5, 99, admission);
		leave_join(17, 5, 99, admission);
		CU_ASSERT_EQUAL(m.memo.st.kept, 4);
		CU_ASSERT_EQUAL(m.memo.st.restored, 4);
		CU_ASSERT_EQUAL(m.memo.ix.count, 0);
		CU_ASSERT_EQUAL(m.memo.tail - m.memo.head, 0); /* taken: out of the ring */
		CU_ASSERT_EQUAL(m.room_users[99], 5);
		/* within the cooldown: only user 17, never picked */
		CU_ASSERT_EQUAL(pick_now(99, 64, 1010, 30, 4096, picks), 1);
		CU_ASSERT_EQUAL(picks[0].user_id, 17);
		/* 30 s after their pick at 1000, the four (17 was picked at
		 * 1010: not yet) */
		CU_ASSERT_EQUAL(pick_now(99, 64, 1030, 30, 4096, picks), 4);
		for (unsigned i = 0; i < 4; i++)
			CU_ASSERT(picked_among(moved, 4, picks[i].user_id));
		/* a pick is remembered only within the window: one of them
		 * leaving 30 s after its pick at 1030 is not kept, and comes
		 * back pickable */
		uint64_t late = picks[0].user_id;
		m.now_s = 1060;
		leave_join(late, 99, 98, admission);
		CU_ASSERT_EQUAL(m.memo.st.kept, 4);
		CU_ASSERT_EQUAL(m.memo.ix.count, 0);
		CU_ASSERT_EQUAL(pick_now(98, 64, 1061, 30, 4096, picks), 1);
		/* pick times are whole seconds, not seconds mod 256: picked
		 * at 1061, the user is not "too soon" 256 s later */
		CU_ASSERT_EQUAL(pick_now(98, 64, 1061 + 256 + 5, 30, 4096, picks), 1);
		m.admission = 0;
		hc_members_free(&m);
	}
	/* a user picked, then swept (its gateway's snapshot left it out),
	 * then named by the next snapshot: the member's new slot takes the
	 * pick time back */
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_memo", 4096, 128, 0), 0);
	for (uint64_t u = 1; u <= 3; u++)
		apply1(u, 5, HC_OP_JOIN, 7, 0);
	CU_ASSERT_EQUAL_FATAL(pick_now(5, 1, 2000, 60, 4096, picks), 1);
	uint64_t x = picks[0].user_id;
	m.now_s = 2001;
	for (uint64_t u = 1; u <= 3; u++)
		if (u != x)
			apply1(u, 5, HC_OP_SNAP_SET, 7, 1);
	apply1(0, 0, HC_OP_SNAP_SWEEP, 7, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, x), 0);
	CU_ASSERT_EQUAL(m.memo.st.kept, 1);
	for (uint64_t u = 1; u <= 3; u++)
		apply1(u, 5, HC_OP_SNAP_SET, 7, 2);
	apply1(0, 0, HC_OP_SNAP_SWEEP, 7, 2);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, x), 5);
	CU_ASSERT_EQUAL(m.memo.st.restored, 1);
	CU_ASSERT_EQUAL(pick_now(5, 64, 2030, 60, 4096, picks), 2);
	CU_ASSERT_FALSE(picked_among(picks, 2, x));
	hc_members_free(&m);
}

/* The memo itself: nothing kept before a cooldown is asked; a record
 * taken back within its window gives its pick time, past it none; taken
 * records at the ring's tail leave at once, so one user going round
 * LEAVE + JOIN pushes nobody out; a full ring pushes out its oldest
 * (counted); records leave the head a window after their users left,
 * a few at a time; a narrower cooldown narrows the window once the wider
 * one has not been asked for its own length; a user kept twice has one
 * record. */
static void test_pickmemo_ring(void)
{
	struct hc_pickmemo p;
	CU_ASSERT_EQUAL_FATAL(hc_pickmemo_init(&p, "t_pickmemo", 0), 0);
	CU_ASSERT_FALSE(hc_pickmemo_within(&p, 100, 100)); /* window 0 */
	hc_pickmemo_window(&p, 60, 100);
	hc_pickmemo_window(&p, 10, 101); /* (the wider one stays) */
	CU_ASSERT_EQUAL(p.window_s, 60);
	CU_ASSERT(hc_pickmemo_within(&p, 100, 159));
	CU_ASSERT_FALSE(hc_pickmemo_within(&p, 100, 160));
	hc_pickmemo_keep(&p, 1, 100, 150);
	CU_ASSERT_EQUAL(hc_pickmemo_take(&p, 1, 159), 100);
	CU_ASSERT_EQUAL(hc_pickmemo_take(&p, 1, 159), 0); /* taken: forgotten */
	hc_pickmemo_keep(&p, 1, 100, 150);
	CU_ASSERT_EQUAL(hc_pickmemo_take(&p, 1, 160), 0); /* past the window */
	CU_ASSERT_EQUAL(p.st.kept, 2);
	CU_ASSERT_EQUAL(p.st.restored, 1);
	CU_ASSERT_EQUAL(p.tail - p.head, 0);
	/* 100 users kept, then one going round LEAVE + JOIN 5,000 times */
	for (uint64_t u = 1; u <= 100; u++)
		hc_pickmemo_keep(&p, u, 120, 121);
	for (unsigned i = 0; i < 5000; i++) {
		hc_pickmemo_keep(&p, 777, 121, 122);
		CU_ASSERT_EQUAL_FATAL(hc_pickmemo_take(&p, 777, 122), 121);
	}
	CU_ASSERT_EQUAL(p.st.evicted, 0);
	CU_ASSERT_EQUAL(p.tail - p.head, 100);
	CU_ASSERT_EQUAL(p.ix.count, 100);
	/* the ring filled: each further record pushes out the oldest */
	for (uint64_t u = 101; u <= HC_PICKMEMO_KEPT + 3; u++)
		hc_pickmemo_keep(&p, u, 120, 125);
	CU_ASSERT_EQUAL(p.st.evicted, 3);
	CU_ASSERT_EQUAL(p.ix.count, HC_PICKMEMO_KEPT);
	CU_ASSERT_EQUAL(hc_pickmemo_take(&p, 3, 126), 0);   /* pushed out */
	CU_ASSERT_EQUAL(hc_pickmemo_take(&p, 4, 126), 120);
	/* kept again: one record (the newer pick time), at the tail */
	hc_pickmemo_keep(&p, 5, 124, 126);
	CU_ASSERT_EQUAL(p.ix.count, HC_PICKMEMO_KEPT - 1);
	CU_ASSERT_EQUAL(hc_pickmemo_take(&p, 5, 126), 124);
	/* a window after the users left, the records leave the head: a
	 * few at a time, uncounted */
	uint64_t evicted = p.st.evicted;
	hc_pickmemo_expire(&p, 180, 0);
	CU_ASSERT_EQUAL(p.ix.count, HC_PICKMEMO_KEPT - 2); /* (budget 0) */
	hc_pickmemo_expire(&p, 181, 16); /* user 5's dead record, users 6..20 */
	CU_ASSERT_EQUAL(p.ix.count, HC_PICKMEMO_KEPT - 2 - 15);
	hc_pickmemo_expire(&p, 184, HC_PICKMEMO_KEPT); /* users 101 on left at 125 */
	CU_ASSERT_EQUAL(p.ix.count, HC_PICKMEMO_KEPT + 3 - 100);
	hc_pickmemo_expire(&p, 185, HC_PICKMEMO_KEPT);
	CU_ASSERT_EQUAL(p.ix.count, 0);
	CU_ASSERT_EQUAL(p.tail - p.head, 0);
	CU_ASSERT_EQUAL(p.st.evicted, evicted);
	/* narrower: 10 s asked, when 60 s was last asked at 100 */
	hc_pickmemo_window(&p, 10, 159);
	CU_ASSERT_EQUAL(p.window_s, 60); /* (59 s after: not yet) */
	hc_pickmemo_window(&p, 10, 200);
	CU_ASSERT_EQUAL(p.window_s, 10);
	hc_pickmemo_window(&p, 60, 201);
	CU_ASSERT_EQUAL(p.window_s, 60);
	/* a keep expires up to 8 records at the head first: 10 users left
	 * at 300, a keep at 360 (the window after) leaves 2 and its own */
	for (uint64_t u = 1; u <= 10; u++)
		hc_pickmemo_keep(&p, u, 300, 300);
	hc_pickmemo_keep(&p, 11, 359, 360);
	CU_ASSERT_EQUAL(p.tail - p.head, 3);
	CU_ASSERT_EQUAL(p.ix.count, 3);
	CU_ASSERT_EQUAL(hc_pickmemo_take(&p, 9, 360), 0);   /* (past the window) */
	CU_ASSERT_EQUAL(hc_pickmemo_take(&p, 10, 360), 0);
	CU_ASSERT_EQUAL(hc_pickmemo_take(&p, 11, 360), 359);
	CU_ASSERT_EQUAL(p.tail - p.head, 0);
	CU_ASSERT_EQUAL(hc_pickmemo_dead(&p), 0);
	/* the filter: each cell counts its records, back to 0 as they go;
	 * 300 users of one cell stick it at 255, and a user of that cell
	 * not kept is still looked up and not found */
	uint64_t sum = 0;
	for (uint32_t c = 0; c < HC_PICKMEMO_CELLS; c++)
		sum += p.filter[c];
	CU_ASSERT_EQUAL(sum, 0);
	uint32_t cell = hc_pickmemo_cell(&p, 1);
	static uint64_t ids[301];
	unsigned n = 0;
	for (uint64_t u = 1; n < 301 && u < 1000000000; u++)
		if (hc_pickmemo_cell(&p, u) == cell)
			ids[n++] = u;
	CU_ASSERT_EQUAL_FATAL(n, 301);
	for (unsigned i = 0; i < 300; i++)
		hc_pickmemo_keep(&p, ids[i], 300, 301);
	CU_ASSERT_EQUAL(p.filter[cell], 255);
	CU_ASSERT_EQUAL(p.sticky, 1);
	CU_ASSERT_EQUAL(hc_pickmemo_take(&p, ids[300], 302), 0);
	for (unsigned i = 0; i < 299; i++)
		CU_ASSERT_EQUAL(hc_pickmemo_take(&p, ids[i], 302), 300);
	CU_ASSERT_EQUAL(p.filter[cell], 255); /* (sticks) */
	sum = 0;
	for (uint32_t c = 0; c < HC_PICKMEMO_CELLS; c++)
		sum += c == cell ? 0 : p.filter[c];
	CU_ASSERT_EQUAL(sum, 0);
	/* the last one out: the index is empty, the sticky cell cleared */
	CU_ASSERT_EQUAL(hc_pickmemo_take(&p, ids[299], 302), 300);
	CU_ASSERT_EQUAL(p.filter[cell], 0);
	CU_ASSERT_EQUAL(p.sticky, 0);
	hc_pickmemo_free(&p);
}

/* Taken records in the middle of the ring (a seat answered after other
 * users left: admission on) do not push live ones out: a full ring a
 * quarter dead or more is compacted, the live records repointed.  Then
 * the worker's clock: hc_members_tick sets it, never back, and expires
 * 4 records a tick. */
static void test_pickmemo_compaction_and_ticks(void)
{
	struct hc_pickmemo *p = &m.memo;
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_memo_tick", 1024, 16, 0), 0);
	CU_ASSERT_EQUAL(m.now_s, 1);
	hc_pickmemo_window(p, 600, 100);
	/* 3,000 rounds of: a leaves, p leaves (for good), a comes back */
	for (uint64_t i = 0; i < 3000; i++) {
		uint64_t a = 1000000 + i, away = 2000000 + i;
		hc_pickmemo_keep(p, a, 100, 101);
		hc_pickmemo_keep(p, away, 100, 101);
		CU_ASSERT_EQUAL_FATAL(hc_pickmemo_take(p, a, 101), 100);
	}
	CU_ASSERT_EQUAL(p->st.evicted, 0);
	CU_ASSERT_EQUAL(p->ix.count, 3000);
	CU_ASSERT(p->tail - p->head <= HC_PICKMEMO_KEPT);
	CU_ASSERT_EQUAL(p->tail - p->head, 3000 + hc_pickmemo_dead(p));
	unsigned found = 0;
	for (uint64_t i = 0; i < 3000; i++)
		found += hc_pickmemo_take(p, 2000000 + i, 102) == 100;
	CU_ASSERT_EQUAL(found, 3000);
	CU_ASSERT_EQUAL(p->ix.count, 0);
	/* ticks: the clock moves on, never back; 4 records out a tick */
	hc_pickmemo_expire(p, 102, HC_PICKMEMO_KEPT); /* (the dead ones) */
	CU_ASSERT_EQUAL(p->tail - p->head, 0);
	for (uint64_t u = 1; u <= 10; u++)
		hc_pickmemo_keep(p, u, 200, 200);
	hc_members_tick(&m, 700);
	CU_ASSERT_EQUAL(m.now_s, 700);
	CU_ASSERT_EQUAL(p->tail - p->head, 10); /* (599 s after: still of use) */
	hc_members_tick(&m, 800);
	CU_ASSERT_EQUAL(p->tail - p->head, 6);
	hc_members_tick(&m, 750); /* back: ignored, and still 4 out */
	CU_ASSERT_EQUAL(m.now_s, 800);
	CU_ASSERT_EQUAL(p->tail - p->head, 2);
	hc_members_tick(&m, 801);
	CU_ASSERT_EQUAL(p->tail - p->head, 0);
	CU_ASSERT_EQUAL(p->ix.count, 0);
	CU_ASSERT_EQUAL(p->st.evicted, 0);
	hc_members_free(&m);
}

/* A compaction of a ring that has wrapped (its head at slot 300): the
 * live records keep their leave order, pick and leave times, each found
 * in the index at its new slot, the taken ones gone, the slots past the
 * new tail dead. */
static void test_pickmemo_compaction_wrapped(void)
{
	enum { OLD = 300, N = HC_PICKMEMO_KEPT };
	struct hc_pickmemo p;
	CU_ASSERT_EQUAL_FATAL(hc_pickmemo_init(&p, "t_memo_wrap", 0), 0);
	hc_pickmemo_window(&p, 100, 1);
	for (uint64_t u = 1; u <= OLD; u++)
		hc_pickmemo_keep(&p, 900000 + u, 1, 1);
	hc_pickmemo_expire(&p, 200, OLD); /* (left 199 s ago: a window past) */
	CU_ASSERT_EQUAL_FATAL(p.head, OLD);
	CU_ASSERT_EQUAL_FATAL(p.tail, OLD);
	/* N users left at 200 .. 263 (64 a second), each picked a second
	 * before: the ring full from slot 300 round to 299 */
	static uint64_t user[N];
	static uint8_t taken[N];
	for (uint32_t i = 0; i < N; i++) {
		user[i] = 1000 + (uint64_t)i * 7919;
		hc_pickmemo_keep(&p, user[i], 199 + i / 64, 200 + i / 64);
	}
	CU_ASSERT_EQUAL_FATAL(p.tail - p.head, N);
	CU_ASSERT_EQUAL(p.st.evicted, 0);
	/* a quarter taken back, spread unevenly (not the oldest, which the
	 * compacting keep's expiry would pop, nor the newest, which a take
	 * trims): a run at the ring's physical end, others scattered */
	unsigned dead = 0;
	memset(taken, 0, sizeof(taken));
	for (uint32_t i = 1; i < N - 1 && dead < N / 4; i++) {
		uint32_t slot = (OLD + i) % N;
		int take = (slot >= N - 200 && slot < N) || (i * 2654435761u) % 7 < 2;
		if (!take)
			continue;
		taken[i] = 1;
		dead++;
		CU_ASSERT_EQUAL(hc_pickmemo_take(&p, user[i], 263), 199 + i / 64);
	}
	CU_ASSERT_EQUAL_FATAL(dead, N / 4);
	CU_ASSERT_EQUAL(hc_pickmemo_dead(&p), N / 4);
	/* one more keep: full and a quarter dead, so compacted first */
	hc_pickmemo_keep(&p, 77, 262, 263);
	CU_ASSERT_EQUAL(p.st.evicted, 0);
	CU_ASSERT_EQUAL(p.head, OLD);
	CU_ASSERT_EQUAL(p.tail - p.head, N - N / 4 + 1);
	CU_ASSERT_EQUAL(hc_pickmemo_dead(&p), 0);
	/* the ring from its head: the users not taken, in the order they
	 * left, with their times, each indexed at its slot; then user 77 */
	unsigned bad = 0;
	uint32_t n = p.head;
	for (uint32_t i = 0; i < N; i++) {
		if (taken[i]) {
			bad += hc_keyidx_lookup(&p.ix, user[i]) != -ENOENT;
			continue;
		}
		const struct hc_pickmemo_rec *r = &p.rec[n % N];
		bad += r->user_id != user[i] || r->picked_at != 199 + i / 64 ||
		       r->left_at != 200 + i / 64 ||
		       hc_keyidx_lookup(&p.ix, user[i]) != (int32_t)(n % N);
		n++;
	}
	const struct hc_pickmemo_rec *last = &p.rec[n % N];
	bad += last->user_id != 77 || last->picked_at != 262 ||
	       hc_keyidx_lookup(&p.ix, 77) != (int32_t)(n % N);
	CU_ASSERT_EQUAL(n + 1, p.tail);
	for (n = p.tail; n != p.head + N; n++)
		bad += p.rec[n % N].picked_at != 0; /* (outside the ring: dead) */
	CU_ASSERT_EQUAL(bad, 0);
	/* and it goes on: everyone taken back with their pick times */
	unsigned back = 0;
	for (uint32_t i = 0; i < N; i++)
		back += !taken[i] && hc_pickmemo_take(&p, user[i], 264) == 199 + i / 64;
	CU_ASSERT_EQUAL(back, N - N / 4);
	CU_ASSERT_EQUAL(hc_pickmemo_take(&p, 77, 264), 262);
	CU_ASSERT_EQUAL(p.ix.count, 0);
	hc_pickmemo_free(&p);
}

/* The pick scan's changes, run `steps` steps (0: to its end). */
static struct hc_change scan_chg[2 * HC_PICK_ASKS];
static unsigned scan_run(uint32_t step, uint32_t now, unsigned steps)
{
	m.changes = scan_chg;
	m.changes_cap = 2 * HC_PICK_ASKS;
	m.now_s = now;
	unsigned n = 0;
	for (unsigned i = 0; hc_members_picking(&m) && (steps == 0 || i < steps) &&
	     i <= m.capacity + 1; i++) {
		hc_members_pick_step(&m, step);
		n++;
	}
	return n;
}

/* How many HC_CHG_PICKs of from -> to the scan reported, and the count of
 * its PICK_END (-1: none). */
static unsigned scan_picks(uint32_t from, uint32_t to, int *end)
{
	unsigned n = 0;
	*end = -1;
	for (uint32_t i = 0; i < m.n_changes; i++) {
		const struct hc_change *c = &scan_chg[i];
		if (c->from_room != from || c->to_room != to)
			continue;
		if (c->kind == HC_CHG_PICK) {
			CU_ASSERT_EQUAL(*end, -1); /* (the end comes last) */
			CU_ASSERT_EQUAL(hc_members_room_of(&m, c->user_id), from);
			n++;
		} else if (c->kind == HC_CHG_PICK_END) {
			CU_ASSERT_EQUAL(*end, -1);
			*end = (int)c->user_id;
		}
	}
	return n;
}

/* The pick scan: several asks in one scan (a room's served first to
 * last), an ask made while a scan runs waits for the next, a scan ends as
 * soon as every ask has its users, a user gone before the scan reaches
 * it is not picked, and the asks kept at once are bounded. */
static void test_pick_scan(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_scan", 4096, 16, 0), 0);
	for (uint64_t u = 1; u <= 30; u++) { /* (positions 0..29 in order) */
		struct hc_op o = {.user_id = u, .room_id = u <= 20 ? 5 : 6, .op = HC_OP_JOIN,
				  .gateway_id = 100};
		hc_members_apply(&m, &o, 1);
	}
	int end;
	/* a room's asks served in order; another room's apart */
	CU_ASSERT_EQUAL(hc_members_pick_ask(&m, 5, 10, 8, 0), 0);
	CU_ASSERT_EQUAL(hc_members_pick_ask(&m, 5, 11, 20, 0), 0);
	CU_ASSERT_EQUAL(hc_members_pick_ask(&m, 6, 12, 3, 0), 0);
	m.n_changes = 0;
	scan_run(1, 1000, 1);
	CU_ASSERT(hc_members_picking(&m));
	CU_ASSERT_EQUAL(hc_members_pick_ask(&m, 6, 13, 100, 0), 0); /* waits */
	scan_run(1, 1000, 28); /* positions 1..28 */
	CU_ASSERT_EQUAL(scan_picks(6, 12, &end), 3);
	CU_ASSERT_EQUAL(end, -1); /* (ends with the scan: room 5's second ask wants more) */
	scan_run(1, 1000, 1); /* position 29, the last used: the scan ends */
	CU_ASSERT_EQUAL(scan_picks(5, 10, &end), 8);
	CU_ASSERT_EQUAL(end, 8);
	CU_ASSERT_EQUAL(scan_picks(5, 11, &end), 12);
	CU_ASSERT_EQUAL(end, 12);
	CU_ASSERT_EQUAL(scan_picks(6, 12, &end), 3);
	CU_ASSERT_EQUAL(end, 3);
	CU_ASSERT_EQUAL(scan_picks(6, 13, &end), 0);
	CU_ASSERT_EQUAL(end, -1);
	CU_ASSERT(hc_members_picking(&m)); /* the next scan, for the one that waited */
	m.n_changes = 0;
	scan_run(4096, 1000, 0);
	CU_ASSERT_FALSE(hc_members_picking(&m));
	CU_ASSERT_EQUAL(scan_picks(6, 13, &end), 10);
	CU_ASSERT_EQUAL(end, 10);
	/* every ask has its users: the scan ends there */
	CU_ASSERT_EQUAL(hc_members_pick_ask(&m, 5, 10, 2, 0), 0);
	m.n_changes = 0;
	CU_ASSERT_EQUAL(scan_run(1, 1000, 0), 2);
	CU_ASSERT_EQUAL(scan_picks(5, 10, &end), 2);
	CU_ASSERT_EQUAL(end, 2);
	/* a user gone before the scan reaches it */
	CU_ASSERT_EQUAL(hc_members_pick_ask(&m, 6, 12, 10, 0), 0);
	m.n_changes = 0;
	scan_run(1, 1000, 21); /* positions 0..20: user 21 picked */
	struct hc_op lv = {.user_id = 30, .room_id = 6, .op = HC_OP_LEAVE, .gateway_id = 100};
	struct hc_change *was = m.changes;
	uint32_t n_was = m.n_changes;
	hc_members_apply(&m, &lv, 1); /* (its own change appended too) */
	CU_ASSERT_PTR_EQUAL(m.changes, was);
	CU_ASSERT_EQUAL(m.n_changes, n_was + 1);
	scan_run(1, 1000, 0);
	CU_ASSERT_EQUAL(scan_picks(6, 12, &end), 9);
	CU_ASSERT_EQUAL(end, 9);
	/* HC_PICK_ASKS at once; one more is refused */
	for (unsigned i = 0; i < HC_PICK_ASKS; i++)
		CU_ASSERT_EQUAL_FATAL(hc_members_pick_ask(&m, 5, 10, 1, 0), 0);
	CU_ASSERT_EQUAL(hc_members_pick_ask(&m, 5, 10, 1, 0), -ENOSPC);
	m.n_changes = 0;
	scan_run(4096, 2000, 0);
	CU_ASSERT_FALSE(hc_members_picking(&m));
	unsigned ends = 0, picked = 0;
	for (uint32_t i = 0; i < m.n_changes; i++) {
		ends += scan_chg[i].kind == HC_CHG_PICK_END;
		picked += scan_chg[i].kind == HC_CHG_PICK;
	}
	CU_ASSERT_EQUAL(ends, HC_PICK_ASKS);
	CU_ASSERT_EQUAL(picked, 20); /* room 5's 20 users, one an ask: the first 20 */
	unsigned e = 0;
	for (uint32_t i = 0; i < m.n_changes; i++)
		if (scan_chg[i].kind == HC_CHG_PICK_END)
			CU_ASSERT_EQUAL(scan_chg[i].user_id, e++ < 20 ? 1u : 0u);
	/* asks of one room with other cooldowns: a user moved 10 s ago is
	 * too soon for the first (30 s), not for the second (0); 5 s later
	 * every user is too soon for a third (30 s), which stops at once */
	CU_ASSERT_EQUAL(hc_members_pick_ask(&m, 5, 10, 3, 0), 0);
	m.n_changes = 0;
	scan_run(4096, 3000, 0);
	uint64_t recent[3];
	unsigned nr = 0;
	for (uint32_t i = 0; i < m.n_changes && nr < 3; i++)
		if (scan_chg[i].kind == HC_CHG_PICK)
			recent[nr++] = scan_chg[i].user_id;
	CU_ASSERT_EQUAL_FATAL(nr, 3);
	CU_ASSERT_EQUAL(hc_members_pick_ask(&m, 5, 20, 20, 30), 0);
	CU_ASSERT_EQUAL(hc_members_pick_ask(&m, 5, 21, 3, 0), 0);
	m.n_changes = 0;
	scan_run(4096, 3010, 0);
	CU_ASSERT_EQUAL(scan_picks(5, 20, &end), 17);
	CU_ASSERT_EQUAL(end, 17);
	CU_ASSERT_EQUAL(scan_picks(5, 21, &end), 3);
	CU_ASSERT_EQUAL(end, 3);
	for (uint32_t i = 0; i < m.n_changes; i++)
		if (scan_chg[i].kind == HC_CHG_PICK && scan_chg[i].to_room == 21)
			CU_ASSERT(scan_chg[i].user_id == recent[0] || scan_chg[i].user_id == recent[1] ||
				  scan_chg[i].user_id == recent[2]);
	CU_ASSERT_EQUAL(hc_members_pick_ask(&m, 5, 22, 20, 30), 0);
	m.n_changes = 0;
	scan_run(4096, 3015, 0);
	CU_ASSERT_EQUAL(scan_picks(5, 22, &end), 0);
	CU_ASSERT_EQUAL(end, 0);
	m.changes = NULL;
	m.n_changes = 0;
	m.changes_cap = 0;
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	hc_members_free(&m);
}

static void test_owner(void)
{
	unsigned hist[4] = {0};
	for (uint64_t u = 0; u < 100000; u++)
		hist[hc_owner_of(u, 4)]++;
	for (int i = 0; i < 4; i++)
		CU_ASSERT(hist[i] > 23000 && hist[i] < 27000);
	CU_ASSERT_EQUAL(hc_owner_of(123456789, 1), 0);
}

static void apply1(uint64_t user, uint32_t room, uint8_t op, uint16_t gw, uint8_t gen)
{
	struct hc_op o = {.user_id = user, .room_id = room, .op = op, .gateway_id = gw, .gen = gen};
	hc_members_apply(&m, &o, 1);
}

/* FULL notices for user in the changes reported so far. */
static unsigned full_notices(const struct hc_change *chg, uint64_t user)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < m.n_changes; i++)
		n += chg[i].kind == HC_CHG_FULL && chg[i].user_id == user;
	return n;
}

/* One user's JOINs into full rooms, each asking and refused: each answer
 * takes the next op off the user's chain, which asks, and the rest stay
 * where they are.  Found by a review: every answer replayed the whole
 * chain, each op after the one that asked deferred again: O(k^2) work
 * for k ops, a worker held for seconds by one gateway's datagrams.
 * Found by a later one: even so the chain drained one round trip per op
 * that asks, so thousands of them filled the worker's deferred ops and
 * held every gateway's events; at most HC_PENDING_CHAIN_ASKS wait now,
 * one more is refused (FULL, chain_full), a LEAVE is not capped, and the
 * count follows the chain from answer to answer. */
static void test_chain_drained_once(void)
{
	static struct hc_change chg[4096];
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_chain", 4096, 16, 0), 0);
	m.admission = 1;
	const unsigned k = 2000, cap = HC_PENDING_CHAIN_ASKS;
	apply1(9, 5, HC_OP_JOIN, 1, 0);
	hc_members_decide(&m, 9, 5, 1, 1);           /* in room 5 */
	m.changes = chg;
	m.changes_cap = 4096;
	m.n_changes = 0;
	for (unsigned i = 0; i < k; i++)
		apply1(9, 6 + i % 2, HC_OP_JOIN, 1, 0); /* full rooms, say */
	CU_ASSERT_EQUAL(m.pend.n_pending, 1);
	CU_ASSERT_EQUAL(m.pend.n_deferred, cap);
	CU_ASSERT_EQUAL(m.st.chain_full, k - 1 - cap);
	CU_ASSERT_EQUAL(full_notices(chg, 9), k - 1 - cap);
	CU_ASSERT_EQUAL(m.n_changes, 1 + (k - 1 - cap)); /* the one request */
	CU_ASSERT(chg[1].kind == HC_CHG_FULL && chg[1].to_room == 6 + (1 + cap) % 2);
	apply1(9, 7, HC_OP_LEAVE, 1, 0);             /* not capped */
	CU_ASSERT_EQUAL(m.pend.n_deferred, cap + 1);
	CU_ASSERT_EQUAL(m.st.chain_full, k - 1 - cap);
	const uint64_t deferred = m.pend.deferrals;
	/* five answers: cap - 5 JOINs wait, so 5 more are taken, the 6th refused */
	for (unsigned i = 0; i < 5; i++)
		hc_members_decide(&m, 9, 6 + i % 2, 0, 1); /* refused */
	CU_ASSERT_EQUAL(m.pend.n_deferred, cap + 1 - 5);
	for (unsigned i = 0; i < 6; i++)
		apply1(9, 6, HC_OP_JOIN, 1, 0);
	CU_ASSERT_EQUAL(m.pend.n_deferred, cap + 1);
	CU_ASSERT_EQUAL(m.st.chain_full, k - 1 - cap + 1);
	for (unsigned i = 0; i < cap + 1; i++)
		hc_members_decide(&m, 9, 6, 0, 1);  /* refused (each names 6: stray-free) */
	CU_ASSERT_EQUAL(m.pend.deferrals, deferred + 5); /* (k^2 / 2 before) */
	CU_ASSERT_EQUAL(m.st.refused, 1 + cap + 5);
	CU_ASSERT_EQUAL(m.st.stray_decisions, 0);
	CU_ASSERT_EQUAL(m.pend.n_pending, 0);
	CU_ASSERT_EQUAL(m.pend.n_deferred, 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 9), 5);
	/* in order: a LEAVE behind two JOINs, the second admitted */
	apply1(9, 6, HC_OP_JOIN, 1, 0);
	apply1(9, 7, HC_OP_JOIN, 1, 0);
	apply1(9, 7, HC_OP_LEAVE, 1, 0);
	hc_members_decide(&m, 9, 6, 0, 1);
	CU_ASSERT_EQUAL(m.pend.n_pending, 1);
	CU_ASSERT_EQUAL(m.pend.n_deferred, 1);
	hc_members_decide(&m, 9, 7, 1, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 9), 0);
	CU_ASSERT_EQUAL(m.pend.n_pending, 0);
	CU_ASSERT_EQUAL(m.pend.n_deferred, 0);
	m.changes = NULL;
	m.n_changes = 0;
	m.changes_cap = 0;
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	hc_members_free(&m);
}

/* A user reconnecting through another gateway is counted once, in the
 * newest room; the old gateway's late LEAVE does not undo it. */
static void test_reconnect_elsewhere(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_recon", 4096, 16, 0), 0);
	apply1(7, 3, HC_OP_JOIN, 1, 0);
	apply1(7, 4, HC_OP_JOIN, 2, 0);          /* through gateway 2 */
	apply1(7, 3, HC_OP_LEAVE, 1, 0);         /* gateway 1's late LEAVE */
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 7), 4);
	CU_ASSERT_EQUAL(hc_members_owner_of(&m, 7), 2);
	apply1(8, 5, HC_OP_JOIN, 1, 0);
	apply1(8, 5, HC_OP_JOIN, 2, 0);          /* same room, other gateway */
	apply1(8, 5, HC_OP_LEAVE, 1, 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 8), 5);
	CU_ASSERT_EQUAL(m.room_users[3], 0);
	CU_ASSERT_EQUAL(m.room_users[4], 1);
	CU_ASSERT_EQUAL(m.room_users[5], 1);
	CU_ASSERT_EQUAL(m.gw_users[1], 0);
	CU_ASSERT_EQUAL(m.gw_users[2], 2);
	CU_ASSERT_EQUAL(m.st.not_owner, 1); /* 7's LEAVE named a room it left */
	CU_ASSERT_EQUAL(m.st.takeovers, 2);
	apply1(8, 5, HC_OP_LEAVE, 2, 0);
	CU_ASSERT_EQUAL(m.n_users, 1);
	CU_ASSERT_EQUAL(m.gw_users[2], 1);
	hc_members_free(&m);
}

static void apply_s(uint64_t user, uint32_t room, uint8_t op, uint16_t gw, uint64_t session,
		    uint8_t gen)
{
	struct hc_op o = {.user_id = user, .session = session, .room_id = room, .op = op,
			  .gateway_id = gw, .gen = gen};
	hc_members_apply(&m, &o, 1);
}

/* Sessions order one user's connections across gateways: a user who
 * reconnected through gateway 2 (session 200) is not taken back by
 * gateway 1's JOIN of its older session (100) arriving late, nor removed
 * by its LEAVE; a snapshot member of an older session is left alone; a
 * newer session takes the user (JOIN or snapshot member).  Each ignored
 * one is reported for its gateway (HC_CHG_SUPERSEDED). */
static void test_sessions(void)
{
	static struct hc_change chg[64];
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_sess", 4096, 16, 0), 0);
	m.changes = chg;
	m.changes_cap = 64;
	apply_s(7, 4, HC_OP_JOIN, 2, 200, 0);    /* the reconnect, first */
	m.n_changes = 0;
	apply_s(7, 3, HC_OP_JOIN, 1, 100, 0);    /* the old session's JOIN */
	apply_s(7, 3, HC_OP_LEAVE, 1, 100, 0);   /* ... and its LEAVE */
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 7), 4);
	CU_ASSERT_EQUAL(hc_members_owner_of(&m, 7), 2);
	CU_ASSERT_EQUAL(m.st.superseded, 1);
	CU_ASSERT_EQUAL(m.st.takeovers, 0);
	CU_ASSERT_EQUAL(m.st.not_owner, 0);      /* room 3 was never its room */
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 1);
	CU_ASSERT_EQUAL(chg[0].kind, HC_CHG_SUPERSEDED);
	CU_ASSERT_EQUAL(chg[0].user_id, 7);
	CU_ASSERT_EQUAL(chg[0].to_room, 3);
	CU_ASSERT_EQUAL(chg[0].gateway_id, 1);
	/* the same room: an older session does not take the user over */
	apply_s(7, 4, HC_OP_JOIN, 1, 150, 0);
	CU_ASSERT_EQUAL(hc_members_owner_of(&m, 7), 2);
	CU_ASSERT_EQUAL(m.st.superseded, 2);
	/* a newer session does, and moves the user; the old owner is told */
	m.n_changes = 0;
	apply_s(7, 5, HC_OP_JOIN, 1, 300, 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 7), 5);
	CU_ASSERT_EQUAL(hc_members_owner_of(&m, 7), 1);
	CU_ASSERT_EQUAL(m.st.takeovers, 1);
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 2);       /* the tell, then the move */
	CU_ASSERT_EQUAL(chg[0].kind, HC_CHG_SUPERSEDED);
	CU_ASSERT_EQUAL(chg[0].gateway_id, 2);
	CU_ASSERT_EQUAL(chg[0].to_room, 4);
	CU_ASSERT_EQUAL(chg[1].kind, HC_CHG_APPLIED);
	/* equal sessions (0: unstamped): arrival order, as before */
	apply_s(9, 6, HC_OP_JOIN, 1, 0, 0);
	apply_s(9, 6, HC_OP_JOIN, 2, 0, 0);
	CU_ASSERT_EQUAL(hc_members_owner_of(&m, 9), 2);
	/* snapshots: gateway 2 restates 7 (its older session 200): left
	 * alone and told; gateway 3 restates 7 with a newer one: taken */
	m.n_changes = 0;
	apply_s(7, 4, HC_OP_SNAP_SET, 2, 200, 3);
	CU_ASSERT_EQUAL(hc_members_owner_of(&m, 7), 1);
	CU_ASSERT_EQUAL(m.st.snap_conflicts, 1);
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 1);
	CU_ASSERT_EQUAL(chg[0].kind, HC_CHG_SUPERSEDED);
	CU_ASSERT_EQUAL(chg[0].gateway_id, 2);
	apply_s(7, 5, HC_OP_SNAP_SET, 3, 400, 3);
	CU_ASSERT_EQUAL(hc_members_owner_of(&m, 7), 3);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 7), 5);
	CU_ASSERT_EQUAL(m.room_users[5], 1);
	CU_ASSERT_EQUAL(m.n_users, 2);
	CU_ASSERT_EQUAL(m.gw_users[1] + m.gw_users[2] + m.gw_users[3], 2);
	hc_members_free(&m);
}

/* A snapshot replaces exactly what a gateway held: named users set,
 * the rest of its users swept, other gateways' users untouched. */
static void test_snapshot_replace(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_snap", 4096, 16, 0), 0);
	for (uint64_t u = 1; u <= 10; u++)
		apply1(u, 1 + (uint32_t)(u % 3), HC_OP_JOIN, 1, 0);   /* gateway 1 */
	for (uint64_t u = 11; u <= 15; u++)
		apply1(u, 9, HC_OP_JOIN, 2, 0);                       /* gateway 2 */
	/* gateway 1's snapshot: users 1..4 in room 7, new user 20, and 11
	 * (gateway 2's: a conflict, left alone) */
	for (uint64_t u = 1; u <= 4; u++)
		apply1(u, 7, HC_OP_SNAP_SET, 1, 5);
	apply1(20, 8, HC_OP_SNAP_SET, 1, 5);
	apply1(11, 8, HC_OP_SNAP_SET, 1, 5);
	/* the sweep's removals are reported before SWEPT, which may end a
	 * restart hold: the seats they freed are free by then */
	static struct hc_change sw[16]; /* (static: m may keep it if a check ends the test) */
	m.changes = sw;
	m.changes_cap = 16;
	m.n_changes = 0;
	apply1(0, 0, HC_OP_SNAP_SWEEP, 1, 5);
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 7);
	unsigned removed = 0; /* users 5..10, each once */
	for (unsigned i = 0; i < 6; i++) {
		CU_ASSERT(sw[i].kind == HC_CHG_APPLIED && sw[i].to_room == 0 &&
			  sw[i].from_room != 0 && sw[i].gateway_id == 1);
		if (sw[i].user_id >= 5 && sw[i].user_id <= 10)
			removed |= 1u << sw[i].user_id;
	}
	CU_ASSERT_EQUAL(removed, 0x7e0u);
	CU_ASSERT(sw[6].kind == HC_CHG_SWEPT && sw[6].gateway_id == 1);
	m.changes = NULL;
	CU_ASSERT_EQUAL(m.n_users, 10);                          /* 5 + 5 */
	CU_ASSERT_EQUAL(m.room_users[7], 4);
	CU_ASSERT_EQUAL(m.room_users[8], 1);
	CU_ASSERT_EQUAL(m.room_users[9], 5);
	CU_ASSERT_EQUAL(m.room_users[1] + m.room_users[2] + m.room_users[3], 0);
	CU_ASSERT_EQUAL(m.gw_users[1], 5);
	CU_ASSERT_EQUAL(m.gw_users[2], 5);
	CU_ASSERT_EQUAL(m.st.snap_conflicts, 1);
	CU_ASSERT_EQUAL(m.st.snap_swept, 6);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 5), 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 20), 8);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	/* the same snapshot again: nothing unmarked, no scan */
	uint64_t scans = m.st.sweep_scans;
	for (uint64_t u = 1; u <= 4; u++)
		apply1(u, 7, HC_OP_SNAP_SET, 1, 6);
	apply1(20, 8, HC_OP_SNAP_SET, 1, 6);
	m.changes = sw;
	m.n_changes = 0;
	apply1(0, 0, HC_OP_SNAP_SWEEP, 1, 6);
	CU_ASSERT_EQUAL(m.n_changes, 1); /* SWEPT alone */
	CU_ASSERT(sw[0].kind == HC_CHG_SWEPT && sw[0].gateway_id == 1);
	m.changes = NULL;
	CU_ASSERT_EQUAL(m.st.sweep_scans, scans);
	CU_ASSERT_EQUAL(m.n_users, 10);
	/* an event after it: a new user of gateway 1 (unmarked) */
	apply1(21, 8, HC_OP_JOIN, 1, 0);
	/* an empty snapshot (gateway dead): all of gateway 1's users go */
	apply1(0, 0, HC_OP_SNAP_SWEEP, 1, 7);
	CU_ASSERT_EQUAL(m.n_users, 5);
	CU_ASSERT_EQUAL(m.gw_users[1], 0);
	CU_ASSERT_EQUAL(m.room_users[7] + m.room_users[8], 0);
	CU_ASSERT_EQUAL(m.room_users[9], 5);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	hc_members_free(&m);
}

/* A sweep while seat requests are in flight: the pending users are
 * decided first, then checked against the snapshot. */
static void test_snapshot_with_pending(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_snap_p", 4096, 16, 0), 0);
	m.admission = 1;
	apply1(1, 2, HC_OP_JOIN, 1, 0);           /* pending: a new user */
	apply1(2, 2, HC_OP_JOIN, 1, 0);           /* pending too */
	CU_ASSERT_EQUAL(m.pend.n_pending, 2);
	apply1(2, 3, HC_OP_SNAP_SET, 1, 4);       /* the snapshot names 2, in 3 */
	apply1(0, 0, HC_OP_SNAP_SWEEP, 1, 4);     /* ... and not 1 */
	hc_members_decide(&m, 1, 2, 1, 1);        /* admitted, then dropped */
	hc_members_decide(&m, 2, 2, 1, 1);        /* admitted; the SET asks */
	CU_ASSERT_EQUAL(m.pend.n_pending, 1);     /* for its seat in 3 */
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 2), 2);
	hc_members_decide(&m, 2, 3, HC_SEAT_RESTATED, 1); /* admitted: kept */
	CU_ASSERT_EQUAL(m.pend.n_pending, 0);
	CU_ASSERT_EQUAL(m.st.snap_added, 1);
	CU_ASSERT_EQUAL(m.st.joins, 2);         /* the two JOINs, not the SET */
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 1), 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 2), 3);
	CU_ASSERT_EQUAL(m.n_users, 1);
	CU_ASSERT_EQUAL(m.room_users[2], 0);
	CU_ASSERT_EQUAL(m.room_users[3], 1);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);

	/* a restatement refused: the user is not marked and the sweep
	 * removes them from where they were; a restated user already in
	 * their room asks nothing */
	apply1(5, 6, HC_OP_JOIN, 1, 0);
	hc_members_decide(&m, 5, 6, 1, 1);
	apply1(2, 3, HC_OP_SNAP_SET, 1, 5);       /* in 3 already: no request */
	apply1(5, 7, HC_OP_SNAP_SET, 1, 5);       /* asks for a seat in 7 */
	CU_ASSERT_EQUAL(m.pend.n_pending, 1);
	hc_members_decide(&m, 5, 7, 0, 1);        /* refused */
	apply1(0, 0, HC_OP_SNAP_SWEEP, 1, 5);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 5), 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 2), 3);
	CU_ASSERT_EQUAL(m.room_users[6] + m.room_users[7], 0);
	CU_ASSERT_EQUAL(m.st.snap_added, 1);
	CU_ASSERT_EQUAL(m.st.leaves, 0);          /* sweeps are not LEAVEs */
	CU_ASSERT_EQUAL(m.st.snap_swept, 2);
	CU_ASSERT_EQUAL(m.n_users, 1);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	hc_members_free(&m);
}

/* Users of gateway gw that carry its current snapshot's mark. */
static uint32_t marked_now(uint16_t gw)
{
	uint32_t n = 0;
	for (uint32_t at = 0; at < m.capacity; at++)
		if (m.slot[at].room != 0 && m.slot[at].gw == gw &&
		    m.slot[at].mark == m.snap_gen_now[gw])
			n++;
	return n;
}

/* A snapshot member of generation 5 waits behind its seat request while
 * its gateway sends `waited` more snapshots, none naming the user: replayed,
 * it is an older snapshot's, neither a newer one's (8-bit serial order
 * reads 5 as newer than 136) nor the current one's (after a whole round,
 * 255, the number comes round again).  It begins no generation, the count
 * of marked users stays exact, and the user goes. */
static void snapshot_member_waits(const char *name, unsigned waited)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, name, 4096, 16, 0), 0);
	m.admission = 1;
	apply1(2, 2, HC_OP_JOIN, 1, 0);
	hc_members_decide(&m, 2, 2, 1, 1);
	apply1(3, 4, HC_OP_JOIN, 1, 0);
	hc_members_decide(&m, 3, 4, 1, 1);
	for (unsigned g = 1; g <= 4; g++) {
		apply1(2, 2, HC_OP_SNAP_SET, 1, (uint8_t)g);
		apply1(3, 4, HC_OP_SNAP_SET, 1, (uint8_t)g);
		apply1(0, 0, HC_OP_SNAP_SWEEP, 1, (uint8_t)g);
	}
	apply1(2, 3, HC_OP_SNAP_SET, 1, 5);       /* asks for a seat in 3 */
	apply1(3, 4, HC_OP_SNAP_SET, 1, 5);
	apply1(0, 0, HC_OP_SNAP_SWEEP, 1, 5);
	CU_ASSERT_EQUAL(m.pend.n_pending, 1);
	uint8_t now = 5;
	for (unsigned k = 0; k < waited; k++) {   /* 6 .. 255, 1 ..: name 3 only */
		now = (uint8_t)(1 + (5 + k) % 255);
		apply1(3, 4, HC_OP_SNAP_SET, 1, now);
		apply1(0, 0, HC_OP_SNAP_SWEEP, 1, now);
	}
	CU_ASSERT_EQUAL(m.snap_gen_now[1], now);
	hc_members_decide(&m, 2, 3, HC_SEAT_RESTATED, 1); /* admitted */
	CU_ASSERT_EQUAL(m.pend.n_pending, 0);
	CU_ASSERT_EQUAL(m.snap_gen_now[1], now);  /* not begun again at 5 */
	CU_ASSERT_EQUAL(m.snap_marked[1], marked_now(1));
	CU_ASSERT_EQUAL(m.snap_marked[1], 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 2), 0); /* not named since */
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 3), 4);
	CU_ASSERT_EQUAL(m.n_users, 1);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	hc_members_free(&m);
}

static void test_snapshot_member_waits_long(void)
{
	snapshot_member_waits("t_snap_w", 131); /* generation 136 at the answer */
}

static void test_snapshot_member_waits_a_round(void)
{
	snapshot_member_waits("t_snap_r", 255); /* generation 5 again */
}

/* A user named by snapshot 255, then waiting (another gateway's JOIN asks
 * a seat) across that snapshot's sweep and into snapshot 1, whose start
 * clears the gateway's marks (the 8-bit generation wrapped): snapshot
 * 255's check of the user, replayed after the refusal, is not the current
 * snapshot's and removes nobody; snapshot 1 names the user, who stays. */
static void test_snapshot_wrap_keeps_waiting_user(void)
{
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_snap_wr", 4096, 16, 0), 0);
	m.admission = 1;
	apply_s(7, 2, HC_OP_JOIN, 1, 100, 0);
	hc_members_decide(&m, 7, 2, 1, 1);
	for (unsigned g = 1; g <= 254; g++) {         /* snapshots 1 .. 254 */
		apply_s(7, 2, HC_OP_SNAP_SET, 1, 100, (uint8_t)g);
		apply_s(0, 0, HC_OP_SNAP_SWEEP, 1, 0, (uint8_t)g);
	}
	apply_s(7, 2, HC_OP_SNAP_SET, 1, 100, 255);   /* marked 255 */
	CU_ASSERT_EQUAL(m.snap_marked[1], 1);
	apply_s(7, 3, HC_OP_JOIN, 2, 200, 0);         /* newer session: asks */
	CU_ASSERT_EQUAL(m.pend.n_pending, 1);
	apply_s(0, 0, HC_OP_SNAP_SWEEP, 1, 0, 255);   /* its check waits */
	apply_s(7, 2, HC_OP_SNAP_SET, 1, 100, 1);     /* wraps: marks cleared */
	hc_members_decide(&m, 7, 3, 0, 2);            /* the JOIN refused */
	CU_ASSERT_EQUAL(m.pend.n_pending, 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 7), 2);
	CU_ASSERT_EQUAL(hc_members_owner_of(&m, 7), 1);
	CU_ASSERT_EQUAL(m.st.snap_swept, 0);
	CU_ASSERT_EQUAL(m.snap_marked[1], marked_now(1));
	CU_ASSERT_EQUAL(m.snap_marked[1], 1);
	apply_s(0, 0, HC_OP_SNAP_SWEEP, 1, 0, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 7), 2);
	CU_ASSERT_EQUAL(m.n_users, 1);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	hc_members_free(&m);
}

/* A crowded home of the user table (hc_usertab.h): 64 users of one home
 * fit, a 65th new user's JOIN is refused as FULL (counted, reported,
 * nothing changed); under admission an admitted seat the table refuses
 * is reported as gone again (the seat book counted it) and FULL. */
static void test_crowded_home(void)
{
	static struct hc_change chg[16];
	enum { CROWD = HC_USERTAB_MAX_DIST + 3 };
	uint64_t crowd[CROWD];
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_crowd", 4096, 16, 0), 0);
	m.users.ix.seed = 99; /* empty: homes may be chosen again */
	uint32_t home = hc_usertab_home(&m.users, 1000), n = 0;
	for (uint64_t u = 1000; n < CROWD && u < 100000000; u++)
		if (hc_usertab_home(&m.users, u) == home)
			crowd[n++] = u;
	CU_ASSERT_EQUAL_FATAL(n, CROWD);
	for (unsigned i = 0; i + 2 < CROWD; i++)
		apply1(crowd[i], 1 + i % 3, HC_OP_JOIN, 1, 0);
	CU_ASSERT_EQUAL(m.n_users, CROWD - 2);
	CU_ASSERT_EQUAL(m.st.table_full, 0);
	m.changes = chg;
	m.changes_cap = 16;
	m.n_changes = 0;
	apply1(crowd[CROWD - 2], 5, HC_OP_JOIN, 1, 0);
	CU_ASSERT_EQUAL(m.n_users, CROWD - 2);
	CU_ASSERT_EQUAL(m.st.table_full, 1);
	CU_ASSERT_EQUAL(m.room_users[5], 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, crowd[CROWD - 2]), 0);
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 1);
	CU_ASSERT_EQUAL(chg[0].kind, HC_CHG_FULL);
	CU_ASSERT_EQUAL(chg[0].user_id, crowd[CROWD - 2]);
	/* admission: asked, admitted, refused by the table */
	m.admission = 1;
	m.n_changes = 0;
	apply1(crowd[CROWD - 1], 6, HC_OP_JOIN, 1, 0);
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 1);
	CU_ASSERT_EQUAL(chg[0].kind, HC_CHG_REQUEST);
	m.n_changes = 0;
	hc_members_decide(&m, crowd[CROWD - 1], 6, 1, 1);
	CU_ASSERT_EQUAL(m.n_users, CROWD - 2);
	CU_ASSERT_EQUAL(m.st.table_full, 2);
	CU_ASSERT_EQUAL(m.room_users[6], 0);
	CU_ASSERT_EQUAL(m.pend.n_pending, 0);
	CU_ASSERT_EQUAL(m.pend_new, 0);
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 2);
	CU_ASSERT(chg[0].kind == HC_CHG_APPLIED && chg[0].from_room == 6 && chg[0].to_room == 0);
	CU_ASSERT(chg[1].kind == HC_CHG_FULL && chg[1].from_room == 0 && chg[1].to_room == 6);
	/* one of the crowd leaves: the next one fits */
	m.admission = 0;
	apply1(crowd[0], 1, HC_OP_LEAVE, 1, 0);
	apply1(crowd[CROWD - 2], 5, HC_OP_JOIN, 1, 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, crowd[CROWD - 2]), 5);
	CU_ASSERT_EQUAL(m.n_users, CROWD - 2);
	m.changes = NULL;
	hc_members_free(&m);
}

/* --max-users-per-gateway: a gateway holding its share hears FULL for
 * JOINs and snapshot members of new users (counted in table_full and
 * gateway_cap_full, nothing changed), its known users still move, other
 * gateways are not held back, and a leave makes room; under admission its
 * seat requests in flight count (they may be new users). */
static void test_gateway_cap(void)
{
	static struct hc_change chg[16];
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_gwcap", 4096, 16, 0), 0);
	m.gw_user_cap = 5;
	for (uint64_t u = 1; u <= 8; u++)
		apply1(u, 1 + (uint32_t)(u % 3), HC_OP_JOIN, 7, 0);
	CU_ASSERT_EQUAL(m.n_users, 5);
	CU_ASSERT_EQUAL(m.gw_users[7], 5);
	CU_ASSERT_EQUAL(m.st.table_full, 3);
	CU_ASSERT_EQUAL(m.st.gateway_cap_full, 3);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 6), 0);
	/* refused: reported FULL, nothing changed */
	m.changes = chg;
	m.changes_cap = 16;
	m.n_changes = 0;
	apply1(9, 2, HC_OP_JOIN, 7, 0);
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 1);
	CU_ASSERT(chg[0].kind == HC_CHG_FULL && chg[0].user_id == 9 && chg[0].to_room == 2);
	CU_ASSERT_EQUAL(m.n_users, 5);
	/* a known user of the gateway moves; another gateway joins */
	apply1(1, 4, HC_OP_JOIN, 7, 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 1), 4);
	for (uint64_t u = 100; u < 105; u++)
		apply1(u, 3, HC_OP_JOIN, 8, 0);
	CU_ASSERT_EQUAL(m.gw_users[8], 5);
	CU_ASSERT_EQUAL(m.st.gateway_cap_full, 4);
	/* a snapshot member of a new user is refused too, at the sweep
	 * (which removes none of the five: the snapshot names them all) */
	m.n_changes = 0;
	apply1(10, 2, HC_OP_SNAP_SET, 7, 1);
	CU_ASSERT_EQUAL(m.n_changes, 0); /* waits for the sweep */
	CU_ASSERT_EQUAL(m.st.snap_parked_now, 1);
	apply1(1, 4, HC_OP_SNAP_SET, 7, 1);
	for (uint64_t u = 2; u <= 5; u++)
		apply1(u, 1 + (uint32_t)(u % 3), HC_OP_SNAP_SET, 7, 1);
	apply1(0, 0, HC_OP_SNAP_SWEEP, 7, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 10), 0);
	CU_ASSERT_EQUAL(m.gw_users[7], 5);
	CU_ASSERT_EQUAL(m.st.gateway_cap_full, 5);
	CU_ASSERT_EQUAL(m.st.snap_parked, 1);
	CU_ASSERT_EQUAL(m.n_parked, 0);
	CU_ASSERT_EQUAL(m.st.snap_parked_now, 0);
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 2);
	CU_ASSERT(chg[0].kind == HC_CHG_FULL && chg[0].user_id == 10);
	CU_ASSERT_EQUAL(chg[1].kind, HC_CHG_SWEPT);
	/* one leaves: one more fits, then no more */
	apply1(2, 3, HC_OP_LEAVE, 7, 0);
	apply1(11, 2, HC_OP_JOIN, 7, 0);
	apply1(12, 2, HC_OP_JOIN, 7, 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 11), 2);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 12), 0);
	CU_ASSERT_EQUAL(m.gw_users[7], 5);
	CU_ASSERT_EQUAL(m.st.gateway_cap_full, 6);
	CU_ASSERT_EQUAL(m.n_users, 10);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);

	/* admission: requests in flight count against the cap */
	m.admission = 1;
	m.gw_user_cap = 3;
	m.n_changes = 0;
	for (uint64_t u = 200; u < 205; u++)
		apply1(u, 5, HC_OP_JOIN, 9, 0);
	CU_ASSERT_EQUAL(m.pend.n_pending, 3);
	CU_ASSERT_EQUAL(m.gw_pending[9], 3);
	CU_ASSERT_EQUAL(m.st.gateway_cap_full, 8);
	unsigned req = 0, full = 0;
	for (unsigned i = 0; i < m.n_changes; i++) {
		req += chg[i].kind == HC_CHG_REQUEST;
		full += chg[i].kind == HC_CHG_FULL;
	}
	CU_ASSERT_EQUAL(req, 3);
	CU_ASSERT_EQUAL(full, 2);
	for (uint64_t u = 200; u < 203; u++)
		hc_members_decide(&m, u, 5, 1, 9);
	CU_ASSERT_EQUAL(m.gw_users[9], 3);
	CU_ASSERT_EQUAL(m.gw_pending[9], 0);
	apply1(205, 5, HC_OP_JOIN, 9, 0);
	CU_ASSERT_EQUAL(m.pend.n_pending, 0);
	CU_ASSERT_EQUAL(m.st.gateway_cap_full, 9);
	CU_ASSERT_EQUAL(m.n_users, 13);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	/* a held user's move in flight is not a new user: with room for one
	 * more, a new user asks; the one after hears FULL */
	m.gw_user_cap = 4;
	m.n_changes = 0;
	apply1(200, 6, HC_OP_JOIN, 9, 0);         /* a move: a request */
	CU_ASSERT_EQUAL(m.gw_pending[9], 1);
	CU_ASSERT_EQUAL(m.gw_pend_new[9], 0);
	apply1(206, 5, HC_OP_JOIN, 9, 0);         /* new: asks */
	apply1(207, 5, HC_OP_JOIN, 9, 0);         /* new: 3 + 1 in flight */
	CU_ASSERT_EQUAL(m.pend.n_pending, 2);
	CU_ASSERT_EQUAL(m.gw_pend_new[9], 1);
	CU_ASSERT_EQUAL(m.st.gateway_cap_full, 10);
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 3);
	CU_ASSERT(chg[0].kind == HC_CHG_REQUEST && chg[0].user_id == 200);
	CU_ASSERT(chg[1].kind == HC_CHG_REQUEST && chg[1].user_id == 206);
	CU_ASSERT(chg[2].kind == HC_CHG_FULL && chg[2].user_id == 207);
	hc_members_decide(&m, 200, 6, 1, 9);
	hc_members_decide(&m, 206, 5, 0, 9);      /* refused: not added */
	CU_ASSERT_EQUAL(m.gw_pending[9], 0);
	CU_ASSERT_EQUAL(m.gw_pend_new[9], 0);
	CU_ASSERT_EQUAL(m.gw_users[9], 3);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 200), 6);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	m.changes = NULL;
	hc_members_free(&m);
}

/* Count of changes of a kind for a user (0: any user) in chg[0..n). */
static unsigned chg_count(const struct hc_change *c, unsigned n, uint16_t kind, uint64_t user)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++)
		k += c[i].kind == kind && (user == 0 || c[i].user_id == user);
	return k;
}

/* A snapshot's new members are judged after the users its sweep removes
 * stop counting: a gateway at its share of --max-users-per-gateway that
 * lost a LEAVE and a JOIN in a gap restates, and its new user is seated
 * (not refused FULL while the user it left still counts); so with a table
 * full at --max-users.  A snapshot naming more users than the cap still
 * has the excess refused (at the sweep, before SWEPT), another gateway's
 * waiting members wait on for their own sweep, under admission a waiting
 * member asks for its seat at the sweep (or, its user pending for another
 * gateway's JOIN meanwhile, waits behind that request), and past
 * HC_MEMBERS_PARKED_PER_GATEWAY waiting members of one gateway, or
 * HC_MEMBERS_PARKED of all, one more is refused at once. */
static void test_snapshot_judged_after_sweep(void)
{
	static struct hc_change chg[HC_MEMBERS_PARKED + 64];
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_parked", 8192, 16, 0), 0);
	m.changes = chg;
	m.changes_cap = HC_MEMBERS_PARKED + 64;
	m.gw_user_cap = 4;
	for (uint64_t u = 1; u <= 4; u++)
		apply1(u, 1, HC_OP_JOIN, 7, 0);
	CU_ASSERT_EQUAL_FATAL(m.gw_users[7], 4);
	/* the gap: 4 left, 5 joined; the snapshot names 5 first */
	m.n_changes = 0;
	apply1(5, 2, HC_OP_SNAP_SET, 7, 1);
	CU_ASSERT_EQUAL(m.n_parked, 1);
	for (uint64_t u = 1; u <= 3; u++)
		apply1(u, 1, HC_OP_SNAP_SET, 7, 1);
	CU_ASSERT_EQUAL(m.n_changes, 0);
	apply1(0, 0, HC_OP_SNAP_SWEEP, 7, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 4), 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 5), 2);
	CU_ASSERT_EQUAL(m.gw_users[7], 4);
	CU_ASSERT_EQUAL(m.st.gateway_cap_full, 0);
	CU_ASSERT_EQUAL(m.st.table_full, 0);
	CU_ASSERT_EQUAL(m.st.snap_parked, 1);
	CU_ASSERT_EQUAL(m.n_parked, 0);
	CU_ASSERT_EQUAL(m.snap_marked[7], 4); /* 5 is marked too */
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 3);
	CU_ASSERT(chg[0].kind == HC_CHG_APPLIED && chg[0].user_id == 4 && chg[0].to_room == 0);
	CU_ASSERT(chg[1].kind == HC_CHG_APPLIED && chg[1].user_id == 5 && chg[1].to_room == 2);
	CU_ASSERT_EQUAL(chg[2].kind, HC_CHG_SWEPT);

	/* a snapshot naming five: one of the two new ones is refused at the
	 * sweep; the gateway ends at its cap.  Gateway 8's member waits on. */
	m.n_changes = 0;
	apply1(100, 3, HC_OP_JOIN, 8, 0);
	apply1(101, 3, HC_OP_JOIN, 8, 0);
	apply1(102, 3, HC_OP_JOIN, 8, 0);
	apply1(103, 3, HC_OP_JOIN, 8, 0);
	apply1(104, 3, HC_OP_SNAP_SET, 8, 1); /* 8 at its cap: waits */
	apply1(6, 2, HC_OP_SNAP_SET, 7, 2);
	apply1(7, 2, HC_OP_SNAP_SET, 7, 2);
	for (uint64_t u = 1; u <= 3; u++)
		apply1(u, 1, HC_OP_SNAP_SET, 7, 2);
	apply1(5, 2, HC_OP_SNAP_SET, 7, 2);
	CU_ASSERT_EQUAL(m.n_parked, 3);
	m.n_changes = 0;
	apply1(0, 0, HC_OP_SNAP_SWEEP, 7, 2);
	CU_ASSERT_EQUAL(m.gw_users[7], 4);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 6), 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 7), 0);
	CU_ASSERT_EQUAL(m.st.gateway_cap_full, 2);
	CU_ASSERT_EQUAL(m.n_parked, 1);
	CU_ASSERT_EQUAL(m.parked[0].user_id, 104);
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 3);
	CU_ASSERT(chg[0].kind == HC_CHG_FULL && chg[0].user_id == 6);
	CU_ASSERT(chg[1].kind == HC_CHG_FULL && chg[1].user_id == 7);
	CU_ASSERT_EQUAL(chg[2].kind, HC_CHG_SWEPT);
	/* gateway 8's sweep: 103 was not named, 104 takes its place */
	for (uint64_t u = 100; u <= 102; u++)
		apply1(u, 3, HC_OP_SNAP_SET, 8, 1);
	apply1(0, 0, HC_OP_SNAP_SWEEP, 8, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 103), 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 104), 3);
	CU_ASSERT_EQUAL(m.gw_users[8], 4);
	CU_ASSERT_EQUAL(m.n_parked, 0);
	CU_ASSERT_EQUAL(m.st.snap_parked, 4);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);

	/* under admission: the waiting member asks for its seat at the
	 * sweep, before SWEPT, and is seated by the answer */
	m.admission = 1;
	m.n_changes = 0;
	apply1(8, 2, HC_OP_SNAP_SET, 7, 3);
	for (uint64_t u = 1; u <= 3; u++)
		apply1(u, 1, HC_OP_SNAP_SET, 7, 3);
	CU_ASSERT_EQUAL(m.n_parked, 1);
	CU_ASSERT_EQUAL(m.n_changes, 0);
	apply1(0, 0, HC_OP_SNAP_SWEEP, 7, 3); /* 5 goes, 8 asks */
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 3);
	CU_ASSERT(chg[0].kind == HC_CHG_APPLIED && chg[0].user_id == 5);
	CU_ASSERT(chg[1].kind == HC_CHG_RESTATE && chg[1].user_id == 8);
	CU_ASSERT_EQUAL(chg[2].kind, HC_CHG_SWEPT);
	CU_ASSERT_EQUAL(m.gw_pend_new[7], 1);
	hc_members_decide(&m, 8, 2, 1, 7);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 8), 2);
	CU_ASSERT_EQUAL(m.gw_users[7], 4);
	CU_ASSERT_EQUAL(m.snap_marked[7], 4);
	/* a waiting member whose user another gateway's JOIN made pending
	 * meanwhile waits behind that request: after its answer the user is
	 * that gateway's, and the snapshot's gateway hears SUPERSEDED */
	m.n_changes = 0;
	apply1(9, 2, HC_OP_SNAP_SET, 7, 4);
	for (uint64_t u = 1; u <= 3; u++)
		apply1(u, 1, HC_OP_SNAP_SET, 7, 4);
	apply1(9, 3, HC_OP_JOIN, 11, 0);       /* gateway 11: a seat request */
	CU_ASSERT_EQUAL(m.n_parked, 1);
	apply1(0, 0, HC_OP_SNAP_SWEEP, 7, 4); /* 8 goes; 9's member waits */
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 3);
	CU_ASSERT(chg[0].kind == HC_CHG_REQUEST && chg[0].user_id == 9 && chg[0].gateway_id == 11);
	CU_ASSERT(chg[1].kind == HC_CHG_APPLIED && chg[1].user_id == 8 && chg[1].to_room == 0);
	CU_ASSERT_EQUAL(chg[2].kind, HC_CHG_SWEPT);
	CU_ASSERT_EQUAL(m.n_parked, 0);
	CU_ASSERT_EQUAL(m.gw_parked[7], 0);
	CU_ASSERT_EQUAL(m.pend.n_deferred, 2); /* the sweep's SNAP_DROP, then the member */
	m.n_changes = 0;
	hc_members_decide(&m, 9, 3, 1, 11);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 9), 3);
	CU_ASSERT_EQUAL(hc_members_owner_of(&m, 9), 11);
	CU_ASSERT_EQUAL(m.gw_users[7], 3);
	CU_ASSERT_EQUAL(m.st.snap_conflicts, 1);
	CU_ASSERT_EQUAL(chg_count(chg, m.n_changes, HC_CHG_SUPERSEDED, 9), 1);
	CU_ASSERT_EQUAL(chg[m.n_changes - 1].gateway_id, 7);
	CU_ASSERT_EQUAL(m.pend.n_deferred, 0);
	m.admission = 0;

	/* the table at --max-users (no cap): the same, by the table's count */
	hc_members_free(&m);
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_parked2", 6, 16, 0), 0);
	m.changes = chg;
	m.changes_cap = HC_MEMBERS_PARKED + 64;
	for (uint64_t u = 1; u <= 6; u++)
		apply1(u, 1, HC_OP_JOIN, 7, 0);
	CU_ASSERT_EQUAL_FATAL(m.n_users, 6);
	m.n_changes = 0;
	apply1(9, 4, HC_OP_SNAP_SET, 7, 1);
	for (uint64_t u = 2; u <= 6; u++)
		apply1(u, 1, HC_OP_SNAP_SET, 7, 1);
	apply1(0, 0, HC_OP_SNAP_SWEEP, 7, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 1), 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&m, 9), 4);
	CU_ASSERT_EQUAL(m.n_users, 6);
	CU_ASSERT_EQUAL(m.st.table_full, 0);
	CU_ASSERT_EQUAL(chg_count(chg, m.n_changes, HC_CHG_FULL, 0), 0);

	/* one gateway parks HC_MEMBERS_PARKED_PER_GATEWAY members, its next
	 * one is refused at once; so, past HC_MEMBERS_PARKED, is any */
	enum { PER = HC_MEMBERS_PARKED_PER_GATEWAY, OTHERS = HC_MEMBERS_PARKED / PER - 1 };
	m.n_changes = 0;
	for (uint64_t u = 0; u <= PER; u++)
		apply1(1000 + u, 5, HC_OP_SNAP_SET, 7, 2);
	CU_ASSERT_EQUAL(m.n_parked, PER);
	CU_ASSERT_EQUAL(m.gw_parked[7], PER);
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 1);
	CU_ASSERT(chg[0].kind == HC_CHG_FULL && chg[0].user_id == 1000 + PER);
	for (uint16_t g = 0; g < OTHERS; g++)
		for (uint64_t u = 0; u < PER; u++)
			apply1(100000 + 1000 * (uint64_t)g + u, 6, HC_OP_SNAP_SET, 20 + g, 1);
	CU_ASSERT_EQUAL(m.n_parked, HC_MEMBERS_PARKED);
	apply1(999999, 6, HC_OP_SNAP_SET, 40, 1);
	CU_ASSERT_EQUAL(m.n_parked, HC_MEMBERS_PARKED);
	CU_ASSERT_EQUAL(m.st.snap_parked_now, HC_MEMBERS_PARKED);
	CU_ASSERT_EQUAL_FATAL(m.n_changes, 2);
	CU_ASSERT(chg[1].kind == HC_CHG_FULL && chg[1].user_id == 999999);
	m.n_changes = 0;
	apply1(0, 0, HC_OP_SNAP_SWEEP, 7, 2); /* all six go: six of them fit */
	CU_ASSERT_EQUAL(m.n_users, 6);
	CU_ASSERT_EQUAL(m.room_users[5], 6);
	CU_ASSERT_EQUAL(m.n_parked, HC_MEMBERS_PARKED - PER);
	CU_ASSERT_EQUAL(m.st.snap_parked_now, HC_MEMBERS_PARKED - PER);
	CU_ASSERT_EQUAL(m.parked[0].gateway_id, 20); /* the others wait, in order */
	CU_ASSERT_EQUAL(m.parked[0].user_id, 100000);
	CU_ASSERT_EQUAL(chg_count(chg, m.n_changes, HC_CHG_FULL, 0), PER - 6);
	CU_ASSERT_EQUAL(chg[m.n_changes - 1].kind, HC_CHG_SWEPT);
	for (uint16_t g = 0; g < OTHERS; g++)
		apply1(0, 0, HC_OP_SNAP_SWEEP, 20 + g, 1); /* no key: refused */
	CU_ASSERT_EQUAL(m.n_parked, 0);
	CU_ASSERT_EQUAL(m.st.snap_parked_now, 0);
	for (uint16_t g = 0; g < OTHERS; g++)
		CU_ASSERT_EQUAL(m.gw_parked[20 + g], 0);
	CU_ASSERT_EQUAL(m.room_users[6], 0);
	CU_ASSERT_EQUAL(m.st.table_full, 2 + (PER - 6) + (uint64_t)OTHERS * PER);
	CU_ASSERT_EQUAL(m.st.snap_parked, HC_MEMBERS_PARKED + 1);
	CU_ASSERT_EQUAL(rooms_check(&m), 0);
	m.changes = NULL;
	hc_members_free(&m);
}

/* Gateways choose user ids: ids crafted to share one home of the pending
 * table (seat requests in flight) would make every probe walk all of
 * them.  The table's hashes are seeded: the same ids crowd one home only
 * under the seed they were crafted for. */
static void test_pending_crafted_ids(void)
{
	enum { CRAFTED = 600 };
	static uint64_t id[CRAFTED];
	static struct hc_pending_table t;
	CU_ASSERT_EQUAL_FATAL(hc_pending_init(&t, 0, 0), 0); /* the attacker's guess */
	uint32_t n = 0;
	for (uint64_t u = 1; n < CRAFTED && u < 100000000; u++)
		if (hc_pending_home(&t, u) == 77)
			id[n++] = u;
	CU_ASSERT_EQUAL_FATAL(n, CRAFTED);
	for (uint32_t i = 0; i < n; i++)
		hc_pending_add(&t, id[i], 1, -1);
	CU_ASSERT_EQUAL(hc_pending_max_probe(&t), CRAFTED - 1); /* one chain of 600 */
	/* removed from that one chain at its start, its end and between (every
	 * third one, the last ones added first, then the others from the
	 * first added): every user left is still found, none removed is */
	unsigned bad = 0;
	for (uint32_t pass = 0; pass < 2; pass++) {
		for (uint32_t k = 0; k < n; k++) {
			uint32_t i = pass == 0 ? n - 1 - k : k;
			if ((i % 3 == 0) != (pass == 0))
				continue;
			struct hc_pending *p = hc_pending_find(&t, id[i]);
			bad += p == NULL || p->user != id[i];
			if (p != NULL)
				hc_pending_remove(&t, p);
			bad += hc_pending_find(&t, id[i]) != NULL;
			for (uint32_t j = 0; j < n; j += 7) { /* a sample of the rest */
				int gone = (j % 3 == 0 && (pass == 1 || j >= i)) ||
					   (pass == 1 && j <= i);
				bad += (hc_pending_find(&t, id[j]) == NULL) != gone;
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(t.n_pending, 0);
	CU_ASSERT_EQUAL(hc_pending_max_probe(&t), 0);
	hc_pending_free(&t);

	/* a seed they were not crafted for: short probes, each user found,
	 * removed, and the table and its filter empty again */
	memset(&t, 0, sizeof(t));
	CU_ASSERT_EQUAL_FATAL(hc_pending_init(&t, 0x9E3779B97F4A7C15ull, 0), 0);
	for (uint32_t i = 0; i < n; i++)
		hc_pending_add(&t, id[i], 1, -1);
	CU_ASSERT_EQUAL(t.n_pending, CRAFTED);
	CU_ASSERT(hc_pending_max_probe(&t) < 16);
	unsigned found = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct hc_pending *p = hc_pending_find(&t, id[i]);
		if (p != NULL && p->user == id[i]) {
			found++;
			hc_pending_remove(&t, p);
		}
	}
	CU_ASSERT_EQUAL(found, CRAFTED);
	CU_ASSERT_EQUAL(t.n_pending, 0);
	unsigned left = 0;
	for (uint32_t c = 0; c < HC_PENDING_FILTER; c++)
		left += t.filter[c];
	CU_ASSERT_EQUAL(left, 0);

	/* the filter's cell is seeded too: ids of one cell under seed 0
	 * (each would make every op probe the table) spread over cells */
	static struct hc_pending_table t0;
	CU_ASSERT_EQUAL_FATAL(hc_pending_init(&t0, 0, 0), 0);
	n = 0;
	for (uint64_t u = 1; n < CRAFTED && u < 100000000; u++)
		if (hc_pending_cells(&t0, u).a == 5)
			id[n++] = u;
	CU_ASSERT_EQUAL_FATAL(n, CRAFTED);
	static uint8_t hit[HC_PENDING_FILTER];
	unsigned cells = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t c = hc_pending_cells(&t, id[i]).a;
		cells += hit[c] == 0;
		hit[c] = 1;
	}
	CU_ASSERT(cells > CRAFTED * 3 / 4); /* ~559 expected of 600 at random */

	/* two cells a user: with 100 users in flight, about 0.2 % of other
	 * users pass the filter (one cell: 2.4 %), and none in flight fails */
	for (uint64_t u = 1; u <= 100; u++)
		hc_pending_add(&t0, u * 0x9E3779B97F4A7C15ull, 1, -1);
	unsigned pass = 0, missed = 0;
	for (uint64_t u = 1; u <= 100000; u++) {
		uint64_t other = u * 0xC2B2AE3D27D4EB4Full + 12345;
		struct hc_pending_cells c = hc_pending_cells(&t0, other);
		pass += t0.filter[c.a] != 0 && t0.filter[c.b] != 0;
	}
	for (uint64_t u = 1; u <= 100; u++)
		missed += hc_pending_find(&t0, u * 0x9E3779B97F4A7C15ull) == NULL;
	CU_ASSERT_EQUAL(missed, 0);
	CU_ASSERT(pass < 600); /* 0.6 %: about 240 expected */
	hc_pending_free(&t0);
	hc_pending_free(&t);

	/* a worker's table is seeded at random: the ids' JOINs under
	 * admission all wait for seats, in short probes */
	CU_ASSERT_EQUAL_FATAL(hc_members_init(&m, "t_pcraft", 4096, 16, 0), 0);
	m.admission = 1;
	for (uint32_t i = 0; i < n; i++)
		apply1(id[i], 3, HC_OP_JOIN, 1, 0);
	CU_ASSERT_EQUAL(m.pend.n_pending, CRAFTED);
	CU_ASSERT(m.pend.seed != 0);
	CU_ASSERT(hc_pending_max_probe(&m.pend) < 32);
	hc_members_free(&m);
}

/* The rooms' lines are asked for ahead only where their tables (a count
 * and a lease, 6 bytes a room id) outgrow HC_MEMBERS_ROOMS_CACHED. */
static void test_prefetch_rooms_rule(void)
{
	static const struct { uint32_t max_rooms; int prefetch; } cases[] = {
		{100, 0}, {20001, 0}, {43690, 0}, {43691, 1}, {200001, 1}, {262144, 1},
	};
	CU_ASSERT_EQUAL(43690u * 6 <= HC_MEMBERS_ROOMS_CACHED, 1);
	CU_ASSERT_EQUAL(43691u * 6 > HC_MEMBERS_ROOMS_CACHED, 1);
	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		struct hc_members m;
		int rc = hc_members_init(&m, "t_pf_rooms", 1024, cases[i].max_rooms, 0);
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		CU_ASSERT_EQUAL(m.prefetch_rooms, cases[i].prefetch);
		hc_members_free(&m);
	}
}

static CU_TestInfo tests[] = {
	{"join/leave semantics", test_semantics},
	{"a user's chain of deferred ops drained once, in order", test_chain_drained_once},
	{"the rooms' lines asked for ahead only past a cached size", test_prefetch_rooms_rule},
	{"same user twice in a batch", test_same_user_in_batch},
	{"users present at a batch's lookup, gone and back in it", test_present_users_gone_in_batch},
	{"gone users' keys kept up to capacity less 1/64", test_gone_keep_limit},
	{"gone users' keys above that trimmed by the timers", test_gone_trim},
	{"a gone user's key trimmed while its seat is asked for", test_gone_trim_seat_in_flight},
	{"full table", test_full},
	{"a gateway's share of --max-users-per-gateway", test_gateway_cap},
	{"a snapshot's new members judged after its sweep", test_snapshot_judged_after_sweep},
	{"random ops vs reference model", test_against_reference},
	{"pick k users of a room", test_pick},
	{"a MOVE obeyed as LEAVE + JOIN keeps the user's cooldown",
	 test_pick_cooldown_survives_leave_join},
	{"the pick memo: window, full ring, taken records", test_pickmemo_ring},
	{"the pick memo: compacted when full of taken records; the worker's clock",
	 test_pickmemo_compaction_and_ticks},
	{"the pick memo: a wrapped ring compacted, its order and times kept",
	 test_pickmemo_compaction_wrapped},
	{"the pick scan: asks in order, waiting, ended early, bounded", test_pick_scan},
	{"reconnect through another gateway", test_reconnect_elsewhere},
	{"sessions order a user's connections across gateways", test_sessions},
	{"snapshot replaces a gateway's users", test_snapshot_replace},
	{"snapshot with seat requests in flight", test_snapshot_with_pending},
	{"snapshot member waits 131 snapshots", test_snapshot_member_waits_long},
	{"snapshot wrap keeps a waiting user", test_snapshot_wrap_keeps_waiting_user},
	{"snapshot member waits a whole round", test_snapshot_member_waits_a_round},
	{"owner spread", test_owner},
	{"a crowded home of the user table", test_crowded_home},
	{"user ids crafted for one home of the pending table", test_pending_crafted_ids},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_members = {"members", NULL, NULL, NULL, NULL, tests};
