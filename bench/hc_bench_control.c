/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bench_control.c - hc-bench-control: the control core's decisions.
 *
 *   balance: one balancer pass over R rooms holding U users (default 1 M
 *            rooms, 50 M users; 4 % of rooms below min, 1 % above max),
 *            including gathering the rooms from the seat book;
 *   place:   placement decisions per second, each reserving a seat that
 *            stays reserved (the worst case: no JOIN follows), and place +
 *            admit (the JOIN that consumes the seat) per second;
 *   changes: the workers' applied-change reports (moves, leaves, joins)
 *            applied to the seat book per second;
 *   changes_leased: the same stream from two workers whose JOINs take
 *            leased seats as the control core grants and tops them up
 *            (16 seats, topped up at half), so each report also moves
 *            the worker's count of the room's seats (lease_of).
 *
 * Medians of --reps runs; one key=value line per case.  A benchmark: it
 * asserts nothing and `meson test` never runs it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "hc_balance.h"
#include "hc_bench_host.h"
#include "hc_cli.h"
#include "hc_median.h"
#include "hc_policy.h"
#include "hc_rooms.h"

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
	return (uint32_t)(((rs >> 32) * n) >> 32);
}


static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: hc-bench-control [EAL options] -- [options]\n"
		"The control core's costs: balancing a seat book, placements\n"
		"(docs/benchmarks.md).\n"
		"  --rooms N       live rooms (100..)                     [1000000]\n"
		"  --reps N        repetitions, the median reported (1..99) [5]\n"
		"  --placements N  placements timed (1000..)              [10000000]\n"
		"  --help          this text\n"
		"  --version       the program's version\n");
}

/*
 * One rep of the change reports: nu users seated in nr rooms, then n
 * reports of moves and leaves/rejoins at random applied to a new seat
 * book.  leased: worker u % 2 joins on its lease of the room if the book
 * gives it one (16 seats, topped up at half), else is admitted as asked;
 * *leased_share: the JOINs on a lease.  Reports/s, or -1 (no memory).
 */
static double changes_rep(const struct hc_policy *pol, uint64_t hz, uint32_t rep, int leased,
			  uint32_t *where, uint32_t nu, uint32_t nr, uint64_t n,
			  double *leased_share)
{
	static struct hc_rooms cb;
	char name[32];
	snprintf(name, sizeof(name), leased ? "bench_lsd_%u" : "bench_chg_%u", rep);
	if (hc_rooms_init(&cb, name, pol, nr + 1, 1u << 16, hz) != 0)
		return -1;
	for (uint32_t u = 0; u < nu; u++) {
		where[u] = 1 + u % nr;
		hc_rooms_record_join(&cb, where[u], 0, u, 0);
	}
	uint64_t on_lease = 0, joins = 0, lease_errors = cb.st.lease_errors;
	uint64_t t0 = rte_rdtsc();
	for (uint64_t i = 0; i < n; i++) {
		uint32_t u = rnd(nu), to = rnd(4) ? 1 + rnd(nr) : 0;
		unsigned wk = u & 1;
		if (where[u] != 0)
			hc_rooms_leave(&cb, where[u]);
		where[u] = to;
		if (to == 0)
			continue;
		joins++;
		if (leased && hc_rooms_lease_of(&cb, to, wk) == 0)
			hc_rooms_lease(&cb, to, wk, 16, 1);
		if (leased && hc_rooms_lease_of(&cb, to, wk) > 0) {
			hc_rooms_lease_taken(&cb, to, 0, wk, u);
			on_lease++;
			if (hc_rooms_lease_of(&cb, to, wk) <= 8)
				hc_rooms_lease_top_up(&cb, to, wk, 16, 1);
		} else {
			hc_rooms_record_join(&cb, to, 0, u, t0);
		}
	}
	uint64_t t1 = rte_rdtsc();
	if (leased) {
		*leased_share = joins ? (double)on_lease / (double)joins : 0;
		hc_bench_require("changes_leased", cb.st.lease_errors == lease_errors,
				 "a leased JOIN found no seat of its worker");
	}
	hc_rooms_free(&cb);
	return (double)n / ((double)(t1 - t0) / (double)hz);
}

