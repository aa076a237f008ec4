/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_decide.c - the control core's decision loop (see hc_decide.h).
 */
#include "hc_decide.h"

#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "hc_proto.h"
#include "hc_links.h"
#include "hc_ctlmsg.h"
#include "hc_log.h"
#include "hc_log.h"

#define CHANGE_BURST 512
/* Live rooms from which a burst's reports fetch their rooms' lines ahead
 * (prefetch_change): measured when a room took 40 bytes and its lease
 * counts 32 (4.5 MiB at this many, past what a core's caches keep beside
 * the rest of the book): 0.91x at 20 k rooms (in cache), no gain at 50 k,
 * 1.19x at 75 k, 1.34x at 100 k (docs/benchmarks.md, "One control core
 * beside the worker").  Since 2026-12-06 a room is 32 bytes and a
 * report reads 2 of its lease counts' bytes ("A room in one line",
 * "Lease counts by worker"); measured again then on an Intel host:
 * 0.90x at 20 k rooms, 2.1x at 100 k ("The look-ahead's threshold,
 * again"). */
#define HC_DECIDE_PREFETCH_ROOMS 65536
/* Decisions a worker's backlog may hold: every seat answer it can be owed
 * (it keeps fewer than HC_CHAN_MAX_PENDING requests in flight) on top of
 * the picks, leases and revokes queued only while the backlog is at most
 * half that (one more each time one is checked: may_tell). */
#define BACKLOG_MAX (HC_CHAN_MAX_PENDING + HC_CHAN_MAX_PENDING / 2 + 1)

_Static_assert(HC_MAX_WORKERS <= HC_ROOMS_LEASE_WORKERS,
	       "the seat book counts every worker's leases (lease_mask: 16 bits)");

int hc_decide_init(struct hc_decide *d, struct hc_dataplane *dp,
		   const struct hc_policy *pol, uint32_t max_reservations,
		   uint32_t incarnation)
{
	memset(d, 0, sizeof(*d));
	d->dp = dp;
	d->pol = pol;
	uint64_t hz = rte_get_tsc_hz();
	d->tick_tsc = hz / 1000 * pol->balance_interval_ms;
	d->next_tick = rte_rdtsc() + d->tick_tsc;
	d->hb_tsc = hz / 1000 * dp->cfg->heartbeat_ms;
	d->prefetch_rooms_from = HC_DECIDE_PREFETCH_ROOMS;
	d->next_hb = rte_rdtsc() + d->hb_tsc;
	int rc = hc_rooms_init(&d->book, "hc_book", pol, dp->cfg->max_rooms,
			       max_reservations, hz);
	if (rc != 0)
		return rc;
	hc_ctlsync_init(&d->sync);
	rc = hc_tx_init(&d->tx, dp, incarnation);
	if (rc != 0) {
		hc_rooms_free(&d->book);
		return rc;
	}
	d->peer = rte_zmalloc("hc_peers", sizeof(struct hc_peer) * dp->cfg->max_gateways, 64);
	d->conflict_until = rte_zmalloc("hc_conflicts", sizeof(uint64_t) * dp->cfg->max_gateways, 64);
	d->conflict_told = rte_zmalloc("hc_conflicts_told", sizeof(uint64_t) * dp->cfg->max_gateways, 64);
	d->resync_wait = rte_zmalloc("hc_resync_wait",
				     sizeof(struct hc_resync_wait) * dp->cfg->max_gateways, 64);
	for (unsigned i = 0; i < dp->n_workers; i++) {
		d->backlog[i] = rte_malloc("hc_backlog",
					   sizeof(struct hc_decision) * BACKLOG_MAX, 64);
		d->held[i] = rte_malloc("hc_held", sizeof(struct hc_change) * HC_CHAN_MAX_PENDING, 64);
	}
	d->owed = rte_malloc("hc_owed", sizeof(struct hc_change) * HC_CHAN_MAX_PENDING, 64);
	int park_rc = hc_park_init(&d->park, "hc_parked");
	d->unparked = rte_malloc("hc_unparked", sizeof(struct hc_parked) * HC_CHAN_MAX_PENDING, 64);
	uint32_t hold_ms = dp->cfg->gateway_timeout_ms ? dp->cfg->gateway_timeout_ms : 3000;
	d->hold_tsc = hz / 1000 * hold_ms;
	d->gateway_timeout_tsc = d->hold_tsc;
	hc_ha_init(&d->ha, dp, HC_HA_STANDALONE, incarnation);
	hc_decide_state_keys(d, dp->cfg->state_key, dp->cfg->have_state_key);
	rc = hc_restart_init(&d->restart, dp->cfg->state_file, dp->cfg->peer_state_file,
			     d->state_key, d->n_state_keys, dp->cfg->max_gateways, dp->n_workers,
			     rte_rdtsc(), d->hold_tsc, hc_ha_wall_ms());
	if (rc != 0) {
		hc_decide_free(d);
		return rc;
	}
	rc = hc_directives_init(&d->dirs, "hc_directives", max_reservations,
				hz / 1000 * pol->directive_timeout_ms, pol->directive_retries);
	if (rc != 0) {
		hc_decide_free(d); /* frees what was made, NULL-safe */
		return rc;
	}
	/* a move's seat its directive gives back (hc_directives.h) */
	hc_directives_on_seat_free(&d->dirs, hc_rooms_seat_free_cb, &d->book);
	d->bal_rooms = rte_malloc("hc_bal_rooms", sizeof(struct hc_bal_room) * dp->cfg->max_rooms, 64);
	d->bal_t = rte_malloc("hc_bal_t", sizeof(struct hc_bal_transfer) * HC_BAL_MAX_TRANSFERS, 64);
	int bal_rc = hc_balance_init(&d->bal, dp->cfg->max_rooms);
	int missing = d->peer == NULL || d->conflict_until == NULL || d->conflict_told == NULL ||
		      d->resync_wait == NULL ||
		      d->bal_rooms == NULL || d->bal_t == NULL || bal_rc != 0;
	for (unsigned i = 0; i < dp->n_workers; i++)
		missing |= d->backlog[i] == NULL || d->held[i] == NULL;
	missing |= d->owed == NULL || park_rc != 0 || d->unparked == NULL;
	if (missing) {
		hc_decide_free(d);
		return -ENOMEM;
	}
	return 0;
}

void hc_decide_free(struct hc_decide *d)
{
	hc_directives_free(&d->dirs);
	hc_tx_free(&d->tx);
	hc_rooms_free(&d->book);
	rte_free(d->peer);
	rte_free(d->conflict_until);
	rte_free(d->conflict_told);
	rte_free(d->resync_wait);
	d->conflict_until = NULL;
	d->conflict_told = NULL;
	d->resync_wait = NULL;
	rte_free(d->bal_rooms);
	rte_free(d->bal_t);
	hc_balance_free(&d->bal);
	d->bal_rooms = NULL;
	d->bal_t = NULL;
	for (unsigned i = 0; i < HC_MAX_WORKERS; i++) {
		rte_free(d->backlog[i]);
		rte_free(d->held[i]);
		d->held[i] = NULL;
	}
	hc_restart_free(&d->restart);
	rte_free(d->owed);
	d->owed = NULL;
	hc_park_free(&d->park);
	rte_free(d->unparked);
	d->unparked = NULL;
	d->peer = NULL;
	memset(d->backlog, 0, sizeof(d->backlog));
	memset(d->state_key, 0, sizeof(d->state_key));
	__asm__ __volatile__("" : : "r"(d) : "memory"); /* (not an elided store) */
	d->n_state_keys = 0;
}

/* Answer worker i's seat request; keeps order behind any backlog. */
static void answer(struct hc_decide *d, unsigned i, struct hc_decision *dec)
{
	if (d->n_backlog[i] == 0 && hc_chan_give_decisions(d->dp, i, dec, 1) == 1)
		return;
	d->backlog[i][d->n_backlog[i]++] = *dec; /* < BACKLOG_MAX: fits */
}

static void flush_backlog(struct hc_decide *d, unsigned i)
{
	uint32_t n = d->n_backlog[i];
	if (n == 0)
		return;
	unsigned done = hc_chan_give_decisions(d->dp, i, d->backlog[i], n);
	memmove(d->backlog[i], d->backlog[i] + done, (n - done) * sizeof(struct hc_decision));
	d->n_backlog[i] = n - done;
}

