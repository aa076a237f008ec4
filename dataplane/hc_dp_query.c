/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_dp_query.c - what the control layer may read of the dataplane, and
 * how (hc_dataplane.h).
 *
 * The control lcore and telemetry threads read workers' state while the
 * workers run: each value has a single writer (its worker) and is read
 * with relaxed loads, so a reader sees a recent value, never a torn one.
 * These functions are the only way across: the control layer never sees
 * struct hc_worker.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ring.h>

#include "hc_dataplane.h"
#include "hc_port.h"
#include "hc_worker_state.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)

/* Add the 64-bit counters of src to dst, n of them, with relaxed loads. */
static void add_counters(uint64_t *dst, const uint64_t *src, size_t n)
{
	for (size_t k = 0; k < n; k++)
		dst[k] += LOAD(&src[k]);
}

#define ADD_STRUCT(dst, src) \
	add_counters((uint64_t *)&(dst), (const uint64_t *)&(src), sizeof(dst) / sizeof(uint64_t))

void hc_dp_collect(const struct hc_dataplane *dp, struct hc_dp_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->tsc = rte_rdtsc();
	for (unsigned i = 0; i < dp->n_workers; i++) {
		const struct hc_worker *w = dp->workers[i];
		ADD_STRUCT(t->w, w->st);
		ADD_STRUCT(t->m, w->members.st);
		ADD_STRUCT(t->s, w->seq.st);
		ADD_STRUCT(t->snap, w->snaps.st);
		ADD_STRUCT(t->memo, w->members.memo.st);
		t->users += LOAD(&w->members.n_users);
		t->pending_overflows += LOAD(&w->members.pend.overflows);
		for (uint32_t g = 0; g < w->seq.max_gateways; g++)
			t->gateways_seen += LOAD(&w->seq.gw[g].incarnation) != 0;
	}
	hc_ports_totals(dp, &t->ports);
	uint64_t read_up_to = hc_dp_read_up_to(dp, t->tsc);
	if (read_up_to != 0) /* (0: a worker's loop has not run yet) */
		t->input_read_lag_ms = (t->tsc - read_up_to) * 1000 / rte_get_tsc_hz();
	/* (avail_count reads the caches without a lock: a level, not exact) */
	if (dp->pool != NULL) {
		t->pool_mbufs = dp->pool->size;
		t->pool_mbufs_free = rte_mempool_avail_count(dp->pool);
	}
	if (dp->ctl_pool != NULL) {
		t->control_pool_mbufs = dp->ctl_pool->size;
		t->control_pool_mbufs_free = rte_mempool_avail_count(dp->ctl_pool);
	}
}

uint64_t hc_dp_read_up_to(const struct hc_dataplane *dp, uint64_t now)
{
	uint64_t t = now;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		uint64_t r = LOAD(&dp->workers[i]->read_up_to);
		if (r < t)
			t = r;
	}
	return t;
}

uint64_t hc_dp_rx_frames(const struct hc_dataplane *dp)
{
	uint64_t rx = 0;
	for (unsigned i = 0; i < dp->n_workers; i++)
		rx += LOAD(&dp->workers[i]->st.rx_frames);
	return rx;
}

/* Twice: one empty poll may have raced with a frame just arriving. */
int hc_dp_ports_read_dry(const struct hc_dataplane *dp)
{
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (dp->workers[i]->n_rxq > 0 && LOAD(&dp->workers[i]->dry_polls) < 2)
			return 0;
	return 1;
}

int hc_dp_drained(const struct hc_dataplane *dp)
{
	for (unsigned i = 0; i < dp->n_workers; i++) {
		const struct hc_worker *w = dp->workers[i];
		if (!__atomic_load_n(&w->flushed, __ATOMIC_ACQUIRE) || LOAD(&w->members.pend.n_deferred) != 0)
			return 0;
	}
	for (unsigned i = 0; i < dp->n_workers; i++) {
		const struct hc_worker *w = dp->workers[i];
		for (unsigned s = 0; s < w->ho.n; s++)
			if (w->ho.op_in[s] != NULL && !rte_ring_empty(w->ho.op_in[s]))
				return 0;
	}
	return 1;
}

