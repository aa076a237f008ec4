/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_gw_table.h - the gateway's own membership: user -> (room, pool).
 *
 * The gateway's truth, from which snapshots are built.  Open addressing
 * with linear probing and backward-shift deletion; grows (doubles) at
 * half load.  Single-threaded, owned by one session.  The hash is keyed
 * by a seed drawn at init (libsodium's randombytes_buf): the
 * application's users may choose their ids, and ids crafted to share one
 * home would make every probe walk all of them.
 */
#ifndef HC_GW_TABLE_H
#define HC_GW_TABLE_H

#include <stdint.h>

struct hc_gw_entry {
	uint64_t user;
	uint64_t session;/* when the user's connection here began (wall
	                    clock, us): the protocol's session stamp      */
	uint32_t room;   /* 0: empty slot */
	uint16_t pool;
	uint16_t pad;
};

struct hc_gw_table {
	struct hc_gw_entry *e;
	uint64_t mask;   /* slots - 1 */
	uint64_t n;
	uint64_t seed;   /* keys the hash; kept when the table grows */
};

/* An empty table of at least `slots` slots, its seed drawn; -1 when out
 * of memory or libsodium cannot start. */
int hc_gw_table_init(struct hc_gw_table *t, uint64_t slots);
void hc_gw_table_free(struct hc_gw_table *t);
/* The slot where user's probe starts (for tests: probe lengths). */
uint64_t hc_gw_table_home(const struct hc_gw_table *t, uint64_t user);
/* The user's entry or NULL. */
struct hc_gw_entry *hc_gw_table_find(const struct hc_gw_table *t, uint64_t user);
/* Set the user's room (room != 0) and session; -1 when out of memory. */
int hc_gw_table_set(struct hc_gw_table *t, uint64_t user, uint32_t room, uint16_t pool,
		    uint64_t session);
/* Remove the user; 0 if removed, -1 if absent. */
int hc_gw_table_del(struct hc_gw_table *t, uint64_t user);

#endif /* HC_GW_TABLE_H */
