/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_worker.c - the worker's whole receive path (parse, check, sequence,
 * split, apply) on crafted frames: exact outcomes for valid traffic, and a
 * randomised property for bad traffic: a frame that is counted as dropped
 * leaves every piece of state exactly as it was; the largest datagrams in
 * one mbuf and in several, one byte too many, a frame its port cut short,
 * checksums left to offload with and without keys.
 */
#include <arpa/inet.h>
#include <string.h>

#include <stdlib.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <urcu-qsbr.h>

#include "hc_auth.h"
#include "hc_options.h"
#include "hc_dataplane.h"
#include "hc_frame.h"
#include "hc_ha_dp.h"
#include "hc_proto.h"
#include "hc_proto_hdr.h"
#include "hc_unit.h"
#include "hc_ops.h"
#include "hc_rx.h"
#include "hc_worker.h"
#include "hc_worker_state.h"

static struct hc_config cfg;
static struct hc_dataplane dp;
static struct hc_worker *w;
static uint32_t seq[8];

static const struct hc_frame_addr addr = {
	.dst_mac = {2, 0, 0, 0, 0, 1}, .src_mac = {2, 0, 0, 0, 0, 2},
	.src_ip = 0xC6120002, .dst_ip = 0xC6120001, .src_port = 40000, .dst_port = 7100};

static int setup(void)
{
	char *argv[] = {"t", "--max-users", "65536", "--max-rooms", "64",
			"--max-gateways", "8", "--no-auth", NULL};
	if (hc_config_parse(&cfg, 8, argv) != 0)
		return -1;
	unsigned lcore = rte_lcore_id();
	return hc_dataplane_init(&dp, &cfg, 1, &lcore, 0) == 0 ? 0 : -1;
}

static int teardown(void)
{
	hc_dataplane_free(&dp);
	return 0;
}

/* An EVENTS frame of gateway gw with n events. */
static size_t events_frame(uint8_t *f, uint16_t gw, uint32_t s, const uint64_t *users,
			   const uint32_t *rooms, const uint8_t *ops, unsigned n)
{
	uint8_t p[HC_MAX_PAYLOAD];
	hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_EVENTS, gw, (uint16_t)n, 1, 0, s);
	for (unsigned i = 0; i < n; i++) {
		struct hc_event ev = {.user_id = htobe64(users[i]), .room_id = htonl(rooms[i]),
				      .op = ops[i]};
		memcpy(p + sizeof(struct hc_hdr) + i * sizeof(ev), &ev, sizeof(ev));
	}
	return hc_frame_build(f, &addr, 1, p, sizeof(struct hc_hdr) + n * sizeof(struct hc_event));
}

static void feed(const uint8_t *f, size_t len)
{
	struct rte_mbuf *m = hc_test_mbuf(f, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	hc_rx_burst(w, 0, &m, 1, 0);
	hc_ops_commit(w);
}

static void test_valid_traffic(void)
{
	uint8_t f[2048];
	w = dp.workers[0];
	uint64_t users[3] = {11, 12, 11};
	uint32_t rooms[3] = {5, 5, 6};
	uint8_t ops[3] = {HC_OP_JOIN, HC_OP_JOIN, HC_OP_JOIN};
	feed(f, events_frame(f, 1, ++seq[1], users, rooms, ops, 3));
	CU_ASSERT_EQUAL(w->members.room_users[5], 1);
	CU_ASSERT_EQUAL(w->members.room_users[6], 1);
	CU_ASSERT_EQUAL(w->members.n_users, 2);
	/* the same datagram again: a duplicate, nothing changes */
	feed(f, events_frame(f, 1, seq[1], users, rooms, ops, 3));
	CU_ASSERT_EQUAL(w->seq.st.duplicates, 1);
	CU_ASSERT_EQUAL(w->members.n_users, 2);
	/* gateway 2 sends 2 before 1: applied in order 1, 2 */
	uint64_t u1[1] = {11}, u2[1] = {11};
	uint32_t r1[1] = {7}, r2[1] = {7};
	uint8_t o1[1] = {HC_OP_JOIN}, o2[1] = {HC_OP_LEAVE};
	feed(f, events_frame(f, 2, 2, u2, r2, o2, 1));
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 11), 6);
	feed(f, events_frame(f, 2, 1, u1, r1, o1, 1));
	seq[2] = 2;
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 11), 0); /* joined 7, then left */
	CU_ASSERT_EQUAL(w->members.room_users[6], 0);
	CU_ASSERT_EQUAL(w->members.room_users[7], 0);
	CU_ASSERT_EQUAL(w->members.n_users, 1);
	CU_ASSERT_EQUAL(w->st.event_datagrams, 3);
	CU_ASSERT_EQUAL(w->st.events, 5);
}

/* Gateway gw (incarnation inc) sends sequence seq: one JOIN of user
 * into room. */
static void feed_join(uint16_t gw, uint32_t inc, uint32_t seq, uint64_t user, uint32_t room)
{
	uint8_t f[2048], p[HC_MAX_PAYLOAD];
	struct hc_event ev = {.user_id = htobe64(user), .room_id = htonl(room), .op = HC_OP_JOIN};
	hc_proto_fill_hdr(p, HC_MSG_EVENTS, gw, 1, inc, 0, seq);
	memcpy(p + sizeof(struct hc_hdr), &ev, sizeof(ev));
	feed(f, hc_frame_build(f, &addr, 1, p, sizeof(struct hc_hdr) + sizeof(ev)));
}

