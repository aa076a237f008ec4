/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_control.c - the control core's decision loop driven through a real
 * worker: PLACE datagrams in, ASSIGN datagrams out (addresses, records,
 * fullest-first placement up to target, batching), JOINs consuming the reservations,
 * and the seat book equal to the workers' counters.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "hc_auth.h"
#include "hc_options.h"
#include "hc_decide.h"
#include "hc_frame.h"
#include "hc_ha_dp.h"
#include "hc_proto.h"
#include "hc_proto_hdr.h"
#include "hc_unit.h"
#include "hc_ops.h"
#include "hc_rx.h"
#include "hc_worker.h"
#include "hc_worker_state.h"
#include "hc_chan.h"
#include "hc_restart.h"
#include "hc_file_writer.h"

static struct hc_config cfg;
static struct hc_dataplane dp;
static struct hc_policy pol;
static struct hc_decide d;
static struct hc_worker *w;

static const struct hc_frame_addr gw_addr = {
	.dst_mac = {2, 0, 0, 0, 0, 1}, .src_mac = {2, 0, 0, 0, 0, 9},
	.src_ip = 0xC6120009, .dst_ip = 0xC6120001, .src_port = 41234, .dst_port = 7100};

static int setup(void)
{
	char *argv[] = {"t", "--max-users", "65536", "--max-rooms", "64",
			"--max-gateways", "8", "--no-auth", "--state-file", "none", NULL};
	unsigned lcore = rte_lcore_id();
	if (hc_config_parse(&cfg, 10, argv) != 0 ||
	    hc_dataplane_init(&dp, &cfg, 1, &lcore, 1) != 0)
		return -1;
	dp.pool = hc_test_pool;
	w = dp.workers[0];
	w->txq[0] = 0; /* pretend port 0 has our TX queue */
	hc_policy_defaults(&pol);
	char err[200];
	if (hc_policy_add_spec(&pol, "7:balance-test:15:100", err, sizeof(err)) != 0)
		return -1;
	if (hc_decide_init(&d, &dp, &pol, 4096, 77) != 0)
		return -1;
	/* every test here runs with the reports' rooms fetched ahead, which
	 * the appliance does from 65,536 live rooms on (the integration
	 * tests' few rooms run without): hints that must change nothing */
	d.prefetch_rooms_from = 1;
	d.prefetch_rooms = 1;
	return 0;
}

static int teardown(void)
{
	hc_decide_free(&d);
	hc_dataplane_free(&dp);
	return 0;
}

/* The source of what feed_payload feeds (a test may move it, and back). */
static const struct hc_frame_addr *feed_from = &gw_addr;

static void feed_payload(const void *p, size_t len)
{
	uint8_t f[2048];
	size_t flen = hc_frame_build(f, feed_from, 1, p, len);
	struct rte_mbuf *m = hc_test_mbuf(f, flen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	hc_rx_burst(w, 0, &m, 1, 0);
	hc_ops_commit(w);
}

static uint32_t ctl_counter; /* gateway 3's control counter (HEARTBEAT, PLACE) */

static void send_places(uint64_t first_user, unsigned n, uint32_t first_req)
{
	uint8_t p[HC_MAX_PAYLOAD];
	while (n > 0) {
		unsigned k = n < 89 ? n : 89;
		hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_PLACE, 3, (uint16_t)k, 1, 0,
				  ++ctl_counter);
		for (unsigned i = 0; i < k; i++) {
			struct hc_place pl = {.user_id = htobe64(first_user + i),
					      .request_id = htonl(first_req + i)};
			memcpy(p + 40 + i * 16, &pl, 16);
		}
		feed_payload(p, 40 + k * 16);
		first_user += k;
		first_req += k;
		n -= k;
	}
}

/* Take the ASSIGNs the control core queued for the worker to send. */
static unsigned take_assigns(struct hc_assign *out, unsigned max, unsigned *datagrams)
{
	struct rte_mbuf *m;
	unsigned n = 0;
	*datagrams = 0;
	while (rte_ring_dequeue(w->from_ctl_tx, (void **)&m) == 0) {
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
		const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
		const uint8_t *pl = (const uint8_t *)(udp + 1);
		CU_ASSERT_EQUAL(memcmp(&eth->dst_addr, gw_addr.src_mac, 6), 0);
		CU_ASSERT_EQUAL(ip->dst_addr, htonl(gw_addr.src_ip));
		CU_ASSERT_EQUAL(ip->src_addr, cfg.ip_be);
		CU_ASSERT_EQUAL(udp->dst_port, htons(gw_addr.src_port));
		CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xffff);
		CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);
		struct hc_hdr h;
		memcpy(&h, pl, sizeof(h));
		CU_ASSERT_EQUAL(ntohl(h.magic), HC_PROTO_MAGIC);
		CU_ASSERT_EQUAL(h.type, HC_MSG_ASSIGN);
		CU_ASSERT_EQUAL(ntohs(h.gateway_id), 3);
		CU_ASSERT_EQUAL(ntohl(h.appliance_incarnation), 77);
		uint16_t count = ntohs(h.record_count);
		CU_ASSERT_EQUAL(rte_be_to_cpu_16(udp->dgram_len), 8 + 40 + count * 24);
		for (uint16_t i = 0; i < count && n < max; i++)
			memcpy(&out[n++], pl + 40 + i * 24, 24);
		(*datagrams)++;
		rte_pktmbuf_free(m);
	}
	return n;
}

/* Run control and worker until nothing moves. */
static void settle(void)
{
	for (int i = 0; i < 10; i++) {
		hc_decide_poll(&d, 0);
		hc_rx_poll_handoff(w, 0);
		hc_ops_commit(w);
	}
}

static void test_place_assign_join(void)
{
	static struct hc_assign a[512];
	unsigned dgrams;

	send_places(1000, 150, 1);
	CU_ASSERT_EQUAL(w->st.places, 150);
	hc_decide_poll(&d, 0);
	unsigned n = take_assigns(a, 512, &dgrams);
	CU_ASSERT_EQUAL(n, 150);
	CU_ASSERT_EQUAL(dgrams, 3); /* 59 + 59 + 32 */
	uint32_t first = ntohl(a[0].room_id), second = ntohl(a[50].room_id);
	uint32_t third = ntohl(a[100].room_id);
	for (unsigned i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(be64toh(a[i].user_id), 1000 + i);
		CU_ASSERT_EQUAL(ntohl(a[i].request_id), 1 + i);
		CU_ASSERT_EQUAL(a[i].status, HC_ASSIGN_PLACED);
		/* fullest first, up to the pool's target (50): 50 users a room */
		CU_ASSERT_EQUAL(ntohl(a[i].room_id), i < 50 ? first : i < 100 ? second : third);
	}
	CU_ASSERT(first != second && second != third && first != third);
	CU_ASSERT_EQUAL(d.book.room[first].reserved, 50);
	CU_ASSERT_EQUAL(d.book.room[second].reserved, 50);
	CU_ASSERT_EQUAL(d.book.room[third].reserved, 50);

	/* the gateway joins them where it was told */
	uint8_t p[HC_MAX_PAYLOAD];
	uint32_t seq = 0;
	for (unsigned base = 0; base < 150; base += 50) {
		hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_EVENTS, 3, 50, 1, 0, ++seq);
		for (unsigned i = 0; i < 50; i++) {
			struct hc_event ev = {.user_id = a[base + i].user_id,
					      .room_id = a[base + i].room_id, .op = HC_OP_JOIN};
			memcpy(p + 40 + i * sizeof(ev), &ev, sizeof(ev));
		}
		feed_payload(p, 40 + 50 * sizeof(struct hc_event));
	}
	settle(); /* seat requests -> decisions -> applied */
	CU_ASSERT_EQUAL(d.st.admitted, 150);
	CU_ASSERT_EQUAL(d.st.peers, 1);   /* the home worker learnt the gateway */
	CU_ASSERT_EQUAL(w->outstanding, 0);
	CU_ASSERT_EQUAL(d.book.room[first].users, 50);
	CU_ASSERT_EQUAL(d.book.room[first].reserved, 0);
	CU_ASSERT_EQUAL(d.book.room[third].users, 50);
	CU_ASSERT_EQUAL(d.book.room[third].reserved, 0);
	CU_ASSERT_EQUAL(d.book.st.admits_reserved, 150);
	CU_ASSERT_EQUAL(w->members.room_users[first], 50);

	/* every room at target: the next user opens a new one */
	send_places(5000, 1, 900);
	hc_decide_poll(&d, 0);
	n = take_assigns(a, 512, &dgrams);
	CU_ASSERT_EQUAL(n, 1);
	uint32_t fourth = ntohl(a[0].room_id);
	CU_ASSERT(fourth != 0 && fourth != first && fourth != second && fourth != third);
	CU_ASSERT_EQUAL(d.book.st.new_rooms, 4);

	/* an unknown pool gets NO_ROOM */
	hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_PLACE, 3, 1, 1, 0, ++ctl_counter);
	struct hc_place pl = {.user_id = htobe64(9), .request_id = htonl(5), .pool_id = htons(42)};
	memcpy(p + 40, &pl, 16);
	feed_payload(p, 56);
	hc_decide_poll(&d, 0);
	n = take_assigns(a, 512, &dgrams);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(a[0].status, HC_ASSIGN_NO_ROOM);
	CU_ASSERT_EQUAL(d.st.unknown_pool, 1);

	/* the same datagram again (a replay) is refused by the control
	 * counter's window: no request reaches the control core */
	uint64_t places_before = w->st.places, replayed_before = w->seq.st.replayed;
	feed_payload(p, 56);
	hc_decide_poll(&d, 0);
	CU_ASSERT_EQUAL(take_assigns(a, 512, &dgrams), 0);
	CU_ASSERT_EQUAL(w->st.places, places_before);
	CU_ASSERT_EQUAL(w->seq.st.replayed, replayed_before + 1);
}

static uint32_t seq2 = 100;
static uint16_t ev_pool; /* the pool id events() gives its events */
static uint64_t ev_session; /* ... and the session */

static void events(const uint64_t *users, const uint32_t *rooms, const uint8_t *ops, unsigned n)
{
	uint8_t p[HC_MAX_PAYLOAD];
	hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_EVENTS, 3, (uint16_t)n, 1, 0, 0);
	for (unsigned i = 0; i < n; i++) {
		struct hc_event ev = {.user_id = htobe64(users[i]), .room_id = htonl(rooms[i]),
				      .op = ops[i], .pool_id = htons(ev_pool),
				      .session = htobe64(ev_session)};
		memcpy(p + 40 + i * sizeof(ev), &ev, sizeof(ev));
	}
	uint32_t sq = htonl(++seq2);
	memcpy(p + 20, &sq, 4);
	feed_payload(p, 40 + n * sizeof(struct hc_event));
}

/* n JOINs of users first, first + 1, ... into room, in the arrays
 * events() takes. */
static void joins_of(uint64_t *users, uint32_t *rooms, uint8_t *ops, unsigned n, uint64_t first,
		     uint32_t room)
{
	for (unsigned i = 0; i < n; i++) {
		users[i] = first + i;
		rooms[i] = room;
		ops[i] = HC_OP_JOIN;
	}
}

/* One event of gateway gw (incarnation inc, sequence seq, session 0),
 * received by the worker (not settled). */
static void event_of(uint16_t gw, uint32_t inc, uint32_t seq, uint64_t user, uint32_t room,
		     uint8_t op)
{
	uint8_t p[HC_MAX_PAYLOAD];
	hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_EVENTS, gw, 1, inc, 0, seq);
	struct hc_event ev = {.user_id = htobe64(user), .room_id = htonl(room), .op = op};
	memcpy(p + 40, &ev, sizeof(ev));
	feed_payload(p, 40 + sizeof(ev));
}

/* events() for any n, 50 a datagram, then settle(). */
static void events_settled(const uint64_t *users, const uint32_t *rooms, const uint8_t *ops,
			   unsigned n)
{
	for (unsigned i = 0; i < n; i += 50)
		events(users + i, rooms + i, ops + i, n - i < 50 ? n - i : 50);
	settle();
}

static void test_admission(void)
{
	static struct hc_assign a[512];
	unsigned dgrams;
	/* gateway 3 continues at sequence 101 (the first test used 1..3) */
	uint32_t next = 4;
	seq2 = next - 1;

	/* fill room 40 with 100 direct joins: all admitted */
	uint64_t users[100];
	uint32_t rooms[100];
	uint8_t ops[100];
	joins_of(users, rooms, ops, 100, 70000, 40);
	events(users, rooms, ops, 50);
	events(users + 50, rooms + 50, ops + 50, 50);
	settle();
	CU_ASSERT_EQUAL(w->members.room_users[40], 100);
	CU_ASSERT_EQUAL(d.book.room[40].users, 100);
	take_assigns(a, 512, &dgrams);

	/* the 101st: refused, not counted; its gateway hears NEW_TOPIC */
	uint64_t u = 80000;
	uint32_t r = 40;
	uint8_t op = HC_OP_JOIN;
	uint64_t refused_before = d.st.refused;
	events(&u, &r, &op, 1);
	settle();
	CU_ASSERT_EQUAL(d.st.refused, refused_before + 1);
	CU_ASSERT_EQUAL(w->members.room_users[40], 100);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u), 0);
	CU_ASSERT_EQUAL(w->members.st.refused, 1);
	unsigned n = take_assigns(a, 512, &dgrams);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(a[0].status, HC_ASSIGN_NEW_TOPIC);
	CU_ASSERT_EQUAL(be64toh(a[0].user_id), u);
	CU_ASSERT_EQUAL(ntohl(a[0].refused_room), 40);
	uint32_t other = ntohl(a[0].room_id);
	CU_ASSERT(other != 0 && other != 40);
	uint32_t held = d.book.room[other].reserved;
	CU_ASSERT(held >= 1); /* a seat waits for the user there */
	/* it follows the answer: admitted on the reservation */
	uint64_t by_resv = d.book.st.admits_reserved;
	events(&u, &other, &op, 1);
	settle();
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u), other);
	CU_ASSERT_EQUAL(d.book.room[other].reserved, held - 1);
	CU_ASSERT_EQUAL(d.book.st.admits_reserved, by_resv + 1);

	/* order: JOIN 41, JOIN 42, LEAVE 42, JOIN 43 for one user in one
	 * datagram: the later ops wait for each decision, in order */
	uint64_t uu[4] = {90000, 90000, 90000, 90000};
	uint32_t rr[4] = {41, 42, 42, 43};
	uint8_t oo[4] = {HC_OP_JOIN, HC_OP_JOIN, HC_OP_LEAVE, HC_OP_JOIN};
	events(uu, rr, oo, 4);
	CU_ASSERT(w->members.pend.n_deferred > 0 || w->outstanding > 0);
	settle();
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 90000), 43);
	CU_ASSERT_EQUAL(w->members.room_users[41], 0);
	CU_ASSERT_EQUAL(w->members.room_users[42], 0);
	CU_ASSERT_EQUAL(w->members.room_users[43], 1);
	CU_ASSERT_EQUAL(w->members.pend.n_deferred, 0);
	CU_ASSERT_EQUAL(w->outstanding, 0);
	CU_ASSERT_TRUE(hc_decide_idle(&d));
	/* the book equals the worker's counters, room by room */
	unsigned bad = 0;
	for (uint32_t room = 1; room < cfg.max_rooms; room++)
		bad += d.book.room[room].users != w->members.room_users[room];
	CU_ASSERT_EQUAL(bad, 0);
}

/* Take the 24-byte records of messages of `type` the control core queued
 * for the worker to send (other frames, e.g. heartbeats, or what a poll
 * far ahead resends for earlier tests, are dropped). */
static unsigned take_records(uint8_t type, void *out, unsigned max)
{
	struct rte_mbuf *m;
	unsigned n = 0;
	while (rte_ring_dequeue(w->from_ctl_tx, (void **)&m) == 0) {
		const uint8_t *pl = rte_pktmbuf_mtod_offset(m, const uint8_t *,
			sizeof(struct rte_ether_hdr) + 20 + 8);
		struct hc_hdr h;
		memcpy(&h, pl, sizeof(h));
		for (uint16_t i = 0; h.type == type && i < ntohs(h.record_count) && n < max; i++)
			memcpy((uint8_t *)out + (size_t)24 * n++, pl + 40 + i * 24, 24);
		rte_pktmbuf_free(m);
	}
	return n;
}

static unsigned take_moves(struct hc_move *out, unsigned max)
{
	return take_records(HC_MSG_MOVE, out, max);
}

static unsigned take_assign_records(struct hc_assign *out, unsigned max)
{
	return take_records(HC_MSG_ASSIGN, out, max);
}

/* A pick asked of a worker that keeps HC_PICK_ASKS already is answered
 * at once with none (its PICK_END, counted), so the control core's count
 * of picks in flight comes back to 0. */
static void test_pick_ask_refused(void)
{
	settle();
	static struct hc_change chg[2 * HC_PICK_ASKS];
	for (unsigned i = 0; i < HC_PICK_ASKS; i++)
		CU_ASSERT_EQUAL_FATAL(hc_members_pick_ask(&w->members, 63, 62, 1, 0), 0);
	uint64_t refused = w->st.picks_refused;
	struct hc_decision dec = {.kind = HC_DEC_PICK, .room_id = 61,
				  .pick = {.to_room = 60, .count = 5}};
	CU_ASSERT_EQUAL_FATAL(hc_chan_give_decisions(&dp, 0, &dec, 1), 1);
	/* answered in the call that takes it, before the scan of the kept
	 * asks (nobody is in room 63) ends them: the control core asked none
	 * of those, so their ends are taken here, not by it */
	for (int k = 0; k < 1000 && (k == 0 || hc_members_picking(&w->members)); k++)
		hc_chan_drain_decisions(w);
	CU_ASSERT_FALSE(hc_members_picking(&w->members));
	CU_ASSERT_EQUAL(w->st.picks_refused, refused + 1);
	unsigned n, ends = 0, first = 1;
	while ((n = hc_chan_take_changes(&dp, 0, chg, 2 * HC_PICK_ASKS)) > 0)
		for (unsigned i = 0; i < n; i++, first = 0) {
			CU_ASSERT_EQUAL(chg[i].kind, HC_CHG_PICK_END);
			CU_ASSERT_EQUAL(chg[i].user_id, 0);
			CU_ASSERT_EQUAL(chg[i].from_room, first ? 61u : 63u);
			CU_ASSERT_EQUAL(chg[i].to_room, first ? 60u : 62u);
			ends += !first;
		}
	CU_ASSERT_EQUAL(ends, HC_PICK_ASKS);
	CU_ASSERT_EQUAL(__atomic_load_n(&w->picks_open, __ATOMIC_RELAXED), 0);
}

/* One control poll when the next tick is due, the worker left alone;
 * returns a time for polls that do not tick. */
static uint64_t tick(void)
{
	uint64_t now = d.next_tick;
	hc_decide_poll(&d, now);
	return now;
}

/* Run ticks, with the gateway obeying every MOVE, until a tick plans
 * nothing (the other tests' rooms are balanced first).  Returns now. */
static uint64_t balance_settled(uint64_t now)
{
	static struct hc_move mv[256];
	uint64_t users[256];
	uint32_t rooms[256];
	uint8_t ops[256];
	for (int round = 0; round < 10; round++) {
		uint64_t planned = d.st.planned;
		now = tick();
		for (int i = 0; i < 5; i++) {
			hc_decide_poll(&d, now);
			hc_rx_poll_handoff(w, now);
			hc_ops_commit(w);
		}
		unsigned n = take_moves(mv, 256);
		for (unsigned i = 0; i < n; i++) {
			users[i] = be64toh(mv[i].user_id);
			rooms[i] = ntohl(mv[i].to_room);
			ops[i] = HC_OP_JOIN;
		}
		uint16_t pool = ev_pool;
		ev_pool = n > 0 ? ntohs(mv[0].pool_id) : 0;
		for (unsigned i = 0; i < n; i += 64)
			events(users + i, rooms + i, ops + i, n - i < 64 ? n - i : 64);
		ev_pool = pool;
		for (int i = 0; i < 5; i++) {
			hc_decide_poll(&d, now);
			hc_rx_poll_handoff(w, now);
			hc_ops_commit(w);
		}
		if (d.st.planned == planned && hc_directives_in_flight(&d.dirs) == 0)
			return now;
	}
	CU_FAIL("the pools never settled");
	return now;
}

/* Two rooms of 10 (below min 15): the plan moves one room's 10 users
 * into the other.  While the worker has not answered the picks (it is
 * stalled), no tick plans again; once it picks, the MOVEs go out and the
 * gateway's JOINs complete every directive, with admission (seat
 * requests) or without (applied joins); then the pool is settled.  The
 * first `left_first` MOVEs are obeyed as LEAVE + JOIN: the LEAVE cancels
 * the directive, its seat stays, and the JOIN takes it; the worker's pick
 * memo gives those users their pick time back, as the others keep
 * theirs, so none is picked again within the cooldown. */
static void balance_with_stalled_worker(int admission, uint64_t first_user, uint32_t ra,
					uint32_t rb, unsigned left_first)
{
	uint64_t users[20];
	uint32_t rooms[20];
	uint8_t ops[20];
	for (unsigned i = 0; i < 20; i++) {
		users[i] = first_user + i;
		rooms[i] = i < 10 ? ra : rb;
		ops[i] = HC_OP_JOIN;
	}
	static struct hc_move mv[64];
	uint32_t lease_seats = pol.lease_seats;
	pol.lease_seats = 0; /* leased rooms sit a plan out: not this test's */
	/* the worker's clock (its timers do not run here): stopped, so that
	 * whether a pick is within the cooldown does not depend on how fast
	 * the test ran */
	const uint32_t clock = w->members.now_s + 1000; /* (never back) */
	w->members.now_s = clock;
	CU_ASSERT_FATAL(pol.cooldown_ms >= 1000);
	w->members.admission = 1;
	uint64_t now = balance_settled(0);
	w->members.admission = admission;
	ev_pool = 7; /* a pool of its own */
	events(users, rooms, ops, 20);
	settle();
	CU_ASSERT_EQUAL_FATAL(d.book.room[ra].users, 10);
	CU_ASSERT_EQUAL_FATAL(d.book.room[rb].users, 10);

	uint64_t planned = d.st.planned, waited = d.st.ticks_waited, done = d.dirs.st.done;
	uint64_t cancelled = d.dirs.st.cancelled, taken = d.dirs.st.seats_taken;
	uint64_t kept = w->members.memo.st.kept, restored = w->members.memo.st.restored;
	now = tick();                            /* plans: 10 picks asked */
	CU_ASSERT_EQUAL(d.st.planned, planned + 10);
	CU_ASSERT_EQUAL(d.picks_in_flight, 1);
	for (int t = 0; t < 3; t++)              /* stalled: nothing new */
		now = tick();
	CU_ASSERT_EQUAL(d.st.planned, planned + 10);
	CU_ASSERT_EQUAL(d.st.ticks_waited, waited + 3);

	/* the worker wakes: takes the asks, then answers them by its scan */
	for (int i = 0; i < 1000 && (i == 0 || hc_members_picking(&w->members)); i++)
		hc_chan_drain_decisions(w);
	CU_ASSERT_FALSE(hc_members_picking(&w->members));
	hc_decide_poll(&d, now);                 /* MOVEs, seats reserved */
	CU_ASSERT_EQUAL(d.picks_in_flight, 0);
	unsigned n = take_moves(mv, 64);
	CU_ASSERT_EQUAL_FATAL(n, 10);
	now = tick();                            /* directives in flight: waits */
	CU_ASSERT_EQUAL(d.st.planned, planned + 10);
	CU_ASSERT_EQUAL(d.st.ticks_waited, waited + 4);

	/* the gateway obeys each MOVE with one JOIN */
	uint32_t from = ntohl(mv[0].from_room), to = ntohl(mv[0].to_room);
	for (unsigned i = 0; i < n; i++) {
		users[i] = be64toh(mv[i].user_id);
		rooms[i] = ntohl(mv[i].to_room);
		CU_ASSERT_EQUAL(ntohl(mv[i].from_room), from);
		CU_ASSERT_EQUAL(rooms[i], to);
	}
	CU_ASSERT((from == ra && to == rb) || (from == rb && to == ra));
	CU_ASSERT_EQUAL(d.book.room[to].reserved, 10); /* held by the directives */
	CU_ASSERT_EQUAL(d.book.held_now, 10);
	if (left_first > 0) {
		uint32_t froms[20];
		uint8_t leaves[20];
		for (unsigned i = 0; i < left_first; i++) {
			froms[i] = from;
			leaves[i] = HC_OP_LEAVE;
		}
		events(users, froms, leaves, left_first);
		settle();
		CU_ASSERT_EQUAL(d.dirs.st.cancelled, cancelled + left_first);
		CU_ASSERT_EQUAL(d.book.room[to].reserved, 10); /* the seats stay */
		CU_ASSERT_EQUAL(d.book.room[from].users, 10 - left_first);
	}
	events(users, rooms, ops, n);
	/* the JOINs read, every directive done, and with admission their
	 * seat requests admitted, the worker not told yet: the book counts
	 * the moved users in both rooms until the worker reports them out
	 * (HC_CHG_VACATED), and a plan now would move them again (the room
	 * they leave, below min, into the other).  That room sits the tick
	 * out; it plans nothing */
	for (int i = 0; i < 3; i++)
		hc_decide_poll(&d, now);
	CU_ASSERT_EQUAL(hc_directives_in_flight(&d.dirs), 0);
	CU_ASSERT_EQUAL(d.picks_in_flight, 0);
	if (admission && left_first < 10) {
		CU_ASSERT_EQUAL(d.book.room[from].users, 10 - left_first);
		CU_ASSERT_EQUAL(d.book.vacating[from].moves, 10 - left_first);
		CU_ASSERT_FALSE(hc_rooms_settled(&d.book, from, d.sync.settled));
		/* the worker held up for an hour: still out, nothing counted
		 * stale (a plan now would count the moved users twice) */
		uint64_t stale = d.book.st.vacate_stale;
		hc_decide_poll(&d, now + 3600 * rte_get_tsc_hz());
		CU_ASSERT_EQUAL(d.st.planned, planned + 10);
		CU_ASSERT_EQUAL(d.book.vacating[from].moves, 10 - left_first);
		CU_ASSERT_EQUAL(d.book.st.vacate_stale, stale);
	}
	now = tick();
	CU_ASSERT_EQUAL(d.st.planned, planned + 10);
	CU_ASSERT_EQUAL(d.picks_in_flight, 0);
	for (int i = 0; i < 10; i++) {
		hc_decide_poll(&d, now);
		hc_rx_poll_handoff(w, now);
		hc_ops_commit(w);
	}
	CU_ASSERT_EQUAL(d.book.vacating[from].moves, 0);
	CU_ASSERT_EQUAL(d.dirs.st.done, done + 10 - left_first);
	CU_ASSERT_EQUAL(d.dirs.st.seats_taken, taken + 10);
	CU_ASSERT_EQUAL(w->members.memo.st.kept, kept + left_first);
	CU_ASSERT_EQUAL(w->members.memo.st.restored, restored + left_first);
	for (unsigned i = 0; i < 20; i++) {
		/* the ten moved carry the pick's time, however they obeyed */
		int32_t at = hc_usertab_lookup(&w->members.users, first_user + i);
		int moved = 0;
		for (unsigned k = 0; k < n; k++)
			moved |= users[k] == first_user + i;
		CU_ASSERT_FATAL(at >= 0);
		CU_ASSERT_EQUAL(w->members.slot[at].picked_at, moved ? clock : 0u);
	}
	CU_ASSERT_EQUAL(hc_directives_in_flight(&d.dirs), 0);
	CU_ASSERT_EQUAL(d.book.room[to].users, 20);
	CU_ASSERT_EQUAL(d.book.room[to].reserved, 0);
	CU_ASSERT_EQUAL(d.book.held_now, 0);
	CU_ASSERT_EQUAL(w->members.room_users[to], 20);
	CU_ASSERT_EQUAL(w->members.room_users[from], 0);
	now = tick();                            /* settled: plans nothing */
	CU_ASSERT_EQUAL(d.st.planned, planned + 10);
	CU_ASSERT_EQUAL(take_moves(mv, 64), 0);

	/* leave the rooms empty for the next test (the clock past the
	 * cooldown: nothing left in the memo) */
	w->members.now_s = clock + pol.cooldown_ms / 1000 + 1; /* (the cooldown asked) */
	for (unsigned i = 0; i < 20; i++) {
		users[i] = first_user + i;
		rooms[i] = to;
		ops[i] = HC_OP_LEAVE;
	}
	events(users, rooms, ops, 20);
	settle();
	CU_ASSERT_EQUAL(d.book.room[to].users, 0);
	w->members.admission = 1;
	ev_pool = 0;
	pol.lease_seats = lease_seats;
	CU_ASSERT_EQUAL(w->members.memo.ix.count, 0);
}

