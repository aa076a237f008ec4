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
 * cooldown.  One writer (the worker).
 *
 * A FIFO ring of HC_PICKMEMO_KEPT records (user, pick time, leave time)
 * in the order the users left, indexed by user (hc_keyidx, sparse: the
 * ring slot is the position).  A record is made only while its pick is
 * within `window_s` (the longest cooldown asked lately); it leaves the
 * ring's head once `window_s` has passed since its user left (by then
 * its pick is past the window too), a few records at each keep and at
 * each of the worker's timer ticks (hc_pickmemo_expire); a full ring
 * pushes out its oldest (counted in `evicted` when its pick was still
 * within the window: that user comes back with no cooldown, as before
 * the memo), unless a quarter of it or more is dead: then its live
 * records are moved together first (compact: at most once every 1,024
 * keeps, one pass over the ring and one over the index: about 14 us
 * with its lines evicted, hc-bench-memo).  A record taken (its user came
 * back) is dead: it leaves the index at once, and the ring too when it
 * was among the newest (a MOVE obeyed as LEAVE + JOIN takes back the
 * record its LEAVE just made), else when the head passes it or a
 * compaction.  A filter of counts per cell (65,536 cells of a byte, keyed
 * by a seeded hash; a cell sticks at 255 until the index empties)
 * answers most users' "surely not here" with one read, so a new user's
 * slot costs one branch with the memo empty and about one cached read
 * while it holds records (it cost 4 % of the events with 1,000 records
 * and no filter; full, with a filter of 16,384 cells, 5 %, with 65,536
 * within the noise: docs/benchmarks.md, "The pick memo").  Memory is
 * fixed at start: 176 KiB (64 of records, 32 of index, 64 of filter,
 * 16 of the compaction's map).
 */
#ifndef HC_PICKMEMO_H
#define HC_PICKMEMO_H

#include <stdint.h>

#include "hc_dp_counters.h" /* struct hc_pickmemo_stats */
#include "hc_keyidx.h"

/* Records at most (a power of two): users picked and gone within the
 * window, and records taken that wait for the head or a compaction. */
#define HC_PICKMEMO_KEPT 4096u
/* Cells of the filter (a power of two): a cell counts the records whose
 * users hash there, up to 255, where it sticks (never counted down: it
 * only costs lookups). */
#define HC_PICKMEMO_CELLS 65536u

struct hc_pickmemo_rec {
	uint64_t user_id;   /* the key (hc_keyidx: a record's first 8 bytes) */
	uint32_t picked_at; /* the user's last pick, the worker's seconds;
	                       0: taken or pushed out (not in the index)   */
	uint32_t left_at;   /* when the user left                          */
};

struct hc_pickmemo {
	uint8_t *filter;              /* [HC_PICKMEMO_CELLS] (first: with
	                                 ix.count, what a take reads)     */
	uint64_t filter_seed;
	struct hc_keyidx ix;          /* user -> ring slot               */
	struct hc_pickmemo_rec *rec;  /* [HC_PICKMEMO_KEPT], a FIFO ring,
	                                 then a compaction's map of old
	                                 slot to new (uint32_t each)      */
	uint32_t head, tail;          /* free-running; slot = n % KEPT  */
	uint32_t window_s;            /* the longest cooldown asked lately */
	uint32_t window_at;           /* when it was last asked           */
	uint32_t sticky;              /* filter cells at 255 (cleared when
	                                 the index empties)              */
	struct hc_pickmemo_stats st;  /* relaxed stores                  */
};

/* Records in the ring that are not indexed (taken, or replaced): every
 * live record in [head, tail) is, and nothing else is. */
static inline uint32_t hc_pickmemo_dead(const struct hc_pickmemo *p)
{
	return p->tail - p->head - p->ix.count;
}

/* An empty memo; window 0 (nothing kept until a cooldown is asked).
 * 0 or -ENOMEM. */
int hc_pickmemo_init(struct hc_pickmemo *p, const char *name, int socket);
void hc_pickmemo_free(struct hc_pickmemo *p);

/* A pick of cooldown_s is asked at now.  The window is the longest
 * cooldown asked within its own length: a longer one widens it at once; a
 * shorter one narrows it once the longer has not been asked for that
 * long (a reload that shortened cooldown_ms). */
void hc_pickmemo_window(struct hc_pickmemo *p, uint32_t cooldown_s, uint32_t now);

/* Is a pick at picked_at (!= 0) still within the window at now? */
static inline int hc_pickmemo_within(const struct hc_pickmemo *p, uint32_t picked_at,
				     uint32_t now)
{
	return now - picked_at < p->window_s;
}

/* User (absent from the table now) was last picked at picked_at (!= 0,
 * within the window: the caller checks with hc_pickmemo_within) and left
 * at now (never earlier than the last keep's now): kept. */
void hc_pickmemo_keep(struct hc_pickmemo *p, uint64_t user_id, uint32_t picked_at,
		      uint32_t now);

/* User came back at now: its last pick time, forgotten here, or 0 (none
 * kept, or past the window).  One branch when the memo is empty. */
uint32_t hc_pickmemo_take_slow(struct hc_pickmemo *p, uint64_t user_id, uint32_t now);

/* The user's filter cell: a multiplicative hash of the seeded id. */
static inline uint32_t hc_pickmemo_cell(const struct hc_pickmemo *p, uint64_t user_id)
{
	return (uint32_t)(((user_id ^ p->filter_seed) * 0xff51afd7ed558ccdull) >>
			  (64 - __builtin_ctz(HC_PICKMEMO_CELLS)));
}

static inline uint32_t hc_pickmemo_take(struct hc_pickmemo *p, uint64_t user_id, uint32_t now)
{
	if (__builtin_expect(p->ix.count == 0, 1) ||
	    p->filter[hc_pickmemo_cell(p, user_id)] == 0)
		return 0;
	return hc_pickmemo_take_slow(p, user_id, now);
}

/* Up to `budget` records at the head that were taken, or whose users
 * left a window ago or more, leave the ring (the worker's timers). */
void hc_pickmemo_expire(struct hc_pickmemo *p, uint32_t now, unsigned budget);

#endif /* HC_PICKMEMO_H */
