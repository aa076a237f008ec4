/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_gw_shard.h - pools spread over appliances (libheadcount, API 4
 * plus these functions): a shard map says which appliance holds which
 * pool and which room ids the pool owns; a shard set keeps one hc_gw
 * session per appliance and routes PLACE, JOIN and LEAVE by the user's
 * pool.  A new map version moves pools: the users of a pool whose
 * appliance changed are restated on its new home (JOINs into the same
 * rooms) and left on the old one.  See docs/gateway.md ("Pools over
 * several appliances") and docs/scaling-shards.md for the design.
 *
 * Single-threaded like hc_gw: every call from one thread; callbacks come
 * from hc_gw_shard_poll and may call hc_gw_shard_join/leave/place, and
 * hc_gw_shard_close (deferred to the poll's end); hc_gw_shard_apply_map
 * and hc_gw_shard_poll from a callback are refused.
 */
#ifndef HC_GW_SHARD_H
#define HC_GW_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "headcount.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HC_GW_SHARD_MAX_APPLIANCES 16
#define HC_GW_SHARD_MAX_POOLS 256
#define HC_GW_SHARD_NAME_LEN 32
#define HC_GW_SHARD_ADDR_LEN 256

/*
 * The map, as a text file (one statement a line, '#' comments):
 *
 *     version 7
 *     appliance east 198.18.0.1:7100       # name, hc_gw_config.appliance
 *     appliance west 198.18.0.4,198.18.0.5 # (several addresses: one box's)
 *     pool 1 east 1-99999                  # pool id, appliance, room ids
 *     pool 2 west 100000-199999
 *
 * Exactly one version (1..2^32-1); appliance names unique; every pool on
 * a listed appliance; room ranges disjoint (they equal the appliances'
 * policy "rooms = FIRST-LAST", docs/scaling-shards.md).
 */
struct hc_gw_shard_map {
	uint32_t version;
	unsigned n_appliances;
	struct {
		char name[HC_GW_SHARD_NAME_LEN];
		char addr[HC_GW_SHARD_ADDR_LEN];
	} appliance[HC_GW_SHARD_MAX_APPLIANCES];
	unsigned n_pools;
	struct {
		uint16_t pool;
		uint8_t appliance;        /* index in appliance[] */
		uint32_t room_first, room_last;
	} pool[HC_GW_SHARD_MAX_POOLS];
};

/* Parse map text / a map file.  0, or -1 with a message naming the line
 * (and the file) in err.  The map is text: printable ASCII and tabs, any
 * byte from 0x80 only in a comment; a NUL (a file's is not its end),
 * another control byte or DEL is an error naming line and column. */
int hc_gw_shard_map_parse(struct hc_gw_shard_map *m, const char *text, char *err,
			  size_t err_len);
int hc_gw_shard_map_load(struct hc_gw_shard_map *m, const char *path, char *err,
			 size_t err_len);

struct hc_gw_shard;

/* The callbacks of hc_gw, with the index of the session (the appliance's
 * slot, stable for the life of the shard set: hc_gw_shard_session). */
struct hc_gw_shard_callbacks {
	void (*on_assign)(void *arg, unsigned shard, const struct hc_gw_assign *a);
	/* NULL: the session moves the user at once (as hc_gw) */
	void (*on_move)(void *arg, unsigned shard, const struct hc_gw_move *mv);
	void (*on_state)(void *arg, unsigned shard, const struct hc_gw_state_change *c);
	void *arg;
};

struct hc_gw_shard_stats {
	uint32_t map_version;     /* the map routed by now                  */
	uint64_t maps_applied;    /* hc_gw_shard_apply_map successes        */
	uint64_t maps_refused;    /* not newer, or inconsistent             */
	uint64_t pools_moved;     /* pools whose appliance changed          */
	uint64_t users_moved;     /* users restated on a pool's new home    */
	uint64_t strays;          /* users found later on a session that no
	                             longer holds their pool (an ASSIGN
	                             NEW_TOPIC there re-joined one: hc_gw
	                             does so only for users it holds, so
	                             this is a safety net): moved the same
	                             way                                   */
	uint64_t unrouted;        /* calls for a pool not in the map        */
	uint64_t out_of_range;    /* JOINs into a room outside the pool's
	                             range                                 */
	uint64_t move_errors;     /* users that could not move: hc_gw
	                             refused the restatement (ENOMEM), or
	                             the user is on an appliance the map
	                             dropped, in a pool without a home
	                             (its appliance's NEW_TOPIC named
	                             it); each try counted: retried 10 ms
	                             later, doubling to 1 s, while any is
	                             left                                */
};

/* One session per appliance of map, each configured as base (gateway id,
 * key, timers; its appliance and callbacks are the shard set's).  The
 * set keeps copies of base's key and bind address (the caller's may go
 * after this returns: an appliance a later map adds is opened with the
 * copies).  Leave base's incarnation 0: each session then takes its own
 * from the clock; one given is every session's, and an answer one
 * appliance sealed could be replayed to another's session (the tag does
 * not name the appliance, docs/gateway.md).  NULL
 * on error with a message in err (EINVAL: an inconsistent map, one
 * filled in by hand that the parser would refuse). */
struct hc_gw_shard *hc_gw_shard_open(const struct hc_gw_shard_map *map,
				     const struct hc_gw_config *base,
				     const struct hc_gw_shard_callbacks *cb, char *err,
				     size_t err_len);
/* Close every session (clean: as hc_gw_close).  From a callback: no
 * callback, join, leave or place works after it (ESHUTDOWN), and the set
 * is closed when hc_gw_shard_poll returns (-1, ESHUTDOWN; s must not be
 * used after that). */
void hc_gw_shard_close(struct hc_gw_shard *s, int clean);

/* Routed by pool: as hc_gw_join / hc_gw_leave / hc_gw_place.  -1 with
 * errno ENXIO: the pool is not in the map (counted unrouted); ERANGE:
 * room outside the pool's ids (counted out_of_range); else hc_gw's. */
int hc_gw_shard_join(struct hc_gw_shard *s, uint64_t user, uint32_t room, uint16_t pool);
int hc_gw_shard_leave(struct hc_gw_shard *s, uint64_t user);
int hc_gw_shard_place(struct hc_gw_shard *s, uint64_t user, uint16_t pool,
		      uint32_t *request_id, unsigned *shard);

/* Route by a newer map: sessions for new appliances are opened, users of
 * pools whose appliance changed are JOINed into the same rooms on the new
 * home and LEFT on the old, appliances gone from the map are closed
 * cleanly once they hold nobody.  0, or -1 with errno (ESTALE: version not
 * newer; EINVAL: an appliance changed address, or an inconsistent map;
 * EBUSY: users in a pool the map drops (one in this map, not in next;
 * a pool in neither blocks nothing); EDEADLK: called from a callback;
 * a new appliance's session that cannot open: hc_gw_open's errno, its
 * message naming the appliance) and
 * a message in err.  All or nothing: on error the set is as before (the
 * sessions it opened for new appliances are closed again, cleanly: such
 * an appliance saw an empty snapshot and a SHUTDOWN) but for the
 * maps_refused count. */
int hc_gw_shard_apply_map(struct hc_gw_shard *s, const struct hc_gw_shard_map *next,
			  char *err, size_t err_len);

/* Poll every session: wait up to timeout_ms (capped by the sessions'
 * timers) for any socket, then hc_gw_poll(g, 0) each.  Datagrams
 * received, or -1 with errno (hc_gw_poll's; EBUSY: called from a
 * callback; ESHUTDOWN: a callback closed the set, s is gone; ENOTCONN: a
 * callback closed one of its sessions with hc_gw_close, which the API
 * forbids: its slot is closed, s lives on, calls for its pools fail with
 * ENOTCONN). */
int hc_gw_shard_poll(struct hc_gw_shard *s, int timeout_ms);
/* The smallest hc_gw_timeout_ms over the sessions, or less when users
 * are to be moved (0: at once; after a move that failed, its backoff). */
int hc_gw_shard_timeout_ms(const struct hc_gw_shard *s);
/* The sessions' sockets (for an event loop; slots of closed sessions
 * hold -1): the number of slots, at most max written. */
unsigned hc_gw_shard_fds(const struct hc_gw_shard *s, int *fds, unsigned max);

/* Slots (sessions ever opened); the session of a slot (NULL once closed;
 * read it with hc_gw_state, hc_gw_get_stats, hc_gw_foreach; never close
 * or poll it directly), its appliance name. */
unsigned hc_gw_shard_count(const struct hc_gw_shard *s);
struct hc_gw *hc_gw_shard_session(const struct hc_gw_shard *s, unsigned shard);
const char *hc_gw_shard_name(const struct hc_gw_shard *s, unsigned shard);
/* The slot that holds pool now, -1 if none. */
int hc_gw_shard_of_pool(const struct hc_gw_shard *s, uint16_t pool);
/* Users over every session. */
uint64_t hc_gw_shard_users(const struct hc_gw_shard *s);
void hc_gw_shard_get_stats(const struct hc_gw_shard *s, struct hc_gw_shard_stats *st);
/* The counters of the sessions the set closed (appliances a map dropped,
 * closed once they held nobody), summed as each read at its close;
 * its gauges (sequence, acked, appliance_incarnation, appliance_users,
 * appliance_digest) 0.  With every open session's hc_gw_get_stats, the
 * set's totals over its life: a closed session's refusals, PLACE
 * timeouts and drops are not lost with it (API version 9). */
void hc_gw_shard_closed_stats(const struct hc_gw_shard *s, struct hc_gw_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* HC_GW_SHARD_H */
