/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_sequencer.h - per-gateway ordering and repair of sequenced datagrams.
 *
 * Owns, for each gateway whose home is this worker, the gateway's current
 * incarnation, the next sequence number to apply, a reorder window of held
 * datagrams, the highest sequence known to exist, and liveness (last
 * heard).  It turns what UDP delivers (lost, duplicated, reordered
 * datagrams) into what the membership needs: each gateway's EVENTS and
 * SNAPSHOT datagrams applied exactly once, in sequence order, with gaps
 * repaired rather than skipped:
 *
 *   seq == next            deliver, then deliver held successors
 *   seq <  next            duplicate: drop
 *   next < seq < next+W    hold (a second copy is a duplicate)
 *   seq >= next+W          beyond the window: drop; it is asked for again
 *   snapshot chunk 0       a reset point: everything before it is subsumed
 *   gap older than timeout NACK the missing runs (RESYNC GAP first..last),
 *                          again every timeout; after max_nacks, give up
 *                          (deliver what is held, count the lost)
 *   silent > dead timeout  the gateway is dead: its users are dropped and
 *                          it is forgotten (next contact starts afresh)
 *
 * First contact with a gateway (or after it was forgotten) expects
 * sequence 1; a first datagram far ahead of 1 means the appliance lost
 * the gateway's state (it restarted), and the gateway is asked for a
 * snapshot (RESYNC RESTART).  A datagram of a newer incarnation drops the
 * old incarnation's users and restarts at sequence 1; one of an older
 * incarnation is dropped.
 *
 * Unsequenced datagrams (HEARTBEAT, PLACE) carry the gateway's control
 * counter, accepted once within a 64-wide replay window per incarnation
 * (hc_auth.h).  Only fresh datagrams (delivered, held, a reset point, a
 * new control counter) count as hearing from the gateway: a duplicate,
 * a replay or an older incarnation neither keeps it alive nor moves its
 * address (the callers learn the address only when told "fresh").  A
 * forgotten gateway (dead, shut down) keeps a floor: its last incarnation
 * and the highest sequence and counter seen in it, so replays of its old
 * datagrams cannot bring it back.
 *
 * Two live sources under one id show as the incarnation a newer one took
 * over making progress (a sequence or control counter above the highest
 * it had sent at the takeover) after HC_SEQ_CONFLICT_GRACE_MS, which the
 * caller reports (id conflicts); a replay of its old datagrams is only
 * stale.  Sequences run 1 .. 2^32-1, then 1 again (0 is never sent).
 *
 * Sweeps have a budget per gateway.  Three datagrams make every worker
 * sweep the gateway's users (a scan of its whole user table when any of
 * them goes): a snapshot's last chunk, the first datagram of a newer
 * incarnation, a SHUTDOWN.  hc_seq_set_sweep_budget allows a gateway
 * one a given interval, a burst of them at once (GCRA: one time stamp a
 * gateway, not reset by a restart or a death).  Beyond it (counted in
 * sweeps_deferred): a snapshot's last chunk is not taken but known to
 * exist, so its gap is NACKed (its rounds counted from the refusal) and
 * the gateway's resend is taken; a newer incarnation's datagrams are not
 * taken until the budget allows (its heartbeats then name what it sent,
 * and the gap is NACKed); a SHUTDOWN is taken, and the gateway forgotten
 * by hc_seq_poll once the budget allows.  A SHUTDOWN of a gateway not
 * known (nothing to drop) or of a newer incarnation (dropped, and charged,
 * as such) sweeps nothing more.  Nothing is lost and nothing applied in
 * part; a keyed gateway can no longer make the workers scan as often as
 * it sends.
 *
 * One writer: the home worker.  The control lcore reads next_seq,
 * last_heard_tsc and counters with relaxed loads (A->G heartbeats, stats).
 */
#ifndef HC_SEQUENCER_H
#define HC_SEQUENCER_H

#include <stdint.h>

#include "hc_dp_counters.h"

#include <rte_mbuf.h>

#include "hc_auth.h"
#include "hc_proto.h"

#define HC_SEQ_WINDOW 64          /* datagrams held per gateway, power of 2 */
#define HC_SEQ_MAX_HELD 8192      /* datagrams held per worker in all       */
#define HC_SEQ_MAX_NACK_RUNS 16   /* RESYNC GAP records per NACK round      */
#define HC_SEQ_FAR (HC_SEQ_WINDOW * 1024) /* a sequence this far ahead asks
                                     for a snapshot, not for a NACKed gap */
