/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_fuzz.c - the libFuzzer harness: a stateful model of gateways driving
 * one in-process dataplane through its real receive path.
 *
 * Each input is a script (hc_fuzz.h): a config byte, then operations over
 * a model of four gateways (ids 1..4) and a universe of 64 users.  The
 * model is what the gateways hold (who is in which room through which
 * gateway) and what they sent (their sequences, a history of their last
 * 64 sequenced datagrams, their control counters), so most operations
 * send valid datagrams that get past the parser: EVENTS in order, lost,
 * resent and reordered; snapshots, whole or lost in part or damaged;
 * heartbeats, PLACEs, reboots, stale incarnations, sequence wrap-around;
 * and raw damage (payload mutations, resealed so that they pass the tag
 * check, or not; frame damage below the payload; forged tags).  Frames
 * are built with proto/hc_frame.h and go through hc_rx_burst on a worker
 * driven in-process (no lcore is launched), so parse -> check -> auth ->
 * sequencer -> snapshot -> membership all run; a fake TSC drives the
 * sequencer's timers (gap NACKs, give-ups, dead gateways).  The harness
 * also plays the control core: it takes the workers' changes (keeping a
 * book of room counts from them, as the real control core does), answers
 * seat requests when the script says (admit or refuse), asks for picks,
 * and lets the model gateways answer RESYNCs from their history.
 *
 * After every operation the dataplane is quiescent (every ring drained)
 * and hc_fuzz_check.c checks what must hold.  At the end of an input two
 * oracles compare the appliance with the model (every user, room count,
 * per-gateway count and digest).  First, unless something but the model
 * gateways may have spoken for the model's users (a damaged datagram
 * that passed, a foreign gateway, a forgery without keys, a heartbeat
 * claiming sequences never sent), the protocol alone must bring the
 * appliance to the model: heartbeats, NACKs answered from the history,
 * snapshots on request and on a digest mismatch, as libheadcount does
 * (converge_gently).  Then every gateway restarts and restates its
 * membership (twice, so that users that changed gateway settle), and the
 * appliance must hold exactly the model again (converge).  Then the
 * dataplane is freed and every mbuf must be back in the pool.  A
 * violation aborts, and libFuzzer keeps the input.
 *
 * One dataplane per input (created and freed around it): inputs do not
 * depend on each other, and a crash reproduces from its input alone.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "hc_auth.h"
#include "hc_chan.h"
#include "hc_frame.h"
#include "hc_mbuf_meta.h"
#include "hc_options.h"
#include "hc_ops.h"
#include "hc_proto.h"
#include "hc_proto_check.h"
#include "hc_proto_hdr.h"
#include "hc_rx.h"
#include "hc_worker_state.h"

#include "hc_fuzz_int.h"

#define FZ_HIST 64            /* sequenced datagrams a model gateway keeps */
#define FZ_MAX_DGRAM 1536     /* payload bytes the harness builds at most */
/* snapshot members in one 1500-MTU chunk: (1472 - 40 - 16) / 24 */
#define FZ_MEMBERS_PER ((HC_MAX_PAYLOAD_MTU1500 - sizeof(struct hc_hdr) - \
			 sizeof(struct hc_snapshot_prefix)) / sizeof(struct hc_member))
#define FZ_BURST 32           /* frames per hc_rx_burst at most */
#define FZ_REQ_MAX 16384      /* seat requests the control keeps per worker */
#define FZ_RESYNC_MAX 64      /* RESYNCs waiting for the model's answer */
#define FZ_MAX_USERS 1024     /* --max-users (the least): tables fill up */
#define FZ_IP 0xC6120001u     /* 198.18.0.1, --ip's default */
#define FZ_PORT 7100
/* seat requests / deferred ops above which the control answers them all
 * (a worker waits for answers beyond HC_PENDING_MAX - burst) */
#define FZ_AUTO_PENDING 6000
#define FZ_AUTO_DEFERRED 32768
/* ... while the known bug "pendingoverflow" is tolerated: few enough that
 * the sweeps of one burst (at most 2 per frame, 8 frames a burst while
 * requests are in flight) cannot exhaust the deferred-op nodes (README) */
#define FZ_SAFE_PENDING 2000
#define FZ_SAFE_DEFERRED 16000
#define FZ_SAFE_BURST 8

struct fz_run fz_run;

/* ------------------------------------------------------------ model -- */

struct fz_gw {
	uint16_t id;
	uint32_t inc;
	uint32_t last_seq;  /* last sequence sent, 0: none */
	uint32_t ctl;       /* control counter (HEARTBEAT, PLACE) */
	uint32_t snap_id;
	uint16_t last_hb_len, last_pl_len; /* the last HEARTBEAT and PLACE sent */
	uint8_t last_hb[64], last_pl[sizeof(struct hc_hdr) + 4 * sizeof(struct hc_place)];
	uint32_t hist_seq[FZ_HIST];
	uint16_t hist_len[FZ_HIST];
	uint8_t hist[FZ_HIST][FZ_MAX_DGRAM];
};

struct fz_user {
	uint8_t gw;    /* model gateway id holding the user, 0: none */
	uint8_t pool;
	uint32_t room;
};

struct fz_req {
	uint64_t user;
	uint32_t from, to;
	uint16_t gw;
	uint8_t restate; /* a snapshot member's request (HC_CHG_RESTATE) */
};

struct fz_resync {
	uint16_t gw;
	uint32_t reason, first, last;
};

static struct {
	uint8_t cfgbits;
	int auth;
	unsigned slot;
	uint64_t now, hz;
	unsigned rx_worker;
	uint16_t rx_port;
	uint16_t src_port_move; /* the gateways' source ports moved (NAT) */
	int pending_safe;       /* never make a worker wait for the control core */
	int tainted;            /* something but the model gateways may have
	                           spoken for the model's users (converge_gently) */
	struct rte_mbuf *burst[FZ_BURST];
	unsigned n_burst;
	struct fz_gw gw[FZ_MODEL_GWS];
	struct fz_user user[FZ_USERS];
	uint32_t f_inc[FZ_MAX_GWS + 2], f_seq[FZ_MAX_GWS + 2]; /* foreign ids */
	struct fz_req req[HC_MAX_WORKERS][FZ_REQ_MAX];
	unsigned req_head[HC_MAX_WORKERS], req_n[HC_MAX_WORKERS];
	uint32_t lease[HC_MAX_WORKERS][FZ_ROOMS]; /* seats leased, not taken */
	/* revokes sent, not yet answered: no grant meanwhile (the control
	 * core's rule, control/hc_decide.c; a grant queued behind a revoke
	 * would come back in no answer the model could check) */
	uint32_t revoking[HC_MAX_WORKERS][FZ_ROOMS];
	/* a leased JOIN of the worker into the room since its last seat
	 * request there that said its lease ran dry (HC_CHGF_LEASE_DRY): a
	 * request may say so only after its own JOINs took leased seats, and
	 * once for them */
	uint8_t leased_since_dry[HC_MAX_WORKERS][FZ_ROOMS];
	struct fz_resync rs[FZ_RESYNC_MAX];
	unsigned n_rs;
	uint32_t place_id;
	uint64_t crowd_next;
	uint16_t ip_id;
	/* the script */
	const uint8_t *in;
	size_t in_len, in_pos;
	unsigned n_ops;
	int last_op;
} fz;

/* the net_ring port 0: one TX ring per worker (ARP replies land there) */
static struct rte_ring *fz_txr[2];
static struct rte_ring *fz_rxr;
static uint16_t fz_eth_port = UINT16_MAX;

static uint64_t user_id(unsigned i)
{
	return 1000 + (uint64_t)(i % FZ_USERS);
}

static void key_of(uint16_t gw, unsigned slot, uint8_t key[HC_AUTH_KEY_LEN])
{
	for (unsigned i = 0; i < HC_AUTH_KEY_LEN; i++)
		key[i] = (uint8_t)(gw * 31u + slot * 101u + i * 7u + 1u);
}

/* Every gateway id has keys in both slots but for gateway 4, which has
 * slot 0 only, and gateway 7, which has none (auth_no_key). */
static int key_have(uint16_t gw, unsigned slot)
{
	if (gw == 0 || gw == 7)
		return 0;
	return !(gw == 4 && slot == 1);
}

static struct hc_auth_keyring *fz_keys;

/*
 * Authentication (protocol v2).  Inputs with FZ_CFG_AUTH run the
 * dataplane with fz_keys installed (hc_dp_keys_install, as --keys does)
 * and seal every datagram; the others run it without keys (--no-auth)
 * and send them unsealed.  The keyring is the harness's, for every
 * input: it is taken back before the dataplane is freed (which would
 * free it).  The only two places that know how keys reach the dataplane.
 */
static void fz_auth_attach(struct hc_dataplane *dp, int auth)
{
	if (auth && hc_dp_keys_install(dp, fz_keys) != 0)
		FZ_FAIL("hc_dp_keys_install");
}

static void fz_auth_detach(struct hc_dataplane *dp)
{
	dp->keys = NULL; /* ours; no reader is left */
	dp->auth = 0;
}

/* ----------------------------------------------------------- script -- */

static uint8_t in8(void)
{
	return fz.in_pos < fz.in_len ? fz.in[fz.in_pos++] : 0;
}

static uint16_t in16(void)
{
	uint16_t v = in8();
	return (uint16_t)(v << 8 | in8());
}

static uint32_t in32(void)
{
	uint32_t v = in16();
	return v << 16 | in16();
}

static uint32_t room_of(uint8_t b)
{
	return 1u + b % (FZ_ROOMS - 1);
}

/* ------------------------------------------------------------- dump -- */

static const char *const op_names[FZ_N_OPS];

void hc_fz_dump(void)
{
	if (fz_run.dp.n_workers == 0)
		return; /* freed already */
	fprintf(stderr, "hc-fuzz: config 0x%02x (%u workers, admission %s, auth %s), op %u (%s), now +%" PRIu64 " ms\n",
		fz.cfgbits, fz_run.n_workers, fz_run.cfg.no_admission ? "off" : "on",
		fz.auth ? "sealed" : "off", fz.n_ops, fz.last_op >= 0 ? op_names[fz.last_op] : "-",
		fz.hz ? (uint64_t)((fz.now - (1ull << 40)) * 1000 / fz.hz) : (uint64_t)0);
	for (unsigned g = 0; g < FZ_MODEL_GWS; g++) {
		unsigned n = 0;
		for (unsigned u = 0; u < FZ_USERS; u++)
			n += fz.user[u].gw == g + 1;
		fprintf(stderr, "  model gw %u: inc %u last_seq %u ctl %u users %u; appliance: inc %u applied %u users %" PRIu64 "\n",
			g + 1, fz.gw[g].inc, fz.gw[g].last_seq, fz.gw[g].ctl, n,
			hc_dp_gateway_incarnation(&fz_run.dp, (uint16_t)(g + 1)),
			hc_dp_gateway_applied(&fz_run.dp, (uint16_t)(g + 1)),
			hc_dp_gateway_users(&fz_run.dp, (uint16_t)(g + 1)));
	}
	struct hc_dp_totals t;
	hc_dp_collect(&fz_run.dp, &t);
	fprintf(stderr, "  users %" PRIu64 " datagrams %" PRIu64 " dup %" PRIu64 " held %" PRIu64
		" lost %" PRIu64 " subsumed %" PRIu64 " nacks %" PRIu64 " deaths %" PRIu64
		" snapshots %" PRIu64 " (%" PRIu64 " abandoned, %" PRIu64 " drops, %" PRIu64
		" sets, %" PRIu64 " sweeps), requests %" PRIu64 " pending %u/%u\n",
		t.users, t.w.datagrams, t.s.duplicates, t.s.held_now, t.s.lost, t.s.subsumed,
		t.s.nacks, t.s.deaths, t.snap.applied, t.snap.abandoned, t.snap.user_drops,
		t.m.snap_set, t.m.sweeps, t.m.requests,
		fz_run.pending_asked[0], fz_run.pending_asked[1]);
}