/* ... sends sequence seq: chunk 0 of 2 of snapshot id, claiming one
 * member more than the worker may stage, its one member user in room. */
static void feed_over_cap_chunk0(uint16_t gw, uint32_t inc, uint32_t seq, uint32_t id,
				 uint64_t user, uint32_t room)
{
	uint8_t f[2048], p[HC_MAX_PAYLOAD];
	struct hc_snapshot_prefix pf = {.snapshot_id = htonl(id), .chunk_index = 0,
					.chunk_count = htonl(2),
					.total_users = htonl(w->snaps.max_per_gateway + 1)};
	struct hc_member mb = {.user_id = htobe64(user), .room_id = htonl(room)};
	hc_proto_fill_hdr(p, HC_MSG_SNAPSHOT, gw, 1, inc, 0, seq);
	memcpy(p + sizeof(struct hc_hdr), &pf, sizeof(pf));
	memcpy(p + sizeof(struct hc_hdr) + sizeof(pf), &mb, sizeof(mb));
	feed(f, hc_frame_build(f, &addr, 1, p, sizeof(struct hc_hdr) + sizeof(pf) + sizeof(mb)));
}

/* A snapshot claiming more members than may be staged restates nothing:
 * its chunk 0 is refused, and must not discard the datagrams missing
 * before it as a reset point would (they are NACKed and applied). */
static void test_over_cap_snapshot_no_reset_point(void)
{
	w = dp.workers[0];
	const uint16_t gw = 6;
	const uint32_t inc = 606;
	uint64_t u1 = 6001, u2 = 6002;
	uint32_t room = 9;
	feed_join(gw, inc, 1, u1, room); /* sequence 1 (a first contact) */
	CU_ASSERT_EQUAL_FATAL(hc_members_room_of(&w->members, u1), room);
	uint64_t subsumed = w->seq.st.subsumed, over = w->snaps.st.over_limit;
	/* a first contact too (gateway 3, never heard): an over-cap chunk 0
	 * at 100 is no reset point (the gateway may resend 1..99): nothing
	 * subsumed, nothing taken beyond the window */
	feed_over_cap_chunk0(3, 303, 100, 9, u1 + 100, room);
	CU_ASSERT_EQUAL(w->seq.st.subsumed, subsumed);
	CU_ASSERT_EQUAL(w->snaps.st.over_limit, over);
	CU_ASSERT(w->seq.gw[3].next_seq != 101);
	/* sequence 3: chunk 0 of 2 of a snapshot claiming one member more than
	 * the cap (2 is missing) */
	feed_over_cap_chunk0(gw, inc, 3, 1, u1, room);
	CU_ASSERT_EQUAL(w->seq.st.subsumed, subsumed);
	CU_ASSERT_EQUAL(w->snaps.st.over_limit, over); /* held behind the gap */
	CU_ASSERT_EQUAL(w->seq.gw[gw].next_seq, 2);
	/* sequence 2, resent after the NACK: applied, then the chunk, refused */
	feed_join(gw, inc, 2, u2, room);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u2), room);
	CU_ASSERT_EQUAL(w->snaps.st.over_limit, over + 1);
	CU_ASSERT_EQUAL(w->seq.st.subsumed, subsumed);
	CU_ASSERT_EQUAL(w->seq.gw[gw].next_seq, 4);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u1), room); /* nothing swept */

	/* beyond the window but near (a gateway whose gap is open while it
	 * sends on): no reset point, nothing discarded; the gap is NACKed
	 * and repaired, the chunk sent again */
	uint64_t subsumed2 = w->seq.st.subsumed;
	feed_join(gw, inc, 5, u2 + 2, room); /* 4 missing */
	CU_ASSERT_EQUAL(w->seq.gw[gw].held, 1);
	feed_over_cap_chunk0(gw, inc, 4 + 100, 3, u1, room);
	CU_ASSERT_EQUAL(w->seq.gw[gw].next_seq, 4);
	CU_ASSERT_EQUAL(w->seq.gw[gw].held, 1);
	CU_ASSERT_EQUAL(w->seq.st.subsumed, subsumed2);
	feed_join(gw, inc, 4, u2 + 3, room); /* resent */
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u2 + 2), room);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u2 + 3), room);
	CU_ASSERT_EQUAL(w->seq.gw[gw].next_seq, 6);

	/* far ahead of what the appliance knows (it restarted, took over, or
	 * forgot the gateway: HC_SEQ_FAR), where nothing but a reset point is
	 * taken: the over-cap chunk 0 is one there, refused, and the EVENTS
	 * after it are applied (else the gateway was never heard again) */
	const uint32_t far = 6 + HC_SEQ_FAR;
	feed_over_cap_chunk0(gw, inc, far, 2, u1, room);
	CU_ASSERT_EQUAL(w->snaps.st.over_limit, over + 2);
	CU_ASSERT_EQUAL(w->seq.gw[gw].next_seq, far + 1);
	CU_ASSERT_EQUAL(w->seq.st.subsumed, subsumed2 + HC_SEQ_FAR);
	feed_join(gw, inc, far + 1, u2 + 1, room);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, u2 + 1), room);
	CU_ASSERT_EQUAL(w->seq.gw[gw].next_seq, far + 2);
}


static uint64_t rs = 99;
static uint32_t rnd(uint32_t n)
{
	rs = rs * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)((rs >> 33) % n);
}

