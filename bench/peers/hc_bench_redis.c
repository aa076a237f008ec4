/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bench_redis.c - hc-bench-redis: hc-bench's workload against Redis.
 *
 * The peer the question "how much faster than Redis?" needs: the same
 * users, rooms, warm-up and event stream as hc-bench (bench/hc_bench_gen.c,
 * the same datagrams in the same order), applied by a Lua script that keeps
 * the state the appliance keeps (membership.lua: user -> room, room ->
 * count, clamped at --max as with admission on), one EVALSHA per datagram:
 * batch64 (64 events per call) and batch1 (one), pipelined --pipeline calls
 * deep on one unix-socket connection (Redis runs one script at a time).
 * The calls of a window are formatted before it starts; the window times
 * sending them and reading every reply (each the script's outcome counts).
 *
 * Correct, not only fast: a reference model applies every event as the
 * script must; each window's outcome counts (joins, moves, leaves, no-ops,
 * refused) must equal the model's, and after the run Redis's whole state
 * must equal it exactly: every user's room (HSCAN), every room's count, the
 * counts' sum, the number of users, no room above --max.  It prints
 * `redis_check=ok ...` or `redis_check=FAIL ...` (exit 1).  --tamper (for
 * the test) changes one room's count before the check, which must then
 * fail.  Redis is started by bench/peers/run.sh (or by you): --socket.
 *
 *   case=batch64 events_per_call=64 pipeline=32 ... redis_events_per_s=...
 */
#include <endian.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "hc_cli.h"
#include "hc_bench_gen.h"
#include "hc_bench_host.h"
#include "hc_median.h"
#include "hc_state_digest.h"

#define USERS_KEY "hc:user"
#define ROOMS_KEY "hc:room"
#define ARGS_FIXED 6 /* EVALSHA sha 2 users rooms max */

enum { O_JOIN, O_MOVE, O_LEAVE, O_NOOP, O_REFUSED, O_N };
static const char *const o_name[O_N] = {"joins", "moves", "leaves", "noops", "refused"};

static redisContext *rc;
static char sha[41], max_arg[16];
static uint32_t users, rooms, max_room = 100;

/* the reference model: what the script must do with the same events */
static uint32_t *ref_room;   /* by user index, 0: absent */
static int64_t *ref_count;   /* by room */
static uint64_t ref_present;

static int ref_apply(const struct hc_event *e)
{
	uint64_t u = hc_gen_user_index(be64toh(e->user_id));
	uint32_t r = be32toh(e->room_id), cur = ref_room[u];
	if (e->op == HC_OP_LEAVE) {
		if (cur != r)
			return O_NOOP;
		ref_room[u] = 0;
		ref_count[r]--;
		ref_present--;
		return O_LEAVE;
	}
	if (cur == r)
		return O_NOOP;
	if (ref_count[r] >= max_room)
		return O_REFUSED;
	ref_count[r]++;
	ref_room[u] = r;
	if (cur == 0) {
		ref_present++;
		return O_JOIN;
	}
	ref_count[cur]--;
	return O_MOVE;
}

/* One call's command for k events (and the model's outcomes). */
static char *format_call(const struct hc_event *ev, unsigned k, uint64_t *out, long long *len)
{
	const char *argv[ARGS_FIXED + 3 * 64];
	size_t argl[ARGS_FIXED + 3 * 64];
	char room_s[64][12];
	unsigned n = 0;
	argv[n++] = "EVALSHA"; argv[n++] = sha; argv[n++] = "2";
	argv[n++] = USERS_KEY; argv[n++] = ROOMS_KEY; argv[n++] = max_arg;
	for (unsigned i = 0; i < ARGS_FIXED; i++)
		argl[i] = strlen(argv[i]);
	for (unsigned i = 0; i < k; i++) {
		out[ref_apply(&ev[i])]++;
		argv[n] = ev[i].op == HC_OP_LEAVE ? "L" : "J"; argl[n++] = 1;
		argv[n] = (const char *)&ev[i].user_id; argl[n++] = 8;
		argl[n] = (size_t)snprintf(room_s[i], sizeof(room_s[i]), "%" PRIu32,
					   be32toh(ev[i].room_id));
		argv[n++] = room_s[i];
	}
	char *cmd = NULL;
	*len = redisFormatCommandArgv(&cmd, (int)n, argv, argl);
	if (*len < 0) {
		fprintf(stderr, "hc-bench-redis: cannot format a command\n");
		exit(1);
	}
	return cmd;
}

