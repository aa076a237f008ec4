/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_decimal.h - the one reading of a number an operator types: decimal
 * digits only.  Options, the config file's [eal], [control] and [pool]
 * keys and telemetry parameters all take numbers through it, so that
 * none of them reads "07100" as octal, takes "0x10", or wraps "-5" to
 * 2^64 - 5 (strtoull alone does all three).
 */
#ifndef HC_DECIMAL_H
#define HC_DECIMAL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* s is one or more decimal digits (nothing before, nothing after) and
 * its value is in [lo, hi]: 0 and the value in *out; else -1. */
static inline int hc_decimal_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

#endif /* HC_DECIMAL_H */