/* Tell a gateway its JOIN into `refused` (pool id pool_id) was refused:
 * join `room`, or (0) there is none: `status` says why. */
static void send_refusal(struct hc_decide *d, uint64_t user, uint32_t refused, uint16_t pool_id,
			 uint32_t room, uint16_t gw, uint8_t status)
{
	struct hc_assign a = {
		.user_id = rte_cpu_to_be_64(user),
		.request_id = 0,
		.room_id = rte_cpu_to_be_32(room),
		.refused_room = rte_cpu_to_be_32(refused),
		.pool_id = rte_cpu_to_be_16(pool_id),
		.status = room != 0 ? HC_ASSIGN_NEW_TOPIC : status,
	};
	hc_tx_add(&d->tx, HC_MSG_ASSIGN, gw, &d->peer[gw], &a, sizeof(a));
}

static void send_new_topic(struct hc_decide *d, uint64_t user, uint32_t refused, uint32_t room,
			   uint16_t gw)
{
	unsigned rpool = d->book.room[refused].pool;
	send_refusal(d, user, refused, d->pol->pool[rpool].id, room, gw, HC_ASSIGN_NO_ROOM);
}

/* A JOIN the workers did not apply and will not: the user table was
 * full (FULL: any seat held for the user is freed), or the user has a
 * newer session through another gateway (SUPERSEDED).  The gateway hears
 * it and forgets the user too. */
static void not_applied(struct hc_decide *d, const struct hc_change *c, uint8_t status)
{
	if (status == HC_ASSIGN_FULL) {
		d->st.table_full++;
		/* (not at a chain's cap: the JOIN holding the seat may be
		 * waiting in that chain) */
		if (!(c->flags & HC_CHGF_CHAIN))
			hc_rooms_cancel(&d->book, c->user_id, c->gateway_id);
	} else {
		d->st.superseded++;
	}
	if (c->gateway_id >= d->dp->cfg->max_gateways || d->peer[c->gateway_id].ip_be == 0) {
		d->st.no_address++;
		return;
	}
	send_refusal(d, c->user_id, c->to_room, c->pool_id, 0, c->gateway_id, status);
}

static void place_refused(struct hc_decide *d, const struct hc_change *c, int in_hold,
			  uint64_t now);
static void end_hold_early(struct hc_decide *d, uint64_t now);

/* The pool index of a JOIN's pool id; an unknown id (counted) is pool 0. */
static unsigned join_pool(struct hc_decide *d, const struct hc_change *c)
{
	uint8_t pool = d->pol->index_of[c->pool_id];
	if (pool != HC_NO_POOL)
		return pool;
	d->st.unknown_pool++;
	return 0;
}

/* ------------------------------------------------------- seat leases -- */

/* Ticks as the seat book counts them for leases (from 1). */
static inline uint32_t lease_tick(const struct hc_decide *d)
{
	return (uint32_t)d->st.ticks + 1;
}

/* Room for one more decision beside the answers a worker is owed (the
 * backlog bound, BACKLOG_MAX, counts on it). */
static inline int may_tell(const struct hc_decide *d, unsigned w)
{
	return d->n_backlog[w] <= HC_CHAN_MAX_PENDING / 2;
}

static int all_may_tell(const struct hc_decide *d)
{
	for (unsigned w = 0; w < d->dp->n_workers; w++)
		if (!may_tell(d, w))
			return 0;
	return 1;
}

/* Ask every worker holding seats of room to give them back (all or
 * none: a worker whose backlog is long is not asked now, and then none
 * is).  Returns 1 if a revoke of room is outstanding afterwards. */
static int revoke_room(struct hc_decide *d, uint32_t room)
{
	const struct hc_room *rm = &d->book.room[room];
	uint16_t ask = (uint16_t)(rm->lease_mask & ~rm->revoking);
	for (unsigned w = 0; w < d->dp->n_workers; w++)
		if ((ask >> w & 1) && !may_tell(d, w))
			return rm->revoking != 0;
	ask = hc_rooms_lease_revoke(&d->book, room, lease_tick(d));
	for (unsigned w = 0; w < d->dp->n_workers; w++) {
		if (ask >> w & 1) {
			struct hc_decision rv = {.kind = HC_DEC_REVOKE, .room_id = room};
			answer(d, w, &rv);
		}
	}
	return rm->revoking != 0;
}

/* May the worker be granted seats now?  Not with leases off, on a
 * backup (a request parked before a demotion is decided there when its
 * revoke is answered, and a lease granted then would seat JOINs after a
 * promotion without the takeover's hold), during a restart hold, while
 * every lease comes back (revoke_all), or when its decision ring could
 * not take the grant. */
static int may_lease(struct hc_decide *d, unsigned worker)
{
	return d->pol->lease_seats != 0 && hc_ha_serving(&d->ha) &&
	       !hc_restart_holding(&d->restart) && !d->revoke_all && may_tell(d, worker);
}

/* An admitted direct JOIN's worker may have the next seats of the room
 * without asking (hc_rooms_lease says how many, if any). */
static void offer_lease(struct hc_decide *d, unsigned worker, uint32_t room)
{
	if (!may_lease(d, worker))
		return;
	uint32_t q = hc_rooms_lease(&d->book, room, worker, d->pol->lease_seats, lease_tick(d));
	if (q == 0)
		return;
	struct hc_decision dec = {.kind = HC_DEC_LEASE, .room_id = room, .lease = {.seats = q}};
	answer(d, worker, &dec);
}

/* A JOIN applied on a leased seat: keep the worker's lease from running
 * dry while the room keeps filling (hc_rooms_lease_top_up says whether,
 * and how many). */
static void top_up_lease(struct hc_decide *d, unsigned worker, uint32_t room)
{
	if (!may_lease(d, worker))
		return;
	uint32_t q = hc_rooms_lease_top_up(&d->book, room, worker, d->pol->lease_seats,
					   lease_tick(d));
	if (q == 0)
		return;
	struct hc_decision dec = {.kind = HC_DEC_LEASE, .room_id = room, .lease = {.seats = q}};
	answer(d, worker, &dec);
}

/* A request that finds its room full only for seats leased to workers
 * waits for them (the revoke's answers come in microseconds), so a
 * leased seat nobody uses never refuses a JOIN.  1 if parked. */
static int park_if_leased(struct hc_decide *d, unsigned worker, const struct hc_change *c)
{
	const struct hc_room *rm = &d->book.room[c->to_room];
	if (rm->leased == 0)
		return 0;
	/* a seat kept for the user (its directive's, its reservation's) is
	 * taken at once, but for leased seats above a max a reload lowered
	 * under it (hc_rooms_kept_seat_waits) */
	int kept = hc_directives_holds_seat(&d->dirs, c->user_id, c->to_room) ||
		   hc_rooms_holds_seat(&d->book, c->to_room, c->user_id);
	if (kept ? !hc_rooms_kept_seat_waits(&d->book, c->to_room)
		 : !hc_rooms_full_for(&d->book, c->to_room, c->user_id))
		return 0;
	if (d->park.n == HC_CHAN_MAX_PENDING || !revoke_room(d, c->to_room) ||
	    hc_park_add(&d->park, c, worker) != 0) {
		d->st.lease_park_full++;
		return 0;
	}
	d->st.lease_parked++;
	return 1;
}

static void seat_request(struct hc_decide *d, unsigned worker, const struct hc_change *c,
			 uint64_t now);
static void hold_request(struct hc_decide *d, unsigned worker, const struct hc_change *c,
			 uint64_t now);

/* Room's revoke is answered by every worker: decide what waited for it,
 * in order. */
static void unpark(struct hc_decide *d, uint32_t room, uint64_t now)
{
	/* (taken out first: a request decided here may park again) */
	uint32_t n = hc_park_take(&d->park, room, d->unparked);
	for (uint32_t k = 0; k < n; k++) {
		const struct hc_change *c = &d->unparked[k].c;
		if (c->kind == HC_CHG_REQUEST && hc_restart_holding(&d->restart))
			hold_request(d, d->unparked[k].worker, c, now); /* (parked
			                                                    before a hold began) */
		else
			seat_request(d, d->unparked[k].worker, c, now);
	}
}

/* Each tick, before the plan: leases come back from rooms below min (the
 * balancer may gather them), rooms no worker took a lease of for a whole
 * tick (a lease nobody uses must not hold seats for long), and, after a
 * reload, every room. */
