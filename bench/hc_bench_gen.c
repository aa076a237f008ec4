/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_bench_gen.c - the benchmarks' workload generator (see hc_bench_gen.h):
 * the per-gateway event sub-streams and the datagram arrival order.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "hc_bench_gen.h"

#define GATEWAYS HC_GEN_GATEWAYS

uint64_t hc_gen_stream_len = 1u << 22;
uint64_t hc_gen_wraps;

/* Each user is connected to one gateway (its home, by user index), as
 * in life: the timed stream is one sub-stream per gateway, and a datagram
 * of gateway g carries its users' events.  (Events of one user from
 * several gateways are reconnects: each takes the user over, and tells the
 * old owner; that is not the steady state measured here.) */
static struct hc_event *stream_of[GATEWAYS + 1];
static uint64_t stream_pos[GATEWAYS + 1], stream_n[GATEWAYS + 1];

static uint32_t *start_room; /* [users] after the burn-in, 0: absent */
uint64_t hc_gen_present;

static uint64_t rs = 0x853c49e6748fea9bull;
uint32_t hc_gen_rnd(uint32_t n)
{
	rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
	return (uint32_t)(((rs >> 32) * n) >> 32);
}

/* the multiplier's inverse mod 2^64 (Newton: each step doubles the bits) */
uint64_t hc_gen_user_index(uint64_t user_id)
{
	const uint64_t a = 0x9E3779B97F4A7C15ull;
	uint64_t inv = a; /* right to 3 bits: a * a == 1 mod 8 for odd a */
	for (int i = 0; i < 5; i++)
		inv *= 2 - a * inv;
	return (user_id - 1) * inv;
}

/* The timed stream starts from the warm-up's state (every user in a room)
 * and mixes leaves (30 % of events for present users), same-room no-ops
 * (10 %), moves and joins of absent users. */
int hc_gen_build(uint32_t users, uint32_t rooms)
{
	uint32_t *room = calloc(users, sizeof(uint32_t));
	if (room == NULL)
		return -1;
	/* a gateway's share, and room for its users' share to vary */
	uint64_t cap = hc_gen_stream_len / GATEWAYS + hc_gen_stream_len / (4 * GATEWAYS) + 1024;
	for (unsigned g = 1; g <= GATEWAYS; g++) {
		stream_of[g] = malloc(sizeof(struct hc_event) * cap);
		if (stream_of[g] == NULL) {
			free(room);
			return -1;
		}
	}
	for (uint32_t u = 0; u < users; u++)
		room[u] = 1 + u % rooms;
	uint64_t burn = (uint64_t)HC_GEN_BURN_IN * users;
	for (uint64_t i = 0; i < burn + hc_gen_stream_len; i++) {
		if (i == burn) { /* the warm-up's state */
			start_room = malloc(sizeof(uint32_t) * users);
			if (start_room == NULL) {
				free(room);
				return -1;
			}
			memcpy(start_room, room, sizeof(uint32_t) * users);
			hc_gen_present = 0;
			for (uint32_t u = 0; u < users; u++)
				hc_gen_present += room[u] != 0;
		}
		uint32_t u = hc_gen_rnd(users), r = 1 + hc_gen_rnd(rooms), p = hc_gen_rnd(100);
		uint8_t op = HC_OP_JOIN;
		if (room[u] != 0 && p < 30) {        /* leave */
			op = HC_OP_LEAVE; r = room[u]; room[u] = 0;
		} else if (room[u] != 0 && p < 40) { /* no-op: same room */
			r = room[u];
		} else {                             /* join or move */
			room[u] = r;
		}
		if (i < burn)
			continue;
		unsigned g = hc_gen_home_of(u);
		if (stream_n[g] == cap)
			break; /* (never at the default sizes) */
		stream_of[g][stream_n[g]++] = (struct hc_event){.user_id = htobe64(hc_gen_user_id(u)),
			.room_id = htobe32(r), .op = op};
	}
	free(room);
	return 0;
}

uint32_t hc_gen_start_room(uint32_t i)
{
	return start_room[i];
}

uint16_t hc_gen_take(unsigned k, void *out)
{
	uint16_t gw = (uint16_t)(1 + hc_gen_rnd(GATEWAYS));
	uint8_t *ev = out;
	for (unsigned i = 0; i < k; i++) {
		memcpy(ev + i * sizeof(struct hc_event), &stream_of[gw][stream_pos[gw]],
		       sizeof(struct hc_event));
		if (++stream_pos[gw] == stream_n[gw]) {
			stream_pos[gw] = 0;
			hc_gen_wraps++;
		}
	}
	return gw;
}
