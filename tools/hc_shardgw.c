/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_shardgw.c - hc-shardgw: one gateway over several appliances through
 * libheadcount's shard layer (gateway/hc_gw_shard.h), the workload of
 * the shard-move test (tests/integration/netns_shard.sh).
 *
 * Users of every pool of the shard map (--map) enter by placement (PLACE
 * routed to the pool's appliance, JOIN of the assigned room; NO_ROOM or
 * TIMEOUT: placed again); each churn round a fraction of the present
 * users leave and are placed again.  At round --move-round the newer map
 * (--map2) is applied between the round's LEAVEs and its PLACEs, so the
 * moved pool's users are restated on its new appliance while others are
 * leaving, being placed and joining.  At the end the tool waits until
 * every appliance it talks to has applied everything and reports exactly
 * our users and our membership digest (heartbeats), writes its truth per
 * appliance (--truth PREFIX: PREFIX.NAME.csv, the --dump-rooms format)
 * and its figures as key=value lines (--result).  It exits without
 * SHUTDOWN so the appliances keep its users for the caller to compare.
 * Bounded in time (--timeout).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hc_cli.h"
#include "hc_gw_shard.h"
#include "hc_proto.h"
#include "hc_tool_keys.h"

enum { IDLE = 0, PLACING, PRESENT };

struct user {
	uint64_t id;
	uint16_t pool;
	uint8_t state;
};

static struct {
	const char *map, *map2, *truth, *result;
	uint16_t gateway_id;
	uint32_t users, rounds, move_round, max_rooms;
	double churn, timeout;
	uint64_t seed;
} opt = {.gateway_id = 1, .users = 500, .rounds = 4, .move_round = 2, .churn = 0.3,
	 .timeout = 90, .seed = 1, .max_rooms = HC_GW_APPLIANCE_DEFAULT_MAX_ROOM + 1};

static struct hc_tool_auth auth = {.key_slot = -1};
static struct hc_gw_shard *S;
static struct user *U;
static size_t n_users;
static uint64_t placed, assigns, no_rooms, timeouts, new_topics, drops;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng(void)
{
	opt.seed ^= opt.seed << 13;
	opt.seed ^= opt.seed >> 7;
	opt.seed ^= opt.seed << 17;
	return opt.seed;
}