/* ----------------------------------------------------------- frames -- */

static void frame_addr(struct hc_frame_addr *a, uint16_t src_gw)
{
	*a = (struct hc_frame_addr){
		.dst_mac = {2, 0, 0, 0, 0, 1},
		.src_mac = {2, 0, 0, 0, 1, (uint8_t)src_gw},
		.src_ip = 0x0A000000u | src_gw,
		.dst_ip = FZ_IP,
		.src_port = (uint16_t)(40000 + src_gw + fz.src_port_move),
		.dst_port = FZ_PORT,
	};
}

static void pump(void);
static int fz_trace = -1; /* HC_FUZZ_TRACE=1: print every op (replaying a crash) */

/* Hand the burst to the receiving worker, then let everything settle. */
static void flush(void)
{
	if (fz.n_burst > 0) {
		struct hc_worker *w = fz_run.dp.workers[fz.rx_worker % fz_run.n_workers];
		unsigned n = fz.n_burst;
		fz.n_burst = 0;
		fz_run.in_burst = 0;
		hc_rx_burst(w, fz.rx_port, fz.burst, n, fz.now);
	}
	pump();
	fz_run.answers_in_flight = 0;
}

/* Queue a frame for the next burst: in one mbuf, or in two segments. */
static void queue_frame(const uint8_t *f, size_t len, int segments, uint64_t ol_flags)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(hc_fz_pool);
	if (m == NULL)
		FZ_FAIL("the mbuf pool is empty: %u free of %u", hc_fz_pool_free_count(),
			HC_FZ_MBUFS);
	size_t first = segments && len >= 2 ? len / 2 : len;
	char *p = rte_pktmbuf_append(m, (uint16_t)first);
	if (p == NULL)
		FZ_FAIL("frame of %zu bytes does not fit an mbuf", len);
	memcpy(p, f, first);
	if (first < len) {
		struct rte_mbuf *m2 = rte_pktmbuf_alloc(hc_fz_pool);
		if (m2 == NULL)
			FZ_FAIL("the mbuf pool is empty");
		memcpy(rte_pktmbuf_append(m2, (uint16_t)(len - first)), f + first, len - first);
		if (rte_pktmbuf_chain(m, m2) != 0)
			FZ_FAIL("cannot chain two segments");
	}
	m->ol_flags = ol_flags;
	m->port = fz.rx_port;
	fz_run.in_burst += m->nb_segs;
	fz.burst[fz.n_burst++] = m;
	if (fz.n_burst == FZ_BURST || (fz.n_burst >= FZ_SAFE_BURST && fz.pending_safe &&
					fz_run.pending_asked[0] + fz_run.pending_asked[1] > 0))
		flush();
}

/* The frame around payload p from gateway src_gw's address. */
static size_t make_frame(uint8_t *f, const uint8_t *p, size_t len, uint16_t src_gw)
{
	struct hc_frame_addr a;
	frame_addr(&a, src_gw);
	return hc_frame_build(f, &a, fz.ip_id++, p, len);
}

static void send_payload(const uint8_t *p, size_t len, uint16_t src_gw)
{
	uint8_t f[HC_FRAME_HDR_LEN + FZ_MAX_DGRAM];
	queue_frame(f, make_frame(f, p, len, src_gw), 0, 0);
}

/* ---------------------------------------------------------- sealing -- */

static void seal(uint8_t *p, size_t len, uint16_t key_gw, unsigned slot)
{
	uint8_t key[HC_AUTH_KEY_LEN];
	key_of(key_gw, slot, key);
	hc_auth_seal(p, len, key, slot);
}

/* What a model gateway does to every datagram it sends. */
static void seal_as(uint8_t *p, size_t len, uint16_t gw)
{
	if (fz.auth)
		seal(p, len, gw, key_have(gw, fz.slot) ? fz.slot : 0);
}

/* --------------------------------------------------------- datagrams -- */

static struct fz_gw *gw_of(uint8_t opbyte)
{
	return &fz.gw[(opbyte >> 5) & 3];
}

static uint32_t next_seq(const struct fz_gw *g)
{
	uint32_t s = g->last_seq + 1;
	return s == 0 ? 1 : s; /* 0 is never a sequence */
}

/* The gateway's copy of sequence seq, or -1 if it no longer has it (0 is
 * never a sequence: the zeroed history holds nothing). */
static int hist_slot(const struct fz_gw *g, uint32_t seq)
{
	unsigned s = seq % FZ_HIST;
	return seq != 0 && g->hist_seq[s] == seq ? (int)s : -1;
}

/* Record a sequenced datagram (already sealed) in the gateway's history. */
static void remember(struct fz_gw *g, uint32_t seq, const uint8_t *p, size_t len)
{
	unsigned slot = seq % FZ_HIST;
	g->hist_seq[slot] = seq;
	g->hist_len[slot] = (uint16_t)len;
	memcpy(g->hist[slot], p, len);
}

static void put_event(uint8_t *rec, uint64_t user, uint32_t room, uint8_t op, uint16_t pool)
{
	struct hc_event ev = {.user_id = htobe64(user), .room_id = htonl(room), .op = op,
			      .pool_id = htons(pool)};
	memcpy(rec, &ev, sizeof(ev));
}

/* Read one EVENTS op's arguments, update the model, write the datagram
 * (the next sequence; sealed; remembered).  Returns its length. */
/* The header of an EVENTS datagram of model gateway g with n events
 * already in p: its next sequence, sealed, kept in its history; returns
 * the length. */
static size_t finish_events(struct fz_gw *g, uint8_t *p, unsigned n)
{
	uint32_t seq = next_seq(g);
	g->last_seq = seq;
	hc_proto_fill_hdr(p, HC_MSG_EVENTS, g->id, (uint16_t)n, g->inc, 0, seq);
	size_t len = sizeof(struct hc_hdr) + n * sizeof(struct hc_event);
	seal_as(p, len, g->id);
	remember(g, seq, p, len);
	return len;
}

static size_t build_events(struct fz_gw *g, uint8_t *p, unsigned n_max)
{
	unsigned n = 1 + in8() % 8;
	if (n > n_max)
		n = n_max;
	uint8_t *rec = p + sizeof(struct hc_hdr);
	for (unsigned i = 0; i < n; i++, rec += sizeof(struct hc_event)) {
		uint8_t a = in8(), b = in8();
		unsigned kind = a & 3, u = (a >> 2) % FZ_USERS;
		struct fz_user *x = &fz.user[u];
		uint32_t room = room_of(b);
		uint16_t pool = (uint16_t)(b >> 6);
		switch (kind) {
		case 0: /* JOIN: a new user, a move, or a takeover from another gateway */
			put_event(rec, user_id(u), room, HC_OP_JOIN, pool);
			*x = (struct fz_user){.gw = (uint8_t)g->id, .room = room, .pool = (uint8_t)pool};
			break;
		case 1: /* LEAVE of the user's room; a no-op if another gateway holds them */
			if (x->gw == g->id) {
				put_event(rec, user_id(u), x->room, HC_OP_LEAVE, x->pool);
				*x = (struct fz_user){0};
			} else {
				put_event(rec, user_id(u), x->gw != 0 ? x->room : room, HC_OP_LEAVE, pool);
			}
			break;
		case 2: /* LEAVE of some room */
			put_event(rec, user_id(u), room, HC_OP_LEAVE, pool);
			if (x->gw == g->id && x->room == room)
				*x = (struct fz_user){0};
			break;
		default: /* JOIN of the user's room again */
			if (x->gw != 0)
				room = x->room;
			put_event(rec, user_id(u), room, HC_OP_JOIN, pool);
			*x = (struct fz_user){.gw = (uint8_t)g->id, .room = room, .pool = (uint8_t)pool};
			break;
		}
	}
	return finish_events(g, p, n);
}

/* One snapshot of the model gateway's membership, in chunks of `per`
 * members, written to chunks[] (sealed, remembered): returns the count. */
#define FZ_MAX_CHUNKS (FZ_USERS + 1)
struct fz_chunk {
	uint16_t len;
	uint32_t seq;
	uint8_t p[FZ_MAX_DGRAM];
};
static struct fz_chunk fz_chunks[FZ_MAX_CHUNKS + 2];

static void chunk_header(struct fz_gw *g, struct fz_chunk *c, uint32_t id, uint32_t index,
			 uint32_t count, uint32_t total, unsigned members)
{
	hc_proto_fill_hdr(c->p, HC_MSG_SNAPSHOT, g->id, (uint16_t)members, g->inc, 0, c->seq);
	struct hc_snapshot_prefix pf = {.snapshot_id = htonl(id), .chunk_index = htonl(index),
		.chunk_count = htonl(count), .total_users = htonl(total)};
	memcpy(c->p + sizeof(struct hc_hdr), &pf, sizeof(pf));
	c->len = (uint16_t)(sizeof(struct hc_hdr) + sizeof(pf) + members * sizeof(struct hc_member));
}

static void put_member(uint8_t *rec, uint64_t user, uint32_t room, uint16_t pool)
{
	struct hc_member mb = {.user_id = htobe64(user), .room_id = htonl(room),
			       .pool_id = htons(pool)};
	memcpy(rec, &mb, sizeof(mb));
}

/* Build (not send, not seal) the chunks of a snapshot of g's users. */
static unsigned build_snapshot(struct fz_gw *g, unsigned per)
{
	unsigned total = 0, idx[FZ_USERS];
	for (unsigned u = 0; u < FZ_USERS; u++)
		if (fz.user[u].gw == g->id)
			idx[total++] = u;
	if (per == 0)
		per = 1;
	unsigned count = total == 0 ? 1 : (total + per - 1) / per;
	uint32_t id = ++g->snap_id;
	for (unsigned c = 0; c < count; c++) {
		unsigned first = c * per, k = total - first < per ? total - first : per;
		struct fz_chunk *ch = &fz_chunks[c];
		ch->seq = next_seq(g);
		g->last_seq = ch->seq;
		chunk_header(g, ch, id, c, count, total, k);
		for (unsigned i = 0; i < k; i++) {
			const struct fz_user *x = &fz.user[idx[first + i]];
			put_member(ch->p + sizeof(struct hc_hdr) + sizeof(struct hc_snapshot_prefix) +
				   i * sizeof(struct hc_member), user_id(idx[first + i]), x->room, x->pool);
		}
	}
	return count;
}

static void seal_remember(struct fz_gw *g, struct fz_chunk *c)
{
	seal_as(c->p, c->len, g->id);
	remember(g, c->seq, c->p, c->len);
}

/* Send a whole snapshot of g, chunks of `per`, nothing lost. */
static void send_snapshot(struct fz_gw *g, unsigned per)
{
	unsigned n = build_snapshot(g, per);
	for (unsigned c = 0; c < n; c++) {
		seal_remember(g, &fz_chunks[c]);
		send_payload(fz_chunks[c].p, fz_chunks[c].len, g->id);
	}
}

static size_t build_heartbeat(struct fz_gw *g, uint8_t *p, uint32_t last, uint32_t flags,
			      int wrong)
{
	uint32_t users = 0;
	uint64_t digest = 0;
	for (unsigned u = 0; u < FZ_USERS; u++) {
		if (fz.user[u].gw == g->id) {
			users++;
			digest += hc_member_digest(user_id(u), fz.user[u].room);
		}
	}
	if (wrong) {
		users ^= 5;
		digest ^= 0x5555;
	}
	struct hc_heartbeat hb = {.last_sequence = htonl(last), .user_count = htonl(users),
		.interval_ms = htonl(100), .hb_flags = htonl(flags), .digest = htobe64(digest)};
	hc_proto_fill_hdr(p, HC_MSG_HEARTBEAT, g->id, 1, g->inc, 0, ++g->ctl);
	memcpy(p + sizeof(struct hc_hdr), &hb, sizeof(hb));
	size_t len = sizeof(struct hc_hdr) + sizeof(hb);
	seal_as(p, len, g->id);
	memcpy(g->last_hb, p, len);
	g->last_hb_len = (uint16_t)len;
	return len;
}

