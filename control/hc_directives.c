/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_directives.c - MOVE directives in flight (see hc_directives.h).
 * Control core only.
 */
#include "hc_directives.h"

#include <errno.h>
#include <string.h>

#include <rte_memory.h>
#include <rte_random.h>

#include "hc_bigmem.h"

int hc_directives_init(struct hc_directives *d, const char *name, uint32_t cap,
		       uint64_t timeout_tsc, uint32_t retries)
{
	memset(d, 0, sizeof(*d));
	if (cap == 0 || cap > HC_KEYIDX_MAX_CAPACITY)
		return -E2BIG;
	d->cap = cap; /* (before the ring: its free needs its size) */
	d->ring = hc_bigmem_zalloc("hc_directives", sizeof(*d->ring) * cap, SOCKET_ID_ANY);
	/* (the seed: gateways choose user ids, hc_keyidx.h) */
	if (d->ring == NULL || hc_keyidx_init(&d->by_user, name, cap, d->ring, sizeof(*d->ring),
					      HC_KEYIDX_SPARSE, rte_rand(), SOCKET_ID_ANY) != 0) {
		hc_directives_free(d);
		return -ENOMEM;
	}
	d->timeout_tsc = timeout_tsc;
	d->retries = retries;
	return 0;
}

void hc_directives_free(struct hc_directives *d)
{
	hc_keyidx_free(&d->by_user);
	hc_bigmem_free(d->ring, sizeof(*d->ring) * d->cap);
	memset(d, 0, sizeof(*d));
}

void hc_directives_on_seat_free(struct hc_directives *d,
				void (*fn)(void *ctx, uint32_t room), void *ctx)
{
	d->seat_free = fn;
	d->seat_ctx = ctx;
}

/* The slot's directive leaves the index (its slot is dead). */
static void retire_slot(struct hc_directives *d, uint32_t slot)
{
	struct hc_directive *x = &d->ring[slot];
	if (!x->live)
		return;
	x->live = 0;
	hc_keyidx_del(&d->by_user, x->user);
}

/* x, in flight, is no longer (counted done, given up, replaced or
 * cancelled by the caller): a NEW_TOPIC leaves topics_open. */
static inline void ended(struct hc_directives *d, const struct hc_directive *x)
{
	if (x->kind == HC_DIR_NEW_TOPIC)
		d->topics_open--;
}

/* The seat x held, if any, given back to the seat book. */
static void free_seat(struct hc_directives *d, struct hc_directive *x)
{
	if (!x->seat)
		return;
	x->seat = 0;
	d->seat_free(d->seat_ctx, x->to);
	d->st.seats_freed++;
}

/* The ring's oldest directive leaves it, ended if still live (counted in
 * *why unless it was cancelled already), its seat given back. */
static void pop_oldest(struct hc_directives *d, uint64_t *why)
{
	struct hc_directive *oldest = &d->ring[d->head];
	if (oldest->live) {
		if (!oldest->cancelled) {
			(*why)++;
			ended(d, oldest);
		}
		free_seat(d, oldest);
		retire_slot(d, d->head);
	}
	d->head = d->head + 1 == d->cap ? 0 : d->head + 1;
	d->count--;
}

/* The slot the next directive takes at the ring's tail (a full ring
 * gives up its oldest directive first), not yet counted.  (The tail and
 * the head step without a division: one took a fifth of a directive's
 * add.) */
static uint32_t tail_slot(struct hc_directives *d)
{
	if (d->count == d->cap)
		pop_oldest(d, &d->st.given_up);
	uint32_t slot = d->head + d->count; /* head < cap, count < cap */
	return slot >= d->cap ? slot - d->cap : slot;
}

/* The directive just written at slot (tail_slot's) joins the ring and
 * the index, replacing the user's earlier one.  0, or -ENOSPC if the
 * index refused the user (the slot stays dead, its seat the caller's). */
