/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_gwsim.c - hc-gwsim: a fleet of simulated gateways against a
 * headcount appliance, each a libheadcount session with its own socket,
 * id and incarnation.
 *
 * Users arrive at --arrival-rate, enter through placement (PLACE ->
 * ASSIGN -> JOIN), stay, and leave at --leave-rate; MOVE directives are
 * obeyed after a random delay up to --move-delay-ms.  Options restart a
 * gateway now and then (its users vanish with it; a new incarnation
 * starts empty) and make a fraction of leaving users reconnect through
 * another gateway instead (the old gateway's LEAVE then comes late), and
 * can crash one gateway for good (--kill-after).
 * The simulator's ground truth is its gateways' own membership.  At the
 * end (and during --hold) it reads the appliance's room table over
 * telemetry (/headcount/rooms, the appliance's --file-prefix) and
 * compares: rooms that differ are printed, and the exit status is 1 if
 * the tables are not equal within --settle seconds; SIGUSR1 compares on
 * demand while the workload runs.  --live prints one
 * line a second: users, rooms, events/s, directives/s.  Bounded in time.
 * Every gateway seals its datagrams with its own gateway id's key from the
 * appliance's keys file (--keys; --key-slot) or, explicitly, with none
 * (--no-auth); gateways the appliance reports an id conflict to are
 * printed and counted (state_id_conflict in --result).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hc_cli.h"
#include "hc_tel_client.h"
#include "hc_tool_keys.h"
#include "headcount.h"
#include "hc_gw_impair.h" /* hc_gw_set_impairment: tests only */

#define MAX_GW 256
#define MAX_ROOM_ID (1u << 20)

enum { IDLE = 0, PLACING, PRESENT };

struct user {
	uint8_t state;
	uint8_t gw;          /* index of its gateway (session), when not IDLE */
	uint32_t late_leave_gw; /* reconnect: old gateway index + 1, 0 none */
};

struct pending_move {
	double due;
	uint64_t user;
	uint32_t from, to;
	uint16_t pool;
	uint8_t gw;
	uint32_t epoch;      /* the appliance incarnation that sent it */
};

static struct {
	const char *appliance, *telemetry, *bind_ip, *hold_until, *result;
	unsigned gateways, first_id;
	uint32_t users;
	uint64_t user_base;
	double arrival_rate, leave_rate, duration, settle, hold, restart_every, kill_after;
	double reconnect_fraction;
	uint32_t move_delay_ms;
	uint16_t pool;
	uint32_t max_rooms;         /* the appliance's --max-rooms */
	int live;
	uint32_t seed;
	double impair_fraction;
	uint32_t impair_delay_ms;
	int fence;                 /* --fence: sessions fence_appliance */
	const char *mark, *move_log; /* --mark FILE, --move-log FILE   */
} opt = {
	.appliance = "198.18.0.1", .gateways = 4, .first_id = 1, .users = 10000,
	.arrival_rate = 20000, .leave_rate = 200, .duration = 5, .settle = 10,
	.move_delay_ms = 50, .seed = 1, .max_rooms = HC_GW_APPLIANCE_DEFAULT_MAX_ROOM + 1,
};
static struct hc_tool_auth auth = {.key_slot = -1};

static struct hc_gw *gw[MAX_GW];
static uint32_t gw_inc[MAX_GW];
static struct user *users;
static uint32_t *idle_list, n_idle;     /* users not in the system */
static uint32_t *present, n_present;    /* users present (for leaves) */
static uint32_t *present_pos;
static struct pending_move *moves;
static uint32_t n_moves, cap_moves;
static uint64_t rng = 0x2545F4914F6CDD1Dull;
static volatile sig_atomic_t stop, compare_now;
static uint64_t moves_got, moves_done, restarts, reconnects, place_fail, killed;
static uint8_t id_conflict[MAX_GW]; /* the gateway's on_state said ID_CONFLICT */
/* --mark: service resumption after a failover.  When the mark file
 * appears, the newest appliance incarnation the gateways know is noted;
 * the first placement answered by a newer one ends the outage. */
static struct {
	int armed;
	uint32_t epoch;                 /* newest known at the mark */
	uint64_t mark_wall_ms, resumed_wall_ms, places_after;
	double next_check;
} mark;
static FILE *move_log;
static uint64_t moves_logged;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n == 0 ? 0 : (uint32_t)((rng >> 11) % n);
}

static void present_add(uint32_t u)
{
	present_pos[u] = n_present;
	present[n_present++] = u;
}

static void present_del(uint32_t u)
{
	uint32_t i = present_pos[u], last = present[--n_present];
	present[i] = last;
	present_pos[last] = i;
}

static void to_idle(uint32_t u)
{
	if (users[u].state == PRESENT)
		present_del(u);
	users[u].state = IDLE;
	idle_list[n_idle++] = u;
}

static uint32_t index_of(uint64_t user_id)
{
	return (uint32_t)(user_id - opt.user_base);
}

/* ------------------------------------------------------------ callbacks -- */

static void on_assign(void *arg, const struct hc_gw_assign *a)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	uint32_t u = index_of(a->user_id);
	if (u >= opt.users || users[u].gw != k)
		return;
	if (a->status == HC_GW_NEW_TOPIC)
		return; /* the library joined the user to the offered room */
	if (a->request_id == 0 && a->refused_room != 0) {
		/* a JOIN refused with nowhere to go (NO_ROOM, FULL): the
		 * library dropped the user; they leave */
		if (users[u].state == PRESENT && hc_gw_room_of(gw[k], a->user_id) == 0)
			to_idle(u);
		return;
	}
	if (users[u].state != PLACING)
		return;
	if (a->status == HC_GW_PLACED && hc_gw_join(gw[k], a->user_id, a->room_id, a->pool_id) == 0) {
		users[u].state = PRESENT;
		present_add(u);
		if (mark.armed) {
			struct hc_gw_stats st;
			hc_gw_get_stats(gw[k], &st);
			if (st.appliance_incarnation != mark.epoch) {
				mark.places_after++;
				if (mark.resumed_wall_ms == 0)
					mark.resumed_wall_ms = wall_ms();
			}
		}
		return;
	}
	place_fail++;
	to_idle(u);
}