static void test_stalled_worker(void)
{
	balance_with_stalled_worker(1, 200000, 20, 21, 0);
}

static void test_directives_without_admission(void)
{
	balance_with_stalled_worker(0, 300000, 22, 23, 0);
}

/* A moved user's JOIN the worker applies on a leased seat (HC_CHG_LEASED)
 * gives back the seat the user's directive held there: the room holds
 * the user once, on the leased seat, and nothing is counted over max. */
static void test_leased_join_of_moved_user(void)
{
	const uint32_t r = 62; /* (--max-rooms 64) */
	const uint64_t u0 = 640000, moved = 640001;
	uint8_t op = HC_OP_JOIN;
	settle();
	CU_ASSERT_EQUAL_FATAL(pol.lease_seats, 16);
	events(&u0, &r, &op, 1); /* admitted: the worker is leased 16 seats */
	settle();
	CU_ASSERT_EQUAL_FATAL(w->members.lease[r], 16);
	/* the balancer's pick of `moved` into r, as move_picked records it */
	CU_ASSERT_EQUAL_FATAL(hc_rooms_hold_seat(&d.book, r), 1);
	CU_ASSERT_FATAL(hc_directives_add(&d.dirs, moved, 0, r, 3, rte_rdtsc()) != 0);
	CU_ASSERT_EQUAL(hc_room_occupancy(&d.book.room[r]), 1 + 16 + 1);
	uint64_t done = d.dirs.st.done, freed = d.dirs.st.seats_freed;
	uint64_t over = d.book.st.over_max, errors = d.book.st.seat_errors;
	uint64_t leased = w->members.st.leased_joins;
	events(&moved, &r, &op, 1);
	settle();
	CU_ASSERT_EQUAL(w->members.st.leased_joins, leased + 1);
	CU_ASSERT_EQUAL(d.dirs.st.done, done + 1);
	CU_ASSERT_EQUAL(d.dirs.st.seats_freed, freed + 1);
	CU_ASSERT_EQUAL(d.book.room[r].held, 0);
	CU_ASSERT_EQUAL(d.book.room[r].reserved, 0);
	CU_ASSERT_EQUAL(d.book.room[r].users, 2);
	CU_ASSERT_EQUAL(d.book.st.over_max, over);
	CU_ASSERT_EQUAL(d.book.st.seat_errors, errors);
	CU_ASSERT_EQUAL(hc_directives_in_flight(&d.dirs), 0);
	/* leave the room empty */
	uint64_t both[2] = {u0, moved};
	uint32_t rooms[2] = {r, r};
	uint8_t leaves[2] = {HC_OP_LEAVE, HC_OP_LEAVE};
	events(both, rooms, leaves, 2);
	settle();
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
}

/* A seat request of a user whose directive holds a seat in a room full
 * only because of leased seats is admitted on that seat at once: it is
 * not parked behind a revoke (park_if_leased), which would take the
 * worker's lease back for a seat the user already has. */
static void test_request_on_directive_seat_not_parked(void)
{
	const uint32_t r = 61; /* (--max-rooms 64) */
	const uint64_t u0 = 610000, moved = 610001;
	uint8_t op = HC_OP_JOIN;
	settle();
	events(&u0, &r, &op, 1); /* admitted: the worker is leased 16 seats */
	settle();
	CU_ASSERT_EQUAL_FATAL(w->members.lease[r], 16);
	uint32_t max = pol.pool[d.book.room[r].pool].max;
	/* the balancer's pick of `moved` into r, as move_picked records it */
	CU_ASSERT_EQUAL_FATAL(hc_rooms_hold_seat(&d.book, r), 1);
	CU_ASSERT_FATAL(hc_directives_add(&d.dirs, moved, 0, r, 3, rte_rdtsc()) != 0);
	/* every other seat held: full, 16 of them leased */
	unsigned filler = max - 1 - 16 - 1;
	for (unsigned i = 0; i < filler; i++)
		CU_ASSERT_EQUAL_FATAL(hc_rooms_hold_seat(&d.book, r), 1);
	CU_ASSERT_EQUAL_FATAL(hc_room_occupancy(&d.book.room[r]), max);
	CU_ASSERT_FATAL(hc_rooms_full_for(&d.book, r, moved));

	/* the worker asks for `moved`'s seat (its lease was not for it) */
	uint64_t parked = d.st.lease_parked, taken = d.dirs.st.seats_taken;
	uint64_t done = d.dirs.st.done;
	struct hc_change c = {.user_id = moved, .from_room = 0, .to_room = r, .gateway_id = 3,
			      .kind = HC_CHG_REQUEST, .pool_id = 0};
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(w->to_ctl_changes, &c, sizeof(c)), 0);
	hc_decide_poll(&d, 0);
	CU_ASSERT_EQUAL(d.st.lease_parked, parked);
	CU_ASSERT_EQUAL(d.park.n, 0);
	CU_ASSERT_EQUAL(d.dirs.st.seats_taken, taken + 1);
	CU_ASSERT_EQUAL(d.dirs.st.done, done + 1);
	CU_ASSERT_EQUAL(d.book.room[r].users, 2);
	CU_ASSERT_EQUAL(hc_room_occupancy(&d.book.room[r]), max);
	CU_ASSERT_EQUAL(d.book.room[r].leased, 16);
	/* its answer, admitted; and no revoke of the worker's lease */
	struct hc_decision dec[8];
	unsigned n = rte_ring_dequeue_burst_elem(w->from_ctl_decisions, dec, sizeof(dec[0]), 8,
						 NULL);
	w->decisions_done += n; /* (taken in the worker's stead: counted as it
	                           counts them, for the control core's sync) */
	unsigned seats = 0, revokes = 0;
	for (unsigned i = 0; i < n; i++) {
		seats += dec[i].kind == HC_DEC_SEAT && dec[i].user_id == moved && dec[i].admit == 1;
		revokes += dec[i].kind == HC_DEC_REVOKE;
	}
	CU_ASSERT_EQUAL(seats, 1);
	CU_ASSERT_EQUAL(revokes, 0);

	/* the book as it was, the room empty */
	for (unsigned i = 0; i < filler; i++)
		hc_rooms_free_seat(&d.book, r);
	hc_rooms_leave(&d.book, r); /* `moved` never reached the worker */
	CU_ASSERT_EQUAL(d.book.room[r].reserved, 0);
	CU_ASSERT_EQUAL(d.book.room[r].held, 0);
	uint8_t leave = HC_OP_LEAVE;
	events(&u0, &r, &leave, 1);
	settle();
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
}

/* Room r (empty) filled to max (100) with users first .. first + 99 of
 * gateway 3, settled; users, rooms, ops hold what was sent. */
static void fill_room(uint32_t r, uint64_t first, uint64_t users[100], uint32_t rooms[100],
		      uint8_t ops[100])
{
	settle();
	CU_ASSERT_EQUAL_FATAL(d.book.room[r].users, 0);
	joins_of(users, rooms, ops, 100, first, r);
	events_settled(users, rooms, ops, 100);
	CU_ASSERT_EQUAL_FATAL(d.book.room[r].users, 100);
}

/* A refused JOIN's NEW_TOPIC directive ends when the user's JOIN into
 * the refused room is admitted later (a seat freed there): the user sits
 * where they asked to, and a resent NEW_TOPIC would take them out again. */
static void test_new_topic_ends_on_admitted_retry(void)
{
	const uint32_t r = 49; /* (--max-rooms 64) */
	uint64_t users[100];
	uint32_t rooms[100];
	uint8_t ops[100];
	fill_room(r, 490000, users, rooms, ops);
	const uint64_t u = 490500;
	uint8_t op = HC_OP_JOIN;
	uint32_t live = hc_directives_in_flight(&d.dirs);
	events_settled(&u, &r, &op, 1); /* refused: NEW_TOPIC elsewhere, a directive */
	CU_ASSERT_EQUAL_FATAL(hc_members_room_of(&w->members, u), 0);
	CU_ASSERT_EQUAL_FATAL(hc_directives_in_flight(&d.dirs), live + 1);
	uint64_t cancelled = d.dirs.st.cancelled;
	uint8_t leave = HC_OP_LEAVE;
	events_settled(&users[0], &r, &leave, 1); /* a seat frees */
	events_settled(&u, &r, &op, 1); /* the retry: admitted */
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u), r);
	CU_ASSERT_EQUAL(hc_directives_in_flight(&d.dirs), live); /* the NEW_TOPIC ended */
	CU_ASSERT_EQUAL(d.dirs.st.cancelled, cancelled + 1);
	/* the room empty again */
	users[0] = u;
	for (unsigned i = 0; i < 100; i++)
		ops[i] = HC_OP_LEAVE;
	events_settled(users, rooms, ops, 100);
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
}

/* An admitted seat request that moves its user out of a room frees the
 * seat there only once the worker has applied the move (HC_CHG_VACATED),
 * not at its decision: until then the book counts the user in both, so
 * that no other worker's JOIN can take that seat and be applied first
 * (the room above max while the move waits in a worker's decisions). */
static void test_move_frees_seat_once_applied(void)
{
	const uint32_t a = 52, b = 53; /* (--max-rooms 64) */
	const uint64_t u = 520000;
	uint8_t op = HC_OP_JOIN;
	settle();
	CU_ASSERT_EQUAL_FATAL(d.book.room[a].users, 0);
	CU_ASSERT_EQUAL_FATAL(d.book.room[b].users, 0);
	events_settled(&u, &a, &op, 1); /* admitted into a */
	CU_ASSERT_EQUAL_FATAL(hc_members_room_of(&w->members, u), a);
	CU_ASSERT_EQUAL(d.book.room[a].users, 1);
	CU_ASSERT_EQUAL_FATAL(hc_members_lease_left(&w->members, b), 0); /* b: a request */

	uint64_t vacated = d.book.st.leaves;
	events(&u, &b, &op, 1);     /* a -> b: a seat request */
	hc_rx_poll_handoff(w, 0);
	hc_ops_commit(w);
	hc_decide_poll(&d, 0);      /* admitted; the worker has not applied it */
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u), a);
	CU_ASSERT_EQUAL(d.book.room[b].users, 1);
	CU_ASSERT_EQUAL(d.book.room[a].users, 1); /* still held: u is there */
	CU_ASSERT_EQUAL(d.book.st.leaves, vacated);
	settle();                   /* applied, then HC_CHG_VACATED read */
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u), b);
	CU_ASSERT_EQUAL(d.book.room[a].users, 0);
	CU_ASSERT_EQUAL(d.book.room[b].users, 1);
	CU_ASSERT_EQUAL(d.book.st.leaves, vacated + 1);

	uint8_t leave = HC_OP_LEAVE;
	events_settled(&u, &b, &leave, 1);
	CU_ASSERT_EQUAL(d.book.room[b].users, 0);
}

/* The control core polled while the worker is inside a decision, after
 * taking it and before its report (the changes buffer's flush, made to
 * come at the first report): the period must not end there, or the move
 * under way would be taken for lost.  (hc_chan_drain_decisions publishes
 * decisions_done after the changes are pushed.) */
static int mid_decision_waited; /* the poll found the period running */
static uint32_t mid_decision_room;
static void poll_mid_decision(void *ctx)
{
	hc_chan_push_changes(ctx);
	uint32_t vacated_before = d.book.vacating[mid_decision_room].moves;
	hc_decide_poll(&d, rte_rdtsc());
	mid_decision_waited += d.sync.running && vacated_before == 1 &&
			       !hc_rooms_settled(&d.book, mid_decision_room, d.sync.settled);
}

/* A move whose report never comes (its decision found no request at the
 * worker: stray_decisions) lets its room into plans again once the
 * worker has applied every decision given before it and its changes
 * are read: counted (vacate_stale), with no clock.  Until then the room
 * stays out, however long the worker takes (here an hour of the
 * control core's clock). */
static void test_vacating_mark_of_stray_decision(void)
{
	const uint32_t a = 54, b = 55; /* (--max-rooms 64) */
	const uint64_t u = 540000, stray_user = 540001;
	uint8_t op = HC_OP_JOIN;
	uint32_t lease_seats = pol.lease_seats;
	pol.lease_seats = 0; /* (a leased room sits plans out anyway) */
	settle();
	events_settled(&u, &a, &op, 1); /* admitted into a */
	CU_ASSERT_EQUAL_FATAL(d.book.room[a].users, 1);
	CU_ASSERT_TRUE_FATAL(hc_rooms_settled(&d.book, a, d.sync.settled));

	/* a request of a user the worker does not hold, out of a into b */
	struct hc_change c = {.user_id = stray_user, .from_room = a, .to_room = b,
			      .gateway_id = 3, .kind = HC_CHG_REQUEST, .pool_id = 0};
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(w->to_ctl_changes, &c, sizeof(c)), 0);
	uint64_t now = rte_rdtsc(), stale = d.book.st.vacate_stale;
	uint64_t stray = w->members.st.stray_decisions;
	for (int i = 0; i < 3; i++)
		hc_decide_poll(&d, now); /* admitted: a marked; the worker not told */
	CU_ASSERT_EQUAL(d.book.vacating[a].moves, 1);
	CU_ASSERT_FALSE(hc_rooms_settled(&d.book, a, d.sync.settled));
	hc_decide_poll(&d, now + 3600 * rte_get_tsc_hz());
	CU_ASSERT_FALSE(hc_rooms_settled(&d.book, a, d.sync.settled));
	CU_ASSERT_EQUAL(d.book.st.vacate_stale, stale);

	hc_chan_drain_decisions(w); /* the worker applies it: no request */
	CU_ASSERT_EQUAL(w->members.st.stray_decisions, stray + 1);
	CU_ASSERT_FALSE(hc_rooms_settled(&d.book, a, d.sync.settled)); /* (not read yet) */
	uint64_t periods = d.sync.periods;
	hc_decide_poll(&d, now + 3600 * rte_get_tsc_hz());
	CU_ASSERT_EQUAL(d.sync.periods, periods + 1);
	CU_ASSERT_TRUE(hc_rooms_settled(&d.book, a, d.sync.settled));
	CU_ASSERT_EQUAL(d.book.st.vacate_stale, stale + 1);
	CU_ASSERT_EQUAL(d.book.vacating[a].moves, 0);

	/* the seat the book gave the stray user in b back */
	hc_rooms_leave(&d.book, b);

	/* a real move of u, a -> b: once the worker has applied it, its
	 * report is in the ring but not read; the period does not end on
	 * the worker's count alone (the report would be taken for lost),
	 * only once the ring has been read that far */
	events(&u, &b, &op, 1);
	hc_rx_poll_handoff(w, 0);
	hc_ops_commit(w);
	hc_decide_poll(&d, now); /* admitted: a marked, a period begun */
	CU_ASSERT_EQUAL_FATAL(d.book.vacating[a].moves, 1);
	uint32_t stamp = d.book.vacating[a].stamp;
	CU_ASSERT_TRUE(d.sync.running);
	hc_chan_drain_decisions(w); /* applied: HC_CHG_VACATED pushed */
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u), b);
	CU_ASSERT_EQUAL(hc_chan_changes_waiting(d.dp, 0), 1);
	hc_ctlsync_poll(&d.sync, d.dp, d.n_backlog); /* (the ring not read) */
	CU_ASSERT_TRUE(d.sync.running);
	CU_ASSERT((uint32_t)(stamp - d.sync.settled - 1) < 2); /* (waited for) */
	CU_ASSERT_FALSE(hc_rooms_settled(&d.book, a, d.sync.settled));
	hc_decide_poll(&d, now); /* the report read: a's mark gone, the period over */
	CU_ASSERT_EQUAL(d.book.vacating[a].moves, 0);
	CU_ASSERT_FALSE(d.sync.running);
	CU_ASSERT((uint32_t)(stamp - d.sync.settled - 1) >= 2); /* (past) */
	CU_ASSERT_TRUE(hc_rooms_settled(&d.book, a, d.sync.settled));
	CU_ASSERT_EQUAL(d.book.st.vacate_stale, stale + 1); /* (the stray one only) */
	CU_ASSERT_EQUAL(d.book.room[a].users, 0);
	CU_ASSERT_EQUAL(d.book.room[b].users, 1);

	/* u back, b -> a, its answer queued behind a full decision ring
	 * (the control core's backlog) when the period begins: the period
	 * waits for it too, not only for what the ring held */
	events(&u, &a, &op, 1);
	hc_rx_poll_handoff(w, 0);
	hc_ops_commit(w);
	const struct hc_decision nothing = {.kind = HC_DEC_LEASE, .room_id = 0}; /* (ignored) */
	unsigned fillers = 0;
	while (fillers < (1u << 20) && hc_chan_give_decisions(d.dp, 0, &nothing, 1) == 1)
		fillers++;
	CU_ASSERT_FATAL(fillers > 0 && fillers < (1u << 20));
	hc_decide_poll(&d, now); /* admitted, queued: b marked */
	CU_ASSERT_EQUAL_FATAL(d.n_backlog[0], 1);
	CU_ASSERT_EQUAL(d.book.vacating[b].moves, 1);
	stamp = d.book.vacating[b].stamp;
	while (hc_chan_drain_decisions(w) > 0) /* the fillers */
		;
	hc_decide_poll(&d, now); /* the answer given; the fillers' period not over */
	CU_ASSERT_EQUAL(d.n_backlog[0], 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u), b);
	CU_ASSERT_TRUE(d.sync.running);
	CU_ASSERT_FALSE(hc_rooms_settled(&d.book, b, d.sync.settled));
	hc_chan_drain_decisions(w); /* applied: HC_CHG_VACATED pushed */
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u), a);
	hc_decide_poll(&d, now);
	CU_ASSERT_EQUAL(d.book.vacating[b].moves, 0);
	CU_ASSERT((uint32_t)(stamp - d.sync.settled - 1) >= 2); /* (past) */
	CU_ASSERT_TRUE(hc_rooms_settled(&d.book, b, d.sync.settled));
	CU_ASSERT_EQUAL(d.book.st.vacate_stale, stale + 1);
	CU_ASSERT_EQUAL(d.book.room[a].users, 1);
	CU_ASSERT_EQUAL(d.book.room[b].users, 0);

	/* u, a -> b again, the control core polling inside the decision */
	events(&u, &b, &op, 1);
	hc_rx_poll_handoff(w, 0);
	hc_ops_commit(w);
	hc_decide_poll(&d, now); /* admitted: a marked, a period begun */
	CU_ASSERT_EQUAL_FATAL(d.book.vacating[a].moves, 1);
	uint32_t cap = w->members.changes_cap;
	w->members.changes_cap = 0; /* (the first report flushes first) */
	w->members.changes_full = poll_mid_decision;
	mid_decision_room = a;
	mid_decision_waited = 0;
	hc_chan_drain_decisions(w);
	w->members.changes_cap = cap;
	w->members.changes_full = hc_chan_push_changes;
	CU_ASSERT_EQUAL(mid_decision_waited, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u), b);
	hc_decide_poll(&d, now);
	CU_ASSERT_EQUAL(d.book.vacating[a].moves, 0);
	CU_ASSERT_FALSE(d.sync.running);
	CU_ASSERT_EQUAL(d.book.st.vacate_stale, stale + 1);

	uint8_t leave = HC_OP_LEAVE;
	events_settled(&u, &b, &leave, 1);
	CU_ASSERT_EQUAL(d.book.room[a].users, 0);
	CU_ASSERT_EQUAL(d.book.room[b].users, 0);
	pol.lease_seats = lease_seats;
}

/* A pick whose user the directive index refuses (its home crowded with
 * 64 others) sends no MOVE and gives the seat it took back: the room
 * holds exactly the seats of the directives that were recorded. */
static void test_pick_refused_by_index(void)
{
	const uint32_t r = 60, from = 59; /* (--max-rooms 64) */
	const uint64_t u0 = 600000;
	uint8_t op = HC_OP_JOIN;
	settle();
	events(&u0, &r, &op, 1); /* r is live */
	settle();
	uint64_t now = rte_rdtsc();
	/* 65 users of one home in the directive index: 64 fit (distances
	 * 0 .. 63), the 65th is refused */
	uint64_t crowd[HC_KEYIDX_MAX_DIST + 2];
	unsigned n = 0;
	uint32_t home = hc_keyidx_home(&d.dirs.by_user, 7000000);
	for (uint64_t u = 7000000; n < HC_KEYIDX_MAX_DIST + 2 && u < 7000000 + 100000000ull; u++)
		if (hc_keyidx_home(&d.dirs.by_user, u) == home)
			crowd[n++] = u;
	CU_ASSERT_EQUAL_FATAL(n, HC_KEYIDX_MAX_DIST + 2);
	for (unsigned i = 0; i + 1 < n; i++) { /* as move_picked records them */
		CU_ASSERT_EQUAL_FATAL(hc_rooms_hold_seat(&d.book, r), 1);
		CU_ASSERT_FATAL(hc_directives_add(&d.dirs, crowd[i], from, r, 3, now) != 0);
	}
	uint32_t reserved = d.book.room[r].reserved, held = d.book.room[r].held;
	uint64_t skipped = d.st.move_skipped, refused = d.dirs.st.refused;
	uint64_t sent = d.dirs.st.sent, errors = d.book.st.seat_errors;
	CU_ASSERT_EQUAL(held, n - 1);

	/* the worker's pick of the 65th */
	struct hc_change c = {.user_id = crowd[n - 1], .from_room = from, .to_room = r,
			      .gateway_id = 3, .kind = HC_CHG_PICK};
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(w->to_ctl_changes, &c, sizeof(c)), 0);
	hc_decide_poll(&d, now);
	CU_ASSERT_EQUAL(d.st.move_skipped, skipped + 1);
	CU_ASSERT_EQUAL(d.dirs.st.refused, refused + 1);
	CU_ASSERT_EQUAL(d.dirs.st.sent, sent);
	CU_ASSERT_EQUAL(d.book.room[r].reserved, reserved); /* its seat back */
	CU_ASSERT_EQUAL(d.book.room[r].held, held);
	CU_ASSERT_EQUAL(d.book.st.seat_errors, errors);
	static struct hc_move mv[8];
	CU_ASSERT_EQUAL(take_moves(mv, 8), 0);

	/* the crowd's directives done, their seats given back; r empty */
	for (unsigned i = 0; i + 1 < n; i++)
		CU_ASSERT_EQUAL(hc_directives_joined(&d.dirs, crowd[i], r), 1);
	CU_ASSERT_EQUAL(d.book.room[r].held, 0);
	CU_ASSERT_EQUAL(d.book.room[r].reserved, 0);
	CU_ASSERT_EQUAL(d.book.st.seat_errors, errors);
	uint8_t leave = HC_OP_LEAVE;
	events(&u0, &r, &leave, 1);
	settle();
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
}

static void test_moves_obeyed_as_leave_join(void)
{
	balance_with_stalled_worker(1, 400000, 24, 25, 4);
	balance_with_stalled_worker(0, 500000, 26, 27, 4);
}

/* A user table with keys for `room_for` more users: JOINs of 3 new users
 * in one datagram (the first two hold promised keys while their seat
 * requests are in flight) and a third refused FULL, told to the gateway;
 * book and worker agree; a LEAVE makes a key free again. */
static void table_full_case(int admission, uint64_t first_user, uint32_t room)
{
	static struct hc_assign a[64];
	unsigned dgrams;
	uint32_t saved = w->members.capacity;
	w->members.admission = admission;
	settle();
	take_assigns(a, 64, &dgrams);
	w->members.capacity = (uint32_t)w->members.n_users + 2;
	uint64_t full_w = w->members.st.table_full, full_d = d.st.table_full;
	uint64_t users[3] = {first_user, first_user + 1, first_user + 2};
	uint32_t rooms[3] = {room, room, room};
	uint8_t ops[3] = {HC_OP_JOIN, HC_OP_JOIN, HC_OP_JOIN};
	events(users, rooms, ops, 3);
	if (admission)
		CU_ASSERT_EQUAL(w->members.pend_new, 2);
	settle();
	CU_ASSERT_EQUAL(w->members.pend_new, 0);
	CU_ASSERT_EQUAL(w->members.st.table_full, full_w + 1);
	CU_ASSERT_EQUAL(d.st.table_full, full_d + 1);
	CU_ASSERT_EQUAL(w->members.room_users[room], 2);
	CU_ASSERT_EQUAL(d.book.room[room].users, 2);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, first_user + 2), 0);
	unsigned n = take_assigns(a, 64, &dgrams);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(a[0].status, HC_ASSIGN_FULL);
	CU_ASSERT_EQUAL(be64toh(a[0].user_id), first_user + 2);
	CU_ASSERT_EQUAL(ntohl(a[0].refused_room), room);
	CU_ASSERT_EQUAL(ntohl(a[0].room_id), 0);
	CU_ASSERT_EQUAL(a[0].request_id, 0);
	/* one leaves: the refused user's JOIN again is taken */
	uint8_t leave = HC_OP_LEAVE;
	events(&users[0], &room, &leave, 1);
	events(&users[2], &room, &ops[2], 1);
	settle();
	CU_ASSERT_EQUAL(w->members.st.table_full, full_w + 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, first_user + 2), room);
	CU_ASSERT_EQUAL(d.book.room[room].users, 2);
	CU_ASSERT_EQUAL(take_assigns(a, 64, &dgrams), 0);
	/* leave the room empty, the table as it was */
	uint64_t out[2] = {first_user + 1, first_user + 2};
	uint8_t leaves[2] = {HC_OP_LEAVE, HC_OP_LEAVE};
	events(out, rooms, leaves, 2);
	settle();
	CU_ASSERT_EQUAL(d.book.room[room].users, 0);
	CU_ASSERT_EQUAL(w->members.room_users[room], 0);
	w->members.capacity = saved;
	w->members.admission = 1;
}

/* Gateway 3's users in the worker (a walk), for a snapshot restating them;
 * arg: a user to leave out (one the gateway no longer has). */
static struct {
	uint64_t user[4096];
	uint32_t room[4096];
	unsigned n;
} gw3;

