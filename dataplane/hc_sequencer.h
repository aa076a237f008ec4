/*
 * hc_sequencer.h - per-gateway ordering of EVENTS datagrams.
 *
 * Owns, for each gateway whose home is this worker, the gateway's current
 * incarnation, the next sequence number to apply, a reorder window of held
 * datagrams, and liveness (last heard, heartbeat figures).  It turns what
 * UDP delivers (lost, duplicated, reordered datagrams) into what the
 * membership needs: each gateway's datagrams applied exactly once, in
 * sequence order.
 *
 *   seq == next            deliver, then deliver held successors
 *   seq <  next            duplicate: drop
 *   next < seq < next+W    hold (a second copy is a duplicate)
 *   seq >= next+W          the gap is too old to wait for: skip it
 *   gap older than timeout skip it: deliver what is held, count the lost
 *
 * A datagram of a newer incarnation resets the gateway (held datagrams of
 * the old one are dropped as stale); one of an older incarnation is
 * dropped.  Lost sequences are counted per gateway (gap detection);
 * repairing them by resync is the reliability layer's job (#4).
 *
 * One writer: the home worker.  The control lcore reads the per-gateway
 * counters with relaxed loads for stats.
 */
#ifndef HC_SEQUENCER_H
#define HC_SEQUENCER_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "hc_proto.h"

#define HC_SEQ_WINDOW 64          /* datagrams held per gateway, power of 2 */
#define HC_SEQ_MAX_HELD 8192      /* datagrams held per worker in all       */

/* Deliver one in-order datagram; consumes (frees) m. */
typedef void (*hc_seq_deliver_fn)(void *ctx, struct rte_mbuf *m);

struct hc_gw_state {
	uint32_t incarnation;   /* 0: never heard                        */
	uint32_t next_seq;      /* next sequence to apply                */
	uint32_t hb_last_seq;   /* last_sequence of the last heartbeat   */
	uint32_t held;          /* datagrams in win[]                    */
	uint32_t gap_index;     /* position in gap list, or UINT32_MAX   */
	uint32_t pad;
	uint64_t last_heard_tsc;
	uint64_t gap_since_tsc; /* 0: no gap open                        */
	/* counters, relaxed stores */
	uint64_t datagrams;     /* delivered in order                    */
	uint64_t heartbeats;
	uint64_t lost;          /* sequences skipped as lost             */
	uint64_t duplicates;
	uint64_t resets;        /* incarnation changes                   */
	struct rte_mbuf *win[HC_SEQ_WINDOW];
};

struct hc_seq_stats {
	uint64_t duplicates;
	uint64_t stale;     /* older incarnation, or held when reset */
	uint64_t lost;      /* sequences given up on                 */
	uint64_t held_now;  /* datagrams waiting for a gap           */
	uint64_t gaps;      /* gaps opened                           */
};

struct hc_sequencer {
	struct hc_gw_state *gw;   /* [max_gateways]                  */
	uint32_t max_gateways;
	uint32_t n_gaps;
	uint32_t *gap_list;       /* gateways with a gap open        */
	uint64_t gap_timeout_tsc;
	uint32_t held_total;
	hc_seq_deliver_fn deliver;
	void *ctx;
	struct hc_seq_stats st;   /* relaxed stores                  */
};

int hc_seq_init(struct hc_sequencer *s, uint32_t max_gateways,
		uint64_t gap_timeout_tsc, hc_seq_deliver_fn deliver, void *ctx,
		int socket);
void hc_seq_free(struct hc_sequencer *s);

/*
 * Offer a validated EVENTS datagram m of gateway gw (< max_gateways).
 * m is delivered now, held, or freed (duplicate/stale) before return.
 */
void hc_seq_events(struct hc_sequencer *s, struct rte_mbuf *m, uint16_t gw,
		   uint32_t incarnation, uint32_t sequence, uint64_t now);

/* Record a heartbeat; may open a gap if it names sequences we lack. */
void hc_seq_heartbeat(struct hc_sequencer *s, uint16_t gw, uint32_t incarnation,
		      uint32_t last_sequence, uint64_t now);

/* Skip gaps older than the timeout. Call every few hundred microseconds. */
void hc_seq_poll(struct hc_sequencer *s, uint64_t now);

/* Deliver everything held, skipping all gaps (shutdown). */
void hc_seq_flush_all(struct hc_sequencer *s);

#endif /* HC_SEQUENCER_H */
