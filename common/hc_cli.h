/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_cli.h - the command-line conventions every headcount program shares
 * (docs/tools.md): --version's text, a value that does not parse or is out
 * of range named with its option and the program exiting 2, an unknown
 * option (getopt_long names it) pointing at --help and exiting 2, and one
 * reading of --appliance HOST[:PORT].  Slow path only: header-only so the
 * tools, hc-scenario and the benchmarks use it without a library.
 */
#ifndef HC_CLI_H
#define HC_CLI_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc_version.h"

#define HC_CLI_EXIT_USAGE 2 /* a bad command line, whatever the program */

/* a bad value: "PROG: --OPT 'VALUE': WHY (see --help)", exit 2 */
static inline _Noreturn void hc_cli_bad(const char *prog, const char *opt, const char *val,
					const char *why)
{
	fprintf(stderr, "%s: --%s '%s': %s (see --help)\n", prog, opt, val ? val : "", why);
	exit(HC_CLI_EXIT_USAGE);
}

/* after getopt_long returned '?': it already named the option */
static inline _Noreturn void hc_cli_unknown(const char *prog)
{
	fprintf(stderr, "%s: bad command line (see %s --help)\n", prog, prog);
	exit(HC_CLI_EXIT_USAGE);
}

/* an unsigned integer in lo..hi (decimal, or hex after 0x), else hc_cli_bad */
static inline uint64_t hc_cli_u64(const char *prog, const char *opt, const char *val,
				  uint64_t lo, uint64_t hi)
{
	char *end = NULL, why[96];
	int hex = val[0] == '0' && (val[1] == 'x' || val[1] == 'X');
	errno = 0;
	unsigned long long v = strtoull(val, &end, hex ? 16 : 10); /* 010 is ten */
	if (val[0] == '\0' || val[0] == '-' || end == NULL || *end != '\0' || errno != 0 ||
	    v < lo || v > hi) {
		snprintf(why, sizeof(why), "not an integer in %" PRIu64 "..%" PRIu64, lo, hi);
		hc_cli_bad(prog, opt, val, why);
	}
	return v;
}

/* a number in lo..hi, else hc_cli_bad */
static inline double hc_cli_double(const char *prog, const char *opt, const char *val,
				   double lo, double hi)
{
	char *end = NULL, why[96];
	errno = 0;
	double v = strtod(val, &end);
	if (val[0] == '\0' || end == NULL || *end != '\0' || errno != 0 || !(v >= lo && v <= hi)) {
		snprintf(why, sizeof(why), "not a number in %g..%g", lo, hi);
		hc_cli_bad(prog, opt, val, why);
	}
	return v;
}

/* --appliance HOST[:PORT] (an IPv4 address or name; [IPv6]:PORT is left to
 * callers that take one): HOST into host, the port (default_port when
 * absent) into *port; bad input is hc_cli_bad */
static inline void hc_cli_appliance(const char *prog, const char *val, char *host,
				    size_t host_len, uint16_t *port, uint16_t default_port)
{
	const char *colon = strrchr(val, ':');
	size_t n = colon ? (size_t)(colon - val) : strlen(val);
	if (n == 0 || n >= host_len)
		hc_cli_bad(prog, "appliance", val, "expected HOST[:PORT]");
	memcpy(host, val, n);
	host[n] = '\0';
	*port = default_port;
	if (colon != NULL) {
		char *end = NULL;
		unsigned long v = strtoul(colon + 1, &end, 10);
		if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || v < 1 || v > 65535)
			hc_cli_bad(prog, "appliance", val, "the port is not in 1..65535");
		*port = (uint16_t)v;
	}
}

/* --version: "PROG (headcount) VERSION", GNU's form, which help2man reads */
static inline void hc_cli_version(const char *prog)
{
	hc_version_print(prog);
}

#endif
