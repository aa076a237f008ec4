/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_members.c - one worker's user -> room table and room counters: ops
 * applied in batches (JOIN, LEAVE, snapshot ops), picks, lookups.  Seat
 * requests in flight and the ops that wait behind them are hc_pending.c's.
 *
 * HOW IT WORKS
 * A batch of up to 64 ops is looked up with one hc_usertab_lookup_bulk
 * call, which hashes all keys and prefetches their index entries, then
 * their slots, hiding most cache misses of a table far larger than the
 * cache.  The ops are then applied one by one in order, each by its
 * kind's function.  The lookup gives each user's position; the user's
 * slot[position] holds the id and the room, so a move writes the slot and
 * leaves the index alone.  A user can appear twice in one
 * batch; after the first op adds or removes that user's key, the bulk
 * result is stale.  A position found is checked in the slot the op reads
 * anyway: a removed user's slot holds no room until an add takes it
 * again (another user's key, or this user's own at this same position),
 * and a present user's position never changes, so a slot that holds the
 * user in a room is the user's.  A user found absent may have been added
 * since: a small per-batch filter (256 slots keyed by a hash of the user
 * id) remembers the keys added, and an absent user who may be among them
 * (same key in its slot, or a slot two keys collided on) is looked up
 * again with a single lookup, which finds the line in cache.
 */
#include "hc_members.h"

#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_random.h>

#include "hc_bigmem.h"
#include "hc_members_pvt.h"
#include "hc_pending.h"
#include "hc_proto.h"

int hc_members_init(struct hc_members *m, const char *name, uint32_t capacity,
		    uint32_t max_rooms, int socket)
{
	memset(m, 0, sizeof(*m));
	if (capacity == 0 || capacity > HC_USERTAB_MAX_CAPACITY || max_rooms < 2)
		return -EINVAL;
	m->slot_bytes = (size_t)capacity * sizeof(struct hc_slot); /* (its free needs it) */
	m->slot = hc_bigmem_zalloc("hc_slots", m->slot_bytes, socket);
	if (m->slot == NULL)
		return -ENOMEM;
	/* (the seed: gateways choose user ids, hc_usertab.h) */
	int rc = hc_usertab_init(&m->users, capacity, m->slot, sizeof(struct hc_slot),
				 rte_rand(), socket);
	if (rc != 0) {
		hc_bigmem_free(m->slot, m->slot_bytes);
		m->slot = NULL;
		return rc;
	}
	m->room_users = rte_zmalloc_socket(name, (size_t)max_rooms * sizeof(uint32_t),
					   64, socket);
	m->pick_first = rte_zmalloc_socket("hc_pick_first", (size_t)max_rooms * sizeof(uint32_t),
					   64, socket);
	m->ask = rte_malloc_socket("hc_pick_asks", HC_PICK_ASKS * sizeof(struct hc_pick_ask), 64,
				   socket);
	m->lease = rte_zmalloc_socket("hc_lease", (size_t)max_rooms * sizeof(uint16_t), 64, socket);
	if (m->room_users == NULL || m->slot == NULL || m->pick_first == NULL || m->ask == NULL ||
	    m->lease == NULL) {
		hc_members_free(m);
		return -ENOMEM;
	}
	m->max_rooms = max_rooms;
	m->prefetch_rooms = (uint64_t)max_rooms * (sizeof(*m->room_users) + sizeof(*m->lease)) >
			    HC_MEMBERS_ROOMS_CACHED;
	m->capacity = capacity;
	m->now_s = 1; /* (0 is "never picked"; hc_members_tick moves it on) */
	m->gw_users = rte_zmalloc_socket("hc_gw_users", HC_GATEWAY_IDS * sizeof(uint32_t),
					 64, socket);
	m->snap_marked = rte_zmalloc_socket("hc_snap_marked", HC_GATEWAY_IDS * sizeof(uint32_t),
					    64, socket);
	m->snap_gen_now = rte_zmalloc_socket("hc_snap_gen", HC_GATEWAY_IDS, 64, socket);
	m->gw_digest = rte_zmalloc_socket("hc_gw_digest", HC_GATEWAY_IDS * sizeof(uint64_t),
					  64, socket);
	m->gw_pending = rte_zmalloc_socket("hc_gw_pending", HC_GATEWAY_IDS * sizeof(uint32_t),
					   64, socket);
	m->gw_pend_new = rte_zmalloc_socket("hc_gw_pend_new", HC_GATEWAY_IDS * sizeof(uint32_t),
					    64, socket);
	m->parked = rte_malloc_socket("hc_parked", HC_MEMBERS_PARKED * sizeof(struct hc_op), 64,
				      socket);
	m->gw_parked = rte_zmalloc_socket("hc_gw_parked", HC_GATEWAY_IDS * sizeof(uint16_t), 64,
					  socket);
	if (hc_pending_init(&m->pend, rte_rand(), socket) != 0 ||
	    hc_pickmemo_init(&m->memo, "hc_pickmemo", socket) != 0 || m->gw_users == NULL ||
	    m->parked == NULL || m->gw_parked == NULL ||
	    m->snap_marked == NULL || m->snap_gen_now == NULL || m->gw_digest == NULL ||
	    m->gw_pending == NULL || m->gw_pend_new == NULL) {
		hc_members_free(m);
		return -ENOMEM;
	}
	return 0;
}

