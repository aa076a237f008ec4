/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bigdgram.c - hc-bigdgram: the largest datagrams the protocol allows,
 * one byte more, and their exact ground truth (the size tests).
 *
 * Writes PREFIX.pcap (through libpcap): G gateways, interleaved, each sending first a
 * snapshot of C chunks of 371 members (the largest chunk: 8,960 bytes),
 * then K EVENTS datagrams, alternately of 372 events (the largest:
 * 8,968 bytes) and of 1..59 (a 1500-byte MTU's), all sealed under the
 * gateway's key from the appliance's keys file (or not, --no-auth).
 * Before the first and the last EVENTS datagram of each gateway it puts
 * the same sequence in a datagram one byte longer than the protocol allows
 * (8,973 bytes) and in one of 373 events, both sealed: the appliance must
 * drop them (udp_too_big); had it applied one, the real datagram would be
 * a duplicate and the room table would differ (--no-too-big: not sent,
 * for links that cannot carry them).  --too-long adds, per gateway, a
 * frame of HC_MAX_FRAME + 1 bytes (pcap: frame_too_long).
 *
 * Beside it: PREFIX.truth.csv (the final room table, --dump-rooms'
 * format), PREFIX.expect (counters any port must show: --dump-stats'
 * names) and PREFIX.expect-pcap (what a net_pcap port adds: frames,
 * chains gathered, all drops).  Users are per gateway and rooms stay
 * below 90 users (admission's default maximum is 100), so the truth
 * follows from applying each gateway's datagrams in order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "hc_auth.h"
#include "hc_frame.h"
#include "hc_proto.h"
#include "hc_proto_hdr.h"

#define MEMBERS_MAX ((HC_MAX_PAYLOAD - sizeof(struct hc_hdr) - \
		      sizeof(struct hc_snapshot_prefix)) / sizeof(struct hc_member))
#define MAX_FRAME (14 + 60 + 8 + HC_MAX_PAYLOAD) /* the appliance's HC_MAX_FRAME */
#define ROOM_CAP 90
#define MBUF_ROOM 2048 /* DPDK's default data room: net_pcap chains longer frames */
#define MAX_GATEWAYS 64

_Static_assert(MEMBERS_MAX == 371, "the largest snapshot chunk holds 371 members");
_Static_assert(HC_MAX_EVENTS == 372, "the largest EVENTS datagram holds 372 events");

struct opts {
	unsigned gateways, chunks, datagrams, rooms, new_users;
	uint64_t seed;
	int too_long, no_too_big;
	const char *out, *keys;
	int no_auth;
};

struct expect {
	uint64_t frames, gathered, datagrams, event_datagrams, events, joins, moves, leaves,
		noops, too_big, too_long;
};

static struct expect ex;
static pcap_dumper_t *pcap; /* PREFIX.pcap, through libpcap */
static uint64_t rs;
static uint32_t *room_count; /* [rooms + 1] */

static uint32_t rnd(uint32_t n)
{
	rs = rs * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)((rs >> 33) % n);
}

/* A room with space: below ROOM_CAP users (and != avoid). */
static uint32_t pick_room(const struct opts *o, uint32_t avoid)
{
	for (;;) {
		uint32_t r = 1 + rnd(o->rooms);
		if (r != avoid && room_count[r] < ROOM_CAP)
			return r;
	}
}

static void put_frame(const uint8_t *f, size_t len)
{
	struct pcap_pkthdr h = {.ts = {.tv_sec = (time_t)ex.frames, .tv_usec = 0},
				.caplen = (uint32_t)len, .len = (uint32_t)len};
	pcap_dump((u_char *)pcap, &h, f);
	ex.frames++;
	if (len > MBUF_ROOM && len <= MAX_FRAME)
		ex.gathered++; /* net_pcap chains it; the appliance gathers it */
}

