/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_telemetry.c - the appliance's rte_telemetry commands.
 *
 *   /headcount/stats             every counter (as in --dump-stats)
 *   /headcount/room,<id>         users in one room (RCU view), its pool
 *   /headcount/rooms,<start>     non-empty rooms (id, users), paged
 *   /headcount/room_pools,<start> non-empty rooms (id, users, pool), paged
 *   /headcount/gateways,<start>  one dict per known gateway, paged
 *   /headcount/pools             per pool: users, rooms, below min, above
 *                                target / max (no parameters)
 *   /headcount/pool,<id>         one pool and its room-size histogram
 *   /headcount/control           the control core's counters (seat book,
 *                                placement, admission, balancer, directives)
 *   /headcount/version           the appliance's version (hc_version.h) and
 *                                its protocol version
 *   /headcount/ha[,master|backup] the HA role and epoch; with a parameter,
 *                                switch it (keepalived's notify, hc_ha.h)
 *
 * Paged replies carry "next": the parameter that asks for the following
 * page, 0 when this was the last.  Every value is a number or one short
 * string (DPDK cuts strings at 128 characters: nothing is packed into one).
 * tools/headcountctl is the client (docs/headcountctl.md).
 *
 * Runs in DPDK's telemetry thread: reads worker counters with relaxed
 * loads and the room view under rcu_read_lock.  A room's pool comes from
 * the control core's seat book, read here without its owner's help: the
 * book is written by the control lcore alone and a room's pool and state
 * change when it opens or retires, so relaxed loads of those two bytes
 * give the room's pool or, for a room just opened or retired, one
 * merge-interval stale answer (and at a reload that renumbers the pools,
 * for one reply read across it, a neighbouring pool: docs/counters.md,
 * "Pool figures"; not fixed); a gateway's address is read the same way
 * (its two fields may mix for the instant it moves).  The policy a command
 * names pools by is read once, inside the command's RCU read section
 * (tel_policy), and that one pointer serves the whole reply: a SIGHUP
 * reload swaps the control core's policy between two buffers, so two reads
 * could name a pool in one buffer and index it in the other.  A book's pool
 * index is checked against that policy's n_pools before use.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "hc_decide.h"
#include "hc_decimal.h"
#include "hc_proto.h"
#include "hc_control.h"
#include "hc_stats.h"
#include "hc_version.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#include <stdlib.h>
#include <arpa/inet.h>
#include <rte_telemetry.h>
#include <urcu-qsbr.h>

#include "hc_view.h"
#include "hc_rooms.h"
#include "hc_ctlmsg.h"

static struct hc_dataplane *tel_dp;
static const struct hc_decide *tel_decide;

/* Commands in flight, and the gate a stopping appliance closes before it
 * frees what they read (hc_telemetry_close).  Every command runs through
 * tel_gate: it counts itself in, then looks at the gate; the closer shuts
 * the gate, then waits for the count to reach 0.  Both sides sequentially
 * consistent, so a command either sees the gate shut or is waited for. */
static uint32_t tel_busy;
static int tel_shut;

void hc_telemetry_close(void)
{
	__atomic_store_n(&tel_shut, 1, __ATOMIC_SEQ_CST);
	/* a command takes microseconds; bounded: 5 s */
	for (int i = 0; i < 5000 && __atomic_load_n(&tel_busy, __ATOMIC_SEQ_CST) != 0; i++)
		rte_delay_us_sleep(1000);
}

/* A parameter that is a decimal number: 1 to 20 digits, no sign, no
 * space, no junk, within unsigned long; 0, or -1. */
static int tel_number(const char *s, unsigned long *out)
{
	uint64_t v;
	if (hc_decimal_u64(s, 0, ULONG_MAX, &v) != 0)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

void hc_telemetry_set_decide(const struct hc_decide *d)
{
	tel_decide = d;
}

/* The control core's counters: written by the control lcore only. */
static int tel_control(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	const struct hc_decide *x = tel_decide;
	if (x == NULL)
		return -1;
	rte_tel_data_start_dict(d);
#define CTL(name, field) rte_tel_data_add_dict_u64(d, #name, LOAD(&x->field));
	HC_DECIDE_COUNTERS(CTL)
#undef CTL
	return 0;
}

/* Ask the control lcore to read the keys file again (SIGHUP does the
 * same); the outcome shows in /headcount/control keys_reloads and
 * keys_reload_failures, and in the log. */
static struct hc_ha *tel_ha;

void hc_telemetry_set_ha(struct hc_ha *ha)
{
	tel_ha = ha;
}

/* /headcount/ha: the role, epoch and takeovers; ,master or ,backup asks
 * for a role (keepalived's notify scripts, deploy/keepalived/; being able
 * to reach the root-only socket is the authentication).  The control
 * lcore acts on it at its next poll; "requested" says it was taken. */
static int tel_ha_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	if (tel_ha == NULL)
		return -1;
	int want = 0;
	if (params != NULL && *params != '\0') {
		if (strcmp(params, "master") == 0)
			want = HC_HA_MASTER;
		else if (strcmp(params, "backup") == 0)
			want = HC_HA_BACKUP;
		else
			return -1;
	}
	rte_tel_data_start_dict(d);
	if (want != 0)
		rte_tel_data_add_dict_int(d, "requested", hc_ha_request(tel_ha, want) == 0);
	rte_tel_data_add_dict_string(d, "role", hc_ha_role_name(LOAD(&tel_ha->role)));
	rte_tel_data_add_dict_u64(d, "serving", LOAD(&tel_ha->dp->ha_serving) || !tel_ha->dp->ha);
	rte_tel_data_add_dict_u64(d, "epoch", LOAD(&tel_ha->epoch));
	rte_tel_data_add_dict_int(d, "box", tel_ha->parity); /* --ha-box; -1: none */
	rte_tel_data_add_dict_u64(d, "takeovers", LOAD(&tel_ha->st.takeovers));
	rte_tel_data_add_dict_u64(d, "demotions", LOAD(&tel_ha->st.demotions));
	rte_tel_data_add_dict_u64(d, "reepochs", LOAD(&tel_ha->st.reepochs));
	rte_tel_data_add_dict_u64(d, "takeover_wall_ms", LOAD(&tel_ha->st.takeover_wall_ms));
	rte_tel_data_add_dict_u64(d, "ports", LOAD(&tel_ha->ports));
	rte_tel_data_add_dict_u64(d, "links_down", LOAD(&tel_ha->links_down));
	return 0;
}

static int tel_keys_reload(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	hc_keys_reload_signal = 1;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "requested", 1);
	return 0;
}

