/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_balance.h - the balancer's plan for one pool: which users move where,
 * with as few moves as the rules allow.
 *
 * Pure function of the pool's room occupancies (users + reserved seats);
 * runs on the control core each tick over the RCU room view or the seat
 * book.  The plan is a list of transfers (from room, to room, how many
 * users); picking which users is the membership's job (one scan of a
 * worker's slots answers a round's picks, dataplane/hc_members.h).
 *
 * The problem, exactly.  A room has `users` (movable) and `reserved`
 * (seats held: they count for capacity and never move); its occupancy is
 * o = users + reserved.  A plan moves users between the pool's rooms and
 * into new rooms.  After it, every non-empty room, old or new, holds
 * between min and max; no room is ever above max (a room held above max
 * by its reserved seats alone, after a policy reload, only sheds its
 * users); a room with reserved seats is never emptied.  Moves = users
 * moved.  The plan has the fewest moves over every such final
 * configuration, always.  Two cases have no such configuration:
 *   - a pool of fewer than min seats in all: it is gathered, every user
 *     into the room with the most users (the fullest on a tie); moves =
 *     the users outside it; reserved seats stay where they are;
 *   - reserved seats make it impossible (the pool holds less than its
 *     rooms with reserved seats need, max(min, reserved) each; or those
 *     rooms are full and the fewer than min users left over cannot make a
 *     room): the plan reaches first the least total shortfall (the sum of
 *     min - o over non-empty rooms below min), then the fewest moves.
 * Among plans of the fewest moves: fewer new rooms, then more rooms
 * dissolved; users left over fill kept rooms toward target, then up to
 * max, then new rooms of about target; donors give fullest first, down to
 * target before going down to min.  O(n + max) per pool; tested against an exhaustive
 * search (tests/unit/test_balance_ref.c).
 * At most max_moves moves per plan (the rest waits for the next tick).
 *
 * A plan works in the caller's struct hc_balance: scratch made once by
 * hc_balance_init for pools of up to max_rooms rooms, so a tick allocates
 * nothing.
 */
#ifndef HC_BALANCE_H
#define HC_BALANCE_H

#include <stdint.h>

#include "hc_policy.h"

struct hc_bal_room {
	uint32_t room;
	uint32_t users;    /* movable */
	uint32_t reserved; /* count for capacity, do not move */
};

/* to: a room id, or HC_BAL_NEW | i for the plan's i-th new room */
#define HC_BAL_NEW 0x80000000u

struct hc_bal_transfer {
	uint32_t from;
	uint32_t to;
	uint32_t count;
};

struct hc_bal_plan {
	struct hc_bal_transfer *t; /* caller's array */
	uint32_t cap;              /* its size        */
	uint32_t n;                /* transfers       */
	uint32_t new_rooms;
	uint64_t moves;            /* users moved     */
	int truncated;             /* max_moves or cap reached */
};

/* Largest room size a plan handles: hc_policy's bound on max. */
#define HC_BAL_MAX_SIZE 65535u

struct hc_bal_src;

/* A plan's scratch, by room index, for pools of up to max_rooms rooms. */
struct hc_balance {
	uint32_t max_rooms;
	uint32_t *occ;            /* working occupancy                     */
	uint32_t *small, *other, *pinned; /* rooms by class, sorted        */
	uint32_t *donor;          /* rooms that may give, by occupancy     */
	uint32_t *sorted;         /* counting sort's output                */
	uint32_t *count;          /* [HC_BAL_MAX_SIZE + 2] its histogram   */
	struct hc_bal_src *src;   /* [3 * max_rooms + 1] sources of moves  */
};

/* Make the scratch for pools of up to max_rooms rooms.  Returns 0 or -1. */
int hc_balance_init(struct hc_balance *b, uint32_t max_rooms);
void hc_balance_free(struct hc_balance *b);

/*
 * Plan one pool.  rooms[] (n entries, any order) is not modified.
 * Returns 0, or -1 if the pool does not fit b (more than max_rooms rooms,
 * or max above HC_BAL_MAX_SIZE); the plan is then empty.
 */
int hc_balance_pool(struct hc_balance *b, const struct hc_pool_cfg *c,
		    const struct hc_bal_room *rooms, uint32_t n, uint64_t max_moves,
		    struct hc_bal_plan *plan);

#endif /* HC_BALANCE_H */
