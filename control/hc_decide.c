/*
 * hc_decide.c - the control core's decision loop (see hc_decide.h).
 */
#include "hc_decide.h"

#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "hc_worker.h"

#define CHANGE_BURST 512

int hc_decide_init(struct hc_decide *d, struct hc_dataplane *dp,
		   const struct hc_policy *pol, uint32_t max_reservations)
{
	memset(d, 0, sizeof(*d));
	d->dp = dp;
	d->pol = pol;
	uint64_t hz = rte_get_tsc_hz();
	d->tick_tsc = hz / 1000 * pol->balance_interval_ms;
	d->next_tick = rte_rdtsc() + d->tick_tsc;
	return hc_rooms_init(&d->book, "hc_book", pol, dp->cfg->max_rooms,
			     max_reservations, hz);
}

void hc_decide_free(struct hc_decide *d)
{
	hc_rooms_free(&d->book);
}

static void apply_change(struct hc_decide *d, const struct hc_change *c, uint64_t now)
{
	if (c->from_room != 0)
		hc_rooms_leave(&d->book, c->from_room);
	if (c->to_room != 0) {
		uint8_t pool = d->pol->index_of[c->pool_id];
		if (pool == HC_NO_POOL) {
			d->st.unknown_pool++;
			pool = 0;
		}
		hc_rooms_record_join(&d->book, c->to_room, pool, c->user_id, now);
	}
}

unsigned hc_decide_poll(struct hc_decide *d, uint64_t now)
{
	struct hc_change chg[CHANGE_BURST];
	unsigned total = 0;

	for (unsigned i = 0; i < d->dp->n_workers; i++) {
		struct rte_ring *r = d->dp->workers[i]->to_ctl_changes;
		unsigned n = rte_ring_dequeue_burst_elem(r, chg, sizeof(chg[0]), CHANGE_BURST, NULL);
		for (unsigned k = 0; k < n; k++)
			apply_change(d, &chg[k], now);
		total += n;
	}
	d->st.changes += total;
	hc_rooms_expire(&d->book, now);
	if (now >= d->next_tick) {
		hc_rooms_retire(&d->book, now);
		d->next_tick = now + d->tick_tsc;
		d->st.ticks++;
	}
	return total;
}

uint32_t hc_decide_mismatches(const struct hc_decide *d, const struct hc_room_view *v)
{
	uint32_t bad = 0;
	for (uint32_t r = 1; r < v->max_rooms; r++) {
		const struct hc_room *rm = &d->book.room[r];
		uint32_t users = rm->state == HC_ROOM_LIVE ? rm->users : 0;
		bad += users != v->room_users[r];
	}
	return bad;
}