static void revoke_for_tick(struct hc_decide *d)
{
	int skipped = 0;
	uint8_t now8 = (uint8_t)lease_tick(d);
	for (unsigned p = 0; p < d->pol->n_pools; p++) {
		const struct hc_pool_index *pi = &d->book.pool[p];
		uint32_t min = d->pol->pool[p].min;
		if (pi->leased == 0)
			continue;
		for (uint32_t level = 0; level < pi->levels; level++) {
			for (uint32_t id = pi->head[level]; id != 0; id = d->book.room[id].next) {
				const struct hc_room *rm = &d->book.room[id];
				if (rm->leased == 0 || rm->revoking != 0)
					continue;
				if (d->revoke_all || hc_room_occupancy(rm) < min ||
				    hc_rooms_lease_idle(&d->book, id, now8))
					skipped |= !revoke_room(d, id);
			}
		}
	}
	if (!skipped)
		d->revoke_all = 0;
}

/* --------------------------------------------------- seat requests -- */

/* A JOIN asks for a seat: admit, or refuse and place the user elsewhere. */
static void seat_request(struct hc_decide *d, unsigned worker, const struct hc_change *c,
			 uint64_t now)
{
	if (park_if_leased(d, worker, c))
		return;
	unsigned pool = join_pool(d, c);
	/* a moved or placed user's JOIN takes the seat kept for it (its
	 * directive's, else its reservation's): the room is the balancer's
	 * and the placement's, no lease there for it */
	int dir = hc_directives_take_seat(&d->dirs, c->user_id, c->to_room);
	int ok = dir == HC_DIR_SEAT_TAKEN
			 ? hc_rooms_admit_on_seat(&d->book, c->to_room, 0)
			 : hc_rooms_admit(&d->book, c->to_room, pool, c->user_id, now);
	int kept = ok == HC_ROOMS_ADMITTED_KEPT;
	/* (the user's seat in c->from_room is freed when the worker has
	 * moved it out: HC_CHG_VACATED.  Freed now, another worker's JOIN
	 * could take it and be applied first: the room above max) */
	int restated = c->kind == HC_CHG_RESTATE;
	struct hc_decision dec = {.user_id = c->user_id, .room_id = c->to_room,
				  .kind = HC_DEC_SEAT,
				  .admit = (uint8_t)(ok ? (restated ? HC_SEAT_RESTATED : 1) : 0),
				  .gateway_id = c->gateway_id};
	answer(d, worker, &dec);
	if (restated) {
		d->st.restatements++;
		d->st.restatements_refused += !ok;
	}
	if (ok) {
		d->st.admitted++;
		/* a move out of from_room: the book counts the user there
		 * until the worker says it moved them (HC_CHG_VACATED) */
		if (c->from_room != 0)
			hc_rooms_vacating(&d->book, c->from_room, hc_ctlsync_stamp(&d->sync));
		/* a NEW_TOPIC's (no seat of its own) completes; one into
		 * another room ends: the user went to a third room */
		if (dir == HC_DIR_INTO_ROOM || dir == HC_DIR_ELSEWHERE)
			hc_directives_joined(&d->dirs, c->user_id, c->to_room);
		if (!restated) {
			/* the worker's own leased JOINs took its last seat here
			 * before a top-up came (a kept seat's JOIN says so too) */
			if (c->flags & HC_CHGF_LEASE_DRY)
				hc_rooms_lease_ran_dry(&d->book, c->to_room, worker);
			if (!kept)
				offer_lease(d, worker, c->to_room);
		}
		return;
	}
	d->st.refused++;
	const struct hc_peer *to = &d->peer[c->gateway_id];
	if (to->ip_be == 0) {
		d->st.no_address++;
		return;
	}
	int in_hold = hc_restart_holding(&d->restart);
	if (in_hold) {
		/* no seat is handed out while the hold lasts: the placement
		 * owed waits for its end */
		if (d->n_owed < HC_CHAN_MAX_PENDING) {
			d->owed[d->n_owed++] = *c;
			return;
		}
		end_hold_early(d, now);
	}
	place_refused(d, c, in_hold, now);
}

/* Does gateway gw hold its quota of reserved seats (and the user none,
 * whose repeated request would get that seat again)? */
static int over_quota(const struct hc_decide *d, uint16_t gw, uint64_t user)
{
	uint32_t quota = d->dp->cfg->max_places_per_gw; /* 0: no quota (tests) */
	return quota != 0 && hc_rooms_reserved_by(&d->book, gw) >= quota &&
	       !hc_rooms_has_reservation(&d->book, user);
}

/* A refused JOIN or restatement's user gets a room elsewhere (NEW_TOPIC,
 * tracked like a directive) or, with none to be had, is told so.  The
 * seat elsewhere counts against the gateway's quota as a PLACE's does:
 * refused JOINs must not reserve seats without bound.  A restatement's
 * user refused during a restart hold (in_hold: placed once it ends,
 * owed meanwhile) is placed whatever the quota (the snapshots that
 * rebuild the book: users the gateways held, whom NO_ROOM would drop);
 * outside a hold a snapshot's members are a gateway's claim like any
 * JOIN (a review: a snapshot naming 300 users nobody had, in a full
 * room, reserved 300 seats far past the quota, and up to
 * --max-snapshot-users of them could fill --max-reservations, evicting
 * other gateways' live reservations). */
static void place_refused(struct hc_decide *d, const struct hc_change *c, int in_hold,
			  uint64_t now)
{
	if (d->ha.role == HC_HA_BACKUP) {
		/* a request decided after a demotion: a backup sends nothing
		 * and keeps no seat (cold: its reservations and directives
		 * were dropped, and would be kept for nobody) */
		d->st.backup_skipped++;
		return;
	}
	/* the room of the refused JOIN's pool */
	unsigned rpool = d->book.room[c->to_room].pool;
	uint32_t room = 0;
	int exempt = c->kind == HC_CHG_RESTATE && in_hold;
	if (!exempt && over_quota(d, c->gateway_id, c->user_id))
		d->st.places_over_quota++;
	else
		room = hc_rooms_place_for(&d->book, rpool, c->user_id, c->gateway_id, now);
	if (room == 0 && c->from_room != 0 && c->kind != HC_CHG_RESTATE) {
		/* nowhere else: the user stays in the room they are in, and
		 * their gateway is told so (its JOIN there changes nothing) */
		send_new_topic(d, c->user_id, c->to_room, c->from_room, c->gateway_id);
		d->st.new_topics++;
		return;
	}
	send_new_topic(d, c->user_id, c->to_room, room, c->gateway_id);
	if (room == 0) {
		d->st.no_room_answers++; /* NO_ROOM: the user is in no room */
		return;
	}
	/* ASSIGNs are not sequenced: resend it until the JOIN */
	hc_directives_add_new_topic(&d->dirs, c->user_id, c->to_room, room, c->gateway_id,
				    d->pol->pool[rpool].id, now);
	d->st.new_topics++;
}

/* Answer one PLACE: a room with a reserved seat, or NO_ROOM. */
static void answer_place(struct hc_decide *d, const struct hc_place_req *q, uint64_t now)
{
	if (d->ha.role == HC_HA_BACKUP) {
		/* a PLACE read after a demotion (left in its ring by a
		 * restart hold, or in flight): a backup seats nobody, and
		 * its ASSIGN would be fenced unsent, the seat kept for
		 * nobody until its TTL, into a next promotion's hold.  The
		 * gateway asks the new master again (its PLACE timer) */
		d->st.backup_skipped++;
		return;
	}
	uint8_t pool = d->pol->index_of[q->pool_id];
	uint32_t room = 0;
	if (pool == HC_NO_POOL)
		d->st.unknown_pool++;
	else if (over_quota(d, q->gateway_id, q->user_id)) {
		/* NO_ROOM: it holds its share of seats; but a resend of a
		 * PLACE whose JOIN took its seat needs none: its room */
		room = hc_rooms_place_late(&d->book, pool, q->user_id, q->gateway_id,
					   q->request_id, now);
		d->st.places_over_quota += room == 0;
	} else
		room = hc_rooms_place_request(&d->book, pool, q->user_id, q->gateway_id,
					      q->request_id, now);
	struct hc_assign a = {
		.user_id = rte_cpu_to_be_64(q->user_id),
		.request_id = rte_cpu_to_be_32(q->request_id),
		.room_id = rte_cpu_to_be_32(room),
		.refused_room = 0,
		.pool_id = rte_cpu_to_be_16(q->pool_id),
		.status = room != 0 ? HC_ASSIGN_PLACED : HC_ASSIGN_NO_ROOM,
	};
	hc_tx_add(&d->tx, HC_MSG_ASSIGN, q->gateway_id, &q->from, &a, sizeof(a));
	d->st.places++;
}

