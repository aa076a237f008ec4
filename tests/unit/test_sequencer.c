/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_sequencer.c - per-gateway ordering: in order, reordered, duplicated,
 * gaps NACKed and repaired (inside and beyond the window, heartbeat tail),
 * given up after the NACK rounds, snapshot reset points, first contact,
 * incarnation changes, dead and shut-down gateways, flush at shutdown.  Each test mbuf carries its sequence number; the
 * deliver callback records the order it sees.
 */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include <rte_mbuf.h>

#include "hc_readmark.h"
#include "hc_sequencer.h"
#include "hc_unit.h"

static struct hc_sequencer s;
static uint32_t got[1024];
static unsigned n_got;
static uint32_t asked[64][4]; /* resync hook: gw, reason, first, last */
static unsigned n_asked;
static uint16_t dropped[16];
static unsigned n_dropped;

static void record(void *ctx, struct rte_mbuf *m)
{
	(void)ctx;
	uint32_t seq;
	memcpy(&seq, rte_pktmbuf_mtod(m, void *), 4);
	if (n_got < 1024)
		got[n_got++] = seq;
	rte_pktmbuf_free(m);
}

static void on_resync(void *ctx, uint16_t gw, uint32_t reason, uint32_t first, uint32_t last)
{
	(void)ctx;
	if (n_asked < 64) {
		asked[n_asked][0] = gw;
		asked[n_asked][1] = reason;
		asked[n_asked][2] = first;
		asked[n_asked][3] = last;
		n_asked++;
	}
}

static void on_drop(void *ctx, uint16_t gw)
{
	(void)ctx;
	if (n_dropped < 16)
		dropped[n_dropped++] = gw;
}

