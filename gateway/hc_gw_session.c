/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_gw_session.c - one gateway's session with an appliance (headcount.h).
 *
 * Owns the socket, the batches being filled (EVENTS, PLACE), the
 * sequence counter and the history of sent sequenced datagrams (a ring
 * indexed by sequence: what a NACK asks for is resent byte for byte),
 * the queue of datagrams waiting for the socket, pending PLACE requests,
 * snapshots, heartbeats, and the optional test impairment (hc_gw_impair.c),
 * and the session's side of authentication (protocol v2): its key, the
 * control counter its HEARTBEAT and PLACE datagrams carry, and the replay
 * window over the appliance's reply counters.
 *
 * Sequenced datagrams (EVENTS, SNAPSHOT chunks) share one counter; a
 * snapshot is sent after flushing the open EVENTS batch, so it states the
 * membership after every event sent before it, and its chunk 0 is where
 * the appliance may restart this gateway's stream (protocol.md).
 *
 * Every datagram is sealed (hc_auth_seal) once it is complete, before it
 * is queued or kept: the history holds sealed bytes, so a retransmission
 * is the first send byte for byte.  A datagram received is acted on only
 * after, in this order: it came from the appliance's address and port
 * (rx_wrong_source), it is a well-formed A->G datagram for us (rx_bad),
 * its tag is good (rx_bad_auth; not checked with insecure_no_auth), its
 * appliance incarnation is not older than the one we know (rx_stale; a
 * newer one is a restart and starts a new replay window; with
 * fence_appliance, not older than the newest ever heard), and its reply
 * counter is fresh in that window (rx_replayed).
 *
 * The session's state (headcount.h) follows those accepted datagrams:
 * CONNECTING until the first, CONNECTED while they come, LOST after
 * lost_ms without one; with several appliance addresses, a LOST session
 * moves to the next address every lost_ms, and the first answer from
 * there counts as a new appliance (everything is stated again).  One
 * socket serves every address: IPv4 if all are IPv4, else IPv6 with the
 * IPv4 ones mapped.  Callbacks run inside hc_gw_poll (in_poll): a close
 * there is deferred to its end, a nested hc_gw_poll is refused.
 */
#include "headcount.h"
#include "hc_gw_impair.h"
#include "hc_gw_internal.h"
#include "hc_gw_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "hc_auth.h"
#include "hc_proto.h"
#include "hc_proto_hdr.h"

_Static_assert(HC_GW_KEY_LEN == HC_AUTH_KEY_LEN, "headcount.h and hc_auth.h agree on keys");

#define DGRAM_MAX HC_MAX_PAYLOAD_MTU1500
#define EVENTS_PER ((DGRAM_MAX - sizeof(struct hc_hdr)) / sizeof(struct hc_event))
#define PLACES_PER ((DGRAM_MAX - sizeof(struct hc_hdr)) / sizeof(struct hc_place))
#define MEMBERS_PER ((DGRAM_MAX - sizeof(struct hc_hdr) - sizeof(struct hc_snapshot_prefix)) / \
		     sizeof(struct hc_member))
#define PENDING_PLACES 65536u   /* power of 2 */
#define TXQ 64                  /* unsequenced datagrams waiting (PLACE, HEARTBEAT) */
#define APPL_PAST 16            /* appliance incarnations replaced: windows kept */
#define RX_BURST 32
/* Bursts read at most in one poll: then the timers run (heartbeats,
 * resends, the batch) whatever still waits.  A flood of datagrams (from
 * any source: a wrong one's are read to be dropped) kept a poll reading
 * for as long as it lasted, so nothing was sent, and after 3 s the
 * appliance declared the gateway dead and dropped its users.  What is
 * left keeps the socket readable: the next poll (or an event loop's
 * wait) comes back at once. */
#define RX_BURSTS_PER_POLL 8
/* the config of API 4, the first sized one: the shortest accepted */
#define CONFIG_V4_SIZE (offsetof(struct hc_gw_config, arg) + sizeof(void *))

struct hist {                   /* one sent sequenced datagram */
	uint32_t seq;           /* 0: empty */
	uint16_t len;
	uint8_t data[DGRAM_MAX];
};

struct pending_place {
	uint64_t user;
	uint64_t deadline_us;
	uint32_t id;            /* 0: free */
	uint16_t pool;
	uint16_t tries;
};

struct dgram {
	uint16_t len;
	uint8_t data[DGRAM_MAX];
};

struct appliance_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	char text[128];                 /* as configured */
	/* what the session knew of it when it moved to another address (the
	 * current one's are in struct hc_gw): a return to it resumes its
	 * replay window, so nothing recorded from it is acted on twice */
	uint32_t incarnation;
	uint64_t heard_us;
	struct hc_replay replay;
};

struct hc_gw {
	struct hc_gw_config cfg;
	int fd;
	struct appliance_addr appl[HC_GW_MAX_APPLIANCES];
	unsigned n_appl, cur;           /* the one talked to: appl[cur] */
	uint64_t talk_since_us;         /* since when (open, or a switch) */
	int switched;                   /* its first answer is a new appliance */
	const struct sockaddr *to;      /* &appl[cur].sa */
	socklen_t to_len;
	uint32_t incarnation;
	uint32_t appl_incarnation;      /* last heard, 0: none */
	uint32_t appl_newest;           /* the newest ever accepted (from any
	                                   address), 0: none: the fence
	                                   (cfg.fence_appliance)            */
	uint64_t appl_heard_us;         /* when a datagram of it was accepted,
	                                   0: none from appl[cur] yet      */
	struct appl_past {              /* incarnations replaced by another
	                                   (from any address; inc 0: none) */
		uint32_t inc;           /* and the replay window it had then:
		                           taken again only above it       */
		struct hc_replay replay;
	} appl_past[APPL_PAST];
	unsigned appl_past_next;        /* the oldest entry, next replaced */
	uint32_t seq;                   /* last sequence used */
	struct hc_gw_table users;

	/* batches being filled */
	uint8_t ev[DGRAM_MAX];
	uint16_t n_ev;
	uint64_t ev_since_us;
	uint8_t pl[DGRAM_MAX];
	uint16_t n_pl;
	uint64_t pl_since_us;

	/* sent sequenced datagrams, by sequence */
	struct hist *hist;
	uint32_t hist_mask;
	/* sequences waiting for the socket (first sends and resends), FIFO */
	uint32_t *sq;
	uint32_t sq_head, sq_tail, sq_mask;
	/* unsequenced datagrams waiting for the socket */
	struct dgram txq[TXQ];
	unsigned txq_n;

	struct pending_place *pp;       /* [PENDING_PLACES] */
	uint32_t next_request;
	uint32_t n_pending;
	uint64_t next_place_scan_us;

	uint64_t next_hb_us;
	uint32_t snapshot_last_seq;     /* last chunk of the newest snapshot */
	uint64_t snapshot_sent_us;
	int snapshot_owed;              /* a snapshot (a new appliance
	                                   incarnation's, or asked for) waits
	                                   for the newest one to settle
	                                   (want_snapshot_or_owe) */
	uint32_t snapshot_id;
	uint64_t digest;                /* of our membership (hc_member_digest) */
	uint32_t digest_mismatches;     /* consecutive settled heartbeats that
	                                   disagreed with us */
	uint64_t digest_snapshot_us;    /* last snapshot it caused */

	struct hc_gw_impair *impair;    /* NULL: off */
	int sends_blocked;              /* hc_gw_block_sends (tests)     */

	/* authentication (protocol v2) */
	int keyed;                      /* 0: insecure_no_auth */
	struct hc_auth_gw_keys keys;    /* our key, in slot cfg.key_slot only:
	                                   the appliance answers in our slot */
	uint32_t ctl;                   /* control counter: the last one sent
	                                   (HEARTBEAT, PLACE); 0: none yet */
	struct hc_replay replay;        /* the appliance's reply counters, for
	                                   its incarnation appl_incarnation */
	int state;                      /* enum hc_gw_state */
	int in_poll;                    /* inside hc_gw_poll: callbacks run */
	int rx_more;                    /* the last poll stopped reading at
	                                   RX_BURSTS_PER_POLL with datagrams
	                                   maybe left: hc_gw_timeout_ms says
	                                   0 (an edge-triggered loop is not
	                                   woken for them again)         */
	int closing;                    /* 1 + clean: closed from a callback */
	int in_foreach;                 /* inside hc_gw_foreach             */
	uint32_t settling_run;          /* settled heartbeats in a row that
	                                   said SETTLING                    */

	struct hc_gw_stats st;
};