/* user ids: pool * 2^32 + gateway * 2^20 + i: unique over gateways */
static struct user *find(uint64_t id)
{
	size_t lo = 0, hi = n_users;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (U[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n_users && U[lo].id == id ? &U[lo] : NULL;
}

static void place(struct user *u)
{
	uint32_t req;
	if (hc_gw_shard_place(S, u->id, u->pool, &req, NULL) == 0)
		u->state = PLACING;
	else
		u->state = IDLE; /* EBUSY: too many in flight, again later */
}

static void on_assign(void *arg, unsigned shard, const struct hc_gw_assign *a)
{
	(void)arg;
	(void)shard;
	struct user *u = find(a->user_id);
	if (u == NULL)
		return;
	switch (a->status) {
	case HC_GW_PLACED:
		assigns++;
		if (u->state != PLACING)
			return;
		if (hc_gw_shard_join(S, u->id, a->room_id, u->pool) == 0) {
			u->state = PRESENT;
			placed++;
		} else {
			fprintf(stderr, "hc-shardgw: join %" PRIu64 " into %u: %s\n", u->id,
				a->room_id, strerror(errno));
			u->state = IDLE;
		}
		return;
	case HC_GW_NEW_TOPIC:
		new_topics++; /* the library joined the user to room_id */
		return;
	case HC_GW_NO_ROOM:
	case HC_GW_TIMEOUT:
		if (a->request_id != 0) { /* a PLACE unanswered or refused: again */
			no_rooms += a->status == HC_GW_NO_ROOM;
			timeouts += a->status == HC_GW_TIMEOUT;
			if (u->state == PLACING)
				u->state = IDLE;
			return;
		}
		/* a JOIN refused, the user dropped */
		__attribute__((fallthrough));
	default:
		drops++;
		u->state = IDLE;
		return;
	}
}

/* Place every IDLE user, poll until nobody is placing (bounded). */
static int settle_places(double deadline)
{
	for (;;) {
		size_t busy = 0;
		for (size_t i = 0; i < n_users; i++) {
			if (U[i].state == IDLE)
				place(&U[i]);
			busy += U[i].state != PRESENT;
		}
		if (busy == 0)
			return 0;
		if (now_s() > deadline)
			return -1;
		hc_gw_shard_poll(S, 10);
	}
}

struct digest {
	uint64_t sum, users;
};

static void add_digest(void *arg, uint64_t user, uint32_t room, uint16_t pool)
{
	struct digest *d = arg;
	(void)pool;
	d->sum += hc_member_digest(user, room);
	d->users++;
}

/* Every open session: all acknowledged, the appliance's count and digest
 * of our users equal ours. */
static int settled(void)
{
	for (unsigned k = 0; k < hc_gw_shard_count(S); k++) {
		struct hc_gw *g = hc_gw_shard_session(S, k);
		if (g == NULL)
			continue;
		hc_gw_flush(g);
		struct hc_gw_stats st;
		hc_gw_get_stats(g, &st);
		struct digest d = {0, 0};
		hc_gw_foreach(g, add_digest, &d);
		if (st.acked != st.sequence || st.appliance_users != d.users ||
		    st.appliance_digest != d.sum)
			return 0;
	}
	return 1;
}

struct room_count {
	uint32_t *n;
	uint32_t cap;
};

static void count_room(void *arg, uint64_t user, uint32_t room, uint16_t pool)
{
	struct room_count *c = arg;
	(void)user;
	(void)pool;
	if (room < c->cap)
		c->n[room]++;
}

static int write_truth(void)
{
	uint32_t cap = 1u << 20;
	for (unsigned k = 0; k < hc_gw_shard_count(S); k++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s.%s.csv", opt.truth, hc_gw_shard_name(S, k));
		FILE *f = fopen(path, "w");
		struct room_count c = {calloc(cap, sizeof(uint32_t)), cap};
		if (f == NULL || c.n == NULL) {
			fprintf(stderr, "hc-shardgw: %s: %s\n", path, strerror(errno));
			return -1;
		}
		if (hc_gw_shard_session(S, k) != NULL)
			hc_gw_foreach(hc_gw_shard_session(S, k), count_room, &c);
		fprintf(f, "room,users\n");
		for (uint32_t r = 1; r < cap; r++)
			if (c.n[r] != 0)
				fprintf(f, "%u,%u\n", r, c.n[r]);
		free(c.n);
		fclose(f);
	}
	return 0;
}

#define P "hc-shardgw"

static _Noreturn void usage(FILE *f, int rc)
{
	fprintf(f,
		"Usage: hc-shardgw --map FILE [--map2 FILE --move-round R] --keys FILE | --no-auth\n"
		"  [--key-slot N] [--gateway-id N] [--users N per pool] [--rounds R]\n"
		"  [--churn F] [--seed N] [--timeout S] [--max-rooms N] --truth PREFIX --result FILE\n"
		"  [--help] [--version]\n"
		"One gateway over several appliances through libheadcount's shard layer\n"
		"(gateway/hc_gw_shard.h): tests/integration/netns_shard.sh's workload.\n"
		"  --max-rooms N   the appliances' --max-rooms: a room id from N up is\n"
		"                  refused, never sent                          [262144]\n");
	exit(rc);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"map", 1, 0, 'm'}, {"map2", 1, 0, 'M'}, {"move-round", 1, 0, 'R'},
		HC_TOOL_AUTH_LONG_OPTIONS,
		{"gateway-id", 1, 0, 'g'}, {"users", 1, 0, 'u'}, {"rounds", 1, 0, 'r'},
		{"churn", 1, 0, 'c'}, {"seed", 1, 0, 's'}, {"timeout", 1, 0, 't'},
		{"truth", 1, 0, 'T'}, {"result", 1, 0, 'o'}, {"help", 0, 0, 'h'},
		{"version", 0, 0, 'V'}, {"max-rooms", 1, 0, 'X'}, {0, 0, 0, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'm': opt.map = optarg; break;
		case 'M': opt.map2 = optarg; break;
		case 'R': opt.move_round = (uint32_t)hc_cli_u64(P, "move-round", optarg, 0, UINT32_MAX); break;
		case 'k': case 'N': case 'A': hc_tool_auth_option(&auth, ch, optarg); break;
		case 'g': opt.gateway_id = (uint16_t)hc_cli_u64(P, "gateway-id", optarg, 1, 65535); break;
		case 'u': opt.users = (uint32_t)hc_cli_u64(P, "users", optarg, 1, (1u << 20) - 1); break;
		case 'r': opt.rounds = (uint32_t)hc_cli_u64(P, "rounds", optarg, 0, UINT32_MAX); break;
		case 'c': opt.churn = hc_cli_double(P, "churn", optarg, 0, 1); break;
		case 's': opt.seed = hc_cli_u64(P, "seed", optarg, 0, UINT64_MAX) | 1; break;
		case 't': opt.timeout = hc_cli_double(P, "timeout", optarg, 0, 1e6); break;
		case 'T': opt.truth = optarg; break;
		case 'o': opt.result = optarg; break;
		case 'X': opt.max_rooms = (uint32_t)hc_cli_u64(P, "max-rooms", optarg, 2, UINT32_MAX); break;
		case 'h': usage(stdout, 0);
		case 'V': hc_cli_version(P); return 0;
		default: hc_cli_unknown(P);
		}
	}
	if (opt.map == NULL || opt.truth == NULL || opt.result == NULL) {
		fprintf(stderr, "%s: --map, --truth and --result are needed (see --help)\n", P);
		return 2;
	}
	if (hc_tool_auth_load(&auth, "hc-shardgw") != 0)
		return 2;

