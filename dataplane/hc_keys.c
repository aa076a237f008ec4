/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_keys.c - the gateways' keys as the dataplane reads them (see
 * hc_dataplane.h, hc_dp_keys_*).
 *
 * One keyring (proto/hc_auth.h) at a time, published with liburcu's
 * rcu_xchg_pointer: workers (QSBR readers: a quiescent state every few
 * hundred loops, hc_worker.c) and the control lcore read it without
 * locks; a reload installs a new ring and the old one is freed by
 * call_rcu once every reader has passed a quiescent state.
 */
#include <stdlib.h>

#include <urcu-qsbr.h>

#include <sodium.h>

#include "hc_dataplane.h"

struct retired_ring {
	struct rcu_head rcu;
	struct hc_auth_keyring *ring;
};

static void free_retired(struct rcu_head *head)
{
	struct retired_ring *r = caa_container_of(head, struct retired_ring, rcu);
	sodium_memzero(r->ring, sizeof(*r->ring));
	free(r->ring);
	free(r);
}

int hc_dp_keys_install(struct hc_dataplane *dp, struct hc_auth_keyring *ring)
{
	struct retired_ring *r = malloc(sizeof(*r));
	if (r == NULL)
		return -1;
	struct hc_auth_keyring *old = rcu_xchg_pointer(&dp->keys, ring);
	__atomic_store_n(&dp->auth, ring != NULL, __ATOMIC_RELEASE);
	if (old == NULL) {
		free(r);
		return 0;
	}
	r->ring = old;
	call_rcu(&r->rcu, free_retired);
	return 0;
}

void hc_dp_keys_free(struct hc_dataplane *dp)
{
	struct hc_auth_keyring *ring = dp->keys;
	dp->keys = NULL;
	if (ring != NULL) {
		sodium_memzero(ring, sizeof(*ring));
		free(ring);
	}
}