/* One reply: the script's five counts, added to got.  0, or -1. */
static int take_reply(uint64_t *got)
{
	redisReply *r = NULL;
	if (redisGetReply(rc, (void **)&r) != REDIS_OK || r == NULL) {
		fprintf(stderr, "hc-bench-redis: connection: %s\n", rc->errstr);
		return -1;
	}
	int ok = r->type == REDIS_REPLY_ARRAY && r->elements == O_N;
	for (size_t i = 0; ok && i < O_N; i++)
		if (r->element[i]->type == REDIS_REPLY_INTEGER && r->element[i]->integer >= 0)
			got[i] += (uint64_t)r->element[i]->integer;
		else
			ok = 0;
	if (!ok)
		fprintf(stderr, "hc-bench-redis: unexpected reply (type %d): %s\n", r->type,
			r->type == REDIS_REPLY_ERROR ? r->str : "");
	freeReplyObject(r);
	return ok ? 0 : -1;
}

/* Send the calls, depth deep, and read every reply; returns seconds.
 * What is appended is written at once (redisBufferWrite): hiredis writes
 * its output only when a reply is asked for and none is buffered, so
 * replies read in one go would hold the calls appended after them back
 * until all were taken, and Redis would wait with fewer than depth in
 * flight (batch1: busy 0.57-0.69 of the window, a review found). */
