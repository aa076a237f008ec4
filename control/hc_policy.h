/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_policy.h - pools and timers: what the control core decides by.
 *
 * A pool is the lobby a user enters through (a game mode, a language);
 * each has its own min / target / max room size.  Owned by the control
 * core, which swaps in a new one on a config reload (hc_decide_reload).
 * Built from defaults, then the config file's [control] and [pool.NAME]
 * sections, then --pool options on the command line; every key, its range
 * and default: docs/configuration.md (generated from the tables in
 * hc_policy.c and app/hc_options.c).
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
#include <stdio.h>

struct hc_ini;

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
	uint32_t lease_seats;         /* seats leased per grant (0: none) */
};

/* Defaults: pool 0 "default" with 15 / 50 / 100, fill target, the timers
 * of docs/configuration.md. */
void hc_policy_defaults(struct hc_policy *p);

/*
 * Apply the [control] and [pool.NAME] sections of a config file read by
 * hc_ini (other sections are the caller's).  The file's pools, if any,
 * replace the pools before.  Unknown and repeated keys, bad values are
 * errors.  Returns 0, or -1 with "file:line: [section] key: reason" in
 * err, p unchanged.
 */
int hc_policy_from_ini(struct hc_policy *p, const struct hc_ini *ini, char *err,
		       size_t errlen);
/* The same from a file of only those sections. */
int hc_policy_load(struct hc_policy *p, const char *path, char *err, size_t errlen);
/* 1 if the section is [control] or [pool.NAME]. */
int hc_policy_owns_section(const char *name);
/* Markdown table rows (section, key, flag, range, default, reloadable,
 * help) for [control] and [pool.NAME], for docs/configuration.md. */
void hc_policy_doc(FILE *f);

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

/* Does pool c's own room id range hold room (a pool without one: no)? */
static inline int hc_pool_range_holds(const struct hc_pool_cfg *c, uint32_t room)
{
	return c->room_last != 0 && room >= c->room_first && room <= c->room_last;
}

/* The index of the pool whose own range holds room, or HC_NO_POOL (ranges
 * never overlap: hc_policy_load refuses it). */
static inline uint8_t hc_policy_range_pool(const struct hc_policy *p, uint32_t room)
{
	for (unsigned i = 0; i < p->n_pools; i++)
		if (hc_pool_range_holds(&p->pool[i], room))
			return (uint8_t)i;
	return HC_NO_POOL;
}

#endif /* HC_POLICY_H */