struct gateway {
	uint16_t id;
	uint32_t seq;
	int slot; /* -1: unsealed */
	uint8_t key[HC_AUTH_KEY_LEN];
	struct hc_frame_addr addr;
	uint16_t ip_id;
	uint32_t n_users;  /* user ids (id << 32) + 0 .. n_users - 1 */
	uint32_t *room;    /* [n_users]: the user's room, 0: none */
};

static void emit(struct gateway *g, uint8_t *p, size_t len)
{
	static uint8_t f[HC_FRAME_HDR_LEN + MAX_FRAME];
	if (g->slot >= 0)
		hc_auth_seal(p, len, g->key, (unsigned)g->slot);
	put_frame(f, hc_frame_build(f, &g->addr, g->ip_id++, p, len));
}

static uint64_t user_id(const struct gateway *g, uint32_t u)
{
	return (uint64_t)g->id << 32 | u;
}

/* Chunk c of the gateway's snapshot: MEMBERS_MAX members. */
static void emit_chunk(const struct opts *o, struct gateway *g, unsigned c)
{
	static uint8_t p[HC_MAX_PAYLOAD];
	size_t off = sizeof(struct hc_hdr);
	hc_proto_fill_hdr(p, HC_MSG_SNAPSHOT, g->id, MEMBERS_MAX, 1, 0, ++g->seq);
	struct hc_snapshot_prefix pf = {.snapshot_id = htonl(g->id), .chunk_index = htonl(c),
		.chunk_count = htonl(o->chunks), .total_users = htonl(o->chunks * MEMBERS_MAX)};
	memcpy(p + off, &pf, sizeof(pf));
	off += sizeof(pf);
	for (unsigned i = 0; i < MEMBERS_MAX; i++) {
		uint32_t u = c * MEMBERS_MAX + i, r = pick_room(o, 0);
		g->room[u] = r;
		room_count[r]++;
		struct hc_member mb = {.user_id = htobe64(user_id(g, u)), .room_id = htonl(r)};
		memcpy(p + off, &mb, sizeof(mb));
		off += sizeof(mb);
	}
	emit(g, p, off);
	ex.datagrams++;
}

/* One event into p at record i, applied to the model. */
static void make_event(const struct opts *o, struct gateway *g, uint8_t *p, unsigned i)
{
	uint32_t u = rnd(g->n_users), cur = g->room[u], room, pick = rnd(100);
	uint8_t op;
	if (cur != 0 && pick < 50) {        /* a move */
		op = HC_OP_JOIN;
		room = pick_room(o, cur);
		room_count[cur]--;
		room_count[room]++;
		g->room[u] = room;
		ex.moves++;
	} else if (cur != 0 && pick < 60) { /* already there */
		op = HC_OP_JOIN;
		room = cur;
		ex.noops++;
	} else if (cur != 0 && pick < 95) { /* leaves */
		op = HC_OP_LEAVE;
		room = cur;
		room_count[cur]--;
		g->room[u] = 0;
		ex.leaves++;
	} else if (cur != 0) {              /* leaves a room it is not in */
		op = HC_OP_LEAVE;
		room = 1 + (cur % o->rooms);
		ex.noops++;
	} else if (pick < 80) {             /* joins */
		op = HC_OP_JOIN;
		room = pick_room(o, 0);
		room_count[room]++;
		g->room[u] = room;
		ex.joins++;
	} else {                            /* leaves, in no room */
		op = HC_OP_LEAVE;
		room = 1 + rnd(o->rooms);
		ex.noops++;
	}
	struct hc_event ev = {.user_id = htobe64(user_id(g, u)), .room_id = htonl(room), .op = op};
	memcpy(p + sizeof(struct hc_hdr) + (size_t)i * sizeof(ev), &ev, sizeof(ev));
}

/* The datagrams one byte longer than allowed and one record too many,
 * under the sequence of the next real one: dropped, or the real one
 * would be a duplicate. */
