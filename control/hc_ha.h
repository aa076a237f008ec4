/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_ha.h - the appliance's role in an active/standby pair (--ha).
 *
 * keepalived (VRRP on the boxes' management network, deploy/keepalived/)
 * decides which box is the master; its notify scripts tell the appliance
 * through the telemetry command /headcount/ha,master or ,backup (the
 * telemetry socket is root-only: being local is the authentication).
 * The telemetry thread only records the request; the control lcore acts
 * on it (hc_ha_poll):
 *
 * - BACKUP (the start with --ha backup, or demoted): at once the workers
 *   answer no ARP for --ip and take no datagram (hc_ha_dp.h), the control
 *   core sends nothing (hc_tx.c counts ha_fenced) and neither places nor
 *   balances.  It is cold: every worker forgets its gateways (hc_ha_cold,
 *   users dropped: at its timers or before its next datagram), the
 *   control core its reservations.
 * - MASTER: a new epoch, which is the appliance incarnation every A->G
 *   datagram carries: the wall clock in 1/8 s, and above every epoch this
 *   box used and every one a gateway's datagram named (hc_dp_ha_heard),
 *   up to an hour past the wall clock (a later one is not believed:
 *   hc_dataplane.ha_heard_ceiling).
 *   Gateways take a newer incarnation as an appliance restart: they
 *   restate their members by snapshot, and the restart hold
 *   (hc_restart.h, --state-file) holds placements until they did.  Then
 *   the workers answer ARP for --ip and take datagrams, and a few
 *   gratuitous ARPs (now, 0.1, 0.3, 0.7, 1.5 s) move the gateways' ARP
 *   caches here (at a takeover only).
 * - Fencing: gateways obey only the newest epoch they heard
 *   (docs/gateway.md, fence_appliance), so of two masters during a split
 *   only the newer one moves users.  A master that hears of a newer epoch
 *   from a gateway (the gateway follows another master, or this box's
 *   clock is behind the other's) takes a new epoch above it, at most once
 *   a second and without gratuitous ARPs (those gateways reach it
 *   already; two masters announcing in turn would pull the gateways to
 *   and fro), so it can serve the gateways that come to it.
 * - Ties: with --ha-box one box's epochs are even and the other's odd,
 *   so two promotions in the same 1/8 s (both boxes masters at boot, a
 *   link that bounces) still take two epochs, which the gateways order
 *   (without it they could take one, which no gateway can tell apart).
 *
 * Control lcore only, except hc_ha_request (any thread).
 */
#ifndef HC_HA_H
#define HC_HA_H

#include <stdint.h>

#include "hc_dataplane.h"

enum hc_ha_role { HC_HA_STANDALONE = 0, HC_HA_BACKUP = 1, HC_HA_MASTER = 2 };

/* hc_ha_poll's news for the decision loop */
enum hc_ha_event { HC_HA_NONE = 0, HC_HA_NEW_EPOCH, HC_HA_DEMOTED };

struct hc_ha_stats {
	uint64_t takeovers;     /* BACKUP -> MASTER                         */
	uint64_t demotions;     /* MASTER -> BACKUP                         */
	uint64_t reepochs;      /* new epochs taken as master: a gateway
	                           named a newer one                        */
	uint64_t reepochs_own_box; /* of them, a newer epoch with our own
	                           --ha-box's low bit: the other box given
	                           the same --ha-box (ties possible), or our
	                           own epochs from before a restart         */
	uint64_t garps;         /* gratuitous ARPs handed to a worker       */
	uint64_t garp_failures; /* ... not (no mbuf, ring full)             */
	uint64_t takeover_wall_ms; /* wall clock of the last takeover       */
	uint64_t heard_far;     /* good datagrams naming an epoch more than
	                           HC_HA_HEARD_AHEAD_S past the wall clock:
	                           not believed (hc_dp_ha_heard_far)        */
};

/* How far past the wall clock an epoch a gateway names is believed: two
 * boxes' clocks (NTP) and re-epochs stay far within it; a forged one
 * further on is ignored and counted */
#define HC_HA_HEARD_AHEAD_S 3600

struct hc_ha {
	struct hc_dataplane *dp;
	int role;               /* enum hc_ha_role                          */
	int want;               /* asked for (relaxed, any thread), 0: none */
	uint32_t epoch;         /* ours now (and the highest we used)       */
	int parity;             /* --ha-box: our epochs' low bit, -1: any   */
	unsigned garp_sent;     /* of this epoch's burst                    */
	uint64_t epoch_tsc;     /* when it was taken                        */
	uint64_t ceiling_tsc;   /* when hc_dataplane.ha_heard_ceiling was set */
	struct hc_ha_stats st;
	uint32_t ports;         /* data ports, and of them with no link, as */
	uint32_t links_down;    /* hc-links read them (kept once a second;
	                           relaxed: telemetry reads them)           */
};

/* role: HC_HA_STANDALONE (no --ha: serve always, as ever) or
 * HC_HA_BACKUP; epoch: the start's incarnation. */
void hc_ha_init(struct hc_ha *ha, struct hc_dataplane *dp, int role, uint32_t epoch);

/* The pair's tie-breaker (--ha-box): every later epoch has low bit box
 * (0 or 1); -1: any. */
void hc_ha_set_box(struct hc_ha *ha, int box);

/* The next epoch: the wall clock in 1/8 s (clock_8ths), after last (our
 * own last) and after heard (0: none), never 0, and with low bit parity
 * unless parity is -1.  (hc_ha_poll's; apart for the unit tests) */
uint32_t hc_ha_next_epoch(uint32_t clock_8ths, uint32_t last, uint32_t heard, int parity);

/* The data ports' links as hc-links read them (hc_links.h), kept once a
 * second for /headcount/ha and /headcount/control (keepalived's check
 * fails a box with a link down; hc-links logs the changes). */
void hc_ha_links(struct hc_ha *ha, unsigned down, unsigned ports);

/* Ask for role (HC_HA_MASTER or HC_HA_BACKUP); any thread.  -1 without
 * --ha (a standalone appliance has no role to change). */
int hc_ha_request(struct hc_ha *ha, int role);

/* Act on a request, a newer epoch heard, the gratuitous ARP timer. */
enum hc_ha_event hc_ha_poll(struct hc_ha *ha, uint64_t now);

/* After HC_HA_NEW_EPOCH, once the decision loop took the epoch and
 * started the restart hold: the workers answer ARP and take datagrams. */
void hc_ha_serve(struct hc_ha *ha);

/* Serving: standalone, or the master. */
static inline int hc_ha_serving(const struct hc_ha *ha)
{
	return ha->role != HC_HA_BACKUP;
}

const char *hc_ha_role_name(int role);

/* The wall clock (CLOCK_REALTIME) in ms: epochs, takeover times, the
 * state files' stamps (hc_restart.h). */
uint64_t hc_ha_wall_ms(void);

#endif /* HC_HA_H */