struct fingerprint {
	uint64_t users, applied, weighted, next_seq, held;
};

static void take(struct fingerprint *fp)
{
	const struct hc_members *m = &w->members;
	fp->users = m->n_users;
	fp->applied = m->st.joins + m->st.moves + m->st.leaves + m->st.noops + m->st.table_full;
	fp->weighted = 0;
	for (uint32_t r = 0; r < m->max_rooms; r++)
		fp->weighted += (uint64_t)m->room_users[r] * (r + 1);
	fp->next_seq = 0;
	for (uint32_t g = 0; g < w->seq.max_gateways; g++)
		fp->next_seq += (uint64_t)w->seq.gw[g].next_seq * (g + 1) + w->seq.gw[g].incarnation;
	fp->held = w->seq.st.held_now;
}

static uint64_t drops(void)
{
	uint64_t d = 0;
	for (int r = 0; r < HC_DROP_COUNT; r++)
		d += w->st.drops[r];
	return d;
}

static void test_mutations(void)
{
	uint8_t f[2048];
	uint64_t users[32];
	uint32_t rooms[32];
	uint8_t ops[32];
	unsigned dropped = 0, accepted = 0, violations = 0;

	w = dp.workers[0];
	for (int iter = 0; iter < 20000; iter++) {
		unsigned n = 1 + rnd(32);
		uint16_t gw = (uint16_t)(1 + rnd(7));
		for (unsigned i = 0; i < n; i++) {
			users[i] = 1000 + rnd(500);
			rooms[i] = 1 + rnd(63);
			ops[i] = rnd(3) ? HC_OP_JOIN : HC_OP_LEAVE;
		}
		size_t len = events_frame(f, gw, seq[gw] + 1, users, rooms, ops, n);
		unsigned flips = 1 + rnd(4);
		for (unsigned k = 0; k < flips; k++)
			f[rnd((uint32_t)len)] ^= (uint8_t)(1 + rnd(255));
		if (rnd(4) == 0)
			len = rnd((uint32_t)len + 1); /* truncated too */
		if (rnd(8) == 0)
			hc_frame_fix_csums(f, len); /* let some reach the payload check */

		struct fingerprint before, after;
		take(&before);
		uint64_t d0 = drops();
		feed(f, len);
		take(&after);
		if (drops() != d0) {
			dropped++;
			if (memcmp(&before, &after, sizeof(before)) != 0)
				violations++;
		} else {
			accepted++;
			/* our next sequence moves on only if this one was applied */
			if (w->seq.gw[gw].next_seq == seq[gw] + 2)
				seq[gw]++;
		}
	}
	CU_ASSERT_EQUAL(violations, 0);
	CU_ASSERT(dropped > 15000);
	CU_ASSERT(accepted > 0);
	/* the counters still add up */
	uint64_t sum = 0;
	for (uint32_t r = 0; r < w->members.max_rooms; r++)
		sum += w->members.room_users[r];
	CU_ASSERT_EQUAL(sum, w->members.n_users);
}

/* A sealed (or not) EVENTS frame of one JOIN of user into room. */
static size_t auth_frame(uint8_t *f, uint16_t gw, uint32_t s, uint64_t user, uint32_t room,
			 const uint8_t *key, unsigned slot)
{
	uint8_t p[64];
	/* the gateway's current incarnation (earlier tests used these ids) */
	uint32_t inc = w->seq.gw[gw].incarnation ? w->seq.gw[gw].incarnation : 1;
	s += hc_seq_applied(&w->seq, gw);
	hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_EVENTS, gw, 1, inc, 0, s);
	struct hc_event ev = {.user_id = htobe64(user), .room_id = htonl(room), .op = HC_OP_JOIN};
	memcpy(p + sizeof(struct hc_hdr), &ev, sizeof(ev));
	if (key != NULL)
		hc_auth_seal(p, sizeof(p), key, slot);
	return hc_frame_build(f, &addr, 1, p, sizeof(p));
}

/* With keys installed every datagram needs its gateway's tag, checked
 * before the sequencer: a refused one changes nothing, counted under why. */
static void test_authentication(void)
{
	static const uint8_t k3[16] = "gateway-3-key-00", k4[16] = "gateway-4-key-01",
		wrong[16] = "not-the-key-0000";
	uint8_t f[256];
	w = dp.workers[0];
	rcu_register_thread(); /* a QSBR thread: keys are replaced under RCU */
	struct hc_auth_keyring *ring = calloc(1, sizeof(*ring));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	memcpy(ring->gw[3].key[0], k3, 16);
	ring->gw[3].have[0] = 1;
	memcpy(ring->gw[4].key[1], k4, 16);
	ring->gw[4].have[1] = 1;
	CU_ASSERT_EQUAL_FATAL(hc_dp_keys_install(&dp, ring), 0);

	struct fingerprint before, after;
	take(&before);
	feed(f, auth_frame(f, 3, 1, 900500, 63, NULL, 0));
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_AUTH_MISSING], 1);
	feed(f, auth_frame(f, 3, 1, 900500, 63, wrong, 0));
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_AUTH_BAD_TAG], 1);
	feed(f, auth_frame(f, 3, 1, 900500, 63, k3, 1));  /* gateway 3 has no slot 1 */
	feed(f, auth_frame(f, 5, 1, 900500, 63, k3, 0));  /* gateway 5 has no key */
	feed(f, auth_frame(f, 4, 1, 900500, 63, k4, 0));  /* gateway 4's key is in slot 1 */
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_AUTH_NO_KEY], 3);
	/* a payload byte changed after sealing, UDP checksum made right
	 * again (no checksum: 0 means none): only the tag can catch it */
	size_t len = auth_frame(f, 3, 1, 900500, 63, k3, 0);
	f[len - 1] ^= 0x40;                       /* the event's pool id */
	f[HC_FRAME_HDR_LEN - 2] = f[HC_FRAME_HDR_LEN - 1] = 0;
	feed(f, len);
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_AUTH_BAD_TAG], 2);
	take(&after);
	CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof(before)), 0); /* nothing changed */

	/* the real ones, in both slots */
	uint32_t in_room = w->members.room_users[63];
	feed(f, auth_frame(f, 3, 1, 900500, 63, k3, 0));
	feed(f, auth_frame(f, 4, 1, 900501, 63, k4, 1));
	CU_ASSERT_EQUAL(w->members.room_users[63], in_room + 2);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 900501), 63);

	CU_ASSERT_EQUAL(hc_dp_keys_install(&dp, NULL), 0);
	CU_ASSERT_EQUAL(dp.auth, 0);
	rcu_unregister_thread();
}

