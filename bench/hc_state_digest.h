/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_state_digest.h - a digest of a membership's end state, the same in
 * every benchmark that runs the generator's stream (hc-bench's worker,
 * hc-bench-redis's model, which its Redis state check holds to Redis), so
 * that bench/peers/run.sh can compare the two ends event for event, not
 * only by their applied mix: the sum, over the rooms holding users, of a
 * mix of the room's id and its count, and the sum, over the users in a
 * room, of a mix of the user's id and the room's (order-free: any walk
 * of the rooms, or of the users).
 */
#ifndef HC_STATE_DIGEST_H
#define HC_STATE_DIGEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

/* splitmix64's finaliser */
static inline uint64_t hc_state_digest_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* one room's share: (room, users) */
static inline uint64_t hc_state_digest_room(uint32_t room, uint64_t users)
{
	return hc_state_digest_mix((uint64_t)room << 32 | (users & 0xffffffffu));
}

/* one user's share: (user id, its room) */
static inline uint64_t hc_state_digest_member(uint64_t user, uint32_t room)
{
	return hc_state_digest_mix(hc_state_digest_mix(user) ^ room);
}

/* A case's end state, summed over rooms and users in any order, and its
 * line (the one format both programs print, compared whole by run.sh). */
struct hc_state_digest {
	uint64_t users;   /* users in rooms */
	uint64_t rooms;   /* the rooms' shares */
	uint64_t members; /* the users' shares */
};

static inline void hc_state_digest_add_room(struct hc_state_digest *d, uint32_t room,
					    uint64_t users)
{
	if (users > 0) {
		d->rooms += hc_state_digest_room(room, users);
		d->users += users;
	}
}

static inline void hc_state_digest_add_member(struct hc_state_digest *d, uint64_t user,
					      uint32_t room)
{
	if (room != 0) /* (0: in no room) */
		d->members += hc_state_digest_member(user, room);
}

static inline void hc_state_digest_print(const char *name, const struct hc_state_digest *d)
{
	printf("state case=%s users=%" PRIu64 " digest=%016" PRIx64 " members=%016" PRIx64 "\n",
	       name, d->users, d->rooms, d->members);
}

#endif /* HC_STATE_DIGEST_H */
