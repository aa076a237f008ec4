/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_ctlmsg.h - what workers and the control core pass each other.
 *
 * Worker -> control, over one SP/SC ring per worker and kind:
 *   struct hc_change    (hc_members.h) applied changes, seat requests of
 *                       JOINs, and gateways' addresses as their home
 *                       workers learn them;
 *   struct hc_place_req one PLACE record, with the address to answer.
 * Control -> worker:
 *   struct hc_decision  the answer to each seat request (matched by user:
 *                       one request a user at a time, so any order);
 *   ready-made frames (mbufs, m->port set) for the worker to transmit on
 *   its own TX queue of that port, since workers own the TX queues.
 */
#ifndef HC_CTLMSG_H
#define HC_CTLMSG_H

#include <stdint.h>
#include <string.h> /* memcmp: hc_peer_same */

/* Seat requests a worker keeps in flight at most (its pending table's
 * limit): the control core's backlog of answers per worker fits this. */
#define HC_CHAN_MAX_PENDING (3u << 12)


struct hc_dataplane;
struct rte_mbuf;

/* Where a gateway's datagram came from: where to answer. 16 bytes. */
struct hc_peer {
	uint32_t ip_be;      /* source IPv4 address, network order */
	uint16_t udp_be;     /* source UDP port, network order     */
	uint16_t port_id;    /* ethdev it arrived on               */
	uint8_t mac[6];      /* source MAC                         */
	uint8_t key_slot;    /* the key slot its datagram was sealed in */
	uint8_t flags;       /* HC_PEER_F_*                        */
};

/* hc_peer.flags: in an HC_CHG_PEER, the home worker forgot the gateway
 * (dead, SHUTDOWN, a demotion) and its copy of the address with it, so
 * that the gateway's next datagram taken passes its address on again,
 * from wherever it comes (the control core keeps the old one, marked: a
 * late answer, a NEW_TOPIC or MOVE resend still goes to it, as before,
 * but a RESYNC asked at the gateway's return waits for the new one). */
#define HC_PEER_F_FORGOTTEN 0x01

/* The same source (flags aside): the home worker's "has it moved?" and
 * the control core's "one datagram for both answers?". */
static inline int hc_peer_same(const struct hc_peer *a, const struct hc_peer *b)
{
	return a->ip_be == b->ip_be && a->udp_be == b->udp_be && a->port_id == b->port_id &&
	       memcmp(a->mac, b->mac, sizeof(a->mac)) == 0 && a->key_slot == b->key_slot;
}

/*
 * Control -> worker, 16 bytes, one of (kind):
 *   HC_DEC_SEAT  the answer to a seat request (HC_CHG_REQUEST or
 *                HC_CHG_RESTATE) of user_id for room_id: admit 1 applies
 *                the JOIN, 2 the snapshot's restatement, 0 refuses it;
 *                gateway_id is the JOIN's gateway (the user's owner from
 *                now on);
 *   HC_DEC_PICK  pick up to pick.count users of room_id not picked in the
 *                last pick.cooldown_s seconds, to move to pick.to_room;
 *                answered by HC_CHG_PICK changes, then one HC_CHG_PICK_END;
 *   HC_DEC_LEASE lease.seats more seats of room_id are this worker's to
 *                give: a JOIN into room_id applies at once while it has
 *                one left (HC_CHG_LEASED), without a seat request;
 *   HC_DEC_REVOKE the worker's seats of room_id go back: answered by one
 *                HC_CHG_LEASE_BACK (how many it had left).
 * (docs/architecture.md, "Seat leases").
 */
enum hc_decision_kind {
	HC_DEC_SEAT = 0,
	HC_DEC_PICK = 1,
	HC_DEC_LEASE = 2,
	HC_DEC_REVOKE = 3,
};

/* hc_decision.admit */
#define HC_SEAT_RESTATED 2 /* (1: a JOIN admitted; 0: refused) */

