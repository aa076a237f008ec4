/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_gw_impair.h - a test impairment for a gateway session: hold a
 * fraction of datagrams (sent or received) for a delay, so they arrive
 * behind later ones (reordering with delay).  This kernel has no netem;
 * loss and duplication are done below, on the veth, by tc-bpf
 * (tests/integration/hc_impair_bpf.c).  Off unless configured.
 */
#ifndef HC_GW_IMPAIR_H
#define HC_GW_IMPAIR_H

#include <stdint.h>

struct hc_gw;

/* Turn the impairment on for session g (both directions; not part of
 * the public API: in-tree tools and tests only).  0, or -1 (ENOMEM). */
int hc_gw_set_impairment(struct hc_gw *g, double fraction, uint32_t delay_ms, uint32_t seed);

/* While on, session g's socket takes nothing: every send is refused as a
 * full socket's (EAGAIN), so the session's own send queues fill (tests
 * only: a UDP socket on this machine never fills). */
void hc_gw_block_sends(struct hc_gw *g, int on);

enum { HC_GW_IMPAIR_TX = 0, HC_GW_IMPAIR_RX = 1 };

struct hc_gw_impair;

struct hc_gw_impair *hc_gw_impair_new(double fraction, uint32_t delay_ms, uint32_t seed);
void hc_gw_impair_free(struct hc_gw_impair *im);
/* Decide for one datagram: 1 if it was taken (held), 0 if it passes now. */
int hc_gw_impair_hold(struct hc_gw_impair *im, int dir, const uint8_t *p, uint16_t len,
		      uint64_t now_us);
/* A held datagram whose time has come: its direction, or -1 if none. */
int hc_gw_impair_due(struct hc_gw_impair *im, uint64_t now_us, uint8_t *p, uint16_t *len);

#endif /* HC_GW_IMPAIR_H */
