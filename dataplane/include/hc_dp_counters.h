/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_dp_counters.h - the dataplane's counters, as the control layer and
 * telemetry read them (hc_dp_collect in hc_dataplane.h sums them over
 * workers).
 *
 * Every struct here is a list of uint64_t counters, each written by one
 * worker with relaxed stores and summed by readers with relaxed loads;
 * the order of fields is free, but only uint64_t fields may be added.
 */
#ifndef HC_DP_COUNTERS_H
#define HC_DP_COUNTERS_H

#include <stdint.h>

#include "hc_drop.h"

struct hc_worker_stats {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t datagrams;       /* valid inbound datagrams (any type)     */
	uint64_t rx_gathered;     /* multi-segment frames gathered into one
	                             mbuf (net_pcap, NIC scatter)          */
	uint64_t gather_waits;    /* times no gather mbuf was free (back-
	                             pressure until one was)                */
	uint64_t udp_csum_partial; /* datagrams taken whose UDP checksum the
	                             sender left to offload (CHECKSUM_PARTIAL):
	                             their tag vouched for them (with keys) */
	uint64_t event_datagrams; /* EVENTS datagrams delivered in order    */
	uint64_t sessions_clamped; /* events and snapshot members whose session
	                             was more than HC_SESSION_AHEAD_US ahead
	                             of the appliance's clock: taken as that */
	uint64_t events;          /* events in those datagrams              */
	uint64_t heartbeats;
	uint64_t arp_replies;
	uint64_t icmp_echo_replies; /* echo replies taken by the TX queue */
	uint64_t tx_failed;
	uint64_t handoff_dgrams;  /* datagrams sent to their home worker    */
	uint64_t handoff_ops;     /* ops sent to their owner worker         */
	uint64_t handoff_waits;   /* times an op ring was full (backpressure) */
	uint64_t ctl_waits;       /* times the control ring was full        */
	uint64_t ctl_lost;        /* changes not reported (only when stopping) */
	uint64_t places;          /* PLACE requests passed to the control core */
	uint64_t places_dropped;  /* ... dropped: its ring was full          */
	uint64_t ctl_tx;          /* frames sent for the control core        */
	uint64_t throttled;       /* idle loops waiting for seat decisions   */
	uint64_t picked;          /* users picked for move directives        */
	uint64_t picks_refused;   /* picks asked beyond HC_PICK_ASKS: none */
	uint64_t resync_asks;     /* RESYNC records asked of the control core */
	uint64_t loops;
	uint64_t busy_loops;
	uint64_t busy_tsc;        /* TSC spent in loops that did work       */
	uint64_t drops[HC_DROP_COUNT];
	uint64_t rx_pool_short;   /* RX polls that found a queue empty while
	                             its mbuf pool ran short: no proof of it
	                             read (hc_worker.c)                      */
};

struct hc_members_stats {
	uint64_t joins;      /* JOINs that added a user to a room    */
	uint64_t moves;      /* JOINs that moved a user between rooms */
	uint64_t leaves;     /* LEAVEs that removed a user           */
	uint64_t noops;      /* idempotent: nothing changed     */
	uint64_t table_full; /* JOIN of a new user with no room */
	uint64_t requests;   /* seat requests sent (admission on)   */
	uint64_t refused;    /* JOINs the control core refused      */
	uint64_t stray_decisions; /* decisions for no pending user  */
	uint64_t waiting_strays;  /* ops whose user's slot said "waiting"
	                             with no request in the pending table:
	                             applied, the flag cleared (never:
	                             the fuzzer's checker asserts 0)   */
	uint64_t not_owner;  /* LEAVEs from a gateway that no longer owns the user */
	uint64_t takeovers;  /* users whose owner changed (reconnect elsewhere) */
	uint64_t superseded; /* JOINs of an older session than the owner's
	                        (a reconnect elsewhere overtook them): ignored */
	uint64_t snap_set;   /* snapshot members applied             */
	uint64_t snap_added; /* ... that put a user in a room (new, or
	                        moved: the appliance had it elsewhere) */
	uint64_t snap_conflicts; /* members another gateway owns now  */
	uint64_t snap_swept; /* users removed by sweeps (not in the snapshot,
	                        dead gateway, old incarnation)        */
	uint64_t sweeps;     /* sweeps run                           */
	uint64_t sweep_scans; /* ... that had to scan the slot table  */
	uint64_t leased_joins; /* JOINs applied on a leased seat (no request) */
	uint64_t lease_seats;  /* seats leased to this worker                */
	uint64_t lease_revokes; /* revokes answered                          */
	uint64_t lease_returned; /* seats given back by revokes              */
	uint64_t gateway_cap_full; /* new users refused (FULL, in table_full
	                              too): their gateway held its share of
	                              --max-users-per-gateway               */
	uint64_t chain_full; /* JOINs and snapshot members refused (FULL):
	                        their user's chain of ops waiting behind a
	                        seat request held HC_PENDING_CHAIN_ASKS that
	                        may ask (hc_pending.h)                  */
	uint64_t snap_parked; /* snapshot members of new users that found no
	                         key and waited for their sweep (its removals
	                         may free one): judged again there       */
	uint64_t snap_parked_now; /* a gauge: of them, waiting now       */
	uint64_t gone_keys;  /* a gauge: users in no room whose key and slot
	                        are kept for their return (hc_members_pvt.h,
	                        "Gone users")                          */
	uint64_t gone_keys_evicted; /* of those, deleted inside an op for a
	                        new user's key (the index held --max-users
	                        keys, or the key's home was crowded)     */
	uint64_t gone_keys_trimmed; /* of those, deleted by the worker's
	                        timers (hc_members_gone_trim) to bring the
	                        index back to the keep limit            */
};

