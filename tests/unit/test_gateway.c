/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_gateway.c - libheadcount's own pieces: the gateway's membership
 * table against a reference model (random joins, moves, leaves, growth),
 * and the test impairment (held datagrams come out in order, after their
 * delay, and only the configured fraction is held).
 */
#include <stdlib.h>
#include <string.h>

#include "hc_gw_impair.h"
#include "hc_gw_table.h"
#include "hc_unit.h"

static void test_table_vs_model(void)
{
	enum { USERS = 20000, OPS = 400000 };
	static uint32_t model[USERS];
	struct hc_gw_table t;
	memset(model, 0, sizeof(model));
	CU_ASSERT_EQUAL_FATAL(hc_gw_table_init(&t, 16), 0);
	uint64_t rng = 12345, n = 0;
	for (int i = 0; i < OPS; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t u = (uint32_t)(rng >> 33) % USERS;
		uint64_t user = (uint64_t)u * 0x9E3779B97F4A7C15ull; /* spread ids */
		if ((rng >> 20) % 3 != 0) {
			uint32_t room = 1 + (uint32_t)(rng >> 40) % 500;
			CU_ASSERT_EQUAL(hc_gw_table_set(&t, user, room, 0), 0);
			n += model[u] == 0;
			model[u] = room;
		} else {
			int rc = hc_gw_table_del(&t, user);
			CU_ASSERT_EQUAL(rc, model[u] != 0 ? 0 : -1);
			n -= model[u] != 0;
			model[u] = 0;
		}
	}
	CU_ASSERT_EQUAL(t.n, n);
	unsigned bad = 0;
	for (uint32_t u = 0; u < USERS; u++) {
		const struct hc_gw_entry *e = hc_gw_table_find(&t, (uint64_t)u * 0x9E3779B97F4A7C15ull);
		bad += model[u] == 0 ? e != NULL : (e == NULL || e->room != model[u]);
	}
	CU_ASSERT_EQUAL(bad, 0);
	hc_gw_table_free(&t);
}

static void test_impairment(void)
{
	struct hc_gw_impair *im = hc_gw_impair_new(0.1, 20, 7);
	CU_ASSERT_PTR_NOT_NULL_FATAL(im);
	unsigned held = 0;
	for (uint32_t i = 0; i < 10000; i++) {
		uint8_t p[4];
		memcpy(p, &i, 4);
		held += (unsigned)hc_gw_impair_hold(im, HC_GW_IMPAIR_TX, p, 4, 1000000 + i);
	}
	CU_ASSERT_TRUE(held > 850 && held < 1150); /* 10 % +- 1.5 % */
	uint8_t out[1500];
	uint16_t len;
	CU_ASSERT_EQUAL(hc_gw_impair_due(im, 1000000 + 19999, out, &len), -1); /* not yet */
	unsigned got = 0;
	uint32_t last = 0;
	while (hc_gw_impair_due(im, 2000000, out, &len) == HC_GW_IMPAIR_TX) {
		uint32_t v;
		memcpy(&v, out, 4);
		CU_ASSERT_EQUAL(len, 4);
		CU_ASSERT_TRUE(got == 0 || v > last);
		last = v;
		got++;
	}
	CU_ASSERT_EQUAL(got, held);
	hc_gw_impair_free(im);
}

static CU_TestInfo tests[] = {
	{"membership table vs a model", test_table_vs_model},
	{"impairment: fraction, delay, order", test_impairment},
	CU_TEST_INFO_NULL,
};

const CU_SuiteInfo hc_suite_gateway = {"gateway library", NULL, NULL, NULL, NULL, tests};
