/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_gateway.c - hc-gateway: one gateway on libheadcount that places its
 * users through the appliance, like a real front end would, and checks
 * what placement and admission promised.
 *
 * Owns the scripted workload of one session (gateway/headcount.h) and its
 * checks; the protocol (batching, sequencing, retransmission, heartbeats,
 * snapshots) is the library's, so this tool exercises the code gateways
 * really run.  Users enter through placement: hc_gw_place, and on the
 * PLACED answer hc_gw_join of the assigned room (an unanswered PLACE is
 * resent by the library; after its TIMEOUT, or a NO_ROOM, the user is
 * placed again, bounded by --timeout).  Each churn round, a fraction of
 * the present users leave and, once the appliance has applied the leaves,
 * are placed and join again.  Instead of placement, --seed-rooms puts
 * users directly into rooms 1001, 1002, ... of the given sizes.
 * --direct N then joins N new users directly into our fullest room: when
 * it is full, admission must refuse every one with an ASSIGN NEW_TOPIC,
 * which the library follows.  MOVE directives are obeyed at once (the
 * first --ignore-moves N are ignored: the appliance sends them again);
 * --settle S / --settle-until FILE keep obeying them afterwards.
 *
 * At the end the tool waits until the appliance has applied everything
 * and counts exactly our users, writes its own truth as a room table
 * (--truth FILE, the --dump-rooms format) and its figures as key=value
 * lines (--result FILE), and checks: no room above --max, no more rooms
 * than ceil(users / max) (placement fills the fullest room with a free
 * seat before it opens a new one; not checked with --shared, when other
 * gateways use the same rooms, nor with --seed-rooms), and every direct
 * join into a full room refused.  It exits without SHUTDOWN, so the
 * appliance keeps its users (until its gateway timeout) for the caller to
 * compare.  Bounded in time (--timeout).  It seals its datagrams with its
 * gateway id's key from the appliance's keys file (--keys; --key-slot) or,
 * explicitly, with none (--no-auth).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "headcount.h"
#include "hc_cli.h"
#include "hc_proto.h"
#include "hc_tool_keys.h"

#define PLACE_WINDOW 4096u      /* PLACEs in flight at most */
#define REQ_SLOTS 65536u        /* request id -> user, power of 2 */

enum { IDLE = 0, WAITING, PLACING, ASSIGNED, PRESENT };

static struct {
	const char *appliance, *truth, *result, *seed_rooms, *settle_until;
	uint16_t gateway_id, pool;
	uint32_t users, rounds, max, direct, ignore_moves, max_rooms;
	double churn, timeout, settle;
	uint64_t seed;
	int shared;
} opt = {
	.gateway_id = 1, .users = 1000, .rounds = 3,
	.max = 100, .churn = 0.3, .timeout = 60, .seed = 1,
	.max_rooms = HC_GW_APPLIANCE_DEFAULT_MAX_ROOM + 1,
};

static struct hc_tool_auth auth = {.key_slot = -1};
static int id_conflict; /* on_state said ID_CONFLICT (at any time) */
static struct hc_gw *gw;
static double deadline;
static uint64_t rs; /* xorshift state: user ids, churn, direct users */

/* users placed (or seeded), by index */
static uint64_t *uid;
static uint8_t *state;
static uint32_t *assigned;      /* the room of the PLACED answer */
static uint32_t req_user[REQ_SLOTS]; /* request id -> user index + 1 */
/* users waiting for a PLACE, FIFO, each not before its time */
static uint32_t *waitq, wq_head, wq_tail, wq_mask;
static double *not_before;
static uint32_t placing, entered;

/* direct joins: sorted by user id for the NEW_TOPIC callback */
struct direct {
	uint64_t user;
	uint32_t offered;       /* NEW_TOPIC's room, 0: not refused (yet) */
};
static struct direct *directs;
static uint32_t n_direct, direct_room, direct_room_users, direct_refused;

static struct {
	uint64_t assigns, requeued, no_room, new_topics;
	uint64_t moves_obeyed, moves_ignored;
} fig;