static void send_move(struct hc_decide *d, uint64_t user, uint32_t from, uint32_t to_room,
		      uint16_t gw, uint32_t id, uint16_t attempt)
{
	const struct hc_peer *to = &d->peer[gw];
	struct hc_move mv = {
		.user_id = rte_cpu_to_be_64(user),
		.from_room = rte_cpu_to_be_32(from),
		.to_room = rte_cpu_to_be_32(to_room),
		.directive_id = rte_cpu_to_be_32(id),
		.pool_id = rte_cpu_to_be_16(d->pol->pool[d->book.room[to_room].pool].id),
		.attempt = rte_cpu_to_be_16(attempt),
	};
	hc_tx_add(&d->tx, HC_MSG_MOVE, gw, to, &mv, sizeof(mv));
}

/* A worker picked a user to move: reserve the seat, tell the gateway. */
static void move_picked(struct hc_decide *d, const struct hc_change *c, uint64_t now)
{
	d->st.picked++;
	if (d->ha.role == HC_HA_BACKUP) {
		/* a pick answered across a demotion: a backup moves no one
		 * (its directives were dropped; this one's seat would be held
		 * for a user the worker is about to forget) */
		d->st.backup_skipped++;
		return;
	}
	if (hc_restart_holding(&d->restart)) {
		/* a pick asked before a takeover or a new epoch, answered in
		 * its hold: the book is not complete (a gateway that has not
		 * restated may hold the seat); the balancer plans again once
		 * the hold is over */
		d->st.move_skipped++;
		return;
	}
	const struct hc_peer *to = &d->peer[c->gateway_id];
	if (to->ip_be == 0) {
		d->st.no_address++;
		return;
	}
	if (d->book.room[c->to_room].pool != d->book.room[c->from_room].pool) {
		/* the plan's room was retired while its picks were out (a
		 * worker held up past the grace) and its id went to another
		 * pool's room: a MOVE never crosses pools (the seat there would
		 * count against that pool's max, the user leave its lobby) */
		d->st.move_pool_changed++;
		return;
	}
	if (!hc_rooms_hold_seat(&d->book, c->to_room)) {
		d->st.move_skipped++;
		return;
	}
	/* the directive keeps the seat (hc_directives.h) */
	uint32_t id = hc_directives_add(&d->dirs, c->user_id, c->from_room, c->to_room,
					c->gateway_id, now);
	if (id == 0) { /* the index refused the user: no MOVE, no seat */
		hc_rooms_free_seat(&d->book, c->to_room);
		d->st.move_skipped++;
		return;
	}
	send_move(d, c->user_id, c->from_room, c->to_room, c->gateway_id, id, 0);
	d->st.directives++;
}

/* A directive's deadline passed without the JOIN: send it again (0), or
 * give it up (1). */
static int resend_move(void *ctx, const struct hc_directive *x, uint64_t now)
{
	struct hc_decide *d = ctx;
	if (x->kind == HC_DIR_NEW_TOPIC) {
		/* its room is kept by nothing but its reservation, which may
		 * have expired since (reservation_ttl_ms below the resends'
		 * span): retired, its id maybe another pool's room now.  Not
		 * named again then (a review: the JOIN would seat the user in
		 * another pool's room, against that pool's max); the gateway
		 * still holding the user in the refused room restates it
		 * (digest), and that JOIN's refusal places it afresh */
		const struct hc_room *rm = &d->book.room[x->to];
		if (rm->state != HC_ROOM_LIVE || d->pol->pool[rm->pool].id != x->pool_id) {
			d->st.new_topics_room_gone++;
			return 1;
		}
		/* its seat is a placement's reservation: kept (a MOVE's is
		 * its directive's, kept as long as it).  In a restart hold no
		 * seat is handed out (the book lacks the users of gateways
		 * not restated yet): the user's own seat there is renewed,
		 * but one that expired is not made again; the NEW_TOPIC goes
		 * without it, and its JOIN is a seat request, held and judged
		 * against the whole book once the hold ends */
		if (!hc_restart_holding(&d->restart) ||
		    hc_rooms_holds_seat(&d->book, x->to, x->user))
			hc_rooms_reserve_for(&d->book, x->to, x->user, x->gateway, now);
		else
			d->st.resent_unseated++;
		send_new_topic(d, x->user, x->from, x->to, x->gateway);
	} else {
		send_move(d, x->user, x->from, x->to, x->gateway, x->id, x->attempt);
	}
	return 0;
}

/* Plan one pool and ask the workers for the users to move: at most
 * *room_left moves (the directives the ring can still take this tick),
 * less what is planned. */
static void balance_pool(struct hc_decide *d, unsigned pool, uint32_t *room_left)
{
	const struct hc_pool_cfg *c = &d->pol->pool[pool];
	const struct hc_pool_index *pi = &d->book.pool[pool];
	uint32_t n = 0;
	/* rooms with seats reserved are filling (placements, refusals' new
	 * rooms): they sit this tick out, neither given to nor taken from, or
	 * a room placement just opened would be topped up to min by moves */
	/* rooms with seats leased sit out too: their users are still coming;
	 * and rooms a user is being moved out of on an admitted request, who
	 * is counted there and in the room it goes to until the worker says
	 * it moved them (a plan then would move users twice) */
	for (uint32_t level = 0; level < pi->levels; level++)
		for (uint32_t id = pi->head[level]; id != 0; id = d->book.room[id].next)
			if (hc_rooms_settled(&d->book, id, d->sync.settled))
				d->bal_rooms[n++] = (struct hc_bal_room){.room = id,
					.users = d->book.room[id].users};
	struct hc_bal_plan plan = {.t = d->bal_t, .cap = HC_BAL_MAX_TRANSFERS};
	/* every MOVE will hold a directive: no more planned this tick than
	 * the directives' ring has room for (a full ring gives up its
	 * oldest, seat and all, moments after it was sent: a review found a
	 * lowered max planning 3,000 moves into 1,024 places).  Room as of
	 * the plan: NEW_TOPICs of refusals made before the picks come back
	 * take it too (a few; not reserved here) */
	uint32_t budget = d->pol->max_moves_per_tick;
	if (budget > *room_left)
		budget = *room_left;
	if (n < 1 || budget == 0 ||
	    hc_balance_pool(&d->bal, c, d->bal_rooms, n, budget, &plan) != 0)
		return;
	uint32_t new_ids[64] = {0};
	uint32_t tally[HC_MAX_WORKERS] = {0}, tally_from = 0;
	/* In the workers' clock, whole seconds read truncated: a pick is
	 * made once `age` = now_s - picked_at reaches cooldown_s, which a
	 * pick late in one second and a plan early in a later one reach up
	 * to a second before cooldown_ms has passed (a review found a user
	 * moved twice within 1.1 s with cooldown_ms 1000).  So one second
	 * more than cooldown_ms rounded up: at least cooldown_ms passes, at
	 * most about 2 s more (0: no cooldown).  (At most 65,535: a worker's
	 * is 16 bits; hc_policy.c's range stops at 65,534 s.) */
	uint32_t cooldown_s = d->pol->cooldown_ms == 0 ? 0 :
			      (d->pol->cooldown_ms + 999) / 1000 + 1;
	for (uint32_t t = 0; t < plan.n; t++) {
		uint32_t to = plan.t[t].to;
		if (to & HC_BAL_NEW) {
			uint32_t k = to & ~HC_BAL_NEW;
			if (k >= 64)
				continue; /* the rest waits for the next tick */
			if (new_ids[k] == 0)
				new_ids[k] = hc_rooms_open(&d->book, pool);
			to = new_ids[k];
			if (to == 0)
				continue;
		}
		/* a source's transfers come one after another (hc_balance.c
		 * drains one source at a time): what this tick asked of each
		 * worker from it already is not asked again (each transfer
		 * asked worker 0 first for up to all it had there, and the
		 * shared scan gave the later asks less).  A room drained again
		 * later in the plan (a second donor pass) starts a new tally:
		 * over-asked there, as before, which costs a round, no move */
		if (plan.t[t].from != tally_from) {
			memset(tally, 0, sizeof(tally));
			tally_from = plan.t[t].from;
		}
		uint32_t left = plan.t[t].count;
		for (unsigned i = 0; i < d->dp->n_workers && left > 0; i++) {
			uint32_t has = hc_dp_room_users(d->dp, i, plan.t[t].from);
			has = has > tally[i] ? has - tally[i] : 0;
			uint32_t k = has < left ? has : left;
			if (k > 0xffff)
				k = 0xffff;
			if (k == 0 || d->n_backlog[i] > HC_CHAN_MAX_PENDING / 2)
				continue;
			struct hc_decision pick = {.kind = HC_DEC_PICK, .room_id = plan.t[t].from,
				.pick = {.to_room = to, .count = (uint16_t)k,
					 .cooldown_s = (uint16_t)cooldown_s}};
			answer(d, i, &pick);
			d->picks_in_flight++;
			tally[i] += k;
			left -= k;
		}
		d->st.planned += plan.t[t].count - left;
		*room_left -= plan.t[t].count - left;
	}
}