void hc_members_free(struct hc_members *m)
{
	if (m->users.ix.index != NULL)
		hc_usertab_free(&m->users);
	rte_free(m->room_users);
	hc_bigmem_free(m->slot, m->slot_bytes);
	rte_free(m->pick_first);
	rte_free(m->ask);
	rte_free(m->lease);
	hc_pending_free(&m->pend);
	hc_pickmemo_free(&m->memo);
	rte_free(m->gw_users);
	rte_free(m->snap_marked);
	rte_free(m->snap_gen_now);
	rte_free(m->gw_digest);
	rte_free(m->gw_pending);
	rte_free(m->gw_pend_new);
	rte_free(m->parked);
	rte_free(m->gw_parked);
	memset(m, 0, sizeof(*m));
}

/* Per-batch "may have changed" filter. */
struct touched {
	uint64_t key[256];
	uint8_t state[256]; /* 0 empty, 1 key[] valid, 2 poisoned */
};

static inline unsigned touched_slot(uint64_t user)
{
	return (unsigned)((user * 0xD6E8FEB86659FD93ull) >> 56);
}

static inline int touched_maybe(const struct touched *t, uint64_t user)
{
	unsigned s = touched_slot(user);
	return t->state[s] == 2 || (t->state[s] == 1 && t->key[s] == user);
}

static inline void touched_mark(struct touched *t, uint64_t user)
{
	unsigned s = touched_slot(user);
	if (t->state[s] == 0) {
		t->state[s] = 1;
		t->key[s] = user;
	} else if (t->key[s] != user) {
		t->state[s] = 2;
	}
}

int32_t hc_members_key_crowded(struct hc_members *m, uint64_t user)
{
	int32_t at = -ENOSPC;
	while (at < 0 && m->gone_head != 0) {
		hc_members_gone_evict(m);
		at = hc_usertab_add_absent(&m->users, user);
	}
	return at;
}

/* Tell the control core's seat book what o changed (or ask for a seat). */
static inline void report(struct hc_members *m, const struct hc_op *o, uint32_t from,
			  uint32_t to, uint16_t kind)
{
	hc_members_report(m, o->user_id, from, to, o->pool_id, o->gateway_id, kind, 0);
}

/* Remove the user at `at` (in room cur): one LEAVE's worth of work. */
static void remove_at(struct hc_members *m, int32_t at, uint64_t user, uint32_t cur)
{
	struct hc_op o = {.user_id = user, .gateway_id = m->slot[at].gw};
	hc_members_leaving(m, at, user);
	hc_members_place(m, at, user, cur, 0, 0);
	hc_members_gone_or_del(m, at, user, UINT32_MAX);
	hc_members_room_add(m, cur, -1);
	HC_RELAXED_ADD(&m->n_users, (uint64_t)-1);
	report(m, &o, cur, 0, HC_CHG_APPLIED);
}

/* Gateway gw's snapshot generation `gen` begins here.  Generations are 8
 * bits: when they wrap (gen not above the last one), marks left from the
 * previous round could read as this round's, so they are cleared once
 * (a scan every 255 snapshots of a gateway, slow path). */
static void snap_gen_begin(struct hc_members *m, uint16_t gw, uint8_t gen)
{
	if (gen <= m->snap_gen_now[gw]) {
		/* (positions at or past users.fresh never held a user) */
		for (uint32_t at = 0; at < m->users.fresh; at++)
			if (m->slot[at].gw == gw)
				m->slot[at].mark = 0;
		hc_pending_age_snapshot_ops(&m->pend, gw);
	}
	m->snap_gen_now[gw] = gen;
	m->snap_marked[gw] = 0;
}

/* A fresh (not replayed) snapshot op of gw's generation gen is seen: a
 * newer snapshot of gw reaches us, and begins here, before any of its
 * members waits behind a seat request (a member replayed later is then of
 * the current snapshot or an older one). */
static inline void snap_gen_see(struct hc_members *m, uint16_t gw, uint8_t gen)
{
	if (gen != m->snap_gen_now[gw] && !snap_gen_older(gen, m->snap_gen_now[gw]))
		snap_gen_begin(m, gw, gen);
}

/* One batch in the making: which users it added (a bulk lookup that
 * found them absent is stale; one that found a user since removed is
 * told by the slot, batch_pos) and its counters, published once at the
 * end. */
struct batch {
	struct touched *t;  /* the keys added (their absence is stale) */
	int added;          /* t holds a key: its state was cleared */
	int stale_all;      /* a sweep ran: every later lookup is fresh */
	uint64_t joins, moves, leaves, noops, full, asked, not_owner, takeovers, superseded;
	uint64_t leased;
	int64_t dusers;
};

/* One bulk lookup for the whole batch, then its users' slots: hides the
 * cache misses of a table far larger than the cache. */
static inline void batch_lookup(struct hc_members *m, const struct hc_op *ops, unsigned n,
				int32_t *pos, uint32_t *entry)
{
	uint64_t keys[HC_MEMBERS_BATCH];
	for (unsigned i = 0; i < n; i++)
		keys[i] = ops[i].user_id;
	hc_usertab_lookup_bulk_at(&m->users, keys, n, pos, entry); /* slots in cache after */
}

