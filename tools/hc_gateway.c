/*
 * hc_gateway.c - hc-gateway: one gateway that places its users through
 * the appliance, like a real front end would, over a kernel UDP socket.
 *
 * Users enter through placement: PLACE (batched, 89 per datagram), wait
 * for the ASSIGN (resending unanswered PLACEs, bounded), then JOIN the
 * assigned room (sequenced EVENTS).  Each churn round, a fraction of the
 * present users LEAVE, and after a pause are placed and join again.  At
 * the end a HEARTBEAT names the last sequence.  The tool keeps its own
 * truth, writes it as a room table (--truth FILE, the --dump-rooms
 * format) and checks what placement promised: no room above --max, and no
 * more rooms than ceil(users / max) (placement fills the fullest room with
 * a free seat before it opens a new one; --shared when other gateways use
 * the same rooms, so only the appliance's table can tell).  Bounded in
 * time (--timeout).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hc_proto.h"
#include "hc_proto_hdr.h"

static int sock;
static struct sockaddr_in dst;
static uint16_t gw_id = 1, pool_id;
static uint32_t incarnation, seq;
static double deadline;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void send_dgram(const void *p, size_t len)
{
	for (int tries = 0; tries < 1000; tries++) {
		if (sendto(sock, p, len, 0, (const struct sockaddr *)&dst, sizeof(dst)) == (ssize_t)len)
			return;
		if (errno != ENOBUFS && errno != EAGAIN)
			break;
		usleep(100);
	}
	perror("hc-gateway: sendto");
	exit(1);
}

static void fill_hdr(uint8_t *p, uint8_t type, uint16_t count, uint32_t sequence)
{
	hc_proto_fill_hdr(p, type, gw_id, count, incarnation, 0, sequence);
}

/* Users, their ids and rooms. */
static uint32_t n_users, max_room_size = 100;
static uint64_t *uid;
static uint32_t *room;     /* 0: not in a room */
static uint32_t *assigned; /* from the last ASSIGN, 0: none yet */
static uint64_t assigns_seen, resent;

static void send_events(const uint32_t *who, uint32_t n, uint8_t op)
{
	uint8_t p[HC_MAX_PAYLOAD_MTU1500];
	for (uint32_t i = 0; i < n;) {
		uint16_t k = (uint16_t)(n - i < 64 ? n - i : 64);
		fill_hdr(p, HC_MSG_EVENTS, k, ++seq);
		for (uint16_t j = 0; j < k; j++) {
			uint32_t u = who[i + j];
			uint32_t r = op == HC_OP_JOIN ? assigned[u] : room[u];
			struct hc_event ev = {.user_id = htobe64(uid[u]), .room_id = htonl(r),
					      .op = op, .pool_id = htons(pool_id)};
			memcpy(p + sizeof(struct hc_hdr) + j * 16, &ev, 16);
			room[u] = op == HC_OP_JOIN ? r : 0;
		}
		send_dgram(p, sizeof(struct hc_hdr) + (size_t)k * 16);
		i += k;
	}
}

static void send_places(const uint32_t *who, uint32_t n)
{
	uint8_t p[HC_MAX_PAYLOAD_MTU1500];
	for (uint32_t i = 0; i < n;) {
		uint16_t k = (uint16_t)(n - i < 89 ? n - i : 89);
		fill_hdr(p, HC_MSG_PLACE, k, 0);
		for (uint16_t j = 0; j < k; j++) {
			uint32_t u = who[i + j];
			struct hc_place pl = {.user_id = htobe64(uid[u]), .request_id = htonl(u + 1),
					      .pool_id = htons(pool_id)};
			memcpy(p + sizeof(struct hc_hdr) + j * 16, &pl, 16);
		}
		send_dgram(p, sizeof(struct hc_hdr) + (size_t)k * 16);
		i += k;
	}
}

/* Users that joined a room directly (no placement): index by user id. */
static uint32_t n_direct;
static uint64_t *direct_uid;
static uint32_t *direct_room, *direct_refused;
static uint64_t new_topics;