static void gw3_collect(uint64_t user, uint32_t room, void *arg)
{
	if (user != *(const uint64_t *)arg && hc_members_owner_of(&w->members, user) == 3 &&
	    gw3.n < 4096) {
		gw3.user[gw3.n] = user;
		gw3.room[gw3.n++] = room;
	}
}

/* Gateway 3's snapshot of gw3's users, as datagrams of 59 members (a
 * 1500-byte MTU's), each naming appliance incarnation appl. */
static void snapshot_gw3_naming(uint32_t id, uint32_t appl)
{
	uint8_t p[HC_MAX_PAYLOAD];
	unsigned chunks = (gw3.n + 58) / 59;
	for (unsigned c = 0; c < chunks; c++) {
		unsigned first = c * 59, k = gw3.n - first < 59 ? gw3.n - first : 59;
		hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_SNAPSHOT, 3, (uint16_t)k, 1, appl,
				  ++seq2);
		struct hc_snapshot_prefix pf = {.snapshot_id = htonl(id),
			.chunk_index = htonl(c), .chunk_count = htonl(chunks),
			.total_users = htonl(gw3.n)};
		memcpy(p + sizeof(struct hc_hdr), &pf, sizeof(pf));
		for (unsigned i = 0; i < k; i++) {
			struct hc_member mb = {.user_id = htobe64(gw3.user[first + i]),
					       .room_id = htonl(gw3.room[first + i])};
			memcpy(p + sizeof(struct hc_hdr) + sizeof(pf) + i * sizeof(mb), &mb,
			       sizeof(mb));
		}
		feed_payload(p, sizeof(struct hc_hdr) + sizeof(pf) + k * sizeof(struct hc_member));
	}
}

static void snapshot_gw3(uint32_t id)
{
	snapshot_gw3_naming(id, 0);
}

/* A gateway at its share of --max-users-per-gateway loses a LEAVE and a
 * JOIN in a gap and restates: its snapshot's new member is seated, not
 * refused FULL while the user it left (which the snapshot's sweep
 * removes) still counts.  Real datagrams through the worker and the
 * control core, admission on; the seat book ends exact. */
static void test_snapshot_at_gateway_cap(void)
{
	static struct hc_assign a[64];
	unsigned dgrams;
	const uint32_t room = 33;
	settle();
	take_assigns(a, 64, &dgrams);
	uint64_t users[2] = {820001, 820002};
	uint32_t rooms[2] = {room, room};
	uint8_t ops[2] = {HC_OP_JOIN, HC_OP_JOIN};
	w->members.gw_user_cap = w->members.gw_users[3] + 2;
	events_settled(users, rooms, ops, 2);
	CU_ASSERT_EQUAL(w->members.gw_users[3], w->members.gw_user_cap);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 820002), room);
	if (hc_members_room_of(&w->members, 820002) != room) {
		w->members.gw_user_cap = 0; /* (the tests after run without it) */
		return;
	}
	take_assigns(a, 64, &dgrams);
	uint64_t cap_full = w->members.st.gateway_cap_full, parked = w->members.st.snap_parked;
	uint64_t full_d = d.st.table_full;
	/* lost: 820002's LEAVE, 820003's JOIN; the snapshot names 820003 first */
	gw3.n = 0;
	gw3.user[gw3.n] = 820003;
	gw3.room[gw3.n++] = room;
	const uint64_t left = 820002;
	hc_members_walk(&w->members, gw3_collect, (void *)&left);
	snapshot_gw3(4242);
	settle();
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 820002), 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 820003), room);
	CU_ASSERT_EQUAL(w->members.gw_users[3], w->members.gw_user_cap);
	CU_ASSERT_EQUAL(w->members.st.gateway_cap_full, cap_full);
	CU_ASSERT_EQUAL(w->members.st.snap_parked, parked + 1);
	CU_ASSERT_EQUAL(w->members.n_parked, 0);
	CU_ASSERT_EQUAL(w->members.room_users[room], 2);
	CU_ASSERT_EQUAL(d.book.room[room].users, 2);
	CU_ASSERT_EQUAL(d.st.table_full, full_d); /* the control core refused none */
	unsigned n = take_assigns(a, 64, &dgrams);
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_NOT_EQUAL(a[i].status, HC_ASSIGN_FULL);
	/* the room emptied, the cap gone */
	uint64_t out[2] = {820001, 820003};
	uint8_t leaves[2] = {HC_OP_LEAVE, HC_OP_LEAVE};
	events_settled(out, rooms, leaves, 2);
	CU_ASSERT_EQUAL(d.book.room[room].users, 0);
	w->members.gw_user_cap = 0;
}

/* A gateway's seat requests in flight make it "settling" (its heartbeats
 * say so: its users and digest may lag what it sent), and only then. */
static void test_settling(void)
{
	static struct hc_assign a[64];
	unsigned dgrams;
	settle();
	take_assigns(a, 64, &dgrams);
	CU_ASSERT_FALSE(hc_dp_gateway_settling(&dp, 3));
	uint64_t users[2] = {600000, 600001};
	uint32_t rooms[2] = {33, 33};
	uint8_t ops[2] = {HC_OP_JOIN, HC_OP_JOIN};
	events(users, rooms, ops, 2);          /* asked, not answered yet */
	CU_ASSERT_EQUAL(w->members.gw_pending[3], 2);
	CU_ASSERT_TRUE(hc_dp_gateway_settling(&dp, 3));
	CU_ASSERT_FALSE(hc_dp_gateway_settling(&dp, 4));
	settle();
	CU_ASSERT_EQUAL(w->members.gw_pending[3], 0);
	CU_ASSERT_FALSE(hc_dp_gateway_settling(&dp, 3));
	ops[0] = ops[1] = HC_OP_LEAVE;
	events(users, rooms, ops, 2);
	settle();
	CU_ASSERT_EQUAL(d.book.room[33].users, 0);

	/* gateway 2 holds u; gateway 3's JOIN takes it over (a seat request
	 * in flight): gateway 2's LEAVE of u waits behind it, counted as
	 * applied (its sequence) but not in its users or digest yet, so
	 * gateway 2 is settling too (its heartbeat says so: no snapshot for
	 * a digest that only lags) */
	const uint64_t u = 600100;
	event_of(2, 1, 1, u, 34, HC_OP_JOIN);
	settle();
	
	CU_ASSERT_EQUAL_FATAL(hc_members_room_of(&w->members, u), 34);
	CU_ASSERT_EQUAL(hc_dp_gateway_users(&dp, 2), 1);
	CU_ASSERT_FALSE(hc_dp_gateway_settling(&dp, 2));
	uint32_t to = 35;
	uint8_t join = HC_OP_JOIN;
	events(&u, &to, &join, 1);             /* asked, not answered yet */
	CU_ASSERT_TRUE(hc_dp_gateway_settling(&dp, 3));
	event_of(2, 1, 2, u, 34, HC_OP_LEAVE); /* waits behind it */
	CU_ASSERT_EQUAL(hc_dp_gateway_applied(&dp, 2), 2);
	CU_ASSERT_EQUAL(w->members.pend.gw_deferred[2], 1);
	CU_ASSERT_EQUAL(hc_dp_gateway_users(&dp, 2), 1);
	CU_ASSERT_TRUE(hc_dp_gateway_settling(&dp, 2));
	settle();                              /* admitted; the LEAVE: not 2's user */
	CU_ASSERT_EQUAL(w->members.pend.gw_deferred[2], 0);
	CU_ASSERT_FALSE(hc_dp_gateway_settling(&dp, 2));
	CU_ASSERT_EQUAL(hc_dp_gateway_users(&dp, 2), 0);
	CU_ASSERT_EQUAL(hc_dp_gateway_digest(&dp, 2), 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u), 35);
	uint8_t leave = HC_OP_LEAVE;
	events(&u, &to, &leave, 1);
	settle();
	take_assign_records(a, 64); /* (gateway 2's SUPERSEDED among them) */
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u), 0);
}

/* A session stamp far ahead of the appliance's clock (a fast or hostile
 * gateway) is taken as the clock + 10 s, counted: it cannot pin the user
 * against later reconnects. */
static void test_session_clamped(void)
{
	uint64_t clamped = w->st.sessions_clamped;
	uint64_t user = 700000;
	uint32_t room = 34;
	uint8_t op = HC_OP_JOIN;
	ev_session = UINT64_MAX;
	events(&user, &room, &op, 1);
	settle();
	ev_session = 0;
	CU_ASSERT_EQUAL(w->st.sessions_clamped, clamped + 1);
	int32_t at = hc_usertab_lookup(&w->members.users, user);
	CU_ASSERT_FATAL(at >= 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t wall = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	/* the dataplane's clock is the TSC from a wall reading at its start:
	 * it may run a little ahead of CLOCK_REALTIME (1 s allowed) */
	CU_ASSERT(w->members.slot[at].session <= wall + HC_SESSION_AHEAD_US + 1000000u);
	CU_ASSERT(w->members.slot[at].session + 60000000u > wall + HC_SESSION_AHEAD_US);
	op = HC_OP_LEAVE;
	events(&user, &room, &op, 1);
	settle();
	CU_ASSERT_EQUAL(d.book.room[room].users, 0);
	/* the worker reads its clock only for a stamp above the limit it saw
	 * last: one 5 s ahead is below that and kept as it is; one 60 s
	 * ahead is above it, and clamped after a fresh reading */
	uint64_t users2[2] = {700001, 700002};
	uint32_t rooms2[2] = {room, room};
	uint8_t ops2[2] = {HC_OP_JOIN, HC_OP_JOIN};
	ev_session = wall + 5000000u;
	events(&users2[0], &rooms2[0], &ops2[0], 1);
	ev_session = wall + 60000000u;
	events(&users2[1], &rooms2[1], &ops2[1], 1);
	settle();
	ev_session = 0;
	CU_ASSERT_EQUAL(w->st.sessions_clamped, clamped + 2);
	at = hc_usertab_lookup(&w->members.users, users2[0]);
	CU_ASSERT_FATAL(at >= 0);
	CU_ASSERT_EQUAL(w->members.slot[at].session, wall + 5000000u);
	at = hc_usertab_lookup(&w->members.users, users2[1]);
	CU_ASSERT_FATAL(at >= 0);
	CU_ASSERT(w->members.slot[at].session < wall + 60000000u);
	CU_ASSERT(w->members.slot[at].session + 60000000u > wall + HC_SESSION_AHEAD_US);
	ops2[0] = ops2[1] = HC_OP_LEAVE;
	events(users2, rooms2, ops2, 2);
	settle();
	CU_ASSERT_EQUAL(d.book.room[room].users, 0);
}

/* Seat leases (docs/architecture.md).  One JOIN's admission leases the
 * worker 16 seats of room 60; its next 16 JOINs there apply without a
 * request; a batch of requests sent while a lease was on its way finds
 * the room full only for leased seats: those requests wait for the
 * revoke and are then admitted (none refused); a lease nobody uses comes
 * back within two ticks.  Book and worker agree throughout. */
static void test_leases(void)
{
	static struct hc_assign a[512];
	unsigned dgrams;
	uint64_t users[100];
	uint32_t rooms[100];
	uint8_t ops[100];
	const uint32_t r = 60, r2 = 61;
	settle();
	take_assigns(a, 512, &dgrams);
	CU_ASSERT_EQUAL_FATAL(pol.lease_seats, 16);
	uint64_t requests = w->members.st.requests, leased = w->members.st.leased_joins;

	/* one JOIN: a request, admitted, and 16 seats leased */
	for (unsigned i = 0; i < 100; i++)
		rooms[i] = r;
	memset(ops, HC_OP_JOIN, sizeof(ops));
	users[0] = 610000;
	events(users, rooms, ops, 1);
	settle();
	CU_ASSERT_EQUAL(w->members.st.requests, requests + 1);
	CU_ASSERT_EQUAL(w->members.lease[r], 16);
	CU_ASSERT_EQUAL(d.book.room[r].users, 1);
	CU_ASSERT_EQUAL(d.book.room[r].leased, 16);
	CU_ASSERT_EQUAL(hc_room_occupancy(&d.book.room[r]), 17);

	/* 16 more: applied at once on the leased seats, no request; as the
	 * book reads them, the lease is topped up twice (at 8 seats left:
	 * back to 16), so the worker holds 16 seats again */
	uint64_t top_ups = d.book.st.lease_top_ups;
	for (unsigned i = 0; i < 16; i++)
		users[i] = 610001 + i;
	events(users, rooms, ops, 16);
	CU_ASSERT_EQUAL(w->members.room_users[r], 17); /* before any poll */
	CU_ASSERT_EQUAL(w->members.lease[r], HC_LEASE_DRY); /* its own JOINs took it */
	CU_ASSERT_EQUAL(hc_members_lease_left(&w->members, r), 0);
	settle();
	CU_ASSERT_EQUAL(w->members.st.requests, requests + 1);
	CU_ASSERT_EQUAL(w->members.st.leased_joins, leased + 16);
	CU_ASSERT_EQUAL(d.book.st.lease_top_ups, top_ups + 2);
	CU_ASSERT_EQUAL(w->members.lease[r], 16); /* and no longer dry */
	CU_ASSERT_EQUAL(hc_members_lease_left(&w->members, r), 16);
	CU_ASSERT_EQUAL(d.book.room[r].users, 17);
	CU_ASSERT_EQUAL(d.book.room[r].leased, 16);

	/* 83 more in one go: 16 on the lease, 67 ask before the worker has
	 * read the two top-ups their LEASED reports bring: 33 users + 16
	 * leased + 51 admitted = 100, so the last 16 find the room full only
	 * for the leased seats: they wait for the revoke, then get the seats
	 * back; nobody is refused */
	uint64_t refused = d.st.refused, parked = d.st.lease_parked;
	for (unsigned i = 0; i < 83; i++)
		users[i] = 610017 + i;
	events(users, rooms, ops, 64);
	events(users + 64, rooms, ops, 19);
	CU_ASSERT_EQUAL(w->members.st.leased_joins, leased + 32);
	CU_ASSERT_EQUAL(w->members.st.requests, requests + 68);
	CU_ASSERT_EQUAL(w->members.lease[r], 0); /* the first request said it ran dry */
	uint64_t grown = d.book.st.lease_grown;
	hc_decide_poll(&d, 0);
	CU_ASSERT_EQUAL(d.book.st.lease_top_ups, top_ups + 4);
	/* that one request (flagged) doubled the room's top-up size
	 * (counted; no top-up came after it in this poll), and the revoke
	 * below made it small again */
	CU_ASSERT_EQUAL(d.book.st.lease_grown, grown + 1);
	CU_ASSERT_EQUAL(d.book.room[r].lease_grow, 0);
	CU_ASSERT_EQUAL(d.st.lease_parked, parked + 16);
	CU_ASSERT_EQUAL(d.park.n, 16);
	CU_ASSERT_EQUAL(hc_room_occupancy(&d.book.room[r]), 100);
	CU_ASSERT_FALSE(hc_decide_idle(&d));
	settle();
	CU_ASSERT_EQUAL(d.park.n, 0);
	CU_ASSERT_EQUAL(d.st.refused, refused);
	CU_ASSERT_EQUAL(d.book.room[r].users, 100);
	CU_ASSERT_EQUAL(d.book.room[r].leased, 0);
	CU_ASSERT_EQUAL(d.book.room[r].revoking, 0);
	CU_ASSERT_EQUAL(w->members.room_users[r], 100);
	CU_ASSERT_EQUAL(w->members.lease[r], 0);
	CU_ASSERT_TRUE(hc_decide_idle(&d));

	/* a lease nobody uses comes back after two ticks */
	users[0] = 620000;
	rooms[0] = r2;
	events(users, rooms, ops, 1);
	settle();
	CU_ASSERT_EQUAL(w->members.lease[r2], 16);
	tick();
	settle();
	CU_ASSERT_EQUAL(w->members.lease[r2], 16); /* one tick: kept */
	tick();
	settle();
	tick();
	settle();
	CU_ASSERT_EQUAL(w->members.lease[r2], 0);
	CU_ASSERT_EQUAL(d.book.room[r2].leased, 0);
	CU_ASSERT_EQUAL(d.book.st.lease_errors, 0);

	/* everyone leaves: the book equals the worker's counters */
	memset(ops, HC_OP_LEAVE, sizeof(ops));
	for (unsigned i = 0; i < 100; i++) {
		users[i] = 610000 + i;
		rooms[i] = r;
	}
	events(users, rooms, ops, 64);
	events(users + 64, rooms, ops, 36);
	users[0] = 620000;
	rooms[0] = r2;
	events(users, rooms, ops, 1);
	settle();
	unsigned bad = 0;
	for (uint32_t room = 1; room < cfg.max_rooms; room++)
		bad += d.book.room[room].users != w->members.room_users[room];
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
	CU_ASSERT_EQUAL(d.book.room[r2].users, 0);
	balance_settled(0); /* the ticks' plans, obeyed: the next test starts settled */
}

static void test_table_full(void)
{
	table_full_case(1, 400000, 30);
}

static void test_table_full_no_admission(void)
{
	table_full_case(0, 500000, 31);
}

/* The largest PLACE (558 records, 8,968 bytes: its records are 16 bytes,
 * so more fit than events): every request reaches the control core and
 * is answered, in order (an unknown pool: NO_ROOM each, whatever the
 * rooms hold).  The worker's buffer was sized for 372 events: the
 * records past it were written beyond it on the stack. */
static void test_largest_place(void)
{
	static uint8_t p[HC_MAX_PAYLOAD], f[HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD];
	static struct hc_assign a[HC_MAX_PLACES + 1];
	CU_ASSERT_EQUAL_FATAL(HC_MAX_PLACES, 558);
	hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_PLACE, 3, HC_MAX_PLACES, 1, 0, ++ctl_counter);
	for (unsigned i = 0; i < HC_MAX_PLACES; i++) {
		struct hc_place pl = {.user_id = htobe64(700000 + i), .request_id = htonl(9000 + i),
				      .pool_id = htons(42)};
		memcpy(p + 40 + i * 16, &pl, 16);
	}
	size_t n = hc_frame_build(f, &gw_addr, 1, p, 40 + HC_MAX_PLACES * 16);
	CU_ASSERT_EQUAL_FATAL(n, HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD - 4); /* 8,968 */
	struct rte_mbuf *m = hc_test_big_mbuf(f, n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	uint64_t places0 = w->st.places, dropped0 = w->st.places_dropped;
	uint64_t unknown0 = d.st.unknown_pool;
	hc_rx_burst(w, 0, &m, 1, 0);
	hc_ops_commit(w);
	CU_ASSERT_EQUAL(w->st.places, places0 + HC_MAX_PLACES);
	CU_ASSERT_EQUAL(w->st.places_dropped, dropped0);
	for (int i = 0; i < 4; i++)
		hc_decide_poll(&d, 0);
	unsigned dgrams;
	unsigned got = take_assigns(a, HC_MAX_PLACES + 1, &dgrams);
	CU_ASSERT_EQUAL(got, HC_MAX_PLACES);
	CU_ASSERT_EQUAL(d.st.unknown_pool, unknown0 + HC_MAX_PLACES);
	unsigned right = 0;
	for (unsigned i = 0; i < got; i++)
		right += be64toh(a[i].user_id) == 700000 + i && ntohl(a[i].request_id) == 9000 + i &&
			 a[i].status == HC_ASSIGN_NO_ROOM;
	CU_ASSERT_EQUAL(right, HC_MAX_PLACES);
}

/* Refused JOINs of new users into a full room each get a seat elsewhere
 * (NEW_TOPIC), charged to their gateway's quota as its PLACEs are: past
 * --max-places-per-gateway they are answered NO_ROOM and counted, and
 * reserve nothing. */
/* A room no test has used, filled to its max (100) by JOINs of users
 * first .. first + 99, their events left in users/rooms/ops (for the
 * LEAVEs that end the test).  Returns the room. */
static uint32_t fill_unused_room(uint64_t first, uint64_t users[100], uint32_t rooms[100],
				 uint8_t ops[100])
{
	uint32_t r = 0;
	for (uint32_t x = cfg.max_rooms - 1; x > 0 && r == 0; x--)
		if (d.book.room[x].state != HC_ROOM_LIVE && d.book.room[x].users == 0 &&
		    w->members.room_users[x] == 0)
			r = x;
	CU_ASSERT_FATAL(r != 0);
	joins_of(users, rooms, ops, 100, first, r);
	events(users, rooms, ops, 50);
	events(users + 50, rooms, ops, 50);
	settle();
	CU_ASSERT_EQUAL_FATAL(d.book.room[r].users, 100); /* full */
	return r;
}

static void state_file_in(char *dir, char path[64], const char *text);
static void restart_as_suite(void);
static void heartbeat_of(uint16_t gw, uint32_t inc, uint32_t ctr, uint32_t last,
			 uint32_t hb_flags);

static void test_refusals_within_quota(void)
{
	static struct hc_assign a[512];
	unsigned dgrams;
	uint64_t users[100];
	uint32_t rooms[100];
	uint8_t ops[100];
	uint32_t r = fill_unused_room(800000, users, rooms, ops);
	take_assigns(a, 512, &dgrams);

	uint32_t quota0 = cfg.max_places_per_gw;
	uint32_t held = hc_rooms_reserved_by(&d.book, 3);
	cfg.max_places_per_gw = held + 2;
	uint64_t over = d.st.places_over_quota, refused = d.st.refused;
	for (unsigned i = 0; i < 5; i++)
		users[i] = 810000 + i;
	events(users, rooms, ops, 5);
	settle();
	CU_ASSERT_EQUAL(d.st.refused, refused + 5);
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&d.book, 3), held + 2);
	CU_ASSERT_EQUAL(d.st.places_over_quota, over + 3);
	unsigned n = take_assigns(a, 512, &dgrams), topics = 0, none = 0;
	CU_ASSERT_EQUAL(n, 5);
	for (unsigned i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(ntohl(a[i].refused_room), r);
		topics += a[i].status == HC_ASSIGN_NEW_TOPIC && ntohl(a[i].room_id) != 0;
		none += a[i].status == HC_ASSIGN_NO_ROOM && ntohl(a[i].room_id) == 0;
	}
	CU_ASSERT_EQUAL(topics, 2);
	CU_ASSERT_EQUAL(none, 3);
	/* a refused restatement outside a restart hold is charged like a
	 * JOIN: a snapshot's members are the gateway's claim (placed whatever
	 * the quota only in a hold, when the snapshots rebuild the book) */
	struct hc_change restate = {.user_id = 820000, .to_room = r, .gateway_id = 3,
				    .kind = HC_CHG_RESTATE};
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(w->to_ctl_changes, &restate,
						    sizeof(restate)), 0);
	settle();
	CU_ASSERT_EQUAL(d.st.refused, refused + 6);
	CU_ASSERT_EQUAL(d.st.places_over_quota, over + 4);
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&d.book, 3), held + 2);
	CU_ASSERT_EQUAL_FATAL(take_assigns(a, 512, &dgrams), 1);
	CU_ASSERT_EQUAL(a[0].status, HC_ASSIGN_NO_ROOM);
	CU_ASSERT(ntohl(a[0].room_id) == 0 && ntohl(a[0].refused_room) == r);
	/* one refused in a restart hold (owed until it ends) is placed
	 * whatever the quota: the snapshots rebuilding the book state users
	 * the gateways held (a review found the exemption judged when the
	 * placement was made, after the hold: never) */
	char dir[] = "/tmp/hc-owed-XXXXXX", path[64];
	state_file_in(dir, path, "5\n"); /* gateway 5 is waited for */
	const uint64_t tick_tsc = rte_get_tsc_hz() / 10; /* (the suite's clock: settle's 0) */
	CU_ASSERT_EQUAL_FATAL(hc_restart_again(&d.restart, path, "none", NULL, 0, 64, 1, 0,
					       tick_tsc, 1764700000000ull), 0);
	CU_ASSERT_FATAL(hc_restart_holding(&d.restart));
	restate.user_id = 820001;
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(w->to_ctl_changes, &restate,
						    sizeof(restate)), 0);
	settle();
	CU_ASSERT_EQUAL(d.n_owed, 1);
	CU_ASSERT_EQUAL(take_assigns(a, 512, &dgrams), 0);
	for (int i = 0; i < 10; i++) /* (past the hold's timeout: it ends) */
		hc_decide_poll(&d, 2 * tick_tsc);
	CU_ASSERT_FATAL(!hc_restart_holding(&d.restart));
	CU_ASSERT_EQUAL(d.n_owed, 0);
	CU_ASSERT_EQUAL(d.st.places_over_quota, over + 4);
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&d.book, 3), held + 3);
	CU_ASSERT_EQUAL_FATAL(take_assigns(a, 512, &dgrams), 1);
	CU_ASSERT_EQUAL(a[0].status, HC_ASSIGN_NEW_TOPIC);
	CU_ASSERT(ntohl(a[0].room_id) != 0 && ntohl(a[0].refused_room) == r);
	restart_as_suite();
	unlink(path);
	rmdir(dir);
	cfg.max_places_per_gw = quota0;

	memset(ops, HC_OP_LEAVE, sizeof(ops));
	for (unsigned i = 0; i < 100; i++)
		users[i] = 800000 + i;
	events(users, rooms, ops, 50);
	events(users + 50, rooms, ops, 50);
	settle();
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
	CU_ASSERT_EQUAL(w->members.room_users[r], 0);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* A state file DIR/gateways holding text, in a directory made from the
 * mkdtemp template dir; its path in path[64]. */
static void state_file_in(char *dir, char path[64], const char *text)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, 64, "%s/gateways", dir);
	write_text(path, text);
}