static size_t build_place(struct fz_gw *g, uint8_t *p)
{
	unsigned n = 1 + in8() % 4;
	for (unsigned i = 0; i < n; i++) {
		uint8_t u = in8(), pool = in8();
		struct hc_place pl = {.user_id = htobe64(user_id(u)), .request_id = htonl(++fz.place_id),
				      .pool_id = htons(pool & 3)};
		memcpy(p + sizeof(struct hc_hdr) + i * sizeof(pl), &pl, sizeof(pl));
	}
	hc_proto_fill_hdr(p, HC_MSG_PLACE, g->id, (uint16_t)n, g->inc, 0, ++g->ctl);
	size_t len = sizeof(struct hc_hdr) + n * sizeof(struct hc_place);
	seal_as(p, len, g->id);
	memcpy(g->last_pl, p, len);
	g->last_pl_len = (uint16_t)len;
	return len;
}

/* The gateway stops or restarts: it holds nobody, a new incarnation. */
static void reboot(struct fz_gw *g, uint32_t delta)
{
	for (unsigned u = 0; u < FZ_USERS; u++)
		if (fz.user[u].gw == g->id)
			fz.user[u] = (struct fz_user){0};
	g->inc += 1 + delta;
	g->last_seq = 0;
	g->ctl = 0;
	g->last_hb_len = g->last_pl_len = 0;
	memset(g->hist_seq, 0, sizeof(g->hist_seq));
}

/* ------------------------------------------------- the control core -- */

static void book_move(uint32_t from, uint32_t to)
{
	if (from != 0) {
		if (from < FZ_ROOMS)
			fz_run.book.room[from]--;
		else
			fz_run.book.other++;
	}
	if (to != 0) {
		if (to < FZ_ROOMS)
			fz_run.book.room[to]++;
		else
			fz_run.book.other++;
	}
}

/* HC_CHGF_LEASE_DRY is a seat request's flag: on no other applied
 * change, on a restatement never, and on a request only after a leased
 * JOIN of that worker into that room since its last such request (the
 * worker marks its lease dry when a leased JOIN takes the last seat, and
 * its next request into the room carries the mark, once).  Whether a
 * given request must carry it depends on when the worker applied the
 * grants this control core sent, which it cannot see: not checked here
 * (tests/unit/test_control.c follows one lease step by step). */
static void check_dry_flag(unsigned w, const struct hc_change *c)
{
	switch (c->kind) {
	case HC_CHG_APPLIED: case HC_CHG_LEASED: case HC_CHG_RESTATE:
	case HC_CHG_FULL: case HC_CHG_SUPERSEDED: case HC_CHG_VACATED:
		if (c->flags != 0)
			FZ_FAIL("change %u of user %" PRIu64 " (worker %u) carries flags 0x%x",
				c->kind, c->user_id, w, c->flags);
		break;
	case HC_CHG_REQUEST:
		if (c->flags & ~HC_CHGF_LEASE_DRY)
			FZ_FAIL("seat request of user %" PRIu64 " carries unknown flags 0x%x",
				c->user_id, c->flags);
		if (!(c->flags & HC_CHGF_LEASE_DRY) || c->to_room >= FZ_ROOMS)
			break;
		if (!fz.leased_since_dry[w][c->to_room])
			FZ_FAIL("worker %u says its lease of room %u ran dry (user %" PRIu64
				") with no leased JOIN there since it last said so", w,
				c->to_room, c->user_id);
		fz.leased_since_dry[w][c->to_room] = 0;
		break;
	default:
		break;
	}
}

static void take_change(unsigned w, const struct hc_change *c)
{
	check_dry_flag(w, c);
	switch (c->kind) {
	case HC_CHG_APPLIED:
		book_move(c->from_room, c->to_room);
		break;
	case HC_CHG_LEASED: /* a JOIN applied on a seat we leased */
		if (c->to_room == 0 || c->to_room >= FZ_ROOMS || c->from_room >= FZ_ROOMS ||
		    fz.lease[w][c->to_room] == 0)
			FZ_FAIL("leased JOIN of user %" PRIu64 " into room %u: worker %u holds no "
				"seat there", c->user_id, c->to_room, w);
		fz.lease[w][c->to_room]--;
		fz.leased_since_dry[w][c->to_room] = 1;
		book_move(c->from_room, c->to_room);
		break;
	case HC_CHG_VACATED: /* an admitted request's user moved out, applied */
		if (c->from_room == 0 || c->from_room >= FZ_ROOMS || c->to_room == 0 ||
		    c->to_room >= FZ_ROOMS || c->from_room == c->to_room)
			FZ_FAIL("user %" PRIu64 " vacated room %u for %u", c->user_id, c->from_room,
				c->to_room);
		book_move(c->from_room, 0);
		break;
	case HC_CHG_LEASE_BACK: /* after every leased JOIN of the room */
		if (c->from_room == 0 || c->from_room >= FZ_ROOMS ||
		    c->user_id != fz.lease[w][c->from_room])
			FZ_FAIL("worker %u gave back %" PRIu64 " seats of room %u, it held %u", w,
				c->user_id, c->from_room,
				c->from_room < FZ_ROOMS ? fz.lease[w][c->from_room] : 0);
		fz.lease[w][c->from_room] = 0;
		if (fz.revoking[w][c->from_room] > 0)
			fz.revoking[w][c->from_room]--;
		break;
	case HC_CHG_REQUEST:
	case HC_CHG_RESTATE: {
		if (fz.req_n[w] == FZ_REQ_MAX)
			FZ_FAIL("worker %u has %u seat requests in flight", w, FZ_REQ_MAX);
		unsigned at = (fz.req_head[w] + fz.req_n[w]++) % FZ_REQ_MAX;
		fz.req[w][at] = (struct fz_req){.user = c->user_id, .from = c->from_room,
						.to = c->to_room, .gw = c->gateway_id,
						.restate = c->kind == HC_CHG_RESTATE};
		fz_run.pending_asked[w]++;
		if (c->to_room == 0 || c->to_room >= FZ_ROOMS || c->from_room >= FZ_ROOMS)
			FZ_FAIL("seat request for user %" PRIu64 " from room %u to %u", c->user_id,
				c->from_room, c->to_room);
		break;
	}
	case HC_CHG_PEER:
	case HC_CHG_CONFLICT:
		if (c->gateway_id == 0 || c->gateway_id >= FZ_MAX_GWS)
			FZ_FAIL("address (or conflict) for gateway %u", c->gateway_id);
		break;
	case HC_CHG_PICK:
		if (c->from_room == 0 || c->from_room >= FZ_ROOMS)
			FZ_FAIL("picked user %" PRIu64 " in room %u", c->user_id, c->from_room);
		break;
	case HC_CHG_PICK_END:
	case HC_CHG_SWEPT:
		if (c->kind == HC_CHG_SWEPT && c->gateway_id == 0)
			FZ_FAIL("a sweep of gateway 0");
		break;
	case HC_CHG_FULL:
	case HC_CHG_SUPERSEDED: /* a JOIN or member not applied, told its gateway */
		if (c->to_room == 0 || c->to_room >= FZ_ROOMS || c->gateway_id == 0)
			FZ_FAIL("%s of user %" PRIu64 " into room %u (gateway %u)",
				c->kind == HC_CHG_FULL ? "FULL" : "SUPERSEDED", c->user_id,
				c->to_room, c->gateway_id);
		break;
	case HC_CHG_RESYNC:
		if (c->gateway_id == 0 || c->gateway_id >= FZ_MAX_GWS ||
		    c->resync.reason < HC_RESYNC_GAP || c->resync.reason > HC_RESYNC_CHUNK)
			FZ_FAIL("resync %u for gateway %u", c->resync.reason, c->gateway_id);
		if (c->resync.reason == HC_RESYNC_GAP && hc_seq_after(c->resync.first, c->resync.last))
			FZ_FAIL("NACK of gateway %u for %u..%u", c->gateway_id, c->resync.first,
				c->resync.last);
		if (c->resync.reason == HC_RESYNC_GAP && c->resync.first == 0)
			FZ_KNOWN("seqwrap", "NACK of gateway %u for %u..%u: sequence 0 is never sent",
				 c->gateway_id, c->resync.first, c->resync.last);
		if (fz.n_rs < FZ_RESYNC_MAX)
			fz.rs[fz.n_rs++] = (struct fz_resync){.gw = c->gateway_id,
				.reason = c->resync.reason, .first = c->resync.first,
				.last = c->resync.last};
		break;
	default:
		FZ_FAIL("change of unknown kind %u", c->kind);
	}
}

static unsigned take_control(void)
{
	struct hc_change chg[64];
	struct hc_place_req pl[64];
	unsigned total = 0, n;
	for (unsigned w = 0; w < fz_run.n_workers; w++) {
		while ((n = hc_chan_take_changes(&fz_run.dp, w, chg, 64)) > 0) {
			for (unsigned k = 0; k < n; k++)
				take_change(w, &chg[k]);
			total += n;
		}
		while ((n = hc_chan_take_places(&fz_run.dp, w, pl, 64)) > 0) {
			for (unsigned k = 0; k < n; k++)
				if (pl[k].gateway_id == 0 || pl[k].gateway_id >= FZ_MAX_GWS)
					FZ_FAIL("PLACE from gateway %u", pl[k].gateway_id);
			total += n;
		}
	}
	return total;
}

/* Frames the workers transmitted (ARP replies): check and free them. */
static unsigned take_tx(void)
{
	unsigned total = 0;
	for (unsigned w = 0; w < fz_run.n_workers; w++) {
		struct rte_mbuf *m;
		while (rte_ring_dequeue(fz_txr[w], (void **)&m) == 0) {
			const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
			int arp_reply = rte_pktmbuf_data_len(m) >= 42 && f[12] == 0x08 && f[13] == 0x06 &&
					f[20] == 0 && f[21] == 2 &&
					memcmp(f + 28, &(uint32_t){htonl(FZ_IP)}, 4) == 0;
			int ours = rte_pktmbuf_data_len(m) >= 42 && f[12] == 0x08 && f[13] == 0x00 &&
				   memcmp(f + 26, &(uint32_t){htonl(FZ_IP)}, 4) == 0;
			if (!arp_reply && !ours)
				FZ_FAIL("worker %u sent a frame that is neither our ARP reply nor the "
					"control core's", w);
			rte_pktmbuf_free(m);
			total++;
		}
	}
	return total;
}

/* Run the workers' loops (minus RX) until nothing moves. */
static void pump(void)
{
	for (unsigned round = 0;; round++) {
		unsigned work = 0;
		for (unsigned i = 0; i < fz_run.n_workers; i++) {
			struct hc_worker *w = fz_run.dp.workers[i];
			work += hc_rx_poll_handoff(w, fz.now);
			/* what hc_rx_burst or the poll staged is work for the others */
			work += hc_handoff_staged(&w->ho) + w->n_local;
			hc_ops_commit(w);
			work += hc_handoff_staged(&w->ho); /* a ring was full */
			work += hc_chan_tx(w);
		}
		work += take_control() + take_tx();
		if (fz_trace > 0)
			fprintf(stderr, "hc-fuzz:   pump round %u: work %u\n", round, work);
		if (work == 0)
			return;
		if (round > 100000)
			FZ_FAIL("the workers never settle");
	}
}

/* Answer up to n of worker w's seat requests, in order; refuse the i-th
 * when bit i of refuse is set. */
