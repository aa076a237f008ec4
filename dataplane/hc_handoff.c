/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_handoff.c - creation of the worker-to-worker rings (see hc_handoff.h).
 * Slow path only; the fast-path helpers are inline in the header.
 */
#include "hc_handoff.h"

#include <errno.h>
#include <stdio.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

int hc_handoff_create(struct hc_handoff *const ho[], unsigned n, int socket)
{
	char name[RTE_RING_NAMESIZE];
	unsigned dgram_ring = hc_handoff_dgram_ring_size(n), op_ring = hc_handoff_op_ring_size(n);

	for (unsigned s = 0; s < n; s++) {
		ho[s]->self = s;
		ho[s]->n = n;
		for (unsigned d = 0; d < n; d++) {
			if (s == d)
				continue;
			snprintf(name, sizeof(name), "hc_dg_%u_%u", s, d);
			struct rte_ring *dg = rte_ring_create(name, dgram_ring, socket,
						    RING_F_SP_ENQ | RING_F_SC_DEQ);
			snprintf(name, sizeof(name), "hc_op_%u_%u", s, d);
			struct rte_ring *op = rte_ring_create_elem(name, sizeof(struct hc_op),
						    op_ring, socket,
						    RING_F_SP_ENQ | RING_F_SC_DEQ);
			ho[s]->stage[d] = rte_malloc_socket("hc_stage",
				HC_STAGE_OPS * sizeof(struct hc_op), 64, socket);
			if (dg == NULL || op == NULL || ho[s]->stage[d] == NULL) {
				rte_ring_free(dg);
				rte_ring_free(op);
				hc_handoff_destroy(ho, n);
				return -ENOMEM;
			}
			ho[s]->dgram_out[d] = dg;
			ho[d]->dgram_in[s] = dg;
			ho[s]->op_out[d] = op;
			ho[d]->op_in[s] = op;
		}
	}
	return 0;
}

void hc_handoff_destroy(struct hc_handoff *const ho[], unsigned n)
{
	for (unsigned s = 0; s < n; s++) {
		for (unsigned d = 0; d < n; d++) {
			if (ho[s]->dgram_out[d] != NULL) {
				struct rte_mbuf *m;
				while (rte_ring_dequeue(ho[s]->dgram_out[d], (void **)&m) == 0)
					rte_pktmbuf_free(m);
			}
			rte_ring_free(ho[s]->dgram_out[d]);
			rte_ring_free(ho[s]->op_out[d]);
			rte_free(ho[s]->stage[d]);
			ho[s]->dgram_out[d] = ho[s]->op_out[d] = NULL;
			ho[d]->dgram_in[s] = ho[d]->op_in[s] = NULL;
			ho[s]->stage[d] = NULL;
		}
	}
}
