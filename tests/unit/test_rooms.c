/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_rooms.c - the control core's seat book and its policy: placement
 * order under both fill policies (target: up to target, then a new room;
 * max: up to max), admission never above max, direct joins between target
 * and max, the no-id fallback, reservations and their expiry, room
 * retirement with a grace period, the accounting of rooms above target,
 * the INI file and --pool parsing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hc_bigmem.h"
#include "hc_directives.h"
#include "hc_policy.h"
#include "hc_rooms.h"

#include "hc_unit.h"

#define HZ 1000000ull /* 1 tick = 1 us */

static struct hc_policy pol;
static struct hc_rooms r;
static int seq_name;

/* A seat book on the default pool (15 / 50 / 100) with the given fill. */
static void fresh_fill(uint32_t max_rooms, enum hc_fill fill)
{
	char name[32];
	hc_policy_defaults(&pol);
	pol.pool[0].fill = fill;
	snprintf(name, sizeof(name), "t_rooms_%d", seq_name++);
	CU_ASSERT_EQUAL_FATAL(hc_rooms_init(&r, name, &pol, max_rooms, 4096, HZ), 0);
}

/* The same with the default policy (fill = target). */
static void fresh(uint32_t max_rooms)
{
	fresh_fill(max_rooms, HC_FILL_TARGET);
}

/* Fill room `id` with n admitted users (direct joins). */
static void fill(uint32_t id, uint32_t n, uint64_t *user)
{
	for (uint32_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(hc_rooms_admit(&r, id, 0, (*user)++, 0), 1);
}

static void test_placement_fill_max(void)
{
	uint64_t u = 1;
	fresh_fill(64, HC_FILL_MAX);
	/* empty pool: a new room, then the same room until it is full */
	uint32_t first = hc_rooms_place(&r, 0, u++, 0);
	CU_ASSERT_EQUAL(first, 1);
	for (int i = 1; i < 100; i++)
		CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), first);
	CU_ASSERT_EQUAL(r.room[first].reserved, 100);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 2); /* full: a new room */
	CU_ASSERT_EQUAL(r.st.new_rooms, 2);
	CU_ASSERT_EQUAL(r.st.placed_beyond_target, 50);    /* seats 51 .. 100 */
	CU_ASSERT_EQUAL(r.st.seated_beyond_target, 0);
	hc_rooms_free(&r);

	/* rooms of 20, 80, 10: the fullest at or above min wins */
	fresh_fill(64, HC_FILL_MAX);
	fill(5, 20, &u);
	fill(6, 80, &u);
	fill(7, 10, &u);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 6);
	fill(6, 19, &u); /* 80 + 1 reserved + 19 = 100: full */
	CU_ASSERT_EQUAL(r.room[6].users + r.room[6].reserved, 100);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 5);
	hc_rooms_free(&r);

	/* only rooms below min: the fullest of them */
	fresh_fill(64, HC_FILL_MAX);
	fill(3, 10, &u);
	fill(4, 5, &u);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 3);
	hc_rooms_free(&r);
}

/* fill = target (the default): up to target, then a new room. */
static void test_placement_fill_target(void)
{
	uint64_t u = 1;
	fresh(64);
	CU_ASSERT_EQUAL(pol.pool[0].fill, HC_FILL_TARGET);
	for (int i = 0; i < 50; i++)
		CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 1);
	CU_ASSERT_EQUAL(r.room[1].reserved, 50);
	for (int i = 0; i < 50; i++) /* at target: a new room */
		CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 2);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 3);
	CU_ASSERT_EQUAL(r.room[1].reserved, 50);
	CU_ASSERT_EQUAL(r.room[2].reserved, 50);
	CU_ASSERT_EQUAL(r.room[3].reserved, 1);
	CU_ASSERT_EQUAL(r.st.new_rooms, 3);
	CU_ASSERT_EQUAL(r.st.placements, 101);
	CU_ASSERT_EQUAL(r.st.placed_beyond_target, 0);
	/* the JOINs take the seats; a leave from room 1 frees one, and room
	 * 1 (49) is fuller than room 3 (1): the next user goes there */
	for (uint64_t x = 1; x <= 50; x++)
		CU_ASSERT_EQUAL(hc_rooms_admit(&r, 1, 0, x, 0), HC_ROOMS_ADMITTED_KEPT);
	CU_ASSERT_EQUAL(r.room[1].users, 50);
	CU_ASSERT_EQUAL(r.room[1].reserved, 0);
	hc_rooms_leave(&r, 1);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 1);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 3);
	hc_rooms_free(&r);

	/* rooms of 20, 45, 10 (below min) and 60 (above target, by direct
	 * joins): the fullest below target first, the one above never */
	fresh(64);
	fill(5, 20, &u);
	fill(6, 45, &u);
	fill(7, 10, &u);
	fill(8, 60, &u);
	for (int i = 0; i < 5; i++)          /* 45 -> 50 */
		CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 6);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 5); /* 20: the fullest below target */
	fill(5, 29, &u);                     /* 21 + 29 = 50 */
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 7); /* 10, below min: the fullest left */
	fill(7, 39, &u);                     /* 11 + 39 = 50 */
	/* every room at or above target: a new room (ids 5..8 are taken
	 * directly; never-used ids are handed out from 1) */
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 1);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 1);
	CU_ASSERT_EQUAL(r.room[8].users, 60);
	CU_ASSERT_EQUAL(r.room[8].reserved, 0);
	CU_ASSERT_EQUAL(r.st.placed_beyond_target, 0);
	CU_ASSERT_EQUAL(r.st.seated_beyond_target, 10); /* room 8's users 51 .. 60 */
	hc_rooms_free(&r);

	/* a live empty room (its users left, not retired yet) before a new id */
	fresh(64);
	fill(3, 20, &u);
	for (int i = 0; i < 20; i++)
		hc_rooms_leave(&r, 3);
	fill(4, 50, &u);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 3);
	CU_ASSERT_EQUAL(r.st.new_rooms, 0);
	hc_rooms_free(&r);

	/* target == max: the same as fill = max */
	char err[256];
	hc_policy_defaults(&pol);
	CU_ASSERT_EQUAL_FATAL(hc_policy_add_spec(&pol, "0:default:15:100:100:target", err,
						 sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(hc_rooms_init(&r, "t_rooms_tmax", &pol, 64, 4096, HZ), 0);
	for (int i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 1);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 2);
	hc_rooms_free(&r);
}

/* Direct joins (a friend, a reconnect) take the seats between target and
 * max; admission is the same under both policies. */
static void test_direct_joins_past_target(void)
{
	uint64_t u = 1;
	fresh(64);
	for (uint64_t x = u; x < u + 50; x++)
		CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, x, 0), 1);
	for (uint64_t x = u; x < u + 50; x++)
		CU_ASSERT_EQUAL(hc_rooms_admit(&r, 1, 0, x, 0), HC_ROOMS_ADMITTED_KEPT);
	u += 50;
	CU_ASSERT_EQUAL(r.st.admits_reserved, 50);
	fill(1, 50, &u);                     /* 50 direct joins: 51 .. 100 */
	CU_ASSERT_EQUAL(r.room[1].users, 100);
	CU_ASSERT_EQUAL(r.st.seated_beyond_target, 50);
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, 1, 0, u++, 0), 0); /* the 101st: refused */
	CU_ASSERT_EQUAL(r.st.refusals, 1);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 2);   /* placement: elsewhere */
	/* a move's seat past target counts too, its own seat again does not */
	fill(2, 49, &u);                     /* 1 reserved + 49 = 50 */
	CU_ASSERT_EQUAL(hc_rooms_reserve(&r, 2, 7000, 0), 1);
	CU_ASSERT_EQUAL(r.st.seated_beyond_target, 51);
	CU_ASSERT_EQUAL(hc_rooms_reserve(&r, 2, 7000, 0), 1);
	CU_ASSERT_EQUAL(r.st.seated_beyond_target, 51);
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[2]), 51);
	CU_ASSERT_EQUAL(r.st.placed_beyond_target, 0);
	/* a room full with the user's own seat: that seat is renewed (a
	 * NEW_TOPIC resent names it), anyone else's refused */
	fill(2, 49, &u);                     /* 100: at max, 7000's seat in it */
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[2]), 100);
	CU_ASSERT_EQUAL(hc_rooms_reserve(&r, 2, 7000, 0), 1);
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[2]), 100);
	CU_ASSERT_EQUAL(hc_rooms_reserve(&r, 2, 7001, 0), 0);
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[2]), 100);
	hc_rooms_free(&r);
}

/* fill = target with no room id left: the fullest room with a seat below
 * max, not NO_ROOM; NO_ROOM only when every room is at max. */
static void test_fill_target_no_id_fallback(void)
{
	uint64_t u = 1;
	fresh(4); /* ids 1..3 */
	for (int room = 1; room <= 3; room++)
		for (int i = 0; i < 50; i++)
			CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), (uint32_t)room);
	CU_ASSERT_EQUAL(r.st.placed_beyond_target, 0);
	/* every room at target, no id free: past target, the fullest first,
	 * so one room fills to max before the next is touched */
	uint32_t seen[4] = {0};
	uint32_t last = 0, switches = 0;
	for (int i = 0; i < 150; i++) {
		uint32_t room = hc_rooms_place(&r, 0, u++, 0);
		CU_ASSERT_FATAL(room >= 1 && room <= 3);
		if (room != last) {
			switches++;
			CU_ASSERT_EQUAL(seen[room], 0); /* never back to an earlier room */
			if (last != 0)
				CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[last]), 100);
		}
		seen[room]++;
		last = room;
	}
	CU_ASSERT_EQUAL(switches, 3);
	CU_ASSERT_EQUAL(seen[1], 50);
	CU_ASSERT_EQUAL(seen[2], 50);
	CU_ASSERT_EQUAL(seen[3], 50);
	CU_ASSERT_EQUAL(r.st.placed_beyond_target, 150);
	CU_ASSERT_EQUAL(r.st.no_room, 0);
	CU_ASSERT_EQUAL(r.st.new_rooms, 3);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 0); /* all at max */
	CU_ASSERT_EQUAL(r.st.no_room, 1);
	hc_rooms_free(&r);

	/* fill = max with no id left and every room full: NO_ROOM as before */
	fresh_fill(2, HC_FILL_MAX); /* id 1 only */
	for (int i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 1);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 0);
	CU_ASSERT_EQUAL(r.st.no_room, 1);
	hc_rooms_free(&r);
}

/* A repeated PLACE (a lost answer, a duplicate) names the same seat under
 * both policies, even once the room has reached target or max since. */
static void test_repeated_place_same_seat(void)
{
	for (int f = 0; f < 2; f++) {
		enum hc_fill fill = f ? HC_FILL_MAX : HC_FILL_TARGET;
		uint32_t upto = f ? 100 : 50;
		uint64_t u = 100;
		fresh_fill(64, fill);
		CU_ASSERT_EQUAL(hc_rooms_place_for(&r, 0, 1, 5, 0), 1);
		for (uint32_t i = 1; i < upto; i++)
			CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 1);
		CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 0), 2); /* room 1 is done */
		CU_ASSERT_EQUAL(hc_rooms_place_for(&r, 0, 1, 5, 0), 1);
		CU_ASSERT_EQUAL(hc_rooms_place_for(&r, 0, 1, 5, 0), 1);
		CU_ASSERT_EQUAL(r.st.placements_repeated, 2);
		CU_ASSERT_EQUAL(r.room[1].reserved, upto);  /* no second seat */
		CU_ASSERT_EQUAL(hc_rooms_reserved_by(&r, 5), 1);
		CU_ASSERT_EQUAL(r.st.placements, upto + 1);
		hc_rooms_free(&r);
	}
}

