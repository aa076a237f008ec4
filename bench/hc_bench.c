/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bench.c - hc-bench: events/s and cycles/event of one worker core.
 *
 * The real worker loop (hc_worker_main) runs on lcore 1 and polls a
 * net_ring port.  For each window the main lcore first builds the frames
 * (EVENTS datagrams from 16 gateways in sequence, with correct IPv4 and
 * UDP checksums, over a working set of --users users and --rooms rooms,
 * every user joined before timing starts), then hands them all to the
 * worker's RX ring and times the worker until every event is applied, in
 * chunks of 8,192 datagrams: 262,144 one-event datagrams or 65,536
 * datagrams of 64 events per window.  The event stream is a precomputed mix of joins, moves, leaves
 * and no-ops (--stream events; by default as long as the run takes, and
 * a case that replays it fails: replayed leaves and joins turn into
 * no-ops, another mix; the mix applied is printed per window).  For each case it measures --reps windows and
 * prints the median (--chunks N: windows of N chunks), ending with one
 * machine-readable line:
 *
 *   case=batch64 events_per_s=... datagrams_per_s=... cycles_per_event=...
 *
 * cycles_per_event counts the worker's busy TSC cycles (loops that found
 * work); wall_cycles_per_event counts all its cycles (it owns its core);
 * datagrams_per_loop the datagrams a busy loop took (a burst, up to
 * --burst: well below it, per-loop costs weigh on each datagram).
 * The worker reports every change to the control core and asks it for a
 * seat for every JOIN that changes a user's room, as in the appliance;
 * here the producer stands in for the control core, taking the reports
 * and admitting every request (--no-report: no control core, JOINs are
 * applied at once).  --control real puts the appliance's own control core
 * (hc_decide_poll) there instead, for the batch cases: the case line then
 * also says how busy it was and how many reports a busy second it took
 * (control_*), which is the whole appliance's ceiling for room changes
 * (docs/benchmarks.md, "One control core beside the worker").
 * --auth seals every datagram it builds (EVENTS and SNAPSHOT, protocol v2)
 * with one fixed test key, bench_key, which every gateway id it uses
 * (1..17) holds in slot 0 (bench_keys, the keyring the appliance side
 * checks them against); sealing is done while frames are built, outside
 * the timed part.
 * Each frame is flushed out of the main lcore's caches once built (not
 * timed), so that the worker reads it from memory, where a NIC's DMA
 * leaves it; --frames-cached leaves it in those caches (the worker then
 * pays for the lcores' placement: see xcore_rtt_ns below).  Every case
 * line says which (frames=memory or frames=cache).
 * --rx-csum-offload marks every frame as a NIC with RX checksum offload
 * marks those it verified (the worker then sums nothing, as on such a
 * NIC; by default it verifies both checksums, as on virtual devices).
 * --burst N sets the worker's RX burst (the appliance's --burst, default
 * 128); every batch case line says it (burst=).
 * --callgrind (under `valgrind --tool=callgrind`, built with valgrind's
 * header): each chunk's timed part is one callgrind dump (stats zeroed
 * when its frames are handed over, dumped when its last event is applied;
 * run callgrind without --separate-threads, whose client requests reach
 * only the calling thread), and the chunk's events and worker loops are
 * printed, for a deterministic count of instructions per event on a noisy
 * machine (docs/benchmarks.md); gateways are then never declared dead.
 * Every batch case line also says how far apart the host put the two
 * lcores: xcore_rtt_ns, the round trip of one cache line between them
 * (measured before the worker starts, and again after it stops: printed
 * at the end).  The frames are written on the main lcore and read on the
 * worker's: with --frames-cached a single-event datagram's cost follows
 * it (docs/benchmarks.md, "The host's two placements", "Frames from
 * memory").
 * A benchmark, not a test: it asserts nothing; `meson test` runs it only
 * at tiny sizes, to see every case end (tests/integration/bench_smoke.sh),
 * and never judges a speed.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#if defined(RTE_ARCH_X86)
#include <emmintrin.h> /* _mm_clflush */
#endif

#ifdef HC_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#endif

#include "hc_auth.h"
#include "hc_cli.h"
#include "hc_options.h"
#include "hc_control.h"
#include "hc_bench_gen.h"
#include "hc_bench_host.h"
#include "hc_median.h"
#include "hc_state_digest.h"
#include "hc_dataplane.h"
#include "hc_frame.h"
#include "hc_port.h"
#include "hc_proto.h"
#include "hc_proto_hdr.h"
#include "hc_directives.h"
#include "hc_policy.h"
#include "hc_rooms.h"
#include "hc_tx.h"
#include "hc_ops.h"
#include "hc_rx.h"
#include "hc_worker.h"
#include "hc_worker_state.h"

#define GATEWAYS HC_GEN_GATEWAYS

/* The workload (users, the event mix, the gateways' sub-streams, the
 * arrival order) is hc_bench_gen.c's, shared with bench/peers/. */
static uint32_t seq[GATEWAYS + 1];
static struct rte_ring *rx_ring;
static struct rte_mempool *pool;

/* --auth: the test key ("headcount-bench!"), slot 0 of every gateway id */
static const uint8_t bench_key[HC_AUTH_KEY_LEN] = {'h', 'e', 'a', 'd', 'c', 'o', 'u', 'n',
						   't', '-', 'b', 'e', 'n', 'c', 'h', '!'};
static struct hc_auth_keyring *bench_keys; /* NULL: frames unsealed */
/* --rx-csum-offload: frames marked as a NIC that verified their IPv4 and
 * UDP checksums marks them (the parser then trusts the flags, as it does
 * on such a NIC); else the worker verifies them, as on virtual devices */
static int rx_csum_offload;
/* --frames-cached: frames left where the main lcore wrote them, in its
 * own caches; else each frame (its mbuf and its bytes) is written back
 * and evicted (clflush) once built, outside the timed part, so that the
 * worker reads it from memory, as it reads what a NIC's DMA wrote
 * (frame_to_memory) */
static int frames_cached;

static const struct hc_frame_addr addr = {
	.dst_mac = {2, 0, 0, 0, 0, 1}, .src_mac = {2, 0, 0, 0, 0, 2},
	.src_ip = 0xC6120002, .dst_ip = 0xC6120001, .src_port = 40000, .dst_port = 7100};

/* Frame m's headers (its payload of plen bytes at f + HC_FRAME_HDR_LEN),
 * and the checksum flags a NIC with RX offload would set (--rx-csum-offload). */
static void put_headers(struct rte_mbuf *m, uint8_t *f, uint16_t plen)
{
	hc_frame_put_headers(f, &addr, 0, plen);
	if (rx_csum_offload)
		m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
}

/* Frame m (its mbuf, and its len bytes at f) out of every cache, into
 * memory, unless --frames-cached: where a NIC's DMA leaves a frame
 * (in memory, or with Intel's DDIO in the last-level cache), never dirty
 * in another core's private cache.  Left there, a frame is read by the
 * worker from the main lcore's cache, at the price of the two lcores'
 * placement: on this 2-vCPU host, with the lcores in two cache domains,
 * a one-event datagram cost a median 1.28 times as much with its frame
 * left there as with it in memory (docs/benchmarks.md, "Frames from
 * memory").  Not timed. */
static void frame_to_memory(const struct rte_mbuf *m, const uint8_t *f, size_t len)
{
#if defined(RTE_ARCH_X86)
	if (frames_cached)
		return;
	for (uintptr_t a = (uintptr_t)m & ~(uintptr_t)63; a < (uintptr_t)m + sizeof(*m); a += 64)
		_mm_clflush((const void *)a);
	for (uintptr_t a = (uintptr_t)f & ~(uintptr_t)63; a < (uintptr_t)f + len; a += 64)
		_mm_clflush((const void *)a);
#else
	(void)m; (void)f; (void)len; /* (no portable flush: frames_label says "cache") */
#endif
}

/* Where the worker finds the frames: frames=memory or frames=cache. */
static const char *frames_label(void)
{
#if defined(RTE_ARCH_X86)
	return frames_cached ? "cache" : "memory";
#else
	return "cache";
#endif
}

/* One EVENTS frame: k events of `events` from gateway gw, or (events
 * NULL) the stream's next datagram, of the gateway it picks. */
static struct rte_mbuf *make_frame(unsigned k, const struct hc_event *events, uint16_t gw)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		return NULL;
	uint16_t plen = (uint16_t)(sizeof(struct hc_hdr) + k * sizeof(struct hc_event));
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(HC_FRAME_HDR_LEN + plen));
	uint8_t *ev = f + HC_FRAME_HDR_LEN + sizeof(struct hc_hdr);
	if (events != NULL)
		memcpy(ev, events, k * sizeof(struct hc_event));
	else
		gw = hc_gen_take(k, ev); /* the next datagram of the stream */
	hc_proto_fill_hdr(f + HC_FRAME_HDR_LEN, HC_MSG_EVENTS, gw, (uint16_t)k, 1, 0, ++seq[gw]);
	if (bench_keys != NULL)
		hc_auth_seal(f + HC_FRAME_HDR_LEN, plen, bench_keys->gw[gw].key[0], 0);
	put_headers(m, f, plen);
	frame_to_memory(m, f, HC_FRAME_HDR_LEN + plen);
	return m;
}

#define CHUNK_FRAMES 8192u    /* frames handed over at once (~16 MiB of mbufs) */

/* The round trip of a cache line between the main lcore and lcore
 * `peer` (nothing else running there), in ns: the median of 5 runs of
 * 2,000 exchanges.  About 105-125 ns where the host placed the two vCPUs
 * in one cache domain, 409-790 ns where it placed them apart (this
 * machine, 2026-12-02). */
static uint64_t xc_line[8] __rte_cache_aligned;
#define XC_ROUNDS 2000u

static int xc_pong(void *arg)
{
	(void)arg;
	for (uint64_t i = 1; i <= XC_ROUNDS; i++) {
		while (__atomic_load_n(&xc_line[0], __ATOMIC_ACQUIRE) != 2 * i - 1)
			;
		__atomic_store_n(&xc_line[0], 2 * i, __ATOMIC_RELEASE);
	}
	return 0;
}

