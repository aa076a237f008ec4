/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_rooms.h - the control core's seat book: every room's pool, admitted
 * users and reserved seats; placement; reservations; room ids.
 *
 * Owned and written by the control core only (it is the single decider of
 * who gets a seat), so it needs no locks.  Per pool, live rooms sit in
 * buckets by occupancy (users + reserved seats, 0 .. max) with a bitmap of
 * non-empty buckets, so the fullest room with a free seat is found in a
 * few word operations and a placement costs O(1):
 *
 *   place:  by the pool's fill policy (hc_policy.h),
 *           target: the fullest room with occupancy < target (rooms below
 *                   min included: the fullest of them when no room is
 *                   between min and target); else a live empty room; else
 *                   a new room id; else, with no id left, the fullest room
 *                   with occupancy < max rather than no room at all;
 *           max:    the fullest room with occupancy < max and >= min; else
 *                   the fullest room below min; else a live empty room;
 *                   else a new room id.
 *           Every answer reserves a seat.
 *   admit:  a JOIN into a room is admitted when the user holds that room's
 *           reservation (the seat is taken) or the room has a free seat
 *           (occupancy < max, whatever the fill policy: friends joining
 *           directly and reconnecting users take the seats between target
 *           and max); otherwise refused.  So no decision ever puts a room
 *           above max.
 *   leave:  frees a seat.
 *
 * Two counters account for every room above target: placed_beyond_target
 * (placements that left a room's occupancy above target: fill = max, or the
 * no-id fallback) and seated_beyond_target (seats taken past target any
 * other way: direct or late JOINs, move seats).  Placement never raises an
 * occupancy past target uncounted, and nothing else raises one at all, so
 * at any time the sum over rooms of (occupancy - target, when positive) is
 * at most the sum of the two.
 *
 * Reservations expire after the policy's reservation_ttl_ms if the JOIN
 * does not come (a FIFO, since every reservation lives equally long).
 * Empty rooms are retired by hc_rooms_retire; a retired id waits
 * retire_grace_ms (a gateway may still send events for it) before it can
 * name a new room.
 */
#ifndef HC_ROOMS_H
#define HC_ROOMS_H

#include <stddef.h>
#include <stdint.h>

#include <rte_prefetch.h>

#include "hc_keyidx.h"
#include "hc_policy.h"


enum hc_room_state {
	HC_ROOM_FREE = 0,  /* id unused, may be handed out      */
	HC_ROOM_LIVE,      /* in a pool's occupancy buckets     */
	HC_ROOM_GRACE,     /* retired, id not reusable yet      */
};

struct hc_room {
	uint32_t users;     /* admitted users                          */
	uint16_t reserved;  /* seats held by reservations and directives
	                       (<= max <= 65535: none is added at max)  */
	uint16_t held;      /* of them, held by directives
	                       (hc_rooms_hold_seat)                     */
	union {
		struct {    /* LIVE: */
			uint32_t prev, next; /* bucket list links (room ids,
			                        0 = none)                   */
		};
		uint64_t grace_until; /* GRACE: reusable from this TSC on */
	};
	uint8_t pool;       /* pool index (not id)                     */
	uint8_t state;      /* enum hc_room_state                      */
	uint16_t level;     /* bucket the room is in                   */
	uint16_t leased;    /* seats leased to workers, not taken yet  */
	uint16_t lease_mask;/* workers that hold some of them (by the
	                       book: lease_of > 0), or are asked back  */
	uint16_t revoking;  /* workers asked to give them back (mask)  */
	uint8_t lease_grow; /* top-ups here go up to lease_seats << lease_grow
	                       (hc_rooms_lease_ran_dry)                   */
	uint32_t lease_hold;/* no lease until the tick after this one  */
};
/* 32 bytes, two a line in an array 64-byte aligned: a room never spans
 * two lines (at 40, half of them did: docs/benchmarks.md, "A room in
 * one line") */