/* How many times needle occurs in hay. */
static unsigned count_of(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* A state file of 10,000 bad lines and 10,000 ids past --max-gateways
 * (a peer's file is another box's): the first 3 of each are logged, then
 * one line counts them all (one log line each stalled the control core
 * at a takeover); the ids in it still count, the hold is whole. */
static void test_restart_log_bounded(void)
{
	char dir[] = "/tmp/hc-restart-XXXXXX", own[64];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(own, sizeof(own), "%s/gateways", dir);
	FILE *f = fopen(own, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("5\n", f);
	for (int i = 0; i < 10000; i++)
		fprintf(f, "x%d\n%d\n", i, 100 + i);
	fclose(f);
	hc_test_log_begin();
	struct hc_restart r;
	int rc = hc_restart_init(&r, own, "none", NULL, 0, 64, 1, 0, 1000, 0);
	char *logged = hc_test_log_end();
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(r.holding, 1);
	CU_ASSERT_EQUAL(r.st.listed, 1);
	CU_ASSERT_EQUAL(r.waiting, 2); /* 5, and one that never restates */
	CU_ASSERT_EQUAL(count_of(logged, "not a gateway id: line skipped"), 3);
	CU_ASSERT_EQUAL(count_of(logged, "is not below --max-gateways: not waited for"), 3);
	CU_ASSERT_EQUAL(count_of(logged, "10000 lines not a gateway id, 10000 gateways not below"), 1);
	free(logged);
	hc_restart_free(&r);
	unlink(own);
	rmdir(dir);
}

/* The restart hold's state files as hands and a peer leave them: the ids
 * of a hand-edited file all count (CR, blanks, comments, a long comment,
 * no last newline) and their restatements end the hold; a line that is no
 * id is skipped and the hold then lasts its whole time (who it named is
 * not known); so does a peer's file that is a FIFO or a symlink, which is
 * never opened (a FIFO blocked the control core). */
static void test_restart_state_files(void)
{
	char dir[] = "/tmp/hc-restart-XXXXXX", own[64], peer[64];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(own, sizeof(own), "%s/gateways", dir);
	snprintf(peer, sizeof(peer), "%s/peer", dir);
	char text[512];
	memset(text, 'x', sizeof(text));
	snprintf(text, sizeof(text), "# written by hand\r\n5\r\n6 \n   \n7 # seven\n  # note\n#%.200s\n"
		 " 8\t\n9", text + 300);
	write_text(own, text);
	struct hc_restart r;
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, "none", NULL, 0, 64, 1, 0, 1000, 0), 0);
	CU_ASSERT_EQUAL(r.holding, 1);
	CU_ASSERT_EQUAL(r.st.listed, 5);
	for (uint16_t gw = 5; gw <= 8; gw++)
		CU_ASSERT_EQUAL(hc_restart_swept(&r, gw, 0, 1), 0);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 9, 0, 1), 1); /* the fifth ends it */
	CU_ASSERT_EQUAL(r.holding, 0);
	CU_ASSERT_EQUAL(r.st.expired, 0);
	CU_ASSERT_EQUAL(r.st.restated, 5);
	CU_ASSERT_EQUAL(r.st.restated_late, 0);
	hc_restart_free(&r);
	/* the same, the hold ended early after two (a worker blocked, say):
	 * the other three restate late, counted apart, once each */
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, "none", NULL, 0, 64, 1, 0, 1000, 0), 0);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 1), 0);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 6, 0, 1), 0);
	hc_restart_end(&r, 2);
	CU_ASSERT_EQUAL(r.holding, 0);
	for (uint16_t gw = 6; gw <= 9; gw++)
		CU_ASSERT_EQUAL(hc_restart_swept(&r, gw, 0, 3), 0);
	CU_ASSERT_EQUAL(r.st.restated, 2);
	CU_ASSERT_EQUAL(r.st.restated_late, 3);
	CU_ASSERT_EQUAL(r.st.expired, 0);
	hc_restart_free(&r);

	/* a NUL in a comment (a fixed-size read took the next id for that
	 * line's rest) and 300 bytes of junk: bad lines; a 300-digit 7 is 7;
	 * the ids around them count */
	FILE *nul = fopen(own, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(nul);
	fwrite("#c\0x\n5\n", 1, 7, nul);
	for (int i = 0; i < 300; i++)
		fputc('x', nul);
	fprintf(nul, "\n%0300d\n6\n", 7);
	fclose(nul);
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, "none", NULL, 0, 64, 1, 0, 1000, 0), 0);
	CU_ASSERT_EQUAL(r.st.listed, 3);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 1), 0);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 6, 0, 1), 0);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 7, 0, 1), 0);
	CU_ASSERT_EQUAL(r.holding, 1); /* the bad lines: only the timeout ends it */
	hc_restart_free(&r);

	write_text(own, "5\nfive\n6\n");
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, "none", NULL, 0, 64, 1, 0, 1000, 0), 0);
	CU_ASSERT_EQUAL(r.st.listed, 2);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 1), 0);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 6, 0, 1), 0);
	CU_ASSERT_EQUAL(r.holding, 1);                 /* not known who "five" was */
	CU_ASSERT_EQUAL(hc_restart_poll(&r, 999), 0);
	CU_ASSERT_EQUAL(hc_restart_poll(&r, 1000), 1); /* the timeout ends it */
	CU_ASSERT_EQUAL(r.st.expired, 1);
	hc_restart_free(&r);

	write_text(own, "5\n");
	CU_ASSERT_EQUAL_FATAL(mkfifo(peer, 0600), 0);
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, peer, NULL, 0, 64, 1, 0, 1000, 0), 0); /* no block */
	CU_ASSERT_EQUAL(r.st.listed, 1);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 1), 0);
	CU_ASSERT_EQUAL(r.holding, 1);
	hc_restart_free(&r);
	unlink(peer);
	char other[64];
	snprintf(other, sizeof(other), "%s/other", dir);
	write_text(other, "6\n");
	CU_ASSERT_EQUAL_FATAL(symlink(other, peer), 0);
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, peer, NULL, 0, 64, 1, 0, 1000, 0), 0);
	CU_ASSERT_EQUAL(r.st.listed, 1);            /* 6 not read through the link */
	CU_ASSERT_EQUAL(r.st.listed_by_peer, 0);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 1), 0);
	CU_ASSERT_EQUAL(r.holding, 1);
	hc_restart_free(&r);
	unlink(peer);
	/* the same file, not a link: read */
	CU_ASSERT_EQUAL_FATAL(rename(other, peer), 0);
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, peer, NULL, 0, 64, 1, 0, 1000, 0), 0);
	CU_ASSERT_EQUAL(r.st.listed, 2);
	CU_ASSERT_EQUAL(r.st.listed_by_peer, 1);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 1), 0);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 6, 0, 1), 1);
	hc_restart_free(&r);
	unlink(peer);
	unlink(own);
	rmdir(dir);
}

/* A file's bytes, at most cap - 1 of them, NUL after; their count. */
static size_t read_all(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

#define W0 1764700000000ull /* the writer's wall clock, ms */

/* Read peer as the peer's copy under key (NULL: none), at wall clock
 * wall, beside own (no file: nothing): 1 if it was believed and named
 * exactly gateways 5 and 7 (their restatements end the hold), 0 if it
 * was not believed for its MAC, 2 for its stamp or absence (each
 * counted; only the timeout ends the hold). */
static int peer_file_believed(const char *own, const char *peer, const uint8_t *key,
			      uint64_t wall)
{
	struct hc_restart r;
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, peer, (const uint8_t (*)[HC_RESTART_KEY_LEN])key,
					      key != NULL, 64, 1, 0, 1000, wall), 0);
	int believed = -1;
	uint64_t refused = r.st.unauthenticated + r.st.stale;
	if (refused == 0 && r.st.listed == 2 && r.st.listed_by_peer == 2) {
		CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 1), 0);
		CU_ASSERT_EQUAL(hc_restart_swept(&r, 7, 0, 1), 1);
		believed = r.st.expired == 0 && !r.holding;
	} else if (refused == 1 && r.st.listed == 0 && r.holding) {
		CU_ASSERT_EQUAL(hc_restart_poll(&r, 999), 0);
		CU_ASSERT_EQUAL(hc_restart_poll(&r, 1000), 1); /* only the timeout */
		believed = r.st.unauthenticated == 1 ? 0 : 2;
	}
	CU_ASSERT(believed >= 0); /* neither: a half-believed file */
	hc_restart_free(&r);
	return believed;
}

/* A keyed file made by hand: body, then its MAC line under key. */
static void write_keyed(const char *path, const char *body, const uint8_t *key)
{
	uint8_t mac[HC_AUTH_FILE_MAC_LEN];
	hc_auth_file_mac(mac, body, strlen(body), key);
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "%s#mac hmac-sha512-256 ", body);
	for (unsigned i = 0; i < sizeof(mac); i++)
		fprintf(f, "%02x", mac[i]);
	fputc('\n', f);
	fclose(f);
}

/* A data link lost (hc_restart_links: port 0, then port 1 too): the
 * gateways that held users when each went stay listed in the state file
 * while any is lost, though the workers dropped them since (declared
 * dead: cut off, not gone, and a takeover's hold from this file must
 * wait for them); a gateway that placed users between the two losses is
 * kept from the second; once no link is lost the file says what the
 * workers hold.  (A review: a master
 * whose vfio link died wrote a file of no gateway 3 s later, and a
 * takeover from it held for none.) */
static void test_restart_links_down(void)
{
	char dir[] = "/tmp/hc-restart-XXXXXX", own[64], text[512];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(own, sizeof(own), "%s/gateways", dir);
	struct hc_restart r;
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, "none", NULL, 0, 64, 1, 0, 1000, 0), 0);
	hc_restart_end(&r, 0);
	hc_restart_poll(&r, 1000);
	uint32_t was[64]; /* (the suite's other tests' gateways: kept aside) */
	memcpy(was, w->members.gw_users, sizeof(was));
	memset(w->members.gw_users, 0, sizeof(was));
	w->members.gw_users[5] = 2;
	w->members.gw_users[7] = 1;
	hc_restart_save(&r, &dp, 0);
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 1);
	read_all(own, text, sizeof(text));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n5\n7\n"));
	hc_restart_links(&r, &dp, 1);    /* port 0 lost */
	w->members.gw_users[5] = 0;      /* declared dead */
	w->members.gw_users[7] = 0;
	w->members.gw_users[9] = 1;      /* placed through port 1 */
	hc_restart_save(&r, &dp, 1000);
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 2); /* 5, 7 kept; 9 added */
	read_all(own, text, sizeof(text));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n5\n7\n9\n"));
	hc_restart_links(&r, &dp, 3);    /* port 1 lost too: 9 kept */
	w->members.gw_users[9] = 0;
	hc_restart_save(&r, &dp, 2000);
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 2); /* the set as written */
	hc_restart_links(&r, &dp, 2);    /* port 0 back, 1 still lost */
	hc_restart_save(&r, &dp, 2500);
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 2);
	read_all(own, text, sizeof(text));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n5\n7\n9\n"));
	hc_restart_links(&r, &dp, 0); /* none lost: what the workers hold */
	hc_restart_save(&r, &dp, 3000);
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 3);
	read_all(own, text, sizeof(text));
	CU_ASSERT_PTR_NULL(strstr(text, "\n5\n"));
	CU_ASSERT_PTR_NULL(strstr(text, "\n7\n"));
	CU_ASSERT_PTR_NULL(strstr(text, "\n9\n"));
	hc_restart_free(&r);

	/* a hold ended early, gateway 5 not restated yet (still listed), a
	 * link lost, then 5 dropped (declared dead: its sweep, from every
	 * worker): kept listed all the same (the sweep cleared the whole
	 * word, the link's mark with it) */
	write_text(own, "5\n");
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, "none", NULL, 0, 64, 1, 0, 1000, 0), 0);
	CU_ASSERT_EQUAL(r.holding, 1);
	hc_restart_end(&r, 1);
	hc_restart_links(&r, &dp, 1);
	hc_restart_swept(&r, 5, 0, 2);
	hc_restart_save(&r, &dp, 4000);
	hc_restart_flush(&r);
	read_all(own, text, sizeof(text));
	CU_ASSERT(strncmp(text, "5\n", 2) == 0 || strstr(text, "\n5\n") != NULL);
	memcpy(w->members.gw_users, was, sizeof(was));
	hc_restart_free(&r);
	unlink(own);
	rmdir(dir);
}

/* --state-key: the file written carries its writer, the wall clock and a
 * MAC of its bytes under the pair's key (hc_restart_save, the real writer,
 * for gateways 5 and 7), and is written again every 10 s though nothing
 * changed.  Read as the peer's copy with the key, fresh, it is believed,
 * as it is without a key (the stamp and MAC lines are comments).  Not
 * believed at all, the hold then lasting its whole time, counted: read
 * with another key, with one id changed, one MAC digit changed, cut
 * short, with a line after the MAC, without its MAC line, empty, or
 * missing (what a forger on the management network could send, or
 * delete); stamped more than 30 s before or after now (a replay, a sync
 * that stopped); this box's own file sent back; no stamp. */
static void test_restart_state_key(void)
{
	char dir[] = "/tmp/hc-restart-XXXXXX", own[64], peer[64], text[1024];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(own, sizeof(own), "%s/gateways", dir);
	snprintf(peer, sizeof(peer), "%s/peer", dir);
	uint8_t key[HC_AUTH_FILE_KEY_LEN], other[HC_AUTH_FILE_KEY_LEN];
	for (unsigned i = 0; i < sizeof(key); i++) {
		key[i] = (uint8_t)(i * 7 + 1);
		other[i] = (uint8_t)(i * 7 + 2);
	}
	/* the writer (the other box, writing what is here the peer's copy):
	 * gateways 5 and 7 hold users (the suite's worker) */
	struct hc_restart r;
	char writers_peer[80];
	snprintf(writers_peer, sizeof(writers_peer), "%s/writers-peer", dir);
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, peer, writers_peer, &key, 1, 64, 1, 0, 1000, W0), 0);
	CU_ASSERT_EQUAL(r.st.stale, 1); /* its own peer copy: none (a pair's first takeover) */
	CU_ASSERT_EQUAL(r.unknown, 1);
	hc_restart_end(&r, 0);
	hc_restart_poll(&r, 1000); /* (its deadline passed: until then the file
	                              says 'unknown', the hold not having run) */
	CU_ASSERT_EQUAL(r.unknown, 0);
	char self[sizeof(r.self)]; /* this process's name, as any reader here has it */
	memcpy(self, r.self, sizeof(self));
	snprintf(r.self, sizeof(r.self), "the-other-box:0123456789abcdef"); /* (another writer) */
	uint32_t was[64]; /* (the suite's other tests' gateways: kept aside) */
	memcpy(was, w->members.gw_users, sizeof(was));
	memset(w->members.gw_users, 0, sizeof(was));
	w->members.gw_users[5] = 2;
	w->members.gw_users[7] = 1;
	hc_restart_save(&r, &dp, W0);
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 1);
	hc_restart_save(&r, &dp, W0 + 9999); /* nothing changed, stamp fresh */
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 1);
	hc_restart_save(&r, &dp, W0 + 10000); /* renewed */
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 2);
	memcpy(w->members.gw_users, was, sizeof(was));
	CU_ASSERT_EQUAL(r.st.write_errors, 0);
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	CU_ASSERT_EQUAL(strncmp(self, host, strlen(host)), 0); /* host:RUNID */
	CU_ASSERT_EQUAL(strlen(self), strlen(host) + 17);
	char stamp[400];
	snprintf(stamp, sizeof(stamp), "\n#written %llu the-other-box:0123456789abcdef\n5\n7\n"
		 "#mac hmac-sha512-256 ", W0 + 10000);
	hc_restart_free(&r);
	size_t n = read_all(peer, text, sizeof(text));
	const char *mac = strstr(text, "#mac hmac-sha512-256 ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mac);
	CU_ASSERT_EQUAL((size_t)(mac - text) + 21 + 64 + 1, n); /* the last line */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, stamp));
	char good[1024];
	memcpy(good, text, n + 1);
	/* (own: no file, a first start; peer: the file under test) */
	const uint64_t at = W0 + 10000 + 5000; /* read 5 s after the write */

	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, at), 1);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, NULL, at), 1);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, other, at), 0);
	/* the stamp: 30 s either way of now, no more */
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, W0 + 10000 + 30000), 1);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, W0 + 10000 + 30001), 2);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, W0 + 10000 - 30000), 1);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, W0 + 10000 - 30001), 2);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, NULL, W0 + 10000 + 99999), 1); /* (no key) */
	/* 7 made 6: the same length, the MAC as written */
	char *seven = strstr(text, "\n7\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(seven);
	seven[1] = '6';
	write_text(peer, text);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, at), 0);
	/* one MAC digit changed */
	memcpy(text, good, n + 1);
	text[n - 2] = text[n - 2] == '0' ? '1' : '0';
	write_text(peer, text);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, at), 0);
	/* cut short: in the MAC, and before it */
	memcpy(text, good, n + 1);
	text[n - 10] = '\0';
	write_text(peer, text);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, at), 0);
	text[mac - text] = '\0';
	write_text(peer, text); /* "...5\n7\n": believed only without a key */
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, at), 0);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, NULL, at), 1);
	/* a line after the MAC */
	memcpy(text, good, n);
	memcpy(text + n, "9\n", 3);
	write_text(peer, text);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, at), 0);
	write_text(peer, "");
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, at), 0);
	unlink(peer); /* deleted: keyed, not "a first start" */
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, at), 2);
	/* a good MAC without a stamp, or with this box's own name */
	write_keyed(peer, "# by hand\n5\n7\n", key);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, at), 2);
	snprintf(text, sizeof(text), "# x\n#written %llu %s\n5\n7\n", W0 + 10000, self);
	write_keyed(peer, text, key);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, at), 2);
	snprintf(text, sizeof(text), "# x\n#written %llu %s0\n5\n7\n", W0 + 10000, self);
	write_keyed(peer, text, key); /* another writer (ours, longer): believed */
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, at), 1);
	/* the good file again: believed (what failed was the bytes) */
	write_text(peer, good);
	CU_ASSERT_EQUAL(peer_file_believed(own, peer, key, at), 1);
	/* the own file is held to the key too, not to the stamp (it is as
	 * old as the last time this box served) */
	write_text(own, "5\n");
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, "none", &key, 1, 64, 1, 0, 1000, at), 0);
	CU_ASSERT_EQUAL(r.st.unauthenticated, 1);
	CU_ASSERT_EQUAL(r.st.listed, 0);
	CU_ASSERT_EQUAL(r.holding, 1);
	hc_restart_free(&r);
	write_text(own, good);
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, "none", &key, 1, 64, 1, 0, 1000, at + 86400000),
			      0);
	CU_ASSERT_EQUAL(r.st.unauthenticated + r.st.stale, 0);
	CU_ASSERT_EQUAL(r.st.listed, 2);
	hc_restart_free(&r);
	/* a key rotated (two keys, the first signs): a copy under either is
	 * believed, one under a key dropped is not; the box writes under its
	 * first key, again at once when that key changes */
	write_text(peer, good); /* (under key) */
	unlink(own);
	uint8_t both[2][HC_RESTART_KEY_LEN], other_only[1][HC_RESTART_KEY_LEN];
	memcpy(both[0], other, sizeof(other));
	memcpy(both[1], key, sizeof(key));
	memcpy(other_only[0], other, sizeof(other));
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, peer, both, 2, 64, 1, 0, 1000, at), 0);
	CU_ASSERT_EQUAL(r.st.unauthenticated + r.st.stale, 0);
	CU_ASSERT_EQUAL(r.st.listed_by_peer, 2);
	hc_restart_free(&r);
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, peer, other_only, 1, 64, 1, 0, 1000, at), 0);
	CU_ASSERT_EQUAL(r.st.unauthenticated, 1);
	CU_ASSERT_EQUAL(r.st.listed_by_peer, 0);
	hc_restart_free(&r);
	char rot[80];
	snprintf(rot, sizeof(rot), "%s/rotated", dir);
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, rot, "none", &key, 1, 64, 1, 0, 1000, W0), 0);
	snprintf(r.self, sizeof(r.self), "the-other-box:0123456789abcdef");
	memset(w->members.gw_users, 0, sizeof(was));
	w->members.gw_users[5] = 2;
	w->members.gw_users[7] = 1;
	hc_restart_save(&r, &dp, W0 + 10000);
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 1);
	CU_ASSERT_EQUAL(peer_file_believed(own, rot, key, at), 1);
	CU_ASSERT_EQUAL(peer_file_believed(own, rot, other, at), 0);
	hc_restart_set_keys(&r, both, 2); /* step 2 of a rotation: the new key signs */
	hc_restart_save(&r, &dp, W0 + 10001); /* nothing changed but the key */
	hc_restart_flush(&r);
	memcpy(w->members.gw_users, was, sizeof(was));
	CU_ASSERT_EQUAL(r.st.writes, 2);
	CU_ASSERT_EQUAL(peer_file_believed(own, rot, other, at), 1);
	CU_ASSERT_EQUAL(peer_file_believed(own, rot, key, at), 0);
	hc_restart_free(&r);
	unlink(rot);
	/* a keyed box that reads no peer file still renews its own (its
	 * peer's copy must stay fresh) */
	unlink(own);
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, own, "none", &key, 1, 64, 1, 0, 1000, W0), 0);
	memset(w->members.gw_users, 0, sizeof(was));
	hc_restart_save(&r, &dp, W0);
	hc_restart_flush(&r);
	hc_restart_save(&r, &dp, W0 + 9999);
	hc_restart_save(&r, &dp, W0 + 10000);
	hc_restart_flush(&r);
	memcpy(w->members.gw_users, was, sizeof(was));
	CU_ASSERT_EQUAL(r.st.writes, 2);
	hc_restart_free(&r);
	unlink(own);
	unlink(peer);
	rmdir(dir);
}

static sem_t held_in, held_go;
static unsigned held_calls;

/* wait for s at most 30 s: 0, or -1 */
static int sem_wait_30s(sem_t *s)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 30;
	while (sem_timedwait(s, &t) != 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* A write held as long as a slow disk would: the first write waits for
 * held_go after saying held_in; the ones after it pass. */
static void hold_first_write(void)
{
	if (held_calls++ == 0) {
		sem_post(&held_in);
		sem_wait_30s(&held_go); /* (bounded: a writer in the caller's
		                           thread fails the test, not hangs it) */
	}
}

/* A writer at dir/gateways whose first write (A) is held by the test
 * (hold_first_write): returned once the writer has taken A. */
static struct hc_file_writer *writer_held_at_a(char *dir, char path[64], const char *name)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, 64, "%s/gateways", dir);
	sem_init(&held_in, 0, 0);
	sem_init(&held_go, 0, 0);
	held_calls = 0;
	hc_file_writer_test_hold = hold_first_write;
	struct hc_file_writer *fw = hc_file_writer_new(path, name);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fw);
	CU_ASSERT_EQUAL(hc_file_writer_put(fw, "A\n", 2), 0);
	CU_ASSERT_EQUAL_FATAL(sem_wait_30s(&held_in), 0); /* the writer took A */
	return fw;
}

/* What writer_held_at_a set up, undone (the writer ended already). */
static void writer_held_done(const char *dir, const char *path)
{
	hc_file_writer_test_hold = NULL;
	sem_destroy(&held_in);
	sem_destroy(&held_go);
	unlink(path);
	rmdir(dir);
}

/* The state file's writer: the caller hands contents over and goes on
 * while the disk takes its time (a write held by the test: the caller
 * handed two more meanwhile, and nothing was on disk yet); of contents
 * waiting behind a write only the latest is written (A, then C: B was
 * replaced before its turn); the file is the caller's alone (mode 600). */
static void test_file_writer_off_caller(void)
{
	char dir[] = "/tmp/hc-fw-XXXXXX", path[64], text[64];
	struct hc_file_writer *fw = writer_held_at_a(dir, path, "hc-test-writer");
	CU_ASSERT_EQUAL(hc_file_writer_put(fw, "B\n", 2), 0);
	CU_ASSERT_EQUAL(hc_file_writer_put(fw, "C\n", 2), 0);
	struct stat st;
	CU_ASSERT_EQUAL(stat(path, &st), -1); /* A is not written yet */
	uint64_t writes = 9, errors = 9;
	hc_file_writer_counts(fw, &writes, &errors);
	CU_ASSERT_EQUAL(writes, 0);
	CU_ASSERT(hc_file_writer_busy_ms(fw) >= 1); /* (a hung disk shows) */
	sem_post(&held_go);
	hc_file_writer_flush(fw);
	CU_ASSERT_EQUAL(hc_file_writer_busy_ms(fw), 0);
	hc_file_writer_counts(fw, &writes, &errors);
	CU_ASSERT_EQUAL(writes, 2); /* A and C */
	CU_ASSERT_EQUAL(errors, 0);
	CU_ASSERT_EQUAL(hc_file_writer_failed(fw), 0);
	CU_ASSERT_EQUAL(read_all(path, text, sizeof(text)), 2);
	CU_ASSERT_STRING_EQUAL(text, "C\n");
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	hc_file_writer_free(fw);
	writer_held_done(dir, path);
}

/* A disk that hangs at the end: hc_file_writer_free (at shutdown) waits
 * its bound, not the disk: it returns while the write is held (nothing on
 * disk yet), and the writer left behind finishes on its own once the disk
 * answers (the write held, then the contents that waited behind it) and
 * frees itself (counted; ASan's checks in the sanitizer run). */
static void test_file_writer_end_hung(void)
{
	char dir[] = "/tmp/hc-fwh-XXXXXX", path[64], text[64];
	uint32_t wait_ms = hc_file_writer_end_wait_ms;
	unsigned left_ended = hc_file_writer_left_ended;
	hc_file_writer_end_wait_ms = 50;
	struct hc_file_writer *fw = writer_held_at_a(dir, path, "hc-test-hung");
	CU_ASSERT_EQUAL(hc_file_writer_put(fw, "B\n", 2), 0);
	hc_file_writer_free(fw); /* returns: the write is still held */
	struct stat st;
	CU_ASSERT_EQUAL(stat(path, &st), -1);
	CU_ASSERT_EQUAL(held_calls, 1);
	sem_post(&held_go); /* the disk answers */
	ssize_t got = 0;
	for (int i = 0; i < 3000; i++) { /* (at most 30 s) */
		if (stat(path, &st) == 0) { /* (renamed into place whole) */
			got = (ssize_t)read_all(path, text, sizeof(text));
			if (got == 2 && strcmp(text, "B\n") == 0)
				break;
		}
		usleep(10000);
	}
	CU_ASSERT_EQUAL_FATAL(got, 2);
	CU_ASSERT_STRING_EQUAL(text, "B\n");
	CU_ASSERT_EQUAL(held_calls, 2); /* A, then B */
	for (int i = 0; i < 3000 && __atomic_load_n(&hc_file_writer_left_ended, __ATOMIC_ACQUIRE) ==
				    left_ended; i++)
		usleep(10000); /* (at most 30 s) it freed itself */
	CU_ASSERT_EQUAL(__atomic_load_n(&hc_file_writer_left_ended, __ATOMIC_ACQUIRE),
			left_ended + 1);
	hc_file_writer_end_wait_ms = wait_ms;
	writer_held_done(dir, path);
}

/* A room no earlier test used or revoked (ticks do not advance here: a
 * revoked room's leases would wait for one), or 0 (--max-rooms 64). */
static uint32_t untouched_room(void)
{
	for (uint32_t k = 1; k < 64; k++)
		if (d.book.room[k].users == 0 && d.book.room[k].lease_hold == 0 &&
		    d.book.room[k].leased == 0 && w->members.room_users[k] == 0)
			return k;
	return 0;
}

static void restart_as_suite(void);

/* The end of a test that held from a state file (DIR/path): user out of
 * room r so that the room is empty, the suite's restart state, the
 * test's state file gone. */
static void held_test_done(uint64_t user, uint32_t r, const char *dir, const char *path)
{
	uint8_t leave = HC_OP_LEAVE;
	events(&user, &r, &leave, 1);
	settle();
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
	restart_as_suite();
	unlink(path);
	rmdir(dir);
}

/* The suite's appliance again: its HA state, incarnation, serving. */
static void ha_as_suite(const struct hc_ha *was, uint32_t inc)
{
	d.ha = *was;
	d.tx.incarnation = inc;
	__atomic_store_n(&dp.ha_serving, 1, __ATOMIC_RELEASE);
}

/* The end of an HA test that held: the suite's appliance again, then as
 * held_test_done. */
static void ha_test_done(const struct hc_ha *was, uint32_t inc, uint64_t user, uint32_t r,
			 const char *dir, const char *path)
{
	ha_as_suite(was, inc);
	held_test_done(user, r, dir, path);
}

/* A master in a restart hold (the state file at path) that holds user's
 * JOIN into room r: the request waits, the user is in no room. */
static void ha_master_holds_join(const char *path, uint64_t user, uint32_t r)
{
	uint8_t op = HC_OP_JOIN;
	d.ha.role = HC_HA_MASTER;
	CU_ASSERT_EQUAL_FATAL(hc_restart_again(&d.restart, path, "none", NULL, 0, 64, 1,
					       0, 1000 * rte_get_tsc_hz(), W0), 0);
	CU_ASSERT_FATAL(hc_restart_holding(&d.restart));
	events(&user, &r, &op, 1); /* a request: held */
	settle();
	CU_ASSERT_EQUAL_FATAL(hc_members_room_of(&w->members, user), 0);
}