static void on_move(void *arg, const struct hc_gw_move *mv)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	moves_got++;
	if (n_moves == cap_moves) {
		cap_moves = cap_moves ? cap_moves * 2 : 4096;
		moves = realloc(moves, sizeof(*moves) * cap_moves);
		if (moves == NULL) {
			fprintf(stderr, "hc-gwsim: out of memory\n");
			exit(2);
		}
	}
	struct hc_gw_stats st;
	hc_gw_get_stats(gw[k], &st);
	moves[n_moves++] = (struct pending_move){.due = now_s() + rnd(opt.move_delay_ms + 1) / 1000.0,
		.user = mv->user_id, .from = mv->from_room, .to = mv->to_room, .pool = mv->pool_id,
		.gw = (uint8_t)k, .epoch = st.appliance_incarnation};
}

static void on_state(void *arg, const struct hc_gw_state_change *c)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	if (c->state == HC_GW_STATE_ID_CONFLICT)
		id_conflict[k] = 1;
	if (c->reason != HC_GW_REASON_HEARD || c->previous != HC_GW_STATE_CONNECTING)
		printf("gateway %u: %s (%s), appliance %s%s\n", opt.first_id + k,
		       hc_gw_state_name(c->state), hc_gw_reason_name(c->reason), c->appliance,
		       c->state == HC_GW_STATE_ID_CONFLICT ?
		       ": another source uses this gateway id" : "");
}

/* ------------------------------------------------------------- sessions -- */

static void open_gateway(unsigned k)
{
	struct hc_gw_config c;
	char err[256];
	hc_gw_config_init(&c);
	c.appliance = opt.appliance;
	c.bind = opt.bind_ip;
	c.gateway_id = (uint16_t)(opt.first_id + k);
	/* a new incarnation, larger than the last even within one clock tick */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint32_t inc = (uint32_t)((uint64_t)ts.tv_sec * 8 + (uint64_t)ts.tv_nsec / 125000000u);
	c.incarnation = inc > gw_inc[k] ? inc : gw_inc[k] + 1;
	gw_inc[k] = c.incarnation;
	c.key = hc_tool_auth_key(&auth, c.gateway_id, &c.key_slot, "hc-gwsim");
	c.key_len = c.key != NULL ? HC_GW_KEY_LEN : 0;
	c.insecure_no_auth = c.key == NULL; /* --no-auth */
	c.fence_appliance = opt.fence;
	c.max_room = opt.max_rooms - 1;
	c.on_assign = on_assign;
	c.on_move = on_move;
	c.on_state = on_state;
	c.arg = (void *)(uintptr_t)k;
	gw[k] = hc_gw_open(&c, err, sizeof(err));
	if (gw[k] == NULL) {
		fprintf(stderr, "hc-gwsim: gateway %u: %s\n", c.gateway_id, err);
		exit(2);
	}
	if (hc_gw_set_impairment(gw[k], opt.impair_fraction, opt.impair_delay_ms,
				 opt.seed * 131 + k) != 0) {
		fprintf(stderr, "hc-gwsim: gateway %u: impairment: out of memory\n", c.gateway_id);
		exit(2);
	}
}

/* Gateway k stops without a word: its users are gone with it (and so
 * are the late LEAVEs it still owed). */
static void crash_gateway(unsigned k)
{
	hc_gw_close(gw[k], 0);
	gw[k] = NULL;
	for (uint32_t u = 0; u < opt.users; u++) {
		if (users[u].state != IDLE && users[u].gw == k)
			to_idle(u);
		/* (a user may even be back on the gateway its late LEAVE is
		 * owed by: reconnected away, left, placed there again) */
		if (users[u].late_leave_gw == k + 1)
			users[u].late_leave_gw = 0;
	}
}

/* A crash and a restart. */
static void restart_gateway(unsigned k)
{
	crash_gateway(k);
	open_gateway(k);
	restarts++;
}

/* A crash for good: the last gateway stops without a word; its users are
 * gone with it (the appliance notices after its gateway timeout). */
static void kill_last_gateway(void)
{
	unsigned k = opt.gateways - 1;
	crash_gateway(k);
	opt.gateways--; /* the rest of the run knows only the others */
	printf("killed gateway %u (no restart)\n", opt.first_id + k);
	killed++;
}

/* --mark: the file appeared: note its time and the newest incarnation
 * the gateways know (checked every 10 ms; its mtime is the mark). */
