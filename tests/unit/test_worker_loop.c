/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_worker_loop.c - the worker's own loop (hc_worker_main) run on the
 * test's lcore against a net_ring port, for what only the loop decides:
 * how far back its input is read (the read mark, hc_readmark.h) under an
 * input that never runs empty, and while the queue's mbuf pool is dry.
 * An RX callback on the port watches every poll and ends the loop
 * (HC_STOP) once the verdict is in or a deadline passed; for a flood it
 * also makes every poll return as many frames as it asked for (a flood
 * no sender on this machine could keep up against a worker), so no poll
 * ever finds the queue empty.  Deterministic: nothing here depends on
 * how fast the loop runs, only on what it was given (a deadline only
 * ends a run in which nothing was due to happen, or a broken build's).
 */
#include <arpa/inet.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "hc_dataplane.h"
#include "hc_frame.h"
#include "hc_options.h"
#include "hc_proto.h"
#include "hc_proto_hdr.h"
#include "hc_unit.h"
#include "hc_worker.h"
#include "hc_worker_state.h"

static struct hc_config cfg;
static struct hc_dataplane dp;
static struct rte_ring *rxr, *txr;
static uint16_t port;

static const struct hc_frame_addr addr = {
	.dst_mac = {2, 0, 0, 0, 0, 1}, .src_mac = {2, 0, 0, 0, 0, 2},
	.src_ip = 0xC6120002, .dst_ip = 0xC6120001, .src_port = 40000, .dst_port = 7100};

static int setup(void)
{
	/* a gateway silent for 200 ms is dead */
	char *argv[] = {"t", "--max-users", "4096", "--max-rooms", "64", "--max-gateways", "8",
			"--no-auth", "--no-admission", "--gateway-timeout-ms", "200", NULL};
	if (hc_config_parse(&cfg, 11, argv) != 0)
		return -1;
	unsigned lcore = rte_lcore_id();
	if (hc_dataplane_init(&dp, &cfg, 1, &lcore, 0) != 0)
		return -1;
	int p = hc_test_ring_port("hc_unit_loop", 1024, &rxr, &txr);
	if (p < 0)
		return -1;
	port = (uint16_t)p;
	struct hc_worker *w = dp.workers[0];
	w->txq[port] = 0;
	w->rxq[0].port = port;
	w->rxq[0].queue = 0;
	w->n_rxq = 1;
	dp.port_mac[port] = (struct rte_ether_addr){{2, 0, 0, 0, 0, 1}};
	return 0;
}

static int teardown(void)
{
	hc_test_ring_port_free(port, rxr, txr);
	hc_dataplane_free(&dp);
	return 0;
}

/* A frame for another UDP port, shared: what flood_cb fills answers
 * with. */
static struct rte_mbuf *junk;

/* What the RX callback gives and watches. */
static struct flood {
	uint64_t polls, short_answers, frames, junk_given;
	uint64_t deaths0;       /* the sequencer's deaths before the run */
	uint64_t deadline;      /* TSC: stop the loop here whatever happened */
	uint64_t started;       /* TSC of the first poll */
	uint64_t death_at;      /* TSC the gateway's death was first seen */
	uint64_t read_up_to_at_death;
	uint16_t gw;            /* the gateway whose death is watched, 0:
	                           any (the sequencer's deaths counted) */
	int gw_heard;           /* gw has been heard (then forgotten: dead) */
} fl;

/* At each poll: the first poll's time, the first death seen (fl.gw's
 * forgotten, or any counted) and how far back the input was read then;
 * the loop stopped once the gateway is dead, or at the deadline. */
static void watch(struct hc_worker *w)
{
	uint64_t now = rte_rdtsc();
	if (fl.polls++ == 0)
		fl.started = now;
	int dead = w->seq.st.deaths > fl.deaths0;
	if (fl.gw != 0) {
		int known = w->seq.gw[fl.gw].incarnation != 0;
		dead = fl.gw_heard && !known;
		fl.gw_heard |= known;
	}
	if (fl.death_at == 0 && dead) {
		fl.death_at = now;
		fl.read_up_to_at_death = __atomic_load_n(&w->read_up_to, __ATOMIC_RELAXED);
	}
	if (fl.death_at != 0 || now > fl.deadline)
		hc_dp_set_state(&dp, HC_STOP);
}

/* After each poll: fill the answer up to what was asked with the junk
 * frame (one more reference each), so the worker never finds the queue
 * empty; watched (watch). */
static uint16_t flood_cb(uint16_t p, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
			 uint16_t max, void *arg)
{
	(void)p;
	(void)q;
	watch(arg);
	if (n < max) {
		uint16_t k = (uint16_t)(max - n);
		rte_mbuf_refcnt_update(junk, (int16_t)k);
		for (uint16_t i = 0; i < k; i++)
			pkts[n + i] = junk;
		fl.junk_given += k;
		n = max;
	}
	if (n == 0)
		fl.short_answers++; /* (never: every poll gets what it asked for) */
	fl.frames += n;
	return n;
}

/* Run the worker's loop with RX callback fn (which calls watch) until
 * gateway gw's death (heard, then forgotten), or fn stops it, or
 * `seconds`. */
static void run_loop(struct hc_worker *w, rte_rx_callback_fn fn, uint16_t gw, unsigned seconds)
{
	memset(&fl, 0, sizeof(fl));
	fl.gw = gw;
	fl.deaths0 = w->seq.st.deaths;
	fl.deadline = rte_rdtsc() + seconds * rte_get_tsc_hz();
	hc_dp_set_state(&dp, HC_RUN);
	const struct rte_eth_rxtx_callback *cb = rte_eth_add_rx_callback(port, 0, fn, w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cb);
	hc_worker_main(w); /* until fn stops it */
	rte_eth_remove_rx_callback(port, 0, cb);
}

/* A frame into f from a (its IP id ip_id) of one EVENTS datagram of
 * gateway gw (incarnation 1, sequence seq): user joins room 3.  Its
 * length. */
static size_t join_frame(uint8_t *f, const struct hc_frame_addr *a, uint16_t gw, uint32_t seq,
			 uint64_t user, uint16_t ip_id)
{
	uint8_t pl[HC_MAX_PAYLOAD];
	hc_proto_fill_hdr((struct hc_hdr *)pl, HC_MSG_EVENTS, gw, 1, 1, 0, seq);
	struct hc_event ev = {.user_id = htobe64(user), .room_id = htonl(3), .op = HC_OP_JOIN};
	memcpy(pl + sizeof(struct hc_hdr), &ev, sizeof(ev));
	return hc_frame_build(f, a, ip_id, pl, sizeof(struct hc_hdr) + sizeof(ev));
}

/* The frame f (len bytes) queued on the port's RX ring. */
static void queue_frame(const uint8_t *f, size_t len)
{
	struct rte_mbuf *m = hc_test_mbuf(f, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(rxr, m), 0);
}

/* A flood that never lets the worker's RX queue run empty: the read mark
 * still moves (the queue's capacity of frames taken since a mark proves
 * everything queued then read), so a gateway that went silent is judged
 * dead within its timeout, while the flood goes on.  With the mark moved
 * only by empty polls (the queue's capacity unknown, 0), no gateway
 * would be judged dead for as long as the flood lasted: the loop then
 * runs to the deadline and the death is not seen. */
static void run_flood(uint32_t capacity)
{
	struct hc_worker *w = dp.workers[0];
	w->rxq_capacity[0] = capacity; /* (net_ring tells none: hc_port.c) */

	/* gateway 5 heard once (one JOIN), then only junk: the same
	 * datagram to another UDP port (not ours: dropped, counted) */
	static uint32_t seq5;
	uint8_t f[2048];
	queue_frame(f, join_frame(f, &addr, 5, ++seq5, 77, 1));
	struct hc_frame_addr other = addr;
	other.dst_port = 7101;
	junk = hc_test_mbuf(f, join_frame(f, &other, 5, seq5, 77, 2));
	CU_ASSERT_PTR_NOT_NULL_FATAL(junk);

	uint64_t deaths = w->seq.st.deaths, rx_frames = w->st.rx_frames;
	/* known: stopped by the death, a bound only for a broken build;
	 * unknown: 5 gateway timeouts, in which one death was due */
	run_loop(w, flood_cb, 0, capacity != 0 ? 60 : 1);
	rte_pktmbuf_free(junk);
	junk = NULL;

	CU_ASSERT_EQUAL(fl.short_answers, 0);
	CU_ASSERT(fl.junk_given > 0);
	CU_ASSERT_EQUAL(w->st.rx_frames - rx_frames, fl.frames);
	if (capacity != 0) {
		/* judged while the flood went on, within the timeout and the
		 * few marks it takes to read two capacities */
		CU_ASSERT_EQUAL(w->seq.st.deaths, deaths + 1);
		CU_ASSERT_NOT_EQUAL(fl.death_at, 0);
		CU_ASSERT(fl.read_up_to_at_death > fl.started);
	} else {
		/* never empty, capacity unknown: nothing read up to since the
		 * loop began, so no gateway judged */
		CU_ASSERT_EQUAL(w->seq.st.deaths, deaths);
		CU_ASSERT_EQUAL(fl.death_at, 0);
		CU_ASSERT(__atomic_load_n(&w->read_up_to, __ATOMIC_RELAXED) < fl.started);
	}
}

/* After each poll: what the ring gave, unchanged; watched (watch). */
static uint16_t quiet_cb(uint16_t p, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
			 uint16_t max, void *arg)
{
	(void)p;
	(void)q;
	(void)pkts;
	(void)max;
	watch(arg);
	fl.frames += n;
	return n;
}

/* Run the worker's loop on a quiet queue (quiet_cb) until gateway gw's
 * death or `seconds`. */
static void run_quiet(struct hc_worker *w, uint16_t gw, unsigned seconds)
{
	run_loop(w, quiet_cb, gw, seconds);
}

/* A pool of 1023 mbufs (with a cache, as the packet pool has: the
 * worker's, this lcore's, counts as mbufs it can take), all taken into
 * held[]: dry.  NULL on failure. */
static struct rte_mempool *dry_pool(const char *name, struct rte_mbuf **held, unsigned *n)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, 1023, 32, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE,
							 (int)rte_socket_id());
	if (mp == NULL)
		return NULL;
	*n = 0;
	while (*n < 1023 && (held[*n] = rte_pktmbuf_alloc(mp)) != NULL)
		(*n)++;
	return mp;
}