/* What the restart-hold tests share: a user, a room no test used, a
 * state file listing the gateways waited for (in a fresh dir; with
 * as_config, the suite's --state-file too, and no peer's), and the
 * suite's HA state and incarnation, given back by hold_test_done; then a
 * master (of epoch, unless 0) holding the user's JOIN into the room. */
struct hold_test {
	uint64_t user;
	uint32_t r;
	char dir[24];
	char path[64];
	struct hc_ha was;
	uint32_t inc;
	int as_config;
	const char *own, *peer;
};

static void hold_test_begin(struct hold_test *t, uint64_t user, const char *listed,
			    int as_config, uint32_t epoch)
{
	t->user = user;
	settle();
	t->r = untouched_room();
	CU_ASSERT_FATAL(t->r != 0);
	snprintf(t->dir, sizeof(t->dir), "/tmp/hc-ha-XXXXXX");
	state_file_in(t->dir, t->path, listed);
	t->as_config = as_config;
	t->own = cfg.state_file;
	t->peer = cfg.peer_state_file;
	if (as_config) {
		cfg.state_file = t->path;
		cfg.peer_state_file = "none";
	}
	t->was = d.ha;
	t->inc = d.tx.incarnation;
	if (epoch != 0)
		d.ha.epoch = epoch;
	ha_master_holds_join(t->path, user, t->r);
}

static void hold_test_done(struct hold_test *t)
{
	cfg.state_file = t->own;
	cfg.peer_state_file = t->peer;
	ha_test_done(&t->was, t->inc, t->user, t->r, t->dir, t->path);
}

/* HA: a box's leases come back when its epoch ends (demoted) and when a
 * new one begins (a takeover, a re-epoch), so that no JOIN is applied on
 * a seat granted from an older book during the new epoch's restart hold:
 * after a master -> backup -> master flap the worker holds no lease, and
 * its next JOIN in the room asks for a seat.  And the backup is cold: its
 * worker forgets every gateway (its timers, hc_ha_cold), so the user the
 * last epoch seated is gone from the worker and the book alike. */
static void test_ha_revokes_leases(void)
{
	uint64_t user = 620000;
	uint8_t op = HC_OP_JOIN;
	settle();
	uint32_t r = untouched_room();
	CU_ASSERT_FATAL(r != 0);
	CU_ASSERT_EQUAL_FATAL(pol.lease_seats, 16);
	struct hc_ha was = d.ha;
	uint32_t inc = d.tx.incarnation;
	d.ha.role = HC_HA_MASTER; /* (the suite's appliance: one of a pair now) */
	events(&user, &r, &op, 1);
	settle();
	CU_ASSERT_EQUAL_FATAL(w->members.lease[r], 16);
	CU_ASSERT_EQUAL(d.book.room[r].leased, 16);
	uint64_t revoked = d.book.st.lease_revokes;
	CU_ASSERT_EQUAL_FATAL(hc_ha_request(&d.ha, HC_HA_BACKUP), 0);
	settle();
	CU_ASSERT_EQUAL(d.ha.role, HC_HA_BACKUP);
	CU_ASSERT_EQUAL(w->members.lease[r], 0); /* given back */
	CU_ASSERT_EQUAL(d.book.room[r].leased, 0);
	CU_ASSERT(d.book.st.lease_revokes > revoked); /* (every leased room) */
	CU_ASSERT_EQUAL(d.book.leased_now, 0);
	uint64_t forgets = w->seq.st.demotion_forgets;
	hc_ha_cold(w); /* (the worker's timers) */
	settle();
	CU_ASSERT(w->seq.st.demotion_forgets > forgets); /* gateway 3 at least */
	CU_ASSERT_EQUAL(w->seq.gw[3].incarnation, 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), 0);
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
	forgets = w->seq.st.demotion_forgets;
	hc_ha_cold(w); /* acted on once */
	CU_ASSERT_EQUAL(w->seq.st.demotion_forgets, forgets);
	CU_ASSERT_EQUAL_FATAL(hc_ha_request(&d.ha, HC_HA_MASTER), 0);
	settle();
	CU_ASSERT_EQUAL(d.ha.role, HC_HA_MASTER);
	uint64_t requests = w->members.st.requests, leased = w->members.st.leased_joins;
	user++;
	events(&user, &r, &op, 1);
	settle();
	CU_ASSERT_EQUAL(w->members.st.requests, requests + 1); /* asked, not leased */
	CU_ASSERT_EQUAL(w->members.st.leased_joins, leased);
	CU_ASSERT_EQUAL(d.book.room[r].users, 1);
	/* the suite's appliance again */
	ha_as_suite(&was, inc);
	settle();
}

/* The suite's restart state again after a test's hold in d.restart: no
 * state file (the test's path, on its stack, must not be saved to by a
 * later test's tick, nor its writer kept for the next test's hold), no
 * hold. */
static void restart_as_suite(void)
{
	hc_restart_free(&d.restart); /* (its writer ended: the writes are the test's) */
	CU_ASSERT_EQUAL(hc_restart_init(&d.restart, dp.cfg->state_file, dp.cfg->peer_state_file,
					NULL, 0, dp.cfg->max_gateways, dp.n_workers, rte_rdtsc(),
					d.hold_tsc, W0), 0);
	CU_ASSERT_FALSE(hc_restart_holding(&d.restart));
}

/* An HA event while a restart hold holds seat requests: the hold ends and
 * its requests are decided, but no lease is granted with them (the epoch's
 * leases all come back; a lease granted just before its revoke could
 * seat the JOINs that waited behind the request). */
static void test_ha_release_grants_no_lease(void)
{
	struct hold_test t;
	hold_test_begin(&t, 630000, "# listed\n5\n", 0, 0);
	const uint64_t user = t.user;
	const uint32_t r = t.r;
	uint64_t grants = d.book.st.lease_grants;
	CU_ASSERT_EQUAL_FATAL(hc_ha_request(&d.ha, HC_HA_BACKUP), 0);
	settle();
	CU_ASSERT_FALSE(hc_restart_holding(&d.restart));
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), r); /* decided: admitted */
	CU_ASSERT_EQUAL(d.book.st.lease_grants, grants);             /* without a lease */
	CU_ASSERT_EQUAL(w->members.lease[r], 0);
	CU_ASSERT_EQUAL(d.book.room[r].leased, 0);
	hold_test_done(&t);
}

/* A gateway's datagram names epoch `heard` to the master, whose own epoch
 * is over a second old (settle's clock is 0): one poll, then no more. */
static void gateway_names_epoch(uint32_t heard)
{
	__atomic_store_n(&dp.workers[0]->ha_heard, heard, __ATOMIC_RELAXED);
	d.ha.epoch_tsc = 0 - 2 * rte_get_tsc_hz();
	settle();
	__atomic_store_n(&dp.workers[0]->ha_heard, 0, __ATOMIC_RELAXED);
}

/* --ha-box: one box's epochs even, the other's odd.  Two promotions in
 * the same 1/8 s from the same last epoch take two epochs (without the
 * box, one); each stays after its own last and after any heard; the wrap
 * skips 0; a box takes the next of its parity past the other's. */
static void test_ha_epoch_parity(void)
{
	const uint32_t clock = 1000001, last = 999990;
	uint32_t a = hc_ha_next_epoch(clock, last, 0, 0), b = hc_ha_next_epoch(clock, last, 0, 1);
	CU_ASSERT_EQUAL(hc_ha_next_epoch(clock, last, 0, -1), clock); /* (a tie, unboxed) */
	CU_ASSERT_EQUAL(a, clock + 1);
	CU_ASSERT_EQUAL(b, clock);
	CU_ASSERT_NOT_EQUAL(a, b);
	/* the clock behind our last, or behind what was heard */
	CU_ASSERT_EQUAL(hc_ha_next_epoch(clock, clock + 10, 0, 0), clock + 11);
	CU_ASSERT_EQUAL(hc_ha_next_epoch(clock, clock + 10, 0, 1), clock + 12);
	CU_ASSERT_EQUAL(hc_ha_next_epoch(clock, last, clock + 20, 0), clock + 21);
	CU_ASSERT_EQUAL(hc_ha_next_epoch(clock, last, clock + 20, 1), clock + 22);
	/* A hears B's epoch (odd) and goes past it (even), and back */
	uint32_t a2 = hc_ha_next_epoch(clock, a, b + 100, 0);
	CU_ASSERT_EQUAL(a2, b + 101);
	CU_ASSERT_EQUAL(hc_ha_next_epoch(clock, b, a2, 1), a2 + 1);
	/* the wrap: never 0, parity kept */
	CU_ASSERT_EQUAL(hc_ha_next_epoch(UINT32_MAX, UINT32_MAX - 1, 0, 0), 2);
	CU_ASSERT_EQUAL(hc_ha_next_epoch(UINT32_MAX, UINT32_MAX - 1, 0, 1), UINT32_MAX);
	CU_ASSERT_EQUAL(hc_ha_next_epoch(0, UINT32_MAX, 0, 1), 1);
	CU_ASSERT_EQUAL(hc_ha_next_epoch(0, UINT32_MAX, 0, -1), 1);
	/* every epoch of each box, over a run of promotions hearing the
	 * other's: after both, of its parity, never equal to the other's */
	uint32_t ea = 5, eb = 5, bad = 0;
	for (uint32_t i = 0; i < 10000; i++) {
		uint32_t c = 1000 + i / 3; /* the same 1/8 s three times */
		ea = hc_ha_next_epoch(c, ea, i % 2 ? eb : 0, 0);
		eb = hc_ha_next_epoch(c, eb, i % 3 ? ea : 0, 1);
		bad += (ea & 1) != 0 || (eb & 1) != 1 || ea == eb;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* A re-epoch inside a restart hold (a gateway named a newer epoch): the
 * JOIN the hold held is not decided against the half-rebuilt book but
 * waits for the new hold (every gateway restates again); a re-epoch once
 * it has waited a hold's bound decides it. */
static void test_ha_reepoch_carries_hold(void)
{
	struct hold_test t;
	hold_test_begin(&t, 640000, "5\n", 1, 0);
	const uint64_t user = t.user;
	const uint32_t r = t.r;
	CU_ASSERT_EQUAL_FATAL(d.n_held[0], 1);
	/* a gateway names a newer epoch, ours over a second old (settle's
	 * clock is 0) */
	uint64_t carried = d.st.holds_carried, reepochs = d.ha.st.reepochs;
	uint64_t own_box = d.ha.st.reepochs_own_box;
	uint32_t epoch = d.ha.epoch;
	hc_ha_set_box(&d.ha, (int)((epoch + 8) & 1)); /* (the same box: counted) */
	gateway_names_epoch(epoch + 8);
	CU_ASSERT_EQUAL(d.ha.st.reepochs, reepochs + 1);
	CU_ASSERT_EQUAL(d.ha.st.reepochs_own_box, own_box + 1);
	CU_ASSERT(hc_seq_after(d.ha.epoch, epoch + 8));
	CU_ASSERT_EQUAL(d.tx.incarnation, d.ha.epoch);
	CU_ASSERT_EQUAL(d.st.holds_carried, carried + 1);
	CU_ASSERT_TRUE(hc_restart_holding(&d.restart));           /* the new hold */
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), 0); /* still held */
	CU_ASSERT_EQUAL(d.n_held[0], 1);
	/* another re-epoch, the request carried for a hold's bound already
	 * (re-epochs may come every second, each hold lasts up to the
	 * bound): decided now, not carried again */
	d.carried_since = 0 - d.hold_tsc;
	epoch = d.ha.epoch;
	hc_ha_set_box(&d.ha, (int)((epoch + 9) & 1)); /* (the other box: not counted) */
	gateway_names_epoch(epoch + 8);
	CU_ASSERT_EQUAL(d.ha.st.reepochs, reepochs + 2);
	CU_ASSERT_EQUAL(d.ha.st.reepochs_own_box, own_box + 1);
	CU_ASSERT_EQUAL(d.st.holds_carried, carried + 1);
	CU_ASSERT_TRUE(hc_restart_holding(&d.restart)); /* (the third epoch's) */
	CU_ASSERT_EQUAL(d.n_held[0], 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), r); /* decided: admitted */
	CU_ASSERT_FALSE(d.carrying);
	/* demoted: the hold ends */
	CU_ASSERT_EQUAL_FATAL(hc_ha_request(&d.ha, HC_HA_BACKUP), 0);
	settle();
	CU_ASSERT_FALSE(hc_restart_holding(&d.restart));
	hold_test_done(&t);
}

/* A stop in a restart hold ends the hold at once (hc_decide_draining,
 * at the drain's start): the JOIN it held is decided, so the drain, which
 * waits for every answer, does not wait for the hold's timeout.  Before,
 * it did (up to the gateway timeout, or hc_control's 30 s bound) and then
 * stopped undrained. */
static void test_stop_ends_hold(void)
{
	struct hold_test t;
	hold_test_begin(&t, 658000, "5\n", 1, 0);
	const uint64_t user = t.user;
	const uint32_t r = t.r;
	CU_ASSERT_EQUAL_FATAL(d.n_held[0], 1);
	CU_ASSERT_FALSE(hc_decide_idle(&d)); /* (the drain would wait) */
	uint64_t ended = d.st.hold_ended_by_stop;
	hc_decide_draining(&d, rte_rdtsc());
	CU_ASSERT_EQUAL(d.st.hold_ended_by_stop, ended + 1);
	CU_ASSERT_FALSE(hc_restart_holding(&d.restart));
	CU_ASSERT_EQUAL(d.n_held[0], 0);
	settle();
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), r); /* decided: admitted */
	hc_decide_draining(&d, rte_rdtsc()); /* no hold: nothing more */
	CU_ASSERT_EQUAL(d.st.hold_ended_by_stop, ended + 1);
	/* the drained stop's state file still names gateway 5, which never
	 * restated: the next start holds for it again */
	char buf[256];
	hc_decide_stopped(&d);
	hc_restart_flush(&d.restart);
	CU_ASSERT(read_all(t.path, buf, sizeof(buf)) > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n5\n"));
	hold_test_done(&t);
}

/* An HA takeover during a stop's drain begins no hold that outlasts the
 * drain: the workers read no more input, so no gateway could restate, and
 * the hold would keep what it holds until its bound.  It ends at once
 * (counted as a stop's), and a JOIN asked in the drain is decided. */
static void test_takeover_in_drain_holds_nothing(void)
{
	struct hold_test t;
	hold_test_begin(&t, 659000, "5\n", 1, 0);
	const uint32_t r = t.r;
	hc_dp_set_state(&dp, HC_DRAIN); /* (as hc_control_stop_workers) */
	hc_decide_draining(&d, rte_rdtsc()); /* (the hold under way ends) */
	settle();
	CU_ASSERT_EQUAL_FATAL(hc_members_room_of(&w->members, t.user), r);
	CU_ASSERT_EQUAL_FATAL(hc_ha_request(&d.ha, HC_HA_BACKUP), 0);
	settle();
	uint64_t ended = d.st.hold_ended_by_stop, carried = d.st.holds_carried;
	CU_ASSERT_EQUAL_FATAL(hc_ha_request(&d.ha, HC_HA_MASTER), 0);
	settle(); /* a takeover: a new epoch, the state file (gateway 5) read again */
	CU_ASSERT_EQUAL(d.ha.role, HC_HA_MASTER);
	CU_ASSERT_FALSE(hc_restart_holding(&d.restart));
	CU_ASSERT_EQUAL(d.st.hold_ended_by_stop, ended + 1);
	CU_ASSERT_EQUAL(d.st.holds_carried, carried);
	uint64_t user = t.user + 1;
	uint8_t op = HC_OP_JOIN;
	uint32_t room = r;
	events_settled(&user, &room, &op, 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), r); /* decided, not held */
	CU_ASSERT_EQUAL(d.n_held[0], 0);
	CU_ASSERT_EQUAL(d.n_owed, 0);
	hc_dp_set_state(&dp, HC_RUN); /* (the suite's appliance runs on) */
	op = HC_OP_LEAVE;
	events_settled(&user, &room, &op, 1);
	hold_test_done(&t);
}

/* HA: a snapshot the gateway sent before it heard this epoch (its sweep
 * still in a ring when the epoch began, or the snapshot begun then) is no
 * restatement for the epoch's hold: it may lack what the gateway sent the
 * other box since.  The held JOIN waits; the gateway's snapshot naming
 * the epoch ends the hold and the JOIN is decided. */
static void test_ha_stale_sweep_holds(void)
{
	struct hold_test t;
	hold_test_begin(&t, 650000, "3\n", 0, 90001);
	const uint64_t user = t.user;
	const uint32_t r = t.r;
	uint64_t stale = d.st.swept_stale, restated = d.restart.st.restated;
	/* gateway 3's users, the held one in r among them */
	gw3.n = 0;
	gw3.user[gw3.n] = user;
	gw3.room[gw3.n++] = r;
	hc_members_walk(&w->members, gw3_collect, (void *)&user);
	snapshot_gw3_naming(4301, 90001 - 2); /* the epoch before */
	settle();
	CU_ASSERT_EQUAL(d.st.swept_stale, stale + 1);
	CU_ASSERT_TRUE(hc_restart_holding(&d.restart));
	CU_ASSERT_EQUAL(d.restart.st.restated, restated);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), 0); /* still held */
	snapshot_gw3_naming(4302, 90001);
	settle();
	CU_ASSERT_EQUAL(d.st.swept_stale, stale + 1);
	CU_ASSERT_FALSE(hc_restart_holding(&d.restart));
	CU_ASSERT_EQUAL(d.restart.st.restated, restated + 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), r); /* decided: admitted */
	CU_ASSERT_EQUAL(d.book.room[r].users, 1);
	hold_test_done(&t);
}

/* An empty snapshot of gateway gw, incarnation inc, at sequence seq,
 * naming appliance incarnation appl: its whole membership, none (a reset
 * point). */
static void empty_snapshot_of(uint16_t gw, uint32_t inc, uint32_t seq, uint32_t appl)
{
	uint8_t p[HC_MAX_PAYLOAD];
	hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_SNAPSHOT, gw, 0, inc, appl, seq);
	struct hc_snapshot_prefix pf = {.snapshot_id = htonl(1), .chunk_index = 0,
		.chunk_count = htonl(1), .total_users = 0};
	memcpy(p + sizeof(struct hc_hdr), &pf, sizeof(pf));
	feed_payload(p, sizeof(struct hc_hdr) + sizeof(pf));
}

/* The A->G heartbeats a heartbeat tick sends now: gateway gw's flags, or
 * -1 if it was sent none (every frame queued is taken). */
static int64_t heartbeat_flags_to(uint16_t gw)
{
	hc_decide_poll(&d, d.next_hb);
	int64_t flags = -1;
	struct rte_mbuf *m;
	while (rte_ring_dequeue(w->from_ctl_tx, (void **)&m) == 0) {
		const uint8_t *pl = rte_pktmbuf_mtod_offset(m, const uint8_t *,
			sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
			sizeof(struct rte_udp_hdr));
		struct hc_hdr h;
		struct hc_heartbeat hb;
		memcpy(&h, pl, sizeof(h));
		memcpy(&hb, pl + sizeof(h), sizeof(hb));
		if (h.type == HC_MSG_HEARTBEAT && ntohs(h.gateway_id) == gw)
			flags = ntohl(hb.hb_flags);
		rte_pktmbuf_free(m);
	}
	return flags;
}

/* A listed gateway's users dropped in a restart hold are no restatement:
 * a fresh book holds nothing of it but what the hold heard, and the
 * incarnation dropped may be a replay.  Found by a review: a replayed
 * heartbeat of gateway 7's last incarnation, then its own newer one,
 * dropped "its users" and ended the hold with nothing restated (the held
 * JOIN decided against a book without gateway 7's users).  Nor is a
 * snapshot that names no appliance incarnation or another than ours (a
 * replay of the old incarnation's sequence-1 snapshot, found by the next
 * review).  Its snapshot naming ours ends the hold. */
static void test_drop_in_hold_no_restatement(void)
{
	uint64_t user = 655000;
	uint8_t op = HC_OP_JOIN;
	settle();
	uint32_t r = untouched_room();
	CU_ASSERT_FATAL(r != 0);
	char dir[] = "/tmp/hc-hold-XXXXXX", path[64];
	state_file_in(dir, path, "7\n"); /* gateway 7 is waited for */
	/* (a bound past any clock the heartbeat ticks read) */
	CU_ASSERT_EQUAL_FATAL(hc_restart_again(&d.restart, path, "none", NULL, 0, 64, 1, 0,
					       UINT64_MAX / 2, W0), 0);
	CU_ASSERT_FATAL(hc_restart_holding(&d.restart));
	events(&user, &r, &op, 1); /* gateway 3's JOIN: held */
	settle();
	CU_ASSERT_EQUAL_FATAL(hc_members_room_of(&w->members, user), 0);
	uint64_t drops = d.st.drop_in_hold, restated = d.restart.st.restated;
	heartbeat_of(7, 100, 1, 0, 0); /* the replay: first heard */
	settle();
	heartbeat_of(7, 200, 1, 0, 0); /* the gateway itself: 100's users dropped */
	settle();
	CU_ASSERT_EQUAL(d.st.drop_in_hold, drops + 1);
	CU_ASSERT_TRUE(hc_restart_holding(&d.restart));
	CU_ASSERT_EQUAL(d.restart.st.restated, restated);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), 0); /* still held */
	/* a replay of an older incarnation's sequence-1 snapshot, naming no
	 * appliance incarnation, then one naming another (newer gateway
	 * incarnations here, so that the sequencer takes them as a fresh
	 * appliance takes a replay: a first contact) */
	uint64_t stale = d.st.swept_stale;
	empty_snapshot_of(7, 300, 1, 0);
	settle();
	empty_snapshot_of(7, 400, 1, d.tx.incarnation - 1);
	settle();
	CU_ASSERT_EQUAL(d.st.swept_stale, stale + 2);
	CU_ASSERT_TRUE(hc_restart_holding(&d.restart));
	CU_ASSERT_EQUAL(d.restart.st.restated, restated);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), 0); /* still held */
	/* its heartbeats ask for its snapshot (a gateway that never heard
	 * an appliance restates nothing else), one after another */
	int64_t f = heartbeat_flags_to(7);
	CU_ASSERT(f >= 0 && (f & HC_HB_F_RESYNC_NEEDED));
	f = heartbeat_flags_to(7);
	CU_ASSERT(f >= 0 && (f & HC_HB_F_RESYNC_NEEDED));
	empty_snapshot_of(7, 500, 1, d.tx.incarnation); /* its restatement */
	settle();
	f = heartbeat_flags_to(7);
	CU_ASSERT(f >= 0 && !(f & HC_HB_F_RESYNC_NEEDED));
	CU_ASSERT_FALSE(hc_restart_holding(&d.restart));
	CU_ASSERT_EQUAL(d.restart.st.restated, restated + 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), r); /* decided: admitted */
	held_test_done(user, r, dir, path);
}

/* gw's snapshot, incarnation inc, at sequence 1 (a reset point), naming
 * appliance incarnation appl: one member, user in room. */
static void one_member_snapshot_of(uint16_t gw, uint32_t inc, uint32_t appl, uint64_t user,
				   uint32_t room)
{
	uint8_t p[HC_MAX_PAYLOAD];
	hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_SNAPSHOT, gw, 1, inc, appl, 1);
	struct hc_snapshot_prefix pf = {.snapshot_id = htonl(1), .chunk_index = 0,
		.chunk_count = htonl(1), .total_users = htonl(1)};
	struct hc_member mb = {.user_id = htobe64(user), .room_id = htonl(room)};
	memcpy(p + sizeof(struct hc_hdr), &pf, sizeof(pf));
	memcpy(p + sizeof(struct hc_hdr) + sizeof(pf), &mb, sizeof(mb));
	feed_payload(p, sizeof(struct hc_hdr) + sizeof(pf) + sizeof(mb));
}

/* HA: a master demoted and promoted again within the gateway timeout is
 * rebuilt by the restatements alone.  Found by a review: it kept its last
 * epoch's book, so a room full there (one of its users had left it at the
 * other box) refused another gateway's restatement into it, which the
 * other box had admitted; the user was then moved for nothing.  The backup
 * is cold now: the restatement is admitted.  (Last in the suite: every
 * gateway is forgotten.) */
static void test_ha_flap_restatement_admitted(void)
{
	uint64_t users[100];
	uint32_t rooms[100];
	uint8_t ops[100];
	struct hc_ha was = d.ha;
	uint32_t inc = d.tx.incarnation;
	d.ha.role = HC_HA_MASTER;
	settle();
	uint32_t r = fill_unused_room(880000, users, rooms, ops); /* gateway 3's: full */
	CU_ASSERT_EQUAL_FATAL(hc_ha_request(&d.ha, HC_HA_BACKUP), 0);
	settle();
	hc_ha_cold(w);
	settle();
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
	CU_ASSERT_EQUAL(w->members.room_users[r], 0);
	CU_ASSERT_EQUAL_FATAL(hc_ha_request(&d.ha, HC_HA_MASTER), 0);
	settle();
	CU_ASSERT_EQUAL_FATAL(d.ha.role, HC_HA_MASTER);
	uint64_t refused = d.st.restatements_refused;
	one_member_snapshot_of(6, 0x7000, d.ha.epoch, 881000, r); /* gateway 6 first */
	settle();
	CU_ASSERT_EQUAL(d.st.restatements_refused, refused);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 881000), r);
	CU_ASSERT_EQUAL(d.book.room[r].users, 1);
	ha_as_suite(&was, inc);
	settle();
}

/* An HA backup moves and seats nobody: a pick answered after its
 * demotion makes no MOVE and holds no seat, and a JOIN refused after it
 * no NEW_TOPIC reservation (found by a review: both were read from the
 * workers' rings after the demotion had dropped every directive and
 * reservation, and kept seats for users the workers were about to
 * forget); nor does a PLACE read after it reserve a seat (found by the
 * next review: one a restart hold had left in its ring, answered in the
 * demotion's own poll, a seat kept for nobody into a next promotion). */
static void test_backup_moves_and_seats_nobody(void)
{
	uint64_t users[100];
	uint32_t rooms[100];
	uint8_t ops[100];
	settle();
	uint32_t full = fill_unused_room(890000, users, rooms, ops);
	uint32_t to = untouched_room();
	CU_ASSERT_FATAL(to != 0);
	struct hc_ha was = d.ha;
	d.ha.role = HC_HA_BACKUP;
	uint64_t skipped = d.st.backup_skipped, sent = d.dirs.st.sent;
	uint32_t resv = hc_rooms_resv_live(&d.book), held = d.book.room[to].held;
	struct hc_change c = {.user_id = users[0], .from_room = full, .to_room = to,
			      .gateway_id = 3, .kind = HC_CHG_PICK};
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(w->to_ctl_changes, &c, sizeof(c)), 0);
	struct hc_change q = {.user_id = 891000, .to_room = full, .gateway_id = 3,
			      .kind = HC_CHG_REQUEST};
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(w->to_ctl_changes, &q, sizeof(q)), 0);
	/* and a PLACE (one a restart hold left in its ring) */
	struct hc_place_req pl = {.user_id = 891001, .request_id = 4242, .pool_id = 7,
				  .gateway_id = 3};
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(w->to_ctl_places, &pl, sizeof(pl)), 0);
	uint64_t places = d.st.places;
	hc_decide_poll(&d, rte_rdtsc());
	CU_ASSERT_EQUAL(d.st.backup_skipped, skipped + 3);
	CU_ASSERT_EQUAL(d.st.places, places); /* not answered (nor reserved, below) */
	CU_ASSERT_EQUAL(d.dirs.st.sent, sent);
	CU_ASSERT_EQUAL(hc_rooms_resv_live(&d.book), resv);
	CU_ASSERT_EQUAL(d.book.room[to].held, held);
	d.ha = was;
	settle();
	for (unsigned i = 0; i < 100; i++)
		ops[i] = HC_OP_LEAVE;
	events(users, rooms, ops, 50);
	events(users + 50, rooms, ops, 50);
	settle();
	CU_ASSERT_EQUAL(d.book.room[full].users, 0);
}