static void test_admission(void)
{
	uint64_t u = 1000;
	fresh_fill(64, HC_FILL_MAX); /* placement may offer the last seat */
	fill(9, 99, &u);
	uint64_t lucky = 1;
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, lucky, 0), 9); /* the last seat */
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, 9, 0, 2, 0), 0);  /* a direct join: refused */
	CU_ASSERT_EQUAL(r.st.refusals, 1);
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, 9, 0, lucky, 0), HC_ROOMS_ADMITTED_KEPT); /* the reservation */
	CU_ASSERT_EQUAL(r.room[9].users, 100);
	CU_ASSERT_EQUAL(r.room[9].reserved, 0);
	CU_ASSERT_EQUAL(r.st.admits_reserved, 1);
	hc_rooms_leave(&r, 9);
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, 9, 0, 2, 0), 1);  /* a seat is free again */

	/* joining elsewhere cancels the user's reservation */
	uint32_t got = hc_rooms_place(&r, 0, 77, 0);
	CU_ASSERT_NOT_EQUAL(got, 9);
	CU_ASSERT_EQUAL(r.room[got].reserved, 1);
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, 20, 0, 77, 0), 1);
	CU_ASSERT_EQUAL(r.room[got].reserved, 0);
	/* lucky's consumed record is kept (a late resend); 77's cancelled one
	 * is free at once */
	CU_ASSERT_EQUAL(hc_rooms_resv_records(&r), 1);
	CU_ASSERT_EQUAL(r.resv_fifo[0].n, 0);
	CU_ASSERT_EQUAL(r.resv_fifo[1].n, 1);
	hc_rooms_free(&r);
}

/* A room an admitted move is taking a user out of sits plans out until
 * the worker reports the user out (hc_rooms_vacated): the book counts
 * the user there meanwhile.  Marks are stamped with the control
 * channel's sync period (hc_ctlsync.h); once the period of the room's
 * latest mark has ended, a mark left is a report that never comes: the
 * room is let in again, counted (vacate_stale), and a late report wraps
 * nothing.  No clock: a period not ended keeps the room out for good. */
static void test_vacating(void)
{
	uint64_t u = 1000;
	fresh(64);
	fill(9, 20, &u);
	CU_ASSERT_TRUE(hc_rooms_settled(&r, 9, 0));
	hc_rooms_vacating(&r, 9, 1);
	hc_rooms_vacating(&r, 9, 1);
	CU_ASSERT_EQUAL(r.vacating[9].moves, 2);
	CU_ASSERT_FALSE(hc_rooms_settled(&r, 9, 0)); /* period 1 not ended */
	hc_rooms_vacated(&r, 9);
	CU_ASSERT_EQUAL(r.room[9].users, 19);
	CU_ASSERT_FALSE(hc_rooms_settled(&r, 9, 0));
	hc_rooms_vacated(&r, 9);
	CU_ASSERT_EQUAL(r.room[9].users, 18);
	CU_ASSERT_TRUE(hc_rooms_settled(&r, 9, 0)); /* reported: in at once */
	CU_ASSERT_EQUAL(r.st.vacate_stale, 0);

	/* a report that never comes (period 2), and moves after it (periods
	 * 3 to 22), each reported: the room stays out until the latest
	 * mark's period has ended, however many ended before */
	fill(9, 10, &u); /* 28 */
	hc_rooms_vacating(&r, 9, 2);                /* its report is lost */
	for (uint32_t k = 3; k <= 22; k++) {
		hc_rooms_vacating(&r, 9, k);
		CU_ASSERT_FALSE(hc_rooms_settled(&r, 9, k - 1));
		hc_rooms_vacated(&r, 9);
	}
	CU_ASSERT_EQUAL(r.vacating[9].moves, 1);
	CU_ASSERT_EQUAL(r.room[9].users, 8);
	CU_ASSERT_FALSE(hc_rooms_settled(&r, 9, 21));
	CU_ASSERT_EQUAL(r.st.vacate_stale, 0);
	CU_ASSERT_TRUE(hc_rooms_settled(&r, 9, 22));
	CU_ASSERT_EQUAL(r.st.vacate_stale, 1);
	CU_ASSERT_EQUAL(r.vacating[9].moves, 0);
	hc_rooms_vacated(&r, 9); /* late: the user goes, no mark wraps */
	CU_ASSERT_EQUAL(r.vacating[9].moves, 0);
	CU_ASSERT_EQUAL(r.room[9].users, 7);
	CU_ASSERT_TRUE(hc_rooms_settled(&r, 9, 22));

	/* the numbers wrap: a mark is stamped at most 2 past the last period
	 * ended (the open one), and is waited for exactly then: a mark of
	 * period 2^32 - 1 at 2^32 - 2 and 2^32 - 3, past at 2^32 - 1 and
	 * once wrapped; one of period 1 (wrapped) at 2^32 - 1; and a mark
	 * left for 2^31 periods and more is past (up to 2^32 - 3 of them:
	 * the two after read as waited for again, hc_rooms_settled) */
	hc_rooms_vacating(&r, 9, UINT32_MAX);
	CU_ASSERT_FALSE(hc_rooms_settled(&r, 9, UINT32_MAX - 1));
	CU_ASSERT_FALSE(hc_rooms_settled(&r, 9, UINT32_MAX - 2));
	CU_ASSERT_TRUE(hc_rooms_settled(&r, 9, 2));
	CU_ASSERT_EQUAL(r.st.vacate_stale, 2);
	hc_rooms_vacating(&r, 9, 1);
	CU_ASSERT_FALSE(hc_rooms_settled(&r, 9, UINT32_MAX));
	CU_ASSERT_FALSE(hc_rooms_settled(&r, 9, 0));
	CU_ASSERT_TRUE(hc_rooms_settled(&r, 9, 1));
	CU_ASSERT_EQUAL(r.st.vacate_stale, 3);
	hc_rooms_vacating(&r, 9, 7);
	CU_ASSERT_TRUE(hc_rooms_settled(&r, 9, 7 + (1u << 31) + 5));
	CU_ASSERT_EQUAL(r.st.vacate_stale, 4);
	hc_rooms_vacating(&r, 9, 8);
	CU_ASSERT_FALSE(hc_rooms_settled(&r, 9, 7));
	hc_rooms_vacated(&r, 9);
	CU_ASSERT_TRUE(hc_rooms_settled(&r, 9, 7));

	/* only a live room is marked; a room (re)opened has no mark */
	hc_rooms_vacating(&r, 63, 30);
	CU_ASSERT_EQUAL(r.vacating[63].moves, 0);
	hc_rooms_vacating(&r, 0, 30);
	hc_rooms_vacating(&r, 64, 30); /* (beyond max_rooms: ignored) */
	uint32_t id = hc_rooms_open(&r, 0);
	CU_ASSERT_NOT_EQUAL_FATAL(id, 0);
	CU_ASSERT_EQUAL(r.vacating[id].moves, 0);
	CU_ASSERT_TRUE(hc_rooms_settled(&r, id, 0));
	hc_rooms_free(&r);
}

/* A lease topped up (hc_rooms_lease_top_up): for each holder by its own
 * count, only once it has at most half of `want` left, back up to `want`
 * and never past max - margin; not while a revoke is outstanding or
 * before the tick after it. */