static void check_mark(void)
{
	if (opt.mark == NULL || mark.armed || now_s() < mark.next_check)
		return;
	mark.next_check = now_s() + 0.01;
	struct stat sb;
	if (stat(opt.mark, &sb) != 0)
		return;
	mark.mark_wall_ms = (uint64_t)sb.st_mtim.tv_sec * 1000 + (uint64_t)sb.st_mtim.tv_nsec / 1000000;
	for (unsigned k = 0; k < opt.gateways; k++) {
		struct hc_gw_stats st;
		hc_gw_get_stats(gw[k], &st);
		if (mark.epoch == 0 || (int32_t)(st.appliance_incarnation - mark.epoch) > 0)
			mark.epoch = st.appliance_incarnation;
	}
	mark.armed = 1;
	printf("mark: wall_ms=%" PRIu64 ", appliance incarnation %u\n", mark.mark_wall_ms, mark.epoch);
}

static void poll_all(int timeout_ms)
{
	check_mark();
	for (unsigned k = 0; k < opt.gateways; k++)
		hc_gw_poll(gw[k], k == 0 ? timeout_ms : 0);
}

static void run_moves(double t)
{
	uint32_t i = 0;
	while (i < n_moves) {
		struct pending_move *m = &moves[i];
		if (m->due > t) {
			i++;
			continue;
		}
		uint32_t u = index_of(m->user);
		if (u < opt.users && users[u].state == PRESENT && users[u].gw == m->gw &&
		    hc_gw_room_of(gw[m->gw], m->user) == m->from &&
		    hc_gw_join(gw[m->gw], m->user, m->to, m->pool) == 0) {
			moves_done++;
			if (move_log != NULL) { /* wall_ms gateway user from to epoch */
				fprintf(move_log, "%" PRIu64 " %u %" PRIu64 " %u %u %u\n", wall_ms(),
					opt.first_id + m->gw, m->user, m->from, m->to, m->epoch);
				moves_logged++;
			}
		}
		moves[i] = moves[--n_moves];
	}
}

/* ----------------------------------------------------------- workload -- */

static void arrive(void)
{
	if (n_idle == 0)
		return;
	uint32_t i = rnd(n_idle), u = idle_list[i];
	idle_list[i] = idle_list[--n_idle];
	unsigned k = rnd(opt.gateways);
	users[u].gw = (uint8_t)k;
	users[u].state = PLACING;
	if (hc_gw_place(gw[k], opt.user_base + u, opt.pool, NULL) != 0) {
		users[u].state = IDLE;
		idle_list[n_idle++] = u;
	}
}

static void depart(void)
{
	if (n_present == 0)
		return;
	uint32_t u = present[rnd(n_present)];
	uint64_t id = opt.user_base + u;
	unsigned k = users[u].gw;
	if (opt.gateways > 1 && rnd(1000000) < opt.reconnect_fraction * 1e6 &&
	    users[u].late_leave_gw == 0) {
		/* reconnect through another gateway, same room; the old
		 * gateway notices later and sends its (late) LEAVE */
		unsigned k2 = (k + 1 + rnd(opt.gateways - 1)) % opt.gateways;
		uint32_t room = hc_gw_room_of(gw[k], id);
		if (room != 0 && hc_gw_join(gw[k2], id, room, opt.pool) == 0) {
			users[u].gw = (uint8_t)k2;
			users[u].late_leave_gw = k + 1;
			reconnects++;
			return;
		}
	}
	hc_gw_leave(gw[k], id);
	to_idle(u);
}

static void late_leaves(void)
{
	/* a few per call: the old gateways' LEAVEs of reconnected users */
	for (int i = 0; i < 64 && n_present > 0; i++) {
		uint32_t u = present[rnd(n_present)];
		if (users[u].late_leave_gw != 0) {
			hc_gw_leave(gw[users[u].late_leave_gw - 1], opt.user_base + u);
			users[u].late_leave_gw = 0;
		}
	}
}

/* ------------------------------------------------------------ compare -- */

static uint32_t *truth, *seen;

static void count_truth(void *arg, uint64_t user, uint32_t room, uint16_t pool)
{
	(void)arg;
	(void)user;
	(void)pool;
	if (room < MAX_ROOM_ID)
		truth[room]++;
}

/* truth[room] = users the gateways hold there; returns their total. */
static uint64_t count_truth_all(void)
{
	memset(truth, 0, sizeof(uint32_t) * MAX_ROOM_ID);
	for (unsigned k = 0; k < opt.gateways; k++)
		hc_gw_foreach(gw[k], count_truth, NULL);
	uint64_t tu = 0;
	for (uint32_t r = 0; r < MAX_ROOM_ID; r++)
		tu += truth[r];
	return tu;
}

/* A reply that does not parse, or has the wrong shape: said once (the
 * same reason again is not repeated: comparisons run every 100 ms). */
static void tel_error(const char *cmd, const char *err)
{
	static char last[256];
	if (strcmp(last, err) == 0)
		return;
	snprintf(last, sizeof(last), "%s", err);
	fprintf(stderr, "hc-gwsim: telemetry %s: %s\n", cmd, err);
}

/* One page of /headcount/rooms (a flat array: room, users, room, users,
 * ...) into seen[]; adds its users to *total.  0, or -1 (err says why). */
