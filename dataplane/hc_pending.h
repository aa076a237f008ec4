/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_pending.h - admission on a worker: the users whose seat request is in
 * flight, and the ops that wait behind it.
 *
 * With admission on, a JOIN that changes a user's room asks the control
 * core for a seat, and nothing changes until the answer
 * (hc_members_decide); the user's later ops must keep their order, so
 * they wait in a chain of nodes named by the user's pending entry.  This
 * file pair owns that table (struct hc_pending_table, one in each
 * worker's membership) and nothing else: the answer's effect on the
 * membership is hc_admission.c's.
 *
 * Pending users: a small hash table, user -> the user's key position
 * when they asked, and the head of their deferred ops.  It holds only
 * users whose seat request is in flight (a few hundred; at most
 * HC_PENDING_MAX, 12,288), and its entries are packed: an entry comes
 * from a free list, the last one freed first, so the entries in use stay
 * a few KiB at the start of their array, in cache, wherever their users
 * hash; a bucket (2 bytes) names the first entry of its chain.  (Entries placed by hash, as
 * before, spread a few hundred users over 384 KiB: each ask, probe and
 * answer waited for a line from memory; without leases, where every JOIN
 * asks, packed entries gave 1.16x the events: docs/benchmarks.md,
 * "Pending entries packed".)  Entries never move while in use: a pointer
 * to one stays good until it is removed.  A filter of counts per cell
 * answers the common "surely not pending" with one read.  Only ops of
 * users not in the user table, and of users whose slot is flagged, come
 * here: an op of a user in it reads the flag in its slot
 * (hc_slot.waiting; hc_members.c, hold_if_waiting).
 * Both hashes are keyed by a seed chosen at random at start: gateways
 * choose user ids, and ids crafted to share one home would otherwise make
 * every probe walk one chain of them all (thousands of entries an op).
 */
#ifndef HC_PENDING_H
#define HC_PENDING_H

#include <stddef.h>
#include <stdint.h>

#include <rte_branch_prediction.h>

#include "hc_ctlmsg.h" /* HC_CHAN_MAX_PENDING */
#include "hc_op.h"
#include "hc_proto.h" /* HC_OP_JOIN */

/* Buckets of the table (2^bits), and entries as many; requests in flight
 * stay at most HC_PENDING_MAX, 3/4 of them, so chains stay short and the
 * free list never runs out. */
#define HC_PENDING_BITS 14
/* Users that may wait for decisions at once (3/4 of the entries); callers
 * keep n_pending + ops they apply below it. */
#define HC_PENDING_MAX (3u << (HC_PENDING_BITS - 2))
_Static_assert(HC_PENDING_MAX == HC_CHAN_MAX_PENDING, "the control core sizes its backlog so");
/* Ops that may wait behind pending users at once. */
#define HC_PENDING_DEFERRED 65536
/* Ops that may ask for a seat (hc_pending_may_ask) waiting in one user's
 * chain at once.  A chain is replayed one control-core round trip per op
 * that asks (hc_admission.c), so one gateway's JOINs of one user, each
 * into another room, made that user's chain a queue drained at one op a
 * round trip; thousands of them filled the worker's deferred ops until
 * it waited for decisions and read nothing else, every gateway's events
 * held behind one user's (one op let in a round trip).  With the cap
 * every chain drains within HC_PENDING_CHAIN_ASKS round trips, and a
 * worker holding the most deferred ops it may (53,248) holds at least 52
 * chains, each of which moves on at every round trip; an op over
 * the cap is refused (hc_members.c, refuse_chained).  Honest chains are
 * long only for a user with many events a worker loop (a round trip is
 * at least a loop, up to 128 datagrams): hc-bench's 1,000 users at full
 * rate (bench-peers-smoke) reach about 150 (a cap of 128 refused some of
 * their JOINs, 160 none, 2026-12-07); a restart hold holds requests up
 * to the gateway timeout. */
#define HC_PENDING_CHAIN_ASKS 1024

/* A user whose seat request is in flight (used), or a free entry. 32 bytes. */
struct hc_pending {
	uint64_t user;
	uint64_t session;  /* the asking JOIN's (or member's) session    */
	uint32_t pos1;     /* the user's key position + 1, 0: absent */
	uint32_t head : 31;/* first deferred node + 1, 0: none  */
	uint32_t used : 1;
	uint32_t next;     /* the next entry of its chain + 1 (a free entry:
	                      of the free list), 0: none */
	uint32_t asks;     /* ops in its chain that may ask for a seat
	                      (hc_pending_may_ask), at most
	                      HC_PENDING_CHAIN_ASKS */
};
_Static_assert(sizeof(struct hc_pending) == 32, "hc_pending is 32 bytes");
_Static_assert((1u << HC_PENDING_BITS) <= UINT16_MAX, "a bucket names an entry + 1 in 16 bits");
_Static_assert(HC_PENDING_MAX < (1u << HC_PENDING_BITS), "an entry is free for every request");

/* One deferred op in a pending user's chain. */
struct hc_deferred {
	struct hc_op op;
	uint32_t next;  /* next node, UINT32_MAX: end */
	uint32_t last;  /* valid in a chain's first node */
};

/* Cells of the pending filter (8 KiB of counts: stays in L1/L2). */
#define HC_PENDING_FILTER 4096u

struct hc_pending_table {
	/* single writer (the owner worker), relaxed stores: the control
	 * core's stop check reads n_deferred (hc_dp_drained) */
	uint32_t n_pending;       /* users waiting for a decision    */
	uint32_t n_deferred;      /* ops waiting in chains           */
	uint32_t *gw_deferred;    /* [65536] of them, by the op's gateway
	                             (any gateway's: read for its heartbeat's
	                             SETTLING, hc_dp_gateway_settling)  */
	uint64_t seed;            /* keys both hashes                */
	uint16_t *bucket;         /* [1 << HC_PENDING_BITS]: its chain's
	                             first entry + 1, 0: none        */
	struct hc_pending *entry; /* [1 << HC_PENDING_BITS]          */
	uint32_t free_entry;      /* the free list's first + 1, 0: none */
	uint16_t *filter;         /* [HC_PENDING_FILTER] counts      */
	uint32_t free_node;       /* free list of node[]             */
	uint64_t overflows;       /* deferrals refused: no node (a bug) */
	uint64_t deferrals;       /* ops deferred (a user's chain grows:
	                             once an op, whatever its answers) */
	struct hc_deferred *node; /* [HC_PENDING_DEFERRED]           */
	struct hc_op *replay;     /* [HC_PENDING_DEFERRED] scratch   */
};

/* Allocate the table and the nodes on socket, its hashes keyed by seed
 * (hc_members passes rte_rand()).  Returns 0 or -ENOMEM (what was
 * allocated is freed by hc_pending_free). */
int hc_pending_init(struct hc_pending_table *t, uint64_t seed, int socket);
void hc_pending_free(struct hc_pending_table *t);

/* May o ask for a seat when it is applied?  A JOIN or a snapshot member;
 * a LEAVE, a snapshot's DROP or SWEEP never does. */
static inline int hc_pending_may_ask(const struct hc_op *o)
{
	return o->op == HC_OP_JOIN || o->op == HC_OP_SNAP_SET;
}

/* Append o to pending user p's chain of deferred ops.  Returns 0, o not
 * taken, if o may ask and p's chain holds HC_PENDING_CHAIN_ASKS such ops
 * already; else 1. */
int hc_pending_defer(struct hc_pending_table *t, struct hc_pending *p, const struct hc_op *o);

/* Append o, carrying each one's user id, to every pending user's chain. */
void hc_pending_defer_all(struct hc_pending_table *t, struct hc_op o);

/* Gateway gw's 8-bit snapshot generations wrapped: its snapshot ops
 * waiting in chains are of an earlier round, whatever their number says
 * (one that waited 255 snapshots would read as current): they take
 * generation 0, never current, so a SET is an older one's and a DROP does
 * nothing.  Walks every chain: once per 255 snapshots of a gateway. */
void hc_pending_age_snapshot_ops(struct hc_pending_table *t, uint16_t gw);

/* The longest probe now, in entries before a user's in its chain (a
 * scan of the table, for tests: how crowded it is). */
uint32_t hc_pending_max_probe(const struct hc_pending_table *t);


static inline uint32_t hc_pending_home(const struct hc_pending_table *t, uint64_t user)
{
	/* not hc_owner_of's multiplier: its top bits choose this worker, so
	 * they are the same for every user here (a fmix64 finaliser of
	 * user ^ seed) */
	user ^= t->seed;
	uint64_t h = user ^ (user >> 33);
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)(h & ((1u << HC_PENDING_BITS) - 1));
}