/* A room a balance plan opened is retired while its picks are out (the
 * worker held up past the retire grace) and its id goes to another
 * pool's room: the late picks move nobody there (a MOVE never crosses
 * pools: the seat would count against the other pool's max and the user
 * leave its lobby), counted.  Found by a review: 20 MOVEs from a pool-7
 * room into a pool-0 room, seats held there. */
static void test_late_picks_room_reused(void)
{
	static struct hc_policy np;
	static struct hc_rooms_repool x;
	static struct hc_move mv[64];
	char err[256];
	settle();
	uint64_t now = balance_settled(0);
	uint32_t r = untouched_room();
	CU_ASSERT_FATAL(r != 0);
	uint64_t users[40];
	uint32_t rooms[40];
	uint8_t ops[40];
	joins_of(users, rooms, ops, 40, 910000, r);
	const uint32_t lease_seats = pol.lease_seats;
	pol.lease_seats = 0; /* (leased rooms sit plans out: not this test's) */
	ev_pool = 7;
	events(users, rooms, ops, 40);
	settle();
	ev_pool = 0;
	const unsigned p7 = pol.index_of[7];
	CU_ASSERT_EQUAL_FATAL(d.book.room[r].users, 40);
	CU_ASSERT_EQUAL_FATAL(d.book.room[r].pool, p7);
	/* a reload lowers pool 7's max to 20: the plan opens a room for the
	 * excess and asks the worker for picks */
	np = pol;
	np.pool[p7].max = 20;
	np.pool[p7].target = 18;
	CU_ASSERT_EQUAL_FATAL(hc_decide_reload_prepare(&d, &np, &x, err, sizeof(err)), 0);
	hc_decide_reload_commit(&d, &np, &x, now);
	const uint64_t new_rooms = d.book.st.new_rooms;
	now = tick();
	CU_ASSERT_FATAL(d.book.st.new_rooms > new_rooms);
	CU_ASSERT_FATAL(d.picks_in_flight > 0);
	uint32_t opened = 0;
	for (uint32_t k = 1; k < cfg.max_rooms; k++)
		if (k != r && d.book.room[k].state == HC_ROOM_LIVE && d.book.room[k].pool == p7 &&
		    d.book.room[k].users == 0 && d.book.room[k].reserved == 0)
			opened = k;
	CU_ASSERT_FATAL(opened != 0);
	/* the worker held up for 12 ticks: the empty room retired, its
	 * grace over, its id taken by the default pool */
	for (int t = 0; t < 12; t++)
		now = tick();
	CU_ASSERT_EQUAL_FATAL(d.book.room[opened].state, HC_ROOM_FREE);
	uint32_t got = 0;
	for (int k = 0; k < 64 && got != opened; k++)
		got = hc_rooms_open(&d.book, 0);
	CU_ASSERT_EQUAL_FATAL(got, opened);
	CU_ASSERT_NOT_EQUAL(d.book.room[opened].pool, p7);
	/* the worker answers its picks */
	const uint64_t picked = d.st.picked, changed = d.st.move_pool_changed;
	const uint64_t directives = d.st.directives;
	for (int i = 0; i < 1000 && (i == 0 || hc_members_picking(&w->members)); i++)
		hc_chan_drain_decisions(w);
	hc_decide_poll(&d, now);
	CU_ASSERT_EQUAL(d.st.picked - picked, 20);
	CU_ASSERT_EQUAL(d.st.move_pool_changed - changed, 20);
	CU_ASSERT_EQUAL(d.st.directives, directives);
	CU_ASSERT_EQUAL(take_moves(mv, 64), 0);
	CU_ASSERT_EQUAL(d.book.room[opened].held, 0);
	CU_ASSERT_EQUAL(d.picks_in_flight, 0);
	/* as before: pool 7's max, the users out of r */
	pol.lease_seats = lease_seats;
	CU_ASSERT_EQUAL(hc_decide_reload_prepare(&d, &pol, &x, err, sizeof(err)), 0);
	hc_decide_reload_commit(&d, &pol, &x, now);
	for (unsigned i = 0; i < 40; i++)
		ops[i] = HC_OP_LEAVE;
	events(users, rooms, ops, 40);
	settle();
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
}

/* A reload that lowers pool index p's max to 10 (min 2, target 5),
 * committed at now 0 (no tick); reload_suite_policy brings the suite's
 * back. */
static void reload_max_10(unsigned p)
{
	static struct hc_policy np; /* (d.pol until the suite's comes back) */
	static struct hc_rooms_repool x;
	char err[256];
	np = pol;
	np.pool[p].min = 2;
	np.pool[p].target = 5;
	np.pool[p].max = 10;
	CU_ASSERT_EQUAL_FATAL(hc_decide_reload_prepare(&d, &np, &x, err, sizeof(err)), 0);
	hc_decide_reload_commit(&d, &np, &x, 0);
}

static void reload_suite_policy(void)
{
	static struct hc_rooms_repool x;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(hc_decide_reload_prepare(&d, &pol, &x, err, sizeof(err)), 0);
	hc_decide_reload_commit(&d, &pol, &x, 0);
}

/* A reload that lowers max asks every lease back at once, not at the
 * next tick (up to balance_interval_ms away: a worker would go on seating
 * JOINs on a lease granted under the old max all that while): once the
 * workers have read the revoke, JOINs are requests again and the room
 * stops at the new max.  JOINs a worker applies on the lease before it
 * reads the revoke are seated and counted (leased_over_max). */
/* A room no test used, 16 users from `first` on put in its list (for
 * events()), the first of them joined: the worker holds a lease of 16
 * seats there.  Returns the room. */
static uint32_t leased_room(uint64_t *users, uint32_t *rooms, uint8_t *ops, uint64_t first)
{
	static struct hc_assign a[512];
	unsigned dgrams;
	settle();
	take_assigns(a, 512, &dgrams);
	const uint32_t r = untouched_room();
	CU_ASSERT_FATAL(r != 0);
	joins_of(users, rooms, ops, 16, first, r);
	events(users, rooms, ops, 1);
	settle();
	CU_ASSERT_EQUAL_FATAL(w->members.lease[r], 16);
	CU_ASSERT_EQUAL_FATAL(d.book.room[r].leased, 16);
	return r;
}

static void test_reload_lowered_max_revokes_at_once(void)
{
	static struct hc_assign a[512];
	unsigned dgrams;
	uint64_t users[16], users2[16];
	uint32_t rooms[16], rooms2[16];
	uint8_t ops[16];
	const uint32_t r = leased_room(users, rooms, ops, 920000);
	const unsigned p = d.book.room[r].pool; /* (pool id 0's index) */
	reload_max_10(p);
	settle(); /* (no tick: now 0) */
	CU_ASSERT_EQUAL(w->members.lease[r], 0);
	CU_ASSERT_EQUAL(d.book.room[r].leased, 0);
	CU_ASSERT_EQUAL(d.book.room[r].revoking, 0);
	uint64_t refused = d.st.refused, over = d.book.st.leased_over_max;
	events(users + 1, rooms, ops, 15); /* requests now: 9 admitted */
	settle();
	CU_ASSERT_EQUAL(d.book.room[r].users, 10);
	CU_ASSERT_EQUAL(w->members.room_users[r], 10);
	CU_ASSERT_EQUAL(d.st.refused, refused + 6);
	CU_ASSERT_EQUAL(d.book.st.leased_over_max, over);

	/* the old max again; a lease in another room, then max lowered and
	 * JOINs applied on it before the worker reads the revoke: seated
	 * above the new max, each counted */
	reload_suite_policy();
	settle();
	const uint32_t r2 = untouched_room();
	CU_ASSERT_FATAL(r2 != 0 && r2 != r);
	joins_of(users2, rooms2, ops, 16, 930000, r2);
	events(users2, rooms2, ops, 1);
	settle();
	CU_ASSERT_EQUAL_FATAL(w->members.lease[r2], 16);
	CU_ASSERT_EQUAL_FATAL(d.book.room[r2].pool, p);
	reload_max_10(p);
	events(users2 + 1, rooms2, ops, 15); /* (the revoke not read yet) */
	CU_ASSERT_EQUAL(w->members.room_users[r2], 16);
	settle();
	CU_ASSERT_EQUAL(d.book.room[r2].users, 16);
	CU_ASSERT_EQUAL(d.book.room[r2].leased, 0);
	CU_ASSERT_EQUAL(d.book.st.leased_over_max, over + 6); /* the 11th .. 16th */

	/* as before */
	reload_suite_policy();
	memset(ops, HC_OP_LEAVE, sizeof(ops));
	events(users, rooms, ops, 16);
	events(users2, rooms2, ops, 16);
	settle();
	take_assigns(a, 512, &dgrams);
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
	CU_ASSERT_EQUAL(d.book.room[r2].users, 0);
	CU_ASSERT_EQUAL(w->members.room_users[r], 0);
	CU_ASSERT_EQUAL(w->members.room_users[r2], 0);
}

/* A reload's revoke of every lease, put off because the worker's backlog
 * was long (its decision ring full, more than HC_CHAN_MAX_PENDING / 2
 * answers queued behind it), is asked again once the backlog is short,
 * not at the next tick (up to balance_interval_ms away: the worker would
 * go on seating JOINs on the lease above the lowered max all that while;
 * a review).  No tick here (now 0). */
static void test_reload_revoke_after_backlog(void)
{
	static struct hc_assign a[512];
	unsigned dgrams;
	uint64_t users[16];
	uint32_t rooms[16];
	uint8_t ops[16];
	const uint32_t r = leased_room(users, rooms, ops, 940000);
	const unsigned p = d.book.room[r].pool;
	/* the worker's ring full, then the backlog past the bound */
	const struct hc_decision nothing = {.kind = HC_DEC_LEASE, .room_id = 0}; /* (ignored) */
	unsigned fillers = 0;
	while (fillers < (1u << 20) && hc_chan_give_decisions(d.dp, 0, &nothing, 1) == 1)
		fillers++;
	CU_ASSERT_FATAL(fillers > 0 && fillers < (1u << 20));
	while (d.n_backlog[0] <= HC_CHAN_MAX_PENDING / 2)
		d.backlog[0][d.n_backlog[0]++] = nothing;
	reload_max_10(p);
	CU_ASSERT_EQUAL(d.revoke_all, 1); /* put off */
	CU_ASSERT_EQUAL(d.book.room[r].revoking, 0);
	/* the worker reads its ring; the control core gives it the backlog */
	for (int i = 0; i < 100 && d.n_backlog[0] > 0; i++) {
		while (hc_chan_drain_decisions(w) > 0)
			;
		hc_decide_poll(&d, 0);
	}
	CU_ASSERT_EQUAL(d.n_backlog[0], 0);
	CU_ASSERT_EQUAL(d.revoke_all, 0); /* asked, with no tick */
	CU_ASSERT_EQUAL(d.book.room[r].revoking, 1);
	while (hc_chan_drain_decisions(w) > 0) /* the rest of the fillers, the revoke */
		;
	settle();
	CU_ASSERT_EQUAL(w->members.lease[r], 0);
	CU_ASSERT_EQUAL(d.book.room[r].leased, 0);
	/* as before */
	reload_suite_policy();
	memset(ops, HC_OP_LEAVE, sizeof(ops));
	events(users, rooms, ops, 1);
	settle();
	take_assigns(a, 512, &dgrams);
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
	CU_ASSERT_EQUAL(w->members.room_users[r], 0);
}

/* A seat kept for a user (here a directive's) in a room whose max a
 * reload lowered under seats leased to the worker: its JOIN's request
 * waits for the revoke (parked, as any request into a room full only for
 * leased seats), then is admitted on the seat once the lease is back;
 * refused at once, it would have been placed elsewhere for seats nobody
 * used (a re-review of 2e8ccb6). */
static void test_kept_seat_waits_for_revoke(void)
{
	settle();
	const uint32_t r = untouched_room();
	CU_ASSERT_FATAL(r != 0);
	const uint64_t u0 = 940000, moved = 940001;
	uint8_t op = HC_OP_JOIN;
	events(&u0, &r, &op, 1); /* admitted: the worker is leased 16 seats */
	settle();
	CU_ASSERT_EQUAL_FATAL(w->members.lease[r], 16);
	const unsigned p = d.book.room[r].pool;
	CU_ASSERT_EQUAL_FATAL(hc_rooms_hold_seat(&d.book, r), 1);
	CU_ASSERT_FATAL(hc_directives_add(&d.dirs, moved, 0, r, 3, rte_rdtsc()) != 0);
	/* 1 user, 1 held seat, 16 leased; max lowered to 10 */
	reload_max_10(p);
	CU_ASSERT_TRUE(hc_rooms_kept_seat_waits(&d.book, r));
	/* `moved`'s request, before the worker has read the revoke */
	uint64_t parked = d.st.lease_parked, refused = d.book.st.kept_seats_refused;
	struct hc_change c = {.user_id = moved, .from_room = 0, .to_room = r, .gateway_id = 3,
			      .kind = HC_CHG_REQUEST, .pool_id = 0};
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(w->to_ctl_changes, &c, sizeof(c)), 0);
	hc_decide_poll(&d, 0);
	CU_ASSERT_EQUAL(d.st.lease_parked, parked + 1);
	CU_ASSERT_EQUAL(d.park.n, 1);
	/* the worker gives its lease back; the request is decided: admitted
	 * on its seat (its answer taken here in the worker's stead: the
	 * worker never asked for `moved`) */
	hc_rx_poll_handoff(w, 0);
	hc_ops_commit(w);
	hc_decide_poll(&d, 0);
	CU_ASSERT_EQUAL(d.park.n, 0);
	CU_ASSERT_EQUAL(d.book.st.kept_seats_refused, refused);
	CU_ASSERT_EQUAL(d.book.room[r].users, 2);
	CU_ASSERT_EQUAL(d.book.room[r].held, 0);
	CU_ASSERT_EQUAL(d.book.room[r].leased, 0);
	struct hc_decision dec[8];
	unsigned n = rte_ring_dequeue_burst_elem(w->from_ctl_decisions, dec, sizeof(dec[0]), 8,
						 NULL);
	w->decisions_done += n;
	unsigned seats = 0;
	for (unsigned i = 0; i < n; i++)
		seats += dec[i].kind == HC_DEC_SEAT && dec[i].user_id == moved && dec[i].admit == 1;
	CU_ASSERT_EQUAL(seats, 1);
	/* as before */
	hc_rooms_leave(&d.book, r); /* (`moved` never reached the worker) */
	reload_suite_policy();
	uint8_t leave = HC_OP_LEAVE;
	events(&u0, &r, &leave, 1);
	settle();
	CU_ASSERT_EQUAL(d.book.room[r].users, 0);
	CU_ASSERT_EQUAL(w->members.room_users[r], 0);
}

/* An orderly stop writes the state file once more (hc_decide_stopped,
 * called when the workers drained): a gateway that placed its first users
 * after the last once-a-second look is in it, so the next start holds for
 * it.  Before, the stop wrote nothing: that gateway was missing. */
static void test_stop_writes_state_file(void)
{
	char dir[] = "/tmp/hc-stop-XXXXXX", path[64], buf[256];
	state_file_in(dir, path, "");
	hc_restart_free(&d.restart);
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&d.restart, path, "none", NULL, 0,
					      dp.cfg->max_gateways, dp.n_workers, rte_rdtsc(),
					      d.hold_tsc, W0), 0);
	CU_ASSERT_FALSE_FATAL(hc_restart_holding(&d.restart)); /* (an empty file) */
	uint32_t was[64];
	memcpy(was, w->members.gw_users, sizeof(was));
	memset(w->members.gw_users, 0, sizeof(was));
	w->members.gw_users[6] = 3; /* placed since the last look */
	hc_restart_flush(&d.restart);
	CU_ASSERT_EQUAL(read_all(path, buf, sizeof(buf)), 0);
	hc_decide_stopped(&d);
	hc_restart_flush(&d.restart);
	CU_ASSERT_EQUAL(d.restart.st.writes, 1);
	read_all(path, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n6\n"));
	CU_ASSERT_EQUAL(count_of(buf, "\n"), 2); /* the comment, 6 */
	/* a stop in a restart hold with placements owed: counted */
	CU_ASSERT_EQUAL(d.st.owed_at_stop, 0);
	d.n_owed = 2; /* (as two refused restatements in a hold leave it) */
	hc_decide_stopped(&d);
	CU_ASSERT_EQUAL(d.st.owed_at_stop, 2);
	d.n_owed = 0;
	d.st.owed_at_stop = 0;
	uint64_t writes = d.restart.st.writes;
	/* a backup writes nothing */
	struct hc_ha ha_was = d.ha;
	d.ha.role = HC_HA_BACKUP;
	w->members.gw_users[4] = 1;
	hc_decide_stopped(&d);
	hc_restart_flush(&d.restart);
	CU_ASSERT_EQUAL(d.restart.st.writes, writes);
	d.ha = ha_was;
	memcpy(w->members.gw_users, was, sizeof(was));
	restart_as_suite();
	unlink(path);
	rmdir(dir);
}

/* A pick asked before a new epoch and answered in its hold: no seat is
 * held for it and no MOVE sent (the book is not complete until the listed
 * gateways restated); the balancer plans again after the hold. */
static void test_pick_in_hold_skipped(void)
{
	settle();
	uint32_t from = 0, to = 0;
	for (uint32_t k = 1; k < 64 && to == 0; k++) /* (--max-rooms 64) */
		if (d.book.room[k].users == 0 && d.book.room[k].reserved == 0 &&
		    w->members.room_users[k] == 0) {
			if (from == 0)
				from = k;
			else
				to = k;
		}
	CU_ASSERT_FATAL(to != 0);
	uint64_t there = 640001;
	uint8_t op = HC_OP_JOIN;
	events(&there, &to, &op, 1); /* to is live */
	settle();
	CU_ASSERT_EQUAL_FATAL(d.book.room[to].users, 1);
	char dir[] = "/tmp/hc-pick-XXXXXX", path[64];
	state_file_in(dir, path, "5\n"); /* gateway 5 is waited for */
	CU_ASSERT_EQUAL_FATAL(hc_restart_again(&d.restart, path, "none", NULL, 0, 64, 1,
					       0, 1000 * rte_get_tsc_hz(), W0), 0);
	CU_ASSERT_FATAL(hc_restart_holding(&d.restart));
	uint64_t skipped = d.st.move_skipped, sent = d.dirs.st.sent;
	uint32_t reserved = d.book.room[to].reserved, held = d.book.room[to].held;
	struct hc_change c = {.user_id = 640000, .from_room = from, .to_room = to,
			      .gateway_id = 3, .kind = HC_CHG_PICK};
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(w->to_ctl_changes, &c, sizeof(c)), 0);
	hc_decide_poll(&d, rte_rdtsc());
	CU_ASSERT_EQUAL(d.st.move_skipped, skipped + 1);
	CU_ASSERT_EQUAL(d.dirs.st.sent, sent);
	CU_ASSERT_EQUAL(d.book.room[to].reserved, reserved);
	CU_ASSERT_EQUAL(d.book.room[to].held, held);
	static struct hc_move mv[8];
	CU_ASSERT_EQUAL(take_moves(mv, 8), 0);
	hc_restart_end(&d.restart, rte_rdtsc());
	held_test_done(there, to, dir, path);
}

/* A room of 100 users (the suite's max: users first .. first + 99), then
 * n (1 or 2) JOINs of users u[] into it, decided at base (past every
 * directive earlier tests left, which expire in order): each refused,
 * the room its NEW_TOPIC names in to[] (another room).  full_room_empty
 * empties the room again. */
struct full_room {
	uint32_t r;
	uint64_t users[100];
	uint32_t rooms[100];
	uint8_t ops[100];
	uint64_t base;
};

static void refused_into_full_room(struct full_room *f, uint64_t first, const uint64_t *u,
				   uint32_t *to, unsigned n)
{
	static struct hc_assign a[512];
	unsigned dgrams;
	f->r = 50; /* (--max-rooms 64) */
	settle();
	take_assigns(a, 512, &dgrams);
	fill_room(f->r, first, f->users, f->rooms, f->ops);
	take_assigns(a, 512, &dgrams);
	uint32_t into[2] = {f->r, f->r};
	uint8_t join[2] = {HC_OP_JOIN, HC_OP_JOIN};
	f->base = rte_rdtsc() + 10 * (d.dirs.timeout_tsc + d.book.ttl_tsc);
	events(u, into, join, n); /* refused: NEW_TOPIC, a seat elsewhere */
	hc_rx_poll_handoff(w, 0);
	hc_ops_commit(w);
	hc_decide_poll(&d, f->base);
	settle();
	unsigned k = take_assign_records(a, 512);
	for (unsigned j = 0; j < n; j++) {
		to[j] = 0;
		for (unsigned i = 0; i < k; i++)
			if (be64toh(a[i].user_id) == u[j] && a[i].status == HC_ASSIGN_NEW_TOPIC)
				to[j] = ntohl(a[i].room_id);
		CU_ASSERT_FATAL(to[j] != 0 && to[j] != f->r);
	}
}

static void full_room_empty(struct full_room *f)
{
	static struct hc_assign a[512];
	for (unsigned i = 0; i < 100; i++)
		f->ops[i] = HC_OP_LEAVE;
	events_settled(f->users, f->rooms, f->ops, 100);
	CU_ASSERT_EQUAL(d.book.room[f->r].users, 0);
	take_assign_records(a, 512);
}

/* A refused JOIN's NEW_TOPIC whose room is no longer live in its pool
 * when it is due again (its reservation expired, the empty room retired:
 * its id may be another pool's room by then) is given up, not named
 * again (found by a review: the JOIN it asks for would have seated the
 * user against the other pool's max). */
static void test_new_topic_room_gone(void)
{
	static struct hc_assign a[512];
	struct full_room f;
	const uint64_t u = 510500;
	uint32_t to;
	refused_into_full_room(&f, 510000, &u, &to, 1);
	const uint64_t dir_tsc = d.dirs.timeout_tsc;
	hc_rooms_cancel(&d.book, u, 3); /* its seat gone, as expired */
	/* the room retired and its id another pool's room since: as the
	 * book would show it (a room of the suite's other pool) */
	CU_ASSERT_FATAL(pol.n_pools >= 2);
	const uint8_t was_pool = d.book.room[to].pool;
	d.book.room[to].pool = (uint8_t)(was_pool == 0 ? 1 : 0);
	uint64_t gone = d.st.new_topics_room_gone, given_up = d.dirs.st.given_up;
	/* its deadline passed, and those of the directives earlier tests
	 * left ahead of it in the ring (each met in order) */
	hc_decide_poll(&d, f.base + 10 * dir_tsc);
	hc_decide_poll(&d, f.base + 10 * dir_tsc);
	CU_ASSERT_EQUAL(d.st.new_topics_room_gone, gone + 1);
	CU_ASSERT(d.dirs.st.given_up >= given_up + 1);
	unsigned named = 0, n = take_assign_records(a, 512);
	for (unsigned i = 0; i < n; i++)
		named += be64toh(a[i].user_id) == u;
	CU_ASSERT_EQUAL(named, 0);
	d.book.room[to].pool = was_pool;
	full_room_empty(&f);
}

/* A refused JOIN's NEW_TOPIC resent in a restart hold: the seat its user
 * still holds in the new room is renewed; one that expired is not made
 * again (the book lacks the users of gateways not restated yet), and the
 * user's JOIN there is a seat request, held and judged once the hold
 * ends. */
static void test_new_topic_resent_in_hold(void)
{
	static struct hc_assign a[512];
	struct full_room f;
	uint64_t sent = d.dirs.st.sent;
	const uint64_t u[2] = {500500, 500501};
	uint32_t to[2];
	uint8_t join[2] = {HC_OP_JOIN, HC_OP_JOIN};
	refused_into_full_room(&f, 500000, u, to, 2); /* both refused */
	const uint32_t r = f.r;
	const uint64_t dir_tsc = d.dirs.timeout_tsc, base = f.base;
	CU_ASSERT_EQUAL_FATAL(d.dirs.st.sent, sent + 2);
	CU_ASSERT_FATAL(hc_rooms_holds_seat(&d.book, to[0], u[0]));
	CU_ASSERT_FATAL(hc_rooms_holds_seat(&d.book, to[1], u[1]));
	hc_rooms_cancel(&d.book, u[0], 3); /* u[0]'s seat is gone, as expired */
	CU_ASSERT_FATAL(!hc_rooms_holds_seat(&d.book, to[0], u[0]));
	uint32_t reserved0 = d.book.room[to[0]].reserved;

	char dir[] = "/tmp/hc-topic-XXXXXX", path[64];
	state_file_in(dir, path, "5\n"); /* gateway 5 is waited for */
	CU_ASSERT_FATAL(dir_tsc + 1 < d.book.ttl_tsc); /* u[1]'s seat lives on */
	CU_ASSERT_EQUAL_FATAL(hc_restart_again(&d.restart, path, "none", NULL, 0, 64, 1,
					       base, 3 * dir_tsc, W0), 0);
	CU_ASSERT_FATAL(hc_restart_holding(&d.restart));
	uint64_t unseated = d.st.resent_unseated, resent = d.dirs.st.resent;
	hc_decide_poll(&d, base + dir_tsc + 1); /* both directives' deadlines passed */
	hc_decide_poll(&d, base + dir_tsc + 1); /* (what they queued, sent) */
	CU_ASSERT_FATAL(hc_restart_holding(&d.restart));
	CU_ASSERT(d.dirs.st.resent >= resent + 2);
	unsigned topics[2] = {0, 0};
	unsigned n = take_assign_records(a, 512);
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; k < 2; k++)
			if (be64toh(a[i].user_id) == u[k]) {
				CU_ASSERT_EQUAL(a[i].status, HC_ASSIGN_NEW_TOPIC);
				CU_ASSERT_EQUAL(ntohl(a[i].room_id), to[k]);
				CU_ASSERT_EQUAL(ntohl(a[i].refused_room), r);
				topics[k]++;
			}
	CU_ASSERT_EQUAL(topics[0], 1);
	CU_ASSERT_EQUAL(topics[1], 1);
	/* no seat made for u[0] in the hold; u[1]'s own renewed */
	CU_ASSERT_EQUAL(d.st.resent_unseated, unseated + 1);
	CU_ASSERT(!hc_rooms_holds_seat(&d.book, to[0], u[0]));
	CU_ASSERT_EQUAL(d.book.room[to[0]].reserved, reserved0);
	CU_ASSERT(hc_rooms_holds_seat(&d.book, to[1], u[1]));
	/* renewed: it lasts past the time it was made to expire at */
	hc_rooms_expire(&d.book, base + d.book.ttl_tsc + 1);
	CU_ASSERT(hc_rooms_holds_seat(&d.book, to[1], u[1]));

	/* they obey (the worker's leases here are from before the hold: a
	 * takeover would have had them back) and the NEW_TOPICs end once
	 * the hold is over */
	uint64_t done = d.dirs.st.done;
	events(u, to, join, 2);
	hc_rx_poll_handoff(w, 0);
	hc_ops_commit(w);
	hc_decide_poll(&d, base + dir_tsc + 2);
	hc_decide_poll(&d, base + 3 * dir_tsc + 1); /* the hold's deadline */
	CU_ASSERT_FATAL(!hc_restart_holding(&d.restart));
	settle();
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u[0]), to[0]);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u[1]), to[1]);
	CU_ASSERT_EQUAL(d.dirs.st.done, done + 2);

	/* the rooms empty again */
	uint8_t leave[2] = {HC_OP_LEAVE, HC_OP_LEAVE};
	events_settled(u, to, leave, 2);
	full_room_empty(&f);
	restart_as_suite();
	unlink(path);
	rmdir(dir);
}