static int rooms_page(const json_t *reply, uint64_t *total, char *err, size_t err_len)
{
	const json_t *rooms = json_object_get(reply, "rooms");
	if (!json_is_array(rooms) || json_array_size(rooms) % 2 != 0) {
		snprintf(err, err_len, "\"rooms\" is not an array of (room, users) pairs");
		return -1;
	}
	for (size_t i = 0; i < json_array_size(rooms); i += 2) {
		const json_t *r = json_array_get(rooms, i), *n = json_array_get(rooms, i + 1);
		if (!json_is_integer(r) || !json_is_integer(n) || json_integer_value(r) < 0 ||
		    json_integer_value(n) < 0) {
			snprintf(err, err_len, "\"rooms\"[%zu]: not two non-negative integers", i);
			return -1;
		}
		uint64_t room = (uint64_t)json_integer_value(r), users = (uint64_t)json_integer_value(n);
		if (room < MAX_ROOM_ID)
			seen[room] = (uint32_t)users;
		*total += users;
	}
	return 0;
}

/* Read the appliance's room table into seen[]; returns its user total,
 * or -1 when it cannot be read (no answer, or a reply that is not the
 * JSON expected: said on stderr). */
/* --prefix P1,P2 (an HA pair): the prefix of the one that is master,
 * the newest epoch if both say so; a single prefix as it is.  NULL: none
 * is master now. */
static const char *current_prefix(void)
{
	static char pick[256];
	if (strchr(opt.telemetry, ',') == NULL)
		return opt.telemetry;
	char list[512], err[256];
	snprintf(list, sizeof(list), "%s", opt.telemetry);
	uint64_t best = 0;
	const char *found = NULL;
	for (char *save, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		uint64_t epoch;
		json_t *ha = hc_tel_query_json(p, "/headcount/ha", err, sizeof(err));
		const json_t *role = ha != NULL ? json_object_get(ha, "role") : NULL;
		int master = json_is_string(role) && strcmp(json_string_value(role), "master") == 0 &&
			     hc_tel_u64(ha, "epoch", &epoch, err, sizeof(err)) == 0;
		json_decref(ha);
		if (!master)
			continue; /* not answering, or the backup */
		if (found == NULL || (int32_t)((uint32_t)epoch - (uint32_t)best) > 0) {
			best = epoch;
			snprintf(pick, sizeof(pick), "%s", p);
			found = pick;
		}
	}
	return found;
}

#define VIEW_CHANGED (-2)

/* One read of every page of the room table into seen[]: the users in
 * rooms, -1 (the appliance unreadable), or VIEW_CHANGED (a new view was
 * published between two pages: read again). */
static int64_t read_appliance_once(const char *prefix)
{
	uint64_t start = 1, gen0 = 0, total = 0;
	memset(seen, 0, sizeof(uint32_t) * MAX_ROOM_ID);
	for (int page = 0; page < 100000; page++) {
		char cmd[64], err[256];
		snprintf(cmd, sizeof(cmd), "/headcount/rooms,%" PRIu64, start);
		uint64_t gen, next;
		static char buf[1 << 16];
		if (hc_tel_query(prefix, cmd, buf, sizeof(buf)) != 0)
			return -1; /* not answering (restarting): no message */
		json_t *reply = hc_tel_parse(buf, cmd, err, sizeof(err));
		if (reply == NULL || hc_tel_u64(reply, "view_generation", &gen, err, sizeof(err)) ||
		    hc_tel_u64(reply, "next", &next, err, sizeof(err))) {
			tel_error(cmd, err);
			json_decref(reply);
			return -1;
		}
		if (page == 0)
			gen0 = gen;
		else if (gen != gen0) {
			json_decref(reply);
			return VIEW_CHANGED;
		}
		int rc = rooms_page(reply, &total, err, sizeof(err));
		json_decref(reply);
		if (rc != 0) {
			tel_error(cmd, err);
			return -1;
		}
		if (next == 0)
			break;
		start = next;
	}
	return (int64_t)total;
}

/* The room table read whole from one view: up to 100 tries while new
 * views are published meanwhile (one each merge interval, 100 ms by
 * default; a read of a few pages takes milliseconds), then -1 with a
 * message (was: a recursion without end, with a merge interval shorter
 * than one read). */
static int64_t read_appliance(void)
{
	const char *prefix = current_prefix();
	if (prefix == NULL)
		return -1;
	for (int attempt = 0; attempt < 100; attempt++) {
		int64_t n = read_appliance_once(prefix);
		if (n != VIEW_CHANGED)
			return n;
		usleep(1000 * (attempt % 10)); /* spread the tries over a merge */
	}
	fprintf(stderr, "hc-gwsim: the appliance's view changed during each of 100 reads "
		"of its room table\n");
	return -1;
}

/* Compare; prints up to 20 differences when `verbose`.  Returns the
 * number of rooms that differ (-1: appliance unreadable). */
static int64_t compare(int verbose, uint64_t *truth_users)
{
	*truth_users = count_truth_all();
	if (read_appliance() < 0)
		return -1;
	int64_t bad = 0;
	for (uint32_t r = 1; r < MAX_ROOM_ID; r++) {
		if (truth[r] == seen[r])
			continue;
		if (verbose && bad < 20)
			printf("  room %u: gateways hold %u, appliance counts %u\n", r, truth[r], seen[r]);
		bad++;
	}
	return bad;
}

/* What scripts read (--result): filled as the run goes. */
static struct {
	uint64_t events, truth_users, settle_ms, rebuild_ms, rebuilds, exact_wall_ms;
	const char *compare, *final_compare; /* exact, differs, unreadable */
} res = {.compare = "none", .final_compare = "none"};

static uint64_t sum_stat(size_t off);

