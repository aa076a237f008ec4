/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_fuzz_int.h - what the harness's files share: its environment
 * (hc_fuzz_env.c), the state of one run (hc_fuzz.c) and the invariants
 * checked over the dataplane (hc_fuzz_check.c).
 */
#ifndef HC_FUZZ_INT_H
#define HC_FUZZ_INT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hc_config.h"
#include "hc_dataplane.h"
#include "hc_fuzz.h"

#define HC_FZ_MBUFS 4095 /* the packet pool */

/* hc_fuzz_env.c */
extern struct rte_mempool *hc_fz_pool;
int hc_fz_env_init(void);
unsigned hc_fz_pool_free_count(void); /* exact: the pool has no cache */

/* A violated invariant: say which and abort (libFuzzer saves the input). */
#define FZ_FAIL(...) do { \
	fprintf(stderr, "hc-fuzz: INVARIANT VIOLATED (%s:%d): ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	hc_fz_dump(); \
	abort(); \
} while (0)

/*
 * A violation that shows a known bug, already reported (README.md):
 * FZ_FAIL unless the environment variable HC_FUZZ_TOLERATE names it
 * (comma-separated); then the input stops here, unchecked and not kept
 * in the corpus, so that a long run can look for other bugs meanwhile.
 */
int hc_fz_tolerate(const char *name);
#define FZ_KNOWN(name, ...) do { \
	if (hc_fz_tolerate(name)) \
		fz_run.tolerated = 1; \
	else \
		FZ_FAIL("[" name "] " __VA_ARGS__); \
} while (0)

/* The emulated control core's knowledge of the rooms: every change the
 * workers report (and every seat it grants) applied to per-room counts;
 * they must equal the workers' counters. */
struct fz_book {
	int64_t room[FZ_ROOMS];
	int64_t other;   /* changes naming a room id >= FZ_ROOMS (none may) */
};

/* hc_fuzz.c: the run's dataplane, for the checks */
struct fz_run {
	struct hc_config cfg;
	struct hc_dataplane dp;
	unsigned n_workers;
	uint32_t pending_asked[HC_MAX_WORKERS]; /* requests not yet answered */
	struct fz_book book;
	unsigned pool_free0;   /* free mbufs before the run */
	unsigned in_burst;     /* mbufs queued for the next burst */
	int table_full_seen;   /* a table filled up: the book may be off */
	int tolerated;         /* a tolerated known bug showed: stop the input */
	int stopped;           /* FLUSH_ALL ran: the stop path; the script ends */
	int answers_in_flight; /* decisions given, not yet pumped (they race
	                          the next burst) */
};
extern struct fz_run fz_run;

/* Print the model and dataplane summary (before an abort). */
void hc_fz_dump(void);

/* hc_fuzz_check.c: invariants over the quiescent dataplane (every ring
 * drained, nothing staged); abort on a violation. */
void hc_fz_check_quiescent(void);
/* The incarnation the home sequencer remembers of forgotten gateway gw
 * (its floor: older ones are refused), 0 if none. */
uint32_t hc_fz_gateway_floor(uint16_t gw);

#endif /* HC_FUZZ_INT_H */