static void test_lease_top_up(void)
{
	uint64_t u = 5000;
	fresh(64);
	fill(3, 40, &u);                              /* users 40: far from full */
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, 3, 0, 16, 1), 16);
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, 3, 0, 16, 1), 0); /* one grant at a time */
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, 3, 0, 16, 1), 0); /* 16 left: > 8 */
	for (unsigned i = 0; i < 7; i++)
		CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, 3, 0, 0, u++), 1);
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, 3, 0, 16, 1), 0); /* 9 left */
	CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, 3, 0, 0, u++), 1);
	CU_ASSERT_EQUAL(r.room[3].leased, 8);
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, 3, 1, 16, 1), 0); /* not w1's */
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, 3, 0, 16, 1), 8);  /* 8 left: to 16 */
	CU_ASSERT_EQUAL(r.room[3].leased, 16);
	CU_ASSERT_EQUAL(r.room[3].users, 48);
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[3]), 64);
	CU_ASSERT_EQUAL(r.leased_now, 16);
	CU_ASSERT_EQUAL(r.st.lease_top_ups, 1);
	CU_ASSERT_EQUAL(r.st.lease_grants, 1);
	CU_ASSERT_EQUAL(r.st.leased_seats, 24);

	/* near full: topped up only to max - margin (100 - 12 = 88) */
	fill(3, 20, &u);                              /* users 68 + 16 leased = 84 */
	for (unsigned i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, 3, 0, 0, u++), 1);
	CU_ASSERT_EQUAL(r.room[3].leased, 6);         /* occupancy 84 still */
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, 3, 0, 16, 1), 4);
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[3]), 88);
	for (unsigned i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, 3, 0, 0, u++), 1);
	CU_ASSERT_EQUAL(r.room[3].leased, 8);
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, 3, 0, 16, 1), 0); /* at the margin */
	/* a LEAVE frees one seat below the margin: no one-seat top-up (a
	 * decision an event); four free seats (want / 4) are topped up */
	hc_rooms_leave(&r, 3);
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, 3, 0, 16, 1), 0);
	for (unsigned i = 0; i < 3; i++)
		hc_rooms_leave(&r, 3);
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, 3, 0, 16, 1), 4);
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[3]), 88);
	CU_ASSERT_EQUAL(r.room[3].leased, 12);

	/* two holders: the book counts each one's seats; each is topped up
	 * by its own count; a seat w0 does not hold is not w0's to take; a
	 * holder whose seats are all taken holds none (a grant again) */
	uint32_t b = 4;
	fill(b, 10, &u);
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, b, 0, 16, 1), 16);
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, b, 1, 16, 1), 16);
	CU_ASSERT_EQUAL(r.room[b].lease_mask, 3);
	for (unsigned i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, b, 0, 0, u++), 1);
	for (unsigned i = 0; i < 7; i++)
		CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, b, 0, 1, u++), 1);
	CU_ASSERT_EQUAL(hc_rooms_lease_of(&r, b, 0), 8);
	CU_ASSERT_EQUAL(hc_rooms_lease_of(&r, b, 1), 9);
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, b, 1, 16, 1), 0); /* 9 left: > 8 */
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, b, 0, 16, 1), 8);  /* 8 left: to 16 */
	CU_ASSERT_EQUAL(hc_rooms_lease_of(&r, b, 0), 16);
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, b, 2, 16, 1), 0); /* w2 holds none */
	CU_ASSERT_EQUAL(r.room[b].leased, 25);
	for (unsigned i = 0; i < 9; i++)
		CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, b, 0, 1, u++), 1);
	CU_ASSERT_EQUAL(r.room[b].lease_mask, 1);    /* w1's seats all taken */
	uint64_t errors = r.st.lease_errors;
	CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, b, 0, 1, u++), 0); /* not w1's */
	CU_ASSERT_EQUAL(r.st.lease_errors, errors + 1);
	CU_ASSERT_EQUAL(r.room[b].leased, 16);       /* (w0's, untouched) */
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, b, 1, 16, 1), 16);
	CU_ASSERT_EQUAL(r.room[b].users, 10 + 8 + 16 + 1);
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[b]), 35 + 32);
	/* idle is per holder: w0 topped up at tick 3 does not keep w1's
	 * lease of tick 1 from counting as unused */
	CU_ASSERT_EQUAL(hc_rooms_lease_idle(&r, b, 2), 0);
	for (unsigned i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, b, 0, 0, u++), 1);
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, b, 0, 16, 3), 8);
	CU_ASSERT_EQUAL(hc_rooms_lease_idle(&r, b, 3), 1);
	CU_ASSERT_EQUAL(hc_rooms_lease_idle(&r, 3, 2), 0); /* room 3's lease: tick 1 */
	/* revoked: each holder's answer ends its seats by the book's count
	 * (a different count is an error, the book's wins: w0 holds none) */
	CU_ASSERT_EQUAL(hc_rooms_lease_revoke(&r, b, 1), 3);
	CU_ASSERT_EQUAL(hc_rooms_lease_back(&r, b, 0, 15), 0);
	CU_ASSERT_EQUAL(r.st.lease_errors, errors + 2);
	CU_ASSERT_EQUAL(hc_rooms_lease_of(&r, b, 0), 0);
	CU_ASSERT_EQUAL(r.room[b].leased, 16);
	CU_ASSERT_EQUAL(hc_rooms_lease_back(&r, b, 1, 16), 1);
	CU_ASSERT_EQUAL(r.room[b].leased, 0);
	CU_ASSERT_EQUAL(r.room[b].lease_mask, 0);
	CU_ASSERT_EQUAL(r.leased_now, 12); /* (room 3's) */

	/* a revoke outstanding, then the tick it holds leases back */
	CU_ASSERT_EQUAL(hc_rooms_lease_revoke(&r, 3, 1), 1);
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, 3, 0, 16, 1), 0);
	CU_ASSERT_EQUAL(hc_rooms_lease_back(&r, 3, 0, 12), 1);
	CU_ASSERT_EQUAL(r.room[3].leased, 0);
	CU_ASSERT_EQUAL(r.room[3].lease_mask, 0);
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, 3, 0, 16, 2), 0); /* no holder now */
	CU_ASSERT_EQUAL(r.st.lease_top_ups, 5);

	/* a holder's lease ran dry (it said so, HC_CHGF_LEASE_DRY): its
	 * top-ups double, twice at most, grants do not; once no worker holds
	 * a seat of the room, or after a revoke, they start small again */
	uint32_t c = 5;
	fill(c, 10, &u);
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, c, 0, 16, 1), 16);
	hc_rooms_lease_ran_dry(&r, c, 1);              /* w1 holds none here */
	CU_ASSERT_EQUAL(r.room[c].lease_grow, 0);
	hc_rooms_lease_ran_dry(&r, c, 0);
	CU_ASSERT_EQUAL(r.room[c].lease_grow, 1);
	for (unsigned i = 0; i < 12; i++)
		CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, c, 0, 0, u++), 1);
	CU_ASSERT_EQUAL(r.room[c].leased, 4);
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, c, 0, 16, 1), 28); /* up to 32 */
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[c]), 54);
	hc_rooms_lease_ran_dry(&r, c, 0);
	hc_rooms_lease_ran_dry(&r, c, 0);              /* at most twice */
	CU_ASSERT_EQUAL(r.room[c].lease_grow, HC_ROOMS_LEASE_GROW_MAX);
	CU_ASSERT_EQUAL(r.st.lease_grown, 2);
	for (unsigned i = 0; i < 32; i++)
		CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, c, 0, 0, u++), 1);
	CU_ASSERT_EQUAL(r.room[c].lease_mask, 0);      /* every seat taken */
	CU_ASSERT_EQUAL(r.room[c].lease_grow, 0);
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, c, 0, 16, 1), 16);
	hc_rooms_lease_ran_dry(&r, c, 0);
	CU_ASSERT_EQUAL(r.room[c].lease_grow, 1);
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, c, 1, 16, 1), 16); /* a grant: not grown */
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[c]), 86);
	CU_ASSERT_EQUAL(hc_rooms_lease_revoke(&r, c, 1), 3);
	CU_ASSERT_EQUAL(r.room[c].lease_grow, 0);
	hc_rooms_lease_ran_dry(&r, c, 0);              /* not while revoking */
	CU_ASSERT_EQUAL(r.room[c].lease_grow, 0);
	CU_ASSERT_EQUAL(hc_rooms_lease_back(&r, c, 0, 16), 0);
	CU_ASSERT_EQUAL(hc_rooms_lease_back(&r, c, 1, 16), 1);
	CU_ASSERT_EQUAL(r.st.lease_grown, 3);
	CU_ASSERT_EQUAL(r.st.lease_top_ups, 6);

	/* grown twice: top-ups up to 64; near the margin the least top-up
	 * stays a quarter of lease_seats (4), not of the grown size */
	uint32_t e = 6;
	fill(e, 1, &u);
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, e, 0, 16, 3), 16);
	for (unsigned i = 0; i < 12; i++)
		CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, e, 0, 0, u++), 1);
	hc_rooms_lease_ran_dry(&r, e, 0);
	hc_rooms_lease_ran_dry(&r, e, 0);
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, e, 0, 16, 3), 60); /* 4 left: to 64 */
	CU_ASSERT_EQUAL(r.room[e].leased, 64);
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[e]), 77);
	for (unsigned i = 0; i < 60; i++)
		CU_ASSERT_EQUAL(hc_rooms_lease_taken(&r, e, 0, 0, u++), 1);
	fill(e, 7, &u);                               /* users 80 + 4 leased */
	CU_ASSERT_EQUAL(hc_rooms_lease_top_up(&r, e, 0, 16, 3), 4);
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[e]), 88);
	CU_ASSERT_EQUAL(r.room[e].lease_grow, 2);
	CU_ASSERT_EQUAL(r.st.lease_errors, 2); /* (room b's, on purpose) */
	CU_ASSERT_EQUAL(r.st.over_max, 0);

	/* a revoke holds leases back for its tick and the next, whatever
	 * the ticks since: 2^31 ticks after it (24.8 days at
	 * balance_interval_ms = 1) the hold read as pending again, for as
	 * long (a review) */
	uint32_t f = 7;
	fill(f, 1, &u);
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, f, 0, 16, 10), 16);
	CU_ASSERT_EQUAL(hc_rooms_lease_revoke(&r, f, 10), 1);
	CU_ASSERT_EQUAL(hc_rooms_lease_back(&r, f, 0, 16), 1);
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, f, 0, 16, 10), 0);  /* its tick */
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, f, 0, 16, 11), 0);  /* the next */
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, f, 0, 16, 11 + (1u << 31)), 16);
	CU_ASSERT_EQUAL(hc_rooms_lease_revoke(&r, f, 11 + (1u << 31)), 1);
	CU_ASSERT_EQUAL(hc_rooms_lease_back(&r, f, 0, 16), 1);
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, f, 0, 16, 12 + (1u << 31)), 0);
	CU_ASSERT_EQUAL(hc_rooms_lease(&r, f, 0, 16, 13 + (1u << 31)), 16);
	hc_rooms_free(&r);
}

/* A reload that shortens reservation_ttl_ms: no reservation waits past
 * the reload + the new TTL (the ring expires from its head). */
static void test_expiry_after_shorter_ttl(void)
{
	static struct hc_policy np;
	fresh(64);
	for (uint64_t u = 1; u <= 5; u++)
		CU_ASSERT(hc_rooms_place(&r, 0, u, 0) != 0); /* expire at 5 s */
	np = pol;
	np.reservation_ttl_ms = 1;
	struct hc_rooms_repool x;
	char err[200];
	CU_ASSERT_EQUAL_FATAL(hc_rooms_repool_prepare(&r, &np, &x, err, sizeof(err)), 0);
	hc_rooms_repool_commit(&r, &np, &x, HZ, 100);
	hc_rooms_expire(&r, 1099);
	CU_ASSERT_EQUAL(hc_rooms_resv_live(&r), 5);
	hc_rooms_expire(&r, 1100);
	CU_ASSERT_EQUAL(hc_rooms_resv_live(&r), 0);
	CU_ASSERT_EQUAL(r.st.expired, 5);
	hc_rooms_free(&r);
}

static void test_expiry(void)
{
	fresh(64);
	uint64_t ttl = HZ / 1000 * pol.reservation_ttl_ms;
	for (uint64_t u = 1; u <= 30; u++)
		hc_rooms_place(&r, 0, u, u);
	CU_ASSERT_EQUAL(r.room[1].reserved, 30);
	hc_rooms_expire(&r, ttl);        /* users 1 .. 0 placed at <= 0: none */
	CU_ASSERT_EQUAL(r.room[1].reserved, 30);
	hc_rooms_expire(&r, ttl + 10);   /* placed at 1 .. 10 */
	CU_ASSERT_EQUAL(r.room[1].reserved, 20);
	CU_ASSERT_EQUAL(r.st.expired, 10);
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, 1, 0, 5, ttl + 10), 1); /* late: a free seat */
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, 1, 0, 25, ttl + 10), HC_ROOMS_ADMITTED_KEPT); /* in time */
	CU_ASSERT_EQUAL(r.room[1].reserved, 19);
	CU_ASSERT_EQUAL(r.room[1].users, 2);
	hc_rooms_expire(&r, ttl + 1000);
	CU_ASSERT_EQUAL(r.room[1].reserved, 0);
	CU_ASSERT_EQUAL(hc_rooms_resv_records(&r), 0);
	hc_rooms_free(&r);
}

static void test_retire_grace(void)
{
	uint64_t u = 1;
	fresh(4); /* ids 1..3 */
	uint64_t grace = HZ / 1000 * pol.retire_grace_ms;
	fill(1, 20, &u);
	for (int i = 0; i < 20; i++)
		hc_rooms_leave(&r, 1);
	CU_ASSERT_EQUAL(hc_rooms_retire(&r, 100), 1);
	CU_ASSERT_EQUAL(r.room[1].state, HC_ROOM_GRACE);
	/* new rooms never reuse an id in grace */
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 200), 2);
	fill(2, 99, &u);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 300), 3);
	fill(3, 99, &u);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 400), 0); /* no id left */
	CU_ASSERT_EQUAL(r.st.no_room, 1);
	hc_rooms_retire(&r, 100 + grace);
	CU_ASSERT_EQUAL(r.room[1].state, HC_ROOM_FREE);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u++, 100 + grace), 1);
	CU_ASSERT_EQUAL(r.st.reused, 1);
	hc_rooms_free(&r);
}

static uint64_t rs = 7;
static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
	return (uint32_t)(rs % n);
}

#define RAND_ROOMS 1024 /* ids 1..1023: the duel pool runs out of them */

/* The occupancy a placement in pool p must take its room from, by the
 * pool's fill policy, found by scanning every room; -1: a new room. */
static int expected_level(unsigned p)
{
	const struct hc_pool_cfg *c = &pol.pool[p];
	int best[3] = {-1, -1, -1}; /* [min, max-1] or [1, target-1]; [1, min-1]; 0 */
	for (uint32_t id = 1; id < r.max_rooms; id++) {
		const struct hc_room *rm = &r.room[id];
		if (rm->state != HC_ROOM_LIVE || rm->pool != p)
			continue;
		int o = (int)hc_room_occupancy(rm);
		int k = o == 0 ? 2 :
			c->fill == HC_FILL_TARGET ? (o < (int)c->target ? 0 : -1) :
			o >= (int)c->max ? -1 : o >= (int)c->min ? 0 : 1;
		if (k >= 0 && o > best[k])
			best[k] = o;
	}
	return best[0] >= 0 ? best[0] : best[1] >= 0 ? best[1] : best[2];
}

static int some_id_free(void)
{
	for (uint32_t id = 1; id < r.max_rooms; id++)
		if (r.room[id].state == HC_ROOM_FREE)
			return 1;
	return 0;
}