/* An EVENTS payload of gateway gw, the next sequence in its current
 * incarnation, n JOINs of users base.. into rooms 1..63. */
static size_t big_events(uint8_t *p, uint16_t gw, uint64_t base, unsigned n)
{
	uint32_t inc = w->seq.gw[gw].incarnation ? w->seq.gw[gw].incarnation : 1;
	hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_EVENTS, gw, (uint16_t)n, inc, 0,
			  hc_seq_applied(&w->seq, gw) + 1);
	for (unsigned i = 0; i < n; i++) {
		struct hc_event ev = {.user_id = htobe64(base + i), .room_id = htonl(1 + i % 63),
				      .op = HC_OP_JOIN};
		memcpy(p + sizeof(struct hc_hdr) + i * sizeof(ev), &ev, sizeof(ev));
	}
	return sizeof(struct hc_hdr) + (size_t)n * sizeof(struct hc_event);
}

static void feed_mbuf(struct rte_mbuf *m)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	hc_rx_burst(w, 0, &m, 1, 0);
	hc_ops_commit(w);
}

/* The largest datagrams in one mbuf (af_packet with a large framesz) and
 * chained in 2 KiB segments (net_pcap), gathered into one; what cannot be
 * gathered or is one byte too long is dropped and changes nothing. */
static void test_large(void)
{
	static uint8_t p[HC_MAX_PAYLOAD + 64], f[HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD + 64];
	w = dp.workers[0];
	dp.gather_pool = hc_test_big_pool;
	uint64_t users0 = w->members.n_users, events0 = w->st.events;

	/* the largest EVENTS (372 events, 8,968 bytes), chained: gathered, applied */
	size_t n = hc_frame_build(f, &addr, 1, p, big_events(p, 6, 3000000, HC_MAX_EVENTS));
	CU_ASSERT_EQUAL(n, HC_FRAME_HDR_LEN + 8968);
	unsigned free0 = rte_mempool_avail_count(hc_test_pool);
	struct rte_mbuf *m = hc_test_mbuf_chain(f, n, 2048);
	CU_ASSERT_EQUAL(m->nb_segs, 5);
	feed_mbuf(m);
	CU_ASSERT_EQUAL(w->st.rx_gathered, 1);
	CU_ASSERT_EQUAL(w->members.n_users, users0 + HC_MAX_EVENTS);
	CU_ASSERT_EQUAL(w->st.events, events0 + HC_MAX_EVENTS);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 3000000 + HC_MAX_EVENTS - 1),
			1 + (HC_MAX_EVENTS - 1) % 63);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(hc_test_pool), free0); /* chain freed */
	CU_ASSERT_EQUAL(rte_mempool_avail_count(hc_test_big_pool), 255); /* and the copy */

	/* the next one in one large mbuf: nothing to gather */
	n = hc_frame_build(f, &addr, 1, p, big_events(p, 6, 3001000, HC_MAX_EVENTS));
	feed_mbuf(hc_test_big_mbuf(f, n));
	CU_ASSERT_EQUAL(w->st.rx_gathered, 1);
	CU_ASSERT_EQUAL(w->members.n_users, users0 + 2 * HC_MAX_EVENTS);

	struct fingerprint before, after;
	take(&before);
	/* one event more: gathered, then one record too many for the protocol */
	n = hc_frame_build(f, &addr, 1, p, big_events(p, 6, 3002000, HC_MAX_EVENTS + 1));
	feed_mbuf(hc_test_mbuf_chain(f, n, 2048));
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_UDP_TOO_BIG], 1);
	CU_ASSERT_EQUAL(w->st.rx_gathered, 2);
	/* longer than any allowed datagram's frame: not gathered */
	feed_mbuf(hc_test_mbuf_chain(f, HC_MAX_FRAME + 1, 2048));
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_FRAME_TOO_LONG], 1);
	/* no gather pool (a harness without ports): counted, not gathered */
	dp.gather_pool = NULL;
	n = hc_frame_build(f, &addr, 1, p, big_events(p, 6, 3002000, HC_MAX_EVENTS));
	feed_mbuf(hc_test_mbuf_chain(f, n, 2048));
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_GATHER_NOMBUF], 1);
	dp.gather_pool = hc_test_big_pool;
	/* cut short by its port (af_packet: framesz - 66 bytes) */
	dp.port_frame_max[0] = 1982;
	feed_mbuf(hc_test_mbuf(f, 1982));
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_FRAME_CUT], 1);
	uint64_t bad_len = w->st.drops[HC_DROP_IP_BAD_LENGTH];
	feed_mbuf(hc_test_mbuf(f, 1981));
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_IP_BAD_LENGTH], bad_len + 1);
	dp.port_frame_max[0] = 0;
	take(&after);
	CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof(before)), 0);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(hc_test_pool), free0);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(hc_test_big_pool), 255);
}