_Static_assert(sizeof(struct hc_room) == 32, "hc_room is 32 bytes");

/*
 * A room's admitted moves out whose user the worker has not yet reported
 * out (HC_CHG_VACATED): between the seat decision and that report the
 * book counts the user both here and in the room it goes to, and a plan
 * made then would see the user twice (and move users this room is about
 * to lose anyway, or ask workers to pick users already gone).  The room
 * sits such a plan out, as it does while seats are reserved or leased.
 * Each mark is stamped with the control channel's open sync period
 * (hc_ctlsync.h); once the period of the room's latest mark has ended,
 * every report that will ever come has been read, and a mark left is a
 * report that never comes (a decision the worker found no request for,
 * stray_decisions): the room is let in again, counted.  A worker held up,
 * for however long, keeps the room out until it reports.
 */
struct hc_vacating {
	uint32_t stamp; /* the sync period of the latest mark              */
	uint16_t moves; /* admitted, not reported out yet (saturating)      */
	uint16_t pad;
};

struct hc_pool_index {
	uint32_t levels;    /* max + 1 */
	uint32_t *head;     /* [levels] first room of each bucket      */
	uint64_t *bits;     /* non-empty buckets                       */
	uint32_t rooms;     /* live rooms                              */
	uint64_t users, reserved, leased;
	uint32_t cursor;    /* next id to try in the pool's own id range */
	uint8_t range_full; /* that range walked whole without a FREE id:
	                       not walked again until one of its ids comes
	                       FREE (a walk a PLACE stalled the control core
	                       for a millisecond at 512 k ids)            */
};

/* A reservation record, in one of two FIFO lists (hc_rooms.c): live
 * (creation order, so expiry order) or consumed; a free record is in
 * neither (room 0). */
struct hc_reservation {
	uint64_t user;
	uint64_t expires;   /* TSC */
	uint32_t room;      /* 0: free                                 */
	uint32_t request_id;/* the PLACE it answers (0: none)          */
	uint32_t prev, next;/* its list's neighbours (HC_RESV_NIL: none);
	                       next also chains the free records       */
	uint16_t gateway;   /* whose PLACE it answers (0: none)        */
	uint8_t consumed;   /* the user's JOIN took the seat: kept until
	                       it expires, so that a late resend of the
	                       same PLACE gets the same room, no new seat */
	uint8_t pad;
};
#define HC_RESV_NIL UINT32_MAX

/* A FIFO list of reservation records (first: the oldest). */
struct hc_resv_list {
	uint32_t first, last; /* HC_RESV_NIL when empty */
	uint32_t n;
};