/* Sum over live rooms of (occupancy - target) where positive. */
static uint64_t excess_over_target(void)
{
	uint64_t e = 0;
	for (uint32_t id = 1; id < r.max_rooms; id++) {
		const struct hc_room *rm = &r.room[id];
		uint32_t o = hc_room_occupancy(rm), t = pol.pool[rm->pool].target;
		if (rm->state == HC_ROOM_LIVE && o > t)
			e += o - t;
	}
	return e;
}

/*
 * 200 k random placements, joins (reserved or anywhere), leaves, expiries
 * and retirements in three pools (the default, fill = target; duel 2/2/4,
 * fill = target, which runs out of room ids; raid 10/30/40, fill = max):
 * no room above max; every placement takes exactly the room its policy
 * names (checked against a scan of all rooms), fill = target goes past
 * target only when no id is free; the book equals the users' own truth;
 * the excess over target is covered by the two counters.
 */
static void test_random_never_above_max(void)
{
	char err[256];
	hc_policy_defaults(&pol);
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "7:duel:2:4", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "9:raid:10:40:30:max", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(pol.pool[1].fill, HC_FILL_TARGET);
	CU_ASSERT_EQUAL_FATAL(pol.pool[2].fill, HC_FILL_MAX);
	CU_ASSERT_EQUAL_FATAL(hc_rooms_init(&r, "t_rooms_rand", &pol, RAND_ROOMS, 1024, HZ), 0);
	static uint32_t where[5000]; /* user -> room admitted in, 0 none */
	memset(where, 0, sizeof(where));
	unsigned over = 0, placed_full = 0, book = 0, wrong_room = 0, early_past = 0;
	unsigned uncovered = 0, fallbacks = 0, no_room_with_seat = 0, checked = 0;
	for (uint64_t t = 1; t < 200000; t++) {
		uint32_t user = rnd(5000);
		unsigned p = rnd(3);
		switch (rnd(4)) {
		case 0: { /* placement */
			int repeat = hc_rooms_has_reservation(&r, user);
			int want = repeat ? -2 : expected_level(p);
			uint64_t opened = r.st.new_rooms, expired = r.st.expired;
			uint32_t room = hc_rooms_place(&r, p, user, t);
			if (room != 0 && hc_room_occupancy(&r.room[room]) > pol.pool[p].max)
				placed_full++;
			/* (reservation records all live expire the oldest one to
			 * make room, perhaps in the room just chosen: not checked) */
			if (repeat || r.st.expired != expired)
				break;
			checked++;
			if (room == 0) {
				/* no id, and (fill = target) no seat below max either */
				if (pol.pool[p].fill == HC_FILL_TARGET) {
					for (uint32_t id = 1; id < r.max_rooms; id++)
						no_room_with_seat += r.room[id].state == HC_ROOM_LIVE &&
							r.room[id].pool == p &&
							hc_room_occupancy(&r.room[id]) < pol.pool[p].max;
				}
				wrong_room += want >= 0 || some_id_free();
				break;
			}
			int took = (int)hc_room_occupancy(&r.room[room]) - 1;
			if (want >= 0) {
				wrong_room += took != want || r.st.new_rooms != opened;
			} else if (r.st.new_rooms == opened) { /* the no-id fallback */
				fallbacks++;
				wrong_room += pol.pool[p].fill != HC_FILL_TARGET;
				early_past += some_id_free();
			} else {
				wrong_room += took != 0;
			}
			break;
		}
		case 1: { /* a join: to a reserved room or a random one */
			uint32_t room = 1 + rnd(RAND_ROOMS - 1);
			if (rnd(2)) {
				int32_t slot = hc_keyidx_lookup(&r.resv_by_user, user);
				if (slot >= 0)
					room = r.resv[slot].room;
			}
			if (where[user] == room)
				break;
			if (hc_rooms_admit(&r, room, p, user, t)) {
				if (where[user] != 0)
					hc_rooms_leave(&r, where[user]);
				where[user] = room;
			}
			break;
		}
		case 2: /* a leave */
			if (where[user] != 0) {
				hc_rooms_leave(&r, where[user]);
				where[user] = 0;
			}
			break;
		default:
			hc_rooms_expire(&r, t);
			if (t % 1000 == 0)
				hc_rooms_retire(&r, t);
			break;
		}
		if (t % 5000 == 0) {
			for (uint32_t id = 1; id < RAND_ROOMS; id++) {
				const struct hc_room *rm = &r.room[id];
				if (rm->state == HC_ROOM_LIVE &&
				    hc_room_occupancy(rm) > pol.pool[rm->pool].max)
					over++;
			}
			uncovered += excess_over_target() >
				     r.st.placed_beyond_target + r.st.seated_beyond_target;
			/* the book agrees with the users' own truth */
			static uint32_t count[RAND_ROOMS];
			memset(count, 0, sizeof(count));
			for (uint32_t x = 0; x < 5000; x++)
				if (where[x])
					count[where[x]]++;
			for (uint32_t id = 1; id < RAND_ROOMS; id++)
				if (count[id] != r.room[id].users)
					book++;
		}
	}
	CU_ASSERT_EQUAL(over, 0);
	CU_ASSERT_EQUAL(placed_full, 0);
	CU_ASSERT_EQUAL(book, 0);
	CU_ASSERT_EQUAL(wrong_room, 0);
	CU_ASSERT_EQUAL(early_past, 0);
	CU_ASSERT_EQUAL(no_room_with_seat, 0);
	CU_ASSERT_EQUAL(uncovered, 0);
	CU_ASSERT(checked > 10000);
	CU_ASSERT(fallbacks > 0);            /* the duel pool ran out of ids */
	CU_ASSERT(r.st.seated_beyond_target > 0);
	CU_ASSERT(r.st.refusals > 0);
	CU_ASSERT(r.st.admits_reserved > 0);
	/* the records ran out (no reservation's time is over in 0.2 s) */
	CU_ASSERT(r.st.resv_consumed_evicted > 0);
	hc_rooms_free(&r);
}

static void test_policy_file(void)
{
	char path[] = "/tmp/hc_policy_XXXXXX", err[256];
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "[control]\nbalance_interval_ms = 250\ncooldown_ms=5000\n\n"
		   "[pool.lobby]\nid = 3\nmin = 15\nmax = 100\n\n"
		   "[pool.duel]\nid = 8\nmin = 2\nmax = 4\ntarget = 2\nfill = max\n");
	fclose(f);
	hc_policy_defaults(&pol);
	CU_ASSERT_EQUAL(hc_policy_load(&pol, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(pol.balance_interval_ms, 250);
	CU_ASSERT_EQUAL(pol.cooldown_ms, 5000);
	CU_ASSERT_EQUAL(pol.reservation_ttl_ms, 5000); /* default kept */
	CU_ASSERT_EQUAL(pol.n_pools, 2);
	CU_ASSERT_PTR_NULL(hc_policy_pool(&pol, 0));    /* the file replaced it */
	const struct hc_pool_cfg *l = hc_policy_pool(&pol, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(l->target, 50);
	CU_ASSERT_STRING_EQUAL(l->name, "lobby");
	CU_ASSERT_EQUAL(l->fill, HC_FILL_TARGET);        /* the default */
	CU_ASSERT_EQUAL(hc_policy_pool(&pol, 8)->max, 4);
	CU_ASSERT_EQUAL(hc_policy_pool(&pol, 8)->fill, HC_FILL_MAX);

	f = fopen(path, "w");
	fprintf(f, "[pool.bad]\nid = 1\nmin = 60\nmax = 100\n");
	fclose(f);
	CU_ASSERT_EQUAL(hc_policy_load(&pol, path, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "2 * min <= max"));
	f = fopen(path, "w");
	fprintf(f, "[control]\ncooldown_ms = soon\n");
	fclose(f);
	CU_ASSERT_EQUAL(hc_policy_load(&pol, path, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cooldown_ms"));
	f = fopen(path, "w");
	fprintf(f, "[pool.x]\nid = 1\nmin = 15\nmax = 100\nfill = most\n");
	fclose(f);
	CU_ASSERT_EQUAL(hc_policy_load(&pol, path, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":5: [pool.x] fill: 'most': neither 'target' nor 'max'"));
	f = fopen(path, "w");
	fprintf(f, "[pool.x]\nid = 1\nmin = 15\nmax = 100\nfil = max\n"); /* a typo */
	fclose(f);
	CU_ASSERT_EQUAL(hc_policy_load(&pol, path, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":5: [pool.x] fil: unknown key"));
	f = fopen(path, "w");
	fprintf(f, "[pools]\nid = 1\n");
	fclose(f);
	CU_ASSERT_EQUAL(hc_policy_load(&pol, path, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(hc_policy_load(&pol, "/nonexistent/x.ini", err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(pol.n_pools, 2); /* unchanged by failures */
	unlink(path);

	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "3:lobby:10:80", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_policy_pool(&pol, 3)->max, 80);
	CU_ASSERT_EQUAL(hc_policy_pool(&pol, 3)->target, 40);
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "3:lobby:10", err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "70000:x:1:4", err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:x:5:50:60", err, sizeof(err)), -1);
	/* a name as a file's [pool.NAME] (telemetry and metrics carry it) */
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:caf\xc3\xa9:5:50", err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "--pool '4:caf\xc3\xa9:5:50': a name is letters, digits, "
			       "'.', '_' and '-' (as a file's [pool.NAME])");
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:a\"b:5:50", err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:a b:5:50", err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(hc_policy_pool(&pol, 4), NULL);
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:raid-2.eu_west:5:50", err, sizeof(err)), 0);

	/* the fill policy: the sixth field, target by default */
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:x:5:50:20:max", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_policy_pool(&pol, 4)->fill, HC_FILL_MAX);
	CU_ASSERT_EQUAL(hc_policy_pool(&pol, 4)->target, 20);
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:x:5:50:20:target", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_policy_pool(&pol, 4)->fill, HC_FILL_TARGET);
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:x:5:50:20:max", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:x:5:50:20", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_policy_pool(&pol, 4)->fill, HC_FILL_TARGET); /* replaced whole */
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:x:5:50:20:full", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "FILL 'full' is neither 'target' nor 'max'"));
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:x:5:50:max", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "expected ID:NAME:MIN:MAX[:TARGET[:FILL]]"));
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:x:5:50:20:max:7", err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "4:x:5:50:20:Max", err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(hc_policy_pool(&pol, 4)->fill, HC_FILL_TARGET); /* failures change nothing */
}

static unsigned resends;
static uint16_t last_attempt;
static int count_resend(void *ctx, const struct hc_directive *x, uint64_t now)
{
	(void)ctx;
	(void)now;
	resends++;
	last_attempt = x->attempt;
	return 0;
}

static void test_directives(void)
{
	struct hc_directives dd;
	CU_ASSERT_EQUAL_FATAL(hc_directives_init(&dd, "t_dirs", 1024, 100, 2), 0);
	uint32_t a = hc_directives_add(&dd, 1, 10, 20, 7, 0);
	uint32_t b = hc_directives_add(&dd, 2, 10, 20, 7, 0);
	hc_directives_add(&dd, 3, 11, 21, 8, 0);
	CU_ASSERT(a != 0 && b == a + 1);
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, 1, 10), 0); /* its from: nothing */
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, 1, 20), 1);
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 99, count_resend, NULL), 0);
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 100, count_resend, NULL), 2);
	CU_ASSERT_EQUAL(last_attempt, 1);
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, 2, 20), 1);
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 200, count_resend, NULL), 1); /* user 3 */
	CU_ASSERT_EQUAL(last_attempt, 2);
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 300, count_resend, NULL), 0); /* given up */
	CU_ASSERT_EQUAL(dd.st.sent, 3);
	CU_ASSERT_EQUAL(dd.st.done, 2);
	CU_ASSERT_EQUAL(dd.st.resent, 3);
	CU_ASSERT_EQUAL(dd.st.given_up, 1);
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, 3, 21), 0); /* too late */
	/* a newer directive replaces the user's older one */
	hc_directives_add(&dd, 5, 1, 2, 1, 400);
	hc_directives_add(&dd, 5, 1, 3, 1, 410);
	CU_ASSERT_EQUAL(dd.st.replaced, 1);
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, 5, 1), 0);
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, 5, 3), 1);
	/* a JOIN into a third room ends the directive (counted cancelled):
	 * its MOVE can no longer be obeyed */
	hc_directives_add(&dd, 6, 1, 2, 1, 420);
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, 6, 9), 0);
	CU_ASSERT_EQUAL(dd.st.cancelled, 1);
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, 6, 2), 0); /* gone */
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 10000, count_resend, NULL), 0);
	hc_directives_free(&dd);
}

