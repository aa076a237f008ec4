/*
 * hc_members.c - one worker's user -> room table and room counters.
 *
 * HOW IT WORKS
 * A batch of up to 64 ops is looked up with one rte_hash_lookup_bulk
 * call, which hashes all keys and prefetches their buckets, hiding most
 * cache misses of a table far larger than the cache.  The ops are then
 * applied one by one in order.  The lookup gives each user's key position;
 * the user's slot[position] holds the room, so a move writes the slot and
 * leaves the hash alone (slots of a batch are prefetched after the lookup).  A user can appear twice in one batch; after the
 * first op adds or removes that user's key, the bulk result is stale.  A
 * small per-batch filter (256 slots keyed by a hash of the user id)
 * remembers which keys were added or removed; an op whose user may be
 * among them (same key in its slot, or a slot two keys collided on) looks
 * the user up again with a single lookup, which finds the line in cache.
 */
#include "hc_members.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "hc_proto.h"

/* rte_hash compares keys of lengths it has no special case for with
 * memcmp(); a user id is one 64-bit word. */
static int key8_cmp(const void *a, const void *b, size_t len)
{
	uint64_t x, y;
	(void)len;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x != y;
}

int hc_members_init(struct hc_members *m, const char *name, uint32_t capacity,
		    uint32_t max_rooms, int socket)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = capacity,
		.key_len = sizeof(uint64_t),
		.hash_func = rte_hash_crc,
		.hash_func_init_val = 0,
		.socket_id = socket,
		/* single writer, no reader threads: no locks; the extendable
		 * bucket table makes `capacity` a guarantee, not a hope */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	memset(m, 0, sizeof(*m));
	if (capacity == 0 || max_rooms < 2)
		return -EINVAL;
	m->users = rte_hash_create(&hp);
	if (m->users == NULL)
		return -ENOMEM;
	rte_hash_set_cmp_func(m->users, key8_cmp);
	m->room_users = rte_zmalloc_socket(name, (size_t)max_rooms * sizeof(uint32_t),
					   64, socket);
	m->slot = rte_zmalloc_socket("hc_slots", (size_t)capacity * sizeof(struct hc_slot),
				     64, socket);
	m->room_head = rte_zmalloc_socket("hc_room_head", (size_t)max_rooms * sizeof(uint32_t),
					  64, socket);
	if (m->slot == NULL || m->room_head == NULL) {
		hc_members_free(m);
		return -ENOMEM;
	}

	if (m->room_users == NULL) {
		rte_hash_free(m->users);
		m->users = NULL;
		return -ENOMEM;
	}
	m->max_rooms = max_rooms;
	m->capacity = capacity;
	m->node = rte_malloc_socket("hc_deferred", sizeof(struct hc_deferred) * HC_MEMBERS_DEFERRED,
				    64, socket);
	m->pending = rte_zmalloc_socket("hc_pending",
					sizeof(struct hc_pending) << HC_PENDING_BITS, 64, socket);
	m->pending_filter = rte_zmalloc_socket("hc_pending_filter", HC_PENDING_FILTER * sizeof(uint16_t),
					       64, socket);
	m->replay = rte_malloc_socket("hc_replay", sizeof(struct hc_op) * HC_MEMBERS_DEFERRED,
				      64, socket);
	m->gw_users = rte_zmalloc_socket("hc_gw_users", HC_GATEWAY_IDS * sizeof(uint32_t),
					 64, socket);
	m->snap_marked = rte_zmalloc_socket("hc_snap_marked", HC_GATEWAY_IDS * sizeof(uint32_t),
					    64, socket);
	m->snap_gen_now = rte_zmalloc_socket("hc_snap_gen", HC_GATEWAY_IDS, 64, socket);
	m->gw_digest = rte_zmalloc_socket("hc_gw_digest", HC_GATEWAY_IDS * sizeof(uint64_t),
					  64, socket);
	if (m->node == NULL || m->replay == NULL || m->pending == NULL ||
	    m->pending_filter == NULL || m->gw_users == NULL || m->snap_marked == NULL ||
	    m->snap_gen_now == NULL || m->gw_digest == NULL) {
		hc_members_free(m);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < HC_MEMBERS_DEFERRED; i++)
		m->node[i].next = i + 1 < HC_MEMBERS_DEFERRED ? i + 1 : UINT32_MAX;
	m->free_node = 0;
	return 0;
}

