/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_view.c - the RCU room view: the merge sums exactly (whole or in
 * slices, into a retired view's memory as into a new one), and readers
 * running concurrently with thousands of publishes never see a freed or
 * half-written view (freed views are poisoned first, so a reader that
 * outlived its grace period would see a broken invariant); the telemetry
 * commands that read it take decimal parameters only, and refuse every
 * command once the appliance is stopping.
 */
#include <pthread.h>
#include <string.h>

#include <rte_telemetry.h>
#include <urcu-qsbr.h>

#include "hc_stats.h"
#include "hc_unit.h"
#include "hc_view.h"

#define ROOMS 4096

static void test_sum(void)
{
	static uint32_t a[ROOMS], b[ROOMS], c[ROOMS];
	const uint32_t *arrays[] = {a, b, c};
	for (uint32_t r = 1; r < ROOMS; r++) {
		a[r] = r % 7;
		b[r] = (r % 5 == 0) ? 3 : 0;
		c[r] = r == 77 ? 1000 : 0;
	}
	struct hc_room_view *v = hc_view_sum(arrays, 3, ROOMS, 9);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	uint64_t users = 0;
	uint32_t rooms = 0;
	for (uint32_t r = 1; r < ROOMS; r++) {
		uint32_t want = a[r] + b[r] + c[r];
		CU_ASSERT_EQUAL(v->room_users[r], want);
		users += want;
		rooms += want != 0;
	}
	CU_ASSERT_EQUAL(v->users, users);
	CU_ASSERT_EQUAL(v->rooms, rooms);
	CU_ASSERT_EQUAL(v->largest_room, 77 % 7 + 1000);
	CU_ASSERT_EQUAL(v->generation, 9);
	free(v);
}

/* A view summed a slice at a time (the control core's merge, one slice a
 * pass) equals the whole sum, slices of any size; a retired view's memory
 * serves the next one, its sums at zero again (not added to the old). */
static void test_sum_slices_and_spare(void)
{
	static uint32_t a[ROOMS], b[ROOMS];
	const uint32_t *arrays[] = {a, b};
	for (uint32_t r = 1; r < ROOMS; r++) {
		a[r] = (r * 31) % 11;
		b[r] = r == 4000 ? 900 : r % 3;
	}
	struct hc_room_view *whole = hc_view_sum(arrays, 2, ROOMS, 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(whole);
	const uint32_t slices[] = {1, 7, 1000, 4095, 65536};
	for (unsigned k = 0; k < sizeof(slices) / sizeof(slices[0]); k++) {
		struct hc_room_view *v = hc_view_alloc(ROOMS, 6);
		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		for (uint32_t at = 1; at < ROOMS; at += slices[k])
			hc_view_sum_range(v, arrays, 2, at, at + slices[k]);
		CU_ASSERT_EQUAL(memcmp(v->room_users, whole->room_users, ROOMS * sizeof(uint32_t)), 0);
		CU_ASSERT_EQUAL(v->users, whole->users);
		CU_ASSERT_EQUAL(v->rooms, whole->rooms);
		CU_ASSERT_EQUAL(v->largest_room, 900 + (4000 * 31) % 11);
		CU_ASSERT_EQUAL(v->generation, 6);
		free(v);
	}
	/* retired (published, then replaced), its memory comes back */
	rcu_register_thread();
	hc_view_publish(whole);
	hc_view_publish(NULL);
	rcu_barrier();
	struct hc_room_view *again = hc_view_alloc(ROOMS, 7);
	CU_ASSERT_PTR_EQUAL(again, whole);
	CU_ASSERT(again->users == 0 && again->rooms == 0 && again->largest_room == 0 &&
		  again->generation == 7 && again->room_users[0] == 0);
	hc_view_sum_range(again, arrays, 2, 1, ROOMS);
	CU_ASSERT_EQUAL(again->largest_room, 900 + (4000 * 31) % 11);
	uint64_t users = 0;
	for (uint32_t r = 1; r < ROOMS; r++)
		users += a[r] + b[r];
	CU_ASSERT_EQUAL(again->users, users);
	free(again);
	/* a spare of another size is not handed out */
	struct hc_room_view *other = hc_view_alloc(64, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	hc_view_publish(other);
	hc_view_publish(NULL);
	rcu_barrier();
	struct hc_room_view *big = hc_view_alloc(ROOMS, 9);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	CU_ASSERT_EQUAL(big->max_rooms, ROOMS);
	hc_view_sum_range(big, arrays, 2, 1, ROOMS); /* (ASan: its memory is ROOMS') */
	CU_ASSERT_EQUAL(big->users, users);
	free(big);
	hc_view_release_spare();
	rcu_unregister_thread();
}

static volatile int stop_readers;
static uint64_t freed;

static void poison(struct hc_room_view *v)
{
	memset(v->room_users, 0xA5, (size_t)v->max_rooms * sizeof(uint32_t));
	v->users = 0xdeadbeef;
	__atomic_add_fetch(&freed, 1, __ATOMIC_RELAXED);
}

struct reader_result {
	uint64_t reads, bad, backwards;
};

static void *reader(void *arg)
{
	struct reader_result *res = arg;
	uint64_t last_gen = 0;
	rcu_register_thread();
	while (!__atomic_load_n(&stop_readers, __ATOMIC_RELAXED)) {
		rcu_read_lock();
		struct hc_room_view *v = hc_view_get();
		if (v != NULL) {
			uint64_t sum = 0;
			for (uint32_t r = 0; r < v->max_rooms; r++)
				sum += v->room_users[r];
			if (sum != v->users || v->room_users[1] != (uint32_t)v->generation)
				res->bad++;
			if (v->generation < last_gen)
				res->backwards++;
			last_gen = v->generation;
			res->reads++;
		}
		rcu_read_unlock();
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

static void test_concurrent_readers(void)
{
	enum { READERS = 2, PUBLISHES = 3000 };
	pthread_t th[READERS];
	struct reader_result res[READERS];
	static uint32_t counts[ROOMS];
	const uint32_t *arrays[] = {counts};

	memset(res, 0, sizeof(res));
	hc_view_free_hook = poison;
	rcu_register_thread();
	stop_readers = 0;
	for (int i = 0; i < READERS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, reader, &res[i]), 0);
	for (uint64_t g = 1; g <= PUBLISHES; g++) {
		for (uint32_t r = 2; r < ROOMS; r++)
			counts[r] = (uint32_t)((r * g) % 13);
		counts[1] = (uint32_t)g; /* readers check room 1 == generation */
		struct hc_room_view *v = hc_view_sum(arrays, 1, ROOMS, g);
		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		hc_view_publish(v);
		rcu_quiescent_state();
	}
	__atomic_store_n(&stop_readers, 1, __ATOMIC_RELAXED);
	rcu_thread_offline();
	for (int i = 0; i < READERS; i++)
		pthread_join(th[i], NULL);
	rcu_thread_online();
	hc_view_publish(NULL);
	rcu_barrier();
	uint64_t reads = 0;
	for (int i = 0; i < READERS; i++) {
		CU_ASSERT_EQUAL(res[i].bad, 0);
		CU_ASSERT_EQUAL(res[i].backwards, 0);
		reads += res[i].reads;
	}
	CU_ASSERT(reads > 0);
	CU_ASSERT_EQUAL(freed, PUBLISHES); /* every view freed exactly once */
	hc_view_free_hook = NULL;
	rcu_unregister_thread();
}

/* cmd,params through the telemetry gate on a fresh reply: its return */
static int tel(const char *cmd, const char *params)
{
	struct rte_tel_data *d = rte_tel_data_alloc();
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	int rc = hc_telemetry_call(cmd, params, d);
	rte_tel_data_free(d);
	return rc;
}

/* A parameter is digits only (a sign, a space, junk, hex or a number past
 * unsigned long refused: "-5" read as 2^64 - 5 and "-1" as an empty last
 * page); after hc_telemetry_close every command is refused (a stopping
 * appliance frees what they read).  Last in this process: the gate stays
 * shut. */
static void test_telemetry_gate(void)
{
	CU_ASSERT_EQUAL(tel("/headcount/room", "12"), 0);
	CU_ASSERT_EQUAL(tel("/headcount/room", "0"), 0);
	/* (no /headcount/rooms that answers: its page is a container, which
	 * DPDK's telemetry thread frees after writing the reply, and
	 * rte_tel_data_free does not) */
	static const char *const bad[] = {"-5", "+5", " 5", "5 ", "0x10", "5x", "1e3",
					  "99999999999999999999999", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(tel("/headcount/room", bad[i]), -1);
		if (bad[i][0] != '\0')
			CU_ASSERT_EQUAL(tel("/headcount/rooms", bad[i]), -1);
	}
	CU_ASSERT_EQUAL(tel("/headcount/version", NULL), 0);
	CU_ASSERT_EQUAL(tel("/headcount/no_such", NULL), -1);
	hc_telemetry_close();
	CU_ASSERT_EQUAL(tel("/headcount/version", NULL), -1);
	CU_ASSERT_EQUAL(tel("/headcount/room", "12"), -1);
}

static CU_TestInfo tests[] = {
	{"merge sums exactly", test_sum},
	{"a view merged in slices; a retired view's memory serves again",
	 test_sum_slices_and_spare},
	{"readers during publishes", test_concurrent_readers},
	{"telemetry: decimal parameters, the gate shut at stop", test_telemetry_gate},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_view = {"view", NULL, NULL, NULL, NULL, tests};
