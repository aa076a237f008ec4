/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_links.h - the data ports' links, read by a control thread of their
 * own four times a second (hc_links.c says why not the control core):
 * how many ports have no link now (keepalived's check of an HA pair,
 * /headcount/ha links_down), and which ports lost theirs (seen up since
 * the start, down now: the state file keeps its gateways meanwhile,
 * hc_restart_links).
 */
#ifndef HC_LINKS_H
#define HC_LINKS_H

#include <stdint.h>

/* Start the watch once the ports are started; stop it before they close.
 * 0 or -errno. */
int hc_links_start(void);
void hc_links_stop(void);

/* The last round's ports and, of them, without a link (0, 0 before the
 * first round or without the watch). */
void hc_links_read(uint32_t *ports, uint32_t *down);
/* Bit p (p < 64): port p was seen up and is down now. */
uint64_t hc_links_lost(void);

#endif /* HC_LINKS_H */
