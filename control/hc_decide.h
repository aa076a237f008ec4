/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_decide.h - the control core's decision loop: the seat book kept
 * exact from the workers' applied changes.
 *
 * Runs on the control lcore only.  Every poll drains each worker's change
 * ring into the seat book (control/hc_rooms.h): a leave frees a seat; a
 * JOIN's seat request is admitted (the user's reservation, or a free seat)
 * or refused (the room is full counting reservations), answered to the
 * worker, and a refused user's gateway gets an ASSIGN NEW_TOPIC with a
 * placement elsewhere.  So no room is ever above max by headcount's
 * decision.  Then it answers the
 * PLACE requests the workers passed on: each gets a room (and a reserved
 * seat) from the book and an ASSIGN record to its gateway (control/hc_tx.h).
 * Changes are read before requests, so a placement sees every change
 * already reported.  Every tick it retires empty rooms; reservations expire
 * on every poll.  Every tick the balancer plans each pool from the book
 * (control/hc_balance.h); for each transfer the workers holding the source
 * room's users pick them (one scan of their slots, with a cooldown) and
 * report them; each
 * picked user gets a seat in the destination, held by its MOVE directive
 * (control/hc_directives.h), and its gateway the MOVE.  The user's JOIN
 * there takes the seat.
 */
#ifndef HC_DECIDE_H
#define HC_DECIDE_H

#include <stdint.h>

#include "hc_balance.h"
#include "hc_ctlsync.h"
#include "hc_dataplane.h"
#include "hc_directives.h"
#include "hc_ha.h"
#include "hc_park.h"
#include "hc_policy.h"
#include "hc_restart.h"
#include "hc_rooms.h"
#include "hc_tx.h"
#include "hc_view.h"

#define HC_BAL_MAX_TRANSFERS 65536 /* per pool and tick */

