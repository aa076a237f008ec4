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

/* Cycles per random line: LINES_READ reads in batches of b, each batch's
 * lines prefetched first, then read. */
static double cycles_per_line(const uint8_t *a, size_t len, unsigned b, uint64_t *sink)
{
	uint64_t x = 88172645463325252ull, sum = 0, at[256];
	size_t lines = len / 64;
	uint64_t t0 = __rdtsc();
	for (unsigned i = 0; i < LINES_READ; i += b) {
		for (unsigned k = 0; k < b; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			at[k] = (x % lines) * 64;
			__builtin_prefetch(a + at[k]);
		}
		for (unsigned k = 0; k < b; k++)
			sum += a[at[k]];
	}
	uint64_t t1 = __rdtsc();
	*sink += sum;
	return (double)(t1 - t0) / LINES_READ;
}

int main(int argc, char **argv)
{
	unsigned mib = 320, batch = 64, reps = 5;
	static const struct option lo[] = {{"mib", 1, 0, 'm'}, {"batch", 1, 0, 'b'},
		{"reps", 1, 0, 'n'}, {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		unsigned long v = strtoul(optarg != NULL ? optarg : "0", NULL, 10);
		if (c == 'm' && v >= 1 && v <= 65536) mib = (unsigned)v;
		else if (c == 'b' && v >= 1 && v <= 256) batch = (unsigned)v;
		else if (c == 'n' && v >= 1 && v <= 99) reps = (unsigned)v;
		else {
			fprintf(stderr, "usage: hc-bench-mem [--mib 1..65536] [--batch 1..256] "
				"[--reps 1..99]\n");
			return 2;
		}
	}
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
