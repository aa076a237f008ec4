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
#include <rte_prefetch.h>

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

/*
 * Gone users.  A user taken out of every room (a LEAVE, a sweep, a
 * snapshot's drop) keeps its key and slot: the slot's room is 0 and it
 * is in the list of kept keys (gone_link).  The user's next JOIN finds
 * its own slot where it was and takes it back (hc_members_key_for_new):
 * no insert into the index then, and no delete at the LEAVE.  Keys are
 * kept so while the index holds at most hc_members_gone_keep_max keys
 * (capacity less 1/64); past that, a user gone is deleted at once, as
 * every one was before (hc_members_gone_or_del): where more distinct
 * users come than the table holds, the kept keys stop growing and the
 * 1/64 stays free positions for new users, which then need no eviction;
 * once new users took them, the worker's timers give them back, deleting
 * the longest gone users' keys (hc_members_gone_trim).  A new user's key
 * takes a free or never-used position while there is one; when the index
 * holds capacity keys (new keys outpaced the trim), a gone user's key is
 * deleted for it inside its op (hc_members_gone_evict): the longest
 * gone's (the list is a queue threaded through the slots, in the order
 * they went; a LEAVE writes its own slot and the one gone just before, a
 * line likely still in cache).  A gone user who came back stays in the
 * list and is skipped when reached (its link cleared), so the list holds
 * every gone user and, at worst, as many who came back.  Between ops a
 * key in the index is a user in a room or a gone user: a slot with room
 * 0 and a link is a gone user's.
 */
/* The most keys the index may hold for a LEAVE to keep its user's. */
static inline uint32_t hc_members_gone_keep_max(const struct hc_members *m)
{
	return m->capacity - m->capacity / 64;
}

/* The op's user, found at *at in no room, is a gone user: its position
 * (and *at becomes -1: to every op, a user not in the table), else -1. */
static inline int32_t hc_members_take_gone(const struct hc_members *m, int32_t *at)
{
	if (*at < 0 || m->slot[*at].room != 0)
		return -1;
	int32_t gone = *at;
	*at = -1;
	return gone;
}

static inline void hc_members_gone_keep(struct hc_members *m, int32_t at)
{
	struct hc_slot *s = &m->slot[at];
	if (s->gone_link == 0) {
		s->gone_link = HC_SLOT_GONE_LAST;
		if (m->gone_head == 0)
			m->gone_head = (uint32_t)at + 1;
		else
			m->slot[m->gone_tail].gone_link = (uint32_t)at + 1;
		m->gone_tail = (uint32_t)at;
	}
	HC_RELAXED_ADD(&m->st.gone_keys, 1);
}

/* The user at `at` (its key's index entry at hint, from a bulk lookup,
 * or UINT32_MAX) is taken out of its room: its key is kept, or deleted
 * when the index holds more than hc_members_gone_keep_max keys, but for
 * a user still in the list (back since it went): a free position must
 * never be in it, so its key is kept (the list does not grow). */
static inline void hc_members_gone_or_del(struct hc_members *m, int32_t at, uint64_t user,
					  uint32_t hint)
{
	if (likely(m->users.ix.count <= hc_members_gone_keep_max(m)) ||
	    m->slot[at].gone_link != 0)
		hc_members_gone_keep(m, at);
	else if (hint != UINT32_MAX)
		hc_usertab_del_at(&m->users, user, (uint32_t)at, hint);
	else
		hc_usertab_del(&m->users, user);
}

/* The list's head taken off it (its link cleared): its position.  The
 * list is followed two ahead: the next one's index line is asked for
 * (its slot, asked for at the pop before, holds its key and the link
 * after it) and the one after's slot, so that a run of pops, each a
 * DRAM line or two away from the last, waits on none.  The list must
 * not be empty. */
static inline uint32_t hc_members_gone_pop(struct hc_members *m)
{
	uint32_t at = m->gone_head - 1;
	struct hc_slot *s = &m->slot[at];
	m->gone_head = s->gone_link == HC_SLOT_GONE_LAST ? 0 : s->gone_link;
	s->gone_link = 0;
	if (m->gone_head != 0) {
		const struct hc_slot *next = &m->slot[m->gone_head - 1];
		hc_keyidx_prefetch(&m->users.ix, next->user_id);
		if (next->gone_link != HC_SLOT_GONE_LAST)
			rte_prefetch0(&m->slot[next->gone_link - 1]);
	}
	return at;
}

/* The slot at `at`, just taken off the list: a gone user's key is
 * deleted, its position freed (1); a user who came back (in a room)
 * only left the list (0). */
static inline int hc_members_gone_drop_popped(struct hc_members *m, uint32_t at)
{
	const struct hc_slot *s = &m->slot[at];
	if (s->room != 0)
		return 0;
	hc_usertab_del(&m->users, s->user_id);
	HC_RELAXED_ADD(&m->st.gone_keys, (uint64_t)-1);
	return 1;
}

/* Inside an op, a new user's key needs a position: the index holds
 * capacity keys, or its home is crowded (hc_members_key_crowded).  The
 * longest gone user's key is deleted, its position freed (the next add
 * takes it), users who came back unlinked on the way.  At capacity there
 * is one while a new user may have a key (the users in rooms and the new
 * users promised one are fewer than capacity: every other key is a gone
 * user's, and every gone user is in the list).  The walk is not bounded;
 * hc_members_gone_trim, from the worker's timers, keeps the index at the
 * keep limit between ops, so that the ops come here only when new keys
 * outpace it (docs/architecture.md, "Gone users"). */
static inline void hc_members_gone_evict(struct hc_members *m)
{
	while (m->gone_head != 0)
		if (hc_members_gone_drop_popped(m, hc_members_gone_pop(m))) {
			HC_RELAXED_ADD(&m->st.gone_keys_evicted, 1);
			return;
		}
}

/* hc_usertab_add_absent refused user's key: its home is crowded
 * (hc_usertab.h), maybe by gone users' keys, which go one by one until
 * it fits (each at most once per LEAVE: amortised) or none is left. */
int32_t hc_members_key_crowded(struct hc_members *m, uint64_t user);

/* A key for a user in no room: its own kept one (gone: its position, or
 * -1 when it has none), or a new one.  -ENOSPC: the key's home in the
 * index is crowded (hc_usertab.h) even without gone users' keys, nothing
 * changed but those keys. */
static inline int32_t hc_members_key_for_new(struct hc_members *m, uint64_t user, int32_t gone)
{
	if (gone >= 0) {
		HC_RELAXED_ADD(&m->st.gone_keys, (uint64_t)-1);
		return gone; /* (still listed: skipped when reached) */
	}
	if (unlikely(m->users.ix.count >= m->capacity))
		hc_members_gone_evict(m);
	int32_t at = hc_usertab_add_absent(&m->users, user);
	return likely(at >= 0) ? at : hc_members_key_crowded(m, user);
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
