/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_snapshot.c - a gateway's snapshot, assembled at its home worker and
 * applied as one replacement of everything the appliance held for it.
 *
 * Owns the per-gateway staging of SNAPSHOT chunks.  The sequencer hands
 * chunks over in sequence order (chunk 0 is a reset point: everything
 * the gateway sent before it is covered by it), so a snapshot's chunks
 * arrive here contiguously; anything else (a chunk out of place, a count
 * that does not add up, no memory) abandons the snapshot and asks the
 * gateway for a new one, once: the chunks of that snapshot still on
 * their way are then ignored (counted), not each abandoned and asked for
 * again (a RESYNC datagram each).  Nothing of a snapshot is applied before its
 * last chunk: then its members go to their owners as SNAP_SET ops, and
 * every owner gets a SNAP_SWEEP that removes the gateway's users the
 * snapshot did not name (hc_members.h).  Those ops travel the same FIFO
 * rings as the gateway's events, so events after the snapshot apply
 * after it.  Dropping a gateway's users (new incarnation, dead, shutdown)
 * is an empty snapshot: the sweeps alone.
 *
 * Home worker only (slow path).  Staging memory grows with the members
 * actually received, doubling, never with what the prefix claims: a
 * claimed total above the per-gateway cap is refused at once, and growth
 * beyond either cap (per gateway, all stages of the worker) abandons the
 * snapshot (counted in over_limit) instead of taking the heap.  At the
 * worker's cap a stage larger than the one that must grow, and idle (no
 * member added for HC_SNAP_IDLE_MS) or slow (older than that and fewer
 * than HC_SNAP_MIN_RATE members a second on average since its chunk 0),
 * is abandoned first, the largest first (displaced): a few gateways that
 * stage big snapshots and stop, or trickle them in a member a second,
 * cannot keep every smaller snapshot of the worker out for ever, and a
 * snapshot arriving at 10,000 members a second or more is never
 * displaced.  (An insider's gateway may still hold a stage by sending it
 * at that rate: the stage then completes, at most --max-snapshot-users
 * later, and is applied.)
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_malloc.h>

#include "hc_proto.h"
#include "hc_snapshot.h"

struct hc_snap_member {
	uint64_t user;
	uint64_t session;
	uint32_t room;
	uint16_t pool;
	uint16_t pad;
};

struct hc_snap_stage {
	uint32_t snapshot_id;
	uint32_t chunk_count;
	uint32_t next_chunk;
	uint32_t total;
	uint32_t n;
	uint32_t cap;             /* slots in m                      */
	uint32_t open_at;         /* its place in the open list      */
	uint32_t named;           /* the appliance incarnation its chunks
	                             named (0: they differed)          */
	uint64_t begun_tsc;       /* its chunk 0                     */
	uint64_t grew_tsc;        /* when it last added members      */
	struct hc_snap_member *m; /* [cap], cap grows with n         */
};

#define RELAXED_ADD(p, v) __atomic_store_n((p), *(p) + (v), __ATOMIC_RELAXED)

static void stage_free(struct hc_snapshots *s, uint16_t gw)
{
	struct hc_snap_stage *st = s->stage[gw];
	if (st == NULL)
		return;
	s->staged -= st->cap;
	uint16_t last = s->open[--s->n_open]; /* (swapped into its place) */
	s->open[st->open_at] = last;
	s->stage[last]->open_at = st->open_at;
	rte_free(st->m);
	rte_free(st);
	s->stage[gw] = NULL;
}

int hc_snapshots_init(struct hc_snapshots *s, uint32_t max_gateways, uint32_t max_per_gateway,
		      uint64_t max_staged, const struct hc_snap_hooks *hooks, int socket)
{
	memset(s, 0, sizeof(*s));
	s->stage = rte_zmalloc_socket("hc_snap", sizeof(*s->stage) * max_gateways, 64, socket);
	s->gen = rte_zmalloc_socket("hc_snap_gen", max_gateways, 64, socket);
	s->open = rte_zmalloc_socket("hc_snap_open", sizeof(*s->open) * max_gateways, 64, socket);
	s->abandoned = rte_zmalloc_socket("hc_snap_abandoned",
					  sizeof(*s->abandoned) * max_gateways, 64, socket);
	if (s->stage == NULL || s->gen == NULL || s->open == NULL || s->abandoned == NULL) {
		hc_snapshots_free(s);
		return -ENOMEM;
	}
	s->max_gateways = max_gateways;
	s->max_per_gateway = max_per_gateway;
	s->max_staged = max_staged;
	s->idle_tsc = rte_get_tsc_hz() / 1000 * HC_SNAP_IDLE_MS;
	s->slow_after_tsc = s->idle_tsc;
	s->member_tsc = RTE_MAX(rte_get_tsc_hz() / HC_SNAP_MIN_RATE, (uint64_t)1);
	s->socket = socket;
	s->hooks = *hooks;
	return 0;
}

