/*
 * hc_decide.c - the control core's decision loop (see hc_decide.h).
 */
#include "hc_decide.h"

#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "hc_proto.h"
#include "hc_worker.h"

#define CHANGE_BURST 512

int hc_decide_init(struct hc_decide *d, struct hc_dataplane *dp,
		   const struct hc_policy *pol, uint32_t max_reservations,
		   uint32_t incarnation)
{
	memset(d, 0, sizeof(*d));
	d->dp = dp;
	d->pol = pol;
	uint64_t hz = rte_get_tsc_hz();
	d->tick_tsc = hz / 1000 * pol->balance_interval_ms;
	d->next_tick = rte_rdtsc() + d->tick_tsc;
	int rc = hc_rooms_init(&d->book, "hc_book", pol, dp->cfg->max_rooms,
			       max_reservations, hz);
	if (rc != 0)
		return rc;
	rc = hc_tx_init(&d->tx, dp, incarnation);
	if (rc != 0)
		hc_rooms_free(&d->book);
	return rc;
}

void hc_decide_free(struct hc_decide *d)
{
	hc_tx_free(&d->tx);
	hc_rooms_free(&d->book);
}

/* Answer one PLACE: a room with a reserved seat, or NO_ROOM. */
static void answer_place(struct hc_decide *d, const struct hc_place_req *q, uint64_t now)
{
	uint8_t pool = d->pol->index_of[q->pool_id];
	uint32_t room = 0;
	if (pool == HC_NO_POOL)
		d->st.unknown_pool++;
	else
		room = hc_rooms_place(&d->book, pool, q->user_id, now);
	struct hc_assign a = {
		.user_id = rte_cpu_to_be_64(q->user_id),
		.request_id = rte_cpu_to_be_32(q->request_id),
		.room_id = rte_cpu_to_be_32(room),
		.refused_room = 0,
		.pool_id = rte_cpu_to_be_16(q->pool_id),
		.status = room != 0 ? HC_ASSIGN_PLACED : HC_ASSIGN_NO_ROOM,
	};
	hc_tx_add(&d->tx, HC_MSG_ASSIGN, q->gateway_id, &q->from, &a, sizeof(a));
	d->st.places++;
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

	struct hc_place_req req[CHANGE_BURST];
	for (unsigned i = 0; i < d->dp->n_workers; i++) {
		struct rte_ring *r = d->dp->workers[i]->to_ctl_places;
		unsigned n = rte_ring_dequeue_burst_elem(r, req, sizeof(req[0]), CHANGE_BURST, NULL);
		for (unsigned k = 0; k < n; k++)
			answer_place(d, &req[k], now);
		total += n;
	}
	hc_tx_flush(&d->tx);
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
