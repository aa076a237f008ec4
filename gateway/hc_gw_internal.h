/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hc_gw_internal.h - what libheadcount's shard layer (hc_gw_shard.c)
 * needs of a session (hc_gw_session.c) beyond the public API: a user's
 * session stamp, kept when the shard layer moves the user from one of its
 * sessions to another; the PLACEs a session still waits for (a session
 * the map dropped closes only once they are answered or timed out); the
 * sessions' clock (the shard layer's backoff).  Not
 * installed; hidden in the shared library.
 */
#ifndef HC_GW_INTERNAL_H
#define HC_GW_INTERNAL_H

#include <stdint.h>

#include "headcount.h"

#define HC_GW_INTERNAL __attribute__((visibility("hidden")))

/* The session stamp (hc_proto.h) of user's JOINs through g, 0 if g does
 * not hold the user. */
HC_GW_INTERNAL uint64_t hc_gw_session_of(const struct hc_gw *g, uint64_t user_id);

/* hc_gw_join, for a user g does not hold yet whose stamp is `session`
 * elsewhere (not 0): the same user, the same session (a new stamp would
 * make this JOIN newer than a reconnect through another gateway since,
 * and take the user from it).  A user g holds keeps its own, as in
 * hc_gw_join; session 0 makes a new one. */
HC_GW_INTERNAL int hc_gw_join_session(struct hc_gw *g, uint64_t user_id, uint32_t room_id,
				      uint16_t pool_id, uint64_t session);

/* The sessions' clock: CLOCK_MONOTONIC in microseconds. */
HC_GW_INTERNAL uint64_t hc_gw_now_us(void);

/* PLACE requests of g waiting for their answer (or their TIMEOUT). */
HC_GW_INTERNAL uint32_t hc_gw_places_pending(const struct hc_gw *g);

#endif /* HC_GW_INTERNAL_H */