/* The lines the batch's ops will write besides their users' own slots,
 * fetched now, all at once: the rooms' counters and leases, and, when a
 * LEAVE deletes its user's key (the index past hc_members_gone_keep_max), the
 * index line after its entry's (where the delete's shift often ends).
 * Written one op at a time they were cache misses in series:
 * stores commit in order, and one store waiting for its line holds up
 * every store behind it.  Rooms' lines only where their tables outgrow a
 * core's L2 (hc_members.prefetch_rooms): smaller ones stay cached, and
 * asking for them took fill buffers the user table's lines need.  A
 * stale bulk result (an earlier op of the batch added or removed the
 * user) only makes a useless prefetch.
 * (rte_prefetch0, not rte_prefetch0_write: built for -march=corei7,
 * which has no PREFETCHW, the write hint left no instruction at all.) */
static inline void batch_prefetch_counters(const struct hc_members *m, const struct hc_op *ops,
					   unsigned n, const int32_t *pos, const uint32_t *entry)
{
	/* (with no branch on what each op will do, some lines are asked for
	 * that no op writes: a no-op's room, a JOIN's own room, a gone
	 * user's room 0, the index line after a LEAVE of a room the user is
	 * not in) */
	const int deletes = m->users.ix.count > hc_members_gone_keep_max(m);
	const int rooms = m->prefetch_rooms;
	if (!rooms && likely(!deletes))
		return; /* (small room tables stay cached: HC_MEMBERS_ROOMS_CACHED) */
	for (unsigned i = 0; i < n; i++) {
		const struct hc_op *o = &ops[i];
		if (pos[i] >= 0) {
			if (rooms)
				rte_prefetch0(&m->room_users[m->slot[pos[i]].room]);
			if (unlikely(deletes) && o->op == HC_OP_LEAVE)
				hc_keyidx_prefetch_after(&m->users.ix, entry[i]);
		}
		if (rooms && o->op == HC_OP_JOIN) {
			rte_prefetch0(&m->room_users[o->room_id]);
			rte_prefetch0(&m->lease[o->room_id]); /* (read under admission) */
		}
	}
}

/* The user's key position: the bulk result, unless an earlier op of this
 * batch deleted the key (its slot holds another key, or is free: no room
 * and no gone link) or may have added it (found absent, and in the
 * filter of keys added). */
static inline int32_t batch_pos(struct hc_members *m, const struct batch *b,
				const struct hc_op *o, int32_t bulk)
{
	int fresh = bulk >= 0 ?
		m->slot[bulk].user_id == o->user_id &&
			(m->slot[bulk].room != 0 || m->slot[bulk].gone_link != 0) :
		!(b->added && touched_maybe(b->t, o->user_id));
	return likely(fresh && !b->stale_all) ? bulk : hc_usertab_lookup(&m->users, o->user_id);
}

/* A key added by this batch: a later op's bulk result may say absent. */
static inline void batch_added(struct batch *b, uint64_t user)
{
	if (!b->added) {
		memset(b->t->state, 0, sizeof(b->t->state));
		b->added = 1;
	}
	touched_mark(b->t, user);
}

/* Why one more new user (a JOIN's or a snapshot member's) cannot have a
 * key now, or NEW_KEY_FREE: its gateway holds its share of
 * --max-users-per-gateway (its users here and its new users whose seat
 * request is in flight), or there is no key left (counting the keys
 * promised to new users whose seat request is in flight).  New users
 * only (a user taken over from another gateway is not new to the table,
 * and is not refused): a known user's path has no test for the cap. */
enum { NEW_KEY_FREE, NEW_KEY_GATEWAY_CAP, NEW_KEY_TABLE };
static inline int new_key(const struct hc_members *m, const struct batch *b,
			  const struct hc_op *o)
{
	if (unlikely(m->gw_user_cap != 0) &&
	    m->gw_users[o->gateway_id] + m->gw_pend_new[o->gateway_id] >= m->gw_user_cap)
		return NEW_KEY_GATEWAY_CAP;
	if (likely(m->n_users + (uint64_t)b->dusers + m->pend_new < m->capacity))
		return NEW_KEY_FREE;
	return NEW_KEY_TABLE;
}

/* A new user refused (HC_CHG_FULL: the gateway is told), and counted. */
static void refuse_new(struct hc_members *m, struct batch *b, const struct hc_op *o, int why)
{
	b->full++;
	if (why == NEW_KEY_GATEWAY_CAP)
		HC_RELAXED_ADD(&m->st.gateway_cap_full, 1);
	report(m, o, 0, o->room_id, HC_CHG_FULL);
}

/* A JOIN of a new user: is there a key for it?  Else it is refused. */
static inline int have_key_for_new(struct hc_members *m, struct batch *b, const struct hc_op *o)
{
	int why = new_key(m, b, o);
	if (likely(why == NEW_KEY_FREE))
		return 1;
	refuse_new(m, b, o, why);
	return 0;
}

/* A snapshot member of a new user: is there a key for it?  The users its
 * own sweep is about to remove (the gateway no longer has them: LEAVEs
 * lost in a gap) still count here, so a gateway near its cap, or a table
 * near --max-users, would have live users refused.  A member of the
 * current snapshot that finds no key therefore waits for the sweep
 * (parked: up to HC_MEMBERS_PARKED of them, HC_MEMBERS_PARKED_PER_GATEWAY
 * of one gateway, so that one gateway's snapshot cannot take all the
 * room) and is judged again there (replay_parked); a member that cannot
 * wait (parked already, replayed after a seat answer, or no room to
 * park) is refused. */
