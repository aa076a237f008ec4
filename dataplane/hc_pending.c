/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_pending.c - a worker's seat requests in flight (see hc_pending.h):
 * the table's memory, removal, the chains of deferred ops, and the control
 * core's answer (hc_members_decide), which seats the user or not and then
 * replays what waited.
 */
#include "hc_pending.h"

#include <errno.h>

#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "hc_members_pvt.h"

int hc_pending_init(struct hc_members *m, int socket)
{
	m->node = rte_malloc_socket("hc_deferred", sizeof(struct hc_deferred) * HC_MEMBERS_DEFERRED,
				    64, socket);
	m->pending = rte_zmalloc_socket("hc_pending",
					sizeof(struct hc_pending) << HC_PENDING_BITS, 64, socket);
	m->pending_filter = rte_zmalloc_socket("hc_pending_filter", HC_PENDING_FILTER * sizeof(uint16_t),
					       64, socket);
	m->replay = rte_malloc_socket("hc_replay", sizeof(struct hc_op) * HC_MEMBERS_DEFERRED,
				      64, socket);
	if (m->node == NULL || m->replay == NULL || m->pending == NULL || m->pending_filter == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < HC_MEMBERS_DEFERRED; i++)
		m->node[i].next = i + 1 < HC_MEMBERS_DEFERRED ? i + 1 : UINT32_MAX;
	m->free_node = 0;
	return 0;
}

void hc_pending_free(struct hc_members *m)
{
	rte_free(m->node);
	rte_free(m->pending);
	rte_free(m->pending_filter);
	rte_free(m->replay);
	m->node = NULL;
	m->pending = NULL;
	m->pending_filter = NULL;
	m->replay = NULL;
}

/* The answer came: p leaves the table, and entries after it move back so
 * that every probe still finds its user. */
static void pend_remove(struct hc_members *m, struct hc_pending *p)
{
	uint32_t mask = (1u << HC_PENDING_BITS) - 1;
	uint32_t i = (uint32_t)(p - m->pending), j = i;
	m->pending_filter[hc_pending_cell(hc_pending_home(p->user))]--;
	m->pending[i].used = 0;
	m->n_pending--;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->pending[j].used)
			return;
		uint32_t home = hc_pending_home(m->pending[j].user);
		/* move j back to i unless its home lies cyclically in (i, j] */
		if ((i <= j) ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		m->pending[i] = m->pending[j];
		m->pending[j].used = 0;
		i = j;
	}
}

void hc_pending_defer(struct hc_members *m, struct hc_pending *p, const struct hc_op *o)
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

void hc_pending_defer_all(struct hc_members *m, struct hc_op o)
{
	for (uint32_t i = 0; i < (1u << HC_PENDING_BITS); i++) {
		if (!m->pending[i].used)
			continue;
		o.user_id = m->pending[i].user;
		hc_pending_defer(m, &m->pending[i], &o);
	}
}

/* Move a chain's ops to m->replay, in order, and free its nodes (the
 * replay may defer again).  Returns how many. */
static uint32_t take_chain(struct hc_members *m, uint32_t head)
{
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
	return k;
}

/* An admitted request: the JOIN it stood for, for the user at key
 * position at (-1: a new user), into room, owned by gw. */
static void seat(struct hc_members *m, int32_t at, uint64_t user_id, uint32_t room,
		 uint16_t gw)
{
	uint32_t cur = 0;
	if (at >= 0) {
		cur = m->slot[at].room;
		hc_members_room_add(m, cur, -1);
		HC_RELAXED_ADD(&m->st.moves, 1);
	} else {
		at = rte_hash_add_key(m->users, &user_id);
		if (unlikely(at < 0)) {
			HC_RELAXED_ADD(&m->st.table_full, 1);
			return;
		}
		m->slot[at].moved = 0;
		HC_RELAXED_ADD(&m->n_users, 1);
		HC_RELAXED_ADD(&m->st.joins, 1);
	}
	hc_members_place(m, at, user_id, cur, room, gw);
	hc_members_room_add(m, room, 1);
}

void hc_members_prefetch(struct hc_members *m, const uint64_t *first_key, size_t stride,
			 unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t user = *(const uint64_t *)(const void *)((const uint8_t *)first_key + i * stride);
		const struct hc_pending *p = hc_pending_find(m, user);
		if (p != NULL && p->pos1 != 0)
			rte_prefetch0(&m->slot[p->pos1 - 1]);
	}
}

void hc_members_decide(struct hc_members *m, uint64_t user_id, uint32_t room, int admitted,
		       uint16_t gw)
{
	struct hc_pending *p = hc_pending_find(m, user_id);
	if (p == NULL) {
		HC_RELAXED_ADD(&m->st.stray_decisions, 1);
		return;
	}
	/* the user's key has not moved since the request: all its ops waited */
	int32_t at = (int32_t)p->pos1 - 1;
	uint32_t head = p->head;
	pend_remove(m, p);
	if (admitted)
		seat(m, at, user_id, room, gw);
	else
		HC_RELAXED_ADD(&m->st.refused, 1); /* the user stays where they were */
	/* the user's deferred ops, in order (they may ask again) */
	uint32_t k = take_chain(m, head);
	if (k > 0)
		hc_members_apply(m, m->replay, k);
}