static double xcore_rtt_ns(unsigned peer)
{
	double ns[5];
#ifdef HC_HAVE_CALLGRIND
	/* valgrind runs one thread at a time: each exchange would wait for
	 * its scheduler's switch, and 10,000 of them for hours */
	if (RUNNING_ON_VALGRIND)
		return 0;
#endif
	for (int r = 0; r < 5; r++) {
		__atomic_store_n(&xc_line[0], 0, __ATOMIC_RELEASE);
		if (rte_eal_remote_launch(xc_pong, NULL, peer) != 0)
			return 0;
		uint64_t t0 = rte_rdtsc();
		for (uint64_t i = 1; i <= XC_ROUNDS; i++) {
			__atomic_store_n(&xc_line[0], 2 * i - 1, __ATOMIC_RELEASE);
			while (__atomic_load_n(&xc_line[0], __ATOMIC_ACQUIRE) != 2 * i)
				;
		}
		uint64_t t1 = rte_rdtsc();
		rte_eal_wait_lcore(peer);
		ns[r] = (double)(t1 - t0) / XC_ROUNDS * 1e9 / (double)rte_get_tsc_hz();
	}
	return hc_median(ns, 5);
}

static const struct hc_dataplane *bench_dp; /* worker 0's changes and
					      decisions go through it, as the
					      control core's (hc_chan_*) */
static struct rte_ring *changes;   /* the worker's reports, or NULL */
static struct rte_ring *decisions; /* our answers to its seat requests */
static uint64_t changes_seen;
/* --control real: the appliance's control core (hc_decide_poll, its
 * seat book, leases, balancer, heartbeats) takes the reports and answers
 * the seat requests on the main lcore instead of the stand-in, so that a
 * window also says whether one control core keeps up with the worker
 * (ctl_waits: the worker waited for room in its change ring) */
static struct hc_decide *real_control;
static uint64_t ctl_busy_tsc, ctl_changes; /* its polls that found work */

/* The JOINs the real control core refused (rooms at max) so far; the
 * stand-in refuses none. */
static uint64_t control_refused(void)
{
	return real_control != NULL ? real_control->st.refused : 0;
}
static struct rte_ring *tx_ring; /* the wire: what the worker transmits */
static uint64_t picks_seen, pick_ends_seen; /* (the picks case) */

/* The stand-in's seat book for leases: users and leased seats per room,
 * and whether the worker holds a lease there (--lease-seats). */
static uint32_t *sb_users, *sb_leased;
static uint8_t *sb_held, *sb_grow;
static uint32_t lease_seats = 16; /* the policy's default (hc_policy.c) */
#define SB_MAX 100                 /* the default pool's max */

/* The stand-in leases up to `want` more seats of room r while the room
 * stays at least max(2, max / 8) below max, none if fewer than `least`
 * fit (hc_rooms.c:lease_grant): the decision for it in *dec, or 0. */
static int stand_in_lease(uint32_t r, uint32_t want, uint32_t least, struct hc_decision *dec)
{
	uint32_t margin = hc_rooms_lease_margin(SB_MAX), occ = sb_users[r] + sb_leased[r];
	if (want == 0 || occ + margin >= SB_MAX || SB_MAX - margin - occ < least)
		return 0;
	uint32_t q = SB_MAX - margin - occ;
	q = q < want ? q : want;
	sb_leased[r] += q;
	sb_held[r] = 1;
	*dec = (struct hc_decision){.room_id = r, .kind = HC_DEC_LEASE, .lease = {.seats = q}};
	return 1;
}

/* Stand in for the control core: take the worker's change reports, admit
 * every seat request, and lease seats as the control core does: a grant
 * on an admitted request (hc_rooms_lease: one lease per worker and room
 * at a time), a top-up when a leased JOIN leaves at most half of
 * lease_seats (hc_rooms_lease_top_up), top-ups doubled (twice at most)
 * while a worker whose lease ran dry holds the room's seats
 * (hc_rooms_lease_ran_dry); the control core's own cost of
 * change reports is measured by hc-bench-control (leases aside).
 * Leases are not revoked (no ticks here: the control core takes unused
 * ones back within two ticks).  Each change makes at most two decisions. */
static void drain_changes(void)
{
	static struct hc_change chg[512];
	static struct hc_decision dec[1024];
	if (changes == NULL)
		return;
	if (real_control != NULL) { /* --control real: the appliance's own */
		uint64_t t0 = rte_rdtsc();
		unsigned n = hc_decide_poll(real_control, t0);
		if (n > 0) {
			ctl_busy_tsc += rte_rdtsc() - t0;
			ctl_changes += n;
		}
		/* its heartbeats (16 gateways, every 100 ms), MOVEs and
		 * ASSIGNs leave through the worker onto the wire, which nobody
		 * reads in the batch cases: freed, or they would take the pool
		 * the frames are built from */
		struct rte_mbuf *sent[64];
		unsigned k = rte_ring_dequeue_burst(tx_ring, (void **)sent, 64, NULL);
		if (k > 0)
			rte_pktmbuf_free_bulk(sent, k);
		return;
	}
	/* read as the control core reads them (hc_decide_poll) */
	unsigned n = hc_chan_take_changes(bench_dp, 0, chg, 512), k = 0;
	/* the answers the worker is owed always fit its decision ring; a
	 * lease goes only where it fits beside them (the control core's
	 * may_tell), or both ends would wait for each other */
	int may_lease = rte_ring_free_count(decisions) > HC_CHAN_MAX_PENDING + 1024;
	for (unsigned i = 0; i < n; i++) {
		const struct hc_change *c = &chg[i];
		if (c->kind == HC_CHG_PICK || c->kind == HC_CHG_PICK_END) {
			picks_seen += c->kind == HC_CHG_PICK;
			pick_ends_seen += c->kind == HC_CHG_PICK_END;
			continue;
		}
		if (c->kind == HC_CHG_VACATED) { /* (a request's room, once left) */
			sb_users[c->from_room]--;
			continue;
		}
		if (c->kind != HC_CHG_REQUEST && c->kind != HC_CHG_RESTATE &&
		    c->kind != HC_CHG_LEASED && c->kind != HC_CHG_APPLIED)
			continue;
		if (c->from_room != 0 && (c->kind == HC_CHG_LEASED || c->kind == HC_CHG_APPLIED))
			sb_users[c->from_room]--;
		if (c->to_room == 0)
			continue;
		sb_users[c->to_room]++;
		if (c->kind == HC_CHG_LEASED) {
			uint32_t r = c->to_room, want = lease_seats << sb_grow[r];
			if (--sb_leased[r] == 0)
				sb_held[r] = sb_grow[r] = 0;
			if (sb_held[r] && may_lease && sb_leased[r] <= want / 2)
				k += (unsigned)stand_in_lease(r, want - sb_leased[r],
							      lease_seats / 4 > 1 ? lease_seats / 4 : 1,
							      &dec[k]);
			continue;
		}
		if (c->kind == HC_CHG_APPLIED)
			continue;
		dec[k++] = (struct hc_decision){.user_id = c->user_id,
			.room_id = c->to_room, .kind = HC_DEC_SEAT,
			.admit = c->kind == HC_CHG_RESTATE ? HC_SEAT_RESTATED : 1,
			.gateway_id = c->gateway_id};
		/* its lease ran dry before a top-up came: top-ups grow
		 * (hc_rooms_lease_ran_dry) */
		if (c->kind == HC_CHG_REQUEST && (c->flags & HC_CHGF_LEASE_DRY) &&
		    sb_held[c->to_room] && sb_grow[c->to_room] < HC_ROOMS_LEASE_GROW_MAX)
			sb_grow[c->to_room]++;
		if (c->kind == HC_CHG_REQUEST && may_lease && !sb_held[c->to_room])
			k += (unsigned)stand_in_lease(c->to_room, lease_seats, 1, &dec[k]);
	}
	for (unsigned done = 0; done < k;)
		done += hc_chan_give_decisions(bench_dp, 0, dec + done, k - done);
	changes_seen += n;
}

static int callgrind;            /* --callgrind: one dump per chunk */

/* A wait's progress: a counter that must keep moving.  A busy host may
 * not run an lcore for a second or more, so a wait ends on no progress
 * for STALL_S seconds, never on a second of wall time.  Not under
 * valgrind (--callgrind), which runs one thread at a time and may leave
 * the worker's for longer while this one spins. */
#define STALL_S 30
struct progress {
	uint64_t seen, moved_tsc;
};

/* Has `counter` stayed as it was for STALL_S seconds (since p was last
 * seen to move, or first asked)? */
static int stalled_for(struct progress *p, uint64_t counter)
{
	uint64_t now = rte_rdtsc();
	if (callgrind)
		return 0;
	if (p->moved_tsc == 0 || counter != p->seen) {
		p->seen = counter;
		p->moved_tsc = now;
		return 0;
	}
	return now - p->moved_tsc > STALL_S * rte_get_tsc_hz();
}

/*
 * Stand in for the control core until the worker has applied `target`
 * events and awaits no decision.  The worker's counters are read every
 * 10 us, not continuously: a core spinning on them would pull the
 * worker's lines to itself at every datagram (the control core never
 * reads them on its loop), and the worker would pay a cross-core miss per
 * store.  A chunk takes milliseconds; the window ends at most 10 us late.
 */