struct hc_rooms_stats {
	uint64_t placements, new_rooms, no_room;
	uint64_t placements_repeated; /* a user asked again: same seat */
	uint64_t placements_late;     /* a PLACE resent after its JOIN took
	                                 the seat: same room, no new seat  */
	uint64_t admits, admits_reserved, refusals;
	uint64_t leaves, expired, retired, reused;
	uint64_t range_ids_walked; /* ids looked at for a ranged pool's
	                              new room (tests: walks stay rare) */
	uint64_t joins_other_range; /* rooms made live by a JOIN naming
	                              another pool than the one whose id
	                              range holds the room: made live in
	                              that one                        */
	uint64_t over_max;  /* JOINs or restatements applied without admission
	                       (--no-admission) into a room already at max */
	uint64_t kept_seats_refused; /* a JOIN on a seat kept for it (a
	                       reservation's, a directive's) refused: a
	                       reload lowered max under the seat, and the
	                       users seated and seats leased reach it   */
	uint64_t leased_over_max; /* JOINs a worker applied on a lease that
	                       seated a user above max: a reload lowered
	                       it before the worker read the revoke     */
	uint64_t placed_beyond_target, seated_beyond_target; /* see above */
	/* seat leases */
	uint64_t lease_grants, leased_seats; /* grants, and their seats    */
	uint64_t lease_top_ups;   /* leases renewed before they ran dry */
	uint64_t lease_grown;     /* top-up sizes doubled: a lease ran dry */
	uint64_t leased_joins;    /* JOINs the workers applied on a lease */
	uint64_t lease_revokes;   /* rooms whose leases were taken back   */
	uint64_t lease_returned;  /* seats given back                     */
	uint64_t lease_errors;    /* a leased JOIN, or seats given back,
	                             the book had not leased (never, if the
	                             workers are right): seated anyway   */
	uint64_t resv_refused;    /* a seat not reserved: the user's home in
	                             the reservation index crowded
	                             (hc_keyidx.h; never by chance)       */
	uint64_t resv_consumed_evicted; /* every record in use: a consumed
	                                   one forgotten before it expired
	                                   (its PLACE's late resend is then
	                                   placed anew), no live one       */
	uint64_t seats_held;      /* seats held for directives          */
	uint64_t vacate_stale;    /* rooms let into a plan though an admitted
	                             move out was never reported done: the
	                             sync period of the room's latest mark
	                             ended without it (a stray decision;
	                             never, if the workers are right; a
	                             slow worker only keeps the room out) */
	uint64_t seat_errors;     /* a held seat given back or taken where
	                             the room had none held, or a
	                             reservation's seat where it had only
	                             held ones (never, if the callers are
	                             right): ignored, nothing wraps       */
};

struct hc_rooms {
	const struct hc_policy *pol;
	uint32_t max_rooms;
	struct hc_room *room;               /* [max_rooms], [0] unused  */
	struct hc_pool_index pool[HC_MAX_POOLS];
	/* ids */
	uint32_t next_unused;               /* never handed out: next..  */
	uint32_t *grace_q;                  /* FIFO of retired ids       */
	uint32_t grace_head, grace_tail;    /* indices mod max_rooms     */
	uint32_t *free_ids;                 /* reusable ids (stack)      */
	uint32_t n_free;
	/* reservations */
	struct hc_keyidx resv_by_user;      /* user -> slot              */
	struct hc_reservation *resv;        /* [resv_cap] records        */
	struct hc_resv_list resv_fifo[2];   /* [0] live, [1] consumed    */
	uint32_t resv_free;                 /* freed records, chained by next */
	uint32_t resv_unused;               /* records never used: unused.. */
	uint32_t resv_cap;                  /* records                   */
	uint32_t held_now;                  /* seats held for directives
	                                       (hc_rooms_hold_seat): no record */
	uint32_t *resv_of_gw;               /* [65536] live reservations per gateway */
	uint64_t leased_now;                /* seats leased, all rooms   */
	uint16_t *lease_of;                 /* [w * max_rooms + room]:
	                                       room's seats leased to worker w,
	                                       not taken or given back (grants on
	                                       their way included)          */
	unsigned lease_workers;             /* 1 + the highest worker ever
	                                       leased to (lease_grant)     */
	uint8_t *lease_tick_of;             /* [the same]: the tick (low bits) of
	                                       w's last grant or top-up there */
	struct hc_vacating *vacating;       /* [max_rooms]: admitted moves out of
	                                       the room not yet reported done */
	uint64_t ttl_tsc, grace_tsc;
	struct hc_rooms_stats st;
};

/* Returns 0 or -errno (-E2BIG: max_reservations above
 * HC_KEYIDX_MAX_CAPACITY).  name names the reservation index's memory. */
int hc_rooms_init(struct hc_rooms *r, const char *name, const struct hc_policy *pol,
		  uint32_t max_rooms, uint32_t max_reservations, uint64_t tsc_hz);
void hc_rooms_free(struct hc_rooms *r);

/*
 * Place user in pool (an index into pol->pool) and reserve the seat.
 * Returns the room id, 0 if no room id is free (counted as no_room) or
 * the reservation index refused the user (counted as resv_refused).
 * A user's earlier reservation is cancelled first.
 */
