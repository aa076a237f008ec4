/*
 * hc_snapshot.c - a gateway's snapshot, assembled at its home worker and
 * applied as one replacement of everything the appliance held for it.
 *
 * Owns the per-gateway staging of SNAPSHOT chunks.  The sequencer hands
 * chunks over in sequence order (chunk 0 is a reset point: everything
 * the gateway sent before it is covered by it), so a snapshot's chunks
 * arrive here contiguously; anything else (a chunk out of place, a count
 * that does not add up, no memory) abandons the snapshot and asks the
 * gateway for a new one.  Nothing of a snapshot is applied before its
 * last chunk: then its members go to their owners as SNAP_SET ops, and
 * every owner gets a SNAP_SWEEP that removes the gateway's users the
 * snapshot did not name (hc_members.h).  Those ops travel the same FIFO
 * rings as the gateway's events, so events after the snapshot apply
 * after it.  Dropping a gateway's users (new incarnation, dead, shutdown)
 * is an empty snapshot: the sweeps alone.
 *
 * Home worker only; staging memory is allocated when a snapshot starts
 * (a rare, slow-path event) and freed when it ends.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_malloc.h>

#include "hc_proto.h"
#include "hc_worker.h"

struct hc_snap_member {
	uint64_t user;
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
	struct hc_snap_member *m; /* [total] */
};

static void stage_free(struct hc_worker *w, uint16_t gw)
{
	struct hc_snap_stage *st = w->snap[gw];
	if (st == NULL)
		return;
	rte_free(st->m);
	rte_free(st);
	w->snap[gw] = NULL;
}

void hc_snapshot_free(struct hc_worker *w)
{
	if (w->snap == NULL)
		return;
	for (uint32_t g = 0; g < w->max_gateways; g++)
		stage_free(w, (uint16_t)g);
}

static uint8_t next_gen(struct hc_worker *w, uint16_t gw)
{
	uint8_t gen = (uint8_t)(w->snap_gen[gw] + 1);
	if (gen == 0)
		gen = 1; /* 0 means "no mark" */
	w->snap_gen[gw] = gen;
	return gen;
}

/* Every owner removes gw's users not marked gen. */
static void sweep_all(struct hc_worker *w, uint16_t gw, uint8_t gen)
{
	struct hc_op op = {.gateway_id = gw, .op = HC_OP_SNAP_SWEEP, .gen = gen};
	for (unsigned d = 0; d < w->ho.n; d++)
		if (hc_worker_emit_op(w, d, &op) != 0)
			return;
}

void hc_snapshot_drop_users(void *ctx, uint16_t gw)
{
	struct hc_worker *w = ctx;
	stage_free(w, gw); /* an unfinished snapshot of the old state goes too */
	HC_RELAXED_ADD(&w->st.user_drops, 1);
	sweep_all(w, gw, next_gen(w, gw));
}

static void apply_stage(struct hc_worker *w, uint16_t gw, const struct hc_snap_stage *st)
{
	uint8_t gen = next_gen(w, gw);
	unsigned nw = w->ho.n;
	for (uint32_t i = 0; i < st->n; i++) {
		struct hc_op op = {.user_id = st->m[i].user, .room_id = st->m[i].room,
			.gateway_id = gw, .pool_id = st->m[i].pool, .op = HC_OP_SNAP_SET,
			.gen = gen};
		if (hc_worker_emit_op(w, hc_owner_of(op.user_id, nw), &op) != 0)
			return; /* stopping */
	}
	sweep_all(w, gw, gen);
	HC_RELAXED_ADD(&w->st.snapshots, 1);
	HC_RELAXED_ADD(&w->st.snap_members, st->n);
}

static void abandon(struct hc_worker *w, uint16_t gw)
{
	stage_free(w, gw);
	HC_RELAXED_ADD(&w->st.snap_bad, 1);
	hc_worker_ask_resync(w, gw, HC_RESYNC_RESTART, 0, 0);
}

void hc_snapshot_chunk(struct hc_worker *w, uint16_t gw, const uint8_t *payload)
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
	struct hc_snap_stage *st = w->snap[gw];

	if (index == 0) {
		stage_free(w, gw); /* a new snapshot replaces an unfinished one */
		if (total > w->dp->cfg->max_users) {
			abandon(w, gw);
			return;
		}
		st = rte_zmalloc_socket("hc_snap_stage", sizeof(*st), 0, w->socket);
		if (st == NULL) {
			abandon(w, gw);
			return;
		}
		st->m = total == 0 ? NULL :
			rte_malloc_socket("hc_snap_members", sizeof(*st->m) * total, 0, w->socket);
		w->snap[gw] = st;
		if (total != 0 && st->m == NULL) {
			abandon(w, gw);
			return;
		}
		st->snapshot_id = id;
		st->chunk_count = chunks;
		st->total = total;
	} else if (st == NULL || st->snapshot_id != id || st->next_chunk != index ||
		   st->chunk_count != chunks || st->total != total) {
		abandon(w, gw);
		return;
	}
	if (st->n + count > st->total) {
		abandon(w, gw);
		return;
	}
	const uint8_t *rec = payload + sizeof(h) + sizeof(pf);
	for (uint16_t i = 0; i < count; i++, rec += sizeof(struct hc_member)) {
		struct hc_member mb;
		memcpy(&mb, rec, sizeof(mb));
		st->m[st->n++] = (struct hc_snap_member){.user = rte_be_to_cpu_64(mb.user_id),
			.room = rte_be_to_cpu_32(mb.room_id), .pool = rte_be_to_cpu_16(mb.pool_id)};
	}
	st->next_chunk++;
	if (st->next_chunk < st->chunk_count)
		return;
	if (st->n != st->total) {
		abandon(w, gw);
		return;
	}
	apply_stage(w, gw, st);
	stage_free(w, gw);
}