uint64_t hc_gw_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A new session's stamp: the wall clock in us (comparable across the
 * gateways' hosts, NTP-disciplined), and above this process's last one,
 * so that a user who leaves and comes back here has a newer session even
 * if the clock stepped back. */
static uint64_t new_session(void)
{
	static uint64_t last;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	uint64_t prev = __atomic_load_n(&last, __ATOMIC_RELAXED);
	do {
		if (us <= prev)
			us = prev + 1;
	} while (!__atomic_compare_exchange_n(&last, &prev, us, 0, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return us;
}

void hc_gw_config_init_sized(struct hc_gw_config *cfg, size_t size)
{
	struct hc_gw_config d = {.size = size, .flush_us = 1000, .heartbeat_ms = 100,
		.place_timeout_ms = 250, .place_retries = 8, .history = 16384, .lost_ms = 1000};
	/* a caller built against an older header has a shorter struct: fill
	 * what it has (a newer one's extra fields stay zero: unset) */
	memset(cfg, 0, size);
	memcpy(cfg, &d, size < sizeof(d) ? size : sizeof(d));
}

const char *hc_gw_version(void)
{
	return HC_GW_LIB_VERSION;
}

int hc_gw_api_version(void)
{
	return HC_GW_API_VERSION;
}

/* -------------------------------------------------------------- state -- */

const char *hc_gw_state_name(int state)
{
	static const char *const names[] = {"connecting", "connected", "lost", "id_conflict"};
	return state >= 0 && state < 4 ? names[state] : "?";
}

const char *hc_gw_reason_name(int reason)
{
	static const char *const names[] = {"?", "heard", "silent", "restarted", "id_conflict",
					    "conflict_over", "switched"};
	return reason >= 1 && reason < 7 ? names[reason] : "?";
}

static void set_state(struct hc_gw *g, int state, int reason)
{
	int previous = g->state;
	g->state = state;
	if (g->cfg.on_state == NULL || g->closing)
		return;
	struct hc_gw_state_change c = {.state = state, .previous = previous, .reason = reason,
		.appliance_index = g->cur, .appliance = g->appl[g->cur].text,
		.appliance_incarnation = g->appl_incarnation};
	g->cfg.on_state(g->cfg.arg, &c);
}

/* ------------------------------------------------------------ sending -- */

/* Seal a complete datagram in place (nothing without a key). */
static void seal(const struct hc_gw *g, uint8_t *p, size_t len)
{
	if (g->keyed)
		hc_auth_seal(p, len, g->keys.key[g->cfg.key_slot], g->cfg.key_slot);
}

/* The control counter of the next HEARTBEAT or PLACE datagram: 1, 2, ...
 * in every incarnation (each session is one), never 0. */
static uint32_t next_ctl(struct hc_gw *g)
{
	if (++g->ctl == 0)
		g->ctl = 1;
	return g->ctl;
}

/* Hand one datagram to the kernel (or to the impairment delay). */
static int wire_send(struct hc_gw *g, const uint8_t *p, uint16_t len)
{
	if (g->sends_blocked)
		return -1; /* (as a full socket) */
	if (g->impair != NULL && hc_gw_impair_hold(g->impair, HC_GW_IMPAIR_TX, p, len, hc_gw_now_us()))
		return 0;
	ssize_t r = sendto(g->fd, p, len, MSG_DONTWAIT, g->to, g->to_len);
	if (r == (ssize_t)len)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		return -1; /* try again later */
	g->st.send_errors++;
	return 0; /* e.g. ECONNREFUSED: the appliance is away; NACKs repair */
}

/* The history's datagram for the sequence queued at position q, or NULL
 * when a newer datagram took its slot while it waited (a NACK's resend
 * of the history's oldest, queued behind a full socket): the appliance
 * asks again, and that NACK gets a snapshot. */
static const struct hist *queued_hist(const struct hc_gw *g, uint32_t q)
{
	uint32_t seq = g->sq[q & g->sq_mask];
	const struct hist *h = &g->hist[seq & g->hist_mask];
	return h->seq == seq ? h : NULL;
}

/* Send what waits: unsequenced first, then sequences, in batches of
 * sendmmsg. */
static void pump(struct hc_gw *g)
{
	struct mmsghdr mh[64];
	struct iovec iov[64];

	while (g->txq_n > 0) {
		if (wire_send(g, g->txq[0].data, g->txq[0].len) != 0)
			return;
		memmove(&g->txq[0], &g->txq[1], sizeof(g->txq[0]) * (g->txq_n - 1));
		g->txq_n--;
	}
	while (g->sq_head != g->sq_tail) {
		const struct hist *h = queued_hist(g, g->sq_head);
		if (h == NULL) {
			g->st.send_skipped++;
			g->sq_head++;
			continue;
		}
		if (g->impair != NULL || g->sends_blocked) {
			if (wire_send(g, h->data, h->len) != 0)
				return;
			g->sq_head++;
			continue;
		}
		unsigned n = 0;
		for (uint32_t q = g->sq_head; q != g->sq_tail && n < 64; q++, n++) {
			if ((h = queued_hist(g, q)) == NULL)
				break; /* (skipped when it is the first) */
			iov[n] = (struct iovec){.iov_base = (void *)h->data, .iov_len = h->len};
			memset(&mh[n], 0, sizeof(mh[n]));
			mh[n].msg_hdr.msg_name = (void *)g->to;
			mh[n].msg_hdr.msg_namelen = g->to_len;
			mh[n].msg_hdr.msg_iov = &iov[n];
			mh[n].msg_hdr.msg_iovlen = 1;
		}
		int r = sendmmsg(g->fd, mh, n, MSG_DONTWAIT);
		if (r <= 0) {
			if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
				g->st.send_errors++;
				g->sq_head++; /* skip it: a NACK will ask again */
				continue;
			}
			return;
		}
		g->sq_head += (uint32_t)r;
	}
}

static void queue_seq(struct hc_gw *g, uint32_t seq)
{
	if (g->sq_tail - g->sq_head > g->sq_mask) {
		/* more waiting than the history holds: the oldest are moot
		 * (out of the history too: a NACK of them gets a snapshot) */
		g->st.send_skipped += g->sq_tail - g->sq_mask - g->sq_head;
		g->sq_head = g->sq_tail - g->sq_mask;
	}
	g->sq[g->sq_tail++ & g->sq_mask] = seq;
}

static void queue_unsequenced(struct hc_gw *g, const uint8_t *p, uint16_t len)
{
	if (g->txq_n == TXQ)
		pump(g);
	if (g->txq_n == TXQ) {
		/* the socket takes nothing: drop the oldest (heartbeats and
		 * PLACEs are repeated by their timers) */
		memmove(&g->txq[0], &g->txq[1], sizeof(g->txq[0]) * (TXQ - 1));
		g->txq_n--;
		g->st.send_skipped++;
	}
	g->txq[g->txq_n].len = len;
	memcpy(g->txq[g->txq_n].data, p, len);
	g->txq_n++;
}

/* Give a sequenced datagram its number, keep it in the history, send. */
static uint32_t send_sequenced(struct hc_gw *g, const uint8_t *p, uint16_t len, uint8_t type,
			       uint16_t count)
{
	uint32_t seq = ++g->seq;
	if (seq == 0)
		seq = ++g->seq; /* 0 is never a sequence */
	struct hist *h = &g->hist[seq & g->hist_mask];
	memcpy(h->data, p, len);
	hc_proto_fill_hdr(h->data, type, g->cfg.gateway_id, count, g->incarnation,
			  g->appl_incarnation, seq);
	seal(g, h->data, len); /* the history keeps what goes on the wire */
	h->len = len;
	h->seq = seq;
	queue_seq(g, seq);
	return seq;
}

static void flush_events(struct hc_gw *g)
{
	if (g->n_ev == 0)
		return;
	send_sequenced(g, g->ev, (uint16_t)(sizeof(struct hc_hdr) + g->n_ev * sizeof(struct hc_event)),
		       HC_MSG_EVENTS, g->n_ev);
	g->st.event_datagrams++;
	g->n_ev = 0;
}

static void flush_places(struct hc_gw *g)
{
	if (g->n_pl == 0)
		return;
	uint16_t len = (uint16_t)(sizeof(struct hc_hdr) + g->n_pl * sizeof(struct hc_place));
	hc_proto_fill_hdr(g->pl, HC_MSG_PLACE, g->cfg.gateway_id, g->n_pl, g->incarnation,
			  g->appl_incarnation, next_ctl(g));
	seal(g, g->pl, len);
	queue_unsequenced(g, g->pl, len);
	g->n_pl = 0;
}

void hc_gw_flush(struct hc_gw *g)
{
	flush_events(g);
	flush_places(g);
	pump(g);
}

static int add_event(struct hc_gw *g, uint64_t user, uint32_t room, uint16_t pool, uint8_t op,
		     uint64_t session)
{
	if (g->n_ev == EVENTS_PER)
		flush_events(g);
	if (g->n_ev == 0)
		g->ev_since_us = hc_gw_now_us();
	struct hc_event ev = {.user_id = htobe64(user), .room_id = htonl(room), .op = op,
			      .pool_id = htons(pool), .session = htobe64(session)};
	memcpy(g->ev + sizeof(struct hc_hdr) + g->n_ev * sizeof(ev), &ev, sizeof(ev));
	g->n_ev++;
	if (g->n_ev == EVENTS_PER) {
		flush_events(g);
		pump(g);
	}
	return 0;
}

/* ---------------------------------------------------------- snapshot -- */

/* The history must hold a whole snapshot and what follows it, or a
 * NACK inside the snapshot could only be answered by another snapshot:
 * grow it (re-indexed by sequence) when the membership outgrows it. */
static int grow_history(struct hc_gw *g, uint32_t need)
{
	uint32_t size = g->hist_mask + 1;
	if (need <= size)
		return 0;
	while (size < need)
		size <<= 1;
	struct hist *h = calloc(size, sizeof(*h));
	uint32_t *sq = calloc(size, sizeof(*sq));
	if (h == NULL || sq == NULL) {
		free(h);
		free(sq);
		return -1;
	}
	for (uint32_t i = 0; i <= g->hist_mask; i++)
		if (g->hist[i].seq != 0)
			h[g->hist[i].seq & (size - 1)] = g->hist[i];
	uint32_t n = 0;
	for (uint32_t q = g->sq_head; q != g->sq_tail; q++)
		sq[n++] = g->sq[q & g->sq_mask];
	free(g->hist);
	free(g->sq);
	g->hist = h;
	g->sq = sq;
	g->hist_mask = g->sq_mask = size - 1;
	g->sq_head = 0;
	g->sq_tail = n;
	return 0;
}

/* State the whole membership, after everything sent so far. */
static void send_snapshot(struct hc_gw *g)
{
	flush_events(g);
	uint64_t total = g->users.n;
	uint32_t chunks = total == 0 ? 1 : (uint32_t)((total + MEMBERS_PER - 1) / MEMBERS_PER);
	if (grow_history(g, 2 * chunks + 1024) != 0)
		g->st.history_grow_failed++; /* NACKs inside it may cost snapshots */
	uint8_t buf[DGRAM_MAX];
	const size_t base = sizeof(struct hc_hdr) + sizeof(struct hc_snapshot_prefix);
	uint32_t id = ++g->snapshot_id, index = 0;
	uint16_t n = 0;
	struct hc_snapshot_prefix pf = {.snapshot_id = htonl(id), .chunk_count = htonl(chunks),
					.total_users = htonl((uint32_t)total)};

	for (uint64_t i = 0; i <= g->users.mask || (n > 0 || index == 0); i++) {
		int end = i > g->users.mask;
		if (!end && g->users.e[i].room != 0) {
			const struct hc_gw_entry *e = &g->users.e[i];
			struct hc_member mb = {.user_id = htobe64(e->user), .room_id = htonl(e->room),
					       .pool_id = htons(e->pool),
					       .session = htobe64(e->session)};
			memcpy(buf + base + n * sizeof(mb), &mb, sizeof(mb));
			n++;
		}
		if (n == MEMBERS_PER || end) {
			pf.chunk_index = htonl(index);
			memcpy(buf + sizeof(struct hc_hdr), &pf, sizeof(pf));
			g->snapshot_last_seq = send_sequenced(g, buf,
				(uint16_t)(base + n * sizeof(struct hc_member)), HC_MSG_SNAPSHOT, n);
			index++;
			n = 0;
			if ((index & 63) == 0)
				pump(g);
			if (end)
				break;
		}
	}
	g->snapshot_sent_us = hc_gw_now_us();
	g->snapshot_owed = 0;
	g->st.snapshots++;
	g->st.snapshot_members += total;
	pump(g);
}

/* A snapshot is asked for: send one unless the newest is still on its
 * way (sent recently and not yet acknowledged).  An acknowledgement of 0
 * is none (an appliance that restarted says 0 until it takes the
 * snapshot): in serial order 0 would come after a last chunk past 2^31,
 * and every request meanwhile would send the whole membership again. */
/* How long a snapshot is young: 200 ms + 2 heartbeat periods. */
static uint64_t snapshot_young_us(const struct hc_gw *g)
{
	return 1000u * (200u + 2u * (uint64_t)g->cfg.heartbeat_ms);
}

static int snapshot_in_flight(const struct hc_gw *g, uint64_t now)
{
	return g->snapshot_sent_us != 0 &&
		(g->st.acked == 0 || hc_seq_after(g->snapshot_last_seq, g->st.acked)) &&
		now - g->snapshot_sent_us < snapshot_young_us(g);
}

static void want_snapshot(struct hc_gw *g)
{
	if (!snapshot_in_flight(g, hc_gw_now_us()))
		send_snapshot(g);
}

/* A snapshot that must follow the newest even while it is on its way:
 * a new appliance incarnation's (or the first answer's after a move to
 * another address), and one the appliance asks for (RESYNC other than
 * GAP: it abandoned the one it was taking).  Not a second time while the
 * newest is unacknowledged and young (in_flight): without keys anyone can
 * name a new incarnation, or ask, in every datagram, and each would cost
 * the whole membership.  A new incarnation's acknowledgement is judged as
 * it was before the incarnation changed; a snapshot not sent now is owed
 * (one at most), and run_timers sends it once the newest settles
 * (acknowledged, or old). */
static void want_snapshot_or_owe(struct hc_gw *g, int in_flight)
{
	if (in_flight)
		g->snapshot_owed = 1;
	else
		send_snapshot(g);
}

/* ------------------------------------------------------------ receive -- */

/* The appliance says it applied our sequences up to acked (not 0: none
 * yet), past the last we numbered: its next for us is ahead of ours (a
 * datagram forged in our name, with a key or without one; or an earlier
 * process of ours with this incarnation numbered further), and everything
 * we send below it is a duplicate there, for good (review finding: a
 * gateway cut off).  We number on from there and state everything again.
 * A snapshot on its way is judged as before the acknowledgement (one more
 * owed, however many such heartbeats come).  What was acknowledged is
 * none (0) from here until the appliance acknowledges in the new
 * numbering: kept at the old one, up to 2^31 behind, the new snapshot's
 * last chunk could read as acknowledged already, and sent at once again
 * by the next such heartbeat; taken as acked, every forged one would
 * settle the snapshot before it (one each). */
static void ack_ahead(struct hc_gw *g, uint32_t acked, uint64_t now)
{
	int in_flight = snapshot_in_flight(g, now);
	g->st.acks_ahead++;
	g->st.acked = 0;
	g->seq = acked;
	want_snapshot_or_owe(g, in_flight);
}

static void on_resync(struct hc_gw *g, const struct hc_resync *r)
{
	uint32_t reason = ntohl(r->reason);
	if (reason != HC_RESYNC_GAP) {
		/* the appliance asks for the whole membership (it abandoned a
		 * snapshot it was taking, or does not know us): asked while
		 * our newest is on its way, owed, not dropped (an abandoned
		 * one is asked for again at once, while its last chunks still
		 * arrive: dropped, the loss showed only when three heartbeats'
		 * digests disagreed) */
		g->st.resync_requests++;
		want_snapshot_or_owe(g, snapshot_in_flight(g, hc_gw_now_us()));
		return;
	}
	g->st.nacks++;
	uint32_t first = ntohl(r->first_sequence), last = ntohl(r->last_sequence);
	if (hc_seq_after(first, last) || hc_seq_after(last, g->seq) ||
	    (uint32_t)(last - first) > g->hist_mask) {
		want_snapshot(g); /* not a range we can resend */
		return;
	}
	for (uint32_t q = first;; q++) {
		if (q == 0 || g->hist[q & g->hist_mask].seq != q) {
			/* gone from the history (0 is never sent: an empty
			 * history slot reads as it) */
			want_snapshot(g);
			return;
		}
		if (q == last)
			break;
	}
	for (uint32_t q = first;; q++) {
		queue_seq(g, q);
		g->st.retransmits++;
		if (q == last)
			break;
	}
}

static void on_assign(struct hc_gw *g, const struct hc_assign *a)
{
	struct hc_gw_assign x = {.user_id = be64toh(a->user_id), .request_id = ntohl(a->request_id),
		.room_id = ntohl(a->room_id), .refused_room = ntohl(a->refused_room),
		.pool_id = ntohs(a->pool_id), .status = a->status};
	g->st.assigns++;
	if ((x.status == HC_ASSIGN_NEW_TOPIC || x.status == HC_ASSIGN_PLACED) &&
	    (x.room_id == 0 || x.room_id > g->cfg.max_room)) {
		/* a room to go to (a NEW_TOPIC's) or to join (a PLACED
		 * one's) that is none (never sent), or beyond max_room (the
		 * appliance's --max-rooms larger than configured here: the
		 * JOIN would be refused).  A PLACE stays pending: sent again,
		 * and answered HC_ASSIGN_TIMEOUT at its end */
		g->st.rx_bad++;
		return;
	}
	if (x.status == HC_ASSIGN_NEW_TOPIC) {
		/* our JOIN was refused: the user is where they were at the
		 * appliance; move them to the offered room */
		g->st.new_topics++;
		struct hc_gw_entry *e = hc_gw_table_find(&g->users, x.user_id);
		if (e == NULL || e->room != x.refused_room)
			return; /* the user moved on meanwhile */
		hc_gw_join(g, x.user_id, x.room_id, x.pool_id);
	} else if (x.request_id == 0 && x.refused_room != 0) {
		/* our JOIN was refused and there is nowhere to go (NO_ROOM,
		 * FULL), or the user has a newer session through another
		 * gateway (SUPERSEDED): the appliance holds the user in no room
		 * of ours, so neither do we (no LEAVE: it never counted them).
		 * Another status here is never sent */
		if (x.status != HC_ASSIGN_NO_ROOM && x.status != HC_ASSIGN_FULL &&
		    x.status != HC_ASSIGN_SUPERSEDED) {
			g->st.rx_bad++;
			return;
		}
		struct hc_gw_entry *e = hc_gw_table_find(&g->users, x.user_id);
		if (e == NULL || e->room != x.refused_room)
			return; /* the user moved on meanwhile */
		hc_gw_table_del(&g->users, x.user_id);
		g->digest -= hc_member_digest(x.user_id, x.refused_room);
		if (x.status == HC_ASSIGN_SUPERSEDED)
			g->st.superseded++;
		else
			g->st.refusals++;
	} else {
		struct pending_place *p = &g->pp[x.request_id & (PENDING_PLACES - 1)];
		if (p->id != x.request_id || p->id == 0 || p->user != x.user_id)
			return; /* a duplicate, answered already, or meant for an
			           earlier session that used this request id */
		p->id = 0;
		g->n_pending--;
	}
	if (g->cfg.on_assign != NULL)
		g->cfg.on_assign(g->cfg.arg, &x);
}

static void on_move(struct hc_gw *g, const struct hc_move *m)
{
	struct hc_gw_move x = {.user_id = be64toh(m->user_id), .from_room = ntohl(m->from_room),
		.to_room = ntohl(m->to_room), .directive_id = ntohl(m->directive_id),
		.pool_id = ntohs(m->pool_id), .attempt = ntohs(m->attempt)};
	struct hc_gw_entry *e = hc_gw_table_find(&g->users, x.user_id);
	if (e == NULL || e->room != x.from_room || x.to_room == 0 || x.to_room > g->cfg.max_room) {
		g->st.moves_ignored++; /* (to room 0: never sent; beyond max_room, as above) */
		return;
	}
	g->st.moves++;
	if (g->cfg.on_move != NULL)
		g->cfg.on_move(g->cfg.arg, &x);
	else /* in the user's own pool: a MOVE never crosses pools, and the
	        room's pool the appliance names is its first pool's for a
	        pool it does not know (a shard set would hold the user under
	        a pool homed on another appliance) */
		hc_gw_join(g, x.user_id, x.to_room, e->pool);
}

/* Heartbeats saying SETTLING (ours being decided) waited out before the
 * digest is judged anyway. */
#define SETTLING_PATIENCE 10

/*
 * Anti-entropy: when the appliance has applied everything we sent, its
 * users and digest for us must equal ours.  Settled: everything we sent is
 * acknowledged and no seat request of ours is being decided there (no
 * SETTLING flag).  Three settled heartbeats in a row that disagree mean
 * something was lost that no sequence number shows (an answer to us, a
 * refused JOIN): state everything again, at most once a second.
 */
static void check_digest(struct hc_gw *g, uint32_t acked, uint32_t users, uint64_t digest,
			 uint32_t hb_flags)
{
	if (acked != g->seq || g->n_ev != 0) {
		g->digest_mismatches = 0; /* not settled: nothing to judge */
		g->settling_run = 0;
		return;
	}
	/* our requests being decided: wait, but not for ever (a gateway
	 * under steady load may always have one in flight): judge anyway
	 * after SETTLING_PATIENCE such heartbeats in a row */
	if ((hb_flags & HC_HB_F_SETTLING) && ++g->settling_run < SETTLING_PATIENCE) {
		g->digest_mismatches = 0;
		return;
	}
	if (!(hb_flags & HC_HB_F_SETTLING))
		g->settling_run = 0;
	if (users == (uint32_t)g->users.n && digest == g->digest) {
		g->digest_mismatches = 0;
		return;
	}
	g->st.digest_mismatches++;
	uint64_t now = hc_gw_now_us();
	if (++g->digest_mismatches >= 3 && now - g->digest_snapshot_us >= 1000000u) {
		g->digest_mismatches = 0;
		g->digest_snapshot_us = now;
		g->st.digest_snapshots++;
		send_snapshot(g);
	}
}

/* The appliance's heartbeat says whether another source uses our id. */
static void on_heartbeat_flags(struct hc_gw *g, uint32_t hb_flags)
{
	if (hb_flags & HC_HB_F_ID_CONFLICT) {
		g->st.id_conflicts++;
		if (g->state != HC_GW_STATE_ID_CONFLICT)
			set_state(g, HC_GW_STATE_ID_CONFLICT, HC_GW_REASON_ID_CONFLICT);
	} else if (g->state == HC_GW_STATE_ID_CONFLICT) {
		set_state(g, HC_GW_STATE_CONNECTED, HC_GW_REASON_CONFLICT_OVER);
	}
}

/* The replay window a newer incarnation appl starts from: the one it had
 * when another replaced it, else an empty one (the session never took it,
 * or forgot it: 16 replacements on). */
static struct hc_replay appl_past_window(const struct hc_gw *g, uint32_t appl)
{
	struct hc_replay w;
	hc_replay_reset(&w);
	for (unsigned i = 0; i < APPL_PAST; i++)
		if (g->appl_past[i].inc == appl)
			w = g->appl_past[i].replay;
	return w;
}

/* Incarnation inc, with its window, is replaced by another: kept (in
 * its own entry if it has one, else the oldest's). */
static void appl_past_keep(struct hc_gw *g, uint32_t inc, const struct hc_replay *w)
{
	for (unsigned i = 0; i < APPL_PAST; i++)
		if (g->appl_past[i].inc == inc) {
			g->appl_past[i].replay = *w;
			return;
		}
	g->appl_past[g->appl_past_next] = (struct appl_past){.inc = inc, .replay = *w};
	g->appl_past_next = (g->appl_past_next + 1) % APPL_PAST;
}

/* A datagram from the appliance's address and port (checked by the
 * caller): the other checks, in order (see the top of this file), then
 * act on it.  p is writable: the tag check zeroes the tag field while it
 * computes, and restores it. */
static void handle(struct hc_gw *g, uint8_t *p, size_t len)
{
	struct hc_hdr h;
	if (len < sizeof(h)) {
		g->st.rx_bad++;
		return;
	}
	memcpy(&h, p, sizeof(h));
	uint16_t count = ntohs(h.record_count);
	size_t rec = h.type == HC_MSG_ASSIGN ? sizeof(struct hc_assign) :
		     h.type == HC_MSG_MOVE ? sizeof(struct hc_move) :
		     h.type == HC_MSG_HEARTBEAT ? sizeof(struct hc_heartbeat) :
		     h.type == HC_MSG_RESYNC ? sizeof(struct hc_resync) : 0;
	uint32_t appl = ntohl(h.appliance_incarnation);
	/* A2G: sent by an appliance (under the tag: our own datagrams
	 * reflected back are not); addressed to this incarnation of ours */
	if (ntohl(h.magic) != HC_PROTO_MAGIC || h.version != HC_PROTO_VERSION || rec == 0 ||
	    (ntohs(h.flags) & ~HC_HDR_F_KNOWN) != 0 || !(ntohs(h.flags) & HC_HDR_F_A2G) ||
	    appl == 0 || ntohs(h.gateway_id) != g->cfg.gateway_id ||
	    len != sizeof(h) + count * rec ||
	    ((h.type == HC_MSG_HEARTBEAT || h.type == HC_MSG_RESYNC) && count != 1)) {
		g->st.rx_bad++;
		return;
	}
	if (ntohl(h.gateway_incarnation) != g->incarnation) {
		g->st.rx_bad++; /* meant for an earlier incarnation of ours */
		return;
	}
	if (g->keyed && hc_auth_verify(p, len, &g->keys) < 0) {
		g->st.rx_bad_auth++;
		return;
	}
	/* the appliance's incarnation: an older one is dropped; a newer one
	 * (or the first) starts a new window of reply counters.  "Older"
	 * after the current one has been silent for 3 s is a restart too
	 * (its clock stepped back or its number wrapped): an appliance sends
	 * heartbeats every 100 ms, so a replay of an old incarnation cannot
	 * outshout a live one.  One the session took before and saw replaced
	 * starts from the window it had then (appl_past_window), not an empty
	 * one: a recording of it, replayed once the current one is silent,
	 * is old (rx_replayed), or it would obey its MOVEs a second time and
	 * keep the session CONNECTED to an appliance that is gone; what it
	 * sends anew is taken as before. */
	uint32_t known = g->appl_incarnation, ctr = ntohl(h.sequence);
	uint64_t now = hc_gw_now_us();
	/* fenced (an HA pair): older than the newest ever heard is never
	 * taken, however long the newest is silent */
	int fenced = g->cfg.fence_appliance && g->appl_newest != 0 &&
		     hc_seq_after(g->appl_newest, appl);
	int newer = !fenced && (known == 0 || hc_seq_after(appl, known) ||
				(appl != known && now - g->appl_heard_us > 3000000u));
	if (fenced || (!newer && appl != known)) {
		g->st.rx_stale++;
		if (h.type == HC_MSG_ASSIGN || h.type == HC_MSG_MOVE)
			g->st.stale_directives += count;
		return;
	}
	const struct hc_replay win = newer ? appl_past_window(g, appl) : g->replay;
	if (!hc_replay_fresh(&win, ctr)) {
		g->st.rx_replayed++;
		return;
	}
	/* a new incarnation: the appliance restarted and lost everything,
	 * or (just after a move to this address) an appliance never heard
	 * from answers.  Either way, and on any first answer after a move,
	 * state everything again: this one may hold nothing, or an old
	 * view, of us */
	int restarted = newer && (known != 0 || g->switched);
	if (newer) {
		if (known != 0)
			appl_past_keep(g, known, &g->replay);
		g->replay = win;
		g->appl_incarnation = appl;
		if (g->appl_newest == 0 || hc_seq_after(appl, g->appl_newest))
			g->appl_newest = appl;
	}
	if (restarted)
		g->st.appliance_restarts++;
	if (restarted || g->switched) {
		int in_flight = snapshot_in_flight(g, now);
		g->st.acked = 0;
		want_snapshot_or_owe(g, in_flight);
	}
	g->switched = 0;
	hc_replay_commit(&g->replay, ctr);
	g->appl_heard_us = now;
	if (restarted)
		set_state(g, HC_GW_STATE_CONNECTED, HC_GW_REASON_RESTARTED);
	else if (g->state == HC_GW_STATE_CONNECTING || g->state == HC_GW_STATE_LOST)
		set_state(g, HC_GW_STATE_CONNECTED, HC_GW_REASON_HEARD);
	const uint8_t *r = p + sizeof(h);
	for (uint16_t i = 0; i < count && !g->closing; i++, r += rec) {
		switch (h.type) {
		case HC_MSG_ASSIGN: {
			struct hc_assign a;
			memcpy(&a, r, sizeof(a));
			on_assign(g, &a);
			break;
		}
		case HC_MSG_MOVE: {
			struct hc_move m;
			memcpy(&m, r, sizeof(m));
			on_move(g, &m);
			break;
		}
		case HC_MSG_HEARTBEAT: {
			struct hc_heartbeat hb;
			memcpy(&hb, r, sizeof(hb));
			g->st.heartbeats_received++;
			uint32_t acked = ntohl(hb.last_sequence);
			if (acked != 0 && hc_seq_after(acked, g->seq))
				ack_ahead(g, acked, now); /* (0: nothing applied yet) */
			else
				g->st.acked = acked;
			g->st.appliance_users = ntohl(hb.user_count);
			g->st.appliance_digest = be64toh(hb.digest);
			if (ntohl(hb.hb_flags) & HC_HB_F_RESYNC_NEEDED)
				want_snapshot(g);
			on_heartbeat_flags(g, ntohl(hb.hb_flags));
			check_digest(g, acked, ntohl(hb.user_count), be64toh(hb.digest),
				     ntohl(hb.hb_flags));
			break;
		}
		default: {
			struct hc_resync rs;
			memcpy(&rs, r, sizeof(rs));
			on_resync(g, &rs);
			break;
		}
		}
	}
}

/* -------------------------------------------------------------- timers -- */

static void send_heartbeat(struct hc_gw *g, uint32_t flags)
{
	uint8_t buf[sizeof(struct hc_hdr) + sizeof(struct hc_heartbeat)];
	struct hc_heartbeat hb = {.last_sequence = htonl(g->seq),
		.user_count = htonl((uint32_t)g->users.n),
		.interval_ms = htonl(g->cfg.heartbeat_ms), .hb_flags = htonl(flags),
		.digest = htobe64(g->digest)};
	hc_proto_fill_hdr(buf, HC_MSG_HEARTBEAT, g->cfg.gateway_id, 1, g->incarnation,
			  g->appl_incarnation, next_ctl(g));
	memcpy(buf + sizeof(struct hc_hdr), &hb, sizeof(hb));
	seal(g, buf, sizeof(buf));
	queue_unsequenced(g, buf, sizeof(buf));
	g->st.heartbeats_sent++;
}

static void place_record(struct hc_gw *g, const struct pending_place *p)
{
	if (g->n_pl == PLACES_PER)
		flush_places(g);
	if (g->n_pl == 0)
		g->pl_since_us = hc_gw_now_us();
	struct hc_place pl = {.user_id = htobe64(p->user), .request_id = htonl(p->id),
			      .pool_id = htons(p->pool)};
	memcpy(g->pl + sizeof(struct hc_hdr) + g->n_pl * sizeof(pl), &pl, sizeof(pl));
	g->n_pl++;
}

/* Talk to appl[next] from now on: keep what we know of the current one
 * (incarnation, replay window), resume what we knew of the next. */
static void switch_appliance(struct hc_gw *g, unsigned next, uint64_t now)
{
	struct appliance_addr *was = &g->appl[g->cur], *to = &g->appl[next];
	was->incarnation = g->appl_incarnation;
	was->heard_us = g->appl_heard_us;
	was->replay = g->replay;
	g->cur = next;
	g->to = (const struct sockaddr *)&to->sa;
	g->to_len = to->len;
	g->appl_incarnation = to->incarnation;
	g->appl_heard_us = to->heard_us;
	g->replay = to->replay;
	g->talk_since_us = now;
	g->switched = 1;
	g->st.appliance_switches++;
	g->next_hb_us = now; /* say hello at once */
}

/* Nothing good from the appliance for lost_ms: LOST; and while LOST,
 * with several addresses, the next one every lost_ms.  watch_due_us():
 * when that is next to be judged (UINT64_MAX: never).  Called after the
 * socket has been read, so answers waiting there count. */
static uint64_t watch_due_us(const struct hc_gw *g)
{
	uint64_t lost_us = 1000u * (uint64_t)g->cfg.lost_ms;
	if (g->state == HC_GW_STATE_LOST) /* the next address, if any */
		return g->n_appl < 2 ? UINT64_MAX : g->talk_since_us + lost_us;
	return (g->appl_heard_us > g->talk_since_us ? g->appl_heard_us : g->talk_since_us) +
	       lost_us;
}

static void watch_appliance(struct hc_gw *g, uint64_t now)
{
	if (now < watch_due_us(g))
		return;
	if (g->state != HC_GW_STATE_LOST) {
		g->st.lost++;
		set_state(g, HC_GW_STATE_LOST, HC_GW_REASON_SILENT);
		return;
	}
	switch_appliance(g, (g->cur + 1) % g->n_appl, now);
	set_state(g, HC_GW_STATE_LOST, HC_GW_REASON_SWITCHED);
}

static void run_timers(struct hc_gw *g, uint64_t now)
{
	if (g->snapshot_owed && !snapshot_in_flight(g, now))
		send_snapshot(g);
	if (g->n_ev > 0 && now - g->ev_since_us >= g->cfg.flush_us)
		flush_events(g);
	if (g->n_pl > 0 && now - g->pl_since_us >= g->cfg.flush_us)
		flush_places(g);
	if (now >= g->next_hb_us) {
		send_heartbeat(g, 0);
		g->next_hb_us = now + 1000u * (uint64_t)g->cfg.heartbeat_ms;
	}
	if (g->n_pending > 0 && now >= g->next_place_scan_us) {
		for (uint32_t i = 0; i < PENDING_PLACES && !g->closing; i++) {
			struct pending_place *p = &g->pp[i];
			if (p->id == 0 || now < p->deadline_us)
				continue;
			if (p->tries >= g->cfg.place_retries) { /* sent 1 + retries times */
				struct hc_gw_assign x = {.user_id = p->user, .request_id = p->id,
					.pool_id = p->pool, .status = HC_GW_TIMEOUT};
				p->id = 0;
				g->n_pending--;
				g->st.place_timeouts++;
				if (g->cfg.on_assign != NULL)
					g->cfg.on_assign(g->cfg.arg, &x);
				continue;
			}
			p->tries++;
			p->deadline_us = now + 1000u * (uint64_t)g->cfg.place_timeout_ms;
			place_record(g, p);
			g->st.place_resends++;
		}
		g->next_place_scan_us = now + 500u * g->cfg.place_timeout_ms;
	}
	if (g->impair != NULL) {
		uint8_t buf[DGRAM_MAX];
		uint16_t len;
		int dir;
		while ((dir = hc_gw_impair_due(g->impair, now, buf, &len)) >= 0) {
			if (dir == HC_GW_IMPAIR_TX)
				sendto(g->fd, buf, len, MSG_DONTWAIT, g->to, g->to_len);
			else
				handle(g, buf, len);
		}
	}
}

/* ------------------------------------------------------------- the API -- */

/* One address: HOST, HOST:PORT, [IPV6], [IPV6]:PORT or a bare IPV6 (two
 * colons or more), HOST a literal or a name (getaddrinfo, the first
 * answer).  0, or -1 with the reason in err. */
static int resolve(const char *s, uint16_t def_port, struct appliance_addr *a, char *err,
		   size_t err_len)
{
	char host[sizeof(a->text)];
	const char *port_s = NULL;
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(host)) {
		snprintf(err, err_len, "address '%s': empty or too long", s);
		return -1;
	}
	memcpy(a->text, s, n + 1);
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
			snprintf(err, err_len, "address '%s': [IPV6] or [IPV6]:PORT", s);
			return -1;
		}
		n = (size_t)(close - s - 1);
		memcpy(host, s + 1, n);
		port_s = close[1] == ':' ? close + 2 : NULL;
	} else {
		const char *colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) { /* HOST:PORT */
			n = (size_t)(colon - s);
			port_s = colon + 1;
		}
		memcpy(host, s, n);
	}
	host[n] = '\0';
	long port = def_port;
	if (port_s != NULL) {
		char *end;
		port = strtol(port_s, &end, 10);
		if (*port_s == '\0' || *end != '\0' || port < 0 || port > 65535) {
			snprintf(err, err_len, "address '%s': bad port", s);
			return -1;
		}
	}
	/* a name: its IPv4 address if it has one (the appliance listens on
	 * IPv4), else whatever it has; a literal: itself */
	struct addrinfo hints = {.ai_family = strchr(host, ':') ? AF_UNSPEC : AF_INET,
				 .ai_socktype = SOCK_DGRAM}, *res;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 && hints.ai_family == AF_INET) {
		hints.ai_family = AF_UNSPEC;
		rc = getaddrinfo(host, NULL, &hints, &res);
	}
	if (rc != 0) {
		snprintf(err, err_len, "address '%s': %s", s, gai_strerror(rc));
		return -1;
	}
	memset(&a->sa, 0, sizeof(a->sa));
	memcpy(&a->sa, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	if (a->sa.ss_family == AF_INET)
		((struct sockaddr_in *)&a->sa)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&a->sa)->sin6_port = htons((uint16_t)port);
	return 0;
}