/* DPDK runs each telemetry client on a thread of its own that ends with
 * the connection: a command joins QSBR for its read and leaves it again,
 * so no exited thread stays registered (it would stall grace periods). */
static void tel_rcu_enter(void)
{
	rcu_register_thread();
	rcu_read_lock();
}

static void tel_rcu_leave(void)
{
	rcu_read_unlock();
	rcu_unregister_thread();
}

/* The control core's policy, read once; call inside tel_rcu_enter/leave
 * and use only the pointer returned (see the header). */
static const struct hc_policy *tel_policy(const struct hc_decide *x)
{
	return rcu_dereference(x->pol);
}

static uint32_t view_rooms(void)
{
	uint32_t rooms = 0;
	tel_rcu_enter();
	struct hc_room_view *v = hc_view_get();
	if (v != NULL)
		rooms = v->rooms;
	tel_rcu_leave();
	return rooms;
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct hc_dp_totals tt, *t = &tt;
	(void)cmd;
	(void)params;
	hc_dp_collect(tel_dp, t);
	rte_tel_data_start_dict(d);
#define KV_TEL(name, expr) rte_tel_data_add_dict_u64(d, #name, (uint64_t)(expr));
	KV_FIELDS(KV_TEL)
#undef KV_TEL
	rte_tel_data_add_dict_u64(d, "rooms", view_rooms());
	rte_tel_data_add_dict_u64(d, "drops", hc_stats_drops(t));
	if (tel_decide != NULL) { /* the config file's reloads (SIGHUP) */
		rte_tel_data_add_dict_u64(d, "config_reloads",
					  LOAD(&tel_decide->st.config_reloads));
		rte_tel_data_add_dict_u64(d, "config_reload_errors",
					  LOAD(&tel_decide->st.config_reload_errors));
	}
	for (int r = 0; r < HC_DROP_COUNT; r++) {
		char key[64];
		snprintf(key, sizeof(key), "drop_%s", hc_drop_names[r]);
		rte_tel_data_add_dict_u64(d, key, t->w.drops[r]);
	}
	return 0;
}