const uint32_t *hc_dp_room_counters(const struct hc_dataplane *dp, unsigned worker)
{
	return dp->workers[worker]->members.room_users;
}

uint32_t hc_dp_room_users(const struct hc_dataplane *dp, unsigned worker, uint32_t room)
{
	return LOAD(&dp->workers[worker]->members.room_users[room]);
}

static const struct hc_sequencer *home_seq(const struct hc_dataplane *dp, uint16_t gw)
{
	return &dp->workers[gw % dp->n_workers]->seq;
}

uint32_t hc_dp_gateway_incarnation(const struct hc_dataplane *dp, uint16_t gw)
{
	return LOAD(&home_seq(dp, gw)->gw[gw].incarnation);
}

uint64_t hc_dp_ha_heard_far(const struct hc_dataplane *dp)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < dp->n_workers; i++)
		n += LOAD(&dp->workers[i]->ha_heard_far);
	return n;
}

uint32_t hc_dp_ha_heard(const struct hc_dataplane *dp)
{
	uint32_t best = 0;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		uint32_t h = LOAD(&dp->workers[i]->ha_heard);
		if (h != 0 && (best == 0 || hc_seq_after(h, best)))
			best = h;
	}
	return best;
}

uint32_t hc_dp_gateway_applied(const struct hc_dataplane *dp, uint16_t gw)
{
	return hc_seq_applied(home_seq(dp, gw), gw);
}

uint64_t hc_dp_gateway_users(const struct hc_dataplane *dp, uint16_t gw)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < dp->n_workers; i++)
		n += LOAD(&dp->workers[i]->members.gw_users[gw]);
	return n;
}

uint64_t hc_dp_worker_blocked_since(const struct hc_dataplane *dp, unsigned worker)
{
	return LOAD(&dp->workers[worker]->blocked_since);
}

int hc_dp_gateway_settling(const struct hc_dataplane *dp, uint16_t gw)
{
	/* its own seat requests in flight; its ops waiting behind anyone's
	 * (a user it holds that another gateway's JOIN made pending); or a
	 * worker waiting for decisions before it applies more, with ops of
	 * any gateway in its rings: what "applied" counts may not be in the
	 * digest yet */
	for (unsigned i = 0; i < dp->n_workers; i++) {
		const struct hc_worker *w = dp->workers[i];
		if (LOAD(&w->members.gw_pending[gw]) != 0 ||
		    LOAD(&w->members.pend.gw_deferred[gw]) != 0 || LOAD(&w->blocked_since) != 0)
			return 1;
	}
	return 0;
}

uint64_t hc_dp_gateway_digest(const struct hc_dataplane *dp, uint16_t gw)
{
	uint64_t digest = 0;
	for (unsigned i = 0; i < dp->n_workers; i++)
		digest += LOAD(&dp->workers[i]->members.gw_digest[gw]);
	return digest;
}

int hc_dp_gateway_info(const struct hc_dataplane *dp, uint16_t gw, struct hc_dp_gateway *out)
{
	const struct hc_gw_state *gs = &home_seq(dp, gw)->gw[gw];
	memset(out, 0, sizeof(*out));
	out->incarnation = LOAD(&gs->incarnation);
	if (out->incarnation == 0)
		return -1;
	out->next_seq = LOAD(&gs->next_seq);
	out->users = hc_dp_gateway_users(dp, gw);
	out->datagrams = LOAD(&gs->datagrams);
	out->heartbeats = LOAD(&gs->heartbeats);
	out->nacks = LOAD(&gs->nacks);
	out->lost = LOAD(&gs->lost);
	out->duplicates = LOAD(&gs->duplicates);
	out->resets = LOAD(&gs->resets);
	out->deaths = LOAD(&gs->deaths);
	out->last_heard_tsc = LOAD(&gs->last_heard_tsc);
	return 0;
}