static unsigned answer(unsigned w, unsigned n, uint32_t refuse)
{
	struct hc_decision dec[64];
	unsigned k = 0;
	while (k < n && k < 64 && fz.req_n[w] > 0) {
		const struct fz_req *q = &fz.req[w][fz.req_head[w]];
		fz.req_head[w] = (fz.req_head[w] + 1) % FZ_REQ_MAX;
		fz.req_n[w]--;
		fz_run.pending_asked[w]--;
		int admit = !((refuse >> (k % 32)) & 1);
		if (admit) /* (its room left: HC_CHG_VACATED, once applied) */
			book_move(0, q->to);
		dec[k++] = (struct hc_decision){.user_id = q->user, .room_id = q->to,
			.kind = HC_DEC_SEAT,
			.admit = (uint8_t)(admit ? (q->restate ? HC_SEAT_RESTATED : 1) : 0),
			.gateway_id = q->gw};
	}
	if (k > 0 && hc_chan_give_decisions(&fz_run.dp, w, dec, k) != k)
		FZ_FAIL("worker %u's decision ring is full", w);
	return k;
}

/* Admit every request, and the ones their deferred ops ask next. */
static void answer_all(void)
{
	for (unsigned round = 0;; round++) {
		unsigned k = 0;
		for (unsigned w = 0; w < fz_run.n_workers; w++)
			k += answer(w, 64, 0);
		if (k == 0)
			return;
		pump();
		if (round > 100000)
			FZ_FAIL("seat requests never end");
	}
}

/* Keep the workers below the point where they wait for the control core
 * (which would be a hang here: nobody else answers). */
static void answer_if_crowded(void)
{
	for (unsigned w = 0; w < fz_run.n_workers; w++) {
		const struct hc_pending_table *t = &fz_run.dp.workers[w]->members.pend;
		if (t->n_pending > (fz.pending_safe ? FZ_SAFE_PENDING : FZ_AUTO_PENDING) ||
		    t->n_deferred > (fz.pending_safe ? FZ_SAFE_DEFERRED : FZ_AUTO_DEFERRED)) {
			answer_all();
			return;
		}
	}
}

/* The model gateways answer what the appliance asked: a NACKed range
 * again from the history (a snapshot if it is not all there), a snapshot
 * for anything else.  At most `max` requests. */
static void answer_resyncs(unsigned max)
{
	unsigned n = fz.n_rs < max ? fz.n_rs : max;
	struct fz_resync rs[FZ_RESYNC_MAX];
	memcpy(rs, fz.rs, n * sizeof(rs[0]));
	memmove(fz.rs, fz.rs + n, (fz.n_rs - n) * sizeof(rs[0]));
	fz.n_rs -= n;
	for (unsigned i = 0; i < n; i++) {
		if (rs[i].gw == 0 || rs[i].gw > FZ_MODEL_GWS)
			continue; /* not a model gateway: nobody answers */
		struct fz_gw *g = &fz.gw[rs[i].gw - 1];
		int snapshot = rs[i].reason != HC_RESYNC_GAP;
		if (!snapshot) {
			uint32_t first = rs[i].first, last = rs[i].last;
			if (hc_seq_after(last, g->last_seq) || last - first >= FZ_HIST) {
				snapshot = 1;
			} else {
				for (uint32_t q = first;; q++) {
					if (hist_slot(g, q) < 0) {
						snapshot = 1;
						break;
					}
					if (q == last)
						break;
				}
			}
			if (!snapshot) {
				for (uint32_t q = first;; q++) {
					unsigned s = q % FZ_HIST;
					send_payload(g->hist[s], g->hist_len[s], g->id);
					if (q == last)
						break;
				}
			}
		}
		if (snapshot)
			send_snapshot(g, FZ_MEMBERS_PER);
	}
}

/* ------------------------------------------------------------ setup -- */

static void run_begin(uint8_t cfgbits)
{
	memset(&fz_run, 0, sizeof(fz_run));
	/* the model: keep the big history arrays, reset the rest */
	memset(fz.lease, 0, sizeof(fz.lease));
	memset(fz.revoking, 0, sizeof(fz.revoking));
	memset(fz.leased_since_dry, 0, sizeof(fz.leased_since_dry));
	fz.cfgbits = cfgbits;
	fz.auth = (cfgbits & FZ_CFG_AUTH) != 0;
	/* "pendingoverflow" is fixed (hc_ops.c: one sweep per apply chunk),
	 * but a worker now waits for the control core's answers where the
	 * bug overflowed, and in-process nothing answers while it waits:
	 * stay below that point always */
	fz.pending_safe = 1;
	fz.tainted = 0;
	fz.slot = (cfgbits & FZ_CFG_SLOT1) ? 1 : 0;
	fz.hz = rte_get_tsc_hz();
	fz.now = 1ull << 40;
	fz.rx_worker = 0;
	fz.rx_port = 0;
	fz.src_port_move = 0;
	fz.n_burst = 0;
	for (unsigned g = 0; g < FZ_MODEL_GWS; g++) {
		struct fz_gw *x = &fz.gw[g];
		x->id = (uint16_t)(g + 1);
		x->inc = 1000u * (g + 1);
		x->last_seq = 0;
		x->ctl = 0;
		x->snap_id = 0;
		x->last_hb_len = x->last_pl_len = 0;
		memset(x->hist_seq, 0, sizeof(x->hist_seq));
	}
	memset(fz.user, 0, sizeof(fz.user));
	memset(fz.f_inc, 0, sizeof(fz.f_inc));
	memset(fz.f_seq, 0, sizeof(fz.f_seq));
	memset(fz.req_head, 0, sizeof(fz.req_head));
	memset(fz.req_n, 0, sizeof(fz.req_n));
	fz.n_rs = 0;
	fz.place_id = 0;
	fz.crowd_next = 1ull << 48;
	fz.ip_id = 0;
	fz.n_ops = 0;
	fz.last_op = -1;

	char users[16], rooms[16], gws[16];
	snprintf(users, sizeof(users), "%u", FZ_MAX_USERS);
	snprintf(rooms, sizeof(rooms), "%u", FZ_ROOMS);
	snprintf(gws, sizeof(gws), "%u", FZ_MAX_GWS);
	/* (--keys names no file: the keyring is installed directly.  The
	 * sweep budget only with FZ_CFG_BUDGET: converge() then first lets
	 * every gateway's budget fill, as its restatements need it) */
	char *argv[] = {"hc-fuzz", "--max-users", users, "--max-rooms", rooms,
			"--max-gateways", gws, "--max-snapshot-users", "300", "--gap-nacks", "3",
			"--gap-timeout-ms", "30", "--gateway-timeout-ms", "3000", "--gateway-sweeps",
			(cfgbits & FZ_CFG_BUDGET) ? "4" : "0",
			fz.auth ? "--keys=(the harness's)" : "--no-auth", "--no-admission", NULL};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	if (cfgbits & FZ_CFG_ADMISSION)
		argc--;
	if (hc_config_parse(&fz_run.cfg, argc, argv) != 0)
		FZ_FAIL("hc_config_parse");
	fz_run.n_workers = (cfgbits & FZ_CFG_TWO_WORKERS) ? 2 : 1;
	unsigned lcores[2] = {rte_lcore_id(), rte_lcore_id()};
	int rc = hc_dataplane_init(&fz_run.dp, &fz_run.cfg, fz_run.n_workers, lcores, 1);
	if (rc != 0)
		FZ_FAIL("hc_dataplane_init: %d", rc);
	fz_auth_attach(&fz_run.dp, fz.auth);
	/* port 0 has a TX queue per worker (ARP replies); port 1 none */
	for (unsigned w = 0; w < fz_run.n_workers; w++)
		fz_run.dp.workers[w]->txq[fz_eth_port] = (uint16_t)w;
	fz_run.pool_free0 = hc_fz_pool_free_count();
}

static void run_end(void)
{
	/* an input stopped early (a tolerated known bug) may leave a burst */
	for (unsigned i = 0; i < fz.n_burst; i++)
		rte_pktmbuf_free(fz.burst[i]);
	fz.n_burst = 0;
	fz_run.in_burst = 0;
	fz_auth_detach(&fz_run.dp);
	hc_dataplane_free(&fz_run.dp);
	struct rte_mbuf *m;
	for (unsigned w = 0; w < 2; w++)
		while (rte_ring_dequeue(fz_txr[w], (void **)&m) == 0)
			rte_pktmbuf_free(m);
	unsigned free_now = hc_fz_pool_free_count();
	if (free_now != fz_run.pool_free0)
		FZ_FAIL("mbuf leak: %u free after the run, %u before", free_now,
			fz_run.pool_free0);
}

/* ------------------------------------------------------- operations -- */

static const uint32_t interesting32[] = {
	0, 1, 2, 3, 0x3f, 0x40, 0x41, 0x58, 0x59, 0x7f, 0x80, 0xff, 0x100, 0x22e, 0x22f,
	0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
	FZ_ROOMS - 1, FZ_ROOMS, FZ_MAX_GWS - 1, FZ_MAX_GWS, FZ_MAX_USERS, FZ_MAX_USERS + 1,
};
#define N_INTERESTING (sizeof(interesting32) / sizeof(interesting32[0]))

/* An interesting value, or one near the gateway's own sequence or
 * incarnation. */