static enum hc_seq_verdict offer_f(uint16_t gw, uint32_t inc, uint32_t seq, unsigned flags,
				   uint64_t now)
{
	struct rte_mbuf *m = hc_test_mbuf(&seq, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	return hc_seq_offer(&s, m, gw, inc, seq, flags, now);
}

static void offer_rp(uint16_t gw, uint32_t inc, uint32_t seq, int reset_point, uint64_t now)
{
	(void)offer_f(gw, inc, seq, reset_point ? HC_SEQ_RESET_POINT : 0, now);
}

static void offer(uint16_t gw, uint32_t inc, uint32_t seq, uint64_t now)
{
	offer_rp(gw, inc, seq, 0, now);
}

/* gap timeout 1000 tsc, 2 NACK rounds, dead after 5000 */
static void setup(void)
{
	n_got = n_asked = n_dropped = 0;
	struct hc_seq_hooks hooks = {.deliver = record, .drop_users = on_drop,
				     .resync = on_resync};
	CU_ASSERT_EQUAL_FATAL(hc_seq_init(&s, 16, 1000, 2, 5000, &hooks, 0), 0);
}

static int got_is(const uint32_t *want, unsigned n)
{
	return n_got == n && memcmp(got, want, n * 4) == 0;
}

static int asked_is(unsigned i, uint32_t gw, uint32_t reason, uint32_t first, uint32_t last)
{
	return i < n_asked && asked[i][0] == gw && asked[i][1] == reason &&
	       asked[i][2] == first && asked[i][3] == last;
}

static void test_in_order(void)
{
	setup();
	for (uint32_t q = 1; q <= 5; q++)
		offer(3, 1, q, 0);
	static const uint32_t want[] = {1, 2, 3, 4, 5};
	CU_ASSERT_TRUE(got_is(want, 5));
	CU_ASSERT_EQUAL(s.gw[3].next_seq, 6);
	CU_ASSERT_EQUAL(s.gw[3].datagrams, 5);
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	hc_seq_free(&s);
}

static void test_reorder_and_duplicates(void)
{
	setup();
	offer(2, 1, 3, 0);
	offer(2, 1, 2, 0);
	CU_ASSERT_EQUAL(n_got, 0);
	CU_ASSERT_EQUAL(s.st.held_now, 2);
	offer(2, 1, 3, 0);              /* duplicate of a held one */
	offer(2, 1, 1, 0);              /* fills the gap: 1,2,3 */
	offer(2, 1, 2, 0);              /* duplicate of an applied one */
	offer(2, 1, 5, 0);
	offer(2, 1, 4, 0);
	static const uint32_t want[] = {1, 2, 3, 4, 5};
	CU_ASSERT_TRUE(got_is(want, 5));
	CU_ASSERT_EQUAL(s.st.duplicates, 2);
	CU_ASSERT_EQUAL(s.st.lost, 0);
	CU_ASSERT_EQUAL(s.st.held_now, 0);
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	hc_seq_free(&s);
}

static void test_gap_nack_and_repair(void)
{
	setup();
	offer(1, 1, 1, 0);
	offer(1, 1, 3, 10);             /* 2 is missing */
	offer(1, 1, 5, 20);             /* and 4 */
	hc_seq_poll(&s, 500);           /* not yet */
	CU_ASSERT_EQUAL(n_asked, 0);
	hc_seq_poll(&s, 1010);          /* NACK each missing run */
	CU_ASSERT_EQUAL(n_asked, 2);
	CU_ASSERT_TRUE(asked_is(0, 1, HC_RESYNC_GAP, 2, 2));
	CU_ASSERT_TRUE(asked_is(1, 1, HC_RESYNC_GAP, 4, 4));
	hc_seq_poll(&s, 1500);          /* not again before the timeout */
	CU_ASSERT_EQUAL(n_asked, 2);
	offer(1, 1, 2, 1600);           /* the retransmissions */
	offer(1, 1, 4, 1600);
	static const uint32_t want[] = {1, 2, 3, 4, 5};
	CU_ASSERT_TRUE(got_is(want, 5));
	CU_ASSERT_EQUAL(s.st.lost, 0);
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	CU_ASSERT_EQUAL(s.gw[1].nacks, 2);
	hc_seq_free(&s);
}

static void test_gap_given_up(void)
{
	setup();
	offer(1, 1, 1, 0);
	offer(1, 1, 3, 10);
	hc_seq_poll(&s, 1010);          /* NACK 1 */
	hc_seq_poll(&s, 2020);          /* NACK 2 */
	CU_ASSERT_EQUAL(n_asked, 2);
	CU_ASSERT_EQUAL(n_got, 1);
	hc_seq_poll(&s, 3030);          /* never repaired: give up on 2 */
	static const uint32_t want[] = {1, 3};
	CU_ASSERT_TRUE(got_is(want, 2));
	CU_ASSERT_EQUAL(s.st.lost, 1);
	CU_ASSERT_EQUAL(n_asked, 3);    /* and a snapshot asked for */
	CU_ASSERT_TRUE(asked_is(2, 1, HC_RESYNC_RESTART, 0, 0));
	CU_ASSERT_EQUAL(s.st.restarts, 1);
	CU_ASSERT_EQUAL(s.gw[1].lost, 1);
	offer(1, 1, 2, 4000);           /* too late: a duplicate now */
	CU_ASSERT_EQUAL(s.st.duplicates, 1);
	CU_ASSERT_EQUAL(n_got, 2);
	hc_seq_free(&s);
}

/* A gap repaired over more NACK rounds than --gap-nacks (2 here): each
 * resend that moves next_seq on starts the rounds anew, so the gap is not
 * given up while the gateway fills it (1, then 3..200: 3..65 held, 66..200
 * beyond the window and shed; the repair comes in three parts). */
static void test_gap_repaired_over_rounds(void)
{
	setup();
	offer(1, 1, 1, 0);
	for (uint32_t q = 3; q <= 200; q++)
		offer(1, 1, q, 10);
	CU_ASSERT_EQUAL(s.st.held_now, 63);
	CU_ASSERT_EQUAL(s.st.beyond, 135);
	hc_seq_poll(&s, 1010);                  /* round 1: 2, and 66..200 past the window */
	CU_ASSERT_EQUAL(n_asked, 2);
	CU_ASSERT_TRUE(asked_is(0, 1, HC_RESYNC_GAP, 2, 2));
	CU_ASSERT_TRUE(asked_is(1, 1, HC_RESYNC_GAP, 66, 200));
	offer(1, 1, 2, 1500);                   /* 2..65 apply */
	CU_ASSERT_EQUAL(s.gw[1].next_seq, 66);
	CU_ASSERT_EQUAL(s.gw[1].nacks_now, 0);
	hc_seq_poll(&s, 2020);                  /* round 1 again: the window, and past it */
	CU_ASSERT_EQUAL(n_asked, 4);
	CU_ASSERT_TRUE(asked_is(2, 1, HC_RESYNC_GAP, 66, 129));
	CU_ASSERT_TRUE(asked_is(3, 1, HC_RESYNC_GAP, 130, 200));
	for (uint32_t q = 66; q <= 129; q++)    /* part 2 */
		offer(1, 1, q, 2500);
	CU_ASSERT_EQUAL(s.gw[1].next_seq, 130);
	hc_seq_poll(&s, 3030);                  /* round 1 again, not a give-up */
	hc_seq_poll(&s, 4040);                  /* round 2 */
	CU_ASSERT_EQUAL(n_asked, 8);
	CU_ASSERT_TRUE(asked_is(4, 1, HC_RESYNC_GAP, 130, 193));
	CU_ASSERT_TRUE(asked_is(5, 1, HC_RESYNC_GAP, 194, 200));
	CU_ASSERT_TRUE(asked_is(6, 1, HC_RESYNC_GAP, 130, 193));
	CU_ASSERT_TRUE(asked_is(7, 1, HC_RESYNC_GAP, 194, 200));
	CU_ASSERT_EQUAL(s.st.restarts, 0);
	for (uint32_t q = 130; q <= 200; q++)   /* part 3 */
		offer(1, 1, q, 4500);
	CU_ASSERT_EQUAL(n_got, 200);
	for (uint32_t i = 0; i < n_got && i < 200; i++)
		CU_ASSERT_EQUAL(got[i], i + 1);
	CU_ASSERT_EQUAL(s.st.lost, 0);
	CU_ASSERT_EQUAL(s.st.restarts, 0);
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	hc_seq_poll(&s, 9000);
	CU_ASSERT_EQUAL(n_asked, 8);
	/* and a repair that stops: 202..204 after a missing 201; 201 never
	 * sent; given up after exactly 2 rounds from the last progress */
	for (uint32_t q = 202; q <= 204; q++)
		offer(1, 1, q, 10000);
	hc_seq_poll(&s, 11010);                 /* round 1 */
	hc_seq_poll(&s, 12020);                 /* round 2 */
	CU_ASSERT_EQUAL(n_asked, 10);
	CU_ASSERT_EQUAL(s.st.restarts, 0);
	hc_seq_poll(&s, 13030);                 /* given up: 201 lost, a RESTART */
	CU_ASSERT_EQUAL(s.st.lost, 1);
	CU_ASSERT_EQUAL(s.st.restarts, 1);
	CU_ASSERT_TRUE(asked_is(10, 1, HC_RESYNC_RESTART, 0, 0));
	CU_ASSERT_EQUAL(n_got, 203);
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	hc_seq_free(&s);
}

static void test_beyond_window(void)
{
	setup();
	offer(1, 1, 1, 0);
	offer(1, 1, 3, 0);
	uint32_t far = 2 + HC_SEQ_WINDOW + 10;
	offer(1, 1, far, 0);            /* cannot be held: dropped, asked again */
	CU_ASSERT_EQUAL(s.st.beyond, 1);
	CU_ASSERT_EQUAL(s.st.lost, 0);
	CU_ASSERT_EQUAL(n_got, 1);
	hc_seq_poll(&s, 1000);
	/* inside the window: 2, then 4 .. 1+W; beyond it: up to far */
	CU_ASSERT_EQUAL(n_asked, 3);
	CU_ASSERT_TRUE(asked_is(0, 1, HC_RESYNC_GAP, 2, 2));
	CU_ASSERT_TRUE(asked_is(1, 1, HC_RESYNC_GAP, 4, 1 + HC_SEQ_WINDOW));
	CU_ASSERT_TRUE(asked_is(2, 1, HC_RESYNC_GAP, 2 + HC_SEQ_WINDOW, far));
	for (uint32_t q = 2; q <= far; q++)   /* the gateway resends them all */
		offer(1, 1, q, 1100);
	CU_ASSERT_EQUAL(n_got, far);
	for (uint32_t i = 0; i < far; i++)
		CU_ASSERT_EQUAL(got[i], i + 1);
	CU_ASSERT_EQUAL(s.st.duplicates, 1); /* 3 was held */
	CU_ASSERT_EQUAL(s.st.held_now, 0);
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	hc_seq_free(&s);
}

static void test_flush_at_shutdown(void)
{
	setup();
	offer(1, 1, 1, 0);
	offer(1, 1, 4, 0);
	offer(1, 1, 6, 0);
	hc_seq_flush_all(&s);           /* shutdown: deliver the held ones */
	static const uint32_t want[] = {1, 4, 6};
	CU_ASSERT_TRUE(got_is(want, 3));
	CU_ASSERT_EQUAL(s.st.lost, 3);
	CU_ASSERT_EQUAL(s.st.held_now, 0);
	hc_seq_free(&s);
}

static void test_heartbeat_tail_gap(void)
{
	setup();
	offer(4, 1, 1, 0);
	hc_seq_heartbeat(&s, 4, 1, 1, 3, 0, 100);   /* gateway sent 2 and 3 */
	CU_ASSERT_EQUAL(s.n_gaps, 1);
	hc_seq_poll(&s, 600);
	CU_ASSERT_EQUAL(n_asked, 0);
	hc_seq_poll(&s, 1100);
	CU_ASSERT_TRUE(asked_is(0, 4, HC_RESYNC_GAP, 2, 3));
	offer(4, 1, 3, 1200);
	offer(4, 1, 2, 1200);
	static const uint32_t want[] = {1, 2, 3};
	CU_ASSERT_TRUE(got_is(want, 3));
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	hc_seq_heartbeat(&s, 4, 1, 2, 3, 0, 1300);  /* nothing missing now */
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	CU_ASSERT_EQUAL(s.gw[4].heartbeats, 2);
	CU_ASSERT_EQUAL(hc_seq_applied(&s, 4), 3);
	hc_seq_free(&s);
}

static void test_snapshot_reset_point(void)
{
	setup();
	offer(2, 1, 1, 0);
	offer(2, 1, 3, 0);                       /* held; 2 missing */
	offer_rp(2, 1, 10, 1, 0);                /* a snapshot starts at 10 */
	offer(2, 1, 11, 0);
	static const uint32_t want[] = {1, 10, 11};
	CU_ASSERT_TRUE(got_is(want, 3));
	CU_ASSERT_EQUAL(s.st.subsumed, 8);       /* 2 .. 9, 3 among them */
	CU_ASSERT_EQUAL(s.st.lost, 0);
	CU_ASSERT_EQUAL(s.st.held_now, 0);
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	/* far beyond the window a reset point is taken at once */
	offer_rp(2, 1, 11 + 5 * HC_SEQ_WINDOW, 1, 0);
	CU_ASSERT_EQUAL(n_got, 4);
	CU_ASSERT_EQUAL(s.gw[2].next_seq, 12 + 5 * HC_SEQ_WINDOW);
	hc_seq_free(&s);
}

/* ------------------------------------------------ a lossy channel, fuzzed */

static uint32_t chan_expect;     /* next sequence the model expects delivered */
static uint64_t chan_delivered, chan_bad;
static uint32_t chan_nack[4096][2];
static unsigned chan_n_nack, chan_restarts;

static void chan_record(void *ctx, struct rte_mbuf *m)
{
	(void)ctx;
	uint32_t q;
	memcpy(&q, rte_pktmbuf_mtod(m, void *), 4);
	if (q != chan_expect)
		chan_bad++;
	chan_expect = q == UINT32_MAX ? 1 : q + 1;
	chan_delivered++;
	rte_pktmbuf_free(m);
}

static void chan_resync(void *ctx, uint16_t gw, uint32_t reason, uint32_t first, uint32_t last)
{
	(void)ctx; (void)gw;
	if (reason == HC_RESYNC_GAP && chan_n_nack < 4096) {
		chan_nack[chan_n_nack][0] = first;
		chan_nack[chan_n_nack][1] = last;
		chan_n_nack++;
	} else if (reason == HC_RESYNC_RESTART) {
		chan_restarts++;
	}
}

static uint64_t chan_rs;
static uint32_t chan_rnd(uint32_t n)
{
	chan_rs = chan_rs * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)((chan_rs >> 33) % n);
}

struct chan_flight { uint32_t q; uint64_t at; };

/* A lossy, reordering, duplicating channel from an honest gateway that
 * answers every NACK from its history; its stream starts at a snapshot
 * reset point at start (any value) and runs n datagrams past it. */
