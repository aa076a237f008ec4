/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_balance.h - the balancer's plan for one pool: which users move where,
 * with as few moves as the rules allow.
 *
 * Pure function of the pool's room occupancies (users + reserved seats);
 * runs on the control core each tick over the RCU room view or the seat
 * book.  The plan is a list of transfers (from room, to room, how many
 * users); picking which users is the membership's job (O(moved)).
 *
 * Rules:
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
	uint32_t *occ;            /* working occupancy                    */
	uint32_t *movable;        /* users that can still be moved out    */
	uint32_t *small, *normal, *big; /* rooms by class                 */
	uint32_t *donor;          /* rooms that may give, by occupancy    */
	uint32_t *sorted;         /* counting sort's output               */
	uint32_t *count;          /* [HC_BAL_MAX_SIZE + 2] its histogram  */
	uint64_t *prefix;         /* [max_rooms + 1] users dissolved      */
	uint64_t *deficit;        /* [max_rooms + 1] users kept rooms need */
	struct hc_bal_src *src;   /* [2 * max_rooms + 2] movers            */
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
