/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bench_gen.h - the benchmarks' workload generator, shared by hc-bench
 * and the peers (bench/peers/: the same workload against Redis), so that
 * every program replays the very same events: users and their ids, the
 * warm-up placement, the precomputed event mix (joins, moves, leaves,
 * same-room no-ops) in one sub-stream per gateway, and the order in which
 * the gateways' datagrams arrive.  One pseudo-random sequence (xorshift)
 * drives the stream and the arrival order, as it always did in hc-bench.
 * Events are in wire byte order (struct hc_event).  No DPDK.
 */
#ifndef HC_BENCH_GEN_H
#define HC_BENCH_GEN_H

#include <stdint.h>

#include "hc_proto.h"

#define HC_GEN_GATEWAYS 16

/* Precomputed events over all gateways (--stream); set before building. */
extern uint64_t hc_gen_stream_len;

/* Times a gateway's sub-stream ran out and started again (hc_gen_take):
 * a replayed event is not the one the stream meant (a user's first event
 * of the pass was drawn for the warm-up's state: a LEAVE or a JOIN of
 * the same room turns into a cheap no-op), so a window that replays
 * measures another mix, and fails (hc_bench_host.h). */
extern uint64_t hc_gen_wraps;

/* A stream long enough for `events` events taken: the gateways' shares
 * of it vary (each datagram's gateway is drawn), so a quarter more, and
 * 64 Ki.  Both hc-bench and the peers size theirs so by default. */
static inline uint64_t hc_gen_stream_for(uint64_t events)
{
	return events + events / 4 + 65536;
}

/* A pseudo-random number in 0 .. n-1 (the generator's one sequence). */
uint32_t hc_gen_rnd(uint32_t n);

/* User i's id (distinct for distinct i), and back. */
static inline uint64_t hc_gen_user_id(uint32_t i)
{
	return (uint64_t)i * 0x9E3779B97F4A7C15ull + 1;
}
uint64_t hc_gen_user_index(uint64_t user_id);

/* User i's gateway (its home, 1 .. HC_GEN_GATEWAYS). */
static inline unsigned hc_gen_home_of(uint32_t i) { return 1 + i % HC_GEN_GATEWAYS; }

/* Build the timed stream for users/rooms: 0, or -1 (no memory).  It
 * starts where the mix is steady: from every user in a room (1 + i %
 * rooms), HC_GEN_BURN_IN events a user are drawn and dropped (each user's
 * chance of being present settles at 1 / 1.3 within about three of its
 * events: from everyone present, the first windows had few joins and many
 * leaves, and batch1's short windows measured another mix than batch64's
 * long ones); the state they leave is the warm-up's. */
#define HC_GEN_BURN_IN 4
int hc_gen_build(uint32_t users, uint32_t rooms);

/* After hc_gen_build: the room user i joins in the warm-up (0: absent,
 * no JOIN), and how many users join there. */
uint32_t hc_gen_start_room(uint32_t i);
extern uint64_t hc_gen_present;

/* The next datagram's worth: pick its gateway, copy k events of that
 * gateway's sub-stream (replayed cyclically) to out (k * sizeof(struct
 * hc_event) bytes, need not be aligned); returns the gateway. */
uint16_t hc_gen_take(unsigned k, void *out);

#endif /* HC_BENCH_GEN_H */
