/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_fuzz_check.c - what must hold in a quiescent dataplane (after every
 * operation of a fuzz input: every ring drained, nothing staged).
 *
 * The one file of the harness that reads the dataplane's private state
 * (struct hc_worker, hc_members, hc_sequencer): when those change, only
 * this file follows.  Per worker:
 *   membership  every user in the table is in a room; per-room counters,
 *               the user count, exactly as many slots in a room as
 *               users (the pick scan trusts a free slot's room 0), the
 *               per-gateway user counts and digests, and the snapshot marks all agree with
 *               a walk over the users; a user lives on its owner worker;
 *   sequencer   held datagrams sit in their sequence's slot inside the
 *               window, are of the gateway's incarnation and add up to
 *               held / held_total (<= HC_SEQ_MAX_HELD); the gap list and
 *               each gateway's gap_index agree, and a gateway is in it
 *               whenever something it sent is missing; an unknown
 *               gateway (incarnation 0) holds nothing;
 *   channel     seat requests in flight (the pending table) are exactly
 *               the requests the control core has not answered;
 * and over all workers: the control core's book of room counts (built
 * from the reported changes) equals the workers' counters, and every mbuf
 * not in the pool is one a sequencer holds (no leak, no double free).
 */
#include <inttypes.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "hc_mbuf_meta.h"
#include "hc_members.h"
#include "hc_worker_state.h"

#include "hc_fuzz_int.h"

struct walk {
	const struct hc_members *m;
	unsigned worker, n_workers;
	uint64_t users;
	uint64_t room[FZ_ROOMS];
	uint64_t gw_users[FZ_MAX_GWS];
	uint64_t gw_digest[FZ_MAX_GWS];
	uint64_t gw_marked[FZ_MAX_GWS];
};

static void visit(uint64_t user, uint32_t room, void *arg)
{
	struct walk *k = arg;
	if (room == 0 || room >= FZ_ROOMS)
		FZ_FAIL("worker %u: user %" PRIu64 " in the table in room %u", k->worker, user, room);
	if (hc_owner_of(user, k->n_workers) != k->worker)
		FZ_FAIL("worker %u holds user %" PRIu64 " of worker %u", k->worker, user,
			hc_owner_of(user, k->n_workers));
	int32_t at = hc_usertab_lookup(&k->m->users, user);
	if (at < 0)
		FZ_FAIL("worker %u: user %" PRIu64 " walked but not found", k->worker, user);
	if (k->m->slot[at].user_id != user)
		FZ_FAIL("worker %u: user %" PRIu64 " found at a slot of %" PRIu64, k->worker, user,
			k->m->slot[at].user_id);
	const struct hc_slot *s = &k->m->slot[at];
	if (s->gw == 0 || s->gw >= FZ_MAX_GWS)
		FZ_FAIL("worker %u: user %" PRIu64 " owned by gateway %u", k->worker, user, s->gw);
	/* its slot says it waits for a seat exactly while its request is in
	 * the pending table (ops read the slot's flag, not the table) */
	int in_table = hc_pending_find((struct hc_pending_table *)&k->m->pend, user) != NULL;
	if (s->waiting != in_table)
		FZ_FAIL("worker %u: user %" PRIu64 " waiting %u in its slot, %d in the pending table",
			k->worker, user, s->waiting, in_table);
	k->users++;
	k->room[room]++;
	k->gw_users[s->gw]++;
	k->gw_digest[s->gw] += hc_member_digest(user, room);
	if (s->mark != 0 && s->mark == k->m->snap_gen_now[s->gw])
		k->gw_marked[s->gw]++;
}