/* A direct JOIN was refused: remember where the appliance sends the user. */
static void new_topic(const struct hc_assign *a)
{
	for (uint32_t i = 0; i < n_direct; i++) {
		if (direct_uid[i] == be64toh(a->user_id) &&
		    direct_refused[i] == ntohl(a->refused_room)) {
			direct_room[i] = ntohl(a->room_id);
			new_topics++;
			return;
		}
	}
}

/* MOVE directives: the user leaves `from` and joins `to`, in one EVENTS
 * datagram, if they are still in `from`. */
static uint64_t moves_obeyed, moves_stale, moves_ignored;
static uint32_t ignore_moves; /* --ignore-moves: drop the first N (tests resends) */
static void send_events(const uint32_t *who, uint32_t n, uint8_t op);

static void obey_move(const struct hc_move *mv)
{
	uint64_t user = be64toh(mv->user_id);
	uint32_t from = ntohl(mv->from_room), to = ntohl(mv->to_room);
	if (moves_ignored < ignore_moves) {
		moves_ignored++;
		return;
	}
	for (uint32_t u = 0; u < n_users; u++) {
		if (uid[u] != user)
			continue;
		if (room[u] != from) {
			moves_stale++;
			return;
		}
		uint32_t who = u;
		send_events(&who, 1, HC_OP_LEAVE);
		assigned[u] = to;
		send_events(&who, 1, HC_OP_JOIN);
		moves_obeyed++;
		return;
	}
	moves_stale++;
}