/*
 * Without keys nothing proves where a datagram came from, so what we send
 * unasked (RESYNC, HEARTBEAT) to a gateway's address is bounded by what
 * came from it: at most 4 datagrams for each one received, plus 64.  With
 * keys every address we answer was learned from an authenticated datagram.
 */
static int tx_budget_ok(struct hc_decide *d, uint16_t gw)
{
	if (d->dp->auth)
		return 1;
	struct hc_dp_gateway g;
	if (hc_dp_gateway_info(d->dp, gw, &g) != 0)
		return 0;
	uint64_t rx = g.datagrams + g.heartbeats + g.duplicates;
	if (d->tx.reply_ctr[gw] < 4 * rx + 64)
		return 1;
	d->st.tx_budget_held++;
	return 0;
}

/* A home worker asks a gateway for a resync (NACK of a gap, or a
 * snapshot): one RESYNC record. */
static void send_resync_to(struct hc_decide *d, uint16_t gw, const struct hc_peer *to,
			   uint32_t reason, uint32_t first, uint32_t last)
{
	if (!tx_budget_ok(d, gw))
		return;
	struct hc_resync r = {
		.reason = rte_cpu_to_be_32(reason),
		.first_sequence = rte_cpu_to_be_32(first),
		.last_sequence = rte_cpu_to_be_32(last),
		.snapshot_id = 0,
	};
	if (hc_tx_single(&d->tx, HC_MSG_RESYNC, gw, hc_dp_gateway_incarnation(d->dp, gw), to,
			 &r, sizeof(r)) == 0)
		d->st.resyncs++;
}

/*
 * A worker asks for a RESTART while it judges a datagram that it does not
 * take, or a heartbeat before it passes the heartbeat's address on: a
 * gateway's first contact 64 or more ahead (the appliance lost its
 * state), whose address the control core learns only from the
 * HC_CHG_PEER of the first datagram taken (the same heartbeat, or the
 * gateway's next one).  Such an ask waits for that address, one a
 * gateway, instead of being lost until the sequencer asks again a gap
 * timeout and a datagram later.  (NACKs of gaps come after the gap
 * timeout, when the address is known; one that finds a RESTART waiting
 * is dropped: the snapshot answers it too.)
 */
static void send_resync(struct hc_decide *d, const struct hc_change *c, uint64_t now)
{
	uint16_t gw = c->gateway_id;
	if (gw >= d->dp->cfg->max_gateways || c->resync.reason == 0)
		return; /* (reason 0 marks no wait: the workers never ask it) */
	const struct hc_peer *to = &d->peer[gw];
	if (to->ip_be != 0 && !(to->flags & HC_PEER_F_FORGOTTEN)) {
		send_resync_to(d, gw, to, c->resync.reason, c->resync.first, c->resync.last);
		return;
	}
	struct hc_resync_wait *wt = &d->resync_wait[gw];
	d->st.no_address += wt->reason != 0; /* the one replaced, or this one */
	if (wt->reason == HC_RESYNC_RESTART && c->resync.reason != HC_RESYNC_RESTART)
		return;
	d->resyncs_waiting += wt->reason == 0;
	*wt = (struct hc_resync_wait){.reason = c->resync.reason, .first = c->resync.first,
				      .last = c->resync.last, .tsc = now,
				      .incarnation = hc_dp_gateway_incarnation(d->dp, gw)};
}

/* A waiting RESYNC ends: sent, or given up (counted in ctl_no_address). */
static void resync_wait_end(struct hc_decide *d, struct hc_resync_wait *wt, int sent)
{
	d->st.no_address += !sent;
	wt->reason = 0;
	d->resyncs_waiting--;
}

/* Gateway gw's address is known: the RESYNC that waited for it, if any,
 * goes now, if the gateway is still the incarnation that was asked (a
 * restarted one sends its snapshot anyway) and it waited less than the
 * gateway timeout; else it is counted in ctl_no_address. */
static void send_waiting_resync(struct hc_decide *d, uint16_t gw, uint64_t now)
{
	struct hc_resync_wait *wt = &d->resync_wait[gw];
	if (likely(wt->reason == 0))
		return;
	uint32_t inc = hc_dp_gateway_incarnation(d->dp, gw);
	int in_time = inc != 0 && inc == wt->incarnation && now - wt->tsc < d->gateway_timeout_tsc;
	if (in_time)
		send_resync_to(d, gw, &d->peer[gw], wt->reason, wt->first, wt->last);
	resync_wait_end(d, wt, in_time);
}

/* RESYNCs that waited the gateway timeout for an address that never
 * came (the gateway went away, or its first datagrams were forged) are
 * given up and counted in ctl_no_address: at a tick, and only while any
 * waits (a scan of the gateways). */
static void expire_waiting_resyncs(struct hc_decide *d, uint64_t now)
{
	for (uint32_t gw = 0; gw < d->dp->cfg->max_gateways && d->resyncs_waiting > 0; gw++) {
		struct hc_resync_wait *wt = &d->resync_wait[gw];
		if (wt->reason != 0 && now - wt->tsc >= d->gateway_timeout_tsc)
			resync_wait_end(d, wt, 0);
	}
}

/* Two live sources use gateway id gw (a copied config, or an attacker
 * holding its key): count and log it, tell the second source at once and
 * the current one in its heartbeats for the next 10 s. */
static void id_conflict(struct hc_decide *d, const struct hc_change *c, uint64_t now)
{
	uint16_t gw = c->gateway_id;
	struct hc_peer other;
	memcpy(&other, c->peer, sizeof(other));
	d->st.id_conflicts++;
	if (gw >= d->dp->cfg->max_gateways)
		return;
	uint64_t hz = rte_get_tsc_hz();
	d->conflict_until[gw] = now + 10 * hz;
	if (d->conflict_told[gw] != 0 && now - d->conflict_told[gw] < hz)
		return; /* the second source is told at most once a second */
	d->conflict_told[gw] = now;
	const struct hc_peer *cur = &d->peer[gw];
	const uint8_t *a = (const uint8_t *)&other.ip_be, *b = (const uint8_t *)&cur->ip_be;
	if (now - d->last_conflict_log > hz) {
		d->last_conflict_log = now;
		HC_LOG(WARNING, "gateway %u: two live sources use this id: %u.%u.%u.%u:%u and "
		       "%u.%u.%u.%u:%u (a copied configuration or a stolen key); both are told",
		       gw, a[0], a[1], a[2], a[3], rte_be_to_cpu_16(other.udp_be),
		       b[0], b[1], b[2], b[3], rte_be_to_cpu_16(cur->udp_be));
	}
	struct hc_heartbeat hb = {
		.interval_ms = rte_cpu_to_be_32(d->dp->cfg->heartbeat_ms),
		.hb_flags = rte_cpu_to_be_32(HC_HB_F_ID_CONFLICT),
	};
	if (hc_tx_single(&d->tx, HC_MSG_HEARTBEAT, gw, c->incarnation, &other, &hb, sizeof(hb)) == 0)
		d->st.conflict_notices++;
}

/* Heartbeats to every live gateway whose address we know: our
 * incarnation (restart detection), the cumulative ack of its sequences,
 * and what we hold for it (users, membership digest: a gateway that
 * finds them different from its own sends a snapshot).  A gateway a
 * restart hold still waits for is asked for its snapshot (RESYNC_NEEDED),
 * heartbeat after heartbeat until it restates: one that never heard an
 * appliance (it started while we were down) sent its first snapshot
 * naming none, which is no restatement (swept_stale), and its digest
 * agrees with ours, so nothing else would ask it. */
