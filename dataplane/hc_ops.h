/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_ops.h - in-order datagrams to per-user ops, ops applied (hc_ops.c).
 */
#ifndef HC_OPS_H
#define HC_OPS_H

#include <stdint.h>

#include "hc_worker_state.h"

/* Sequencer hook: the next datagram (EVENTS or SNAPSHOT) of a gateway, in
 * order; consumes m. */
void hc_ops_deliver(void *ctx, struct rte_mbuf *m);

/* Send one op to worker dst (ourselves included), waiting for ring room
 * while doing our share of hand-off work.  Returns -1 only when stopping.
 * (The snapshot stage's emit hook.) */
int hc_ops_emit(void *ctx, unsigned dst, const struct hc_op *op);

/* Apply the ops gathered for our own users, and free the EVENTS
 * datagrams they were read from. */
void hc_ops_apply_local(struct hc_worker *w);

/* Apply whatever other workers handed us; returns ops applied. */
unsigned hc_ops_drain(struct hc_worker *w);

/* Apply gathered own ops and flush staged ones to other workers (the
 * EVENTS datagrams read meanwhile are freed, hc_ops_apply_local). */
void hc_ops_commit(struct hc_worker *w);


#endif /* HC_OPS_H */