void hc_snapshots_free(struct hc_snapshots *s)
{
	if (s->stage != NULL)
		for (uint32_t g = 0; g < s->max_gateways; g++)
			stage_free(s, (uint16_t)g);
	rte_free(s->stage);
	rte_free(s->gen);
	rte_free(s->open);
	rte_free(s->abandoned);
	s->stage = NULL;
	s->gen = NULL;
	s->open = NULL;
	s->abandoned = NULL;
}

static uint8_t next_gen(struct hc_snapshots *s, uint16_t gw)
{
	uint8_t gen = (uint8_t)(s->gen[gw] + 1);
	if (gen == 0)
		gen = 1; /* 0 means "no mark" */
	s->gen[gw] = gen;
	return gen;
}

/* Every owner removes gw's users not marked gen.  flags: HC_OPF_RESTATED
 * when the sweep ends a snapshot the gateway sent, named then the
 * appliance incarnation its chunks named (0 and 0: a drop of its users). */
static void sweep_all(struct hc_snapshots *s, uint16_t gw, uint8_t gen, uint8_t flags,
		      uint32_t named)
{
	struct hc_op op = {.gateway_id = gw, .op = HC_OP_SNAP_SWEEP, .gen = gen, .flags = flags,
		.room_id = named};
	for (unsigned d = 0; d < s->hooks.n_owners; d++)
		if (s->hooks.emit(s->hooks.ctx, d, &op) != 0)
			return;
}

void hc_snapshots_drop_users(void *ctx, uint16_t gw)
{
	struct hc_snapshots *s = ctx;
	stage_free(s, gw); /* an unfinished snapshot of the old state goes too */
	s->abandoned[gw] = 0; /* (a new incarnation's ids are its own) */
	RELAXED_ADD(&s->st.user_drops, 1);
	sweep_all(s, gw, next_gen(s, gw), 0, 0);
}

static void apply_stage(struct hc_snapshots *s, uint16_t gw, const struct hc_snap_stage *st)
{
	uint8_t gen = next_gen(s, gw);
	for (uint32_t i = 0; i < st->n; i++) {
		struct hc_op op = {.user_id = st->m[i].user, .session = st->m[i].session,
			.room_id = st->m[i].room,
			.gateway_id = gw, .pool_id = st->m[i].pool, .op = HC_OP_SNAP_SET,
			.gen = gen};
		if (s->hooks.emit(s->hooks.ctx, hc_owner_of(op.user_id, s->hooks.n_owners),
				  &op) != 0)
			return; /* stopping */
	}
	sweep_all(s, gw, gen, HC_OPF_RESTATED, st->named);
	RELAXED_ADD(&s->st.applied, 1);
	RELAXED_ADD(&s->st.members, st->n);
}

/* gw's snapshot `id` is given up: its stage freed, the gateway asked
 * for a new one, once: its chunks still on their way are ignored
 * (hc_snapshots_chunk), not each abandoned and asked for again. */
static void abandon(struct hc_snapshots *s, uint16_t gw, uint32_t id)
{
	stage_free(s, gw);
	s->abandoned[gw] = HC_SNAP_ABANDONED | id;
	RELAXED_ADD(&s->st.abandoned, 1);
	s->hooks.ask_again(s->hooks.ctx, gw);
}

/* A stage that may be displaced: idle (no member for HC_SNAP_IDLE_MS) or
 * slow (older than that, and fewer members than HC_SNAP_MIN_RATE a
 * second since its chunk 0 would have brought).  A stamp past now (the
 * TSC stepped back since) is brought to now first, as the sequencer's
 * are (hc_seq_clock_step): the wrapped difference made every stage look
 * idle at once, and an honest snapshot in progress could be displaced. */
static inline int stage_stalled(const struct hc_snapshots *s, struct hc_snap_stage *o,
				uint64_t now)
{
	if (unlikely(o->begun_tsc > now))
		o->begun_tsc = now;
	if (unlikely(o->grew_tsc > now))
		o->grew_tsc = now;
	uint64_t age = now - o->begun_tsc;
	return now - o->grew_tsc >= s->idle_tsc ||
	       (age >= s->slow_after_tsc && age / s->member_tsc > o->n);
}

/* The worker's staging total reached: the gateway (not gw) whose stage,
 * idle or slow, holds the most slots, more than `than`, or -1.  Over the
 * open stages only: one a gateway of this home at most, and those
 * holding slots (256 at least) at most --max-users / 256. */
static int32_t largest_idle_stage_above(struct hc_snapshots *s, uint16_t gw,
					uint64_t than, uint64_t now)
{
	int32_t best = -1;
	uint64_t most = than;
	for (uint32_t i = 0; i < s->n_open; i++) {
		uint16_t g = s->open[i];
		struct hc_snap_stage *o = s->stage[g];
		if (g != gw && o->cap > most && stage_stalled(s, o, now)) {
			most = o->cap;
			best = g;
		}
	}
	return best;
}

/* Room for `more` members in gw's stage st, within both caps; 0 or -1.
 * At the worker's cap, idle stages larger than st would be are displaced
 * (abandoned, their gateways asked again), the largest first. */
