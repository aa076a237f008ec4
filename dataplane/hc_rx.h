/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_rx.h - one RX burst and the home worker's input (hc_rx.c).
 */
#ifndef HC_RX_H
#define HC_RX_H

#include <stdint.h>

#include "hc_worker_state.h"

/*
 * Handle one received burst (parse, answer ARP, validate, send datagrams to
 * their home or sequence them here).  Frees or keeps every mbuf.  Exposed
 * for tests and the benchmark; the loop calls it.
 */
void hc_rx_burst(struct hc_worker *w, uint16_t port, struct rte_mbuf **pkts,
		  unsigned n, uint64_t now);

/* Drain incoming hand-off rings (datagrams, ops) and the control core's
 * decisions once; returns the work items handled. */
unsigned hc_rx_poll_handoff(struct hc_worker *w, uint64_t now);


#endif /* HC_RX_H */