static void wait_applied(const struct hc_worker *w, uint64_t target)
{
	uint64_t every = rte_get_tsc_hz() / 100000, next = 0, loops_then = 0, next_check = 0;
	int done_then = 0;
	struct progress applying = {0};
	for (;;) {
		drain_changes();
		uint64_t now = rte_rdtsc();
		if (now < next)
			continue;
		/* events count at delivery; the loop that delivered the last
		 * ones applies them at its end (hc_ops_commit, which may ask
		 * for seats) and only then adds its busy cycles: so the window
		 * ends once, with nothing awaited, two more loops ended (the
		 * one in progress, whose counters are then all written) */
		int done = __atomic_load_n(&w->st.events, __ATOMIC_RELAXED) >= target &&
			   __atomic_load_n(&w->outstanding, __ATOMIC_RELAXED) == 0 &&
			   __atomic_load_n(&w->members.pend.n_deferred, __ATOMIC_RELAXED) == 0;
		uint64_t loops = __atomic_load_n(&w->st.loops, __ATOMIC_RELAXED);
		if (done && done_then && loops - loops_then >= 2)
			return;
		/* stalled?  Asked ten times a second, not every 10 us: more
		 * of the worker's lines (events delivered, ops applied, seats
		 * asked for; once done, its loops) */
		if (now >= next_check) {
			const struct hc_members_stats *ms = &w->members.st;
			uint64_t events = __atomic_load_n(&w->st.events, __ATOMIC_RELAXED);
			uint64_t progress = events + (done ? loops : 0) +
				__atomic_load_n(&ms->joins, __ATOMIC_RELAXED) +
				__atomic_load_n(&ms->moves, __ATOMIC_RELAXED) +
				__atomic_load_n(&ms->leaves, __ATOMIC_RELAXED) +
				__atomic_load_n(&ms->noops, __ATOMIC_RELAXED) +
				__atomic_load_n(&ms->requests, __ATOMIC_RELAXED);
			if (stalled_for(&applying, progress)) {
				fprintf(stderr, "hc-bench: the worker applied nothing for %u s"
					" (%" PRIu64 " of %" PRIu64 " events, %" PRIu64 " seat"
					" requests outstanding)\n", STALL_S, events, target,
					__atomic_load_n(&w->outstanding, __ATOMIC_RELAXED));
				exit(1);
			}
			next_check = now + rte_get_tsc_hz() / 10;
		}
		if (!done || !done_then)
			loops_then = loops;
		done_then = done;
		next = now + every;
	}
}

struct sample {
	double events_per_s, dgrams_per_s, busy_cpe, wall_cpe, busy_share;
	double dgrams_per_loop; /* datagrams a worker loop that found work */
	double joins, moves, leaves, noops; /* shares of applied events */
	/* --stages: hc_members_apply's stages, cycles an event (the rest of
	 * busy_cpe is everything else: receive, checks, sequencing, decoding,
	 * hand-over, reports pushed, decisions taken in) */
	double lookup_cpe, prefetch_cpe, ops_cpe;
	/* --control real: the share of the window the control core spent in
	 * polls that found work, and the reports it took a second of that */
	double ctl_busy_share, ctl_changes_per_busy_s;
};


static struct rte_ring *staging; /* frames built before a window starts */
static int stages;               /* --stages: the apply's stages timed */
static uint32_t pick_memo;       /* --pick-memo: records kept throughout */

/* --callgrind: the timed part of a chunk starts (stats zeroed) or ends
 * (dumped, named after the case and chunk). */
static void cg_begin(void)
{
#ifdef HC_HAVE_CALLGRIND
	if (callgrind)
		CALLGRIND_ZERO_STATS;
#endif
}

static void cg_end(unsigned k, uint64_t events, uint64_t dgrams, uint64_t loops,
		   uint64_t busy_loops)
{
	if (!callgrind)
		return;
	static unsigned dumps;
	char name[64];
	snprintf(name, sizeof(name), "batch%u-chunk%u", k, ++dumps);
#ifdef HC_HAVE_CALLGRIND
	CALLGRIND_DUMP_STATS_AT(name);
#endif
	printf("hc-bench: callgrind dump %s: %" PRIu64 " events in %" PRIu64 " datagrams, "
	       "worker loops %" PRIu64 " (%" PRIu64 " found work)\n", name, events, dgrams,
	       loops, busy_loops);
	fflush(stdout);
}
/* Count MOVE records on the wire (the port's TX ring) and free them. */
static uint64_t wire_records(uint64_t *datagrams)
{
	struct rte_mbuf *ms[64];
	uint64_t recs = 0;
	unsigned n = rte_ring_dequeue_burst(tx_ring, (void **)ms, 64, NULL);
	for (unsigned i = 0; i < n; i++) {
		const struct hc_hdr *h = rte_pktmbuf_mtod_offset(ms[i], const struct hc_hdr *,
								 HC_FRAME_HDR_LEN);
		if (h->type == HC_MSG_MOVE)
			recs += rte_be_to_cpu_16(h->record_count);
		rte_pktmbuf_free(ms[i]);
	}
	*datagrams += n;
	return recs;
}

/*
 * Directive emission: the main lcore plays the control core, turning
 * `total` picked users (spread over 16 gateways) into MOVE records with
 * hc_tx (batched per gateway, checksummed frames handed to the worker,
 * which transmits them on its TX queue); directives are counted on the
 * wire, i.e. taken from the port's TX ring.  Returns directives/s.
 * full: DIR_EMIT the MOVEs alone; DIR_SEATS each also holds its seat and
 * is recorded in flight, the directive holding the seat as move_picked
 * (hc_decide.c) does (all `total` stay outstanding: the worst case, an
 * index of ten million cold keys); DIR_DONE the whole life of a directive
 * as the appliance lives it: seat and record, then the user's JOIN
 * DIR_WINDOW directives later, admitted on the held seat as seat_request
 * admits it, which completes the directive (*incomplete counts those that
 * did not, and seats neither held nor taken at the end).  Not here: the
 * JOIN's leave of its old room and its answer to the worker, and the
 * lookup an ordinary (unmoved) JOIN makes in the directive index.
 */
enum { DIR_EMIT, DIR_SEATS, DIR_DONE };
/* their case names, by the enum; "directives" alone runs all three */
static const char *const dir_case_names[] = {"directives", "directives_with_seats",
					     "directives_completed"};
/* the event cases: events per datagram */
static const struct { const char *name; unsigned k; } batch_cases[] = {
	{"batch64", 64}, {"batch1", 1}};
#define DIR_WINDOW 65536u /* in flight: a balancer tick's transfers
			     (HC_BAL_MAX_TRANSFERS) */
static uint32_t dir_room(uint64_t i)
{
	return 1 + (uint32_t)(i / 90); /* 90 moves into each room (max 100) */
}

/* The JOIN of directive j's user arrives: admitted on the seat its
 * directive held, which completes it, as seat_request (hc_decide.c) does;
 * 1 if all of that happened. */
static int dir_join(struct hc_rooms *book, struct hc_directives *dirs, uint64_t j)
{
	uint64_t user = hc_gen_user_id((uint32_t)j);
	uint32_t to = dir_room(j);
	return hc_directives_take_seat(dirs, user, to) == HC_DIR_SEAT_TAKEN &&
	       hc_rooms_admit_on_seat(book, to, 0) == HC_ROOMS_ADMITTED_KEPT;
}

/* What hc_decide's prefetch_change fetches for directive j's user: a
 * pick's, the directive index; a JOIN's, that and the reservation index. */
static void dir_prefetch(struct hc_rooms *book, struct hc_directives *dirs, uint64_t j,
			 int stage, int join)
{
	uint64_t user = hc_gen_user_id((uint32_t)j);
	if (join)
		hc_rooms_prefetch_user(book, user, stage);
	hc_directives_prefetch(dirs, user, stage);
}

/* The look-ahead hc_decide_poll does over a burst of changes (its
 * LOOKAHEAD_INDEX / _RECORD), for the directive j's user: index lines 16
 * directives ahead, records 8 ahead. */
static void dir_lookahead(struct hc_rooms *book, struct hc_directives *dirs, uint64_t j,
			  uint64_t total, int join)
{
	if (j + 16 < total)
		dir_prefetch(book, dirs, j + 16, 1, join);
	if (j + 8 < total)
		dir_prefetch(book, dirs, j + 8, 2, join);
}