static void send_heartbeats(struct hc_decide *d, uint64_t now)
{
	const struct hc_config *cfg = d->dp->cfg;
	for (uint32_t g = 1; g < cfg->max_gateways; g++) {
		const struct hc_peer *to = &d->peer[g];
		uint32_t inc = hc_dp_gateway_incarnation(d->dp, (uint16_t)g);
		if (to->ip_be == 0 || inc == 0 || !tx_budget_ok(d, (uint16_t)g))
			continue;
		uint64_t users = hc_dp_gateway_users(d->dp, (uint16_t)g);
		uint64_t digest = hc_dp_gateway_digest(d->dp, (uint16_t)g);
		struct hc_heartbeat hb = {
			.last_sequence = rte_cpu_to_be_32(hc_dp_gateway_applied(d->dp, (uint16_t)g)),
			.user_count = rte_cpu_to_be_32((uint32_t)(users > UINT32_MAX ? UINT32_MAX : users)),
			.interval_ms = rte_cpu_to_be_32(cfg->heartbeat_ms),
			.hb_flags = rte_cpu_to_be_32((d->conflict_until[g] > now ? HC_HB_F_ID_CONFLICT : 0) |
				(hc_dp_gateway_settling(d->dp, (uint16_t)g) ? HC_HB_F_SETTLING : 0) |
				(hc_restart_waits_for(&d->restart, (uint16_t)g) ?
				 HC_HB_F_RESYNC_NEEDED : 0)),
			.digest = rte_cpu_to_be_64(digest),
		};
		if (hc_tx_single(&d->tx, HC_MSG_HEARTBEAT, (uint16_t)g, inc, to, &hb, sizeof(hb)) == 0)
			d->st.heartbeats++;
	}
}

/* The restart hold is over: place the refused restatements' users, then
 * decide the JOINs it held, in order. */
static void release_held(struct hc_decide *d, uint64_t now)
{
	d->carrying = 0;
	for (uint32_t k = 0; k < d->n_owed; k++)
		place_refused(d, &d->owed[k], 1, now); /* (refused in the hold) */
	d->n_owed = 0;
	for (unsigned i = 0; i < d->dp->n_workers; i++) {
		for (uint32_t k = 0; k < d->n_held[i]; k++)
			seat_request(d, i, &d->held[i][k], now);
		d->n_held[i] = 0;
	}
}

/* The hold must end before it is over (held requests or owed placements
 * would block a worker): end it, counted, and let everything held go. */
static void end_hold_early(struct hc_decide *d, uint64_t now)
{
	d->st.hold_overflow++;
	hc_restart_end(&d->restart, now);
	release_held(d, now);
}

/* During the restart hold a JOIN's seat request waits (its seat may be
 * one a gateway that has not restated yet holds).  A worker can keep
 * HC_CHAN_MAX_PENDING requests in flight; at half of that the hold ends,
 * so a worker never blocks on it while a snapshot needs it to go on. */
/* While the hold lasts, ops can pile up behind the held users' requests
 * until their worker waits for decisions before applying more (a big
 * restatement makes workers wait too, for a moment: its requests are
 * answered at once).  A worker with requests held that has waited 100 ms
 * ends the hold: the snapshots the hold waits for must not wait behind
 * it. */
static void hold_blocks_workers(struct hc_decide *d, uint64_t now)
{
	if (!hc_restart_holding(&d->restart))
		return;
	uint64_t patience = rte_get_tsc_hz() / 10;
	for (unsigned i = 0; i < d->dp->n_workers; i++) {
		uint64_t since = hc_dp_worker_blocked_since(d->dp, i);
		if (d->n_held[i] > 0 && since != 0 && now > since && now - since > patience) {
			end_hold_early(d, now);
			return;
		}
	}
}

static void hold_request(struct hc_decide *d, unsigned worker, const struct hc_change *c,
			 uint64_t now)
{
	d->held[worker][d->n_held[worker]++] = *c;
	if (d->n_held[worker] >= HC_CHAN_MAX_PENDING / 2)
		end_hold_early(d, now);
}

/* An HA master's sweep of a snapshot that named another epoch than ours:
 * the gateway began it before it heard this epoch (a SWEPT still in a ring
 * when the epoch began, or a snapshot sent meanwhile), so it may lack what
 * the gateway sent the other box since: no restatement for this epoch's
 * hold (the gateway restates once it hears the epoch).  (A drop of a
 * gateway's users: drop_in_hold.) */
static inline int swept_stale(const struct hc_decide *d, const struct hc_change *c)
{
	if (!(c->flags & HC_CHGF_RESTATED))
		return 0;
	if (d->ha.role == HC_HA_MASTER)
		return (uint32_t)c->user_id != d->ha.epoch;
	/* Standalone, in a restart hold, likewise: a restatement names this
	 * incarnation (the gateway heard it: its snapshot was asked for, or
	 * came after our heartbeat).  One that names another, or none, may
	 * be a replay of the gateway's last incarnation (its sequence-1
	 * snapshot, say), taken as a first contact on a fresh appliance: it
	 * would end the wait for a gateway that restated nothing. */
	return hc_restart_holding(&d->restart) && (uint32_t)c->user_id != d->tx.incarnation;
}

/*
 * A burst of changes is looked up ahead: most find their user in the
 * directive index and the reservation index (a JOIN takes its seat and
 * completes its directive, a LEAVE cancels one), each far larger than the
 * cache when many are outstanding; a pick adds a directive, which holds
 * its seat (the directive index alone).  The index lines
 * LOOKAHEAD_INDEX changes ahead, the records LOOKAHEAD_RECORD ahead.
 */
#define LOOKAHEAD_INDEX 16
#define LOOKAHEAD_RECORD 8
static inline void prefetch_change(const struct hc_decide *d, unsigned worker,
				   const struct hc_change *c, int stage)
{
	switch (c->kind) {
	case HC_CHG_SWEPT: case HC_CHG_RESYNC: case HC_CHG_CONFLICT: case HC_CHG_PICK_END:
	case HC_CHG_PEER: case HC_CHG_LEASE_BACK:
		return; /* no user */
	case HC_CHG_PICK:
		hc_directives_prefetch(&d->dirs, c->user_id, stage);
		return;
	case HC_CHG_LEASED: case HC_CHG_APPLIED:
		/* the rooms it moves a user between, relinked in their buckets:
		 * the one left at once, the one joined at once without a lease,
		 * and on a leased seat when its worker's lease is topped up
		 * (about every eighth JOIN; fetching its neighbours for every
		 * one measured 1.08x over fetching none: 3 rounds at 200 k
		 * rooms).  At 200 k rooms these lines were most of a report's
		 * cost; at 20 k, in cache, fetching them ahead cost a sixth */
		if (!d->prefetch_rooms)
			break;
		hc_rooms_prefetch_room(&d->book, c->from_room, HC_ROOMS_LEASE_WORKERS, -1, stage);
		hc_rooms_prefetch_room(&d->book, c->to_room,
				       c->kind == HC_CHG_LEASED ? worker : HC_ROOMS_LEASE_WORKERS,
				       1, stage);
		break;
	default:
		break;
	}
	hc_rooms_prefetch_user(&d->book, c->user_id, stage);
	hc_directives_prefetch(&d->dirs, c->user_id, stage);
}