/* A count of pending users per filter cell, each user counted in two
 * cells: either at zero means "surely not pending" without touching the
 * table (the common answer).  With one cell, about 100 users in flight
 * (hc-bench, 1 M users, batch64) sent 3.0 % of ops on to probe the
 * table, a line that is rarely in cache; with two, 0.73 % (the users
 * truly pending among them).  The cells have a hash of their own, one
 * multiply (the check runs on every op of a user not in the user table
 * while any request is in flight; the table's home is hashed only when
 * both cells say "maybe"): 12 bits at the top of user ^ seed times an odd
 * constant and the 12 below them; not hc_owner_of's multiplier, whose top
 * bits are the same for every user of a worker. */
_Static_assert(HC_PENDING_FILTER == 1u << 12, "hc_pending_cells takes 12 bits twice");
struct hc_pending_cells {
	uint32_t a, b;
};

static inline struct hc_pending_cells hc_pending_cells(const struct hc_pending_table *t,
						       uint64_t user)
{
	uint64_t h = (user ^ t->seed) * 0xD1B54A32D192ED03ull;
	return (struct hc_pending_cells){(uint32_t)(h >> 52), (uint32_t)(h >> 40) & 0xFFFu};
}

/* The user's entry, or NULL: on every op of a user not in the user table
 * while any request is in flight, and of a user whose slot is flagged. */