/* A hold started from a state file DIR/gateways holding text (as
 * state_file_in), for 64 gateways and one worker. */
static void hold_from_file(char *dir, char path[64], const char *text, struct hc_restart *r)
{
	state_file_in(dir, path, text);
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(r, path, "none", NULL, 0, 64, 1, 0, 1000, W0), 0);
}

/* A takeover while the state file's write is held (a slow disk): the
 * hold starts at once (the writer is kept, not waited for) and counts
 * the set handed to the writer, which the file on disk lacks. */
static void test_restart_again_keeps_writer(void)
{
	char dir[] = "/tmp/hc-fw-XXXXXX", path[64], text[256];
	struct hc_restart r;
	hold_from_file(dir, path, "# old\n4\n", &r);
	CU_ASSERT_EQUAL(r.st.listed, 1);
	hc_restart_end(&r, 0);
	uint32_t was[64];
	memcpy(was, w->members.gw_users, sizeof(was));
	memset(w->members.gw_users, 0, sizeof(was));
	w->members.gw_users[3] = 1; /* 4 gone, 3 new */
	sem_init(&held_in, 0, 0);
	sem_init(&held_go, 0, 0);
	held_calls = 0;
	hc_file_writer_test_hold = hold_first_write;
	hc_restart_save(&r, &dp, W0);
	memcpy(w->members.gw_users, was, sizeof(was));
	CU_ASSERT_EQUAL_FATAL(sem_wait_30s(&held_in), 0); /* the write is held */
	CU_ASSERT_EQUAL_FATAL(hc_restart_again(&r, path, "none", NULL, 0, 64, 1, 0, 1000, W0), 0);
	CU_ASSERT_EQUAL(r.holding, 1);
	CU_ASSERT_EQUAL(r.st.listed, 2); /* 4 from the disk, 3 from the writer's hand */
	CU_ASSERT_EQUAL(read_all(path, text, sizeof(text)), 8); /* still the old file */
	sem_post(&held_go);
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 1);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 4, 0, 1), 0);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 3, 0, 1), 1);
	hc_restart_free(&r);
	hc_file_writer_test_hold = NULL;
	sem_destroy(&held_in);
	sem_destroy(&held_go);
	CU_ASSERT_EQUAL(read_all(path, text, sizeof(text)) > 0, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n3\n"));
	unlink(path);
	rmdir(dir);
}

/* A takeover allocates no hold: its arrays are the pair made at the
 * start (or the takeover before), cleared, and the ones it ends become
 * the next pair.  The second takeover gets the first hold's arrays back
 * with that hold's gateways (5, 6) still in them: cleared, only the file's
 * gateway (8) is waited for. */
static void test_restart_again_reuses_arrays(void)
{
	char dir[] = "/tmp/hc-pair-XXXXXX", path[64];
	struct hc_restart r;
	hold_from_file(dir, path, "5\n6\n", &r);
	CU_ASSERT_EQUAL(r.st.listed, 2);
	uint64_t *first = r.swept, *second = r.swept_next;
	uint8_t *first_w = r.written, *second_w = r.written_next;
	CU_ASSERT_PTR_NOT_NULL_FATAL(second);
	CU_ASSERT_PTR_NOT_NULL_FATAL(second_w);
	CU_ASSERT(first != second && first_w != second_w);

	write_text(path, "7\n");
	CU_ASSERT_EQUAL_FATAL(hc_restart_again(&r, path, "none", NULL, 0, 64, 1, 10, 1000, W0), 0);
	CU_ASSERT(r.swept == second && r.written == second_w);
	CU_ASSERT(r.swept_next == first && r.written_next == first_w);
	CU_ASSERT_EQUAL(r.st.listed, 1);
	CU_ASSERT_EQUAL(r.waiting, 1);
	CU_ASSERT_EQUAL(r.written[7], 1);
	CU_ASSERT_EQUAL(r.written[5], 0);

	write_text(path, "8\n");
	CU_ASSERT_EQUAL_FATAL(hc_restart_again(&r, path, "none", NULL, 0, 64, 1, 20, 1000, W0), 0);
	CU_ASSERT(r.swept == first && r.written == first_w); /* with 5 and 6 in them */
	CU_ASSERT(r.swept_next == second && r.written_next == second_w);
	CU_ASSERT_EQUAL(r.st.listed, 1);
	CU_ASSERT_EQUAL(r.waiting, 1);
	CU_ASSERT_EQUAL(r.written[5], 0);
	CU_ASSERT_EQUAL(r.written[6], 0);
	CU_ASSERT_EQUAL(r.written[8], 1);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 21), 0); /* not waited for */
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 6, 0, 21), 0);
	CU_ASSERT_EQUAL(r.holding, 1);
	CU_ASSERT_EQUAL(r.waiting, 1);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 8, 0, 22), 1); /* the hold ends */
	CU_ASSERT_EQUAL(r.st.restated, 1);
	hc_restart_free(&r); /* (both pairs: ASan's leak check) */
	unlink(path);
	rmdir(dir);
}

/* The state file at path names exactly the gateways in ids (its
 * comment line first). */
static int state_file_is(const char *path, const char *ids)
{
	char text[256], want[256];
	read_all(path, text, sizeof(text));
	snprintf(want, sizeof(want),
		 "# headcount: gateways holding users (restart hold, see --state-file)\n%s", ids);
	return strcmp(text, want) == 0;
}

/* A hold ended early (held requests would block a worker): the listed
 * gateways that have not restated yet still hold their users, so the
 * file written keeps them until they restate or the hold's deadline
 * passes (a crash meanwhile: the next start waits for them too).  And
 * the restated count counts on across a takeover. */
static void test_restart_early_end_keeps_listed(void)
{
	char dir[] = "/tmp/hc-early-XXXXXX", path[64];
	struct hc_restart r;
	hold_from_file(dir, path, "5\n6\n7\n", &r);
	CU_ASSERT_EQUAL(r.st.listed, 3);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 1), 0);
	hc_restart_end(&r, 10); /* early */
	CU_ASSERT_EQUAL(r.holding, 0);
	uint32_t was[64];
	memcpy(was, w->members.gw_users, sizeof(was));
	memset(w->members.gw_users, 0, sizeof(was));
	w->members.gw_users[3] = 1; /* new since */
	w->members.gw_users[5] = 2; /* restated */
	hc_restart_save(&r, &dp, W0);
	hc_restart_flush(&r);
	CU_ASSERT(state_file_is(path, "3\n5\n6\n7\n")); /* 6 and 7 not restated yet */
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 6, 0, 20), 0); /* 6 restates, empty */
	CU_ASSERT_EQUAL(r.st.restated, 1);                  /* (after the hold) */
	hc_restart_save(&r, &dp, W0 + 1000);
	hc_restart_flush(&r);
	CU_ASSERT(state_file_is(path, "3\n5\n7\n"));
	CU_ASSERT_EQUAL(hc_restart_poll(&r, 999), 0);
	CU_ASSERT_EQUAL(hc_restart_poll(&r, 1000), 0); /* the deadline: 7 waited for no more */
	hc_restart_save(&r, &dp, W0 + 2000);
	hc_restart_flush(&r);
	CU_ASSERT(state_file_is(path, "3\n5\n"));
	CU_ASSERT_EQUAL(r.st.writes, 3);
	memcpy(w->members.gw_users, was, sizeof(was));
	/* a takeover: 3 and 5 listed, the count goes on (and the writes') */
	CU_ASSERT_EQUAL_FATAL(hc_restart_again(&r, path, "none", NULL, 0, 64, 1, 2000, 1000, W0), 0);
	CU_ASSERT_EQUAL(r.holding, 1);
	CU_ASSERT_EQUAL(r.st.listed, 2);
	CU_ASSERT_EQUAL(r.st.restated, 1);
	CU_ASSERT_EQUAL(r.st.writes, 3);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 3, 0, 2001), 0);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 2001), 1);
	CU_ASSERT_EQUAL(r.st.restated, 3);
	hc_restart_free(&r);
	unlink(path);
	rmdir(dir);
}

/* A hold that did not know who held users (a line not a gateway id, a
 * file not believed) lasts its whole time; ended early, the file written
 * until its deadline says 'unknown' besides the gateways it lists, so a
 * restart meanwhile holds its whole time too, not only until the listed
 * ones restate (a review found the file written as if complete: a
 * gateway still to restate, missing from it, would have its users' seats
 * handed out after a crash).  Once the deadline passed it is gone. */
static void test_restart_unknown_kept_after_early_end(void)
{
	char dir[] = "/tmp/hc-unk-XXXXXX", path[64];
	struct hc_restart r;
	hold_from_file(dir, path, "5\nfive\n", &r);
	CU_ASSERT_EQUAL(r.unknown, 1);
	CU_ASSERT_EQUAL(r.waiting, 2); /* 5, and one more: only the timeout */
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 1), 0);
	CU_ASSERT_EQUAL(r.holding, 1);
	hc_restart_end(&r, 10); /* early (held requests, or a stop) */
	uint32_t was[64];
	memcpy(was, w->members.gw_users, sizeof(was));
	memset(w->members.gw_users, 0, sizeof(was));
	w->members.gw_users[5] = 2;
	hc_restart_save(&r, &dp, W0);
	hc_restart_flush(&r);
	CU_ASSERT(state_file_is(path, "5\nunknown\n"));
	/* a restart now: the whole time, though 5 restates */
	struct hc_restart r2;
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r2, path, "none", NULL, 0, 64, 1, 0, 1000, W0), 0);
	CU_ASSERT_EQUAL(r2.holding, 1);
	CU_ASSERT_EQUAL(r2.unknown, 1);
	CU_ASSERT_EQUAL(hc_restart_swept(&r2, 5, 0, 1), 0);
	CU_ASSERT_EQUAL(r2.holding, 1);
	CU_ASSERT_EQUAL(hc_restart_poll(&r2, 1000), 1); /* its deadline */
	hc_restart_free(&r2);
	/* a start that read the line, its hold run: the file loses it (the
	 * set unchanged, as in a steady state: a review found it kept for
	 * good, every later start holding its whole time) */
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r2, path, "none", NULL, 0, 64, 1, 0, 1000, W0), 0);
	CU_ASSERT_EQUAL(r2.written_unknown, 1);
	CU_ASSERT_EQUAL(hc_restart_swept(&r2, 5, 0, 1), 0);
	CU_ASSERT_EQUAL(hc_restart_poll(&r2, 1000), 1);
	hc_restart_save(&r2, &dp, W0);
	hc_restart_flush(&r2);
	CU_ASSERT(state_file_is(path, "5\n"));
	hc_restart_free(&r2);
	/* the first one's deadline: known again, the line goes (the file
	 * was rewritten without it just now: it writes it back as it was) */
	CU_ASSERT_EQUAL(hc_restart_poll(&r, 1000), 0);
	CU_ASSERT_EQUAL(r.unknown, 0);
	hc_restart_save(&r, &dp, W0 + 1000);
	hc_restart_flush(&r);
	CU_ASSERT(state_file_is(path, "5\n"));
	memcpy(w->members.gw_users, was, sizeof(was));
	hc_restart_free(&r);
	unlink(path);
	rmdir(dir);
}

/* A takeover that follows a hold that did not know who held users and
 * had not run its time (ended early) does not know either, whatever the
 * files say by then (the earlier hold's 'unknown' line may still sit in a
 * held write): it holds its whole time (found by a review). */
static void test_restart_unknown_carried_by_takeover(void)
{
	char dir[] = "/tmp/hc-unk2-XXXXXX", path[64];
	struct hc_restart r;
	hold_from_file(dir, path, "5\nfive\n", &r);
	CU_ASSERT_EQUAL_FATAL(r.unknown, 1);
	hc_restart_end(&r, 10); /* early */
	FILE *f = fopen(path, "w"); /* the file as a clean one now */
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("5\n", f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(hc_restart_again(&r, path, "none", NULL, 0, 64, 1, 20, 1000, W0), 0);
	CU_ASSERT_EQUAL(r.unknown, 1);
	CU_ASSERT_EQUAL(r.holding, 1);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 21), 0); /* 5 restated: still held */
	CU_ASSERT_EQUAL(r.holding, 1);
	CU_ASSERT_EQUAL(hc_restart_poll(&r, 1020), 1); /* its deadline */
	CU_ASSERT_EQUAL(r.unknown, 0);
	/* and a takeover after that deadline knows again */
	CU_ASSERT_EQUAL_FATAL(hc_restart_again(&r, path, "none", NULL, 0, 64, 1, 2000, 1000, W0), 0);
	CU_ASSERT_EQUAL(r.unknown, 0);
	CU_ASSERT_EQUAL(hc_restart_swept(&r, 5, 0, 2001), 1); /* 5 restated: over */
	hc_restart_free(&r);
	unlink(path);
	rmdir(dir);
}

/* Entries of dir, . and .. not counted. */
static unsigned dir_entries(const char *dir)
{
	unsigned n = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* What cut-short writes left beside the file goes when a writer starts:
 * regular files named PATH.hctmp.XXXXXX (six letters or digits) or
 * PATH.tmp; other names (an operator's PATH.backup), another file's
 * leftovers, a symlink or a directory of the pattern stay.  hc_file_writer_sweep counts what went; a writer's
 * thread sweeps before its first write. */
static void test_file_writer_sweep(void)
{
	char dir[] = "/tmp/hc-fws-XXXXXX", path[64], p[16][96];
	const char *gone[] = {"gateways.hctmp.Ab3dE9", "gateways.tmp", "gateways.hctmp.000000"};
	const char *stay[] = {"gateways.hctmp.Ab3dE9x", "gateways.hctmp.ab-def", "gateways.backup",
			      "other.hctmp.Ab3dE9", "gateways", "gatewaysX.hctmp.Ab3dE9"};
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gateways", dir);
	unsigned k = 0;
	for (unsigned i = 0; i < 3; i++, k++) {
		snprintf(p[k], sizeof(p[k]), "%s/%s", dir, gone[i]);
		write_text(p[k], "x\n");
	}
	for (unsigned i = 0; i < 6; i++, k++) {
		snprintf(p[k], sizeof(p[k]), "%s/%s", dir, stay[i]);
		write_text(p[k], "x\n");
	}
	char lnk[96], sub[96];
	snprintf(lnk, sizeof(lnk), "%s/gateways.hctmp.Lnk123", dir);
	snprintf(sub, sizeof(sub), "%s/gateways.hctmp.Dir123", dir);
	CU_ASSERT_EQUAL(symlink(p[3], lnk), 0);
	CU_ASSERT_EQUAL(mkdir(sub, 0700), 0);
	CU_ASSERT_EQUAL(dir_entries(dir), 11);
	CU_ASSERT_EQUAL(hc_file_writer_sweep(path), 3);
	CU_ASSERT_EQUAL(dir_entries(dir), 8);
	struct stat st;
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(lstat(p[i], &st), -1);
	for (unsigned i = 3; i < 9; i++)
		CU_ASSERT_EQUAL(lstat(p[i], &st) == 0 && S_ISREG(st.st_mode), 1);
	CU_ASSERT_EQUAL(lstat(lnk, &st) == 0 && S_ISLNK(st.st_mode), 1);
	CU_ASSERT_EQUAL(lstat(sub, &st) == 0 && S_ISDIR(st.st_mode), 1);
	/* a writer's thread sweeps when it starts, before it writes */
	write_text(p[0], "x\n");
	struct hc_file_writer *fw = hc_file_writer_new(path, "hc-test-sweep");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fw);
	CU_ASSERT_EQUAL(hc_file_writer_put(fw, "5\n", 2), 0);
	hc_file_writer_flush(fw);
	hc_file_writer_free(fw);
	CU_ASSERT_EQUAL(lstat(p[0], &st), -1);
	CU_ASSERT_EQUAL(dir_entries(dir), 8); /* "gateways" was there already */
	for (unsigned i = 3; i < 9; i++)
		unlink(p[i]);
	unlink(lnk);
	rmdir(sub);
	rmdir(dir);
}

/* Nothing planted beside the file is opened, removed or in the way: a
 * FIFO (opening it to write would wait for a reader forever), a symlink
 * (the write would land in its target), a directory with a file in it
 * (neither removable nor openable as a file), at the name an older writer
 * used (PATH.tmp) and at names a temporary file could have (no sweep
 * removes them: not regular files).  Each write leaves the file and
 * nothing else new.  A write into a directory
 * that is gone fails, is counted and said once (hc_file_writer_failed),
 * and the restart hold's next save writes again though nothing changed. */
static void test_file_writer_hostile(void)
{
	char dir[] = "/tmp/hc-fw-XXXXXX", path[64], victim[64], text[64];
	char fifo[96], link[96], sub_tmp[80], sub_file[96], link2[96];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gateways", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(fifo, sizeof(fifo), "%s.hctmp.XXXXXX", path);
	snprintf(link, sizeof(link), "%s.hctmp.AAAAAA", path);
	snprintf(link2, sizeof(link2), "%s.hctmp.zzzzzz", path);
	snprintf(sub_tmp, sizeof(sub_tmp), "%s.tmp", path);
	snprintf(sub_file, sizeof(sub_file), "%s/f", sub_tmp);
	alarm(120); /* (a regression that opens the FIFO would wait forever) */
	write_text(victim, "keep\n");
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
	CU_ASSERT_EQUAL_FATAL(symlink(victim, link), 0);
	CU_ASSERT_EQUAL_FATAL(symlink(victim, link2), 0);
	CU_ASSERT_EQUAL_FATAL(mkdir(sub_tmp, 0700), 0);
	write_text(sub_file, "x\n");
	unsigned planted = dir_entries(dir); /* victim and four */
	CU_ASSERT_EQUAL(planted, 5);
	/* (read only once written: read_all's FATAL would leave the alarm
	 * armed and the planted entries behind) */
	int rc = hc_file_replace(path, "1\n", 2);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc == 0) {
		CU_ASSERT_EQUAL(read_all(path, text, sizeof(text)), 2);
		CU_ASSERT_STRING_EQUAL(text, "1\n");
	}
	CU_ASSERT_EQUAL(dir_entries(dir), planted + 1);
	rc = hc_file_replace(path, "2\n", 2);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc == 0) {
		CU_ASSERT_EQUAL(read_all(path, text, sizeof(text)), 2);
		CU_ASSERT_STRING_EQUAL(text, "2\n");
	}
	CU_ASSERT_EQUAL(dir_entries(dir), planted + 1);
	CU_ASSERT_EQUAL(hc_file_writer_sweep(path), 0); /* none of them regular */
	CU_ASSERT_EQUAL(read_all(victim, text, sizeof(text)), 5);
	CU_ASSERT_STRING_EQUAL(text, "keep\n");
	struct stat st;
	CU_ASSERT_EQUAL(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), 1);
	CU_ASSERT_EQUAL(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), 1);
	CU_ASSERT_EQUAL(lstat(sub_tmp, &st) == 0 && S_ISDIR(st.st_mode), 1);
	alarm(0);
	unlink(sub_file);
	rmdir(sub_tmp);
	unlink(fifo);
	unlink(link);
	unlink(link2);
	/* the directory gone: the writer thread fails, once said */
	char sub[64], subpath[80];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(subpath, sizeof(subpath), "%s/gateways", sub);
	struct hc_restart r;
	CU_ASSERT_EQUAL_FATAL(hc_restart_init(&r, subpath, "none", NULL, 0, 64, 1, 0, 1000, W0), 0);
	CU_ASSERT_EQUAL_FATAL(rmdir(sub), 0); /* (made by init) */
	uint32_t was[64];
	memcpy(was, w->members.gw_users, sizeof(was));
	memset(w->members.gw_users, 0, sizeof(was));
	w->members.gw_users[3] = 1;
	hc_restart_save(&r, &dp, W0);
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 0);
	CU_ASSERT_EQUAL(r.st.write_errors, 1);
	CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0700), 0);
	hc_restart_save(&r, &dp, W0); /* the same set: written again */
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 1);
	CU_ASSERT_EQUAL(r.st.write_errors, 1);
	hc_restart_save(&r, &dp, W0); /* written: nothing more */
	hc_restart_flush(&r);
	CU_ASSERT_EQUAL(r.st.writes, 1);
	memcpy(w->members.gw_users, was, sizeof(was));
	char file[256];
	CU_ASSERT_EQUAL(read_all(subpath, file, sizeof(file)) > 0, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(file, "\n3\n"));
	hc_restart_free(&r);
	unlink(subpath);
	rmdir(sub);
	unlink(victim);
	unlink(path);
	rmdir(dir);
}

/* The worker's changes reach the control core whole and in order, also
 * across the change ring's end, where hc_chan_push_changes fills the
 * reserved slots, and hc_chan_take_changes reads them, in two parts.
 * (Plain asserts, and the ring emptied at the end: changes left in it
 * would reach the next test's control core.) */
static void test_changes_push_wraps(void)
{
	struct rte_ring *r = w->to_ctl_changes;
	struct hc_change junk[256], got[16];
	CU_ASSERT_EQUAL_FATAL(rte_ring_count(r), 0);
	/* bring the ring's head to 5 slots before its end */
	memset(junk, 0, sizeof(junk));
	uint32_t size = rte_ring_get_size(r);
	for (unsigned i = 0; i < 2 * size / 256 && (r->prod.head & r->mask) != size - 5; i++) {
		unsigned k = size - 5 - (r->prod.head & r->mask);
		k = (r->prod.head & r->mask) > size - 5 ? 256 : k < 256 ? k : 256;
		rte_ring_enqueue_bulk_elem(r, junk, sizeof(junk[0]), k, NULL);
		rte_ring_dequeue_bulk_elem(r, junk, sizeof(junk[0]), k, NULL);
	}
	CU_ASSERT_EQUAL(r->prod.head & r->mask, size - 5);
	for (unsigned round = 0; round < 2; round++) { /* across the end, then after it */
		for (unsigned i = 0; i < 12; i++)
			w->chg_buf[i] = (struct hc_change){.user_id = 1000 + 100 * round + i,
				.from_room = i, .to_room = i + 1, .gateway_id = 3,
				.kind = HC_CHG_APPLIED};
		w->members.n_changes = 12;
		hc_chan_push_changes(w);
		CU_ASSERT_EQUAL(w->members.n_changes, 0);
		CU_ASSERT_EQUAL(rte_ring_count(r), 12);
		unsigned n = hc_chan_take_changes(&dp, 0, got, 16);
		CU_ASSERT_EQUAL(n, 12);
		for (unsigned i = 0; i < n; i++)
			CU_ASSERT(got[i].user_id == 1000 + 100 * round + i && got[i].from_room == i &&
				  got[i].to_room == i + 1 && got[i].gateway_id == 3 &&
				  got[i].kind == HC_CHG_APPLIED);
	}
	CU_ASSERT_EQUAL(r->prod.head & r->mask, 19);
	while (rte_ring_dequeue_burst_elem(r, junk, sizeof(junk[0]), 256, NULL) > 0)
		;
}


/* One EVENTS datagram of gateway gw (a JOIN of user into room 7) at seq. */
static void first_contact(uint16_t gw, uint32_t inc, uint32_t seq, uint64_t user)
{
	event_of(gw, inc, seq, user, 7, HC_OP_JOIN);
}

/* Take the RESYNCs queued for gateway gw; anything else queued fails
 * (but heartbeats, and frames to gateway 3, the other tests'). */
static unsigned take_resyncs(uint16_t gw, struct hc_resync *out, unsigned max)
{
	struct rte_mbuf *m;
	unsigned n = 0;
	while (rte_ring_dequeue(w->from_ctl_tx, (void **)&m) == 0) {
		const uint8_t *pl = rte_pktmbuf_mtod_offset(m, const uint8_t *,
			sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
			sizeof(struct rte_udp_hdr));
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
			sizeof(struct rte_ether_hdr));
		struct hc_hdr h;
		memcpy(&h, pl, sizeof(h));
		if (h.type == HC_MSG_HEARTBEAT || ntohs(h.gateway_id) == 3) {
			/* the periodic A->G heartbeats, and what a late tick
			 * sends gateway 3 of the tests before */
			rte_pktmbuf_free(m);
			continue;
		}
		CU_ASSERT_EQUAL(h.type, HC_MSG_RESYNC);
		CU_ASSERT_EQUAL(ntohs(h.gateway_id), gw);
		CU_ASSERT_EQUAL(ip->dst_addr, htonl(feed_from->src_ip));
		if (h.type == HC_MSG_RESYNC && n < max)
			memcpy(&out[n++], pl + 40, sizeof(out[0]));
		rte_pktmbuf_free(m);
	}
	return n;
}

/* A HEARTBEAT of gateway gw, incarnation inc: control counter ctr, last
 * sequence sent last, flags hb_flags. */
static void heartbeat_of(uint16_t gw, uint32_t inc, uint32_t ctr, uint32_t last,
			 uint32_t hb_flags)
{
	uint8_t p[HC_MAX_PAYLOAD];
	hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_HEARTBEAT, gw, 1, inc, 0, ctr);
	struct hc_heartbeat hb = {.last_sequence = htonl(last), .interval_ms = htonl(1000),
				  .hb_flags = htonl(hb_flags)};
	memcpy(p + 40, &hb, sizeof(hb));
	feed_payload(p, 40 + sizeof(hb));
}

/*
 * A gateway's first datagram far ahead (the appliance lost its state) is
 * not taken, so its address is not known yet: the RESTART request asked
 * then waits for the address, which the gateway's first datagram that is
 * taken (here its heartbeat) gives, and goes at once, once.  A first
 * heartbeat far ahead asks while it is judged, before its address is
 * passed on: the same.  Both used to be dropped (ctl_no_address) and
 * asked again only by a later datagram, a gap timeout on.
 */