void hc_members_free(struct hc_members *m)
{
	rte_hash_free(m->users);
	rte_free(m->room_users);
	rte_free(m->slot);
	rte_free(m->room_head);
	rte_free(m->node);
	rte_free(m->pending);
	rte_free(m->pending_filter);
	rte_free(m->replay);
	rte_free(m->gw_users);
	rte_free(m->snap_marked);
	rte_free(m->snap_gen_now);
	rte_free(m->gw_digest);
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

static inline void room_add(struct hc_members *m, uint32_t room, int32_t d)
{
	HC_RELAXED_ADD(&m->room_users[room], (uint32_t)d);
}

/* Per-room lists of this worker's users, linked by key position + 1, so
 * the control core can have k users of a room in O(k). */
static inline void list_add(struct hc_members *m, int32_t at, uint32_t room)
{
	uint32_t head = m->room_head[room];
	m->slot[at].next = head;
	m->slot[at].prev = 0;
	if (head != 0)
		m->slot[head - 1].prev = (uint32_t)at + 1;
	m->room_head[room] = (uint32_t)at + 1;
}

static inline void list_del(struct hc_members *m, int32_t at, uint32_t room)
{
	uint32_t next = m->slot[at].next, prev = m->slot[at].prev;
	if (prev != 0)
		m->slot[prev - 1].next = next;
	else
		m->room_head[room] = next;
	if (next != 0)
		m->slot[next - 1].prev = prev;
}

/* The user at position `at` is now in `room` (0: none), from `cur`,
 * owned by gw.  The owners' membership digests follow; when the owner
 * changes (a new user, a user gone, or a user another gateway took), the
 * per-gateway counts follow and the old owner's snapshot mark goes. */
static inline void place_at(struct hc_members *m, int32_t at, uint64_t user, uint32_t cur,
			    uint32_t room, uint16_t gw)
{
	struct hc_slot *s = &m->slot[at];
	if (cur != 0) {
		list_del(m, at, cur);
		HC_RELAXED_ADD(&m->gw_digest[s->gw], -hc_member_digest(user, cur));
	}
	if (room != 0) {
		list_add(m, at, room);
		HC_RELAXED_ADD(&m->gw_digest[gw], hc_member_digest(user, room));
	}
	if (cur == 0 || room == 0 || s->gw != gw) {
		if (cur != 0) {
			uint16_t old = s->gw;
			HC_RELAXED_ADD(&m->gw_users[old], (uint32_t)-1);
			if (s->mark != 0 && s->mark == m->snap_gen_now[old])
				m->snap_marked[old]--;
		}
		if (room != 0) {
			HC_RELAXED_ADD(&m->gw_users[gw], 1);
			s->gw = gw;
		}
		s->mark = 0;
	}
	s->room = room;
}

/*
 * Pending users (admission): a small open-addressing table, user -> the
 * room they were in when they asked, and the head of their deferred ops.
 * It holds only users whose seat request is in flight (a few thousand),
 * so it stays in cache and the big rte_hash is not touched until the
 * answer: asking costs one probe here, the answer one rte_hash write, as
 * an unchecked JOIN would.  Linear probing, backward-shift deletion.
 */
static inline uint32_t pend_slot(uint64_t user)
{
	/* not hc_owner_of's multiplier: its top bits choose this worker, so
	 * they are the same for every user here (a fmix64 finaliser) */
	uint64_t h = user ^ (user >> 33);
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)(h & ((1u << HC_PENDING_BITS) - 1));
}

/* A count of pending users per filter cell: zero means "surely not
 * pending" without touching the table (the common answer). */