uint32_t hc_rooms_place(struct hc_rooms *r, unsigned pool, uint64_t user, uint64_t now);
/* The same for gateway gw's PLACE: the reservation counts against gw
 * (hc_rooms_reserved_by). */
uint32_t hc_rooms_place_for(struct hc_rooms *r, unsigned pool, uint64_t user, uint16_t gw,
			    uint64_t now);
/* The same for gateway gw's PLACE request_id: a resend of a PLACE whose
 * JOIN has taken the seat already (within the reservation's lifetime) is
 * answered with that room and reserves nothing. */
uint32_t hc_rooms_place_request(struct hc_rooms *r, unsigned pool, uint64_t user, uint16_t gw,
				uint32_t request_id, uint64_t now);
/* That resend's room alone (counted placements_late), or 0: for a
 * gateway at its quota, whose new PLACEs are answered NO_ROOM but whose
 * seated user asked again is not. */
uint32_t hc_rooms_place_late(struct hc_rooms *r, unsigned pool, uint64_t user, uint16_t gw,
			     uint32_t request_id, uint64_t now);
/* Live reservations (seats they hold), and records in use (live and
 * consumed): the lists' lengths. */
static inline uint32_t hc_rooms_resv_live(const struct hc_rooms *r)
{
	return r->resv_fifo[0].n;
}
static inline uint32_t hc_rooms_resv_records(const struct hc_rooms *r)
{
	return r->resv_fifo[0].n + r->resv_fifo[1].n;
}
/* Live reservations made for gateway gw's PLACEs. */
static inline uint32_t hc_rooms_reserved_by(const struct hc_rooms *r, uint16_t gw)
{
	return r->resv_of_gw[gw];
}
/* Does user hold a reservation (a repeated PLACE gets the same seat)? */
int hc_rooms_has_reservation(const struct hc_rooms *r, uint64_t user);

/*
 * A seat held in a live room below max for a move directive, which keeps
 * it (hc_directives.h): the room's reserved seats count it, no per-user
 * record does (the directive is the record: one index for both).  1, or 0
 * if the room is not live or full.  Unlike hc_rooms_reserve, a user's
 * placement reservation elsewhere is left to expire.
 */
int hc_rooms_hold_seat(struct hc_rooms *r, uint32_t room);
/* A held seat given back (its directive ended without its JOIN). */
void hc_rooms_free_seat(struct hc_rooms *r, uint32_t room);
/* The same in hc_directives_on_seat_free's callback shape (book: the
 * struct hc_rooms). */
void hc_rooms_seat_free_cb(void *book, uint32_t room);
/* The JOIN of the user a held seat in room was kept for: admitted on it
 * (occupancy unchanged): HC_ROOMS_ADMITTED_KEPT.  Unless force (a JOIN
 * already applied, --no-admission), refused (0; the seat given back,
 * kept_seats_refused) when the users seated and the seats leased there
 * reach the pool's max: a reload lowered it under the seat.  A placement
 * reservation the user holds (there or elsewhere) is left to expire. */
int hc_rooms_admit_on_seat(struct hc_rooms *r, uint32_t room, int force);
/* Would a seat kept for a user in room be refused now only because of
 * seats leased to workers (a reload lowered max under it: the users
 * below max, the users and leased seats at or above)?  Then its JOIN
 * waits for the leases' revoke, as any JOIN into a room full only for
 * leased seats does (a leased seat nobody uses never refuses a JOIN). */
int hc_rooms_kept_seat_waits(const struct hc_rooms *r, uint32_t room);

/*
 * Admission of user's JOIN into room (pool: the event's pool index, used
 * when the room is not live yet).  Returns HC_ROOMS_ADMITTED_KEPT if
 * admitted on the seat the user's reservation kept there (a placement's
 * or a move's: hc_rooms_holds_seat was true), 1 if admitted on a free
 * seat, 0 if refused (the room is full counting reservations; or the
 * kept seat's room has users seated and seats leased up to a max a
 * reload lowered under the seat: the seat is given back,
 * kept_seats_refused).  Any reservation the user held elsewhere is
 * cancelled.
 */