static inline int member_key_for_new(struct hc_members *m, struct batch *b,
				     const struct hc_op *o)
{
	int why = new_key(m, b, o);
	if (likely(why == NEW_KEY_FREE))
		return 1;
	if (!(o->flags & (HC_OPF_DEFERRED | HC_OPF_PARKED)) &&
	    o->gen == m->snap_gen_now[o->gateway_id] && m->n_parked < HC_MEMBERS_PARKED &&
	    m->gw_parked[o->gateway_id] < HC_MEMBERS_PARKED_PER_GATEWAY) {
		m->gw_parked[o->gateway_id]++;
		m->parked[m->n_parked] = *o;
		m->parked[m->n_parked].flags |= HC_OPF_PARKED;
		m->n_parked++;
		HC_RELAXED_ADD(&m->st.snap_parked, 1);
		__atomic_store_n(&m->st.snap_parked_now, m->n_parked, __ATOMIC_RELAXED);
		return 0;
	}
	refuse_new(m, b, o, why);
	return 0;
}

/* o asks for a seat (kind HC_CHG_REQUEST or HC_CHG_RESTATE, with flags
 * HC_CHGF_*) for the user at key position at (-1: new; a key is kept for
 * it meanwhile), in cur: the user is pending until the answer
 * (hc_admission.c), counted as in flight for its gateway (SETTLING). */
static inline struct hc_pending *ask_seat(struct hc_members *m, struct batch *b,
					  const struct hc_op *o, int32_t at, uint32_t cur,
					  uint16_t kind, uint16_t flags)
{
	if (at < 0) {
		m->pend_new++;
		m->gw_pend_new[o->gateway_id]++;
	}
	struct hc_pending *p = hc_pending_add(&m->pend, o->user_id, o->session, at);
	if (at >= 0)
		m->slot[at].waiting = 1; /* (cleared by hc_members_decide) */
	HC_RELAXED_ADD(&m->gw_pending[o->gateway_id], 1);
	hc_members_report(m, o->user_id, cur, o->room_id, o->pool_id, o->gateway_id, kind, flags);
	b->asked++;
	return p;
}

/* A JOIN or snapshot member that would wait behind its user's seat
 * request, whose chain holds HC_PENDING_CHAIN_ASKS ops that may ask
 * already (hc_pending.h): refused, as a JOIN into a full table is
 * (HC_CHG_FULL: the gateway drops the user if it still holds them in
 * that room), counted in chain_full; nothing else changes (flagged
 * HC_CHGF_CHAIN: a seat kept for the user stays kept). */
static __rte_noinline void refuse_chained(struct hc_members *m, const struct hc_op *o)
{
	HC_RELAXED_ADD(&m->st.chain_full, 1);
	hc_members_report(m, o->user_id, 0, o->room_id, o->pool_id, o->gateway_id, HC_CHG_FULL,
			  HC_CHGF_CHAIN);
}

/* Does o's user wait for a seat decision?  Then o waits behind it, in
 * order, or is refused if it may ask and the chain is at its cap (1).  A
 * user in the user table (at >= 0) says so in its slot, which the op
 * reads anyway (hc_slot.waiting: set by ask_seat, cleared by
 * hc_members_decide); only a user not in it (a new user, whose request,
 * if any, was made with no position) is looked for in the pending
 * table. */
static inline int hold_if_waiting(struct hc_members *m, const struct hc_op *o, int32_t at)
{
	if (likely(at < 0 ? m->pend.n_pending == 0 : !m->slot[at].waiting))
		return 0;
	struct hc_pending *p = hc_pending_find(&m->pend, o->user_id);
	if (p == NULL) {
		if (unlikely(at >= 0)) { /* (not reached: a flag without a request) */
			HC_RELAXED_ADD(&m->st.waiting_strays, 1);
			m->slot[at].waiting = 0;
		}
		return 0;
	}
	if (unlikely(!hc_pending_defer(&m->pend, p, o)))
		refuse_chained(m, o);
	return 1;
}

/* Is o (a JOIN or snapshot member of another gateway than the user's
 * owner) of an older session than the owner's?  Then the user has
 * reconnected through the owner since: o is ignored, and its gateway is
 * told (HC_CHG_SUPERSEDED) so that it forgets the user too. */
static inline int superseded(struct hc_members *m, struct batch *b, const struct hc_op *o,
			     int32_t at, uint32_t cur)
{
	if (likely(at < 0 || cur == 0 || m->slot[at].gw == o->gateway_id ||
		   o->session >= m->slot[at].session))
		return 0;
	b->superseded++;
	report(m, o, cur, o->room_id, HC_CHG_SUPERSEDED);
	return 1;
}

/* JOIN: ignored if of an older session than the owner's; nothing if the
 * user is there already (but a takeover through another gateway); under
 * admission, applied at once on a leased seat of the room if this worker
 * has one (reported HC_CHG_LEASED), else a seat request; without
 * admission an add or a move. */