static uint32_t interesting(uint32_t v, const struct fz_gw *g)
{
	unsigned k = v % (N_INTERESTING + 8);
	if (k < N_INTERESTING)
		return interesting32[k];
	switch (k - N_INTERESTING) {
	case 0: return g->last_seq;
	case 1: return g->last_seq + 1;
	case 2: return g->last_seq + 2;
	case 3: return g->last_seq + 64;
	case 4: return g->last_seq + 65;
	case 5: return g->inc - 1;
	case 6: return g->inc + 1;
	default: return v >> 8;
	}
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void put_be(uint8_t *p, size_t size, uint32_t v)
{
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
}

/* A valid datagram to damage (MUTATE, FRAME); `orig_gw` its gateway. */
static size_t build_base(struct fz_gw *g, unsigned base, uint8_t *p)
{
	switch (base % FZ_BASE_N) {
	case FZ_BASE_HISTORY: {
		unsigned back = in8() % FZ_HIST;
		int s = hist_slot(g, g->last_seq - back);
		if (s >= 0) {
			memcpy(p, g->hist[s], g->hist_len[s]);
			return g->hist_len[s];
		}
	}
		/* fall through: nothing that old */
	case FZ_BASE_EVENTS:
		return build_events(g, p, HC_MAX_EVENTS_MTU1500);
	case FZ_BASE_HEARTBEAT:
		return build_heartbeat(g, p, g->last_seq, 0, 0);
	case FZ_BASE_PLACE:
		return build_place(g, p);
	default: { /* a one-chunk snapshot, lost as sent */
		unsigned n = build_snapshot(g, FZ_MEMBERS_PER);
		for (unsigned c = 0; c < n; c++)
			seal_remember(g, &fz_chunks[c]);
		memcpy(p, fz_chunks[0].p, fz_chunks[0].len);
		return fz_chunks[0].len;
	}
	}
}

static const struct { uint8_t off, size; } hdr_fields[] = {
	{4, 1}, {5, 1}, {6, 2}, {8, 2}, {10, 2}, {12, 4}, {16, 4}, {20, 4}, {24, 4},
	{40, 4}, {44, 4}, {48, 4}, {52, 4},
};

static size_t mutate(struct fz_gw *g, uint8_t *p, size_t len)
{
	unsigned kind = in8() % FZ_M_N;
	uint16_t off = in16();
	uint32_t v = in32();
	size_t at = len > 0 ? off % len : 0;
	switch (kind) {
	case FZ_M_XOR:
		if (len > 0)
			p[at] ^= (uint8_t)(v | 1);
		break;
	case FZ_M_SET8:
		if (len > 0)
			p[at] = (uint8_t)v;
		break;
	case FZ_M_SET16:
		if (len >= 2)
			put_be(p + at % (len - 1), 2, interesting(v, g));
		break;
	case FZ_M_SET32:
		if (len >= 4)
			put_be(p + at % (len - 3), 4, interesting(v, g));
		break;
	case FZ_M_FIELD: {
		unsigned f = off % (sizeof(hdr_fields) / sizeof(hdr_fields[0]));
		if ((size_t)hdr_fields[f].off + hdr_fields[f].size <= len)
			put_be(p + hdr_fields[f].off, hdr_fields[f].size, interesting(v, g));
		break;
	}
	case FZ_M_TRUNC:
		return at;
	case FZ_M_EXTEND: {
		size_t more = 1 + v % 40;
		if (len + more > FZ_MAX_DGRAM)
			more = FZ_MAX_DGRAM - len;
		memset(p + len, (int)(v >> 16), more);
		if ((v & 0x100) && len >= sizeof(struct hc_hdr)) {
			size_t rs = hc_proto_record_size(p[5]);
			if (rs != 0) {
				more -= more % rs;
				uint16_t count;
				memcpy(&count, p + 10, 2);
				count = htons((uint16_t)(ntohs(count) + more / rs));
				memcpy(p + 10, &count, 2);
			}
		}
		return len + more;
	}
	default: { /* a field of one record */
		if (len < sizeof(struct hc_hdr))
			break;
		size_t rs = hc_proto_record_size(p[5]), pre = hc_proto_prefix_size(p[5]);
		if (rs == 0 || len < sizeof(struct hc_hdr) + pre + rs)
			break;
		size_t n = (len - sizeof(struct hc_hdr) - pre) / rs;
		uint8_t *rec = p + sizeof(struct hc_hdr) + pre + (off % n) * rs;
		static const struct { uint8_t off, size; } rf[] = {
			{0, 4}, {4, 4}, {8, 4}, {12, 1}, {13, 1}, {14, 2}, {12, 2}};
		unsigned f = (v >> 24) % (sizeof(rf) / sizeof(rf[0]));
		if (rf[f].off + rf[f].size <= rs)
			put_be(rec + rf[f].off, rf[f].size, interesting(v, g));
		break;
	}
	}
	return len;
}

static void op_mutate(struct fz_gw *g)
{
	uint8_t p[FZ_MAX_DGRAM];
	size_t len = build_base(g, in8(), p);
	unsigned n = 1 + in8() % 4;
	for (unsigned i = 0; i < n; i++)
		len = mutate(g, p, len);
	unsigned how = in8() % FZ_SEAL_N;
	if (len >= sizeof(struct hc_hdr)) {
		uint16_t hgw;
		memcpy(&hgw, p + 8, 2);
		hgw = ntohs(hgw);
		switch (how) {
		case FZ_SEAL_HDR_GW:
			seal(p, len, hgw, key_have(hgw, fz.slot) ? fz.slot : 0);
			break;
		case FZ_SEAL_ORIG:
			seal(p, len, g->id, key_have(g->id, fz.slot) ? fz.slot : 0);
			break;
		case FZ_SEAL_STALE:
			break;
		default:
			p[7] &= (uint8_t)~(HC_HDR_F_AUTH | HC_HDR_F_KEY_SLOT);
			memset(p + 24, 0, HC_AUTH_TAG_LEN);
			break;
		}
	}
	send_payload(p, len, g->id);
}

static void op_frame(struct fz_gw *g)
{
	uint8_t p[FZ_MAX_DGRAM], f[HC_FRAME_HDR_LEN + FZ_MAX_DGRAM + 64];
	size_t plen = build_base(g, in8(), p);
	size_t len = make_frame(f, p, plen, g->id);
	unsigned kind = in8() % FZ_F_N;
	uint8_t v = in8();
	int segments = 0;
	uint64_t ol = 0;
	switch (kind) {
	case FZ_F_L234_XOR:
		f[v % HC_FRAME_HDR_LEN] ^= (uint8_t)(v | 1);
		break;
	case FZ_F_L234_XOR_FIX:
		f[v % HC_FRAME_HDR_LEN] ^= (uint8_t)((v >> 3) | 1);
		hc_frame_fix_csums(f, len);
		break;
	case FZ_F_TRUNC:
		len = v % len;
		break;
	case FZ_F_IHL: {
		/* options of (ihl - 5) words inserted after the IPv4 header */
		unsigned words = 1 + v % 10;
		memmove(f + 34 + words * 4, f + 34, len - 34);
		memset(f + 34, 1, words * 4); /* NOP options */
		f[14] = (uint8_t)(0x40 | (5 + words));
		uint16_t tot = (uint16_t)(len - 14 + words * 4);
		put_be(f + 16, 2, tot);
		len += words * 4;
		hc_frame_fix_csums(f, len);
		break;
	}
	case FZ_F_FRAGMENT:
		put_be(f + 20, 2, (v & 1) ? 0x2000 : (uint32_t)(v >> 1) + 1);
		hc_frame_fix_csums(f, len);
		break;
	case FZ_F_DST_IP:
		f[30 + v % 4] ^= (uint8_t)(v | 1);
		hc_frame_fix_csums(f, len);
		break;
	case FZ_F_DST_PORT:
		put_be(f + 36, 2, v);
		hc_frame_fix_csums(f, len);
		break;
	case FZ_F_UDP_CSUM:
		put_be(f + 40, 2, (v & 1) ? 0 : (uint32_t)(f[40] << 8 | f[41]) ^ (v | 2));
		break;
	case FZ_F_SEGMENTS:
		segments = 1;
		break;
	case FZ_F_OFFLOAD: {
		static const uint64_t flags[] = {
			RTE_MBUF_F_RX_IP_CKSUM_BAD, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
			RTE_MBUF_F_RX_L4_CKSUM_BAD, RTE_MBUF_F_RX_L4_CKSUM_GOOD,
			RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD,
			RTE_MBUF_F_RX_IP_CKSUM_NONE, RTE_MBUF_F_RX_L4_CKSUM_NONE};
		ol = flags[v % (sizeof(flags) / sizeof(flags[0]))];
		if (v & 0x80) { /* the NIC vouches for checksums that are wrong */
			f[24] ^= 0x10;
			f[40] ^= 0x10;
		}
		break;
	}
	case FZ_F_ETHERTYPE: {
		static const uint16_t types[] = {0x86dd, 0x8100, 0x88a8, 0x0806, 0x0000, 0xffff};
		put_be(f + 12, 2, types[v % (sizeof(types) / sizeof(types[0]))]);
		break;
	}
	case FZ_F_UDP_LEN:
		put_be(f + 38, 2, (uint32_t)(f[38] << 8 | f[39]) + (v & 0x80 ? -(1 + (v & 7)) : v % 16 + 1));
		hc_frame_fix_csums(f, len);
		break;
	default: /* FZ_F_IP_LEN */
		put_be(f + 16, 2, (uint32_t)(f[16] << 8 | f[17]) + (v & 0x80 ? -(1 + (v & 63)) : v % 16 + 1));
		hc_frame_fix_csums(f, len);
		break;
	}
	queue_frame(f, len, segments, ol);
}

static void op_arp(void)
{
	uint8_t f[64];
	unsigned kind = in8() % 4;
	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, (uint8_t[]){2, 0, 0, 0, 1, 9}, 6);
	put_be(f + 12, 2, 0x0806);
	put_be(f + 14, 2, 1);      /* Ethernet */
	put_be(f + 16, 2, 0x0800); /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	put_be(f + 20, 2, kind == 2 ? 2 : 1);
	memcpy(f + 22, f + 6, 6);
	put_be(f + 28, 4, 0x0A000009);
	put_be(f + 38, 4, kind == 1 ? 0x0A000001 : FZ_IP);
	queue_frame(f, kind == 3 ? 30 : 42, 0, 0);
}

static void op_snap_bad(struct fz_gw *g)
{
	unsigned per = 1 + in8() % 16;
	uint8_t which = in8(), what = in8(), v = in8();
	unsigned n = build_snapshot(g, per);
	unsigned j = which % n;
	unsigned fault = what % FZ_SF_N;
	struct fz_chunk *c = &fz_chunks[j];
	uint8_t *pf = c->p + sizeof(struct hc_hdr);
	uint32_t x;
	switch (fault) {
	case FZ_SF_COUNT_UP:
		memcpy(&x, pf + 8, 4);
		put_be(pf + 8, 4, ntohl(x) + 1 + v % 4);
		break;
	case FZ_SF_COUNT_DOWN:
		memcpy(&x, pf + 8, 4);
		if (ntohl(x) > 1)
			put_be(pf + 8, 4, ntohl(x) - 1);
		if (ntohl(x) > 1 && j >= ntohl(x) - 1) /* keep the index valid */
			put_be(pf + 4, 4, ntohl(x) - 2);
		break;
	case FZ_SF_TOTAL_UP:
		memcpy(&x, pf + 12, 4);
		put_be(pf + 12, 4, ntohl(x) + 1 + v);
		break;
	case FZ_SF_TOTAL_DOWN:
		memcpy(&x, pf + 12, 4);
		put_be(pf + 12, 4, ntohl(x) - 1);
		break;
	case FZ_SF_ID:
		memcpy(&x, pf, 4);
		put_be(pf, 4, ntohl(x) ^ (1u + v));
		break;
	case FZ_SF_INDEX:
		memcpy(&x, pf + 4, 4);
		if (ntohl(x) + 1 < n)
			put_be(pf + 4, 4, ntohl(x) + 1);
		break;
	case FZ_SF_DUP: {
		/* chunk j twice: the copy takes the next sequence */
		for (unsigned k = n; k > j + 1; k--)
			fz_chunks[k] = fz_chunks[k - 1];
		fz_chunks[j + 1] = fz_chunks[j];
		for (unsigned k = j + 1; k <= n; k++) {
			fz_chunks[k].seq = fz_chunks[k - 1].seq + (fz_chunks[k - 1].seq == UINT32_MAX ? 2 : 1);
			put_be(fz_chunks[k].p + 20, 4, fz_chunks[k].seq);
		}
		g->last_seq = fz_chunks[n].seq;
		n++;
		break;
	}
	case FZ_SF_LESS:
		if (get16(c->p + 10) > 0) {
			put_be(c->p + 10, 2, get16(c->p + 10) - 1u);
			c->len = (uint16_t)(c->len - sizeof(struct hc_member));
		}
		break;
	case FZ_SF_MORE: {
		unsigned k = get16(c->p + 10);
		put_member(c->p + c->len, user_id(v), room_of(v), 0);
		put_be(c->p + 10, 2, k + 1);
		c->len = (uint16_t)(c->len + sizeof(struct hc_member));
		break;
	}
	case FZ_SF_HUGE:
		for (unsigned k = 0; k < n; k++)
			put_be(fz_chunks[k].p + sizeof(struct hc_hdr) + 12, 4, (uint32_t)v << 16 | 0xffff);
		break;
	case FZ_SF_RESTART:
		put_be(pf + 4, 4, 0);
		break;
	default: /* FZ_SF_STOP */
		n = j + 1;
		break;
	}
	for (unsigned k = 0; k < n; k++) {
		seal_remember(g, &fz_chunks[k]);
		send_payload(fz_chunks[k].p, fz_chunks[k].len, g->id);
	}
}

static void op_snapshot(struct fz_gw *g)
{
	uint8_t size = in8(), lose = in8();
	unsigned n = build_snapshot(g, (size & 0x80) ? FZ_MEMBERS_PER : 1 + size % 16);
	for (unsigned c = 0; c < n; c++)
		seal_remember(g, &fz_chunks[c]);
	for (unsigned i = 0; i < n; i++) {
		unsigned c = (lose & 0x80) ? n - 1 - i : i;
		if (c < 7 && ((lose >> c) & 1))
			continue;
		send_payload(fz_chunks[c].p, fz_chunks[c].len, g->id);
	}
}