/* A fresh book (64 rooms) and a directive table of cap whose MOVEs hold
 * their seats in it; two rooms opened, in *a and *b. */
static void fresh_seated(struct hc_directives *dd, const char *name, uint32_t cap,
			 uint32_t *a, uint32_t *b)
{
	fresh(64);
	CU_ASSERT_EQUAL_FATAL(hc_directives_init(dd, name, cap, 100, 1), 0);
	hc_directives_on_seat_free(dd, hc_rooms_seat_free_cb, &r);
	*a = hc_rooms_open(&r, 0);
	*b = hc_rooms_open(&r, 0);
	CU_ASSERT_FATAL(*a != 0 && *b != 0);
}

/* A MOVE's seat is held by its directive alone (no reservation record):
 * taken by the user's JOIN there, given back when the directive is given
 * up, replaced, pushed out of a full ring or completed on another seat;
 * a LEAVE keeps it until the deadline, for a MOVE obeyed as LEAVE + JOIN. */
/* A reload lowers max under seats kept before it: a reserved seat (a
 * placement's) or a held one (a directive's) is taken only while the
 * users seated leave room below the new max; the rest are refused, their
 * seats given back (kept_seats_refused), and the room never holds more
 * than the new max.  A JOIN applied without admission (force) is still
 * seated, counted over_max. */
static void test_kept_seats_after_max_lowered(void)
{
	static struct hc_policy np;
	fresh(64);
	uint64_t u = 1;
	fill(1, 38, &u);
	for (uint64_t k = 0; k < 4; k++)
		CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, 1000 + k, 0), 1); /* 42 */
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, 1), 1);                   /* 43 */
	CU_ASSERT_EQUAL(hc_room_occupancy(&r.room[1]), 43);
	np = pol;
	np.pool[0].max = 40;
	np.pool[0].target = 20;
	struct hc_rooms_repool x;
	char err[200];
	CU_ASSERT_EQUAL_FATAL(hc_rooms_repool_prepare(&r, &np, &x, err, sizeof(err)), 0);
	hc_rooms_repool_commit(&r, &np, &x, HZ, 100);
	uint64_t refusals = r.st.refusals;
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, 1, 0, 1000, 200), HC_ROOMS_ADMITTED_KEPT); /* 39 */
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, 1, 0, 1001, 200), HC_ROOMS_ADMITTED_KEPT); /* 40 */
	uint32_t live = hc_rooms_resv_live(&r), records = hc_rooms_resv_records(&r);
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, 1, 0, 1002, 200), 0);
	/* the record forgotten, not kept consumed (a late resend of the
	 * PLACE would be told room 1 again) */
	CU_ASSERT_EQUAL(hc_rooms_resv_live(&r), live - 1);
	CU_ASSERT_EQUAL(hc_rooms_resv_records(&r), records - 1);
	CU_ASSERT_EQUAL(hc_rooms_admit_on_seat(&r, 1, 0), 0);
	CU_ASSERT_EQUAL(r.room[1].users, 40);
	CU_ASSERT_EQUAL(r.room[1].reserved, 1); /* 1003's, still kept */
	CU_ASSERT_EQUAL(r.held_now, 0);
	CU_ASSERT_EQUAL(r.st.kept_seats_refused, 2);
	CU_ASSERT_EQUAL(r.st.refusals, refusals + 2);
	CU_ASSERT_EQUAL(r.st.over_max, 0);
	/* without admission the JOIN was applied: seated, counted */
	CU_ASSERT_EQUAL(hc_rooms_record_join(&r, 1, 0, 1003, 200), 1);
	CU_ASSERT_EQUAL(r.room[1].users, 41);
	CU_ASSERT_EQUAL(r.room[1].reserved, 0);
	CU_ASSERT_EQUAL(r.st.over_max, 1);
	CU_ASSERT_EQUAL(r.st.kept_seats_refused, 2);
	/* below the lowered max again: a kept seat is taken as before */
	for (uint64_t k = 1; k <= 3; k++)
		hc_rooms_leave(&r, 1);
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, 1), 1);
	CU_ASSERT_EQUAL(hc_rooms_admit_on_seat(&r, 1, 0), HC_ROOMS_ADMITTED_KEPT);
	CU_ASSERT_EQUAL(r.room[1].users, 39);
	CU_ASSERT_EQUAL(r.st.kept_seats_refused, 2);
	hc_rooms_free(&r);
}

static void test_directive_seats(void)
{
	struct hc_directives dd;
	uint32_t a, b;
	fresh_seated(&dd, "t_dirs_seats", 4, &a, &b);
	uint64_t unused = 0;

	/* taken by the JOIN into `to`, not by one elsewhere */
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, a), 1);
	CU_ASSERT(hc_directives_add(&dd, 1, b, a, 7, 0) != 0);
	CU_ASSERT_EQUAL(r.room[a].reserved, 1);
	CU_ASSERT_EQUAL(r.held_now, 1);
	CU_ASSERT_EQUAL(hc_rooms_resv_live(&r), 0); /* no reservation record */
	CU_ASSERT_TRUE(hc_directives_holds_seat(&dd, 1, a));
	CU_ASSERT_FALSE(hc_directives_holds_seat(&dd, 1, b));
	CU_ASSERT_FALSE(hc_directives_holds_seat(&dd, 2, a));
	CU_ASSERT_EQUAL(hc_directives_take_seat(&dd, 1, b), 0);
	CU_ASSERT_EQUAL(hc_directives_take_seat(&dd, 1, a), 1);
	CU_ASSERT_EQUAL(hc_rooms_admit_on_seat(&r, a, 0), HC_ROOMS_ADMITTED_KEPT);
	CU_ASSERT_EQUAL(r.room[a].users, 1);
	CU_ASSERT_EQUAL(r.room[a].reserved, 0);
	CU_ASSERT_EQUAL(r.held_now, 0);
	CU_ASSERT_EQUAL(dd.st.done, 1);
	CU_ASSERT_EQUAL(dd.st.seats_taken, 1);
	CU_ASSERT_EQUAL(hc_directives_take_seat(&dd, 1, a), 0); /* once */

	/* kept across a resend, given back when given up */
	resends = 0;
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, a), 1);
	hc_directives_add(&dd, 2, b, a, 7, 0);
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 100, count_resend, NULL), 1);
	CU_ASSERT_EQUAL(r.room[a].reserved, 1);
	CU_ASSERT_TRUE(hc_directives_holds_seat(&dd, 2, a));
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 200, count_resend, NULL), 0);
	CU_ASSERT_EQUAL(dd.st.given_up, 1);
	CU_ASSERT_EQUAL(r.room[a].reserved, 0);
	CU_ASSERT_EQUAL(dd.st.seats_freed, 1);

	/* replaced: the older seat back; seated on another seat: back too */
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, a), 1);
	hc_directives_add(&dd, 3, b, a, 7, 300);
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, b), 1);
	hc_directives_add(&dd, 3, a, b, 7, 300);
	CU_ASSERT_EQUAL(dd.st.replaced, 1);
	CU_ASSERT_EQUAL(r.room[a].reserved, 0);
	CU_ASSERT_EQUAL(r.room[b].reserved, 1);
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, 3, b), 1); /* e.g. a leased seat */
	CU_ASSERT_EQUAL(r.room[b].reserved, 0);
	CU_ASSERT_EQUAL(r.held_now, 0);

	/* a LEAVE cancels the directive, not the seat: the JOIN after it
	 * still takes it (counted cancelled, not done); without that JOIN
	 * the seat goes back a whole timeout after the LEAVE, nothing resent */
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, a), 1);
	hc_directives_add(&dd, 4, b, a, 7, 400);
	CU_ASSERT_EQUAL(hc_directives_cancel(&dd, 4, 400), 1);
	CU_ASSERT_EQUAL(hc_directives_cancel(&dd, 4, 400), 0);
	CU_ASSERT_EQUAL(r.room[a].reserved, 1);
	uint64_t done = dd.st.done;
	CU_ASSERT_EQUAL(hc_directives_take_seat(&dd, 4, a), HC_DIR_SEAT_TAKEN);
	hc_rooms_admit_on_seat(&r, a, 0);
	CU_ASSERT_EQUAL(dd.st.done, done);
	CU_ASSERT_EQUAL(dd.st.cancelled, 1);
	CU_ASSERT_EQUAL(r.room[a].users, 2);
	CU_ASSERT_EQUAL(r.room[a].reserved, 0);
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, b), 1);
	hc_directives_add(&dd, 5, a, b, 7, 500);     /* deadline 600 */
	CU_ASSERT_EQUAL(hc_directives_cancel(&dd, 5, 590), 1); /* kept to 690 */
	resends = 0;
	uint64_t freed = dd.st.seats_freed;
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 600, count_resend, NULL), 0);
	CU_ASSERT_EQUAL(r.room[b].reserved, 1);
	CU_ASSERT_TRUE(hc_directives_holds_seat(&dd, 5, b));
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 689, count_resend, NULL), 0);
	CU_ASSERT_EQUAL(r.room[b].reserved, 1);
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 690, count_resend, NULL), 0);
	CU_ASSERT_EQUAL(resends, 0);
	CU_ASSERT_EQUAL(r.room[b].reserved, 0);
	CU_ASSERT_EQUAL(dd.st.seats_freed, freed + 1);
	CU_ASSERT_EQUAL(dd.st.given_up, 1); /* (unchanged: counted cancelled) */
	CU_ASSERT_EQUAL(hc_directives_in_flight(&dd), 0);

	/* a cancelled directive replaced, or pushed out of the full ring:
	 * its seat back, not counted again */
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, b), 1);
	hc_directives_add(&dd, 6, a, b, 7, 700);
	hc_directives_cancel(&dd, 6, 700);
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, a), 1);
	hc_directives_add(&dd, 6, b, a, 7, 700);
	CU_ASSERT_EQUAL(dd.st.replaced, 1);
	CU_ASSERT_EQUAL(r.room[b].reserved, 0);
	CU_ASSERT_EQUAL(r.room[a].reserved, 1);
	hc_directives_cancel(&dd, 6, 700);
	/* the ring (4) is full at the 5th: the oldest live (user 6's, cancelled)
	 * goes first, then user 10's (given up) */
	for (uint64_t u = 10; u < 15; u++) {
		CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, b), 1);
		CU_ASSERT(hc_directives_add(&dd, u, a, b, 7, 700) != 0);
	}
	CU_ASSERT_EQUAL(dd.st.given_up, 2);
	CU_ASSERT_EQUAL(dd.st.replaced, 1);
	CU_ASSERT_EQUAL(r.room[a].reserved, 0);
	CU_ASSERT_EQUAL(r.room[b].reserved, 4);
	CU_ASSERT_FALSE(hc_directives_holds_seat(&dd, 6, a));
	CU_ASSERT_FALSE(hc_directives_holds_seat(&dd, 10, b));
	CU_ASSERT_TRUE(hc_directives_holds_seat(&dd, 14, b));
	CU_ASSERT_EQUAL(r.held_now, 4);
	CU_ASSERT_EQUAL(hc_directives_in_flight(&dd), 4);
	/* a LEAVE in the full ring: cancelled in place, nobody pushed out */
	CU_ASSERT_EQUAL(hc_directives_cancel(&dd, 12, 750), 1);
	CU_ASSERT_EQUAL(dd.st.given_up, 2);
	CU_ASSERT_TRUE(hc_directives_holds_seat(&dd, 11, b));
	CU_ASSERT_TRUE(hc_directives_holds_seat(&dd, 12, b));
	CU_ASSERT_EQUAL(hc_directives_in_flight(&dd), 3);

	/* a NEW_TOPIC into a room holds no seat: its JOIN is admitted as
	 * any other, then completes it (it pushed user 11's out) */
	CU_ASSERT(hc_directives_add_new_topic(&dd, 20, a, b, 7, 0, 700) != 0);
	CU_ASSERT_EQUAL(dd.st.given_up, 3);
	CU_ASSERT_EQUAL(r.held_now, 3);
	/* a JOIN into the refused room is another room (ended if admitted) */
	CU_ASSERT_EQUAL(hc_directives_take_seat(&dd, 20, a), HC_DIR_ELSEWHERE);
	CU_ASSERT_EQUAL(hc_directives_take_seat(&dd, 20, b), HC_DIR_INTO_ROOM);
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, 20, b), 1);
	CU_ASSERT_EQUAL(hc_directives_take_seat(&dd, 20, b), HC_DIR_NONE);

	/* a shorter timeout reloaded: nothing waits past now + it; then all
	 * given up, every seat back */
	hc_directives_retime(&dd, 10, 0, 750); /* (their deadlines: 800) */
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 759, count_resend, NULL), 0);
	CU_ASSERT_EQUAL(r.held_now, 3);
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 760, count_resend, NULL), 0);
	CU_ASSERT_EQUAL(r.held_now, 0);
	CU_ASSERT_EQUAL(r.room[b].reserved, 0);
	CU_ASSERT_EQUAL(hc_directives_in_flight(&dd), 0);
	CU_ASSERT_EQUAL(dd.st.seats_freed + dd.st.seats_taken, r.st.seats_held);
	CU_ASSERT_EQUAL(r.st.seat_errors, 0);
	hc_directives_free(&dd);

	/* no seat in a full room; a held seat given back where none is held
	 * (a reservation's is there) is counted and changes nothing */
	fill(a, 98, &unused);
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, a), 0);
	CU_ASSERT_EQUAL(r.room[a].reserved, 0);
	hc_rooms_free_seat(&r, a);
	CU_ASSERT_EQUAL(r.st.seat_errors, 1);
	CU_ASSERT_EQUAL(r.room[a].reserved, 0);
	CU_ASSERT_EQUAL(r.room[a].users, 100);
	CU_ASSERT_EQUAL(hc_rooms_reserve(&r, b, 30, 0), 1);
	hc_rooms_free_seat(&r, b);
	CU_ASSERT_EQUAL(r.st.seat_errors, 2);
	CU_ASSERT_EQUAL(r.room[b].reserved, 1);
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, b, 0, 30, 0), HC_ROOMS_ADMITTED_KEPT);
	CU_ASSERT_EQUAL(r.room[b].reserved, 0);
	hc_rooms_free(&r);
}

