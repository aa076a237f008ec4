/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_stats.h - the appliance's counters, summed over workers, and their
 * three renderings: the periodic stats line, the key=value file written by
 * --dump-stats, and the telemetry dictionary (hc_telemetry.c).
 *
 * Read side only: workers own and write their counters; whoever calls
 * hc_dp_collect (control lcore, telemetry thread) sums them with relaxed
 * loads.
 */
#ifndef HC_STATS_H
#define HC_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "hc_dataplane.h"


/* Every scalar counter, once: X(name, expression over `t`). */
#define KV_FIELDS(X) \
	X(rx_frames, t->w.rx_frames) X(rx_bytes, t->w.rx_bytes) \
	X(datagrams, t->w.datagrams) X(event_datagrams, t->w.event_datagrams) \
	X(events, t->w.events) X(heartbeats, t->w.heartbeats) \
	X(arp_replies, t->w.arp_replies) X(tx_failed, t->w.tx_failed) \
	X(icmp_echo_replies, t->w.icmp_echo_replies) \
	X(handoff_dgrams, t->w.handoff_dgrams) X(handoff_ops, t->w.handoff_ops) \
	X(handoff_waits, t->w.handoff_waits) X(ctl_waits, t->w.ctl_waits) \
	X(ctl_lost, t->w.ctl_lost) X(places, t->w.places) \
	X(places_dropped, t->w.places_dropped) X(ctl_tx, t->w.ctl_tx) \
	X(throttled, t->w.throttled) X(picked, t->w.picked) X(picks_refused, t->w.picks_refused) \
	X(rx_pool_short, t->w.rx_pool_short) \
	X(requests, t->m.requests) X(refused, t->m.refused) \
	X(joins, t->m.joins) X(moves, t->m.moves) X(leaves, t->m.leaves) \
	X(noops, t->m.noops) X(table_full, t->m.table_full) \
	X(seq_duplicates, t->s.duplicates) X(seq_stale, t->s.stale) \
	X(seq_lost, t->s.lost) X(seq_gaps, t->s.gaps) X(seq_held, t->s.held_now) \
	X(seq_beyond, t->s.beyond) X(seq_gather_shed, t->s.gather_shed) \
	X(seq_subsumed, t->s.subsumed) \
	X(seq_nacks, t->s.nacks) X(seq_restarts, t->s.restarts) \
	X(gateway_deaths, t->s.deaths) X(gateways_forgotten_demoted, t->s.demotion_forgets) \
	X(seq_replayed, t->s.replayed) \
	X(id_conflicts, t->s.id_conflicts) \
	X(sweeps_deferred, t->s.sweeps_deferred) X(seq_clock_steps, t->s.clock_steps) \
	X(snapshots, t->snap.applied) \
	X(snapshot_members, t->snap.members) X(snapshots_bad, t->snap.abandoned) \
	X(snapshots_over_limit, t->snap.over_limit) X(snapshots_displaced, t->snap.displaced) \
	X(snapshot_chunks_ignored, t->snap.chunks_ignored) \
	X(user_drops, t->snap.user_drops) X(resync_asks, t->w.resync_asks) \
	X(not_owner, t->m.not_owner) X(takeovers, t->m.takeovers) \
	X(superseded, t->m.superseded) X(snap_set, t->m.snap_set) X(snap_added, t->m.snap_added) X(snap_conflicts, t->m.snap_conflicts) \
	X(snap_swept, t->m.snap_swept) X(sweeps, t->m.sweeps) X(sweep_scans, t->m.sweep_scans) \
	X(leased_joins, t->m.leased_joins) X(lease_seats, t->m.lease_seats) \
	X(lease_revokes, t->m.lease_revokes) X(lease_returned, t->m.lease_returned) \
	X(gateway_cap_full, t->m.gateway_cap_full) X(chain_full, t->m.chain_full) \
	X(pending_overflows, t->pending_overflows) \
	X(snap_parked, t->m.snap_parked) \
	X(snap_parked_now, t->m.snap_parked_now) \
	X(gone_keys, t->m.gone_keys) X(gone_keys_evicted, t->m.gone_keys_evicted) \
	X(gone_keys_trimmed, t->m.gone_keys_trimmed) \
	X(pick_memo_kept, t->memo.kept) X(pick_memo_restored, t->memo.restored) \
	X(pick_memo_evicted, t->memo.evicted) \
	X(users, t->users) X(gateways, t->gateways_seen) \
	X(port_ipackets, t->ports.ipackets) X(port_imissed, t->ports.imissed) \
	X(port_ierrors, t->ports.ierrors) X(port_rx_nombuf, t->ports.rx_nombuf) \
	X(port_opackets, t->ports.opackets) \
	X(port_if_rx_packets, t->ports.if_rx_packets) X(port_ring_drops, t->ports.ring_drops) \
	X(port_unread_at_exit, t->ports.unread_at_exit) \
	X(loops, t->w.loops) X(busy_loops, t->w.busy_loops) X(busy_tsc, t->w.busy_tsc) \
	X(sessions_clamped, t->w.sessions_clamped) X(rx_gathered, t->w.rx_gathered) X(gather_waits, t->w.gather_waits) \
	X(udp_csum_partial, t->w.udp_csum_partial) X(input_read_lag_ms, t->input_read_lag_ms) \
	X(pool_mbufs, t->pool_mbufs) X(pool_mbufs_free, t->pool_mbufs_free) \
	X(control_pool_mbufs, t->control_pool_mbufs) \
	X(control_pool_mbufs_free, t->control_pool_mbufs_free)

uint64_t hc_stats_drops(const struct hc_dp_totals *t);

/* One human line: rates over (prev, now]; rooms from the current view. */
void hc_stats_print_line(FILE *f, const struct hc_dp_totals *now,
			 const struct hc_dp_totals *prev, uint32_t rooms);

/* Every counter as "name=value" lines (drop reasons as drop_<name>). */
int hc_stats_write_kv(FILE *f, const struct hc_dp_totals *t, uint32_t rooms);

/* Register the /headcount/... commands (docs/counters.md lists them). */
int hc_telemetry_register(struct hc_dataplane *dp);
/* Refuse every command from now on, and wait (up to 5 s) for those in
 * flight: before the state they read is freed.  The telemetry thread
 * outlives the appliance's tables. */
void hc_telemetry_close(void);
/* One command as DPDK's telemetry thread runs it (cmd without its
 * parameter): 0, or -1 (refused).  For tests. */
struct rte_tel_data;
int hc_telemetry_call(const char *cmd, const char *params, struct rte_tel_data *d);

/* The control core whose counters /headcount/control shows. */
struct hc_decide;
void hc_telemetry_set_decide(const struct hc_decide *d);
/* The HA role /headcount/ha,master|backup asks to change (hc_ha.h). */
struct hc_ha;
void hc_telemetry_set_ha(struct hc_ha *ha);

#endif /* HC_STATS_H */