/* A datagram whose checksum was left to offload is taken when its tag
 * vouches for it (counted), refused with --no-auth, and refused when its
 * tag is wrong (then not counted as taken). */
static void test_csum_offloaded(void)
{
	static const uint8_t k7[16] = "gateway-7-key-00", wrong[16] = "not-the-key-0000";
	static uint8_t p[HC_MAX_PAYLOAD], f[HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD];
	w = dp.workers[0];
	dp.gather_pool = hc_test_big_pool;
	struct fingerprint before, after;

	/* no keys: refused whatever it carries */
	take(&before);
	size_t len = big_events(p, 7, 4000000, HC_MAX_EVENTS);
	size_t n = hc_frame_build(f, &addr, 1, p, len);
	hc_test_leave_csum_to_offload(f);
	feed_mbuf(hc_test_mbuf_chain(f, n, 2048));
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_UDP_CSUM_PARTIAL], 1);
	CU_ASSERT_EQUAL(w->st.udp_csum_partial, 0);
	take(&after);
	CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof(before)), 0);

	rcu_register_thread();
	struct hc_auth_keyring *ring = calloc(1, sizeof(*ring));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	memcpy(ring->gw[7].key[0], k7, 16);
	ring->gw[7].have[0] = 1;
	CU_ASSERT_EQUAL_FATAL(hc_dp_keys_install(&dp, ring), 0);
	/* a wrong tag: refused as such, not taken */
	hc_auth_seal(p, len, wrong, 0);
	n = hc_frame_build(f, &addr, 1, p, len);
	hc_test_leave_csum_to_offload(f);
	feed_mbuf(hc_test_big_mbuf(f, n));
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_AUTH_BAD_TAG], 3); /* 2 in test_authentication */
	CU_ASSERT_EQUAL(w->st.udp_csum_partial, 0);
	take(&after);
	CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof(before)), 0);
	/* sealed with its key: taken, counted */
	uint64_t users0 = w->members.n_users;
	len = big_events(p, 7, 4000000, HC_MAX_EVENTS);
	hc_auth_seal(p, len, k7, 0);
	n = hc_frame_build(f, &addr, 1, p, len);
	hc_test_leave_csum_to_offload(f);
	feed_mbuf(hc_test_mbuf_chain(f, n, 2048));
	CU_ASSERT_EQUAL(w->st.udp_csum_partial, 1);
	CU_ASSERT_EQUAL(w->members.n_users, users0 + HC_MAX_EVENTS);
	/* a small one too, in one mbuf */
	len = big_events(p, 7, 4001000, 1);
	hc_auth_seal(p, len, k7, 0);
	n = hc_frame_build(f, &addr, 1, p, len);
	hc_test_leave_csum_to_offload(f);
	feed_mbuf(hc_test_mbuf(f, n));
	CU_ASSERT_EQUAL(w->st.udp_csum_partial, 2);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 4001000), 1);
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_UDP_CSUM_PARTIAL], 1);
	CU_ASSERT_EQUAL(hc_dp_keys_install(&dp, NULL), 0);
	rcu_unregister_thread();
	dp.gather_pool = NULL;
}

/* The gather pool empty: the worker waits, doing its own work; here its
 * only gather mbuf is held in a sequencer window, for a gap that no
 * gateway repairs, until the gap is given up and the mbuf freed.  While
 * stopping it does not wait: the frame is dropped (gather_nombuf). */