/* An HA demotion drops every directive: live, cancelled (a LEAVE keeps
 * its seat a whole timeout) and NEW_TOPIC alike end, their seats given
 * back, nothing resent later; the table takes new ones after. */
static void test_directives_drop_all(void)
{
	struct hc_directives dd;
	uint32_t a, b;
	fresh_seated(&dd, "t_dirs_drop", 8, &a, &b);
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, a), 1);
	hc_directives_add(&dd, 1, b, a, 7, 0);
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, a), 1);
	hc_directives_add(&dd, 2, b, a, 7, 0);
	CU_ASSERT_EQUAL(hc_directives_cancel(&dd, 2, 10), 1); /* seat kept */
	hc_directives_add_new_topic(&dd, 3, b, a, 7, 0, 0);
	CU_ASSERT_EQUAL(r.room[a].reserved, 2);
	CU_ASSERT_EQUAL(dd.topics_open, 1);
	hc_directives_drop_all(&dd);
	CU_ASSERT_EQUAL(dd.count, 0);
	CU_ASSERT_EQUAL(dd.st.dropped, 2);   /* not the cancelled one */
	CU_ASSERT_EQUAL(dd.topics_open, 0);
	CU_ASSERT_EQUAL(r.room[a].reserved, 0);
	CU_ASSERT_EQUAL(r.held_now, 0);
	CU_ASSERT_EQUAL(hc_directives_in_flight(&dd), 0);
	CU_ASSERT_FALSE(hc_directives_holds_seat(&dd, 1, a));
	resends = 0;
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, UINT64_MAX, count_resend, NULL), 0);
	CU_ASSERT_EQUAL(resends, 0);
	CU_ASSERT(hc_directives_add(&dd, 1, b, a, 7, 0) != 0); /* taken again */
	CU_ASSERT_EQUAL(dd.count, 1);
	hc_directives_free(&dd);
}

/* A moved user admitted into a third room: the directive ends, its seat
 * back (counted cancelled), as its MOVE can no longer be obeyed; a JOIN
 * into its from room changes nothing. */
static void test_directive_third_room(void)
{
	struct hc_directives dd;
	uint32_t a, b;
	fresh_seated(&dd, "t_dirs_third", 16, &a, &b);
	CU_ASSERT_EQUAL(hc_rooms_hold_seat(&r, a), 1);
	hc_directives_add(&dd, 7, b, a, 7, 0);
	CU_ASSERT_EQUAL(hc_directives_take_seat(&dd, 7, b), HC_DIR_NONE);
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, 7, b), 0);
	CU_ASSERT_TRUE(hc_directives_holds_seat(&dd, 7, a));
	CU_ASSERT_EQUAL(hc_directives_take_seat(&dd, 7, 60), HC_DIR_ELSEWHERE);
	CU_ASSERT_TRUE(hc_directives_holds_seat(&dd, 7, a)); /* (not before admission) */
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, 7, 60), 0);
	CU_ASSERT_FALSE(hc_directives_holds_seat(&dd, 7, a));
	CU_ASSERT_EQUAL(r.room[a].reserved, 0);
	CU_ASSERT_EQUAL(r.held_now, 0);
	CU_ASSERT_EQUAL(dd.st.cancelled, 1);
	CU_ASSERT_EQUAL(dd.st.seats_freed, 1);
	CU_ASSERT_EQUAL(hc_directives_in_flight(&dd), 0);
	resends = 0;
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 1000, count_resend, NULL), 0);
	CU_ASSERT_EQUAL(resends, 0);
	hc_directives_free(&dd);
	hc_rooms_free(&r);
}

/* n users (from 1 up) whose home in index x is the same. */
static unsigned crowd_of(const struct hc_keyidx *x, uint64_t *users, unsigned n)
{
	uint32_t home = hc_keyidx_home(x, 1);
	unsigned k = 0;
	for (uint64_t u = 1; k < n && u < 100000000; u++)
		if (hc_keyidx_home(x, u) == home)
			users[k++] = u;
	return k;
}

/* A crowded home in the directive index: the 65th user of one home gets
 * no directive (0, counted refused, not sent) and nothing else changes;
 * in the reservation index: no seat (reserve and place answer 0, counted),
 * the room's reserved seats unchanged. */
static void test_crowded_home_control(void)
{
	enum { CROWD = HC_KEYIDX_MAX_DIST + 2 };
	uint64_t u[CROWD];
	struct hc_directives dd;
	CU_ASSERT_EQUAL_FATAL(hc_directives_init(&dd, "t_dirs_crowd", 1024, 100, 2), 0);
	CU_ASSERT_EQUAL_FATAL(crowd_of(&dd.by_user, u, CROWD), CROWD);
	unsigned bad = 0;
	for (unsigned i = 0; i + 1 < CROWD; i++)
		bad += hc_directives_add(&dd, u[i], 1, 2, 3, 0) == 0;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(hc_directives_add(&dd, u[CROWD - 1], 1, 2, 3, 0), 0);
	CU_ASSERT_EQUAL(dd.st.refused, 1);
	CU_ASSERT_EQUAL(dd.st.sent, CROWD - 1);
	CU_ASSERT_EQUAL(hc_directives_in_flight(&dd), CROWD - 1);
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, u[CROWD - 1], 2), 0);
	CU_ASSERT_EQUAL(hc_directives_joined(&dd, u[5], 2), 1); /* one done: room */
	CU_ASSERT(hc_directives_add(&dd, u[CROWD - 1], 1, 2, 3, 0) != 0);
	/* the slot refused stays dead: expiry resends the CROWD - 1 live ones */
	CU_ASSERT_EQUAL(hc_directives_expire(&dd, 100, count_resend, NULL), CROWD - 1);
	hc_directives_free(&dd);

	fresh(64);
	CU_ASSERT_EQUAL_FATAL(crowd_of(&r.resv_by_user, u, CROWD), CROWD);
	uint32_t a = hc_rooms_open(&r, 0), b = hc_rooms_open(&r, 0);
	CU_ASSERT_FATAL(a != 0 && b != 0);
	for (unsigned i = 0; i + 1 < CROWD; i++)
		bad += hc_rooms_reserve(&r, a, u[i], 0) != 1;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(r.room[a].reserved, CROWD - 1);
	CU_ASSERT_EQUAL(hc_rooms_reserve(&r, b, u[CROWD - 1], 0), 0);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, 0, u[CROWD - 1], 0), 0);
	CU_ASSERT_EQUAL(r.st.resv_refused, 2);
	CU_ASSERT_EQUAL(r.st.placements, 0);
	CU_ASSERT_EQUAL(r.room[b].reserved, 0);
	CU_ASSERT_EQUAL(hc_rooms_resv_live(&r), CROWD - 1);
	CU_ASSERT_FALSE(hc_rooms_has_reservation(&r, u[CROWD - 1]));
	/* a user of the crowd re-reserving keeps working (its own entry) */
	CU_ASSERT_EQUAL(hc_rooms_reserve(&r, b, u[0], 0), 1);
	CU_ASSERT_EQUAL(r.room[a].reserved, CROWD - 2);
	CU_ASSERT_EQUAL(r.room[b].reserved, 1);
	hc_rooms_free(&r);
}

/* Reservations made for a gateway's PLACEs are counted per gateway (its
 * quota): consumed by the JOIN, given back when cancelled or expired. */
static void test_reservations_per_gateway(void)
{
	fresh(64);
	uint32_t a = hc_rooms_place_for(&r, 0, 1, 5, 0);
	hc_rooms_place_for(&r, 0, 2, 5, 0);
	hc_rooms_place_for(&r, 0, 3, 6, 0);
	hc_rooms_place(&r, 0, 4, 0);                 /* no gateway: counts for 0 */
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&r, 5), 2);
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&r, 6), 1);
	CU_ASSERT_TRUE(hc_rooms_has_reservation(&r, 1));
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, a, 0, 1, 0), HC_ROOMS_ADMITTED_KEPT); /* the JOIN takes it */
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&r, 5), 1);
	CU_ASSERT_FALSE(hc_rooms_has_reservation(&r, 1));
	hc_rooms_place_for(&r, 0, 2, 5, 0);          /* asked again: the same seat */
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&r, 5), 1);
	hc_rooms_expire(&r, 10 * HZ);                /* the rest expire */
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&r, 5), 0);
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&r, 6), 0);
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&r, 0), 0);
	hc_rooms_free(&r);
}

