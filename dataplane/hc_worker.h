/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_worker.h - the worker lcore's loop (hc_worker.c).
 */
#ifndef HC_WORKER_H
#define HC_WORKER_H

#include <stdint.h>

#include "hc_worker_state.h"

/* The lcore entry point: arg is the struct hc_worker. */
int hc_worker_main(void *arg);

/*
 * Frames a worker loop may take from its RX queues: as many as their events
 * can wait for seats without apply_ops stopping to take answers in first
 * (the worker's seat requests in flight, the snapshot members parked
 * until their sweep (each may ask, hc_ops.c) and a loop's events within
 * HC_PENDING_MAX, one apply chunk kept for ops other workers hand over),
 * each frame counted as a full 1500-byte datagram's events.  So the
 * frames a loop takes shrink as requests pile up, and none are taken
 * (throttled) from 10,240 requests in flight.  Bigger datagrams (jumbo,
 * up to HC_MAX_EVENTS) can still reach that wait, the backstop.
 */
static inline unsigned hc_worker_rx_budget(const struct hc_worker *w)
{
	const uint32_t room = HC_PENDING_MAX - HC_LOCAL_OPS;
	uint32_t pending = w->members.pend.n_pending + w->members.n_parked;
	return pending < room ? (room - pending) / (uint32_t)HC_MAX_EVENTS_MTU1500 : 0;
}


#endif /* HC_WORKER_H */