int main(int argc, char **argv)
{
	/* --help and --version before EAL init: no hugepages needed */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) { usage(stdout); return 0; }
		if (strcmp(argv[i], "--version") == 0) { hc_cli_version("hc-bench-control"); return 0; }
	}
	int eal = rte_eal_init(argc, argv);
	if (eal < 0) {
		fprintf(stderr, "hc-bench-control: EAL init failed (see above)\n");
		return rte_errno == EINVAL ? 2 : 1; /* EINVAL: a bad command line */
	}
	argc -= eal;
	argv += eal;
	uint32_t rooms = 1000000, reps = 5;
	uint64_t placements = 10000000;
	static const struct option lo[] = {{"rooms", 1, 0, 'r'}, {"reps", 1, 0, 'n'},
		{"placements", 1, 0, 'p'}, {0, 0, 0, 0}};
	static const char *const me = "hc-bench-control";
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'r') rooms = (uint32_t)hc_cli_u64(me, "rooms", optarg, 100, 1u << 26);
		else if (c == 'n') reps = (uint32_t)hc_cli_u64(me, "reps", optarg, 1, 99);
		else if (c == 'p') placements = hc_cli_u64(me, "placements", optarg, 1000, UINT64_MAX);
		else hc_cli_unknown(me);
	}
	uint64_t hz = rte_get_tsc_hz();
	static struct hc_policy pol;
	hc_policy_defaults(&pol);
	const struct hc_pool_cfg *pc = &pol.pool[0];

	/* ---- balance: a seat book with `rooms` live rooms of ~50 users */
	static struct hc_rooms book;
	if (hc_rooms_init(&book, "bench_book", &pol, rooms + 1, 1024, hz) != 0) {
		fprintf(stderr, "hc-bench-control: out of memory (raise -m)\n");
		return 1;
	}
	uint64_t users = 0;
	for (uint32_t id = 1; id <= rooms; id++) {
		uint32_t p = rnd(100), n;
		if (p < 4) n = 1 + rnd(pc->min - 1);              /* below min */
		else if (p < 5) n = pc->max + 1 + rnd(50);          /* above max */
		else n = pc->min + rnd(2 * (pc->target - pc->min) + 1); /* 15..85 */
		hc_rooms_admit(&book, id, 0, id, 0); /* makes the room live */
		book.room[id].users = n;             /* bulk fill (benchmark only) */
		users += n;
	}
	struct hc_bal_room *br = malloc(sizeof(*br) * rooms);
	struct hc_bal_transfer *tr = malloc(sizeof(*tr) * rooms * 2);
	static struct hc_balance bal;
	if (hc_balance_init(&bal, rooms) != 0) {
		fprintf(stderr, "hc-bench-control: out of memory\n");
		return 1;
	}
	double ms[99], moves = 0, transfers = 0;
	for (uint32_t rep = 0; rep < reps; rep++) {
		uint64_t t0 = rte_rdtsc();
		uint32_t n = 0;
		for (uint32_t id = 1; id <= rooms; id++) {
			const struct hc_room *rm = &book.room[id];
			if (rm->state == HC_ROOM_LIVE && rm->pool == 0)
				br[n++] = (struct hc_bal_room){id, rm->users, rm->reserved};
		}
		struct hc_bal_plan plan = {.t = tr, .cap = rooms * 2};
		hc_balance_pool(&bal, pc, br, n, UINT64_MAX, &plan);
		uint64_t t1 = rte_rdtsc();
		ms[rep] = (double)(t1 - t0) * 1000.0 / (double)hz;
		moves = (double)plan.moves;
		transfers = plan.n;
	}
	printf("case=balance rooms=%u users=%" PRIu64 " reps=%u pass_ms=%.2f moves=%.0f "
	       "transfers=%.0f%s\n", rooms, users, reps, hc_median(ms, (int)reps), moves, transfers,
	       hc_bench_host(hz));
	hc_bench_require("balance", moves > 0, "the pass planned no move");
	free(br);
	free(tr);
	hc_balance_free(&bal);
	hc_rooms_free(&book);

	/* ---- placement: place (reserve), and place + admit */
	double pps[99], paps[99];
	for (uint32_t rep = 0; rep < reps; rep++) {
		static struct hc_rooms pb;
		char name[32];
		snprintf(name, sizeof(name), "bench_place_%u", rep);
		uint32_t need_rooms = (uint32_t)(placements / 50 + 1024);
		/* every reservation stays outstanding: room for all of them */
		if (hc_rooms_init(&pb, name, &pol, need_rooms, (uint32_t)placements, hz) != 0)
			return 1;
		uint64_t t0 = rte_rdtsc();
		for (uint64_t u = 0; u < placements; u++)
			hc_rooms_place(&pb, 0, u, t0);
		uint64_t t1 = rte_rdtsc();
		pps[rep] = (double)placements / ((double)(t1 - t0) / (double)hz);
		hc_rooms_free(&pb);

		snprintf(name, sizeof(name), "bench_admit_%u", rep);
		if (hc_rooms_init(&pb, name, &pol, need_rooms, 1u << 20, hz) != 0)
			return 1;
		t0 = rte_rdtsc();
		for (uint64_t u = 0; u < placements; u++) {
			uint32_t room = hc_rooms_place(&pb, 0, u, t0);
			hc_rooms_admit(&pb, room, 0, u, t0);
		}
		t1 = rte_rdtsc();
		paps[rep] = (double)placements / ((double)(t1 - t0) / (double)hz);
		hc_rooms_free(&pb);
	}
	double med_p = hc_median(pps, (int)reps), med_pa = hc_median(paps, (int)reps);
	printf("case=place decisions=%" PRIu64 " reps=%u placements_per_s=%.0f "
	       "place_admit_per_s=%.0f%s\n", placements, reps, med_p, med_pa, hc_bench_host(hz));
	hc_bench_require("place", med_p > 0 && med_pa > 0, "0 placements/s");

	/* ---- placements with every reservation record in use (the
	 * default 2^20): a quarter consumed (placed, then admitted), three
	 * quarters live; each of the next quarter's placements forgets the
	 * oldest consumed record (until 2026-12-06 the first of them squeezed
	 * a ring: 17.75 ms on the AMD host, docs/benchmarks.md).  Timed: each
	 * placement alone: the median (ns), the 99.9th percentile and the
	 * longest (us; the longest is often the host's: a tick, a preemption). */
	double full_max[99], full_med[99], full_p999[99];
	uint32_t *one = malloc(sizeof(uint32_t) * (1u << 18));
	if (one == NULL)
		return 1;
	for (uint32_t rep = 0; rep < reps; rep++) {
		static struct hc_rooms sb;
		const uint32_t cap = 1u << 20, q = cap / 4;
		if (hc_rooms_init(&sb, "bench_full", &pol, cap / 40 + 1024, cap, hz) != 0)
			return 1;
		uint64_t t0 = rte_rdtsc();
		for (uint64_t u = 0; u < q; u++)
			hc_rooms_admit(&sb, hc_rooms_place(&sb, 0, u, t0), 0, u, t0);
		for (uint64_t u = q; u < cap; u++)
			hc_rooms_place(&sb, 0, u, t0);
		uint64_t e0 = sb.st.resv_consumed_evicted, x0 = sb.st.expired;
		uint64_t longest = 0;
		for (uint32_t k = 0; k < q; k++) {
			uint64_t t1 = rte_rdtsc();
			hc_rooms_place(&sb, 0, cap + k, t0);
			uint64_t dt = rte_rdtsc() - t1;
			one[k] = (uint32_t)(dt < UINT32_MAX ? dt : UINT32_MAX);
			longest = dt > longest ? dt : longest;
		}
		if (sb.st.resv_consumed_evicted != e0 + q || sb.st.expired != x0 ||
		    hc_rooms_resv_live(&sb) != cap) {
			fprintf(stderr, "hc-bench-control: full: %" PRIu64 " consumed forgotten, "
				"%" PRIu64 " live expired, %u live (want %u, 0, %u)\n",
				sb.st.resv_consumed_evicted - e0, sb.st.expired - x0, hc_rooms_resv_live(&sb),
				q, cap);
			return 1;
		}
		qsort(one, q, sizeof(one[0]), cmp_u32);
		full_med[rep] = (double)one[q / 2] * 1e9 / (double)hz;
		full_p999[rep] = (double)one[q - q / 1000] * 1e6 / (double)hz;
		full_max[rep] = (double)longest * 1e6 / (double)hz;
		hc_rooms_free(&sb);
	}
	free(one);
	double med_full_max = hc_median(full_max, (int)reps);
	double med_full_med = hc_median(full_med, (int)reps);
	double med_full_p999 = hc_median(full_p999, (int)reps);
	printf("case=place_full records=%u placements=%u reps=%u median_ns=%.0f "
	       "p999_us=%.2f longest_us=%.2f%s\n", 1u << 20, 1u << 18, reps, med_full_med,
	       med_full_p999, med_full_max, hc_bench_host(hz));
	hc_bench_require("place_full", med_full_max > 0, "0 us");

	/* ---- the workers' change reports applied to the seat book: 1 M
	 * users in 20 k rooms, then moves and leaves/rejoins at random */
	double cps[99], lps[99], leased_share = 0;
	uint32_t nu = 1000000, nr = 20000;
	uint32_t *where = calloc(nu, sizeof(uint32_t));
	if (where == NULL)
		return 1;
	for (uint32_t rep = 0; rep < reps; rep++) {
		cps[rep] = changes_rep(&pol, hz, rep, 0, where, nu, nr, placements, NULL);
		lps[rep] = changes_rep(&pol, hz, rep, 1, where, nu, nr, placements, &leased_share);
		if (cps[rep] < 0 || lps[rep] < 0)
			return 1;
	}
	free(where);
	double med_c = hc_median(cps, (int)reps), med_l = hc_median(lps, (int)reps);
	printf("case=changes changes=%" PRIu64 " reps=%u changes_per_s=%.0f%s\n", placements,
	       reps, med_c, hc_bench_host(hz));
	hc_bench_require("changes", med_c > 0, "0 changes/s");
	printf("case=changes_leased changes=%" PRIu64 " reps=%u workers=2 lease_seats=16 "
	       "leased_share=%.2f changes_per_s=%.0f%s\n", placements, reps, leased_share, med_l,
	       hc_bench_host(hz));
	hc_bench_require("changes_leased", med_l > 0 && leased_share > 0, "0 changes/s or none leased");
	rte_eal_cleanup();
	return hc_bench_failed;
}