#define HC_SEQ_CONFLICT_GRACE_MS 500 /* older incarnation after a takeover:
                                        in flight until then, a conflict after */

/* What became of an offered datagram. */
enum hc_seq_verdict {
	HC_SEQ_NEWEST = 2,    /* fresh, and the newest it sent: may move its
	                         address                                     */
	HC_SEQ_FRESH = 1,     /* accepted: delivered, held or a reset point  */
	HC_SEQ_OLD = 0,       /* duplicate, replay, beyond the window        */
	HC_SEQ_STALE = -1,    /* an older incarnation                        */
	HC_SEQ_CONFLICT = -2, /* the incarnation taken over makes progress
	                         after the grace: a second live source       */
};

/* What the sequencer asks of its worker. */
struct hc_seq_hooks {
	/* an in-order datagram (EVENTS or SNAPSHOT); consumes m */
	void (*deliver)(void *ctx, struct rte_mbuf *m);
	/* forget every user gateway gw holds (new incarnation, dead); called
	 * with drop_ctx (the snapshot stage), the others with ctx */
	void (*drop_users)(void *drop_ctx, uint16_t gw);
	/* ask gateway gw for a resync (enum hc_resync_reason) */
	void (*resync)(void *ctx, uint16_t gw, uint32_t reason, uint32_t first,
		       uint32_t last);
	/* gateway gw is forgotten (dead, SHUTDOWN, hc_seq_forget_all) */
	void (*forgotten)(void *ctx, uint16_t gw);
	void *ctx;
	void *drop_ctx;
};

struct hc_gw_state {
	uint32_t incarnation;   /* 0: never heard, or forgotten          */
	uint32_t next_seq;      /* next sequence to apply                */
	uint32_t known_last;    /* highest sequence known to exist       */
	uint32_t held;          /* datagrams in win[]                    */
	uint32_t gap_index;     /* position in gap list, or UINT32_MAX   */
	uint32_t nacks_now;     /* NACK rounds since the gap's last progress */
	uint64_t last_heard_tsc;
	uint64_t gap_since_tsc; /* 0: no gap open                        */
	uint64_t last_nack_tsc;
	uint64_t inc_since_tsc; /* when the current incarnation began    */
	struct hc_replay ctl;   /* control counters (HEARTBEAT, PLACE)   */
	uint32_t floor_inc;     /* forgotten: its last incarnation ...   */
	uint32_t floor_seq;     /* ... and the highest sequence seen     */
	uint32_t far_top;       /* highest far-ahead sequence (not a gap) */
	uint32_t prev_inc;      /* the incarnation taken over, and the   */
	uint32_t prev_seq_top;  /* highest sequence and control counter  */
	uint32_t prev_ctr_top;  /* it had sent (id conflicts)            */
	uint32_t seen;          /* anything of the incarnation seen (a
	                           datagram delivered or held, a sequence
	                           known): 0 after a restart             */
	uint32_t none_applied;  /* nothing applied (or covered) since the
	                           restart: next_seq 1 is no wrap        */
	uint64_t sweep_tat;     /* sweep budget: when its next sweep is
	                           due (GCRA); kept across restarts      */
	uint32_t shutdown_due;  /* a SHUTDOWN taken over the budget: to
	                           be forgotten when it allows           */
	/* counters, relaxed stores */
	uint64_t datagrams;     /* delivered in order                    */
	uint64_t heartbeats;
	uint64_t lost;          /* sequences given up on                 */
	uint64_t duplicates;
	uint64_t resets;        /* incarnation changes                   */
	uint64_t nacks;         /* RESYNC GAP records sent               */
	uint64_t deaths;        /* declared dead (or said SHUTDOWN)      */
	uint64_t replayed;      /* control counters seen before          */
	uint64_t sweeps_deferred; /* sweeping datagrams not taken: over
	                             the sweep budget (sent again)      */
	struct rte_mbuf *win[HC_SEQ_WINDOW];
};


