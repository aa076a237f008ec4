/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_dataplane.h - what the worker lcores and the control lcore share.
 *
 * Owns the process-wide dataplane context: the configuration (read-only
 * once lcores run), the per-worker state (opaque here: struct hc_worker is
 * private to the dataplane), the ports' MAC addresses, and the run state
 * that drives an orderly stop.  Built by main (app/hc_main.c via
 * hc_dataplane_init, hc_dp_setup.c), read by workers, its run state written
 * only by the control lcore; the control layer reads workers only through
 * the hc_dp_* accessors below and the channel (hc_ctlmsg.h).
 *
 * Stopping (run_state): RUN -> DRAIN: workers stop polling RX, finish what
 * the hand-off rings and sequencers hold; the control lcore waits until
 * every worker has flushed and every ring is empty -> STOP: workers exit.
 */
#ifndef HC_DATAPLANE_H
#define HC_DATAPLANE_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_ethdev.h>

#include "hc_auth.h"
#include "hc_config.h"
#include "hc_dp_counters.h"

#define HC_MAX_WORKERS 16
#define HC_MAX_RXQ_PER_WORKER 16
#define HC_CTL_RING_SIZE 65536 /* worker <-> control ring entries */
#define HC_CTL_TX_RING_SIZE 4096 /* control -> worker frames to send */

enum hc_run_state {
	HC_RUN = 0,
	HC_DRAIN = 1,
	HC_STOP = 2,
};

struct hc_worker;

struct hc_dataplane {
	const struct hc_config *cfg;
	unsigned n_workers;
	struct hc_worker *workers[HC_MAX_WORKERS];
	uint16_t n_ports;
	struct rte_ether_addr port_mac[RTE_MAX_ETHPORTS];
	struct rte_mempool *pool;        /* packets: every port's RX queues
	                                    (hc_port.c)                       */
	struct rte_mempool *ctl_pool;    /* the control core's frames (ASSIGN,
	                                    MOVE, RESYNC, HEARTBEAT, ARP): a
	                                    pool of their own, so that RX holds
	                                    that run the packet pool dry (the
	                                    sequencers' datagrams waiting for a
	                                    gap) never silence the NACKs and
	                                    heartbeats that end them; NULL: the
	                                    packet pool (hc_dp_ctl_pool)      */
	struct rte_mempool *gather_pool; /* a multi-segment frame is copied into
	                                    one of its mbufs (HC_MAX_FRAME bytes);
	                                    the packet pool when its mbufs are
	                                    that large; NULL: none            */
	uint32_t port_frame_max[RTE_MAX_ETHPORTS]; /* the longest frame a port
	                                    hands over whole, longer ones cut
	                                    short (af_packet); 0: not known   */
	int run_state; /* enum hc_run_state; release stores, acquire loads */
	uint64_t start_tsc;
	uint64_t tsc_per_us;     /* TSC ticks per microsecond (>= 1)           */
	uint64_t start_wall_us;  /* the wall clock (us) at start_tsc: sessions
	                            more than HC_SESSION_AHEAD_US ahead of the
	                            appliance's clock are clamped to it      */
	struct hc_auth_keyring *keys; /* RCU-protected (hc_dp_keys_*); NULL: none */
	int auth;      /* a keyring is installed: every datagram needs a tag */
	/* high availability (control/hc_ha.h): written by the control lcore
	 * (release stores), read by the workers (acquire / relaxed loads) */
	int ha;            /* --ha given: the role below applies          */
	int ha_serving;    /* master: answer ARP for --ip, take datagrams */
	uint32_t ha_epoch; /* our appliance incarnation (the epoch)       */
	uint32_t ha_heard_ceiling; /* epochs a gateway names past this are
	                    not believed: the wall clock + 1 h, set by
	                    control/hc_ha.c; 0: none                       */
	uint32_t ha_demotions; /* demotions so far: a worker that sees it
	                    change forgets every gateway (hc_ha_cold)      */
};

/* The pool the control core builds its frames from: its own, or, where
 * none was made (the unit suites' fixtures, which set up no ports), the
 * packet pool. */
static inline struct rte_mempool *hc_dp_ctl_pool(const struct hc_dataplane *dp)
{
	return dp->ctl_pool != NULL ? dp->ctl_pool : dp->pool;
}

static inline int hc_dp_state(const struct hc_dataplane *dp)
{
	return __atomic_load_n(&dp->run_state, __ATOMIC_ACQUIRE);
}

static inline void hc_dp_set_state(struct hc_dataplane *dp, int s)
{
	__atomic_store_n(&dp->run_state, s, __ATOMIC_RELEASE);
}

/* Was m gathered (a frame in several segments copied into one gather
 * mbuf, larger than a packet mbuf)?  Such a frame is never answered
 * (ARP, ICMP): replies parked in TX rings could drain the gather pool
 * that datagrams need.  (When packet mbufs hold HC_MAX_FRAME the two
 * pools are one, and nothing is gathered.) */
static inline int hc_dp_gathered(const struct hc_dataplane *dp, const struct rte_mbuf *m)
{
	return dp->gather_pool != dp->pool && m->pool == dp->gather_pool;
}

/*
 * Create n_workers worker states (membership tables, sequencers, hand-off
 * rings) for cfg, assigning worker i to lcore lcores[i].  with_control:
 * also the rings to the control core (a benchmark or test without one
 * passes 0, and workers then report nothing).  Ports are set up separately
 * (hc_port.h).  Returns 0 or -errno; on failure nothing is left allocated.
 */