static void chan_run(uint32_t start, unsigned n, uint64_t seed, uint64_t *bad, uint64_t *lost,
		   uint64_t *delivered, unsigned *restarts)
{
	static struct chan_flight fl[200000];
	unsigned n_fl = 0;
	chan_rs = seed;
	chan_n_nack = 0; chan_restarts = 0; chan_bad = 0; chan_delivered = 0;
	struct hc_seq_hooks hooks = {.deliver = chan_record, .drop_users = on_drop,
				     .resync = chan_resync};
	CU_ASSERT_EQUAL_FATAL(hc_seq_init(&s, 4, 1000, 100000, 0, &hooks, 0), 0);
	chan_expect = start;
	/* the reset point at start: first contact */
	struct rte_mbuf *m0 = hc_test_mbuf(&start, 4);
	hc_seq_offer(&s, m0, 1, 7, start, HC_SEQ_RESET_POINT, 0);
	uint32_t last_sent = start, ctr = 0;
	unsigned sent = 1;
	uint64_t t = 1;
	for (; t < 4000000 && (sent < n || n_fl > 0 || s.n_gaps > 0); t++) {
		if (sent < n && chan_rnd(3) == 0 && n_fl < 190000) {
			last_sent = last_sent == UINT32_MAX ? 1 : last_sent + 1;
			sent++;
			unsigned copies = chan_rnd(10) == 0 ? 0 : (chan_rnd(20) == 0 ? 2 : 1);
			for (unsigned c = 0; c < copies; c++)
				fl[n_fl++] = (struct chan_flight){last_sent, t + chan_rnd(300)};
		}
		if (t % 500 == 0)
			hc_seq_heartbeat(&s, 1, 7, ++ctr, last_sent, 0, t);
		/* arrivals due now */
		for (unsigned i = 0; i < n_fl;) {
			if (fl[i].at <= t) {
				uint32_t q = fl[i].q;
				fl[i] = fl[--n_fl];
				struct rte_mbuf *m = hc_test_mbuf(&q, 4);
				CU_ASSERT_PTR_NOT_NULL_FATAL(m);
				hc_seq_offer(&s, m, 1, 7, q, 0, t);
			} else {
				i++;
			}
		}
		unsigned before = chan_n_nack;
		hc_seq_poll(&s, t);
		/* the gateway resends what each NACK names (its history holds all) */
		for (unsigned k = before; k < chan_n_nack; k++) {
			uint32_t q = chan_nack[k][0], last = chan_nack[k][1];
			for (unsigned guard = 0; guard < 100000; guard++) {
				if (q != 0 && n_fl < 190000 && chan_rnd(10) != 0)
					fl[n_fl++] = (struct chan_flight){q, t + 1 + chan_rnd(300)};
				if (q == last)
					break;
				q = q == UINT32_MAX ? 1 : q + 1;
			}
		}
		if (chan_n_nack > 3000)
			chan_n_nack = 0;
	}
	*bad = chan_bad;
	*lost = s.st.lost;
	*delivered = chan_delivered;
	*restarts = chan_restarts;
	hc_seq_free(&s);
}

/* An honest gateway's stream through loss (10 %), duplicates (5 %) and
 * reordering (up to 300 ticks late), its NACKs answered from its history
 * and its heartbeats sent, from reset points across the 2^32 wrap and
 * elsewhere: every datagram delivered once, in order, nothing lost, no
 * snapshot asked (written by a review, 2026-12-07). */
static void test_channel_fuzz(void)
{
	static const uint32_t starts[] = {1, 1000, 0xFFFFFF00u, 0xFFFFFFFFu, 0x7FFFFFC0u,
					  0xFFFFFFC1u};
	for (unsigned i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		for (uint64_t seed = 1; seed <= 4; seed++) {
			uint64_t bad, lost, delivered;
			unsigned restarts;
			chan_run(starts[i], 3000, seed * 7919 + i, &bad, &lost, &delivered, &restarts);
			if (bad || lost || delivered != 3000 || restarts)
				printf("\n  start %#x seed %lu: out-of-order %lu lost %lu delivered %lu restarts %u",
				       starts[i], (unsigned long)seed, (unsigned long)bad,
				       (unsigned long)lost, (unsigned long)delivered, restarts);
			CU_ASSERT_EQUAL(bad, 0);
			CU_ASSERT_EQUAL(lost, 0);
			CU_ASSERT_EQUAL(delivered, 3000);
			CU_ASSERT_EQUAL(restarts, 0);
		}
	}
}

/* A snapshot's chunk 0 exactly 2^31 after the next sequence, with
 * datagrams held: serial order calls it neither before nor after, yet it
 * is a reset point.  The held ones come before it: discarded (subsumed),
 * never delivered after it as the sequences their window slots then
 * stand for (2^31 is a multiple of the window), and nothing is held
 * after; the stream goes on from it. */
static void test_reset_point_half_the_space_ahead(void)
{
	setup();
	offer(2, 1, 1, 0);
	offer(2, 1, 3, 0);                       /* held; 2 missing */
	offer(2, 1, 4, 0);                       /* held */
	CU_ASSERT_EQUAL(s.st.held_now, 2);
	uint32_t rp = 2u + (1u << 31);
	offer_rp(2, 1, rp, 1, 10);               /* a snapshot starts there */
	offer(2, 1, rp + 1, 20);
	const uint32_t want[] = {1, rp, rp + 1};
	CU_ASSERT_TRUE(got_is(want, 3));
	CU_ASSERT_EQUAL(s.st.held_now, 0);
	CU_ASSERT_EQUAL(s.gw[2].held, 0);
	CU_ASSERT_EQUAL(s.gw[2].next_seq, rp + 2);
	CU_ASSERT_EQUAL(s.st.subsumed, 2 + HC_SEQ_FAR); /* the held, and the jump's cap */
	CU_ASSERT_EQUAL(s.st.lost, 0);
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	hc_seq_free(&s);
}

static void test_first_contact(void)
{
	setup();
	offer(3, 9, 2, 0);                       /* 1 late: held, no resync */
	CU_ASSERT_EQUAL(n_asked, 0);
	offer(3, 9, 1, 0);
	CU_ASSERT_EQUAL(n_got, 2);
	/* a gateway first heard far from 1: the appliance lost its state */
	offer(5, 9, 5000, 0);
	CU_ASSERT_EQUAL(n_asked, 1);
	CU_ASSERT_TRUE(asked_is(0, 5, HC_RESYNC_RESTART, 0, 0));
	CU_ASSERT_EQUAL(s.st.restarts, 1);
	offer(5, 9, 5001, 10);                   /* not asked twice at once */
	CU_ASSERT_EQUAL(n_asked, 1);
	offer_rp(5, 9, 5002, 1, 20);             /* its snapshot */
	CU_ASSERT_EQUAL(n_got, 3);
	CU_ASSERT_EQUAL(n_dropped, 0);           /* nothing to drop at first contact */
	hc_seq_free(&s);
}

static void test_dead_and_shutdown(void)
{
	setup();
	offer(6, 1, 1, 0);
	offer(7, 1, 1, 4000);
	hc_seq_poll(&s, 6000);                   /* 6 silent for 6000 > 5000 */
	CU_ASSERT_EQUAL(n_dropped, 1);
	CU_ASSERT_EQUAL(dropped[0], 6);
	CU_ASSERT_EQUAL(s.gw[6].incarnation, 0);
	CU_ASSERT_EQUAL(s.gw[7].incarnation, 1);
	CU_ASSERT_EQUAL(s.st.deaths, 1);
	hc_seq_heartbeat(&s, 7, 1, 1, 1, 1, 6100);  /* 7 says SHUTDOWN */
	CU_ASSERT_EQUAL(n_dropped, 2);
	CU_ASSERT_EQUAL(dropped[1], 7);
	offer(6, 1, 2, 7000);                    /* back: above its floor (1) */
	CU_ASSERT_EQUAL(s.gw[6].incarnation, 1);
	CU_ASSERT_EQUAL(s.gw[6].next_seq, 3);    /* 2 applied, nothing held */
	CU_ASSERT_EQUAL(s.st.held_now, 0);
	CU_ASSERT_TRUE(asked_is(0, 6, HC_RESYNC_RESTART, 0, 0)); /* restate its users */
	hc_seq_free(&s);
}

/* Silence is judged on input read: a gateway is dead only if it was
 * silent for the timeout (5000) before read_up_to, the moment up to which
 * every datagram that had arrived was offered.  A receive path behind on
 * its input (a worker's lcore unscheduled for seconds) may still hold a
 * live gateway's heartbeats, however late `now` is.  A gateway heard
 * after read_up_to (heard_all: an HA backup promoted) is alive, not a
 * wrapped difference. */
