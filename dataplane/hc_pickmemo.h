/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_pickmemo.h - the last pick time of users who left this worker's
 * table soon after the balancer picked them, so that a user who comes
 * back comes back with its cooldown.
 *
 * A user's last pick time lives in its slot (hc_slot.picked_at), and a
 * slot is the user's only while the user is in the table.  A gateway may
 * obey a MOVE as LEAVE + JOIN (docs/architecture.md, "Directives"): the
 * LEAVE frees the slot, the JOIN takes a fresh one, and without this
 * memo the user could be picked again at once, however long the
 * cooldown.  One writer (the worker); nothing here is on the path of a
 * user never picked.
 *
 * A FIFO ring of HC_PICKMEMO_KEPT records (user, pick time), indexed by
 * user (hc_keyidx, sparse: the ring slot is the position).  A record is
 * kept only while its pick is within `window_s` (the longest cooldown
 * asked of this worker); a full ring pushes out its oldest record
 * (counted in `evicted` when it was still within the window: that user
 * comes back with no cooldown, as before the memo).  A record taken
 * (its user came back) leaves the index at once and its ring slot when
 * the head passes it.  Memory is fixed at start: ~160 KiB.
 */
#ifndef HC_PICKMEMO_H
#define HC_PICKMEMO_H

#include <stdint.h>

#include "hc_dp_counters.h" /* struct hc_pickmemo_stats */
#include "hc_keyidx.h"

/* Records kept at most (a power of two): users picked and gone within a
 * cooldown at once.  A MOVE obeyed as LEAVE + JOIN holds its record for
 * the moment between the two. */
#define HC_PICKMEMO_KEPT 4096u

struct hc_pickmemo_rec {
	uint64_t user_id;   /* the key (hc_keyidx: a record's first 8 bytes) */
	uint32_t picked_at; /* the user's last pick, the worker's seconds   */
	uint32_t live;      /* 1: in the index; 0: taken, or never indexed  */
};

struct hc_pickmemo {
	struct hc_keyidx ix;          /* user -> ring slot               */
	struct hc_pickmemo_rec *rec;  /* [HC_PICKMEMO_KEPT], a FIFO ring  */
	uint32_t head, tail;          /* free-running; slot = n % KEPT  */
	uint32_t window_s;            /* kept while now - picked_at < it  */
	struct hc_pickmemo_stats st;  /* relaxed stores                  */
};

/* An empty memo; window 0 (nothing kept until a cooldown is asked).
 * 0 or -ENOMEM. */
int hc_pickmemo_init(struct hc_pickmemo *p, const char *name, int socket);
void hc_pickmemo_free(struct hc_pickmemo *p);

/* Cooldowns of `cooldown_s` are asked: keep records that long. */
static inline void hc_pickmemo_window(struct hc_pickmemo *p, uint32_t cooldown_s)
{
	if (cooldown_s > p->window_s)
		p->window_s = cooldown_s;
}

/* User (absent from the table now) was last picked at picked_at (!= 0)
 * and left at now: kept if within the window. */
void hc_pickmemo_keep(struct hc_pickmemo *p, uint64_t user_id, uint32_t picked_at,
		      uint32_t now);

/* User came back: its last pick time, forgotten here, or 0 (none kept).
 * A record past the window gives a pick time past every cooldown: as
 * good as 0.  One branch when the memo is empty. */
uint32_t hc_pickmemo_take_slow(struct hc_pickmemo *p, uint64_t user_id);
static inline uint32_t hc_pickmemo_take(struct hc_pickmemo *p, uint64_t user_id)
{
	if (__builtin_expect(p->ix.count == 0, 1))
		return 0;
	return hc_pickmemo_take_slow(p, user_id);
}

#endif /* HC_PICKMEMO_H */