/* A snapshot of the gateway's members plus `extra` users outside the
 * universe (transient, as CROWD's), chunks of FZ_MEMBERS_PER, the last `keep_open`
 * chunks never sent (the stage stays open): the staging caps (per
 * gateway: --max-snapshot-users 300; per worker: --max-users). */
static void op_snap_crowd(struct fz_gw *g)
{
	uint8_t n = in8(), flags = in8();
	unsigned extra = 1 + n * 2u; /* up to 511 */
	unsigned keep_open = flags & 3;
	unsigned total = extra, members[FZ_USERS], k = 0;
	for (unsigned u = 0; u < FZ_USERS; u++)
		if (fz.user[u].gw == g->id)
			members[k++] = u;
	total += k;
	unsigned count = (total + FZ_MEMBERS_PER - 1) / FZ_MEMBERS_PER;
	uint32_t id = ++g->snap_id;
	for (unsigned c = 0, i = 0; c < count; c++) {
		struct fz_chunk *ch = &fz_chunks[0];
		unsigned in = total - i < FZ_MEMBERS_PER ? total - i : FZ_MEMBERS_PER;
		ch->seq = next_seq(g);
		g->last_seq = ch->seq;
		chunk_header(g, ch, id, c, count, total, in);
		for (unsigned j = 0; j < in; j++, i++) {
			uint8_t *rec = ch->p + sizeof(struct hc_hdr) + sizeof(struct hc_snapshot_prefix) +
				       j * sizeof(struct hc_member);
			if (i < k)
				put_member(rec, user_id(members[i]), fz.user[members[i]].room,
					   fz.user[members[i]].pool);
			else
				put_member(rec, fz.crowd_next++, room_of((uint8_t)i), 0);
		}
		seal_remember(g, ch);
		if (c + keep_open < count)
			send_payload(ch->p, ch->len, g->id);
	}
}

static void op_heartbeat(struct fz_gw *g)
{
	uint8_t what = in8(), v = in8();
	uint32_t last;
	if ((what & 0x80) && g->last_hb_len != 0) {
		/* the last heartbeat again, byte for byte: a replay */
		send_payload(g->last_hb, g->last_hb_len, g->id);
		return;
	}
	if ((what & 7) == 1 || (what & 7) == 3)
		fz.tainted = 1; /* a gateway that claims sequences it never sent */
	switch (what & 7) {
	case 1: last = g->last_seq + v; break;
	case 2: last = 0; break;
	case 3: last = (uint32_t)v << 24 | v; break;
	case 4: last = g->last_seq - v; break;
	default: last = g->last_seq; break;
	}
	uint32_t flags = 0;
	if (what & 0x08)
		flags |= HC_HB_F_RESYNC_NEEDED;
	if (what & 0x10)
		flags |= HC_HB_F_SHUTDOWN;
	if (what & 0x20)
		flags |= 0x100;
	uint8_t p[FZ_MAX_DGRAM];
	size_t len = build_heartbeat(g, p, last, flags, (what & 0x40) != 0);
	send_payload(p, len, g->id);
	if (flags & HC_HB_F_SHUTDOWN)
		reboot(g, 0); /* it stopped; it comes back as a new incarnation */
}

static void op_stale(struct fz_gw *g)
{
	uint8_t back = in8(), s = in8();
	uint8_t p[FZ_MAX_DGRAM];
	unsigned n = 1 + s % 4;
	for (unsigned i = 0; i < n; i++)
		put_event(p + sizeof(struct hc_hdr) + i * sizeof(struct hc_event), user_id(s + i),
			  room_of(s), HC_OP_JOIN, 0);
	hc_proto_fill_hdr(p, HC_MSG_EVENTS, g->id, (uint16_t)n, g->inc - 1 - back, 0, 1u + s % 8);
	size_t len = sizeof(struct hc_hdr) + n * sizeof(struct hc_event);
	seal_as(p, len, g->id);
	send_payload(p, len, g->id);
}

static void op_forge(struct fz_gw *g)
{
	unsigned kind = in8() % FZ_FG_N;
	uint8_t p[FZ_MAX_DGRAM];
	/* a copy of the next EVENTS that the gateway really sends after it */
	size_t len = build_events(g, p, HC_MAX_EVENTS_MTU1500);
	uint8_t key[HC_AUTH_KEY_LEN];
	switch (kind) {
	case FZ_FG_WRONG_KEY:
		key_of((uint16_t)(g->id % FZ_MODEL_GWS + 1), fz.slot, key);
		hc_auth_seal(p, len, key, fz.slot);
		break;
	case FZ_FG_NO_KEY_SLOT: /* gateway 4 has no slot 1, gateway 7 nothing */
		key_of(g->id, 1, key);
		hc_auth_seal(p, len, key, 1);
		if (g->id != 4)
			put_be(p + 8, 2, 7);
		break;
	case FZ_FG_BAD_TAG:
		seal(p, len, g->id, 0);
		p[24 + (len % HC_AUTH_TAG_LEN)] ^= 0x01;
		break;
	case FZ_FG_UNSEALED:
		p[7] &= (uint8_t)~(HC_HDR_F_AUTH | HC_HDR_F_KEY_SLOT);
		memset(p + 24, 0, HC_AUTH_TAG_LEN);
		break;
	default: /* FZ_FG_OTHER_SLOT: slot 1's key, the flag says slot 0 */
		key_of(g->id, 1, key);
		hc_auth_seal(p, len, key, 1);
		p[7] &= (uint8_t)~HC_HDR_F_KEY_SLOT;
		break;
	}
	send_payload(p, len, g->id);
	/* the real one, sealed as it should be, follows (with auth off the
	 * forgery was applied and this one is a duplicate) */
	uint8_t q[FZ_MAX_DGRAM];
	uint32_t seq = g->last_seq;
	memcpy(q, g->hist[seq % FZ_HIST], g->hist_len[seq % FZ_HIST]);
	send_payload(q, g->hist_len[seq % FZ_HIST], g->id);
}

static void op_foreign(void)
{
	uint8_t sel = in8();
	static const uint16_t ids[] = {5, 6, 7, 0, FZ_MAX_GWS, 0xffff, 5, 6};
	uint16_t gw = ids[sel % 8];
	unsigned fi = gw < FZ_MAX_GWS ? gw : FZ_MAX_GWS + (gw != 0);
	if (fz.f_inc[fi] == 0)
		fz.f_inc[fi] = 77;
	uint8_t p[FZ_MAX_DGRAM];
	unsigned n = 1 + in8() % 8;
	for (unsigned i = 0; i < n; i++) {
		uint8_t a = in8(), b = in8();
		/* users of the universe and outside it */
		uint64_t user = (a & 1) ? user_id(a >> 1) : (1ull << 40) + a;
		put_event(p + sizeof(struct hc_hdr) + i * sizeof(struct hc_event), user, room_of(b),
			  (b & 0x80) ? HC_OP_LEAVE : HC_OP_JOIN, 0);
	}
	uint32_t seq = ++fz.f_seq[fi];
	if (sel & 0x80) /* a new incarnation */
		fz.f_inc[fi] += 1 + (sel & 0x70);
	hc_proto_fill_hdr(p, HC_MSG_EVENTS, gw, (uint16_t)n, fz.f_inc[fi], 0, seq);
	size_t len = sizeof(struct hc_hdr) + n * sizeof(struct hc_event);
	if (fz.auth)
		seal(p, len, gw, key_have(gw, fz.slot) ? fz.slot : 0);
	send_payload(p, len, gw);
}

static void op_crowd(struct fz_gw *g)
{
	unsigned n = 1 + in8() % HC_MAX_EVENTS_MTU1500;
	uint8_t r = in8();
	uint8_t p[FZ_MAX_DGRAM];
	for (unsigned i = 0; i < n; i++)
		put_event(p + sizeof(struct hc_hdr) + i * sizeof(struct hc_event), fz.crowd_next++,
			  room_of((uint8_t)(r + i)), HC_OP_JOIN, 0);
	size_t len = finish_events(g, p, n);
	send_payload(p, len, g->id);
}

/* Sweeps the workers' sequencers deferred for the budget, in all. */
static uint64_t sweeps_deferred(void)
{
	uint64_t n = 0;
	for (unsigned w = 0; w < fz_run.n_workers; w++)
		n += fz_run.dp.workers[w]->seq.st.sweeps_deferred;
	return n;
}

/* With a sweep budget (FZ_CFG_BUDGET): 2 s pass, in which every
 * gateway's budget fills (2N at N a second), and what waited for it (a
 * SHUTDOWN's forget) is done; gap timers and dead gateways run as they
 * would.  For the ops whose checks need sweeps at once. */
static void budgets_fill(void)
{
	if (!(fz.cfgbits & FZ_CFG_BUDGET))
		return;
	fz.now += 2 * fz.hz + fz.hz / 100;
	for (unsigned w = 0; w < fz_run.n_workers; w++)
		hc_seq_poll(&fz_run.dp.workers[w]->seq, fz.now);
	pump();
	answer_all();
}

/* Sequences across 2^32: reset points (snapshots) less than 2^31 apart
 * bring the gateway to 2^32 - 3, then EVENTS at 2^32 - 2, 2^32 - 1, 1, 2
 * (0 is skipped, as libheadcount skips it).  When the appliance agreed
 * with the model before (same incarnation, nothing applied beyond the
 * gateway's last sequence), every one of them must be applied. */
static void op_wrap(struct fz_gw *g)
{
	flush();
	budgets_fill(); /* (its up to 4 reset points: sweeps, taken at once) */
	uint64_t deferred0 = sweeps_deferred();
	uint32_t app_inc = hc_dp_gateway_incarnation(&fz_run.dp, g->id);
	uint32_t app_seq = hc_dp_gateway_applied(&fz_run.dp, g->id);
	int agreed = (app_inc == 0 || app_inc == g->inc) && !hc_seq_after(app_seq, g->last_seq);
	const uint32_t target = UINT32_MAX - 2; /* 2^32 - 3 */
	for (int k = 0; k < 4 && g->last_seq != target; k++) {
		/* steps of 2^30: with a gap of the appliance's still open below
		 * the model's last sequence, a step near 2^31 would leave the
		 * range serial-number order is defined on (RFC 1982) */
		uint32_t to = target - g->last_seq <= 0x40000000u ? target : g->last_seq + 0x40000000u;
		g->last_seq = to - 1;
		send_snapshot(g, FZ_MEMBERS_PER); /* one chunk (at most 64 users): sequence `to` */
	}
	for (int k = 0; k < 4; k++) {
		uint8_t p[FZ_MAX_DGRAM];
		/* a JOIN of user k where the model has them (or room 1) */
		unsigned u = (unsigned)k;
		uint32_t room = fz.user[u].gw != 0 ? fz.user[u].room : 1;
		put_event(p + sizeof(struct hc_hdr), user_id(u), room, HC_OP_JOIN, fz.user[u].pool);
		fz.user[u] = (struct fz_user){.gw = (uint8_t)g->id, .room = room, .pool = fz.user[u].pool};
		size_t len = finish_events(g, p, 1);
		send_payload(p, len, g->id);
	}
	flush();
	uint32_t applied = hc_dp_gateway_applied(&fz_run.dp, g->id);
	/* (a gateway the appliance declared dead comes back only with a newer
	 * incarnation: its datagrams, all stale, say nothing of the wrap; nor
	 * do they when the budget deferred a reset point, which waits for a
	 * NACK round) */
	if (agreed && hc_dp_gateway_incarnation(&fz_run.dp, g->id) == g->inc &&
	    sweeps_deferred() == deferred0 && applied != g->last_seq)
		FZ_KNOWN("seqwrap", "gateway %u sent every sequence up to %u across 2^32 "
			 "(skipping 0), the appliance applied up to %u", g->id, g->last_seq, applied);
}