static double run_calls(char **cmd, const long long *len, uint64_t calls, unsigned depth,
			uint64_t *got)
{
	struct timespec t0, t1;
	uint64_t sent = 0, done = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (done < calls) {
		unsigned appended = 0;
		while (sent < calls && sent - done < depth) {
			if (redisAppendFormattedCommand(rc, cmd[sent], (size_t)len[sent]) != REDIS_OK) {
				fprintf(stderr, "hc-bench-redis: append: %s\n", rc->errstr);
				exit(1);
			}
			sent++;
			appended++;
		}
		for (int written = appended == 0; !written;)
			if (redisBufferWrite(rc, &written) != REDIS_OK) {
				fprintf(stderr, "hc-bench-redis: write: %s\n", rc->errstr);
				exit(1);
			}
		if (take_reply(got) != 0)
			exit(1);
		done++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* redis-server's CPU time so far (INFO cpu: used_cpu_sys + used_cpu_user,
 * seconds, all its threads), or a negative value when it cannot be read. */
static double server_cpu(void)
{
	redisReply *r = redisCommand(rc, "INFO cpu");
	double sys = -1, user = -1;
	if (r != NULL && r->type == REDIS_REPLY_STRING) {
		const char *p = strstr(r->str, "used_cpu_sys:");
		const char *q = strstr(r->str, "used_cpu_user:");
		if (p != NULL && q != NULL) {
			sys = strtod(p + strlen("used_cpu_sys:"), NULL);
			user = strtod(q + strlen("used_cpu_user:"), NULL);
		}
	}
	if (r != NULL)
		freeReplyObject(r);
	return sys >= 0 && user >= 0 ? sys + user : -1;
}

static double window_busy; /* the last window's: redis-server's CPU time
                              over the window's time (-1: unknown) */

/* A window of `events` events, k per call: formatted first (not timed),
 * then timed; the script's outcomes must equal the model's.  Returns
 * events/s, 0 on a mismatch; window_busy how busy redis-server was. */
static double window(unsigned k, uint64_t events, unsigned depth, uint64_t *mix)
{
	uint64_t calls = (events + k - 1) / k, want[O_N] = {0}, got[O_N] = {0};
	char **cmd = malloc(sizeof(char *) * calls);
	long long *len = calloc(calls, sizeof(long long));
	if (cmd == NULL || len == NULL) {
		perror("hc-bench-redis");
		exit(1);
	}
	struct hc_event ev[64];
	for (uint64_t c = 0; c < calls; c++) {
		hc_gen_take(k, ev); /* the next datagram, as hc-bench's */
		cmd[c] = format_call(ev, k, want, &len[c]);
	}
	double cpu0 = server_cpu();
	double dt = run_calls(cmd, len, calls, depth, got);
	double cpu1 = server_cpu();
	window_busy = cpu0 >= 0 && cpu1 >= cpu0 && dt > 0 ? (cpu1 - cpu0) / dt : -1;
	for (uint64_t c = 0; c < calls; c++)
		redisFreeCommand(cmd[c]);
	free(cmd);
	free(len);
	int same = 1;
	for (int i = 0; i < O_N; i++) {
		same &= got[i] == want[i];
		mix[i] = got[i];
	}
	if (!same) {
		printf("redis_check=FAIL outcome counts differ from the model:");
		for (int i = 0; i < O_N; i++)
			printf(" %s=%" PRIu64 "/%" PRIu64, o_name[i], got[i], want[i]);
		printf(" (redis/model)\n");
		return 0;
	}
	return (double)(calls * k) / dt;
}

/* Every user joins its warm-up room (not timed), 64 per call. */
static int warm_up(unsigned depth)
{
	uint64_t calls = (hc_gen_present + 63) / 64, want[O_N] = {0}, got[O_N] = {0};
	char **cmd = malloc(sizeof(char *) * calls);
	long long *len = calloc(calls, sizeof(long long));
	if (cmd == NULL || len == NULL)
		return -1;
	struct hc_event ev[64];
	uint32_t u = 0; /* every user present where the stream starts */
	for (uint64_t c = 0; c < calls; c++) {
		unsigned k = 0;
		for (; k < 64 && u < users; u++)
			if (hc_gen_start_room(u) != 0)
				ev[k++] = (struct hc_event){.user_id = htobe64(hc_gen_user_id(u)),
					.room_id = htobe32(hc_gen_start_room(u)), .op = HC_OP_JOIN};
		cmd[c] = format_call(ev, k, want, &len[c]);
	}
	run_calls(cmd, len, calls, depth, got);
	for (uint64_t c = 0; c < calls; c++)
		redisFreeCommand(cmd[c]);
	free(cmd);
	free(len);
	return memcmp(want, got, sizeof(want)) == 0 ? 0 : -1;
}

/* Redis's whole state against the model.  0: equal. */
static int check_state(int tamper)
{
	if (tamper) { /* the test's proof that the check can fail */
		redisReply *t = redisCommand(rc, "HINCRBY " ROOMS_KEY " 1 1");
		freeReplyObject(t);
	}
	uint64_t bad = 0, sum = 0, n_rooms = 0, scanned = 0;
	long long top = 0;
	redisReply *r = redisCommand(rc, "HGETALL " ROOMS_KEY);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		fprintf(stderr, "hc-bench-redis: HGETALL failed\n");
		return -1;
	}
	uint8_t *seen_room = calloc((size_t)rooms + 1, 1);
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		unsigned long room = strtoul(r->element[i]->str, NULL, 10);
		long long c = strtoll(r->element[i + 1]->str, NULL, 10);
		if (room < 1 || room > rooms || seen_room[room] || c < 0 || c > max_room ||
		    c != ref_count[room]) {
			if (bad++ < 5)
				printf("hc-bench-redis: room %s: %lld members, model %" PRId64 "\n",
				       r->element[i]->str, c, room <= rooms ? ref_count[room] : -1);
			continue;
		}
		seen_room[room] = 1;
		sum += (uint64_t)c;
		top = c > top ? c : top;
		n_rooms++;
	}
	freeReplyObject(r);
	for (uint32_t room = 1; room <= rooms; room++)
		if (!seen_room[room] && ref_count[room] != 0 && bad++ < 5)
			printf("hc-bench-redis: room %u missing, model %" PRId64 "\n", room,
			       ref_count[room]);
	free(seen_room);

	/* every user's room, by HSCAN (a user seen twice counts once) */
	uint8_t *seen = calloc(users, 1);
	char cursor[32] = "0";
	uint64_t loops = 0;
	do {
		r = redisCommand(rc, "HSCAN " USERS_KEY " %s COUNT 10000", cursor);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			fprintf(stderr, "hc-bench-redis: HSCAN failed\n");
			free(seen);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		const redisReply *kv = r->element[1];
		for (size_t i = 0; i + 1 < kv->elements; i += 2) {
			uint64_t id = 0, u = users;
			if (kv->element[i]->len == 8) {
				memcpy(&id, kv->element[i]->str, 8);
				u = hc_gen_user_index(be64toh(id));
			}
			unsigned long room = strtoul(kv->element[i + 1]->str, NULL, 10);
			if (u >= users || room != ref_room[u]) {
				if (bad++ < 5)
					printf("hc-bench-redis: a user in room %lu, model %u\n", room,
					       u < users ? ref_room[u] : 0);
				continue;
			}
			scanned += !seen[u];
			seen[u] = 1;
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0 && ++loops < 100000000);
	free(seen);
	r = redisCommand(rc, "HLEN " USERS_KEY);
	long long hlen = r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	int ok = bad == 0 && sum == ref_present && scanned == ref_present &&
		 hlen == (long long)ref_present && top <= max_room;
	printf("redis_check=%s users_present=%" PRIu64 " model_users=%" PRIu64
	       " users_scanned=%" PRIu64 " room_counts_sum=%" PRIu64 " rooms_listed=%" PRIu64
	       " largest_room=%lld max=%u mismatches=%" PRIu64 "\n", ok ? "ok" : "FAIL",
	       (uint64_t)hlen, ref_present, scanned, sum, n_rooms, top, max_room, bad);
	return ok ? 0 : -1;
}

