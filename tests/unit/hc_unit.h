/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_unit.h - shared by the CUnit suites: suite registration and the test
 * environment (an EAL with --no-huge, one mbuf pool).
 */
#ifndef HC_UNIT_H
#define HC_UNIT_H

#include <CUnit/CUnit.h>
#include <rte_mempool.h>

extern struct rte_mempool *hc_test_pool;

/* One suite per file, each a table of its tests (CU_TestInfo). */
extern const CU_SuiteInfo hc_suite_proto;
extern const CU_SuiteInfo hc_suite_parse;
extern const CU_SuiteInfo hc_suite_members;
extern const CU_SuiteInfo hc_suite_sequencer;
extern const CU_SuiteInfo hc_suite_view;
extern const CU_SuiteInfo hc_suite_worker;
extern const CU_SuiteInfo hc_suite_balance;
extern const CU_SuiteInfo hc_suite_rooms;
extern const CU_SuiteInfo hc_suite_control;
extern const CU_SuiteInfo hc_suite_gateway;
extern const CU_SuiteInfo hc_suite_snapshot;


/* Copy len bytes into a fresh single-segment mbuf from hc_test_pool. */
struct rte_mbuf *hc_test_mbuf(const void *data, size_t len);

#endif