/* The control core hands a frame (a RESYNC to the gateway) to the
 * workers to transmit: on port 0 (TX queues) or port 1 (none). */
static void op_ctl_tx(struct fz_gw *g)
{
	uint8_t b = in8();
	struct rte_mbuf *m = rte_pktmbuf_alloc(hc_fz_pool);
	if (m == NULL)
		FZ_FAIL("the mbuf pool is empty");
	uint8_t p[sizeof(struct hc_hdr) + sizeof(struct hc_resync)];
	hc_proto_fill_hdr(p, HC_MSG_RESYNC, g->id, 1, g->inc, 7, 1);
	struct hc_resync r = {.reason = htonl(HC_RESYNC_RESTART)};
	memcpy(p + sizeof(struct hc_hdr), &r, sizeof(r));
	struct hc_frame_addr a = {
		.dst_mac = {2, 0, 0, 0, 1, (uint8_t)g->id}, .src_mac = {2, 0, 0, 0, 0, 1},
		.src_ip = FZ_IP, .dst_ip = 0x0A000000u | g->id, .src_port = FZ_PORT,
		.dst_port = (uint16_t)(40000 + g->id)};
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, HC_FRAME_HDR_LEN + sizeof(p));
	hc_frame_build(f, &a, 0, p, sizeof(p));
	m->port = b & 1;
	if (hc_chan_give_frame(&fz_run.dp, g->id, m) != 0)
		rte_pktmbuf_free(m); /* port 1: nobody has a TX queue there */
	/* (the pump after the op has the worker send it) */
}

static void op_time(void)
{
	uint8_t b = in8();
	uint64_t ms = b < 200 ? b : (uint64_t)(b - 200) * 250;
	fz.now += fz.hz / 1000 * ms;
	/* the worker's timers trim gone users' keys above the keep limit,
	 * 64 list entries for each tick due (10 a ms), 16 ticks' worth at
	 * most (hc_worker.c; the membership's clock itself stays put) */
	unsigned ticks = ms * 10 + 1 < 16 ? (unsigned)ms * 10 + 1 : 16;
	for (unsigned w = 0; w < fz_run.n_workers; w++) {
		hc_seq_poll(&fz_run.dp.workers[w]->seq, fz.now);
		hc_members_gone_trim(&fz_run.dp.workers[w]->members, 64 * ticks);
	}
}

static void op_pick(void)
{
	uint8_t r = in8(), count = in8(), to = in8();
	struct hc_decision d = {.room_id = room_of(r), .kind = HC_DEC_PICK};
	d.pick.to_room = room_of(to);
	d.pick.count = (uint16_t)(count % 16);
	d.pick.cooldown_s = (uint16_t)(count >> 4);
	if (hc_chan_give_decisions(&fz_run.dp, count % fz_run.n_workers, &d, 1) != 1)
		FZ_FAIL("decision ring full");
}

/* Seat leases: q seats of a room to a worker, or (high bit) take its
 * seats of the room back; take_change checks every leased JOIN against
 * what was leased, and the seats given back against what is left. */
static void op_lease(void)
{
	uint8_t r = in8(), q = in8();
	unsigned w = (q >> 4) % fz_run.n_workers;
	struct hc_decision d = {.room_id = room_of(r)};
	if (q & 0x80) {
		d.kind = HC_DEC_REVOKE;
		fz.revoking[w][d.room_id]++;
	} else {
		if (fz.revoking[w][d.room_id] > 0)
			return; /* the control core grants no seats of a room it revokes */
		d.kind = HC_DEC_LEASE;
		d.lease.seats = q & 15;
		fz.lease[w][d.room_id] += q & 15;
	}
	if (hc_chan_give_decisions(&fz_run.dp, w, &d, 1) != 1)
		FZ_FAIL("decision ring full");
}

static void op_stray(void)
{
	uint8_t a = in8();
	struct hc_decision d = {.user_id = (1ull << 62) + a, .room_id = room_of(a),
				.kind = HC_DEC_SEAT, .admit = a & 1, .gateway_id = 1};
	if (hc_chan_give_decisions(&fz_run.dp, a % fz_run.n_workers, &d, 1) != 1)
		FZ_FAIL("decision ring full");
}

static const char *const op_names[FZ_N_OPS] = {
	"EVENTS", "LOSE", "RESEND", "SNAPSHOT", "SNAP_BAD", "HEARTBEAT", "PLACE", "REBOOT",
	"STALE", "MUTATE", "FRAME", "ARP", "TIME", "ANSWER", "RESYNCS", "PICK", "STRAY",
	"FLUSH_ALL", "FORGE", "FOREIGN", "RX", "WRAP", "CROWD", "SNAP_CROWD", "CTL_TX", "LEASE",
};
_Static_assert(sizeof(op_names) / sizeof(op_names[0]) == FZ_N_OPS, "a name per op");

static void run_op(uint8_t opbyte)
{
	struct fz_gw *g = gw_of(opbyte);
	unsigned op = (opbyte & 0x1f) % FZ_N_OPS;
	uint8_t p[FZ_MAX_DGRAM];
	fz.last_op = (int)op;
	fz.n_ops++;
	if (fz_trace < 0)
		fz_trace = getenv("HC_FUZZ_TRACE") != NULL;
	if (fz_trace)
		fprintf(stderr, "hc-fuzz: op %u: %s gw %u%s (input byte %zu)\n", fz.n_ops, op_names[op],
			g->id, (opbyte & FZ_OP_BURST) ? " +burst" : "", fz.in_pos);
	answer_if_crowded();
	switch (op) {
	case FZ_EVENTS:
		send_payload(p, build_events(g, p, HC_MAX_EVENTS_MTU1500), g->id);
		break;
	case FZ_LOSE:
		build_events(g, p, HC_MAX_EVENTS_MTU1500);
		break;
	case FZ_RESEND: {
		int s = hist_slot(g, g->last_seq - in8() % FZ_HIST);
		if (s >= 0)
			send_payload(g->hist[s], g->hist_len[s], g->id);
		break;
	}
	case FZ_SNAPSHOT:
		op_snapshot(g);
		break;
	case FZ_SNAP_BAD:
		op_snap_bad(g);
		break;
	case FZ_HEARTBEAT:
		op_heartbeat(g);
		break;
	case FZ_PLACE:
		if ((fz.in_pos < fz.in_len && (fz.in[fz.in_pos] & 0x80)) && g->last_pl_len != 0) {
			in8(); /* the last PLACE again, byte for byte: a replay */
			send_payload(g->last_pl, g->last_pl_len, g->id);
		} else {
			send_payload(p, build_place(g, p), g->id);
		}
		break;
	case FZ_REBOOT: {
		uint8_t delta = in8(), flags = in8();
		reboot(g, delta);
		if (flags & 1)
			send_snapshot(g, FZ_MEMBERS_PER);
		break;
	}
	case FZ_STALE:
		op_stale(g);
		break;
	case FZ_MUTATE:
		fz.tainted = 1; /* a damaged datagram may pass (resealed) */
		op_mutate(g);
		break;
	case FZ_FRAME:
		op_frame(g);
		break;
	case FZ_ARP:
		op_arp();
		break;
	case FZ_TIME:
		flush();
		op_time();
		break;
	case FZ_ANSWER: {
		uint8_t n = in8();
		uint8_t refuse = in8();
		/* with the burst bit the answers race the burst's frames (as the
		 * control core's do): given before the burst, applied between
		 * its ops; else after everything settled */
		if (!(opbyte & FZ_OP_BURST))
			flush();
		for (unsigned w = 0; w < fz_run.n_workers; w++) {
			if (n == 255)
				while (answer(w, 64, 0) > 0)
					;
			else
				answer(w, 1 + n % 16, refuse);
		}
		break;
	}
	case FZ_RESYNCS:
		flush();
		answer_resyncs(1 + in8() % 8);
		break;
	case FZ_PICK:
		op_pick();
		break;
	case FZ_LEASE:
		op_lease();
		break;
	case FZ_STRAY:
		op_stray();
		break;
	case FZ_FLUSH_ALL:
		/* the stop path (DRAIN): the workers stop afterwards, so the
		 * script ends here (the end's convergence still runs) */
		flush();
		for (unsigned w = 0; w < fz_run.n_workers; w++)
			hc_seq_flush_all(&fz_run.dp.workers[w]->seq);
		fz_run.stopped = 1;
		break;
	case FZ_FORGE:
		fz.tainted |= !fz.auth; /* without keys, forgeries are datagrams */
		op_forge(g);
		break;
	case FZ_FOREIGN:
		fz.tainted = 1;
		op_foreign();
		break;
	case FZ_RX: {
		uint8_t b = in8();
		flush();
		fz.rx_worker = (b & 15) % fz_run.n_workers;
		fz.rx_port = (b >> 4) & 1;
		if (b & 0x20) /* every gateway's source port moves (a NAT rebinds) */
			fz.src_port_move = (uint16_t)(fz.src_port_move + 1000);
		break;
	}
	case FZ_WRAP:
		op_wrap(g);
		break;
	case FZ_CROWD:
		op_crowd(g);
		break;
	case FZ_SNAP_CROWD:
		op_snap_crowd(g);
		break;
	default: /* FZ_CTL_TX */
		op_ctl_tx(g);
		break;
	}
	if (!(opbyte & FZ_OP_BURST))
		flush();
	else if (op == FZ_ANSWER)
		fz_run.answers_in_flight = 1; /* applied with the burst */
	else if (!fz_run.answers_in_flight)
		pump(); /* what the op did directly (timers, flush_all, decisions) */
}

/* ------------------------------------------------------------- end -- */

/*
 * Every gateway the appliance may know restarts (a newer incarnation than
 * the appliance's) and restates its membership from sequence 1; then each
 * model gateway sends one more snapshot: a user another gateway still
 * held during the first round (a takeover the appliance did not see) is
 * free by the second.  Then the appliance holds exactly the model.
 */
static void check_model(const char *how);

/* The incarnation after x (0 is never sent). */
static uint32_t next_incarnation(uint32_t x)
{
	return x + 1 != 0 ? x + 1 : 1;
}

static void converge(void)
{
	flush();
	answer_all();
	/* the input may have spent the budgets: the end's three sweeps a
	 * gateway (a newer incarnation, two snapshot ends) wait for them */
	budgets_fill();
	for (int round = 0; round < 2; round++) {
		for (uint16_t id = 1; id < FZ_MAX_GWS; id++) {
			struct fz_gw *g;
			static struct fz_gw foreign;
			if (id <= FZ_MODEL_GWS) {
				g = &fz.gw[id - 1];
			} else {
				if (round == 1)
					continue;
				g = &foreign; /* holds nobody in the model */
				memset(g->hist_seq, 0, sizeof(g->hist_seq));
				g->id = id;
				g->inc = fz.f_inc[id];
				g->snap_id = 0;
			}
			if (round == 0) {
				/* newer than what the appliance knows, or remembers of a
				 * forgotten incarnation (its floor).  "Not newer" is
				 * also the tie exactly 2^31 away, where serial-number
				 * order (RFC 1982) says neither is after the other and
				 * the appliance takes the restart as stale (a mutated
				 * header once gave gateway 4 the model's incarnation
				 * + 2^31: tests/fuzz/regressions/inc-half-circle) */
				uint32_t app = hc_dp_gateway_incarnation(&fz_run.dp, id);
				uint32_t floor = hc_fz_gateway_floor(id);
				uint32_t inc = next_incarnation(g->inc);
				if (app != 0 && !hc_seq_after(inc, app))
					inc = next_incarnation(app);
				if (floor != 0 && !hc_seq_after(inc, floor))
					inc = next_incarnation(floor);
				g->inc = inc;
				g->last_seq = 0;
				g->ctl = 0;
				memset(g->hist_seq, 0, sizeof(g->hist_seq));
			}
			send_snapshot(g, FZ_MEMBERS_PER);
			flush();
		}
		answer_all();
	}

	check_model("after every gateway restarted and restated its membership");
	for (unsigned w = 0; w < fz_run.n_workers; w++)
		if (fz_run.dp.workers[w]->seq.held_total != 0)
			FZ_FAIL("after every gateway restarted, worker %u holds %u datagrams", w,
				fz_run.dp.workers[w]->seq.held_total);
}