struct hc_sequencer {
	struct hc_gw_state *gw;   /* [max_gateways]                  */
	uint32_t max_gateways;
	uint32_t max_nacks;       /* NACK rounds without progress    */
	uint32_t n_gaps;
	uint32_t *gap_list;       /* gateways with a gap open        */
	uint32_t n_due;
	uint32_t *due_list;       /* gateways with a SHUTDOWN due    */
	uint64_t gap_timeout_tsc;
	uint64_t dead_timeout_tsc; /* 0: never declare dead          */
	uint64_t conflict_grace_tsc;
	uint64_t sweep_interval_tsc;  /* a sweep a gateway per this; 0: no
	                                 budget                          */
	uint64_t sweep_tolerance_tsc; /* (burst - 1) intervals           */
	uint64_t next_dead_scan;
	uint64_t clock;           /* the latest reading given (seq_now) */
	uint32_t held_total;
	/* a datagram in an mbuf of scarce_pool (the gather pool, where frames
	 * of several segments are copied whole) is held for a gap only while
	 * that pool has more than scarce_reserve mbufs free: held ones must
	 * not take every gather mbuf, or the RX path waits for one until the
	 * gaps are given up (hc_rx.c, gather); one not held is asked for
	 * again, as one beyond the window.  NULL: no such pool */
	const struct rte_mempool *scarce_pool;
	uint32_t scarce_reserve;
	struct hc_seq_hooks hooks;
	struct hc_seq_stats st;   /* relaxed stores                  */
};

int hc_seq_init(struct hc_sequencer *s, uint32_t max_gateways, uint64_t gap_timeout_tsc,
		uint32_t max_nacks, uint64_t dead_timeout_tsc,
		const struct hc_seq_hooks *hooks, int socket);
void hc_seq_free(struct hc_sequencer *s);

/* Allow each gateway one sweeping datagram every interval_tsc, burst of
 * them at once (burst >= 1); interval_tsc 0: no budget (the default). */
void hc_seq_set_sweep_budget(struct hc_sequencer *s, uint64_t interval_tsc, uint32_t burst);

/* Datagrams in mbufs of pool are held for a gap only while it has more
 * than reserve mbufs free (scarce_pool above); NULL: no such pool. */
void hc_seq_set_scarce_pool(struct hc_sequencer *s, const struct rte_mempool *pool,
			    uint32_t reserve);

/* hc_seq_offer's flags */
#define HC_SEQ_RESET_POINT 1u   /* chunk 0 of a snapshot              */
#define HC_SEQ_ENDS_SNAPSHOT 2u /* the last chunk of one: it sweeps   */
/* chunk 0 of a snapshot that restates nothing (its claim is over the
 * staging cap: refused where it is delivered): a reset point only
 * HC_SEQ_FAR ahead, where no datagram is taken and no gap is opened, which
 * only a reset point resolves; nearer (a first contact too), it waits for
 * the gap before it like EVENTS (NACKed, or given up after the NACK
 * rounds), so that nothing the gateway can resend is discarded for a
 * snapshot that will not restate it */
#define HC_SEQ_RESET_IF_BEYOND 4u

/*
 * Offer a validated sequenced datagram m (EVENTS or SNAPSHOT) of gateway
 * gw (< max_gateways); flags: HC_SEQ_RESET_POINT, HC_SEQ_ENDS_SNAPSHOT.
 * m is delivered now, held, or freed before return.  Returns what became
 * of it.
 */
enum hc_seq_verdict hc_seq_offer(struct hc_sequencer *s, struct rte_mbuf *m, uint16_t gw,
		  uint32_t incarnation, uint32_t sequence, unsigned flags, uint64_t now);

/* An unsequenced datagram (PLACE) with control counter ctr: FRESH if its
 * incarnation is current (or newer: a restart) and ctr is new. */
enum hc_seq_verdict hc_seq_control(struct hc_sequencer *s, uint16_t gw, uint32_t incarnation,
				   uint32_t ctr, uint64_t now);

/* A heartbeat with control counter ctr (checked as hc_seq_control); if
 * fresh, may open a gap if it names sequences we lack; shutdown: the
 * gateway stops cleanly (its users are dropped). */
enum hc_seq_verdict hc_seq_heartbeat(struct hc_sequencer *s, uint16_t gw, uint32_t incarnation,
				     uint32_t ctr, uint32_t last_sequence, int shutdown,
				     uint64_t now);

