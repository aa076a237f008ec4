/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_op.h - one event as its user's owner applies it (struct hc_op), and
 * the snapshot ops that travel the same rings.  A leaf: the membership,
 * its pending table, the hand-off rings and the snapshot stage all speak it.
 */
#ifndef HC_OP_H
#define HC_OP_H

#include <stdint.h>

/* One event, after the sequencer: what the owner applies. 32 bytes. */
struct hc_op {
	uint64_t user_id;
	uint64_t session; /* the event's (or member's) session, hc_proto.h */
	uint32_t room_id;
	uint16_t gateway_id;
	uint16_t pool_id;
	uint8_t op;       /* HC_OP_JOIN / HC_OP_LEAVE, or HC_OP_SNAP_* below */
	uint8_t gen;      /* HC_OP_SNAP_*: the snapshot's generation (1..255) */
	uint8_t flags;    /* HC_OPF_*                                         */
	uint8_t pad[5];
};

/* hc_op.flags: a SNAP_SET replayed after its own seat request's answer
 * (admission): it asks no more. */
#define HC_OPF_DECIDED 0x01
/* hc_op.flags: an op that waited behind a seat request (hc_pending_defer)
 * and is replayed: a SNAP_SET of a generation other than its gateway's
 * current one is then of an older snapshot, whatever 8-bit serial order
 * says (it may have waited many snapshots). */
#define HC_OPF_DEFERRED 0x02
/* hc_op.flags: a SNAP_SET of a new user that found no key and waited for
 * its snapshot's sweep (hc_members.c, member_key_for_new): judged there
 * once more, it waits no more. */
#define HC_OPF_PARKED 0x04
/* hc_op.flags: a SNAP_SWEEP that ends a snapshot the gateway sent (not a
 * drop of its users: new incarnation, dead, shutdown); its room_id is
 * then the appliance incarnation every chunk of the snapshot named
 * (hc_hdr.appliance_incarnation; 0 if they differed or named none): an
 * HA master counts the snapshot as a restatement for the hold of that
 * epoch only (docs/scaling.md, "A stale sweep"). */
#define HC_OPF_RESTATED 0x08

/*
 * Ops of a snapshot replacing everything one gateway held (never on the
 * wire; the home worker makes them from a complete snapshot):
 *   SNAP_SET   user is in room_id, owned by gateway_id; marks the user with
 *              gen.  With admission, a user not in room_id here asks for
 *              the seat like a JOIN (a restatement never puts a room above
 *              max) and the SET waits behind the request; refused, the
 *              user is not marked (the sweep removes them from where they
 *              were) and the gateway is told.  A user another gateway owns
 *              now is left alone (counted conflict).
 *   SNAP_SWEEP no user: every user of gateway_id not marked gen goes
 *              (sent to every owner after its SETs; an empty snapshot is a
 *              SWEEP alone: drop all of the gateway's users).  Flagged
 *              HC_OPF_RESTATED when it ends a snapshot the gateway sent,
 *              room_id the appliance incarnation the snapshot named.
 *   SNAP_DROP  the sweep's check for one user whose seat request was in
 *              flight: replayed after the decision, it removes the user if
 *              still gateway_id's and not marked gen.
 */
enum {
	HC_OP_SNAP_SET = 16,
	HC_OP_SNAP_SWEEP = 17,
	HC_OP_SNAP_DROP = 18,
};
_Static_assert(sizeof(struct hc_op) == 32, "hc_op is a 32-byte ring element");

#endif /* HC_OP_H */
