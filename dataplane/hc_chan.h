/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_chan.h - the worker's end of the control channel (hc_chan.c).
 */
#ifndef HC_CHAN_H
#define HC_CHAN_H

#include <stdint.h>

#include "hc_worker_state.h"

/* Hand the changes gathered in chg_buf (members.n_changes of them) to the
 * control core; waits while its ring is full.  Also the members' hook for
 * a long sweep (changes_full; ctx is the worker). */
void hc_chan_push_changes(void *ctx);

/* Apply the control core's answers and pick requests; returns how many. */
unsigned hc_chan_drain_decisions(struct hc_worker *w);

/* PLACE datagram m (validated, fresh; payload at payload): pass its
 * requests to the control core with the address noted for it
 * (hc_chan_note_peer); consumes m. */
void hc_chan_pass_places(struct hc_worker *w, struct rte_mbuf *m, const uint8_t *payload);

/*
 * A gateway's address: note where datagram m came from (and the key slot
 * that sealed it) before the sequencer judges it; commit it as home
 * gateway gw's address only if the datagram was fresh, and, once an
 * address is known, only if it was the newest the gateway sent (a replay
 * of an unseen older one moves nothing); tells the control core when it
 * changed.  An address that flips again within a second of
 * its last change is two live sources under one id: reported as a
 * conflict.  Report a conflict with the noted address as the second
 * source (the sequencer saw an older incarnation long after a takeover).
 */
void hc_chan_note_peer(struct hc_worker *w, const struct rte_mbuf *m);
void hc_chan_commit_peer(struct hc_worker *w, uint16_t gw, int newest);
void hc_chan_report_conflict(struct hc_worker *w, uint16_t gw, uint32_t incarnation);

/* Transmit frames the control core built; returns how many were taken. */
unsigned hc_chan_tx(struct hc_worker *w);

/* Sequencer hook: ask gateway gw for a resync (the control core sends it). */
void hc_chan_ask_resync(void *ctx, uint16_t gw, uint32_t reason, uint32_t first,
			uint32_t last);

/* Snapshot hook: ask gateway gw for a new snapshot. */
void hc_chan_ask_snapshot(void *ctx, uint16_t gw);


/* Seat requests in flight are exactly the pending users: publish that
 * count for the control core's stop check (relaxed store; only when it
 * changed, so that a loop with nothing decided leaves the line the
 * control core reads alone). */
static inline void hc_chan_publish_outstanding(struct hc_worker *w)
{
	HC_RELAXED_PUBLISH(&w->outstanding, (uint64_t)w->members.pend.n_pending);
}

#endif /* HC_CHAN_H */
