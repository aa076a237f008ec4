/*
 * hc_members.c - one worker's user -> room table and room counters.
 *
 * HOW IT WORKS
 * A batch of up to 64 ops is looked up with one rte_hash_lookup_bulk_data
 * call, which hashes all keys and prefetches their buckets, hiding most
 * cache misses of a table far larger than the cache.  The ops are then
 * applied one by one in order.  A user can appear twice in one batch; after
 * the first op changes that user, the bulk result is stale.  A small
 * per-batch filter (256 slots keyed by a hash of the user id) remembers
 * which users were changed; an op whose user may have been changed (same
 * key in its slot, or a slot two keys collided on) looks the user up again
 * with a single lookup, which finds the line already in cache.
 */
#include "hc_members.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

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
	if (m->room_users == NULL) {
		rte_hash_free(m->users);
		m->users = NULL;
		return -ENOMEM;
	}
	m->max_rooms = max_rooms;
	m->capacity = capacity;
	return 0;
}

void hc_members_free(struct hc_members *m)
{
	rte_hash_free(m->users);
	rte_free(m->room_users);
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

static void apply_batch(struct hc_members *m, const struct hc_op *ops, unsigned n)
{
	const void *keys[HC_MEMBERS_BATCH];
	void *data[HC_MEMBERS_BATCH];
	uint64_t hits = 0;
	struct touched t;

	for (unsigned i = 0; i < n; i++)
		keys[i] = &ops[i].user_id;
	rte_hash_lookup_bulk_data(m->users, keys, n, &hits, data);
	memset(t.state, 0, sizeof(t.state));

	uint64_t joins = 0, moves = 0, leaves = 0, noops = 0, full = 0;
	int64_t dusers = 0;
	struct hc_change *chg = m->changes != NULL ? m->changes + m->n_changes : NULL;
	uint32_t n_chg = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct hc_op *o = &ops[i];
		uint32_t cur;

		if (unlikely(touched_maybe(&t, o->user_id))) {
			void *d;
			cur = rte_hash_lookup_data(m->users, &o->user_id, &d) >= 0 ?
				(uint32_t)(uintptr_t)d : 0;
		} else {
			cur = (hits >> i) & 1 ? (uint32_t)(uintptr_t)data[i] : 0;
		}

		if (o->op == HC_OP_JOIN) {
			if (cur == o->room_id) {
				noops++;
				continue;
			}
			int rc = rte_hash_add_key_data(m->users, &o->user_id,
						       (void *)(uintptr_t)o->room_id);
			if (unlikely(rc < 0)) {
				full++;
				continue;
			}
			if (cur != 0) {
				room_add(m, cur, -1);
				moves++;
			} else {
				dusers++;
				joins++;
			}
			room_add(m, o->room_id, 1);
			if (chg != NULL)
				chg[n_chg++] = (struct hc_change){.user_id = o->user_id,
					.from_room = cur, .to_room = o->room_id,
					.pool_id = o->pool_id, .gateway_id = o->gateway_id};
		} else {
			if (cur != o->room_id) {
				noops++;
				continue;
			}
			rte_hash_del_key(m->users, &o->user_id);
			room_add(m, cur, -1);
			dusers--;
			leaves++;
			if (chg != NULL)
				chg[n_chg++] = (struct hc_change){.user_id = o->user_id,
					.from_room = cur, .to_room = 0,
					.pool_id = o->pool_id, .gateway_id = o->gateway_id};
		}
		touched_mark(&t, o->user_id);
	}
	m->n_changes += n_chg;
	HC_RELAXED_ADD(&m->n_users, (uint64_t)dusers);
	HC_RELAXED_ADD(&m->st.joins, joins);
	HC_RELAXED_ADD(&m->st.moves, moves);
	HC_RELAXED_ADD(&m->st.leaves, leaves);
	HC_RELAXED_ADD(&m->st.noops, noops);
	HC_RELAXED_ADD(&m->st.table_full, full);
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

uint32_t hc_members_room_of(const struct hc_members *m, uint64_t user_id)
{
	void *d;
	return rte_hash_lookup_data(m->users, &user_id, &d) >= 0 ?
		(uint32_t)(uintptr_t)d : 0;
}

uint64_t hc_members_walk(const struct hc_members *m,
			 void (*fn)(uint64_t user, uint32_t room, void *arg),
			 void *arg)
{
	const void *key;
	void *data;
	uint32_t next = 0;
	uint64_t n = 0;

	while (rte_hash_iterate(m->users, &key, &data, &next) >= 0) {
		uint64_t user;
		memcpy(&user, key, sizeof(user));
		fn(user, (uint32_t)(uintptr_t)data, arg);
		n++;
	}
	return n;
}
