/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_median.h - the median of repeated measurements, for the benchmarks
 * (machines here are noisy: every figure is a median).
 */
#ifndef HC_MEDIAN_H
#define HC_MEDIAN_H

#include <stdlib.h>

static int hc_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Sorts v in place. */
static inline double hc_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), hc_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* HC_MEDIAN_H */
