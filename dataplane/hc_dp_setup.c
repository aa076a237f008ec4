/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_dp_setup.c - build, launch and tear down the workers' state (slow
 * path): the public face is hc_dataplane.h.
 *
 * Sizes each worker's membership for its share of --max-users (users are
 * spread by hash, so a share is max_users / workers plus a margin of 1/64
 * and 4096 for the hash's unevenness: tens of standard deviations of a
 * random spread at any size), creates the sequencers and the
 * hand-off rings.  Ports and queues are assigned by hc_port.c.
 */
#include "hc_dataplane.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "hc_log.h"
#include "hc_mbuf_meta.h"
#include "hc_chan.h"
#include "hc_ops.h"
#include "hc_worker.h"

static uint32_t share_of(uint32_t max_users, unsigned n)
{
	uint64_t share = max_users / n;
	share += share / 64 + 4096;
	return share > max_users ? max_users : (uint32_t)share;
}

int hc_dataplane_init(struct hc_dataplane *dp, const struct hc_config *cfg,
		      unsigned n_workers, const unsigned *lcores, int with_control)
{
	struct hc_handoff *hos[HC_MAX_WORKERS];
	char name[64];
	int rc;

	if (n_workers == 0 || n_workers > HC_MAX_WORKERS)
		return -EINVAL;
	if (share_of(cfg->max_users, n_workers) > HC_USERTAB_MAX_CAPACITY) {
		HC_LOG(ERR, "--max-users %u over %u worker(s) is more than a worker's user table "
		       "holds (%u): give more worker lcores", cfg->max_users, n_workers,
		       (unsigned)HC_USERTAB_MAX_CAPACITY);
		return -E2BIG;
	}
	memset(dp, 0, sizeof(*dp));
	rc = hc_mbuf_meta_register();
	if (rc != 0)
		return rc;
	dp->cfg = cfg;
	dp->start_tsc = rte_rdtsc();
	dp->tsc_per_us = rte_get_tsc_hz() / 1000000u ? rte_get_tsc_hz() / 1000000u : 1;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	dp->start_wall_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	uint64_t gap_tsc = rte_get_tsc_hz() / 1000 * cfg->gap_timeout_ms;

	for (unsigned i = 0; i < n_workers; i++) {
		int socket = (int)rte_lcore_to_socket_id(lcores[i]);
		struct hc_worker *w = rte_zmalloc_socket("hc_worker", sizeof(*w),
							 RTE_CACHE_LINE_SIZE, socket);
		if (w == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		dp->workers[i] = w;
		dp->n_workers = i + 1;
		w->id = i;
		w->lcore = lcores[i];
		w->socket = socket;
		w->dp = dp;
		w->parse.ip = cfg->ip_be;
		w->parse.udp_port = rte_cpu_to_be_16((uint16_t)cfg->udp_port);
		w->max_rooms = cfg->max_rooms;
		w->max_gateways = cfg->max_gateways;
		w->burst = cfg->burst;
		/* a worker sharing its CPU with another lcore gives way when
		 * idle (busy pollers on one CPU otherwise starve each other) */
		rte_cpuset_t mine = rte_lcore_cpuset(lcores[i]);
		unsigned other;
		RTE_LCORE_FOREACH(other) {
			if (other == lcores[i])
				continue;
			rte_cpuset_t theirs = rte_lcore_cpuset(other), both;
			CPU_AND(&both, &mine, &theirs);
			if (CPU_COUNT(&both) > 0)
				w->yield_idle = 1;
		}
		for (unsigned p = 0; p < RTE_MAX_ETHPORTS; p++)
			w->txq[p] = HC_NO_TXQ;
		w->local = rte_malloc_socket("hc_local", HC_LOCAL_OPS * sizeof(struct hc_op),
					     64, socket);
		if (w->local == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		snprintf(name, sizeof(name), "hc_users_%u", i);
		rc = hc_members_init(&w->members, name, share_of(cfg->max_users, n_workers),
				     cfg->max_rooms, socket);
		if (rc != 0)
			goto fail;
		/* users are spread over the workers by id: each holds its
		 * share of a gateway's (exact with one worker) */
		w->members.gw_user_cap = (uint32_t)(((uint64_t)cfg->max_users_per_gw +
						     n_workers - 1) / n_workers);
		struct hc_seq_hooks hooks = {.deliver = hc_ops_deliver,
			.drop_users = hc_snapshots_drop_users, .resync = hc_chan_ask_resync,
			.forgotten = hc_chan_forgotten,
			.ctx = w, .drop_ctx = &w->snaps};
		rc = hc_seq_init(&w->seq, cfg->max_gateways, gap_tsc, cfg->gap_nacks,
				 rte_get_tsc_hz() / 1000 * cfg->gateway_timeout_ms, &hooks, socket);
		if (rc != 0)
			goto fail;
		if (cfg->gateway_sweeps != 0)
			hc_seq_set_sweep_budget(&w->seq, rte_get_tsc_hz() / cfg->gateway_sweeps,
						2 * cfg->gateway_sweeps);
		struct hc_snap_hooks snap_hooks = {.emit = hc_ops_emit,
			.ask_again = hc_chan_ask_snapshot, .ctx = w, .n_owners = n_workers};
		rc = hc_snapshots_init(&w->snaps, cfg->max_gateways,
				       cfg->max_snapshot_users ? cfg->max_snapshot_users : cfg->max_users,
				       cfg->max_users, &snap_hooks,
				       socket);
		if (rc != 0)
			goto fail;
		hos[i] = &w->ho;
		if (with_control) {
			snprintf(name, sizeof(name), "hc_chg_%u", i);
			w->to_ctl_changes = rte_ring_create_elem(name, sizeof(struct hc_change),
					HC_CTL_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
			w->chg_buf = rte_malloc_socket("hc_chg_buf",
					HC_CHG_BUF * sizeof(struct hc_change), 64, socket);
			w->gw_peer = rte_zmalloc_socket("hc_gw_peer",
					cfg->max_gateways * sizeof(struct hc_peer), 64, socket);
			w->gw_peer_moved_tsc = rte_zmalloc_socket("hc_gw_moved",
					cfg->max_gateways * sizeof(uint64_t), 64, socket);
			snprintf(name, sizeof(name), "hc_dec_%u", i);
			w->from_ctl_decisions = rte_ring_create_elem(name, sizeof(struct hc_decision),
					HC_CTL_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
			w->members.admission = !cfg->no_admission;
			snprintf(name, sizeof(name), "hc_plc_%u", i);
			w->to_ctl_places = rte_ring_create_elem(name, sizeof(struct hc_place_req),
					HC_CTL_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
			snprintf(name, sizeof(name), "hc_ctx_%u", i);
			w->from_ctl_tx = rte_ring_create(name, HC_CTL_TX_RING_SIZE, socket,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (w->to_ctl_changes == NULL || w->chg_buf == NULL ||
			    w->to_ctl_places == NULL || w->from_ctl_tx == NULL ||
			    w->gw_peer == NULL || w->gw_peer_moved_tsc == NULL ||
			    w->from_ctl_decisions == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			/* a long sweep hands its changes over as it goes */
			w->members.changes_cap = HC_CHG_BUF;
			w->members.changes_full = hc_chan_push_changes;
			w->members.changes_ctx = w;
		}
	}
	rc = hc_handoff_create(hos, n_workers, dp->workers[0]->socket);
	if (rc != 0)
		goto fail;
	return 0;
fail:
	hc_dataplane_free(dp);
	return rc;
}

void hc_dataplane_free(struct hc_dataplane *dp)
{
	struct hc_handoff *hos[HC_MAX_WORKERS];

	hc_dp_keys_free(dp);
	for (unsigned i = 0; i < dp->n_workers; i++)
		hos[i] = &dp->workers[i]->ho;
	if (dp->n_workers > 0)
		hc_handoff_destroy(hos, dp->n_workers);
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct hc_worker *w = dp->workers[i];
		hc_seq_free(&w->seq);
		hc_snapshots_free(&w->snaps);
		rte_pktmbuf_free_bulk(w->read, w->n_read); /* (read, not yet freed) */
		w->n_read = 0;
		if (w->members.slot != NULL)
			hc_members_free(&w->members);
		rte_free(w->local);
		rte_ring_free(w->to_ctl_changes);
		rte_ring_free(w->to_ctl_places);
		rte_ring_free(w->from_ctl_decisions);
		rte_free(w->gw_peer);
		rte_free(w->gw_peer_moved_tsc);
		if (w->from_ctl_tx != NULL) {
			struct rte_mbuf *m;
			while (rte_ring_dequeue(w->from_ctl_tx, (void **)&m) == 0)
				rte_pktmbuf_free(m);
		}
		rte_ring_free(w->from_ctl_tx);
		rte_free(w->chg_buf);
		rte_free(w);
		dp->workers[i] = NULL;
	}
	dp->n_workers = 0;
}

int hc_dp_launch_workers(struct hc_dataplane *dp)
{
	for (unsigned i = 0; i < dp->n_workers; i++) {
		int rc = rte_eal_remote_launch(hc_worker_main, dp->workers[i], dp->workers[i]->lcore);
		if (rc != 0)
			return rc;
	}
	return 0;
}
