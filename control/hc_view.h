/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_view.h - the global room view: room id -> users, published with RCU.
 *
 * Owned by the control lcore, the only writer: every merge interval it sums
 * the workers' per-room counters (each written by one worker) into a fresh
 * view and publishes it with rcu_xchg_pointer; the previous view is freed
 * by call_rcu once every reader has passed a quiescent state.  Workers
 * never stop or lock for it.  Readers (telemetry, the control core; never
 * the workers, which are not liburcu readers) take rcu_read_lock(), read
 * hc_view_get(), and must not keep the pointer past rcu_read_unlock().
 *
 * While events flow a view is a near-instant sum (a user moving between
 * rooms may be seen in both or neither for one merge); once traffic stops
 * the next merge is exact.
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
 * Sum n per-worker counter arrays of max_rooms entries into a new view
 * (relaxed loads; concurrent single writers allowed).  Returns NULL if out
 * of memory.  Slow path.
 */
struct hc_room_view *hc_view_sum(const uint32_t *const counters[], unsigned n,
				 uint32_t max_rooms, uint64_t generation);

/* hc_view_sum over the dataplane's workers. */
struct hc_room_view *hc_view_merge(const struct hc_dataplane *dp, uint64_t generation);

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