/* The mbufs come back during a poll, after the PMD answered: as when
 * another lcore returns them between a PMD's failed take and the
 * worker's look at the pool. */
static struct refill {
	struct rte_mempool *mp;
	struct rte_mbuf *held[1023];
	unsigned n_held;
	int back;          /* the mbufs came back in the last poll ...  */
	uint64_t mark;     /* ... while the read mark's mark was this   */
	unsigned verdicts; /* polls after one that saw its answer judged */
	unsigned proved;   /* ... judged as proof of an empty queue     */
} rf;

/* Every other poll that asked for at least 32 frames and got none: the
 * mbufs back; at the next, how the worker judged that answer (if no
 * timer tick moved the mark in between: a tick clears what the mark
 * knows), then dry again.  Stops after 3 verdicts. */
static uint16_t refill_cb(uint16_t p, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
			  uint16_t max, void *arg)
{
	struct hc_worker *w = arg;
	(void)p;
	(void)q;
	(void)pkts;
	watch(w);
	if (rf.back) {
		rf.back = 0;
		if (w->rmark.mark == rf.mark) {
			rf.verdicts++;
			rf.proved += w->rmark.src[0].emptied;
			if (rf.verdicts == 3)
				hc_dp_set_state(&dp, HC_STOP);
		}
		while (rf.n_held < 1023 && (rf.held[rf.n_held] = rte_pktmbuf_alloc(rf.mp)) != NULL)
			rf.n_held++;
	} else if (n == 0 && max >= 32) {
		rte_pktmbuf_free_bulk(rf.held, rf.n_held);
		rf.n_held = 0;
		rf.mark = w->rmark.mark;
		rf.back = 1;
	}
	return n;
}

