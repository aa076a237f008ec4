/*
 * hc_sequencer.c - per-gateway ordering of EVENTS datagrams (see .h).
 *
 * The window is indexed by sequence % HC_SEQ_WINDOW; only sequences in
 * [next_seq, next_seq + HC_SEQ_WINDOW) are ever held, so a slot names one
 * sequence unambiguously.  Gateways with an open gap sit in gap_list so
 * the timeout poll costs O(open gaps), not O(gateways).
 */
#include "hc_sequencer.h"

#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "hc_members.h" /* HC_RELAXED_ADD */

#define WIN_MASK (HC_SEQ_WINDOW - 1)
_Static_assert((HC_SEQ_WINDOW & WIN_MASK) == 0, "window is a power of 2");

int hc_seq_init(struct hc_sequencer *s, uint32_t max_gateways,
		uint64_t gap_timeout_tsc, hc_seq_deliver_fn deliver, void *ctx,
		int socket)
{
	memset(s, 0, sizeof(*s));
	s->gw = rte_zmalloc_socket("hc_seq_gw", sizeof(*s->gw) * max_gateways,
				   64, socket);
	s->gap_list = rte_zmalloc_socket("hc_seq_gaps",
					 sizeof(uint32_t) * max_gateways, 64, socket);
	if (s->gw == NULL || s->gap_list == NULL) {
		hc_seq_free(s);
		return -ENOMEM;
	}
	for (uint32_t g = 0; g < max_gateways; g++)
		s->gw[g].gap_index = UINT32_MAX;
	s->max_gateways = max_gateways;
	s->gap_timeout_tsc = gap_timeout_tsc;
	s->deliver = deliver;
	s->ctx = ctx;
	return 0;
}

void hc_seq_free(struct hc_sequencer *s)
{
	if (s->gw != NULL)
		for (uint32_t g = 0; g < s->max_gateways; g++)
			for (unsigned i = 0; i < HC_SEQ_WINDOW; i++)
				rte_pktmbuf_free(s->gw[g].win[i]);
	rte_free(s->gw);
	rte_free(s->gap_list);
	memset(s, 0, sizeof(*s));
}

/* ---------------------------------------------------------- gap list -- */

static void gap_open(struct hc_sequencer *s, uint16_t gw, uint64_t now)
{
	struct hc_gw_state *g = &s->gw[gw];
	if (g->gap_index != UINT32_MAX)
		return;
	g->gap_since_tsc = now;
	g->gap_index = s->n_gaps;
	s->gap_list[s->n_gaps++] = gw;
	HC_RELAXED_ADD(&s->st.gaps, 1);
}

static void gap_close(struct hc_sequencer *s, uint16_t gw)
{
	struct hc_gw_state *g = &s->gw[gw];
	uint32_t i = g->gap_index;
	if (i == UINT32_MAX)
		return;
	uint32_t last = s->gap_list[--s->n_gaps];
	s->gap_list[i] = last;
	s->gw[last].gap_index = i;
	g->gap_index = UINT32_MAX;
	g->gap_since_tsc = 0;
}

/* A gap is open while something is held or a heartbeat named a sequence
 * we have not applied. */
static int gap_pending(const struct hc_gw_state *g)
{
	return g->held > 0 || (g->hb_last_seq != 0 &&
			       !hc_seq_after(g->next_seq, g->hb_last_seq));
}

/* ------------------------------------------------------------ window -- */

static inline void publish_held(struct hc_sequencer *s)
{
	__atomic_store_n(&s->st.held_now, s->held_total, __ATOMIC_RELAXED);
}

static void deliver_one(struct hc_sequencer *s, struct hc_gw_state *g,
			struct rte_mbuf *m)
{
	HC_RELAXED_ADD(&g->datagrams, 1);
	s->deliver(s->ctx, m);
}

/* Deliver held datagrams that are now in order. */
static void drain(struct hc_sequencer *s, uint16_t gw)
{
	struct hc_gw_state *g = &s->gw[gw];
	while (g->held > 0) {
		unsigned slot = g->next_seq & WIN_MASK;
		struct rte_mbuf *m = g->win[slot];
		if (m == NULL)
			break;
		g->win[slot] = NULL;
		g->held--;
		s->held_total--;
		g->next_seq++;
		deliver_one(s, g, m);
	}
	if (!gap_pending(g))
		gap_close(s, gw);
	publish_held(s);
}

/* Give up on every sequence before target: deliver held ones in order,
 * count the missing ones as lost. */
static void advance_to(struct hc_sequencer *s, uint16_t gw, uint32_t target)
{
	struct hc_gw_state *g = &s->gw[gw];
	uint64_t lost = 0;

	while (g->held > 0 && hc_seq_after(target, g->next_seq)) {
		unsigned slot = g->next_seq & WIN_MASK;
		struct rte_mbuf *m = g->win[slot];
		g->next_seq++;
		if (m == NULL) {
			lost++;
			continue;
		}
		g->win[slot] = NULL;
		g->held--;
		s->held_total--;
		deliver_one(s, g, m);
	}
	if (hc_seq_after(target, g->next_seq)) {
		lost += (uint32_t)(target - g->next_seq);
		g->next_seq = target;
	}
	HC_RELAXED_ADD(&g->lost, lost);
	HC_RELAXED_ADD(&s->st.lost, lost);
}

/* Skip the oldest gap of gw: jump to the first held sequence (or past the
 * heartbeat's last sequence when nothing is held). */