static void test_dead_judged_on_input_read(void)
{
	setup();
	uint64_t later = rte_get_tsc_hz(); /* (past each poll's next scan) */
	offer(6, 1, 1, 0);
	offer(7, 1, 1, 4000);
	hc_seq_poll_read(&s, 20000, 4500);      /* 20000 late, but read up to 4500 */
	CU_ASSERT_EQUAL(n_dropped, 0);
	CU_ASSERT_EQUAL(s.st.deaths, 0);
	hc_seq_poll_read(&s, 20000 + later, 5000); /* 6: silent exactly 5000, not more */
	CU_ASSERT_EQUAL(n_dropped, 0);
	hc_seq_poll_read(&s, 20000 + 2 * later, 5001); /* 6: more than 5000 */
	CU_ASSERT_EQUAL(n_dropped, 1);
	CU_ASSERT_EQUAL(dropped[0], 6);
	CU_ASSERT_EQUAL(s.gw[7].incarnation, 1); /* 7: heard at 4000 */
	hc_seq_heard_all(&s, 30000 + 2 * later);
	hc_seq_poll_read(&s, 30000 + 3 * later, 9500); /* 7 heard after 9500 */
	CU_ASSERT_EQUAL(n_dropped, 1);
	CU_ASSERT_EQUAL(s.gw[7].incarnation, 1);
	CU_ASSERT_EQUAL(s.st.deaths, 1);
	hc_seq_free(&s);
}

/* The worker's read mark (hc_readmark.h), which gives the dead scan its
 * read_up_to: a mark is read up to once every source was found empty
 * after it, or gave its capacity of frames since. */
static void test_read_mark(void)
{
	struct hc_rmark m;

	hc_rmark_init(&m, 100);
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 150), 100); /* no sources: all read */
	hc_rmark_add_source(&m, 0, 512);               /* an af_packet ring  */
	hc_rmark_add_source(&m, 1, 0);                 /* capacity unknown   */
	hc_rmark_add_source(&m, HC_RMARK_HANDOFF(3), 1024);
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 200), 100);  /* nothing polled since 150 */
	hc_rmark_polled(&m, 0, 0);
	hc_rmark_polled(&m, 1, 0);
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 300), 100);  /* the ring not yet */
	hc_rmark_polled(&m, HC_RMARK_HANDOFF(3), 0);
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 400), 150);  /* 150 read; mark 400 */

	/* a flood of queue 0 (never empty): read up to the mark once 512
	 * frames are taken since it, not one less */
	hc_rmark_polled(&m, 1, 0);
	hc_rmark_polled(&m, HC_RMARK_HANDOFF(3), 0);
	hc_rmark_polled(&m, 0, 300);
	hc_rmark_polled(&m, 0, 211);
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 500), 150);
	hc_rmark_polled(&m, 0, 1);
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 600), 400);
	/* frames taken before the mark at 600 do not count for it */
	hc_rmark_polled(&m, 1, 0);
	hc_rmark_polled(&m, HC_RMARK_HANDOFF(3), 0);
	hc_rmark_polled(&m, 0, 511);
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 700), 400);
	hc_rmark_polled(&m, 0, 1); /* (what the others did since 600 stands) */
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 750), 600);

	/* a source of unknown capacity never empty: never read up to, however
	 * much is taken from it */
	hc_rmark_polled(&m, 0, 0);
	hc_rmark_polled(&m, HC_RMARK_HANDOFF(3), 0);
	hc_rmark_polled(&m, 1, 100000);
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 800), 600);
	hc_rmark_polled(&m, 1, 0);
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 900), 750);
	/* a worker that reads nothing (stalled): nothing more is read up to */
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 5000), 750);
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 9000), 750);
	CU_ASSERT_EQUAL(hc_rmark_tick(&m, 90000), 750);
}

/* A gateway's first datagram (a first contact, a new incarnation, a
 * forgotten gateway back) is a sign of life even when it is not taken
 * (beyond the window, or far ahead: the appliance lost its state and asks
 * for a snapshot): the dead-gateway timeout runs from it, not from a
 * clock reading long past (a TSC far from 0, as on a real machine). */
static void test_first_datagram_is_heard(void)
{
	setup();
	const uint64_t scan = rte_get_tsc_hz() / 100; /* the dead scan's pace */
	const uint64_t t = 10 * scan;
	offer(7, 1, 1, 0);
	offer(8, 3, 1, 5500);
	hc_seq_poll(&s, 6000);                   /* 7 silent for 6000 > 5000 */
	CU_ASSERT_EQUAL(s.st.deaths, 1);
	CU_ASSERT_EQUAL(s.gw[7].incarnation, 0);
	offer(5, 9, 5000, t);                    /* first contact, beyond the window */
	offer(6, 9, 1 + HC_SEQ_FAR + 5, t);      /* first contact, far ahead */
	offer(7, 1, 500, t);                     /* back, beyond its window */
	offer(8, 4, 700, t);                     /* a new incarnation, beyond */
	hc_seq_poll(&s, t + 10);
	CU_ASSERT_EQUAL(s.st.deaths, 1);         /* none of them is dead */
	CU_ASSERT_EQUAL(n_dropped, 2);           /* 7's death, 8's incarnation */
	CU_ASSERT_EQUAL(s.gw[5].incarnation, 9);
	CU_ASSERT_EQUAL(s.gw[6].incarnation, 9);
	CU_ASSERT_EQUAL(s.gw[7].incarnation, 1);
	CU_ASSERT_EQUAL(s.gw[8].incarnation, 4);
	hc_seq_poll(&s, t + 10 + scan);          /* silent since: dead now */
	CU_ASSERT_EQUAL(s.st.deaths, 5);
	hc_seq_free(&s);
}

static void test_incarnations(void)
{
	setup();
	offer(5, 7, 1, 0);
	offer(5, 7, 3, 0);                    /* held */
	CU_ASSERT_EQUAL(n_dropped, 0);
	offer(5, 8, 1, 0);                    /* restart: held 3 dropped */
	CU_ASSERT_EQUAL(s.st.stale, 1);
	CU_ASSERT_EQUAL(n_dropped, 1);        /* and the old incarnation's users */
	CU_ASSERT_EQUAL(dropped[0], 5);
	CU_ASSERT_EQUAL(s.gw[5].incarnation, 8);
	CU_ASSERT_EQUAL(s.gw[5].resets, 1);
	offer(5, 7, 2, 0);                    /* the old incarnation is gone */
	CU_ASSERT_EQUAL(s.st.stale, 2);
	offer(5, 8, 2, 0);
	static const uint32_t want[] = {1, 1, 2};
	CU_ASSERT_TRUE(got_is(want, 3));
	CU_ASSERT_EQUAL(s.st.held_now, 0);
	hc_seq_free(&s);
}

/* A worker may give an earlier clock reading after a later one (its
 * loop's, after a wait that read the clock again): time does not go back.
 * A gap opened at 2000 is not NACKed at 1900, nor a RESTART asked again at
 * once; an old incarnation's datagram at 1900, after a restart at 2000, is
 * in flight, not an id conflict. */
static void test_clock_never_goes_back(void)
{
	setup();
	offer(1, 1, 1, 2000);
	offer(1, 1, 3, 2000);           /* 2 missing: the gap opens at 2000 */
	hc_seq_poll(&s, 1900);          /* an earlier reading: not due */
	CU_ASSERT_EQUAL(n_asked, 0);
	hc_seq_poll(&s, 2999);
	CU_ASSERT_EQUAL(n_asked, 0);
	hc_seq_poll(&s, 3000);          /* the timeout from 2000 */
	CU_ASSERT_EQUAL(n_asked, 1);
	CU_ASSERT_TRUE(asked_is(0, 1, HC_RESYNC_GAP, 2, 2));
	hc_seq_poll(&s, 2500);          /* the NACK at 3000 was the last */
	CU_ASSERT_EQUAL(n_asked, 1);
	hc_seq_free(&s);

	setup();
	uint64_t t = 10 * s.conflict_grace_tsc;
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 7, 1, 0, 0, t), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 8, 1, 0, 0, t + 100), HC_SEQ_NEWEST); /* restart */
	/* its last incarnation's progress, read with the loop's earlier clock */
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 7, 2, 0, 0, t), HC_SEQ_STALE);
	CU_ASSERT_EQUAL(s.st.id_conflicts, 0);
	CU_ASSERT_EQUAL(s.gw[4].last_heard_tsc, t + 100);
	hc_seq_free(&s);

	/* the dead scan is judged on the sequencer's clock: due at an earlier
	 * reading once a later one passed its time */
	setup();
	const uint64_t hz = rte_get_tsc_hz();
	offer(2, 1, 1, 10 * hz);
	hc_seq_poll(&s, 10 * hz); /* (a scan: the next one 10 ms on) */
	CU_ASSERT_FALSE(hc_seq_dead_scan_due(&s, 10 * hz + 1));
	offer(2, 1, 2, 10 * hz + hz / 50);
	CU_ASSERT_TRUE(hc_seq_dead_scan_due(&s, 10 * hz + 1));
	hc_seq_free(&s);
}

/* A loop's stale reading, however far behind (a wait inside the loop
 * may last long), sets nothing back: a gateway heard at t + 40 s stays
 * heard then.  A TSC that really stepped back is told
 * (hc_seq_fresh_clock: a fresh reading below the clock; hc_seq_clock_step):
 * the clock follows it, and
 * every stamp past it is brought to it, so that a gap open before the
 * step is NACKed a timeout after it, and a silent gateway is declared
 * dead a timeout after it (neither frozen until the clock climbs back). */
