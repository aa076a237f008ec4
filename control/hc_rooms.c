/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_rooms.c - the control core's seat book (see hc_rooms.h).
 *
 * HOW IT WORKS
 * Each pool keeps its live rooms in doubly linked buckets by occupancy
 * (users + reserved, capped at max: a room above max, possible only by a
 * gateway's doing, sits in the "max" bucket and is never offered).  A
 * bitmap marks non-empty buckets; "the fullest room below target" is the
 * highest set bit in [1, target-1], "the fullest room with a free seat and
 * at least min occupancy" the highest in [min, max-1].  Changing a room's
 * occupancy moves it between buckets in O(1).
 *
 * Reservations are records in a FIFO list (they expire in creation
 * order) found by a compact index from user to record (hc_keyidx: the
 * user id is the record's first field), so a JOIN finds its user's seat
 * in O(1).  A cancelled reservation's record is free at once; a consumed
 * one moves to a second list, kept for a late resend of its PLACE until
 * it expires.
 *
 * Room ids: never-used ids are handed out in order; retired ids wait in a
 * FIFO until their grace period has passed, then join a free stack.  Ids
 * that a gateway uses directly become live on admission; the allocator
 * skips any id that is not FREE, so it never hands out a live id.
 */
#include "hc_rooms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <stdio.h>

#include <rte_malloc.h>
#include <rte_random.h>

#include "hc_bigmem.h"

/* ------------------------------------------------------------ buckets -- */

static inline uint32_t level_of(const struct hc_rooms *r, const struct hc_room *rm)
{
	uint32_t occ = hc_room_occupancy(rm), max = r->pol->pool[rm->pool].max;
	return occ < max ? occ : max;
}

static void bucket_insert(struct hc_rooms *r, uint32_t id, uint32_t level)
{
	struct hc_room *rm = &r->room[id];
	struct hc_pool_index *pi = &r->pool[rm->pool];
	uint32_t first = pi->head[level];
	rm->level = (uint16_t)level;
	rm->prev = 0;
	rm->next = first;
	if (first != 0)
		r->room[first].prev = id;
	pi->head[level] = id;
	pi->bits[level >> 6] |= 1ull << (level & 63);
}

static void bucket_remove(struct hc_rooms *r, uint32_t id)
{
	struct hc_room *rm = &r->room[id];
	struct hc_pool_index *pi = &r->pool[rm->pool];
	uint32_t level = rm->level;
	if (rm->prev != 0)
		r->room[rm->prev].next = rm->next;
	else
		pi->head[level] = rm->next;
	if (rm->next != 0)
		r->room[rm->next].prev = rm->prev;
	if (pi->head[level] == 0)
		pi->bits[level >> 6] &= ~(1ull << (level & 63));
	rm->prev = rm->next = 0;
}

static inline void relevel(struct hc_rooms *r, uint32_t id)
{
	struct hc_room *rm = &r->room[id];
	uint32_t level = level_of(r, rm);
	if (level != rm->level) {
		bucket_remove(r, id);
		bucket_insert(r, id, level);
	}
}

/* Highest non-empty bucket in [lo, hi], or -1. */
static int highest(const struct hc_pool_index *pi, uint32_t lo, uint32_t hi)
{
	if (lo > hi)
		return -1;
	for (int w = (int)(hi >> 6); w >= (int)(lo >> 6); w--) {
		uint64_t bits = pi->bits[w];
		if ((uint32_t)w == hi >> 6 && (hi & 63) != 63)
			bits &= (1ull << ((hi & 63) + 1)) - 1;
		if ((uint32_t)w == lo >> 6)
			bits &= ~0ull << (lo & 63);
		if (bits != 0)
			return w * 64 + 63 - __builtin_clzll(bits);
	}
	return -1;
}

/* ------------------------------------------------------------ room ids -- */

static void make_live(struct hc_rooms *r, uint32_t id, unsigned pool)
{
	struct hc_room *rm = &r->room[id];
	rm->pool = (uint8_t)pool;
	rm->state = HC_ROOM_LIVE;
	rm->users = 0;
	rm->reserved = rm->held = 0;
	rm->leased = rm->lease_mask = rm->revoking = rm->lease_grow = 0;
	rm->lease_hold = 0;
	r->vacating[id].moves = 0;
	/* (0 already: none leased; the workers ever leased to only, each
	 * its own line now: hc_rooms_lease_slot) */
	for (unsigned w = 0; w < r->lease_workers; w++)
		r->lease_of[hc_rooms_lease_slot(r, id, w)] = 0;
	r->pool[pool].rooms++;
	bucket_insert(r, id, 0);
}

/* A pool with its own id range (hc_pool_cfg.room_first..room_last: a
 * sharded pool keeps the same room ids on whichever appliance holds it,
 * docs/scaling-shards.md) takes the next FREE id of its range, round
 * from a cursor; retired ids of the range come back FREE after their
 * grace and are found by the same walk.  O(range) at worst, on the
 * control core's slow path; a walk that finds none marks the range full
 * (hc_pool_index.range_full), and the pool's next rooms are refused at
 * once until one of its ids comes FREE (range_freed): every PLACE and
 * refused JOIN of a pool whose range is taken had walked it whole. */
static uint32_t new_ranged_id(struct hc_rooms *r, unsigned pool)
{
	const struct hc_pool_cfg *c = &r->pol->pool[pool];
	struct hc_pool_index *pi = &r->pool[pool];
	if (pi->range_full)
		return 0;
	uint32_t n = c->room_last - c->room_first + 1;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t id = c->room_first + (pi->cursor + k) % n;
		if (r->room[id].state == HC_ROOM_FREE) {
			pi->cursor = (id - c->room_first + 1) % n;
			r->st.range_ids_walked += k + 1;
			return id;
		}
	}
	r->st.range_ids_walked += n;
	pi->range_full = 1;
	return 0;
}

/* Room id came FREE: the pool whose range holds it may walk it again. */
static void range_freed(struct hc_rooms *r, uint32_t id)
{
	uint8_t p = hc_policy_range_pool(r->pol, id);
	if (p != HC_NO_POOL)
		r->pool[p].range_full = 0;
}

static uint32_t new_room_id(struct hc_rooms *r, unsigned pool)
{
	if (r->pol->pool[pool].room_last != 0)
		return new_ranged_id(r, pool);
	while (r->n_free > 0) {
		uint32_t id = r->free_ids[--r->n_free];
		if (r->room[id].state == HC_ROOM_FREE) {
			r->st.reused++;
			return id;
		}
	}
	while (r->next_unused < r->max_rooms) {
		uint32_t id = r->next_unused++;
		if (r->room[id].state == HC_ROOM_FREE)
			return id;
	}
	return 0;
}

/* -------------------------------------------------------- reservations -- */

/* A reservation's seat leaves `reserved` (taken or freed): 1, or 0
 * (counted) if the room's reserved seats are all directives'. */
static int resv_seat_out(struct hc_rooms *r, uint32_t room)
{
	struct hc_room *rm = &r->room[room];
	if (rm->reserved <= rm->held) {
		r->st.seat_errors++;
		return 0;
	}
	rm->reserved--;
	r->pool[rm->pool].reserved--;
	return 1;
}

static void seat_release(struct hc_rooms *r, uint32_t room)
{
	if (resv_seat_out(r, room))
		relevel(r, room);
}

/* ---- the records' lists: O(1) each, no walk, no pause ----
 * A record is live (in resv_fifo[0], creation order: expiry order, as
 * every reservation lives equally long), consumed (resv_fifo[1], in the
 * order their JOINs came) or free (chained from resv_free, or never used:
 * resv_unused..).  A reservation cancelled, replaced or expired frees its
 * record at once; a consumed one is kept for a late resend of its PLACE
 * until it expires or the records run out. */
static void list_append(struct hc_rooms *r, struct hc_resv_list *l, uint32_t slot)
{
	struct hc_reservation *v = &r->resv[slot];
	v->prev = l->last;
	v->next = HC_RESV_NIL;
	if (l->last != HC_RESV_NIL)
		r->resv[l->last].next = slot;
	else
		l->first = slot;
	l->last = slot;
	l->n++;
}

static void list_unlink(struct hc_rooms *r, struct hc_resv_list *l, uint32_t slot)
{
	struct hc_reservation *v = &r->resv[slot];
	if (v->prev != HC_RESV_NIL)
		r->resv[v->prev].next = v->next;
	else
		l->first = v->next;
	if (v->next != HC_RESV_NIL)
		r->resv[v->next].prev = v->prev;
	else
		l->last = v->prev;
	l->n--;
}

/* A record out of its list and free (its index entry deleted already). */
static void resv_release(struct hc_rooms *r, int32_t slot)
{
	struct hc_reservation *v = &r->resv[slot];
	list_unlink(r, &r->resv_fifo[v->consumed], (uint32_t)slot);
	v->room = 0;
	v->consumed = 0;
	v->next = r->resv_free;
	r->resv_free = (uint32_t)slot;
}

/* A free record, or HC_RESV_NIL (every record in use). */
static uint32_t resv_alloc(struct hc_rooms *r)
{
	uint32_t slot = r->resv_free;
	if (slot != HC_RESV_NIL) {
		r->resv_free = r->resv[slot].next;
		return slot;
	}
	if (r->resv_unused < r->resv_cap)
		return r->resv_unused++;
	return HC_RESV_NIL;
}

/* The user's reservation slot (live or consumed), or -1. */
static int32_t resv_lookup(const struct hc_rooms *r, uint64_t user)
{
	int32_t slot = hc_keyidx_lookup(&r->resv_by_user, user);
	return slot < 0 ? -1 : slot;
}

/* A consumed reservation is forgotten: its record is free. */
static void resv_forget(struct hc_rooms *r, int32_t slot)
{
	hc_keyidx_del(&r->resv_by_user, r->resv[slot].user);
	resv_release(r, slot);
}

/* The user's live reservation slot, or -1 (a consumed one is forgotten:
 * the caller replaces or ends it). */
static int32_t resv_find(struct hc_rooms *r, uint64_t user)
{
	int32_t slot = resv_lookup(r, user);
	if (slot >= 0 && r->resv[slot].consumed) {
		resv_forget(r, slot);
		return -1;
	}
	return slot;
}

/* The user's JOIN took the seat: it stays known (not live) until it
 * expires, for a late resend of its PLACE. */
static void resv_consume(struct hc_rooms *r, int32_t slot)
{
	struct hc_reservation *v = &r->resv[slot];
	list_unlink(r, &r->resv_fifo[0], (uint32_t)slot);
	v->consumed = 1;
	list_append(r, &r->resv_fifo[1], (uint32_t)slot);
	r->resv_of_gw[v->gateway]--;
}

/* A live reservation ends (cancelled, replaced, expired): its record is
 * free, and its seat too if release_seat. */
static void resv_drop(struct hc_rooms *r, int32_t slot, int release_seat)
{
	struct hc_reservation *v = &r->resv[slot];
	if (release_seat)
		seat_release(r, v->room);
	hc_keyidx_del(&r->resv_by_user, v->user);
	r->resv_of_gw[v->gateway]--;
	resv_release(r, slot);
}

/*
 * Every record in use: one made free.  Any whose time is over go first;
 * else the oldest consumed one is forgotten if there is any (kept only
 * to answer a late resend of its PLACE the same; such a resend is then
 * placed anew); only when every record holds a live reservation does the
 * oldest live one expire early.
 * So a gateway that cancels or uses its own reservations as fast as it
 * makes them (a PLACE in another pool, a JOIN elsewhere or into the
 * seat, a LEAVE, and again) never evicts another gateway's live one: a
 * cancelled record is free at once, a consumed one goes first.  O(1): no
 * walk, no squeeze (until 2026-12-06 a ring, squeezed in one PLACE's time:
 * 18-20 ms at the default size, docs/benchmarks.md).
 */
static void resv_evict(struct hc_rooms *r, uint64_t now)
{
	hc_rooms_expire(r, now); /* (the PLACEs of a poll come before its expiry) */
	if (hc_rooms_resv_records(r) < r->resv_cap)
		return;
	if (r->resv_fifo[1].n > 0) {
		resv_forget(r, (int32_t)r->resv_fifo[1].first);
		r->st.resv_consumed_evicted++;
	} else {
		resv_drop(r, (int32_t)r->resv_fifo[0].first, 1);
		r->st.expired++;
	}
}

/* A seat for user (who holds no reservation) in room: 1, or 0 when the
 * index refuses the user (a crowded home, hc_keyidx.h: counted, no seat
 * taken; callers answer as if no room had a seat). */
static int resv_add(struct hc_rooms *r, uint64_t user, uint32_t room, uint16_t gw,
		    uint32_t request_id, uint64_t now)
{
	if (hc_rooms_resv_records(r) == r->resv_cap)
		resv_evict(r, now);
	uint32_t slot = resv_alloc(r);
	if (slot == HC_RESV_NIL || hc_keyidx_insert(&r->resv_by_user, user, slot) != 0) {
		if (slot != HC_RESV_NIL) { /* back to the free chain */
			r->resv[slot].next = r->resv_free;
			r->resv_free = slot;
		}
		r->st.resv_refused++;
		return 0;
	}
	r->resv[slot] = (struct hc_reservation){.user = user, .room = room, .gateway = gw,
						.request_id = request_id,
						.expires = now + r->ttl_tsc};
	list_append(r, &r->resv_fifo[0], slot);
	r->resv_of_gw[gw]++;
	struct hc_room *rm = &r->room[room];
	rm->reserved++;
	r->pool[rm->pool].reserved++;
	relevel(r, room);
	return 1;
}

/* A JOIN of user into room: the user's live reservation there is
 * consumed (kept for a late PLACE resend; its seat leaves `reserved`,
 * the caller seats the user) and 1 returned; one elsewhere is dropped,
 * its seat freed. */
static int take_reservation(struct hc_rooms *r, uint32_t room, uint64_t user)
{
	int32_t slot = resv_find(r, user);
	if (slot < 0)
		return 0;
	if (r->resv[slot].room != room) {
		resv_drop(r, slot, 1);      /* joined elsewhere: free that seat */
		return 0;
	}
	resv_consume(r, slot);
	resv_seat_out(r, room);
	return 1;
}

/* ---------------------------------------------------------------- API -- */

static int admit(struct hc_rooms *r, uint32_t room, unsigned pool, uint64_t user,
		 uint64_t now, int force);

int hc_rooms_init(struct hc_rooms *r, const char *name, const struct hc_policy *pol,
		  uint32_t max_rooms, uint32_t max_reservations, uint64_t tsc_hz)
{
	memset(r, 0, sizeof(*r));
	r->pol = pol;
	r->max_rooms = max_rooms;
	r->next_unused = 1;
	r->resv_cap = max_reservations;
	r->ttl_tsc = tsc_hz / 1000 * pol->reservation_ttl_ms;
	r->grace_tsc = tsc_hz / 1000 * pol->retire_grace_ms;
	r->room = hc_bigmem_zalloc("hc_rooms", sizeof(*r->room) * max_rooms, SOCKET_ID_ANY);
	r->lease_of = hc_bigmem_zalloc("hc_lease_of", sizeof(uint16_t) * HC_ROOMS_LEASE_WORKERS *
				       (size_t)max_rooms, SOCKET_ID_ANY);
	r->lease_tick_of = hc_bigmem_zalloc("hc_lease_tick_of", HC_ROOMS_LEASE_WORKERS *
					    (size_t)max_rooms, SOCKET_ID_ANY);
	r->vacating = hc_bigmem_zalloc("hc_vacating", sizeof(*r->vacating) * (size_t)max_rooms,
				       SOCKET_ID_ANY);
	r->grace_q = rte_malloc("hc_grace", sizeof(uint32_t) * 2 * (size_t)max_rooms, 64);
	r->free_ids = rte_malloc("hc_free_ids", sizeof(uint32_t) * (size_t)max_rooms, 64);
	r->resv = hc_bigmem_zalloc("hc_resv", sizeof(*r->resv) * max_reservations, SOCKET_ID_ANY);
	r->resv_free = HC_RESV_NIL;
	for (unsigned l = 0; l < 2; l++)
		r->resv_fifo[l] = (struct hc_resv_list){.first = HC_RESV_NIL, .last = HC_RESV_NIL};
	r->resv_of_gw = rte_zmalloc("hc_resv_gw", sizeof(uint32_t) * 65536, 64);
	if (max_reservations > HC_KEYIDX_MAX_CAPACITY) {
		hc_rooms_free(r);
		return -E2BIG;
	}
	/* (the seed: gateways choose user ids, hc_keyidx.h) */
	if (r->resv == NULL || hc_keyidx_init(&r->resv_by_user, name, max_reservations, r->resv,
					      sizeof(*r->resv), HC_KEYIDX_SPARSE, rte_rand(),
					      SOCKET_ID_ANY) != 0)
		goto fail;
	if (r->room == NULL || r->lease_of == NULL || r->lease_tick_of == NULL ||
	    r->vacating == NULL ||
	    r->grace_q == NULL || r->free_ids == NULL ||
	    r->resv_of_gw == NULL)
		goto fail;
	for (unsigned p = 0; p < pol->n_pools; p++)
		if (pol->pool[p].room_last >= max_rooms) {
			hc_rooms_free(r);
			return -ERANGE; /* a pool's id range beyond --max-rooms */
		}
	for (unsigned p = 0; p < pol->n_pools; p++) {
		struct hc_pool_index *pi = &r->pool[p];
		pi->levels = pol->pool[p].max + 1;
		pi->head = rte_zmalloc("hc_buckets", sizeof(uint32_t) * pi->levels, 64);
		pi->bits = rte_zmalloc("hc_bucket_bits",
				       sizeof(uint64_t) * ((pi->levels + 63) / 64), 64);
		if (pi->head == NULL || pi->bits == NULL)
			goto fail;
	}
	return 0;
fail:
	hc_rooms_free(r);
	return -ENOMEM;
}

void hc_rooms_free(struct hc_rooms *r)
{
	for (unsigned p = 0; p < HC_MAX_POOLS; p++) {
		rte_free(r->pool[p].head);
		rte_free(r->pool[p].bits);
	}
	hc_keyidx_free(&r->resv_by_user);
	hc_bigmem_free(r->room, sizeof(*r->room) * r->max_rooms);
	hc_bigmem_free(r->lease_of, sizeof(uint16_t) * HC_ROOMS_LEASE_WORKERS * (size_t)r->max_rooms);
	hc_bigmem_free(r->lease_tick_of, HC_ROOMS_LEASE_WORKERS * (size_t)r->max_rooms);
	hc_bigmem_free(r->vacating, sizeof(*r->vacating) * (size_t)r->max_rooms);
	rte_free(r->grace_q);
	rte_free(r->free_ids);
	hc_bigmem_free(r->resv, sizeof(*r->resv) * r->resv_cap);
	rte_free(r->resv_of_gw);
	memset(r, 0, sizeof(*r));
}

uint32_t hc_rooms_place(struct hc_rooms *r, unsigned pool, uint64_t user, uint64_t now)
{
	return hc_rooms_place_for(r, pool, user, 0, now);
}

int hc_rooms_has_reservation(const struct hc_rooms *r, uint64_t user)
{
	int32_t slot = resv_lookup(r, user);
	return slot >= 0 && !r->resv[slot].consumed;
}

/*
 * The occupancy level placement takes a room from, without opening one:
 *   fill = target: the fullest room below target (a room below min too,
 *                  when it is the fullest of them);
 *   fill = max:    the fullest room with a seat and at least min, else the
 *                  fullest room below min;
 * then a live empty room (level 0).  -1: none, open a room.  A few word
 * operations on the bucket bitmap.
 */
static int pick_level(const struct hc_pool_cfg *c, const struct hc_pool_index *pi)
{
	int level;
	if (c->fill == HC_FILL_TARGET) {
		level = highest(pi, 1, c->target - 1);
	} else {
		level = highest(pi, c->min, c->max - 1);
		if (level < 0)
			level = highest(pi, 1, c->min - 1);
	}
	if (level < 0 && (pi->bits[0] & 1))
		level = 0;
	return level;
}

uint32_t hc_rooms_place_for(struct hc_rooms *r, unsigned pool, uint64_t user, uint16_t gw,
			    uint64_t now)
{
	return hc_rooms_place_request(r, pool, user, gw, 0, now);
}

/* The consumed record v answers the same PLACE again, after its JOIN
 * took the seat (the answer was slow, the gateway resent): its room,
 * counted, else 0. */
static uint32_t late_room(struct hc_rooms *r, const struct hc_reservation *v, unsigned pool,
			  uint16_t gw, uint32_t request_id, uint64_t now)
{
	if (request_id != 0 && v->request_id == request_id && v->gateway == gw &&
	    v->expires > now && r->room[v->room].state == HC_ROOM_LIVE &&
	    r->room[v->room].pool == pool) {
		r->st.placements_late++;
		return v->room;
	}
	return 0;
}

uint32_t hc_rooms_place_late(struct hc_rooms *r, unsigned pool, uint64_t user, uint16_t gw,
			     uint32_t request_id, uint64_t now)
{
	int32_t old = resv_lookup(r, user);
	if (old < 0 || !r->resv[old].consumed)
		return 0;
	return late_room(r, &r->resv[old], pool, gw, request_id, now);
}

uint32_t hc_rooms_place_request(struct hc_rooms *r, unsigned pool, uint64_t user, uint16_t gw,
				uint32_t request_id, uint64_t now)
{
	const struct hc_pool_cfg *c = &r->pol->pool[pool];
	struct hc_pool_index *pi = &r->pool[pool];

	int32_t old = resv_lookup(r, user);
	if (old >= 0 && r->resv[old].consumed) {
		/* the same PLACE again after its JOIN took the seat: the same
		 * room */
		uint32_t late = late_room(r, &r->resv[old], pool, gw, request_id, now);
		if (late != 0)
			return late;
		resv_forget(r, old);
		old = -1;
	}
	if (old >= 0) {
		/* asked again (the answer was lost, or the request came twice):
		 * the same seat, so every answer names the same room */
		uint32_t room = r->resv[old].room;
		if (r->room[room].state == HC_ROOM_LIVE && r->room[room].pool == pool) {
			r->st.placements_repeated++;
			return room;
		}
		resv_drop(r, old, 1);
	}
	int level = pick_level(c, pi);
	uint32_t id;
	if (level >= 0) {
		id = pi->head[level];
	} else if ((id = new_room_id(r, pool)) != 0) {
		make_live(r, id, pool);
		r->st.new_rooms++;
	} else if (c->fill == HC_FILL_TARGET &&
		   (level = highest(pi, c->target, c->max - 1)) >= 0) {
		id = pi->head[level]; /* no id left: a seat past target, not a refusal */
	} else {
		r->st.no_room++;
		return 0;
	}
	if (!resv_add(r, user, id, gw, request_id, now))
		return 0; /* (a room just made live stays empty: retired in time) */
	r->st.placements++;
	if (hc_room_occupancy(&r->room[id]) > c->target)
		r->st.placed_beyond_target++;
	return id;
}

int hc_rooms_admit(struct hc_rooms *r, uint32_t room, unsigned pool, uint64_t user,
		   uint64_t now)
{
	return admit(r, room, pool, user, now, 0);
}

int hc_rooms_reserve(struct hc_rooms *r, uint32_t room, uint64_t user, uint64_t now)
{
	return hc_rooms_reserve_for(r, room, user, 0, now);
}

int hc_rooms_reserve_for(struct hc_rooms *r, uint32_t room, uint64_t user, uint16_t gw,
			 uint64_t now)
{
	struct hc_room *rm = &r->room[room];
	/* the user's own live seat here is renewed, not a new one: a full
	 * room (full with it) keeps it, as a NEW_TOPIC resent names it */
	int32_t mine = resv_lookup(r, user);
	uint32_t own = mine >= 0 && !r->resv[mine].consumed && r->resv[mine].room == room;
	if (rm->state != HC_ROOM_LIVE ||
	    hc_room_occupancy(rm) - own >= r->pol->pool[rm->pool].max)
		return 0;
	uint32_t before = hc_room_occupancy(rm);
	int32_t old = resv_find(r, user);
	if (old >= 0)
		resv_drop(r, old, 1);
	if (!resv_add(r, user, room, gw, 0, now))
		return 0;
	uint32_t after = hc_room_occupancy(rm);
	if (after > before && after > r->pol->pool[rm->pool].target)
		r->st.seated_beyond_target++; /* (its own seat again: not a new one) */
	return 1;
}

int hc_rooms_hold_seat(struct hc_rooms *r, uint32_t room)
{
	struct hc_room *rm = &r->room[room];
	const struct hc_pool_cfg *c = &r->pol->pool[rm->pool];
	if (rm->state != HC_ROOM_LIVE || hc_room_occupancy(rm) >= c->max)
		return 0;
	rm->reserved++;
	rm->held++;
	r->pool[rm->pool].reserved++;
	relevel(r, room);
	r->held_now++;
	r->st.seats_held++;
	if (hc_room_occupancy(rm) > c->target)
		r->st.seated_beyond_target++;
	return 1;
}

/* A held seat leaves `reserved`: 1, or 0 (counted) if none was there. */
static int held_seat_out(struct hc_rooms *r, uint32_t room)
{
	struct hc_room *rm = &r->room[room];
	if (rm->held == 0) {
		r->st.seat_errors++;
		return 0;
	}
	r->held_now--;
	rm->held--;
	rm->reserved--;
	r->pool[rm->pool].reserved--;
	return 1;
}

void hc_rooms_free_seat(struct hc_rooms *r, uint32_t room)
{
	if (held_seat_out(r, room))
		relevel(r, room);
}

void hc_rooms_seat_free_cb(void *book, uint32_t room)
{
	hc_rooms_free_seat(book, room);
}

/* A seat kept for a user (a placement's reservation, a directive's held
 * seat) is taken only while the users seated and the seats leased leave
 * room below the pool's max.  Never false while occupancy <= max (the
 * kept seat is part of the occupancy): only after a reload lowered max
 * under seats kept or leased before it (the workers may be filling their
 * leases until they answer the revoke). */
static inline int kept_seat_fits(const struct hc_rooms *r, const struct hc_room *rm)
{
	return rm->users + rm->leased < r->pol->pool[rm->pool].max;
}

/* A JOIN on its kept seat refused (kept_seat_fits false, or a held seat
 * missing in a full room): the seat, already out of the room's reserved
 * ones, given back to its level; counted (kept: a kept seat's refusal).
 * 0, admit's refusal. */
static int refuse_kept_seat(struct hc_rooms *r, uint32_t room, int kept)
{
	relevel(r, room);
	r->st.kept_seats_refused += kept;
	r->st.refusals++;
	return 0;
}

int hc_rooms_kept_seat_waits(const struct hc_rooms *r, uint32_t room)
{
	const struct hc_room *rm = &r->room[room];
	return rm->state == HC_ROOM_LIVE && rm->leased != 0 && !kept_seat_fits(r, rm) &&
	       rm->users < r->pol->pool[rm->pool].max;
}

int hc_rooms_admit_on_seat(struct hc_rooms *r, uint32_t room, int force)
{
	struct hc_room *rm = &r->room[room];
	if (unlikely(rm->state != HC_ROOM_LIVE)) {
		/* (not reached: a held seat keeps its room out of bucket 0,
		 * so never retired; as admit, a late revival, in its pool:
		 * never a bucket walk along a retired room's time) */
		make_live(r, room, rm->pool);
		r->st.seat_errors++;
	}
	int fits = kept_seat_fits(r, rm);
	int had = held_seat_out(r, room); /* (else seat_errors said why) */
	int over = had ? !fits : hc_room_occupancy(rm) >= r->pol->pool[rm->pool].max;
	if (unlikely(over)) {
		if (!force)
			return refuse_kept_seat(r, room, had);
		r->st.over_max++;
	}
	rm->users++;
	r->pool[rm->pool].users++;
	relevel(r, room); /* (unchanged unless the seat was missing) */
	r->st.admits_reserved++;
	r->st.admits++;
	return HC_ROOMS_ADMITTED_KEPT;
}

void hc_rooms_cancel(struct hc_rooms *r, uint64_t user, uint16_t gw)
{
	int32_t slot = resv_find(r, user);
	if (slot >= 0 && r->resv[slot].gateway == gw)
		resv_drop(r, slot, 1);
}

uint32_t hc_rooms_open(struct hc_rooms *r, unsigned pool)
{
	uint32_t id = new_room_id(r, pool);
	if (id == 0) {
		r->st.no_room++;
		return 0;
	}
	make_live(r, id, pool);
	r->st.new_rooms++;
	return id;
}

int hc_rooms_record_join(struct hc_rooms *r, uint32_t room, unsigned pool, uint64_t user,
			 uint64_t now)
{
	return admit(r, room, pool, user, now, 1) != 0; /* (always: forced) */
}

/* The pool a room id not live yet is made live in by a JOIN naming
 * pool: the pool whose own id range holds it, if any (a JOIN naming
 * another pool must not take that pool's id: its placements would go
 * there, and a reload of even the same policy would be refused while
 * the room lived), else the JOIN's. */
static unsigned pool_of_id(const struct hc_rooms *r, uint32_t room, unsigned pool)
{
	uint8_t p = hc_policy_range_pool(r->pol, room);
	return p != HC_NO_POOL ? p : pool;
}

static int admit(struct hc_rooms *r, uint32_t room, unsigned pool, uint64_t user,
		 uint64_t now, int force)
{
	(void)now;
	struct hc_room *rm = &r->room[room];
	if (rm->state != HC_ROOM_LIVE) {
		/* a gateway's own room, or a late revival */
		unsigned owner = pool_of_id(r, room, pool);
		r->st.joins_other_range += owner != pool;
		make_live(r, room, owner);
	}

	if (take_reservation(r, room, user)) { /* the seat becomes the user's */
		if (unlikely(!kept_seat_fits(r, rm))) { /* max lowered under it */
			if (!force) {
				/* the record forgotten too: kept, a late resend of
				 * its PLACE would be told this room again */
				int32_t slot = resv_lookup(r, user);
				if (slot >= 0)
					resv_forget(r, slot);
				return refuse_kept_seat(r, room, 1);
			}
			r->st.over_max++;
		}
		rm->users++;
		r->pool[rm->pool].users++;
		relevel(r, room); /* (unchanged, unless the seat was missing) */
		r->st.admits_reserved++;
		r->st.admits++;
		return HC_ROOMS_ADMITTED_KEPT; /* occupancy unchanged */
	}
	if (hc_room_occupancy(rm) >= r->pol->pool[rm->pool].max) {
		if (!force) {
			r->st.refusals++;
			return 0;
		}
		r->st.over_max++;
	}
	rm->users++;
	r->pool[rm->pool].users++;
	relevel(r, room);
	if (hc_room_occupancy(rm) > r->pol->pool[rm->pool].target)
		r->st.seated_beyond_target++;
	r->st.admits++;
	return 1;
}

/* ------------------------------------------------------- seat leases -- */

uint32_t hc_rooms_lease_margin(uint32_t max)
{
	return max / 8 > 2 ? max / 8 : 2;
}

/* Lease up to `want` more seats of room to worker w while the room stays
 * far from full, none if fewer than `least` fit (the checks of who may
 * have them are the callers'). */
static uint32_t lease_grant(struct hc_rooms *r, uint32_t room, unsigned w, uint32_t want,
			    uint32_t least, uint32_t tick)
{
	struct hc_room *rm = &r->room[room];
	uint32_t max = r->pol->pool[rm->pool].max, margin = hc_rooms_lease_margin(max);
	uint32_t occ = hc_room_occupancy(rm);
	if (occ + margin >= max || max - margin - occ < least)
		return 0;
	uint32_t q = max - margin - occ;
	if (q > want)
		q = want;
	rm->leased = (uint16_t)(rm->leased + q); /* <= max <= 65535 */
	r->lease_of[hc_rooms_lease_slot(r, room, w)] += (uint16_t)q; /* (<= leased) */
	if (w >= r->lease_workers)
		r->lease_workers = w + 1;
	r->lease_tick_of[hc_rooms_lease_slot(r, room, w)] = (uint8_t)tick;
	rm->lease_mask |= (uint16_t)(1u << w);
	r->pool[rm->pool].leased += q;
	r->leased_now += q;
	relevel(r, room);
	r->st.leased_seats += q;
	return q;
}

int hc_rooms_lease_idle(const struct hc_rooms *r, uint32_t room, uint32_t tick)
{
	for (uint32_t mask = r->room[room].lease_mask; mask != 0; mask &= mask - 1) {
		uint8_t t = r->lease_tick_of[hc_rooms_lease_slot(r, room, (unsigned)__builtin_ctz(mask))];
		if ((uint8_t)((uint8_t)tick - t) >= 2)
			return 1;
	}
	return 0;
}

/* May worker w be leased seats of room now (a grant or a top-up)? */
static int may_lease(const struct hc_rooms *r, uint32_t room, unsigned w, uint32_t tick)
{
	const struct hc_room *rm = &r->room[room];
	/* (the hold is the revoke's tick and the next, lease_hold - 1 and
	 * lease_hold: compared as a distance of at most 1, a hold long past
	 * never reads as pending again, as a signed difference did 2^31
	 * ticks on, for 2^31 more: 24.8 days at balance_interval_ms = 1) */
	return w < HC_ROOMS_LEASE_WORKERS && rm->state == HC_ROOM_LIVE && rm->revoking == 0 &&
	       (uint32_t)(rm->lease_hold - tick) > 1;
}


uint32_t hc_rooms_lease(struct hc_rooms *r, uint32_t room, unsigned w, uint32_t want,
			uint32_t tick)
{
	/* one grant per worker at a time: a batch of requests that all left
	 * before the first grant arrived asks for one lease, not one each */
	if (want == 0 || !may_lease(r, room, w, tick) || (r->room[room].lease_mask >> w & 1))
		return 0;
	uint32_t q = lease_grant(r, room, w, want, 1, tick);
	r->st.lease_grants += q != 0;
	return q;
}

uint32_t hc_rooms_lease_top_up(struct hc_rooms *r, uint32_t room, unsigned w, uint32_t want,
			       uint32_t tick)
{
	const struct hc_room *rm = &r->room[room];
	/* at the margin a LEAVE frees one seat and the next leased JOIN
	 * would bring a one-seat top-up: a decision an event; a quarter of
	 * lease_seats at least (grown or not), or none */
	uint32_t least = want / 4 > 1 ? want / 4 : 1;
	want <<= rm->lease_grow;
	uint32_t mine = hc_rooms_lease_of(r, room, w);
	if (want < 2 || !may_lease(r, room, w, tick) || mine == 0 || mine > want / 2)
		return 0;
	uint32_t q = lease_grant(r, room, w, want - mine, least, tick);
	r->st.lease_top_ups += q != 0;
	return q;
}

void hc_rooms_lease_ran_dry(struct hc_rooms *r, uint32_t room, unsigned w)
{
	struct hc_room *rm = &r->room[room];
	if (rm->state != HC_ROOM_LIVE || rm->revoking != 0 || hc_rooms_lease_of(r, room, w) == 0 ||
	    rm->lease_grow >= HC_ROOMS_LEASE_GROW_MAX)
		return;
	rm->lease_grow++;
	r->st.lease_grown++;
}

int hc_rooms_holds_seat(const struct hc_rooms *r, uint32_t room, uint64_t user)
{
	int32_t slot = resv_lookup(r, user);
	return slot >= 0 && !r->resv[slot].consumed && r->resv[slot].room == room;
}

int hc_rooms_full_for(const struct hc_rooms *r, uint32_t room, uint64_t user)
{
	const struct hc_room *rm = &r->room[room];
	if (rm->state != HC_ROOM_LIVE || hc_rooms_holds_seat(r, room, user))
		return 0;
	return hc_room_occupancy(rm) >= r->pol->pool[rm->pool].max;
}

int hc_rooms_lease_taken(struct hc_rooms *r, uint32_t room, unsigned pool, unsigned w,
			 uint64_t user)
{
	struct hc_room *rm = &r->room[room];
	if (rm->state != HC_ROOM_LIVE)
		make_live(r, room, pool_of_id(r, room, pool)); /* never leased: counted below */
	take_reservation(r, room, user); /* the user sits on the leased seat */
	int ok = hc_rooms_lease_of(r, room, w) > 0 && rm->leased > 0;
	if (ok) {
		uint16_t bit = (uint16_t)(1u << w);
		if (--r->lease_of[hc_rooms_lease_slot(r, room, w)] == 0 &&
		    !(rm->revoking & bit))
			rm->lease_mask &= (uint16_t)~bit; /* w holds none here now */
		rm->leased--;
		r->pool[rm->pool].leased--;
		r->leased_now--;
		if (rm->leased == 0 && rm->revoking == 0) {
			rm->lease_mask = 0; /* no worker holds a seat of it */
			rm->lease_grow = 0;
		}
	} else {
		r->st.lease_errors++;
		if (hc_room_occupancy(rm) >= r->pol->pool[rm->pool].max)
			r->st.over_max++;
	}
	/* (a lease granted under a higher max, taken after a reload lowered
	 * it, before the worker read the revoke: seated, and counted) */
	if (ok && rm->users >= r->pol->pool[rm->pool].max)
		r->st.leased_over_max++;
	rm->users++;
	r->pool[rm->pool].users++;
	relevel(r, room);
	r->st.leased_joins++;
	r->st.admits++;
	return ok;
}

uint16_t hc_rooms_lease_revoke(struct hc_rooms *r, uint32_t room, uint32_t tick)
{
	struct hc_room *rm = &r->room[room];
	uint16_t ask = (uint16_t)(rm->lease_mask & ~rm->revoking);
	if (rm->state != HC_ROOM_LIVE || rm->leased == 0 || ask == 0)
		return 0;
	rm->revoking |= ask;
	rm->lease_hold = tick + 1;
	rm->lease_grow = 0;
	r->st.lease_revokes++;
	return ask;
}

int hc_rooms_lease_back(struct hc_rooms *r, uint32_t room, unsigned w, uint32_t n)
{
	struct hc_room *rm = &r->room[room];
	if (w >= HC_ROOMS_LEASE_WORKERS || rm->state != HC_ROOM_LIVE ||
	    !(rm->revoking & (1u << w))) {
		r->st.lease_errors++; /* nothing asked of w here */
		return 0;
	}
	uint16_t bit = (uint16_t)(1u << w);
	/* every leased JOIN of w came before its answer (one FIFO ring): the
	 * book's count of w's seats is what w gave back; w holds none now */
	uint16_t *mine = &r->lease_of[hc_rooms_lease_slot(r, room, w)];
	if (n != *mine)
		r->st.lease_errors++;
	n = *mine;
	*mine = 0;
	rm->leased = (uint16_t)(rm->leased - n);
	r->pool[rm->pool].leased -= n;
	r->leased_now -= n;
	rm->revoking &= (uint16_t)~bit;
	rm->lease_mask &= (uint16_t)~bit;
	relevel(r, room);
	r->st.lease_returned += n;
	return rm->revoking == 0;
}

void hc_rooms_leave(struct hc_rooms *r, uint32_t room)
{
	struct hc_room *rm = &r->room[room];
	if (rm->state != HC_ROOM_LIVE || rm->users == 0)
		return;
	rm->users--;
	r->pool[rm->pool].users--;
	relevel(r, room);
	r->st.leaves++;
}

void hc_rooms_vacating(struct hc_rooms *r, uint32_t room, uint32_t stamp)
{
	if (room == 0 || room >= r->max_rooms || r->room[room].state != HC_ROOM_LIVE)
		return;
	struct hc_vacating *v = &r->vacating[room];
	v->stamp = stamp; /* (the latest: the reports of every mark before
	                     it are read by the end of its period too) */
	if (v->moves != UINT16_MAX)
		v->moves++;
}

void hc_rooms_vacated(struct hc_rooms *r, uint32_t room)
{
	if (room == 0 || room >= r->max_rooms)
		return;
	hc_rooms_leave(r, room);
	if (r->vacating[room].moves != 0)
		r->vacating[room].moves--;
}

int hc_rooms_settled(struct hc_rooms *r, uint32_t room, uint32_t settled)
{
	const struct hc_room *rm = &r->room[room];
	if (rm->reserved != 0 || rm->leased != 0 || rm->revoking != 0)
		return 0;
	struct hc_vacating *v = &r->vacating[room];
	if (v->moves == 0)
		return 1;
	/* a mark is stamped with the open period, never more than 2 past
	 * the last ended (hc_ctlsync.h): still waited for exactly when its
	 * stamp is settled + 1 or + 2, however the numbers wrap.  A mark
	 * left unread (a stray decision's) with no look at its room for
	 * 2^32 - 2 or 2^32 - 1 periods reads as waited for again those two
	 * periods: the room sits two more plans out, and is let in after */
	if ((uint32_t)(v->stamp - settled - 1) < 2)
		return 0;
	v->moves = 0; /* every report that will come has been read */
	r->st.vacate_stale++;
	return 1;
}

void hc_rooms_expire(struct hc_rooms *r, uint64_t now)
{
	const struct hc_resv_list *live = &r->resv_fifo[0], *used = &r->resv_fifo[1];
	while (live->n > 0 && r->resv[live->first].expires <= now) {
		resv_drop(r, (int32_t)live->first, 1);
		r->st.expired++;
	}
	/* (consumed ones in their JOINs' order: one that expired behind a
	 * later one waits for it, and meanwhile answers no resend:
	 * hc_rooms_place_request reads its time) */
	while (used->n > 0 && r->resv[used->first].expires <= now)
		resv_forget(r, (int32_t)used->first);
}

unsigned hc_rooms_retire(struct hc_rooms *r, uint64_t now)
{
	unsigned retired = 0;
	uint32_t qcap = 2 * r->max_rooms;

	for (unsigned p = 0; p < r->pol->n_pools; p++) {
		struct hc_pool_index *pi = &r->pool[p];
		for (uint32_t id = pi->head[0], next; id != 0; id = next) {
			if ((r->grace_tail + 1) % qcap == r->grace_head)
				goto release; /* queue full: retire the rest later */
			struct hc_room *rm = &r->room[id];
			next = rm->next;
			if (rm->revoking != 0)
				continue; /* its LEASE_BACKs must find it, not a reuse */
			bucket_remove(r, id);
			rm->state = HC_ROOM_GRACE;
			rm->grace_until = now + r->grace_tsc;
			pi->rooms--;
			r->grace_q[r->grace_tail] = id;
			r->grace_tail = (r->grace_tail + 1) % qcap;
			retired++;
		}
	}
release:
	while (r->grace_head != r->grace_tail) {
		uint32_t id = r->grace_q[r->grace_head];
		struct hc_room *rm = &r->room[id];
		if (rm->state == HC_ROOM_GRACE && rm->grace_until > now)
			break;
		if (rm->state == HC_ROOM_GRACE) {
			rm->state = HC_ROOM_FREE;
			range_freed(r, id);
			if (r->n_free < r->max_rooms) /* an id may be listed twice */
				r->free_ids[r->n_free++] = id;
		}
		r->grace_head = (r->grace_head + 1) % qcap;
	}
	r->st.retired += retired;
	return retired;
}

/* ------------------------------------------------------- policy reload -- */

void hc_rooms_repool_abort(struct hc_rooms_repool *x)
{
	for (unsigned p = 0; p < HC_MAX_POOLS; p++) {
		rte_free(x->head[p]);
		rte_free(x->bits[p]);
	}
	memset(x, 0, sizeof(*x));
}

int hc_rooms_repool_prepare(const struct hc_rooms *r, const struct hc_policy *np,
			    struct hc_rooms_repool *x, char *err, size_t errlen)
{
	uint32_t qcap = 2 * r->max_rooms;
	uint32_t qfree = qcap - 1 - (r->grace_tail + qcap - r->grace_head) % qcap;
	uint32_t retire = 0;

	memset(x, 0, sizeof(*x));
	for (unsigned p = 0; p < np->n_pools; p++) {
		if (np->pool[p].room_last >= r->max_rooms) {
			snprintf(err, errlen, "pool %u (%s): rooms %u-%u reach past --max-rooms %u",
				 np->pool[p].id, np->pool[p].name, np->pool[p].room_first,
				 np->pool[p].room_last, r->max_rooms);
			return -1;
		}
	}
	for (unsigned p = 0; p < r->pol->n_pools; p++) {
		const struct hc_pool_cfg *c = &r->pol->pool[p];
		const struct hc_pool_index *pi = &r->pool[p];
		x->map[p] = np->index_of[c->id];
		if (x->map[p] != HC_NO_POOL)
			continue;
		if (pi->users + pi->reserved > 0) {
			snprintf(err, errlen, "pool %u (%s) is gone from the file but holds %" PRIu64
				 " users and %" PRIu64 " reserved seats in %u rooms: a pool is "
				 "removed only once it is empty", c->id, c->name, pi->users,
				 pi->reserved, pi->rooms);
			return -1;
		}
		for (uint32_t id = 1; id < r->max_rooms; id++) {
			const struct hc_room *rm = &r->room[id];
			if (rm->state == HC_ROOM_LIVE && rm->pool == p &&
			    (rm->leased != 0 || rm->revoking != 0)) {
				snprintf(err, errlen, "pool %u (%s) is gone from the file but room %u "
					 "has %u seats leased to workers (they come back within a "
					 "balance tick): try again", c->id, c->name, id, rm->leased);
				return -1;
			}
		}
		retire += pi->rooms; /* empty rooms: retired by the commit */
	}
	if (retire > qfree) {
		snprintf(err, errlen, "%u empty rooms of removed pools cannot be retired now "
			 "(the retired-id queue is full): try again", retire);
		return -1;
	}
	/* a pool's room ids (docs/scaling-shards.md) must still hold its live
	 * rooms: one outside would stay in the pool under an id the range no
	 * longer vouches for (another pool's, or another appliance's) */
	for (uint32_t id = 1; id < r->max_rooms; id++) {
		const struct hc_room *rm = &r->room[id];
		if (rm->state != HC_ROOM_LIVE || rm->pool >= r->pol->n_pools ||
		    x->map[rm->pool] == HC_NO_POOL)
			continue;
		const struct hc_pool_cfg *nc = &np->pool[x->map[rm->pool]];
		const struct hc_pool_cfg *oc = &r->pol->pool[rm->pool];
		/* (a room its range never held, a JOIN's into an id no range
		 * held, e.g. another appliance's: no range vouched for it; but
		 * a new range of another pool must not take it over while it
		 * lives in this one) */
		if (oc->room_last != 0 && !hc_pool_range_holds(oc, id)) {
			uint8_t q = hc_policy_range_pool(np, id);
			if (q == HC_NO_POOL || q == x->map[rm->pool])
				continue;
			snprintf(err, errlen, "pool %u (%s): room %u (%u users, %u reserved "
				 "seats) lives in pool %u (%s): a range may take an id only "
				 "once its room is empty and retired", np->pool[q].id,
				 np->pool[q].name, id, rm->users, rm->reserved, oc->id, oc->name);
			return -1;
		}
		if (nc->room_last != 0 && !hc_pool_range_holds(nc, id)) {
			snprintf(err, errlen, "pool %u (%s): room %u (%u users, %u reserved "
				 "seats) lies outside its new room ids %u-%u: a range may change "
				 "only around the pool's live rooms (try again once they are "
				 "empty and retired)", nc->id, nc->name, id, rm->users,
				 rm->reserved, nc->room_first, nc->room_last);
			return -1;
		}
	}
	for (unsigned p = 0; p < np->n_pools; p++) {
		x->levels[p] = np->pool[p].max + 1;
		x->head[p] = rte_zmalloc("hc_buckets", sizeof(uint32_t) * x->levels[p], 64);
		x->bits[p] = rte_zmalloc("hc_bucket_bits",
					 sizeof(uint64_t) * ((x->levels[p] + 63) / 64), 64);
		if (x->head[p] == NULL || x->bits[p] == NULL) {
			hc_rooms_repool_abort(x);
			snprintf(err, errlen, "out of memory for the pools' room buckets");
			return -1;
		}
	}
	return 0;
}

void hc_rooms_repool_commit(struct hc_rooms *r, const struct hc_policy *np,
			    struct hc_rooms_repool *x, uint64_t tsc_hz, uint64_t now)
{
	uint32_t qcap = 2 * r->max_rooms;
	unsigned retired = 0;

	for (unsigned p = 0; p < HC_MAX_POOLS; p++) {
		rte_free(r->pool[p].head);
		rte_free(r->pool[p].bits);
		r->pool[p] = (struct hc_pool_index){.levels = x->levels[p], .head = x->head[p],
						     .bits = x->bits[p]};
	}
	r->pol = np;
	r->ttl_tsc = tsc_hz / 1000 * np->reservation_ttl_ms;
	r->grace_tsc = tsc_hz / 1000 * np->retire_grace_ms;
	/* a shorter TTL: no reservation waits past it (the lists expire from
	 * their first; min with a constant keeps them in order).  The records
	 * in memory order, not the lists' (a free record's room is 0): a
	 * sequential pass, not a chase of random lines */
	for (uint32_t k = 0; k < r->resv_unused; k++) {
		struct hc_reservation *v = &r->resv[k];
		if (v->room != 0 && v->expires > now + r->ttl_tsc)
			v->expires = now + r->ttl_tsc;
	}
	/* every live room into its pool's new buckets, by the new max */
	for (uint32_t id = 1; id < r->max_rooms; id++) {
		struct hc_room *rm = &r->room[id];
		uint8_t to = rm->pool < HC_MAX_POOLS ? x->map[rm->pool] : HC_NO_POOL;
		if (rm->state != HC_ROOM_LIVE) {
			rm->pool = to == HC_NO_POOL ? 0 : to;
			continue;
		}
		if (to == HC_NO_POOL) { /* an empty room of a removed pool */
			rm->state = HC_ROOM_GRACE;
			rm->grace_until = now + r->grace_tsc;
			rm->pool = 0;
			r->grace_q[r->grace_tail] = id;
			r->grace_tail = (r->grace_tail + 1) % qcap;
			retired++;
			continue;
		}
		rm->pool = to;
		struct hc_pool_index *pi = &r->pool[to];
		pi->rooms++;
		pi->users += rm->users;
		pi->reserved += rm->reserved;
		pi->leased += rm->leased;
		bucket_insert(r, id, level_of(r, rm));
	}
	r->st.retired += retired;
	memset(x, 0, sizeof(*x)); /* the arrays are the book's now */
}