static inline void op_join(struct hc_members *m, struct batch *b, const struct hc_op *o,
			   int32_t at, uint32_t cur, int32_t gone)
{
	if (superseded(m, b, o, at, cur))
		return;
	if (cur == o->room_id) {
		if (unlikely(m->slot[at].gw != o->gateway_id)) {
			/* the user reconnected through another gateway */
			hc_members_place(m, at, o->user_id, cur, cur, o->gateway_id);
			b->takeovers++;
		}
		m->slot[at].session = o->session;
		b->noops++;
		return;
	}
	if (at < 0 && !have_key_for_new(m, b, o))
		return;
	uint16_t kind = HC_CHG_APPLIED;
	if (m->admission) {
		uint16_t lease = m->lease[o->room_id];
		if (likely((lease & HC_LEASE_SEATS) == 0)) {
			/* a seat request: nothing changes until the answer.
			 * Our JOINs used the lease up before its top-up came:
			 * the request says so, once (the room's leases may grow) */
			int dry = lease == HC_LEASE_DRY;
			ask_seat(m, b, o, at, cur, HC_CHG_REQUEST, dry ? HC_CHGF_LEASE_DRY : 0);
			if (unlikely(dry))
				m->lease[o->room_id] = 0;
			return;
		}
		kind = HC_CHG_LEASED; /* the seat is taken below, once applied */
	}
	if (at < 0) {
		at = hc_members_key_for_new(m, o->user_id, gone); /* (batch_pos) */
		if (unlikely(at < 0)) { /* not at capacity: a crowded home (hc_usertab.h) */
			refuse_new(m, b, o, NEW_KEY_TABLE);
			return;
		}
		if (gone < 0)
			batch_added(b, o->user_id);
		/* (waiting is 0: a waiting user is never removed) */
		m->slot[at].picked_at = hc_pickmemo_take(&m->memo, o->user_id, m->now_s);
		b->dusers++;
		b->joins++;
	} else {
		hc_members_room_add(m, cur, -1); /* a move: the key stays put */
		if (m->slot[at].gw != o->gateway_id)
			b->takeovers++;
		b->moves++;
	}
	if (kind == HC_CHG_LEASED) {
		/* the control core counted it as taken */
		if (--m->lease[o->room_id] == 0)
			m->lease[o->room_id] = HC_LEASE_DRY;
		b->leased++;
	}
	hc_members_place(m, at, o->user_id, cur, o->room_id, o->gateway_id);
	m->slot[at].session = o->session;
	hc_members_room_add(m, o->room_id, 1);
	report(m, o, cur, o->room_id, kind);
}

/* LEAVE: only out of the user's room, and only from its owner. */
static inline void op_leave(struct hc_members *m, struct batch *b, const struct hc_op *o,
			    int32_t at, uint32_t cur, uint32_t entry)
{
	if (cur != o->room_id) {
		b->noops++;
		return;
	}
	if (unlikely(m->slot[at].gw != o->gateway_id)) {
		/* a late LEAVE of a gateway the user has left */
		b->not_owner++;
		b->noops++;
		return;
	}
	hc_members_leaving(m, at, o->user_id);
	hc_members_place(m, at, o->user_id, cur, 0, 0);
	/* its key kept (no delete), or deleted at the bulk lookup's entry,
	 * unless an earlier op moved it */
	hc_members_gone_or_del(m, at, o->user_id, entry);
	hc_members_room_add(m, cur, -1);
	b->dusers--;
	b->leaves++;
	report(m, o, cur, 0, HC_CHG_APPLIED);
}

/* SNAP_SET: a member of a gateway's snapshot; the user is in o->room_id,
 * owned by o->gateway_id.  Another gateway's user stays theirs unless the
 * member's session is newer; with admission a member not in its room
 * here asks for the seat first (hc_op.h). */
static void op_snap_set(struct hc_members *m, struct batch *b, const struct hc_op *o,
			int32_t at, uint32_t cur, int32_t gone)
{
	uint16_t gw = o->gateway_id;
	/* an older snapshot's member (replayed after a seat decision) is
	 * placed but neither marked nor counted: the count is the current
	 * snapshot's.
	 * A fresh member's snapshot was begun by apply_batch (snap_gen_see);
	 * a replayed one's is the current one or older */
	int older = m->snap_gen_now[gw] != o->gen &&
		    ((o->flags & HC_OPF_DEFERRED) || snap_gen_older(o->gen, m->snap_gen_now[gw]));
	if (cur != 0 && m->slot[at].gw != gw && o->session <= m->slot[at].session) {
		/* another gateway's now (a later or equal session): tell gw */
		HC_RELAXED_ADD(&m->st.snap_conflicts, 1);
		report(m, o, cur, o->room_id, HC_CHG_SUPERSEDED);
		return;
	}
	if (m->admission && cur != o->room_id) {
		if (o->flags & HC_OPF_DECIDED)
			return; /* refused: not in room_id; the sweep judges cur */
		if (at < 0 && !member_key_for_new(m, b, o))
			return;
		/* a seat request like a JOIN's; this SET waits behind it */
		struct hc_pending *p = ask_seat(m, b, o, at, cur, HC_CHG_RESTATE, 0);
		struct hc_op again = *o;
		again.flags |= HC_OPF_DECIDED;
		hc_pending_defer(&m->pend, p, &again);
		return;
	}
	if (at < 0) {
		if (!member_key_for_new(m, b, o))
			return;
		at = hc_members_key_for_new(m, o->user_id, gone); /* (batch_pos) */
		if (unlikely(at < 0)) {
			refuse_new(m, b, o, NEW_KEY_TABLE); /* a crowded home */
			return;
		}
		if (gone < 0)
			batch_added(b, o->user_id);
		m->slot[at].picked_at = hc_pickmemo_take(&m->memo, o->user_id, m->now_s);
		m->slot[at].room = 0;
		b->dusers++;
	}
	if (cur != o->room_id) { /* without admission: the gateway's word */
		if (cur != 0)
			hc_members_room_add(m, cur, -1);
		hc_members_place(m, at, o->user_id, cur, o->room_id, gw);
		hc_members_room_add(m, o->room_id, 1);
		report(m, o, cur, o->room_id, HC_CHG_APPLIED);
		HC_RELAXED_ADD(&m->st.snap_added, 1);
	} else if (m->slot[at].gw != gw) { /* a newer session, same room */
		hc_members_place(m, at, o->user_id, cur, cur, gw);
		b->takeovers++;
	}
	m->slot[at].session = o->session;
	/* an older snapshot's member leaves the user unmarked: its mark would
	 * serve no check (an older SNAP_DROP does nothing) and, kept, could
	 * outlive its 8-bit number and read as a later snapshot's */
	uint8_t mark = older ? 0 : o->gen;
	if (m->slot[at].mark != mark) {
		if (m->slot[at].mark != 0 && m->slot[at].mark == m->snap_gen_now[gw] &&
		    m->snap_marked[gw] > 0)
			m->snap_marked[gw]--; /* the current mark is overwritten */
		m->slot[at].mark = mark;
		if (mark != 0)
			m->snap_marked[gw]++;
	}
	HC_RELAXED_ADD(&m->st.snap_set, 1);
}

