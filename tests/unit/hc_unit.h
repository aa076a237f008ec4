/*
 * hc_unit.h - shared by the CUnit suites: suite registration and the test
 * environment (an EAL with --no-huge, one mbuf pool).
 */
#ifndef HC_UNIT_H
#define HC_UNIT_H

#include <CUnit/CUnit.h>
#include <rte_mempool.h>

extern struct rte_mempool *hc_test_pool;

int hc_test_register_proto(void);
int hc_test_register_parse(void);
int hc_test_register_members(void);
int hc_test_register_sequencer(void);
int hc_test_register_view(void);
int hc_test_register_worker(void);
int hc_test_register_balance(void);
int hc_test_register_rooms(void);
int hc_test_register_control(void);
int hc_test_register_gateway(void);

/* Copy len bytes into a fresh single-segment mbuf from hc_test_pool. */
struct rte_mbuf *hc_test_mbuf(const void *data, size_t len);

#endif
