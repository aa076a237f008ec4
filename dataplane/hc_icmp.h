/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_icmp.h - ICMP echo requests to --ip answered in place (hc_icmp.c),
 * so that a ping can tell whether the appliance's dataplane is alive.
 */
#ifndef HC_ICMP_H
#define HC_ICMP_H

#include <stdint.h>

#include "hc_worker_state.h"

/* Replies per second each worker may send, and how many at once after a
 * quiet spell: a ping flood costs a worker at most this many replies,
 * the rest are counted drops (icmp_rate_limited). */
#define HC_ICMP_RATE 1000
#define HC_ICMP_BURST 100

/* May worker id send a reply at TSC time now?  1 (a token taken) or 0.
 * Exposed for the unit tests. */
int hc_icmp_bucket_take(unsigned id, uint64_t now);

/* m is an IPv4 packet for our address, header verified, protocol not UDP
 * (hc_parse.h said not_udp).  Answer it if it is an ICMP echo request
 * that checks out, else count why not; m is consumed either way.  Returns
 * 0 if m was no ICMP at all (m untouched: the caller counts it). */
int hc_icmp_input(struct hc_worker *w, uint16_t port, struct rte_mbuf *m, uint64_t now);

#endif /* HC_ICMP_H */