static char *read_script(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static const struct { const char *name; unsigned k; uint64_t events; } cases[] = {
	{"batch64", 64, 1u << 20}, {"batch1", 1, 1u << 18}};

/* Case ci's window (--events, else its default) in whole calls. */
static uint64_t window_events(unsigned ci, uint64_t events)
{
	unsigned k = cases[ci].k;
	uint64_t n = events ? events : cases[ci].events;
	return (n + k - 1) / k * k;
}

/* Its settle: --settle (hc-bench's, from bench/peers/run.sh: the same
 * events), else a quarter of the window and one call; whole calls. */
static uint64_t settle_events(unsigned ci, uint64_t events, uint64_t settle)
{
	unsigned k = cases[ci].k;
	uint64_t n = settle != UINT64_MAX ? settle : window_events(ci, events) / 4 + k;
	return (n + k - 1) / k * k;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: hc-bench-redis --socket PATH [--script membership.lua]"
		" [--users N] [--rooms N] [--max N] [--reps N] [--case batch64|batch1]"
		" [--events N] [--settle N] [--pipeline N] [--stream EVENTS] [--tamper] [--help]"
		" [--version]\n"
		"  --events N   events per window [batch64 1048576, batch1 262144]\n"
		"  --settle N   events before the windows [a quarter of --events]\n"
		"  --stream N   events in the stream [what the run takes, and a quarter more;\n"
		"               a case that replays it fails]\n");
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *script = HC_PEERS_DIR "/membership.lua", *only = NULL;
	uint64_t events = 0, settle = UINT64_MAX;
	int stream_given = 0;
	unsigned depth = 32;
	int reps = 5, tamper = 0;
	users = 1000000;
	rooms = 20000;
	static const struct option lo[] = {{"socket", 1, 0, 's'}, {"script", 1, 0, 'l'},
		{"users", 1, 0, 'u'}, {"rooms", 1, 0, 'r'}, {"max", 1, 0, 'm'},
		{"reps", 1, 0, 'n'}, {"case", 1, 0, 'c'}, {"events", 1, 0, 'e'}, {"settle", 1, 0, 'E'},
		{"pipeline", 1, 0, 'p'}, {"stream", 1, 0, 'S'}, {"tamper", 0, 0, 'T'},
		{"help", 0, 0, 'h'}, {"version", 0, 0, 'V'}, {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'l': script = optarg; break;
		case 'u': users = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'r': rooms = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'm': max_room = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'n': reps = atoi(optarg); break;
		case 'c': only = optarg; break;
		case 'e': events = strtoull(optarg, NULL, 10); break;
		case 'E': settle = strtoull(optarg, NULL, 10); break;
		case 'p': depth = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'S': hc_gen_stream_len = strtoull(optarg, NULL, 10); stream_given = 1; break;
		case 'T': tamper = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': hc_cli_version("hc-bench-redis"); return 0;
		default: hc_cli_unknown("hc-bench-redis");
		}
	}
	if (sock == NULL || users < 1000 || rooms < 2 || reps < 1 || reps > 99 || depth < 1 ||
	    depth > 100000 || max_room < 1 || hc_gen_stream_len < 1024 ||
	    (only != NULL && strcmp(only, "batch64") != 0 && strcmp(only, "batch1") != 0)) {
		usage(stderr);
		return 2;
	}
	snprintf(max_arg, sizeof(max_arg), "%u", max_room);
	const char *lua = read_script(script);
	if (lua == NULL) {
		fprintf(stderr, "hc-bench-redis: cannot read %s\n", script);
		return 1;
	}
	struct timeval tv = {.tv_sec = 120};
	rc = redisConnectUnixWithTimeout(sock, tv);
	if (rc == NULL || rc->err) {
		fprintf(stderr, "hc-bench-redis: cannot connect to %s: %s\n", sock,
			rc ? rc->errstr : "no memory");
		return 1;
	}
	redisSetTimeout(rc, tv); /* a stuck server fails the run, bounded */
	redisReply *r = redisCommand(rc, "FLUSHALL");
	freeReplyObject(r);
	r = redisCommand(rc, "SCRIPT LOAD %s", lua);
	if (r == NULL || r->type != REDIS_REPLY_STRING || r->len != 40) {
		fprintf(stderr, "hc-bench-redis: SCRIPT LOAD failed: %s\n",
			r && r->type == REDIS_REPLY_ERROR ? r->str : rc->errstr);
		return 1;
	}
	memcpy(sha, r->str, 40);
	freeReplyObject(r);
	r = redisCommand(rc, "INFO server");
	const char *ver = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "redis_version:") : NULL;
	char version[32] = "unknown";
	if (ver != NULL)
		sscanf(ver + 14, "%31[^\r\n]", version);
	freeReplyObject(r);

	ref_room = calloc(users, sizeof(uint32_t));
	ref_count = calloc((size_t)rooms + 1, sizeof(int64_t));
	if (ref_room == NULL || ref_count == NULL) {
		perror("hc-bench-redis");
		return 1;
	}
	if (!stream_given) { /* what the cases take, and a margin */
		uint64_t taken = 0;
		for (unsigned ci = 0; ci < 2; ci++)
			if (only == NULL || strcmp(only, cases[ci].name) == 0)
				taken += settle_events(ci, events, settle) +
					 (uint64_t)reps * window_events(ci, events);
		hc_gen_stream_len = hc_gen_stream_for(taken);
	}
	printf("hc-bench-redis: redis %s, building %" PRIu64 " events over %u users / %u rooms\n",
	       version, hc_gen_stream_len, users, rooms);
	if (hc_gen_build(users, rooms) != 0) {
		perror("hc-bench-redis");
		return 1;
	}
	if (warm_up(depth) != 0) {
		printf("redis_check=FAIL the warm-up's outcomes differ from the model\n");
		return 1;
	}
	printf("hc-bench-redis: warm: %" PRIu64 " users in rooms\n", ref_present);

	int failed = 0;
	for (unsigned ci = 0; ci < 2; ci++) {
		if (only != NULL && strcmp(only, cases[ci].name) != 0)
			continue;
		unsigned k = cases[ci].k;
		uint64_t n = window_events(ci, events), mix[O_N], refused = 0;
		uint64_t wraps0 = hc_gen_wraps;
		double eps[99], busy[99];
		if (window(k, settle_events(ci, events, settle), depth, mix) == 0) /* settle */
			return 1;
		refused += mix[O_REFUSED]; /* (the settle's too: the same work) */
		for (int rep = 0; rep < reps; rep++) {
			eps[rep] = window(k, n, depth, mix);
			if (eps[rep] == 0)
				return 1;
			busy[rep] = window_busy;
			refused += mix[O_REFUSED];
			double all = (double)(mix[O_JOIN] + mix[O_MOVE] + mix[O_LEAVE] + mix[O_NOOP] +
					      mix[O_REFUSED]);
			printf("hc-bench-redis: %s rep %d: %.3f M events/s (joins %.0f %%, moves %.0f %%,"
			       " leaves %.0f %%, no-ops %.0f %%, refused %" PRIu64 ")\n", cases[ci].name,
			       rep + 1, eps[rep] / 1e6, mix[O_JOIN] * 100 / all, mix[O_MOVE] * 100 / all,
			       mix[O_LEAVE] * 100 / all, mix[O_NOOP] * 100 / all, mix[O_REFUSED]);
		}
		double med = hc_median(eps, reps), med_busy = hc_median(busy, reps);
		/* (cycles of the TSC per event: redis-server is one thread on
		 * one core, the script's work and the server's all in it) */
		unsigned long long hz = hc_bench_tsc_hz();
		printf("case=%s events_per_call=%u pipeline=%u users=%u rooms=%u max=%u reps=%d "
		       "events=%" PRIu64 " settle=%" PRIu64 " stream=%" PRIu64 " refused=%" PRIu64
		       " redis_events_per_s=%.0f calls_per_s=%.0f redis_cycles_per_event=%.1f "
		       "redis_busy=%.2f redis=%s%s\n", cases[ci].name, k, depth, users, rooms,
		       max_room, reps, n, settle_events(ci, events, settle), hc_gen_stream_len,
		       refused, med, med / k, med > 0 && hz > 0 ? (double)hz / med : 0.0, med_busy,
		       version, hc_bench_host(hz));
		/* the model's end state (Redis's, by check_state below) */
		struct hc_state_digest end = {0};
		for (uint32_t room = 1; room <= rooms; room++)
			hc_state_digest_add_room(&end, room,
						 ref_count[room] > 0 ? (uint64_t)ref_count[room] : 0);
		for (uint32_t u = 0; u < users; u++)
			hc_state_digest_add_member(&end, hc_gen_user_id(u), ref_room[u]);
		hc_state_digest_print(cases[ci].name, &end);
		hc_bench_require(cases[ci].name, med > 0, "0 events/s");
		hc_bench_require_fresh(cases[ci].name, wraps0, hc_gen_wraps, hc_gen_stream_len);
		failed |= hc_bench_failed;
	}
	if (check_state(tamper) != 0)
		failed = 1;
	redisFree(rc);
	return failed;
}