struct hc_decide_stats {
	uint64_t changes;      /* applied changes read from the workers */
	uint64_t unknown_pool; /* joins or PLACEs naming an unknown pool */
	uint64_t places;       /* PLACE requests answered                */
	uint64_t admitted, refused; /* seat requests decided: JOINs and
	                               restatements                     */
	uint64_t restatements; /* ... of them snapshots' members          */
	uint64_t restatements_refused; /* ... refused: the room was full   */
	uint64_t owed_at_stop;     /* refused restatements still owed a
	                              placement when the workers drained
	                              (a hold begun during the drain):
	                              their gateways were told nothing  */
	uint64_t new_topics;   /* NEW_TOPIC answers sent for refusals     */
	uint64_t no_room_answers; /* NO_ROOM answers sent for refusals of
	                          users in no room, none to be had      */
	uint64_t no_address;   /* messages not sent: the gateway's address
	                          is unknown (refusals, notices, MOVEs,
	                          RESYNCs)                               */
	uint64_t peers;        /* gateway address reports                 */
	uint64_t peers_forgotten; /* ... that a home worker forgot one       */
	uint64_t planned;      /* moves the balancer planned               */
	uint64_t picked;       /* users the workers picked for them        */
	uint64_t directives;   /* MOVE records sent                        */
	uint64_t move_skipped; /* picks whose seat could not be reserved   */
	uint64_t move_pool_changed; /* picks not moved: their room, retired
	                       while they were out, is another pool's now */
	uint64_t new_topics_room_gone; /* NEW_TOPICs given up at a resend:
	                               their room retired (its reservation
	                               expired) or another pool's now    */
	uint64_t resent_unseated; /* NEW_TOPICs resent in a restart hold
	                             without their expired seat          */
	uint64_t ticks;
	uint64_t ticks_waited; /* ticks without a plan: picks or directives
	                          in flight                              */
	uint64_t resyncs;      /* RESYNC records sent (NACKs, snapshot requests) */
	uint64_t heartbeats;   /* HEARTBEATs sent to gateways              */
	uint64_t id_conflicts; /* second live sources reported by workers  */
	uint64_t conflict_notices; /* HEARTBEATs with ID_CONFLICT sent     */
	uint64_t places_over_quota; /* PLACEs answered NO_ROOM, refused
	                               JOINs given no room elsewhere: the
	                               gateway holds --max-places-per-gateway
	                               seats                              */
	uint64_t tx_budget_held;    /* --no-auth: RESYNC/HEARTBEAT not sent,
	                               the address got 4x what it sent   */
	uint64_t table_full;        /* JOINs and restatements refused: a
	                               worker's user table was full (the
	                               gateway hears FULL)               */
	uint64_t superseded;        /* SUPERSEDED answers asked for: a JOIN
	                               or snapshot member ignored (the user
	                               has a newer session elsewhere), or a
	                               user taken from its owner           */
	uint64_t hold_ended_by_stop; /* restart holds a stop ended (its
	                               held requests decided then), and
	                               those an HA takeover began in the
	                               drain, ended at once               */
	uint64_t hold_overflow;     /* restart holds ended early: a worker's
	                               held requests reached half its limit,
	                               a worker with requests held waited
	                               100 ms for decisions, or too many
	                               placements were owed                */
	uint64_t holds_carried;     /* HA: a new epoch inside a restart hold:
	                               its held requests and owed placements
	                               carried into the new hold           */
	uint64_t swept_stale;       /* HA master: a worker's sweep of a
	                               snapshot that named another epoch than
	                               ours (sent before the gateway heard
	                               this epoch: not a restatement for its
	                               hold, the gateway restates again)   */
	uint64_t backup_skipped;    /* an HA backup's picks answered and JOINs
	                               refused after its demotion: no MOVE,
	                               no NEW_TOPIC seat (cold)           */
	uint64_t drop_in_hold;      /* a worker's sweep of a gateway's users
	                               dropped (a newer incarnation, its
	                               SHUTDOWN, its death) in a restart
	                               hold: no restatement for it (the first
	                               incarnation heard may be a replay)  */
	uint64_t keys_reloads;      /* keys files read again and installed */
	uint64_t keys_reload_failures; /* ... refused (the old keys stay)  */
	uint64_t state_key_reloads; /* --state-key files read again (with the
	                               keys, or a config reload)          */
	uint64_t state_key_reload_failures; /* ... refused (the key stays) */
	uint64_t config_reloads;    /* config files reloaded and applied    */
	uint64_t view_merges;       /* room views merged and published      */
	uint64_t view_merge_cycles; /* TSC cycles the merges' slices took   */
	uint64_t view_slice_max_cycles; /* the longest slice (one pass's hold) */
	uint64_t config_reload_errors; /* ... refused whole (the running
	                               config stays)                     */
	uint64_t lease_parked;      /* seat requests that found their room
	                               full only for seats leased to
	                               workers: decided again once those
	                               came back                         */
	uint64_t lease_park_full;   /* ... refused at once instead: no room
	                               to park them, or no room to ask     */
};

/* A RESYNC (a NACK or a RESTART request) asked while a gateway's first
 * datagram was judged: its address comes in the change right after. */
struct hc_resync_wait {
	uint32_t reason;   /* 0: none waits */
	uint32_t first, last;
	uint32_t incarnation; /* the gateway's when it was asked */
	uint64_t tsc;      /* when it was asked */
};

