/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_unit_main.c - the unit test runner: EAL (no hugepages, no PCI, no
 * shared files, its own file prefix), two mbuf pools (2 KiB and 9 KiB
 * data rooms), every CUnit suite.
 * Exits non-zero if any assertion failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "hc_unit.h"

struct rte_mempool *hc_test_pool, *hc_test_big_pool;

static struct rte_mbuf *mbuf_from(struct rte_mempool *mp, const void *data, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (m == NULL)
		return NULL;
	char *p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(p, data, len);
	return m;
}

static FILE *log_stream, *log_before;
static char *log_text;
static size_t log_len;

void hc_test_log_begin(void)
{
	log_text = NULL;
	log_len = 0;
	log_stream = open_memstream(&log_text, &log_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log_stream);
	log_before = rte_log_get_stream();
	rte_openlog_stream(log_stream);
}

char *hc_test_log_end(void)
{
	rte_openlog_stream(log_before);
	fclose(log_stream);
	return log_text;
}

int hc_test_ring_port(const char *name, unsigned rx_slots, struct rte_ring **rxr,
		      struct rte_ring **txr)
{
	char rn[RTE_RING_NAMESIZE];
	snprintf(rn, sizeof(rn), "%s_rx", name);
	*rxr = rte_ring_create(rn, rx_slots, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(rn, sizeof(rn), "%s_tx", name);
	*txr = rte_ring_create(rn, 512, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (*rxr == NULL || *txr == NULL)
		return -1;
	int p = rte_eth_from_rings(name, rxr, 1, txr, 1, rte_socket_id());
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (p < 0 || rte_eth_dev_configure((uint16_t)p, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup((uint16_t)p, 0, 64, rte_socket_id(), NULL, hc_test_pool) != 0 ||
	    rte_eth_tx_queue_setup((uint16_t)p, 0, 64, rte_socket_id(), NULL) != 0 ||
	    rte_eth_dev_start((uint16_t)p) != 0)
		return -1;
	return p;
}

void hc_test_ring_port_free(uint16_t port, struct rte_ring *rxr, struct rte_ring *txr)
{
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_ring_free(rxr);
	rte_ring_free(txr);
}

struct rte_mbuf *hc_test_mbuf(const void *data, size_t len)
{
	return mbuf_from(hc_test_pool, data, len);
}

struct rte_mbuf *hc_test_big_mbuf(const void *data, size_t len)
{
	return mbuf_from(hc_test_big_pool, data, len);
}

struct rte_mbuf *hc_test_mbuf_chain(const void *data, size_t len, size_t seg)
{
	const uint8_t *d = data;
	struct rte_mbuf *head = NULL;
	for (size_t off = 0; off < len || head == NULL; off += seg) {
		size_t n = len - off < seg ? len - off : seg;
		struct rte_mbuf *m = hc_test_mbuf(d + off, n);
		if (m == NULL || (head != NULL && rte_pktmbuf_chain(head, m) != 0)) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
		if (head == NULL)
			head = m;
	}
	return head;
}

int main(void)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=hcunit%d", (int)getpid());
	char *eal_argv[] = {"hc-unit", "-l", "0", "--no-huge", "-m", "512", "--no-pci",
			    "--no-shconf", "--no-telemetry", prefix,
			    "--log-level=lib.eal:error", NULL};
	if (rte_eal_init(10, eal_argv) < 0) {
		fprintf(stderr, "hc-unit: EAL init failed\n");
		return 1;
	}
	hc_test_pool = rte_pktmbuf_pool_create("hc_test", 8191, 0, 0,
					       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	hc_test_big_pool = rte_pktmbuf_pool_create("hc_test_big", 255, 0, 0,
						   9216 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	if (hc_test_pool == NULL || hc_test_big_pool == NULL ||
	    CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_SuiteInfo suites[] = {
		hc_suite_proto, hc_suite_parse, hc_suite_members, hc_suite_usertab, hc_suite_sequencer,
		hc_suite_view, hc_suite_worker, hc_suite_worker_loop, hc_suite_balance, hc_suite_rooms,
		hc_suite_control, hc_suite_gateway, hc_suite_gateway_embed, hc_suite_snapshot,
		hc_suite_gateway_shard, hc_suite_config, hc_suite_deploy, hc_suite_deploy_ctl_pool,
		hc_suite_deploy_icmp, hc_suite_stress,
		CU_SUITE_INFO_NULL,
	};
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "hc-unit: cannot register suites\n");
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	/* a suite whose setup failed ran none of its tests: that fails too */
#define HC_UNIT_FAILED() (CU_get_number_of_failures() + CU_get_number_of_tests_failed() + \
			  CU_get_number_of_suites_failed())
	unsigned failed = 0;
	const char *only = getenv("HC_UNIT_SUITES"); /* "a,b": only these (a developer's run) */
	if (only != NULL && *only != '\0') {
		char list[256];
		snprintf(list, sizeof(list), "%s", only);
		char *save = NULL;
		for (char *n = strtok_r(list, ",", &save); n != NULL; n = strtok_r(NULL, ",", &save)) {
			CU_pSuite su = CU_get_suite(n);
			if (su == NULL) {
				fprintf(stderr, "hc-unit: no suite '%s'\n", n);
				failed++;
				continue;
			}
			CU_basic_run_suite(su);
			failed += HC_UNIT_FAILED();
		}
	} else {
		CU_basic_run_tests();
		failed = HC_UNIT_FAILED();
	}
	CU_cleanup_registry();
	rte_mempool_free(hc_test_pool);
	rte_mempool_free(hc_test_big_pool);
	char rundir[PATH_MAX];
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(rundir); /* left empty by --no-shconf --no-telemetry */
	return failed == 0 ? 0 : 1;
}