/* An empty answer given while the pool was dry proves nothing, even when
 * the mbufs were back by the time the worker looked (it asks for two
 * looks in a row with mbufs to give, the poll between them: one look
 * after the poll would take it as proof). */
static void test_pool_back_during_poll(void)
{
	struct hc_worker *w = dp.workers[0];
	w->rxq_capacity[0] = 0;
	memset(&rf, 0, sizeof(rf));
	rf.mp = dry_pool("hc_unit_back", rf.held, &rf.n_held);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rf.mp);
	CU_ASSERT_EQUAL_FATAL(rf.n_held, 1023);
	w->rxq_pool[0] = rf.mp;
	uint64_t shorts = w->st.rx_pool_short;
	run_loop(w, refill_cb, 7, 60); /* (7: never heard, never dead) */
	CU_ASSERT_EQUAL(rf.verdicts, 3);
	CU_ASSERT_EQUAL(rf.proved, 0);
	CU_ASSERT(w->st.rx_pool_short > shorts);
	w->rxq_pool[0] = NULL;
	rte_pktmbuf_free_bulk(rf.held, rf.n_held);
	rte_mempool_free(rf.mp);
}

/* An RX queue whose mbuf pool has run dry: a PMD that cannot take mbufs
 * returns nothing while frames wait (rx_nombuf), so an empty answer then
 * proves nothing, and a gateway silent past its timeout is not judged
 * dead on it (counted: rx_pool_short); with the mbufs back, the next
 * empty answer proves the queue read, and it is.  The queue's capacity
 * is unknown (0), so that only an empty answer can move the mark. */
