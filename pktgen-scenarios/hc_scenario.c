/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_scenario.c - hc-scenario: protocol traffic and its exact ground truth.
 *
 * Writes, from a seed, a pcap (through libpcap) of what G gateways would send for U users
 * moving between R rooms (E JOIN/LEAVE events batched into sequenced EVENTS
 * datagrams, with heartbeats), optionally impaired with duplicated,
 * reordered and malformed frames, and beside it:
 *   PREFIX.truth.csv   the final room table, in --dump-rooms' format;
 *   PREFIX.expect      the appliance counters that replaying the pcap must
 *                      produce (key=value, --dump-stats' names).
 * Every user belongs to one gateway, so applying each gateway's datagrams
 * in sequence order (what the appliance does) yields exactly the model.
 * Malformed frames are corrupted copies of a real datagram placed just
 * before it: if the appliance applied any part of one, the real datagram
 * would then be a duplicate and the truth would not match.
 * With --keys every datagram is sealed (protocol v3) with its gateway's
 * key from the appliance's keys file (the lowest slot holding one), after
 * its payload is written, and one more malformation is made: a good
 * datagram with one tag byte flipped (auth_bad_tag); --no-auth leaves
 * them unsealed.  Heartbeats carry each gateway's control counter (1, 2,
 * ...) in the header's sequence.  Everything follows from the seed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <sodium.h>

#include "hc_auth.h"
#include "hc_cli.h"
#include "hc_frame.h"
#include "hc_proto.h"
#include "hc_proto_hdr.h"

/* ------------------------------------------------------------ options -- */

struct opts {
	uint64_t seed;
	uint32_t users, rooms, gateways, events, batch;
	int batch_random;
	double dup, reorder, malformed;
	uint32_t reorder_depth;
	uint32_t hb_every;
	uint32_t split;
	uint32_t min_frame; /* malformations shorter than this are not drawn */
	int no_fragments;   /* nor IP fragments                             */
	uint32_t max_rooms, max_gateways;
	uint32_t incarnation;
	const char *out;
	const char *keys;   /* --keys FILE: seal; NULL with --no-auth */
	int no_auth;
	struct hc_frame_addr addr;
};

/* the keys file, with --keys */
static struct hc_auth_keyring *ring;

static void usage(void)
{
	printf("Usage: hc-scenario --out PREFIX (--keys FILE | --no-auth) [options]\n"
	       "Write PREFIX.pcap, gateway traffic from a seed, its exact truth\n"
	       "PREFIX.truth.csv and the counters replaying it must give, PREFIX.expect.\n"
	       "  --seed N             random seed                          [1]\n"
	       "  --users N            users                                [200000]\n"
	       "  --rooms N            rooms, ids 1..N                      [5000]\n"
	       "  --gateways N         gateways, ids 1..N                   [16]\n"
	       "  --events N           JOIN/LEAVE events                    [2000000]\n"
	       "  --batch N            events per datagram (max, 1..%u)     [59]\n"
	       "  --batch-mode M       fixed | random (1..N)                [random]\n"
	       "  --duplicate F        fraction of datagrams sent twice     [0]\n"
	       "  --reorder F          fraction of datagrams delayed        [0]\n"
	       "  --reorder-depth N    how far (datagrams) at most, 1..48   [16]\n"
	       "  --malformed F        malformed frames per datagram        [0]\n"
	       "  --heartbeat-every N  datagrams between a gateway's heartbeats [32]\n"
	       "  --split N            write PREFIX.0.pcap .. PREFIX.N-1.pcap,\n"
	       "                       gateways dealt in pairs              [1: PREFIX.pcap]\n"
	       "  --min-frame N        draw no malformation shorter than N bytes\n"
	       "                       (runt 10, ip_truncated 24, arp 42): for\n"
	       "                       senders that pad short frames (Pktgen: 60) [0]\n"
	       "  --no-fragments       draw no IP fragment (af_packet's PMD holds\n"
	       "                       them for reassembly: they never arrive)\n"
	       "  --incarnation N      gateways' incarnation                [1]\n"
	       "  --max-rooms N        the appliance's --max-rooms          [262144]\n"
	       "  --max-gateways N     the appliance's --max-gateways       [1024]\n"
	       "  --appliance A[:PORT] the appliance: the frames' destination address\n"
	       "                       and UDP port                      [198.18.0.1:%u]\n"
	       "  --src-ip A           first gateway address (+g-1 each)    [198.18.0.2]\n"
	       "  --dst-mac M / --src-mac M                                  [02:00:00:00:00:01/02]\n"
	       "  --keys FILE          seal every datagram with its gateway's key from\n"
	       "                       the appliance's keys file (lowest slot held); adds\n"
	       "                       the malformation auth_bad_tag (a flipped tag byte)\n"
	       "  --no-auth            leave datagrams unsealed\n"
	       "                       (one of --keys and --no-auth is required)\n"
	       "  --help               this text\n"
	       "  --version            the program's version\n",
	       (unsigned)HC_MAX_EVENTS, HC_PROTO_DEFAULT_PORT);
}