static void test_clock_steps_back(void)
{
	setup();
	const uint64_t hz = rte_get_tsc_hz(), t = 100 * hz;
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 7, 1, 0, 0, t + 40 * hz), HC_SEQ_NEWEST);
	offer(4, 7, 1, t);
	CU_ASSERT_EQUAL(s.gw[4].last_heard_tsc, t + 40 * hz);
	hc_seq_poll_read(&s, t, t + 40 * hz + 1);
	CU_ASSERT_EQUAL(s.gw[4].incarnation, 7); /* heard at t + 40 s: alive */
	hc_seq_free(&s);

	setup();
	const uint64_t back = t - 60 * hz;
	offer(1, 1, 1, t);
	offer(1, 1, 3, t);              /* 2 missing: the gap opens at t */
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 2, 8, 1, 0, 0, t), HC_SEQ_NEWEST); /* silent after */
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 9, 1, 0, 0, t), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 10, 1, 0, 0, t), HC_SEQ_NEWEST); /* restarted at t */
	hc_seq_poll(&s, t);             /* (a dead scan: the next one 10 ms on) */
	CU_ASSERT_FALSE(hc_seq_dead_scan_due(&s, t));
	/* a fresh reading above the clock is no step; one below it is */
	CU_ASSERT_EQUAL(hc_seq_fresh_clock(&s, t + 1), t + 1);
	CU_ASSERT_EQUAL(s.st.clock_steps, 0);
	CU_ASSERT_EQUAL(hc_seq_fresh_clock(&s, back), back);
	CU_ASSERT_EQUAL(s.st.clock_steps, 1);
	CU_ASSERT_EQUAL(s.clock, back);
	CU_ASSERT_EQUAL(s.gw[1].last_heard_tsc, back);
	CU_ASSERT_TRUE(hc_seq_dead_scan_due(&s, back)); /* (its time was past the step) */
	/* the last incarnation's datagram in flight: within the grace from
	 * the step, stale, not a conflict */
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 9, 2, 0, 0, back + 1), HC_SEQ_STALE);
	CU_ASSERT_EQUAL(s.st.id_conflicts, 0);
	hc_seq_poll_read(&s, back + 999, back);
	CU_ASSERT_EQUAL(n_asked, 0);    /* a timeout from the step */
	hc_seq_poll_read(&s, back + 1000, back);
	CU_ASSERT_EQUAL(n_asked, 1);
	CU_ASSERT_TRUE(asked_is(0, 1, HC_RESYNC_GAP, 2, 2));
	offer(1, 1, 2, back + 1100);    /* repaired */
	static const uint32_t want[] = {1, 2, 3};
	CU_ASSERT_TRUE(got_is(want, 3));
	/* gateway 2, silent since t: dead at the next scan past a timeout
	 * (5000) after the step, not once the clock has climbed back to t */
	hc_seq_poll_read(&s, back + hz, back + hz);
	CU_ASSERT_EQUAL(s.gw[2].incarnation, 0);
	hc_seq_free(&s);
}

static void test_many_gateways(void)
{
	setup();
	/* interleave 3 gateways, each reversed in pairs */
	for (uint32_t q = 1; q <= 20; q += 2)
		for (uint16_t gw = 1; gw <= 3; gw++) {
			offer(gw, 1, q + 1, 0);
			offer(gw, 1, q, 0);
		}
	CU_ASSERT_EQUAL(n_got, 60);
	for (uint16_t gw = 1; gw <= 3; gw++)
		CU_ASSERT_EQUAL(s.gw[gw].next_seq, 21);
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	CU_ASSERT_EQUAL(s.st.gaps, 30);
	hc_seq_free(&s);
}

/* HEARTBEAT and PLACE control counters: each accepted once, in a 64-wide
 * window; only fresh datagrams count as hearing from the gateway; an
 * older incarnation is stale, and long after a takeover a conflict. */
static void test_control_counters(void)
{
	setup();
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 7, 1, 0, 0, 100), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 7, 1, 0, 0, 200), HC_SEQ_OLD);
	CU_ASSERT_EQUAL(s.gw[4].last_heard_tsc, 100); /* a replay keeps nobody alive */
	CU_ASSERT_EQUAL(hc_seq_control(&s, 4, 7, 3, 300), HC_SEQ_NEWEST); /* a PLACE */
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 7, 2, 0, 0, 400), HC_SEQ_FRESH); /* late, new */
	CU_ASSERT_EQUAL(hc_seq_control(&s, 4, 7, 2, 500), HC_SEQ_OLD);
	CU_ASSERT_EQUAL(hc_seq_control(&s, 4, 7, 0, 500), HC_SEQ_OLD);
	CU_ASSERT_EQUAL(hc_seq_control(&s, 4, 7, 100, 600), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(hc_seq_control(&s, 4, 7, 37, 700), HC_SEQ_FRESH);  /* 63 back: in */
	CU_ASSERT_EQUAL(hc_seq_control(&s, 4, 7, 37, 700), HC_SEQ_OLD);
	CU_ASSERT_EQUAL(hc_seq_control(&s, 4, 7, 36, 700), HC_SEQ_OLD);    /* 64 back: out */
	CU_ASSERT_EQUAL(s.st.replayed, 5);
	CU_ASSERT_EQUAL(s.gw[4].last_heard_tsc, 700);
	CU_ASSERT_EQUAL(s.gw[4].heartbeats, 2);
	/* a newer incarnation starts a new window at 1 */
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 8, 1, 0, 0, 800), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.gw[4].incarnation, 8);
	/* the old one: stale while in flight; after the grace a replay of
	 * what it had sent is still only stale, progress is a conflict */
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 7, 101, 0, 0, 900), HC_SEQ_STALE);
	uint64_t later = 800 + s.conflict_grace_tsc + 1;
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 7, 50, 0, 0, later), HC_SEQ_STALE);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 7, 100, 0, 0, later), HC_SEQ_STALE);
	CU_ASSERT_EQUAL(s.st.id_conflicts, 0);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 7, 102, 0, 0, later), HC_SEQ_CONFLICT);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 7, 102, 0, 0, later), HC_SEQ_STALE);
	CU_ASSERT_EQUAL(s.st.id_conflicts, 1);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 6, 500, 0, 0, later), HC_SEQ_STALE); /* older still */
	CU_ASSERT_EQUAL(s.gw[4].incarnation, 8);
	CU_ASSERT_EQUAL(s.gw[4].last_heard_tsc, 800);
	hc_seq_free(&s);
}

/* A forgotten gateway keeps a floor: its old datagrams, replayed, neither
 * bring it back nor apply; its own next fresh datagram does. */
static void test_forget_floor(void)
{
	setup();
	for (uint32_t q = 1; q <= 3; q++)
		offer(5, 10, q, 0);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 5, 10, 1, 3, 0, 10), HC_SEQ_NEWEST);
	/* SHUTDOWN, naming 4 as its last (still on its way): the floor is 4 */
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 5, 10, 2, 4, 1, 20), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.gw[5].incarnation, 0);
	CU_ASSERT_EQUAL(s.gw[5].floor_seq, 4);
	unsigned delivered = n_got, drops = n_dropped;
	offer(5, 10, 4, 25);                                    /* late: no revival */
	CU_ASSERT_EQUAL(n_got, delivered);
	CU_ASSERT_EQUAL(s.gw[5].incarnation, 0);
	offer(5, 10, 2, 30);                                    /* replayed EVENTS */
	CU_ASSERT_EQUAL(n_got, delivered);
	CU_ASSERT_EQUAL(s.gw[5].incarnation, 0);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 5, 10, 2, 3, 0, 40), HC_SEQ_OLD); /* replayed */
	CU_ASSERT_EQUAL(s.gw[5].incarnation, 0);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 5, 9, 9, 0, 0, 50), HC_SEQ_STALE); /* older */
	CU_ASSERT_EQUAL(s.gw[5].incarnation, 0);
	CU_ASSERT_EQUAL(n_dropped, drops);
	/* the gateway itself, still running, comes back above its floor and
	 * is asked to restate its users (they were dropped) */
	CU_ASSERT_EQUAL(n_asked, 0);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 5, 10, 3, 4, 0, 60), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.gw[5].incarnation, 10);
	CU_ASSERT_TRUE(asked_is(0, 5, HC_RESYNC_RESTART, 0, 0));
	CU_ASSERT_EQUAL(s.gw[5].next_seq, 5);
	CU_ASSERT_EQUAL(hc_seq_applied(&s, 5), 4); /* (its floor) */
	offer(5, 10, 5, 70);
	CU_ASSERT_EQUAL(n_got, delivered + 1);
	/* a new incarnation clears the floor */
	offer(5, 11, 1, 80);
	CU_ASSERT_EQUAL(s.gw[5].incarnation, 11);
	CU_ASSERT_EQUAL(s.gw[5].floor_inc, 0);
	CU_ASSERT_EQUAL(n_got, delivered + 2);
	/* one that sent heartbeats only, forgotten (floor 0) and back:
	 * nothing applied, not 2^32 - 1 (the sequence before 1) */
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 7, 20, 1, 0, 0, 100), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 7, 20, 2, 0, 1, 110), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.gw[7].incarnation, 0);
	CU_ASSERT_EQUAL(s.gw[7].floor_inc, 20);
	CU_ASSERT_EQUAL(s.gw[7].floor_seq, 0);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 7, 20, 3, 0, 0, 120), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.gw[7].incarnation, 20);
	CU_ASSERT_EQUAL(hc_seq_applied(&s, 7), 0);
	offer(7, 20, 1, 130);
	CU_ASSERT_EQUAL(hc_seq_applied(&s, 7), 1);
	hc_seq_free(&s);
}

