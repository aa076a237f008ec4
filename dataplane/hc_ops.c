/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_ops.c - in-order datagrams become per-user ops, and ops are applied.
 *
 * The sequencer hands over each gateway's datagrams in order.  An EVENTS
 * datagram is split into ops for the workers owning its users
 * (hc_owner_of), whole or nothing: room on every destination ring is
 * secured before the first op is staged, and while waiting for room the
 * worker keeps consuming what others hand it (back-pressure, never loss,
 * and no cycle of full rings can stop every worker).  A SNAPSHOT datagram
 * goes to the snapshot stage, whose ops come back through hc_ops_emit.
 *
 * Ops for our own users are gathered and applied in bulk to the
 * membership (hc_members.h); what changed, and the seat requests of
 * JOINs, go to the control core (hc_chan.c).
 */
#include <sched.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "hc_mbuf_meta.h"
#include "hc_proto.h"
#include "hc_chan.h"
#include "hc_ops.h"
#include "hc_ring_copy.h"

#define OP_DEQ_BURST 256

/* The datagrams whose ops were read, freed in one call. */
static void free_read(struct hc_worker *w)
{
	rte_pktmbuf_free_bulk(w->read, w->n_read);
	w->n_read = 0;
}

/* Room in the membership for k more ops that may ask for a seat or wait
 * for a decision, and for the snapshot members parked until a sweep among
 * them judges them again (each may do the same). */
static inline int members_have_room(const struct hc_worker *w, unsigned k)
{
	k += w->members.n_parked;
	return w->members.pend.n_deferred + k + HC_PENDING_MAX <= HC_MEMBERS_DEFERRED &&
	       w->members.pend.n_pending + k <= HC_PENDING_MAX;
}

/*
 * Apply ops to our users and report what changed (or asks for a seat) to
 * the control core.  When too many users wait for decisions, take the
 * decisions in first.
 */
static void apply_ops(struct hc_worker *w, const struct hc_op *ops, unsigned n)
{
	if (w->n_read > 0)
		free_read(w); /* before any wait for decisions: they may be
		                 gather mbufs another worker waits for */
	if (w->to_ctl_changes == NULL) {
		hc_members_apply(&w->members, ops, n);
		return;
	}
	while (n > 0) {
		unsigned k = n < HC_LOCAL_OPS ? n : HC_LOCAL_OPS;
		/* a sweep defers one op per user waiting for a seat: the room
		 * kept (HC_PENDING_MAX) is for one sweep, so at most one per
		 * chunk (many gateways dropped at once, seat requests in flight) */
		for (unsigned i = 0, sweeps = 0; i < k; i++) {
			if (ops[i].op == HC_OP_SNAP_SWEEP && ++sweeps == 2) {
				k = i;
				break;
			}
		}
		if (!members_have_room(w, k))
			__atomic_store_n(&w->blocked_since, rte_rdtsc(), __ATOMIC_RELAXED);
		while (!members_have_room(w, k) && hc_dp_state(w->dp) != HC_STOP) {
			if (hc_chan_drain_decisions(w) == 0)
				sched_yield();
		}
		HC_RELAXED_PUBLISH(&w->blocked_since, 0);
		if (unlikely(!members_have_room(w, k)))
			return; /* stopping: nothing more can be decided */
		w->members.changes = w->chg_buf;
		w->members.n_changes = 0;
		hc_members_apply(&w->members, ops, k);
		hc_chan_push_changes(w);
		ops += k;
		n -= k;
	}
}

void hc_ops_apply_local(struct hc_worker *w)
{
	if (w->n_read > 0)
		free_read(w);
	if (w->n_local > 0) {
		apply_ops(w, w->local, w->n_local);
		w->n_local = 0;
	}
}

unsigned hc_ops_drain(struct hc_worker *w)
{
	struct hc_op ops[OP_DEQ_BURST];
	unsigned total = 0;

	for (unsigned s = 0; s < w->ho.n; s++) {
		struct rte_ring *r = w->ho.op_in[s];
		if (r == NULL)
			continue;
		unsigned n = hc_ring_take(r, ops, sizeof(struct hc_op), OP_DEQ_BURST);
		if (n > 0) {
			apply_ops(w, ops, n);
			total += n;
		}
	}
	return total;
}

/* The latest session stamp taken as it is (hc_proto.h): now + 10 s.
 * Kept as the worker's session_seen_limit too. */
static __rte_noinline uint64_t session_limit_now(struct hc_worker *w)
{
	const struct hc_dataplane *dp = w->dp;
	uint64_t tsc = rte_rdtsc();
	/* (a TSC behind the start's, on a core whose TSC lags: no time yet,
	 * rather than a wrapped one the kept limit would keep) */
	uint64_t since = tsc > dp->start_tsc ? tsc - dp->start_tsc : 0;
	uint64_t limit = dp->start_wall_us + since / dp->tsc_per_us + HC_SESSION_AHEAD_US;
	w->session_seen_limit = limit;
	return limit;
}

/* A session stamp, clamped to the limit: the clock (a TSC read and a
 * division, a sizeable share of a single-event datagram's cost) is read
 * only for a stamp above the limit seen last, which the limit never
 * falls below: the same verdict as reading it for every stamp. */
static inline uint64_t session_clamp(struct hc_worker *w, uint64_t session)
{
	if (likely(session <= w->session_seen_limit))
		return session;
	uint64_t limit = session_limit_now(w);
	if (session <= limit)
		return session;
	HC_RELAXED_ADD(&w->st.sessions_clamped, 1);
	return limit;
}

