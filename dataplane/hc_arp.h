/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_arp.h - ARP requests answered in place (hc_arp.c).
 */
#ifndef HC_ARP_H
#define HC_ARP_H

#include <stdint.h>

#include "hc_worker_state.h"

/* m is an ARP request for our address (hc_parse.h): answer it in place. */
void hc_arp_answer(struct hc_worker *w, uint16_t port, struct rte_mbuf *m);


#endif /* HC_ARP_H */