/* Gateways whose state callback reported an id conflict (at any time). */
static unsigned conflicted(void)
{
	unsigned n = 0;
	for (unsigned k = 0; k < MAX_GW; k++)
		n += id_conflict[k];
	return n;
}

/* Rewrite --result (atomically: a reader never sees half a file). */
static void write_result(const char *phase)
{
	if (opt.result == NULL)
		return;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", opt.result);
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		perror(tmp);
		return;
	}
	fprintf(f, "phase=%s\ngateways=%u\nevents=%" PRIu64 "\nmoves_received=%" PRIu64
		"\nmoves_obeyed=%" PRIu64 "\nreconnects=%" PRIu64 "\nrestarts=%" PRIu64
		"\nplacements_failed=%" PRIu64 "\nkilled=%" PRIu64 "\ntruth_users=%" PRIu64 "\ncompare=%s"
		"\nsettle_ms=%" PRIu64 "\nrebuilds=%" PRIu64 "\nrebuild_ms=%" PRIu64
		"\nexact_wall_ms=%" PRIu64 "\nfinal_compare=%s\n",
		phase, opt.gateways, res.events, moves_got, moves_done, reconnects, restarts,
		place_fail, killed, res.truth_users, res.compare, res.settle_ms, res.rebuilds,
		res.rebuild_ms, res.exact_wall_ms, res.final_compare);
#define RES_STAT(name) fprintf(f, #name "=%" PRIu64 "\n", \
	sum_stat(offsetof(struct hc_gw_stats, name)));
	RES_STAT(retransmits) RES_STAT(nacks) RES_STAT(snapshots) RES_STAT(snapshot_members)
	RES_STAT(appliance_restarts) RES_STAT(moves_ignored) RES_STAT(new_topics)
	RES_STAT(place_timeouts) RES_STAT(digest_snapshots)
	RES_STAT(rx_bad) RES_STAT(rx_bad_auth) RES_STAT(rx_wrong_source) RES_STAT(rx_stale)
	RES_STAT(rx_replayed) RES_STAT(id_conflicts) RES_STAT(refusals) RES_STAT(superseded)
	RES_STAT(stale_directives)
#undef RES_STAT
	fprintf(f, "mark_wall_ms=%" PRIu64 "\nmark_epoch=%u\nresumed_wall_ms=%" PRIu64
		"\nplaces_after_mark=%" PRIu64 "\nmoves_logged=%" PRIu64 "\n", mark.mark_wall_ms,
		mark.epoch, mark.resumed_wall_ms, mark.places_after, moves_logged);
	if (move_log != NULL)
		fflush(move_log);
	fprintf(f, "state_id_conflict=%u\nauth=%s\n", conflicted(),
		auth.ring != NULL ? "keys" : "none");
	if (fclose(f) != 0 || rename(tmp, opt.result) != 0)
		perror(opt.result);
}

static uint64_t sum_stat(size_t off)
{
	uint64_t s = 0;
	for (unsigned k = 0; k < opt.gateways; k++) {
		struct hc_gw_stats st;
		hc_gw_get_stats(gw[k], &st);
		s += *(const uint64_t *)(const void *)((const uint8_t *)&st + off);
	}
	return s;
}
#define SUM(field) sum_stat(offsetof(struct hc_gw_stats, field))

static void live_line(double t, double dt, uint64_t *last_ev, uint64_t *last_mv)
{
	uint64_t ev = SUM(joins) + SUM(leaves), mv = moves_got;
	uint32_t rooms = 0;
	uint64_t tu = count_truth_all();
	for (uint32_t r = 1; r < MAX_ROOM_ID; r++)
		rooms += truth[r] != 0;
	printf("t=%5.1fs users=%" PRIu64 " rooms=%u events/s=%.0f directives/s=%.0f "
	       "retransmits=%" PRIu64 " snapshots=%" PRIu64 " restarts=%" PRIu64 "\n",
	       t, tu, rooms, (double)(ev - *last_ev) / dt, (double)(mv - *last_mv) / dt,
	       SUM(retransmits), SUM(snapshots), restarts);
	fflush(stdout);
	*last_ev = ev;
	*last_mv = mv;
}

