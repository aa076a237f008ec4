/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bench_host.h - what every benchmark case line says about where it ran
 * (the CPU model and the TSC frequency), and the check that a case
 * measured something: a case whose figure is zero, or whose work was lost
 * on the way, prints FAIL and makes the benchmark exit non-zero instead of
 * printing a number nobody should quote.
 */
#ifndef HC_BENCH_HOST_H
#define HC_BENCH_HOST_H

#include <stdio.h>
#include <string.h>

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

/* " cpu=\"MODEL\" tsc_hz=N": append to a case line. */
static inline const char *hc_bench_host(unsigned long long tsc_hz)
{
	static char out[256];
	snprintf(out, sizeof(out), " cpu=\"%s\" tsc_hz=%llu", hc_bench_cpu_model(), tsc_hz);
	return out;
}

/* The benchmark's exit status: 1 once any case measured nothing. */
static int hc_bench_failed;

/* ok: the case measured what it says; else print why and remember. */
static inline void hc_bench_require(const char *name, int ok, const char *why)
{
	if (ok)
		return;
	printf("hc-bench: FAIL: case %s measured nothing: %s\n", name, why);
	hc_bench_failed = 1;
}

#endif /* HC_BENCH_HOST_H */