/* A gateway that cancels or uses its own reservations as fast as it
 * makes them (PLACE a new user, JOIN the user elsewhere or into the seat,
 * LEAVE, again), within a quota of one live seat: a cancelled record is
 * free at once, a consumed one is kept until the records run out, then
 * the oldest consumed one goes.  Another gateway's live reservation
 * stays and none expires early; every list stays whole.  Records all
 * live still evict the oldest. */
static void test_reservation_records_churned(void)
{
	fresh(64); /* 4,096 records */
	uint64_t u = 1000;
	fill(40, 50, &u);                         /* the attacker's way out */
	uint32_t v = hc_rooms_place_for(&r, 0, 7, 2, 0); /* the victim's seat */
	CU_ASSERT_NOT_EQUAL_FATAL(v, 0);
	uint32_t k = hc_rooms_place_request(&r, 0, 8, 3, 55, 0); /* a seat then taken */
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, k, 0, 8, 0), HC_ROOMS_ADMITTED_KEPT);
	for (unsigned i = 0; i < 3 * 4096; i++) {
		uint64_t a = 20000 + i; /* a new user each time */
		uint32_t p = hc_rooms_place_for(&r, 0, a, 1, 0);
		CU_ASSERT_NOT_EQUAL(p, 0);
		uint32_t into = i % 2 ? 40 : p; /* elsewhere (freed), or the seat (consumed) */
		CU_ASSERT_EQUAL(hc_rooms_admit(&r, into, 0, a, 0), i % 2 ? 1 : HC_ROOMS_ADMITTED_KEPT);
		hc_rooms_leave(&r, into);
	}
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&r, 1), 0);
	CU_ASSERT_EQUAL(r.st.expired, 0);
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&r, 2), 1); /* the victim's: live */
	CU_ASSERT_TRUE(hc_rooms_has_reservation(&r, 7));
	CU_ASSERT_EQUAL(r.room[v].reserved, 1);
	/* 6,145 consumed (user 8's and every other attacker's); the records
	 * full, 4,095 of them kept beside the victim's, the oldest gone first */
	CU_ASSERT_EQUAL(hc_rooms_resv_records(&r), 4095); /* (the last one's JOIN went elsewhere) */
	CU_ASSERT_EQUAL(r.resv_fifo[0].n, 1);
	CU_ASSERT_EQUAL(r.resv_fifo[1].n, 4094);
	CU_ASSERT_EQUAL(r.st.resv_consumed_evicted, 3 * 4096 / 2 + 1 - 4094);
	/* user 8's, the oldest consumed, was forgotten first: a resend of its
	 * PLACE is placed anew */
	uint32_t k2 = hc_rooms_place_request(&r, 0, 8, 3, 55, 0);
	CU_ASSERT_NOT_EQUAL(k2, 0);
	CU_ASSERT_EQUAL(r.st.placements_late, 0);
	/* the lists, walked both ways, hold every record in use once */
	uint32_t seen = 0;
	for (unsigned l = 0; l < 2; l++) {
		uint32_t n = 0, prev = HC_RESV_NIL;
		for (uint32_t s2 = r.resv_fifo[l].first; s2 != HC_RESV_NIL && n <= 4096;
		     s2 = r.resv[s2].next, n++) {
			CU_ASSERT_EQUAL(r.resv[s2].prev, prev);
			CU_ASSERT_EQUAL(r.resv[s2].consumed, l);
			CU_ASSERT_NOT_EQUAL(r.resv[s2].room, 0);
			prev = s2;
		}
		CU_ASSERT_EQUAL(prev, r.resv_fifo[l].last);
		CU_ASSERT_EQUAL(n, r.resv_fifo[l].n);
		seen += n;
	}
	CU_ASSERT_EQUAL(seen, hc_rooms_resv_records(&r));
	/* the victim's JOIN takes its seat */
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, v, 0, 7, 0), HC_ROOMS_ADMITTED_KEPT);
	CU_ASSERT_EQUAL(r.room[v].reserved, k2 == v); /* (user 8's new seat, if there) */
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&r, 2), 0);
	CU_ASSERT_EQUAL(hc_rooms_resv_live(&r), 1); /* user 8's PLACE, placed anew above */

	hc_rooms_free(&r);

	/* every record live: the oldest expires early, as before */
	fresh(1024);
	unsigned placed = 0;
	for (uint64_t i = 0; i < 4096 + 1; i++)
		placed += hc_rooms_place_for(&r, 0, 100000 + i, (uint16_t)(10 + i % 1000), 0) != 0;
	CU_ASSERT_EQUAL(placed, 4096 + 1);
	CU_ASSERT_EQUAL(r.st.expired, 1);
	CU_ASSERT_EQUAL(r.st.resv_consumed_evicted, 0);
	CU_ASSERT_FALSE(hc_rooms_has_reservation(&r, 100000));
	CU_ASSERT_TRUE(hc_rooms_has_reservation(&r, 100001));
	CU_ASSERT_TRUE(hc_rooms_has_reservation(&r, 100000 + 4096));
	hc_rooms_free(&r);
}

/* A PLACE resent after its JOIN took the seat (the answer was slow) gets
 * the same room and reserves nothing; a new PLACE of the same user (a new
 * request id) is placed anew; the kept record ends with the seat's time. */
static void test_late_resend(void)
{
	fresh(64);
	uint32_t a = hc_rooms_place_request(&r, 0, 1, 5, 77, 0);
	CU_ASSERT_EQUAL(r.room[a].reserved, 1);
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, a, 0, 1, 0), HC_ROOMS_ADMITTED_KEPT);
	CU_ASSERT_EQUAL(r.room[a].reserved, 0);
	CU_ASSERT_EQUAL(r.room[a].users, 1);
	CU_ASSERT_EQUAL(hc_rooms_resv_live(&r), 0);
	CU_ASSERT_EQUAL(hc_rooms_place_request(&r, 0, 1, 5, 77, 0), a);   /* late resend */
	CU_ASSERT_EQUAL(r.room[a].reserved, 0);
	CU_ASSERT_EQUAL(r.st.placements_late, 1);
	CU_ASSERT_EQUAL(r.st.placements, 1);
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&r, 5), 0);
	CU_ASSERT_EQUAL(hc_rooms_place_request(&r, 0, 1, 6, 77, 0), a);   /* another gateway's */
	CU_ASSERT_EQUAL(r.room[a].reserved, 1);                         /* ... is a new PLACE */
	CU_ASSERT_EQUAL(r.st.placements, 2);
	hc_rooms_expire(&r, 10 * HZ);
	CU_ASSERT_EQUAL(r.room[a].reserved, 0);
	CU_ASSERT_EQUAL(hc_rooms_resv_live(&r), 0);
	/* consumed, then expired: a resend now is placed anew */
	uint32_t b = hc_rooms_place_request(&r, 0, 2, 5, 9, 10 * HZ);
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, b, 0, 2, 10 * HZ), HC_ROOMS_ADMITTED_KEPT);
	hc_rooms_expire(&r, 20 * HZ);
	hc_rooms_place_request(&r, 0, 2, 5, 9, 20 * HZ);
	CU_ASSERT_EQUAL(r.st.placements_late, 1);
	CU_ASSERT_EQUAL(hc_rooms_resv_live(&r), 1);
	hc_rooms_free(&r);

	/* consumed in another order than made: the consumed list keeps the
	 * JOINs' order, so one that expired behind a later one waits for it,
	 * and meanwhile answers no resend */
	fresh(64);
	uint64_t ttl = pol.reservation_ttl_ms * (HZ / 1000);
	uint32_t c1 = hc_rooms_place_request(&r, 0, 11, 5, 1, 0);       /* expires at ttl */
	uint32_t c2 = hc_rooms_place_request(&r, 0, 12, 5, 2, HZ / 2); /* at ttl + 0.5 s */
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, c2, 0, 12, HZ / 2), HC_ROOMS_ADMITTED_KEPT);
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, c1, 0, 11, HZ), HC_ROOMS_ADMITTED_KEPT);
	CU_ASSERT_EQUAL(r.resv_fifo[1].n, 2);
	hc_rooms_expire(&r, ttl + HZ / 4); /* 11's time is over, 12's not */
	CU_ASSERT_EQUAL(r.resv_fifo[1].n, 2);  /* 11's waits behind 12's */
	CU_ASSERT_EQUAL(hc_rooms_place_request(&r, 0, 12, 5, 2, ttl + HZ / 4), c2); /* in time */
	CU_ASSERT_EQUAL(r.st.placements_late, 1);
	hc_rooms_place_request(&r, 0, 11, 5, 1, ttl + HZ / 4); /* too late: anew */
	CU_ASSERT_EQUAL(r.st.placements_late, 1);
	CU_ASSERT_EQUAL(r.st.placements, 3);
	CU_ASSERT_EQUAL(hc_rooms_resv_live(&r), 1);
	hc_rooms_expire(&r, 3 * ttl);
	CU_ASSERT_EQUAL(hc_rooms_resv_records(&r), 0);
	CU_ASSERT_EQUAL(hc_rooms_resv_live(&r), 0);
	hc_rooms_free(&r);

	/* two records, both in use: a live one whose time is over goes
	 * before a consumed one still in its time (the PLACEs of a poll come
	 * before its expiry) */
	CU_ASSERT_EQUAL_FATAL(hc_rooms_init(&r, "t_rooms_two", &pol, 64, 2, HZ), 0);
	uint32_t d1 = hc_rooms_place_request(&r, 0, 21, 5, 1, 0);       /* due at ttl */
	uint32_t d2 = hc_rooms_place_request(&r, 0, 22, 5, 2, HZ);      /* at ttl + 1 s */
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, d2, 0, 22, HZ + HZ / 10), HC_ROOMS_ADMITTED_KEPT);
	CU_ASSERT_EQUAL(r.room[d1].reserved, 1); /* 21's (22 seated on its own) */
	CU_ASSERT_NOT_EQUAL(hc_rooms_place_request(&r, 0, 23, 5, 3, ttl + HZ / 2), 0);
	CU_ASSERT_EQUAL(r.st.expired, 1);               /* 21's, in its time's order */
	CU_ASSERT_EQUAL(r.st.resv_consumed_evicted, 0); /* 22's kept */
	CU_ASSERT_EQUAL(hc_rooms_place_request(&r, 0, 22, 5, 2, ttl + HZ / 2), d2);
	CU_ASSERT_EQUAL(r.st.placements_late, 1);
	hc_rooms_free(&r);
}

/* Pools with their own room id ranges (sharding, docs/scaling-shards.md):
 * placement stays inside each range, takes ids freed after their grace
 * again, says NO_ROOM when the range is live; the file's ranges are
 * checked (disjoint, on every pool or none). */