struct hc_decision {
	union {
		uint64_t user_id;        /* HC_DEC_SEAT */
		struct {                 /* HC_DEC_PICK */
			uint32_t to_room;
			uint16_t count;
			uint16_t cooldown_s;
		} pick;
		struct {                 /* HC_DEC_LEASE */
			uint32_t seats;
			uint32_t pad;
		} lease;
	};
	uint32_t room_id;    /* the room asked for / the room to pick from */
	uint8_t kind;        /* enum hc_decision_kind                      */
	uint8_t admit;       /* HC_DEC_SEAT: 1 admitted, 0 refused         */
	uint16_t gateway_id; /* HC_DEC_SEAT: the JOIN's gateway            */
};
_Static_assert(sizeof(struct hc_decision) == 16, "hc_decision is 16 bytes");

/*
 * One applied change, reported to the control core's seat book: the user
 * left from_room (0: was in none) and is now in to_room (0: in none).
 * 24 bytes.
 */
enum hc_change_kind {
	HC_CHG_APPLIED = 0, /* the change is done (leaves; joins without admission) */
	HC_CHG_REQUEST = 1, /* a JOIN asks for a seat: from_room -> to_room     */
	HC_CHG_PEER = 2,    /* gateway_id's address is `peer` (see hc_ctlmsg.h)  */
	HC_CHG_PICK = 3,    /* picked to move: user from_room -> to_room, owned
	                       by gateway_id                                   */
	HC_CHG_RESYNC = 4,  /* the home worker asks gateway_id for a resync:
	                       resync.{reason, first, last}                    */
	HC_CHG_CONFLICT = 5, /* a second live source uses gateway_id: `peer`
	                       is its address (tell it, and the current one) */
	HC_CHG_RESTATE = 8, /* a snapshot's member asks for a seat: as
	                       HC_CHG_REQUEST (decided at once, never held) */
	HC_CHG_SWEPT = 9,   /* this worker swept gateway_id's snapshot: its
	                       restatements and the sweep's removals came
	                       before (hc_restart.h).  Flagged
	                       HC_CHGF_RESTATED when the sweep ended a
	                       snapshot the gateway sent (not a drop of its
	                       users): user_id = the appliance incarnation
	                       the snapshot named (hc_hdr, 0: none or mixed) */
	HC_CHG_SUPERSEDED = 10, /* user_id's JOIN into to_room (or snapshot
	                       member) from gateway_id was ignored: the user
	                       has a newer session elsewhere (tell it)      */
	HC_CHG_FULL = 7,    /* a JOIN of user_id into to_room (pool_id,
	                       gateway_id) refused: the user table is full */
	HC_CHG_PICK_END = 6, /* a HC_DEC_PICK is done (its HC_CHG_PICKs came
	                       before): from_room -> to_room, user_id = how
	                       many were picked                              */
	HC_CHG_LEASED = 11, /* a JOIN applied on a leased seat: from_room ->
	                       to_room, done (no answer is owed)             */
	HC_CHG_LEASE_BACK = 12, /* a HC_DEC_REVOKE of room from_room is done
	                       (its room's HC_CHG_LEASEDs came before):
	                       user_id = the seats given back                */
	HC_CHG_VACATED = 13, /* an admitted seat request moved user_id out of
	                       from_room (into to_room), applied: the book
	                       frees the seat there now, not at its decision,
	                       so that it never counts the room below the
	                       users it holds                               */
};