static void test_first_contact_resync_sent(void)
{
	struct hc_resync r[4];
	uint64_t no_address = d.st.no_address, resyncs = d.st.resyncs;
	first_contact(5, 1, 1000, 900001);
	settle();
	CU_ASSERT_EQUAL(take_resyncs(0, r, 4), 0); /* no address to send it to */
	CU_ASSERT_EQUAL(d.peer[5].ip_be, 0);
	heartbeat_of(5, 1, 1, 1000, 0);
	settle();
	unsigned n = take_resyncs(5, r, 4);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(n >= 1 && ntohl(r[0].reason) == HC_RESYNC_RESTART);
	heartbeat_of(6, 1, 1, 1000, 0); /* a heartbeat first */
	settle();
	n = take_resyncs(6, r, 4);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(n >= 1 && ntohl(r[0].reason) == HC_RESYNC_RESTART);
	CU_ASSERT_EQUAL(d.st.no_address, no_address);
	CU_ASSERT_EQUAL(d.st.resyncs, resyncs + 2);
	/* a gateway restarted (a new incarnation) before its address came:
	 * the old incarnation's request is not sent (the new one restates
	 * anyway), only counted */
	first_contact(4, 1, 1000, 900003);
	settle();
	CU_ASSERT_EQUAL(d.resync_wait[4].reason, HC_RESYNC_RESTART);
	heartbeat_of(4, 2, 1, 0, 0); /* incarnation 2, nothing sent yet */
	settle();
	CU_ASSERT_EQUAL(take_resyncs(4, r, 4), 0);
	CU_ASSERT_EQUAL(d.st.no_address, no_address + 1);
	/* an address that comes after the gateway timeout: not sent, counted */
	first_contact(7, 1, 1000, 900004);
	settle();
	CU_ASSERT_EQUAL(d.resync_wait[7].reason, HC_RESYNC_RESTART);
	heartbeat_of(7, 1, 1, 0, 0);
	for (int i = 0; i < 3; i++)
		hc_decide_poll(&d, d.gateway_timeout_tsc + 1);
	CU_ASSERT_EQUAL(take_resyncs(7, r, 4), 0);
	CU_ASSERT_EQUAL(d.st.no_address, no_address + 2);
	CU_ASSERT_EQUAL(d.st.resyncs, resyncs + 2);
	CU_ASSERT_EQUAL(d.resyncs_waiting, 0);
	/* an address that never comes: waits through a tick before the
	 * gateway timeout, is given up (counted) at the first tick after */
	first_contact(1, 1, 1000, 900005);
	settle();
	CU_ASSERT_EQUAL(d.resync_wait[1].reason, HC_RESYNC_RESTART);
	CU_ASSERT_EQUAL(d.resyncs_waiting, 1);
	uint64_t asked = d.resync_wait[1].tsc, next_tick = d.next_tick;
	d.next_tick = 0; /* (a tick at the next poll) */
	hc_decide_poll(&d, asked + d.gateway_timeout_tsc - 1);
	CU_ASSERT_EQUAL(d.resync_wait[1].reason, HC_RESYNC_RESTART);
	CU_ASSERT_EQUAL(d.st.no_address, no_address + 2);
	d.next_tick = 0;
	hc_decide_poll(&d, asked + d.gateway_timeout_tsc);
	CU_ASSERT_EQUAL(d.resync_wait[1].reason, 0);
	CU_ASSERT_EQUAL(d.resyncs_waiting, 0);
	CU_ASSERT_EQUAL(d.st.no_address, no_address + 3);
	CU_ASSERT_EQUAL(take_resyncs(1, r, 4), 0);
	CU_ASSERT_EQUAL(d.st.resyncs, resyncs + 2);
	d.next_tick = next_tick; /* (the later tests' ticks as before) */
	/* the gateways close: nothing of theirs is left behind */
	heartbeat_of(5, 1, 2, 1000, HC_HB_F_SHUTDOWN);
	heartbeat_of(6, 1, 2, 1000, HC_HB_F_SHUTDOWN);
	heartbeat_of(4, 2, 2, 0, HC_HB_F_SHUTDOWN);
	heartbeat_of(7, 1, 2, 0, HC_HB_F_SHUTDOWN);
	settle();
	take_resyncs(0, r, 0);
	for (uint16_t gw = 4; gw <= 7; gw++)
		CU_ASSERT_EQUAL(d.resync_wait[gw].reason, 0);
	CU_ASSERT_EQUAL(d.resync_wait[1].reason, 0);
}

/* A FULL for a JOIN refused at its user's chain cap (HC_CHGF_CHAIN)
 * keeps the seat reserved for the user: the JOIN that holds it may wait
 * in that very chain (a review found it freed, so that JOIN would be
 * refused later).  A FULL for want of a key frees it, as before. */
static void test_chain_full_keeps_reservation(void)
{
	static struct hc_assign a[8];
	const uint64_t u = 880000;
	send_places(u, 1, 9000);
	settle();
	unsigned n = take_assign_records(a, 8);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL_FATAL(a[0].status, HC_ASSIGN_PLACED);
	uint32_t r = ntohl(a[0].room_id);
	uint16_t reserved = d.book.room[r].reserved;
	CU_ASSERT_FATAL(reserved >= 1);
	uint64_t full = d.st.table_full;
	struct hc_change c = {.user_id = u, .to_room = r == 1 ? 2 : 1, .gateway_id = 3,
			      .kind = HC_CHG_FULL, .flags = HC_CHGF_CHAIN};
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(w->to_ctl_changes, &c, sizeof(c)), 0);
	hc_decide_poll(&d, 0);
	CU_ASSERT_EQUAL(d.st.table_full, full + 1);
	CU_ASSERT_EQUAL(d.book.room[r].reserved, reserved);
	c.flags = 0; /* the table full */
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(w->to_ctl_changes, &c, sizeof(c)), 0);
	hc_decide_poll(&d, 0);
	CU_ASSERT_EQUAL(d.st.table_full, full + 2);
	CU_ASSERT_EQUAL(d.book.room[r].reserved, reserved - 1);
	n = take_assign_records(a, 8);
	CU_ASSERT_EQUAL(n, 2);
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT(a[i].status == HC_ASSIGN_FULL && be64toh(a[i].user_id) == u);
}

/* Gateway 2 (incarnation inc - 1, at address old) says SHUTDOWN, is
 * forgotten, and comes back from address to as incarnation inc, its
 * first datagram far ahead (it thinks the appliance lost its state): the
 * RESTART asked then goes to `to` once the first datagram taken from
 * there passes it on, and nowhere before. */
static void forgotten_comes_back(const struct hc_frame_addr *old, const struct hc_frame_addr *to,
				 uint32_t inc, uint64_t user)
{
	struct hc_resync r[4];
	const uint16_t gw = 2;
	uint64_t resyncs = d.st.resyncs, forgotten = d.st.peers_forgotten;
	feed_from = old;
	heartbeat_of(gw, inc - 1, 2, inc == 2 ? 2 : 1000, HC_HB_F_SHUTDOWN);
	settle();
	if (hc_seq_incarnation(&w->seq, gw) != 0) { /* its sweep budget's wait */
		hc_seq_poll_read(&w->seq, rte_rdtsc() + 3600 * rte_get_tsc_hz(), 0);
		hc_seq_clock_step(&w->seq, rte_rdtsc()); /* (the clock back) */
		settle();
	}
	CU_ASSERT_EQUAL(hc_seq_incarnation(&w->seq, gw), 0);
	CU_ASSERT_EQUAL(w->gw_peer[gw].ip_be, 0); /* (not taken back from the SHUTDOWN) */
	CU_ASSERT_EQUAL(d.st.peers_forgotten, forgotten + 1);
	CU_ASSERT(d.peer[gw].flags & HC_PEER_F_FORGOTTEN);
	CU_ASSERT_EQUAL(d.peer[gw].ip_be, htonl(old->src_ip)); /* (kept, marked) */
	CU_ASSERT_EQUAL(take_resyncs(0, r, 4), 0);
	feed_from = to;
	first_contact(gw, inc, 1000, user);
	settle();
	CU_ASSERT_EQUAL(take_resyncs(0, r, 4), 0); /* not to the old address */
	CU_ASSERT_EQUAL(d.resync_wait[gw].reason, HC_RESYNC_RESTART);
	heartbeat_of(gw, inc, 1, 1000, 0);
	settle();
	unsigned n = take_resyncs(gw, r, 4); /* (each to `to`) */
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(n >= 1 && ntohl(r[0].reason) == HC_RESYNC_RESTART);
	CU_ASSERT_EQUAL(d.st.resyncs, resyncs + 1);
	CU_ASSERT_EQUAL(d.peer[gw].ip_be, htonl(to->src_ip));
	CU_ASSERT_EQUAL(d.peer[gw].flags, 0);
}

/* A gateway the appliance forgot (SHUTDOWN, or silent past the timeout)
 * and that comes back from another address: the control core used to
 * keep its old address as good, so the RESTART asked at its return went
 * there and the gateway heard nothing until a gap timeout and a datagram
 * later.  The home worker now forgets the address with the gateway (and
 * passes the next one on, even the same: the second half), and the
 * RESTART waits for it. */
static void test_forgotten_gateway_restart_new_address(void)
{
	static const struct hc_frame_addr moved = {
		.dst_mac = {2, 0, 0, 0, 0, 1}, .src_mac = {2, 0, 0, 0, 0, 10},
		.src_ip = 0xC612000A, .dst_ip = 0xC6120001, .src_port = 41300, .dst_port = 7100};
	heartbeat_of(2, 1, 1, 2, 0); /* (gateway 2 as an earlier test left it) */
	settle();
	CU_ASSERT_EQUAL(d.peer[2].ip_be, htonl(gw_addr.src_ip));
	struct rte_mbuf *m; /* (what the earlier tests left for gateway 2) */
	while (rte_ring_dequeue(w->from_ctl_tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	forgotten_comes_back(&gw_addr, &moved, 2, 900200);
	forgotten_comes_back(&moved, &moved, 3, 900201); /* the same address */
	heartbeat_of(2, 3, 2, 1000, HC_HB_F_SHUTDOWN);
	settle();
	while (rte_ring_dequeue(w->from_ctl_tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	feed_from = &gw_addr;
}

/* One refused JOIN every few seconds (its NEW_TOPIC directive in flight,
 * resent until given up) holds no pool's plans: two rooms of 10 (below
 * min 15) in pool 7 are merged while gateway 3 keeps trying to join a
 * full room of pool 0 (a review found every pool's balancer waiting on
 * them for as long as the refusals went on). */
static void drain_tx(void)
{
	struct rte_mbuf *m;
	while (rte_ring_dequeue(w->from_ctl_tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

static void poll_all(uint64_t now)
{
	for (int i = 0; i < 5; i++) {
		hc_decide_poll(&d, now);
		hc_rx_poll_handoff(w, now);
		hc_ops_commit(w);
	}
}

static void test_refusals_hold_no_plans(void)
{
	uint32_t lease_seats = pol.lease_seats;
	pol.lease_seats = 0;
	w->members.now_s += 1000;
	w->members.admission = 1;
	uint64_t now = balance_settled(0);
	CU_ASSERT_EQUAL_FATAL(hc_directives_in_flight(&d.dirs), 0);
	drain_tx();
	drain_tx();
	/* a full room of pool 0 */
	uint32_t rf = 0;
	for (uint32_t x = cfg.max_rooms - 1; x > 0 && rf == 0; x--)
		if (d.book.room[x].state != HC_ROOM_LIVE && w->members.room_users[x] == 0)
			rf = x;
	CU_ASSERT_FATAL(rf != 0);
	uint64_t users[100];
	uint32_t rooms[100];
	uint8_t ops[100];
	ev_pool = 0;
	joins_of(users, rooms, ops, 100, 930000, rf);
	events(users, rooms, ops, 50);
	events(users + 50, rooms, ops, 50);
	poll_all(now);
	CU_ASSERT_EQUAL_FATAL(d.book.room[rf].users, 100);
	/* two rooms of 10 in pool 7 */
	uint32_t ra = 0, rb = 0;
	for (uint32_t x = 1; x < cfg.max_rooms && rb == 0; x++)
		if (d.book.room[x].state != HC_ROOM_LIVE && w->members.room_users[x] == 0 &&
		    x != rf) {
			if (ra == 0)
				ra = x;
			else
				rb = x;
		}
	CU_ASSERT_FATAL(rb != 0);
	ev_pool = 7;
	uint64_t u20[20];
	uint32_t r20[20];
	uint8_t o20[20];
	for (unsigned i = 0; i < 20; i++) {
		u20[i] = 940000 + i;
		r20[i] = i < 10 ? ra : rb;
		o20[i] = HC_OP_JOIN;
	}
	events(u20, r20, o20, 20);
	poll_all(now);
	ev_pool = 0;
	CU_ASSERT_EQUAL_FATAL(d.book.room[ra].users, 10);
	CU_ASSERT_EQUAL_FATAL(d.book.room[rb].users, 10);
	uint64_t planned = d.st.planned;
	/* a JOIN of a new user into the full room: refused, a NEW_TOPIC
	 * elsewhere, in flight until the user joins there or it is given up
	 * (directive_retries resends, seconds) */
	uint64_t joiner = 950000;
	uint8_t join = HC_OP_JOIN;
	events(&joiner, &rf, &join, 1);
	poll_all(now);
	CU_ASSERT_EQUAL(d.dirs.topics_open, 1);
	CU_ASSERT_EQUAL(hc_directives_moves_in_flight(&d.dirs), 0);
	now = tick();
	poll_all(now);
	drain_tx();
	/* the next tick plans pool 7 all the same (before: it waited) */
	CU_ASSERT_EQUAL(d.st.planned, planned + 10);
	CU_ASSERT_EQUAL(d.dirs.topics_open, 1);
	CU_ASSERT_EQUAL(hc_directives_moves_in_flight(&d.dirs), 10);
	/* and the MOVEs' tick waits for them, not for the NEW_TOPIC */
	uint64_t waited = d.st.ticks_waited;
	now = tick();
	poll_all(now);
	drain_tx();
	CU_ASSERT_EQUAL(d.st.ticks_waited, waited + 1);
	pol.lease_seats = lease_seats;
	now = balance_settled(now);
	(void)now;
}

/* A PLACE resent after its JOIN took the seat, its gateway at its quota
 * of reserved seats: the same room, no new seat (placements_late), not
 * NO_ROOM (a review found it answered NO_ROOM and counted over quota:
 * the gateway told there was no room for a user seated already). */
static void test_late_resend_at_quota(void)
{
	static struct hc_assign a[512];
	unsigned dgrams;
	drain_tx();
	settle();
	drain_tx();
	uint32_t quota0 = cfg.max_places_per_gw;
	uint32_t held = hc_rooms_reserved_by(&d.book, 3);
	cfg.max_places_per_gw = held + 1;
	ev_pool = 0;
	send_places(960000, 1, 777777);           /* U, request 777777 */
	settle();
	CU_ASSERT_EQUAL_FATAL(take_assigns(a, 512, &dgrams), 1);
	uint32_t room = ntohl(a[0].room_id);
	CU_ASSERT_FATAL(room != 0);
	uint64_t u = 960000;
	uint8_t join = HC_OP_JOIN;
	events(&u, &room, &join, 1);              /* U's JOIN takes the seat */
	settle();
	drain_tx();
	send_places(960001, 1, 777778);           /* V: the quota held again */
	settle();
	drain_tx();
	uint64_t late = d.book.st.placements_late, over = d.st.places_over_quota;
	send_places(960000, 1, 777777);           /* U's PLACE again (answer lost) */
	settle();
	CU_ASSERT_EQUAL_FATAL(take_assigns(a, 512, &dgrams), 1);
	CU_ASSERT_EQUAL(a[0].status, HC_ASSIGN_PLACED);
	CU_ASSERT_EQUAL(ntohl(a[0].room_id), room);
	CU_ASSERT_EQUAL(d.book.st.placements_late, late + 1);
	CU_ASSERT_EQUAL(d.st.places_over_quota, over);
	CU_ASSERT_EQUAL(hc_rooms_reserved_by(&d.book, 3), held + 1); /* (V's alone) */
	/* another new user of it is still refused */
	send_places(960002, 1, 777779);
	settle();
	CU_ASSERT_EQUAL_FATAL(take_assigns(a, 512, &dgrams), 1);
	CU_ASSERT_EQUAL(a[0].status, HC_ASSIGN_NO_ROOM);
	CU_ASSERT_EQUAL(d.st.places_over_quota, over + 1);
	cfg.max_places_per_gw = quota0;
	uint8_t leave = HC_OP_LEAVE;
	events(&u, &room, &leave, 1);
	settle();
	drain_tx();
}

/* A gateway at its quota of reserved seats restates a snapshot naming
 * users it never had, all in a full room: outside a restart hold every
 * one refused is charged to the gateway's quota like a JOIN (a review
 * found all 300 placed, reservations and NEW_TOPICs far past
 * --max-places-per-gateway). */
static void test_restatements_within_quota(void)
{
	static struct hc_assign a[4096];
	unsigned dgrams;
	settle();
	take_assigns(a, 4096, &dgrams);
	uint64_t users[100];
	uint32_t rooms[100];
	uint8_t ops[100];
	uint32_t r = fill_unused_room(900000, users, rooms, ops);
	take_assigns(a, 4096, &dgrams);

	uint32_t quota0 = cfg.max_places_per_gw;
	uint32_t held = hc_rooms_reserved_by(&d.book, 3);
	cfg.max_places_per_gw = held + 2;
	uint64_t rooms0 = d.book.st.new_rooms, dirs0 = d.dirs.st.sent;
	/* the snapshot: every user gateway 3 holds, and 300 it never had,
	 * all claimed in the full room r */
	gw3.n = 0;
	const uint64_t none = 0;
	hc_members_walk(&w->members, gw3_collect, (void *)&none);
	unsigned had = gw3.n;
	for (unsigned i = 0; i < 300 && gw3.n < 4096; i++) {
		gw3.user[gw3.n] = 910000 + i;
		gw3.room[gw3.n++] = r;
	}
	snapshot_gw3(777001);
	for (int i = 0; i < 4; i++)
		settle();
	uint32_t now_held = hc_rooms_reserved_by(&d.book, 3);
	CU_ASSERT(now_held <= cfg.max_places_per_gw);
	CU_ASSERT(d.dirs.st.sent - dirs0 <= 2);          /* (the quota's 2 seats) */
	CU_ASSERT(d.book.st.new_rooms - rooms0 <= 1);
	CU_ASSERT(gw3.n - had == 300);
	cfg.max_places_per_gw = quota0;
	take_assigns(a, 4096, &dgrams);
	memset(ops, HC_OP_LEAVE, sizeof(ops)); /* (users, rooms: the fill's) */
	events(users, rooms, ops, 50);
	events(users + 50, rooms, ops, 50);
	settle();
}

/* Parked seat requests (hc_park.h): each room's come back in the order
 * they were parked, and only that room's; entries are reused; the table
 * holds HC_CHAN_MAX_PENDING, one more is refused with nothing parked.
 * Requests in thousands of rooms: a room's take returns its own alone
 * (before, each took a pass over every request parked). */
static void test_park_by_room(void)
{
	static struct hc_parked out[HC_CHAN_MAX_PENDING];
	struct hc_park k;
	CU_ASSERT_EQUAL_FATAL(hc_park_init(&k, "test_park"), 0);
	struct hc_change c = {.kind = HC_CHG_REQUEST};
	/* rooms 1..3 interleaved: user u in room 1 + u % 3 */
	for (uint32_t u = 0; u < 30; u++) {
		c.user_id = 1000 + u;
		c.to_room = 1 + u % 3;
		CU_ASSERT_EQUAL(hc_park_add(&k, &c, u % 2), 0);
	}
	CU_ASSERT_EQUAL(k.n, 30);
	CU_ASSERT_EQUAL(hc_park_take(&k, 7, out), 0); /* none parked there */
	CU_ASSERT_EQUAL(hc_park_take(&k, 2, out), 10);
	for (uint32_t i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(out[i].c.user_id, 1000 + 1 + 3 * i);
		CU_ASSERT_EQUAL(out[i].c.to_room, 2);
		CU_ASSERT_EQUAL(out[i].worker, (1 + 3 * i) % 2);
	}
	CU_ASSERT_EQUAL(hc_park_take(&k, 2, out), 0); /* taken once */
	CU_ASSERT_EQUAL(k.n, 20);
	/* room 2 again, on the freed entries: after nothing */
	c.to_room = 2;
	c.user_id = 5000;
	CU_ASSERT_EQUAL(hc_park_add(&k, &c, 1), 0);
	CU_ASSERT_EQUAL(hc_park_take(&k, 2, out), 1);
	CU_ASSERT_EQUAL(out[0].c.user_id, 5000);
	CU_ASSERT_EQUAL(hc_park_take(&k, 1, out), 10);
	for (uint32_t i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(out[i].c.user_id, 1000 + 3 * i);
	CU_ASSERT_EQUAL(hc_park_take(&k, 3, out), 10);
	CU_ASSERT_EQUAL(out[9].c.user_id, 1000 + 29);
	CU_ASSERT_EQUAL(k.n, 0);

	/* the whole table, one request a room in 6,000 rooms and the rest in
	 * room 1; one more refused; each room gives back its own */
	uint32_t rooms = 6000, refused = 0;
	for (uint32_t i = 0; i < HC_CHAN_MAX_PENDING; i++) {
		c.user_id = 1u << 20 | i;
		c.to_room = i < rooms ? 10 + i : 1;
		refused += hc_park_add(&k, &c, 0) != 0;
	}
	CU_ASSERT_EQUAL(refused, 0);
	CU_ASSERT_EQUAL(k.n, HC_CHAN_MAX_PENDING);
	c.to_room = 99999;
	CU_ASSERT_EQUAL(hc_park_add(&k, &c, 0), -ENOSPC);
	CU_ASSERT_EQUAL(hc_park_take(&k, 99999, out), 0);
	uint32_t wrong = 0;
	for (uint32_t i = 0; i < rooms; i++)
		wrong += hc_park_take(&k, 10 + i, out) != 1 || out[0].c.user_id != (1u << 20 | i);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(hc_park_take(&k, 1, out), HC_CHAN_MAX_PENDING - rooms);
	CU_ASSERT_EQUAL(out[0].c.user_id, 1u << 20 | rooms);
	CU_ASSERT_EQUAL(k.n, 0);
	hc_park_free(&k);
}

static CU_TestInfo tests[] = {
	{"PLACE -> ASSIGN -> JOIN", test_place_assign_join},
	{"admission: refusal, NEW_TOPIC, order", test_admission},
	{"seat leases: JOINs without requests, parked requests, revokes", test_leases},
	{"parked requests come back by room, in order", test_park_by_room},
	{"a moved user's JOIN on a leased seat gives the directive's seat back",
	 test_leased_join_of_moved_user},
	{"a request on its directive's seat in a room full for leases is not parked",
	 test_request_on_directive_seat_not_parked},
	{"a NEW_TOPIC ends when a retry into the refused room is admitted",
	 test_new_topic_ends_on_admitted_retry},
	{"a move's seat in its old room is freed once the worker applied it",
	 test_move_frees_seat_once_applied},
	{"a pick asked beyond what a worker keeps is answered at once", test_pick_ask_refused},
	{"a pick the directive index refuses sends nothing and frees its seat",
	 test_pick_refused_by_index},
	{"balance: a stalled worker's picks are not planned twice", test_stalled_worker},
	{"a move's mark whose report never comes ends with the worker's decisions, not a clock",
	 test_vacating_mark_of_stray_decision},
	{"balance: directives complete without admission", test_directives_without_admission},
	{"balance: a MOVE obeyed as LEAVE + JOIN takes its seat", test_moves_obeyed_as_leave_join},
	{"a gateway with seat requests in flight is settling", test_settling},
	{"a session far ahead of the clock is clamped", test_session_clamped},
	{"user table full: refused, the gateway hears FULL", test_table_full},
	{"user table full without admission", test_table_full_no_admission},
	{"a snapshot's new member at its gateway's cap", test_snapshot_at_gateway_cap},
	{"the largest PLACE (558 records) is passed whole", test_largest_place},
	{"refused JOINs' seats elsewhere count against the gateway's quota",
	 test_refusals_within_quota},
	{"HA: a re-epoch inside a restart hold carries what it held", test_ha_reepoch_carries_hold},
	{"a stop in a restart hold ends it: its held JOIN decided", test_stop_ends_hold},
	{"an HA takeover during a stop's drain begins no hold", test_takeover_in_drain_holds_nothing},
	{"HA: a snapshot sent before the epoch is no restatement for its hold", test_ha_stale_sweep_holds},
	{"HA: the pair's epochs never tie (--ha-box)", test_ha_epoch_parity},
	{"restart hold: state files by hand, a bad line, a peer's FIFO or symlink",
	 test_restart_state_files},
	{"restart hold: a file of bad lines is logged in a few lines", test_restart_log_bounded},
	{"restart hold: --state-key, a MAC written; forged, cut or unkeyed files not believed",
	 test_restart_state_key},
	{"restart hold: a data link down keeps the state file's gateways", test_restart_links_down},
	{"state file writer: off the caller, latest wins", test_file_writer_off_caller},
	{"state file writer: a write hung at the end is left behind", test_file_writer_end_hung},
	{"state file writer: planted files, failures retried", test_file_writer_hostile},
	{"state file writer: what cut-short writes left, swept at start", test_file_writer_sweep},
	{"changes pushed to the control core, across its ring's end", test_changes_push_wraps},
	{"a new gateway's first RESTART request is sent, not lost", test_first_contact_resync_sent},
	{"a FULL at a user's chain cap keeps the seat reserved for the user",
	 test_chain_full_keeps_reservation},
	{"a forgotten gateway's RESTART goes to the address it comes back from",
	 test_forgotten_gateway_restart_new_address},
	{"HA: leases come back when an epoch ends or begins", test_ha_revokes_leases},
	{"HA: a hold's requests released by an HA event get no lease", test_ha_release_grants_no_lease},
	{"state file writer: a takeover keeps it, counts what it was handed",
	 test_restart_again_keeps_writer},
	{"a takeover's hold takes the arrays made for it, cleared: no allocation",
	 test_restart_again_reuses_arrays},
	{"restart hold ended early: the gateways not restated stay in the file",
	 test_restart_early_end_keeps_listed},
	{"a restart hold that did not know who held users, ended early, says so in its file",
	 test_restart_unknown_kept_after_early_end},
	{"a takeover after a hold that did not know who held users does not know either",
	 test_restart_unknown_carried_by_takeover},
	{"a pick answered in a hold: no seat held, no MOVE", test_pick_in_hold_skipped},
	{"late picks into a room retired and reused by another pool: no MOVE",
	 test_late_picks_room_reused},
	{"a reload lowering max asks every lease back at once",
	 test_reload_lowered_max_revokes_at_once},
	{"a reload's revoke put off by a long backlog is asked again once it is short",
	 test_reload_revoke_after_backlog},
	{"an orderly stop writes the state file once more", test_stop_writes_state_file},
	{"a kept seat's JOIN after max was lowered under leases waits for the revoke",
	 test_kept_seat_waits_for_revoke},
	{"a NEW_TOPIC resent in a hold makes no seat, renews its own",
	 test_new_topic_resent_in_hold},
	{"a NEW_TOPIC whose room is no longer its pool's is given up, not named again",
	 test_new_topic_room_gone},
	{"refused JOINs' NEW_TOPICs hold no pool's plans", test_refusals_hold_no_plans},
	{"a late PLACE resend at the gateway's quota: its room", test_late_resend_at_quota},
	{"a snapshot's refused members within the gateway's quota", test_restatements_within_quota},
	{"a drop of a listed gateway's users in a hold is no restatement", test_drop_in_hold_no_restatement},
	{"HA: a demoted master is cold: promoted again, restatements admitted", test_ha_flap_restatement_admitted},
	{"HA: a backup moves and seats nobody", test_backup_moves_and_seats_nobody},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_control = {"control", setup, teardown, NULL, NULL, tests};