/* SNAP_DROP: a sweep's check of a user that was pending, after the
 * answer: the user goes if still the gateway's and not in the snapshot.
 * Only the current snapshot's: a newer one of the gateway began while the
 * user waited, and its sweep (or its SNAP_DROP, later in this user's
 * chain) judges the user by its own mark; the older one's mark may be
 * gone (cleared when the 8-bit generation wrapped) though it named them. */
static inline void op_snap_drop(struct hc_members *m, const struct hc_op *o, int32_t at,
				uint32_t cur)
{
	if (at >= 0 && cur != 0 && m->slot[at].gw == o->gateway_id &&
	    o->gen == m->snap_gen_now[o->gateway_id] && m->slot[at].mark != o->gen) {
		remove_at(m, at, o->user_id, cur); /* (its slot: no room, batch_pos) */
		HC_RELAXED_ADD(&m->st.snap_swept, 1);
	}
}

/* gw's snapshot members that found no key (member_key_for_new), judged
 * again at its sweep, now that the users it removed no longer count: the
 * users it named are all that count for gw.  Each was the current
 * snapshot's when parked, and a snapshot's sweep follows its members
 * (hc_snapshot.c), so one of another generation is not reached: refused.
 * A member whose user waits for a seat decision meanwhile (another
 * gateway's JOIN) waits behind it, as any op (so its own seat request, if
 * any, follows SWEPT, as a fresh member's held behind a pending user
 * does).  Ops of other gateways stay parked, in order.  (Users of gw the
 * sweep leaves to a SNAP_DROP after their pending answer still count
 * here: a member may then be refused that their removal would have let
 * in.) */
static void replay_parked(struct hc_members *m, struct batch *b, uint16_t gw, uint8_t gen)
{
	uint32_t kept = 0, n = m->n_parked;
	for (uint32_t i = 0; i < n; i++) {
		const struct hc_op *o = &m->parked[i];
		if (o->gateway_id != gw) {
			m->parked[kept++] = *o;
			continue;
		}
		m->gw_parked[gw]--;
		if (o->gen != gen) {
			refuse_new(m, b, o, NEW_KEY_TABLE); /* (not reached) */
			continue;
		}
		int32_t at = hc_usertab_lookup(&m->users, o->user_id);
		uint32_t cur = at >= 0 ? m->slot[at].room : 0;
		int32_t gone = hc_members_take_gone(m, &at);
		if (!hold_if_waiting(m, o, at))
			op_snap_set(m, b, o, at, cur, gone); /* (it parks no more: HC_OPF_PARKED) */
	}
	m->n_parked = kept;
	__atomic_store_n(&m->st.snap_parked_now, kept, __ATOMIC_RELAXED);
}

/* End of a snapshot of gateway gw at this owner: every user of gw not
 * marked gen goes.  Users waiting for a seat decision are checked after
 * it (a SNAP_DROP in their chain).  The slot table is scanned only when
 * some user of gw is unmarked.  HC_CHG_SWEPT follows the snapshot's
 * requests and the sweep's removals: the control core may release the
 * seat requests a restart held as soon as it reads it (hc_restart.h), and
 * seats the sweep freed are then free in its book.  The members that
 * waited for the sweep for a key (parked) are judged again before it. */
static void snap_sweep(struct hc_members *m, struct batch *b, const struct hc_op *sweep)
{
	const uint16_t gw = sweep->gateway_id;
	const uint8_t gen = sweep->gen;
	int counted = 1; /* snap_marked counts gen's marks */
	if (m->snap_gen_now[gw] != gen) {
		if (snap_gen_older(gen, m->snap_gen_now[gw])) {
			counted = 0; /* an older snapshot's sweep (not reached: sweeps
			                are never deferred, and a generation begins at
			                its first op, snap_gen_see): its marks are not
			                counted */
		} else {
			snap_gen_begin(m, gw, gen); /* none of its members are ours */
		}
	}
	HC_RELAXED_ADD(&m->st.sweeps, 1);
	if (m->pend.n_pending > 0)
		hc_pending_defer_all(&m->pend, (struct hc_op){.gateway_id = gw, .gen = gen,
						       .op = HC_OP_SNAP_DROP});
	if (!counted || m->snap_marked[gw] < m->gw_users[gw]) {
		HC_RELAXED_ADD(&m->st.sweep_scans, 1);
		uint64_t swept = 0;
		/* (every position that ever held a user: the table's share
		 * of --max-users is read only as far as it was used) */
		for (uint32_t at = 0; at < m->users.fresh; at++) {
			const struct hc_slot *sl = &m->slot[at];
			if (sl->room == 0 || sl->gw != gw || sl->mark == gen)
				continue; /* (a slot with a room is in use) */
			uint64_t user = sl->user_id;
			if (sl->waiting)
				continue; /* its SNAP_DROP decides after the answer */
			remove_at(m, (int32_t)at, user, sl->room);
			swept++;
		}
		HC_RELAXED_ADD(&m->st.snap_swept, swept); /* not LEAVEs: counted apart */
	}
	if (m->n_parked > 0)
		replay_parked(m, b, gw, gen);
	/* (of a snapshot: the incarnation it named, hc_op.h) */
	const uint16_t restated = sweep->flags & HC_OPF_RESTATED ? HC_CHGF_RESTATED : 0;
	hc_members_report(m, restated ? sweep->room_id : 0, 0, 0, 0, gw, HC_CHG_SWEPT, restated);
}