static void check_members(unsigned wi, const struct hc_members *m)
{
	static struct walk k;
	memset(&k, 0, sizeof(k));
	k.m = m;
	k.worker = wi;
	k.n_workers = fz_run.n_workers;
	uint64_t n = hc_members_walk(m, visit, &k);
	if (n != k.users || n != m->n_users || n + m->st.gone_keys != m->users.ix.count)
		FZ_FAIL("worker %u: %" PRIu64 " users in the table, n_users %" PRIu64 ", %" PRIu64
			" gone users' keys kept, %u keys", wi, n, m->n_users, m->st.gone_keys,
			m->users.ix.count);
	/* the gone users: every slot with no room and a link holds a key the
	 * index finds there, every one is in the list of kept keys, and the
	 * list holds no free position (hc_members_pvt.h, "Gone users") */
	uint64_t gone = 0, listed = 0, listed_gone = 0;
	for (uint32_t at = 0; at < m->users.fresh; at++) {
		const struct hc_slot *s = &m->slot[at];
		if (s->room != 0 || s->gone_link == 0)
			continue;
		gone++;
		if (hc_usertab_lookup(&m->users, s->user_id) != (int32_t)at)
			FZ_FAIL("worker %u: gone user %" PRIu64 " at %u: its key is not there", wi,
				s->user_id, at);
	}
	for (uint32_t h = m->gone_head; h != 0 && listed <= m->users.fresh; listed++) {
		const struct hc_slot *s = &m->slot[h - 1];
		if (s->gone_link == 0)
			FZ_FAIL("worker %u: position %u in the gone list unlinked", wi, h - 1);
		listed_gone += s->room == 0;
		h = s->gone_link == HC_SLOT_GONE_LAST ? 0 : s->gone_link;
	}
	if (gone != m->st.gone_keys || listed_gone != gone || listed > m->users.fresh)
		FZ_FAIL("worker %u: %" PRIu64 " gone users, gone_keys %" PRIu64 ", %" PRIu64
			" of them in the list of %" PRIu64, wi, gone, m->st.gone_keys, listed_gone,
			listed);
	if (m->room_users[0] != 0)
		FZ_FAIL("worker %u: room 0 counts %u users", wi, m->room_users[0]);
	/* the pick scan takes a slot with a room for a user's: no free or
	 * never-used position may have one */
	uint64_t in_room = 0; /* (past users.fresh: never used, never scanned) */
	for (uint32_t at = 0; at < m->users.fresh; at++)
		in_room += m->slot[at].room != 0;
	if (in_room != n)
		FZ_FAIL("worker %u: %" PRIu64 " slots have a room, %" PRIu64 " users", wi, in_room,
			n);
	for (uint32_t r = 1; r < FZ_ROOMS; r++) {
		if (m->room_users[r] != k.room[r])
			FZ_FAIL("worker %u: room %u counts %u users, %" PRIu64 " are in it", wi, r,
				m->room_users[r], k.room[r]);
	}
	uint64_t owned = 0;
	for (uint32_t g = 0; g < FZ_MAX_GWS; g++) {
		owned += m->gw_users[g];
		if (m->gw_users[g] != k.gw_users[g] || m->gw_digest[g] != k.gw_digest[g])
			FZ_FAIL("worker %u: gateway %u owns %u users digest %016" PRIx64
				", the table says %" PRIu64 " digest %016" PRIx64, wi, g, m->gw_users[g],
				m->gw_digest[g], k.gw_users[g], k.gw_digest[g]);
		if (m->snap_marked[g] != k.gw_marked[g]) {
			/* the count lets a sweep skip its scan: too high, and users the
			 * snapshot did not name survive it */
			FZ_KNOWN("snapmarks", "worker %u: gateway %u has %u users marked by snapshot "
				 "generation %u, %" PRIu64 " carry the mark", wi, g, m->snap_marked[g],
				 m->snap_gen_now[g], k.gw_marked[g]);
			return;
		}
	}
	if (owned != m->n_users)
		FZ_FAIL("worker %u: gateways own %" PRIu64 " users of %" PRIu64, wi, owned, m->n_users);
	if (m->pend.n_pending != fz_run.pending_asked[wi] && !fz_run.answers_in_flight)
		FZ_FAIL("worker %u: %u users wait for a seat, the control core owes %u answers", wi,
			m->pend.n_pending, fz_run.pending_asked[wi]);
	if (m->pend.n_pending == 0 && m->pend.n_deferred != 0)
		FZ_FAIL("worker %u: %u ops deferred behind no request", wi, m->pend.n_deferred);
	/* every request against its user's slot: made with a position, the
	 * user is still there, in a room, flagged; made with none, the user
	 * is not in the table, or gone (its key kept, in no room: ops read
	 * the flag, not the table) */
	for (uint32_t i = 0; i < (1u << HC_PENDING_BITS); i++) {
		const struct hc_pending *p = &m->pend.entry[i];
		if (!p->used)
			continue;
		int32_t at = hc_usertab_lookup(&m->users, p->user);
		if (p->pos1 != 0 && (at != (int32_t)p->pos1 - 1 || m->slot[at].room == 0 ||
				     !m->slot[at].waiting))
			FZ_FAIL("worker %u: user %" PRIu64 " asked at position %u, found at %d",
				wi, p->user, p->pos1 - 1, at);
		if (p->pos1 == 0 && at >= 0 && (m->slot[at].room != 0 || m->slot[at].waiting))
			FZ_FAIL("worker %u: new user %" PRIu64 " asked with no position, is at %d",
				wi, p->user, at);
	}
	if (m->st.waiting_strays != 0)
		FZ_FAIL("worker %u: %" PRIu64 " ops found a slot waiting with no request", wi,
			m->st.waiting_strays);
}

