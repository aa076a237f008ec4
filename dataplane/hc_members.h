/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_members.h - one worker's share of the membership: user -> room, and
 * that worker's per-room counters.
 *
 * Each worker owns the users whose id hashes to it (hc_owner_of) and is the
 * only writer of its hc_members: no locks, no atomic read-modify-writes.
 * The room counters are read concurrently by the control lcore, which sums
 * them over all workers into the global RCU view (control/hc_view.h); they
 * are therefore stored with relaxed atomic stores, which are plain moves.
 *
 * Semantics, per event, in the order given:
 *   JOIN r  : user absent        -> user in r, count[r]++
 *             user in r          -> nothing (idempotent)
 *             user in q != r     -> user moves, count[q]--, count[r]++
 *   LEAVE r : user in r          -> user absent, count[r]--
 *             otherwise          -> nothing
 * so count[r] always equals the number of this worker's users in r.
 *
 * Memory: the compact user table (hc_usertab.h: 5 B a user) maps a user
 * to a stable position; slot[position] (32 B) holds the user id, session,
 * room, the user's links in its room's list, its gateway, its last pick
 * and snapshot mark, so a move never touches the index: 37 B a user.
 * Rooms are dense ids in [1, max_rooms) with one uint32_t counter each.
 */
#ifndef HC_MEMBERS_H
#define HC_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "hc_members_state.h"

/*
 * Create a table for up to capacity users and max_rooms room ids, on
 * socket.  name must be unique in the process.  Returns 0 or -errno.
 */
int hc_members_init(struct hc_members *m, const char *name, uint32_t capacity,
		    uint32_t max_rooms, int socket);
void hc_members_free(struct hc_members *m);


/*
 * Apply n ops (any n; internally in batches of HC_MEMBERS_BATCH) in order.
 * Room ids must already be valid (1 .. max_rooms-1): the protocol check
 * guarantees it.  Cannot fail; a JOIN that finds the table full is counted
 * in st.table_full and changes nothing.
 */
void hc_members_apply(struct hc_members *m, const struct hc_op *ops, unsigned n);

/*
 * The control core's answer to user's seat request for room: apply the
 * JOIN (admitted) or forget it (refused), then apply the user's deferred
 * ops in order (which may ask again).  Changes go to `changes` as in
 * hc_members_apply.  (dataplane/hc_pending.c, as is hc_members_prefetch.)
 */
/* (admitted: hc_decision.admit, see hc_ctlmsg.h) */
void hc_members_decide(struct hc_members *m, uint64_t user_id, uint32_t room, int admitted,
		       uint16_t gw);

/*
 * Seat leases (docs/architecture.md): `seats` more seats of room are this
 * worker's to give (a JOIN into room then applies at once, reported
 * HC_CHG_LEASED); revoking returns the seats left and leaves none.
 * (dataplane/hc_admission.c)
 */
void hc_members_lease(struct hc_members *m, uint32_t room, uint32_t seats);
uint32_t hc_members_revoke(struct hc_members *m, uint32_t room);
/* The seats of room this worker may still give. */
uint32_t hc_members_lease_left(const struct hc_members *m, uint32_t room);

/* A user picked to move, and the gateway that owns them. */
struct hc_pick {
	uint64_t user_id;
	uint16_t gateway_id;
};

/*
 * Up to k of this worker's users in room, skipping users picked less than
 * `cooldown` ticks before `now` (ticks: any clock, e.g. seconds); marks
 * the picked ones.  O(k + skipped).
 */
unsigned hc_members_pick(struct hc_members *m, uint32_t room, unsigned k, uint32_t now,
			 uint32_t cooldown, struct hc_pick *out);

/* Warm the cache for n users (keys `stride` bytes apart) about to be
 * decided: one bulk lookup prefetches their buckets. */
void hc_members_prefetch(struct hc_members *m, const uint64_t *first_key, size_t stride,
			 unsigned n);

/* Gateway that owns a user (0 if absent). Owner lcore, or after stop. */
uint16_t hc_members_owner_of(const struct hc_members *m, uint64_t user_id);

/* Room of a user, 0 if absent.  Owner lcore, or after the workers stopped. */
uint32_t hc_members_room_of(const struct hc_members *m, uint64_t user_id);

/*
 * Call fn for every user (owner lcore, or after the workers stopped).
 * Returns the number of users visited.
 */
uint64_t hc_members_walk(const struct hc_members *m,
			 void (*fn)(uint64_t user, uint32_t room, void *arg),
			 void *arg);

/* Which of n_workers owns user_id: a multiplicative hash, stable. */
static inline unsigned hc_owner_of(uint64_t user_id, unsigned n_workers)
{
	uint64_t h = user_id * 0x9E3779B97F4A7C15ull;
	return (unsigned)(((h >> 32) * (uint64_t)n_workers) >> 32);
}


#endif /* HC_MEMBERS_H */