static inline uint32_t filter_cell(uint32_t slot)
{
	return slot & (HC_PENDING_FILTER - 1);
}

static struct hc_pending *pend_find(struct hc_members *m, uint64_t user)
{
	uint32_t mask = (1u << HC_PENDING_BITS) - 1;
	uint32_t home = pend_slot(user);
	if (m->pending_filter[filter_cell(home)] == 0)
		return NULL;
	for (uint32_t i = home;; i = (i + 1) & mask) {
		struct hc_pending *p = &m->pending[i];
		if (!p->used)
			return NULL;
		if (p->user == user)
			return p;
	}
}

static struct hc_pending *pend_insert(struct hc_members *m, uint64_t user, int32_t at)
{
	uint32_t mask = (1u << HC_PENDING_BITS) - 1;
	uint32_t i = pend_slot(user);
	while (m->pending[i].used)
		i = (i + 1) & mask;
	m->pending[i] = (struct hc_pending){.user = user, .pos1 = (uint32_t)(at + 1),
					    .head = 0, .used = 1};
	m->n_pending++;
	m->pending_filter[filter_cell(pend_slot(user))]++;
	return &m->pending[i];
}

static void pend_remove(struct hc_members *m, struct hc_pending *p)
{
	uint32_t mask = (1u << HC_PENDING_BITS) - 1;
	uint32_t i = (uint32_t)(p - m->pending), j = i;
	m->pending_filter[filter_cell(pend_slot(p->user))]--;
	m->pending[i].used = 0;
	m->n_pending--;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->pending[j].used)
			return;
		uint32_t home = pend_slot(m->pending[j].user);
		/* move j back to i unless its home lies cyclically in (i, j] */
		if ((i <= j) ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		m->pending[i] = m->pending[j];
		m->pending[j].used = 0;
		i = j;
	}
}

/* Append op to a pending user's chain of deferred ops. */
static void defer(struct hc_members *m, struct hc_pending *p, const struct hc_op *o)
{
	uint32_t node = m->free_node;
	m->free_node = m->node[node].next;
	m->node[node].op = *o;
	m->node[node].next = UINT32_MAX;
	m->node[node].last = node;
	m->n_deferred++;
	if (p->head == 0) {
		p->head = node + 1;
		return;
	}
	struct hc_deferred *h = &m->node[p->head - 1];
	m->node[h->last].next = node;
	h->last = node;
}

static inline void report(struct hc_members *m, const struct hc_op *o, uint32_t from,
			  uint32_t to, uint16_t kind)
{
	if (m->changes == NULL)
		return;
	if (unlikely(m->n_changes == m->changes_cap && m->changes_full != NULL))
		m->changes_full(m->changes_ctx); /* a long sweep: hand them over */
	m->changes[m->n_changes++] = (struct hc_change){.user_id = o->user_id,
		.from_room = from, .to_room = to, .pool_id = o->pool_id,
		.gateway_id = o->gateway_id, .kind = kind};
}

/* Remove the user at `at` (in room cur): one LEAVE's worth of work. */
static void remove_at(struct hc_members *m, int32_t at, uint64_t user, uint32_t cur)
{
	struct hc_op o = {.user_id = user, .gateway_id = m->slot[at].gw};
	place_at(m, at, user, cur, 0, 0);
	rte_hash_del_key(m->users, &user);
	room_add(m, cur, -1);
	HC_RELAXED_ADD(&m->n_users, (uint64_t)-1);
	report(m, &o, cur, 0, HC_CHG_APPLIED);
}

/* A snapshot member: the user is in o->room_id, owned by o->gateway_id.
 * Returns the change in user count. */