static int gap_pending(const struct hc_gw_state *g)
{
	return g->held > 0 || hc_seq_after(g->known_last, g->next_seq - 1);
}

static uint64_t check_sequencer(unsigned wi, const struct hc_sequencer *s)
{
	uint64_t held_total = 0;
	for (uint32_t gw = 0; gw < s->max_gateways; gw++) {
		const struct hc_gw_state *g = &s->gw[gw];
		int listed = g->gap_index != UINT32_MAX;
		if (g->incarnation == 0) {
			/* unknown: never heard, or forgotten (dead, SHUTDOWN) */
			if (g->held != 0 || listed || g->next_seq > 1 || g->win[0] != NULL) {
				FZ_KNOWN("incarnation0", "worker %u gateway %u: incarnation 0 (\"unknown\") "
					 "yet next %u, known %u, held %u, gap %s", wi, gw, g->next_seq,
					 g->known_last, g->held, listed ? "open" : "closed");
				return 0;
			}
			continue;
		}
		uint32_t held = 0;
		for (unsigned slot = 0; slot < HC_SEQ_WINDOW; slot++) {
			const struct rte_mbuf *m = g->win[slot];
			if (m == NULL)
				continue;
			held++;
			const uint8_t *p = hc_mbuf_payload(m);
			struct hc_hdr h;
			memcpy(&h, p, sizeof(h));
			uint32_t seq = ntohl(h.sequence);
			if ((seq & (HC_SEQ_WINDOW - 1)) == slot && ntohs(h.gateway_id) == gw &&
			    ntohl(h.gateway_incarnation) == g->incarnation &&
			    !hc_seq_after(seq, g->next_seq)) {
				/* it will be delivered as seq + 64 (or make that one a
				 * "duplicate") */
				FZ_KNOWN("heldbehind", "worker %u gateway %u (inc %u, next %u) still holds "
					 "sequence %u in slot %u: behind the window", wi, gw,
					 g->incarnation, g->next_seq, seq, slot);
				return 0;
			}
			if ((seq & (HC_SEQ_WINDOW - 1)) != slot || ntohs(h.gateway_id) != gw ||
			    ntohl(h.gateway_incarnation) != g->incarnation ||
			    !hc_seq_after(seq, g->next_seq) ||
			    (uint32_t)(seq - g->next_seq) >= HC_SEQ_WINDOW)
				FZ_FAIL("worker %u gateway %u (inc %u, next %u) holds in slot %u "
					"sequence %u of gateway %u inc %u", wi, gw, g->incarnation,
					g->next_seq, slot, seq, ntohs(h.gateway_id),
					ntohl(h.gateway_incarnation));
		}
		if (held != g->held)
			FZ_FAIL("worker %u gateway %u: %u datagrams in the window, held says %u", wi, gw,
				held, g->held);
		held_total += held;
		if (listed && (g->gap_index >= s->n_gaps || s->gap_list[g->gap_index] != gw))
			FZ_FAIL("worker %u gateway %u: gap_index %u not in the gap list", wi, gw,
				g->gap_index);
		/* (a gap listed with nothing missing is harmless: the next NACK
		 * rounds find nothing to ask and close it; a gateway that said
		 * SHUTDOWN, waiting for the sweep budget to be forgotten (its
		 * users then go, whatever was missing), is asked for nothing:
		 * it will not answer) */
		if (!listed && gap_pending(g) && !g->shutdown_due &&
		    !fz_run.stopped) /* the stop path gives all up */
			FZ_FAIL("worker %u gateway %u (next %u, known %u, held %u): something is "
				"missing but no gap is open (nobody will ask for it)", wi, gw,
				g->next_seq, g->known_last, g->held);
	}
	if (held_total != s->held_total || held_total > HC_SEQ_MAX_HELD ||
	    s->st.held_now != s->held_total)
		FZ_FAIL("worker %u: %" PRIu64 " datagrams held, held_total %u, held_now %" PRIu64, wi,
			held_total, s->held_total, s->st.held_now);
	for (uint32_t i = 0; i < s->n_gaps; i++)
		if (s->gap_list[i] >= s->max_gateways || s->gw[s->gap_list[i]].gap_index != i)
			FZ_FAIL("worker %u: gap list entry %u (gateway %u) does not point back", wi, i,
				s->gap_list[i]);
	return held_total;
}

