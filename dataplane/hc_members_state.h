/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_members_state.h - one worker's share of the membership: the data
 * (struct hc_members and the per-user slot), apart from the functions
 * (hc_members.h), so that the inline helpers every applier shares
 * (hc_members_pvt.h) sit below both.  A leaf.
 */
#ifndef HC_MEMBERS_STATE_H
#define HC_MEMBERS_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "hc_ctlmsg.h"      /* struct hc_change */
#include "hc_dp_counters.h" /* struct hc_members_stats */
#include "hc_op.h"
#include "hc_pending.h"     /* struct hc_pending_table */
#include "hc_pickmemo.h"    /* struct hc_pickmemo */
#include "hc_usertab.h"     /* struct hc_usertab */

/* A room's lease on a worker (hc_members.lease): seats, and the flag. */
#define HC_LEASE_SEATS 0x7fffu
#define HC_LEASE_DRY 0x8000u

/* What a worker keeps per user, at the user's position in the user table
 * (hc_usertab.h, which finds it by the id in its first 8 bytes): one
 * 32-byte slot, two to a cache line, so an event touches one line for
 * its own user. */
struct hc_slot {
	uint64_t user_id;/* the key (hc_usertab.h); a free slot's: a link */
	uint64_t session;/* the owner's session of the user (hc_proto.h): an
	                    older session's JOIN is ignored               */
	uint32_t room;   /* 0: none (a gone user's, a free position's too) */
	uint8_t waiting; /* 1: the user's seat request is in flight (in the
	                    pending table, its ops wait behind it): an op
	                    reads it here, in the line it reads anyway,
	                    not in the table.  0 in a free slot: a waiting
	                    user is never removed                     */
	uint8_t mark;    /* generation of the owner's last snapshot that named
	                    the user; 0 when the owner changes            */
	uint16_t gw;     /* the gateway that owns the user            */
	uint32_t picked_at; /* the last pick, the worker's seconds; 0: never.
	                     A user who leaves within a cooldown of it
	                     keeps it in the pick memo (hc_pickmemo.h)  */
	uint32_t gone_link; /* in the list of kept keys (hc_members_pvt.h, "Gone
	                     users"): 0 not in it; the next one's position
	                     + 1, or HC_SLOT_GONE_LAST.  A slot with no room
	                     and a link is a gone user's, its key kept  */
};
#define HC_SLOT_GONE_LAST UINT32_MAX
_Static_assert(sizeof(struct hc_slot) == 32, "hc_slot is 32 bytes");

/* TSC cycles hc_members_apply spent in its stages, summed over every
 * batch (hc_members.time_stages; hc-bench --stages, docs/benchmarks.md).
 * Worker-only: read by the bench after the worker's window. */
struct hc_members_cycles {
	uint64_t lookup;   /* the bulk lookup: hashes, index entries, slots */
	uint64_t prefetch; /* the counters and leases the ops will write,
	                      asked for (the batch's filter is reset at its
	                      first add, in ops, since a808333)  */
	uint64_t ops;      /* the ops applied one by one, counters published */
};

/* One balancer's pick asked of this worker: up to `want` users of
 * from_room not picked in the last cooldown_s seconds, to move to
 * to_room. */
struct hc_pick_ask {
	uint32_t from_room, to_room;
	uint16_t want, found;
	uint16_t cooldown_s;
	uint16_t min_cooldown_s;  /* the least cooldown_s of this ask and the
	                             ones after it in from_room's chain (at
	                             most that: a user moved more recently
	                             suits none of them)                  */
	uint32_t next;            /* from_room's next ask (index + 1), 0: none */
};

/* Picks one worker keeps asked at once (a balancer round asks one a
 * transfer of each room it takes users from); one more is answered at
 * once with none. */
#define HC_PICK_ASKS 4096