/* A sequence claimed far ahead is not a gap to NACK and count lost: the
 * gateway is asked for a snapshot. */
static void test_far_claims(void)
{
	setup();
	offer(6, 1, 1, 0);
	offer(6, 1, 1 + HC_SEQ_FAR + 5, 10);
	CU_ASSERT_TRUE(asked_is(0, 6, HC_RESYNC_RESTART, 0, 0));
	CU_ASSERT_EQUAL(s.n_gaps, 0); /* nothing to NACK: no gap opened */
	CU_ASSERT_EQUAL(s.st.gaps, 0);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 6, 1, 1, 1000000000u, 0, 20), HC_SEQ_NEWEST);
	for (uint64_t t = 1000; t <= 20000; t += 1000)
		hc_seq_poll(&s, t);
	CU_ASSERT_EQUAL(s.st.lost, 0);
	CU_ASSERT_EQUAL(s.st.nacks, 0);
	CU_ASSERT_EQUAL(s.gw[6].known_last, 1);
	hc_seq_free(&s);
}

/* A gateway first heard past 2^31 sequences (it outlived an appliance
 * restart): serial order puts it behind sequence 1, but nothing of it was
 * applied, so none of it is a duplicate; its state is asked for and its
 * snapshot taken.  A reset point jumps known_last along (the fuzzer's
 * case: exactly 2^31 on, known_last left at 0 read as ahead of next). */
static void test_first_contact_past_half(void)
{
	setup();
	offer(4, 7, 0x90000000u, 0);
	CU_ASSERT_EQUAL(s.st.duplicates, 0);
	CU_ASSERT_EQUAL(n_asked, 1);
	CU_ASSERT_TRUE(asked_is(0, 4, HC_RESYNC_RESTART, 0, 0));
	offer_rp(4, 7, 0x90000010u, 1, 10);      /* its snapshot */
	offer(4, 7, 0x90000011u, 20);
	static const uint32_t want[] = {0x90000010u, 0x90000011u};
	CU_ASSERT_TRUE(got_is(want, 2));
	CU_ASSERT_EQUAL(s.gw[4].next_seq, 0x90000012u);
	CU_ASSERT_EQUAL(s.gw[4].known_last, 0x90000011u);
	offer(4, 7, 0x90000011u, 30);            /* now a duplicate */
	CU_ASSERT_EQUAL(s.st.duplicates, 1);

	offer_rp(5, 7, 0x80000001u, 1, 0);
	CU_ASSERT_EQUAL(n_got, 3);
	CU_ASSERT_EQUAL(s.gw[5].next_seq, 0x80000002u);
	CU_ASSERT_EQUAL(s.gw[5].known_last, 0x80000001u);
	offer(5, 7, 0x80000003u, 30);            /* 0x80000002 missing: held, a gap */
	CU_ASSERT_EQUAL(s.gw[5].known_last, 0x80000003u);
	CU_ASSERT_EQUAL(s.gw[5].held, 1);
	CU_ASSERT_NOT_EQUAL(s.gw[5].gap_index, UINT32_MAX);
	offer(5, 7, 0x80000002u, 40);            /* repaired */
	CU_ASSERT_EQUAL(n_got, 5);
	CU_ASSERT_EQUAL(s.gw[5].gap_index, UINT32_MAX);

	/* a heartbeat at first contact naming such a sequence asks too */
	unsigned before = n_asked;
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 6, 7, 1, 0xA0000000u, 0, 50), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(n_asked, before + 1);
	CU_ASSERT_TRUE(asked_is(before, 6, HC_RESYNC_RESTART, 0, 0));
	CU_ASSERT_EQUAL(s.st.lost, 0);
	hc_seq_free(&s);
}

/* next_seq is 1 again after a wrap (2^32 - 1 sequences on): that is not
 * a fresh start, and nothing applied may be applied again. */
static void test_wrap_is_not_first_contact(void)
{
	setup();
	/* a snapshot at the very last sequence, at first contact */
	offer_rp(4, 7, UINT32_MAX, 1, 0);
	CU_ASSERT_EQUAL(n_got, 1);
	CU_ASSERT_EQUAL(s.gw[4].next_seq, 1);
	CU_ASSERT_EQUAL(s.gw[4].known_last, UINT32_MAX);
	/* the ack names the last sequence, not 0 ("none") */
	CU_ASSERT_EQUAL(hc_seq_applied(&s, 4), UINT32_MAX);
	offer_rp(4, 7, UINT32_MAX, 1, 10);        /* its duplicate */
	offer_rp(4, 7, 0x90000010u, 1, 20);       /* an older snapshot, late */
	CU_ASSERT_EQUAL(n_got, 1);
	CU_ASSERT_EQUAL(s.st.duplicates, 2);
	offer(4, 7, 1, 30);                       /* on past the wrap */
	CU_ASSERT_EQUAL(n_got, 2);
	CU_ASSERT_EQUAL(hc_seq_applied(&s, 4), 1);
	/* a first contact whose first datagram waits behind a gap: nothing
	 * applied, though next_seq is 1 and something was seen */
	offer(2, 7, 3, 40);
	CU_ASSERT_EQUAL(s.gw[2].next_seq, 1);
	CU_ASSERT_EQUAL(s.gw[2].seen, 1);
	CU_ASSERT_EQUAL(hc_seq_applied(&s, 2), 0);
	offer(2, 7, 1, 50);
	CU_ASSERT_EQUAL(hc_seq_applied(&s, 2), 1);

	/* in order across the wrap, then a reset point exactly 2^31 on */
	offer_rp(5, 7, 0xFFFFFFF0u, 1, 0);
	for (uint32_t q = 0xFFFFFFF1u; q != 0; q++)
		offer(5, 7, q, 0);
	CU_ASSERT_EQUAL(s.gw[5].next_seq, 1);
	CU_ASSERT_EQUAL(s.gw[5].known_last, UINT32_MAX);
	CU_ASSERT_EQUAL(hc_seq_applied(&s, 5), UINT32_MAX);
	unsigned got5 = n_got;
	offer(5, 7, 0xFFFFFFF5u, 10);             /* behind 1 now: a duplicate */
	CU_ASSERT_EQUAL(n_got, got5);
	offer_rp(5, 7, 0x80000001u, 1, 20);
	CU_ASSERT_EQUAL(n_got, got5 + 1);
	CU_ASSERT_EQUAL(s.gw[5].next_seq, 0x80000002u);
	CU_ASSERT_EQUAL(s.gw[5].known_last, 0x80000001u);
	CU_ASSERT_EQUAL(s.gw[5].gap_index, UINT32_MAX);

	/* a gap given up onto 1 (the heartbeat names the last sequence) */
	offer_rp(3, 1, 0xFFFFFFF0u, 1, 0);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 3, 1, 1, UINT32_MAX, 0, 0), HC_SEQ_NEWEST);
	CU_ASSERT_NOT_EQUAL(s.gw[3].gap_index, UINT32_MAX);
	for (uint64_t t = 1000; t <= 4000; t += 1000)
		hc_seq_poll(&s, t);
	CU_ASSERT_EQUAL(s.gw[3].gap_index, UINT32_MAX);
	CU_ASSERT_EQUAL(s.gw[3].next_seq, 1);
	CU_ASSERT_EQUAL(s.gw[3].known_last, UINT32_MAX);
	CU_ASSERT_EQUAL(hc_seq_applied(&s, 3), UINT32_MAX);
	unsigned got3 = n_got;
	offer_rp(3, 1, 0xFFFFFFF0u, 1, 5000);      /* its snapshot again: a duplicate */
	CU_ASSERT_EQUAL(n_got, got3);
	hc_seq_free(&s);
}