#define TEL_NO_POOL 65536 /* a room the seat book does not hold (yet) */

/* Pool id of room r per the seat book and policy pol (read once by the
 * caller), or TEL_NO_POOL (see the header: relaxed loads of bytes only the
 * control lcore writes).  Call inside tel_rcu_enter/leave. */
static uint32_t room_pool(const struct hc_policy *pol, uint32_t r)
{
	const struct hc_decide *x = tel_decide;
	if (x == NULL || pol == NULL || r == 0 || r >= x->book.max_rooms)
		return TEL_NO_POOL;
	const struct hc_room *rm = &x->book.room[r];
	if (__atomic_load_n(&rm->state, __ATOMIC_RELAXED) != HC_ROOM_LIVE)
		return TEL_NO_POOL;
	uint8_t i = __atomic_load_n(&rm->pool, __ATOMIC_RELAXED);
	return i < pol->n_pools ? pol->pool[i].id : TEL_NO_POOL;
}

static int tel_room(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	if (params == NULL || *params == '\0')
		return -1;
	unsigned long room;
	if (tel_number(params, &room) != 0)
		return -1;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "room", room);
	tel_rcu_enter();
	struct hc_room_view *v = hc_view_get();
	uint64_t users = (v != NULL && room < v->max_rooms) ? v->room_users[room] : 0;
	uint64_t gen = v != NULL ? v->generation : 0;
	/* its pool id per the seat book; 65536: none (not a live room) */
	uint32_t pool = TEL_NO_POOL;
	if (tel_decide != NULL && room <= UINT32_MAX)
		pool = room_pool(tel_policy(tel_decide), (uint32_t)room);
	tel_rcu_leave();
	rte_tel_data_add_dict_u64(d, "users", users);
	rte_tel_data_add_dict_u64(d, "view_generation", gen);
	rte_tel_data_add_dict_u64(d, "pool", pool);
	return 0;
}

/* A page parameter: empty -> dflt, else a decimal number; -1 if bad. */
static int tel_param(const char *params, unsigned long dflt, unsigned long *out)
{
	*out = dflt;
	if (params == NULL || *params == '\0')
		return 0;
	return tel_number(params, out);
}

/* Non-empty rooms from the RCU view, a page of them: parameter = the
 * first room id to look at; "next" is where the following page starts
 * (0: done).  With pools: (id, users, pool) triples, 150 a page (DPDK
 * arrays hold 512 numbers); without: (id, users) pairs, 200 a page. */
static int tel_rooms_page(const char *params, struct rte_tel_data *d, int with_pool)
{
	unsigned long start;
	unsigned per_page = with_pool ? 150 : 200;
	if (tel_param(params, 1, &start) != 0)
		return -1;
	if (start == 0)
		start = 1;
	struct rte_tel_data *arr = rte_tel_data_alloc();
	if (arr == NULL)
		return -1;
	rte_tel_data_start_array(arr, RTE_TEL_U64_VAL);
	rte_tel_data_start_dict(d);
	unsigned n = 0;
	uint64_t next = 0, gen = 0, users = 0;
	tel_rcu_enter();
	struct hc_room_view *v = hc_view_get();
	const struct hc_policy *pol = tel_decide != NULL ? tel_policy(tel_decide) : NULL;
	if (v != NULL) {
		gen = v->generation;
		users = v->users;
		for (uint64_t r = start; r < v->max_rooms; r++) {
			if (v->room_users[r] == 0)
				continue;
			if (n == per_page) {
				next = r;
				break;
			}
			rte_tel_data_add_array_u64(arr, r);
			rte_tel_data_add_array_u64(arr, v->room_users[r]);
			if (with_pool)
				rte_tel_data_add_array_u64(arr, room_pool(pol, (uint32_t)r));
			n++;
		}
	}
	tel_rcu_leave();
	rte_tel_data_add_dict_u64(d, "view_generation", gen);
	rte_tel_data_add_dict_u64(d, "users", users);
	rte_tel_data_add_dict_u64(d, "next", next);
	if (with_pool)
		rte_tel_data_add_dict_u64(d, "no_pool", TEL_NO_POOL);
	rte_tel_data_add_dict_container(d, "rooms", arr, 0);
	return 0;
}

