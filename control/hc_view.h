/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_view.h - the global room view: room id -> users, published with RCU.
 *
 * Owned by the control lcore, the only writer: every merge interval it sums
 * the workers' per-room counters (each written by one worker) into a
 * fresh view, a slice of rooms per control-loop pass (hc_control.c), and
 * publishes it with rcu_xchg_pointer; the previous view is retired by
 * call_rcu once every reader has passed a quiescent state (its memory
 * kept for the next merge, or freed).  Workers never stop or lock for it.  Readers (telemetry, the control core; never
 * the workers, which are not liburcu readers) take rcu_read_lock(), read
 * hc_view_get(), and must not keep the pointer past rcu_read_unlock().
 *
 * While events flow a view is a near-instant sum (a user moving between
 * rooms may be seen in both or neither for one merge); once traffic stops
 * the first merge begun after it is exact (one under way then may have
 * summed some rooms before).
 */
#ifndef HC_VIEW_H
#define HC_VIEW_H

#include <stdint.h>

#include <urcu-qsbr.h>

struct hc_dataplane;

struct hc_room_view {
	uint64_t generation;   /* 1, 2, ... per publish                 */
	uint64_t merged_tsc;   /* when the sum was taken                */
	uint64_t users;        /* sum over rooms                        */
	uint32_t rooms;        /* rooms with at least one user          */
	uint32_t max_rooms;    /* room_users has max_rooms entries      */
	uint32_t largest_room; /* users in the fullest room             */
	uint32_t pad;
	struct rcu_head rcu;
	uint32_t room_users[]; /* [max_rooms]; [0] is always 0          */
};

/*
 * A view to fill, for max_rooms room ids, its sums at zero and room 0 at
 * 0: a retired view's memory when one is spare (hc_view_publish retires
 * views), else new.  NULL if out of memory.
 */
struct hc_room_view *hc_view_alloc(uint32_t max_rooms, uint64_t generation);

/*
 * Sum n per-worker counter arrays into v's rooms [from, to) (room 0 is
 * never summed), adding to its users, rooms and largest room (relaxed
 * loads; concurrent single writers allowed).  Slices that cover 1 ..
 * max_rooms - 1 once make a whole view.  Slow path.
 */
void hc_view_sum_range(struct hc_room_view *v, const uint32_t *const counters[], unsigned n,
		       uint32_t from, uint32_t to);

/* hc_view_alloc and one hc_view_sum_range over every room. */
struct hc_room_view *hc_view_sum(const uint32_t *const counters[], unsigned n,
				 uint32_t max_rooms, uint64_t generation);

/* The dataplane's workers' counter arrays into counters[] (at least
 * HC_MAX_WORKERS entries); returns how many. */
unsigned hc_view_counters(const struct hc_dataplane *dp, const uint32_t *counters[]);

/* hc_view_sum over the dataplane's workers. */
struct hc_room_view *hc_view_merge(const struct hc_dataplane *dp, uint64_t generation);

/* Free the spare view, if any (at the end: after the last publish and
 * rcu_barrier). */
void hc_view_release_spare(void);

/*
 * Publish v (may be NULL) as the current view; the old one is freed after
 * a grace period.  Caller: the control lcore (single writer), registered
 * with RCU and online.
 */
void hc_view_publish(struct hc_room_view *v);

/* The current view; call with rcu_read_lock held. May be NULL. */
struct hc_room_view *hc_view_get(void);

/* Test hook: called on a view just before it is freed (may be NULL). */
extern void (*hc_view_free_hook)(struct hc_room_view *v);

#endif /* HC_VIEW_H */