static void test_pool_short(void)
{
	struct hc_worker *w = dp.workers[0];
	w->rxq_capacity[0] = 0;
	static struct rte_mbuf *held[1023];
	unsigned k;
	struct rte_mempool *mp = dry_pool("hc_unit_short", held, &k);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_EQUAL_FATAL(k, 1023); /* the pool is dry */
	w->rxq_pool[0] = mp;

	/* gateway 6 heard once, then nothing */
	uint8_t f[2048];
	queue_frame(f, join_frame(f, &addr, 6, 1, 78, 3));
	uint64_t deaths = w->seq.st.deaths, shorts = w->st.rx_pool_short;

	/* 5 gateway timeouts: gateway 6's death was due, were the empty
	 * answers taken as proof (and gateway 5's, if an earlier test left
	 * it heard: nobody is judged) */
	run_quiet(w, 6, 1);
	CU_ASSERT_EQUAL(fl.frames, 1); /* gateway 6's datagram */
	CU_ASSERT(fl.polls > 1);
	CU_ASSERT_EQUAL(w->seq.st.deaths, deaths);
	CU_ASSERT_EQUAL(fl.death_at, 0);
	CU_ASSERT_NOT_EQUAL(w->seq.gw[6].incarnation, 0);
	CU_ASSERT(w->st.rx_pool_short > shorts);
	CU_ASSERT(__atomic_load_n(&w->read_up_to, __ATOMIC_RELAXED) < fl.started);

	/* the mbufs back (most into this lcore's cache: the worker's):
	 * judged at the first dead scan after two empty answers (60 s: a
	 * bound for a broken build only), on a mark set after they came
	 * back (the first run published none) */
	rte_pktmbuf_free_bulk(held, k);
	uint64_t back = rte_rdtsc();
	shorts = w->st.rx_pool_short;
	run_quiet(w, 6, 60);
	CU_ASSERT(w->seq.st.deaths > deaths);
	CU_ASSERT_NOT_EQUAL(fl.death_at, 0);
	CU_ASSERT_EQUAL(w->seq.gw[6].incarnation, 0);
	CU_ASSERT(fl.read_up_to_at_death >= back);
	CU_ASSERT_EQUAL(w->st.rx_pool_short, shorts);

	w->rxq_pool[0] = NULL;
	rte_mempool_free(mp);
}

static void test_flood_capacity_known(void)
{
	run_flood(1023); /* the RX ring's size (1024 slots, one kept free) */
}

static void test_flood_capacity_unknown(void)
{
	run_flood(0);
}

/* The loop's timers trim gone users' keys above the keep limit
 * (hc_members_gone_trim): stopped once the trim counted 64 or at a
 * deadline; an idle loop's timers run every 100 us. */