struct hc_decide {
	struct hc_dataplane *dp;
	const struct hc_policy *pol;
	struct hc_rooms book;
	struct hc_tx tx;
	struct hc_peer *peer;      /* [max_gateways]; ip_be 0: unknown     */
	uint64_t *conflict_until;  /* [max_gateways]: tsc until which its
	                              heartbeats say ID_CONFLICT          */
	uint64_t *conflict_told;   /* [max_gateways]: last direct notice  */
	struct hc_resync_wait *resync_wait; /* [max_gateways]: a RESYNC asked
	                              before the gateway's address came    */
	uint32_t resyncs_waiting;  /* of them, waiting now (reason != 0)  */
	uint64_t gateway_timeout_tsc; /* --gateway-timeout-ms: how long
	                              one waits                          */
	uint64_t last_conflict_log;
	/* the restart hold (hc_restart.h), and the JOINs' seat requests it
	 * holds, per worker, in order */
	struct hc_restart restart;
	uint8_t state_key[HC_RESTART_KEYS][HC_RESTART_KEY_LEN]; /* --state-key's, as
	                             last loaded (a takeover's restart hold) */
	unsigned n_state_keys;
	struct hc_change *held[HC_MAX_WORKERS];
	uint32_t n_held[HC_MAX_WORKERS];
	struct hc_change *owed;    /* [HC_CHAN_MAX_PENDING] refused
	                              restatements whose users are placed
	                              when the hold ends                  */
	uint32_t n_owed;
	/* decisions a full ring could not take yet, per worker, in order */
	struct hc_decision *backlog[HC_MAX_WORKERS];
	uint32_t n_backlog[HC_MAX_WORKERS];
	struct hc_ctlsync sync;    /* when the workers have applied what was
	                              answered (the vacating marks) */
	/* seat leases (docs/architecture.md): requests parked until their
	 * room's revoke is answered, and a scratch copy to decide them */
	struct hc_park park;
	struct hc_parked *unparked; /* [HC_CHAN_MAX_PENDING] */
	int revoke_all;            /* a reload: every lease comes back    */
	/* balancer scratch */
	struct hc_bal_room *bal_rooms;      /* [max_rooms] */
	struct hc_bal_transfer *bal_t;      /* [HC_BAL_MAX_TRANSFERS] */
	struct hc_balance bal;              /* pools of up to max_rooms rooms */
	struct hc_directives dirs;
	uint64_t picks_in_flight;  /* HC_DEC_PICKs not answered by a PICK_END */
	int prefetch_rooms;        /* the book's live rooms, counted at each
	                              tick, are prefetch_rooms_from or more:
	                              a burst's reports fetch their rooms'
	                              lines ahead (hc_decide_poll) */
	uint32_t prefetch_rooms_from; /* HC_DECIDE_PREFETCH_ROOMS (the unit
	                              tests lower it, to run that path) */
	uint64_t tick_tsc, next_tick;
	uint64_t next_save;        /* the state file's next look (1 s)     */
	uint64_t hb_tsc, next_hb;
	uint64_t hold_tsc;         /* the restart hold's bound             */
	uint64_t carried_since;    /* carrying held requests across re-epochs:
	                              the start of the hold that held them
	                              first (valid while carrying)        */
	int carrying;
	struct hc_ha ha;           /* the role in an HA pair (hc_ha.h)    */
	struct hc_decide_stats st;
};

int hc_decide_init(struct hc_decide *d, struct hc_dataplane *dp,
		   const struct hc_policy *pol, uint32_t max_reservations,
		   uint32_t incarnation);
/* Before the workers launch: with --ha, start as HA_BACKUP (hc_ha.h). */
void hc_decide_ha_init(struct hc_decide *d, int role);
void hc_decide_free(struct hc_decide *d);

/* --state-key's keys from now on (at start, and each reload): the state
 * files' MAC (hc_restart_set_keys), now and at every takeover. */
void hc_decide_state_keys(struct hc_decide *d, const uint8_t (*keys)[HC_RESTART_KEY_LEN],
			  unsigned n_keys);

/* Drain the workers' rings once; run the tick when due. Returns items. */
unsigned hc_decide_poll(struct hc_decide *d, uint64_t now);

/*
 * After the workers stopped and the rings are drained: rooms where the
 * book's users differ from the view (v exact by then).  0 means exact.
 */
uint32_t hc_decide_mismatches(const struct hc_decide *d, const struct hc_room_view *v);