static void test_gather_wait(void)
{
	static uint8_t p[HC_MAX_PAYLOAD], f[HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD];
	w = dp.workers[0];
	struct rte_mempool *one = rte_pktmbuf_pool_create("hc_test_one", 1, 0, 0,
							  9216 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(one);
	dp.gather_pool = one;
	uint64_t dead = w->seq.dead_timeout_tsc;
	uint32_t nacks = w->seq.max_nacks;
	w->seq.dead_timeout_tsc = 0; /* the other tests' gateways were heard at 0 */
	w->seq.max_nacks = 0;        /* a gap is given up after one timeout */
	uint64_t waits0 = w->st.gather_waits, lost0 = w->seq.st.lost;

	/* gateway 5 starts a new incarnation with its sequence 2: held, 1 is
	 * missing */
	uint32_t inc = w->seq.gw[5].incarnation + 1;
	size_t len = big_events(p, 5, 5000000, HC_MAX_EVENTS);
	struct hc_hdr h;
	memcpy(&h, p, sizeof(h));
	h.gateway_incarnation = htonl(inc);
	h.sequence = htonl(2);
	memcpy(p, &h, sizeof(h));
	size_t n = hc_frame_build(f, &addr, 1, p, len);
	struct rte_mbuf *m = hc_test_mbuf_chain(f, n, 2048);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	hc_rx_burst(w, 0, &m, 1, rte_rdtsc());
	CU_ASSERT_EQUAL(w->seq.gw[5].incarnation, inc);
	CU_ASSERT_EQUAL(w->seq.gw[5].next_seq, 1);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(one), 0);

	/* sequence 3 waits for the pool's one mbuf: the gap's timeout frees it
	 * (and gives up the gaps the earlier tests left open) */
	len = big_events(p, 5, 5001000, HC_MAX_EVENTS);
	memcpy(&h, p, sizeof(h));
	h.gateway_incarnation = htonl(inc);
	h.sequence = htonl(3);
	memcpy(p, &h, sizeof(h));
	n = hc_frame_build(f, &addr, 1, p, len);
	m = hc_test_mbuf_chain(f, n, 2048);
	hc_rx_burst(w, 0, &m, 1, rte_rdtsc());
	hc_ops_commit(w);
	CU_ASSERT_EQUAL(w->st.gather_waits, waits0 + 1);
	CU_ASSERT(w->seq.st.lost >= lost0 + 1);
	CU_ASSERT_EQUAL(w->seq.gw[5].next_seq, 4);
	CU_ASSERT_EQUAL(w->seq.st.held_now, 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 5000000), 1);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 5001000 + HC_MAX_EVENTS - 1),
			1 + (HC_MAX_EVENTS - 1) % 63);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(one), 1);

	/* stopping, the pool empty: dropped, not waited for */
	struct rte_mbuf *held = rte_pktmbuf_alloc(one);
	CU_ASSERT_PTR_NOT_NULL_FATAL(held);
	uint64_t nombuf = w->st.drops[HC_DROP_GATHER_NOMBUF];
	unsigned free0 = rte_mempool_avail_count(hc_test_pool);
	hc_dp_set_state(&dp, HC_STOP);
	feed_mbuf(hc_test_mbuf_chain(f, n, 2048));
	hc_dp_set_state(&dp, HC_RUN);
	CU_ASSERT_EQUAL(w->st.drops[HC_DROP_GATHER_NOMBUF], nombuf + 1);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(hc_test_pool), free0);
	rte_pktmbuf_free(held);

	w->seq.dead_timeout_tsc = dead;
	w->seq.max_nacks = nacks;
	dp.gather_pool = NULL;
	rte_mempool_free(one);
}

/* A gathered datagram (a frame in several segments, copied whole into a
 * gather mbuf) is held for a gap only while the gather pool keeps more
 * than its reserve free: beyond, it is not held (seq_beyond, and
 * seq_gather_shed) and will be asked for again, so held datagrams never
 * take the RX path's last gather mbufs (before, a few gateways' gaps
 * stalled RX until given up).  The gap filled, the held ones apply; the
 * ones not held, sent again, apply in order. */
static void test_gather_shed(void)
{
	static uint8_t p[HC_MAX_PAYLOAD];
	static size_t len[11];
	static uint8_t frames[11][HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD];
	w = dp.workers[0];
	struct rte_mempool *gp = rte_pktmbuf_pool_create("hc_test_gp8", 8, 0, 0,
							 9216 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	dp.gather_pool = gp;
	hc_seq_set_scarce_pool(&w->seq, gp, 2);
	uint64_t waits0 = w->st.gather_waits, beyond0 = w->seq.st.beyond;
	uint32_t inc = w->seq.gw[6].incarnation + 1;
	for (uint32_t s = 1; s <= 10; s++) { /* gateway 6, a new incarnation */
		size_t n = big_events(p, 6, 6000000 + 1000 * (uint64_t)s, HC_MAX_EVENTS);
		struct hc_hdr h;
		memcpy(&h, p, sizeof(h));
		h.gateway_incarnation = htonl(inc);
		h.sequence = htonl(s);
		memcpy(p, &h, sizeof(h));
		len[s] = hc_frame_build(frames[s], &addr, 1, p, n);
	}
	/* 2..10 before 1: 2..6 held (the 6th leaves 3 free), 7..10 not */
	for (uint32_t s = 2; s <= 10; s++)
		feed_mbuf(hc_test_mbuf_chain(frames[s], len[s], 2048));
	CU_ASSERT_EQUAL(w->seq.st.held_now, 5);
	CU_ASSERT_EQUAL(w->seq.st.gather_shed, 4);
	CU_ASSERT_EQUAL(w->seq.st.beyond, beyond0 + 4);
	CU_ASSERT_EQUAL(w->st.gather_waits, waits0);     /* RX never waited */
	CU_ASSERT_EQUAL(rte_mempool_avail_count(gp), 3);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 6002000), 0);
	/* 1 fills the gap: 1..6 apply; 7..10 sent again apply in order */
	feed_mbuf(hc_test_mbuf_chain(frames[1], len[1], 2048));
	CU_ASSERT_EQUAL(w->seq.gw[6].next_seq, 7);
	CU_ASSERT_EQUAL(w->seq.st.held_now, 0);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(gp), 8);
	for (uint32_t s = 7; s <= 10; s++)
		feed_mbuf(hc_test_mbuf_chain(frames[s], len[s], 2048));
	CU_ASSERT_EQUAL(w->seq.gw[6].next_seq, 11);
	CU_ASSERT_EQUAL(w->seq.st.gather_shed, 4);
	for (uint32_t s = 1; s <= 10; s++)
		CU_ASSERT_EQUAL(hc_members_room_of(&w->members, 6000000 + 1000 * (uint64_t)s), 1);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(gp), 8);
	hc_seq_set_scarce_pool(&w->seq, NULL, 0);
	dp.gather_pool = NULL;
	rte_mempool_free(gp);
}

