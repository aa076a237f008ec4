/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_view.c - merge of per-worker room counters into the RCU room view.
 * Runs on the control lcore; see hc_view.h for the concurrency contract.
 */
#include "hc_view.h"

#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "hc_dataplane.h"

static struct hc_room_view *hc_view_current;
void (*hc_view_free_hook)(struct hc_room_view *v);

struct hc_room_view *hc_view_sum(const uint32_t *const counters[], unsigned n,
				 uint32_t max_rooms, uint64_t generation)
{
	struct hc_room_view *v = malloc(sizeof(*v) + (size_t)max_rooms * sizeof(uint32_t));
	if (v == NULL)
		return NULL;
	memset(v, 0, sizeof(*v));
	v->generation = generation;
	v->merged_tsc = rte_rdtsc();
	v->max_rooms = max_rooms;
	v->room_users[0] = 0;
	for (uint32_t r = 1; r < max_rooms; r++) {
		uint32_t s = 0;
		for (unsigned i = 0; i < n; i++)
			s += __atomic_load_n(&counters[i][r], __ATOMIC_RELAXED);
		v->room_users[r] = s;
		v->users += s;
		v->rooms += s != 0;
		if (s > v->largest_room)
			v->largest_room = s;
	}
	return v;
}

struct hc_room_view *hc_view_merge(const struct hc_dataplane *dp, uint64_t generation)
{
	const uint32_t *counters[HC_MAX_WORKERS];
	for (unsigned i = 0; i < dp->n_workers; i++)
		counters[i] = hc_dp_room_counters(dp, i);
	return hc_view_sum(counters, dp->n_workers, dp->cfg->max_rooms, generation);
}

static void free_view(struct rcu_head *head)
{
	struct hc_room_view *v = caa_container_of(head, struct hc_room_view, rcu);
	if (hc_view_free_hook != NULL)
		hc_view_free_hook(v);
	free(v);
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