/* The sweep budget: a snapshot's last chunk, a newer incarnation and a
 * SHUTDOWN each sweep the gateway's users; one every 100 tsc, 2 at once.
 * Beyond, the datagram is not taken (counted), nothing changes, and the
 * snapshot's end is NACKed as a gap; sent again once the budget allows,
 * it is taken.  Other datagrams never wait; a restart keeps the budget. */
static void test_sweep_budget(void)
{
	const unsigned whole = HC_SEQ_RESET_POINT | HC_SEQ_ENDS_SNAPSHOT;
	setup();
	hc_seq_set_sweep_budget(&s, 100, 2);
	struct hc_gw_state *g = &s.gw[4];
	CU_ASSERT_EQUAL(offer_f(4, 1, 1, 0, 0), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(offer_f(4, 1, 2, whole, 0), HC_SEQ_NEWEST);      /* 1st */
	CU_ASSERT_EQUAL(offer_f(4, 1, 3, HC_SEQ_RESET_POINT, 0), HC_SEQ_NEWEST); /* chunk 0 of 2 */
	CU_ASSERT_EQUAL(offer_f(4, 1, 4, HC_SEQ_ENDS_SNAPSHOT, 0), HC_SEQ_NEWEST); /* 2nd */
	CU_ASSERT_EQUAL(offer_f(4, 1, 5, whole, 0), HC_SEQ_OLD);         /* over */
	CU_ASSERT_EQUAL(offer_f(4, 1, 6, 0, 0), HC_SEQ_NEWEST);          /* events: held */
	static const uint32_t want1[] = {1, 2, 3, 4};
	CU_ASSERT_TRUE(got_is(want1, 4));
	CU_ASSERT_EQUAL(s.st.sweeps_deferred, 1);
	CU_ASSERT_EQUAL(g->sweeps_deferred, 1);
	CU_ASSERT_EQUAL(g->next_seq, 5);
	CU_ASSERT_EQUAL(s.st.held_now, 1);
	CU_ASSERT_EQUAL(s.st.duplicates, 0);
	hc_seq_poll(&s, 1000);                          /* the snapshot's end is asked for */
	CU_ASSERT_EQUAL(n_asked, 1);
	CU_ASSERT_TRUE(asked_is(0, 4, HC_RESYNC_GAP, 5, 5));
	CU_ASSERT_EQUAL(offer_f(4, 1, 5, whole, 1000), HC_SEQ_FRESH); /* again: taken */
	static const uint32_t want2[] = {1, 2, 3, 4, 5, 6};
	CU_ASSERT_TRUE(got_is(want2, 6));
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	CU_ASSERT_EQUAL(s.st.lost, 0);
	/* a held snapshot end waits too */
	const unsigned end = HC_SEQ_ENDS_SNAPSHOT;
	CU_ASSERT_EQUAL(offer_f(4, 1, 8, end, 1000), HC_SEQ_NEWEST); /* 2nd at 1000 */
	CU_ASSERT_EQUAL(offer_f(4, 1, 9, end, 1000), HC_SEQ_OLD);    /* over */
	CU_ASSERT_EQUAL(s.st.sweeps_deferred, 2);
	CU_ASSERT_EQUAL(offer_f(4, 1, 7, 0, 1000), HC_SEQ_FRESH);      /* 7 and 8 */
	CU_ASSERT_EQUAL(g->next_seq, 9);
	CU_ASSERT_EQUAL(offer_f(4, 1, 9, end, 1100), HC_SEQ_FRESH);  /* due at 1100 */
	CU_ASSERT_EQUAL(g->next_seq, 10);
	CU_ASSERT_EQUAL(n_dropped, 0);

	/* a newer incarnation: its users' drop waits; nothing changes */
	CU_ASSERT_EQUAL(offer_f(4, 2, 1, 0, 1150), HC_SEQ_OLD);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 2, 1, 1, 0, 1150), HC_SEQ_OLD);
	CU_ASSERT_EQUAL(s.st.sweeps_deferred, 4);
	CU_ASSERT_EQUAL(g->incarnation, 1);
	CU_ASSERT_EQUAL(g->next_seq, 10);
	CU_ASSERT_EQUAL(g->resets, 0);
	CU_ASSERT_EQUAL(s.st.stale, 0);
	CU_ASSERT_EQUAL(n_dropped, 0);
	CU_ASSERT_EQUAL(offer_f(4, 1, 10, 0, 1150), HC_SEQ_NEWEST); /* the old one goes on */
	CU_ASSERT_EQUAL(offer_f(4, 2, 1, 0, 1200), HC_SEQ_NEWEST);  /* taken */
	CU_ASSERT_EQUAL(g->incarnation, 2);
	CU_ASSERT_EQUAL(n_dropped, 1);
	CU_ASSERT_EQUAL(dropped[0], 4);

	/* a SHUTDOWN over the budget: taken (a replay of it is a replay),
	 * its users stay until the budget allows, then it is forgotten */
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 2, 7, 1, 1, 1250), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.st.sweeps_deferred, 5);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 4, 2, 7, 1, 1, 1260), HC_SEQ_OLD);
	CU_ASSERT_EQUAL(s.st.replayed, 1);
	CU_ASSERT_EQUAL(s.st.sweeps_deferred, 5);
	CU_ASSERT_EQUAL(s.n_due, 1);
	hc_seq_poll(&s, 1299);
	CU_ASSERT_EQUAL(g->incarnation, 2);
	CU_ASSERT_EQUAL(s.st.deaths, 0);
	CU_ASSERT_EQUAL(n_dropped, 1);
	hc_seq_poll(&s, 1300);
	CU_ASSERT_EQUAL(g->incarnation, 0);
	CU_ASSERT_EQUAL(s.st.deaths, 1);
	CU_ASSERT_EQUAL(n_dropped, 2);
	CU_ASSERT_EQUAL(s.n_due, 0);

	/* the budget outlives the death: the next contact is no sweep, but
	 * its snapshot's end is one, due at 1400 */
	CU_ASSERT_EQUAL(offer_f(4, 3, 1, 0, 1310), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(offer_f(4, 3, 2, whole, 1310), HC_SEQ_OLD);
	CU_ASSERT_EQUAL(s.st.sweeps_deferred, 6);
	CU_ASSERT_EQUAL(offer_f(4, 3, 2, whole, 1310), HC_SEQ_OLD); /* (a copy: not taken either) */
	CU_ASSERT_EQUAL(s.st.sweeps_deferred, 7);
	CU_ASSERT_EQUAL(offer_f(4, 3, 2, whole, 1400), HC_SEQ_FRESH);
	CU_ASSERT_EQUAL(g->next_seq, 3);

	/* another gateway has its own budget */
	CU_ASSERT_EQUAL(offer_f(5, 1, 1, whole, 1400), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(offer_f(5, 1, 2, whole, 1400), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.gw[5].sweeps_deferred, 0);

	/* SHUTDOWNs that drop nothing more: of a gateway not known, again
	 * and again (each a first contact after the last), and of a newer
	 * incarnation (its predecessor's users dropped once, as such) */
	unsigned dropped_before = n_dropped;
	uint64_t deferred_before = s.st.sweeps_deferred;
	for (uint32_t ctr = 1; ctr <= 20; ctr++)
		CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 8, 1, ctr, 0, 1, 1400), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(n_dropped, dropped_before);
	CU_ASSERT_EQUAL(s.gw[8].incarnation, 0);
	CU_ASSERT_EQUAL(s.gw[8].sweep_tat, 0);
	CU_ASSERT_EQUAL(offer_f(9, 1, 1, 0, 1400), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 9, 2, 1, 0, 1, 1400), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(n_dropped, dropped_before + 1);
	CU_ASSERT_EQUAL(s.gw[9].incarnation, 0);
	CU_ASSERT_EQUAL(s.st.sweeps_deferred, deferred_before);
	hc_seq_free(&s);
}

/* A snapshot's end the budget refuses for longer than the NACK rounds:
 * the rounds count from the last refusal, so the gap is not given up
 * while the gateway answers its NACKs, and the chunk is taken when the
 * budget allows (2 rounds, a sweep every 10,000 tsc). */
