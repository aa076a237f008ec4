/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_snapshot.c - snapshot staging takes memory for what arrives, never
 * for what a chunk claims: the per-gateway cap refuses a claim at chunk 0,
 * growth stops at either cap (per gateway, all stages of the worker; at
 * the worker's, larger stages are displaced first), and a complete
 * snapshot is applied and its memory given back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>

#include "hc_proto.h"
#include "hc_proto_hdr.h"
#include "hc_snapshot.h"
#include "hc_unit.h"

static struct hc_snapshots snaps;
static unsigned n_emitted, n_asked;
static struct hc_op last_op; /* the last op emitted */
static uint32_t appl_named;  /* the appliance incarnation chunk() names */

static int emit(void *ctx, unsigned dst, const struct hc_op *op)
{
	(void)ctx;
	(void)dst;
	last_op = *op;
	n_emitted++;
	return 0;
}

static void ask_again(void *ctx, uint16_t gw)
{
	(void)ctx;
	(void)gw;
	n_asked++;
}

/* Chunk `index` of `chunks` of snapshot id, claiming `total` members, with
 * `count` members user_base.. */
static void chunk(uint16_t gw, uint32_t id, uint32_t index, uint32_t chunks, uint32_t total,
		  uint16_t count, uint64_t user_base)
{
	static uint8_t p[HC_MAX_PAYLOAD];
	hc_proto_fill_hdr(p, HC_MSG_SNAPSHOT, gw, count, 1, appl_named, 1 + index);
	struct hc_snapshot_prefix pf = {.snapshot_id = htonl(id), .chunk_index = htonl(index),
		.chunk_count = htonl(chunks), .total_users = htonl(total)};
	memcpy(p + sizeof(struct hc_hdr), &pf, sizeof(pf));
	for (uint16_t i = 0; i < count; i++) {
		struct hc_member mb = {.user_id = rte_cpu_to_be_64(user_base + i),
				       .room_id = htonl(1 + i % 7)};
		memcpy(p + sizeof(struct hc_hdr) + sizeof(pf) + i * sizeof(mb), &mb, sizeof(mb));
	}
	hc_snapshots_chunk(&snaps, gw, p);
}

static void init(uint32_t per_gw, uint64_t all)
{
	struct hc_snap_hooks hooks = {.emit = emit, .ask_again = ask_again, .n_owners = 1};
	n_emitted = n_asked = 0;
	CU_ASSERT_EQUAL_FATAL(hc_snapshots_init(&snaps, 16, per_gw, all, &hooks, 0), 0);
}

static void test_claims_cost_nothing(void)
{
	init(1u << 20, 1u << 20);
	/* 180 chunk 0s claiming 1 Mi members each, with none: nothing staged */
	for (uint32_t i = 0; i < 180; i++)
		chunk(3, 100 + i, 0, 1u << 20, 1u << 20, 0, 0);
	CU_ASSERT_EQUAL(snaps.staged, 0);
	/* a claim above the per-gateway cap is refused at once */
	hc_snapshots_free(&snaps);
	init(1000, 1u << 20);
	chunk(3, 7, 0, 2, 1001, 3, 1);
	CU_ASSERT_EQUAL(snaps.st.over_limit, 1);
	CU_ASSERT_EQUAL(snaps.st.abandoned, 1);
	CU_ASSERT_EQUAL(n_asked, 1);
	CU_ASSERT_EQUAL(snaps.staged, 0);
	/* 3 members of a claimed 500: one step of 256 slots, not 500 */
	chunk(3, 8, 0, 6, 500, 3, 1);
	CU_ASSERT_EQUAL(snaps.staged, 256);
	chunk(3, 8, 1, 6, 500, 89, 4);
	chunk(3, 8, 2, 6, 500, 89, 93);
	CU_ASSERT_EQUAL(snaps.staged, 256);
	chunk(3, 8, 3, 6, 500, 89, 182); /* 270: grows to the claimed 500 */
	CU_ASSERT_EQUAL(snaps.staged, 500);
	chunk(3, 8, 4, 6, 500, 89, 271);
	chunk(3, 8, 5, 6, 500, 141, 360);
	CU_ASSERT_EQUAL(snaps.st.applied, 1);
	CU_ASSERT_EQUAL(snaps.st.members, 500);
	CU_ASSERT_EQUAL(n_emitted, 500 + 1); /* the members and one sweep */
	CU_ASSERT_EQUAL(snaps.staged, 0);
	hc_snapshots_free(&snaps);
}

static void test_worker_cap(void)
{
	init(1000, 600);
	chunk(1, 1, 0, 3, 300, 89, 1);          /* gateway 1: 256 slots */
	chunk(1, 1, 1, 3, 300, 89, 90);         /* 178 of 300: fits, still open */
	CU_ASSERT_EQUAL(snaps.staged, 256);
	chunk(2, 1, 0, 9, 400, 89, 10000);      /* gateway 2: 256 more: 512 */
	CU_ASSERT_EQUAL(snaps.staged, 512);
	chunk(2, 1, 1, 9, 400, 89, 10089);
	chunk(2, 1, 2, 9, 400, 89, 10178);      /* 267 > 256: to 400 = 656 > 600 */
	CU_ASSERT_EQUAL(snaps.st.over_limit, 1);
	CU_ASSERT_EQUAL(snaps.st.abandoned, 1);
	CU_ASSERT_EQUAL(n_asked, 1);
	CU_ASSERT_EQUAL(snaps.staged, 256);     /* gateway 2's stage is gone */
	hc_snapshots_free(&snaps);
}

/* At the worker's cap a stage larger than the one that must grow, and
 * idle (no member added for HC_SNAP_IDLE_MS), is displaced (abandoned,
 * its gateway asked again), so a big snapshot left unfinished cannot keep
 * a smaller one out; one still arriving is not displaced, and a growing
 * stage never displaces a smaller or equal one. */
static void test_larger_displaced(void)
{
	init(600, 700);
	snaps.idle_tsc = UINT64_MAX;            /* every stage still arriving */
	snaps.slow_after_tsc = UINT64_MAX;      /* (and none slow, however long
	                                           the test takes) */
	chunk(1, 1, 0, 9, 600, 89, 1);          /* gateway 1: left unfinished */
	chunk(1, 1, 1, 9, 600, 89, 90);
	chunk(1, 1, 2, 9, 600, 89, 179);        /* 267: 512 slots */
	CU_ASSERT_EQUAL(snaps.staged, 512);
	chunk(3, 5, 0, 4, 300, 89, 50000);      /* 256 more: 768 > 700 */
	CU_ASSERT_EQUAL(snaps.st.displaced, 0); /* gateway 1 not idle: 3 refused */
	CU_ASSERT_EQUAL(snaps.st.over_limit, 1);
	CU_ASSERT_EQUAL(n_asked, 1);
	CU_ASSERT_EQUAL(snaps.staged, 512);
	snaps.idle_tsc = 0;                     /* gateway 1 idle now */
	chunk(3, 6, 0, 4, 300, 89, 50000);
	CU_ASSERT_EQUAL(snaps.st.displaced, 1);
	CU_ASSERT_EQUAL(snaps.st.over_limit, 2);
	CU_ASSERT_EQUAL(snaps.st.abandoned, 2);
	CU_ASSERT_EQUAL(n_asked, 2);            /* gateway 1, asked again */
	CU_ASSERT_EQUAL(snaps.staged, 256);
	chunk(3, 6, 1, 4, 300, 89, 50089);
	chunk(3, 6, 2, 4, 300, 89, 50178);      /* 267: 300 slots */
	chunk(3, 6, 3, 4, 300, 33, 50267);
	CU_ASSERT_EQUAL(snaps.st.applied, 1);   /* the smaller one is through */
	CU_ASSERT_EQUAL(snaps.st.members, 300);
	CU_ASSERT_EQUAL(snaps.staged, 0);
	/* gateway 2 open with 256 slots; gateway 1 again: its growth to 512
	 * would pass 700, and gateway 2's stage is smaller: gateway 1 gives up */
	chunk(2, 2, 0, 9, 600, 89, 70000);
	chunk(1, 3, 0, 9, 600, 89, 1);
	chunk(1, 3, 1, 9, 600, 89, 90);
	chunk(1, 3, 2, 9, 600, 89, 179);
	CU_ASSERT_EQUAL(snaps.st.displaced, 1);
	CU_ASSERT_EQUAL(snaps.st.over_limit, 3);
	CU_ASSERT_EQUAL(snaps.st.abandoned, 3);
	CU_ASSERT_EQUAL(snaps.staged, 256);     /* gateway 2's, kept */
	CU_ASSERT_EQUAL(snaps.n_open, 1);
	CU_ASSERT_EQUAL(snaps.open[0], 2);
	hc_snapshots_free(&snaps);
}

/* A stage that trickles in (members keep coming, so it is never idle)
 * but averages fewer than HC_SNAP_MIN_RATE members a second once older
 * than HC_SNAP_IDLE_MS is slow: displaced like an idle one.  A young one,
 * or one at the rate, is not.  (The clock is the TSC: the test sets the
 * thresholds, a member's time to 1 cycle, so that any stage is slow.) */
static void test_slow_displaced(void)
{
	init(600, 700);
	CU_ASSERT_EQUAL(snaps.slow_after_tsc, snaps.idle_tsc);
	CU_ASSERT_EQUAL(snaps.member_tsc, rte_get_tsc_hz() / HC_SNAP_MIN_RATE);
	snaps.idle_tsc = UINT64_MAX;            /* never idle: it trickles */
	chunk(1, 1, 0, 9, 600, 89, 1);
	chunk(1, 1, 1, 9, 600, 89, 90);
	chunk(1, 1, 2, 9, 600, 89, 179);        /* 267 members: 512 slots */
	snaps.member_tsc = UINT64_MAX;          /* at any rate: not slow */
	snaps.slow_after_tsc = 0;
	chunk(3, 5, 0, 4, 300, 89, 50000);      /* 768 > 700: refused */
	CU_ASSERT_EQUAL(snaps.st.displaced, 0);
	CU_ASSERT_EQUAL(snaps.st.over_limit, 1);
	snaps.member_tsc = 1;                   /* 267 members in far more cycles */
	snaps.slow_after_tsc = UINT64_MAX;      /* but young: not slow */
	chunk(3, 6, 0, 4, 300, 89, 50000);
	CU_ASSERT_EQUAL(snaps.st.displaced, 0);
	CU_ASSERT_EQUAL(snaps.st.over_limit, 2);
	CU_ASSERT_EQUAL(snaps.staged, 512);
	snaps.slow_after_tsc = 0;               /* old and slow: displaced */
	chunk(3, 7, 0, 4, 300, 89, 50000);
	CU_ASSERT_EQUAL(snaps.st.displaced, 1);
	CU_ASSERT_EQUAL(snaps.st.over_limit, 3);
	CU_ASSERT_EQUAL(n_asked, 3);            /* 3 twice, then gateway 1 */
	CU_ASSERT_EQUAL(snaps.staged, 256);
	CU_ASSERT_EQUAL(snaps.n_open, 1);
	CU_ASSERT_EQUAL(snaps.open[0], 3);
	chunk(3, 7, 1, 4, 300, 89, 50089);
	chunk(3, 7, 2, 4, 300, 89, 50178);
	chunk(3, 7, 3, 4, 300, 33, 50267);
	CU_ASSERT_EQUAL(snaps.st.applied, 1);
	CU_ASSERT_EQUAL(snaps.st.members, 300);
	CU_ASSERT_EQUAL(snaps.staged, 0);
	hc_snapshots_free(&snaps);
}

/* A snapshot's sweep says it ends a snapshot the gateway sent, and names
 * the appliance incarnation its chunks named: 0 when they differ (begun
 * before the gateway heard the one it named last); a drop of a gateway's
 * users says neither (docs/scaling.md, "A stale sweep"). */
static void test_sweep_names_incarnation(void)
{
	init(1000, 1000);
	appl_named = 7001;
	chunk(2, 1, 0, 2, 4, 2, 10);
	chunk(2, 1, 1, 2, 4, 2, 12);
	CU_ASSERT_EQUAL(snaps.st.applied, 1);
	CU_ASSERT_EQUAL(n_emitted, 4 + 1);
	CU_ASSERT_EQUAL(last_op.op, HC_OP_SNAP_SWEEP);
	CU_ASSERT_EQUAL(last_op.gateway_id, 2);
	CU_ASSERT_EQUAL(last_op.flags, HC_OPF_RESTATED);
	CU_ASSERT_EQUAL(last_op.room_id, 7001);
	/* begun naming 7001, ended naming 7003: names none */
	chunk(2, 2, 0, 2, 4, 2, 10);
	appl_named = 7003;
	chunk(2, 2, 1, 2, 4, 2, 12);
	CU_ASSERT_EQUAL(snaps.st.applied, 2);
	CU_ASSERT_EQUAL(last_op.op, HC_OP_SNAP_SWEEP);
	CU_ASSERT_EQUAL(last_op.flags, HC_OPF_RESTATED);
	CU_ASSERT_EQUAL(last_op.room_id, 0);
	/* one chunk naming 7003 */
	chunk(2, 3, 0, 1, 2, 2, 10);
	CU_ASSERT_EQUAL(last_op.flags, HC_OPF_RESTATED);
	CU_ASSERT_EQUAL(last_op.room_id, 7003);
	/* the gateway's users dropped: no snapshot */
	hc_snapshots_drop_users(&snaps, 2);
	CU_ASSERT_EQUAL(last_op.op, HC_OP_SNAP_SWEEP);
	CU_ASSERT_EQUAL(last_op.flags, 0);
	CU_ASSERT_EQUAL(last_op.room_id, 0);
	appl_named = 0;
	hc_snapshots_free(&snaps);
}


/* A snapshot given up is asked for again once, whatever of it is still
 * on its way: its later chunks are ignored (counted), not each abandoned
 * and asked for again (a gateway over --max-snapshot-users sends its
 * whole snapshot, thousands of chunks, after its chunk 0 was refused).
 * Its next chunk 0 starts afresh; a user drop forgets the mark; another
 * snapshot's stray chunk is abandoned and asked for as before, and so is
 * one that breaks into a staged snapshot (in sequence order that is the
 * next snapshot after a gap given up: its rest is what still comes, and
 * is ignored). */
static void test_abandoned_asked_once(void)
{
	init(1000, 1u << 20);
	chunk(3, 9, 0, 6, 1001, 59, 1);          /* refused: 1001 > 1000 */
	for (uint32_t i = 1; i < 6; i++)
		chunk(3, 9, i, 6, 1001, 59, 1 + 59 * i); /* the rest of it */
	CU_ASSERT_EQUAL(snaps.st.abandoned, 1);
	CU_ASSERT_EQUAL(snaps.st.over_limit, 1);
	CU_ASSERT_EQUAL(snaps.st.chunks_ignored, 5);
	CU_ASSERT_EQUAL(n_asked, 1);
	/* another gateway's snapshot of the same id is its own */
	chunk(4, 9, 0, 2, 2, 1, 500);
	chunk(4, 9, 1, 2, 2, 1, 501);
	CU_ASSERT_EQUAL(snaps.st.applied, 1);
	/* out of place mid-way (chunk 2 of 4 missing): once */
	chunk(3, 10, 0, 4, 4, 1, 1);
	chunk(3, 10, 1, 4, 4, 1, 2);
	chunk(3, 10, 3, 4, 4, 1, 4);
	CU_ASSERT_EQUAL(snaps.st.abandoned, 2);
	CU_ASSERT_EQUAL(n_asked, 2);
	CU_ASSERT_EQUAL(snaps.st.chunks_ignored, 5);
	/* a chunk of another snapshot, its chunk 0 never seen: abandoned and
	 * asked for (it is not the one given up) */
	chunk(3, 11, 1, 4, 4, 1, 2);
	CU_ASSERT_EQUAL(snaps.st.abandoned, 3);
	CU_ASSERT_EQUAL(n_asked, 3);
	chunk(3, 11, 2, 4, 4, 1, 3);             /* then its rest: ignored */
	CU_ASSERT_EQUAL(snaps.st.chunks_ignored, 6);
	/* the gateway's next snapshot, asked for: applied, whatever its id */
	chunk(3, 11, 0, 2, 2, 1, 1);
	chunk(3, 11, 1, 2, 2, 1, 2);
	CU_ASSERT_EQUAL(snaps.st.applied, 2);
	CU_ASSERT_EQUAL(snaps.st.abandoned, 3);
	/* given up, then the gateway's users dropped (a new incarnation):
	 * a chunk of that id is no longer the one given up */
	chunk(3, 12, 0, 4, 1001, 1, 1);
	CU_ASSERT_EQUAL(snaps.st.abandoned, 4);
	hc_snapshots_drop_users(&snaps, 3);
	chunk(3, 12, 1, 4, 1001, 1, 2);
	CU_ASSERT_EQUAL(snaps.st.abandoned, 5);
	CU_ASSERT_EQUAL(n_asked, 5);
	CU_ASSERT_EQUAL(snaps.st.chunks_ignored, 6);
	CU_ASSERT_EQUAL(snaps.staged, 0);
	/* snapshot 13 staged, then (its rest and 14's chunk 0 lost in a gap
	 * given up) 14's chunk 1: given up, asked for once, its rest ignored */
	chunk(3, 13, 0, 4, 4, 1, 1);
	chunk(3, 13, 1, 4, 4, 1, 2);
	chunk(3, 14, 1, 4, 4, 1, 9);
	CU_ASSERT_EQUAL(snaps.st.abandoned, 6);
	CU_ASSERT_EQUAL(n_asked, 6);
	chunk(3, 14, 2, 4, 4, 1, 10);
	chunk(3, 14, 3, 4, 4, 1, 11);
	CU_ASSERT_EQUAL(snaps.st.abandoned, 6);
	CU_ASSERT_EQUAL(n_asked, 6);
	CU_ASSERT_EQUAL(snaps.st.chunks_ignored, 8);
	CU_ASSERT_EQUAL(snaps.st.applied, 2);
	CU_ASSERT_EQUAL(snaps.staged, 0);
	hc_snapshots_free(&snaps);
}

/* A stage displaced to make room: its gateway is asked again once, and
 * the chunks of it still coming are ignored. */
static void test_displaced_asked_once(void)
{
	init(600, 700);
	snaps.slow_after_tsc = UINT64_MAX;
	snaps.idle_tsc = UINT64_MAX;
	chunk(1, 1, 0, 9, 600, 89, 1);
	chunk(1, 1, 1, 9, 600, 89, 90);
	chunk(1, 1, 2, 9, 600, 89, 179);        /* 512 slots */
	snaps.idle_tsc = 0;                     /* gateway 1 idle */
	chunk(3, 6, 0, 4, 300, 89, 50000);      /* displaces it */
	CU_ASSERT_EQUAL(snaps.st.displaced, 1);
	CU_ASSERT_EQUAL(n_asked, 1);
	snaps.idle_tsc = UINT64_MAX;
	for (uint32_t i = 3; i < 9; i++)        /* gateway 1's rest arrives */
		chunk(1, 1, i, 9, 600, i < 8 ? 59 : 36, 300 + 89 * i);
	CU_ASSERT_EQUAL(snaps.st.abandoned, 1);
	CU_ASSERT_EQUAL(snaps.st.chunks_ignored, 6);
	CU_ASSERT_EQUAL(n_asked, 1);
	hc_snapshots_free(&snaps);
}

/* A stage whose stamps are past now (the TSC stepped back an hour since
 * its last members) is judged from the step, not idle at once: an honest
 * snapshot in progress is not displaced for it (the wrapped difference
 * made it look idle for ever); idle again a full HC_SNAP_IDLE_MS later
 * (here: at once, with the threshold 0). */
static void test_clock_step_not_idle(void)
{
	init(600, 700);
	snaps.idle_tsc = rte_get_tsc_hz();      /* a second */
	snaps.slow_after_tsc = UINT64_MAX;
	chunk(1, 1, 0, 9, 600, 89, 1);
	chunk(1, 1, 1, 9, 600, 89, 90);
	chunk(1, 1, 2, 9, 600, 89, 179);        /* 512 slots */
	CU_ASSERT_EQUAL(hc_snapshots_stamps_ahead(&snaps, 1, 3600 * rte_get_tsc_hz()), 0);
	CU_ASSERT_EQUAL(hc_snapshots_stamps_ahead(&snaps, 2, 1), -ENOENT);
	chunk(3, 6, 0, 4, 300, 89, 50000);      /* 768 > 700: refused */
	CU_ASSERT_EQUAL(snaps.st.displaced, 0);
	CU_ASSERT_EQUAL(snaps.st.over_limit, 1);
	CU_ASSERT_EQUAL(snaps.staged, 512);
	snaps.idle_tsc = 0;                     /* idle since the step: displaced */
	chunk(3, 7, 0, 4, 300, 89, 50000);
	CU_ASSERT_EQUAL(snaps.st.displaced, 1);
	CU_ASSERT_EQUAL(snaps.staged, 256);
	hc_snapshots_free(&snaps);
}

static CU_TestInfo tests[] = {
	{"a stage's stamps past a stepped-back clock are not idle", test_clock_step_not_idle},
	{"claims cost nothing, growth follows arrivals", test_claims_cost_nothing},
	{"a snapshot given up is asked for again once", test_abandoned_asked_once},
	{"a displaced stage is asked for again once", test_displaced_asked_once},
	{"all stages of a worker capped", test_worker_cap},
	{"at the worker's cap a larger stage is displaced", test_larger_displaced},
	{"a stage that trickles in is displaced like an idle one", test_slow_displaced},
	{"a snapshot's sweep names the incarnation its chunks named", test_sweep_names_incarnation},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_snapshot = {"snapshot staging", NULL, NULL, NULL, NULL, tests};