struct hc_seq_stats {
	uint64_t duplicates;
	uint64_t stale;     /* older incarnation, or held when reset */
	uint64_t lost;      /* sequences given up on                 */
	uint64_t held_now;  /* datagrams waiting for a gap           */
	uint64_t gaps;      /* gaps opened                           */
	uint64_t beyond;    /* dropped beyond the window (asked again) */
	uint64_t gather_shed; /* ... of those, gathered ones not held while
	                         the gather pool was short (hc_sequencer.h) */
	uint64_t subsumed;  /* sequences covered by a snapshot       */
	uint64_t nacks;     /* RESYNC GAP records asked for          */
	uint64_t restarts;  /* snapshots asked for (RESYNC RESTART)  */
	uint64_t deaths;    /* gateways declared dead or shut down   */
	uint64_t demotion_forgets; /* gateways forgotten, their users
	                       dropped, at an HA demotion (hc_ha_cold)  */
	uint64_t replayed;  /* HEARTBEAT/PLACE control counters seen before */
	uint64_t id_conflicts; /* an older incarnation long after a newer
	                          one took over: two sources, one id    */
	uint64_t sweeps_deferred; /* a snapshot's end, a newer incarnation
	                          or a SHUTDOWN over its gateway's sweep
	                          budget: not taken, sent again         */
	uint64_t clock_steps; /* the TSC seen stepping back (hc_seq_clock_step) */
};

struct hc_snap_stats {
	uint64_t applied;    /* complete snapshots applied (replacements) */
	uint64_t members;    /* members in them                           */
	uint64_t abandoned;  /* out of order, count mismatch, no memory   */
	uint64_t over_limit; /* ... beyond a staging cap (claimed or grown) */
	uint64_t displaced;  /* ... to make room for a smaller one, the
	                        worker's staging total reached          */
	uint64_t user_drops; /* gateways' users dropped (new incarnation,
	                        dead, shutdown)                           */
	uint64_t chunks_ignored; /* chunks after chunk 0 of a snapshot
	                        abandoned already (not abandoned again) */
};

/* Sum of rte_eth_stats over all ports (imissed, ierrors, rx_nombuf); of
 * af_packet ports, also their kernel interfaces' rx_packets since setup
 * and the frames those received that the PMD never read (ring drops: see
 * hc_port.c). */
struct hc_port_totals {
	uint64_t ipackets, imissed, ierrors, rx_nombuf, opackets;
	uint64_t if_rx_packets, ring_drops;
	uint64_t unread_at_exit; /* af_packet frames left in the RX queues
	                            when the workers stopped (hc_ports_drain_at_exit) */
};

/* The pick memo (hc_pickmemo.h): pick times of users who left within a
 * cooldown of their pick, given back when they come back.  Relaxed
 * stores by the worker. */
struct hc_pickmemo_stats {
	uint64_t kept;     /* picks remembered for a user who left        */
	uint64_t restored; /* ... given back to the user's new slot       */
	uint64_t evicted;  /* ... forgotten within the longest cooldown: a
	                      full memo pushed them out, or a crowded home
	                      of its index refused them (that user comes
	                      back pickable at once)                     */
};

/* Everything summed over workers and ports. */
struct hc_dp_totals {
	uint64_t tsc;                 /* when they were collected          */
	struct hc_worker_stats w;
	struct hc_members_stats m;
	struct hc_seq_stats s;
	struct hc_snap_stats snap;
	struct hc_pickmemo_stats memo;
	struct hc_port_totals ports;
	uint64_t users;               /* sum of the workers' user counts   */
	uint64_t gateways_seen;       /* gateways with a known incarnation */
	uint64_t input_read_lag_ms;   /* now - the least of the workers'
	                                 read_up_to: how far back every
	                                 worker has read its input (dead
	                                 gateways are judged up to there) */
	uint64_t pool_mbufs, pool_mbufs_free; /* the packet pool: its size,
	                                 and its mbufs free now (its common
	                                 store and every lcore's cache)    */
	uint64_t control_pool_mbufs, control_pool_mbufs_free; /* the
	                                 control core's own (0: none)      */
	uint64_t pending_overflows;   /* ops that found no deferral node (a
	                                 bug: hc_ops keeps room for each) */
};

#endif /* HC_DP_COUNTERS_H */