static double measure_directives(struct hc_dataplane *dp, uint64_t total, double *dgram_s,
				 uint64_t *lost, int full, uint64_t *incomplete)
{
	static struct hc_tx tx;
	static struct hc_policy pol;
	static struct hc_rooms book;
	static struct hc_directives dirs;
	static int ready;
	static unsigned rep;
	if (!ready) {
		if (hc_tx_init(&tx, dp, 1) != 0)
			return 0;
		hc_policy_defaults(&pol);
		ready = 1;
	}
	*incomplete = 0;
	if (full != DIR_EMIT) {
		/* the control core's whole path: a reserved seat in the
		 * destination and a tracked directive for every MOVE */
		char name[32];
		snprintf(name, sizeof(name), "bench_book_%u", rep);
		uint32_t rooms = (uint32_t)(total / 90 + 16);
		uint64_t cap = (full == DIR_DONE ? DIR_WINDOW : total) + 1024;
		if (hc_rooms_init(&book, name, &pol, rooms + 1, (uint32_t)cap,
				  rte_get_tsc_hz()) != 0) {
			fprintf(stderr, "hc-bench: no memory for a seat book of %" PRIu64
				" reservations (EAL -m)\n", cap);
			return 0;
		}
		snprintf(name, sizeof(name), "bench_dirs_%u", rep++);
		if (hc_directives_init(&dirs, name, (uint32_t)cap, rte_get_tsc_hz(), 3) != 0) {
			fprintf(stderr, "hc-bench: no memory for %" PRIu64 " directives (EAL -m)\n",
				cap);
			hc_rooms_free(&book);
			return 0;
		}
		hc_directives_on_seat_free(&dirs, hc_rooms_seat_free_cb, &book);
		for (uint32_t r = 1; r <= rooms; r++)
			hc_rooms_open(&book, 0);
	}
	struct hc_peer peers[16];
	for (unsigned g = 0; g < 16; g++)
		peers[g] = (struct hc_peer){.ip_be = rte_cpu_to_be_32(0xC6120002 + g),
			.udp_be = rte_cpu_to_be_16((uint16_t)(40000 + g)), .port_id = 0,
			.mac = {2, 0, 0, 0, 0, (uint8_t)(2 + g)}};
	uint64_t on_wire = 0, dgrams = 0;
	struct rte_ring *txr = dp->workers[0]->from_ctl_tx; /* one worker */
	uint64_t t0 = rte_rdtsc();
	int stalled = 0;
	for (uint64_t i = 0; i < total && !stalled; i++) {
		uint16_t g = (uint16_t)(i & 15);
		uint32_t to = dir_room(i), id = (uint32_t)i + 1;
		if (full == DIR_DONE && i >= DIR_WINDOW) {
			uint64_t j = i - DIR_WINDOW;
			dir_lookahead(&book, &dirs, j, total, 1);
			*incomplete += !dir_join(&book, &dirs, j);
		}
		if (full != DIR_EMIT) {
			/* move_picked (hc_decide.c): the seat, held by the directive */
			dir_lookahead(&book, &dirs, i, total, 0);
			/* (either failing fails the case; move_picked would send
			 * no MOVE, this still sends one) */
			if (!hc_rooms_hold_seat(&book, to)) {
				*incomplete += 1;
			} else if ((id = hc_directives_add(&dirs, hc_gen_user_id((uint32_t)i), 1, to,
							  g, t0)) == 0) {
				hc_rooms_free_seat(&book, to);
				*incomplete += 1;
			}
		}
		struct hc_move mv = {.user_id = rte_cpu_to_be_64(hc_gen_user_id((uint32_t)i)),
			.from_room = rte_cpu_to_be_32(1 + (uint32_t)(i % 997)),
			.to_room = rte_cpu_to_be_32(to),
			.directive_id = rte_cpu_to_be_32(id)};
		/* the worker's TX ring full: hc_tx would drop the datagram (the
		 * control core resends a directive after its timeout); the
		 * wire's speed is measured here, so wait for the worker, as long
		 * as it takes frames: on a busy host its lcore may not run for
		 * a second, so only no frame taken for STALL_S seconds stops
		 * the case (it did when the worker blocked on a full change
		 * ring: the warm-up's gateways timed out; the case now ends
		 * here, counted lost, instead of hanging) */
		struct progress tx_taken = {0};
		while (rte_ring_free_count(txr) < 17) { /* a flush: 16 */
			on_wire += wire_records(&dgrams);
			if (stalled_for(&tx_taken, __atomic_load_n(&dp->workers[0]->st.ctl_tx,
								   __ATOMIC_RELAXED) + on_wire)) {
				fprintf(stderr, "hc-bench: the worker took no frame for %u s "
					"(TX ring %u free, worker ctl_tx %" PRIu64 ", loops %" PRIu64
					"): the case stops here\n", STALL_S,
					rte_ring_free_count(txr), dp->workers[0]->st.ctl_tx,
					dp->workers[0]->st.loops);
				stalled = 1;
				break;
			}
		}
		while (!stalled &&
		       hc_tx_add(&tx, HC_MSG_MOVE, (uint16_t)(1 + g), &peers[g], &mv, sizeof(mv)) != 0)
			on_wire += wire_records(&dgrams); /* out of mbufs: let the wire drain */
		if ((i & 255) == 255)
			on_wire += wire_records(&dgrams);
		if ((i & 4095) == 4095) /* a poll's worth: mostly full datagrams */
			hc_tx_flush(&tx);
	}
	hc_tx_flush(&tx);
	if (full == DIR_DONE) /* the last window's JOINs */
		for (uint64_t j = total > DIR_WINDOW ? total - DIR_WINDOW : 0; j < total; j++)
			*incomplete += !dir_join(&book, &dirs, j);
	if (stalled)
		*incomplete = total;
	/* the last datagrams, as long as they keep coming */
	struct progress arriving = {0};
	while (on_wire < total && !stalled_for(&arriving, on_wire))
		on_wire += wire_records(&dgrams);
	double dt = (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz();
	*dgram_s = (double)dgrams / dt;
	*lost = total - on_wire;
	/* every seat held by its directive, or taken by its JOIN */
	if (full != DIR_EMIT && book.held_now != (full == DIR_SEATS ? total : 0)) {
		fprintf(stderr, "hc-bench: %u seats held at the end, expected %" PRIu64 "\n",
			book.held_now, full == DIR_SEATS ? total : 0);
		*incomplete += 1;
	}
	if (full != DIR_EMIT) {
		hc_directives_free(&dirs);
		hc_rooms_free(&book);
	}
	return (double)on_wire / dt;
}

/*
 * One window, in chunks: build CHUNK_FRAMES frames of k events (not
 * timed; each flushed to memory once built, as a NIC's DMA leaves it,
 * unless --frames-cached: frame_to_memory), hand them to the worker's RX ring at once and, while
 * it works, only stand in for the control core (answer its seat
 * requests) until every event is applied; time only that part.  The
 * producer's cost stays out of the window.
 */
/* The worker's stage cycles (--stages), each a relaxed load: it writes
 * them as it applies (wait_applied returns once the loop that applied a
 * window's last batch has ended). */
static struct hc_members_cycles stage_cycles(const struct hc_worker *w)
{
	return (struct hc_members_cycles){
		.lookup = __atomic_load_n(&w->members.cyc.lookup, __ATOMIC_RELAXED),
		.prefetch = __atomic_load_n(&w->members.cyc.prefetch, __ATOMIC_RELAXED),
		.ops = __atomic_load_n(&w->members.cyc.ops, __ATOMIC_RELAXED)};
}

/* A window's chunks of k-event datagrams: --chunks, else 8 (64 events:
 * 4,194,304) or 32 (one: 262,144); the settle before a case's windows
 * takes 2 (or the window, if smaller). */
static unsigned window_chunks(unsigned k, unsigned win_chunks)
{
	if (win_chunks != 0)
		return win_chunks; /* (bench/peers' smoke test: small windows) */
	return k == 1 ? 32 : 8;
}

static unsigned settle_chunks(unsigned chunks)
{
	return chunks < 2 ? chunks : 2;
}

static struct sample measure(const struct hc_worker *w, unsigned k, unsigned chunks)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t e = 0, d = 0, b = 0, ticks = 0, cb = 0, cn = 0, bl = 0;
	struct hc_members_stats m0 = w->members.st;
	uint64_t y_lookup = 0, y_prefetch = 0, y_ops = 0;

	for (unsigned c = 0; c < chunks; c++) {
		for (unsigned i = 0; i < CHUNK_FRAMES; i++) {
			struct rte_mbuf *m;
			while ((m = make_frame(k, NULL, 0)) == NULL)
				drain_changes();
			while (rte_ring_enqueue(staging, m) != 0)
				drain_changes();
		}
		uint64_t e0 = w->st.events, d0 = w->st.event_datagrams, b0 = w->st.busy_tsc;
		uint64_t cb0 = ctl_busy_tsc, cn0 = ctl_changes;
		uint64_t l0 = w->st.loops, bl0 = w->st.busy_loops;
		struct hc_members_cycles y0 = stage_cycles(w), y1; /* (as e0, b0) */
		uint64_t target = e0 + (uint64_t)CHUNK_FRAMES * k;
		rte_mb(); /* (the frames' flushes done before the clock starts) */
		cg_begin();
		uint64_t t0 = rte_rdtsc();
		void *burst[512];
		unsigned n;
		while ((n = rte_ring_dequeue_burst(staging, burst, 512, NULL)) > 0) {
			for (unsigned done = 0, put; done < n; done += put) {
				put = rte_ring_enqueue_burst(rx_ring, burst + done, n - done, NULL);
				/* the RX ring full: the worker may be waiting for
				 * room for its reports (with leases nothing else
				 * stops it), so take them meanwhile */
				if (put == 0)
					drain_changes();
			}
		}
		wait_applied(w, target);
		ticks += rte_rdtsc() - t0;
		y1 = stage_cycles(w);
		y_lookup += y1.lookup - y0.lookup;
		y_prefetch += y1.prefetch - y0.prefetch;
		y_ops += y1.ops - y0.ops;
		cg_end(k, __atomic_load_n(&w->st.events, __ATOMIC_RELAXED) - e0,
		       __atomic_load_n(&w->st.event_datagrams, __ATOMIC_RELAXED) - d0,
		       __atomic_load_n(&w->st.loops, __ATOMIC_RELAXED) - l0,
		       __atomic_load_n(&w->st.busy_loops, __ATOMIC_RELAXED) - bl0);
		e += __atomic_load_n(&w->st.events, __ATOMIC_RELAXED) - e0;
		d += __atomic_load_n(&w->st.event_datagrams, __ATOMIC_RELAXED) - d0;
		b += __atomic_load_n(&w->st.busy_tsc, __ATOMIC_RELAXED) - b0;
		bl += __atomic_load_n(&w->st.busy_loops, __ATOMIC_RELAXED) - bl0;
		cb += ctl_busy_tsc - cb0;
		cn += ctl_changes - cn0;
	}
	double dt = (double)ticks / (double)hz;
	struct sample s = {
		.events_per_s = (double)e / dt, .dgrams_per_s = (double)d / dt,
		.busy_cpe = e ? (double)b / (double)e : 0,
		.wall_cpe = e ? (double)ticks / (double)e : 0,
		.busy_share = (double)b / (double)ticks,
		.dgrams_per_loop = bl ? (double)d / (double)bl : 0,
		.lookup_cpe = e ? (double)y_lookup / (double)e : 0,
		.prefetch_cpe = e ? (double)y_prefetch / (double)e : 0,
		.ops_cpe = e ? (double)y_ops / (double)e : 0,
		.ctl_busy_share = (double)cb / (double)ticks,
		.ctl_changes_per_busy_s = cb ? (double)cn / ((double)cb / (double)hz) : 0,
	};
	struct hc_members_stats m1 = w->members.st;
	double all = (double)((m1.joins - m0.joins) + (m1.moves - m0.moves) +
			      (m1.leaves - m0.leaves) + (m1.noops - m0.noops));
	if (all > 0) {
		s.joins = (double)(m1.joins - m0.joins) / all;
		s.moves = (double)(m1.moves - m0.moves) / all;
		s.leaves = (double)(m1.leaves - m0.leaves) / all;
		s.noops = (double)(m1.noops - m0.noops) / all;
	}
	return s;
}

