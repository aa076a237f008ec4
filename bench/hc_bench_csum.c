/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bench_csum.c - hc-bench-csum: cycles of the Internet checksum over
 * one frame's bytes, four ways, alternated --reps times (medians):
 * hc_csum.h's sum inlined as the parser inlines it (64-bit words, what
 * the dataplane verifies with), the same called through
 * hc_frame_csum_native (what the frame builders call), DPDK's
 * rte_raw_cksum (a 2-byte loop the compiler vectorises, what the
 * dataplane verified with before) and the RFC's byte-pair loop (what
 * hc_frame_csum was before, for the frames the appliance builds):
 *
 *   case=csum bytes=N inline_cycles=... fast_cycles=... dpdk_cycles=... bytepair_cycles=... cpu=... tsc_hz=...
 *
 * Each sum is checked against the others.  Header-only DPDK, no EAL.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

#include <rte_ip.h>

#include "hc_bench_host.h"
#include "hc_csum.h"
#include "hc_frame.h"
#include "hc_median.h"

#define CALLS 1000000u

static uint16_t bytepair(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;
	size_t i;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		sum += (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

int main(int argc, char **argv)
{
	static uint8_t buf[9000 + 8];
	unsigned reps = 5;
	int c;
	static const struct option lo[] = {{"reps", 1, 0, 'n'}, {0, 0, 0, 0}};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		unsigned long v = strtoul(optarg, NULL, 10);
		if (c != 'n' || v < 1 || v > 99) {
			fprintf(stderr, "usage: hc-bench-csum [--reps 1..99]\n");
			return 2;
		}
		reps = (unsigned)v;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	uint64_t hz = hc_bench_tsc_hz();
	/* an IPv4 header, a one-event datagram, a 64-event one, a full
	 * Ethernet frame, a jumbo one */
	static const size_t sizes[] = {20, 64, 1552, 1480, 8972};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		double in[99], f[99], d[99], b[99];
		volatile uint32_t sink = 0;
		int agree = 1;
		for (unsigned r = 0; r < reps; r++) {
			uint64_t tin = __rdtsc();
			for (unsigned i = 0; i < CALLS; i++)
				sink += hc_csum_fold(hc_csum_add(buf + (i & 7), n, 0));
			uint64_t t0 = __rdtsc();
			for (unsigned i = 0; i < CALLS; i++)
				sink += hc_frame_csum_native(buf + (i & 7), n, 0);
			uint64_t t1 = __rdtsc();
			for (unsigned i = 0; i < CALLS; i++)
				sink += rte_raw_cksum(buf + (i & 7), n);
			uint64_t t2 = __rdtsc();
			for (unsigned i = 0; i < CALLS; i++)
				sink += bytepair(buf + (i & 7), n);
			uint64_t t3 = __rdtsc();
			in[r] = (double)(t0 - tin) / CALLS;
			f[r] = (double)(t1 - t0) / CALLS;
			d[r] = (double)(t2 - t1) / CALLS;
			b[r] = (double)(t3 - t2) / CALLS;
		}
		(void)sink; /* (it only keeps the sums from being optimised away) */
		for (unsigned o = 0; o < 8; o++)
			agree &= hc_frame_csum_native(buf + o, n, 0) == rte_raw_cksum(buf + o, n) &&
				 hc_csum_fold(hc_csum_add(buf + o, n, 0)) == rte_raw_cksum(buf + o, n) &&
				 hc_frame_csum(buf + o, n, 0) == bytepair(buf + o, n);
		printf("case=csum bytes=%zu reps=%u inline_cycles=%.1f fast_cycles=%.1f "
		       "dpdk_cycles=%.1f bytepair_cycles=%.1f%s\n", n, reps,
		       hc_median(in, (int)reps), hc_median(f, (int)reps),
		       hc_median(d, (int)reps), hc_median(b, (int)reps), hc_bench_host(hz));
		hc_bench_require("csum", agree, "the four sums differ");
	}
	return hc_bench_failed;
}