int hc_dataplane_init(struct hc_dataplane *dp, const struct hc_config *cfg,
		      unsigned n_workers, const unsigned *lcores, int with_control);
void hc_dataplane_free(struct hc_dataplane *dp);

/* Start every worker's loop on its lcore (rte_eal_remote_launch); the
 * caller then runs the control loop and rte_eal_mp_wait_lcore(). */
int hc_dp_launch_workers(struct hc_dataplane *dp);

/*
 * The gateways' keys (hc_keys.c).  Install a keyring read from a keys
 * file (hc_auth_keys_load): before the workers launch, or from the
 * control lcore at a reload; the dataplane owns it from then on and frees
 * the one it replaces after an RCU grace period.  With a keyring
 * installed, every inbound datagram must carry a good tag.  Returns 0 or
 * -1 (no memory; nothing changed).
 */
int hc_dp_keys_install(struct hc_dataplane *dp, struct hc_auth_keyring *ring);
/* Free the keyring at exit (no reader left). */
void hc_dp_keys_free(struct hc_dataplane *dp);
/* Gateway gw's keys, NULL if it has none; call from a registered RCU
 * reader (a worker, the control lcore) and do not keep the pointer past
 * the next quiescent state. */
static inline const struct hc_auth_gw_keys *hc_dp_keys_of(const struct hc_dataplane *dp,
							  uint16_t gw)
{
	/* rcu_dereference: a consume (here acquire) load of the pointer */
	const struct hc_auth_keyring *ring = __atomic_load_n(&dp->keys, __ATOMIC_ACQUIRE);
	if (ring == NULL)
		return NULL;
	const struct hc_auth_gw_keys *k = &ring->gw[gw];
	return (k->have[0] | k->have[1]) ? k : NULL;
}

/*
 * What the control layer reads of the workers while they run
 * (hc_dp_query.c): relaxed loads of single-writer values, so recent, never
 * torn.  Nothing else of a worker is visible outside the dataplane.
 */

/* Every counter, summed over workers and ports. */
void hc_dp_collect(const struct hc_dataplane *dp, struct hc_dp_totals *t);

/* Frames received so far, all workers. */
uint64_t hc_dp_rx_frames(const struct hc_dataplane *dp);

/* Every datagram that reached any worker before the returned TSC (at
 * most now; 0 until every worker's loop has run) has been offered to its
 * home worker's sequencer: the least of the workers' read_up_to, to
 * within a loop (docs/architecture.md, "Dead gateways"). */
uint64_t hc_dp_read_up_to(const struct hc_dataplane *dp, uint64_t now);

/* Every worker has polled all its RX queues empty since its last frame
 * (a replayed capture has been read to its end). */
int hc_dp_ports_read_dry(const struct hc_dataplane *dp);

/* DRAIN is complete: every worker flushed, no op deferred or in a ring. */
int hc_dp_drained(const struct hc_dataplane *dp);

/* Worker's users per room, [max_rooms] (read each with a relaxed load,
 * or through hc_dp_room_users). */
const uint32_t *hc_dp_room_counters(const struct hc_dataplane *dp, unsigned worker);
uint32_t hc_dp_room_users(const struct hc_dataplane *dp, unsigned worker, uint32_t room);

/* A gateway as the appliance knows it (gw < max_gateways). */
uint32_t hc_dp_gateway_incarnation(const struct hc_dataplane *dp, uint16_t gw); /* 0: unknown */
/* HA: the newest appliance incarnation above ours that gateways' datagrams
 * said they had heard (another master's epoch), 0: none. */
uint32_t hc_dp_ha_heard(const struct hc_dataplane *dp);
/* good datagrams that named an epoch past ha_heard_ceiling (not believed) */
uint64_t hc_dp_ha_heard_far(const struct hc_dataplane *dp);
uint32_t hc_dp_gateway_applied(const struct hc_dataplane *dp, uint16_t gw); /* last seq in order */
uint64_t hc_dp_gateway_users(const struct hc_dataplane *dp, uint16_t gw);
uint64_t hc_dp_gateway_digest(const struct hc_dataplane *dp, uint16_t gw);
/* TSC since when a worker waits for seat decisions before it can apply
 * more ops (too many requests, or ops waiting behind them), 0: it does
 * not. */
uint64_t hc_dp_worker_blocked_since(const struct hc_dataplane *dp, unsigned worker);
/* Gateway gw's users and digest may lag what it sent: seat requests of
 * its JOINs or snapshot members are in flight on some worker, its ops
 * wait behind another's seat request (a user it holds that another
 * gateway's JOIN made pending), or a worker waits for decisions before
 * it applies more (ops of any gateway may wait in its rings). */
int hc_dp_gateway_settling(const struct hc_dataplane *dp, uint16_t gw);

struct hc_dp_gateway {
	uint32_t incarnation, next_seq;
	uint64_t users, datagrams, heartbeats, nacks, lost, duplicates, resets, deaths;
	uint64_t last_heard_tsc;
};
/* 0 and *out filled when gw is known (has an incarnation), else -1. */
int hc_dp_gateway_info(const struct hc_dataplane *dp, uint16_t gw, struct hc_dp_gateway *out);

#endif /* HC_DATAPLANE_H */
