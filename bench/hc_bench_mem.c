/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bench_mem.c - hc-bench-mem: what a random cache line costs this
 * machine, in 4 KiB pages and in transparent huge pages.
 *
 * The dataplane's events and the control core's directives are bound by
 * random reads of big tables (a user's index entry and slot, a
 * reservation), batched and prefetched.  This reads
 * random lines of one table of --mib MiB in batches of --batch prefetched
 * reads (the shape of hc_keyidx_lookup_bulk), once with the table advised
 * MADV_NOHUGEPAGE (4 KiB pages, as DPDK's heap without hugepages) and
 * once MADV_HUGEPAGE (common/hc_bigmem.h), alternated --reps times, and
 * prints the median cycles per line of each and the share of the huge
 * table the kernel did back with huge pages:
 *
 *   case=mem table_mib=... batch=... pages=4k cycles_per_line=... cpu=... tsc_hz=...
 *   case=mem table_mib=... batch=... pages=thp thp_share=... cycles_per_line=... ...
 *
 * Divide a cycle budget by it to see how many random lines an event may
 * touch (docs/benchmarks.md, "Huge pages for the big tables").  No DPDK.
 *
 * With --users N it times instead the two shapes a user's lookup may
 * have, both in huge pages, alternated --reps times, batches of --batch
 * keys as hc_keyidx_lookup_bulk does them:
 *   two: today's (hc_usertab.h): a 4-byte index entry (1.25 a user) at the
 *        key's hash, then the 32-byte record it names (N of them, at
 *        random positions, as a free list leaves them): two dependent
 *        random lines, each batch's entries prefetched, then its records;
 *   one: a record holding the index entry and the slot, 32 bytes at the
 *        key's hash in a table of 1.25 N: one random line.
 * Each key's record is read and written (a move's room), as the apply
 * does.  A bound on what the restructure would save in lines (no probe
 * beyond the home, no compare: the shapes' memory, not their code):
 *   case=lookup users=... batch=... shape=two cycles_per_key=... ...
 *   case=lookup users=... batch=... shape=one cycles_per_key=... ...
 *   case=lookup users=... batch=... one_over_two=... (the median of the
 *        rounds' ratios)
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <x86intrin.h>

#include "hc_bench_host.h"
#include "hc_median.h"

#define HUGE_2M ((size_t)2 << 20)
#define LINES_READ 20000000u

/* A table of len bytes (a multiple of 2 MiB) aligned to 2 MiB, advised
 * advice, written once (faulted in). */
static uint8_t *table(size_t len, int advice)
{
	uint8_t *raw = mmap(NULL, len + HUGE_2M, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	uint8_t *p = (uint8_t *)(((uintptr_t)raw + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
	madvise(p, len, advice);
	memset(p, 1, len);
	return p;
}

/* kB of the mapping holding p backed by huge pages (smaps AnonHugePages). */
static unsigned long huge_kb(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;
	unsigned long kb = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo <= (uintptr_t)p && (uintptr_t)p < hi;
		else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			in = 0;
	}
	if (f != NULL)
		fclose(f);
	return kb;
}

/* The next of a xorshift64 sequence: random line numbers, and random
 * keys (their own hash). */
static inline uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Cycles per random line: LINES_READ reads in batches of b, each batch's
 * lines prefetched first, then read. */
static double cycles_per_line(const uint8_t *a, size_t len, unsigned b, uint64_t *sink)
{
	uint64_t x = 88172645463325252ull, sum = 0, at[256];
	size_t lines = len / 64;
	uint64_t t0 = __rdtsc();
	for (unsigned i = 0; i < LINES_READ; i += b) {
		for (unsigned k = 0; k < b; k++) {
			at[k] = (xorshift(&x) % lines) * 64;
			__builtin_prefetch(a + at[k]);
		}
		for (unsigned k = 0; k < b; k++)
			sum += a[at[k]];
	}
	uint64_t t1 = __rdtsc();
	*sink += sum;
	return (double)(t1 - t0) / LINES_READ;
}

/* The 32-byte record both shapes read and write. */
struct lk_record {
	uint64_t key;
	uint64_t session;
	uint32_t room;
	uint32_t pad[3];
};

/* a key's hash h scaled onto [0, n) (hc_keyidx_home_of; the keys here
 * are random, their own hash) */
static inline uint32_t lk_scale(uint64_t h, uint32_t n)
{
	return (uint32_t)(((h >> 32) * n) >> 32);
}

#define LOOKUPS 20000000u

/* Cycles per key, today's shape: entries of index[n_index] name records. */
static double lookup_two(const uint32_t *index, uint32_t n_index, struct lk_record *rec,
			 unsigned b)
{
	uint64_t x = 88172645463325252ull;
	uint32_t home[256], pos[256];
	uint64_t t0 = __rdtsc();
	for (unsigned i = 0; i < LOOKUPS; i += b) {
		for (unsigned k = 0; k < b; k++) {
			home[k] = lk_scale(xorshift(&x), n_index);
			__builtin_prefetch(&index[home[k]]);
		}
		for (unsigned k = 0; k < b; k++) {
			pos[k] = index[home[k]];
			__builtin_prefetch(&rec[pos[k]]);
		}
		for (unsigned k = 0; k < b; k++)
			rec[pos[k]].room++;
	}
	return (double)(__rdtsc() - t0) / LOOKUPS;
}

/* Cycles per key, one record at the key's hash. */
static double lookup_one(struct lk_record *merged, uint32_t n_index, unsigned b)
{
	uint64_t x = 88172645463325252ull;
	uint32_t home[256];
	uint64_t t0 = __rdtsc();
	for (unsigned i = 0; i < LOOKUPS; i += b) {
		for (unsigned k = 0; k < b; k++) {
			home[k] = lk_scale(xorshift(&x), n_index);
			__builtin_prefetch(&merged[home[k]]);
		}
		for (unsigned k = 0; k < b; k++)
			merged[home[k]].room++;
	}
	return (double)(__rdtsc() - t0) / LOOKUPS;
}

static size_t huge_len(size_t bytes)
{
	return (bytes + HUGE_2M - 1) & ~(HUGE_2M - 1);
}

/* --users: the two lookup shapes, alternated (the header comment). */
static int lookup_shapes(uint32_t users, unsigned batch, unsigned reps)
{
	uint32_t n_index = (uint32_t)(((uint64_t)users * 5 + 3) / 4);
	size_t ilen = huge_len((size_t)n_index * sizeof(uint32_t));
	size_t rlen = huge_len((size_t)users * sizeof(struct lk_record));
	size_t mlen = huge_len((size_t)n_index * sizeof(struct lk_record));
	uint32_t *index = (uint32_t *)table(ilen, MADV_HUGEPAGE);
	struct lk_record *rec = (struct lk_record *)table(rlen, MADV_HUGEPAGE);
	struct lk_record *merged = (struct lk_record *)table(mlen, MADV_HUGEPAGE);
	if (index == NULL || rec == NULL || merged == NULL) {
		fprintf(stderr, "hc-bench-mem: cannot map the tables of %u users\n", users);
		return 1;
	}
	/* every entry names a record at random, as positions handed out
	 * from a free list after churn are */
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (uint32_t e = 0; e < n_index; e++)
		index[e] = (uint32_t)(xorshift(&x) % users);
	uint64_t hz = hc_bench_tsc_hz();
	double two[99], one[99], ratio[99];
	for (unsigned r = 0; r < reps; r++) {
		/* (the order swapped each round: neither always first) */
		if (r & 1) {
			one[r] = lookup_one(merged, n_index, batch);
			two[r] = lookup_two(index, n_index, rec, batch);
		} else {
			two[r] = lookup_two(index, n_index, rec, batch);
			one[r] = lookup_one(merged, n_index, batch);
		}
		ratio[r] = one[r] / two[r];
	}
	double m2 = hc_median(two, (int)reps), m1 = hc_median(one, (int)reps);
	printf("case=lookup users=%u batch=%u reps=%u shape=two index_mib=%.1f records_mib=%.1f "
	       "cycles_per_key=%.1f%s\n", users, batch, reps, (double)ilen / 1048576.0,
	       (double)rlen / 1048576.0, m2, hc_bench_host(hz));
	printf("case=lookup users=%u batch=%u reps=%u shape=one table_mib=%.1f "
	       "cycles_per_key=%.1f%s\n", users, batch, reps, (double)mlen / 1048576.0, m1,
	       hc_bench_host(hz));
	printf("case=lookup users=%u batch=%u reps=%u one_over_two=%.3f%s\n", users, batch, reps,
	       hc_median(ratio, (int)reps), hc_bench_host(hz));
	hc_bench_require("lookup", m2 > 0 && m1 > 0, "no key looked up");
	return hc_bench_failed;
}

int main(int argc, char **argv)
{
	unsigned mib = 320, batch = 64, reps = 5;
	uint32_t users = 0;
	static const struct option lo[] = {{"mib", 1, 0, 'm'}, {"batch", 1, 0, 'b'},
		{"reps", 1, 0, 'n'}, {"users", 1, 0, 'u'}, {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		unsigned long v = strtoul(optarg != NULL ? optarg : "0", NULL, 10);
		if (c == 'm' && v >= 1 && v <= 65536) mib = (unsigned)v;
		else if (c == 'b' && v >= 1 && v <= 256) batch = (unsigned)v;
		else if (c == 'n' && v >= 1 && v <= 99) reps = (unsigned)v;
		else if (c == 'u' && v >= 1000 && v <= 100000000) users = (uint32_t)v;
		else {
			fprintf(stderr, "usage: hc-bench-mem [--mib 1..65536 | --users "
				"1000..100000000] [--batch 1..256] [--reps 1..99]\n");
			return 2;
		}
	}
	if (users != 0)
		return lookup_shapes(users, batch, reps);
	size_t len = (((size_t)mib << 20) + HUGE_2M - 1) & ~(HUGE_2M - 1);
	uint8_t *small = table(len, MADV_NOHUGEPAGE), *huge = table(len, MADV_HUGEPAGE);
	if (small == NULL || huge == NULL) {
		fprintf(stderr, "hc-bench-mem: cannot map 2 x %u MiB\n", mib);
		return 1;
	}
	uint64_t hz = hc_bench_tsc_hz(), sink = 0;
	double c4k[99], cthp[99];
	for (unsigned r = 0; r < reps; r++) {
		c4k[r] = cycles_per_line(small, len, batch, &sink);
		cthp[r] = cycles_per_line(huge, len, batch, &sink);
	}
	double share = (double)huge_kb(huge) * 1024.0 / (double)len;
	double m4k = hc_median(c4k, (int)reps), mthp = hc_median(cthp, (int)reps);
	printf("case=mem table_mib=%u batch=%u reps=%u pages=4k cycles_per_line=%.1f%s\n", mib,
	       batch, reps, m4k, hc_bench_host(hz));
	printf("case=mem table_mib=%u batch=%u reps=%u pages=thp thp_share=%.2f "
	       "cycles_per_line=%.1f%s\n", mib, batch, reps, share, mthp, hc_bench_host(hz));
	hc_bench_require("mem", m4k > 0 && mthp > 0 && sink != 0, "no line read");
	return hc_bench_failed;
}
