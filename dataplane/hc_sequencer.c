/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_sequencer.c - per-gateway ordering and repair (see .h).
 *
 * The window is indexed by sequence % HC_SEQ_WINDOW; only sequences in
 * [next_seq, next_seq + HC_SEQ_WINDOW) are ever held, so a slot names one
 * sequence unambiguously.  Gateways with an open gap sit in gap_list so
 * the timeout poll costs O(open gaps), not O(gateways); the dead-gateway
 * scan runs every 10 ms over the gateway table.
 */
#include "hc_sequencer.h"

#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "hc_members.h" /* HC_RELAXED_ADD */

#define WIN_MASK (HC_SEQ_WINDOW - 1)
_Static_assert((HC_SEQ_WINDOW & WIN_MASK) == 0, "window is a power of 2");

int hc_seq_init(struct hc_sequencer *s, uint32_t max_gateways, uint64_t gap_timeout_tsc,
		uint32_t max_nacks, uint64_t dead_timeout_tsc,
		const struct hc_seq_hooks *hooks, int socket)
{
	memset(s, 0, sizeof(*s));
	s->gw = rte_zmalloc_socket("hc_seq_gw", sizeof(*s->gw) * max_gateways,
				   64, socket);
	s->gap_list = rte_zmalloc_socket("hc_seq_gaps",
					 sizeof(uint32_t) * max_gateways, 64, socket);
	s->due_list = rte_zmalloc_socket("hc_seq_due",
					 sizeof(uint32_t) * max_gateways, 64, socket);
	if (s->gw == NULL || s->gap_list == NULL || s->due_list == NULL) {
		hc_seq_free(s);
		return -ENOMEM;
	}
	for (uint32_t g = 0; g < max_gateways; g++)
		s->gw[g].gap_index = UINT32_MAX;
	s->max_gateways = max_gateways;
	s->max_nacks = max_nacks;
	s->gap_timeout_tsc = gap_timeout_tsc;
	s->conflict_grace_tsc = rte_get_tsc_hz() * HC_SEQ_CONFLICT_GRACE_MS / 1000;
	s->dead_timeout_tsc = dead_timeout_tsc;
	s->hooks = *hooks;
	return 0;
}

void hc_seq_set_sweep_budget(struct hc_sequencer *s, uint64_t interval_tsc, uint32_t burst)
{
	s->sweep_interval_tsc = interval_tsc;
	s->sweep_tolerance_tsc = interval_tsc * (burst > 1 ? burst - 1 : 0);
}

void hc_seq_set_scarce_pool(struct hc_sequencer *s, const struct rte_mempool *pool,
			    uint32_t reserve)
{
	s->scarce_pool = pool;
	s->scarce_reserve = reserve;
}

/* m is in the scarce pool, which is down to its reserve: not to be held */
static inline int scarce_short(const struct hc_sequencer *s, struct rte_mbuf *m)
{
	return m->pool == s->scarce_pool && rte_mempool_avail_count(m->pool) <= s->scarce_reserve;
}

