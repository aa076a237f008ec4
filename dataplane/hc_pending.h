/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_pending.h - admission on a worker: the users whose seat request is in
 * flight, and the ops that wait behind it.
 *
 * With admission on, a JOIN that changes a user's room asks the control
 * core for a seat, and nothing changes until the answer
 * (hc_members_decide); the user's later ops must keep their order, so
 * they wait in a chain of nodes named by the user's pending entry.  This
 * file pair owns the admission fields of struct hc_members (n_pending,
 * pending, pending_filter, n_deferred, free_node, node, replay).  Private
 * to the membership: only hc_members.c and hc_pending.c include it.
 *
 * Pending users: a small open-addressing table, user -> the user's key
 * position when they asked, and the head of their deferred ops.  It holds
 * only users whose seat request is in flight (a few thousand), so it stays
 * in cache and the big rte_hash is not touched until the answer: asking
 * costs one probe here, the answer one rte_hash write, as an unchecked
 * JOIN would.  Linear probing, backward-shift deletion.  A filter of
 * counts per cell answers the common "surely not pending" with one read.
 */
#ifndef HC_PENDING_H
#define HC_PENDING_H

#include <stdint.h>

#include <rte_branch_prediction.h>

#include "hc_members.h"

/* A user whose seat request is in flight. 16 bytes. */
struct hc_pending {
	uint64_t user;
	uint32_t pos1;     /* the user's key position + 1, 0: absent */
	uint32_t head : 31;/* first deferred node + 1, 0: none  */
	uint32_t used : 1;
};
_Static_assert(sizeof(struct hc_pending) == 16, "hc_pending is 16 bytes");

/* One deferred op in a pending user's chain. */
struct hc_deferred {
	struct hc_op op;
	uint32_t next;  /* next node, UINT32_MAX: end */
	uint32_t last;  /* valid in a chain's first node */
};

/* Cells of the pending filter (8 KiB of counts: stays in L1/L2). */
#define HC_PENDING_FILTER 4096u

/* Allocate the table and the nodes on socket.  Returns 0 or -ENOMEM (what
 * was allocated is freed by hc_pending_free). */
int hc_pending_init(struct hc_members *m, int socket);
void hc_pending_free(struct hc_members *m);

/* Append o to pending user p's chain of deferred ops. */
void hc_pending_defer(struct hc_members *m, struct hc_pending *p, const struct hc_op *o);

/* Append o, carrying each one's user id, to every pending user's chain. */
void hc_pending_defer_all(struct hc_members *m, struct hc_op o);

static inline uint32_t hc_pending_home(uint64_t user)
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
static inline uint32_t hc_pending_cell(uint32_t slot)
{
	return slot & (HC_PENDING_FILTER - 1);
}

/* The user's entry, or NULL: on every op while any request is in flight. */
static inline struct hc_pending *hc_pending_find(struct hc_members *m, uint64_t user)
{
	uint32_t mask = (1u << HC_PENDING_BITS) - 1;
	uint32_t home = hc_pending_home(user);
	if (m->pending_filter[hc_pending_cell(home)] == 0)
		return NULL;
	for (uint32_t i = home;; i = (i + 1) & mask) {
		struct hc_pending *p = &m->pending[i];
		if (!p->used)
			return NULL;
		if (p->user == user)
			return p;
	}
}

/* The user (key position at, -1: none yet) asks for a seat: on every
 * JOIN that changes a room under admission. */
static inline struct hc_pending *hc_pending_add(struct hc_members *m, uint64_t user, int32_t at)
{
	uint32_t mask = (1u << HC_PENDING_BITS) - 1;
	uint32_t i = hc_pending_home(user);
	while (m->pending[i].used)
		i = (i + 1) & mask;
	m->pending[i] = (struct hc_pending){.user = user, .pos1 = (uint32_t)(at + 1),
					    .head = 0, .used = 1};
	m->n_pending++;
	m->pending_filter[hc_pending_cell(hc_pending_home(user))]++;
	return &m->pending[i];
}

/* If the user's seat request is in flight, o waits behind it: returns 1. */
static inline int hc_pending_hold(struct hc_members *m, const struct hc_op *o)
{
	if (m->n_pending == 0)
		return 0;
	struct hc_pending *p = hc_pending_find(m, o->user_id);
	if (likely(p == NULL))
		return 0;
	hc_pending_defer(m, p, o); /* a decision is on its way: keep this user's order */
	return 1;
}

#endif /* HC_PENDING_H */