static void emit_too_big(const struct opts *o, struct gateway *g)
{
	static uint8_t p[HC_MAX_PAYLOAD + 64];
	uint32_t seq = g->seq + 1;
	hc_proto_fill_hdr(p, HC_MSG_EVENTS, g->id, HC_MAX_EVENTS, 1, 0, seq);
	for (unsigned i = 0; i <= HC_MAX_EVENTS; i++) {
		struct hc_event ev = {.user_id = htobe64(user_id(g, i)),
				      .room_id = htonl(1 + i % o->rooms), .op = HC_OP_JOIN};
		memcpy(p + sizeof(struct hc_hdr) + (size_t)i * sizeof(ev), &ev, sizeof(ev));
	}
	size_t max = sizeof(struct hc_hdr) + HC_MAX_EVENTS * sizeof(struct hc_event);
	emit(g, p, HC_MAX_PAYLOAD + 1);      /* 372 events and 5 bytes more */
	hc_proto_fill_hdr(p, HC_MSG_EVENTS, g->id, HC_MAX_EVENTS + 1, 1, 0, seq);
	emit(g, p, max + sizeof(struct hc_event)); /* 373 events */
	ex.too_big += 2;
	if (o->too_long) {
		/* HC_MAX_FRAME + 1: no allowed datagram needs so long a frame */
		emit(g, p, MAX_FRAME + 1 - HC_FRAME_HDR_LEN);
		ex.too_long++;
	}
}

static void emit_events(const struct opts *o, struct gateway *g, unsigned k)
{
	static uint8_t p[HC_MAX_PAYLOAD];
	unsigned n = k % 2 == 0 ? HC_MAX_EVENTS : 1 + rnd(HC_MAX_EVENTS_MTU1500);
	if (!o->no_too_big && (k == 0 || k == o->datagrams - 1))
		emit_too_big(o, g);
	hc_proto_fill_hdr(p, HC_MSG_EVENTS, g->id, (uint16_t)n, 1, 0, ++g->seq);
	for (unsigned i = 0; i < n; i++)
		make_event(o, g, p, i);
	emit(g, p, sizeof(struct hc_hdr) + (size_t)n * sizeof(struct hc_event));
	ex.datagrams++;
	ex.event_datagrams++;
	ex.events += n;
}

static int num(const char *opt, const char *s, unsigned long long lo, unsigned long long hi,
	       unsigned long long *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || *v < lo || *v > hi) {
		fprintf(stderr, "hc-bigdgram: %s: '%s' not in [%llu, %llu]\n", opt, s, lo, hi);
		return -1;
	}
	return 0;
}

static void usage(void)
{
	printf("usage: hc-bigdgram --out PREFIX (--keys FILE | --no-auth) [options]\n"
	       "  --gateways N   gateways 1..N                      [4]\n"
	       "  --chunks N     snapshot chunks of 371 members each [3]\n"
	       "  --datagrams N  EVENTS datagrams per gateway (>= 2) [24]\n"
	       "  --rooms N      rooms 1..N                         [400]\n"
	       "  --new-users N  users per gateway beyond its snapshot [2000]\n"
	       "  --seed N                                          [1]\n"
	       "  --too-long     add frames of HC_MAX_FRAME + 1 bytes (pcap)\n"
	       "  --no-too-big   leave out the datagrams one byte / record too long\n");
}