void hc_seq_free(struct hc_sequencer *s)
{
	if (s->gw != NULL)
		for (uint32_t g = 0; g < s->max_gateways; g++)
			for (unsigned i = 0; i < HC_SEQ_WINDOW; i++)
				rte_pktmbuf_free(s->gw[g].win[i]);
	rte_free(s->gw);
	rte_free(s->gap_list);
	rte_free(s->due_list);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------ sweep budget -- */

/* The gateway was last heard at now.  The control lcore reads the stamp
 * while this worker writes it (A->G heartbeats, telemetry): a relaxed
 * store, as it loads. */
static inline void heard(struct hc_gw_state *g, uint64_t now)
{
	__atomic_store_n(&g->last_heard_tsc, now, __ATOMIC_RELAXED);
}

/* The sequencer's clock: every entry point is given a TSC reading by its
 * caller, and a worker may give an earlier one after a later one (its
 * loop's reading, after a wait inside the loop that read the clock again
 * and offered what other workers handed it).  Every stamp kept here is
 * compared by difference (now - stamp < timeout), which an earlier
 * reading turns into a huge one: a gap NACKed at once, a RESTART request
 * not rate-limited, an in-flight datagram of a gateway's last incarnation
 * past its grace.  So time never goes back here: the latest reading
 * given stands for any earlier one. */
static inline uint64_t seq_now(struct hc_sequencer *s, uint64_t now)
{
	/* (a TSC that really stepped back is told by the worker loop's
	 * start: hc_seq_fresh_clock, hc_seq_clock_step) */
	if (now > s->clock)
		s->clock = now;
	return s->clock;
}

/* A stamp or deadline past t brought to t (hc_seq_clock_step). */
static inline void not_after(uint64_t *stamp, uint64_t t)
{
	if (*stamp > t)
		*stamp = t;
}

void hc_seq_clock_step(struct hc_sequencer *s, uint64_t now)
{
	s->clock = now;
	not_after(&s->next_dead_scan, now);
	for (uint32_t gw = 1; gw < s->max_gateways; gw++) {
		struct hc_gw_state *g = &s->gw[gw];
		if (g->last_heard_tsc > now)
			heard(g, now); /* (read by the control lcore) */
		not_after(&g->gap_since_tsc, now);
		not_after(&g->last_nack_tsc, now);
		not_after(&g->inc_since_tsc, now);
		not_after(&g->sweep_tat, now + s->sweep_interval_tsc);
	}
	HC_RELAXED_ADD(&s->st.clock_steps, 1);
}

/* May gw cause a sweep now?  GCRA: its next sweep is due at sweep_tat,
 * and up to burst - 1 intervals early is allowed. */
static inline int sweep_allowed(const struct hc_sequencer *s, const struct hc_gw_state *g,
				uint64_t now)
{
	return s->sweep_interval_tsc == 0 || g->sweep_tat <= now + s->sweep_tolerance_tsc;
}

/* gw causes a sweep: the next is due an interval later. */
static inline void sweep_take(const struct hc_sequencer *s, struct hc_gw_state *g, uint64_t now)
{
	if (s->sweep_interval_tsc != 0)
		g->sweep_tat = (g->sweep_tat > now ? g->sweep_tat : now) + s->sweep_interval_tsc;
}

/* A sweep gw asks for now: taken (1) if the budget allows, else counted
 * as deferred (0). */
static int sweep_admit(struct hc_sequencer *s, struct hc_gw_state *g, uint64_t now)
{
	if (sweep_allowed(s, g, now)) {
		sweep_take(s, g, now);
		return 1;
	}
	HC_RELAXED_ADD(&g->sweeps_deferred, 1);
	HC_RELAXED_ADD(&s->st.sweeps_deferred, 1);
	return 0;
}

/* A SHUTDOWN taken over the budget: gw is forgotten by hc_seq_poll once
 * the budget allows (libheadcount says SHUTDOWN once, then is gone). */
static void shutdown_due(struct hc_sequencer *s, uint16_t gw)
{
	struct hc_gw_state *g = &s->gw[gw];
	if (g->shutdown_due)
		return;
	g->shutdown_due = 1;
	s->due_list[s->n_due++] = gw;
}

/* gw is forgotten, or of a new incarnation: no SHUTDOWN due any more. */
static void shutdown_done(struct hc_sequencer *s, uint16_t gw)
{
	if (!s->gw[gw].shutdown_due)
		return;
	s->gw[gw].shutdown_due = 0;
	for (uint32_t i = 0; i < s->n_due; i++) {
		if (s->due_list[i] == gw) {
			s->due_list[i] = s->due_list[--s->n_due];
			return;
		}
	}
}

/* ---------------------------------------------------------- gap list -- */

static void gap_open(struct hc_sequencer *s, uint16_t gw, uint64_t now)
{
	struct hc_gw_state *g = &s->gw[gw];
	if (g->gap_index != UINT32_MAX)
		return;
	g->gap_since_tsc = now;
	g->nacks_now = 0;
	g->gap_index = s->n_gaps;
	s->gap_list[s->n_gaps++] = gw;
	HC_RELAXED_ADD(&s->st.gaps, 1);
}

static void gap_close(struct hc_sequencer *s, uint16_t gw)
{
	struct hc_gw_state *g = &s->gw[gw];
	uint32_t i = g->gap_index;
	if (i == UINT32_MAX)
		return;
	uint32_t last = s->gap_list[--s->n_gaps];
	s->gap_list[i] = last;
	s->gw[last].gap_index = i;
	g->gap_index = UINT32_MAX;
	g->gap_since_tsc = 0;
	g->nacks_now = 0;
}

/* A gap is open while a sequence known to exist has not been applied. */
static int gap_pending(const struct hc_gw_state *g)
{
	return g->held > 0 || hc_seq_after(g->known_last, g->next_seq - 1);
}

/* seq of the incarnation is known to exist: every datagram delivered or
 * held passes here first, so this marks the incarnation seen. */
static inline void saw(struct hc_gw_state *g, uint32_t seq)
{
	g->seen = 1;
	if (hc_seq_after(seq, g->known_last))
		g->known_last = seq;
}

/* ------------------------------------------------------------ window -- */

static inline void publish_held(struct hc_sequencer *s)
{
	__atomic_store_n(&s->st.held_now, s->held_total, __ATOMIC_RELAXED);
}

/* The sequence after s: sequences run 1 .. 2^32-1, 1, ... (0 is never
 * sent: it means "none"). */
static inline uint32_t seq_inc(uint32_t s)
{
	return s == UINT32_MAX ? 1 : s + 1;
}

/* (every caller applied or covered the sequences below next: the
 * restart sets next_seq itself; hc_seq_applied's ack is next's
 * predecessor from then on) */
static inline void set_next(struct hc_gw_state *g, uint32_t next)
{
	__atomic_store_n(&g->next_seq, next, __ATOMIC_RELAXED);
	if (unlikely(g->none_applied))
		__atomic_store_n(&g->none_applied, 0, __ATOMIC_RELAXED);
	/* a far-ahead claim applied past is no part of a floor any more;
	 * kept, 2^31 sequences on it would read as ahead again (seq_top) */
	if (unlikely(g->far_top != 0) &&
	    !hc_seq_after(g->far_top, next == 1 ? UINT32_MAX : next - 1)) /* (0 never sent) */
		g->far_top = 0;
}

/* Nothing of the incarnation seen yet (restart): no sequence is a
 * duplicate then, however far serial order puts it behind 1 (a gateway
 * that outlived an appliance restart may be past 2^31).  A flag, not
 * next_seq == 1: next_seq is 1 again after a wrap. */
static inline int nothing_yet(const struct hc_gw_state *g)
{
	return !g->seen;
}

/* The sequence before s (0 is never sent). */
static inline uint32_t seq_prev(uint32_t s)
{
	return s == 1 ? UINT32_MAX : s - 1;
}

/* next_seq jumped forward from `from`: known_last stays at or after the
 * sequence before next_seq.  Compared as distances forward from the one
 * before `from`, which serial order cannot do for a jump of 2^31 or more
 * (a snapshot's reset point may be that far); known_last 0 knows none. */
static inline void keep_known(struct hc_gw_state *g, uint32_t from)
{
	uint32_t last = seq_prev(g->next_seq), base = seq_prev(from);
	if (g->known_last == 0 || (uint32_t)(last - base) > (uint32_t)(g->known_last - base))
		g->known_last = last;
}

static void deliver_one(struct hc_sequencer *s, struct hc_gw_state *g,
			struct rte_mbuf *m)
{
	HC_RELAXED_ADD(&g->datagrams, 1);
	s->hooks.deliver(s->hooks.ctx, m);
}

/* Deliver held datagrams that are now in order. */
static void drain(struct hc_sequencer *s, uint16_t gw)
{
	struct hc_gw_state *g = &s->gw[gw];
	while (g->held > 0) {
		unsigned slot = g->next_seq & WIN_MASK;
		struct rte_mbuf *m = g->win[slot];
		if (m == NULL)
			break;
		g->win[slot] = NULL;
		g->held--;
		s->held_total--;
		set_next(g, seq_inc(g->next_seq));
		deliver_one(s, g, m);
	}
	/* (called when next_seq moved on) a gap still open is being
	 * repaired: its NACK rounds count from here, so a gateway whose
	 * resends fill it over more than --gap-nacks rounds (its newer
	 * datagrams shed behind it) does not see it given up */
	if (!gap_pending(g))
		gap_close(s, gw);
	else
		g->nacks_now = 0;
	publish_held(s);
}

/* Every datagram gw holds freed, unapplied: how many (the caller counts
 * them). */
static uint64_t discard_held(struct hc_sequencer *s, uint16_t gw)
{
	struct hc_gw_state *g = &s->gw[gw];
	uint64_t dropped = 0;

	for (unsigned i = 0; i < HC_SEQ_WINDOW; i++) {
		if (g->win[i] != NULL) {
			rte_pktmbuf_free(g->win[i]);
			g->win[i] = NULL;
			dropped++;
		}
	}
	s->held_total -= g->held;
	g->held = 0;
	publish_held(s);
	return dropped;
}

/* Move next_seq up to target: deliver held ones in order (when
 * `deliver`), else free them; the missing ones count as lost (give up)
 * or subsumed (a snapshot covers them). */
static void advance_to(struct hc_sequencer *s, uint16_t gw, uint32_t target, int deliver)
{
	struct hc_gw_state *g = &s->gw[gw];
	uint64_t missing = 0;
	uint32_t from = g->next_seq;

	if (unlikely(target - g->next_seq == 1u << 31)) {
		/* a snapshot's chunk 0 exactly half the sequence space ahead:
		 * serial order calls it neither after nor before (hc_seq_after),
		 * yet the reset point jumps to it.  Everything held comes
		 * before it: freed, not left in slots that would stand for
		 * the sequences after it (2^31 is a multiple of the window) */
		missing = discard_held(s, gw) + HC_SEQ_FAR;
		set_next(g, target);
		keep_known(g, from);
	}
	while (g->held > 0 && hc_seq_after(target, g->next_seq)) {
		unsigned slot = g->next_seq & WIN_MASK;
		struct rte_mbuf *m = g->win[slot];
		set_next(g, seq_inc(g->next_seq));
		if (m == NULL) {
			missing++;
			continue;
		}
		g->win[slot] = NULL;
		g->held--;
		s->held_total--;
		if (deliver) {
			deliver_one(s, g, m);
		} else {
			missing++;
			rte_pktmbuf_free(m);
		}
	}
	if (hc_seq_after(target, g->next_seq)) {
		uint32_t jump = target - g->next_seq;
		missing += jump < HC_SEQ_FAR ? jump : HC_SEQ_FAR; /* counted, not claimed */
		set_next(g, target);
		keep_known(g, from);
	}
	if (deliver) {
		HC_RELAXED_ADD(&g->lost, missing);
		HC_RELAXED_ADD(&s->st.lost, missing);
	} else {
		HC_RELAXED_ADD(&s->st.subsumed, missing);
	}
	publish_held(s);
}

/* Give up the oldest gap of gw: jump to the first held sequence (or past
 * the last known one when nothing is held). */
static void skip_gap(struct hc_sequencer *s, uint16_t gw)
{
	struct hc_gw_state *g = &s->gw[gw];
	uint32_t target = seq_inc(g->known_last);

	if (g->held > 0) {
		for (uint32_t k = 1; k < HC_SEQ_WINDOW; k++) {
			if (g->win[(g->next_seq + k) & WIN_MASK] != NULL) {
				target = g->next_seq + k;
				break;
			}
		}
	}
	if (hc_seq_after(target, g->next_seq))
		advance_to(s, gw, target, 1);
	gap_close(s, gw);
	drain(s, gw);
}

static void free_held(struct hc_sequencer *s, uint16_t gw)
{
	uint64_t dropped = discard_held(s, gw);
	gap_close(s, gw);
	HC_RELAXED_ADD(&s->st.stale, dropped);
}

static void ask_restart(struct hc_sequencer *s, uint16_t gw, uint64_t now)
{
	struct hc_gw_state *g = &s->gw[gw];
	if (g->last_nack_tsc != 0 && now - g->last_nack_tsc < s->gap_timeout_tsc)
		return;
	g->last_nack_tsc = now;
	HC_RELAXED_ADD(&s->st.restarts, 1);
	if (s->hooks.resync != NULL)
		s->hooks.resync(s->hooks.ctx, gw, HC_RESYNC_RESTART, 0, 0);
}

/* Start gateway gw afresh at sequence 1 under incarnation inc (0: not
 * known until its next datagram): held datagrams go, and with drop its
 * users too.  A new incarnation gets a new control-counter window; the
 * forgotten one's incarnation resumed keeps its window and floor.  Its
 * datagram is a sign of life even if it is not taken (beyond the window,
 * far ahead after the appliance lost its state): the dead-gateway
 * timeout runs from now, not from a reading long past. */
static void restart(struct hc_sequencer *s, uint16_t gw, uint32_t inc, int drop, uint64_t now)
{
	struct hc_gw_state *g = &s->gw[gw];
	free_held(s, gw);
	shutdown_done(s, gw);
	if (drop && s->hooks.drop_users != NULL)
		s->hooks.drop_users(s->hooks.drop_ctx, gw);
	if (inc != 0 && inc != g->floor_inc) {
		hc_replay_reset(&g->ctl);
		g->floor_inc = 0;
		g->floor_seq = 0;
	}
	/* (none_applied before next_seq, released with it: a reader that
	 * sees this next_seq 1, acquired, sees the flag and never takes it
	 * for a wrap) */
	__atomic_store_n(&g->none_applied, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&g->incarnation, inc, __ATOMIC_RELAXED);
	__atomic_store_n(&g->next_seq, 1, __ATOMIC_RELEASE);
	g->known_last = 0;
	g->seen = 0;
	g->far_top = 0;
	g->last_nack_tsc = 0;
	g->inc_since_tsc = now;
	if (inc != 0)
		heard(g, now);
}

/*
 * A datagram of an older incarnation (check_incarnation said so): stale.
 * It is a second live source under this id only if it is of the
 * incarnation just taken over, comes after the grace (not in flight from
 * before), and shows progress: a sequence (is_ctr 0) or control counter
 * (1) beyond the highest that incarnation had sent at the takeover, or
 * since.  A replay of its old datagrams shows none.
 */
static enum hc_seq_verdict older_incarnation(struct hc_sequencer *s, struct hc_gw_state *g,
					     uint32_t inc, uint32_t x, int is_ctr, uint64_t now)
{
	HC_RELAXED_ADD(&s->st.stale, 1);
	if (g->incarnation == 0 || inc != g->prev_inc ||
	    now - g->inc_since_tsc <= s->conflict_grace_tsc)
		return HC_SEQ_STALE;
	uint32_t *top = is_ctr ? &g->prev_ctr_top : &g->prev_seq_top;
	if (!hc_seq_after(x, *top))
		return HC_SEQ_STALE;
	*top = x;
	HC_RELAXED_ADD(&s->st.id_conflicts, 1);
	return HC_SEQ_CONFLICT;
}

/* The highest sequence gw's incarnation is known to have sent.  A
 * far-ahead claim with nothing seen yet is it, wherever serial order puts
 * it (a gateway past 2^31 at first contact, forgotten before its
 * snapshot came: its floor is its claim, not 0). */
static uint32_t seq_top(const struct hc_gw_state *g)
{
	uint32_t top = g->known_last, applied = seq_prev(g->next_seq); /* (not 0 after a wrap) */
	if (hc_seq_after(applied, top))
		top = applied;
	if (g->far_top != 0 && (nothing_yet(g) || hc_seq_after(g->far_top, top)))
		top = g->far_top;
	return top;
}

#define INC_SWEEP_DEFERRED (-3) /* (check_incarnation: not an hc_seq_verdict) */

/*
 * Returns 0 if the incarnation is current, 1 after a reset to a newer one
 * (or a first contact), HC_SEQ_STALE for an older one, INC_SWEEP_DEFERRED
 * for a newer one over the gateway's sweep budget (nothing changed).
 * First contact starts at sequence 1; a newer incarnation first drops the
 * old one's users.  A forgotten gateway's floor refuses older ones.
 */
static int check_incarnation(struct hc_sequencer *s, uint16_t gw, uint32_t inc, uint64_t now)
{
	struct hc_gw_state *g = &s->gw[gw];
	if (likely(g->incarnation == inc))
		return 0;
	if (g->incarnation != 0) {
		if (!hc_seq_after(inc, g->incarnation))
			return HC_SEQ_STALE;
		if (!sweep_admit(s, g, now))
			return INC_SWEEP_DEFERRED; /* its users' drop waits */
		HC_RELAXED_ADD(&g->resets, 1);
		g->prev_inc = g->incarnation; /* what it had sent: no progress, no conflict */
		g->prev_seq_top = seq_top(g);
		g->prev_ctr_top = g->ctl.top;
		restart(s, gw, inc, 1, now);
		return 1;
	}
	if (g->floor_inc != 0 && hc_seq_after(g->floor_inc, inc))
		return HC_SEQ_STALE;
	restart(s, gw, inc, 0, now);
	if (inc == g->floor_inc) {
		/* the forgotten incarnation itself is back (it was silent, not
		 * gone): go on above its floor, and since its users were
		 * dropped, have it restate them */
		if (g->floor_seq != 0) /* (0: it sent heartbeats only) */
			set_next(g, seq_inc(g->floor_seq));
		g->known_last = g->floor_seq;
		g->seen = 1; /* up to its floor */
		g->floor_inc = 0; /* next_seq guards it now (a floor kept would
		                     compare wrong once 2^31 sequences on) */
		g->floor_seq = 0;
		ask_restart(s, gw, now);
	}
	return 1;
}

/* Drop gw's users (unless it holds none: drop 0) and forget it; its next
 * datagram is a first contact, above the floor. */
static void forget_quietly(struct hc_sequencer *s, uint16_t gw, int drop)
{
	struct hc_gw_state *g = &s->gw[gw];
	uint32_t inc = g->incarnation, top = seq_top(g);
	restart(s, gw, 0, drop, 0);
	g->floor_inc = inc;
	g->floor_seq = top;
	if (s->hooks.forgotten != NULL)
		s->hooks.forgotten(s->hooks.ctx, gw);
}

/* The gateway is gone (silent, or said SHUTDOWN). */
static void forget(struct hc_sequencer *s, uint16_t gw, int drop)
{
	forget_quietly(s, gw, drop);
	HC_RELAXED_ADD(&s->gw[gw].deaths, 1);
	HC_RELAXED_ADD(&s->st.deaths, 1);
}

/* ------------------------------------------------------------- API -- */

static enum hc_seq_verdict duplicate(struct hc_sequencer *s, struct hc_gw_state *g,
				     struct rte_mbuf *m)
{
	HC_RELAXED_ADD(&g->duplicates, 1);
	HC_RELAXED_ADD(&s->st.duplicates, 1);
	rte_pktmbuf_free(m);
	return HC_SEQ_OLD;
}

/* A snapshot's last chunk over gw's sweep budget: not taken, but known
 * to exist (inside the window), so that its gap is NACKed and the gateway
 * sends it again.  Returns 1 if so (m freed). */
static int sweep_deferred(struct hc_sequencer *s, uint16_t gw, struct rte_mbuf *m,
			  uint32_t sequence, unsigned flags, uint64_t now)
{
	struct hc_gw_state *g = &s->gw[gw];
	if (likely(!(flags & HC_SEQ_ENDS_SNAPSHOT)) || sweep_admit(s, g, now))
		return 0;
	rte_pktmbuf_free(m);
	if ((uint32_t)(sequence - g->next_seq) < HC_SEQ_WINDOW) {
		saw(g, sequence);
		gap_open(s, gw, now);
		/* the NACK rounds count from this refusal: the gap is given
		 * up only if the gateway stops sending the chunk again, not
		 * because the budget refused it for a while */
		g->nacks_now = 0;
	} /* (farther: its heartbeats name it, and a snapshot is asked for) */
	return 1;
}

enum hc_seq_verdict hc_seq_offer(struct hc_sequencer *s, struct rte_mbuf *m, uint16_t gw,
				 uint32_t incarnation, uint32_t sequence, unsigned flags,
				 uint64_t now)
{
	now = seq_now(s, now);
	struct hc_gw_state *g = &s->gw[gw];
	int reset_point = (flags & HC_SEQ_RESET_POINT) != 0;

	if (unlikely(g->incarnation == 0 && g->floor_inc != 0 && g->floor_inc == incarnation &&
		     !hc_seq_after(sequence, g->floor_seq)))
		return duplicate(s, g, m); /* from before we forgot it: no revival */
	int fresh = check_incarnation(s, gw, incarnation, now);
	if (unlikely(fresh < 0)) {
		rte_pktmbuf_free(m);
		if (fresh == INC_SWEEP_DEFERRED)
			return HC_SEQ_OLD;
		return older_incarnation(s, g, incarnation, sequence, 0, now);
	}
	/* the newest this incarnation has sent: may move its address */
	enum hc_seq_verdict ok = nothing_yet(g) || hc_seq_after(sequence, g->known_last) ?
				 HC_SEQ_NEWEST : HC_SEQ_FRESH;
	if (unlikely(flags & HC_SEQ_RESET_IF_BEYOND)) {
		/* (judged on next_seq as check_incarnation left it) */
		uint32_t ahead = sequence - g->next_seq;
		reset_point = ahead >= HC_SEQ_FAR;
	}
	/* (past check_incarnation no floor is left: a revival drops it) */
	if (likely(sequence == g->next_seq)) {
		if (unlikely(sweep_deferred(s, gw, m, sequence, flags, now)))
			return HC_SEQ_OLD;
		heard(g, now);
		set_next(g, seq_inc(g->next_seq));
		saw(g, sequence);
		deliver_one(s, g, m);
		if (unlikely(g->held > 0 || g->gap_index != UINT32_MAX))
			drain(s, gw);
		return ok;
	}
	if (hc_seq_after(g->next_seq, sequence) && !nothing_yet(g))
		return duplicate(s, g, m); /* applied */
	if (reset_point) {
		/* a snapshot starts here: what came before is covered by it */
		if (unlikely(sweep_deferred(s, gw, m, sequence, flags, now)))
			return HC_SEQ_OLD;
		uint32_t from = g->next_seq;
		heard(g, now);
		advance_to(s, gw, sequence, 0);
		struct rte_mbuf *same = g->win[sequence & WIN_MASK];
		if (unlikely(same != NULL)) {
			/* another datagram under this very sequence was held:
			 * it would sit in the window as sequence + 64 */
			g->win[sequence & WIN_MASK] = NULL;
			g->held--;
			s->held_total--;
			rte_pktmbuf_free(same);
			HC_RELAXED_ADD(&s->st.stale, 1);
			publish_held(s);
		}
		saw(g, sequence);
		set_next(g, seq_inc(sequence));
		keep_known(g, from);
		deliver_one(s, g, m);
		drain(s, gw);
		return ok;
	}
	if ((uint32_t)(sequence - g->next_seq) >= HC_SEQ_FAR) {
		/* no gap of this size is repaired datagram by datagram:
		 * a snapshot covers it, and nothing is counted lost by claim */
		if (hc_seq_after(sequence, g->far_top) || g->far_top == 0)
			g->far_top = sequence; /* still part of a floor */
		ask_restart(s, gw, now);
	} else {
		saw(g, sequence);
		if (fresh > 0 && (uint32_t)(sequence - g->next_seq) >= HC_SEQ_WINDOW)
			ask_restart(s, gw, now); /* far from 1: we lost its state */
	}
	unsigned slot = sequence & WIN_MASK;
	int beyond = (uint32_t)(sequence - g->next_seq) >= HC_SEQ_WINDOW;
	int new_hold = !beyond && g->win[slot] == NULL;
	int full = new_hold && s->held_total >= HC_SEQ_MAX_HELD;
	int shed = new_hold && !full && scarce_short(s, m);
	if (beyond || full || shed) {
		/* no room to hold it: it will be asked for again (not one
		 * far ahead: the snapshot asked for covers it, no gap is) */
		HC_RELAXED_ADD(&s->st.beyond, 1);
		HC_RELAXED_ADD(&s->st.gather_shed, (uint64_t)shed);
		rte_pktmbuf_free(m);
		if (gap_pending(g))
			gap_open(s, gw, now);
		return HC_SEQ_OLD;
	}
	if (g->win[slot] != NULL)
		return duplicate(s, g, m);
	if (unlikely(sweep_deferred(s, gw, m, sequence, flags, now)))
		return HC_SEQ_OLD;
	heard(g, now);
	g->win[slot] = m;
	g->held++;
	s->held_total++;
	publish_held(s);
	gap_open(s, gw, now);
	return ok;
}

enum hc_seq_verdict hc_seq_control(struct hc_sequencer *s, uint16_t gw, uint32_t incarnation,
				   uint32_t ctr, uint64_t now)
{
	now = seq_now(s, now);
	struct hc_gw_state *g = &s->gw[gw];

	if (unlikely(ctr == 0)) {
		/* never sent (counters start at 1), never accepted: refused
		 * before check_incarnation, where a newer incarnation's
		 * datagram would drop the gateway's users first */
		HC_RELAXED_ADD(&g->replayed, 1);
		HC_RELAXED_ADD(&s->st.replayed, 1);
		return HC_SEQ_OLD;
	}
	/* a forgotten gateway comes back only with a counter above any it
	 * sent before (a lost one replayed would do otherwise); check
	 * before check_incarnation revives the entry */
	if (g->incarnation == 0 && g->floor_inc != 0 && g->floor_inc == incarnation &&
	    g->ctl.top != 0 && !hc_seq_after(ctr, g->ctl.top)) {
		HC_RELAXED_ADD(&g->replayed, 1);
		HC_RELAXED_ADD(&s->st.replayed, 1);
		return HC_SEQ_OLD;
	}
	int fresh = check_incarnation(s, gw, incarnation, now);
	if (fresh == INC_SWEEP_DEFERRED)
		return HC_SEQ_OLD;
	if (fresh < 0)
		return older_incarnation(s, g, incarnation, ctr, 1, now);
	enum hc_seq_verdict ok = (g->ctl.top == 0 || hc_seq_after(ctr, g->ctl.top)) ?
				 HC_SEQ_NEWEST : HC_SEQ_FRESH;
	if (!hc_replay_accept(&g->ctl, ctr)) { /* seen, too old, or 0 */
		HC_RELAXED_ADD(&g->replayed, 1);
		HC_RELAXED_ADD(&s->st.replayed, 1);
		return HC_SEQ_OLD;
	}
	heard(g, now);
	return ok;
}

enum hc_seq_verdict hc_seq_heartbeat(struct hc_sequencer *s, uint16_t gw, uint32_t incarnation,
				     uint32_t ctr, uint32_t last_sequence, int shutdown,
				     uint64_t now)
{
	now = seq_now(s, now);
	struct hc_gw_state *g = &s->gw[gw];
	int first = g->incarnation != incarnation;

	enum hc_seq_verdict v = hc_seq_control(s, gw, incarnation, ctr, now);
	if (v < HC_SEQ_FRESH)
		return v;
	HC_RELAXED_ADD(&g->heartbeats, 1);
	if (last_sequence != 0 &&
	    (hc_seq_after(last_sequence, g->next_seq - 1) || nothing_yet(g)) &&
	    (uint32_t)(last_sequence - g->next_seq) >= HC_SEQ_FAR) {
		if (hc_seq_after(last_sequence, g->far_top) || g->far_top == 0)
			g->far_top = last_sequence; /* part of a floor */
		if (!shutdown)
			ask_restart(s, gw, now); /* as in hc_seq_offer: a snapshot covers it */
	} else if (last_sequence != 0) {
		saw(g, last_sequence);
		if (!shutdown && first && hc_seq_after(last_sequence, HC_SEQ_WINDOW))
			ask_restart(s, gw, now);
	}
	if (shutdown) { /* its floor covers all it sent (last_sequence) */
		if (first) {
			/* a first contact holds no users; a newer incarnation's
			 * predecessor's were dropped (and charged) just now */
			forget(s, gw, 0);
		} else if (sweep_admit(s, g, now)) {
			forget(s, gw, 1);
		} else {
			shutdown_due(s, gw); /* forgotten once the budget allows */
		}
		return v;
	}
	if (gap_pending(g))
		gap_open(s, gw, now);
	return v;
}

/* NACK the missing runs of gw's open gap: inside the window one record
 * per run, beyond it one record for the rest. */
static void nack(struct hc_sequencer *s, uint16_t gw)
{
	struct hc_gw_state *g = &s->gw[gw];
	uint32_t runs = 0, q = g->next_seq;
	uint32_t end = g->known_last;   /* inclusive */
	uint32_t win_end = g->next_seq + HC_SEQ_WINDOW - 1;

	while (!hc_seq_after(q, end) && !hc_seq_after(q, win_end) &&
	       runs < HC_SEQ_MAX_NACK_RUNS) {
		if (g->win[q & WIN_MASK] != NULL) {
			q = seq_inc(q);
			continue;
		}
		uint32_t first = q;
		while (!hc_seq_after(q, end) && !hc_seq_after(q, win_end) &&
		       g->win[q & WIN_MASK] == NULL)
			q = seq_inc(q);
		if (s->hooks.resync != NULL)
			s->hooks.resync(s->hooks.ctx, gw, HC_RESYNC_GAP, first,
					q == 1 ? UINT32_MAX : q - 1);
		runs++;
	}
	if (runs < HC_SEQ_MAX_NACK_RUNS && hc_seq_after(end, win_end)) {
		if (s->hooks.resync != NULL)
			s->hooks.resync(s->hooks.ctx, gw, HC_RESYNC_GAP, seq_inc(win_end), end);
		runs++;
	}
	HC_RELAXED_ADD(&g->nacks, runs);
	HC_RELAXED_ADD(&s->st.nacks, runs);
}

void hc_seq_poll_read(struct hc_sequencer *s, uint64_t now, uint64_t read_up_to)
{
	now = seq_now(s, now);
	for (uint32_t d = 0; d < s->n_due;) {
		uint16_t gw = (uint16_t)s->due_list[d];
		if (!sweep_allowed(s, &s->gw[gw], now)) {
			d++;
			continue;
		}
		sweep_take(s, &s->gw[gw], now);
		forget(s, gw, 1); /* (takes gw off the list: slot d holds another) */
	}
	uint32_t i = 0;
	while (i < s->n_gaps) {
		uint16_t gw = (uint16_t)s->gap_list[i];
		struct hc_gw_state *g = &s->gw[gw];
		if (now - g->gap_since_tsc < s->gap_timeout_tsc ||
		    (g->last_nack_tsc != 0 && now - g->last_nack_tsc < s->gap_timeout_tsc)) {
			i++;
			continue;
		}
		if (g->nacks_now < s->max_nacks) {
			nack(s, gw);
			g->nacks_now++;
			g->last_nack_tsc = now;
			i++;
			continue;
		}
		/* the gateway does not repair it: give up, count the lost,
		 * and ask it to restate (what we hold of it may miss what was
		 * lost, or a snapshot's chunk: its stage then never ends) */
		skip_gap(s, gw); /* removes gw from the list */
		ask_restart(s, gw, now);
		if (gap_pending(g))
			gap_open(s, gw, now); /* a further gap waits anew */
		/* slot i now holds another gateway (or gw again, at the end) */
		if (i < s->n_gaps && s->gap_list[i] == gw)
			i++;
	}
	if (s->dead_timeout_tsc == 0 || now < s->next_dead_scan)
		return;
	s->next_dead_scan = now + rte_get_tsc_hz() / 100;
	/* (heard after read_up_to: read since, so alive; the sum cannot wrap) */
	for (uint32_t gw = 1; gw < s->max_gateways; gw++) {
		struct hc_gw_state *g = &s->gw[gw];
		if (g->incarnation != 0 && read_up_to > g->last_heard_tsc + s->dead_timeout_tsc)
			forget(s, (uint16_t)gw, 1);
	}
}

void hc_seq_forget_all(struct hc_sequencer *s)
{
	for (uint32_t gw = 1; gw < s->max_gateways; gw++)
		if (s->gw[gw].incarnation != 0) {
			forget_quietly(s, (uint16_t)gw, 1);
			HC_RELAXED_ADD(&s->st.demotion_forgets, 1);
		}
}

void hc_seq_heard_all(struct hc_sequencer *s, uint64_t now)
{
	now = seq_now(s, now);
	for (uint32_t gw = 1; gw < s->max_gateways; gw++)
		if (s->gw[gw].incarnation != 0)
			heard(&s->gw[gw], now);
}

void hc_seq_flush_all(struct hc_sequencer *s)
{
	while (s->n_gaps > 0) {
		uint16_t gw = (uint16_t)s->gap_list[0];
		struct hc_gw_state *g = &s->gw[gw];
		skip_gap(s, gw);
		while (g->held > 0)
			skip_gap(s, gw);
		gap_close(s, gw);
	}
}
