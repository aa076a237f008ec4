/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_park.h - seat requests parked by room until the room's revoke is
 * answered (seat leases, docs/architecture.md).
 *
 * Owned by the control core.  A request that finds its room full only
 * for seats leased to workers waits for the room's revoke; when every
 * worker has given its lease back, the room's parked requests are
 * decided, in the order they came.  Each room's requests are a FIFO list
 * threaded through one table of HC_CHAN_MAX_PENDING entries, and a
 * compact index (hc_keyidx, the room in the entry's first field) finds a
 * room's list: parking is O(1), and taking a room's requests costs what
 * it takes, not a pass over every request parked (with requests parked
 * in thousands of rooms, a revoke answered room by room cost the square
 * before).
 */
#ifndef HC_PARK_H
#define HC_PARK_H

#include <stdint.h>

#include "hc_ctlmsg.h"
#include "hc_keyidx.h"

/* A parked seat request, as hc_park_take gives it back. */
struct hc_parked {
	struct hc_change c;
	uint32_t worker;
};

struct hc_park_entry {
	uint64_t room;       /* first: the index's key (hc_keyidx.h); the
	                        list head's alone is indexed            */
	uint32_t next;       /* the room's next entry + 1 (0: the last); a
	                        free entry's: the next free one + 1    */
	uint32_t tail;       /* (the head's) the room's last entry      */
	struct hc_parked p;
};

struct hc_park {
	struct hc_park_entry *e;  /* [HC_CHAN_MAX_PENDING] */
	struct hc_keyidx by_room; /* room -> its list's head */
	uint32_t n;               /* requests parked now */
	uint32_t fresh;           /* entries never used: fresh .. end */
	uint32_t free1;           /* a freed entry + 1 (0: none) */
};

/* 0 or -ENOMEM; name names the allocations. */
int hc_park_init(struct hc_park *k, const char *name);
void hc_park_free(struct hc_park *k);

/* Park c (whose to_room is the room) for worker, after the room's
 * requests parked before.  0, or -ENOSPC (HC_CHAN_MAX_PENDING parked,
 * or the room's home in the index crowded) with nothing parked. */
int hc_park_add(struct hc_park *k, const struct hc_change *c, uint32_t worker);

/* The room's parked requests, in the order they were parked, into
 * out[] (room for HC_CHAN_MAX_PENDING), and no longer parked: how many. */
uint32_t hc_park_take(struct hc_park *k, uint32_t room, struct hc_parked *out);

#endif /* HC_PARK_H */
