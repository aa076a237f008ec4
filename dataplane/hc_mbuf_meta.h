/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_mbuf_meta.h - what the dataplane remembers about a frame inside its
 * mbuf, in a registered mbuf dynamic field (rte_mbuf_dyn.h).
 *
 * A validated datagram may wait in a hand-off ring or a sequencer's
 * reorder window before it is applied; where its UDP payload starts is
 * found once, by the parser, and kept here rather than parsed again or
 * hidden in a field that means something else (m->hash).  m->port keeps
 * the port it arrived on (where its gateway is).
 */
#ifndef HC_MBUF_META_H
#define HC_MBUF_META_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

/* Byte offset of the field in struct rte_mbuf; valid after register. */
extern int hc_mbuf_meta_offset;

/* Register the field (idempotent: every caller gets the same offset).
 * Returns 0, or -errno when the mbuf has no room left for it. */
int hc_mbuf_meta_register(void);

/* The UDP payload's offset from the start of the frame. */
static inline void hc_mbuf_set_payload_off(struct rte_mbuf *m, uint16_t off)
{
	*RTE_MBUF_DYNFIELD(m, hc_mbuf_meta_offset, uint16_t *) = off;
}

static inline uint16_t hc_mbuf_payload_off(const struct rte_mbuf *m)
{
	return *RTE_MBUF_DYNFIELD(m, hc_mbuf_meta_offset, const uint16_t *);
}

/* The payload (a validated datagram: header first). */
static inline const uint8_t *hc_mbuf_payload(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, const uint8_t *, hc_mbuf_payload_off(m));
}

#endif /* HC_MBUF_META_H */