static int tel_rooms(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_rooms_page(params, d, 0);
}

static int tel_room_pools(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_rooms_page(params, d, 1);
}

/* Known gateways, 25 per page: one dict each, keyed by gateway id, with
 * every field of struct hc_dp_gateway, its digest and its address (as
 * the control core last heard it; "" while unknown).  25 dicts of 14
 * numbers and one string stay within DPDK's 16 kB reply at their
 * longest (about 11 kB).  Parameter =
 * the first gateway id to look at; "next" as in /headcount/rooms. */
#define TEL_GW_PAGE 25
static int tel_gateways(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	unsigned long start;
	if (tel_param(params, 0, &start) != 0)
		return -1;
	rte_tel_data_start_dict(d);
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	unsigned shown = 0;
	uint64_t next = 0;
	uint32_t max = tel_dp->cfg->max_gateways;
	for (uint64_t g = start; g < max; g++) {
		struct hc_dp_gateway gs;
		if (hc_dp_gateway_info(tel_dp, (uint16_t)g, &gs) != 0)
			continue;
		if (shown == TEL_GW_PAGE) {
			next = g;
			break;
		}
		struct rte_tel_data *e = rte_tel_data_alloc();
		if (e == NULL)
			return -1;
		rte_tel_data_start_dict(e);
		char addr[32] = "";
		uint32_t port = 0;
		if (tel_decide != NULL) {
			const struct hc_peer *p = &tel_decide->peer[g];
			uint32_t ip = ntohl(__atomic_load_n(&p->ip_be, __ATOMIC_RELAXED));
			uint16_t udp = ntohs(__atomic_load_n(&p->udp_be, __ATOMIC_RELAXED));
			port = __atomic_load_n(&p->port_id, __ATOMIC_RELAXED);
			if (ip != 0)
				snprintf(addr, sizeof(addr), "%u.%u.%u.%u:%u", ip >> 24,
					 (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff, udp);
		}
		uint64_t heard = gs.last_heard_tsc == 0 || now < gs.last_heard_tsc ? 0
				 : (now - gs.last_heard_tsc) / hz * 1000 +
				   (now - gs.last_heard_tsc) % hz * 1000 / hz; /* (no wrap: a
				   gateway silent for months at gateway-timeout-ms 0) */
		rte_tel_data_add_dict_u64(e, "id", g);
		rte_tel_data_add_dict_u64(e, "incarnation", gs.incarnation);
		rte_tel_data_add_dict_u64(e, "users", gs.users);
		rte_tel_data_add_dict_string(e, "address", addr);
		rte_tel_data_add_dict_u64(e, "port", port);
		rte_tel_data_add_dict_u64(e, "next_seq", gs.next_seq);
		rte_tel_data_add_dict_u64(e, "digest", hc_dp_gateway_digest(tel_dp, (uint16_t)g));
		rte_tel_data_add_dict_u64(e, "datagrams", gs.datagrams);
		rte_tel_data_add_dict_u64(e, "heartbeats", gs.heartbeats);
		rte_tel_data_add_dict_u64(e, "nacks", gs.nacks);
		rte_tel_data_add_dict_u64(e, "lost", gs.lost);
		rte_tel_data_add_dict_u64(e, "duplicates", gs.duplicates);
		rte_tel_data_add_dict_u64(e, "resets", gs.resets);
		rte_tel_data_add_dict_u64(e, "deaths", gs.deaths);
		rte_tel_data_add_dict_u64(e, "heard_ms_ago", heard);
		char key[16];
		snprintf(key, sizeof(key), "%" PRIu64, g);
		rte_tel_data_add_dict_container(d, key, e, 0);
		shown++;
	}
	rte_tel_data_add_dict_u64(d, "next", next);
	return 0;
}

/* Per pool (index) figures over the view's non-empty rooms. */
struct tel_pool_sum {
	uint64_t users, rooms, below_min, above_target, above_max;
};

/* A pool's room-size histogram: bucket i counts the non-empty rooms of
 * 1 + i * width .. (i + 1) * width users; width is 1 for pools of max <=
 * TEL_HIST_MAX (one bucket per size), else the smallest width giving at
 * most TEL_HIST_MAX buckets. */
#define TEL_HIST_MAX 500
static uint32_t hist_width(uint32_t max)
{
	return (max + TEL_HIST_MAX - 1) / TEL_HIST_MAX;
}

/*
 * Every pool's figures and histogram from one scan of the view, kept
 * until the view's generation, the policy or the reload count changes.
 * The exporter asks /headcount/pools and /headcount/pool,ID of each of up
 * to 64 pools a round (up to 5 rounds a scrape), and each call scanned
 * every room id: 20 ms a call at --max-rooms 16777216 (2026-12-07), over
 * a second a round.  Now the round's first call scans and the others copy
 * (the pool's rooms as the book said at that scan: within a merge interval
 * of the view, as before).  DPDK may run two clients' commands at once:
 * a mutex.  256 KiB of histograms, static.
 */
static struct tel_pool_cache {
	pthread_mutex_t lock;
	int valid, have_view;
	uint64_t gen, reloads;
	const struct hc_policy *pol;
	uint64_t none_rooms, none_users;
	struct tel_pool_sum s[HC_MAX_POOLS];
	uint32_t width[HC_MAX_POOLS], nb[HC_MAX_POOLS];
	uint64_t hist[HC_MAX_POOLS][TEL_HIST_MAX];
} pool_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The reload count, read before the policy (tel_policy): the control
 * core counts a reload after it publishes the new policy, so a count read
 * first never names a policy published two reloads later in the same
 * buffer (the two buffers alternate: the pointer alone does not tell). */
static uint64_t tel_reloads(const struct hc_decide *x)
{
	return __atomic_load_n(&x->st.config_reloads, __ATOMIC_ACQUIRE);
}

/* Fill pool_cache for pol (the caller's one read of the policy, after
 * reloads = tel_reloads) unless it holds this view's, pol's and this
 * reload's figures already.  Call inside tel_rcu_enter/leave,
 * pool_cache.lock held.  Returns 0, -1 without a view (the figures are
 * then zeros). */
static int pool_cache_fill(const struct hc_policy *pol, uint64_t reloads)
{
	const struct hc_decide *x = tel_decide;
	struct tel_pool_cache *c = &pool_cache;
	struct hc_room_view *v = hc_view_get();
	uint64_t gen = v != NULL ? v->generation : 0;
	if (c->valid && c->gen == gen && c->pol == pol && c->reloads == reloads &&
	    c->have_view == (v != NULL))
		return c->have_view ? 0 : -1;
	c->valid = 1;
	c->gen = gen;
	c->pol = pol;
	c->reloads = reloads;
	c->have_view = v != NULL;
	memset(c->s, 0, sizeof(c->s));
	c->none_rooms = c->none_users = 0;
	for (unsigned i = 0; i < pol->n_pools; i++) {
		c->width[i] = hist_width(pol->pool[i].max);
		c->nb[i] = (pol->pool[i].max + c->width[i] - 1) / c->width[i];
		memset(c->hist[i], 0, sizeof(c->hist[i][0]) * c->nb[i]);
	}
	if (v == NULL)
		return -1;
	for (uint32_t r = 1; r < v->max_rooms; r++) {
		uint32_t u = v->room_users[r];
		if (u == 0)
			continue;
		uint8_t i = HC_NO_POOL;
		if (r < x->book.max_rooms &&
		    __atomic_load_n(&x->book.room[r].state, __ATOMIC_RELAXED) == HC_ROOM_LIVE)
			i = __atomic_load_n(&x->book.room[r].pool, __ATOMIC_RELAXED);
		if (i >= pol->n_pools) {
			c->none_rooms++;
			c->none_users += u;
			continue;
		}
		const struct hc_pool_cfg *pc = &pol->pool[i];
		struct tel_pool_sum *s = &c->s[i];
		s->users += u;
		s->rooms++;
		s->below_min += u < pc->min;
		s->above_target += u > pc->target;
		s->above_max += u > pc->max;
		if (u <= pc->max && (u - 1) / c->width[i] < c->nb[i])
			c->hist[i][(u - 1) / c->width[i]]++;
	}
	return 0;
}

static void pool_fields(struct rte_tel_data *e, const struct hc_pool_cfg *c,
			const struct tel_pool_sum *s)
{
	rte_tel_data_add_dict_u64(e, "id", c->id);
	rte_tel_data_add_dict_string(e, "name", c->name);
	rte_tel_data_add_dict_u64(e, "min", c->min);
	rte_tel_data_add_dict_u64(e, "target", c->target);
	rte_tel_data_add_dict_u64(e, "max", c->max);
	rte_tel_data_add_dict_string(e, "fill", c->fill == HC_FILL_MAX ? "max" : "target");
	rte_tel_data_add_dict_u64(e, "users", s->users);
	rte_tel_data_add_dict_u64(e, "rooms", s->rooms);
	rte_tel_data_add_dict_u64(e, "below_min", s->below_min);
	rte_tel_data_add_dict_u64(e, "above_target", s->above_target);
	rte_tel_data_add_dict_u64(e, "above_max", s->above_max);
}

/* Every pool (at most 64: one page), keyed by pool id; the view's rooms
 * the seat book does not hold are counted apart (no_pool_*). */
static int tel_pools(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	const struct hc_decide *x = tel_decide;
	if (x == NULL)
		return -1;
	struct tel_pool_sum s[HC_MAX_POOLS];
	uint64_t nr, nu, gen;
	int rc = 0;
	tel_rcu_enter();
	uint64_t reloads = tel_reloads(x);
	const struct hc_policy *pol = tel_policy(x);
	pthread_mutex_lock(&pool_cache.lock);
	pool_cache_fill(pol, reloads);
	memcpy(s, pool_cache.s, sizeof(s));
	nr = pool_cache.none_rooms;
	nu = pool_cache.none_users;
	gen = pool_cache.gen;
	pthread_mutex_unlock(&pool_cache.lock);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "view_generation", gen);
	rte_tel_data_add_dict_u64(d, "no_pool_rooms", nr);
	rte_tel_data_add_dict_u64(d, "no_pool_users", nu);
	for (unsigned i = 0; i < pol->n_pools; i++) {
		struct rte_tel_data *e = rte_tel_data_alloc();
		if (e == NULL) {
			rc = -1;
			break;
		}
		rte_tel_data_start_dict(e);
		pool_fields(e, &pol->pool[i], &s[i]);
		char key[16];
		snprintf(key, sizeof(key), "%u", pol->pool[i].id);
		rte_tel_data_add_dict_container(d, key, e, 0);
	}
	tel_rcu_leave();
	return rc;
}