/*
 * Resync throughput: gateway SNAP_GW restarts (a new incarnation drops the
 * users its last incarnation held) and states n users, all new to the
 * table, in SNAPSHOT chunks of 88 members (a 1500-byte MTU).  Timed from
 * the first chunk handed to the port until the last sweep has run and
 * every member is counted: members restored per second.
 */
#define SNAP_GW (GATEWAYS + 1)
/* members in one 1500-MTU chunk: (1472 - 40 - 16) / 24 */
#define SNAP_PER ((uint32_t)((HC_MAX_PAYLOAD_MTU1500 - sizeof(struct hc_hdr) - \
			      sizeof(struct hc_snapshot_prefix)) / sizeof(struct hc_member)))
/*
 * The picks case: the balancer's picks as the worker answers them, by
 * one scan of its slots (hc_members_pick_step, a step a loop).  `asks`
 * picks of `each` users, from rooms 1, 2, ... (to room 1 + the next), as
 * one balancer round asks them; timed from the asks on the decision ring
 * to the last PICK_END, the worker otherwise idle; the scan reads the
 * positions ever used (users.fresh: positions=) (rooms: the stream's
 * room ids, 1 .. rooms - 1).  Returns the seconds;
 * *picked the users picked.  The cooldown is 0: every rep picks again.
 */
static double measure_picks(uint32_t rooms, uint32_t asks, uint16_t each, uint64_t *picked)
{
	static struct hc_decision dec[HC_PICK_ASKS];
	uint64_t picks0 = picks_seen, ends0 = pick_ends_seen;
	for (uint32_t i = 0; i < asks; i++)
		dec[i] = (struct hc_decision){.kind = HC_DEC_PICK, .room_id = 1 + i % (rooms - 1),
			.pick = {.to_room = 1 + (i + 1) % (rooms - 1), .count = each,
				 .cooldown_s = 0}};
	uint64_t t0 = rte_rdtsc(), limit = t0 + 120 * rte_get_tsc_hz();
	for (uint32_t done = 0; done < asks;)
		done += hc_chan_give_decisions(bench_dp, 0, dec + done, asks - done);
	while (pick_ends_seen - ends0 < asks && rte_rdtsc() < limit)
		drain_changes();
	double s = (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz();
	*picked = picks_seen - picks0;
	return pick_ends_seen - ends0 == asks ? s : 0.0;
}

/* the rooms its members are in: 1 .. 1,000, fewer when --rooms is (a room
 * past max_rooms is a bad record: the snapshot never completed) */
static uint32_t snap_rooms = 1000;

static struct rte_mbuf *make_chunk(uint32_t inc, uint32_t seqno, uint32_t index,
				   uint32_t chunks, uint32_t total, uint64_t first_user,
				   uint32_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		return NULL;
	uint16_t plen = (uint16_t)(sizeof(struct hc_hdr) + sizeof(struct hc_snapshot_prefix) +
				   n * sizeof(struct hc_member));
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(HC_FRAME_HDR_LEN + plen));
	uint8_t *p = f + HC_FRAME_HDR_LEN;
	hc_proto_fill_hdr(p, HC_MSG_SNAPSHOT, SNAP_GW, (uint16_t)n, inc, 0, seqno);
	struct hc_snapshot_prefix pf = {.snapshot_id = rte_cpu_to_be_32(inc),
		.chunk_index = rte_cpu_to_be_32(index), .chunk_count = rte_cpu_to_be_32(chunks),
		.total_users = rte_cpu_to_be_32(total)};
	memcpy(p + sizeof(struct hc_hdr), &pf, sizeof(pf));
	uint8_t *rec = p + sizeof(struct hc_hdr) + sizeof(pf);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t u = hc_gen_user_id((uint32_t)(first_user + i));
		struct hc_member mb = {.user_id = rte_cpu_to_be_64(u),
			.room_id = rte_cpu_to_be_32(1 + (uint32_t)((first_user + i) % snap_rooms))};
		memcpy(rec + i * sizeof(mb), &mb, sizeof(mb));
	}
	if (bench_keys != NULL)
		hc_auth_seal(p, plen, bench_keys->gw[SNAP_GW].key[0], 0);
	put_headers(m, f, plen);
	frame_to_memory(m, f, HC_FRAME_HDR_LEN + plen);
	return m;
}

static double measure_snapshot(const struct hc_worker *w, uint32_t rep, uint32_t users,
			       uint32_t n)
{
	uint32_t chunks = (n + SNAP_PER - 1) / SNAP_PER;
	uint64_t first = (uint64_t)users + (uint64_t)(rep % 2) * n; /* new to the table */
	void *frames[65536];
	if (chunks > 65536)
		return 0;
	for (uint32_t c = 0; c < chunks; c++) {
		uint32_t k = c + 1 < chunks ? SNAP_PER : n - c * SNAP_PER;
		while ((frames[c] = make_chunk(rep + 1, c + 1, c, chunks, n,
					       first + (uint64_t)c * SNAP_PER, k)) == NULL)
			drain_changes();
	}
	uint64_t sweeps0 = w->members.st.sweeps, set0 = w->members.st.snap_set;
	rte_mb(); /* (the frames' flushes done before the clock starts) */
	uint64_t t0 = rte_rdtsc();
	for (uint32_t c = 0; c < chunks; drain_changes())
		c += rte_ring_enqueue_burst(rx_ring, frames + c, chunks - c > 512 ? 512 : chunks - c,
					    NULL);
	/* a new incarnation's sweep (not at first contact), then the snapshot's;
	 * no progress for STALL_S seconds is a failure with the counters, not
	 * a hang */
	struct progress applying = {0};
	while (__atomic_load_n(&w->members.st.sweeps, __ATOMIC_RELAXED) < sweeps0 + (rep ? 2 : 1) ||
	       __atomic_load_n(&w->members.st.snap_set, __ATOMIC_RELAXED) < set0 + n) {
		drain_changes();
		uint64_t progress =
			__atomic_load_n(&w->members.st.snap_set, __ATOMIC_RELAXED) +
			__atomic_load_n(&w->members.st.sweeps, __ATOMIC_RELAXED) +
			__atomic_load_n(&w->members.st.requests, __ATOMIC_RELAXED);
		if (stalled_for(&applying, progress)) {
			const struct hc_members_stats *s = &w->members.st;
			fprintf(stderr, "hc-bench: snapshot rep %u: no progress for %u s: snap_set %" PRIu64
				" of %u, sweeps %" PRIu64 " of %u, requests %" PRIu64 ", refused %" PRIu64
				", table_full %" PRIu64 ", snap_conflicts %" PRIu64 ", pending %u, deferred %u,"
				" gateway deaths %" PRIu64 ", lost %" PRIu64 ", stale %" PRIu64
				", snapshots abandoned %" PRIu64 ", over the staging cap %" PRIu64 "\n", rep,
				STALL_S,
				s->snap_set - set0, n, s->sweeps - sweeps0, rep ? 2 : 1, s->requests,
				s->refused, s->table_full, s->snap_conflicts, w->members.pend.n_pending,
				w->members.pend.n_deferred, w->seq.st.deaths, w->seq.st.lost,
				w->seq.st.stale, w->snaps.st.abandoned, w->snaps.st.over_limit);
			exit(1);
		}
	}
	uint64_t dt = rte_rdtsc() - t0;
	if (w->members.st.snap_set - set0 != n)
		printf("hc-bench: snapshot rep %u: %" PRIu64 " members applied, expected %u\n",
		       rep, w->members.st.snap_set - set0, n);
	return (double)n * (double)rte_get_tsc_hz() / (double)dt;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: hc-bench [EAL options] -- [options]\n"
		"Events/s and cycles/event of one worker core (docs/benchmarks.md).\n"
		"  --users N      users (1000..)                         [1000000]\n"
		"  --rooms N      rooms (2..)                            [20000]\n"
		"  --reps N       repetitions, the median reported (1..99) [5]\n"
		"  --case C       only batch64, batch1, directives (its three cases) or\n"
		"                 one of them (directives_with_seats, directives_completed),\n"
		"                 or snapshot, or picks (the balancer's picks answered by\n"
		"                 one scan of the worker's slots)\n"
		"  --stream N     events in the stream (1024..; default: what the run takes,\n"
		"                 and a quarter more; a case that replays it fails)\n"
		"  --no-report    no report lines\n"
		"  --lease-seats N  seats leased per grant by the stand-in (0: none) [16]\n"
		"  --control K    who takes the worker's reports on the main lcore:\n"
		"                 stand-in (a book of room counts that admits every\n"
		"                 request and leases as the control core does) or real\n"
		"                 (the appliance's control core, hc_decide_poll; batch\n"
		"                 cases only, at most 60 users a room, with reports and\n"
		"                 no --lease-seats)   [stand-in]\n"
		"  --burst N      frames a worker loop reads at most, 1..256 (default: the\n"
		"                 appliance's, 128)\n"
		"  --auth         datagrams sealed and checked (test key)\n"
		"  --rx-csum-offload  frames marked checksum-verified, as a NIC with\n"
		"                 RX checksum offload marks them (default: verified\n"
		"                 by the worker, as on virtual devices)\n"
		"  --frames-cached  frames left in the main lcore's caches, where it\n"
		"                 wrote them (default: flushed to memory once built, as\n"
		"                 a NIC's DMA leaves them; x86 only)\n"
		"  --chunks N     chunks of 8,192 datagrams per window (0: 8 or 32)\n"
		"  --callgrind    one callgrind dump per chunk's timed part (under valgrind)\n"
		"  --pick-memo N  the worker's pick memo holds N users picked and gone\n"
		"                 (0..4096), as while the balancer moves users [0]\n"
		"  --warm W       all: every user has been in the table before the\n"
		"                 stream starts (those absent then joined and left: a\n"
		"                 long-running appliance, their keys kept); present:\n"
		"                 only those present then joined (a fresh one) [all]\n"
		"  --max-users N  the worker's table (default: users + users/64 + 4096,\n"
		"                 the snapshot case 3.25 x users; below the users, new\n"
		"                 users' keys evict gone users'; at least the users\n"
		"                 present where the stream starts)\n"
		"  --stages       the worker's apply timed by stage (lookup, prefetch,\n"
		"                 ops; stage_* on the case line, cycles an event; four\n"
		"                 TSC reads a batch more)\n"
		"  --help         this text\n"
		"  --version      the program's version\n");
}