#define HC_ROOMS_ADMITTED_KEPT 2
int hc_rooms_admit(struct hc_rooms *r, uint32_t room, unsigned pool, uint64_t user,
		   uint64_t now);

/*
 * Record a JOIN the dataplane has already applied (no refusal possible):
 * consumes the user's reservation for room if any, else takes a seat even
 * beyond max (counted as over_max).  Returns 1.
 */
int hc_rooms_record_join(struct hc_rooms *r, uint32_t room, unsigned pool, uint64_t user,
			 uint64_t now);

/* A burst's look-ahead (hc_keyidx_prefetch): user's reservation, stage 1
 * (the index line) some changes ahead, stage 2 (the record) fewer. */
static inline void hc_rooms_prefetch_user(const struct hc_rooms *r, uint64_t user, int stage)
{
	if (stage == 1)
		hc_keyidx_prefetch(&r->resv_by_user, user);
	else
		hc_keyidx_prefetch_record(&r->resv_by_user, user);
}

/* Reserve a seat in a live room for user (a user's earlier reservation
 * is dropped first).  Returns 1, or 0 if the room is not live or full
 * (or, counted as resv_refused, the reservation index refused the user). */
int hc_rooms_reserve(struct hc_rooms *r, uint32_t room, uint64_t user, uint64_t now);
/* The same, charged to gateway gw (hc_rooms_reserved_by): a NEW_TOPIC's
 * seat renewed at its resend stays its gateway's, also when the earlier
 * reservation had gone (its TTL shorter than the resend, or cancelled). */
int hc_rooms_reserve_for(struct hc_rooms *r, uint32_t room, uint64_t user, uint16_t gw,
			 uint64_t now);

/* Cancel user's reservation made for gateway gw's PLACE, if any (its
 * seat is free again); another gateway's stays. */
void hc_rooms_cancel(struct hc_rooms *r, uint64_t user, uint16_t gw);

/* A new live room of pool (index); 0 if no id is free. */
uint32_t hc_rooms_open(struct hc_rooms *r, unsigned pool);

/* An admitted user left room (or moved out of it). */
void hc_rooms_leave(struct hc_rooms *r, uint32_t room);

/* A seat request that moves its user out of room was admitted in the
 * control channel's sync period stamp (hc_ctlsync_stamp): the room is
 * vacating until the worker reports it done. */
void hc_rooms_vacating(struct hc_rooms *r, uint32_t room, uint32_t stamp);

/* The worker moved an admitted request's user out of room
 * (HC_CHG_VACATED): hc_rooms_leave, and one vacating move less. */
void hc_rooms_vacated(struct hc_rooms *r, uint32_t room);

/* May a plan count room's users as they are: no seat reserved or leased
 * there, none being given back, no admitted move out of it still to be
 * reported?  settled: the last sync period ended (hc_ctlsync.settled),
 * marks being stamped at most 2 past it (the open period); marks whose
 * reports can no longer come are cleared, counted (vacate_stale). */
int hc_rooms_settled(struct hc_rooms *r, uint32_t room, uint32_t settled);

/* Release reservations whose JOIN did not come in time. */
void hc_rooms_expire(struct hc_rooms *r, uint64_t now);

