/*
 * hc_decide.h - the control core's decision loop: the seat book kept
 * exact from the workers' applied changes.
 *
 * Runs on the control lcore only.  Every poll drains each worker's change
 * ring into the seat book (control/hc_rooms.h): a join consumes the user's
 * reservation or takes a seat, a leave frees one.  Every tick it expires
 * reservations and retires empty rooms.  Placement answers (PLACE ->
 * ASSIGN), admission and move directives build on this book (#3).
 */
#ifndef HC_DECIDE_H
#define HC_DECIDE_H

#include <stdint.h>

#include "hc_dataplane.h"
#include "hc_policy.h"
#include "hc_rooms.h"
#include "hc_view.h"

struct hc_decide_stats {
	uint64_t changes;      /* applied changes read from the workers */
	uint64_t unknown_pool; /* joins naming a pool not configured     */
	uint64_t ticks;
};

struct hc_decide {
	struct hc_dataplane *dp;
	const struct hc_policy *pol;
	struct hc_rooms book;
	uint64_t tick_tsc, next_tick;
	struct hc_decide_stats st;
};

int hc_decide_init(struct hc_decide *d, struct hc_dataplane *dp,
		   const struct hc_policy *pol, uint32_t max_reservations);
void hc_decide_free(struct hc_decide *d);

/* Drain the workers' rings once; run the tick when due. Returns items. */
unsigned hc_decide_poll(struct hc_decide *d, uint64_t now);

/*
 * After the workers stopped and the rings are drained: rooms where the
 * book's users differ from the view (v exact by then).  0 means exact.
 */
uint32_t hc_decide_mismatches(const struct hc_decide *d, const struct hc_room_view *v);

#endif /* HC_DECIDE_H */