static int stage_grow(struct hc_snapshots *s, uint16_t gw, struct hc_snap_stage *st,
		      uint32_t more)
{
	uint64_t need = (uint64_t)st->n + more;
	if (need <= st->cap)
		return 0;
	uint64_t cap = st->cap == 0 ? 256 : (uint64_t)st->cap * 2;
	if (cap < need)
		cap = need;
	if (cap > st->total)
		cap = st->total; /* need <= total: checked by the caller */
	if (cap > s->max_per_gateway) {
		RELAXED_ADD(&s->st.over_limit, 1);
		return -1;
	}
	uint64_t now = rte_rdtsc();
	while (s->staged - st->cap + cap > s->max_staged) {
		int32_t victim = largest_idle_stage_above(s, gw, cap, now);
		if (victim < 0) {
			RELAXED_ADD(&s->st.over_limit, 1);
			return -1;
		}
		RELAXED_ADD(&s->st.displaced, 1);
		RELAXED_ADD(&s->st.over_limit, 1);
		abandon(s, (uint16_t)victim, s->stage[victim]->snapshot_id);
	}
	struct hc_snap_member *m = rte_realloc_socket(st->m, sizeof(*m) * cap, 0, s->socket);
	if (m == NULL)
		return -1;
	s->staged += cap - st->cap;
	st->m = m;
	st->cap = (uint32_t)cap;
	return 0;
}

void hc_snapshots_chunk(struct hc_snapshots *s, uint16_t gw, const uint8_t *payload)
{
	struct hc_hdr h;
	struct hc_snapshot_prefix pf;
	memcpy(&h, payload, sizeof(h));
	memcpy(&pf, payload + sizeof(h), sizeof(pf));
	uint32_t id = rte_be_to_cpu_32(pf.snapshot_id);
	uint32_t index = rte_be_to_cpu_32(pf.chunk_index);
	uint32_t chunks = rte_be_to_cpu_32(pf.chunk_count);
	uint32_t total = rte_be_to_cpu_32(pf.total_users);
	uint16_t count = rte_be_to_cpu_16(h.record_count);
	uint32_t named = rte_be_to_cpu_32(h.appliance_incarnation);
	struct hc_snap_stage *st = s->stage[gw];

	if (index == 0) {
		stage_free(s, gw); /* a new snapshot replaces an unfinished one */
		s->abandoned[gw] = 0;
		if (total > s->max_per_gateway) {
			RELAXED_ADD(&s->st.over_limit, 1);
			abandon(s, gw, id);
			return;
		}
		st = rte_zmalloc_socket("hc_snap_stage", sizeof(*st), 0, s->socket);
		if (st == NULL) {
			abandon(s, gw, id);
			return;
		}
		s->stage[gw] = st;
		st->open_at = s->n_open;
		s->open[s->n_open++] = gw;
		st->grew_tsc = st->begun_tsc = rte_rdtsc();
		st->snapshot_id = id;
		st->chunk_count = chunks;
		st->total = total;
		st->named = named;
	} else if (st == NULL && s->abandoned[gw] == (HC_SNAP_ABANDONED | id)) {
		/* the rest of a snapshot given up: asked for again once */
		RELAXED_ADD(&s->st.chunks_ignored, 1);
		return;
	} else if (st == NULL || st->snapshot_id != id || st->next_chunk != index ||
		   st->chunk_count != chunks || st->total != total) {
		/* (the chunks still on their way are this one's: the
		 * sequencer hands them over in order, so a staged one's rest
		 * was given up as a gap, and will not come) */
		abandon(s, gw, id);
		return;
	}
	if (st->n + count > st->total || stage_grow(s, gw, st, count) != 0) {
		abandon(s, gw, id);
		return;
	}
	if (count > 0)
		st->grew_tsc = rte_rdtsc();
	if (named != st->named)
		st->named = 0; /* (a snapshot begun before an incarnation heard) */
	const uint8_t *rec = payload + sizeof(h) + sizeof(pf);
	for (uint16_t i = 0; i < count; i++, rec += sizeof(struct hc_member)) {
		struct hc_member mb;
		memcpy(&mb, rec, sizeof(mb));
		st->m[st->n++] = (struct hc_snap_member){.user = rte_be_to_cpu_64(mb.user_id),
			.session = rte_be_to_cpu_64(mb.session),
			.room = rte_be_to_cpu_32(mb.room_id), .pool = rte_be_to_cpu_16(mb.pool_id)};
	}
	st->next_chunk++;
	if (st->next_chunk < st->chunk_count)
		return;
	if (st->n != st->total) {
		abandon(s, gw, id);
		return;
	}
	apply_stage(s, gw, st);
	stage_free(s, gw);
}

int hc_snapshots_stamps_ahead(struct hc_snapshots *s, uint16_t gw, uint64_t ahead)
{
	struct hc_snap_stage *st = gw < s->max_gateways ? s->stage[gw] : NULL;
	if (st == NULL)
		return -ENOENT;
	st->begun_tsc += ahead;
	st->grew_tsc += ahead;
	return 0;
}
