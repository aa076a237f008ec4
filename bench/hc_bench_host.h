/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bench_host.h - what every benchmark case line says about where it ran
 * (the CPU model and the TSC frequency), and the check that a case
 * measured something: a case whose figure is zero, or whose work was lost
 * on the way, prints FAIL (after its case= line: the line comes first, its
 * checks after it) and makes the benchmark exit non-zero, so that no
 * script quotes its number (bench/ab.sh and bench/peers/run.sh stop on
 * the exit status; a reader of the output alone must look for FAIL).
 */
#ifndef HC_BENCH_HOST_H
#define HC_BENCH_HOST_H

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

/* The CPU's model name (/proc/cpuinfo), or "unknown". */
static inline const char *hc_bench_cpu_model(void)
{
	static char model[160] = "unknown";
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "model name", 10) != 0)
			continue;
		const char *v = strchr(line, ':');
		if (v != NULL) {
			snprintf(model, sizeof(model), "%s", v + 2);
			model[strcspn(model, "\n\"")] = '\0';
		}
		break;
	}
	if (f != NULL)
		fclose(f);
	return model;
}

/* The TSC's frequency, measured against CLOCK_MONOTONIC over 0.2 s: for
 * the benchmarks that run without EAL (rte_get_tsc_hz). */
static inline unsigned long long hc_bench_tsc_hz(void)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	unsigned long long t0 = __rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec) < 200000000ll);
	double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
	return (unsigned long long)((double)(__rdtsc() - t0) * 1e9 / ns);
}

/* " cpu=\"MODEL\" tsc_hz=N": append to a case line. */
static inline const char *hc_bench_host(unsigned long long tsc_hz)
{
	static char out[256];
	snprintf(out, sizeof(out), " cpu=\"%s\" tsc_hz=%llu", hc_bench_cpu_model(), tsc_hz);
	return out;
}

/* The benchmark's exit status: 1 once any case measured nothing, or
 * something other than it says. */
static int hc_bench_failed;

/* ok: the case measured what it says; else print why and remember. */
static inline void hc_bench_require(const char *name, int ok, const char *why)
{
	if (ok)
		return;
	printf("hc-bench: FAIL: case %s measured nothing: %s (its figures above are not to "
	       "be quoted)\n", name, why);
	hc_bench_failed = 1;
}

/* The case took only events the stream meant (hc_gen_wraps unchanged
 * since wraps0: no sub-stream replayed), else fails it. */
static inline void hc_bench_require_fresh(const char *name, uint64_t wraps0, uint64_t wraps,
					  uint64_t stream_len)
{
	if (wraps == wraps0)
		return;
	printf("hc-bench: FAIL: case %s measured another mix: the stream of %llu events was "
	       "replayed (%llu sub-streams ran out): give a longer --stream, or none (its "
	       "default fits the run)\n", name, (unsigned long long)stream_len,
	       (unsigned long long)(wraps - wraps0));
	hc_bench_failed = 1;
}

#endif /* HC_BENCH_HOST_H */
