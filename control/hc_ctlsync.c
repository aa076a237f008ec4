/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_ctlsync.c - sync periods over the control channel: when every worker
 * has applied the decisions answered before a point, and the changes it
 * made then have been read (hc_ctlsync.h says why).
 */
#include "hc_ctlsync.h"

#include <string.h>

#include "hc_ctlmsg.h"

void hc_ctlsync_init(struct hc_ctlsync *s)
{
	memset(s, 0, sizeof(*s));
	s->open = 1; /* (settled 0: no mark is past before a period ends) */
}

void hc_ctlsync_poll(struct hc_ctlsync *s, const struct hc_dataplane *dp,
		     const uint32_t *backlog)
{
	unsigned nw = dp->n_workers;
	if (s->running) {
		int ended = 1;
		for (unsigned i = 0; i < nw; i++) {
			if (s->need[i] == UINT64_MAX) {
				if (hc_chan_decisions_done(dp, i) < s->target[i]) {
					ended = 0;
					continue;
				}
				/* every change made by then is in the ring now
				 * (published before decisions_done, read after) */
				s->need[i] = hc_chan_changes_taken(dp, i) +
					     hc_chan_changes_waiting(dp, i);
			}
			if (hc_chan_changes_taken(dp, i) < s->need[i])
				ended = 0;
		}
		if (!ended)
			return;
		s->settled = s->open - 1;
		s->running = 0;
		s->periods++;
	}
	if (s->stamped) {
		for (unsigned i = 0; i < nw; i++) {
			s->target[i] = hc_chan_decisions_given(dp, i) + backlog[i];
			s->need[i] = UINT64_MAX;
		}
		s->open++;
		s->stamped = 0;
		s->running = 1;
	}
}