static int append_slot(struct hc_directives *d, uint32_t slot)
{
	struct hc_directive *x = &d->ring[slot];
	x->live = 0;
	d->count++;
	int32_t old = hc_keyidx_repoint(&d->by_user, x->user, slot);
	if (old >= 0) {
		struct hc_directive *o = &d->ring[old];
		free_seat(d, o);
		o->live = 0;
		if (!o->cancelled) {
			d->st.replaced++;
			ended(d, o);
		}
	} else if (hc_keyidx_insert(&d->by_user, x->user, slot) != 0) {
		return -ENOSPC;
	}
	x->live = 1;
	return 0;
}

/* Append a copy of dir: tail_slot, then append_slot. */
static int push(struct hc_directives *d, const struct hc_directive *dir)
{
	uint32_t slot = tail_slot(d);
	d->ring[slot] = *dir;
	return append_slot(d, slot);
}

/* A new directive, written in its slot field by field: built on the
 * stack and copied, its 16-byte loads read across the narrower stores
 * just made, which the CPU cannot forward (a third of the add's samples
 * waited there). */
static uint32_t add_kind(struct hc_directives *d, uint64_t user, uint32_t from, uint32_t to,
			 uint16_t gateway, uint16_t pool_id, uint64_t now, uint16_t kind)
{
	if (++d->next_id == 0)
		d->next_id = 1;
	uint32_t id = d->next_id, slot = tail_slot(d);
	d->ring[slot] = (struct hc_directive){.user = user, .deadline = now + d->timeout_tsc,
		.from = from, .to = to, .id = id, .gateway = gateway, .attempt = 0, .kind = kind,
		.pool_id = pool_id,
		.seat = kind == HC_DIR_MOVE && d->seat_free != NULL};
	if (append_slot(d, slot) != 0) {
		d->st.refused++;
		return 0;
	}
	d->st.sent++;
	d->topics_open += kind == HC_DIR_NEW_TOPIC;
	return id;
}

uint32_t hc_directives_add(struct hc_directives *d, uint64_t user, uint32_t from, uint32_t to,
			   uint16_t gateway, uint64_t now)
{
	return add_kind(d, user, from, to, gateway, 0, now, HC_DIR_MOVE);
}

uint32_t hc_directives_add_new_topic(struct hc_directives *d, uint64_t user, uint32_t refused,
				     uint32_t to, uint16_t gateway, uint16_t pool_id, uint64_t now)
{
	return add_kind(d, user, refused, to, gateway, pool_id, now, HC_DIR_NEW_TOPIC);
}

/* The user's live directive, or NULL. */
static struct hc_directive *find(const struct hc_directives *d, uint64_t user)
{
	int32_t slot = d->count == 0 ? -1 : hc_keyidx_lookup(&d->by_user, user);
	return slot < 0 ? NULL : &d->ring[slot];
}

/* x ends as its JOIN came: 1 if that completed it (not cancelled). */
static int complete(struct hc_directives *d, struct hc_directive *x)
{
	retire_slot(d, (uint32_t)(x - d->ring));
	if (x->cancelled)
		return 0;
	d->st.done++;
	ended(d, x);
	return 1;
}

/* What a JOIN of x's user into room means for x (NULL: no directive):
 * HC_DIR_INTO_ROOM (its destination), HC_DIR_ELSEWHERE (another room), or
 * HC_DIR_NONE (none, or a JOIN again where a MOVE starts).  A JOIN into
 * the room a NEW_TOPIC's JOIN was refused is another room: once it is
 * admitted the user sits there, and a resent NEW_TOPIC would take them
 * out again. */
static int join_into(const struct hc_directive *x, uint32_t room)
{
	if (x == NULL)
		return HC_DIR_NONE;
	if (x->to == room)
		return HC_DIR_INTO_ROOM;
	return x->from == room && x->kind == HC_DIR_MOVE ? HC_DIR_NONE : HC_DIR_ELSEWHERE;
}

int hc_directives_joined(struct hc_directives *d, uint64_t user, uint32_t room)
{
	struct hc_directive *x = find(d, user);
	int into = join_into(x, room);
	if (into == HC_DIR_NONE)
		return 0;
	free_seat(d, x); /* seated on another seat, or in another room */
	if (into == HC_DIR_INTO_ROOM)
		return complete(d, x);
	/* the user went to a third room: no MOVE from `from` can be obeyed
	 * now (the gateway ignores one), nothing to resend */
	if (!x->cancelled) {
		d->st.cancelled++;
		ended(d, x);
	}
	retire_slot(d, (uint32_t)(x - d->ring));
	return 0;
}

