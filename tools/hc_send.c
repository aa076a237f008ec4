/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_send.c - hc-send: replay a scenario's datagrams through kernel UDP
 * sockets, as real gateways would send them.
 *
 * Reads capture files (pcap or pcapng, through libpcap), such as
 * hc-scenario writes, keeps the frames that are clean
 * IPv4/UDP datagrams to the scenario's port (frames malformed below UDP
 * cannot be produced by a socket and are skipped), and sends each payload
 * with sendto() from one socket per gateway id (so each gateway is its own
 * UDP flow), paced to --rate datagrams per second.  It classifies every
 * payload it sends as the appliance will (longer than HC_MAX_PAYLOAD:
 * udp_too_big; then the appliance's own validator) and writes, with
 * --expect, the counters the appliance must then show (key=value, the
 * names of --dump-stats).  With --keys (the appliance's keys file) it also
 * checks each well-formed datagram's tag as the appliance would, after the
 * gateway range: auth_missing, auth_no_key, auth_bad_tag.  Bounded: stops
 * after --timeout seconds.
 *
 * A replay cannot answer the appliance's NACKs, so a datagram lost on the
 * way is lost for good.  With --prefix, it never has more than
 * --window frames in flight: it waits until the appliance has counted
 * (rx_frames, or missed / in error at its ports) all but that many of the
 * frames sent, so an appliance slowed down by a busy machine is never
 * overrun (af_packet's ring would drop the excess, uncounted).  If it
 * takes nothing for 10 s, the window is counted as lost, with a warning.
 *
 * With --csum-offload (the sending device leaves UDP checksums to
 * offload: Linux writes the pseudo header's sum where the checksum goes),
 * it counts and prints the datagrams whose unfinished checksum happens to verify in
 * full (about one in 65,535: the field's sum added twice to the rest's
 * comes to all ones).  The appliance cannot tell those from finished
 * ones, so it takes them as plain datagrams, not udp_csum_partial; a test
 * subtracts them.  Each socket is then connected, so its source address
 * and port are known.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "hc_auth.h"
#include "hc_csum.h"
#include "hc_cli.h"
#include "hc_frame.h"
#include "hc_tel_client.h"
#include "hc_proto.h"
#include "hc_proto_check.h"

#define MAX_SOCKETS 4096

struct sender {
	struct sockaddr_in dst;
	uint16_t scenario_port;
	uint32_t max_rooms, max_gateways;
	double rate, timeout;
	const char *telemetry;  /* appliance's file prefix: flow control */
	uint64_t window, rx0;   /* frames in flight at most; taken before */
	uint64_t stalls;        /* windows given up on (see wait_window) */
	int socks[MAX_SOCKETS];
	int csum_offload;       /* --csum-offload: count csum_verifying */
	uint64_t csum_verifying; /* datagrams whose partial checksum verifies */
	/* expectations */
	uint64_t sent, skipped, datagrams, event_datagrams, heartbeats, duplicates;
	uint64_t verdicts[HC_PV_COUNT], gateway_range, too_big;
	struct hc_auth_keyring *ring;   /* --keys: expect the tag checks */
	uint64_t auth_missing, auth_no_key, auth_bad_tag;
	uint8_t *seen; /* [gateway][seq] bitmap per gateway, grown on demand */
	uint32_t *seen_cap;
	uint8_t **seen_bits;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)be16(p) << 16 | be16(p + 2); }

/* Is this a clean IPv4/UDP frame to the scenario's port? Sets payload. */
static int clean_udp(const uint8_t *f, uint32_t len, uint16_t port,
		     const uint8_t **payload, uint32_t *plen)
{
	if (len < HC_FRAME_HDR_LEN || be16(f + 12) != 0x0800)
		return 0;
	const uint8_t *ip = f + 14;
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4, total = be16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl + 8 || 14 + total > len ||
	    hc_frame_csum(ip, ihl, 0) != 0xffff || (be16(ip + 6) & 0x3fff) != 0 ||
	    ip[9] != 17)
		return 0;
	const uint8_t *udp = ip + ihl;
	if (be16(udp + 4) != total - ihl || be16(udp + 2) != port)
		return 0;
	if (be16(udp + 6) != 0) {
		uint32_t pseudo = (uint32_t)be16(ip + 12) + be16(ip + 14) + be16(ip + 16) +
				  be16(ip + 18) + 17 + (total - ihl);
		if (hc_frame_csum(udp, total - ihl, pseudo) != 0xffff)
			return 0;
	}
	*payload = udp + 8;
	*plen = total - ihl - 8;
	return 1;
}

/* Has (gateway, sequence) been sent before?  Marks it. Incarnations are
 * one per scenario, so the gateway and sequence name a datagram. */
static int seen_before(struct sender *s, uint16_t gw, uint32_t seq)
{
	if (s->seen_cap[gw] <= seq / 8) {
		uint32_t cap = s->seen_cap[gw] ? s->seen_cap[gw] : 1024;
		while (cap <= seq / 8)
			cap *= 2;
		s->seen_bits[gw] = realloc(s->seen_bits[gw], cap);
		if (s->seen_bits[gw] == NULL) { perror("hc-send"); exit(1); }
		memset(s->seen_bits[gw] + s->seen_cap[gw], 0, cap - s->seen_cap[gw]);
		s->seen_cap[gw] = cap;
	}
	uint8_t bit = (uint8_t)(1u << (seq & 7));
	int was = (s->seen_bits[gw][seq / 8] & bit) != 0;
	s->seen_bits[gw][seq / 8] |= bit;
	return was;
}

/* The appliance's tag check (--keys): 0 if it passes, else counted. */
static int auth_drop(struct sender *s, const uint8_t *p, uint32_t len)
{
	static uint8_t copy[HC_MAX_PAYLOAD];
	if (s->ring == NULL)
		return 0;
	uint16_t flags = be16(p + 6), gw = be16(p + 8);
	const struct hc_auth_gw_keys *k = &s->ring->gw[gw];
	if (!(flags & HC_HDR_F_AUTH)) {
		s->auth_missing++;
		return 1;
	}
	if (!k->have[(flags & HC_HDR_F_KEY_SLOT) ? 1 : 0]) {
		s->auth_no_key++;
		return 1;
	}
	if (len > sizeof(copy))
		return 0;
	memcpy(copy, p, len); /* hc_auth_verify writes while it works */
	if (hc_auth_verify(copy, len, k) < 0) {
		s->auth_bad_tag++;
		return 1;
	}
	return 0;
}

static void classify(struct sender *s, const uint8_t *p, uint32_t len)
{
	if (len > HC_MAX_PAYLOAD) {
		s->too_big++;
		return;
	}
	enum hc_proto_verdict v = hc_proto_check_inbound(p, len, s->max_rooms);
	if (v != HC_PV_OK) {
		s->verdicts[v]++;
		return;
	}
	uint16_t gw = be16(p + 8);
	if (gw >= s->max_gateways) {
		s->gateway_range++;
		return;
	}
	if (auth_drop(s, p, len))
		return;
	s->datagrams++;
	if (p[5] == HC_MSG_HEARTBEAT)
		s->heartbeats++;
	else if (p[5] != HC_MSG_EVENTS && p[5] != HC_MSG_SNAPSHOT)
		return; /* PLACE: not sequenced */
	else if (seen_before(s, gw, be32(p + 20)))
		s->duplicates++;
	else if (p[5] == HC_MSG_EVENTS)
		s->event_datagrams++;
}

/* Frames the appliance has taken off the wire: read, or counted as
 * missed or in error by its ports; -1 when it does not answer. */
static int64_t appliance_rx(const struct sender *s)
{
	static const char *const keys[] = {"rx_frames", "port_imissed", "port_ierrors",
					   "port_rx_nombuf"};
	static char last[256];
	char err[256];
	uint64_t total = 0, v;
	json_t *stats = hc_tel_query_json(s->telemetry, "/headcount/stats", err, sizeof(err));
	for (size_t i = 0; stats != NULL && i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (hc_tel_u64(stats, keys[i], &v, err, sizeof(err)) != 0) {
			json_decref(stats);
			stats = NULL;
			break;
		}
		total += v;
	}
	if (stats == NULL) {
		if (strcmp(last, err) != 0) /* said once, not at every poll */
			fprintf(stderr, "hc-send: telemetry /headcount/stats: %s\n", err);
		snprintf(last, sizeof(last), "%s", err);
		return -1;
	}
	json_decref(stats);
	return (int64_t)total;
}

/* Flow control: wait until at most window - 1 frames sent are not yet
 * counted by the appliance.  0, or -1 at the timeout. */
static int wait_window(struct sender *s, double start)
{
	static uint64_t counted; /* frames of ours the appliance has seen */
	if (s->telemetry == NULL || s->sent < counted + s->window)
		return 0;
	double progress = now_s();
	for (;;) {
		int64_t rx = appliance_rx(s);
		if (rx >= 0 && (uint64_t)rx >= s->rx0 && (uint64_t)rx - s->rx0 > counted) {
			counted = (uint64_t)rx - s->rx0;
			progress = now_s();
		}
		if (s->sent < counted + s->window)
			return 0;
		if (now_s() - start > s->timeout)
			return -1;
		if (now_s() - progress > 10) {
			/* frames lost before the appliance could count them (or it
			 * restarted): say so, and count the window as taken */
			fprintf(stderr, "hc-send: the appliance took no frame for 10 s; "
				"%" PRIu64 " frames in flight taken as lost\n", s->sent - counted);
			s->stalls++;
			counted = s->sent;
			return 0;
		}
		usleep(500);
	}
}

static int socket_for(struct sender *s, uint16_t gw)
{
	unsigned i = gw % MAX_SOCKETS;
	if (s->socks[i] < 0) {
		s->socks[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (s->socks[i] < 0) { perror("hc-send: socket"); exit(1); }
		int buf = 4 << 20;
		setsockopt(s->socks[i], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		if (s->csum_offload &&
		    connect(s->socks[i], (const struct sockaddr *)&s->dst, sizeof(s->dst)) != 0) {
			perror("hc-send: connect");
			exit(1);
		}
	}
	return s->socks[i];
}

/*
 * Whether the datagram of plen bytes at p, just sent from sock, left the
 * sender with its checksum unfinished (the pseudo header's folded sum,
 * not inverted, as Linux's udp4_hwcsum writes) will verify in full at the
 * appliance as if finished.
 */
static int partial_csum_verifies(const struct sender *s, int sock, const uint8_t *p,
				 uint32_t plen)
{
	struct sockaddr_in src;
	socklen_t sl = sizeof(src);
	if (getsockname(sock, (struct sockaddr *)&src, &sl) != 0) {
		perror("hc-send: getsockname");
		exit(1);
	}
	uint32_t l4_len = plen + 8;
	uint8_t pseudo[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 17, (uint8_t)(l4_len >> 8),
			      (uint8_t)l4_len};
	memcpy(pseudo, &src.sin_addr.s_addr, 4);
	memcpy(pseudo + 4, &s->dst.sin_addr.s_addr, 4);
	uint64_t psum = hc_csum_add(pseudo, sizeof(pseudo), 0);
	uint16_t partial = hc_csum_fold(psum); /* what the field holds */
	uint8_t hdr[8];
	memcpy(hdr, &src.sin_port, 2);
	memcpy(hdr + 2, &s->dst.sin_port, 2);
	hdr[4] = (uint8_t)(l4_len >> 8);
	hdr[5] = (uint8_t)l4_len;
	memcpy(hdr + 6, &partial, 2); /* the sum, in the bytes' own order */
	/* pseudo header, UDP header, payload: summed in place, no copy */
	return hc_csum_fold(hc_csum_add(p, plen, hc_csum_add(hdr, sizeof(hdr), psum))) == 0xffff;
}

static int send_file(struct sender *s, const char *path, double start)
{
	char err[PCAP_ERRBUF_SIZE];
	/* libpcap reads both formats: classic pcap and pcapng */
	pcap_t *f = pcap_open_offline(path, err);
	struct pcap_pkthdr *rec;
	const u_char *frame;
	int got;

	if (f == NULL) {
		fprintf(stderr, "hc-send: %s: %s\n", path, err);
		return -1;
	}
	if (pcap_datalink(f) != DLT_EN10MB) {
		fprintf(stderr, "hc-send: %s: link type %s, not Ethernet\n", path,
			pcap_datalink_val_to_name(pcap_datalink(f)));
		pcap_close(f);
		return -1;
	}
	while ((got = pcap_next_ex(f, &rec, &frame)) == 1) {
		const uint8_t *p;
		uint32_t plen;
		/* a frame cut short by the capture cannot be sent whole */
		if (rec->caplen < rec->len || !clean_udp(frame, rec->caplen, s->scenario_port, &p, &plen)) {
			s->skipped++;
			continue;
		}
		uint16_t gw = plen >= 10 ? be16(p + 8) : 0;
		if (wait_window(s, start) != 0) {
			fprintf(stderr, "hc-send: --timeout of %.0f s reached waiting for the "
				"appliance to take %" PRIu64 " frames\n", s->timeout, s->sent);
			pcap_close(f);
			return -1;
		}
		/* pace: never ahead of rate */
		double due = start + (double)s->sent / s->rate;
		for (;;) {
			double t = now_s();
			if (t - start > s->timeout) {
				fprintf(stderr, "hc-send: --timeout of %.0f s reached\n", s->timeout);
				pcap_close(f);
				return -1;
			}
			if (t >= due)
				break;
			double gap = due - t;
			if (gap > 0.0002) {
				struct timespec ts = {0, (long)(gap * 1e9)};
				nanosleep(&ts, NULL);
			}
		}
		int sock = socket_for(s, gw);
		for (int tries = 0;; tries++) {
			ssize_t n = sendto(sock, p, plen, 0,
					   (const struct sockaddr *)&s->dst, sizeof(s->dst));
			if (n == (ssize_t)plen)
				break;
			/* a connected socket (--csum-offload) reports an ICMP error
			 * for an earlier datagram on the next call, which sent
			 * nothing */
			if (n < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED) &&
			    tries < 1000) {
				usleep(100);
				continue;
			}
			fprintf(stderr, "hc-send: sendto: %s\n", strerror(errno));
			pcap_close(f);
			return -1;
		}
		s->sent++;
		if (s->csum_offload && plen <= HC_MAX_PAYLOAD && partial_csum_verifies(s, sock, p, plen))
			s->csum_verifying++;
		classify(s, p, plen);
	}
	if (got != PCAP_ERROR_BREAK) {
		fprintf(stderr, "hc-send: %s: %s\n", path, pcap_geterr(f));
		pcap_close(f);
		return -1;
	}
	pcap_close(f);
	return 0;
}

static void usage(void)
{
	printf("Usage: hc-send --appliance A.B.C.D[:PORT] [options] FILE...\n"
	       "Replay the datagrams of capture FILEs (pcap or pcapng, e.g. hc-scenario's)\n"
	       "to the appliance through kernel UDP sockets, one per gateway.\n"
	       "  --appliance A[:PORT]  the appliance: address and UDP port (the port is\n"
	       "                        also the one the captured datagrams go to) [:%u]\n"
	       "  --rate N              datagrams per second           [20000]\n"
	       "  --timeout S           give up after S seconds        [120]\n"
	       "  --max-rooms N         the appliance's --max-rooms    [262144]\n"
	       "  --max-gateways N      the appliance's --max-gateways [1024]\n"
	       "  --expect FILE         write the counters the appliance must show\n"
	       "  --prefix P            the appliance's telemetry file prefix (its EAL\n"
	       "                        --file-prefix): flow control\n"
	       "  --window N            with --prefix: frames in flight at most [1024]\n"
	       "  --keys FILE           the appliance's keys file: --expect the tag checks\n"
	       "                        too (auth_missing, auth_no_key, auth_bad_tag)\n"
	       "  --csum-offload        the sending device leaves UDP checksums to offload:\n"
	       "                        count the datagrams whose unfinished checksum\n"
	       "                        verifies anyway (the appliance takes them as\n"
	       "                        finished), and print how many\n"
	       "  --help                this text\n"
	       "  --version             the program's version\n",
	       HC_PROTO_DEFAULT_PORT);
}

int main(int argc, char **argv)
{
	static struct sender s;
	static const struct option lo[] = {
		{"appliance", 1, 0, 'a'}, {"rate", 1, 0, 'r'},
		{"timeout", 1, 0, 't'}, {"max-rooms", 1, 0, 'R'}, {"max-gateways", 1, 0, 'G'},
		{"expect", 1, 0, 'e'}, {"prefix", 1, 0, 'P'}, {"window", 1, 0, 'w'},
		{"keys", 1, 0, 'k'}, {"csum-offload", 0, 0, 'C'}, {"help", 0, 0, 'h'}, {"version", 0, 0, 'V'}, {0, 0, 0, 0}};
	const char *expect = NULL, *keys = NULL;
	char host[64];
	int c, have_dst = 0;

	s.dst.sin_family = AF_INET;
	s.dst.sin_port = htons(HC_PROTO_DEFAULT_PORT);
	s.scenario_port = HC_PROTO_DEFAULT_PORT;
	s.rate = 20000;
	s.timeout = 120;
	s.max_rooms = 1u << 18;
	s.max_gateways = 1024;
	s.window = 1024;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			hc_cli_appliance("hc-send", optarg, host, sizeof(host), &s.scenario_port,
					 HC_PROTO_DEFAULT_PORT);
			if (inet_pton(AF_INET, host, &s.dst.sin_addr) != 1)
				hc_cli_bad("hc-send", "appliance", optarg, "not an IPv4 address");
			s.dst.sin_port = htons(s.scenario_port);
			have_dst = 1;
			break;
		case 'r': s.rate = hc_cli_double("hc-send", "rate", optarg, 1e-3, 1e9); break;
		case 't': s.timeout = hc_cli_double("hc-send", "timeout", optarg, 1e-3, 1e6); break;
		case 'R': s.max_rooms = (uint32_t)hc_cli_u64("hc-send", "max-rooms", optarg, 1, UINT32_MAX); break;
		case 'G': s.max_gateways = (uint32_t)hc_cli_u64("hc-send", "max-gateways", optarg, 2, 65536); break;
		case 'e': expect = optarg; break;
		case 'P': s.telemetry = optarg; break;
		case 'w': s.window = hc_cli_u64("hc-send", "window", optarg, 1, UINT64_MAX); break;
		case 'k': keys = optarg; break;
		case 'C': s.csum_offload = 1; break;
		case 'h': usage(); return 0;
		case 'V': hc_cli_version("hc-send"); return 0;
		default: hc_cli_unknown("hc-send");
		}
	}
	if (!have_dst) {
		fprintf(stderr, "hc-send: --appliance is required (see --help)\n");
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "hc-send: no capture FILE to send (see --help)\n");
		return 2;
	}
	if (keys != NULL) {
		char err[512];
		if (hc_auth_init() != 0 || (s.ring = hc_auth_keys_load(keys, err, sizeof(err))) == NULL) {
			fprintf(stderr, "hc-send: --keys %s\n", s.ring == NULL ? err : "libsodium");
			return 2;
		}
	}
	for (int i = 0; i < MAX_SOCKETS; i++)
		s.socks[i] = -1;
	s.seen_cap = calloc(65536, sizeof(uint32_t));
	s.seen_bits = calloc(65536, sizeof(uint8_t *));
	if (s.seen_cap == NULL || s.seen_bits == NULL) { perror("hc-send"); return 1; }

	if (s.telemetry != NULL) {
		int64_t rx = appliance_rx(&s);
		if (rx < 0) {
			fprintf(stderr, "hc-send: no telemetry from appliance '%s'\n", s.telemetry);
			return 1;
		}
		s.rx0 = (uint64_t)rx;
	}
	double start = now_s();
	int rc = 0;
	for (int i = optind; i < argc && rc == 0; i++)
		rc = send_file(&s, argv[i], start);
	double secs = now_s() - start;
	printf("hc-send: sent %" PRIu64 " datagrams in %.2f s (%.0f/s), skipped %" PRIu64
	       " frames malformed below UDP\n", s.sent, secs, (double)s.sent / secs, s.skipped);
	if (s.csum_offload)
		printf("hc-send: %" PRIu64 " of them with an unfinished checksum that verifies "
		       "as finished\n", s.csum_verifying);
	if (expect != NULL) {
		FILE *x = fopen(expect, "w");
		if (x == NULL) { perror(expect); return 1; }
		fprintf(x, "datagrams=%" PRIu64 "\nevent_datagrams=%" PRIu64 "\nheartbeats=%" PRIu64
			"\nseq_duplicates=%" PRIu64 "\nseq_lost=0\ndrop_gateway_range=%" PRIu64
			"\ndrop_udp_too_big=%" PRIu64 "\n", s.datagrams, s.event_datagrams,
			s.heartbeats, s.duplicates, s.gateway_range, s.too_big);
		for (int v = 1; v < HC_PV_COUNT; v++)
			fprintf(x, "drop_%s=%" PRIu64 "\n", hc_proto_verdict_names[v], s.verdicts[v]);
		if (s.ring != NULL)
			fprintf(x, "drop_auth_missing=%" PRIu64 "\ndrop_auth_no_key=%" PRIu64
				"\ndrop_auth_bad_tag=%" PRIu64 "\n", s.auth_missing, s.auth_no_key,
				s.auth_bad_tag);
		fclose(x);
	}
	return rc == 0 ? 0 : 1;
}