/* One pool (parameter: pool id) and its room-size histogram (hist_width:
 * bucket_width).  Rooms above max are counted in above_max, not in the
 * histogram.  The pool's config, its index and the sums all come from one
 * read of the policy (an index from one buffer used in the other indexed
 * past s[]). */
static int tel_pool(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	unsigned long id;
	const struct hc_decide *x = tel_decide;
	if (x == NULL || params == NULL || *params == '\0' ||
	    tel_param(params, 0, &id) != 0 || id > 65535)
		return -1;
	uint64_t hist[TEL_HIST_MAX];
	struct tel_pool_sum s;
	uint64_t gen;
	tel_rcu_enter();
	uint64_t reloads = tel_reloads(x);
	const struct hc_policy *pol = tel_policy(x);
	const struct hc_pool_cfg *pc = hc_policy_pool(pol, (uint16_t)id);
	if (pc == NULL) {
		tel_rcu_leave();
		return -1;
	}
	struct hc_pool_cfg c = *pc; /* the reply is built after the read section */
	unsigned i = (unsigned)(pc - pol->pool);
	pthread_mutex_lock(&pool_cache.lock);
	pool_cache_fill(pol, reloads);
	uint32_t width = pool_cache.width[i];
	unsigned nb = pool_cache.nb[i];
	memcpy(hist, pool_cache.hist[i], sizeof(hist[0]) * nb);
	s = pool_cache.s[i];
	gen = pool_cache.gen;
	pthread_mutex_unlock(&pool_cache.lock);
	tel_rcu_leave();
	struct rte_tel_data *h = rte_tel_data_alloc();
	if (h == NULL)
		return -1;
	rte_tel_data_start_array(h, RTE_TEL_U64_VAL);
	for (unsigned b = 0; b < nb; b++)
		rte_tel_data_add_array_u64(h, hist[b]);
	rte_tel_data_start_dict(d);
	pool_fields(d, &c, &s);
	rte_tel_data_add_dict_u64(d, "view_generation", gen);
	rte_tel_data_add_dict_u64(d, "bucket_width", width);
	rte_tel_data_add_dict_container(d, "histogram", h, 0);
	return 0;
}