static int num(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || x < lo || x > hi) {
		fprintf(stderr, "hc-scenario: %s: '%s' not in [%" PRIu64 ", %" PRIu64 "]\n",
			opt, s, lo, hi);
		return -1;
	}
	*v = x;
	return 0;
}

static int frac(const char *opt, const char *s, double *v)
{
	char *end;
	*v = strtod(s, &end);
	if (end == s || *end || !(*v >= 0.0 && *v <= 1.0)) {
		fprintf(stderr, "hc-scenario: %s: '%s' is not a fraction in [0, 1]\n", opt, s);
		return -1;
	}
	return 0;
}

static int ip4(const char *opt, const char *s, uint32_t *v)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "hc-scenario: %s: '%s' is not an IPv4 address\n", opt, s);
		return -1;
	}
	*v = ntohl(a.s_addr);
	return 0;
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{"seed", 1, 0, 's'}, {"users", 1, 0, 'u'}, {"rooms", 1, 0, 'r'},
		{"gateways", 1, 0, 'g'}, {"events", 1, 0, 'e'}, {"batch", 1, 0, 'b'},
		{"batch-mode", 1, 0, 'B'}, {"duplicate", 1, 0, 'd'}, {"reorder", 1, 0, 'o'},
		{"reorder-depth", 1, 0, 'D'}, {"malformed", 1, 0, 'm'},
		{"heartbeat-every", 1, 0, 'H'}, {"split", 1, 0, 'S'}, {"min-frame", 1, 0, 'M'}, {"no-fragments", 0, 0, 'F'},
		{"incarnation", 1, 0, 'I'}, {"max-rooms", 1, 0, 'R'},
		{"max-gateways", 1, 0, 'G'}, {"appliance", 1, 0, 'x'}, {"src-ip", 1, 0, 'y'},
		{"dst-mac", 1, 0, 'X'}, {"src-mac", 1, 0, 'Y'},
		{"out", 1, 0, 'O'}, {"keys", 1, 0, 'k'}, {"no-auth", 0, 0, 'A'},
		{"help", 0, 0, 'h'}, {"version", 0, 0, 'V'}, {0, 0, 0, 0}};
	uint64_t v;
	char host[64];
	int c;

	*o = (struct opts){.seed = 1, .users = 200000, .rooms = 5000, .gateways = 16,
			   .events = 2000000, .batch = HC_MAX_EVENTS_MTU1500, .batch_random = 1,
			   .reorder_depth = 16, .hb_every = 32, .split = 1,
			   .max_rooms = 1u << 18, .max_gateways = 1024, .incarnation = 1};
	o->addr = (struct hc_frame_addr){
		.dst_mac = {2, 0, 0, 0, 0, 1}, .src_mac = {2, 0, 0, 0, 0, 2},
		.src_ip = 0xC6120002, .dst_ip = 0xC6120001, .src_port = 40000,
		.dst_port = HC_PROTO_DEFAULT_PORT};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		int rc = 0;
		switch (c) {
		case 's': rc = num("--seed", optarg, 0, UINT64_MAX, &o->seed); break;
		case 'u': rc = num("--users", optarg, 1, 1u << 30, &v); o->users = (uint32_t)v; break;
		case 'r': rc = num("--rooms", optarg, 1, 1u << 26, &v); o->rooms = (uint32_t)v; break;
		case 'g': rc = num("--gateways", optarg, 1, 65535, &v); o->gateways = (uint32_t)v; break;
		case 'e': rc = num("--events", optarg, 1, 1u << 31, &v); o->events = (uint32_t)v; break;
		case 'b': rc = num("--batch", optarg, 1, HC_MAX_EVENTS, &v); o->batch = (uint32_t)v; break;
		case 'B':
			if (strcmp(optarg, "fixed") == 0) o->batch_random = 0;
			else if (strcmp(optarg, "random") == 0) o->batch_random = 1;
			else { fprintf(stderr, "hc-scenario: --batch-mode fixed|random\n"); rc = -1; }
			break;
		case 'd': rc = frac("--duplicate", optarg, &o->dup); break;
		case 'o': rc = frac("--reorder", optarg, &o->reorder); break;
		case 'D': rc = num("--reorder-depth", optarg, 1, 48, &v); o->reorder_depth = (uint32_t)v; break;
		case 'm': rc = frac("--malformed", optarg, &o->malformed); break;
		case 'H': rc = num("--heartbeat-every", optarg, 1, 1u << 30, &v); o->hb_every = (uint32_t)v; break;
		case 'S': rc = num("--split", optarg, 1, 64, &v); o->split = (uint32_t)v; break;
		case 'M': rc = num("--min-frame", optarg, 0, 60, &v); o->min_frame = (uint32_t)v; break;
		case 'F': o->no_fragments = 1; break;
		case 'I': rc = num("--incarnation", optarg, 1, UINT32_MAX, &v); o->incarnation = (uint32_t)v; break;
		case 'R': rc = num("--max-rooms", optarg, 2, 1u << 26, &v); o->max_rooms = (uint32_t)v; break;
		case 'G': rc = num("--max-gateways", optarg, 2, 65536, &v); o->max_gateways = (uint32_t)v; break;
		case 'x':
			hc_cli_appliance("hc-scenario", optarg, host, sizeof(host),
					 &o->addr.dst_port, HC_PROTO_DEFAULT_PORT);
			rc = ip4("--appliance", host, &o->addr.dst_ip);
			break;
		case 'y': rc = ip4("--src-ip", optarg, &o->addr.src_ip); break;
		case 'X':
			if (hc_frame_parse_mac(optarg, o->addr.dst_mac) != 0)
				hc_cli_bad("hc-scenario", "dst-mac", optarg, "not a MAC address");
			break;
		case 'Y':
			if (hc_frame_parse_mac(optarg, o->addr.src_mac) != 0)
				hc_cli_bad("hc-scenario", "src-mac", optarg, "not a MAC address");
			break;
		case 'O': o->out = optarg; break;
		case 'k': o->keys = optarg; break;
		case 'A': o->no_auth = 1; break;
		case 'h': usage(); exit(0);
		case 'V': hc_cli_version("hc-scenario"); exit(0);
		default: hc_cli_unknown("hc-scenario");
		}
		if (rc != 0)
			return -1;
	}
	if (o->out == NULL) {
		fprintf(stderr, "hc-scenario: --out PREFIX is required\n");
		return -1;
	}
	if (o->rooms >= o->max_rooms || o->gateways >= o->max_gateways) {
		fprintf(stderr, "hc-scenario: rooms must be < --max-rooms and gateways < --max-gateways\n");
		return -1;
	}
	if ((o->keys != NULL) == (o->no_auth != 0)) {
		fprintf(stderr, "hc-scenario: say how datagrams are authenticated: --keys FILE (the "
			"appliance's keys file) or --no-auth (exactly one of them)\n");
		return -1;
	}
	return 0;
}