	char err[512];
	struct hc_gw_shard_map m1, m2;
	if (hc_gw_shard_map_load(&m1, opt.map, err, sizeof(err)) != 0 ||
	    (opt.map2 != NULL && hc_gw_shard_map_load(&m2, opt.map2, err, sizeof(err)) != 0)) {
		fprintf(stderr, "hc-shardgw: %s\n", err);
		return 2;
	}
	struct hc_gw_config c;
	hc_gw_config_init(&c);
	c.gateway_id = opt.gateway_id;
	c.max_room = opt.max_rooms - 1;
	c.key = hc_tool_auth_key(&auth, opt.gateway_id, &c.key_slot, "hc-shardgw");
	if (c.key != NULL)
		c.key_len = HC_GW_KEY_LEN;
	else
		c.insecure_no_auth = 1;
	struct hc_gw_shard_callbacks cb = {.on_assign = on_assign};
	S = hc_gw_shard_open(&m1, &c, &cb, err, sizeof(err));
	if (S == NULL) {
		fprintf(stderr, "hc-shardgw: %s\n", err);
		return 2;
	}
	n_users = (size_t)m1.n_pools * opt.users;
	U = calloc(n_users, sizeof(*U));
	if (U == NULL)
		return 2;
	size_t n = 0;
	uint16_t pools[HC_GW_SHARD_MAX_POOLS];
	for (unsigned p = 0; p < m1.n_pools; p++)
		pools[p] = m1.pool[p].pool;
	for (unsigned a = 0; a < m1.n_pools; a++) /* sorted by pool id, for find() */
		for (unsigned b = a + 1; b < m1.n_pools; b++)
			if (pools[b] < pools[a]) {
				uint16_t t = pools[a];
				pools[a] = pools[b];
				pools[b] = t;
			}
	for (unsigned p = 0; p < m1.n_pools; p++)
		for (uint32_t i = 0; i < opt.users; i++)
			U[n++] = (struct user){((uint64_t)pools[p] << 32) |
					       ((uint64_t)opt.gateway_id << 20) | i,
					       pools[p], IDLE};

