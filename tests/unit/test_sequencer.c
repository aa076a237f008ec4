/*
 * test_sequencer.c - per-gateway ordering: in order, reordered, duplicated,
 * lost (window overflow, timeout, heartbeat tail), incarnation changes,
 * flush at shutdown.  Each test mbuf carries its sequence number; the
 * deliver callback records the order it sees.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "hc_sequencer.h"
#include "hc_unit.h"

static struct hc_sequencer s;
static uint32_t got[1024];
static unsigned n_got;

static void record(void *ctx, struct rte_mbuf *m)
{
	(void)ctx;
	uint32_t seq;
	memcpy(&seq, rte_pktmbuf_mtod(m, void *), 4);
	if (n_got < 1024)
		got[n_got++] = seq;
	rte_pktmbuf_free(m);
}

static void offer(uint16_t gw, uint32_t inc, uint32_t seq, uint64_t now)
{
	struct rte_mbuf *m = hc_test_mbuf(&seq, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	hc_seq_events(&s, m, gw, inc, seq, now);
}

static void setup(void)
{
	n_got = 0;
	CU_ASSERT_EQUAL_FATAL(hc_seq_init(&s, 16, 1000 /* tsc */, record, NULL, 0), 0);
}

static int got_is(const uint32_t *want, unsigned n)
{
	return n_got == n && memcmp(got, want, n * 4) == 0;
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

static void test_gap_timeout(void)
{
	setup();
	offer(1, 1, 1, 0);
	offer(1, 1, 3, 10);             /* 2 is missing */
	offer(1, 1, 4, 20);
	hc_seq_poll(&s, 500);           /* not yet */
	CU_ASSERT_EQUAL(n_got, 1);
	hc_seq_poll(&s, 1010);          /* gap older than 1000: give up on 2 */
	static const uint32_t want[] = {1, 3, 4};
	CU_ASSERT_TRUE(got_is(want, 3));
	CU_ASSERT_EQUAL(s.st.lost, 1);
	CU_ASSERT_EQUAL(s.gw[1].lost, 1);
	offer(1, 1, 2, 2000);           /* too late: a duplicate now */
	CU_ASSERT_EQUAL(s.st.duplicates, 1);
	CU_ASSERT_EQUAL(n_got, 3);
	hc_seq_free(&s);
}

static void test_window_overflow(void)
{
	setup();
	offer(1, 1, 1, 0);
	offer(1, 1, 3, 0);
	offer(1, 1, 2 + HC_SEQ_WINDOW + 10, 0); /* far ahead: 2 and the rest lost */
	CU_ASSERT_EQUAL(n_got, 2);
	CU_ASSERT_EQUAL(got[1], 3);
	CU_ASSERT_EQUAL(s.gw[1].next_seq, 2 + HC_SEQ_WINDOW + 10 - HC_SEQ_WINDOW + 1);
	/* given up: 2 and 4 .. next-1, the newest window stays open */
	CU_ASSERT_EQUAL(s.st.lost, 1 + (s.gw[1].next_seq - 4));
	CU_ASSERT_EQUAL(s.st.lost, 10);
	CU_ASSERT_EQUAL(s.st.held_now, 1);
	hc_seq_flush_all(&s);           /* shutdown: deliver the held one */
	CU_ASSERT_EQUAL(n_got, 3);
	CU_ASSERT_EQUAL(got[2], 2 + HC_SEQ_WINDOW + 10);
	/* everything but 1, 3 and the last was lost */
	CU_ASSERT_EQUAL(s.st.lost, 2 + HC_SEQ_WINDOW + 10 - 3);
	CU_ASSERT_EQUAL(s.st.held_now, 0);
	hc_seq_free(&s);
}

static void test_heartbeat_tail_gap(void)
{
	setup();
	offer(4, 1, 1, 0);
	hc_seq_heartbeat(&s, 4, 1, 3, 100);   /* gateway sent 2 and 3: lost */
	CU_ASSERT_EQUAL(s.n_gaps, 1);
	hc_seq_poll(&s, 600);
	CU_ASSERT_EQUAL(s.st.lost, 0);
	hc_seq_poll(&s, 1100);
	CU_ASSERT_EQUAL(s.st.lost, 2);
	CU_ASSERT_EQUAL(s.gw[4].next_seq, 4);
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	hc_seq_heartbeat(&s, 4, 1, 3, 1200);  /* nothing missing now */
	CU_ASSERT_EQUAL(s.n_gaps, 0);
	CU_ASSERT_EQUAL(s.gw[4].heartbeats, 2);
	hc_seq_free(&s);
}

static void test_incarnations(void)
{
	setup();
	offer(5, 7, 1, 0);
	offer(5, 7, 3, 0);                    /* held */
	offer(5, 8, 1, 0);                    /* restart: held 3 dropped */
	CU_ASSERT_EQUAL(s.st.stale, 1);
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

int hc_test_register_sequencer(void)
{
	CU_pSuite su = CU_add_suite("sequencer", NULL, NULL);
	return su == NULL ||
	       !CU_add_test(su, "in order", test_in_order) ||
	       !CU_add_test(su, "reorder and duplicates", test_reorder_and_duplicates) ||
	       !CU_add_test(su, "gap timeout", test_gap_timeout) ||
	       !CU_add_test(su, "window overflow and flush", test_window_overflow) ||
	       !CU_add_test(su, "heartbeat names a lost tail", test_heartbeat_tail_gap) ||
	       !CU_add_test(su, "incarnations", test_incarnations) ||
	       !CU_add_test(su, "several gateways", test_many_gateways);
}
