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
 * Memory: rte_hash (key 8 B + an unused data pointer 8 B per key slot,
 * plus 8 B of bucket per entry) maps a user to a stable key position;
 * slot[position] (16 B) holds the room, the user's links in its room's
 * list, its gateway and its last pick, so a move never touches the hash.  Rooms are dense ids in [1, max_rooms) with one
 * uint32_t counter each.
 */
#ifndef HC_MEMBERS_H
#define HC_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

struct rte_hash;
struct hc_pending;  /* dataplane/hc_pending.h */
struct hc_deferred;

#include "hc_ctlmsg.h"      /* struct hc_change */
#include "hc_dp_counters.h" /* struct hc_members_stats */

/* One event, after the sequencer: what the owner applies. 24 bytes. */
struct hc_op {
	uint64_t user_id;
	uint32_t room_id;
	uint16_t gateway_id;
	uint16_t pool_id;
	uint8_t op;       /* HC_OP_JOIN / HC_OP_LEAVE, or HC_OP_SNAP_* below */
	uint8_t gen;      /* HC_OP_SNAP_*: the snapshot's generation (1..255) */
	uint8_t pad[6];
};

/*
 * Ops of a snapshot replacing everything one gateway held (never on the
 * wire; the home worker makes them from a complete snapshot):
 *   SNAP_SET   user is in room_id, owned by gateway_id (admission bypassed:
 *              the gateway states a fact); marks the user with gen.  A user
 *              another gateway owns now is left alone (counted conflict).
 *   SNAP_SWEEP no user: every user of gateway_id not marked gen goes
 *              (sent to every owner after its SETs; an empty snapshot is a
 *              SWEEP alone: drop all of the gateway's users).
 *   SNAP_DROP  the sweep's check for one user whose seat request was in
 *              flight: replayed after the decision, it removes the user if
 *              still gateway_id's and not marked gen.
 */
enum {
	HC_OP_SNAP_SET = 16,
	HC_OP_SNAP_SWEEP = 17,
	HC_OP_SNAP_DROP = 18,
};
_Static_assert(sizeof(struct hc_op) == 24, "hc_op is a 24-byte ring element");


/* Slots of the pending table (2^bits, dataplane/hc_pending.h); requests
 * in flight stay far below (HC_MAX_OUTSTANDING in hc_worker_state.h) so probes
 * stay short. */
#define HC_PENDING_BITS 14
/* Users that may wait for decisions at once (3/4 of the slots); callers
 * keep n_pending + ops they apply below it. */
#define HC_PENDING_MAX (3u << (HC_PENDING_BITS - 2))
_Static_assert(HC_PENDING_MAX == HC_CHAN_MAX_PENDING, "the control core sizes its backlog so");

/* What a worker keeps per user, by rte_hash key position: one 16-byte
 * slot, so an event touches one cache line for its own user. */
struct hc_slot {
	uint32_t room;   /* 0: none                                   */
	uint32_t next;   /* room list: next user's position + 1       */
	uint32_t prev;   /* room list: previous user's position + 1   */
	uint16_t gw;     /* the gateway that owns the user            */
	uint8_t moved;   /* seconds (mod 256) of the last pick, 0: never */
	uint8_t mark;    /* generation of the owner's last snapshot that named
	                    the user; 0 when the owner changes            */
};
_Static_assert(sizeof(struct hc_slot) == 16, "hc_slot is 16 bytes");

/* Outcome counters, single writer. */

struct hc_members {
	struct rte_hash *users;   /* user_id -> key position             */
	struct hc_slot *slot;     /* [capacity] by key position          */
	uint32_t *room_head;      /* [max_rooms] first user (position+1) */
	uint32_t *room_users;     /* [max_rooms], relaxed stores         */
	uint32_t max_rooms;
	uint32_t capacity;        /* users this table can hold           */
	uint64_t n_users;         /* relaxed stores                      */
	struct hc_members_stats st; /* relaxed stores                    */
	/* optional: every applied change is appended here (for the control
	 * core); the caller empties it after each hc_members_apply */
	struct hc_change *changes;
	uint32_t n_changes;
	uint32_t changes_cap;     /* with changes_full: call it when full  */
	void (*changes_full)(void *ctx); /* empties changes (n_changes = 0) */
	void *changes_ctx;
	/* admission: a JOIN that changes a user's room becomes a seat request
	 * (HC_CHG_REQUEST) and the user is pending until hc_members_decide;
	 * the pending user's later ops wait, in order, in a chain of nodes
	 * whose head the user's pending entry names (n_pending .. replay
	 * are dataplane/hc_pending.c's) */
	int admission;
	uint32_t n_pending;       /* users waiting for a decision    */
	struct hc_pending *pending; /* [1 << HC_PENDING_BITS]        */
	uint16_t *pending_filter;   /* [HC_PENDING_FILTER] counts     */
	uint32_t n_deferred;      /* ops waiting in chains           */
	uint32_t free_node;       /* free list of node[]             */
	struct hc_deferred *node; /* [HC_MEMBERS_DEFERRED]           */
	struct hc_op *replay;     /* [HC_MEMBERS_DEFERRED] scratch   */
	/* per gateway (any 16-bit id): users it owns here (relaxed stores,
	 * read by the control core), and, for its current snapshot
	 * generation, how many of them carry that mark */
	uint32_t *gw_users;       /* [HC_GATEWAY_IDS]                */
	uint32_t *snap_marked;    /* [HC_GATEWAY_IDS]                */
	uint8_t *snap_gen_now;    /* [HC_GATEWAY_IDS]                */
	uint64_t *gw_digest;      /* [HC_GATEWAY_IDS] membership digest of
	                             each gateway's users here (relaxed) */
};

#define HC_GATEWAY_IDS 65536u

/* Ops that may wait for decisions at once; a caller keeps
 * n_deferred + ops it applies <= this. */
#define HC_MEMBERS_DEFERRED 65536

/* Largest batch hc_members_apply takes in one call. */
#define HC_MEMBERS_BATCH 64

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
void hc_members_decide(struct hc_members *m, uint64_t user_id, uint32_t room, int admitted,
		       uint16_t gw);

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

/* Relaxed single-writer helpers: plain loads and stores on x86-64. */
#define HC_RELAXED_ADD(p, v) \
	__atomic_store_n((p), __atomic_load_n((p), __ATOMIC_RELAXED) + (v), \
			 __ATOMIC_RELAXED)
#define HC_RELAXED_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)

#endif /* HC_MEMBERS_H */