/*
 * Seat leases (docs/architecture.md, "Seat leases").  A leased seat
 * counts in its room's occupancy like a reserved one, so admission and
 * placement stay exact whatever the workers do with it.
 *
 * lease: lease up to `want` seats of room to worker w, only while the room
 * stays far from full (occupancy + seats <= max - max(2, max / 8)), no
 * revoke of it is outstanding, the tick is past its lease_hold, and w
 * holds none of its seats already (by the book: a grant may be on its
 * way to w, or some seats of another grant left).
 * Returns the seats leased (0: none).
 * lease_top_up: worker w, a holder of room's leased seats, has at most
 * want / 2 of them left by the book (its own count: lease_of): lease it
 * up to want in all again, on the terms of a grant (the room stays far from full, no
 * revoke outstanding, past lease_hold), so a room that keeps filling
 * keeps its lease instead of running dry and costing round trips; none
 * when fewer than lease_seats / 4 seats fit below the margin.  `want` is
 * the policy's lease_seats; top-ups go up to it doubled lease_grow times
 * (lease_ran_dry), at most half of that left by the book.
 * Returns the seats added (0: none).
 * lease_ran_dry: worker w says its own leased JOINs took its last seat
 * of room before a top-up came (HC_CHGF_LEASE_DRY): while w holds seats
 * of room by the book (a top-up on its way), top-ups there double in size
 * (at most HC_ROOMS_LEASE_GROW_MAX times; for every holder), until no
 * worker holds any (all taken or given back) or a revoke; then they
 * start at lease_seats again.
 * lease_taken: worker w's JOIN of user into room on a leased seat: the
 * seat becomes the user's; a reservation the user held is freed (the user
 * sits on the leased seat).  Returns 1, or 0 when the book had no seat of
 * room leased to w (lease_errors; the user is seated anyway).
 * lease_revoke: take room's leased seats back: returns the workers to ask
 * (0: nothing leased, or all asked already); no lease until the tick
 * after `tick`.
 * lease_back: worker w gave back n seats of room (the book's count of w's
 * seats is what ends: a different n is counted an error).  Returns 1 when no
 * revoke of room is outstanding any more.
 */
uint32_t hc_rooms_lease(struct hc_rooms *r, uint32_t room, unsigned w, uint32_t want,
			uint32_t tick);
uint32_t hc_rooms_lease_top_up(struct hc_rooms *r, uint32_t room, unsigned w, uint32_t want,
			       uint32_t tick);
#define HC_ROOMS_LEASE_GROW_MAX 2 /* top-ups of at most 4 x lease_seats */
void hc_rooms_lease_ran_dry(struct hc_rooms *r, uint32_t room, unsigned w);
int hc_rooms_lease_taken(struct hc_rooms *r, uint32_t room, unsigned pool, unsigned w,
			 uint64_t user);
/* Workers the book tracks leases of (lease_mask's bits). */
#define HC_ROOMS_LEASE_WORKERS 16
/* Does a holder of room's leased seats hold a lease it was granted or
 * topped up for the last time two ticks or more before `tick` (a lease
 * nobody uses must not hold seats: revoked)? */
int hc_rooms_lease_idle(const struct hc_rooms *r, uint32_t room, uint32_t tick);
/* Where worker w's lease counts of room are (lease_of, lease_tick_of):
 * by worker, then room, so that one worker's counts of all rooms lie
 * together (a report reads its own worker's: 20,000 rooms are 40 KiB of
 * lines, not the 640 KiB of lines each room's 16 counts side by side
 * took: docs/benchmarks.md, "Lease counts by worker"). */
static inline size_t hc_rooms_lease_slot(const struct hc_rooms *r, uint32_t room, unsigned w)
{
	return (size_t)w * r->max_rooms + room;
}
/* Room's seats leased to worker w by the book. */
static inline uint32_t hc_rooms_lease_of(const struct hc_rooms *r, uint32_t room, unsigned w)
{
	return w < HC_ROOMS_LEASE_WORKERS ? r->lease_of[hc_rooms_lease_slot(r, room, w)] : 0;
}
/* A burst's look-ahead for a report that touches room: stage 1, some
 * changes ahead, the room and worker w's lease count of it (w >=
 * HC_ROOMS_LEASE_WORKERS: none); stage 2, fewer ahead, with the room in
 * cache by then, for a report that may relink the room into another
 * occupancy bucket (relevel: dir +1 a JOIN, -1 a LEAVE; 0 none), its
 * bucket neighbours and the first room of the bucket one level up or
 * down.  (A JOIN on a leased seat takes a user and gives back a leased
 * seat: it relinks the room only when the lease is topped up, by more
 * than a level.)  Hints only (a room relinked meanwhile by an earlier
 * report is read as it is then); room 0 or beyond the book: nothing. */
