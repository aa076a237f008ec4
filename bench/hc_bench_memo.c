/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bench_memo.c - hc-bench-memo: what the worker's pick memo
 * (dataplane/hc_pickmemo.h) costs a call, on one lcore, and above all its
 * one long call: the keep that finds the ring full and a quarter of it or
 * more dead, and compacts it (about HC_PICKMEMO_KEPT records' work inside
 * one LEAVE, at most once every HC_PICKMEMO_KEPT / 4 keeps).  Each round
 * builds a fresh memo; figures are medians over --rounds:
 *
 *   case=memo records=4096 rounds=R keep_cycles=... take_hit_cycles=...
 *     take_miss_cycles=... compact_warm_cycles=... compact_warm_max=...
 *     compact_cold_cycles=... compact_cold_max=... compact_cold_us=...
 *     cpu="..." tsc_hz=...
 *
 * keep: a keep into a ring filling up (no expiry, no eviction), averaged
 * over HC_PICKMEMO_KEPT; take_hit: a kept user taken back (a random quarter
 * of them, in random order); take_miss: a user never kept, asked while the memo is
 * full (the filter's answer); compact: the keep that compacts a full ring
 * a quarter of whose records, chosen at random (never the newest nor the
 * oldest), were taken back, timed alone, its lines in cache
 * (warm: just written) or evicted first by a walk over 64 MiB (cold: as a
 * worker whose tables are far larger than its cache meets them).  After
 * each compaction every live user must still be found with its pick time
 * and the dead ones gone (else the case FAILs and the program exits 1).
 *
 *   hc-bench-memo [EAL options] -- [--rounds 1..999]
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_random.h>

#include "hc_bench_host.h"
#include "hc_median.h"
#include "hc_pickmemo.h"

#define N HC_PICKMEMO_KEPT
#define COLD_BYTES ((size_t)64 << 20)
#define MAX_ROUNDS 999

/* A walk over a buffer far larger than the caches: what was in them is
 * gone after it. */
static void evict(uint8_t *cold)
{
	for (size_t i = 0; i < COLD_BYTES; i += 64)
		cold[i]++;
	__asm__ __volatile__("" : : "r"(cold) : "memory"); /* (never elided) */
}

/* Is every user of users[0..N) not taken found with its pick time, every
 * one taken gone, and the memo's counts as they should be after the
 * compaction? */
static int compacted_right(const struct hc_pickmemo *p, const uint64_t *users,
			   const uint8_t *taken, uint32_t picked_at, uint64_t extra)
{
	uint32_t live = 0;
	for (uint32_t i = 0; i < N; i++) {
		int32_t at = hc_keyidx_lookup(&p->ix, users[i]);
		if (taken[i]) {
			if (at >= 0)
				return 0;
			continue;
		}
		if (at < 0 || p->rec[at].user_id != users[i] || p->rec[at].picked_at != picked_at)
			return 0;
		live++;
	}
	int32_t at = hc_keyidx_lookup(&p->ix, extra);
	return at >= 0 && p->rec[at].user_id == extra && p->rec[at].picked_at == picked_at &&
	       p->ix.count == live + 1 &&
	       p->tail - p->head == live + 1 && hc_pickmemo_dead(p) == 0;
}

int main(int argc, char **argv)
{
	int eal = rte_eal_init(argc, argv);
	if (eal < 0) {
		fprintf(stderr, "hc-bench-memo: EAL init failed\n");
		return 2;
	}
	argc -= eal;
	argv += eal;
	unsigned rounds = 21;
	static const struct option lo[] = {{"rounds", 1, 0, 'r'}, {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		unsigned long v = c == 'r' ? strtoul(optarg, NULL, 10) : 0;
		if (v < 1 || v > MAX_ROUNDS) {
			fprintf(stderr, "usage: hc-bench-memo [EAL options] -- [--rounds 1..%u]\n",
				MAX_ROUNDS);
			rte_eal_cleanup();
			return 2;
		}
		rounds = (unsigned)v;
	}
	uint64_t hz = rte_get_tsc_hz();
	static uint64_t users[N], strangers[N];
	static uint32_t order[N];
	static uint8_t taken[N];
	static double keep[MAX_ROUNDS], hit[MAX_ROUNDS], miss[MAX_ROUNDS], warm[MAX_ROUNDS],
		cold_c[MAX_ROUNDS];
	double warm_max = 0, cold_max = 0;
	uint8_t *cold = calloc(1, COLD_BYTES);
	if (cold == NULL) {
		fprintf(stderr, "hc-bench-memo: no memory for the eviction walk\n");
		rte_eal_cleanup();
		return 2;
	}
	const uint32_t now = 1000, picked_at = 990, cooldown = 60;
	int right = 1;
	uint64_t found = 0;
	for (unsigned r = 0; r < 2 * rounds && right; r++) {
		int is_cold = r % 2; /* (warm and cold alternated) */
		struct hc_pickmemo p;
		if (hc_pickmemo_init(&p, "bench-memo", 0) != 0) {
			fprintf(stderr, "hc-bench-memo: no memory for a memo\n");
			free(cold);
			rte_eal_cleanup();
			return 2;
		}
		hc_pickmemo_window(&p, cooldown, now);
		for (uint32_t i = 0; i < N; i++) {
			users[i] = rte_rand();
			strangers[i] = rte_rand();
		}
		/* keeps into a ring filling up */
		uint64_t t0 = rte_rdtsc();
		for (uint32_t i = 0; i < N; i++)
			hc_pickmemo_keep(&p, users[i], picked_at, now);
		uint64_t t1 = rte_rdtsc();
		/* misses while it is full (the filter's "surely not") */
		for (uint32_t i = 0; i < N; i++)
			found += hc_pickmemo_take(&p, strangers[i], now);
		uint64_t t2 = rte_rdtsc();
		/* a quarter taken back, at random: a shuffle's first N / 4 of
		 * 1 .. N - 2 (never the newest, which a take would trim from
		 * the tail, nor the oldest, which the compacting keep's expiry
		 * would pop from the head: the ring stays full, a quarter dead) */
		for (uint32_t i = 0; i < N - 2; i++)
			order[i] = i + 1;
		for (uint32_t i = N - 3; i > 0; i--) {
			uint32_t j = (uint32_t)rte_rand_max(i + 1), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		memset(taken, 0, sizeof(taken));
		for (uint32_t k = 0; k < N / 4; k++)
			taken[order[k]] = 1;
		uint64_t t2b = rte_rdtsc();
		for (uint32_t k = 0; k < N / 4; k++)
			right &= hc_pickmemo_take(&p, users[order[k]], now) == picked_at;
		uint64_t t3 = rte_rdtsc();
		right &= p.tail - p.head == N && hc_pickmemo_dead(&p) == N / 4;
		/* the keep that compacts, timed alone */
		uint64_t extra = rte_rand();
		if (is_cold)
			evict(cold);
		uint64_t t4 = rte_rdtsc();
		hc_pickmemo_keep(&p, extra, picked_at, now);
		uint64_t t5 = rte_rdtsc();
		right &= compacted_right(&p, users, taken, picked_at, extra);
		double compact = (double)(t5 - t4);
		if (is_cold) {
			cold_c[r / 2] = compact;
			cold_max = compact > cold_max ? compact : cold_max;
		} else {
			warm[r / 2] = compact;
			warm_max = compact > warm_max ? compact : warm_max;
			keep[r / 2] = (double)(t1 - t0) / N;
			miss[r / 2] = (double)(t2 - t1) / N;
			hit[r / 2] = (double)(t3 - t2b) / (N / 4);
		}
		hc_pickmemo_free(&p);
	}
	double cold_med = right ? hc_median(cold_c, (int)rounds) : 0;
	printf("case=memo records=%u rounds=%u keep_cycles=%.1f take_hit_cycles=%.1f "
	       "take_miss_cycles=%.1f compact_warm_cycles=%.0f compact_warm_max=%.0f "
	       "compact_cold_cycles=%.0f compact_cold_max=%.0f compact_cold_us=%.1f%s\n",
	       N, rounds, right ? hc_median(keep, (int)rounds) : 0,
	       right ? hc_median(hit, (int)rounds) : 0, right ? hc_median(miss, (int)rounds) : 0,
	       right ? hc_median(warm, (int)rounds) : 0, right ? warm_max : 0, cold_med,
	       right ? cold_max : 0,
	       cold_med * 1e6 / (double)hz, hc_bench_host(hz));
	hc_bench_require("memo", right, "a compaction lost a user, kept a taken one, or left "
			 "the ring's counts wrong");
	hc_bench_require("memo", found == 0, "a user never kept was found");
	free(cold);
	rte_eal_cleanup();
	return hc_bench_failed;
}
