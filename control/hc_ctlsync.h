/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_ctlsync.h - when has every worker applied the decisions answered so
 * far, and has the control core read every change they made?  Sync
 * periods over the control channel, numbered, as RCU's grace periods are
 * over readers.
 *
 * Why: an admitted move out of a room leaves the seat book counting the
 * user in both rooms until the worker reports the user out
 * (HC_CHG_VACATED), and the room sits balance plans out meanwhile
 * (hc_rooms_vacating).  A report that never comes (a decision the worker
 * found no request for: stray_decisions) must not keep the room out for
 * good, and one that is only late (a worker held up, for any time) must
 * not be taken for lost: a plan would count the moved users twice.  A
 * timer cannot tell the two apart; this can.  A mark is stamped with the
 * open period's number (hc_ctlsync_stamp); once that period has ended
 * (the field settled at or past it), every decision answered before the
 * mark was applied by its worker and every change that worker made then
 * has been read: a report not read by then never comes.
 *
 * How: a period ends when, for each worker, the decisions it has applied
 * (hc_chan_decisions_done, published after the changes they made) reach
 * what had been given it when the period began, and what waited then in
 * the control core's backlog for it (given later, in order), and the
 * control core has then taken from that worker's change ring every
 * change pushed when that was seen (the channel counts both,
 * hc_ctlmsg.h).  Counters only: no clock,
 * and a worker held up for an hour keeps its marks for an hour.  Control
 * lcore only.
 */
#ifndef HC_CTLSYNC_H
#define HC_CTLSYNC_H

#include <stdint.h>

#include "hc_dataplane.h"

struct hc_ctlsync {
	uint32_t open;    /* the number marks made now are stamped with:
	                     settled + 1, or + 2 while a period runs */
	uint32_t settled; /* every period up to this one has ended */
	int running;      /* period open - 1 is being waited for */
	int stamped;      /* a mark has been stamped with open */
	uint64_t periods; /* periods ended (ctl_sync_periods) */
	uint64_t target[HC_MAX_WORKERS];   /* decisions given and in the
	                                      backlog when the period began */
	uint64_t need[HC_MAX_WORKERS];     /* changes taken once the period's
	                                      are read (UINT64_MAX: its worker
	                                      not seen at target yet) */
};

void hc_ctlsync_init(struct hc_ctlsync *s);

/* The number to stamp a mark made now with. */
static inline uint32_t hc_ctlsync_stamp(struct hc_ctlsync *s)
{
	s->stamped = 1;
	return s->open;
}

/* Move on: end the running period if its workers are there, begin the
 * next if a mark waits for one; backlog[i]: the decisions waiting for
 * worker i's ring.  A few loads a worker; call it after taking the
 * changes, each poll. */
void hc_ctlsync_poll(struct hc_ctlsync *s, const struct hc_dataplane *dp,
		     const uint32_t *backlog);

#endif /* HC_CTLSYNC_H */
