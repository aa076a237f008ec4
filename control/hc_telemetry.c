/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_telemetry.c - the appliance's rte_telemetry commands.
 *
 *   /headcount/stats      every counter (as in --dump-stats)
 *   /headcount/room,<id>  users in one room, from the RCU view
 *   /headcount/gateways   per-gateway sequencing state (first 100)
 *   /headcount/control    the control core's counters (seat book,
 *                         placement, admission, balancer, directives)
 *
 * Runs in DPDK's telemetry thread: reads worker counters with relaxed
 * loads and the room view under rcu_read_lock.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "hc_decide.h"
#include "hc_control.h"
#include "hc_stats.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#include <stdlib.h>
#include <rte_telemetry.h>
#include <urcu-qsbr.h>

#include "hc_view.h"

static struct hc_dataplane *tel_dp;
static const struct hc_decide *tel_decide;

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
	for (int r = 0; r < HC_DROP_COUNT; r++) {
		char key[64];
		snprintf(key, sizeof(key), "drop_%s", hc_drop_names[r]);
		rte_tel_data_add_dict_u64(d, key, t->w.drops[r]);
	}
	return 0;
}

static int tel_room(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	if (params == NULL || *params == '\0')
		return -1;
	char *end;
	unsigned long room = strtoul(params, &end, 10);
	if (*end != '\0')
		return -1;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "room", room);
	tel_rcu_enter();
	struct hc_room_view *v = hc_view_get();
	uint64_t users = (v != NULL && room < v->max_rooms) ? v->room_users[room] : 0;
	uint64_t gen = v != NULL ? v->generation : 0;
	tel_rcu_leave();
	rte_tel_data_add_dict_u64(d, "users", users);
	rte_tel_data_add_dict_u64(d, "view_generation", gen);
	return 0;
}

/* Non-empty rooms from the RCU view, 200 per page: parameter = the first
 * room id to look at; "next" is where the following page starts (0: done). */
static int tel_rooms(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	unsigned long start = 1;
	if (params != NULL && *params != '\0') {
		char *end;
		start = strtoul(params, &end, 10);
		if (*end != '\0')
			return -1;
	}
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
	if (v != NULL) {
		gen = v->generation;
		users = v->users;
		for (uint64_t r = start; r < v->max_rooms; r++) {
			if (v->room_users[r] == 0)
				continue;
			if (n == 200) {
				next = r;
				break;
			}
			rte_tel_data_add_array_u64(arr, r);
			rte_tel_data_add_array_u64(arr, v->room_users[r]);
			n++;
		}
	}
	tel_rcu_leave();
	rte_tel_data_add_dict_u64(d, "view_generation", gen);
	rte_tel_data_add_dict_u64(d, "users", users);
	rte_tel_data_add_dict_u64(d, "next", next);
	rte_tel_data_add_dict_container(d, "rooms", arr, 0);
	return 0;
}

static int tel_gateways(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	unsigned shown = 0;
	for (uint32_t g = 0; g < tel_dp->cfg->max_gateways && shown < 100; g++) {
		struct hc_dp_gateway gs;
		if (hc_dp_gateway_info(tel_dp, (uint16_t)g, &gs) != 0)
			continue;
		char key[32], val[256];
		snprintf(key, sizeof(key), "%u", g);
		snprintf(val, sizeof(val),
			 "incarnation=%u next_seq=%u users=%" PRIu64 " datagrams=%" PRIu64
			 " heartbeats=%" PRIu64 " nacks=%" PRIu64 " lost=%" PRIu64
			 " duplicates=%" PRIu64 " resets=%" PRIu64 " deaths=%" PRIu64
			 " heard_ms_ago=%" PRIu64,
			 gs.incarnation, gs.next_seq, gs.users, gs.datagrams, gs.heartbeats,
			 gs.nacks, gs.lost, gs.duplicates, gs.resets, gs.deaths,
			 (now - gs.last_heard_tsc) * 1000 / hz);
		rte_tel_data_add_dict_string(d, key, val);
		shown++;
	}
	return 0;
}

int hc_telemetry_register(struct hc_dataplane *dp)
{
	tel_dp = dp;
	int rc = rte_telemetry_register_cmd("/headcount/stats", tel_stats,
					    "All headcount counters. No parameters");
	rc |= rte_telemetry_register_cmd("/headcount/room", tel_room,
					 "Users in one room from the RCU view. Parameter: room id");
	rc |= rte_telemetry_register_cmd("/headcount/rooms", tel_rooms,
					 "Non-empty rooms (id, users), 200 per page. Parameter: first room id");
	rc |= rte_telemetry_register_cmd("/headcount/gateways", tel_gateways,
					 "Per-gateway sequencing state (first 100). No parameters");
	rc |= rte_telemetry_register_cmd("/headcount/keys_reload", tel_keys_reload,
					 "Read the keys file again (like SIGHUP). No parameters");
	rc |= rte_telemetry_register_cmd("/headcount/control", tel_control,
					 "Control core: seats, placements, admission, balancing. No parameters");
	return rc;
}