/* NACK or give up old gaps, declare silent gateways dead, forget those
 * whose SHUTDOWN waited for the sweep budget.  Call every few hundred
 * microseconds.  read_up_to (<= now): every datagram that reached the
 * appliance before it has been offered here.  A gateway is dead only if
 * it was silent for the timeout before read_up_to: a receive path that
 * fell behind (a worker's lcore unscheduled for seconds, a burst larger
 * than a poll) may still hold its heartbeats, and silence it has not read
 * is not the gateway's. */
void hc_seq_poll_read(struct hc_sequencer *s, uint64_t now, uint64_t read_up_to);

/* Will hc_seq_poll_read at now scan for dead gateways (every 10 ms)?
 * Only then does it read its read_up_to. */
static inline int hc_seq_dead_scan_due(const struct hc_sequencer *s, uint64_t now)
{
	/* (judged on the time hc_seq_poll_read will take: the sequencer's
	 * clock, when now is a reading behind it: seq_now) */
	uint64_t t = now > s->clock ? now : s->clock;
	return s->dead_timeout_tsc != 0 && t >= s->next_dead_scan;
}

/* The TSC stepped back to now (the worker loop's reading fell below the
 * clock: hc_seq_fresh_clock):
 * the sequencer's clock, which never goes back otherwise (hc_sequencer.c,
 * seq_now), follows it, and every stamp and deadline past now is brought
 * to now, so that its timers run from here instead of waiting for the
 * clock to climb back (a gap NACKed a timeout from now, a silent gateway
 * declared dead a timeout from now, sweeps and dead scans due).  Counted
 * in clock_steps.  Walks every gateway: a rare event. */
void hc_seq_clock_step(struct hc_sequencer *s, uint64_t now);

/* The worker loop's reading, just taken at the loop's start, returned:
 * below the sequencer's clock (every reading it was given was taken
 * earlier on that lcore, in earlier loops and their waits) it can only be
 * a TSC that stepped back, which hc_seq_clock_step is then told (a step
 * during a wait too, at the next loop's start: the rest of a loop gives
 * readings of before the step, so a step is acted on only here, where
 * everything after is read after it).  Not for any other reading. */
static inline uint64_t hc_seq_fresh_clock(struct hc_sequencer *s, uint64_t fresh)
{
	if (unlikely(fresh < s->clock))
		hc_seq_clock_step(s, fresh);
	return fresh;
}

/* hc_seq_poll_read with everything read up to now (tests, tools). */
static inline void hc_seq_poll(struct hc_sequencer *s, uint64_t now)
{
	hc_seq_poll_read(s, now, now);
}

/* The receive path opens again after it took no datagram for a while
 * (an HA backup promoted): every known gateway counts as heard now, so
 * that the dead-gateway timeout runs from here: the silence while nobody
 * listened was not the gateway's. */
void hc_seq_heard_all(struct hc_sequencer *s, uint64_t now);

/* An HA demotion: every known gateway's users dropped and the gateway
 * forgotten as at its death (its next datagram a first contact above its
 * floor; its snapshot asked for), counted in demotion_forgets, not in
 * deaths.  A backup holds nothing: promoted again, it is rebuilt by the
 * gateways' restatements as any new master is, not decided against a
 * book of its last epoch that misses what the other box was told. */
void hc_seq_forget_all(struct hc_sequencer *s);

/* Deliver everything held, skipping all gaps (shutdown). */
void hc_seq_flush_all(struct hc_sequencer *s);

/* gw's current incarnation, 0: none. */
static inline uint32_t hc_seq_incarnation(const struct hc_sequencer *s, uint16_t gw)
{
	return __atomic_load_n(&s->gw[gw].incarnation, __ATOMIC_RELAXED);
}

/* Last sequence applied in order for gw (0: none): the cumulative ack.
 * Past the wrap (2^32-1 applied, next_seq 1 again) it is 2^32-1, not 0:
 * 0 would tell the gateway nothing was, until its next datagram. */
static inline uint32_t hc_seq_applied(const struct hc_sequencer *s, uint16_t gw)
{
	const struct hc_gw_state *g = &s->gw[gw];
	uint32_t inc = __atomic_load_n(&g->incarnation, __ATOMIC_RELAXED);
	uint32_t next = __atomic_load_n(&g->next_seq, __ATOMIC_ACQUIRE); /* (restart) */
	if (inc == 0 || __atomic_load_n(&g->none_applied, __ATOMIC_RELAXED))
		return 0;
	return next == 1 ? UINT32_MAX : next - 1;
}

#endif /* HC_SEQUENCER_H */