static inline struct hc_pending *hc_pending_find(struct hc_pending_table *t, uint64_t user)
{
	struct hc_pending_cells c = hc_pending_cells(t, user);
	if (t->filter[c.a] == 0 || t->filter[c.b] == 0)
		return NULL;
	for (uint32_t e = t->bucket[hc_pending_home(t, user)]; e != 0; e = t->entry[e - 1].next)
		if (t->entry[e - 1].user == user)
			return &t->entry[e - 1];
	return NULL;
}

/* The user (key position at; negative, a lookup's -ENOENT: none yet,
 * pos1 0) asks for a seat, for an op of `session`: on every JOIN that
 * changes a room under admission.  Callers keep n_pending at most
 * HC_PENDING_MAX, fewer than the entries, so one is always free
 * (hc_ops.c, members_have_room). */
static inline struct hc_pending *hc_pending_add(struct hc_pending_table *t, uint64_t user,
						uint64_t session, int32_t at)
{
	uint32_t e = t->free_entry;
	struct hc_pending *p = &t->entry[e - 1];
	uint16_t *b = &t->bucket[hc_pending_home(t, user)];
	t->free_entry = p->next;
	*p = (struct hc_pending){.user = user, .session = session,
				 .pos1 = at >= 0 ? (uint32_t)at + 1 : 0, .head = 0, .used = 1,
				 .next = *b};
	*b = (uint16_t)e;
	__atomic_store_n(&t->n_pending, t->n_pending + 1, __ATOMIC_RELAXED);
	struct hc_pending_cells c = hc_pending_cells(t, user);
	t->filter[c.a]++;
	t->filter[c.b]++;
	return p;
}

/* The answer came: p leaves the table (its chain goes on without it, and
 * it is the next entry handed out).  Its chain of deferred ops' head is
 * returned.  (Inline: once per seat request, on the admission path.) */
static inline uint32_t hc_pending_remove(struct hc_pending_table *t, struct hc_pending *p)
{
	uint32_t head = p->head, e = (uint32_t)(p - t->entry) + 1;
	struct hc_pending_cells c = hc_pending_cells(t, p->user);
	t->filter[c.a]--;
	t->filter[c.b]--;
	uint16_t *b = &t->bucket[hc_pending_home(t, p->user)];
	if (*b == e) {
		*b = (uint16_t)p->next;
	} else { /* (p is in its chain: found before its end) */
		uint32_t q = *b;
		while (t->entry[q - 1].next != e)
			q = t->entry[q - 1].next;
		t->entry[q - 1].next = p->next;
	}
	*p = (struct hc_pending){.next = t->free_entry};
	t->free_entry = e;
	__atomic_store_n(&t->n_pending, t->n_pending - 1, __ATOMIC_RELAXED);
	return head;
}

/* Move the first op of the chain starting at head (a node + 1, not 0) to
 * t->replay[0] and free its node.  Returns the rest's head (0: none). */
static inline uint32_t hc_pending_take_first(struct hc_pending_table *t, uint32_t head)
{
	struct hc_deferred *x = &t->node[head - 1];
	t->replay[0] = x->op;
	uint32_t *g = &t->gw_deferred[x->op.gateway_id];
	__atomic_store_n(g, *g - 1, __ATOMIC_RELAXED);
	__atomic_store_n(&t->n_deferred, t->n_deferred - 1, __ATOMIC_RELAXED);
	uint32_t next = x->next, last = x->last;
	x->next = t->free_node;
	t->free_node = head - 1;
	if (next == UINT32_MAX)
		return 0;
	t->node[next].last = last; /* (valid in a chain's first node) */
	return next + 1;
}

/* The rest of a chain (head, from hc_pending_take_first; asks of its ops
 * may ask) waits behind pending user p: after what p's chain holds (the op
 * that asked may wait behind its own request), ahead of any op deferred
 * later. */
static inline void hc_pending_attach(struct hc_pending_table *t, struct hc_pending *p,
				     uint32_t head, uint32_t asks)
{
	p->asks += asks;
	if (p->head == 0) {
		p->head = head;
		return;
	}
	struct hc_deferred *first = &t->node[p->head - 1];
	t->node[first->last].next = head - 1;
	first->last = t->node[head - 1].last;
}


#endif /* HC_PENDING_H */