/* The appliance holds exactly the model: every user, room count, and
 * per-gateway count and digest (after `how`). */
static void check_model(const char *how)
{
	hc_fz_check_quiescent();
	const struct hc_dataplane *dp = &fz_run.dp;
	uint64_t want_room[FZ_ROOMS] = {0}, want_users = 0;
	for (unsigned u = 0; u < FZ_USERS; u++) {
		const struct fz_user *x = &fz.user[u];
		struct hc_worker *w = dp->workers[hc_owner_of(user_id(u), fz_run.n_workers)];
		uint32_t room = hc_members_room_of(&w->members, user_id(u));
		uint16_t owner = hc_members_owner_of(&w->members, user_id(u));
		if (room != (x->gw ? x->room : 0) || owner != x->gw)
			FZ_FAIL("%s, user %" PRIu64 " is in room %u through gateway %u; the "
				"gateways say room %u through gateway %u", how, user_id(u), room, owner,
				x->gw ? x->room : 0, x->gw);
		if (x->gw) {
			want_room[x->room]++;
			want_users++;
		}
	}
	uint64_t users = 0;
	for (unsigned w = 0; w < fz_run.n_workers; w++)
		users += dp->workers[w]->members.n_users;
	if (users != want_users)
		FZ_FAIL("%s, the appliance holds %" PRIu64 " users, the gateways %" PRIu64, how,
			users, want_users);
	for (uint32_t r = 1; r < FZ_ROOMS; r++) {
		uint64_t have = 0;
		for (unsigned w = 0; w < fz_run.n_workers; w++)
			have += hc_dp_room_users(dp, w, r);
		if (have != want_room[r])
			FZ_FAIL("%s, room %u counts %" PRIu64 ", the gateways hold %" PRIu64, how, r,
				have, want_room[r]);
	}
	for (uint16_t id = 1; id < FZ_MAX_GWS; id++) {
		uint64_t n = 0, digest = 0;
		for (unsigned u = 0; u < FZ_USERS; u++) {
			if (fz.user[u].gw == id) {
				n++;
				digest += hc_member_digest(user_id(u), fz.user[u].room);
			}
		}
		if (hc_dp_gateway_users(dp, id) != n || hc_dp_gateway_digest(dp, id) != digest)
			FZ_FAIL("%s, gateway %u: %" PRIu64 " users digest %016" PRIx64
				", the gateway holds %" PRIu64 " digest %016" PRIx64, how, id,
				hc_dp_gateway_users(dp, id), hc_dp_gateway_digest(dp, id), n, digest);
		if (id <= FZ_MODEL_GWS && hc_dp_gateway_incarnation(dp, id) != fz.gw[id - 1].inc &&
		    hc_dp_gateway_incarnation(dp, id) != 0)
			FZ_FAIL("%s, gateway %u: the appliance holds incarnation %u, the gateway "
				"is %u", how, id, hc_dp_gateway_incarnation(dp, id),
				fz.gw[id - 1].inc);
		if (id <= FZ_MODEL_GWS && hc_dp_gateway_applied(dp, id) != fz.gw[id - 1].last_seq)
			FZ_FAIL("%s, gateway %u: applied %u of %u", how, id,
				hc_dp_gateway_applied(dp, id), fz.gw[id - 1].last_seq);
	}
}

/* Does the appliance hold what model gateway g holds (users, digest),
 * with everything it sent applied? */
static int agrees(const struct fz_gw *g)
{
	uint64_t n = 0, digest = 0;
	for (unsigned u = 0; u < FZ_USERS; u++) {
		if (fz.user[u].gw == g->id) {
			n++;
			digest += hc_member_digest(user_id(u), fz.user[u].room);
		}
	}
	return hc_dp_gateway_incarnation(&fz_run.dp, g->id) == g->inc &&
	       hc_dp_gateway_applied(&fz_run.dp, g->id) == g->last_seq &&
	       hc_dp_gateway_users(&fz_run.dp, g->id) == n &&
	       hc_dp_gateway_digest(&fz_run.dp, g->id) == digest;
}

/*
 * Convergence by the protocol alone, as libheadcount gateways get it:
 * heartbeats name each gateway's last sequence, gaps are NACKed after the
 * gap timeout and answered from the history (or with a snapshot), RESYNC
 * RESTART is answered with a snapshot, and a gateway whose last sequence
 * is applied but whose user count or digest differs sends a snapshot
 * (anti-entropy).  Only for inputs in which nothing but the model
 * gateways spoke for the model's users (no payload damage that passed, no
 * foreign gateway, no forgery that could pass): then the appliance must
 * come to hold exactly the model, with no restart.
 */
#define FZ_GENTLE_ROUNDS 40
/* with a sweep budget: rounds while the gateways' applied sequences move
 * (each snapshot's end waits for a token: a gateway that sent many needs
 * many budget seconds, which is the budget's point), FZ_GENTLE_ROUNDS
 * without any move, at most this many in all */
#define FZ_BUDGET_ROUNDS 4000
static void converge_gently(void)
{
	flush();
	answer_all();
	int budget = (fz.cfgbits & FZ_CFG_BUDGET) != 0, still = 0;
	uint64_t moved = 0, deferred = sweeps_deferred();
	for (int round = 0; still < FZ_GENTLE_ROUNDS && round < FZ_BUDGET_ROUNDS; round++) {
		int all = 1;
		uint64_t applied = 0;
		for (unsigned i = 0; i < FZ_MODEL_GWS; i++) {
			all &= agrees(&fz.gw[i]);
			applied += hc_dp_gateway_applied(&fz_run.dp, fz.gw[i].id);
		}
		/* a move counts only while the budget defers sweeps (without
		 * it, or once it defers none: FZ_GENTLE_ROUNDS rounds in all) */
		uint64_t d = sweeps_deferred();
		still = budget && applied != moved && d != deferred ? 0 : still + 1;
		moved = applied;
		deferred = d;
		if (all) {
			if (fz_trace > 0)
				fprintf(stderr, "hc-fuzz: converged by the protocol in %d rounds\n", round);
			check_model("after the gateways' heartbeats, NACK answers and snapshots");
			return;
		}
		uint8_t p[FZ_MAX_DGRAM];
		for (unsigned i = 0; i < FZ_MODEL_GWS; i++) {
			struct fz_gw *g = &fz.gw[i];
			if (g->last_seq != 0 || hc_dp_gateway_incarnation(&fz_run.dp, g->id) != 0)
				send_payload(p, build_heartbeat(g, p, g->last_seq, 0, 0), g->id);
		}
		flush();
		/* a round: the gap timeout; with a sweep budget 0.3 s, so that
		 * the rounds give each gateway 12 sweeps beyond its burst (a
		 * snapshot's end over the budget waits, NACKed, for a token:
		 * the model answers, and it is taken once the budget allows) */
		uint64_t step = fz.hz / 1000 * (fz_run.cfg.gap_timeout_ms + 1);
		if ((fz.cfgbits & FZ_CFG_BUDGET) && step < fz.hz * 3 / 10)
			step = fz.hz * 3 / 10;
		fz.now += step;
		for (unsigned w = 0; w < fz_run.n_workers; w++)
			hc_seq_poll(&fz_run.dp.workers[w]->seq, fz.now);
		pump();
		answer_resyncs(FZ_RESYNC_MAX);
		flush();
		answer_all();
		for (unsigned i = 0; i < FZ_MODEL_GWS; i++) {
			struct fz_gw *g = &fz.gw[i];
			if (hc_dp_gateway_applied(&fz_run.dp, g->id) == g->last_seq && !agrees(g))
				send_snapshot(g, FZ_MEMBERS_PER); /* anti-entropy */
		}
		flush();
		answer_all();
	}
	/* (which bound ended it: a livelock that keeps the sequences moving
	 * runs to the round limit, and says so) */
	FZ_FAIL("the gateways' heartbeats, NACK answers and snapshots did not bring the "
		"appliance to their membership (%s%s)",
		still >= FZ_GENTLE_ROUNDS ? "rounds without a move: " RTE_STR(FZ_GENTLE_ROUNDS) :
					    "rounds in all: " RTE_STR(FZ_BUDGET_ROUNDS) ", still moving",
		budget ? ", sweep budget on" : "");
}

/* --------------------------------------------------------- libFuzzer -- */

int hc_fz_tolerate(const char *name)
{
	const char *t = getenv("HC_FUZZ_TOLERATE");
	size_t n = strlen(name);
	for (const char *p = t; p != NULL && *p != '\0'; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (hc_auth_init() != 0 || hc_fz_env_init() != 0)
		exit(1);
	fz_rxr = rte_ring_create("hc_fz_rx", 64, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	fz_txr[0] = rte_ring_create("hc_fz_tx0", 4096, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	fz_txr[1] = rte_ring_create("hc_fz_tx1", 4096, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	int port = fz_rxr && fz_txr[0] && fz_txr[1] ?
		rte_eth_from_rings("hc_fz0", &fz_rxr, 1, fz_txr, 2, rte_socket_id()) : -1;
	if (port < 0) {
		fprintf(stderr, "hc-fuzz: cannot create the net_ring port\n");
		exit(1);
	}
	fz_eth_port = (uint16_t)port;
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (fz_eth_port != 0 || rte_eth_dev_configure(fz_eth_port, 1, 2, &conf) != 0 ||
	    rte_eth_rx_queue_setup(fz_eth_port, 0, 64, rte_socket_id(), NULL, hc_fz_pool) != 0 ||
	    rte_eth_tx_queue_setup(fz_eth_port, 0, 64, rte_socket_id(), NULL) != 0 ||
	    rte_eth_tx_queue_setup(fz_eth_port, 1, 64, rte_socket_id(), NULL) != 0 ||
	    rte_eth_dev_start(fz_eth_port) != 0) {
		fprintf(stderr, "hc-fuzz: cannot start the net_ring port (%u)\n", fz_eth_port);
		exit(1);
	}
	fz_keys = calloc(1, sizeof(*fz_keys));
	if (fz_keys == NULL)
		exit(1);
	for (uint16_t gw = 1; gw < FZ_MAX_GWS + 1; gw++) {
		for (unsigned s = 0; s < HC_AUTH_SLOTS; s++) {
			if (!key_have(gw, s))
				continue;
			key_of(gw, s, fz_keys->gw[gw].key[s]);
			fz_keys->gw[gw].have[s] = 1;
			fz_keys->n_keys++;
		}
		fz_keys->n_gateways += fz_keys->gw[gw].have[0] | fz_keys->gw[gw].have[1];
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	run_begin(data[0]);
	fz.in = data + 1;
	fz.in_len = size - 1;
	fz.in_pos = 0;
	while (fz.in_pos < fz.in_len && !fz_run.tolerated && !fz_run.stopped) {
		run_op(in8());
		if (fz_trace > 0)
			hc_fz_dump();
		if (!fz_run.tolerated)
			hc_fz_check_quiescent();
	}
	if (!fz_run.tolerated && !fz.tainted && !fz_run.stopped)
		converge_gently();
	if (!fz_run.tolerated)
		converge();
	run_end();
	return fz_run.tolerated ? -1 : 0;
}