static void test_room_ranges(void)
{
	char path[] = "/tmp/hc_policy_XXXXXX", err[256];
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "[control]\nretire_grace_ms = 0\n"
		   "[pool.a]\nid = 1\nmin = 1\nmax = 2\ntarget = 2\nfill = max\nrooms = 40-42\n"
		   "[pool.b]\nid = 2\nmin = 1\nmax = 2\ntarget = 2\nfill = max\nrooms = 10-19\n");
	fclose(f);
	hc_policy_defaults(&pol);
	CU_ASSERT_EQUAL_FATAL(hc_policy_load(&pol, path, err, sizeof(err)), 0);
	unsigned a = pol.index_of[1], b = pol.index_of[2];
	CU_ASSERT_EQUAL(pol.pool[a].room_first, 40);
	CU_ASSERT_EQUAL(pol.pool[a].room_last, 42);
	CU_ASSERT_EQUAL(hc_rooms_init(&r, "t_rooms_range_big", &pol, 42, 4096, HZ), -ERANGE);
	CU_ASSERT_EQUAL_FATAL(hc_rooms_init(&r, "t_rooms_range", &pol, 64, 4096, HZ), 0);
	uint64_t u = 1;
	/* pool a: rooms 40, 41, 42 of two seats each, then NO_ROOM */
	for (uint32_t room = 40; room <= 42; room++) {
		CU_ASSERT_EQUAL(hc_rooms_place(&r, a, u++, 0), room);
		CU_ASSERT_EQUAL(hc_rooms_place(&r, a, u++, 0), room);
	}
	CU_ASSERT_EQUAL(hc_rooms_place(&r, a, u++, 0), 0);
	CU_ASSERT_EQUAL(r.st.no_room, 1);
	/* its range walked whole once: the next PLACEs do not walk it again
	 * (each had, a millisecond at 512 k ids) until an id comes FREE */
	CU_ASSERT_EQUAL(r.pool[a].range_full, 1);
	uint64_t walked = r.st.range_ids_walked;
	for (int i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(hc_rooms_place(&r, a, u++, 0), 0);
	CU_ASSERT_EQUAL(r.st.no_room, 11);
	CU_ASSERT_EQUAL(r.st.range_ids_walked, walked);
	/* pool b meanwhile starts at its own first id */
	CU_ASSERT_EQUAL(hc_rooms_place(&r, b, u++, 0), 10);
	CU_ASSERT_EQUAL(hc_rooms_open(&r, b), 11);
	/* room 41 emptied (its users joined, then left) and retired: its id
	 * is pool a's again */
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, 41, a, 3, 0), HC_ROOMS_ADMITTED_KEPT);
	CU_ASSERT_EQUAL(hc_rooms_admit(&r, 41, a, 4, 0), HC_ROOMS_ADMITTED_KEPT);
	hc_rooms_leave(&r, 41);
	hc_rooms_leave(&r, 41);
	CU_ASSERT_EQUAL(r.room[41].users + r.room[41].reserved, 0);
	CU_ASSERT(hc_rooms_retire(&r, 10) >= 1);
	hc_rooms_retire(&r, 20); /* past the (zero) grace */
	CU_ASSERT_EQUAL(r.room[41].state, HC_ROOM_FREE);
	CU_ASSERT_EQUAL(r.pool[a].range_full, 0);
	CU_ASSERT_EQUAL(r.pool[b].range_full, 0);
	CU_ASSERT_EQUAL(hc_rooms_place(&r, a, u++, 30), 41);
	hc_rooms_free(&r);

	f = fopen(path, "w");
	fprintf(f, "[pool.a]\nid = 1\nmin = 1\nmax = 2\nrooms = 40-49\n"
		   "[pool.b]\nid = 2\nmin = 1\nmax = 2\nrooms = 10-40\n");
	fclose(f);
	CU_ASSERT_EQUAL(hc_policy_load(&pol, path, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "overlap"));
	f = fopen(path, "w");
	fprintf(f, "[pool.a]\nid = 1\nmin = 1\nmax = 2\nrooms = 40-49\n"
		   "[pool.b]\nid = 2\nmin = 1\nmax = 2\n");
	fclose(f);
	CU_ASSERT_EQUAL(hc_policy_load(&pol, path, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "every pool needs one"));
	/* a --pool (no range) after a file with ranges */
	f = fopen(path, "w");
	fprintf(f, "[pool.a]\nid = 1\nmin = 1\nmax = 2\nrooms = 40-49\n");
	fclose(f);
	CU_ASSERT_EQUAL(hc_policy_load(&pol, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(hc_policy_add_spec(&pol, "2:b:1:2", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "every pool needs one"));
	f = fopen(path, "w");
	fprintf(f, "[pool.a]\nid = 1\nmin = 1\nmax = 2\nrooms = 49-40\n");
	fclose(f);
	CU_ASSERT_EQUAL(hc_policy_load(&pol, path, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":5: [pool.a] rooms: '49-40': expected FIRST-LAST"));
	unlink(path);
}

/* A seat book and directives in flight big enough to be outside DPDK's
 * heap (common/hc_bigmem.h: hc-unit runs without hugepages): the room
 * array (32 B a room), the reservation records and the directive ring (and
 * their indexes) from the kernel, counted, working, and given back. */
static void test_big_tables(void)
{
	size_t before = hc_bigmem_bytes();
	struct hc_rooms big;
	struct hc_directives dd;
	uint32_t n = 1u << 17; /* 5 MiB of reservations, 5 MiB of directives */
	hc_policy_defaults(&pol);
	CU_ASSERT_EQUAL_FATAL(hc_rooms_init(&big, "t_big_book", &pol, 1u << 17, n, HZ), 0);
	CU_ASSERT_EQUAL_FATAL(hc_directives_init(&dd, "t_big_dirs", n, 100, 2), 0);
	CU_ASSERT_TRUE(hc_bigmem_outside(sizeof(*big.room) * (1u << 17)));
	CU_ASSERT_TRUE(hc_bigmem_outside(sizeof(*big.resv) * n));
	CU_ASSERT_TRUE(hc_bigmem_outside(sizeof(*dd.ring) * n));
	CU_ASSERT_TRUE(hc_bigmem_bytes() > before);
	/* every reservation taken, each user's directive recorded, then
	 * each JOIN admitted on its kept seat, completing its directive */
	unsigned kept = 0, done = 0;
	uint32_t room = 0;
	for (uint32_t u = 0; u < n; u++) {
		if (u % 90 == 0)
			room = hc_rooms_open(&big, 0);
		CU_ASSERT_EQUAL(hc_rooms_reserve(&big, room, 1000 + u, 0), 1);
		CU_ASSERT_NOT_EQUAL(hc_directives_add(&dd, 1000 + u, 1, room, 1, 0), 0);
	}
	room = 0;
	for (uint32_t u = 0; u < n; u++) {
		if (u % 90 == 0)
			room++; /* (rooms open in id order: 1, 2, ...) */
		kept += hc_rooms_admit(&big, room, 0, 1000 + u, 0) == HC_ROOMS_ADMITTED_KEPT;
		done += hc_directives_joined(&dd, 1000 + u, room) == 1;
	}
	CU_ASSERT_EQUAL(kept, n);
	CU_ASSERT_EQUAL(done, n);
	hc_directives_free(&dd);
	hc_rooms_free(&big);
	CU_ASSERT_EQUAL(hc_bigmem_bytes(), before);
}

/* A direct JOIN naming pool a into a free id of pool b's range makes it
 * a room of pool b (a review: it became pool a's, pool a placed into it,
 * and every reload, even of the same policy, was refused while it lived);
 * one into an id no range holds is the JOIN's pool's, and a reload does
 * not judge it by a range. */
static void test_join_into_another_range(void)
{
	char err[512];
	char spec_a[] = "1:a:1:4:2", spec_b[] = "2:b:1:4:2";
	hc_policy_defaults(&pol);
	CU_ASSERT_EQUAL_FATAL(hc_policy_add_spec(&pol, spec_a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(hc_policy_add_spec(&pol, spec_b, err, sizeof(err)), 0);
	/* ranges: the default pool 100-199, a 40-42, b 10-19 */
	pol.pool[pol.index_of[0]].room_first = 100;
	pol.pool[pol.index_of[0]].room_last = 199;
	unsigned a = pol.index_of[1], b = pol.index_of[2];
	pol.pool[a].room_first = 40;
	pol.pool[a].room_last = 42;
	pol.pool[b].room_first = 10;
	pol.pool[b].room_last = 19;
	CU_ASSERT_EQUAL_FATAL(hc_rooms_init(&r, "t_rooms_other_range", &pol, 256, 4096, HZ), 0);
	struct hc_rooms_repool x;
	CU_ASSERT_EQUAL(hc_rooms_repool_prepare(&r, &pol, &x, err, sizeof(err)), 0);
	hc_rooms_repool_abort(&x);
	/* user 1's JOIN names pool a, into room 15 (pool b's id) */
	CU_ASSERT(hc_rooms_admit(&r, 15, a, 1, 0) != 0);
	CU_ASSERT_EQUAL(r.room[15].pool, b);
	CU_ASSERT_EQUAL(r.st.joins_other_range, 1);
	CU_ASSERT_EQUAL(r.pool[b].users, 1);
	/* pool a places in its own range */
	uint32_t placed = hc_rooms_place(&r, a, 2, 0);
	CU_ASSERT(placed >= 40 && placed <= 42);
	/* an id no range holds: the JOIN's pool's */
	CU_ASSERT(hc_rooms_admit(&r, 250, a, 3, 0) != 0);
	CU_ASSERT_EQUAL(r.room[250].pool, a);
	CU_ASSERT_EQUAL(r.st.joins_other_range, 1);
	/* the same policy reloaded: accepted */
	int rc = hc_rooms_repool_prepare(&r, &pol, &x, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, 0);
	if (rc == 0)
		hc_rooms_repool_abort(&x);
	/* a range that no longer holds a room it held is still refused */
	struct hc_policy np = pol;
	np.pool[b].room_first = 16;
	CU_ASSERT_EQUAL(hc_rooms_repool_prepare(&r, &np, &x, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "room 15"));
	/* and so is another pool's new range over pool a's room 250 (a
	 * review: the room would stay pool a's inside that range) */
	np = pol;
	np.pool[pol.index_of[0]].room_first = 240; /* (the default pool: no room live) */
	np.pool[pol.index_of[0]].room_last = 255;
	CU_ASSERT_EQUAL(hc_rooms_repool_prepare(&r, &np, &x, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "room 250"));
	hc_rooms_free(&r);
}

static CU_TestInfo tests[] = {
	{"pools with their own room id ranges", test_room_ranges},
	{"a JOIN into another pool's id range: that pool's room", test_join_into_another_range},
	{"a seat book and directives beyond 2 MiB (outside DPDK's heap)", test_big_tables},
	{"a PLACE resent after its JOIN: the same room, no new seat", test_late_resend},
	{"placement, fill = target: up to target, then a new room", test_placement_fill_target},
	{"placement, fill = max: up to max", test_placement_fill_max},
	{"direct joins take the seats past target", test_direct_joins_past_target},
	{"fill = target without a free id: past target, not NO_ROOM",
	 test_fill_target_no_id_fallback},
	{"a repeated PLACE gets the same seat (both policies)", test_repeated_place_same_seat},
	{"reservations per gateway", test_reservations_per_gateway},
	{"reservation records churned: consumed ones go first, no live one evicted", test_reservation_records_churned},
	{"admission", test_admission},
	{"a room a move is leaving sits plans out until the move is reported", test_vacating},
	{"seat leases topped up before they run dry, grown where they did", test_lease_top_up},
	{"reservation expiry", test_expiry},
	{"a reload's shorter reservation TTL holds for the older ones", test_expiry_after_shorter_ttl},
	{"retirement and grace", test_retire_grace},
	{"random operations never exceed max", test_random_never_above_max},
	{"policy file and --pool, fill included", test_policy_file},
	{"move directives: done, resent, given up", test_directives},
	{"kept seats after a reload lowered max", test_kept_seats_after_max_lowered},
	{"a move's seat is its directive's: taken, kept, given back", test_directive_seats},
	{"HA demotion: every directive dropped, seats back", test_directives_drop_all},
	{"a moved user admitted into a third room ends the directive", test_directive_third_room},
	{"a crowded home: no directive, no seat, counted", test_crowded_home_control},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_rooms = {"rooms", NULL, NULL, NULL, NULL, tests};