static void usage(void)
{
	printf("Usage: hc-gwsim (--keys FILE | --no-auth) [options]\n"
	       "A fleet of simulated gateways (libheadcount sessions) with their own\n"
	       "truth, compared with the appliance's room table (--prefix).\n"
	       "  --appliance A.B.C.D[:PORT]  the appliance                   [198.18.0.1]\n"
	       "  --bind A.B.C.D             local address of the sockets\n"
	       "  --gateways G               gateways (sessions), 1..%d         [4]\n"
	       "  --first-id N               gateway ids N .. N+G-1            [1]\n"
	       "  --users U                  simulated users                   [10000]\n"
	       "  --user-base B              user ids B .. B+U-1               [0]\n"
	       "  --pool P                   pool of every placement           [0]\n"
	       "  --max-rooms N              the appliance's --max-rooms: a room id\n"
	       "                             from N up is refused, never sent [262144]\n"
	       "  --arrival-rate R           arrivals per second               [20000]\n"
	       "  --leave-rate R             departures per second             [200]\n"
	       "  --duration S               seconds of workload               [5]\n"
	       "  --move-delay-ms D          obey a MOVE after 0..D ms         [50]\n"
	       "  --restart-every S          crash+restart a random gateway every S s\n"
	       "  --kill-after S             crash the last gateway for good after S s\n"
	       "  --reconnect-fraction F     leaving users who reconnect through\n"
	       "                             another gateway instead           [0]\n"
	       "  --keys FILE                the appliance's keys file: each gateway\n"
	       "                             seals with its own id's key (the\n"
	       "                             highest slot holding one)\n"
	       "  --key-slot N               ... in slot N (0 or 1) instead\n"
	       "  --no-auth                  no keys: nothing sealed or checked (the\n"
	       "                             appliance runs with --no-auth); one of\n"
	       "                             --keys and --no-auth is required\n"
	       "  --impair-fraction F        hold this fraction of datagrams (both\n"
	       "  --impair-delay-ms D        directions) for D ms: reordering  [0]\n"
	       "  --prefix P                 the appliance's telemetry file prefix (its\n"
	       "                             EAL --file-prefix): compare rooms;\n"
	       "                             P1,P2: an HA pair, the master's (/headcount/ha)\n"
	       "  --fence                    sessions with fence_appliance (an HA pair)\n"
	       "  --mark FILE                when FILE appears (touched at a failover):\n"
	       "                             resumed_wall_ms = first placement answered\n"
	       "                             by a newer appliance incarnation\n"
	       "  --move-log FILE            each MOVE obeyed: wall_ms gateway user from\n"
	       "                             to epoch (the incarnation that sent it)\n"
	       "  --settle S                 seconds to converge at the end    [10]\n"
	       "  --hold S                   keep the sessions S more seconds, compare\n"
	       "                             every 100 ms and report changes   [0]\n"
	       "  --result FILE              what happened, as key=value lines (for\n"
	       "                             scripts); rewritten at each phase:\n"
	       "                             phase=settle, hold, done; with the\n"
	       "                             gateways' summed stats (rx_bad_auth,\n"
	       "                             rx_wrong_source, rx_stale, rx_replayed,\n"
	       "                             id_conflicts, ...) and state_id_conflict\n"
	       "                             (gateways told of an id conflict)\n"
	       "  --hold-until FILE          end the hold early: at the first exact\n"
	       "                             comparison made after FILE exists\n"
	       "  --live                     one line per second (SIGUSR1: compare now)\n"
	       "  --seed N                   the workload's random choices      [1]\n"
	       "  --help                     this text\n"
	       "  --version                  the program's version\n", MAX_GW);
}

static int parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{"appliance", 1, 0, 'a'}, {"bind", 1, 0, 'b'}, {"gateways", 1, 0, 'g'},
		{"first-id", 1, 0, 'i'}, {"users", 1, 0, 'u'}, {"user-base", 1, 0, 'B'},
		{"pool", 1, 0, 'p'}, {"arrival-rate", 1, 0, 'r'}, {"leave-rate", 1, 0, 'l'},
		{"duration", 1, 0, 'd'}, {"move-delay-ms", 1, 0, 'm'},
		{"restart-every", 1, 0, 'R'}, {"kill-after", 1, 0, 'K'}, {"reconnect-fraction", 1, 0, 'c'},
		{"impair-fraction", 1, 0, 'f'}, {"impair-delay-ms", 1, 0, 'D'},
		{"prefix", 1, 0, 't'}, {"settle", 1, 0, 's'}, {"hold", 1, 0, 'H'},
		{"hold-until", 1, 0, 'U'}, {"result", 1, 0, 'O'}, {"fence", 0, 0, 'F'},
		{"mark", 1, 0, 'M'}, {"move-log", 1, 0, 'W'},
		{"live", 0, 0, 'L'}, {"seed", 1, 0, 'S'}, {"max-rooms", 1, 0, 'X'},
		HC_TOOL_AUTH_LONG_OPTIONS,
		{"help", 0, 0, 'h'}, {"version", 0, 0, 'V'}, {0, 0, 0, 0}};
	static const char *const me = "hc-gwsim";
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a': opt.appliance = optarg; break;
		case 'b': opt.bind_ip = optarg; break;
		case 'g': opt.gateways = (unsigned)hc_cli_u64(me, "gateways", optarg, 1, MAX_GW); break;
		case 'i': opt.first_id = (unsigned)hc_cli_u64(me, "first-id", optarg, 1, 65535); break;
		case 'u': opt.users = (uint32_t)hc_cli_u64(me, "users", optarg, 1, UINT32_MAX); break;
		case 'B': opt.user_base = hc_cli_u64(me, "user-base", optarg, 0, UINT64_MAX); break;
		case 'p': opt.pool = (uint16_t)hc_cli_u64(me, "pool", optarg, 0, 65535); break;
		case 'X': opt.max_rooms = (uint32_t)hc_cli_u64(me, "max-rooms", optarg, 2, UINT32_MAX); break;
		case 'r': opt.arrival_rate = hc_cli_double(me, "arrival-rate", optarg, 0, 1e9); break;
		case 'l': opt.leave_rate = hc_cli_double(me, "leave-rate", optarg, 0, 1e9); break;
		case 'd': opt.duration = hc_cli_double(me, "duration", optarg, 0, 86400); break;
		case 'm': opt.move_delay_ms = (uint32_t)hc_cli_u64(me, "move-delay-ms", optarg, 0, 3600000); break;
		case 'R': opt.restart_every = hc_cli_double(me, "restart-every", optarg, 0, 86400); break;
		case 'K': opt.kill_after = hc_cli_double(me, "kill-after", optarg, 0, 86400); break;
		case 'c': opt.reconnect_fraction = hc_cli_double(me, "reconnect-fraction", optarg, 0, 1); break;
		case 'f': opt.impair_fraction = hc_cli_double(me, "impair-fraction", optarg, 0, 1); break;
		case 'D': opt.impair_delay_ms = (uint32_t)hc_cli_u64(me, "impair-delay-ms", optarg, 0, 3600000); break;
		case 't': opt.telemetry = optarg; break;
		case 's': opt.settle = hc_cli_double(me, "settle", optarg, 0, 3600); break;
		case 'H': opt.hold = hc_cli_double(me, "hold", optarg, 0, 86400); break;
		case 'U': opt.hold_until = optarg; break;
		case 'O': opt.result = optarg; break;
		case 'L': opt.live = 1; break;
		case 'F': opt.fence = 1; break;
		case 'M': opt.mark = optarg; break;
		case 'W': opt.move_log = optarg; break;
		case 'S': opt.seed = (uint32_t)hc_cli_u64(me, "seed", optarg, 0, UINT32_MAX); break;
		case 'k': case 'N': case 'A': hc_tool_auth_option(&auth, c, optarg); break;
		case 'h': usage(); exit(0);
		case 'V': hc_cli_version(me); exit(0);
		default: hc_cli_unknown(me);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hc-gwsim: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (opt.gateways < 1 || opt.gateways > MAX_GW || opt.first_id < 1 ||
	    opt.first_id + opt.gateways > 65536 || opt.users < 1 || opt.duration > 86400 ||
	    opt.settle > 3600 || opt.hold > 86400 || (opt.kill_after > 0 && opt.gateways < 2)) {
		fprintf(stderr, "hc-gwsim: --gateways, --first-id and --kill-after do not fit "
			"together: ids past 65535, or --kill-after with one gateway (see --help)\n");
		return -1;
	}
	if (hc_tool_auth_load(&auth, "hc-gwsim") != 0)
		return -1;
	/* every gateway's key, before any session starts */
	for (unsigned k = 0; k < opt.gateways; k++) {
		uint8_t slot;
		hc_tool_auth_key(&auth, (uint16_t)(opt.first_id + k), &slot, "hc-gwsim");
	}
	return 0;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		compare_now = 1; /* compare on demand (in flight events may differ) */
	else
		stop = 1;
}