int main(int argc, char **argv)
{
	/* --help and --version before EAL init: no hugepages needed */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) { usage(stdout); return 0; }
		if (strcmp(argv[i], "--version") == 0) { hc_cli_version("hc-bench"); return 0; }
	}
	int eal = rte_eal_init(argc, argv);
	if (eal < 0) {
		fprintf(stderr, "hc-bench: EAL init failed (see above)\n");
		return rte_errno == EINVAL ? 2 : 1; /* EINVAL: a bad command line */
	}
	argc -= eal;
	argv += eal;
	uint32_t users = 1000000, rooms = 20000;
	uint32_t burst = 0; /* --burst: the worker's RX burst (0: the appliance's default) */
	int reps = 5;
	const char *only = NULL;
	int report = 1, auth = 0;
	unsigned win_chunks = 0; /* --chunks: chunks per window (0: 8 or 32) */
	int stream_given = 0;
	static const struct option lo[] = {{"users", 1, 0, 'u'}, {"rooms", 1, 0, 'r'},
		{"reps", 1, 0, 'n'}, {"case", 1, 0, 'c'},
		{"stream", 1, 0, 'S'}, {"no-report", 0, 0, 'R'}, {"auth", 0, 0, 'A'},
		{"chunks", 1, 0, 'C'}, {"callgrind", 0, 0, 'G'}, {"lease-seats", 1, 0, 'L'},
		{"rx-csum-offload", 0, 0, 'O'}, {"frames-cached", 0, 0, 'F'},
		{"burst", 1, 0, 'B'}, {"stages", 0, 0, 'T'}, {"pick-memo", 1, 0, 'P'},
		{"control", 1, 0, 'K'}, {"warm", 1, 0, 'W'}, {"max-users", 1, 0, 'M'},
		{0, 0, 0, 0}};
	int control_real = 0, lease_given = 0;
	int warm_all = 1;       /* --warm all */
	uint32_t max_users = 0; /* --max-users (0: sized to the users) */
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'u': users = (uint32_t)hc_cli_u64("hc-bench", "users", optarg, 1000, UINT32_MAX); break;
		case 'r': rooms = (uint32_t)hc_cli_u64("hc-bench", "rooms", optarg, 2, UINT32_MAX); break;
		case 'n': reps = (int)hc_cli_u64("hc-bench", "reps", optarg, 1, 99); break;
		case 'c': only = optarg; break;
		case 'S': hc_gen_stream_len = hc_cli_u64("hc-bench", "stream", optarg, 1024, UINT64_MAX);
			stream_given = 1;
			break;
		case 'C': win_chunks = (unsigned)hc_cli_u64("hc-bench", "chunks", optarg, 0, 1024); break;
		case 'R': report = 0; break;
		case 'A': auth = 1; break;
		case 'G': callgrind = 1; break;
		case 'T': stages = 1; break;
		case 'O': rx_csum_offload = 1; break;
		case 'F': frames_cached = 1; break;
		case 'L': lease_seats = (uint32_t)hc_cli_u64("hc-bench", "lease-seats", optarg, 0, 4096);
			lease_given = 1;
			break;
		case 'B': burst = (uint32_t)hc_cli_u64("hc-bench", "burst", optarg, 1, 256); break;
		case 'K':
			if (strcmp(optarg, "real") != 0 && strcmp(optarg, "stand-in") != 0) {
				fprintf(stderr, "hc-bench: --control %s: real or stand-in\n", optarg);
				return 2;
			}
			control_real = strcmp(optarg, "real") == 0;
			break;
		case 'P':
			pick_memo = (uint32_t)hc_cli_u64("hc-bench", "pick-memo", optarg, 0,
							 HC_PICKMEMO_KEPT);
			break;
		case 'W':
			if (strcmp(optarg, "all") != 0 && strcmp(optarg, "present") != 0) {
				fprintf(stderr, "hc-bench: --warm %s: all or present\n", optarg);
				return 2;
			}
			warm_all = strcmp(optarg, "all") == 0;
			break;
		case 'M':
			max_users = (uint32_t)hc_cli_u64("hc-bench", "max-users", optarg, 1024,
							 HC_USERTAB_MAX_CAPACITY);
			break;
		default: hc_cli_unknown("hc-bench");
		}
	}
	if (rooms < snap_rooms)
		snap_rooms = rooms;
	const char *all[] = {batch_cases[0].name, batch_cases[1].name, "picks", "snapshot",
			     dir_case_names[DIR_EMIT], dir_case_names[DIR_SEATS],
			     dir_case_names[DIR_DONE]};
	int known = only == NULL;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && !known; i++)
		known = strcmp(only, all[i]) == 0;
	if (!known) { /* it would measure nothing, and say nothing */
		fprintf(stderr, "hc-bench: --case %s: not a case (", only);
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			fprintf(stderr, "%s%s", i ? ", " : "", all[i]);
		fprintf(stderr, ")\n");
		return 2;
	}
	if (only != NULL && (strncmp(only, "directives", 10) == 0 || strcmp(only, "picks") == 0 ||
			     strcmp(only, "snapshot") == 0) && !report) {
		/* (it would run nothing, print nothing and exit 0) */
		fprintf(stderr, "hc-bench: --case %s needs the control rings: not with "
			"--no-report\n", only);
		return 2;
	}
	if (control_real && (only == NULL || strncmp(only, "batch", 5) != 0 || !report ||
			     lease_given)) {
		fprintf(stderr, "hc-bench: --control real: --case batch64 or batch1 only, with "
			"reports, and the control core's own leases (no --lease-seats)\n");
		return 2;
	}
	/* the real control core refuses JOINs into rooms at the policy's max
	 * (100), which the stand-in admits: another workload, and a warm-up
	 * that never ends; a refusal fails the case.  At 60 users a room or
	 * fewer (about 46 present) the fullest room's users stay far below
	 * max, but that is not enough at a few thousand users: the book
	 * counts an admitted mover in both rooms until the worker reports it
	 * out (HC_CHG_VACATED), a round trip that spans the worker's burst,
	 * and there each user moves hundreds of times a second: at 1,000
	 * users and 50 rooms (20 a room) the fullest room's book count
	 * reached 86 in a batch64 window (63 at 200 rooms, 22 at 1,000),
	 * and a host that delays the round trip pushes it to max */
	if (control_real && users > (uint64_t)rooms * 60) {
		fprintf(stderr, "hc-bench: --control real: at most 60 users a room (--users "
			"%u needs --rooms %u or more): the control core refuses JOINs into "
			"full rooms (max 100); at a few thousand users far more: movers "
			"count in both rooms for a round trip\n", users, (users + 59) / 60);
		return 2;
	}
#ifndef HC_HAVE_CALLGRIND
	if (callgrind) {
		fprintf(stderr, "hc-bench: --callgrind: built without valgrind/callgrind.h\n");
		return 2;
	}