static int snap_set(struct hc_members *m, const struct hc_op *o, int32_t at, uint32_t cur)
{
	uint16_t gw = o->gateway_id;
	int added = 0;
	if (cur != 0 && m->slot[at].gw != gw) {
		HC_RELAXED_ADD(&m->st.snap_conflicts, 1); /* another gateway's now */
		return 0;
	}
	if (m->snap_gen_now[gw] != o->gen) {
		m->snap_gen_now[gw] = o->gen; /* a new snapshot of gw reaches us */
		m->snap_marked[gw] = 0;
	}
	if (at < 0) {
		at = rte_hash_add_key(m->users, &o->user_id);
		if (unlikely(at < 0)) {
			HC_RELAXED_ADD(&m->st.table_full, 1);
			return 0;
		}
		m->slot[at].moved = 0;
		m->slot[at].room = 0;
		added = 1;
	}
	if (cur != o->room_id) {
		if (cur != 0)
			room_add(m, cur, -1);
		place_at(m, at, o->user_id, cur, o->room_id, gw);
		room_add(m, o->room_id, 1);
		report(m, o, cur, o->room_id, HC_CHG_APPLIED);
	}
	if (m->slot[at].mark != o->gen) {
		m->slot[at].mark = o->gen;
		m->snap_marked[gw]++;
	}
	HC_RELAXED_ADD(&m->st.snap_set, 1);
	return added;
}

/* End of a snapshot of gateway gw at this owner: every user of gw not
 * marked gen goes.  Users waiting for a seat decision are checked after
 * it (a SNAP_DROP in their chain).  The slot table is scanned only when
 * some user of gw is unmarked. */
static void snap_sweep(struct hc_members *m, uint16_t gw, uint8_t gen)
{
	if (m->snap_gen_now[gw] != gen) {
		m->snap_gen_now[gw] = gen; /* none of its members are ours */
		m->snap_marked[gw] = 0;
	}
	HC_RELAXED_ADD(&m->st.sweeps, 1);
	if (m->n_pending > 0) {
		struct hc_op d = {.gateway_id = gw, .gen = gen, .op = HC_OP_SNAP_DROP};
		for (uint32_t i = 0; i < (1u << HC_PENDING_BITS); i++) {
			if (!m->pending[i].used)
				continue;
			d.user_id = m->pending[i].user;
			defer(m, &m->pending[i], &d);
		}
	}
	if (m->snap_marked[gw] >= m->gw_users[gw])
		return;
	HC_RELAXED_ADD(&m->st.sweep_scans, 1);
	uint64_t swept = 0;
	for (uint32_t at = 0; at < m->capacity; at++) {
		const struct hc_slot *sl = &m->slot[at];
		if (sl->room == 0 || sl->gw != gw || sl->mark == gen)
			continue;
		void *key;
		uint64_t user;
		if (rte_hash_get_key_with_position(m->users, (int32_t)at, &key) != 0)
			continue;
		memcpy(&user, key, sizeof(user));
		if (m->n_pending > 0 && pend_find(m, user) != NULL)
			continue; /* its SNAP_DROP decides after the answer */
		remove_at(m, (int32_t)at, user, sl->room);
		swept++;
	}
	HC_RELAXED_ADD(&m->st.snap_swept, swept);
	HC_RELAXED_ADD(&m->st.leaves, swept);
}