static void apply_change(struct hc_decide *d, unsigned worker, const struct hc_change *c,
			 uint64_t now)
{
	if (c->kind == HC_CHG_PICK) {
		move_picked(d, c, now);
		return;
	}
	if (c->kind == HC_CHG_REQUEST && hc_restart_holding(&d->restart)) {
		hold_request(d, worker, c, now);
		return;
	}
	if (c->kind == HC_CHG_REQUEST || c->kind == HC_CHG_RESTATE) {
		seat_request(d, worker, c, now);
		return;
	}
	if (c->kind == HC_CHG_SWEPT) {
		if (swept_stale(d, c)) {
			d->st.swept_stale++;
			return;
		}
		/* A drop of a gateway's users (no snapshot: a newer
		 * incarnation, its SHUTDOWN, its death) in a hold is no
		 * restatement: a fresh book holds nothing of the gateway but
		 * what it heard in the hold, and the incarnation dropped may
		 * have been a replay of an old one (its datagram then the
		 * gateway's own, newer, ended the wait with nothing restated).
		 * The gateway restates by snapshot (asked for), or the hold
		 * times out.  After the hold, a drop takes the gateway off the
		 * carried list (it holds no users) as before. */
		if (!(c->flags & HC_CHGF_RESTATED) && hc_restart_holding(&d->restart)) {
			d->st.drop_in_hold++;
			return;
		}
		if (hc_restart_swept(&d->restart, c->gateway_id, worker, now))
			release_held(d, now);
		return;
	}
	if (c->kind == HC_CHG_RESYNC) {
		send_resync(d, c, now);
		return;
	}
	if (c->kind == HC_CHG_CONFLICT) {
		id_conflict(d, c, now);
		return;
	}
	if (c->kind == HC_CHG_FULL || c->kind == HC_CHG_SUPERSEDED) {
		not_applied(d, c, c->kind == HC_CHG_FULL ? HC_ASSIGN_FULL : HC_ASSIGN_SUPERSEDED);
		return;
	}
	if (c->kind == HC_CHG_PICK_END) {
		d->picks_in_flight--;
		return;
	}
	if (c->kind == HC_CHG_PEER) {
		if (c->gateway_id < d->dp->cfg->max_gateways) {
			struct hc_peer p;
			memcpy(&p, c->peer, sizeof(p));
			if (p.flags & HC_PEER_F_FORGOTTEN) {
				/* the old address stays, marked (hc_ctlmsg.h) */
				d->peer[c->gateway_id].flags |= HC_PEER_F_FORGOTTEN;
				d->st.peers_forgotten++;
				return;
			}
			memcpy(&d->peer[c->gateway_id], &p, sizeof(p));
			send_waiting_resync(d, c->gateway_id, now);
		}
		d->st.peers++;
		return;
	}
	if (c->kind == HC_CHG_VACATED) {
		/* an admitted request's user is out of from_room: its seat is free */
		if (c->from_room != 0)
			hc_rooms_vacated(&d->book, c->from_room);
		return;
	}
	if (c->kind == HC_CHG_LEASE_BACK) {
		if (c->from_room != 0 && c->from_room < d->dp->cfg->max_rooms &&
		    hc_rooms_lease_back(&d->book, c->from_room, worker, (uint32_t)c->user_id))
			unpark(d, c->from_room, now);
		return;
	}
	if (c->kind == HC_CHG_LEASED) {
		/* a JOIN applied on a seat the book counted as taken already */
		unsigned pool = join_pool(d, c);
		if (c->from_room != 0)
			hc_rooms_leave(&d->book, c->from_room);
		/* a seat its directive held there is given back first (the
		 * user sits on the leased one) */
		hc_directives_joined(&d->dirs, c->user_id, c->to_room);
		hc_rooms_lease_taken(&d->book, c->to_room, pool, worker, c->user_id);
		top_up_lease(d, worker, c->to_room);
		return;
	}
	if (c->from_room != 0)
		hc_rooms_leave(&d->book, c->from_room);
	if (c->to_room != 0) {
		/* without admission a MOVE's JOIN arrives here, applied */
		int dir = hc_directives_take_seat(&d->dirs, c->user_id, c->to_room);
		if (dir == HC_DIR_SEAT_TAKEN) {
			hc_rooms_admit_on_seat(&d->book, c->to_room, 1);
		} else {
			unsigned pool = join_pool(d, c);
			hc_rooms_record_join(&d->book, c->to_room, pool, c->user_id, now);
			if (dir == HC_DIR_INTO_ROOM || dir == HC_DIR_ELSEWHERE)
				hc_directives_joined(&d->dirs, c->user_id, c->to_room);
		}
	} else {
		/* left: no JOIN to wait for (the directive's seat stays a whole
		 * timeout: a MOVE obeyed as LEAVE + JOIN still finds it) */
		hc_directives_cancel(&d->dirs, c->user_id, now);
	}
}

void hc_decide_ha_init(struct hc_decide *d, int role)
{
	hc_ha_init(&d->ha, d->dp, role, d->tx.incarnation);
	if (d->dp->cfg != NULL && d->dp->cfg->ha_box != NULL)
		hc_ha_set_box(&d->ha, d->dp->cfg->ha_box[0] - '0'); /* ("0" or "1": checked) */
	if (role == HC_HA_BACKUP) /* no hold until a takeover reads the files */
		hc_restart_end(&d->restart, rte_rdtsc());
	/* (what the start read stays counted: a stale or unauthenticated peer
	 * copy at a backup's start, while its peer serves, is a broken sync or
	 * key, seen before a takeover pays for it) */
}

/* HA (hc_ha.h): a new epoch is a new incarnation towards the gateways,
 * which restate: hold placements (the state file read again) until they
 * did, then serve.  Demoted: the hold ends (what it held is decided, the
 * answers fenced).  A new epoch inside a hold (a re-epoch: a gateway named
 * a newer one) carries what the hold held into the new hold: the book is
 * still missing the gateways that had not restated, and every gateway
 * restates again; but a re-epoch one hold's bound or more after the first
 * hold's start decides them (re-epochs come up to once a second, each
 * hold lasts up to the bound: carried for ever, a JOIN would never be
 * decided).  So they wait at most about twice the bound: the last hold
 * they were carried into runs its own. */
static void ha_poll(struct hc_decide *d, uint64_t now)
{
	enum hc_ha_event ev = hc_ha_poll(&d->ha, now);
	if (ev == HC_HA_NONE)
		return;
	int carry = ev == HC_HA_NEW_EPOCH && hc_restart_holding(&d->restart);
	if (carry && !d->carrying) {
		d->carrying = 1;
		d->carried_since = d->restart.started;
	} else if (carry && now - d->carried_since >= d->hold_tsc) {
		/* carried for a whole hold's bound already (a re-epoch a
		 * second, a listed gateway that never restates): decided now,
		 * as a hold's timeout would have */
		carry = 0;
	}
	/* the workers' leases were granted from this epoch's book: every one
	 * comes back now, so that no JOIN is applied on one during the next
	 * epoch's hold (seats a gateway of the other box may still hold);
	 * none is granted until they are (offer_lease), not even to the
	 * requests the hold ending here releases */
	d->revoke_all = 1;
	if (hc_restart_holding(&d->restart)) {
		hc_restart_end(&d->restart, now);
		if (!carry)
			release_held(d, now);
	}
	revoke_for_tick(d);
	if (ev == HC_HA_DEMOTED) {
		/* cold, as the workers (hc_ha_cold, which drop every user:
		 * their reports empty the rooms): the reservations it made
		 * and the seats its MOVEs held go too, or a promotion soon
		 * after would hold seats for users who were placed or moved
		 * at the other box (a cancelled MOVE keeps its seat a whole
		 * timeout) */
		hc_rooms_expire(&d->book, UINT64_MAX);
		hc_directives_drop_all(&d->dirs);
		return;
	}
	d->tx.incarnation = d->ha.epoch;
	if (hc_restart_again(&d->restart, d->dp->cfg->state_file, d->dp->cfg->peer_state_file,
			     d->state_key, d->n_state_keys, d->dp->cfg->max_gateways,
			     d->dp->n_workers, now, d->hold_tsc, hc_ha_wall_ms()) != 0)
		HC_LOG(WARNING, "HA: no memory for the restart hold: serving without it");
	/* a takeover during a stop's drain: the workers read no more input,
	 * so no gateway can restate, and the hold would keep what it holds
	 * until its bound, past the drain.  It ends now, as a hold under way
	 * at the stop did */
	if (unlikely(hc_dp_state(d->dp) != HC_RUN))
		hc_decide_draining(d, now);
	if (carry) {
		if (hc_restart_holding(&d->restart))
			d->st.holds_carried++;
		else
			release_held(d, now); /* (no new hold: decided now) */
	}
	hc_ha_serve(&d->ha);
}

void hc_decide_state_keys(struct hc_decide *d, const uint8_t (*keys)[HC_RESTART_KEY_LEN],
			  unsigned n_keys)
{
	n_keys = n_keys < HC_RESTART_KEYS ? n_keys : HC_RESTART_KEYS;
	memset(d->state_key, 0, sizeof(d->state_key));
	if (n_keys > 0)
		memcpy(d->state_key, keys, (size_t)n_keys * HC_RESTART_KEY_LEN);
	d->n_state_keys = n_keys;
	hc_restart_set_keys(&d->restart, d->state_key, n_keys); /* (a takeover reads these) */
}

