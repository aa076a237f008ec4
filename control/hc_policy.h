/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_policy.h - pools and timers: what the control core decides by.
 *
 * A pool is the lobby a user enters through (a game mode, a language);
 * each has its own min / target / max room size.  Owned by the control
 * core, read-only once it runs.  Built from defaults, then an INI file
 * (DPDK rte_cfgfile), then --pool options on the command line:
 *
 *     [control]
 *     balance_interval_ms = 1000
 *     reservation_ttl_ms  = 5000
 *     cooldown_ms         = 30000
 *     directive_timeout_ms = 2000
 *     directive_retries   = 3
 *     retire_grace_ms     = 10000
 *     max_moves_per_tick  = 100000
 *
 *     [pool.lobby]          ; one section per pool, "pool.<name>"
 *     id = 0
 *     min = 15
 *     max = 100
 *     target = 50           ; optional, default max / 2
 *     fill = target         ; optional: target (default) or max
 *     rooms = 1-99999       ; optional: the pool places its new rooms
 *                           ; only in these ids (sharding: a pool keeps
 *                           ; its room ids on any appliance; every pool
 *                           ; has a range or none has, ranges disjoint)
 *
 * Rules: 1 <= min <= target <= max <= 65535 and 2 * min <= max (two rooms
 * just below min always fit in one), pool ids unique in 0..65535.
 *
 * fill says how full placement makes a room (hc_rooms.h): "target" stops
 * at target and opens another room, so rooms keep seats up to max for
 * users joining directly (a friend, a reconnect); "max" fills every room
 * to max before opening another (the fewest rooms).
 */
#ifndef HC_POLICY_H
#define HC_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define HC_MAX_POOLS 64
#define HC_POOL_NAME_LEN 32
#define HC_NO_POOL 0xff

/* How full placement makes a room (see above). */
enum hc_fill {
	HC_FILL_TARGET = 0,
	HC_FILL_MAX,
};

struct hc_pool_cfg {
	uint16_t id;                  /* pool_id on the wire */
	char name[HC_POOL_NAME_LEN];
	uint32_t min, target, max;
	enum hc_fill fill;
	uint32_t room_first, room_last; /* the pool's own room ids ("rooms =
	                                   FIRST-LAST"; 0, 0: anywhere)     */
};

struct hc_policy {
	unsigned n_pools;
	struct hc_pool_cfg pool[HC_MAX_POOLS];
	uint8_t index_of[65536];      /* pool id -> index, HC_NO_POOL */
	uint32_t balance_interval_ms;
	uint32_t reservation_ttl_ms;
	uint32_t cooldown_ms;
	uint32_t directive_timeout_ms;
	uint32_t directive_retries;
	uint32_t retire_grace_ms;
	uint32_t max_moves_per_tick;
};

/* Defaults: pool 0 "default" with 15 / 50 / 100, fill target, timers as
 * above. */
void hc_policy_defaults(struct hc_policy *p);

/*
 * Read an INI file (see above).  Its pools replace the default pool.
 * Returns 0, or -1 with a message naming the file, section and key in err.
 */
int hc_policy_load(struct hc_policy *p, const char *path, char *err, size_t errlen);

/*
 * Add or replace a pool from "ID:NAME:MIN:MAX[:TARGET[:FILL]]" (FILL:
 * target or max).  Returns 0, or -1 with a message in err.
 */
int hc_policy_add_spec(struct hc_policy *p, const char *spec, char *err, size_t errlen);

/* "target" / "max" -> *out; 0, or -1 for anything else. */
int hc_policy_parse_fill(const char *s, enum hc_fill *out);

/* The pool of that id, or NULL. */
static inline const struct hc_pool_cfg *hc_policy_pool(const struct hc_policy *p,
						       uint16_t id)
{
	uint8_t i = p->index_of[id];
	return i == HC_NO_POOL ? NULL : &p->pool[i];
}

#endif /* HC_POLICY_H */