static void apply_batch(struct hc_members *m, const struct hc_op *ops, unsigned n)
{
	const void *keys[HC_MEMBERS_BATCH];
	int32_t pos[HC_MEMBERS_BATCH];
	struct touched t;
	int stale_all = 0; /* a sweep ran: every later lookup is fresh */

	for (unsigned i = 0; i < n; i++)
		keys[i] = &ops[i].user_id;
	rte_hash_lookup_bulk(m->users, keys, n, pos);
	for (unsigned i = 0; i < n; i++)
		if (pos[i] >= 0)
			rte_prefetch0(&m->slot[pos[i]]);
	memset(t.state, 0, sizeof(t.state));

	uint64_t joins = 0, moves = 0, leaves = 0, noops = 0, full = 0, asked = 0;
	uint64_t not_owner = 0, takeovers = 0;
	int64_t dusers = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct hc_op *o = &ops[i];
		if (unlikely(o->op == HC_OP_SNAP_SWEEP)) {
			snap_sweep(m, o->gateway_id, o->gen);
			stale_all = 1;
			continue;
		}
		/* an earlier op of this batch may have added or removed the user */
		int32_t at = unlikely(stale_all || touched_maybe(&t, o->user_id)) ?
			rte_hash_lookup(m->users, &o->user_id) : pos[i];
		uint32_t cur = at >= 0 ? m->slot[at].room : 0;

		if (m->n_pending > 0) {
			struct hc_pending *p = pend_find(m, o->user_id);
			if (unlikely(p != NULL)) {
				/* a decision is on its way: keep this user's order */
				defer(m, p, o);
				continue;
			}
		}
		if (o->op == HC_OP_JOIN) {
			if (cur == o->room_id) {
				if (unlikely(m->slot[at].gw != o->gateway_id)) {
					/* the user reconnected through another gateway */
					place_at(m, at, o->user_id, cur, cur, o->gateway_id);
					takeovers++;
				}
				noops++;
				continue;
			}
			if (m->admission) {
				/* a seat request: nothing changes until the answer */
				pend_insert(m, o->user_id, at);
				report(m, o, cur, o->room_id, HC_CHG_REQUEST);
				asked++;
				continue;
			}
			if (at < 0) {
				at = rte_hash_add_key(m->users, &o->user_id);
				if (unlikely(at < 0)) {
					full++;
					continue;
				}
				touched_mark(&t, o->user_id);
				m->slot[at].moved = 0;
				dusers++;
				joins++;
			} else {
				room_add(m, cur, -1); /* a move: the key stays put */
				if (m->slot[at].gw != o->gateway_id)
					takeovers++;
				moves++;
			}
			place_at(m, at, o->user_id, cur, o->room_id, o->gateway_id);
			room_add(m, o->room_id, 1);
			report(m, o, cur, o->room_id, HC_CHG_APPLIED);
		} else if (o->op == HC_OP_LEAVE) {
			if (cur != o->room_id) {
				noops++;
				continue;
			}
			if (unlikely(m->slot[at].gw != o->gateway_id)) {
				/* a late LEAVE of a gateway the user has left */
				not_owner++;
				noops++;
				continue;
			}
			place_at(m, at, o->user_id, cur, 0, 0);
			rte_hash_del_key(m->users, &o->user_id);
			touched_mark(&t, o->user_id);
			room_add(m, cur, -1);
			dusers--;
			leaves++;
			report(m, o, cur, 0, HC_CHG_APPLIED);
		} else if (o->op == HC_OP_SNAP_SET) {
			dusers += snap_set(m, o, at, cur);
			touched_mark(&t, o->user_id);
		} else { /* HC_OP_SNAP_DROP */
			if (at >= 0 && cur != 0 && m->slot[at].gw == o->gateway_id &&
			    m->slot[at].mark != o->gen) {
				remove_at(m, at, o->user_id, cur);
				touched_mark(&t, o->user_id);
				HC_RELAXED_ADD(&m->st.snap_swept, 1);
				leaves++;
			}
		}
	}
	HC_RELAXED_ADD(&m->n_users, (uint64_t)dusers);
	HC_RELAXED_ADD(&m->st.joins, joins);
	HC_RELAXED_ADD(&m->st.moves, moves);
	HC_RELAXED_ADD(&m->st.leaves, leaves);
	HC_RELAXED_ADD(&m->st.noops, noops);
	HC_RELAXED_ADD(&m->st.table_full, full);
	HC_RELAXED_ADD(&m->st.requests, asked);
	HC_RELAXED_ADD(&m->st.not_owner, not_owner);
	HC_RELAXED_ADD(&m->st.takeovers, takeovers);
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

void hc_members_prefetch(struct hc_members *m, const uint64_t *first_key, size_t stride,
			 unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t user = *(const uint64_t *)(const void *)((const uint8_t *)first_key + i * stride);
		const struct hc_pending *p = pend_find(m, user);
		if (p != NULL && p->pos1 != 0)
			rte_prefetch0(&m->slot[p->pos1 - 1]);
	}
}