#endif
	if (auth) {
		bench_keys = calloc(1, sizeof(*bench_keys));
		if (bench_keys == NULL || hc_auth_init() != 0) {
			fprintf(stderr, "hc-bench: --auth: no memory or no libsodium\n");
			return 1;
		}
		for (unsigned g = 1; g <= SNAP_GW; g++) {
			memcpy(bench_keys->gw[g].key[0], bench_key, HC_AUTH_KEY_LEN);
			bench_keys->gw[g].have[0] = 1;
		}
		bench_keys->n_gateways = bench_keys->n_keys = SNAP_GW;
		printf("hc-bench: --auth: every datagram sealed, gateways 1..%u, slot 0\n", SNAP_GW);
	}
	unsigned worker_lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	if (worker_lcore >= RTE_MAX_LCORE) {
		fprintf(stderr, "hc-bench: needs two lcores (-l 0,1)\n");
		return 2;
	}

	static struct hc_config cfg;
	/* --auth installs keys below; the real control core keeps no state
	 * file (its default is the appliance's, in /var/lib) */
	char *noargs[] = {"hc-bench", "--no-auth", "--state-file", "none", NULL};
	hc_config_parse(&cfg, 4, noargs);
	if (burst != 0)
		cfg.burst = burst;
	/* the snapshot case needs room for its users' second incarnation;
	 * the others get what an operator would size for them (the user
	 * table as full as it would be: its probes as long) */
	int snapshot_case = only == NULL || strcmp(only, "snapshot") == 0;
	if (snapshot_case) {
		cfg.max_users = max_users != 0 ? max_users : users * 3 + users / 4;
		/* its gateway's snapshot names every user: above the default
		 * --max-snapshot-users (262,144) it was abandoned unapplied and
		 * the case hung (1 M users) */
		cfg.max_snapshot_users = users;
	}
	else
		cfg.max_users = max_users != 0 ? max_users : users + users / 64 + 4096;
	cfg.max_rooms = rooms + 1;
	sb_users = calloc(rooms + 1, sizeof(*sb_users));
	sb_leased = calloc(rooms + 1, sizeof(*sb_leased));
	sb_held = calloc(rooms + 1, 1);
	sb_grow = calloc(rooms + 1, 1);
	if (sb_users == NULL || sb_leased == NULL || sb_held == NULL || sb_grow == NULL) {
		fprintf(stderr, "hc-bench: no memory for the stand-in's book\n");
		return 1;
	}
	cfg.mbufs = 4 * CHUNK_FRAMES - 1;
	cfg.mbufs_explicit = 1; /* (the bench's own size, not the workers') */
	/* under callgrind wall time runs ~100x slower: building a chunk would
	 * outlast the dead-gateway timeout, and the gateways' users would be
	 * dropped inside the measured window */
	if (callgrind)
		cfg.gateway_timeout_ms = 0;
	/* likewise the snapshot case: at 1 M users its gateway is silent while
	 * the 17,000 chunks of its snapshot are built, longer than the timeout;
	 * and the directives case: the warm-up's gateways are silent while it
	 * runs, and their users' drops filled the change ring nobody drains
	 * there, so the worker stopped transmitting (the case hung) */
	if (snapshot_case || only == NULL || strncmp(only, "directives", 10) == 0)
		cfg.gateway_timeout_ms = 0;
	rx_ring = rte_ring_create("bench_rx", 2 * CHUNK_FRAMES, (int)rte_socket_id(),
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	staging = rte_ring_create("bench_staging", 2 * CHUNK_FRAMES, (int)rte_socket_id(),
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	tx_ring = rte_ring_create("bench_tx", 65536, (int)rte_socket_id(),
						   RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (rx_ring == NULL || tx_ring == NULL || staging == NULL ||
	    rte_eth_from_rings("bench0", &rx_ring, 1, &tx_ring, 1, rte_socket_id()) < 0) {
		fprintf(stderr, "hc-bench: cannot create the net_ring port\n");
		return 1;
	}
	static struct hc_dataplane dp;
	if (hc_dataplane_init(&dp, &cfg, 1, &worker_lcore, report) != 0 || hc_ports_init(&dp) != 0) {
		fprintf(stderr, "hc-bench: dataplane setup failed (raise -m?)\n");
		return 1;
	}
	/* --auth: the worker checks every tag, as the appliance with --keys
	 * (the dataplane owns the keyring from here; it outlives the run) */
	if (bench_keys != NULL && hc_dp_keys_install(&dp, bench_keys) != 0) {
		fprintf(stderr, "hc-bench: cannot install the keys\n");
		return 1;
	}
	pool = dp.pool;
	struct hc_worker *w = dp.workers[0];
	w->members.time_stages = stages; /* (before the worker runs a batch) */
	/* --pick-memo: the worker's memo holds that many users picked and
	 * gone (none of the stream's), within a cooldown of 65,535 s, as
	 * while the balancer moves users: every new user's slot looks
	 * there (hc_pickmemo.h) */
	uint32_t now_s = (uint32_t)(rte_rdtsc() / rte_get_tsc_hz()) + 1; /* (the worker's clock) */
	if (pick_memo > 0)
		hc_pickmemo_window(&w->members.memo, UINT16_MAX, now_s);
	for (uint32_t i = 0; i < pick_memo; i++)
		hc_pickmemo_keep(&w->members.memo, hc_gen_user_id(users + 1 + i), now_s, now_s);
	if (w->members.memo.ix.count != pick_memo) {
		fprintf(stderr, "hc-bench: the pick memo holds %u records, not %u\n",
			w->members.memo.ix.count, pick_memo);
		return 1;
	}
	bench_dp = &dp;
	if (control_real) {
		static struct hc_policy ctl_pol;
		static struct hc_decide ctl;
		hc_policy_defaults(&ctl_pol);
		if (hc_decide_init(&ctl, &dp, &ctl_pol, cfg.max_reservations, 1) != 0) {
			fprintf(stderr, "hc-bench: --control real: no memory for the control "
				"core (raise -m?)\n");
			return 1;
		}
		real_control = &ctl;
	}
	changes = w->to_ctl_changes;
	decisions = w->from_ctl_decisions;
	if (!stream_given) { /* what the batch cases take, and a margin */
		uint64_t taken = 0;
		for (unsigned ci = 0; ci < sizeof(batch_cases) / sizeof(batch_cases[0]); ci++) {
			if (only != NULL && strcmp(only, batch_cases[ci].name) != 0)
				continue;
			unsigned k = batch_cases[ci].k, chunks = window_chunks(k, win_chunks);
			taken += (uint64_t)(settle_chunks(chunks) + (unsigned)reps * chunks) *
				 CHUNK_FRAMES * k;
		}
		hc_gen_stream_len = hc_gen_stream_for(taken);
	}
	printf("hc-bench: building %" PRIu64 " events over %u users / %u rooms\n",
	       hc_gen_stream_len, users, rooms);
	if (hc_gen_build(users, rooms) != 0) {
		perror("hc-bench");
		exit(1);
	}
	/* (a table that cannot hold them: the warm-up would never end) */
	if (hc_gen_present > cfg.max_users) {
		fprintf(stderr, "hc-bench: --max-users %u: the %" PRIu64 " users present where the "
			"stream starts need a table of that many or more\n", cfg.max_users,
			hc_gen_present);
		exit(2);
	}
	double rtt_start = xcore_rtt_ns(worker_lcore);
	rte_eal_remote_launch(hc_worker_main, w, worker_lcore);

	/* warm-up (not timed): every user present where the stream starts
	 * joins its room; with --warm all, every user absent then joins a
	 * room and leaves it again, as in an appliance that has run for
	 * long: the worker keeps the keys of users gone (hc_members_pvt.h,
	 * "Gone users") while its table has room.  The passes: the present
	 * users' JOINs, then the absent users' JOINs (refused, FULL, where
	 * the table has no key left: a --max-users below the users), then
	 * their LEAVEs; each gateway's datagrams are sequenced, so each
	 * pass follows the one before */
	static struct hc_event evs[64];
	for (int pass = 0; pass < (warm_all ? 3 : 1); pass++)
	for (uint32_t u0 = 0; u0 < users; u0 += 64 * GATEWAYS)
	for (unsigned g = 1; g <= GATEWAYS; g++) {
		unsigned k = 0;
		for (uint32_t u = u0 + g - 1; u < users && u < u0 + 64 * GATEWAYS; u += GATEWAYS) {
			uint32_t room = hc_gen_start_room(u), absent = room == 0;
			if (absent != (pass > 0))
				continue;
			evs[k++] = (struct hc_event){.user_id = rte_cpu_to_be_64(hc_gen_user_id(u)),
				.room_id = rte_cpu_to_be_32(absent ? 1 + u % rooms : room),
				.op = pass < 2 ? HC_OP_JOIN : HC_OP_LEAVE};
		}
		if (k == 0)
			continue;
		struct rte_mbuf *m;
		while ((m = make_frame(k, evs, (uint16_t)g)) == NULL)
			rte_pause();
		while (rte_ring_enqueue(rx_ring, m) != 0)
			drain_changes();
	}
	/* (the real control core refuses a JOIN into a room at max: then
	 * the warm-up is not the stream's start, and would never end) */
	uint64_t absent_users = users - hc_gen_present; /* (each: a LEAVE, or a FULL) */
	while ((__atomic_load_n(&w->members.n_users, __ATOMIC_RELAXED) < hc_gen_present * 99 / 100 ||
		(warm_all && __atomic_load_n(&w->members.st.leaves, __ATOMIC_RELAXED) +
				     __atomic_load_n(&w->members.st.table_full, __ATOMIC_RELAXED) <
				     absent_users * 99 / 100)) &&
	       control_refused() == 0)
		drain_changes();
	if (control_refused() != 0) {
		fprintf(stderr, "hc-bench: the control core refused %" PRIu64 " JOINs of the warm-up"
			" (rooms at max): not the stream's start; give more rooms\n",
			control_refused());
		exit(1);
	}
	printf("hc-bench: warm: %" PRIu64 " users in the table, %" PRIu64 " gone users' keys "
	       "kept (--warm %s)\n", w->members.n_users,
	       __atomic_load_n(&w->members.st.gone_keys, __ATOMIC_RELAXED),
	       warm_all ? "all" : "present");

	for (unsigned ci = 0; ci < sizeof(batch_cases) / sizeof(batch_cases[0]); ci++) {
		if (only != NULL && strcmp(only, batch_cases[ci].name) != 0)
			continue;
		uint64_t leased0 = w->members.st.leased_joins, asked0 = w->members.st.requests;
		uint64_t evicted0 = w->members.st.gone_keys_evicted;
		uint64_t trimmed0 = w->members.st.gone_keys_trimmed;
		uint64_t waits0 = w->st.ctl_waits; /* the change ring full: the
		                                      stand-in control core behind */
		uint64_t refused0 = control_refused();
		double eps[99], dps[99], bcpe[99], wcpe[99], share[99], dpl[99];
		double s_lookup[99], s_prefetch[99], s_ops[99], s_rest[99];
		double c_busy[99], c_rate[99], c_events[99];
		unsigned chunks = window_chunks(batch_cases[ci].k, win_chunks);
		uint64_t wraps0 = hc_gen_wraps;
		measure(w, batch_cases[ci].k, settle_chunks(chunks));
		for (int r = 0; r < reps; r++) {
			struct sample s = measure(w, batch_cases[ci].k, chunks);
			eps[r] = s.events_per_s; dps[r] = s.dgrams_per_s;
			bcpe[r] = s.busy_cpe; wcpe[r] = s.wall_cpe; share[r] = s.busy_share;
			dpl[r] = s.dgrams_per_loop;
			s_lookup[r] = s.lookup_cpe; s_prefetch[r] = s.prefetch_cpe; s_ops[r] = s.ops_cpe;
			s_rest[r] = s.busy_cpe - s.lookup_cpe - s.prefetch_cpe - s.ops_cpe;
			c_busy[r] = s.ctl_busy_share;
			c_rate[r] = s.ctl_changes_per_busy_s;
			c_events[r] = s.ctl_busy_share > 0 ? s.events_per_s / s.ctl_busy_share : 0;
			if (real_control != NULL)
				printf("hc-bench: %s rep %d: control core busy %.0f %% of the "
				       "window, %.2f M reports a busy second\n", batch_cases[ci].name,
				       r + 1, s.ctl_busy_share * 100, s.ctl_changes_per_busy_s / 1e6);
			printf("hc-bench: %s rep %d: %.2f M events/s, %.2f M datagrams/s, "
			       "%.1f busy cycles/event, worker busy %.0f %% (joins %.0f %%, "
			       "moves %.0f %%, leaves %.0f %%, no-ops %.0f %%)\n", batch_cases[ci].name,
			       r + 1, s.events_per_s / 1e6, s.dgrams_per_s / 1e6, s.busy_cpe,
			       s.busy_share * 100, s.joins * 100, s.moves * 100, s.leaves * 100,
			       s.noops * 100);
		}
		double med = hc_median(eps, reps);
		/* of the JOINs that changed a room, the share applied on a lease */
		uint64_t leased = w->members.st.leased_joins - leased0;
		uint64_t asked = w->members.st.requests - asked0;
		char staged[160] = "";
		if (stages) /* (medians of each stage's own reps) */
			snprintf(staged, sizeof(staged), " stages=1 stage_lookup=%.1f "
				 "stage_prefetch=%.1f stage_ops=%.1f stage_rest=%.1f",
				 hc_median(s_lookup, reps), hc_median(s_prefetch, reps),
				 hc_median(s_ops, reps), hc_median(s_rest, reps));
		/* --control real: what one control core took, and so (the
		 * worker's events over its busy share) how many events a
		 * second it could take from all workers */
		char ctled[200] = "";
		uint64_t refused = control_refused() - refused0;
		if (real_control != NULL)
			snprintf(ctled, sizeof(ctled), " control_busy=%.2f "
				 "control_changes_per_busy_s=%.0f control_events_per_busy_s=%.0f "
				 "control_refused=%" PRIu64, hc_median(c_busy, reps),
				 hc_median(c_rate, reps), hc_median(c_events, reps), refused);
		printf("case=%s events_per_datagram=%u users=%u rooms=%u reps=%d report=%d auth=%d "
		       "rx_csum=%s frames=%s lease_seats=%u leased_share=%.2f events_per_s=%.0f "
		       "datagrams_per_s=%.0f cycles_per_event=%.1f wall_cycles_per_event=%.1f "
		       "worker_busy=%.2f datagrams_per_loop=%.1f xcore_rtt_ns=%.0f ctl_waits=%" PRIu64
		       " burst=%u "
		       "pick_memo=%u control=%s warm=%s max_users=%u gone_keys_evicted=%" PRIu64
		       " gone_keys_trimmed=%" PRIu64 "%s%s%s\n",
		       batch_cases[ci].name, batch_cases[ci].k, users, rooms, reps, report, auth,
		       rx_csum_offload ? "offload" : "software", frames_label(),
		       !report ? 0 : real_control != NULL ? real_control->pol->lease_seats : lease_seats,
		       leased + asked ? (double)leased / (double)(leased + asked) : 0.0, med,
		       hc_median(dps, reps), hc_median(bcpe, reps), hc_median(wcpe, reps),
		       hc_median(share, reps), hc_median(dpl, reps), rtt_start,
		       w->st.ctl_waits - waits0, cfg.burst,
		       __atomic_load_n(&w->members.memo.ix.count, __ATOMIC_RELAXED),
		       real_control != NULL ? "real" : "stand-in", warm_all ? "all" : "present",
		       cfg.max_users, w->members.st.gone_keys_evicted - evicted0,
		       w->members.st.gone_keys_trimmed - trimmed0, ctled, staged,
		       hc_bench_host(rte_get_tsc_hz()));
		/* the worker's end state, every event applied (measure waited
		 * for it): bench/peers/run.sh holds it to Redis's */
		struct hc_state_digest end = {0};
		for (uint32_t room = 1; room <= rooms; room++)
			hc_state_digest_add_room(&end, room,
				__atomic_load_n(&w->members.room_users[room], __ATOMIC_RELAXED));
		const struct hc_slot *slot = w->members.slot;
		for (size_t p = 0; p < w->members.slot_bytes / sizeof(*slot); p++)
			hc_state_digest_add_member(&end, slot[p].user_id, slot[p].room); /* (a free
			                              or gone user's room: 0) */
		hc_state_digest_print(batch_cases[ci].name, &end);
		hc_bench_require(batch_cases[ci].name, med > 0, "0 events/s");
		hc_bench_require(batch_cases[ci].name, refused == 0,
				 "the control core refused JOINs (rooms at max in its book, "
				 "which counts a mover in both rooms until the worker reports it "
				 "out): not the stand-in's workload; at few users a room each "
				 "moves many times a round trip: give more rooms");
		hc_bench_require_fresh(batch_cases[ci].name, wraps0, hc_gen_wraps, hc_gen_stream_len);
	}
	if ((only == NULL || strcmp(only, "picks") == 0) && report) {
		/* (the picks and their ends come on the control rings: not with
		 * --no-report) */
		double sec[99] = {0};
		uint64_t picked = 0, picked_all = 0;
		uint32_t asks = rooms - 1 < 1000 ? rooms - 1 : 1000;
		int all_answered = measure_picks(rooms, asks, 25, &picked) > 0; /* settle */
		for (int r = 0; r < reps && all_answered; r++) {
			/* (a rep not answered within its bound fails the case: its
			 * late PICK_ENDs would end the next rep early) */
			sec[r] = measure_picks(rooms, asks, 25, &picked);
			all_answered = sec[r] > 0;
			picked_all += picked;
			printf("hc-bench: picks rep %d: %u asks of 25 answered by one scan of %u "
			       "positions in %.2f ms, %" PRIu64 " users picked\n", r + 1, asks,
			       w->members.users.fresh, sec[r] * 1e3, picked);
		}
		hc_bench_require("picks", all_answered, "not every ask answered within 120 s");
		double med = hc_median(sec, reps);
		printf("case=picks asks=%u each=25 positions=%u users=%" PRIu64 " reps=%d "
		       "scan_ms=%.4f cycles_per_position=%.2f picked=%" PRIu64 "%s\n", asks,
		       w->members.users.fresh, w->members.n_users, reps, med * 1e3,
		       med * (double)rte_get_tsc_hz() / (double)w->members.users.fresh,
		       picked_all / (uint64_t)reps, hc_bench_host(rte_get_tsc_hz()));
		hc_bench_require("picks", picked_all > 0, "no user picked");
	}
	if ((only == NULL || strcmp(only, "snapshot") == 0) && report) {
		/* (the snapshot's changes need the control rings: not with --no-report) */
		double mps[99];
		uint32_t n = users;
		measure_snapshot(w, 0, users, n); /* settle */
		for (int r = 0; r < reps; r++) {
			mps[r] = measure_snapshot(w, (uint32_t)r + 1, users, n);
			printf("hc-bench: snapshot rep %d: %u members in %u chunks, %.2f M members/s\n",
			       r + 1, n, (n + SNAP_PER - 1) / SNAP_PER, mps[r] / 1e6);
		}
		double med = hc_median(mps, reps);
		printf("case=snapshot members=%u members_per_chunk=%u reps=%d auth=%d rx_csum=%s "
		       "frames=%s members_per_s=%.0f users_in_table=%" PRIu64 "%s\n", n, SNAP_PER,
		       reps, auth, rx_csum_offload ? "offload" : "software", frames_label(),
		       med, w->members.n_users, hc_bench_host(rte_get_tsc_hz()));
		hc_bench_require("snapshot", med > 0, "0 members/s");
	}
	for (int full = DIR_EMIT; full <= DIR_DONE; full++) {
		if (!report)
			break; /* directives need the control rings (not with --no-report) */
		const char *name = dir_case_names[full];
		if (only != NULL && strcmp(only, "directives") != 0 && strcmp(only, name) != 0)
			continue; /* "directives": all three; else the one named */
		double dps[99], dgs[99];
		uint64_t lost = 0, lost_all = 0, inc = 0, inc_all = 0;
		measure_directives(&dp, 1000000, &dgs[0], &lost, full, &inc); /* settle */
		for (int r = 0; r < reps; r++) {
			dps[r] = measure_directives(&dp, 10000000, &dgs[r], &lost, full, &inc);
			lost_all += lost;
			inc_all += inc;
			printf("hc-bench: %s rep %d: %.2f M directives/s on the wire, %.0f "
			       "datagrams/s, %" PRIu64 " lost, %" PRIu64 " not completed\n", name,
			       r + 1, dps[r] / 1e6, dgs[r], lost, inc);
		}
		double med = hc_median(dps, reps);
		printf("case=%s directives=10000000 in_flight=%u reps=%d directives_per_s=%.0f "
		       "datagrams_per_s=%.0f lost=%" PRIu64 " not_completed=%" PRIu64 "%s\n", name,
		       full == DIR_DONE ? DIR_WINDOW : full == DIR_SEATS ? 10000000u : 0u, reps,
		       med, hc_median(dgs, reps), lost_all, inc_all,
		       hc_bench_host(rte_get_tsc_hz()));
		hc_bench_require(name, med > 0, "0 directives/s on the wire");
		hc_bench_require(name, lost_all == 0, "directives lost on the way (the figure "
				 "counts work that never reached the wire)");
		hc_bench_require(name, inc_all == 0, "directives without their seat, not "
				 "recorded, or not completed by their JOIN (the figure counts work "
				 "that did not happen)");
	}
	hc_control_stop_workers(&dp, NULL);
	rte_eal_mp_wait_lcore();
	double rtt_end = xcore_rtt_ns(worker_lcore);
	printf("hc-bench: cross-lcore round trip %.0f ns before the cases, %.0f ns after%s\n",
	       rtt_start, rtt_end, rtt_end > 1.5 * rtt_start || rtt_start > 1.5 * rtt_end ?
	       " (the host moved the lcores meanwhile: the figures mix two placements)" : "");
	printf("xcore_rtt_ns_start=%.0f xcore_rtt_ns_end=%.0f\n", rtt_start, rtt_end);
	hc_dataplane_free(&dp); /* (its rings' mbufs back to the pools first) */
	hc_ports_close(&dp);
	/* bench_keys: the dataplane owned and freed it */
	rte_eal_cleanup();
	return hc_bench_failed;
}
