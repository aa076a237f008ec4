/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_members_pvt.h - what hc_members.c and hc_admission.c share, and nobody
 * else uses: putting a user in a room (the room's counter, the owner's
 * user count, digest and snapshot mark).
 *
 * An admitted seat request (hc_admission.c) seats its user exactly as a JOIN
 * without admission does (hc_members.c), so both need these.  Inline: they
 * are on the per-event path.
 */
#ifndef HC_MEMBERS_PVT_H
#define HC_MEMBERS_PVT_H

#include <stdint.h>


#include <rte_branch_prediction.h>

#include "hc_members_state.h"
#include "hc_proto.h"

/* This worker's user count of a room, read by the control core. */
/* Snapshot generations run 1..255, 1, ... (hc_snapshot.c): a is older
 * than b in serial order (a sweep or member replayed after a seat
 * decision, behind a newer snapshot). */
static inline int snap_gen_older(uint8_t a, uint8_t b)
{
	return (int8_t)(uint8_t)(a - b) < 0;
}

static inline void hc_members_room_add(struct hc_members *m, uint32_t room, int32_t d)
{
	HC_RELAXED_ADD(&m->room_users[room], (uint32_t)d);
}

/* One change for the control core (what changed, a seat request, a
 * notice), appended to `changes` when reporting is on; flags: HC_CHGF_*
 * (a seat request's), else 0. */
static inline void hc_members_report(struct hc_members *m, uint64_t user, uint32_t from,
				     uint32_t to, uint16_t pool, uint16_t gw, uint16_t kind,
				     uint16_t flags)
{
	if (m->changes == NULL)
		return;
	if (unlikely(m->n_changes == m->changes_cap && m->changes_full != NULL))
		m->changes_full(m->changes_ctx); /* a long sweep: hand them over */
	m->changes[m->n_changes++] = (struct hc_change){.user_id = user, .from_room = from,
		.to_room = to, .pool_id = pool, .gateway_id = gw, .kind = kind, .flags = flags};
}

/* Another gateway took user (in room at old_gw): tell old_gw at once
 * (HC_CHG_SUPERSEDED, answered by an ASSIGN SUPERSEDED) that it no longer
 * holds the user, rather than let its digest differ until it notices the
 * user is gone. */
static inline void hc_members_tell_taken(struct hc_members *m, uint64_t user, uint32_t room,
					 uint16_t old_gw)
{
	hc_members_report(m, user, room, room, 0, old_gw, HC_CHG_SUPERSEDED, 0);
}

/* The user at `at` leaves the table (a LEAVE, a sweep, a snapshot's
 * drop): a pick within the longest cooldown asked lately is remembered,
 * so that a MOVE obeyed as LEAVE + JOIN brings the user back with its
 * cooldown (hc_pickmemo.h; the new slot takes it back).  A branch for a
 * user never picked, two for one picked long ago. */
static inline void hc_members_leaving(struct hc_members *m, int32_t at, uint64_t user)
{
	uint32_t picked = m->slot[at].picked_at;
	if (unlikely(picked != 0) && hc_pickmemo_within(&m->memo, picked, m->now_s))
		hc_pickmemo_keep(&m->memo, user, picked, m->now_s);
}

/* The user at position `at` is now in `room` (0: none), from `cur`,
 * owned by gw.  The owners' membership digests follow; when the owner
 * changes (a new user, a user gone, or a user another gateway took: the
 * old owner is told), the per-gateway counts follow and the old owner's
 * snapshot mark goes. */
static inline void hc_members_place(struct hc_members *m, int32_t at, uint64_t user,
				    uint32_t cur, uint32_t room, uint16_t gw)
{
	struct hc_slot *s = &m->slot[at];
	if (cur != 0)
		HC_RELAXED_ADD(&m->gw_digest[s->gw], -hc_member_digest(user, cur));
	if (room != 0)
		HC_RELAXED_ADD(&m->gw_digest[gw], hc_member_digest(user, room));
	if (cur == 0 || room == 0 || s->gw != gw) {
		if (cur != 0) {
			uint16_t old = s->gw;
			if (room != 0)
				hc_members_tell_taken(m, user, cur, old);
			HC_RELAXED_ADD(&m->gw_users[old], (uint32_t)-1);
			if (s->mark != 0 && s->mark == m->snap_gen_now[old] &&
			    m->snap_marked[old] > 0)
				m->snap_marked[old]--;
		}
		if (room != 0) {
			HC_RELAXED_ADD(&m->gw_users[gw], 1);
			s->gw = gw;
		}
		s->mark = 0;
	}
	s->room = room;
}

#endif /* HC_MEMBERS_PVT_H */