/*
 * The control core's counters, once: X(name, field of struct hc_decide).
 * Telemetry (/headcount/control) and --dump-stats ("ctl_<name>") render
 * this list.
 */
#define HC_DECIDE_COUNTERS(X) \
	X(changes, st.changes) X(places, st.places) X(admitted, st.admitted) \
	X(refused, st.refused) X(no_room_answers, st.no_room_answers) X(restatements, st.restatements) \
	X(restatements_refused, st.restatements_refused) X(new_topics, st.new_topics) X(no_address, st.no_address) \
	X(owed_at_stop, st.owed_at_stop) \
	X(unknown_pool, st.unknown_pool) X(ticks, st.ticks) X(ticks_waited, st.ticks_waited) \
	X(moves_planned, st.planned) X(users_picked, st.picked) \
	X(move_skipped, st.move_skipped) X(move_pool_changed, st.move_pool_changed) \
	X(new_topics_resent_unseated, st.resent_unseated) \
	X(new_topics_room_gone, st.new_topics_room_gone) \
	X(directives_sent, dirs.st.sent) \
	X(directives_resent, dirs.st.resent) X(directives_done, dirs.st.done) \
	X(directives_given_up, dirs.st.given_up) X(directives_cancelled, dirs.st.cancelled) \
	X(directives_refused, dirs.st.refused) X(directives_dropped, dirs.st.dropped) \
	X(reservations_refused, book.st.resv_refused) \
	X(reservations_consumed_evicted, book.st.resv_consumed_evicted) \
	X(picks_in_flight, picks_in_flight) X(placements, book.st.placements) \
	X(placements_repeated, book.st.placements_repeated) X(placements_late, book.st.placements_late) \
	X(new_rooms, book.st.new_rooms) X(no_room, book.st.no_room) \
	X(reservations_expired, book.st.expired) X(rooms_retired, book.st.retired) \
	X(joins_over_max, book.st.over_max) X(joins_other_range, book.st.joins_other_range) \
	X(placed_beyond_target, book.st.placed_beyond_target) \
	X(seated_beyond_target, book.st.seated_beyond_target) \
	X(tx_datagrams, tx.st.datagrams) X(tx_records, tx.st.records) \
	X(tx_no_mbuf, tx.st.no_mbuf) X(tx_ring_full, tx.st.ring_full) \
	X(tx_no_key, tx.st.no_key) X(id_conflicts, st.id_conflicts) \
	X(conflict_notices, st.conflict_notices) X(places_over_quota, st.places_over_quota) \
	X(tx_budget_held, st.tx_budget_held) X(table_full_refusals, st.table_full) \
	X(superseded_notices, st.superseded) X(keys_reloads, st.keys_reloads) X(keys_reload_failures, st.keys_reload_failures) \
	X(state_key_reloads, st.state_key_reloads) \
	X(state_key_reload_failures, st.state_key_reload_failures) \
	X(config_reloads, st.config_reloads) X(config_reload_errors, st.config_reload_errors) \
	X(view_merges, st.view_merges) X(view_merge_cycles, st.view_merge_cycles) \
	X(view_slice_max_cycles, st.view_slice_max_cycles) \
	X(reservations_outstanding, book.resv_fifo[0].n) \
	X(seats_held, book.st.seats_held) X(seats_held_now, book.held_now) \
	X(seat_errors, book.st.seat_errors) X(vacate_stale, book.st.vacate_stale) \
	X(kept_seats_refused, book.st.kept_seats_refused) \
	X(leased_over_max, book.st.leased_over_max) \
	X(sync_periods, sync.periods) \
	X(directive_seats_taken, dirs.st.seats_taken) \
	X(directive_seats_freed, dirs.st.seats_freed) \
	X(restart_hold, restart.holding) X(restart_gateways_listed, restart.st.listed) \
	X(restart_gateways_listed_by_peer, restart.st.listed_by_peer) \
	X(restart_gateways_restated, restart.st.restated) \
	X(restart_gateways_restated_late, restart.st.restated_late) \
	X(restart_hold_expired, restart.st.expired) \
	X(restart_hold_ms, restart.st.hold_ms) X(restart_hold_overflow, st.hold_overflow) \
	X(restart_hold_ended_by_stop, st.hold_ended_by_stop) \
	X(restart_holds_carried, st.holds_carried) X(restart_swept_stale, st.swept_stale) \
	X(restart_drops_in_hold, st.drop_in_hold) X(ha_backup_skipped, st.backup_skipped) \
	X(state_file_writes, restart.st.writes) X(state_file_write_errors, restart.st.write_errors) \
	X(state_file_unauthenticated, restart.st.unauthenticated) \
	X(state_file_stale, restart.st.stale) \
	X(state_file_write_busy_ms, restart.st.write_busy_ms) \
	X(ha_role, ha.role) X(ha_epoch, ha.epoch) X(ha_takeovers, ha.st.takeovers) \
	X(ha_demotions, ha.st.demotions) X(ha_reepochs, ha.st.reepochs) \
	X(ha_reepochs_own_box, ha.st.reepochs_own_box) X(ha_garps, ha.st.garps) \
	X(ha_garp_failures, ha.st.garp_failures) X(ha_takeover_wall_ms, ha.st.takeover_wall_ms) \
	X(ha_heard_far, ha.st.heard_far) X(ha_ports, ha.ports) X(ha_links_down, ha.links_down) \
	X(lease_grants, book.st.lease_grants) X(leased_seats, book.st.leased_seats) \
	X(lease_top_ups, book.st.lease_top_ups) X(lease_grown, book.st.lease_grown) \
	X(leased_joins, book.st.leased_joins) X(lease_revokes, book.st.lease_revokes) \
	X(lease_returned, book.st.lease_returned) X(lease_errors, book.st.lease_errors) \
	X(leases_outstanding, book.leased_now) X(lease_parked, st.lease_parked) \
	X(lease_park_full, st.lease_park_full) X(parked_now, park.n) \
	X(tx_ha_fenced, tx.st.ha_fenced)