/* The frames a loop takes leave room for their events' seat requests:
 * requests in flight plus a loop's events (full 1500-byte datagrams) plus
 * one apply chunk stay within what the pending table holds, at every
 * count of requests in flight; with none in flight a loop takes at least
 * the default burst; none at 10,240 in flight. */
static void test_rx_budget(void)
{
	uint32_t was = w->members.pend.n_pending;
	unsigned bad = 0;
	for (uint32_t p = 0; p <= HC_PENDING_MAX + 10; p++) {
		w->members.pend.n_pending = p;
		uint64_t b = hc_worker_rx_budget(w);
		if (b > 0 && p + b * HC_MAX_EVENTS_MTU1500 + HC_LOCAL_OPS > HC_PENDING_MAX)
			bad++;
		if (p > 0 && b > 0) { /* one fewer request in flight: never fewer frames */
			w->members.pend.n_pending = p - 1;
			bad += hc_worker_rx_budget(w) < b;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	w->members.pend.n_pending = 0;
	CU_ASSERT_EQUAL(w->burst, 128); /* the default (hc_options.c) */
	CU_ASSERT(hc_worker_rx_budget(w) >= w->burst);
	w->members.pend.n_pending = HC_PENDING_MAX - HC_LOCAL_OPS;
	CU_ASSERT_EQUAL(hc_worker_rx_budget(w), 0);
	w->members.pend.n_pending = HC_PENDING_MAX - HC_LOCAL_OPS - HC_MAX_EVENTS_MTU1500;
	CU_ASSERT_EQUAL(hc_worker_rx_budget(w), 1);
	w->members.pend.n_pending = was;
}

/* The timers' poll at t, every worker's input read up to t (as its loop
 * would have it: the tests call the receive path directly) */
static void ha_poll_read(uint64_t t)
{
	for (unsigned i = 0; i < dp.n_workers; i++)
		__atomic_store_n(&dp.workers[i]->read_up_to, t, __ATOMIC_RELAXED);
	hc_ha_seq_poll(w, t);
}

/* An HA backup is cold: a demotion (dp.ha_demotions) makes the worker
 * forget every gateway it knew, their users dropped, counted apart from
 * deaths; promoted again, a gateway's next datagram above its floor is
 * taken (and its snapshot asked for).  The gateways it knows count as
 * heard from when it serves again (hc_ha_seq_poll), not from before.  And
 * the timers judge silence up to the workers' read_up_to, not up to now:
 * a worker that has not read its input since may hold its heartbeats. */
static void test_ha_promotion_heard(void)
{
	w = dp.workers[0];
	const uint64_t dead = w->seq.dead_timeout_tsc, scan = rte_get_tsc_hz() / 100;
	/* (after every reading earlier tests gave the worker, the gather
	 * tests' real clock among them: its sequencer's time never goes back) */
	const uint64_t t0 = rte_rdtsc() + 100 * dead;
	CU_ASSERT_FATAL(dead > 4 * scan);
	/* gateway 7 (of the earlier tests, or new) heard at t0 */
	uint8_t p[HC_MAX_PAYLOAD], f[HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD];
	uint64_t user = 7000000;
	size_t n = hc_frame_build(f, &addr, 1, p, big_events(p, 7, user, 1));
	struct rte_mbuf *m = hc_test_mbuf(f, n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	hc_rx_burst(w, 0, &m, 1, t0);
	hc_ops_commit(w);
	const uint32_t room = 1, inc = w->seq.gw[7].incarnation;
	const uint32_t top = hc_seq_applied(&w->seq, 7);
	CU_ASSERT_EQUAL_FATAL(hc_members_room_of(&w->members, user), room);
	CU_ASSERT(inc != 0);
	dp.ha = 1;
	__atomic_store_n(&dp.ha_serving, 1, __ATOMIC_RELEASE);
	ha_poll_read(t0); /* a master */
	uint64_t deaths = w->seq.st.deaths, forgets = w->seq.st.demotion_forgets;
	__atomic_store_n(&dp.ha_serving, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&dp.ha_demotions, dp.ha_demotions + 1, __ATOMIC_RELEASE);
	ha_poll_read(t0 + dead / 2); /* demoted: cold */
	hc_ops_commit(w);
	CU_ASSERT_EQUAL(w->seq.gw[7].incarnation, 0);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), 0);
	CU_ASSERT_EQUAL(w->seq.st.deaths, deaths);
	CU_ASSERT(w->seq.st.demotion_forgets > forgets);
	forgets = w->seq.st.demotion_forgets;
	ha_poll_read(t0 + dead / 2 + 1); /* once */
	CU_ASSERT_EQUAL(w->seq.st.demotion_forgets, forgets);
	__atomic_store_n(&dp.ha_serving, 1, __ATOMIC_RELEASE);
	const uint64_t t1 = t0 + dead / 2 + scan;
	ha_poll_read(t1); /* promoted again */
	/* gateway 7's next datagram, above its floor: taken */
	hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_EVENTS, 7, 1, inc, 0, top + 1);
	struct hc_event ev = {.user_id = htobe64(user + 1), .room_id = htonl(room),
			      .op = HC_OP_JOIN};
	memcpy(p + sizeof(struct hc_hdr), &ev, sizeof(ev));
	m = hc_test_mbuf(f, hc_frame_build(f, &addr, 1, p, sizeof(struct hc_hdr) + sizeof(ev)));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	dp.ha = 0; /* (the test's frames are not sent to the port's own address) */
	hc_rx_burst(w, 0, &m, 1, t1);
	hc_ops_commit(w);
	dp.ha = 1;
	CU_ASSERT_EQUAL(w->seq.gw[7].incarnation, inc);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user + 1), room);
	CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), 0);
	ha_poll_read(t0 + dead + 2 * scan); /* past t0's timeout: heard at t1 */
	CU_ASSERT_EQUAL(w->seq.st.deaths, deaths);
	CU_ASSERT_EQUAL(w->seq.gw[7].incarnation, inc);
	/* long past on the clock, but the input read only up to t1 + dead
	 * (a worker behind on it may hold the gateway's heartbeats): alive */
	for (unsigned i = 0; i < dp.n_workers; i++)
		__atomic_store_n(&dp.workers[i]->read_up_to, t1 + dead, __ATOMIC_RELAXED);
	hc_ha_seq_poll(w, t1 + 10 * dead);
	CU_ASSERT_EQUAL(w->seq.gw[7].incarnation, inc);
	CU_ASSERT_EQUAL(w->seq.st.deaths, deaths);
	ha_poll_read(t1 + 10 * dead + scan); /* read: silent since the promotion, dead */
	CU_ASSERT_EQUAL(w->seq.gw[7].incarnation, 0);
	CU_ASSERT(w->seq.st.deaths > deaths);
	dp.ha = 0;
}

