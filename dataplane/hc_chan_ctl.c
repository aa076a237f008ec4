/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_chan_ctl.c - the control core's end of the control channel
 * (hc_ctlmsg.h); the worker's end is hc_chan.c.
 *
 * One SP/SC ring per worker and direction: the control core is the only
 * consumer of changes and places and the only producer of decisions and
 * frames, each worker the other side.  A worker without a ring (a
 * benchmark or test run without the control core) takes and gives nothing.
 */
#include <errno.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "hc_ctlmsg.h"
#include "hc_dataplane.h"
#include "hc_ring_copy.h"
#include "hc_worker_state.h"

unsigned hc_chan_take_changes(const struct hc_dataplane *dp, unsigned worker,
			      struct hc_change *buf, unsigned max)
{
	struct hc_worker *w = dp->workers[worker];
	if (w->to_ctl_changes == NULL)
		return 0;
	unsigned taken = hc_ring_take(w->to_ctl_changes, buf, sizeof(*buf), max);
	w->changes_taken += taken; /* (the control core's own line) */
	return taken;
}

unsigned hc_chan_take_places(const struct hc_dataplane *dp, unsigned worker,
			     struct hc_place_req *buf, unsigned max)
{
	struct rte_ring *r = dp->workers[worker]->to_ctl_places;
	return r == NULL ? 0 : hc_ring_take(r, buf, sizeof(*buf), max);
}

unsigned hc_chan_give_decisions(const struct hc_dataplane *dp, unsigned worker,
				const struct hc_decision *dec, unsigned n)
{
	struct hc_worker *w = dp->workers[worker];
	if (w->from_ctl_decisions == NULL)
		return 0;
	unsigned given = rte_ring_enqueue_burst_elem(w->from_ctl_decisions, dec, sizeof(*dec), n,
						     NULL);
	w->decisions_given += given; /* (the control core's own line) */
	return given;
}

/* Who sends for gateway gw on port: its home, or any worker with a queue
 * there. */
static struct hc_worker *sender_for(const struct hc_dataplane *dp, uint16_t gw, uint16_t port)
{
	struct hc_worker *w = dp->workers[gw % dp->n_workers];
	if (w->txq[port] != HC_NO_TXQ && w->from_ctl_tx != NULL)
		return w;
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (dp->workers[i]->txq[port] != HC_NO_TXQ && dp->workers[i]->from_ctl_tx != NULL)
			return dp->workers[i];
	return NULL;
}

int hc_chan_give_frame(const struct hc_dataplane *dp, uint16_t gw, struct rte_mbuf *m)
{
	struct hc_worker *w = m->port < RTE_MAX_ETHPORTS ? sender_for(dp, gw, m->port) : NULL;
	if (w == NULL)
		return -ENODEV;
	return rte_ring_enqueue(w->from_ctl_tx, m) == 0 ? 0 : -ENOBUFS;
}

int hc_chan_quiet(const struct hc_dataplane *dp, unsigned worker)
{
	const struct hc_worker *w = dp->workers[worker];
	/* (picks_open: a scan still running; the exact test, every pick's
	 * PICK_END taken, is the control core's picks_in_flight) */
	return __atomic_load_n(&w->picks_open, __ATOMIC_RELAXED) == 0 &&
	       (w->to_ctl_changes == NULL || rte_ring_empty(w->to_ctl_changes)) &&
	       (w->from_ctl_decisions == NULL || rte_ring_empty(w->from_ctl_decisions)) &&
	       __atomic_load_n(&w->outstanding, __ATOMIC_RELAXED) == 0;
}

int hc_chan_tx_empty(const struct hc_dataplane *dp, unsigned worker)
{
	const struct hc_worker *w = dp->workers[worker];
	return w->from_ctl_tx == NULL || rte_ring_empty(w->from_ctl_tx);
}

uint64_t hc_chan_decisions_given(const struct hc_dataplane *dp, unsigned worker)
{
	return dp->workers[worker]->decisions_given;
}

uint64_t hc_chan_decisions_done(const struct hc_dataplane *dp, unsigned worker)
{
	return __atomic_load_n(&dp->workers[worker]->decisions_done, __ATOMIC_ACQUIRE);
}

uint64_t hc_chan_changes_taken(const struct hc_dataplane *dp, unsigned worker)
{
	return dp->workers[worker]->changes_taken;
}

unsigned hc_chan_changes_waiting(const struct hc_dataplane *dp, unsigned worker)
{
	const struct rte_ring *r = dp->workers[worker]->to_ctl_changes;
	return r == NULL ? 0 : rte_ring_count(r);
}
