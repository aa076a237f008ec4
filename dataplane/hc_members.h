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
 * room, whether its seat request is in flight, its gateway, its last
 * pick and snapshot mark, and its link in the list of gone users (whose
 * keys are kept for their return: hc_members_pvt.h), so a move never
 * touches the index: 37 B a user.  No room lists its users:
 * picks are answered by a scan of the slots (hc_members_pick_step).
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
 * hc_members_apply.  (dataplane/hc_admission.c, as is hc_members_prefetch.)
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

/*
 * The balancer's picks (HC_DEC_PICK).  A room keeps no list of its users
 * (it cost every move and leave three random lines): a pick is asked,
 * then answered by one scan of the slots, a step at a time between
 * batches.  hc_members_pick_ask records one: up to k users of room not
 * picked in the last `cooldown` seconds, to move to to_room.  0, or
 * -ENOSPC (HC_PICK_ASKS asked already: the caller answers it with none).
 * Asks made while a scan runs wait for the next one.
 */
int hc_members_pick_ask(struct hc_members *m, uint32_t room, uint32_t to_room, unsigned k,
			uint32_t cooldown);

/* A pick scan is running or waiting. */
static inline int hc_members_picking(const struct hc_members *m)
{
	return m->n_asks != 0;
}

/* A pick scan is running (its asks are taken: more wait for the next). */
static inline int hc_members_scanning(const struct hc_members *m)
{
	return m->n_active != 0;
}

/*
 * One step of the pick scan: up to `positions` slots, at m->now_s (the
 * worker's seconds, hc_members_tick).  Each user picked is reported
 * (HC_CHG_PICK: from_room -> to_room, its gateway) and marked; when the
 * scan has seen every slot, or every ask has its users, each ask is
 * reported done (HC_CHG_PICK_END, user_id: how many it got) and the
 * asks that waited start the next scan.  Users whose seat request is in
 * flight are left (a MOVE would find them gone).  Returns the users
 * picked.  Reports go to m->changes (the caller's to empty).
 */
unsigned hc_members_pick_step(struct hc_members *m, uint32_t positions);

/*
 * The worker's timers: now, in whole seconds of its clock (the TSC's,
 * from 1), becomes m->now_s unless it is behind it (m->now_s never goes
 * back; it starts at 1), and a few records of the pick memo whose time
 * has passed leave it (hc_pickmemo.h).  The worker ticks before its
 * loop, at its timers (10,000 a second) and through its drain; ops
 * applied inside one loop, and pick steps, read the clock of that
 * loop's start or its last tick.
 */
void hc_members_tick(struct hc_members *m, uint32_t now);

/*
 * Gone users' keys above the keep limit go, the longest gone first
 * (docs/architecture.md, "Gone users"): while the index holds more than
 * its capacity less 1/64 (new users' keys took that room), the list of
 * gone users is followed from its head for at most `steps` entries, a
 * user who came back unlinked, a gone one's key deleted (counted in
 * gone_keys_trimmed).  Between ops: the worker's timers do it (64 steps
 * a tick due), so that a new user's JOIN finds a free position rather
 * than evicting, and walking the list, inside its op.  Returns the keys
 * deleted.
 */
unsigned hc_members_gone_trim(struct hc_members *m, unsigned steps);

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