static void test_sweep_budget_outlasts_nacks(void)
{
	const unsigned whole = HC_SEQ_RESET_POINT | HC_SEQ_ENDS_SNAPSHOT;
	setup();
	hc_seq_set_sweep_budget(&s, 10000, 1);
	CU_ASSERT_EQUAL(offer_f(2, 1, 1, whole, 0), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(offer_f(2, 1, 2, whole, 0), HC_SEQ_OLD);
	for (uint64_t t = 1000; t <= 9000; t += 1000) {
		hc_seq_poll(&s, t);                     /* a NACK round */
		CU_ASSERT_EQUAL(offer_f(2, 1, 2, whole, t + 500), HC_SEQ_OLD); /* sent again */
	}
	CU_ASSERT_EQUAL(s.st.lost, 0);
	CU_ASSERT_EQUAL(s.gw[2].nacks, 9);
	CU_ASSERT_EQUAL(offer_f(2, 1, 2, whole, 10000), HC_SEQ_FRESH);
	static const uint32_t want[] = {1, 2};
	CU_ASSERT_TRUE(got_is(want, 2));
	CU_ASSERT_EQUAL(s.st.lost, 0);
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	hc_seq_free(&s);
}

/* Without a budget (the default) nothing waits. */
static void test_no_sweep_budget(void)
{
	setup();
	for (uint32_t q = 1; q <= 50; q++)
		CU_ASSERT_EQUAL(offer_f(4, 1, q, HC_SEQ_RESET_POINT | HC_SEQ_ENDS_SNAPSHOT, 0),
				HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(n_got, 50);
	CU_ASSERT_EQUAL(s.st.sweeps_deferred, 0);
	hc_seq_free(&s);
}

/* A gateway forgotten just past the wrap keeps its floor at the last
 * sequence it sent (2^32 - 1), not at 0 (the sequence before 1 is 2^32 - 1). */
static void test_floor_after_wrap(void)
{
	setup();
	offer_rp(6, 9, 0xFFFFFFFEu, 1, 0);
	offer(6, 9, UINT32_MAX, 0);
	CU_ASSERT_EQUAL(s.gw[6].next_seq, 1);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 6, 9, 1, UINT32_MAX, 1, 10), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.gw[6].incarnation, 0);
	CU_ASSERT_EQUAL(s.gw[6].floor_seq, UINT32_MAX);
	unsigned got6 = n_got;
	offer(6, 9, 0x7FFFFFFFu, 20); /* 2^31 before the floor: no revival */
	CU_ASSERT_EQUAL(n_got, got6);
	CU_ASSERT_EQUAL(s.gw[6].incarnation, 0);
	hc_seq_free(&s);
}

/* A far-ahead claim (far_top) is part of a floor only until what is
 * applied passes it: kept, it read as ahead again 2^31 sequences on, and
 * a gateway forgotten then (silent a moment, or an HA demotion) got it as
 * its floor: every later datagram, its snapshot too, a duplicate, for
 * good (found by a review).  And a gateway first heard past 2^31 and
 * forgotten before its snapshot came has its claim as its floor, not 0,
 * from which every sequence past 2^31 read as a duplicate. */
static void test_far_claim_outlived(void)
{
	setup();
	/* an appliance restart: its first heartbeat names 100,000 */
	const uint32_t s0 = 100000;
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 8, 30, 1, s0, 0, 0), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.gw[8].far_top, s0);
	offer_rp(8, 30, s0 + 1, 1, 10);       /* its snapshot */
	CU_ASSERT_EQUAL(s.gw[8].next_seq, s0 + 2);
	CU_ASSERT_EQUAL(s.gw[8].far_top, 0);  /* applied past */
	/* more than 2^31 sequences on (reset points there, each within
	 * 2^31 of the last, as the gateway's own snapshots could be) */
	const uint32_t on = s0 + 3 * 0x30000000u;
	for (uint32_t k = 1; k <= 3; k++)
		offer_rp(8, 30, s0 + k * 0x30000000u, 1, 20);
	CU_ASSERT_EQUAL(s.gw[8].next_seq, on + 1);
	offer(8, 30, on + 1, 30);
	CU_ASSERT_EQUAL(s.gw[8].next_seq, on + 2);
	/* forgotten (SHUTDOWN naming its last): the floor is its last */
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 8, 30, 2, on + 1, 1, 40), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.gw[8].incarnation, 0);
	CU_ASSERT_EQUAL(s.gw[8].floor_seq, on + 1);
	/* back: asked to restate, and its snapshot taken */
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 8, 30, 3, on + 1, 0, 50), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.gw[8].next_seq, on + 2);
	unsigned delivered = n_got;
	uint64_t dups = s.st.duplicates;
	offer_rp(8, 30, on + 2, 1, 60);
	offer(8, 30, on + 3, 70);
	CU_ASSERT_EQUAL(n_got, delivered + 2);
	CU_ASSERT_EQUAL(s.st.duplicates, dups);

	/* first heard past 2^31 (a heartbeat), forgotten before its
	 * snapshot: its claim is its floor */
	const uint32_t past = 0x90000000u;
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 9, 40, 1, past, 0, 100), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 9, 40, 2, past, 1, 110), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.gw[9].incarnation, 0);
	CU_ASSERT_EQUAL(s.gw[9].floor_seq, past);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 9, 40, 3, past, 0, 120), HC_SEQ_NEWEST);
	CU_ASSERT_EQUAL(s.gw[9].incarnation, 40);
	delivered = n_got;
	offer_rp(9, 40, past + 1, 1, 130);     /* its snapshot */
	CU_ASSERT_EQUAL(n_got, delivered + 1);
	CU_ASSERT_EQUAL(s.st.duplicates, dups);
	CU_ASSERT_EQUAL(s.gw[9].next_seq, past + 2);
	hc_seq_free(&s);
}

/* A control counter of 0 is never sent and never accepted, not even
 * from a newer incarnation, whose first datagram would otherwise drop the
 * gateway's users before the replay window refused it (a review found
 * the order). */
static void test_counter_zero_acts_on_nothing(void)
{
	setup();
	offer(3, 50, 1, 0);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 3, 50, 1, 1, 0, 10), HC_SEQ_NEWEST);
	unsigned drops = n_dropped;
	uint64_t replayed = s.st.replayed;
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 3, 51, 0, 0, 0, 20), HC_SEQ_OLD);
	CU_ASSERT_EQUAL(hc_seq_control(&s, 3, 51, 0, 30), HC_SEQ_OLD);
	CU_ASSERT_EQUAL(s.gw[3].incarnation, 50);
	CU_ASSERT_EQUAL(n_dropped, drops);
	CU_ASSERT_EQUAL(s.st.replayed, replayed + 2);
	CU_ASSERT_EQUAL(hc_seq_heartbeat(&s, 3, 51, 1, 0, 0, 40), HC_SEQ_NEWEST); /* counter 1 */
	CU_ASSERT_EQUAL(s.gw[3].incarnation, 51);
	CU_ASSERT_EQUAL(n_dropped, drops + 1);
	hc_seq_free(&s);
}

static CU_TestInfo tests[] = {
	{"a reset point half the sequence space ahead", test_reset_point_half_the_space_ahead},
	{"an honest gateway through a lossy channel, across the wrap", test_channel_fuzz},
	{"a floor just past the wrap", test_floor_after_wrap},
	{"sweep budget: snapshot ends, incarnations, SHUTDOWN", test_sweep_budget},
	{"no sweep budget", test_no_sweep_budget},
	{"sweep budget: a refused snapshot end outlasts the NACK rounds",
	 test_sweep_budget_outlasts_nacks},
	{"control counters, stale, conflict", test_control_counters},
	{"forgotten gateway's floor", test_forget_floor},
	{"far-ahead claims", test_far_claims},
	{"a far-ahead claim outlived: no floor of it 2^31 on", test_far_claim_outlived},
	{"a control counter of 0 acts on nothing", test_counter_zero_acts_on_nothing},
	{"in order", test_in_order},
	{"reorder and duplicates", test_reorder_and_duplicates},
	{"gap NACKed and repaired", test_gap_nack_and_repair},
	{"gap given up after NACKs", test_gap_given_up},
	{"a gap repaired over more rounds than the NACK limit", test_gap_repaired_over_rounds},
	{"beyond the window", test_beyond_window},
	{"flush at shutdown", test_flush_at_shutdown},
	{"heartbeat names a lost tail", test_heartbeat_tail_gap},
	{"snapshot is a reset point", test_snapshot_reset_point},
	{"first contact", test_first_contact},
	{"first contact past 2^31 sequences", test_first_contact_past_half},
	{"a wrap to 1 is not a first contact", test_wrap_is_not_first_contact},
	{"dead and shutdown gateways", test_dead_and_shutdown},
	{"dead gateways judged on input read", test_dead_judged_on_input_read},
	{"the worker's read mark: found empty, or a capacity taken", test_read_mark},
	{"a first datagram not taken is a sign of life", test_first_datagram_is_heard},
	{"incarnations", test_incarnations},
	{"several gateways", test_many_gateways},
	{"the clock never goes back", test_clock_never_goes_back},
	{"a TSC that steps back: the clock follows", test_clock_steps_back},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_sequencer = {"sequencer", NULL, NULL, NULL, NULL, tests};