unsigned hc_decide_poll(struct hc_decide *d, uint64_t now)
{
	struct hc_change chg[CHANGE_BURST];
	unsigned total = 0;

	for (unsigned i = 0; i < d->dp->n_workers; i++) {
		flush_backlog(d, i);
		/* never stop reading: a worker may be waiting for room in this
		 * ring, and the answers it is owed fit ring + backlog (it keeps
		 * fewer than HC_CHAN_MAX_PENDING requests in flight) */
		unsigned n = hc_chan_take_changes(d->dp, i, chg, CHANGE_BURST);
		for (unsigned k = 0; k < n && k < LOOKAHEAD_INDEX; k++)
			prefetch_change(d, i, &chg[k], 1);
		for (unsigned k = 0; k < n; k++) {
			if (k + LOOKAHEAD_INDEX < n)
				prefetch_change(d, i, &chg[k + LOOKAHEAD_INDEX], 1);
			if (k + LOOKAHEAD_RECORD < n)
				prefetch_change(d, i, &chg[k + LOOKAHEAD_RECORD], 2);
			apply_change(d, i, &chg[k], now);
		}
		total += n;
	}
	d->st.changes += total;
	/* every lease asked back (a reload, an epoch) but a room put off by
	 * a worker's long backlog: asked again once every backlog allows, not
	 * at the next tick (up to balance_interval_ms away, a worker would go
	 * on seating JOINs on those leases above a lowered max; a review) */
	if (unlikely(d->revoke_all) && all_may_tell(d))
		revoke_for_tick(d); /* (each call asks more rooms: converges) */
	/* a data link lost (or back): the state file keeps the gateways
	 * that held users then (cut off, not gone) until every link is
	 * back; looked at every poll (one load), before the workers'
	 * gateway timeout drops them */
	uint64_t lost = hc_links_lost();
	if (unlikely(lost != d->restart.links_lost))
		hc_restart_links(&d->restart, d->dp, lost);
	hc_ctlsync_poll(&d->sync, d->dp, d->n_backlog);
	ha_poll(d, now);

	if (hc_restart_poll(&d->restart, now))
		release_held(d, now);
	hold_blocks_workers(d, now);
	struct hc_place_req req[CHANGE_BURST];
	/* held: PLACEs wait in their rings (a full ring drops, the gateway
	 * asks again) */
	for (unsigned i = 0; i < d->dp->n_workers && !hc_restart_holding(&d->restart); i++) {
		unsigned n = hc_chan_take_places(d->dp, i, req, CHANGE_BURST);
		for (unsigned k = 0; k < n; k++)
			answer_place(d, &req[k], now);
		total += n;
	}
	hc_tx_flush(&d->tx);
	if (now >= d->next_hb) {
		send_heartbeats(d, now);
		d->next_hb = now + d->hb_tsc;
	}
	hc_rooms_expire(&d->book, now);
	hc_directives_expire(&d->dirs, now, resend_move, d);
	if (now >= d->next_tick) {
		hc_rooms_retire(&d->book, now);
		if (d->resyncs_waiting > 0)
			expire_waiting_resyncs(d, now);
		/* plan only from settled rooms: while picks or MOVEs are in
		 * flight, their users still count where they were and would
		 * be moved twice (a refused JOIN's NEW_TOPIC holds no plan:
		 * the room it names has the user's reservation and sits
		 * plans out, and one refusal every few seconds would hold
		 * every pool's plans for ever) */
		if (!hc_ha_serving(&d->ha) || hc_restart_holding(&d->restart)) {
			/* an HA backup: nothing to balance, nothing to save; a
			 * hold: the book is not complete yet.  Either way the
			 * leases of an epoch gone come back (revoke_all: a room
			 * whose holder's backlog was long is tried again) */
			if (d->revoke_all)
				revoke_for_tick(d);
			if (hc_ha_serving(&d->ha))
				d->st.ticks_waited++;
		} else {
			revoke_for_tick(d);
			if (d->picks_in_flight == 0 && hc_directives_moves_in_flight(&d->dirs) == 0) {
				uint32_t room_left = d->dirs.cap - d->dirs.count;
				for (unsigned p = 0; p < d->pol->n_pools; p++)
					balance_pool(d, p, &room_left);
			} else {
				d->st.ticks_waited++;
			}
		}
		d->next_tick = now + d->tick_tsc;
		d->st.ticks++;
		uint64_t live = 0;
		for (unsigned p = 0; p < d->pol->n_pools; p++)
			live += d->book.pool[p].rooms;
		d->prefetch_rooms = live >= d->prefetch_rooms_from;
	}
	/* the state file: once a second, whatever --balance-interval-ms (a
	 * pair's copy must stay fresh: hc_restart.h) */
	if (now >= d->next_save) {
		/* the data links as hc-links read them: /headcount/ha and
		 * keepalived's check (links_down moves the role) */
		uint32_t ports, down;
		hc_links_read(&ports, &down);
		hc_ha_links(&d->ha, down, ports);
		if (hc_ha_serving(&d->ha))
			hc_restart_save(&d->restart, d->dp, hc_ha_wall_ms());
		d->next_save = now + rte_get_tsc_hz();
	}
	return total;
}

int hc_decide_reload_prepare(const struct hc_decide *d, const struct hc_policy *np,
			     struct hc_rooms_repool *x, char *err, size_t errlen)
{
	return hc_rooms_repool_prepare(&d->book, np, x, err, errlen);
}

void hc_decide_reload_commit(struct hc_decide *d, const struct hc_policy *np,
			     struct hc_rooms_repool *x, uint64_t now)
{
	uint64_t hz = rte_get_tsc_hz();
	hc_rooms_repool_commit(&d->book, np, x, hz, now);
	/* published (telemetry reads it with rcu_dereference) */
	__atomic_store_n(&d->pol, np, __ATOMIC_RELEASE);
	d->tick_tsc = hz / 1000 * np->balance_interval_ms;
	if (d->next_tick > now + d->tick_tsc)
		d->next_tick = now + d->tick_tsc;
	hc_directives_retime(&d->dirs, hz / 1000 * np->directive_timeout_ms,
			     np->directive_retries, now);
	/* leases granted under the old max come back, asked for now (at the
	 * next tick, up to balance_interval_ms away, a worker could go on
	 * seating JOINs on them above a lowered max all that while) */
	d->revoke_all = 1;
	revoke_for_tick(d);
}

void hc_decide_draining(struct hc_decide *d, uint64_t now)
{
	if (!hc_restart_holding(&d->restart) && d->n_owed == 0)
		return;
	if (hc_restart_holding(&d->restart)) {
		d->st.hold_ended_by_stop++;
		HC_LOG(INFO, "stopping in a restart hold: the hold ends, its held requests are "
		       "decided now");
		hc_restart_end(&d->restart, now);
	}
	release_held(d, now);
	/* what it answered goes to the workers' TX rings now: the drain
	 * waits for those to empty (hc_control.c, drained), not for a poll */
	hc_tx_flush(&d->tx);
}

void hc_decide_stopped(struct hc_decide *d)
{
	if (hc_ha_serving(&d->ha))
		hc_restart_save(&d->restart, d->dp, hc_ha_wall_ms());
	/* (every hold ended at the drain's start, or at once when an HA
	 * takeover began one during the drain: nothing is owed but what a
	 * drain cut short by its bound left; counted, not lost silently) */
	d->st.owed_at_stop = d->n_owed;
	if (d->n_owed != 0)
		HC_LOG(WARNING, "stopped in a restart hold: %u refused restatements' users "
		       "never placed (ctl_owed_at_stop)", d->n_owed);
}

int hc_decide_idle(const struct hc_decide *d)
{
	for (unsigned i = 0; i < d->dp->n_workers; i++) {
		if (d->n_backlog[i] != 0 || d->n_held[i] != 0 || !hc_chan_quiet(d->dp, i))
			return 0;
	}
	/* (every pick asked answered: its PICK_END taken, not only published
	 * by the worker) */
	return d->park.n == 0 && d->picks_in_flight == 0;
}

uint32_t hc_decide_mismatches(const struct hc_decide *d, const struct hc_room_view *v)
{
	uint32_t bad = 0;
	for (uint32_t r = 1; r < v->max_rooms; r++) {
		const struct hc_room *rm = &d->book.room[r];
		uint32_t users = rm->state == HC_ROOM_LIVE ? rm->users : 0;
		bad += users != v->room_users[r];
	}
	return bad;
}