void hc_members_decide(struct hc_members *m, uint64_t user_id, uint32_t room, int admitted,
		       uint16_t gw)
{
	struct hc_pending *p = pend_find(m, user_id);
	if (p == NULL) {
		HC_RELAXED_ADD(&m->st.stray_decisions, 1);
		return;
	}
	/* the user's key has not moved since the request: all its ops waited */
	int32_t at = (int32_t)p->pos1 - 1;
	uint32_t head = p->head;
	pend_remove(m, p);
	if (admitted) {
		uint32_t cur = 0;
		if (at >= 0) {
			cur = m->slot[at].room;
			room_add(m, cur, -1);
			HC_RELAXED_ADD(&m->st.moves, 1);
		} else {
			at = rte_hash_add_key(m->users, &user_id);
			if (unlikely(at < 0)) {
				HC_RELAXED_ADD(&m->st.table_full, 1);
				goto replay;
			}
			m->slot[at].moved = 0;
			HC_RELAXED_ADD(&m->n_users, 1);
			HC_RELAXED_ADD(&m->st.joins, 1);
		}
		place_at(m, at, user_id, cur, room, gw);
		room_add(m, room, 1);
	} else {
		HC_RELAXED_ADD(&m->st.refused, 1); /* the user stays where they were */
	}
replay:;
	/* the user's deferred ops, in order (they may ask again) */
	uint32_t k = 0;
	for (uint32_t n = head; n != 0;) {
		struct hc_deferred *x = &m->node[n - 1];
		m->replay[k++] = x->op;
		uint32_t next = x->next;
		x->next = m->free_node;
		m->free_node = n - 1;
		m->n_deferred--;
		n = next == UINT32_MAX ? 0 : next + 1;
	}
	if (k > 0)
		hc_members_apply(m, m->replay, k);
}

unsigned hc_members_pick(struct hc_members *m, uint32_t room, unsigned k, uint32_t now,
			 uint32_t cooldown, struct hc_pick *out)
{
	unsigned n = 0;
	uint8_t now8 = (uint8_t)now;
	if (cooldown > 255)
		cooldown = 255; /* the slot keeps seconds mod 256 */
	for (uint32_t p = m->room_head[room]; p != 0 && n < k; p = m->slot[p - 1].next) {
		int32_t at = (int32_t)p - 1;
		if (m->slot[at].moved != 0 && (uint8_t)(now8 - m->slot[at].moved) < cooldown)
			continue; /* moved a moment ago: leave them be */
		void *key;
		if (rte_hash_get_key_with_position(m->users, at, &key) != 0)
			continue;
		memcpy(&out[n].user_id, key, sizeof(uint64_t));
		out[n].gateway_id = m->slot[at].gw;
		m->slot[at].moved = now8 != 0 ? now8 : 1;
		n++;
	}
	return n;
}

uint16_t hc_members_owner_of(const struct hc_members *m, uint64_t user_id)
{
	int32_t at = rte_hash_lookup(m->users, &user_id);
	return at >= 0 && m->slot[at].room != 0 ? m->slot[at].gw : 0;
}

uint32_t hc_members_room_of(const struct hc_members *m, uint64_t user_id)
{
	int32_t at = rte_hash_lookup(m->users, &user_id);
	return at >= 0 ? m->slot[at].room : 0;
}

uint64_t hc_members_walk(const struct hc_members *m,
			 void (*fn)(uint64_t user, uint32_t room, void *arg),
			 void *arg)
{
	const void *key;
	void *data;
	uint32_t next = 0;
	uint64_t n = 0;

	int32_t at;
	while ((at = rte_hash_iterate(m->users, &key, &data, &next)) >= 0) {
		uint64_t user;
		memcpy(&user, key, sizeof(user));
		fn(user, m->slot[at].room, arg);
		n++;
	}
	return n;
}