static int cmp_direct(const void *a, const void *b)
{
	uint64_t x = ((const struct direct *)a)->user, y = ((const struct direct *)b)->user;
	return x < y ? -1 : x > y;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t next_rand(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static void die(const char *what)
{
	fprintf(stderr, "hc-gateway: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void join(uint64_t user, uint32_t room)
{
	if (hc_gw_join(gw, user, room, opt.pool) != 0)
		die("hc_gw_join");
}

/* ---------------------------------------------------------- placement -- */

static void enqueue(uint32_t u, double when)
{
	state[u] = WAITING;
	not_before[u] = when;
	waitq[wq_tail++ & wq_mask] = u;
}

/* Send PLACEs for waiting users whose time has come, PLACE_WINDOW in
 * flight at most. */
static void place_waiting(void)
{
	double now = now_s();
	while (wq_head != wq_tail && placing < PLACE_WINDOW) {
		uint32_t u = waitq[wq_head & wq_mask], id;
		if (not_before[u] > now)
			break; /* FIFO: later entries wait behind it */
		if (hc_gw_place(gw, uid[u], opt.pool, &id) != 0) {
			if (errno == EBUSY)
				break; /* a request slot is still taken: next tick */
			die("hc_gw_place");
		}
		req_user[id & (REQ_SLOTS - 1)] = u + 1;
		state[u] = PLACING;
		placing++;
		wq_head++;
	}
}

static void on_assign(void *arg, const struct hc_gw_assign *a)
{
	(void)arg;
	if (a->status == HC_GW_NEW_TOPIC) {
		/* a refused JOIN: the library has joined the user to room_id */
		fig.new_topics++;
		struct direct key = {.user = a->user_id};
		struct direct *d = n_direct == 0 ? NULL :
			bsearch(&key, directs, n_direct, sizeof(*d), cmp_direct);
		if (d != NULL && d->offered == 0 && a->refused_room == direct_room) {
			d->offered = a->room_id;
			direct_refused++;
		}
		return;
	}
	uint32_t u = req_user[a->request_id & (REQ_SLOTS - 1)];
	if (u == 0 || uid[u - 1] != a->user_id || state[u - 1] != PLACING)
		return;
	u--;
	req_user[a->request_id & (REQ_SLOTS - 1)] = 0;
	placing--;
	if (a->status == HC_GW_PLACED) {
		assigned[u] = a->room_id;
		state[u] = ASSIGNED;
		fig.assigns++;
		entered++;
		return;
	}
	/* TIMEOUT (the library resent it place_retries times): ask again
	 * now; NO_ROOM: ask again in a while */
	if (a->status == HC_GW_NO_ROOM)
		fig.no_room++;
	fig.requeued++;
	enqueue(u, a->status == HC_GW_NO_ROOM ? now_s() + 0.5 : 0);
}

static void on_move(void *arg, const struct hc_gw_move *mv)
{
	(void)arg;
	if (fig.moves_ignored < opt.ignore_moves) {
		fig.moves_ignored++;
		return;
	}
	if (hc_gw_join(gw, mv->user_id, mv->to_room, mv->pool_id) != 0)
		die("hc_gw_join");
	fig.moves_obeyed++;
}

static void on_state(void *arg, const struct hc_gw_state_change *c)
{
	(void)arg;
	if (c->state == HC_GW_STATE_ID_CONFLICT)
		id_conflict = 1;
	fprintf(stderr, "hc-gateway %u: %s (%s), appliance %s%s\n", opt.gateway_id,
		hc_gw_state_name(c->state), hc_gw_reason_name(c->reason), c->appliance,
		c->state == HC_GW_STATE_ID_CONFLICT ? ": another source uses this gateway id" : "");
}

/* Run the session for s seconds (or until the deadline). */
static void run_for(double s)
{
	double end = now_s() + s;
	while (now_s() < end && now_s() < deadline)
		if (hc_gw_poll(gw, 10) < 0)
			die("hc_gw_poll");
}

/* Everything sent is applied (the appliance's cumulative ack), and with
 * `users`, it counts exactly our users, too. */
static int settled(int users)
{
	struct hc_gw_stats st;
	hc_gw_get_stats(gw, &st);
	return st.acked == st.sequence &&
	       (!users || st.appliance_users == (uint32_t)hc_gw_users(gw));
}

/* Flush and wait until settled(users); 0, or -1 at the deadline. */
static int wait_settled(int users)
{
	hc_gw_flush(gw);
	while (!settled(users)) {
		if (now_s() >= deadline)
			return -1;
		if (hc_gw_poll(gw, 10) < 0)
			die("hc_gw_poll");
	}
	return 0;
}

/* PLACE records sent that the appliance has not answered yet (it answers
 * every one, resends included). */
static uint64_t places_in_flight(void)
{
	struct hc_gw_stats st;
	hc_gw_get_stats(gw, &st);
	uint64_t answers = st.assigns - st.new_topics;
	return st.places + st.place_resends > answers ? st.places + st.place_resends - answers : 0;
}

/*
 * Place `who` and join them where the appliance says.  The JOINs go out
 * once every user has an answer and no PLACE of ours is on its way any
 * more (or none has been answered for 2 s: one was lost): a resent PLACE
 * that reached the appliance after the user's JOIN would reserve a second
 * seat, and rooms full of such seats make placement open new rooms.
 */
static int enter(const uint32_t *who, uint32_t n)
{
	entered = 0;
	for (uint32_t i = 0; i < n; i++)
		enqueue(who[i], 0);
	/* bounded by --timeout, not by a count of tries: on a busy machine an
	 * answer may take long; a resent PLACE gets the same seat */
	uint64_t last_answers = 0;
	double quiet_since = now_s();
	while (now_s() < deadline) {
		place_waiting();
		if (entered == n) {
			struct hc_gw_stats st;
			hc_gw_get_stats(gw, &st);
			if (st.assigns != last_answers) {
				last_answers = st.assigns;
				quiet_since = now_s();
			}
			if (places_in_flight() == 0 || now_s() - quiet_since >= 2.0)
				break;
		}
		if (hc_gw_poll(gw, 10) < 0)
			die("hc_gw_poll");
	}
	if (entered < n) {
		fprintf(stderr, "hc-gateway: %u users never got an ASSIGN\n", n - entered);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		join(uid[who[i]], assigned[who[i]]);
		state[who[i]] = PRESENT;
	}
	return 0;
}

/* ---------------------------------------------------------------- truth -- */

struct tally {
	uint32_t *count;        /* [max_id + 1] */
	uint32_t max_id;
};

static void find_max(void *arg, uint64_t user, uint32_t room, uint16_t pool)
{
	struct tally *t = arg;
	(void)user, (void)pool;
	if (room > t->max_id)
		t->max_id = room;
}

static void count_room(void *arg, uint64_t user, uint32_t room, uint16_t pool)
{
	struct tally *t = arg;
	(void)user, (void)pool;
	t->count[room]++;
}

/* Users per room in our own table. */
static void tally(struct tally *t)
{
	t->max_id = 0;
	hc_gw_foreach(gw, find_max, t);
	t->count = calloc((size_t)t->max_id + 1, sizeof(uint32_t));
	if (t->count == NULL)
		die("calloc");
	hc_gw_foreach(gw, count_room, t);
}

static int write_truth(const char *path, const struct tally *t)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	fprintf(f, "room,users\n");
	for (uint32_t r = 1; r <= t->max_id; r++)
		if (t->count[r])
			fprintf(f, "%u,%u\n", r, t->count[r]);
	return fclose(f) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ workload -- */

/* Direct joins into the fullest room of ours: refused when it is full,
 * answered with NEW_TOPIC, which the library follows. */
static int direct_joins(uint32_t n, uint32_t *followed)
{
	struct tally t;
	tally(&t);
	for (uint32_t r = 1; r <= t.max_id; r++)
		if (t.count[r] > direct_room_users)
			direct_room_users = t.count[r], direct_room = r;
	free(t.count);
	directs = calloc(n, sizeof(*directs));
	if (directs == NULL)
		die("calloc");
	for (uint32_t i = 0; i < n; i++)
		directs[i].user = next_rand();
	for (uint32_t i = 0; i < n; i++)
		join(directs[i].user, direct_room);
	qsort(directs, n, sizeof(*directs), cmp_direct);
	n_direct = n;
	/* until every one is refused, or the appliance holds exactly our
	 * users (then the joins that were not refused were admitted) */
	hc_gw_flush(gw);
	while (direct_refused < n && !settled(1) && now_s() < deadline)
		if (hc_gw_poll(gw, 10) < 0)
			die("hc_gw_poll");
	*followed = 0;
	for (uint32_t i = 0; i < n; i++)
		*followed += directs[i].offered != 0 &&
			     hc_gw_room_of(gw, directs[i].user) == directs[i].offered;
	printf("hc-gateway %u: %u direct joins into room %u (%u users): %u refused with "
	       "NEW_TOPIC, %u followed\n", opt.gateway_id, n, direct_room, direct_room_users,
	       direct_refused, *followed);
	/* every join into a full room must be refused */
	return direct_room_users >= opt.max && direct_refused != n ? -1 : 0;
}

/* --seed-rooms 4,6,7: users join rooms 1001, 1002, ... directly. */
static int seed_rooms(const char *list)
{
	char tmp[512];
	uint32_t sizes[64], n = 0;
	uint64_t total = 0; /* (summed wide: sizes near 2^32 must not wrap) */
	snprintf(tmp, sizeof(tmp), "%s", list);
	for (char *t = strtok(tmp, ","); t != NULL && n < 64; t = strtok(NULL, ",")) {
		char *end;
		unsigned long v = strtoul(t, &end, 10);
		if (*t == '-' || *end != '\0' || v > UINT32_MAX) {
			fprintf(stderr, "hc-gateway: --seed-rooms: '%s' is not a room size\n", t);
			return -1;
		}
		total += sizes[n++] = (uint32_t)v;
	}
	if (total > opt.users) {
		fprintf(stderr, "hc-gateway: --seed-rooms needs --users >= %llu\n",
			(unsigned long long)total);
		return -1;
	}
	opt.users = (uint32_t)total;
	uint32_t u = 0;
	for (uint32_t k = 0; k < n; k++)
		for (uint32_t i = 0; i < sizes[k]; i++, u++) {
			join(uid[u], 1001 + k);
			state[u] = PRESENT;
		}
	return 0;
}

/* ------------------------------------------------------------ options -- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hc-gateway --appliance HOST[:PORT] (--keys FILE | --no-auth) [options]\n"
		"One gateway on libheadcount: places its users through the appliance,\n"
		"churns them and checks what placement and admission promised.\n"
		"  --appliance HOST[:PORT] the appliance (libheadcount's forms: several\n"
		"                      comma-separated, [IPV6]:PORT)          [:%u]\n"
		"  --gateway-id N      this gateway's id                    [1]\n"
		"  --users N           users entering through placement     [1000]\n"
		"  --rounds R          churn rounds                         [3]\n"
		"  --churn F           fraction leaving and re-entering     [0.3]\n"
		"  --seed N            user ids and churn                   [1]\n"
		"  --pool P            pool of every PLACE and JOIN         [0]\n"
		"  --max M             the pool's room maximum (checks)     [100]\n"
		"  --max-rooms N       the appliance's --max-rooms: a room id from N up\n"
		"                      is refused here, never sent        [262144]\n"
		"  --shared            other gateways share the rooms: no fewest-rooms check\n"
		"  --seed-rooms LIST   put users directly into rooms of these sizes, no placement\n"
		"  --direct N          N direct JOINs into our fullest room\n"
		"  --ignore-moves N    ignore the first N MOVE directives\n"
		"  --settle S          obey MOVEs S seconds more at the end [0]\n"
		"  --settle-until FILE ... or until FILE exists\n"
		"  --truth FILE        our room table (--dump-rooms format)\n"
		"  --result FILE       our figures, key=value\n"
		"  --timeout S         bound on the whole run               [60]\n"
		"  --keys FILE         the appliance's keys file: seal with our gateway\n"
		"                      id's key (the highest slot holding one)\n"
		"  --key-slot N        ... in slot N (0 or 1) instead\n"
		"  --no-auth           no key: nothing sealed or checked (the appliance\n"
		"                      runs with --no-auth); one of --keys and --no-auth\n"
		"                      is required\n"
		"  --help              this text\n"
		"  --version           the program's version\n"
		"--result adds our session's rx_bad, rx_bad_auth, rx_wrong_source,\n"
		"rx_stale, rx_replayed, id_conflicts and state_id_conflict (0/1)\n",
		HC_PROTO_DEFAULT_PORT);
}

static int parse_opts(int argc, char **argv)
{
	static const struct option lo[] = {
		{"appliance", 1, 0, 'a'}, {"gateway-id", 1, 0, 'g'},
		{"users", 1, 0, 'u'}, {"rounds", 1, 0, 'r'}, {"churn", 1, 0, 'c'},
		{"pool", 1, 0, 'P'}, {"max", 1, 0, 'm'}, {"seed", 1, 0, 's'},
		{"truth", 1, 0, 't'}, {"timeout", 1, 0, 'T'}, {"shared", 0, 0, 'S'},
		{"direct", 1, 0, 'D'}, {"seed-rooms", 1, 0, 'R'}, {"settle", 1, 0, 'L'},
		{"ignore-moves", 1, 0, 'I'}, {"settle-until", 1, 0, 'U'},
		{"result", 1, 0, 'O'}, {"max-rooms", 1, 0, 'X'}, HC_TOOL_AUTH_LONG_OPTIONS,
		{"help", 0, 0, 'h'}, {"version", 0, 0, 'V'}, {0, 0, 0, 0}};
	static const char *const me = "hc-gateway";
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a': opt.appliance = optarg; break;
		case 'g': opt.gateway_id = (uint16_t)hc_cli_u64(me, "gateway-id", optarg, 1, 65535); break;
		case 'u': opt.users = (uint32_t)hc_cli_u64(me, "users", optarg, 1, 10000000); break;
		case 'r': opt.rounds = (uint32_t)hc_cli_u64(me, "rounds", optarg, 0, 1000000); break;
		case 'c': opt.churn = hc_cli_double(me, "churn", optarg, 0, 1); break;
		case 'P': opt.pool = (uint16_t)hc_cli_u64(me, "pool", optarg, 0, 65535); break;
		case 'm': opt.max = (uint32_t)hc_cli_u64(me, "max", optarg, 1, UINT32_MAX); break;
		case 's': opt.seed = hc_cli_u64(me, "seed", optarg, 0, UINT64_MAX); break;
		case 't': opt.truth = optarg; break;
		case 'T': opt.timeout = hc_cli_double(me, "timeout", optarg, 0, 1e6); break;
		case 'S': opt.shared = 1; break;
		case 'D': opt.direct = (uint32_t)hc_cli_u64(me, "direct", optarg, 0, 10000000); break;
		case 'R': opt.seed_rooms = optarg; break;
		case 'L': opt.settle = hc_cli_double(me, "settle", optarg, 0, 1e6); break;
		case 'U': opt.settle_until = optarg; break;
		case 'I': opt.ignore_moves = (uint32_t)hc_cli_u64(me, "ignore-moves", optarg, 0, UINT32_MAX); break;
		case 'O': opt.result = optarg; break;
		case 'X': opt.max_rooms = (uint32_t)hc_cli_u64(me, "max-rooms", optarg, 2, UINT32_MAX); break;
		case 'k': case 'N': case 'A': hc_tool_auth_option(&auth, c, optarg); break;
		case 'h': usage(stdout); exit(0);
		case 'V': hc_cli_version(me); exit(0);
		default: hc_cli_unknown(me);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hc-gateway: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (opt.appliance == NULL) {
		fprintf(stderr, "hc-gateway: --appliance is required (see --help)\n");
		return -1;
	}
	if (hc_tool_auth_load(&auth, "hc-gateway") != 0)
		return -1;
	uint8_t slot;
	hc_tool_auth_key(&auth, opt.gateway_id, &slot, "hc-gateway"); /* exits without one */
	return 0;
}

static void open_session(void)
{
	char err[256];
	struct hc_gw_config cfg;
	hc_gw_config_init(&cfg);
	cfg.appliance = opt.appliance;
	cfg.gateway_id = opt.gateway_id;
	cfg.key = hc_tool_auth_key(&auth, opt.gateway_id, &cfg.key_slot, "hc-gateway");
	cfg.key_len = cfg.key != NULL ? HC_GW_KEY_LEN : 0;
	cfg.insecure_no_auth = cfg.key == NULL; /* --no-auth */
	cfg.on_assign = on_assign;
	cfg.on_move = on_move;
	cfg.on_state = on_state;
	cfg.max_room = opt.max_rooms - 1;
	cfg.place_timeout_ms = 500; /* as patient as a front end on a busy host */
	gw = hc_gw_open(&cfg, err, sizeof(err));
	if (gw == NULL) {
		fprintf(stderr, "hc-gateway: %s\n", err);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (parse_opts(argc, argv) != 0)
		return 2;
	deadline = now_s() + opt.timeout;
	uint32_t n = opt.users;
	uid = malloc(sizeof(*uid) * n);
	state = calloc(n, sizeof(*state));
	assigned = calloc(n, sizeof(*assigned));
	not_before = calloc(n, sizeof(*not_before));
	uint32_t qsize = 1;
	while (qsize < n)
		qsize <<= 1;
	waitq = malloc(sizeof(*waitq) * qsize);
	wq_mask = qsize - 1;
	uint32_t *who = malloc(sizeof(*who) * n);
	if (uid == NULL || state == NULL || assigned == NULL || not_before == NULL ||
	    waitq == NULL || who == NULL)
		die("malloc");
	rs = opt.seed * 0x9E3779B97F4A7C15ull + opt.gateway_id;
	for (uint32_t u = 0; u < n; u++) {
		uid[u] = next_rand();
		who[u] = u;
	}
	open_session();

	int rc = 0;
	uint32_t rounds = opt.rounds;
	if (opt.seed_rooms != NULL) {
		if (seed_rooms(opt.seed_rooms) != 0)
			return 2;
		rounds = 0;
	} else {
		rc = enter(who, opt.users);
	}
	for (uint32_t r = 0; r < rounds && rc == 0; r++) {
		run_for(0.1);
		uint32_t k = 0;
		for (uint32_t u = 0; u < opt.users; u++)
			if ((double)(next_rand() >> 11) / 9007199254740992.0 < opt.churn)
				who[k++] = u;
		for (uint32_t i = 0; i < k; i++) {
			if (hc_gw_leave(gw, uid[who[i]]) != 0)
				die("hc_gw_leave");
			state[who[i]] = IDLE;
		}
		/* the leaves are applied, then reach the seat book before the
		 * PLACEs (the control core reads changes before places) */
		wait_settled(0);
		run_for(0.05);
		rc = enter(who, k);
	}
	uint32_t followed = 0;
	if (opt.direct > 0 && rc == 0)
		rc = direct_joins(opt.direct, &followed);

	/* obey MOVE directives for --settle seconds at most, or until the
	 * --settle-until file appears (a test that has seen the appliance
	 * finish: a condition, not a guess at how long a busy machine needs) */
	for (double end = now_s() + opt.settle; now_s() < end && now_s() < deadline;) {
		run_for(0.1);
		if (opt.settle_until != NULL && access(opt.settle_until, F_OK) == 0) {
			run_for(0.05); /* what is already on its way */
			break;
		}
	}

	/* the appliance holds exactly our membership: our truth is its */
	int agrees = wait_settled(1) == 0;
	if (!agrees)
		fprintf(stderr, "hc-gateway %u: the appliance does not count exactly our users "
			"within --timeout\n", opt.gateway_id);

	/* own truth and the placement promise */
	struct tally t;
	tally(&t);
	uint32_t rooms = 0, over = 0;
	for (uint32_t r = 1; r <= t.max_id; r++) {
		rooms += t.count[r] != 0;
		over += t.count[r] > opt.max;
	}
	uint32_t need = (opt.users + n_direct + opt.max - 1) / opt.max;
	if (opt.truth != NULL && write_truth(opt.truth, &t) != 0)
		return 1;
	free(t.count);
	struct hc_gw_stats st;
	hc_gw_get_stats(gw, &st);
	uint64_t resent = st.place_resends + fig.requeued;
	printf("hc-gateway %u: %u users in %u rooms (fewest possible: %u), %" PRIu64
	       " assigns, %" PRIu64 " PLACEs resent, %" PRIu64 " moves obeyed (%" PRIu64
	       " stale, %" PRIu64 " ignored), %" PRIu64 " EVENTS datagrams, %u rooms above %u\n",
	       opt.gateway_id, opt.users, rooms, need, fig.assigns, resent, fig.moves_obeyed,
	       st.moves_ignored, fig.moves_ignored, st.event_datagrams, over, opt.max);
	if (rc != 0 || over != 0 || (!opt.shared && opt.seed_rooms == NULL && rooms > need))
		rc = 1;

	if (opt.result != NULL) {
		FILE *f = fopen(opt.result, "w");
		if (f == NULL) {
			perror(opt.result);
			return 1;
		}
		fprintf(f, "gateway_id=%u\nusers=%u\nrooms=%u\nfewest_rooms=%u\nmax=%u\n"
			"rooms_above_max=%u\nassigns=%" PRIu64 "\nplaces=%" PRIu64 "\n"
			"places_resent=%" PRIu64 "\nplace_timeouts=%" PRIu64 "\nno_room=%" PRIu64 "\n"
			"moves_obeyed=%" PRIu64 "\nmoves_stale=%" PRIu64 "\nmoves_ignored=%" PRIu64 "\n"
			"direct_joins=%u\ndirect_room=%u\ndirect_room_users=%u\n"
			"direct_refused=%u\ndirect_followed=%u\nnew_topics=%" PRIu64 "\n"
			"event_datagrams=%" PRIu64 "\nretransmits=%" PRIu64 "\nsnapshots=%" PRIu64 "\n"
			"appliance_agrees=%d\nchecks_passed=%d\n"
			"rx_bad=%" PRIu64 "\nrx_bad_auth=%" PRIu64 "\nrx_wrong_source=%" PRIu64 "\n"
			"rx_stale=%" PRIu64 "\nrx_replayed=%" PRIu64 "\nid_conflicts=%" PRIu64 "\n"
			"state_id_conflict=%d\nauth=%s\n",
			opt.gateway_id, opt.users, rooms, need, opt.max, over, fig.assigns, st.places,
			resent, st.place_timeouts, fig.no_room, fig.moves_obeyed, st.moves_ignored,
			fig.moves_ignored, n_direct, direct_room, direct_room_users, direct_refused,
			followed, fig.new_topics, st.event_datagrams, st.retransmits, st.snapshots,
			agrees, rc == 0, st.rx_bad, st.rx_bad_auth, st.rx_wrong_source, st.rx_stale,
			st.rx_replayed, st.id_conflicts, id_conflict,
			auth.ring != NULL ? "keys" : "none");
		if (fclose(f) != 0) {
			perror(opt.result);
			return 1;
		}
	}
	/* no SHUTDOWN: the appliance keeps our users for the caller to compare */
	hc_gw_close(gw, 0);
	hc_tool_auth_free(&auth);
	free(directs);
	free(uid);
	free(state);
	free(assigned);
	free(not_before);
	free(waitq);
	free(who);
	return rc;
}