/* The batch's counters, added to st once (relaxed stores). */
static inline void batch_publish(struct hc_members *m, const struct batch *b)
{
	HC_RELAXED_ADD(&m->n_users, (uint64_t)b->dusers);
	HC_RELAXED_ADD(&m->st.joins, b->joins);
	HC_RELAXED_ADD(&m->st.moves, b->moves);
	HC_RELAXED_ADD(&m->st.leaves, b->leaves);
	HC_RELAXED_ADD(&m->st.noops, b->noops);
	HC_RELAXED_ADD(&m->st.table_full, b->full);
	HC_RELAXED_ADD(&m->st.requests, b->asked);
	HC_RELAXED_ADD(&m->st.not_owner, b->not_owner);
	HC_RELAXED_ADD(&m->st.takeovers, b->takeovers);
	HC_RELAXED_ADD(&m->st.superseded, b->superseded);
	if (b->leased != 0)
		HC_RELAXED_ADD(&m->st.leased_joins, b->leased);
}

static void apply_batch(struct hc_members *m, const struct hc_op *ops, unsigned n)
{
	int32_t pos[HC_MEMBERS_BATCH];
	uint32_t entry[HC_MEMBERS_BATCH]; /* a found user's index entry (else
	                                     no use): a hint for del_at */
	struct touched t;
	struct batch b = {.t = &t};

	const int timed = unlikely(m->time_stages); /* (hc-bench --stages) */
	uint64_t t0 = timed ? rte_rdtsc() : 0;
	batch_lookup(m, ops, n, pos, entry);
	uint64_t t1 = timed ? rte_rdtsc() : 0;
	batch_prefetch_counters(m, ops, n, pos, entry);
	uint64_t t2 = timed ? rte_rdtsc() : 0;
	for (unsigned i = 0; i < n; i++) {
		const struct hc_op *o = &ops[i];
		if (unlikely(o->op == HC_OP_SNAP_SWEEP)) {
			snap_sweep(m, &b, o);
			b.stale_all = 1;
			continue;
		}
		if (o->op == HC_OP_SNAP_SET && !(o->flags & HC_OPF_DEFERRED))
			snap_gen_see(m, o->gateway_id, o->gen);
		int32_t at = batch_pos(m, &b, o, pos[i]);
		uint32_t cur = at >= 0 ? m->slot[at].room : 0;
		/* a gone user (its key kept, in no room) is one not in the
		 * table to every op, but a new key's add takes its own back */
		int32_t gone = hc_members_take_gone(m, &at);
		if (hold_if_waiting(m, o, at))
			continue;
		if (o->op == HC_OP_JOIN)
			op_join(m, &b, o, at, cur, gone);
		else if (o->op == HC_OP_LEAVE)
			op_leave(m, &b, o, at, cur, entry[i]);
		else if (o->op == HC_OP_SNAP_SET)
			op_snap_set(m, &b, o, at, cur, gone);
		else /* HC_OP_SNAP_DROP */
			op_snap_drop(m, o, at, cur);
	}
	batch_publish(m, &b);
	if (timed) {
		m->cyc.lookup += t1 - t0;
		m->cyc.prefetch += t2 - t1;
		m->cyc.ops += rte_rdtsc() - t2;
	}
}

void hc_members_apply(struct hc_members *m, const struct hc_op *ops, unsigned n)
{
	while (n > 0) {
		unsigned k = n < HC_MEMBERS_BATCH ? n : HC_MEMBERS_BATCH;
		apply_batch(m, ops, k);
		ops += k;
		n -= k;
	}
}

int hc_members_pick_ask(struct hc_members *m, uint32_t room, uint32_t to_room, unsigned k,
			uint32_t cooldown)
{
	if (m->n_asks == HC_PICK_ASKS)
		return -ENOSPC;
	m->ask[m->n_asks++] = (struct hc_pick_ask){.from_room = room, .to_room = to_room,
		.want = (uint16_t)(k < UINT16_MAX ? k : UINT16_MAX),
		.cooldown_s = (uint16_t)(cooldown < UINT16_MAX ? cooldown : UINT16_MAX)};
	hc_pickmemo_window(&m->memo, m->ask[m->n_asks - 1].cooldown_s, m->now_s);
	return 0;
}

/* The asks that waited start a scan: chained per room (in the order they
 * came: a room's asks are served first to last). */