static int tel_version(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", HC_VERSION);
	rte_tel_data_add_dict_u64(d, "protocol", HC_PROTO_VERSION);
	/* started with --config: SIGHUP reloads that file, else its keys
	 * file only (headcountctl reload tells which without waiting) */
	if (tel_dp != NULL)
		rte_tel_data_add_dict_u64(d, "config_file", tel_dp->cfg->policy_file != NULL);
	return 0;
}

static const struct {
	const char *name;
	telemetry_cb fn;
	const char *help;
} tel_cmds[] = {
	{"/headcount/stats", tel_stats, "All headcount counters. No parameters"},
	{"/headcount/room", tel_room, "Users in one room from the RCU view. Parameter: room id"},
	{"/headcount/rooms", tel_rooms,
	 "Non-empty rooms (id, users), 200 per page. Parameter: first room id"},
	{"/headcount/room_pools", tel_room_pools,
	 "Non-empty rooms (id, users, pool), 150 per page. Parameter: first room id"},
	{"/headcount/gateways", tel_gateways,
	 "Known gateways, one dict each, 25 per page. Parameter: first gateway id"},
	{"/headcount/pools", tel_pools,
	 "Per pool: users, rooms, below min, above target. No parameters"},
	{"/headcount/pool", tel_pool, "One pool and its room-size histogram. Parameter: pool id"},
	{"/headcount/keys_reload", tel_keys_reload,
	 "Read the keys file again (like SIGHUP). No parameters"},
	{"/headcount/ha", tel_ha_cmd, "HA role, epoch; ,master or ,backup: switch (keepalived)"},
	{"/headcount/control", tel_control,
	 "Control core: seats, placements, admission, balancing. No parameters"},
	{"/headcount/version", tel_version,
	 "The appliance's version and protocol version. No parameters"},
};

/* Every command, through the gate: refused (-1, DPDK answers null) once
 * hc_telemetry_close has begun. */
static int tel_gate(const char *cmd, const char *params, struct rte_tel_data *d)
{
	__atomic_add_fetch(&tel_busy, 1, __ATOMIC_SEQ_CST);
	int rc = -1;
	if (!__atomic_load_n(&tel_shut, __ATOMIC_SEQ_CST)) {
		for (size_t i = 0; i < sizeof(tel_cmds) / sizeof(tel_cmds[0]); i++)
			if (strcmp(cmd, tel_cmds[i].name) == 0) {
				rc = tel_cmds[i].fn(cmd, params, d);
				break;
			}
	}
	__atomic_sub_fetch(&tel_busy, 1, __ATOMIC_SEQ_CST);
	return rc;
}

int hc_telemetry_call(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return tel_gate(cmd, params, d);
}

int hc_telemetry_register(struct hc_dataplane *dp)
{
	tel_dp = dp;
	int rc = 0;
	for (size_t i = 0; i < sizeof(tel_cmds) / sizeof(tel_cmds[0]); i++)
		rc |= rte_telemetry_register_cmd(tel_cmds[i].name, tel_gate, tel_cmds[i].help);
	return rc;
}