struct hc_change {
	union {
		struct {
			uint64_t user_id;
			uint32_t from_room;
			uint32_t to_room;
		};
		uint8_t peer[16]; /* HC_CHG_PEER, HC_CHG_CONFLICT: a struct hc_peer */
		struct {          /* HC_CHG_RESYNC: enum hc_resync_reason, and
		                     the sequences asked for (a gap's range) */
			uint32_t reason;
			uint32_t first;
			uint32_t last;
			uint32_t pad;
		} resync;
	};
	uint16_t gateway_id;
	uint16_t kind;    /* enum hc_change_kind */
	union {
		struct {
			uint16_t pool_id;
			uint16_t flags; /* HC_CHGF_* */
		};
		uint32_t incarnation; /* HC_CHG_CONFLICT: the second source's
		                         (overlaps flags: read flags only for
		                         HC_CHG_REQUEST, HC_CHG_SWEPT and
		                         HC_CHG_FULL) */
	};
};
_Static_assert(sizeof(struct hc_change) == 24, "hc_change is a 24-byte ring element");

/* hc_change.flags */
#define HC_CHGF_LEASE_DRY 1 /* HC_CHG_REQUEST: the worker's own leased JOINs
                               took its last seat of to_room since its last
                               grant (its lease ran dry before a top-up):
                               said once per time it ran dry          */
#define HC_CHGF_RESTATED 2  /* HC_CHG_SWEPT: the sweep ended a snapshot the
                               gateway sent; user_id the incarnation named */
#define HC_CHGF_CHAIN 4     /* HC_CHG_FULL: refused at the cap of its
                               user's chain of waiting ops (hc_pending.h),
                               not for a key: a seat kept for the user
                               stays (the JOIN that holds it may wait in
                               that very chain) */

/* One PLACE request. 32 bytes. */
struct hc_place_req {
	uint64_t user_id;
	uint32_t request_id;
	uint16_t pool_id;
	uint16_t gateway_id;
	struct hc_peer from;
};
_Static_assert(sizeof(struct hc_place_req) == 32, "hc_place_req is 32 bytes");

/*
 * The control core's end of the channel (hc_chan_ctl.c); the worker's end
 * is private to the dataplane.  Called by the control lcore only.
 */

/* Take up to max changes / PLACE requests worker has sent. */
unsigned hc_chan_take_changes(const struct hc_dataplane *dp, unsigned worker,
			      struct hc_change *buf, unsigned max);
unsigned hc_chan_take_places(const struct hc_dataplane *dp, unsigned worker,
			     struct hc_place_req *buf, unsigned max);

/* Give worker up to n decisions, in order; returns how many it took. */
unsigned hc_chan_give_decisions(const struct hc_dataplane *dp, unsigned worker,
				const struct hc_decision *dec, unsigned n);

/* Give a finished frame for gateway gw (m->port set) to a worker with a
 * TX queue on that port (its home first): 0, -ENODEV (none), -ENOBUFS
 * (its ring is full); on error m is still the caller's. */
int hc_chan_give_frame(const struct hc_dataplane *dp, uint16_t gw, struct rte_mbuf *m);

/* Decisions given to worker so far (hc_chan_give_decisions); of them,
 * those it has taken and applied, every change they made in its ring
 * before (an acquire load: hc_chan_changes_waiting read after it counts
 * them; a pick's users come later, from the scan it starts: its
 * HC_CHG_PICK and PICK_END are not among them); the changes taken from
 * its ring so far (hc_chan_take_changes); and those in its ring not
 * taken yet. */
uint64_t hc_chan_decisions_given(const struct hc_dataplane *dp, unsigned worker);
uint64_t hc_chan_decisions_done(const struct hc_dataplane *dp, unsigned worker);
uint64_t hc_chan_changes_taken(const struct hc_dataplane *dp, unsigned worker);
unsigned hc_chan_changes_waiting(const struct hc_dataplane *dp, unsigned worker);

/* Nothing in flight between the control core and worker: no change to
 * take, no decision to apply, no seat request or pick unanswered. */
int hc_chan_quiet(const struct hc_dataplane *dp, unsigned worker);

/* Nothing the control core built waits in worker's TX ring (its frames
 * sent, or freed for want of a TX queue): a stop's drain waits for it. */
int hc_chan_tx_empty(const struct hc_dataplane *dp, unsigned worker);

#endif /* HC_CTLMSG_H */