int hc_directives_take_seat(struct hc_directives *d, uint64_t user, uint32_t room)
{
	struct hc_directive *x = find(d, user);
	int into = join_into(x, room);
	if (into != HC_DIR_INTO_ROOM || !x->seat)
		return into;
	x->seat = 0; /* the caller's now */
	d->st.seats_taken++;
	complete(d, x);
	return HC_DIR_SEAT_TAKEN;
}

int hc_directives_holds_seat(const struct hc_directives *d, uint64_t user, uint32_t room)
{
	const struct hc_directive *x = find(d, user);
	return x != NULL && x->seat && x->to == room;
}

int hc_directives_cancel(struct hc_directives *d, uint64_t user, uint64_t now)
{
	struct hc_directive *x = find(d, user);
	if (x == NULL || x->cancelled)
		return 0;
	d->st.cancelled++;
	ended(d, x);
	if (!x->seat) {
		retire_slot(d, (uint32_t)(x - d->ring));
		return 1;
	}
	/* the seat waits a whole timeout from now for the JOIN of a MOVE
	 * obeyed as LEAVE + JOIN: the directive goes to the ring's tail
	 * (deadlines stay in ring order), its old slot dies; when that would
	 * push another live directive out of a full ring, it stays where it
	 * is, with its deadline */
	const struct hc_directive *oldest = &d->ring[d->head];
	if (d->count == d->cap && oldest->live && oldest != x) {
		x->cancelled = 1;
		return 1;
	}
	struct hc_directive kept = *x;
	kept.cancelled = 1;
	kept.deadline = now + d->timeout_tsc;
	x->seat = 0;      /* (it moves with the copy) */
	x->cancelled = 1; /* (not counted again where the push ends it) */
	if (push(d, &kept) != 0)
		free_seat(d, &kept); /* (the index refused it: never, it held the user) */
	return 1;
}

void hc_directives_retime(struct hc_directives *d, uint64_t timeout_tsc, uint32_t retries,
			  uint64_t now)
{
	uint64_t latest = now + timeout_tsc;
	for (uint32_t k = 0; k < d->count; k++) {
		struct hc_directive *x = &d->ring[(d->head + k) % d->cap];
		if (x->deadline > latest)
			x->deadline = latest; /* (still in ring order: min with a constant) */
	}
	d->timeout_tsc = timeout_tsc;
	d->retries = retries;
}

void hc_directives_drop_all(struct hc_directives *d)
{
	while (d->count > 0)
		pop_oldest(d, &d->st.dropped);
}

unsigned hc_directives_expire(struct hc_directives *d, uint64_t now,
			      int (*resend)(void *ctx, const struct hc_directive *dir,
					    uint64_t now),
			      void *ctx)
{
	unsigned resent = 0;
	while (d->count > 0 && d->ring[d->head].deadline <= now) {
		struct hc_directive x = d->ring[d->head];
		retire_slot(d, d->head);
		d->head = d->head + 1 == d->cap ? 0 : d->head + 1;
		d->count--;
		if (!x.live)
			continue;
		if (x.cancelled) {
			free_seat(d, &x); /* no LEAVE + JOIN came for it */
			continue;
		}
		if (x.attempt >= d->retries) {
			d->st.given_up++;
			ended(d, &x);
			free_seat(d, &x);
			continue;
		}
		x.attempt++;
		x.deadline = now + d->timeout_tsc;
		if (resend(ctx, &x, now) != 0 || push(d, &x) != 0) {
			/* not sent (the caller's reason, counted there), or
			 * sent and no longer tracked (the seat goes with the
			 * copy) */
			d->st.given_up++; /* sent, no longer tracked */
			ended(d, &x);
			free_seat(d, &x);
			continue;
		}
		d->st.resent++;
		resent++;
	}
	return resent;
}