static inline void read_op(struct hc_worker *w, const uint8_t *rec, uint16_t gw,
			   struct hc_op *op)
{
	struct hc_event ev;
	memcpy(&ev, rec, sizeof(ev));
	/* (whole: gen, flags and pad 0, not what the buffer held before) */
	*op = (struct hc_op){.user_id = rte_be_to_cpu_64(ev.user_id),
			     .session = session_clamp(w, rte_be_to_cpu_64(ev.session)),
			     .room_id = rte_be_to_cpu_32(ev.room_id),
			     .gateway_id = gw,
			     .pool_id = rte_be_to_cpu_16(ev.pool_id),
			     .op = ev.op};
}

/*
 * Make room for `need` ops towards worker d.  Back-pressure: keep
 * consuming meanwhile, so no cycle of full rings can block every worker.
 * Returns -1 only when stopping.
 */
static int wait_handoff_room(struct hc_worker *w, unsigned d, uint32_t need)
{
	if (likely(hc_handoff_room(&w->ho, d, need)))
		return 0;
	HC_RELAXED_ADD(&w->st.handoff_waits, 1);
	while (!hc_handoff_room(&w->ho, d, need)) {
		hc_ops_apply_local(w);
		if (hc_ops_drain(w) + hc_chan_drain_decisions(w) == 0 && w->yield_idle)
			sched_yield(); /* the worker we wait for may share our CPU */
		if (unlikely(hc_dp_state(w->dp) == HC_STOP))
			return -1;
	}
	return 0;
}

/* One worker: every op is ours. */
static void gather_local(struct hc_worker *w, const uint8_t *rec, uint16_t count, uint16_t gw)
{
	if (w->n_local + count > HC_LOCAL_OPS)
		hc_ops_apply_local(w);
	for (uint16_t i = 0; i < count; i++)
		read_op(w, rec + (size_t)i * sizeof(struct hc_event), gw, &w->local[w->n_local++]);
}

/* Several workers: each op to its owner, all or none.  0, or -1 when
 * stopping (nothing staged). */
static int split_to_owners(struct hc_worker *w, const uint8_t *rec, uint16_t count,
			   uint16_t gw)
{
	struct hc_op ops[HC_MAX_EVENTS];
	uint8_t owner[HC_MAX_EVENTS];
	uint32_t need[HC_MAX_WORKERS] = {0};
	unsigned n = w->ho.n;

	for (uint16_t i = 0; i < count; i++) {
		read_op(w, rec + (size_t)i * sizeof(struct hc_event), gw, &ops[i]);
		owner[i] = (uint8_t)hc_owner_of(ops[i].user_id, n);
		need[owner[i]]++;
	}
	for (unsigned d = 0; d < n; d++) {
		if (d == w->id || need[d] == 0)
			continue;
		if (wait_handoff_room(w, d, need[d]) != 0)
			return -1;
	}
	if (w->n_local + need[w->id] > HC_LOCAL_OPS)
		hc_ops_apply_local(w);
	uint64_t handed = 0;
	for (uint16_t i = 0; i < count; i++) {
		if (owner[i] == w->id) {
			w->local[w->n_local++] = ops[i];
		} else {
			hc_handoff_stage(&w->ho, owner[i], &ops[i]);
			handed++;
		}
	}
	HC_RELAXED_ADD(&w->st.handoff_ops, handed);
	return 0;
}

/* An EVENTS datagram, next in its gateway's order. */
static void deliver_events(struct hc_worker *w, struct rte_mbuf *m, const uint8_t *p)
{
	struct hc_hdr h;
	memcpy(&h, p, sizeof(h));
	uint16_t count = rte_be_to_cpu_16(h.record_count);
	uint16_t gw = rte_be_to_cpu_16(h.gateway_id);
	const uint8_t *rec = p + sizeof(h);

	if (w->ho.n == 1) {
		gather_local(w, rec, count, gw);
	} else if (split_to_owners(w, rec, count, gw) != 0) {
		hc_worker_drop(w, m, HC_DROP_HANDOFF_FULL);
		return;
	}
	HC_RELAXED_ADD(&w->st.event_datagrams, 1);
	HC_RELAXED_ADD(&w->st.events, count);
	if (unlikely(w->n_read == HC_READ_FREE))
		free_read(w);
	w->read[w->n_read++] = m; /* its ops are copies */
}

void hc_ops_deliver(void *ctx, struct rte_mbuf *m)
{
	struct hc_worker *w = ctx;
	const uint8_t *p = hc_mbuf_payload(m);
	if (likely(p[offsetof(struct hc_hdr, type)] == HC_MSG_EVENTS)) {
		deliver_events(w, m, p);
		return;
	}
	struct hc_hdr h;
	memcpy(&h, p, sizeof(h));
	hc_snapshots_chunk(&w->snaps, rte_be_to_cpu_16(h.gateway_id), p);
	rte_pktmbuf_free(m);
}

int hc_ops_emit(void *ctx, unsigned d, const struct hc_op *in)
{
	struct hc_worker *w = ctx;
	struct hc_op clamped = *in; /* a snapshot member's session, as an event's */
	const struct hc_op *op = &clamped;
	if (in->op == HC_OP_SNAP_SET)
		clamped.session = session_clamp(w, in->session);
	if (d == w->id) {
		if (w->n_local + 1 > HC_LOCAL_OPS)
			hc_ops_apply_local(w);
		w->local[w->n_local++] = *op;
		return 0;
	}
	if (wait_handoff_room(w, d, 1) != 0)
		return -1;
	hc_handoff_stage(&w->ho, d, op);
	HC_RELAXED_ADD(&w->st.handoff_ops, 1);
	return 0;
}

void hc_ops_commit(struct hc_worker *w)
{
	hc_ops_apply_local(w);
	hc_handoff_flush(&w->ho);
}