static inline void hc_rooms_prefetch_room(const struct hc_rooms *r, uint32_t room, unsigned w,
					  int dir, int stage)
{
	if (room == 0 || room >= r->max_rooms)
		return;
	const struct hc_room *rm = &r->room[room];
	if (stage == 1) {
		rte_prefetch0(rm);
		if (w < HC_ROOMS_LEASE_WORKERS)
			rte_prefetch0(&r->lease_of[hc_rooms_lease_slot(r, room, w)]);
		return;
	}
	if (dir == 0)
		return;
	if (rm->state != HC_ROOM_LIVE)
		return; /* (its links are a GRACE room's time, or nothing) */
	const struct hc_pool_index *pi = &r->pool[rm->pool];
	uint32_t to = rm->level + (uint32_t)dir; /* (level 0 down: wraps, past levels) */
	rte_prefetch0(&r->room[rm->prev]); /* (0: room 0, never live) */
	rte_prefetch0(&r->room[rm->next]);
	if (to < pi->levels)
		rte_prefetch0(&r->room[pi->head[to]]);
}
uint16_t hc_rooms_lease_revoke(struct hc_rooms *r, uint32_t room, uint32_t tick);
int hc_rooms_lease_back(struct hc_rooms *r, uint32_t room, unsigned w, uint32_t n);
/* The seats below max a room keeps unleased: max(2, max / 8). */
uint32_t hc_rooms_lease_margin(uint32_t max);
/* Does user hold a live reservation in room (a placement's; a move's
 * seat is its directive's, hc_directives_holds_seat)? */
int hc_rooms_holds_seat(const struct hc_rooms *r, uint32_t room, uint64_t user);
/* Would hc_rooms_admit refuse user's JOIN into room now (full)? */
int hc_rooms_full_for(const struct hc_rooms *r, uint32_t room, uint64_t user);

/* Retire live rooms with no user, no reservation, no leased seat and no
 * revoke outstanding; return grace-expired ids to the free list.
 * Returns rooms retired. */
unsigned hc_rooms_retire(struct hc_rooms *r, uint64_t now);

/*
 * A new policy for the book (a config reload), in two steps so that a
 * reload is applied whole or not at all: prepare checks and allocates
 * (a removed pool must hold no users and no reserved seats: -1 with the
 * reason in err, nothing changed); commit cannot fail: the pools' buckets
 * are rebuilt for their new max (a room above it sits in the top bucket
 * until the balancer brings it down), pool indices follow pool ids, a
 * removed pool's empty rooms are retired, the reservation TTL and retire
 * grace change.  O(max_rooms).  abort frees a prepared one.
 */
struct hc_rooms_repool {
	uint8_t map[HC_MAX_POOLS];          /* old pool index -> new (HC_NO_POOL) */
	uint32_t levels[HC_MAX_POOLS];
	uint32_t *head[HC_MAX_POOLS];
	uint64_t *bits[HC_MAX_POOLS];
};
int hc_rooms_repool_prepare(const struct hc_rooms *r, const struct hc_policy *np,
			    struct hc_rooms_repool *x, char *err, size_t errlen);
void hc_rooms_repool_commit(struct hc_rooms *r, const struct hc_policy *np,
			    struct hc_rooms_repool *x, uint64_t tsc_hz, uint64_t now);
void hc_rooms_repool_abort(struct hc_rooms_repool *x);

/* Occupancy: users plus reserved and leased seats. */
static inline uint32_t hc_room_occupancy(const struct hc_room *rm)
{
	return rm->users + rm->reserved + rm->leased;
}

#endif /* HC_ROOMS_H */