void hc_fz_check_quiescent(void)
{
	const struct hc_dataplane *dp = &fz_run.dp;
	uint64_t held = 0, rooms[FZ_ROOMS] = {0};
	int full = 0;
	for (unsigned wi = 0; wi < fz_run.n_workers; wi++) {
		const struct hc_worker *w = dp->workers[wi];
		if (hc_handoff_staged(&w->ho) != 0 || w->n_local != 0)
			FZ_FAIL("worker %u: ops staged after the pump", wi);
		for (unsigned s = 0; s < w->ho.n; s++)
			if ((w->ho.dgram_in[s] != NULL && !rte_ring_empty(w->ho.dgram_in[s])) ||
			    (w->ho.op_in[s] != NULL && !rte_ring_empty(w->ho.op_in[s])))
				FZ_FAIL("worker %u: hand-off rings from worker %u not empty after the pump: "
					"%u datagrams, %u ops", wi, s,
					w->ho.dgram_in[s] ? rte_ring_count(w->ho.dgram_in[s]) : 0,
					w->ho.op_in[s] ? rte_ring_count(w->ho.op_in[s]) : 0);
		check_members(wi, &w->members);
		if (fz_run.tolerated)
			return;
		held += check_sequencer(wi, &w->seq);
		held += rte_ring_count(w->from_ctl_tx); /* frames not yet sent */
		if (fz_run.tolerated)
			return;
		for (uint32_t r = 1; r < FZ_ROOMS; r++)
			rooms[r] += w->members.room_users[r];
		full |= w->members.st.table_full != 0;
	}
	fz_run.table_full_seen |= full;
	if (fz_run.book.other != 0)
		FZ_FAIL("the workers reported changes of rooms >= %u", FZ_ROOMS);
	if (!fz_run.table_full_seen && !fz_run.answers_in_flight) {
		for (uint32_t r = 1; r < FZ_ROOMS; r++)
			if (fz_run.book.room[r] != (int64_t)rooms[r])
				FZ_FAIL("room %u: the workers count %" PRIu64 " users, the changes they "
					"reported add up to %" PRId64, r, rooms[r], fz_run.book.room[r]);
	}
	unsigned in_use = fz_run.pool_free0 - hc_fz_pool_free_count();
	if (in_use != held + fz_run.in_burst)
		FZ_FAIL("%u mbufs are out of the pool; the sequencers hold (or the control "
			"core's frames wait) %" PRIu64 ", the next burst %u", in_use, held,
			fz_run.in_burst);
}

uint32_t hc_fz_gateway_floor(uint16_t gw)
{
	const struct hc_worker *w = fz_run.dp.workers[gw % fz_run.n_workers];
	return w->seq.gw[gw].floor_inc;
}
