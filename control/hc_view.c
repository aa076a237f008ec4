/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_view.c - merge of per-worker room counters into the RCU room view,
 * whole or a slice of rooms at a time, into a view a retired one's memory
 * serves again.  Runs on the control lcore; see hc_view.h for the
 * concurrency contract.
 */
#include "hc_view.h"

#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "hc_dataplane.h"

static struct hc_room_view *hc_view_current;
void (*hc_view_free_hook)(struct hc_room_view *v);
/* A retired view kept for the next merge (its pages faulted in already):
 * one slot, set by free_view (liburcu's call_rcu thread), taken by
 * hc_view_alloc (the control lcore) with an atomic exchange.  A fresh
 * 64 MiB view at --max-rooms 16777216 cost its merge the first touch of
 * every page, every merge. */
static struct hc_room_view *spare_view;

struct hc_room_view *hc_view_alloc(uint32_t max_rooms, uint64_t generation)
{
	struct hc_room_view *v = __atomic_exchange_n(&spare_view, NULL, __ATOMIC_ACQUIRE);
	if (v != NULL && v->max_rooms != max_rooms) {
		free(v);
		v = NULL;
	}
	if (v == NULL)
		v = malloc(sizeof(*v) + (size_t)max_rooms * sizeof(uint32_t));
	if (v == NULL)
		return NULL;
	memset(v, 0, sizeof(*v));
	v->generation = generation;
	v->merged_tsc = rte_rdtsc();
	v->max_rooms = max_rooms;
	v->room_users[0] = 0;
	return v;
}

void hc_view_sum_range(struct hc_room_view *v, const uint32_t *const counters[], unsigned n,
		       uint32_t from, uint32_t to)
{
	if (from == 0)
		from = 1;
	if (to > v->max_rooms)
		to = v->max_rooms;
	uint64_t users = 0;
	uint32_t rooms = 0, largest = v->largest_room;
	for (uint32_t r = from; r < to; r++) {
		uint32_t s = 0;
		for (unsigned i = 0; i < n; i++)
			s += __atomic_load_n(&counters[i][r], __ATOMIC_RELAXED);
		v->room_users[r] = s;
		users += s;
		rooms += s != 0;
		if (s > largest)
			largest = s;
	}
	v->users += users;
	v->rooms += rooms;
	v->largest_room = largest;
}

struct hc_room_view *hc_view_sum(const uint32_t *const counters[], unsigned n,
				 uint32_t max_rooms, uint64_t generation)
{
	struct hc_room_view *v = hc_view_alloc(max_rooms, generation);
	if (v != NULL)
		hc_view_sum_range(v, counters, n, 1, max_rooms);
	return v;
}

unsigned hc_view_counters(const struct hc_dataplane *dp, const uint32_t *counters[])
{
	for (unsigned i = 0; i < dp->n_workers; i++)
		counters[i] = hc_dp_room_counters(dp, i);
	return dp->n_workers;
}

struct hc_room_view *hc_view_merge(const struct hc_dataplane *dp, uint64_t generation)
{
	const uint32_t *counters[HC_MAX_WORKERS];
	unsigned n = hc_view_counters(dp, counters);
	return hc_view_sum(counters, n, dp->cfg->max_rooms, generation);
}

static void free_view(struct rcu_head *head)
{
	struct hc_room_view *v = caa_container_of(head, struct hc_room_view, rcu);
	if (hc_view_free_hook != NULL)
		hc_view_free_hook(v);
	struct hc_room_view *none = NULL;
	if (!__atomic_compare_exchange_n(&spare_view, &none, v, 0, __ATOMIC_RELEASE,
					 __ATOMIC_RELAXED))
		free(v);
}

void hc_view_release_spare(void)
{
	free(__atomic_exchange_n(&spare_view, NULL, __ATOMIC_ACQUIRE));
}

void hc_view_publish(struct hc_room_view *v)
{
	struct hc_room_view *old = rcu_xchg_pointer(&hc_view_current, v);
	if (old != NULL)
		call_rcu(&old->rcu, free_view);
}

struct hc_room_view *hc_view_get(void)
{
	return rcu_dereference(hc_view_current);
}