static uint16_t port_of(const struct appliance_addr *a)
{
	return ntohs(a->sa.ss_family == AF_INET ? ((const struct sockaddr_in *)&a->sa)->sin_port :
		     ((const struct sockaddr_in6 *)&a->sa)->sin6_port);
}

/* An IPv4 address as IPv6 (::ffff:A.B.C.D), for a dual-stack socket. */
static void map_v4(struct appliance_addr *a)
{
	if (a->sa.ss_family != AF_INET)
		return;
	struct sockaddr_in v4 = *(struct sockaddr_in *)&a->sa;
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = v4.sin_port};
	v6.sin6_addr.s6_addr[10] = 0xff;
	v6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&v6.sin6_addr.s6_addr[12], &v4.sin_addr, 4);
	memset(&a->sa, 0, sizeof(a->sa));
	memcpy(&a->sa, &v6, sizeof(v6));
	a->len = sizeof(v6);
}

/* cfg->appliance (and cfg->bind) into g->appl (and *local), and the
 * socket's family.  0 or -1 with err. */
static int resolve_all(struct hc_gw *g, const struct hc_gw_config *cfg,
		       struct appliance_addr *local, int *family, char *err, size_t err_len)
{
	if (cfg->appliance == NULL) {
		snprintf(err, err_len, "need an appliance address");
		return -1;
	}
	const char *s = cfg->appliance;
	int v6 = 0;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		char one[sizeof(g->appl[0].text)];
		if (g->n_appl == HC_GW_MAX_APPLIANCES || n >= sizeof(one)) {
			snprintf(err, err_len, "at most %u appliance addresses, each shorter than %zu",
				 HC_GW_MAX_APPLIANCES, sizeof(one));
			return -1;
		}
		while (n > 0 && (*s == ' ' || *s == '\t')) { /* "a, b" */
			s++;
			n--;
		}
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		memcpy(one, s, n);
		one[n] = '\0';
		struct appliance_addr *a = &g->appl[g->n_appl];
		if (resolve(one, HC_PROTO_DEFAULT_PORT, a, err, err_len) != 0)
			return -1;
		if (port_of(a) == 0) {
			snprintf(err, err_len, "address '%s': port 0", one);
			return -1;
		}
		v6 |= a->sa.ss_family == AF_INET6;
		g->n_appl++;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	local->len = 0;
	if (cfg->bind != NULL) {
		if (resolve(cfg->bind, 0, local, err, err_len) != 0)
			return -1;
		v6 |= local->sa.ss_family == AF_INET6;
	}
	/* a socket bound to one family's address cannot reach the other's */
	for (unsigned i = 0; local->len != 0 && i < g->n_appl; i++) {
		int lf = local->sa.ss_family, af = g->appl[i].sa.ss_family;
		int any6 = lf == AF_INET6 &&
			   IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&local->sa)->sin6_addr);
		if (lf != af && !any6) {
			snprintf(err, err_len, "bind %s (IPv%d) cannot reach the appliance %s (IPv%d)",
				 local->text, lf == AF_INET ? 4 : 6, g->appl[i].text,
				 af == AF_INET ? 4 : 6);
			return -1;
		}
	}
	*family = v6 ? AF_INET6 : AF_INET;
	if (v6) {
		for (unsigned i = 0; i < g->n_appl; i++)
			map_v4(&g->appl[i]);
		if (local->len != 0)
			map_v4(local);
	}
	g->cur = 0;
	g->to = (const struct sockaddr *)&g->appl[0].sa;
	g->to_len = g->appl[0].len;
	return 0;
}