/*
 * A reloaded policy (np, which must outlive its use): prepare checks and
 * allocates (-1 with the reason in err, nothing changed), commit applies
 * it between two polls and cannot fail: the seat book's pools
 * (hc_rooms_repool_*), the tick, the directives' timeout and retries.
 */
int hc_decide_reload_prepare(const struct hc_decide *d, const struct hc_policy *np,
			     struct hc_rooms_repool *x, char *err, size_t errlen);
void hc_decide_reload_commit(struct hc_decide *d, const struct hc_policy *np,
			     struct hc_rooms_repool *x, uint64_t now);

/* No decision owed and none in flight (stop protocol). */
int hc_decide_idle(const struct hc_decide *d);

/* A stop begins (the workers drain): a restart hold under way ends now,
 * counted (hold_ended_by_stop), and the seat requests it held are
 * decided, the placements it owed made.  A held request is answered
 * only when the hold ends, so the drain, which waits for every answer,
 * waited for the hold's timeout (up to the gateway timeout, and for
 * hc_control's 30 s bound past it) and then stopped "undrained".  The
 * gateways the hold waited for stay in the state file (hc_restart_end).
 * Called once the dataplane drains (hc_dp_set_state HC_DRAIN): from then
 * on a hold an HA takeover begins ends at once too (no input is read: no
 * gateway could restate). */
void hc_decide_draining(struct hc_decide *d, uint64_t now);

/* An orderly stop: the workers drained.  The state file is written once
 * more, now, with the gateways holding users (outside a hold, serving):
 * it is otherwise looked at once a second, and a gateway that placed its
 * first users within that second of a stop was not in it, so the next
 * start held nothing for it (the restart the hold is for).
 * hc_decide_free waits for the write. */
void hc_decide_stopped(struct hc_decide *d);

#endif /* HC_DECIDE_H */