static uint16_t trim_cb(uint16_t p, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
			uint16_t max, void *arg)
{
	(void)p;
	(void)q;
	(void)pkts;
	(void)max;
	const struct hc_worker *w = arg;
	if (__atomic_load_n(&w->members.st.gone_keys_trimmed, __ATOMIC_RELAXED) >= 64 ||
	    rte_rdtsc() > fl.deadline)
		hc_dp_set_state(&dp, HC_STOP);
	return n;
}

/* The worker's own loop gives the keep limit's 1/64 back: a table of
 * 4,096 keys (its limit 4,032) filled to the limit with users in rooms,
 * 100 of them gone, then 64 new users; the loop's timers delete the 64
 * longest gone users' keys (the earlier tests' gone users first) and no
 * more.  (Last in the suite: it leaves users in the table.) */
static void test_timers_trim_gone_keys(void)
{
	struct hc_worker *w = dp.workers[0];
	struct hc_members *m = &w->members;
	CU_ASSERT_EQUAL_FATAL(m->capacity, 4096);
	const uint32_t keys0 = m->users.ix.count;
	const uint64_t gone0 = m->st.gone_keys, users0 = m->n_users;
	CU_ASSERT_FATAL(keys0 < 1000 && gone0 <= 64);
	const uint64_t base = 1u << 20, fill = 4032 - keys0; /* (users of no other test) */
	for (uint64_t u = 0; u < fill; u++) {
		struct hc_op o = {.user_id = base + u, .room_id = 1 + (uint32_t)(u % 63),
				  .op = HC_OP_JOIN, .gateway_id = 1};
		hc_members_apply(m, &o, 1);
	}
	CU_ASSERT_EQUAL_FATAL(m->users.ix.count, 4032);
	for (uint64_t u = 0; u < 100; u++) {
		struct hc_op o = {.user_id = base + u, .room_id = 1 + (uint32_t)(u % 63),
				  .op = HC_OP_LEAVE, .gateway_id = 1};
		hc_members_apply(m, &o, 1);
	}
	for (uint64_t u = 0; u < 64; u++) {
		struct hc_op o = {.user_id = base + 10000 + u, .room_id = 5, .op = HC_OP_JOIN,
				  .gateway_id = 1};
		hc_members_apply(m, &o, 1);
	}
	CU_ASSERT_EQUAL_FATAL(m->users.ix.count, 4096);
	CU_ASSERT_EQUAL_FATAL(m->st.gone_keys, gone0 + 100);
	CU_ASSERT_EQUAL_FATAL(m->st.gone_keys_trimmed, 0);
	memset(&fl, 0, sizeof(fl));
	fl.deadline = rte_rdtsc() + 30 * rte_get_tsc_hz();
	hc_dp_set_state(&dp, HC_RUN);
	const struct rte_eth_rxtx_callback *cb = rte_eth_add_rx_callback(port, 0, trim_cb, w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cb);
	hc_worker_main(w);
	rte_eth_remove_rx_callback(port, 0, cb);
	CU_ASSERT_EQUAL(m->st.gone_keys_trimmed, 64);
	CU_ASSERT_EQUAL(m->st.gone_keys_evicted, 0);
	CU_ASSERT_EQUAL(m->users.ix.count, 4032);
	CU_ASSERT_EQUAL(m->st.gone_keys, gone0 + 100 - 64);
	CU_ASSERT_EQUAL(m->n_users, users0 + fill - 100 + 64);
	for (uint64_t u = 0; u < 100; u++) /* the longest gone went */
		CU_ASSERT_EQUAL(hc_usertab_lookup(&m->users, base + u) >= 0, u >= 64 - gone0);
}

static CU_TestInfo tests[] = {
	{"a flood never empty: a silent gateway still judged dead (capacity known)",
	 test_flood_capacity_known},
	{"a flood never empty, capacity unknown: nothing read up to, nobody judged",
	 test_flood_capacity_unknown},
	{"the rx pool dry: an empty queue proves nothing until its mbufs are back",
	 test_pool_short},
	{"the rx pool back during a poll: that poll's empty answer proves nothing",
	 test_pool_back_during_poll},
	{"the loop's timers trim gone users' keys back to the keep limit",
	 test_timers_trim_gone_keys},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_worker_loop = {"worker-loop", setup, teardown, NULL, NULL, tests};