static void skip_gap(struct hc_sequencer *s, uint16_t gw)
{
	struct hc_gw_state *g = &s->gw[gw];
	uint32_t target = g->hb_last_seq + 1;

	if (g->held > 0) {
		for (uint32_t k = 1; k < HC_SEQ_WINDOW; k++) {
			if (g->win[(g->next_seq + k) & WIN_MASK] != NULL) {
				target = g->next_seq + k;
				break;
			}
		}
	}
	if (hc_seq_after(target, g->next_seq))
		advance_to(s, gw, target);
	gap_close(s, gw);
	drain(s, gw);
}

/* Drop what the gateway held and start its new incarnation at 1. */
static void reset_gateway(struct hc_sequencer *s, uint16_t gw, uint32_t inc)
{
	struct hc_gw_state *g = &s->gw[gw];
	uint64_t dropped = 0;

	for (unsigned i = 0; i < HC_SEQ_WINDOW; i++) {
		if (g->win[i] != NULL) {
			rte_pktmbuf_free(g->win[i]);
			g->win[i] = NULL;
			dropped++;
		}
	}
	s->held_total -= g->held;
	g->held = 0;
	gap_close(s, gw);
	if (g->incarnation != 0)
		HC_RELAXED_ADD(&g->resets, 1);
	g->incarnation = inc;
	g->next_seq = 1;
	g->hb_last_seq = 0;
	HC_RELAXED_ADD(&s->st.stale, dropped);
	publish_held(s);
}

/* Returns 0 if the incarnation is current (after a possible reset), -1 if
 * it is older than the gateway's. */
static int check_incarnation(struct hc_sequencer *s, uint16_t gw, uint32_t inc)
{
	struct hc_gw_state *g = &s->gw[gw];
	if (g->incarnation == inc)
		return 0;
	if (g->incarnation == 0 || hc_seq_after(inc, g->incarnation)) {
		reset_gateway(s, gw, inc);
		return 0;
	}
	return -1;
}

/* ------------------------------------------------------------- API -- */

void hc_seq_events(struct hc_sequencer *s, struct rte_mbuf *m, uint16_t gw,
		   uint32_t incarnation, uint32_t sequence, uint64_t now)
{
	struct hc_gw_state *g = &s->gw[gw];

	g->last_heard_tsc = now;
	if (unlikely(check_incarnation(s, gw, incarnation) != 0)) {
		HC_RELAXED_ADD(&s->st.stale, 1);
		rte_pktmbuf_free(m);
		return;
	}
	if (likely(sequence == g->next_seq)) {
		g->next_seq++;
		deliver_one(s, g, m);
		if (unlikely(g->held > 0 || g->gap_index != UINT32_MAX))
			drain(s, gw);
		return;
	}
	if (hc_seq_after(g->next_seq, sequence)) {
		HC_RELAXED_ADD(&g->duplicates, 1);
		HC_RELAXED_ADD(&s->st.duplicates, 1);
		rte_pktmbuf_free(m);
		return;
	}
	if ((uint32_t)(sequence - g->next_seq) >= HC_SEQ_WINDOW) {
		/* too far ahead to wait for the gap: give it up */
		advance_to(s, gw, sequence - HC_SEQ_WINDOW + 1);
		drain(s, gw);
		if (sequence == g->next_seq) {
			g->next_seq++;
			deliver_one(s, g, m);
			drain(s, gw);
			return;
		}
	}
	unsigned slot = sequence & WIN_MASK;
	if (g->win[slot] != NULL) {
		HC_RELAXED_ADD(&g->duplicates, 1);
		HC_RELAXED_ADD(&s->st.duplicates, 1);
		rte_pktmbuf_free(m);
		return;
	}
	if (unlikely(s->held_total >= HC_SEQ_MAX_HELD)) {
		/* out of holding room: give up this gateway's gap now */
		skip_gap(s, gw);
		hc_seq_events(s, m, gw, incarnation, sequence, now);
		return;
	}
	g->win[slot] = m;
	g->held++;
	s->held_total++;
	publish_held(s);
	gap_open(s, gw, now);
}

void hc_seq_heartbeat(struct hc_sequencer *s, uint16_t gw, uint32_t incarnation,
		      uint32_t last_sequence, uint64_t now)
{
	struct hc_gw_state *g = &s->gw[gw];

	g->last_heard_tsc = now;
	if (check_incarnation(s, gw, incarnation) != 0) {
		HC_RELAXED_ADD(&s->st.stale, 1);
		return;
	}
	HC_RELAXED_ADD(&g->heartbeats, 1);
	if (last_sequence != 0 && hc_seq_after(last_sequence, g->hb_last_seq))
		g->hb_last_seq = last_sequence;
	if (gap_pending(g))
		gap_open(s, gw, now);
}

void hc_seq_poll(struct hc_sequencer *s, uint64_t now)
{
	uint32_t i = 0;
	while (i < s->n_gaps) {
		uint16_t gw = (uint16_t)s->gap_list[i];
		struct hc_gw_state *g = &s->gw[gw];
		if (now - g->gap_since_tsc >= s->gap_timeout_tsc) {
			skip_gap(s, gw); /* removes gw from the list */
			if (gap_pending(g))
				gap_open(s, gw, now); /* a further gap waits anew */
			continue; /* slot i now holds another gateway */
		}
		i++;
	}
}

void hc_seq_flush_all(struct hc_sequencer *s)
{
	while (s->n_gaps > 0) {
		uint16_t gw = (uint16_t)s->gap_list[0];
		struct hc_gw_state *g = &s->gw[gw];
		skip_gap(s, gw);
		while (g->held > 0) {
			skip_gap(s, gw);
		}
		gap_close(s, gw);
	}
}