struct hc_gw *hc_gw_open(const struct hc_gw_config *cfg, char *err, size_t err_len)
{
	struct hc_gw *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	g->fd = -1;
	/* the caller's struct, as long as it is: fields it does not have
	 * keep their defaults; fields we do not know must be unset */
	hc_gw_config_init(&g->cfg);
	if (cfg->size < CONFIG_V4_SIZE || cfg->size > (1u << 16)) {
		snprintf(err, err_len, "the config was not set up with hc_gw_config_init");
		goto fail;
	}
	for (size_t i = sizeof(g->cfg); i < cfg->size; i++) {
		if (((const uint8_t *)cfg)[i] != 0) {
			snprintf(err, err_len, "the config sets fields this libheadcount (%s, API %d) "
				 "does not know: use a newer one", HC_GW_LIB_VERSION, HC_GW_API_VERSION);
			goto fail;
		}
	}
	memcpy(&g->cfg, cfg, cfg->size < sizeof(g->cfg) ? cfg->size : sizeof(g->cfg));
	g->cfg.size = sizeof(g->cfg);
	cfg = &g->cfg;
	if (g->cfg.max_room == 0)
		g->cfg.max_room = UINT32_MAX; /* no bound (callers of API 6 and before) */
	struct appliance_addr local;
	int family;
	if (cfg->gateway_id == HC_GATEWAY_NONE) {
		snprintf(err, err_len, "need a gateway id (1..65535)");
		goto fail;
	}
	if (resolve_all(g, cfg, &local, &family, err, err_len) != 0)
		goto fail;
	if (cfg->fence_appliance && g->n_appl > 1) {
		/* (one newest incarnation for every address: a standby started
		 * before the first would be refused as older, for good) */
		snprintf(err, err_len, "fence_appliance is for an HA pair behind one address: "
			 "give one appliance address");
		goto fail;
	}
	g->cfg.appliance = g->appl[0].text; /* the caller's string may go away */
	g->cfg.bind = NULL;
	if (cfg->key_slot > 1) {
		snprintf(err, err_len, "key_slot must be 0 or 1");
		goto fail;
	}
	if (cfg->key != NULL && cfg->insecure_no_auth) {
		snprintf(err, err_len, "a key and insecure_no_auth: set one or the other");
		goto fail;
	}
	if (cfg->key != NULL && cfg->key_len != HC_AUTH_KEY_LEN) {
		snprintf(err, err_len, "the key must be %u bytes, not %zu", HC_AUTH_KEY_LEN,
			 cfg->key_len);
		goto fail;
	}
	if (cfg->key == NULL && !cfg->insecure_no_auth) {
		snprintf(err, err_len, "no key: set key (%u bytes, the appliance's key for gateway "
			 "%u in slot key_slot), or insecure_no_auth to run without authentication",
			 HC_AUTH_KEY_LEN, cfg->gateway_id);
		goto fail;
	}
	if (hc_auth_init() != 0) {
		snprintf(err, err_len, "libsodium cannot be initialised");
		goto fail;
	}
	if (cfg->key != NULL) {
		g->keyed = 1;
		memcpy(g->keys.key[cfg->key_slot], cfg->key, HC_AUTH_KEY_LEN);
		g->keys.have[cfg->key_slot] = 1;
	}
	g->cfg.key = NULL; /* ours is in g->keys; the caller's may go away */
	g->cfg.key_len = 0;
	g->state = HC_GW_STATE_CONNECTING;
	hc_replay_reset(&g->replay);
	for (unsigned i = 0; i < g->n_appl; i++)
		hc_replay_reset(&g->appl[i].replay);
	if (cfg->history < 64 || (cfg->history & (cfg->history - 1)) != 0) {
		snprintf(err, err_len, "history must be a power of 2 >= 64");
		goto fail;
	}
	if (g->cfg.flush_us == 0)
		g->cfg.flush_us = 1;
	if (g->cfg.heartbeat_ms == 0 || g->cfg.place_timeout_ms == 0 || g->cfg.lost_ms == 0) {
		snprintf(err, err_len, "heartbeat_ms, place_timeout_ms and lost_ms must be > 0");
		goto fail;
	}
	g->incarnation = cfg->incarnation;
	if (g->incarnation == 0) {
		/* eighths of a second from the clock, and larger than any this
		 * process picked before (a session reopened at once) */
		static uint32_t last_picked;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint32_t inc = (uint32_t)((uint64_t)ts.tv_sec * 8 + (uint64_t)ts.tv_nsec / 125000000u);
		uint32_t last = __atomic_load_n(&last_picked, __ATOMIC_RELAXED);
		do {
			if (last != 0 && !hc_seq_after(inc, last))
				inc = last + 1;
			if (inc == 0)
				inc = 1;
		} while (!__atomic_compare_exchange_n(&last_picked, &last, inc, 0,
						      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
		g->incarnation = inc;
	}
	g->hist_mask = cfg->history - 1;
	g->sq_mask = cfg->history - 1;
	g->hist = calloc(cfg->history, sizeof(*g->hist));
	g->sq = calloc(cfg->history, sizeof(*g->sq));
	g->pp = calloc(PENDING_PLACES, sizeof(*g->pp));
	if (g->hist == NULL || g->sq == NULL || g->pp == NULL ||
	    hc_gw_table_init(&g->users, 1024) != 0) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	g->fd = socket(family, SOCK_DGRAM, 0);
	if (g->fd < 0) {
		snprintf(err, err_len, "socket: %s", strerror(errno));
		goto fail;
	}
	int sz = 8 << 20, off = 0;
	setsockopt(g->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(g->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (family == AF_INET6 &&
	    setsockopt(g->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) != 0) {
		snprintf(err, err_len, "IPV6_V6ONLY: %s", strerror(errno));
		goto fail;
	}
	if (local.len != 0 && bind(g->fd, (const struct sockaddr *)&local.sa, local.len) != 0) {
		snprintf(err, err_len, "bind %s: %s", local.text, strerror(errno));
		goto fail;
	}
	g->talk_since_us = hc_gw_now_us();
	/* every incarnation starts by stating its (empty) membership:
	 * sequence 1 is a snapshot, the appliance's reset point */
	send_snapshot(g);
	send_heartbeat(g, 0);
	g->next_hb_us = hc_gw_now_us() + 1000u * (uint64_t)g->cfg.heartbeat_ms;
	pump(g);
	return g;
fail:
	hc_gw_close(g, 0);
	return NULL;
}

void hc_gw_close(struct hc_gw *g, int clean)
{
	if (g == NULL)
		return;
	if (g->in_poll || g->in_foreach) { /* at the end of hc_gw_poll / foreach */
		if (!g->closing)
			g->closing = 1 + (clean != 0);
		return;
	}
	if (clean && g->fd >= 0) {
		hc_gw_flush(g);
		send_heartbeat(g, HC_HB_F_SHUTDOWN);
		for (int i = 0; i < 100 && (g->txq_n > 0 || g->sq_head != g->sq_tail); i++) {
			pump(g);
			if (g->txq_n > 0 || g->sq_head != g->sq_tail)
				usleep(1000);
		}
	}
	if (g->fd >= 0)
		close(g->fd);
	hc_gw_impair_free(g->impair);
	hc_gw_table_free(&g->users);
	sodium_memzero(&g->keys, sizeof(g->keys));
	free(g->hist);
	free(g->sq);
	free(g->pp);
	free(g);
}

int hc_gw_join(struct hc_gw *g, uint64_t user_id, uint32_t room_id, uint16_t pool_id)
{
	return hc_gw_join_session(g, user_id, room_id, pool_id, 0);
}

uint32_t hc_gw_places_pending(const struct hc_gw *g)
{
	return g->n_pending;
}

uint64_t hc_gw_session_of(const struct hc_gw *g, uint64_t user_id)
{
	const struct hc_gw_entry *e = hc_gw_table_find(&g->users, user_id);
	return e != NULL ? e->session : 0;
}

int hc_gw_join_session(struct hc_gw *g, uint64_t user_id, uint32_t room_id, uint16_t pool_id,
		       uint64_t session_elsewhere)
{
	if (room_id == HC_ROOM_NONE || room_id > g->cfg.max_room) {
		errno = EINVAL;
		return -1;
	}
	if (g->in_foreach) {
		errno = EBUSY;
		return -1;
	}
	struct hc_gw_entry *e = hc_gw_table_find(&g->users, user_id);
	if (e != NULL && e->room == room_id)
		return 0; /* already there */
	uint32_t was = e != NULL ? e->room : 0;
	/* a user new here begins a session (or carries the one it has
	 * through another of the shard layer's sessions); a move keeps it */
	uint64_t session = e != NULL ? e->session :
			   session_elsewhere != 0 ? session_elsewhere : new_session();
	if (hc_gw_table_set(&g->users, user_id, room_id, pool_id, session) != 0) {
		errno = ENOMEM;
		return -1;
	}
	if (was != 0)
		g->digest -= hc_member_digest(user_id, was);
	g->digest += hc_member_digest(user_id, room_id);
	g->st.joins++;
	return add_event(g, user_id, room_id, pool_id, HC_OP_JOIN, session);
}

int hc_gw_leave(struct hc_gw *g, uint64_t user_id)
{
	if (g->in_foreach) {
		errno = EBUSY;
		return -1;
	}
	struct hc_gw_entry *e = hc_gw_table_find(&g->users, user_id);
	if (e == NULL) {
		errno = ENOENT;
		return -1;
	}
	uint32_t room = e->room;
	uint16_t pool = e->pool;
	uint64_t session = e->session;
	hc_gw_table_del(&g->users, user_id);
	g->digest -= hc_member_digest(user_id, room);
	g->st.leaves++;
	return add_event(g, user_id, room, pool, HC_OP_LEAVE, session);
}

int hc_gw_place(struct hc_gw *g, uint64_t user_id, uint16_t pool_id, uint32_t *request_id)
{
	uint32_t id = ++g->next_request;
	if (id == 0)
		id = ++g->next_request;
	struct pending_place *p = &g->pp[id & (PENDING_PLACES - 1)];
	if (p->id != 0) {
		g->next_request--;
		errno = EBUSY;
		return -1;
	}
	*p = (struct pending_place){.user = user_id, .id = id, .pool = pool_id, .tries = 0,
		.deadline_us = hc_gw_now_us() + 1000u * (uint64_t)g->cfg.place_timeout_ms};
	g->n_pending++;
	place_record(g, p);
	g->st.places++;
	if (request_id != NULL)
		*request_id = id;
	return 0;
}

/* Did this come from the appliance's address and port (the one talked
 * to now)? */
static int from_appliance(const struct hc_gw *g, const struct sockaddr_storage *a, socklen_t len)
{
	if (len != g->to_len || a->ss_family != g->to->sa_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)g->to;
		return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)g->to;
	return memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0 &&
	       x->sin6_port == y->sin6_port;
}

/* When the next timer of run_timers() falls due (or now + 1 ms while
 * datagrams wait to be sent or held back by impairment). */
static uint64_t next_timer_us(const struct hc_gw *g, uint64_t now)
{
	uint64_t next = g->next_hb_us;
	if (watch_due_us(g) < next) /* LOST, or the next address */
		next = watch_due_us(g);
	if (g->n_ev > 0 && g->ev_since_us + g->cfg.flush_us < next)
		next = g->ev_since_us + g->cfg.flush_us;
	if (g->n_pl > 0 && g->pl_since_us + g->cfg.flush_us < next)
		next = g->pl_since_us + g->cfg.flush_us;
	if (g->n_pending > 0 && g->next_place_scan_us < next)
		next = g->next_place_scan_us;
	/* (an owed snapshot's acknowledgement comes as a datagram) */
	if (g->snapshot_owed && g->snapshot_sent_us + snapshot_young_us(g) < next)
		next = g->snapshot_sent_us + snapshot_young_us(g);
	if ((g->impair != NULL || g->txq_n > 0 || g->sq_head != g->sq_tail) && now + 1000 < next)
		next = now + 1000;
	return next;
}

int hc_gw_timeout_ms(const struct hc_gw *g)
{
	uint64_t now = hc_gw_now_us(), next = next_timer_us(g, now);
	if (next <= now || g->rx_more)
		return 0;
	uint64_t ms = (next - now + 999) / 1000;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static int poll_once(struct hc_gw *g, int timeout_ms);

/* A poll runs on this thread (any session's): the receive buffers are
 * the thread's (poll_once), so a poll of another session from a callback
 * would overwrite the datagrams the first has not handled yet. */
static __thread unsigned polls_running;

int hc_gw_poll(struct hc_gw *g, int timeout_ms)
{
	if (g->in_poll || g->in_foreach || polls_running != 0) {
		errno = EBUSY;
		return -1;
	}
	g->in_poll = 1;
	polls_running++;
	int n = poll_once(g, timeout_ms);
	polls_running--;
	g->in_poll = 0;
	if (g->closing) { /* a callback closed the session: it is gone */
		hc_gw_close(g, g->closing - 1);
		errno = ESHUTDOWN;
		return -1;
	}
	return n;
}

static int poll_once(struct hc_gw *g, int timeout_ms)
{
	struct mmsghdr mh[RX_BURST];
	struct iovec iov[RX_BURST];
	struct sockaddr_storage from[RX_BURST];
	static __thread uint8_t bufs[RX_BURST][HC_MAX_PAYLOAD];
	int total = 0;

	uint64_t now = hc_gw_now_us();
	run_timers(g, now);
	if (g->closing)
		return 0;
	pump(g);
	g->rx_more = 0; /* (a failed wait below must not leave the last poll's) */
	if (timeout_ms > 0) {
		/* wait no longer than the next timer */
		uint64_t next = next_timer_us(g, now);
		int wait = next <= now ? 0 : (int)((next - now + 999) / 1000);
		if (wait < timeout_ms)
			timeout_ms = wait;
		struct pollfd pfd = {.fd = g->fd, .events = POLLIN};
		if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
			return -1;
	}
	for (unsigned burst = 0; burst < RX_BURSTS_PER_POLL; burst++) {
		for (unsigned i = 0; i < RX_BURST; i++) {
			iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof(bufs[i])};
			memset(&mh[i], 0, sizeof(mh[i]));
			mh[i].msg_hdr.msg_iov = &iov[i];
			mh[i].msg_hdr.msg_iovlen = 1;
			mh[i].msg_hdr.msg_name = &from[i];
			mh[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		int n = recvmmsg(g->fd, mh, RX_BURST, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		uint64_t t = hc_gw_now_us();
		for (int i = 0; i < n && !g->closing; i++) {
			/* the source first: a held datagram forgets it */
			if (!from_appliance(g, &from[i], mh[i].msg_hdr.msg_namelen)) {
				g->st.rx_wrong_source++;
				continue;
			}
			if (g->impair != NULL &&
			    hc_gw_impair_hold(g->impair, HC_GW_IMPAIR_RX, bufs[i], (uint16_t)mh[i].msg_len, t))
				continue;
			handle(g, bufs[i], mh[i].msg_len);
		}
		total += n;
		if (n < RX_BURST || g->closing)
			break;
		g->rx_more = burst + 1 == RX_BURSTS_PER_POLL;
	}
	if (g->closing)
		return total;
	now = hc_gw_now_us();
	watch_appliance(g, now);
	if (g->closing)
		return total;
	run_timers(g, now);
	pump(g);
	return total;
}

int hc_gw_state(const struct hc_gw *g)
{
	return g->state;
}

int hc_gw_fd(const struct hc_gw *g)
{
	return g->fd;
}

uint32_t hc_gw_room_of(const struct hc_gw *g, uint64_t user_id)
{
	const struct hc_gw_entry *e = hc_gw_table_find(&g->users, user_id);
	return e != NULL ? e->room : 0;
}

uint64_t hc_gw_users(const struct hc_gw *g)
{
	return g->users.n;
}

void hc_gw_foreach(const struct hc_gw *g,
		   void (*fn)(void *arg, uint64_t user, uint32_t room, uint16_t pool), void *arg)
{
	struct hc_gw *w = (struct hc_gw *)g; /* the flag only: join and leave refuse */
	w->in_foreach++;
	for (uint64_t i = 0; i <= g->users.mask && !w->closing; i++)
		if (g->users.e[i].room != 0)
			fn(arg, g->users.e[i].user, g->users.e[i].room, g->users.e[i].pool);
	w->in_foreach--;
	if (w->closing && !w->in_foreach && !w->in_poll)
		hc_gw_close(w, w->closing - 1); /* fn closed the session */
}

unsigned hc_gw_appliance(const struct hc_gw *g, const char **text)
{
	if (text != NULL)
		*text = g->appl[g->cur].text;
	return g->cur;
}

int hc_gw_set_impairment(struct hc_gw *g, double fraction, uint32_t delay_ms, uint32_t seed)
{
	hc_gw_impair_free(g->impair);
	g->impair = NULL;
	if (fraction <= 0)
		return 0;
	g->impair = hc_gw_impair_new(fraction, delay_ms, seed);
	if (g->impair == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void hc_gw_block_sends(struct hc_gw *g, int on)
{
	g->sends_blocked = on;
}

void hc_gw_get_stats_sized(const struct hc_gw *g, struct hc_gw_stats *st, size_t size)
{
	struct hc_gw_stats all = g->st;
	all.sequence = g->seq;
	all.appliance_incarnation = g->appl_incarnation;
	memcpy(st, &all, size < sizeof(all) ? size : sizeof(all));
	if (size > sizeof(all)) /* counters of a newer API: this library has none */
		memset((uint8_t *)st + sizeof(all), 0, size - sizeof(all));
}
