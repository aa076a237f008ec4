/*
 * hc_balance.h - the balancer's plan for one pool: which users move where,
 * with as few moves as the rules allow.
 *
 * Pure function of the pool's room occupancies (users + reserved seats);
 * runs on the control core each tick over the RCU room view or the seat
 * book.  The plan is a list of transfers (from room, to room, how many
 * users); picking which users is the membership's job (O(moved)).
 *
 * Rules (issue #3):
 *   - rooms within [min, max] are left alone, except as donors when a
 *     small room can be saved more cheaply than dissolved;
 *   - rooms below min are either dissolved (all users move) or kept and
 *     filled to min; the choice minimises moves: for each j, dissolve the j
 *     smallest, keep the rest; cost(j) = max(users dissolved + excess of
 *     big rooms, deficit of kept rooms); the cheapest feasible j wins;
 *   - rooms above max give their excess (occupancy - max);
 *   - users that must move fill kept rooms to min, then rooms toward
 *     target, then up to max, then new rooms of about target;
 *   - a pool too small for any room to reach min is gathered into its
 *     fullest room;
 *   - never above max; at most max_moves moves per plan (the rest waits
 *     for the next tick).
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

/*
 * Plan one pool.  rooms[] (n entries, any order) is not modified.
 * Returns 0, or -1 if out of memory (the plan is then empty).
 */
int hc_balance_pool(const struct hc_pool_cfg *c, const struct hc_bal_room *rooms,
		    uint32_t n, uint64_t max_moves, struct hc_bal_plan *plan);

#endif /* HC_BALANCE_H */