	double deadline = now_s() + opt.timeout;
	int ok = settle_places(deadline) == 0;
	uint64_t left = 0;
	int moved = 0;
	uint64_t move_us = 0;
	for (uint32_t r = 1; ok && r <= opt.rounds; r++) {
		for (size_t i = 0; i < n_users; i++)
			if (U[i].state == PRESENT && (double)(rng() % 10000) < opt.churn * 10000) {
				if (hc_gw_shard_leave(S, U[i].id) == 0)
					left++;
				U[i].state = IDLE;
			}
		if (opt.map2 != NULL && r == opt.move_round) {
			double t = now_s();
			if (hc_gw_shard_apply_map(S, &m2, err, sizeof(err)) != 0) {
				fprintf(stderr, "hc-shardgw: map 2: %s\n", err);
				ok = 0;
				break;
			}
			moved = 1;
			move_us = (uint64_t)((now_s() - t) * 1e6);
		}
		ok = settle_places(deadline) == 0;
	}
	if (!ok)
		fprintf(stderr, "hc-shardgw: not every user placed by the deadline\n");
	int agrees = 0;
	double t_settle = now_s();
	while (ok && now_s() < deadline) {
		if (settled()) {
			agrees = 1;
			break;
		}
		hc_gw_shard_poll(S, 20);
	}
	uint64_t settle_ms = (uint64_t)((now_s() - t_settle) * 1e3);
	if (write_truth() != 0)
		return 1;

	struct hc_gw_shard_stats ss;
	hc_gw_shard_get_stats(S, &ss);
	struct hc_gw_stats closed; /* the sessions the maps closed, then each open one */
	hc_gw_shard_closed_stats(S, &closed);
	uint64_t refusals = closed.refusals, superseded = closed.superseded,
		 place_timeouts = closed.place_timeouts,
		 rx_bad = closed.rx_bad + closed.rx_bad_auth + closed.rx_wrong_source + closed.rx_replayed;
	for (unsigned k = 0; k < hc_gw_shard_count(S); k++) {
		struct hc_gw *g = hc_gw_shard_session(S, k);
		if (g == NULL)
			continue;
		struct hc_gw_stats st;
		hc_gw_get_stats(g, &st);
		refusals += st.refusals;
		superseded += st.superseded;
		place_timeouts += st.place_timeouts;
		rx_bad += st.rx_bad + st.rx_bad_auth + st.rx_wrong_source + st.rx_replayed;
	}
	uint64_t present = 0;
	for (size_t i = 0; i < n_users; i++)
		present += U[i].state == PRESENT;
	FILE *f = fopen(opt.result, "w");
	if (f == NULL)
		return 1;
	fprintf(f, "checks_passed=%d\nagrees=%d\nmoved=%d\nusers=%zu\npresent=%" PRIu64
		"\nsession_users=%" PRIu64 "\nleaves=%" PRIu64 "\nplaced=%" PRIu64
		"\nassigns=%" PRIu64 "\nnew_topics=%" PRIu64 "\nno_room=%" PRIu64
		"\ntimeouts=%" PRIu64 "\ndrops=%" PRIu64 "\nrefusals=%" PRIu64
		"\nsuperseded=%" PRIu64 "\nplace_timeouts=%" PRIu64 "\nrx_bad=%" PRIu64
		"\nmap_version=%u\nmaps_applied=%" PRIu64 "\npools_moved=%" PRIu64
		"\nusers_moved=%" PRIu64 "\nstrays=%" PRIu64 "\nunrouted=%" PRIu64
		"\nout_of_range=%" PRIu64 "\nmove_errors=%" PRIu64 "\nmove_us=%" PRIu64
		"\nsettle_ms=%" PRIu64 "\n",
		ok && agrees, agrees, moved, n_users, present, hc_gw_shard_users(S), left, placed,
		assigns, new_topics, no_rooms, timeouts, drops, refusals, superseded,
		place_timeouts, rx_bad, ss.map_version, ss.maps_applied, ss.pools_moved,
		ss.users_moved, ss.strays, ss.unrouted, ss.out_of_range, ss.move_errors, move_us,
		settle_ms);
	fclose(f);
	hc_gw_shard_close(S, 0); /* no SHUTDOWN: the appliances keep our users */
	hc_tool_auth_free(&auth);
	return ok && agrees ? 0 : 1;
}