struct hc_members {
	struct hc_usertab users;  /* user_id -> position                 */
	struct hc_slot *slot;     /* [capacity] by position              */
	size_t slot_bytes;        /* slot's allocation (hc_bigmem_free)   */
	uint32_t *pick_first;     /* [max_rooms] the room's first ask in
	                             the running pick scan (index + 1)   */
	uint32_t *room_users;     /* [max_rooms], relaxed stores         */
	uint32_t max_rooms;
	int prefetch_rooms;       /* 1: a batch's rooms' counters and leases
	                             asked for before its ops (the tables
	                             larger than HC_MEMBERS_ROOMS_CACHED) */
	uint32_t capacity;        /* users this table can hold           */
	uint64_t n_users;         /* relaxed stores                      */
	uint32_t gone_head;       /* the kept keys' list (hc_members_pvt.h,
	                             "Gone users"): its oldest position + 1;
	                             0: empty                            */
	uint32_t gone_tail;       /* its newest position (with gone_head) */
	uint32_t pend_new;        /* new users whose seat request is in
	                             flight: a key is kept for each      */
	struct hc_members_stats st; /* relaxed stores                    */
	/* optional: every applied change is appended here (for the control
	 * core); the caller empties it after each hc_members_apply */
	struct hc_change *changes;
	uint32_t n_changes;
	uint32_t changes_cap;     /* with changes_full: call it when full  */
	void (*changes_full)(void *ctx); /* empties changes (n_changes = 0) */
	void *changes_ctx;
	/* admission: a JOIN that changes a user's room becomes a seat request
	 * (HC_CHG_REQUEST) and the user is pending until hc_members_decide
	 * (hc_admission.c); the pending user's later ops wait, in order, in
	 * the pending table (hc_pending.h) */
	int admission;
	struct hc_pending_table pend;
	/* seat leases (admission on): seats of each room this worker may give
	 * without asking (HC_DEC_LEASE, HC_DEC_REVOKE; hc_admission.c), in
	 * the low 15 bits; HC_LEASE_DRY alone: this worker's own JOINs took
	 * the last of them since its last grant (its next seat request says
	 * so, HC_CHGF_LEASE_DRY, once) */
	uint16_t *lease;          /* [max_rooms]                         */
	/* per gateway (any 16-bit id): users it owns here (relaxed stores,
	 * read by the control core), and, for its current snapshot
	 * generation, how many of them carry that mark */
	uint32_t *gw_users;       /* [HC_GATEWAY_IDS]                */
	uint32_t *snap_marked;    /* [HC_GATEWAY_IDS]                */
	uint8_t *snap_gen_now;    /* [HC_GATEWAY_IDS]                */
	uint64_t *gw_digest;      /* [HC_GATEWAY_IDS] membership digest of
	                             each gateway's users here (relaxed) */
	uint32_t *gw_pending;     /* [HC_GATEWAY_IDS] seat requests in
	                             flight for each gateway (relaxed)  */
	uint32_t *gw_pend_new;    /* [HC_GATEWAY_IDS] of gw_pending, those
	                             for new users (worker-only)         */
	uint32_t gw_user_cap;     /* users one gateway may hold here, its
	                             new users' seat requests in flight
	                             counted: this worker's share of
	                             --max-users-per-gateway; 0: no cap  */
	/* snapshot members of new users that found no key, waiting for
	 * their snapshot's sweep to be judged again (hc_members.c,
	 * member_key_for_new); empty but between a snapshot's members and
	 * its sweep */
	struct hc_op *parked;     /* [HC_MEMBERS_PARKED]                 */
	uint32_t n_parked;
	uint16_t *gw_parked;      /* [HC_GATEWAY_IDS] of them, each gateway's */
	/* the balancer's picks (HC_DEC_PICK), answered by one scan of the
	 * slots over many loops (hc_members_pick_step): asks [0, n_active)
	 * are the running scan's, chained per room from pick_first; asks
	 * [n_active, n_asks) came during it and wait for the next */
	struct hc_pick_ask *ask;  /* [HC_PICK_ASKS]                     */
	uint32_t n_asks, n_active;
	uint32_t asks_open;       /* running asks with users still wanted */
	uint32_t scan_at;         /* the running scan's next position (it
	                             ends at users.fresh: no position past
	                             it has held a user)                 */
	struct hc_pickmemo memo;  /* pick times of users picked and gone
	                             within a cooldown (hc_pickmemo.h)    */
	uint32_t now_s;           /* the worker's seconds (from 1), kept by
	                             its timers (hc_members_tick): the pick
	                             scan's `now` and the memo's clock   */
	int time_stages;          /* 1: each batch's stages timed into cyc
	                             (four TSC reads more a batch); 0: the
	                             appliance's, no TSC read              */
	struct hc_members_cycles cyc;
};

/* The rooms' counters and leases (6 bytes a room id) up to this size
 * stay in a core's L2 under the event load, and asking for their lines
 * ahead only takes fill buffers the user table's misses need: 1.06-1.08x
 * at 20,001 room ids, 0.94x at 200,001 (docs/benchmarks.md, "The rooms'
 * lines asked for only where they miss"). */
#define HC_MEMBERS_ROOMS_CACHED (256u << 10)

#define HC_GATEWAY_IDS 65536u

/* Ops that may wait for decisions at once; a caller keeps
 * pend.n_deferred + ops it applies <= this. */
#define HC_MEMBERS_DEFERRED HC_PENDING_DEFERRED

/* Snapshot members that may wait for their sweep at once (all
 * gateways'), and of one gateway; one more is refused at once, as before
 * there was waiting.  A caller keeps room for a seat request and a
 * deferral for each of them besides a sweep's (hc_ops.c, hc_worker.h). */
#define HC_MEMBERS_PARKED 2048
#define HC_MEMBERS_PARKED_PER_GATEWAY 256

/* Largest batch hc_members_apply takes in one call. */
#define HC_MEMBERS_BATCH 64

/* Relaxed single-writer helpers: plain loads and stores on x86-64. */
#define HC_RELAXED_ADD(p, v) \
	__atomic_store_n((p), __atomic_load_n((p), __ATOMIC_RELAXED) + (v), \
			 __ATOMIC_RELAXED)
#define HC_RELAXED_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
/* Publish v at p for other lcores (relaxed), stored only when it changes:
 * a line another lcore reads is left alone while the value stays. */
#define HC_RELAXED_PUBLISH(p, v) \
	do { \
		__typeof__(*(p)) hc_v_ = (v); \
		if (__atomic_load_n((p), __ATOMIC_RELAXED) != hc_v_) \
			__atomic_store_n((p), hc_v_, __ATOMIC_RELAXED); \
	} while (0)

#endif /* HC_MEMBERS_STATE_H */
