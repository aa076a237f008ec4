/*
 * hc_decide.h - the control core's decision loop: the seat book kept
 * exact from the workers' applied changes.
 *
 * Runs on the control lcore only.  Every poll drains each worker's change
 * ring into the seat book (control/hc_rooms.h): a join consumes the user's
 * reservation or takes a seat, a leave frees one.  Then it answers the
 * PLACE requests the workers passed on: each gets a room (and a reserved
 * seat) from the book and an ASSIGN record to its gateway (control/hc_tx.h).
 * Changes are read before requests, so a placement sees every change
 * already reported.  Every tick it retires empty rooms; reservations expire
 * on every poll.  Admission refusals and move directives build on this
 * (#3).
 */
#ifndef HC_DECIDE_H
#define HC_DECIDE_H

#include <stdint.h>

#include "hc_dataplane.h"
#include "hc_policy.h"
#include "hc_rooms.h"
#include "hc_tx.h"
#include "hc_view.h"

struct hc_decide_stats {
	uint64_t changes;      /* applied changes read from the workers */
	uint64_t unknown_pool; /* joins or PLACEs naming an unknown pool */
	uint64_t places;       /* PLACE requests answered                */
	uint64_t ticks;
};

struct hc_decide {
	struct hc_dataplane *dp;
	const struct hc_policy *pol;
	struct hc_rooms book;
	struct hc_tx tx;
	uint64_t tick_tsc, next_tick;
	struct hc_decide_stats st;
};

int hc_decide_init(struct hc_decide *d, struct hc_dataplane *dp,
		   const struct hc_policy *pol, uint32_t max_reservations,
		   uint32_t incarnation);
void hc_decide_free(struct hc_decide *d);

/* Drain the workers' rings once; run the tick when due. Returns items. */
unsigned hc_decide_poll(struct hc_decide *d, uint64_t now);

/*
 * After the workers stopped and the rings are drained: rooms where the
 * book's users differ from the view (v exact by then).  0 means exact.
 */
uint32_t hc_decide_mismatches(const struct hc_decide *d, const struct hc_room_view *v);

#endif /* HC_DECIDE_H */