static int parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{"out", 1, 0, 'o'}, {"keys", 1, 0, 'k'}, {"no-auth", 0, 0, 'A'},
		{"gateways", 1, 0, 'g'}, {"chunks", 1, 0, 'c'}, {"datagrams", 1, 0, 'd'},
		{"rooms", 1, 0, 'r'}, {"new-users", 1, 0, 'u'}, {"seed", 1, 0, 's'},
		{"too-long", 0, 0, 'T'}, {"no-too-big", 0, 0, 'N'}, {"help", 0, 0, 'h'},
		{0, 0, 0, 0}};
	unsigned long long v;
	int c, rc = 0;
	*o = (struct opts){.gateways = 4, .chunks = 3, .datagrams = 24, .rooms = 400,
			   .new_users = 2000, .seed = 1};
	while (rc == 0 && (c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'k': o->keys = optarg; break;
		case 'A': o->no_auth = 1; break;
		case 'g': rc = num("--gateways", optarg, 1, MAX_GATEWAYS, &v); o->gateways = (unsigned)v; break;
		case 'c': rc = num("--chunks", optarg, 1, 64, &v); o->chunks = (unsigned)v; break;
		case 'd': rc = num("--datagrams", optarg, 2, 100000, &v); o->datagrams = (unsigned)v; break;
		case 'r': rc = num("--rooms", optarg, 2, 200000, &v); o->rooms = (unsigned)v; break;
		case 'u': rc = num("--new-users", optarg, 0, 1000000, &v); o->new_users = (unsigned)v; break;
		case 's': rc = num("--seed", optarg, 0, UINT64_MAX, &v); o->seed = v; break;
		case 'T': o->too_long = 1; break;
		case 'N': o->no_too_big = 1; break;
		case 'h': usage(); exit(0);
		default: usage(); return -1;
		}
	}
	if (rc != 0)
		return -1;
	if (o->out == NULL || (o->keys != NULL) == (o->no_auth != 0) || optind != argc) {
		usage();
		return -1;
	}
	/* every user fits below the rooms' cap */
	if ((uint64_t)o->gateways * (o->chunks * MEMBERS_MAX + o->new_users) >
	    (uint64_t)o->rooms * ROOM_CAP / 2) {
		fprintf(stderr, "hc-bigdgram: too many users for %u rooms\n", o->rooms);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct gateway gws[MAX_GATEWAYS];
	struct hc_auth_keyring *ring = NULL;
	struct opts o;
	char path[4096];

	if (parse(&o, argc, argv) != 0)
		return 2;
	rs = o.seed * 2654435761u + 1;
	if (o.keys != NULL) {
		char err[512];
		if (hc_auth_init() != 0 || (ring = hc_auth_keys_load(o.keys, err, sizeof(err))) == NULL) {
			fprintf(stderr, "hc-bigdgram: --keys: %s\n", ring == NULL ? err : "libsodium");
			return 2;
		}
	}
	room_count = calloc((size_t)o.rooms + 1, sizeof(uint32_t));
	snprintf(path, sizeof(path), "%s.pcap", o.out);
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap = dead != NULL ? pcap_dump_open(dead, path) : NULL;
	if (room_count == NULL || pcap == NULL) {
		fprintf(stderr, "hc-bigdgram: %s: %s\n", path,
			dead != NULL ? pcap_geterr(dead) : "pcap_open_dead failed");
		return 1;
	}
	for (unsigned i = 0; i < o.gateways; i++) {
		struct gateway *g = &gws[i];
		g->id = (uint16_t)(i + 1);
		g->slot = -1;
		if (ring != NULL) {
			const struct hc_auth_gw_keys *k = &ring->gw[g->id];
			g->slot = k->have[0] ? 0 : k->have[1] ? 1 : -2;
			if (g->slot == -2) {
				fprintf(stderr, "hc-bigdgram: no key for gateway %u in %s\n", g->id, o.keys);
				return 2;
			}
			memcpy(g->key, k->key[g->slot], HC_AUTH_KEY_LEN);
		}
		g->addr = (struct hc_frame_addr){.dst_mac = {2, 0, 0, 0, 0, 1},
			.src_mac = {2, 0, 0, 0, 0, 2}, .src_ip = 0xC6120002, .dst_ip = 0xC6120001,
			.src_port = (uint16_t)(40000 + g->id), .dst_port = HC_PROTO_DEFAULT_PORT};
		g->n_users = o.chunks * MEMBERS_MAX + o.new_users;
		g->room = calloc(g->n_users, sizeof(uint32_t));
		if (g->room == NULL) {
			perror("hc-bigdgram");
			return 1;
		}
	}
	/* interleaved: step t of every gateway, then step t + 1 */
	for (unsigned t = 0; t < o.chunks + o.datagrams; t++) {
		for (unsigned i = 0; i < o.gateways; i++) {
			if (t < o.chunks)
				emit_chunk(&o, &gws[i], t);
			else
				emit_events(&o, &gws[i], t - o.chunks);
		}
	}
	/* pcap_dump reports nothing: the stream's error flag does */
	if (pcap_dump_flush(pcap) != 0 || ferror(pcap_dump_file(pcap))) {
		perror(path);
		return 1;
	}
	pcap_dump_close(pcap);
	pcap_close(dead);

	uint64_t users = 0, rooms = 0;
	snprintf(path, sizeof(path), "%s.truth.csv", o.out);
	FILE *t = fopen(path, "w");
	if (t == NULL) {
		perror(path);
		return 1;
	}
	fprintf(t, "room,users\n");
	for (uint32_t r = 1; r <= o.rooms; r++) {
		if (room_count[r] != 0) {
			fprintf(t, "%u,%u\n", r, room_count[r]);
			users += room_count[r];
			rooms++;
		}
	}
	if (fclose(t) != 0) {
		perror(path);
		return 1;
	}
	uint64_t members = (uint64_t)o.gateways * o.chunks * MEMBERS_MAX;
	snprintf(path, sizeof(path), "%s.expect", o.out);
	FILE *x = fopen(path, "w");
	if (x == NULL) {
		perror(path);
		return 1;
	}
	fprintf(x, "datagrams=%" PRIu64 "\nevent_datagrams=%" PRIu64 "\nevents=%" PRIu64
		"\njoins=%" PRIu64 "\nmoves=%" PRIu64 "\nleaves=%" PRIu64 "\nnoops=%" PRIu64
		"\nsnapshots=%u\nsnapshot_members=%" PRIu64 "\nsnap_set=%" PRIu64
		"\nsnapshots_bad=0\nsnap_conflicts=0\nsnap_swept=0\nrefused=0\ntable_full=0"
		"\nseq_duplicates=0\nseq_stale=0\nseq_lost=0\nusers=%" PRIu64 "\nrooms=%" PRIu64
		"\ndrop_udp_too_big=%" PRIu64 "\n",
		ex.datagrams, ex.event_datagrams, ex.events, ex.joins, ex.moves, ex.leaves,
		ex.noops, o.gateways, members, members, users, rooms, ex.too_big);
	if (fclose(x) != 0) {
		perror(path);
		return 1;
	}
	snprintf(path, sizeof(path), "%s.expect-pcap", o.out);
	x = fopen(path, "w");
	if (x == NULL) {
		perror(path);
		return 1;
	}
	fprintf(x, "rx_frames=%" PRIu64 "\nrx_gathered=%" PRIu64 "\ndrop_frame_too_long=%" PRIu64
		"\ndrops=%" PRIu64 "\n", ex.frames, ex.gathered, ex.too_long,
		ex.too_big + ex.too_long);
	if (fclose(x) != 0) {
		perror(path);
		return 1;
	}
	printf("hc-bigdgram: %" PRIu64 " frames: %" PRIu64 " datagrams (%" PRIu64 " EVENTS, %"
	       PRIu64 " events; %u snapshots of %u x %u members), %" PRIu64 " too big, %" PRIu64
	       " too long; truth: %" PRIu64 " users in %" PRIu64 " rooms\n", ex.frames,
	       ex.datagrams, ex.event_datagrams, ex.events, o.gateways, o.chunks,
	       (unsigned)MEMBERS_MAX, ex.too_big, ex.too_long, users, rooms);
	for (unsigned i = 0; i < o.gateways; i++)
		free(gws[i].room);
	free(room_count);
	free(ring);
	return 0;
}