/* Read ASSIGNs for up to `wait` seconds; returns how many users got one. */
static uint32_t read_assigns(double wait)
{
	uint8_t buf[2048];
	uint32_t got = 0;
	double until = now_s() + wait;
	for (;;) {
		double left = until - now_s();
		if (left <= 0)
			break;
		struct pollfd pfd = {.fd = sock, .events = POLLIN};
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			break;
		ssize_t n;
		while ((n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			struct hc_hdr h;
			if ((size_t)n < sizeof(h))
				continue;
			memcpy(&h, buf, sizeof(h));
			uint16_t count = ntohs(h.record_count);
			if (ntohl(h.magic) == HC_PROTO_MAGIC && h.type == HC_MSG_MOVE &&
			    (size_t)n == sizeof(h) + count * sizeof(struct hc_move)) {
				for (uint16_t i = 0; i < count; i++) {
					struct hc_move mv;
					memcpy(&mv, buf + sizeof(h) + i * sizeof(mv), sizeof(mv));
					obey_move(&mv);
				}
				continue;
			}
			if (ntohl(h.magic) != HC_PROTO_MAGIC || h.type != HC_MSG_ASSIGN ||
			    (size_t)n != sizeof(h) + count * sizeof(struct hc_assign))
				continue;
			for (uint16_t i = 0; i < count; i++) {
				struct hc_assign a;
				memcpy(&a, buf + sizeof(h) + i * sizeof(a), sizeof(a));
				if (a.status == HC_ASSIGN_NEW_TOPIC) {
					new_topic(&a);
					continue;
				}
				uint32_t u = ntohl(a.request_id) - 1;
				if (u >= n_users || be64toh(a.user_id) != uid[u] ||
				    a.status != HC_ASSIGN_PLACED || assigned[u] != 0)
					continue;
				assigned[u] = ntohl(a.room_id);
				assigns_seen++;
				got++;
			}
		}
	}
	return got;
}

/* Place `who` and join them where the appliance says. */
static int enter(const uint32_t *who, uint32_t n, uint32_t *scratch)
{
	for (uint32_t i = 0; i < n; i++)
		assigned[who[i]] = 0;
	uint32_t pending = n;
	/* bounded by --timeout, not by a count of tries: on a busy machine an
	 * answer may take long; a resent PLACE gets the same seat */
	for (int attempt = 0; pending > 0 && now_s() < deadline; attempt++) {
		uint32_t k = 0;
		for (uint32_t i = 0; i < n; i++)
			if (assigned[who[i]] == 0)
				scratch[k++] = who[i];
		if (attempt > 0)
			resent += k;
		send_places(scratch, k);
		read_assigns(attempt == 0 ? 0.3 : 0.5);
		pending = 0;
		for (uint32_t i = 0; i < n; i++)
			pending += assigned[who[i]] == 0;
	}
	if (pending > 0) {
		fprintf(stderr, "hc-gateway: %u users never got an ASSIGN\n", pending);
		return -1;
	}
	send_events(who, n, HC_OP_JOIN);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"dst", 1, 0, 'd'}, {"port", 1, 0, 'p'}, {"gateway-id", 1, 0, 'g'},
		{"users", 1, 0, 'u'}, {"rounds", 1, 0, 'r'}, {"churn", 1, 0, 'c'},
		{"pool", 1, 0, 'P'}, {"max", 1, 0, 'm'}, {"seed", 1, 0, 's'},
		{"truth", 1, 0, 't'}, {"timeout", 1, 0, 'T'}, {"shared", 0, 0, 'S'},
		{"direct", 1, 0, 'D'}, {"seed-rooms", 1, 0, 'R'}, {"settle", 1, 0, 'L'},
		{"ignore-moves", 1, 0, 'I'}, {"settle-until", 1, 0, 'U'},
		{0, 0, 0, 0}};
	uint32_t rounds = 3;
	double churn = 0.3, timeout = 60;
	uint64_t seed = 1;
	const char *truth = NULL;
	int c, have_dst = 0, shared = 0;
	uint32_t direct = 0;
	const char *seed_rooms = NULL;
	double settle = 0;
	const char *settle_until = NULL;

	dst.sin_family = AF_INET;
	dst.sin_port = htons(HC_PROTO_DEFAULT_PORT);
	n_users = 1000;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': have_dst = inet_pton(AF_INET, optarg, &dst.sin_addr) == 1; break;
		case 'p': dst.sin_port = htons((uint16_t)atoi(optarg)); break;
		case 'g': gw_id = (uint16_t)atoi(optarg); break;
		case 'u': n_users = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'r': rounds = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'c': churn = atof(optarg); break;
		case 'P': pool_id = (uint16_t)atoi(optarg); break;
		case 'm': max_room_size = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 't': truth = optarg; break;
		case 'T': timeout = atof(optarg); break;
		case 'S': shared = 1; break;
		case 'D': direct = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'R': seed_rooms = optarg; break;
		case 'L': settle = atof(optarg); break;
		case 'U': settle_until = optarg; break;
		case 'I': ignore_moves = (uint32_t)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: hc-gateway --dst A [--gateway-id G] [--users N] "
				"[--rounds R] [--churn F] [--pool P] [--max M] [--truth FILE]\n");
			return 2;
		}
	}
	if (!have_dst || gw_id == 0 || n_users == 0 || n_users > 10000000 ||
	    !(churn >= 0 && churn <= 1) || max_room_size == 0) {
		fprintf(stderr, "hc-gateway: bad arguments (see the source's header)\n");
		return 2;
	}
	deadline = now_s() + timeout;
	incarnation = (uint32_t)time(NULL);
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	int bufsz = 8 << 20;
	setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	struct sockaddr_in any = {.sin_family = AF_INET};
	if (sock < 0 || bind(sock, (struct sockaddr *)&any, sizeof(any)) != 0) {
		perror("hc-gateway: socket");
		return 1;
	}
	uid = malloc(sizeof(uint64_t) * n_users);
	room = calloc(n_users, sizeof(uint32_t));
	assigned = calloc(n_users, sizeof(uint32_t));
	uint32_t *who = malloc(sizeof(uint32_t) * n_users);
	uint32_t *scratch = malloc(sizeof(uint32_t) * n_users);
	if (!uid || !room || !assigned || !who || !scratch)
		return 1;
	uint64_t rs = seed * 0x9E3779B97F4A7C15ull + gw_id;
	for (uint32_t u = 0; u < n_users; u++) {
		rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
		uid[u] = rs;
		who[u] = u;
	}
	int rc = 0;
	uint32_t seed_sizes[64], n_seed = 0;
	if (seed_rooms != NULL) {
		/* users join rooms 1001, 1002, ... directly, with the given sizes */
		char tmp[512];
		snprintf(tmp, sizeof(tmp), "%s", seed_rooms);
		uint32_t total = 0;
		for (char *t = strtok(tmp, ","); t != NULL && n_seed < 64; t = strtok(NULL, ","))
			total += seed_sizes[n_seed++] = (uint32_t)strtoul(t, NULL, 10);
		if (total > n_users) {
			fprintf(stderr, "hc-gateway: --seed-rooms needs --users >= %u\n", total);
			return 2;
		}
		n_users = total;
		uint32_t u = 0;
		for (uint32_t k = 0; k < n_seed; k++)
			for (uint32_t i = 0; i < seed_sizes[k]; i++, u++)
				assigned[u] = 1001 + k;
		send_events(who, n_users, HC_OP_JOIN);
		rounds = 0;
	} else {
		rc = enter(who, n_users, scratch);
	}
	for (uint32_t r = 0; r < rounds && rc == 0; r++) {
		usleep(100000);
		uint32_t k = 0;
		for (uint32_t u = 0; u < n_users; u++) {
			rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
			if ((double)(rs >> 11) / 9007199254740992.0 < churn)
				who[k++] = u;
		}
		send_events(who, k, HC_OP_LEAVE);
		usleep(50000); /* let the leaves reach the seat book first */
		rc = enter(who, k, scratch);
	}
	/* direct joins into the fullest room of ours: refused when it is full,
	 * answered with NEW_TOPIC; the users follow the answer */
	uint32_t full_room = 0, best = 0;
	if (direct > 0 && rc == 0) {
		uint32_t max_id0 = 0;
		for (uint32_t u = 0; u < n_users; u++)
			if (room[u] > max_id0)
				max_id0 = room[u];
		uint32_t *cnt = calloc((size_t)max_id0 + 1, sizeof(uint32_t));
		for (uint32_t u = 0; u < n_users; u++)
			if (room[u])
				cnt[room[u]]++;
		for (uint32_t r = 1; r <= max_id0; r++)
			if (cnt[r] > best)
				best = cnt[r], full_room = r;
		free(cnt);
		n_direct = direct;
		direct_uid = calloc(direct, sizeof(uint64_t));
		direct_room = calloc(direct, sizeof(uint32_t));
		direct_refused = calloc(direct, sizeof(uint32_t));
		uint8_t dp[HC_MAX_PAYLOAD_MTU1500];
		for (uint32_t i = 0; i < direct; i += 64) {
			uint16_t k = (uint16_t)(direct - i < 64 ? direct - i : 64);
			fill_hdr(dp, HC_MSG_EVENTS, k, ++seq);
			for (uint16_t j = 0; j < k; j++) {
				rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
				direct_uid[i + j] = rs;
				direct_refused[i + j] = full_room;
				struct hc_event ev = {.user_id = htobe64(rs), .room_id = htonl(full_room),
						      .op = HC_OP_JOIN, .pool_id = htons(pool_id)};
				memcpy(dp + sizeof(struct hc_hdr) + j * 16, &ev, 16);
			}
			send_dgram(dp, sizeof(struct hc_hdr) + (size_t)k * 16);
		}
		read_assigns(1.0);
		/* follow the answers: join where the appliance said */
		uint32_t followed = 0;
		for (uint32_t i = 0; i < direct; i += 64) {
			uint16_t k = 0;
			fill_hdr(dp, HC_MSG_EVENTS, 0, 0);
			for (uint32_t j = i; j < direct && j < i + 64; j++) {
				if (direct_room[j] == 0)
					continue;
				struct hc_event ev = {.user_id = htobe64(direct_uid[j]),
						      .room_id = htonl(direct_room[j]),
						      .op = HC_OP_JOIN, .pool_id = htons(pool_id)};
				memcpy(dp + sizeof(struct hc_hdr) + k * 16, &ev, 16);
				k++;
			}
			if (k == 0)
				continue;
			struct hc_hdr hh;
			memcpy(&hh, dp, sizeof(hh));
			hh.record_count = htons(k);
			hh.sequence = htonl(++seq);
			memcpy(dp, &hh, sizeof(hh));
			send_dgram(dp, sizeof(struct hc_hdr) + (size_t)k * 16);
			followed += k;
		}
		printf("hc-gateway %u: %u direct joins into room %u (%u users): %" PRIu64
		       " refused with NEW_TOPIC, %u followed\n", gw_id, direct, full_room, best,
		       new_topics, followed);
		if (best >= max_room_size && new_topics != direct)
			rc = 1; /* every join into a full room must be refused */
	}

	/* obey MOVE directives for --settle seconds at most, or until the
	 * --settle-until file appears (a test that has seen the appliance
	 * finish: a condition, not a guess at how long a busy machine needs) */
	for (double end = now_s() + settle; now_s() < end;) {
		read_assigns(0.1);
		if (settle_until != NULL && access(settle_until, F_OK) == 0) {
			read_assigns(0.05); /* what is already queued */
			break;
		}
	}

	/* the heartbeat names the last sequence */
	uint8_t p[64];
	fill_hdr(p, HC_MSG_HEARTBEAT, 1, 0);
	struct hc_heartbeat hb = {.last_sequence = htonl(seq), .user_count = htonl(n_users),
				  .interval_ms = htonl(1000)};
	memcpy(p + sizeof(struct hc_hdr), &hb, sizeof(hb));
	send_dgram(p, sizeof(struct hc_hdr) + sizeof(hb));

	/* own truth and the placement promise */
	uint32_t max_id = 0;
	for (uint32_t u = 0; u < n_users; u++)
		if (room[u] > max_id)
			max_id = room[u];
	for (uint32_t i = 0; i < n_direct; i++)
		if (direct_room[i] > max_id)
			max_id = direct_room[i];
	uint32_t *count = calloc((size_t)max_id + 1, sizeof(uint32_t));
	uint32_t rooms = 0, over = 0;
	for (uint32_t u = 0; u < n_users; u++)
		if (room[u] != 0 && count[room[u]]++ == 0)
			rooms++;
	for (uint32_t i = 0; i < n_direct; i++)
		if (direct_room[i] != 0 && count[direct_room[i]]++ == 0)
			rooms++;
	for (uint32_t r = 1; r <= max_id; r++)
		over += count[r] > max_room_size;
	uint32_t need = (n_users + n_direct + max_room_size - 1) / max_room_size;
	if (truth != NULL) {
		FILE *f = fopen(truth, "w");
		if (f == NULL) {
			perror(truth);
			return 1;
		}
		fprintf(f, "room,users\n");
		for (uint32_t r = 1; r <= max_id; r++)
			if (count[r])
				fprintf(f, "%u,%u\n", r, count[r]);
		fclose(f);
	}
	printf("hc-gateway %u: %u users in %u rooms (fewest possible: %u), %" PRIu64
	       " assigns, %" PRIu64 " PLACEs resent, %" PRIu64 " moves obeyed (%" PRIu64
	       " stale, %" PRIu64 " ignored), %u EVENTS datagrams, %u rooms above %u\n",
	       gw_id, n_users, rooms, need, assigns_seen, resent, moves_obeyed, moves_stale,
	       moves_ignored, seq, over, max_room_size);
	if (rc != 0 || over != 0 || (!shared && seed_rooms == NULL && rooms > need))
		rc = 1;
	free(count);
	free(uid);
	free(room);
	free(assigned);
	free(who);
	free(scratch);
	close(sock);
	return rc;
}