/* The lowest slot holding a key for gateway id, -1 if none. */
static int key_slot(uint32_t id)
{
	if (ring == NULL || id > 65535)
		return -1;
	return ring->gw[id].have[0] ? 0 : ring->gw[id].have[1] ? 1 : -1;
}

/* -------------------------------------------------------------- random -- */

static uint64_t rng_state;

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t rnd(void) { return splitmix64(&rng_state); }
static uint32_t rnd_below(uint32_t n) { return (uint32_t)(((rnd() >> 32) * n) >> 32); }
static double rnd_unit(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

/* -------------------------------------------------------------- frames -- */

struct frame {
	uint8_t *data;
	uint32_t len;
	uint32_t file;  /* split index */
	uint64_t key;   /* emission order */
	uint64_t idx;   /* tie-break: creation order */
};

static struct frame *frames;
static size_t n_frames, cap_frames;

static void push_frame(const uint8_t *data, size_t len, uint32_t file, uint64_t key)
{
	if (n_frames == cap_frames) {
		cap_frames = cap_frames ? cap_frames * 2 : 65536;
		frames = realloc(frames, cap_frames * sizeof(*frames));
		if (frames == NULL) { perror("hc-scenario"); exit(1); }
	}
	struct frame *f = &frames[n_frames];
	f->data = malloc(len);
	if (f->data == NULL) { perror("hc-scenario"); exit(1); }
	memcpy(f->data, data, len);
	f->len = (uint32_t)len;
	f->file = file;
	f->key = key;
	f->idx = n_frames++;
}

static int frame_cmp(const void *a, const void *b)
{
	const struct frame *x = a, *y = b;
	if (x->key != y->key) return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* -------------------------------------------------------- expectations -- */

struct expect {
	uint64_t datagrams, event_datagrams, events, heartbeats;
	uint64_t joins, moves, leaves, noops, duplicates;
	uint64_t drops[64];
	const char *drop_name[64];
	int n_drop_names;
};
static struct expect ex;

static void expect_drop(const char *name)
{
	for (int i = 0; i < ex.n_drop_names; i++)
		if (strcmp(ex.drop_name[i], name) == 0) { ex.drops[i]++; return; }
	ex.drop_name[ex.n_drop_names] = name;
	ex.drops[ex.n_drop_names++] = 1;
}

/* ----------------------------------------------------------- malformed -- */

#define ETH 14
#define IP  14
#define UDP 34
#define PAY 42

static void set16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void set32(uint8_t *p, uint32_t v) { set16(p, (uint16_t)(v >> 16)); set16(p + 2, (uint16_t)v); }

/* The length of a malformation that makes a frame of its own size (runt,
 * ip_truncated, an ARP request), or SIZE_MAX. */
static size_t short_kind_len(uint32_t kind)
{
	return kind == 0 ? 10 : kind == 2 ? ETH + 10 : kind == 25 ? ETH + 28 : SIZE_MAX;
}

/* Corrupt a copy of a valid EVENTS frame in one of many ways; returns the
 * new length and names the drop reason the appliance must count.  Kinds
 * shorter than --min-frame, and with --no-fragments IP fragments, are
 * drawn again (by default one draw: the same frames as before these
 * options existed). */
static size_t corrupt(uint8_t *f, size_t len, const struct opts *o, const char **reason)
{
	uint16_t count = (uint16_t)(f[PAY + 10] << 8 | f[PAY + 11]);
	/* the kinds after the format's are the tag's: only when sealing (a
	 * corrupted copy stays sealed as it was: the format check, which
	 * comes first, drops it) */
	uint32_t kind;
	do
		kind = rnd_below(ring != NULL ? 27 : 26);
	while (short_kind_len(kind) < o->min_frame || (o->no_fragments && kind == 7));
	switch (kind) {
	case 0: *reason = "runt"; return 10;
	case 1: *reason = "not_ipv4"; set16(f + 12, 0x86DD); return len;
	case 2: *reason = "ip_truncated"; return ETH + 10;
	case 3: *reason = "ip_bad_version"; f[IP] = 0x65; hc_frame_fix_csums(f, len); return len;
	case 4: *reason = "ip_bad_ihl"; f[IP] = 0x44; return len;
	case 5: *reason = "ip_bad_length"; set16(f + IP + 2, (uint16_t)(len - ETH + 100));
		hc_frame_fix_csums(f, len); return len;
	case 6: *reason = "ip_bad_csum"; f[IP + 10] ^= 0x55; return len;
	case 7: *reason = "ip_fragment"; f[IP + 6] |= 0x20; hc_frame_fix_csums(f, len); return len;
	case 8: *reason = "ip_not_for_us"; f[IP + 19] ^= 0x40; hc_frame_fix_csums(f, len); return len;
	case 9: *reason = "not_udp"; f[IP + 9] = 6; hc_frame_fix_csums(f, len); return len;
	case 10: *reason = "udp_bad_length";
		set16(f + UDP + 4, (uint16_t)(len - UDP + 4)); hc_frame_fix_csums(f, len); return len;
	case 11: *reason = "udp_bad_csum"; hc_frame_fix_csums(f, len);
		f[UDP + 6] ^= 0x11;
		if (f[UDP + 6] == 0 && f[UDP + 7] == 0) f[UDP + 7] = 1;
		return len;
	case 12: *reason = "wrong_port"; set16(f + UDP + 2, (uint16_t)(o->addr.dst_port + 1));
		hc_frame_fix_csums(f, len); return len;
	case 13: *reason = "truncated"; len = PAY + 20;
		set16(f + IP + 2, (uint16_t)(len - ETH)); set16(f + UDP + 4, (uint16_t)(len - UDP));
		hc_frame_fix_csums(f, len); return len;
	case 14: *reason = "bad_magic"; f[PAY] ^= 0xff; break;
	case 15: *reason = "bad_version"; f[PAY + 4] = 1; break; /* v1: no tags */
	case 16: *reason = "bad_type"; f[PAY + 5] = rnd_below(2) ? 0 : 9; break;
	case 17: *reason = "wrong_direction"; f[PAY + 5] = HC_MSG_MOVE; break;
	case 18: *reason = "bad_flags"; set16(f + PAY + 6, 0x8000); break;
	case 19: *reason = "bad_gateway"; set16(f + PAY + 8, 0); break;
	case 20: *reason = "bad_length"; set16(f + PAY + 10, (uint16_t)(count + 1)); break;
	case 21: {
		*reason = "bad_record";
		uint8_t *ev = f + PAY + sizeof(struct hc_hdr) + sizeof(struct hc_event) * rnd_below(count);
		switch (rnd_below(4)) {
		case 0: ev[12] = 3; break;                 /* op */
		case 1: set32(ev + 8, 0); break;           /* room 0 */
		case 2: set32(ev + 8, o->max_rooms); break; /* room out of range */
		default: ev[13] = 1; break;                /* flags */
		}
		break;
	}
	case 22: *reason = "bad_sequence"; set32(f + PAY + 20, 0); break;
	case 23: /* a SNAPSHOT whose prefix (in the first record's place)
		  * names 0 chunks: count - 1 members, the frame cut to fit */
		*reason = "bad_record"; f[PAY + 5] = HC_MSG_SNAPSHOT;
		set16(f + PAY + 10, (uint16_t)(count - 1));
		set32(f + PAY + sizeof(struct hc_hdr) + 8, 0);
		len -= sizeof(struct hc_event) - sizeof(struct hc_snapshot_prefix);
		set16(f + IP + 2, (uint16_t)(len - ETH));
		set16(f + UDP + 4, (uint16_t)(len - UDP));
		break;
	case 24: {
		*reason = "gateway_range";
		set16(f + PAY + 8, (uint16_t)o->max_gateways);
		/* a good tag if the file has that id's key, so the range is what
		 * fails whichever the appliance checks first */
		int slot = key_slot(o->max_gateways);
		if (slot >= 0)
			hc_auth_seal(f + PAY, len - PAY, ring->gw[o->max_gateways].key[slot],
				     (unsigned)slot);
		break;
	}
	case 25: { /* an ARP request for someone else */
		*reason = "arp_ignored";
		static const uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1};
		memset(f, 0xff, 6);
		set16(f + 12, 0x0806);
		memcpy(f + ETH, arp, 8);
		memcpy(f + ETH + 8, o->addr.src_mac, 6);
		set32(f + ETH + 14, o->addr.src_ip);
		memset(f + ETH + 18, 0, 6);
		set32(f + ETH + 24, o->addr.dst_ip + 100);
		return ETH + 28;
	}
	default: /* (with --keys) well formed, one byte of the tag wrong */
		*reason = "auth_bad_tag";
		f[PAY + 24 + rnd_below(HC_AUTH_TAG_LEN)] ^= (uint8_t)(1 + rnd_below(255));
		break;
	}
	hc_frame_fix_csums(f, len);
	return len;
}

/* ------------------------------------------------------------ gateways -- */

struct gateway {
	uint16_t id;
	uint32_t seq;
	uint32_t ctl;    /* control counter: the last heartbeat's */
	int slot;        /* key slot, -1: unsealed (--no-auth) */
	uint8_t key[HC_AUTH_KEY_LEN];
	uint32_t since_hb;
	uint32_t n;      /* events in the open batch */
	uint32_t target; /* events that close it */
	uint8_t payload[HC_MAX_PAYLOAD];
	struct hc_frame_addr addr;
	uint16_t ip_id;
};

static uint64_t position; /* emission slots */

/* Seal a complete payload with its gateway's key (nothing with --no-auth). */
static void seal(const struct gateway *g, uint8_t *p, size_t len)
{
	if (g->slot >= 0)
		hc_auth_seal(p, len, g->key, (unsigned)g->slot);
}

static uint32_t file_of(const struct opts *o, uint16_t gw)
{
	return ((uint32_t)(gw - 1) / 2) % o->split;
}

static uint32_t next_target(const struct opts *o)
{
	return o->batch_random ? 1 + rnd_below(o->batch) : o->batch;
}

static void emit_heartbeat(const struct opts *o, struct gateway *g)
{
	uint8_t p[sizeof(struct hc_hdr) + sizeof(struct hc_heartbeat)];
	uint8_t f[HC_FRAME_HDR_LEN + sizeof(p)];
	struct hc_heartbeat hb = {.last_sequence = htonl(g->seq), .user_count = 0,
				  .interval_ms = htonl(1000), .hb_flags = 0};
	hc_proto_fill_hdr(p, HC_MSG_HEARTBEAT, g->id, 1, o->incarnation, 0, ++g->ctl);
	memcpy(p + sizeof(struct hc_hdr), &hb, sizeof(hb));
	seal(g, p, sizeof(p));
	size_t len = hc_frame_build(f, &g->addr, g->ip_id++, p, sizeof(p));
	push_frame(f, len, file_of(o, g->id), position++ * 16 + 8);
	ex.datagrams++;
	ex.heartbeats++;
	g->since_hb = 0;
}

static void emit_events(const struct opts *o, struct gateway *g)
{
	static uint8_t f[HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD];
	static uint8_t bad[HC_FRAME_HDR_LEN + HC_MAX_PAYLOAD];
	size_t plen = sizeof(struct hc_hdr) + (size_t)g->n * sizeof(struct hc_event);

	g->seq++;
	hc_proto_fill_hdr(g->payload, HC_MSG_EVENTS, g->id, (uint16_t)g->n,
			  o->incarnation, 0, g->seq);
	seal(g, g->payload, plen);
	size_t len = hc_frame_build(f, &g->addr, g->ip_id++, g->payload, plen);
	uint32_t file = file_of(o, g->id);
	uint64_t pos = position++;

	if (o->malformed > 0 && rnd_unit() < o->malformed) {
		const char *reason;
		memcpy(bad, f, len);
		size_t blen = corrupt(bad, len, o, &reason);
		push_frame(bad, blen, file, pos * 16 + 4);
		expect_drop(reason);
	}
	uint64_t delay = (o->reorder > 0 && rnd_unit() < o->reorder) ?
		1 + rnd_below(o->reorder_depth) : 0;
	push_frame(f, len, file, (pos + delay) * 16 + 8);
	ex.datagrams++;
	ex.event_datagrams++;
	ex.events += g->n;
	if (o->dup > 0 && rnd_unit() < o->dup) {
		push_frame(f, len, file, (pos + delay + 1 + rnd_below(o->reorder_depth)) * 16 + 12);
		ex.datagrams++;
		ex.duplicates++;
	}
	g->n = 0;
	g->target = next_target(o);
	if (++g->since_hb >= o->hb_every)
		emit_heartbeat(o, g);
}

/* ---------------------------------------------------------------- main -- */

/* The pcaps, written through libpcap (classic format, Ethernet, one
 * microsecond apart in frame order). */
static int write_pcaps(const struct opts *o)
{
	char path[4096];
	pcap_dumper_t *out[64] = {0};
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	int rc = 0;

	if (dead == NULL) {
		fprintf(stderr, "hc-scenario: libpcap: pcap_open_dead failed\n");
		return -1;
	}
	for (uint32_t i = 0; i < o->split && rc == 0; i++) {
		if (o->split == 1)
			snprintf(path, sizeof(path), "%s.pcap", o->out);
		else
			snprintf(path, sizeof(path), "%s.%u.pcap", o->out, i);
		out[i] = pcap_dump_open(dead, path);
		if (out[i] == NULL) {
			fprintf(stderr, "hc-scenario: cannot write %s: %s\n", path, pcap_geterr(dead));
			rc = -1;
		}
	}
	if (rc == 0)
		qsort(frames, n_frames, sizeof(*frames), frame_cmp);
	for (size_t i = 0; i < n_frames && rc == 0; i++) {
		const struct frame *f = &frames[i];
		struct pcap_pkthdr h = {.ts = {.tv_sec = (time_t)(i / 1000000),
					       .tv_usec = (suseconds_t)(i % 1000000)},
					.caplen = f->len, .len = f->len};
		pcap_dump((u_char *)out[f->file], &h, f->data);
	}
	for (uint32_t i = 0; i < o->split; i++) {
		if (out[i] == NULL)
			continue;
		/* pcap_dump reports nothing: the stream's error flag does */
		if (pcap_dump_flush(out[i]) != 0 || ferror(pcap_dump_file(out[i]))) {
			fprintf(stderr, "hc-scenario: write failed: %s\n", strerror(errno));
			rc = -1;
		}
		pcap_dump_close(out[i]);
	}
	pcap_close(dead);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	char path[4096];

	if (parse_opts(&o, argc, argv) != 0)
		return 2;
	rng_state = o.seed * 0xD1342543DE82EF95ull + 0x632BE59BD9B4E019ull;
	if (o.keys != NULL) {
		char err[512];
		if (hc_auth_init() != 0 || (ring = hc_auth_keys_load(o.keys, err, sizeof(err))) == NULL) {
			fprintf(stderr, "hc-scenario: --keys %s\n", ring == NULL ? err : "libsodium");
			return 2;
		}
		for (uint32_t g = 1; g <= o.gateways; g++)
			if (key_slot(g) < 0) {
				fprintf(stderr, "hc-scenario: %s has no key for gateway %u\n", o.keys, g);
				return 2;
			}
	}

	uint64_t *user_id = malloc(sizeof(uint64_t) * o.users);
	uint32_t *user_room = calloc(o.users, sizeof(uint32_t));
	struct gateway *gws = calloc(o.gateways, sizeof(*gws));
	if (user_id == NULL || user_room == NULL || gws == NULL) {
		perror("hc-scenario");
		return 1;
	}
	for (uint32_t i = 0; i < o.users; i++)
		user_id[i] = rnd();
	for (uint32_t g = 0; g < o.gateways; g++) {
		gws[g].id = (uint16_t)(g + 1);
		gws[g].target = next_target(&o);
		gws[g].addr = o.addr;
		gws[g].addr.src_ip = o.addr.src_ip + g;
		gws[g].addr.src_port = (uint16_t)(40000 + g);
		gws[g].slot = key_slot(g + 1);
		if (gws[g].slot >= 0)
			memcpy(gws[g].key, ring->gw[g + 1].key[gws[g].slot], HC_AUTH_KEY_LEN);
	}

	for (uint32_t e = 0; e < o.events; e++) {
		uint32_t u = rnd_below(o.users);
		struct gateway *g = &gws[u % o.gateways];
		uint32_t cur = user_room[u], room;
		uint8_t op;
		double p = rnd_unit();

		if (cur == 0) {
			room = 1 + rnd_below(o.rooms);
			if (p < 0.9) { op = HC_OP_JOIN; user_room[u] = room; ex.joins++; }
			else { op = HC_OP_LEAVE; ex.noops++; }
		} else if (p < 0.35) {
			op = HC_OP_LEAVE; room = cur; user_room[u] = 0; ex.leaves++;
		} else if (p < 0.80) {
			op = HC_OP_JOIN; room = 1 + rnd_below(o.rooms);
			if (room == cur) ex.noops++;
			else { ex.moves++; user_room[u] = room; }
		} else if (p < 0.90) {
			op = HC_OP_JOIN; room = cur; ex.noops++;
		} else {
			op = HC_OP_LEAVE; room = 1 + rnd_below(o.rooms);
			if (room == cur) { user_room[u] = 0; ex.leaves++; }
			else ex.noops++;
		}
		struct hc_event ev = {.user_id = htobe64(user_id[u]), .room_id = htonl(room),
				      .op = op, .flags = 0, .pool_id = 0};
		memcpy(g->payload + sizeof(struct hc_hdr) + (size_t)g->n * sizeof(ev), &ev,
		       sizeof(ev));
		if (++g->n == g->target)
			emit_events(&o, g);
	}
	for (uint32_t g = 0; g < o.gateways; g++) {
		if (gws[g].n > 0)
			emit_events(&o, &gws[g]);
		if (gws[g].seq > 0)
			emit_heartbeat(&o, &gws[g]); /* names the last sequence */
	}
	if (write_pcaps(&o) != 0)
		return 1;

	/* ground truth */
	uint32_t *count = calloc((size_t)o.rooms + 1, sizeof(uint32_t));
	uint64_t users = 0, rooms = 0;
	for (uint32_t u = 0; u < o.users; u++)
		if (user_room[u] != 0) { count[user_room[u]]++; users++; }
	snprintf(path, sizeof(path), "%s.truth.csv", o.out);
	FILE *t = fopen(path, "w");
	if (t == NULL) { perror(path); return 1; }
	fprintf(t, "room,users\n");
	for (uint32_t r = 1; r <= o.rooms; r++)
		if (count[r]) { fprintf(t, "%u,%u\n", r, count[r]); rooms++; }
	if (fclose(t) != 0) { perror(path); return 1; }

	snprintf(path, sizeof(path), "%s.expect", o.out);
	FILE *x = fopen(path, "w");
	if (x == NULL) { perror(path); return 1; }
	uint64_t drops = 0;
	for (int i = 0; i < ex.n_drop_names; i++) drops += ex.drops[i];
	fprintf(x, "rx_frames=%zu\ndatagrams=%" PRIu64 "\nevent_datagrams=%" PRIu64
		"\nevents=%" PRIu64 "\nheartbeats=%" PRIu64 "\njoins=%" PRIu64
		"\nmoves=%" PRIu64 "\nleaves=%" PRIu64 "\nnoops=%" PRIu64
		"\nseq_duplicates=%" PRIu64 "\nseq_lost=0\nusers=%" PRIu64 "\nrooms=%" PRIu64
		"\ndrops=%" PRIu64 "\n",
		n_frames, ex.datagrams, ex.event_datagrams, ex.events, ex.heartbeats,
		ex.joins, ex.moves, ex.leaves, ex.noops, ex.duplicates, users, rooms, drops);
	for (int i = 0; i < ex.n_drop_names; i++)
		fprintf(x, "drop_%s=%" PRIu64 "\n", ex.drop_name[i], ex.drops[i]);
	if (fclose(x) != 0) { perror(path); return 1; }

	printf("hc-scenario: %zu frames (%" PRIu64 " event datagrams, %" PRIu64
	       " events, %" PRIu64 " duplicates, %" PRIu64 " malformed), truth: %" PRIu64
	       " users in %" PRIu64 " rooms\n",
	       n_frames, ex.event_datagrams, ex.events, ex.duplicates, drops, users, rooms);
	for (size_t i = 0; i < n_frames; i++) free(frames[i].data);
	if (ring != NULL) { sodium_memzero(ring, sizeof(*ring)); free(ring); }
	sodium_memzero(gws, sizeof(*gws) * o.gateways);
	free(frames); free(user_id); free(user_room); free(gws); free(count);
	return 0;
}