static void pick_scan_begin(struct hc_members *m)
{
	m->n_active = m->n_asks;
	m->asks_open = 0;
	m->scan_at = 0;
	for (uint32_t i = m->n_active; i-- > 0;) {
		struct hc_pick_ask *a = &m->ask[i];
		uint32_t next = m->pick_first[a->from_room];
		a->found = 0;
		a->next = next;
		a->min_cooldown_s = next != 0 && m->ask[next - 1].min_cooldown_s < a->cooldown_s ?
			m->ask[next - 1].min_cooldown_s : a->cooldown_s;
		if (a->want != 0) {
			m->pick_first[a->from_room] = i + 1;
			m->asks_open++;
		} else {
			a->next = 0; /* (wants none: ended with the scan, never chained) */
		}
	}
}

/* The running scan ends: every ask reported done, the waiting ones next. */
static void pick_scan_end(struct hc_members *m)
{
	for (uint32_t i = 0; i < m->n_active; i++) {
		const struct hc_pick_ask *a = &m->ask[i];
		m->pick_first[a->from_room] = 0;
		hc_members_report(m, a->found, a->from_room, a->to_room, 0, 0, HC_CHG_PICK_END, 0);
	}
	uint32_t waiting = m->n_asks - m->n_active;
	memmove(m->ask, m->ask + m->n_active, waiting * sizeof(m->ask[0]));
	m->n_asks = waiting;
	m->n_active = 0;
	if (waiting > 0)
		pick_scan_begin(m);
}

/* The user at `at` (in room, which has asks): picked for its room's
 * first ask still wanting users whose cooldown the user is past, unless
 * on its way elsewhere.  An ask that has its users leaves the chain, so a
 * walk passes only asks that want users; one whose least cooldown the
 * user is within stops at once.  1 if picked. */
static int pick_position(struct hc_members *m, int32_t at, uint32_t room, uint32_t now)
{
	struct hc_slot *s = &m->slot[at];
	/* (never picked: past any cooldown, which is at most UINT16_MAX) */
	uint32_t age = s->picked_at == 0 ? UINT32_MAX : now - s->picked_at;
	uint32_t *link = &m->pick_first[room];
	for (uint32_t k = *link; k != 0; k = *link) {
		struct hc_pick_ask *a = &m->ask[k - 1];
		if (age < a->min_cooldown_s)
			return 0; /* moved a moment ago: too soon for every ask left */
		if (age < a->cooldown_s) {
			link = &a->next;
			continue;
		}
		if (s->waiting)
			return 0; /* on their way elsewhere (a seat request in
			             flight): a MOVE from here would find them
			             gone, and its seat would be held for nothing */
		hc_members_report(m, s->user_id, room, a->to_room, 0, s->gw, HC_CHG_PICK, 0);
		s->picked_at = now != 0 ? now : 1;
		if (++a->found == a->want) {
			*link = a->next; /* has its users: off the chain */
			m->asks_open--;
		}
		return 1;
	}
	return 0;
}

/* Records of the pick memo a timer tick expires at most (10,000 ticks a
 * second: the whole ring in under a second). */
#define TICK_EXPIRES 4

void hc_members_tick(struct hc_members *m, uint32_t now)
{
	if (now > m->now_s) /* (never back: a TSC that steps back waits) */
		m->now_s = now;
	if (unlikely(m->memo.head != m->memo.tail))
		hc_pickmemo_expire(&m->memo, m->now_s, TICK_EXPIRES);
}

unsigned hc_members_gone_trim(struct hc_members *m, unsigned steps)
{
	unsigned dropped = 0;
	for (; steps > 0 && m->gone_head != 0 &&
	       m->users.ix.count > hc_members_gone_keep_max(m); steps--)
		if (hc_members_gone_drop_popped(m, hc_members_gone_pop(m))) {
			HC_RELAXED_ADD(&m->st.gone_keys_trimmed, 1);
			dropped++;
		}
	return dropped;
}

unsigned hc_members_pick_step(struct hc_members *m, uint32_t positions)
{
	uint32_t now = m->now_s;
	if (m->n_active == 0) {
		if (m->n_asks == 0)
			return 0;
		pick_scan_begin(m);
	}
	unsigned picked = 0;
	uint32_t at = m->scan_at, used = m->users.fresh; /* (positions past it: never used) */
	uint32_t end = at < used && positions < used - at ? at + positions : used;
	for (; at < end && m->asks_open > 0; at++) {
		uint32_t room = m->slot[at].room; /* (0: free, or in no room) */
		if (room != 0 && m->pick_first[room] != 0)
			picked += pick_position(m, (int32_t)at, room, now);
	}
	m->scan_at = at;
	if (at >= used || m->asks_open == 0)
		pick_scan_end(m);
	return picked;
}

uint16_t hc_members_owner_of(const struct hc_members *m, uint64_t user_id)
{
	int32_t at = hc_usertab_lookup(&m->users, user_id);
	return at >= 0 && m->slot[at].room != 0 ? m->slot[at].gw : 0;
}

uint32_t hc_members_room_of(const struct hc_members *m, uint64_t user_id)
{
	int32_t at = hc_usertab_lookup(&m->users, user_id);
	return at >= 0 ? m->slot[at].room : 0;
}

uint64_t hc_members_walk(const struct hc_members *m,
			 void (*fn)(uint64_t user, uint32_t room, void *arg),
			 void *arg)
{
	uint32_t next = 0;
	uint64_t n = 0;

	int32_t at;
	while ((at = hc_usertab_next(&m->users, &next)) >= 0) {
		if (m->slot[at].room == 0)
			continue; /* a gone user's kept key */
		fn(m->slot[at].user_id, m->slot[at].room, arg);
		n++;
	}
	return n;
}