/* HA: a good datagram's appliance_incarnation above our epoch is heard
 * (a re-epoch follows at the control core), unless it is past the
 * ceiling the control core sets (the wall clock + 1 h): then it is not
 * believed, and counted; the datagram itself is taken either way. */
static void test_ha_heard_ceiling(void)
{
	w = dp.workers[0];
	const uint32_t ours = 1000000, ceiling = ours + 28800;
	dp.ha = 1;
	__atomic_store_n(&dp.ha_serving, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&dp.ha_epoch, ours, __ATOMIC_RELAXED);
	__atomic_store_n(&dp.ha_heard_ceiling, ceiling, __ATOMIC_RELAXED);
	__atomic_store_n(&w->ha_heard, 0, __ATOMIC_RELAXED);
	const uint64_t far0 = hc_dp_ha_heard_far(&dp);
	/* (not static: ours and ceiling are no constant expressions, and
	 * only an optimising compiler folded them) */
	const uint32_t named[] = {ours + 8, ceiling + 1, ours + 0x7fffffffu, ceiling, ours - 5};
	const uint32_t heard_after[] = {ours + 8, ours + 8, ours + 8, ceiling, ceiling};
	static const uint64_t far_after[] = {0, 1, 2, 2, 2};
	uint64_t user = 7100000;
	/* (above any incarnation it had, or its floor if forgotten) */
	const uint32_t inc5 = RTE_MAX(w->seq.gw[5].incarnation, w->seq.gw[5].floor_inc) + 0x1000;
	for (unsigned k = 0; k < RTE_DIM(named); k++, user++) {
		uint8_t p[HC_MAX_PAYLOAD], f[HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD];
		/* gateway 5, a new incarnation (sequences 1, 2, ...) */
		size_t len = big_events(p, 5, user, 1);
		hc_proto_fill_hdr((struct hc_hdr *)p, HC_MSG_EVENTS, 5, 1,
				  inc5, named[k], k + 1);
		size_t n = hc_frame_build(f, &addr, 1, p, len);
		memcpy(f, &dp.port_mac[0], RTE_ETHER_ADDR_LEN); /* (else ha_other_mac) */
		feed_mbuf(hc_test_mbuf(f, n));
		CU_ASSERT_EQUAL(hc_members_room_of(&w->members, user), 1); /* taken */
		CU_ASSERT_EQUAL(__atomic_load_n(&w->ha_heard, __ATOMIC_RELAXED), heard_after[k]);
		CU_ASSERT_EQUAL(hc_dp_ha_heard_far(&dp), far0 + far_after[k]);
	}
	__atomic_store_n(&w->ha_heard, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&dp.ha_heard_ceiling, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&dp.ha_epoch, 0, __ATOMIC_RELAXED);
	dp.ha = 0;
}

static CU_TestInfo tests[] = {
	{"valid traffic, duplicates, reorder", test_valid_traffic},
	{"a snapshot over the cap is no reset point", test_over_cap_snapshot_no_reset_point},
	{"a loop takes only the frames whose seat requests fit", test_rx_budget},
	{"mutated frames change nothing when dropped", test_mutations},
	{"authentication before any state", test_authentication},
	{"largest datagrams: one mbuf, gathered, one byte more", test_large},
	{"checksums left to offload", test_csum_offloaded},
	{"no gather mbuf free: wait, or drop while stopping", test_gather_wait},
	{"gathered datagrams not held for gaps past the gather pool's reserve", test_gather_shed},
	{"HA: a demoted worker is cold; promoted, its gateways heard from then", test_ha_promotion_heard},
	{"HA: an epoch named past the ceiling is not believed", test_ha_heard_ceiling},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_worker = {"worker", setup, teardown, NULL, NULL, tests};
