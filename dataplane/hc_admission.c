/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_admission.c - the control core's answer to a seat request, applied to
 * the membership: the user is seated (the JOIN it stood for) or stays
 * where they were, then the ops that waited behind the request replay in
 * order; and the seats the control core leases to this worker, which let
 * JOINs apply without asking.  Above both the membership (hc_members.c)
 * and its pending table (hc_pending.c), which know nothing of each
 * other's insides.
 */
#include <rte_prefetch.h>

#include "hc_members.h"
#include "hc_members_pvt.h"
#include "hc_pending.h"

/* An admitted request: the JOIN (or, restated, the snapshot's SET) it
 * stood for, for the user at key position at (-1: a new user), into
 * room, owned by gw.  A user moved out of a room says so
 * (HC_CHG_VACATED): the seat book frees that seat only then, as it
 * frees a LEAVE's after the worker applied it. */
static void seat(struct hc_members *m, int32_t at, uint64_t user_id, uint64_t session,
		 uint32_t room, uint16_t gw, int restated)
{
	uint32_t cur = 0;
	if (at >= 0) {
		cur = m->slot[at].room;
		hc_members_room_add(m, cur, -1);
		if (m->slot[at].gw != gw)
			HC_RELAXED_ADD(&m->st.takeovers, 1);
		if (!restated)
			HC_RELAXED_ADD(&m->st.moves, 1);
	} else {
		/* a position was kept for it (pend_new): its own kept key if
		 * it is a gone user (hc_members_pvt.h), else a new one; the
		 * index may still refuse a crowded home (hc_usertab.h): the
		 * seat book, which counted the user in room, hears the user
		 * gone again, and the gateway hears FULL, as for a JOIN
		 * refused at once */
		at = hc_usertab_lookup(&m->users, user_id);
		int32_t gone = hc_members_take_gone(m, &at);
		if (at < 0) /* (else, not reached: a user in a room) */
			at = hc_members_key_for_new(m, user_id, gone);
		if (unlikely(at < 0)) {
			HC_RELAXED_ADD(&m->st.table_full, 1);
			hc_members_report(m, user_id, room, 0, 0, gw, HC_CHG_APPLIED, 0);
			hc_members_report(m, user_id, 0, room, 0, gw, HC_CHG_FULL, 0);
			return;
		}
		m->slot[at].picked_at = hc_pickmemo_take(&m->memo, user_id, m->now_s);
		HC_RELAXED_ADD(&m->n_users, 1);
		if (!restated)
			HC_RELAXED_ADD(&m->st.joins, 1);
	}
	if (restated)
		HC_RELAXED_ADD(&m->st.snap_added, 1);
	hc_members_place(m, at, user_id, cur, room, gw);
	m->slot[at].session = session;
	hc_members_room_add(m, room, 1);
	if (cur != 0)
		hc_members_report(m, user_id, cur, room, 0, gw, HC_CHG_VACATED, 0);
}

void hc_members_prefetch(struct hc_members *m, const uint64_t *first_key, size_t stride,
			 unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t user = *(const uint64_t *)(const void *)((const uint8_t *)first_key + i * stride);
		const struct hc_pending *p = hc_pending_find(&m->pend, user);
		if (p == NULL)
			continue;
		if (p->pos1 != 0)
			rte_prefetch0(&m->slot[p->pos1 - 1]);
		else /* a new user: an admission adds its key (lookup, insert) */
			hc_keyidx_prefetch(&m->users.ix, user);
	}
}

void hc_members_decide(struct hc_members *m, uint64_t user_id, uint32_t room, int admitted,
		       uint16_t gw)
{
	struct hc_pending *p = hc_pending_find(&m->pend, user_id);
	if (p == NULL) {
		HC_RELAXED_ADD(&m->st.stray_decisions, 1);
		return;
	}
	/* the user's key has not moved since the request: all its ops waited */
	int32_t at = (int32_t)p->pos1 - 1;
	uint64_t session = p->session;
	uint32_t asks = p->asks;
	uint32_t head = hc_pending_remove(&m->pend, p);
	if (at >= 0) {
		m->slot[at].waiting = 0; /* (set by the request: hc_members.c) */
	} else {
		m->pend_new--; /* its promised key is used, or free again */
		m->gw_pend_new[gw]--;
	}
	HC_RELAXED_ADD(&m->gw_pending[gw], (uint32_t)-1); /* gw: the request's */
	if (admitted)
		seat(m, at, user_id, session, room, gw, admitted == HC_SEAT_RESTATED);
	else
		HC_RELAXED_ADD(&m->st.refused, 1); /* the user stays where they were */
	/* the user's deferred ops, in order, until one asks for a seat
	 * again: the rest wait behind that request where they are, not
	 * replayed and deferred again at every answer (a chain of k ops
	 * that each ask cost O(k^2), a worker held for seconds by one
	 * gateway's JOINs into a full room) */
	while (head != 0) {
		head = hc_pending_take_first(&m->pend, head);
		asks -= (uint32_t)hc_pending_may_ask(m->pend.replay);
		hc_members_apply(m, m->pend.replay, 1);
		if (head == 0)
			break;
		struct hc_pending *again = hc_pending_find(&m->pend, user_id);
		if (again != NULL) {
			hc_pending_attach(&m->pend, again, head, asks);
			break;
		}
	}
}

void hc_members_lease(struct hc_members *m, uint32_t room, uint32_t seats)
{
	if (room == 0 || room >= m->max_rooms)
		return; /* the control core names valid rooms */
	uint32_t have = (m->lease[room] & HC_LEASE_SEATS) + seats;
	/* the control core leases at most lease_seats << 2 (<= 16384: the
	 * policy's lease_seats <= 4096, HC_ROOMS_LEASE_GROW_MAX) at a time,
	 * well below the 15 bits the seats have */
	m->lease[room] = (uint16_t)(have < HC_LEASE_SEATS ? have : HC_LEASE_SEATS);
	HC_RELAXED_ADD(&m->st.lease_seats, seats);
}

uint32_t hc_members_revoke(struct hc_members *m, uint32_t room)
{
	if (room == 0 || room >= m->max_rooms)
		return 0;
	uint32_t left = m->lease[room] & HC_LEASE_SEATS;
	m->lease[room] = 0;
	HC_RELAXED_ADD(&m->st.lease_revokes, 1);
	HC_RELAXED_ADD(&m->st.lease_returned, left);
	return left;
}

uint32_t hc_members_lease_left(const struct hc_members *m, uint32_t room)
{
	return room != 0 && room < m->max_rooms ? m->lease[room] & HC_LEASE_SEATS : 0;
}
