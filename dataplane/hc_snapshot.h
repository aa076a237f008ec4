/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_snapshot.h - a gateway's snapshot, assembled at its home worker and
 * applied as one replacement of everything the appliance held for it.
 *
 * One struct hc_snapshots per worker, for the gateways whose home it is.
 * It knows nothing of the worker around it: what it applies leaves
 * through hooks (an op for a user's owner; a resync request to the
 * gateway), so the stage sits below the worker, not beside it.
 * Home worker only; staging memory grows with the chunks actually
 * received (never with what a chunk claims), up to a cap per gateway and
 * one for all gateways of the worker, and is freed when the snapshot ends.
 */
#ifndef HC_SNAPSHOT_H
#define HC_SNAPSHOT_H

#include <stdint.h>

#include "hc_dp_counters.h"
#include "hc_members.h"

struct hc_snap_stage;

struct hc_snap_hooks {
	/* hand op to the worker owning its user (dst < n_owners), in the
	 * gateway's order; -1 only when stopping (the rest is abandoned) */
	int (*emit)(void *ctx, unsigned dst, const struct hc_op *op);
	/* the snapshot was unusable: ask gateway gw for a new one */
	void (*ask_again)(void *ctx, uint16_t gw);
	void *ctx;
	unsigned n_owners; /* workers: hc_owner_of(user, n_owners) */
};


/* In hc_snapshots.abandoned: a snapshot id is there (ids are 32 bits). */
#define HC_SNAP_ABANDONED (1ull << 32)

/* A stage that added no member for this long may be displaced by a
 * smaller one at the worker's staging total (hc_snapshot.c) */
#define HC_SNAP_IDLE_MS 1000
/* ... and so may one older than HC_SNAP_IDLE_MS that averaged fewer
 * members a second than this since its chunk 0 (slow: trickling in) */
#define HC_SNAP_MIN_RATE 10000

struct hc_snapshots {
	struct hc_snap_stage **stage; /* [max_gateways], NULL: none        */
	uint8_t *gen;                 /* [max_gateways] last generation    */
	uint64_t *abandoned;          /* [max_gateways] the snapshot given up
	                                 last (HC_SNAP_ABANDONED | its id; 0
	                                 none): its later chunks are ignored */
	uint16_t *open;               /* [n_open] gateways with a stage    */
	uint32_t n_open;
	uint64_t idle_tsc;            /* HC_SNAP_IDLE_MS in TSC cycles     */
	uint64_t slow_after_tsc;      /* a stage this old may be slow      */
	uint64_t member_tsc;          /* TSC a member at HC_SNAP_MIN_RATE  */
	uint32_t max_gateways;
	uint32_t max_per_gateway;     /* members one snapshot may stage    */
	uint64_t max_staged;          /* members all stages may hold       */
	uint64_t staged;              /* member slots allocated now        */
	int socket;
	struct hc_snap_hooks hooks;
	struct hc_snap_stats st;      /* relaxed stores                    */
};

/* Can a snapshot claiming total_users members be staged (at most
 * max_per_gateway)?  One that cannot is refused at its chunk 0, so that
 * chunk is a reset point for the sequencer only where nothing else would
 * be taken (hc_rx.c, HC_SEQ_RESET_IF_BEYOND): elsewhere it would discard
 * the gateway's missing datagrams, and nothing would restate them. */
static inline int hc_snapshots_claim_fits(const struct hc_snapshots *s, uint32_t total_users)
{
	return total_users <= s->max_per_gateway;
}

int hc_snapshots_init(struct hc_snapshots *s, uint32_t max_gateways, uint32_t max_per_gateway,
		      uint64_t max_staged, const struct hc_snap_hooks *hooks, int socket);
void hc_snapshots_free(struct hc_snapshots *s);

/* One in-order SNAPSHOT datagram of gateway gw (a validated payload). */
void hc_snapshots_chunk(struct hc_snapshots *s, uint16_t gw, const uint8_t *payload);

/* For tests: gw's open stage's time stamps moved `ahead` TSC cycles
 * into the future, as a TSC that steps back leaves them (0, or -ENOENT:
 * no stage open). */
int hc_snapshots_stamps_ahead(struct hc_snapshots *s, uint16_t gw, uint64_t ahead);

/* Forget every user of gw: an empty snapshot (sequencer hook: new
 * incarnation, dead, shutdown); ctx is the struct hc_snapshots. */
void hc_snapshots_drop_users(void *ctx, uint16_t gw);

#endif /* HC_SNAPSHOT_H */
