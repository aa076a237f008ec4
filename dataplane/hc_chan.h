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

/* PLACE datagram m (validated, payload at payload_off): pass its requests
 * to the control core with the address to answer; consumes m. */
void hc_chan_pass_places(struct hc_worker *w, uint16_t port, struct rte_mbuf *m,
			 const uint8_t *payload, uint16_t payload_off);

/* Tell the control core where home gateway gw is, when that changed. */
void hc_chan_learn_peer(struct hc_worker *w, uint16_t gw, const struct rte_mbuf *m);

/* Transmit frames the control core built; returns how many were taken. */
unsigned hc_chan_tx(struct hc_worker *w);

/* Sequencer hook: ask gateway gw for a resync (the control core sends it). */
void hc_chan_ask_resync(void *ctx, uint16_t gw, uint32_t reason, uint32_t first,
			uint32_t last);

/* Snapshot hook: ask gateway gw for a new snapshot. */
void hc_chan_ask_snapshot(void *ctx, uint16_t gw);


/* Seat requests in flight are exactly the pending users: publish that
 * count for the control core's stop check (relaxed store). */
static inline void hc_chan_publish_outstanding(struct hc_worker *w)
{
	__atomic_store_n(&w->outstanding, (uint64_t)w->members.pend.n_pending, __ATOMIC_RELAXED);
}

#endif /* HC_CHAN_H */
