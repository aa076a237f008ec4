/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_state_digest.h - a digest of a membership's end state, the same in
 * every benchmark that runs the generator's stream (hc-bench's worker,
 * hc-bench-redis's model, which its Redis state check holds to Redis), so
 * that bench/peers/run.sh can compare the two ends event for event, not
 * only by their applied mix: the sum, over the rooms holding users, of a
 * mix of the room's id and its count (order-free: any walk of the rooms).
 */
#ifndef HC_STATE_DIGEST_H
#define HC_STATE_DIGEST_H

#include <stdint.h>

/* one room's share: splitmix64's finaliser of (room, users) */
static inline uint64_t hc_state_digest_room(uint32_t room, uint64_t users)
{
	uint64_t z = ((uint64_t)room << 32 | (users & 0xffffffffu)) + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif /* HC_STATE_DIGEST_H */
