/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_directives.h - MOVE directives in flight: done, resent, or given up.
 *
 * Owned by the control core.  Every MOVE sent is recorded (user, from,
 * to, gateway, id, attempt) with a deadline `directive_timeout_ms` ahead.
 * A directive is done when the user's JOIN into `to` is admitted (or,
 * without admission, applied); cancelled when the user leaves.  When
 * the deadline passes first, the directive is sent again (the same id,
 * attempt + 1) up to `directive_retries` times, then given up and
 * counted.  Deadlines grow in sending order, so the table is a FIFO ring;
 * a compact index (hc_keyidx: the user id is the ring record's first
 * field) finds a user's live directive in O(1).  A user has at most one
 * directive in flight: a newer one replaces the older.
 *
 * A MOVE holds its seat in `to` (hc_rooms_hold_seat): the directive is
 * the seat's only record, so recording a move, and its JOIN, touch one
 * user index, not two (docs/architecture.md, "Directives and their
 * seats").  The user's JOIN into `to` takes the seat
 * (hc_directives_take_seat); a directive that ends otherwise (given up,
 * replaced, pushed out of a full ring, or its user seated by another
 * seat) gives it back through the seat_free callback.  A user who leaves
 * cancels the directive but not its seat: a MOVE obeyed as LEAVE + JOIN
 * still finds it for a whole timeout after the LEAVE (then it is given
 * back, nothing resent).  An ASSIGN NEW_TOPIC's seat is a placement
 * reservation in the seat book (hc_rooms_place), not the directive's.
 */
#ifndef HC_DIRECTIVES_H
#define HC_DIRECTIVES_H

#include <stdint.h>

#include "hc_keyidx.h"

struct hc_directive {
	uint64_t user;       /* first: the index's key (hc_keyidx.h) */
	uint64_t deadline;   /* TSC */
	uint32_t from, to;
	uint32_t id;
	uint16_t gateway;
	uint16_t attempt;    /* 0 for the first send */
	uint8_t live;        /* indexed; 0: ended (its slot is dead) */
	uint8_t seat;        /* holds a seat in `to` (a MOVE's) */
	uint8_t cancelled;   /* its user left: kept for the seat alone until
	                        the deadline, never resent */
	uint8_t unused;
	uint16_t kind;       /* HC_DIR_MOVE or HC_DIR_NEW_TOPIC */
	uint16_t pool_id;    /* a NEW_TOPIC's: its rooms' pool (the id: a
	                        reload may renumber the pools' indexes) */
};

enum {
	HC_DIR_MOVE = 0,      /* a MOVE record                                */
	HC_DIR_NEW_TOPIC = 1, /* an ASSIGN NEW_TOPIC: a refused JOIN's new room
	                         (from = the refused room); resent like a MOVE
	                         until the user's JOIN there is admitted       */
};

struct hc_directives_stats {
	uint64_t sent, resent, done, given_up, replaced;
	uint64_t cancelled; /* the user left before moving */
	uint64_t seats_freed; /* held seats given back (seat_free)     */
	uint64_t seats_taken; /* held seats the user's JOIN took       */
	uint64_t refused;   /* not recorded: the user's home in the index
	                       crowded (hc_keyidx.h; never by chance) */
	uint64_t dropped;   /* in flight when an HA master was demoted:
	                       ended, their seats given back */
};

struct hc_directives {
	struct hc_keyidx by_user;   /* user -> live slot */
	struct hc_directive *ring;
	uint32_t cap, head, count;
	uint32_t next_id;
	uint64_t timeout_tsc;
	uint32_t retries;
	void (*seat_free)(void *ctx, uint32_t room); /* NULL: no seats */
	void *seat_ctx;
	uint64_t topics_open; /* NEW_TOPICs among those in flight */
	struct hc_directives_stats st;
};

int hc_directives_init(struct hc_directives *d, const char *name, uint32_t cap,
		       uint64_t timeout_tsc, uint32_t retries);
void hc_directives_free(struct hc_directives *d);

/* Seats held by MOVEs are given back by calling fn(ctx, room) (the seat
 * book's hc_rooms_free_seat); without it directives hold no seats. */
void hc_directives_on_seat_free(struct hc_directives *d,
				void (*fn)(void *ctx, uint32_t room), void *ctx);

/* Record a new MOVE, which holds the seat the caller took in `to` (with
 * hc_directives_on_seat_free set); returns its id, or 0 if the index
 * refused the user (counted as refused: the caller sends nothing and
 * frees the seat itself). */
uint32_t hc_directives_add(struct hc_directives *d, uint64_t user, uint32_t from, uint32_t to,
			   uint16_t gateway, uint64_t now);

/* The same for an admission refusal's ASSIGN NEW_TOPIC (0: refused; the
 * caller has sent the ASSIGN once, untracked). */
uint32_t hc_directives_add_new_topic(struct hc_directives *d, uint64_t user, uint32_t refused,
				     uint32_t to, uint16_t gateway, uint16_t pool_id, uint64_t now);

/* A burst's look-ahead for user's directive, as hc_rooms_prefetch_user. */
static inline void hc_directives_prefetch(const struct hc_directives *d, uint64_t user,
					  int stage)
{
	if (stage == 1)
		hc_keyidx_prefetch(&d->by_user, user);
	else
		hc_keyidx_prefetch_record(&d->by_user, user);
}

/* The user joined `room` on some other seat (a free or leased one, or
 * without admission): if that completes their directive, it is done and
 * any seat it held given back.  A directive into another room ends too
 * when `room` is not the one it moves the user from (the user went to a
 * third room: its MOVE can no longer be obeyed, the gateway ignores it;
 * counted cancelled, its seat given back).  Returns 1 if a directive was
 * completed (one cancelled by a LEAVE ends too, not counted again). */
int hc_directives_joined(struct hc_directives *d, uint64_t user, uint32_t room);

/* The user's JOIN into room, before admission, in one lookup:
 * HC_DIR_SEAT_TAKEN if their directive held a seat there: it is done and
 * the seat the caller's to seat the user on (hc_rooms_admit_on_seat);
 * HC_DIR_INTO_ROOM if their directive into room holds none (a NEW_TOPIC)
 * and HC_DIR_ELSEWHERE if it goes to another room and room is not the one
 * a MOVE moves the user from (a NEW_TOPIC's refused room is another room):
 * nothing changed, hc_directives_joined once the JOIN is admitted;
 * HC_DIR_NONE (0) otherwise: nothing to call. */
enum { HC_DIR_NONE = 0, HC_DIR_SEAT_TAKEN = 1, HC_DIR_INTO_ROOM = 2, HC_DIR_ELSEWHERE = 3 };
int hc_directives_take_seat(struct hc_directives *d, uint64_t user, uint32_t room);

/* Does user's directive hold a seat in room? */
int hc_directives_holds_seat(const struct hc_directives *d, uint64_t user, uint32_t room);

/* The user left (at now): their directive, if any, is cancelled (never
 * resent; a seat it holds kept a whole timeout from now, for a MOVE
 * obeyed as LEAVE + JOIN; in a full ring until its deadline instead).
 * Returns 1 if one was. */
int hc_directives_cancel(struct hc_directives *d, uint64_t user, uint64_t now);

/* A reloaded timeout and retries: no directive waits past now + the new
 * timeout (a shorter one must not leave the ring's later directives
 * waiting behind deadlines of the old).  O(directives in the ring). */
void hc_directives_retime(struct hc_directives *d, uint64_t timeout_tsc, uint32_t retries,
			  uint64_t now);

/* Directives sent and not yet done, given up, replaced, cancelled or
 * dropped. */
static inline uint64_t hc_directives_in_flight(const struct hc_directives *d)
{
	const struct hc_directives_stats *s = &d->st;
	return s->sent - s->done - s->given_up - s->replaced - s->cancelled - s->dropped;
	/* (refused directives were never counted as sent) */
}

/* Of them, the MOVEs (the balancer's own; not the NEW_TOPICs of
 * refused JOINs, whose rooms sit plans out on their reservations). */
static inline uint64_t hc_directives_moves_in_flight(const struct hc_directives *d)
{
	return hc_directives_in_flight(d) - d->topics_open;
}

/* Every directive ends now, unsent again, its seat given back (an HA
 * demotion: the box is cold, and its moves the other box's to make). */
void hc_directives_drop_all(struct hc_directives *d);

/*
 * Directives whose deadline passed: each is either handed to resend()
 * (which sends it again at `now` and returns 0; it is then re-armed with
 * attempt + 1, or returns non-zero: not sent, given up) or, after
 * `retries` resends, given up.  Returns how many were resent.
 */
unsigned hc_directives_expire(struct hc_directives *d, uint64_t now,
			      int (*resend)(void *ctx, const struct hc_directive *dir,
					    uint64_t now),
			      void *ctx);

#endif /* HC_DIRECTIVES_H */