static void compare_on_demand(void)
{
	if (!compare_now || opt.telemetry == NULL)
		return;
	compare_now = 0;
	uint64_t tu;
	int64_t bad = compare(1, &tu);
	printf("compare on demand: %" PRIu64 " users in the gateways; %" PRId64
	       " rooms differ (events in flight count as differences)\n", tu, bad);
}

int main(int argc, char **argv)
{
	if (parse(argc, argv) != 0)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0); /* tests follow the log as it grows */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	rng ^= (uint64_t)opt.seed * 0x9E3779B97F4A7C15ull;
	users = calloc(opt.users, sizeof(*users));
	idle_list = malloc(sizeof(uint32_t) * opt.users);
	present = malloc(sizeof(uint32_t) * opt.users);
	present_pos = malloc(sizeof(uint32_t) * opt.users);
	truth = malloc(sizeof(uint32_t) * MAX_ROOM_ID);
	seen = malloc(sizeof(uint32_t) * MAX_ROOM_ID);
	if (!users || !idle_list || !present || !present_pos || !truth || !seen) {
		fprintf(stderr, "hc-gwsim: out of memory\n");
		return 2;
	}
	for (uint32_t u = 0; u < opt.users; u++)
		idle_list[n_idle++] = opt.users - 1 - u;
	if (opt.move_log != NULL && (move_log = fopen(opt.move_log, "w")) == NULL) {
		perror(opt.move_log);
		return 2;
	}
	for (unsigned k = 0; k < opt.gateways; k++)
		open_gateway(k);

	/* workload */
	double t0 = now_s(), last = t0, next_live = t0 + 1, next_restart = t0 + opt.restart_every;
	double arrivals = 0, departures = 0;
	uint64_t last_ev = 0, last_mv = 0;
	while (!stop && now_s() - t0 < opt.duration) {
		double t = now_s(), dt = t - last;
		last = t;
		arrivals += opt.arrival_rate * dt;
		departures += opt.leave_rate * dt;
		for (; arrivals >= 1 && n_idle > 0; arrivals--)
			arrive();
		if (arrivals > 1)
			arrivals = 1;
		for (; departures >= 1; departures--)
			depart();
		late_leaves();
		run_moves(t);
		if (opt.kill_after > 0 && t - t0 >= opt.kill_after) {
			kill_last_gateway();
			opt.kill_after = 0;
		}
		if (opt.restart_every > 0 && t >= next_restart) {
			restart_gateway(rnd(opt.gateways));
			next_restart = t + opt.restart_every;
		}
		poll_all(1);
		compare_on_demand();
		if (opt.live && t >= next_live) {
			live_line(t - t0, 1.0 + (t - next_live), &last_ev, &last_mv);
			next_live += 1;
		}
	}
	double work_s = now_s() - t0;
	uint64_t events = SUM(joins) + SUM(leaves);
	/* the old gateways' late LEAVEs of every reconnected user */
	for (uint32_t u = 0; u < opt.users; u++)
		if (users[u].late_leave_gw != 0) {
			hc_gw_leave(gw[users[u].late_leave_gw - 1], opt.user_base + u);
			users[u].late_leave_gw = 0;
		}
	for (unsigned k = 0; k < opt.gateways; k++)
		hc_gw_flush(gw[k]);
	printf("workload: %u gateways, %.1f s, %" PRIu64 " events (%.0f events/s), "
	       "%" PRIu64 " MOVEs received, %" PRIu64 " obeyed, %" PRIu64 " reconnects, "
	       "%" PRIu64 " restarts, %" PRIu64 " placements failed\n",
	       opt.gateways, work_s, events, (double)events / work_s, moves_got, moves_done,
	       reconnects, restarts, place_fail);
	res.events = events;
	write_result("settle");

	int rc = 0;
	if (opt.telemetry != NULL) {
		/* settle: placements in flight finish, directives are obeyed */
		double ts = now_s();
		int64_t bad = -1;
		uint64_t tu = 0;
		double next_cmp = ts;
		while (!stop && now_s() - ts < opt.settle) {
			double t = now_s();
			run_moves(t);
			poll_all(5);
			if (t >= next_cmp) {
				bad = compare(0, &tu);
				if (bad == 0 && n_moves == 0)
					break;
				next_cmp = t + 0.1;
			}
		}
		if (bad != 0)
			bad = compare(1, &tu);
		printf("compare: %" PRIu64 " users in the gateways; %s after %.0f ms\n", tu,
		       bad == 0 ? "appliance room table EXACT" :
		       bad < 0 ? "appliance UNREADABLE" : "appliance room table DIFFERS",
		       (now_s() - ts) * 1000);
		rc = bad != 0;
		res.truth_users = tu;
		res.compare = bad == 0 ? "exact" : bad < 0 ? "unreadable" : "differs";
		res.settle_ms = (uint64_t)((now_s() - ts) * 1000);
		write_result("hold");
		/* hold: report every change of exactness, and how long a rebuild
		 * takes after the appliance restarts */
		double th = now_s();
		uint64_t restarts0 = SUM(appliance_restarts);
		int exact = bad == 0;
		double rebuild_from = 0;
		next_cmp = th;
		while (!stop && now_s() - th < opt.hold) {
			double t = now_s();
			run_moves(t);
			poll_all(5);
			uint64_t r = SUM(appliance_restarts);
			if (r != restarts0) {
				restarts0 = r;
				if (rebuild_from == 0)
					rebuild_from = t; /* the first gateway to hear it */
				printf("hold: wall_ms=%" PRIu64 " appliance restarted (new incarnation)\n",
				       wall_ms());
			}
			if (t < next_cmp)
				continue;
			next_cmp = t + 0.1;
			/* the file first, then the table: a comparison that ends
			 * the hold saw the state after the file appeared */
			int until = opt.hold_until != NULL && access(opt.hold_until, F_OK) == 0;
			int64_t b = compare(0, &tu);
			if ((b == 0) != exact) {
				exact = b == 0;
				printf("hold: wall_ms=%" PRIu64 " %s (%" PRIu64 " users)\n", wall_ms(),
				       exact ? "exact" : "differs", tu);
				if (exact)
					res.exact_wall_ms = wall_ms();
				if (exact && rebuild_from != 0) {
					printf("rebuild: %" PRIu64 " users exact %.0f ms after the new "
					       "incarnation was heard\n", tu, (t - rebuild_from) * 1000);
					res.rebuilds++;
					res.rebuild_ms = (uint64_t)((t - rebuild_from) * 1000);
					rebuild_from = 0;
				}
				fflush(stdout);
			}
			if (until && b == 0) {
				printf("hold: wall_ms=%" PRIu64 " exact after %s: done\n", wall_ms(),
				       opt.hold_until);
				break;
			}
		}
		if (opt.hold > 0) {
			int64_t b = -1;
			double te = now_s();
			while (!stop && now_s() - te < opt.settle && (b = compare(0, &tu)) != 0)
				poll_all(50);
			if (b != 0)
				b = compare(1, &tu);
			printf("final compare: %" PRIu64 " users; %s\n", tu,
			       b == 0 ? "EXACT" : "DIFFERS");
			rc = b != 0;
			res.truth_users = tu;
			res.final_compare = b == 0 ? "exact" : b < 0 ? "unreadable" : "differs";
		}
	}
	printf("gateways: retransmits=%" PRIu64 " nacks=%" PRIu64 " snapshots=%" PRIu64
	       " snapshot_members=%" PRIu64 " appliance_restarts=%" PRIu64
	       " moves_ignored=%" PRIu64 " new_topics=%" PRIu64 " place_timeouts=%" PRIu64
	       " digest_snapshots=%" PRIu64 " rx_bad=%" PRIu64 " rx_bad_auth=%" PRIu64
	       " rx_wrong_source=%" PRIu64 " rx_stale=%" PRIu64 " rx_replayed=%" PRIu64
	       " id_conflicts=%" PRIu64 " state_id_conflict=%u\n",
	       SUM(retransmits), SUM(nacks), SUM(snapshots), SUM(snapshot_members),
	       SUM(appliance_restarts), SUM(moves_ignored), SUM(new_topics), SUM(place_timeouts),
	       SUM(digest_snapshots), SUM(rx_bad), SUM(rx_bad_auth), SUM(rx_wrong_source),
	       SUM(rx_stale), SUM(rx_replayed), SUM(id_conflicts), conflicted());
	write_result("done");
	for (unsigned k = 0; k < opt.gateways; k++)
		hc_gw_close(gw[k], 0);
	hc_tool_auth_free(&auth);
	return rc;
}
